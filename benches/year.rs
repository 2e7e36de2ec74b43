//! `cargo bench --bench year`: a 10,000-user organisation's working year, projected from a sample
//! of its working days, beside raw inserts of the rows a request must persist.
//!
//! # The organisation
//!
//! Made once, in a temporary file store, through the typed operations a Lua scenario uses
//! (`ops::apply` of the same `Operation`s `pim.*` calls build), not timed:
//!
//! - 10,000 users in 200 teams of 50 (groups). Each team's group holds a directory role actively
//!   and permanently (150 Helpdesk Administrator teams, 40 User Administrator, 10 Exchange
//!   Administrator); its members are eligible for the group's membership (PIM for Groups), so
//!   they activate the membership to hold the role: eligible through groups.
//! - Every fifth user is instead eligible directly for Security Reader (2,000 users), and every
//!   hundredth for Security Administrator (100 users), whose activation waits for one of five
//!   approvers.
//! - Two hooks: `after-hours-limit` on every role, `weekend-freeze` on Security Administrator
//!   (the lessons' own, from `scripts/hooks/`).
//!
//! # A working day
//!
//! At 08:00 every user activates what they are eligible for, for eight hours, with a ticket in the
//! justification (10,000 requests). At 08:30 the approvers approve the waiting Security
//! Administrator activations, except every tenth, which is left to time out. Then the clock moves
//! to the next working day's 08:00 (over the weekend on a Friday): the day's activations expire at
//! 16:00 and 16:30, the unanswered approvals time out. A year is 250 such days (about 2.5 million
//! requests and as many expiries).
//!
//! # What is printed
//!
//! The days run as `pimlab run` runs a script's operations, in a rolling batch (a commit per
//! simulated instant, `store/rolling.rs`). The sample's days run in one process (`--child year`),
//! each timed; from them: requests per
//! second, simulated working days per second, the projected wall time of the year, the store's
//! bytes per request (the file, checkpointed, grown over the sample, over its requests), and the
//! process's peak memory after the first day and after the last (flat, or growing?). The year's
//! store is projected from the first day's growth (which includes what a year adds only once:
//! each user's words in the dictionaries, `store/texts.rs`) and the later days' (what every
//! further day adds); its bytes per request are the aim's figure. Beside them,
//! in another process of the same run (`--child baseline`), the baseline: plain rusqlite inserts,
//! one transaction per day, of the minimal rows an activation must persist (its request, its
//! schedule, its audit row), with the same figures.
//!
//! `PIMLAB_BENCH_YEAR_USERS` and `PIMLAB_BENCH_YEAR_DAYS` (default 10,000 and 5) change the
//! organisation's size and the sample's length; `PIMLAB_BENCH_YEAR_STORE` keeps the store at that
//! path (a new file) to look into afterwards. The aims (issue 14): the year under two minutes,
//! under 800 bytes per request; a figure above its aim prints `ABOVE`. Performance is measured,
//! never asserted.

mod common;

use common::{get, int, run_child};

use std::path::Path;
use std::time::{Duration, Instant};

use clap::Parser;
use pimlab::engine::{Engine, InitOptions, Session};
use pimlab::hooks::LuaHooks;
use pimlab::model::time::parse_timestamp;
use pimlab::ops::args::DecisionArgs;
use pimlab::ops::{self, Access, Operation, Outcome};
use rusqlite::Connection;

const WORKING_DAYS_IN_A_YEAR: u64 = 250;
const TEAM_SIZE: usize = 50;
const APPROVERS: usize = 5;
const START: &str = "2026-01-05T08:00:00Z"; // a Monday
const AIM_YEAR: Duration = Duration::from_secs(120);
const AIM_BYTES_PER_REQUEST: f64 = 800.0;

fn users() -> usize {
    env_number("PIMLAB_BENCH_YEAR_USERS", 10_000)
}

fn days() -> usize {
    env_number("PIMLAB_BENCH_YEAR_DAYS", 5)
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        match args.get(i + 1).map(String::as_str) {
            Some("year") => year(),
            Some("baseline") => baseline(),
            other => panic!("unknown child {other:?}"),
        }
        return;
    }
    if args.iter().any(|a| a == "--bench") || args.len() == 1 {
        report();
    }
}

