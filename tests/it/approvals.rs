//! Issue 3 end to end: approvals (single-stage, serial, parallel, escalation, timeout, default
//! approvers, self-service extension and renewal), the notification outbox, the audit trail and
//! `request explain`, through the public surfaces: the Graph router
//! (`pimlab::api::graph::handle`), the `pimlab` binary, and the engine API only where neither can
//! reach (moving the simulated clock, reading the outbox in Graph tests).
//!
//! Seed and clock are pinned: Graph tests start from `InitOptions { demo: true, ..default() }`
//! (seed 1, 2025-01-06T09:00:00Z) in a file-backed store in a temporary directory, so that
//! `harness::store::logical_dump` can prove a refused decision changed nothing; CLI tests run
//! `pimlab init --demo --seed 7 --at 2025-01-06T09:00:00Z` in their own temporary directory.
//!
//! Tests that fail because pimlab disagrees with issue 3, the README or the references are kept

use pimlab::model::approval::{ApprovalChannel, Decision};
use pimlab::model::{FidelitySwitch, IsoDuration};
use serde_json::{Value, json};

use crate::harness::graph::{self, APPROVALS, AS_APPROVER, ASSIGN_INSTANCES, ASSIGN_REQS, AUDITS};
use crate::harness::graph::{ELIG_REQS, ELIG_SCHEDULES, assert_error, assert_names, session};
use crate::harness::{AT, GLOBAL_ADMIN, GLOBAL_READER, PRIV_ROLE_ADMIN, SECURITY_ADMIN, cli, ids, s};

// ---------------------------------------------------------------------------------------------
// Graph: the approval workflow's calls, over the shared harness (a demo tenant in a store file)
// ---------------------------------------------------------------------------------------------

impl graph::Lab {
    /// Turns on a fidelity switch that lets the Graph approval step API decide what the service's
    /// cannot (multi-stage approvals, extensions' approvals): for tests of the workflow's
    /// mechanics, which decide through Graph.
    fn allow_through_graph(&mut self, switch: FidelitySwitch) {
        let admin = self.admin.clone();
        self.engine.set_fidelity(&admin, switch, true).expect("a switch turns on");
    }

    /// Two stages in turn: `first` approves, then `second`.
    fn serial_approval(&mut self, role: &str, first: &str, second: &str) {
        let stages = vec![stage(json!([single_user(first)])), stage(json!([single_user(second)]))];
        self.approval(role, setting("Serial", stages));
    }

    /// Sets the approval rule of `role`.
    #[track_caller]
    fn approval(&mut self, role: &str, setting: Value) {
        let body = json!({
            "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyApprovalRule",
            "id": "Approval_EndUser_Assignment",
            "setting": setting,
        });
        self.set_rule(role, "Approval_EndUser_Assignment", &body);
    }

    /// Sets one notification rule of `role`.
    #[track_caller]
    fn notification_rule(&mut self, role: &str, rule: &str, level: &str, defaults: bool, extra: &[&str]) {
        let body = json!({
            "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyNotificationRule",
            "id": rule,
            "notificationType": "Email",
            "notificationLevel": level,
            "isDefaultRecipientsEnabled": defaults,
            "notificationRecipients": extra,
        });
        self.set_rule(role, rule, &body);
    }

    /// `adminAssign` of `role` to `principal` at the tenant's root for 30 days, by the tenant's
    /// administrator, into `collection` (eligibility or assignment requests); must give 201.
    #[track_caller]
    fn admin_assign_for_30_days(
        &mut self,
        collection: &str,
        principal: &str,
        role: &str,
        why: &str,
    ) -> Value {
        let body = json!({
            "action": "adminAssign", "principalId": principal, "roleDefinitionId": role,
            "directoryScopeId": "/", "justification": why,
            "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "P30D"}},
        });
        let admin = self.admin.clone();
        let (status, q) = self.send(&admin, "POST", collection, &body);
        assert_eq!(status, 201, "{q:#}");
        q
    }

    /// `selfActivate` of `role` for `who` (PT2H, with a justification).
    fn activate(&mut self, who: &str, role: &str) -> (u16, Value) {
        self.activate_with(who, role, "PT2H", Some("Investigate alert 7731"))
    }

    fn activate_with(
        &mut self,
        who: &str,
        role: &str,
        duration: &str,
        justification: Option<&str>,
    ) -> (u16, Value) {
        let mut body = graph::request("selfActivate", who, role, graph::after(duration));
        match justification {
            Some(j) => body["justification"] = j.into(),
            None => _ = body.as_object_mut().expect("a body").remove("justification"),
        }
        self.send(&session(who), "POST", ASSIGN_REQS, &body)
    }

    /// An activation that must wait for approval; returns the request id.
    #[track_caller]
    fn pending_activation(&mut self, who: &str, role: &str) -> String {
        let (status, q) = self.activate(who, role);
        assert_eq!(status, 201, "{q:#}");
        assert_eq!(q["status"], "PendingApproval", "{q:#}");
        s(&q["id"])
    }

    /// The beta approval as `who` sees it.
    #[track_caller]
    fn approval_as(&mut self, who: &str, id: &str) -> Value {
        self.get_as(&session(who), &format!("{APPROVALS}/{id}"))
    }

    /// The ids of an approval's steps, in stage order.
    #[track_caller]
    fn step_ids(&mut self, id: &str) -> Vec<String> {
        let a = self.get(&format!("{APPROVALS}/{id}"));
        a["steps"].as_array().expect("steps").iter().map(|st| s(&st["id"])).collect()
    }

    /// PATCHes a step as `who`.
    fn review(&mut self, who: &str, id: &str, step: &str, body: &Value) -> (u16, Value) {
        self.send(&session(who), "PATCH", &format!("{APPROVALS}/{id}/steps/{step}"), body)
    }

    /// `{"reviewResult": result, "justification": ...}` on the step of `stage` (1-based); must give 204.
    #[track_caller]
    fn decide(&mut self, who: &str, id: &str, stage: usize, result: &str) {
        let step = self.step_ids(id)[stage - 1].clone();
        let got = self.review(who, id, &step, &json!({"reviewResult": result, "justification": "Checked"}));
        assert_eq!(got.0, 204, "{result} by {who}: {:#}", got.1);
        assert_eq!(got.1, Value::Null, "204 has no body");
    }

    #[track_caller]
    fn request(&mut self, id: &str) -> Value {
        self.get(&format!("{ASSIGN_REQS}/{id}"))
    }

    /// Live activation instances of `principal`.
    #[track_caller]
    fn instances_of(&mut self, principal: &str) -> Vec<Value> {
        self.list(&format!("{ASSIGN_INSTANCES}?$filter=principalId eq '{principal}'"))
    }

    /// The notification outbox (Graph has no endpoint for it), oldest first.
    fn outbox(&mut self) -> Vec<Mail> {
        self.engine
            .notifications(None, None)
            .expect("notifications")
            .into_iter()
            .map(|n| Mail {
                event: n.event,
                rule: n.rule_id.unwrap_or_default(),
                recipient_type: n.recipient_type,
                ids: n.recipient_ids,
                to: n.recipients,
                request: n.request_id,
                subject: n.subject,
            })
            .collect()
    }

    /// The outbox messages written after the first `skip`.
    fn mail_since(&mut self, skip: usize) -> Vec<Mail> {
        self.outbox().into_iter().skip(skip).collect()
    }

    /// Every `directoryAudit` row, oldest first.
    fn audit(&mut self) -> Vec<Value> {
        let mut rows = self.list(AUDITS);
        rows.reverse();
        rows
    }
}

#[derive(Debug, Clone)]
#[allow(dead_code)]
struct Mail {
    event: String,
    rule: String,
    recipient_type: String,
    ids: Vec<String>,
    to: Vec<String>,
    request: Option<String>,
    subject: String,
}

fn single_user(id: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.singleUser", "userId": id, "description": "approver"})
}

fn group_members(id: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.groupMembers", "groupId": id, "description": "approvers"})
}

/// One approval stage.
fn stage(primary: Value) -> Value {
    json!({
        "approvalStageTimeOutInDays": 1,
        "isApproverJustificationRequired": true,
        "escalationTimeInMinutes": 0,
        "isEscalationEnabled": false,
        "primaryApprovers": primary,
        "escalationApprovers": [],
    })
}

/// An approval setting with approval required.
fn setting(mode: &str, stages: Vec<Value>) -> Value {
    json!({
        "isApprovalRequired": true,
        "isApprovalRequiredForExtension": false,
        "isRequestorJustificationRequired": true,
        "approvalMode": mode,
        "approvalStages": stages,
    })
}

/// The `reviewResult` and `status` of each step.
#[track_caller]
fn step_states(approval: &Value) -> Vec<(String, String)> {
    approval["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|st| (s(&st["reviewResult"]), s(&st["status"])))
        .collect()
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

// ---------------------------------------------------------------------------------------------
// The command line, over the shared harness
// ---------------------------------------------------------------------------------------------

impl cli::Lab {
    /// Security Administrator needs the PIM Approvers group's approval; Chloe (eligible) asks for
    /// two hours. Returns the request id.
    fn chloe_waits_for_approval(&self) -> String {
        self.run(&[
            "policy",
            "set",
            "Security Administrator",
            "--require-approval",
            "true",
            "--approver",
            "PIM Approvers",
        ])
        .ok();
        let run = self
            .run(&[
                "--json",
                "--as",
                "chloe",
                "activate",
                "--role",
                "Security Administrator",
                "--duration",
                "2h",
                "--justification",
                "Investigate alert 7731",
            ])
            .ok();
        assert_eq!(run.json()["status"], "PendingApproval", "{run}");
        s(&run.json()["id"])
    }
}

// =============================================================================================
// 1. Approvals through Graph
// =============================================================================================

#[test]
fn an_activation_needing_approval_waits_with_the_request_id_as_approval_id_and_one_step() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    let q = g.request(&id);
    assert_eq!(q["approvalId"], id);
    assert_eq!(q["completedDateTime"], Value::Null);
    assert_eq!(q["scheduleInfo"]["startDateTime"], Value::Null, "no start until approved");
    assert!(g.instances_of(&chloe).iter().all(|i| i["roleDefinitionId"] != SECURITY_ADMIN));

    let a = g.approval_as(&kenji, &id);
    assert_eq!(a["id"], id, "the approval id is the request id");
    assert!(s(&a["@odata.context"]).starts_with("https://graph.microsoft.com/beta/$metadata#"), "{a:#}");
    let steps = a["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{a:#}");
    assert_eq!(steps[0]["reviewResult"], "NotReviewed");
    assert_eq!(steps[0]["status"], "InProgress");
    assert_eq!(steps[0]["assignedToMe"], true, "kenji is the approver");
    assert_eq!(steps[0]["reviewedBy"], Value::Null);
    assert_eq!(steps[0]["reviewedDateTime"], Value::Null);
    assert_eq!(g.approval_as(&chloe, &id)["steps"][0]["assignedToMe"], false, "the requester");
    let ben = g.user_id("ben");
    assert_eq!(g.approval_as(&ben, &id)["steps"][0]["assignedToMe"], false, "a bystander");
    // The steps collection and one step.
    let listed = g.list_as(&session(&kenji), &format!("{APPROVALS}/{id}/steps"));
    assert_eq!(ids(&listed), g.step_ids(&id));
    let first = g.step_ids(&id)[0].clone();
    let one = g.get_as(&session(&kenji), &format!("{APPROVALS}/{id}/steps/{first}"));
    assert_eq!(one["status"], "InProgress");
}

#[test]
fn approval_starts_the_activation_at_approval_time_for_the_duration_asked() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    let id = g.pending_activation(&chloe, SECURITY_ADMIN); // 09:00, PT2H
    g.advance("PT1H");
    g.decide(&kenji, &id, 1, "Approve");

    let q = g.request(&id);
    assert_eq!(q["status"], "Provisioned");
    assert_eq!(q["scheduleInfo"]["startDateTime"], "2025-01-06T10:00:00Z");
    assert_eq!(q["scheduleInfo"]["expiration"]["duration"], "PT2H");
    assert_eq!(q["completedDateTime"], "2025-01-06T10:00:00Z");
    assert_eq!(q["targetScheduleId"], id);
    let inst: Vec<Value> =
        g.instances_of(&chloe).into_iter().filter(|i| i["roleDefinitionId"] == SECURITY_ADMIN).collect();
    assert_eq!(inst.len(), 1, "{inst:#?}");
    assert_eq!(inst[0]["startDateTime"], "2025-01-06T10:00:00Z");
    assert_eq!(inst[0]["endDateTime"], "2025-01-06T12:00:00Z");
    assert_eq!(inst[0]["assignmentType"], "Activated");

    let a = g.approval_as(&kenji, &id);
    let st = &a["steps"][0];
    assert_eq!(st["reviewResult"], "Approved", "written Approve, read back Approved");
    assert_eq!(st["status"], "Completed");
    assert_eq!(st["assignedToMe"], false, "nothing is left to decide");
    assert_eq!(st["justification"], "Checked");
    assert_eq!(st["reviewedBy"]["id"], kenji);
    assert_eq!(st["reviewedDateTime"], "2025-01-06T10:00:00Z");

    // It ends when asked: at 12:00.
    g.advance("PT2H");
    assert!(g.instances_of(&chloe).iter().all(|i| i["roleDefinitionId"] != SECURITY_ADMIN));
}

