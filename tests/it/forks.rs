//! `fork`, `diff` and `whatif`: a fork is a consistent copy while another connection writes
//! (committed rows still in the WAL in, uncommitted ones out) and never overwrites; the privilege
//! diff on a scenario with known answers (a gain through a group chain, a loss by expiry, an
//! Azure role gained at a parent scope, an activation waiting for approval that is no privilege
//! yet), as text and JSON; `whatif` leaves its store byte for byte as it was; and a generator:
//! diff(A, A) is empty and diff(A, B)'s gains are diff(B, A)'s losses.

use serde_json::Value;

use crate::harness::cli::{Lab, bytes_of};
use crate::harness::s;

const NEW_NAME: &str = "Committed In The WAL";
const DRAFT_NAME: &str = "Never Committed";

/// Renames user `upn` in the store with SQL, in the writer's own transaction.
fn rename(c: &rusqlite::Connection, upn: &str, name: &str) {
    let n = c
        .execute("UPDATE directory_objects SET display_name = ?2 WHERE user_principal_name = ?1", [upn, name])
        .unwrap();
    assert_eq!(n, 1, "{upn} is in the demo tenant");
}

#[test]
fn a_fork_has_what_was_committed_even_in_the_wal_and_nothing_uncommitted() {
    let lab = Lab::demo();
    // A writer that never checkpoints: its committed change stays in the WAL.
    let writer = rusqlite::Connection::open(&lab.db).unwrap();
    writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    rename(&writer, "ben@contoso.example", NEW_NAME);
    let wal = lab.path("t.db-wal");
    assert!(std::fs::metadata(&wal).map(|m| m.len() > 0).unwrap_or(false), "the change sits in the WAL");
    // A second writer holds uncommitted work while the fork is made by another process.
    let drafting = rusqlite::Connection::open(&lab.db).unwrap();
    drafting.execute_batch("BEGIN IMMEDIATE").unwrap();
    rename(&drafting, "chloe@contoso.example", DRAFT_NAME);
    let before = lab.dump();

    lab.run(&["fork", "f.db"]).ok().out_has("Forked tenant").out_has("f.db");
    drafting.execute_batch("ROLLBACK").unwrap();

    let fork = |args: &[&str]| {
        let mut all = vec!["--db", "f.db"];
        all.extend_from_slice(args);
        crate::harness::cli::run_in(lab.dir.path(), &all)
    };
    fork(&["user", "show", "ben"]).ok().out_has(NEW_NAME);
    fork(&["user", "list"]).ok().out_lacks(DRAFT_NAME);
    // The fork is a store of its own: it works, and what happens there stays there.
    fork(&[
        "activate",
        "--as",
        "alice",
        "-r",
        "Global Administrator",
        "-j",
        "fork drill",
        "--duration",
        "1h",
    ])
    .ok();
    fork(&["who", "Global Administrator"]).ok().out_has("alice@contoso.example");
    lab.run(&["who", "Global Administrator"]).ok().out_lacks("alice@contoso.example");
    assert_eq!(lab.dump(), before, "the original is as it was");
    lab.run(&["user", "show", "ben"]).ok().out_has(NEW_NAME);
}

#[test]
fn a_fork_never_overwrites_and_scripts_cannot_fork_or_diff() {
    let lab = Lab::demo();
    std::fs::write(lab.path("taken.db"), b"someone's file").unwrap();
    lab.fails_untouched(&["fork", "taken.db"]).err_has("PimlabForkTargetExists").err_has("taken.db exists");
    assert_eq!(std::fs::read(lab.path("taken.db")).unwrap(), b"someone's file");
    // A stale write-ahead log beside a free name would be read into the new store.
    std::fs::write(lab.path("stale.db-wal"), b"old log").unwrap();
    lab.fails_untouched(&["fork", "stale.db"]).err_has("write-ahead log");
    assert!(!lab.path("stale.db").exists());

    let script = lab.file("sneaky", "pim.run('fork sneaky.db')");
    lab.fails_untouched(&["run", &script]).err_has("scripts cannot fork");
    assert!(!lab.path("sneaky.db").exists());
    let script = lab.file("peek", "pim.run('diff t.db t.db')");
    lab.fails_untouched(&["run", &script]).err_has("scripts cannot diff");
}

