//! The command line: parse, open the store, run one command, print. Only this layer (and, later,
//! the REPL and the HTTP listener) reads arguments or writes to the terminal.

mod args;
mod commands;
mod editor;
mod exchange;
mod help_files;
mod interrupt;
mod line;
#[cfg(test)]
mod plans;
mod render;
pub mod repl;
pub mod scenario;
pub mod shell;
mod terminal;
mod whatif;

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;

pub use args::Cli;

/// Fits tables to the terminal when stdout is one, or to `PIMLAB_WIDTH` columns when that is set
/// (`0`: never wrap, even on a terminal). Called once by the binary before [`run`]; without it,
/// tables are as wide as their rows.
pub fn fit_tables(pimlab_width: Option<&str>) -> Result<(), String> {
    let columns = match pimlab_width.map(str::trim) {
        Some(text) => match text.parse::<u16>() {
            Ok(0) => None,
            Ok(n) if n >= MIN_TABLE_WIDTH => Some(n),
            _ => {
                return Err(format!(
                    "PIMLAB_WIDTH is '{text}': give a number of columns from {MIN_TABLE_WIDTH} to {}, or 0 for tables that never wrap",
                    u16::MAX
                ));
            }
        },
        None => render::terminal_width(),
    };
    render::set_table_width(columns);
    Ok(())
}

/// Narrower than this, a table of four columns cannot show a word per cell.
const MIN_TABLE_WIDTH: u16 = 40;

/// How a command failed, which decides the exit code.
#[derive(Debug)]
pub enum CliError {
    /// The real service (or pimlab) refused: exit 1.
    Api(crate::model::ApiError),
    /// The store could not be opened: exit 1.
    Store(crate::store::StoreError),
    /// The command line itself is wrong: exit 2.
    Usage(String),
    /// Writing the output failed. A closed pipe (`pimlab ... | head`) is not an error.
    Output(std::io::Error),
    /// clap's own message (help, version, or a usage error) and whether it is an error.
    Clap(String, bool),
}

impl From<crate::model::ApiError> for CliError {
    fn from(e: crate::model::ApiError) -> Self {
        CliError::Api(e)
    }
}

impl From<crate::store::StoreError> for CliError {
    fn from(e: crate::store::StoreError) -> Self {
        CliError::Store(e)
    }
}

impl From<clap::Error> for CliError {
    fn from(e: clap::Error) -> Self {
        let e = closest_first(e);
        CliError::Clap(e.render().to_string(), e.use_stderr())
    }
}

/// clap lists "similar" commands and flags with the closest last (`activat`: 'active',
/// 'deactivate', 'activate'), which reads as if the first were meant: the closest comes first.
fn closest_first(mut e: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue};
    for (typed, suggested) in [
        (ContextKind::InvalidSubcommand, ContextKind::SuggestedSubcommand),
        (ContextKind::InvalidArg, ContextKind::SuggestedArg),
    ] {
        let Some(ContextValue::String(typed)) = e.get(typed).cloned() else { continue };
        if let Some(ContextValue::Strings(mut list)) = e.get(suggested).cloned() {
            // Equally close, a word that begins with what was typed comes first: the user was
            // still typing it (`appl`: `apply` before `app`).
            list.sort_by_key(|s| {
                (
                    strsim::damerau_levenshtein(s.trim_start_matches('-'), typed.trim_start_matches('-')),
                    !s.starts_with(typed.as_str()),
                    s.clone(),
                )
            });
            e.insert(suggested, ContextValue::Strings(list));
        }
    }
    e
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Output(e)
    }
}

/// `pimlab serve`: serves the store until Ctrl-C.
fn serve(cli: &Cli, a: &args::ServeArgs) -> Result<i32, CliError> {
    let db = cli.store_path();
    if !db.exists() {
        return Err(CliError::Usage(format!(
            "there is no store at {}: create one with `pimlab init --demo` first",
            db.display()
        )));
    }
    let options = crate::serve::ServeOptions {
        db: db.clone(),
        bind: a.bind.clone(),
        port: a.port,
        allow_anonymous: a.allow_anonymous,
        tls_certificate: a.tls.then(|| {
            a.certificate.clone().unwrap_or_else(|| {
                let mut name = db.clone().into_os_string();
                name.push(".cert.pem");
                name.into()
            })
        }),
    };
    crate::serve::run(&options).map_err(CliError::Usage)?;
    Ok(0)
}

/// Runs pimlab with these arguments, writing to `out` and `err`; returns the exit code.
pub fn run(args: impl IntoIterator<Item = OsString>, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let (out, err) = (&mut terminal::Escaped::new(out), &mut terminal::Escaped::new(err));
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return report(e.into(), out, err),
    };
    // A panic is a bug in pimlab: it is reported as an internal error like any other, and the
    // store is as it was (the open transaction rolls back as the panic unwinds).
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &cli.command {
        None | Some(args::Command::Repl) => repl::run(&cli, out, err),
        Some(args::Command::Run(a)) => scenario::run(&cli, a, out, err),
        Some(args::Command::Whatif(a)) => whatif::run(&cli, a, out, err),
        Some(args::Command::Completions(a)) => help_files::completions(a.shell, out),
        Some(args::Command::Man) => help_files::man_page(out),
        Some(args::Command::Serve(a)) => serve(&cli, a),
        Some(command) => {
            // `diff A B` reads its two files; A stands for the store (no pimlab.db is needed).
            let path = match command {
                args::Command::Op(crate::ops::Operation::Diff(d)) => d.a.clone(),
                _ => cli.store_path(),
            };
            if !path.exists() && command.is_read_only() {
                return Err(CliError::Usage(format!(
                    "there is no store at {}: nothing to read yet. Create one with `pimlab init --demo` (a \
                     demonstration tenant) or `pimlab init` (an empty one), or name another with --db",
                    path.display()
                )));
            }
            shell::Shell::open(Some(&path)).and_then(|mut sh| sh.run(&cli, out, err))
        }
    }));
    match ran {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => report(e, out, err),
        Err(payload) => report(CliError::Api(panic_error(payload.as_ref())), out, err),
    }
}

/// A caught panic as the internal error it is.
pub(crate) fn panic_error(payload: &(dyn std::any::Any + Send)) -> crate::model::ApiError {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string());
    crate::model::ApiError::internal(format!("pimlab panicked: {what}"))
}

/// Prints an error as pimlab does and gives its exit code.
pub(crate) fn report(e: CliError, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match e {
        CliError::Api(e) if e.kind == crate::model::ErrorKind::Usage => {
            let _ = writeln!(err, "error: {}", e.message);
            2
        }
        CliError::Api(e) => {
            let _ = write!(err, "{}", render::error(&e));
            1
        }
        CliError::Store(e) => {
            let _ = writeln!(err, "error: {e}");
            if matches!(
                e,
                crate::store::StoreError::NotAPimlabStore { .. }
                    | crate::store::StoreError::NotADatabase { .. }
                    | crate::store::StoreError::UnknownVersion { .. }
            ) {
                let _ = writeln!(err, "  hint: use --db to pick another file");
            }
            1
        }
        CliError::Usage(m) => {
            let _ = writeln!(err, "error: {m}");
            2
        }
        CliError::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        CliError::Output(e) => {
            let _ = writeln!(err, "error: cannot write output: {e}");
            1
        }
        CliError::Clap(text, true) => {
            let _ = write!(err, "{text}");
            2
        }
        CliError::Clap(text, false) => {
            let _ = write!(out, "{text}");
            0
        }
    }
}
