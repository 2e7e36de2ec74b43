//! `cargo bench --bench scenario`: a month of activations through the Lua `pim` API, next to the
//! same month through direct engine calls.
//!
//! # What is measured
//!
//! The workload of `benches/scenarios/month.lua`, in an in-memory store with the default tenant
//! (seed 1, the default start time) and the Lua hook host installed, as `pimlab run` has it: 500
//! users are created and made eligible for Helpdesk Administrator for `P60D`; then, for 30
//! simulated days, each user activates it for `PT1H` with a justification, as that user (15,000
//! activations), and the clock moves `P1D` after each day (so every activation expires); at the
//! end, no Helpdesk Administrator instance is left. Two ways of doing it:
//!
//! * **Lua**: the script run through `pimlab::cli::run(["pimlab", "run", SCRIPT])`, the binary's
//!   own entry point, exactly as `pimlab run benches/scenarios/month.lua` runs it (`Shell::open(None)`,
//!   the tenant, the sandboxed script, its `pim.*` calls as typed operations); it must end
//!   `2 passed, 0 failed`.
//! * **direct**: the same steps as engine calls: `Engine::in_memory`, `Engine::init` with the
//!   default `InitOptions`, `Engine::create_object` for the users, `Engine::submit` of an
//!   `adminAssign` (as the break-glass administrator) and of each `selfActivate` (as the user,
//!   with MFA, like `pim.as`), `Engine::advance_by(P1D)`, and `Engine::instances` at the end.
//!   Every activation must come back `Provisioned`.
//!
//! Each figure is the whole run, setup included (creating the tenant, the users and their
//! eligibilities is 1,000 of its 16,000 requests), over the 15,000 activations: *activations per
//! second* as a scenario's user sees it. The ratio Lua/direct is what the `pim` API costs over the
//! engine itself; the aim (issue 7) is at least 0.7.
//!
//! Each measurement runs in its own process (the bench re-executes itself with `--child`), and the
//! two are measured in rotation, `ROUNDS` rounds of (Lua, direct), so a drift of the machine falls
//! on both alike; each figure is the total over its rounds, with the spread of the rounds. Both
//! wall-clock time and the thread's CPU time are shown: on a machine busy with other work the wall
//! clock also counts the time spent waiting for a core, the CPU time does not (the store is in
//! memory, so the run never waits for a disk).
//!
//! One measurement can be run alone, for a profiler, with `<bench binary> --child lua` or
//! `--child direct`; `PIMLAB_BENCH_SCENARIO_ROUNDS` sets the number of rounds, and
//! `PIMLAB_BENCH_SCENARIO_USERS` and `PIMLAB_BENCH_SCENARIO_DAYS` a smaller month (the script then
//! runs from a copy with its first line changed).

mod common;

use common::*;

use std::time::Instant;

use pimlab::engine::{Engine, InitOptions, NewObject, Session};
use pimlab::hooks::LuaHooks;
use pimlab::model::{
    Action, Expiration, IsoDuration, NewRequest, PrincipalKind, RequestKind, ScheduleInfo, Status, Surface,
};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/scenarios/month.lua");
/// The script's own sizes (its first statement), which `PIMLAB_BENCH_SCENARIO_USERS` and
/// `PIMLAB_BENCH_SCENARIO_DAYS` can change (for a quick look or a profiler; the script then runs
/// from a temporary copy with that line changed).
const SIZES: &str = "local USERS, DAYS = 500, 30";
const USERS: usize = 500;
const DAYS: usize = 30;
const ROUNDS: usize = 3;

