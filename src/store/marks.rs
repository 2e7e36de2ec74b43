//! Rows of `marks`: the tenant as `pimlab mark` saw it (a JSON snapshot the exchange layer makes),
//! under a name, for `export --since`.

use rusqlite::{OptionalExtension, params};

use super::Tx;
use crate::model::Timestamp;
use crate::model::time::{from_millis, to_millis};

impl Tx<'_> {
    /// Saves a mark; one of the same name (in any case) is replaced. Returns whether it was.
    pub fn save_mark(&self, name: &str, taken_at: Timestamp, snapshot: &str) -> rusqlite::Result<bool> {
        let replaced = self.tx.cached("DELETE FROM marks WHERE name = ?1")?.execute([name])? > 0;
        self.tx
            .cached("INSERT INTO marks (name, taken_at, snapshot) VALUES (?1, ?2, ?3)")?
            .execute(params![name, to_millis(taken_at), snapshot])?;
        Ok(replaced)
    }

    /// A mark's time and snapshot.
    pub fn mark(&self, name: &str) -> rusqlite::Result<Option<(Timestamp, String)>> {
        self.tx
            .cached("SELECT taken_at, snapshot FROM marks WHERE name = ?1")?
            .query_row([name], |r| Ok((from_millis(r.get(0)?), r.get(1)?)))
            .optional()
    }

    /// Every mark's name and time, oldest first.
    pub fn marks(&self) -> rusqlite::Result<Vec<(String, Timestamp)>> {
        self.tx
            .cached("SELECT name, taken_at FROM marks ORDER BY taken_at, name")?
            .query_map([], |r| Ok((r.get(0)?, from_millis(r.get(1)?))))?
            .collect()
    }
}
