//! Request and schedule records: building them (the request as hooks and clients see it, the
//! schedule a request creates), ending a schedule, and the errors that name them.

use super::{Ctx, Session, fidelity};
use crate::model::ErrorCode;
use crate::model::SettledSchedule;
use crate::model::{
    ApiError, AssignmentType, Expiration, IsoDuration, MemberType, NewRequest, RequestKind, Schedule,
    ScheduleInfo, ScheduleRequest, ScheduleState, Status, Surface, Timestamp, ids,
};
use crate::store::Tx;

pub(crate) fn role_assignment_exists() -> ApiError {
    ApiError::new(400, ErrorCode::RoleAssignmentExists, "The Role assignment already exists.")
}

pub(crate) fn role_assignment_does_not_exist() -> ApiError {
    ApiError::new(400, ErrorCode::RoleAssignmentDoesNotExist, "The Role assignment does not exist.")
}

pub(crate) fn request_not_found(id: &str) -> ApiError {
    ApiError::new(404, ErrorCode::RoleAssignmentRequestNotFound, "The role assignment request is not found")
        .with_detail(
            "RequestNotFound",
            "id",
            format!(
                "no request '{id}' (requests are purged {} days after creation)",
                fidelity::REQUEST_RETENTION_DAYS
            ),
        )
}

/// The request as the validate hooks see it: as it arrived, under the id it would get, with
/// `status = PendingEvaluation`.
pub(crate) fn provisional_request(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    principal_id: &str,
    role_id: &str,
) -> Result<ScheduleRequest, ApiError> {
    let mut q =
        record(ctx, super::peek_id(tx, ctx)?, session, req, principal_id, role_id, Status::PendingEvaluation);
    q.schedule_info = req.schedule_info.clone();
    Ok(q)
}

pub(crate) fn record(
    ctx: &Ctx,
    id: String,
    session: &Session,
    req: &NewRequest,
    principal_id: &str,
    role_id: &str,
    status: Status,
) -> ScheduleRequest {
    ScheduleRequest {
        id,
        surface: req.surface,
        kind: req.kind,
        action: req.action,
        status,
        principal_id: principal_id.to_string(),
        role_definition_id: role_id.to_string(),
        directory_scope_id: req.directory_scope_id.clone(),
        app_scope_id: req.app_scope_id.clone(),
        justification: req.justification.clone(),
        schedule_info: None,
        ticket_info: req.ticket_info.clone().unwrap_or_default(),
        is_validation_only: req.is_validation_only,
        target_schedule_id: None,
        approval_id: None,
        created_at: ctx.now,
        completed_at: None,
        created_by: session.caller.clone(),
        created_by_app: session.is_app_only(),
        activated_using: None,
        canceled_at: None,
        trace: Vec::new(),
    }
}

/// The schedule a request creates, keyed by the request's id (reference §3.1).
pub(crate) fn new_schedule(
    ctx: &Ctx,
    q: &ScheduleRequest,
    info: &SettledSchedule,
    member_type: MemberType,
    assignment_type: Option<AssignmentType>,
    activated_using: Option<String>,
) -> Schedule {
    let start = info.start;
    let scope = q.directory_scope_id.as_deref().or(q.app_scope_id.as_deref());
    let end_at = info.end();
    // Activations last hours; only eligibilities and assignments get expiry notices.
    let noticed = assignment_type != Some(AssignmentType::Activated);
    let notice = |days: i64| {
        end_at.map(|e| e - IsoDuration::from_days(days).as_delta()).filter(|t| noticed && *t > ctx.now)
    };
    Schedule {
        id: q.id.clone(),
        surface: q.surface,
        kind: q.kind,
        principal_id: q.principal_id.clone(),
        role_definition_id: q.role_definition_id.clone(),
        directory_scope_id: q.directory_scope_id.clone(),
        app_scope_id: q.app_scope_id.clone(),
        member_type,
        assignment_type,
        status: if start > ctx.now { Status::Granted } else { Status::Provisioned },
        state: ScheduleState::Live,
        created_using: Some(q.id.clone()),
        created_at: Some(ctx.now),
        modified_at: None,
        schedule_info: info.info(),
        end_at,
        activated_using,
        replaces: None,
        warn_14_at: notice(fidelity::EXPIRY_NOTICE_DAYS[0]),
        warn_1_at: notice(fidelity::EXPIRY_NOTICE_DAYS[1]),
        instance_id: instance_id(q, scope),
        ended_at: None,
    }
}

