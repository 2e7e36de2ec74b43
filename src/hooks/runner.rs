//! The Lua host for policy hooks: it implements the engine's `HookRunner`.
//!
//! One sandboxed state is prepared once and kept from call to call, shared by every hook (so one
//! event's request and one request's `ctx` are converted once for all of them), with each hook's
//! source compiled once. What must not carry over does not:
//!
//! - **globals and libraries**: every call runs in a global environment no earlier call has
//!   changed (copy-on-write stand-ins for the globals and every library table, reading through to
//!   a private pristine copy; see `fresh_env` in `sandbox.lua`) with a metatable for strings no
//!   earlier call has changed, so nothing a handler writes (a global, `string.upper`,
//!   `getmetatable("").__index`) is seen by another hook or a later call. An environment is made
//!   anew after a call that changed its own; one left untouched (the usual case: handlers read
//!   the libraries, and keep their state in locals) is reused, which the prelude knows from a
//!   flag every write path sets (see `call` in `sandbox.lua`);
//! - **the hook's own chunk**: its compiled main function is run again in that environment for
//!   every call (the source is compiled with `local _ENV = ...` in front, on its first line), so
//!   its top-level locals, tables and handlers are new each time and cannot keep a counter;
//! - **the request and `ctx`**: converted at most once per event (the request, a property at a
//!   time as hooks read it) or per request (`ctx`, whose caller, principal, role and policy are
//!   read from the store when a hook first asks) into inner tables no script can reach, and shown
//!   through read-only views no earlier call has changed (the hooks of one event share them until
//!   one `rawset`s), so what a handler `rawset`s stays with that call;
//! - **limits**: the instruction budget, the position of the last line, the simulated clock and
//!   the `math.random` stream start again for every call; the memory limit holds for the state,
//!   whose garbage from earlier calls Lua collects before it would refuse an allocation;
//! - **failures**: a state in which a call failed (an error, the budget, memory, a bad decision)
//!   is dropped, and the next call prepares a new one.
//!
//! Calls run without following the script line by line (a call into the host per line cost as
//! much as the rest of a short handler); a failure that then has no line of its own (out of
//! memory, or out of budget inside a `ctx` query) is found again by running the same call once
//! more, in a new state, following the lines. A call only reads and decides, so running it again
//! changes nothing.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use mlua::{FromLua, Function, Lua, Table, Value};

use super::decision;
use super::sandbox::{self, Limits, Prelude};
use crate::engine::{
    Hook, HookCall, HookContext, HookDecision, HookEvent, HookFailure, HookRunner, RequestProperties,
};
use crate::model::{ApiError, Timestamp};

const HANDLERS: [&str; 3] = ["validate", "route", "completed"];

/// How many compiled hooks a state keeps before it is replaced by a new one (removed hooks and old
/// versions of changed ones are never called again).
const MAX_COMPILED: usize = 64;

/// Runs hooks in the Lua sandbox.
pub struct LuaHooks {
    request: RequestProperties,
    limits: Limits,
    /// The prepared state, made on the first call and replaced after a failure.
    state: RefCell<Option<Prepared>>,
}

impl LuaHooks {
    /// A host showing each request as `request` makes it (Graph's: `api::views::REQUEST`).
    pub fn new(request: RequestProperties) -> Self {
        LuaHooks::with_limits(request, Limits::HOOK)
    }

    /// With other limits (tests use small ones).
    pub fn with_limits(request: RequestProperties, limits: Limits) -> Self {
        LuaHooks { request, limits, state: RefCell::new(None) }
    }
}

/// A hook's source, compiled.
struct Compiled {
    source: String,
    /// The chunk: called with a call's environment, it returns the table of handlers.
    main: Function,
    /// The handlers the table had the last time it was made (unknown before the first call).
    handlers: Option<Vec<&'static str>>,
}

