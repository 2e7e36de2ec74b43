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
const PRELUDE: &str = r#"
local rawnext, sort, type, tostring, setmetatable, error, select = next, table.sort, type, tostring, setmetatable, error, select
local rawpcall, rawxpcall, resume, find = pcall, xpcall, coroutine.resume, string.find
local inner_of = setmetatable({}, { __mode = "k" })
local fill_of = setmetatable({}, { __mode = "k" })
local lazy_of = setmetatable({}, { __mode = "k" })
local extra_of = setmetatable({}, { __mode = "k" })
local kids_of = setmetatable({}, { __mode = "k" })

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
local gsub = string.gsub
-- Repetitions by pattern, for short patterns (a cache of a pure function, emptied when it grows;
-- short, so what it keeps alive stays small whatever scripts do).
local counted, counted_n = {}, 0
local function quantifiers(p)
  local n = counted[p]
  if n == nil then
    -- `%x` escapes nothing that counts; then every `*`, `+`, `-` and `?` is a repetition.
    n = select(2, gsub(gsub(p, "%%.", ""), "[%*%+%-%?]", ""))
    if #p <= 64 then
      if counted_n >= 256 then counted, counted_n = {}, 0 end
      counted[p], counted_n = n, counted_n + 1
    end
  end
  return n
