//! A holder's own actions: selfActivate (from a live eligibility, their own or a group's, possibly
//! through approval) and selfDeactivate.

use super::{
    check_minimum_active, enablement_rule, expiration_rule, fail_if_checks_failed, reject_if_pending,
    revoked_record, shorten, with_hook_approval,
};
use crate::engine::audit::{About, Activity, Audit, Audited, Entry, Outcome, VALIDATION_ONLY};
use crate::engine::directory::unauthorized;
use crate::engine::provision::{Holding, provision};
use crate::engine::records::{end_schedule, role_assignment_does_not_exist, role_assignment_exists};
use crate::engine::target::{Target, find_eligibility, live_for, new_record};
use crate::engine::validate::{check_enablement, check_expiration, check_justification, normalise};
use crate::engine::{Ctx, Session, approvals, extension, fidelity, new_id};
use crate::model::ErrorCode;
use crate::model::policy;
use crate::model::time::format_timestamp;
use crate::model::{
    ApiError, AssignmentType, Expiration, NewRequest, PrincipalKind, RequestKind, ScheduleInfo,
    ScheduleRequest, ScheduleState, Status,
};
use crate::store::Tx;

/// The caller may act for `principal`: it is the caller, or a group the caller belongs to.
pub(super) fn caller_acts_for(tx: &Tx<'_>, session: &Session, t: &Target) -> Result<(), ApiError> {
    if t.principal.id.eq_ignore_ascii_case(&session.caller) {
        return Ok(());
    }
    if t.principal.kind == PrincipalKind::Group
        && tx.containers_of(&session.caller)?.iter().any(|g| g.eq_ignore_ascii_case(&t.principal.id))
    {
        return Ok(());
    }
    Err(unauthorized().with_fix(
        "NotSelf",
        "principalId",
        format!(
            "self-service actions act for the caller; principalId {} is not the caller {}",
            t.principal.id, session.caller
        ),
        crate::model::Hint::ActAsPrincipal,
    ))
}

