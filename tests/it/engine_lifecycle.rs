//! The request lifecycle through the engine's public API, held to the references
//! (`reference/graph-pim.md` §2.3, §2.6-2.7, §3, §7 and `reference/graph-pim-addendum.md`).
//!
//! Every test starts from `InitOptions::default()` (seed and clock pinned) in an in-memory store,
//! so ids and times are the same on every run. Tests named after a bug they once showed stay as
//! regression tests.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pimlab::engine::fidelity;
use pimlab::engine::{AuditQuery, Engine, InitOptions, NewObject, RequestFilter, Session};
use pimlab::model::builtin_roles::{DIRECTORY_READERS, GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR};
use pimlab::model::policy;
use pimlab::model::{
    Action, ApiError, AssignmentType, ExpirationType, FidelitySwitch, IsoDuration, MemberType, NewRequest,
    PrincipalKind, RequestKind, Schedule, ScheduleRequest, ScheduleState, Status, Surface, TicketInfo,
    Timestamp,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::engine::{RequestExt, days, hours, mins, req};
use crate::harness::store::{self, FileTenant};
use crate::harness::{HELPDESK_ADMIN, REPORTS_READER, SECURITY_READER, USER_ADMIN};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const ELIG: RequestKind = RequestKind::Eligibility;
const ASSIGN: RequestKind = RequestKind::Assignment;

const NOT_FOUND_MESSAGE: &str = "The role assignment request is not found";
const DOES_NOT_EXIST_MESSAGE: &str = "The Role assignment does not exist.";
const EXISTS_MESSAGE: &str = "The Role assignment already exists.";
const UNAUTHORIZED_MESSAGE: &str = "Attempted to perform an unauthorized operation.";
const TOO_SHORT_MESSAGE: &str = "The Active duration is too short. Miniumum Required is 5 minutes.";

/// A tenant made with `demo = false`: the break-glass Global Administrator, three users with no
/// roles, a role-assignable group (member: bob), a group that is not role-assignable (member:
/// alice), a service principal, and a user that is only used to probe the id generator.
struct Lab {
    e: Engine,
    admin: Session,
    alice: String,
    bob: String,
    carol: String,
    probe: String,
    tier0: String,
    staff: String,
    sp: String,
}

fn lab() -> Lab {
    lab_with(&InitOptions::default())
}

fn lab_with(opts: &InitOptions) -> Lab {
    let mut e = Engine::in_memory().expect("in-memory store");
    let summary = e.init(opts).expect("init");
    let admin = Session::new(summary.break_glass_id.clone());
    let make = |e: &mut Engine, kind: PrincipalKind, name: &str, upn: Option<&str>, assignable: bool| {
        e.create_object(
            &admin,
            NewObject {
                kind: Some(kind),
                display_name: name.into(),
                user_principal_name: upn.map(|u| format!("{u}@contoso.example")),
                is_assignable_to_role: assignable,
                security_enabled: kind == PrincipalKind::Group,
                ..Default::default()
            },
        )
        .expect("create object")
        .id
    };
    let alice = make(&mut e, PrincipalKind::User, "Alice", Some("alice"), false);
    let bob = make(&mut e, PrincipalKind::User, "Bob", Some("bob"), false);
    let carol = make(&mut e, PrincipalKind::User, "Carol", Some("carol"), false);
    let probe = make(&mut e, PrincipalKind::User, "Probe", Some("probe"), false);
    let tier0 = make(&mut e, PrincipalKind::Group, "Tier0", None, true);
    let staff = make(&mut e, PrincipalKind::Group, "Staff", None, false);
    let sp = make(&mut e, PrincipalKind::ServicePrincipal, "Sync", None, false);
    e.add_member(&admin, &tier0, &bob, "member").expect("member");
    e.add_member(&admin, &staff, &alice, "member").expect("member");
    Lab { e, admin, alice, bob, carol, probe, tier0, staff, sp }
}

impl Lab {
    fn submit(&mut self, who: &Session, r: NewRequest) -> Result<ScheduleRequest, ApiError> {
        self.e.submit(who, &r)
    }

    /// Submits as the break-glass administrator.
    fn admin_submit(&mut self, r: NewRequest) -> Result<ScheduleRequest, ApiError> {
        self.e.submit(&self.admin, &r)
    }

    /// `principal` submits `action` for itself.
    fn self_submit(&mut self, r: NewRequest) -> Result<ScheduleRequest, ApiError> {
        let who = Session::new(r.principal_id.clone());
        self.e.submit(&who, &r)
    }

    fn make_eligible(&mut self, principal: &str, role: &str) -> ScheduleRequest {
        let r = req(ELIG, Action::AdminAssign, principal, role).permanent();
        self.admin_submit(r).expect("eligibility assigned")
    }

    fn activate(&mut self, principal: &str, role: &str, d: IsoDuration) -> Result<ScheduleRequest, ApiError> {
        self.self_submit(req(ASSIGN, Action::SelfActivate, principal, role).lasting(d))
    }

    fn advance(&mut self, d: IsoDuration) {
        self.e.advance_by(&self.admin, d).expect("advance");
    }

    fn now(&mut self) -> Timestamp {
        self.e.now().expect("now")
    }

    fn request(&mut self, id: &str) -> ScheduleRequest {
        self.e.request(id, None).expect("request exists")
    }

    fn schedules(&mut self, kind: RequestKind, principal: &str) -> Vec<Schedule> {
        self.e.schedules(kind, Some(principal), None).expect("schedules")
    }

    fn instances(&mut self, kind: RequestKind, principal: &str) -> Vec<Schedule> {
        self.e.instances(kind, Some(principal), None).expect("instances")
    }

    fn set_rule(&mut self, role: &str, rule_id: &str, patch: Value) {
        let policy = self.e.policy_for_role(role).expect("policy");
        self.e.update_rule(&self.admin, &policy.id, rule_id, &patch).expect("rule updated");
    }

    fn require_approval(&mut self, role: &str) {
        self.set_rule(
            role,
            policy::APPROVAL_END_USER_ASSIGNMENT,
            json!({"setting": {
                "isApprovalRequired": true,
                "isApprovalRequiredForExtension": false,
                "isRequestorJustificationRequired": true,
                "approvalMode": "SingleStage",
                "approvalStages": [{
                    "approvalStageTimeOutInDays": 1,
                    "isApproverJustificationRequired": true,
                    "escalationTimeInMinutes": 0,
                    "isEscalationEnabled": false,
                    "primaryApprovers": [],
                    "escalationApprovers": []
                }]
            }}),
        );
    }

    /// Everything the public API can list, plus the id the generator would hand out next (read
    /// through a validation-only request, which stores nothing).
    fn dump(&mut self) -> String {
        let e = &mut self.e;
        let mut out = String::new();
        writeln!(out, "now {:?}", e.now().unwrap()).unwrap();
        let requests = e.requests(&RequestFilter::default()).unwrap();
        writeln!(out, "requests {requests:#?}").unwrap();
        for kind in [ELIG, ASSIGN] {
            writeln!(out, "schedules {:#?}", e.schedules(kind, None, None).unwrap()).unwrap();
            writeln!(out, "instances {:#?}", e.instances(kind, None, None).unwrap()).unwrap();
        }
        for q in &requests {
            for id in
                [Some(&q.id), q.target_schedule_id.as_ref(), q.activated_using.as_ref()].into_iter().flatten()
            {
                writeln!(out, "schedule {id} {:#?}", e.schedule_any(id).unwrap()).unwrap();
            }
        }
        // A refused request leaves its own audit record and nothing else (invariant 3).
        let audit: Vec<_> =
            e.audit(&AuditQuery::default()).unwrap().into_iter().filter(|a| a.result != "failure").collect();
        writeln!(out, "audit {audit:#?}").unwrap();
        for kind in [
            PrincipalKind::User,
            PrincipalKind::Group,
            PrincipalKind::ServicePrincipal,
            PrincipalKind::AdministrativeUnit,
        ] {
            writeln!(out, "objects {:#?}", e.objects(kind).unwrap()).unwrap();
        }
        writeln!(out, "policies {:#?}", e.policies(true).unwrap()).unwrap();
        let probe = req(ELIG, Action::AdminAssign, &self.probe, REPORTS_READER).permanent().validation_only();
        let next = e.submit(&self.admin, &probe).expect("probe validates");
        writeln!(out, "next id {}", next.id).unwrap();
        out
    }
}

#[track_caller]
fn expect_err(r: Result<ScheduleRequest, ApiError>, status: u16, code: &str) -> ApiError {
    match r {
        Ok(q) => panic!("expected {status} {code}, got a {} request {}", q.status, q.id),
        Err(e) => {
            assert_eq!((e.status, e.code.as_str()), (status, code), "{e}");
            e
        }
    }
}

#[track_caller]
fn policy_failure(r: Result<ScheduleRequest, ApiError>) -> String {
    expect_err(r, 400, "RoleAssignmentRequestPolicyValidationFailed").message
}

/// Splits an instance / role-assignment id (reference §3.10) into role, principal and whether it
/// is an eligibility instance.
fn decode_instance_id(id: &str) -> (String, String, bool) {
    let (body, eligibility) = match id.strip_suffix("-1-e") {
        Some(b) => (b, true),
        None => (id.strip_suffix("-1").expect("ends in -1"), false),
    };
    let bytes = URL_SAFE_NO_PAD.decode(body).expect("base64url without padding");
    assert_eq!(bytes.len(), 32, "two GUIDs for a tenant-scoped id: {id}");
    let role = Uuid::from_bytes_le(bytes[..16].try_into().unwrap());
    let principal = Uuid::from_bytes_le(bytes[16..].try_into().unwrap());
    (role.to_string(), principal.to_string(), eligibility)
}

// ---------------------------------------------------------------------------------------------
// adminAssign
// ---------------------------------------------------------------------------------------------

#[test]
fn admin_assign_eligibility_is_provisioned_with_schedule_and_instance_keyed_by_the_request() {
    let mut t = lab();
    let now = t.now();
    let alice = t.alice.clone();
    let q = t.make_eligible(&alice, USER_ADMIN);
    assert_eq!(q.status, Status::Provisioned);
    assert_eq!(q.action, Action::AdminAssign);
    assert_eq!(q.kind, ELIG);
    assert_eq!(q.completed_at, Some(now));
    assert_eq!(q.created_at, now);
    assert_eq!(q.created_by, t.admin.caller);
    assert_eq!(q.target_schedule_id.as_deref(), Some(q.id.as_str()));
    assert_eq!(q.approval_id, None);
    let info = q.schedule_info.clone().expect("echoed schedule");
    assert_eq!(info.start, Some(now), "an absent start becomes the processing time");
    assert_eq!(info.expiration.kind, ExpirationType::NoExpiration);

    let schedules = t.schedules(ELIG, &alice);
    assert_eq!(schedules.len(), 1);
    let s = &schedules[0];
    assert_eq!(s.id, q.id, "schedule id == request id");
    assert_eq!(s.created_using.as_deref(), Some(q.id.as_str()));
    assert_eq!(s.status, Status::Provisioned);
    assert_eq!(s.member_type, MemberType::Direct);
    assert_eq!(s.assignment_type, None, "eligibilities have no assignmentType");
    assert_eq!(s.end_at, None);

    let instances = t.instances(ELIG, &alice);
    assert_eq!(instances.len(), 1);
    assert!(instances[0].instance_id.ends_with("-1-e"), "{}", instances[0].instance_id);
    assert_eq!(decode_instance_id(&instances[0].instance_id), (USER_ADMIN.to_string(), alice.clone(), true));
    assert!(t.instances(ASSIGN, &alice).is_empty(), "an eligibility is not a role assignment");
}

#[test]
fn admin_assign_active_is_an_assigned_role_assignment_with_the_documented_id() {
    let mut t = lab();
    let alice = t.alice.clone();
    let q =
        t.admin_submit(req(ASSIGN, Action::AdminAssign, &alice, SECURITY_READER).lasting(days(30))).unwrap();
    assert_eq!(q.status, Status::Provisioned);
    assert_eq!(q.target_schedule_id.as_deref(), Some(q.id.as_str()));
    let s = t.e.schedule(ASSIGN, &q.id).unwrap().expect("schedule under the request id");
    assert_eq!(s.created_using.as_deref(), Some(q.id.as_str()));
    assert_eq!(s.assignment_type, Some(AssignmentType::Assigned));
    assert_eq!(s.member_type, MemberType::Direct);
    assert_eq!(s.activated_using, None);
    assert_eq!(s.end_at, Some(q.created_at + days(30).as_delta()));
    let (role, principal, eligibility) = decode_instance_id(&s.instance_id);
    assert_eq!((role.as_str(), principal.as_str(), eligibility), (SECURITY_READER, alice.as_str(), false));
    let by_id = t.e.instance(ASSIGN, &s.instance_id).unwrap().expect("role assignment");
    assert_eq!(by_id.id, q.id);
}

#[test]
fn seeded_break_glass_assignment_is_a_non_pim_assignment_keyed_by_the_role_assignment_id() {
    let mut t = lab();
    let admin = t.admin.caller.clone();
    let (s, azure): (Vec<Schedule>, Vec<Schedule>) =
        t.schedules(ASSIGN, &admin).into_iter().partition(|s| s.surface == Surface::Directory);
    // Its Azure side: User Access Administrator at the tenant root group, as after Entra's
    // "elevate access", so that someone can assign the first Azure roles.
    assert_eq!(azure.len(), 1, "{azure:#?}");
    assert_eq!(azure[0].role_definition_id, pimlab::model::azure_roles::USER_ACCESS_ADMINISTRATOR);
    assert!(
        azure[0]
            .directory_scope_id
            .as_deref()
            .unwrap()
            .starts_with("/providers/Microsoft.Management/managementGroups/")
    );
    assert_eq!(azure[0].id, azure[0].instance_id);
    assert_eq!(s.len(), 1);
    let s = &s[0];
    assert_eq!(s.role_definition_id, GLOBAL_ADMINISTRATOR);
    assert_eq!(s.id, s.instance_id, "reference §3.9: same id as the role assignment");
    assert_eq!(s.created_using, None);
    assert_eq!(s.created_at, None);
    assert_eq!(s.assignment_type, Some(AssignmentType::Assigned));
    assert_eq!(s.member_type, MemberType::Direct);
    assert_eq!(decode_instance_id(&s.instance_id), (GLOBAL_ADMINISTRATOR.to_string(), admin.clone(), false));
}

#[test]
fn every_successful_request_writes_one_audit_row_naming_it() {
    let mut t = lab();
    let alice = t.alice.clone();
    let q = t.make_eligible(&alice, USER_ADMIN);
    let rows: Vec<_> =
        t.e.audit(&AuditQuery::default())
            .unwrap()
            .into_iter()
            .filter(|a| a.request_id.as_deref() == Some(q.id.as_str()))
            .collect();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0].actor_id, t.admin.caller);
}

