//! `cargo bench --bench lifecycle`: throughput and memory of the PIM request lifecycle.
//!
//! # What is measured
//!
//! A tenant of 10,000 users (created through `Engine::create_object`; not part of the rates) in a
//! temporary file store runs *cycles*. One cycle, for one user:
//!
//! 1. **assign**: the break-glass administrator submits `adminAssign` of an eligibility for
//!    Helpdesk Administrator at `/`, expiring after `P30D`;
//! 2. **activate**: the user submits `selfActivate` (MFA session, justification, `PT1H`);
//! 3. **expire**: after every batch of 500 users the simulated clock moves `PT2H`, so the batch's
//!    activations expire. When every user has had a cycle the clock moves `P31D`, so the
//!    eligibilities expire too and the next round can assign them again (in the third round the
//!    first round's requests pass their 45-day retention and are purged, as the service does).
//!
//! *Requests per second* counts submitted requests (assign + activate) over the time spent in
//! `Engine::submit`; the time spent in `Engine::advance_by` is reported on its own, as the expiry
//! rate. Every request must come back `Provisioned` and every activation must expire, or the bench
//! panics: the numbers are only printed for a workload that really ran. Performance itself is
//! measured, never asserted: a rate below the aim prints `BELOW`, and the process still succeeds.
//!
//! # The baseline, and why it is fair
//!
//! In the same run, the bench inserts *the same rows* with plain rusqlite: for each request, the
//! `requests` row, the `schedules` row and the `audit` row the engine wrote for it, in one
//! `BEGIN IMMEDIATE` transaction per request, through cached prepared statements. The rows are not
//! invented: the bench first lets the engine run one real cycle, reads back the six rows it wrote
//! (column for column, values included: the decision trace, the audit targets, the activity
//! names), and replays them with fresh random GUIDs (so the primary-key B-trees see the same
//! random insertion order as the engine's seeded ids), fresh principals and an advancing clock.
//! The baseline store is a new file created from the same `schema.sql` (all indexes, partial
//! indexes and the unique instance index included) with the same pragmas as `Store::open`
//! (`journal_mode=WAL`, `synchronous=NORMAL`, `foreign_keys=ON`). So the baseline is the cost of
//! the writes the engine cannot avoid; the ratio engine/raw is what the engine's reads, checks,
//! policy evaluation and id generation cost on top. Where the two differ, the difference favours
//! the baseline: the engine also bumps its id counter in `meta` and expires what it provisioned,
//! while the baseline gives every cycle a new principal and never expires anything (so its live
//! partial indexes only grow).
//!
//! # Memory
//!
//! Peak memory must not depend on the number of requests. `VmHWM` in `/proc/self/status` is a
//! high-water mark for the whole process, so each measurement runs in its own child process (the
//! bench re-executes itself with `--child ...`): a *small* run and a *large* run with the same
//! 10,000-user setup and many times the requests. Each child also resets the mark after setup
//! (`echo 5 > /proc/self/clear_refs`, where the kernel allows it), so the peak printed is the peak
//! of the workload alone; it is shown next to the resident size right after setup. If the large
//! run's peak is within a few MiB of the small run's, memory is flat. (Expect the peak to rise by
//! up to SQLite's page cache, 2 MiB by default, as the tables outgrow it; that cache is bounded.)
//!
//! Inputs are deterministic: a fixed seed, the default simulated start time, fixed names. Only the
//! bench itself reads the wall clock (`std::time::Instant`), to time the engine from outside.
//!
//! Sizes can be overridden with `PIMLAB_BENCH_SMALL` and `PIMLAB_BENCH_LARGE` (cycles); one
//! measurement can be run alone (for a profiler) with `<bench binary> --child engine <cycles>` or
//! `<bench binary> --child raw <requests>`.

mod common;

use common::*;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use pimlab::engine::{AdvanceReport, Engine, InitOptions, Session};
use pimlab::model::ids::role_assignment_id;
use pimlab::model::{IsoDuration, NewRequest, Status};
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

