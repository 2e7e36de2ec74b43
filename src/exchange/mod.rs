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

pub use crate::model::progress::{NoProgress, Progress};
