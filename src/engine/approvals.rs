//! The approval workflow (reference §3.12): a request the approval rule stops waits in
//! `PendingApproval` with one step per stage. Each stage is decided by its approvers (users, or the
//! members of groups; Privileged Role Administrators and Global Administrators when none are
//! named; escalation approvers too once the stage has waited `escalationTimeInMinutes`). The first
//! decision in a stage wins; a deny ends the request, the last approval fulfils it. A stage that
//! waits past `approvalStageTimeOutInDays` ends the request (see the fidelity settings).

use super::audit::{About, Activity, Audit, Audited, Entry, Outcome, Verdict};
use super::directory::{require_admin, role_assignable_groups_of, unauthorized};
use super::notify::{self, Audience, Detail, Event, Notice};
use super::{Ctx, Engine, Session, fidelity, new_id};
use crate::model::ErrorCode;
use crate::model::approval::{ApprovalChannel, ApprovalStep, Decision, ReviewResult, StepStatus};
use crate::model::builtin_roles::{GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR};
use crate::model::policy::{ApprovalSettings, ApprovalStage, Approver};
use crate::model::time::format_timestamp;
use crate::model::{
    Action, ApiError, FidelitySwitch, Hint, IsoDuration, PrincipalKind, RequestKind, ScheduleRequest, Status,
    TraceStep,
};
use crate::store::Tx;

/// Users who hold `role` at the tenant scope now, directly or through a group.
fn holders(tx: &Tx<'_>, role: &str) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for s in tx.active_assignments_of_role(role, "/")? {
        match tx.object(&s.principal_id)? {
            Some(o) if o.kind == PrincipalKind::Group => out.extend(tx.members(&o.id, "member")?),
            Some(o) if o.kind == PrincipalKind::User => out.push(o.id.clone()),
            _ => {}
        }
    }
    Ok(out)
}

/// The default approvers: holders of Privileged Role Administrator and Global Administrator.
pub(crate) fn default_approvers(tx: &Tx<'_>) -> Result<Vec<String>, ApiError> {
    let mut ids = holders(tx, PRIVILEGED_ROLE_ADMINISTRATOR)?;
    ids.extend(holders(tx, GLOBAL_ADMINISTRATOR)?);
    ids.sort();
    ids.dedup();
    Ok(ids)
}

fn expand(tx: &Tx<'_>, approvers: &[Approver]) -> Result<Vec<String>, ApiError> {
    let mut ids = Vec::new();
    for a in approvers {
        match a {
            Approver::SingleUser { user_id, .. } => ids.push(user_id.to_ascii_lowercase()),
            Approver::GroupMembers { group_id, .. } => ids.extend(tx.members(group_id, "member")?),
        }
    }
    Ok(ids)
}

