//! Hooks as the tenant's administrators handle them: attaching one (checked by the host first),
//! detaching, listing, and a dry run of one hook on a request (`hook test`). The running of hooks
//! inside requests is in [`super::extension`].

use super::extension::{HookCall, HookDecision, HookEvent, HookFailure, StoreView};
use super::hook_context::{context, next_serial};
use crate::model::ErrorCode;
use crate::model::hook::Hook;
use crate::model::{ApiError, ScheduleRequest};

impl super::Engine {
    /// Adds a hook (administrators only). Its source must compile and return a table of handlers.
    pub fn add_hook(
        &mut self,
        session: &super::Session,
        name: &str,
        source: &str,
        role: Option<&str>,
        scope: Option<&str>,
    ) -> Result<(Hook, Vec<String>), ApiError> {
        let runner = self.runner.clone();
        self.write(|tx, ctx| {
            super::directory::require_admin(tx, session, "Adding policy hooks")?;
            let name = name.trim();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return Err(ApiError::bad_request(
                    "name",
                    format!("'{name}' is not a hook name (letters, digits, '-' and '_')"),
                ));
            }
            if tx.hook(name)?.is_some() {
                return Err(ApiError::new(
                    409,
                    ErrorCode::HookExists,
                    format!("A hook named '{name}' already exists; remove it first."),
                ));
            }
            let handlers = check_source(runner.as_deref(), name, source)?;
            let role_id = match role {
                Some(r) => Some(super::directory::resolve_role(tx, r)?.id),
                None => None,
            };
            let hook = Hook {
                name: name.to_string(),
                source: source.to_string(),
                role_definition_id: role_id,
                scope: scope.map(str::to_string),
                added_by: session.caller.clone(),
                added_at: ctx.now,
                position: 0,
            };
            tx.insert_hook(&hook)?;
            let row = source_row(
                tx,
                ctx,
                session,
                super::audit::Activity::HookAdded(name.to_string()),
                name,
                &handlers,
            )?;
            let stored = tx.hook(name)?.expect("just stored");
            Ok(((stored, handlers), super::audit::Audit::of(row)))
        })
    }

    /// Replaces a hook's source (administrators only), keeping its place in the order, its role
    /// and its scope. The new source is checked as `add_hook` checks one; a refused one changes
    /// nothing.
    pub fn update_hook(
        &mut self,
        session: &super::Session,
        name: &str,
        source: &str,
    ) -> Result<(Hook, Vec<String>), ApiError> {
        let runner = self.runner.clone();
        self.write(|tx, ctx| {
            super::directory::require_admin(tx, session, "Changing policy hooks")?;
            tx.hook(name)?.ok_or_else(|| ApiError::not_found(ErrorCode::HookNotFound, "Hook", name))?;
            let handlers = check_source(runner.as_deref(), name, source)?;
            tx.update_hook_source(name, source)?;
            let row = source_row(
                tx,
                ctx,
                session,
                super::audit::Activity::HookUpdated(name.to_string()),
                name,
                &handlers,
            )?;
            let stored = tx.hook(name)?.expect("just updated");
            Ok(((stored, handlers), super::audit::Audit::of(row)))
        })
    }

    /// Removes a hook (administrators only).
    pub fn remove_hook(&mut self, session: &super::Session, name: &str) -> Result<Hook, ApiError> {
        self.write(|tx, ctx| {
            super::directory::require_admin(tx, session, "Removing policy hooks")?;
            let hook =
                tx.hook(name)?.ok_or_else(|| ApiError::not_found(ErrorCode::HookNotFound, "Hook", name))?;
            tx.delete_hook(name)?;
            let row = super::audit::Entry::new(
                tx,
                ctx,
                &session.caller,
                super::audit::Activity::HookRemoved(name.to_string()),
                super::audit::About::Targets(vec![crate::store::AuditTarget {
                    id: name.to_string(),
                    kind: "Hook".into(),
                    display_name: None,
                }]),
            )?;
            Ok((hook, super::audit::Audit::of(row)))
        })
    }

    /// Every hook, in the order they run.
    pub fn hooks(&mut self) -> Result<Vec<Hook>, ApiError> {
        self.read(|tx, _| Ok(tx.hooks()?.as_ref().clone()))
    }

    pub fn hook(&mut self, name: &str) -> Result<Hook, ApiError> {
        self.read(|tx, _| {
            tx.hook(name)?.ok_or_else(|| ApiError::not_found(ErrorCode::HookNotFound, "Hook", name))
        })
    }
}

