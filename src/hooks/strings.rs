//! The sandbox's `string.find`, `match`, `gmatch` and `gsub` (over the counting matcher of
//! `patterns.rs`), and `guard`: what the prelude's wrappers of the other library functions that
//! can run long or allocate much inside one C call (`string.rep`, `table.move`, `table.concat`,
//! ...) charge to the budget before they run. Both charge the script's instruction budget through
//! [`budget::charge`], which also checks the deadline.

use mlua::{Lua, MultiValue, Table, Value};

use super::budget;
use super::patterns::{self, Capture, Matcher, Stop};

/// An error raised at the script's line, as Lua's own library errors are (`chunk:line: ...`).
fn located(lua: &Lua, message: impl std::fmt::Display) -> mlua::Error {
    let at = lua
        .inspect_stack(1, |d| Some(format!("{}:{}: ", d.source().short_src?, d.current_line()?)))
        .flatten()
        .unwrap_or_default();
    mlua::Error::RuntimeError(format!("{at}{message}"))
}

fn bad_arg(lua: &Lua, n: usize, name: &str, why: impl std::fmt::Display) -> mlua::Error {
    // Lua names library functions by their global name.
    located(lua, format!("bad argument #{n} to 'string.{name}' ({why})"))
}

fn arg(args: &MultiValue, n: usize) -> Option<&Value> {
    args.get(n - 1)
}

/// Argument `n` as a string (numbers are converted, as `luaL_checklstring` does).
fn text(lua: &Lua, args: &MultiValue, n: usize, name: &str) -> mlua::Result<mlua::String> {
    match arg(args, n) {
        None => Err(bad_arg(lua, n, name, "string expected, got no value")),
        Some(v) => match lua.coerce_string(v.clone())? {
            Some(s) => Ok(s),
            None => Err(bad_arg(lua, n, name, format!("string expected, got {}", v.type_name()))),
        },
    }
}

/// Argument `n` as an integer, or `default` when absent (`luaL_optinteger`).
fn opt_int(lua: &Lua, args: &MultiValue, n: usize, name: &str, default: i64) -> mlua::Result<i64> {
    match arg(args, n) {
        None | Some(Value::Nil) => Ok(default),
        Some(Value::Number(f)) if f.is_finite() && f.fract() != 0.0 || f.is_nan() || f.is_infinite() => {
            Err(bad_arg(lua, n, name, "number has no integer representation"))
        }
        Some(v) => match lua.coerce_integer(v.clone())? {
            Some(i) => Ok(i),
            None => Err(bad_arg(lua, n, name, format!("number expected, got {}", v.type_name()))),
        },
    }
}

/// Lua's `posrelatI`: a 1-based start position, negative from the end, clipped to at least 1.
fn start(pos: i64, len: usize) -> usize {
    let len = len as i64;
    match pos {
        p if p > 0 => p as usize,
        0 => 1,
        p if p < -len => 1,
        p => (len + p + 1) as usize,
    }
}

fn stop(lua: &Lua, s: Stop<mlua::Error>) -> mlua::Error {
    match s {
        Stop::Pattern(message) => located(lua, message),
        Stop::Tick(e) => e,
    }
}

/// Capture `i` of a match `s..e` (the whole match when there are none and `i` is 0).
fn capture(lua: &Lua, src: &[u8], caps: &[Capture], i: usize, s: usize, e: usize) -> mlua::Result<Value> {
    match caps.get(i) {
        None if i == 0 => Ok(Value::String(substring(lua, &src[s..e])?)),
        None => Err(located(lua, format!("invalid capture index %{}", i + 1))),
        Some(Capture::Open(_)) => Err(located(lua, "unfinished capture")),
        Some(Capture::Position(p)) => Ok(Value::Integer(*p as i64 + 1)),
        Some(Capture::Text(a, len)) => Ok(Value::String(substring(lua, &src[*a..a + len])?)),
    }
}

/// At most this many bytes of a capture are made as the host's own work (see [`substring`]).
const SMALL_CAPTURE: usize = 1024;

