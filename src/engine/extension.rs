//! The seam between the engine and custom policy hooks. The engine knows hooks only through the
//! [`HookRunner`] trait (the Lua host in `crate::hooks` implements it), so it never touches a
//! scripting language, and a hook never touches the store: it sees values and a read-only
//! [`TenantView`].

use serde_json::{Value, json};

pub use crate::model::hook::Hook;
use crate::model::time::format_timestamp;
use crate::model::{Action, ApiError, IsoDuration, RequestKind, Schedule, ScheduleRequest, Timestamp};
use crate::store::Tx;

use super::hook_context::{HookContext, TenantView, next_serial};

/// The named events a hook can handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookEvent {
    /// `validate(request, ctx)`: allow, deny, require approval, or shorten the duration.
    Validate,
    /// `route(request, ctx)`: add or replace the approvers of an approval.
    Route,
    /// `completed(request, ctx)`: observe an outcome; record a note or send a notification.
    Completed,
}

impl HookEvent {
    pub fn handler(self) -> &'static str {
        match self {
            HookEvent::Validate => "validate",
            HookEvent::Route => "route",
            HookEvent::Completed => "completed",
        }
    }
}

/// What a handler returned, converted strictly.
#[derive(Debug, Clone, PartialEq)]
pub enum HookDecision {
    /// `nil`: no objection.
    Allow,
    /// `{deny = RULE, message = TEXT}`.
    Deny { rule: String, message: String },
    /// `{approval = true, approvers = {...}}` (ids or names; empty = the default approvers).
    RequireApproval { approvers: Vec<String> },
    /// `{duration = "PT2H"}`: shorten the requested duration.
    Shorten { duration: IsoDuration },
    /// From `route`: `{approvers = {...}, replace = true|false}`.
    Route { approvers: Vec<String>, replace: bool },
    /// From `completed`: `{note = TEXT}`.
    Note(String),
    /// From `completed`: `{notify = {to = {...}, subject = TEXT, body = TEXT}}`.
    Notify { to: Vec<String>, subject: String, body: String },
}

/// A hook that could not decide: a syntax or runtime error, the instruction budget or the memory
/// limit ran out, or it returned something that is not a decision. The request fails closed.
#[derive(Debug, Clone, PartialEq)]
pub struct HookFailure {
    pub hook: String,
    /// The line of the script the failure points at, when known.
    pub line: Option<u32>,
    pub message: String,
}

impl HookFailure {
    /// The error for a hook refused at `hook add`: nothing was stored.
    pub fn rejected(&self) -> ApiError {
        let at = self.line.map(|l| format!(" at line {l}")).unwrap_or_default();
        ApiError::new(
            400,
            super::fidelity::HOOK_INVALID_CODE,
            format!("Policy hook '{}' is not valid{at}: {}", self.hook, self.message),
        )
        .with_detail(
            "HookInvalid",
            self.hook.clone(),
            "fix the file and add the hook again; nothing was stored",
        )
    }

    pub fn to_api_error(&self) -> ApiError {
        let at = self.line.map(|l| format!(" at line {l}")).unwrap_or_default();
        ApiError::new(
            400,
            super::fidelity::HOOK_FAILED_CODE,
            format!("Policy hook '{}' failed{at}: {}", self.hook, self.message),
        )
        .with_fix(
            "HookFailed",
            self.hook.clone(),
            "the request fails closed until the hook is fixed or removed",
            crate::model::Hint::ShowHook { name: self.hook.clone() },
        )
    }
}

/// How a host shows a request to hooks: by its properties, each made on its own (a hook reads a
/// few of them), so only what a hook reads is made. The api layer gives Graph's
/// (`api::views::REQUEST`), so the wire format stays produced in one place.
#[derive(Clone, Copy)]
pub struct RequestProperties {
    /// Every property's name, in order (what a hook listing the request visits).
    pub names: &'static [&'static str],
    /// The properties whose values are objects (the rest are strings, booleans or null): a host
    /// may show the others at once, cheaply, and make these only when read.
    pub objects: &'static [&'static str],
    /// One property's value; `None` for a name that is not one of `names`.
    pub property: fn(&ScheduleRequest, &str) -> Option<Value>,
}

/// Everything a handler is given besides the request: plain values, no handles.
pub struct HookCall<'a> {
    pub request: &'a ScheduleRequest,
    /// Distinct for every event the engine runs hooks for: calls with the same serial are given
    /// the same request, so a host may convert it once and share it between the event's hooks.
    pub serial: u64,
    /// The `ctx` table, built once per request and shared by its events and hooks.
    pub context: &'a HookContext,
    /// Queries over the tenant as it is now.
    pub view: &'a dyn TenantView,
    /// Seeds the hook's `math.random`, so runs stay reproducible.
    pub seed: u64,
    pub now: Timestamp,
}

