//! Properties over time in the Lua sandbox (`pimlab check`, `pimlab fuzz`): a property file runs
//! once, declaring its properties with `property(name, function(t) ... end)`; each property is
//! then judged at instant after instant, given `t`, the tenant as of that instant, whose
//! questions the host answers through [`TenantAt`]. `properties.lua` holds the declaring, the
//! view and the judging, in Lua, so that the script `fuzz` prints carries them unchanged.
//!
//! Every judgement runs under [`Limits::PROPERTY`] afresh: a property that loops forever is
//! stopped by its budget and reported as failed at that instant, never a crash.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use mlua::{ChunkMode, Function, Lua, LuaSerdeExt, Table, Value};

use super::sandbox::{self, Limits};
use crate::model::property::{Judge, Question, TenantAt, Verdict};
use crate::model::time::format_timestamp;
use crate::model::{ApiError, ErrorCode, Timestamp};

/// The declaring, the view `t` and the judging (see the file).
const LIBRARY: &str = include_str!("properties.lua");
/// Where the state keeps what `properties.lua` returned.
const LIBRARY_KEY: &str = "pimlab.properties";
/// `math.random`'s seed in a property state: fixed, so a file judges the same way every run.
const SEED: u64 = 13;
/// What one question to the tenant costs a property's budget (it runs a report on the host).
const ASK_COST: u64 = 20_000;

/// A loaded property file, ready to be judged.
pub struct LuaProperties {
    lua: Lua,
    clock: Rc<Cell<Timestamp>>,
    names: Vec<String>,
    file: String,
    source: String,
}

/// Runs the property file `source` (named `file` in messages) and keeps what it declares.
pub fn load(file: &str, source: &str) -> Result<LuaProperties, ApiError> {
    let invalid = |message: String| ApiError::new(400, ErrorCode::PimlabPropertiesInvalid, message);
    let clock = Rc::new(Cell::new(Timestamp::default()));
    let lua = sandbox::new_state(Limits::PROPERTY, clock.clone(), SEED)
        .map_err(|e| ApiError::internal(format!("cannot start the Lua sandbox: {e}")))?;
    let library: Table = lua
        .load(LIBRARY)
        .set_name("=properties")
        .eval()
        .and_then(|lib: Table| {
            lua.set_named_registry_value(LIBRARY_KEY, &lib)?;
            lua.globals().raw_set("property", lib.raw_get::<Function>("declare")?)?;
            Ok(lib)
        })
        .map_err(|e| ApiError::internal(format!("cannot load the property library: {e}")))?;
    sandbox::arm(&lua).map_err(|e| ApiError::internal(e.to_string()))?;
    let ran = lua.load(source).set_name(format!("={file}")).set_mode(ChunkMode::Text).exec();
    sandbox::disarm(&lua);
    if let Err(e) = ran {
        let message = sandbox::spent(&lua).unwrap_or_else(|| first_line(&e));
        let message = match sandbox::split_location(&message, file) {
            (Some(line), text) => format!("{file}:{line}: {text}"),
            (None, text) => format!("{file}: {text}"),
        };
        return Err(invalid(message));
    }
    let declared: Table = library.raw_get("declared").map_err(|e| ApiError::internal(e.to_string()))?;
    let names = declared
        .sequence_values::<Table>()
        .map(|p| p.and_then(|p| p.raw_get::<String>("name")))
        .collect::<mlua::Result<Vec<_>>>()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    if names.is_empty() {
        return Err(invalid(format!(
            "{file} declares no property; declare one with property(\"name\", function(t) return ... end)"
        )));
    }
    Ok(LuaProperties { lua, clock, names, file: file.to_string(), source: source.to_string() })
}

/// An mlua error's first line, without mlua's "runtime error: ".
fn first_line(e: &mlua::Error) -> String {
    let text = match e {
        mlua::Error::CallbackError { cause, .. } => cause.to_string(),
        mlua::Error::MemoryError(_) => "memory limit exceeded".to_string(),
        other => other.to_string(),
    };
    text.lines().next().unwrap_or_default().replacen("runtime error: ", "", 1)
}