/// Nobody approves their own request, nor one for a group they belong to.
fn without_requester(
    tx: &Tx<'_>,
    q: &ScheduleRequest,
    mut ids: Vec<String>,
) -> Result<Vec<String>, ApiError> {
    let requester_groups = role_assignable_groups_of(tx, &q.created_by)?;
    ids.retain(|id| {
        !id.eq_ignore_ascii_case(&q.created_by)
            && !id.eq_ignore_ascii_case(&q.principal_id)
            && !requester_groups.contains(id)
    });
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Who may decide `step` of `q` at `now`.
pub(crate) fn step_approvers(
    tx: &Tx<'_>,
    q: &ScheduleRequest,
    step: &ApprovalStep,
    now: crate::model::Timestamp,
) -> Result<Vec<String>, ApiError> {
    let mut ids = expand(tx, &step.settings.primary_approvers)?;
    if step.settings.primary_approvers.is_empty() {
        ids = default_approvers(tx)?;
    }
    if step.escalation_at.is_some_and(|t| t <= now) {
        ids.extend(expand(tx, &step.settings.escalation_approvers)?);
    }
    without_requester(tx, q, ids)
}

/// Everyone who may decide `q` now: the approvers of its stages in progress, or the
/// administrators for a self-service request waiting for an administrator.
pub(crate) fn approvers_for(tx: &Tx<'_>, ctx: &Ctx, q: &ScheduleRequest) -> Result<Vec<String>, ApiError> {
    match q.status {
        Status::PendingApproval => {
            let mut ids = Vec::new();
            for step in tx.steps(&q.id)?.iter().filter(|s| s.status == StepStatus::InProgress) {
                ids.extend(step_approvers(tx, q, step, ctx.now)?);
            }
            ids.sort();
            ids.dedup();
            Ok(ids)
        }
        Status::PendingAdminDecision => without_requester(tx, q, default_approvers(tx)?),
        _ => Ok(Vec::new()),
    }
}

/// The audience whose notification rules speak for `q`.
pub(crate) fn audience_of(q: &ScheduleRequest) -> Audience {
    match (q.action, q.kind) {
        (Action::SelfActivate, _) => Audience::EndUserAssignment,
        (_, RequestKind::Eligibility) => Audience::AdminEligibility,
        (_, RequestKind::Assignment) => Audience::AdminAssignment,
    }
}

fn start_step(tx: &Tx<'_>, ctx: &Ctx, q: &ScheduleRequest, step: &mut ApprovalStep) -> Result<(), ApiError> {
    step.status = StepStatus::InProgress;
    step.started_at = Some(ctx.now);
    step.due_at = Some(
        ctx.now + IsoDuration::from_days(i64::from(step.settings.approval_stage_time_out_in_days)).as_delta(),
    );
    step.escalation_at = step.settings.is_escalation_enabled.then(|| {
        ctx.now + IsoDuration::from_minutes(i64::from(step.settings.escalation_time_in_minutes)).as_delta()
    });
    tx.save_step(step)?;
    let approvers = step_approvers(tx, q, step, ctx.now)?;
    notify::emit(
        tx,
        ctx,
        &Notice {
            event: Event::ApprovalRequested,
            audience: audience_of(q),
            role_id: &q.role_definition_id,
            principal_id: &q.principal_id,
            request_id: Some(&q.id),
            scope: q.directory_scope_id.as_deref(),
            approvers: &approvers,
            detail: Detail::Text(format!(
                "Stage {} waits for a decision until {}.{}",
                step.stage,
                step.due_at.map(format_timestamp).unwrap_or_default(),
                q.justification.as_ref().map(|j| format!(" Justification: {j}")).unwrap_or_default()
            )),
        },
    )
}

/// Approvers named by id, user principal name or display name, as the approval rule holds them.
pub(crate) fn approvers_named(tx: &Tx<'_>, names: &[String]) -> Result<Vec<Approver>, ApiError> {
    let mut out = Vec::new();
    for name in names {
        let o = super::directory::resolve_object(tx, name, "Approver")?;
        out.push(match o.kind {
            PrincipalKind::Group => {
                Approver::GroupMembers { group_id: o.id, description: Some(o.display_name), is_backup: None }
            }
            _ => Approver::SingleUser { user_id: o.id, description: Some(o.display_name), is_backup: None },
        });
    }
    Ok(out)
}

/// Opens the approval of `q` (its id is the request's): one step per stage, the first (or, in
/// parallel mode, every) stage in progress. Returns the trace steps to record.
pub(crate) fn open(
    tx: &Tx<'_>,
    ctx: &Ctx,
    q: &ScheduleRequest,
    setting: &ApprovalSettings,
) -> Result<Vec<TraceStep>, ApiError> {
    let mut stages: Vec<ApprovalStage> = match setting.approval_mode.as_str() {
        "SingleStage" => setting.approval_stages.iter().take(1).cloned().collect(),
        _ => setting.approval_stages.clone(),
    };
    if stages.is_empty() {
        // Approval required without a stage: one stage of the default approvers.
        stages.push(ApprovalStage::default_stage());
    }
    // Route hooks add or replace the approvers of every stage.
    let (routes, mut trace) = super::extension::route(tx, ctx, q)?;
    for (names, replace) in routes {
        let named = approvers_named(tx, &names)?;
        for stage in &mut stages {
            if replace {
                stage.primary_approvers = named.clone();
            } else {
                stage.primary_approvers.extend(named.iter().cloned());
            }
        }
    }
    let parallel = setting.approval_mode == "Parallel";
    for (i, settings) in stages.into_iter().enumerate() {
        let mut step = ApprovalStep {
            id: new_id(tx, ctx)?,
            approval_id: q.id.clone(),
            stage: i as u32 + 1,
            status: StepStatus::NotStarted,
            review_result: ReviewResult::NotReviewed,
            reviewed_by: None,
            reviewed_at: None,
            justification: None,
            started_at: None,
            due_at: None,
            escalation_at: None,
            escalated: false,
            settings,
        };
        if i == 0 || parallel {
            start_step(tx, ctx, q, &mut step)?;
            let approvers = step_approvers(tx, q, &step, ctx.now)?;
            trace.push(TraceStep {
                check: format!("Approval stage {}", step.stage),
                rule: None,
                passed: true,
                seen: if approvers.is_empty() {
                    "no one can approve".into()
                } else {
                    describe_ids(tx, &approvers)?
                },
                limit: format!("a decision within {} day(s)", step.settings.approval_stage_time_out_in_days),
                fix: None,
            });
        } else {
            tx.save_step(&step)?;
        }
    }
    Ok(trace)
}

fn describe_ids(tx: &Tx<'_>, ids: &[String]) -> Result<String, ApiError> {
    let mut names = Vec::new();
    for id in ids {
        names.push(
            tx.object(id)?.map_or(id.clone(), |o| {
                o.user_principal_name.clone().unwrap_or_else(|| o.display_name.clone())
            }),
        );
    }
    Ok(format!("approvers {}", names.join(", ")))
}

fn already_decided(tx: &Tx<'_>, step: &ApprovalStep) -> ApiError {
    let reviewer = step
        .reviewed_by
        .as_deref()
        .and_then(|id| tx.object(id).ok().flatten())
        .map_or_else(|| step.reviewed_by.clone().unwrap_or_default(), |o| o.display_name.clone());
    ApiError::new(409, fidelity::ALREADY_DECIDED_CODE, "The approval step has already been reviewed.")
        .with_detail(
            "AlreadyDecided",
            "reviewResult",
            format!(
                "stage {} was {} by {} at {}; the first decision in a stage wins",
                step.stage,
                step.review_result.as_str(),
                reviewer,
                step.reviewed_at.map(format_timestamp).unwrap_or_default()
            ),
        )
}

pub(crate) fn approval_not_found(id: &str) -> ApiError {
    ApiError::new(404, ErrorCode::ResourceNotFound, format!("Approval '{id}' does not exist."))
}

/// A decision as an approver sends it.
pub(crate) struct Ask<'a> {
    pub request_id: &'a str,
    /// The step decided; none: the stage in progress the caller may decide.
    pub step_id: Option<&'a str>,
    pub decision: Decision,
    pub justification: Option<&'a str>,
    pub via: ApprovalChannel,
}