/// Runs hooks. Implemented by the Lua host; the engine calls it inside the request's transaction.
pub trait HookRunner {
    /// Checks a hook before it is stored: the source compiles and returns a table whose keys are
    /// known handlers. Returns the handler names.
    fn check(&self, name: &str, source: &str) -> Result<Vec<String>, HookFailure>;
    /// Runs one hook's handler for `event`; `Ok(None)` when the hook does not handle it.
    fn call(
        &self,
        hook: &Hook,
        event: HookEvent,
        call: &HookCall<'_>,
    ) -> Result<Option<HookDecision>, HookFailure>;
    /// Loads a property file (`check`, `fuzz`): its properties, ready to be judged at instants.
    /// `file` names it in messages. A host without properties refuses.
    fn properties(
        &self,
        file: &str,
        source: &str,
    ) -> Result<Box<dyn crate::model::property::Judge>, ApiError> {
        let _ = source;
        Err(ApiError::usage(format!("this host cannot run the properties of '{file}'")))
    }
}

fn schedule_value(s: &Schedule) -> Value {
    json!({
        "id": s.id,
        "principalId": s.principal_id,
        "roleDefinitionId": s.role_definition_id,
        "directoryScopeId": s.directory_scope_id,
        "memberType": s.member_type.as_str(),
        "assignmentType": s.assignment_type.map(|a| a.as_str()),
        "startDateTime": s.schedule_info.start.map(format_timestamp),
        "endDateTime": s.end_at.map(format_timestamp),
    })
}

/// The tenant as a hook may see it, over the request's own transaction.
pub(crate) struct StoreView<'a> {
    pub tx: &'a Tx<'a>,
}

impl StoreView<'_> {
    /// Principals and roles by id or by name, as everywhere else; an unknown one is an error (a
    /// query that silently matched nothing would let a rule fail open).
    fn ids(
        &self,
        principal: Option<&str>,
        role: Option<&str>,
    ) -> Result<(Option<String>, Option<String>), ApiError> {
        let principal = match principal {
            Some(p) => Some(super::directory::resolve_object(self.tx, p, "Principal")?.id),
            None => None,
        };
        let role = match role {
            Some(r) => Some(super::directory::resolve_role(self.tx, r)?.id),
            None => None,
        };
        Ok((principal, role))
    }

    fn in_effect(
        &self,
        kind: RequestKind,
        principal: Option<&str>,
        role: Option<&str>,
    ) -> Result<Value, ApiError> {
        let (principal, role) = self.ids(principal, role)?;
        let rows = self.tx.live_schedules(kind, principal.as_deref(), role.as_deref())?;
        Ok(Value::Array(rows.iter().filter(|s| s.is_active()).map(schedule_value).collect()))
    }
}

