//! Extend and renew: the windows they open in, an administrator's renewal, and a holder's
//! selfExtend and selfRenew, which wait for an administrator (or approvers) to act.

use super::{
    admin_rule_ids, close_answered, enablement_rule, expiration_rule, fail_if_checks_failed,
    reject_if_pending, shorten, with_hook_approval,
};
use crate::engine::audit::{About, Activity, Audit, Audited, Entry, Outcome, VALIDATION_ONLY};
use crate::engine::directory::{role_assignable_groups_of, unauthorized};
use crate::engine::notify::{self, Detail, Event, Notice};
use crate::engine::provision::{Holding, provision};
use crate::engine::records::{role_assignment_does_not_exist, role_assignment_exists};
use crate::engine::target::{Target, live_for, new_record, scope_matches};
use crate::engine::validate::{Checks, check_enablement, check_expiration, check_justification, normalise};
use crate::engine::{Ctx, Session, approvals, fidelity, new_id};
use crate::model::time::format_timestamp;
use crate::model::{
    Action, ApiError, AssignmentType, FidelitySwitch, Hint, IsoDuration, MemberType, NewRequest, Schedule,
    ScheduleRequest, ScheduleState, Status,
};
use crate::store::Tx;

const WINDOWS: FidelitySwitch = FidelitySwitch::PortalExtendRenewWindows;

pub(super) fn check_extend_window(checks: &mut Checks, ctx: &Ctx, old: &Schedule) -> Result<(), ApiError> {
    let Some(end) = old.end_at else {
        return Err(ApiError::new(
            400,
            fidelity::EXTEND_TOO_EARLY_CODE,
            "The assignment never expires; there is nothing to extend.",
        )
        .with_detail("Permanent", "scheduleInfo", format!("schedule {} has no expiration", old.id)));
    };
    if !windows_enforced(ctx) {
        return Ok(());
    }
    let window = IsoDuration::from_days(fidelity::EXTEND_WINDOW_DAYS);
    let opens = end - window.as_delta();
    if ctx.now < opens {
        return Err(ApiError::new(
            400,
            fidelity::EXTEND_TOO_EARLY_CODE,
            format!("Extension is only possible in the {} days before expiry (the portal's rule, enforced because the fidelity switch '{WINDOWS}' is on; the real API does not enforce it).", fidelity::EXTEND_WINDOW_DAYS),
        )
        .with_detail("ExtendWindow", "scheduleInfo", format!("it ends {}; extension opens {} (now {})", format_timestamp(end), format_timestamp(opens), format_timestamp(ctx.now)))
        .with_hint(Hint::FidelitySwitch { name: WINDOWS.name().into(), on: false }));
    }
    checks.pass(
        "ExtendWindow",
        format!("ends {}", format_timestamp(end)),
        format!("within {window} of expiry (fidelity switch {WINDOWS})"),
    );
    Ok(())
}

/// Whether the portal's extend and renew windows apply (a switch of the fidelity profile; the
/// API enforces neither, addendum §5).
fn windows_enforced(ctx: &Ctx) -> bool {
    ctx.fidelity.is_on(WINDOWS)
}

