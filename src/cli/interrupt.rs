//! Ctrl-C (and SIGTERM) while a script runs: the first stops the script at its next step, so
//! that the operations it ran are committed as when it ends any other way; a second ends the
//! process at once.
//!
//! A script's operations share commits (`store/rolling.rs`): killed outright, the process would
//! lose every operation since the last commit (up to 16,384), each of which had reported
//! success. So while a [`Watch`] lives the signal only raises a flag, which the script's
//! instruction budget checks every thousand instructions and at every `pim` call
//! (`hooks/budget.rs`); the script then fails with `interrupted`, the batch is committed, and
//! the command exits 130 (143 for SIGTERM), as a shell expects of a process a signal ended.
//!
//! The handlers are installed once and stay: a signal-hook action cannot give the signal back
//! its default handler when it is removed. While no watch lives they act as the default would
//! (the process ends), so every other command (and the REPL between lines) behaves as before.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};

/// The flags the handlers read and set.
struct Flags {
    /// No script is being watched: a signal does what it would by default.
    idle: Arc<AtomicBool>,
    /// A signal arrived while a script was watched: stop it.
    stop: Arc<AtomicBool>,
    /// That signal was SIGTERM (the exit status is then 143, not 130).
    terminate: Arc<AtomicBool>,
    /// How many watches live (in one process, tests may run scripts side by side).
    watches: Mutex<usize>,
}

/// The handlers, installed on first use; `None` where they could not be (the script then runs
/// as before, and a signal ends it outright).
fn flags() -> Option<&'static Flags> {
    static FLAGS: OnceLock<Option<Flags>> = OnceLock::new();
    FLAGS.get_or_init(install).as_ref()
}

fn install() -> Option<Flags> {
    use signal_hook::flag;
    let flags = Flags {
        idle: Arc::new(AtomicBool::new(true)),
        stop: Arc::new(AtomicBool::new(false)),
        terminate: Arc::new(AtomicBool::new(false)),
        watches: Mutex::new(0),
    };
    // The order matters: signal-hook runs a signal's actions in the order they were registered.
    // Idle, the default action ends the process first; watched, a second signal finds `stop`
    // already raised and ends it; the first raises it.
    for (signal, status) in [(SIGINT, 130), (SIGTERM, 143)] {
        flag::register_conditional_default(signal, flags.idle.clone()).ok()?;
        flag::register_conditional_shutdown(signal, status, flags.stop.clone()).ok()?;
    }
    flag::register(SIGTERM, flags.terminate.clone()).ok()?;
    for signal in [SIGINT, SIGTERM] {
        flag::register(signal, flags.stop.clone()).ok()?;
    }
    Some(flags)
}

/// Watches for Ctrl-C and SIGTERM while it lives; dropped, signals act as before.
pub struct Watch {
    flags: Option<&'static Flags>,
}

impl Watch {
    /// Starts watching, with no signal seen yet.
    pub fn start() -> Watch {
        let flags = flags();
        if let Some(f) = flags {
            let mut watches = f.watches.lock().unwrap_or_else(|e| e.into_inner());
            if *watches == 0 {
                f.stop.store(false, Ordering::SeqCst);
                f.terminate.store(false, Ordering::SeqCst);
            }
            *watches += 1;
            f.idle.store(false, Ordering::SeqCst);
        }
        Watch { flags }
    }

    /// The flag a signal raises: what the script's budget checks.
    pub fn flag(&self) -> Option<Arc<AtomicBool>> {
        self.flags.map(|f| f.stop.clone())
    }

    /// The exit status the command should end with, if a signal stopped it: 130 for Ctrl-C,
    /// 143 for SIGTERM (128 and the signal's number).
    pub fn status(&self) -> Option<i32> {
        let f = self.flags?;
        match (f.stop.load(Ordering::SeqCst), f.terminate.load(Ordering::SeqCst)) {
            (false, _) => None,
            (true, false) => Some(130),
            (true, true) => Some(143),
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(f) = self.flags {
            let mut watches = f.watches.lock().unwrap_or_else(|e| e.into_inner());
            *watches = watches.saturating_sub(1);
            if *watches == 0 {
                f.idle.store(true, Ordering::SeqCst);
            }
        }
    }
}