impl TenantView for StoreView<'_> {
    fn eligibilities(&self, principal: Option<&str>, role: Option<&str>) -> Result<Value, ApiError> {
        self.in_effect(RequestKind::Eligibility, principal, role)
    }
    fn assignments(&self, principal: Option<&str>, role: Option<&str>) -> Result<Value, ApiError> {
        self.in_effect(RequestKind::Assignment, principal, role)
    }
    fn groups(&self, principal: &str) -> Result<Value, ApiError> {
        let (principal, _) = self.ids(Some(principal), None)?;
        Ok(json!(super::directory::role_assignable_groups_of(self.tx, &principal.unwrap_or_default())?))
    }
    fn policy(&self, role: &str, scope: Option<&str>) -> Result<Value, ApiError> {
        let group_access = crate::model::group::GroupAccess::parse(role);
        let policy = match (self.tx.azure_role(role)?, scope) {
            (None, Some(group)) if group_access.is_some() => group_access
                .map(|a| super::group_access::group_policy(self.tx, &group.to_ascii_lowercase(), a))
                .transpose()?,
            (Some(_), Some(scope)) => {
                let node = super::azure_scopes::node(self.tx, &super::azure_scopes::parse_scope(scope)?)?;
                Some(super::azure_access::azure_policy(self.tx, &node, role)?)
            }
            _ => self.tx.policy_for(crate::model::Surface::Directory.as_str(), "/", role)?,
        };
        Ok(policy.map_or(Value::Null, |p| json!({ "id": p.id, "rules": &*p.rules })))
    }
    fn principal(&self, id: &str) -> Result<Value, ApiError> {
        Ok(match self.tx.object(id)? {
            Some(o) => json!({
                "id": o.id,
                "displayName": o.display_name,
                "userPrincipalName": o.user_principal_name,
                "type": o.kind.as_str(),
                "groups": super::directory::role_assignable_groups_of(self.tx, &o.id)?,
            }),
            None => json!({ "id": id }),
        })
    }
    fn group_roles(&self, group: &str) -> Result<Value, ApiError> {
        // So a hook that guards privileged roles can guard the way to them through a group.
        let held = self.tx.live_directory_roles_of(group)?;
        let mut roles: Vec<Value> = Vec::new();
        for kind in [RequestKind::Eligibility, RequestKind::Assignment] {
            for (_, role) in held.iter().filter(|(k, _)| *k == kind) {
                if let Some(r) = self.tx.role(role)? {
                    if !roles.iter().any(|v| v["id"] == json!(r.id)) {
                        roles.push(json!({ "id": r.id, "displayName": r.display_name, "isPrivileged": r.is_privileged }));
                    }
                }
            }
        }
        Ok(Value::Array(roles))
    }
    fn role(&self, id: &str) -> Result<Value, ApiError> {
        // A PIM for Groups relationship is no role of the catalog; `ctx.groupId` names its group.
        if let Some(access) = crate::model::group::GroupAccess::parse(id) {
            return Ok(json!({
                "id": access.as_str(), "displayName": access.title(), "isBuiltIn": true, "isPrivileged": false,
            }));
        }
        if let Some(r) = self.tx.role(id)? {
            return Ok(json!({
                "id": r.id, "displayName": r.display_name, "isBuiltIn": r.is_built_in, "isPrivileged": r.is_privileged,
            }));
        }
        Ok(self.tx.azure_role(id)?.map_or(Value::Null, |r| {
            json!({ "id": r.id, "displayName": r.role_name, "isBuiltIn": !r.is_custom(), "isPrivileged": r.is_privileged() })
        }))
    }
}

/// What the `validate` hooks decided about one request.
#[derive(Debug, Clone, Default)]
pub(crate) struct HookOutcome {
    /// One trace step per hook that ran (a denial is a failing step with the hook's rule name).
    pub steps: Vec<crate::model::TraceStep>,
    /// Some hook asked for approval, by these approvers (empty: the default ones).
    pub approval: Option<Vec<String>>,
    /// The shortest duration a hook allowed.
    pub duration: Option<IsoDuration>,
}

fn step(
    check: String,
    passed: bool,
    rule: Option<String>,
    seen: String,
    limit: String,
) -> crate::model::TraceStep {
    crate::model::TraceStep {
        check,
        rule,
        passed,
        seen,
        limit,
        fix: (!passed)
            .then(|| crate::model::Hint::text("change the request, or ask an administrator about the hook")),
    }
}

/// The hooks of `all` attached to `q`'s role and scope, in order. Without a host to run them
/// they cannot judge, so the request fails closed.
fn applicable<'h>(all: &'h [Hook], ctx: &super::Ctx, q: &ScheduleRequest) -> Result<Vec<&'h Hook>, ApiError> {
    let scope = q.directory_scope_id.as_deref().or(q.app_scope_id.as_deref()).unwrap_or("/");
    let hooks: Vec<&Hook> = all.iter().filter(|h| h.applies_to(&q.role_definition_id, scope)).collect();
    if !hooks.is_empty() && ctx.runner.is_none() {
        return Err(ApiError::new(
            400,
            super::fidelity::HOOK_FAILED_CODE,
            format!(
                "Policy hook '{}' is attached but this engine has no hook host to run it.",
                hooks[0].name
            ),
        ));
    }
    Ok(hooks)
}

/// Runs every applicable hook's handler for `event` on `q`, in order.
pub(crate) fn run(
    tx: &Tx<'_>,
    ctx: &super::Ctx,
    event: HookEvent,
    q: &ScheduleRequest,
    caller: &str,
) -> Result<Vec<(Hook, HookDecision)>, ApiError> {
    // Borrowed from the transaction's list (a hook's source is copied only with a decision).
    let all = ctx.hooks.hooks(tx)?;
    let hooks = applicable(&all, ctx, q)?;
    let Some(runner) = ctx.runner.as_ref().filter(|_| !hooks.is_empty()) else {
        return Ok(Vec::new());
    };
    let view = StoreView { tx };
    let context = ctx.hooks.context(tx, ctx, q, caller)?;
    let call = HookCall {
        request: q,
        serial: next_serial(),
        context: &context,
        view: &view,
        seed: ctx.seed,
        now: ctx.now,
    };
    let mut out = Vec::new();
    for hook in hooks {
        match runner.call(hook, event, &call) {
            Ok(Some(decision)) => {
                let stop = matches!(decision, HookDecision::Deny { .. });
                out.push((hook.clone(), decision));
                if stop {
                    break; // the first denial wins
                }
            }
            Ok(None) => {}
            Err(failure) => return Err(failure.to_api_error()),
        }
    }
    Ok(out)
}

