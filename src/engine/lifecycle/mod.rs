//! The request lifecycle (reference §3): `submit` checks who asks and what about, then hands the
//! request to its action family; the checks every family shares (pending requests, policy rules,
//! hook limits, removal rules) live here. The families: `admin` (adminAssign, adminUpdate,
//! adminRemove), `extend` (extend and renew, by administrators and by holders), `activate`
//! (selfActivate, selfDeactivate) and `cancel`.

mod activate;
mod admin;
mod cancel;
mod extend;

use super::approvals::approvers_named;
use super::audit::{self, Audited};
use super::directory::{require_admin, unauthorized};
use super::records::provisional_request;
use super::target::{Target, new_record, prepare};
use super::validate::Checks;
use super::{Ctx, Engine, Session, extension, fidelity, group_access, new_id};
use crate::model::ErrorCode;
use crate::model::SettledSchedule;
use crate::model::policy::{self, Policy};
use crate::model::time::format_timestamp;
use crate::model::{
    Action, ApiError, Expiration, IsoDuration, NewRequest, RequestKind, Schedule, ScheduleRequest, Status,
};
use crate::store::Tx;

/// Runs one request to its outcome inside `tx`. Returns the request as stored (or as it would be
/// stored, for `isValidationOnly`) and its audit rows. Any error leaves the transaction for the
/// caller to roll back.
pub(crate) fn submit(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
) -> Result<Audited<ScheduleRequest>, ApiError> {
    if tx.object(&session.caller)?.is_none() {
        return Err(unauthorized().with_detail(
            "UnknownCaller",
            "caller",
            format!("the caller '{}' is not in this tenant", session.caller),
        ));
    }
    super::validate::check_request_text(req)?;
    if req.kind == RequestKind::Eligibility
        && matches!(req.action, Action::SelfActivate | Action::SelfDeactivate)
    {
        return Err(ApiError::bad_request(
            "action",
            format!(
                "'{}' is only valid on roleAssignmentScheduleRequests; eligibilities are activated by an assignment request",
                req.action
            ),
        ));
    }
    if req.action.is_admin() && req.surface == crate::model::Surface::Directory {
        require_admin(tx, session, &format!("'{}'", req.action))?;
    }
    let mut t = prepare(tx, req)?;
    if req.surface == crate::model::Surface::Group {
        group_request(tx, ctx, session, req, &mut t)?;
    }
    let watch =
        group_access::watch(tx, req.surface, req.kind, Some(&t.scope), &t.principal.id, &t.role.id, None)?;
    if req.action.is_admin() && req.surface == crate::model::Surface::AzureResource {
        super::azure_access::require_azure_admin(
            tx,
            session,
            super::azure_access::AzureAdminAction::AssignRoles,
            &t.scope,
            &t.covering,
            &format!("'{}'", req.action),
        )?;
    }
    let provisional = provisional_request(tx, ctx, session, req, &t.principal.id, &t.role.id)?;
    t.hooks = extension::validate(tx, ctx, &provisional, &session.caller)?;
    if req.surface == crate::model::Surface::Group && req.kind == RequestKind::Assignment {
        // What the membership brings with it, so that `request explain` shows the chain.
        let group = group_access::governable_group(tx, &t.scope)?;
        let roles = group_access::directory_roles_of(tx, &group)?;
        if !roles.is_empty() {
            t.hooks.steps.push(crate::model::TraceStep {
                check: "GroupHoldsDirectoryRoles".into(),
                rule: None,
                passed: true,
                seen: format!("'{}' holds {}", group.display_name, roles.join(", ")),
                limit: "its members hold them through it while they are members".into(),
                fix: None,
            });
        }
    }
    let t = t;
    let (mut q, mut audit) = match req.action {
        Action::AdminAssign => admin::admin_assign(tx, ctx, session, req, &t)?,
        Action::AdminUpdate | Action::AdminExtend => admin::admin_replace(tx, ctx, session, req, &t)?,
        Action::AdminRenew => extend::admin_renew(tx, ctx, session, req, &t)?,
        Action::AdminRemove => admin::admin_remove(tx, ctx, session, req, &t)?,
        Action::SelfActivate => activate::self_activate(tx, ctx, session, req, &t)?,
        Action::SelfDeactivate => activate::self_deactivate(tx, ctx, session, req, &t)?,
        Action::SelfExtend | Action::SelfRenew => extend::self_extend_or_renew(tx, ctx, session, req, &t)?,
    };
    q.is_validation_only = req.is_validation_only;
    if !req.is_validation_only {
        // An activation carried out at once: its schedule is live and provisioned.
        let holding = req.action == Action::SelfActivate && q.status == crate::model::Status::Provisioned;
        group_access::settle_into(watch, holding.then_some(true), tx, ctx, &mut audit)?;
    }
    Ok((q, audit))
}

