//! Graph and ARM JSON collections (`{"value": [...]}`) exactly as the real APIs return them, and as
//! `export --format json` writes them: which collection a file is follows from its
//! `@odata.context` or its items' shape. The real ids are kept.

use std::path::Path;

use super::Summary;
use crate::engine::{Engine, Session};
use crate::exchange::Progress;
use crate::model::ApiError;

/// One JSON file, read and checked.
pub struct JsonFile {}

/// Reads and checks one JSON file.
pub fn parse(path: &Path, _text: &str) -> Result<JsonFile, ApiError> {
    Err(super::invalid(format!("{}: JSON import is being built", path.display())))
}

/// Applies the JSON files, all of them together, in dependency order.
pub fn apply(
    _engine: &mut Engine,
    _session: &Session,
    _files: &[JsonFile],
    _progress: &dyn Progress,
    _summary: &mut Summary,
) -> Result<(), ApiError> {
    Ok(())
}