/// The store schema, exactly as the engine creates it.
/// Requests per transaction in the batched runs: Graph's `$batch` takes up to 20.
const GRAPH_BATCH: usize = 20;
const SCHEMA: &str = include_str!("../schema.sql");

const USERS: usize = 10_000;
/// Users per batch: after each batch the clock moves `PT2H` and the batch's activations expire.
const BATCH: usize = 500;
const SMALL_CYCLES: usize = 2_000;
const LARGE_CYCLES: usize = 30_000;

const AIM_REQUESTS_PER_SECOND: f64 = 20_000.0;
const AIM_RATIO: f64 = 1.0 / 3.0;
/// How much the large run's workload peak may exceed the small run's and still count as flat.
const FLAT_MEMORY_TOLERANCE_KIB: u64 = 8 * 1024;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().position(|a| a == "--child") {
        Some(i) => {
            let what = args.get(i + 1).map(String::as_str);
            let n: usize =
                args.get(i + 2).and_then(|n| n.parse().ok()).expect("--child engine|raw <count> [batched]");
            let batched = args.get(i + 3).is_some_and(|a| a == "batched");
            let result = match what {
                Some("engine") => child_engine(n, batched),
                Some("raw") => child_raw(n, batched),
                _ => panic!("--child engine|raw <count> [batched]"),
            };
            let line: Vec<String> = result.iter().map(|(k, v)| format!("{k}={v}")).collect();
            println!("RESULT {}", line.join(" "));
        }
        None => parent(),
    }
}

// ---------------------------------------------------------------------------------------------
// The parent: runs each measurement in its own process and prints the table.

fn size_from_env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.replace(['_', ','], "").parse().ok()).unwrap_or(default)
}