// ---------------------------------------------------------------------------------------------
// adminUpdate, adminExtend, adminRenew, adminRemove
// ---------------------------------------------------------------------------------------------

#[test]
fn admin_update_replaces_the_schedule_under_the_new_request_id_keeping_the_instance_id() {
    for kind in [ELIG, ASSIGN] {
        let mut t = lab();
        let alice = t.alice.clone();
        let first = t.admin_submit(req(kind, Action::AdminAssign, &alice, USER_ADMIN).permanent()).unwrap();
        let old_instance = t.instances(kind, &alice)[0].instance_id.clone();
        t.advance(hours(1));
        let update =
            t.admin_submit(req(kind, Action::AdminUpdate, &alice, USER_ADMIN).lasting(days(90))).unwrap();
        assert_eq!(update.status, Status::Provisioned, "{kind:?}");
        assert_eq!(update.action, Action::AdminUpdate);
        assert_ne!(update.id, first.id);
        assert_eq!(update.target_schedule_id.as_deref(), Some(update.id.as_str()));
        let schedules = t.schedules(kind, &alice);
        assert_eq!(schedules.len(), 1, "the old schedule leaves the listing ({kind:?})");
        assert_eq!(schedules[0].id, update.id);
        assert_eq!(schedules[0].created_using.as_deref(), Some(update.id.as_str()));
        assert_eq!(schedules[0].schedule_info.expiration.kind, ExpirationType::AfterDuration);
        assert_eq!(t.e.schedule(kind, &first.id).unwrap(), None);
        let instances = t.instances(kind, &alice);
        assert_eq!(instances.len(), 1);
        assert_eq!(instances[0].instance_id, old_instance, "instance ids do not change");
    }
}

#[test]
fn admin_extend_in_the_last_14_days_replaces_the_schedule_with_a_later_end() {
    for kind in [ELIG, ASSIGN] {
        let mut t = lab();
        let alice = t.alice.clone();
        let first =
            t.admin_submit(req(kind, Action::AdminAssign, &alice, USER_ADMIN).lasting(days(20))).unwrap();
        t.advance(days(7));
        let ext =
            t.admin_submit(req(kind, Action::AdminExtend, &alice, USER_ADMIN).lasting(days(60))).unwrap();
        assert_eq!(ext.status, Status::Provisioned, "{kind:?}");
        assert_eq!(ext.target_schedule_id.as_deref(), Some(ext.id.as_str()));
        let now = t.now();
        let s = t.schedules(kind, &alice);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].id, ext.id);
        assert_eq!(s[0].end_at, Some(now + days(60).as_delta()));
        assert_eq!(t.e.schedule(kind, &first.id).unwrap(), None);
        // The old end passes without effect.
        t.advance(days(14));
        assert_eq!(t.instances(kind, &alice).len(), 1);
    }
}

#[test]
fn admin_renew_within_30_days_of_expiry_restores_the_item() {
    for kind in [ELIG, ASSIGN] {
        let mut t = lab();
        let alice = t.alice.clone();
        t.admin_submit(req(kind, Action::AdminAssign, &alice, USER_ADMIN).lasting(days(10))).unwrap();
        t.advance(days(11));
        assert!(t.schedules(kind, &alice).is_empty(), "expired ({kind:?})");
        assert!(t.instances(kind, &alice).is_empty());
        let renew =
            t.admin_submit(req(kind, Action::AdminRenew, &alice, USER_ADMIN).lasting(days(30))).unwrap();
        assert_eq!(renew.status, Status::Provisioned);
        assert_eq!(renew.action, Action::AdminRenew);
        assert_eq!(renew.target_schedule_id.as_deref(), Some(renew.id.as_str()));
        let s = t.schedules(kind, &alice);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].id, renew.id);
        assert_eq!(t.instances(kind, &alice).len(), 1);
    }
}

#[test]
fn admin_remove_is_revoked_with_null_schedule_fields_and_ends_the_instance() {
    for kind in [ELIG, ASSIGN] {
        let mut t = lab();
        let alice = t.alice.clone();
        let assigned =
            t.admin_submit(req(kind, Action::AdminAssign, &alice, USER_ADMIN).permanent()).unwrap();
        t.advance(mins(10));
        let removal = req(kind, Action::AdminRemove, &alice, USER_ADMIN).without_justification();
        let q = t.admin_submit(removal).unwrap();
        // Addendum §1: Revoked, completedDateTime null, scheduleInfo null, targetScheduleId null.
        assert_eq!(q.status, Status::Revoked, "{kind:?}");
        assert_eq!(q.action, Action::AdminRemove);
        assert_eq!(q.completed_at, None);
        assert_eq!(q.schedule_info, None);
        assert_eq!(q.target_schedule_id, None);
        assert!(t.schedules(kind, &alice).is_empty());
        assert!(t.instances(kind, &alice).is_empty());
        assert_eq!(t.e.schedule(kind, &assigned.id).unwrap(), None);
        assert_eq!(t.request(&q.id).status, Status::Revoked, "the removal is stored");
    }
}

// ---------------------------------------------------------------------------------------------
// selfActivate, selfDeactivate, selfExtend, selfRenew
// ---------------------------------------------------------------------------------------------

#[test]
fn self_activate_creates_an_activated_assignment_linked_to_the_eligibility() {
    let mut t = lab();
    let alice = t.alice.clone();
    let elig = t.make_eligible(&alice, USER_ADMIN);
    let now = t.now();
    let q = t.activate(&alice, USER_ADMIN, hours(2)).unwrap();
    assert_eq!(q.status, Status::Provisioned);
    assert_eq!(q.action, Action::SelfActivate);
    assert_eq!(q.created_by, alice);
    assert_eq!(q.completed_at, Some(now));
    assert_eq!(q.target_schedule_id.as_deref(), Some(q.id.as_str()));
    assert_eq!(q.activated_using.as_deref(), Some(elig.id.as_str()));
    let s = t.e.schedule(ASSIGN, &q.id).unwrap().expect("activation schedule");
    assert_eq!(s.created_using.as_deref(), Some(q.id.as_str()));
    assert_eq!(s.assignment_type, Some(AssignmentType::Activated));
    assert_eq!(s.member_type, MemberType::Direct);
    assert_eq!(s.activated_using.as_deref(), Some(elig.id.as_str()));
    assert_eq!(s.end_at, Some(now + hours(2).as_delta()));
    let inst = t.instances(ASSIGN, &alice);
    assert_eq!(inst.len(), 1);
    assert_eq!(decode_instance_id(&inst[0].instance_id), (USER_ADMIN.to_string(), alice.clone(), false));
    // The eligibility is untouched (reference §3.1).
    assert_eq!(t.schedules(ELIG, &alice).len(), 1);
    assert_eq!(t.instances(ELIG, &alice).len(), 1);
}

#[test]
fn self_activate_without_schedule_info_lasts_the_policy_maximum() {
    // Addendum §4 (simulator choice): no scheduleInfo → start now, afterDuration = maximumDuration.
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    let now = t.now();
    let q = t.self_submit(req(ASSIGN, Action::SelfActivate, &alice, USER_ADMIN)).unwrap();
    let info = q.schedule_info.expect("schedule");
    assert_eq!(info.expiration.kind, ExpirationType::AfterDuration);
    assert_eq!(info.expiration.duration, Some(hours(8)));
    let s = t.e.schedule(ASSIGN, &q.id).unwrap().unwrap();
    assert_eq!(s.end_at, Some(now + hours(8).as_delta()));
}

#[test]
fn self_deactivate_after_5_minutes_is_revoked_and_ends_the_activation() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    let act = t.activate(&alice, USER_ADMIN, hours(2)).unwrap();
    t.advance(mins(5));
    let q = t
        .self_submit(req(ASSIGN, Action::SelfDeactivate, &alice, USER_ADMIN).without_justification())
        .unwrap();
    assert_eq!(q.status, Status::Revoked);
    assert_eq!(q.action, Action::SelfDeactivate);
    assert_eq!(q.completed_at, None);
    assert_eq!(q.schedule_info, None);
    assert_eq!(q.target_schedule_id, None);
    assert!(t.instances(ASSIGN, &alice).is_empty());
    assert_eq!(t.e.schedule(ASSIGN, &act.id).unwrap(), None);
    assert_eq!(t.instances(ELIG, &alice).len(), 1, "the eligibility stays");
    // And the role can be activated again.
    assert_eq!(t.activate(&alice, USER_ADMIN, hours(1)).unwrap().status, Status::Provisioned);
}