/// The expired schedule a renewal restores, within the renewal window.
pub(super) fn renewable(tx: &Tx<'_>, ctx: &Ctx, req: &NewRequest, t: &Target) -> Result<Schedule, ApiError> {
    if let Some(live) = live_for(tx, req.kind, t)?.first() {
        return Err(role_assignment_exists().with_detail(
            "NotExpired",
            "principalId",
            format!(
                "{} still has this {} (schedule {}); extend it instead of renewing",
                t.principal.display_name,
                req.kind.as_str(),
                live.id
            ),
        ));
    }
    let expired: Vec<Schedule> = tx
        .schedules_of(req.kind, &t.principal.id, &t.role.id, ScheduleState::Expired)?
        .into_iter()
        .filter(|s| {
            scope_matches(s, &t.scope)
                && s.member_type == MemberType::Direct
                && s.assignment_type != Some(AssignmentType::Activated)
        })
        .collect();
    let Some(last) = expired.into_iter().max_by_key(|s| s.ended_at) else {
        return Err(role_assignment_does_not_exist().with_detail(
            "NothingToRenew",
            "principalId",
            format!(
                "{} has no expired {} of '{}' to renew (ended schedules are remembered for {} days)",
                t.principal.display_name,
                req.kind.as_str(),
                t.role.display_name,
                fidelity::ENDED_SCHEDULE_RETENTION_DAYS
            ),
        ));
    };
    let ended = last.ended_at.unwrap_or(ctx.now);
    let closes = ended + IsoDuration::from_days(fidelity::RENEW_WINDOW_DAYS).as_delta();
    if windows_enforced(ctx) && ctx.now > closes {
        return Err(ApiError::new(
            400,
            fidelity::RENEW_TOO_LATE_CODE,
            format!("Renewal is only possible up to {} days after expiry (the portal's rule, enforced because the fidelity switch '{WINDOWS}' is on; the real API does not enforce it).", fidelity::RENEW_WINDOW_DAYS),
        )
        .with_detail("RenewWindow", "scheduleInfo", format!("it expired {}; renewal closed {}", format_timestamp(ended), format_timestamp(closes)))
        .with_hint(Hint::FidelitySwitch { name: WINDOWS.name().into(), on: false }));
    }
    Ok(last)
}

pub(super) fn admin_renew(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    t: &Target,
) -> Result<Audited<ScheduleRequest>, ApiError> {
    let old = renewable(tx, ctx, req, t)?;
    let answered = reject_if_pending(tx, req.kind, t, Some(req.action))?;
    let info = normalise(req.schedule_info.as_ref(), ctx.now, old.schedule_info.expiration.clone())?;
    let mut checks = t.checks();
    if windows_enforced(ctx) {
        checks.pass(
            "RenewWindow",
            format!("expired {}", old.ended_at.map(format_timestamp).unwrap_or_default()),
            format!("within {} days (fidelity switch {WINDOWS})", fidelity::RENEW_WINDOW_DAYS),
        );
    }
    let (exp_id, en_id) = admin_rule_ids(req.kind);
    let info = shorten(info, t, &mut checks);
    check_expiration(&mut checks, expiration_rule(&t.policy, exp_id)?, &info);
    check_enablement(&mut checks, enablement_rule(&t.policy, en_id)?, req, session.mfa);
    fail_if_checks_failed(&checks)?;
    if !req.is_validation_only {
        tx.set_schedule_state(&old, old.status, ScheduleState::Replaced, old.ended_at, Some(ctx.now))?;
    }
    let (q, audit) = provision(tx, ctx, session, req, t, info, checks, Holding::direct(req.kind))?;
    close_answered(tx, ctx, answered, &q)?;
    Ok((q, audit))
}