fn parent() {
    let small = size_from_env("PIMLAB_BENCH_SMALL", SMALL_CYCLES);
    let large = size_from_env("PIMLAB_BENCH_LARGE", LARGE_CYCLES);
    println!(
        "pimlab lifecycle bench: tenant of {} users, seed {SEED}, batches of {BATCH} users, each measurement in its own process",
        int(USERS as u64)
    );
    println!(
        "stores are files under {} (std::env::temp_dir; set TMPDIR to move them)",
        std::env::temp_dir().display()
    );
    let small_run = run_child(&["engine", &small.to_string()]);
    let large_run = run_child(&["engine", &large.to_string()]);
    let raw_requests: u64 = get(&large_run, "requests");
    let raw_run = run_child(&["raw", &raw_requests.to_string()]);
    let batched_run = run_child(&["engine", &large.to_string(), "batched"]);
    let raw_batched_run = run_child(&["raw", &raw_requests.to_string(), "batched"]);

    let setup_s: f64 = get(&large_run, "setup_s");
    println!(
        "setup (not in the rates): {} users via Engine::create_object in {:.2} s ({} users/s)",
        int(USERS as u64),
        setup_s,
        int((USERS as f64 / setup_s) as u64)
    );
    println!();
    println!(
        "{:<7} {:>8} {:>9} {:>12} {:>12} {:>12} {:>9} {:>11} {:>12} {:>21}",
        "run",
        "cycles",
        "requests",
        "req/s",
        "assign/s",
        "activate/s",
        "expiries",
        "expiry/s",
        "RSS@setup",
        "peak RSS (run)"
    );
    for (name, r) in [("small", &small_run), ("large", &large_run)] {
        let requests: u64 = get(r, "requests");
        let cycles: u64 = get(r, "cycles");
        let expired: u64 = get(r, "expired");
        println!(
            "{:<7} {:>8} {:>9} {:>12} {:>12} {:>12} {:>9} {:>11} {:>12} {:>21}",
            name,
            int(cycles),
            int(requests),
            rate(requests, get(r, "submit_s")),
            rate(cycles, get(r, "assign_s")),
            rate(cycles, get(r, "activate_s")),
            int(expired),
            rate(expired, get(r, "advance_s")),
            mib(get(r, "rss_setup_kib")),
            peak(r),
        );
    }
    println!(
        "{:<7} {:>8} {:>9} {:>12} {:>12} {:>12} {:>9} {:>11} {:>12} {:>21}",
        "raw",
        "-",
        int(raw_requests),
        rate(raw_requests, get(&raw_run, "insert_s")),
        "-",
        "-",
        "-",
        "-",
        mib(get(&raw_run, "rss_setup_kib")),
        peak(&raw_run),
    );
    println!(
        "        (raw = plain rusqlite: the same requests/schedules/audit rows, one transaction per request)"
    );
    for (name, r) in [("small", &small_run), ("large", &large_run)] {
        let purged_requests: u64 = get(r, "purged_requests");
        let purged_schedules: u64 = get(r, "purged_schedules");
        let expired_elig = get::<u64>(r, "expired") - get::<u64>(r, "cycles");
        println!(
            "{name}: expiries = {} activations + {} eligibilities; purged {} requests and {} schedules; advance time {:.2} s",
            int(get(r, "cycles")),
            int(expired_elig),
            int(purged_requests),
            int(purged_schedules),
            get::<f64>(r, "advance_s"),
        );
    }

    let engine_rate = get::<u64>(&large_run, "requests") as f64 / get::<f64>(&large_run, "submit_s");
    let raw_rate = raw_requests as f64 / get::<f64>(&raw_run, "insert_s");
    let ratio = engine_rate / raw_rate;
    println!();
    println!(
        "engine  assign+activate {:>8} req/s   | raw rusqlite same rows {:>8} row-sets/s | ratio {:.2} (aim >= {:.2})  {}",
        int(engine_rate as u64),
        int(raw_rate as u64),
        ratio,
        AIM_RATIO,
        verdict(ratio >= AIM_RATIO)
    );
    println!(
        "aim: {} req/s                                engine {:>8} req/s  {}",
        int(AIM_REQUESTS_PER_SECOND as u64),
        int(engine_rate as u64),
        verdict(engine_rate >= AIM_REQUESTS_PER_SECOND)
    );
    if raw_rate < AIM_REQUESTS_PER_SECOND {
        println!(
            "      note: raw inserts themselves reach only {} row-sets/s on this store (one transaction per request); the ratio is the figure that carries across machines",
            int(raw_rate as u64)
        );
    }
    let batched_rate = get::<u64>(&batched_run, "requests") as f64 / get::<f64>(&batched_run, "submit_s");
    let raw_batched_rate = raw_requests as f64 / get::<f64>(&raw_batched_run, "insert_s");
    let batched_ratio = batched_rate / raw_batched_rate;
    println!();
    println!(
        "batched: {GRAPH_BATCH} requests per transaction, as one Graph $batch (Engine::batch; each request still in its own savepoint)"
    );
    println!(
        "engine  assign+activate {:>8} req/s   | raw rusqlite same rows {:>8} row-sets/s | ratio {:.2} (aim >= {:.2})  {}",
        int(batched_rate as u64),
        int(raw_batched_rate as u64),
        batched_ratio,
        AIM_RATIO,
        verdict(batched_ratio >= AIM_RATIO)
    );
    println!(
        "aim: {} req/s                                engine {:>8} req/s  {}",
        int(AIM_REQUESTS_PER_SECOND as u64),
        int(batched_rate as u64),
        verdict(batched_rate >= AIM_REQUESTS_PER_SECOND)
    );
    println!(
        "        batched run: {} requests, {} expiries, peak RSS {}",
        int(get(&batched_run, "requests")),
        int(get(&batched_run, "expired")),
        peak(&batched_run)
    );

    let small_peak: u64 = get(&small_run, "peak_kib");
    let large_peak: u64 = get(&large_run, "peak_kib");
    let growth = large_peak as i64 - small_peak as i64;
    let reset = get::<u64>(&small_run, "hwm_reset") == 1 && get::<u64>(&large_run, "hwm_reset") == 1;
    println!(
        "peak memory{}: {} requests {}, {} requests {} ({:+.1} MiB for {:.0}x the requests; flat if within {} MiB)  {}",
        if reset {
            " of the workload (VmHWM reset after setup)"
        } else {
            " of the whole child process (VmHWM)"
        },
        int(get(&small_run, "requests")),
        mib(small_peak),
        int(get(&large_run, "requests")),
        mib(large_peak),
        growth as f64 / 1024.0,
        get::<f64>(&large_run, "requests") / get::<f64>(&small_run, "requests"),
        FLAT_MEMORY_TOLERANCE_KIB / 1024,
        if growth <= FLAT_MEMORY_TOLERANCE_KIB as i64 { "PASS (flat)" } else { "BELOW (grows)" }
    );
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "BELOW" }
}

