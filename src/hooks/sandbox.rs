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
    /// `chunk:line` at the last check, so errors without a position can name one.
    last: Rc<RefCell<String>>,
}

/// The text of the budget error: `pcall` and friends let it through (see the prelude).
pub const BUDGET_EXHAUSTED: &str = "instruction budget exhausted";

impl Budget {
    fn spend(&self, n: u64) -> mlua::Result<()> {
        let used = self.used.get().saturating_add(n);
        self.used.set(used);
        if used > self.limit {
            return Err(mlua::Error::RuntimeError(format!(
                "{}: {BUDGET_EXHAUSTED} ({} instructions); is there an endless loop?",
                self.last.borrow(),
                self.limit
            )));
        }
        Ok(())
    }
}

/// Starts counting: from now on the state's code runs under the instruction budget (and every
/// thread it creates). pimlab's own trusted Lua (the prelude, `freeze`) runs before, unmetered.
pub fn arm(lua: &Lua) -> mlua::Result<()> {
    let budget = lua.app_data_ref::<Budget>().map(|b| b.clone()).expect("new_state sets the budget");
    // A global hook: mlua runs it for every thread, coroutines included (a per-thread hook is
    // dropped in the threads Lua creates).
    // Line events keep track of where the script itself is (not pimlab's own Lua), so errors that
    // carry no position of their own (memory, the budget) can name the script's line.
    lua.set_global_hook(HookTriggers::new().every_nth_instruction(STEP).every_line(), move |_lua, debug| {
        match debug.event() {
            DebugEvent::Line => {
                let source = debug.source();
                let chunk = source.short_src.as_deref().unwrap_or("?");
                if chunk != "sandbox" && chunk != "pim" {
                    let line = debug.current_line().unwrap_or(0);
                    let mut last = budget.last.borrow_mut();
                    last.clear();
                    use std::fmt::Write as _;
                    let _ = write!(last, "{chunk}:{line}");
                }
                Ok(VmState::Continue)
            }
            _ => budget.spend(u64::from(STEP)).map(|()| VmState::Continue),
        }
    })?;
    Ok(())
}

/// Gives the state its whole instruction budget again (a REPL session, before each line).
pub fn restart_budget(lua: &Lua) {
    if let Some(budget) = lua.app_data_ref::<Budget>() {
        budget.used.set(0);
    }
}

/// Charges `instructions` to the state's budget: the host's work for a script (a query, a command)
/// costs it as Lua's own instructions would, so loops of such calls end too.
pub fn charge(lua: &Lua, instructions: u64) -> mlua::Result<()> {
    match lua.app_data_ref::<Budget>() {
        Some(b) => b.clone().spend(instructions),
        None => Ok(()),
    }
}

/// Where the script was at the last budget check (`chunk:line`), for errors without a position.
pub fn last_position(lua: &Lua) -> Option<String> {
    lua.app_data_ref::<Budget>().map(|b| b.last.borrow().clone()).filter(|p| !p.is_empty())
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
        last: Rc::new(RefCell::new(String::new())),
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
    let rng = Rc::new(RefCell::new(ChaCha8Rng::seed_from_u64(seed)));
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
            *rng.borrow_mut() = ChaCha8Rng::seed_from_u64(s.unwrap_or(0) as u64 ^ seed);
            Ok(())
        })?,
    )?;
    // Hooks print nothing; the scenario runner installs its own `print`.
    globals.raw_set("print", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
    // The prelude is compiled once per thread and loaded as trusted bytecode (the sandbox's own
    // `load` stays text-only): compiling it in every state cost a quarter of a hook call.
    thread_local! {
        static COMPILED: std::cell::OnceCell<Vec<u8>> = const { std::cell::OnceCell::new() };
    }
    let bytes = COMPILED.with(|c| {
        c.get_or_init(|| {
            Lua::new()
                .load(PRELUDE)
                .set_name("=sandbox")
                .into_function()
                .map(|f| f.dump(false))
                .unwrap_or_default()
        })
        .clone()
    });
    let freeze: mlua::Function =
        lua.load(&bytes[..]).set_mode(ChunkMode::Binary).set_name("=sandbox").eval()?;
    lua.set_named_registry_value("pimlab.freeze", freeze)?;
    Ok(lua)
}

/// Lua run in every new state: a `pairs` that visits keys in a stable order (Lua 5.4 seeds its
/// string hashes per state, so the built-in order changes from run to run and would make a script's
/// output irreproducible), and `freeze`, which makes a value deep read-only (writes raise
/// "read-only"; `pairs`, `ipairs` and `#` still work). Returns `freeze`.
const PRELUDE: &str = r#"
local rawnext, sort, type, tostring, setmetatable, error, select = next, table.sort, type, tostring, setmetatable, error, select
local rawpcall, rawxpcall, resume, find = pcall, xpcall, coroutine.resume, string.find
local inner_of = setmetatable({}, { __mode = "k" })
local lazy_of = setmetatable({}, { __mode = "k" })