/// A question as `properties.lua` asks it (`kind` and a table of arguments).
fn question(kind: &str, args: &Table) -> mlua::Result<Question> {
    let text = |key: &str| args.raw_get::<Option<String>>(key);
    let required = |key: &str| {
        text(key)?.ok_or_else(|| mlua::Error::RuntimeError(format!("t.{kind}: '{key}' is required")))
    };
    Ok(match kind {
        "who" => Question::Who {
            role: required("role")?,
            scope: text("scope")?,
            could: args.raw_get::<Option<bool>>("could")?.unwrap_or(false),
        },
        "access" => Question::Access { principal: required("principal")? },
        "request" => Question::Request { id: required("id")? },
        other => return Err(mlua::Error::RuntimeError(format!("no question '{other}'"))),
    })
}

impl LuaProperties {
    fn run(&self, index: usize, tenant: &mut dyn TenantAt) -> mlua::Result<(String, Option<String>)> {
        let lua = &self.lua;
        let library: Table = lua.named_registry_value(LIBRARY_KEY)?;
        let declared: Table = library.raw_get("declared")?;
        let property: Table = declared.raw_get(index + 1)?;
        let now = format_timestamp(tenant.at());
        let tenant = RefCell::new(tenant);
        let arrays = lua.array_metatable();
        lua.scope(|scope| {
            let ask = scope.create_function(|lua, (kind, args): (String, Table)| {
                sandbox::charge(lua, ASK_COST)?;
                let q = question(&kind, &args)?;
                let answer = tenant.borrow_mut().ask(&q);
                match answer {
                    Ok(v) => {
                        let v = sandbox::host_work(lua, |lua| sandbox::json_to_lua(lua, &v, Some(&arrays)))?;
                        Ok((v, Value::Nil))
                    }
                    Err(e) => {
                        let message = format!("{}: {}", e.code, e.message);
                        Ok((Value::Nil, Value::String(lua.create_string(message)?)))
                    }
                }
            })?;
            let t: Table = library.raw_get::<Function>("view")?.call((now, ask))?;
            let judge: Function = library.raw_get("judge")?;
            sandbox::arm(lua)?;
            let verdict = judge.call::<(String, Option<String>)>((property.raw_get::<Function>("fn")?, t));
            sandbox::disarm(lua);
            verdict
        })
    }
}

impl Judge for LuaProperties {
    fn names(&self) -> Vec<String> {
        self.names.clone()
    }

    fn judge(&self, index: usize, tenant: &mut dyn TenantAt) -> Verdict {
        self.clock.set(tenant.at());
        sandbox::restart_budget(&self.lua);
        let result = self.run(index, tenant);
        sandbox::disarm(&self.lua);
        // Out of budget or time: that is how the property ended, whatever was raised after.
        if let Some(spent) = sandbox::spent(&self.lua) {
            return Verdict::Failed(spent);
        }
        match result {
            Ok((verdict, message)) => match verdict.as_str() {
                "holds" => Verdict::Holds,
                "violated" => Verdict::Violated(message),
                _ => Verdict::Failed(message.unwrap_or_default()),
            },
            Err(e) => Verdict::Failed(first_line(&e)),
        }
    }

