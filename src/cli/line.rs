//! One line of the REPL, whichever way it arrives (a pipe, or the line editor on a terminal):
//! parsed into a command, `as`, Lua, `help` or `exit`, and run on the shell. Both `repl` and
//! `editor` use it; neither uses the other's line handling.

use std::io::Write;

use super::shell::Shell;
use super::{CliError, report, scenario};

pub(super) const HELP: &str = "\
Commands are pimlab's own (try `help` after any of them, e.g. `eligible --help`), plus:
  as PRINCIPAL      act as someone else (by id, user principal name or name); `as` alone: back to the break-glass admin
  lua CODE          run a line of Lua with the `pim` API (pim.activate{role=...}, pim.clock.advance(\"PT1H\"), ...)
  = EXPR            evaluate Lua and show the value, e.g. = pim.clock.now()
  help, exit (or quit, Ctrl-D)
On a terminal, Tab completes commands, flags, role and principal names and request ids; history is kept
in ~/.pimlab_history (or $PIMLAB_HISTORY; set it empty to keep none).
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
    if let Some(code) =
        trimmed.strip_prefix("lua").filter(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
    {
        let code = code.trim_start();
        if code.is_empty() {
            return Err("`lua` needs code to run, e.g. lua print(pim.clock.now())".into());
        }
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

/// What became of one line.
pub enum Step {
    /// Carry on; the line's exit code (0 when it succeeded or did nothing).
    Next(i32),
    /// `exit`.
    Exit,
}

/// Runs one line. A panic (a bug in pimlab) is reported as an internal error, whatever the line
/// was doing is rolled back, and the session goes on.
pub fn run_line(shell: &mut Shell, line: &str, out: &mut dyn Write, err: &mut dyn Write) -> Step {
    let ran =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_line_inner(shell, line, out, err)));
    match ran {
        Ok(step) => step,
        Err(payload) => {
            shell.engine().recover_from_panic();
            Step::Next(report(CliError::Api(super::panic_error(payload.as_ref())), out, err))
        }
    }
}

fn run_line_inner(shell: &mut Shell, line: &str, out: &mut dyn Write, err: &mut dyn Write) -> Step {
    let code = match parse(line) {
        Err(e) => report(CliError::Usage(e), out, err),
        Ok(Line::Empty) => 0,
        Ok(Line::Exit) => return Step::Exit,
        Ok(Line::Help) => {
            let _ = write!(out, "{HELP}");
            0
        }
        Ok(Line::As(who)) => match shell.set_caller(who.as_deref(), true) {
            Ok(_) => {
                let _ =
                    writeln!(out, "acting as {}", shell.status_line().split_once(' ').map_or("", |p| p.1));
                0
            }
            Err(e) => report(e, out, err),
        },
        Ok(Line::Lua(code)) => scenario::eval_line(shell, &code, out, err),
        Ok(Line::Command(words)) => shell.run_words(&words, out, err),
    };
    Step::Next(code)
}