#[test]
fn an_approved_activation_with_a_later_start_is_granted_then_provisioned() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    let body = json!({
        "action": "selfActivate", "principalId": chloe, "roleDefinitionId": SECURITY_ADMIN,
        "directoryScopeId": "/", "justification": "Planned change",
        "scheduleInfo": {"startDateTime": "2025-01-06T15:00:00Z",
                         "expiration": {"type": "afterDuration", "duration": "PT1H"}},
    });
    let (status, q) = g.send(&session(&chloe), "POST", ASSIGN_REQS, &body);
    assert_eq!(status, 201, "{q:#}");
    assert_eq!(q["status"], "PendingApproval");
    let id = s(&q["id"]);
    g.advance("PT1H");
    g.decide(&kenji, &id, 1, "Approve");
    let q = g.request(&id);
    assert_eq!(q["status"], "Granted", "{q:#}");
    assert_eq!(q["scheduleInfo"]["startDateTime"], "2025-01-06T15:00:00Z");
    g.advance("PT5H");
    assert_eq!(g.request(&id)["status"], "Provisioned");
    let inst: Vec<Value> =
        g.instances_of(&chloe).into_iter().filter(|i| i["roleDefinitionId"] == SECURITY_ADMIN).collect();
    assert_eq!(inst.len(), 1);
    assert_eq!(inst[0]["endDateTime"], "2025-01-06T16:00:00Z");
}

#[test]
fn a_deny_ends_the_request_as_denied_with_nothing_provisioned() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    g.decide(&kenji, &id, 1, "Deny");
    let q = g.request(&id);
    assert_eq!(q["status"], "Denied");
    assert!(g.instances_of(&chloe).iter().all(|i| i["roleDefinitionId"] != SECURITY_ADMIN));
    let st = &g.approval_as(&kenji, &id)["steps"][0];
    assert_eq!(st["reviewResult"], "Denied");
    assert_eq!(st["status"], "Completed");
    // Denied is final: Chloe may ask again.
    let again = g.pending_activation(&chloe, SECURITY_ADMIN);
    assert_ne!(again, id);
}

#[test]
fn serial_stage_two_starts_only_after_stage_one_approves_and_then_provisions() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    let dev = g.user_id("dev");
    g.serial_approval(SECURITY_ADMIN, &kenji, &dev);
    g.allow_through_graph(FidelitySwitch::GraphMultiStageApprovals);
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    let a = g.approval_as(&dev, &id);
    assert_eq!(a["steps"].as_array().unwrap().len(), 2, "{a:#}");
    assert_eq!(step_states(&a)[0], pair("NotReviewed", "InProgress"));
    assert_ne!(a["steps"][1]["status"], "InProgress", "stage 2 waits for stage 1: {a:#}");
    assert_eq!(a["steps"][1]["assignedToMe"], false, "dev cannot decide yet");
    // Dev (stage 2) cannot act on stage 1, nor on stage 2 before it starts.
    let steps = g.step_ids(&id);
    let body = json!({"reviewResult": "Approve", "justification": "early"});
    assert_error(&g.review(&dev, &id, &steps[0], &body), 403, "UnauthorizedAccessException");
    let early = g.review(&dev, &id, &steps[1], &body);
    assert!(early.0 >= 400, "stage 2 decided before it started: {:#}", early.1);
    // Nor do the pending lists offer it to dev yet.
    assert!(g.list_as(&session(&dev), &format!("{APPROVALS}/{AS_APPROVER}")).is_empty());

    g.advance("PT10M");
    g.decide(&kenji, &id, 1, "Approve");
    assert_eq!(g.request(&id)["status"], "PendingApproval", "one stage is not enough");
    let a = g.approval_as(&dev, &id);
    assert_eq!(step_states(&a), [pair("Approved", "Completed"), pair("NotReviewed", "InProgress")]);
    assert_eq!(a["steps"][1]["assignedToMe"], true);
    assert_eq!(ids(&g.list_as(&session(&dev), &format!("{APPROVALS}/{AS_APPROVER}"))), [id.as_str()]);
    assert!(g.list_as(&session(&kenji), &format!("{APPROVALS}/{AS_APPROVER}")).is_empty());

    g.advance("PT10M");
    g.decide(&dev, &id, 2, "Approve");
    let q = g.request(&id);
    assert_eq!(q["status"], "Provisioned");
    assert_eq!(q["scheduleInfo"]["startDateTime"], "2025-01-06T09:20:00Z", "starts at the last approval");
}

#[test]
fn serial_a_deny_in_stage_two_ends_the_request() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    let dev = g.user_id("dev");
    g.serial_approval(SECURITY_ADMIN, &kenji, &dev);
    g.allow_through_graph(FidelitySwitch::GraphMultiStageApprovals);
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    g.decide(&kenji, &id, 1, "Approve");
    g.decide(&dev, &id, 2, "Deny");
    assert_eq!(g.request(&id)["status"], "Denied");
    let a = g.approval_as(&dev, &id);
    assert_eq!(step_states(&a), [pair("Approved", "Completed"), pair("Denied", "Completed")]);
    assert!(g.instances_of(&chloe).iter().all(|i| i["roleDefinitionId"] != SECURITY_ADMIN));
}

#[test]
fn serial_a_deny_in_stage_one_ends_it_and_stage_two_never_starts() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    let dev = g.user_id("dev");
    g.serial_approval(SECURITY_ADMIN, &kenji, &dev);
    g.allow_through_graph(FidelitySwitch::GraphMultiStageApprovals);
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    let before = g.outbox().len();
    g.decide(&kenji, &id, 1, "Deny");
    assert_eq!(g.request(&id)["status"], "Denied");
    let a = g.approval_as(&dev, &id);
    assert_eq!(a["steps"][0]["reviewResult"], "Denied");
    assert_eq!(a["steps"][1]["reviewResult"], "NotReviewed");
    assert_ne!(a["steps"][1]["status"], "InProgress");
    assert!(
        g.mail_since(before).iter().all(|m| m.event != "ApprovalRequested"),
        "stage 2's approvers are never asked"
    );
}

#[test]
fn parallel_stages_start_together_and_all_must_approve() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    let dev = g.user_id("dev");
    g.approval(
        SECURITY_ADMIN,
        setting("Parallel", vec![stage(json!([single_user(&kenji)])), stage(json!([single_user(&dev)]))]),
    );
    g.allow_through_graph(FidelitySwitch::GraphMultiStageApprovals);
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    let a = g.approval_as(&dev, &id);
    assert_eq!(step_states(&a), [pair("NotReviewed", "InProgress"), pair("NotReviewed", "InProgress")]);
    assert_eq!(a["steps"][0]["assignedToMe"], false);
    assert_eq!(a["steps"][1]["assignedToMe"], true);
    // Both approvers are asked at once.
    let asked: Vec<Vec<String>> =
        g.outbox().into_iter().filter(|m| m.event == "ApprovalRequested").map(|m| m.ids).collect();
    assert_eq!(asked, [vec![kenji.clone()], vec![dev.clone()]]);

    g.decide(&dev, &id, 2, "Approve");
    assert_eq!(g.request(&id)["status"], "PendingApproval");
    g.decide(&kenji, &id, 1, "Approve");
    assert_eq!(g.request(&id)["status"], "Provisioned");
}

#[test]
fn parallel_a_single_deny_ends_the_request() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    let dev = g.user_id("dev");
    g.approval(
        SECURITY_ADMIN,
        setting("Parallel", vec![stage(json!([single_user(&kenji)])), stage(json!([single_user(&dev)]))]),
    );
    g.allow_through_graph(FidelitySwitch::GraphMultiStageApprovals);
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    g.decide(&kenji, &id, 1, "Approve");
    g.decide(&dev, &id, 2, "Deny");
    assert_eq!(g.request(&id)["status"], "Denied");
    assert!(g.instances_of(&chloe).iter().all(|i| i["roleDefinitionId"] != SECURITY_ADMIN));
}

#[test]
fn group_approvers_are_the_groups_members_and_any_one_of_them_decides() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let approvers = g.group_id("PIM Approvers"); // alice, dev, kenji
    let (alice, dev, kenji, ben) =
        (g.user_id("alice"), g.user_id("dev"), g.user_id("kenji"), g.user_id("ben"));
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([group_members(&approvers)]))]));
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    for member in [&alice, &dev, &kenji] {
        assert_eq!(g.approval_as(member, &id)["steps"][0]["assignedToMe"], true);
        let mine = g.list_as(&session(member), &format!("{ASSIGN_REQS}/{AS_APPROVER}"));
        assert_eq!(ids(&mine), [id.as_str()]);
    }
    assert_eq!(g.approval_as(&ben, &id)["steps"][0]["assignedToMe"], false);
    assert!(g.list_as(&session(&ben), &format!("{ASSIGN_REQS}/{AS_APPROVER}")).is_empty());
    let asked = g.outbox().into_iter().find(|m| m.event == "ApprovalRequested").expect("approvers asked");
    let mut got = asked.ids.clone();
    got.sort();
    let mut want = vec![alice.clone(), dev.clone(), kenji.clone()];
    want.sort();
    assert_eq!(got, want);
    g.decide(&dev, &id, 1, "Approve");
    assert_eq!(g.request(&id)["status"], "Provisioned");
}

#[test]
fn without_named_approvers_the_privileged_role_and_global_administrators_decide() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    let dev = g.user_id("dev");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([]))]));
    // Dev activates Privileged Role Administrator through Tier-0 Admins (no approval needed there).
    let (status, q) = g.activate(&dev, PRIV_ROLE_ADMIN);
    assert_eq!((status, s(&q["status"])), (201, "Provisioned".to_string()), "{q:#}");

    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    let admin = g.admin.caller.clone();
    assert_eq!(g.approval_as(&admin, &id)["steps"][0]["assignedToMe"], true, "Global Administrator");
    assert_eq!(g.approval_as(&dev, &id)["steps"][0]["assignedToMe"], true, "Privileged Role Administrator");
    assert_eq!(g.approval_as(&kenji, &id)["steps"][0]["assignedToMe"], false);
    let mine = g.list(&format!("{ASSIGN_REQS}/{AS_APPROVER}?$filter=status eq 'PendingApproval'"));
    assert_eq!(ids(&mine), [id.as_str()]);
    let step = g.step_ids(&id)[0].clone();
    let body = json!({"reviewResult": "Approve", "justification": "ok"});
    assert_error(&g.review(&kenji, &id, &step, &body), 403, "UnauthorizedAccessException");
    let asked = g.outbox().into_iter().find(|m| m.event == "ApprovalRequested").expect("asked");
    assert!(asked.ids.contains(&admin) && asked.ids.contains(&dev), "{asked:?}");
    g.decide(&admin, &id, 1, "Approve");
    assert_eq!(g.request(&id)["status"], "Provisioned");
}

fn escalating_stage(primary: &str, escalation: &str, minutes: i64) -> Value {
    let mut st = stage(json!([single_user(primary)]));
    st["isEscalationEnabled"] = json!(true);
    st["escalationTimeInMinutes"] = json!(minutes);
    st["escalationApprovers"] = json!([single_user(escalation)]);
    st
}

#[test]
fn escalation_approvers_decide_only_after_the_escalation_time_and_are_told() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let dev = g.user_id("dev");
    let kenji = g.user_id("kenji");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![escalating_stage(&dev, &kenji, 30)]));
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    let step = g.step_ids(&id)[0].clone();
    let body = json!({"reviewResult": "Approve", "justification": "escalated"});
    assert_eq!(g.approval_as(&kenji, &id)["steps"][0]["assignedToMe"], false);
    assert!(g.list_as(&session(&kenji), &format!("{ASSIGN_REQS}/{AS_APPROVER}")).is_empty());

    g.advance("PT29M");
    let before = g.dump();
    assert_error(&g.review(&kenji, &id, &step, &body), 403, "UnauthorizedAccessException");
    assert_eq!(g.dump(), before, "a refused decision changes nothing");
    assert!(g.outbox().iter().all(|m| m.event != "ApprovalEscalated"));

    g.advance("PT1M");
    let told: Vec<Mail> = g.outbox().into_iter().filter(|m| m.event == "ApprovalEscalated").collect();
    assert_eq!(told.len(), 1, "{told:#?}");
    assert_eq!(told[0].ids, [kenji.as_str()]);
    assert_eq!(told[0].recipient_type, "Approver");
    assert_eq!(told[0].rule, "Notification_Approver_EndUser_Assignment");
    assert_eq!(told[0].request.as_deref(), Some(id.as_str()));
    assert_eq!(g.approval_as(&kenji, &id)["steps"][0]["assignedToMe"], true);
    assert_eq!(g.approval_as(&dev, &id)["steps"][0]["assignedToMe"], true, "the primary approver still may");
    let audit = g.audit();
    assert!(audit.iter().any(|a| a["activityDisplayName"] == "Approval request escalated in PIM"));
    g.decide(&kenji, &id, 1, "Approve");
    assert_eq!(g.request(&id)["status"], "Provisioned");
}

