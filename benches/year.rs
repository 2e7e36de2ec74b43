//! `cargo bench --bench year`: a 10,000-user organisation's working year, played whole (or a
//! sample of its days, projected), beside raw inserts of the rows a request must persist.
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
//! The days run as `pimlab run` runs a script's operations, in a rolling batch (a commit every few
//! thousand operations, `store/rolling.rs`), in one process (`--child year`), each timed. By
//! default the sample is the whole year, because its days are not alike: from the seventh week the
//! clock purges each day the requests made 45 days before, from the fourteenth the schedules that
//! ended 90 days before, and the store outgrows the pages it keeps in memory. From the days:
//! requests per second, simulated working days per second, the year's wall time (measured, or
//! projected from a shorter sample), the store's bytes per request (the file, checkpointed, grown
//! over the sample, over its requests), the process's peak memory after the first day and after the
//! last, and, by quarter of the sample, the time a request took and the peak memory (does it
//! grow?). A shorter sample projects the year's store from its first day's growth (which includes
//! what a year adds only once: each user's words in the dictionaries, `store/texts.rs`) and its
//! later days' (what every further day adds), and says which purges it ends before. Beside them, in
//! another process of the same run (`--child baseline`), the baseline: plain rusqlite inserts, one
//! transaction per day, of the minimal rows an activation must persist (its request, its schedule,
//! its audit row) and one statement expiring the day's schedules, never purged, with the same
//! figures.
//!
//! `PIMLAB_BENCH_YEAR_USERS` and `PIMLAB_BENCH_YEAR_DAYS` (default 10,000 and 250) change the
//! organisation's size and the sample's length; `PIMLAB_BENCH_YEAR_STORE` keeps the store at that
//! path (a new file) to look into afterwards, and `PIMLAB_BENCH_YEAR_FROM` runs the sample on from
//! a copy of a store so kept (a late stretch of the year, to profile). The aims (issue 14): the
//! year under two minutes, under 800 bytes per request; a figure above its aim prints `ABOVE`.
//! Performance is measured, never asserted.

mod common;

use common::{get, int, run_child};

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Datelike;
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
/// Working days after which every day's clock purges requests (made 45 days before) and
/// schedules (ended 90 days before): the seventh week and the fourteenth.
const REQUEST_PURGES_BY_DAY: usize = 35;
const SCHEDULE_PURGES_BY_DAY: usize = 70;
const AIM_BYTES_PER_REQUEST: f64 = 800.0;

fn users() -> usize {
    env_number("PIMLAB_BENCH_YEAR_USERS", 10_000)
}

