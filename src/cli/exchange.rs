//! The command line's side of `import`, `export`, `mark` and `apply`: flags into the exchange
//! layer's options, and a progress bar on a terminal (which `replay` draws too).

use std::io::Write;

use super::CliError;
use super::args::{ApplyArgs, ApplyDomain, ApplyMode, ExportArgs, ExportFormat, ImportArgs, MarkArgs};
use crate::engine::{Engine, Session};
use crate::exchange::{self, NoProgress, Progress};

type Out<'a> = &'a mut dyn Write;

/// Runs an exchange command on a buffer and then writes what it wrote to `out`, so that a closed
/// pipe (`pimlab export | head`) is the command line's usual quiet end, not an internal error of
/// the library. What was written before a refusal is still shown.
fn buffered<T>(
    out: Out<'_>,
    f: impl FnOnce(&mut Vec<u8>) -> Result<T, crate::model::ApiError>,
) -> Result<T, CliError> {
    let mut buf = Vec::new();
    let result = f(&mut buf);
    out.write_all(&buf)?;
    Ok(result?)
}

pub(super) fn import(
    engine: &mut Engine,
    session: &Session,
    a: &ImportArgs,
    out: Out<'_>,
    _err: Out<'_>,
) -> Result<i32, CliError> {
    let bar = Bar::on_terminal();
    let progress: &dyn Progress = match &bar {
        Some(bar) => bar,
        None => &NoProgress,
    };
    let options = exchange::import::ImportOptions { paths: &a.paths, dry_run: a.dry_run, progress };
    let result = buffered(out, |buf| exchange::import::run(engine, session, &options, buf));
    if let Some(bar) = bar {
        bar.clear();
    }
    result?;
    Ok(0)
}

/// A progress bar on standard error, drawn only when standard error is a terminal: piped or
/// redirected, a long command prints nothing but its result. It is cleared when the command
/// ends, so what stays on the screen is the summary alone.
pub(super) struct Bar(indicatif::ProgressBar);

impl Bar {
    pub(super) fn on_terminal() -> Option<Bar> {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return None;
        }
        // Hidden until the first phase starts, so no empty bar is ever drawn.
        let bar = indicatif::ProgressBar::hidden();
        // `wide_bar` fits the line to the terminal: a line that wrapped would be redrawn below itself.
        let style = indicatif::ProgressStyle::with_template(
            "{msg:>16} [{wide_bar}] {human_pos}/{human_len} {eta} left",
        )
        .ok()?
        .progress_chars("=> ");
        bar.set_style(style);
        Some(Bar(bar))
    }

    /// The command is over: the bar leaves the screen.
    pub(super) fn clear(self) {
        self.0.finish_and_clear();
    }
}

/// A spinner on standard error for a command whose length is unknown in advance (a script), drawn
/// only when standard error is a terminal, with a line saying how far it got. Cloned, it is the
/// same spinner (the script's printing steps it aside while a line goes out).
#[derive(Clone)]
pub(super) struct Spinner(indicatif::ProgressBar);

impl Spinner {
    pub(super) fn on_terminal() -> Option<Spinner> {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let spinner = indicatif::ProgressBar::new_spinner();
        let style = indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})").ok()?;
        spinner.set_style(style);
        spinner.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        // No steady tick: its thread would draw while the command holds standard error's lock.
        Some(Spinner(spinner))
    }

    /// Redraws it with `message`.
    pub(super) fn say(&self, message: &str) {
        self.0.set_message(message.to_string());
        self.0.tick();
    }

    /// Runs `f` (which writes to the terminal) with the spinner off the screen.
    pub(super) fn suspend<T>(&self, f: impl FnOnce() -> T) -> T {
        self.0.suspend(f)
    }

    /// The command is over: the spinner leaves the screen.
    pub(super) fn clear(self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn start(&self, phase: &str, total: u64) {
        self.0.reset();
        self.0.set_length(total);
        self.0.set_message(phase.to_string());
        if self.0.is_hidden() {
            self.0.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    }

    fn advance(&self, n: u64) {
        self.0.inc(n);
    }

    fn finish(&self) {
        self.0.set_position(self.0.length().unwrap_or(0));
    }
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
    buffered(out, |buf| exchange::export::run(engine, session, &options, buf))?;
    Ok(0)
}

pub(super) fn mark(
    engine: &mut Engine,
    session: &Session,
    a: &MarkArgs,
    out: Out<'_>,
) -> Result<i32, CliError> {
    buffered(out, |buf| exchange::export::mark(engine, session, a.name.as_deref(), buf))?;
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
    let applied = buffered(out, |buf| exchange::easypim::apply(engine, session, &options, buf))?;
    // Like a dry run whose request would be refused: the report on stdout, exit 1.
    Ok(if applied.failed > 0 { 1 } else { 0 })
}
