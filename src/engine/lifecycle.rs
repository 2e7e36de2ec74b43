//! The request lifecycle: every action of both request kinds, and cancel (reference §3).

use super::directory::{require_admin, role_assignable_groups_of, unauthorized};
use super::notify::{self, Audience, Event, Notice};
use super::validate::{Checks, check_enablement, check_expiration, check_justification, normalise};
use super::{Ctx, Engine, Session, approvals, audit, extension, fidelity, new_id};
use crate::model::builtin_roles::GLOBAL_ADMINISTRATOR;
use crate::model::policy::{self, Policy};
use crate::model::time::format_timestamp;
use crate::model::{
    Action, ApiError, AssignmentType, DirectoryObject, Expiration, IsoDuration, MemberType, NewRequest,
    PrincipalKind, RequestKind, RoleDefinition, Schedule, ScheduleInfo, ScheduleRequest, ScheduleState,
    Status, Surface, TicketInfo, ids,
};
use crate::store::Tx;

/// What a request is about, once its ids are known to exist.
struct Target {
    principal: DirectoryObject,
    role: RoleDefinition,
    scope: String,
    policy: Policy,
    /// What the `validate` hooks decided.
    hooks: extension::HookOutcome,
}

impl Target {
    /// A trace that starts with the hooks' verdicts, so a hook's denial is reported with the
    /// built-in rule failures, in the same error.
    fn checks(&self) -> Checks {
        Checks { trace: self.hooks.steps.clone() }
    }
}

pub(crate) fn role_assignment_exists() -> ApiError {
    ApiError::new(400, "RoleAssignmentExists", "The Role assignment already exists.")
}

pub(crate) fn role_assignment_does_not_exist() -> ApiError {
    ApiError::new(400, "RoleAssignmentDoesNotExist", "The Role assignment does not exist.")
}

fn active_duration_too_short() -> ApiError {
    // The real message carries the service's own spelling mistake.
    ApiError::new(
        400,
        "ActiveDurationTooShort",
        "The Active duration is too short. Miniumum Required is 5 minutes.",
    )
}

pub(crate) fn request_not_found(id: &str) -> ApiError {
    ApiError::new(404, "RoleAssignmentRequestNotFound", "The role assignment request is not found")
        .with_detail(
            "RequestNotFound",
            "id",
            format!(
                "no request '{id}' (requests are purged {} days after creation)",
                fidelity::REQUEST_RETENTION_DAYS
            ),
        )
}

fn scope_of(req: &NewRequest) -> Result<String, ApiError> {
    match (req.directory_scope_id.as_deref(), req.app_scope_id.as_deref()) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "directoryScopeId",
            "give either directoryScopeId or appScopeId, not both",
        )),
        (None, None) => Err(ApiError::bad_request(
            "directoryScopeId",
            "one of directoryScopeId or appScopeId is required (\"/\" for the whole tenant)",
        )),
        (Some(s), None) | (None, Some(s)) => Ok(s.to_string()),
    }
}

/// Checks the scope names something that exists: `/`, `/administrativeUnits/{id}` or `/{objectId}`.
fn check_directory_scope(tx: &Tx<'_>, scope: &str) -> Result<(), ApiError> {
    if scope == "/" {
        return Ok(());
    }
    let bad = |why: String| ApiError::bad_request("directoryScopeId", why);
    let rest = scope.strip_prefix('/').ok_or_else(|| bad(format!("'{scope}' must start with '/'")))?;
    let (expect_unit, id) = match rest.split_once('/') {
        Some(("administrativeUnits", id)) => (true, id),
        Some(_) => {
            return Err(bad(format!(
                "'{scope}' is not '/', '/administrativeUnits/{{id}}' or '/{{objectId}}'"
            )));
        }
        None => (false, rest),
    };
    match tx.object(id)? {
        Some(o) if expect_unit && o.kind != PrincipalKind::AdministrativeUnit => {
            Err(bad(format!("'{id}' in '{scope}' is a {}, not an administrative unit", o.kind.as_str())))
        }
        Some(_) => Ok(()),
        None => Err(bad(format!("the scope '{scope}' names no object in this tenant"))),
    }
}

