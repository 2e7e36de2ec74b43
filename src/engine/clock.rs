//! The simulated clock and the events that fall due as it moves: future schedules start, schedules
//! expire, old requests and ended schedules are purged. Events are processed in time order, each
//! instant in its own transaction, so a long advance never holds everything in memory at once.

use super::audit::{About, Activity, Audit, Entry};
use super::notify::{self, Audience, Detail, Event, Notice};
use super::records::end_schedule;
use super::{Ctx, Engine, Session, approvals, fidelity, group_access, set_clock};
use crate::model::time::{format_timestamp, to_millis};
use crate::model::{
    ApiError, AssignmentType, IsoDuration, RequestKind, Schedule, ScheduleState, Status, Timestamp,
};
use crate::model::{NoProgress, Progress};
use crate::store::Tx;

/// What an advance did, for the user.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdvanceReport {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub started: usize,
    pub expired: usize,
    pub failed: usize,
    pub timed_out: usize,
    pub purged_requests: usize,
    pub purged_schedules: usize,
    /// One line per event, in time order, up to [`MAX_EVENT_LINES`].
    pub events: Vec<String>,
    /// Events beyond [`MAX_EVENT_LINES`]: counted, not described (the audit trail has them all).
    pub events_omitted: usize,
}

/// How many event lines an advance describes. A month of a large tenant holds tens of thousands
/// of events; describing each would cost a lookup and memory for lines nobody reads.
pub const MAX_EVENT_LINES: usize = 1000;

impl AdvanceReport {
    /// Records an event, described by `line` while fewer than [`MAX_EVENT_LINES`] have been.
    fn note(&mut self, line: impl FnOnce() -> Result<String, ApiError>) -> Result<(), ApiError> {
        if self.events.len() < MAX_EVENT_LINES {
            self.events.push(line()?);
        } else {
            self.events_omitted += 1;
        }
        Ok(())
    }
}

fn days(n: i64) -> chrono::TimeDelta {
    IsoDuration::from_days(n).as_delta()
}

/// The earliest due event, if any.
fn next_event(tx: &Tx<'_>) -> Result<Option<Timestamp>, ApiError> {
    let candidates = [
        tx.next_schedule_event()?,
        tx.next_request_purge(
            days(fidelity::REQUEST_RETENTION_DAYS).num_milliseconds(),
            days(fidelity::CANCELED_REQUEST_RETENTION_DAYS).num_milliseconds(),
        )?,
        tx.next_schedule_purge()?.map(|t| t + days(fidelity::ENDED_SCHEDULE_RETENTION_DAYS)),
        tx.next_step_event()?,
        tx.next_expiry_warning()?,
    ];
    Ok(candidates.into_iter().flatten().min())
}