#[test]
fn diff_refuses_stores_of_different_tenants_naming_both_and_files_that_are_no_store() {
    let lab = Lab::demo();
    let other = Lab::demo_seeded("8");
    std::fs::copy(&other.db, lab.path("other.db")).unwrap();
    let ours = s(&lab.run(&["--json", "diff", "t.db", "t.db"]).ok().json()["a"]["tenantId"]);
    let theirs = s(&lab.run(&["--json", "diff", "other.db", "other.db"]).ok().json()["a"]["tenantId"]);
    assert_ne!(ours, theirs);
    lab.run(&["diff", "t.db", "other.db"]).err_has("PimlabDifferentTenants").err_has(&ours).err_has(&theirs);
    lab.run(&["diff", "t.db", "missing.db"]).err_has("there is no store at missing.db");
    assert!(!lab.path("missing.db").exists(), "diff creates no store");
    lab.run(&["diff", "t.db", "t.db", "--over", "soon"]).usage();
}

/// The demo organisation, forked to `b.db`; then, in the fork: the role-assignable group
/// "Night Shift" (members ben and emma) assigned Security Reader for a day, isla eligible for
/// Owner at the Contoso Production subscription, and alice's activation of Global Administrator
/// waiting for approval; in the original: lena's day of User Administrator extended by a week
/// (the fork lets it expire).
fn forked() -> Lab {
    let lab = Lab::demo();
    lab.run(&[
        "active",
        "assign",
        "-p",
        "lena",
        "-r",
        "User Administrator",
        "--duration",
        "P1D",
        "-j",
        "cover",
    ])
    .ok();
    lab.run(&["fork", "b.db"]).ok();
    let b = |args: &[&str]| {
        let mut all = vec!["--db", "b.db"];
        all.extend_from_slice(args);
        crate::harness::cli::run_in(lab.dir.path(), &all).ok();
    };
    b(&["group", "add", "Night Shift", "--role-assignable"]);
    b(&["group", "add-member", "Night Shift", "ben"]);
    b(&["group", "add-member", "Night Shift", "emma"]);
    b(&[
        "active",
        "assign",
        "-p",
        "Night Shift",
        "-r",
        "Security Reader",
        "--duration",
        "P1D",
        "-j",
        "nights",
    ]);
    b(&[
        "eligible",
        "assign",
        "-p",
        "isla",
        "-r",
        "Owner",
        "--scope",
        "Contoso Production",
        "--duration",
        "P90D",
        "-j",
        "on call",
    ]);
    b(&["policy", "set", "Global Administrator", "--require-approval", "true"]);
    b(&["activate", "--as", "alice", "-r", "Global Administrator", "-j", "change 12", "--duration", "1h"]);
    lab.run(&[
        "active",
        "extend",
        "-p",
        "lena",
        "-r",
        "User Administrator",
        "--duration",
        "P8D",
        "-j",
        "still covering",
    ])
    .ok();
    lab
}

