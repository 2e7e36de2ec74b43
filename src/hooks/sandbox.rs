//! The Lua sandbox every hook and scenario runs in.
//!
//! Only the safe parts of the standard library: base (without `dofile`, `loadfile`,
//! `collectgarbage`, and with a `load` that takes text only), `table`, `string` (without `dump`),
//! `math`, `utf8`, `coroutine`. `os` has only `time`, `date` and `clock`, and they read the
//! simulated clock; `math.random` is seeded from the store, so runs are reproducible. Each state
//! has a memory limit and an instruction budget; coroutines inherit the budget (Lua 5.4 copies a
//! thread's hook into the threads it creates, and the count is shared).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use chrono::{Datelike, TimeZone, Timelike, Utc};
use mlua::{ChunkMode, DebugEvent, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use crate::model::Timestamp;

/// How much a script may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of Lua memory.
    pub memory: usize,
    /// Lua VM instructions per call (counted in steps of [`STEP`]).
    pub instructions: u64,
}

impl Limits {
    /// For a policy hook: it runs inside a request, so it must be quick.
    pub const HOOK: Limits = Limits { memory: 16 * 1024 * 1024, instructions: 2_000_000 };
    /// For a scenario script or a REPL line: generous, but not unbounded.
    pub const SCENARIO: Limits = Limits { memory: 256 * 1024 * 1024, instructions: 200_000_000 };
}

/// The instruction hook fires every `STEP` instructions.
const STEP: u32 = 1000;

/// What a script has used of its instruction budget, shared by every thread of its state (and
/// charged by the host for work done on its behalf, such as `ctx` queries).
#[derive(Clone)]
struct Budget {
    used: Rc<Cell<u64>>,
    limit: u64,
    /// The script's chunk and line at the last line event, so errors without a position (memory,
    /// the budget) can name one.
    chunk: Rc<RefCell<String>>,
    line: Rc<Cell<usize>>,
}

/// The text of the budget error: `pcall` and friends let it through (see the prelude).
pub const BUDGET_EXHAUSTED: &str = "instruction budget exhausted";

impl Budget {
    fn spend(&self, n: u64) -> mlua::Result<()> {
        let used = self.used.get().saturating_add(n);
        self.used.set(used);
        if used > self.limit {
            let at = self.position().map(|p| format!("{p}: ")).unwrap_or_default();
            return Err(mlua::Error::RuntimeError(format!(
                "{at}{BUDGET_EXHAUSTED} ({} instructions); is there an endless loop?",
                self.limit
            )));
        }
        Ok(())
    }

    fn position(&self) -> Option<String> {
        let chunk = self.chunk.borrow();
        (!chunk.is_empty()).then(|| format!("{chunk}:{}", self.line.get()))
    }
}

/// Starts counting: from now on the state's code runs under the instruction budget (and every
/// thread it creates), following the script line by line. pimlab's own trusted Lua (the prelude,
/// building a call's environment and views) runs before, unmetered; [`disarm`] stops counting.
pub fn arm(lua: &Lua) -> mlua::Result<()> {
    arm_with(lua, true)
}

/// [`arm`], with or without following the script's lines. Lines are what lets an error without a
/// position of its own (out of memory; the budget spent by the host on the script's behalf) name
/// the script's line; following them costs a call into the host for every line the script runs.
/// Without them, running out of budget inside the script still names the line it was on.
pub fn arm_with(lua: &Lua, lines: bool) -> mlua::Result<()> {
    let budget = lua.app_data_ref::<Budget>().map(|b| b.clone()).expect("new_state sets the budget");
    let triggers = match lines {
        true => HookTriggers::new().every_nth_instruction(STEP).every_line(),
        false => HookTriggers::new().every_nth_instruction(STEP),
    };
    // A global hook: mlua runs it for every thread, coroutines included (a per-thread hook is
    // dropped in the threads Lua creates).
    lua.set_global_hook(triggers, move |_lua, debug| {
        let at_script_line = || {
            // The prelude is loaded without line information, so its lines (the views'
            // `__index`, `pairs`, the guarded string functions) stop here, cheaply.
            let line = debug.current_line()?;
            let source = debug.source();
            let chunk = source.short_src.as_deref().unwrap_or("?");
            if chunk != "sandbox" && chunk != "pim" {
                budget.line.set(line);
                let mut last = budget.chunk.borrow_mut();
                if *last != chunk {
                    last.clear();
                    last.push_str(chunk);
                }
            }
            Some(())
        };
        match debug.event() {
            DebugEvent::Line => {
                at_script_line();
                Ok(VmState::Continue)
            }
            _ => {
                if !lines && budget.used.get().saturating_add(u64::from(STEP)) > budget.limit {
                    // About to run out: name where the script is.
                    at_script_line();
                }
                budget.spend(u64::from(STEP)).map(|()| VmState::Continue)
            }
        }
    })?;
    Ok(())
}

