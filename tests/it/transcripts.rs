//! Snapshots of what users read on the command line: whole sessions on the demonstration store
//! (the default seed and clock), `request explain` and `policy show`, as text and as `--json`.
//!
//! Each session runs the real binary in a fresh workspace (`harness::cli::Transcript`), with
//! commands written as a user types them. Ids and times are simulated, so nothing is redacted. A
//! snapshot that changes is reviewed like code: `cargo insta review`, or read the `.snap.new`
//! file beside the snapshot in `tests/it/snapshots/`.

use serde_json::Value;

use crate::harness::cli::{Run, Transcript};
use crate::harness::s;

const GA: &str = "Global Administrator";

/// The request id of an `activate` (or any request command) story: `... request <id>: ...`.
#[track_caller]
fn request_id(run: &Run) -> String {
    let first = run.stdout.lines().next().unwrap_or_default();
    let id = first.split_whitespace().nth(2).and_then(|w| w.strip_suffix(':'));
    id.unwrap_or_else(|| panic!("not a request story{run}")).to_string()
}

/// The weekend-freeze hook's dry run body: alice activating Global Administrator for an hour.
const ALICE_ACTIVATES: &str = r#"{"action": "selfActivate", "principalId": "alice", "roleDefinitionId": "Global Administrator", "directoryScopeId": "/", "justification": "Checking", "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "PT1H"}}}"#;

#[test]
fn an_activation_from_eligibility_to_expiry() {
    let mut t = Transcript::new();
    t.run(&["init", "--demo"]);
    t.run(&["eligible", "list"]);
    let activation = t.run(&[
        "--as",
        "alice",
        "activate",
        "--role",
        GA,
        "--duration",
        "2h",
        "--justification",
        "Key rotation",
    ]);
    let id = request_id(&activation);
    t.run(&["active", "list", "--now"]);
    t.run(&["requests"]);
    t.run(&["request", "explain", &id]);
    t.run(&["clock", "advance", "PT3H"]);
    t.run(&["active", "list", "--now"]);
    t.run(&["audit"]);
    insta::assert_snapshot!(t.text());
}

#[test]
fn a_refused_activation_names_every_failing_rule_on_stderr() {
    let mut t = Transcript::new();
    t.run(&["init", "--demo"]);
    t.run(&["--as", "alice", "--no-mfa", "activate", "--role", GA, "--duration", "10h"]);
    t.run(&["--as", "ben", "activate", "--role", GA, "--duration", "1h", "--justification", "Not mine"]);
    t.run(&["--as", "alice", "requests", "--mine"]);
    t.run(&["audit", "--principal", "alice"]);
    insta::assert_snapshot!(t.text());
}

#[test]
fn an_activation_waits_for_approval_until_an_approver_decides() {
    let mut t = Transcript::new();
    t.run(&["init", "--demo"]);
    t.run(&[
        "policy",
        "set",
        "Security Administrator",
        "--require-approval",
        "true",
        "--approver",
        "PIM Approvers",
    ]);
    let waiting = t.run(&[
        "--as",
        "chloe",
        "activate",
        "--role",
        "Security Administrator",
        "--duration",
        "2h",
        "--justification",
        "Investigate alert 7731",
    ]);
    let id = request_id(&waiting);
    t.run(&["approvals"]);
    t.run(&["--as", "chloe", "approve", &id, "--justification", "It is me"]);
    t.run(&["--as", "kenji", "approvals", "--mine"]);
    t.run(&["clock", "advance", "PT30M"]);
    t.run(&["--as", "kenji", "approve", &id, "--justification", "Alert confirmed"]);
    t.run(&["approvals"]);
    t.run(&["active", "list", "--now", "--principal", "chloe"]);
    t.run(&["request", "explain", &id]);
    t.run(&["notifications"]);
    insta::assert_snapshot!(t.text());
}

