//! `pimlab apply` (EasyPIM configurations) and `export --format easypim`, through the binary:
//! `--what-if` changes nothing and foretells `apply`; delta and initial modes with
//! ProtectedUsers; the validation errors EasyPIM raises; the quirks reproduced; the export read
//! back by `apply`.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::harness::cli::{Lab, Run};
use crate::harness::root;

/// The README's example configuration (its ids are the demo tenant's with seed 7, `Lab::demo`).
fn example() -> String {
    root().join("scripts/pim-config.json").display().to_string()
}

/// Writes a configuration into the lab's directory.
fn config(lab: &Lab, name: &str, v: &Value) -> String {
    let path = lab.path(name);
    std::fs::write(&path, serde_json::to_string_pretty(v).unwrap()).unwrap();
    path.display().to_string()
}

/// The items a report lists after `prefix` (with the prefix's verb replaced), sorted.
fn items(run: &Run, prefix: &str) -> Vec<String> {
    let mut v: Vec<String> =
        run.lines().iter().filter_map(|l| l.trim().strip_prefix(prefix)).map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn what_if_changes_nothing_and_reports_what_apply_then_does() {
    let lab = Lab::demo();
    let before = lab.dump();
    let preview = lab.run(&["apply", &example(), "--what-if"]).ok();
    assert_eq!(lab.dump(), before, "--what-if changed the store{preview}");
    insta::assert_snapshot!("easypim_what_if", preview.stdout);
    let planned = items(&preview, "What if: Creating ");
    assert_eq!(planned.len(), 3, "{preview}");
    let applied = lab.run(&["apply", &example()]).ok();
    assert_ne!(lab.dump(), before);
    assert_eq!(items(&applied, "Created "), planned, "{applied}");
    assert_eq!(items(&applied, "[WouldRemove]"), items(&preview, "[WouldRemove]"));
    // The policies' drift is what apply changed: a second preview finds none, and a second run
    // changes nothing.
    let again = lab.run(&["apply", &example(), "--what-if"]).ok();
    again.clone_ok().out_has("Drift detected: 0").out_has("Created: 0  Planned: 0  Skipped: 4  Failed: 0");
    let policy = lab.policy("Exchange Administrator");
    let activation = policy["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "Expiration_EndUser_Assignment")
        .unwrap();
    assert_eq!(activation["maximumDuration"], "PT1H", "the entry's override beats the template");
}

trait CloneOk {
    fn clone_ok(&self) -> Run;
}

impl CloneOk for Run {
    fn clone_ok(&self) -> Run {
        Run {
            what: self.what.clone(),
            code: self.code,
            stdout: self.stdout.clone(),
            stderr: self.stderr.clone(),
        }
    }
}

#[test]
fn initial_mode_removes_what_is_not_declared_except_protected_users() {
    let lab = Lab::demo();
    // The service refuses to remove an assignment in its first five minutes.
    lab.run(&["clock", "advance", "1h"]).ok();
    let (ben, lena, grace) = (lab.user_id("Ben Bakker"), lab.user_id("Lena Vogel"), lab.user_id("Grace Ito"));
    let cfg = config(
        &lab,
        "initial.json",
        &json!({
            "ProtectedUsers": [lena],
            "Assignments": { "EntraRoles": [
                { "roleName": "Exchange Administrator", "assignments": [ { "principalId": grace, "assignmentType": "Eligible" } ] },
                { "roleName": "User Administrator", "assignments": [ { "principalId": ben, "duration": "P30D" } ] }
            ] }
        }),
    );
    let delta = lab.run(&["apply", &cfg, "--what-if"]).ok();
    let preview = lab.run(&["apply", &cfg, "--what-if", "--mode", "initial"]).ok();
    // Delta reports the same candidates, and also the one at an administrative unit, which
    // initial mode skips (EasyPIM does not remove there).
    let mut in_delta = items(&delta, "[WouldRemove]");
    in_delta.retain(|i| !i.contains("/administrativeUnits/"));
    assert_eq!(in_delta, items(&preview, "[WouldRemove]"), "{delta}{preview}");
    assert_eq!(items(&preview, "[WouldRemove]").len(), 3, "{preview}");
    let removed = lab.run(&["apply", &cfg, "--mode", "initial"]).ok();
    assert_eq!(items(&removed, "[Removed]"), items(&preview, "[WouldRemove]"), "{removed}");
    insta::assert_snapshot!("easypim_initial", removed.stdout);
    // Lena's eligibility (a protected user) and Global Administrator's (a protected role) stay;
    // Grace's is kept as declared; the administrative unit's is skipped.
    let held: Vec<String> = lab
        .run(&["--json", "eligible", "list"])
        .ok()
        .listing()
        .iter()
        .map(|s| s["principalId"].as_str().unwrap().to_string())
        .collect();
    for who in [&lena, &grace, &lab.user_id("Alice Andersen"), &lab.user_id("Farid Haddad")] {
        assert!(held.contains(who), "{who} lost an eligibility{removed}");
    }
    assert!(!held.contains(&lab.user_id("Kenji Sato")), "{removed}");
    let second = lab.run(&["apply", &cfg, "--mode", "initial"]).ok();
    second.out_has("Removed: 0").out_has("Created: 0  Planned: 0  Skipped: 2  Failed: 0");
}

#[test]
fn invalid_configurations_are_refused_naming_the_entry_and_change_nothing() {
    let lab = Lab::demo();
    let approvers = lab.object_id("group", "PIM Approvers");
    let cases: Vec<(&str, String)> = vec![
        ("template", json!({"EntraRoles": {"Policies": {"User Administrator": {"Template": "Nope"}}}}).to_string()),
        ("approvers", json!({"EntraRoles": {"Policies": {"User Administrator": {"ApprovalRequired": true}}}}).to_string()),
        (
            "conflict",
            json!({"EntraRoles": {"Policies": {}}, "EntraRolePolicies": [], "GroupPolicies": []}).to_string(),
        ),
        ("scope", json!({"AzureRoles": {"Policies": {"Reader": {"ActivationDuration": "PT1H"}}}}).to_string()),
        ("token", json!({"EntraRoles": {"Policies": [{"RoleName": "User Administrator", "PolicySource": "inline", "ActivationRequirement": "mfa"}]}}).to_string()),
        ("source", json!({"EntraRoles": {"Policies": [{"RoleName": "User Administrator", "PolicySource": "file"}]}}).to_string()),
        ("approver-id", json!({"PolicyTemplates": {"T": {"Approvers": [{"Name": "x"}]}}, "EntraRoles": {"Policies": {"User Administrator": {"Template": "T"}}}}).to_string()),
        ("case", "{ \"ProtectedUsers\": [], \"protectedusers\": [] }".to_string()),
        ("array", "[1, 2, 3, 4, 5, 6]".to_string()),
        ("json", "{ \"ProtectedUsers\": [ }".to_string()),
        ("missing", json!({"ProtectedUsers": ["00000000-0000-4000-8000-000000000001", approvers]}).to_string()),
    ];
    let mut messages = String::new();
    for (name, text) in cases {
        let path = lab.path(&format!("{name}.json"));
        std::fs::write(&path, text).unwrap();
        let run = lab.fails_unchanged(&["apply", path.to_str().unwrap()]);
        let run = run.refused("PimlabEasyPimConfigInvalid", 400);
        let dir = lab.dir.path().display().to_string();
        messages.push_str(&format!("{name}: {}", run.stderr.replace(&dir, "<lab>")));
    }
    insta::assert_snapshot!("easypim_invalid", messages);
    // A missing principal only warns under --what-if.
    let path = lab.path("missing.json");
    lab.run(&["apply", path.to_str().unwrap(), "--what-if"])
        .ok()
        .out_has("WARNING: principal validation: 1 of 2");
}

#[test]
fn quirks_are_reproduced_and_flagged() {
    let lab = Lab::demo();
    let (ben, hugo) = (lab.user_id("Ben Bakker"), lab.user_id("Hugo Laurent"));
    let approvers = lab.object_id("group", "PIM Approvers");
    let cfg = config(
        &lab,
        "quirks.json",
        &json!({
            "EntraRoles": { "Policies": [
                // A group approver without "Type" is sent as a user: the service refuses it.
                { "RoleName": "Exchange Administrator", "Policy": { "Approvers": [ { "id": approvers, "description": "Approvers" } ] } },
                { "RoleName": "Reports Reader", "PolicySource": "inline", "ActivationDuration": "PT1H",
                  "Notification_Activation_Alert": { "isDefaultRecipientEnabled": "false" } },
                { "RoleName": "No Such Role", "PolicySource": "inline", "ActivationDuration": "PT1H" }
            ] },
            "Assignments": { "EntraRoles": [
                { "roleName": "Reports Reader", "assignments": [
                    { "principalId": ben, "assignmentType": "Active", "duration": "P6M" },
                    { "principalId": hugo, "assignmentType": "Eligible", "permanent": "false" }
                ] }
            ] }
        }),
    );
    let run = lab.run(&["apply", &cfg]);
    assert_eq!(run.code, 1, "a failed policy makes the run exit 1{run}");
    insta::assert_snapshot!("easypim_quirks", run.stdout);
    let run = run.clone_ok();
    run.out_has("quirk: Approvers without ApprovalRequired switches approval on")
        .out_has("[Failed] Entra role 'Exchange Administrator'")
        .out_has("[SkippedRoleNotFound] Entra role 'No Such Role'")
        .out_has("read as PT6M (minutes, not months)");
    // "false" is truthy: Hugo's eligibility is permanent.
    let hugo_held = lab.run(&["--json", "eligible", "list", "--principal", &hugo]).ok().listing();
    assert_eq!(hugo_held[0]["scheduleInfo"]["expiration"]["type"], "noExpiration");
}

#[test]
fn the_export_applied_to_a_fresh_tenant_reproduces_policies_and_assignments() {
    let source = Lab::demo();
    source.run(&["apply", &example()]).ok();
    let exported = source.run(&["export", "--format", "easypim"]).ok().stdout;
    assert_eq!(source.run(&["export", "--format", "easypim"]).ok().stdout, exported, "deterministic");
    let path = source.path("export.json");
    std::fs::write(&path, &exported).unwrap();
    // The store's own export matches it: no drift, nothing to create.
    source
        .run(&["apply", path.to_str().unwrap(), "--what-if"])
        .ok()
        .out_has("Drift detected: 0")
        .out_has("Created: 0  Planned: 0");
    let fresh = Lab::demo();
    fresh.run(&["apply", path.to_str().unwrap()]).ok();
    for role in ["Exchange Administrator", "User Administrator", "Global Administrator"] {
        assert_eq!(fresh.policy(role)["rules"], source.policy(role)["rules"], "{role}");
    }
    let reader =
        ["policy", "show", "Reader", "--scope", "/subscriptions/8a1f3c52-6d0e-4b7a-9c21-5e4d3f2a1b00"];
    let mut args = vec!["--json"];
    args.extend(reader);
    assert_eq!(fresh.run(&args).ok().json()["rules"], source.run(&args).ok().json()["rules"]);
    let held = |lab: &Lab, kind: &str| {
        let mut v: Vec<(String, String, String)> = lab
            .run(&["--json", kind, "list"])
            .ok()
            .listing()
            .iter()
            .filter(|s| s["directoryScopeId"] == "/")
            .map(|s| {
                (
                    crate::harness::s(&s["principalId"]),
                    crate::harness::s(&s["roleDefinitionId"]),
                    s["scheduleInfo"]["expiration"]["type"].to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    for kind in ["eligible", "active"] {
        assert_eq!(held(&fresh, kind), held(&source, kind), "{kind}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, .. ProptestConfig::default() })]

    /// Any selection of the example's sections: --what-if never changes the store, and a second
    /// apply finds everything in place.
    #[test]
    fn what_if_never_writes_and_apply_is_idempotent(keep in proptest::collection::vec(any::<bool>(), 5)) {
        let lab = Lab::demo();
        let full: Value = serde_json::from_str(
            &std::fs::read_to_string(root().join("scripts/pim-config.json")).unwrap()
                .lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n"),
        ).unwrap();
        let mut v = full.clone();
        for (k, section) in keep.iter().zip(["ProtectedUsers", "EntraRoles", "AzureRoles", "GroupRoles", "Assignments"]) {
            if !k {
                v.as_object_mut().unwrap().remove(section);
            }
        }
        let cfg = config(&lab, "random.json", &v);
        let before = lab.dump();
        lab.run(&["apply", &cfg, "--what-if"]).ok();
        prop_assert_eq!(lab.dump(), before);
        lab.run(&["apply", &cfg]).ok();
        let second = lab.run(&["apply", &cfg, "--what-if"]).ok();
        prop_assert!(second.stdout.contains("Created: 0  Planned: 0"), "{}", second);
        prop_assert!(second.stdout.contains("Drift detected: 0"), "{}", second);
    }
}
