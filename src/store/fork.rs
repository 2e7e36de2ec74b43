//! Copies of a store: a new file (`pimlab fork`) or a private in-memory store (a what-if run, a
//! replay), each as of one consistent instant.
//!
//! SQLite's online backup API does the copying. It is run in one step, so it reads every page
//! under one read transaction: another process may keep writing the original meanwhile (WAL lets
//! it), and the copy holds exactly what was committed when the step began, including what still
//! sits in the original's WAL.

use std::path::Path;

use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};

use super::{Store, StoreError};

impl Store {
    /// Writes a consistent copy of this store to a new file at `dest`, which must not exist yet
    /// (the caller checks; SQLite would overwrite a database there). The copy opens as a store of
    /// its own, in WAL mode like every store file.
    pub fn copy_to(&self, dest: &Path) -> Result<(), StoreError> {
        let shown = dest.display().to_string();
        let wrap = |source| StoreError::Sqlite { path: shown.clone(), source };
        self.settle().map_err(wrap)?;
        let mut target = Connection::open(dest).map_err(wrap)?;
        copy_all(&self.conn, &mut target).map_err(wrap)?;
        drop(target);
        // Opening it as a store checks it and puts it in WAL mode.
        Store::open(dest).map(drop)
    }

    /// A private in-memory copy of this store, as of now: what happens in it never reaches the
    /// original.
    pub fn copy_in_memory(&self) -> Result<Store, StoreError> {
        let wrap = |source| StoreError::Sqlite { path: ":memory:".into(), source };
        self.settle().map_err(wrap)?;
        let mut target = Connection::open_in_memory().map_err(wrap)?;
        copy_all(&self.conn, &mut target).map_err(wrap)?;
        Store::prepare(target, None, ":memory:")
    }
}

/// Every page of `source` into `target` in one step: one read transaction on the source, so the
/// copy is of one instant. A busy or locked source (a writer checkpointing) is waited for by the
/// source connection's busy timeout; if the step still cannot finish, that is an error, never a
/// partial copy.
fn copy_all(source: &Connection, target: &mut Connection) -> rusqlite::Result<()> {
    let backup = Backup::new(source, target)?;
    match backup.step(-1)? {
        StepResult::Done => Ok(()),
        other => Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            Some(format!("the store could not be copied in one step ({other:?}); try again")),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_in_memory_copy_has_the_rows_and_is_independent_of_the_original() {
        let mut original = Store::open_in_memory().expect("a store");
        {
            let tx = original.write().expect("a write");
            tx.set_meta("clock", "1").expect("meta");
            tx.commit().expect("commit");
        }
        let mut copy = original.copy_in_memory().expect("a copy");
        {
            let tx = copy.write().expect("a write");
            assert_eq!(tx.meta("clock").expect("meta").as_deref(), Some("1"));
            tx.set_meta("clock", "2").expect("meta");
            tx.commit().expect("commit");
        }
        let tx = original.read().expect("a read");
        assert_eq!(tx.meta("clock").expect("meta").as_deref(), Some("1"), "the original is untouched");
    }
}
