//! Changing Azure role settings over ARM (arm-pim reference §3.6): PATCH of
//! `roleManagementPolicies` replacing rules by id, PUT refused as ARM refuses it, DELETE putting
//! the defaults back, `roleManagementPolicyAssignments` PUT and DELETE, who may do it, and bad
//! rules refused as `InvalidPolicy` with the store unchanged.

use pimlab::api::arm;
use pimlab::engine::Session;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::harness::graph::{Lab, session};

const PROD: &str = "/subscriptions/8a1f3c52-6d0e-4b7a-9c21-5e4d3f2a1b00";
const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const RBAC_ADMINISTRATOR: &str = "f58310d9-a9f6-439a-9e8d-f62e7b41a168";
const PIM: &str = "api-version=2020-10-01";

fn handle(lab: &mut Lab, who: &Session, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let text = body.map(Value::to_string);
    let r = arm::handle(&mut lab.engine, who, method, path, text.as_deref());
    (r.status, r.body.unwrap_or(Value::Null))
}

fn policies(scope: &str, rest: &str) -> String {
    format!("{scope}/providers/Microsoft.Authorization/roleManagementPolicies{rest}?{PIM}")
}

/// Owner's policy at the production subscription, as a GET returns it.
fn owner_policy(lab: &mut Lab) -> Value {
    let admin = lab.admin.clone();
    let path = format!(
        "{PROD}/providers/Microsoft.Authorization/roleManagementPolicies?{PIM}&$filter=roleDefinitionId eq '{OWNER}'"
    );
    let (status, body) = handle(lab, &admin, "GET", &path, None);
    assert_eq!(status, 200, "{body:#}");
    body["value"][0].clone()
}

fn rule_of(policy: &Value, id: &str) -> Value {
    policy["properties"]["rules"].as_array().unwrap().iter().find(|r| r["id"] == id).cloned().unwrap()
}

fn patch_body(rules: &[Value]) -> Value {
    json!({"properties": {"rules": rules}})
}

/// A PATCH sends the rules it changes, each whole (as terraform does: GET, change, send back);
/// the answer is the whole policy, the rules sent first; the change holds for the next GET and
/// for the next activation.
#[test]
fn a_patch_replaces_the_rules_it_sends_and_answers_the_whole_policy_with_them_first() {
    let mut lab = Lab::demo_on_file();
    let admin = lab.admin.clone();
    let policy = owner_policy(&mut lab);
    let name = policy["name"].as_str().unwrap().to_string();
    let mut expiration = rule_of(&policy, "Expiration_EndUser_Assignment");
    expiration["maximumDuration"] = json!("PT2H");
    let mut enablement = rule_of(&policy, "Enablement_EndUser_Assignment");
    enablement["enabledRules"] = json!(["Justification", "Ticketing"]);
    let (status, answer) = handle(
        &mut lab,
        &admin,
        "PATCH",
        &policies(PROD, &format!("/{name}")),
        Some(&patch_body(&[enablement, expiration])),
    );
    assert_eq!(status, 200, "{answer:#}");
    let rules = answer["properties"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 17);
    assert_eq!(rules[0]["id"], "Enablement_EndUser_Assignment");
    assert_eq!(rules[0]["enabledRules"], json!(["Justification", "Ticketing"]));
    assert_eq!(rules[1]["id"], "Expiration_EndUser_Assignment");
    assert_eq!(rules[1]["maximumDuration"], "PT2H");
    assert_eq!(answer["properties"]["lastModifiedBy"]["id"], json!(admin.caller));
    assert!(answer["properties"]["lastModifiedDateTime"].is_string(), "{answer:#}");
    let again = owner_policy(&mut lab);
    assert_eq!(rule_of(&again, "Expiration_EndUser_Assignment")["maximumDuration"], "PT2H");
    // The other scopes keep their own settings (not inherited, §2.2).
    let rg = format!("{PROD}/resourceGroups/rg-prod-app");
    let path = format!(
        "{rg}/providers/Microsoft.Authorization/roleManagementPolicies?{PIM}&$filter=roleDefinitionId eq '{OWNER}'"
    );
    let (_, below) = handle(&mut lab, &admin, "GET", &path, None);
    assert_eq!(rule_of(&below["value"][0], "Expiration_EndUser_Assignment")["maximumDuration"], "PT8H");
    // The command line reads the same settings.
    let shown = lab.engine.azure_policy(PROD, "Owner").unwrap().1;
    let max = shown.expiration("Expiration_EndUser_Assignment").unwrap().maximum_duration.to_string();
    assert_eq!(max, "PT2H");
}

