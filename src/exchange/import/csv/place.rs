//! Where in the files a problem is: every message starts with the file, the line (as a text
//! editor counts it, the header being line 1) and, where one column is at fault, the column by
//! number and by the name the header gives it.

use std::path::Path;

use crate::model::{ApiError, Hint};

use super::super::invalid;

/// A line of a file: `users.csv: line 4: ...`.
pub fn at_line(path: &Path, line: u64, problem: impl std::fmt::Display) -> ApiError {
    invalid(format!("{}: line {line}: {problem}", path.display()))
}

/// One cell: `users.csv: line 4, column 2 (displayName): ...`.
pub fn at_cell(
    path: &Path,
    line: u64,
    column: usize,
    name: &str,
    problem: impl std::fmt::Display,
) -> ApiError {
    invalid(format!("{}: line {line}, column {} ({name}): {problem}", path.display(), column + 1))
}

/// The engine refused what a line asked for: its own error (code, status, details) with the line
/// (and the column, when the error is about one) in front, so the caller sees the real refusal
/// and where it came from.
pub fn engine_refused(path: &Path, line: u64, column: Option<(usize, &str)>, mut e: ApiError) -> ApiError {
    e.hints = e.hints.into_iter().map(in_columns).collect();
    for d in &mut e.details {
        d.hint = d.hint.take().map(in_columns);
    }
    e.message = match column {
        Some((column, name)) => {
            format!("{}: line {line}, column {} ({name}): {}", path.display(), column + 1, e.message)
        }
        None => format!("{}: line {line}: {}", path.display(), e.message),
    };
    e
}

/// A fix in the file's terms rather than a command's flags: a row has columns, not options.
fn in_columns(hint: Hint) -> Hint {
    let text = match &hint {
        Hint::Justification => "fill in the justification column".to_string(),
        Hint::Ticket => "fill in the ticket column, e.g. ServiceNow:INC0012345".to_string(),
        Hint::AtMost { duration } => format!("give a duration of {duration} or less in the duration column"),
        Hint::AtLeast { duration } => format!("give a duration of {duration} or more in the duration column"),
        Hint::GiveEnd { at_most } => format!("give an end, e.g. {at_most} in the duration column"),
        _ => return hint,
    };
    Hint::Text { text }
}
