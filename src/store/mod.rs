//! SQLite: opening and migrating the store, and one row conversion per table. No business rules.
//!
//! A store is one file. It is created with the schema of `schema.sql` on first use, refused when it
//! is not a pimlab store or was written by a newer pimlab, and opened in WAL mode with a busy
//! timeout so that a second process waits for the first instead of failing.

mod approvals;
mod directory;
mod hooks;
mod policies;
mod records;
mod schedules;
mod schema;

use crate::model::ErrorCode;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

pub use crate::model::audit::{AuditRecord, AuditTarget};
pub use records::RequestQuery;
pub use schema::{APPLICATION_ID, SCHEMA_VERSION};

/// Errors opening a store. Everything else surfaces as `rusqlite::Error`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path} is not a pimlab store (it is another SQLite database); refusing to touch it")]
    NotAPimlabStore { path: String },
    #[error("{path} is not a SQLite database; refusing to touch it")]
    NotADatabase { path: String },
    #[error(
        "{path} was written by a newer pimlab (schema version {found}; this pimlab knows up to {supported}); refusing to open it. Upgrade pimlab."
    )]
    TooNew { path: String, found: i64, supported: i64 },
    #[error("store {path}: {source}")]
    Sqlite { path: String, source: rusqlite::Error },
}

/// A failure of SQLite as the engine reports it: busy (another writer held the store too long) is
/// a conflict to retry; anything else is pimlab's own failure, an internal error.
impl From<rusqlite::Error> for crate::model::ApiError {
    fn from(e: rusqlite::Error) -> Self {
        use crate::model::ApiError;
        match e {
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                ApiError::new(503, ErrorCode::ServiceUnavailable, format!("the store is busy: {e}"))
            }
            other => ApiError::internal(format!("store error: {other}")),
        }
    }
}

/// An open store.
pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
    /// Policies' rules, parsed, by policy id: every request reads its role's 17 rules (and its
    /// notifications read them again). See [`RuleCache`] for when entries are dropped.
    rule_cache: RefCell<RuleCache>,
    /// Directory objects and role definitions read in the current transaction, by lower-case id.
    /// A request reads its principal and role half a dozen times (resolving, checking, auditing,
    /// addressing mail). Emptied when a transaction starts (another process may have written in
    /// between) and by every write to those tables.
    lookups: RefCell<Lookups>,
    /// A batch transaction is open: each `write`/`read` becomes a savepoint inside it.
    in_batch: bool,
}

/// What a `Tx` runs in: its own transaction, or a savepoint inside an open batch.
enum Scope<'a> {
    Transaction(rusqlite::Transaction<'a>),
    Savepoint(rusqlite::Savepoint<'a>),
}

impl std::ops::Deref for Scope<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            Scope::Transaction(t) => t,
            Scope::Savepoint(s) => s,
        }
    }
}

/// A transaction on the store. Reads and writes go through it; dropping it without `commit`
/// rolls everything back, which is how a failed write leaves the store untouched.
pub struct Tx<'a> {
    tx: Scope<'a>,
    rule_cache: &'a RefCell<RuleCache>,
    lookups: &'a RefCell<Lookups>,
}

/// See `Store::lookups`.
#[derive(Default)]
pub(crate) struct Lookups {
    pub(crate) objects: HashMap<String, Option<crate::model::DirectoryObject>>,
    pub(crate) roles: HashMap<String, Option<crate::model::RoleDefinition>>,
}

/// Parsed policy rules by policy id. Rules change only through this store's `update_rule` and
/// `insert_policy` (which drop the cache) or through another process writing the file, which
/// SQLite's `PRAGMA data_version` reveals: the cache is dropped whenever it moves. A rolled-back
/// change has dropped it too, which is merely conservative.
#[derive(Default)]
pub(crate) struct RuleCache {
    data_version: Option<i64>,
    rules: HashMap<String, Vec<crate::model::policy::PolicyRule>>,
}