#[test]
fn the_approvers_justification_is_required_when_the_stage_says_so() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    let step = g.step_ids(&id)[0].clone();
    let before = g.dump();
    let failures = g.failures();
    for body in
        [json!({"reviewResult": "Approve"}), json!({"reviewResult": "Approve", "justification": "  "})]
    {
        let e = assert_error(&g.review(&kenji, &id, &step, &body), 400, "BadRequest");
        assert_names(&e, "justification");
    }
    assert_eq!(g.dump(), before);
    assert_eq!(g.failures(), failures, "a decision is not a request: no failure row");
    assert_eq!(g.request(&id)["status"], "PendingApproval");

    // Not required: a bare Approve is enough.
    let mut st = stage(json!([single_user(&kenji)]));
    st["isApproverJustificationRequired"] = json!(false);
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![st]));
    let got = g.activate(&chloe, SECURITY_ADMIN);
    assert_error(&got, 400, "PendingRoleAssignmentRequest");
    let (status, _) = g.raw(&session(&chloe), "POST", &format!("{ASSIGN_REQS}/{id}/cancel"), None);
    assert_eq!(status, 204);
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    let step = g.step_ids(&id)[0].clone();
    let got = g.review(&kenji, &id, &step, &json!({"reviewResult": "Approve"}));
    assert_eq!(got.0, 204, "{:#}", got.1);
    assert_eq!(g.request(&id)["status"], "Provisioned");
}

#[test]
fn the_requestors_justification_is_required_by_the_approval_rule_alone() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    // Activation itself needs only MFA; the approval rule asks for the requester's justification.
    g.set_rule(
        SECURITY_ADMIN,
        "Enablement_EndUser_Assignment",
        &json!({
            "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyEnablementRule",
            "id": "Enablement_EndUser_Assignment",
            "enabledRules": ["MultiFactorAuthentication"],
        }),
    );
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    let before = g.dump();
    let failures = g.failures();
    let got = g.activate_with(&chloe, SECURITY_ADMIN, "PT2H", None);
    let e = assert_error(&got, 400, "RoleAssignmentRequestPolicyValidationFailed");
    assert_names(&e, "JustificationRule");
    assert_eq!(g.dump(), before, "a refused request leaves nothing but its audit row");
    assert_eq!(g.failures(), failures + 1, "exactly one failure row");

    // Not required by either rule: accepted without one.
    let mut set = setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]);
    set["isRequestorJustificationRequired"] = json!(false);
    g.approval(SECURITY_ADMIN, set);
    let (status, q) = g.activate_with(&chloe, SECURITY_ADMIN, "PT2H", None);
    assert_eq!(status, 201, "{q:#}");
    assert_eq!(q["status"], "PendingApproval");
}

#[test]
fn a_stage_that_waits_past_its_timeout_ends_timed_out_with_its_step_expired() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    let dev = g.user_id("dev");
    g.serial_approval(SECURITY_ADMIN, &kenji, &dev);
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    g.advance("PT23H59M");
    assert_eq!(g.request(&id)["status"], "PendingApproval", "one day by default");
    let before = g.outbox().len();
    g.advance("PT1M");
    let q = g.request(&id);
    assert_eq!(q["status"], "TimedOut", "{q:#}");
    assert_eq!(q["completedDateTime"], Value::Null, "addendum §2");
    let a = g.approval_as(&kenji, &id);
    assert_eq!(step_states(&a), [pair("NotReviewed", "Expired"), pair("NotReviewed", "Canceled")]);
    assert!(g.instances_of(&chloe).iter().all(|i| i["roleDefinitionId"] != SECURITY_ADMIN));
    let told = g.mail_since(before);
    assert!(
        told.iter().any(|m| m.event == "RequestTimedOut" && m.ids == [chloe.as_str()]),
        "the requester is told: {told:#?}"
    );
    let audit = g.audit();
    let last = audit.iter().rev().find(|a| a["correlationId"] == id).unwrap();
    assert_eq!(last["activityDisplayName"], "Add member to role request timed out (PIM activation)");
    // Too late to decide.
    let step = g.step_ids(&id)[0].clone();
    let snapshot = g.dump();
    let got = g.review(&kenji, &id, &step, &json!({"reviewResult": "Approve", "justification": "late"}));
    assert!(got.0 >= 400, "{:#}", got.1);
    assert_eq!(g.dump(), snapshot);
    // It can be asked again.
    g.pending_activation(&chloe, SECURITY_ADMIN);
}

#[test]
fn the_stage_timeout_follows_approval_stage_time_out_in_days_and_each_stage_has_its_own() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    let dev = g.user_id("dev");
    let mut first = stage(json!([single_user(&kenji)]));
    first["approvalStageTimeOutInDays"] = json!(2);
    g.approval(SECURITY_ADMIN, setting("Serial", vec![first, stage(json!([single_user(&dev)]))]));
    g.allow_through_graph(FidelitySwitch::GraphMultiStageApprovals);
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    g.advance("P1DT12H");
    assert_eq!(g.request(&id)["status"], "PendingApproval");
    g.decide(&kenji, &id, 1, "Approve"); // day 1.5: stage 2 starts, due a day later
    g.advance("PT23H");
    assert_eq!(g.request(&id)["status"], "PendingApproval", "stage 2's day runs from its start");
    g.advance("PT1H");
    assert_eq!(g.request(&id)["status"], "TimedOut");
    assert_eq!(
        step_states(&g.approval_as(&dev, &id)),
        [pair("Approved", "Completed"), pair("NotReviewed", "Expired")]
    );
}

#[test]
fn requesters_cannot_approve_their_own_requests_even_as_configured_approvers() {
    let mut g = graph::Lab::demo_on_file();
    let alice = g.user_id("alice"); // eligible for Global Administrator, and in PIM Approvers
    let approvers = g.group_id("PIM Approvers");
    g.approval(
        GLOBAL_ADMIN,
        setting("SingleStage", vec![stage(json!([group_members(&approvers), single_user(&alice)]))]),
    );
    let id = g.pending_activation(&alice, GLOBAL_ADMIN);
    assert_eq!(g.approval_as(&alice, &id)["steps"][0]["assignedToMe"], false);
    assert!(g.list_as(&session(&alice), &format!("{APPROVALS}/{AS_APPROVER}")).is_empty());
    assert!(g.list_as(&session(&alice), &format!("{ASSIGN_REQS}/{AS_APPROVER}")).is_empty());
    let step = g.step_ids(&id)[0].clone();
    let before = g.dump();
    let failures = g.failures();
    let got = g.review(&alice, &id, &step, &json!({"reviewResult": "Approve", "justification": "me"}));
    assert_error(&got, 403, "UnauthorizedAccessException");
    assert_eq!(g.dump(), before);
    assert_eq!(g.failures(), failures);
    // The approval-requested mail does not go to her either.
    let asked = g.outbox().into_iter().find(|m| m.event == "ApprovalRequested").unwrap();
    assert!(!asked.ids.contains(&alice), "{asked:?}");
}

#[test]
fn a_second_decision_in_a_decided_stage_gets_409_and_changes_nothing() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let approvers = g.group_id("PIM Approvers");
    let (kenji, dev) = (g.user_id("kenji"), g.user_id("dev"));
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([group_members(&approvers)]))]));
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    g.decide(&kenji, &id, 1, "Approve");
    let step = g.step_ids(&id)[0].clone();
    let before = g.dump();
    let failures = g.failures();
    for (who, result) in [(&dev, "Deny"), (&dev, "Approve"), (&kenji, "Deny")] {
        let got = g.review(who, &id, &step, &json!({"reviewResult": result, "justification": "late"}));
        assert_error(&got, 409, "Conflict");
    }
    assert_eq!(g.dump(), before, "the first decision wins and stands");
    assert_eq!(g.failures(), failures);
    assert_eq!(g.request(&id)["status"], "Provisioned");
}

#[test]
fn someone_who_is_not_an_approver_gets_403_and_changes_nothing() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    let ben = g.user_id("ben");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    let step = g.step_ids(&id)[0].clone();
    let before = g.dump();
    let failures = g.failures();
    let admin = g.admin.caller.clone();
    for who in [&ben, &admin] {
        let got = g.review(who, &id, &step, &json!({"reviewResult": "Approve", "justification": "x"}));
        assert_error(&got, 403, "UnauthorizedAccessException");
    }
    assert_eq!(g.dump(), before);
    assert_eq!(g.failures(), failures);
}

#[test]
fn unknown_approvals_and_steps_are_404_and_bad_review_results_are_400() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    let step = g.step_ids(&id)[0].clone();
    let ghost = "00000000-0000-0000-0000-000000000001";
    let body = json!({"reviewResult": "Approve", "justification": "x"});
    let before = g.dump();
    let failures = g.failures();

    assert_error(
        &g.raw(&session(&kenji), "GET", &format!("{APPROVALS}/{ghost}"), None),
        404,
        "ResourceNotFound",
    );
    assert_error(&g.review(&kenji, ghost, &step, &body), 404, "ResourceNotFound");
    let e = assert_error(&g.review(&kenji, &id, ghost, &body), 404, "ResourceNotFound");
    assert_names(&e, ghost);
    assert_error(
        &g.raw(&session(&kenji), "GET", &format!("{APPROVALS}/{id}/steps/{ghost}"), None),
        404,
        "ResourceNotFound",
    );
    assert_eq!(g.dump(), before);
    // A request that needs no approval has no approval object.
    let dev = g.user_id("dev");
    let (status, q) = g.activate(&dev, PRIV_ROLE_ADMIN);
    assert_eq!(status, 201, "{q:#}");
    let no_approval = s(&q["id"]);
    let admin = g.admin.clone();
    assert_error(&g.raw(&admin, "GET", &format!("{APPROVALS}/{no_approval}"), None), 404, "ResourceNotFound");
    let before_bad = g.dump();

    let e = assert_error(
        &g.review(&kenji, &id, &step, &json!({"reviewResult": "Maybe", "justification": "x"})),
        400,
        "BadRequest",
    );
    assert_names(&e, "Maybe");
    assert_names(&e, "reviewResult");
    let e = assert_error(&g.review(&kenji, &id, &step, &json!({"justification": "x"})), 400, "BadRequest");
    assert_names(&e, "reviewResult");
    // Read-back values are not write values.
    assert_error(
        &g.review(&kenji, &id, &step, &json!({"reviewResult": "Approved", "justification": "x"})),
        400,
        "BadRequest",
    );
    // The v1.0 path does not serve directory-role approvals (reference §1.15).
    let v1 = format!("/v1.0/roleManagement/directory/roleAssignmentApprovals/{id}");
    assert_eq!(g.raw(&session(&kenji), "GET", &v1, None).0, 400);
    assert_eq!(g.send(&session(&kenji), "PATCH", &format!("{v1}/steps/{step}"), &body).0, 400);
    assert_eq!(g.dump(), before_bad);
    assert_eq!(g.failures(), failures);
    assert_eq!(g.request(&id)["status"], "PendingApproval");
}