/// Records one decision on a request (at the step asked for, or at the stage in progress the
/// caller may decide), and carries the request on: to the next stage, to its outcome.
pub(crate) fn decide(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    ask: Ask<'_>,
) -> Result<Audited<ScheduleRequest>, ApiError> {
    let Ask { request_id, step_id, decision, justification, via } = ask;
    let mut q = tx.request(request_id)?.ok_or_else(|| approval_not_found(request_id))?;
    let justification = justification.map(str::trim).filter(|j| !j.is_empty());
    // Every surface stores the approver's words with the step: bounded like a request's.
    super::validate::check_length("justification", justification, fidelity::MAX_JUSTIFICATION)?;
    if q.created_by.eq_ignore_ascii_case(&session.caller)
        || q.principal_id.eq_ignore_ascii_case(&session.caller)
    {
        return Err(unauthorized().with_detail(
            "SelfApproval",
            "approver",
            "approvers cannot decide their own requests".to_string(),
        ));
    }
    if q.status == Status::PendingAdminDecision {
        require_admin(tx, session, "Deciding a self-service extension or renewal")?;
        let decided = Decided { decision, justification, step: None, allowed_by: Vec::new() };
        let audit = conclude(tx, ctx, session, &mut q, decided)?;
        return Ok((q, audit));
    }
    let steps = tx.steps(&q.id)?;
    if steps.is_empty() {
        return Err(approval_not_found(request_id));
    }
    let allowed_by = channel_allows(ctx, &q, steps.len(), via)?;
    let step = match step_id {
        Some(id) => steps.iter().find(|s| s.id.eq_ignore_ascii_case(id)).cloned().ok_or_else(|| {
            ApiError::new(
                404,
                ErrorCode::ResourceNotFound,
                format!("Approval step '{id}' does not exist in approval '{request_id}'."),
            )
        })?,
        None => {
            let mut open = Vec::new();
            for s in steps.iter().filter(|s| s.status == StepStatus::InProgress) {
                if step_approvers(tx, &q, s, ctx.now)?.iter().any(|a| a.eq_ignore_ascii_case(&session.caller))
                {
                    open.push(s.clone());
                }
            }
            match open.into_iter().next() {
                Some(s) => s,
                None => match steps.iter().rev().find(|s| s.status == StepStatus::Completed) {
                    Some(done) if q.status != Status::PendingApproval => {
                        return Err(already_decided(tx, done));
                    }
                    _ if q.status != Status::PendingApproval => {
                        return Err(ApiError::new(
                            400,
                            ErrorCode::BadRequest,
                            format!("Request '{}' is {}; it is not waiting for a decision.", q.id, q.status),
                        ));
                    }
                    _ => {
                        return Err(unauthorized().with_detail(
                            "NotAnApprover",
                            "approver",
                            format!(
                                "the caller {} is not an approver of any stage in progress",
                                session.caller
                            ),
                        ));
                    }
                },
            }
        }
    };
    if !step_approvers(tx, &q, &step, ctx.now)?.iter().any(|a| a.eq_ignore_ascii_case(&session.caller)) {
        return Err(unauthorized().with_detail(
            "NotAnApprover",
            "approver",
            format!("the caller {} is not an approver of stage {}", session.caller, step.stage),
        ));
    }
    match step.status {
        StepStatus::Completed => return Err(already_decided(tx, &step)),
        StepStatus::InProgress => {}
        other => {
            return Err(ApiError::new(
                400,
                ErrorCode::BadRequest,
                format!(
                    "Approval step '{}' (stage {}) is {}; it cannot be decided.",
                    step.id,
                    step.stage,
                    other.as_str()
                ),
            ));
        }
    }
    if !step_approvers(tx, &q, &step, ctx.now)?.iter().any(|a| a.eq_ignore_ascii_case(&session.caller)) {
        return Err(unauthorized().with_detail(
            "NotAnApprover",
            "approver",
            format!("the caller {} is not an approver of stage {}", session.caller, step.stage),
        ));
    }
    if step.settings.is_approver_justification_required && justification.is_none() {
        let e = ApiError::bad_request(
            "justification",
            format!("stage {} requires the approver's justification", step.stage),
        );
        return Err(e.with_hint(crate::model::Hint::ApproverJustification));
    }
    let mut step = step;
    step.status = StepStatus::Completed;
    step.review_result = decision.result();
    step.reviewed_by = Some(session.caller.clone());
    step.reviewed_at = Some(ctx.now);
    step.justification = justification.map(str::to_string);
    tx.save_step(&step)?;
    let decided = Decided { decision, justification, step: Some(step), allowed_by };
    let audit = conclude(tx, ctx, session, &mut q, decided)?;
    Ok((q, audit))
}

