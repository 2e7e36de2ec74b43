//! `cargo bench --bench hooks`: what Lua policy hooks add to the cost of a request.
//!
//! # What is measured
//!
//! Three configurations of the same tenant: a temporary file store (opened by `Engine::open`, so
//! with the pragmas of `Store::open`), 300 users created through `Engine::create_object`, a fixed
//! seed and the default simulated start time (a Monday, 09:00 UTC), and the Lua host installed
//! (`LuaHooks::new(views::REQUEST)`). They differ only in the hooks attached with
//! `Engine::add_hook`, to every role at every scope:
//!
//! * **no hooks**: the baseline;
//! * **1 hook**: `weekend-freeze` (a `validate` that reads the simulated clock through
//!   `os.date("!*t")` and denies Tier-0 roles at weekends);
//! * **5 hooks**: `weekend-freeze`; `separation-of-duties` (a `validate` that queries
//!   `ctx.assignments{principal = ...}` and `ctx.eligibilities{principal = ...}` for a conflicting
//!   role); `justification-quality` (a `validate` that checks the justification with Lua patterns,
//!   and a ticket reference for activations); `long-activation-approval` (a `validate` that parses
//!   the requested ISO 8601 duration and asks for approval above four hours); and
//!   `activation-note` (a `completed` handler that writes a note into the request's trace).
//!
//! Every hook allows the bench's requests. One *cycle*, for one user, is two requests: the
//! break-glass administrator's `adminAssign` of a `P30D` Helpdesk Administrator eligibility, then
//! the user's `selfActivate` of it for `PT1H`. After every batch of 50 users the clock moves `PT2H`
//! (the activations expire); after all 300 users it moves `P31D` (the eligibilities expire), so the
//! next round of users is assigned again. Only the time spent in `Engine::submit` is counted, not
//! moving the clock, and the first batch of each measurement is an untimed warm-up.
//!
//! Every request must come back `Provisioned` with one passing trace step per hook decision (each
//! `validate` hook's "no objection", the note), every activation and eligibility must expire, and
//! the host must have been called exactly twice per hook per request (for the `validate` and for
//! the `completed` event: a hook without a handler for an event is still loaded to find that out),
//! or the bench panics. Performance is only measured, never asserted.
//!
//! # The baseline, and why it is fair
//!
//! The baseline is the *same* request sequence through the *same* engine on a store built the same
//! way, with the same hook host installed, in the same run; only the attached hooks differ. So the
//! difference between a hooked figure and the baseline is what attaching the hooks costs: the
//! engine building each event's `ctx`, the host running the Lua, the note stored in the trace.
//!
//! Each measurement runs in its own process (the bench re-executes itself with `--child`), as one
//! pimlab process serves one store: driving three stores from one process slowed every one of them,
//! the baseline included, by 50-70% on the machine this bench was written on (three stores' page
//! and statement caches competing for the CPU's caches, most likely), which would make the hooks
//! look cheaper than they are. To spread any drift of the machine (frequency scaling, another
//! process) over all three alike, the configurations are measured in rotation, three rounds of (no
//! hooks, 1 hook, 5 hooks), and each figure is the total over its rounds; the spread of the rounds
//! is printed next to it.
//!
//! Beside the wall-clock time spent in `Engine::submit`, each measurement takes the thread's CPU
//! time over its timed batches' request loops (`/proc/thread-self/schedstat`, read around each
//! batch; the loops also build and check the requests, the same in every configuration): on a
//! machine shared with other work, waiting for a core inflates the wall-clock figures, not these.
//!
//! The host is wrapped in a thin counting `HookRunner` (two `Instant::now` per call; installed in
//! the baseline too, where it is never called), so the bench can check the number of calls and
//! show how much of the added cost is spent inside `HookRunner::call` and how much around it.
//!
//! The number of cycles per configuration (over all rounds) can be set with
//! `PIMLAB_BENCH_HOOK_CYCLES`; one measurement can be run alone, for a profiler, with
//! `<bench binary> --child <hooks: 0, 1 or 5> <cycles>`.

mod common;

use common::*;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use pimlab::engine::{Engine, Hook, HookCall, HookDecision, HookEvent, HookFailure, HookRunner, Session};
use pimlab::hooks::LuaHooks;
use pimlab::model::{Action, IsoDuration, Status};

