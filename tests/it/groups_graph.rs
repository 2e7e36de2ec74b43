//! PIM for Groups over Graph (issue 11 §2, reference §6): the seven collections under
//! `identityGovernance/privilegedAccess/group`, the filter their lists require, cancel,
//! `filterByCurrentUser`, the groups' policies and their onboarding, which groups may be
//! governed, the membership an active assignment is (and its end), the chain from a PIM
//! membership to a directory role, approvals through `assignmentApprovals/{id}/stages`, and
//! refusals that leave the store as it was.

use serde_json::{Value, json};

use crate::harness::graph::*;
use crate::harness::s;

const BASE: &str = "/v1.0/identityGovernance/privilegedAccess/group";
const GLOBAL_READER: &str = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";

fn path(collection: &str) -> String {
    format!("{BASE}/{collection}")
}

/// A group request body: `action` for `principal` as `access` of `group`.
fn group_request(action: &str, principal: &str, group: &str, access: &str, expiration: Value) -> Value {
    json!({
        "action": action,
        "principalId": principal,
        "groupId": group,
        "accessId": access,
        "justification": "integration test",
        "scheduleInfo": {"expiration": expiration},
    })
}

/// The ids of a group's members (or owners) as `/groups/{id}/{relation}` lists them.
fn members(lab: &mut Lab, group: &str, relation: &str) -> Vec<String> {
    lab.list(&format!("/v1.0/groups/{group}/{relation}")).iter().map(|m| s(&m["id"])).collect()
}

/// The approval rule of a policy that asks `approver` to approve every activation.
fn approval_rule(approver: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyApprovalRule",
        "setting": {"isApprovalRequired": true, "approvalMode": "SingleStage", "isRequestorJustificationRequired": true,
            "isApprovalRequiredForExtension": false,
            "approvalStages": [{"approvalStageTimeOutInDays": 1, "isApproverJustificationRequired": true,
                "escalationTimeInMinutes": 0, "isEscalationEnabled": false, "escalationApprovers": [],
                "primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": approver}]}]}
    })
}

/// A demo tenant on file with a new security group and a user who is not in it.
fn lab_with_group() -> (Lab, String, String) {
    let mut lab = Lab::demo_on_file();
    let group = lab.group("Finance Ops", false);
    let user = lab.user_id("ben");
    (lab, group, user)
}

#[test]
fn every_list_requires_a_filter_on_group_or_principal() {
    let (mut lab, group, user) = lab_with_group();
    for c in [
        "eligibilityScheduleRequests",
        "assignmentScheduleRequests",
        "eligibilitySchedules",
        "assignmentSchedules",
        "eligibilityScheduleInstances",
        "assignmentScheduleInstances",
    ] {
        let admin = lab.admin.clone();
        let e = assert_error(&lab.raw(&admin, "GET", &path(c), None), 400, "BadRequest");
        assert!(s(&e["message"]).contains("groupId or principalId"), "{c}: {e:#}");
        let e = assert_error(
            &lab.raw(&admin, "GET", &format!("{}?$filter=id eq 'x'", path(c)), None),
            400,
            "BadRequest",
        );
        assert_eq!(e["details"][0]["target"], "$filter", "{c}");
        assert!(lab.list(&format!("{}?$filter=groupId eq '{group}'", path(c))).is_empty(), "{c}");
        assert!(lab.list(&format!("{}?$filter=principalId eq '{user}'", path(c))).is_empty(), "{c}");
    }
}

