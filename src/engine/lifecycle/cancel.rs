//! Cancelling a request that has not yet taken effect or is waiting for a decision (addendum §12).

use crate::engine::directory::require_admin;
use crate::engine::records::{end_schedule, request_not_found};
use crate::engine::{Ctx, Session, approvals, audit, extension, fidelity};
use crate::model::ErrorCode;
use crate::model::{Action, ApiError, RequestKind, ScheduleRequest, ScheduleState, Status};
use crate::store::Tx;

/// Statuses a request can be cancelled from (addendum §12).
pub(super) fn cancellable(s: Status) -> bool {
    matches!(s, Status::Granted | Status::PendingApproval | Status::PendingAdminDecision)
}

pub(crate) fn cancel(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    kind: RequestKind,
    id: &str,
) -> Result<ScheduleRequest, ApiError> {
    let mut q = tx.request(id)?.filter(|q| q.kind == kind).ok_or_else(|| request_not_found(id))?;
    let own = q.created_by.eq_ignore_ascii_case(&session.caller)
        || q.principal_id.eq_ignore_ascii_case(&session.caller);
    if !own {
        require_admin(tx, session, "Cancelling someone else's request")?;
    }
    if !cancellable(q.status) {
        return Err(ApiError::new(400, ErrorCode::RequestCannotBeCancelled, "Request is not in cancellable state.")
            .with_detail("Status", "status", format!("request {} is {}; only Granted, PendingApproval and PendingAdminDecision requests can be cancelled", q.id, q.status)));
    }
    if let Some(schedule) = tx.schedule(&q.id)? {
        if schedule.state == ScheduleState::Live {
            end_schedule(tx, ctx, &schedule, ScheduleState::Removed)?;
        }
    }
    q.status = match kind {
        RequestKind::Assignment => Status::Canceled,
        RequestKind::Eligibility => Status::Revoked,
    };
    q.canceled_at = Some(ctx.now);
    approvals::close_steps(tx, &q, fidelity::CANCELED_STEP_STATUS)?;
    tx.update_request(&q)?;
    let activity = match (kind, q.action) {
        (_, Action::SelfActivate) => "Add member to role canceled (PIM activation)".to_string(),
        (RequestKind::Eligibility, _) => "Add eligible member to role in PIM canceled".to_string(),
        (RequestKind::Assignment, _) => "Add member to role in PIM canceled".to_string(),
    };
    audit::request(tx, ctx, &session.caller, &q, activity)?;
    extension::completed(tx, ctx, &mut q)?;
    Ok(q)
}
