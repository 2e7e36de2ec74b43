//! Administrators' actions on a holding: adminAssign, adminUpdate (and adminExtend, which replaces
//! a schedule the same way) and adminRemove.

use super::extend::check_extend_window;
use super::{
    admin_rule_ids, check_minimum_active, close_answered, enablement_rule, expiration_rule,
    fail_if_checks_failed, reject_if_pending, revoked_record, shorten,
};
use crate::engine::audit::{About, Activity, Audit, Audited, Entry, Outcome, VALIDATION_ONLY};
use crate::engine::lockout;
use crate::engine::provision::{Holding, provision};
use crate::engine::records::{end_schedule, role_assignment_does_not_exist, role_assignment_exists};
use crate::engine::target::{Target, live_for};
use crate::engine::validate::{Checks, check_enablement, check_expiration, normalise};
use crate::engine::{Ctx, Session, extension};
use crate::model::builtin_roles::GLOBAL_ADMINISTRATOR;
use crate::model::time::format_timestamp;
use crate::model::{
    Action, ApiError, AssignmentType, Expiration, MemberType, NewRequest, RequestKind, Schedule,
    ScheduleRequest, ScheduleState, SettledSchedule,
};
use crate::store::Tx;

pub(super) fn admin_assign(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    t: &Target,
) -> Result<Audited<ScheduleRequest>, ApiError> {
    if let Some(existing) = live_for(tx, req.kind, t)?.first() {
        return Err(role_assignment_exists().with_detail(
            "RoleAssignmentExists",
            "principalId",
            format!(
                "{} already has this {} (schedule {}); use adminUpdate or adminExtend to change it",
                t.principal.display_name,
                req.kind.as_str(),
                existing.id
            ),
        ));
    }
    reject_if_pending(tx, req.kind, t, None)?;
    let info = normalise(req.schedule_info.as_ref(), ctx.now, Expiration::never())?;
    let mut checks = t.checks();
    let (exp_id, en_id) = admin_rule_ids(req.kind);
    let info = shorten(info, t, &mut checks);
    check_expiration(&mut checks, expiration_rule(&t.policy, exp_id)?, &info);
    check_enablement(&mut checks, enablement_rule(&t.policy, en_id)?, req, session.mfa);
    fail_if_checks_failed(&checks)?;
    provision(tx, ctx, session, req, t, info, checks, Holding::direct(req.kind))
}

/// adminUpdate and adminExtend: a replacement schedule keyed by the new request (addendum §8).
pub(super) fn admin_replace(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    t: &Target,
) -> Result<Audited<ScheduleRequest>, ApiError> {
    // The newest live item: a future-dated replacement, if one is waiting, else the current one.
    // Activations are not extended; their holder activates again.
    let live = live_for(tx, req.kind, t)?;
    let Some(old) = live.into_iter().rev().find(|s| {
        s.member_type == MemberType::Direct
            && !(req.action == Action::AdminExtend && s.assignment_type == Some(AssignmentType::Activated))
    }) else {
        return Err(role_assignment_does_not_exist().with_detail(
            "RoleAssignmentDoesNotExist",
            "principalId",
            format!(
                "{} has no current {} of '{}' at '{}' to {}",
                t.principal.display_name,
                req.kind.as_str(),
                t.role.display_name,
                t.scope,
                if req.action == Action::AdminExtend { "extend" } else { "update" }
            ),
        ));
    };
    let answered = reject_if_pending(tx, req.kind, t, Some(req.action))?;
    let mut checks = t.checks();
    if req.action == Action::AdminExtend {
        check_extend_window(&mut checks, ctx, &old)?;
        if req.schedule_info.is_none() {
            return Err(ApiError::bad_request(
                "scheduleInfo",
                "an extension needs a scheduleInfo with the new expiration",
            ));
        }
    }
    let info = normalise(req.schedule_info.as_ref(), ctx.now, old.schedule_info.expiration.clone())?;
    if req.action == Action::AdminExtend {
        super::check_extension_ends_later(&mut checks, old.end_at, info.end());
    }
    if old.assignment_type == Some(AssignmentType::Activated) {
        check_within_eligibility(tx, &mut checks, &old, &info)?;
    }
    let (exp_id, en_id) = admin_rule_ids(req.kind);
    let info = shorten(info, t, &mut checks);
    check_expiration(&mut checks, expiration_rule(&t.policy, exp_id)?, &info);
    check_enablement(&mut checks, enablement_rule(&t.policy, en_id)?, req, session.mfa);
    fail_if_checks_failed(&checks)?;
    // A replacement that starts now supersedes the old schedule now; one that starts later leaves
    // the current access in place until then (addendum §9). A waiting replacement that never
    // started is itself superseded.
    let starts_later = info.start > ctx.now;
    let mut replaces = None;
    if !req.is_validation_only {
        let waiting = (!old.is_active()).then(|| old.replaces.clone()).flatten();
        if !old.is_active() || !starts_later {
            tx.set_schedule_state(&old, old.status, ScheduleState::Replaced, Some(ctx.now), Some(ctx.now))?;
        }
        match (starts_later, waiting) {
            (true, Some(current)) => replaces = Some(current),
            (true, None) if old.is_active() => replaces = Some(old.id.clone()),
            (false, Some(current)) => {
                if let Some(c) = tx.schedule(&current)?.filter(|c| c.state == ScheduleState::Live) {
                    tx.set_schedule_state(
                        &c,
                        c.status,
                        ScheduleState::Replaced,
                        Some(ctx.now),
                        Some(ctx.now),
                    )?;
                }
            }
            _ => {}
        }
    }
    let holding = Holding {
        member_type: old.member_type,
        assignment_type: old.assignment_type,
        activated_using: old.activated_using.clone(),
        replaces,
    };
    let (q, audit) = provision(tx, ctx, session, req, t, info, checks, holding)?;
    close_answered(tx, ctx, answered, &q)?;
    Ok((q, audit))
}

