//! `roleAssignmentApprovals` (api-version 2021-01-01-preview; arm-pim reference §3.7): the
//! approvals of Azure role requests, listed at the tenant or at a scope (`asApprover()`,
//! `asCreatedBy()`, `asTarget()`), one by id, its stages, one stage, and a decision recorded by a
//! PUT or PATCH of a stage with `reviewResult` and `justification`. A thin adapter: the engine's
//! approval workflow decides who may decide what, and refuses what it refuses for every surface.
//!
//! Paths, from the Python SDK's URL templates (`v2021_01_01_preview`):
//! `[/{scope}]/providers/Microsoft.Authorization/roleAssignmentApprovals[/{approvalId}[/stages[/{stageId}]]]`.
//! An approval's id is its request's (`approvalId` on the request), or the name its client PUT
//! the request under (Microsoft's sample takes the approval id from the request's `name`).

use serde_json::{Map, Value};

use super::invalid_content as invalid;
use super::{Call, approval_views};
use crate::api::response::Response;
use crate::engine::fidelity;
use crate::model::approval::{ApprovalChannel, ApprovalStep, Decision, StepStatus};
use crate::model::{ApiError, ErrorCode, ScheduleRequest, Surface};

/// The actions ARM's 403 names: approvals are not RBAC-gated, so these name what the caller
/// tried rather than an action a role could grant.
const READ: &str = "Microsoft.Authorization/roleAssignmentApprovals/read";
const DECIDE: &str = "Microsoft.Authorization/roleAssignmentApprovals/stages/write";

/// An approval and how the caller stands to it.
struct Seen {
    request: ScheduleRequest,
    steps: Vec<ApprovalStep>,
    /// Whether the caller approves (or has decided) one of its stages, per stage.
    assigned: Vec<bool>,
    created: bool,
    target: bool,
}

impl Seen {
    fn approver(&self) -> bool {
        self.assigned.iter().any(|a| *a)
    }
    fn visible(&self) -> bool {
        self.approver() || self.created || self.target
    }
}

/// What a list's `$filter` asks (the SDK's documentation of the list operation).
#[derive(Clone, Copy)]
enum Filter {
    All,
    AsApprover,
    AsCreatedBy,
    AsTarget,
}

