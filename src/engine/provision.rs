//! Where a request becomes a schedule: at once (`provision`), or once its approvers (or an
//! administrator) approve it (`fulfil_approved`), with the notice that access was granted.

use super::audit::{About, Activity, Audit, Audited, Entry, Outcome, VALIDATION_ONLY};
use super::notify::{self, Audience, Detail, Event, Notice};
use super::records::{grant, new_schedule};
use super::target::{Target, find_eligibility, live_for, new_record, prepare};
use super::validate::Checks;
use super::{Ctx, Session, extension, fidelity, group_access, new_id};
use crate::model::SettledSchedule;
use crate::model::time::format_timestamp;
use crate::model::{
    Action, ApiError, AssignmentType, Expiration, MemberType, NewRequest, RequestKind, Schedule,
    ScheduleRequest, ScheduleState, Status,
};
use crate::store::Tx;

/// How the principal will hold what a request provisions.
pub(crate) struct Holding {
    pub(crate) member_type: MemberType,
    pub(crate) assignment_type: Option<AssignmentType>,
    /// For activations: the eligibility schedule used.
    pub(crate) activated_using: Option<String>,
    /// For a future-dated update: the schedule it replaces when it starts.
    pub(crate) replaces: Option<String>,
}

impl Holding {
    /// A direct holding of the kind an admin action creates.
    pub(crate) fn direct(kind: RequestKind) -> Self {
        Holding {
            member_type: MemberType::Direct,
            assignment_type: (kind == RequestKind::Assignment).then_some(AssignmentType::Assigned),
            activated_using: None,
            replaces: None,
        }
    }
}

/// Creates the request and its schedule; returns the request and its audit row.
#[allow(clippy::too_many_arguments)]
pub(crate) fn provision(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    t: &Target,
    info: SettledSchedule,
    checks: Checks,
    holding: Holding,
) -> Result<Audited<ScheduleRequest>, ApiError> {
    let id = new_id(tx, ctx)?;
    let mut q = new_record(ctx, id, session, req, t, Status::Provisioned);
    grant(&mut q, ctx, &info);
    q.activated_using = holding.activated_using.clone();
    q.trace = checks.trace;
    let mut schedule =
        new_schedule(ctx, &q, &info, holding.member_type, holding.assignment_type, holding.activated_using);
    schedule.replaces = holding.replaces;
    if req.is_validation_only {
        return Ok((q, Audit::none(VALIDATION_ONLY)));
    }
    tx.insert_schedule(&schedule)?;
    let activity = Activity::request(req.kind, req.action, info.is_permanent(), Outcome::Completed);
    let row =
        Entry::new(tx, ctx, &session.caller, activity, About::Request(&q))?.reason(q.justification.clone());
    announce_provisioned(tx, ctx, &q, &schedule)?;
    // The request is written once, after its `completed` hooks, with their notes in its trace
    // (nothing they read is the request's row: their queries are of schedules and the directory).
    extension::completed_before_insert(tx, ctx, &mut q)?;
    tx.insert_request(&q)?;
    Ok((q, Audit::of(row)))
}

/// Tells the admins and the holder that access was granted (the notification rules decide who).
pub(crate) fn announce_provisioned(
    tx: &Tx<'_>,
    ctx: &Ctx,
    q: &ScheduleRequest,
    schedule: &Schedule,
) -> Result<(), ApiError> {
    let (event, audience) = match (q.kind, q.action) {
        (_, Action::SelfActivate) => (Event::Activated, Audience::EndUserAssignment),
        (RequestKind::Eligibility, _) => (Event::EligibleAssigned, Audience::AdminEligibility),
        (RequestKind::Assignment, _) => (Event::ActiveAssigned, Audience::AdminAssignment),
    };
    let window = Detail::Window {
        start: schedule.start(),
        end: schedule.end_at,
        justification: q.justification.clone(),
    };
    notify::emit(
        tx,
        ctx,
        &Notice {
            event,
            audience,
            role_id: &q.role_definition_id,
            principal_id: &q.principal_id,
            request_id: Some(&q.id),
            scope: q.directory_scope_id.as_deref(),
            approvers: &[],
            detail: window,
        },
    )
}

