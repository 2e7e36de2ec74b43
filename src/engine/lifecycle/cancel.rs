//! Cancelling a request that has not yet taken effect or is waiting for a decision (addendum §12).

use crate::engine::audit::{About, Activity, Audit, Audited, Entry};
use crate::engine::directory::require_admin;
use crate::engine::records::{end_schedule, request_not_found};
use crate::engine::{Ctx, Session, approvals, extension, fidelity};
use crate::model::ErrorCode;
use crate::model::{ApiError, RequestKind, ScheduleRequest, ScheduleState, Status};
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
) -> Result<Audited<ScheduleRequest>, ApiError> {
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
    let activity = Activity::Canceled { kind, action: q.action };
    let row =
        Entry::new(tx, ctx, &session.caller, activity, About::Request(&q))?.reason(q.justification.clone());
    extension::completed(tx, ctx, &mut q)?;
    Ok((q, Audit::of(row)))
}