impl Call<'_> {
    pub(super) fn approvals(&mut self) -> Result<Response, ApiError> {
        let rest = self.rest.clone();
        let parts: Vec<&str> = rest.iter().map(String::as_str).collect();
        let is_stages =
            |s: &str| fidelity::ARM_APPROVAL_STAGE_SEGMENTS.iter().any(|seg| seg.eq_ignore_ascii_case(s));
        match parts.as_slice() {
            [] => {
                self.require_method(&["GET"])?;
                self.list_approvals()
            }
            [id] => {
                self.require_method(&["GET"])?;
                let seen = self.visible_approval(id)?;
                Ok(Response::ok(self.render_approval(&seen)?))
            }
            [id, stages] if is_stages(stages) => {
                self.require_method(&["GET"])?;
                let seen = self.visible_approval(id)?;
                let stages = self.render_stages(&seen)?;
                Ok(self.list(stages))
            }
            [id, stages, stage_id] if is_stages(stages) => match self.method.as_str() {
                "GET" => {
                    let seen = self.visible_approval(id)?;
                    let i = stage_index(&seen, stage_id)?;
                    Ok(Response::ok(self.render_stages(&seen)?.swap_remove(i)))
                }
                "PUT" | "PATCH" => self.decide_stage(id, stage_id),
                _ => self.require_method(&["GET", "PUT", "PATCH"]).map(|()| Response::no_content()),
            },
            _ => Err(ApiError::new(
                400,
                ErrorCode::InvalidResourceType,
                format!("'{}' is not a role assignment approval path.", rest.join("/")),
            )
            .with_detail(
                "Path",
                "path",
                "roleAssignmentApprovals[/{approvalId}[/stages[/{stageId}]]]",
            )),
        }
    }

    /// Every approval of an Azure role request made at the call's scope or below it that the
    /// caller stands in (see `ARM_APPROVAL_FORBIDDEN_CODE`), narrowed by the filter.
    fn list_approvals(&mut self) -> Result<Response, ApiError> {
        let filter = parse_filter(self.filter.as_deref())?;
        let mut placer = self.placer()?;
        let mut items = Vec::new();
        for q in self.engine.requests(&Default::default())? {
            if q.surface != Surface::AzureResource
                || q.approval_id.is_none()
                || !self.made_at_or_below(&mut placer, q.directory_scope_id.as_deref())?
            {
                continue;
            }
            let Some(seen) = self.seen(q)? else { continue };
            let keep = match filter {
                Filter::All => seen.visible(),
                Filter::AsApprover => seen.approver(),
                Filter::AsCreatedBy => seen.created,
                Filter::AsTarget => seen.target,
            };
            if keep {
                items.push(self.render_approval(&seen)?);
            }
        }
        Ok(self.list(items))
    }

    /// Approval `id` as the caller may see it: 404 when there is none (here), 403 when the caller
    /// stands in no part of it.
    fn visible_approval(&mut self, id: &str) -> Result<Seen, ApiError> {
        let not_found = || {
            ApiError::new(
                404,
                ErrorCode::ResourceNotFound,
                format!("The role assignment approval '{id}' could not be found."),
            )
        };
        let request_id = self.engine.request_named(id)?.unwrap_or_else(|| id.to_string());
        // Graph's approvals hide Azure roles' approvals; ARM hides the directory's.
        let q = match self.engine.request(&request_id, None) {
            Ok(q) => q,
            Err(e) if e.status >= 500 => return Err(e),
            Err(_) => return Err(not_found()),
        };
        let mut placer = self.placer()?;
        if q.surface != Surface::AzureResource
            || q.approval_id.is_none()
            || !self.made_at_or_below(&mut placer, q.directory_scope_id.as_deref())?
        {
            return Err(not_found());
        }
        let seen = self.seen(q)?.ok_or_else(not_found)?;
        if !seen.visible() {
            return Err(self.forbidden(READ).with_detail(
                "NotAnApprover",
                "approver",
                "the caller is neither an approver of this approval nor its request's creator or target",
            ));
        }
        Ok(seen)
    }

    /// How the caller stands to `q`'s approval; none when it has no stages.
    fn seen(&mut self, q: ScheduleRequest) -> Result<Option<Seen>, ApiError> {
        let steps = self.engine.approval_steps(&q.id)?;
        if steps.is_empty() {
            return Ok(None);
        }
        let caller = self.session.caller.clone();
        let mut assigned = Vec::new();
        for step in &steps {
            assigned.push(self.assigned_to(&caller, step)?);
        }
        let groups = self.engine.groups_of(&caller)?;
        let created = q.created_by.eq_ignore_ascii_case(&caller);
        let target = q.principal_id.eq_ignore_ascii_case(&caller)
            || groups.iter().any(|g| g.eq_ignore_ascii_case(&q.principal_id));
        Ok(Some(Seen { request: q, steps, assigned, created, target }))
    }

    /// Whether `step` is assigned to `user` for review, whatever its status: the spec's example
    /// of a decided stage still says `assignedToMe: true` to its reviewer. The engine answers for
    /// a stage in progress, so it is asked about the stage as if it were open.
    fn assigned_to(&mut self, user: &str, step: &ApprovalStep) -> Result<bool, ApiError> {
        if step.reviewed_by.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(user)) {
            return Ok(true);
        }
        let open = ApprovalStep { status: StepStatus::InProgress, ..step.clone() };
        self.engine.may_decide_step(user, &open)
    }

    fn render_approval(&mut self, seen: &Seen) -> Result<Value, ApiError> {
        let stages = self.render_stages(seen)?;
        Ok(approval_views::approval(&self.prefix(), &approval_id(seen), stages))
    }

    fn render_stages(&mut self, seen: &Seen) -> Result<Vec<Value>, ApiError> {
        let prefix = self.prefix();
        let id = approval_id(seen);
        let mut out = Vec::new();
        for (step, assigned) in seen.steps.iter().zip(&seen.assigned) {
            let reviewer = match &step.reviewed_by {
                Some(r) => self.engine.object(r)?,
                None => None,
            };
            out.push(approval_views::stage(&prefix, &id, step, *assigned, reviewer.as_ref()));
        }
        Ok(out)
    }

    /// `PUT`/`PATCH .../stages/{stageId}`: the engine records the decision (or refuses it, leaving
    /// the store as it was); the answer is the stage as decided.
    fn decide_stage(&mut self, id: &str, stage_id: &str) -> Result<Response, ApiError> {
        // As ARM does, who may act is settled before what the body says.
        let seen = self.visible_approval(id)?;
        stage_index(&seen, stage_id)?;
        let (decision, justification) = decision_body(self.body)?;
        let request_id = seen.request.id.clone();
        let decided = self.engine.decide(
            self.session,
            &request_id,
            Some(stage_id),
            decision,
            justification.as_deref(),
            ApprovalChannel::ArmStageApi,
        );
        if let Err(e) = decided {
            // The engine's refusal of a caller who may not decide (not an approver of this stage,
            // or their own request) is ARM's AuthorizationFailed; pimlab's reason is kept.
            if e.code != ErrorCode::UnauthorizedAccessException {
                return Err(e);
            }
            let mut refusal = self.forbidden(DECIDE);
            refusal.details = e.details;
            refusal.hints = e.hints;
            return Err(refusal);
        }
        if !fidelity::ARM_DECISION_ANSWERS_STAGE {
            return Ok(Response { status: 200, body: None });
        }
        let seen = self.visible_approval(&request_id)?;
        let i = stage_index(&seen, stage_id)?;
        Ok(Response::ok(self.render_stages(&seen)?.swap_remove(i)))
    }

    /// ARM's 403 for a caller who may not perform `action` at the call's scope.
    fn forbidden(&self, action: &str) -> ApiError {
        let scope = self.scope.as_ref().map_or("/", |s| s.path());
        let mut e = super::authorization_failed(&self.session.caller, action, scope);
        e.code = fidelity::ARM_APPROVAL_FORBIDDEN_CODE;
        e
    }
}

