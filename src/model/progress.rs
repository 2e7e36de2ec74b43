//! How a long command reports how far it got. The layers that do long work (import, replay, a
//! scenario's run) report through [`Progress`]; the command line draws a bar on a terminal and
//! nothing when piped; tests and scripts pass [`NoProgress`].

/// A sink for progress: phases of a known number of steps.
pub trait Progress {
    /// A new phase of `total` steps (e.g. "users", 10 000).
    fn start(&self, phase: &str, total: u64);
    /// `n` more steps of the current phase are done.
    fn advance(&self, n: u64);
    /// The current phase is over.
    fn finish(&self);
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _phase: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}
