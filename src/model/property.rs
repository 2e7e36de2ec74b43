//! Properties over time (`pimlab check`, `pimlab fuzz`): what a property host is asked and what
//! it answers. The Lua host (`hooks`) implements [`Judge`]; the operations layer implements
//! [`TenantAt`], the read-only tenant as of one instant, by running the same reports a script's
//! `pim.who`, `pim.access` and `pim.request` run, so a property sees the same values in
//! `check`, after a `fuzz` step, and in the script a `fuzz` prints.

use super::{ApiError, Timestamp};

/// What a property may ask of the tenant at its instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// `who ROLE [--scope S] [--could]` at the instant.
    Who { role: String, scope: Option<String>, could: bool },
    /// `access PRINCIPAL` at the instant.
    Access { principal: String },
    /// `request show ID`: a request as it stands (its Graph JSON).
    Request { id: String },
}

/// The tenant as of one instant, read-only.
pub trait TenantAt {
    /// The instant.
    fn at(&self) -> Timestamp;
    /// The answer as JSON (what `--json` prints for the same question).
    fn ask(&mut self, question: &Question) -> Result<serde_json::Value, ApiError>;
}

/// What one property says at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    /// The property returned false (with its message, if it gave one).
    Violated(Option<String>),
    /// The property raised an error, ran out of its budget, or returned something else than a
    /// boolean.
    Failed(String),
}

/// A loaded property file: its properties, judged one at a time.
pub trait Judge {
    /// The properties' names, in the order the file declares them.
    fn names(&self) -> Vec<String>;
    /// Property `index` at the instant `tenant` shows.
    fn judge(&self, index: usize, tenant: &mut dyn TenantAt) -> Verdict;
    /// Lua for the end of a scenario script (`pimlab run`): it loads the property file as
    /// `check` does and checks property `index` with `pim.expect` against the tenant now.
    fn check_script(&self, index: usize) -> String;
}