/// Whether `via` may decide `q`'s approval of `stages` stages: the Graph approval step API can
/// decide neither a multi-stage approval nor an extension's or renewal's (reference §3.12) unless
/// the fidelity profile lets it; ARM's stage API, which has stages, cannot decide an extension's
/// or renewal's at all (Microsoft's page on approving Azure resource roles says so). Returns the
/// switches that allowed it (for the trace).
fn channel_allows(
    ctx: &Ctx,
    q: &ScheduleRequest,
    stages: usize,
    via: ApprovalChannel,
) -> Result<Vec<FidelitySwitch>, ApiError> {
    let mut allowed_by = Vec::new();
    let extension = matches!(q.action, Action::SelfExtend | Action::SelfRenew);
    if via == ApprovalChannel::ArmStageApi && extension {
        let what = if q.action == Action::SelfExtend { "An extension's" } else { "A renewal's" };
        return Err(ApiError::new(
            400,
            fidelity::ARM_EXTENSION_APPROVAL_UNSUPPORTED_CODE,
            format!("{what} approval cannot be decided through the Azure Resource Manager approval API; an approver decides it in the portal."),
        )
        .with_detail("ApprovalNotSupportedThroughArm", "reviewResult", format!("request {} ({})", q.id, q.action.as_str())));
    }
    if via != ApprovalChannel::GraphStepApi {
        return Ok(allowed_by);
    }
    let mut needs = |switch: FidelitySwitch, what: String| {
        if ctx.fidelity.is_on(switch) {
            allowed_by.push(switch);
            return Ok(());
        }
        Err(ApiError::new(
            400,
            fidelity::GRAPH_APPROVAL_UNSUPPORTED_CODE,
            format!("{what} cannot be decided through the Microsoft Graph approval API; an approver decides it in the portal."),
        )
        .with_detail("ApprovalNotSupportedThroughGraph", "reviewResult", format!("request {} ({}); {}", q.id, q.action.as_str(), switch.when_off()))
        .with_hint(Hint::FidelitySwitch { name: switch.name().into(), on: true }))
    };
    if extension {
        let what =
            if q.action == Action::SelfExtend { "An extension's approval" } else { "A renewal's approval" };
        needs(FidelitySwitch::GraphExtensionApprovals, what.to_string())?;
    }
    if stages > 1 {
        needs(FidelitySwitch::GraphMultiStageApprovals, format!("An approval of {stages} stages"))?;
    }
    Ok(allowed_by)
}