/// A capture as a Lua string. Most are a word or a number: those are made with the memory limit
/// lifted for the moment, which spares a protected call each (at most 32 captures of 1 KiB); a
/// larger one is made under the limit like any other allocation of the script's.
fn substring(lua: &Lua, bytes: &[u8]) -> mlua::Result<mlua::String> {
    if bytes.len() <= SMALL_CAPTURE {
        super::memory::host_work(lua, |lua| lua.create_string(bytes))
    } else {
        lua.create_string(bytes)
    }
}

/// Every capture, or the whole match when there is none and `whole` is set.
fn captures(
    lua: &Lua,
    src: &[u8],
    caps: &[Capture],
    whole: Option<(usize, usize)>,
) -> mlua::Result<MultiValue> {
    let (s, e) = whole.unwrap_or((0, 0));
    let n = if caps.is_empty() && whole.is_some() { 1 } else { caps.len() };
    (0..n).map(|i| capture(lua, src, caps, i, s, e)).collect()
}

fn find_aux(lua: &Lua, args: MultiValue, find: bool) -> mlua::Result<MultiValue> {
    let name = if find { "find" } else { "match" };
    let (s, p) = (text(lua, &args, 1, name)?, text(lua, &args, 2, name)?);
    let (src, pat) = (s.as_bytes(), p.as_bytes());
    let init = start(opt_int(lua, &args, 3, name, 1)?, src.len()) - 1;
    if init > src.len() {
        return Ok(MultiValue::from_iter([Value::Nil]));
    }
    let mut tick = |n| budget::charge(lua, n);
    let plain = arg(&args, 4).is_some_and(|v| !matches!(v, Value::Nil | Value::Boolean(false)));
    if find && (plain || patterns::no_specials(&pat)) {
        return Ok(match patterns::plain_find(&src[init..], &pat, &mut tick)? {
            Some(at) => MultiValue::from_iter([
                Value::Integer((init + at + 1) as i64),
                Value::Integer((init + at + pat.len()) as i64),
            ]),
            None => MultiValue::from_iter([Value::Nil]),
        });
    }
    let (anchor, pat) = match pat.first() {
        Some(b'^') => (true, &pat[1..]),
        _ => (false, &pat[..]),
    };
    let mut m = Matcher::new(&src, pat, &mut tick);
    for s1 in init..=src.len() {
        if let Some(e) = m.match_at(s1).map_err(|s| stop(lua, s))? {
            let caps = m.captures.clone();
            if !find {
                return captures(lua, &src, &caps, Some((s1, e)));
            }
            let mut out = MultiValue::from_iter([Value::Integer(s1 as i64 + 1), Value::Integer(e as i64)]);
            out.extend(captures(lua, &src, &caps, None)?);
            return Ok(out);
        }
        if anchor {
            break;
        }
    }
    Ok(MultiValue::from_iter([Value::Nil]))
}

fn gmatch(lua: &Lua, args: MultiValue) -> mlua::Result<mlua::Function> {
    let (s, p) = (text(lua, &args, 1, "gmatch")?, text(lua, &args, 2, "gmatch")?);
    let len = s.as_bytes().len();
    let init = (start(opt_int(lua, &args, 3, "gmatch", 1)?, len) - 1).min(len + 1);
    // Where the next search starts, and where the last match ended.
    let state = std::cell::Cell::new((init, None::<usize>));
    lua.create_function(move |lua, ()| {
        let (src, pat) = (s.as_bytes(), p.as_bytes());
        let (from, last) = state.get();
        let mut tick = |n| budget::charge(lua, n);
        let mut m = Matcher::new(&src, &pat, &mut tick);
        for at in from..=src.len() {
            if let Some(e) = m.match_at(at).map_err(|s| stop(lua, s))? {
                if Some(e) != last {
                    state.set((e, Some(e)));
                    let caps = m.captures.clone();
                    return captures(lua, &src, &caps, Some((at, e)));
                }
            }
        }
        state.set((src.len() + 1, last));
        Ok(MultiValue::new())
    })
}

/// Appends to a `gsub` result, refusing to grow it past the memory limit (it is built outside
/// Lua's allocator) and charging the budget for the bytes copied.
fn push(lua: &Lua, out: &mut Vec<u8>, bytes: &[u8], cap: usize) -> mlua::Result<()> {
    if out.len() + bytes.len() > cap {
        return Err(located(lua, format!("gsub: the result would be over {cap} bytes (the memory limit)")));
    }
    out.extend_from_slice(bytes);
    if bytes.len() >= 64 { budget::charge(lua, bytes.len() as u64 / 64) } else { Ok(()) }
}

