//! The Microsoft Graph surface, end to end through the router
//! (`pimlab::api::graph::handle`), held to `reference/graph-pim.md`, its addendum, the sample
//! payloads in `reference/samples/graph/` and the README's Graph and fidelity tables.
//!
//! Every test starts from `InitOptions::default()` (seed and clock pinned: 2025-01-06T09:00:00Z)
//! in an in-memory store; principals are created through the router (`POST /users`, `/groups`,
//! ...). The only thing done outside the router is moving the simulated clock, which Graph has no
//! endpoint for. Tests that fail because pimlab disagrees with the references are kept and marked

use pimlab::model::FidelitySwitch;
use serde_json::{Value, json};

use crate::harness::graph::*;
use crate::harness::{
    DIRECTORY_READERS, GLOBAL_ADMIN, GROUPS_ADMIN, HELPDESK_ADMIN, PRIV_ROLE_ADMIN, REPORTS_READER,
    SECURITY_READER, USER_ADMIN, ids, s,
};

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

const NOW: &str = crate::harness::AT;

/// Keys of a request entity, in the order of the samples
/// (`unifiedRoleAssignmentScheduleRequest.json`, `unifiedRoleEligibilityScheduleRequest.json`).
const REQUEST_KEYS: [&str; 17] = [
    "id",
    "status",
    "createdDateTime",
    "completedDateTime",
    "approvalId",
    "customData",
    "action",
    "principalId",
    "roleDefinitionId",
    "directoryScopeId",
    "appScopeId",
    "isValidationOnly",
    "targetScheduleId",
    "justification",
    "createdBy",
    "scheduleInfo",
    "ticketInfo",
];

/// The 17 rule ids in the order the service lists them (reference §2.6).
const RULE_IDS: [&str; 17] = [
    "Expiration_Admin_Eligibility",
    "Enablement_Admin_Eligibility",
    "Notification_Admin_Admin_Eligibility",
    "Notification_Requestor_Admin_Eligibility",
    "Notification_Approver_Admin_Eligibility",
    "Expiration_Admin_Assignment",
    "Enablement_Admin_Assignment",
    "Notification_Admin_Admin_Assignment",
    "Notification_Requestor_Admin_Assignment",
    "Notification_Approver_Admin_Assignment",
    "Expiration_EndUser_Assignment",
    "Enablement_EndUser_Assignment",
    "Approval_EndUser_Assignment",
    "AuthenticationContext_EndUser_Assignment",
    "Notification_Admin_EndUser_Assignment",
    "Notification_Requestor_EndUser_Assignment",
    "Notification_Approver_EndUser_Assignment",
];

// ---------------------------------------------------------------------------------------------
// POST requests: the 201 response
// ---------------------------------------------------------------------------------------------

#[test]
fn admin_assign_eligibility_in_pascal_case_returns_201_keyed_and_ordered_like_the_sample() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let mut body = request_at("AdminAssign", &uma, USER_ADMIN, NOW, until("2026-01-06T00:00:00Z"));
    body["ticketInfo"] = json!({"ticketNumber": "CHG-10442", "ticketSystem": "ServiceNow"});
    body["justification"] = "Assign User Administrator eligibility to on-call admin".into();
    let q = lab.admin_accepted(ELIG_REQS, &body);

    let mut expected = vec!["@odata.context".to_string()];
    expected.extend(REQUEST_KEYS.iter().map(|k| k.to_string()));
    assert_eq!(keys(&q), expected);
    assert_eq!(
        q["@odata.context"],
        format!("{ROOT}/v1.0/$metadata#roleManagement/directory/roleEligibilityScheduleRequests/$entity")
    );
    assert!(s(&q["@odata.context"]).ends_with("/$entity"));
    let id = s(&q["id"]);
    assert!(is_guid(&id), "{id}");
    assert_eq!(q["status"], "Provisioned");
    assert_eq!(q["createdDateTime"], NOW);
    assert_eq!(q["completedDateTime"], NOW);
    assert_eq!(q["approvalId"], Value::Null);
    assert_eq!(q["customData"], Value::Null);
    assert_eq!(q["action"], "adminAssign", "action is echoed camelCase");
    assert_eq!(q["principalId"], uma);
    assert_eq!(q["roleDefinitionId"], USER_ADMIN);
    assert_eq!(q["directoryScopeId"], "/");
    assert_eq!(q["appScopeId"], Value::Null);
    assert_eq!(q["isValidationOnly"], false);
    assert_eq!(q["targetScheduleId"], id, "targetScheduleId == request id");
    assert_eq!(q["justification"], "Assign User Administrator eligibility to on-call admin");
    assert_eq!(keys(&q["createdBy"]), ["application", "device", "user"]);
    assert_eq!(q["createdBy"]["application"], Value::Null);
    assert_eq!(q["createdBy"]["device"], Value::Null);
    assert_eq!(keys(&q["createdBy"]["user"]), ["displayName", "id"]);
    assert_eq!(q["createdBy"]["user"]["id"], lab.admin.caller);
    assert_eq!(keys(&q["scheduleInfo"]), ["startDateTime", "recurrence", "expiration"]);
    assert_eq!(keys(&q["scheduleInfo"]["expiration"]), ["type", "endDateTime", "duration"]);
    assert_eq!(
        q["scheduleInfo"],
        json!({"startDateTime": NOW, "recurrence": null,
               "expiration": {"type": "afterDateTime", "endDateTime": "2026-01-06T00:00:00Z", "duration": null}})
    );
    assert_eq!(keys(&q["ticketInfo"]), ["ticketNumber", "ticketSystem"]);
    assert_eq!(q["ticketInfo"], json!({"ticketNumber": "CHG-10442", "ticketSystem": "ServiceNow"}));

    // GET by id returns the same entity.
    let again = lab.get(&format!("{ELIG_REQS}/{id}"));
    assert_eq!(again, q);

    // The schedule shares the request id; the instance has the service's derived id.
    let schedule = lab.get(&format!("{ELIG_SCHEDULES}/{id}"));
    assert_eq!(schedule["createdUsing"], id);
    assert_eq!(schedule["status"], "Provisioned");
    assert_eq!(schedule["memberType"], "Direct");
    assert_eq!(
        keys(&schedule),
        [
            "@odata.context",
            "@odata.type",
            "id",
            "principalId",
            "roleDefinitionId",
            "directoryScopeId",
            "appScopeId",
            "createdUsing",
            "createdDateTime",
            "modifiedDateTime",
            "status",
            "memberType",
            "scheduleInfo"
        ]
    );
    let instances = lab.list(&format!("{ELIG_INSTANCES}?$filter=principalId eq '{uma}'"));
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0]["id"], role_assignment_id(USER_ADMIN, &uma, true));
    assert_eq!(instances[0]["roleEligibilityScheduleId"], id);
    assert_eq!(instances[0]["endDateTime"], "2026-01-06T00:00:00Z");
    assert_eq!(
        keys(&instances[0]),
        [
            "id",
            "principalId",
            "roleDefinitionId",
            "directoryScopeId",
            "appScopeId",
            "startDateTime",
            "endDateTime",
            "memberType",
            "roleEligibilityScheduleId"
        ]
    );
}

#[test]
fn admin_assign_active_with_an_offset_start_is_normalised_to_utc_and_shaped_like_the_samples() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    // 11:00+02:00 is 09:00Z, the current time.
    let q = lab.admin_accepted(
        ASSIGN_REQS,
        &request_at("AdminAssign", &uma, USER_ADMIN, "2025-01-06T11:00:00+02:00", after("PT1H45M")),
    );
    assert_eq!(
        q["@odata.context"],
        format!("{ROOT}/v1.0/$metadata#roleManagement/directory/roleAssignmentScheduleRequests/$entity")
    );
    assert_eq!(q["status"], "Provisioned");
    assert_eq!(q["action"], "adminAssign");
    assert_eq!(
        q["scheduleInfo"],
        json!({"startDateTime": NOW, "recurrence": null,
               "expiration": {"type": "afterDuration", "endDateTime": null, "duration": "PT1H45M"}})
    );
    let id = s(&q["id"]);

    let schedule = lab.get(&format!("{ASSIGN_SCHEDULES}/{id}"));
    assert_eq!(schedule["@odata.type"], "#microsoft.graph.unifiedRoleAssignmentSchedule");
    assert_eq!(schedule["assignmentType"], "Assigned");
    assert_eq!(schedule["memberType"], "Direct");
    assert_eq!(schedule["createdUsing"], id);

    let ra_id = role_assignment_id(USER_ADMIN, &uma, false);
    let instance = lab.get(&format!("{ASSIGN_INSTANCES}/{ra_id}"));
    assert_eq!(
        keys(&instance),
        [
            "@odata.context",
            "id",
            "principalId",
            "roleDefinitionId",
            "directoryScopeId",
            "appScopeId",
            "startDateTime",
            "endDateTime",
            "assignmentType",
            "memberType",
            "roleAssignmentOriginId",
            "roleAssignmentScheduleId"
        ]
    );
    assert_eq!(instance["startDateTime"], NOW);
    assert_eq!(instance["endDateTime"], "2025-01-06T10:45:00Z");
    assert_eq!(instance["roleAssignmentOriginId"], ra_id);
    assert_eq!(instance["roleAssignmentScheduleId"], id);

    let ra = lab.get(&format!("{ROLE_ASSIGNMENTS}/{ra_id}"));
    assert_eq!(
        keys(&ra),
        [
            "@odata.context",
            "id",
            "principalId",
            "principalOrganizationId",
            "roleDefinitionId",
            "directoryScopeId",
            "resourceScope",
            "appScopeId",
            "condition"
        ]
    );
    // The legacy duplicate of the scope, which the service still returns (reference §1.3).
    assert_eq!(ra["resourceScope"], ra["directoryScopeId"]);
    assert_eq!(ra["principalId"], uma);
    assert_eq!(ra["roleDefinitionId"], USER_ADMIN);
}

#[test]
fn sdk_style_bodies_with_odata_type_annotations_and_dotnet_forms_are_accepted() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let body = json!({
        "@odata.type": "#microsoft.graph.unifiedRoleEligibilityScheduleRequest",
        "action": "AdminAssign",
        "principalId": uma,
        "roleDefinitionId": USER_ADMIN,
        "directoryScopeId": "/",
        "appScopeId": null,
        "justification": "SDK",
        "isValidationOnly": false,
        "scheduleInfo": {
            "@odata.type": "microsoft.graph.requestSchedule",
            "startDateTime": "2025-01-06T09:00:00.0000000Z",
            "recurrence": null,
            "expiration": {"@odata.type": "microsoft.graph.expirationPattern", "type": "AfterDuration",
                           "duration": "PT8H0M0S", "endDateTime": null}
        },
        "ticketInfo": {"@odata.type": "microsoft.graph.ticketInfo"}
    });
    let q = lab.admin_accepted(ELIG_REQS, &body);
    assert_eq!(
        q["scheduleInfo"],
        json!({"startDateTime": NOW, "recurrence": null,
               "expiration": {"type": "afterDuration", "endDateTime": null, "duration": "PT8H"}})
    );
    assert_eq!(q["ticketInfo"], json!({"ticketNumber": null, "ticketSystem": null}));
}

#[test]
fn a_future_start_with_an_offset_is_granted_until_it_starts_then_provisioned() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    // 10:00+01:00 on the 7th is 09:00Z on the 7th: one day ahead.
    let q = lab.admin_accepted(
        ELIG_REQS,
        &request_at("adminAssign", &uma, USER_ADMIN, "2025-01-07T10:00:00+01:00", after("P30D")),
    );
    let id = s(&q["id"]);
    assert_eq!(q["status"], "Granted");
    assert_eq!(q["completedDateTime"], "2025-01-07T09:00:00Z", "completedDateTime = the future start");
    assert_eq!(q["scheduleInfo"]["startDateTime"], "2025-01-07T09:00:00Z");
    assert_eq!(lab.get(&format!("{ELIG_SCHEDULES}/{id}"))["status"], "Granted");
    assert!(lab.list(&format!("{ELIG_INSTANCES}?$filter=principalId eq '{uma}'")).is_empty());

    lab.advance("P1D");
    assert_eq!(lab.get(&format!("{ELIG_REQS}/{id}"))["status"], "Provisioned");
    assert_eq!(lab.get(&format!("{ELIG_SCHEDULES}/{id}"))["status"], "Provisioned");
    let instances = lab.list(&format!("{ELIG_INSTANCES}?$filter=principalId eq '{uma}'"));
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0]["startDateTime"], "2025-01-07T09:00:00Z");
    assert_eq!(instances[0]["endDateTime"], "2025-02-06T09:00:00Z");
}

#[test]
fn a_past_start_becomes_the_processing_time() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let q = lab.admin_accepted(
        ELIG_REQS,
        &request_at("adminAssign", &uma, USER_ADMIN, "2024-12-01T00:00:00Z", after("P10D")),
    );
    assert_eq!(q["scheduleInfo"]["startDateTime"], NOW);
    assert_eq!(q["completedDateTime"], NOW);
    assert_eq!(q["status"], "Provisioned");
}

#[test]
fn expiration_types_and_iso_durations_are_echoed_camel_case_with_the_unused_field_null() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let cases: [(&str, Value, Value); 8] = [
        (
            USER_ADMIN,
            after("PT8H"),
            json!({"type": "afterDuration", "endDateTime": null, "duration": "PT8H"}),
        ),
        (
            HELPDESK_ADMIN,
            json!({"type": "AfterDuration", "duration": "P1DT2H"}),
            json!({"type": "afterDuration", "endDateTime": null, "duration": "P1DT2H"}),
        ),
        (
            SECURITY_READER,
            after("PT90M"),
            json!({"type": "afterDuration", "endDateTime": null, "duration": "PT1H30M"}),
        ),
        (
            REPORTS_READER,
            after("P2W"),
            json!({"type": "afterDuration", "endDateTime": null, "duration": "P14D"}),
        ),
        (
            DIRECTORY_READERS,
            json!({"type": "AfterDateTime", "endDateTime": "2025-03-01T12:30:00+01:00"}),
            json!({"type": "afterDateTime", "endDateTime": "2025-03-01T11:30:00Z", "duration": null}),
        ),
        (
            GROUPS_ADMIN,
            json!({"type": "NoExpiration"}),
            json!({"type": "noExpiration", "endDateTime": null, "duration": null}),
        ),
        (
            PRIV_ROLE_ADMIN,
            // A type given with both fields keeps only the one the type uses.
            json!({"type": "afterDuration", "duration": "PT12H", "endDateTime": "2025-02-01T00:00:00Z"}),
            json!({"type": "afterDuration", "endDateTime": null, "duration": "PT12H"}),
        ),
        (
            GLOBAL_ADMIN,
            // No type: inferred from the field given.
            json!({"duration": "P365D"}),
            json!({"type": "afterDuration", "endDateTime": null, "duration": "P365D"}),
        ),
    ];
    for (role, sent, echoed) in cases {
        let q = lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, role, sent.clone()));
        assert_eq!(q["scheduleInfo"]["expiration"], echoed, "sent {sent}");
        assert_eq!(q["scheduleInfo"]["recurrence"], Value::Null);
    }
    let permanent = lab.list(&format!(
        "{ELIG_INSTANCES}?$filter=principalId eq '{uma}' and roleDefinitionId eq '{GROUPS_ADMIN}'"
    ));
    assert_eq!(permanent[0]["endDateTime"], Value::Null, "a permanent eligibility has no end");
    let dated = lab.list(&format!(
        "{ELIG_INSTANCES}?$filter=principalId eq '{uma}' and roleDefinitionId eq '{DIRECTORY_READERS}'"
    ));
    assert_eq!(dated[0]["endDateTime"], "2025-03-01T11:30:00Z");
}

// ---------------------------------------------------------------------------------------------
// Every action on both request kinds
// ---------------------------------------------------------------------------------------------

#[test]
fn admin_update_and_admin_extend_replace_the_eligibility_schedule_under_the_new_request_id() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let assigned = lab.admin_accepted(ELIG_REQS, &request("AdminAssign", &uma, USER_ADMIN, after("P10D")));
    let first = s(&assigned["id"]);
    let instance_id = role_assignment_id(USER_ADMIN, &uma, true);

    let updated = lab.admin_accepted(ELIG_REQS, &request("AdminUpdate", &uma, USER_ADMIN, after("P12D")));
    let second = s(&updated["id"]);
    assert_ne!(second, first);
    assert_eq!(updated["action"], "adminUpdate");
    assert_eq!(updated["status"], "Provisioned");
    assert_eq!(updated["targetScheduleId"], second);
    let schedules = lab.list(&format!("{ELIG_SCHEDULES}?$filter=principalId eq '{uma}'"));
    assert_eq!(ids(&schedules), [second.as_str()], "the old schedule leaves the listing");
    assert_eq!(schedules[0]["createdUsing"], second);
    assert_eq!(schedules[0]["scheduleInfo"]["expiration"]["duration"], "P12D");
    let (status, _) = lab.raw(&lab.admin.clone(), "GET", &format!("{ELIG_SCHEDULES}/{first}"), None);
    assert_eq!(status, 404);
    let instances = lab.list(&format!("{ELIG_INSTANCES}?$filter=principalId eq '{uma}'"));
    assert_eq!(ids(&instances), [instance_id.as_str()], "instance ids do not change");
    assert_eq!(instances[0]["roleEligibilityScheduleId"], second);

    // It ends in 12 days: within the 14-day extension window.
    let extended = lab.admin_accepted(ELIG_REQS, &request("AdminExtend", &uma, USER_ADMIN, after("P40D")));
    let third = s(&extended["id"]);
    assert_eq!(extended["action"], "adminExtend");
    assert_eq!(extended["status"], "Provisioned");
    assert_eq!(extended["targetScheduleId"], third);
    let instances = lab.list(&format!("{ELIG_INSTANCES}?$filter=principalId eq '{uma}'"));
    assert_eq!(ids(&instances), [instance_id]);
    assert_eq!(instances[0]["roleEligibilityScheduleId"], third);
    assert_eq!(instances[0]["endDateTime"], "2025-02-15T09:00:00Z");
}

