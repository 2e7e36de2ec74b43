//! `pimlab export`: the tenant as Graph/ARM JSON that `import` reads back; the changes since a
//! mark as the real requests that would make them (Graph/ARM calls, an `.http` file, PowerShell,
//! `az rest`); the tenant's policies and assignments as an EasyPIM configuration.

pub mod collect;
pub mod json;

use std::io::Write;
use std::path::PathBuf;

use crate::engine::{Engine, Session};
use crate::model::ApiError;

/// The forms `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Each call as method, URL and JSON body.
    Graph,
    /// An `.http` file (VS Code REST Client, JetBrains HTTP client).
    Http,
    /// PowerShell: `Invoke-MgGraphRequest` and `Invoke-AzRestMethod`.
    PowerShell,
    /// `az rest` command lines.
    Az,
    /// The whole tenant as Graph/ARM JSON collections, which `import` reads back.
    Json,
    /// The tenant's policies and assignments as an EasyPIM orchestrator configuration.
    EasyPim,
}

/// What `export` was asked to do.
pub struct ExportOptions<'a> {
    pub format: Format,
    /// The mark to export the changes since (None: since the tenant was created).
    pub since: Option<&'a str>,
    /// Where to write (a folder for `Json`); None: `out`.
    pub out_path: Option<&'a PathBuf>,
}

/// Writes the export.
pub fn run(
    engine: &mut Engine,
    session: &Session,
    options: &ExportOptions<'_>,
    out: &mut dyn Write,
) -> Result<(), ApiError> {
    match options.format {
        Format::Json => json::write(engine, session, options.out_path, out),
        Format::EasyPim => crate::exchange::easypim::export(engine, session, out),
        Format::Graph | Format::Http | Format::PowerShell | Format::Az => Err(ApiError::new(
            501,
            crate::model::ErrorCode::PimlabNotModelled,
            "export of changes is being built",
        )),
    }
}

/// `pimlab mark NAME`: remembers the tenant as it is now, for `export --since NAME`.
pub fn mark(
    _engine: &mut Engine,
    _session: &Session,
    _name: &str,
    _out: &mut dyn Write,
) -> Result<(), ApiError> {
    Err(ApiError::new(501, crate::model::ErrorCode::PimlabNotModelled, "mark is being built"))
}