#[test]
fn filter_by_current_user_approver_lists_what_waits_for_the_caller_on_both_collections() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let lena = g.user_id("lena");
    let kenji = g.user_id("kenji");
    let dev = g.user_id("dev");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    g.approval(GLOBAL_READER, setting("SingleStage", vec![stage(json!([single_user(&dev)]))]));
    let for_kenji = g.pending_activation(&chloe, SECURITY_ADMIN);
    let for_dev = g.pending_activation(&lena, GLOBAL_READER);

    let approvals = format!("{APPROVALS}/{AS_APPROVER}");
    let requests = format!("{ASSIGN_REQS}/{AS_APPROVER}?$filter=status eq 'PendingApproval'");
    assert_eq!(ids(&g.list_as(&session(&kenji), &approvals)), [for_kenji.as_str()]);
    assert_eq!(ids(&g.list_as(&session(&dev), &approvals)), [for_dev.as_str()]);
    assert_eq!(ids(&g.list_as(&session(&kenji), &requests)), [for_kenji.as_str()]);
    assert_eq!(ids(&g.list_as(&session(&dev), &requests)), [for_dev.as_str()]);
    let listed = g.list_as(&session(&kenji), &approvals);
    assert_eq!(listed[0]["steps"][0]["assignedToMe"], true);
    for requester in [&chloe, &lena] {
        assert!(g.list_as(&session(requester), &approvals).is_empty());
        assert!(g.list_as(&session(requester), &requests).is_empty());
    }
    // Once decided it no longer waits.
    g.decide(&kenji, &for_kenji, 1, "Approve");
    assert!(g.list_as(&session(&kenji), &approvals).is_empty());
    assert!(g.list_as(&session(&kenji), &requests).is_empty());
    assert_eq!(ids(&g.list_as(&session(&dev), &approvals)), [for_dev]);
}

#[test]
fn cancelling_a_pending_request_cancels_its_steps_and_it_cannot_be_decided_after() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    let dev = g.user_id("dev");
    g.serial_approval(SECURITY_ADMIN, &kenji, &dev);
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    let (status, body) = g.raw(&session(&chloe), "POST", &format!("{ASSIGN_REQS}/{id}/cancel"), None);
    assert_eq!((status, body), (204, Value::Null));
    assert_eq!(g.request(&id)["status"], "Canceled");
    let a = g.approval_as(&kenji, &id);
    assert_eq!(step_states(&a), [pair("NotReviewed", "Canceled"), pair("NotReviewed", "Canceled")]);
    assert_eq!(a["steps"][0]["assignedToMe"], false);
    assert!(g.list_as(&session(&kenji), &format!("{APPROVALS}/{AS_APPROVER}")).is_empty());
    let audit = g.audit();
    let last = audit.iter().rev().find(|a| a["correlationId"] == id).unwrap();
    assert_eq!(last["activityDisplayName"], "Add member to role canceled (PIM activation)");
    let step = g.step_ids(&id)[0].clone();
    let before = g.dump();
    let got = g.review(&kenji, &id, &step, &json!({"reviewResult": "Approve", "justification": "x"}));
    assert!(got.0 >= 400, "{:#}", got.1);
    assert_eq!(g.dump(), before);
    // Nor can it be cancelled twice.
    let again = g.raw(&session(&chloe), "POST", &format!("{ASSIGN_REQS}/{id}/cancel"), None);
    assert_error(&again, 400, "RequestCannotBeCancelled");
}

#[test]
fn approving_after_the_eligibility_was_removed_fails_the_request() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    g.advance("PT10M");
    let admin = g.admin.clone();
    let remove = json!({
        "action": "adminRemove", "principalId": chloe, "roleDefinitionId": SECURITY_ADMIN,
        "directoryScopeId": "/", "justification": "Left the SOC",
    });
    let (status, out) = g.send(&admin, "POST", ELIG_REQS, &remove);
    assert_eq!(status, 201, "{out:#}");
    g.decide(&kenji, &id, 1, "Approve");
    let q = g.request(&id);
    assert_eq!(q["status"], "Failed", "{q:#}");
    assert!(g.instances_of(&chloe).iter().all(|i| i["roleDefinitionId"] != SECURITY_ADMIN));
    let active = g.list(&format!(
        "/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq '{chloe}' and roleDefinitionId eq '{SECURITY_ADMIN}'"
    ));
    assert!(active.is_empty(), "{active:#?}");
}

#[test]
fn approving_after_the_eligibility_was_removed_leaves_the_failure_in_the_audit_trail() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    g.advance("PT10M");
    let admin = g.admin.clone();
    let remove = json!({
        "action": "adminRemove", "principalId": chloe, "roleDefinitionId": SECURITY_ADMIN,
        "directoryScopeId": "/", "justification": "Left the SOC",
    });
    assert_eq!(g.send(&admin, "POST", ELIG_REQS, &remove).0, 201);
    g.decide(&kenji, &id, 1, "Approve");
    assert_eq!(g.request(&id)["status"], "Failed");
    let rows: Vec<Value> = g.audit().into_iter().filter(|a| a["correlationId"] == id).collect();
    assert!(
        rows.iter().any(|a| a["result"] == "failure" || s(&a["activityDisplayName"]).contains("failed")),
        "the audit trail should record that the approved request failed: {rows:#?}"
    );
}

#[test]
fn an_activation_approved_late_does_not_outlive_its_eligibility() {
    let mut g = graph::Lab::demo_on_file();
    let lena = g.user_id("lena"); // Global Reader eligibility ends 2025-01-16T09:00:00Z
    let kenji = g.user_id("kenji");
    g.approval(GLOBAL_READER, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    g.advance("P9DT17H"); // 2025-01-16T02:00:00Z: 02:00 + PT6H fits
    let (status, q) = g.activate_with(&lena, GLOBAL_READER, "PT6H", Some("Quarter close"));
    assert_eq!((status, s(&q["status"])), (201, "PendingApproval".to_string()), "{q:#}");
    let id = s(&q["id"]);
    g.advance("PT3H"); // approved at 05:00: 05:00 + PT6H = 11:00, after the eligibility ends
    g.decide(&kenji, &id, 1, "Approve");
    let q = g.request(&id);
    let inst: Vec<Value> =
        g.instances_of(&lena).into_iter().filter(|i| i["roleDefinitionId"] == GLOBAL_READER).collect();
    match q["status"].as_str() {
        Some("Failed") => assert!(inst.is_empty(), "{inst:#?}"),
        _ => {
            assert_eq!(inst.len(), 1, "{q:#} {inst:#?}");
            let end = s(&inst[0]["endDateTime"]);
            assert!(end.as_str() <= "2025-01-16T09:00:00Z", "activation ends {end}, after its eligibility");
        }
    }
}

#[test]
fn an_activation_approved_after_its_requested_end_is_not_provisioned_backwards() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    let body = json!({
        "action": "selfActivate", "principalId": chloe, "roleDefinitionId": SECURITY_ADMIN,
        "directoryScopeId": "/", "justification": "Short task",
        "scheduleInfo": {"expiration": {"type": "afterDateTime", "endDateTime": "2025-01-06T10:00:00Z"}},
    });
    let (status, q) = g.send(&session(&chloe), "POST", ASSIGN_REQS, &body);
    assert_eq!((status, s(&q["status"])), (201, "PendingApproval".to_string()), "{q:#}");
    let id = s(&q["id"]);
    g.advance("PT2H"); // 11:00, an hour after the end asked for
    g.decide(&kenji, &id, 1, "Approve");
    let q = g.request(&id);
    for i in g.instances_of(&chloe).into_iter().filter(|i| i["roleDefinitionId"] == SECURITY_ADMIN) {
        assert!(
            s(&i["endDateTime"]) > s(&i["startDateTime"]),
            "an activation ending before it starts: {i:#} (request {q:#})"
        );
    }
    assert_ne!(q["status"], "Provisioned", "nothing can be provisioned for a window already over: {q:#}");
}

// ---------------------------------------------------------------------------------------------
// Self-service extension and renewal
// ---------------------------------------------------------------------------------------------

fn self_request(action: &str, who: &str, role: &str) -> Value {
    json!({
        "action": action, "principalId": who, "roleDefinitionId": role,
        "directoryScopeId": "/", "justification": "Quarterly access review continues",
    })
}

#[test]
fn self_extend_waits_for_an_administrator_whose_approval_replaces_the_schedule() {
    let mut g = graph::Lab::demo_on_file();
    let lena = g.user_id("lena"); // Global Reader eligibility for 10 days
    let old = g.list(&format!("{ELIG_SCHEDULES}?$filter=principalId eq '{lena}'"));
    assert_eq!(old.len(), 1);
    assert_eq!(end_of(&old[0]).as_deref(), Some("2025-01-16T09:00:00Z"));
    let (status, q) =
        g.send(&session(&lena), "POST", ELIG_REQS, &self_request("selfExtend", &lena, GLOBAL_READER));
    assert_eq!(status, 201, "{q:#}");
    assert_eq!(q["status"], "PendingAdminDecision");
    let id = s(&q["id"]);
    let asked = g.outbox().into_iter().find(|m| m.event == "ApprovalRequested").expect("admins asked");
    assert_eq!(asked.rule, "Notification_Approver_Admin_Eligibility");
    assert_eq!(asked.ids, [g.admin.caller.as_str()]);

    let admin = g.admin.clone();
    let q = g
        .engine
        .decide(&admin, &id, None, Decision::Approve, Some("Fine"), ApprovalChannel::Portal)
        .expect("administrator approves");
    assert_eq!(q.status.as_str(), "Provisioned");
    let read = g.get(&format!("{ELIG_REQS}/{id}"));
    assert_eq!(read["status"], "Provisioned");
    let new = g.list(&format!("{ELIG_SCHEDULES}?$filter=principalId eq '{lena}'"));
    assert_eq!(new.len(), 1, "{new:#?}");
    assert_ne!(new[0]["id"], old[0]["id"], "a replacement schedule");
    assert_eq!(read["targetScheduleId"], new[0]["id"]);
    let rows: Vec<String> = g
        .audit()
        .into_iter()
        .filter(|a| a["correlationId"] == id)
        .map(|a| s(&a["activityDisplayName"]))
        .collect();
    assert_eq!(rows.len(), 2, "requested, then approved: {rows:?}");
    let told = g.outbox().into_iter().rev().find(|m| m.event == "RequestApproved").expect("told");
    assert_eq!(told.ids, [lena]);
}

/// When a schedule (Graph JSON) ends, as `YYYY-MM-DDTHH:MM:SSZ`; `None` for never.
fn end_of(schedule: &Value) -> Option<String> {
    let info = &schedule["scheduleInfo"];
    let exp = &info["expiration"];
    match exp["type"].as_str() {
        Some("afterDateTime") => Some(s(&exp["endDateTime"])),
        Some("afterDuration") => {
            let start = chrono::DateTime::parse_from_rfc3339(&s(&info["startDateTime"])).expect("start");
            let d = IsoDuration::parse(&s(&exp["duration"])).expect("duration");
            Some((start.with_timezone(&chrono::Utc) + d.as_delta()).format("%Y-%m-%dT%H:%M:%SZ").to_string())
        }
        _ => None,
    }
}

#[test]
fn an_approved_self_extension_ends_later_than_the_schedule_it_extends() {
    let mut g = graph::Lab::demo_on_file();
    let lena = g.user_id("lena"); // ends 2025-01-16T09:00:00Z, asked on day 0
    let (status, q) =
        g.send(&session(&lena), "POST", ELIG_REQS, &self_request("selfExtend", &lena, GLOBAL_READER));
    assert_eq!(status, 201, "{q:#}");
    let admin = g.admin.clone();
    g.engine
        .decide(&admin, &s(&q["id"]), None, Decision::Approve, Some("Fine"), ApprovalChannel::Portal)
        .expect("approve");
    let new = g.list(&format!("{ELIG_SCHEDULES}?$filter=principalId eq '{lena}'"));
    assert_eq!(new.len(), 1, "{new:#?}");
    let end = end_of(&new[0]);
    assert!(
        end.as_deref().is_none_or(|e| e > "2025-01-16T09:00:00Z"),
        "an approved extension must end after the current end 2025-01-16T09:00:00Z, got {end:?}: {new:#?}"
    );
}

#[test]
fn self_extend_denied_by_an_administrator_is_denied_and_the_schedule_stays() {
    let mut g = graph::Lab::demo_on_file();
    let lena = g.user_id("lena");
    let old = ids(&g.list(&format!("{ELIG_SCHEDULES}?$filter=principalId eq '{lena}'")));
    let (_, q) =
        g.send(&session(&lena), "POST", ELIG_REQS, &self_request("selfExtend", &lena, GLOBAL_READER));
    let id = s(&q["id"]);
    // A non-administrator cannot decide it.
    let kenji = g.user_id("kenji");
    let before = g.dump();
    let refused =
        g.engine.decide(&session(&kenji), &id, None, Decision::Approve, Some("x"), ApprovalChannel::Portal);
    assert_eq!(refused.expect_err("not an administrator").status, 403);
    assert_eq!(g.dump(), before);
    let admin = g.admin.clone();
    let q = g
        .engine
        .decide(&admin, &id, None, Decision::Deny, Some("Review finished"), ApprovalChannel::Portal)
        .expect("deny");
    assert_eq!(q.status.as_str(), "Denied");
    assert_eq!(s(&g.get(&format!("{ELIG_REQS}/{id}"))["status"]), "Denied");
    assert_eq!(ids(&g.list(&format!("{ELIG_SCHEDULES}?$filter=principalId eq '{lena}'"))), old);
    let told = g.outbox().into_iter().rev().find(|m| m.event == "RequestDenied").expect("told");
    assert_eq!(told.ids, [lena]);
}