#[test]
fn admin_remove_of_an_eligibility_is_revoked_with_no_schedule_and_no_completion_time() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, never()));
    lab.advance("PT10M");
    let body = json!({"action": "AdminRemove", "principalId": uma, "roleDefinitionId": USER_ADMIN,
                      "directoryScopeId": "/"});
    let q = lab.admin_accepted(ELIG_REQS, &body);
    assert_eq!(q["action"], "adminRemove");
    assert_eq!(q["status"], "Revoked");
    assert_eq!(q["completedDateTime"], Value::Null);
    assert_eq!(q["scheduleInfo"], Value::Null);
    assert_eq!(q["targetScheduleId"], Value::Null);
    assert_eq!(q["approvalId"], Value::Null);
    assert_eq!(q["justification"], Value::Null, "justification is optional for adminRemove");
    assert!(lab.list(&format!("{ELIG_SCHEDULES}?$filter=principalId eq '{uma}'")).is_empty());
    assert!(lab.list(&format!("{ELIG_INSTANCES}?$filter=principalId eq '{uma}'")).is_empty());
}

#[test]
fn admin_renew_restores_an_expired_eligibility_and_admin_renew_of_a_live_one_is_refused() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, after("PT1H")));
    let live = lab.admin_submit(ELIG_REQS, &request("adminRenew", &uma, USER_ADMIN, after("P30D")));
    let e = assert_error(&live, 400, "RoleAssignmentExists");
    assert_eq!(e["message"], "The Role assignment already exists.");

    lab.advance("PT2H");
    assert!(lab.list(&format!("{ELIG_INSTANCES}?$filter=principalId eq '{uma}'")).is_empty());
    let q = lab.admin_accepted(ELIG_REQS, &request("AdminRenew", &uma, USER_ADMIN, after("P30D")));
    assert_eq!(q["action"], "adminRenew");
    assert_eq!(q["status"], "Provisioned");
    assert_eq!(q["targetScheduleId"], q["id"]);
    assert_eq!(q["scheduleInfo"]["startDateTime"], "2025-01-06T11:00:00Z");
    let instances = lab.list(&format!("{ELIG_INSTANCES}?$filter=principalId eq '{uma}'"));
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0]["endDateTime"], "2025-02-05T11:00:00Z");
}

#[test]
fn self_extend_of_an_eligibility_waits_for_the_administrator_whose_admin_extend_answers_it() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let me = session(&uma);
    let assigned = lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, after("P7D")));
    let body = json!({"action": "SelfExtend", "principalId": uma, "roleDefinitionId": USER_ADMIN,
                      "directoryScopeId": "/", "justification": "Still on call next week",
                      "scheduleInfo": {"expiration": {"type": "AfterDuration", "duration": "P30D"}}});
    let q = lab.accepted(&me, ELIG_REQS, &body);
    assert_eq!(q["action"], "selfExtend");
    assert_eq!(q["status"], "PendingAdminDecision");
    assert_eq!(q["targetScheduleId"], assigned["id"], "targetScheduleId = the schedule to change");
    assert_eq!(q["completedDateTime"], Value::Null);
    assert_eq!(q["createdBy"]["user"]["id"], uma);

    // A second ask while the first waits.
    let again = lab.submit(&me, ELIG_REQS, &body);
    let e = assert_error(&again, 400, "PendingRoleAssignmentRequest");
    assert_eq!(e["message"], "There is already a pending request for this role assignment.");

    let answer = lab.admin_accepted(ELIG_REQS, &request("adminExtend", &uma, USER_ADMIN, after("P30D")));
    assert_eq!(answer["status"], "Provisioned");
    let answered = lab.get(&format!("{ELIG_REQS}/{}", s(&q["id"])));
    assert_eq!(answered["status"], "Provisioned");
    assert_eq!(answered["targetScheduleId"], answer["id"]);
}

#[test]
fn self_renew_of_an_expired_eligibility_waits_for_the_administrator_whose_admin_renew_answers_it() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let me = session(&uma);
    lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, after("PT1H")));
    lab.advance("PT2H");
    let body = json!({"action": "selfRenew", "principalId": uma, "roleDefinitionId": USER_ADMIN,
                      "directoryScopeId": "/", "justification": "Need it back"});
    let q = lab.accepted(&me, ELIG_REQS, &body);
    assert_eq!(q["action"], "selfRenew");
    assert_eq!(q["status"], "PendingAdminDecision");

    let answer = lab.admin_accepted(ELIG_REQS, &request("adminRenew", &uma, USER_ADMIN, after("P30D")));
    assert_eq!(answer["status"], "Provisioned");
    assert_eq!(lab.get(&format!("{ELIG_REQS}/{}", s(&q["id"])))["status"], "Provisioned");
}

#[test]
fn self_activate_and_self_deactivate_are_refused_on_eligibility_requests_naming_the_action() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, never()));
    let before = lab.observable_state();
    for action in ["selfActivate", "SelfDeactivate"] {
        let got = lab.submit(&session(&uma), ELIG_REQS, &request(action, &uma, USER_ADMIN, after("PT1H")));
        let e = assert_error(&got, 400, "BadRequest");
        assert_names(&e, "action");
    }
    assert_eq!(lab.observable_state(), before);
}

#[test]
fn every_admin_action_on_assignment_requests_follows_the_request_to_schedule_rules() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let assigned = lab.admin_accepted(ASSIGN_REQS, &request("AdminAssign", &uma, USER_ADMIN, after("P10D")));
    assert_eq!(assigned["status"], "Provisioned");
    let ra = role_assignment_id(USER_ADMIN, &uma, false);
    assert_eq!(lab.get(&format!("{ROLE_ASSIGNMENTS}/{ra}"))["principalId"], uma);

    let updated = lab.admin_accepted(ASSIGN_REQS, &request("AdminUpdate", &uma, USER_ADMIN, after("P12D")));
    assert_eq!(updated["status"], "Provisioned");
    assert_eq!(updated["targetScheduleId"], updated["id"]);
    let schedules = lab.list(&format!("{ASSIGN_SCHEDULES}?$filter=principalId eq '{uma}'"));
    assert_eq!(ids(&schedules), [s(&updated["id"])]);

    let extended = lab.admin_accepted(ASSIGN_REQS, &request("AdminExtend", &uma, USER_ADMIN, after("P20D")));
    assert_eq!(extended["status"], "Provisioned");
    let instance = lab.get(&format!("{ASSIGN_INSTANCES}/{ra}"));
    assert_eq!(instance["roleAssignmentScheduleId"], extended["id"]);
    assert_eq!(instance["endDateTime"], "2025-01-26T09:00:00Z");

    lab.advance("PT10M");
    let removed = lab.admin_accepted(
        ASSIGN_REQS,
        &json!({"action": "AdminRemove", "principalId": uma, "roleDefinitionId": USER_ADMIN, "directoryScopeId": "/"}),
    );
    assert_eq!(removed["status"], "Revoked");
    assert_eq!(removed["completedDateTime"], Value::Null);
    assert_eq!(removed["scheduleInfo"], Value::Null);
    assert_eq!(removed["targetScheduleId"], Value::Null);
    let (status, _) = lab.raw(&lab.admin.clone(), "GET", &format!("{ROLE_ASSIGNMENTS}/{ra}"), None);
    assert_eq!(status, 404, "the role assignment leaves with the instance");

    // Renew: an assignment that has expired.
    lab.admin_accepted(ASSIGN_REQS, &request("adminAssign", &uma, HELPDESK_ADMIN, after("PT1H")));
    lab.advance("PT2H");
    let renewed = lab.admin_accepted(ASSIGN_REQS, &request("AdminRenew", &uma, HELPDESK_ADMIN, after("P5D")));
    assert_eq!(renewed["status"], "Provisioned");
    assert_eq!(
        lab.list(&format!("{ASSIGN_INSTANCES}?$filter=roleDefinitionId eq '{HELPDESK_ADMIN}'")).len(),
        1
    );
}

#[test]
fn self_extend_and_self_renew_of_active_assignments_wait_for_an_administrator() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let me = session(&uma);
    lab.admin_accepted(ASSIGN_REQS, &request("adminAssign", &uma, USER_ADMIN, after("P7D")));
    let ask = json!({"action": "selfExtend", "principalId": uma, "roleDefinitionId": USER_ADMIN,
                     "directoryScopeId": "/", "justification": "Project runs late"});
    let q = lab.accepted(&me, ASSIGN_REQS, &ask);
    assert_eq!(q["status"], "PendingAdminDecision");
    lab.admin_accepted(ASSIGN_REQS, &request("adminExtend", &uma, USER_ADMIN, after("P14D")));
    assert_eq!(lab.get(&format!("{ASSIGN_REQS}/{}", s(&q["id"])))["status"], "Provisioned");

    lab.admin_accepted(ASSIGN_REQS, &request("adminAssign", &uma, SECURITY_READER, after("PT1H")));
    lab.advance("PT2H");
    let ask = json!({"action": "SelfRenew", "principalId": uma, "roleDefinitionId": SECURITY_READER,
                     "directoryScopeId": "/", "justification": "Audit continues"});
    let q = lab.accepted(&me, ASSIGN_REQS, &ask);
    assert_eq!(q["action"], "selfRenew");
    assert_eq!(q["status"], "PendingAdminDecision");
}

#[test]
fn self_activate_creates_an_activated_schedule_instance_and_role_assignment_then_self_deactivate_revokes() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let me = session(&uma);
    let eligibility = lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, never()));
    let mut body = request_at("SelfActivate", &uma, USER_ADMIN, NOW, after("PT4H"));
    body["justification"] = "Reset MFA for a locked-out user (INC-88231)".into();
    body["ticketInfo"] = json!({"ticketNumber": "INC-88231", "ticketSystem": "ServiceNow"});
    let q = lab.accepted(&me, ASSIGN_REQS, &body);
    let id = s(&q["id"]);
    assert_eq!(q["action"], "selfActivate");
    assert_eq!(q["status"], "Provisioned");
    assert_eq!(q["targetScheduleId"], id);
    assert_eq!(q["createdBy"]["user"]["id"], uma);
    assert_eq!(q["ticketInfo"], json!({"ticketNumber": "INC-88231", "ticketSystem": "ServiceNow"}));

    let schedule = lab.get(&format!("{ASSIGN_SCHEDULES}/{id}"));
    assert_eq!(schedule["assignmentType"], "Activated");
    assert_eq!(schedule["memberType"], "Direct");
    let ra = role_assignment_id(USER_ADMIN, &uma, false);
    let instance = lab.get(&format!("{ASSIGN_INSTANCES}/{ra}?$expand=activatedUsing"));
    assert_eq!(instance["assignmentType"], "Activated");
    assert_eq!(instance["endDateTime"], "2025-01-06T13:00:00Z");
    assert_eq!(instance["activatedUsing"]["id"], role_assignment_id(USER_ADMIN, &uma, true));
    assert_eq!(instance["activatedUsing"]["roleEligibilityScheduleId"], eligibility["id"]);
    let with_link = lab.get(&format!("{ASSIGN_REQS}/{id}?$expand=activatedUsing"));
    assert_eq!(with_link["activatedUsing"]["id"], eligibility["id"]);
    assert_eq!(with_link["activatedUsing"]["@odata.type"], "#microsoft.graph.unifiedRoleEligibilitySchedule");
    assert_eq!(lab.get(&format!("{ROLE_ASSIGNMENTS}/{ra}"))["roleDefinitionId"], USER_ADMIN);

    // The eligibility is untouched.
    assert_eq!(lab.list(&format!("{ELIG_INSTANCES}?$filter=principalId eq '{uma}'")).len(), 1);

    let off = json!({"action": "SelfDeactivate", "principalId": uma, "roleDefinitionId": USER_ADMIN,
                     "directoryScopeId": "/"});
    let early = lab.submit(&me, ASSIGN_REQS, &off);
    let e = assert_error(&early, 400, "ActiveDurationTooShort");
    assert_eq!(e["message"], "The Active duration is too short. Miniumum Required is 5 minutes.");

    lab.advance("PT10M");
    let q = lab.accepted(&me, ASSIGN_REQS, &off);
    assert_eq!(q["action"], "selfDeactivate");
    assert_eq!(q["status"], "Revoked");
    assert_eq!(q["completedDateTime"], Value::Null);
    assert_eq!(q["scheduleInfo"], Value::Null);
    assert_eq!(q["targetScheduleId"], Value::Null);
    assert!(lab.list(&format!("{ASSIGN_INSTANCES}?$filter=principalId eq '{uma}'")).is_empty());
    assert!(lab.list(&format!("{ROLE_ASSIGNMENTS}?$filter=principalId eq '{uma}'")).is_empty());

    let again = lab.submit(&me, ASSIGN_REQS, &off);
    let e = assert_error(&again, 400, "RoleAssignmentDoesNotExist");
    assert_eq!(e["message"], "The Role assignment does not exist.");
}

#[test]
fn self_activate_without_schedule_info_lasts_the_policy_maximum() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, never()));
    let body = json!({"action": "selfActivate", "principalId": uma, "roleDefinitionId": USER_ADMIN,
                      "directoryScopeId": "/", "justification": "default duration"});
    let q = lab.accepted(&session(&uma), ASSIGN_REQS, &body);
    assert_eq!(
        q["scheduleInfo"],
        json!({"startDateTime": NOW, "recurrence": null,
               "expiration": {"type": "afterDuration", "endDateTime": null, "duration": "PT8H"}})
    );
}

#[test]
fn is_validation_only_returns_201_with_the_would_be_status_and_stores_nothing() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let before = lab.observable_state();
    let mut body = request("AdminAssign", &uma, USER_ADMIN, after("P30D"));
    body["isValidationOnly"] = true.into();
    let q = lab.admin_accepted(ELIG_REQS, &body);
    assert_eq!(q["isValidationOnly"], true);
    assert_eq!(q["status"], "Provisioned");
    assert_eq!(lab.observable_state(), before, "a validation-only request stores nothing");

    // No id was consumed: the real request gets the id the dry run showed.
    body["isValidationOnly"] = false.into();
    let real = lab.admin_accepted(ELIG_REQS, &body);
    assert_eq!(real["id"], q["id"]);

    // A failing dry run fails like the real request.
    let mut activation = request("selfActivate", &uma, USER_ADMIN, after("PT10H"));
    activation["isValidationOnly"] = true.into();
    let got = lab.submit(&session(&uma), ASSIGN_REQS, &activation);
    let e = assert_error(&got, 400, "RoleAssignmentRequestPolicyValidationFailed");
    assert_eq!(e["message"], "The following policy rules failed: [\"ExpirationRule\"]");
}

// ---------------------------------------------------------------------------------------------
// cancel
// ---------------------------------------------------------------------------------------------

#[test]
fn cancelling_a_granted_assignment_request_gives_204_then_canceled_and_removes_its_schedule() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let q = lab.admin_accepted(
        ASSIGN_REQS,
        &request_at("adminAssign", &uma, USER_ADMIN, "2025-01-10T09:00:00Z", after("P1D")),
    );
    assert_eq!(q["status"], "Granted");
    let id = s(&q["id"]);
    let admin = lab.admin.clone();
    let (status, body) = lab.raw(&admin, "POST", &format!("{ASSIGN_REQS}/{id}/cancel"), None);
    assert_eq!(status, 204);
    assert_eq!(body, Value::Null, "204 has no body");
    assert_eq!(lab.get(&format!("{ASSIGN_REQS}/{id}"))["status"], "Canceled");
    let (status, _) = lab.raw(&admin, "GET", &format!("{ASSIGN_SCHEDULES}/{id}"), None);
    assert_eq!(status, 404);
    assert!(lab.list(&format!("{ASSIGN_SCHEDULES}?$filter=principalId eq '{uma}'")).is_empty());
    // Nothing starts at the planned time.
    lab.advance("P5D");
    assert!(lab.list(&format!("{ASSIGN_INSTANCES}?$filter=principalId eq '{uma}'")).is_empty());

    // Cancelling again: no longer cancellable.
    let again = lab.raw(&admin, "POST", &format!("{ASSIGN_REQS}/{id}/cancel"), None);
    let e = assert_error(&again, 400, "RequestCannotBeCancelled");
    assert_eq!(e["message"], "Request is not in cancellable state.");
}

#[test]
fn cancelling_a_granted_eligibility_request_gives_204_then_revoked() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let q = lab.admin_accepted(
        ELIG_REQS,
        &request_at("AdminAssign", &uma, USER_ADMIN, "2025-02-01T00:00:00Z", never()),
    );
    assert_eq!(q["status"], "Granted");
    let id = s(&q["id"]);
    let admin = lab.admin.clone();
    let (status, body) = lab.raw(&admin, "POST", &format!("{ELIG_REQS}/{id}/cancel"), None);
    assert_eq!((status, body), (204, Value::Null));
    assert_eq!(lab.get(&format!("{ELIG_REQS}/{id}"))["status"], "Revoked");
    assert!(lab.list(&format!("{ELIG_SCHEDULES}?$filter=principalId eq '{uma}'")).is_empty());
}