end
local function guarded(name, f)
  local is_find = name == "find"
  return function(s, p, init, plain, ...)
    if type(s) == "string" and type(p) == "string" and not (is_find and plain) then
      local q = quantifiers(p)
      if #s > 64 and q > 3 then
        error(name .. ": pattern too complex for the sandbox (" .. q .. " repetitions on a subject of "
          .. #s .. " bytes; at most 3 on subjects over 64 bytes)", 2)
      end
      if q > 12 then
        error(name .. ": pattern too complex for the sandbox (" .. q .. " repetitions; at most 12)", 2)
      end
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

-- An inner table filled on first use: `fill_of[inner](inner)` puts every field in.
local function filled(inner)
  local fill = fill_of[inner]
  if fill then
    fill(inner)
    fill_of[inner] = nil
  end
  return inner
end

_G.pairs = function(t)
  local keys = {}
  local inner = inner_of[t]
  if inner then
    filled(inner)
    local lazy = lazy_of[t]
    if lazy then for k in rawnext, lazy do local _ = t[k] end end
    for k in rawnext, inner do keys[#keys + 1] = k end
    local extra = extra_of[t]
    if extra then for k in rawnext, extra do if inner[k] == nil then keys[#keys + 1] = k end end end
  else
    for k in rawnext, t do keys[#keys + 1] = k end
  end
  sort(keys, before)
  local i = 0
  return function()
    i = i + 1
    local k = keys[i]
    if k ~= nil then return k, t[k] end
  end, t, nil
end

-- Read-only views. A view is an empty table whose one shared metatable reads through to an inner
-- table that no script can reach; a nested table is shown as a view of its own, made on first
-- read and kept by its parent. The inner tables can therefore be shared (one request's values by
-- every hook and event), while each call gets views of its own (what a script `rawset`s on one
-- stays with that call). An inner table may be filled on first use (`fill_of`, the request);
-- `lazy_of[view][key]` computes one field on first read (into the inner table, so for every view
-- of it: ctx's caller, principal, role and policy); `extra_of[view][key]` adds fields of this
-- view only (a call's query functions).
local view
local shared = {
  __index = function(p, k)
    local extra = extra_of[p]
    if extra then
      local e = extra[k]
      if e ~= nil then return e end
    end
    local inner = inner_of[p]
    local v = inner[k]
    if v == nil and fill_of[inner] then v = filled(inner)[k] end
    if v == nil then
      local lazy = lazy_of[p]
      local load = lazy and lazy[k]
      if load then
        v = load()
        inner[k] = v
        lazy[k] = nil
      end
    end
    if type(v) == "table" then
      local kids = kids_of[p]
      if not kids then
        kids = {}
        kids_of[p] = kids
      end
      local kid = kids[k]
      if kid == nil then
        kid = view(v)
        kids[k] = kid
      end
      return kid
    end
    return v
  end,
  __newindex = function(_, k) error("attempt to change read-only field '" .. tostring(k) .. "'", 2) end,
  __len = function(p) return #filled(inner_of[p]) end,
  __metatable = "read-only",
}
view = function(inner, lazy, extra)
  local proxy = setmetatable({}, shared)
  inner_of[proxy] = inner
  if lazy then lazy_of[proxy] = lazy end
  if extra then extra_of[proxy] = extra end
  return proxy
end

-- A fresh global environment for one call: copies of the globals and of every library table, as
-- they were when the state was made (a private copy no script can reach), so what one call
-- changes (a global, `string.upper`, `math.random`) no later call sees. With it, a new metatable
-- for strings whose `__index` is that call's `string`.
local LIBS = { "string", "table", "math", "utf8", "coroutine", "os" }
local function copy(t)
  local c = {}
  for k, v in rawnext, t do c[k] = v end
  return c
end
local base = copy(_G)
base._G = nil
local is_lib = {}
for i = 1, #LIBS do
  base[LIBS[i]] = copy(_G[LIBS[i]])
  is_lib[LIBS[i]] = i
end
-- Copying key by key into an empty table grows it again and again; a table constructor is made
-- at its final size. So the copy is a function written for these very keys, compiled once.
local function sorted_keys(t)
  local keys = {}
  for k in rawnext, t do
    if type(k) ~= "string" then error("sandbox: a global table has a key that is not a string") end
    keys[#keys + 1] = k
  end
  sort(keys)
  return keys
end
local format, concat = string.format, table.concat
local code = { "local base = ...\nreturn function()\n" }
for i = 1, #LIBS do
  code[#code + 1] = format("local L%d = base[%q]\nlocal l%d = {", i, LIBS[i], i)
  for _, k in ipairs(sorted_keys(base[LIBS[i]])) do
    code[#code + 1] = format("[%q] = L%d[%q],", k, i, k)
  end
  code[#code + 1] = "}\n"
end
code[#code + 1] = "local env = {"
for _, k in ipairs(sorted_keys(base)) do
  if is_lib[k] then
    code[#code + 1] = format("[%q] = l%d,", k, is_lib[k])
  else
    code[#code + 1] = format("[%q] = base[%q],", k, k)
  end
end
code[#code + 1] = format("}\nenv._G = env\nreturn env, { __index = l%d }\nend\n", is_lib.string)
local copy_env = assert(load(concat(code), "=sandbox", "t", {}))(base)

local function fresh_env()
  local env = copy_env()
  return env, { __index = env.string }
end

-- A hook's `ctx` queries and its policy go through the host of the call under way (a function the
-- host gives each call, gone when the call ends); these wrappers are made once and shared.
local host
local function ask(kind, arg)
  if host == nil then error("ctx is only usable while the hook runs", 3) end
  return host(kind, arg)
end
local ctx_functions = {
  eligibilities = function(filter) return ask("eligibilities", filter) end,
  assignments = function(filter) return ask("assignments", filter) end,
  groups = function(principal) return ask("groups", principal) end,
}
local function context_lazy(fields)
  local lazy = {}
  for _, name in ipairs(fields) do lazy[name] = function() return ask(name) end end
  return lazy
end
-- A request's inner table, filled by the host of the call that first reads it.
local function lazy_request()
  local inner = {}
  fill_of[inner] = function(t) ask("request", t) end
  return inner
end

-- Starts a call: its host, a fresh environment, and its own views of the shared request and ctx.
-- Returns the environment, the metatable for strings, the request and ctx.
local function begin(request, ctx, lazy, call_host)
  host = call_host
  local env, string_meta = fresh_env()
  return env, string_meta, view(request), view(ctx, lazy, ctx_functions)
end
-- Runs a hook's chunk in `env` and, when its table has a handler for `event`, that handler.
-- Returns "ok", which handlers the table has (validate, route, completed: true or false), the
-- handler and what it returned; or what is wrong with the table ("not a table"; "unknown" or
-- "not a function", and the key).
local HANDLERS = { validate = true, route = true, completed = true }
local function run(main, env, event, request, ctx)
  local t = main(env)
  if type(t) ~= "table" then return "not a table" end
  for k, v in rawnext, t do
    if HANDLERS[k] == nil then return "unknown", type(k) == "string" and k or "(not a string)" end
    if type(v) ~= "function" then return "not a function", k end
  end
  local validate, route, completed = t.validate ~= nil, t.route ~= nil, t.completed ~= nil
  local handler = t[event]
  if handler == nil then return "ok", validate, route, completed end
  local result = handler(request, ctx)
  return "ok", validate, route, completed, handler, result
end

return {
  view = view, fresh_env = fresh_env, begin = begin, run = run, context_lazy = context_lazy,
  lazy_request = lazy_request,
}
"#;

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
