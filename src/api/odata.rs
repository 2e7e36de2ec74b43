//! OData system query options (`$filter`, `$select`, `$expand`, `$top`, `$skip`, `$count`,
//! `$orderby`) as the simulated Microsoft Graph API accepts them.
//!
//! The module has three parts:
//!
//! * [`parse_query`] turns the raw query string (the part after `?`, percent-encoded or not) into
//!   [`QueryOptions`], rejecting unknown or duplicated `$` options with a message that names them.
//! * [`parse_filter`] turns a `$filter` expression into a [`Filter`] syntax tree (comparisons,
//!   `in`, `and`/`or`/`not`, parentheses, `startswith`/`endswith`/`contains`, and the lambda
//!   operators `any`/`all` over collection properties). Parse errors name the offending token and
//!   its 0-based character position.
//! * [`Filter::matches`], [`apply_select`], [`apply_orderby`] and [`QueryOptions::apply`] evaluate
//!   the options.
//!
//! Everything is evaluated over [`serde_json::Value`] rather than over typed model structs. Graph
//! resources are rendered to JSON exactly as the wire format shows them (camelCase keys, nested
//! complex types such as `scheduleInfo/expiration/type`, expanded navigation properties), and Graph
//! query semantics are defined over that wire shape: property names are matched
//! case-insensitively, a missing property behaves like `null`, and `$select` trims the rendered
//! object. Working on the rendered JSON lets one implementation serve every collection endpoint,
//! and guarantees the filter sees exactly what the client would see.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/// Parsed OData system query options, either for a whole request or nested inside an `$expand`
/// item (`roleDefinition($select=id,displayName)`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryOptions {
    /// `$filter`.
    pub filter: Option<Filter>,
    /// `$select`, property names as written (`*` means every property).
    pub select: Option<Vec<String>>,
    /// `$expand`, in the order written.
    pub expand: Vec<ExpandItem>,
    /// `$top`.
    pub top: Option<usize>,
    /// `$skip`.
    pub skip: Option<usize>,
    /// `$count=true`.
    pub count: bool,
    /// `$orderby`: property path and whether the order is descending.
    pub orderby: Vec<(String, bool)>,
}

/// One item of `$expand`: a navigation property and the options nested in parentheses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExpandItem {
    /// Navigation property name as written (`principal`, `policy`, or `*`).
    pub name: String,
    /// Options nested in parentheses, e.g. `$expand=rules` for `policy($expand=rules)`.
    pub options: QueryOptions,
}

/// Comparison operators of `$filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// String functions usable as a boolean expression in `$filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringFunction {
    StartsWith,
    EndsWith,
    Contains,
}

/// Lambda operators of `$filter`, applied to a collection property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaOperator {
    /// `collection/any(x: ...)`: some element satisfies the predicate.
    Any,
    /// `collection/all(x: ...)`: every element satisfies the predicate.
    All,
}

/// The `variable: predicate` part of a lambda operator.
///
/// Inside `predicate`, a path whose first segment is `variable` (matched case-insensitively)
/// refers to the current element of the collection (`variable` alone is the element itself, for
/// collections of primitives); the range variables of enclosing lambdas stay visible, and any other
/// path refers to the item being filtered.
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaBody {
    pub variable: String,
    pub predicate: Box<Filter>,
}

/// A literal value in a `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number such as `5`, `-1.5` or `1e3`.
    Number(f64),
    /// A quoted string, `''` unescaped.
    String(String),
    /// An unquoted date or date-time such as `2025-01-01T00:00:00Z` (kept as written).
    DateTime(String),
    /// An unquoted GUID (kept as written).
    Guid(String),
}

/// Syntax tree of a `$filter` expression.
///
/// Comparisons always have the property on the left: `5 lt priority` is stored as
/// `priority gt 5`.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `property op literal`.
    Compare {
        property: String,
        op: CompareOp,
        value: Literal,
    },
    /// `property in (literal, ...)`.
    In {
        property: String,
        values: Vec<Literal>,
    },
    /// `startswith(property, 'text')` and friends (case-insensitive).
    Function {
        function: StringFunction,
        property: String,
        value: String,
    },
    /// `collection/any(variable: predicate)`, `collection/all(variable: predicate)` or
    /// `collection/any()`.
    ///
    /// `any` is true when some element satisfies the predicate (false for a missing, null or
    /// empty collection); `all` is true when every element does (true for an empty collection,
    /// false for a missing or null one). Without a body, `any()` is true for a non-empty
    /// collection.
    Lambda {
        /// Path to the collection, as written; it may start with an enclosing lambda's range
        /// variable (`t/modifiedProperties`).
        collection: String,
        operator: LambdaOperator,
        /// `None` only for the argument-less `collection/any()`.
        body: Option<LambdaBody>,
    },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

/// An invalid query string or query option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ODataError {
    pub message: String,
}

impl ODataError {
    pub fn new(message: impl Into<String>) -> Self {
        ODataError { message: message.into() }
    }
}

impl fmt::Display for ODataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ODataError {}

fn filter_error(message: impl fmt::Display) -> ODataError {
    ODataError::new(format!("Invalid $filter: {message}"))
}

// ---------------------------------------------------------------------------------------------
// Query string
// ---------------------------------------------------------------------------------------------

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
    build_options(pairs)
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

/// Builds options from decoded `($name, value)` pairs.
fn build_options(pairs: Vec<(String, String)>) -> Result<QueryOptions, ODataError> {
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
            "$expand" => options.expand = parse_expand(&value)?,
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

/// A property path: `/`-separated segments, each starting with a letter or `_` and made of
/// letters, digits, `_` and `.`.
fn is_valid_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|segment| {
            let mut chars = segment.chars();
            chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
                && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        })
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