/// Every approver a hook names must exist; a failure names the hook.
fn check_approvers(tx: &Tx<'_>, hook: &Hook, approvers: &[String]) -> Result<(), ApiError> {
    for a in approvers {
        super::directory::resolve_object(tx, a, "Approver").map_err(|e| {
            HookFailure {
                hook: hook.name.clone(),
                line: None,
                message: format!("approver '{a}': {}", e.message),
            }
            .to_api_error()
        })?;
    }
    Ok(())
}

/// Runs the `validate` hooks on a request about to be decided.
pub(crate) fn validate(
    tx: &Tx<'_>,
    ctx: &super::Ctx,
    q: &ScheduleRequest,
    caller: &str,
) -> Result<HookOutcome, ApiError> {
    let mut outcome = HookOutcome::default();
    for (hook, decision) in run(tx, ctx, HookEvent::Validate, q, caller)? {
        let check = format!("hook {}", hook.name);
        match decision {
            HookDecision::Allow => {
                outcome.steps.push(step(check, true, None, "no objection".into(), "validate".into()))
            }
            HookDecision::Deny { rule, message } => outcome.steps.push(step(
                check,
                false,
                Some(rule),
                message,
                format!("hook {} (validate)", hook.name),
            )),
            HookDecision::RequireApproval { approvers } => {
                check_approvers(tx, &hook, &approvers)?;
                let seen = if approvers.is_empty() {
                    "approval required".to_string()
                } else {
                    format!("approval required by {}", approvers.join(", "))
                };
                if !matches!(q.action, Action::SelfActivate | Action::SelfExtend | Action::SelfRenew) {
                    // Only activations and self-service requests can wait for approval; an
                    // administrator's own action cannot, so the hook's demand refuses it.
                    outcome.steps.push(step(
                        check,
                        false,
                        Some("ApprovalRule".into()),
                        seen,
                        format!(
                            "approval is possible only for activations and self-service requests, not {}",
                            q.action
                        ),
                    ));
                    break;
                }
                outcome.steps.push(step(check, true, None, seen, "validate".into()));
                outcome.approval.get_or_insert_with(Vec::new).extend(approvers);
            }
            HookDecision::Shorten { duration } => {
                outcome.steps.push(step(check, true, None, format!("at most {duration}"), "validate".into()));
                outcome.duration = Some(outcome.duration.map_or(duration, |d| d.min(duration)));
            }
            other => {
                return Err(HookFailure {
                    hook: hook.name.clone(),
                    line: None,
                    message: format!(
                        "validate returned a {} decision, which only other handlers may return",
                        decision_name(&other)
                    ),
                }
                .to_api_error());
            }
        }
    }
    Ok(outcome)
}

fn decision_name(d: &HookDecision) -> &'static str {
    match d {
        HookDecision::Allow => "allow",
        HookDecision::Deny { .. } => "deny",
        HookDecision::RequireApproval { .. } => "approval",
        HookDecision::Shorten { .. } => "duration",
        HookDecision::Route { .. } => "route",
        HookDecision::Note(_) => "note",
        HookDecision::Notify { .. } => "notify",
    }
}

/// Approvers a `route` hook names, and whether they replace the stage's own.
pub(crate) type Routing = (Vec<String>, bool);

/// Runs the `route` hooks on a request about to wait for approval: they add or replace its
/// approvers. Returns `(approvers, replace)` per deciding hook, and the trace steps.
pub(crate) fn route(
    tx: &Tx<'_>,
    ctx: &super::Ctx,
    q: &ScheduleRequest,
) -> Result<(Vec<Routing>, Vec<crate::model::TraceStep>), ApiError> {
    let mut routes = Vec::new();
    let mut steps = Vec::new();
    for (hook, decision) in run(tx, ctx, HookEvent::Route, q, &q.created_by)? {
        match decision {
            HookDecision::Route { approvers, replace } => {
                check_approvers(tx, &hook, &approvers)?;
                steps.push(step(
                    format!("hook {}", hook.name),
                    true,
                    None,
                    format!(
                        "{} approvers {}",
                        if replace { "replaced by" } else { "added:" },
                        approvers.join(", ")
                    ),
                    "route".into(),
                ));
                routes.push((approvers, replace));
            }
            HookDecision::Allow => {}
            other => {
                return Err(HookFailure {
                    hook: hook.name.clone(),
                    line: None,
                    message: format!(
                        "route returned a {} decision; it may only return {{approvers = ..., replace = ...}}",
                        decision_name(&other)
                    ),
                }
                .to_api_error());
            }
        }
    }
    Ok((routes, steps))
}