#[test]
fn self_renew_approved_by_an_administrator_restores_the_eligibility() {
    let mut g = graph::Lab::demo_on_file();
    let lena = g.user_id("lena");
    g.advance("P11D"); // expired on day 10
    assert!(g.list(&format!("{ELIG_SCHEDULES}?$filter=principalId eq '{lena}'")).is_empty());
    let (status, q) =
        g.send(&session(&lena), "POST", ELIG_REQS, &self_request("selfRenew", &lena, GLOBAL_READER));
    assert_eq!(status, 201, "{q:#}");
    assert_eq!(q["status"], "PendingAdminDecision");
    let admin = g.admin.clone();
    let q = g
        .engine
        .decide(&admin, &s(&q["id"]), None, Decision::Approve, Some("ok"), ApprovalChannel::Portal)
        .expect("approve");
    assert_eq!(q.status.as_str(), "Provisioned");
    let live = g.list(&format!("{ELIG_SCHEDULES}?$filter=principalId eq '{lena}'"));
    assert_eq!(live.len(), 1, "{live:#?}");
    assert_eq!(live[0]["roleDefinitionId"], GLOBAL_READER);
}

/// A demo lab where Global Reader's extensions need Kenji's approval, and Lena's `selfExtend`
/// waiting for it: (lab, lena, kenji, the request as Graph returned it).
fn self_extend_waiting_for_kenji() -> (graph::Lab, String, String, Value) {
    let mut g = graph::Lab::demo_on_file();
    let lena = g.user_id("lena");
    let kenji = g.user_id("kenji");
    let mut set = setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]);
    set["isApprovalRequired"] = json!(false);
    set["isApprovalRequiredForExtension"] = json!(true);
    g.approval(GLOBAL_READER, set);
    let (status, q) =
        g.send(&session(&lena), "POST", ELIG_REQS, &self_request("selfExtend", &lena, GLOBAL_READER));
    assert_eq!(status, 201, "{q:#}");
    (g, lena, kenji, q)
}

#[test]
fn with_approval_required_for_extension_self_extend_goes_to_the_approvers() {
    let (mut g, lena, kenji, q) = self_extend_waiting_for_kenji();
    g.allow_through_graph(FidelitySwitch::GraphExtensionApprovals);
    assert_eq!(q["status"], "PendingApproval");
    let id = s(&q["id"]);
    assert_eq!(q["approvalId"], id);
    let a = g.approval_as(&kenji, &id);
    assert_eq!(a["steps"][0]["assignedToMe"], true);
    let waiting = g.list_as(&session(&kenji), &format!("{ELIG_REQS}/{AS_APPROVER}"));
    assert_eq!(ids(&waiting), [id.as_str()]);
    assert!(g.list_as(&session(&lena), &format!("{ELIG_REQS}/{AS_APPROVER}")).is_empty());
    // The administrator is not the approver here.
    let admin = g.admin.caller.clone();
    assert_eq!(g.approval_as(&admin, &id)["steps"][0]["assignedToMe"], false);
    g.decide(&kenji, &id, 1, "Approve");
    assert_eq!(s(&g.get(&format!("{ELIG_REQS}/{id}"))["status"]), "Provisioned");

    // Deny through the approvers as well.
    let (mut g, _, kenji, q) = self_extend_waiting_for_kenji();
    g.allow_through_graph(FidelitySwitch::GraphExtensionApprovals);
    let id = s(&q["id"]);
    g.decide(&kenji, &id, 1, "Deny");
    assert_eq!(s(&g.get(&format!("{ELIG_REQS}/{id}"))["status"]), "Denied");
}

// =============================================================================================
// 2. A refused or failed decision leaves no half-written state
// =============================================================================================

#[test]
fn refused_decisions_of_every_kind_leave_the_store_exactly_as_it_was() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    let dev = g.user_id("dev");
    let ben = g.user_id("ben");
    g.serial_approval(SECURITY_ADMIN, &kenji, &dev);
    g.allow_through_graph(FidelitySwitch::GraphMultiStageApprovals);
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    g.decide(&kenji, &id, 1, "Approve");
    let steps = g.step_ids(&id);
    let before = g.dump();
    let failures = g.failures();
    let approve = json!({"reviewResult": "Approve", "justification": "x"});
    let attempts: Vec<(&str, &str, Value, u16)> = vec![
        (&chloe, &steps[1], approve.clone(), 403), // own request
        (&ben, &steps[1], approve.clone(), 403),   // not an approver
        (&kenji, &steps[0], approve.clone(), 409), // stage 1 already decided (by its approver)
        (&dev, &steps[0], approve.clone(), 403),   // not an approver of stage 1 at all
        (&dev, &steps[1], json!({"reviewResult": "Approve"}), 400), // justification missing
        (&dev, &steps[1], json!({"reviewResult": "Nope", "justification": "x"}), 400),
        (
            &dev,
            &steps[1],
            json!({"reviewResult": "Approve", "justification": "x", "status": "Completed"}),
            400,
        ),
    ];
    for (who, step, body, status) in attempts {
        let got = g.review(who, &id, step, &body);
        assert_eq!(got.0, status, "{body}: {:#}", got.1);
        assert_eq!(g.dump(), before, "{body} by {who} changed the store");
        assert_eq!(g.failures(), failures, "{body}: decisions write no failure rows");
    }
    assert_eq!(g.request(&id)["status"], "PendingApproval");
    g.decide(&dev, &id, 2, "Approve");
    assert_eq!(g.request(&id)["status"], "Provisioned");
}

// =============================================================================================
// 3. Notifications
// =============================================================================================

/// (event, recipientType, rule) of each message.
fn kinds(mail: &[Mail]) -> Vec<(String, String, String)> {
    mail.iter().map(|m| (m.event.clone(), m.recipient_type.clone(), m.rule.clone())).collect()
}

fn k(event: &str, recipient: &str, rule: &str) -> (String, String, String) {
    (event.into(), recipient.into(), rule.into())
}

#[test]
fn admin_mail_goes_once_to_every_user_holding_global_or_privileged_role_administrator() {
    let mut g = graph::Lab::demo_on_file();
    let (chloe, kenji, ben) = (g.user_id("chloe"), g.user_id("kenji"), g.user_id("ben"));
    let tier0 = g.group("Tier 0 operators", true);
    g.add_member(&tier0, &chloe);
    g.add_member(&tier0, &kenji);
    // Chloe holds both roles: directly, and through the group.
    for (principal, role) in [(&tier0, PRIV_ROLE_ADMIN), (&chloe, GLOBAL_ADMIN)] {
        g.admin_assign_for_30_days(ASSIGN_REQS, principal, role, "Tier 0");
    }
    // Who holds either role now, by the instances, the group's members in its place.
    let mut holders: Vec<String> = Vec::new();
    for role in [GLOBAL_ADMIN, PRIV_ROLE_ADMIN] {
        for i in g.list(&format!("{ASSIGN_INSTANCES}?$filter=roleDefinitionId eq '{role}'")) {
            match s(&i["principalId"]) {
                p if p == tier0 => holders.extend([chloe.clone(), kenji.clone()]),
                p => holders.push(p),
            }
        }
    }
    holders.sort();
    holders.dedup();
    assert!(holders.len() >= 3, "the tenant's own administrator, Chloe and Kenji: {holders:?}");

    let before = g.outbox().len();
    g.admin_assign_for_30_days(ELIG_REQS, &ben, GLOBAL_READER, "Audit");
    let mail = g.mail_since(before);
    assert_eq!(mail[0].recipient_type, "Admin");
    assert_eq!(mail[0].ids, holders, "every holder once, in order");
}

#[test]
fn an_eligible_assignment_tells_the_admins_and_the_assignee() {
    let mut g = graph::Lab::demo_on_file();
    let ben = g.user_id("ben");
    let before = g.outbox().len();
    let admin = g.admin.clone();
    let q = g.admin_assign_for_30_days(ELIG_REQS, &ben, GLOBAL_READER, "Audit");
    let mail = g.mail_since(before);
    assert_eq!(
        kinds(&mail),
        [
            k("EligibleAssignmentMade", "Admin", "Notification_Admin_Admin_Eligibility"),
            k("EligibleAssignmentMade", "Requestor", "Notification_Requestor_Admin_Eligibility"),
        ]
    );
    assert_eq!(mail[0].ids, [admin.caller.as_str()]);
    assert_eq!(mail[0].to, ["breakglass@contoso.example"]);
    assert_eq!(mail[1].ids, [ben.as_str()]);
    assert_eq!(mail[1].to, ["ben@contoso.example"]);
    assert!(mail.iter().all(|m| m.request.as_deref() == Some(s(&q["id"]).as_str())));
}

#[test]
fn an_active_assignment_tells_the_admins_and_the_assignee() {
    let mut g = graph::Lab::demo_on_file();
    let ben = g.user_id("ben");
    let before = g.outbox().len();
    g.admin_assign_for_30_days(ASSIGN_REQS, &ben, GLOBAL_READER, "Audit");
    let mail = g.mail_since(before);
    assert_eq!(
        kinds(&mail),
        [
            k("ActiveAssignmentMade", "Admin", "Notification_Admin_Admin_Assignment"),
            k("ActiveAssignmentMade", "Requestor", "Notification_Requestor_Admin_Assignment"),
        ]
    );
    assert_eq!(mail[1].ids, [ben]);
}

#[test]
fn an_activation_tells_the_admins_and_the_activating_user() {
    let mut g = graph::Lab::demo_on_file();
    let dev = g.user_id("dev");
    let before = g.outbox().len();
    let (status, q) = g.activate(&dev, PRIV_ROLE_ADMIN);
    assert_eq!(status, 201, "{q:#}");
    let mail = g.mail_since(before);
    assert_eq!(
        kinds(&mail),
        [
            k("RoleActivated", "Admin", "Notification_Admin_EndUser_Assignment"),
            k("RoleActivated", "Requestor", "Notification_Requestor_EndUser_Assignment"),
        ]
    );
    assert_eq!(mail[1].ids, [dev], "the activating member, not the whole group");
}

#[test]
fn an_approval_asks_the_approvers_then_tells_the_requester_of_the_outcome() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    let before = g.outbox().len();
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    let mail = g.mail_since(before);
    assert_eq!(
        kinds(&mail),
        [k("ApprovalRequested", "Approver", "Notification_Approver_EndUser_Assignment")]
    );
    assert_eq!(mail[0].ids, [kenji.as_str()]);
    assert_eq!(mail[0].to, ["kenji@contoso.example"]);
    assert_eq!(mail[0].request.as_deref(), Some(id.as_str()));

    let before = g.outbox().len();
    g.decide(&kenji, &id, 1, "Approve");
    let mail = g.mail_since(before);
    let events: Vec<(String, String)> =
        mail.iter().map(|m| (m.event.clone(), m.recipient_type.clone())).collect();
    assert!(events.contains(&pair("RequestApproved", "Requestor")), "{mail:#?}");
    assert!(events.contains(&pair("RoleActivated", "Requestor")), "{mail:#?}");
    let approved = mail.iter().find(|m| m.event == "RequestApproved").unwrap();
    assert_eq!(approved.ids, [chloe.as_str()]);
    assert_eq!(approved.rule, "Notification_Requestor_EndUser_Assignment");

    // Denied.
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    let before = g.outbox().len();
    g.decide(&kenji, &id, 1, "Deny");
    let mail = g.mail_since(before);
    assert_eq!(kinds(&mail), [k("RequestDenied", "Requestor", "Notification_Requestor_EndUser_Assignment")]);
    assert_eq!(mail[0].ids, [chloe]);
}