/// One decision, as `conclude` carries it on.
struct Decided<'a> {
    decision: Decision,
    justification: Option<&'a str>,
    /// The stage decided; none for an administrator's decision of a self-service request.
    step: Option<ApprovalStep>,
    /// The fidelity switches without which this decision could not have been made this way.
    allowed_by: Vec<FidelitySwitch>,
}

/// After a decision: deny ends the request; an approval starts the next stage or fulfils it.
/// Returns the decision's audit rows (and those of what it carried out).
fn conclude(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    q: &mut ScheduleRequest,
    decided: Decided<'_>,
) -> Result<Audit, ApiError> {
    let Decided { decision, justification, step, allowed_by } = decided;
    let who = tx.object(&session.caller)?.map_or(session.caller.clone(), |o| o.display_name.clone());
    let stage_name =
        step.as_ref().map_or("administrator decision".to_string(), |s| format!("Approval stage {}", s.stage));
    let through = if allowed_by.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = allowed_by.iter().map(|s| s.name()).collect();
        format!(" (through the Graph approval API, which fidelity switch {} allows)", names.join(" and "))
    };
    q.trace.push(TraceStep {
        check: stage_name,
        rule: None,
        passed: decision == Decision::Approve,
        seen: format!(
            "{} by {who}{}{through}",
            decision.result().as_str(),
            justification.map(|j| format!(": \"{j}\"")).unwrap_or_default()
        ),
        limit: "an approver's decision".into(),
        fix: None,
    });
    if decision == Decision::Deny {
        close_steps(tx, q, StepStatus::Canceled)?;
        q.status = Status::Denied;
        q.completed_at = Some(ctx.now);
        tx.update_request(q)?;
        super::extension::completed(tx, ctx, q)?;
        let denied = decision_row(tx, ctx, session, q, Verdict::Denied)?;
        notify::emit(tx, ctx, &requestor_notice(q, Event::Denied, format!("Denied by {who}.")))?;
        return Ok(Audit::of(denied));
    }
    let mut audit = Audit::none("a single stage: the approval's own row follows");
    if let Some(decided) = &step {
        let steps = tx.steps(&q.id)?;
        if steps.len() > 1 {
            // Every stage's decision is a state change with its own audit row.
            let stage = Some((decided.stage, steps.len()));
            audit.push(decision_row(tx, ctx, session, q, Verdict::Approved { stage })?);
        }
        if steps.iter().any(|s| s.status == StepStatus::InProgress) {
            tx.update_request(q)?;
            return Ok(audit); // parallel stages still waiting
        }
        if let Some(mut next) = steps.into_iter().find(|s| s.status == StepStatus::NotStarted) {
            start_step(tx, ctx, q, &mut next)?;
            let approvers = step_approvers(tx, q, &next, ctx.now)?;
            q.trace.push(TraceStep {
                check: format!("Approval stage {}", next.stage),
                rule: None,
                passed: true,
                seen: describe_ids(tx, &approvers)?,
                limit: format!("a decision within {} day(s)", next.settings.approval_stage_time_out_in_days),
                fix: None,
            });
            tx.update_request(q)?;
            return Ok(audit);
        }
    }
    audit.push(decision_row(tx, ctx, session, q, Verdict::Approved { stage: None })?);
    audit.append(super::provision::fulfil_approved(tx, ctx, q)?);
    if q.status == Status::Failed {
        // Approved, but what it needed no longer holds: the failure is recorded and mailed as such.
        let why = q.trace.last().map(|t| t.seen.clone()).unwrap_or_default();
        let activity = Activity::request(q.kind, q.action, false, Outcome::Failed);
        audit.push(
            Entry::new(tx, ctx, fidelity::SYSTEM_ACTOR, activity, About::Request(q))?.reason(why.clone()),
        );
        notify::emit(tx, ctx, &requestor_notice(q, Event::Failed, format!("Approved by {who}, but {why}.")))?;
        return Ok(audit);
    }
    let outcome = format!("Approved by {who}; the request is now {}.", q.status);
    notify::emit(tx, ctx, &requestor_notice(q, Event::Approved, outcome))?;
    Ok(audit)
}