/// Processes everything due at `ctx.now`: ends first (so a renewal starting at the same instant
/// finds the old instance gone), then starts, then purges. Returns the audit rows, one per event
/// (an expiry warning is a notice, not an audit row).
fn process_instant(tx: &Tx<'_>, ctx: &Ctx, report: &mut AdvanceReport) -> Result<Audit, ApiError> {
    let mut audit = Audit::none("only expiry warnings fell due: they send notices, not audit rows");
    let by_the_service = |activity: Activity, s: &Schedule| {
        Entry::new(tx, ctx, fidelity::SYSTEM_ACTOR, activity, About::Schedule(s))
    };
    for s in tx.schedules_ending_by(ctx.now)? {
        let is_last_global_admin = super::lockout::keeps_from_expiring(tx, &s)?;
        if is_last_global_admin {
            // Lock-out protection (reference §3.2): the last Global Administrator does not expire.
            tx.keep_schedule_forever(&s.id)?;
            audit.push(
                by_the_service(Activity::KeptLastGlobalAdministrator, &s)?
                    .reason("expiry skipped: it is the last active Global Administrator".to_string()),
            );
            report.note(|| {
                Ok(format!(
                    "{} kept {} (last Global Administrator)",
                    format_timestamp(ctx.now),
                    describe(tx, &s)?
                ))
            })?;
            continue;
        }
        let watch = group_access::watch_ending(tx, &s)?;
        tx.set_schedule_state(&s, s.status, ScheduleState::Expired, s.end_at, None)?;
        let activation = s.assignment_type == Some(AssignmentType::Activated);
        audit.push(
            by_the_service(Activity::Expired { kind: s.kind, activation }, &s)?.reason("expired".to_string()),
        );
        group_access::settle_into(watch, None, tx, ctx, &mut audit)?;
        if s.assignment_type != Some(AssignmentType::Activated) {
            announce(tx, ctx, &s, Event::Expired)?;
        }
        report.expired += 1;
        report.note(|| Ok(format!("{} expired {}", format_timestamp(ctx.now), describe(tx, &s)?)))?;
    }
    for s in tx.schedules_starting_by(ctx.now)? {
        let mut conflict = tx.active_schedule_by_instance(&s.instance_id)?;
        if let Some(c) = conflict.as_ref().filter(|c| s.replaces.as_deref() == Some(c.id.as_str())) {
            // A future-dated update takes over from the schedule it replaces.
            tx.set_schedule_state(c, c.status, ScheduleState::Replaced, Some(ctx.now), Some(ctx.now))?;
            conflict = None;
        }
        let eligibility_gone = match (&s.activated_using, s.assignment_type) {
            (Some(e), Some(AssignmentType::Activated)) => !eligibility_in_effect(tx, e)?,
            _ => false,
        };
        let mut request = tx.request(&s.id)?;
        if conflict.is_some() || eligibility_gone {
            // Nothing can be provisioned any more: the request fails (reference: `Failed`, trigger unconfirmed).
            end_schedule(tx, ctx, &s, ScheduleState::Removed)?;
            let why = if eligibility_gone {
                "the eligibility it used has ended"
            } else {
                "the same assignment is already in effect"
            };
            if let Some(q) = request.as_mut() {
                q.status = Status::Failed;
                q.trace.push(crate::model::TraceStep {
                    check: "ProvisioningAtStart".into(),
                    rule: None,
                    passed: false,
                    seen: why.to_string(),
                    limit: "what the request needs still holds when it starts".into(),
                    fix: Some(crate::model::Hint::text("submit a new request")),
                });
                tx.update_request(q)?;
            }
            audit.push(by_the_service(Activity::StartFailed, &s)?.reason(why.to_string()));
            report.failed += 1;
            report
                .note(|| Ok(format!("{} failed {} ({why})", format_timestamp(ctx.now), describe(tx, &s)?)))?;
            continue;
        }
        let watch = group_access::watch_schedule(tx, &s, None)?;
        tx.set_schedule_state(&s, Status::Provisioned, ScheduleState::Live, None, Some(ctx.now))?;
        if let Some(q) = request.as_mut() {
            if q.status == Status::Granted {
                q.status = Status::Provisioned;
                tx.update_request(q)?;
            }
        }
        audit.push(by_the_service(Activity::Started, &s)?.reason("start time reached".to_string()));
        group_access::settle_into(watch, None, tx, ctx, &mut audit)?;
        report.started += 1;
        report.note(|| Ok(format!("{} started {}", format_timestamp(ctx.now), describe(tx, &s)?)))?;
    }
    for step in tx.steps_escalating_by(ctx.now)? {
        audit.append(approvals::escalate(tx, ctx, &step)?);
        report.note(|| {
            Ok(format!(
                "{} escalated the approval of request {}",
                format_timestamp(ctx.now),
                step.approval_id
            ))
        })?;
    }
    for step in tx.steps_due_by(ctx.now)? {
        let (q, rows) = approvals::time_out(tx, ctx, &step)?;
        audit.append(rows);
        if let Some(q) = q {
            report.timed_out += 1;
            report.note(|| {
                Ok(format!(
                    "{} timed out request {} (no decision in stage {})",
                    format_timestamp(ctx.now),
                    q.id,
                    step.stage
                ))
            })?;
        }
    }
    for (s, days) in tx.expiry_warnings_due_by(ctx.now)? {
        tx.clear_expiry_warning(&s, days)?;
        if s.state == ScheduleState::Live {
            announce(tx, ctx, &s, Event::Expiring { days })?;
            report.note(|| {
                Ok(format!(
                    "{} notified: {} ends in {days} day(s)",
                    format_timestamp(ctx.now),
                    describe(tx, &s)?
                ))
            })?;
        }
    }
    let purged = tx.purge_requests(
        ctx.now - days(fidelity::REQUEST_RETENTION_DAYS),
        ctx.now - days(fidelity::CANCELED_REQUEST_RETENTION_DAYS),
    )?;
    report.purged_requests += purged.requests.len();
    if !purged.requests.is_empty() {
        let targets = purged
            .requests
            .iter()
            .map(|id| crate::store::AuditTarget {
                id: id.clone(),
                kind: "Request".into(),
                display_name: None,
            })
            .collect();
        let activity = Activity::RequestsPurged(purged.requests.len());
        audit.push(Entry::new(tx, ctx, fidelity::SYSTEM_ACTOR, activity, About::Targets(targets))?);
        tx.purge_steps(&purged.approvals)?;
    }
    let forgotten = tx.purge_schedules(ctx.now - days(fidelity::ENDED_SCHEDULE_RETENTION_DAYS))?;
    if forgotten > 0 {
        let activity = Activity::SchedulesPurged(forgotten);
        audit.push(Entry::new(tx, ctx, fidelity::SYSTEM_ACTOR, activity, About::Targets(Vec::new()))?);
    }
    report.purged_schedules += forgotten;
    Ok(audit)
}