fn prepare(tx: &Tx<'_>, req: &NewRequest) -> Result<Target, ApiError> {
    let scope = scope_of(req)?;
    if req.directory_scope_id.is_some() {
        check_directory_scope(tx, &scope)?;
    }
    let principal = tx.object(&req.principal_id)?.ok_or_else(|| {
        ApiError::new(
            400,
            fidelity::PRINCIPAL_NOT_FOUND_CODE,
            format!("The principal '{}' does not exist in this tenant.", req.principal_id),
        )
    })?;
    let role = tx.role(&req.role_definition_id)?.ok_or_else(|| {
        ApiError::new(
            400,
            fidelity::ROLE_NOT_FOUND_CODE,
            format!("The role definition '{}' does not exist in this tenant.", req.role_definition_id),
        )
    })?;
    if !role.is_enabled {
        return Err(ApiError::bad_request(
            "roleDefinitionId",
            format!("role '{}' is disabled (isEnabled: false) and cannot be assigned", role.display_name),
        ));
    }
    let invalid = |why: String| ApiError::new(400, fidelity::INVALID_PRINCIPAL_CODE, why);
    match principal.kind {
        PrincipalKind::AdministrativeUnit => {
            return Err(invalid(format!(
                "'{}' is an administrative unit; it cannot hold roles",
                principal.display_name
            )));
        }
        PrincipalKind::ServicePrincipal if req.kind == RequestKind::Eligibility => {
            return Err(invalid(format!(
                "service principal '{}' cannot be made eligible; service principals can only get active assignments",
                principal.display_name
            )));
        }
        PrincipalKind::Group if !principal.is_assignable_to_role => {
            return Err(invalid(format!(
                "group '{}' is not role-assignable (isAssignableToRole is false); only role-assignable groups can hold directory roles",
                principal.display_name
            )));
        }
        _ => {}
    }
    let policy = tx.policy_for(Surface::Directory.as_str(), "/", &role.id)?.ok_or_else(|| {
        ApiError::new(500, "InternalServerError", format!("role '{}' has no policy", role.display_name))
    })?;
    Ok(Target { principal, role, scope, policy, hooks: extension::HookOutcome::default() })
}

fn scope_matches(s: &Schedule, scope: &str) -> bool {
    s.directory_scope_id.as_deref().or(s.app_scope_id.as_deref()) == Some(scope)
}

/// Live schedules of the principal itself for the role at the scope.
fn live_for(tx: &Tx<'_>, kind: RequestKind, t: &Target) -> Result<Vec<Schedule>, ApiError> {
    Ok(tx
        .schedules_of(kind, &t.principal.id, &t.role.id, ScheduleState::Live)?
        .into_iter()
        .filter(|s| scope_matches(s, &t.scope))
        .collect())
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
    Err(ApiError::new(400, "PendingRoleAssignmentRequest", fidelity::PENDING_REQUEST_MESSAGE).with_detail(
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
    policy
        .expiration(id)
        .ok_or_else(|| ApiError::new(500, "InternalServerError", format!("policy {} lacks {id}", policy.id)))
}

fn enablement_rule<'p>(policy: &'p Policy, id: &str) -> Result<&'p policy::EnablementRule, ApiError> {
    policy
        .enablement(id)
        .ok_or_else(|| ApiError::new(500, "InternalServerError", format!("policy {} lacks {id}", policy.id)))
}

fn admin_rule_ids(kind: RequestKind) -> (&'static str, &'static str) {
    match kind {
        RequestKind::Eligibility => {
            (policy::EXPIRATION_ADMIN_ELIGIBILITY, policy::ENABLEMENT_ADMIN_ELIGIBILITY)
        }
        RequestKind::Assignment => (policy::EXPIRATION_ADMIN_ASSIGNMENT, policy::ENABLEMENT_ADMIN_ASSIGNMENT),
    }
}

/// A request record with the common fields filled in.
fn new_record(
    ctx: &Ctx,
    id: String,
    session: &Session,
    req: &NewRequest,
    t: &Target,
    status: Status,
) -> ScheduleRequest {
    record(ctx, id, session, req, &t.principal.id, &t.role.id, status)
}

/// The request as the validate hooks see it: as it arrived, under the id it would get, with
/// `status = PendingEvaluation`.
pub(crate) fn provisional_request(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    principal_id: &str,
    role_id: &str,
) -> Result<ScheduleRequest, ApiError> {
    let mut q =
        record(ctx, super::peek_id(tx, ctx)?, session, req, principal_id, role_id, Status::PendingEvaluation);
    q.schedule_info = req.schedule_info.clone();
    Ok(q)
}

