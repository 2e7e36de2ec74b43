//! `pimlab import FILE...`: CSV files of users, groups, memberships, eligibilities and
//! assignments, and Graph/ARM JSON collections as the real APIs return them, told apart by
//! content; a folder stands for the files in it. Everything is read and checked before anything
//! changes, and all of it lands in one transaction or none does. `--dry-run` runs the same import
//! and discards it, so what it reports is exactly what the real run would do.

pub mod csv;
pub mod json;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::engine::{Engine, Session};
use crate::model::{ApiError, ErrorCode};

use super::Progress;

/// What `import` was asked to do.
pub struct ImportOptions<'a> {
    pub paths: &'a [PathBuf],
    /// Print what would change; change nothing.
    pub dry_run: bool,
    pub progress: &'a dyn Progress,
}

/// What an import changed (or would): one line per kind of thing, in the order applied.
#[derive(Debug, Default)]
pub struct Summary {
    pub lines: Vec<(String, usize)>,
}

impl Summary {
    pub fn add(&mut self, what: &str, count: usize) {
        match self.lines.iter_mut().find(|(w, _)| w == what) {
            Some((_, n)) => *n += count,
            None => self.lines.push((what.to_string(), count)),
        }
    }
}

/// One file, read and checked.
enum Parsed {
    Csv(csv::CsvFile),
    Json(json::JsonFile),
}

/// Imports the files, writing a summary of what changed (or would) to `out`.
pub fn run(
    engine: &mut Engine,
    session: &Session,
    options: &ImportOptions<'_>,
    out: &mut dyn Write,
) -> Result<(), ApiError> {
    let files = expand(options.paths)?;
    let mut csvs = Vec::new();
    let mut jsons = Vec::new();
    for path in &files {
        match read(path)? {
            Parsed::Csv(f) => csvs.push(f),
            Parsed::Json(f) => jsons.push(f),
        }
    }
    let apply = |e: &mut Engine| -> Result<Summary, ApiError> {
        let mut summary = Summary::default();
        json::apply(e, session, &jsons, options.progress, &mut summary)?;
        // Into a new store (no caller yet), the JSON files' import made the tenant, or it is made
        // now as every new store is; the CSV rows are written as its default caller.
        let new_store_caller;
        let csv_session = if session.caller.is_empty() {
            if !e.is_initialized()? {
                e.init(&crate::engine::InitOptions::default())?;
            }
            new_store_caller = Session::new(e.default_caller()?);
            &new_store_caller
        } else {
            session
        };
        csv::apply(e, csv_session, &csvs, options.progress, &mut summary)?;
        Ok(summary)
    };
    let summary = if options.dry_run { engine.trial(apply)? } else { engine.atomically(apply)? };
    let verb = if options.dry_run { "would import" } else { "imported" };
    let width = summary.lines.iter().map(|(w, _)| w.len()).max().unwrap_or(0);
    writeln!(out, "{} file(s): {verb}", files.len()).map_err(io_error)?;
    for (what, n) in &summary.lines {
        writeln!(out, "  {what:<width$}  {n}").map_err(io_error)?;
    }
    if summary.lines.is_empty() {
        // Files with a header and no rows: say so rather than print a heading over nothing.
        writeln!(out, "  nothing").map_err(io_error)?;
    }
    if options.dry_run {
        writeln!(out, "(dry run: nothing was changed)").map_err(io_error)?;
    }
    Ok(())
}

/// The files to read: each path, or the files of a folder (sorted by name, not recursing, hidden
/// files skipped).
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ApiError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|e| unreadable(path, &e))?;
            let mut inside: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(path.clone());
        }
    }
    if files.is_empty() {
        return Err(invalid(format!("nothing to import: {} holds no files", show_paths(paths))));
    }
    Ok(files)
}

/// Reads one file and tells CSV from JSON by its first character.
fn read(path: &Path) -> Result<Parsed, ApiError> {
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(path, &e))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    match text.trim_start().chars().next() {
        Some('{') | Some('[') => Ok(Parsed::Json(json::parse(path, text)?)),
        Some(_) => Ok(Parsed::Csv(csv::parse(path, text)?)),
        None => Err(invalid(format!("{}: the file is empty", path.display()))),
    }
}

fn show_paths(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// An import file pimlab cannot use: the message names the file (and the line and column where
/// there is one).
pub fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(400, ErrorCode::PimlabImportInvalid, message)
}

fn unreadable(path: &Path, e: &std::io::Error) -> ApiError {
    invalid(format!("{}: cannot be read: {e}", path.display()))
}

fn io_error(e: std::io::Error) -> ApiError {
    ApiError::internal(format!("writing the import summary failed: {e}"))
}
