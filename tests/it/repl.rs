//! The REPL driven through a pipe, as issue 4 §4 asks: with standard input not a terminal,
//! `pimlab` (or `pimlab repl`) reads commands line by line.
//!
//! Each session runs the real binary in its own temporary directory (also its working directory)
//! with `--db t.db`, `PIMLAB_DB` removed and `PIMLAB_HISTORY` pointed into that directory, and
//! starts with `init --demo --seed 7 --at 2025-01-06T09:00:00Z`, so ids and times are the same
//! on every run. The store is named relatively so that messages naming it are the same in every
//! directory, which lets sessions in two directories be compared byte for byte.

use crate::harness::repl::{Lab, script};

const INIT: &str = "init --demo --seed 7 --at 2025-01-06T09:00:00Z";
const GA: &str = "Global Administrator";

// ---------------------------------------------------------------------------------------------
// The same commands as the command line
// ---------------------------------------------------------------------------------------------

/// Lines of the CLI grammar give, in one session, exactly what the same lines give as separate
/// `pimlab` commands: stdout and stderr byte for byte, successes, refusals and usage errors alike.
#[test]
fn a_session_prints_what_the_command_line_prints() {
    let mut lines = vec![
        INIT.to_string(),
        "user list".into(),
        "group members \"Tier-0 Admins\"".into(),
        "role list --privileged".into(),
        "eligible list".into(),
        "active list --json".into(),
        "policy show \"Global Administrator\"".into(),
        "eligible assign -p ben@contoso.example -r \"Global Reader\" --duration P30D -j 'on call'".into(),
        "--as alice activate -r \"Global Administrator\" -j \"incident 42\"".into(),
        "--as lena@contoso.example activate --role \"Global Reader\" --duration PT1H -j \"read the logs\""
            .into(),
        // Refused by the service, and wrong on the command line.
        "--as ben activate -r \"Global Administrator\" -j x".into(),
        "eligible assign -p ben@contoso.example".into(),
        "request show 00000000-0000-0000-0000-000000000000".into(),
        "clock advance PT2H".into(),
        "clock".into(),
        "requests".into(),
        "approvals".into(),
        "notifications".into(),
        "audit --principal alice".into(),
        "graph GET /v1.0/roleManagement/directory/roleEligibilitySchedules".into(),
        "clock --help".into(),
    ];

    // The command line first, one process per line, which also gives the ids for more lines.
    let cli_lab = Lab::new();
    let mut expected_out = String::new();
    let mut expected_err = String::new();
    let mut run_cli = |lines: &[String]| {
        for line in lines {
            let run = cli_lab.cli(line);
            expected_out.push_str(&run.stdout);
            expected_err.push_str(&run.stderr);
        }
    };
    run_cli(&lines);
    let alice = cli_lab.user_id("alice@contoso.example");
    let activation = cli_lab
        .requests_json()
        .into_iter()
        .find(|r| r["principalId"] == alice.as_str() && r["action"] == "selfActivate")
        .expect("alice's activation");
    let id = activation["id"].as_str().expect("an id").to_string();
    let more = vec![
        format!("request show {id}"),
        format!("request explain {id}"),
        format!("request show {id} --json"),
        format!("--as alice deactivate -r \"{GA}\""),
        "requests --mine --as alice".into(),
    ];
    run_cli(&more);
    lines.extend(more);

    let repl_lab = Lab::new();
    let session = repl_lab.session(&lines.iter().map(String::as_str).collect::<Vec<_>>());
    let session = session.ended();
    assert!(session.stdout.contains("selfActivate") && session.stderr.contains("error: "), "{session}");
    assert_eq!(session.stdout, expected_out, "stdout differs from the command line's{session}");
    assert_eq!(session.stderr, expected_err, "stderr differs from the command line's{session}");
    // And the stores end up the same.
    assert_eq!(
        repl_lab.cli("audit").stdout,
        cli_lab.cli("audit").stdout,
        "the audit trails differ between the session and the command line"
    );
}

/// `pimlab eligible list` is read as `eligible list`.
#[test]
fn a_line_may_start_with_pimlab() {
    let lab = Lab::new();
    assert_eq!(lab.cli(INIT).code, 0);
    let run = lab.session(&[
        "eligible list -r \"Global Administrator\"",
        "pimlab eligible list -r \"Global Administrator\"",
    ]);
    let run = run.ended().out_has("alice@contoso.example");
    let table = lab.cli("eligible list -r \"Global Administrator\"").stdout;
    assert_eq!(run.stdout, format!("{table}{table}"), "{run}");
    assert_eq!(run.stderr, "", "{run}");
}