/// Users and days: the script's, unless the environment says otherwise.
fn sizes() -> (usize, usize) {
    let var = |name: &str, default: usize| {
        std::env::var(name).ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(default)
    };
    (var("PIMLAB_BENCH_SCENARIO_USERS", USERS), var("PIMLAB_BENCH_SCENARIO_DAYS", DAYS))
}
/// The aim: the Lua path at least at this fraction of the direct rate.
const AIM_RATIO: f64 = 0.7;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--child") {
        Some(i) => {
            let (users, days) = sizes();
            let (wall, cpu) = match args.get(i + 1).map(String::as_str) {
                Some("lua") => lua(users, days),
                Some("direct") => measure(|| direct(users, days)),
                _ => panic!("usage: --child <lua | direct>"),
            };
            println!("RESULT activations={} wall_s={wall} cpu_s={cpu}", users * days);
        }
        None => parent(),
    }
}

/// Runs `f` and returns its wall-clock and CPU seconds.
fn measure(f: impl FnOnce()) -> (f64, f64) {
    let cpu = thread_cpu();
    let t = Instant::now();
    f();
    let wall = t.elapsed().as_secs_f64();
    let cpu = thread_cpu().zip(cpu).map_or(0.0, |(after, before)| (after - before).as_secs_f64());
    (wall, cpu)
}

