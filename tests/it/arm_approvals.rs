//! Approvals of Azure roles over ARM (`roleAssignmentApprovals`, api-version 2021-01-01-preview;
//! arm-pim §3.7): Owner of the production subscription needs Kenji's yes; Alice activates over ARM
//! and waits; Kenji lists, reads and decides the stage over ARM; whoever has no part in it is
//! refused; bad bodies change nothing; what comes back parses with the real SDK's models.

use pimlab::api::arm;
use pimlab::engine::PolicyChange;
use serde_json::{Value, json};

use crate::arm_router::{OWNER, PROD, put, request_path};
use crate::harness::cli;
use crate::harness::graph::{Lab, session};

const APPROVALS: &str = "api-version=2021-01-01-preview";
const ELIGIBILITY: &str = "2d3c4b5a-6978-4a1b-8c2d-3e4f5a6b7c8d";
const ACTIVATION: &str = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d";
const DEV_SUB: &str = "/subscriptions/3c9e7b14-2f5a-4d68-8e03-b1a2c4d5e6f7";

/// A path under `roleAssignmentApprovals` at `scope` (empty: the tenant), with `query` after the
/// api-version.
fn approvals(scope: &str, rest: &str, query: &str) -> String {
    format!("{scope}/providers/Microsoft.Authorization/roleAssignmentApprovals{rest}?{APPROVALS}{query}")
}

fn call(lab: &mut Lab, who: &str, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let r = arm::handle(&mut lab.engine, &session(who), method, path, body);
    (r.status, r.body.unwrap_or(Value::Null))
}

#[track_caller]
fn get(lab: &mut Lab, who: &str, path: &str) -> Value {
    let (status, body) = call(lab, who, "GET", path, None);
    assert_eq!(status, 200, "GET {path}: {body:#}");
    body
}

#[track_caller]
fn refused(
    lab: &mut Lab,
    who: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    want: (u16, &str),
) -> Value {
    let (status, got) = call(lab, who, method, path, body);
    assert_eq!((status, got["error"]["code"].as_str()), (want.0, Some(want.1)), "{method} {path}: {got:#}");
    assert!(got["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{got:#}");
    got
}

/// The approvals `who` lists at `scope` under `filter`.
fn listed(lab: &mut Lab, who: &str, scope: &str, filter: &str) -> Vec<Value> {
    get(lab, who, &approvals(scope, "", filter))["value"].as_array().cloned().unwrap_or_default()
}

/// One approval stage decided by `approver`, wanting the approver's justification or not.
fn stage(approver: &str, justification: bool) -> Value {
    json!({
        "approvalStageTimeOutInDays": 1, "isApproverJustificationRequired": justification,
        "escalationTimeInMinutes": 0, "isEscalationEnabled": false, "escalationApprovers": [],
        "primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": approver}],
    })
}

/// An approval setting (Graph's shape, as a rule patch takes it) of `stages` in `mode`, for
/// extensions too when `extensions`.
fn setting(mode: &str, stages: Vec<Value>, extensions: bool) -> Option<Value> {
    Some(json!({
        "isApprovalRequired": true, "isApprovalRequiredForExtension": extensions,
        "isRequestorJustificationRequired": true, "approvalMode": mode, "approvalStages": stages,
    }))
}

/// The lab after Alice's activation: Owner at the production subscription needs Kenji's approval
/// (or, when `setting` gives one for the demo lab, that whole approval setting, Kenji first),
/// Alice is eligible there and has asked over ARM.
struct Waiting {
    lab: Lab,
    alice: String,
    kenji: String,
    /// The activation's `approvalId`.
    approval: String,
}

