//! `cargo bench --bench import`: how fast `pimlab import` brings a directory and its role
//! eligibilities in from CSV.
//!
//! # What is measured
//!
//! A new tenant (seed fixed, default simulated start, no demo data) in a temporary file store
//! imports four CSV files the bench writes first: 10,000 users; 2,000 groups; 20,000
//! memberships (every user in two groups, every tenth membership an ownership); 10,000
//! eligibilities (every user eligible for Helpdesk Administrator for `P90D`, with a
//! justification). The figure is the wall-clock time of one `exchange::import::run`: reading and
//! checking the files, resolving every name, and writing every row through the engine in one
//! transaction, commit included. The phases the import reports through `Progress` are timed too
//! (reading and planning is the time before the first phase).
//!
//! The import must report exactly those counts and the store must then hold them (users,
//! groups, members of a sample group, eligibilities), or the bench panics: numbers are only
//! printed for a workload that really ran. Performance is measured, never asserted: a time
//! above the aim prints `ABOVE AIM`, and the process still succeeds.
//!
//! # The baseline, and why it is fair
//!
//! In the same run, every row the engine's store holds after the import (the tenant's own rows
//! included, which are few) is read back and inserted, table by table and column for column,
//! into a new file created from the same `schema.sql` with the pragmas of `Store::open`, with
//! plain rusqlite: one transaction, one cached prepared statement per table. That is the cost of
//! the writes the import cannot avoid (the same rows, the same indexes); the ratio engine/raw is
//! what parsing, resolving, the engine's checks, policies, id generation and audit rows cost on
//! top.
//!
//! Each measurement runs in its own process (`--child engine DIR` and `--child raw DIR`, which
//! can be run alone for a profiler); the sizes can be changed with `PIMLAB_BENCH_IMPORT_USERS`
//! (groups, memberships and eligibilities follow in the same proportions).

mod common;

use common::*;

use std::cell::RefCell;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use pimlab::engine::{Engine, InitOptions, Session};
use pimlab::exchange::Progress;
use pimlab::exchange::import::{ImportOptions, run};
use pimlab::model::{PrincipalKind, RequestKind};
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, params_from_iter};

const SCHEMA: &str = include_str!("../schema.sql");
const USERS: usize = 10_000;
const AIM_SECONDS: f64 = 10.0;

/// The sizes of one run, from the number of users.
struct Sizes {
    users: usize,
    groups: usize,
    memberships: usize,
}