fn parse_expand(value: &str) -> Result<Vec<ExpandItem>, ODataError> {
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
                    (name, parse_nested_options(name, inner)?)
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

/// Options inside `name(...)`: `;`-separated `$option=value` pairs.
fn parse_nested_options(name: &str, inner: &str) -> Result<QueryOptions, ODataError> {
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
    build_options(pairs).map_err(|e| ODataError::new(format!("Invalid $expand item '{name}': {}", e.message)))
}

// ---------------------------------------------------------------------------------------------
// $filter lexer
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// Identifier, property path or keyword.
    Word(String),
    Str(String),
    Num(f64),
    DateTime(String),
    Guid(String),
    LParen,
    RParen,
    Comma,
    /// Separates a lambda's range variable from its predicate (`members/any(m: ...)`).
    Colon,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// 0-based character position in the filter text.
    start: usize,
    /// The token as written.
    text: String,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.' || c == '/'
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` at `i`, not followed by more word characters.
fn guid_at(chars: &[char], i: usize) -> bool {
    let Some(candidate) = chars.get(i..i + 36) else {
        return false;
    };
    let shape_ok = candidate.iter().enumerate().all(|(k, c)| match k {
        8 | 13 | 18 | 23 => *c == '-',
        _ => c.is_ascii_hexdigit(),
    });
    shape_ok && !chars.get(i + 36).is_some_and(|c| is_word_char(*c) || *c == '-')
}

/// `dddd-dd-dd` at `i`.
fn date_at(chars: &[char], i: usize) -> bool {
    let Some(candidate) = chars.get(i..i + 10) else {
        return false;
    };
    candidate.iter().enumerate().all(|(k, c)| match k {
        4 | 7 => *c == '-',
        _ => c.is_ascii_digit(),
    }) && !chars.get(i + 10).is_some_and(|c| c.is_ascii_digit())
}

fn lex(chars: &[char]) -> Result<Vec<Token>, ODataError> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let tok = match c {
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            ':' => {
                i += 1;
                Tok::Colon
            }
            '\'' => {
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(filter_error(format!(
                                "unterminated string literal starting at position {start}"
                            )));
                        }
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            value.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            value.push(*ch);
                            i += 1;
                        }
                    }
                }
                Tok::Str(value)
            }
            _ if guid_at(chars, i) => {
                i += 36;
                Tok::Guid(chars[start..i].iter().collect())
            }
            _ if date_at(chars, i) => {
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '+' | '-'))
                {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                if parse_datetime(&text).is_none() {
                    return Err(filter_error(format!(
                        "invalid datetime literal '{text}' at position {start}"
                    )));
                }
                Tok::DateTime(text)
            }
            _ if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) => {
                i = lex_number(chars, i);
                if chars.get(i).is_some_and(|c| is_word_char(*c)) {
                    while chars.get(i).is_some_and(|c| is_word_char(*c)) {
                        i += 1;
                    }
                    let text: String = chars[start..i].iter().collect();
                    return Err(filter_error(format!("invalid number literal '{text}' at position {start}")));
                }
                let text: String = chars[start..i].iter().collect();
                match text.parse::<f64>() {
                    Ok(n) if n.is_finite() => Tok::Num(n),
                    _ => {
                        return Err(filter_error(format!(
                            "invalid number literal '{text}' at position {start}"
                        )));
                    }
                }
            }
            _ if c.is_alphabetic() || c == '_' => {
                while chars.get(i).is_some_and(|c| is_word_char(*c)) {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                if !is_valid_path(&text) {
                    return Err(filter_error(format!("invalid property path '{text}' at position {start}")));
                }
                Tok::Word(text)
            }
            _ => {
                return Err(filter_error(format!("unexpected character '{c}' at position {start}")));
            }
        };
        tokens.push(Token { tok, start, text: chars[start..i].iter().collect() });
    }
    Ok(tokens)
}

/// Consumes `-?digits(.digits)?([eE][+-]?digits)?` from `i`; returns the end position.
fn lex_number(chars: &[char], mut i: usize) -> usize {
    let digit_at = |k: usize| chars.get(k).is_some_and(|c| c.is_ascii_digit());
    if chars[i] == '-' {
        i += 1;
    }
    while digit_at(i) {
        i += 1;
    }
    if chars.get(i) == Some(&'.') && digit_at(i + 1) {
        i += 1;
        while digit_at(i) {
            i += 1;
        }
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        let sign = usize::from(matches!(chars.get(i + 1), Some('+' | '-')));
        if digit_at(i + 1 + sign) {
            i += 1 + sign;
            while digit_at(i) {
                i += 1;
            }
        }
    }
    i
}

// ---------------------------------------------------------------------------------------------
// $filter parser
// ---------------------------------------------------------------------------------------------

const KEYWORDS: [&str; 13] =
    ["and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "in", "true", "false", "null"];

fn keyword(word: &str) -> Option<&'static str> {
    KEYWORDS.iter().copied().find(|k| k.eq_ignore_ascii_case(word))
}

enum Operand {
    Path(String),
    Literal(Literal),
}

/// A lambda whose body is being parsed.
struct LambdaScope {
    /// The range variable.
    variable: String,
    /// Position of the range variable's declaration.
    declared_at: usize,
    /// The lambda operator token (`members/any`).
    lambda: Token,
    /// Whether the body refers to the range variable.
    used: bool,
    /// The first path in the body that starts with no range variable in scope, and its position.
    stray: Option<(String, usize)>,
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Enclosing lambdas, innermost last.
    scopes: Vec<LambdaScope>,
}

/// Splits `members/any` into the collection path (empty for a bare `any`) and the operator.
fn split_lambda(word: &str) -> Option<(&str, LambdaOperator)> {
    let (collection, name) = word.rsplit_once('/').unwrap_or(("", word));
    if name.eq_ignore_ascii_case("any") {
        Some((collection, LambdaOperator::Any))
    } else if name.eq_ignore_ascii_case("all") {
        Some((collection, LambdaOperator::All))
    } else {
        None
    }
}

/// The first segment of a property path.
fn path_head(path: &str) -> &str {
    path.split('/').next().unwrap_or(path)
}

/// Parses a `$filter` expression.
///
/// Grammar (keywords case-insensitive; `and` binds tighter than `or`, `not` tighter than both):
///
/// ```text
/// or      := and ('or' and)*
/// and     := unary ('and' unary)*
/// unary   := 'not' unary | primary
/// primary := '(' or ')' | function '(' path ',' string ')' | operand op operand
///          | path 'in' '(' [literal (',' literal)*] ')'
///          | path '/' ('any' | 'all') '(' [identifier ':' or] ')'
/// op      := eq | ne | gt | ge | lt | le
/// operand := path | 'string' | number | true | false | null | datetime | guid
/// ```
///
/// In a lambda (`targetResources/any(t: t/id eq 'x')`) the identifier before `:` is the range
/// variable; paths starting with it refer to the collection's element, other paths to the item
/// being filtered (see [`LambdaBody`]). The body must use its range variable, and a nested lambda
/// may not reuse an enclosing lambda's variable name. Only `any` may be written without a body
/// (`members/any()`).
pub fn parse_filter(text: &str) -> Result<Filter, ODataError> {
    let chars: Vec<char> = text.chars().collect();
    let tokens = lex(&chars)?;
    if tokens.is_empty() {
        return Err(filter_error("the filter expression is empty"));
    }
    let mut parser = Parser { tokens, pos: 0, scopes: Vec::new() };
    let filter = parser.parse_or()?;
    match parser.peek() {
        None => Ok(filter),
        Some(t) if t.tok == Tok::RParen => {
            Err(filter_error(format!("unbalanced parentheses: unexpected ')' at position {}", t.start)))
        }
        Some(t) => Err(filter_error(format!(
            "unexpected token '{}' at position {}; expected 'and', 'or' or the end of the filter",
            t.text, t.start
        ))),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(kw))
    }

    fn missing_operand(&self) -> ODataError {
        match (self.peek(), self.pos.checked_sub(1).map(|p| &self.tokens[p])) {
            (Some(t), _) => {
                filter_error(format!("missing operand before '{}' at position {}", t.text, t.start))
            }
            (None, Some(prev)) => {
                filter_error(format!("missing operand after '{}' at position {}", prev.text, prev.start))
            }
            (None, None) => filter_error("the filter expression is empty"),
        }
    }

    fn never_closed(open: usize) -> ODataError {
        filter_error(format!("unbalanced parentheses: '(' at position {open} is never closed"))
    }

    fn parse_or(&mut self) -> Result<Filter, ODataError> {
        let mut left = self.parse_and()?;
        while self.peek_keyword("or") {
            self.pos += 1;
            let right = self.parse_and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> Result<Filter, ODataError> {
        let mut left = self.parse_unary()?;
        while self.peek_keyword("and") {
            self.pos += 1;
            let right = self.parse_unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_unary(&mut self) -> Result<Filter, ODataError> {
        if self.peek_keyword("not") {
            self.pos += 1;
            let inner = self.parse_unary()?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        self.parse_primary()
    }

    fn parse_primary(&mut self) -> Result<Filter, ODataError> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.missing_operand());
        };
        match &token.tok {
            Tok::LParen => {
                self.pos += 1;
                let inner = self.parse_or()?;
                match self.peek() {
                    Some(t) if t.tok == Tok::RParen => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    Some(t) => Err(filter_error(format!(
                        "unexpected token '{}' at position {}; expected ')' to close '(' at position {}",
                        t.text, t.start, token.start
                    ))),
                    None => Err(Self::never_closed(token.start)),
                }
            }
            Tok::Word(w)
                if keyword(w).is_none()
                    && self.tokens.get(self.pos + 1).is_some_and(|t| t.tok == Tok::LParen) =>
            {
                match split_lambda(w) {
                    Some((collection, operator)) => {
                        let collection = collection.to_string();
                        self.parse_lambda(token.clone(), collection, operator)
                    }
                    None => self.parse_function(token.clone()),
                }
            }
            _ => self.parse_comparison(),
        }
    }

    fn parse_operand(&mut self) -> Result<(Operand, Token), ODataError> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.missing_operand());
        };
        let operand = match &token.tok {
            Tok::Word(w) => match keyword(w) {
                Some("true") => Operand::Literal(Literal::Bool(true)),
                Some("false") => Operand::Literal(Literal::Bool(false)),
                Some("null") => Operand::Literal(Literal::Null),
                Some(_) => return Err(self.missing_operand()),
                None => {
                    self.note_path(&token, w);
                    Operand::Path(w.clone())
                }
            },
            Tok::Str(s) => Operand::Literal(Literal::String(s.clone())),
            Tok::Num(n) => Operand::Literal(Literal::Number(*n)),
            Tok::DateTime(d) => Operand::Literal(Literal::DateTime(d.clone())),
            Tok::Guid(g) => Operand::Literal(Literal::Guid(g.clone())),
            Tok::LParen | Tok::RParen | Tok::Comma | Tok::Colon => {
                return Err(self.missing_operand());
            }
        };
        self.pos += 1;
        Ok((operand, token))
    }

    fn parse_comparison(&mut self) -> Result<Filter, ODataError> {
        let (left, left_token) = self.parse_operand()?;
        let Some(op_token) = self.peek().cloned() else {
            return Err(filter_error(format!(
                "missing operator after '{}' at position {}",
                left_token.text, left_token.start
            )));
        };
        let op = match &op_token.tok {
            Tok::Word(w) => match keyword(w) {
                Some("eq") => Some(CompareOp::Eq),
                Some("ne") => Some(CompareOp::Ne),
                Some("gt") => Some(CompareOp::Gt),
                Some("ge") => Some(CompareOp::Ge),
                Some("lt") => Some(CompareOp::Lt),
                Some("le") => Some(CompareOp::Le),
                Some("in") => return self.parse_in(left, left_token),
                _ => None,
            },
            _ => None,
        };
        let Some(op) = op else {
            return Err(filter_error(format!(
                "unexpected token '{}' at position {}; expected a comparison operator (eq, ne, gt, ge, lt, le or in)",
                op_token.text, op_token.start
            )));
        };
        self.pos += 1;
        let (right, right_token) = self.parse_operand()?;
        match (left, right) {
            (Operand::Path(property), Operand::Literal(value)) => Ok(Filter::Compare { property, op, value }),
            (Operand::Literal(value), Operand::Path(property)) => {
                Ok(Filter::Compare { property, op: op.flipped(), value })
            }
            (Operand::Path(_), Operand::Path(_)) => Err(filter_error(format!(
                "cannot compare property '{}' with property '{}' at position {}; one side must be a literal",
                left_token.text, right_token.text, right_token.start
            ))),
            (Operand::Literal(_), Operand::Literal(_)) => Err(filter_error(format!(
                "comparison of literals '{}' and '{}' at position {}; one side must be a property",
                left_token.text, right_token.text, left_token.start
            ))),
        }
    }

    fn parse_in(&mut self, left: Operand, left_token: Token) -> Result<Filter, ODataError> {
        let in_token = self.tokens[self.pos].clone();
        self.pos += 1;
        let Operand::Path(property) = left else {
            return Err(filter_error(format!(
                "the left side of 'in' at position {} must be a property, found '{}'",
                in_token.start, left_token.text
            )));
        };
        let open = match self.peek() {
            Some(t) if t.tok == Tok::LParen => t.start,
            Some(t) => {
                return Err(filter_error(format!(
                    "expected '(' after 'in' at position {}, found '{}'",
                    in_token.start, t.text
                )));
            }
            None => {
                return Err(filter_error(format!("expected '(' after 'in' at position {}", in_token.start)));
            }
        };
        self.pos += 1;
        let mut values = Vec::new();
        if self.peek().is_some_and(|t| t.tok == Tok::RParen) {
            self.pos += 1;
            return Ok(Filter::In { property, values });
        }
        loop {
            if self.peek().is_none() {
                return Err(Self::never_closed(open));
            }
            match self.parse_operand()? {
                (Operand::Literal(value), _) => values.push(value),
                (Operand::Path(_), token) => {
                    return Err(filter_error(format!(
                        "expected a literal in the 'in' list at position {}, found property '{}'",
                        token.start, token.text
                    )));
                }
            }
            match self.peek().cloned() {
                Some(Token { tok: Tok::Comma, .. }) => self.pos += 1,
                Some(Token { tok: Tok::RParen, .. }) => {
                    self.pos += 1;
                    return Ok(Filter::In { property, values });
                }
                Some(t) => {
                    return Err(filter_error(format!(
                        "unexpected token '{}' at position {}; expected ',' or ')' in the 'in' list",
                        t.text, t.start
                    )));
                }
                None => return Err(Self::never_closed(open)),
            }
        }
    }

    /// Records a property path written inside a lambda body: marks the range variable it starts
    /// with as used, or remembers it as the body's first path that starts with none.
    fn note_path(&mut self, token: &Token, path: &str) {
        let head = path_head(path);
        if let Some(scope) = self.scopes.iter_mut().rev().find(|s| s.variable.eq_ignore_ascii_case(head)) {
            scope.used = true;
        } else if let Some(scope) = self.scopes.last_mut() {
            scope.stray.get_or_insert_with(|| (path.to_string(), token.start));
        }
    }

    /// Parses `collection/any(variable: predicate)` and friends; `self.pos` is at the operator
    /// token, which is followed by `(`.
    fn parse_lambda(
        &mut self,
        name: Token,
        collection: String,
        operator: LambdaOperator,
    ) -> Result<Filter, ODataError> {
        if collection.is_empty() {
            return Err(filter_error(format!(
                "lambda operator '{}' at position {} must follow a collection property, as in 'members/{}(m: ...)'",
                name.text,
                name.start,
                name.text.to_ascii_lowercase()
            )));
        }
        self.note_path(&name, &collection);
        let open = self.tokens[self.pos + 1].start;
        self.pos += 2;
        let variable_token = match self.peek().cloned() {
            None => return Err(Self::never_closed(open)),
            Some(t) if t.tok == Tok::RParen => {
                if operator == LambdaOperator::All {
                    return Err(filter_error(format!(
                        "'{}' at position {} needs a range variable and a predicate, as in '{}(x: ...)'",
                        name.text, name.start, name.text
                    )));
                }
                self.pos += 1;
                return Ok(Filter::Lambda { collection, operator, body: None });
            }
            Some(t) => t,
        };
        let variable = match &variable_token.tok {
            Tok::Word(w) if keyword(w).is_none() && w.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                w.clone()
            }
            _ => {
                return Err(filter_error(format!(
                    "expected a range variable name at position {} in '{}', found '{}'",
                    variable_token.start, name.text, variable_token.text
                )));
            }
        };
        self.pos += 1;
        match self.peek() {
            Some(t) if t.tok == Tok::Colon => self.pos += 1,
            Some(t) => {
                return Err(filter_error(format!(
                    "missing ':' after range variable '{variable}' at position {}; found '{}' at position {}",
                    variable_token.start, t.text, t.start
                )));
            }
            None => {
                return Err(filter_error(format!(
                    "missing ':' after range variable '{variable}' at position {}",
                    variable_token.start
                )));
            }
        }
        if let Some(outer) = self.scopes.iter().find(|s| s.variable.eq_ignore_ascii_case(&variable)) {
            return Err(filter_error(format!(
                "range variable '{variable}' at position {} is already declared at position {}",
                variable_token.start, outer.declared_at
            )));
        }
        self.scopes.push(LambdaScope {
            variable: variable.clone(),
            declared_at: variable_token.start,
            lambda: name.clone(),
            used: false,
            stray: None,
        });
        let predicate = self.parse_or();
        let scope = self.scopes.pop().expect("pushed above");
        let predicate = predicate?;
        match self.peek() {
            Some(t) if t.tok == Tok::RParen => self.pos += 1,
            Some(t) => {
                return Err(filter_error(format!(
                    "unexpected token '{}' at position {}; expected ')' to close '{}' at position {}",
                    t.text, t.start, name.text, name.start
                )));
            }
            None => return Err(Self::never_closed(open)),
        }
        if !scope.used {
            return Err(match scope.stray {
                Some((path, start)) => {
                    let head = path_head(&path);
                    let within = if head == path { String::new() } else { format!(" in '{path}'") };
                    filter_error(format!(
                        "unknown range variable '{head}'{within} at position {start}; '{}' at position {} declares '{}'",
                        scope.lambda.text, scope.lambda.start, scope.variable
                    ))
                }
                None => filter_error(format!(
                    "range variable '{}' at position {} is never used in '{}'",
                    scope.variable, scope.declared_at, scope.lambda.text
                )),
            });
        }
        Ok(Filter::Lambda {
            collection,
            operator,
            body: Some(LambdaBody { variable, predicate: Box::new(predicate) }),
        })
    }

    fn parse_function(&mut self, name: Token) -> Result<Filter, ODataError> {
        let function = match name.text.to_ascii_lowercase().as_str() {
            "startswith" => StringFunction::StartsWith,
            "endswith" => StringFunction::EndsWith,
            "contains" => StringFunction::Contains,
            _ => {
                return Err(filter_error(format!(
                    "unsupported function '{}' at position {}; supported functions are startswith, endswith and contains",
                    name.text, name.start
                )));
            }
        };
        let open = self.tokens[self.pos + 1].start;
        self.pos += 2;
        let (first, first_token) = self.parse_operand()?;
        let Operand::Path(property) = first else {
            return Err(filter_error(format!(
                "the first argument of '{}' at position {} must be a property, found '{}'",
                name.text, first_token.start, first_token.text
            )));
        };
        match self.peek() {
            Some(t) if t.tok == Tok::Comma => self.pos += 1,
            Some(t) => {
                return Err(filter_error(format!(
                    "unexpected token '{}' at position {}; expected ',' in '{}'",
                    t.text, t.start, name.text
                )));
            }
            None => return Err(Self::never_closed(open)),
        }
        let (second, second_token) = self.parse_operand()?;
        let value = match second {
            Operand::Literal(Literal::String(s) | Literal::Guid(s)) => s,
            _ => {
                return Err(filter_error(format!(
                    "the second argument of '{}' at position {} must be a string, found '{}'",
                    name.text, second_token.start, second_token.text
                )));
            }
        };
        match self.peek() {
            Some(t) if t.tok == Tok::RParen => self.pos += 1,
            Some(t) => {
                return Err(filter_error(format!(
                    "unexpected token '{}' at position {}; expected ')' to close '{}'",
                    t.text, t.start, name.text
                )));
            }
            None => return Err(Self::never_closed(open)),
        }
        Ok(Filter::Function { function, property, value })
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

impl CompareOp {
    /// The operator with its operands swapped (`5 lt x` is `x gt 5`).
    pub fn flipped(self) -> CompareOp {
        match self {
            CompareOp::Eq => CompareOp::Eq,
            CompareOp::Ne => CompareOp::Ne,
            CompareOp::Gt => CompareOp::Lt,
            CompareOp::Ge => CompareOp::Le,
            CompareOp::Lt => CompareOp::Gt,
            CompareOp::Le => CompareOp::Ge,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    fn evaluate(self, actual: Option<&Value>, literal: &Literal) -> bool {
        if self == CompareOp::Eq {
            return literal_equals(actual, literal);
        }
        if self == CompareOp::Ne {
            return !literal_equals(actual, literal);
        }
        if *literal == Literal::Null {
            return false;
        }
        match compare_to_literal(actual, literal) {
            Some(ordering) => match self {
                CompareOp::Gt => ordering == Ordering::Greater,
                CompareOp::Ge => ordering != Ordering::Less,
                CompareOp::Lt => ordering == Ordering::Less,
                CompareOp::Le => ordering != Ordering::Greater,
                CompareOp::Eq | CompareOp::Ne => unreachable!("handled above"),
            },
            None => false,
        }
    }
}

impl LambdaOperator {
    fn as_str(self) -> &'static str {
        match self {
            LambdaOperator::Any => "any",
            LambdaOperator::All => "all",
        }
    }
}

impl StringFunction {
    fn as_str(self) -> &'static str {
        match self {
            StringFunction::StartsWith => "startswith",
            StringFunction::EndsWith => "endswith",
            StringFunction::Contains => "contains",
        }
    }
}

/// Parses an RFC 3339 date-time, a date (`2025-01-01`, midnight UTC) or a date-time without
/// offset (taken as UTC).
fn parse_datetime(text: &str) -> Option<DateTime<FixedOffset>> {
    let bytes = text.as_bytes();
    if bytes.len() < 10 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt);
    }
    if bytes.len() == 10 {
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        return Some(date.and_time(NaiveTime::MIN).and_utc().fixed_offset());
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|dt| dt.and_utc().fixed_offset())
}