const USERS: usize = 300;
/// Users per batch: after each batch the clock moves `PT2H`, so their activations expire.
const BATCH: usize = 50;
/// Cycles (two requests each) per configuration over all rounds, warm-up batches not included.
const CYCLES: usize = 1_800;
/// Each configuration is measured this many times, in rotation, each time in a new process.
const ROUNDS: usize = 3;

/// A hook as the bench attaches it, and which handlers it has.
struct HookSpec {
    name: &'static str,
    source: &'static str,
    validate: bool,
    completed: bool,
}

const WEEKEND_FREEZE: HookSpec = HookSpec {
    name: "weekend-freeze",
    validate: true,
    completed: false,
    source: r#"
-- No changes to Tier-0 roles at weekends (UTC), a change freeze real PIM cannot express.
local TIER0 = {
  ["Global Administrator"] = true,
  ["Privileged Role Administrator"] = true,
  ["Privileged Authentication Administrator"] = true,
}
return {
  validate = function(request, ctx)
    local t = os.date("!*t")
    local weekend = t.wday == 1 or t.wday == 7
    if weekend and ctx.role and TIER0[ctx.role.displayName] then
      return {
        deny = "WeekendFreeze",
        message = string.format("%s is frozen at weekends (it is %04d-%02d-%02d)",
          ctx.role.displayName, t.year, t.month, t.day),
      }
    end
  end,
}
"#,
};

const SEPARATION_OF_DUTIES: HookSpec = HookSpec {
    name: "separation-of-duties",
    validate: true,
    completed: false,
    source: r#"
-- Nobody may hold two roles of a conflicting pair at once (eligible or active).
local HELPDESK = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
local SECURITY = "194ae4cb-b126-40b2-bd5b-6091b380977d"
local PRIVILEGED_ROLE = "e8611ab8-c189-46e8-94e1-60213ab1f814"
local CONFLICTS = {
  [HELPDESK] = { [SECURITY] = "Security Administrator" },
  [SECURITY] = { [HELPDESK] = "Helpdesk Administrator", [PRIVILEGED_ROLE] = "Privileged Role Administrator" },
  [PRIVILEGED_ROLE] = { [SECURITY] = "Security Administrator" },
}
return {
  validate = function(request, ctx)
    local rivals = CONFLICTS[request.roleDefinitionId]
    if not rivals then return nil end
    local principal = request.principalId
    local held = { ctx.assignments{principal = principal}, ctx.eligibilities{principal = principal} }
    for _, list in ipairs(held) do
      for _, schedule in ipairs(list) do
        local rival = rivals[schedule.roleDefinitionId]
        if rival then
          return {
            deny = "SeparationOfDuties",
            message = (ctx.principal.displayName or principal) .. " already holds " .. rival,
          }
        end
      end
    end
  end,
}
"#,
};

const JUSTIFICATION_QUALITY: HookSpec = HookSpec {
    name: "justification-quality",
    validate: true,
    completed: false,
    source: r#"
-- A justification says something, and an activation names its ticket (ABC1234...).
return {
  validate = function(request, ctx)
    local text = request.justification or ""
    local words = 0
    for _ in text:gmatch("%a+") do words = words + 1 end
    if #text < 15 or words < 3 then
      return { deny = "JustificationTooShort", message = "say why, in a sentence: '" .. text .. "'" }
    end
    if request.action == "selfActivate" and not text:match("%u%u%u%d%d%d%d+") then
      return { deny = "TicketRequired", message = "an activation names its ticket (e.g. INC0012345)" }
    end
  end,
}
"#,
};

const LONG_ACTIVATION_APPROVAL: HookSpec = HookSpec {
    name: "long-activation-approval",
    validate: true,
    completed: false,
    source: r#"
-- Activations longer than four hours need an approver.
local function hours(iso)
  if not iso then return 0 end
  local days = tonumber(iso:match("^P(%d+)D")) or 0
  local time = iso:match("T(.*)$") or ""
  local h = tonumber(time:match("(%d+)H")) or 0
  local m = tonumber(time:match("(%d+)M")) or 0
  return days * 24 + h + m / 60
end
return {
  validate = function(request, ctx)
    if request.action ~= "selfActivate" then return nil end
    local info = request.scheduleInfo
    local wanted = hours(info and info.expiration and info.expiration.duration)
    if wanted > 4 then
      return { approval = true, approvers = {} }
    end
  end,
}
"#,
};

