//! The instruction budget and the wall-clock deadline a script runs under, and the instruction
//! hook that enforces both.
//!
//! The budget is the deterministic limit: the same script spends the same instructions on every
//! run. The deadline is the safety net for work the budget does not see (and it is checked by the
//! same hook, every [`STEP`] instructions, and by every guarded host function through [`charge`]).
//! Running out of either is sticky: from then on every hook event and every charge fails again
//! with the same error, and the prelude's `pcall`, `xpcall`, `coroutine.resume` and
//! `coroutine.close` re-raise it ([`spent`]), so neither a `__close` handler that raises an error
//! of its own nor an error handler can turn it into something a script catches.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mlua::{DebugEvent, HookTriggers, Lua, VmState};

/// The instruction hook fires every `STEP` instructions.
pub const STEP: u32 = 1000;

/// The text of the budget error.
pub const BUDGET_EXHAUSTED: &str = "instruction budget exhausted";
/// The text of the deadline error.
pub const DEADLINE_PASSED: &str = "time limit exceeded";
/// The text of the error a script stopped by its host's flag ends with.
pub const INTERRUPTED: &str = "interrupted (Ctrl-C or SIGTERM)";

/// What a script has used of its limits, shared by every thread of its state (and charged by the
/// host for work done on its behalf, such as `ctx` queries and guarded library calls).
#[derive(Clone)]
pub(super) struct Budget {
    used: Rc<Cell<u64>>,
    limit: u64,
    /// How long one run (a hook call, a scenario, a REPL line) may take, and when this one ends.
    deadline: Duration,
    ends: Rc<Cell<Instant>>,
    /// The error that ended the run, once it has ended: every later check fails with it.
    spent: Rc<RefCell<Option<String>>>,
    /// The script's chunk and line at the last line event, so errors without a position (memory,
    /// the budget) can name one.
    chunk: Rc<RefCell<String>>,
    line: Rc<Cell<usize>>,
    /// Raised by the host to stop the script (`stop_when`); none for a policy hook, which runs
    /// inside a request and ends with it.
    stop: Rc<RefCell<Option<Arc<AtomicBool>>>>,
}

impl Budget {
    pub(super) fn new(instructions: u64, deadline: Duration) -> Budget {
        Budget {
            used: Rc::new(Cell::new(0)),
            limit: instructions,
            deadline,
            ends: Rc::new(Cell::new(Instant::now() + deadline)),
            spent: Rc::new(RefCell::new(None)),
            chunk: Rc::new(RefCell::new(String::new())),
            line: Rc::new(Cell::new(0)),
            stop: Rc::new(RefCell::new(None)),
        }
    }

    /// The host has asked the script to stop.
    fn stopped(&self) -> bool {
        self.stop.borrow().as_ref().is_some_and(|flag| flag.load(Ordering::Relaxed))
    }

    /// The instructions used so far (what `os.clock` reports).
    pub(super) fn used(&self) -> Rc<Cell<u64>> {
        self.used.clone()
    }

    fn spend(&self, n: u64, lua: Option<&Lua>) -> mlua::Result<()> {
        if let Some(e) = self.spent.borrow().as_ref() {
            return Err(mlua::Error::RuntimeError(e.clone()));
        }
        let used = self.used.get().saturating_add(n);
        self.used.set(used);
        let why = if self.stopped() {
            INTERRUPTED.to_string()
        } else if used > self.limit {
            format!("{BUDGET_EXHAUSTED} ({} instructions); is there an endless loop?", self.limit)
        } else if Instant::now() > self.ends.get() {
            format!("{DEADLINE_PASSED} ({} ms of wall time)", self.deadline.as_millis())
        } else {
            return Ok(());
        };
        let at = self.position().or_else(|| lua.and_then(script_position));
        let message = match at {
            Some(p) => format!("{p}: {why}"),
            None => why,
        };
        *self.spent.borrow_mut() = Some(message.clone());
        Err(mlua::Error::RuntimeError(message))
    }

    fn position(&self) -> Option<String> {
        let chunk = self.chunk.borrow();
        (!chunk.is_empty()).then(|| format!("{chunk}:{}", self.line.get()))
    }
}

/// The innermost frame of the script itself (not the prelude's), as `chunk:line`.
fn script_position(lua: &Lua) -> Option<String> {
    (0..64).find_map(|level| {
        lua.inspect_stack(level, |d| {
            let line = d.current_line()?;
            let src = d.source().short_src?.to_string();
            (src != "sandbox" && src != "pim" && src != "[C]").then(|| format!("{src}:{line}"))
        })
        .flatten()
    })
}