#[test]
fn self_extend_in_the_last_14_days_waits_for_an_admin_decision() {
    for kind in [ELIG, ASSIGN] {
        let mut t = lab();
        let alice = t.alice.clone();
        let held =
            t.admin_submit(req(kind, Action::AdminAssign, &alice, USER_ADMIN).lasting(days(20))).unwrap();
        t.advance(days(10));
        let q = t.self_submit(req(kind, Action::SelfExtend, &alice, USER_ADMIN).lasting(days(30))).unwrap();
        assert_eq!(q.status, Status::PendingAdminDecision, "{kind:?}");
        assert_eq!(q.action, Action::SelfExtend);
        assert_eq!(q.target_schedule_id.as_deref(), Some(held.id.as_str()));
        assert_eq!(q.completed_at, None);
        // Nothing changes until an administrator acts.
        let s = t.schedules(kind, &alice);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].id, held.id);
        assert_eq!(t.e.schedule_any(&q.id).unwrap(), None);
        assert_eq!(t.request(&q.id).status, Status::PendingAdminDecision);
    }
}

#[test]
fn self_renew_within_30_days_of_expiry_waits_for_an_admin_decision() {
    for kind in [ELIG, ASSIGN] {
        let mut t = lab();
        let alice = t.alice.clone();
        let held =
            t.admin_submit(req(kind, Action::AdminAssign, &alice, USER_ADMIN).lasting(days(10))).unwrap();
        t.advance(days(20));
        let q = t.self_submit(req(kind, Action::SelfRenew, &alice, USER_ADMIN).lasting(days(30))).unwrap();
        assert_eq!(q.status, Status::PendingAdminDecision, "{kind:?}");
        assert_eq!(q.action, Action::SelfRenew);
        assert_eq!(q.target_schedule_id.as_deref(), Some(held.id.as_str()));
        assert!(t.schedules(kind, &alice).is_empty(), "still expired");
    }
}

#[test]
fn self_extend_and_renew_need_mfa_and_a_justification() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.admin_submit(req(ELIG, Action::AdminAssign, &alice, USER_ADMIN).lasting(days(10))).unwrap();
    let no_mfa = Session { mfa: false, ..Session::new(alice.clone()) };
    let r = req(ELIG, Action::SelfExtend, &alice, USER_ADMIN).lasting(days(30)).without_justification();
    assert_eq!(
        policy_failure(t.submit(&no_mfa, r)),
        r#"The following policy rules failed: ["MfaRule","JustificationRule"]"#
    );
}

// ---------------------------------------------------------------------------------------------
// Statuses: Granted → Provisioned, PendingApproval, Failed
// ---------------------------------------------------------------------------------------------

#[test]
fn future_start_is_granted_until_the_clock_passes_the_start_then_provisioned() {
    for kind in [ELIG, ASSIGN] {
        let mut t = lab();
        let alice = t.alice.clone();
        let start = t.now() + days(1).as_delta();
        let q = t
            .admin_submit(req(kind, Action::AdminAssign, &alice, USER_ADMIN).starting(start, days(7)))
            .unwrap();
        // Addendum §9: Granted, completedDateTime = the future start; schedule Granted; no instance.
        assert_eq!(q.status, Status::Granted, "{kind:?}");
        assert_eq!(q.completed_at, Some(start));
        assert_eq!(q.schedule_info.as_ref().unwrap().start, Some(start));
        let s = t.schedules(kind, &alice);
        assert_eq!(s.len(), 1, "future schedules are listed");
        assert_eq!(s[0].status, Status::Granted);
        assert!(t.instances(kind, &alice).is_empty());
        let instance_id = s[0].instance_id.clone();
        assert_eq!(t.e.instance(kind, &instance_id).unwrap(), None);

        t.advance(hours(23));
        assert_eq!(t.request(&q.id).status, Status::Granted);
        t.advance(hours(1));
        let after = t.request(&q.id);
        assert_eq!(after.status, Status::Provisioned);
        assert_eq!(after.completed_at, Some(start), "completedDateTime is left as it was");
        assert_eq!(t.schedules(kind, &alice)[0].status, Status::Provisioned);
        assert_eq!(t.instances(kind, &alice).len(), 1);
        assert!(t.e.instance(kind, &instance_id).unwrap().is_some());
    }
}

#[test]
fn future_activation_is_granted_then_provisioned_then_expires() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    let start = t.now() + hours(1).as_delta();
    let q = t
        .self_submit(req(ASSIGN, Action::SelfActivate, &alice, USER_ADMIN).starting(start, hours(2)))
        .unwrap();
    assert_eq!(q.status, Status::Granted);
    assert_eq!(q.completed_at, Some(start));
    assert!(t.instances(ASSIGN, &alice).is_empty());
    t.advance(hours(1));
    assert_eq!(t.request(&q.id).status, Status::Provisioned);
    assert_eq!(t.instances(ASSIGN, &alice).len(), 1);
    t.advance(hours(2));
    assert!(t.instances(ASSIGN, &alice).is_empty());
}

#[test]
fn activation_needing_approval_is_pending_approval_with_the_request_id_as_approval_id() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    t.require_approval(USER_ADMIN);
    let q = t.activate(&alice, USER_ADMIN, hours(1)).unwrap();
    assert_eq!(q.status, Status::PendingApproval);
    assert_eq!(q.approval_id.as_deref(), Some(q.id.as_str()));
    assert_eq!(q.completed_at, None);
    let info = q.schedule_info.clone().expect("echoed");
    assert_eq!(info.start, None, "reference §3.3: start null until approved");
    assert_eq!(info.expiration.duration, Some(hours(1)));
    assert!(t.instances(ASSIGN, &alice).is_empty());
    assert!(t.schedules(ASSIGN, &alice).is_empty());
    assert_eq!(t.e.schedule_any(&q.id).unwrap(), None);
    assert_eq!(t.request(&q.id).status, Status::PendingApproval);
}

#[test]
fn pending_approval_times_out_after_the_stage_timeout() {
    // Addendum §2 simulator choice (fidelity::APPROVAL_TIMEOUT_STATUS): when
    // approvalStageTimeOutInDays passes with no decision, the request becomes TimedOut.
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    t.require_approval(USER_ADMIN);
    let q = t.activate(&alice, USER_ADMIN, hours(1)).unwrap();
    t.advance(days(1));
    t.advance(mins(1));
    let after = t.request(&q.id);
    assert_eq!(after.status, fidelity::APPROVAL_TIMEOUT_STATUS);
    assert_eq!(after.completed_at, None);
    assert!(t.schedules(ASSIGN, &alice).is_empty());
}

#[test]
fn future_activation_fails_when_its_eligibility_is_removed_before_it_starts() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    t.advance(mins(10));
    let start = t.now() + hours(1).as_delta();
    let act = t
        .self_submit(req(ASSIGN, Action::SelfActivate, &alice, USER_ADMIN).starting(start, hours(2)))
        .unwrap();
    assert_eq!(act.status, Status::Granted);
    t.admin_submit(req(ELIG, Action::AdminRemove, &alice, USER_ADMIN)).unwrap();
    t.advance(hours(1));
    let after = t.request(&act.id);
    assert_eq!(after.status, Status::Failed);
    assert!(t.instances(ASSIGN, &alice).is_empty());
    assert!(t.schedules(ASSIGN, &alice).is_empty());
    assert_eq!(t.e.schedule(ASSIGN, &act.id).unwrap(), None);
    // A failed request cannot be cancelled (reference §3.7).
    expect_err(t.e.cancel(&Session::new(alice), ASSIGN, &act.id), 400, "RequestCannotBeCancelled");
}

#[test]
fn future_activation_survives_an_update_of_its_eligibility() {
    // Addendum §8: adminUpdate replaces the schedule of the *same* eligibility (same instance id);
    // the principal stays eligible throughout, so a Granted activation should still start
    // (addendum §9) rather than fail as if the eligibility were gone.
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    t.advance(mins(10));
    let start = t.now() + hours(1).as_delta();
    let act = t
        .self_submit(req(ASSIGN, Action::SelfActivate, &alice, USER_ADMIN).starting(start, hours(2)))
        .unwrap();
    t.admin_submit(req(ELIG, Action::AdminUpdate, &alice, USER_ADMIN).lasting(days(365))).unwrap();
    assert_eq!(t.instances(ELIG, &alice).len(), 1, "alice is still eligible");
    t.advance(hours(1));
    assert_eq!(t.request(&act.id).status, Status::Provisioned);
    assert_eq!(t.instances(ASSIGN, &alice).len(), 1);
}

#[test]
fn a_future_dated_update_leaves_current_access_until_it_starts() {
    // Addendum §9: a Granted request is not yet effective; instances follow what is in effect.
    // Alice's permanent eligibility is in effect until the replacement starts.
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    let start = t.now() + days(1).as_delta();
    let update =
        t.admin_submit(req(ELIG, Action::AdminUpdate, &alice, USER_ADMIN).starting(start, days(30))).unwrap();
    assert_eq!(update.status, Status::Granted);
    assert_eq!(t.instances(ELIG, &alice).len(), 1, "alice is still eligible today");
    let activation = t.activate(&alice, USER_ADMIN, hours(1)).expect("and can activate");
    assert_eq!(activation.status, Status::Provisioned);
}

#[test]
fn cancelling_a_future_dated_update_keeps_the_original_item() {
    // Reference §3.7 / addendum §12: cancel withdraws a Granted request; nothing says it deletes
    // the item the request was going to replace.
    let mut t = lab();
    let alice = t.alice.clone();
    let original = t.make_eligible(&alice, USER_ADMIN);
    let start = t.now() + days(1).as_delta();
    let update =
        t.admin_submit(req(ELIG, Action::AdminUpdate, &alice, USER_ADMIN).starting(start, days(30))).unwrap();
    t.e.cancel(&t.admin, ELIG, &update.id).unwrap();
    let s = t.schedules(ELIG, &alice);
    assert_eq!(s.len(), 1, "the original eligibility is still there");
    assert_eq!(s[0].id, original.id);
    assert_eq!(t.instances(ELIG, &alice).len(), 1);
}

#[test]
fn an_admin_update_of_an_activation_keeps_assignment_type_and_activated_using_consistent() {
    // Reference §1.10: activatedUsing is non-null only for activations; §2.5: Activated comes from
    // selfActivate, Assigned from an admin. A schedule may not be Assigned *and* carry activatedUsing.
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    t.activate(&alice, USER_ADMIN, hours(2)).unwrap();
    let u = t.admin_submit(req(ASSIGN, Action::AdminUpdate, &alice, USER_ADMIN).lasting(hours(4))).unwrap();
    let s = t.e.schedule(ASSIGN, &u.id).unwrap().expect("replacement schedule");
    match s.assignment_type {
        Some(AssignmentType::Activated) => assert!(s.activated_using.is_some()),
        other => {
            assert_eq!(other, Some(AssignmentType::Assigned));
            assert_eq!(s.activated_using, None, "an Assigned schedule names no eligibility");
        }
    }
}

#[test]
fn an_admin_extend_answers_a_pending_self_extend() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.admin_submit(req(ELIG, Action::AdminAssign, &alice, USER_ADMIN).lasting(days(10))).unwrap();
    let asked = t.self_submit(req(ELIG, Action::SelfExtend, &alice, USER_ADMIN).lasting(days(30))).unwrap();
    let answer =
        t.admin_submit(req(ELIG, Action::AdminExtend, &alice, USER_ADMIN).lasting(days(30))).unwrap();
    assert_eq!(answer.status, Status::Provisioned);
    let closed = t.request(&asked.id);
    assert_ne!(closed.status, Status::PendingAdminDecision, "the self-extend is answered");
    assert_eq!(closed.target_schedule_id.as_deref(), Some(answer.id.as_str()));
    // Nothing is pending any more.
    expect_err(t.e.cancel(&Session::new(alice), ELIG, &asked.id), 400, "RequestCannotBeCancelled");
}