/// Strings compare chronologically when both are date-times, otherwise case-insensitively.
fn compare_strings(a: &str, b: &str) -> Ordering {
    if let (Some(x), Some(y)) = (parse_datetime(a), parse_datetime(b)) {
        return x.cmp(&y);
    }
    a.to_lowercase().cmp(&b.to_lowercase())
}

/// How a JSON value compares with a literal; `None` when they are not comparable.
fn compare_to_literal(actual: Option<&Value>, literal: &Literal) -> Option<Ordering> {
    let actual = actual.filter(|v| !v.is_null());
    match (actual, literal) {
        (None, Literal::Null) => Some(Ordering::Equal),
        (None, _) | (Some(_), Literal::Null) => None,
        (Some(Value::Bool(a)), Literal::Bool(b)) => Some(a.cmp(b)),
        (Some(Value::Number(a)), Literal::Number(b)) => a.as_f64()?.partial_cmp(b),
        (Some(Value::String(a)), Literal::String(b) | Literal::Guid(b)) => Some(compare_strings(a, b)),
        (Some(Value::String(a)), Literal::DateTime(b)) => Some(parse_datetime(a)?.cmp(&parse_datetime(b)?)),
        _ => None,
    }
}

fn literal_equals(actual: Option<&Value>, literal: &Literal) -> bool {
    compare_to_literal(actual, literal) == Some(Ordering::Equal)
}

fn get_case_insensitive<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// Follows a `/`-separated property path through nested objects (keys matched
/// case-insensitively). `None` when a segment is missing or a non-object is in the way.
pub fn resolve_path<'a>(item: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('/').try_fold(item, |current, segment| get_case_insensitive(current.as_object()?, segment))
}

/// Range variables in scope while evaluating a lambda body, innermost last.
type Scope<'a> = Vec<(&'a str, &'a Value)>;