/// selfExtend and selfRenew ask an administrator to act: the request waits in `PendingAdminDecision`.
pub(super) fn self_extend_or_renew(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    t: &Target,
) -> Result<Audited<ScheduleRequest>, ApiError> {
    if !t.principal.id.eq_ignore_ascii_case(&session.caller) {
        return Err(unauthorized().with_detail(
            "NotSelf",
            "principalId",
            format!("{} may only be requested for the caller's own items", req.action),
        ));
    }
    let mut checks = t.checks();
    let target = if req.action == Action::SelfExtend {
        let live = live_for(tx, req.kind, t)?;
        let Some(s) = live.into_iter().find(|s| s.assignment_type != Some(AssignmentType::Activated)) else {
            let via_group = role_assignable_groups_of(tx, &t.principal.id)?.into_iter().any(|g| {
                tx.schedules_of(req.kind, &g, &t.role.id, ScheduleState::Live)
                    .map(|v| !v.is_empty())
                    .unwrap_or(false)
            });
            let why = if via_group {
                format!(
                    "{} holds '{}' only through a group; members cannot extend a group's {} (ask an administrator)",
                    t.principal.display_name,
                    t.role.display_name,
                    req.kind.as_str()
                )
            } else {
                format!(
                    "{} has no {} of '{}' to extend",
                    t.principal.display_name,
                    req.kind.as_str(),
                    t.role.display_name
                )
            };
            return Err(role_assignment_does_not_exist().with_detail("NothingToExtend", "principalId", why));
        };
        check_extend_window(&mut checks, ctx, &s)?;
        s
    } else {
        renewable(tx, ctx, req, t)?
    };
    reject_if_pending(tx, req.kind, t, None)?;
    if session.mfa {
        checks.pass(
            "SelfServiceMfa",
            "MFA-satisfied session",
            "MFA required for self-service extend and renew",
        );
    } else {
        checks.fail(
            "SelfServiceMfa",
            "MfaRule",
            "a session without MFA",
            "MFA required for self-service extend and renew",
            crate::model::Hint::Mfa,
        );
    }
    check_justification(&mut checks, "SelfServiceJustification", req);
    let requested = match &req.schedule_info {
        Some(info) => Some(normalise(Some(info), ctx.now, target.schedule_info.expiration.clone())?),
        None => None,
    };
    if let (Action::SelfExtend, Some(info)) = (req.action, &requested) {
        super::check_extension_ends_later(&mut checks, target.end_at, info.end());
    }
    fail_if_checks_failed(&checks)?;
    // With `isApprovalRequiredForExtension` the approvers decide; otherwise an administrator does.
    let approval =
        t.policy.approval().map(|a| a.setting.clone()).filter(|a| a.is_approval_required_for_extension);
    // A validate hook may ask for approval here too.
    let approval = match &t.hooks.approval {
        Some(_) => {
            with_hook_approval(tx, t, approval.or_else(|| t.policy.approval().map(|a| a.setting.clone())))?
        }
        None => approval,
    };
    let status = if approval.is_some() { Status::PendingApproval } else { Status::PendingAdminDecision };
    let id = new_id(tx, ctx)?;
    let mut q = new_record(ctx, id, session, req, t, status);
    q.schedule_info = requested.map(|info| info.info());
    q.target_schedule_id = Some(target.id.clone());
    q.trace = checks.trace;
    if !req.is_validation_only {
        tx.insert_request(&q)?;
        match &approval {
            Some(setting) => {
                q.approval_id = Some(q.id.clone());
                let opened = approvals::open(tx, ctx, &q, setting)?;
                q.trace.extend(opened);
                tx.update_request(&q)?;
            }
            None => {
                let admins = approvals::approvers_for(tx, ctx, &q)?;
                q.trace.push(crate::model::TraceStep {
                    check: "AdministratorDecision".into(),
                    rule: None,
                    passed: true,
                    seen: format!("{} administrator(s) can decide", admins.len()),
                    limit: "an administrator approves or denies it".into(),
                    fix: None,
                });
                tx.update_request(&q)?;
                notify::emit(
                    tx,
                    ctx,
                    &Notice {
                        event: Event::ApprovalRequested,
                        audience: approvals::audience_of(&q),
                        role_id: &q.role_definition_id,
                        principal_id: &q.principal_id,
                        request_id: Some(&q.id),
                        scope: q.directory_scope_id.as_deref(),
                        approvers: &admins,
                        detail: Detail::Text(format!(
                            "{} asks to {} schedule {}.",
                            t.principal.display_name,
                            if req.action == Action::SelfExtend { "extend" } else { "renew" },
                            target.id
                        )),
                    },
                )?;
            }
        }
        let activity = Activity::request(req.kind, req.action, false, Outcome::Requested);
        let row = Entry::new(tx, ctx, &session.caller, activity, About::Request(&q))?
            .reason(q.justification.clone());
        return Ok((q, Audit::of(row)));
    }
    Ok((q, Audit::none(VALIDATION_ONLY)))
}