fn record(
    ctx: &Ctx,
    id: String,
    session: &Session,
    req: &NewRequest,
    principal_id: &str,
    role_id: &str,
    status: Status,
) -> ScheduleRequest {
    ScheduleRequest {
        id,
        surface: req.surface,
        kind: req.kind,
        action: req.action,
        status,
        principal_id: principal_id.to_string(),
        role_definition_id: role_id.to_string(),
        directory_scope_id: req.directory_scope_id.clone(),
        app_scope_id: req.app_scope_id.clone(),
        justification: req.justification.clone(),
        schedule_info: None,
        ticket_info: req.ticket_info.clone().unwrap_or_default(),
        is_validation_only: req.is_validation_only,
        target_schedule_id: None,
        approval_id: None,
        created_at: ctx.now,
        completed_at: None,
        created_by: session.caller.clone(),
        activated_using: None,
        canceled_at: None,
        trace: Vec::new(),
    }
}

/// The schedule a request creates, keyed by the request's id (reference §3.1).
fn new_schedule(
    ctx: &Ctx,
    q: &ScheduleRequest,
    info: &ScheduleInfo,
    member_type: MemberType,
    assignment_type: Option<AssignmentType>,
    activated_using: Option<String>,
) -> Schedule {
    let start = info.start.expect("normalised");
    let scope = q.directory_scope_id.as_deref().or(q.app_scope_id.as_deref());
    let end_at = info.end_from(start);
    // Activations last hours; only eligibilities and assignments get expiry notices.
    let noticed = assignment_type != Some(AssignmentType::Activated);
    let notice = |days: i64| {
        end_at.map(|e| e - IsoDuration::from_days(days).as_delta()).filter(|t| noticed && *t > ctx.now)
    };
    Schedule {
        id: q.id.clone(),
        surface: q.surface,
        kind: q.kind,
        principal_id: q.principal_id.clone(),
        role_definition_id: q.role_definition_id.clone(),
        directory_scope_id: q.directory_scope_id.clone(),
        app_scope_id: q.app_scope_id.clone(),
        member_type,
        assignment_type,
        status: if start > ctx.now { Status::Granted } else { Status::Provisioned },
        state: ScheduleState::Live,
        created_using: Some(q.id.clone()),
        created_at: Some(ctx.now),
        modified_at: None,
        schedule_info: info.clone(),
        end_at,
        activated_using,
        replaces: None,
        warn_14_at: notice(fidelity::EXPIRY_NOTICE_DAYS[0]),
        warn_1_at: notice(fidelity::EXPIRY_NOTICE_DAYS[1]),
        instance_id: ids::role_assignment_id(
            &q.role_definition_id,
            &q.principal_id,
            scope,
            q.kind == RequestKind::Eligibility,
        ),
        ended_at: None,
    }
}

/// Marks a request as granted (future start) or provisioned, with its schedule.
fn grant(q: &mut ScheduleRequest, ctx: &Ctx, info: &ScheduleInfo) -> Status {
    let start = info.start.expect("normalised");
    q.status = if start > ctx.now { Status::Granted } else { Status::Provisioned };
    q.completed_at = Some(start);
    q.schedule_info = Some(info.clone());
    q.target_schedule_id = Some(q.id.clone());
    q.status
}

fn is_permanent(info: &ScheduleInfo) -> bool {
    info.end_from(info.start.expect("normalised")).is_none()
}