#[test]
fn cancelling_a_provisioned_request_is_400_request_cannot_be_cancelled_and_changes_nothing() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let q = lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, never()));
    let before = lab.observable_state();
    let admin = lab.admin.clone();
    let got = lab.raw(&admin, "POST", &format!("{ELIG_REQS}/{}/cancel", s(&q["id"])), None);
    let e = assert_error(&got, 400, "RequestCannotBeCancelled");
    assert_eq!(e["message"], "Request is not in cancellable state.");
    assert_names(&e, "Provisioned");
    assert_eq!(lab.observable_state(), before);
}

#[test]
fn cancelling_an_unknown_or_wrong_kind_request_is_404_role_assignment_request_not_found() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let elig = lab.admin_accepted(
        ELIG_REQS,
        &request_at("adminAssign", &uma, USER_ADMIN, "2025-02-01T00:00:00Z", never()),
    );
    let admin = lab.admin.clone();
    let unknown = "00000000-0000-4000-8000-000000000000";
    for path in [
        format!("{ASSIGN_REQS}/{unknown}/cancel"),
        format!("{ELIG_REQS}/{unknown}/cancel"),
        // An eligibility request addressed as an assignment request.
        format!("{ASSIGN_REQS}/{}/cancel", s(&elig["id"])),
    ] {
        let got = lab.raw(&admin, "POST", &path, None);
        let e = assert_error(&got, 404, "RoleAssignmentRequestNotFound");
        assert_eq!(e["message"], "The role assignment request is not found");
    }
    let got = lab.raw(&admin, "GET", &format!("{ELIG_REQS}/{unknown}"), None);
    assert_error(&got, 404, "RoleAssignmentRequestNotFound");
    let got = lab.raw(&admin, "GET", &format!("{ASSIGN_REQS}/{}", s(&elig["id"])), None);
    assert_error(&got, 404, "RoleAssignmentRequestNotFound");
    // The eligibility request itself is still Granted.
    assert_eq!(lab.get(&format!("{ELIG_REQS}/{}", s(&elig["id"])))["status"], "Granted");
}

#[test]
fn someone_else_cannot_cancel_a_request_but_the_requester_can() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let vic = lab.user("vic");
    lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, never()));
    let q = lab.accepted(
        &session(&uma),
        ASSIGN_REQS,
        &request_at("selfActivate", &uma, USER_ADMIN, "2025-01-06T12:00:00Z", after("PT2H")),
    );
    assert_eq!(q["status"], "Granted");
    let path = format!("{ASSIGN_REQS}/{}/cancel", s(&q["id"]));
    let got = lab.raw(&session(&vic), "POST", &path, None);
    let e = assert_error(&got, 403, "UnauthorizedAccessException");
    assert_eq!(e["message"], "Attempted to perform an unauthorized operation.");
    let (status, _) = lab.raw(&session(&uma), "POST", &path, None);
    assert_eq!(status, 204);
    assert_eq!(lab.get(&format!("{ASSIGN_REQS}/{}", s(&q["id"])))["status"], "Canceled");
}

// ---------------------------------------------------------------------------------------------
// GET lists and single items
// ---------------------------------------------------------------------------------------------

#[test]
fn role_definitions_list_the_45_built_in_roles_with_global_administrator_by_id() {
    let mut lab = Lab::new();
    let all = lab.get(ROLE_DEFINITIONS);
    assert_eq!(
        all["@odata.context"],
        format!("{ROOT}/v1.0/$metadata#roleManagement/directory/roleDefinitions")
    );
    let roles = all["value"].as_array().unwrap();
    assert_eq!(roles.len(), 45);
    for r in roles {
        assert_eq!(r["id"], r["templateId"]);
        assert_eq!(r["isBuiltIn"], true);
        assert_eq!(r["isEnabled"], true);
        assert_eq!(r["version"], "1");
        assert_eq!(r["resourceScopes"], json!(["/"]));
    }
    let ga = lab.get(&format!("{ROLE_DEFINITIONS}/{GLOBAL_ADMIN}"));
    assert_eq!(ga["displayName"], "Global Administrator");
    assert_eq!(
        ga["@odata.context"],
        format!("{ROOT}/v1.0/$metadata#roleManagement/directory/roleDefinitions/$entity")
    );
    assert_eq!(
        keys(&ga),
        [
            "@odata.context",
            "id",
            "description",
            "displayName",
            "isBuiltIn",
            "isEnabled",
            "resourceScopes",
            "templateId",
            "version",
            "rolePermissions"
        ]
    );
    let by_name = lab.list(&format!("{ROLE_DEFINITIONS}?$filter=displayName eq 'Global Administrator'"));
    assert_eq!(ids(&by_name), [GLOBAL_ADMIN]);
    let groups_admin = lab.list(&format!("{ROLE_DEFINITIONS}/{GROUPS_ADMIN}/inheritsPermissionsFrom"));
    assert_eq!(ids(&groups_admin), [DIRECTORY_READERS], "reference §1.2 example");
    let admin = lab.admin.clone();
    let got =
        lab.raw(&admin, "GET", &format!("{ROLE_DEFINITIONS}/00000000-0000-4000-8000-000000000000"), None);
    assert_error(&got, 404, "Request_ResourceNotFound");
}

#[test]
fn requests_schedules_instances_and_role_assignments_list_and_get_by_id() {
    let mut lab = Lab::demo();
    let alice = lab.user_id("alice");
    let admin = lab.admin.clone();

    let elig_reqs = lab.get(ELIG_REQS);
    assert_eq!(
        elig_reqs["@odata.context"],
        format!("{ROOT}/v1.0/$metadata#roleManagement/directory/roleEligibilityScheduleRequests")
    );
    let elig_reqs = elig_reqs["value"].as_array().unwrap().clone();
    assert_eq!(elig_reqs.len(), 9, "the demo makes nine eligibilities");
    for q in &elig_reqs {
        assert_eq!(keys(q), REQUEST_KEYS);
        let one = lab.get(&format!("{ELIG_REQS}/{}", s(&q["id"])));
        assert_eq!(one["id"], q["id"]);
    }
    let assign_reqs = lab.list(ASSIGN_REQS);
    assert_eq!(assign_reqs.len(), 3);

    let schedules = lab.list(ELIG_SCHEDULES);
    assert_eq!(schedules.len(), 9);
    for sc in &schedules {
        assert_eq!(sc["@odata.type"], "#microsoft.graph.unifiedRoleEligibilitySchedule");
        let one = lab.get(&format!("{ELIG_SCHEDULES}/{}", s(&sc["id"])));
        assert_eq!(one["id"], sc["id"]);
    }
    let instances = lab.list(ELIG_INSTANCES);
    assert_eq!(instances.len(), 9);
    for i in &instances {
        assert!(s(&i["id"]).ends_with("-1-e"), "{i}");
        let one = lab.get(&format!("{ELIG_INSTANCES}/{}", s(&i["id"])));
        assert_eq!(one["roleEligibilityScheduleId"], i["roleEligibilityScheduleId"]);
    }
    let alice_ga = role_assignment_id(GLOBAL_ADMIN, &alice, true);
    assert!(ids(&instances).contains(&alice_ga));

    // The break-glass administrator's assignment made outside PIM (reference §3.9).
    let bg = role_assignment_id(GLOBAL_ADMIN, &admin.caller, false);
    let schedule = lab.get(&format!("{ASSIGN_SCHEDULES}/{bg}"));
    assert_eq!(schedule["createdUsing"], Value::Null);
    assert_eq!(schedule["createdDateTime"], Value::Null);
    assert_eq!(schedule["assignmentType"], "Assigned");
    let instance = lab.get(&format!("{ASSIGN_INSTANCES}/{bg}"));
    assert_eq!(instance["startDateTime"], Value::Null);
    assert_eq!(instance["endDateTime"], Value::Null);
    assert_eq!(instance["roleAssignmentOriginId"], bg);
    let ra = lab.get(&format!("{ROLE_ASSIGNMENTS}/{bg}"));
    assert_eq!(ra["principalId"], admin.caller);
    assert_eq!(
        ra["@odata.context"],
        format!("{ROOT}/v1.0/$metadata#roleManagement/directory/roleAssignments/$entity")
    );

    let assignments = lab.list(ROLE_ASSIGNMENTS);
    let assign_instances = lab.list(ASSIGN_INSTANCES);
    assert_eq!(
        assignments.len(),
        assign_instances.len(),
        "role assignments are 1:1 with assignment instances"
    );
    assert_eq!(assignments.len(), 4);
    let mut a: Vec<String> = ids(&assignments);
    let mut b: Vec<String> = assign_instances.iter().map(|i| s(&i["roleAssignmentOriginId"])).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);

    for path in [
        format!("{ELIG_SCHEDULES}/nope"),
        format!("{ASSIGN_SCHEDULES}/nope"),
        format!("{ELIG_INSTANCES}/nope"),
        format!("{ASSIGN_INSTANCES}/nope"),
        format!("{ROLE_ASSIGNMENTS}/nope"),
    ] {
        let (status, body) = lab.raw(&admin, "GET", &path, None);
        assert_eq!(status, 404, "{path}: {body:#}");
        assert!(body["error"]["code"].is_string());
    }
}

#[test]
fn role_assignments_can_be_made_and_deleted_outside_pim() {
    let mut lab = Lab::new();
    let sp = lab.service_principal("Nightly Sync");
    let admin = lab.admin.clone();
    let body = json!({"@odata.type": "#microsoft.graph.unifiedRoleAssignment", "principalId": sp,
                      "roleDefinitionId": DIRECTORY_READERS, "directoryScopeId": "/"});
    let (status, ra) = lab.send(&admin, "POST", ROLE_ASSIGNMENTS, &body);
    assert_eq!(status, 201, "{ra:#}");
    // As every create answers: the context first, then the entity.
    assert_eq!(keys(&ra).first().map(String::as_str), Some("@odata.context"), "{ra:#}");
    assert!(
        ra["@odata.context"]
            .as_str()
            .is_some_and(|c| c.ends_with("#roleManagement/directory/roleAssignments/$entity"))
    );
    let id = role_assignment_id(DIRECTORY_READERS, &sp, false);
    assert_eq!(ra["id"], id);
    let schedule = lab.get(&format!("{ASSIGN_SCHEDULES}/{id}"));
    assert_eq!(schedule["createdUsing"], Value::Null);
    let (status, body) = lab.raw(&admin, "DELETE", &format!("{ROLE_ASSIGNMENTS}/{id}"), None);
    assert_eq!((status, body), (204, Value::Null));
    assert!(lab.list(&format!("{ROLE_ASSIGNMENTS}?$filter=principalId eq '{sp}'")).is_empty());
}

#[test]
fn policies_require_the_scope_filter_and_list_one_policy_per_role() {
    let mut lab = Lab::new();
    let tenant = lab.tenant_id();
    let admin = lab.admin.clone();
    let got = lab.raw(&admin, "GET", POLICIES, None);
    let e = assert_error(&got, 400, "BadRequest");
    assert_names(&e, "scopeId");
    let got = lab.raw(&admin, "GET", POLICY_ASSIGNMENTS, None);
    assert_error(&got, 400, "BadRequest");

    let policies = lab.list(&format!("{POLICIES}?$filter={DIRECTORY_ROLE_SCOPE}"));
    assert_eq!(policies.len(), 45);
    for p in &policies {
        assert!(s(&p["id"]).starts_with(&format!("DirectoryRole_{tenant}_")), "{p}");
        assert_eq!(p["scopeId"], "/");
        assert_eq!(p["scopeType"], "DirectoryRole");
        assert_eq!(p["isOrganizationDefault"], false);
        assert!(p.get("rules").is_none(), "rules only when expanded");
    }
    let directory = lab.list(&format!("{POLICIES}?$filter=scopeId eq '/' and scopeType eq 'Directory'"));
    assert_eq!(directory.len(), 45);
    for (a, b) in policies.iter().zip(&directory) {
        assert_eq!(s(&b["id"]), s(&a["id"]).replacen("DirectoryRole_", "Directory_", 1));
    }
}

#[test]
fn policy_assignment_filtered_by_role_expands_exactly_one_policy_with_its_17_default_rules() {
    let mut lab = Lab::new();
    let found = lab.list(&format!(
        "{POLICY_ASSIGNMENTS}?$filter={DIRECTORY_ROLE_SCOPE} and roleDefinitionId eq '{GLOBAL_ADMIN}'&$expand=policy($expand=rules)"
    ));
    assert_eq!(found.len(), 1);
    let a = &found[0];
    let policy_id = s(&a["policyId"]);
    assert_eq!(a["id"], format!("{policy_id}_{GLOBAL_ADMIN}"));
    assert_eq!(a["roleDefinitionId"], GLOBAL_ADMIN);
    assert_eq!(a["scopeId"], "/");
    assert_eq!(a["scopeType"], "DirectoryRole");
    let rules = a["policy"]["rules"].as_array().expect("rules expanded");
    assert_eq!(rules.len(), 17);
    assert_eq!(ids(rules), RULE_IDS);
    let by_id = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(by_id("Expiration_Admin_Eligibility")["isExpirationRequired"], false);
    assert_eq!(by_id("Expiration_Admin_Eligibility")["maximumDuration"], "P365D");
    assert_eq!(by_id("Expiration_Admin_Assignment")["isExpirationRequired"], false);
    assert_eq!(by_id("Expiration_Admin_Assignment")["maximumDuration"], "P180D");
    assert_eq!(by_id("Expiration_EndUser_Assignment")["isExpirationRequired"], true);
    assert_eq!(by_id("Expiration_EndUser_Assignment")["maximumDuration"], "PT8H");
    assert_eq!(by_id("Enablement_Admin_Assignment")["enabledRules"], json!(["Justification"]));
    assert_eq!(
        by_id("Enablement_EndUser_Assignment")["enabledRules"],
        json!(["MultiFactorAuthentication", "Justification"])
    );
    assert_eq!(by_id("Approval_EndUser_Assignment")["setting"]["isApprovalRequired"], false);
    assert_eq!(by_id("AuthenticationContext_EndUser_Assignment")["isEnabled"], false);
    assert_eq!(
        keys(&by_id("Expiration_Admin_Eligibility")),
        ["@odata.type", "id", "isExpirationRequired", "maximumDuration", "target"]
    );
    assert_eq!(
        keys(&by_id("Expiration_Admin_Eligibility")["target"]),
        ["caller", "operations", "level", "inheritableSettings", "enforcedSettings"]
    );
    for r in rules {
        assert_eq!(r["target"]["operations"], json!(["all"]));
    }

    // Single GETs of the assignment, the policy, its rules and one rule.
    let one = lab.get(&format!("{POLICY_ASSIGNMENTS}/{}?$expand=policy($expand=rules)", s(&a["id"])));
    assert_eq!(one["policy"]["rules"].as_array().map(Vec::len), Some(17));
    let policy = lab.get(&format!("{POLICIES}/{policy_id}?$expand=rules"));
    assert_eq!(policy["id"], policy_id);
    assert_eq!(policy["rules"].as_array().map(Vec::len), Some(17));
    assert_eq!(lab.list(&format!("{POLICIES}/{policy_id}/rules")).len(), 17);
    let rule = lab.get(&format!("{POLICIES}/{policy_id}/rules/Expiration_EndUser_Assignment"));
    assert_eq!(rule["maximumDuration"], "PT8H");
}

// ---------------------------------------------------------------------------------------------
// PATCH of a rule
// ---------------------------------------------------------------------------------------------

#[test]
fn patching_a_rule_gives_204_and_the_new_value_is_read_back_and_enforced() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let body = json!({
        "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyExpirationRule",
        "id": "Expiration_EndUser_Assignment",
        "isExpirationRequired": true,
        "maximumDuration": "PT4H",
        "target": {"caller": "EndUser", "operations": ["All"], "level": "Assignment",
                   "inheritableSettings": [], "enforcedSettings": []}
    });
    let (status, out) = lab.patch_rule(USER_ADMIN, "Expiration_EndUser_Assignment", &body);
    assert_eq!((status, out), (204, Value::Null));
    let rule = lab.rule(USER_ADMIN, "Expiration_EndUser_Assignment");
    assert_eq!(rule["maximumDuration"], "PT4H");
    assert_eq!(rule["isExpirationRequired"], true);
    let expanded = lab.list(&format!(
        "{POLICY_ASSIGNMENTS}?$filter={DIRECTORY_ROLE_SCOPE} and roleDefinitionId eq '{USER_ADMIN}'&$expand=policy($expand=rules)"
    ));
    let rules = expanded[0]["policy"]["rules"].as_array().unwrap();
    assert_eq!(
        rules.iter().find(|r| r["id"] == "Expiration_EndUser_Assignment").unwrap()["maximumDuration"],
        "PT4H"
    );
    let policy_id = lab.policy_id(USER_ADMIN);
    let policy = lab.get(&format!("{POLICIES}/{policy_id}"));
    assert_eq!(policy["lastModifiedDateTime"], NOW);
    assert_eq!(policy["lastModifiedBy"]["id"], lab.admin.caller);

    // Only the changed rule of only that role changed.
    assert_eq!(lab.rule(GLOBAL_ADMIN, "Expiration_EndUser_Assignment")["maximumDuration"], "PT8H");

    // A minimal body merges over the stored rule.
    let (status, _) =
        lab.patch_rule(USER_ADMIN, "Expiration_EndUser_Assignment", &json!({"maximumDuration": "PT6H"}));
    assert_eq!(status, 204);
    let rule = lab.rule(USER_ADMIN, "Expiration_EndUser_Assignment");
    assert_eq!(rule["maximumDuration"], "PT6H");
    assert_eq!(rule["isExpirationRequired"], true);

    // Enforced: an activation over the new limit fails ExpirationRule.
    lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, never()));
    let got =
        lab.submit(&session(&uma), ASSIGN_REQS, &request("selfActivate", &uma, USER_ADMIN, after("PT7H")));
    let e = assert_error(&got, 400, "RoleAssignmentRequestPolicyValidationFailed");
    assert_eq!(e["message"], "The following policy rules failed: [\"ExpirationRule\"]");
    assert_names(&e, "PT6H");
}