/// Stops counting (the state's own thread; threads the script created are not run again).
pub fn disarm(lua: &Lua) {
    lua.remove_hook();
}

/// Gives the state its whole instruction budget again (a REPL session before each line, a hook
/// before each call) and forgets where the last script was.
pub fn restart_budget(lua: &Lua) {
    if let Some(budget) = lua.app_data_ref::<Budget>() {
        budget.used.set(0);
        budget.chunk.borrow_mut().clear();
        budget.line.set(0);
    }
}

/// Runs the host's own trusted work on the state (converting the engine's values into tables) with
/// the memory limit lifted, so mlua builds them without a protected call per field; the limit is
/// back before any script runs again. Never run a script's code inside.
pub fn host_work<T>(lua: &Lua, work: impl FnOnce(&Lua) -> mlua::Result<T>) -> mlua::Result<T> {
    /// Puts the limit back however `work` ends (an error, a panic).
    struct Restore<'a>(&'a Lua, usize);
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let _ = self.0.set_memory_limit(self.1);
        }
    }
    let _restore = Restore(lua, lua.set_memory_limit(0)?);
    work(lua)
}

/// The engine's JSON as Lua values (`null` is `nil`), built the way mlua's serde path builds them
/// but much faster inside [`host_work`]: there, keys and string values go straight onto Lua's
/// stack, where mlua's serializer makes a registry handle for every string (which cost more than
/// all the rest of a hook call). `arrays`: a metatable for every array (mlua's
/// `array_metatable`, so that a script's tables convert back to JSON arrays, empty ones included).
pub fn json_to_lua(lua: &Lua, value: &serde_json::Value, arrays: Option<&Table>) -> mlua::Result<Value> {
    use serde_json::Value as J;
    Ok(match value {
        J::Null => Value::Nil,
        J::Bool(b) => Value::Boolean(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::String(lua.create_string(s)?),
        J::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                match item {
                    J::String(s) => t.raw_set(i + 1, s.as_str())?,
                    other => t.raw_set(i + 1, json_to_lua(lua, other, arrays)?)?,
                }
            }
            if let Some(mt) = arrays {
                t.set_metatable(Some(mt.clone()))?;
            }
            Value::Table(t)
        }
        J::Object(fields) => {
            let t =
                lua.create_table_from(fields.iter().filter_map(|(k, v)| Some((k.as_str(), v.as_str()?))))?;
            for (k, v) in fields {
                if !matches!(v, J::String(_) | J::Null) {
                    t.raw_set(k.as_str(), json_to_lua(lua, v, arrays)?)?;
                }
            }
            Value::Table(t)
        }
    })
}

/// Charges `instructions` to the state's budget: the host's work for a script (a query, a command)
/// costs it as Lua's own instructions would, so loops of such calls end too.
pub fn charge(lua: &Lua, instructions: u64) -> mlua::Result<()> {
    match lua.app_data_ref::<Budget>() {
        Some(b) => b.clone().spend(instructions),
        None => Ok(()),
    }
}

/// Where the script was at the last line event (`chunk:line`), for errors without a position.
pub fn last_position(lua: &Lua) -> Option<String> {
    lua.app_data_ref::<Budget>().and_then(|b| b.position())
}

/// The state's random numbers: the generator and the seed `math.randomseed` mixes in.
#[derive(Clone)]
struct Dice {
    rng: Rc<RefCell<ChaCha8Rng>>,
    seed: Rc<Cell<u64>>,
}

/// Restarts `math.random` from `seed`, as a new state seeded with it would (a hook, each call).
pub fn reseed(lua: &Lua, seed: u64) {
    if let Some(dice) = lua.app_data_ref::<Dice>() {
        dice.seed.set(seed);
        *dice.rng.borrow_mut() = ChaCha8Rng::seed_from_u64(seed);
    }
}