impl Sizes {
    fn of(users: usize) -> Sizes {
        Sizes { users, groups: (users / 5).max(1), memberships: users * 2 }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().position(|a| a == "--child") {
        Some(i) => {
            let what = args.get(i + 1).map(String::as_str);
            let dir = PathBuf::from(args.get(i + 2).expect("--child engine|raw DIR"));
            let result = match what {
                Some("engine") => child_engine(&dir),
                Some("raw") => child_raw(&dir),
                _ => panic!("--child engine|raw DIR"),
            };
            let line: Vec<String> = result.iter().map(|(k, v)| format!("{k}={v}")).collect();
            println!("RESULT {}", line.join(" "));
        }
        None => parent(),
    }
}

fn users_from_env() -> usize {
    std::env::var("PIMLAB_BENCH_IMPORT_USERS")
        .ok()
        .and_then(|v| v.replace(['_', ','], "").parse().ok())
        .unwrap_or(USERS)
}

fn parent() {
    let sizes = Sizes::of(users_from_env());
    let dir =
        tempfile::Builder::new().prefix("pimlab-bench-import-").tempdir().expect("a temporary directory");
    let path = dir.path().display().to_string();
    println!(
        "pimlab import bench: {} users, {} groups, {} memberships, {} eligibilities from CSV into a new tenant (seed {SEED}), each measurement in its own process",
        int(sizes.users as u64),
        int(sizes.groups as u64),
        int(sizes.memberships as u64),
        int(sizes.users as u64)
    );
    println!("stores and files under {path}");
    let engine = run_child(&["engine", &path]);
    let raw = run_child(&["raw", &path]);
    let import_s: f64 = get(&engine, "import_s");
    let raw_s: f64 = get(&raw, "insert_s");
    let rows: u64 = get(&raw, "rows");
    println!();
    println!("{:<44} {:>9} {:>14}", "measurement", "seconds", "rows/s");
    println!(
        "{:<44} {:>9.2} {:>14}",
        "engine: pimlab import (whole, commit included)",
        import_s,
        int((rows as f64 / import_s) as u64)
    );
    for (key, label) in [
        ("read_s", "  reading, checking, resolving names"),
        ("users_s", "  users"),
        ("groups_s", "  groups"),
        ("memberships_s", "  memberships"),
        ("role_assignments_s", "  eligibilities (admin requests)"),
        ("commit_s", "  commit"),
    ] {
        println!("{:<44} {:>9.2}", label, get::<f64>(&engine, key));
    }
    println!(
        "{:<44} {:>9.2} {:>14}",
        "raw: rusqlite inserts of the same rows",
        raw_s,
        int((rows as f64 / raw_s) as u64)
    );
    println!();
    println!("rows in the store afterwards: {} (every table)", int(rows));
    println!("engine / raw: {:.1}x the time of the bare inserts", import_s / raw_s);
    let verdict = if import_s <= AIM_SECONDS { "within aim" } else { "ABOVE AIM" };
    println!("aim: the whole import under {AIM_SECONDS:.0} s: {import_s:.2} s, {verdict}");
}

/// Writes the bench's four files into `dir`.
fn write_files(dir: &Path, sizes: &Sizes) -> Vec<PathBuf> {
    let mut users = String::from("userPrincipalName,displayName,mail\n");
    for i in 0..sizes.users {
        writeln!(users, "{},{},", user_principal_name(i), user_name(i)).unwrap();
    }
    let mut groups = String::from("displayName,description,isAssignableToRole\n");
    for g in 0..sizes.groups {
        writeln!(groups, "Bench Group {g:05},\"Team {g}, imported\",{}", g % 10 == 0).unwrap();
    }
    let mut memberships = String::from("group,member,relation\n");
    for m in 0..sizes.memberships {
        let (user, group) = (m % sizes.users, (m * 7 + m / sizes.users) % sizes.groups);
        let relation = if m % 10 == 9 { "owner" } else { "member" };
        writeln!(memberships, "Bench Group {group:05},{},{relation}", user_principal_name(user)).unwrap();
    }
    let mut assignments = String::from("principal,role,type,duration,justification\n");
    for i in 0..sizes.users {
        writeln!(
            assignments,
            "{},Helpdesk Administrator,eligible,P90D,{ASSIGN_JUSTIFICATION}",
            user_principal_name(i)
        )
        .unwrap();
    }
    let mut paths = Vec::new();
    for (name, text) in [
        ("users.csv", users),
        ("groups.csv", groups),
        ("memberships.csv", memberships),
        ("assignments.csv", assignments),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write a bench file");
        paths.push(path);
    }
    paths
}

/// Notes when each phase of the import starts and ends.
struct Clock {
    start: Instant,
    marks: RefCell<Vec<(String, f64, f64)>>,
}

impl Progress for Clock {
    fn start(&self, phase: &str, _total: u64) {
        let t = self.start.elapsed().as_secs_f64();
        self.marks.borrow_mut().push((phase.replace(' ', "_"), t, t));
    }
    fn advance(&self, _n: u64) {}
    fn finish(&self) {
        if let Some(last) = self.marks.borrow_mut().last_mut() {
            last.2 = self.start.elapsed().as_secs_f64();
        }
    }
}

fn child_engine(dir: &Path) -> Vec<(String, String)> {
    let sizes = Sizes::of(users_from_env());
    let files = write_files(dir, &sizes);
    let mut engine = Engine::open(&dir.join("engine.db")).expect("open the bench store");
    engine.init(&InitOptions { seed: SEED, ..InitOptions::default() }).expect("init the tenant");
    let admin = Session::new(engine.default_caller().expect("default caller"));
    let users_before = engine.objects(PrincipalKind::User).expect("users").len();

    let clock = Clock { start: Instant::now(), marks: RefCell::new(Vec::new()) };
    let mut summary = Vec::new();
    let options = ImportOptions { paths: &files, dry_run: false, progress: &clock };
    run(&mut engine, &admin, &options, &mut summary).expect("the bench import succeeds");
    let import_s = clock.start.elapsed().as_secs_f64();

    let summary = String::from_utf8(summary).expect("utf-8 summary");
    let owners = sizes.memberships / 10;
    for (what, n) in [
        ("users", sizes.users),
        ("groups", sizes.groups),
        ("group members", sizes.memberships - owners),
        ("group owners", owners),
        ("eligible assignments", sizes.users),
    ] {
        assert!(
            summary
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>().join(" ") == format!("{what} {n}")),
            "the summary lacks {what} {n}:\n{summary}"
        );
    }
    assert_eq!(engine.objects(PrincipalKind::User).expect("users").len(), users_before + sizes.users);
    assert_eq!(engine.objects(PrincipalKind::Group).expect("groups").len(), sizes.groups);
    let eligible =
        engine.schedules(RequestKind::Eligibility, None, Some(HELPDESK_ADMINISTRATOR)).expect("schedules");
    assert_eq!(eligible.len(), sizes.users, "every user is eligible");