fn rate(count: u64, seconds: f64) -> String {
    if seconds > 0.0 { int((count as f64 / seconds) as u64) } else { "-".into() }
}

/// Peak RSS of a run, with its growth over the resident size right after setup.
fn peak(r: &HashMap<String, String>) -> String {
    let peak: u64 = get(r, "peak_kib");
    let setup: u64 = get(r, "rss_setup_kib");
    format!("{} ({:+.1})", mib(peak), (peak as f64 - setup as f64) / 1024.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

// ---------------------------------------------------------------------------------------------
// Memory, from /proc/self/status.

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resets `VmHWM` to the current resident size (Linux >= 4.0). False where it is not allowed.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn memory_fields(result: &mut Vec<(&'static str, String)>, rss_setup: u64, reset: bool) {
    result.push(("rss_setup_kib", rss_setup.to_string()));
    result.push(("peak_kib", status_kib("VmHWM").to_string()));
    result.push(("rss_end_kib", status_kib("VmRSS").to_string()));
    result.push(("hwm_reset", u8::from(reset).to_string()));
}

// ---------------------------------------------------------------------------------------------
// The engine workload.

/// Submits one request and insists that it was provisioned; returns its id.
fn submit(engine: &mut Engine, session: &Session, req: &NewRequest) -> String {
    match engine.submit(session, req) {
        Ok(q) if q.status == Status::Provisioned => q.id,
        Ok(q) => panic!("{} ended {:?}, not Provisioned", req.action, q.status),
        Err(e) => panic!("{} for {} refused: {e:?}", req.action, req.principal_id),
    }
}

#[derive(Default)]
struct Totals {
    advance: Duration,
    expired: usize,
    failed: usize,
    purged_requests: usize,
    purged_schedules: usize,
}

impl Totals {
    fn advance(&mut self, engine: &mut Engine, admin: &Session, by: IsoDuration) {
        let t = Instant::now();
        let r: AdvanceReport = engine.advance_by(admin, by).expect("advance the clock");
        self.advance += t.elapsed();
        self.expired += r.expired;
        self.failed += r.failed;
        self.purged_requests += r.purged_requests;
        self.purged_schedules += r.purged_schedules;
    }
}

fn child_engine(cycles: usize, batched: bool) -> Vec<(&'static str, String)> {
    let dir = tempfile::Builder::new().prefix("pimlab-bench-").tempdir().expect("a temporary directory");
    let path = dir.path().join("lifecycle.db");

    let t = Instant::now();
    let (mut engine, admin, users) = tenant(&path, USERS);
    let setup = t.elapsed();
    let rss_setup = status_kib("VmRSS");
    let reset = reset_peak();

    let mut assign_time = Duration::ZERO;
    let mut activate_time = Duration::ZERO;
    let mut totals = Totals::default();
    let mut c = 0;
    while c < cycles {
        if c > 0 && c % USERS == 0 {
            // Every user has had a cycle: let the eligibilities expire before assigning again.
            totals.advance(&mut engine, &admin, IsoDuration::from_days(31));
        }
        let end = cycles.min(c + BATCH).min((c / USERS + 1) * USERS);
        let slice = &users[c % USERS..c % USERS + (end - c)];
        if batched {
            // Graph-style batches: GRAPH_BATCH requests (assign + activate for half as many
            // users) share one transaction. The split between assign and activate is not timed.
            for chunk in slice.chunks(GRAPH_BATCH / 2) {
                let t = Instant::now();
                engine
                    .batch(|engine| {
                        for user in chunk {
                            submit(engine, &admin, &assign_request(user));
                            submit(engine, &Session::new(user.clone()), &activate_request(user));
                        }
                    })
                    .expect("commit the batch");
                assign_time += t.elapsed();
            }
        } else {
            for user in slice {
                let t = Instant::now();
                submit(&mut engine, &admin, &assign_request(user));
                let t2 = Instant::now();
                submit(&mut engine, &Session::new(user.clone()), &activate_request(user));
                activate_time += t2.elapsed();
                assign_time += t2 - t;
            }
        }
        c = end;
        totals.advance(&mut engine, &admin, IsoDuration::from_hours(2));
    }
    let rounds_done = (cycles.max(1) - 1) / USERS;
    let expected = cycles + rounds_done * USERS;
    assert_eq!(
        (totals.expired, totals.failed),
        (expected, 0),
        "every activation (and every eligibility of a finished round) must expire, and nothing fail"
    );

    let mut result = vec![
        ("cycles", cycles.to_string()),
        ("requests", (2 * cycles).to_string()),
        ("setup_s", setup.as_secs_f64().to_string()),
        ("assign_s", assign_time.as_secs_f64().to_string()),
        ("activate_s", activate_time.as_secs_f64().to_string()),
        ("submit_s", (assign_time + activate_time).as_secs_f64().to_string()),
        ("advance_s", totals.advance.as_secs_f64().to_string()),
        ("expired", totals.expired.to_string()),
        ("purged_requests", totals.purged_requests.to_string()),
        ("purged_schedules", totals.purged_schedules.to_string()),
    ];
    memory_fields(&mut result, rss_setup, reset);
    drop(engine);
    result
}

// ---------------------------------------------------------------------------------------------
// The raw rusqlite baseline.

/// What a text value of a template row is made of: literal text and the ids that vary per request.
#[derive(Clone, Debug)]
enum Piece {
    Lit(String),
    RequestId,
    EligibilityId,
    Principal,
}

/// How to produce one column of a replayed row.
#[derive(Clone, Debug)]
enum Slot {
    Const(Value),
    /// Text containing ids of the request, its eligibility or its principal.
    Text(Vec<Piece>),
    /// A time: this many milliseconds after the request's processing time.
    Time(i64),
    /// The instance id, derived from the principal as the engine derives it.
    Instance {
        eligibility: bool,
    },
    /// One of the ids, as the store keeps a GUID: its 16 bytes (src/store/keys.rs).
    Guid(Piece),
}

/// One table's row, as an insert statement and the recipe of each parameter.
struct RowPlan {
    sql: String,
    slots: Vec<Slot>,
}

/// The ids and time of one request, in the template or in the replay.
struct Ids<'a> {
    request: &'a str,
    eligibility: &'a str,
    principal: &'a str,
    now: i64,
}

/// Times are milliseconds since 1970: anything past 2001 in a time-like column is one.
const TIMES_FROM: i64 = 1_000_000_000_000;

fn plan_row(table: &str, columns: &[String], values: &[Value], t: &Ids<'_>) -> RowPlan {
    let mut names = Vec::new();
    let mut slots = Vec::new();
    for (name, value) in columns.iter().zip(values) {
        if table == "audit" && name == "seq" {
            continue; // INTEGER PRIMARY KEY: assigned by SQLite, as for the engine.
        }
        let slot = match value {
            Value::Integer(n) if *n >= TIMES_FROM => Slot::Time(n - t.now),
            Value::Text(s) if name == "instance_id" => Slot::Instance { eligibility: s.ends_with("-e") },
            Value::Blob(b) if b.len() == 16 => [
                (t.request, Piece::RequestId),
                (t.eligibility, Piece::EligibilityId),
                (t.principal, Piece::Principal),
            ]
            .into_iter()
            .find(|(id, _)| guid_bytes(id) == Some(b.clone()))
            .map_or(Slot::Const(value.clone()), |(_, p)| Slot::Guid(p)),
            Value::Text(s) => Slot::Text(pieces(s, t)),
            other => Slot::Const(other.clone()),
        };
        names.push(name.clone());
        slots.push(slot);
    }
    let params: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    RowPlan {
        sql: format!("INSERT INTO {table} ({}) VALUES ({})", names.join(", "), params.join(", ")),
        slots,
    }
}

/// Splits `s` around every occurrence of the template's varying ids.
fn pieces(s: &str, t: &Ids<'_>) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        let next = [
            (t.request, Piece::RequestId),
            (t.eligibility, Piece::EligibilityId),
            (t.principal, Piece::Principal),
        ]
        .into_iter()
        .filter(|(id, _)| !id.is_empty())
        .filter_map(|(id, p)| rest.find(id).map(|at| (at, id.len(), p)))
        .min_by_key(|(at, _, _)| *at);
        match next {
            Some((at, len, p)) => {
                if at > 0 {
                    out.push(Piece::Lit(rest[..at].to_string()));
                }
                out.push(p);
                rest = &rest[at + len..];
            }
            None => {
                if !rest.is_empty() || out.is_empty() {
                    out.push(Piece::Lit(rest.to_string()));
                }
                return out;
            }
        }
    }
}