fn gsub(lua: &Lua, args: MultiValue, cap: usize) -> mlua::Result<(Value, i64)> {
    let (s, p) = (text(lua, &args, 1, "gsub")?, text(lua, &args, 2, "gsub")?);
    let (src, pat) = (s.as_bytes(), p.as_bytes());
    let repl = arg(&args, 3).cloned().unwrap_or(Value::Nil);
    let repl_text = match &repl {
        Value::String(_) | Value::Integer(_) | Value::Number(_) => lua.coerce_string(repl.clone())?,
        Value::Table(_) | Value::Function(_) => None,
        other => {
            let got = if arg(&args, 3).is_none() { "no value" } else { other.type_name() };
            return Err(bad_arg(lua, 3, "gsub", format!("string/function/table expected, got {got}")));
        }
    };
    let max = opt_int(lua, &args, 4, "gsub", src.len() as i64 + 1)?;
    let (anchor, pat) = match pat.first() {
        Some(b'^') => (true, &pat[1..]),
        _ => (false, &pat[..]),
    };
    let mut tick = |n| budget::charge(lua, n);
    let mut m = Matcher::new(&src, pat, &mut tick);
    let (mut out, mut n, mut changed) = (Vec::new(), 0i64, false);
    let (mut at, mut last) = (0usize, None);
    while n < max {
        let e = m.match_at(at).map_err(|s| stop(lua, s))?;
        match e {
            Some(e) if Some(e) != last => {
                n += 1;
                let caps = m.captures.clone();
                changed |= replace(lua, &mut out, &src, &caps, (at, e), &repl, repl_text.as_ref(), cap)?;
                at = e;
                last = Some(e);
            }
            _ if at < src.len() => {
                push(lua, &mut out, &src[at..at + 1], cap)?;
                at += 1;
            }
            _ => break,
        }
        if anchor {
            break;
        }
    }
    if !changed {
        return Ok((arg(&args, 1).cloned().unwrap_or(Value::Nil), n));
    }
    push(lua, &mut out, &src[at..], cap)?;
    Ok((Value::String(lua.create_string(&out)?), n))
}

/// Lua's `add_value`: the replacement of the match `s..e`; whether it changed the subject.
#[allow(clippy::too_many_arguments)]
fn replace(
    lua: &Lua,
    out: &mut Vec<u8>,
    src: &[u8],
    caps: &[Capture],
    (s, e): (usize, usize),
    repl: &Value,
    repl_text: Option<&mlua::String>,
    cap: usize,
) -> mlua::Result<bool> {
    let value = match repl {
        Value::Function(f) => f.call::<Value>(captures(lua, src, caps, Some((s, e)))?)?,
        Value::Table(t) => t.get::<Value>(capture(lua, src, caps, 0, s, e)?)?,
        _ => {
            let news = repl_text.map(|t| t.as_bytes().to_vec()).unwrap_or_default();
            let mut i = 0;
            while i < news.len() {
                let c = news[i];
                i += 1;
                if c != b'%' {
                    let next = news[i..].iter().position(|&b| b == b'%').map_or(news.len(), |k| i + k);
                    push(lua, out, &news[i - 1..next], cap)?;
                    i = next;
                    continue;
                }
                let d = news.get(i).copied().unwrap_or(0);
                i += 1;
                match d {
                    b'%' => push(lua, out, b"%", cap)?,
                    b'0' => push(lua, out, &src[s..e], cap)?,
                    b'1'..=b'9' => {
                        let v = capture(lua, src, caps, usize::from(d - b'1'), s, e)?;
                        let t = lua.coerce_string(v)?.map(|t| t.as_bytes().to_vec()).unwrap_or_default();
                        push(lua, out, &t, cap)?;
                    }
                    _ => return Err(located(lua, "invalid use of '%' in replacement string")),
                }
            }
            return Ok(true);
        }
    };
    match value {
        Value::Nil | Value::Boolean(false) => {
            push(lua, out, &src[s..e], cap)?;
            Ok(false)
        }
        v @ (Value::String(_) | Value::Integer(_) | Value::Number(_)) => {
            let t = lua.coerce_string(v)?.map(|t| t.as_bytes().to_vec()).unwrap_or_default();
            push(lua, out, &t, cap)?;
            Ok(true)
        }
        other => Err(located(lua, format!("invalid replacement value (a {})", other.type_name()))),
    }
}