pub(super) fn admin_remove(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    t: &Target,
) -> Result<Audited<ScheduleRequest>, ApiError> {
    let live = live_for(tx, req.kind, t)?;
    let Some(target) = live.into_iter().next() else {
        return Err(role_assignment_does_not_exist().with_detail(
            "RoleAssignmentDoesNotExist",
            "principalId",
            format!(
                "{} has no {} of '{}' at '{}' to remove",
                t.principal.display_name,
                req.kind.as_str(),
                t.role.display_name,
                t.scope
            ),
        ));
    };
    let mut checks = t.checks();
    if req.kind == RequestKind::Assignment
        && target.is_active()
        && t.role.id == GLOBAL_ADMINISTRATOR
        && t.scope == "/"
    {
        let others = lockout::other_assigned_global_administrators(tx, &target.id)?;
        if others == 0 {
            return Err(lockout::last_global_administrator_error().with_detail(
                "LastGlobalAdministrator",
                "principalId",
                format!(
                    "{} is the only active Global Administrator; assign another one first",
                    t.principal.display_name
                ),
            ));
        }
        checks.pass(
            "LastGlobalAdministrator",
            format!("{others} other active Global Administrator assignment(s)"),
            "at least one must remain",
        );
    }
    check_minimum_active(&mut checks, ctx, &target)?;
    fail_if_checks_failed(&checks)?;
    let mut q = revoked_record(tx, ctx, session, req, t, checks)?;
    if req.is_validation_only {
        return Ok((q, Audit::none(VALIDATION_ONLY)));
    }
    end_schedule(tx, ctx, &target, ScheduleState::Removed)?;
    tx.insert_request(&q)?;
    let activity = Activity::request(req.kind, req.action, target.end_at.is_none(), Outcome::Completed);
    let row =
        Entry::new(tx, ctx, &session.caller, activity, About::Request(&q))?.reason(q.justification.clone());
    extension::completed(tx, ctx, &mut q)?;
    Ok((q, Audit::of(row)))
}

/// An updated activation stays an activation, so the rule every activation keeps holds for it too:
/// it needs its eligibility still in effect, and (see `fidelity::ACTIVATION_MAY_OUTLIVE_ELIGIBILITY`)
/// may not outlast it.
fn check_within_eligibility(
    tx: &Tx<'_>,
    checks: &mut Checks,
    activation: &Schedule,
    info: &SettledSchedule,
) -> Result<(), ApiError> {
    let eligibility = match &activation.activated_using {
        Some(id) => tx.schedule(id)?.filter(|e| e.state == ScheduleState::Live && e.is_active()),
        None => None,
    };
    let Some(eligibility) = eligibility else {
        checks.fail(
            "EligibilityRule",
            "EligibilityRule",
            "the eligibility this activation came from is no longer in effect",
            "a current eligibility",
            crate::model::Hint::text("remove the activation, or make the principal eligible again"),
        );
        return Ok(());
    };
    let outlives = match (info.end(), eligibility.end_at) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(end), Some(limit)) => end > limit,
    };
    if outlives && !super::fidelity::ACTIVATION_MAY_OUTLIVE_ELIGIBILITY {
        checks.fail(
            "EligibilityWindow",
            "ExpirationRule",
            info.end().map_or("no end".to_string(), |e| format!("activation ending {}", format_timestamp(e))),
            format!(
                "within the eligibility, which ends {}",
                eligibility.end_at.map(format_timestamp).unwrap_or_default()
            ),
            crate::model::Hint::text("ask for an end within the eligibility"),
        );
    }
    Ok(())
}