fn alice_waits(setting: impl FnOnce(&mut Lab) -> Option<Value>) -> Waiting {
    let mut lab = Lab::demo_on_file();
    let (alice, kenji) = (lab.user_id("alice"), lab.user_id("kenji"));
    let admin = lab.admin.clone();
    let setting = setting(&mut lab);
    let change = PolicyChange {
        require_approval: Some(true),
        approvers: Some(vec![kenji.clone()]),
        ..Default::default()
    };
    let patches: Vec<(String, Value)> = setting
        .into_iter()
        .map(|s| ("Approval_EndUser_Assignment".to_string(), json!({"setting": s})))
        .collect();
    lab.engine.change_azure_policy(&admin, PROD, OWNER, &change, &patches).unwrap();
    let owner = format!("{PROD}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}");
    let eligibility = json!({"properties": {
        "principalId": alice, "roleDefinitionId": owner, "requestType": "AdminAssign",
        "scheduleInfo": {"expiration": {"type": "AfterDuration", "duration": "P90D"}},
        "justification": "Platform on-call",
    }});
    let (status, e) = put(
        &mut lab,
        &admin,
        &request_path(PROD, "roleEligibilityScheduleRequests", ELIGIBILITY),
        &eligibility,
    );
    assert_eq!(status, 201, "{e:#}");
    let activation = json!({"properties": {
        "principalId": alice, "roleDefinitionId": owner, "requestType": "SelfActivate",
        "scheduleInfo": {"expiration": {"type": "AfterDuration", "duration": "PT2H"}},
        "justification": "CHG-2042: upgrade the production cluster",
    }});
    let path = request_path(PROD, "roleAssignmentScheduleRequests", ACTIVATION);
    let (status, a) = put(&mut lab, &session(&alice), &path, &activation);
    assert_eq!(status, 201, "{a:#}");
    assert_eq!(a["properties"]["status"], "PendingApproval", "{a:#}");
    let approval = a["properties"]["approvalId"].as_str().expect("an approvalId").to_string();
    Waiting { lab, alice, kenji, approval }
}

impl Waiting {
    /// The activation's status, read back over ARM.
    fn status(&mut self) -> String {
        let path = request_path(PROD, "roleAssignmentScheduleRequests", ACTIVATION);
        let admin = self.lab.admin.caller.clone();
        get(&mut self.lab, &admin, &path)["properties"]["status"].as_str().unwrap_or_default().to_string()
    }

    /// Alice's Owner instances at the production subscription.
    fn instances(&mut self) -> usize {
        let path = format!(
            "{PROD}/providers/Microsoft.Authorization/roleAssignmentScheduleInstances?api-version=2020-10-01&$filter=assignedTo('{}')",
            self.alice
        );
        let admin = self.lab.admin.caller.clone();
        get(&mut self.lab, &admin, &path)["value"].as_array().map_or(0, Vec::len)
    }

    /// `who` PATCHes stage `stage` of the approval with `body`.
    fn decide(&mut self, who: &str, stage: &str, body: &Value) -> (u16, Value) {
        let path = approvals("", &format!("/{}/stages/{stage}", self.approval), "");
        call(&mut self.lab, who, "PATCH", &path, Some(&body.to_string()))
    }

    /// The id of stage `n` (1-based), as Kenji reads it.
    fn stage(&mut self, n: usize) -> String {
        let kenji = self.kenji.clone();
        let path = approvals("", &format!("/{}/stages", self.approval), "");
        get(&mut self.lab, &kenji, &path)["value"][n - 1]["name"].as_str().expect("a stage").to_string()
    }
}