/// What a GET returns, PATCHed back unchanged, changes nothing: not a rule, not the modified
/// stamp.
#[test]
fn a_policy_patched_back_as_read_changes_nothing() {
    let mut lab = Lab::demo_on_file();
    let admin = lab.admin.clone();
    let policy = owner_policy(&mut lab);
    let name = policy["name"].as_str().unwrap().to_string();
    let body = json!({"properties": {"rules": policy["properties"]["rules"]}});
    let (status, answer) =
        handle(&mut lab, &admin, "PATCH", &policies(PROD, &format!("/{name}")), Some(&body));
    assert_eq!(status, 200, "{answer:#}");
    assert_eq!(answer["properties"]["lastModifiedBy"], Value::Null);
    assert_eq!(owner_policy(&mut lab), policy);
}

/// A rule that is incomplete, not the policy's, sent twice, of the wrong type, aimed at another
/// caller, or naming an approver the tenant lacks is `InvalidPolicy` (400), naming the rule and
/// field; a body that is not JSON is `InvalidRequestContent`; nothing is stored.
#[test]
fn bad_rules_are_invalid_policy_and_change_nothing() {
    let mut lab = Lab::demo_on_file();
    let admin = lab.admin.clone();
    let policy = owner_policy(&mut lab);
    let path = policies(PROD, &format!("/{}", policy["name"].as_str().unwrap()));
    let expiration = rule_of(&policy, "Expiration_EndUser_Assignment");
    let approval = rule_of(&policy, "Approval_EndUser_Assignment");
    let mut incomplete = expiration.clone();
    incomplete.as_object_mut().unwrap().remove("isExpirationRequired");
    let mut unknown = expiration.clone();
    unknown["id"] = json!("Expiration_EndUser_Elsewhere");
    let mut wrong_type = expiration.clone();
    wrong_type["ruleType"] = json!("RoleManagementPolicyEnablementRule");
    let mut other_caller = expiration.clone();
    other_caller["target"]["caller"] = json!("Admin");
    let mut bad_duration = expiration.clone();
    bad_duration["maximumDuration"] = json!("eight hours");
    let mut stranger = approval.clone();
    stranger["setting"]["isApprovalRequired"] = json!(true);
    stranger["setting"]["approvalStages"][0]["primaryApprovers"] = json!([{
        "id": "0badc0de-0000-4000-8000-000000000000", "userType": "User", "isBackup": false, "description": null
    }]);
    let before = lab.dump();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("incomplete", patch_body(&[incomplete]), "isExpirationRequired"),
        ("unknown id", patch_body(&[unknown]), "Expiration_EndUser_Elsewhere"),
        ("twice", patch_body(&[expiration.clone(), expiration.clone()]), "twice"),
        ("wrong type", patch_body(&[wrong_type]), "properties.rules[0]"),
        ("other caller", patch_body(&[other_caller]), "target.caller"),
        ("bad duration", patch_body(&[bad_duration]), "maximumDuration"),
        ("stranger approver", patch_body(&[stranger]), "0badc0de-0000-4000-8000-000000000000"),
        ("rules not a list", json!({"properties": {"rules": {"id": "x"}}}), "properties.rules"),
        ("no rules", json!({"properties": {}}), "properties.rules"),
    ];
    for (what, body, names) in cases {
        let (status, answer) = handle(&mut lab, &admin, "PATCH", &path, Some(&body));
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (400, Some("InvalidPolicy")),
            "{what}: {answer:#}"
        );
        assert_eq!(answer["error"]["message"], "The policy is invalid.", "{what}");
        assert!(answer.to_string().contains(names), "{what} should name {names}: {answer:#}");
    }
    let r = arm::handle(&mut lab.engine, &admin, "PATCH", &path, Some("{\"properties\": "));
    assert_eq!((r.status, r.body.unwrap()["error"]["code"].clone()), (400, json!("InvalidRequestContent")));
    assert_eq!(lab.dump(), before, "a refused PATCH changed the store");
}

/// PUT is not how a policy changes: ARM answers 400 with the bare text "Not implemented
/// exception" (arm-pim §0.2).
#[test]
fn a_put_of_a_policy_is_not_implemented_as_arm_says() {
    let mut lab = Lab::demo_on_file();
    let admin = lab.admin.clone();
    let policy = owner_policy(&mut lab);
    let before = lab.dump();
    let path = policies(PROD, &format!("/{}", policy["name"].as_str().unwrap()));
    let (status, body) = handle(&mut lab, &admin, "PUT", &path, Some(&policy));
    assert_eq!((status, body), (400, json!("Not implemented exception")));
    assert_eq!(lab.dump(), before);
    let (status, _) = handle(&mut lab, &admin, "POST", &path, Some(&policy));
    assert_eq!(status, 405);
}

