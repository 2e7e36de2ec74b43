//! Policy hooks: attach, list, show, detach, and a dry run of one hook on a request.

use super::args::*;
use super::outcome::Outcome;
use super::{Access, body_text, read_file};
use crate::engine::{Engine, Session};
use crate::model::{ApiError, RequestKind};

pub(super) fn hook(
    engine: &mut Engine,
    session: &Session,
    action: &HookAction,
    access: Access,
) -> Result<Outcome, ApiError> {
    Ok(match action {
        HookAction::Add(a) => {
            let source = hook_source(&a.source, &a.file, access)?;
            let scope = a.scope.as_deref().map(|s| super::scope(engine, s)).transpose()?;
            let (hook, handlers) =
                engine.add_hook(session, &a.name, &source, a.role.as_deref(), scope.as_deref())?;
            let total = engine.hooks()?.len();
            Outcome::HookAdded { hook, handlers, total }
        }
        HookAction::List => Outcome::Hooks(engine.hooks()?),
        HookAction::Show(a) => Outcome::Hook(engine.hook(&a.name)?),
        HookAction::Update(a) => {
            let source = hook_source(&a.source, &a.file, access)?;
            let (hook, handlers) = engine.update_hook(session, &a.name, &source)?;
            Outcome::HookUpdated { hook, handlers }
        }
        HookAction::Remove(a) => Outcome::HookRemoved(engine.remove_hook(session, &a.name)?),
        HookAction::Test(a) => test(engine, session, a, access)?,
    })
}

/// A hook's Lua source: given as text (scripts), or read from its file (the command line).
fn hook_source(
    source: &Option<String>,
    file: &Option<std::path::PathBuf>,
    access: Access,
) -> Result<String, ApiError> {
    match (source, file) {
        (Some(text), _) => Ok(text.clone()),
        (None, Some(path)) => read_file(path, "hook", access),
        (None, None) => Err(ApiError::usage("a hook needs its Lua source (a file)")),
    }
}

fn test(
    engine: &mut Engine,
    session: &Session,
    a: &HookTestArgs,
    access: Access,
) -> Result<Outcome, ApiError> {
    let mut body = crate::api::body::parse_object(&body_text(&a.request, access)?)?;
    // Unlike a Graph call, a dry run takes names too: `"principalId": "alice"`,
    // `"roleDefinitionId": "Global Administrator"`.
    if let Some(serde_json::Value::String(p)) = body.get("principalId") {
        let id = engine.resolve_object(p)?.id;
        body.insert("principalId".into(), serde_json::Value::String(id));
    }
    if let Some(serde_json::Value::String(r)) = body.get("roleDefinitionId") {
        let id = engine.resolve_role(r)?.id;
        body.insert("roleDefinitionId".into(), serde_json::Value::String(id));
    }
    let text = serde_json::Value::Object(body).to_string();
    // A Graph body does not say which collection it was posted to: active unless told.
    let kind = a.kind.map_or(RequestKind::Assignment, KindArg::kind);
    let req = crate::api::body::schedule_request(kind, &text, false)?;
    let (verdicts, outcome) = engine.test_hook(session, &a.name, &req, a.at)?;
    Ok(Outcome::HookTested { name: a.name.clone(), action: req.action, verdicts, outcome })
}