/// The script, as `pimlab run` runs it (the binary's own entry point, without the process).
fn lua(users: usize, days: usize) -> (f64, f64) {
    let source = std::fs::read_to_string(SCRIPT).expect("the scenario script");
    assert!(source.contains(SIZES), "{SCRIPT} no longer starts with `{SIZES}`");
    let dir =
        tempfile::Builder::new().prefix("pimlab-bench-scenario-").tempdir().expect("a temporary directory");
    let script = if (users, days) == (USERS, DAYS) {
        std::path::PathBuf::from(SCRIPT)
    } else {
        let copy = dir.path().join("month.lua");
        std::fs::write(&copy, source.replace(SIZES, &format!("local USERS, DAYS = {users}, {days}")))
            .expect("write the resized script");
        copy
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let args = ["pimlab".into(), "run".into(), script.into_os_string()];
    let mut code = 0;
    let (wall, cpu) = measure(|| code = pimlab::cli::run(args, &mut out, &mut err));
    let (out, err) = (String::from_utf8_lossy(&out), String::from_utf8_lossy(&err));
    assert_eq!(code, 0, "the script failed:\n{out}{err}");
    assert!(out.trim_end().ends_with("2 passed, 0 failed"), "the script's own checks:\n{out}{err}");
    (wall, cpu)
}

/// The same month, by direct engine calls.
fn direct(users_count: usize, days: usize) {
    let mut engine = Engine::in_memory().expect("an in-memory store");
    // As `Shell::open` does: the same host, so both paths ask the same of every request.
    engine.set_hook_runner(std::rc::Rc::new(LuaHooks::new(pimlab::api::views::REQUEST)));
    engine.init(&InitOptions::default()).expect("init the tenant");
    let admin = Session::new(engine.default_caller().expect("default caller"));
    let role = engine.resolve_role("Helpdesk Administrator").expect("the role").id;
    let request = |kind, action, user: &str, justification: &str, lasting| NewRequest {
        surface: Surface::Directory,
        kind,
        action,
        principal_id: user.to_string(),
        role_definition_id: role.clone(),
        directory_scope_id: Some("/".into()),
        app_scope_id: None,
        justification: Some(justification.to_string()),
        schedule_info: Some(ScheduleInfo { start: None, expiration: Expiration::after(lasting) }),
        ticket_info: None,
        is_validation_only: false,
    };
    let mut users = Vec::with_capacity(users_count);
    for i in 1..=users_count {
        let user = engine
            .create_object(
                &admin,
                NewObject {
                    kind: Some(PrincipalKind::User),
                    display_name: format!("Month User {i:03}"),
                    ..NewObject::default()
                },
            )
            .unwrap_or_else(|e| panic!("create user {i}: {e:?}"))
            .id;
        let assign = request(
            RequestKind::Eligibility,
            Action::AdminAssign,
            &user,
            "Helpdesk rota",
            IsoDuration::from_days(60),
        );
        engine.submit(&admin, &assign).unwrap_or_else(|e| panic!("eligibility of user {i}: {e:?}"));
        users.push(user);
    }
    let mut granted = 0;
    for day in 1..=days {
        for user in &users {
            let activate = request(
                RequestKind::Assignment,
                Action::SelfActivate,
                user,
                "Password resets for the desk",
                IsoDuration::from_hours(1),
            );
            let q = engine
                .submit(&Session::new(user.clone()), &activate)
                .unwrap_or_else(|e| panic!("day {day}: activation refused: {e:?}"));
            if q.status == Status::Provisioned {
                granted += 1;
            }
        }
        engine.advance_by(&admin, IsoDuration::from_days(1)).expect("advance P1D");
    }
    assert_eq!(granted, users_count * days, "every activation was granted");
    let left = engine.instances(RequestKind::Assignment, None, Some(&role)).expect("instances");
    assert!(left.is_empty(), "and every one has expired");
}

/// What one way of running the month came to over its rounds.
#[derive(Default)]
struct Totals {
    wall_s: f64,
    cpu_s: f64,
    activations: u64,
    /// Activations per second (wall, CPU) of each round.
    rounds: Vec<(f64, f64)>,
}

impl Totals {
    fn rate(&self) -> f64 {
        self.activations as f64 / self.wall_s
    }
    fn cpu_rate(&self) -> f64 {
        self.activations as f64 / self.cpu_s
    }
    fn spread(&self, pick: fn(&(f64, f64)) -> f64) -> (f64, f64) {
        self.rounds.iter().map(pick).fold((f64::MAX, 0.0f64), |(lo, hi), r| (lo.min(r), hi.max(r)))
    }
}

fn parent() {
    let rounds = std::env::var("PIMLAB_BENCH_SCENARIO_ROUNDS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(ROUNDS);
    let (users, days) = sizes();
    println!(
        "pimlab scenario bench: {users} users, {days} simulated days, {} activations, in memory \
         (benches/scenarios/month.lua)",
        int((users * days) as u64)
    );
    println!("each measurement runs in its own process; {rounds} rounds of (Lua, direct)");
    let ways = ["lua", "direct"];
    let mut totals: Vec<Totals> = ways.iter().map(|_| Totals::default()).collect();
    let wall = Instant::now();
    for _ in 0..rounds {
        for (way, total) in ways.iter().zip(&mut totals) {
            let r = run_child(&[way]);
            let (activations, wall_s, cpu_s): (u64, f64, f64) =
                (get(&r, "activations"), get(&r, "wall_s"), get(&r, "cpu_s"));
            total.activations += activations;
            total.wall_s += wall_s;
            total.cpu_s += cpu_s;
            total.rounds.push((activations as f64 / wall_s, activations as f64 / cpu_s));
        }
    }
    println!("{:.1} s in all", wall.elapsed().as_secs_f64());
    println!();
    let names = ["Lua (pimlab run)", "direct engine calls"];
    for (name, t) in names.iter().zip(&totals) {
        let (lo, hi) = t.spread(|r| r.0);
        let (clo, chi) = t.spread(|r| r.1);
        println!(
            "{name:<20} {:>6} activations/s wall (rounds {}-{}), {:>6} activations/s of CPU (rounds {}-{})",
            int(t.rate() as u64),
            int(lo as u64),
            int(hi as u64),
            int(t.cpu_rate() as u64),
            int(clo as u64),
            int(chi as u64),
        );
    }
    let (lua, direct) = (&totals[0], &totals[1]);
    let (ratio, cpu_ratio) = (lua.rate() / direct.rate(), lua.cpu_rate() / direct.cpu_rate());
    println!();
    println!(
        "Lua / direct: {ratio:.2} (wall), {cpu_ratio:.2} (CPU); aim >= {AIM_RATIO}: {}",
        if cpu_ratio >= AIM_RATIO { "met" } else { "BELOW" }
    );
}
