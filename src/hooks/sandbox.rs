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
use std::time::Duration;

use chrono::{Datelike, TimeZone, Timelike, Utc};
use mlua::{ChunkMode, Lua, LuaOptions, MultiValue, StdLib, Table, Value};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use super::budget::Budget;
pub use super::budget::{
    BUDGET_EXHAUSTED, DEADLINE_PASSED, INTERRUPTED, STEP, arm, arm_with, charge, disarm, last_position,
    restart_budget, spent, stop_when,
};
pub use super::memory::host_work;
use crate::model::Timestamp;

/// How much a script may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of Lua memory.
    pub memory: usize,
    /// Lua VM instructions per call (counted in steps of [`STEP`]).
    pub instructions: u64,
    /// Wall time per call: the safety net for work the instruction count does not see.
    pub deadline: Duration,
}

/// How long one hook call may take: it runs inside a request, while the store's write lock is
/// held, so well under a second (250 ms). A debug build (the test suite) runs Lua's C code and
/// SQLite unoptimised, several times slower: it gets [`DEBUG_SLOWDOWN`] times as long, so that
/// there too the instruction budget, not the clock, is what a runaway loop meets first.
pub const HOOK_DEADLINE: Duration = Duration::from_millis(250 * DEBUG_SLOWDOWN);
/// How long `pimlab run` may take.
pub const SCENARIO_DEADLINE: Duration = Duration::from_secs(10 * 60);
/// How long one REPL `lua` line may take.
pub const REPL_LINE_DEADLINE: Duration = Duration::from_secs(60);
/// How long one property may take at one instant (the budget is what a loop meets first).
pub const PROPERTY_DEADLINE: Duration = Duration::from_secs(5 * DEBUG_SLOWDOWN);
/// How much longer a debug build's hook deadline is (see [`HOOK_DEADLINE`]).
const DEBUG_SLOWDOWN: u64 = if cfg!(debug_assertions) { 8 } else { 1 };

impl Limits {
    /// For a policy hook: it runs inside a request, so it must be quick.
    pub const HOOK: Limits =
        Limits { memory: 16 * 1024 * 1024, instructions: 2_000_000, deadline: HOOK_DEADLINE };
    /// For a scenario script: generous, but not unbounded.
    pub const SCENARIO: Limits =
        Limits { memory: 256 * 1024 * 1024, instructions: 200_000_000, deadline: SCENARIO_DEADLINE };
    /// For one REPL `lua` line.
    pub const REPL_LINE: Limits = Limits { deadline: REPL_LINE_DEADLINE, ..Limits::SCENARIO };
    /// For one property at one instant (`check`, `fuzz`): a property runs at every instant of a
    /// history, so each judgement must be quick.
    pub const PROPERTY: Limits =
        Limits { memory: 64 * 1024 * 1024, instructions: 5_000_000, deadline: PROPERTY_DEADLINE };
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
            // At its final size: growing a table as fields arrive rehashes it again and again.
            let t = lua.create_table_with_capacity(0, fields.len())?;
            for (k, v) in fields {
                set_json(lua, &t, k, v, arrays)?;
            }
            Value::Table(t)
        }
    })
}

/// Puts `value` into `t` under `key` as [`json_to_lua`] would convert it (`null` left out), a
/// string straight onto Lua's stack rather than through a handle of its own.
pub fn set_json(
    lua: &Lua,
    t: &Table,
    key: &str,
    value: &serde_json::Value,
    arrays: Option<&Table>,
) -> mlua::Result<()> {
    match value {
        serde_json::Value::String(s) => t.raw_set(key, s.as_str()),
        serde_json::Value::Null => Ok(()),
        other => t.raw_set(key, json_to_lua(lua, other, arrays)?),
    }
}

