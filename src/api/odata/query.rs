//! The query string: splitting it into options, percent-decoding, and parsing every option except
//! the `$filter` expression itself (`$select`, `$orderby`, `$expand` with its nested options,
//! `$top`, `$skip`, `$count`), which `parser.rs` handles.

use super::ast::{ExpandItem, QueryOptions};
use super::error::ODataError;
use super::lexer::is_valid_path;
use super::parser::parse_filter;

/// How deeply options may nest inside `$expand` items (`a($expand=b($select=id))` is two levels).
/// Parsing and applying them recurse once per level; the bound keeps a query from exhausting the
/// stack and aborting the process.
pub(super) const MAX_EXPAND_DEPTH: usize = 10;

const SUPPORTED_OPTIONS: &str = "$filter, $select, $expand, $top, $skip, $count and $orderby";

/// Parses a query string (the part after `?`; a leading `?` is tolerated).
///
/// Parameters are separated by `&`; names and values are percent-decoded (`%XX` and `+` for a
/// space) after splitting, so an `&` inside a value must be sent as `%26`. Option names are
/// case-insensitive. Parameters whose name does not start with `$` are ignored; an unknown `$`
/// option or one given twice is an error.
pub fn parse_query(query: &str) -> Result<QueryOptions, ODataError> {
    let (query, mut offset) = match query.strip_prefix('?') {
        Some(rest) => (rest, 1),
        None => (query, 0),
    };
    let mut pairs = Vec::new();
    for part in query.split('&') {
        if !part.is_empty() {
            let (raw_key, raw_value) = part.split_once('=').unwrap_or((part, ""));
            let key = percent_decode(raw_key, offset)?;
            let value = percent_decode(raw_value, offset + raw_key.len() + 1)?;
            let key = key.trim().to_string();
            if key.starts_with('$') {
                pairs.push((key, value));
            }
        }
        offset += part.len() + 1;
    }
    build_options(pairs, 0)
}

/// Decodes `%XX` escapes and `+` (space). `offset` is the position of `text` in the query string,
/// used in error messages.
fn percent_decode(text: &str, offset: usize) -> Result<String, ODataError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let decoded = bytes.get(i + 1..i + 3).and_then(|hex| {
                    let hi = (hex[0] as char).to_digit(16)?;
                    let lo = (hex[1] as char).to_digit(16)?;
                    Some((hi * 16 + lo) as u8)
                });
                match decoded {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    None => {
                        let shown: String = text[i..].chars().take(3).collect();
                        return Err(ODataError::new(format!(
                            "Invalid query string: malformed percent-escape '{shown}' at position {}",
                            offset + i
                        )));
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| {
        ODataError::new(format!(
            "Invalid query string: '{text}' at position {offset} does not decode to valid UTF-8"
        ))
    })
}

/// Builds options from decoded `($name, value)` pairs, `depth` levels inside `$expand` items.
fn build_options(pairs: Vec<(String, String)>, depth: usize) -> Result<QueryOptions, ODataError> {
    let mut options = QueryOptions::default();
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in pairs {
        let lower = key.to_ascii_lowercase();
        if seen.contains(&lower) {
            return Err(ODataError::new(format!("Query option '{key}' was specified more than once")));
        }
        seen.push(lower.clone());
        match lower.as_str() {
            "$filter" => options.filter = Some(parse_filter(&value)?),
            "$select" => options.select = Some(parse_select(&value)?),
            "$expand" => options.expand = parse_expand(&value, depth)?,
            "$top" => options.top = Some(parse_non_negative("$top", &value)?),
            "$skip" => options.skip = Some(parse_non_negative("$skip", &value)?),
            "$count" => {
                options.count = match value.trim().to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(ODataError::new(format!(
                            "Invalid $count: '{value}' must be true or false"
                        )));
                    }
                }
            }
            "$orderby" => options.orderby = parse_orderby(&value)?,
            _ => {
                return Err(ODataError::new(format!(
                    "Unrecognized query option '{key}'; supported options are {SUPPORTED_OPTIONS}"
                )));
            }
        }
    }
    Ok(options)
}

fn parse_non_negative(option: &str, value: &str) -> Result<usize, ODataError> {
    let trimmed = value.trim();
    let error = || ODataError::new(format!("Invalid {option}: '{value}' is not a non-negative integer"));
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error());
    }
    trimmed.parse().map_err(|_| error())
}

fn parse_select(value: &str) -> Result<Vec<String>, ODataError> {
    if value.trim().is_empty() {
        return Err(ODataError::new("Invalid $select: no properties given"));
    }
    value
        .split(',')
        .map(|part| {
            let name = part.trim();
            if name.is_empty() {
                Err(ODataError::new(format!("Invalid $select: empty property name in '{value}'")))
            } else if name != "*" && !is_valid_path(name) {
                Err(ODataError::new(format!("Invalid $select: invalid property name '{name}'")))
            } else {
                Ok(name.to_string())
            }
        })
        .collect()
}

