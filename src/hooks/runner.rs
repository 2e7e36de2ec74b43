//! The Lua host for policy hooks: it implements the engine's `HookRunner`. Every call gets a
//! fresh sandboxed state, so hooks cannot keep state between requests or see each other.

use mlua::{Function, Lua, LuaSerdeExt, Table, Value};

use super::decision;
use super::sandbox::{self, Limits};
use crate::engine::{Hook, HookCall, HookDecision, HookEvent, HookFailure, HookRunner, TenantView};
use crate::model::ScheduleRequest;

const HANDLERS: [&str; 3] = ["validate", "route", "completed"];

/// Renders a request as Graph JSON: the api layer's view, handed in by whoever installs the host,
/// so the wire format stays produced in one place.
pub type RenderRequest = fn(&ScheduleRequest) -> serde_json::Value;

/// Runs hooks in the Lua sandbox.
pub struct LuaHooks {
    render: RenderRequest,
    limits: Limits,
    /// The handlers each hook source defines, so a hook without a handler for an event costs
    /// nothing (no state is made for it). Keyed by name and a hash of the source.
    handlers: std::cell::RefCell<std::collections::HashMap<(String, u64), Vec<String>>>,
}

impl LuaHooks {
    pub fn new(render: RenderRequest) -> Self {
        LuaHooks { render, limits: Limits::HOOK, handlers: Default::default() }
    }

    /// With other limits (tests use small ones).
    pub fn with_limits(render: RenderRequest, limits: Limits) -> Self {
        LuaHooks { render, limits, handlers: Default::default() }
    }
}

fn failure(hook: &str, e: &mlua::Error) -> HookFailure {
    failure_at(hook, e, None)
}

/// A failure, placed at `position` (`chunk:line`) when the error itself has none (memory).
fn failure_at(hook: &str, e: &mlua::Error, position: Option<String>) -> HookFailure {
    let text = match e {
        mlua::Error::CallbackError { cause, .. } => cause.to_string(),
        other => other.to_string(),
    };
    // Out of memory, whether Lua raised it directly or it came back through a protected call.
    let text = if matches!(e, mlua::Error::MemoryError(_)) || text.contains("not enough memory") {
        match position {
            Some(p) => format!("{p}: memory limit exceeded"),
            None => "memory limit exceeded".to_string(),
        }
    } else {
        text
    };
    let (line, message) = sandbox::split_location(&text, hook);
    HookFailure { hook: hook.to_string(), line, message }
}

/// Loads a hook's source and returns its table of handlers, strictly checked.
fn handlers(lua: &Lua, name: &str, source: &str) -> Result<Table, HookFailure> {
    let value: Value = lua
        .load(source)
        .set_name(format!("={name}"))
        .set_mode(mlua::ChunkMode::Text)
        .eval()
        .map_err(|e| failure(name, &e))?;
    let Value::Table(table) = value else {
        return Err(HookFailure {
            hook: name.to_string(),
            line: None,
            message: "the hook must `return { validate = function(request, ctx) ... end, ... }`".into(),
        });
    };
    for pair in table.clone().pairs::<Value, Value>() {
        let (k, v) = pair.map_err(|e| failure(name, &e))?;
        let key = match &k {
            Value::String(s) => s.to_string_lossy().to_string(),
            _ => String::from("(not a string)"),
        };
        if !HANDLERS.contains(&key.as_str()) {
            return Err(HookFailure {
                hook: name.to_string(),
                line: None,
                message: format!("unknown handler '{key}' (handlers: {})", HANDLERS.join(", ")),
            });
        }
        if !matches!(v, Value::Function(_)) {
            return Err(HookFailure {
                hook: name.to_string(),
                line: None,
                message: format!("handler '{key}' is not a function"),
            });
        }
    }
    Ok(table)
}

impl HookRunner for LuaHooks {
    fn check(&self, name: &str, source: &str) -> Result<Vec<String>, HookFailure> {
        let armed = |lua: Lua| -> Result<Lua, HookFailure> {
            sandbox::arm(&lua).map_err(|e| failure(name, &e))?;
            Ok(lua)
        };
        let lua = sandbox::new_state(
            self.limits,
            std::rc::Rc::new(std::cell::Cell::new(chrono::DateTime::UNIX_EPOCH)),
            0,
        )
        .map_err(|e| failure(name, &e))?;
        let lua = armed(lua)?;
        let table = handlers(&lua, name, source)?;
        let mut names: Vec<String> = HANDLERS
            .iter()
            .filter(|h| table.contains_key(**h).unwrap_or(false))
            .map(|h| h.to_string())
            .collect();
        names.sort();
        if names.is_empty() {
            return Err(HookFailure {
                hook: name.to_string(),
                line: None,
                message: format!("the table has no handler ({})", HANDLERS.join(", ")),
            });
        }
        Ok(names)
    }

