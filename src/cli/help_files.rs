//! Files about pimlab that other programs read: shell completion scripts and the manual page,
//! both made from the command-line grammar itself so they cannot drift from it.

use std::io::Write;

use clap::CommandFactory;

use super::CliError;
use super::args::Cli;

/// Writes the completion script of `shell` for every command and flag of pimlab.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> Result<i32, CliError> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "pimlab", &mut script);
    out.write_all(&script)?;
    Ok(0)
}

/// Writes the manual page, `pimlab(1)`, in roff.
pub fn man_page(out: &mut dyn Write) -> Result<i32, CliError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    out.write_all(&page)?;
    Ok(0)
}