/// Marks a request as granted (future start) or provisioned, with its schedule.
pub(crate) fn grant(q: &mut ScheduleRequest, ctx: &Ctx, info: &SettledSchedule) -> Status {
    let start = info.start;
    q.status = if start > ctx.now { Status::Granted } else { Status::Provisioned };
    q.completed_at = Some(start);
    q.schedule_info = Some(info.info());
    q.target_schedule_id = Some(q.id.clone());
    q.status
}

/// Ends a schedule now: its instance (and role assignment) disappear with it.
pub(crate) fn end_schedule(
    tx: &Tx<'_>,
    ctx: &Ctx,
    s: &Schedule,
    state: ScheduleState,
) -> Result<(), ApiError> {
    tx.set_schedule_state(s, s.status, state, Some(ctx.now), Some(ctx.now))?;
    Ok(())
}

/// The id of the instance (and, for an assignment, the role assignment) a request's schedule has
/// while in effect. Graph derives it from the role, the principal and the scope's object (reference
/// §3.10); ARM names the backing role assignment with a GUID (arm-pim §1.1), which pimlab derives
/// from the same three, the scope's whole path included, and whether it is an eligibility. A PIM
/// for Groups instance gets a GUID the same way (its role is not a GUID to encode); the group API
/// shows it behind the group and the relationship.
fn instance_id(q: &ScheduleRequest, scope: Option<&str>) -> String {
    instance_id_of(q.surface, q.kind, &q.role_definition_id, &q.principal_id, scope)
}

/// The instance id of a schedule of `kind` for `principal` in `role` at `scope` on `surface`.
pub(crate) fn instance_id_of(
    surface: Surface,
    kind: RequestKind,
    role: &str,
    principal: &str,
    scope: Option<&str>,
) -> String {
    let eligibility = kind == RequestKind::Eligibility;
    if surface != Surface::Directory {
        let scope = scope.unwrap_or_default().to_ascii_lowercase();
        return ids::derived_guid(&format!("{role}\u{0}{principal}\u{0}{scope}\u{0}{eligibility}"));
    }
    ids::role_assignment_id(role, principal, scope, eligibility)
}

/// A permanent active assignment made outside PIM, from `start`: its schedule and instance share
/// the role assignment's id `id`, and nothing created it (reference §3.9).
pub(crate) fn outside_pim_assignment(
    id: String,
    principal_id: &str,
    role_id: &str,
    directory_scope_id: Option<String>,
    app_scope_id: Option<String>,
    start: Timestamp,
) -> Schedule {
    Schedule {
        id: id.clone(),
        surface: Surface::Directory,
        kind: RequestKind::Assignment,
        principal_id: principal_id.to_string(),
        role_definition_id: role_id.to_string(),
        directory_scope_id,
        app_scope_id,
        member_type: MemberType::Direct,
        assignment_type: Some(AssignmentType::Assigned),
        status: Status::Provisioned,
        state: ScheduleState::Live,
        created_using: None,
        created_at: None,
        modified_at: None,
        schedule_info: ScheduleInfo { start: Some(start), expiration: Expiration::never() },
        end_at: None,
        activated_using: None,
        instance_id: id,
        ended_at: None,
        replaces: None,
        warn_14_at: None,
        warn_1_at: None,
    }
}