    fn call(
        &self,
        hook: &Hook,
        event: HookEvent,
        call: &HookCall<'_>,
    ) -> Result<Option<HookDecision>, HookFailure> {
        let name = hook.name.as_str();
        let key = (hook.name.clone(), fxhash(&hook.source));
        if let Some(known) = self.handlers.borrow().get(&key) {
            if !known.iter().any(|h| h == event.handler()) {
                return Ok(None);
            }
        }
        let fail = |e: &mlua::Error| failure(name, e);
        let lua = sandbox::new_state(
            self.limits,
            std::rc::Rc::new(std::cell::Cell::new(call.now)),
            call.seed ^ fxhash(&call.request.id),
        )
        .map_err(|e| fail(&e))?;
        let options =
            mlua::SerializeOptions::new().serialize_none_to_null(false).serialize_unit_to_null(false);
        let result = lua.scope(|scope| {
            // The values first, unmetered (trusted conversion); then the hook's code, under the budget.
            let request =
                sandbox::freeze(&lua, lua.to_value_with(&(self.render)(call.request), options)?, None)?;
            // The policy (most of ctx) is converted only if the hook reads it.
            let mut context = call.context.clone();
            let policy =
                context.as_object_mut().and_then(|m| m.remove("policy")).unwrap_or(serde_json::Value::Null);
            let ctx: Table = match lua.to_value_with(&context, options)? {
                Value::Table(t) => t,
                _ => lua.create_table()?,
            };
            let lazy = lua.create_table()?;
            lazy.raw_set(
                "policy",
                scope.create_function(move |lua, ()| lua.to_value_with(&policy, options))?,
            )?;
            let view = call.view;
            // A query's answer, charged to the hook's budget by its size.
            let reply = move |lua: &Lua, v: Result<serde_json::Value, crate::model::ApiError>| {
                let v = v.map_err(|e| mlua::Error::RuntimeError(e.message))?;
                sandbox::charge(lua, query_cost(&v))?;
                lua.to_value_with(&v, options)
            };
            type Listing = fn(
                &dyn TenantView,
                Option<&str>,
                Option<&str>,
            ) -> Result<serde_json::Value, crate::model::ApiError>;
            let listings: [(&str, Listing); 2] = [
                ("eligibilities", |v, p, r| v.eligibilities(p, r)),
                ("assignments", |v, p, r| v.assignments(p, r)),
            ];
            for (name, list) in listings {
                ctx.raw_set(
                    name,
                    scope.create_function(move |lua, t: Option<Table>| {
                        let (p, r): (Option<String>, Option<String>) = match t {
                            Some(t) => (t.get("principal")?, t.get("role")?),
                            None => (None, None),
                        };
                        reply(lua, list(view, p.as_deref(), r.as_deref()))
                    })?,
                )?;
            }
            ctx.raw_set(
                "groups",
                scope.create_function(move |lua, principal: String| reply(lua, view.groups(&principal)))?,
            )?;
            let ctx = sandbox::freeze(&lua, Value::Table(ctx), Some(lazy))?;
            sandbox::arm(&lua)?;
            let table =
                handlers(&lua, name, &hook.source).map_err(|f| mlua::Error::external(HookSetupError(f)))?;
            let defined: Vec<String> = HANDLERS
                .iter()
                .filter(|h| table.contains_key(**h).unwrap_or(false))
                .map(|h| h.to_string())
                .collect();
            self.handlers.borrow_mut().insert(key.clone(), defined);
            let Some(handler) = table.get::<Option<Function>>(event.handler())? else {
                return Ok(None);
            };
            let line = handler.info().line_defined;
            let value = handler.call::<Value>((request, ctx));
            Ok(Some((value, line)))
        });
        let (value, line) = match result {
            Ok(None) => return Ok(None),
            Ok(Some(pair)) => pair,
            Err(e) => {
                if let Some(HookSetupError(f)) = find_setup_error(&e) {
                    return Err(f);
                }
                return Err(failure_at(name, &e, sandbox::last_position(&lua)));
            }
        };
        let value = value.map_err(|e| failure_at(name, &e, sandbox::last_position(&lua)))?;
        decision::convert(event, value).map(Some).map_err(|message| HookFailure {
            hook: name.to_string(),
            line: line.map(|l| l as u32),
            message,
        })
    }
}

/// A hook that failed while loading (syntax, top-level error, not a table of handlers), carried
/// out of `Lua::scope` as an external error.
#[derive(Debug)]
struct HookSetupError(HookFailure);

impl std::fmt::Display for HookSetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.message)
    }
}

impl std::error::Error for HookSetupError {}

fn find_setup_error(e: &mlua::Error) -> Option<HookSetupError> {
    match e {
        mlua::Error::ExternalError(inner) => {
            inner.downcast_ref::<HookSetupError>().map(|h| HookSetupError(h.0.clone()))
        }
        mlua::Error::CallbackError { cause, .. } => find_setup_error(cause),
        mlua::Error::WithContext { cause, .. } => find_setup_error(cause),
        _ => None,
    }
}

/// What a `ctx` query costs the hook's instruction budget: a query is real work for the host (it
/// reads the store), so a loop of them must end as a loop of instructions does.
fn query_cost(result: &serde_json::Value) -> u64 {
    10_000 + 100 * result.as_array().map_or(1, |rows| rows.len() as u64)
}

/// A stable hash of a request id, so each request's `math.random` stream differs reproducibly.
fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}