#[test]
fn a_weekend_freeze_hook_tried_with_hook_test_on_a_saturday() {
    let mut t = Transcript::new();
    t.run(&["init", "--demo"]);
    t.run(&["hook", "add", "weekend-freeze", "--file", "scripts/hooks/weekend-freeze.lua", "--role", GA]);
    t.run(&["hook", "list"]);
    t.run(&["clock", "set", "2025-01-11T10:00:00Z"]);
    t.run(&["--as", "alice", "hook", "test", "weekend-freeze", "--request", ALICE_ACTIVATES]);
    t.run(&["--as", "alice", "activate", "--role", GA, "--duration", "1h", "--justification", "Incident"]);
    t.run(&["clock", "set", "2025-01-13T08:00:00Z"]);
    t.run(&["--as", "alice", "hook", "test", "weekend-freeze", "--request", ALICE_ACTIVATES]);
    insta::assert_snapshot!(t.text());
}

#[test]
fn request_explain_of_an_activation_that_failed_when_due() {
    let mut t = Transcript::new();
    t.run(&["init", "--demo"]);
    let later = t.run(&[
        "--as",
        "alice",
        "activate",
        "--role",
        GA,
        "--start",
        "2025-01-07T09:00:00Z",
        "--duration",
        "1h",
        "--justification",
        "Tomorrow's change",
    ]);
    let id = request_id(&later);
    t.run(&["clock", "advance", "10m"]);
    t.run(&["eligible", "remove", "--principal", "alice", "--role", GA, "--justification", "Left the team"]);
    t.run(&["clock", "advance", "P1D"]);
    t.run(&["request", "explain", &id]);
    insta::assert_snapshot!(t.text());
}

#[test]
fn request_explain_json_of_an_activation() {
    let mut t = Transcript::new();
    t.run(&["init", "--demo"]);
    let run = t.run(&[
        "--json",
        "--as",
        "alice",
        "activate",
        "--role",
        GA,
        "--duration",
        "2h",
        "--justification",
        "Key rotation",
    ]);
    let id = s(&run.json()["id"]);
    let explain = t.run(&["--json", "request", "explain", &id]).ok();
    insta::assert_json_snapshot!(explain.json());
}

#[test]
fn policy_show_of_global_administrator_at_the_defaults() {
    let mut t = Transcript::new();
    t.run(&["init", "--demo"]);
    t.run(&["policy", "show", GA]);
    insta::assert_snapshot!(t.text());
}

#[test]
fn policy_show_after_policy_set_changes_activation_and_approval() {
    let mut t = Transcript::new();
    t.run(&["init", "--demo"]);
    t.run(&[
        "policy",
        "set",
        "Security Administrator",
        "--activation-max",
        "PT4H",
        "--require-ticket",
        "true",
        "--require-approval",
        "true",
        "--approver",
        "PIM Approvers",
        "--approver",
        "kenji",
        "--allow-permanent-eligible",
        "false",
        "--eligible-max",
        "P90D",
    ]);
    t.run(&["policy", "show", "Security Administrator"]);
    insta::assert_snapshot!(t.text());
}

#[test]
fn policy_show_json_of_global_administrator_is_the_graph_policy_with_its_rules() {
    let mut t = Transcript::new();
    t.run(&["init", "--demo"]);
    let policy: Value = t.run(&["--json", "policy", "show", GA]).ok().json();
    insta::assert_json_snapshot!(policy);
}

#[test]
fn the_demo_azure_estate_as_a_tree_a_list_and_one_scope_in_its_place() {
    let mut t = Transcript::new();
    t.run(&["init", "--demo"]);
    t.run(&["scope", "tree"]);
    t.run(&["scope", "list"]);
    t.run(&["scope", "show", "kv-contoso-prod"]);
    t.run(&[
        "scope",
        "add",
        "/subscriptions/11111111-1111-4111-8111-111111111111",
        "--name",
        "Sandbox",
        "--parent",
        "Contoso",
    ]);
    t.run(&["scope", "add", "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-sandbox"]);
    t.run(&["scope", "tree", "Contoso"]);
    t.run(&["--json", "scope", "show", "rg-sandbox"]);
    insta::assert_snapshot!(t.text());
}