pub(super) fn self_activate(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    t: &Target,
) -> Result<Audited<ScheduleRequest>, ApiError> {
    caller_acts_for(tx, session, t)?;
    if let Some(active) = live_for(tx, RequestKind::Assignment, t)?.first() {
        return Err(role_assignment_exists().with_detail(
            "AlreadyActive",
            "roleDefinitionId",
            format!(
                "{} already holds '{}' (schedule {}, {})",
                t.principal.display_name,
                t.role.display_name,
                active.id,
                active.assignment_type.map(|a| a.as_str()).unwrap_or("Assigned")
            ),
        ));
    }
    reject_if_pending(tx, RequestKind::Assignment, t, None)?;
    let exp_rule = expiration_rule(&t.policy, policy::EXPIRATION_END_USER_ASSIGNMENT)?;
    let info = normalise(req.schedule_info.as_ref(), ctx.now, Expiration::after(exp_rule.maximum_duration))?;
    let mut checks = t.checks();
    let eligibility = find_eligibility(tx, ctx, t)?;
    match &eligibility {
        Some((e, member)) => checks.pass(
            "EligibilityRule",
            format!("eligibility {} ({})", e.id, member.as_str()),
            "a current eligibility for the role at the scope",
        ),
        None => checks.fail(
            "EligibilityRule",
            "EligibilityRule",
            "no current eligibility",
            format!("a current eligibility for '{}' at '{}'", t.role.display_name, t.scope),
            crate::model::Hint::text("ask an administrator to make you eligible"),
        ),
    }
    let info = shorten(info, t, &mut checks);
    check_expiration(&mut checks, exp_rule, &info);
    if let Some((e, _)) = &eligibility {
        if let (Some(elig_end), false) = (e.end_at, fidelity::ACTIVATION_MAY_OUTLIVE_ELIGIBILITY) {
            match info.end() {
                Some(end) if end <= elig_end => {}
                other => checks.fail(
                    "EligibilityWindow",
                    "ExpirationRule",
                    other
                        .map(|end| format!("activation ending {}", format_timestamp(end)))
                        .unwrap_or_else(|| "no end".into()),
                    format!("the eligibility ends {}", format_timestamp(elig_end)),
                    crate::model::Hint::text(
                        "ask for a shorter activation, or have the eligibility extended",
                    ),
                ),
            }
        }
    }
    check_enablement(
        &mut checks,
        enablement_rule(&t.policy, policy::ENABLEMENT_END_USER_ASSIGNMENT)?,
        req,
        session.mfa,
    );
    let approval = t.policy.approval().map(|a| a.setting.clone());
    if let Some(a) = &approval {
        // One missing justification is one failure, whichever rules ask for it.
        let enablement_asks = t
            .policy
            .enablement(policy::ENABLEMENT_END_USER_ASSIGNMENT)
            .is_some_and(|r| r.requires("Justification"));
        if a.is_requestor_justification_required && !enablement_asks {
            check_justification(&mut checks, "Approval_EndUser_Assignment.RequestorJustification", req);
        }
    }
    fail_if_checks_failed(&checks)?;
    if let Some(rule) = t.policy.authentication_context() {
        if rule.is_enabled {
            let claim = rule.claim_value.clone().unwrap_or_default();
            if !session.auth_contexts.iter().any(|c| c == &claim) {
                return Err(ApiError::new(
                    400,
                    ErrorCode::RoleAssignmentRequestAcrsValidationFailed,
                    format!("The Role assignment request requires an authentication context. claims={{\"access_token\":{{\"acrs\":{{\"essential\":true,\"value\":\"{claim}\"}}}}}}"),
                )
                .with_fix(
                    "AuthenticationContext",
                    "session",
                    format!("the session lacks authentication context '{claim}'"),
                    crate::model::Hint::AuthContext { claim: claim.clone() },
                ));
            }
            checks.pass(
                "AuthenticationContext_EndUser_Assignment",
                format!("claim {claim}"),
                format!("authentication context {claim}"),
            );
        }
    }
    let (elig, member_type) = eligibility.expect("checked above");
    let approval = with_hook_approval(tx, t, approval)?;
    if approval.as_ref().is_some_and(|a| a.is_approval_required) {
        checks.pass("Approval_EndUser_Assignment", "approval required", "sent to approvers");
        let id = new_id(tx, ctx)?;
        let mut q = new_record(ctx, id, session, req, t, Status::PendingApproval);
        q.approval_id = Some(q.id.clone());
        // The start is not known until approval (reference §3.3); a future start is kept.
        let start = Some(info.start).filter(|s| *s > ctx.now);
        q.schedule_info = Some(ScheduleInfo { start, expiration: info.expiration.clone() });
        q.activated_using = Some(elig.id.clone());
        q.trace = checks.trace;
        if !req.is_validation_only {
            tx.insert_request(&q)?;
            let setting = approval.clone().expect("approval required");
            let opened = approvals::open(tx, ctx, &q, &setting)?;
            q.trace.extend(opened);
            tx.update_request(&q)?;
            let activity = Activity::request(req.kind, req.action, false, Outcome::Requested);
            let row = Entry::new(tx, ctx, &session.caller, activity, About::Request(&q))?
                .reason(q.justification.clone());
            return Ok((q, Audit::of(row)));
        }
        return Ok((q, Audit::none(VALIDATION_ONLY)));
    }
    let holding = Holding {
        member_type,
        assignment_type: Some(AssignmentType::Activated),
        activated_using: Some(elig.id),
        replaces: None,
    };
    provision(tx, ctx, session, req, t, info, checks, holding)
}

pub(super) fn self_deactivate(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    t: &Target,
) -> Result<Audited<ScheduleRequest>, ApiError> {
    caller_acts_for(tx, session, t)?;
    let activation = live_for(tx, RequestKind::Assignment, t)?
        .into_iter()
        .find(|s| s.assignment_type == Some(AssignmentType::Activated) && s.is_active());
    let Some(activation) = activation else {
        return Err(role_assignment_does_not_exist().with_detail(
            "NotActivated",
            "roleDefinitionId",
            format!(
                "{} has no active activation of '{}' at '{}' to deactivate",
                t.principal.display_name, t.role.display_name, t.scope
            ),
        ));
    };
    let mut checks = t.checks();
    check_minimum_active(&mut checks, ctx, &activation)?;
    fail_if_checks_failed(&checks)?;
    let mut q = revoked_record(tx, ctx, session, req, t, checks)?;
    if req.is_validation_only {
        return Ok((q, Audit::none(VALIDATION_ONLY)));
    }
    end_schedule(tx, ctx, &activation, ScheduleState::Removed)?;
    tx.insert_request(&q)?;
    let activity = Activity::request(req.kind, req.action, false, Outcome::Completed);
    let row =
        Entry::new(tx, ctx, &session.caller, activity, About::Request(&q))?.reason(q.justification.clone());
    extension::completed(tx, ctx, &mut q)?;
    Ok((q, Audit::of(row)))
}