const ACTIVATION_NOTE: HookSpec = HookSpec {
    name: "activation-note",
    validate: false,
    completed: true,
    source: r#"
-- Records who got what, in the request's own trace.
return {
  completed = function(request, ctx)
    return {
      note = string.format("%s: %s %s for %s at %s (%s)",
        request.status, request.action, ctx.role.displayName,
        ctx.principal.userPrincipalName or ctx.principal.id, ctx.now, request.justification or ""),
    }
  end,
}
"#,
};

/// The hooks of each configuration, in the order they are attached (and run).
const CONFIGS: [(&str, &[HookSpec]); 3] = [
    ("no hooks", &[]),
    ("1 hook", &[WEEKEND_FREEZE]),
    (
        "5 hooks",
        &[
            WEEKEND_FREEZE,
            SEPARATION_OF_DUTIES,
            JUSTIFICATION_QUALITY,
            LONG_ACTIVATION_APPROVAL,
            ACTIVATION_NOTE,
        ],
    ),
];

/// The Lua host, counting its calls and the time spent in them.
struct Counting {
    inner: LuaHooks,
    calls: Cell<u64>,
    time: Cell<Duration>,
}

impl HookRunner for Counting {
    fn check(&self, name: &str, source: &str) -> Result<Vec<String>, HookFailure> {
        self.inner.check(name, source)
    }

    fn call(
        &self,
        hook: &Hook,
        event: HookEvent,
        call: &HookCall<'_>,
    ) -> Result<Option<HookDecision>, HookFailure> {
        let t = Instant::now();
        let result = self.inner.call(hook, event, call);
        self.time.set(self.time.get() + t.elapsed());
        self.calls.set(self.calls.get() + 1);
        result
    }
}

/// One store and what has been measured on it.
struct Run {
    name: &'static str,
    hooks: &'static [HookSpec],
    engine: Engine,
    admin: Session,
    users: Vec<String>,
    runner: Rc<Counting>,
    /// Keeps the store's directory until the run is dropped.
    _dir: tempfile::TempDir,
    /// Cycles done, warm-up included.
    cycles: usize,
    /// Timed requests, the time `Engine::submit` took for them, and the host's share of it.
    requests: u64,
    submit: Duration,
    /// The thread's CPU time over the timed batches' request loops (requests and their checks).
    cpu: Duration,
    hook_calls: u64,
    hook_time: Duration,
}

impl Run {
    fn new(name: &'static str, hooks: &'static [HookSpec]) -> Run {
        let dir =
            tempfile::Builder::new().prefix("pimlab-bench-hooks-").tempdir().expect("a temporary directory");
        let (mut engine, admin, users) = tenant(&dir.path().join("hooks.db"), USERS);
        let runner = Rc::new(Counting {
            inner: LuaHooks::new(pimlab::api::views::REQUEST),
            calls: Cell::new(0),
            time: Cell::new(Duration::ZERO),
        });
        engine.set_hook_runner(runner.clone());
        for hook in hooks {
            let (_, handlers) = engine
                .add_hook(&admin, hook.name, hook.source, None, None)
                .unwrap_or_else(|e| panic!("add hook {}: {e:?}", hook.name));
            let expected: Vec<&str> = [(hook.completed, "completed"), (hook.validate, "validate")]
                .into_iter()
                .filter_map(|(has, h)| has.then_some(h))
                .collect();
            assert_eq!(handlers, expected, "handlers of hook {}", hook.name);
        }
        Run {
            name,
            hooks,
            engine,
            admin,
            users,
            runner,
            _dir: dir,
            cycles: 0,
            requests: 0,
            submit: Duration::ZERO,
            cpu: Duration::ZERO,
            hook_calls: 0,
            hook_time: Duration::ZERO,
        }
    }

    /// Trace steps the hooks add to each request: one per `validate` hook, one per note.
    fn hook_steps(&self) -> usize {
        self.hooks.iter().map(|h| usize::from(h.validate) + usize::from(h.completed)).sum()
    }