/// The bad PATCH bodies of the brief; each must be a 400 naming the field and change nothing.
fn check_bad_rule_patch(body: Value, field: &str) {
    let mut lab = Lab::new();
    let before = lab.observable_state();
    let got = lab.patch_rule(USER_ADMIN, "Expiration_EndUser_Assignment", &body);
    let e = assert_error(&got, 400, "BadRequest");
    assert_names(&e, field);
    assert_eq!(lab.observable_state(), before, "a refused PATCH changes nothing");
}

#[test]
fn patching_a_rule_with_an_unknown_field_is_400_naming_it_and_changes_nothing() {
    check_bad_rule_patch(json!({"maxDuration": "PT4H"}), "maxDuration");
}

#[test]
fn patching_a_rule_with_an_unknown_target_field_is_400_naming_it_and_changes_nothing() {
    check_bad_rule_patch(
        json!({"target": {"caller": "EndUser", "operations": ["all"], "level": "Assignment",
                          "inheritableSettings": [], "enforcedSettings": [], "colour": "red"}}),
        "colour",
    );
}

#[test]
fn patching_a_rule_with_the_wrong_odata_type_is_400_naming_it_and_changes_nothing() {
    check_bad_rule_patch(
        json!({"@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyEnablementRule", "maximumDuration": "PT4H"}),
        "@odata.type",
    );
}

#[test]
fn patching_a_rule_with_a_mismatched_id_is_400_naming_it_and_changes_nothing() {
    check_bad_rule_patch(json!({"id": "Expiration_Admin_Assignment", "maximumDuration": "PT4H"}), "id");
}

#[test]
fn patching_a_rule_with_a_bad_duration_is_400_naming_the_value_and_changes_nothing() {
    check_bad_rule_patch(json!({"maximumDuration": "8 hours"}), "8 hours");
}

#[test]
fn patching_a_rule_with_a_bad_duration_is_400_naming_the_field_maximum_duration() {
    check_bad_rule_patch(json!({"maximumDuration": "8 hours"}), "maximumDuration");
}

#[test]
fn patching_a_rule_with_a_wrongly_typed_field_is_400_naming_the_field() {
    check_bad_rule_patch(json!({"isExpirationRequired": "yes"}), "isExpirationRequired");
}

#[test]
fn patching_a_rule_with_an_impossible_value_is_400_naming_the_field_and_changes_nothing() {
    check_bad_rule_patch(json!({"maximumDuration": "PT0S"}), "maximumDuration");
    check_bad_rule_patch(
        json!({"target": {"caller": "Admin", "operations": ["all"], "level": "Assignment",
                          "inheritableSettings": [], "enforcedSettings": []}}),
        "target.caller",
    );
}

#[test]
fn patching_a_rule_needs_an_administrator_an_existing_rule_and_a_json_body() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let before = lab.observable_state();
    let path = lab.rule_path(USER_ADMIN, "Expiration_EndUser_Assignment");
    let got = lab.send(&session(&uma), "PATCH", &path, &json!({"maximumDuration": "PT4H"}));
    assert_error(&got, 403, "UnauthorizedAccessException");
    let missing = lab.rule_path(USER_ADMIN, "Expiration_Nobody_Assignment");
    let admin = lab.admin.clone();
    let got = lab.send(&admin, "PATCH", &missing, &json!({"maximumDuration": "PT4H"}));
    let e = assert_error(&got, 404, "ResourceNotFound");
    assert_names(&e, "Expiration_Nobody_Assignment");
    let got = lab.raw(&admin, "PATCH", &path, Some("{\"maximumDuration\": "));
    assert_error(&got, 400, "BadRequest");
    let got = lab.raw(&admin, "PATCH", &path, None);
    assert_error(&got, 400, "BadRequest");
    assert_eq!(lab.observable_state(), before);
}

// ---------------------------------------------------------------------------------------------
// OData query options
// ---------------------------------------------------------------------------------------------

#[test]
fn filter_supports_eq_ne_and_or_in_and_null() {
    let mut lab = Lab::demo();
    let alice = lab.user_id("alice");
    let tier0 = lab.group_id("Tier-0 Admins");
    let all = lab.list(ELIG_SCHEDULES);

    let eq = lab.list(&format!("{ELIG_SCHEDULES}?$filter=principalId eq '{alice}'"));
    assert_eq!(eq.len(), 1);
    assert_eq!(eq[0]["roleDefinitionId"], GLOBAL_ADMIN);

    let ne = lab.list(&format!("{ELIG_SCHEDULES}?$filter=principalId ne '{alice}'"));
    assert_eq!(ne.len(), all.len() - 1);
    assert!(ne.iter().all(|x| x["principalId"] != alice));

    let and = lab.list(&format!(
        "{ELIG_SCHEDULES}?$filter=principalId eq '{alice}' and roleDefinitionId eq '{PRIV_ROLE_ADMIN}'"
    ));
    assert!(and.is_empty());

    let or = lab.list(&format!(
        "{ELIG_SCHEDULES}?$filter=roleDefinitionId eq '{GLOBAL_ADMIN}' or roleDefinitionId eq '{PRIV_ROLE_ADMIN}'"
    ));
    let mut principals: Vec<String> = or.iter().map(|x| s(&x["principalId"])).collect();
    principals.sort();
    let mut expected = vec![alice.clone(), tier0.clone()];
    expected.sort();
    assert_eq!(principals, expected);

    let r#in = lab.list(&format!(
        "{ELIG_SCHEDULES}?$filter=roleDefinitionId in ('{GLOBAL_ADMIN}', '{PRIV_ROLE_ADMIN}')"
    ));
    assert_eq!(ids(&r#in), ids(&or));

    // null: every demo request is tenant-scoped except none at an app scope.
    let null = lab.list(&format!("{ELIG_REQS}?$filter=appScopeId eq null"));
    assert_eq!(null.len(), 9);
    let not_null = lab.list(&format!("{ELIG_REQS}?$filter=approvalId ne null"));
    assert!(not_null.is_empty());
    let outside_pim = lab.list(&format!("{ASSIGN_SCHEDULES}?$filter=createdUsing eq null"));
    assert_eq!(outside_pim.len(), 1, "only the break-glass assignment was made outside PIM");
    assert_eq!(outside_pim[0]["principalId"], lab.admin.caller);

    // Filters on request status and action; nested paths.
    assert_eq!(lab.list(&format!("{ELIG_REQS}?$filter=status eq 'Provisioned'")).len(), 9);
    assert_eq!(lab.list(&format!("{ELIG_REQS}?$filter=action eq 'adminAssign'")).len(), 9);
    assert_eq!(
        lab.list(&format!("{ELIG_SCHEDULES}?$filter=scheduleInfo/expiration/type eq 'noExpiration'")).len(),
        4
    );
    // Date-time comparisons and null on instances.
    assert_eq!(lab.list(&format!("{ELIG_INSTANCES}?$filter=endDateTime eq null")).len(), 4);
    let soon = lab.list(&format!("{ELIG_INSTANCES}?$filter=endDateTime lt 2025-02-01T00:00:00Z"));
    assert_eq!(soon.len(), 1, "only Lena's 10-day eligibility ends in January");
    assert_eq!(soon[0]["principalId"], lab.user_id("lena"));
    // not and parentheses.
    let neither = lab.list(&format!(
        "{ELIG_SCHEDULES}?$filter=not (roleDefinitionId eq '{GLOBAL_ADMIN}' or roleDefinitionId eq '{PRIV_ROLE_ADMIN}')"
    ));
    assert_eq!(neither.len(), all.len() - 2);
    // Percent-encoded query strings work the same.
    let encoded = lab.list(&format!("{ELIG_SCHEDULES}?%24filter=principalId%20eq%20%27{alice}%27"));
    assert_eq!(ids(&encoded), ids(&eq));
}

#[test]
fn select_keeps_only_the_named_properties() {
    let mut lab = Lab::demo();
    let reqs = lab.list(&format!("{ELIG_REQS}?$select=id,status,scheduleInfo"));
    assert_eq!(reqs.len(), 9);
    for q in &reqs {
        assert_eq!(keys(q), ["id", "status", "scheduleInfo"]);
    }
    let one = lab.get(&format!("{ROLE_DEFINITIONS}/{GLOBAL_ADMIN}?$select=displayName"));
    assert_eq!(keys(&one), ["@odata.context", "displayName"]);
}

#[test]
fn expand_principal_role_definition_target_schedule_and_activated_using() {
    let mut lab = Lab::demo();
    let alice = lab.user_id("alice");
    let bg = lab.admin.caller.clone();

    let ras = lab
        .list(&format!("{ROLE_ASSIGNMENTS}?$filter=roleDefinitionId eq '{GLOBAL_ADMIN}'&$expand=principal"));
    assert_eq!(ras.len(), 1);
    assert_eq!(ras[0]["principal"]["@odata.type"], "#microsoft.graph.user");
    assert_eq!(ras[0]["principal"]["id"], bg);
    assert_eq!(ras[0]["principal"]["displayName"], "Break Glass Admin");

    let reqs = lab.list(&format!(
        "{ELIG_REQS}?$filter=principalId eq '{alice}'&$expand=principal,roleDefinition,targetSchedule"
    ));
    assert_eq!(reqs.len(), 1);
    let q = &reqs[0];
    assert_eq!(q["principal"]["userPrincipalName"], "alice@contoso.example");
    assert_eq!(q["roleDefinition"]["displayName"], "Global Administrator");
    assert_eq!(q["targetSchedule"]["id"], q["targetScheduleId"]);
    assert_eq!(q["targetSchedule"]["@odata.type"], "#microsoft.graph.unifiedRoleEligibilitySchedule");

    // Nested $select inside $expand.
    let reqs =
        lab.list(&format!("{ELIG_REQS}?$filter=principalId eq '{alice}'&$expand=principal($select=id)"));
    assert_eq!(keys(&reqs[0]["principal"]), ["@odata.type", "id"]);

    // activatedUsing on an activation's request, schedule and instance.
    let mut body = request("selfActivate", &alice, GLOBAL_ADMIN, after("PT1H"));
    body["justification"] = "Key rotation".into();
    let q = lab.accepted(&session(&alice), ASSIGN_REQS, &body);
    let eligibility = lab.list(&format!("{ELIG_SCHEDULES}?$filter=principalId eq '{alice}'"));
    let via_request = lab.get(&format!("{ASSIGN_REQS}/{}?$expand=activatedUsing", s(&q["id"])));
    assert_eq!(via_request["activatedUsing"]["id"], eligibility[0]["id"]);
    let via_schedule = lab.get(&format!("{ASSIGN_SCHEDULES}/{}?$expand=activatedUsing", s(&q["id"])));
    assert_eq!(via_schedule["activatedUsing"]["id"], eligibility[0]["id"]);
    let instances =
        lab.list(&format!("{ASSIGN_INSTANCES}?$filter=principalId eq '{alice}'&$expand=activatedUsing"));
    assert_eq!(instances[0]["activatedUsing"]["id"], role_assignment_id(GLOBAL_ADMIN, &alice, true));
    // A non-activation has activatedUsing null.
    let assigned = lab.list(&format!("{ASSIGN_REQS}?$filter=action eq 'adminAssign'&$expand=activatedUsing"));
    assert!(assigned.iter().all(|x| x["activatedUsing"].is_null()));
}

#[test]
fn top_gives_a_next_link_and_following_it_returns_the_rest() {
    let mut lab = Lab::demo();
    let all = lab.list(ELIG_REQS);
    let first = lab.get(&format!("{ELIG_REQS}?$top=5"));
    let page1 = first["value"].as_array().unwrap().clone();
    assert_eq!(page1.len(), 5);
    let next = s(&first["@odata.nextLink"]);
    assert!(
        next.starts_with(&format!("{ROOT}/v1.0/roleManagement/directory/roleEligibilityScheduleRequests?")),
        "{next}"
    );
    let second = lab.get(&next);
    let page2 = second["value"].as_array().unwrap().clone();
    assert_eq!(page2.len(), 4);
    assert!(second.get("@odata.nextLink").is_none(), "the last page has no next link");
    let mut joined = ids(&page1);
    joined.extend(ids(&page2));
    assert_eq!(joined, ids(&all));

    // With a filter, the link keeps it.
    let filtered =
        lab.get(&format!("{ELIG_SCHEDULES}?$filter=scheduleInfo/expiration/type eq 'noExpiration'&$top=3"));
    let rest = lab.get(&s(&filtered["@odata.nextLink"]));
    assert_eq!(filtered["value"].as_array().unwrap().len() + rest["value"].as_array().unwrap().len(), 4);
    assert!(
        rest["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["scheduleInfo"]["expiration"]["type"] == "noExpiration")
    );

    // $top covering everything gives no link.
    assert!(lab.get(&format!("{ELIG_REQS}?$top=9")).get("@odata.nextLink").is_none());
}

#[test]
fn an_unknown_property_in_filter_or_expand_is_400_naming_it() {
    let mut lab = Lab::demo();
    let admin = lab.admin.clone();
    for (path, name) in [
        (format!("{ELIG_REQS}?$filter=colour eq 'red'"), "colour"),
        (format!("{ASSIGN_SCHEDULES}?$filter=principalId eq 'x' or flavour eq 'y'"), "flavour"),
        (format!("{ROLE_ASSIGNMENTS}?$filter=colour eq 'red'"), "colour"),
        (format!("{ELIG_INSTANCES}?$filter=status eq 'Provisioned'"), "status"),
        (format!("{ELIG_REQS}?$expand=colour"), "colour"),
        (format!("{ASSIGN_INSTANCES}?$expand=owner"), "owner"),
        (format!("{ELIG_REQS}?$expand=activatedUsing"), "activatedUsing"),
        (format!("{ELIG_SCHEDULES}?$expand=activatedUsing"), "activatedUsing"),
        (format!("{ROLE_DEFINITIONS}?$expand=principal"), "principal"),
        (format!("{POLICIES}?$filter={DIRECTORY_ROLE_SCOPE}&$expand=colour"), "colour"),
        (format!("{ELIG_REQS}?$colour=red"), "$colour"),
        (format!("{ELIG_REQS}?$top=-1"), "$top"),
    ] {
        let got = lab.raw(&admin, "GET", &path, None);
        let e = assert_error(&got, 400, "BadRequest");
        assert_names(&e, name);
    }
}

#[test]
fn orderby_count_and_skip_work_on_collections() {
    let mut lab = Lab::demo();
    let counted = lab.get(&format!("{ELIG_REQS}?$count=true&$top=2"));
    assert_eq!(counted["@odata.count"], 9);
    assert_eq!(counted["value"].as_array().unwrap().len(), 2);
    let ordered =
        lab.list(&format!("{ROLE_DEFINITIONS}?$orderby=displayName desc&$top=1&$select=displayName"));
    assert_eq!(ordered[0]["displayName"], "Yammer Administrator");
    let skipped = lab.list(&format!("{ELIG_REQS}?$skip=8"));
    assert_eq!(skipped.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// filterByCurrentUser
// ---------------------------------------------------------------------------------------------

#[test]
fn filter_by_current_user_principal_includes_group_derived_schedules_and_instances_but_not_group_requests() {
    let mut lab = Lab::demo();
    let dev = lab.user_id("dev");
    let tier0 = lab.group_id("Tier-0 Admins");
    let helpdesk = lab.group_id("Helpdesk Tier 1");
    let me = session(&dev);

    let schedules = lab.list_as(&me, &format!("{ELIG_SCHEDULES}/{ME}"));
    assert_eq!(schedules.len(), 1);
    assert_eq!(schedules[0]["principalId"], tier0);
    assert_eq!(schedules[0]["roleDefinitionId"], PRIV_ROLE_ADMIN);
    assert_eq!(schedules[0]["memberType"], "Group");
    let instances = lab.list_as(&me, &format!("{ELIG_INSTANCES}/{ME}"));
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0]["memberType"], "Group");

    // The group's own eligibility request is not returned for the member.
    let body = lab.get_as(&me, &format!("{ELIG_REQS}/{ME}"));
    assert_eq!(body["value"], json!([]));
    assert_eq!(
        body["@odata.context"],
        format!("{ROOT}/v1.0/$metadata#Collection(unifiedRoleEligibilityScheduleRequest)")
    );

    // The member activates the group's eligibility with their own id.
    let mut activation = request("SelfActivate", &dev, PRIV_ROLE_ADMIN, after("PT1H"));
    activation["justification"] = "Assign a role".into();
    let q = lab.accepted(&me, ASSIGN_REQS, &activation);
    assert_eq!(q["status"], "Provisioned");
    assert_eq!(q["principalId"], dev);

    let mine = lab.list_as(&me, &format!("{ASSIGN_REQS}/{ME}"));
    assert_eq!(ids(&mine), [s(&q["id"])], "the member's own activation request is theirs");
    assert_eq!(mine[0]["@odata.type"], "#microsoft.graph.unifiedRoleAssignmentScheduleRequest");
    let active = lab.list_as(&me, &format!("{ASSIGN_INSTANCES}/{ME}?$expand=activatedUsing"));
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["principalId"], dev);
    assert_eq!(active[0]["memberType"], "Group");
    assert_eq!(active[0]["assignmentType"], "Activated");
    assert_eq!(active[0]["activatedUsing"]["principalId"], tier0);
    let active_schedules = lab.list_as(&me, &format!("{ASSIGN_SCHEDULES}/{ME}"));
    assert_eq!(active_schedules.len(), 1);
    assert_eq!(active_schedules[0]["memberType"], "Group");
    let via = lab.get(&format!("{ASSIGN_REQS}/{}?$expand=activatedUsing", s(&q["id"])));
    assert_eq!(via["activatedUsing"]["id"], schedules[0]["id"]);

    // Another member of another group sees that group's eligibility, not Tier-0's.
    let ben = lab.user_id("ben");
    let theirs = lab.list_as(&session(&ben), &format!("{ELIG_SCHEDULES}/{ME}"));
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["principalId"], helpdesk);

    // $filter applies on top of the function.
    let none =
        lab.list_as(&me, &format!("{ELIG_SCHEDULES}/{ME}?$filter=roleDefinitionId eq '{GLOBAL_ADMIN}'"));
    assert!(none.is_empty());
}

