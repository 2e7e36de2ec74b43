//! `replay`, the backtest, on a history with known answers: the demo organisation, where Global
//! Administrator once required approval (kenji approved alice's first activation after an hour),
//! then did not; alice activated it twice more (deactivating the second after two hours); chloe
//! activated Security Administrator without a ticket; grace activated Exchange Administrator
//! without a justification (its policy asked for none then). Each change replayed below has an
//! answer that can be worked out by hand, and the store replayed is never changed.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::harness::cli::Lab;
use crate::harness::s;

/// The history described above; the clock ends at 2025-01-08T13:30Z.
fn history() -> Lab {
    let lab = Lab::demo();
    let run = |args: &[&str]| lab.run(args).ok();
    run(&["policy", "set", "Global Administrator", "--require-approval", "true", "--approver", "kenji"]);
    run(&[
        "--as",
        "alice",
        "activate",
        "-r",
        "Global Administrator",
        "-j",
        "incident 1",
        "--duration",
        "PT4H",
    ]);
    run(&["clock", "advance", "PT1H"]);
    let pending = lab.run(&["--json", "approvals"]).ok().json();
    run(&["--as", "kenji", "approve", &s(&pending[0]["id"]), "-j", "go ahead"]);
    run(&["clock", "advance", "P1D"]);
    run(&["policy", "set", "Global Administrator", "--require-approval", "false"]);
    run(&["--as", "chloe", "activate", "-r", "Security Administrator", "-j", "review", "--duration", "PT6H"]);
    run(&["policy", "set", "Exchange Administrator", "--require-justification", "false"]);
    let mut rule = lab.rule("Exchange Administrator", "Approval_EndUser_Assignment");
    rule["setting"]["isRequestorJustificationRequired"] = json!(false);
    lab.patch_rule("Exchange Administrator", "Approval_EndUser_Assignment", &rule);
    run(&["--as", "grace", "activate", "-r", "Exchange Administrator", "--duration", "PT1H"]);
    run(&["clock", "advance", "PT1H"]);
    run(&["--as", "alice", "activate", "-r", "Global Administrator", "-j", "incident 2"]);
    run(&["clock", "advance", "PT2H"]);
    run(&["--as", "alice", "deactivate", "-r", "Global Administrator"]);
    run(&["clock", "advance", "P1D"]);
    run(&[
        "--as",
        "alice",
        "activate",
        "-r",
        "Global Administrator",
        "-j",
        "incident 3",
        "--duration",
        "PT1H",
    ]);
    run(&["clock", "advance", "PT30M"]);
    lab
}

/// `replay ARGS --json`, checking that the store was not changed by it.
fn replay(lab: &Lab, args: &[&str]) -> Value {
    // Reading the store first (which may tidy its WAL files), then its bytes.
    let dump = lab.dump();
    let before = lab.bytes();
    let mut all = vec!["--json", "replay"];
    all.extend_from_slice(args);
    let report = lab.run(&all).ok().json();
    assert_eq!(lab.dump(), dump, "a replay changed the store it replayed");
    assert!(lab.bytes() == before, "a replay changed the store's bytes");
    report
}