#[test]
fn an_admin_renew_answers_a_pending_self_renew() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.admin_submit(req(ASSIGN, Action::AdminAssign, &alice, USER_ADMIN).lasting(days(10))).unwrap();
    t.advance(days(12));
    let asked = t.self_submit(req(ASSIGN, Action::SelfRenew, &alice, USER_ADMIN).lasting(days(30))).unwrap();
    let answer =
        t.admin_submit(req(ASSIGN, Action::AdminRenew, &alice, USER_ADMIN).lasting(days(30))).unwrap();
    assert_eq!(answer.status, Status::Provisioned);
    let closed = t.request(&asked.id);
    assert_ne!(closed.status, Status::PendingAdminDecision);
    assert_eq!(closed.target_schedule_id.as_deref(), Some(answer.id.as_str()));
    assert_eq!(t.instances(ASSIGN, &alice).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// cancel
// ---------------------------------------------------------------------------------------------

#[test]
fn cancelling_a_granted_assignment_request_gives_canceled_and_drops_its_schedule() {
    let mut t = lab();
    let alice = t.alice.clone();
    let start = t.now() + days(2).as_delta();
    let q = t
        .admin_submit(req(ASSIGN, Action::AdminAssign, &alice, USER_ADMIN).starting(start, days(7)))
        .unwrap();
    let now = t.now();
    let c = t.e.cancel(&t.admin, ASSIGN, &q.id).unwrap();
    assert_eq!(c.status, Status::Canceled);
    assert_eq!(c.canceled_at, Some(now));
    assert_eq!(t.request(&q.id).status, Status::Canceled);
    assert!(t.schedules(ASSIGN, &alice).is_empty());
    t.advance(days(3));
    assert!(t.instances(ASSIGN, &alice).is_empty(), "a cancelled request never starts");
    assert_eq!(t.request(&q.id).status, Status::Canceled);
}

#[test]
fn cancelling_a_granted_eligibility_request_gives_revoked() {
    let mut t = lab();
    let alice = t.alice.clone();
    let start = t.now() + days(2).as_delta();
    let q =
        t.admin_submit(req(ELIG, Action::AdminAssign, &alice, USER_ADMIN).starting(start, days(7))).unwrap();
    let c = t.e.cancel(&t.admin, ELIG, &q.id).unwrap();
    assert_eq!(c.status, Status::Revoked);
    assert!(t.schedules(ELIG, &alice).is_empty());
}

#[test]
fn the_requester_can_cancel_a_pending_approval_activation() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    t.require_approval(USER_ADMIN);
    let q = t.activate(&alice, USER_ADMIN, hours(1)).unwrap();
    let c = t.e.cancel(&Session::new(alice.clone()), ASSIGN, &q.id).unwrap();
    assert_eq!(c.status, Status::Canceled);
    // With nothing pending any more, a new activation request is accepted.
    assert_eq!(t.activate(&alice, USER_ADMIN, hours(1)).unwrap().status, Status::PendingApproval);
}

#[test]
fn pending_admin_decision_requests_can_be_cancelled() {
    for (kind, expected) in [(ELIG, Status::Revoked), (ASSIGN, Status::Canceled)] {
        let mut t = lab();
        let alice = t.alice.clone();
        t.admin_submit(req(kind, Action::AdminAssign, &alice, USER_ADMIN).lasting(days(10))).unwrap();
        let q = t.self_submit(req(kind, Action::SelfExtend, &alice, USER_ADMIN).lasting(days(30))).unwrap();
        let c = t.e.cancel(&Session::new(alice.clone()), kind, &q.id).unwrap();
        assert_eq!(c.status, expected, "{kind:?}");
        assert_eq!(t.schedules(kind, &alice).len(), 1, "the held item is untouched");
    }
}

#[test]
fn cancelling_a_provisioned_revoked_or_canceled_request_fails_with_request_cannot_be_cancelled() {
    let mut t = lab();
    let alice = t.alice.clone();
    let provisioned = t.make_eligible(&alice, USER_ADMIN);
    let err = expect_err(t.e.cancel(&t.admin, ELIG, &provisioned.id), 400, "RequestCannotBeCancelled");
    assert_eq!(err.message, "Request is not in cancellable state.");
    t.advance(mins(10));
    let revoked = t.admin_submit(req(ELIG, Action::AdminRemove, &alice, USER_ADMIN)).unwrap();
    expect_err(t.e.cancel(&t.admin, ELIG, &revoked.id), 400, "RequestCannotBeCancelled");
    let start = t.now() + days(1).as_delta();
    let granted =
        t.admin_submit(req(ELIG, Action::AdminAssign, &alice, USER_ADMIN).starting(start, days(7))).unwrap();
    t.e.cancel(&t.admin, ELIG, &granted.id).unwrap();
    expect_err(t.e.cancel(&t.admin, ELIG, &granted.id), 400, "RequestCannotBeCancelled");
}

#[test]
fn unknown_request_ids_give_role_assignment_request_not_found() {
    let mut t = lab();
    let alice = t.alice.clone();
    let missing = "00000000-0000-4000-8000-000000000000";
    let err = t.e.request(missing, None).unwrap_err();
    assert_eq!(
        (err.status, err.code.as_str(), err.message.as_str()),
        (404, "RoleAssignmentRequestNotFound", NOT_FOUND_MESSAGE)
    );
    let err = expect_err(t.e.cancel(&t.admin, ASSIGN, missing), 404, "RoleAssignmentRequestNotFound");
    assert_eq!(err.message, NOT_FOUND_MESSAGE);
    // An id of the other kind is not found on this collection either.
    let start = t.now() + days(1).as_delta();
    let granted =
        t.admin_submit(req(ELIG, Action::AdminAssign, &alice, USER_ADMIN).starting(start, days(7))).unwrap();
    expect_err(t.e.cancel(&t.admin, ASSIGN, &granted.id), 404, "RoleAssignmentRequestNotFound");
    assert!(t.e.request(&granted.id, Some(ASSIGN)).is_err());
}

#[test]
fn only_the_requester_or_an_administrator_may_cancel() {
    let mut t = lab();
    let (alice, carol) = (t.alice.clone(), t.carol.clone());
    t.make_eligible(&alice, USER_ADMIN);
    let start = t.now() + hours(1).as_delta();
    let q = t
        .self_submit(req(ASSIGN, Action::SelfActivate, &alice, USER_ADMIN).starting(start, hours(1)))
        .unwrap();
    let err = expect_err(t.e.cancel(&Session::new(carol), ASSIGN, &q.id), 403, "UnauthorizedAccessException");
    assert_eq!(err.message, UNAUTHORIZED_MESSAGE);
    assert_eq!(t.e.cancel(&t.admin, ASSIGN, &q.id).unwrap().status, Status::Canceled);
}

// ---------------------------------------------------------------------------------------------
// Policy validation (reference §3.5, §7)
// ---------------------------------------------------------------------------------------------

#[test]
fn policy_validation_lists_every_failing_rule_at_once() {
    let mut t = lab();
    let carol = t.carol.clone();
    t.set_rule(
        USER_ADMIN,
        policy::ENABLEMENT_END_USER_ASSIGNMENT,
        json!({"enabledRules": ["MultiFactorAuthentication", "Justification", "Ticketing"]}),
    );
    let no_mfa = Session { mfa: false, ..Session::new(carol.clone()) };
    // No eligibility, no expiry, no MFA, no justification, no ticket.
    let r = req(ASSIGN, Action::SelfActivate, &carol, USER_ADMIN).permanent().without_justification();
    let err = expect_err(t.submit(&no_mfa, r), 400, "RoleAssignmentRequestPolicyValidationFailed");
    assert_eq!(
        err.message,
        r#"The following policy rules failed: ["EligibilityRule","ExpirationRule","MfaRule","JustificationRule","TicketingRule"]"#
    );
}

#[test]
fn policy_validation_message_has_the_exact_format() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.set_rule(USER_ADMIN, policy::EXPIRATION_ADMIN_ASSIGNMENT, json!({"isExpirationRequired": true}));
    let r = req(ASSIGN, Action::AdminAssign, &alice, USER_ADMIN).permanent().without_justification();
    assert_eq!(
        policy_failure(t.admin_submit(r)),
        r#"The following policy rules failed: ["ExpirationRule","JustificationRule"]"#
    );
}

#[test]
fn activation_without_eligibility_fails_with_eligibility_rule() {
    let mut t = lab();
    let alice = t.alice.clone();
    assert_eq!(
        policy_failure(t.activate(&alice, USER_ADMIN, hours(1))),
        r#"The following policy rules failed: ["EligibilityRule"]"#
    );
    // An eligibility for another role does not help.
    t.make_eligible(&alice, HELPDESK_ADMIN);
    assert_eq!(
        policy_failure(t.activate(&alice, USER_ADMIN, hours(1))),
        r#"The following policy rules failed: ["EligibilityRule"]"#
    );
    // Nor does an eligibility that has not started yet.
    let start = t.now() + days(1).as_delta();
    t.admin_submit(req(ELIG, Action::AdminAssign, &alice, USER_ADMIN).starting(start, days(30))).unwrap();
    assert_eq!(
        policy_failure(t.activate(&alice, USER_ADMIN, hours(1))),
        r#"The following policy rules failed: ["EligibilityRule"]"#
    );
}

#[test]
fn activation_longer_than_the_maximum_or_without_expiry_fails_with_expiration_rule() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    for r in [
        req(ASSIGN, Action::SelfActivate, &alice, USER_ADMIN).lasting(hours(9)),
        req(ASSIGN, Action::SelfActivate, &alice, USER_ADMIN).permanent(),
        req(ASSIGN, Action::SelfActivate, &alice, USER_ADMIN).lasting(mins(4)),
    ] {
        assert_eq!(
            policy_failure(t.self_submit(r)),
            r#"The following policy rules failed: ["ExpirationRule"]"#
        );
    }
    assert_eq!(t.activate(&alice, USER_ADMIN, hours(8)).unwrap().status, Status::Provisioned);
}

#[test]
fn activation_outliving_the_eligibility_fails_with_expiration_rule() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.admin_submit(req(ELIG, Action::AdminAssign, &alice, USER_ADMIN).lasting(hours(2))).unwrap();
    assert_eq!(
        policy_failure(t.activate(&alice, USER_ADMIN, hours(3))),
        r#"The following policy rules failed: ["ExpirationRule"]"#
    );
}

#[test]
fn activation_without_mfa_fails_with_mfa_rule() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    let no_mfa = Session { mfa: false, ..Session::new(alice.clone()) };
    let r = req(ASSIGN, Action::SelfActivate, &alice, USER_ADMIN).lasting(hours(1));
    assert_eq!(policy_failure(t.submit(&no_mfa, r)), r#"The following policy rules failed: ["MfaRule"]"#);
}

#[test]
fn activation_without_justification_fails_with_justification_rule() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    let mut r = req(ASSIGN, Action::SelfActivate, &alice, USER_ADMIN).lasting(hours(1));
    r.justification = Some("   ".into());
    assert_eq!(
        policy_failure(t.self_submit(r)),
        r#"The following policy rules failed: ["JustificationRule"]"#
    );
}

