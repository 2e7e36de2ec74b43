//! `pimlab whatif SCRIPT.lua`: a scenario run on a private in-memory fork of the store, then the
//! privilege diff of the fork against the store. The store is only read: whatever the script
//! does, and whether or not it fails, happens to the fork and is dropped with it.
//!
//! The diff answers "what would this change?": it starts at the store's clock (where the fork
//! began) and runs to where the scenario moved the fork's clock (or further, with `--over`), so an
//! activation that the scenario let expire still shows, with its window.

use std::io::Write;

use super::args::{Cli, WhatifArgs};
use super::shell::Shell;
use super::{CliError, commands, render, scenario};
use crate::model::time::checked_add;
use crate::report::{DiffQuery, Over};

/// How the fork is named in the diff.
const FORK_NAME: &str = "what if";

pub fn run(cli: &Cli, a: &WhatifArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, CliError> {
    let source = std::fs::read_to_string(&a.script)
        .map_err(|e| CliError::Usage(format!("cannot read script '{}': {e}", a.script.display())))?;
    let db = cli.store_path();
    let mut original = crate::ops::open_store(&db)?;
    let start = original.now()?;
    let mut shell = Shell::over(original.fork_in_memory()?, FORK_NAME);
    // With --json, stdout carries the diff alone: what the script prints goes to stderr.
    let status = if cli.json {
        let mut failure = Vec::new();
        let status = scenario::play(cli, &mut shell, &a.script, &source, err, &mut failure, None)?;
        err.write_all(&failure)?;
        status
    } else {
        scenario::play(cli, &mut shell, &a.script, &source, out, err, None)?
    };
    // Stopped by Ctrl-C: the fork is dropped, and no diff of half a scenario is shown.
    if status > 1 {
        return Ok(status);
    }
    let end = shell.engine().now()?;
    let mut until = end;
    if let Some(d) = a.over {
        until = until.max(checked_add(start, d).unwrap_or(until));
    }
    let over = (until > start).then_some(Over::Until(until));
    let name = db.display().to_string();
    let q = DiffQuery { at: Some(start), over };
    let diff = crate::report::privilege_diff((&name, &mut original), (FORK_NAME, shell.engine()), &q)?;
    let outcome = crate::ops::Outcome::Diff(diff);
    if cli.json {
        writeln!(out, "{}", commands::pretty(&outcome.to_json()))?;
    } else {
        writeln!(out)?;
        render::outcome(&mut original, &outcome, out)?;
    }
    Ok(status)
}
