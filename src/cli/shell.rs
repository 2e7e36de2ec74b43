//! A shell: one open store and one current caller, running command lines of the CLI grammar.
//! The command line runs one line in a new shell; the REPL and the scenario runner keep one open.

use std::io::Write;
use std::path::Path;
use std::rc::Rc;

use super::{Cli, CliError, commands, render};
use crate::engine::Engine;

pub struct Shell {
    pub(crate) engine: Engine,
    /// How the store is named in messages.
    store: String,
    /// The caller set with `as` (REPL) or `pim.as` (scripts); `None` = the break-glass admin.
    caller: Option<String>,
    /// Whether the current caller's session satisfied MFA.
    mfa: bool,
    /// The REPL's Lua session, made by its first `lua` line: globals carry over between lines.
    pub(crate) lua: Option<crate::hooks::scenario::LuaSession>,
}

impl Shell {
    /// Opens the store at `path`, or a private in-memory one. Policy hooks run in the Lua host.
    pub fn open(path: Option<&Path>) -> Result<Shell, CliError> {
        let (engine, store) = match path {
            Some(p) => (Engine::open(p)?, p.display().to_string()),
            None => (Engine::in_memory()?, "an in-memory store".to_string()),
        };
        Ok(Shell::over(engine, &store))
    }

    /// A shell over an engine already open (a private fork), named `store` in messages.
    pub fn over(mut engine: Engine, store: &str) -> Shell {
        engine.set_hook_runner(Rc::new(crate::hooks::LuaHooks::new(crate::api::views::REQUEST)));
        Shell { engine, store: store.to_string(), caller: None, mfa: true, lua: None }
    }

    pub fn engine(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// The caller commands run as, unless a line says `--as`.
    pub fn caller(&self) -> Option<&str> {
        self.caller.as_deref()
    }

    /// Switches the caller (by id, name or UPN; `None` = back to the break-glass admin) and
    /// whether its session has MFA; returns the previous pair.
    pub fn set_caller(
        &mut self,
        principal: Option<&str>,
        mfa: bool,
    ) -> Result<(Option<String>, bool), CliError> {
        let id = match principal {
            Some(p) => Some(self.engine.resolve_object(p)?.id),
            None => None,
        };
        Ok((std::mem::replace(&mut self.caller, id), std::mem::replace(&mut self.mfa, mfa)))
    }

    /// Puts back a caller saved by `set_caller`.
    pub fn restore_caller(&mut self, previous: (Option<String>, bool)) {
        (self.caller, self.mfa) = previous;
    }

    /// The session commands run in: the current caller (or the break-glass admin) and its MFA.
    pub fn session(&mut self) -> Result<crate::engine::Session, CliError> {
        let caller = match &self.caller {
            Some(c) => c.clone(),
            None => self.engine.default_caller()?,
        };
        Ok(crate::engine::Session {
            caller,
            mfa: self.mfa,
            auth_contexts: Vec::new(),
            client: crate::engine::Client::FirstParty,
        })
    }

    /// Runs a parsed command line.
    pub fn run(&mut self, cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, CliError> {
        commands::dispatch(&mut self.engine, &self.store, self.caller.as_deref(), self.mfa, cli, out, err)
    }

    /// Parses and runs one line given as words (without `pimlab`); errors are printed to `err`
    /// as the command line prints them. Returns the exit code.
    pub fn run_words(&mut self, words: &[String], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        match self.try_words(words, out, err) {
            Ok(code) => code,
            Err(e) => super::report(e, out, err),
        }
    }

    /// Parses and runs one line given as words, returning the error rather than printing it.
    pub fn try_words(
        &mut self,
        words: &[String],
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<i32, CliError> {
        let argv = std::iter::once("pimlab".to_string()).chain(words.iter().cloned());
        let cli = Cli::parse_in_session(argv)?;
        self.run(&cli, out, err)
    }

    /// The prompt's facts: simulated time and current caller.
    pub fn status_line(&mut self) -> String {
        let now = self.engine.now().map(crate::model::time::format_timestamp).unwrap_or_default();
        let who = match self.caller.clone().or_else(|| self.engine.default_caller().ok()) {
            Some(id) => render::Names::default().principal(&mut self.engine, &id),
            None => "?".into(),
        };
        format!("{now} {who}")
    }
}