#[test]
fn an_eligible_member_activates_and_is_a_member_for_exactly_the_window() {
    let (mut lab, group, ben) = lab_with_group();
    let elig = lab.admin_accepted(
        &path("eligibilityScheduleRequests"),
        &group_request("adminAssign", &ben, &group, "member", after("P30D")),
    );
    assert_eq!(elig["@odata.type"], "#microsoft.graph.privilegedAccessGroupEligibilityScheduleRequest");
    assert_eq!(elig["status"], "Provisioned");
    assert_eq!(elig["accessId"], "member");
    assert_eq!(elig["groupId"], group);
    let id = s(&elig["id"]);
    assert_eq!(elig["targetScheduleId"], format!("{group}_member_{id}"));
    assert!(elig.get("roleDefinitionId").is_none() && elig.get("directoryScopeId").is_none(), "{elig:#}");
    // An eligibility is not a membership.
    assert!(!members(&mut lab, &group, "members").contains(&ben));
    let schedules = lab.list(&format!("{}?$filter=groupId eq '{group}'", path("eligibilitySchedules")));
    assert_eq!(schedules.len(), 1);
    assert_eq!(schedules[0]["id"], format!("{group}_member_{id}"));
    assert_eq!(schedules[0]["memberType"], "direct");
    let by_id = lab.get(&format!("{}/{group}_member_{id}", path("eligibilitySchedules")));
    assert_eq!(by_id["principalId"], ben);
    let instance =
        &lab.list(&format!("{}?$filter=principalId eq '{ben}'", path("eligibilityScheduleInstances")))[0];
    assert_eq!(instance["eligibilityScheduleId"], format!("{group}_member_{id}"));

    let me = session(&ben);
    let act = lab.accepted(
        &me,
        &path("assignmentScheduleRequests"),
        &group_request("selfActivate", &ben, &group, "member", after("PT2H")),
    );
    assert_eq!(act["status"], "Provisioned", "{act:#}");
    assert!(members(&mut lab, &group, "members").contains(&ben));
    let inst = lab.list(&format!("{}?$filter=groupId eq '{group}'", path("assignmentScheduleInstances")));
    assert_eq!(inst.len(), 1);
    assert_eq!(inst[0]["assignmentType"], "activated");
    assert_eq!(inst[0]["memberType"], "direct");
    assert_eq!(inst[0]["assignmentScheduleId"], format!("{group}_member_{}", s(&act["id"])));
    let inst_id = s(&inst[0]["id"]);
    assert!(inst_id.starts_with(&format!("{group}_member_")), "{inst_id}");
    assert_eq!(lab.get(&format!("{}/{inst_id}", path("assignmentScheduleInstances")))["principalId"], ben);

    lab.advance("PT1H59M");
    assert!(members(&mut lab, &group, "members").contains(&ben), "still a member a minute before the end");
    lab.advance("PT1M");
    assert!(!members(&mut lab, &group, "members").contains(&ben), "no longer a member at the end");
    assert!(
        lab.list(&format!("{}?$filter=groupId eq '{group}'", path("assignmentScheduleInstances"))).is_empty()
    );
    let audits = lab.list(AUDITS);
    let names: Vec<String> = audits.iter().map(|a| s(&a["activityDisplayName"])).collect();
    assert!(names.contains(&"Add member to group".to_string()), "{names:?}");
    assert!(names.contains(&"Remove member from group".to_string()), "{names:?}");
}

#[test]
fn an_owner_assignment_adds_an_owner_and_its_removal_takes_it_away_but_not_a_membership_outside_pim() {
    let (mut lab, group, ben) = lab_with_group();
    lab.add_member(&group, &ben);
    for access in ["member", "owner"] {
        lab.admin_accepted(
            &path("assignmentScheduleRequests"),
            &group_request("adminAssign", &ben, &group, access, after("P30D")),
        );
    }
    assert!(members(&mut lab, &group, "owners").contains(&ben));
    assert!(members(&mut lab, &group, "members").contains(&ben));
    lab.advance("PT10M");
    for access in ["member", "owner"] {
        let removed = lab.admin_accepted(
            &path("assignmentScheduleRequests"),
            &group_request("adminRemove", &ben, &group, access, never()),
        );
        assert_eq!(removed["status"], "Revoked");
    }
    assert!(!members(&mut lab, &group, "owners").contains(&ben), "the PIM ownership ended");
    assert!(members(&mut lab, &group, "members").contains(&ben), "the membership added outside PIM stays");
}

