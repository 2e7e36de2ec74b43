//! The REPL: the CLI's commands (one grammar, one parser), `as PRINCIPAL` to switch caller, and
//! Lua one-liners (`lua CODE`, or `= EXPR` to see a value). On a terminal it keeps history and
//! completes; with standard input not a terminal it reads commands line by line, so it can be
//! driven by a pipe.

use std::io::{BufRead, IsTerminal, Write};

use super::CliError;
use super::args::Cli;
use super::line::{Step, run_line};
use super::shell::Shell;

/// `pimlab` without a command, or `pimlab repl`.
pub fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, CliError> {
    // As on the command line, a new store gets its tenant from the first command that needs one,
    // so a session may begin with `init --demo ...`.
    let mut shell = Shell::open(Some(&cli.store_path()))?;
    // `--as` and `--no-mfa` given to `pimlab` itself hold for the whole session.
    if cli.as_principal.is_some() || cli.no_mfa {
        shell.set_caller(cli.as_principal.as_deref(), !cli.no_mfa)?;
    }
    if std::io::stdin().is_terminal() {
        return super::editor::interactive(&mut shell, cli, out, err);
    }
    // Driven by a pipe, the session's exit code says whether every line succeeded.
    let stdin = std::io::stdin();
    let mut worst = 0;
    for line in stdin.lock().lines() {
        let line = line.map_err(CliError::Output)?;
        match run_line(&mut shell, &line, out, err) {
            Step::Exit => break,
            Step::Next(code) => worst = worst.max(code),
        }
    }
    Ok(worst)
}