/// `(gain/loss, principal without domain, role, holds, from, until)` of each change.
fn changes(d: &Value) -> Vec<(String, String, String, String, String, String)> {
    d["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("no changes in {d}"))
        .iter()
        .map(|c| {
            let p = &c["privilege"];
            let who = s(&p["principal"]["name"]);
            (
                s(&c["direction"]),
                who.split('@').next().unwrap_or_default().to_string(),
                s(&p["role"]["name"]),
                s(&p["holds"]),
                s(&c["from"]),
                c["until"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

fn change(
    d: &str,
    who: &str,
    role: &str,
    holds: &str,
    from: &str,
    until: &str,
) -> (String, String, String, String, String, String) {
    (d.into(), who.into(), role.into(), holds.into(), from.into(), until.into())
}

const T0: &str = "2025-01-06T09:00:00Z";
const T1: &str = "2025-01-07T09:00:00Z";

#[test]
fn diff_names_who_gains_and_loses_what_when_and_why() {
    let lab = forked();
    let d = lab.run(&["--json", "diff", "t.db", "b.db", "--over", "P3D"]).ok().json();
    assert_eq!(
        changes(&d),
        vec![
            // The group holds the role itself, and each of its members through it.
            change("gain", "Night Shift", "Security Reader", "active", T0, T1),
            change("gain", "ben", "Security Reader", "active", T0, T1),
            change("gain", "emma", "Security Reader", "active", T0, T1),
            change("gain", "isla", "Owner", "eligible", T0, "-"),
            change("loss", "lena", "User Administrator", "active", T1, "-"),
        ]
    );
    // Through the group: the chain names it, and the why is the group's assignment in the fork.
    let ben = &d["changes"][1];
    assert_eq!(ben["via"][0]["group"]["group"]["name"], "Night Shift");
    let whys: Vec<String> = ben["because"].as_array().unwrap().iter().map(|r| s(&r["activity"])).collect();
    assert!(whys.iter().any(|a| a.contains("Add member to role")), "{whys:?}");
    assert!(ben["because"].as_array().unwrap().iter().all(|r| r["store"] == "b"));
    // The Azure role is held where it was granted: the subscription, and everything below it.
    assert!(s(&d["changes"][3]["privilege"]["scope"]["id"]).starts_with("/subscriptions/"));
    assert_eq!(d["changes"][3]["privilege"]["scope"]["name"], "Contoso Production");
    // Lena's loss is the original's extension (the fork let the day run out).
    let lena = &d["changes"][4]["because"];
    assert!(
        lena.as_array().unwrap().iter().any(|r| r["store"] == "a" && r["request"]["action"] == "adminExtend"),
        "{lena}"
    );
    // Alice's activation waits for approval in the fork: no privilege, but named.
    assert_eq!(d["waiting"].as_array().unwrap().len(), 1);
    assert_eq!(d["waiting"][0]["store"], "b");
    assert_eq!(d["waiting"][0]["status"], "PendingApproval");
    assert!(!changes(&d).iter().any(|c| c.1 == "alice"), "a request waiting is not a privilege");

    // At one instant only: what differs then, with no end.
    let now = lab.run(&["--json", "diff", "t.db", "b.db"]).ok().json();
    assert_eq!(now["until"], Value::Null);
    assert_eq!(changes(&now).len(), 4, "lena still holds the role in both at {T0}");
    let later = lab.run(&["--json", "diff", "t.db", "b.db", "--at", "2025-01-08T00:00:00Z"]).ok().json();
    assert_eq!(
        changes(&later),
        vec![
            change("gain", "isla", "Owner", "eligible", "2025-01-08T00:00:00Z", "-"),
            change("loss", "lena", "User Administrator", "active", "2025-01-08T00:00:00Z", "-"),
        ]
    );
}

#[test]
fn requests_waiting_in_each_store_are_told_apart_even_when_the_seed_gave_them_one_id() {
    let lab = Lab::demo();
    lab.run(&["policy", "set", "Privileged Role Administrator", "--require-approval", "true"]).ok();
    lab.run(&["fork", "b.db"]).ok();
    let activate = ["activate", "-r", "Privileged Role Administrator", "-j", "waiting", "--duration", "1h"];
    lab.run(&[&["--as", "alice"][..], &activate].concat()).ok();
    let mut in_b = vec!["--db", "b.db", "--as", "dev"];
    in_b.extend_from_slice(&activate);
    crate::harness::cli::run_in(lab.dir.path(), &in_b).ok();
    let d = lab.run(&["--json", "diff", "t.db", "b.db"]).ok().json();
    let waiting: Vec<(String, String)> = d["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (s(&w["store"]), s(&w["principal"]["name"])))
        .collect();
    assert_eq!(
        waiting,
        [
            ("a".to_string(), "alice@contoso.example".to_string()),
            ("b".to_string(), "dev@contoso.example".to_string())
        ]
    );
    assert!(changes(&d).is_empty(), "nothing waiting is a privilege");
}

#[test]
fn diff_reads_as_a_table_and_a_story_and_as_json() {
    let lab = forked();
    let text = [
        lab.run(&["diff", "t.db", "b.db", "--over", "P3D"]).ok().stdout,
        lab.run(&["diff", "t.db", "t.db"]).ok().stdout,
    ]
    .join("\n");
    insta::assert_snapshot!(text);
    insta::assert_json_snapshot!(
        "diff_over_three_days",
        lab.run(&["--json", "diff", "t.db", "b.db", "--over", "P3D"]).ok().json()
    );
}

const SCENARIO: &str = r#"
-- An incident: alice is made Global Administrator for two hours, then the clock moves on.
pim.active.assign{principal = "alice", role = "Global Administrator", duration = "PT2H", justification = "incident 42"}
pim.clock.advance("PT4H")
print("drill over")
"#;

#[test]
fn whatif_shows_what_a_scenario_would_change_and_changes_nothing() {
    let lab = Lab::demo();
    let script = lab.file("drill", SCENARIO);
    // The bytes as pimlab leaves them (a reader through rusqlite leaves an empty WAL file behind).
    let audit = lab.run(&["audit"]).ok().stdout;
    let bytes = lab.bytes();
    let dump = lab.dump();
    // The store named as a user names it (relative), so that the snapshot is the same everywhere.
    let run = crate::harness::cli::run_in(lab.dir.path(), &["--db", "t.db", "whatif", &script])
        .ok()
        .out_has("drill over");
    assert_eq!(lab.bytes(), bytes, "the store's files are byte for byte as they were");
    assert_eq!(lab.run(&["audit"]).ok().stdout, audit);
    assert_eq!(lab.dump(), dump);
    insta::assert_snapshot!(run.stdout);

    // With --json, stdout is the diff alone; what the script prints goes to stderr.
    let run = lab.run(&["--json", "whatif", &script]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stderr.contains("drill over"), "{run}");
    let d = run.json();
    assert_eq!(
        changes(&d),
        vec![change("gain", "alice", "Global Administrator", "active", T0, "2025-01-06T11:00:00Z")]
    );
    assert_eq!(d["until"], "2025-01-06T13:00:00Z", "over the period the scenario moved the clock through");
    assert_eq!(d["changes"][0]["because"][0]["reason"], "incident 42");
}

#[test]
fn whatif_reports_a_failing_script_as_run_does_and_changes_nothing() {
    let lab = Lab::demo();
    let script = lab.file("broken", "pim.active.assign{principal = 'alice', role = 'Global Administrator', permanent = true, justification = 'x'}\nerror('stop here')");
    let bytes = lab.bytes();
    let run = lab.run(&["whatif", &script]);
    assert_eq!(run.code, 1, "{run}");
    // The same script run by `pimlab run` on a new tenant like the lab's (not on the lab's store).
    let ran = crate::harness::cli::run_in(
        lab.dir.path(),
        &["run", &script, "--demo", "--seed", "7", "--at", crate::harness::AT],
    );
    assert_eq!(ran.stderr, run.stderr, "reported as `pimlab run` reports it");
    assert!(run.stderr.contains("stop here"), "{run}");
    // What it did before it failed is shown, and dropped with the fork.
    assert!(run.stdout.contains("alice@contoso.example"), "{run}");
    assert_eq!(lab.bytes(), bytes);
    let script = lab.file("nofork", "pim.run('fork inner.db')");
    lab.run(&["whatif", &script]).err_has("scripts cannot fork");
    assert!(!lab.path("inner.db").exists());
    assert_eq!(bytes_of(&lab.db), bytes);
    crate::harness::cli::run_in(lab.dir.path(), &["--db", "missing.db", "whatif", &script])
        .err_has("there is no store at missing.db");
    assert!(!lab.path("missing.db").exists(), "whatif creates no store");
}

// ---------------------------------------------------------------------------------------------
// The generator: a store against itself differs in nothing, and B's gains against A are A's
// losses against B, after random steps in each
// ---------------------------------------------------------------------------------------------

mod symmetry {
    use proptest::prelude::*;

    use pimlab::cli::shell::Shell;
    use pimlab::engine::{Engine, InitOptions};
    use pimlab::report::{DiffQuery, Direction, Over, PrivilegeDiff, privilege_diff};

    const USERS: [&str; 5] = ["alice", "ben", "chloe", "dev", "Tier-0 Admins"];
    const ROLES: [&str; 3] = ["Global Administrator", "Security Reader", "Privileged Role Administrator"];

    /// One step as command-line words.
    fn step() -> impl Strategy<Value = Vec<String>> {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<String>>();
        prop_oneof![
            (0..USERS.len(), 0..ROLES.len(), 1..48u32).prop_map(move |(u, r, h)| words(&[
                "active",
                "assign",
                "-p",
                USERS[u],
                "-r",
                ROLES[r],
                "--duration",
                &format!("PT{h}H"),
                "-j",
                "gen"
            ])),
            (0..USERS.len(), 0..ROLES.len()).prop_map(move |(u, r)| words(&[
                "eligible",
                "assign",
                "-p",
                USERS[u],
                "-r",
                ROLES[r],
                "--duration",
                "P10D",
                "-j",
                "gen"
            ])),
            (0..USERS.len(), 0..ROLES.len()).prop_map(move |(u, r)| words(&[
                "activate",
                "--as",
                USERS[u],
                "-r",
                ROLES[r],
                "--duration",
                "PT2H",
                "-j",
                "gen"
            ])),
            (0..USERS.len(), 0..ROLES.len()).prop_map(move |(u, r)| words(&[
                "active", "remove", "-p", USERS[u], "-r", ROLES[r], "-j", "gen"
            ])),
            (1..30u32).prop_map(move |h| words(&["clock", "advance", &format!("PT{h}H")])),
        ]
    }

    fn play(engine: Engine, steps: &[Vec<String>]) -> Shell {
        let mut shell = Shell::over(engine, "generated");
        for words in steps {
            // A refused step is part of the scenario too.
            shell.run_words(words, &mut std::io::sink(), &mut std::io::sink());
        }
        shell
    }

    /// `(principal, role, scope, holds, from, until)` of each change in `direction`.
    fn keyed(d: &PrivilegeDiff, direction: Direction) -> Vec<String> {
        let mut v: Vec<String> = d
            .changes
            .iter()
            .filter(|c| c.direction == direction)
            .map(|c| {
                let p = &c.privilege;
                format!(
                    "{} {} {} {:?} {:?} {:?}",
                    p.principal.id, p.role.id, p.scope.id, p.holds, c.from, c.until
                )
            })
            .collect();
        v.sort();
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
        #[test]
        fn diff_is_empty_against_itself_and_gains_mirror_losses(
            a_steps in proptest::collection::vec(step(), 0..6),
            b_steps in proptest::collection::vec(step(), 0..6),
        ) {
            let mut base = Engine::in_memory().unwrap();
            base.init(&InitOptions { demo: true, ..InitOptions::default() }).unwrap();
            let mut a = play(base.fork_in_memory().unwrap(), &a_steps);
            let mut b = play(base.fork_in_memory().unwrap(), &b_steps);
            let week = DiffQuery { at: None, over: Some(Over::For(pimlab::model::IsoDuration::parse("P7D").unwrap())) };

            let mut a_again = a.engine().fork_in_memory().unwrap();
            let same = privilege_diff(("a", a.engine()), ("a again", &mut a_again), &week).unwrap();
            prop_assert!(same.is_empty(), "{:?}", same.changes);

            let ab = privilege_diff(("a", a.engine()), ("b", b.engine()), &week).unwrap();
            let ba = privilege_diff(("b", b.engine()), ("a", a.engine()), &week).unwrap();
            prop_assert_eq!(keyed(&ab, Direction::Gain), keyed(&ba, Direction::Loss));
            prop_assert_eq!(keyed(&ab, Direction::Loss), keyed(&ba, Direction::Gain));
            prop_assert_eq!(ab.waiting.len(), ba.waiting.len());
        }
    }
}