/// Makes `who` an active Role Based Access Control Administrator at the production subscription.
fn make_rbac_administrator(lab: &mut Lab, who: &str) {
    let admin = lab.admin.clone();
    let path = format!(
        "{PROD}/providers/Microsoft.Authorization/roleAssignmentScheduleRequests/3f2a1b00-6d0e-4b7a-9c21-5e4d8a1f3c52?{PIM}"
    );
    let body = json!({"properties": {
        "principalId": who,
        "roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{RBAC_ADMINISTRATOR}"),
        "requestType": "AdminAssign",
        "scheduleInfo": {"expiration": {"type": "AfterDuration", "duration": "P30D"}},
        "justification": "Delegated access management",
    }});
    let (status, answer) = handle(lab, &admin, "PUT", &path, Some(&body));
    assert_eq!(status, 201, "{answer:#}");
}

/// Role settings are for Owner and User Access Administrator (§2.4): a Role Based Access Control
/// Administrator may assign roles at the scope but not change their settings; a member may do
/// neither. The refusal is ARM's `AuthorizationFailed`, naming the action.
#[test]
fn role_settings_need_owner_or_user_access_administrator() {
    let mut lab = Lab::demo_on_file();
    let alice = lab.user_id("alice");
    let bob = lab.user_id("ben");
    make_rbac_administrator(&mut lab, &alice);
    let policy = owner_policy(&mut lab);
    let path = policies(PROD, &format!("/{}", policy["name"].as_str().unwrap()));
    let mut rule = rule_of(&policy, "Expiration_EndUser_Assignment");
    rule["maximumDuration"] = json!("PT1H");
    let before = lab.dump();
    for who in [&alice, &bob] {
        let (status, answer) =
            handle(&mut lab, &session(who), "PATCH", &path, Some(&patch_body(&[rule.clone()])));
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (403, Some("AuthorizationFailed")),
            "{answer:#}"
        );
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains("Microsoft.Authorization/roleManagementPolicies/write"), "{message}");
        let (status, _) = handle(&mut lab, &session(who), "DELETE", &path, None);
        assert_eq!(status, 403);
    }
    assert_eq!(lab.dump(), before);
}

/// DELETE puts a pair's settings back to Azure's defaults (200); at the defaults already, there
/// is nothing to delete (204). Deleting the policy assignment does the same.
#[test]
fn delete_puts_the_defaults_back() {
    let mut lab = Lab::demo_on_file();
    let admin = lab.admin.clone();
    let policy = owner_policy(&mut lab);
    let name = policy["name"].as_str().unwrap().to_string();
    let path = policies(PROD, &format!("/{name}"));
    let (status, _) = handle(&mut lab, &admin, "DELETE", &path, None);
    assert_eq!(status, 204, "nothing was changed yet");
    let mut rule = rule_of(&policy, "Expiration_EndUser_Assignment");
    rule["maximumDuration"] = json!("PT3H");
    assert_eq!(handle(&mut lab, &admin, "PATCH", &path, Some(&patch_body(&[rule]))).0, 200);
    let (status, _) = handle(&mut lab, &admin, "DELETE", &path, None);
    assert_eq!(status, 200);
    assert_eq!(owner_policy(&mut lab), policy, "back to the defaults");
    let mut rule = rule_of(&policy, "Expiration_EndUser_Assignment");
    rule["maximumDuration"] = json!("PT3H");
    assert_eq!(handle(&mut lab, &admin, "PATCH", &path, Some(&patch_body(&[rule]))).0, 200);
    let assignment = format!(
        "{PROD}/providers/Microsoft.Authorization/roleManagementPolicyAssignments/{name}_{OWNER}?{PIM}"
    );
    let (status, _) = handle(&mut lab, &admin, "DELETE", &assignment, None);
    assert_eq!(status, 200);
    assert_eq!(owner_policy(&mut lab), policy);
}

