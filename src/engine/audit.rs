//! Audit rows, with activities named as Entra's PIM audit log names them.

use super::Ctx;
use crate::model::{Action, ApiError, RequestKind, Schedule, ScheduleRequest};
use crate::store::{AuditRecord, AuditTarget, Tx};

/// How a request turned out, for its audit activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    Requested,
    Failed,
}

impl Outcome {
    fn word(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Requested => "requested",
            Outcome::Failed => "failed",
        }
    }
}

/// The activity name for a request, in the words of Entra's PIM audit log.
pub fn activity(kind: RequestKind, action: Action, permanent: bool, outcome: Outcome) -> String {
    let span = if permanent { "permanent" } else { "timebound" };
    let state = outcome.word();
    match (kind, action) {
        (RequestKind::Eligibility, Action::AdminAssign) => {
            format!("Add eligible member to role in PIM {state} ({span})")
        }
        (RequestKind::Assignment, Action::AdminAssign) => {
            format!("Add member to role in PIM {state} ({span})")
        }
        (RequestKind::Eligibility, Action::AdminUpdate) => {
            format!("Update eligible member in role in PIM {state} ({span})")
        }
        (RequestKind::Assignment, Action::AdminUpdate) => {
            format!("Update member in role in PIM {state} ({span})")
        }
        (RequestKind::Eligibility, Action::AdminRemove) => {
            format!("Remove eligible member from role in PIM {state} ({span})")
        }
        (RequestKind::Assignment, Action::AdminRemove) => {
            format!("Remove member from role in PIM {state} ({span})")
        }
        (RequestKind::Eligibility, Action::AdminExtend) => {
            format!("Extend eligible member in role in PIM {state}")
        }
        (RequestKind::Assignment, Action::AdminExtend) => format!("Extend member in role in PIM {state}"),
        (RequestKind::Eligibility, Action::AdminRenew) => {
            format!("Renew eligible member in role in PIM {state}")
        }
        (RequestKind::Assignment, Action::AdminRenew) => format!("Renew member in role in PIM {state}"),
        (_, Action::SelfActivate) => format!("Add member to role {state} (PIM activation)"),
        (_, Action::SelfDeactivate) => format!("Remove member from role {state} (PIM deactivate)"),
        (RequestKind::Eligibility, Action::SelfExtend) => format!("Extend eligible role assignment {state}"),
        (RequestKind::Assignment, Action::SelfExtend) => format!("Extend role assignment {state}"),
        (RequestKind::Eligibility, Action::SelfRenew) => format!("Renew eligible role assignment {state}"),
        (RequestKind::Assignment, Action::SelfRenew) => format!("Renew role assignment {state}"),
    }
}

/// The activity name for a stored request (kept for existing call sites).
pub fn activity_for(kind: RequestKind, action: Action, permanent: bool, pending: bool) -> String {
    activity(kind, action, permanent, if pending { Outcome::Requested } else { Outcome::Completed })
}