/// The approval's id: its request's `approvalId`.
fn approval_id(seen: &Seen) -> String {
    seen.request.approval_id.clone().unwrap_or_else(|| seen.request.id.clone())
}

/// Where stage `stage_id` is among the approval's stages; 404 if it is not one of them.
fn stage_index(seen: &Seen, stage_id: &str) -> Result<usize, ApiError> {
    seen.steps.iter().position(|s| s.id.eq_ignore_ascii_case(stage_id)).ok_or_else(|| {
        ApiError::new(
            404,
            ErrorCode::ResourceNotFound,
            format!(
                "The stage '{stage_id}' of role assignment approval '{}' could not be found.",
                approval_id(seen)
            ),
        )
    })
}

/// `asApprover()`, `asCreatedBy()`, `asTarget()` or nothing; anything else is refused.
fn parse_filter(filter: Option<&str>) -> Result<Filter, ApiError> {
    let Some(text) = filter.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Filter::All);
    };
    match text.to_ascii_lowercase().as_str() {
        "asapprover()" => Ok(Filter::AsApprover),
        "ascreatedby()" => Ok(Filter::AsCreatedBy),
        "astarget()" => Ok(Filter::AsTarget),
        _ => Err(super::unsupported_filter(
            text,
            "role assignment approvals filter on asApprover(), asCreatedBy() or asTarget()",
        )),
    }
}

/// The decision a PUT or PATCH body records. The spec's body is the stage's properties, flat
/// (`{"reviewResult", "justification"}`, as the SDK and Microsoft's approval page send it); the
/// spec's examples wrap them in `properties`: both are read. Read-only properties a client echoes
/// back (`status`, `reviewedBy`...) are ignored, as ARM ignores them.
fn decision_body(body: Option<&str>) -> Result<(Decision, Option<String>), ApiError> {
    let text =
        body.map(str::trim).filter(|b| !b.is_empty()).ok_or_else(|| invalid("the request has no body"))?;
    let value: Value = serde_json::from_str(text).map_err(|e| invalid(&e.to_string()))?;
    let Value::Object(outer) = value else {
        return Err(invalid("the body is not a JSON object"));
    };
    let props: Map<String, Value> = match outer.get("properties") {
        Some(Value::Object(inner)) => inner.clone(),
        Some(other) if !other.is_null() => {
            return Err(invalid(&format!(
                "Error converting value {other} to type 'RoleAssignmentApprovalStepProperties'. Path 'properties'"
            )));
        }
        _ => outer,
    };
    let text_of = |key: &str| -> Result<Option<String>, ApiError> {
        match props.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => {
                Err(invalid(&format!("Error converting value {other} to type 'String'. Path '{key}'")))
            }
        }
    };
    let result = text_of("reviewResult")?.ok_or_else(|| {
        ApiError::bad_request("reviewResult", "a decision needs reviewResult: \"Approve\" or \"Deny\"")
    })?;
    let decision = Decision::parse(&result).ok_or_else(|| {
        ApiError::bad_request(
            "reviewResult",
            format!("'{result}' is not a decision: an approver writes \"Approve\" or \"Deny\""),
        )
    })?;
    Ok((decision, text_of("justification")?))
}