#[test]
fn eligibilities_and_assignments_are_noticed_14_days_and_1_day_before_and_at_expiry() {
    let mut g = graph::Lab::demo_on_file();
    let ben = g.user_id("ben");
    let q = g.admin_assign_for_30_days(ELIG_REQS, &ben, GLOBAL_READER, "Audit");
    let id = s(&q["id"]);
    g.admin_assign_for_30_days(ASSIGN_REQS, &ben, GLOBAL_READER, "Audit");
    let assign_id = {
        let found = g.list(&format!("{ASSIGN_REQS}?$filter=principalId eq '{ben}'"));
        s(&found[0]["id"])
    };
    let ours = [id.clone(), assign_id];
    let about_ben = |g: &mut graph::Lab, event: &str| -> Vec<Mail> {
        g.outbox()
            .into_iter()
            .filter(|m| m.event == event && m.request.as_ref().is_some_and(|r| ours.contains(r)))
            .collect()
    };
    g.advance("P15D");
    assert!(about_ben(&mut g, "ExpiringIn14Days").is_empty(), "not before day 16");
    g.advance("P1D");
    let notice = about_ben(&mut g, "ExpiringIn14Days");
    let ks = kinds(&notice);
    assert!(
        ks.contains(&k("ExpiringIn14Days", "Admin", "Notification_Admin_Admin_Eligibility")),
        "{notice:#?}"
    );
    assert!(ks.contains(&k("ExpiringIn14Days", "Requestor", "Notification_Requestor_Admin_Eligibility")));
    assert!(ks.contains(&k("ExpiringIn14Days", "Admin", "Notification_Admin_Admin_Assignment")));
    assert!(ks.contains(&k("ExpiringIn14Days", "Requestor", "Notification_Requestor_Admin_Assignment")));
    assert!(notice.iter().any(|m| m.request.as_deref() == Some(id.as_str())));
    g.advance("P13D");
    let notice = about_ben(&mut g, "ExpiringIn1Days");
    assert_eq!(notice.len(), 4, "{notice:#?}");
    assert!(about_ben(&mut g, "Expired").is_empty());
    g.advance("P1D");
    let expired = about_ben(&mut g, "Expired");
    let ks = kinds(&expired);
    assert!(ks.contains(&k("Expired", "Admin", "Notification_Admin_Admin_Eligibility")), "{expired:#?}");
    assert!(ks.contains(&k("Expired", "Requestor", "Notification_Requestor_Admin_Eligibility")));
    assert!(ks.contains(&k("Expired", "Requestor", "Notification_Requestor_Admin_Assignment")));
    assert_eq!(expired.len(), 4);
}

#[test]
fn activations_get_no_expiry_notices() {
    let mut g = graph::Lab::demo_on_file();
    let dev = g.user_id("dev");
    let (status, _) = g.activate(&dev, PRIV_ROLE_ADMIN);
    assert_eq!(status, 201);
    let before = g.outbox().len();
    g.advance("PT3H");
    let mail = g.mail_since(before);
    assert!(mail.iter().all(|m| !m.event.starts_with("Expir")), "{mail:#?}");
}

#[test]
fn a_timed_out_request_tells_the_requester() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    g.pending_activation(&chloe, SECURITY_ADMIN);
    let before = g.outbox().len();
    g.advance("P1D");
    let mail = g.mail_since(before);
    assert_eq!(
        kinds(&mail),
        [k("RequestTimedOut", "Requestor", "Notification_Requestor_EndUser_Assignment")]
    );
    assert_eq!(mail[0].ids, [chloe]);
}

#[test]
fn critical_level_keeps_only_approval_requests_escalations_and_expiry_notices() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    let dev = g.user_id("dev");
    for rule in [
        "Notification_Admin_EndUser_Assignment",
        "Notification_Requestor_EndUser_Assignment",
        "Notification_Approver_EndUser_Assignment",
    ] {
        g.notification_rule(SECURITY_ADMIN, rule, "Critical", true, &[]);
    }
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![escalating_stage(&kenji, &dev, 30)]));
    let before = g.outbox().len();
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    g.advance("PT30M");
    g.decide(&kenji, &id, 1, "Approve");
    let mail = g.mail_since(before);
    let events: Vec<&str> = mail.iter().map(|m| m.event.as_str()).collect();
    assert_eq!(events, ["ApprovalRequested", "ApprovalEscalated"], "{mail:#?}");

    // Expiry notices survive Critical; assignment-made mails do not.
    for rule in [
        "Notification_Admin_Admin_Eligibility",
        "Notification_Requestor_Admin_Eligibility",
        "Notification_Approver_Admin_Eligibility",
    ] {
        g.notification_rule(GLOBAL_READER, rule, "Critical", true, &[]);
    }
    let ben = g.user_id("ben");
    let before = g.outbox().len();
    let admin = g.admin.clone();
    let body = json!({
        "action": "adminAssign", "principalId": ben, "roleDefinitionId": GLOBAL_READER,
        "directoryScopeId": "/", "justification": "Audit",
        "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "P20D"}},
    });
    assert_eq!(g.send(&admin, "POST", ELIG_REQS, &body).0, 201);
    assert!(g.mail_since(before).is_empty(), "EligibleAssignmentMade is not critical");
    g.advance("P6D");
    let mail: Vec<Mail> = g.mail_since(before).into_iter().filter(|m| m.ids.contains(&ben)).collect();
    assert_eq!(
        kinds(&mail),
        [k("ExpiringIn14Days", "Requestor", "Notification_Requestor_Admin_Eligibility")]
    );
}

#[test]
fn level_none_sends_nothing_for_that_recipient_type() {
    let mut g = graph::Lab::demo_on_file();
    let dev = g.user_id("dev");
    g.notification_rule(PRIV_ROLE_ADMIN, "Notification_Admin_EndUser_Assignment", "None", true, &[]);
    let before = g.outbox().len();
    let (status, _) = g.activate(&dev, PRIV_ROLE_ADMIN);
    assert_eq!(status, 201);
    let mail = g.mail_since(before);
    assert_eq!(kinds(&mail), [k("RoleActivated", "Requestor", "Notification_Requestor_EndUser_Assignment")]);
}

#[test]
fn without_default_recipients_only_the_additional_recipients_are_told() {
    let mut g = graph::Lab::demo_on_file();
    let dev = g.user_id("dev");
    g.notification_rule(
        PRIV_ROLE_ADMIN,
        "Notification_Admin_EndUser_Assignment",
        "All",
        false,
        &["soc@contoso.example", "ciso@contoso.example"],
    );
    g.notification_rule(
        PRIV_ROLE_ADMIN,
        "Notification_Requestor_EndUser_Assignment",
        "All",
        true,
        &["audit@contoso.example"],
    );
    // The PATCH reads back as written.
    let rule = g.rule(PRIV_ROLE_ADMIN, "Notification_Admin_EndUser_Assignment");
    assert_eq!(rule["isDefaultRecipientsEnabled"], false);
    assert_eq!(rule["notificationRecipients"], json!(["soc@contoso.example", "ciso@contoso.example"]));
    let before = g.outbox().len();
    let (status, _) = g.activate(&dev, PRIV_ROLE_ADMIN);
    assert_eq!(status, 201);
    let mail = g.mail_since(before);
    assert_eq!(mail.len(), 2, "{mail:#?}");
    assert_eq!(mail[0].recipient_type, "Admin");
    assert_eq!(mail[0].to, ["soc@contoso.example", "ciso@contoso.example"]);
    assert!(mail[0].ids.is_empty(), "no default recipient: {mail:#?}");
    assert_eq!(mail[1].recipient_type, "Requestor");
    assert_eq!(mail[1].to, ["dev@contoso.example", "audit@contoso.example"]);
}

#[test]
fn notification_rule_patches_refuse_impossible_values_naming_the_field() {
    let mut g = graph::Lab::demo_on_file();
    let path = g.rule_path(PRIV_ROLE_ADMIN, "Notification_Admin_EndUser_Assignment");
    let admin = g.admin.clone();
    let before = g.dump();
    let got = g.send(
        &admin,
        "PATCH",
        &path,
        &json!({"@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyNotificationRule",
                "id": "Notification_Admin_EndUser_Assignment", "notificationLevel": "Loud"}),
    );
    let e = assert_error(&got, 400, "BadRequest");
    assert_names(&e, "notificationLevel");
    assert_eq!(g.dump(), before);
}

#[test]
fn a_recipient_who_is_both_a_default_and_an_additional_recipient_is_listed_once() {
    let mut g = graph::Lab::demo_on_file();
    let dev = g.user_id("dev");
    g.notification_rule(
        PRIV_ROLE_ADMIN,
        "Notification_Requestor_EndUser_Assignment",
        "All",
        true,
        &["audit@contoso.example", "dev@contoso.example"],
    );
    let before = g.outbox().len();
    let (status, _) = g.activate(&dev, PRIV_ROLE_ADMIN);
    assert_eq!(status, 201);
    let mail: Vec<Mail> =
        g.mail_since(before).into_iter().filter(|m| m.recipient_type == "Requestor").collect();
    assert_eq!(mail.len(), 1, "{mail:#?}");
    let mut to = mail[0].to.clone();
    to.sort();
    assert_eq!(to, ["audit@contoso.example", "dev@contoso.example"], "{mail:#?}");
}

#[test]
fn without_default_recipients_or_additional_ones_no_message_is_written() {
    let mut g = graph::Lab::demo_on_file();
    let dev = g.user_id("dev");
    g.notification_rule(PRIV_ROLE_ADMIN, "Notification_Admin_EndUser_Assignment", "All", false, &[]);
    g.notification_rule(PRIV_ROLE_ADMIN, "Notification_Requestor_EndUser_Assignment", "All", false, &[]);
    let before = g.outbox().len();
    let (status, _) = g.activate(&dev, PRIV_ROLE_ADMIN);
    assert_eq!(status, 201);
    assert!(g.mail_since(before).is_empty());
}

#[test]
fn a_self_extension_of_an_active_assignment_asks_the_admins_under_the_assignment_approver_rule() {
    let mut g = graph::Lab::demo_on_file();
    let jonas = g.user_id("jonas"); // Billing Administrator, active for 30 days
    g.advance("P17D");
    let billing = {
        let found = g.list(&format!("{ASSIGN_REQS}?$filter=principalId eq '{jonas}'"));
        s(&found[0]["roleDefinitionId"])
    };
    let before = g.outbox().len();
    let (status, q) =
        g.send(&session(&jonas), "POST", ASSIGN_REQS, &self_request("selfExtend", &jonas, &billing));
    assert_eq!(status, 201, "{q:#}");
    assert_eq!(q["status"], "PendingAdminDecision");
    let mail = g.mail_since(before);
    assert_eq!(kinds(&mail), [k("ApprovalRequested", "Approver", "Notification_Approver_Admin_Assignment")]);
    assert_eq!(mail[0].ids, [g.admin.caller.as_str()]);
    // At notificationLevel None the administrators are not asked by mail.
    g.notification_rule(&billing, "Notification_Approver_Admin_Assignment", "None", true, &[]);
    let (status, _) = g.raw(&session(&jonas), "POST", &format!("{ASSIGN_REQS}/{}/cancel", s(&q["id"])), None);
    assert_eq!(status, 204);
    let before = g.outbox().len();
    let (status, _) =
        g.send(&session(&jonas), "POST", ASSIGN_REQS, &self_request("selfExtend", &jonas, &billing));
    assert_eq!(status, 201);
    assert!(g.mail_since(before).is_empty());
}

// =============================================================================================
// 4. Audit through Graph
// =============================================================================================

#[test]
fn each_step_of_an_approved_activation_writes_its_audit_row() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    g.advance("PT1H");
    g.decide(&kenji, &id, 1, "Approve");
    let rows: Vec<Value> = g.audit().into_iter().filter(|a| a["correlationId"] == id).collect();
    let activities: Vec<String> = rows.iter().map(|a| s(&a["activityDisplayName"])).collect();
    assert_eq!(
        activities,
        [
            "Add member to role requested (PIM activation)",
            "Add member to role request approved (PIM activation)",
            "Add member to role completed (PIM activation)",
        ]
    );
    assert_eq!(rows[0]["initiatedBy"]["user"]["id"], chloe);
    assert_eq!(rows[1]["initiatedBy"]["user"]["id"], kenji);
    assert_eq!(rows[1]["activityDateTime"], "2025-01-06T10:00:00Z");
    assert!(rows.iter().all(|a| a["result"] == "success"));
    let targets: Vec<String> =
        rows[1]["targetResources"].as_array().unwrap().iter().map(|t| s(&t["id"])).collect();
    assert_eq!(targets, [SECURITY_ADMIN.to_string(), chloe.clone()]);
}

#[test]
fn a_denied_activation_writes_a_denied_audit_row() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    g.decide(&kenji, &id, 1, "Deny");
    let rows: Vec<String> = g
        .audit()
        .into_iter()
        .filter(|a| a["correlationId"] == id)
        .map(|a| s(&a["activityDisplayName"]))
        .collect();
    assert_eq!(
        rows,
        [
            "Add member to role requested (PIM activation)",
            "Add member to role request denied (PIM activation)"
        ]
    );
}

#[test]
fn every_decision_in_a_multi_stage_approval_is_audited() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    let dev = g.user_id("dev");
    g.serial_approval(SECURITY_ADMIN, &kenji, &dev);
    g.allow_through_graph(FidelitySwitch::GraphMultiStageApprovals);
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    let rows_before = g.audit().len();
    g.decide(&kenji, &id, 1, "Approve");
    let rows = g.audit();
    let added: Vec<&Value> = rows.iter().skip(rows_before).collect();
    assert_eq!(added.len(), 1, "stage 1's approval is a state change and writes one row: {added:#?}");
    assert_eq!(added[0]["initiatedBy"]["user"]["id"], kenji);
    assert_eq!(added[0]["correlationId"], id);
}