#[test]
fn activation_without_ticket_fails_with_ticketing_rule_when_tickets_are_required() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    t.set_rule(USER_ADMIN, policy::ENABLEMENT_END_USER_ASSIGNMENT, json!({"enabledRules": ["Ticketing"]}));
    let r = req(ASSIGN, Action::SelfActivate, &alice, USER_ADMIN).lasting(hours(1));
    assert_eq!(
        policy_failure(t.self_submit(r.clone())),
        r#"The following policy rules failed: ["TicketingRule"]"#
    );
    let mut with_ticket = r;
    with_ticket.ticket_info = Some(TicketInfo {
        number: Some("INC0012345".into()),
        system: Some("ServiceNow".into()),
        ..TicketInfo::default()
    });
    let q = t.self_submit(with_ticket).unwrap();
    assert_eq!(q.status, Status::Provisioned);
    assert_eq!(q.ticket_info.number.as_deref(), Some("INC0012345"));
}

#[test]
fn active_assignment_without_justification_fails_by_default_but_eligibility_does_not() {
    // Reference §2.7: Enablement_Admin_Assignment = ["Justification"]; Enablement_Admin_Eligibility = [].
    let mut t = lab();
    let alice = t.alice.clone();
    let r = req(ASSIGN, Action::AdminAssign, &alice, USER_ADMIN).permanent().without_justification();
    assert_eq!(
        policy_failure(t.admin_submit(r)),
        r#"The following policy rules failed: ["JustificationRule"]"#
    );
    let r = req(ELIG, Action::AdminAssign, &alice, USER_ADMIN).permanent().without_justification();
    assert_eq!(t.admin_submit(r).unwrap().status, Status::Provisioned);
}

#[test]
fn activation_without_the_required_authentication_context_fails_with_acrs_validation() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    t.set_rule(
        USER_ADMIN,
        policy::AUTHENTICATION_CONTEXT_END_USER_ASSIGNMENT,
        json!({"isEnabled": true, "claimValue": "c1"}),
    );
    let err = expect_err(
        t.activate(&alice, USER_ADMIN, hours(1)),
        400,
        "RoleAssignmentRequestAcrsValidationFailed",
    );
    assert!(err.message.contains("claims="), "{}", err.message);
    assert!(err.message.contains("c1"), "{}", err.message);
    let with_c1 = Session { auth_contexts: vec!["c1".into()], ..Session::new(alice.clone()) };
    let r = req(ASSIGN, Action::SelfActivate, &alice, USER_ADMIN).lasting(hours(1));
    assert_eq!(t.submit(&with_c1, r).unwrap().status, Status::Provisioned);
}

// ---------------------------------------------------------------------------------------------
// Duplicates, missing targets, timing rules
// ---------------------------------------------------------------------------------------------

#[test]
fn assigning_an_existing_item_fails_with_role_assignment_exists() {
    for kind in [ELIG, ASSIGN] {
        let mut t = lab();
        let alice = t.alice.clone();
        t.admin_submit(req(kind, Action::AdminAssign, &alice, USER_ADMIN).permanent()).unwrap();
        let err = expect_err(
            t.admin_submit(req(kind, Action::AdminAssign, &alice, USER_ADMIN).lasting(days(5))),
            400,
            "RoleAssignmentExists",
        );
        assert_eq!(err.message, EXISTS_MESSAGE);
    }
    // A future (Granted) item also counts.
    let mut t = lab();
    let alice = t.alice.clone();
    let start = t.now() + days(3).as_delta();
    t.admin_submit(req(ELIG, Action::AdminAssign, &alice, USER_ADMIN).starting(start, days(3))).unwrap();
    expect_err(
        t.admin_submit(req(ELIG, Action::AdminAssign, &alice, USER_ADMIN).permanent()),
        400,
        "RoleAssignmentExists",
    );
}

#[test]
fn activating_while_already_active_fails_with_role_assignment_exists() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    t.activate(&alice, USER_ADMIN, hours(1)).unwrap();
    let err = expect_err(t.activate(&alice, USER_ADMIN, hours(1)), 400, "RoleAssignmentExists");
    assert_eq!(err.message, EXISTS_MESSAGE);
}

#[test]
fn acting_on_a_missing_item_fails_with_role_assignment_does_not_exist() {
    let mut t = lab();
    let alice = t.alice.clone();
    for kind in [ELIG, ASSIGN] {
        for action in [Action::AdminUpdate, Action::AdminRemove, Action::AdminExtend, Action::AdminRenew] {
            let err = expect_err(
                t.admin_submit(req(kind, action, &alice, USER_ADMIN).lasting(days(30))),
                400,
                "RoleAssignmentDoesNotExist",
            );
            assert_eq!(err.message, DOES_NOT_EXIST_MESSAGE, "{kind:?} {action}");
        }
        for action in [Action::SelfExtend, Action::SelfRenew] {
            let err = expect_err(
                t.self_submit(req(kind, action, &alice, USER_ADMIN).lasting(days(30))),
                400,
                "RoleAssignmentDoesNotExist",
            );
            assert_eq!(err.message, DOES_NOT_EXIST_MESSAGE, "{kind:?} {action}");
        }
    }
    // Deactivating with nothing active, even while eligible.
    t.make_eligible(&alice, USER_ADMIN);
    let err = expect_err(
        t.self_submit(req(ASSIGN, Action::SelfDeactivate, &alice, USER_ADMIN)),
        400,
        "RoleAssignmentDoesNotExist",
    );
    assert_eq!(err.message, DOES_NOT_EXIST_MESSAGE);
}

#[test]
fn removing_or_deactivating_within_5_minutes_fails_with_active_duration_too_short() {
    let mut t = lab();
    let (alice, bob) = (t.alice.clone(), t.bob.clone());
    t.admin_submit(req(ASSIGN, Action::AdminAssign, &alice, SECURITY_READER).permanent()).unwrap();
    let err = expect_err(
        t.admin_submit(req(ASSIGN, Action::AdminRemove, &alice, SECURITY_READER)),
        400,
        "ActiveDurationTooShort",
    );
    assert_eq!(err.message, TOO_SHORT_MESSAGE);

    t.make_eligible(&bob, USER_ADMIN);
    t.activate(&bob, USER_ADMIN, hours(1)).unwrap();
    t.advance(mins(4));
    let err = expect_err(
        t.self_submit(req(ASSIGN, Action::SelfDeactivate, &bob, USER_ADMIN)),
        400,
        "ActiveDurationTooShort",
    );
    assert_eq!(err.message, TOO_SHORT_MESSAGE);
    expect_err(
        t.admin_submit(req(ASSIGN, Action::AdminRemove, &alice, SECURITY_READER)),
        400,
        "ActiveDurationTooShort",
    );

    t.advance(mins(1));
    assert_eq!(
        t.self_submit(req(ASSIGN, Action::SelfDeactivate, &bob, USER_ADMIN)).unwrap().status,
        Status::Revoked
    );
    assert_eq!(
        t.admin_submit(req(ASSIGN, Action::AdminRemove, &alice, SECURITY_READER)).unwrap().status,
        Status::Revoked
    );
}

#[test]
fn a_second_request_while_one_is_pending_fails_with_pending_role_assignment_request() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    t.require_approval(USER_ADMIN);
    t.activate(&alice, USER_ADMIN, hours(1)).unwrap();
    let err = expect_err(t.activate(&alice, USER_ADMIN, hours(2)), 400, "PendingRoleAssignmentRequest");
    assert_eq!(err.message, fidelity::PENDING_REQUEST_MESSAGE);

    // The same for a self-extend waiting for an administrator.
    let bob = t.bob.clone();
    t.admin_submit(req(ELIG, Action::AdminAssign, &bob, USER_ADMIN).lasting(days(10))).unwrap();
    t.self_submit(req(ELIG, Action::SelfExtend, &bob, USER_ADMIN).lasting(days(30))).unwrap();
    expect_err(
        t.self_submit(req(ELIG, Action::SelfExtend, &bob, USER_ADMIN).lasting(days(40))),
        400,
        "PendingRoleAssignmentRequest",
    );
}

impl Lab {
    /// Turns on the portal's extend and renew windows (off by default, as the API enforces neither).
    fn portal_windows(&mut self) {
        let admin = self.admin.clone();
        self.e.set_fidelity(&admin, FidelitySwitch::PortalExtendRenewWindows, true).expect("switch on");
    }
}

#[test]
fn extend_is_refused_more_than_14_days_before_expiry() {
    // With the fidelity switch portal-extend-renew-windows on, pimlab enforces the portal's window.
    let mut t = lab();
    t.portal_windows();
    let alice = t.alice.clone();
    t.admin_submit(req(ELIG, Action::AdminAssign, &alice, USER_ADMIN).lasting(days(30))).unwrap();
    t.advance(days(15)); // 15 days left
    expect_err(
        t.self_submit(req(ELIG, Action::SelfExtend, &alice, USER_ADMIN).lasting(days(60))),
        400,
        fidelity::EXTEND_TOO_EARLY_CODE.as_str(),
    );
    expect_err(
        t.admin_submit(req(ELIG, Action::AdminExtend, &alice, USER_ADMIN).lasting(days(60))),
        400,
        fidelity::EXTEND_TOO_EARLY_CODE.as_str(),
    );
    t.advance(days(1)); // 14 days left: the window is open
    assert_eq!(
        t.self_submit(req(ELIG, Action::SelfExtend, &alice, USER_ADMIN).lasting(days(60))).unwrap().status,
        Status::PendingAdminDecision
    );
    // A permanent item has nothing to extend.
    let bob = t.bob.clone();
    t.make_eligible(&bob, USER_ADMIN);
    expect_err(
        t.admin_submit(req(ELIG, Action::AdminExtend, &bob, USER_ADMIN).lasting(days(60))),
        400,
        fidelity::EXTEND_TOO_EARLY_CODE.as_str(),
    );
}

#[test]
fn renew_is_refused_more_than_30_days_after_expiry() {
    let mut t = lab();
    t.portal_windows();
    let alice = t.alice.clone();
    t.admin_submit(req(ELIG, Action::AdminAssign, &alice, USER_ADMIN).lasting(days(10))).unwrap();
    t.advance(days(10));
    t.advance(days(29)); // expired 29 days ago: still renewable (validation only)
    let ok = t
        .admin_submit(req(ELIG, Action::AdminRenew, &alice, USER_ADMIN).lasting(days(30)).validation_only())
        .unwrap();
    assert_eq!(ok.status, Status::Provisioned);
    t.advance(days(2)); // 31 days after expiry
    // pimlab forgets expired items once the window closes, so the refusal may name the item as
    // missing rather than use its own window code; either way it is refused.
    for r in [
        t.admin_submit(req(ELIG, Action::AdminRenew, &alice, USER_ADMIN).lasting(days(30))),
        t.self_submit(req(ELIG, Action::SelfRenew, &alice, USER_ADMIN).lasting(days(30))),
    ] {
        let err = r.expect_err("renewal after the window");
        assert_eq!(err.status, 400);
        assert!(
            err.code == fidelity::RENEW_TOO_LATE_CODE || err.code == "RoleAssignmentDoesNotExist",
            "{err}"
        );
    }
}