/// What a guarded library call costs, charged before it runs (see the prelude). Returns true
/// when the call's result is known to be empty and must not run at all (`string.rep` of an
/// empty result loops once per repetition). Arguments that are not what the function takes
/// cost nothing: the function itself then raises its own error.
fn guard(lua: &Lua, kind: &str, args: MultiValue, cap: usize) -> mlua::Result<bool> {
    let int = |n: usize| arg(&args, n).and_then(|v| lua.coerce_integer(v.clone()).ok().flatten());
    let len = |n: usize| match arg(&args, n) {
        Some(Value::String(s)) => s.as_bytes().len() as u64,
        _ => 0,
    };
    let table_len = |n: usize| match arg(&args, n) {
        Some(Value::Table(t)) => t.len().map(|l| l.max(0) as u64),
        _ => Ok(0),
    };
    let span = |i: Option<i64>, j: Option<i64>| match (i, j) {
        (Some(i), Some(j)) if j >= i => {
            (i128::from(j) - i128::from(i) + 1).min(i128::from(u64::MAX as u32)) as u64
        }
        _ => 0,
    };
    let cost = match kind {
        "rep" => {
            let (Some(s), Some(n)) =
                (arg(&args, 1).and_then(|v| lua.coerce_string(v.clone()).ok().flatten()), int(2))
            else {
                return Ok(false);
            };
            let sep = arg(&args, 3).and_then(|v| lua.coerce_string(v.clone()).ok().flatten());
            let (l, lsep) = (s.as_bytes().len() as u128, sep.map_or(0, |t| t.as_bytes().len()) as u128);
            if n <= 0 {
                return Ok(true);
            }
            let total = l * n as u128 + lsep * (n as u128 - 1);
            if total == 0 {
                return Ok(true);
            }
            // Over the memory limit, Lua's own allocation of the result fails at once (it
            // allocates before it copies): "not enough memory", as for any allocation.
            if total > cap as u128 {
                return Ok(false);
            }
            // One copy per repetition: quick, but not free.
            ((total + n as u128) / 1024) as u64
        }
        "move" => span(int(2), int(3)),
        "concat" => span(
            int(3).or(Some(1)),
            int(4).map_or_else(|| table_len(1).map(|l| Some(l as i64)), |j| Ok(Some(j)))?,
        ),
        "unpack" => span(
            int(2).or(Some(1)),
            int(3).map_or_else(|| table_len(1).map(|l| Some(l as i64)), |j| Ok(Some(j)))?,
        ),
        "sort" => {
            let n = table_len(1)?;
            n * u64::from(64 - n.leading_zeros())
        }
        "format" => {
            len(1) / 8
                + args
                    .iter()
                    .skip(1)
                    .map(|v| if let Value::String(s) = v { s.as_bytes().len() as u64 / 64 } else { 1 })
                    .sum::<u64>()
        }
        "bytes" => len(1) / 16,
        "count" => args.len() as u64,
        other => return Err(mlua::Error::RuntimeError(format!("sandbox: no guard '{other}'"))),
    };
    budget::charge(lua, cost)?;
    Ok(false)
}

/// Installs the counting pattern functions into `string`, and `guard` as the global
/// `__sandbox_guard` (the prelude takes it into a local and removes the global).
pub fn install(lua: &Lua, string: &Table, memory: usize) -> mlua::Result<()> {
    string.raw_set("find", lua.create_function(|lua, args| find_aux(lua, args, true))?)?;
    string.raw_set("match", lua.create_function(|lua, args| find_aux(lua, args, false))?)?;
    string.raw_set("gmatch", lua.create_function(gmatch)?)?;
    string.raw_set("gsub", lua.create_function(move |lua, args| gsub(lua, args, memory))?)?;
    let g = lua.create_function(move |lua, (kind, args): (mlua::String, MultiValue)| {
        guard(lua, &kind.to_str()?, args, memory)
    })?;
    lua.globals().raw_set("__sandbox_guard", g)?;
    Ok(())
}