fn days() -> usize {
    env_number("PIMLAB_BENCH_YEAR_DAYS", WORKING_DAYS_IN_A_YEAR as usize)
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

/// The organisation of a store a run kept (`PIMLAB_BENCH_YEAR_STORE`), copied to `path`, and the
/// weekday its clock stands at (0 for Monday): a later stretch of its year runs from there.
fn kept_organisation(path: &Path) -> (Organisation, usize) {
    // The engine first: the store gives SQLite its allocator before SQLite's first connection
    // (`store/allocator.rs`), and a bare connection opened before it would leave SQLite on
    // glibc's, a tenth of a late day's instructions (its statement journals' chunks).
    let mut engine = Engine::open(path).expect("open the kept store");
    let ids = |pattern: &str| -> Vec<String> {
        let conn = Connection::open(path).expect("the kept store");
        let mut stmt = conn
            .prepare("SELECT id FROM directory_objects WHERE display_name LIKE ?1 ORDER BY display_name")
            .expect("prepare");
        stmt.query_map([pattern], |r| r.get(0)).expect("ids").collect::<Result<_, _>>().expect("ids")
    };
    let (users, approvers) = (ids("Year User %"), ids("Approver %"));
    engine.set_hook_runner(std::rc::Rc::new(LuaHooks::new(pimlab::api::views::REQUEST)));
    let admin = Session::new(engine.default_caller().expect("the administrator"));
    let weekday = engine.now().expect("the clock").weekday().num_days_from_monday() as usize;
    (Organisation { engine, admin, users, approvers }, weekday)
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
    let (mut org, first_day) = match std::env::var_os("PIMLAB_BENCH_YEAR_FROM") {
        Some(kept) => {
            std::fs::copy(&kept, &path).expect("a copy of the kept store");
            kept_organisation(&path)
        }
        None => (organisation(&path, users()), 0),
    };
    let ops = day_ops(org.users.len().div_ceil(TEAM_SIZE));
    let bytes_before = checkpointed_size(&path);
    let sample = days();
    let quarter_ends = quarter_ends(sample);
    let mut per_day = Vec::new();
    let (mut first_peak, mut quarter_peaks) = (0, Vec::new());
    let mut after_first = None;
    // As `pimlab run` runs a script: writes share commits, every few thousand operations.
    org.engine.begin_rolling().expect("a rolling batch");
    for day in 0..sample {
        let started = Instant::now();
        working_day(&mut org, &ops, first_day + day);
        if day + 1 == sample {
            org.engine.end_rolling().expect("the last commit");
        }
        per_day.push(started.elapsed());
        if day == 0 {
            first_peak = peak_memory_kib();
            // Untimed: the first day's writes committed, so that the file holds them (the rolling
            // batch commits every few thousand operations, not at the day's end), then the next
            // rolling batch for the days after.
            let more = day + 1 < sample;
            if more {
                org.engine.end_rolling().expect("the first day's commit");
            }
            after_first = Some(checkpointed_size(&path));
            if more {
                org.engine.begin_rolling().expect("a rolling batch");
            }
        }
        if quarter_ends.contains(&day) {
            quarter_peaks.push(peak_memory_kib());
        }
    }
    // Every user makes one request a working day. Counted, not read from the store: the clock
    // purges requests 45 days after they are made.
    let per_day_requests = org.users.len() as u64;
    drop(org);
    let requests = per_day_requests * sample as u64;
    let bytes_after = checkpointed_size(&path);
    let total: Duration = per_day.iter().sum();
    // A sample of the whole year measures its store. A shorter one projects it: the first day
    // also adds what a year adds once (each user's words in the dictionaries), the later days
    // what every further day adds, so the year's bytes are the first day's and 249 later days'.
    let year_bytes = if sample as u64 >= WORKING_DAYS_IN_A_YEAR {
        bytes_after.saturating_sub(bytes_before)
    } else {
        let first_size = after_first.expect("a first day");
        let first_bytes = first_size.saturating_sub(bytes_before);
        let later = sample.saturating_sub(1) as u64;
        // A one-day sample has no later day: its first day stands for every day.
        let later_bytes_per_day =
            bytes_after.saturating_sub(first_size).checked_div(later).unwrap_or(first_bytes);
        first_bytes + later_bytes_per_day * (WORKING_DAYS_IN_A_YEAR - 1)
    };
    let year_requests = per_day_requests * WORKING_DAYS_IN_A_YEAR;
    // Microseconds a request in each quarter of the sample (its days' requests and their expiries).
    let quarters: Vec<String> = quarters(sample)
        .map(|days| {
            let spent: Duration = per_day[days.clone()].iter().sum();
            format!("{:.0}", spent.as_secs_f64() * 1e6 / (per_day_requests * days.len() as u64) as f64)
        })
        .collect();
    println!(
        "RESULT seconds={} days={} requests={requests} bytes={} year_bytes={year_bytes} year_requests={year_requests} peak_first_kib={} peak_last_kib={} quarter_us={} quarter_peak_kib={}",
        total.as_secs_f64(),
        per_day.len(),
        bytes_after.saturating_sub(bytes_before),
        first_peak,
        peak_memory_kib(),
        quarters.join(","),
        quarter_peaks.iter().map(u64::to_string).collect::<Vec<_>>().join(","),
    );
}

/// The days of each quarter of a sample of `days` (fewer quarters for a sample under four days).
fn quarters(days: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let n = days.min(4);
    (0..n).map(move |q| q * days / n..(q + 1) * days / n)
}

/// The last day of each quarter of a sample of `days`.
fn quarter_ends(days: usize) -> Vec<usize> {
    quarters(days).map(|q| q.end - 1).collect()
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
    // The pages the store keeps in memory, as pimlab's (`store/mod.rs`): with SQLite's default of
    // 2 MiB the year's inserts read most index pages back from the file.
    conn.pragma_update(None, "cache_size", -65_536).expect("cache");
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
    let whole = days as u64 >= WORKING_DAYS_IN_A_YEAR;
    if whole {
        println!("year: {} users, the whole year of {days} working days", int(users as u64));
    } else {
        println!(
            "year: {} users, a sample of {days} working days, projected to {WORKING_DAYS_IN_A_YEAR}",
            int(users as u64)
        );
    }
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
        if let (Some(us), Some(peaks)) = (r.get("quarter_us"), r.get("quarter_peak_kib")) {
            println!(
                "  {:<8} by quarter of the sample: {} µs a request; peak memory {} KiB",
                "",
                us.replace(',', ", "),
                peaks.split(',').map(|k| int(k.parse().unwrap_or(0))).collect::<Vec<_>>().join(", ")
            );
        }
        (per_second, per_request)
    };
    let (engine_rate, engine_bytes) = line("pimlab", &engine);
    let (raw_rate, raw_bytes) = line("raw", &raw);
    println!(
        "  ratio    pimlab/raw: {:.1}x the time per request, {:.1}x the bytes per request",
        raw_rate / engine_rate,
        engine_bytes / raw_bytes
    );
    // A sample run on from a kept store (`PIMLAB_BENCH_YEAR_FROM`) starts where that store's year
    // stands, purges and all.
    if days < SCHEDULE_PURGES_BY_DAY && std::env::var_os("PIMLAB_BENCH_YEAR_FROM").is_none() {
        println!(
            "  note     the sample ends before the clock purges {}: later days cost more, run the whole year to measure them",
            if days < REQUEST_PURGES_BY_DAY {
                "requests (from the seventh week, 45 days after they are made) and schedules (from the fourteenth, 90 days after they end)"
            } else {
                "schedules (from the fourteenth week, 90 days after they end)"
            }
        );
    }
}