/// A policy assignment PUT names the pair's one policy (arm-pim §3.6's body): 201 with the
/// assignment; another policy, another role or another scope is refused.
#[test]
fn a_policy_assignment_put_names_the_pairs_own_policy() {
    let mut lab = Lab::demo_on_file();
    let admin = lab.admin.clone();
    let policy = owner_policy(&mut lab);
    let name = policy["name"].as_str().unwrap().to_string();
    let path = format!(
        "{PROD}/providers/Microsoft.Authorization/roleManagementPolicyAssignments/{name}_{OWNER}?{PIM}"
    );
    let role = format!("{PROD}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}");
    let good = json!({"properties": {"scope": PROD, "roleDefinitionId": role, "policyId": policy["id"]}});
    let (status, answer) = handle(&mut lab, &admin, "PUT", &path, Some(&good));
    assert_eq!(status, 201, "{answer:#}");
    assert_eq!(answer["properties"]["policyId"], policy["id"]);
    let before = lab.dump();
    let mut other_policy = good.clone();
    other_policy["properties"]["policyId"] =
        json!(format!("{PROD}/providers/Microsoft.Authorization/roleManagementPolicies/not-this-one"));
    let mut other_role = good.clone();
    other_role["properties"]["roleDefinitionId"] = json!(RBAC_ADMINISTRATOR);
    let mut other_scope = good.clone();
    other_scope["properties"]["scope"] = json!(format!("{PROD}/resourceGroups/rg-prod-app"));
    for (what, body) in [("policy", other_policy), ("role", other_role), ("scope", other_scope)] {
        let (status, answer) = handle(&mut lab, &admin, "PUT", &path, Some(&body));
        assert_eq!(status, 400, "{what}: {answer:#}");
    }
    let (status, answer) = handle(&mut lab, &admin, "PATCH", &path, Some(&good));
    assert_eq!(status, 405, "{answer:#}");
    assert_eq!(lab.dump(), before);
}

#[test]
fn a_patched_policy_parses_with_the_real_azure_sdk_models() {
    let Some(python) = crate::arm_router::sdk_python() else {
        eprintln!("skipped: no Python with azure-mgmt-authorization");
        return;
    };
    let mut lab = Lab::demo_on_file();
    let admin = lab.admin.clone();
    let policy = owner_policy(&mut lab);
    let mut rule = rule_of(&policy, "Approval_EndUser_Assignment");
    let kenji = lab.user_id("kenji");
    rule["setting"]["isApprovalRequired"] = json!(true);
    rule["setting"]["approvalStages"][0]["primaryApprovers"] =
        json!([{"id": kenji, "userType": "User", "isBackup": false, "description": "Kenji"}]);
    let path = policies(PROD, &format!("/{}", policy["name"].as_str().unwrap()));
    let (status, answer) = handle(&mut lab, &admin, "PATCH", &path, Some(&patch_body(&[rule])));
    assert_eq!(status, 200, "{answer:#}");
    crate::arm_router::check_with_sdk(
        &python,
        &[json!({"model": "v2020_10_01.RoleManagementPolicy", "json": answer})],
    );
}

/// Any rule a client could send, made by mutating a real one (a field dropped, a value replaced
/// by one of another type): the PATCH never panics, and either succeeds or is refused with
/// the store unchanged.
fn mutation() -> impl Strategy<Value = (usize, usize, Value)> {
    let values = prop_oneof![
        Just(Value::Null),
        Just(json!(true)),
        Just(json!(-1)),
        Just(json!("PT0S")),
        Just(json!("All")),
        Just(json!([])),
        Just(json!({})),
        Just(json!(["MultiFactorAuthentication", "Nonsense"])),
    ];
    (0usize..17, 0usize..12, values)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn mutated_rules_are_taken_or_refused_whole((rule_at, field_at, value) in mutation(), drop in any::<bool>()) {
        let mut lab = Lab::demo_on_file();
        let admin = lab.admin.clone();
        let policy = owner_policy(&mut lab);
        let path = policies(PROD, &format!("/{}", policy["name"].as_str().unwrap()));
        let mut rule = policy["properties"]["rules"][rule_at].clone();
        let keys: Vec<String> = rule.as_object().unwrap().keys().cloned().collect();
        let key = keys[field_at % keys.len()].clone();
        if drop { rule.as_object_mut().unwrap().remove(&key); } else { rule[&key] = value; }
        let before = lab.dump();
        let (status, answer) = handle(&mut lab, &admin, "PATCH", &path, Some(&patch_body(&[rule])));
        match status {
            200 => prop_assert_eq!(answer["properties"]["rules"].as_array().map(Vec::len), Some(17)),
            400 => {
                prop_assert!(answer["error"]["code"] == "InvalidPolicy", "{answer:#}");
                prop_assert_eq!(lab.dump(), before);
            }
            other => prop_assert!(false, "status {other}: {answer:#}"),
        }
    }
}