/// The row of an approver's (or administrator's) decision, with the request's latest trace step
/// as its reason.
fn decision_row(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    q: &ScheduleRequest,
    verdict: Verdict,
) -> Result<Entry, ApiError> {
    let activity = Activity::Decision { kind: q.kind, action: q.action, verdict };
    Ok(Entry::new(tx, ctx, &session.caller, activity, About::Request(q))?
        .reason(q.trace.last().map(|t| t.seen.clone())))
}

fn requestor_notice(q: &ScheduleRequest, event: Event, detail: String) -> Notice<'_> {
    Notice {
        event,
        audience: audience_of(q),
        role_id: &q.role_definition_id,
        principal_id: &q.principal_id,
        request_id: Some(&q.id),
        scope: q.directory_scope_id.as_deref(),
        approvers: &[],
        detail: Detail::Text(detail),
    }
}

/// Ends every step not yet decided (cancel, deny, timeout).
pub(crate) fn close_steps(tx: &Tx<'_>, q: &ScheduleRequest, status: StepStatus) -> Result<(), ApiError> {
    for mut s in tx.steps(&q.id)? {
        if matches!(s.status, StepStatus::NotStarted | StepStatus::InProgress) {
            s.status = status;
            tx.save_step(&s)?;
        }
    }
    Ok(())
}

/// A stage waited too long: the step expires and the request ends without a decision.
pub(crate) fn time_out(
    tx: &Tx<'_>,
    ctx: &Ctx,
    step: &ApprovalStep,
) -> Result<Audited<Option<ScheduleRequest>>, ApiError> {
    let mut step = step.clone();
    step.status = StepStatus::Expired;
    tx.save_step(&step)?;
    let Some(mut q) = tx.request(&step.approval_id)? else {
        return Ok((None, Audit::none("the step's request is gone: only the step itself ends")));
    };
    close_steps(tx, &q, StepStatus::Canceled)?;
    q.status = fidelity::APPROVAL_TIMEOUT_STATUS;
    q.trace.push(TraceStep {
        check: format!("Approval stage {}", step.stage),
        rule: None,
        passed: false,
        seen: "no decision".into(),
        limit: format!("a decision within {} day(s)", step.settings.approval_stage_time_out_in_days),
        fix: Some(crate::model::Hint::text("submit the request again")),
    });
    tx.update_request(&q)?;
    let mut audit = super::extension::completed_by_the_clock(tx, ctx, &mut q)?;
    let activity = Activity::Decision { kind: q.kind, action: q.action, verdict: Verdict::TimedOut };
    audit.push(
        Entry::new(tx, ctx, fidelity::SYSTEM_ACTOR, activity, About::Request(&q))?
            .reason("no approver decided before the approval stage timed out".to_string()),
    );
    notify::emit(
        tx,
        ctx,
        &requestor_notice(&q, Event::TimedOut, format!("Stage {} received no decision in time.", step.stage)),
    )?;
    Ok((Some(q), audit))
}