/// A sandboxed state kept from call to call, with what it has compiled and converted.
struct Prepared {
    lua: Lua,
    prelude: Prelude,
    clock: Rc<Cell<Timestamp>>,
    compiled: HashMap<String, Compiled>,
    /// The inner table of the last event's request, by [`HookCall::serial`].
    request: Option<(u64, Table)>,
    /// The inner table of the last request's `ctx`, by [`crate::engine::HookContext::id`].
    context: Option<(u64, Table)>,
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

/// Compiles a hook's source into its main function. `local _ENV = ...;` on the source's first
/// line makes every global the hook names resolve in the environment the chunk is called with;
/// the line numbers are the file's own.
fn compile(lua: &Lua, name: &str, source: &str) -> Result<Function, HookFailure> {
    // The chunk's own upvalue `_ENV` is shadowed by the local; it is an empty table anyway.
    let unused = lua.create_table().map_err(|e| failure(name, &e))?;
    lua.load(format!("local _ENV = ...; {source}"))
        .set_name(format!("={name}"))
        .set_mode(mlua::ChunkMode::Text)
        .set_environment(unused)
        .into_function()
        .map_err(|e| failure(name, &e))
}

/// What the prelude's `run` reports of a hook's table, strictly checked: the handlers it has (in
/// [`HANDLERS`] order) and, when it has one for the event, what that returned.
type Ran = (Vec<&'static str>, Option<Returned>);

/// What a handler returned: nil, or a value to convert (with the handler, whose line a bad
/// decision names).
enum Returned {
    Nil,
    Value(Function, Value),
}

fn ran_handlers(name: &str, ran: mlua::MultiValue) -> Result<Ran, HookFailure> {
    let mut values = ran.into_iter();
    let status = match values.next() {
        Some(Value::Integer(n)) => n,
        _ => -1,
    };
    let problem = |message: String| HookFailure { hook: name.to_string(), line: None, message };
    let key = |v: Option<Value>| match v {
        Some(Value::String(s)) => s.to_string_lossy().to_string(),
        _ => String::from("(not a string)"),
    };
    match status {
        -2 => {
            return Err(problem(format!(
                "unknown handler '{}' (handlers: {})",
                key(values.next()),
                HANDLERS.join(", ")
            )));
        }
        -3 => return Err(problem(format!("handler '{}' is not a function", key(values.next())))),
        n if n < 0 => {
            return Err(problem(
                "the hook must `return { validate = function(request, ctx) ... end, ... }`".into(),
            ));
        }
        _ => {}
    }
    // The prelude's bits: 1, 2 and 4 in `HANDLERS` order.
    let defined: Vec<&'static str> =
        HANDLERS.iter().enumerate().filter(|(i, _)| status & (1 << i) != 0).map(|(_, h)| *h).collect();
    let returned = match (values.next(), values.next()) {
        (Some(Value::Boolean(false)), _) => Some(Returned::Nil),
        (Some(Value::Function(f)), result) => Some(Returned::Value(f, result.unwrap_or(Value::Nil))),
        _ => None,
    };
    Ok((defined, returned))
}

impl Prepared {
    fn new(limits: Limits) -> mlua::Result<Prepared> {
        let clock = Rc::new(Cell::new(chrono::DateTime::UNIX_EPOCH));
        let lua = sandbox::new_state(limits, clock.clone(), 0)?;
        // Generational: nearly everything a call makes (its environment, views, the handler's
        // tables) dies young, and minor collections keep the state's memory small and warm in the
        // CPU's caches (measured: the five-hook bench's hook time fell by a third against the
        // incremental collector). A minor collection when memory has grown by 100% (Lua's default
        // is 20%) took a further 1.5% off the bench's instructions. An allocation that would pass
        // the memory limit collects first.
        lua.gc_gen(100, 0);
        let prelude = Prelude::of(&lua, &HookContext::LAZY)?;
        Ok(Prepared { lua, prelude, clock, compiled: HashMap::new(), request: None, context: None })
    }

    /// Starts a call: the whole budget, the clock at `now`, `math.random` from `seed`.
    fn restart(&self, now: Timestamp, seed: u64) {
        sandbox::disarm(&self.lua);
        sandbox::restart_budget(&self.lua);
        sandbox::reseed(&self.lua, seed);
        self.clock.set(now);
    }

    /// The hook's compiled chunk (compiling it if its source is new).
    fn main(&mut self, hook: &Hook) -> Result<Function, HookFailure> {
        if let Some(c) = self.compiled.get(&hook.name) {
            if c.source == hook.source {
                return Ok(c.main.clone());
            }
        }
        let main = compile(&self.lua, &hook.name, &hook.source)?;
        self.compiled.insert(
            hook.name.clone(),
            Compiled { source: hook.source.clone(), main: main.clone(), handlers: None },
        );
        Ok(main)
    }

    /// The inner table of the call's request, one per event, empty until a hook reads it: its
    /// plain values all at once on the first read (a dozen short strings cost less than a call
    /// into the host for each), its objects one by one. A hook that never reads the request (a
    /// rule on the time or the role) costs no conversion at all: converting it up front was a
    /// twentieth of a request's instructions in the year bench, whose hooks read only `ctx`.
    fn request(&mut self, call: &HookCall<'_>) -> mlua::Result<Table> {
        if let Some((serial, t)) = &self.request {
            if *serial == call.serial {
                return Ok(t.clone());
            }
        }
        let t = Prelude::request_table(&self.lua)?;
        self.request = Some((call.serial, t.clone()));
        Ok(t)
    }

    /// The inner table of the call's `ctx`, one per request: its plain values, set straight from
    /// the request's facts (the rest loaded as they are read). Building them into a JSON object
    /// first cost about 4,000 instructions more a request; loading each as it is first read, as
    /// the rest are, cost more than setting them all, in the loader's own Lua instructions, each
    /// under the budget's count hook.
    fn context(&mut self, call: &HookCall<'_>) -> mlua::Result<Table> {
        if let Some((id, t)) = &self.context {
            if *id == call.context.id {
                return Ok(t.clone());
            }
        }
        let t = sandbox::host_work(&self.lua, |lua| {
            let plain = call.context.plain();
            let t = lua.create_table_with_capacity(0, plain.len())?;
            for (name, value) in plain {
                if let Some(value) = value {
                    sandbox::set_json(lua, &t, name, &value, None)?;
                }
            }
            Ok(t)
        })?;
        self.context = Some((call.context.id, t.clone()));
        Ok(t)
    }

    fn call(
        &mut self,
        shape: RequestProperties,
        hook: &Hook,
        event: HookEvent,
        call: &HookCall<'_>,
        lines: bool,
    ) -> Result<Option<HookDecision>, HookFailure> {
        let name = hook.name.as_str();
        let fail = |e: &mlua::Error| failure(name, e);
        let main = self.main(hook)?;
        let request = self.request(call).map_err(|e| fail(&e))?;
        let context = self.context(call).map_err(|e| fail(&e))?;
        self.restart(call.now, call.seed ^ fxhash(&call.request.id));
        let (lua, prelude) = (&self.lua, &self.prelude);
        let view = call.view;
        let result = lua.scope(|scope| {
            // The host of this call: the request and ctx's lazy fields on first read, and the
            // `ctx` queries.
            let host = scope.create_function(move |lua, (kind, arg): (mlua::String, Value)| {
                let answer = match &*kind.as_bytes() {
                    b"plain" => {
                        // The event's request's plain values (not its objects), into the inner
                        // table every call of the event views, on a hook's first read of it.
                        let request = call.request;
                        return sandbox::host_work(lua, |lua| {
                            if let Value::Table(inner) = arg {
                                for &name in shape.names.iter().filter(|n| !shape.objects.contains(n)) {
                                    if let Some(value) = (shape.property)(request, name) {
                                        sandbox::set_json(lua, &inner, name, &value, None)?;
                                    }
                                }
                            }
                            Ok(Value::Nil)
                        });
                    }
                    b"request" => {
                        // The event's request as `shape` shows it, for the inner table every call
                        // of the event views: one property (a string key), or every property not
                        // read yet (the table, for `pairs` and `#`).
                        let request = call.request;
                        return sandbox::host_work(lua, |lua| match arg {
                            Value::String(name) => {
                                match name.to_str().ok().and_then(|n| (shape.property)(request, &n)) {
                                    Some(value) => sandbox::json_to_lua(lua, &value, None),
                                    None => Ok(Value::Nil),
                                }
                            }
                            Value::Table(inner) => {
                                for &name in shape.names {
                                    if inner.raw_get::<Value>(name)?.is_nil() {
                                        if let Some(value) = (shape.property)(request, name) {
                                            sandbox::set_json(lua, &inner, name, &value, None)?;
                                        }
                                    }
                                }
                                Ok(Value::Nil)
                            }
                            _ => Ok(Value::Nil),
                        });
                    }
                    field @ (b"caller" | b"principal" | b"role" | b"policy" | b"groupRoles") => {
                        let field = std::str::from_utf8(field).unwrap_or_default();
                        let value = call
                            .context
                            .field(field, view)
                            .map_err(|e| mlua::Error::RuntimeError(e.message))?;
                        return sandbox::host_work(lua, |lua| sandbox::json_to_lua(lua, value, None));
                    }
                    b"groups" => view.groups(&String::from_lua(arg, lua)?),
                    listing @ (b"eligibilities" | b"assignments") => {
                        let (p, r): (Option<String>, Option<String>) =
                            match Option::<Table>::from_lua(arg, lua)? {
                                Some(t) => (t.get("principal")?, t.get("role")?),
                                None => (None, None),
                            };
                        match listing {
                            b"eligibilities" => view.eligibilities(p.as_deref(), r.as_deref()),
                            _ => view.assignments(p.as_deref(), r.as_deref()),
                        }
                    }
                    other => {
                        let other = String::from_utf8_lossy(other);
                        return Err(mlua::Error::RuntimeError(format!("ctx has no query '{other}'")));
                    }
                };
                // A query's answer, charged to the hook's budget by its size.
                let answer = answer.map_err(|e| mlua::Error::RuntimeError(e.message))?;
                sandbox::charge(lua, query_cost(&answer))?;
                sandbox::host_work(lua, |lua| sandbox::json_to_lua(lua, &answer, None))
            })?;
            // From here on, the hook's code runs, under the budget.
            sandbox::arm_with(lua, lines)?;
            let ran = prelude.call(lua, &main, event.handler(), (request, context), host)?;
            let (defined, handler) = match ran_handlers(name, ran) {
                Ok(pair) => pair,
                Err(f) => return Err(mlua::Error::external(HookSetupError(f))),
            };
            let (handler, value) = match handler {
                None => return Ok((defined, None)),
                Some(Returned::Nil) => return Ok((defined, Some(Ok(HookDecision::Allow)))),
                Some(Returned::Value(handler, value)) => (handler, value),
            };
            // Converted while the budget still runs: a returned table's metamethods are the hook's.
            let decision = decision::convert(event, value)
                .map_err(|message| (message, handler.info().line_defined.map(|l| l as u32)));
            Ok((defined, Some(decision)))
        });
        sandbox::disarm(lua);
        // Out of budget or time: that is how the call ended, whatever the hook raised after it.
        if let Some(ended) = sandbox::spent(lua) {
            return Err(failure(name, &mlua::Error::RuntimeError(ended)));
        }
        let (defined, decided) = match result {
            Ok(done) => done,
            Err(e) => {
                if let Some(HookSetupError(f)) = find_setup_error(&e) {
                    return Err(f);
                }
                return Err(failure_at(name, &e, sandbox::last_position(lua)));
            }
        };
        if let Some(c) = self.compiled.get_mut(name) {
            c.handlers = Some(defined);
        }
        let Some(decision) = decided else {
            return Ok(None);
        };
        decision.map(Some).map_err(|(message, line)| HookFailure { hook: name.to_string(), line, message })
    }

    /// Whether the hook is known not to handle `event` (its table had no such handler).
    fn skips(&self, hook: &Hook, event: HookEvent) -> bool {
        self.compiled.get(&hook.name).is_some_and(|c| {
            c.source == hook.source && c.handlers.as_ref().is_some_and(|h| !h.contains(&event.handler()))
        })
    }
}

impl HookRunner for LuaHooks {
    fn properties(
        &self,
        file: &str,
        source: &str,
    ) -> Result<Box<dyn crate::model::property::Judge>, ApiError> {
        Ok(Box::new(super::properties::load(file, source)?))
    }

    fn check(&self, name: &str, source: &str) -> Result<Vec<String>, HookFailure> {
        // A state of its own: nothing of a hook that is not yet stored stays behind.
        let p = Prepared::new(self.limits).map_err(|e| failure(name, &e))?;
        let main = compile(&p.lua, name, source)?;
        p.restart(chrono::DateTime::UNIX_EPOCH, 0);
        let fail = |e: mlua::Error| failure(name, &e);
        let table = || p.lua.create_table().map_err(fail);
        let (request, ctx) = (table()?, table()?);
        let host = p.lua.create_function(|_, ()| Ok(())).map_err(fail)?;
        // Without following lines (a call into the host per line, even of `while true do end`,
        // would meet the deadline before the budget); running out still names the line.
        sandbox::arm_with(&p.lua, false).map_err(fail)?;
        // The chunk runs and its table is checked; no handler is called (there is no event "").
        let ran = p.prelude.call(&p.lua, &main, "", (request, ctx), host);
        sandbox::disarm(&p.lua);
        if let Some(ended) = sandbox::spent(&p.lua) {
            return Err(failure(name, &mlua::Error::RuntimeError(ended)));
        }
        let ran = ran.map_err(|e| failure_at(name, &e, sandbox::last_position(&p.lua)))?;
        let (defined, _) = ran_handlers(name, ran)?;
        if defined.is_empty() {
            return Err(HookFailure {
                hook: name.to_string(),
                line: None,
                message: format!("the table has no handler ({})", HANDLERS.join(", ")),
            });
        }
        let mut names: Vec<String> = defined.iter().map(|h| h.to_string()).collect();
        names.sort();
        Ok(names)
    }

    fn call(
        &self,
        hook: &Hook,
        event: HookEvent,
        call: &HookCall<'_>,
    ) -> Result<Option<HookDecision>, HookFailure> {
        let mut slot = self.state.borrow_mut();
        if slot.as_ref().is_some_and(|p| p.skips(hook, event)) {
            return Ok(None);
        }
        if slot
            .as_ref()
            .is_some_and(|p| p.compiled.len() >= MAX_COMPILED && !p.compiled.contains_key(&hook.name))
        {
            *slot = None;
        }
        if slot.is_none() {
            *slot = Some(Prepared::new(self.limits).map_err(|e| failure(&hook.name, &e))?);
        }
        let prepared = slot.as_mut().expect("prepared above");
        let result = prepared.call(self.request, hook, event, call, false);
        let Err(failed) = result else {
            return result;
        };
        // Whatever the failure left behind in the state goes with it.
        *slot = None;
        if failed.line.is_some()
            || !(failed.message.contains("memory limit exceeded")
                || failed.message.contains(sandbox::BUDGET_EXHAUSTED))
        {
            return Err(failed);
        }
        // Out of memory, or out of budget in a query, says nothing of where the script was: the
        // same call again, in a new state and following the script's lines, finds the line. The
        // call reads and decides, and writes nothing, so running it again changes nothing.
        let again = Prepared::new(self.limits)
            .map_err(|e| failure(&hook.name, &e))
            .and_then(|mut p| p.call(self.request, hook, event, call, true));
        match again {
            Err(placed) if placed.line.is_some() && same_failure(&placed, &failed) => Err(placed),
            _ => Err(failed),
        }
    }
}

/// Whether a failure found again (with its line) is the one first seen (without).
fn same_failure(placed: &HookFailure, first: &HookFailure) -> bool {
    [sandbox::BUDGET_EXHAUSTED, "memory limit exceeded"]
        .iter()
        .any(|kind| placed.message.contains(kind) && first.message.contains(kind))
}

/// A hook that failed while loading (a top-level error, not a table of handlers), carried out of
/// `Lua::scope` as an external error.
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
