//! The terminal side of the REPL: line editing, history kept between runs, and completion.

use std::io::Write;

use rustyline::error::ReadlineError;

use super::args::Cli;
use super::shell::Shell;
use super::{CliError, repl};

/// Where history is kept: beside the user's other dotfiles.
fn history_path() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".pimlab_history"))
}

pub fn interactive(
    shell: &mut Shell,
    _cli: &Cli,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, CliError> {
    let mut editor = rustyline::DefaultEditor::new()
        .map_err(|e| CliError::Usage(format!("cannot open the terminal: {e}")))?;
    if let Some(path) = history_path() {
        let _ = editor.load_history(&path);
    }
    writeln!(out, "pimlab: type `help` for help, `exit` to leave")?;
    loop {
        let prompt = format!("pimlab {}> ", shell.status_line());
        match editor.readline(&prompt) {
            Ok(line) => {
                let _ = editor.add_history_entry(line.as_str());
                if !repl::run_line(shell, &line, out, err) {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(CliError::Usage(format!("terminal error: {e}"))),
        }
    }
    if let Some(path) = history_path() {
        let _ = editor.save_history(&path);
    }
    Ok(0)
}
