//! The `$filter` lexer: characters to tokens (words, quoted strings, numbers, date-times, GUIDs,
//! punctuation), each with its position so that parse errors can point at it.
//!
//! Date-times and GUIDs are recognised by shape before words and numbers, because both start
//! with characters that would otherwise begin a number or a property path.

use super::datetime::parse_datetime;
use super::error::{ODataError, filter_error};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
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
pub(super) struct Token {
    pub(super) tok: Tok,
    /// 0-based character position in the filter text.
    pub(super) start: usize,
    /// The token as written.
    pub(super) text: String,
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

pub(super) fn lex(chars: &[char]) -> Result<Vec<Token>, ODataError> {
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

/// A property path: `/`-separated segments, each starting with a letter or `_` and made of
/// letters, digits, `_` and `.`. The same rule holds for names in `$select`, `$orderby` and
/// `$expand`, so a name valid in one option is valid in all.
pub(super) fn is_valid_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|segment| {
            let mut chars = segment.chars();
            chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
                && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        })
}