/// The changes of one kind, as (action, principal, detail).
fn changes(report: &Value, kind: &str) -> Vec<(String, String, String)> {
    report["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["kind"] == kind)
        .map(|c| (s(&c["action"]), s(&c["principal"]["name"]), s(&c["detail"])))
        .collect()
}

#[test]
fn an_unchanged_replay_reproduces_history_and_reports_no_change() {
    let lab = history();
    let r = replay(&lab, &[]);
    assert_eq!(r["changes"], json!([]), "{r:#}");
    assert_eq!(r["totals"]["waited"], 0);
    // Every outcome reproduces but alice's first activation: it waited for approval in history,
    // and today's settings (which the baseline replays under) require none.
    let differs = r["differsFromHistory"].as_array().expect("a list");
    assert_eq!(differs.len(), 1, "{r:#}");
    assert_eq!(differs[0]["before"]["answer"], "approved");
    assert_eq!(differs[0]["after"]["answer"], "granted");
    assert_eq!(r["reproduced"].as_u64().unwrap() + 1, r["replayed"].as_u64().unwrap());
}

#[test]
fn requiring_approval_turns_activations_into_waits_with_the_decisions_history_has() {
    let lab = history();
    let r = replay(&lab, &["--policy", "Global Administrator: require-approval=true approver=kenji"]);
    let waited = changes(&r, "waited");
    let details: Vec<&str> = waited.iter().map(|(_, _, d)| d.as_str()).collect();
    assert_eq!(
        details,
        [
            "waited PT1H for approval by Kenji Sato",
            "waited P1D, then the approval expired (history has no decision to replay)",
            "would still be waiting at 2025-01-08T13:30:00Z (history has no decision to replay)",
        ],
        "{r:#}"
    );
    assert!(waited.iter().all(|(action, who, _)| action == "selfActivate" && who == "Alice Andersen"));
    // The deactivation of an activation that never started is refused, by the engine's own code.
    let refused = changes(&r, "refused");
    assert_eq!(refused.len(), 1, "{r:#}");
    assert_eq!(refused[0].0, "selfDeactivate");
    assert!(
        refused[0].2.starts_with("RoleAssignmentDoesNotExist (NotActivated) (after an earlier change"),
        "{r:#}"
    );
    assert_eq!(
        r["totals"],
        json!({"refused": 1, "waited": 3, "shortened": 0, "lengthened": 0, "granted": 0, "other": 0})
    );
    assert_eq!(r["byRole"][0]["role"]["name"], "Global Administrator");
}

#[test]
fn a_shorter_maximum_shortens_exactly_the_activations_that_were_longer() {
    let lab = history();
    let r = replay(&lab, &["--policy", "Global Administrator: activation-max=PT2H"]);
    let shortened: Vec<&Value> =
        r["changes"].as_array().unwrap().iter().filter(|c| c["kind"] == "shortened").collect();
    // incident 1 asked for 4 hours, incident 2 for the 8-hour default; incident 3 for one hour.
    let ends: Vec<(String, String)> =
        shortened.iter().map(|c| (s(&c["before"]["end"]), s(&c["after"]["end"]))).collect();
    assert_eq!(
        ends,
        [
            ("2025-01-06T13:00:00Z".to_string(), "2025-01-06T11:00:00Z".to_string()),
            ("2025-01-07T19:00:00Z".to_string(), "2025-01-07T13:00:00Z".to_string()),
        ],
        "{r:#}"
    );
    assert!(shortened.iter().all(|c| c["after"]["shortenedToMaximum"] == true));
    assert_eq!(r["totals"]["shortened"], 2);
    // incident 2's deactivation came at its new end: the activation had already expired.
    assert_eq!(changes(&r, "refused").len(), 1, "{r:#}");
}

#[test]
fn requiring_a_ticket_or_a_justification_refuses_those_without_with_the_rule_that_failed() {
    let lab = history();
    let r = replay(
        &lab,
        &[
            "--policy",
            "Security Administrator: require-ticket=true",
            "--policy",
            "Exchange Administrator: require-justification=true",
        ],
    );
    let refused = changes(&r, "refused");
    assert_eq!(
        refused,
        [
            (
                "selfActivate".to_string(),
                "Chloe Dubois".to_string(),
                "RoleAssignmentRequestPolicyValidationFailed (TicketingRule)".to_string()
            ),
            (
                "selfActivate".to_string(),
                "Grace Ito".to_string(),
                "RoleAssignmentRequestPolicyValidationFailed (JustificationRule)".to_string()
            ),
        ],
        "{r:#}"
    );
    assert_eq!(r["totals"]["refused"], 2);
}

#[test]
fn a_hook_attached_on_the_fork_refuses_what_it_denies() {
    let lab = history();
    let hook = lab.file(
        "no-incidents",
        r#"return { validate = function(request, ctx)
             if ctx.action == "selfActivate" and (request.justification or ""):find("incident 2") then
               return { deny = "NoSecondIncident", message = "not again" }
             end
           end }"#,
    );
    let r = replay(&lab, &["--hook", &hook]);
    // The second incident's activation, and its deactivation after it.
    let refused = changes(&r, "refused");
    let actions: Vec<&str> = refused.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(actions, ["selfActivate", "selfDeactivate"], "{r:#}");
    assert_eq!(refused[0].1, "Alice Andersen");
    assert!(r["changes"][0]["after"]["code"].as_str().unwrap().contains("PolicyValidationFailed"), "{r:#}");
    // The hook was attached to the fork only.
    assert_eq!(lab.run(&["--json", "hook", "list"]).ok().json(), json!([]));
}

#[test]
fn since_replays_only_the_requests_made_from_then_on() {
    let lab = history();
    let r = replay(
        &lab,
        &[
            "--policy",
            "Global Administrator: require-approval=true approver=kenji",
            "--since",
            "2025-01-08T00:00:00Z",
        ],
    );
    assert_eq!(r["from"], "2025-01-08T13:00:00Z");
    assert_eq!(r["replayed"], 1);
    assert_eq!(r["totals"]["waited"], 1, "{r:#}");
    let none = replay(&lab, &["--since", "2025-02-01T00:00:00Z"]);
    assert_eq!((none["replayed"].clone(), none["from"].clone()), (json!(0), Value::Null));
}

