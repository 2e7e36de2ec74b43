//! The sandbox's pattern functions (a counting port of Lua's matcher) against the real ones of a
//! plain Lua 5.4 state: a table of cases and random small patterns and subjects give the same
//! results, or the same error message.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use mlua::{Function, Lua};
use pimlab::hooks::Limits;
use pimlab::hooks::sandbox::new_state;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// Runs `string[fname](s, p, r)` and renders what it returned (or its error) as one line.
const PROBE: &str = r#"
local function ser(...)
  local t = {}
  for i = 1, select('#', ...) do local v = select(i, ...) t[i] = type(v) .. ":" .. tostring(v) end
  return table.concat(t, ",")
end
return function(fname, s, p, r)
  local f = string[fname]
  if fname == "gmatch" then
    local out = {}
    local ok, e = pcall(function()
      for a, b in f(s, p) do out[#out + 1] = ser(a, b) if #out > 40 then break end end
    end)
    if not ok then return "error:" .. tostring(e) end
    return table.concat(out, ";")
  end
  local res = table.pack(pcall(f, s, p, fname == "gsub" and r or nil))
  if not res[1] then return "error:" .. tostring(res[2]) end
  return ser(table.unpack(res, 2, res.n))
end
"#;

struct Pair {
    _real: Lua,
    _ours: Lua,
    real: Function,
    ours: Function,
}

impl Pair {
    fn new() -> Pair {
        let real = Lua::new();
        let limits = Limits { instructions: 1 << 40, deadline: Duration::from_secs(600), ..Limits::SCENARIO };
        let ours = new_state(limits, Rc::new(Cell::new(chrono::DateTime::UNIX_EPOCH)), 1).expect("sandbox");
        let r = real.load(PROBE).set_name("=probe").eval().expect("probe");
        let o = ours.load(PROBE).set_name("=probe").eval().expect("probe");
        Pair { _real: real, _ours: ours, real: r, ours: o }
    }

    /// Compares one call; the error texts differ in their wrapping, so an error compares by its
    /// message being contained.
    fn same(&self, fname: &str, s: &str, p: &str, r: &str) -> Result<(), String> {
        let args = (fname, s, p, r);
        let want: String = self.real.call(args).map_err(|e| e.to_string())?;
        let got: String = self.ours.call(args).map_err(|e| e.to_string())?;
        let matches = match want.strip_prefix("error:") {
            Some(message) => got.starts_with("error:") && got.contains(message),
            None => got == want,
        };
        if matches {
            Ok(())
        } else {
            Err(format!("{fname}({s:?}, {p:?}, {r:?}): Lua {want:?}, ours {got:?}"))
        }
    }
}

const CASES: &[(&str, &str, &str)] = &[
    ("hello world", "o w", "X"),
    ("hello world", "(o)(r)", "%2%1"),
    ("hello", "l+", "L"),
    ("hello", "l-", "L"),
    ("hello", "l*", "<%0>"),
    ("hello", "l?", "-"),
    ("hello", "^h", "H"),
    ("hello", "o$", "O"),
    ("hello", "()ll()", "%1"),
    ("THE (quick) fox", "%((%a+)%)", "[%1]"),
    ("f(a(b)c)d", "%b()", "#"),
    ("THE quick brown", "%f[%a]%a+", "w"),
    ("key = value, k2 = v2", "(%w+)%s*=%s*(%w+)", "%2=%1"),
    ("a.b-c", "[%.%-]", "_"),
    ("abc123", "[^%d]+", "L"),
    ("abc123", "[a-c1-2]", "."),
    ("a]b", "[]]", "!"),
    ("aaa", "a-b", "x"),
    ("", "", "e"),
    ("abc", "", "-"),
    ("abab", "(ab)%1", "x"),
    ("x", "%", "y"),
    ("x", "[a", "y"),
    ("x", "(x", "y"),
    ("x", "x)", "y"),
    ("x", "%1", "y"),
    ("x", "%f", "y"),
    ("x", "%b", "y"),
    ("x", "x", "%"),
    ("x", "x", "%2"),
    ("x", "x", "%a"),
    ("\0a\0", "%z", "y"),
    ("a\0b", "[\0]", "0"),
    ("A1 b2", "%u%d", "U"),
    ("  trim  ", "^%s*(.-)%s*$", "%1"),
];

#[test]
fn the_pattern_functions_agree_with_lua_on_a_table_of_cases() {
    let pair = Pair::new();
    let mut wrong = Vec::new();
    for (s, p, r) in CASES {
        for f in ["find", "match", "gmatch", "gsub"] {
            if let Err(e) = pair.same(f, s, p, r) {
                wrong.push(e);
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_pattern_functions_agree_with_lua_on_random_patterns() {
    let pair = Pair::new();
    let config = Config { cases: 600, failure_persistence: None, ..Config::default() };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let subject = proptest::string::string_regex("[ab(). ]{0,8}").expect("regex");
    let pattern = proptest::string::string_regex("([ab.()%^$*+?\\-\\[\\]]|%[abfs1]){0,6}").expect("regex");
    let result = runner.run(&(subject, pattern), |(s, p)| {
        for f in ["find", "match", "gmatch", "gsub"] {
            pair.same(f, &s, &p, "<%0>").map_err(TestCaseError::fail)?;
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
