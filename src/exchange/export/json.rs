//! `export --format json`: the whole tenant as the Graph and ARM collections the real APIs return
//! (read through the routers, so the wire format is made in one place), which `import` reads back
//! to the same state.

use std::io::Write;
use std::path::PathBuf;

use crate::engine::{Engine, Session};
use crate::model::ApiError;

/// Writes the tenant's collections: into the folder `out_path`, one file each, or as one JSON
/// document to `out`.
pub fn write(
    _engine: &mut Engine,
    _session: &Session,
    _out_path: Option<&PathBuf>,
    _out: &mut dyn Write,
) -> Result<(), ApiError> {
    Err(ApiError::new(501, crate::model::ErrorCode::PimlabNotModelled, "export --format json is being built"))
}