/// Targets of a request: the role and the principal.
pub fn request_targets(tx: &Tx<'_>, principal_id: &str, role_id: &str) -> Result<Vec<AuditTarget>, ApiError> {
    let role = tx.role(role_id)?;
    let principal = tx.object(principal_id)?;
    Ok(vec![
        AuditTarget {
            id: role_id.to_string(),
            kind: "Role".into(),
            display_name: role.map(|r| r.display_name),
        },
        AuditTarget {
            id: principal_id.to_string(),
            kind: principal.as_ref().map(|p| capitalise(p.kind.as_str())).unwrap_or_else(|| "Other".into()),
            display_name: principal.map(|p| p.display_name),
        },
    ])
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Writes the audit row for a stored request.
pub fn request(
    tx: &Tx<'_>,
    ctx: &Ctx,
    actor: &str,
    q: &ScheduleRequest,
    activity: String,
) -> Result<(), ApiError> {
    let record = AuditRecord {
        seq: 0,
        at: ctx.now,
        actor_id: actor.to_string(),
        activity,
        category: "RoleManagement".into(),
        result: "success".into(),
        reason: q.justification.clone(),
        request_id: Some(q.id.clone()),
        targets: request_targets(tx, &q.principal_id, &q.role_definition_id)?,
    };
    tx.insert_audit(&record)?;
    Ok(())
}

/// Writes the audit row for something the service did by itself to a schedule.
pub fn system(tx: &Tx<'_>, ctx: &Ctx, s: &Schedule, activity: &str, reason: &str) -> Result<(), ApiError> {
    let record = AuditRecord {
        seq: 0,
        at: ctx.now,
        actor_id: super::fidelity::SYSTEM_ACTOR.into(),
        activity: activity.to_string(),
        category: "RoleManagement".into(),
        result: "success".into(),
        reason: Some(reason.to_string()),
        request_id: s.created_using.clone(),
        targets: request_targets(tx, &s.principal_id, &s.role_definition_id)?,
    };
    tx.insert_audit(&record)?;
    Ok(())
}

/// Writes a free-form audit row (directory and policy changes).
pub fn other(
    tx: &Tx<'_>,
    ctx: &Ctx,
    actor: &str,
    activity: &str,
    category: &str,
    targets: Vec<AuditTarget>,
) -> Result<(), ApiError> {
    tx.insert_audit(&AuditRecord {
        seq: 0,
        at: ctx.now,
        actor_id: actor.to_string(),
        activity: activity.to_string(),
        category: category.to_string(),
        result: "success".into(),
        reason: None,
        request_id: None,
        targets,
    })?;
    Ok(())
}

/// Writes the audit row for a request nobody decided in time.
pub fn timed_out(tx: &Tx<'_>, ctx: &Ctx, q: &ScheduleRequest) -> Result<(), ApiError> {
    tx.insert_audit(&AuditRecord {
        seq: 0,
        at: ctx.now,
        actor_id: super::fidelity::SYSTEM_ACTOR.into(),
        activity: request_activity(q, "timed out"),
        category: "RoleManagement".into(),
        result: "failure".into(),
        reason: Some("no approver decided before the approval stage timed out".into()),
        request_id: Some(q.id.clone()),
        targets: request_targets(tx, &q.principal_id, &q.role_definition_id)?,
    })?;
    Ok(())
}

/// Writes the audit row for an approver's (or administrator's) decision.
pub fn decision(
    tx: &Tx<'_>,
    ctx: &Ctx,
    actor: &str,
    q: &ScheduleRequest,
    approved: bool,
) -> Result<(), ApiError> {
    let verdict = if approved { "approved" } else { "denied" };
    let activity = request_activity(q, verdict);
    tx.insert_audit(&AuditRecord {
        seq: 0,
        at: ctx.now,
        actor_id: actor.to_string(),
        activity,
        category: "RoleManagement".into(),
        result: "success".into(),
        reason: q.trace.last().map(|t| t.seen.clone()),
        request_id: Some(q.id.clone()),
        targets: request_targets(tx, &q.principal_id, &q.role_definition_id)?,
    })?;
    Ok(())
}

/// "Add member to role request approved (PIM activation)", "Extend eligible role assignment
/// request timed out", ...: a self-service request's activity for `verdict`.
fn request_activity(q: &ScheduleRequest, verdict: &str) -> String {
    let eligible = if q.kind == RequestKind::Eligibility { "eligible " } else { "" };
    match q.action {
        Action::SelfActivate => format!("Add member to role request {verdict} (PIM activation)"),
        Action::SelfExtend => format!("Extend {eligible}role assignment request {verdict}"),
        Action::SelfRenew => format!("Renew {eligible}role assignment request {verdict}"),
        other => format!("{} request {verdict}", other.as_str()),
    }
}

/// Writes the audit row for one stage's approval of a multi-stage request.
pub fn stage_decision(
    tx: &Tx<'_>,
    ctx: &Ctx,
    actor: &str,
    q: &ScheduleRequest,
    stage: u32,
    stages: usize,
    approved: bool,
) -> Result<(), ApiError> {
    let verdict = format!("{} (stage {stage} of {stages})", if approved { "approved" } else { "denied" });
    tx.insert_audit(&AuditRecord {
        seq: 0,
        at: ctx.now,
        actor_id: actor.to_string(),
        activity: request_activity(q, &verdict),
        category: "RoleManagement".into(),
        result: "success".into(),
        reason: q.trace.last().map(|t| t.seen.clone()),
        request_id: Some(q.id.clone()),
        targets: request_targets(tx, &q.principal_id, &q.role_definition_id)?,
    })?;
    Ok(())
}

/// Writes the audit row for an approved request that could not be carried out.
pub fn approved_but_failed(tx: &Tx<'_>, ctx: &Ctx, q: &ScheduleRequest, why: &str) -> Result<(), ApiError> {
    tx.insert_audit(&AuditRecord {
        seq: 0,
        at: ctx.now,
        actor_id: super::fidelity::SYSTEM_ACTOR.into(),
        activity: activity(q.kind, q.action, false, Outcome::Failed),
        category: "RoleManagement".into(),
        result: "failure".into(),
        reason: Some(why.to_string()),
        request_id: Some(q.id.clone()),
        targets: request_targets(tx, &q.principal_id, &q.role_definition_id)?,
    })?;
    Ok(())
}

/// Writes the audit row for a request the service refused. It is the only thing a refused
/// request leaves behind (ARCHITECTURE.md, invariant 3).
pub fn refused(
    tx: &Tx<'_>,
    ctx: &Ctx,
    actor: &str,
    req: &crate::model::NewRequest,
    error: &crate::model::ApiError,
) -> Result<(), ApiError> {
    let permanent = match req.action {
        // A removal carries no schedule: its span is that of the assignment it would remove.
        Action::AdminRemove => tx
            .live_schedules(req.kind, Some(&req.principal_id), Some(&req.role_definition_id))?
            .iter()
            .find(|s| s.directory_scope_id == req.directory_scope_id && s.is_active())
            .is_some_and(|s| s.end_at.is_none()),
        _ => req
            .schedule_info
            .as_ref()
            .is_some_and(|i| matches!(i.expiration.kind, crate::model::ExpirationType::NoExpiration)),
    };
    tx.insert_audit(&AuditRecord {
        seq: 0,
        at: ctx.now,
        actor_id: actor.to_string(),
        activity: activity(req.kind, req.action, permanent, Outcome::Failed),
        category: "RoleManagement".into(),
        result: "failure".into(),
        reason: Some(format!("{}: {}", error.code, error.message)),
        request_id: None,
        targets: request_targets(tx, &req.principal_id, &req.role_definition_id)?,
    })?;
    Ok(())
}