/// What a PIM for Groups request needs before its action: an administrator of the group for an
/// admin action, and the group onboarded (its first request, §6), with its own policy.
fn group_request(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    t: &mut Target,
) -> Result<(), ApiError> {
    let group = group_access::governable_group(tx, &t.scope)?;
    if req.action.is_admin() {
        group_access::require_group_admin(tx, session, &group, &format!("'{}'", req.action))?;
    }
    if group_access::onboard(tx, ctx, &group.id)? {
        t.policy = group_access::group_policy(tx, &group.id, group_access::access(&t.role.id)?)?;
    }
    Ok(())
}

impl Engine {
    /// Submits a schedule request. A refused request is undone and leaves exactly one audit row,
    /// its refusal (ARCHITECTURE.md, invariant 3); a validation-only request runs every check and
    /// leaves nothing, not even when it is refused.
    pub fn submit(&mut self, session: &Session, req: &NewRequest) -> Result<ScheduleRequest, ApiError> {
        if req.is_validation_only {
            return self.rehearse(|tx, ctx| submit(tx, ctx, session, req));
        }
        self.write_or_refuse(
            |tx, ctx| submit(tx, ctx, session, req),
            |tx, ctx, error| audit::refusal(tx, ctx, &session.caller, req, error),
        )
    }

    /// Submits a request as one step of a whole made inside [`Engine::atomically`] (an import):
    /// a refusal is returned, not recorded, because the whole is undone with it.
    pub fn submit_within(
        &mut self,
        session: &Session,
        req: &NewRequest,
    ) -> Result<ScheduleRequest, ApiError> {
        self.write(|tx, ctx| submit(tx, ctx, session, req))
    }

    /// Submits a request an ARM client PUT under `name` (a GUID it chose): the request keeps its
    /// own id, as the service mints one, and answers to the name too. A name already used by
    /// another request is refused and changes nothing.
    pub fn submit_named(
        &mut self,
        session: &Session,
        req: &NewRequest,
        name: &str,
    ) -> Result<ScheduleRequest, ApiError> {
        let taken = |tx: &Tx<'_>| -> Result<(), ApiError> {
            match tx.request_id_by_client_name(name)? {
                Some(_) => Err(ApiError::new(
                    409,
                    super::fidelity::ARM_REQUEST_NAME_TAKEN_CODE,
                    format!(
                        "A request named '{name}' already exists; every request needs a new name (a GUID)."
                    ),
                )),
                None => Ok(()),
            }
        };
        if req.is_validation_only {
            return self.rehearse(|tx, ctx| {
                taken(tx)?;
                submit(tx, ctx, session, req)
            });
        }
        self.write_or_refuse(
            |tx, ctx| {
                taken(tx)?;
                let (q, audit) = submit(tx, ctx, session, req)?;
                tx.set_request_client_name(&q.id, name)?;
                Ok((q, audit))
            },
            |tx, ctx, error| audit::refusal(tx, ctx, &session.caller, req, error),
        )
    }

    /// The id of the request an ARM client named `name`, if one did.
    pub fn request_named(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        self.read(|tx, _| Ok(tx.request_id_by_client_name(name)?))
    }

    /// The name an ARM client gave request `id`, if it came through ARM.
    pub fn request_client_name(&mut self, id: &str) -> Result<Option<String>, ApiError> {
        self.read(|tx, _| Ok(tx.request_client_name(id)?))
    }

    /// Cancels a request (`POST .../{id}/cancel`).
    pub fn cancel(
        &mut self,
        session: &Session,
        kind: RequestKind,
        id: &str,
    ) -> Result<ScheduleRequest, ApiError> {
        self.write(|tx, ctx| cancel::cancel(tx, ctx, session, kind, id))
    }
}