/// `completed` for outcomes the clock produces (a time-out): a failing hook cannot stop time, so its
/// failure is recorded in the request's trace and the audit trail instead of refusing anything.
/// Returns that audit row, if a hook failed.
pub(crate) fn completed_by_the_clock(
    tx: &Tx<'_>,
    ctx: &super::Ctx,
    q: &mut ScheduleRequest,
) -> Result<super::audit::Audit, ApiError> {
    if let Err(e) = completed(tx, ctx, q) {
        if e.code != super::fidelity::HOOK_FAILED_CODE {
            return Err(e);
        }
        q.trace.push(step(
            "completed hooks".into(),
            false,
            Some("HookFailed".into()),
            e.message.clone(),
            "completed".into(),
        ));
        tx.update_request(q)?;
        let activity = super::audit::Activity::HookFailed(e.message.clone());
        let about = super::audit::About::Targets(Vec::new());
        let row = super::audit::Entry::new(tx, ctx, super::fidelity::SYSTEM_ACTOR, activity, about)?;
        return Ok(super::audit::Audit::of(row));
    }
    Ok(super::audit::Audit::none("the completed hooks ran without failing"))
}

/// Runs the `completed` hooks on a stored request that reached its outcome: notes go into its
/// trace, notifications into the outbox, and the request is written again if its trace changed.
pub(crate) fn completed(tx: &Tx<'_>, ctx: &super::Ctx, q: &mut ScheduleRequest) -> Result<(), ApiError> {
    if completed_before_insert(tx, ctx, q)? {
        tx.update_request(q)?;
    }
    Ok(())
}

/// [`completed`] for a request not yet written (its caller inserts it afterwards, trace and all,
/// in one write instead of two). Returns whether the hooks changed its trace.
pub(crate) fn completed_before_insert(
    tx: &Tx<'_>,
    ctx: &super::Ctx,
    q: &mut ScheduleRequest,
) -> Result<bool, ApiError> {
    let decisions = run(tx, ctx, HookEvent::Completed, q, &q.created_by.clone())?;
    if decisions.is_empty() {
        return Ok(false);
    }
    for (hook, decision) in decisions {
        match decision {
            HookDecision::Allow => {}
            HookDecision::Note(text) => {
                q.trace.push(step(
                    format!("hook {}", hook.name),
                    true,
                    None,
                    text,
                    "completed (note)".into(),
                ));
            }
            HookDecision::Notify { to, subject, body } => {
                let mut recipients = Vec::new();
                let mut ids = Vec::new();
                for t in &to {
                    match super::directory::resolve_object(tx, t, "Recipient") {
                        Ok(o) => {
                            if let Some(m) = o.mail.clone().or(o.user_principal_name.clone()) {
                                recipients.push(m);
                            }
                            ids.push(o.id);
                        }
                        Err(_) if t.contains('@') => recipients.push(t.clone()),
                        Err(e) => {
                            return Err(HookFailure {
                                hook: hook.name.clone(),
                                line: None,
                                message: format!("notify: {}", e.message),
                            }
                            .to_api_error());
                        }
                    }
                }
                tx.insert_notification(&crate::model::mail::Outgoing {
                    at: ctx.now,
                    event: format!("Hook:{}", hook.name),
                    rule_id: None,
                    recipient_type: "Hook".into(),
                    recipients,
                    recipient_ids: ids,
                    content: &crate::model::mail::Content::Given { subject, body },
                    request_id: Some(q.id.clone()),
                    critical: false,
                })?;
                q.trace.push(step(
                    format!("hook {}", hook.name),
                    true,
                    None,
                    format!("notified {}", to.join(", ")),
                    "completed (notify)".into(),
                ));
            }
            other => {
                return Err(HookFailure {
                    hook: hook.name.clone(),
                    line: None,
                    message: format!("completed returned a {} decision; it may only return {{note = ...}} or {{notify = ...}}", decision_name(&other)),
                }
                .to_api_error());
            }
        }
    }
    Ok(true)
}
