//! The command line: parse, open the store, run one command, print. Only this layer (and, later,
//! the REPL and the HTTP listener) reads arguments or writes to the terminal.

mod args;
mod commands;
mod render;

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;

pub use args::Cli;

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

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Output(e)
    }
}

/// Runs pimlab with these arguments, writing to `out` and `err`; returns the exit code.
pub fn run(args: impl IntoIterator<Item = OsString>, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let text = e.render().to_string();
            if code == 0 {
                let _ = write!(out, "{text}");
            } else {
                let _ = write!(err, "{text}");
            }
            return code;
        }
    };
    match commands::execute(&cli, out, err) {
        Ok(code) => code,
        Err(CliError::Api(e)) => {
            let _ = write!(err, "{}", render::error(&e));
            1
        }
        Err(CliError::Store(e)) => {
            let _ = writeln!(err, "error: {e}");
            1
        }
        Err(CliError::Usage(m)) => {
            let _ = writeln!(err, "error: {m}");
            2
        }
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(CliError::Output(e)) => {
            let _ = writeln!(err, "error: cannot write output: {e}");
            1
        }
    }
}