/// A hook's source as the host checks it before it is stored: the handlers it defines.
fn check_source(
    runner: Option<&dyn super::extension::HookRunner>,
    name: &str,
    source: &str,
) -> Result<Vec<String>, ApiError> {
    let runner = runner.ok_or_else(|| {
        ApiError::new(
            400,
            super::fidelity::HOOK_FAILED_CODE,
            "this engine has no hook host to check the hook with",
        )
    })?;
    runner.check(name, source).map_err(|f| f.rejected())
}

/// The audit row of a hook stored with new source (added or updated), naming its handlers.
fn source_row(
    tx: &crate::store::Tx<'_>,
    ctx: &super::Ctx,
    session: &super::Session,
    activity: super::audit::Activity,
    name: &str,
    handlers: &[String],
) -> Result<super::audit::Entry, ApiError> {
    super::audit::Entry::new(
        tx,
        ctx,
        &session.caller,
        activity,
        super::audit::About::Targets(vec![crate::store::AuditTarget {
            id: name.to_string(),
            kind: "Hook".into(),
            display_name: Some(format!("handlers: {}", handlers.join(", "))),
        }]),
    )
}

/// One handler's answer in a hook test.
pub type HandlerVerdict = (HookEvent, Result<Option<HookDecision>, HookFailure>);

impl super::Engine {
    /// Runs one hook's handlers on a request without storing anything: what each handler decides,
    /// and what the request as a whole would come to (a validation-only submit).
    pub fn test_hook(
        &mut self,
        session: &super::Session,
        name: &str,
        req: &crate::model::NewRequest,
        at: Option<crate::model::Timestamp>,
    ) -> Result<(Vec<HandlerVerdict>, Result<ScheduleRequest, ApiError>), ApiError> {
        // "As if it were" `at`: the hook's clock, `ctx.now` and the dry run's policy checks read
        // it; the store's clock does not move (a dry run writes nothing).
        let saved = std::mem::replace(&mut self.clock_override, at);
        let tested = self.test_hook_now(session, name, req);
        self.clock_override = saved;
        tested
    }

    fn test_hook_now(
        &mut self,
        session: &super::Session,
        name: &str,
        req: &crate::model::NewRequest,
    ) -> Result<(Vec<HandlerVerdict>, Result<ScheduleRequest, ApiError>), ApiError> {
        let verdicts = self.read(|tx, ctx| {
            let hook =
                tx.hook(name)?.ok_or_else(|| ApiError::not_found(ErrorCode::HookNotFound, "Hook", name))?;
            let runner = ctx.runner.clone().ok_or_else(|| {
                ApiError::new(
                    400,
                    super::fidelity::HOOK_FAILED_CODE,
                    "this engine has no hook host to run the hook with",
                )
            })?;
            let mut q = super::records::provisional_request(
                tx,
                ctx,
                session,
                req,
                &req.principal_id,
                &req.role_definition_id,
            )?;
            q.is_validation_only = true;
            let view = StoreView { tx };
            let context = context(tx, ctx, &q, &session.caller)?;
            let call = HookCall {
                request: &q,
                serial: next_serial(),
                context: &context,
                view: &view,
                seed: ctx.seed,
                now: ctx.now,
            };
            Ok([HookEvent::Validate, HookEvent::Route, HookEvent::Completed]
                .into_iter()
                .map(|event| (event, runner.call(&hook, event, &call)))
                .collect::<Vec<_>>())
        })?;
        let mut dry = req.clone();
        dry.is_validation_only = true;
        let outcome = self.submit(session, &dry);
        Ok((verdicts, outcome))
    }
}