fn fill(plan: &RowPlan, ids: &Ids<'_>, out: &mut Vec<Value>) {
    out.clear();
    for slot in &plan.slots {
        out.push(match slot {
            Slot::Const(v) => v.clone(),
            Slot::Time(offset) => Value::Integer(ids.now + offset),
            Slot::Instance { eligibility } => Value::Text(role_assignment_id(
                HELPDESK_ADMINISTRATOR,
                ids.principal,
                Some("/"),
                *eligibility,
            )),
            Slot::Guid(p) => Value::Blob(
                guid_bytes(match p {
                    Piece::RequestId => ids.request,
                    Piece::EligibilityId => ids.eligibility,
                    _ => ids.principal,
                })
                .expect("a GUID"),
            ),
            Slot::Text(pieces) => {
                if let [Piece::Lit(s)] = pieces.as_slice() {
                    Value::Text(s.clone())
                } else {
                    let mut text = String::new();
                    for p in pieces {
                        text.push_str(match p {
                            Piece::Lit(s) => s,
                            Piece::RequestId => ids.request,
                            Piece::EligibilityId => ids.eligibility,
                            Piece::Principal => ids.principal,
                        });
                    }
                    Value::Text(text)
                }
            }
        });
    }
}

/// The three rows the engine wrote for one request: requests, schedules, audit.
struct Template {
    rows: Vec<RowPlan>,
}

