//! The scenario runner: a Lua script with the `pim` API (see `pim.lua`) over a host that runs
//! pimlab command lines. Scripts are sandboxed like hooks (with a larger budget) and get `print`;
//! `pim.expect*` make them tests. Used by `pimlab run` and by the REPL's Lua lines.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use mlua::{Lua, LuaSerdeExt, MultiValue, Table, Value};

use super::sandbox::{self, Limits};
use crate::model::{ApiError, ErrorKind, Timestamp};
use crate::ops::{Operation, SessionOptions};

const PRELUDE: &str = include_str!("pim.lua");

/// What a scenario drives: typed operations, command lines, Graph calls, the caller.
pub trait ScenarioHost {
    /// Runs one typed operation; its outcome as JSON (what `--json` prints).
    fn apply(&mut self, op: &Operation, session: &SessionOptions) -> Result<serde_json::Value, ApiError>;
    /// Parses and runs one command line (words, without `pimlab`): `pim.run`.
    fn command(&mut self, words: &[String]) -> Result<serde_json::Value, ApiError>;
    /// One call of a wire API through its router (Graph, ARM): status and body.
    fn call_api(
        &mut self,
        api: WireApi,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> (u16, Option<serde_json::Value>);
    /// Acts as `principal` (with or without MFA) until `restore_caller`.
    fn set_caller(&mut self, principal: &str, mfa: bool) -> Result<(), ApiError>;
    fn restore_caller(&mut self);
    /// The simulated time.
    fn now(&mut self) -> Timestamp;
    /// The store's seed (for `math.random`).
    fn seed(&mut self) -> u64;
    /// A flag that, once raised, stops the script at its next step with
    /// [`sandbox::INTERRUPTED`] (Ctrl-C in `pimlab run`); none by default.
    fn stop_flag(&self) -> Option<Arc<AtomicBool>> {
        None
    }
}

/// The wire APIs a script can call (`pim.graph`, `pim.arm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireApi {
    Graph,
    Arm,
}

/// How a script ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub passed: u32,
    pub failed: u32,
    /// The error that stopped the script, if one did.
    pub error: Option<String>,
    /// The script's last value, rendered (for the REPL).
    pub value: Option<String>,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.failed == 0 && self.error.is_none()
    }
}

/// What a host call gives the prelude: `true` and the decoded result, or `false` and the error.
/// The result is built as mlua's serde path would (`null` is `nil`, arrays carry mlua's array
/// metatable), by the sandbox's faster converter: with mlua's, converting a request's Graph JSON
/// cost more than a tenth of a whole `pim.activate`.
fn answer(lua: &Lua, r: Result<serde_json::Value, ApiError>) -> mlua::Result<(bool, Value)> {
    match r {
        Ok(v) => {
            let arrays = lua.array_metatable();
            Ok((true, sandbox::host_work(lua, |lua| sandbox::json_to_lua(lua, &v, Some(&arrays)))?))
        }
        Err(e) => Ok((false, Value::Table(error_table(lua, &e)?))),
    }
}

/// A refusal as scripts see it, built from the structured error (never from its text): `code`,
/// `status`, `message`, `details` ({code, target, message}), `rules` (the policy rules a refused
/// request broke) and `kind`. A usage error keeps the code `Usage` and status 2 scripts know.
fn error_table(lua: &Lua, e: &ApiError) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let usage = e.kind == ErrorKind::Usage;
    t.raw_set("code", if usage { "Usage" } else { e.code.as_str() })?;
    t.raw_set("status", if usage { 2 } else { e.status })?;
    t.raw_set("message", e.message.clone())?;
    t.raw_set("kind", format!("{:?}", e.kind).to_lowercase())?;
    let details = lua.create_table()?;
    let rules = lua.create_table()?;
    for d in &e.details {
        let row = lua.create_table()?;
        row.raw_set("code", d.code.clone())?;
        row.raw_set("target", d.target.clone())?;
        let message = match &d.hint {
            Some(h) => format!("{}. Fix: {}", d.message, super::hints::script_words(h)),
            None => d.message.clone(),
        };
        row.raw_set("message", message)?;
        details.raw_push(row)?;
    }
    for rule in e.failed_rules() {
        rules.raw_push(rule)?;
    }
    t.raw_set("details", details)?;
    t.raw_set("rules", rules)?;
    let hints: Vec<String> = e.hints.iter().map(super::hints::script_words).collect();
    t.raw_set("hints", hints)?;
    Ok(t)
}