#[test]
fn a_refused_request_writes_exactly_one_failure_row_and_nothing_else() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let before = g.dump();
    let failures = g.failures();
    let got = g.activate_with(&chloe, SECURITY_ADMIN, "PT12H", None);
    assert_error(&got, 400, "RoleAssignmentRequestPolicyValidationFailed");
    assert_eq!(g.dump(), before);
    assert_eq!(g.failures(), failures + 1);
    let failed: Vec<Value> = g.audit().into_iter().filter(|a| a["result"] == "failure").collect();
    let last = failed.last().unwrap();
    assert_eq!(last["activityDisplayName"], "Add member to role failed (PIM activation)");
    assert!(s(&last["resultReason"]).starts_with("RoleAssignmentRequestPolicyValidationFailed"), "{last:#}");
    assert_eq!(last["initiatedBy"]["user"]["id"], chloe);
}

#[test]
fn directory_audits_filter_on_time_activity_and_target() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    g.approval(SECURITY_ADMIN, setting("SingleStage", vec![stage(json!([single_user(&kenji)]))]));
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    g.advance("PT1H");
    g.decide(&kenji, &id, 1, "Approve");

    let late = g.list(&format!("{AUDITS}?$filter=activityDateTime ge 2025-01-06T09:30:00Z"));
    assert!(!late.is_empty());
    assert!(late.iter().all(|a| s(&a["activityDateTime"]).as_str() >= "2025-01-06T09:30:00Z"), "{late:#?}");
    assert!(
        late.iter()
            .any(|a| a["activityDisplayName"] == "Add member to role request approved (PIM activation)")
    );
    let early = g.list(&format!("{AUDITS}?$filter=activityDateTime lt 2025-01-06T09:30:00Z"));
    assert!(early.iter().all(|a| s(&a["activityDateTime"]).as_str() < "2025-01-06T09:30:00Z"));
    assert_eq!(late.len() + early.len(), g.list(AUDITS).len());

    let approved = g.list(&format!(
        "{AUDITS}?$filter=activityDisplayName eq 'Add member to role request approved (PIM activation)'"
    ));
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0]["correlationId"], id);

    let about_chloe = g.list(&format!("{AUDITS}?$filter=targetResources/any(t: t/id eq '{chloe}')"));
    assert!(!about_chloe.is_empty());
    assert!(
        about_chloe.iter().all(|a| a["targetResources"].as_array().unwrap().iter().any(|t| t["id"] == chloe))
    );
    let both = g.list(&format!(
        "{AUDITS}?$filter=targetResources/any(t: t/id eq '{chloe}') and activityDateTime ge 2025-01-06T10:00:00Z"
    ));
    let acts: Vec<String> = both.iter().map(|a| s(&a["activityDisplayName"])).collect();
    assert_eq!(
        acts,
        [
            "Add member to role completed (PIM activation)",
            "Add member to role request approved (PIM activation)"
        ],
        "newest first"
    );
}

// =============================================================================================
// 5. The CLI
// =============================================================================================

#[test]
fn cli_approvals_lists_waiting_requests_and_mine_only_those_for_the_caller() {
    let lab = cli::Lab::demo();
    let id = lab.chloe_waits_for_approval();
    lab.run(&["approvals"])
        .ok()
        .out_has(&id)
        .out_has("PendingApproval")
        .out_has("chloe@contoso.example")
        .out_has("Security Administrator")
        .out_has("stage 1/1 until 2025-01-07T09:00:00Z")
        .out_has("kenji@contoso.example");
    lab.run(&["--as", "kenji", "approvals", "--mine"]).ok().out_has(&id);
    lab.run(&["--as", "ben", "approvals", "--mine"]).ok().out_lacks(&id);
    lab.run(&["--as", "chloe", "approvals", "--mine"]).ok().out_lacks(&id);
    let listed = lab.run(&["--json", "--as", "kenji", "approvals", "--mine"]).ok().json();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["status"], "PendingApproval");
    let kenji = lab.object_id("user", "kenji");
    assert!(listed[0]["approvers"].as_array().unwrap().contains(&json!(kenji)));
}

#[test]
fn cli_approve_provisions_from_the_time_of_approval() {
    let lab = cli::Lab::demo();
    let id = lab.chloe_waits_for_approval();
    lab.run(&["clock", "advance", "PT1H"]).ok();
    lab.run(&["--as", "kenji", "approve", &id, "--justification", "Alert 7731 confirmed"])
        .ok()
        .out_has(&format!("Approved: request {id} is now Provisioned"))
        .out_has("2025-01-06T10:00:00Z → 2025-01-06T12:00:00Z");
    let q = lab.run(&["--json", "request", "show", &id]).ok().json();
    assert_eq!(q["status"], "Provisioned");
    assert_eq!(q["scheduleInfo"]["startDateTime"], "2025-01-06T10:00:00Z");
    lab.run(&["approvals"]).ok().out_lacks(&id);
}

#[test]
fn cli_deny_with_short_flag_ends_it_denied() {
    let lab = cli::Lab::demo();
    let id = lab.chloe_waits_for_approval();
    lab.run(&["--as", "dev", "deny", &id, "-j", "Not on call"])
        .ok()
        .out_has(&format!("Denied: request {id} is now Denied"));
    assert_eq!(lab.run(&["--json", "request", "show", &id]).ok().json()["status"], "Denied");
}

#[test]
fn cli_refused_decisions_exit_1_with_the_service_error_and_change_nothing() {
    let lab = cli::Lab::demo();
    let id = lab.chloe_waits_for_approval();
    lab.fails_untouched(&["--as", "chloe", "approve", &id, "-j", "me"])
        .refused("UnauthorizedAccessException", 403)
        .err_has("own");
    lab.fails_untouched(&["--as", "ben", "approve", &id, "-j", "x"])
        .refused("UnauthorizedAccessException", 403);
    lab.fails_untouched(&["--as", "kenji", "approve", &id])
        .refused("BadRequest", 400)
        .err_has("justification");
    lab.fails_untouched(&["--as", "kenji", "approve", "00000000-0000-0000-0000-000000000009", "-j", "x"])
        .refused("ResourceNotFound", 404);
    lab.run(&["--as", "kenji", "approve", &id, "-j", "ok"]).ok();
    lab.fails_untouched(&["--as", "dev", "deny", &id, "-j", "late"])
        .refused("Conflict", 409)
        .err_has("Kenji");
    lab.fails_untouched(&["--as", "kenji", "approve", &id, "-j", "again"]).refused("Conflict", 409);
}

#[test]
fn cli_approve_without_an_id_is_a_usage_error() {
    let lab = cli::Lab::demo();
    lab.run(&["approve"]).usage();
    lab.run(&["deny", "--justification"]).usage();
}

#[test]
fn cli_approve_answers_a_self_extension_as_an_administrator() {
    let lab = cli::Lab::demo();
    let run = lab
        .run(&[
            "--json",
            "--as",
            "lena",
            "extend",
            "--role",
            "Global Reader",
            "--justification",
            "Review continues",
        ])
        .ok();
    assert_eq!(run.json()["status"], "PendingAdminDecision", "{run}");
    let id = s(&run.json()["id"]);
    lab.run(&["approvals"]).ok().out_has(&id).out_has("an administrator");
    lab.fails_untouched(&["--as", "kenji", "approve", &id, "-j", "x"])
        .refused("UnauthorizedAccessException", 403);
    lab.run(&["approve", &id, "-j", "Granted"]).ok().out_has("is now Provisioned");
    lab.run(&["approvals"]).ok().out_lacks(&id);
}

#[test]
fn cli_deny_answers_a_self_renewal_as_an_administrator() {
    let lab = cli::Lab::demo();
    lab.run(&["clock", "advance", "P11D"]).ok();
    let run = lab
        .run(&[
            "--json",
            "--as",
            "lena",
            "renew",
            "--role",
            "Global Reader",
            "--justification",
            "Back on the project",
        ])
        .ok();
    assert_eq!(run.json()["status"], "PendingAdminDecision", "{run}");
    let id = s(&run.json()["id"]);
    lab.run(&["deny", &id, "-j", "Project over"]).ok().out_has("is now Denied");
    let eligible = lab.run(&["--json", "eligible", "list", "--principal", "lena"]).ok().json();
    assert_eq!(eligible.as_array().map(Vec::len), Some(0), "{eligible:#}");
}

#[test]
fn cli_cancel_of_a_pending_request_cancels_it() {
    let lab = cli::Lab::demo();
    let id = lab.chloe_waits_for_approval();
    lab.run(&["--as", "chloe", "request", "cancel", &id]).ok().out_has("now Canceled");
    lab.run(&["--as", "kenji", "approvals", "--mine"]).ok().out_lacks(&id);
    lab.fails_untouched(&["--as", "kenji", "approve", &id, "-j", "x"]);
}

#[test]
fn cli_notifications_lists_the_outbox_and_filters_by_recipient_and_time() {
    let lab = cli::Lab::demo();
    let id = lab.chloe_waits_for_approval();
    lab.run(&["clock", "advance", "PT1H"]).ok();
    lab.run(&["--as", "kenji", "approve", &id, "-j", "ok"]).ok();
    let all = lab.run(&["--json", "notifications"]).ok().json();
    let all = all.as_array().unwrap();
    let asked = all.iter().find(|n| n["event"] == "ApprovalRequested").expect("approvers asked");
    assert_eq!(asked["recipientType"], "Approver");
    assert_eq!(asked["ruleId"], "Notification_Approver_EndUser_Assignment");
    assert_eq!(asked["requestId"], id);
    assert_eq!(asked["critical"], true);
    let mut to: Vec<String> = asked["recipients"].as_array().unwrap().iter().map(s).collect();
    to.sort();
    assert_eq!(to, ["alice@contoso.example", "dev@contoso.example", "kenji@contoso.example"]);
    assert!(s(&asked["subject"]).contains("Chloe Dubois"));
    assert!(s(&asked["body"]).contains(&id));
    assert_eq!(asked["dateTime"], AT);

    let kenji = lab.run(&["--json", "notifications", "--to", "kenji"]).ok().json();
    let kenji = kenji.as_array().unwrap();
    assert!(kenji.iter().any(|n| n["event"] == "ApprovalRequested"));
    assert!(
        kenji.iter().all(|n| n["recipients"].as_array().unwrap().contains(&json!("kenji@contoso.example")))
    );
    let chloe = lab.run(&["--json", "notifications", "--to", "chloe@contoso.example"]).ok().json();
    let events: Vec<String> = chloe.as_array().unwrap().iter().map(|n| s(&n["event"])).collect();
    assert!(events.contains(&"RequestApproved".to_string()), "{events:?}");
    assert!(!events.contains(&"ApprovalRequested".to_string()), "{events:?}");

    let since = lab.run(&["--json", "notifications", "--since", "2025-01-06T09:30:00Z"]).ok().json();
    let since = since.as_array().unwrap();
    assert!(!since.is_empty());
    assert!(since.iter().all(|n| s(&n["dateTime"]).as_str() >= "2025-01-06T09:30:00Z"));
    lab.run(&["notifications", "--to", "kenji"])
        .ok()
        .out_has("ApprovalRequested")
        .out_has("kenji@contoso.example");
    lab.run(&["notifications", "--full", "--to", "chloe"])
        .ok()
        .out_has("Subject: PIM: Your request for the Security Administrator role was approved");
    lab.run(&["notifications", "--since", "yesterday"]).usage();
}

#[test]
fn cli_audit_filters_by_time_principal_and_role() {
    let lab = cli::Lab::demo();
    let id = lab.chloe_waits_for_approval();
    lab.run(&["clock", "advance", "PT1H"]).ok();
    lab.run(&["--as", "kenji", "approve", &id, "-j", "ok"]).ok();
    lab.run(&["audit", "--since", "2025-01-06T09:30:00Z"])
        .ok()
        .out_has("Add member to role request approved (PIM activation)")
        .out_has("Add member to role completed (PIM activation)")
        .out_lacks("Add member to role requested (PIM activation)");
    let rows =
        lab.run(&["--json", "audit", "--principal", "chloe", "--role", "Security Administrator"]).ok().json();
    let acts: Vec<String> = rows.as_array().unwrap().iter().map(|a| s(&a["activityDisplayName"])).collect();
    assert!(acts.contains(&"Add member to role requested (PIM activation)".to_string()), "{acts:?}");
    assert!(acts.contains(&"Add member to role request approved (PIM activation)".to_string()));
    assert!(acts.contains(&"Add eligible member to role in PIM completed (timebound)".to_string()));
    let kenji =
        lab.run(&["--json", "audit", "--principal", "kenji", "--role", "Security Administrator"]).ok().json();
    let acts: Vec<String> = kenji.as_array().unwrap().iter().map(|a| s(&a["activityDisplayName"])).collect();
    assert_eq!(acts, ["Add member to role request approved (PIM activation)"], "kenji acted once on it");
    let ga = lab.run(&["--json", "audit", "--role", "Global Administrator"]).ok().json();
    assert!(
        ga.as_array()
            .unwrap()
            .iter()
            .all(|a| { a["targetResources"].as_array().unwrap().iter().any(|t| t["id"] == GLOBAL_ADMIN) })
    );
}

