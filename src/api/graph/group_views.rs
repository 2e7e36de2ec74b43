//! The PIM for Groups wire format (reference §6): `privilegedAccessGroup{Assignment,Eligibility}
//! {ScheduleRequest,Schedule,ScheduleInstance}` and the v1.0 approval with its `stages` (beta:
//! `steps`). The engine stores a group's schedules as every other; here they get the group API's
//! names: `accessId` for the role, `groupId` for the scope, lowercase enums, and the composite ids
//! `{groupId}_{accessId}_{id}` of schedules and instances (and of `targetScheduleId`).

use serde_json::{Map, Value, json};

use crate::api::views;
use crate::engine::fidelity::GROUP_ENUMS_LOWERCASE;
use crate::model::group::composite_id;
use crate::model::time::format_timestamp;
use crate::model::{RequestKind, Schedule, ScheduleRequest, Timestamp};

fn time(t: Option<Timestamp>) -> Value {
    t.map(|t| Value::String(format_timestamp(t))).unwrap_or(Value::Null)
}

/// An enum member as the group API writes it.
fn member(value: &str) -> Value {
    if GROUP_ENUMS_LOWERCASE { value.to_ascii_lowercase().into() } else { value.into() }
}

fn group_of(scope: Option<&str>) -> &str {
    scope.unwrap_or_default()
}

/// The composite id of a stored schedule id (or instance id) under its group and relationship.
pub(super) fn schedule_id(group: Option<&str>, access: &str, id: &str) -> String {
    composite_id(group_of(group), access, id)
}

pub(super) fn request_type(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Eligibility => "privilegedAccessGroupEligibilityScheduleRequest",
        RequestKind::Assignment => "privilegedAccessGroupAssignmentScheduleRequest",
    }
}

pub(super) fn schedule_type(kind: RequestKind, instance: bool) -> &'static str {
    match (kind, instance) {
        (RequestKind::Eligibility, false) => "privilegedAccessGroupEligibilitySchedule",
        (RequestKind::Assignment, false) => "privilegedAccessGroupAssignmentSchedule",
        (RequestKind::Eligibility, true) => "privilegedAccessGroupEligibilityScheduleInstance",
        (RequestKind::Assignment, true) => "privilegedAccessGroupAssignmentScheduleInstance",
    }
}

/// The properties of a group request, in the order the service writes them.
pub(super) const REQUEST_PROPERTIES: [&str; 16] = [
    "id",
    "status",
    "completedDateTime",
    "createdDateTime",
    "approvalId",
    "customData",
    "createdBy",
    "action",
    "isValidationOnly",
    "justification",
    "scheduleInfo",
    "ticketInfo",
    "principalId",
    "accessId",
    "groupId",
    "targetScheduleId",
];

/// `privilegedAccessGroup{Eligibility,Assignment}ScheduleRequest`; `beta` adds beta's ticket
/// properties.
pub(super) fn request(q: &ScheduleRequest, beta: bool) -> Value {
    let directory = if beta { views::request_beta(q) } else { views::request(q) };
    let mut v = Map::new();
    v.insert("@odata.type".into(), format!("#microsoft.graph.{}", request_type(q.kind)).into());
    for name in REQUEST_PROPERTIES {
        let value = match name {
            "accessId" => q.role_definition_id.as_str().into(),
            "groupId" => json!(q.directory_scope_id),
            "targetScheduleId" => json!(q.target_schedule_id.as_deref().map(|id| schedule_id(
                q.directory_scope_id.as_deref(),
                &q.role_definition_id,
                id
            ))),
            other => directory.get(other).cloned().unwrap_or(Value::Null),
        };
        v.insert(name.into(), value);
    }
    Value::Object(v)
}

/// `privilegedAccessGroup{Eligibility,Assignment}Schedule`.
pub(super) fn schedule(s: &Schedule) -> Value {
    let mut v = Map::new();
    v.insert("@odata.type".into(), format!("#microsoft.graph.{}", schedule_type(s.kind, false)).into());
    v.insert("id".into(), schedule_id(s.directory_scope_id.as_deref(), &s.role_definition_id, &s.id).into());
    v.insert("scheduleInfo".into(), views::schedule_info(&s.schedule_info));
    v.insert("createdDateTime".into(), time(s.created_at));
    v.insert("modifiedDateTime".into(), time(s.modified_at));
    v.insert("createdUsing".into(), json!(s.created_using));
    v.insert("status".into(), s.status.as_str().into());
    v.insert("principalId".into(), s.principal_id.clone().into());
    v.insert("accessId".into(), s.role_definition_id.clone().into());
    v.insert("groupId".into(), json!(s.directory_scope_id));
    v.insert("memberType".into(), member(s.member_type.as_str()));
    if s.kind == RequestKind::Assignment {
        v.insert("assignmentType".into(), s.assignment_type.map_or(Value::Null, |a| member(a.as_str())));
    }
    Value::Object(v)
}

/// `privilegedAccessGroup{Eligibility,Assignment}ScheduleInstance` of a schedule in effect.
pub(super) fn instance(s: &Schedule) -> Value {
    let group = s.directory_scope_id.as_deref();
    let mut v = Map::new();
    v.insert("@odata.type".into(), format!("#microsoft.graph.{}", schedule_type(s.kind, true)).into());
    v.insert("id".into(), schedule_id(group, &s.role_definition_id, &s.instance_id).into());
    v.insert("startDateTime".into(), time(s.schedule_info.start));
    v.insert("endDateTime".into(), time(s.end_at));
    v.insert("principalId".into(), s.principal_id.clone().into());
    v.insert("accessId".into(), s.role_definition_id.clone().into());
    v.insert("groupId".into(), json!(s.directory_scope_id));
    v.insert("memberType".into(), member(s.member_type.as_str()));
    let schedule = schedule_id(group, &s.role_definition_id, &s.id);
    match s.kind {
        RequestKind::Assignment => {
            v.insert("assignmentType".into(), s.assignment_type.map_or(Value::Null, |a| member(a.as_str())));
            v.insert("assignmentScheduleId".into(), schedule.into());
        }
        RequestKind::Eligibility => {
            v.insert("eligibilityScheduleId".into(), schedule.into());
        }
    }
    Value::Object(v)
}

/// A group request's approval: v1.0 calls its stages `stages` (approvalStage entities), beta
/// `steps` (approvalStep); the stage objects are the same seven properties.
pub(super) fn approval(id: &str, stages: Vec<Value>, beta: bool) -> Value {
    let name = if beta { "steps" } else { "stages" };
    let mut v = Map::new();
    v.insert("id".into(), id.into());
    v.insert(name.into(), Value::Array(stages));
    Value::Object(v)
}
