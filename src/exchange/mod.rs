//! Real data in and plans out: `import` (CSV, and Graph/ARM JSON as the real APIs return it),
//! `export` (the tenant as JSON `import` reads back; the changes since a mark as the real calls
//! that would make them), and EasyPIM configurations (`apply`, `export --format easypim`).
//!
//! This layer sits above the typed operations: it reads what the Graph and ARM surfaces write
//! (the one place the wire format is made) and changes the store through the engine. It never
//! prints to a terminal: it writes to the `Write` it is given and reports progress through
//! [`Progress`], which the command line draws.

pub mod easypim;
pub mod export;
pub mod import;

/// How a long command reports how far it got (the command line draws a bar on a terminal and
/// nothing when piped; tests and scripts pass [`NoProgress`]).
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