/// What a user does each working day.
#[derive(Clone, Copy, PartialEq)]
enum Track {
    /// Activates the membership of the team's group, which holds the team's role.
    Team(usize),
    /// Eligible directly for Security Reader.
    Reader,
    /// Eligible directly for Security Administrator, which waits for an approver.
    Approval,
}

fn track(i: usize) -> Track {
    if i % 100 == 0 {
        Track::Approval
    } else if i % 5 == 0 {
        Track::Reader
    } else {
        Track::Team(i / TEAM_SIZE)
    }
}

fn team_role(team: usize) -> &'static str {
    match team % 20 {
        0..=14 => "Helpdesk Administrator",
        15..=18 => "User Administrator",
        _ => "Exchange Administrator",
    }
}

/// An operation's words, as the command line's grammar reads them.
#[derive(Parser)]
struct Words {
    #[command(subcommand)]
    op: Operation,
}

/// One operation, written as its command line (clap parses it once, as the REPL would): the
/// same typed `Operation` a script's `pim.*` call builds.
fn op(words: &[&str]) -> Operation {
    Words::try_parse_from(std::iter::once("pimlab").chain(words.iter().copied()))
        .unwrap_or_else(|e| panic!("{words:?}: {e}"))
        .op
}

fn apply(engine: &mut Engine, session: &Session, op: &Operation) -> Outcome {
    ops::apply(engine, session, op, Access::TERMINAL).unwrap_or_else(|e| panic!("{op:?}: {e:?}"))
}

fn created_id(outcome: Outcome) -> String {
    match outcome {
        Outcome::ObjectCreated(o) => o.id,
        other => panic!("expected an object, got {other:?}"),
    }
}

struct Organisation {
    engine: Engine,
    admin: Session,
    users: Vec<String>,
    approvers: Vec<String>,
}

/// The organisation, made in one batch (one commit) in a store at `path`.
fn organisation(path: &Path, users: usize) -> Organisation {
    let mut engine = Engine::open(path).expect("open the bench store");
    engine.set_hook_runner(std::rc::Rc::new(LuaHooks::new(pimlab::api::views::REQUEST)));
    let start = parse_timestamp(START).expect("the start time");
    engine.init(&InitOptions { seed: common::SEED, at: start, ..InitOptions::default() }).expect("init");
    let admin = Session::new(engine.default_caller().expect("the administrator"));
    let hooks = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/hooks/");
    let (ids, approvers) = engine
        .batch(|e| {
            let approvers: Vec<String> = (0..APPROVERS)
                .map(|a| created_id(apply(e, &admin, &op(&["user", "add", &format!("Approver {a}")]))))
                .collect();
            let teams = users.div_ceil(TEAM_SIZE);
            for t in 0..teams {
                let name = format!("Team {t:03}");
                apply(e, &admin, &op(&["group", "add", &name, "--role-assignable"]));
                let role = team_role(t);
                apply(
                    e,
                    &admin,
                    &op(&[
                        "active",
                        "assign",
                        "-p",
                        &name,
                        "-r",
                        role,
                        "--permanent",
                        "-j",
                        "The team's role",
                    ]),
                );
            }
            let ids: Vec<String> = (0..users)
                .map(|i| {
                    let id =
                        created_id(apply(e, &admin, &op(&["user", "add", &format!("Year User {i:05}")])));
                    let grant = match track(i) {
                        Track::Team(t) => op(&[
                            "eligible",
                            "assign",
                            "-p",
                            &id,
                            "--group",
                            &format!("Team {t:03}"),
                            "--access",
                            "member",
                            "--duration",
                            "P365D",
                            "-j",
                            "On the team's rota",
                        ]),
                        Track::Reader => op(&[
                            "eligible",
                            "assign",
                            "-p",
                            &id,
                            "-r",
                            "Security Reader",
                            "--duration",
                            "P365D",
                            "-j",
                            "Reads the security reports",
                        ]),
                        Track::Approval => op(&[
                            "eligible",
                            "assign",
                            "-p",
                            &id,
                            "-r",
                            "Security Administrator",
                            "--duration",
                            "P365D",
                            "-j",
                            "Security operations",
                        ]),
                    };
                    apply(e, &admin, &grant);
                    id
                })
                .collect();
            let mut set = vec!["policy", "set", "Security Administrator", "--require-approval", "true"];
            let names: Vec<String> = (0..APPROVERS).map(|a| format!("Approver {a}")).collect();
            for n in &names {
                set.extend(["--approver", n.as_str()]);
            }
            apply(e, &admin, &op(&set));
            let after_hours = format!("{hooks}after-hours-limit.lua");
            apply(e, &admin, &op(&["hook", "add", "after-hours-limit", "--file", &after_hours]));
            let freeze = format!("{hooks}weekend-freeze.lua");
            apply(
                e,
                &admin,
                &op(&["hook", "add", "weekend-freeze", "--file", &freeze, "-r", "Security Administrator"]),
            );
            (ids, approvers)
        })
        .expect("the organisation");
    Organisation { engine, admin, users: ids, approvers }
}

