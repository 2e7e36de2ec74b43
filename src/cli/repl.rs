//! The REPL: the CLI's commands (one grammar, one parser), `as PRINCIPAL` to switch caller, and
//! Lua one-liners (`lua CODE`, or `= EXPR` to see a value). On a terminal it keeps history and
//! completes; with standard input not a terminal it reads commands line by line, so it can be
//! driven by a pipe.

use std::io::{BufRead, IsTerminal, Write};

use super::args::Cli;
use super::shell::Shell;
use super::{CliError, report, scenario};

const HELP: &str = "\
Commands are pimlab's own (try `help` after any of them, e.g. `eligible --help`), plus:
  as PRINCIPAL      act as someone else (by id, user principal name or name); `as` alone: back to the break-glass admin
  lua CODE          run a line of Lua with the `pim` API (pim.activate{role=...}, pim.clock.advance(\"PT1H\"), ...)
  = EXPR            evaluate Lua and show the value, e.g. = pim.clock.now()
  help, exit
";

/// What one line asks for.
enum Line {
    Empty,
    Exit,
    Help,
    As(Option<String>),
    Lua(String),
    Command(Vec<String>),
}

fn parse(line: &str) -> Result<Line, String> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(Line::Empty);
    }
    if trimmed.starts_with('=') {
        return Ok(Line::Lua(trimmed.to_string()));
    }
    if let Some(code) = trimmed.strip_prefix("lua ") {
        return Ok(Line::Lua(code.to_string()));
    }
    let words = shlex::split(trimmed)
        .ok_or_else(|| format!("cannot split the line into words (unbalanced quotes?): {trimmed}"))?;
    Ok(match words.first().map(String::as_str) {
        Some("exit" | "quit") => Line::Exit,
        Some("help" | "?") if words.len() == 1 => Line::Help,
        Some("as") => Line::As(words.get(1..).filter(|w| !w.is_empty()).map(|w| w.join(" "))),
        // `pimlab eligible list` works as well as `eligible list`.
        Some("pimlab") => Line::Command(words[1..].to_vec()),
        _ => Line::Command(words),
    })
}

/// Runs one line; returns false when the REPL should end.
pub fn run_line(shell: &mut Shell, line: &str, out: &mut dyn Write, err: &mut dyn Write) -> bool {
    match parse(line) {
        Err(e) => {
            report(CliError::Usage(e), out, err);
        }
        Ok(Line::Empty) => {}
        Ok(Line::Exit) => return false,
        Ok(Line::Help) => {
            let _ = write!(out, "{HELP}");
        }
        Ok(Line::As(who)) => match shell.set_caller(who.as_deref(), true) {
            Ok(_) => {
                let _ =
                    writeln!(out, "acting as {}", shell.status_line().split_once(' ').map_or("", |p| p.1));
            }
            Err(e) => {
                report(e, out, err);
            }
        },
        Ok(Line::Lua(code)) => {
            scenario::eval_line(shell, &code, out, err);
        }
        Ok(Line::Command(words)) => {
            shell.run_words(&words, out, err);
        }
    }
    true
}

/// `pimlab` without a command, or `pimlab repl`.
pub fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, CliError> {
    let mut shell = Shell::open(Some(&cli.store_path()))?;
    if !shell.engine().is_initialized()? {
        shell.engine().init(&crate::engine::InitOptions::default())?;
        writeln!(err, "pimlab: created a new tenant in {}", cli.store_path().display())?;
    }
    if let Some(who) = &cli.as_principal {
        shell.set_caller(Some(who), !cli.no_mfa)?;
    }
    if std::io::stdin().is_terminal() {
        return super::editor::interactive(&mut shell, cli, out, err);
    }
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let line = line.map_err(CliError::Output)?;
        if !run_line(&mut shell, &line, out, err) {
            break;
        }
    }
    Ok(0)
}