#[test]
fn filter_by_current_user_rejects_unknown_on_values_naming_them() {
    let mut lab = Lab::demo();
    let admin = lab.admin.clone();
    let got = lab.raw(&admin, "GET", &format!("{ELIG_REQS}/filterByCurrentUser(on='colour')"), None);
    let e = assert_error(&got, 400, "BadRequest");
    assert_eq!(e["message"], "Requested value 'colour' was not found.");
    let got = lab.raw(&admin, "GET", &format!("{ELIG_SCHEDULES}/filterByCurrentUser(on='approver')"), None);
    let e = assert_error(&got, 400, "BadRequest");
    assert_names(&e, "approver");
}

/// Makes approval required for Global Administrator with these first-stage approvers.
fn require_approval(lab: &mut Lab, approvers: Value) {
    let body = json!({
        "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyApprovalRule",
        "id": "Approval_EndUser_Assignment",
        "target": {"caller": "EndUser", "operations": ["All"], "level": "Assignment",
                   "inheritableSettings": [], "enforcedSettings": []},
        "setting": {
            "isApprovalRequired": true,
            "isApprovalRequiredForExtension": false,
            "isRequestorJustificationRequired": true,
            "approvalMode": "SingleStage",
            "approvalStages": [{
                "approvalStageTimeOutInDays": 1,
                "isApproverJustificationRequired": true,
                "escalationTimeInMinutes": 0,
                "isEscalationEnabled": false,
                "primaryApprovers": approvers,
                "escalationApprovers": []
            }]
        }
    });
    let (status, out) = lab.patch_rule(GLOBAL_ADMIN, "Approval_EndUser_Assignment", &body);
    assert_eq!(status, 204, "{out:#}");
}

#[test]
fn filter_by_current_user_approver_lists_a_pending_activation_for_the_approver_not_the_requester() {
    let mut lab = Lab::demo();
    let alice = lab.user_id("alice");
    let kenji = lab.user_id("kenji");
    require_approval(
        &mut lab,
        json!([{"@odata.type": "#microsoft.graph.singleUser", "userId": kenji, "description": "Kenji"}]),
    );
    assert_eq!(lab.rule(GLOBAL_ADMIN, "Approval_EndUser_Assignment")["setting"]["isApprovalRequired"], true);

    let mut body = request("selfActivate", &alice, GLOBAL_ADMIN, after("PT2H"));
    body["justification"] = "Key rotation".into();
    let q = lab.accepted(&session(&alice), ASSIGN_REQS, &body);
    let id = s(&q["id"]);
    assert_eq!(q["status"], "PendingApproval");
    assert_eq!(q["approvalId"], id, "approvalId = request id");
    assert_eq!(q["completedDateTime"], Value::Null);
    assert_eq!(q["scheduleInfo"]["startDateTime"], Value::Null, "no start until approved");
    assert!(lab.list(&format!("{ASSIGN_INSTANCES}?$filter=principalId eq '{alice}'")).is_empty());

    let pending = format!("{ASSIGN_REQS}/{AS_APPROVER}?$filter=status eq 'PendingApproval'");
    assert_eq!(ids(&lab.list_as(&session(&kenji), &pending)), [id.as_str()]);
    assert!(lab.list_as(&session(&alice), &pending).is_empty(), "never the requester");
    assert!(lab.list(&pending).is_empty(), "approvers are configured, so not the Global Administrator");
    // The requester sees it as principal.
    assert_eq!(ids(&lab.list_as(&session(&alice), &format!("{ASSIGN_REQS}/{ME}"))), [id.as_str()]);

    // A second activation while it waits.
    let again = lab.submit(&session(&alice), ASSIGN_REQS, &body);
    assert_error(&again, 400, "PendingRoleAssignmentRequest");

    // The requester withdraws it.
    let (status, _) = lab.raw(&session(&alice), "POST", &format!("{ASSIGN_REQS}/{id}/cancel"), None);
    assert_eq!(status, 204);
    assert_eq!(lab.get(&format!("{ASSIGN_REQS}/{id}"))["status"], "Canceled");
    assert!(lab.list_as(&session(&kenji), &pending).is_empty());
}

#[test]
fn filter_by_current_user_approver_uses_group_members_or_else_the_administrators() {
    let mut lab = Lab::demo();
    let alice = lab.user_id("alice");
    let dev = lab.user_id("dev");
    let kenji = lab.user_id("kenji");
    let approvers = lab.group_id("PIM Approvers");
    require_approval(
        &mut lab,
        json!([{"@odata.type": "#microsoft.graph.groupMembers", "groupId": approvers}]),
    );
    let mut body = request("selfActivate", &alice, GLOBAL_ADMIN, after("PT2H"));
    body["justification"] = "Key rotation".into();
    let q = lab.accepted(&session(&alice), ASSIGN_REQS, &body);
    let pending = format!("{ASSIGN_REQS}/{AS_APPROVER}");
    for approver in [&dev, &kenji] {
        assert_eq!(ids(&lab.list_as(&session(approver), &pending)), [s(&q["id"])]);
    }
    assert!(lab.list_as(&session(&alice), &pending).is_empty(), "alice is in the group but is the requester");

    // No approvers named: Privileged Role and Global Administrators approve.
    let mut lab = Lab::demo();
    let alice = lab.user_id("alice");
    require_approval(&mut lab, json!([]));
    let q = lab.accepted(&session(&alice), ASSIGN_REQS, &body_for(&alice));
    assert_eq!(q["status"], "PendingApproval");
    assert_eq!(ids(&lab.list(&pending)), [s(&q["id"])]);
}

fn body_for(alice: &str) -> Value {
    let mut body = request("selfActivate", alice, GLOBAL_ADMIN, after("PT2H"));
    body["justification"] = "Key rotation".into();
    body
}

// ---------------------------------------------------------------------------------------------
// The error envelope for every error the README lists
// ---------------------------------------------------------------------------------------------

#[test]
fn policy_validation_failure_lists_every_failing_rule_with_pimlab_details() {
    let mut lab = Lab::demo();
    let alice = lab.user_id("alice");
    let before = lab.observable_state();
    let body = json!({"action": "selfActivate", "principalId": alice, "roleDefinitionId": GLOBAL_ADMIN,
                      "directoryScopeId": "/", "scheduleInfo": {"expiration": after("PT10H")}});
    let got = lab.submit(&session(&alice), ASSIGN_REQS, &body);
    let e = assert_error(&got, 400, "RoleAssignmentRequestPolicyValidationFailed");
    assert_eq!(e["message"], "The following policy rules failed: [\"ExpirationRule\",\"JustificationRule\"]");
    let codes: Vec<String> = e["details"].as_array().unwrap().iter().map(|d| s(&d["code"])).collect();
    assert!(codes.contains(&"ExpirationRule".to_string()), "{codes:?}");
    assert!(codes.contains(&"JustificationRule".to_string()), "{codes:?}");
    let expiration = e["details"].as_array().unwrap().iter().find(|d| d["code"] == "ExpirationRule").unwrap();
    assert_eq!(expiration["target"], "Expiration_EndUser_Assignment");
    assert!(
        s(&expiration["message"]).contains("PT10H") && s(&expiration["message"]).contains("PT8H"),
        "{expiration}"
    );

    // Without MFA, with a ticket required and no eligibility: MfaRule, TicketingRule, EligibilityRule.
    let (status, _) = lab.patch_rule(
        GLOBAL_ADMIN,
        "Enablement_EndUser_Assignment",
        &json!({"enabledRules": ["MultiFactorAuthentication", "Justification", "Ticketing"]}),
    );
    assert_eq!(status, 204);
    let mut no_mfa = session(&alice);
    no_mfa.mfa = false;
    let got = lab.submit(&no_mfa, ASSIGN_REQS, &body_for(&alice));
    let e = assert_error(&got, 400, "RoleAssignmentRequestPolicyValidationFailed");
    assert_eq!(e["message"], "The following policy rules failed: [\"MfaRule\",\"TicketingRule\"]");
    let ben = lab.user_id("ben");
    let got = lab.submit(&session(&ben), ASSIGN_REQS, &body_for(&ben));
    let e = assert_error(&got, 400, "RoleAssignmentRequestPolicyValidationFailed");
    assert!(s(&e["message"]).contains("\"EligibilityRule\""), "{e:#}");
    let _ = before;
}

#[test]
fn authentication_context_failure_is_acrs_validation_failed_with_a_claims_challenge() {
    let mut lab = Lab::demo();
    let alice = lab.user_id("alice");
    let (status, out) = lab.patch_rule(
        GLOBAL_ADMIN,
        "AuthenticationContext_EndUser_Assignment",
        &json!({"isEnabled": true, "claimValue": "c1"}),
    );
    assert_eq!(status, 204, "{out:#}");
    let before = lab.observable_state();
    let got = lab.submit(&session(&alice), ASSIGN_REQS, &body_for(&alice));
    let e = assert_error(&got, 400, "RoleAssignmentRequestAcrsValidationFailed");
    assert!(s(&e["message"]).contains("claims="), "{e:#}");
    assert!(s(&e["message"]).contains("c1"), "{e:#}");
    assert_eq!(lab.observable_state(), before);
    let mut with_context = session(&alice);
    with_context.auth_contexts = vec!["c1".into()];
    let q = lab.accepted(&with_context, ASSIGN_REQS, &body_for(&alice));
    assert_eq!(q["status"], "Provisioned");
}

#[test]
fn duplicates_missing_targets_and_early_removal_give_the_service_codes() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, never()));
    let before = lab.observable_state();

    let got = lab.admin_submit(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, never()));
    let e = assert_error(&got, 400, "RoleAssignmentExists");
    assert_eq!(e["message"], "The Role assignment already exists.");

    for action in ["adminUpdate", "adminRemove"] {
        let got = lab.admin_submit(ELIG_REQS, &request(action, &uma, HELPDESK_ADMIN, after("P1D")));
        let e = assert_error(&got, 400, "RoleAssignmentDoesNotExist");
        assert_eq!(e["message"], "The Role assignment does not exist.");
    }
    let got = lab.admin_submit(ASSIGN_REQS, &request("adminExtend", &uma, USER_ADMIN, after("P1D")));
    assert_error(&got, 400, "RoleAssignmentDoesNotExist");

    let got = lab.admin_submit(ELIG_REQS, &request("adminRemove", &uma, USER_ADMIN, never()));
    let e = assert_error(&got, 400, "ActiveDurationTooShort");
    assert_eq!(e["message"], "The Active duration is too short. Miniumum Required is 5 minutes.");

    // A span under five minutes fails ExpirationRule.
    let got = lab.admin_submit(ELIG_REQS, &request("adminAssign", &uma, HELPDESK_ADMIN, after("PT4M")));
    let e = assert_error(&got, 400, "RoleAssignmentRequestPolicyValidationFailed");
    assert_eq!(e["message"], "The following policy rules failed: [\"ExpirationRule\"]");

    // An active assignment without justification fails JustificationRule (Enablement_Admin_Assignment).
    let mut silent = request("adminAssign", &uma, USER_ADMIN, after("P1D"));
    silent.as_object_mut().unwrap().remove("justification");
    let got = lab.admin_submit(ASSIGN_REQS, &silent);
    let e = assert_error(&got, 400, "RoleAssignmentRequestPolicyValidationFailed");
    assert_eq!(e["message"], "The following policy rules failed: [\"JustificationRule\"]");

    assert_eq!(lab.observable_state(), before, "refused requests change nothing");
}

#[test]
fn callers_without_an_administrator_role_get_403_unauthorized_access_exception() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let vic = lab.user("vic");
    let before = lab.observable_state();
    for (collection, action) in
        [(ELIG_REQS, "adminAssign"), (ASSIGN_REQS, "adminAssign"), (ASSIGN_REQS, "adminRemove")]
    {
        let got = lab.submit(&session(&vic), collection, &request(action, &uma, USER_ADMIN, never()));
        let e = assert_error(&got, 403, "UnauthorizedAccessException");
        assert_eq!(e["message"], "Attempted to perform an unauthorized operation.");
    }
    // Self actions act only for the caller.
    let got =
        lab.submit(&session(&vic), ASSIGN_REQS, &request("selfActivate", &uma, USER_ADMIN, after("PT1H")));
    assert_error(&got, 403, "UnauthorizedAccessException");
    // A caller the tenant does not know.
    let got = lab.submit(
        &session("00000000-0000-4000-8000-000000000001"),
        ELIG_REQS,
        &request("adminAssign", &uma, USER_ADMIN, never()),
    );
    assert_error(&got, 403, "UnauthorizedAccessException");
    assert_eq!(lab.observable_state(), before);
}

#[test]
fn pimlab_own_codes_last_global_administrator_and_extend_and_renew_windows() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let bg = lab.admin.caller.clone();
    lab.advance("PT10M");
    let before = lab.observable_state();
    let remove_last = json!({"action": "adminRemove", "principalId": bg, "roleDefinitionId": GLOBAL_ADMIN, "directoryScopeId": "/"});
    let got = lab.admin_submit(ASSIGN_REQS, &remove_last);
    let e = assert_error(&got, 400, "PimlabLastGlobalAdministrator");
    assert_eq!(e["message"], "The last active Global Administrator assignment cannot be removed.");

    let admin = lab.admin.clone();
    lab.engine.set_fidelity(&admin, FidelitySwitch::PortalExtendRenewWindows, true).unwrap();
    lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, after("P60D")));
    let got = lab.admin_submit(ELIG_REQS, &request("adminExtend", &uma, USER_ADMIN, after("P90D")));
    let e = assert_error(&got, 400, "PimlabExtendWindowNotOpen");
    assert!(e["message"].as_str().unwrap().contains("portal-extend-renew-windows"), "{e:#}");

    lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, HELPDESK_ADMIN, after("PT1H")));
    lab.advance("P31D");
    let got = lab.admin_submit(ELIG_REQS, &request("adminRenew", &uma, HELPDESK_ADMIN, after("P30D")));
    assert_error(&got, 400, "PimlabRenewWindowClosed");
    let _ = before;
}

#[test]
fn unknown_principals_roles_and_unusable_principals_name_the_offending_id() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let sp = lab.service_principal("Robot");
    let plain = lab.group("Plain Group", false);
    let au = lab.administrative_unit("Europe");
    let before = lab.observable_state();
    let ghost = "11111111-2222-4333-8444-555555555555";

    let got = lab.admin_submit(ELIG_REQS, &request("adminAssign", ghost, USER_ADMIN, never()));
    let e = assert_error(&got, 400, "SubjectNotFound");
    assert_names(&e, ghost);
    let got = lab.admin_submit(ELIG_REQS, &request("adminAssign", &uma, ghost, never()));
    let e = assert_error(&got, 400, "RoleNotFound");
    assert_names(&e, ghost);
    let got = lab.admin_submit(ELIG_REQS, &request("adminAssign", &sp, USER_ADMIN, never()));
    let e = assert_error(&got, 400, "InvalidPrincipalForRoleAssignment");
    assert_names(&e, "Robot");
    let got = lab.admin_submit(ASSIGN_REQS, &request("adminAssign", &plain, USER_ADMIN, never()));
    let e = assert_error(&got, 400, "InvalidPrincipalForRoleAssignment");
    assert_names(&e, "Plain Group");
    let got = lab.admin_submit(ELIG_REQS, &request("adminAssign", &au, USER_ADMIN, never()));
    assert_error(&got, 400, "InvalidPrincipalForRoleAssignment");
    let mut scoped = request("adminAssign", &uma, USER_ADMIN, never());
    scoped["directoryScopeId"] = format!("/administrativeUnits/{ghost}").into();
    let got = lab.admin_submit(ELIG_REQS, &scoped);
    let e = assert_error(&got, 400, "BadRequest");
    assert_names(&e, ghost);
    assert_eq!(lab.observable_state(), before);

    // A real administrative unit scope works, and a service principal may hold an active role.
    scoped["directoryScopeId"] = format!("/administrativeUnits/{au}").into();
    let q = lab.admin_accepted(ELIG_REQS, &scoped);
    assert_eq!(q["directoryScopeId"], format!("/administrativeUnits/{au}"));
    let q = lab.admin_accepted(ASSIGN_REQS, &request("adminAssign", &sp, DIRECTORY_READERS, never()));
    assert_eq!(q["status"], "Provisioned");
}