-- The budget and memory errors end the script: protected calls let them through.
local function fatal(e)
  -- pimlab errors are tables (a refused request may quote a hook's budget error): not fatal.
  if type(e) == "table" then return false end
  local text = tostring(e)
  return find(text, "instruction budget exhausted", 1, true) ~= nil or find(text, "not enough memory", 1, true) ~= nil
end
local function rethrow(ok, ...)
  if not ok and fatal((...)) then error((...), 0) end
  return ok, ...
end
_G.pcall = function(f, ...) return rethrow(rawpcall(f, ...)) end
_G.xpcall = function(f, handler, ...)
  return rethrow(rawxpcall(f, function(e) if fatal(e) then return e end return handler(e) end, ...))
end
coroutine.resume = function(co, ...) return rethrow(resume(co, ...)) end

-- Finalizers would run with the budget switched off (Lua disables hooks in them).
-- (Assigned through _G: `function setmetatable` would rebind the local of the same name.)
_G.setmetatable = function(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    error("__gc metamethods are not allowed in the sandbox", 2)
  end
  -- The built-in's own errors ("cannot change a protected metatable") name the caller's line.
  local ok, result = rawpcall(setmetatable, t, mt)
  if not ok then error(result, 2) end
  return result
end

-- Lua matches patterns inside one C call, where the budget cannot interrupt it, and some
-- patterns backtrack exponentially: refuse the ones with many repetitions on long subjects.
local function quantifiers(p)
  local n, i = 0, 1
  while i <= #p do
    local c = p:sub(i, i)
    if c == "%" then i = i + 1 elseif c == "*" or c == "+" or c == "-" or c == "?" then n = n + 1 end
    i = i + 1
  end
  return n
end
local function guarded(name, f)
  return function(s, p, init, plain, ...)
    if type(s) == "string" and type(p) == "string" and not (name == "find" and plain)
        and #s > 64 and quantifiers(p) > 3 then
      error(name .. ": pattern too complex for the sandbox (" .. quantifiers(p) .. " repetitions on a subject of "
        .. #s .. " bytes; at most 3 on subjects over 64 bytes)", 2)
    end
    if type(s) == "string" and type(p) == "string" and not (name == "find" and plain) and quantifiers(p) > 12 then
      error(name .. ": pattern too complex for the sandbox (" .. quantifiers(p) .. " repetitions; at most 12)", 2)
    end
    return f(s, p, init, plain, ...)
  end
end
for _, name in ipairs({ "find", "match", "gmatch", "gsub" }) do
  string[name] = guarded(name, string[name])
end

local function before(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

_G.pairs = function(t)
  local lazy = lazy_of[t]
  if lazy then for k in rawnext, lazy do local _ = t[k] end end
  local target = inner_of[t] or t
  local keys = {}
  for k in rawnext, target do keys[#keys + 1] = k end
  sort(keys, before)
  local i = 0
  return function()
    i = i + 1
    local k = keys[i]
    if k ~= nil then return k, target[k] end
  end, t, nil
end

-- One metatable for every read-only proxy; `lazy_of[proxy][key]` computes a field on first read.
local freeze
local shared = {
  __index = function(p, k)
    local inner = inner_of[p]
    local v = inner[k]
    if v == nil then
      local lazy = lazy_of[p]
      local load = lazy and lazy[k]
      if load then
        v = freeze(load())
        inner[k] = v
        lazy[k] = nil
      end
    end
    return v
  end,
  __newindex = function(_, k) error("attempt to change read-only field '" .. tostring(k) .. "'", 2) end,
  __len = function(p) return #inner_of[p] end,
  __metatable = "read-only",
}
freeze = function(t, lazy)
  if type(t) ~= "table" then return t end
  local inner = {}
  for k, v in rawnext, t do inner[k] = freeze(v) end
  local proxy = setmetatable({}, shared)
  inner_of[proxy] = inner
  if lazy then lazy_of[proxy] = lazy end
  return proxy
end
return freeze
"#;

/// Deep read-only copy of a value, with the state's `freeze`. `lazy` maps fields computed on
/// first read (a table of functions).
pub fn freeze(lua: &Lua, value: Value, lazy: Option<Table>) -> mlua::Result<Value> {
    let f: mlua::Function = lua.named_registry_value("pimlab.freeze")?;
    f.call((value, lazy))
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