/// The API enforces neither window (addendum §5): with the fidelity profile at its default, an
/// extension months before the end and a renewal weeks after the window would close both go
/// through, and only the store's memory of ended schedules limits a renewal.
#[test]
fn extend_and_renew_windows_are_not_enforced_by_default_as_in_the_api() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.admin_submit(req(ELIG, Action::AdminAssign, &alice, USER_ADMIN).lasting(days(90))).unwrap();
    t.advance(days(1)); // 89 days left: far outside the portal's 14-day window
    let extended =
        t.admin_submit(req(ELIG, Action::AdminExtend, &alice, USER_ADMIN).lasting(days(120))).unwrap();
    assert_eq!(extended.status, Status::Provisioned);
    assert!(
        extended.trace.iter().all(|s| s.check != "ExtendWindow"),
        "no window check: {:?}",
        extended.trace
    );
    let asked = t.self_submit(req(ELIG, Action::SelfExtend, &alice, USER_ADMIN).lasting(days(200))).unwrap();
    assert_eq!(asked.status, Status::PendingAdminDecision);

    let bob = t.bob.clone();
    t.admin_submit(req(ELIG, Action::AdminAssign, &bob, USER_ADMIN).lasting(days(10))).unwrap();
    t.advance(days(10 + 60)); // ended 60 days ago: the portal's window closed 30 days ago
    let renewed = t.admin_submit(req(ELIG, Action::AdminRenew, &bob, USER_ADMIN).lasting(days(30))).unwrap();
    assert_eq!(renewed.status, Status::Provisioned);

    // Past the store's memory of ended schedules there is nothing to renew.
    let carol = t.carol.clone();
    t.admin_submit(req(ELIG, Action::AdminAssign, &carol, USER_ADMIN).lasting(days(10))).unwrap();
    t.advance(days(10 + fidelity::ENDED_SCHEDULE_RETENTION_DAYS + 1));
    let err =
        t.admin_submit(req(ELIG, Action::AdminRenew, &carol, USER_ADMIN).lasting(days(30))).unwrap_err();
    assert_eq!(err.code, "RoleAssignmentDoesNotExist", "{err}");
}

#[test]
fn renewing_an_item_that_has_not_expired_fails_with_role_assignment_exists() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.admin_submit(req(ELIG, Action::AdminAssign, &alice, USER_ADMIN).lasting(days(10))).unwrap();
    expect_err(
        t.admin_submit(req(ELIG, Action::AdminRenew, &alice, USER_ADMIN).lasting(days(30))),
        400,
        "RoleAssignmentExists",
    );
}

// ---------------------------------------------------------------------------------------------
// Who may do what
// ---------------------------------------------------------------------------------------------

#[test]
fn a_non_administrator_doing_an_admin_action_is_unauthorized() {
    let mut t = lab();
    let (alice, bob) = (t.alice.clone(), t.bob.clone());
    let alice_s = Session::new(alice.clone());
    for action in [
        Action::AdminAssign,
        Action::AdminUpdate,
        Action::AdminRemove,
        Action::AdminExtend,
        Action::AdminRenew,
    ] {
        for kind in [ELIG, ASSIGN] {
            let err = expect_err(
                t.submit(&alice_s, req(kind, action, &bob, USER_ADMIN).lasting(days(5))),
                403,
                "UnauthorizedAccessException",
            );
            assert_eq!(err.message, UNAUTHORIZED_MESSAGE);
        }
    }
    // Not even for herself.
    expect_err(
        t.submit(&alice_s, req(ELIG, Action::AdminAssign, &alice, USER_ADMIN).permanent()),
        403,
        "UnauthorizedAccessException",
    );
}

#[test]
fn an_active_privileged_role_administrator_may_do_admin_actions() {
    let mut t = lab();
    let (alice, bob) = (t.alice.clone(), t.bob.clone());
    t.make_eligible(&alice, PRIVILEGED_ROLE_ADMINISTRATOR);
    let alice_s = Session::new(alice.clone());
    let r = req(ELIG, Action::AdminAssign, &bob, USER_ADMIN).permanent();
    expect_err(t.submit(&alice_s, r.clone()), 403, "UnauthorizedAccessException");
    t.activate(&alice, PRIVILEGED_ROLE_ADMINISTRATOR, hours(1)).unwrap();
    assert_eq!(t.submit(&alice_s, r).unwrap().created_by, alice);
}

#[test]
fn a_self_action_for_someone_else_is_unauthorized() {
    let mut t = lab();
    let (alice, bob) = (t.alice.clone(), t.bob.clone());
    t.make_eligible(&bob, USER_ADMIN);
    t.admin_submit(req(ASSIGN, Action::AdminAssign, &bob, SECURITY_READER).lasting(days(5))).unwrap();
    let alice_s = Session::new(alice.clone());
    for (kind, action, role) in [
        (ASSIGN, Action::SelfActivate, USER_ADMIN),
        (ASSIGN, Action::SelfDeactivate, USER_ADMIN),
        (ASSIGN, Action::SelfExtend, SECURITY_READER),
        (ELIG, Action::SelfExtend, USER_ADMIN),
        (ELIG, Action::SelfRenew, USER_ADMIN),
    ] {
        let err = expect_err(
            t.submit(&alice_s, req(kind, action, &bob, role).lasting(hours(1))),
            403,
            "UnauthorizedAccessException",
        );
        assert_eq!(err.message, UNAUTHORIZED_MESSAGE, "{kind:?} {action}");
    }
    // Even an administrator cannot self-activate for someone else.
    expect_err(
        t.admin_submit(req(ASSIGN, Action::SelfActivate, &bob, USER_ADMIN).lasting(hours(1))),
        403,
        "UnauthorizedAccessException",
    );
}

#[test]
fn the_last_global_administrator_cannot_be_removed() {
    let mut t = lab();
    let alice = t.alice.clone();
    let admin = t.admin.caller.clone();
    t.advance(mins(10));
    let err = expect_err(
        t.admin_submit(req(ASSIGN, Action::AdminRemove, &admin, GLOBAL_ADMINISTRATOR)),
        400,
        fidelity::LAST_GLOBAL_ADMIN_CODE.as_str(),
    );
    assert_eq!(err.message, "The last active Global Administrator assignment cannot be removed.");
    // With a second one, the first can go; then the second is the last.
    t.admin_submit(req(ASSIGN, Action::AdminAssign, &alice, GLOBAL_ADMINISTRATOR).permanent()).unwrap();
    t.advance(mins(10));
    let q = t.admin_submit(req(ASSIGN, Action::AdminRemove, &admin, GLOBAL_ADMINISTRATOR)).unwrap();
    assert_eq!(q.status, Status::Revoked);
    let alice_s = Session::new(alice.clone());
    expect_err(
        t.submit(&alice_s, req(ASSIGN, Action::AdminRemove, &alice, GLOBAL_ADMINISTRATOR)),
        400,
        fidelity::LAST_GLOBAL_ADMIN_CODE.as_str(),
    );
}

#[test]
fn the_last_global_administrator_assignment_does_not_expire() {
    let mut t = lab();
    let alice = t.alice.clone();
    let admin = t.admin.caller.clone();
    t.admin_submit(req(ASSIGN, Action::AdminAssign, &alice, GLOBAL_ADMINISTRATOR).lasting(days(1))).unwrap();
    t.advance(mins(10));
    t.admin_submit(req(ASSIGN, Action::AdminRemove, &admin, GLOBAL_ADMINISTRATOR)).unwrap();
    t.advance(days(2));
    let held = t.instances(ASSIGN, &alice);
    assert_eq!(held.len(), 1, "lock-out protection keeps the last Global Administrator");
    assert_eq!(held[0].end_at, None);
}

/// A fresh tenant in a store file, and one user, Alice, with no roles.
fn file_tenant_with_alice() -> (FileTenant, String) {
    let mut t = FileTenant::new(&InitOptions::default());
    let alice = t
        .engine
        .create_object(
            &t.admin,
            NewObject {
                kind: Some(PrincipalKind::User),
                display_name: "Alice".into(),
                user_principal_name: Some("alice@contoso.example".into()),
                ..Default::default()
            },
        )
        .expect("alice")
        .id;
    (t, alice)
}

#[test]
fn a_refused_removal_is_audited_with_the_span_of_the_assignment_it_targeted() {
    // The removal request carries no schedule; the failure row names the permanent assignment.
    let mut t = lab();
    let admin = t.admin.caller.clone();
    expect_err(
        t.admin_submit(req(ASSIGN, Action::AdminRemove, &admin, GLOBAL_ADMINISTRATOR)),
        400,
        fidelity::LAST_GLOBAL_ADMIN_CODE.as_str(),
    );
    let last = t.e.audit(&AuditQuery::default()).unwrap().pop().expect("an audit row");
    assert_eq!(last.result, "failure");
    assert_eq!(last.activity, "Remove member from role in PIM failed (permanent)");
}

#[test]
fn an_activation_does_not_count_as_another_global_administrator() {
    // Activations end within hours, so they cannot stand in for the break-glass assignment.
    let mut t = lab();
    let alice = t.alice.clone();
    let admin = t.admin.caller.clone();
    t.admin_submit(req(ELIG, Action::AdminAssign, &alice, GLOBAL_ADMINISTRATOR).lasting(days(10))).unwrap();
    t.activate(&alice, GLOBAL_ADMINISTRATOR, hours(8)).unwrap();
    t.advance(mins(10));
    expect_err(
        t.admin_submit(req(ASSIGN, Action::AdminRemove, &admin, GLOBAL_ADMINISTRATOR)),
        400,
        fidelity::LAST_GLOBAL_ADMIN_CODE.as_str(),
    );
}

#[test]
fn the_last_global_administrator_eligibility_does_not_expire() {
    // Reference §3.2 (DOC entra): "a time-bound GA eligibility is not expired if it is the last GA
    // assignment (lock-out protection)". PIM itself never lets the last `Assigned` Global
    // Administrator go, so the state is reached the way real tenants reach it: the permanent
    // assignment disappears outside PIM (here, straight from the store file).
    let (FileTenant { dir: _dir, db: path, engine: mut e, admin }, alice) = file_tenant_with_alice();
    let r = req(ELIG, Action::AdminAssign, &alice, GLOBAL_ADMINISTRATOR).lasting(days(10));
    e.submit(&admin, &r).expect("eligible");
    drop(e);
    {
        let conn = rusqlite::Connection::open(&path).expect("raw open");
        let gone = conn
            .execute(
                // The store keeps a GUID as its 16 bytes, a kind as its code.
                "DELETE FROM schedules WHERE kind = 0 /* assignment */ AND lower(hex(role_definition_id)) = replace(?1, '-', '')",
                [GLOBAL_ADMINISTRATOR],
            )
            .expect("delete");
        assert_eq!(gone, 1, "the break-glass assignment was the only active one");
    }
    let mut e = Engine::open(&path).expect("reopen");
    let alice_s = Session::new(alice.clone());
    e.advance_by(&alice_s, days(11)).expect("advance");
    let left = e.schedules(ELIG, None, Some(GLOBAL_ADMINISTRATOR)).unwrap();
    assert_eq!(left.len(), 1, "the last Global Administrator eligibility is kept");
    assert_eq!(left[0].end_at, None, "and no longer ends");
}

#[test]
fn service_principals_can_be_assigned_but_never_made_eligible() {
    let mut t = lab();
    let sp = t.sp.clone();
    expect_err(
        t.admin_submit(req(ELIG, Action::AdminAssign, &sp, DIRECTORY_READERS).permanent()),
        400,
        fidelity::INVALID_PRINCIPAL_CODE.as_str(),
    );
    let q = t.admin_submit(req(ASSIGN, Action::AdminAssign, &sp, DIRECTORY_READERS).permanent()).unwrap();
    assert_eq!(q.status, Status::Provisioned);
    assert_eq!(t.instances(ASSIGN, &sp).len(), 1);
}