/// Starts counting: from now on the state's code runs under the instruction budget (and every
/// thread it creates), following the script line by line. pimlab's own trusted Lua (the prelude,
/// building a call's environment and views) runs before, unmetered; [`disarm`] stops counting.
pub fn arm(lua: &Lua) -> mlua::Result<()> {
    arm_with(lua, true)
}

/// [`arm`], with or without following the script's lines. Lines are what lets an error without a
/// position of its own (out of memory; the budget spent by the host on the script's behalf) name
/// the script's line; following them costs a call into the host for every line the script runs.
/// Without them, running out of budget inside the script still names the line it was on.
pub fn arm_with(lua: &Lua, lines: bool) -> mlua::Result<()> {
    let budget = lua.app_data_ref::<Budget>().map(|b| b.clone()).expect("new_state sets the budget");
    let triggers = match lines {
        true => HookTriggers::new().every_nth_instruction(STEP).every_line(),
        false => HookTriggers::new().every_nth_instruction(STEP),
    };
    // A global hook: mlua runs it for every thread, coroutines included (a per-thread hook is
    // dropped in the threads Lua creates).
    lua.set_global_hook(triggers, move |lua, debug| {
        let at_script_line = || {
            // The prelude is loaded without line information, so its lines (the views'
            // `__index`, `pairs`) stop here, cheaply.
            let line = debug.current_line()?;
            let source = debug.source();
            let chunk = source.short_src.as_deref().unwrap_or("?");
            if chunk != "sandbox" && chunk != "pim" {
                budget.line.set(line);
                let mut last = budget.chunk.borrow_mut();
                if *last != chunk {
                    last.clear();
                    last.push_str(chunk);
                }
            }
            Some(())
        };
        match debug.event() {
            DebugEvent::Line => {
                at_script_line();
                Ok(VmState::Continue)
            }
            _ => {
                if !lines
                    && budget.spent.borrow().is_none()
                    && (budget.used.get().saturating_add(u64::from(STEP)) > budget.limit
                        || Instant::now() > budget.ends.get()
                        || budget.stopped())
                {
                    // About to run out: name where the script is.
                    at_script_line();
                }
                budget.spend(u64::from(STEP), Some(lua)).map(|()| VmState::Continue)
            }
        }
    })?;
    Ok(())
}

/// Stops counting (the state's own thread; threads the script created are not run again).
pub fn disarm(lua: &Lua) {
    lua.remove_hook();
}

/// Gives the state its whole instruction budget and deadline again (a REPL session before each
/// line, a hook before each call) and forgets where the last script was and how it ended.
pub fn restart_budget(lua: &Lua) {
    if let Some(budget) = lua.app_data_ref::<Budget>() {
        budget.used.set(0);
        budget.ends.set(Instant::now() + budget.deadline);
        *budget.spent.borrow_mut() = None;
        budget.chunk.borrow_mut().clear();
        budget.line.set(0);
    }
}

/// From now on the state's script stops, with [`INTERRUPTED`], at its next check (every
/// [`STEP`] instructions, every [`charge`]) after `flag` is raised; `None` never stops it.
pub fn stop_when(lua: &Lua, flag: Option<Arc<AtomicBool>>) {
    if let Some(budget) = lua.app_data_ref::<Budget>() {
        *budget.stop.borrow_mut() = flag;
    }
}

/// Charges `instructions` to the state's budget (and checks the deadline): the host's work for a
/// script (a query, a command, a guarded library call) costs it as Lua's own instructions would,
/// so loops of such calls end too.
pub fn charge(lua: &Lua, instructions: u64) -> mlua::Result<()> {
    match lua.app_data_ref::<Budget>() {
        Some(b) => b.clone().spend(instructions, Some(lua)),
        None => Ok(()),
    }
}

/// The error that ended the current run, if it has ended (the budget or the deadline): the host
/// reports this whatever error the script's own code raised after it.
pub fn spent(lua: &Lua) -> Option<String> {
    lua.app_data_ref::<Budget>().and_then(|b| b.spent.borrow().clone())
}

/// Where the script was at the last line event (`chunk:line`), for errors without a position.
pub fn last_position(lua: &Lua) -> Option<String> {
    lua.app_data_ref::<Budget>().and_then(|b| b.position())
}