/// Approvers named by id, user principal name or display name, as the approval rule holds them.
pub(crate) fn approvers_named(tx: &Tx<'_>, names: &[String]) -> Result<Vec<policy::Approver>, ApiError> {
    let mut out = Vec::new();
    for name in names {
        let o = super::directory::resolve_object(tx, name, "Approver")?;
        out.push(match o.kind {
            PrincipalKind::Group => policy::Approver::GroupMembers {
                group_id: o.id,
                description: Some(o.display_name),
                is_backup: None,
            },
            _ => policy::Approver::SingleUser {
                user_id: o.id,
                description: Some(o.display_name),
                is_backup: None,
            },
        });
    }
    Ok(out)
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

/// Applies the shortest duration a `validate` hook allowed (hooks may only shorten).
fn shorten(mut info: ScheduleInfo, t: &Target, checks: &mut Checks) -> ScheduleInfo {
    let Some(limit) = t.hooks.duration else {
        return info;
    };
    let start = info.start.expect("normalised");
    let longer = info.end_from(start).is_none_or(|end| end - start > limit.as_delta());
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

/// Runs one request to its outcome inside `tx`. Returns the request as stored (or as it would be
/// stored, for `isValidationOnly`). Any error leaves the transaction for the caller to roll back.
pub(crate) fn submit(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
) -> Result<ScheduleRequest, ApiError> {
    if tx.object(&session.caller)?.is_none() {
        return Err(unauthorized().with_detail(
            "UnknownCaller",
            "caller",
            format!("the caller '{}' is not in this tenant", session.caller),
        ));
    }
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
    if req.action.is_admin() {
        require_admin(tx, session, &format!("'{}'", req.action))?;
    }
    let mut t = prepare(tx, req)?;
    let provisional = provisional_request(tx, ctx, session, req, &t.principal.id, &t.role.id)?;
    t.hooks = extension::validate(tx, ctx, &provisional, &session.caller)?;
    let t = t;
    let mut q = match req.action {
        Action::AdminAssign => admin_assign(tx, ctx, session, req, &t)?,
        Action::AdminUpdate | Action::AdminExtend => admin_replace(tx, ctx, session, req, &t)?,
        Action::AdminRenew => admin_renew(tx, ctx, session, req, &t)?,
        Action::AdminRemove => admin_remove(tx, ctx, session, req, &t)?,
        Action::SelfActivate => self_activate(tx, ctx, session, req, &t)?,
        Action::SelfDeactivate => self_deactivate(tx, ctx, session, req, &t)?,
        Action::SelfExtend | Action::SelfRenew => self_extend_or_renew(tx, ctx, session, req, &t)?,
    };
    q.is_validation_only = req.is_validation_only;
    Ok(q)
}

fn admin_assign(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    t: &Target,
) -> Result<ScheduleRequest, ApiError> {
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
    check_expiration(&mut checks, expiration_rule(&t.policy, exp_id)?, &info, "--duration");
    check_enablement(&mut checks, enablement_rule(&t.policy, en_id)?, req, session.mfa);
    fail_if_checks_failed(&checks)?;
    provision(tx, ctx, session, req, t, info, checks, Holding::direct(req.kind))
}

/// How the principal will hold what a request provisions.
struct Holding {
    member_type: MemberType,
    assignment_type: Option<AssignmentType>,
    /// For activations: the eligibility schedule used.
    activated_using: Option<String>,
    /// For a future-dated update: the schedule it replaces when it starts.
    replaces: Option<String>,
}

impl Holding {
    /// A direct holding of the kind an admin action creates.
    fn direct(kind: RequestKind) -> Self {
        Holding {
            member_type: MemberType::Direct,
            assignment_type: (kind == RequestKind::Assignment).then_some(AssignmentType::Assigned),
            activated_using: None,
            replaces: None,
        }
    }
}

/// Creates the request and its schedule, and writes the audit row.
#[allow(clippy::too_many_arguments)]
fn provision(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    t: &Target,
    info: ScheduleInfo,
    checks: Checks,
    holding: Holding,
) -> Result<ScheduleRequest, ApiError> {
    let id = new_id(tx, ctx)?;
    let mut q = new_record(ctx, id, session, req, t, Status::Provisioned);
    grant(&mut q, ctx, &info);
    q.activated_using = holding.activated_using.clone();
    q.trace = checks.trace;
    let mut schedule =
        new_schedule(ctx, &q, &info, holding.member_type, holding.assignment_type, holding.activated_using);
    schedule.replaces = holding.replaces;
    if !req.is_validation_only {
        tx.insert_request(&q)?;
        tx.insert_schedule(&schedule)?;
        let activity = audit::activity_for(req.kind, req.action, is_permanent(&info), false);
        audit::request(tx, ctx, &session.caller, &q, activity)?;
        announce_provisioned(tx, ctx, &q, &schedule)?;
        extension::completed(tx, ctx, &mut q)?;
    }
    Ok(q)
}

/// Tells the admins and the holder that access was granted (the notification rules decide who).
fn announce_provisioned(
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
    let window = format!(
        "From {} until {}.{}",
        format_timestamp(schedule.start()),
        schedule.end_at.map_or("it is removed (permanent)".to_string(), format_timestamp),
        q.justification.as_ref().map(|j| format!(" Justification: {j}")).unwrap_or_default()
    );
    notify::emit(
        tx,
        ctx,
        &Notice {
            event,
            audience,
            role_id: &q.role_definition_id,
            principal_id: &q.principal_id,
            request_id: Some(&q.id),
            approvers: &[],
            detail: window,
        },
    )
}

/// Carries out a request that its approvers (or an administrator) approved: an activation starts
/// at the moment of approval (or its requested start, if later) and lasts what was asked for; an
/// extension or renewal replaces its schedule. Anything that no longer holds fails the request.
pub(crate) fn fulfil_approved(tx: &Tx<'_>, ctx: &Ctx, q: &mut ScheduleRequest) -> Result<(), ApiError> {
    let req = NewRequest {
        surface: q.surface,
        kind: q.kind,
        action: q.action,
        principal_id: q.principal_id.clone(),
        role_definition_id: q.role_definition_id.clone(),
        directory_scope_id: q.directory_scope_id.clone(),
        app_scope_id: q.app_scope_id.clone(),
        justification: q.justification.clone(),
        schedule_info: q.schedule_info.clone(),
        ticket_info: Some(q.ticket_info.clone()),
        is_validation_only: false,
    };
    let t = prepare(tx, &req)?;
    let fail = |q: &mut ScheduleRequest, why: String| -> Result<(), ApiError> {
        q.status = Status::Failed;
        q.completed_at = Some(ctx.now);
        q.trace.push(crate::model::TraceStep {
            check: "ProvisioningAfterApproval".into(),
            rule: None,
            passed: false,
            seen: why,
            limit: "what the request needs still holds when it is approved".into(),
            fix: Some("submit a new request".into()),
        });
        tx.update_request(q)?;
        Ok(())
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
            let info = ScheduleInfo {
                start: Some(requested_start.filter(|s| *s > ctx.now).unwrap_or(ctx.now)),
                expiration: expiration.unwrap_or_else(Expiration::never),
            };
            let start = info.start.expect("set above");
            match info.end_from(start) {
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
            tx.insert_schedule(&schedule)?;
            tx.update_request(q)?;
            audit::request(tx, ctx, &q.created_by, q, audit::activity_for(q.kind, q.action, false, false))?;
            announce_provisioned(tx, ctx, q, &schedule)?;
            extension::completed(tx, ctx, q)?;
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
                (Some(i), _) => ScheduleInfo { start: Some(ctx.now), expiration: i.expiration.clone() },
                (None, Some(end)) => {
                    let length = end - old.start();
                    let new_end =
                        if q.action == Action::SelfExtend { end + length } else { ctx.now + length };
                    ScheduleInfo { start: Some(ctx.now), expiration: Expiration::at(new_end) }
                }
                (None, None) => ScheduleInfo { start: Some(ctx.now), expiration: Expiration::never() },
            };
            tx.set_schedule_state(
                &old.id,
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
        }
        other => {
            return fail(q, format!("{other} requests are not decided by approvers"));
        }
    }
    Ok(())
}

/// adminUpdate and adminExtend: a replacement schedule keyed by the new request (addendum §8).
fn admin_replace(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    t: &Target,
) -> Result<ScheduleRequest, ApiError> {
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
        let new_end = info.end_from(info.start.expect("normalised"));
        if let (Some(old_end), Some(new_end)) = (old.end_at, new_end) {
            if new_end <= old_end {
                checks.fail(
                    "Extension",
                    "ExpirationRule",
                    format!("new end {}", format_timestamp(new_end)),
                    format!("later than the current end {}", format_timestamp(old_end)),
                    "ask for an end after the current one",
                );
            }
        }
    }
    let (exp_id, en_id) = admin_rule_ids(req.kind);
    let info = shorten(info, t, &mut checks);
    check_expiration(&mut checks, expiration_rule(&t.policy, exp_id)?, &info, "--duration");
    check_enablement(&mut checks, enablement_rule(&t.policy, en_id)?, req, session.mfa);
    fail_if_checks_failed(&checks)?;
    // A replacement that starts now supersedes the old schedule now; one that starts later leaves
    // the current access in place until then (addendum §9). A waiting replacement that never
    // started is itself superseded.
    let starts_later = info.start.is_some_and(|s| s > ctx.now);
    let mut replaces = None;
    if !req.is_validation_only {
        let waiting = (!old.is_active()).then(|| old.replaces.clone()).flatten();
        if !old.is_active() || !starts_later {
            tx.set_schedule_state(
                &old.id,
                old.status,
                ScheduleState::Replaced,
                Some(ctx.now),
                Some(ctx.now),
            )?;
        }
        match (starts_later, waiting) {
            (true, Some(current)) => replaces = Some(current),
            (true, None) if old.is_active() => replaces = Some(old.id.clone()),
            (false, Some(current)) => {
                if let Some(c) = tx.schedule(&current)?.filter(|c| c.state == ScheduleState::Live) {
                    tx.set_schedule_state(
                        &c.id,
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
    let q = provision(tx, ctx, session, req, t, info, checks, holding)?;
    close_answered(tx, ctx, answered, &q)?;
    Ok(q)
}

fn check_extend_window(checks: &mut Checks, ctx: &Ctx, old: &Schedule) -> Result<(), ApiError> {
    let Some(end) = old.end_at else {
        return Err(ApiError::new(
            400,
            fidelity::EXTEND_TOO_EARLY_CODE,
            "The assignment never expires; there is nothing to extend.",
        )
        .with_detail("Permanent", "scheduleInfo", format!("schedule {} has no expiration", old.id)));
    };
    let window = IsoDuration::from_days(fidelity::EXTEND_WINDOW_DAYS);
    let opens = end - window.as_delta();
    if fidelity::ENFORCE_EXTEND_RENEW_WINDOWS && ctx.now < opens {
        return Err(ApiError::new(
            400,
            fidelity::EXTEND_TOO_EARLY_CODE,
            format!("Extension is only possible in the {} days before expiry (pimlab rule; the real API's code for this is not known).", fidelity::EXTEND_WINDOW_DAYS),
        )
        .with_detail("ExtendWindow", "scheduleInfo", format!("it ends {}; extension opens {} (now {})", format_timestamp(end), format_timestamp(opens), format_timestamp(ctx.now))));
    }
    checks.pass(
        "ExtendWindow",
        format!("ends {}", format_timestamp(end)),
        format!("within {window} of expiry"),
    );
    Ok(())
}

/// The expired schedule a renewal restores, within the renewal window.
fn renewable(tx: &Tx<'_>, ctx: &Ctx, req: &NewRequest, t: &Target) -> Result<Schedule, ApiError> {
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
                "{} has no {} of '{}' that expired in the last {} days",
                t.principal.display_name,
                req.kind.as_str(),
                t.role.display_name,
                fidelity::RENEW_WINDOW_DAYS
            ),
        ));
    };
    let ended = last.ended_at.unwrap_or(ctx.now);
    let closes = ended + IsoDuration::from_days(fidelity::RENEW_WINDOW_DAYS).as_delta();
    if fidelity::ENFORCE_EXTEND_RENEW_WINDOWS && ctx.now > closes {
        return Err(ApiError::new(
            400,
            fidelity::RENEW_TOO_LATE_CODE,
            format!("Renewal is only possible up to {} days after expiry (pimlab rule; the real API's code for this is not known).", fidelity::RENEW_WINDOW_DAYS),
        )
        .with_detail("RenewWindow", "scheduleInfo", format!("it expired {}; renewal closed {}", format_timestamp(ended), format_timestamp(closes))));
    }
    Ok(last)
}

fn admin_renew(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    t: &Target,
) -> Result<ScheduleRequest, ApiError> {
    let old = renewable(tx, ctx, req, t)?;
    let answered = reject_if_pending(tx, req.kind, t, Some(req.action))?;
    let info = normalise(req.schedule_info.as_ref(), ctx.now, old.schedule_info.expiration.clone())?;
    let mut checks = t.checks();
    checks.pass(
        "RenewWindow",
        format!("expired {}", old.ended_at.map(format_timestamp).unwrap_or_default()),
        format!("within {} days", fidelity::RENEW_WINDOW_DAYS),
    );
    let (exp_id, en_id) = admin_rule_ids(req.kind);
    let info = shorten(info, t, &mut checks);
    check_expiration(&mut checks, expiration_rule(&t.policy, exp_id)?, &info, "--duration");
    check_enablement(&mut checks, enablement_rule(&t.policy, en_id)?, req, session.mfa);
    fail_if_checks_failed(&checks)?;
    if !req.is_validation_only {
        tx.set_schedule_state(&old.id, old.status, ScheduleState::Replaced, old.ended_at, Some(ctx.now))?;
    }
    let q = provision(tx, ctx, session, req, t, info, checks, Holding::direct(req.kind))?;
    close_answered(tx, ctx, answered, &q)?;
    Ok(q)
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

fn admin_remove(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    t: &Target,
) -> Result<ScheduleRequest, ApiError> {
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
        let others = super::lockout::other_assigned_global_administrators(tx, &target.id)?;
        if others == 0 {
            return Err(super::lockout::last_global_administrator_error().with_detail(
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
    if !req.is_validation_only {
        end_schedule(tx, ctx, &target, ScheduleState::Removed)?;
        tx.insert_request(&q)?;
        let activity = audit::activity_for(req.kind, req.action, target.end_at.is_none(), false);
        audit::request(tx, ctx, &session.caller, &q, activity)?;
        extension::completed(tx, ctx, &mut q)?;
    }
    Ok(q)
}

/// Ends a schedule now: its instance (and role assignment) disappear with it.
pub(crate) fn end_schedule(
    tx: &Tx<'_>,
    ctx: &Ctx,
    s: &Schedule,
    state: ScheduleState,
) -> Result<(), ApiError> {
    tx.set_schedule_state(&s.id, s.status, state, Some(ctx.now), Some(ctx.now))?;
    Ok(())
}

/// The caller may act for `principal`: it is the caller, or a group the caller belongs to.
fn caller_acts_for(tx: &Tx<'_>, session: &Session, t: &Target) -> Result<(), ApiError> {
    if t.principal.id.eq_ignore_ascii_case(&session.caller) {
        return Ok(());
    }
    if t.principal.kind == PrincipalKind::Group
        && tx.containers_of(&session.caller)?.iter().any(|g| g.eq_ignore_ascii_case(&t.principal.id))
    {
        return Ok(());
    }
    Err(unauthorized().with_detail(
        "NotSelf",
        "principalId",
        format!("self-service actions act for the caller; principalId {} is not the caller {} (act --as that principal)", t.principal.id, session.caller),
    ))
}

/// The eligibility that allows `principal` to activate: its own first, then a group's.
fn find_eligibility(tx: &Tx<'_>, ctx: &Ctx, t: &Target) -> Result<Option<(Schedule, MemberType)>, ApiError> {
    let current = |s: &Schedule| s.is_active() && scope_matches(s, &t.scope) && s.start() <= ctx.now;
    if let Some(s) = tx
        .schedules_of(RequestKind::Eligibility, &t.principal.id, &t.role.id, ScheduleState::Live)?
        .into_iter()
        .find(current)
    {
        return Ok(Some((s, MemberType::Direct)));
    }
    if t.principal.kind == PrincipalKind::User {
        for group in role_assignable_groups_of(tx, &t.principal.id)? {
            if let Some(s) = tx
                .schedules_of(RequestKind::Eligibility, &group, &t.role.id, ScheduleState::Live)?
                .into_iter()
                .find(current)
            {
                return Ok(Some((s, MemberType::Group)));
            }
        }
    }
    Ok(None)
}

fn self_activate(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    t: &Target,
) -> Result<ScheduleRequest, ApiError> {
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
            "ask an administrator to make you eligible (pimlab eligible assign)",
        ),
    }
    let info = shorten(info, t, &mut checks);
    check_expiration(&mut checks, exp_rule, &info, "--duration");
    if let Some((e, _)) = &eligibility {
        let start = info.start.expect("normalised");
        if let (Some(elig_end), false) = (e.end_at, fidelity::ACTIVATION_MAY_OUTLIVE_ELIGIBILITY) {
            match info.end_from(start) {
                Some(end) if end <= elig_end => {}
                other => checks.fail(
                    "EligibilityWindow",
                    "ExpirationRule",
                    other
                        .map(|end| format!("activation ending {}", format_timestamp(end)))
                        .unwrap_or_else(|| "no end".into()),
                    format!("the eligibility ends {}", format_timestamp(elig_end)),
                    "ask for a shorter activation, or have the eligibility extended",
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
                    "RoleAssignmentRequestAcrsValidationFailed",
                    format!("The Role assignment request requires an authentication context. claims={{\"access_token\":{{\"acrs\":{{\"essential\":true,\"value\":\"{claim}\"}}}}}}"),
                )
                .with_detail("AuthenticationContext", "session", format!("the session lacks authentication context '{claim}' (pass --auth-context {claim})")));
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
        let start = info.start.filter(|s| *s > ctx.now);
        q.schedule_info = Some(ScheduleInfo { start, expiration: info.expiration.clone() });
        q.activated_using = Some(elig.id.clone());
        q.trace = checks.trace;
        if !req.is_validation_only {
            tx.insert_request(&q)?;
            let setting = approval.clone().expect("approval required");
            let opened = approvals::open(tx, ctx, &q, &setting)?;
            q.trace.extend(opened);
            tx.update_request(&q)?;
            let activity = audit::activity_for(req.kind, req.action, false, true);
            audit::request(tx, ctx, &session.caller, &q, activity)?;
        }
        return Ok(q);
    }
    let holding = Holding {
        member_type,
        assignment_type: Some(AssignmentType::Activated),
        activated_using: Some(elig.id),
        replaces: None,
    };
    provision(tx, ctx, session, req, t, info, checks, holding)
}

fn self_deactivate(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    t: &Target,
) -> Result<ScheduleRequest, ApiError> {
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
    if !req.is_validation_only {
        end_schedule(tx, ctx, &activation, ScheduleState::Removed)?;
        tx.insert_request(&q)?;
        audit::request(
            tx,
            ctx,
            &session.caller,
            &q,
            audit::activity_for(req.kind, req.action, false, false),
        )?;
        extension::completed(tx, ctx, &mut q)?;
    }
    Ok(q)
}

/// selfExtend and selfRenew ask an administrator to act: the request waits in `PendingAdminDecision`.
fn self_extend_or_renew(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    req: &NewRequest,
    t: &Target,
) -> Result<ScheduleRequest, ApiError> {
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
            "sign in with MFA (drop --no-mfa)",
        );
    }
    check_justification(&mut checks, "SelfServiceJustification", req);
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
    q.schedule_info = match &req.schedule_info {
        Some(info) => Some(normalise(Some(info), ctx.now, target.schedule_info.expiration.clone())?),
        None => None,
    };
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
                        approvers: &admins,
                        detail: format!(
                            "{} asks to {} schedule {}.",
                            t.principal.display_name,
                            if req.action == Action::SelfExtend { "extend" } else { "renew" },
                            target.id
                        ),
                    },
                )?;
            }
        }
        audit::request(tx, ctx, &session.caller, &q, audit::activity_for(req.kind, req.action, false, true))?;
    }
    Ok(q)
}

