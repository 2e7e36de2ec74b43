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
use mlua::{ChunkMode, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState};
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
    pub const SCENARIO: Limits = Limits { memory: 256 * 1024 * 1024, instructions: 2_000_000_000 };
}

/// The instruction hook fires every `STEP` instructions.
const STEP: u32 = 1000;

/// A fresh sandboxed state. `clock` is what `os.time()` and `os.date()` read (a scenario moves it
/// as its simulated clock moves).
pub fn new_state(limits: Limits, clock: Rc<Cell<Timestamp>>, seed: u64) -> mlua::Result<Lua> {
    let lua = Lua::new_with(
        StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::UTF8 | StdLib::COROUTINE,
        LuaOptions::new(),
    )?;
    lua.set_memory_limit(limits.memory)?;
    let used = Rc::new(Cell::new(0u64));
    let budget = limits.instructions;
    let counter = used.clone();
    lua.set_hook(HookTriggers::new().every_nth_instruction(STEP), move |_lua, debug| {
        let n = counter.get() + u64::from(STEP);
        counter.set(n);
        if n > budget {
            // Point at the script's line, as Lua's own errors do (`name:line: message`).
            let source = debug.source();
            let chunk = source.short_src.as_deref().unwrap_or("?").to_string();
            let line = debug.current_line().map_or(String::from("?"), |l| l.to_string());
            return Err(mlua::Error::RuntimeError(format!(
                "{chunk}:{line}: instruction budget exhausted ({budget} instructions); is there an endless loop?"
            )));
        }
        Ok(VmState::Continue)
    })?;
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
    let clock_used = used.clone();
    os.raw_set("clock", lua.create_function(move |_, ()| Ok(clock_used.get() as f64 / 1.0e8))?)?;
    globals.raw_set("os", os)?;

    // `math.random` from a seeded generator.
    let rng = Rc::new(RefCell::new(ChaCha8Rng::seed_from_u64(seed)));
    let math: Table = globals.get("math")?;
    let r = rng.clone();
    math.raw_set(
        "random",
        lua.create_function(move |_, (m, n): (Option<i64>, Option<i64>)| {
            let mut rng = r.borrow_mut();
            let (lo, hi) = match (m, n) {
                (None, _) => return Ok(Value::Number((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64)),
                (Some(m), None) => (1, m),
                (Some(m), Some(n)) => (m, n),
            };
            if lo > hi {
                return Err(mlua::Error::RuntimeError("bad argument to 'random' (interval is empty)".into()));
            }
            let span = (hi - lo) as u64 + 1;
            Ok(Value::Integer(lo + (rng.next_u64() % span) as i64))
        })?,
    )?;
    math.raw_set(
        "randomseed",
        lua.create_function(move |_, s: Option<i64>| {
            *rng.borrow_mut() = ChaCha8Rng::seed_from_u64(s.unwrap_or(0) as u64 ^ seed);
            Ok(())
        })?,
    )?;
    // Hooks print nothing; the scenario runner installs its own `print`.
    globals.raw_set("print", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
    Ok(lua)
}

/// Makes a value deep read-only: writes raise "read-only"; `pairs`, `ipairs` and `#` still work.
pub const FREEZE: &str = r#"
local function freeze(t)
  if type(t) ~= "table" then return t end
  local inner = {}
  for k, v in next, t do inner[k] = freeze(v) end
  return setmetatable({}, {
    __index = inner,
    __newindex = function(_, k) error("attempt to change read-only field '" .. tostring(k) .. "'", 2) end,
    __pairs = function() return next, inner, nil end,
    __len = function() return #inner end,
    __metatable = "read-only",
  })
end
return freeze
"#;

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
