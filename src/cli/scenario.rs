//! `pimlab run SCRIPT.lua`: a scenario script over a shell. The shell is the script's host: every
//! `pim.*` call is a command line of the same grammar, so scripts can do what the CLI can.

use std::io::Write;

use serde_json::Value;

use super::args::{Cli, RunArgs};
use super::shell::Shell;
use super::{CliError, report};
use crate::engine::InitOptions;
use crate::hooks::scenario::{self, CommandFailure, ScenarioHost};
use crate::model::Timestamp;
use crate::model::time::parse_timestamp;

/// A shell seen as a scenario's host.
pub struct Host<'a> {
    pub shell: &'a mut Shell,
    saved: Vec<(Option<String>, bool)>,
}

impl<'a> Host<'a> {
    pub fn new(shell: &'a mut Shell) -> Self {
        Host { shell, saved: Vec::new() }
    }
}

fn failure(e: CliError) -> CommandFailure {
    match e {
        CliError::Api(e) => {
            let mut message = e.message.clone();
            for d in &e.details {
                message.push_str(&format!("\n  - {}: {}", d.code, d.message));
            }
            CommandFailure { code: e.code, status: e.status, message }
        }
        CliError::Usage(m) => CommandFailure { code: "Usage".into(), status: 2, message: m },
        CliError::Clap(text, _) => {
            CommandFailure { code: "Usage".into(), status: 2, message: text.trim().to_string() }
        }
        CliError::Store(e) => CommandFailure { code: "Store".into(), status: 1, message: e.to_string() },
        CliError::Output(e) => CommandFailure { code: "Output".into(), status: 1, message: e.to_string() },
    }
}

impl ScenarioHost for Host<'_> {
    fn command(&mut self, words: &[String]) -> Result<Value, CommandFailure> {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let result = self.shell.try_words(words, &mut out, &mut err);
        let stdout = String::from_utf8_lossy(&out).to_string();
        match result {
            Ok(0) => Ok(serde_json::from_str(&stdout).unwrap_or(Value::String(stdout))),
            Ok(code) => Err(CommandFailure {
                code: "Failed".into(),
                status: code as u16,
                message: String::from_utf8_lossy(&err).trim().to_string(),
            }),
            Err(e) => Err(failure(e)),
        }
    }

    fn graph(&mut self, method: &str, path: &str, body: Option<&str>) -> (u16, Option<Value>) {
        let session = match self.shell.session() {
            Ok(s) => s,
            Err(e) => {
                let f = failure(e);
                return (
                    f.status,
                    Some(serde_json::json!({"error": {"code": f.code, "message": f.message}})),
                );
            }
        };
        let r = crate::api::graph::handle(self.shell.engine(), &session, method, path, body);
        (r.status, r.body)
    }

    fn add_hook(
        &mut self,
        name: &str,
        source: &str,
        role: Option<&str>,
        scope: Option<&str>,
    ) -> Result<Value, CommandFailure> {
        let session = self.shell.session().map_err(failure)?;
        // A scope by name, as the command line takes it (`Europe` → /administrativeUnits/{id}).
        let scope =
            scope.map(|s| super::commands::scope(self.shell.engine(), s)).transpose().map_err(failure)?;
        let scope = scope.as_deref();
        let (h, handlers) = self
            .shell
            .engine()
            .add_hook(&session, name, source, role, scope)
            .map_err(|e| failure(CliError::Api(e)))?;
        Ok(serde_json::json!({ "name": h.name, "position": h.position, "handlers": handlers }))
    }

    fn set_caller(&mut self, principal: &str, mfa: bool) -> Result<(), CommandFailure> {
        let previous = self.shell.set_caller(Some(principal), mfa).map_err(failure)?;
        self.saved.push(previous);
        Ok(())
    }

    fn restore_caller(&mut self) {
        if let Some(previous) = self.saved.pop() {
            self.shell.restore_caller(previous);
        }
    }

    fn now(&mut self) -> Timestamp {
        self.shell.engine().now().unwrap_or_default()
    }

    fn seed(&mut self) -> u64 {
        self.shell.engine().seed().unwrap_or_default()
    }
}