/// The same JSON with object keys in sorted order: Lua tables have no order of their own (and
/// Lua 5.4 changes it from run to run), so rendering them sorted keeps output reproducible.
fn sorted(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut entries: Vec<(String, serde_json::Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Renders a Lua value for the REPL: JSON for tables, plain text otherwise.
fn show(lua: &mlua::Lua, v: &Value) -> Option<String> {
    match v {
        Value::Nil => None,
        Value::String(s) => Some(s.to_string_lossy().to_string()),
        Value::Table(t) => {
            // A pimlab error prints as one line.
            if let Ok(Some(code)) = t.get::<Option<String>>("code") {
                let message: Option<String> = t.get("message").ok().flatten();
                return Some(format!("error: {code}: {}", message.unwrap_or_default()));
            }
            lua.from_value::<serde_json::Value>(v.clone())
                .ok()
                .and_then(|j| serde_json::to_string_pretty(&sorted(j)).ok())
                .or_else(|| Some(format!("{v:?}")))
        }
        other => other.to_string().ok(),
    }
}

/// The longest line a script may print (each line is written out as it is printed, but it is
/// built outside Lua's memory limit first).
pub const MAX_PRINTED_LINE: usize = 16 * 1024 * 1024;

/// Where a state keeps its host table and its `pim` API between chunks.
const HOST_KEY: &str = "pimlab.host";
const PIM_KEY: &str = "pimlab.pim";

/// Runs a scenario script named `chunk`. `print` receives each line the script prints.
pub fn run(source: &str, chunk: &str, host: &mut dyn ScenarioHost, print: &mut dyn FnMut(&str)) -> Outcome {
    run_with(Limits::SCENARIO, source, chunk, host, print)
}

/// [`run`] under other limits (tests use small ones).
pub fn run_with(
    limits: Limits,
    source: &str,
    chunk: &str,
    host: &mut dyn ScenarioHost,
    print: &mut dyn FnMut(&str),
) -> Outcome {
    match LuaSession::new(host, limits) {
        Ok(session) => session.run(source, chunk, host, print),
        Err(error) => Outcome { error: Some(error), ..Default::default() },
    }
}

/// A sandboxed Lua state that outlives one chunk: the REPL runs each `lua` line in the same
/// session, so a global set on one line is there on the next. Each chunk gets the full scenario
/// budget afresh, a fresh `pim` API bound to the host, and the host's current time.
pub struct LuaSession {
    lua: Lua,
    clock: Rc<Cell<Timestamp>>,
}

impl LuaSession {
    /// A session under `limits`: [`Limits::SCENARIO`] for `pimlab run`, [`Limits::REPL_LINE`]
    /// for the REPL (each chunk gets them afresh).
    pub fn new(host: &mut dyn ScenarioHost, limits: Limits) -> Result<LuaSession, String> {
        let clock = Rc::new(Cell::new(host.now()));
        // Without following the script's lines: a call into the host for every line was a
        // tenth of a scenario's request. An error without a position of its own still names the
        // script's line (the budget's count hook, and `charge` from the call stack).
        let lua = sandbox::new_state(limits, clock.clone(), host.seed())
            .and_then(|l| {
                sandbox::arm_with(&l, false)?;
                Ok(l)
            })
            .map_err(|e| e.to_string())?;
        Ok(LuaSession { lua, clock })
    }

    /// Runs one chunk named `chunk`. `print` receives each line it prints.
    pub fn run(
        &self,
        source: &str,
        chunk: &str,
        host: &mut dyn ScenarioHost,
        print: &mut dyn FnMut(&str),
    ) -> Outcome {
        self.clock.set(host.now());
        sandbox::restart_budget(&self.lua);
        sandbox::stop_when(&self.lua, host.stop_flag());
        run_chunk(&self.lua, &self.clock, source, chunk, host, print)
    }
}

fn run_chunk(
    lua: &Lua,
    clock: &Rc<Cell<Timestamp>>,
    source: &str,
    chunk: &str,
    host: &mut dyn ScenarioHost,
    print: &mut dyn FnMut(&str),
) -> Outcome {
    let host = RefCell::new(host);
    let print = RefCell::new(print);
    let options = mlua::SerializeOptions::new().serialize_none_to_null(false).serialize_unit_to_null(false);
    let tick = |host: &mut dyn ScenarioHost| clock.set(host.now());
    let result = lua.scope(|scope| {
        // One host table and one `pim` per state: a later chunk refills the host table with
        // callbacks bound to its own host, so `pim` functions kept from an earlier chunk still work.
        let h = match lua.named_registry_value::<Option<Table>>(HOST_KEY)? {
            Some(h) => h,
            None => {
                let h = lua.create_table()?;
                lua.set_named_registry_value(HOST_KEY, &h)?;
                h
            }
        };
        h.raw_set(
            "op",
            scope.create_function(|lua, (name, args): (String, Value)| {
                // Stopped (Ctrl-C) or out of time: no further operation runs.
                sandbox::charge(lua, 0)?;
                let mut host = host.borrow_mut();
                let r = super::operations::operation(lua, &name, args).and_then(|(op, session)| {
                    let moves_clock = matches!(op, Operation::Clock { .. });
                    let r = host.apply(&op, &session);
                    if moves_clock {
                        tick(&mut **host);
                    }
                    r
                });
                answer(lua, r)
            })?,
        )?;
        h.raw_set(
            "command",
            scope.create_function(|lua, words: Vec<String>| {
                sandbox::charge(lua, 0)?;
                let mut host = host.borrow_mut();
                let r = host.command(&words);
                tick(&mut **host);
                answer(lua, r)
            })?,
        )?;
        for (name, api) in [("graph", WireApi::Graph), ("arm", WireApi::Arm)] {
            let (host, tick) = (&host, &tick);
            h.raw_set(
                name,
                scope.create_function(
                    move |lua, (method, path, body): (String, String, Option<String>)| {
                        sandbox::charge(lua, 0)?;
                        let mut host = host.borrow_mut();
                        let (status, v) = host.call_api(api, &method, &path, body.as_deref());
                        tick(&mut **host);
                        let v = match v {
                            Some(v) => lua.to_value_with(&v, options)?,
                            None => Value::Nil,
                        };
                        Ok((v, status))
                    },
                )?,
            )?;
        }
        h.raw_set(
            "set_caller",
            scope.create_function(|lua, (principal, mfa): (String, bool)| {
                match host.borrow_mut().set_caller(&principal, mfa) {
                    Ok(()) => Ok((true, Value::Nil)),
                    Err(e) => Ok((false, Value::Table(error_table(lua, &e)?))),
                }
            })?,
        )?;
        h.raw_set(
            "restore_caller",
            scope.create_function(|_, ()| {
                host.borrow_mut().restore_caller();
                Ok(())
            })?,
        )?;
        h.raw_set(
            "now",
            scope
                .create_function(|_, ()| Ok(crate::model::time::format_timestamp(host.borrow_mut().now())))?,
        )?;
        h.raw_set(
            "split",
            lua.create_function(|_, line: String| {
                shlex::split(&line).ok_or_else(|| {
                    mlua::Error::RuntimeError(format!(
                        "cannot split '{line}' into words (unbalanced quotes?)"
                    ))
                })
            })?,
        )?;
        h.raw_set(
            "encode",
            lua.create_function(|lua, v: Value| {
                super::depth::check(&v, "pim.json").map_err(mlua::Error::RuntimeError)?;
                let json: serde_json::Value = lua.from_value(v)?;
                Ok(sorted(json).to_string())
            })?,
        )?;
        // Where in the script the current call comes from: the innermost frame of the script itself.
        let script = chunk.to_string();
        h.raw_set(
            "where",
            lua.create_function(move |lua, ()| {
                for level in 1..64 {
                    let frame = lua.inspect_stack(level, |d| {
                        let source = d.source();
                        (source.short_src.map(|s| s.to_string()), d.current_line())
                    });
                    match frame {
                        None => break,
                        Some((Some(src), Some(line))) if src == script => {
                            return Ok(format!("{script}:{line}"));
                        }
                        _ => {}
                    }
                }
                Ok(script.clone())
            })?,
        )?;
        let globals = lua.globals();
        globals.raw_set(
            "print",
            scope.create_function(|_, args: MultiValue| {
                let size: usize =
                    args.iter().map(|v| if let Value::String(s) = v { s.as_bytes().len() } else { 32 }).sum();
                if size > MAX_PRINTED_LINE {
                    return Err(mlua::Error::RuntimeError(format!(
                        "print: a line of {size} bytes; at most {MAX_PRINTED_LINE}"
                    )));
                }
                let text: Vec<String> =
                    args.iter().map(|v| v.to_string().unwrap_or_else(|_| format!("{v:?}"))).collect();
                (print.borrow_mut())(&text.join("\t"));
                Ok(())
            })?,
        )?;
        let pim = match lua.named_registry_value::<Option<Table>>(PIM_KEY)? {
            Some(pim) => pim,
            None => {
                globals.raw_set("__host", h)?;
                let pim: Table = lua.load(PRELUDE).set_name("=pim").eval()?;
                lua.set_named_registry_value(PIM_KEY, &pim)?;
                pim
            }
        };
        globals.raw_set("pim", pim.clone())?;
        let script =
            lua.load(source).set_name(format!("={chunk}")).set_mode(mlua::ChunkMode::Text).into_function()?;
        // A raised table without a way to print itself (`error({code = "X"})`) is shown as JSON,
        // not as an address that changes from run to run.
        let runner: mlua::Function = lua
            .load(
                r#"return function(script)
                  return xpcall(script, function(e)
                    if type(e) == "table" and getmetatable(e) == nil then return "error " .. pim.json(e) end
                    return e
                  end)
                end"#,
            )
            .set_name("=runner")
            .eval()?;
        let mut results = runner.call::<MultiValue>(script)?.into_iter();
        let ok = matches!(results.next(), Some(Value::Boolean(true)));
        let (passed, failed): (u32, u32) = pim.get::<mlua::Function>("summary")?.call(())?;
        if !ok {
            let message = match results.next() {
                Some(Value::String(s)) => s.to_string_lossy().to_string(),
                Some(other) => other.to_string().unwrap_or_else(|_| format!("{other:?}")),
                None => "the script failed".to_string(),
            };
            return Ok(Outcome { passed, failed, error: Some(plain(&message)), value: None });
        }
        let value = results.next();
        // Refused before it is shown: the converters recurse once per level.
        if let Some(Err(e)) = value.as_ref().map(|v| super::depth::check(v, "the script's value")) {
            return Ok(Outcome { passed, failed, error: Some(e), value: None });
        }
        let value = value.and_then(|v| show(lua, &v));
        Ok(Outcome { passed, failed, error: None, value })
    });
    // Out of budget or time: that is how the script ended, whatever its own code raised after.
    if let Some(ended) = sandbox::spent(lua) {
        let (passed, failed) = summary(lua);
        return Outcome { passed, failed, error: Some(ended), value: None };
    }
    match result {
        Ok(o) => o,
        Err(e) => {
            let message = match &e {
                mlua::Error::MemoryError(_) => "memory limit exceeded".to_string(),
                mlua::Error::CallbackError { cause, .. } => cause.to_string(),
                other => other.to_string(),
            };
            let (passed, failed) = summary(lua);
            let first = message.lines().next().unwrap_or_default();
            let error = plain(first);
            Outcome { passed, failed, error: Some(error), value: None }
        }
    }
}

/// An error's first line without mlua's "runtime error: " (its wording of an error the host
/// raised), wherever that lands (after a position, too): noise to a script's author.
fn plain(message: &str) -> String {
    message.lines().next().unwrap_or_default().replacen("runtime error: ", "", 1)
}

/// The `pim.expect*` counts so far (none if the script broke `pim`).
fn summary(lua: &Lua) -> (u32, u32) {
    lua.named_registry_value::<Table>(PIM_KEY)
        .and_then(|p| p.raw_get::<mlua::Function>("summary"))
        .and_then(|f| f.call::<(u32, u32)>(()))
        .unwrap_or((0, 0))
}
