//! Marks: the tenant as it was at a moment the user named (`pimlab mark NAME`), kept for
//! `export --since NAME`, and the options a store was created with, from which the tenant as it
//! was at creation can be made again (the default `--since`).

use super::{Audit, Engine, InitOptions};
use crate::model::time::{from_millis, parse_timestamp};
use crate::model::{ApiError, ErrorCode, Timestamp};

/// A saved mark.
#[derive(Debug, Clone)]
pub struct Mark {
    pub name: String,
    pub taken_at: Timestamp,
    /// What the exchange layer saved (JSON text).
    pub snapshot: String,
}

impl Engine {
    /// Saves (or moves) a mark; returns whether one of that name was replaced. A mark is the
    /// lab's bookmark, not a change to the tenant: it leaves no audit row.
    pub fn save_mark(&mut self, name: &str, snapshot: &str) -> Result<bool, ApiError> {
        self.write(|tx, ctx| {
            let replaced = tx.save_mark(name, ctx.now, snapshot)?;
            Ok((replaced, Audit::none("a mark is the lab's bookmark, not a change to the tenant")))
        })
    }

    /// The mark of that name (names are compared without regard to case).
    pub fn mark(&mut self, name: &str) -> Result<Mark, ApiError> {
        let found = self.read(|tx, _| Ok(tx.mark(name)?))?;
        let (taken_at, snapshot) = found.ok_or_else(|| {
            let known =
                self.marks().map(|m| m.into_iter().map(|(n, _)| n).collect::<Vec<_>>()).unwrap_or_default();
            let known = if known.is_empty() { "none yet".to_string() } else { known.join(", ") };
            ApiError::new(
                404,
                ErrorCode::PimlabMarkNotFound,
                format!("the store has no mark '{name}' (marks: {known})"),
            )
        })?;
        Ok(Mark { name: name.to_string(), taken_at, snapshot })
    }

    /// Every mark's name and time, oldest first.
    pub fn marks(&mut self) -> Result<Vec<(String, Timestamp)>, ApiError> {
        self.read(|tx, _| Ok(tx.marks()?))
    }

    /// The options this store's tenant was created with, so that the tenant as it was then can be
    /// made again. A store created before they were kept (schema 7 and older) gives the break-glass
    /// administrator's creation time and no demonstration organisation.
    pub fn init_options(&mut self) -> Result<InitOptions, ApiError> {
        let caller = self.default_caller()?;
        self.read(|tx, _| {
            let meta = |key: &str| tx.meta(key);
            let seed = meta("seed")?.and_then(|s| s.parse().ok()).unwrap_or(1);
            let domain = meta("domain")?.unwrap_or_else(|| InitOptions::default().domain);
            let at = match meta("created_at")? {
                Some(text) => parse_timestamp(&text).ok(),
                None => tx.object(&caller)?.map(|o| o.created_at),
            };
            let demo = meta("created_with_demo")?.is_some_and(|d| d == "true");
            Ok(InitOptions { seed, at: at.unwrap_or(from_millis(0)), demo, domain })
        })
    }
}