/// The day's activation of each track, parsed once.
struct DayOps {
    team: Vec<Operation>,
    reader: Operation,
    approval: Operation,
    to_approvals: Operation,
    to_friday_next: Operation,
    to_next_day: Operation,
}

fn day_ops(teams: usize) -> DayOps {
    let activate = |extra: &[&str]| {
        let mut words = vec!["activate"];
        words.extend_from_slice(extra);
        words.extend(["--duration", "PT8H", "-j", "INC0012345: the day's queue"]);
        op(&words)
    };
    DayOps {
        team: (0..teams)
            .map(|t| activate(&["--group", &format!("Team {t:03}"), "--access", "member"]))
            .collect(),
        reader: activate(&["-r", "Security Reader"]),
        approval: activate(&["-r", "Security Administrator"]),
        to_approvals: op(&["clock", "advance", "PT30M"]),
        to_friday_next: op(&["clock", "advance", "P2DT23H30M"]),
        to_next_day: op(&["clock", "advance", "PT23H30M"]),
    }
}

fn year() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // Kept where `PIMLAB_BENCH_YEAR_STORE` says, to look into afterwards (what each table holds).
    let path = match std::env::var_os("PIMLAB_BENCH_YEAR_STORE") {
        Some(kept) => std::path::PathBuf::from(kept),
        None => dir.path().join("year.db"),
    };
    let users = users();
    let mut org = organisation(&path, users);
    let ops = day_ops(users.div_ceil(TEAM_SIZE));
    let bytes_before = checkpointed_size(&path);
    let requests_before = count(&path, "requests");
    let mut per_day = Vec::new();
    let mut peak_after_first = 0;
    let mut after_first = None;
    // As `pimlab run` runs a script: writes share commits, one per simulated instant at most.
    org.engine.begin_rolling().expect("a rolling batch");
    for day in 0..days() {
        let started = Instant::now();
        working_day(&mut org, &ops, day);
        if day + 1 == days() {
            org.engine.end_rolling().expect("the last commit");
        }
        per_day.push(started.elapsed());
        if day == 0 {
            peak_after_first = peak_memory_kib();
            // Untimed: the day's writes are committed (the clock's advance began a batch of its own).
            after_first = Some((checkpointed_size(&path), count(&path, "requests")));
        }
    }
    drop(org);
    let requests = count(&path, "requests") - requests_before;
    let bytes_after = checkpointed_size(&path);
    let total: Duration = per_day.iter().sum();
    // The first day also adds what a year adds once (each user's words in the dictionaries); the
    // later days show what every further day adds. The year's bytes are the first day's and 249
    // later days'.
    let (first_size, first_requests) = after_first.expect("a first day");
    let first_bytes = first_size.saturating_sub(bytes_before);
    let later = days().saturating_sub(1) as u64;
    // A one-day sample has no later day: its first day stands for every day.
    let later_bytes_per_day =
        bytes_after.saturating_sub(first_size).checked_div(later).unwrap_or(first_bytes);
    let year_bytes = first_bytes + later_bytes_per_day * (WORKING_DAYS_IN_A_YEAR - 1);
    let year_requests = (first_requests - requests_before) * WORKING_DAYS_IN_A_YEAR;
    println!(
        "RESULT seconds={} days={} requests={requests} bytes={} year_bytes={year_bytes} year_requests={year_requests} peak_first_kib={peak_after_first} peak_last_kib={}",
        total.as_secs_f64(),
        per_day.len(),
        bytes_after.saturating_sub(bytes_before),
        peak_memory_kib()
    );
}