/// A stage has waited `escalationTimeInMinutes`: its escalation approvers may now decide, and are told.
pub(crate) fn escalate(tx: &Tx<'_>, ctx: &Ctx, step: &ApprovalStep) -> Result<Audit, ApiError> {
    let mut step = step.clone();
    step.escalated = true;
    tx.save_step(&step)?;
    let Some(mut q) = tx.request(&step.approval_id)? else {
        return Ok(Audit::none("the step's request is gone: only the step itself is marked"));
    };
    let approvers = without_requester(tx, &q, expand(tx, &step.settings.escalation_approvers)?)?;
    q.trace.push(TraceStep {
        check: format!("Approval stage {} escalation", step.stage),
        rule: None,
        passed: true,
        seen: describe_ids(tx, &approvers)?,
        limit: format!(
            "escalation after {} minute(s) without a decision",
            step.settings.escalation_time_in_minutes
        ),
        fix: None,
    });
    tx.update_request(&q)?;
    let about = About::RoleOf { principal: &q.principal_id, role: &q.role_definition_id };
    let escalated = Entry::new(tx, ctx, fidelity::SYSTEM_ACTOR, Activity::Escalated, about)?;
    notify::emit(
        tx,
        ctx,
        &Notice {
            event: Event::Escalated,
            audience: audience_of(&q),
            role_id: &q.role_definition_id,
            principal_id: &q.principal_id,
            request_id: Some(&q.id),
            scope: q.directory_scope_id.as_deref(),
            approvers: &approvers,
            detail: Detail::Text(format!(
                "Stage {} has waited {} minute(s).",
                step.stage, step.settings.escalation_time_in_minutes
            )),
        },
    )?;
    Ok(Audit::of(escalated))
}

impl Engine {
    /// Whether `user` may decide request `q` now.
    pub fn is_approver(&mut self, user: &str, q: &ScheduleRequest) -> Result<bool, ApiError> {
        self.read(|tx, ctx| Ok(approvers_for(tx, ctx, q)?.iter().any(|a| a.eq_ignore_ascii_case(user))))
    }

    /// The user ids who may decide request `q` now.
    pub fn approvers(&mut self, q: &ScheduleRequest) -> Result<Vec<String>, ApiError> {
        self.read(|tx, ctx| approvers_for(tx, ctx, q))
    }

    /// The steps of a request's approval.
    pub fn approval_steps(&mut self, request_id: &str) -> Result<Vec<ApprovalStep>, ApiError> {
        self.read(|tx, _| Ok(tx.steps(request_id)?))
    }

    /// Whether `user` may decide `step` now.
    pub fn may_decide_step(&mut self, user: &str, step: &ApprovalStep) -> Result<bool, ApiError> {
        self.read(|tx, ctx| {
            let Some(q) = tx.request(&step.approval_id)? else {
                return Ok(false);
            };
            Ok(step.status == StepStatus::InProgress
                && step_approvers(tx, &q, step, ctx.now)?.iter().any(|a| a.eq_ignore_ascii_case(user)))
        })
    }

    /// Approves or denies a request waiting for the caller (`approve` / `deny`, or a step PATCH).
    pub fn decide(
        &mut self,
        session: &Session,
        request_id: &str,
        step_id: Option<&str>,
        decision: Decision,
        justification: Option<&str>,
        via: ApprovalChannel,
    ) -> Result<ScheduleRequest, ApiError> {
        let ask = Ask { request_id, step_id, decision, justification, via };
        self.write(|tx, ctx| decide(tx, ctx, session, ask))
    }

    /// Requests waiting for a decision, with who may decide each.
    pub fn pending_decisions(&mut self) -> Result<Vec<(ScheduleRequest, Vec<String>)>, ApiError> {
        self.read(|tx, ctx| {
            let mut out = Vec::new();
            for status in [Status::PendingApproval, Status::PendingAdminDecision] {
                let filter = crate::store::RequestQuery { status: Some(status), ..Default::default() };
                for q in tx.requests(&filter)? {
                    let approvers = approvers_for(tx, ctx, &q)?;
                    out.push((q, approvers));
                }
            }
            out.sort_by(|a, b| (a.0.created_at, &a.0.id).cmp(&(b.0.created_at, &b.0.id)));
            Ok(out)
        })
    }
}