/// Resolves `path` inside lambda bodies: a path starting with a range variable in `scope`
/// (innermost first, case-insensitively) is resolved against that variable's element, any other
/// path against `item`.
fn resolve_scoped<'a>(item: &'a Value, scope: &[(&str, &'a Value)], path: &str) -> Option<&'a Value> {
    let (head, rest) = match path.split_once('/') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    match scope.iter().rev().find(|(variable, _)| variable.eq_ignore_ascii_case(head)) {
        Some((_, element)) => match rest {
            Some(rest) => resolve_path(element, rest),
            None => Some(element),
        },
        None => resolve_path(item, path),
    }
}

impl Filter {
    /// Whether `item` (a rendered Graph object) satisfies the filter.
    pub fn matches(&self, item: &Value) -> bool {
        self.evaluate(item, &mut Vec::new())
    }

    fn evaluate<'a>(&'a self, item: &'a Value, scope: &mut Scope<'a>) -> bool {
        match self {
            Filter::Compare { property, op, value } => {
                op.evaluate(resolve_scoped(item, scope, property), value)
            }
            Filter::In { property, values } => {
                let actual = resolve_scoped(item, scope, property);
                values.iter().any(|v| literal_equals(actual, v))
            }
            Filter::Function { function, property, value } => match resolve_scoped(item, scope, property) {
                Some(Value::String(s)) => {
                    let s = s.to_lowercase();
                    let value = value.to_lowercase();
                    match function {
                        StringFunction::StartsWith => s.starts_with(&value),
                        StringFunction::EndsWith => s.ends_with(&value),
                        StringFunction::Contains => s.contains(&value),
                    }
                }
                _ => false,
            },
            Filter::Lambda { collection, operator, body } => {
                let Some(Value::Array(elements)) = resolve_scoped(item, scope, collection) else {
                    return false;
                };
                let Some(LambdaBody { variable, predicate }) = body else {
                    return *operator == LambdaOperator::All || !elements.is_empty();
                };
                let mut test = |element: &'a Value| {
                    scope.push((variable.as_str(), element));
                    let result = predicate.evaluate(item, scope);
                    scope.pop();
                    result
                };
                match operator {
                    LambdaOperator::Any => elements.iter().any(&mut test),
                    LambdaOperator::All => elements.iter().all(&mut test),
                }
            }
            Filter::And(a, b) => a.evaluate(item, scope) && b.evaluate(item, scope),
            Filter::Or(a, b) => a.evaluate(item, scope) || b.evaluate(item, scope),
            Filter::Not(inner) => !inner.evaluate(item, scope),
        }
    }

    /// Every property path of the filtered item that the filter mentions, as written, in order
    /// of first appearance and without case-insensitive duplicates. A lambda contributes its
    /// collection path (`targetResources` for `targetResources/any(t: t/id eq 'x')`) and the
    /// paths of its body that do not start with a range variable; paths into the collection's
    /// elements are not listed.
    pub fn properties(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        self.collect_properties(&mut Vec::new(), &mut out);
        out
    }

    fn collect_properties<'a>(&'a self, variables: &mut Vec<&'a str>, out: &mut Vec<String>) {
        let mut add = |path: &String, variables: &[&str]| {
            let head = path_head(path);
            if !variables.iter().any(|v| v.eq_ignore_ascii_case(head))
                && !out.iter().any(|p| p.eq_ignore_ascii_case(path))
            {
                out.push(path.clone());
            }
        };
        match self {
            Filter::Compare { property, .. }
            | Filter::In { property, .. }
            | Filter::Function { property, .. } => add(property, variables),
            Filter::Lambda { collection, body, .. } => {
                add(collection, variables);
                if let Some(LambdaBody { variable, predicate }) = body {
                    variables.push(variable);
                    predicate.collect_properties(variables, out);
                    variables.pop();
                }
            }
            Filter::And(a, b) | Filter::Or(a, b) => {
                a.collect_properties(variables, out);
                b.collect_properties(variables, out);
            }
            Filter::Not(inner) => inner.collect_properties(variables, out),
        }
    }

    /// The value `v` when the filter requires `prop eq v` at the top level, alone or inside a
    /// chain of `and` (never under `or` or `not`). The property name is matched
    /// case-insensitively. Strings, GUIDs and datetimes are returned as written, numbers and
    /// booleans in their OData spelling; `prop eq null` gives `None`. When the chain mentions
    /// the property more than once, the first occurrence wins.
    pub fn required_eq(&self, prop: &str) -> Option<String> {
        match self {
            Filter::Compare { property, op: CompareOp::Eq, value } if property.eq_ignore_ascii_case(prop) => {
                match value {
                    Literal::Null => None,
                    Literal::String(s) | Literal::Guid(s) | Literal::DateTime(s) => Some(s.clone()),
                    Literal::Bool(b) => Some(b.to_string()),
                    Literal::Number(n) => Some(n.to_string()),
                }
            }
            Filter::And(a, b) => a.required_eq(prop).or_else(|| b.required_eq(prop)),
            _ => None,
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Filter::Or(..) => 1,
            Filter::And(..) => 2,
            _ => 3,
        }
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, min_precedence: u8) -> fmt::Result {
        let parenthesize = self.precedence() < min_precedence;
        if parenthesize {
            f.write_str("(")?;
        }
        match self {
            Filter::Compare { property, op, value } => write!(f, "{property} {} {value}", op.as_str())?,
            Filter::In { property, values } => {
                write!(f, "{property} in (")?;
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{value}")?;
                }
                f.write_str(")")?;
            }
            Filter::Function { function, property, value } => {
                write!(f, "{}({property}, {})", function.as_str(), Literal::String(value.clone()))?
            }
            Filter::Lambda { collection, operator, body } => {
                write!(f, "{collection}/{}(", operator.as_str())?;
                if let Some(LambdaBody { variable, predicate }) = body {
                    write!(f, "{variable}: ")?;
                    predicate.write(f, 0)?;
                }
                f.write_str(")")?;
            }
            Filter::Or(a, b) => {
                a.write(f, 1)?;
                f.write_str(" or ")?;
                b.write(f, 2)?;
            }
            Filter::And(a, b) => {
                a.write(f, 2)?;
                f.write_str(" and ")?;
                b.write(f, 3)?;
            }
            Filter::Not(inner) => {
                f.write_str("not ")?;
                inner.write(f, 3)?;
            }
        }
        if parenthesize {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// Renders the filter back to OData syntax (parenthesised only where needed); parsing the
/// result gives the same tree.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, 0)
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Number(n) => write!(f, "{n}"),
            Literal::String(s) => write!(f, "'{}'", s.replace('\'', "''")),
            Literal::DateTime(s) | Literal::Guid(s) => f.write_str(s),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// $select, $orderby, whole-collection application
// ---------------------------------------------------------------------------------------------

/// Keeps only the selected properties of `item` (names matched case-insensitively; for a path
/// such as `scheduleInfo/expiration` its first segment is kept), plus `@odata.*` annotations and
/// annotations of selected properties (`principal@odata.context`). `*` keeps everything. An array
/// is processed element by element; other values are left alone.
///
/// Expanded navigation properties are not kept implicitly: add their names to `select` (as
/// [`QueryOptions::apply`] does).
pub fn apply_select(item: &mut Value, select: &[String]) {
    if select.iter().any(|s| s == "*") {
        return;
    }
    match item {
        Value::Object(map) => {
            let selected = |name: &str| {
                select
                    .iter()
                    .any(|s| s.split('/').next().is_some_and(|first| first.eq_ignore_ascii_case(name)))
            };
            map.retain(|key, _| {
                key.starts_with("@odata.")
                    || selected(key)
                    || key.split_once("@odata.").is_some_and(|(owner, _)| selected(owner))
            });
        }
        Value::Array(items) => {
            for element in items {
                apply_select(element, select);
            }
        }
        _ => {}
    }
}

/// Rank of JSON types in `$orderby`: null sorts first in ascending order.
fn type_rank(value: &Value) -> u8 {
    match value {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// A total order over JSON values for sorting: nulls (and missing values) first, then booleans,
/// numbers, strings (date-times chronologically before other strings, which compare
/// case-insensitively), arrays, objects.
fn order_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let a = a.unwrap_or(&Value::Null);
    let b = b.unwrap_or(&Value::Null);
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => {
            x.as_f64().unwrap_or(0.0).total_cmp(&y.as_f64().unwrap_or(0.0))
        }
        (Value::String(x), Value::String(y)) => match (parse_datetime(x), parse_datetime(y)) {
            (Some(dx), Some(dy)) => dx.cmp(&dy),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => x.to_lowercase().cmp(&y.to_lowercase()).then_with(|| x.cmp(y)),
        },
        _ => type_rank(a).cmp(&type_rank(b)),
    }
}

/// Sorts `items` by the `$orderby` keys (stable; each key is a property path and whether it is
/// descending). Missing properties sort like `null`, first when ascending.
pub fn apply_orderby(items: &mut [Value], orderby: &[(String, bool)]) {
    if orderby.is_empty() {
        return;
    }
    items.sort_by(|a, b| {
        orderby
            .iter()
            .map(|(path, descending)| {
                let ordering = order_values(resolve_path(a, path), resolve_path(b, path));
                if *descending { ordering.reverse() } else { ordering }
            })
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    });
}

impl QueryOptions {
    /// The `$expand` item for navigation property `name` (case-insensitive), if requested.
    pub fn expand_item(&self, name: &str) -> Option<&ExpandItem> {
        self.expand.iter().find(|e| e.name.eq_ignore_ascii_case(name) || e.name == "*")
    }

    /// Applies the options to a rendered collection: `$filter`, `$orderby`, `$skip`, `$top`,
    /// then `$select` (keeping expanded navigation properties) and, for every expanded property
    /// already embedded in an item, the options nested in its `$expand` item (recursively; for an
    /// embedded collection this includes its nested `$filter`/`$orderby`/`$skip`/`$top`).
    ///
    /// Returns the resulting items and the number of items that matched the filter before
    /// `$skip`/`$top` (the value of `@odata.count`). Embedding the expanded objects is up to
    /// the caller.
    pub fn apply(&self, items: Vec<Value>) -> (Vec<Value>, usize) {
        let mut items: Vec<Value> = match &self.filter {
            Some(filter) => items.into_iter().filter(|i| filter.matches(i)).collect(),
            None => items,
        };
        let count = items.len();
        apply_orderby(&mut items, &self.orderby);
        let mut items: Vec<Value> =
            items.into_iter().skip(self.skip.unwrap_or(0)).take(self.top.unwrap_or(usize::MAX)).collect();
        for item in &mut items {
            self.shape(item);
        }
        (items, count)
    }

    /// Nested expand options and `$select` for a single object.
    fn shape(&self, item: &mut Value) {
        if let Value::Object(map) = item {
            for expand in &self.expand {
                for (key, value) in map.iter_mut() {
                    if !key.eq_ignore_ascii_case(&expand.name) {
                        continue;
                    }
                    match value {
                        Value::Array(elements) => {
                            let (shaped, _) = expand.options.apply(std::mem::take(elements));
                            *elements = shaped;
                        }
                        Value::Object(_) => expand.options.shape(value),
                        _ => {}
                    }
                }
            }
        }
        if let Some(select) = &self.select {
            let mut keep = select.clone();
            keep.extend(self.expand.iter().map(|e| e.name.clone()));
            apply_select(item, &keep);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(text: &str) -> Filter {
        parse_filter(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str) -> String {
        parse_filter(text).expect_err(&format!("{text} should not parse")).message
    }

    fn qerr(query: &str) -> String {
        parse_query(query).expect_err(&format!("{query} should not parse")).message
    }

    fn cmp(property: &str, op: CompareOp, value: Literal) -> Filter {
        Filter::Compare { property: property.to_string(), op, value }
    }

    fn num(property: &str, n: f64) -> Filter {
        cmp(property, CompareOp::Eq, Literal::Number(n))
    }

    fn and(a: Filter, b: Filter) -> Filter {
        Filter::And(Box::new(a), Box::new(b))
    }

    fn or(a: Filter, b: Filter) -> Filter {
        Filter::Or(Box::new(a), Box::new(b))
    }

    fn not(a: Filter) -> Filter {
        Filter::Not(Box::new(a))
    }

    fn assignment() -> Value {
        json!({
            "@odata.type": "#microsoft.graph.unifiedRoleAssignmentSchedule",
            "id": "a1",
            "principalId": "071cc716-8147-4397-a5ba-b2105951cc0b",
            "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10",
            "directoryScopeId": "/",
            "status": "Provisioned",
            "memberType": "Direct",
            "createdUsing": null,
            "isBuiltIn": true,
            "priority": 5,
            "displayName": "Global Administrator",
            "activityDateTime": "2025-01-15T10:30:00.1234567Z",
            "principal": {"id": "071cc716-8147-4397-a5ba-b2105951cc0b", "displayName": "Alex"},
            "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "PT8H"}},
            "tags": ["a", "b"]
        })
    }

    fn matches(text: &str) -> bool {
        f(text).matches(&assignment())
    }

    // ----- parsing: structure ------------------------------------------------------------

    #[test]
    fn parses_simple_comparison() {
        assert_eq!(
            f("status eq 'PendingApproval'"),
            cmp("status", CompareOp::Eq, Literal::String("PendingApproval".into()))
        );
    }

    #[test]
    fn parses_every_comparison_operator() {
        for (text, op) in [
            ("eq", CompareOp::Eq),
            ("ne", CompareOp::Ne),
            ("gt", CompareOp::Gt),
            ("ge", CompareOp::Ge),
            ("lt", CompareOp::Lt),
            ("le", CompareOp::Le),
        ] {
            assert_eq!(f(&format!("priority {text} 5")), cmp("priority", op, Literal::Number(5.0)));
        }
    }

    #[test]
    fn and_binds_tighter_than_or() {
        assert_eq!(f("a eq 1 or b eq 2 and c eq 3"), or(num("a", 1.0), and(num("b", 2.0), num("c", 3.0))));
        assert_eq!(f("a eq 1 and b eq 2 or c eq 3"), or(and(num("a", 1.0), num("b", 2.0)), num("c", 3.0)));
        let filter = f("a eq 1 or b eq 2 and c eq 3");
        assert!(filter.matches(&json!({"a": 1, "b": 0, "c": 0})));
        assert!(!filter.matches(&json!({"a": 0, "b": 2, "c": 0})));
        assert!(filter.matches(&json!({"a": 0, "b": 2, "c": 3})));
    }

    #[test]
    fn and_or_are_left_associative() {
        assert_eq!(f("a eq 1 and b eq 2 and c eq 3"), and(and(num("a", 1.0), num("b", 2.0)), num("c", 3.0)));
        assert_eq!(f("a eq 1 or b eq 2 or c eq 3"), or(or(num("a", 1.0), num("b", 2.0)), num("c", 3.0)));
    }

    #[test]
    fn parentheses_override_precedence() {
        let filter = f("(a eq 1 or b eq 2) and c eq 3");
        assert_eq!(filter, and(or(num("a", 1.0), num("b", 2.0)), num("c", 3.0)));
        assert!(!filter.matches(&json!({"a": 1, "b": 0, "c": 0})));
        assert!(filter.matches(&json!({"a": 1, "b": 0, "c": 3})));
        assert_eq!(f("((a eq 1))"), num("a", 1.0));
        let real = f("(status eq 'Granted' or status eq 'Provisioned') and memberType ne 'Group'");
        assert!(real.matches(&assignment()));
        assert!(!real.matches(&json!({"status": "Provisioned", "memberType": "Group"})));
        assert!(real.matches(&json!({"status": "granted"})));
    }

    #[test]
    fn not_operator() {
        assert_eq!(f("not a eq 1"), not(num("a", 1.0)));
        assert_eq!(f("not a eq 1 and b eq 2"), and(not(num("a", 1.0)), num("b", 2.0)));
        assert_eq!(f("not (a eq 1 or b eq 2)"), not(or(num("a", 1.0), num("b", 2.0))));
        assert_eq!(f("not not a eq 1"), not(not(num("a", 1.0))));
        assert_eq!(f("not(a eq 1)"), not(num("a", 1.0)));
        assert!(!matches("not status eq 'Provisioned'"));
        assert!(matches("not status eq 'Granted'"));
        assert!(matches("not (status eq 'Granted' or priority eq 4)"));
        assert!(matches("NOT not status eq 'provisioned'"));
    }

    #[test]
    fn in_operator() {
        assert_eq!(
            f("roleDefinitionId in ('a','b')"),
            Filter::In {
                property: "roleDefinitionId".into(),
                values: vec![Literal::String("a".into()), Literal::String("b".into())]
            }
        );
        assert!(matches("roleDefinitionId in ('x', '62E90394-69F5-4237-9190-012177145E10')"));
        assert!(!matches("roleDefinitionId in ('x', 'y')"));
        assert!(matches("priority in (1, 5)"));
        assert!(matches("status IN ('provisioned')"));
        assert!(matches("principalId in (071cc716-8147-4397-a5ba-b2105951cc0b)"));
        assert!(matches("createdUsing in ('x', null)"));
        assert!(!matches("status in ()"));
        assert!(matches("not status in ('Granted')"));
    }

    #[test]
    fn literals_are_parsed() {
        assert_eq!(f("name eq 'O''Brien'"), cmp("name", CompareOp::Eq, Literal::String("O'Brien".into())));
        assert_eq!(f("name eq ''"), cmp("name", CompareOp::Eq, Literal::String(String::new())));
        assert_eq!(f("n eq -1.5e2"), cmp("n", CompareOp::Eq, Literal::Number(-150.0)));
        assert_eq!(f("b eq TRUE"), cmp("b", CompareOp::Eq, Literal::Bool(true)));
        assert_eq!(f("b eq false"), cmp("b", CompareOp::Eq, Literal::Bool(false)));
        assert_eq!(f("b eq Null"), cmp("b", CompareOp::Eq, Literal::Null));
        assert_eq!(
            f("d ge 2025-01-01T00:00:00Z"),
            cmp("d", CompareOp::Ge, Literal::DateTime("2025-01-01T00:00:00Z".into()))
        );
        assert_eq!(
            f("id eq fe930be7-5e62-47db-91af-98c3a49a38b1"),
            cmp("id", CompareOp::Eq, Literal::Guid("fe930be7-5e62-47db-91af-98c3a49a38b1".into()))
        );
        assert_eq!(
            f("id eq 071cc716-8147-4397-a5ba-b2105951cc0b"),
            cmp("id", CompareOp::Eq, Literal::Guid("071cc716-8147-4397-a5ba-b2105951cc0b".into()))
        );
        // Strings keep spaces, parentheses and keywords verbatim.
        assert_eq!(
            f("name eq ' a (and) or '"),
            cmp("name", CompareOp::Eq, Literal::String(" a (and) or ".into()))
        );
    }

    #[test]
    fn literal_on_the_left_is_normalised() {
        assert_eq!(f("5 lt priority"), cmp("priority", CompareOp::Gt, Literal::Number(5.0)));
        assert_eq!(
            f("'Provisioned' eq status"),
            cmp("status", CompareOp::Eq, Literal::String("Provisioned".into()))
        );
        assert!(matches("4 lt priority"));
        assert!(!matches("5 lt priority"));
    }

    #[test]
    fn keywords_and_properties_are_case_insensitive() {
        assert!(matches("PRINCIPALID EQ '071CC716-8147-4397-A5BA-B2105951CC0B' AND Status Eq 'provisioned'"));
        assert!(matches("status eq 'x' Or isbuiltin eq TRUE"));
        assert!(matches("CREATEDUSING EQ NULL"));
        assert!(matches("displayname eq 'global ADMINISTRATOR'"));
    }

    // ----- evaluation ----------------------------------------------------------------------

    #[test]
    fn real_client_filters() {
        assert!(matches(
            "principalId eq '071cc716-8147-4397-a5ba-b2105951cc0b' and roleDefinitionId eq '62e90394-69f5-4237-9190-012177145e10'"
        ));
        assert!(!matches(
            "principalId eq '071cc716-8147-4397-a5ba-b2105951cc0b' and roleDefinitionId eq 'fe930be7-5e62-47db-91af-98c3a49a38b1'"
        ));
        let policy = json!({"scopeId": "/", "scopeType": "DirectoryRole", "roleDefinitionId": "fe930be7"});
        assert!(f("scopeId eq '/' and scopeType eq 'DirectoryRole'").matches(&policy));
        assert!(
            f("scopeId eq '/' and scopeType eq 'DirectoryRole' and roleDefinitionId eq 'fe930be7'")
                .matches(&policy)
        );
        assert!(matches("isBuiltIn eq true"));
        assert!(!matches("isBuiltIn eq false"));
        assert!(matches("isBuiltIn ne false"));
    }

    #[test]
    fn numeric_comparisons() {
        assert!(matches("priority eq 5"));
        assert!(matches("priority eq 5.0"));
        assert!(!matches("priority ne 5"));
        assert!(matches("priority gt 4"));
        assert!(!matches("priority gt 5"));
        assert!(matches("priority ge 5"));
        assert!(!matches("priority ge 6"));
        assert!(matches("priority lt 6"));
        assert!(!matches("priority lt 5"));
        assert!(matches("priority le 5"));
        assert!(!matches("priority le 4"));
        assert!(matches("priority gt -10"));
    }

    #[test]
    fn string_comparisons() {
        assert!(matches("status eq 'PROVISIONED'"));
        assert!(matches("status ne 'Granted'"));
        assert!(!matches("status ne 'provisioned'"));
        assert!(matches("displayName gt 'alpha'"));
        assert!(matches("displayName gt 'ALPHA'"));
        assert!(matches("displayName lt 'zeta'"));
        assert!(matches("displayName ge 'global administrator'"));
        assert!(matches("displayName le 'GLOBAL ADMINISTRATOR'"));
        assert!(!matches("displayName lt 'global'"));
    }

    #[test]
    fn datetime_comparisons() {
        assert!(matches(
            "activityDateTime ge 2025-01-01T00:00:00Z and activityDateTime le 2025-02-01T00:00:00Z"
        ));
        assert!(!matches("activityDateTime ge 2025-02-01T00:00:00Z"));
        assert!(matches("activityDateTime gt 2025-01-15T10:30:00Z"));
        assert!(matches("activityDateTime lt 2025-01-15T10:30:00.5Z"));
        // Offsets are honoured: 11:30+01:00 is 10:30Z.
        assert!(matches("activityDateTime ge 2025-01-15T11:30:00+01:00"));
        assert!(!matches("activityDateTime lt 2025-01-15T11:30:00+01:00"));
        // Date-only literal means midnight UTC.
        assert!(matches("activityDateTime gt 2025-01-15"));
        assert!(matches("activityDateTime lt 2025-01-16"));
        // Chronological, not lexicographic: '+14:00' on the 16th is before 10:30Z on the 15th.
        assert!(matches("activityDateTime gt 2025-01-16T00:00:00+14:00"));
        // Quoted datetimes compare chronologically too.
        let item = json!({"start": "2025-01-01T00:00:00Z"});
        assert!(f("start eq '2025-01-01T01:00:00+01:00'").matches(&item));
        assert!(f("start eq 2025-01-01T01:00:00+01:00").matches(&item));
        assert!(f("start lt '2025-01-01T00:00:01Z'").matches(&item));
        // A datetime literal against a non-datetime string or a number is not comparable.
        assert!(!matches("displayName gt 2025-01-01T00:00:00Z"));
        assert!(!matches("priority gt 2025-01-01T00:00:00Z"));
        assert!(matches("displayName ne 2025-01-01T00:00:00Z"));
    }

    #[test]
    fn null_handling() {
        // Missing property and JSON null both equal null.
        assert!(matches("createdUsing eq null"));
        assert!(matches("doesNotExist eq null"));
        assert!(!matches("createdUsing ne null"));
        assert!(matches("status ne null"));
        assert!(!matches("status eq null"));
        // Non-null literal against a missing/null value.
        assert!(!matches("createdUsing eq 'x'"));
        assert!(matches("createdUsing ne 'x'"));
        assert!(!matches("doesNotExist eq 5"));
        assert!(matches("doesNotExist ne 5"));
        // Ordering with null is always false.
        assert!(!matches("createdUsing gt 'a'"));
        assert!(!matches("createdUsing lt 'a'"));
        assert!(!matches("priority gt null"));
        assert!(!matches("createdUsing ge null"));
        assert!(!matches("createdUsing le null"));
        assert!(matches("not createdUsing gt 'a'"));
    }

    #[test]
    fn mismatched_types_are_false() {
        assert!(!matches("isBuiltIn eq 'true'"));
        assert!(matches("isBuiltIn ne 'true'"));
        assert!(!matches("priority eq '5'"));
        assert!(!matches("status eq 5"));
        assert!(!matches("status gt 5"));
        assert!(!matches("priority gt 'a'"));
        assert!(!matches("principal eq 'x'"));
        assert!(!matches("tags eq 'a'"));
        assert!(!matches("isBuiltIn gt 5"));
    }

    #[test]
    fn nested_paths() {
        assert!(matches("principal/id eq '071cc716-8147-4397-a5ba-b2105951cc0b'"));
        assert!(matches("Principal/DisplayName eq 'alex'"));
        assert!(matches("scheduleInfo/expiration/type eq 'afterDuration'"));
        assert!(!matches("scheduleInfo/expiration/type eq 'noExpiration'"));
        assert!(matches("scheduleInfo/expiration/endDateTime eq null"));
        assert!(matches("scheduleInfo/missing/type eq null"));
        // A path through a non-object resolves to nothing.
        assert!(matches("status/value eq null"));
        assert!(matches("tags/x eq null"));
        assert!(!matches("principal/id eq null"));
        assert_eq!(resolve_path(&assignment(), "SCHEDULEINFO/expiration/Duration"), Some(&json!("PT8H")));
    }

    #[test]
    fn exact_key_preferred_over_case_insensitive_key() {
        let item = json!({"Status": "a", "status": "b"});
        assert!(f("status eq 'b'").matches(&item));
        assert!(f("Status eq 'a'").matches(&item));
    }

    #[test]
    fn string_functions() {
        assert!(matches("startswith(displayName, 'global')"));
        assert!(matches("endswith(displayName,'ADMINISTRATOR')"));
        assert!(matches("contains(displayName, 'l adm')"));
        assert!(!matches("contains(displayName, 'reader')"));
        assert!(!matches("startswith(priority, '5')"));
        assert!(!matches("startswith(missing, 'a')"));
        assert!(matches("StartsWith(displayName, 'G') and not contains(displayName, 'x')"));
        assert_eq!(
            f("startswith(displayName, 'Global')"),
            Filter::Function {
                function: StringFunction::StartsWith,
                property: "displayName".into(),
                value: "Global".into()
            }
        );
    }

    // ----- properties / required_eq / Display -------------------------------------------

    #[test]
    fn properties_lists_every_path_once() {
        let filter = f(
            "(status eq 'a' or Status eq 'b') and not principal/id in ('x') and startswith(displayName,'G') and 5 lt priority and status ne null",
        );
        assert_eq!(filter.properties(), vec!["status", "principal/id", "displayName", "priority"]);
    }

    #[test]
    fn required_eq_finds_top_level_equalities() {
        let filter = f(
            "scopeId eq '/' and scopeType eq 'DirectoryRole' and roleDefinitionId eq 'fe930be7-5e62-47db-91af-98c3a49a38b1'",
        );
        assert_eq!(filter.required_eq("scopeId").as_deref(), Some("/"));
        assert_eq!(filter.required_eq("SCOPETYPE").as_deref(), Some("DirectoryRole"));
        assert_eq!(
            filter.required_eq("roleDefinitionId").as_deref(),
            Some("fe930be7-5e62-47db-91af-98c3a49a38b1")
        );
        assert_eq!(filter.required_eq("principalId"), None);

        assert_eq!(f("principalId eq 'p'").required_eq("principalId").as_deref(), Some("p"));
        assert_eq!(f("(a eq 'x' and (b eq 'y')) and c eq 'z'").required_eq("b").as_deref(), Some("y"));
        assert_eq!(f("'p' eq principalId").required_eq("principalId").as_deref(), Some("p"));
        assert_eq!(
            f("groupId eq 071cc716-8147-4397-a5ba-b2105951cc0b").required_eq("groupId").as_deref(),
            Some("071cc716-8147-4397-a5ba-b2105951cc0b")
        );
        assert_eq!(f("n eq 5").required_eq("n").as_deref(), Some("5"));
        assert_eq!(f("b eq true").required_eq("b").as_deref(), Some("true"));
        // Not required: under or / not, other operators, null.
        assert_eq!(f("a eq 'x' or b eq 'y'").required_eq("a"), None);
        assert_eq!(f("not a eq 'x'").required_eq("a"), None);
        assert_eq!(f("a ne 'x'").required_eq("a"), None);
        assert_eq!(f("a in ('x')").required_eq("a"), None);
        assert_eq!(f("a eq null").required_eq("a"), None);
        assert_eq!(f("(a eq 'x' or a eq 'y') and b eq 'z'").required_eq("a"), None);
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "a eq 1 or b eq 2 and c eq 3",
            "(a eq 1 or b eq 2) and c eq 3",
            "a eq 1 and (b eq 2 and c eq 3)",
            "a eq 1 or (b eq 2 or c eq 3)",
            "not (a eq 'x' and b ne null)",
            "not not a eq true",
            "name eq 'O''Brien' and id in ('a', 071cc716-8147-4397-a5ba-b2105951cc0b, 3, null)",
            "t ge 2025-01-01T00:00:00Z and t lt 2025-02-01",
            "startswith(displayName, 'it''s') or x le -2.5",
            "principal/id eq 'p' and n in ()",
        ] {
            let parsed = f(text);
            let rendered = parsed.to_string();
            assert_eq!(f(&rendered), parsed, "{text} -> {rendered}");
        }
        assert_eq!(
            f("(a eq 1 or b eq 2) and not c eq 'x'").to_string(),
            "(a eq 1 or b eq 2) and not c eq 'x'"
        );
        assert_eq!(f("a eq 1 or (b eq 2)").to_string(), "a eq 1 or b eq 2");
    }

    // ----- filter errors --------------------------------------------------------------------

    #[test]
    fn error_unknown_operator() {
        assert_eq!(
            err("principalId eqq 'abc'"),
            "Invalid $filter: unexpected token 'eqq' at position 12; expected a comparison operator (eq, ne, gt, ge, lt, le or in)"
        );
        assert_eq!(
            err("status and x eq 1"),
            "Invalid $filter: unexpected token 'and' at position 7; expected a comparison operator (eq, ne, gt, ge, lt, le or in)"
        );
        assert!(err("a has 'x'").contains("unexpected token 'has' at position 2"));
    }

    #[test]
    fn error_unterminated_string() {
        assert_eq!(
            err("status eq 'Provisioned"),
            "Invalid $filter: unterminated string literal starting at position 10"
        );
        assert_eq!(
            err("name eq 'it''s"),
            "Invalid $filter: unterminated string literal starting at position 8"
        );
    }

    #[test]
    fn error_missing_operand() {
        assert_eq!(err("principalId eq"), "Invalid $filter: missing operand after 'eq' at position 12");
        assert_eq!(err("eq 'x'"), "Invalid $filter: missing operand before 'eq' at position 0");
        assert_eq!(err("a eq 1 and"), "Invalid $filter: missing operand after 'and' at position 7");
        assert_eq!(err("a eq 1 or or b eq 2"), "Invalid $filter: missing operand before 'or' at position 10");
        assert_eq!(err("a eq and b eq 1"), "Invalid $filter: missing operand before 'and' at position 5");
        assert_eq!(err("not"), "Invalid $filter: missing operand after 'not' at position 0");
        assert_eq!(err("()"), "Invalid $filter: missing operand before ')' at position 1");
        assert_eq!(err("status"), "Invalid $filter: missing operator after 'status' at position 0");
        assert_eq!(err("a in ('x',)"), "Invalid $filter: missing operand before ')' at position 10");
    }

    #[test]
    fn error_unbalanced_parentheses() {
        assert_eq!(
            err("(a eq 1"),
            "Invalid $filter: unbalanced parentheses: '(' at position 0 is never closed"
        );
        assert_eq!(err("a eq 1)"), "Invalid $filter: unbalanced parentheses: unexpected ')' at position 6");
        assert_eq!(
            err("((a eq 1) or b eq 2"),
            "Invalid $filter: unbalanced parentheses: '(' at position 0 is never closed"
        );
        assert_eq!(
            err("a in ('x', 'y'"),
            "Invalid $filter: unbalanced parentheses: '(' at position 5 is never closed"
        );
        assert_eq!(
            err("startswith(a, 'x'"),
            "Invalid $filter: unbalanced parentheses: '(' at position 10 is never closed"
        );
        assert_eq!(
            err("(a eq 1 b eq 2)"),
            "Invalid $filter: unexpected token 'b' at position 8; expected ')' to close '(' at position 0"
        );
    }

    #[test]
    fn error_trailing_tokens() {
        assert_eq!(
            err("a eq 1 b"),
            "Invalid $filter: unexpected token 'b' at position 7; expected 'and', 'or' or the end of the filter"
        );
        assert_eq!(
            err("a eq 'x' 'y'"),
            "Invalid $filter: unexpected token ''y'' at position 9; expected 'and', 'or' or the end of the filter"
        );
    }

    #[test]
    fn error_empty_filter() {
        assert_eq!(err(""), "Invalid $filter: the filter expression is empty");
        assert_eq!(err("   "), "Invalid $filter: the filter expression is empty");
    }

    #[test]
    fn error_bad_tokens_and_shapes() {
        assert_eq!(err("a eq \"x\""), "Invalid $filter: unexpected character '\"' at position 5");
        assert_eq!(err("a eq 12abc"), "Invalid $filter: invalid number literal '12abc' at position 5");
        assert_eq!(
            err("d ge 2025-13-01T00:00:00Z"),
            "Invalid $filter: invalid datetime literal '2025-13-01T00:00:00Z' at position 5"
        );
        assert_eq!(
            err("principal/ eq 'x'"),
            "Invalid $filter: invalid property path 'principal/' at position 0"
        );
        assert_eq!(
            err("a eq b"),
            "Invalid $filter: cannot compare property 'a' with property 'b' at position 5; one side must be a literal"
        );
        assert_eq!(
            err("1 eq 1"),
            "Invalid $filter: comparison of literals '1' and '1' at position 0; one side must be a property"
        );
        assert_eq!(
            err("'x' in ('x')"),
            "Invalid $filter: the left side of 'in' at position 4 must be a property, found ''x''"
        );
        assert_eq!(err("a in 'x'"), "Invalid $filter: expected '(' after 'in' at position 2, found ''x''");
        assert_eq!(err("a in"), "Invalid $filter: expected '(' after 'in' at position 2");
        assert_eq!(
            err("a in ('x' 'y')"),
            "Invalid $filter: unexpected token ''y'' at position 10; expected ',' or ')' in the 'in' list"
        );
        assert_eq!(
            err("a in ('x', b)"),
            "Invalid $filter: expected a literal in the 'in' list at position 11, found property 'b'"
        );
        assert_eq!(
            err("members/count(m: m/id eq 'x')"),
            "Invalid $filter: unsupported function 'members/count' at position 0; supported functions are startswith, endswith and contains"
        );
        assert_eq!(
            err("startswith('x', 'y')"),
            "Invalid $filter: the first argument of 'startswith' at position 11 must be a property, found ''x''"
        );
        assert_eq!(
            err("startswith(a, 5)"),
            "Invalid $filter: the second argument of 'startswith' at position 14 must be a string, found '5'"
        );
        assert_eq!(
            err("startswith(a 'x')"),
            "Invalid $filter: unexpected token ''x'' at position 13; expected ',' in 'startswith'"
        );
    }

    // ----- lambda operators ---------------------------------------------------------------

    fn audit() -> Value {
        json!({
            "id": "audit1",
            "activityDateTime": "2025-01-15T10:30:00Z",
            "category": "RoleManagement",
            "targetResources": [
                {"id": "071cc716-8147-4397-a5ba-b2105951cc0b", "displayName": "Alex", "type": "User"},
                {
                    "id": "62e90394-69f5-4237-9190-012177145e10",
                    "displayName": "Global Administrator",
                    "type": "Role",
                    "modifiedProperties": [
                        {"displayName": "Role.DisplayName", "newValue": "Global Administrator"},
                        {"displayName": "Role.TemplateId", "newValue": null}
                    ]
                }
            ],
            "roles": ["x", "Reader"],
            "tags": ["alpha", "apple"],
            "members": [],
            "owners": null,
            "mixed": ["a", 1, null]
        })
    }

    fn audit_matches(text: &str) -> bool {
        f(text).matches(&audit())
    }

    fn lambda(collection: &str, operator: LambdaOperator, variable: &str, predicate: Filter) -> Filter {
        Filter::Lambda {
            collection: collection.into(),
            operator,
            body: Some(LambdaBody { variable: variable.into(), predicate: Box::new(predicate) }),
        }
    }

    #[test]
    fn lambda_any_over_objects() {
        let text = "targetResources/any(t: t/id eq '071cc716-8147-4397-a5ba-b2105951cc0b')";
        assert_eq!(
            f(text),
            lambda(
                "targetResources",
                LambdaOperator::Any,
                "t",
                cmp("t/id", CompareOp::Eq, Literal::String("071cc716-8147-4397-a5ba-b2105951cc0b".into()))
            )
        );
        assert!(audit_matches(text));
        assert!(audit_matches("targetResources/any(t: t/id eq 071CC716-8147-4397-A5BA-B2105951CC0B)"));
        assert!(!audit_matches("targetResources/any(t: t/id eq 'fe930be7-5e62-47db-91af-98c3a49a38b1')"));
        assert!(!f(text).matches(&json!({"targetResources": [{"id": "other"}]})));
    }

    #[test]
    fn lambda_predicate_applies_to_one_element() {
        let text = "targetResources/any(t:t/displayName eq 'Global Administrator' and t/type eq 'Role')";
        assert_eq!(
            f(text),
            lambda(
                "targetResources",
                LambdaOperator::Any,
                "t",
                and(
                    cmp("t/displayName", CompareOp::Eq, Literal::String("Global Administrator".into())),
                    cmp("t/type", CompareOp::Eq, Literal::String("Role".into()))
                )
            )
        );
        assert!(audit_matches(text));
        // Both conditions hold, but on different elements.
        assert!(!audit_matches("targetResources/any(t: t/displayName eq 'Alex' and t/type eq 'Role')"));
        assert!(audit_matches("targetResources/any(t: t/displayName eq 'Alex' or t/type eq 'Role')"));
        assert!(audit_matches("targetResources/any(t: not (t/type eq 'Role'))"));
        assert!(audit_matches("targetResources/any(t: t/type in ('Group', 'role'))"));
        assert!(audit_matches("targetResources/any(t: startswith(t/displayName, 'global'))"));
    }

    #[test]
    fn lambda_over_primitive_collections() {
        assert_eq!(
            f("roles/any(r: r eq 'x')"),
            lambda("roles", LambdaOperator::Any, "r", cmp("r", CompareOp::Eq, Literal::String("x".into())))
        );
        assert!(audit_matches("roles/any(r: r eq 'x')"));
        assert!(audit_matches("roles/any(r: r eq 'READER')"));
        assert!(!audit_matches("roles/any(r: r eq 'Owner')"));
        assert!(audit_matches("roles/any(r: 'x' eq r)"));
        assert!(audit_matches("roles/any(r: r in ('Owner', 'reader'))"));
        assert!(!audit_matches("roles/all(r: r eq 'x')"));
        assert!(audit_matches("roles/all(r: r ne null)"));
        assert!(!audit_matches("mixed/all(r: r ne null)"));
        assert!(audit_matches("mixed/any(r: r eq 1)"));
        // A primitive element has no properties.
        assert!(!audit_matches("roles/any(r: r/id eq 'x')"));
        assert!(audit_matches("roles/all(r: r/id eq null)"));
    }

    #[test]
    fn lambda_all() {
        assert_eq!(
            f("tags/all(x: startswith(x, 'a'))"),
            lambda(
                "tags",
                LambdaOperator::All,
                "x",
                Filter::Function {
                    function: StringFunction::StartsWith,
                    property: "x".into(),
                    value: "a".into()
                }
            )
        );
        assert!(audit_matches("tags/all(x: startswith(x, 'a'))"));
        assert!(!audit_matches("tags/all(x: startswith(x, 'al'))"));
        assert!(audit_matches("tags/any(x: startswith(x, 'al'))"));
        assert!(audit_matches("targetResources/all(t: t/id ne null and t/type ne 'Group')"));
        assert!(!audit_matches("targetResources/all(t: t/type eq 'Role')"));
    }

    #[test]
    fn lambda_any_without_argument() {
        assert_eq!(
            f("members/any()"),
            Filter::Lambda { collection: "members".into(), operator: LambdaOperator::Any, body: None }
        );
        assert!(!audit_matches("members/any()"));
        assert!(audit_matches("not members/any()"));
        assert!(audit_matches("roles/any()"));
        assert!(audit_matches("targetResources/any ( )"));
        assert!(!audit_matches("owners/any()"));
        assert!(!audit_matches("missing/any()"));
        assert!(!audit_matches("category/any()"));
        assert!(f("members/any()").matches(&json!({"members": [{"id": "m"}]})));
    }

    #[test]
    fn lambda_missing_null_and_empty_collections() {
        // any: false for empty, null, missing and non-collection values.
        assert!(!audit_matches("members/any(m: m/id eq 'x')"));
        assert!(!audit_matches("members/any(m: m/id eq null)"));
        assert!(!audit_matches("owners/any(o: o/id eq null)"));
        assert!(!audit_matches("missing/any(m: m eq null)"));
        assert!(!audit_matches("category/any(c: c eq null)"));
        // all: true for an empty collection, false for null, missing and non-collection values.
        assert!(audit_matches("members/all(m: m/id eq 'x')"));
        assert!(!audit_matches("owners/all(o: o/id eq 'x')"));
        assert!(!audit_matches("missing/all(m: m/id eq 'x')"));
        assert!(!audit_matches("category/all(c: c ne null)"));
        assert!(audit_matches("not owners/all(o: o/id eq 'x')"));
    }

    #[test]
    fn lambda_combined_with_other_clauses() {
        let text = "activityDateTime ge 2025-01-01T00:00:00Z and targetResources/any(t: t/id eq 'abc')";
        assert_eq!(
            f(text),
            and(
                cmp("activityDateTime", CompareOp::Ge, Literal::DateTime("2025-01-01T00:00:00Z".into())),
                lambda(
                    "targetResources",
                    LambdaOperator::Any,
                    "t",
                    cmp("t/id", CompareOp::Eq, Literal::String("abc".into()))
                )
            )
        );
        assert!(!audit_matches(text));
        let item = json!({"activityDateTime": "2025-03-01T00:00:00Z", "targetResources": [{"id": "abc"}]});
        assert!(f(text).matches(&item));
        assert!(!f(text).matches(
            &json!({"activityDateTime": "2024-12-31T00:00:00Z", "targetResources": [{"id": "abc"}]})
        ));
        assert!(audit_matches(
            "category eq 'RoleManagement' and (targetResources/any(t: t/type eq 'Group') or roles/any(r: r eq 'x'))"
        ));
        assert!(audit_matches("targetResources/any(t: t/type eq 'User') and not tags/any(x: x eq 'beta')"));
        let q = parse_query("$filter=targetResources%2Fany(t%3At%2Fid+eq+'abc')&$count=true").unwrap();
        assert!(q.filter.unwrap().matches(&item));
    }

    #[test]
    fn lambda_outer_paths_and_case_insensitivity() {
        // Paths not starting with the range variable refer to the filtered item.
        assert!(audit_matches("targetResources/any(t: t/type eq 'Role' and category eq 'RoleManagement')"));
        assert!(!audit_matches("targetResources/any(t: t/type eq 'Role' and category eq 'Other')"));
        // Keywords, operators, properties and range variables are case-insensitive.
        assert!(audit_matches("TargetResources/ANY(T: t/ID eq '071cc716-8147-4397-a5ba-b2105951cc0b')"));
        assert!(audit_matches("TAGS/All(X: StartsWith(X, 'A'))"));
        assert!(audit_matches("roles/Any(R: r EQ 'x')"));
        // The range variable shadows an outer property of the same name.
        assert!(f("id/any(id: id eq 'b')").matches(&json!({"id": ["a", "b"]})));
        assert!(f("tags/any(id: id eq 'alpha')").matches(&audit()));
        // A path whose last segment is 'any' or 'all' is still an ordinary property.
        assert!(
            f("flags/any eq true and x/all eq 1").matches(&json!({"flags": {"any": true}, "x": {"all": 1}}))
        );
    }

    #[test]
    fn nested_lambdas() {
        let text = "targetResources/any(t: t/modifiedProperties/any(p: p/displayName eq 'Role.DisplayName' and p/newValue eq 'Global Administrator'))";
        assert_eq!(
            f(text),
            lambda(
                "targetResources",
                LambdaOperator::Any,
                "t",
                lambda(
                    "t/modifiedProperties",
                    LambdaOperator::Any,
                    "p",
                    and(
                        cmp("p/displayName", CompareOp::Eq, Literal::String("Role.DisplayName".into())),
                        cmp("p/newValue", CompareOp::Eq, Literal::String("Global Administrator".into()))
                    )
                )
            )
        );
        assert!(audit_matches(text));
        assert!(!audit_matches(
            "targetResources/any(t: t/modifiedProperties/any(p: p/displayName eq 'Role.TemplateId' and p/newValue ne null))"
        ));
        // The inner body may use the outer range variable and the outer item.
        assert!(audit_matches(
            "targetResources/any(t: t/modifiedProperties/any(p: p/newValue eq 'Global Administrator' and t/type eq 'Role' and category eq 'RoleManagement'))"
        ));
        assert!(!audit_matches(
            "targetResources/any(t: t/modifiedProperties/any(p: p/newValue eq 'Global Administrator' and t/type eq 'User'))"
        ));
        // Elements without the nested collection: any is false, all is false (missing).
        assert!(!audit_matches("targetResources/all(t: t/modifiedProperties/any(p: p/newValue eq null))"));
        assert!(audit_matches(
            "targetResources/any(t: t/modifiedProperties/all(p: startswith(p/displayName, 'Role.')))"
        ));
        assert!(audit_matches("targetResources/any(t: t/modifiedProperties/any())"));
        // Nested collection of primitives.
        let item = json!({"groups": [{"labels": ["a", "b"]}, {"labels": ["c"]}]});
        assert!(f("groups/any(g: g/labels/any(l: l eq 'c'))").matches(&item));
        assert!(!f("groups/all(g: g/labels/any(l: l eq 'c'))").matches(&item));
        assert!(f("groups/all(g: g/labels/any())").matches(&item));
    }

    #[test]
    fn lambda_properties_required_eq_and_display() {
        assert_eq!(f("targetResources/any(t: t/id eq 'x')").properties(), vec!["targetResources"]);
        assert_eq!(
            f("activityDateTime ge 2025-01-01T00:00:00Z and targetResources/any(t: t/id eq 'abc' and category eq 'c') and TargetResources/all(x: x/modifiedProperties/any(p: p/newValue eq null)) and members/any() and roles/any(r: r eq 'x')")
                .properties(),
            vec!["activityDateTime", "targetResources", "category", "members", "roles"]
        );
        // A range variable's scope ends with its lambda.
        assert_eq!(f("tags/any(t: t eq 'a') and t eq 1").properties(), vec!["tags", "t"]);
        assert_eq!(
            f("a eq 'x' and targetResources/any(t: t/id eq 'y')").required_eq("a").as_deref(),
            Some("x")
        );
        assert_eq!(f("targetResources/any(t: t/id eq 'y')").required_eq("t/id"), None);

        for text in [
            "targetResources/any(t: t/id eq '071cc716-8147-4397-a5ba-b2105951cc0b')",
            "targetResources/any(t: t/displayName eq 'Global Administrator' and t/type eq 'Role')",
            "roles/any(r: r eq 'x')",
            "tags/all(x: startswith(x, 'a'))",
            "members/any()",
            "activityDateTime ge 2025-01-01T00:00:00Z and targetResources/any(t: t/id eq 'abc')",
            "not a/all(x: x/b eq 1 or x/c in (1, 2)) or b/any(y: y/z/any(w: w eq 'q'))",
        ] {
            let parsed = f(text);
            let rendered = parsed.to_string();
            assert_eq!(rendered, text);
            assert_eq!(f(&rendered), parsed, "{text} -> {rendered}");
        }
        assert_eq!(f("Tags/ALL(X:(X eq 'a' or X eq 'b'))").to_string(), "Tags/all(X: X eq 'a' or X eq 'b')");
        assert_eq!(f("members/any( )").to_string(), "members/any()");
    }

    #[test]
    fn lambda_errors() {
        // Missing ':'.
        assert_eq!(
            err("targetResources/any(t t/id eq 'x')"),
            "Invalid $filter: missing ':' after range variable 't' at position 20; found 't/id' at position 22"
        );
        assert_eq!(
            err("roles/any(r)"),
            "Invalid $filter: missing ':' after range variable 'r' at position 10; found ')' at position 11"
        );
        assert_eq!(
            err("roles/any(r"),
            "Invalid $filter: missing ':' after range variable 'r' at position 10"
        );
        // Not a range variable name.
        assert_eq!(
            err("members/any(m/id eq 'x')"),
            "Invalid $filter: expected a range variable name at position 12 in 'members/any', found 'm/id'"
        );
        assert_eq!(
            err("members/any('m': m eq 1)"),
            "Invalid $filter: expected a range variable name at position 12 in 'members/any', found ''m''"
        );
        assert_eq!(
            err("members/any(and: m eq 1)"),
            "Invalid $filter: expected a range variable name at position 12 in 'members/any', found 'and'"
        );
        assert_eq!(
            err("members/any(: m eq 1)"),
            "Invalid $filter: expected a range variable name at position 12 in 'members/any', found ':'"
        );
        // Unknown range variable.
        assert_eq!(
            err("targetResources/any(t: s/id eq 'abc')"),
            "Invalid $filter: unknown range variable 's' in 's/id' at position 23; 'targetResources/any' at position 0 declares 't'"
        );
        assert_eq!(
            err("roles/any(r: x eq 'a')"),
            "Invalid $filter: unknown range variable 'x' at position 13; 'roles/any' at position 0 declares 'r'"
        );
        assert_eq!(
            err("a/any(x: x/b/any(y: x/c eq 1))"),
            "Invalid $filter: range variable 'y' at position 17 is never used in 'x/b/any'"
        );
        assert_eq!(
            err("a/any(x: x eq 1) and b/any(y: x eq 1)"),
            "Invalid $filter: unknown range variable 'x' at position 30; 'b/any' at position 21 declares 'y'"
        );
        assert_eq!(
            err("a/any(x: x/b/any(x: x eq 1))"),
            "Invalid $filter: range variable 'x' at position 17 is already declared at position 6"
        );
        // Unbalanced parentheses and stray tokens.
        assert_eq!(
            err("targetResources/any(t: t/id eq 'x'"),
            "Invalid $filter: unbalanced parentheses: '(' at position 19 is never closed"
        );
        assert_eq!(
            err("members/any("),
            "Invalid $filter: unbalanced parentheses: '(' at position 11 is never closed"
        );
        assert_eq!(
            err("a/any(x: x/b/any(y: y eq 1)"),
            "Invalid $filter: unbalanced parentheses: '(' at position 5 is never closed"
        );
        assert_eq!(
            err("targetResources/any(t: t/id eq 'x'))"),
            "Invalid $filter: unbalanced parentheses: unexpected ')' at position 35"
        );
        assert_eq!(
            err("targetResources/any(t: t/id eq 'x' t)"),
            "Invalid $filter: unexpected token 't' at position 35; expected ')' to close 'targetResources/any' at position 0"
        );
        // Missing predicate, body-less all, bare operator.
        assert_eq!(err("members/any(m:)"), "Invalid $filter: missing operand before ')' at position 14");
        assert_eq!(err("members/any(m: )"), "Invalid $filter: missing operand before ')' at position 15");
        assert_eq!(
            err("members/all()"),
            "Invalid $filter: 'members/all' at position 0 needs a range variable and a predicate, as in 'members/all(x: ...)'"
        );
        assert_eq!(
            err("any(x: x eq 1)"),
            "Invalid $filter: lambda operator 'any' at position 0 must follow a collection property, as in 'members/any(m: ...)'"
        );
        assert_eq!(
            err("targetResources/any(t: t/id eq 'x') eq true"),
            "Invalid $filter: unexpected token 'eq' at position 36; expected 'and', 'or' or the end of the filter"
        );
        assert_eq!(
            err("a eq 1 : b"),
            "Invalid $filter: unexpected token ':' at position 7; expected 'and', 'or' or the end of the filter"
        );
        assert!(qerr("$filter=roles/any(r: q eq 'x')").contains("unknown range variable 'q'"));
    }

    // ----- query strings --------------------------------------------------------------------

    #[test]
    fn parses_plain_query() {
        let q = parse_query(
            "$filter=principalId eq '071cc716-8147-4397-a5ba-b2105951cc0b'&$select=id,principalId&$top=5&$skip=2&$count=true&$orderby=createdDateTime desc,id",
        )
        .unwrap();
        assert_eq!(
            q.filter.as_ref().and_then(|f| f.required_eq("principalId")).as_deref(),
            Some("071cc716-8147-4397-a5ba-b2105951cc0b")
        );
        assert_eq!(q.select, Some(vec!["id".to_string(), "principalId".to_string()]));
        assert_eq!(q.top, Some(5));
        assert_eq!(q.skip, Some(2));
        assert!(q.count);
        assert_eq!(q.orderby, vec![("createdDateTime".to_string(), true), ("id".to_string(), false)]);
        assert!(q.expand.is_empty());
    }

    #[test]
    fn parses_empty_query_and_ignores_non_dollar_params() {
        assert_eq!(parse_query("").unwrap(), QueryOptions::default());
        assert_eq!(parse_query("?").unwrap(), QueryOptions::default());
        assert_eq!(parse_query("api-version=1&foo=bar&&filter=whatever").unwrap(), QueryOptions::default());
        let q = parse_query("?$top=3&x=1&").unwrap();
        assert_eq!(q.top, Some(3));
    }

    #[test]
    fn parses_percent_encoded_query() {
        let q = parse_query("%24filter=principalId%20eq%20%27abc%27&%24top=1").unwrap();
        assert_eq!(q.filter, Some(cmp("principalId", CompareOp::Eq, Literal::String("abc".into()))));
        assert_eq!(q.top, Some(1));
        let q = parse_query("$filter=status+eq+%27Pending+Approval%27+and+x+eq+%27a%26b%27").unwrap();
        assert_eq!(
            q.filter,
            Some(and(
                cmp("status", CompareOp::Eq, Literal::String("Pending Approval".into())),
                cmp("x", CompareOp::Eq, Literal::String("a&b".into()))
            ))
        );
        // Encoded '+' survives as a literal plus sign (datetime offsets).
        let q = parse_query("$filter=t%20ge%202025-01-01T00:00:00%2B01:00").unwrap();
        assert_eq!(
            q.filter,
            Some(cmp("t", CompareOp::Ge, Literal::DateTime("2025-01-01T00:00:00+01:00".into())))
        );
        // Encoded UTF-8.
        let q = parse_query("$filter=displayName%20eq%20%27Ren%C3%A9%27").unwrap();
        assert!(q.filter.unwrap().matches(&json!({"displayName": "RENÉ"})));
        // Mixed-case escapes and option names.
        let q = parse_query("%24Select=id%2cdisplayName").unwrap();
        assert_eq!(q.select, Some(vec!["id".to_string(), "displayName".to_string()]));
    }

    #[test]
    fn query_errors() {
        assert_eq!(
            qerr("$top=1&$filter=a%2"),
            "Invalid query string: malformed percent-escape '%2' at position 16"
        );
        assert_eq!(
            qerr("$filter=a%zz"),
            "Invalid query string: malformed percent-escape '%zz' at position 9"
        );
        assert_eq!(
            qerr("$filter=%FF"),
            "Invalid query string: '%FF' at position 8 does not decode to valid UTF-8"
        );
        assert_eq!(
            qerr("$search=abc"),
            "Unrecognized query option '$search'; supported options are $filter, $select, $expand, $top, $skip, $count and $orderby"
        );
        assert_eq!(qerr("$top=1&$TOP=2"), "Query option '$TOP' was specified more than once");
        assert_eq!(
            qerr("$filter=a eq 1&%24filter=b eq 2"),
            "Query option '$filter' was specified more than once"
        );
        assert_eq!(qerr("$top=-1"), "Invalid $top: '-1' is not a non-negative integer");
        assert_eq!(qerr("$top=abc"), "Invalid $top: 'abc' is not a non-negative integer");
        assert_eq!(qerr("$top="), "Invalid $top: '' is not a non-negative integer");
        assert_eq!(qerr("$top=1.5"), "Invalid $top: '1.5' is not a non-negative integer");
        assert_eq!(
            qerr("$top=99999999999999999999999"),
            "Invalid $top: '99999999999999999999999' is not a non-negative integer"
        );
        assert_eq!(qerr("$skip=x"), "Invalid $skip: 'x' is not a non-negative integer");
        assert_eq!(qerr("$count=yes"), "Invalid $count: 'yes' must be true or false");
        assert_eq!(
            qerr("$filter=principalId eqq 'abc'"),
            "Invalid $filter: unexpected token 'eqq' at position 12; expected a comparison operator (eq, ne, gt, ge, lt, le or in)"
        );
        assert_eq!(qerr("$filter="), "Invalid $filter: the filter expression is empty");
        assert_eq!(qerr("$select="), "Invalid $select: no properties given");
        assert_eq!(qerr("$select=id,,x"), "Invalid $select: empty property name in 'id,,x'");
        assert_eq!(qerr("$select=id,1x"), "Invalid $select: invalid property name '1x'");
        assert_eq!(qerr("$orderby="), "Invalid $orderby: no properties given");
        assert_eq!(
            qerr("$orderby=id sideways"),
            "Invalid $orderby: unknown direction 'sideways' after 'id'; expected asc or desc"
        );
        assert_eq!(
            qerr("$orderby=id asc extra"),
            "Invalid $orderby: unexpected token 'extra' in 'id asc extra'"
        );
        assert_eq!(qerr("$orderby=id,,x"), "Invalid $orderby: empty item in 'id,,x'");
    }

    #[test]
    fn top_zero_count_false_are_valid() {
        let q = parse_query("$top=0&$count=FALSE&$skip=0").unwrap();
        assert_eq!(q.top, Some(0));
        assert_eq!(q.skip, Some(0));
        assert!(!q.count);
    }

    #[test]
    fn parses_expand_with_nested_options() {
        let q = parse_query("$expand=principal,roleDefinition($select=id,displayName)").unwrap();
        assert_eq!(q.expand.len(), 2);
        assert_eq!(q.expand[0].name, "principal");
        assert_eq!(q.expand[0].options, QueryOptions::default());
        assert_eq!(q.expand[1].name, "roleDefinition");
        assert_eq!(q.expand[1].options.select, Some(vec!["id".to_string(), "displayName".to_string()]));
        assert!(q.expand_item("ROLEDEFINITION").is_some());
        assert!(q.expand_item("directoryScope").is_none());

        let q = parse_query(
            "$filter=scopeId eq '/' and scopeType eq 'DirectoryRole' and roleDefinitionId eq 'fe930be7-5e62-47db-91af-98c3a49a38b1'&$expand=policy($expand=rules)",
        )
        .unwrap();
        assert_eq!(q.filter.unwrap().required_eq("scopeType").as_deref(), Some("DirectoryRole"));
        assert_eq!(q.expand[0].name, "policy");
        assert_eq!(q.expand[0].options.expand[0].name, "rules");

        let q = parse_query(
            "$expand=policy($expand=rules($select=id;$filter=id eq 'a,b;(c)');$select=id, displayName ; $top=2),principal",
        )
        .unwrap();
        let policy = &q.expand[0];
        assert_eq!(policy.options.top, Some(2));
        assert_eq!(policy.options.select, Some(vec!["id".to_string(), "displayName".to_string()]));
        let rules = &policy.options.expand[0];
        assert_eq!(rules.name, "rules");
        assert_eq!(rules.options.select, Some(vec!["id".to_string()]));
        assert_eq!(rules.options.filter, Some(cmp("id", CompareOp::Eq, Literal::String("a,b;(c)".into()))));
        assert_eq!(q.expand[1].name, "principal");

        let q = parse_query("%24expand=policy(%24expand%3Drules)").unwrap();
        assert_eq!(q.expand[0].options.expand[0].name, "rules");

        let q = parse_query("$expand=*").unwrap();
        assert!(q.expand_item("anything").is_some());

        let q = parse_query("$expand=policy()").unwrap();
        assert_eq!(q.expand[0].options, QueryOptions::default());
    }

    #[test]
    fn expand_errors() {
        assert_eq!(qerr("$expand="), "Invalid $expand: no navigation properties given");
        assert_eq!(
            qerr("$expand=policy($expand=rules"),
            "Invalid $expand: unbalanced parentheses in 'policy($expand=rules'"
        );
        assert_eq!(qerr("$expand=policy)"), "Invalid $expand: unbalanced parentheses in 'policy)'");
        assert_eq!(qerr("$expand=principal,,policy"), "Invalid $expand: empty item in 'principal,,policy'");
        assert_eq!(
            qerr("$expand=policy($top=1)x"),
            "Invalid $expand: unexpected text after ')' in 'policy($top=1)x'"
        );
        assert_eq!(qerr("$expand=9lives"), "Invalid $expand: invalid navigation property '9lives'");
        assert_eq!(
            qerr("$expand=policy($levels=2)"),
            "Invalid $expand item 'policy': Unrecognized query option '$levels'; supported options are $filter, $select, $expand, $top, $skip, $count and $orderby"
        );
        assert_eq!(
            qerr("$expand=policy(select=id)"),
            "Invalid $expand: option 'select' of 'policy' must start with '$'"
        );
        assert_eq!(
            qerr("$expand=policy($select)"),
            "Invalid $expand: option '$select' of 'policy' must have the form $option=value"
        );
        assert_eq!(
            qerr("$expand=policy($top=1;$top=2)"),
            "Invalid $expand item 'policy': Query option '$top' was specified more than once"
        );
        assert_eq!(
            qerr("$expand=roleDefinition($filter=id eqq 'x')"),
            "Invalid $expand item 'roleDefinition': Invalid $filter: unexpected token 'eqq' at position 3; expected a comparison operator (eq, ne, gt, ge, lt, le or in)"
        );
    }

    #[test]
    fn odata_error_is_std_error() {
        let e = parse_filter("").unwrap_err();
        assert_eq!(e.to_string(), e.message);
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert!(boxed.to_string().starts_with("Invalid $filter"));
    }

    // ----- $select / $orderby / apply -------------------------------------------------------

    #[test]
    fn select_keeps_selected_and_odata_keys() {
        let mut item = assignment();
        item["principal@odata.context"] = json!("ctx");
        apply_select(&mut item, &["ID".to_string(), "principalId".to_string(), "principal".to_string()]);
        let keys: Vec<&str> = item.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, vec!["@odata.type", "id", "principalId", "principal", "principal@odata.context"]);

        let mut item = assignment();
        apply_select(&mut item, &["scheduleInfo/expiration".to_string()]);
        assert_eq!(item.as_object().unwrap().len(), 2);
        assert_eq!(item["scheduleInfo"]["expiration"]["type"], "afterDuration");

        let mut item = assignment();
        apply_select(&mut item, &["*".to_string()]);
        assert_eq!(item, assignment());

        let mut item = assignment();
        apply_select(&mut item, &["nothingLikeThis".to_string()]);
        assert_eq!(item, json!({"@odata.type": "#microsoft.graph.unifiedRoleAssignmentSchedule"}));

        let mut items = json!([{"id": 1, "x": 2}, {"id": 3, "y": 4}, 7]);
        apply_select(&mut items, &["id".to_string()]);
        assert_eq!(items, json!([{"id": 1}, {"id": 3}, 7]));
    }

    fn ids(items: &[Value]) -> Vec<&str> {
        items.iter().map(|i| i["id"].as_str().unwrap()).collect()
    }

    #[test]
    fn orderby_sorts_by_keys() {
        let mut items = vec![
            json!({"id": "a", "n": 2, "name": "beta", "t": "2025-01-02T00:00:00Z"}),
            json!({"id": "b", "n": 1, "name": "Alpha", "t": "2025-01-01T23:00:00-02:00"}),
            json!({"id": "c", "n": 2, "name": "alpha", "t": null}),
            json!({"id": "d", "name": "Gamma", "t": "2025-01-01T00:00:00Z"}),
        ];
        apply_orderby(&mut items, &[("n".to_string(), false)]);
        assert_eq!(ids(&items), vec!["d", "b", "a", "c"]);
        apply_orderby(&mut items, &[("n".to_string(), true)]);
        assert_eq!(ids(&items), vec!["a", "c", "b", "d"]);
        apply_orderby(&mut items, &[("N".to_string(), true), ("name".to_string(), false)]);
        assert_eq!(ids(&items), vec!["c", "a", "b", "d"]);
        // Chronological: 23:00-02:00 on the 1st is 01:00Z on the 2nd.
        apply_orderby(&mut items, &[("t".to_string(), false)]);
        assert_eq!(ids(&items), vec!["c", "d", "a", "b"]);
        apply_orderby(&mut items, &[("t".to_string(), true)]);
        assert_eq!(ids(&items), vec!["b", "a", "d", "c"]);
        // Case-insensitive strings, stable for ties.
        apply_orderby(&mut items, &[("name".to_string(), false)]);
        assert_eq!(ids(&items), vec!["b", "c", "a", "d"]);
        // Empty orderby leaves the order alone.
        apply_orderby(&mut items, &[]);
        assert_eq!(ids(&items), vec!["b", "c", "a", "d"]);
    }

    #[test]
    fn orderby_nested_paths_and_mixed_types() {
        let mut items = vec![
            json!({"id": "a", "p": {"n": "x"}}),
            json!({"id": "b", "p": {"n": 3}}),
            json!({"id": "c", "p": {"n": true}}),
            json!({"id": "d"}),
            json!({"id": "e", "p": {"n": "2025-01-01T00:00:00Z"}}),
        ];
        apply_orderby(&mut items, &[("p/n".to_string(), false)]);
        assert_eq!(ids(&items), vec!["d", "c", "b", "e", "a"]);
    }

    #[test]
    fn apply_runs_the_whole_pipeline() {
        let items: Vec<Value> = (0..10)
            .map(|i| {
                json!({
                    "@odata.type": "#x",
                    "id": format!("i{i}"),
                    "n": i,
                    "status": if i % 2 == 0 { "Provisioned" } else { "Granted" },
                    "principal": {"id": format!("p{i}"), "displayName": "P"},
                    "rules": [{"id": "r2", "v": 2}, {"id": "r1", "v": 1}, {"id": "r3", "v": 3}]
                })
            })
            .collect();
        let q = parse_query(
            "$filter=status eq 'provisioned'&$orderby=n desc&$skip=1&$top=2&$select=id&$expand=principal($select=id),rules($filter=v ne 3;$orderby=id;$select=id)&$count=true",
        )
        .unwrap();
        let (out, count) = q.apply(items);
        assert_eq!(count, 5);
        assert_eq!(
            out,
            vec![
                json!({"@odata.type": "#x", "id": "i6", "principal": {"id": "p6"}, "rules": [{"id": "r1"}, {"id": "r2"}]}),
                json!({"@odata.type": "#x", "id": "i4", "principal": {"id": "p4"}, "rules": [{"id": "r1"}, {"id": "r2"}]}),
            ]
        );

        let (all, count) = QueryOptions::default().apply(vec![json!({"id": "x"})]);
        assert_eq!((all, count), (vec![json!({"id": "x"})], 1));
    }
}