/// One working day: every user's activation at 08:00, the approvals at 08:30, then the clock to
/// the next working day's 08:00. Not inlined, so a profiler can count the days alone
/// (`valgrind --tool=callgrind --toggle-collect='year::working_day'`).
#[inline(never)]
fn working_day(org: &mut Organisation, ops: &DayOps, day: usize) {
    let mut waiting = Vec::new();
    for (i, user) in org.users.iter().enumerate() {
        let me = Session::new(user.clone());
        let activation = match track(i) {
            Track::Team(t) => &ops.team[t],
            Track::Reader => &ops.reader,
            Track::Approval => &ops.approval,
        };
        let outcome = apply(&mut org.engine, &me, activation);
        if track(i) == Track::Approval {
            waiting.push((i, request_id(&outcome)));
        }
    }
    apply(&mut org.engine, &org.admin, &ops.to_approvals);
    for (n, (i, request)) in waiting.iter().enumerate() {
        if n % 10 == 9 {
            continue; // left to time out
        }
        let approver = Session::new(org.approvers[i % APPROVERS].clone());
        let approve = Operation::Approve(DecisionArgs {
            id: request.clone(),
            justification: Some("Looked at the queue".into()),
        });
        apply(&mut org.engine, &approver, &approve);
    }
    let weekday = day % 5;
    let next = if weekday == 4 { &ops.to_friday_next } else { &ops.to_next_day };
    apply(&mut org.engine, &org.admin, next);
}

fn request_id(outcome: &Outcome) -> String {
    let json = outcome.to_json();
    json.get("id")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no request id in {json}"))
}

/// The baseline: the minimal rows of each activation (request, schedule, audit), inserted with
/// prepared statements, one transaction per day, in a store file with the same settings.
fn baseline() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("baseline.db");
    let conn = Connection::open(&path).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL").expect("wal");
    conn.pragma_update(None, "synchronous", "NORMAL").expect("sync");
    conn.execute_batch(
        "CREATE TABLE requests (id TEXT PRIMARY KEY, principal_id TEXT NOT NULL, role_id TEXT NOT NULL,
             status TEXT NOT NULL, created_at INTEGER NOT NULL, justification TEXT, end_at INTEGER);
         CREATE INDEX requests_by_created ON requests (created_at);
         CREATE TABLE schedules (id TEXT PRIMARY KEY, principal_id TEXT NOT NULL, role_id TEXT NOT NULL,
             start_at INTEGER NOT NULL, end_at INTEGER, state TEXT NOT NULL);
         CREATE INDEX schedules_by_target ON schedules (principal_id, role_id, state);
         CREATE INDEX schedules_live_by_end ON schedules (end_at) WHERE state = 'live';
         CREATE TABLE audit (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor_id TEXT NOT NULL,
             activity TEXT NOT NULL, request_id TEXT);",
    )
    .expect("schema");
    let users = users();
    let mut conn = conn;
    let mut per_day = Vec::new();
    let day_ms: i64 = 86_400_000;
    let mut n: u64 = 0;
    let mut peak_after_first = 0;
    for day in 0..days() {
        let started = Instant::now();
        let tx = conn.transaction().expect("a transaction");
        {
            let mut request = tx
                .prepare_cached("INSERT INTO requests VALUES (?1, ?2, ?3, 'Provisioned', ?4, ?5, ?6)")
                .expect("prepare");
            let mut schedule = tx
                .prepare_cached("INSERT INTO schedules VALUES (?1, ?2, ?3, ?4, ?5, 'live')")
                .expect("prepare");
            let mut audit = tx
                .prepare_cached(
                    "INSERT INTO audit (at, actor_id, activity, request_id) VALUES (?1, ?2, ?3, ?4)",
                )
                .expect("prepare");
            let mut expire = tx
                .prepare_cached(
                    "UPDATE schedules SET state = 'expired' WHERE end_at <= ?1 AND state = 'live'",
                )
                .expect("prepare");
            let at = day as i64 * day_ms;
            for i in 0..users {
                n += 1;
                let id = format!("{n:032x}");
                let user = format!("{i:036}");
                request
                    .execute(rusqlite::params![
                        id,
                        user,
                        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
                        at,
                        "INC0012345: the day's queue",
                        at + 8 * 3_600_000
                    ])
                    .expect("request");
                schedule
                    .execute(rusqlite::params![
                        id,
                        user,
                        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
                        at,
                        at + 8 * 3_600_000
                    ])
                    .expect("schedule");
                audit
                    .execute(rusqlite::params![at, user, "Add member to role completed (PIM activation)", id])
                    .expect("audit");
            }
            expire.execute([at + day_ms]).expect("expiries");
        }
        tx.commit().expect("commit");
        per_day.push(started.elapsed());
        if day == 0 {
            peak_after_first = peak_memory_kib();
        }
    }
    drop(conn);
    let total: Duration = per_day.iter().sum();
    let bytes = checkpointed_size(&path);
    // Every day adds the same rows: the year is the sample's days times its length.
    let days = per_day.len() as u64;
    println!(
        "RESULT seconds={} days={days} requests={n} bytes={bytes} year_bytes={} year_requests={} peak_first_kib={peak_after_first} peak_last_kib={}",
        total.as_secs_f64(),
        bytes / days * WORKING_DAYS_IN_A_YEAR,
        n / days * WORKING_DAYS_IN_A_YEAR,
        peak_memory_kib()
    );
}