/// Refuses a request while another for the same target waits for a decision — unless this is the
/// administrator's answer to it (an adminExtend answering a selfExtend, an adminRenew answering a
/// selfRenew), in which case the waiting request is returned so the caller can close it.
fn reject_if_pending(
    tx: &Tx<'_>,
    kind: RequestKind,
    t: &Target,
    answering: Option<Action>,
) -> Result<Option<ScheduleRequest>, ApiError> {
    let pending = tx.pending_requests_for(kind, &t.principal.id, &t.role.id, &t.scope)?;
    let Some(p) = pending.into_iter().next() else {
        return Ok(None);
    };
    let answers = matches!(
        (answering, p.action),
        (Some(Action::AdminExtend), Action::SelfExtend) | (Some(Action::AdminRenew), Action::SelfRenew)
    );
    if answers {
        return Ok(Some(p));
    }
    // ARM names the same refusal its own way (arm-pim §4.1).
    let code = match t.surface {
        crate::model::Surface::AzureResource => fidelity::ARM_PENDING_REQUEST_CODE,
        _ => ErrorCode::PendingRoleAssignmentRequest,
    };
    Err(ApiError::new(400, code, fidelity::PENDING_REQUEST_MESSAGE).with_detail(
        "PendingRequest",
        "id",
        format!("request {} ({}) is still {}; cancel it or wait for its decision", p.id, p.action, p.status),
    ))
}

/// Closes a self-service request an administrator has just answered with request `answer`.
fn close_answered(
    tx: &Tx<'_>,
    ctx: &Ctx,
    answered: Option<ScheduleRequest>,
    answer: &ScheduleRequest,
) -> Result<(), ApiError> {
    if let (Some(mut p), false) = (answered, answer.is_validation_only) {
        p.status = Status::Provisioned;
        p.completed_at = Some(ctx.now);
        p.target_schedule_id = answer.target_schedule_id.clone();
        p.trace.push(crate::model::TraceStep {
            check: "AdminDecision".into(),
            rule: None,
            passed: true,
            seen: format!("{} request {}", answer.action, answer.id),
            limit: "an administrator acts on the request".into(),
            fix: None,
        });
        tx.update_request(&p)?;
    }
    Ok(())
}

fn expiration_rule<'p>(policy: &'p Policy, id: &str) -> Result<&'p policy::ExpirationRule, ApiError> {
    policy.expiration(id).ok_or_else(|| {
        ApiError::new(500, ErrorCode::InternalServerError, format!("policy {} lacks {id}", policy.id))
    })
}

fn enablement_rule<'p>(policy: &'p Policy, id: &str) -> Result<&'p policy::EnablementRule, ApiError> {
    policy.enablement(id).ok_or_else(|| {
        ApiError::new(500, ErrorCode::InternalServerError, format!("policy {} lacks {id}", policy.id))
    })
}

fn admin_rule_ids(kind: RequestKind) -> (&'static str, &'static str) {
    match kind {
        RequestKind::Eligibility => {
            (policy::EXPIRATION_ADMIN_ELIGIBILITY, policy::ENABLEMENT_ADMIN_ELIGIBILITY)
        }
        RequestKind::Assignment => (policy::EXPIRATION_ADMIN_ASSIGNMENT, policy::ENABLEMENT_ADMIN_ASSIGNMENT),
    }
}

