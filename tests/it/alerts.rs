//! PIM alerts on scenarios with known answers, each at its threshold's edge: the demo organisation
//! (clock 2025-01-06T09:00Z: two Global Administrators of sixteen role holdings, eleven principals
//! holding privileged roles, six privileged assignments outside PIM, two permanent active ones),
//! then changes that make each alert fire or go quiet; thresholds changed from the command line
//! and over Graph (bad values refused, the store unchanged), dismissal and refresh, the real
//! msgraph-beta-sdk's models, text and JSON snapshots.

use serde_json::{Value, json};

use crate::harness::cli::Lab;

const BASE: &str = "/beta/identityGovernance/roleManagementAlerts";
const FILTER: &str = "$filter=scopeId eq '/' and scopeType eq 'DirectoryRole'";

/// One alert of `alerts --json`.
fn alert(lab: &Lab, name: &str) -> Value {
    let report = lab.run(&["--json", "alerts"]).ok().json();
    report["alerts"].as_array().unwrap().iter().find(|a| a["name"] == name).cloned().unwrap()
}

fn fires(lab: &Lab, name: &str) -> bool {
    alert(lab, name)["fires"].as_bool().unwrap()
}

/// The principals and roles of an alert's incidents, as `principal: role`.
fn affected(lab: &Lab, name: &str) -> Vec<String> {
    alert(lab, name)["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{}: {}",
                i["principal"]["name"].as_str().unwrap_or("-"),
                i["role"]["name"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

fn set(lab: &Lab, alert: &str, setting: &str) {
    lab.run(&["alerts", "set", alert, setting]).ok();
}

#[test]
fn too_many_global_admins_needs_both_the_count_and_the_share() {
    let lab = Lab::demo();
    let ga = "TooManyGlobalAdminsAssignedToTenantAlert";
    // Two of sixteen holdings (12.5%): the default count (3) is not reached.
    assert!(!fires(&lab, ga));
    assert!(
        alert(&lab, ga)["measured"].as_str().unwrap().starts_with("2 Global Administrator(s), 12% of 16")
    );
    set(&lab, "TooManyGlobalAdmins", "globalAdminCountThreshold=2");
    assert!(fires(&lab, ga));
    assert_eq!(
        affected(&lab, ga),
        ["Alice Andersen: Global Administrator", "Break Glass Admin: Global Administrator"]
    );
    // 12.5% reaches 12 but not 13.
    set(&lab, ga, "percentageOfGlobalAdminsOutOfRolesThreshold=12");
    assert!(fires(&lab, ga));
    set(&lab, ga, "percentageOfGlobalAdminsOutOfRolesThreshold=13");
    assert!(!fires(&lab, ga));
}

#[test]
fn roles_assigned_outside_pim_are_direct_assignments_and_direct_members_of_privileged_groups() {
    let lab = Lab::demo();
    let name = "RolesAssignedOutsidePimAlert";
    assert_eq!(
        affected(&lab, name),
        [
            "Alice Andersen: Privileged Role Administrator",
            "Ben Bakker: Helpdesk Administrator",
            "Break Glass Admin: Global Administrator",
            "Dev Patel: Privileged Role Administrator",
            "Emma Fischer: Helpdesk Administrator",
            "Hugo Laurent: Helpdesk Administrator",
        ]
    );
    let direct = alert(&lab, name)["incidents"][2].clone();
    assert_eq!(direct["fix"]["action"], "replaceOutsideAssignment");
    assert_eq!(direct["viaGroup"], Value::Null);
    // A role given through PIM is not one of them; one given directly is.
    lab.run(&[
        "active",
        "assign",
        "-p",
        "grace",
        "-r",
        "Security Administrator",
        "--duration",
        "P1D",
        "-j",
        "x",
    ])
    .ok();
    assert_eq!(alert(&lab, name)["incidents"].as_array().unwrap().len(), 6);
    let grace = lab.user_id("grace");
    let body = json!({"principalId": grace, "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10", "directoryScopeId": "/"});
    graph(&lab, "POST", "/v1.0/roleManagement/directory/roleAssignments", Some(&body)).ok();
    assert!(affected(&lab, name).contains(&"Grace Ito: Global Administrator".to_string()));
}

#[test]
fn too_many_privileged_role_holders_fires_at_its_count() {
    let lab = Lab::demo();
    let name = "TooManyPrivilegedRoleHoldersAlert";
    assert!(alert(&lab, name)["measured"].as_str().unwrap().starts_with("11 principal(s)"));
    set(&lab, name, "privilegedRoleHolderCountThreshold=11");
    assert!(fires(&lab, name));
    set(&lab, name, "privilegedRoleHolderCountThreshold=12");
    assert!(!fires(&lab, name));
}

#[test]
fn a_role_activated_without_mfa_fires_until_mfa_or_an_authentication_context_is_required() {
    let lab = Lab::demo();
    let name = "NoMfaOnRoleActivationAlert";
    assert!(!fires(&lab, name));
    lab.run(&["policy", "set", "Helpdesk Administrator", "--require-mfa", "false"]).ok();
    assert_eq!(affected(&lab, name), ["-: Helpdesk Administrator"]);
    let i = alert(&lab, name)["incidents"][0].clone();
    assert_eq!(i["fix"], json!({"action": "requireMfa", "role": "Helpdesk Administrator"}));
    lab.run(&["policy", "set", "Helpdesk Administrator", "--require-auth-context", "c1"]).ok();
    assert!(!fires(&lab, name));
}

#[test]
fn an_eligible_administrator_who_does_not_activate_is_reported_from_the_duration_on() {
    let lab = Lab::demo();
    let name = "RedundantAssignmentAlert";
    set(&lab, name, "duration=P10D");
    lab.run(&["clock", "advance", "P9D"]).ok();
    assert!(!fires(&lab, name));
    lab.run(&["--as", "kenji", "activate", "-r", "Intune Administrator", "-j", "work", "--duration", "PT1H"])
        .ok();
    lab.run(&["clock", "advance", "P1D"]).ok();
    let found = affected(&lab, name);
    assert!(found.contains(&"Alice Andersen: Global Administrator".to_string()), "{found:?}");
    // Kenji activated within the ten days.
    assert!(!found.iter().any(|f| f.starts_with("Kenji Sato")), "{found:?}");
}

#[test]
fn a_role_activated_again_within_the_interval_fires_with_the_count() {
    let lab = Lab::demo();
    let name = "SequentialActivationRenewalsAlert";
    let kenji = |args: &[&str]| lab.run(&[&["--as", "kenji"][..], args].concat()).ok();
    kenji(&["activate", "-r", "Intune Administrator", "-j", "one", "--duration", "PT1H"]);
    assert!(!fires(&lab, name));
    lab.run(&["clock", "advance", "PT10M"]).ok();
    kenji(&["deactivate", "-r", "Intune Administrator"]);
    lab.run(&["clock", "advance", "PT50M"]).ok();
    kenji(&["activate", "-r", "Intune Administrator", "-j", "two", "--duration", "PT1H"]);
    // Exactly an hour apart: within PT1H.
    let i = alert(&lab, name)["incidents"][0].clone();
    assert_eq!(i["activationCount"], 2);
    assert_eq!(i["sequenceStart"], "2025-01-06T09:00:00Z");
    assert_eq!(i["sequenceEnd"], "2025-01-06T10:00:00Z");
    assert_eq!(i["fix"]["action"], "lengthenActivation");
    set(&lab, name, "timeIntervalBetweenActivations=PT59M");
    assert!(!fires(&lab, name));
    set(&lab, name, "timeIntervalBetweenActivations=PT59M");
    set(&lab, name, "sequentialActivationCounterThreshold=3");
    assert!(!fires(&lab, name));
}

#[test]
fn an_account_that_does_not_act_for_the_duration_is_potentially_stale() {
    let lab = Lab::demo();
    let name = "StaleSignInAlert";
    lab.run(&["clock", "advance", "P29DT23H59M"]).ok();
    assert!(!fires(&lab, name));
    lab.run(&["--as", "kenji", "activate", "-r", "Intune Administrator", "-j", "work", "--duration", "PT1H"])
        .ok();
    lab.run(&["clock", "advance", "PT1M"]).ok();
    let found = affected(&lab, name);
    assert!(found.contains(&"Chloe Dubois: Security Administrator".to_string()), "{found:?}");
    assert!(!found.iter().any(|f| f.starts_with("Kenji Sato")), "kenji signed in to activate: {found:?}");
}

#[test]
fn permanent_active_privileged_assignments_are_reported_with_a_way_to_eligibility() {
    let lab = Lab::demo();
    let name = "PermanentPrivilegedAssignmentsAlert";
    assert_eq!(
        affected(&lab, name),
        ["Break Glass Admin: Global Administrator", "Chloe Dubois: Security Reader"]
    );
    let chloe = alert(&lab, name)["incidents"][1].clone();
    assert_eq!(chloe["fix"]["action"], "makeEligible");
    assert!(chloe["why"].as_str().unwrap().contains("no expiry"));
    lab.run(&["clock", "advance", "PT5M"]).ok();
    lab.run(&["active", "remove", "-p", "chloe", "-r", "Security Reader"]).ok();
    assert_eq!(affected(&lab, name), ["Break Glass Admin: Global Administrator"]);
}

#[test]
fn a_disabled_alert_never_fires() {
    let lab = Lab::demo();
    set(&lab, "PermanentPrivileged", "isEnabled=false");
    let a = alert(&lab, "PermanentPrivilegedAssignmentsAlert");
    assert_eq!((a["enabled"].as_bool(), a["fires"].as_bool()), (Some(false), Some(false)));
}

#[test]
fn bad_settings_are_refused_naming_the_value_and_the_limit_and_change_nothing() {
    let lab = Lab::demo();
    lab.fails_unchanged(&["alerts", "set", "TooManyGlobalAdmins", "globalAdminCountThreshold=1"])
        .err_has("1 is out of range: the least is 2");
    lab.fails_unchanged(&["alerts", "set", "stale", "duration=P400D"])
        .err_has("P400D is out of range: the most is P365D");
    lab.fails_unchanged(&["alerts", "set", "Sequential", "timeIntervalBetweenActivations=PT30S"])
        .err_has("not a whole number of minutes");
    // Two settings: the first valid, the second not; neither is kept.
    lab.fails_unchanged(&["alerts", "set", "TooManyGlobalAdmins", "globalAdminCountThreshold=5", "nope=1"])
        .err_has("has no setting 'nope'");
    lab.fails_unchanged(&["alerts", "set", "NoSuchAlert", "x=1"]).err_has("no alert is named 'NoSuchAlert'");
    lab.fails_unchanged(&["alerts", "set", "toomany", "x=1"]).err_has("no alert is named 'toomany'");
    lab.fails_unchanged(&["--as", "kenji", "alerts", "set", "stale", "duration=P10D"])
        .err_has("Privileged Role Administrator");
}

#[test]
fn a_threshold_change_is_audited_and_listed() {
    let lab = Lab::demo();
    set(&lab, "stale", "duration=P14D");
    lab.run(&["audit"]).ok().out_has("Update alert configuration in PIM");
    lab.run(&["alerts", "config"]).ok().out_has("P14D");
    let config = lab.run(&["--json", "alerts", "config"]).ok().json();
    let stale = config.as_array().unwrap().iter().find(|c| c["name"] == "StaleSignInAlert").unwrap().clone();
    assert_eq!(
        stale["settings"][0],
        json!({"name": "duration", "value": "P14D", "default": "P30D", "min": "P1D", "max": "P365D"})
    );
}

#[test]
fn a_dismissed_alert_comes_back_with_a_new_incident_or_a_refresh() {
    let lab = Lab::demo();
    let name = "PermanentPrivilegedAssignmentsAlert";
    lab.run(&["alerts", "dismiss", name]).ok().out_has("dismissed");
    let a = alert(&lab, name);
    assert_eq!((a["fires"].as_bool(), a["active"].as_bool()), (Some(true), Some(false)));
    lab.run(&["alerts", "refresh"]).ok();
    assert_eq!(alert(&lab, name)["active"], true);
    lab.run(&["alerts", "dismiss", name]).ok();
    lab.run(&["active", "assign", "-p", "grace", "-r", "Security Administrator", "--permanent", "-j", "x"])
        .ok();
    assert_eq!(alert(&lab, name)["active"], true, "a new incident brings the alert back");
    lab.run(&["audit"]).ok().out_has("Dismiss alert in PIM").out_has("Refresh alerts in PIM");
}

/// A Graph call through `pimlab graph`: the body on stdout, `HTTP <status>` on stderr.
struct GraphRun(crate::harness::cli::Run);

impl GraphRun {
    #[track_caller]
    fn ok(self) -> GraphRun {
        assert!(self.0.code == 0 && self.0.stderr.starts_with("HTTP 2"), "expected success{}", self.0);
        self
    }

    #[track_caller]
    fn refused(self, code: &str, status: u16) -> GraphRun {
        assert!(self.0.stderr.contains(&format!("HTTP {status}")), "expected HTTP {status}{}", self.0);
        assert_eq!(self.json()["error"]["code"], code, "{}", self.0);
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.0.stdout).unwrap_or(Value::Null)
    }

    fn out_has(self, needle: &str) -> GraphRun {
        assert!(self.0.stdout.contains(needle), "stdout lacks {needle:?}{}", self.0);
        self
    }
}

fn graph(lab: &Lab, method: &str, path: &str, body: Option<&Value>) -> GraphRun {
    let mut args = vec!["graph", method, path];
    let text = body.map(Value::to_string);
    if let Some(t) = &text {
        args.extend(["--body", t.as_str()]);
    }
    GraphRun(lab.run(&args))
}

fn tenant(lab: &Lab) -> String {
    let list = graph(lab, "GET", &format!("{BASE}/alertDefinitions?{FILTER}"), None).ok().json();
    let id = list["value"][0]["id"].as_str().unwrap().to_string();
    id.split('_').nth(1).unwrap().to_string()
}

#[test]
fn graph_lists_require_the_scope_filter_and_show_the_real_alerts_only() {
    let lab = Lab::demo();
    for c in ["alerts", "alertDefinitions", "alertConfigurations"] {
        graph(&lab, "GET", &format!("{BASE}/{c}"), None).refused("BadRequest", 400).out_has("scopeId");
        let list = graph(&lab, "GET", &format!("{BASE}/{c}?{FILTER}"), None).ok().json();
        assert_eq!(list["value"].as_array().unwrap().len(), 6, "{c}");
    }
    let t = tenant(&lab);
    let id = format!("DirectoryRole_{t}_TooManyGlobalAdminsAssignedToTenantAlert");
    let c = graph(&lab, "GET", &format!("{BASE}/alertConfigurations/{id}"), None).ok().json();
    assert_eq!(c["@odata.type"], "#microsoft.graph.tooManyGlobalAdminsAssignedToTenantAlertConfiguration");
    assert_eq!((c["globalAdminCountThreshold"].as_i64(), c["isEnabled"].as_bool()), (Some(3), Some(true)));
    // Not on v1.0.
    graph(&lab, "GET", &format!("/v1.0/identityGovernance/roleManagementAlerts/alerts?{FILTER}"), None)
        .refused("BadRequest", 400)
        .out_has("Resource not found for the segment");
}

#[test]
fn graph_patch_changes_thresholds_and_refuses_bad_values_unchanged() {
    let lab = Lab::demo();
    let t = tenant(&lab);
    let ga = format!("{BASE}/alertConfigurations/DirectoryRole_{t}_TooManyGlobalAdminsAssignedToTenantAlert");
    let body = json!({"@odata.type": "#microsoft.graph.tooManyGlobalAdminsAssignedToTenantAlertConfiguration", "globalAdminCountThreshold": 2});
    graph(&lab, "PATCH", &ga, Some(&body)).ok();
    assert!(fires(&lab, "TooManyGlobalAdminsAssignedToTenantAlert"));
    let stale = format!("{BASE}/alertConfigurations/DirectoryRole_{t}_StaleSignInAlert");
    graph(&lab, "PATCH", &stale, Some(&json!({"duration": "P14D"}))).ok();
    assert_eq!(graph(&lab, "GET", &stale, None).ok().json()["duration"], "P14D");
    let before = lab.dump();
    for (path, bad, says) in [
        (&ga, json!({"globalAdminCountThreshold": 101}), "101 is out of range: the most is 100"),
        (&ga, json!({"globalAdminCountThreshold": 2.5}), "2.5 is not a whole number"),
        (&ga, json!({"duration": "P1D"}), "has no setting 'duration'"),
        (&stale, json!({"duration": "14d"}), "not an ISO 8601 duration"),
        (
            &stale,
            json!({"@odata.type": "#microsoft.graph.redundantAssignmentAlertConfiguration"}),
            "is not the type",
        ),
    ] {
        graph(&lab, "PATCH", path, Some(&bad)).refused("BadRequest", 400).out_has(says);
        assert_eq!(lab.dump(), before, "{bad} changed the store");
    }
}

#[test]
fn graph_dismisses_with_is_active_false_and_refreshes() {
    let lab = Lab::demo();
    let t = tenant(&lab);
    let id = format!("DirectoryRole_{t}_RolesAssignedOutsidePimAlert");
    let one = format!("{BASE}/alerts/{id}");
    let got = graph(&lab, "GET", &format!("{one}?$expand=alertDefinition"), None).ok().json();
    assert_eq!((got["incidentCount"].as_i64(), got["isActive"].as_bool()), (Some(6), Some(true)));
    assert_eq!(got["alertDefinition"]["severityLevel"], "high");
    graph(&lab, "PATCH", &one, Some(&json!({"isActive": false}))).ok();
    assert_eq!(graph(&lab, "GET", &one, None).ok().json()["isActive"], false);
    graph(
        &lab,
        "POST",
        &format!("{BASE}/alerts/refresh"),
        Some(&json!({"scopeId": "/", "scopeType": "DirectoryRole"})),
    )
    .ok();
    assert_eq!(graph(&lab, "GET", &one, None).ok().json()["isActive"], true);
    graph(&lab, "PATCH", &one, Some(&json!({"incidentCount": 0}))).refused("BadRequest", 400);
    let incidents = graph(&lab, "GET", &format!("{one}/alertIncidents"), None).ok().json();
    let first = incidents["value"][0]["id"].as_str().unwrap().to_string();
    graph(&lab, "GET", &format!("{one}/alertIncidents/{first}"), None).ok();
    graph(&lab, "GET", &format!("{BASE}/alerts/DirectoryRole_{t}_TooManyPrivilegedRoleHoldersAlert"), None)
        .refused("ResourceNotFound", 404);
}

#[test]
fn every_alert_entity_parses_with_the_real_graph_beta_sdk_models() {
    let Some(python) = crate::arm_router::python_with(
        "PIMLAB_GRAPH_BETA_SDK_PYTHON",
        "import msgraph_beta.generated.models, kiota_serialization_json",
    ) else {
        eprintln!(
            "skipped: no Python with msgraph-beta-sdk (set PIMLAB_GRAPH_BETA_SDK_PYTHON, or run .ci/run)"
        );
        return;
    };
    let lab = Lab::demo();
    // Make every alert fire.
    for s in [
        ("TooManyGlobalAdmins", "globalAdminCountThreshold=2"),
        ("Redundant", "duration=P1D"),
        ("stale", "duration=P1D"),
    ] {
        set(&lab, s.0, s.1);
    }
    lab.run(&["policy", "set", "Helpdesk Administrator", "--require-mfa", "false"]).ok();
    let kenji = |args: &[&str]| lab.run(&[&["--as", "kenji"][..], args].concat()).ok();
    kenji(&["activate", "-r", "Intune Administrator", "-j", "one", "--duration", "PT1H"]);
    lab.run(&["clock", "advance", "PT10M"]).ok();
    kenji(&["deactivate", "-r", "Intune Administrator"]);
    kenji(&["activate", "-r", "Intune Administrator", "-j", "two", "--duration", "PT1H"]);
    lab.run(&["clock", "advance", "P2D"]).ok();
    let beta = |model: &str, value: &Value| json!({"model": model, "json": value, "package": "msgraph_beta"});
    let mut docs = Vec::new();
    let alerts = graph(&lab, "GET", &format!("{BASE}/alerts?{FILTER}"), None).ok().json();
    for a in alerts["value"].as_array().unwrap() {
        assert!(a["incidentCount"].as_i64().unwrap() > 0, "{a}");
        docs.push(beta("UnifiedRoleManagementAlert", a));
        let incidents =
            graph(&lab, "GET", &format!("{BASE}/alerts/{}/alertIncidents", a["id"].as_str().unwrap()), None)
                .ok()
                .json();
        for i in incidents["value"].as_array().unwrap() {
            let t = i["@odata.type"].as_str().unwrap().trim_start_matches("#microsoft.graph.");
            docs.push(beta(&format!("{}{}", t[..1].to_uppercase(), &t[1..]), i));
        }
    }
    for c in graph(&lab, "GET", &format!("{BASE}/alertConfigurations?{FILTER}&$expand=alertDefinition"), None)
        .ok()
        .json()["value"]
        .as_array()
        .unwrap()
    {
        let t = c["@odata.type"].as_str().unwrap().trim_start_matches("#microsoft.graph.");
        docs.push(beta(&format!("{}{}", t[..1].to_uppercase(), &t[1..]), c));
    }
    for d in graph(&lab, "GET", &format!("{BASE}/alertDefinitions?{FILTER}"), None).ok().json()["value"]
        .as_array()
        .unwrap()
    {
        docs.push(beta("UnifiedRoleManagementAlertDefinition", d));
    }
    crate::arm_router::check_with(&python, "check_graph_models.py", &docs);
}

#[test]
fn scripts_read_and_change_alerts() {
    let lab = Lab::demo();
    let script = lab.file(
        "a.lua",
        r#"
        local before = pim.alerts()
        pim.alerts.set("TooManyGlobalAdmins", { globalAdminCountThreshold = 2 })
        for _, a in ipairs(pim.alerts{}.alerts) do
          if a.name == "TooManyGlobalAdminsAssignedToTenantAlert" then print(a.name, a.fires, #a.incidents) end
        end
        print(#before.alerts, pim.alerts.config()[2].settings[1].value)
        "#,
    );
    lab.run(&["run", &script])
        .ok()
        .out_has("TooManyGlobalAdminsAssignedToTenantAlert\ttrue\t2")
        .out_has("8\t2");
}

#[test]
fn alerts_read_as_a_table_and_as_json() {
    let lab = Lab::demo();
    set(&lab, "TooManyGlobalAdmins", "globalAdminCountThreshold=2");
    let text = [lab.run(&["alerts"]).ok().stdout, lab.run(&["alerts", "config"]).ok().stdout].join("\n");
    insta::assert_snapshot!(text);
    insta::assert_json_snapshot!("alerts_demo", lab.run(&["--json", "alerts"]).ok().json());
}
