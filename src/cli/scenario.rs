//! `pimlab run SCRIPT.lua`: a scenario script over a shell. The shell is the script's host: every
//! `pim.*` call is a typed operation applied to its engine (`pim.run` parses a command line of the
//! CLI grammar into the same operation), so scripts can do what the CLI can, with no text between.

use crate::model::ErrorCode;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde_json::Value;

use super::args::{Cli, Command, RunArgs};
use super::interrupt::Watch;
use super::shell::Shell;
use super::{CliError, report};
use crate::engine::InitOptions;
use crate::hooks::Limits;
use crate::hooks::scenario::{self, ScenarioHost, WireApi};
use crate::model::{ApiError, Timestamp};
use crate::ops::{self, Access, Operation, SessionOptions};

/// A shell seen as a scenario's host.
pub struct Host<'a> {
    pub shell: &'a mut Shell,
    saved: Vec<(Option<String>, bool)>,
    /// Where `pimlab run` shows how far a script got, on a terminal.
    ticker: Option<Ticker>,
    /// Raised by Ctrl-C: the script stops at its next step (`interrupt.rs`).
    stop: Option<Arc<AtomicBool>>,
}

impl<'a> Host<'a> {
    pub fn new(shell: &'a mut Shell) -> Self {
        Host { shell, saved: Vec::new(), ticker: None, stop: None }
    }

    /// One more operation was run: the spinner, if there is one, says so now and then.
    fn tick(&mut self) {
        if let Some(t) = &mut self.ticker {
            t.operations += 1;
            if t.operations % TICK_EVERY == 1 {
                let clock = self.shell.engine().now().map(crate::model::time::format_timestamp);
                let operations = t.operations;
                t.spinner.say(&format!(
                    "operations: {operations}, simulated clock {}",
                    clock.as_deref().unwrap_or("unknown")
                ));
            }
        }
    }
}

/// Every how many operations the spinner turns and its line is rewritten: often enough to follow
/// a script doing a few hundred operations a second, rarely enough that reading the clock costs
/// nothing measurable.
const TICK_EVERY: u64 = 100;

/// A script's progress: its length is unknown in advance, so a spinner with the operations run
/// and the simulated clock, not a bar.
struct Ticker {
    spinner: super::exchange::Spinner,
    operations: u64,
}

/// A command-line failure as a structured error (what scripts receive).
fn structured(e: CliError) -> ApiError {
    match e {
        CliError::Api(e) => e,
        CliError::Usage(m) => ApiError::usage(m),
        CliError::Clap(text, _) => ApiError::usage(text.trim().to_string()),
        CliError::Store(e) => ApiError::new(500, ErrorCode::InternalServerError, e.to_string()),
        CliError::Output(e) => ApiError::internal(format!("cannot write output: {e}")),
    }
}