fn parse_orderby(value: &str) -> Result<Vec<(String, bool)>, ODataError> {
    if value.trim().is_empty() {
        return Err(ODataError::new("Invalid $orderby: no properties given"));
    }
    value
        .split(',')
        .map(|part| {
            let mut words = part.split_whitespace();
            let Some(path) = words.next() else {
                return Err(ODataError::new(format!("Invalid $orderby: empty item in '{value}'")));
            };
            if !is_valid_path(path) {
                return Err(ODataError::new(format!("Invalid $orderby: invalid property name '{path}'")));
            }
            let descending = match words.next() {
                None => false,
                Some(dir) if dir.eq_ignore_ascii_case("asc") => false,
                Some(dir) if dir.eq_ignore_ascii_case("desc") => true,
                Some(dir) => {
                    return Err(ODataError::new(format!(
                        "Invalid $orderby: unknown direction '{dir}' after '{path}'; expected asc or desc"
                    )));
                }
            };
            if let Some(extra) = words.next() {
                return Err(ODataError::new(format!(
                    "Invalid $orderby: unexpected token '{extra}' in '{}'",
                    part.trim()
                )));
            }
            Ok((path.to_string(), descending))
        })
        .collect()
}

/// Splits at `sep` outside parentheses and single-quoted strings. `None` when the parentheses are
/// unbalanced.
fn split_top_level(text: &str, sep: char) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut in_quote = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c == '\'' {
            in_quote = !in_quote;
        } else if in_quote {
            continue;
        } else if c == '(' {
            depth += 1;
        } else if c == ')' {
            depth = depth.checked_sub(1)?;
        } else if c == sep && depth == 0 {
            parts.push(&text[start..i]);
            start = i + c.len_utf8();
        }
    }
    if depth != 0 {
        return None;
    }
    parts.push(&text[start..]);
    Some(parts)
}

fn parse_expand(value: &str, depth: usize) -> Result<Vec<ExpandItem>, ODataError> {
    if value.trim().is_empty() {
        return Err(ODataError::new("Invalid $expand: no navigation properties given"));
    }
    let items = split_top_level(value, ',')
        .ok_or_else(|| ODataError::new(format!("Invalid $expand: unbalanced parentheses in '{value}'")))?;
    items
        .into_iter()
        .map(|raw| {
            let item = raw.trim();
            if item.is_empty() {
                return Err(ODataError::new(format!("Invalid $expand: empty item in '{value}'")));
            }
            let (name, options) = match item.find('(') {
                Some(open) => {
                    if !item.ends_with(')') {
                        return Err(ODataError::new(format!(
                            "Invalid $expand: unexpected text after ')' in '{item}'"
                        )));
                    }
                    let name = item[..open].trim();
                    let inner = &item[open + 1..item.len() - 1];
                    (name, parse_nested_options(name, inner, depth + 1)?)
                }
                None => (item, QueryOptions::default()),
            };
            if name != "*" && !is_valid_path(name) {
                return Err(ODataError::new(format!(
                    "Invalid $expand: invalid navigation property '{name}'"
                )));
            }
            Ok(ExpandItem { name: name.to_string(), options })
        })
        .collect()
}

/// Options inside `name(...)`: `;`-separated `$option=value` pairs, `depth` levels inside
/// `$expand` items.
fn parse_nested_options(name: &str, inner: &str, depth: usize) -> Result<QueryOptions, ODataError> {
    if depth > MAX_EXPAND_DEPTH {
        return Err(ODataError::new(format!(
            "Invalid $expand: the options of '{name}' nest more than {MAX_EXPAND_DEPTH} levels deep"
        )));
    }
    let parts = split_top_level(inner, ';').ok_or_else(|| {
        ODataError::new(format!("Invalid $expand: unbalanced parentheses in options of '{name}'"))
    })?;
    let mut pairs = Vec::new();
    for part in parts {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((key, value)) = part.split_once('=') else {
            return Err(ODataError::new(format!(
                "Invalid $expand: option '{part}' of '{name}' must have the form $option=value"
            )));
        };
        let key = key.trim();
        if !key.starts_with('$') {
            return Err(ODataError::new(format!(
                "Invalid $expand: option '{key}' of '{name}' must start with '$'"
            )));
        }
        pairs.push((key.to_string(), value.trim().to_string()));
    }
    build_options(pairs, depth)
        .map_err(|e| ODataError::new(format!("Invalid $expand item '{name}': {}", e.message)))
}