/// The time `os.date` shows: `time` (seconds since 1970) if given and representable, else `now`.
fn date_of(time: Option<i64>, now: Timestamp) -> Timestamp {
    Utc.timestamp_opt(time.unwrap_or(now.timestamp()), 0).single().unwrap_or(now)
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

/// What compiling one byte of source with `load` costs the budget.
const LOAD_COST_PER_BYTE: u64 = 4;
/// The longest `os.date` format, and the longest result (chrono writes it outside Lua's limit).
const MAX_DATE_FORMAT: usize = 1024;
const MAX_DATE_RESULT: usize = 16 * 1024;

/// A fresh sandboxed state. `clock` is what `os.time()` and `os.date()` read (a scenario moves it
/// as its simulated clock moves).
pub fn new_state(limits: Limits, clock: Rc<Cell<Timestamp>>, seed: u64) -> mlua::Result<Lua> {
    let lua = Lua::new_with(
        StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::UTF8 | StdLib::COROUTINE,
        LuaOptions::new(),
    )?;
    lua.set_memory_limit(limits.memory)?;
    let budget = Budget::new(limits.instructions, limits.deadline);
    lua.set_app_data(budget);
    let globals = lua.globals();
    for name in ["dofile", "loadfile", "collectgarbage", "require", "load"] {
        globals.raw_set(name, Value::Nil)?;
    }
    let string: Table = globals.get("string")?;
    string.raw_set("dump", Value::Nil)?;
    super::strings::install(&lua, &string, limits.memory)?;
    globals.raw_set("__sandbox_spent", lua.create_function(|lua, ()| Ok(spent(lua)))?)?;

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
            // Compiling is work inside one C call: charged by the size of the source.
            charge(lua, text.as_bytes().len() as u64 * LOAD_COST_PER_BYTE)?;
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
    let date_clock = clock.clone();
    os.raw_set(
        "date",
        lua.create_function(move |lua, (format, time): (Option<String>, Option<i64>)| {
            let now = date_clock.get();
            let format = format.unwrap_or_else(|| "%c".into());
            // chrono builds the result outside Lua's memory limit: both are bounded.
            if format.len() > MAX_DATE_FORMAT {
                return Err(mlua::Error::RuntimeError(format!(
                    "os.date: the format is {} bytes; at most {MAX_DATE_FORMAT}",
                    format.len()
                )));
            }
            charge(lua, format.len() as u64)?;
            let format = format.strip_prefix('!').unwrap_or(&format).to_string();
            let t = date_of(time, now);
            let mut out = String::new();
            use std::fmt::Write as _;
            if write!(out, "{}", t.format(&format)).is_err() {
                return Err(mlua::Error::RuntimeError(format!("os.date: bad format '{format}'")));
            }
            if out.len() > MAX_DATE_RESULT {
                return Err(mlua::Error::RuntimeError(format!(
                    "os.date: the result would be {} bytes; at most {MAX_DATE_RESULT}",
                    out.len()
                )));
            }
            Ok(out)
        })?,
    )?;
    // `os.date("*t")`'s fields, which the prelude's `os.date` puts into a table (the format comes
    // first, unread, so that a bad time is still argument 2): a table constructor in Lua costs a
    // tenth of nine `raw_set`s from here.
    globals.raw_set(
        "__sandbox_date_fields",
        lua.create_function(move |_, (_, time): (Value, Option<i64>)| {
            let t = date_of(time, clock.get());
            Ok((
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                t.weekday().number_from_sunday(),
                t.ordinal(),
            ))
        })?,
    )?;
    let clock_used = lua.app_data_ref::<Budget>().map(|b| b.used()).expect("set above");
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
/// what a hook host drives a call with: `call` (one hook call: its host, an environment and views
/// of the request and `ctx` no earlier call has changed, its chunk and handler run and its table
/// checked) and `context_fields` (which fields of `ctx` its inner table loads on first read).
/// Returns those in a table.
const PRELUDE: &str = include_str!("sandbox.lua");

/// Where a state keeps what its prelude exports.
const PRELUDE_KEY: &str = "pimlab.prelude";

/// How many fields a request's Graph JSON has (a hint for the size of its table, not a limit).
const REQUEST_FIELDS: usize = 17;

/// The prelude's functions a host drives a call with.
pub struct Prelude {
    call: mlua::Function,
    /// The events' names as Lua strings, made once (a Rust `&str` argument is copied into Lua on
    /// every call).
    events: Vec<(&'static str, mlua::String)>,
}

impl Prelude {
    /// The prelude of a state made by [`new_state`], told which fields of `ctx` its host loads on
    /// first read (see [`Prelude::call`]).
    pub fn of(lua: &Lua, context_fields: &[&str]) -> mlua::Result<Prelude> {
        let exports: Table = lua.named_registry_value(PRELUDE_KEY)?;
        let tell: mlua::Function = exports.raw_get("context_fields")?;
        tell.call::<()>(context_fields.to_vec())?;
        let events = ["validate", "route", "completed", ""]
            .into_iter()
            .map(|name| Ok((name, lua.create_string(name)?)))
            .collect::<mlua::Result<_>>()?;
        Ok(Prelude { call: exports.raw_get("call")?, events })
    }

    /// An empty inner table for a request (see [`Prelude::call`]).
    pub fn request_table(lua: &Lua) -> mlua::Result<Table> {
        // Made at the size a request's Graph JSON has, so loading it never grows it.
        lua.create_table_with_capacity(0, REQUEST_FIELDS)
    }

    /// One hook call (the prelude's `call`): from now until the next call begins, `host(kind, arg)`
    /// answers its `ctx` queries (`eligibilities`, `assignments`, `groups`) and loads the fields
    /// of the inner tables as they are first read: the request's plain values together
    /// (`host("plain", inner)`), its objects (`host("request", name)`, or `host("request", inner)`
    /// for every property not read yet) and ctx's context fields (`host(name)`). The hook's chunk `main` runs, and its handler for `event`, in a global
    /// environment no earlier call has changed, given views of the `request` and `ctx` inner
    /// tables no earlier call has changed (the `ctx` one with the query functions). Returns what
    /// the prelude's `run` returns.
    pub fn call(
        &self,
        lua: &Lua,
        main: &mlua::Function,
        event: &str,
        inner: (Table, Table),
        host: mlua::Function,
    ) -> mlua::Result<MultiValue> {
        let (request, ctx) = inner;
        let event = match self.events.iter().find(|(name, _)| *name == event) {
            Some((_, name)) => name.clone(),
            None => lua.create_string(event)?,
        };
        let args = (main, event, request, ctx, host);
        let ran: MultiValue = self.call.call(args.clone())?;
        // The last call changed its environment: the prelude made a new one, installed here (as
        // the globals `load` compiles into, and the strings' metatable) before the hook runs.
        if let (Some(Value::String(s)), Some(Value::Table(env)), Some(Value::Table(string_meta))) =
            (ran.front(), ran.get(1), ran.get(2))
        {
            if s.as_bytes().as_ref() == b"fresh" {
                lua.set_type_metatable::<mlua::String>(Some(string_meta.clone()));
                lua.set_globals(env.clone())?;
                return self.call.call(args);
            }
        }
        Ok(ran)
    }
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
        let lua =
            new_state(Limits { instructions, deadline: Duration::from_secs(600), ..Limits::HOOK }, clock, 1)
                .expect("state");
        arm(&lua).expect("armed");
        lua
    }

    const SPIN: &str = "local n = 0 for i = 1, 20000 do n = n + i end return n";

    #[test]
    fn json_becomes_the_same_lua_tables_however_large() {
        let lua = state(1_000_000);
        let items: Vec<serde_json::Value> =
            (0..600)
                .map(|i| {
                    if i % 100 == 7 {
                        serde_json::Value::Null
                    } else {
                        serde_json::json!(format!("item {i}"))
                    }
                })
                .collect();
        let fields: serde_json::Map<String, serde_json::Value> =
            (0..300).map(|i| (format!("f{i}"), serde_json::json!(i))).collect();
        let value = serde_json::json!({
            "items": items,
            "fields": fields,
            "nested": { "a": [1, 2.5, true, { "b": "c" }], "gone": null, "empty": {}, "none": [] },
            "name": "Approver 0",
        });
        let converted = host_work(&lua, |lua| json_to_lua(lua, &value, None)).expect("converted");
        lua.globals().raw_set("v", converted).expect("set");
        let read =
            |chunk: &str| -> String { lua.load(chunk).eval().unwrap_or_else(|e| panic!("{chunk}: {e}")) };
        assert_eq!(read("return v.name"), "Approver 0");
        // Every item where it was; a null is a hole.
        assert_eq!(
            read("return v.items[1] .. '|' .. v.items[256] .. '|' .. v.items[257] .. '|' .. v.items[600]"),
            "item 0|item 255|item 256|item 599"
        );
        assert_eq!(read("return tostring(v.items[8]) .. '|' .. tostring(v.items[508])"), "nil|nil");
        assert_eq!(read("local n = 0 for _ in pairs(v.items) do n = n + 1 end return tostring(n)"), "594");
        assert_eq!(
            read(
                "local n, s = 0, 0 for k, x in pairs(v.fields) do n = n + 1 s = s + x end return n .. ' ' .. s"
            ),
            "300 44850"
        );
        assert_eq!(read("return v.fields.f0 .. ' ' .. v.fields.f299"), "0 299");
        assert_eq!(
            read("local a = v.nested.a return a[1] .. ' ' .. a[2] .. ' ' .. tostring(a[3]) .. ' ' .. a[4].b"),
            "1 2.5 true c"
        );
        assert_eq!(
            read(
                "return tostring(v.nested.gone) .. ' ' .. tostring(next(v.nested.empty)) .. ' ' .. #v.nested.none"
            ),
            "nil nil 0"
        );
    }

    #[test]
    fn os_date_star_t_is_a_table_of_every_field_of_the_simulated_clock() {
        let now = crate::model::time::parse_timestamp("2026-03-07T21:04:05Z").expect("a time");
        let lua = new_state(Limits::HOOK, Rc::new(Cell::new(now)), 1).expect("state");
        arm(&lua).expect("armed");
        let fields = r#"
            local function fields(t)
              return table.concat({ t.year, t.month, t.day, t.hour, t.min, t.sec, t.wday, t.yday,
                                    tostring(t.isdst) }, " ")
            end
        "#;
        let read = |chunk: &str| -> String {
            lua.load(format!("{fields} {chunk}")).eval().unwrap_or_else(|e| panic!("{chunk}: {e}"))
        };
        // A Saturday (wday 7, Sunday is 1), the 66th day of the year.
        assert_eq!(read(r#"return fields(os.date("*t"))"#), "2026 3 7 21 4 5 7 66 false");
        assert_eq!(read(r#"return fields(os.date("!*t"))"#), "2026 3 7 21 4 5 7 66 false");
        // An explicit time: 2025-01-06T09:00:00Z, a Monday.
        assert_eq!(read(r#"return fields(os.date("*t", 1736154000))"#), "2025 1 6 9 0 0 2 6 false");
        // Each call gives a table of its own, and the other formats still give text.
        assert_eq!(
            read(r#"local a = os.date("*t") a.year = 1 return fields(os.date("*t"))"#),
            "2026 3 7 21 4 5 7 66 false"
        );
        assert_eq!(read(r#"return os.date("%Y-%m-%d %H:%M")"#), "2026-03-07 21:04");
        // As in Lua, only "*t" and "!*t" exactly make a table; anything longer is a format.
        assert_eq!(read(r#"return os.date("*t %Y")"#), "*t 2026");
        assert_eq!(read("return tostring(__sandbox_date_fields)"), "nil");
        let bad = lua.load(r#"return os.date("*t", "soon")"#).exec().expect_err("not a time").to_string();
        assert!(bad.contains("bad argument"), "{bad}");
    }

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