#[test]
fn cli_explain_tells_the_approval_path_with_stages_approvers_and_decisions() {
    let lab = cli::Lab::demo();
    let id = lab.chloe_waits_for_approval();
    lab.run(&["request", "explain", &id])
        .ok()
        .out_has("Approval stage 1")
        .out_has("kenji@contoso.example")
        .out_has("It waits for an approver.");
    lab.run(&["--as", "kenji", "approve", &id, "-j", "Alert confirmed"]).ok();
    let run = lab.run(&["request", "explain", &id]).ok();
    let run = run.out_has("Approved by Kenji Sato").out_has("Alert confirmed").out_has("It was provisioned");
    let stage_lines = run.stdout.lines().filter(|l| l.contains("Approval stage 1")).count();
    assert_eq!(stage_lines, 2, "the stage opened, then decided{run}");

    let trace = lab.run(&["--json", "request", "explain", &id]).ok().json();
    assert_eq!(trace["request"]["id"], id);
    let checks: Vec<String> = trace["trace"].as_array().unwrap().iter().map(|t| s(&t["check"])).collect();
    assert!(checks.contains(&"Approval_EndUser_Assignment".to_string()), "{checks:?}");
    let decided = trace["trace"].as_array().unwrap().last().unwrap();
    assert_eq!(decided["check"], "Approval stage 1");
    assert_eq!(decided["passed"], true);
    assert!(s(&decided["seen"]).contains("Approved by Kenji Sato"));
}

#[test]
fn cli_explain_of_a_denied_or_timed_out_request_says_why() {
    let lab = cli::Lab::demo();
    let id = lab.chloe_waits_for_approval();
    lab.run(&["--as", "dev", "deny", &id, "-j", "Not on call"]).ok();
    lab.run(&["request", "explain", &id])
        .ok()
        .out_has("FAIL Approval stage 1")
        .out_has("Denied by Dev Patel")
        .out_has("An approver denied it.");
    let trace = lab.run(&["--json", "request", "explain", &id]).ok().json();
    assert_eq!(trace["trace"].as_array().unwrap().last().unwrap()["passed"], false);

    let id = {
        let run = lab
            .run(&[
                "--json",
                "--as",
                "chloe",
                "activate",
                "--role",
                "Security Administrator",
                "--duration",
                "1h",
                "--justification",
                "again",
            ])
            .ok();
        s(&run.json()["id"])
    };
    lab.run(&["clock", "advance", "P1D"]).ok().out_has("timed out");
    lab.run(&["request", "explain", &id]).ok().out_has("no decision").out_has("No approver decided in time.");
    assert_eq!(lab.run(&["--json", "request", "show", &id]).ok().json()["status"], "TimedOut");
}

#[test]
fn cli_explain_of_a_serial_approval_shows_both_stages_their_approvers_and_decisions() {
    let lab = cli::Lab::demo();
    let kenji = lab.object_id("user", "kenji");
    let dev = lab.object_id("user", "dev");
    let body = json!({
        "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyApprovalRule",
        "id": "Approval_EndUser_Assignment",
        "setting": setting("Serial", vec![stage(json!([single_user(&kenji)])), stage(json!([single_user(&dev)]))]),
    });
    lab.run(&[
        "policy",
        "set",
        "Security Administrator",
        "--rule",
        "Approval_EndUser_Assignment",
        "--body",
        &body.to_string(),
    ])
    .ok();
    let run = lab
        .run(&[
            "--json",
            "--as",
            "chloe",
            "activate",
            "--role",
            "Security Administrator",
            "--duration",
            "1h",
            "--justification",
            "Incident 42",
        ])
        .ok();
    let id = s(&run.json()["id"]);
    lab.run(&["approvals"]).ok().out_has("stage 1/2");
    lab.run(&["--as", "dev", "approvals", "--mine"]).ok().out_lacks(&id);
    lab.run(&["--as", "kenji", "approve", &id, "-j", "Stage one fine"])
        .ok()
        .out_has("is now PendingApproval");
    lab.run(&["approvals"]).ok().out_has("stage 2/2").out_has("dev@contoso.example");
    lab.run(&["--as", "dev", "approve", &id, "-j", "Stage two fine"]).ok().out_has("is now Provisioned");
    let run = lab.run(&["request", "explain", &id]).ok();
    let run = run
        .out_has("Approval stage 1")
        .out_has("Approval stage 2")
        .out_has("approvers kenji@contoso.example")
        .out_has("approvers dev@contoso.example")
        .out_has("Approved by Kenji Sato: \"Stage one fine\"")
        .out_has("Approved by Dev Patel: \"Stage two fine\"");
    let stage_two = run.stdout.find("Approval stage 2").unwrap();
    let decided_one = run.stdout.find("Approved by Kenji Sato").unwrap();
    assert!(decided_one < stage_two, "stage 2 opens after stage 1's decision{run}");
}

#[test]
fn cli_graph_patch_of_a_step_decides_it() {
    let lab = cli::Lab::demo();
    let id = lab.chloe_waits_for_approval();
    let run = lab.run(&["--as", "kenji", "graph", "GET", &format!("{APPROVALS}/{id}")]);
    assert_eq!(run.code, 0, "{run}");
    let step = s(&run.json()["steps"][0]["id"]);
    assert_eq!(run.json()["steps"][0]["assignedToMe"], true);
    let path = format!("{APPROVALS}/{id}/steps/{step}");
    let run = lab.run(&[
        "--as",
        "kenji",
        "graph",
        "PATCH",
        &path,
        "--body",
        r#"{"reviewResult":"Approve","justification":"ok"}"#,
    ]);
    assert_eq!((run.code, run.stderr.as_str(), run.stdout.as_str()), (0, "HTTP 204\n", ""), "{run}");
    let run = lab.run(&[
        "--as",
        "dev",
        "graph",
        "PATCH",
        &path,
        "--body",
        r#"{"reviewResult":"Deny","justification":"no"}"#,
    ]);
    assert_eq!((run.code, run.stderr.as_str()), (1, "HTTP 409\n"), "{run}");
}

// =============================================================================================
// The Graph approval API's limits (reference §3.12) and the fidelity switches that lift them
// =============================================================================================

#[test]
fn graph_cannot_decide_a_multi_stage_approval_unless_the_fidelity_switch_allows_it() {
    let mut g = graph::Lab::demo_on_file();
    let chloe = g.user_id("chloe");
    let kenji = g.user_id("kenji");
    let dev = g.user_id("dev");
    g.serial_approval(SECURITY_ADMIN, &kenji, &dev);
    let id = g.pending_activation(&chloe, SECURITY_ADMIN);
    let steps = g.step_ids(&id);
    let before = g.dump();
    let body = json!({"reviewResult": "Approve", "justification": "Checked"});
    let refused = g.review(&kenji, &id, &steps[0], &body);
    let e = assert_error(&refused, 400, "BadRequest");
    let text = e.to_string();
    assert!(text.contains("cannot be decided through the Microsoft Graph approval API"), "{e:#}");
    assert!(text.contains("graph-multi-stage-approvals"), "the switch that would allow it is named: {e:#}");
    assert_eq!(g.dump(), before, "a refused decision changes nothing");
    // Reading the approval still works: only deciding is out of Graph's reach.
    assert_eq!(g.approval_as(&kenji, &id)["steps"].as_array().unwrap().len(), 2);

    // The portal (pimlab approve, pim.approve) decides it as always.
    let kenji_session = session(&kenji);
    g.engine
        .decide(&kenji_session, &id, None, Decision::Approve, Some("Checked"), ApprovalChannel::Portal)
        .expect("the portal decides stage 1");
    assert_eq!(g.request(&id)["status"], "PendingApproval");

    // With the switch on, Graph decides stage 2, and the trace says what allowed it.
    g.allow_through_graph(FidelitySwitch::GraphMultiStageApprovals);
    g.decide(&dev, &id, 2, "Approve");
    assert_eq!(g.request(&id)["status"], "Provisioned");
    let q = g.engine.request(&id, None).expect("stored");
    let last = q.trace.iter().rfind(|t| t.check == "Approval stage 2").expect("stage 2 in the trace");
    assert!(last.seen.contains("graph-multi-stage-approvals"), "{last:?}");
}

#[test]
fn graph_cannot_decide_an_extension_approval_unless_the_fidelity_switch_allows_it() {
    let (mut g, _, kenji, q) = self_extend_waiting_for_kenji();
    let id = s(&q["id"]);
    let step = g.step_ids(&id)[0].clone();
    let before = g.dump();
    let refused = g.review(&kenji, &id, &step, &json!({"reviewResult": "Approve", "justification": "ok"}));
    let e = assert_error(&refused, 400, "BadRequest");
    assert!(e.to_string().contains("graph-extension-approvals"), "{e:#}");
    assert_eq!(g.dump(), before);
    g.allow_through_graph(FidelitySwitch::GraphExtensionApprovals);
    g.decide(&kenji, &id, 1, "Approve");
    assert_eq!(s(&g.get(&format!("{ELIG_REQS}/{id}"))["status"]), "Provisioned");
}

#[test]
fn cli_config_fidelity_shows_sets_and_audits_the_switches() {
    let lab = cli::Lab::demo();
    let shown = lab.run(&["config", "fidelity"]).ok();
    shown
        .out_has("portal-extend-renew-windows   off")
        .out_has("All off: pimlab does what the Graph API does.");
    lab.run(&["config", "fidelity", "set", "graph-multi-stage-approvals", "on"])
        .ok()
        .out_has("graph-multi-stage-approvals   on");
    // Setting it again changes nothing and writes no second audit row.
    lab.run(&["config", "fidelity", "set", "graph-multi-stage-approvals", "on"]).ok();
    let audit = lab.run(&["audit"]).ok();
    assert_eq!(audit.stdout.matches("Turn fidelity switch 'graph-multi-stage-approvals' on").count(), 1);
    let json = lab.run(&["config", "fidelity", "--json"]).ok().json();
    let on: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["on"] == true)
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(on, ["graph-multi-stage-approvals"]);
    // An unknown switch or state is a usage error naming the valid ones; nothing changes.
    lab.fails_unchanged(&["config", "fidelity", "set", "portal-windows", "on"])
        .usage()
        .err_has("graph-extension-approvals");
    lab.fails_unchanged(&["config", "fidelity", "set", "graph-multi-stage-approvals", "maybe"]).usage();
    // Reading the profile never creates a store.
    let empty = tempfile::tempdir().unwrap();
    let run = cli::run_in(empty.path(), &["config", "fidelity"]);
    assert_ne!(run.code, 0);
    assert!(!empty.path().join("pimlab.db").exists(), "config fidelity created a store");
}

#[test]
fn policy_show_names_the_fidelity_switches_that_change_how_its_approval_plays_out() {
    let lab = cli::Lab::demo();
    lab.run(&[
        "policy",
        "set",
        "Security Administrator",
        "--require-approval",
        "true",
        "--approver",
        "kenji",
    ])
    .ok();
    lab.run(&["policy", "show", "Security Administrator"]).ok().out_lacks("Fidelity");
    let two_stages = setting("Serial", vec![stage(json!([])), stage(json!([]))]);
    let body = json!({
        "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyApprovalRule",
        "id": "Approval_EndUser_Assignment",
        "setting": two_stages,
    })
    .to_string();
    lab.run(&[
        "policy",
        "set",
        "Security Administrator",
        "--rule",
        "Approval_EndUser_Assignment",
        "--body",
        &body,
    ])
    .ok();
    lab.run(&["policy", "show", "Security Administrator"])
        .ok()
        .out_has("graph-multi-stage-approvals off: Graph clients cannot decide these 2 stages");
    lab.run(&["config", "fidelity", "set", "graph-multi-stage-approvals", "on"]).ok();
    lab.run(&["config", "fidelity", "set", "portal-extend-renew-windows", "on"]).ok();
    lab.run(&["policy", "show", "Security Administrator"])
        .ok()
        .out_has("graph-multi-stage-approvals on: Graph clients can decide these 2 stages")
        .out_has("portal-extend-renew-windows on: extend only in the 14 days before the end");
}
