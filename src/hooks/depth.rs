//! How deeply a script's tables nest, measured without recursion: the converters of Lua values
//! (to JSON for the REPL and `pim.json`'s host side, into typed operations) recurse once per
//! level, and a table nested 20,000 deep would overflow the host's stack. They check first.

use std::collections::HashSet;

use mlua::Value;

/// The deepest nesting a converted value may have (serde_json's own parser stops at 128).
pub const MAX_DEPTH: usize = 100;

/// Refuses a value whose tables nest deeper than [`MAX_DEPTH`] (a table reached again through
/// another path counts at each depth it is reached at, once per depth, so a cycle is too deep).
pub fn check(value: &Value, what: &str) -> Result<(), String> {
    let mut stack: Vec<(mlua::Table, usize)> = Vec::new();
    let mut seen: HashSet<(usize, usize)> = HashSet::new();
    if let Value::Table(t) = value {
        stack.push((t.clone(), 1));
    }
    while let Some((t, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(format!("{what}: tables nested more than {MAX_DEPTH} deep cannot be converted"));
        }
        if !seen.insert((t.to_pointer() as usize, depth)) {
            continue;
        }
        for pair in t.pairs::<Value, Value>() {
            let (k, v) = pair.map_err(|e| e.to_string())?;
            for inner in [k, v] {
                if let Value::Table(inner) = inner {
                    stack.push((inner, depth + 1));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deep_table_is_refused_and_a_shallow_one_passes() {
        let lua = mlua::Lua::new();
        let deep: Value =
            lua.load("local t = {} for i = 1, 20000 do t = { t } end return t").eval().expect("deep");
        let e = check(&deep, "show").expect_err("too deep");
        assert!(e.contains("nested more than 100 deep"), "{e}");
        let ok: Value = lua.load("local t = {} for i = 1, 99 do t = { t } end return t").eval().expect("ok");
        check(&ok, "show").expect("99 levels pass");
        let cyc: Value = lua.load("local t = {} t.self = t return t").eval().expect("cycle");
        check(&cyc, "show").expect_err("a cycle is endlessly deep");
    }
}
