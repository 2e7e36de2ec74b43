//! The command line's side of `import`, `export`, `mark` and `apply`: flags into the exchange
//! layer's options, and a progress bar on a terminal.

use std::io::Write;

use super::CliError;
use super::args::{ApplyArgs, ApplyMode, ExportArgs, ExportFormat, ImportArgs, MarkArgs};
use crate::engine::{Engine, Session};
use crate::exchange::{self, NoProgress};

type Out<'a> = &'a mut dyn Write;

pub(super) fn import(
    engine: &mut Engine,
    session: &Session,
    a: &ImportArgs,
    out: Out<'_>,
    _err: Out<'_>,
) -> Result<i32, CliError> {
    let options =
        exchange::import::ImportOptions { paths: &a.paths, dry_run: a.dry_run, progress: &NoProgress };
    exchange::import::run(engine, session, &options, out)?;
    Ok(0)
}

pub(super) fn export(
    engine: &mut Engine,
    session: &Session,
    a: &ExportArgs,
    out: Out<'_>,
) -> Result<i32, CliError> {
    use exchange::export::Format;
    let format = match a.format {
        ExportFormat::Graph => Format::Graph,
        ExportFormat::Http => Format::Http,
        ExportFormat::PowerShell => Format::PowerShell,
        ExportFormat::Az => Format::Az,
        ExportFormat::Json => Format::Json,
        ExportFormat::EasyPim => Format::EasyPim,
    };
    let options =
        exchange::export::ExportOptions { format, since: a.since.as_deref(), out_path: a.out.as_ref() };
    exchange::export::run(engine, session, &options, out)?;
    Ok(0)
}

pub(super) fn mark(
    engine: &mut Engine,
    session: &Session,
    a: &MarkArgs,
    out: Out<'_>,
) -> Result<i32, CliError> {
    exchange::export::mark(engine, session, a.name.as_deref(), out)?;
    Ok(0)
}

pub(super) fn apply(
    engine: &mut Engine,
    session: &Session,
    a: &ApplyArgs,
    out: Out<'_>,
) -> Result<i32, CliError> {
    let mode = match a.mode {
        ApplyMode::Delta => exchange::easypim::Mode::Delta,
        ApplyMode::Initial => exchange::easypim::Mode::Initial,
    };
    let options = exchange::easypim::ApplyOptions { config: &a.config, what_if: a.what_if, mode };
    exchange::easypim::apply(engine, session, &options, out)?;
    Ok(0)
}