/// A GUID's 16 bytes, as the store keeps it (src/store/keys.rs).
fn guid_bytes(id: &str) -> Option<Vec<u8>> {
    uuid::Uuid::parse_str(id).ok().filter(|u| u.to_string() == id).map(|u| u.as_bytes().to_vec())
}

fn read_row(conn: &Connection, sql: &str, key: &str) -> (Vec<String>, Vec<Value>) {
    let mut stmt = conn.prepare(sql).expect("template query");
    let columns: Vec<String> = stmt.column_names().map(|c| c.to_string()).collect();
    let values = stmt
        .query_row([key], |r| {
            (0..columns.len()).map(|i| r.get::<_, Value>(i)).collect::<rusqlite::Result<Vec<Value>>>()
        })
        .unwrap_or_else(|e| panic!("template row for {key} ({sql}): {e}"));
    (columns, values)
}

/// Lets the engine run one real cycle, then reads back the rows it wrote for each request.
fn capture_templates() -> (Template, Template) {
    let dir =
        tempfile::Builder::new().prefix("pimlab-bench-template-").tempdir().expect("a temporary directory");
    let path = dir.path().join("template.db");
    let (mut engine, admin, users) = tenant(&path, 1);
    let user = &users[0];
    let now = engine.now().expect("clock").timestamp_millis();
    let assign = submit(&mut engine, &admin, &assign_request(user));
    let activate = submit(&mut engine, &Session::new(user.clone()), &activate_request(user));
    drop(engine);

    let conn = Connection::open(&path).expect("reopen the template store");
    let template = |request: &str, eligibility: &str| {
        let ids = Ids { request, eligibility, principal: user, now };
        let rows = [
            // A GUID is kept as its 16 bytes.
            ("requests", "SELECT * FROM requests WHERE id = unhex(replace(?1, '-', ''))"),
            ("schedules", "SELECT * FROM schedules WHERE id = unhex(replace(?1, '-', ''))"),
            ("audit", "SELECT * FROM audit WHERE request_id = unhex(replace(?1, '-', ''))"),
        ]
        .into_iter()
        .map(|(table, sql)| {
            let (columns, values) = read_row(&conn, sql, request);
            plan_row(table, &columns, &values, &ids)
        })
        .collect();
        Template { rows }
    };
    (template(&assign, ""), template(&activate, &assign))
}

