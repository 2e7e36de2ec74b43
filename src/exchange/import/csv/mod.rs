//! CSV files of users, groups, memberships, eligibilities and assignments: which kind a file is
//! follows from its header; the columns are documented in README.md ("Import and export").
//!
//! `parse` reads and checks one file without the store (`columns`: the header; `rows`: each
//! value). `apply` then places the rows of all the files together (`plan`: names resolved across
//! the files and the tenant, from maps built once, `names`) and writes them through the engine in
//! dependency order (`write`). Every problem names its file, line and column (`place`).

mod columns;
mod names;
mod place;
mod plan;
mod rows;
mod write;

use std::path::{Path, PathBuf};

use ::csv::{ReaderBuilder, StringRecord};

use super::Summary;
use crate::engine::{Engine, Session};
use crate::exchange::Progress;
use crate::model::{ApiError, ErrorCode};
use columns::{Field, Header, Kind};
use place::{at_cell, at_line};

/// One CSV file, read and checked.
pub struct CsvFile {
    path: PathBuf,
    header: Header,
    rows: Rows,
}

/// A file's rows, typed by its kind.
enum Rows {
    Users(Vec<rows::UserRow>),
    Groups(Vec<rows::GroupRow>),
    Memberships(Vec<rows::MembershipRow>),
    Assignments(Vec<rows::AssignmentRow>),
}

impl CsvFile {
    /// A problem with one cell of this file.
    fn cell_error(&self, line: u64, field: Field, problem: impl std::fmt::Display) -> ApiError {
        let column = self.header.column(field).unwrap_or(0);
        at_cell(&self.path, line, column, &self.header.names[column], problem)
    }

    /// The engine refused what `line` asked for: its own error, with the file and line in front,
    /// and the column: the field the error names, if the file has it; else `about`, the column
    /// the refusal is about when the error names none (a membership's member, an unknown role).
    fn refused(&self, line: u64, about: Option<Field>, e: ApiError) -> ApiError {
        let named = e.details.iter().find_map(|d| self.header.column(Field::named(&d.target)?));
        let about = match e.code {
            ErrorCode::RoleNotFound | ErrorCode::RoleDefinitionDoesNotExist => Some(Field::Role),
            _ => about,
        };
        match named.or_else(|| self.header.column(about?)) {
            Some(column) => {
                place::engine_refused(&self.path, line, Some((column, &self.header.names[column])), e)
            }
            None => place::engine_refused(&self.path, line, None, e),
        }
    }
}

/// Reads and checks one CSV file: any bad line refuses the whole file, naming the line and column.
pub fn parse(path: &Path, text: &str) -> Result<CsvFile, ApiError> {
    let mut reader = ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut record = StringRecord::new();
    let line_of = |r: &StringRecord| r.position().map_or(0, |p| p.line());
    let read = |reader: &mut ::csv::Reader<&[u8]>, record: &mut StringRecord| {
        reader.read_record(record).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            at_line(path, line, format!("not readable as CSV: {e}"))
        })
    };
    if !read(&mut reader, &mut record)? {
        return Err(at_line(path, 1, "the file has no header line"));
    }
    let names: Vec<&str> = record.iter().collect();
    let (kind, header) = columns::read(path, line_of(&record), &names)?;
    let mut file = CsvFile {
        path: path.to_path_buf(),
        rows: match kind {
            Kind::Users => Rows::Users(Vec::new()),
            Kind::Groups => Rows::Groups(Vec::new()),
            Kind::Memberships => Rows::Memberships(Vec::new()),
            Kind::Assignments => Rows::Assignments(Vec::new()),
        },
        header,
    };
    while read(&mut reader, &mut record)? {
        let line = line_of(&record);
        if record.len() != file.header.len() {
            return Err(at_line(
                path,
                line,
                format!("{} field(s), but the header has {} columns", record.len(), file.header.len()),
            ));
        }
        let cells = rows::Cells { path, line, header: &file.header, record: &record };
        match &mut file.rows {
            Rows::Users(v) => v.push(rows::user(&cells)?),
            Rows::Groups(v) => v.push(rows::group(&cells)?),
            Rows::Memberships(v) => v.push(rows::membership(&cells)?),
            Rows::Assignments(v) => v.push(rows::assignment(&cells)?),
        }
    }
    Ok(file)
}

/// Applies the CSV files in dependency order (users, groups, memberships, then roles' schedules).
pub fn apply(
    engine: &mut Engine,
    session: &Session,
    files: &[CsvFile],
    progress: &dyn Progress,
    summary: &mut Summary,
) -> Result<(), ApiError> {
    if files.is_empty() {
        return Ok(());
    }
    let plan = plan::Plan::new(engine, files)?;
    write::run(engine, session, &plan, progress, summary)
}