/// The approval settings once the `validate` hooks have had their say: a hook may require
/// approval the policy does not, and name (more) first-stage approvers.
fn with_hook_approval(
    tx: &Tx<'_>,
    t: &Target,
    policy_setting: Option<policy::ApprovalSettings>,
) -> Result<Option<policy::ApprovalSettings>, ApiError> {
    let Some(names) = &t.hooks.approval else {
        return Ok(policy_setting);
    };
    let mut setting = policy_setting.unwrap_or(policy::ApprovalSettings {
        is_approval_required: true,
        is_approval_required_for_extension: false,
        is_requestor_justification_required: true,
        approval_mode: "SingleStage".into(),
        approval_stages: Vec::new(),
    });
    let already = setting.is_approval_required;
    setting.is_approval_required = true;
    if setting.approval_stages.is_empty() {
        setting.approval_stages.push(policy::ApprovalStage::default_stage());
    }
    if !names.is_empty() {
        let named = approvers_named(tx, names)?;
        let first = &mut setting.approval_stages[0];
        if already {
            first.primary_approvers.extend(named);
        } else {
            first.primary_approvers = named;
        }
    }
    Ok(Some(setting))
}

/// An extension must end later than what it extends (a permanent one always does).
pub(super) fn check_extension_ends_later(
    checks: &mut Checks,
    current_end: Option<crate::model::Timestamp>,
    new_end: Option<crate::model::Timestamp>,
) {
    if let (Some(old_end), Some(new_end)) = (current_end, new_end) {
        if new_end <= old_end {
            checks.fail(
                "Extension",
                "ExpirationRule",
                format!("new end {}", crate::model::time::format_timestamp(new_end)),
                format!("later than the current end {}", crate::model::time::format_timestamp(old_end)),
                crate::model::Hint::text("ask for an end after the current one"),
            );
        }
    }
}

/// Applies the shortest duration a `validate` hook allowed (hooks may only shorten).
fn shorten(mut info: SettledSchedule, t: &Target, checks: &mut Checks) -> SettledSchedule {
    let Some(limit) = t.hooks.duration else {
        return info;
    };
    let start = info.start;
    let longer = info.end().is_none_or(|end| end - start > limit.as_delta());
    if longer {
        checks.pass("HookDuration", format!("shortened to {limit}"), "a hook's limit");
        info.expiration = Expiration::after(limit);
    }
    info
}

fn fail_if_checks_failed(checks: &Checks) -> Result<(), ApiError> {
    match checks.error() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn active_duration_too_short() -> ApiError {
    // The real message carries the service's own spelling mistake.
    ApiError::new(
        400,
        ErrorCode::ActiveDurationTooShort,
        "The Active duration is too short. Miniumum Required is 5 minutes.",
    )
}

/// The real response to a removal: `Revoked`, no schedule, no completion time (addendum §1).
fn revoked_record(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    t: &Target,
    checks: Checks,
) -> Result<ScheduleRequest, ApiError> {
    let id = new_id(tx, ctx)?;
    let mut q = new_record(ctx, id, session, req, t, Status::Revoked);
    q.trace = checks.trace;
    Ok(q)
}

fn check_minimum_active(checks: &mut Checks, ctx: &Ctx, s: &Schedule) -> Result<(), ApiError> {
    let minimum = IsoDuration::from_minutes(fidelity::MINIMUM_ACTIVE_MINUTES);
    if s.is_active() {
        let age = IsoDuration::from_delta(ctx.now - s.start());
        if age < minimum {
            return Err(active_duration_too_short().with_detail(
                "ActiveDurationTooShort",
                "scheduleInfo",
                format!(
                    "it started {} ago; wait until {} (at least {minimum} after it started)",
                    age,
                    format_timestamp(s.start() + minimum.as_delta())
                ),
            ));
        }
        checks.pass("MinimumActiveDuration", format!("active for {age}"), format!("at least {minimum}"));
    }
    Ok(())
}