impl Store {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let shown = path.display().to_string();
        let wrap = |source| StoreError::Sqlite { path: shown.clone(), source };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(wrap)?;
        Self::prepare(conn, Some(path.to_path_buf()), &shown)
    }

    /// A private in-memory store, for scenarios and tests.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory()
            .map_err(|source| StoreError::Sqlite { path: ":memory:".into(), source })?;
        Self::prepare(conn, None, ":memory:")
    }

    fn prepare(conn: Connection, path: Option<PathBuf>, shown: &str) -> Result<Store, StoreError> {
        let wrap = |source| StoreError::Sqlite { path: shown.to_string(), source };
        conn.busy_timeout(Duration::from_secs(60)).map_err(wrap)?;
        // The first read of the header tells us whether this is SQLite at all.
        let tables: i64 = match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)) {
            Ok(n) => n,
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::NotADatabase => {
                return Err(StoreError::NotADatabase { path: shown.to_string() });
            }
            Err(e) => return Err(wrap(e)),
        };
        let app_id: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0)).map_err(wrap)?;
        if tables > 0 && app_id != APPLICATION_ID {
            return Err(StoreError::NotAPimlabStore { path: shown.to_string() });
        }
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(wrap)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: shown.to_string(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if path.is_some() {
            // WAL lets readers run beside a writer; NORMAL sync is durable across application crashes.
            set_wal(&conn).map_err(wrap)?;
            conn.pragma_update(None, "synchronous", "NORMAL").map_err(wrap)?;
        }
        conn.pragma_update(None, "foreign_keys", "ON").map_err(wrap)?;
        // Without the query-planner stability guarantee, the bundled SQLite re-prepares some cached
        // statements on every use (they were planned for particular parameter values).
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(wrap)?;
        // Hooks and approvals add statements; the default cache of 16 would evict the hot ones.
        conn.set_prepared_statement_cache_capacity(64);
        let mut store = Store {
            conn,
            path,
            rule_cache: RefCell::new(RuleCache::default()),
            lookups: RefCell::new(Lookups::default()),
            in_batch: false,
        };
        schema::migrate(&mut store.conn).map_err(wrap)?;
        Ok(store)
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Starts a write transaction. `IMMEDIATE` takes the write lock now, so two processes queue
    /// (up to the busy timeout) instead of failing half-way through.
    pub fn write(&mut self) -> rusqlite::Result<Tx<'_>> {
        self.scope(TransactionBehavior::Immediate)
    }

    /// Starts a read transaction: a consistent snapshot.
    pub fn read(&mut self) -> rusqlite::Result<Tx<'_>> {
        self.scope(TransactionBehavior::Deferred)
    }

    fn scope(&mut self, behavior: TransactionBehavior) -> rusqlite::Result<Tx<'_>> {
        let tx = if self.in_batch {
            Scope::Savepoint(self.conn.savepoint()?)
        } else {
            Scope::Transaction(self.conn.transaction_with_behavior(behavior)?)
        };
        *self.lookups.borrow_mut() = Lookups::default();
        Ok(Tx { tx, rule_cache: &self.rule_cache, lookups: &self.lookups })
    }

    /// Opens a batch: one write transaction in which every later `write` is a savepoint, so each
    /// operation still succeeds or fails alone, but they share one commit. Graph's `$batch` and
    /// bulk loads use it; the commit is what costs most on a disk.
    /// Returns whether this call opened it (a batch inside a batch is part of the outer one).
    pub fn begin_batch(&mut self) -> rusqlite::Result<bool> {
        if self.in_batch {
            return Ok(false);
        }
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        self.in_batch = true;
        Ok(true)
    }

    /// Ends a batch, keeping (`commit`) or discarding everything in it.
    pub fn end_batch(&mut self, commit: bool) -> rusqlite::Result<()> {
        if self.in_batch {
            self.in_batch = false;
            self.conn.execute_batch(if commit { "COMMIT" } else { "ROLLBACK" })?;
        }
        Ok(())
    }

    /// Whether `init` has run: the tenant exists.
    pub fn is_initialized(&mut self) -> rusqlite::Result<bool> {
        let tx = self.read()?;
        Ok(tx.meta("tenant_id")?.is_some())
    }

    /// Empties every table (for `init --force`), keeping the schema.
    pub fn wipe(&mut self) -> rusqlite::Result<()> {
        *self.rule_cache.borrow_mut() = RuleCache::default();
        *self.lookups.borrow_mut() = Lookups::default();
        let tx = self.write()?;
        tx.tx.execute_batch(
            "DELETE FROM audit; DELETE FROM schedules; DELETE FROM requests; DELETE FROM policy_rules;
             DELETE FROM policies; DELETE FROM role_definitions; DELETE FROM memberships;
             DELETE FROM directory_objects; DELETE FROM meta; DELETE FROM approval_steps; DELETE FROM notifications; DELETE FROM hooks;",
        )?;
        tx.commit()
    }
}