#[test]
fn global_administrator_is_refused_at_an_administrative_unit_scope_and_the_store_is_unchanged() {
    let mut lab = Lab::new();
    let admin = lab.admin.clone();
    let uma = lab.user("uma");
    let au = lab.administrative_unit("Europe");
    let scope = format!("/administrativeUnits/{au}");
    let before = lab.observable_state();
    let mut scoped = request("adminAssign", &uma, GLOBAL_ADMIN, never());
    scoped["directoryScopeId"] = scope.clone().into();
    for collection in [ELIG_REQS, ASSIGN_REQS] {
        let got = lab.admin_submit(collection, &scoped);
        let e = assert_error(&got, 400, "BadRequest");
        assert_names(&e, "Global Administrator");
        assert_names(&e, &scope);
        assert_names(&e, "Helpdesk Administrator");
    }
    // Outside PIM too.
    let body = json!({"principalId": uma, "roleDefinitionId": GLOBAL_ADMIN, "directoryScopeId": scope});
    let (status, v) = lab.send(&admin, "POST", ROLE_ASSIGNMENTS, &body);
    assert_eq!(status, 400, "{v:#}");
    assert_eq!(lab.observable_state(), before);
}

#[test]
fn exactly_the_documented_roles_are_assignable_at_an_administrative_unit_scope() {
    // Every role in the catalog, at an administrative unit's scope: the ones Microsoft lists are
    // provisioned, every other one refused.
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let au = lab.administrative_unit("Europe");
    for role in pimlab::model::builtin_roles::BUILTIN_ROLES {
        let mut body = request("adminAssign", &uma, role.id, never());
        body["directoryScopeId"] = format!("/administrativeUnits/{au}").into();
        let (status, v) = lab.admin_submit(ELIG_REQS, &body);
        let listed = pimlab::model::builtin_roles::ADMINISTRATIVE_UNIT_ROLES.contains(&role.display_name);
        assert_eq!(status == 201, listed, "{}: {status} {v:#}", role.display_name);
    }
}

#[test]
fn wrong_methods_are_405_and_unknown_paths_are_400_in_the_graph_envelope() {
    let mut lab = Lab::new();
    let admin = lab.admin.clone();
    for (method, path) in [
        ("DELETE", ROLE_DEFINITIONS.to_string()),
        ("POST", "/v1.0/me".to_string()),
        ("PUT", ELIG_REQS.to_string()),
        ("DELETE", format!("{ELIG_REQS}/x")),
        ("PATCH", ELIG_SCHEDULES.to_string()),
        ("POST", ASSIGN_INSTANCES.to_string()),
        ("GET", format!("{ASSIGN_REQS}/x/cancel")),
        ("POST", "/v1.0/auditLogs/directoryAudits".to_string()),
        ("DELETE", "/v1.0/users".to_string()),
    ] {
        let got = lab.raw(&admin, method, &path, None);
        let e = assert_error(&got, 405, "Request_BadRequest");
        assert_names(&e, method);
    }
    let got = lab.raw(&admin, "GET", "/v1.0/roleManagement/directory/roleColours", None);
    let e = assert_error(&got, 400, "BadRequest");
    assert_names(&e, "roleColours");
}

// ---------------------------------------------------------------------------------------------
// Bad input: a clear error naming the value, and an unchanged store
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_request_bodies_are_refused_naming_the_offending_value_and_leave_the_store_unchanged() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let good = |patch: &dyn Fn(&mut Value)| -> String {
        let mut b = request_at("adminAssign", &uma, USER_ADMIN, "2025-01-06T09:00:00Z", after("P30D"));
        patch(&mut b);
        b.to_string()
    };
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("malformed JSON", "{\"action\": \"adminAssign\",".to_string(), "BadRequest", "line 1"),
        ("not an object", "[1, 2]".to_string(), "BadRequest", "an array"),
        ("empty body", String::new(), "BadRequest", "body"),
        (
            "wrong enum value",
            good(&|b| b["action"] = "adminAssignX".into()),
            "BadRequest",
            "Requested value 'adminAssignX' was not found.",
        ),
        (
            "wrong expiration type",
            good(&|b| b["scheduleInfo"]["expiration"]["type"] = "afterLunch".into()),
            "BadRequest",
            "afterLunch",
        ),
        (
            "missing action",
            good(&|b| {
                b.as_object_mut().unwrap().remove("action");
            }),
            "BadRequest",
            "action",
        ),
        (
            "missing principal",
            good(&|b| {
                b.as_object_mut().unwrap().remove("principalId");
            }),
            "BadRequest",
            "principalId",
        ),
        (
            "missing role",
            good(&|b| {
                b.as_object_mut().unwrap().remove("roleDefinitionId");
            }),
            "BadRequest",
            "roleDefinitionId",
        ),
        (
            "missing scope",
            good(&|b| {
                b.as_object_mut().unwrap().remove("directoryScopeId");
            }),
            "BadRequest",
            "directoryScopeId",
        ),
        ("both scopes", good(&|b| b["appScopeId"] = "/".into()), "BadRequest", "appScopeId"),
        ("principal of the wrong type", good(&|b| b["principalId"] = 7.into()), "BadRequest", "principalId"),
        (
            "justification of the wrong type",
            good(&|b| b["justification"] = json!(["why"])),
            "BadRequest",
            "justification",
        ),
        (
            "isValidationOnly of the wrong type",
            good(&|b| b["isValidationOnly"] = "yes".into()),
            "BadRequest",
            "isValidationOnly",
        ),
        (
            "scheduleInfo of the wrong type",
            good(&|b| b["scheduleInfo"] = "tomorrow".into()),
            "BadRequest",
            "scheduleInfo",
        ),
        ("ticketInfo of the wrong type", good(&|b| b["ticketInfo"] = json!([])), "BadRequest", "ticketInfo"),
        (
            "duration of the wrong type",
            good(&|b| b["scheduleInfo"]["expiration"]["duration"] = 8.into()),
            "BadRequest",
            "scheduleInfo.expiration.duration",
        ),
        ("unknown property", good(&|b| b["colour"] = "red".into()), "BadRequest", "colour"),
        (
            "unknown scheduleInfo property",
            good(&|b| b["scheduleInfo"]["timeZone"] = "UTC".into()),
            "BadRequest",
            "timeZone",
        ),
        (
            "unknown expiration property",
            good(&|b| b["scheduleInfo"]["expiration"]["until"] = "2025-02-01T00:00:00Z".into()),
            "BadRequest",
            "until",
        ),
        (
            "unknown ticketInfo property",
            good(&|b| b["ticketInfo"] = json!({"ticketId": "1"})),
            "BadRequest",
            "ticketId",
        ),
        (
            "bad duration",
            good(&|b| b["scheduleInfo"]["expiration"]["duration"] = "8 hours".into()),
            "BadRequest",
            "8 hours",
        ),
        (
            "calendar duration",
            good(&|b| b["scheduleInfo"]["expiration"]["duration"] = "P1Y".into()),
            "BadRequest",
            "P1Y",
        ),
        (
            "zero duration",
            good(&|b| b["scheduleInfo"]["expiration"]["duration"] = "PT0S".into()),
            "BadRequest",
            "PT0S",
        ),
        (
            "afterDuration without a duration",
            good(&|b| b["scheduleInfo"]["expiration"] = json!({"type": "afterDuration"})),
            "BadRequest",
            "scheduleInfo.expiration.duration",
        ),
        (
            "afterDateTime without an end",
            good(&|b| b["scheduleInfo"]["expiration"] = json!({"type": "afterDateTime"})),
            "BadRequest",
            "scheduleInfo.expiration.endDateTime",
        ),
        (
            "bad start",
            good(&|b| b["scheduleInfo"]["startDateTime"] = "tomorrow".into()),
            "BadRequest",
            "tomorrow",
        ),
        (
            "bad end",
            good(&|b| {
                b["scheduleInfo"]["expiration"] =
                    json!({"type": "afterDateTime", "endDateTime": "31/01/2025"})
            }),
            "BadRequest",
            "31/01/2025",
        ),
        (
            "end before start",
            good(&|b| b["scheduleInfo"]["expiration"] = until("2025-01-05T09:00:00Z")),
            "BadRequest",
            "2025-01-05T09:00:00Z",
        ),
        (
            "end before a future start",
            good(&|b| {
                b["scheduleInfo"]["startDateTime"] = "2025-03-01T00:00:00Z".into();
                b["scheduleInfo"]["expiration"] = until("2025-02-01T00:00:00Z");
            }),
            "BadRequest",
            "2025-02-01T00:00:00Z",
        ),
        (
            "recurrence",
            good(&|b| b["scheduleInfo"]["recurrence"] = json!({"pattern": {"type": "daily", "interval": 1}})),
            "BadRequest",
            "recurrence",
        ),
        (
            "unknown principal",
            good(&|b| b["principalId"] = "11111111-2222-4333-8444-555555555555".into()),
            "SubjectNotFound",
            "11111111-2222-4333-8444-555555555555",
        ),
        (
            "unknown role",
            good(&|b| b["roleDefinitionId"] = "not-a-role".into()),
            "RoleNotFound",
            "not-a-role",
        ),
        (
            "unknown scope",
            good(&|b| b["directoryScopeId"] = "/administrativeUnits/nowhere".into()),
            "BadRequest",
            "nowhere",
        ),
        ("scope without a slash", good(&|b| b["directoryScopeId"] = "tenant".into()), "BadRequest", "tenant"),
    ];
    let before = lab.observable_state();
    let admin = lab.admin.clone();
    for (what, text, code, needle) in &cases {
        for collection in [ELIG_REQS, ASSIGN_REQS] {
            let body = if text.is_empty() { None } else { Some(text.as_str()) };
            let got = lab.raw(&admin, "POST", collection, body);
            assert_eq!(got.0, 400, "{what} on {collection}: {:#}", got.1);
            let e = assert_error(&got, 400, code);
            assert!(names(&e, needle), "{what} on {collection}: the error should name '{needle}': {e:#}");
            assert_eq!(lab.observable_state(), before, "{what} on {collection} changed the store");
        }
    }

    // Nothing was consumed: the next accepted request gets the id a fresh tenant would give it.
    let accepted = lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, after("P30D")));
    let mut fresh = Lab::new();
    let uma2 = fresh.user("uma");
    assert_eq!(uma2, uma);
    let expected = fresh.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, after("P30D")));
    assert_eq!(accepted, expected);
}

#[test]
fn bad_directory_object_bodies_are_refused_and_leave_the_store_unchanged() {
    let mut lab = Lab::new();
    let before = lab.observable_state();
    let admin = lab.admin.clone();
    for (path, body, needle) in [
        ("/v1.0/users", json!({"displayName": "X", "colour": "red"}), "colour"),
        ("/v1.0/users", json!({"displayName": "X", "userPrincipalName": "no-at-sign"}), "no-at-sign"),
        ("/v1.0/users", json!({"userPrincipalName": "x@contoso.example"}), "displayName"),
        (
            "/v1.0/users",
            json!({"displayName": "Dup", "userPrincipalName": "breakglass@contoso.example"}),
            "breakglass@contoso.example",
        ),
        (
            "/v1.0/groups",
            json!({"displayName": "G", "isAssignableToRole": true, "securityEnabled": false}),
            "securityEnabled",
        ),
        ("/v1.0/servicePrincipals", json!({"displayName": "S", "appId": "not-a-guid"}), "not-a-guid"),
        (
            "/v1.0/directory/administrativeUnits",
            json!({"displayName": "A", "isAssignableToRole": true}),
            "isAssignableToRole",
        ),
    ] {
        let got = lab.send(&admin, "POST", path, &body);
        assert_eq!(got.0, 400, "{path} {body}: {:#}", got.1);
        let e = &got.1["error"];
        assert_names(e, needle);
        assert_eq!(lab.observable_state(), before, "{path} {body}");
    }
    let got = lab.raw(&admin, "POST", "/v1.0/groups/nope/members/$ref", Some("{\"@odata.id\": \"\"}"));
    assert_eq!(got.0, 400, "{:#}", got.1);
    assert_eq!(lab.observable_state(), before);
}

#[test]
fn a_user_with_a_non_boolean_account_enabled_is_refused_naming_the_field() {
    let mut lab = Lab::new();
    let before = lab.observable_state();
    let admin = lab.admin.clone();
    let got = lab.send(&admin, "POST", "/v1.0/users", &json!({"displayName": "X", "accountEnabled": "yes"}));
    let e = assert_error(&got, 400, "BadRequest");
    assert_names(&e, "accountEnabled");
    assert_eq!(lab.observable_state(), before);
}

// ---------------------------------------------------------------------------------------------
// Groups, retention, lock-out
// ---------------------------------------------------------------------------------------------

#[test]
fn a_member_of_a_router_made_role_assignable_group_activates_its_eligibility_with_member_type_group() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let vic = lab.user("vic");
    let ops = lab.group("Ops Admins", true);
    lab.add_member(&ops, &uma);
    lab.add_member(&ops, &vic);
    let members = lab.list(&format!("/v1.0/groups/{ops}/members"));
    let mut got = ids(&members);
    got.sort();
    let mut expected = vec![uma.clone(), vic.clone()];
    expected.sort();
    assert_eq!(got, expected);

    let eligibility = lab.admin_accepted(ELIG_REQS, &request("adminAssign", &ops, USER_ADMIN, never()));
    let q =
        lab.accepted(&session(&uma), ASSIGN_REQS, &request("selfActivate", &uma, USER_ADMIN, after("PT1H")));
    assert_eq!(q["principalId"], uma, "the member activates with their own id");
    let schedule = lab.get(&format!("{ASSIGN_SCHEDULES}/{}?$expand=activatedUsing", s(&q["id"])));
    assert_eq!(schedule["memberType"], "Group");
    assert_eq!(schedule["assignmentType"], "Activated");
    assert_eq!(schedule["activatedUsing"]["id"], eligibility["id"]);
    // Only uma is active; vic is not.
    let active = lab.list(&format!("{ROLE_ASSIGNMENTS}?$filter=roleDefinitionId eq '{USER_ADMIN}'"));
    assert_eq!(active.iter().map(|a| s(&a["principalId"])).collect::<Vec<_>>(), [uma.as_str()]);

    // A member cannot self-extend the group's eligibility.
    let ask = json!({"action": "selfExtend", "principalId": vic, "roleDefinitionId": USER_ADMIN,
                     "directoryScopeId": "/", "justification": "more"});
    let got = lab.submit(&session(&vic), ELIG_REQS, &ask);
    let e = assert_error(&got, 400, "RoleAssignmentDoesNotExist");
    assert_names(&e, "group");

    // Nesting a group in a role-assignable group is refused.
    let other = lab.group("Other", false);
    let admin = lab.admin.clone();
    let body = json!({"@odata.id": format!("{ROOT}/v1.0/directoryObjects/{other}")});
    let got = lab.send(&admin, "POST", &format!("/v1.0/groups/{ops}/members/$ref"), &body);
    assert_eq!(got.0, 400, "{:#}", got.1);
    // Adding the same member twice is refused.
    let body = json!({"@odata.id": format!("{ROOT}/v1.0/directoryObjects/{uma}")});
    let got = lab.send(&admin, "POST", &format!("/v1.0/groups/{ops}/members/$ref"), &body);
    assert_error(&got, 400, "Request_BadRequest");
}

#[test]
fn sending_the_group_id_activates_the_group_itself() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let ops = lab.group("Ops Admins", true);
    lab.add_member(&ops, &uma);
    lab.admin_accepted(ELIG_REQS, &request("adminAssign", &ops, USER_ADMIN, never()));
    let q =
        lab.accepted(&session(&uma), ASSIGN_REQS, &request("selfActivate", &ops, USER_ADMIN, after("PT1H")));
    assert_eq!(q["principalId"], ops);
    let active = lab.list(&format!("{ROLE_ASSIGNMENTS}?$filter=roleDefinitionId eq '{USER_ADMIN}'"));
    assert_eq!(ids(&active), [role_assignment_id(USER_ADMIN, &ops, false)]);
}

#[test]
fn an_activation_may_not_outlive_its_eligibility() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, after("PT1H")));
    let before = lab.observable_state();
    let got =
        lab.submit(&session(&uma), ASSIGN_REQS, &request("selfActivate", &uma, USER_ADMIN, after("PT2H")));
    let e = assert_error(&got, 400, "RoleAssignmentRequestPolicyValidationFailed");
    assert_eq!(e["message"], "The following policy rules failed: [\"ExpirationRule\"]");
    assert_eq!(lab.observable_state(), before);
}

#[test]
fn a_future_activation_is_granted_then_provisioned_and_expires_on_time() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let me = session(&uma);
    lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, never()));
    let q = lab.accepted(
        &me,
        ASSIGN_REQS,
        &request_at("SelfActivate", &uma, USER_ADMIN, "2025-01-06T11:00:00+01:00", after("PT1H")),
    );
    let id = s(&q["id"]);
    assert_eq!(q["status"], "Granted");
    assert_eq!(q["completedDateTime"], "2025-01-06T10:00:00Z");
    assert_eq!(lab.get(&format!("{ASSIGN_SCHEDULES}/{id}"))["status"], "Granted");
    assert!(lab.list(&format!("{ROLE_ASSIGNMENTS}?$filter=principalId eq '{uma}'")).is_empty());
    // A second activation while the first is scheduled.
    let got = lab.submit(&me, ASSIGN_REQS, &request("selfActivate", &uma, USER_ADMIN, after("PT1H")));
    assert_error(&got, 400, "RoleAssignmentExists");

    lab.advance("PT1H");
    assert_eq!(lab.get(&format!("{ASSIGN_REQS}/{id}"))["status"], "Provisioned");
    let instances = lab.list(&format!("{ASSIGN_INSTANCES}?$filter=principalId eq '{uma}'"));
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0]["startDateTime"], "2025-01-06T10:00:00Z");
    assert_eq!(instances[0]["endDateTime"], "2025-01-06T11:00:00Z");
    assert_eq!(lab.list(&format!("{ROLE_ASSIGNMENTS}?$filter=principalId eq '{uma}'")).len(), 1);

    lab.advance("PT1H");
    assert!(lab.list(&format!("{ASSIGN_INSTANCES}?$filter=principalId eq '{uma}'")).is_empty());
    assert!(lab.list(&format!("{ROLE_ASSIGNMENTS}?$filter=principalId eq '{uma}'")).is_empty());
    assert!(lab.list(&format!("{ASSIGN_SCHEDULES}?$filter=principalId eq '{uma}'")).is_empty());
    assert_eq!(
        lab.get(&format!("{ASSIGN_REQS}/{id}"))["status"],
        "Provisioned",
        "the request keeps its status"
    );
    // Once expired, a new activation is allowed.
    let again = lab.accepted(&me, ASSIGN_REQS, &request("selfActivate", &uma, USER_ADMIN, after("PT1H")));
    assert_eq!(again["status"], "Provisioned");
}