    /// One batch of cycles (assign + activate per user), then the clock moves on.
    fn batch(&mut self, timed: bool) {
        let start = self.cycles % USERS;
        let end = (start + BATCH).min(USERS);
        let (calls_before, hook_time_before) = (self.runner.calls.get(), self.runner.time.get());
        let mut spent = Duration::ZERO;
        let cpu_before = thread_cpu();
        for i in start..end {
            let user = self.users[i].clone();
            let t = Instant::now();
            let assigned = self.engine.submit(&self.admin, &assign_request(&user));
            spent += t.elapsed();
            self.check(assigned, Action::AdminAssign, &user);
            let t = Instant::now();
            let activated = self.engine.submit(&Session::new(user.clone()), &activate_request(&user));
            spent += t.elapsed();
            self.check(activated, Action::SelfActivate, &user);
        }
        let cpu = thread_cpu().zip(cpu_before).map(|(after, before)| after - before);
        let done = (end - start) as u64;
        let calls = self.runner.calls.get() - calls_before;
        assert_eq!(
            calls,
            2 * 2 * self.hooks.len() as u64 * done,
            "{}: the host runs every hook for the validate and the completed event of each request",
            self.name
        );
        if timed {
            self.requests += 2 * done;
            self.submit += spent;
            self.cpu += cpu.unwrap_or_default();
            self.hook_calls += calls;
            self.hook_time += self.runner.time.get() - hook_time_before;
        }
        self.cycles += end - start;
        let report = self.engine.advance_by(&self.admin, IsoDuration::from_hours(2)).expect("advance PT2H");
        assert_eq!(
            (report.expired, report.failed),
            (end - start, 0),
            "{}: every activation expires",
            self.name
        );
        if end == USERS {
            // Every user has had a cycle: let the eligibilities expire before assigning again.
            let report =
                self.engine.advance_by(&self.admin, IsoDuration::from_days(31)).expect("advance P31D");
            assert_eq!(
                (report.expired, report.failed),
                (USERS, 0),
                "{}: every eligibility expires",
                self.name
            );
        }
    }

    fn check(
        &self,
        result: Result<pimlab::model::ScheduleRequest, pimlab::model::ApiError>,
        action: Action,
        user: &str,
    ) {
        let q = match result {
            Ok(q) if q.status == Status::Provisioned => q,
            Ok(q) => panic!("{}: {action} for {user} ended {:?}, not Provisioned", self.name, q.status),
            Err(e) => panic!("{}: {action} for {user} refused: {e:?}", self.name),
        };
        let steps = q.trace.iter().filter(|s| s.check.starts_with("hook ") && s.passed).count();
        assert_eq!(
            steps,
            self.hook_steps(),
            "{}: hook steps in the trace of {action}: {:#?}",
            self.name,
            q.trace
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--child") {
        Some(i) => {
            let usage = "--child <hooks: 0, 1 or 5> <cycles>";
            let hooks: usize = args.get(i + 1).and_then(|n| n.parse().ok()).expect(usage);
            let cycles: usize = args.get(i + 2).and_then(|n| n.parse().ok()).expect(usage);
            let (name, specs) = CONFIGS.iter().find(|(_, h)| h.len() == hooks).expect(usage);
            let run = child(name, specs, cycles);
            println!(
                "RESULT requests={} submit_s={} cpu_s={} hook_calls={} hook_s={}",
                run.requests,
                run.submit.as_secs_f64(),
                run.cpu.as_secs_f64(),
                run.hook_calls,
                run.hook_time.as_secs_f64()
            );
        }
        None => parent(),
    }
}

/// One store, one configuration: a warm-up batch, then `cycles` timed cycles.
fn child(name: &'static str, hooks: &'static [HookSpec], cycles: usize) -> Run {
    let mut run = Run::new(name, hooks);
    run.batch(false);
    while run.cycles < BATCH + cycles {
        run.batch(true);
    }
    run
}

/// What one configuration came to over all its rounds.
#[derive(Default)]
struct Totals {
    requests: u64,
    submit_s: f64,
    cpu_s: f64,
    hook_calls: u64,
    hook_s: f64,
    /// µs per request of each round, for the spread.
    rounds: Vec<f64>,
    /// CPU µs per request of each round.
    cpu_rounds: Vec<f64>,
}

impl Totals {
    fn micros_per_request(&self) -> f64 {
        self.submit_s * 1e6 / self.requests as f64
    }