#[test]
fn a_deactivation_ends_the_membership() {
    let (mut lab, group, ben) = lab_with_group();
    lab.admin_accepted(
        &path("eligibilityScheduleRequests"),
        &group_request("adminAssign", &ben, &group, "member", after("P30D")),
    );
    let me = session(&ben);
    lab.accepted(
        &me,
        &path("assignmentScheduleRequests"),
        &group_request("selfActivate", &ben, &group, "member", after("PT4H")),
    );
    lab.advance("PT10M");
    let off = lab.accepted(
        &me,
        &path("assignmentScheduleRequests"),
        &group_request("selfDeactivate", &ben, &group, "member", never()),
    );
    assert_eq!(off["status"], "Revoked");
    assert!(!members(&mut lab, &group, "members").contains(&ben));
}

#[test]
fn a_membership_of_a_role_assignable_group_gives_its_directory_role_for_exactly_its_window() {
    let mut lab = Lab::demo_on_file();
    let group = lab.group("Reader Desk", true);
    let ben = lab.user_id("ben");
    lab.admin_accepted(ASSIGN_REQS, &request("adminAssign", &group, GLOBAL_READER, never()));
    lab.admin_accepted(
        &path("eligibilityScheduleRequests"),
        &group_request("adminAssign", &ben, &group, "member", after("P30D")),
    );
    let me = session(&ben);
    let mine = format!("{ASSIGN_INSTANCES}/{ME}");
    let holds =
        |lab: &mut Lab| lab.list_as(&me, &mine).iter().any(|i| i["roleDefinitionId"] == GLOBAL_READER);
    assert!(!holds(&mut lab), "not before the membership");
    let act = lab.accepted(
        &me,
        &path("assignmentScheduleRequests"),
        &group_request("selfActivate", &ben, &group, "member", after("PT3H")),
    );
    let held = lab.list_as(&me, &mine);
    let reader = held
        .iter()
        .find(|i| i["roleDefinitionId"] == GLOBAL_READER)
        .expect("Global Reader through the group");
    assert_eq!(reader["memberType"], "Group");
    // The request's trace names what the membership brings.
    let trace = lab.engine.request(&s(&act["id"]), None).expect("the request").trace;
    let chain = trace.iter().find(|t| t.check == "GroupHoldsDirectoryRoles").expect("the chain in the trace");
    assert!(chain.seen.contains("Global Reader (active)"), "{chain:?}");
    lab.advance("PT2H59M");
    assert!(holds(&mut lab), "held until the membership ends");
    lab.advance("PT1M");
    assert!(!holds(&mut lab), "gone with the membership");
}

#[test]
fn a_future_request_is_cancelled_and_a_finished_one_is_not() {
    let (mut lab, group, ben) = lab_with_group();
    let start = "2030-01-01T00:00:00Z";
    let mut body = group_request("adminAssign", &ben, &group, "member", after("P30D"));
    body["scheduleInfo"]["startDateTime"] = start.into();
    let granted = lab.admin_accepted(&path("eligibilityScheduleRequests"), &body);
    assert_eq!(granted["status"], "Granted");
    let id = s(&granted["id"]);
    let admin = lab.admin.clone();
    let (status, _) =
        lab.raw(&admin, "POST", &format!("{}/{id}/cancel", path("eligibilityScheduleRequests")), None);
    assert_eq!(status, 204);
    let after_cancel = lab.get(&format!("{}/{id}", path("eligibilityScheduleRequests")));
    assert_eq!(after_cancel["status"], "Revoked");
    // A directory collection does not know a group's request, and a finished one cannot be cancelled.
    assert_error(
        &lab.raw(&admin, "GET", &format!("{ELIG_REQS}/{id}"), None),
        404,
        "RoleAssignmentRequestNotFound",
    );
    let done = lab.admin_accepted(
        &path("eligibilityScheduleRequests"),
        &group_request("adminAssign", &ben, &group, "owner", after("P30D")),
    );
    let before = lab.dump();
    let refused = lab.raw(
        &admin,
        "POST",
        &format!("{}/{}/cancel", path("eligibilityScheduleRequests"), s(&done["id"])),
        None,
    );
    assert_eq!(refused.0, 400, "{:#}", refused.1);
    assert_eq!(lab.dump(), before);
}