/// Carries out a request that its approvers (or an administrator) approved: an activation starts
/// at the moment of approval (or its requested start, if later) and lasts what was asked for; an
/// extension or renewal replaces its schedule. Anything that no longer holds fails the request.
/// Returns the audit row of an activation carried out (the approval's own row is the caller's).
pub(crate) fn fulfil_approved(tx: &Tx<'_>, ctx: &Ctx, q: &mut ScheduleRequest) -> Result<Audit, ApiError> {
    let req = q.body();
    let t = prepare(tx, &req)?;
    let fail = |q: &mut ScheduleRequest, why: String| -> Result<Audit, ApiError> {
        q.status = Status::Failed;
        q.completed_at = Some(ctx.now);
        q.trace.push(crate::model::TraceStep {
            check: "ProvisioningAfterApproval".into(),
            rule: None,
            passed: false,
            seen: why,
            limit: "what the request needs still holds when it is approved".into(),
            fix: Some(crate::model::Hint::text("submit a new request")),
        });
        tx.update_request(q)?;
        Ok(Audit::none("the approver's row records the approval; the caller records the failure"))
    };
    let expiration = q.schedule_info.as_ref().map(|i| i.expiration.clone());
    let requested_start = q.schedule_info.as_ref().and_then(|i| i.start);
    match q.action {
        Action::SelfActivate => {
            if let Some(active) = live_for(tx, RequestKind::Assignment, &t)?.first() {
                return fail(q, format!("the role is already held (schedule {})", active.id));
            }
            let Some((elig, member_type)) = find_eligibility(tx, ctx, &t)? else {
                return fail(q, "the eligibility has ended".into());
            };
            let info = SettledSchedule {
                start: requested_start.filter(|s| *s > ctx.now).unwrap_or(ctx.now),
                expiration: expiration.unwrap_or_else(Expiration::never),
            };
            let start = info.start;
            match info.end() {
                Some(end) if end <= start => {
                    return fail(
                        q,
                        format!("the requested end {} passed before the approval", format_timestamp(end)),
                    );
                }
                Some(end)
                    if !fidelity::ACTIVATION_MAY_OUTLIVE_ELIGIBILITY
                        && elig.end_at.is_some_and(|e| end > e) =>
                {
                    return fail(
                        q,
                        format!(
                            "approved this late, the activation would end {}, after the eligibility ends {}",
                            format_timestamp(end),
                            elig.end_at.map(format_timestamp).unwrap_or_default()
                        ),
                    );
                }
                _ => {}
            }
            grant(q, ctx, &info);
            q.activated_using = Some(elig.id.clone());
            let schedule =
                new_schedule(ctx, q, &info, member_type, Some(AssignmentType::Activated), Some(elig.id));
            let watch = watch_membership(tx, q)?;
            tx.insert_schedule(&schedule)?;
            tx.update_request(q)?;
            let activity = Activity::request(q.kind, q.action, false, Outcome::Completed);
            let row = Entry::new(tx, ctx, &q.created_by, activity, About::Request(q))?
                .reason(q.justification.clone());
            announce_provisioned(tx, ctx, q, &schedule)?;
            extension::completed(tx, ctx, q)?;
            let mut audit = Audit::of(row);
            group_access::settle_into(watch, None, tx, ctx, &mut audit)?;
            Ok(audit)
        }
        Action::SelfExtend | Action::SelfRenew => {
            let Some(old) = q.target_schedule_id.as_deref().map(|id| tx.schedule(id)).transpose()?.flatten()
            else {
                return fail(q, "the assignment to extend or renew no longer exists".into());
            };
            let wanted_state =
                if q.action == Action::SelfExtend { ScheduleState::Live } else { ScheduleState::Expired };
            if old.state != wanted_state {
                return fail(q, format!("schedule {} is {} now", old.id, old.state.as_str()));
            }
            // Without a schedule of its own, the request gets as long again as the original had:
            // an extension from the current end, a renewal from now.
            let info = match (&q.schedule_info, old.end_at) {
                (Some(i), _) => SettledSchedule { start: ctx.now, expiration: i.expiration.clone() },
                (None, Some(end)) => {
                    let length = end - old.start();
                    let new_end =
                        if q.action == Action::SelfExtend { end + length } else { ctx.now + length };
                    SettledSchedule { start: ctx.now, expiration: Expiration::at(new_end) }
                }
                (None, None) => SettledSchedule { start: ctx.now, expiration: Expiration::never() },
            };
            // Approved late, the asked-for end may have passed, or (for an extension) no longer
            // reach past the current one: carrying it out would end or shorten the access.
            match info.end() {
                Some(end) if end <= ctx.now => {
                    return fail(
                        q,
                        format!("the requested end {} passed before the approval", format_timestamp(end)),
                    );
                }
                Some(end) if q.action == Action::SelfExtend && old.end_at.is_some_and(|e| end <= e) => {
                    return fail(
                        q,
                        format!(
                            "the requested end {} is not after the current end {}",
                            format_timestamp(end),
                            old.end_at.map(format_timestamp).unwrap_or_default()
                        ),
                    );
                }
                _ => {}
            }
            let watch = watch_membership(tx, q)?;
            tx.set_schedule_state(
                &old,
                old.status,
                ScheduleState::Replaced,
                old.ended_at.or(Some(ctx.now)),
                Some(ctx.now),
            )?;
            grant(q, ctx, &info);
            let schedule = new_schedule(
                ctx,
                q,
                &info,
                old.member_type,
                old.assignment_type,
                old.activated_using.clone(),
            );
            tx.insert_schedule(&schedule)?;
            tx.update_request(q)?;
            announce_provisioned(tx, ctx, q, &schedule)?;
            extension::completed(tx, ctx, q)?;
            let mut audit = Audit::none("the approver's row records the extension or renewal");
            // A renewed group assignment makes its principal a member again.
            group_access::settle_into(watch, None, tx, ctx, &mut audit)?;
            Ok(audit)
        }
        other => fail(q, format!("{other} requests are not decided by approvers")),
    }
}

/// Watches the group membership an approved request may start (see `group_access`).
fn watch_membership(
    tx: &Tx<'_>,
    q: &ScheduleRequest,
) -> Result<Option<group_access::MembershipWatch>, ApiError> {
    group_access::watch(
        tx,
        q.surface,
        q.kind,
        q.directory_scope_id.as_deref(),
        &q.principal_id,
        &q.role_definition_id,
        None,
    )
}