    fn check_script(&self, index: usize) -> String {
        let name = &self.names[index];
        let level = (0..).find(|n| !self.source.contains(&format!("]{}]", "=".repeat(*n)))).unwrap_or(0);
        let eq = "=".repeat(level);
        format!(
            "-- The property, declared by {file} as `pimlab check` declares it, checked against the tenant now.\n\
             local __properties = (function()\n{library}end)()\n\
             property = __properties.declare\n\
             assert(load([{eq}[\n{source}]{eq}], {chunk}))()\n\
             local __answers = {{\n  \
               who = function(a) return pim.who(a.role, {{ scope = a.scope, could = a.could }}) end,\n  \
               access = function(a) return pim.access(a.principal) end,\n  \
               request = function(a) return pim.request(a.id) end,\n\
             }}\n\
             local function __ask(kind, args)\n  \
               local ok, answer = pcall(__answers[kind], args)\n  \
               if ok then return answer end\n  \
               return nil, answer\n\
             end\n\
             for _, p in ipairs(__properties.declared) do\n  \
               if p.name == {name_lua} then\n    \
                 local verdict, message = __properties.judge(p.fn, __properties.view(pim.clock.now(), __ask))\n    \
                 pim.expect(verdict == \"holds\", \"property \" .. {name_lua} .. \" holds\" .. (message and (\": \" .. message) or \"\"))\n  \
               end\n\
             end\n",
            file = self.file,
            library = code_of(LIBRARY),
            source = self.source,
            chunk = lua_string(&format!("={}", self.file)),
            name_lua = lua_string(name),
        )
    }
}

/// Lua source without its comment lines (the library as a printed script carries it).
fn code_of(source: &str) -> String {
    source.lines().filter(|l| !l.trim_start().starts_with("--")).map(|l| format!("{l}\n")).collect()
}

/// `text` as a Lua string literal.
pub fn lua_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\{}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nobody(Timestamp);

    impl TenantAt for Nobody {
        fn at(&self) -> Timestamp {
            self.0
        }
        fn ask(&mut self, q: &Question) -> Result<serde_json::Value, ApiError> {
            match q {
                Question::Who { role, .. } if role == "Missing" => {
                    Err(ApiError::new(404, ErrorCode::RoleNotFound, "no role 'Missing'"))
                }
                _ => Ok(serde_json::json!({ "holders": [], "holdings": [] })),
            }
        }
    }

    fn verdicts(source: &str) -> Vec<Verdict> {
        let p = load("p.lua", source).expect("loads");
        (0..p.names().len()).map(|i| p.judge(i, &mut Nobody(Timestamp::default()))).collect()
    }

    #[test]
    fn a_property_holds_is_violated_or_fails_by_what_it_returns() {
        let got = verdicts(
            r#"property("true", function(t) return #t.holders("Global Administrator") == 0 end)
               property("false", function(t) return false, "too many: " .. 5 end)
               property("nil", function(t) end)
               property("error", function(t) return t.holders("Missing") end)
               property("loop", function(t) while true do end end)
               property("after", function(t) return t.now == "1970-01-01T00:00:00Z" end)"#,
        );
        assert_eq!(got[0], Verdict::Holds);
        assert_eq!(got[1], Verdict::Violated(Some("too many: 5".into())));
        assert!(matches!(&got[2], Verdict::Failed(m) if m.contains("returned nothing")), "{:?}", got[2]);
        assert!(matches!(&got[3], Verdict::Failed(m) if m.contains("RoleNotFound")), "{:?}", got[3]);
        assert!(
            matches!(&got[4], Verdict::Failed(m) if m.contains(sandbox::BUDGET_EXHAUSTED) && m.contains("p.lua:5")),
            "{:?}",
            got[4]
        );
        assert_eq!(got[5], Verdict::Holds, "a spent budget is restarted for the next property");
    }

    #[test]
    fn a_file_that_does_not_load_is_refused_with_its_line() {
        for (source, expected) in [
            (
                "property(\"a\", function(t) return true end)\nproperty(\"a\", function(t) return true end)",
                "p.lua:2",
            ),
            ("x = = 1", "p.lua:1"),
            ("local x = 1", "declares no property"),
            ("property(1, 2)", "p.lua:1"),
        ] {
            let e = load("p.lua", source).err().expect("refused");
            assert_eq!(e.code, ErrorCode::PimlabPropertiesInvalid);
            assert!(e.message.contains(expected), "{source}: {}", e.message);
        }
    }

    #[test]
    fn a_lua_string_reads_back_as_the_text() {
        let text = "a \"quoted\" \\ name\nwith\ttabs and \u{1} control";
        let lua = Lua::new();
        let back: String = lua.load(format!("return {}", lua_string(text))).eval().expect("a literal");
        assert_eq!(back, text);
    }
}
