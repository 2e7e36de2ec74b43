//! `cargo bench --bench who`: `who --could` over a large tenant, beside a raw-query baseline.
//!
//! # What is measured
//!
//! A tenant of 10,000 users in a temporary file store, made through the engine (not timed): 40
//! role-assignable groups of 50 members each (2,000 memberships outside PIM); 50,000 eligibility
//! schedules, five per user over ten directory roles (every even-numbered user is eligible for
//! Helpdesk Administrator), plus each group made eligible for one of the ten roles. Then, timed
//! (wall clock, best of several runs, each a fresh report with its own look-ups):
//!
//! - `who "Helpdesk Administrator" --could`: every holder (5,000 direct eligibilities and the 200
//!   members of the four groups eligible for it), each with its chain, window and obstacles (the
//!   role's policy, the default approvers, the hooks);
//! - `access` of one user (its five eligibilities and its group's).
//!
//! # The baseline
//!
//! In the same run, the same answer's rows read with plain rusqlite from the same store file: the
//! role's schedules whose window covers the time (the statement `schedules_covering` runs), and for
//! each group among their principals, its members (the memberships table and PIM memberships). No
//! names, policies or shapes: the cost of reading what the answer is made of. The ratio
//! engine/raw is what the report's look-ups and typing cost on top.
//!
//! First run (2 shared cores, 2026-12): 5,200 holders in 120 ms, the raw rows in 29 ms (4.1x).
//!
//! Performance is measured, never asserted: a figure above the aim (one second) prints `ABOVE`.

mod common;

use common::*;

use std::time::{Duration, Instant};

use pimlab::engine::NewObject;
use pimlab::model::PrincipalKind;
use pimlab::model::builtin_roles::BUILTIN_ROLES;
use pimlab::model::time::to_millis;
use pimlab::report::{Place, WhoQuery};
use rusqlite::Connection;

const USERS: usize = 10_000;
const PER_USER: usize = 5;
const ROLES: usize = 10;
const GROUPS: usize = 40;
const GROUP_SIZE: usize = 50;
const RUNS: usize = 5;
const AIM: Duration = Duration::from_secs(1);

/// Ten directory roles to spread eligibilities over: Helpdesk Administrator first, then
/// unprivileged readers and administrators (never Global Administrator, whose last holder is kept).
fn roles() -> Vec<&'static str> {
    let mut out = vec![HELPDESK_ADMINISTRATOR];
    out.extend(
        BUILTIN_ROLES
            .iter()
            .filter(|r| r.id != HELPDESK_ADMINISTRATOR && r.display_name != "Global Administrator")
            .map(|r| r.id)
            .take(ROLES - 1),
    );
    out
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("who.db");
    let setup = Instant::now();
    let (mut engine, admin, users) = tenant(&path, USERS);
    let roles = roles();
    let mut groups = Vec::new();
    engine
        .batch(|e| {
            for g in 0..GROUPS {
                let group = e
                    .create_object(
                        &admin,
                        NewObject {
                            kind: Some(PrincipalKind::Group),
                            display_name: format!("Bench Group {g:02}"),
                            is_assignable_to_role: true,
                            security_enabled: true,
                            ..NewObject::default()
                        },
                    )
                    .expect("create a group");
                for m in &users[g * GROUP_SIZE..(g + 1) * GROUP_SIZE] {
                    e.add_member(&admin, &group.id, m, "member").expect("add a member");
                }
                e.submit(&admin, &eligibility(&group.id, roles[g % ROLES])).expect("a group's eligibility");
                groups.push(group.id);
            }
        })
        .expect("the groups");
    for (chunk, block) in users.chunks(500).enumerate() {
        engine
            .batch(|e| {
                for (i, user) in block.iter().enumerate() {
                    let n = chunk * 500 + i;
                    for k in 0..PER_USER {
                        let role = roles[(n + k * 2) % ROLES];
                        let made = e.submit(&admin, &eligibility(user, role)).expect("an eligibility");
                        assert_eq!(made.status, pimlab::model::Status::Provisioned);
                    }
                }
            })
            .expect("a batch of eligibilities");
    }
    println!(
        "who: {USERS} users, {} schedules, {GROUPS} groups of {GROUP_SIZE}; set up in {:.1} s",
        USERS * PER_USER + GROUPS,
        setup.elapsed().as_secs_f64()
    );

    let now = engine.now().expect("the clock");
    let q = WhoQuery {
        role: HELPDESK_ADMINISTRATOR.into(),
        place: Place::Directory(Some("/".into())),
        at: None,
        could: true,
    };
    let (who, holders) = best(RUNS, || pimlab::report::who(&mut engine, &q).expect("who").holders.len());
    let (access, holdings) =
        best(RUNS, || pimlab::report::access(&mut engine, &users[0], None).expect("access").holdings.len());

    let db = Connection::open(&path).expect("open the store read-only");
    let (raw, raw_rows) = best(RUNS, || raw_who(&db, HELPDESK_ADMINISTRATOR, to_millis(now)));
    assert!(raw_rows >= holders, "the baseline reads at least the rows the report shows");

    let verdict = |d: Duration| if d <= AIM { "ok" } else { "ABOVE" };
    println!(
        "who --could Helpdesk Administrator: {holders} holders in {} ({}; aim < 1 s) | raw query baseline: {raw_rows} rows in {} | engine/raw {:.1}x",
        ms(who),
        verdict(who),
        ms(raw),
        who.as_secs_f64() / raw.as_secs_f64().max(1e-9)
    );
    println!("access of one user: {holdings} holdings in {} ({})", ms(access), verdict(access));
}

/// The rows `who --could` is made of, with plain SQL: the role's schedules covering `at`, and the
/// members of each group among their principals.
fn raw_who(db: &Connection, role: &str, at: i64) -> usize {
    // The store keeps a GUID as its 16 bytes (src/store/keys.rs) and a state or surface as its
    // number (src/store/codes.rs); memberships keep their ids as text.
    let mut schedules = db
        .prepare_cached(
            "SELECT principal_id FROM schedules WHERE role_definition_id = unhex(replace(?1, '-', '')) AND start_at <= ?2
               AND (end_at IS NULL OR end_at > ?2) AND (state = 1 OR ended_at > ?2)",
        )
        .expect("prepare");
    let principals: Vec<Vec<u8>> = schedules
        .query_map(rusqlite::params![role, at], |r| r.get(0))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect();
    let mut members = db
        .prepare_cached(
            "SELECT member_id FROM memberships WHERE container_id = ?1 AND relation = 'member'
             UNION SELECT lower(hex(principal_id)) FROM schedules WHERE surface = 1 AND state = 1
               AND directory_scope_id = ?2 AND role_definition_id = 'member'",
        )
        .expect("prepare");
    let mut rows = 0;
    for p in &principals {
        let hex: String = p.iter().map(|b| format!("{b:02x}")).collect();
        let text = format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]);
        let n =
            members.query_map(rusqlite::params![text, p], |r| r.get::<_, String>(0)).expect("query").count();
        rows += if n == 0 { 1 } else { n };
    }
    rows
}