#[test]
fn only_role_assignable_groups_can_hold_roles() {
    let mut t = lab();
    let (staff, tier0) = (t.staff.clone(), t.tier0.clone());
    for kind in [ELIG, ASSIGN] {
        let err = expect_err(
            t.admin_submit(req(kind, Action::AdminAssign, &staff, USER_ADMIN).permanent()),
            400,
            fidelity::INVALID_PRINCIPAL_CODE.as_str(),
        );
        assert!(err.message.contains("role-assignable"), "{}", err.message);
        assert_eq!(
            t.admin_submit(req(kind, Action::AdminAssign, &tier0, USER_ADMIN).permanent()).unwrap().status,
            Status::Provisioned
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Group-derived eligibility (addendum §10)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_group_member_activates_with_their_own_id_as_member_type_group() {
    let mut t = lab();
    let (bob, tier0) = (t.bob.clone(), t.tier0.clone());
    let group_elig = t.make_eligible(&tier0, HELPDESK_ADMIN);
    let q = t.activate(&bob, HELPDESK_ADMIN, hours(1)).unwrap();
    assert_eq!(q.status, Status::Provisioned);
    assert_eq!(q.principal_id, bob);
    assert_eq!(q.activated_using.as_deref(), Some(group_elig.id.as_str()));
    let s = t.e.schedule(ASSIGN, &q.id).unwrap().unwrap();
    assert_eq!(s.principal_id, bob);
    assert_eq!(s.member_type, MemberType::Group);
    assert_eq!(s.assignment_type, Some(AssignmentType::Activated));
    assert_eq!(s.activated_using.as_deref(), Some(group_elig.id.as_str()));
    assert_eq!(decode_instance_id(&s.instance_id), (HELPDESK_ADMIN.to_string(), bob.clone(), false));
    // The group's own eligibility is untouched and nothing is active for the group.
    assert_eq!(t.instances(ELIG, &tier0).len(), 1);
    assert!(t.instances(ASSIGN, &tier0).is_empty());
    // A non-member gets nothing from the group.
    let alice = t.alice.clone();
    assert_eq!(
        policy_failure(t.activate(&alice, HELPDESK_ADMIN, hours(1))),
        r#"The following policy rules failed: ["EligibilityRule"]"#
    );
}

#[test]
fn direct_eligibility_wins_over_group_eligibility() {
    let mut t = lab();
    let (bob, tier0) = (t.bob.clone(), t.tier0.clone());
    t.make_eligible(&tier0, HELPDESK_ADMIN);
    let direct = t.make_eligible(&bob, HELPDESK_ADMIN);
    let q = t.activate(&bob, HELPDESK_ADMIN, hours(1)).unwrap();
    let s = t.e.schedule(ASSIGN, &q.id).unwrap().unwrap();
    assert_eq!(s.member_type, MemberType::Direct);
    assert_eq!(s.activated_using.as_deref(), Some(direct.id.as_str()));
}

#[test]
fn a_member_activating_with_the_group_id_activates_the_group() {
    let mut t = lab();
    let (bob, tier0) = (t.bob.clone(), t.tier0.clone());
    let group_elig = t.make_eligible(&tier0, HELPDESK_ADMIN);
    let r = req(ASSIGN, Action::SelfActivate, &tier0, HELPDESK_ADMIN).lasting(hours(1));
    let q = t.submit(&Session::new(bob.clone()), r).unwrap();
    assert_eq!(q.principal_id, tier0);
    let s = t.e.schedule(ASSIGN, &q.id).unwrap().unwrap();
    assert_eq!(s.principal_id, tier0);
    assert_eq!(s.member_type, MemberType::Direct);
    assert_eq!(s.activated_using.as_deref(), Some(group_elig.id.as_str()));
}

#[test]
fn a_member_cannot_self_extend_a_group_eligibility() {
    let mut t = lab();
    let (bob, tier0) = (t.bob.clone(), t.tier0.clone());
    t.admin_submit(req(ELIG, Action::AdminAssign, &tier0, HELPDESK_ADMIN).lasting(days(10))).unwrap();
    expect_err(
        t.self_submit(req(ELIG, Action::SelfExtend, &bob, HELPDESK_ADMIN).lasting(days(30))),
        400,
        "RoleAssignmentDoesNotExist",
    );
}

// ---------------------------------------------------------------------------------------------
// The clock: expiry and purges
// ---------------------------------------------------------------------------------------------

#[test]
fn an_activation_expires_on_clock_advance_and_its_instance_disappears() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    let q = t.activate(&alice, USER_ADMIN, hours(1)).unwrap();
    let instance_id = t.instances(ASSIGN, &alice)[0].instance_id.clone();
    t.advance(mins(59));
    assert!(t.e.instance(ASSIGN, &instance_id).unwrap().is_some());
    t.advance(mins(1));
    assert_eq!(t.e.instance(ASSIGN, &instance_id).unwrap(), None);
    assert!(t.instances(ASSIGN, &alice).is_empty());
    assert!(t.schedules(ASSIGN, &alice).is_empty());
    assert_eq!(t.e.schedule_any(&q.id).unwrap().map(|s| s.state), Some(ScheduleState::Expired));
    assert_eq!(t.request(&q.id).status, Status::Provisioned, "the request keeps its status");
    assert_eq!(t.instances(ELIG, &alice).len(), 1, "the eligibility stays");
    assert_eq!(t.activate(&alice, USER_ADMIN, hours(1)).unwrap().status, Status::Provisioned);
}

#[test]
fn requests_are_purged_after_45_days_but_their_schedule_keeps_the_id() {
    let mut t = lab();
    let alice = t.alice.clone();
    let q = t.make_eligible(&alice, USER_ADMIN);
    t.advance(days(44));
    assert_eq!(t.request(&q.id).id, q.id);
    t.advance(days(1));
    let err = t.e.request(&q.id, None).unwrap_err();
    assert_eq!(
        (err.status, err.code.as_str(), err.message.as_str()),
        (404, "RoleAssignmentRequestNotFound", NOT_FOUND_MESSAGE)
    );
    assert!(
        !t.e.requests(&RequestFilter::default()).unwrap().iter().any(|r| r.id == q.id),
        "gone from the listing too"
    );
    let s = t.e.schedule(ELIG, &q.id).unwrap().expect("schedule survives under the same id");
    assert_eq!(s.created_using.as_deref(), Some(q.id.as_str()));
    assert_eq!(t.instances(ELIG, &alice).len(), 1);
    expect_err(t.e.cancel(&t.admin, ELIG, &q.id), 404, "RoleAssignmentRequestNotFound");
}

#[test]
fn a_purged_requests_approval_steps_go_with_it_and_no_others() {
    // The purge deletes the steps of the requests it purged, found by their approval's key
    // (it once asked for the steps of no request left, reading every step at every purge).
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    t.require_approval(USER_ADMIN);
    let old = t.activate(&alice, USER_ADMIN, hours(1)).unwrap();
    assert!(!t.e.approval_steps(&old.id).unwrap().is_empty(), "the approval has its steps");
    t.advance(days(40));
    let recent = t.activate(&alice, USER_ADMIN, hours(1)).unwrap();
    t.advance(days(5));
    expect_err(t.e.request(&old.id, None), 404, "RoleAssignmentRequestNotFound");
    assert!(t.e.approval_steps(&old.id).unwrap().is_empty(), "the purged request's steps are gone");
    assert_eq!(t.request(&recent.id).id, recent.id);
    assert!(!t.e.approval_steps(&recent.id).unwrap().is_empty(), "a kept request keeps its steps");
}

#[test]
fn cancelled_requests_are_purged_30_days_after_cancellation() {
    let mut t = lab();
    let alice = t.alice.clone();
    let start = t.now() + days(60).as_delta();
    let q =
        t.admin_submit(req(ELIG, Action::AdminAssign, &alice, USER_ADMIN).starting(start, days(7))).unwrap();
    let kept = t.make_eligible(&alice, HELPDESK_ADMIN);
    t.advance(days(1));
    t.e.cancel(&t.admin, ELIG, &q.id).unwrap();
    t.advance(days(29));
    assert_eq!(t.request(&q.id).status, Status::Revoked);
    t.advance(days(1));
    expect_err(t.e.request(&q.id, None), 404, "RoleAssignmentRequestNotFound");
    assert_eq!(t.request(&kept.id).status, Status::Provisioned, "only the cancelled one");
}

// ---------------------------------------------------------------------------------------------
// isValidationOnly, refusals and determinism
// ---------------------------------------------------------------------------------------------

#[test]
fn validation_only_requests_report_the_outcome_and_store_nothing() {
    let mut t = lab();
    let (alice, bob) = (t.alice.clone(), t.bob.clone());
    t.make_eligible(&alice, USER_ADMIN);
    t.admin_submit(req(ASSIGN, Action::AdminAssign, &bob, SECURITY_READER).permanent()).unwrap();
    t.advance(mins(10));
    let before = t.dump();

    let q = t
        .admin_submit(req(ELIG, Action::AdminAssign, &bob, USER_ADMIN).permanent().validation_only())
        .unwrap();
    assert_eq!((q.status, q.is_validation_only), (Status::Provisioned, true));
    let start = t.now() + days(1).as_delta();
    let q = t
        .admin_submit(
            req(ELIG, Action::AdminAssign, &bob, HELPDESK_ADMIN).starting(start, days(3)).validation_only(),
        )
        .unwrap();
    assert_eq!(q.status, Status::Granted);
    let q = t
        .self_submit(
            req(ASSIGN, Action::SelfActivate, &alice, USER_ADMIN).lasting(hours(1)).validation_only(),
        )
        .unwrap();
    assert_eq!((q.status, q.is_validation_only), (Status::Provisioned, true));
    let q =
        t.admin_submit(req(ASSIGN, Action::AdminRemove, &bob, SECURITY_READER).validation_only()).unwrap();
    assert_eq!(q.status, Status::Revoked);
    let q = t
        .admin_submit(req(ELIG, Action::AdminUpdate, &alice, USER_ADMIN).lasting(days(90)).validation_only())
        .unwrap();
    assert_eq!(q.status, Status::Provisioned);
    // A failing dry run fails exactly as the real request would.
    let dry = t.self_submit(
        req(ASSIGN, Action::SelfActivate, &alice, USER_ADMIN).lasting(hours(9)).validation_only(),
    );
    let real = t.self_submit(req(ASSIGN, Action::SelfActivate, &alice, USER_ADMIN).lasting(hours(9)));
    assert_eq!(dry.unwrap_err(), real.unwrap_err());

    assert_eq!(t.dump(), before, "validation-only requests left a trace");
    // The dry run did not activate anything: the real request succeeds (addendum §3).
    assert_eq!(t.activate(&alice, USER_ADMIN, hours(1)).unwrap().status, Status::Provisioned);
}

#[test]
fn a_validation_only_activation_needing_approval_reports_pending_approval_and_stores_nothing() {
    let mut t = lab();
    let alice = t.alice.clone();
    t.make_eligible(&alice, USER_ADMIN);
    t.require_approval(USER_ADMIN);
    let before = t.dump();
    let q = t
        .self_submit(
            req(ASSIGN, Action::SelfActivate, &alice, USER_ADMIN).lasting(hours(1)).validation_only(),
        )
        .unwrap();
    assert_eq!((q.status, q.is_validation_only), (Status::PendingApproval, true));
    assert_eq!(t.dump(), before);
    assert_eq!(t.activate(&alice, USER_ADMIN, hours(1)).unwrap().status, Status::PendingApproval);
}

/// A tenant with something of every kind in it, for refusal tests: alice eligible for User
/// Administrator with an approval-pending activation of Helpdesk Administrator; bob active
/// Security Reader; carol eligible for 30 days; tier0 eligible; clock 1 minute after the last write.
fn busy_lab() -> Lab {
    let mut t = lab();
    let (alice, bob, carol, tier0) = (t.alice.clone(), t.bob.clone(), t.carol.clone(), t.tier0.clone());
    t.make_eligible(&alice, USER_ADMIN);
    t.make_eligible(&alice, HELPDESK_ADMIN);
    t.require_approval(HELPDESK_ADMIN);
    t.activate(&alice, HELPDESK_ADMIN, hours(1)).unwrap();
    t.make_eligible(&tier0, SECURITY_READER);
    t.admin_submit(req(ASSIGN, Action::AdminAssign, &bob, SECURITY_READER).permanent()).unwrap();
    t.admin_submit(req(ELIG, Action::AdminAssign, &carol, USER_ADMIN).lasting(days(30))).unwrap();
    t.activate(&alice, USER_ADMIN, hours(2)).unwrap();
    t.advance(mins(1));
    t
}

/// A refusal: what to set up first (the dump is taken after it), the request, and the code it
/// must end in.
struct Refusal {
    code: &'static str,
    setup: fn(&mut Lab),
    refuse: fn(&mut Lab) -> Result<ScheduleRequest, ApiError>,
}

fn no_setup(_: &mut Lab) {}

/// Refusals of many kinds.
fn refusals() -> Vec<Refusal> {
    vec![
        Refusal {
            code: "RoleAssignmentRequestPolicyValidationFailed",
            setup: no_setup,
            refuse: |t| {
                let alice = t.alice.clone();
                t.self_submit(
                    req(ASSIGN, Action::SelfActivate, &alice, GLOBAL_ADMINISTRATOR)
                        .permanent()
                        .without_justification(),
                )
            },
        },
        Refusal {
            code: "RoleAssignmentExists",
            setup: no_setup,
            refuse: |t| {
                let alice = t.alice.clone();
                t.admin_submit(req(ELIG, Action::AdminAssign, &alice, USER_ADMIN).permanent())
            },
        },
        Refusal {
            code: "RoleAssignmentDoesNotExist",
            setup: no_setup,
            refuse: |t| {
                let carol = t.carol.clone();
                t.admin_submit(req(ASSIGN, Action::AdminRemove, &carol, USER_ADMIN))
            },
        },
        Refusal {
            code: "ActiveDurationTooShort",
            setup: no_setup,
            refuse: |t| {
                let alice = t.alice.clone();
                t.self_submit(req(ASSIGN, Action::SelfDeactivate, &alice, USER_ADMIN))
            },
        },
        Refusal {
            code: "PendingRoleAssignmentRequest",
            setup: no_setup,
            refuse: |t| {
                let alice = t.alice.clone();
                t.activate(&alice, HELPDESK_ADMIN, hours(1))
            },
        },
        Refusal {
            code: "UnauthorizedAccessException",
            setup: no_setup,
            refuse: |t| {
                let (alice, carol) = (t.alice.clone(), t.carol.clone());
                t.submit(
                    &Session::new(carol),
                    req(ELIG, Action::AdminAssign, &alice, GLOBAL_ADMINISTRATOR).permanent(),
                )
            },
        },
        Refusal {
            code: "RequestCannotBeCancelled",
            setup: no_setup,
            refuse: |t| {
                let provisioned = t.e.requests(&RequestFilter {
                    principal_id: Some(t.alice.clone()),
                    status: Some(Status::Provisioned),
                    ..Default::default()
                })?;
                t.e.cancel(&t.admin, provisioned[0].kind, &provisioned[0].id)
            },
        },
        Refusal {
            code: "RoleAssignmentRequestNotFound",
            setup: no_setup,
            refuse: |t| t.e.cancel(&t.admin, ASSIGN, "00000000-0000-4000-8000-000000000000"),
        },
        Refusal {
            code: fidelity::LAST_GLOBAL_ADMIN_CODE.as_str(),
            setup: |t| t.advance(mins(10)),
            refuse: |t| {
                let admin = t.admin.caller.clone();
                t.admin_submit(req(ASSIGN, Action::AdminRemove, &admin, GLOBAL_ADMINISTRATOR))
            },
        },
        Refusal {
            code: fidelity::EXTEND_TOO_EARLY_CODE.as_str(),
            setup: Lab::portal_windows,
            refuse: |t| {
                let carol = t.carol.clone();
                t.self_submit(req(ELIG, Action::SelfExtend, &carol, USER_ADMIN).lasting(days(60)))
            },
        },
        Refusal {
            code: fidelity::INVALID_PRINCIPAL_CODE.as_str(),
            setup: no_setup,
            refuse: |t| {
                let sp = t.sp.clone();
                t.admin_submit(req(ELIG, Action::AdminAssign, &sp, USER_ADMIN).permanent())
            },
        },
        Refusal {
            code: "RoleAssignmentRequestAcrsValidationFailed",
            setup: |t| {
                t.set_rule(
                    USER_ADMIN,
                    policy::AUTHENTICATION_CONTEXT_END_USER_ASSIGNMENT,
                    json!({"isEnabled": true, "claimValue": "c1"}),
                )
            },
            refuse: |t| {
                let carol = t.carol.clone();
                t.activate(&carol, USER_ADMIN, hours(1))
            },
        },
    ]
}

#[test]
fn refused_requests_leave_every_listing_unchanged() {
    for Refusal { code, setup, refuse } in refusals() {
        let mut t = busy_lab();
        setup(&mut t);
        let before = t.dump();
        let err = refuse(&mut t).expect_err(code);
        assert_eq!(err.code, code, "{err}");
        assert_eq!(t.dump(), before, "refusal {code} changed the store");
    }
}

#[test]
fn refused_requests_leave_the_store_file_unchanged_but_for_their_audit_row() {
    let (FileTenant { dir: _dir, db: path, engine: mut e, admin }, alice) = file_tenant_with_alice();
    e.submit(&admin, &req(ELIG, Action::AdminAssign, &alice, USER_ADMIN).permanent()).unwrap();
    e.submit(
        &Session::new(alice.clone()),
        &req(ASSIGN, Action::SelfActivate, &alice, USER_ADMIN).lasting(hours(2)),
    )
    .unwrap();
    drop(e);
    let read = || store::logical_dump(&path);
    let baseline = read();
    {
        // Control: opening and closing alone changes nothing.
        let _e = Engine::open(&path).unwrap();
    }
    assert!(read() == baseline, "opening the store changed the file");

    type FileRefusal = fn(&mut Engine, &str, &str) -> Result<ScheduleRequest, ApiError>;
    let cases: [(&str, FileRefusal); 6] = [
        ("RoleAssignmentRequestPolicyValidationFailed", |e, _, alice| {
            e.submit(
                &Session::new(alice),
                &req(ASSIGN, Action::SelfActivate, alice, GLOBAL_ADMINISTRATOR).lasting(hours(1)),
            )
        }),
        ("RoleAssignmentExists", |e, admin, alice| {
            e.submit(&Session::new(admin), &req(ELIG, Action::AdminAssign, alice, USER_ADMIN).permanent())
        }),
        ("ActiveDurationTooShort", |e, _, alice| {
            e.submit(&Session::new(alice), &req(ASSIGN, Action::SelfDeactivate, alice, USER_ADMIN))
        }),
        ("UnauthorizedAccessException", |e, admin, alice| {
            e.submit(&Session::new(alice), &req(ELIG, Action::AdminAssign, admin, USER_ADMIN).permanent())
        }),
        ("RoleAssignmentDoesNotExist", |e, admin, alice| {
            e.submit(&Session::new(admin), &req(ELIG, Action::AdminRemove, alice, HELPDESK_ADMIN))
        }),
        ("RoleAssignmentRequestNotFound", |e, admin, _| {
            e.cancel(&Session::new(admin), ASSIGN, "00000000-0000-4000-8000-000000000000")
        }),
    ];
    for (code, refuse) in cases {
        let failures = store::failure_audits(&path);
        {
            let mut e = Engine::open(&path).unwrap();
            let admin = e.default_caller().unwrap();
            let alice = e.resolve_object("alice@contoso.example").unwrap().id;
            let err = refuse(&mut e, &admin, &alice).expect_err(code);
            assert_eq!(err.code, code, "{err}");
        }
        assert!(read() == baseline, "refusal {code} changed the store file");
        // A refused request is recorded; a cancel of an unknown request is not a request.
        let recorded = if code == "RoleAssignmentRequestNotFound" { 0 } else { 1 };
        assert_eq!(store::failure_audits(&path), failures + recorded, "audit rows for refusal {code}");
    }
    {
        // Sensitivity check: an accepted request does change the file.
        let mut e = Engine::open(&path).unwrap();
        let admin = Session::new(e.default_caller().unwrap());
        let alice = e.resolve_object("alice@contoso.example").unwrap().id;
        e.submit(&admin, &req(ELIG, Action::AdminAssign, &alice, HELPDESK_ADMIN).permanent()).unwrap();
    }
    assert!(read() != baseline, "an accepted request left the file as it was");
}

/// The same calls on a tenant made with `opts`, returning the full dump.
fn scripted_dump(opts: &InitOptions) -> (String, Vec<String>) {
    let mut t = lab_with(opts);
    let (alice, bob, tier0) = (t.alice.clone(), t.bob.clone(), t.tier0.clone());
    let mut ids = vec![t.alice.clone(), t.bob.clone(), t.tier0.clone()];
    ids.push(t.make_eligible(&alice, USER_ADMIN).id);
    ids.push(t.make_eligible(&tier0, HELPDESK_ADMIN).id);
    ids.push(t.activate(&alice, USER_ADMIN, hours(2)).unwrap().id);
    ids.push(t.activate(&bob, HELPDESK_ADMIN, hours(1)).unwrap().id);
    let start = t.now() + days(1).as_delta();
    ids.push(
        t.admin_submit(req(ASSIGN, Action::AdminAssign, &bob, SECURITY_READER).starting(start, days(3)))
            .unwrap()
            .id,
    );
    t.advance(days(2));
    ids.push(
        t.admin_submit(req(ELIG, Action::AdminUpdate, &alice, USER_ADMIN).lasting(days(90))).unwrap().id,
    );
    (t.dump(), ids)
}

#[test]
fn the_same_seed_and_calls_give_identical_ids_and_state() {
    let (a, ids_a) = scripted_dump(&InitOptions::default());
    let (b, ids_b) = scripted_dump(&InitOptions::default());
    assert_eq!(ids_a, ids_b);
    assert!(a == b, "two stores built the same way differ");
    let (_, ids_c) = scripted_dump(&InitOptions { seed: 2, ..InitOptions::default() });
    assert_ne!(ids_a, ids_c, "the seed drives the ids");
    assert!(ids_a.iter().all(|id| Uuid::parse_str(id).is_ok()));
}

/// What a long command reported: its phases and every step.
#[derive(Default)]
struct Recorded(std::cell::RefCell<Vec<(String, u64)>>, std::cell::Cell<u64>);

impl pimlab::model::Progress for Recorded {
    fn start(&self, phase: &str, total: u64) {
        self.0.borrow_mut().push((phase.to_string(), total));
    }
    fn advance(&self, n: u64) {
        self.1.set(self.1.get() + n);
    }
    fn finish(&self) {}
}

#[test]
fn a_clock_advance_reports_its_progress_in_simulated_minutes_up_to_the_last_due_instant() {
    let mut l = lab();
    l.make_eligible(&l.alice.clone(), HELPDESK_ADMIN);
    l.activate(&l.alice.clone(), HELPDESK_ADMIN, hours(2)).expect("activated");
    let progress = Recorded::default();
    let admin = l.admin.clone();
    let report = l.e.advance_by_reporting(&admin, days(1), &progress).expect("advance");
    assert_eq!(
        progress.0.borrow().as_slice(),
        &[("simulated minutes".to_string(), 24 * 60)],
        "one phase, the whole span"
    );
    // The activation's expiry two hours in is the one instant due (and its notices); the bar
    // stops there and the advance ends at the target.
    assert_eq!(progress.1.get(), 2 * 60, "progress up to the last due instant: {report:?}");
    assert_eq!(report.to, Some(l.now()), "and the clock is at the target");
}
