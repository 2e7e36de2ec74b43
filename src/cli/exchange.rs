//! The command line's side of `import`, `export`, `mark` and `apply`: flags into the exchange
//! layer's options, and a progress bar on a terminal.

use std::io::Write;

use super::CliError;
use super::args::{ApplyArgs, ApplyDomain, ApplyMode, ExportArgs, ExportFormat, ImportArgs, MarkArgs};
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
    let all = a.operations.contains(&ApplyDomain::All);
    let has = |d: ApplyDomain| all || a.operations.contains(&d);
    let domains = exchange::easypim::Domains {
        entra: has(ApplyDomain::EntraRoles),
        azure: has(ApplyDomain::AzureRoles),
        groups: has(ApplyDomain::GroupRoles),
    };
    let options = exchange::easypim::ApplyOptions {
        what_if: a.what_if,
        mode,
        domains,
        skip_policies: a.skip_policies,
        skip_assignments: a.skip_assignments,
        skip_cleanup: a.skip_cleanup,
        allow_protected_roles: a.allow_protected_roles,
        would_remove_export: a.would_remove_export.as_ref(),
        ..exchange::easypim::ApplyOptions::new(&a.config)
    };
    let applied = exchange::easypim::apply(engine, session, &options, out)?;
    // Like a dry run whose request would be refused: the report on stdout, exit 1.
    Ok(if applied.failed > 0 { 1 } else { 0 })
}