#[test]
fn the_approver_lists_reads_and_approves_a_stage_and_the_activation_takes_effect() {
    let mut w = alice_waits(|_| None);
    let (kenji, id) = (w.kenji.clone(), w.approval.clone());
    let all = listed(&mut w.lab, &kenji, "", "");
    assert_eq!(all.len(), 1, "{all:#?}");
    let one = &all[0];
    assert_eq!(one["id"], format!("/providers/Microsoft.Authorization/roleAssignmentApprovals/{id}"));
    assert_eq!(
        (one["name"].as_str(), one["type"].as_str()),
        (Some(id.as_str()), Some("Microsoft.Authorization/roleAssignmentApprovals"))
    );
    let stage = &one["properties"]["stages"][0];
    assert_eq!(stage["properties"]["status"], "InProgress");
    assert_eq!(stage["properties"]["assignedToMe"], true);
    assert_eq!(stage["properties"]["reviewResult"], "NotReviewed");
    assert_eq!(stage["properties"]["reviewedBy"], Value::Null);
    assert_eq!(stage["type"], "Microsoft.Authorization/roleAssignmentApprovals/stages");

    // Under the subscription: ids under it; beside it: nothing.
    let at_prod = listed(&mut w.lab, &kenji, PROD, "&$filter=asApprover()");
    assert_eq!(at_prod.len(), 1);
    assert!(s(&at_prod[0]["id"]).starts_with(&format!("{PROD}/providers/")), "{:#}", at_prod[0]);
    assert!(listed(&mut w.lab, &kenji, DEV_SUB, "").is_empty(), "a sibling subscription has none");
    refused(
        &mut w.lab,
        &kenji,
        "GET",
        &approvals(DEV_SUB, &format!("/{id}"), ""),
        None,
        (404, "ResourceNotFound"),
    );

    // One approval, its stages, one stage: the same stage each time.
    let read = get(&mut w.lab, &kenji, &approvals(PROD, &format!("/{id}"), ""));
    assert_eq!(read["properties"]["stages"][0]["name"], stage["name"]);
    let stage_id = w.stage(1);
    let alone = get(&mut w.lab, &kenji, &approvals("", &format!("/{id}/stages/{stage_id}"), ""));
    assert_eq!(&alone, stage);
    // Microsoft's sample takes the approval id from the request's name: that works too.
    let by_name = get(&mut w.lab, &kenji, &approvals("", &format!("/{ACTIVATION}"), ""));
    assert_eq!(by_name["name"], id.as_str());

    assert_eq!(w.instances(), 0, "nothing in effect while it waits");
    let body = json!({"reviewResult": "Approve", "justification": "CHG-2042 approved by the change board"});
    let (status, decided) = w.decide(&kenji, &stage_id, &body);
    assert_eq!(status, 200, "{decided:#}");
    let p = &decided["properties"];
    assert_eq!((p["status"].as_str(), p["reviewResult"].as_str()), (Some("Completed"), Some("Approve")));
    assert_eq!(p["assignedToMe"], true, "as in the spec's example of a decided stage");
    assert_eq!(p["justification"], "CHG-2042 approved by the change board");
    assert_eq!(
        p["reviewedBy"],
        json!({"principalId": kenji, "principalType": "user", "principalName": "Kenji Sato",
               "userPrincipalName": "kenji@contoso.example"})
    );
    assert!(p["reviewedDateTime"].as_str().is_some_and(|t| t.ends_with('Z')), "{p:#}");
    assert_eq!(w.status(), "Provisioned");
    assert_eq!(w.instances(), 1, "Alice is Owner of the production subscription");

    // The first decision wins; a second is refused and changes nothing.
    let before = w.lab.dump();
    let again = json!({"reviewResult": "Deny", "justification": "changed my mind"}).to_string();
    refused(
        &mut w.lab,
        &kenji,
        "PUT",
        &approvals("", &format!("/{id}/stages/{stage_id}"), ""),
        Some(&again),
        (409, "Conflict"),
    );
    assert_eq!(w.lab.dump(), before);
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// A PUT with the body of the spec's examples (`properties`, with read-only properties echoed
/// back) at the spec's first spelling of the path (`steps`) denies: nothing is granted.
#[test]
fn a_denied_stage_ends_the_request_and_grants_nothing() {
    let mut w = alice_waits(|_| None);
    let (kenji, id) = (w.kenji.clone(), w.approval.clone());
    let stage_id = w.stage(1);
    let body = json!({"properties": {
        "displayName": "Stage 1", "status": "Completed", "assignedToMe": true,
        "reviewResult": "Deny", "justification": "Not in a change window",
    }});
    let path = approvals(PROD, &format!("/{id}/steps/{stage_id}"), "");
    let (status, decided) = call(&mut w.lab, &kenji, "PUT", &path, Some(&body.to_string()));
    assert_eq!(status, 200, "{decided:#}");
    assert_eq!(decided["properties"]["reviewResult"], "Deny");
    assert!(s(&decided["id"]).contains("/stages/"), "ids use the newer spelling: {decided:#}");
    assert_eq!(w.status(), "Denied");
    assert_eq!(w.instances(), 0);
}

/// Who sees what (`ARM_APPROVAL_FORBIDDEN_CODE`): the requester and target see their approval but
/// cannot decide it; anyone else sees none and is refused with ARM's 403.
#[test]
fn who_has_no_part_in_an_approval_is_refused_and_the_requester_cannot_decide_it() {
    let mut w = alice_waits(|_| None);
    let (alice, kenji, id) = (w.alice.clone(), w.kenji.clone(), w.approval.clone());
    let lena = w.lab.user_id("lena");
    let stage_id = w.stage(1);
    let stage_path = approvals("", &format!("/{id}/stages/{stage_id}"), "");
    let approve = json!({"reviewResult": "Approve", "justification": "fine"}).to_string();
    let before = w.lab.dump();

    assert!(listed(&mut w.lab, &lena, "", "").is_empty());
    let e = refused(
        &mut w.lab,
        &lena,
        "GET",
        &approvals("", &format!("/{id}"), ""),
        None,
        (403, "AuthorizationFailed"),
    );
    assert!(s(&e["error"]["message"]).contains(&lena), "names the client: {e:#}");
    refused(&mut w.lab, &lena, "GET", &stage_path, None, (403, "AuthorizationFailed"));
    refused(&mut w.lab, &lena, "PATCH", &stage_path, Some(&approve), (403, "AuthorizationFailed"));

    assert_eq!(listed(&mut w.lab, &alice, "", "&$filter=asCreatedBy()").len(), 1);
    assert_eq!(listed(&mut w.lab, &alice, "", "&$filter=asTarget()").len(), 1);
    assert!(listed(&mut w.lab, &alice, "", "&$filter=asApprover()").is_empty());
    assert!(listed(&mut w.lab, &kenji, "", "&$filter=asTarget()").is_empty());
    let mine = get(&mut w.lab, &alice, &stage_path);
    assert_eq!(mine["properties"]["assignedToMe"], false);
    let e = refused(&mut w.lab, &alice, "PATCH", &stage_path, Some(&approve), (403, "AuthorizationFailed"));
    assert!(e.to_string().contains("own requests"), "says why: {e:#}");

    let unknown = "00000000-0000-4000-8000-000000000000";
    let old_version = stage_path.replace(APPROVALS, "api-version=2020-10-01");
    let kenji_refused = [
        ("GET", approvals("", &format!("/{unknown}"), ""), (404, "ResourceNotFound")),
        ("GET", approvals("", &format!("/{id}/stages/{unknown}"), ""), (404, "ResourceNotFound")),
        ("GET", approvals("", "", "&$filter=status eq 'x'"), (400, "InvalidFilter")),
        ("GET", approvals("", &format!("/{id}/decisions"), ""), (400, "InvalidResourceType")),
        ("DELETE", stage_path.clone(), (405, "BadRequest")),
        ("GET", old_version, (400, "InvalidResourceType")),
    ];
    for (method, path, want) in kenji_refused {
        refused(&mut w.lab, &kenji, method, &path, None, want);
    }
    assert_eq!(w.lab.dump(), before, "refusals changed the store");
    assert_eq!(w.status(), "PendingApproval");
}

/// Bodies ARM cannot read, decisions that are not one, and a stage that wants the approver's
/// justification: each refused with ARM's envelope, the store as it was.
#[test]
fn bad_decisions_get_arms_errors_and_change_nothing() {
    let mut w = alice_waits(|lab| setting("SingleStage", vec![stage(&lab.user_id("kenji"), true)], false));
    let (kenji, id) = (w.kenji.clone(), w.approval.clone());
    let stage_id = w.stage(1);
    let path = approvals("", &format!("/{id}/stages/{stage_id}"), "");
    let before = w.lab.dump();
    let long = "x".repeat(501);
    let cases: Vec<(Option<String>, u16, &str)> = vec![
        (None, 400, "InvalidRequestContent"),
        (Some("not json".into()), 400, "InvalidRequestContent"),
        (Some("[]".into()), 400, "InvalidRequestContent"),
        (Some(r#"{"properties": 7}"#.into()), 400, "InvalidRequestContent"),
        (Some("{}".into()), 400, "BadRequest"),
        (Some(r#"{"reviewResult": 1}"#.into()), 400, "InvalidRequestContent"),
        (Some(r#"{"reviewResult": "Maybe"}"#.into()), 400, "BadRequest"),
        (Some(r#"{"reviewResult": "NotReviewed", "justification": "x"}"#.into()), 400, "BadRequest"),
        (Some(r#"{"reviewResult": "Approve", "justification": 7}"#.into()), 400, "InvalidRequestContent"),
        (Some(r#"{"reviewResult": "Approve"}"#.into()), 400, "BadRequest"),
        (Some(r#"{"reviewResult": "Approve", "justification": "  "}"#.into()), 400, "BadRequest"),
        (Some(json!({"reviewResult": "Approve", "justification": long}).to_string()), 400, "BadRequest"),
    ];
    for (body, status, code) in cases {
        let e = refused(&mut w.lab, &kenji, "PATCH", &path, body.as_deref(), (status, code));
        assert!(e["error"].is_object(), "ARM's envelope: {e:#}");
    }
    let e = refused(
        &mut w.lab,
        &kenji,
        "PATCH",
        &path,
        Some(r#"{"reviewResult": "Approve"}"#),
        (400, "BadRequest"),
    );
    assert!(e.to_string().contains("justification"), "names what is missing: {e:#}");
    assert_eq!(w.lab.dump(), before, "refused decisions changed the store");
    let ok = json!({"reviewResult": "approve", "justification": "Reviewed the change"});
    let (status, body) = w.decide(&kenji, &stage_id, &ok);
    assert_eq!(status, 200, "case-insensitive, as the service reads it: {body:#}");
}

/// Two stages in turn: unlike Graph's step API, ARM's stages decide a multi-stage approval, one
/// stage at a time, each by its own approver.
#[test]
fn a_two_stage_approval_is_decided_stage_by_stage() {
    let mut w = alice_waits(|lab| {
        let (kenji, lena) = (lab.user_id("kenji"), lab.user_id("lena"));
        setting("Serial", vec![stage(&kenji, false), stage(&lena, false)], false)
    });
    let (kenji, lena) = (w.kenji.clone(), w.lab.user_id("lena"));
    let id = w.approval.clone();
    let (first, second) = (w.stage(1), w.stage(2));
    let read = get(&mut w.lab, &lena, &approvals("", &format!("/{id}"), ""));
    let states: Vec<(String, bool)> = read["properties"]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| (s(&st["properties"]["status"]), st["properties"]["assignedToMe"] == true))
        .collect();
    assert_eq!(states, [("InProgress".to_string(), false), ("NotStarted".to_string(), true)]);
    let approve = json!({"reviewResult": "Approve", "justification": "ok"});
    let (status, e) = w.decide(&lena, &second, &approve);
    assert_eq!((status, e["error"]["code"].as_str()), (400, Some("BadRequest")), "not started yet: {e:#}");
    assert_eq!(w.decide(&kenji, &first, &approve).0, 200);
    assert_eq!(w.status(), "PendingApproval", "the second stage waits");
    assert_eq!(w.decide(&lena, &second, &approve).0, 200);
    assert_eq!(w.status(), "Provisioned");
}

/// What the approval surface answers parses with the models of the real azure-mgmt-authorization
/// package, `v2021_01_01_preview` (skipped without a Python that has it).
#[test]
fn approvals_and_stages_parse_with_the_real_azure_sdk_models() {
    let Some(python) = crate::arm_router::sdk_python() else {
        eprintln!("skipped: no Python with azure-mgmt-authorization");
        return;
    };
    let mut w = alice_waits(|_| None);
    let (kenji, id) = (w.kenji.clone(), w.approval.clone());
    let stage_id = w.stage(1);
    let list = get(&mut w.lab, &kenji, &approvals(PROD, "", ""));
    let one = get(&mut w.lab, &kenji, &approvals("", &format!("/{id}"), ""));
    let stages = get(&mut w.lab, &kenji, &approvals("", &format!("/{id}/stages"), ""));
    let (_, decided) =
        w.decide(&kenji, &stage_id, &json!({"reviewResult": "Approve", "justification": "ok"}));
    let model = |m: &str, doc: &Value| json!({"model": format!("v2021_01_01_preview.{m}"), "json": doc});
    let docs = vec![
        model("RoleAssignmentApprovalListResult", &list),
        model("RoleAssignmentApproval", &one),
        model("RoleAssignmentApprovalStepListResult", &stages),
        model("RoleAssignmentApprovalStep", &decided),
    ];
    crate::arm_router::check_with_sdk(&python, &docs);
}

/// The command line: Kenji lists what waits for him with `pimlab arm`.
#[test]
fn the_arm_command_lists_an_approval_waiting_for_the_caller() {
    let lab = cli::Lab::demo();
    for line in [
        format!("policy set Owner --scope {PROD} --require-approval true --approver kenji"),
        format!("eligible assign -p alice -r Owner --scope {PROD} --duration P90D -j On-call"),
        format!("--as alice activate -r Owner --scope {PROD} --duration PT2H -j CHG-2042"),
    ] {
        lab.run(&line.split_whitespace().collect::<Vec<_>>()).ok();
    }
    let path = approvals("", "", "&$filter=asApprover()");
    let as_kenji = lab.run(&["--as", "kenji", "arm", "GET", &path]);
    assert_eq!((as_kenji.code, as_kenji.stderr.as_str()), (0, "HTTP 200\n"), "{as_kenji}");
    let stages = &as_kenji.json()["value"][0]["properties"]["stages"];
    assert_eq!(stages[0]["properties"]["status"], "InProgress", "{stages:#}");
    let as_lena = lab.run(&["--as", "lena", "arm", "GET", &path]);
    assert_eq!(as_lena.json()["value"], json!([]), "{as_lena}");
}

/// Microsoft's page on approving Azure resource roles: "Approval for extend and renew requests is
/// currently not supported by the Microsoft ARM API". Such an approval is shown, but deciding it
/// over ARM is refused (`ARM_EXTENSION_APPROVAL_UNSUPPORTED_CODE`), and the store is unchanged.
/// On the way, a cancelled request's stage reads as ARM's enum can say it.
#[test]
fn an_extensions_approval_is_shown_but_not_decided_over_arm() {
    let mut w = alice_waits(|lab| setting("SingleStage", vec![stage(&lab.user_id("kenji"), false)], true));
    let (alice, kenji, activation) = (w.alice.clone(), w.kenji.clone(), w.approval.clone());
    // Alice withdraws her activation first; its stage ended unreviewed (`ARM_CANCELED_STAGE_STATUS`).
    let cancel = format!(
        "{PROD}/providers/Microsoft.Authorization/roleAssignmentScheduleRequests/{ACTIVATION}/cancel?api-version=2020-10-01"
    );
    assert_eq!(call(&mut w.lab, &alice, "POST", &cancel, None).0, 200);
    let withdrawn = get(&mut w.lab, &alice, &approvals("", &format!("/{activation}/stages"), ""));
    let p = &withdrawn["value"][0]["properties"];
    assert_eq!((p["status"].as_str(), p["reviewResult"].as_str()), (Some("Completed"), Some("NotReviewed")));
    let owner = format!("{PROD}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}");
    let body = |request_type: &str, duration: &str| {
        json!({"properties": {
            "principalId": alice, "roleDefinitionId": owner, "requestType": request_type,
            "scheduleInfo": {"expiration": {"type": "AfterDuration", "duration": duration}},
            "justification": "Quarter-end close",
        }})
    };
    let admin = w.lab.admin.clone();
    let assign = request_path(PROD, "roleAssignmentScheduleRequests", "4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a7b");
    let (status, a) = put(&mut w.lab, &admin, &assign, &body("AdminAssign", "P30D"));
    assert_eq!(status, 201, "{a:#}");
    let extend = request_path(PROD, "roleAssignmentScheduleRequests", "5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c");
    let (status, x) = put(&mut w.lab, &session(&alice), &extend, &body("SelfExtend", "P60D"));
    assert_eq!((status, x["properties"]["status"].as_str()), (201, Some("PendingApproval")), "{x:#}");
    let id = s(&x["properties"]["approvalId"]);
    let read = get(&mut w.lab, &kenji, &approvals("", &format!("/{id}"), ""));
    let stage = s(&read["properties"]["stages"][0]["name"]);
    let before = w.lab.dump();
    let approve = json!({"reviewResult": "Approve", "justification": "ok"}).to_string();
    let e = refused(
        &mut w.lab,
        &kenji,
        "PATCH",
        &approvals("", &format!("/{id}/stages/{stage}"), ""),
        Some(&approve),
        (400, "BadRequest"),
    );
    assert!(s(&e["error"]["message"]).contains("Azure Resource Manager"), "{e:#}");
    assert_eq!(w.lab.dump(), before);
}
