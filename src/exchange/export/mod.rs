//! `pimlab export`: the tenant as Graph/ARM JSON that `import` reads back; the changes since a
//! mark as the real requests that would make them (Graph/ARM calls, an `.http` file, PowerShell,
//! `az rest`); the tenant's policies and assignments as an EasyPIM configuration.

pub mod collect;
mod diff;
pub mod json;
mod plan;
mod render;
mod snapshot;

use std::io::Write;
use std::path::PathBuf;

use serde_json::Value;

use crate::engine::{Engine, InitOptions, Session};
use crate::model::time::format_timestamp;
use crate::model::{ApiError, ErrorCode};
use snapshot::Snapshot;

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
    if let (Some(mark), Format::Json | Format::EasyPim) = (options.since, options.format) {
        return Err(ApiError::new(
            400,
            ErrorCode::Usage,
            format!(
                "--since {mark} exports the changes since a mark as calls (--format graph, http, powershell or az); \
                 --format json and easypim write the whole tenant"
            ),
        ));
    }
    match options.format {
        Format::Json => json::write(engine, session, options.out_path, out),
        Format::EasyPim => crate::exchange::easypim::export(engine, session, out),
        Format::Graph | Format::Http | Format::PowerShell | Format::Az => {
            changes(engine, session, options, out)
        }
    }
}

/// The changes since a mark (or since the tenant was created) as the calls that make them.
fn changes(
    engine: &mut Engine,
    session: &Session,
    options: &ExportOptions<'_>,
    out: &mut dyn Write,
) -> Result<(), ApiError> {
    let (before, since) = match options.since {
        Some(name) => {
            let mark = engine.mark(name)?;
            let documents: Vec<Value> = serde_json::from_str(&mark.snapshot)
                .map_err(|e| ApiError::internal(format!("the mark '{name}' cannot be read: {e}")))?;
            (documents, format!("the mark '{}' ({})", mark.name, format_timestamp(mark.taken_at)))
        }
        None => {
            let options = engine.init_options()?;
            (as_created(&options)?, format!("the tenant was created ({})", format_timestamp(options.at)))
        }
    };
    let after = documents(engine, session)?;
    let notes = engine
        .hooks()?
        .into_iter()
        .map(|h| format!("the Lua hook '{}': a policy rule that exists only in pimlab", h.name))
        .collect();
    let plan = diff::plan(&Snapshot::from_documents(&before), &Snapshot::from_documents(&after), notes);
    let header = format!(
        "pimlab export: {} call(s) that make in a tenant the changes made since {since}, as of {}.",
        plan.calls.len(),
        format_timestamp(engine.now()?)
    );
    let write = |out: &mut dyn Write| render::write(&plan, options.format, &header, out);
    match options.out_path {
        Some(path) => {
            let mut file = std::fs::File::create(path).map_err(|e| {
                ApiError::new(400, ErrorCode::Usage, format!("{}: cannot be written: {e}", path.display()))
            })?;
            write(&mut file).map_err(write_failed)
        }
        None => write(out).map_err(write_failed),
    }
}

/// The tenant as it was created: made again, in memory, with the options it was created with.
fn as_created(options: &InitOptions) -> Result<Vec<Value>, ApiError> {
    let mut fresh =
        Engine::in_memory().map_err(|e| ApiError::internal(format!("an in-memory store: {e}")))?;
    fresh.init(options)?;
    let session = Session::new(fresh.default_caller()?);
    documents(&mut fresh, &session)
}

/// The tenant's collections, as `export --format json` writes them, without their file names.
fn documents(engine: &mut Engine, session: &Session) -> Result<Vec<Value>, ApiError> {
    Ok(collect::collect(engine, session)?.into_iter().map(|c| c.document).collect())
}

/// `pimlab mark [NAME]`: remembers the tenant as it is now, for `export --since NAME`; without a
/// name, lists the marks.
pub fn mark(
    engine: &mut Engine,
    session: &Session,
    name: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), ApiError> {
    let Some(name) = name else {
        let marks = engine.marks()?;
        if marks.is_empty() {
            writeln!(out, "No marks yet: `pimlab mark NAME` makes one.").map_err(write_failed)?;
        }
        for (name, at) in marks {
            writeln!(out, "{}  {name}", format_timestamp(at)).map_err(write_failed)?;
        }
        return Ok(());
    };
    let name = name.trim();
    if name.is_empty() || name.len() > MARK_NAME_LIMIT {
        return Err(ApiError::new(
            400,
            ErrorCode::Usage,
            format!(
                "a mark's name has 1 to {MARK_NAME_LIMIT} characters; '{name}' has {}",
                name.chars().count()
            ),
        ));
    }
    let documents = documents(engine, session)?;
    let text = serde_json::to_string(&documents).map_err(|e| ApiError::internal(e.to_string()))?;
    let replaced = engine.save_mark(name, &text)?;
    let verb = if replaced { "Moved" } else { "Set" };
    writeln!(out, "{verb} the mark '{name}' at {}", format_timestamp(engine.now()?)).map_err(write_failed)?;
    Ok(())
}

/// The longest name a mark may have.
const MARK_NAME_LIMIT: usize = 100;

fn write_failed(e: std::io::Error) -> ApiError {
    ApiError::internal(format!("writing the export failed: {e}"))
}
