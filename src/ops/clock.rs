//! The lab's own state: the simulated clock, the fidelity profile, the audit trail and the
//! notification outbox.

use super::args::*;
use super::outcome::Outcome;
use crate::engine::{AuditQuery, Engine, Session};
use crate::model::ApiError;

pub(super) fn clock(
    engine: &mut Engine,
    session: &Session,
    action: Option<&ClockAction>,
    progress: &dyn crate::model::Progress,
) -> Result<Outcome, ApiError> {
    let report = match action {
        None | Some(ClockAction::Show) => return Ok(Outcome::Now(engine.now()?)),
        Some(ClockAction::Set(a)) => engine.advance_to_reporting(session, a.time, progress)?,
        Some(ClockAction::Advance(a)) => engine.advance_by_reporting(session, a.duration, progress)?,
    };
    Ok(Outcome::ClockMoved { report, now: engine.now()? })
}

pub(super) fn audit(engine: &mut Engine, a: &AuditArgs) -> Result<Outcome, ApiError> {
    let q = AuditQuery { since: a.since, principal: a.principal.clone(), role: a.role.clone() };
    let rows = engine.audit_with_actors(&q)?;
    Ok(Outcome::Audit(rows))
}

pub(super) fn notifications(engine: &mut Engine, a: &NotificationsArgs) -> Result<Outcome, ApiError> {
    Ok(Outcome::Notifications { rows: engine.notifications(a.to.as_deref(), a.since)?, full: a.full })
}

pub(super) fn fidelity(
    engine: &mut Engine,
    session: &Session,
    action: Option<&FidelityAction>,
) -> Result<Outcome, ApiError> {
    let profile = match action {
        None | Some(FidelityAction::Show) => engine.fidelity()?,
        Some(FidelityAction::Set(a)) => engine.set_fidelity(session, a.name, a.state.is_on())?,
    };
    Ok(Outcome::Fidelity(profile))
}