// ---------------------------------------------------------------------------------------------
// `as`
// ---------------------------------------------------------------------------------------------

#[test]
fn as_switches_the_caller_and_as_alone_switches_back() {
    let lab = Lab::new();
    let run = lab.session(&[
        INIT,
        "as alice",
        "activate -r \"Global Administrator\" -j \"incident 42\"",
        "requests --mine",
        "as",
        "requests --mine",
        "as \"Lena Vogel\"",
        "activate -r \"Global Reader\" -j audit --duration PT1H",
        "as",
        // Back as the break-glass admin, who already holds Global Administrator.
        "activate -r \"Global Administrator\" -j again",
    ]);
    let run = run
        .ended()
        .out_has("acting as alice@contoso.example\n")
        .out_has("acting as breakglass@contoso.example\n")
        .out_has("acting as lena@contoso.example\n")
        .out_has("created    2025-01-06T09:00:00Z by alice@contoso.example")
        .out_has("created    2025-01-06T09:00:00Z by lena@contoso.example")
        .err_has("error: RoleAssignmentExists (HTTP 400)");

    // `requests --mine` as alice lists her requests; as the admin again, none of them.
    let mine = run.stdout.split("acting as").collect::<Vec<_>>();
    assert!(mine[1].contains("selfActivate   Provisioned   alice@contoso.example"), "{run}");
    assert!(!mine[2].contains("alice@contoso.example"), "{run}");

    // The store agrees: the activations were alice's and lena's own.
    let requests = lab.requests_json();
    let alice = lab.user_id("alice@contoso.example");
    let lena = lab.user_id("lena@contoso.example");
    let activations: Vec<(&str, &str)> = requests
        .iter()
        .filter(|r| r["action"] == "selfActivate")
        .map(|r| (r["principalId"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(activations, [(alice.as_str(), "Provisioned"), (lena.as_str(), "Provisioned")], "{run}");
}

#[test]
fn as_someone_unknown_keeps_the_caller() {
    let lab = Lab::new();
    let run = lab.session(&[INIT, "as alice", "as nobody", "requests --mine"]);
    run.ended()
        .err_has("error: Request_ResourceNotFound (HTTP 404): Principal 'nobody' does not exist")
        .out_has("acting as alice@contoso.example\n")
        .out_has("alice@contoso.example   Global Administrator");
}

/// `--as` given when the REPL opens sets the first caller.
#[test]
fn as_on_the_command_line_sets_the_first_caller() {
    let lab = Lab::new();
    assert_eq!(lab.cli(INIT).code, 0);
    let run = lab.session_with(&["--as", "alice"], &script(&["requests --mine", "as", "requests --mine"]));
    let run = run.ended();
    let parts = run.stdout.split("acting as breakglass@contoso.example").collect::<Vec<_>>();
    assert_eq!(parts.len(), 2, "{run}");
    assert!(parts[0].contains("alice@contoso.example"), "{run}");
    assert!(!parts[1].contains("alice@contoso.example"), "{run}");
}

// ---------------------------------------------------------------------------------------------
// Errors print and the session goes on
// ---------------------------------------------------------------------------------------------

#[test]
fn a_failing_command_prints_its_error_and_the_session_goes_on() {
    let lab = Lab::new();
    let run = lab.session(&[
        INIT,
        "request show 00000000-0000-0000-0000-000000000000",
        "= 'after a refusal'",
        "init --demo",
        "= 'after a conflict'",
        "activate --as ben -r \"Global Administrator\" -j x",
        "= 'after a refusal by the policy'",
        "as \"unbalanced",
        "= 'after unbalanced quotes'",
        "repl",
        "run x.lua",
        "--db other.db user list",
        "= 'after lines a session cannot run'",
    ]);
    let run = run
        .ended()
        .err_has("error: RoleAssignmentRequestNotFound (HTTP 404)")
        .err_has("error: StoreAlreadyInitialized (HTTP 409)")
        .err_has("error: cannot split the line into words (unbalanced quotes?)")
        .err_has("error: `run` and `repl` cannot be used from inside a session")
        .err_has("error: --db cannot change the store of an open session");
    let after: Vec<&str> = run.lines().into_iter().filter(|l| l.starts_with("after ")).collect();
    assert_eq!(
        after,
        [
            "after a refusal",
            "after a conflict",
            "after a refusal by the policy",
            "after unbalanced quotes",
            "after lines a session cannot run"
        ],
        "{run}"
    );
    assert!(!lab.path().join("other.db").exists(), "a session line opened another store");
}

#[test]
fn an_unknown_command_prints_clap_usage_and_the_session_goes_on() {
    let lab = Lab::new();
    let run = lab.session(&[INIT, "bogus", "eligible frobnicate", "activate --role", "clock"]);
    let cli = lab.cli("bogus");
    let run = run
        .ended()
        .err_has("error: unrecognized subcommand 'bogus'")
        .err_has("Usage: pimlab [OPTIONS] [COMMAND]")
        .err_has("error: unrecognized subcommand 'frobnicate'")
        .err_has("error: a value is required for '--role <ROLE>' but none was supplied")
        .out_has("2025-01-06T09:00:00Z");
    // clap's message, as the command line prints it.
    assert_eq!(cli.code, 2);
    assert!(run.stderr.contains(&cli.stderr), "the session's message differs from the CLI's{run}{cli}");
    assert_eq!(run.stdout.lines().last(), Some("2025-01-06T09:00:00Z"), "{run}");
}

/// `help` shows the REPL's own words, `--help` after a command shows clap's help.
#[test]
fn help() {
    let lab = Lab::new();
    let run = lab.session(&[INIT, "help", "eligible --help", "clock"]);
    let run = run
        .ended()
        .out_has("as PRINCIPAL")
        .out_has("lua CODE")
        .out_has("= EXPR")
        .out_has(&lab.cli("eligible --help").stdout);
    assert_eq!(run.stderr, "", "{run}");
}

// ---------------------------------------------------------------------------------------------
// Lua
// ---------------------------------------------------------------------------------------------

#[test]
fn lua_globals_carry_over_between_lines_even_after_an_error() {
    let lab = Lab::new();
    let run = lab.session(&[
        INIT,
        "lua x = 41",
        "lua function twice(n) return 2 * n end",
        "= twice(x + 1)",
        "lua act = pim.activate",
        "lua q = pim.as('alice', function() return act{role = 'Global Administrator', duration = 'PT1H', justification = 'k'} end)",
        "clock advance PT10M",
        "= q.status .. ' at ' .. pim.clock.now()",
        "lua x = x + 1 error('boom')",
        "lua local y = 1",
        "= y",
        "= x",
    ]);
    let run = run.ended().err_has("error: lua:1: boom");
    let lines = run.lines();
    assert!(lines.contains(&"84"), "{run}");
    let tail: Vec<&str> = lines[lines.len() - 3..].to_vec();
    assert_eq!(tail, ["Provisioned at 2025-01-06T09:10:00Z", "nil", "42"], "{run}");
}

#[test]
fn lua_one_liners() {
    let lab = Lab::new();
    let run = lab.session(&[
        INIT,
        "lua print(\"hello \" .. 1 + 1)",
        "= pim.clock.now()",
        "=1+2",
        "lua local report = pim.clock.advance(\"PT1H\") print(report.to)",
        "= pim.clock.now()",
        "clock",
        "lua error(\"boom\")",
        "lua",
        "= 'still here'",
    ]);
    let run = run.ended().err_has("error: lua:1: boom").err_has("error: `lua` needs code");
    let lines = run.lines();
    let tail: Vec<&str> = lines[lines.len() - 7..].to_vec();
    assert_eq!(
        tail,
        [
            "hello 2",
            "2025-01-06T09:00:00Z",
            "3",
            "2025-01-06T10:00:00Z",
            "2025-01-06T10:00:00Z",
            "2025-01-06T10:00:00Z",
            "still here"
        ],
        "{run}"
    );
}

/// What Lua changes, the commands of the same session see (and the other way round).
#[test]
fn lua_and_commands_share_the_store_and_the_caller() {
    let lab = Lab::new();
    let run = lab.session(&[
        INIT,
        "as alice",
        "lua local r = pim.activate{role = \"Global Administrator\", justification = \"from lua\"} print(r.status)",
        "requests --mine",
    ]);
    let run =
        run.ended().out_has("Provisioned\n").out_has("selfActivate   Provisioned   alice@contoso.example");
    assert_eq!(run.stderr, "", "{run}");
}

// ---------------------------------------------------------------------------------------------
// Ending, comments, blank lines
// ---------------------------------------------------------------------------------------------

#[test]
fn exit_ends_the_session_early() {
    for word in ["exit", "quit", "  exit  "] {
        let lab = Lab::new();
        let run = lab.session(&[INIT, "= 'before'", word, "= 'after'", "clock advance P1D"]);
        let run = run.ended().out_has("before\n").out_lacks("after");
        assert_eq!(lab.cli("clock").stdout, "2025-01-06T09:00:00Z\n", "lines after {word} ran{run}");
    }
}

#[test]
fn the_end_of_input_ends_the_session() {
    let lab = Lab::new();
    let run = lab.session_with(&[], &format!("{INIT}\nclock"));
    let run = run.ended().out_has("2025-01-06T09:00:00Z");
    assert_eq!(run.stderr, "", "{run}");
}

#[test]
fn comments_and_blank_lines_are_ignored() {
    let lab = Lab::new();
    assert_eq!(lab.cli(INIT).code, 0);
    let run = lab.session(&["", "   ", "\t", "# clock advance P1D", "   # exit", "#", "clock"]);
    let run = run.ended();
    assert_eq!(run.stdout, "2025-01-06T09:00:00Z\n", "{run}");
    assert_eq!(run.stderr, "", "{run}");
}

/// Windows line endings from a pipe are read as the lines they are.
#[test]
fn carriage_returns_are_ignored() {
    let lab = Lab::new();
    let run = lab.session_with(&[], &format!("{INIT}\r\n\r\nclock\r\n"));
    let run = run.ended();
    assert!(run.stdout.ends_with("\n2025-01-06T09:00:00Z\n"), "{run}");
    assert_eq!(run.stderr, "", "{run}");
}

// ---------------------------------------------------------------------------------------------
// Opening the REPL
// ---------------------------------------------------------------------------------------------

/// `pimlab` with no command and `pimlab repl` open the same REPL.
#[test]
fn pimlab_alone_and_pimlab_repl_both_open_it() {
    let lines = [INIT, "as alice", "eligible list -p alice", "= pim.clock.now()", "bogus"];
    let alone = Lab::new().session(&lines);
    let repl = Lab::new().session_with(&["repl"], &script(&lines));
    let alone = alone.ended().out_has("acting as alice@contoso.example").out_has("Global Administrator");
    let repl = repl.ended();
    assert_eq!(alone.stdout, repl.stdout, "{alone}{repl}");
    assert_eq!(alone.stderr, repl.stderr, "{alone}{repl}");
}

/// A new store gets its tenant from the first command that needs one, as on the command line;
/// so a session can also begin with `init`.
#[test]
fn a_new_store_is_created_on_first_use() {
    let lab = Lab::new();
    let run = lab.session(&["clock", "user list"]);
    let run =
        run.ended().err_has("pimlab: created a new tenant in t.db").out_has("breakglass@contoso.example");
    assert_eq!(run.stderr.matches("created a new tenant").count(), 1, "{run}");

    let lab = Lab::new();
    let run = lab.session(&[INIT, "user list"]);
    let run = run.ended().out_has("alice@contoso.example");
    assert_eq!(run.stderr, "", "{run}");
}

/// A piped session never touches the history file (it is kept for terminals).
#[test]
fn a_piped_session_keeps_no_history() {
    let lab = Lab::new();
    lab.session(&[INIT, "clock"]).ended();
    assert!(!lab.path().join("history").exists());
}

// ---------------------------------------------------------------------------------------------
// Reproducibility
// ---------------------------------------------------------------------------------------------

#[test]
fn a_piped_session_is_reproducible() {
    let lines = [
        INIT,
        "as alice",
        "activate -r \"Global Administrator\" -j \"incident 42\"",
        "as",
        "eligible assign -p ben -r \"Global Reader\" --duration P30D -j 'on call'",
        "policy set \"Security Administrator\" --require-approval true --approver \"PIM Approvers\"",
        "as chloe",
        "activate -r \"Security Administrator\" -j \"need it\"",
        "as",
        "approvals",
        "lua local _ = pim.clock.advance(\"P1D\")",
        "lua print(math.random(1, 1000000))",
        "= pim.clock.now()",
        "requests",
        "audit",
        "notifications",
        "request show nope",
    ];
    let first = Lab::new().session(&lines);
    let second = Lab::new().session(&lines);
    let first = first.ended().out_has("PendingApproval");
    assert_eq!(first.stdout, second.stdout, "two runs differ on stdout{first}{second}");
    assert_eq!(first.stderr, second.stderr, "two runs differ on stderr{first}{second}");
}

/// A table shown by `= EXPR` (or by `lua` with an expression) prints as JSON, the same on every
/// run.
#[test]
fn lua_tables_print_the_same_on_every_run() {
    let lines = [INIT, "= {a = 1, b = 2, c = 3, d = 4, e = 5, f = 6}", "lua pim.clock.advance(\"PT1H\")"];
    let first = Lab::new().session(&lines);
    for _ in 0..4 {
        let again = Lab::new().session(&lines);
        assert_eq!(first.stdout, again.stdout, "two runs differ on stdout{first}{again}");
    }
}