/// Switches to WAL. Changing the journal mode needs a moment alone with the file, and SQLite does
/// not wait for it, so a process that meets another one opening the same new store retries.
fn set_wal(conn: &Connection) -> rusqlite::Result<()> {
    let mut attempts = 0;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::DatabaseBusy && attempts < 600 =>
            {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

impl Tx<'_> {
    pub fn commit(self) -> rusqlite::Result<()> {
        match self.tx {
            Scope::Transaction(t) => t.commit(),
            Scope::Savepoint(s) => s.commit(),
        }
    }

    /// A savepoint inside this transaction: what is done through it is kept by its `commit` and
    /// undone when it is dropped without one, while the transaction goes on.
    pub fn savepoint(&mut self) -> rusqlite::Result<Tx<'_>> {
        let savepoint = match &mut self.tx {
            Scope::Transaction(t) => t.savepoint()?,
            Scope::Savepoint(s) => s.savepoint()?,
        };
        Ok(Tx { tx: Scope::Savepoint(savepoint), rule_cache: self.rule_cache, lookups: self.lookups })
    }

    pub fn meta(&self, key: &str) -> rusqlite::Result<Option<String>> {
        self.tx
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()
    }

    /// The tenant id, the clock and the seed in one read: what every transaction starts from.
    pub fn tenant_facts(&self) -> rusqlite::Result<(Option<String>, Option<String>, Option<String>)> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT key, value FROM meta WHERE key IN ('tenant_id', 'clock', 'seed')")?;
        let mut rows = stmt.query([])?;
        let (mut tenant, mut clock, mut seed) = (None, None, None);
        while let Some(row) = rows.next()? {
            let (key, value): (String, String) = (row.get(0)?, row.get(1)?);
            match key.as_str() {
                "tenant_id" => tenant = Some(value),
                "clock" => clock = Some(value),
                _ => seed = Some(value),
            }
        }
        Ok((tenant, clock, seed))
    }

    pub fn set_meta(&self, key: &str, value: &str) -> rusqlite::Result<()> {
        self.tx
            .prepare_cached("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")?
            .execute([key, value])?;
        Ok(())
    }

    /// Takes the next value of a numeric meta counter (id generator, policy generation).
    pub fn bump_counter(&self, key: &str) -> rusqlite::Result<u64> {
        let n: i64 = self
            .tx
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, '1')
                 ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1
                 RETURNING CAST(value AS INTEGER)",
            )?
            .query_row([key], |r| r.get(0))?;
        Ok((n - 1) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str) -> crate::model::DirectoryObject {
        crate::model::DirectoryObject {
            id: id.into(),
            kind: crate::model::PrincipalKind::User,
            display_name: "Zoe".into(),
            user_principal_name: Some("zoe@contoso.example".into()),
            mail: None,
            description: None,
            is_assignable_to_role: false,
            security_enabled: false,
            mail_enabled: false,
            app_id: None,
            account_enabled: true,
            group_types: Vec::new(),
            created_at: crate::model::time::from_millis(0),
        }
    }

    #[test]
    fn an_object_read_as_missing_is_found_once_the_same_transaction_adds_it() {
        let mut store = Store::open_in_memory().unwrap();
        let id = "00000000-0000-0000-0000-00000000000a";
        let tx = store.write().unwrap();
        assert_eq!(tx.object(id).unwrap(), None);
        tx.insert_object(&user(id)).unwrap();
        assert_eq!(tx.object(&id.to_ascii_uppercase()).unwrap().map(|o| o.display_name), Some("Zoe".into()));
        tx.commit().unwrap();
    }

    #[test]
    fn a_rolled_back_object_is_not_remembered_by_the_next_transaction() {
        let mut store = Store::open_in_memory().unwrap();
        let id = "00000000-0000-0000-0000-00000000000b";
        {
            let tx = store.write().unwrap();
            tx.insert_object(&user(id)).unwrap();
            assert!(tx.object(id).unwrap().is_some());
            // Dropped without commit: rolled back.
        }
        let tx = store.read().unwrap();
        assert_eq!(tx.object(id).unwrap(), None);
    }

    #[test]
    fn a_new_store_gets_the_current_schema_and_marks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut store = Store::open(&path).unwrap();
        assert!(!store.is_initialized().unwrap());
        let v: i64 = store.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        drop(store);
        Store::open(&path).unwrap();
    }

    #[test]
    fn a_foreign_sqlite_file_is_refused_and_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('keep me');").unwrap();
        drop(c);
        let before = std::fs::read(&path).unwrap();
        let err = Store::open(&path).err().unwrap();
        assert!(matches!(err, StoreError::NotAPimlabStore { .. }), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_refused_and_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "these are my notes, not a database\n".repeat(200)).unwrap();
        let err = Store::open(&path).err().unwrap();
        assert!(matches!(err, StoreError::NotADatabase { .. }), "{err}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "these are my notes, not a database\n".repeat(200)
        );
    }

    #[test]
    fn a_store_from_a_newer_pimlab_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        drop(Store::open(&path).unwrap());
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        drop(c);
        let before = std::fs::read(&path).unwrap();
        let err = Store::open(&path).err().unwrap();
        assert!(matches!(err, StoreError::TooNew { found, .. } if found == SCHEMA_VERSION + 1), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "a newer store is not touched");
    }

    #[test]
    fn counters_count_from_zero() {
        let mut store = Store::open_in_memory().unwrap();
        let tx = store.write().unwrap();
        assert_eq!(tx.bump_counter("ids").unwrap(), 0);
        assert_eq!(tx.bump_counter("ids").unwrap(), 1);
    }
}