#[test]
fn a_granted_activation_whose_eligibility_is_removed_before_it_starts_fails() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, never()));
    let q = lab.accepted(
        &session(&uma),
        ASSIGN_REQS,
        &request_at("selfActivate", &uma, USER_ADMIN, "2025-01-06T12:00:00Z", after("PT1H")),
    );
    assert_eq!(q["status"], "Granted");
    lab.advance("PT10M");
    let removal = json!({"action": "adminRemove", "principalId": uma, "roleDefinitionId": USER_ADMIN,
                         "directoryScopeId": "/"});
    lab.admin_accepted(ELIG_REQS, &removal);
    lab.advance("PT3H");
    assert_eq!(lab.get(&format!("{ASSIGN_REQS}/{}", s(&q["id"])))["status"], "Failed");
    assert!(lab.list(&format!("{ASSIGN_INSTANCES}?$filter=principalId eq '{uma}'")).is_empty());
}

#[test]
fn self_extend_needs_mfa_and_a_justification() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, after("P7D")));
    let before = lab.observable_state();
    let mut no_mfa = session(&uma);
    no_mfa.mfa = false;
    let ask = json!({"action": "selfExtend", "principalId": uma, "roleDefinitionId": USER_ADMIN, "directoryScopeId": "/"});
    let got = lab.submit(&no_mfa, ELIG_REQS, &ask);
    let e = assert_error(&got, 400, "RoleAssignmentRequestPolicyValidationFailed");
    assert_eq!(e["message"], "The following policy rules failed: [\"MfaRule\",\"JustificationRule\"]");
    assert_eq!(lab.observable_state(), before);
}

#[test]
fn the_admin_expiration_rule_caps_assignments_only_once_expiry_is_required() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    // Permanent eligibility allowed: the P365D maximum does not apply.
    let q = lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, after("P400D")));
    assert_eq!(q["status"], "Provisioned");
    let (status, _) = lab.patch_rule(
        HELPDESK_ADMIN,
        "Expiration_Admin_Eligibility",
        &json!({"isExpirationRequired": true, "maximumDuration": "P90D"}),
    );
    assert_eq!(status, 204);
    let before = lab.observable_state();
    for expiration in [after("P91D"), never()] {
        let got = lab.admin_submit(ELIG_REQS, &request("adminAssign", &uma, HELPDESK_ADMIN, expiration));
        let e = assert_error(&got, 400, "RoleAssignmentRequestPolicyValidationFailed");
        assert_eq!(e["message"], "The following policy rules failed: [\"ExpirationRule\"]");
        assert_names(&e, "P90D");
    }
    assert_eq!(lab.observable_state(), before);
    let q = lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, HELPDESK_ADMIN, after("P90D")));
    assert_eq!(q["status"], "Provisioned");
}

#[test]
fn a_privileged_role_administrator_through_an_activated_group_eligibility_may_act_as_administrator() {
    let mut lab = Lab::demo();
    let dev = lab.user_id("dev");
    let chloe = lab.user_id("chloe");
    let assign = request("adminAssign", &chloe, HELPDESK_ADMIN, after("P30D"));
    let got = lab.submit(&session(&dev), ELIG_REQS, &assign);
    assert_error(&got, 403, "UnauthorizedAccessException");
    let mut activation = request("selfActivate", &dev, PRIV_ROLE_ADMIN, after("PT1H"));
    activation["justification"] = "Assign a role".into();
    lab.accepted(&session(&dev), ASSIGN_REQS, &activation);
    let q = lab.accepted(&session(&dev), ELIG_REQS, &assign);
    assert_eq!(q["createdBy"]["user"]["id"], dev);
}

#[test]
fn a_pending_admin_decision_can_be_cancelled_by_its_requester() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, after("P7D")));
    let ask = json!({"action": "selfExtend", "principalId": uma, "roleDefinitionId": USER_ADMIN,
                     "directoryScopeId": "/", "justification": "more"});
    let q = lab.accepted(&session(&uma), ELIG_REQS, &ask);
    let (status, _) = lab.raw(&session(&uma), "POST", &format!("{ELIG_REQS}/{}/cancel", s(&q["id"])), None);
    assert_eq!(status, 204);
    assert_eq!(lab.get(&format!("{ELIG_REQS}/{}", s(&q["id"])))["status"], "Revoked");
    // The eligibility itself is untouched.
    assert_eq!(lab.list(&format!("{ELIG_INSTANCES}?$filter=principalId eq '{uma}'")).len(), 1);
}

#[test]
fn requests_are_purged_after_45_days_while_their_schedules_remain_under_the_same_id() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let q = lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, never()));
    let id = s(&q["id"]);
    lab.advance("P44D");
    assert_eq!(lab.get(&format!("{ELIG_REQS}/{id}"))["status"], "Provisioned");
    lab.advance("P2D");
    let admin = lab.admin.clone();
    let got = lab.raw(&admin, "GET", &format!("{ELIG_REQS}/{id}"), None);
    let e = assert_error(&got, 404, "RoleAssignmentRequestNotFound");
    assert_eq!(e["message"], "The role assignment request is not found");
    assert!(!ids(&lab.list(ELIG_REQS)).contains(&id));
    assert_eq!(lab.get(&format!("{ELIG_SCHEDULES}/{id}"))["createdUsing"], id);
}

#[test]
fn cancelled_requests_are_purged_30_days_after_cancellation() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let q = lab.admin_accepted(
        ASSIGN_REQS,
        &request_at("adminAssign", &uma, USER_ADMIN, "2025-03-01T00:00:00Z", after("P1D")),
    );
    let id = s(&q["id"]);
    lab.advance("P10D");
    let admin = lab.admin.clone();
    assert_eq!(lab.raw(&admin, "POST", &format!("{ASSIGN_REQS}/{id}/cancel"), None).0, 204);
    lab.advance("P29D");
    assert_eq!(lab.get(&format!("{ASSIGN_REQS}/{id}"))["status"], "Canceled");
    lab.advance("P2D");
    let got = lab.raw(&admin, "GET", &format!("{ASSIGN_REQS}/{id}"), None);
    assert_error(&got, 404, "RoleAssignmentRequestNotFound");
}

#[test]
fn the_last_global_administrator_cannot_be_deleted_and_does_not_expire() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let bg = lab.admin.caller.clone();
    let bg_assignment = role_assignment_id(GLOBAL_ADMIN, &bg, false);
    let admin = lab.admin.clone();
    let got = lab.raw(&admin, "DELETE", &format!("{ROLE_ASSIGNMENTS}/{bg_assignment}"), None);
    let e = assert_error(&got, 400, "PimlabLastGlobalAdministrator");
    assert_eq!(e["message"], "The last active Global Administrator assignment cannot be removed.");

    lab.admin_accepted(ASSIGN_REQS, &request("adminAssign", &uma, GLOBAL_ADMIN, after("P1D")));
    let (status, _) = lab.raw(&admin, "DELETE", &format!("{ROLE_ASSIGNMENTS}/{bg_assignment}"), None);
    assert_eq!(status, 204, "another Global Administrator remains");
    lab.advance("P2D");
    let holders = lab
        .list_as(&session(&uma), &format!("{ROLE_ASSIGNMENTS}?$filter=roleDefinitionId eq '{GLOBAL_ADMIN}'"));
    assert_eq!(
        holders.iter().map(|h| s(&h["principalId"])).collect::<Vec<_>>(),
        [uma],
        "the last one is kept"
    );
}

#[test]
fn a_policy_addressed_by_its_directory_prefixed_id_can_be_read_and_patched() {
    let mut lab = Lab::new();
    let stored = lab.policy_id(USER_ADMIN);
    let listed = stored.replacen("DirectoryRole_", "Directory_", 1);
    let p = lab.get(&format!("{POLICIES}/{listed}"));
    assert_eq!(p["id"], listed);
    assert_eq!(p["scopeType"], "Directory");
    let admin = lab.admin.clone();
    let (status, _) = lab.send(
        &admin,
        "PATCH",
        &format!("{POLICIES}/{listed}/rules/Expiration_EndUser_Assignment"),
        &json!({"maximumDuration": "PT2H"}),
    );
    assert_eq!(status, 204);
    assert_eq!(lab.rule(USER_ADMIN, "Expiration_EndUser_Assignment")["maximumDuration"], "PT2H");
}

#[test]
fn approvers_in_an_approval_rule_patch_must_exist_or_nothing_changes() {
    let mut lab = Lab::new();
    let before = lab.observable_state();
    let body = json!({"setting": {
        "isApprovalRequired": true, "isApprovalRequiredForExtension": false,
        "isRequestorJustificationRequired": true, "approvalMode": "SingleStage",
        "approvalStages": [{"approvalStageTimeOutInDays": 1, "isApproverJustificationRequired": true,
            "escalationTimeInMinutes": 0, "isEscalationEnabled": false, "escalationApprovers": [],
            "primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser",
                                  "userId": "99999999-9999-4999-8999-999999999999"}]}]}});
    let got = lab.patch_rule(GLOBAL_ADMIN, "Approval_EndUser_Assignment", &body);
    let e = assert_error(&got, 400, "BadRequest");
    assert_names(&e, "99999999-9999-4999-8999-999999999999");
    assert_eq!(lab.observable_state(), before);
}

// ---------------------------------------------------------------------------------------------
// Suspected pimlab bugs (kept, ignored, reported)
// ---------------------------------------------------------------------------------------------

#[test]
fn following_next_links_always_makes_progress() {
    let mut lab = Lab::demo();
    let mut next = Some(format!("{ELIG_REQS}?$top=0"));
    let mut hops = 0;
    while let Some(link) = next {
        hops += 1;
        assert!(hops < 20, "the next links never end: {link}");
        let page = lab.get(&link);
        next = page.get("@odata.nextLink").and_then(Value::as_str).map(str::to_string);
        assert_ne!(next.as_deref(), Some(link.as_str()), "a next link pointing at itself");
    }
}

#[test]
fn a_policy_assignment_id_with_another_roles_suffix_is_404() {
    let mut lab = Lab::new();
    let ga_policy = lab.policy_id(GLOBAL_ADMIN);
    let admin = lab.admin.clone();
    let (status, body) =
        lab.raw(&admin, "GET", &format!("{POLICY_ASSIGNMENTS}/{ga_policy}_{USER_ADMIN}"), None);
    assert_eq!(status, 404, "{body:#}");
}

#[test]
fn members_bound_when_creating_a_group_become_members() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let group = lab.create(
        "/v1.0/groups",
        json!({"displayName": "Bound", "securityEnabled": true, "mailEnabled": false, "mailNickname": "bound",
               "members@odata.bind": [format!("{ROOT}/v1.0/users/{uma}")],
               "owners@odata.bind": [format!("{ROOT}/v1.0/users/{uma}")]}),
    );
    assert_eq!(ids(&lab.list(&format!("/v1.0/groups/{group}/members"))), [uma.as_str()]);
    assert_eq!(ids(&lab.list(&format!("/v1.0/groups/{group}/owners"))), [uma]);
}

#[test]
fn a_user_created_disabled_reads_back_disabled() {
    let mut lab = Lab::new();
    let id = lab.create(
        "/v1.0/users",
        json!({"displayName": "Off", "userPrincipalName": "off@contoso.example", "accountEnabled": false}),
    );
    assert_eq!(lab.get(&format!("/v1.0/users/{id}"))["accountEnabled"], false);
}

#[test]
fn group_types_given_at_creation_are_read_back() {
    let mut lab = Lab::new();
    let id = lab.create(
        "/v1.0/groups",
        json!({"displayName": "Team", "groupTypes": ["Unified"], "mailEnabled": true, "mailNickname": "team",
               "securityEnabled": false}),
    );
    assert_eq!(lab.get(&format!("/v1.0/groups/{id}"))["groupTypes"], json!(["Unified"]));
}

#[test]
fn a_role_assignment_made_at_an_app_scope_echoes_app_scope_id() {
    let mut lab = Lab::new();
    let sp = lab.service_principal("Robot");
    let admin = lab.admin.clone();
    let (status, ra) = lab.send(
        &admin,
        "POST",
        ROLE_ASSIGNMENTS,
        &json!({"principalId": sp, "roleDefinitionId": REPORTS_READER, "appScopeId": "/"}),
    );
    assert_eq!(status, 201, "{ra:#}");
    assert_eq!(ra["appScopeId"], "/");
    assert_eq!(ra["directoryScopeId"], Value::Null);
}

// ---------------------------------------------------------------------------------------------
// Path forms
// ---------------------------------------------------------------------------------------------

#[test]
fn beta_paths_work_like_v1_and_say_beta_in_their_context() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let v1 = lab.list(ROLE_DEFINITIONS);
    let beta = lab.get("/beta/roleManagement/directory/roleDefinitions");
    assert_eq!(
        beta["@odata.context"],
        format!("{ROOT}/beta/$metadata#roleManagement/directory/roleDefinitions")
    );
    // The same roles, with the two properties only beta has.
    let without_beta_only: Vec<Value> = beta["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut r = r.clone();
            let m = r.as_object_mut().unwrap();
            assert!(m.remove("isPrivileged").is_some() && m.remove("allowedPrincipalTypes").is_some());
            r
        })
        .collect();
    assert_eq!(without_beta_only, v1);

    let q = lab.admin_accepted(
        "/beta/roleManagement/directory/roleEligibilityScheduleRequests",
        &request("AdminAssign", &uma, USER_ADMIN, never()),
    );
    assert_eq!(
        q["@odata.context"],
        format!("{ROOT}/beta/$metadata#roleManagement/directory/roleEligibilityScheduleRequests/$entity")
    );
    let via_v1 = lab.get(&format!("{ELIG_REQS}/{}", s(&q["id"])));
    assert_eq!(via_v1["id"], q["id"]);
    let page = lab.get("/beta/roleManagement/directory/roleDefinitions?$top=40");
    assert!(s(&page["@odata.nextLink"]).starts_with(&format!("{ROOT}/beta/")));
    let policies = lab.list(&format!("/beta/policies/roleManagementPolicies?$filter={DIRECTORY_ROLE_SCOPE}"));
    assert_eq!(policies.len(), 45);
}

#[test]
fn absolute_graph_urls_and_unversioned_paths_work_like_v1() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let v1 = lab.list(ROLE_DEFINITIONS);
    let absolute = lab.list(&format!("{ROOT}/v1.0/roleManagement/directory/roleDefinitions"));
    assert_eq!(absolute, v1);
    let bare = lab.list("/roleManagement/directory/roleDefinitions");
    assert_eq!(bare, v1);
    let q = lab.admin_accepted(
        &format!("{ROOT}/v1.0/roleManagement/directory/roleAssignmentScheduleRequests"),
        &request("adminAssign", &uma, USER_ADMIN, after("P1D")),
    );
    assert_eq!(q["status"], "Provisioned");
    let one = lab
        .get(&format!("{ROOT}/v1.0/roleManagement/directory/roleAssignmentScheduleRequests/{}", s(&q["id"])));
    assert_eq!(one["id"], q["id"]);
    // Key segments in parentheses address the same entity.
    let keyed = lab.get(&format!("{ROLE_DEFINITIONS}('{GLOBAL_ADMIN}')"));
    assert_eq!(keyed["displayName"], "Global Administrator");
}

#[test]
fn me_and_the_audit_log_are_readable_and_the_log_lists_newest_first() {
    let mut lab = Lab::new();
    let uma = lab.user("uma");
    let me = lab.get("/v1.0/me");
    assert_eq!(me["id"], lab.admin.caller);
    lab.admin_accepted(ELIG_REQS, &request("adminAssign", &uma, USER_ADMIN, never()));
    let log = lab.list("/v1.0/auditLogs/directoryAudits");
    assert!(log.len() >= 3);
    assert!(s(&log[0]["activityDisplayName"]).contains("eligible"), "{:#}", log[0]);
    assert_eq!(log[0]["initiatedBy"]["user"]["id"], lab.admin.caller);
}

// ---------------------------------------------------------------------------------------------
// Determinism
// ---------------------------------------------------------------------------------------------