#[test]
fn filter_by_current_user_finds_the_callers_own() {
    let (mut lab, group, ben) = lab_with_group();
    let emma = lab.user_id("emma");
    for who in [&ben, &emma] {
        lab.admin_accepted(
            &path("eligibilityScheduleRequests"),
            &group_request("adminAssign", who, &group, "member", after("P30D")),
        );
    }
    let me = session(&ben);
    for c in ["eligibilityScheduleRequests", "eligibilitySchedules", "eligibilityScheduleInstances"] {
        let mine = lab.list_as(&me, &format!("{}/{ME}", path(c)));
        assert_eq!(mine.len(), 1, "{c}");
        assert_eq!(mine[0]["principalId"], ben, "{c}");
    }
    let created =
        lab.list(&format!("{}/filterByCurrentUser(on='createdBy')", path("eligibilityScheduleRequests")));
    assert_eq!(created.len(), 2);
    let admin = lab.admin.clone();
    let bad = lab.raw(
        &admin,
        "GET",
        &format!("{}/filterByCurrentUser(on='approver')", path("eligibilitySchedules")),
        None,
    );
    assert_error(&bad, 400, "BadRequest");
}

#[test]
fn a_group_has_two_policies_with_the_groups_defaults_whose_ids_change_when_it_is_onboarded() {
    let (mut lab, group, ben) = lab_with_group();
    let filter = format!("scopeId eq '{group}' and scopeType eq 'Group'");
    let before = lab.list(&format!("{POLICIES}?$filter={filter}&$expand=rules"));
    assert_eq!(before.len(), 2);
    assert!(before.iter().all(|p| p["scopeType"] == "Group" && p["scopeId"] == group));
    let assignments = lab.list(&format!("{POLICY_ASSIGNMENTS}?$filter={filter}"));
    let roles: Vec<String> = assignments.iter().map(|a| s(&a["roleDefinitionId"])).collect();
    assert_eq!(roles, ["member", "owner"]);
    let rule =
        |p: &Value, id: &str| p["rules"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(rule(&before[0], "Expiration_Admin_Eligibility")["isExpirationRequired"], true);
    assert_eq!(rule(&before[0], "Expiration_Admin_Eligibility")["maximumDuration"], "P365D");
    assert_eq!(rule(&before[0], "Expiration_Admin_Assignment")["maximumDuration"], "P180D");
    assert_eq!(rule(&before[0], "Expiration_EndUser_Assignment")["maximumDuration"], "PT8H");
    assert_eq!(rule(&before[0], "Enablement_EndUser_Assignment")["enabledRules"], json!(["Justification"]));
    let old_id = s(&before[0]["id"]);
    assert!(old_id.starts_with(&format!("Group_{group}_")), "{old_id}");
    assert_eq!(lab.get(&format!("{POLICIES}/{old_id}"))["id"], old_id);

    // A permanent eligibility breaks the group's default; the refusal onboards nothing.
    let dump = lab.dump();
    let refused = lab.admin_submit(
        &path("eligibilityScheduleRequests"),
        &group_request("adminAssign", &ben, &group, "member", never()),
    );
    assert_error(&refused, 400, "RoleAssignmentRequestPolicyValidationFailed");
    assert_eq!(lab.dump(), dump);
    assert_eq!(s(&lab.list(&format!("{POLICIES}?$filter={filter}"))[0]["id"]), old_id);

    // The first settings change onboards the group: new ids, the change applied.
    let admin = lab.admin.clone();
    let patch = json!({"@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyExpirationRule", "maximumDuration": "PT2H"});
    let (status, body) = lab.send(
        &admin,
        "PATCH",
        &format!("{POLICIES}/{old_id}/rules/Expiration_EndUser_Assignment"),
        &patch,
    );
    assert_eq!(status, 204, "{body:#}");
    let after = lab.list(&format!("{POLICIES}?$filter={filter}&$expand=rules"));
    assert_ne!(s(&after[0]["id"]), old_id);
    assert_eq!(rule(&after[0], "Expiration_EndUser_Assignment")["maximumDuration"], "PT2H");
    assert_eq!(rule(&after[1], "Expiration_EndUser_Assignment")["maximumDuration"], "PT8H");
    assert_error(&lab.raw(&admin, "GET", &format!("{POLICIES}/{old_id}"), None), 404, "ResourceNotFound");
}

#[test]
fn the_first_request_onboards_the_group() {
    let (mut lab, group, ben) = lab_with_group();
    let filter = format!("scopeId eq '{group}' and scopeType eq 'Group'");
    let old = s(&lab.list(&format!("{POLICIES}?$filter={filter}"))[1]["id"]);
    lab.admin_accepted(
        &path("eligibilityScheduleRequests"),
        &group_request("adminAssign", &ben, &group, "owner", after("P30D")),
    );
    assert_ne!(s(&lab.list(&format!("{POLICIES}?$filter={filter}"))[1]["id"]), old);
}

#[test]
fn dynamic_distribution_and_missing_groups_are_refused_and_nothing_changes() {
    let mut lab = Lab::demo_on_file();
    let dynamic = lab.create(
        "/v1.0/groups",
        json!({"displayName": "Everyone in Sales", "mailEnabled": false, "mailNickname": "sales",
               "securityEnabled": true, "groupTypes": ["DynamicMembership"]}),
    );
    let distribution = lab.create(
        "/v1.0/groups",
        json!({"displayName": "Newsletter", "mailEnabled": true, "mailNickname": "news", "securityEnabled": false}),
    );
    let m365 = lab.create(
        "/v1.0/groups",
        json!({"displayName": "Project X", "mailEnabled": true, "mailNickname": "x", "securityEnabled": false,
               "groupTypes": ["Unified"]}),
    );
    let ben = lab.user_id("ben");
    let before = lab.dump();
    for (group, code, status, word) in [
        (dynamic.as_str(), "BadRequest", 400, "dynamic"),
        (distribution.as_str(), "BadRequest", 400, "distribution"),
        (ben.as_str(), "BadRequest", 400, "not a group"),
        ("00000000-0000-0000-0000-000000000001", "Request_ResourceNotFound", 404, "no group"),
    ] {
        let got = lab.admin_submit(
            &path("eligibilityScheduleRequests"),
            &group_request("adminAssign", &ben, group, "member", after("P30D")),
        );
        let e = assert_error(&got, status, code);
        assert!(e.to_string().contains(word), "{word}: {e:#}");
        assert!(
            e.to_string().contains(group)
                || e.to_string().contains("Newsletter")
                || e.to_string().contains("Sales")
                || e.to_string().contains("Ben"),
            "names the group: {e:#}"
        );
    }
    assert_eq!(lab.dump(), before, "refusals leave only their audit rows");
    // A Microsoft 365 group may be governed; it need not be role-assignable.
    lab.admin_accepted(
        &path("eligibilityScheduleRequests"),
        &group_request("adminAssign", &ben, &m365, "member", after("P30D")),
    );
}

#[test]
fn bad_bodies_name_the_offending_value_and_leave_the_store_as_it_was() {
    let (mut lab, group, ben) = lab_with_group();
    let before = lab.dump();
    let mut unknown = group_request("adminAssign", &ben, &group, "member", after("P30D"));
    unknown["roleDefinitionId"] = "member".into();
    let mut no_group = group_request("adminAssign", &ben, &group, "member", after("P30D"));
    no_group.as_object_mut().unwrap().remove("groupId");
    for (body, needle) in [
        (group_request("adminAssign", &ben, &group, "guest", after("P30D")), "guest"),
        (group_request("adminAssign", &ben, &group, "owner", after("P400D")), "ExpirationRule"),
        (group_request("selfActivate", &ben, &group, "member", after("PT1H")), "NotSelf"),
        (unknown, "roleDefinitionId"),
        (no_group, "groupId"),
        (group_request("adminAssign", &group, &group, "member", after("P30D")), "itself"),
    ] {
        let (status, out) = lab.admin_submit(&path("assignmentScheduleRequests"), &body);
        assert!((400..500).contains(&status), "{body}: {out:#}");
        assert!(out.to_string().contains(needle), "{needle}: {out:#}");
    }
    assert_eq!(lab.dump(), before);
}

#[test]
fn approval_through_assignment_approvals_stages() {
    let (mut lab, group, ben) = lab_with_group();
    let alice = lab.user_id("alice");
    let filter = format!("scopeId eq '{group}' and scopeType eq 'Group'");
    let member_policy = s(
        &lab.list(&format!("{POLICY_ASSIGNMENTS}?$filter={filter} and roleDefinitionId eq 'member'"))[0]["policyId"]
    );
    let admin = lab.admin.clone();
    let approval = approval_rule(&alice);
    let (status, out) = lab.send(
        &admin,
        "PATCH",
        &format!("{POLICIES}/{member_policy}/rules/Approval_EndUser_Assignment"),
        &approval,
    );
    assert_eq!(status, 204, "{out:#}");
    lab.admin_accepted(
        &path("eligibilityScheduleRequests"),
        &group_request("adminAssign", &ben, &group, "member", after("P30D")),
    );
    let me = session(&ben);
    let asked = lab.accepted(
        &me,
        &path("assignmentScheduleRequests"),
        &group_request("selfActivate", &ben, &group, "member", after("PT1H")),
    );
    assert_eq!(asked["status"], "PendingApproval", "{asked:#}");
    let id = s(&asked["id"]);
    assert_eq!(asked["approvalId"], id);
    assert!(!members(&mut lab, &group, "members").contains(&ben));
    let approver = session(&alice);
    let waiting = lab
        .list_as(&approver, &format!("{}/filterByCurrentUser(on='approver')", path("assignmentApprovals")));
    assert_eq!(waiting.len(), 1);
    let stages = lab.list_as(&approver, &format!("{}/{id}/stages", path("assignmentApprovals")));
    assert_eq!(stages.len(), 1);
    assert_eq!(stages[0]["assignedToMe"], true);
    assert_eq!(stages[0]["reviewResult"], "NotReviewed");
    // Beta calls them steps; v1.0 has no steps.
    let beta = lab.get_as(
        &approver,
        &format!("/beta/identityGovernance/privilegedAccess/group/assignmentApprovals/{id}"),
    );
    assert_eq!(beta["steps"].as_array().map(Vec::len), Some(1));
    let (status, _) = lab.raw(&approver, "GET", &format!("{}/{id}/steps", path("assignmentApprovals")), None);
    assert_eq!(status, 400);
    let stage = s(&stages[0]["id"]);
    let (status, out) = lab.send(
        &approver,
        "PATCH",
        &format!("{}/{id}/stages/{stage}", path("assignmentApprovals")),
        &json!({"reviewResult": "Approve", "justification": "ok"}),
    );
    assert_eq!(status, 204, "{out:#}");
    assert_eq!(lab.get(&format!("{}/{id}", path("assignmentScheduleRequests")))["status"], "Provisioned");
    assert!(members(&mut lab, &group, "members").contains(&ben), "a member once approved");
    assert!(
        lab.engine
            .notifications(None, None)
            .unwrap()
            .iter()
            .any(|n| n.request_id.as_deref() == Some(id.as_str()))
    );
}

#[test]
fn a_group_owner_administers_the_group_and_a_stranger_does_not() {
    let (mut lab, group, ben) = lab_with_group();
    let emma = lab.user_id("emma");
    let admin = lab.admin.clone();
    let body = json!({"@odata.id": format!("{ROOT}/v1.0/directoryObjects/{emma}")});
    assert_eq!(lab.send(&admin, "POST", &format!("/v1.0/groups/{group}/owners/$ref"), &body).0, 204);
    let owner = session(&emma);
    lab.accepted(
        &owner,
        &path("eligibilityScheduleRequests"),
        &group_request("adminAssign", &ben, &group, "member", after("P30D")),
    );
    let stranger = session(&lab.user_id("lena"));
    let before = lab.dump();
    let got = lab.submit(
        &stranger,
        &path("eligibilityScheduleRequests"),
        &group_request("adminAssign", &ben, &group, "owner", after("P30D")),
    );
    assert_error(&got, 403, "UnauthorizedAccessException");
    assert_eq!(lab.dump(), before);
}

/// A Python with the real msgraph-sdk: `PIMLAB_GRAPH_SDK_PYTHON` (what `.ci/run` installs), else
/// `python3` when it has the package.
pub(crate) fn graph_sdk_python() -> Option<String> {
    crate::arm_router::python_with(
        "PIMLAB_GRAPH_SDK_PYTHON",
        "import msgraph.generated.models, kiota_serialization_json",
    )
}

#[test]
fn every_group_entity_parses_with_the_real_graph_sdk_models() {
    let Some(python) = graph_sdk_python() else {
        eprintln!("skipped: no Python with msgraph-sdk");
        return;
    };
    let (mut lab, group, ben) = lab_with_group();
    let alice = lab.user_id("alice");
    let elig = lab.admin_accepted(
        &path("eligibilityScheduleRequests"),
        &group_request("adminAssign", &ben, &group, "member", after("P30D")),
    );
    let owner = lab.admin_accepted(
        &path("assignmentScheduleRequests"),
        &group_request("adminAssign", &alice, &group, "owner", after("P30D")),
    );
    let me = session(&ben);
    let act = lab.accepted(
        &me,
        &path("assignmentScheduleRequests"),
        &group_request("selfActivate", &ben, &group, "member", after("PT1H")),
    );
    let mut docs = vec![
        json!({"model": "PrivilegedAccessGroupEligibilityScheduleRequest", "json": elig}),
        json!({"model": "PrivilegedAccessGroupAssignmentScheduleRequest", "json": owner}),
        json!({"model": "PrivilegedAccessGroupAssignmentScheduleRequest", "json": act}),
    ];
    for (c, model) in [
        ("eligibilitySchedules", "PrivilegedAccessGroupEligibilitySchedule"),
        ("assignmentSchedules", "PrivilegedAccessGroupAssignmentSchedule"),
        ("eligibilityScheduleInstances", "PrivilegedAccessGroupEligibilityScheduleInstance"),
        ("assignmentScheduleInstances", "PrivilegedAccessGroupAssignmentScheduleInstance"),
        ("assignmentScheduleRequests", "PrivilegedAccessGroupAssignmentScheduleRequest"),
    ] {
        let items = lab.list(&format!("{}?$filter=groupId eq '{group}'", path(c)));
        assert!(!items.is_empty(), "{c}");
        docs.extend(items.into_iter().map(|json| json!({"model": model, "json": json})));
    }
    // An approval and its stage: the member policy asks for one (a group's first PATCH).
    let filter = format!("scopeId eq '{group}' and scopeType eq 'Group'");
    let policy = s(&lab.list(&format!("{POLICIES}?$filter={filter}"))[0]["id"]);
    let admin = lab.admin.clone();
    let rule = approval_rule(&alice);
    let (status, out) =
        lab.send(&admin, "PATCH", &format!("{POLICIES}/{policy}/rules/Approval_EndUser_Assignment"), &rule);
    assert_eq!(status, 204, "{out:#}");
    let emma = lab.user_id("emma");
    lab.admin_accepted(
        &path("eligibilityScheduleRequests"),
        &group_request("adminAssign", &emma, &group, "member", after("P30D")),
    );
    let asked = lab.accepted(
        &session(&emma),
        &path("assignmentScheduleRequests"),
        &group_request("selfActivate", &emma, &group, "member", after("PT1H")),
    );
    let mut approval = lab.get(&format!("{}/{}", path("assignmentApprovals"), s(&asked["id"])));
    approval.as_object_mut().unwrap().remove("@odata.context");
    let stage = approval["stages"][0].clone();
    docs.push(json!({"model": "Approval", "json": approval}));
    docs.push(json!({"model": "ApprovalStage", "json": stage}));
    crate::arm_router::check_with(&python, "check_graph_models.py", &docs);
}