#[test]
fn refused_requests_are_counted_as_not_replayable() {
    let lab = history();
    lab.run(&["--as", "chloe", "activate", "-r", "Security Administrator", "--duration", "PT1H"])
        .refused("RoleAssignmentRequestPolicyValidationFailed", 400);
    let r = replay(&lab, &[]);
    assert_eq!(r["refusedInHistoryNotReplayable"], 1);
    let text = lab.run(&["replay"]).ok().stdout;
    assert!(text.contains("Not replayable: 1 request(s) refused in history"), "{text}");
}

#[test]
fn unknown_roles_settings_and_values_are_refused_by_name_and_change_nothing() {
    let lab = history();
    let run = lab.fails_unchanged(&["replay", "--policy", "Global Admin: require-mfa=true"]);
    assert!(run.stderr.contains("Global Admin"), "{run}");
    let run = lab.fails_unchanged(&["replay", "--policy", "Global Administrator: mfa=on"]);
    assert!(run.stderr.contains("`mfa`") && run.stderr.contains("require-mfa"), "{run}");
    let run = lab.fails_unchanged(&["replay", "--policy", "Global Administrator: require-mfa=maybe"]);
    assert!(run.stderr.contains("maybe"), "{run}");
    let run = lab.fails_unchanged(&["replay", "--policy", "Global Administrator: approver=nobody-here"]);
    assert!(run.stderr.contains("nobody-here"), "{run}");
    lab.fails_unchanged(&["replay", "--hook", "no-such-file.lua"]);
}

#[test]
fn a_replay_reads_as_a_table_and_as_json() {
    let lab = history();
    let text = [
        lab.run(&["replay", "--policy", "Global Administrator: require-approval=true approver=kenji"])
            .ok()
            .stdout,
        lab.run(&["replay", "--policy", "Global Administrator: activation-max=PT2H"]).ok().stdout,
        lab.run(&["replay", "--since", "2025-02-01T00:00:00Z"]).ok().stdout,
    ]
    .join("\n");
    insta::assert_snapshot!(text);
    insta::assert_json_snapshot!(
        "replay_approval_json",
        replay(&lab, &["--policy", "Global Administrator: require-approval=true approver=kenji"])
    );
}

#[test]
fn a_script_replays_with_a_hook_given_as_source() {
    let lab = history();
    let script = lab.file(
        "backtest",
        r#"local r = pim.replay({ policy = { "Security Administrator: require-ticket=true" },
                                 source = "return { validate = function() return nil end }" })
           print(r.replayed, r.totals.refused)
           local ok, err = pcall(pim.replay, { hook = "x.lua" })
           print(ok, tostring(err):find("cannot read files") ~= nil)"#,
    );
    let out = lab.run(&["run", &script]).ok().stdout;
    assert!(out.contains("\t1\n") && out.contains("false\ttrue"), "{out}");
}

/// One random step of a history, as a command line.
fn step() -> impl Strategy<Value = Vec<String>> {
    let pairs = [
        ("alice", "Global Administrator"),
        ("chloe", "Security Administrator"),
        ("grace", "Exchange Administrator"),
        ("kenji", "Intune Administrator"),
    ];
    prop_oneof![
        (0..4usize, 1..10u32).prop_map(move |(p, h)| {
            let (who, role) = pairs[p];
            ["--as", who, "activate", "-r", role, "-j", "work", "--duration", &format!("PT{h}H")]
                .map(String::from)
                .to_vec()
        }),
        (0..4usize).prop_map(move |p| {
            let (who, role) = pairs[p];
            ["--as", who, "deactivate", "-r", role].map(String::from).to_vec()
        }),
        (1..3000u32).prop_map(|m| ["clock", "advance", &format!("PT{m}M")].map(String::from).to_vec()),
        (0..4usize, any::<bool>()).prop_map(move |(p, on)| {
            let role = pairs[p].1;
            [
                "policy",
                "set",
                role,
                "--require-approval",
                if on { "true" } else { "false" },
                "--approver",
                "ben",
            ]
            .map(String::from)
            .to_vec()
        }),
        Just(["--as", "ben", "approve", "last", "-j", "ok"].map(String::from).to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    #[test]
    fn replay_with_no_change_reports_no_change(steps in proptest::collection::vec(step(), 1..12)) {
        let lab = Lab::demo();
        for args in &steps {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            lab.run(&args); // refusals are history too
        }
        let r = replay(&lab, &[]);
        prop_assert_eq!(&r["changes"], &json!([]), "{:#}", r);
    }
}
