//! Hostile or careless input outside the Lua sandbox (issue 8; the sandbox has its own tests):
//! concurrent writers, damaged stores, times at the edge of the calendar, oversized text, control
//! characters, odd JSON and Graph paths. Each must end in a clear refusal with the store as it
//! was, never a crash, a hang or a silently wrong answer.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::cli::Lab;
use crate::harness::repl;

const HELPDESK: &str = "Helpdesk Administrator";

/// Writes `value` under `key` in the store's meta table behind pimlab's back (a damaged store).
fn set_meta(lab: &Lab, key: &str, value: &str) {
    let c = rusqlite::Connection::open(&lab.db).unwrap();
    c.execute("UPDATE meta SET value = ?2 WHERE key = ?1", [key, value]).unwrap();
}

/// `graph GET path` answered with a 4xx refusal (exit 1), not a crash.
#[track_caller]
fn refused_path(lab: &Lab, path: &str) -> String {
    let run = lab.run(&["graph", "GET", path]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.starts_with("HTTP 4"), "{run}");
    run.stderr.clone()
}

/// Runs `pimlab --db DB ARGS` in the lab's directory, returning whether it succeeded and its stderr.
fn spawn_run(lab: &Lab, args: &[String]) -> (bool, String) {
    let mut c = lab.command();
    c.arg("--db").arg(&lab.db).args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    let out = c.output().expect("run pimlab");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn concurrent_clock_advances_and_activations_lose_nothing() {
    let lab = Lab::demo();
    let users: Vec<String> = (0..6)
        .map(|i| {
            let name = format!("Racer {i}");
            lab.run(&["user", "add", &name]).ok();
            lab.run(&["eligible", "assign", "--principal", &name, "--role", HELPDESK, "--duration", "P30D"])
                .ok();
            lab.user_id(&name)
        })
        .collect();
    let start = lab.run(&["clock", "show"]).ok().stdout.trim().to_string();

    std::thread::scope(|s| {
        let mut workers = Vec::new();
        for _ in 0..2 {
            workers.push(s.spawn(|| {
                (0..6)
                    .map(|_| spawn_run(&lab, &["clock".into(), "advance".into(), "PT1H".into()]))
                    .collect::<Vec<_>>()
            }));
        }
        let lab = &lab;
        let users = &users;
        workers.push(s.spawn(move || {
            users
                .iter()
                .map(|u| {
                    let args =
                        ["--as", u, "activate", "--role", HELPDESK, "--duration", "PT30M", "-j", "race"];
                    spawn_run(lab, &args.map(String::from))
                })
                .collect()
        }));
        for w in workers {
            for (ok, stderr) in w.join().expect("worker") {
                assert!(ok, "a concurrent command failed instead of waiting its turn: {stderr}");
            }
        }
    });

    let start = chrono::DateTime::parse_from_rfc3339(&start).expect("clock show prints a time");
    let end = lab.run(&["clock", "show"]).ok().stdout.trim().to_string();
    let end = chrono::DateTime::parse_from_rfc3339(&end).expect("clock show prints a time");
    assert_eq!(end - start, chrono::TimeDelta::hours(12), "twelve advances of an hour, none lost");

    let requests = lab.run(&["requests", "--json"]).ok().listing();
    let activations = requests.iter().filter(|r| r["action"] == "selfActivate").count();
    assert_eq!(activations, users.len(), "every activation was recorded");
    let audit = lab.run(&["audit", "--json"]).ok().listing();
    let advances = audit
        .iter()
        .filter(|a| {
            a["activityDisplayName"].as_str().is_some_and(|n| n.starts_with("Advance simulated clock"))
        })
        .count();
    assert_eq!(advances, 12, "one audit row per advance:\n{audit:#?}");
}

#[test]
fn the_clock_never_moves_back_when_a_later_set_races_an_earlier_one() {
    let lab = Lab::demo();
    std::thread::scope(|s| {
        let late =
            s.spawn(|| spawn_run(&lab, &["clock".into(), "set".into(), "2025-03-01T00:00:00Z".into()]));
        let early =
            s.spawn(|| spawn_run(&lab, &["clock".into(), "set".into(), "2025-02-01T00:00:00Z".into()]));
        let (late, early) = (late.join().unwrap(), early.join().unwrap());
        assert!(late.0, "{}", late.1);
        // Whichever ran second either moved forward or was refused for moving back.
        assert!(early.0 || early.1.contains("only moves forward"), "{}", early.1);
    });
    lab.run(&["clock", "show"]).ok().out_has("2025-03-01T00:00:00Z");
}

#[test]
fn a_store_with_a_negative_schema_version_is_refused_and_untouched() {
    let lab = Lab::demo();
    {
        let c = rusqlite::Connection::open(&lab.db).unwrap();
        c.pragma_update(None, "user_version", -1).unwrap();
    }
    let before = lab.bytes();
    lab.run(&["eligible", "list"]).err_has("schema version -1").err_has("refusing to touch it");
    assert_eq!(lab.bytes(), before, "the store was changed");
}

#[test]
fn readers_do_not_wait_for_a_writer_holding_the_lock() {
    let lab = Lab::demo();
    let holder = rusqlite::Connection::open(&lab.db).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = Instant::now();
    lab.run(&["eligible", "list"]).ok().out_has("Global Administrator");
    lab.run(&["graph", "GET", "/roleManagement/directory/roleEligibilityScheduleInstances"]).out_has("value");
    // The busy timeout is 60 s: a reader that took the write lock would still be waiting.
    assert!(started.elapsed() < Duration::from_secs(20), "readers waited {:?}", started.elapsed());
    holder.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn a_damaged_clock_in_the_store_is_reported_not_read_as_1970() {
    let lab = Lab::demo();
    set_meta(&lab, "clock", "soon");
    let run = lab.run(&["clock", "show"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("clock ('soon'"), "{run}");
    assert!(!run.stdout.contains("1970"), "{run}");
}

#[test]
fn times_past_the_year_9999_are_refused_by_name_and_the_clock_cannot_overflow() {
    let lab = Lab::demo();
    lab.fails_untouched(&["clock", "set", "+260000-01-01T00:00:00Z"]);
    lab.fails_untouched(&["clock", "set", "10000-01-01T00:00:00Z"]);
    // The longest duration pimlab reads, again and again: refused before the calendar ends.
    lab.run(&["clock", "advance", "P1000000D"]).ok();
    lab.run(&["clock", "advance", "P1000000D"]).ok();
    let refused = lab.fails_untouched(&["clock", "advance", "P1000000D"]);
    assert!(refused.stderr.contains("9999-12-31T23:59:59.999Z"), "{refused}");
}

#[test]
fn a_leap_second_start_time_is_refused_not_moved_to_now() {
    let lab = Lab::demo();
    let run = lab.fails_untouched(&[
        "--as",
        "alice",
        "activate",
        "--role",
        "Global Administrator",
        "--start",
        "2025-06-30T23:59:60Z",
        "--duration",
        "PT1H",
        "-j",
        "leap",
    ]);
    assert!(run.stderr.contains("leap second"), "{run}");
}

#[test]
fn control_characters_from_users_are_shown_on_the_terminal_not_obeyed() {
    let lab = Lab::demo();
    let justification = "clear \u{1b}[2J\u{7} done\u{9b}";
    let run = lab
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
            justification,
        ])
        .ok();
    let id = run.json()["id"].as_str().expect("request id").to_string();
    // Stored as given ...
    assert_eq!(run.json()["justification"], json!(justification));
    // ... and shown, not sent, on the terminal.
    let shown = lab.run(&["request", "show", &id]).ok();
    assert!(shown.stdout.contains("clear \\u001b[2J\\u0007 done\\u009b"), "{shown}");
    assert!(!shown.stdout.contains('\u{1b}'), "{shown}");
    let notifications = lab.run(&["notifications", "--full"]).ok();
    assert!(
        !notifications.stdout.contains('\u{1b}') && !notifications.stdout.contains('\u{7}'),
        "{notifications}"
    );
}

#[test]
fn text_beyond_its_limit_is_refused_naming_the_property_and_the_limit() {
    let lab = Lab::demo();
    let long = "x".repeat(501);
    let run = lab.fails_unchanged(&[
        "--as",
        "alice",
        "activate",
        "--role",
        "Global Administrator",
        "--duration",
        "PT1H",
        "-j",
        &long,
    ]);
    assert!(run.stderr.contains("justification is 501 characters long; at most 500"), "{run}");
    let name = "n".repeat(257);
    let run = lab.fails_untouched(&["user", "add", &name]);
    assert!(run.stderr.contains("displayName is 257 characters long; at most 256"), "{run}");
    // Exactly at the limit is fine.
    lab.run(&["user", "add", &"n".repeat(256)]).ok();
}

#[test]
fn a_json_body_naming_a_property_twice_is_refused() {
    let lab = Lab::demo();
    let run = lab.fails_untouched(&[
        "graph",
        "POST",
        "/users",
        "--body",
        r#"{"displayName": "First", "displayName": "Second", "accountEnabled": true}"#,
    ]);
    assert!(run.stdout.contains("Multiple properties with the name 'displayName'"), "{run}");
}

#[test]
fn a_batch_inside_a_batch_is_refused_and_the_rest_of_the_batch_runs() {
    let lab = Lab::demo();
    let body = json!({"requests": [
        {"id": "1", "method": "POST", "url": "/$batch", "body": {"requests": [{"id": "a", "method": "GET", "url": "/users"}]}},
        {"id": "2", "method": "GET", "url": "/users?$top=1"},
    ]});
    let run = lab.run(&["graph", "POST", "/$batch", "--body", &body.to_string()]).err_has("HTTP 200");
    let responses = run.json()["responses"].as_array().expect("responses").clone();
    assert_eq!(responses[0]["status"], 400, "{run}");
    assert!(responses[0]["body"]["error"]["message"].as_str().unwrap().contains("another batch request"));
    assert_eq!(responses[1]["status"], 200, "{run}");
}

#[test]
fn a_graph_path_with_a_broken_percent_escape_before_a_non_ascii_character_is_not_found_not_a_crash() {
    let lab = Lab::demo();
    assert!(refused_path(&lab, "/users/%aé").contains("HTTP 404"));
}

#[test]
fn pimlab_db_works_in_the_repl_and_in_scripts_as_db_does() {
    let lab = Lab::demo();
    let script = lab.file("clock.lua", "print(pim.run{'clock', 'show'}.now)\n");
    let mut c = lab.command();
    c.env("PIMLAB_DB", &lab.db);
    let run = lab.run_raw(c, &["run".into(), script.clone()]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("2025-01-06T09:00:00Z"), "{run}");

    let session = repl::Lab::new();
    let mut c = std::process::Command::new(crate::harness::cli::BIN);
    c.current_dir(session.path())
        .env("PIMLAB_DB", "t.db")
        .env("PIMLAB_HISTORY", session.path().join("history"))
        .env("RUST_BACKTRACE", "0");
    let run =
        repl::pipe(c, "PIMLAB_DB=t.db pimlab".into(), "clock show\nlua print(pim.run{'clock','show'}.now)\n");
    assert!(!run.stderr.contains("cannot change the store"), "{run}");
    assert_eq!(run.stdout.matches("2025-01-06T09:00:00Z").count(), 2, "{run}");
    // Naming a store on a line is still refused: it would change the store under the session.
    let run = session.session(&["clock show --db other.db"]);
    assert!(run.stderr.contains("--db cannot change the store of an open session"), "{run}");
}

#[test]
fn a_key_segment_whose_quotes_overlap_is_refused_not_a_crash() {
    // Found by `router_fuzz`: `name(')` both starts with `('` and ends with `')`.
    let lab = Lab::demo();
    refused_path(&lab, "/users/x(')");
}

#[test]
fn a_store_whose_clock_an_older_pimlab_ran_past_the_year_9999_is_refused_not_a_crash() {
    let lab = Lab::demo();
    // About the year 260,000, where a further P31000Y would overflow chrono.
    set_meta(&lab, "clock", "8142000000000000");
    for args in [&["clock", "show"][..], &["clock", "advance", "P3000000D"], &["eligible", "list"]] {
        let run = lab.run(args);
        assert_eq!(run.code, 1, "{run}");
        assert!(run.stderr.contains("past 9999-12-31T23:59:59.999Z"), "{run}");
    }
}

#[test]
fn a_scripts_error_from_the_host_reads_without_mluas_runtime_error_prefix() {
    let lab = Lab::empty();
    let script = lab.file("date", "os.date(string.rep('%c', 5000))\n");
    let run = lab.run_raw(lab.command(), &["run".into(), script]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("error: os.date: the format is 10000 bytes; at most 1024"), "{run}");
    assert!(!run.stderr.contains("runtime error"), "{run}");
}