    fn cpu_micros_per_request(&self) -> f64 {
        self.cpu_s * 1e6 / self.requests as f64
    }
}

fn parent() {
    let cycles = std::env::var("PIMLAB_BENCH_HOOK_CYCLES")
        .ok()
        .and_then(|v| v.replace(['_', ','], "").parse::<usize>().ok())
        .unwrap_or(CYCLES);
    let per_round = cycles.div_ceil(ROUNDS);
    println!(
        "pimlab hooks bench: tenant of {USERS} users, seed {SEED}, a file store under {} per measurement",
        std::env::temp_dir().display()
    );
    println!(
        "each measurement runs in its own process; {ROUNDS} rounds of (no hooks, 1 hook, 5 hooks), {} cycles each",
        int(per_round as u64)
    );
    for (name, hooks) in &CONFIGS {
        let names: Vec<&str> = hooks.iter().map(|h| h.name).collect();
        println!(
            "  {name:<8}  {}",
            if names.is_empty() { "(baseline)".to_string() } else { names.join(", ") }
        );
    }

    let wall = Instant::now();
    let mut totals: Vec<Totals> = CONFIGS.iter().map(|_| Totals::default()).collect();
    for _ in 0..ROUNDS {
        for ((_, hooks), total) in CONFIGS.iter().zip(&mut totals) {
            let r = run_child(&[&hooks.len().to_string(), &per_round.to_string()]);
            let (requests, submit_s): (u64, f64) = (get(&r, "requests"), get(&r, "submit_s"));
            total.requests += requests;
            let cpu_s: f64 = get(&r, "cpu_s");
            total.submit_s += submit_s;
            total.cpu_s += cpu_s;
            total.hook_calls += get::<u64>(&r, "hook_calls");
            total.hook_s += get::<f64>(&r, "hook_s");
            total.rounds.push(submit_s * 1e6 / requests as f64);
            total.cpu_rounds.push(cpu_s * 1e6 / requests as f64);
        }
    }
    let requests = totals[0].requests;
    assert!(totals.iter().all(|t| t.requests == requests), "every configuration ran the same requests");
    println!(
        "each configuration: {} timed requests ({} adminAssign + {} selfActivate of Helpdesk Administrator), \
         all Provisioned; {:.1} s in all",
        int(requests),
        int(requests / 2),
        int(requests / 2),
        wall.elapsed().as_secs_f64()
    );
    println!();

    let base_us = totals[0].micros_per_request();
    for ((name, hooks), t) in CONFIGS.iter().zip(&totals) {
        let us = t.micros_per_request();
        let (lo, hi) = t.rounds.iter().fold((f64::MAX, 0.0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
        let tail = if hooks.is_empty() {
            "the no-hook baseline".to_string()
        } else {
            format!("{:.2}x the no-hook cost (+{} µs)", us / base_us, micros(us - base_us))
        };
        println!(
            "{name:<8}: {:>6} req/s, {:>6} µs/request (rounds {}-{}), {tail}",
            int((1e6 / us) as u64),
            micros(us),
            micros(lo),
            micros(hi),
        );
    }
    let base_cpu = totals[0].cpu_micros_per_request();
    if base_cpu > 0.0 {
        println!();
        println!(
            "CPU time of the same loops (the thread's own, so waiting for a busy core does not count; \
             it includes building and checking each request, the same in every configuration):"
        );
        for ((name, hooks), t) in CONFIGS.iter().zip(&totals) {
            let us = t.cpu_micros_per_request();
            let (lo, hi) =
                t.cpu_rounds.iter().fold((f64::MAX, 0.0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
            let tail = if hooks.is_empty() {
                "the no-hook baseline".to_string()
            } else {
                format!("{:.2}x the no-hook cost (+{} µs)", us / base_cpu, micros(us - base_cpu))
            };
            println!(
                "{name:<8}: {:>6} µs CPU/request (rounds {}-{}), {tail}",
                micros(us),
                micros(lo),
                micros(hi)
            );
        }
    }
    println!();
    println!(
        "per hook call (derived): the extra µs per request over the baseline / the host calls per request \
         (each hook is called twice per request: validate, completed)"
    );
    for ((name, _), t) in CONFIGS.iter().zip(&totals).filter(|((_, h), _)| !h.is_empty()) {
        let calls_per_request = t.hook_calls as f64 / t.requests as f64;
        let extra = t.micros_per_request() - base_us;
        let inside_per_request = t.hook_s * 1e6 / t.requests as f64;
        println!(
            "  {name:<8}: {:>5} µs per hook call (+{} µs/request over {calls_per_request:.0} calls); \
             inside HookRunner::call {} µs per call ({} µs/request), the engine around it {} µs/request",
            micros(extra / calls_per_request),
            micros(extra),
            micros(t.hook_s * 1e6 / t.hook_calls as f64),
            micros(inside_per_request),
            micros(extra - inside_per_request),
        );
    }
}

/// Rounded microseconds, with thousands separators (and a sign when negative).
fn micros(us: f64) -> String {
    let sign = if us < -0.5 { "-" } else { "" };
    format!("{sign}{}", int(us.abs().round() as u64))
}