/// Tells the holder and the admins about a schedule's expiry (the notification rules decide who).
fn announce(tx: &Tx<'_>, ctx: &Ctx, s: &crate::model::Schedule, event: Event) -> Result<(), ApiError> {
    let audience = match s.kind {
        RequestKind::Eligibility => Audience::AdminEligibility,
        RequestKind::Assignment => Audience::AdminAssignment,
    };
    let detail = Detail::Text(format!(
        "{} ends {}.",
        describe(tx, s)?,
        s.end_at.map_or("never".to_string(), format_timestamp)
    ));
    notify::emit(
        tx,
        ctx,
        &Notice {
            event,
            audience,
            role_id: &s.role_definition_id,
            principal_id: &s.principal_id,
            request_id: s.created_using.as_deref(),
            scope: s.directory_scope_id.as_deref(),
            approvers: &[],
            detail,
        },
    )
}

/// "activation of Global Administrator by Alice Andersen (schedule …)" for event lines.
fn describe(tx: &Tx<'_>, s: &crate::model::Schedule) -> Result<String, ApiError> {
    let what = match (s.kind, s.assignment_type) {
        (RequestKind::Eligibility, _) => "eligibility",
        (_, Some(AssignmentType::Activated)) => "activation",
        _ => "assignment",
    };
    let role = tx.role(&s.role_definition_id)?.map_or(s.role_definition_id.clone(), |r| r.display_name);
    let who = tx.object(&s.principal_id)?.map_or(s.principal_id.clone(), |o| o.display_name.clone());
    Ok(format!("{what} of {role} for {who} (schedule {})", s.id))
}

/// Whether the eligibility an activation used is still in effect. An update or extension replaces
/// the schedule under a new id, so a live eligibility for the same principal, role and scope counts.
fn eligibility_in_effect(tx: &Tx<'_>, schedule_id: &str) -> Result<bool, ApiError> {
    let Some(e) = tx.schedule(schedule_id)? else {
        return Ok(false);
    };
    if e.is_active() {
        return Ok(true);
    }
    Ok(tx
        .schedules_of(RequestKind::Eligibility, &e.principal_id, &e.role_definition_id, ScheduleState::Live)?
        .iter()
        .any(|o| {
            o.is_active() && o.directory_scope_id == e.directory_scope_id && o.app_scope_id == e.app_scope_id
        }))
}

/// Where an advance goes: to a time, or by a duration from wherever the clock is when the
/// advance starts (read under the write lock, so two concurrent advances add up).
#[derive(Clone, Copy)]
enum Destination {
    To(Timestamp),
    By(IsoDuration),
}

impl Engine {
    /// Moves the clock forward to `target`, processing every due event in time order.
    pub fn advance_to(&mut self, session: &Session, target: Timestamp) -> Result<AdvanceReport, ApiError> {
        self.advance(session, Destination::To(target), &NoProgress)
    }

