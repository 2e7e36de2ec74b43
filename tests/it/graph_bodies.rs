//! Snapshots of Microsoft Graph response bodies, as clients read them: through the router
//! (`harness::graph::Lab`) on the demonstration tenant in memory (seed 1, the default clock).
//! Each snapshot holds the call, its status and its body, in the order the router wrote the keys.

use serde_json::{Value, json};

use crate::harness::graph::{
    APPROVALS, ASSIGN_INSTANCES, ASSIGN_REQS, ASSIGN_SCHEDULES, DIRECTORY_ROLE_SCOPE, ELIG_INSTANCES,
    ELIG_SCHEDULES, Lab, POLICY_ASSIGNMENTS, ROLE_ASSIGNMENTS, after, request, session,
};
use crate::harness::{GLOBAL_ADMIN, SECURITY_ADMIN, s};

/// One call as a snapshot shows it.
fn exchange(method: &str, path: &str, (status, body): (u16, Value)) -> Value {
    json!({"call": format!("{method} {path}"), "status": status, "body": body})
}

/// `who` asks to activate `role` for `duration`.
fn activation(who: &str, role: &str, duration: &str) -> Value {
    request("selfActivate", who, role, after(duration))
}

#[test]
fn graph_post_of_an_activation_request_returns_the_created_request() {
    let mut lab = Lab::demo();
    let alice = lab.user_id("alice");
    let got = lab.submit(&session(&alice), ASSIGN_REQS, &activation(&alice, GLOBAL_ADMIN, "PT2H"));
    insta::assert_json_snapshot!(exchange("POST", ASSIGN_REQS, got));
}

#[test]
fn graph_schedules_instances_and_role_assignments_of_an_activation() {
    let mut lab = Lab::demo();
    let alice = lab.user_id("alice");
    lab.accepted(&session(&alice), ASSIGN_REQS, &activation(&alice, GLOBAL_ADMIN, "PT2H"));
    let admin = lab.admin.clone();
    let filter = format!("$filter=principalId eq '{alice}'");
    let calls: Vec<Value> =
        [ELIG_SCHEDULES, ELIG_INSTANCES, ASSIGN_SCHEDULES, ASSIGN_INSTANCES, ROLE_ASSIGNMENTS]
            .iter()
            .map(|collection| {
                let path = format!("{collection}?{filter}");
                exchange("GET", &path, lab.raw(&admin, "GET", &path, None))
            })
            .collect();
    insta::assert_json_snapshot!(calls);
}

#[test]
fn graph_policy_of_global_administrator_with_its_rules_expanded() {
    let mut lab = Lab::demo();
    let path = format!(
        "{POLICY_ASSIGNMENTS}?$filter={DIRECTORY_ROLE_SCOPE} and roleDefinitionId eq '{GLOBAL_ADMIN}'&$expand=policy($expand=rules)"
    );
    let admin = lab.admin.clone();
    let got = lab.raw(&admin, "GET", &path, None);
    insta::assert_json_snapshot!(exchange("GET", &path, got));
}

#[test]
fn graph_error_envelope_of_an_activation_breaking_three_rules() {
    let mut lab = Lab::demo();
    let alice = lab.user_id("alice");
    let mut body = activation(&alice, GLOBAL_ADMIN, "PT10H");
    body.as_object_mut().unwrap().remove("justification");
    let mut no_mfa = session(&alice);
    no_mfa.mfa = false;
    let got = lab.submit(&no_mfa, ASSIGN_REQS, &body);
    insta::assert_json_snapshot!(exchange("POST", ASSIGN_REQS, got));
}

#[test]
fn graph_approval_of_an_activation_before_and_after_the_decision() {
    let mut lab = Lab::demo();
    let chloe = lab.user_id("chloe");
    let kenji = lab.user_id("kenji");
    let approvers = lab.group_id("PIM Approvers");
    let rule = lab.rule(SECURITY_ADMIN, "Approval_EndUser_Assignment");
    let mut setting = rule["setting"].clone();
    setting["isApprovalRequired"] = json!(true);
    setting["approvalStages"][0]["primaryApprovers"] = json!([{
        "@odata.type": "#microsoft.graph.groupMembers",
        "groupId": approvers,
        "description": "PIM Approvers",
    }]);
    lab.set_rule(SECURITY_ADMIN, "Approval_EndUser_Assignment", &json!({"setting": setting}));
    let created = lab.accepted(&session(&chloe), ASSIGN_REQS, &activation(&chloe, SECURITY_ADMIN, "PT2H"));
    let id = s(&created["approvalId"]);
    let path = format!("{APPROVALS}/{id}");
    let mut calls = vec![exchange("GET", &path, lab.raw(&session(&kenji), "GET", &path, None))];
    lab.advance("PT30M");
    let step = s(&lab.get(&path)["steps"][0]["id"]);
    let decide = format!("{path}/steps/{step}");
    let decision = json!({"reviewResult": "Approve", "justification": "Alert confirmed"});
    calls.push(exchange("PATCH", &decide, lab.send(&session(&kenji), "PATCH", &decide, &decision)));
    calls.push(exchange("GET", &path, lab.raw(&session(&kenji), "GET", &path, None)));
    let request = format!("{ASSIGN_REQS}/{}", s(&created["id"]));
    let admin = lab.admin.clone();
    calls.push(exchange("GET", &request, lab.raw(&admin, "GET", &request, None)));
    insta::assert_json_snapshot!(calls);
}