/// Statuses a request can be cancelled from (addendum §12).
fn cancellable(s: Status) -> bool {
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
        return Err(ApiError::new(400, "RequestCannotBeCancelled", "Request is not in cancellable state.")
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

impl Engine {
    /// Submits a schedule request. A refused request leaves the store untouched; a validation-only
    /// request runs every check and is never stored.
    pub fn submit(&mut self, session: &Session, req: &NewRequest) -> Result<ScheduleRequest, ApiError> {
        if req.is_validation_only {
            // Run inside a transaction that is never committed.
            let tx = self.store.write()?;
            let ctx = super::load_ctx(&tx, &self.runner)?;
            return submit(&tx, &ctx, session, req);
        }
        let result = self.write(|tx, ctx| submit(tx, ctx, session, req));
        if let Err(e) = &result {
            // The refusal rolled everything back; its audit row is the one thing it leaves.
            if e.status < 500 {
                self.write(|tx, ctx| audit::refused(tx, ctx, &session.caller, req, e))?;
            }
        }
        result
    }

    /// Cancels a request (`POST .../{id}/cancel`).
    pub fn cancel(
        &mut self,
        session: &Session,
        kind: RequestKind,
        id: &str,
    ) -> Result<ScheduleRequest, ApiError> {
        self.write(|tx, ctx| cancel(tx, ctx, session, kind, id))
    }
}

/// Fills a `TicketInfo` from `SYSTEM:NUMBER` as the CLI takes it.
pub fn parse_ticket(text: &str) -> TicketInfo {
    match text.split_once(':') {
        Some((system, number)) => {
            TicketInfo { system: Some(system.trim().to_string()), number: Some(number.trim().to_string()) }
        }
        None => TicketInfo { system: None, number: Some(text.trim().to_string()) },
    }
}