    /// Moves the clock forward by `by`.
    pub fn advance_by(&mut self, session: &Session, by: IsoDuration) -> Result<AdvanceReport, ApiError> {
        self.advance(session, Destination::By(by), &NoProgress)
    }

    /// [`Engine::advance_to`], reporting to `progress` how much of the simulated span is done
    /// (in simulated minutes) as each due instant is processed: a long advance over a big tenant
    /// shows how far it got.
    pub fn advance_to_reporting(
        &mut self,
        session: &Session,
        target: Timestamp,
        progress: &dyn Progress,
    ) -> Result<AdvanceReport, ApiError> {
        self.advance(session, Destination::To(target), progress)
    }

    /// [`Engine::advance_by`], reporting its progress as [`Engine::advance_to_reporting`] does.
    pub fn advance_by_reporting(
        &mut self,
        session: &Session,
        by: IsoDuration,
        progress: &dyn Progress,
    ) -> Result<AdvanceReport, ApiError> {
        self.advance(session, Destination::By(by), progress)
    }

    /// The whole advance holds the store's write lock (one transaction, `Engine::atomically`), so
    /// another process's advance or request cannot slip between reading the clock and moving it:
    /// advances never lose time nor move the clock back. A failure leaves the clock, and
    /// everything else, where it was.
    fn advance(
        &mut self,
        session: &Session,
        destination: Destination,
        progress: &dyn Progress,
    ) -> Result<AdvanceReport, ApiError> {
        self.atomically(|e| {
            let from = e.now()?;
            let target = match destination {
                Destination::To(t) => t,
                Destination::By(by) => crate::model::time::checked_add(from, by).ok_or_else(|| {
                    ApiError::bad_request(
                        "duration",
                        format!(
                            "advancing {} by {by} goes past the latest time pimlab can represent ({})",
                            format_timestamp(from),
                            format_timestamp(crate::model::time::latest())
                        ),
                    )
                })?,
            };
            if target < from {
                return Err(ApiError::bad_request(
                    "time",
                    format!(
                        "the simulated clock only moves forward: {} is before the current time {}",
                        format_timestamp(target),
                        format_timestamp(from)
                    ),
                ));
            }
            let mut report = AdvanceReport { from: Some(from), to: Some(target), ..Default::default() };
            progress.start("simulated minutes", minutes_between(from, target));
            let mut reached = from;
            loop {
                let done = e.write(|tx, ctx| {
                    let Some(next) = next_event(tx)?.filter(|t| *t <= target) else {
                        return Ok((None, Audit::none("nothing else falls due before the target")));
                    };
                    set_clock(tx, next)?;
                    let audit = process_instant(tx, &ctx.at(next), &mut report)?;
                    Ok((Some(next), audit))
                })?;
                match done {
                    Some(next) => {
                        progress.advance(minutes_between(from, next) - minutes_between(from, reached));
                        reached = next;
                    }
                    None => break,
                }
            }
            progress.finish();
            e.write(|tx, ctx| {
                set_clock(tx, target)?;
                let ctx = &ctx.at(target);
                if target == from {
                    return Ok(((), Audit::none("the clock did not move")));
                }
                let activity = Activity::ClockAdvanced(target);
                Ok((
                    (),
                    Audit::of(Entry::new(tx, ctx, &session.caller, activity, About::Targets(Vec::new()))?),
                ))
            })?;
            Ok(report)
        })
    }
}

/// Whole simulated minutes from `from` to `to` (0 when `to` is not later): the unit a clock
/// advance reports its progress in.
fn minutes_between(from: Timestamp, to: Timestamp) -> u64 {
    u64::try_from((to_millis(to) - to_millis(from)) / 60_000).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advance_describes_at_most_max_event_lines_and_counts_the_rest() {
        let mut report = AdvanceReport::default();
        let mut described = 0;
        for i in 0..MAX_EVENT_LINES + 5 {
            report
                .note(|| {
                    described += 1;
                    Ok(format!("event {i}"))
                })
                .unwrap();
        }
        assert_eq!(report.events.len(), MAX_EVENT_LINES);
        assert_eq!(described, MAX_EVENT_LINES, "events past the limit are not described");
        assert_eq!(report.events_omitted, 5);
        assert_eq!(report.events.last().map(String::as_str), Some("event 999"));
    }
}
