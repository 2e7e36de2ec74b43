//! Reading an EasyPIM configuration's text as EasyPIM does (reference §1): comments stripped by
//! the same three passes, the top level checked the same way, keys looked up case-insensitively
//! (PowerShell's property lookup), and every refusal a `PimlabEasyPimConfigInvalid` naming where.

use serde_json::{Map, Value};

use super::fidelity;
use crate::model::{ApiError, ErrorCode};

/// A refusal of the configuration: `origin` names the entry (`EntraRoles.Policies["User
/// Administrator"]`), `problem` says what is wrong, in EasyPIM's words where it has some.
pub fn invalid(origin: &str, problem: impl AsRef<str>) -> ApiError {
    ApiError::new(400, ErrorCode::PimlabEasyPimConfigInvalid, format!("{origin}: {}", problem.as_ref()))
}

/// The configuration's JSON, and what reading it relied on (quirks and leniencies to report).
#[derive(Debug)]
pub struct Parsed {
    pub root: Map<String, Value>,
    pub notes: Vec<String>,
}

/// Strips comments as `Remove-JsonComments` does and parses the rest.
pub fn parse(file: &str, text: &str) -> Result<Parsed, ApiError> {
    let mut notes = Vec::new();
    let (stripped, block_in_string) = strip_comments(text);
    if block_in_string {
        notes.push(
            "quirk: a '/*' inside a string value was stripped as a comment, as EasyPIM's loader does"
                .to_string(),
        );
    }
    let trimmed = stripped.trim();
    if trimmed.len() < 10 || !trimmed.starts_with('{') || !trimmed.ends_with('}') {
        return Err(invalid(
            file,
            "the configuration must be a JSON object (after removing comments it must start with '{', end with '}' and be at least 10 characters long)",
        ));
    }
    let (json, commas) = if fidelity::ACCEPT_TRAILING_COMMAS {
        drop_trailing_commas(trimmed)
    } else {
        (trimmed.to_string(), false)
    };
    if commas {
        notes.push(
            "the configuration has trailing commas; pimlab accepts them (see the fidelity table)".into(),
        );
    }
    let value: Value = serde_json::from_str(&json).map_err(|e| {
        invalid(file, format!("not valid JSON at line {}, column {}: {e}", e.line(), e.column()))
    })?;
    let Value::Object(root) = value else {
        return Err(invalid(file, "the configuration must be a JSON object"));
    };
    if fidelity::REFUSE_KEYS_DIFFERING_IN_CASE {
        check_case_duplicates(&root, "$")?;
    }
    Ok(Parsed { root, notes })
}

/// The three passes of EasyPIM's loader: `/* */` blocks anywhere (inside strings too: a plain
/// regex), then whole-line `//` comments, then trailing `//` comments outside string literals.
/// Also says whether a block comment began inside a string (the quirk worth reporting).
fn strip_comments(text: &str) -> (String, bool) {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut in_string_when_cut = false;
    while let Some(start) = rest.find("/*") {
        let before = &rest[..start];
        out.push_str(before);
        if inside_string(&out) {
            in_string_when_cut = true;
        }
        match rest[start + 2..].find("*/") {
            Some(end) => rest = &rest[start + 2 + end + 2..],
            None => {
                // An unclosed block: the regex does not match it, so it stays.
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    let lines: Vec<String> = out
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(|l| cut_trailing_comment(l).to_string())
        .collect();
    (lines.join("\n"), in_string_when_cut)
}

/// Whether the end of `text` is inside a JSON string literal (counting unescaped quotes).
fn inside_string(text: &str) -> bool {
    let mut inside = false;
    let mut escaped = false;
    for c in text.chars() {
        match c {
            '\\' if inside && !escaped => {
                escaped = true;
                continue;
            }
            '"' if !escaped => inside = !inside,
            _ => {}
        }
        escaped = false;
    }
    inside
}

/// A line up to a `//` outside a string literal.
fn cut_trailing_comment(line: &str) -> &str {
    let mut inside = false;
    let mut escaped = false;
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\\' if inside && !escaped => {
                escaped = true;
                continue;
            }
            b'"' if !escaped => inside = !inside,
            b'/' if !inside && bytes.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
        escaped = false;
    }
    line
}

/// Removes commas that directly precede `}` or `]` (outside strings); says whether it removed any.
fn drop_trailing_commas(text: &str) -> (String, bool) {
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    let mut escaped = false;
    let mut pending_comma: Option<usize> = None;
    let mut dropped = false;
    for c in text.chars() {
        if inside {
            out.push(c);
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => inside = false,
                _ => escaped = false,
            }
            continue;
        }
        match c {
            '"' => {
                pending_comma = None;
                inside = true;
                out.push(c);
            }
            ',' => {
                pending_comma = Some(out.len());
                out.push(c);
            }
            '}' | ']' => {
                if let Some(at) = pending_comma.take() {
                    out.remove(at);
                    dropped = true;
                }
                out.push(c);
            }
            c if c.is_whitespace() => out.push(c),
            _ => {
                pending_comma = None;
                out.push(c);
            }
        }
    }
    (out, dropped)
}