/// The store file's size once the WAL is folded into it.
fn checkpointed_size(path: &Path) -> u64 {
    let conn = Connection::open(path).expect("open to checkpoint");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).expect("checkpoint");
    drop(conn);
    std::fs::metadata(path).expect("the store file").len()
}

fn count(path: &Path, table: &str) -> u64 {
    let conn = Connection::open(path).expect("open to count");
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get::<_, i64>(0)).expect("count")
        as u64
}

/// The process's peak resident memory (Linux `VmHWM`), in KiB; 0 where it cannot be read.
fn peak_memory_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn report() {
    let (users, days) = (users(), days());
    println!(
        "year: {} users, a sample of {days} working days, projected to {WORKING_DAYS_IN_A_YEAR}",
        int(users as u64)
    );
    let engine = run_child(&["year"]);
    let raw = run_child(&["baseline"]);
    let line = |name: &str, r: &std::collections::HashMap<String, String>| {
        let seconds: f64 = get(r, "seconds");
        let requests: u64 = get(r, "requests");
        let bytes: u64 = get(r, "bytes");
        let sample_days: u64 = get(r, "days");
        let per_second = requests as f64 / seconds;
        let year = Duration::from_secs_f64(seconds / sample_days as f64 * WORKING_DAYS_IN_A_YEAR as f64);
        let sample_per_request = bytes as f64 / requests.max(1) as f64;
        let year_bytes: u64 = get(r, "year_bytes");
        let per_request = year_bytes as f64 / get::<u64>(r, "year_requests").max(1) as f64;
        println!(
            "  {name:<8} {:>10} requests in {seconds:>7.2} s: {:>8.0} requests/s, {:>6.2} days/s, year {:>7.0} s{}; store {:>5.0} bytes/request over the sample, the year's {:>6.2} GB: {:>5.0} bytes/request{}; peak memory {} KiB after day 1, {} KiB at the end",
            int(requests),
            per_second,
            sample_days as f64 / seconds,
            year.as_secs_f64(),
            if year > AIM_YEAR { " ABOVE" } else { "" },
            sample_per_request,
            year_bytes as f64 / 1e9,
            per_request,
            if per_request > AIM_BYTES_PER_REQUEST { " ABOVE" } else { "" },
            int(get(r, "peak_first_kib")),
            int(get(r, "peak_last_kib")),
        );
        (per_second, per_request)
    };
    let (engine_rate, engine_bytes) = line("pimlab", &engine);
    let (raw_rate, raw_bytes) = line("raw", &raw);
    println!(
        "  ratio    pimlab/raw: {:.1}x the time per request, {:.1}x the bytes per request",
        raw_rate / engine_rate,
        engine_bytes / raw_bytes
    );
}
