//! The `pimlab` binary end to end: every command of the README's table run as a real process,
//! checking stdout, stderr and the exit code (0 success; 1 when the service refuses, with
//! `error: <Code> (HTTP <status>): <message>` on stderr; 2 when the command line is wrong).
//!
//! Every test works in its own temporary directory (also the process's working directory, so the
//! default `./pimlab.db` can never land in the repository), passes `--db <tmp>/t.db`, removes
//! `PIMLAB_DB` from the environment, and pins the seed and the clock:
//! `pimlab init --demo --seed 7 --at 2025-01-06T09:00:00Z`. Ids are therefore the same on every
//! run, but the tests read them from `--json` output rather than hard-coding them.
//!
//! Tests that fail because pimlab disagrees with its README or the references are kept and marked

use std::process::Stdio;

use serde_json::{Value, json};

use crate::harness::cli::{Lab, Run, bytes_of, v9_output};
use crate::harness::{AT, GLOBAL_ADMIN as GA_ID};

const GA: &str = "Global Administrator";
const TOO_SHORT: &str = "The Active duration is too short. Miniumum Required is 5 minutes.";

/// `eligibility request <id>: adminAssign Provisioned` → (kind, id, action, status).
#[track_caller]
fn story_head(run: &Run) -> (String, String, String, String) {
    let first = run.stdout.lines().next().unwrap_or_default();
    let parts: Vec<&str> = first.split_whitespace().collect();
    assert!(
        parts.len() == 5 && parts[1] == "request" && parts[2].ends_with(':'),
        "not a request story: {first:?}{run}"
    );
    (parts[0].into(), parts[2].trim_end_matches(':').into(), parts[3].into(), parts[4].into())
}

/// The `id` of a `--json` object.
#[track_caller]
fn id_of(run: &Run) -> String {
    run.json()["id"].as_str().unwrap_or_else(|| panic!("no id{run}")).to_string()
}

// ---------------------------------------------------------------------------------------------
// The store: creation, init, foreign files, PIMLAB_DB, concurrency
// ---------------------------------------------------------------------------------------------

#[test]
fn first_use_creates_and_seeds_a_store_with_a_note_on_stderr() {
    let lab = Lab::empty();
    assert!(!lab.db.exists());
    let run = lab.run(&["user", "add", "First Person"]);
    assert_eq!(run.code, 0, "{run}");
    let note =
        format!("pimlab: created a new tenant in {} (seed 1, domain contoso.example)", lab.db.display());
    assert!(run.stderr.starts_with(&note), "expected the first-use note{run}");
    assert!(lab.db.exists());
    lab.run(&["user", "list"]).ok().out_has("breakglass@contoso.example").out_has("First Person");
    // The note is given once: the second command finds the tenant.
    lab.run(&["clock"]).ok().out_has(AT);
}

#[test]
fn init_demo_prints_the_new_tenant() {
    let lab = Lab::empty();
    let run = lab.run(&["init", "--demo", "--seed", "7", "--at", AT]).ok();
    let first = run.stdout.lines().next().unwrap();
    assert!(first.starts_with("Created tenant "), "{run}");
    assert!(first.ends_with(&format!("(contoso.example) in {}", lab.db.display())), "{run}");
    run.out_has("  clock      2025-01-06T09:00:00Z\n")
        .out_has("  roles      45 built-in, each with its default policy\n")
        .out_has("  users      13   groups 4\n")
        .out_has("  caller     breakglass@contoso.example (permanent Global Administrator");
}

#[test]
fn init_takes_a_domain_and_a_start_time() {
    let lab = Lab::empty();
    lab.run(&["init", "--domain", "fabrikam.example", "--at", "2030-05-01T12:30:00+02:00"])
        .ok()
        .out_has("(fabrikam.example)")
        .out_has("clock      2030-05-01T10:30:00Z")
        .out_has("users      1   groups 0")
        .out_has("caller     breakglass@fabrikam.example");
    lab.run(&["user", "add", "Zoe Quinn"]).ok().out_has("zoe.quinn@fabrikam.example");
    lab.run(&["clock", "show"]).ok().out_has("2030-05-01T10:30:00Z");
}

#[test]
fn init_on_an_initialised_store_is_refused_without_force() {
    let lab = Lab::demo();
    let before = lab.bytes();
    lab.run(&["init"]).refused("StoreAlreadyInitialized", 409).err_has("--force");
    lab.run(&["init", "--demo", "--seed", "7"]).refused("StoreAlreadyInitialized", 409);
    assert!(lab.bytes() == before, "a refused init changed the store");
}

#[test]
fn init_force_replaces_the_tenant() {
    let lab = Lab::demo();
    lab.run(&["user", "add", "Mia Wong"]).ok();
    lab.run(&["init", "--force", "--seed", "7", "--at", "2026-01-01T00:00:00Z"])
        .ok()
        .out_has("users      1   groups 0");
    let users = lab.run(&["--json", "user", "list"]).ok().json();
    assert_eq!(users.as_array().unwrap().len(), 1, "only the break-glass admin remains: {users}");
    lab.run(&["requests"]).ok().out_lacks("adminAssign");
    lab.run(&["clock"]).ok().out_has("2026-01-01T00:00:00Z");
}

#[test]
fn db_pointing_at_another_sqlite_database_is_refused_and_left_untouched() {
    let lab = Lab::empty();
    let foreign = lab.path("notes.db");
    let conn = rusqlite::Connection::open(&foreign).unwrap();
    conn.execute_batch("CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('keep me');").unwrap();
    drop(conn);
    let before = bytes_of(&foreign);
    let shown = foreign.display().to_string();
    for args in
        [&["user", "list"][..], &["init"], &["init", "--force", "--demo"], &["clock", "advance", "1h"]]
    {
        let mut all = vec!["--db".to_string(), shown.clone()];
        all.extend(args.iter().map(|a| a.to_string()));
        let run = lab.run_raw(lab.command(), &all);
        assert_eq!(run.code, 1, "{run}");
        assert_eq!(run.stdout, "", "{run}");
        assert!(run.stderr.starts_with(&format!("error: {shown} is not a pimlab store")), "{run}");
        assert!(bytes_of(&foreign) == before, "the foreign database changed{run}");
    }
    assert!(!lab.path("notes.db-shm").exists() && !lab.path("notes.db-wal").exists());
}

#[test]
fn db_pointing_at_a_text_file_is_refused_and_left_untouched() {
    let lab = Lab::empty();
    let notes = lab.path("notes.txt");
    let text = "these are my notes, not a database\n".repeat(300);
    std::fs::write(&notes, &text).unwrap();
    let shown = notes.display().to_string();
    for args in [&["user", "list"][..], &["init", "--demo"], &["init", "--force"]] {
        let mut all = vec!["--db".to_string(), shown.clone()];
        all.extend(args.iter().map(|a| a.to_string()));
        let run = lab.run_raw(lab.command(), &all);
        assert_eq!(run.code, 1, "{run}");
        assert!(run.stderr.starts_with(&format!("error: {shown} is not a SQLite database")), "{run}");
        assert_eq!(std::fs::read_to_string(&notes).unwrap(), text, "the text file changed{run}");
    }
    let names: Vec<_> = std::fs::read_dir(lab.dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("notes.txt")], "no side files were created");
}

#[test]
fn pimlab_db_environment_variable_selects_the_store() {
    let lab = Lab::empty();
    let env_db = lab.path("from-env.db");
    let mut c = lab.command();
    c.env("PIMLAB_DB", &env_db);
    let run = lab.run_raw(c, &["init".into(), "--seed".into(), "7".into()]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains(&format!("in {}", env_db.display())), "{run}");
    assert!(env_db.exists(), "PIMLAB_DB was not used");
    assert!(!lab.path("pimlab.db").exists(), "the default store was created although PIMLAB_DB was set");
    // --db wins over PIMLAB_DB.
    let mut c = lab.command();
    c.env("PIMLAB_DB", &env_db);
    let run = lab.run_raw(c, &["--db".into(), lab.db.display().to_string(), "init".into()]);
    assert_eq!(run.code, 0, "{run}");
    assert!(lab.db.exists());
}

#[test]
fn without_db_or_pimlab_db_the_store_is_pimlab_db_in_the_working_directory() {
    let lab = Lab::empty();
    let run = lab.run_raw(lab.command(), &["init".into()]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("in pimlab.db"), "{run}");
    assert!(lab.path("pimlab.db").exists());
}

#[test]
fn reading_commands_leave_the_store_byte_for_byte_unchanged() {
    let lab = Lab::demo();
    let before = lab.bytes();
    for args in [
        &["eligible", "list"][..],
        &["active", "list", "--now"],
        &["requests"],
        &["role", "show", GA],
        &["policy", "show", GA],
        &["user", "list"],
        &["clock"],
        &["audit"],
        &["graph", "GET", "/roleManagement/directory/roleAssignments"],
    ] {
        assert_eq!(lab.run(args).code, 0);
    }
    assert!(lab.bytes() == before, "a read-only command changed the store");
}