/// One scripted session: successes, refusals and reads; every response body in order.
fn scripted_session() -> Vec<(u16, Value)> {
    let mut lab = Lab::demo();
    let mut out = Vec::new();
    let admin = lab.admin.clone();
    let alice = lab.user_id("alice");
    let (_, u) = lab.send(
        &admin,
        "POST",
        "/v1.0/users",
        &json!({"displayName": "Uma", "userPrincipalName": "uma@contoso.example"}),
    );
    let uma = s(&u["id"]);
    out.push((201, u));
    out.push(lab.admin_submit(ELIG_REQS, &request("AdminAssign", &uma, USER_ADMIN, after("P30D"))));
    out.push(lab.admin_submit(ELIG_REQS, &request("AdminAssign", &uma, USER_ADMIN, after("P30D"))));
    out.push(lab.admin_submit(ELIG_REQS, &request("adminAssignX", &uma, USER_ADMIN, after("P30D"))));
    out.push(lab.submit(
        &session(&alice),
        ASSIGN_REQS,
        &request("selfActivate", &alice, GLOBAL_ADMIN, after("PT10H")),
    ));
    out.push(lab.submit(&session(&alice), ASSIGN_REQS, &body_for(&alice)));
    out.push(lab.admin_submit(
        ASSIGN_REQS,
        &request_at("adminAssign", &uma, HELPDESK_ADMIN, "2025-01-09T00:00:00+01:00", after("P2D")),
    ));
    let granted = s(&out.last().unwrap().1["id"]);
    out.push(lab.raw(&admin, "POST", &format!("{ASSIGN_REQS}/{granted}/cancel"), None));
    out.push(lab.patch_rule(
        GLOBAL_ADMIN,
        "Expiration_EndUser_Assignment",
        &json!({"maximumDuration": "PT4H"}),
    ));
    lab.advance("PT3H");
    for path in [
        ELIG_REQS,
        ASSIGN_REQS,
        ELIG_SCHEDULES,
        ASSIGN_SCHEDULES,
        ELIG_INSTANCES,
        ASSIGN_INSTANCES,
        ROLE_ASSIGNMENTS,
        "/v1.0/auditLogs/directoryAudits",
    ] {
        out.push(lab.raw(&admin, "GET", path, None));
    }
    out.push(lab.raw(&admin, "GET", &format!("{ELIG_REQS}?$top=3"), None));
    out
}

#[test]
fn the_same_calls_on_two_fresh_engines_give_identical_responses() {
    let first = scripted_session();
    let second = scripted_session();
    assert_eq!(first.len(), second.len());
    for (i, (a, b)) in first.iter().zip(&second).enumerate() {
        assert_eq!(a, b, "response {i} differs");
    }
    // And the script did exercise successes and refusals.
    assert!(first.iter().any(|(status, _)| *status == 201));
    assert!(first.iter().any(|(status, _)| *status == 400));
}

// ---------------------------------------------------------------------------------------------
// $batch

#[test]
fn a_batch_answers_each_request_on_its_own_and_a_refused_one_changes_nothing() {
    let mut lab = Lab::new();
    let alice = lab.user("alice");
    let assign = json!({
        "action": "adminAssign", "principalId": alice, "roleDefinitionId": USER_ADMIN, "directoryScopeId": "/",
        "justification": "batch", "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "PT8H"}}
    });
    let body = json!({"requests": [
        {"id": "a", "method": "POST", "url": "/roleManagement/directory/roleAssignmentScheduleRequests", "body": assign},
        {"id": "b", "method": "POST", "url": "/roleManagement/directory/roleAssignmentScheduleRequests", "body": assign},
        {"id": "c", "method": "GET", "url": "/roleManagement/directory/roleAssignments?$filter=principalId eq '" .to_string() + &alice + "'"},
    ]});
    let (status, out) = lab.send(&lab.admin.clone(), "POST", "/v1.0/$batch", &body);
    assert_eq!(status, 200, "{out:#}");
    let responses = out["responses"].as_array().unwrap();
    assert_eq!(
        responses.iter().map(|r| (r["id"].clone(), r["status"].clone())).collect::<Vec<_>>(),
        vec![(json!("a"), json!(201)), (json!("b"), json!(400)), (json!("c"), json!(200)),]
    );
    assert_eq!(responses[1]["body"]["error"]["code"], "RoleAssignmentExists");
    assert_eq!(
        responses[2]["body"]["value"].as_array().unwrap().len(),
        1,
        "the first request's assignment is visible to the third"
    );
    // The batch committed: the assignment is there afterwards, once.
    let requests = lab.list(ASSIGN_REQS);
    assert_eq!(requests.iter().filter(|r| r["principalId"] == json!(alice)).count(), 1);
}

#[test]
fn a_batch_of_more_than_20_requests_is_refused_whole() {
    let mut lab = Lab::new();
    let before = lab.observable_state();
    let requests: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "POST", "url": "/users", "body": {"displayName": format!("U{i}")}}))
        .collect();
    let (status, out) =
        lab.send(&lab.admin.clone(), "POST", "/v1.0/$batch", &json!({ "requests": requests }));
    assert_eq!(status, 400, "{out:#}");
    assert!(out["error"]["message"].as_str().unwrap().contains("21 requests"), "{out:#}");
    assert_eq!(lab.observable_state(), before);
}

#[test]
fn a_batch_with_a_malformed_request_names_it() {
    let mut lab = Lab::new();
    let (status, out) = lab.send(
        &lab.admin.clone(),
        "POST",
        "/v1.0/$batch",
        &json!({"requests": [{"id": "1", "url": "/me"}]}),
    );
    assert_eq!(status, 400, "{out:#}");
    assert!(out["error"]["message"].as_str().unwrap().contains("requests[0].method"), "{out:#}");
}

// ---------------------------------------------------------------------------------------------
// Regressions found with the real msgraph SDKs

#[test]
fn beta_writes_approvers_with_id_and_is_backup_as_the_beta_sdk_reads_them() {
    let mut lab = Lab::new();
    let ben = lab.user("ben");
    let policy = lab.list(&format!("{POLICIES}?$filter={DIRECTORY_ROLE_SCOPE}"))[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rule = format!("/v1.0/policies/roleManagementPolicies/{policy}/rules/Approval_EndUser_Assignment");
    let mut body = lab.get(&rule);
    body["setting"]["approvalStages"][0]["primaryApprovers"] =
        json!([{"@odata.type": "#microsoft.graph.singleUser", "userId": ben, "description": "Ben"}]);
    let (status, out) = lab.send(&lab.admin.clone(), "PATCH", &rule, &body);
    assert_eq!(status, 204, "{out:#}");
    let v1 = lab.get(&rule);
    assert_eq!(v1["setting"]["approvalStages"][0]["primaryApprovers"][0]["userId"], json!(ben));
    let beta = lab.get(&rule.replacen("/v1.0/", "/beta/", 1));
    let approver = &beta["setting"]["approvalStages"][0]["primaryApprovers"][0];
    assert_eq!(
        approver,
        &json!({"@odata.type": "#microsoft.graph.singleUser", "isBackup": false, "id": ben, "description": "Ben"})
    );
}

#[test]
fn a_created_request_echoes_times_as_a_later_read_returns_them() {
    let mut lab = Lab::new();
    let alice = lab.user("alice");
    let mut body =
        request("adminAssign", &alice, REPORTS_READER, json!({"type": "afterDuration", "duration": "P1D"}));
    body["scheduleInfo"]["startDateTime"] = json!("2025-01-07T10:00:00.1234567+01:00");
    let created = lab.admin_accepted(ELIG_REQS, &body);
    assert_eq!(created["scheduleInfo"]["startDateTime"], "2025-01-07T09:00:00.123Z");
    let read = lab.get(&format!("{ELIG_REQS}/{}", created["id"].as_str().unwrap()));
    assert_eq!(read["scheduleInfo"]["startDateTime"], created["scheduleInfo"]["startDateTime"]);
    assert_eq!(read["completedDateTime"], created["completedDateTime"]);
}

#[test]
fn a_rule_read_back_with_its_odata_context_can_be_patched_as_is() {
    let mut lab = Lab::new();
    let policy = lab.list(&format!("{POLICIES}?$filter={DIRECTORY_ROLE_SCOPE}"))[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rule = format!("/v1.0/policies/roleManagementPolicies/{policy}/rules/Expiration_EndUser_Assignment");
    let mut body = lab.get(&rule);
    assert!(body.get("@odata.context").is_some());
    body["maximumDuration"] = json!("PT2H");
    let (status, out) = lab.send(&lab.admin.clone(), "PATCH", &rule, &body);
    assert_eq!(status, 204, "{out:#}");
    assert_eq!(lab.get(&rule)["maximumDuration"], "PT2H");
}

/// Every create answers as the service does: `@odata.context` (`{collection}/$entity`) first, then
/// the entity. One case per kind of thing a client can create.
#[test]
fn every_create_answers_with_its_context_first() {
    let mut lab = Lab::new();
    let admin = lab.admin.clone();
    let sp = lab.service_principal("Context Probe");
    let alice = lab.user("alice");
    let creates = [
        ("/v1.0/users", json!({"displayName": "Dana", "userPrincipalName": "dana@contoso.example"}), "users"),
        (
            "/v1.0/groups",
            json!({"displayName": "Ops", "mailNickname": "ops", "securityEnabled": true, "mailEnabled": false}),
            "groups",
        ),
        (
            ROLE_ASSIGNMENTS,
            json!({"principalId": sp, "roleDefinitionId": DIRECTORY_READERS, "directoryScopeId": "/"}),
            "roleManagement/directory/roleAssignments",
        ),
        (
            ELIG_REQS,
            json!({"action": "adminAssign", "principalId": alice, "roleDefinitionId": HELPDESK_ADMIN,
                   "directoryScopeId": "/", "justification": "on call",
                   "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "P30D"}}}),
            "roleManagement/directory/roleEligibilityScheduleRequests",
        ),
        (
            ASSIGN_REQS,
            json!({"action": "adminAssign", "principalId": alice, "roleDefinitionId": REPORTS_READER,
                   "directoryScopeId": "/", "justification": "audit",
                   "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "P30D"}}}),
            "roleManagement/directory/roleAssignmentScheduleRequests",
        ),
    ];
    for (path, body, collection) in creates {
        let (status, v) = lab.send(&admin, "POST", path, &body);
        assert_eq!(status, 201, "POST {path}: {v:#}");
        assert_eq!(keys(&v).first().map(String::as_str), Some("@odata.context"), "POST {path}: {v:#}");
        let context = v["@odata.context"].as_str().unwrap_or_default();
        assert!(context.ends_with(&format!("$metadata#{collection}/$entity")), "POST {path}: {context}");
    }
}

/// `$select` or `$orderby` naming a property the entity lacks is a 400 naming it, on every
/// collection and entity (it used to answer 200 with empty objects); real properties, including
/// ones no filter takes, still select and order.
#[test]
fn select_and_orderby_of_an_unknown_property_are_refused_naming_it() {
    let mut lab = Lab::new();
    let admin = lab.admin.clone();
    let policy_filter = format!("$filter={DIRECTORY_ROLE_SCOPE}");
    let collections = [
        ROLE_ASSIGNMENTS.to_string(),
        ROLE_DEFINITIONS.to_string(),
        ELIG_REQS.to_string(),
        ASSIGN_REQS.to_string(),
        ELIG_SCHEDULES.to_string(),
        ASSIGN_INSTANCES.to_string(),
        format!("{POLICIES}?{policy_filter}"),
        format!("{POLICY_ASSIGNMENTS}?{policy_filter}"),
        AUDITS.to_string(),
        "/v1.0/users".to_string(),
        "/v1.0/groups".to_string(),
        format!("{ROLE_DEFINITIONS}/{GLOBAL_ADMIN}"),
    ];
    for path in &collections {
        let sep = if path.contains('?') { '&' } else { '?' };
        for option in ["$select=id,colour", "$orderby=colour desc"] {
            let got = lab.raw(&admin, "GET", &format!("{path}{sep}{option}"), None);
            let e = assert_error(&got, 400, "BadRequest");
            let message = e["message"].as_str().unwrap_or_default();
            assert!(message.contains("'colour'"), "GET {path}{sep}{option}: {message}");
        }
    }
    let roles =
        lab.list(&format!("{ROLE_DEFINITIONS}?$select=displayName,rolePermissions&$orderby=displayName"));
    assert!(!roles.is_empty());
    assert_eq!(keys(&roles[0]), ["displayName", "rolePermissions"]);
    let users = lab.list("/v1.0/users?$select=userPrincipalName&$orderby=userPrincipalName desc");
    // (Annotations such as `@odata.type` stay, as Graph keeps them.)
    let properties = |v: &Value| keys(v).into_iter().filter(|k| !k.starts_with('@')).collect::<Vec<_>>();
    assert!(users.iter().all(|u| properties(u) == ["userPrincipalName"]), "{users:?}");
}

/// `/$count` after a collection answers the number of items its `$filter` keeps (ignoring `$top`
/// and `$skip`), as OData does; it used to be taken for a request id.
#[test]
fn count_segment_answers_the_size_of_the_filtered_collection() {
    let mut lab = Lab::new();
    let admin = lab.admin.clone();
    lab.user("alice");
    for path in [ROLE_ASSIGNMENTS, ROLE_DEFINITIONS, ELIG_REQS, ASSIGN_REQS, ASSIGN_SCHEDULES, "/v1.0/users"]
    {
        let all = lab.list(path).len();
        let got = lab.raw(&admin, "GET", &format!("{path}/$count?$top=1&$skip=1"), None);
        assert_eq!(got, (200, json!(all)), "GET {path}/$count");
    }
    let built_in = lab.list(&format!("{ROLE_DEFINITIONS}?$filter=isBuiltIn eq true")).len();
    let got = lab.raw(&admin, "GET", &format!("{ROLE_DEFINITIONS}/$count?$filter=isBuiltIn eq true"), None);
    assert_eq!(got, (200, json!(built_in)));
    let one = lab.raw(&admin, "GET", &format!("{ROLE_DEFINITIONS}/{GLOBAL_ADMIN}/$count"), None);
    assert_error(&one, 400, "BadRequest");
    let post = lab.raw(&admin, "POST", &format!("{ROLE_ASSIGNMENTS}/$count"), Some("{}"));
    assert_eq!(post.0, 405, "{:#}", post.1);
}

/// An expanded rules collection carries its own `rules@odata.context` just before it, pointing at
/// the path that reached the policy, on both ways of reaching a policy's rules.
#[test]
fn expanded_rules_carry_their_own_context() {
    let mut lab = Lab::new();
    let filter = format!("$filter={DIRECTORY_ROLE_SCOPE}");
    let policies = lab.list(&format!("{POLICIES}?{filter}&$expand=rules"));
    let assignments = lab.list(&format!("{POLICY_ASSIGNMENTS}?{filter}&$expand=policy($expand=rules)"));
    let cases = [
        (
            &policies[0],
            format!("#policies/roleManagementPolicies('{}')/rules", policies[0]["id"].as_str().unwrap()),
        ),
        (
            &assignments[0]["policy"],
            format!(
                "#policies/roleManagementPolicyAssignments('{}')/policy/rules",
                assignments[0]["id"].as_str().unwrap()
            ),
        ),
    ];
    for (policy, context) in cases {
        let keys = keys(policy);
        let at = keys.iter().position(|k| k == "rules").expect("rules embedded");
        assert_eq!(keys[at - 1], "rules@odata.context", "{keys:?}");
        let got = policy["rules@odata.context"].as_str().unwrap_or_default();
        assert!(got.ends_with(&context), "{got} should end with {context}");
    }
}

/// Beta's role definitions carry `isPrivileged` (filterable) and `allowedPrincipalTypes`; v1.0's
/// do not, and v1.0 refuses a filter on them.
#[test]
fn beta_role_definitions_say_which_are_privileged_and_who_may_hold_them() {
    let mut lab = Lab::new();
    let admin = lab.admin.clone();
    let beta = ROLE_DEFINITIONS.replace("/v1.0/", "/beta/");
    let ga = lab.get(&format!("{beta}/{GLOBAL_ADMIN}"));
    assert_eq!(
        (ga["isPrivileged"].clone(), ga["allowedPrincipalTypes"].clone()),
        (json!(true), json!("user,servicePrincipal,group"))
    );
    let reader = lab.get(&format!("{beta}/{REPORTS_READER}"));
    assert_eq!(reader["isPrivileged"], json!(false));
    let privileged = lab.list(&format!("{beta}?$filter=isPrivileged eq true"));
    assert!(!privileged.is_empty() && privileged.iter().all(|r| r["isPrivileged"] == json!(true)));
    assert!(privileged.len() < lab.list(&beta).len());
    let v1 = lab.get(&format!("{ROLE_DEFINITIONS}/{GLOBAL_ADMIN}"));
    assert!(v1.get("isPrivileged").is_none() && v1.get("allowedPrincipalTypes").is_none(), "{v1:#}");
    let got = lab.raw(&admin, "GET", &format!("{ROLE_DEFINITIONS}?$filter=isPrivileged eq true"), None);
    assert_error(&got, 400, "BadRequest");
}

/// An error's `innerError.request-id` differs from call to call, even for the same call at the same
/// simulated time, and the same calls on a fresh store give the same ids (reproducible runs).
#[test]
fn error_request_ids_are_unique_per_call_and_reproducible() {
    let ids = || {
        let mut lab = Lab::new();
        let admin = lab.admin.clone();
        let missing = format!("{ELIG_REQS}/00000000-0000-0000-0000-000000000000");
        let mut ids = Vec::new();
        for _ in 0..3 {
            let got = lab.raw(&admin, "GET", &missing, None);
            let e = assert_error(&got, 404, "RoleAssignmentRequestNotFound");
            let _ = e;
            ids.push(got.1["error"]["innerError"]["request-id"].as_str().unwrap().to_string());
        }
        ids
    };
    let first = ids();
    assert!(first[0] != first[1] && first[1] != first[2] && first[0] != first[2], "{first:?}");
    assert_eq!(ids(), first, "the same calls give the same ids");
}