/// A fresh sandboxed state. `clock` is what `os.time()` and `os.date()` read (a scenario moves it
/// as its simulated clock moves).
pub fn new_state(limits: Limits, clock: Rc<Cell<Timestamp>>, seed: u64) -> mlua::Result<Lua> {
    let lua = Lua::new_with(
        StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::UTF8 | StdLib::COROUTINE,
        LuaOptions::new(),
    )?;
    lua.set_memory_limit(limits.memory)?;
    let budget = Budget {
        used: Rc::new(Cell::new(0)),
        limit: limits.instructions,
        chunk: Rc::new(RefCell::new(String::new())),
        line: Rc::new(Cell::new(0)),
    };
    lua.set_app_data(budget);
    let globals = lua.globals();
    for name in ["dofile", "loadfile", "collectgarbage", "require", "load"] {
        globals.raw_set(name, Value::Nil)?;
    }
    let string: Table = globals.get("string")?;
    string.raw_set("dump", Value::Nil)?;

    // `load` compiles text only (never bytecode), into the sandbox's own globals by default.
    let load = lua.create_function(
        |lua, (chunk, name, mode, env): (Value, Option<String>, Option<String>, Option<Table>)| {
            let Value::String(text) = chunk else {
                return Ok((
                    Value::Nil,
                    Value::String(lua.create_string("load: only a string chunk is allowed here")?),
                ));
            };
            if mode.as_deref().is_some_and(|m| m != "t") {
                return Ok((
                    Value::Nil,
                    Value::String(
                        lua.create_string("load: binary chunks are not allowed (mode must be \"t\")")?,
                    ),
                ));
            }
            let bytes = text.as_bytes().to_vec();
            if bytes.first() == Some(&0x1b) {
                return Ok((
                    Value::Nil,
                    Value::String(lua.create_string("load: binary chunks are not allowed")?),
                ));
            }
            let mut chunk =
                lua.load(bytes).set_mode(ChunkMode::Text).set_name(name.unwrap_or_else(|| "=(load)".into()));
            if let Some(env) = env {
                chunk = chunk.set_environment(env);
            }
            match chunk.into_function() {
                Ok(f) => Ok((Value::Function(f), Value::Nil)),
                Err(e) => Ok((Value::Nil, Value::String(lua.create_string(e.to_string())?))),
            }
        },
    )?;
    globals.raw_set("load", load)?;

    // `os`: the simulated clock only.
    let os = lua.create_table()?;
    let time_clock = clock.clone();
    os.raw_set(
        "time",
        lua.create_function(move |_, t: Option<Table>| match t {
            None => Ok(time_clock.get().timestamp()),
            Some(t) => {
                let get =
                    |k: &str, d: i64| -> mlua::Result<i64> { Ok(t.get::<Option<i64>>(k)?.unwrap_or(d)) };
                let (y, mo, d) = (get("year", 1970)?, get("month", 1)?, get("day", 1)?);
                let (h, mi, s) = (get("hour", 12)?, get("min", 0)?, get("sec", 0)?);
                Utc.with_ymd_and_hms(y as i32, mo as u32, d as u32, h as u32, mi as u32, s as u32)
                    .single()
                    .map(|t| t.timestamp())
                    .ok_or_else(|| {
                        mlua::Error::RuntimeError("os.time: the table does not name a valid time".into())
                    })
            }
        })?,
    )?;
    os.raw_set(
        "date",
        lua.create_function(move |lua, (format, time): (Option<String>, Option<i64>)| {
            let now = clock.get();
            let now_secs = now.timestamp();
            let format = format.unwrap_or_else(|| "%c".into());
            let format = format.strip_prefix('!').unwrap_or(&format).to_string();
            let t = Utc.timestamp_opt(time.unwrap_or(now_secs), 0).single().unwrap_or(now);
            if format.starts_with("*t") {
                let table = lua.create_table()?;
                table.raw_set("year", t.year())?;
                table.raw_set("month", t.month())?;
                table.raw_set("day", t.day())?;
                table.raw_set("hour", t.hour())?;
                table.raw_set("min", t.minute())?;
                table.raw_set("sec", t.second())?;
                table.raw_set("wday", t.weekday().number_from_sunday())?;
                table.raw_set("yday", t.ordinal())?;
                table.raw_set("isdst", false)?;
                return Ok(Value::Table(table));
            }
            let mut out = String::new();
            use std::fmt::Write as _;
            if write!(out, "{}", t.format(&format)).is_err() {
                return Err(mlua::Error::RuntimeError(format!("os.date: bad format '{format}'")));
            }
            Ok(Value::String(lua.create_string(out)?))
        })?,
    )?;
    let clock_used = lua.app_data_ref::<Budget>().map(|b| b.used.clone()).expect("set above");
    os.raw_set("clock", lua.create_function(move |_, ()| Ok(clock_used.get() as f64 / 1.0e8))?)?;
    os.raw_set("difftime", lua.create_function(|_, (a, b): (f64, Option<f64>)| Ok(a - b.unwrap_or(0.0)))?)?;
    globals.raw_set("os", os)?;

    // `math.random` from a seeded generator.
    let dice =
        Dice { rng: Rc::new(RefCell::new(ChaCha8Rng::seed_from_u64(seed))), seed: Rc::new(Cell::new(seed)) };
    lua.set_app_data(dice.clone());
    let rng = dice.rng.clone();
    let math: Table = globals.get("math")?;
    let r = rng.clone();
    math.raw_set(
        "random",
        lua.create_function(move |_, (m, n): (Option<i64>, Option<i64>)| {
            let mut rng = r.borrow_mut();
            let (lo, hi) = match (m, n) {
                (None, _) => return Ok(Value::Number((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64)),
                // Lua 5.4: random(0) is an integer with all bits random.
                (Some(0), None) => return Ok(Value::Integer(rng.next_u64() as i64)),
                (Some(m), None) => (1, m),
                (Some(m), Some(n)) => (m, n),
            };
            if lo > hi {
                return Err(mlua::Error::RuntimeError("bad argument to 'random' (interval is empty)".into()));
            }
            // In i128, so the widest interval (mininteger..maxinteger) neither overflows nor divides by zero.
            let span = (i128::from(hi) - i128::from(lo) + 1) as u128;
            let draw = u128::from(rng.next_u64());
            let offset = if span > u128::from(u64::MAX) { draw } else { draw % span };
            Ok(Value::Integer((i128::from(lo) + offset as i128) as i64))
        })?,
    )?;
    math.raw_set(
        "randomseed",
        lua.create_function(move |_, s: Option<i64>| {
            *rng.borrow_mut() = ChaCha8Rng::seed_from_u64(s.unwrap_or(0) as u64 ^ dice.seed.get());
            Ok(())
        })?,
    )?;
    // Hooks print nothing; the scenario runner installs its own `print`.
    globals.raw_set("print", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
    // The prelude is compiled once per thread and loaded as trusted bytecode (the sandbox's own
    // `load` stays text-only): compiling it in every state cost a quarter of a hook call. It is
    // stripped of line information, so the line hook spends nothing on pimlab's own Lua.
    thread_local! {
        static COMPILED: std::cell::OnceCell<Vec<u8>> = const { std::cell::OnceCell::new() };
    }
    let bytes = COMPILED.with(|c| {
        c.get_or_init(|| {
            Lua::new()
                .load(PRELUDE)
                .set_name("=sandbox")
                .into_function()
                .map(|f| f.dump(true))
                .unwrap_or_default()
        })
        .clone()
    });
    let exports: Table = lua.load(&bytes[..]).set_mode(ChunkMode::Binary).set_name("=sandbox").eval()?;
    lua.set_named_registry_value(PRELUDE_KEY, exports)?;
    Ok(lua)
}

/// Lua run in every new state, trusted (it is pimlab's own, loaded before any script): the
/// protected calls that let the sandbox's fatal errors through, the guarded pattern functions, a
/// `pairs` that visits keys in a stable order (Lua 5.4 seeds its string hashes per state, so the
/// built-in order changes from run to run and would make a script's output irreproducible), and
/// what a hook host drives a call with: `view` (a table shown read-only: writes raise
/// "read-only"; `pairs`, `ipairs` and `#` still work), `fresh_env` (a new global environment for
/// one call), `begin` (a call's environment, views and host), `run` (a hook's chunk and handler,
/// its table checked), `context_lazy` and `lazy_request` (inner tables read on first use).
/// Returns those in a table.
const PRELUDE: &str = include_str!("sandbox.lua");

/// Where a state keeps what its prelude exports.
const PRELUDE_KEY: &str = "pimlab.prelude";

/// The prelude's functions a host drives a call with.
pub struct Prelude {
    view: mlua::Function,
    fresh_env: mlua::Function,
    begin: mlua::Function,
    run: mlua::Function,
    context_lazy: mlua::Function,
    lazy_request: mlua::Function,
}

/// One call's environment and its views of the request and `ctx` (see [`Prelude::begin`]).
pub struct Call {
    pub env: Table,
    pub request: Table,
    pub ctx: Table,
}

impl Prelude {
    pub fn of(lua: &Lua) -> mlua::Result<Prelude> {
        let exports: Table = lua.named_registry_value(PRELUDE_KEY)?;
        Ok(Prelude {
            view: exports.raw_get("view")?,
            fresh_env: exports.raw_get("fresh_env")?,
            begin: exports.raw_get("begin")?,
            run: exports.raw_get("run")?,
            context_lazy: exports.raw_get("context_lazy")?,
            lazy_request: exports.raw_get("lazy_request")?,
        })
    }

    /// A read-only view of `inner`: writes raise "read-only", nested tables are views too.
    pub fn view(&self, inner: Table) -> mlua::Result<Table> {
        self.view.call(inner)
    }

    /// Installs a fresh global environment (copies of the globals and library tables as the state
    /// began) as the state's globals (what `load` compiles into by default), with a new metatable
    /// for strings. Returns it.
    pub fn fresh_env(&self, lua: &Lua) -> mlua::Result<Table> {
        let (env, string_meta): (Table, Table) = self.fresh_env.call(())?;
        install(lua, &env, string_meta)?;
        Ok(env)
    }

    /// The loaders of a `ctx` inner table's `fields`, each read on first use through the host of
    /// the call under way as `host(field)`; one set per inner table, shared by the calls that
    /// view it.
    pub fn context_lazy(&self, fields: &[&str]) -> mlua::Result<Table> {
        self.context_lazy.call(fields.to_vec())
    }

    /// An empty inner table for a request, filled on its first read by the host of the call
    /// under way, as `host("request", inner)`.
    pub fn lazy_request(&self) -> mlua::Result<Table> {
        self.lazy_request.call(())
    }

    /// Starts a hook call: from now until the next call begins, `host(kind, arg)` answers its
    /// `ctx` queries (`eligibilities`, `assignments`, `groups`) and its reads on first use (the
    /// request, ctx's lazy fields); a fresh environment is installed; the request and `ctx`
    /// inner tables get views of this call's own (the `ctx` one with the query functions and
    /// `lazy`'s fields).
    pub fn begin(
        &self,
        lua: &Lua,
        request: Table,
        ctx: Table,
        lazy: Table,
        host: mlua::Function,
    ) -> mlua::Result<Call> {
        let (env, string_meta, request, ctx): (Table, Table, Table, Table) =
            self.begin.call((request, ctx, lazy, host))?;
        install(lua, &env, string_meta)?;
        Ok(Call { env, request, ctx })
    }

    /// Runs a hook's chunk `main` in `env` and its handler for `event` (see the prelude's `run`).
    pub fn run(
        &self,
        main: &mlua::Function,
        env: Table,
        event: &str,
        request: Table,
        ctx: Table,
    ) -> mlua::Result<MultiValue> {
        self.run.call((main, env, event, request, ctx))
    }
}

fn install(lua: &Lua, env: &Table, string_meta: Table) -> mlua::Result<()> {
    lua.set_type_metatable::<mlua::String>(Some(string_meta));
    lua.set_globals(env.clone())
}

/// The line a Lua error message points at (`name:12: message`), and the message without it.
pub fn split_location(message: &str, chunk: &str) -> (Option<u32>, String) {
    let first = message.lines().next().unwrap_or_default();
    let prefix = format!("{chunk}:");
    let rest = first.find(&prefix).map(|i| &first[i + prefix.len()..]);
    if let Some(rest) = rest {
        if let Some((line, msg)) = rest.split_once(':') {
            if let Ok(n) = line.trim().parse::<u32>() {
                return (Some(n), msg.trim().to_string());
            }
        }
    }
    (None, first.trim().trim_start_matches("runtime error: ").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(instructions: u64) -> Lua {
        let clock = Rc::new(Cell::new(Timestamp::default()));
        let lua = new_state(Limits { memory: 16 * 1024 * 1024, instructions }, clock, 1).expect("state");
        arm(&lua).expect("armed");
        lua
    }

    const SPIN: &str = "local n = 0 for i = 1, 20000 do n = n + i end return n";

    #[test]
    fn the_budget_is_shared_by_every_chunk_until_it_is_restarted() {
        let lua = state(500_000);
        let fits = (0..1_000).take_while(|_| lua.load(SPIN).exec().is_ok()).count();
        assert!((1..1_000).contains(&fits), "the budget ran out after {fits} chunks");
        let message = lua.load(SPIN).exec().expect_err("the budget is spent").to_string();
        assert!(message.contains(BUDGET_EXHAUSTED), "{message}");
        restart_budget(&lua);
        let again = (0..1_000).take_while(|_| lua.load(SPIN).exec().is_ok()).count();
        assert_eq!(again, fits, "a restarted budget gives as much again");
    }
}