    let marks = clock.marks.into_inner();
    let mut result = vec![("import_s".to_string(), import_s.to_string())];
    result.push(("read_s".into(), marks.first().map_or(import_s, |m| m.1).to_string()));
    for (phase, from, to) in &marks {
        result.push((format!("{phase}_s"), (to - from).to_string()));
    }
    result.push(("commit_s".into(), (import_s - marks.last().map_or(0.0, |m| m.2)).to_string()));
    result
}

fn child_raw(dir: &Path) -> Vec<(String, String)> {
    // Everything the engine's store holds, read into memory first: only the inserts are timed.
    let source = Connection::open_with_flags(dir.join("engine.db"), OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the engine's store");
    let tables: Vec<String> = source
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
        )
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("the store's tables");
    let mut data: Vec<(String, usize, Vec<Vec<Value>>)> = Vec::new();
    for table in &tables {
        let mut stmt = source.prepare(&format!("SELECT * FROM \"{table}\"")).expect("select");
        let columns = stmt.column_count();
        let rows = stmt
            .query_map([], |r| (0..columns).map(|i| r.get::<_, Value>(i)).collect())
            .and_then(|rows| rows.collect::<Result<Vec<Vec<Value>>, _>>())
            .expect("read rows");
        data.push((table.clone(), columns, rows));
    }
    drop(source);

    let conn = Connection::open(dir.join("raw.db")).expect("open the raw store");
    // The pragmas of `Store::open`.
    conn.pragma_update(None, "journal_mode", "WAL").expect("WAL");
    conn.pragma_update(None, "synchronous", "NORMAL").expect("synchronous");
    conn.pragma_update(None, "cache_size", -65_536).expect("cache size");
    conn.pragma_update(None, "foreign_keys", "ON").expect("foreign keys");
    conn.execute_batch(SCHEMA).expect("the pimlab schema");

    let mut rows = 0u64;
    let t = Instant::now();
    conn.execute_batch("BEGIN IMMEDIATE; PRAGMA defer_foreign_keys = ON").expect("begin");
    for (table, columns, table_rows) in &data {
        let marks = vec!["?"; *columns].join(", ");
        let mut insert =
            conn.prepare_cached(&format!("INSERT INTO \"{table}\" VALUES ({marks})")).expect("prepare");
        for row in table_rows {
            insert.execute(params_from_iter(row.iter())).expect("insert");
            rows += 1;
        }
    }
    conn.execute_batch("COMMIT").expect("commit");
    let insert_s = t.elapsed().as_secs_f64();
    vec![("rows".into(), rows.to_string()), ("insert_s".into(), insert_s.to_string())]
}