/// `pimlab run`: an in-memory tenant (or --db), the script, then `N passed, M failed`.
pub fn run(cli: &Cli, a: &RunArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, CliError> {
    let source = std::fs::read_to_string(&a.script)
        .map_err(|e| CliError::Usage(format!("cannot read script '{}': {e}", a.script.display())))?;
    let defaults = InitOptions::default();
    let at = match &a.at {
        Some(t) => parse_timestamp(t).map_err(CliError::Usage)?,
        None => defaults.at,
    };
    let tenant = InitOptions { seed: a.seed.unwrap_or(defaults.seed), at, demo: a.demo, ..defaults };
    let mut shell = Shell::open(cli.db.as_deref())?;
    if !shell.engine().is_initialized()? {
        shell.engine().init(&tenant)?;
    } else if a.seed.is_some() || a.at.is_some() || a.demo {
        // Silently running against a tenant other than the one asked for would mislead.
        let db = cli.db.as_deref().map_or("the store".into(), |p| p.display().to_string());
        return Err(CliError::Usage(format!(
            "--seed, --at and --demo shape a new tenant, but {db} already holds one; drop them, or \
             start afresh with `pimlab --db {db} init --force` and its own --seed/--at/--demo"
        )));
    }
    if cli.as_principal.is_some() || cli.no_mfa {
        shell.set_caller(cli.as_principal.as_deref(), !cli.no_mfa)?;
    }
    let name = a.script.file_name().map_or("script".to_string(), |n| n.to_string_lossy().to_string());
    let mut host = Host::new(&mut shell);
    let mut lines = Vec::new();
    let outcome = scenario::run(&source, &name, &mut host, &mut |line| lines.push(line.to_string()));
    for line in &lines {
        writeln!(out, "{line}")?;
    }
    if let Some(e) = &outcome.error {
        writeln!(err, "error: {e}")?;
    }
    writeln!(out, "{} passed, {} failed", outcome.passed, outcome.failed)?;
    Ok(if outcome.ok() { 0 } else { 1 })
}

/// Runs one Lua line in the REPL; prints what it prints and its value.
pub fn eval_line(shell: &mut Shell, code: &str, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    // A new store gets its tenant here too, as it would from the first command.
    match shell.engine().is_initialized() {
        Ok(true) => {}
        Ok(false) => {
            if let Err(e) = shell.engine().init(&InitOptions::default()) {
                return report(CliError::Api(e), out, err);
            }
            let _ = writeln!(err, "pimlab: created a new tenant in this store (seed 1)");
        }
        Err(e) => return report(CliError::Api(e), out, err),
    }
    // The session is taken out while the line runs: the host borrows the shell.
    let session = shell.lua.take();
    let mut host = Host::new(shell);
    let session = match session.map_or_else(|| scenario::LuaSession::new(&mut host), Ok) {
        Ok(session) => session,
        Err(e) => return report(CliError::Usage(e), out, err),
    };
    let mut lines = Vec::new();
    // `= expr` shows a value, as the standalone Lua REPL does.
    let source = match code.strip_prefix('=') {
        Some(expr) => format!("return {expr}"),
        None => code.to_string(),
    };
    let outcome = session.run(&source, "lua", &mut host, &mut |line| lines.push(line.to_string()));
    drop(host);
    shell.lua = Some(session);
    for line in &lines {
        let _ = writeln!(out, "{line}");
    }
    match &outcome.value {
        Some(v) => {
            let _ = writeln!(out, "{v}");
        }
        // `= missing` answers, as the standalone Lua REPL does; a `lua` statement stays quiet.
        None if code.starts_with('=') && outcome.error.is_none() => {
            let _ = writeln!(out, "nil");
        }
        None => {}
    }
    match outcome.error {
        Some(e) => report(CliError::Usage(e), out, err),
        None => 0,
    }
}