#[test]
fn concurrent_writers_on_one_store_wait_for_each_other() {
    let lab = Lab::demo();
    let children: Vec<_> = (0..8)
        .map(|i| {
            let mut c = lab.command();
            c.args(["--db", &lab.db.display().to_string(), "user", "add", &format!("Parallel {i}")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            c.spawn().expect("spawn pimlab")
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "writer {i} failed instead of waiting: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let users = lab.run(&["user", "list"]).ok();
    for i in 0..8 {
        assert_eq!(users.lines_with(&format!("Parallel {i}")).len(), 1, "user {i} missing{users}");
    }
}

#[test]
fn concurrent_first_use_of_a_new_store_seeds_it_once_and_every_writer_succeeds() {
    // The auto-seed checks `is_initialized` outside the write transaction that seeds, so two
    // processes can both decide to seed; switching a brand-new file to WAL can also fail with
    // SQLITE_BUSY. The races do not hit every time: try many new stores.
    for round in 0..30 {
        let lab = Lab::empty();
        let children: Vec<_> = (0..8)
            .map(|i| {
                let mut c = lab.command();
                c.args(["--db", &lab.db.display().to_string(), "user", "add", &format!("U{i}")])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                c.spawn().expect("spawn pimlab")
            })
            .collect();
        let mut notes = 0;
        for (i, child) in children.into_iter().enumerate() {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).to_string();
            assert!(out.status.success(), "round {round}, writer {i} failed: {stderr}");
            notes += stderr.matches("created a new tenant").count();
        }
        assert_eq!(notes, 1, "round {round}: the store was seeded by more than one process");
        let users = lab.run(&["--json", "user", "list"]).ok().json();
        assert_eq!(users.as_array().unwrap().len(), 9, "round {round}: {users}");
    }
}

// ---------------------------------------------------------------------------------------------
// Command-line usage (exit 2)
// ---------------------------------------------------------------------------------------------

#[test]
fn help_and_version_go_to_stdout_with_exit_zero() {
    let lab = Lab::empty();
    let run = lab.run_raw(lab.command(), &["--help".into()]);
    assert_eq!(run.code, 0, "{run}");
    for command in ["init", "eligible", "active", "activate", "requests", "policy", "clock", "audit", "graph"]
    {
        assert!(run.stdout.contains(command), "--help does not mention {command}{run}");
    }
    let run = lab.run_raw(lab.command(), &["--version".into()]);
    assert_eq!((run.code, run.stdout.trim()), (0, "pimlab 0.1.0"), "{run}");
    assert!(!lab.path("pimlab.db").exists(), "--help/--version created a store");
}

#[test]
fn a_wrong_command_line_exits_2_with_usage_and_touches_nothing() {
    let lab = Lab::demo();
    let before = lab.bytes();
    // (`pimlab` with no command opens the REPL: see repl.rs.)
    lab.run(&["frobnicate"]).usage().err_has("'frobnicate'");
    lab.run(&["activate"]).usage().err_has("--role");
    lab.run(&["eligible", "assign", "--role", GA]).usage().err_has("--principal");
    lab.run(&["eligible", "assign", "-p", "dev", "-r", GA, "--duration", "P1D", "--permanent"])
        .usage()
        .err_has("--permanent");
    lab.run(&["eligible", "assign", "-p", "dev", "-r", GA, "--until", AT, "--permanent"]).usage();
    lab.run(&["requests", "--kind", "both"]).usage().err_has("'both'");
    lab.run(&["request", "show"]).usage();
    lab.run(&["graph", "GET"]).usage();
    assert!(lab.bytes() == before);
}

// ---------------------------------------------------------------------------------------------
// Bad input: a clear error naming the bad value, and an unchanged store
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_principal_is_named_and_changes_nothing() {
    let lab = Lab::demo();
    lab.fails_unchanged(&["eligible", "assign", "--principal", "nobody", "--role", GA, "--duration", "P1D"])
        .refused("Request_ResourceNotFound", 404)
        .err_has("'nobody'");
    lab.fails_unchanged(&["--as", "nobody", "activate", "--role", GA])
        .refused("Request_ResourceNotFound", 404);
    lab.fails_unchanged(&["eligible", "list", "--principal", "nobody"]).err_has("'nobody'");
    lab.fails_unchanged(&["group", "add-member", "Helpdesk Tier 1", "nobody"]).err_has("'nobody'");
    lab.fails_unchanged(&["audit", "--principal", "nobody"]).err_has("'nobody'");
}

#[test]
fn unknown_role_is_named_and_changes_nothing() {
    let lab = Lab::demo();
    lab.fails_unchanged(&["eligible", "assign", "-p", "dev", "-r", "Chief Wizard", "--duration", "P1D"])
        .refused("RoleNotFound", 404)
        .err_has("'Chief Wizard'")
        .err_has("pimlab role list");
    lab.fails_unchanged(&["--as", "alice", "activate", "--role", "Chief Wizard"])
        .refused("RoleNotFound", 404);
    lab.fails_unchanged(&["role", "show", "Chief Wizard"]).refused("RoleNotFound", 404);
    lab.fails_unchanged(&["policy", "show", "Chief Wizard"]).refused("RoleNotFound", 404);
    lab.fails_unchanged(&["requests", "--role", "Chief Wizard"]).err_has("'Chief Wizard'");
}

#[test]
fn bad_durations_are_named_and_change_nothing() {
    let lab = Lab::demo();
    let assign = |duration: &[&str]| {
        let mut args = vec!["eligible", "assign", "--principal", "dev", "--role", GA, "--duration"];
        args.extend_from_slice(duration);
        lab.fails_unchanged(&args)
    };
    // As typed in a shell: `--duration 8 hours` is the value `8` and a stray `hours`.
    assign(&["8", "hours"]).usage().err_has("'hours'");
    assign(&["8"]).usage().err_has("'8' is not a duration");
    assign(&["eight"]).usage().err_has("'eight'");
    assign(&["P1Y"]).usage().err_has("'P1Y'");
    assign(&["PT8"]).usage().err_has("'PT8'");
    lab.fails_unchanged(&["--as", "alice", "activate", "--role", GA, "--duration", "2 fortnights"])
        .usage()
        .err_has("'2 fortnights'");
    lab.fails_unchanged(&["clock", "advance", "soon"]).usage().err_has("'soon'");
}

#[test]
fn durations_are_typed_as_people_write_them_on_every_command() {
    let lab = Lab::demo();
    let asked = |run: Run| run.ok().json()["scheduleInfo"]["expiration"]["duration"].clone();
    let activate = |duration: &str| {
        lab.run(&[
            "--json",
            "--as",
            "alice",
            "activate",
            "-r",
            GA,
            "--duration",
            duration,
            "-j",
            "x",
            "--validate-only",
        ])
    };
    assert_eq!(asked(activate("1h30m")), json!("PT1H30M"));
    assert_eq!(asked(activate("1.5h")), json!("PT1H30M"));
    assert_eq!(asked(activate("1 hour 15 minutes")), json!("PT1H15M"));
    lab.run(&["clock", "advance", "1d 2h"]).ok();
    lab.run(&["clock"]).ok().out_has("2025-01-07T11:00:00Z");
    lab.fails_unchanged(&["clock", "advance", "30m1h"]).usage().err_has("from the largest to the smallest");
}

#[test]
fn bad_times_are_named_and_change_nothing() {
    let lab = Lab::demo();
    lab.fails_unchanged(&["eligible", "assign", "-p", "dev", "-r", GA, "--start", "yesterday"])
        .usage()
        .err_has("'yesterday' is not an ISO 8601 date-time");
    lab.fails_unchanged(&["eligible", "assign", "-p", "dev", "-r", GA, "--until", "2025-13-01T00:00:00Z"])
        .usage()
        .err_has("'2025-13-01T00:00:00Z'");
    lab.fails_unchanged(&["clock", "set", "tomorrow"]).usage().err_has("'tomorrow'");
    lab.fails_unchanged(&["audit", "--since", "last week"]).usage().err_has("'last week'");
    lab.fails_unchanged(&["init", "--force", "--at", "garbage"]).usage().err_has("'garbage'");
}

#[test]
fn an_end_before_the_start_is_refused_naming_both_times() {
    let lab = Lab::demo();
    lab.fails_unchanged(&[
        "eligible",
        "assign",
        "-p",
        "dev",
        "-r",
        GA,
        "--start",
        "2025-02-01T00:00:00Z",
        "--until",
        "2025-01-20T00:00:00Z",
    ])
    .refused("BadRequest", 400)
    .err_has("2025-01-20T00:00:00Z")
    .err_has("2025-02-01T00:00:00Z");
    // An end in the past, with the start defaulting to now.
    lab.fails_unchanged(&[
        "active",
        "assign",
        "-p",
        "dev",
        "-r",
        GA,
        "--until",
        "2025-01-01T00:00:00Z",
        "-j",
        "x",
    ])
    .refused("BadRequest", 400)
    .err_has("2025-01-01T00:00:00Z");
}

#[test]
fn an_unknown_status_filter_is_named_with_the_valid_ones() {
    let lab = Lab::demo();
    lab.fails_unchanged(&["requests", "--status", "Approved"])
        .usage()
        .err_has("'Approved' is not a status")
        .err_has("Provisioned")
        .err_has("PendingApproval");
}

#[test]
fn an_unknown_scope_is_named_and_changes_nothing() {
    let lab = Lab::demo();
    lab.fails_unchanged(&["eligible", "assign", "-p", "dev", "-r", GA, "--scope", "Atlantis"])
        .err_has("'Atlantis'");
    lab.fails_unchanged(&[
        "eligible",
        "assign",
        "-p",
        "dev",
        "-r",
        GA,
        "--scope",
        "/administrativeUnits/xyz",
    ])
    .refused("BadRequest", 400)
    .err_has("'/administrativeUnits/xyz'");
}

#[test]
fn policy_set_with_nothing_to_change_is_a_usage_error() {
    let lab = Lab::demo();
    lab.fails_unchanged(&["policy", "set", GA]).usage().err_has("nothing to change");
}

#[test]
fn policy_set_with_a_bad_rule_or_body_names_it_and_changes_nothing() {
    let lab = Lab::demo();
    let set =
        |rule: &str, body: &str| lab.fails_unchanged(&["policy", "set", GA, "--rule", rule, "--body", body]);
    set("Expiration_EndUser_Assignment", r#"{"maximumDuration": "PT2H""#)
        .refused("BadRequest", 400)
        .err_has("InvalidJson");
    set("Nope_Rule", r#"{"maximumDuration": "PT2H"}"#)
        .refused("ResourceNotFound", 404)
        .err_has("'Nope_Rule'");
    set("Expiration_EndUser_Assignment", r#"{"maximumDuration": "PT99"}"#)
        .refused("BadRequest", 400)
        .err_has("'PT99'");
    set("Expiration_EndUser_Assignment", r#"{"maximumDuration": "PT2H", "bogus": 1}"#)
        .refused("BadRequest", 400)
        .err_has("bogus");
    let missing = lab.path("missing.json").display().to_string();
    set("Expiration_EndUser_Assignment", &format!("@{missing}")).usage().err_has(&missing);
    lab.fails_unchanged(&["policy", "set", GA, "--rule", "Expiration_EndUser_Assignment"])
        .usage()
        .err_has("--body");
    lab.fails_unchanged(&["policy", "set", GA, "--activation-max", "2x"]).usage().err_has("'2x'");
    lab.fails_unchanged(&["policy", "set", GA, "--require-mfa", "maybe"]).usage().err_has("'maybe'");
    lab.fails_unchanged(&["policy", "set", "Chief Wizard", "--require-mfa", "true"])
        .refused("RoleNotFound", 404);
    lab.fails_unchanged(&["--as", "alice", "policy", "set", GA, "--require-mfa", "false"])
        .refused("UnauthorizedAccessException", 403);
}

#[test]
fn a_refused_policy_set_changes_no_rule_at_all() {
    let lab = Lab::demo();
    // Expiration_Admin_Eligibility comes before Expiration_EndUser_Assignment in the policy.
    lab.fails_unchanged(&[
        "policy",
        "set",
        GA,
        "--allow-permanent-eligible",
        "false",
        "--activation-max",
        "PT0S",
    ])
    .refused("BadRequest", 400);
    // The raw --rule patch is applied before the other flags are even parsed.
    lab.fails_unchanged(&[
        "policy",
        "set",
        GA,
        "--rule",
        "Expiration_Admin_Eligibility",
        "--body",
        r#"{"isExpirationRequired": true}"#,
        "--activation-max",
        "2x",
    ])
    .usage();
    lab.fails_unchanged(&[
        "policy",
        "set",
        GA,
        "--rule",
        "Expiration_EndUser_Assignment",
        "--body",
        r#"{"maximumDuration": "PT4H"}"#,
        "--approver",
        "nobody",
    ])
    .err_has("'nobody'");
}

// ---------------------------------------------------------------------------------------------
// Admin actions on eligibilities and active assignments
// ---------------------------------------------------------------------------------------------

#[test]
fn eligible_assign_update_extend_and_remove_walk_an_eligibility_through_its_life() {
    let lab = Lab::demo();
    let target = ["--principal", "dev", "--role", "Exchange Administrator"];
    let with = |action: &str, extra: &[&str]| {
        let mut args = vec!["eligible", action];
        args.extend_from_slice(&target);
        args.extend_from_slice(extra);
        lab.run(&args)
    };

    let run =
        with("assign", &["--duration", "P10D", "--justification", "on-call rota", "--ticket", "SNOW:CHG42"])
            .ok()
            .out_has("  principal  dev@contoso.example\n")
            .out_has("  role       Exchange Administrator at /\n")
            .out_has("  schedule   2025-01-06T09:00:00Z → 2025-01-16T09:00:00Z (P10D)\n")
            .out_has("  reason     on-call rota\n")
            .out_has("  ticket     SNOW:CHG42\n")
            .out_has("  created    2025-01-06T09:00:00Z by breakglass@contoso.example\n");
    let (kind, assigned, action, status) = story_head(&run);
    assert_eq!(
        (kind.as_str(), action.as_str(), status.as_str()),
        ("eligibility", "adminAssign", "Provisioned")
    );

    let run = with("update", &["--duration", "P12D"]).ok().out_has("→ 2025-01-18T09:00:00Z (P12D)");
    let (_, updated, action, status) = story_head(&run);
    assert_eq!((action.as_str(), status.as_str()), ("adminUpdate", "Provisioned"));
    assert_ne!(updated, assigned);

    let run =
        with("extend", &["--duration", "P20D", "-j", "longer"]).ok().out_has("→ 2025-01-26T09:00:00Z (P20D)");
    let (_, extended, action, status) = story_head(&run);
    assert_eq!((action.as_str(), status.as_str()), ("adminExtend", "Provisioned"));

    // One current eligibility, keyed by the extension's request id.
    let list = lab.run(&["eligible", "list", "--principal", "dev"]).ok();
    let rows = list.lines_with("Exchange Administrator");
    assert_eq!(rows.len(), 1, "{list}");
    assert!(rows[0].contains(&extended) && rows[0].contains("2025-01-26T09:00:00Z"), "{list}");
    assert!(rows[0].contains("Eligible/Direct"), "{list}");

    lab.run(&["clock", "advance", "10m"]).ok();
    let run = with("remove", &[]).ok();
    let (_, _, action, status) = story_head(&run);
    assert_eq!((action.as_str(), status.as_str()), ("adminRemove", "Revoked"));
    lab.run(&["eligible", "list", "--principal", "dev"]).ok().out_lacks("Exchange Administrator");
}

#[test]
fn eligible_renew_restores_an_expired_eligibility() {
    let lab = Lab::demo();
    // Lena's Global Reader eligibility ends 2025-01-16T09:00:00Z.
    lab.run(&["clock", "set", "2025-01-20T09:00:00Z"]).ok().out_has("expired eligibility");
    lab.run(&["eligible", "list", "--principal", "lena"]).ok().out_lacks("Global Reader");
    let run = lab
        .run(&["eligible", "renew", "--principal", "lena", "--role", "Global Reader", "--duration", "P30D"])
        .ok()
        .out_has("schedule   2025-01-20T09:00:00Z → 2025-02-19T09:00:00Z (P30D)");
    let (_, id, action, status) = story_head(&run);
    assert_eq!((action.as_str(), status.as_str()), ("adminRenew", "Provisioned"));
    let list = lab.run(&["eligible", "list", "--principal", "lena", "--now"]).ok();
    assert_eq!(list.lines_with("Global Reader").len(), 1, "{list}");
    let schedules = lab.run(&["--json", "eligible", "list", "--principal", "lena"]).ok().json();
    assert_eq!(schedules[0]["id"], json!(id), "{schedules}");
}

#[test]
fn active_assign_update_extend_renew_and_remove() {
    let lab = Lab::demo();
    let target = ["--principal", "emma", "--role", "Reports Reader"];
    let with = |action: &str, extra: &[&str]| {
        let mut args = vec!["active", action];
        args.extend_from_slice(&target);
        args.extend_from_slice(extra);
        lab.run(&args)
    };
    let run = with("assign", &["--duration", "P10D", "-j", "quarterly report"]).ok();
    assert_eq!(story_head(&run).0, "assignment");
    assert_eq!((story_head(&run).2, story_head(&run).3), ("adminAssign".into(), "Provisioned".into()));
    let now = lab.run(&["active", "list", "--now", "--principal", "emma"]).ok();
    assert!(now.lines_with("Reports Reader")[0].contains("Assigned/Direct"), "{now}");

    let run = with("update", &["--duration", "P12D", "-j", "two more days"]).ok();
    assert_eq!(story_head(&run).2, "adminUpdate");
    let run =
        with("extend", &["--duration", "P20D", "-j", "still reporting"]).ok().out_has("2025-01-26T09:00:00Z");
    assert_eq!(story_head(&run).2, "adminExtend");

    let advanced = lab.run(&["clock", "set", "2025-02-01T09:00:00Z"]).ok();
    assert_eq!(
        advanced.lines_with("expired assignment").len(),
        1,
        "Emma's assignment expires (Jonas's only on 2025-02-05){advanced}"
    );
    lab.run(&["active", "list", "--principal", "emma"]).ok().out_lacks("Reports Reader");

    let run = with("renew", &["--duration", "P30D", "-j", "next quarter"]).ok();
    assert_eq!((story_head(&run).2, story_head(&run).3), ("adminRenew".into(), "Provisioned".into()));
    lab.run(&["clock", "advance", "PT10M"]).ok();
    let run =
        lab.run(&["--json", "active", "remove", "--principal", "emma", "--role", "Reports Reader"]).ok();
    let q = run.json();
    assert_eq!(q["action"], "adminRemove");
    assert_eq!(q["status"], "Revoked");
    // reference §3.1/§3.2: adminRemove responses have no schedule, target or completion time.
    assert_eq!(q["targetScheduleId"], Value::Null, "{q}");
    assert_eq!(q["scheduleInfo"], Value::Null, "{q}");
    assert_eq!(q["completedDateTime"], Value::Null, "{q}");
    lab.run(&["active", "list", "--principal", "emma"]).ok().out_lacks("Reports Reader");
}

#[test]
fn admin_json_output_is_the_graph_request() {
    let lab = Lab::demo();
    let dev = lab.object_id("user", "dev");
    let q = lab
        .run(&[
            "--json",
            "eligible",
            "assign",
            "-p",
            "dev",
            "-r",
            "Exchange Administrator",
            "--until",
            "2025-03-01T00:00:00Z",
            "--ticket",
            "ServiceNow:INC0012345",
        ])
        .ok()
        .json();
    assert_eq!(q["ticketInfo"], json!({"ticketNumber": "INC0012345", "ticketSystem": "ServiceNow"}));
    let id = q["id"].as_str().unwrap();
    assert_eq!(q["action"], "adminAssign");
    assert_eq!(q["status"], "Provisioned");
    assert_eq!(q["targetScheduleId"], json!(id), "schedule id = request id (reference §3.1)");
    assert_eq!(q["principalId"], json!(dev));
    assert_eq!(q["roleDefinitionId"], "29232cdf-9323-42fd-ade2-1d097af3e4de");
    assert_eq!(q["directoryScopeId"], "/");
    assert_eq!(q["isValidationOnly"], false);
    assert_eq!(q["completedDateTime"], AT);
    assert_eq!(q["scheduleInfo"]["startDateTime"], AT);
    assert_eq!(q["scheduleInfo"]["recurrence"], Value::Null);
    assert_eq!(
        q["scheduleInfo"]["expiration"],
        json!({"type": "afterDateTime", "endDateTime": "2025-03-01T00:00:00Z", "duration": null})
    );
    let schedules = lab.run(&["--json", "eligible", "list", "-p", "dev"]).ok().json();
    let s = schedules.as_array().unwrap().iter().find(|s| s["id"] == json!(id)).expect("the schedule");
    assert_eq!(s["createdUsing"], json!(id));
    assert_eq!(s["status"], "Provisioned");
}

#[test]
fn permanent_and_future_dated_assignments() {
    let lab = Lab::demo();
    lab.run(&["eligible", "assign", "-p", "dev", "-r", "Exchange Administrator", "--permanent"])
        .ok()
        .out_has("→ permanent");
    let run = lab
        .run(&[
            "--json",
            "active",
            "assign",
            "-p",
            "hugo",
            "-r",
            "Reports Reader",
            "--start",
            "2025-01-10T00:00:00Z",
            "--duration",
            "P1D",
            "-j",
            "cover",
        ])
        .ok();
    let q = run.json();
    assert_eq!(q["status"], "Granted", "a future start is Granted (reference §3.3)");
    assert_eq!(q["scheduleInfo"]["startDateTime"], "2025-01-10T00:00:00Z");
    lab.run(&["active", "list", "--now", "-p", "hugo"]).ok().out_lacks("Reports Reader");
    lab.run(&["active", "list", "-p", "hugo"]).ok().out_has("Reports Reader").out_has("Granted");
    lab.run(&["clock", "set", "2025-01-10T00:00:00Z"]).ok().out_has("1 started");
    lab.run(&["active", "list", "--now", "-p", "hugo"]).ok().out_has("Reports Reader");
}

#[test]
fn scopes_take_an_administrative_unit_by_name() {
    let lab = Lab::demo();
    lab.run(&[
        "eligible",
        "assign",
        "-p",
        "emma",
        "-r",
        "User Administrator",
        "--scope",
        "Europe",
        "--duration",
        "P30D",
    ])
    .ok()
    .out_has("  role       User Administrator at /administrativeUnits/");
    let list = lab.run(&["eligible", "list", "-p", "emma"]).ok();
    assert!(list.lines_with("User Administrator")[0].contains("Europe (AU)"), "{list}");
    lab.run(&[
        "--as",
        "emma",
        "activate",
        "-r",
        "User Administrator",
        "--scope",
        "Europe",
        "--duration",
        "1h",
        "-j",
        "x",
    ])
    .ok();
    // The tenant-wide scope is a different target.
    lab.run(&["--as", "emma", "deactivate", "-r", "User Administrator"])
        .refused("RoleAssignmentDoesNotExist", 400);
}

// ---------------------------------------------------------------------------------------------
// Self-service actions
// ---------------------------------------------------------------------------------------------

#[test]
fn activate_prints_the_request_and_json_is_the_graph_request() {
    let lab = Lab::demo();
    let run = lab
        .run(&[
            "--as",
            "alice",
            "activate",
            "--role",
            GA,
            "--duration",
            "2h",
            "--justification",
            "Key rotation",
        ])
        .ok()
        .out_has("  principal  alice@contoso.example\n")
        .out_has("  schedule   2025-01-06T09:00:00Z → 2025-01-06T11:00:00Z (PT2H)\n")
        .out_has("  reason     Key rotation\n")
        .out_has("  created    2025-01-06T09:00:00Z by alice@contoso.example\n");
    let (kind, id, action, status) = story_head(&run);
    assert_eq!(
        (kind.as_str(), action.as_str(), status.as_str()),
        ("assignment", "selfActivate", "Provisioned")
    );
    let q = lab.run(&["--json", "request", "show", &id]).ok().json();
    let alice = lab.object_id("user", "alice");
    assert_eq!(q["id"], json!(id));
    assert_eq!(q["status"], "Provisioned");
    assert_eq!(q["action"], "selfActivate");
    assert_eq!(q["targetScheduleId"], json!(id));
    assert_eq!(q["principalId"], json!(alice));
    assert_eq!(q["roleDefinitionId"], GA_ID);
    assert_eq!(q["createdBy"]["user"]["id"], json!(alice));
    assert_eq!(q["justification"], "Key rotation");
    assert_eq!(
        q["scheduleInfo"],
        json!({"startDateTime": AT, "recurrence": null,
               "expiration": {"type": "afterDuration", "endDateTime": null, "duration": "PT2H"}})
    );
    let instances = lab.run(&["--json", "active", "list", "--now", "--principal", "alice"]).ok().json();
    let instance = &instances[0];
    assert_eq!(instance["assignmentType"], "Activated");
    assert_eq!(instance["memberType"], "Direct");
    assert_eq!(instance["endDateTime"], "2025-01-06T11:00:00Z");
    assert_eq!(instance["roleAssignmentScheduleId"], json!(id));
}

#[test]
fn activate_without_a_duration_takes_the_roles_maximum() {
    let lab = Lab::demo();
    lab.run(&["--as", "alice", "activate", "--role", GA, "-j", "x"])
        .ok()
        .out_has("2025-01-06T09:00:00Z → 2025-01-06T17:00:00Z (PT8H)");
}

#[test]
fn as_accepts_an_id_a_user_principal_name_a_display_name_or_a_short_name() {
    let lab = Lab::demo();
    let alice = lab.object_id("user", "alice");
    for who in [alice.as_str(), "alice@contoso.example", "Alice Andersen", "alice"] {
        let q =
            lab.run(&["--json", "--as", who, "activate", "-r", GA, "-j", "x", "--validate-only"]).ok().json();
        assert_eq!(q["principalId"], json!(alice), "--as {who}");
        assert_eq!(q["createdBy"]["user"]["id"], json!(alice), "--as {who}");
    }
    // Without --as the caller is the break-glass administrator.
    let me = lab.run(&["graph", "GET", "/me"]);
    assert_eq!(me.code, 0, "{me}");
    assert_eq!(me.json()["userPrincipalName"], "breakglass@contoso.example", "{me}");
}

#[test]
fn activate_for_group_acts_for_a_group_the_caller_belongs_to() {
    let lab = Lab::demo();
    let run = lab
        .run(&[
            "--as",
            "ben",
            "activate",
            "-r",
            "Helpdesk Administrator",
            "--for-group",
            "Helpdesk Tier 1",
            "--duration",
            "1h",
            "-j",
            "x",
        ])
        .ok()
        .out_has("  principal  Helpdesk Tier 1\n")
        .out_has("  created    2025-01-06T09:00:00Z by ben@contoso.example\n");
    assert_eq!(story_head(&run).2, "selfActivate");
    lab.run(&["active", "list", "--now", "-p", "Helpdesk Tier 1"]).ok().out_has("Helpdesk Administrator");
    // Alice is not a member of Helpdesk Tier 1.
    lab.fails_unchanged(&[
        "--as",
        "alice",
        "deactivate",
        "-r",
        "Helpdesk Administrator",
        "--for-group",
        "Helpdesk Tier 1",
    ])
    .refused("UnauthorizedAccessException", 403);
}

#[test]
fn deactivate_is_refused_within_five_minutes_then_revokes() {
    let lab = Lab::demo();
    lab.run(&["--as", "alice", "activate", "--role", GA, "--duration", "2h", "-j", "x"]).ok();
    lab.fails_unchanged(&["--as", "alice", "deactivate", "--role", GA])
        .refused("ActiveDurationTooShort", 400)
        .err_has(TOO_SHORT)
        .err_has("2025-01-06T09:05:00Z");
    lab.run(&["clock", "advance", "PT5M"]).ok();
    let run = lab.run(&["--json", "--as", "alice", "deactivate", "--role", GA]).ok();
    let q = run.json();
    assert_eq!(q["action"], "selfDeactivate");
    assert_eq!(q["status"], "Revoked");
    assert_eq!(q["targetScheduleId"], Value::Null);
    lab.run(&["active", "list", "--now", "-p", "alice"]).ok().out_lacks(GA);
    lab.fails_unchanged(&["--as", "alice", "deactivate", "--role", GA])
        .refused("RoleAssignmentDoesNotExist", 400)
        .err_has("The Role assignment does not exist.");
}

#[test]
fn a_group_member_activates_through_the_group_with_their_own_id() {
    let lab = Lab::demo();
    let ben = lab.object_id("user", "ben");
    let q = lab
        .run(&[
            "--json",
            "--as",
            "ben",
            "activate",
            "-r",
            "Helpdesk Administrator",
            "--duration",
            "1h",
            "-j",
            "resets",
        ])
        .ok()
        .json();
    assert_eq!(q["principalId"], json!(ben));
    let group_eligibility =
        lab.run(&["--json", "eligible", "list", "-p", "Helpdesk Tier 1"]).ok().json()[0]["id"].clone();
    let instances = lab.run(&["--json", "active", "list", "--now", "-p", "ben"]).ok().json();
    assert_eq!(instances[0]["memberType"], "Group", "{instances}");
    // activatedUsing is a navigation property (reference §1.8): read it through the router.
    let schedule = q["targetScheduleId"].as_str().unwrap();
    let run = lab.run(&[
        "graph",
        "GET",
        &format!(
            "/roleManagement/directory/roleAssignmentSchedules/{schedule}?$expand=activatedUsing($select=id)"
        ),
    ]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.json()["activatedUsing"]["id"], group_eligibility, "{run}");
    lab.run(&["active", "list", "--now"]).ok().out_has("Activated/Group");
}

#[test]
fn self_extend_waits_for_an_administrator_who_answers_with_eligible_extend() {
    let lab = Lab::demo();
    let eligibility = lab.run(&["--json", "eligible", "list", "-p", "lena"]).ok().json()[0]["id"].clone();
    let run = lab
        .run(&["--json", "--as", "lena", "extend", "--role", "Global Reader", "-j", "review continues"])
        .ok();
    let asked = run.json();
    assert_eq!(asked["action"], "selfExtend");
    assert_eq!(asked["status"], "PendingAdminDecision");
    assert_eq!(asked["targetScheduleId"], eligibility, "selfExtend targets the schedule to change");
    let asked_id = id_of(&run);
    lab.run(&["requests", "--pending"]).ok().out_has(&asked_id).out_has("PendingAdminDecision");
    lab.fails_unchanged(&["--as", "lena", "extend", "--role", "Global Reader", "-j", "again"])
        .refused("PendingRoleAssignmentRequest", 400)
        .err_has("There is already a pending request for this role assignment.")
        .err_has(&asked_id);
    lab.run(&[
        "eligible",
        "extend",
        "-p",
        "lena",
        "-r",
        "Global Reader",
        "--duration",
        "P90D",
        "-j",
        "approved",
    ])
    .ok()
    .out_has("→ 2025-04-06T09:00:00Z (P90D)");
    let answered = lab.run(&["--json", "request", "show", &asked_id]).ok().json();
    assert_eq!(answered["status"], "Provisioned", "{answered}");
    lab.run(&["requests", "--pending"]).ok().out_lacks(&asked_id);
}

#[test]
fn self_renew_waits_for_an_administrator_who_answers_with_active_renew() {
    let lab = Lab::demo();
    // Jonas's Billing Administrator assignment ends 2025-02-05T09:00:00Z.
    lab.run(&["clock", "set", "2025-02-10T09:00:00Z"]).ok();
    let run = lab
        .run(&["--as", "jonas", "renew", "--role", "Billing Administrator", "--active", "-j", "invoices"])
        .ok()
        .out_has("  reason     invoices\n");
    let (kind, asked, action, status) = story_head(&run);
    assert_eq!(
        (kind.as_str(), action.as_str(), status.as_str()),
        ("assignment", "selfRenew", "PendingAdminDecision")
    );
    lab.run(&[
        "active",
        "renew",
        "-p",
        "jonas",
        "-r",
        "Billing Administrator",
        "--duration",
        "P30D",
        "-j",
        "ok",
    ])
    .ok();
    let answered = lab.run(&["--json", "request", "show", &asked]).ok().json();
    assert_eq!(answered["status"], "Provisioned", "{answered}");
    lab.run(&["active", "list", "--now", "-p", "jonas"]).ok().out_has("Billing Administrator");
}

#[test]
fn self_extend_and_renew_need_mfa_and_a_justification() {
    let lab = Lab::demo();
    let run = lab
        .fails_unchanged(&["--as", "lena", "--no-mfa", "extend", "--role", "Global Reader"])
        .refused("RoleAssignmentRequestPolicyValidationFailed", 400);
    assert!(run.stderr.contains(r#""MfaRule""#) && run.stderr.contains(r#""JustificationRule""#), "{run}");
}

#[test]
fn validate_only_runs_every_check_and_stores_nothing() {
    let lab = Lab::demo();
    let before = lab.bytes();
    lab.run(&["--as", "alice", "activate", "-r", GA, "--duration", "1h", "-j", "x", "--validate-only"])
        .ok()
        .out_has("selfActivate Provisioned")
        .out_has("(validation only: nothing was stored)");
    let run = lab
        .run(&[
            "--json",
            "--as",
            "alice",
            "activate",
            "-r",
            GA,
            "--duration",
            "1h",
            "-j",
            "x",
            "--validate-only",
        ])
        .ok();
    let q = run.json();
    assert_eq!(q["isValidationOnly"], true);
    assert_eq!(q["status"], "Provisioned");
    lab.run(&[
        "--json",
        "eligible",
        "assign",
        "-p",
        "dev",
        "-r",
        "Exchange Administrator",
        "--validate-only",
    ])
    .ok();
    assert!(lab.bytes() == before, "--validate-only stored something");
    // The checks still run: a request that breaks the policy fails as it would for real.
    lab.fails_unchanged(&[
        "--as",
        "alice",
        "activate",
        "-r",
        GA,
        "--duration",
        "12h",
        "-j",
        "x",
        "--validate-only",
    ])
    .refused("RoleAssignmentRequestPolicyValidationFailed", 400);
    lab.run(&["active", "list", "--now", "-p", "alice"]).ok().out_lacks(GA);
    // No id was consumed: the real request gets the id the validation showed.
    let real =
        lab.run(&["--json", "--as", "alice", "activate", "-r", GA, "--duration", "1h", "-j", "x"]).ok();
    assert_eq!(id_of(&real), id_of(&run));
    assert_eq!(real.json()["isValidationOnly"], false);
}

// ---------------------------------------------------------------------------------------------
// Requests: listing, show, cancel, explain
// ---------------------------------------------------------------------------------------------

#[test]
fn requests_lists_and_filters() {
    let lab = Lab::demo();
    let all = lab.run(&["requests"]).ok();
    let header = all.stdout.lines().next().unwrap();
    for column in ["created", "kind", "action", "status", "principal", "role", "id"] {
        assert!(header.contains(column), "{all}");
    }
    assert_eq!(
        all.lines_with("adminAssign").len(),
        12,
        "the demo makes 9 eligibilities and 3 assignments{all}"
    );
    lab.run(&["--as", "alice", "activate", "-r", GA, "--duration", "1h", "-j", "x"]).ok();

    let eligible = lab.run(&["requests", "--kind", "eligible"]).ok();
    assert_eq!(eligible.lines_with("eligibility").len(), 9, "{eligible}");
    assert!(eligible.lines_with(" assignment ").is_empty(), "{eligible}");
    let active = lab.run(&["requests", "--kind", "active"]).ok();
    assert_eq!(active.lines_with("assignment").len(), 4, "{active}");

    let alices = lab.run(&["--as", "alice", "requests", "--mine"]).ok();
    assert_eq!(alices.lines_with("alice@contoso.example").len(), 2, "{alices}");
    lab.run(&["requests", "--mine"]).ok().out_lacks("alice@contoso.example");
    let by_principal =
        lab.run(&["requests", "--principal", "alice", "--role", GA, "--status", "Provisioned"]).ok();
    assert_eq!(by_principal.lines_with("alice@contoso.example").len(), 2, "{by_principal}");
    let json = lab.run(&["--json", "requests", "--principal", "alice", "--kind", "active"]).ok().json();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["action"], "selfActivate");
    assert_eq!(lab.run(&["--json", "requests", "--status", "Canceled"]).ok().json(), json!([]));
}

/// Listings with nothing to list on a tenant without the demonstration organisation, and the one
/// line each says instead of a table with only its header.
const EMPTY_LISTINGS: &[(&[&str], &str)] = &[
    (&["requests", "--status", "Canceled"], "no requests"),
    (&["approvals"], "no requests waiting for a decision"),
    (&["eligible", "list"], "no assignments"),
    (&["active", "list", "--role", "Security Reader"], "no assignments"),
    (&["active", "list", "--now", "--role", "Security Reader"], "no assignments in effect now"),
    (&["notifications"], "no notifications"),
    (&["notifications", "--full"], "no notifications"),
    (&["hook", "list"], "no hooks"),
    (&["group", "list"], "no groups"),
    (&["sp", "list"], "no service principals"),
    (&["au", "list"], "no administrative units"),
];

#[test]
fn an_empty_listing_says_so_in_one_line_and_its_json_is_an_empty_array() {
    let lab = Lab::empty();
    lab.run(&["init", "--seed", "7", "--at", AT]).ok();
    let says_so = |args: &[&str], line: &str| {
        let run = lab.run(args).ok();
        assert_eq!(run.stdout, format!("{line}\n"), "{run}");
        let json: Vec<&str> = ["--json"].into_iter().chain(args.iter().copied()).collect();
        assert_eq!(lab.run(&json).ok().json(), json!([]), "{}", json.join(" "));
    };
    for (args, line) in EMPTY_LISTINGS {
        says_so(args, line);
    }
    lab.run(&["group", "add", "Empty"]).ok();
    says_so(&["group", "members", "Empty"], "no members");
}

#[test]
fn request_show_and_unknown_ids() {
    let lab = Lab::demo();
    let id = id_of(
        &lab.run(&["--json", "--as", "alice", "activate", "-r", GA, "--duration", "1h", "-j", "x"]).ok(),
    );
    let run = lab.run(&["request", "show", &id]).ok();
    assert_eq!(story_head(&run).1, id);
    let missing = "00000000-0000-0000-0000-000000000000";
    lab.fails_unchanged(&["request", "show", missing])
        .refused("RoleAssignmentRequestNotFound", 404)
        .err_has("The role assignment request is not found")
        .err_has(missing);
    lab.fails_unchanged(&["request", "cancel", missing]).refused("RoleAssignmentRequestNotFound", 404);
    lab.fails_unchanged(&["request", "explain", "not-an-id"]).refused("RoleAssignmentRequestNotFound", 404);
}

#[test]
fn cancelling_a_granted_activation_makes_it_canceled() {
    let lab = Lab::demo();
    let run = lab
        .run(&[
            "--as",
            "alice",
            "activate",
            "-r",
            GA,
            "--start",
            "2025-01-07T09:00:00Z",
            "--duration",
            "1h",
            "-j",
            "later",
        ])
        .ok();
    let (_, id, _, status) = story_head(&run);
    assert_eq!(status, "Granted");
    lab.run(&["--as", "alice", "request", "cancel", &id])
        .ok()
        .out_has(&format!("Cancelled request {id}: now Canceled"));
    lab.fails_unchanged(&["--as", "alice", "request", "cancel", &id])
        .refused("RequestCannotBeCancelled", 400)
        .err_has("Request is not in cancellable state.");
    // It never takes effect.
    lab.run(&["clock", "set", "2025-01-07T09:30:00Z"]).ok().out_has("0 started");
    lab.run(&["active", "list", "--now", "-p", "alice"]).ok().out_lacks(GA);
}

#[test]
fn cancelling_a_granted_eligibility_request_makes_it_revoked() {
    let lab = Lab::demo();
    let q = lab
        .run(&[
            "--json",
            "eligible",
            "assign",
            "-p",
            "dev",
            "-r",
            "Exchange Administrator",
            "--start",
            "2025-02-01T00:00:00Z",
        ])
        .ok()
        .json();
    assert_eq!(q["status"], "Granted");
    let id = q["id"].as_str().unwrap();
    let cancelled = lab.run(&["--json", "request", "cancel", id]).ok().json();
    assert_eq!(cancelled["status"], "Revoked", "reference §3.7: a cancelled eligibility request is Revoked");
    lab.run(&["eligible", "list", "-p", "dev"]).ok().out_lacks("Exchange Administrator");
}

#[test]
fn approval_required_activation_is_pending_and_can_be_cancelled() {
    let lab = Lab::demo();
    lab.require_approval(GA);
    let run = lab.run(&["--json", "--as", "alice", "activate", "-r", GA, "--duration", "1h", "-j", "x"]).ok();
    let q = run.json();
    let id = id_of(&run);
    assert_eq!(q["status"], "PendingApproval");
    assert_eq!(q["approvalId"], json!(id), "approvalId = request id (reference §3.3)");
    assert_eq!(q["scheduleInfo"]["startDateTime"], Value::Null, "no start until approved");
    lab.run(&["active", "list", "--now", "-p", "alice"]).ok().out_lacks(GA);
    lab.run(&["requests", "--pending"]).ok().out_has(&id).out_has("PendingApproval");
    lab.fails_unchanged(&["--as", "ben", "request", "cancel", &id])
        .refused("UnauthorizedAccessException", 403);
    lab.fails_unchanged(&["--as", "alice", "activate", "-r", GA, "--duration", "1h", "-j", "again"])
        .refused("PendingRoleAssignmentRequest", 400);
    lab.run(&["--as", "alice", "request", "cancel", &id]).ok().out_has("now Canceled");
}

#[test]
fn cancelling_a_provisioned_request_is_refused() {
    let lab = Lab::demo();
    let id = id_of(
        &lab.run(&["--json", "--as", "alice", "activate", "-r", GA, "--duration", "1h", "-j", "x"]).ok(),
    );
    lab.fails_unchanged(&["request", "cancel", &id])
        .refused("RequestCannotBeCancelled", 400)
        .err_has("is Provisioned");
}

#[test]
fn explain_prints_every_check_as_pass_with_the_value_seen_and_the_rule() {
    let lab = Lab::demo();
    let id = id_of(
        &lab.run(&[
            "--json",
            "--as",
            "alice",
            "activate",
            "-r",
            GA,
            "--duration",
            "2h",
            "-j",
            "Key rotation",
        ])
        .ok(),
    );
    let run = lab.run(&["request", "explain", &id]).ok().out_has("\nHow it was decided:\n");
    assert_eq!(story_head(&run).1, id);
    let trace: Vec<&str> =
        run.stdout.lines().filter(|l| l.starts_with("  pass ") || l.starts_with("  FAIL ")).collect();
    for check in [
        "EligibilityRule",
        "Expiration_EndUser_Assignment",
        "Enablement_EndUser_Assignment.MultiFactorAuthentication",
        "Enablement_EndUser_Assignment.Justification",
    ] {
        let line = trace.iter().find(|l| l.contains(check)).unwrap_or_else(|| panic!("no {check} step{run}"));
        assert!(line.starts_with("  pass "), "{line}");
        assert!(line.contains(" saw ") && line.contains("; rule: "), "{line}");
    }
    assert!(trace.iter().any(|l| l.contains("saw PT2H; rule: at most PT8H")), "{run}");
    assert!(trace.iter().any(|l| l.contains(r#"saw "Key rotation""#)), "{run}");
    assert!(
        run.stdout
            .trim_end()
            .ends_with("It was provisioned: the access is in effect (or was, until it ended).")
    );

    let json = lab.run(&["--json", "request", "explain", &id]).ok().json();
    assert_eq!(json["request"]["id"], json!(id));
    let steps = json["trace"].as_array().unwrap();
    assert!(steps.len() >= 4, "{json}");
    assert!(steps.iter().all(|s| s["passed"] == true), "{json}");
}

#[test]
fn explain_of_a_removal_shows_the_five_minute_check_and_the_outcome() {
    let lab = Lab::demo();
    lab.run(&["clock", "advance", "10m"]).ok();
    let id = id_of(&lab.run(&["--json", "eligible", "remove", "-p", "lena", "-r", "Global Reader"]).ok());
    let run = lab.run(&["request", "explain", &id]).ok();
    let steps = run.lines_with("MinimumActiveDuration");
    assert_eq!(steps.len(), 1, "{run}");
    assert!(
        steps[0].starts_with("  pass ") && steps[0].contains("saw active for PT10M; rule: at least PT5M"),
        "{run}"
    );
    run.out_has("The access it targeted was removed");
}

#[test]
fn explain_of_a_failed_request_shows_the_check_that_failed() {
    let lab = Lab::demo();
    let id = id_of(
        &lab.run(&[
            "--json",
            "--as",
            "alice",
            "activate",
            "-r",
            GA,
            "--start",
            "2025-01-07T09:00:00Z",
            "--duration",
            "1h",
            "-j",
            "later",
        ])
        .ok(),
    );
    lab.run(&["clock", "advance", "10m"]).ok();
    lab.run(&["eligible", "remove", "-p", "alice", "-r", GA]).ok();
    lab.run(&["clock", "advance", "P1D"])
        .ok()
        .out_has(&format!("failed activation of Global Administrator for Alice Andersen (schedule {id})"))
        .out_has("1 failed");
    let run = lab
        .run(&["request", "explain", &id])
        .ok()
        .out_has("selfActivate Failed")
        .out_has("It failed when it was due to start");
    assert!(
        run.stdout.lines().any(|l| l.starts_with("  FAIL ")),
        "the failing check is not in the trace{run}"
    );
}

// ---------------------------------------------------------------------------------------------
// Every error the README lists, through the command line
// ---------------------------------------------------------------------------------------------

#[test]
fn policy_violations_are_reported_all_at_once() {
    let lab = Lab::demo();
    let run = lab
        .fails_unchanged(&["--as", "alice", "--no-mfa", "activate", "--role", GA, "--duration", "12h"])
        .refused("RoleAssignmentRequestPolicyValidationFailed", 400)
        .err_has("The following policy rules failed: [");
    let first = run.stderr.lines().next().unwrap();
    for rule in ["ExpirationRule", "MfaRule", "JustificationRule"] {
        assert!(first.contains(&format!("\"{rule}\"")), "{rule} missing from {first}");
    }
    // pimlab's explanation follows: the value seen, the limit and the fix.
    run.err_has("  - ExpirationRule: ")
        .err_has("saw PT12H")
        .err_has("at most PT8H")
        .err_has("--justification");
}

#[test]
fn ticketing_rule_fails_without_a_ticket() {
    let lab = Lab::demo();
    lab.patch_rule(
        GA,
        "Enablement_EndUser_Assignment",
        &json!({"@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyEnablementRule",
                "enabledRules": ["MultiFactorAuthentication", "Justification", "Ticketing"]}),
    );
    lab.fails_unchanged(&["--as", "alice", "activate", "-r", GA, "--duration", "1h", "-j", "x"])
        .refused("RoleAssignmentRequestPolicyValidationFailed", 400)
        .err_has(r#"["TicketingRule"]"#)
        .err_has("--ticket");
    lab.run(&[
        "--as",
        "alice",
        "activate",
        "-r",
        GA,
        "--duration",
        "1h",
        "-j",
        "x",
        "--ticket",
        "ServiceNow:INC0012345",
    ])
    .ok()
    .out_has("  ticket     ServiceNow:INC0012345\n");
}

#[test]
fn eligibility_rule_fails_without_an_eligibility() {
    let lab = Lab::demo();
    lab.fails_unchanged(&["--as", "grace", "activate", "-r", GA, "--duration", "1h", "-j", "x"])
        .refused("RoleAssignmentRequestPolicyValidationFailed", 400)
        .err_has(r#"["EligibilityRule"]"#)
        .err_has("no current eligibility");
}

#[test]
fn expiration_rule_fails_under_five_minutes_and_beyond_the_eligibility() {
    let lab = Lab::demo();
    lab.fails_unchanged(&["--as", "alice", "activate", "-r", GA, "--duration", "PT2M", "-j", "x"])
        .refused("RoleAssignmentRequestPolicyValidationFailed", 400)
        .err_has(r#"["ExpirationRule"]"#)
        .err_has("PT5M");
    // Lena's eligibility ends 2025-01-16; an activation may not outlive it.
    lab.run(&["clock", "set", "2025-01-16T05:00:00Z"]).ok();
    lab.fails_unchanged(&["--as", "lena", "activate", "-r", "Global Reader", "--duration", "8h", "-j", "x"])
        .refused("RoleAssignmentRequestPolicyValidationFailed", 400)
        .err_has("2025-01-16T09:00:00Z");
}

#[test]
fn role_assignment_exists_for_duplicates() {
    let lab = Lab::demo();
    lab.fails_unchanged(&["eligible", "assign", "-p", "alice", "-r", GA])
        .refused("RoleAssignmentExists", 400)
        .err_has("The Role assignment already exists.");
    lab.run(&["--as", "alice", "activate", "-r", GA, "--duration", "1h", "-j", "x"]).ok();
    lab.fails_unchanged(&["--as", "alice", "activate", "-r", GA, "--duration", "1h", "-j", "x"])
        .refused("RoleAssignmentExists", 400);
}

#[test]
fn role_assignment_does_not_exist_for_missing_targets() {
    let lab = Lab::demo();
    for action in ["update", "extend", "remove"] {
        lab.fails_unchanged(&[
            "eligible",
            action,
            "-p",
            "dev",
            "-r",
            "Exchange Administrator",
            "--duration",
            "P1D",
            "-j",
            "x",
        ])
        .refused("RoleAssignmentDoesNotExist", 400)
        .err_has("The Role assignment does not exist.");
    }
    lab.fails_unchanged(&[
        "active",
        "renew",
        "-p",
        "dev",
        "-r",
        "Exchange Administrator",
        "--duration",
        "P1D",
        "-j",
        "x",
    ])
    .refused("RoleAssignmentDoesNotExist", 400);
    lab.fails_unchanged(&["--as", "dev", "extend", "-r", "Exchange Administrator", "-j", "x"])
        .refused("RoleAssignmentDoesNotExist", 400);
}

#[test]
fn active_duration_too_short_for_an_early_removal() {
    let lab = Lab::demo();
    lab.run(&["active", "assign", "-p", "emma", "-r", "Reports Reader", "--duration", "P1D", "-j", "x"]).ok();
    lab.fails_unchanged(&["active", "remove", "-p", "emma", "-r", "Reports Reader"])
        .refused("ActiveDurationTooShort", 400)
        .err_has(TOO_SHORT);
}

#[test]
fn auth_context_rule_needs_the_claim() {
    let lab = Lab::demo();
    lab.patch_rule(
        GA,
        "AuthenticationContext_EndUser_Assignment",
        &json!({"@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyAuthenticationContextRule",
                "isEnabled": true, "claimValue": "c1"}),
    );
    lab.fails_unchanged(&["--as", "alice", "activate", "-r", GA, "--duration", "1h", "-j", "x"])
        .refused("RoleAssignmentRequestAcrsValidationFailed", 400)
        .err_has("claims=")
        .err_has("--auth-context c1");
    lab.run(&["--as", "alice", "--auth-context", "c1", "activate", "-r", GA, "--duration", "1h", "-j", "x"])
        .ok();
}

#[test]
fn non_administrators_get_unauthorized_access_exception() {
    let lab = Lab::demo();
    lab.fails_unchanged(&["--as", "alice", "eligible", "assign", "-p", "dev", "-r", "Reports Reader"])
        .refused("UnauthorizedAccessException", 403)
        .err_has("Attempted to perform an unauthorized operation.");
    lab.fails_unchanged(&["--as", "alice", "user", "add", "Mallory"])
        .refused("UnauthorizedAccessException", 403);
    lab.fails_unchanged(&["--as", "alice", "group", "add-member", "Tier-0 Admins", "grace"])
        .refused("UnauthorizedAccessException", 403);
    // Once Alice activates Global Administrator she is an administrator.
    lab.run(&["--as", "alice", "activate", "-r", GA, "--duration", "1h", "-j", "x"]).ok();
    lab.run(&["--as", "alice", "eligible", "assign", "-p", "dev", "-r", "Reports Reader"]).ok();
    // Self-service acts for the caller only.
    lab.fails_unchanged(&[
        "--as",
        "ben",
        "activate",
        "-r",
        "Helpdesk Administrator",
        "--for-group",
        "Tier-0 Admins",
    ])
    .refused("UnauthorizedAccessException", 403);
}

#[test]
fn extend_window_not_open_far_from_expiry_or_when_permanent() {
    let lab = Lab::demo();
    lab.run(&["config", "fidelity", "set", "portal-extend-renew-windows", "on"]).ok();
    // Alice's eligibility ends 2025-07-05: extension opens 14 days before.
    lab.fails_unchanged(&["eligible", "extend", "-p", "alice", "-r", GA, "--duration", "P200D", "-j", "x"])
        .refused("PimlabExtendWindowNotOpen", 400)
        .err_has("2025-06-21T09:00:00Z");
    lab.fails_unchanged(&["--as", "alice", "extend", "-r", GA, "-j", "x"])
        .refused("PimlabExtendWindowNotOpen", 400);
    // Grace's Exchange Administrator eligibility is permanent.
    lab.fails_unchanged(&[
        "eligible",
        "extend",
        "-p",
        "grace",
        "-r",
        "Exchange Administrator",
        "--duration",
        "P1D",
    ])
    .refused("PimlabExtendWindowNotOpen", 400)
    .err_has("never expires");
    // Each refusal says how to behave as the API does instead.
    lab.fails_unchanged(&["--as", "alice", "extend", "-r", GA, "-j", "x"])
        .err_has("pimlab config fidelity set portal-extend-renew-windows off");
}

#[test]
fn extend_far_from_expiry_is_accepted_with_the_fidelity_profile_at_its_default() {
    let lab = Lab::demo();
    lab.run(&["--as", "alice", "extend", "-r", GA, "-j", "Project runs long"])
        .ok()
        .out_has("PendingAdminDecision");
    lab.run(&["eligible", "extend", "-p", "alice", "-r", GA, "--duration", "P200D", "-j", "x"])
        .ok()
        .out_has("Provisioned");
}

#[test]
fn renew_window_closed_thirty_days_after_expiry() {
    let lab = Lab::demo();
    lab.run(&["config", "fidelity", "set", "portal-extend-renew-windows", "on"]).ok();
    // Jonas's assignment ends 2025-02-05T09:00:00Z; renewal closes 30 days later.
    lab.run(&["clock", "set", "2025-03-10T09:00:00Z"]).ok();
    lab.fails_unchanged(&[
        "active",
        "renew",
        "-p",
        "jonas",
        "-r",
        "Billing Administrator",
        "--duration",
        "P30D",
        "-j",
        "x",
    ])
    .refused("PimlabRenewWindowClosed", 400)
    .err_has("2025-03-07T09:00:00Z");
    lab.fails_unchanged(&["--as", "jonas", "renew", "-r", "Billing Administrator", "--active", "-j", "x"])
        .refused("PimlabRenewWindowClosed", 400);
}

#[test]
fn the_last_global_administrator_cannot_be_removed() {
    let lab = Lab::demo();
    lab.run(&["clock", "advance", "PT3H"]).ok();
    lab.fails_unchanged(&["active", "remove", "--principal", "breakglass@contoso.example", "--role", GA])
        .refused("PimlabLastGlobalAdministrator", 400)
        .err_has("The last active Global Administrator assignment cannot be removed.");
    lab.run(&["active", "list", "--now", "-r", GA]).ok().out_has("breakglass@contoso.example");
}

#[test]
fn unusable_principals_get_invalid_principal_for_role_assignment() {
    let lab = Lab::demo();
    for (principal, why) in [
        ("Nightly Sync Automation", "service principal"),
        ("All Staff", "not role-assignable"),
        ("Europe", "administrative unit"),
    ] {
        lab.fails_unchanged(&["eligible", "assign", "-p", principal, "-r", "Reports Reader"])
            .refused("InvalidPrincipalForRoleAssignment", 400)
            .err_has(principal)
            .err_has(why);
    }
    // A service principal may hold an active assignment.
    lab.run(&["active", "assign", "-p", "Nightly Sync Automation", "-r", "Reports Reader", "-j", "sync"])
        .ok();
}

#[test]
fn unknown_principal_and_role_ids_through_graph_get_the_legacy_codes() {
    let lab = Lab::demo();
    let post = |principal: &str, role: &str| {
        let body = json!({"action": "adminAssign", "principalId": principal, "roleDefinitionId": role,
                          "directoryScopeId": "/", "justification": "x",
                          "scheduleInfo": {"expiration": {"type": "noExpiration"}}});
        lab.fails_unchanged(&[
            "graph",
            "POST",
            "/roleManagement/directory/roleEligibilityScheduleRequests",
            "--body",
            &body.to_string(),
        ])
    };
    let dev = lab.object_id("user", "dev");
    let run = post("00000000-0000-0000-0000-000000000001", GA_ID);
    assert_eq!(run.stderr, "HTTP 400\n", "{run}");
    assert_eq!(run.json()["error"]["code"], "SubjectNotFound", "{run}");
    let run = post(&dev, "00000000-0000-0000-0000-000000000002");
    assert_eq!(run.json()["error"]["code"], "RoleNotFound", "{run}");
}

// ---------------------------------------------------------------------------------------------
// Roles, policies, the directory, the audit trail
// ---------------------------------------------------------------------------------------------

#[test]
fn role_list_and_show() {
    let lab = Lab::demo();
    let all = lab.run(&["role", "list"]).ok();
    assert_eq!(all.stdout.lines().count(), 2 + 45, "header, rule and 45 built-in roles{all}");
    let privileged =
        lab.run(&["role", "list", "--privileged"]).ok().out_has(GA).out_has("Privileged Role Administrator");
    assert!(privileged.stdout.lines().count() < all.stdout.lines().count());
    privileged.out_lacks("Reports Reader");
    lab.run(&["role", "show", GA])
        .ok()
        .out_has(&format!("Global Administrator ({GA_ID})"))
        .out_has("built-in true   privileged true   enabled true")
        .out_has("  permissions:\n")
        .out_has("  eligible:\n")
        .out_has("alice@contoso.example")
        .out_has("  active:\n")
        .out_has("breakglass@contoso.example");
    let json = lab.run(&["--json", "role", "show", GA_ID]).ok().json();
    assert_eq!(json["displayName"], GA);
    assert_eq!(json["templateId"], GA_ID);
    assert_eq!(json["isBuiltIn"], true);
}

#[test]
fn policy_show_prints_the_settings_and_json_is_the_graph_policy() {
    let lab = Lab::demo();
    lab.run(&["policy", "show", GA])
        .ok()
        .out_has("Role settings for Global Administrator\n")
        .out_has("  maximum duration        PT8H\n")
        .out_has("  on activation require   MultiFactorAuthentication, Justification\n")
        .out_has("  authentication context  not required\n");
    let policy = lab.policy(GA);
    assert!(policy["id"].as_str().unwrap().starts_with("DirectoryRole_"), "{policy}");
    let rules = policy["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 17, "the 17 rules of reference §2.6");
    let expiration = lab.rule(GA, "Expiration_EndUser_Assignment");
    assert_eq!(expiration["maximumDuration"], "PT8H");
    assert_eq!(expiration["isExpirationRequired"], true);
}

#[test]
fn policy_set_changes_settings_and_the_engine_enforces_them() {
    let lab = Lab::demo();
    lab.run(&["policy", "set", GA, "--require-ticket", "true", "--activation-max", "4h"])
        .ok()
        .out_has("Updated Expiration_EndUser_Assignment of Global Administrator\n")
        .out_has("Updated Enablement_EndUser_Assignment of Global Administrator\n")
        .out_has("  maximum duration        PT4H\n")
        .out_has("MultiFactorAuthentication, Justification, Ticketing")
        .out_has("  last changed 2025-01-06T09:00:00Z by breakglass@contoso.example\n");
    lab.fails_unchanged(&["--as", "alice", "activate", "-r", GA, "--duration", "5h", "-j", "x"])
        .refused("RoleAssignmentRequestPolicyValidationFailed", 400)
        .err_has(r#""ExpirationRule""#)
        .err_has(r#""TicketingRule""#);
    lab.run(&["policy", "set", GA, "--require-auth-context", "c1"])
        .ok()
        .out_has("authentication context  c1");
    lab.run(&["policy", "set", GA, "--require-auth-context", "none"])
        .ok()
        .out_has("authentication context  not required");
    lab.run(&["policy", "set", GA, "--require-approval", "true", "--approver", "PIM Approvers"])
        .ok()
        .out_has("approval required       yes")
        .out_has("members of PIM Approvers");
    lab.run(&["audit", "--role", GA]).ok().out_has("Update role setting in PIM");
}

#[test]
fn policy_set_rule_patches_one_rule_from_json_or_a_file() {
    let lab = Lab::demo();
    let run = lab
        .run(&[
            "--json",
            "policy",
            "set",
            GA,
            "--rule",
            "Expiration_EndUser_Assignment",
            "--body",
            r#"{"maximumDuration": "PT2H"}"#,
        ])
        .ok();
    let changed = run.json();
    assert_eq!(changed[0]["id"], "Expiration_EndUser_Assignment");
    assert_eq!(changed[0]["maximumDuration"], "PT2H");
    let file = lab.path("rule.json");
    std::fs::write(&file, r#"{"maximumDuration": "PT6H"}"#).unwrap();
    lab.run(&[
        "policy",
        "set",
        GA,
        "--rule",
        "Expiration_EndUser_Assignment",
        "--body",
        &format!("@{}", file.display()),
    ])
    .ok()
    .out_has("maximum duration        PT6H");
    assert_eq!(lab.rule(GA, "Expiration_EndUser_Assignment")["maximumDuration"], "PT6H");
}

#[test]
fn directory_commands_create_list_show_and_group_principals() {
    let lab = Lab::demo();
    let run = lab.run(&["user", "add", "Mia Wong"]).ok();
    assert!(run.stdout.starts_with("Created user Mia Wong ("), "{run}");
    assert!(run.stdout.trim_end().ends_with("), mia.wong@contoso.example"), "{run}");
    lab.run(&["user", "add", "Noah", "--upn", "noah@fabrikam.example"]).ok().out_has("noah@fabrikam.example");
    lab.fails_unchanged(&["user", "add", "Mia Wong"])
        .refused("Request_BadRequest", 400)
        .err_has("mia.wong@contoso.example");
    lab.fails_unchanged(&["user", "add", "X", "--upn", "bad"]).refused("BadRequest", 400).err_has("'bad'");
    lab.run(&["user", "list"]).ok().out_has("Mia Wong").out_has("mia.wong@contoso.example");
    lab.run(&["user", "show", "mia.wong"])
        .ok()
        .out_has("user Mia Wong (")
        .out_has("user principal name  mia.wong@contoso.example");

    lab.run(&["group", "add", "Cloud Ops", "--role-assignable", "--description", "operations"])
        .ok()
        .out_has("Created group Cloud Ops (");
    lab.run(&["group", "add-member", "Cloud Ops", "mia.wong"])
        .ok()
        .out_has("Added mia.wong to Cloud Ops as member");
    lab.fails_unchanged(&["group", "add-member", "Cloud Ops", "mia.wong"]).refused("Request_BadRequest", 400);
    lab.fails_unchanged(&["group", "add-member", "Cloud Ops", "All Staff"])
        .refused("BadRequest", 400)
        .err_has("nesting");
    lab.run(&["group", "add-member", "Cloud Ops", "noah@fabrikam.example", "--owner"])
        .ok()
        .out_has("as owner");
    let members = lab.run(&["group", "members", "Cloud Ops"]).ok().out_has("mia.wong@contoso.example");
    members.out_lacks("noah");
    let groups = lab.run(&["group", "list"]).ok();
    let row = groups.lines_with("Cloud Ops")[0].split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(row.starts_with("Cloud Ops yes 1 "), "{groups}");
    lab.run(&["group", "show", "Cloud Ops"]).ok().out_has("role-assignable      true");
    let json = lab.run(&["--json", "group", "members", "Cloud Ops"]).ok().json();
    assert_eq!(json[0]["userPrincipalName"], "mia.wong@contoso.example");

    lab.run(&["sp", "add", "Backup Robot"]).ok().out_has("Created servicePrincipal Backup Robot (");
    lab.run(&["sp", "list"]).ok().out_has("Backup Robot").out_has("Nightly Sync Automation");
    lab.run(&["sp", "show", "Backup Robot"]).ok().out_has("servicePrincipal Backup Robot (");
    assert_eq!(
        lab.run(&["--json", "sp", "show", "Backup Robot"]).ok().json()["@odata.type"],
        "#microsoft.graph.servicePrincipal"
    );

    lab.run(&["au", "add", "Americas"]).ok().out_has("Created administrativeUnit Americas (");
    lab.run(&["au", "add-member", "Americas", "mia.wong"]).ok();
    lab.run(&["au", "members", "Americas"]).ok().out_has("mia.wong@contoso.example");
    lab.run(&["au", "list"]).ok().out_has("Americas").out_has("Europe");
    lab.run(&["au", "show", "Americas"]).ok().out_has("administrativeUnit Americas (");

    // A new role-assignable group can hold a role and its member activates through it.
    lab.run(&["eligible", "assign", "-p", "Cloud Ops", "-r", "Reports Reader", "--duration", "P30D"]).ok();
    lab.run(&["--as", "mia.wong", "activate", "-r", "Reports Reader", "--duration", "1h", "-j", "x"]).ok();
    lab.run(&["user", "show", "alice"]).ok().out_has("  eligible:\n").out_has(GA);
}

#[test]
fn audit_lists_the_trail_and_filters_it() {
    let lab = Lab::demo();
    lab.run(&["clock", "advance", "1h"]).ok();
    lab.run(&["--as", "alice", "activate", "-r", GA, "--duration", "1h", "-j", "x"]).ok();
    let all = lab.run(&["audit"]).ok();
    let header = all.stdout.lines().next().unwrap();
    for column in ["time", "actor", "activity", "targets"] {
        assert!(header.contains(column), "{all}");
    }
    let ga = lab.run(&["audit", "--role", GA]).ok().out_has("Add member to role completed (PIM activation)");
    ga.out_lacks("Add user");
    let since = lab.run(&["audit", "--since", "2025-01-06T09:30:00Z"]).ok();
    assert!(since.lines_with("2025-01-06T09:00:00Z").is_empty(), "{since}");
    assert!(!since.lines_with("alice@contoso.example").is_empty(), "{since}");
    lab.run(&["audit", "--principal", "alice"]).ok().out_has("Alice Andersen").out_lacks("Ben Bakker");
    let json = lab.run(&["--json", "audit", "--role", GA, "--since", "2025-01-06T09:30:00Z"]).ok().json();
    let rows = json.as_array().unwrap();
    assert!(!rows.is_empty(), "{json}");
    assert!(
        rows.iter().all(|r| r["activityDisplayName"].is_string() && r["activityDateTime"].is_string()),
        "{json}"
    );
}

/// A retention purge's audit row names every request it removed (10,000 a working day in the
/// year bench): named whole in the table, that one cell made every row of `pimlab audit` as
/// wide, and a year's store printed gigabytes of spaces until the process ran out of memory.
#[test]
fn an_audit_table_names_a_few_of_a_purge_s_many_targets_and_counts_the_rest() {
    let lab = Lab::demo();
    lab.run(&["clock", "advance", "P46D"]).ok();
    let table = lab.run(&["audit"]).ok();
    let purge = table.lines_with("past retention");
    let [row] = purge.as_slice() else { panic!("one request purge in the trail{table}") };
    let json = lab.run(&["--json", "audit"]).ok().json();
    let purged = json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["activityDisplayName"].as_str().is_some_and(|a| a.contains("past retention")))
        .map(|r| r["targetResources"].as_array().unwrap().len())
        .unwrap();
    assert!(purged > 4, "the demo's requests are purged 45 days on: {purged}");
    let ids = row.split(", ").count();
    assert_eq!(ids, 3, "three targets named: {row}");
    assert!(row.contains(&format!("and {} more (--json lists them)", purged - 3)), "{row}");
    let widest = table.stdout.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest < 400, "no row is padded to a purge's {purged} ids: {widest} columns{table}");
}

// ---------------------------------------------------------------------------------------------
// The simulated clock
// ---------------------------------------------------------------------------------------------

#[test]
fn clock_shows_the_simulated_time() {
    let lab = Lab::demo();
    assert_eq!(lab.run(&["clock"]).ok().stdout, "2025-01-06T09:00:00Z\n");
    assert_eq!(lab.run(&["clock", "show"]).ok().stdout, "2025-01-06T09:00:00Z\n");
    assert_eq!(lab.run(&["--json", "clock"]).ok().json(), json!({"now": AT}));
}

#[test]
fn clock_advance_expires_an_activation_and_prints_the_event() {
    let lab = Lab::demo();
    let id = id_of(
        &lab.run(&["--json", "--as", "alice", "activate", "-r", GA, "--duration", "2h", "-j", "x"]).ok(),
    );
    let run = lab
        .run(&["clock", "advance", "PT3H"])
        .ok()
        .out_has("2025-01-06T09:00:00Z → 2025-01-06T12:00:00Z\n")
        .out_has(&format!("  2025-01-06T11:00:00Z expired activation of Global Administrator for Alice Andersen (schedule {id})"));
    assert!(run.stdout.contains(" 1 expired,"), "{run}");
    lab.run(&["active", "list", "--now", "-p", "alice"]).ok().out_lacks(GA);
    assert_eq!(lab.run(&["clock"]).ok().stdout, "2025-01-06T12:00:00Z\n");
    lab.run(&["audit", "--principal", "alice"]).ok().out_has("MS-PIM").out_has("PIM activation expired");
    let json = lab.run(&["--json", "clock", "advance", "8h"]).ok().json();
    assert_eq!(json["from"], "2025-01-06T12:00:00Z");
    assert_eq!(json["to"], "2025-01-06T20:00:00Z");
    assert_eq!(json["expired"], 0);
}

#[test]
fn clock_set_moves_forward_and_refuses_the_past() {
    let lab = Lab::demo();
    lab.run(&["clock", "set", "2025-01-07T00:00:00+01:00"]).ok().out_has("→ 2025-01-06T23:00:00Z");
    lab.fails_unchanged(&["clock", "set", "2025-01-06T10:00:00Z"])
        .refused("BadRequest", 400)
        .err_has("only moves forward")
        .err_has("2025-01-06T10:00:00Z");
    assert_eq!(lab.run(&["clock"]).ok().stdout, "2025-01-06T23:00:00Z\n");
}

#[test]
fn the_last_global_administrator_does_not_expire() {
    let lab = Lab::demo();
    lab.run(&["clock", "advance", "P400D"]).ok();
    lab.run(&["active", "list", "--now", "-r", GA]).ok().out_has("breakglass@contoso.example");
    lab.run(&["user", "add", "Still Admin"]).ok();
}

// ---------------------------------------------------------------------------------------------
// pimlab graph
// ---------------------------------------------------------------------------------------------

#[test]
fn graph_get_prints_the_body_and_http_status() {
    let lab = Lab::demo();
    for path in [
        format!("roleManagement/directory/roleDefinitions/{GA_ID}?$select=displayName,isBuiltIn"),
        format!("/v1.0/roleManagement/directory/roleDefinitions/{GA_ID}?$select=displayName,isBuiltIn"),
        format!(
            "https://graph.microsoft.com/v1.0/roleManagement/directory/roleDefinitions/{GA_ID}?$select=displayName,isBuiltIn"
        ),
    ] {
        let run = lab.run(&["graph", "GET", &path]);
        assert_eq!((run.code, run.stderr.as_str()), (0, "HTTP 200\n"), "{run}");
        let body = run.json();
        assert_eq!(body["displayName"], GA, "{run}");
        assert_eq!(body["isBuiltIn"], true, "{run}");
        assert!(body.get("rolePermissions").is_none(), "$select was ignored{run}");
    }
    let run = lab.run(&[
        "graph",
        "GET",
        "/beta/roleManagement/directory/roleDefinitions?$top=2&$select=displayName",
    ]);
    assert_eq!((run.code, run.stderr.as_str()), (0, "HTTP 200\n"), "{run}");
    let body = run.json();
    assert_eq!(body["value"].as_array().unwrap().len(), 2);
    assert!(body["@odata.nextLink"].as_str().unwrap().contains("$skip=2"), "{body}");
    assert!(
        body["@odata.context"].as_str().unwrap().starts_with("https://graph.microsoft.com/beta/"),
        "{body}"
    );
}

#[test]
fn graph_post_creates_and_cancel_answers_204_with_no_body() {
    let lab = Lab::demo();
    let alice = lab.object_id("user", "alice");
    let body = json!({"action": "selfActivate", "principalId": alice, "roleDefinitionId": GA_ID,
                      "directoryScopeId": "/", "justification": "x",
                      "scheduleInfo": {"startDateTime": "2025-01-07T09:00:00Z",
                                       "expiration": {"type": "afterDuration", "duration": "PT1H"}}});
    let run = lab.run(&[
        "--as",
        "alice",
        "graph",
        "POST",
        "/roleManagement/directory/roleAssignmentScheduleRequests",
        "--body",
        &body.to_string(),
    ]);
    assert_eq!((run.code, run.stderr.as_str()), (0, "HTTP 201\n"), "{run}");
    let q = run.json();
    assert_eq!(q["status"], "Granted");
    let id = q["id"].as_str().unwrap();
    let cancel = format!("/roleManagement/directory/roleAssignmentScheduleRequests/{id}/cancel");
    let run = lab.run(&["--as", "alice", "graph", "POST", &cancel]);
    assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (0, "", "HTTP 204\n"), "{run}");
    let run = lab.run(&["--as", "alice", "graph", "POST", &cancel]);
    assert_eq!((run.code, run.stderr.as_str()), (1, "HTTP 400\n"), "{run}");
    assert_eq!(run.json()["error"]["code"], "RequestCannotBeCancelled");
    let run =
        lab.run(&["graph", "GET", &format!("/roleManagement/directory/roleAssignmentScheduleRequests/{id}")]);
    assert_eq!(run.json()["status"], "Canceled", "{run}");
}

#[test]
fn graph_errors_exit_1_with_the_graph_envelope_on_stdout() {
    let lab = Lab::demo();
    let before = lab.bytes();
    let cases: [(&[&str], &str, &str); 5] = [
        (
            &["graph", "GET", "/roleManagement/directory/roleAssignmentScheduleRequests/nope"],
            "HTTP 404\n",
            "RoleAssignmentRequestNotFound",
        ),
        (&["graph", "GET", "/policies/roleManagementPolicies"], "HTTP 400\n", "BadRequest"),
        (&["graph", "POST", "/users", "--body", "{bad json"], "HTTP 400\n", "BadRequest"),
        (
            &["--as", "alice", "graph", "POST", "/users", "--body", r#"{"displayName": "M"}"#],
            "HTTP 403\n",
            "UnauthorizedAccessException",
        ),
        (&["graph", "FETCH", "/users"], "HTTP 405\n", "Request_BadRequest"),
    ];
    for (args, status, code) in cases {
        let run = lab.run(args);
        assert_eq!((run.code, run.stderr.as_str()), (1, status), "{run}");
        let error = &run.json()["error"];
        assert_eq!(error["code"], code, "{run}");
        assert!(error["message"].is_string() && error["innerError"]["request-id"].is_string(), "{run}");
    }
    assert!(lab.bytes() == before);
}

#[test]
fn graph_body_can_come_from_a_file() {
    let lab = Lab::demo();
    let file = lab.path("user.json");
    std::fs::write(
        &file,
        r#"{"displayName": "Zoe", "userPrincipalName": "zoe@contoso.example", "accountEnabled": true}"#,
    )
    .unwrap();
    let run = lab.run(&["graph", "POST", "/users", "--body", &format!("@{}", file.display())]);
    assert_eq!((run.code, run.stderr.as_str()), (0, "HTTP 201\n"), "{run}");
    assert_eq!(run.json()["userPrincipalName"], "zoe@contoso.example");
    lab.run(&["user", "show", "zoe@contoso.example"]).ok();
    let missing = lab.path("missing.json").display().to_string();
    lab.fails_unchanged(&["graph", "POST", "/users", "--body", &format!("@{missing}")])
        .usage()
        .err_has(&missing);
}

#[test]
fn graph_me_honours_select() {
    let lab = Lab::demo();
    let run = lab.run(&["--as", "alice", "graph", "GET", "/me?$select=displayName"]);
    assert_eq!(run.code, 0, "{run}");
    let body = run.json();
    assert_eq!(body["displayName"], "Alice Andersen");
    assert!(body.get("userPrincipalName").is_none(), "$select=displayName was ignored{run}");
}

// ---------------------------------------------------------------------------------------------
// Determinism
// ---------------------------------------------------------------------------------------------

/// Plays a fixed story in a fresh directory and returns every command's exit code and output.
/// The store is `--db t.db` relative to the (temporary) working directory, so the path printed by
/// `init` is the same in both runs.
fn transcript(seed: &str) -> String {
    let lab = Lab::empty();
    let mut story = String::new();
    let mut play = |args: &[&str]| -> Run {
        let mut all = vec!["--db".to_string(), "t.db".to_string()];
        all.extend(args.iter().map(|a| a.to_string()));
        let run = lab.run_raw(lab.command(), &all);
        story.push_str(&run.to_string());
        run
    };
    play(&["init", "--demo", "--seed", seed, "--at", AT]);
    play(&["eligible", "list"]);
    play(&["--as", "alice", "--no-mfa", "activate", "--role", GA, "--duration", "12h"]);
    let activation = play(&[
        "--json",
        "--as",
        "alice",
        "activate",
        "--role",
        GA,
        "--duration",
        "2h",
        "-j",
        "Key rotation",
    ]);
    play(&[
        "--as",
        "ben",
        "activate",
        "--role",
        "Helpdesk Administrator",
        "--duration",
        "1h",
        "-j",
        "resets",
    ]);
    play(&["--as", "lena", "extend", "--role", "Global Reader", "-j", "more"]);
    play(&["eligible", "extend", "-p", "lena", "-r", "Global Reader", "--duration", "P90D", "-j", "ok"]);
    play(&["user", "add", "Mia Wong"]);
    play(&[
        "graph",
        "GET",
        "/v1.0/roleManagement/directory/roleAssignmentScheduleInstances?$filter=assignmentType eq 'Activated'",
    ]);
    play(&["graph", "GET", "/nope"]);
    play(&["clock", "advance", "PT3H"]);
    play(&["active", "list", "--now"]);
    play(&["request", "explain", &id_of(&activation)]);
    play(&["--json", "requests"]);
    play(&["audit"]);
    play(&["--json", "audit"]);
    story
}

#[test]
fn the_same_seed_and_commands_give_byte_identical_output() {
    let first = transcript("7");
    let second = transcript("7");
    assert!(first == second, "two runs differ:\n{first}\n=====\n{second}");
    assert!(first.contains("selfActivate"), "the story did run:\n{first}");
    // The seed matters: another seed gives other ids.
    assert_ne!(first, transcript("8"));
}

#[test]
fn a_request_is_found_by_a_unique_beginning_of_its_id_or_as_last() {
    let lab = Lab::demo();
    let made = lab
        .run(&[
            "--as",
            "alice",
            "--json",
            "activate",
            "--role",
            "Global Administrator",
            "--duration",
            "PT1H",
            "-j",
            "x",
        ])
        .ok();
    let id = made.json()["id"].as_str().expect("id").to_string();
    lab.run(&["request", "show", "last"]).ok().out_has(&id);
    lab.run(&["request", "explain", &id[..8]]).ok().out_has(&id);
    lab.run(&["request", "show", &id[..8].to_ascii_uppercase()]).ok().out_has(&id);
    // Too short to be taken for an id, or matching nothing: the service's 404.
    lab.run(&["request", "show", "ffffffff"]).refused("RoleAssignmentRequestNotFound", 404);
    lab.run(&["request", "show", &id[..3]]).refused("RoleAssignmentRequestNotFound", 404);
}

#[test]
fn a_reading_command_in_an_empty_folder_creates_no_store_and_says_how_to_make_one() {
    let lab = Lab::empty();
    for args in [&["eligible", "list"][..], &["requests"], &["clock"], &["graph", "GET", "/v1.0/users"]] {
        let run = lab.run(args).usage();
        assert!(run.stderr.contains("there is no store at"), "{run}");
        assert!(run.stderr.contains("pimlab init --demo"), "{run}");
        assert!(!lab.db.exists(), "a reading command created the store{run}");
    }
}

#[test]
fn completions_complete_commands_in_bash_and_touch_no_store() {
    let lab = Lab::empty();
    let run = lab.run(&["completions", "bash"]).ok();
    assert!(!lab.db.exists(), "completions made a store");
    let script = lab.path("pimlab.bash");
    std::fs::write(&script, &run.stdout).expect("write the script");
    // What bash offers after `pimlab act<TAB>` and `pimlab activate --ro<TAB>`.
    let offer = |line: &str| {
        let words: Vec<&str> = line.split(' ').collect();
        let program = format!(
            "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; \
             _pimlab pimlab '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display(),
            line,
            words.len() - 1,
            words[words.len() - 1],
            words[words.len() - 2],
        );
        let out = std::process::Command::new("bash").args(["-c", &program]).output().expect("bash runs");
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect::<Vec<_>>()
    };
    assert!(offer("pimlab act").contains(&"activate".to_string()), "{:?}", offer("pimlab act"));
    assert!(
        offer("pimlab activate --ro").contains(&"--role".to_string()),
        "{:?}",
        offer("pimlab activate --ro")
    );
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        lab.run(&["completions", shell]).ok().out_has("activate");
    }
    lab.run(&["completions", "tcsh"]).usage().err_has("possible values: bash, elvish, fish, powershell, zsh");
}

#[test]
fn the_man_page_documents_every_command_and_touches_no_store() {
    let lab = Lab::empty();
    let run = lab.run(&["man"]).ok();
    assert!(run.stdout.starts_with(".ie") || run.stdout.contains(".TH pimlab 1"), "{}", run.stdout);
    for section in [".TH pimlab 1", ".SH NAME", ".SH SYNOPSIS", ".SH SUBCOMMANDS"] {
        assert!(run.stdout.contains(section), "the page lacks {section}");
    }
    for command in ["activate", "eligible", "policy", "graph", "completions"] {
        assert!(run.stdout.contains(&format!("pimlab\\-{command}")), "the page lacks {command}");
    }
    assert!(!lab.db.exists(), "man made a store");
}

/// Beta's `ticketInfo` has `ticketApproverIdentityId` and `ticketSubmitterIdentityId`: a beta
/// request keeps and echoes them; v1.0 refuses them as unknown and never shows them; beta shows
/// them null on a request made without.
#[test]
fn beta_ticket_info_keeps_who_approved_and_who_raised_the_ticket() {
    let lab = Lab::demo();
    let ben = lab.run(&["--json", "user", "show", "ben"]).ok().json()["id"].as_str().unwrap().to_string();
    let body = |ticket: Value| {
        json!({"action": "adminAssign", "principalId": ben, "roleDefinitionId": "fe930be7-5e62-47db-91af-98c3a49a38b1",
               "directoryScopeId": "/", "justification": "quarterly access review",
               "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "PT8H"}},
               "ticketInfo": ticket})
        .to_string()
    };
    let beta_ticket = json!({"ticketNumber": "CHG1", "ticketSystem": "ServiceNow",
                             "ticketApproverIdentityId": "approver-1", "ticketSubmitterIdentityId": "submitter-1"});
    // A Graph call's body, once its status line on stderr is the one expected.
    let graph = |run: Run, status: u16| {
        assert_eq!((run.code, run.stderr.clone()), (0, format!("HTTP {status}\n")), "{run}");
        run.json()
    };
    let requests = "roleManagement/directory/roleAssignmentScheduleRequests";
    let refused =
        lab.run(&["graph", "POST", &format!("/v1.0/{requests}"), "--body", &body(beta_ticket.clone())]);
    assert!(refused.code != 0 && refused.stdout.contains("ticketApproverIdentityId"), "{refused}");
    let made = graph(
        lab.run(&["graph", "POST", &format!("/beta/{requests}"), "--body", &body(beta_ticket.clone())]),
        201,
    );
    assert_eq!(made["ticketInfo"], beta_ticket);
    let id = made["id"].as_str().unwrap();
    let again = graph(lab.run(&["graph", "GET", &format!("/beta/{requests}/{id}")]), 200);
    assert_eq!(again["ticketInfo"], beta_ticket, "kept in the store");
    let v1 = graph(lab.run(&["graph", "GET", &format!("/v1.0/{requests}/{id}")]), 200);
    assert_eq!(v1["ticketInfo"], json!({"ticketNumber": "CHG1", "ticketSystem": "ServiceNow"}));
    lab.run(&["--as", "alice", "activate", "-r", "Global Administrator", "--duration", "1h", "-j", "x"]).ok();
    let plain =
        graph(lab.run(&["graph", "GET", &format!("/beta/{requests}?$filter=action eq 'selfActivate'")]), 200);
    assert_eq!(
        plain["value"][0]["ticketInfo"],
        json!({"ticketNumber": null, "ticketSystem": null,
               "ticketApproverIdentityId": null, "ticketSubmitterIdentityId": null})
    );
}

/// A store written before beta's ticket properties (schema version 1) opens and is upgraded in
/// place: its requests read as before, with the new properties empty. (Each of these tests turns
/// the schema-9 store of `fixtures/v9`, which an older pimlab made, back into the older version.)
#[test]
fn a_version_1_store_is_upgraded_and_reads_as_before() {
    let lab = Lab::v9();
    let before = v9_output("--json requests");
    let conn = rusqlite::Connection::open(&lab.db).unwrap();
    conn.execute_batch(
        "ALTER TABLE requests DROP COLUMN ticket_approver_id;
         ALTER TABLE requests DROP COLUMN ticket_submitter_id;
         DROP TABLE azure_scopes;
         DROP INDEX requests_by_client_name;
         ALTER TABLE requests DROP COLUMN client_name;
         DROP TABLE azure_role_definitions;
         DROP TABLE app_permissions;
         ALTER TABLE requests DROP COLUMN created_by_app;
         ALTER TABLE directory_objects DROP COLUMN on_premises_sync;
         DROP TABLE marks;
         DROP TABLE alert_settings; PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(conn);
    assert_eq!(lab.run(&["--json", "requests"]).ok().stdout, before);
    let conn = rusqlite::Connection::open(&lab.db).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, pimlab::store::SCHEMA_VERSION);
    let nulls: i64 = conn
        .query_row("SELECT count(*) FROM requests WHERE ticket_approver_id IS NULL", [], |r| r.get(0))
        .unwrap();
    assert!(nulls > 0);
}

/// A store written before the Azure estate (schema version 2) opens with a tree of one scope: the
/// tenant root management group, named after the tenant, added at the store's clock.
#[test]
fn a_version_2_store_is_upgraded_with_its_tenant_root_management_group() {
    let lab = Lab::v9();
    let conn = rusqlite::Connection::open(&lab.db).unwrap();
    let tenant: String =
        conn.query_row("SELECT value FROM meta WHERE key = 'tenant_id'", [], |r| r.get(0)).unwrap();
    let clock: String =
        conn.query_row("SELECT value FROM meta WHERE key = 'clock'", [], |r| r.get(0)).unwrap();
    let clock =
        pimlab::model::time::format_timestamp(pimlab::model::time::from_millis(clock.parse().unwrap()));
    conn.execute_batch(
        "DROP TABLE azure_scopes; DROP INDEX requests_by_client_name; ALTER TABLE requests DROP COLUMN client_name;
         DROP TABLE azure_role_definitions; DROP TABLE app_permissions;
         ALTER TABLE requests DROP COLUMN created_by_app;
         ALTER TABLE directory_objects DROP COLUMN on_premises_sync; DROP TABLE marks; DROP TABLE alert_settings; PRAGMA user_version = 2;",
    )
    .unwrap();
    drop(conn);
    let scopes = lab.run(&["--json", "scope", "list"]).ok().json();
    let scopes = scopes.as_array().unwrap();
    assert_eq!(scopes.len(), 1, "{scopes:#?}");
    assert_eq!(scopes[0]["displayName"], "Tenant Root Group");
    assert_eq!(scopes[0]["type"], "managementgroup");
    assert_eq!(scopes[0]["createdDateTime"], clock.as_str());
    assert_eq!(scopes[0]["name"], tenant.as_str());
    lab.run(&["scope", "add", "/subscriptions/11111111-1111-4111-8111-111111111111"]).ok();
}

/// A store written before custom Azure roles (schema version 4) opens and takes one.
#[test]
fn a_version_4_store_is_upgraded_and_takes_custom_azure_roles() {
    let lab = Lab::v9();
    let conn = rusqlite::Connection::open(&lab.db).unwrap();
    conn.execute_batch(
        "DROP TABLE azure_role_definitions; DROP TABLE app_permissions;
         ALTER TABLE requests DROP COLUMN created_by_app;
         ALTER TABLE directory_objects DROP COLUMN on_premises_sync; DROP TABLE marks; DROP TABLE alert_settings; PRAGMA user_version = 4;",
    )
    .unwrap();
    drop(conn);
    lab.run(&["role", "list", "--azure"]).ok().out_has("Owner");
    lab.run(&["role", "add", "Reader Plus", "--azure", "--scope", "rg-prod-app", "--action", "*/read"])
        .ok()
        .out_has("Defined custom Azure role Reader Plus");
}

/// A store written before marks (schema version 7, which also kept no record of how its tenant
/// was created) takes a mark, and exports its changes since its creation from the break-glass
/// administrator's creation time and a tenant without the demonstration organisation.
#[test]
fn a_version_7_store_is_upgraded_and_takes_marks() {
    let lab = Lab::v9();
    let conn = rusqlite::Connection::open(&lab.db).unwrap();
    conn.execute_batch(
        "DROP TABLE marks; DROP TABLE alert_settings; DELETE FROM meta WHERE key IN ('created_at', 'created_with_demo');
         PRAGMA user_version = 7;",
    )
    .unwrap();
    drop(conn);
    lab.run(&["mark", "upgraded"]).ok().out_has("Set the mark 'upgraded'");
    lab.run(&["export", "--since", "upgraded"]).ok().out_has("Nothing to do");
    lab.run(&["export"])
        .ok()
        .out_has("since the tenant was created (2025-01-06T09:00:00Z)")
        .out_has("Create the user Alice Andersen");
}

/// A store written before alerts had settings (schema version 8) is upgraded: every alert at its
/// defaults, then a threshold changed and kept.
#[test]
fn a_version_8_store_is_upgraded_and_keeps_alert_settings() {
    let lab = Lab::v9();
    let conn = rusqlite::Connection::open(&lab.db).unwrap();
    conn.execute_batch("DROP TABLE alert_settings; PRAGMA user_version = 8;").unwrap();
    drop(conn);
    lab.run(&["alerts", "config"]).ok().out_has("globalAdminCountThreshold");
    lab.run(&["alerts", "set", "stale", "duration=P14D"]).ok();
    lab.run(&["alerts", "config"]).ok().out_has("P14D");
    let conn = rusqlite::Connection::open(&lab.db).unwrap();
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(v, pimlab::store::SCHEMA_VERSION);
}

/// `init --force` empties every table: an earlier tenant's application grants, custom Azure roles
/// and marks went with it (they were left behind before, and a new tenant's apps inherited the
/// old grants).
#[test]
fn init_force_forgets_the_old_tenant_s_app_grants_custom_azure_roles_and_marks() {
    let lab = Lab::demo();
    lab.run(&["app", "add", "Pipeline"]).ok();
    lab.run(&["app", "grant", "Pipeline", "RoleManagement.Read.Directory", "--application"]).ok();
    lab.run(&["role", "add", "Reader Plus", "--azure", "--scope", "rg-prod-app", "--action", "*/read"]).ok();
    lab.run(&["mark", "old"]).ok();
    lab.run(&["alerts", "set", "stale", "duration=P14D"]).ok();
    lab.run(&["init", "--force", "--demo", "--seed", "7", "--at", AT]).ok();
    let conn = rusqlite::Connection::open(&lab.db).unwrap();
    for table in ["app_permissions", "azure_role_definitions", "marks", "alert_settings"] {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0, "{table} kept rows of the old tenant");
    }
}

/// `eligible list --mine` lists the caller's eligibilities, and a principal's listing includes what
/// it holds through a role-assignable group, as the member with memberType Group (alice is in
/// Tier-0 Admins, eligible for Privileged Role Administrator).
#[test]
fn eligible_list_mine_shows_what_the_caller_holds_directly_and_through_groups() {
    let lab = Lab::demo();
    let alice = lab.run(&["--json", "user", "show", "alice"]).ok().json()["id"].as_str().unwrap().to_string();
    let mine = lab.run(&["--json", "--as", "alice", "eligible", "list", "--mine"]).ok().listing();
    let by_name = lab.run(&["--json", "eligible", "list", "-p", "alice"]).ok().listing();
    assert_eq!(mine, by_name);
    let held: Vec<(String, String)> = mine
        .iter()
        .map(|s| {
            assert_eq!(s["principalId"], alice.as_str(), "{s:#}");
            (
                s["roleDefinitionId"].as_str().unwrap().to_string(),
                s["memberType"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(held.contains(&(GA_ID.to_string(), "Direct".to_string())), "{held:?}");
    assert!(
        held.contains(&("e8611ab8-c189-46e8-94e1-60213ab1f814".to_string(), "Group".to_string())),
        "{held:?}"
    );
    lab.run(&["--as", "alice", "eligible", "list", "--mine"]).ok().out_has("Eligible/Group");
    lab.run(&["eligible", "list", "--mine", "-p", "ben"]).usage().err_has("--mine");
}

/// A mistyped command's tip lists the closest first: for every command, the command with its last
/// letter dropped is answered with that command as the first suggestion (clap listed it last, so
/// `activat` read as a hint towards `active`).
#[test]
fn a_mistyped_command_is_told_the_closest_command_first() {
    let lab = Lab::empty();
    let help = lab.run(&["--help"]).ok().stdout;
    let commands: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with(' ') || l.is_empty())
        // A command's own line; a description that wraps is indented further.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c.len() > 4 && c != "help")
        .collect();
    assert!(commands.len() > 10, "{commands:?}");
    for command in &commands {
        let typed = &command[..command.len() - 1];
        if commands.iter().any(|c| c == typed) {
            continue; // `request` and `requests` are both commands
        }
        let run = lab.run(&[typed]).usage();
        let tip = run.stderr.lines().find(|l| l.contains("tip:")).unwrap_or_default();
        let first = tip.split('\'').nth(1);
        assert_eq!(first, Some(command.as_str()), "{typed}: {tip}");
    }
    assert!(!lab.db.exists(), "a mistyped command made a store");
}

/// The words of a command's output, in order (a table's rule lines left out): what wrapping a
/// table must keep.
fn words_of(text: &str) -> Vec<&str> {
    text.split_whitespace().filter(|w| !w.chars().all(|c| c == '─')).collect()
}

#[test]
fn tables_fit_pimlab_width_by_wrapping_between_words() {
    let lab = Lab::demo();
    let full = lab.run(&["config", "fidelity"]).ok();
    assert!(full.stdout.lines().any(|l| l.chars().count() > 100), "the unfitted table is wider{full}");
    let fitted = lab.run_at_width("100", &["config", "fidelity"]).ok();
    assert!(fitted.stdout.lines().all(|l| l.chars().count() <= 100), "a line is wider than 100{fitted}");
    let mut a = words_of(&full.stdout);
    let mut b = words_of(&fitted.stdout);
    a.sort();
    b.sort();
    assert_eq!(a, b, "wrapping lost or cut a word");
    // PIMLAB_WIDTH=0: never wrap, even on a terminal.
    assert_eq!(lab.run_at_width("0", &["config", "fidelity"]).ok().stdout, full.stdout);
}

#[test]
fn a_table_too_wide_to_fit_readably_keeps_its_full_width() {
    let lab = Lab::demo();
    let full = lab.run(&["eligible", "list"]).ok();
    // An id, two times, a type and a status already need more than 80 columns.
    assert_eq!(lab.run_at_width("80", &["eligible", "list"]).ok().stdout, full.stdout);
}

#[test]
fn a_bad_pimlab_width_is_a_usage_error_naming_the_value() {
    let lab = Lab::demo();
    for bad in ["wide", "-3", "12", "99999"] {
        lab.run_at_width(bad, &["config", "fidelity"]).usage().err_has(&format!("PIMLAB_WIDTH is '{bad}'"));
    }
}

/// What a line of an error on stderr says, without its prefix (`error: CODE (HTTP n): `,
/// `  - CODE [target]: `, `  hint: `).
fn said(line: &str) -> &str {
    let line = line.trim_start();
    let rest = line.strip_prefix("error: ").or_else(|| line.strip_prefix("- ")).unwrap_or(line);
    let rest = rest.strip_prefix("hint: ").unwrap_or(rest);
    match rest.find("): ").or_else(|| rest.find("]: ")) {
        Some(i) if i < 80 => &rest[i + 3..],
        _ => rest.split_once(": ").map_or(rest, |(_, r)| r),
    }
}

/// Refusals of every kind the command line reports: none says the same thing twice (an invalid
/// value's detail used to repeat its headline word for word).
#[test]
fn no_refusal_prints_its_text_twice() {
    let lab = Lab::demo();
    let refused: &[&[&str]] = &[
        &["clock", "set", "2020-01-01T00:00:00Z"],
        &["clock", "advance", "P99999999D"],
        &["hook", "test", "nope", "--request", "{}"],
        &["request", "show", "nope"],
        &["activate", "--role", "Nope"],
        &["eligible", "assign", "-p", "nobody", "-r", "Global Reader"],
        &["policy", "set", "Global Reader", "--rule", "X", "--body", "{}"],
        &["--as", "alice", "activate", "-r", GA, "--duration", "PT10H"],
        &["--as", "alice", "--no-mfa", "activate", "-r", GA, "--duration", "PT1H"],
        &["eligible", "assign", "-p", "alice", "-r", GA, "--duration", "P400D", "-j", "x"],
        &["approve", "abcd", "-j", "x"],
        &["user", "add", "--name", ""],
        &["role", "delete", "Global Administrator"],
        &["init", "--demo"],
    ];
    let mut report = Vec::new();
    for args in refused {
        let run = lab.run(args);
        assert_ne!(run.code, 0, "{args:?} was not refused{run}");
        let lines: Vec<&str> = run.stderr.lines().map(said).filter(|l| l.len() > 10).collect();
        for (i, a) in lines.iter().enumerate() {
            for b in lines.iter().skip(i + 1) {
                if a.contains(b) || b.contains(a) {
                    report.push(format!("{args:?} says twice: {a:?} / {b:?}\n{}", run.stderr));
                }
            }
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

/// Every way `scope add` can be wrong: the real ARM code where ARM has one, the value named, and
/// the store exactly as it was.
#[test]
fn a_scope_that_cannot_be_added_is_refused_and_changes_nothing() {
    let lab = Lab::demo();
    let prod = "/subscriptions/8a1f3c52-6d0e-4b7a-9c21-5e4d3f2a1b00";
    let nowhere = "/subscriptions/11111111-1111-4111-8111-111111111111";
    let cases: Vec<(Vec<String>, &str, u16, &str)> = vec![
        (vec![prod.into()], "ScopeExists", 409, "already exists"),
        (
            vec![prod.to_uppercase().replace("SUBSCRIPTIONS", "subscriptions")],
            "ScopeExists",
            409,
            "already exists",
        ),
        (vec![format!("{nowhere}/resourceGroups/rg")], "SubscriptionNotFound", 404, nowhere),
        (
            vec![format!("{prod}/resourceGroups/nope/providers/Microsoft.KeyVault/vaults/kv")],
            "ResourceGroupNotFound",
            404,
            "nope",
        ),
        (vec!["/subscriptions/not-a-guid".into()], "BadRequest", 400, "'not-a-guid' is not a GUID"),
        (vec!["/".into()], "BadRequest", 400, "directory"),
        (
            vec![nowhere.into(), "--parent".into(), "rg-prod-app".into()],
            "BadRequest",
            400,
            "goes under a management group",
        ),
        (vec![nowhere.into(), "--parent".into(), "Atlantis".into()], "ResourceNotFound", 404, "Atlantis"),
        (
            vec![format!("{prod}/resourceGroups/rg2"), "--parent".into(), "Contoso".into()],
            "BadRequest",
            400,
            "parent is in its path",
        ),
        (vec![nowhere.into(), "--name".into(), "x".repeat(257)], "BadRequest", 400, "256"),
    ];
    for (args, code, status, says) in cases {
        let mut all = vec!["scope", "add"];
        all.extend(args.iter().map(String::as_str));
        lab.fails_unchanged(&all).refused(code, status).err_has(says);
    }
    lab.fails_unchanged(&["--as", "alice", "scope", "add", nowhere])
        .refused("UnauthorizedAccessException", 403);
}

#[test]
fn scopes_are_found_by_any_spelling_of_their_path_or_by_name() {
    let lab = Lab::demo();
    let by_name = lab.run(&["--json", "scope", "show", "rg-prod-data"]).ok().json();
    let spelled = "providers/Microsoft.Subscription/SUBSCRIPTIONS/8A1F3C52-6D0E-4B7A-9C21-5E4D3F2A1B00/resourcegroups/RG-PROD-DATA/";
    assert_eq!(lab.run(&["--json", "scope", "show", spelled]).ok().json(), by_name);
    let ancestors: Vec<&str> =
        by_name["ancestors"].as_array().unwrap().iter().map(|a| a["displayName"].as_str().unwrap()).collect();
    assert_eq!(ancestors, ["Contoso Production", "Contoso", "Tenant Root Group"]);
    assert_eq!(by_name["children"].as_array().unwrap().len(), 2);
    // Reading the estate never creates a store.
    let empty = tempfile::tempdir().unwrap();
    assert_ne!(crate::harness::cli::run_in(empty.path(), &["scope", "list"]).code, 0);
    assert!(!empty.path().join("pimlab.db").exists());
}

// ---------------------------------------------------------------------------------------------
// Azure resource roles through the command line (the demo estate)
// ---------------------------------------------------------------------------------------------

const PROD: &str = "/subscriptions/8a1f3c52-6d0e-4b7a-9c21-5e4d3f2a1b00";
const DEV: &str = "/subscriptions/3c9e7b14-2f5a-4d68-8e03-b1a2c4d5e6f7";

/// Alice made eligible for Owner of the production subscription, for 90 days.
fn alice_eligible_for_owner_of_prod(lab: &Lab) {
    let args = [
        "eligible",
        "assign",
        "-p",
        "alice",
        "-r",
        "Owner",
        "--scope",
        PROD,
        "--duration",
        "P90D",
        "-j",
        "x",
    ];
    lab.run(&args).ok();
}

/// Just-enough access (arm-pim §2.2): an eligibility at a subscription covers the resource groups
/// and resources below it, not a sibling subscription; the activation is a role assignment at the
/// scope asked for, and it expires on the simulated clock.
#[test]
fn an_azure_eligibility_at_a_subscription_is_activated_at_a_resource_group_below_it() {
    let lab = Lab::demo();
    lab.run(&[
        "eligible",
        "assign",
        "-p",
        "alice",
        "-r",
        "Owner",
        "--scope",
        PROD,
        "--duration",
        "P90D",
        "-j",
        "On call",
    ])
    .ok()
    .out_has("Provisioned");
    lab.run(&[
        "--as",
        "alice",
        "activate",
        "-r",
        "Owner",
        "--scope",
        "rg-prod-data",
        "--duration",
        "2h",
        "-j",
        "Rotate the vault keys",
    ])
    .ok()
    .out_has("Provisioned");
    lab.run(&[
        "--as",
        "alice",
        "activate",
        "-r",
        "owner",
        "--scope",
        "kv-contoso-prod",
        "--duration",
        "1h",
        "-j",
        "Just the vault",
    ])
    .ok();
    lab.fails_unchanged(&[
        "--as",
        "alice",
        "activate",
        "-r",
        "Owner",
        "--scope",
        DEV,
        "--duration",
        "1h",
        "-j",
        "Not mine",
    ])
    .refused("RoleAssignmentRequestPolicyValidationFailed", 400)
    .err_has("EligibilityRule");
    let active = lab.run(&["active", "list", "--now", "-p", "alice"]).ok();
    assert!(
        active.stdout.contains("rg-prod-data (resourceGroup)") && active.stdout.contains("Owner"),
        "{active}"
    );
    lab.run(&["clock", "advance", "3h"]).ok();
    assert!(!lab.run(&["active", "list", "--now", "-p", "alice"]).ok().stdout.contains("Owner"));
}

/// Admin requests for an Azure role need an active Azure role that may write role assignments at
/// the scope or above it (arm-pim §2.4); a directory administrator role is not enough.
#[test]
fn azure_admin_requests_need_an_azure_role_that_may_assign_at_or_above_the_scope() {
    let lab = Lab::demo();
    // Dev holds Privileged Role Administrator through Tier-0 only as an eligibility; alice is
    // eligible for Global Administrator: neither is an Azure role.
    lab.run(&["--as", "alice", "activate", "-r", "Global Administrator", "--duration", "1h", "-j", "x"]).ok();
    lab.fails_unchanged(&[
        "--as",
        "alice",
        "eligible",
        "assign",
        "-p",
        "ben",
        "-r",
        "Reader",
        "--scope",
        PROD,
        "--duration",
        "P30D",
        "-j",
        "x",
    ])
    .refused("AuthorizationFailed", 403)
    .err_has("Microsoft.Authorization/roleAssignments/write");
    // The break-glass administrator (elevated at the tenant root group) makes ben Owner of one
    // resource group: ben may then assign there, and below it, but not beside it or above it.
    lab.run(&[
        "active",
        "assign",
        "-p",
        "ben",
        "-r",
        "Owner",
        "--scope",
        "rg-prod-app",
        "--duration",
        "P30D",
        "-j",
        "App team lead",
    ])
    .ok();
    lab.run(&[
        "--as",
        "ben",
        "eligible",
        "assign",
        "-p",
        "chloe",
        "-r",
        "Reader",
        "--scope",
        "rg-prod-app",
        "--duration",
        "P30D",
        "-j",
        "Read the app",
    ])
    .ok()
    .out_has("Provisioned");
    for scope in ["rg-prod-data", PROD] {
        lab.fails_unchanged(&[
            "--as",
            "ben",
            "eligible",
            "assign",
            "-p",
            "chloe",
            "-r",
            "Reader",
            "--scope",
            scope,
            "--duration",
            "P30D",
            "-j",
            "x",
        ])
        .refused("AuthorizationFailed", 403);
    }
}

/// Azure's default role settings (arm-pim §3.5, §7.1): an eligibility or active assignment must
/// end, within a year or six months; and each scope has its own settings.
#[test]
fn azure_default_settings_require_an_end_and_refuse_what_they_do_not_allow() {
    let lab = Lab::demo();
    lab.fails_unchanged(&[
        "eligible",
        "assign",
        "-p",
        "alice",
        "-r",
        "Contributor",
        "--scope",
        "rg-dev-app",
        "--permanent",
        "-j",
        "x",
    ])
    .refused("RoleAssignmentRequestPolicyValidationFailed", 400)
    .err_has("ExpirationRule")
    .err_has("P365D");
    lab.fails_unchanged(&[
        "active",
        "assign",
        "-p",
        "alice",
        "-r",
        "Contributor",
        "--scope",
        "rg-dev-app",
        "--duration",
        "P200D",
        "-j",
        "x",
    ])
    .refused("RoleAssignmentRequestPolicyValidationFailed", 400)
    .err_has("P180D");
    lab.run(&[
        "eligible",
        "assign",
        "-p",
        "alice",
        "-r",
        "Contributor",
        "--scope",
        "rg-dev-app",
        "--duration",
        "P365D",
        "-j",
        "x",
    ])
    .ok();
}

#[test]
fn azure_requests_name_a_scope_and_a_role_the_estate_and_the_catalog_have() {
    let lab = Lab::demo();
    let assign = |role: &str, scope: &str| {
        vec![
            "eligible",
            "assign",
            "-p",
            "alice",
            "-r",
            role,
            "--scope",
            scope,
            "--duration",
            "P30D",
            "-j",
            "x",
        ]
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| lab.fails_unchanged(&args.iter().map(String::as_str).collect::<Vec<_>>());
    run(assign("Owner", "/subscriptions/11111111-1111-4111-8111-111111111111"))
        .refused("SubscriptionNotFound", 404);
    run(assign("Owner", &format!("{PROD}/resourceGroups/rg-none"))).refused("ResourceGroupNotFound", 404);
    run(assign("Global Administrator", PROD)).refused("RoleDefinitionDoesNotExist", 400);
    run(assign("Reservations Administrator", "rg-prod-app"))
        .refused("RoleDefinitionDoesNotExist", 400)
        .err_has("/providers/Microsoft.Capacity");
}

/// The directory's Graph API lists directory roles only: Azure roles live in the same store and
/// answer over ARM.
#[test]
fn graph_lists_no_azure_role_schedules_or_assignments() {
    let lab = Lab::demo();
    alice_eligible_for_owner_of_prod(&lab);
    for path in [
        "/roleManagement/directory/roleAssignments",
        "/roleManagement/directory/roleEligibilitySchedules",
        "/roleManagement/directory/roleAssignmentScheduleInstances",
        "/roleManagement/directory/roleEligibilityScheduleRequests",
    ] {
        let run = lab.run(&["graph", "GET", path]);
        assert_eq!(run.code, 0, "{run}");
        assert!(
            !run.stdout.contains("/subscriptions/") && !run.stdout.contains("managementGroups"),
            "{path}: {run}"
        );
    }
}

/// Found by testing: two activations at Azure scopes whose paths end in no GUID (a resource group
/// and a resource) got the same instance id and the second failed with a 500. Every scope of the
/// estate under a subscription gets its own activation, each with its own role assignment.
#[test]
fn azure_activations_at_every_scope_below_an_eligibility_have_distinct_role_assignments() {
    let lab = Lab::demo();
    lab.run(&[
        "eligible",
        "assign",
        "-p",
        "alice",
        "-r",
        "Reader",
        "--scope",
        PROD,
        "--duration",
        "P90D",
        "-j",
        "x",
    ])
    .ok();
    let below: Vec<String> = lab
        .run(&["--json", "scope", "list"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .filter(|id| id.starts_with(PROD))
        .collect();
    assert_eq!(below.len(), 5, "{below:?}");
    for scope in &below {
        lab.run(&[
            "--as",
            "alice",
            "activate",
            "-r",
            "Reader",
            "--scope",
            scope,
            "--duration",
            "1h",
            "-j",
            "x",
        ])
        .ok();
    }
    let active = lab.run(&["--json", "active", "list", "--now", "-p", "alice"]).ok().listing();
    let mut ids: Vec<&str> = active.iter().filter_map(|a| a["id"].as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), below.len(), "{active:#?}");
}

/// Each scope has its own settings (arm-pim §2.2): requiring approval for Owner on the production
/// subscription holds there, not on a resource group below it, where the defaults still apply
/// (which scope's settings govern an activation below an eligibility is unconfirmed; pimlab takes
/// the scope activated at). Changing them needs an Azure role that may assign there.
#[test]
fn azure_role_settings_are_per_scope_and_an_approval_there_is_decided_as_any() {
    let lab = Lab::demo();
    lab.run(&[
        "policy",
        "set",
        "Owner",
        "--scope",
        "Contoso Production",
        "--require-approval",
        "true",
        "--approver",
        "kenji",
    ])
    .ok()
    .out_has("Updated Approval_EndUser_Assignment of Owner");
    lab.run(&["policy", "show", "Owner", "--scope", PROD]).ok().out_has("approval required       yes");
    lab.run(&["policy", "show", "Owner", "--scope", "rg-prod-app"])
        .ok()
        .out_has("approval required       no");
    alice_eligible_for_owner_of_prod(&lab);
    let waiting = lab
        .run(&[
            "--json",
            "--as",
            "alice",
            "activate",
            "-r",
            "Owner",
            "--scope",
            PROD,
            "--duration",
            "1h",
            "-j",
            "Prod change",
        ])
        .ok()
        .json();
    assert_eq!(waiting["status"], "PendingApproval");
    let id = waiting["id"].as_str().unwrap();
    lab.run(&["--as", "kenji", "approve", id, "-j", "Change approved"]).ok().out_has("Provisioned");
    lab.run(&[
        "--as",
        "alice",
        "activate",
        "-r",
        "Owner",
        "--scope",
        "rg-prod-app",
        "--duration",
        "1h",
        "-j",
        "x",
    ])
    .ok()
    .out_has("Provisioned");
    lab.fails_unchanged(&[
        "--as",
        "ben",
        "policy",
        "set",
        "Owner",
        "--scope",
        "rg-prod-app",
        "--activation-max",
        "2h",
    ])
    .refused("AuthorizationFailed", 403)
    .err_has("Microsoft.Authorization/roleManagementPolicies/write");
    lab.fails_unchanged(&[
        "policy",
        "set",
        "Global Administrator",
        "--scope",
        "rg-prod-app",
        "--activation-max",
        "2h",
    ])
    .refused("RoleDefinitionDoesNotExist", 400);
    lab.fails_unchanged(&["policy", "show", "Global Administrator", "--scope", "/"])
        .refused("BadRequest", 400);
}

/// Found by the least-privilege lesson: a member could not activate an Azure eligibility held by
/// a group that is not role-assignable, because only role-assignable groups were searched (the
/// directory's rule). Azure RBAC takes any group.
#[test]
fn an_azure_eligibility_held_by_any_group_is_activated_by_its_members() {
    let lab = Lab::demo();
    // "All Staff" is a security group that is not role-assignable; alice is in it.
    let args = [
        "eligible",
        "assign",
        "-p",
        "All Staff",
        "-r",
        "Reader",
        "--scope",
        "rg-prod-app",
        "--duration",
        "P30D",
        "-j",
        "x",
    ];
    lab.run(&args).ok();
    let activated = lab
        .run(&[
            "--json",
            "--as",
            "alice",
            "activate",
            "-r",
            "Reader",
            "--scope",
            "rg-prod-app",
            "--duration",
            "1h",
            "-j",
            "Look",
        ])
        .ok()
        .json();
    assert_eq!(activated["status"], "Provisioned");
    let held = lab.run(&["--json", "active", "list", "--now", "-p", "alice"]).ok().listing();
    assert!(held.iter().any(|s| s["memberType"] == "Group"), "{held:#?}");
    // A directory role still needs a role-assignable group.
    lab.fails_unchanged(&[
        "eligible",
        "assign",
        "-p",
        "All Staff",
        "-r",
        "Global Reader",
        "--duration",
        "P30D",
        "-j",
        "x",
    ])
    .refused("InvalidPrincipalForRoleAssignment", 400);
}

/// Azure roles mail as directory roles do, under the scope's settings: the requestor, the
/// approvers, and as admins the holders of an Azure role that may assign at the scope or above
/// (here the break-glass administrator, elevated at the tenant root group).
#[test]
fn azure_role_requests_send_the_mails_their_scopes_settings_call_for() {
    let lab = Lab::demo();
    lab.run(&[
        "policy",
        "set",
        "Owner",
        "--scope",
        "Contoso Production",
        "--require-approval",
        "true",
        "--approver",
        "kenji",
    ])
    .ok();
    lab.run(&[
        "eligible",
        "assign",
        "-p",
        "dev",
        "-r",
        "Owner",
        "--scope",
        "Contoso Production",
        "--duration",
        "P30D",
        "-j",
        "x",
    ])
    .ok();
    lab.run(&[
        "--as",
        "dev",
        "activate",
        "-r",
        "Owner",
        "--scope",
        "Contoso Production",
        "--duration",
        "1h",
        "-j",
        "x",
    ])
    .ok();
    let mails = lab.run(&["notifications"]).ok().stdout;
    for (event, to) in [
        ("EligibleAssignmentMade", "dev@contoso.example (Requestor)"),
        ("EligibleAssignmentMade", "breakglass@contoso.example (Admin)"),
        ("ApprovalRequested", "kenji@contoso.example (Approver)"),
    ] {
        assert!(
            mails.lines().any(|l| l.contains(event) && l.contains(to) && l.contains("Owner role")),
            "no {event} to {to}:\n{mails}"
        );
    }
}

/// Hooks see an Azure role as they see a directory role (its name, its scope's settings) and the
/// scope's ancestry, nearest first, so a rule can cover everything under a subscription.
#[test]
fn hooks_see_an_azure_roles_scope_ancestry_and_its_scopes_settings() {
    let lab = Lab::demo();
    let hook = r#"return { validate = function(request, ctx)
  if ctx.role.displayName ~= "Owner" or request.action ~= "selfActivate" then return nil end
  for _, scope in ipairs(ctx.scopeAncestry) do
    if scope == "/subscriptions/8a1f3c52-6d0e-4b7a-9c21-5e4d3f2a1b00" then
      local max
      for _, rule in ipairs(ctx.policy.rules) do
        if rule.id == "Expiration_EndUser_Assignment" then max = rule.maximumDuration end
      end
      return { deny = "ProductionOwner", message = "no Owner activations under production (its settings allow " .. max .. ")" }
    end
  end
end }
"#;
    std::fs::write(lab.dir.path().join("prod-owner.lua"), hook).unwrap();
    lab.run(&["hook", "add", "prod-owner", "--file", "prod-owner.lua"]).ok();
    for scope in [PROD, DEV] {
        let args = [
            "eligible",
            "assign",
            "-p",
            "alice",
            "-r",
            "Owner",
            "--scope",
            scope,
            "--duration",
            "P30D",
            "-j",
            "x",
        ];
        lab.run(&args).ok();
    }
    lab.fails_unchanged(&[
        "--as",
        "alice",
        "activate",
        "-r",
        "Owner",
        "--scope",
        "kv-contoso-prod",
        "--duration",
        "1h",
        "-j",
        "x",
    ])
    .refused("RoleAssignmentRequestPolicyValidationFailed", 400)
    .err_has("no Owner activations under production (its settings allow PT8H)");
    lab.run(&[
        "--as",
        "alice",
        "activate",
        "-r",
        "Owner",
        "--scope",
        "rg-dev-app",
        "--duration",
        "1h",
        "-j",
        "x",
    ])
    .ok()
    .out_has("Provisioned");
}

#[test]
fn role_list_azure_and_role_show_of_an_azure_role_with_its_holders() {
    let lab = Lab::demo();
    let all = lab.run(&["--json", "role", "list", "--azure"]).ok().listing();
    assert_eq!(all.len(), 38);
    let privileged = lab.run(&["role", "list", "--azure", "--privileged"]).ok().stdout;
    for name in
        ["Owner", "Contributor", "User Access Administrator", "Role Based Access Control Administrator"]
    {
        assert!(privileged.contains(name), "{privileged}");
    }
    assert!(!privileged.contains("Reader "), "{privileged}");
    alice_eligible_for_owner_of_prod(&lab);
    lab.run(&["role", "show", "owner"])
        .ok()
        .out_has("Gives complete control")
        .out_has("Contoso Production (subscription)");
    lab.run(&["role", "show", "Global Administrator"]).ok().out_lacks("Contoso Production");
    lab.fails_unchanged(&["role", "show", "Chief Coffee Officer"]).refused("RoleNotFound", 404);
}

/// What `pimlab --db LAB ARGS` shows on a (pseudo-)terminal made by util-linux's `script`, which
/// must succeed: the screen, standard output and standard error together.
fn on_a_terminal(lab: &Lab, args: &str) -> String {
    let command = format!("{} --db {} {args}", crate::harness::cli::BIN, lab.db.display());
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(lab.dir.path())
        .env_remove("PIMLAB_DB")
        .stdin(Stdio::null())
        .output()
        .expect("util-linux's script runs");
    let screen = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{screen}");
    screen
}

/// A clock advance reports its progress in simulated minutes: on a terminal (a pseudo-terminal
/// made by util-linux's `script`) a bar is drawn on standard error and cleared, and the story
/// follows; piped, nothing but the story.
#[test]
fn a_clock_advance_draws_a_progress_bar_on_a_terminal_only() {
    let lab = Lab::demo();
    let piped = lab.run(&["clock", "advance", "P7D"]).ok();
    assert!(!piped.stdout.contains('\u{1b}'), "control sequences on a pipe{piped}");
    let screen = on_a_terminal(&lab, "clock advance P7D");
    assert!(screen.contains("simulated minutes ["), "no bar in {screen:?}");
    assert!(screen.contains("\u{1b}[2K"), "the bar is never cleared: {screen:?}");
    assert!(screen.contains("2025-01-20T09:00:00Z"), "the story follows the bar: {screen:?}");
}

#[test]
fn a_script_run_shows_a_spinner_with_its_operations_on_a_terminal_only() {
    let lab = Lab::demo();
    let script = lab.file(
        "busy",
        r#"for i = 1, 2000 do pim.user(string.format("Busy %04d", i)) end
           pim.clock.advance("P1D")
           print("done")"#,
    );
    let piped = lab.run(&["run", &script]).ok();
    // The same script again, on a terminal, on a tenant of its own (the first one made its users).
    let lab = Lab::demo();
    let script = lab.file("busy", &std::fs::read_to_string(&script).unwrap());
    assert!(
        !piped.stdout.contains('\u{1b}') && !piped.stderr.contains('\u{1b}'),
        "control sequences on a pipe{piped}"
    );
    let screen = on_a_terminal(&lab, &format!("run {script}"));
    // The first operation draws it; later ones as often as the terminal's redraw rate allows.
    assert!(
        screen.contains("operations: 1, simulated clock 2025-01-06T09:00:00Z"),
        "no spinner line in {screen:?}"
    );
    assert!(screen.contains("\u{1b}[2K"), "the spinner is never cleared: {screen:?}");
    assert!(
        screen.contains("done") && screen.contains("0 passed, 0 failed"),
        "the script's output: {screen:?}"
    );
}

#[test]
fn a_script_that_fails_half_way_keeps_what_it_did_before_the_failure() {
    let lab = Lab::demo();
    let script = lab.file(
        "half",
        r#"pim.user("Kept Before")
           pim.activate{role = "No Such Role", justification = "x"}
           pim.user("Never Made")"#,
    );
    lab.run(&["run", &script]).err_has("No Such Role");
    let users = lab.run(&["user", "list"]).ok().stdout;
    assert!(users.contains("Kept Before") && !users.contains("Never Made"), "{users}");
}