/// A random-looking GUID from a counter (splitmix64), like the engine's seeded ids.
fn guid(n: u64) -> String {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    let hi = mix(2 * n);
    let lo = mix(2 * n + 1);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_le_bytes());
    bytes[8..].copy_from_slice(&lo.to_le_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

fn child_raw(requests: usize, batched: bool) -> Vec<(&'static str, String)> {
    let (assign, activate) = capture_templates();

    let dir = tempfile::Builder::new().prefix("pimlab-bench-raw-").tempdir().expect("a temporary directory");
    let conn = Connection::open(dir.path().join("raw.db")).expect("open the raw store");
    // The pragmas of `Store::open`.
    conn.pragma_update(None, "journal_mode", "WAL").expect("WAL");
    conn.pragma_update(None, "synchronous", "NORMAL").expect("synchronous");
    conn.pragma_update(None, "foreign_keys", "ON").expect("foreign keys");
    conn.execute_batch(SCHEMA).expect("the pimlab schema");
    let rss_setup = status_kib("VmRSS");
    let reset = reset_peak();

    let start_ms = InitOptions::default().at.timestamp_millis();
    let mut values = Vec::new();
    let mut eligibility = String::new();
    let t = Instant::now();
    for n in 0..requests {
        let cycle = n / 2;
        let is_activation = n % 2 == 1;
        // A new principal per cycle keeps the unique live-instance index satisfied without
        // expiring anything (the engine expires; the baseline only inserts).
        let principal = guid(u64::MAX / 2 - cycle as u64);
        let request = guid(n as u64);
        let now = start_ms + (cycle / BATCH) as i64 * IsoDuration::from_hours(2).as_millis();
        let template = if is_activation { &activate } else { &assign };
        let ids = Ids { request: &request, eligibility: &eligibility, principal: &principal, now };
        // One transaction per request, or per GRAPH_BATCH requests when batched.
        let per_tx = if batched { GRAPH_BATCH } else { 1 };
        if n % per_tx == 0 {
            conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        }
        for row in &template.rows {
            fill(row, &ids, &mut values);
            conn.prepare_cached(&row.sql)
                .expect("prepare")
                .execute(params_from_iter(values.iter()))
                .expect("insert");
        }
        if n % per_tx == per_tx - 1 || n + 1 == requests {
            conn.execute_batch("COMMIT").expect("commit");
        }
        if !is_activation {
            eligibility = request;
        }
    }
    let insert = t.elapsed();
    let mut result = vec![("requests", requests.to_string()), ("insert_s", insert.as_secs_f64().to_string())];
    memory_fields(&mut result, rss_setup, reset);
    drop(conn);
    result
}