/// PowerShell 7's parser refuses an object with two keys that differ only in case.
fn check_case_duplicates(map: &Map<String, Value>, path: &str) -> Result<(), ApiError> {
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in map {
        let lower = key.to_lowercase();
        if seen.contains(&lower) {
            return Err(invalid(
                path,
                format!("the key '{key}' appears twice with different cases (keys are case-insensitive)"),
            ));
        }
        seen.push(lower);
        check_value(value, &format!("{path}.{key}"))?;
    }
    Ok(())
}

fn check_value(value: &Value, path: &str) -> Result<(), ApiError> {
    match value {
        Value::Object(m) => check_case_duplicates(m, path),
        Value::Array(items) => {
            items.iter().enumerate().try_for_each(|(i, v)| check_value(v, &format!("{path}[{i}]")))
        }
        _ => Ok(()),
    }
}

/// A key of `map`, looked up case-insensitively (PowerShell's property lookup).
pub fn field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

/// The first of `keys` that `map` has (aliases, in EasyPIM's order of preference).
pub fn first_field<'a>(map: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| field(map, k))
}

/// A string value, `None` when absent, null or empty ("" counts as not supplied).
pub fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    match field(map, key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.as_str()),
        _ => None,
    }
}

/// PowerShell's truthiness of a value given where a boolean is expected: any non-empty string is
/// true (so `"false"` is **true**, reference §9 quirk 1), numbers are true unless zero. The second
/// value says whether the input relied on it (a string, not a JSON boolean).
pub fn truthy(value: &Value) -> (bool, bool) {
    match value {
        Value::Bool(b) => (*b, false),
        Value::String(s) => (!s.is_empty(), true),
        Value::Number(n) => (n.as_f64().is_some_and(|f| f != 0.0), true),
        Value::Null => (false, false),
        Value::Array(a) => (!a.is_empty(), true),
        Value::Object(_) => (true, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_stripped_as_easypim_does() {
        let text = "{\n // whole line\n \"a\": \"x // not a comment\", // trailing\n /* block */ \"b\": 1 }";
        let parsed = parse("f", text).unwrap();
        assert_eq!(parsed.root["a"], "x // not a comment");
        assert_eq!(parsed.root["b"], 1);
        assert!(parsed.notes.is_empty());
    }

    #[test]
    fn a_block_comment_opened_inside_a_string_is_eaten_and_reported() {
        let text = "{ \"a\": \"path/*x\", \"c\": \"y*/\", \"b\": 1 }";
        let parsed = parse("f", text).unwrap();
        assert_eq!(parsed.root["a"], "path");
        assert!(parsed.root.get("c").is_none());
        assert!(parsed.notes[0].contains("quirk"));
    }

    #[test]
    fn trailing_commas_and_case_duplicates() {
        let parsed = parse("f", "{ \"a\": [1, 2,], \"b\": {\"c\": 1,}, }").unwrap();
        assert_eq!(parsed.root["a"], serde_json::json!([1, 2]));
        assert!(!parsed.notes.is_empty());
        let e = parse("f", "{ \"Role\": 1, \"role\": 2 }").unwrap_err();
        assert!(e.message.contains("appears twice"), "{}", e.message);
        assert!(parse("f", "[1, 2, 3, 4, 5]").is_err());
        assert!(parse("f", "{ }").is_err());
    }

    #[test]
    fn strings_are_truthy() {
        assert_eq!(truthy(&Value::String("false".into())), (true, true));
        assert_eq!(truthy(&Value::Bool(false)), (false, false));
    }
}