impl ScenarioHost for Host<'_> {
    fn apply(&mut self, op: &Operation, options: &SessionOptions) -> Result<Value, ApiError> {
        let mut session = self.shell.session().map_err(structured)?;
        if *options != SessionOptions::default() {
            session = options.session(self.shell.engine(), &session)?;
        }
        let outcome = ops::apply(self.shell.engine(), &session, op, Access::SCRIPT);
        self.tick();
        Ok(outcome?.to_json())
    }

    fn command(&mut self, words: &[String]) -> Result<Value, ApiError> {
        let argv = std::iter::once("pimlab".to_string()).chain(words.iter().cloned());
        let cli = Cli::parse_in_session(argv).map_err(structured)?;
        let op = match &cli.command {
            Some(Command::Op(op)) => op,
            _ => {
                return Err(ApiError::usage(format!(
                    "pim.run runs operations on the tenant; '{}' is not one (init, run, repl and graph are not: use pim.graph for Graph)",
                    words.join(" ")
                )));
            }
        };
        let session = self.shell.session().map_err(structured)?;
        let session = super::commands::session_options(&cli).session(self.shell.engine(), &session)?;
        let outcome = ops::apply(self.shell.engine(), &session, op, Access::SCRIPT);
        self.tick();
        Ok(outcome?.to_json())
    }

    fn call_api(
        &mut self,
        api: WireApi,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> (u16, Option<Value>) {
        let session = match self.shell.session() {
            Ok(s) => s,
            Err(e) => {
                let e = structured(e);
                return (
                    e.status,
                    Some(serde_json::json!({"error": {"code": e.code, "message": e.message}})),
                );
            }
        };
        let engine = self.shell.engine();
        let r = match api {
            WireApi::Graph => crate::api::graph::handle(engine, &session, method, path, body),
            WireApi::Arm => crate::api::arm::handle(engine, &session, method, path, body),
        };
        self.tick();
        (r.status, r.body)
    }

    fn set_caller(&mut self, principal: &str, mfa: bool) -> Result<(), ApiError> {
        let previous = self.shell.set_caller(Some(principal), mfa).map_err(structured)?;
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

    fn stop_flag(&self) -> Option<Arc<AtomicBool>> {
        self.stop.clone()
    }
}

/// `pimlab run`: an in-memory tenant (or --db), the script, then `N passed, M failed`.
pub fn run(cli: &Cli, a: &RunArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, CliError> {
    let source = std::fs::read_to_string(&a.script)
        .map_err(|e| CliError::Usage(format!("cannot read script '{}': {e}", a.script.display())))?;
    let defaults = InitOptions::default();
    let at = a.at.unwrap_or(defaults.at);
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
    let spinner = super::exchange::Spinner::on_terminal();
    play(cli, &mut shell, &a.script, &source, out, err, spinner)
}

/// Runs a script's source on a shell (as --as/--no-mfa say), streaming what it prints to `out`,
/// then its error to `err` and `N passed, M failed` to `out`; returns the exit status: 0 if it
/// passed, 1 if not, 130 if Ctrl-C stopped it (143 for SIGTERM). Its operations run in a rolling
/// batch (`store/rolling.rs`), committed however the script ends, a first Ctrl-C included;
/// `spinner`, when given, shows how far it got.
pub(super) fn play(
    cli: &Cli,
    shell: &mut Shell,
    script: &std::path::Path,
    source: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
    spinner: Option<super::exchange::Spinner>,
) -> Result<i32, CliError> {
    if cli.as_principal.is_some() || cli.no_mfa {
        shell.set_caller(cli.as_principal.as_deref(), !cli.no_mfa)?;
    }
    let name = script.file_name().map_or("script".to_string(), |n| n.to_string_lossy().to_string());
    let rolling = shell.engine().begin_rolling()?;
    // Watched until the batch is committed: a second Ctrl-C meanwhile ends the process at once.
    let watch = Watch::start();
    let mut host = Host::new(shell);
    host.ticker = spinner.clone().map(|spinner| Ticker { spinner, operations: 0 });
    host.stop = watch.flag();
    // Each line goes out as it is printed: kept until the script ended, printed lines grew the
    // process past the script's memory limit. The spinner steps aside while a line is written.
    let mut failed_write = None;
    let outcome = scenario::run(source, &name, &mut host, &mut |line| {
        if failed_write.is_none() {
            failed_write = match &spinner {
                Some(s) => s.suspend(|| writeln!(out, "{line}")),
                None => writeln!(out, "{line}"),
            }
            .err();
        }
    });
    drop(host);
    if let Some(s) = spinner {
        s.clear();
    }
    if rolling {
        shell.engine().end_rolling()?;
    }
    if let Some(e) = failed_write {
        return Err(e.into());
    }
    if let Some(e) = &outcome.error {
        writeln!(err, "error: {e}")?;
    }
    writeln!(out, "{} passed, {} failed", outcome.passed, outcome.failed)?;
    Ok(match watch.status() {
        Some(status) => status,
        None if outcome.ok() => 0,
        None => 1,
    })
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
    // A line's operations share commits, as a script's do.
    let rolling = match shell.engine().begin_rolling() {
        Ok(rolling) => rolling,
        Err(e) => return report(CliError::Api(e), out, err),
    };
    // Ctrl-C while the line runs stops it, and the REPL goes on (`interrupt.rs`).
    let watch = Watch::start();
    // The session is taken out while the line runs: the host borrows the shell.
    let session = shell.lua.take();
    let mut host = Host::new(shell);
    host.stop = watch.flag();
    let session = match session.map_or_else(|| scenario::LuaSession::new(&mut host, Limits::REPL_LINE), Ok) {
        Ok(session) => session,
        Err(e) => return report(CliError::Usage(e), out, err),
    };
    // `= expr` shows a value, as the standalone Lua REPL does.
    let source = match code.strip_prefix('=') {
        Some(expr) => format!("return {expr}"),
        None => code.to_string(),
    };
    // Streamed as printed, as in `pimlab run`.
    let outcome = session.run(&source, "lua", &mut host, &mut |line| {
        let _ = writeln!(out, "{line}");
    });
    drop(host);
    shell.lua = Some(session);
    if rolling {
        if let Err(e) = shell.engine().end_rolling() {
            return report(CliError::Api(e), out, err);
        }
    }
    drop(watch);
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
