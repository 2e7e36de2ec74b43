//! SQLite: opening and migrating the store, and one row conversion per table. No business rules.
//!
//! A store is one file. It is created with the schema of `schema.sql` on first use, refused when it
//! is not a pimlab store or was written by a newer pimlab, and opened in WAL mode with a busy
//! handler (asking every millisecond, for a minute) so that a second process waits for the first
//! instead of failing.

/// A statement's text put together from constants (a table's column list), once, as the
/// `&'static str` the kept statements are found by (`statements.rs`). Only constants may be
/// named in it: the text is made on first use and never again.
macro_rules! sql {
    ($($text:tt)*) => {{
        static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        TEXT.get_or_init(|| format!($($text)*)).as_str()
    }};
}

mod alerts;
mod allocator;
mod approvals;
mod apps;
mod azure;
mod azure_roles;
mod cache;
mod checkpointer;
mod codes;
mod compact;
mod directory;
mod fork;
mod groups;
mod hooks;
mod keys;
mod lean;
mod marks;
mod policies;
mod records;
mod rewind;
mod rolling;
mod schedules;
mod schema;
pub(crate) mod statement_log;
mod statements;
mod texts;

use crate::model::ErrorCode;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

pub use crate::model::audit::{AuditRecord, AuditTarget};
pub use alerts::AlertRow;
pub use records::{Purged, RequestQuery};
pub use rewind::Rewound;
pub use schema::{APPLICATION_ID, SCHEMA_VERSION};

/// The meta values every transaction starts from: tenant id, clock, seed and fidelity profile,
/// as stored (absent in a store with no tenant yet).
pub type TenantFacts = (Option<String>, Option<String>, Option<String>, Option<String>);

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
    #[error("{path} claims schema version {found}, which no pimlab writes; refusing to touch it")]
    UnknownVersion { path: String, found: i64 },
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
    /// While a rolling batch runs on a file store, the thread that folds the WAL into it
    /// (`checkpointer.rs`). First, so that it stops before the connection closes.
    checkpointer: Option<checkpointer::Checkpointer>,
    conn: statements::Db,
    path: Option<PathBuf>,
    /// Rows read before: policies and their parsed rules, directory objects, role definitions and
    /// the hooks (see `cache.rs` for when entries are dropped).
    caches: RefCell<cache::Caches>,
    /// An open batch, and what each `write`/`read` inside it is.
    batch: std::cell::Cell<Batch>,
    /// A scenario's rolling batch, when one runs (see `rolling.rs`). A cell, as `batch` is: a
    /// copy of the store (`&self`) first commits what the rolling batch holds.
    rolling: std::cell::Cell<Option<rolling::Rolling>>,
    /// An engine batch open inside the rolling batch's transaction, as a savepoint of it: where
    /// the caches stood when it began (`rolling.rs`).
    nested: RefCell<Option<cache::Mark>>,
}

/// Whether a batch transaction is open, and how the transactions inside it are kept apart.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub enum Batch {
    /// No batch: each `write`/`read` is a transaction of its own.
    #[default]
    None,
    /// Each `write`/`read` is a savepoint: it succeeds or fails alone (Graph's `$batch`).
    Savepoints,
    /// Each `write`/`read` is simply part of the batch, which succeeds or fails whole (a clock
    /// advance): no savepoint, whose statement journal copies every page it touches.
    Whole,
}

/// What a `Tx` runs in: its own transaction, a savepoint inside an open batch, or simply part of
/// a batch that succeeds or fails whole (see [`Batch`]). Begun and ended
/// by statements from the connection's cache: rusqlite's `Transaction` parses `BEGIN` and `COMMIT`
/// afresh every time, and a request runs several transactions.
struct Scope<'a> {
    conn: &'a Connection,
    /// The store's kept statements (none for a schema upgrade's `Tx`, on the bare connection).
    kept: Option<&'a statements::Db>,
    batch: Batch,
    ended: bool,
    /// A read that is part of a batch, with no savepoint to undo it: the connection's count of
    /// changed rows when it began, which it must not move.
    read_only_from: Option<u64>,
}

impl<'a> Scope<'a> {
    fn begin(db: &'a statements::Db, batch: Batch, behavior: TransactionBehavior) -> rusqlite::Result<Self> {
        let sql = match (batch, behavior) {
            (Batch::Whole, _) => None,
            (Batch::Savepoints, _) => Some("SAVEPOINT pimlab_scope"),
            (Batch::None, TransactionBehavior::Immediate) => Some("BEGIN IMMEDIATE"),
            (Batch::None, TransactionBehavior::Exclusive) => Some("BEGIN EXCLUSIVE"),
            (Batch::None, _) => Some("BEGIN DEFERRED"),
        };
        if let Some(sql) = sql {
            db.cached(sql)?.execute([])?;
        }
        Ok(Scope { conn: db, kept: Some(db), batch, ended: false, read_only_from: None })
    }

    /// The kept statement for `sql` (see `statements.rs`).
    fn cached(&self, sql: &'static str) -> rusqlite::Result<statements::Held<'a>> {
        match self.kept {
            Some(db) => db.cached(sql),
            None => statements::Held::cached(self.conn, sql),
        }
    }

    fn commit(mut self) -> rusqlite::Result<()> {
        let sql = match self.batch {
            Batch::Whole => None,
            Batch::Savepoints => Some("RELEASE pimlab_scope"),
            Batch::None => Some("COMMIT"),
        };
        if let Some(sql) = sql {
            self.cached(sql)?.execute([])?;
        }
        self.ended = true;
        Ok(())
    }
}

/// Dropped without `commit`: undone. A failed statement may already have ended the transaction
/// (SQLite rolls back on some errors), so a top-level rollback is only sent while one is open.
impl Drop for Scope<'_> {
    fn drop(&mut self) {
        if let Some(from) = self.read_only_from {
            debug_assert!(
                std::thread::panicking() || self.conn.total_changes() == from,
                "a read inside a batch changed the store, and nothing can undo it"
            );
        }
        if self.ended {
            return;
        }
        let undo = if self.batch == Batch::Whole {
            // Undone with the whole batch, by whoever opened it.
            Ok(0)
        } else if self.batch == Batch::Savepoints {
            self.cached("ROLLBACK TO pimlab_scope")
                .and_then(|mut s| s.execute([]))
                .and_then(|_| self.cached("RELEASE pimlab_scope")?.execute([]))
        } else if !self.conn.is_autocommit() {
            self.cached("ROLLBACK").and_then(|mut s| s.execute([]))
        } else {
            Ok(0)
        };
        // Nothing to report to: the caller has already returned its error.
        let _ = undo;
    }
}

impl std::ops::Deref for Scope<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

/// A transaction on the store. Reads and writes go through it; dropping it without `commit`
/// rolls everything back, which is how a failed write leaves the store untouched.
pub struct Tx<'a> {
    tx: Scope<'a>,
    guard: cache::Guard<'a>,
}

/// Writes one `meta` value: `Tx::set_meta` at once, `Store::write_pending_meta` for the counters
/// a batch took. One text, so one prepared statement (`statements.rs` keys them by address).
static WRITE_META: &str =
    "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";

impl Store {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let shown = path.display().to_string();
        let wrap = |source| StoreError::Sqlite { path: shown.clone(), source };
        allocator::install();
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
        allocator::install();
        let conn = Connection::open_in_memory()
            .map_err(|source| StoreError::Sqlite { path: ":memory:".into(), source })?;
        Self::prepare(conn, None, ":memory:")
    }

    fn prepare(conn: Connection, path: Option<PathBuf>, shown: &str) -> Result<Store, StoreError> {
        let mut conn = statement_log::logging(conn);
        let wrap = |source| StoreError::Sqlite { path: shown.to_string(), source };
        conn.busy_handler(Some(wait_a_millisecond)).map_err(wrap)?;
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
        if version < 0 {
            return Err(StoreError::UnknownVersion { path: shown.to_string(), found: version });
        }
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
            // Up to 64 MiB of pages kept between transactions, where SQLite's default is 2 MiB: a
            // tenant's working set (schedules and their indexes, which the clock and hooks' queries
            // read) soon outgrows 2 MiB, and each page missed is read again from the file
            // (measured with perf on the hooks bench: the reads were 2.7% of its time with five
            // hooks, and 0.5% with this cache).
            conn.pragma_update(None, "cache_size", -65_536).map_err(wrap)?;
        }
        // A savepoint (each write inside a batch) copies every page it changes to a statement
        // journal, a temporary file by default: in memory, no system call per page (perf on a
        // scenario in a rolling batch: the journal's writes were a fifth of its time).
        conn.pragma_update(None, "temp_store", "MEMORY").map_err(wrap)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(wrap)?;
        // Without the query-planner stability guarantee, the bundled SQLite re-prepares some cached
        // statements on every use (they were planned for particular parameter values).
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(wrap)?;
        // rusqlite's cache serves the few statements made from run-time values and a schema
        // upgrade's `Tx` (every row conversion of the store, on the bare connection); the rest
        // are kept by `statements.rs`. The default cache of 16 would evict an upgrade's.
        conn.set_prepared_statement_cache_capacity(96);
        // Before the statements are kept (`statements.rs`): migrating needs the connection alone.
        schema::migrate(&mut conn).map_err(wrap)?;
        let store = Store {
            checkpointer: None,
            conn: statements::Db::new(conn),
            path,
            caches: RefCell::new(cache::Caches::default()),
            batch: Default::default(),
            rolling: Default::default(),
            nested: RefCell::default(),
        };
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
        self.roll_on()?;
        let batch = self.batch.get();
        // A read inside a batch is simply part of it: it changes nothing, so a savepoint would
        // have nothing to undo (its SAVEPOINT, ROLLBACK TO and RELEASE were a quarter of the
        // statements of a scenario's request). `Scope` checks, in debug builds, that it changed
        // nothing.
        let reading = matches!(behavior, TransactionBehavior::Deferred);
        let part = if batch == Batch::Savepoints && reading { Batch::Whole } else { batch };
        let mut tx = Scope::begin(&self.conn, part, behavior)?;
        if reading && part == Batch::Whole {
            tx.read_only_from = Some(self.conn.total_changes());
        }
        let guard = cache::Guard::new(&self.caches, batch == Batch::None, part == Batch::Savepoints);
        // No other connection can reach an in-memory store: nothing to check its caches against.
        guard.validated.set(self.path.is_none());
        Ok(Tx { tx, guard })
    }

    /// Opens a batch: one write transaction in which every later `write` is a savepoint, so each
    /// operation still succeeds or fails alone, but they share one commit. Graph's `$batch` and
    /// bulk loads use it; the commit is what costs most on a disk.
    /// Returns whether this call opened it (a batch inside a batch is part of the outer one).
    ///
    /// Inside a rolling batch (a scenario's), the new batch is a savepoint of the rolling
    /// batch's transaction: it succeeds or fails whole, as alone, and is committed with the
    /// rest (`rolling.rs`).
    pub fn begin_batch(&mut self, kind: Batch) -> rusqlite::Result<bool> {
        if kind == Batch::None {
            return Ok(false);
        }
        if self.rolling.get().is_some() {
            return self.begin_nested(kind);
        }
        if self.batch.get() != Batch::None {
            return Ok(false);
        }
        self.begin_immediate()?;
        self.batch.set(kind);
        Ok(true)
    }

    /// Begins a batch's write transaction; while a rolling batch runs and its last commit left
    /// the WAL long, once the checkpointing thread has folded it, so that it starts again
    /// (`checkpointer.rs`).
    fn begin_immediate(&self) -> rusqlite::Result<()> {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.before_begin();
        }
        self.conn.cached("BEGIN IMMEDIATE")?.execute([])?;
        Ok(())
    }

    /// Ends a batch, keeping (`commit`) or discarding everything in it.
    pub fn end_batch(&self, commit: bool) -> rusqlite::Result<()> {
        let nested = self.nested.borrow_mut().take();
        if let Some(mark) = nested {
            return self.end_nested(&mark, commit);
        }
        if self.batch.get() != Batch::None {
            self.batch.set(Batch::None);
            // Whoever ended it, a rolling batch's transaction is over: the next one starts afresh.
            self.rolling_discarded();
            let ended = if commit {
                self.write_pending_meta().and_then(|()| self.conn.execute_batch("COMMIT"))
            } else if self.conn.is_autocommit() {
                // SQLite already rolled the transaction back, on the error that ends the batch (a
                // full disk): a ROLLBACK now would fail, and its error hide that one.
                Ok(())
            } else {
                self.conn.execute_batch("ROLLBACK")
            };
            if ended.is_err() && !self.conn.is_autocommit() {
                // Not committed, then not kept: a half-written batch must not stay open.
                let _ = self.conn.execute_batch("ROLLBACK");
            }
            self.caches.borrow_mut().transaction_ended(commit && ended.is_ok());
            ended?;
        }
        Ok(())
    }

    /// Writes the counters the open batch took and has not written yet (`Tx::bump_counter`).
    fn write_pending_meta(&self) -> rusqlite::Result<()> {
        let pending = self.caches.borrow().pending_meta();
        for (key, value) in &pending {
            self.conn.cached(WRITE_META)?.execute([key, &**value])?;
        }
        self.caches.borrow_mut().meta_pending.clear();
        Ok(())
    }

    /// Whether `init` has run: the tenant exists.
    pub fn is_initialized(&mut self) -> rusqlite::Result<bool> {
        let tx = self.read()?;
        Ok(tx.meta("tenant_id")?.is_some())
    }

    /// Empties every table (for `init --force`), keeping the schema.
    pub fn wipe(&mut self) -> rusqlite::Result<()> {
        let tx = self.write()?;
        // The dictionaries go too: every number they gave means nothing now.
        tx.guard.caches.borrow_mut().forget_everything();
        tx.tx.execute_batch(
            "DELETE FROM audit; DELETE FROM schedules; DELETE FROM requests; DELETE FROM policy_rules;
             DELETE FROM policies; DELETE FROM role_definitions; DELETE FROM memberships;
             DELETE FROM directory_objects; DELETE FROM meta; DELETE FROM approval_steps; DELETE FROM notifications; DELETE FROM hooks;
             DELETE FROM azure_scopes; DELETE FROM app_permissions; DELETE FROM azure_role_definitions;
             DELETE FROM marks; DELETE FROM alert_settings; DELETE FROM texts; DELETE FROM audit_texts;",
        )?;
        tx.commit()
    }
}

/// How many times a transaction asks for another process's write lock before it gives up: one
/// a millisecond, for about a minute.
const BUSY_TRIES: i32 = 60_000;

/// SQLite's busy handler: waits a millisecond and asks again, until [`BUSY_TRIES`]. SQLite's own
/// busy timeout waits longer and longer between tries (up to 100 ms), and so missed every moment
/// a running script's rolling batch leaves the lock free between two of its transactions
/// (`rolling.rs`): another process's write waited for the whole script.
fn wait_a_millisecond(tries: i32) -> bool {
    if tries >= BUSY_TRIES {
        return false;
    }
    std::thread::sleep(Duration::from_millis(1));
    true
}

/// Switches to WAL. Changing the journal mode needs a moment alone with the file, and SQLite does
/// not wait for it, so a process that meets another one opening the same new store retries.
fn set_wal(conn: &Connection) -> rusqlite::Result<()> {
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if mode.eq_ignore_ascii_case("wal") {
        return Ok(());
    }
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

impl<'a> Tx<'a> {
    /// A `Tx` inside a transaction someone else opened and ends (a schema upgrade's), with caches
    /// of its own: what the store's row conversions need, without a `Store`.
    fn within(conn: &'a Connection, caches: &'a RefCell<cache::Caches>) -> Tx<'a> {
        let tx = Scope { conn, kept: None, batch: Batch::Whole, ended: false, read_only_from: None };
        let guard = cache::Guard::new(caches, false, false);
        guard.validated.set(true);
        Tx { tx, guard }
    }
}

impl Tx<'_> {
    pub fn commit(mut self) -> rusqlite::Result<()> {
        let done = self.tx.commit();
        self.guard.committed = done.is_ok();
        done
    }

    /// The caches, checked once per transaction against `PRAGMA data_version` (which moves when
    /// another connection commits), before the first cached read; in a batch, once per batch.
    fn caches(&self) -> rusqlite::Result<std::cell::RefMut<'_, cache::Caches>> {
        if !self.guard.validated.get() {
            let check = self.guard.outermost || self.guard.caches.borrow_mut().check_in_batch();
            if check {
                let version: i64 = self.tx.cached("PRAGMA data_version")?.query_row([], |r| r.get(0))?;
                self.guard.caches.borrow_mut().validate(version);
            }
            self.guard.validated.set(true);
        }
        Ok(self.guard.caches.borrow_mut())
    }

    /// What `load` gives for `key`, from the cache `pick` chooses when it is there, else loaded
    /// and remembered (see `cache.rs` for when entries are dropped).
    fn remembered<T: Clone>(
        &self,
        pick: fn(&mut cache::Caches) -> &mut cache::HashMap<String, T>,
        key: &str,
        load: impl FnOnce() -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        if let Some(found) = pick(&mut *self.caches()?).get(key) {
            return Ok(found.clone());
        }
        // The cache is not borrowed while `load` runs: loading may read other cached rows.
        let found = load()?;
        pick(&mut *self.caches()?).insert(key.to_string(), found.clone());
        Ok(found)
    }

    /// This transaction is about to change the rows behind `which`: forget those entries.
    fn forget_cached(&self, which: cache::Cached) {
        self.guard.caches.borrow_mut().forget(which);
    }

    pub fn meta(&self, key: &str) -> rusqlite::Result<Option<String>> {
        Ok(self.meta_value(key)?.map(|v| v.to_string()))
    }

    /// A `meta` value, remembered (`cache.rs`): read by every operation, it changes when this
    /// store writes it (which writes the cache through) or another connection commits.
    fn meta_value(&self, key: &str) -> rusqlite::Result<Option<Rc<str>>> {
        self.remembered(
            |c| &mut c.meta,
            key,
            || {
                Ok(self
                    .tx
                    .cached("SELECT value FROM meta WHERE key = ?1")?
                    .query_row([key], |r| r.get::<_, String>(0))
                    .optional()?
                    .map(Rc::from))
            },
        )
    }

    /// The tenant id, the clock, the seed and the fidelity profile: what every transaction
    /// starts from, remembered between transactions as every `meta` value is.
    pub fn tenant_facts(&self) -> rusqlite::Result<TenantFacts> {
        let value = |key: &str| self.meta_value(key).map(|v| v.map(|v| v.to_string()));
        Ok((value("tenant_id")?, value("clock")?, value("seed")?, value("fidelity")?))
    }

    pub fn set_meta(&self, key: &str, value: &str) -> rusqlite::Result<()> {
        self.tx.cached(WRITE_META)?.execute([key, value])?;
        self.guard.caches.borrow_mut().wrote_meta(key, value);
        Ok(())
    }

    /// Takes the next value of a numeric meta counter (id generator, policy generation): the
    /// value remembered (or read), then one write; inside a batch of savepoints, the write waits
    /// for the batch's commit (`cache.rs`), and a savepoint rolled back gives its values back.
    pub fn bump_counter(&self, key: &'static str) -> rusqlite::Result<u64> {
        // As SQLite's `CAST(value AS INTEGER)` reads it: the leading digits, 0 if none.
        let n: u64 = self.meta_value(key)?.map_or(0, |v| {
            let v = v.trim_start();
            v[..v.bytes().take_while(u8::is_ascii_digit).count()].parse().unwrap_or(0)
        });
        let next = (n + 1).to_string();
        if self.guard.undone_on_drop {
            self.guard.caches.borrow_mut().bumped_meta(key, &next);
        } else {
            self.set_meta(key, &next)?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `sql!` makes its text once, so a value named in it would be frozen at its first use: every
    /// name in every `sql!` text of the store must be a constant's (upper case).
    #[test]
    fn every_sql_text_names_only_constants() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/store");
        let mut seen = 0;
        // The store's files and those of its modules' folders (`schedules/`).
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                paths.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else {
                paths.push(path);
            }
        }
        for path in paths {
            let whole = std::fs::read_to_string(&path).unwrap();
            let source = whole.split("#[cfg(test)]").next().unwrap_or_default();
            for (at, _) in source.match_indices("sql!(") {
                let call = source[at + "sql!(".len()..].trim_start();
                let literal = call.strip_prefix('"').expect("`sql!` is given a string literal");
                let end = literal.find('"').expect("the literal ends");
                assert!(
                    literal[end + 1..].trim_start().starts_with(')'),
                    "{}: `sql!` is given arguments after its text",
                    path.display()
                );
                let text = literal[..end].replace("{{", "").replace("}}", "");
                for name in text.split('{').skip(1).map(|t| t.split('}').next().unwrap_or_default()) {
                    assert!(
                        !name.is_empty()
                            && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                        "{}: `sql!` names `{{{name}}}`, which is not a constant",
                        path.display()
                    );
                }
                seen += 1;
            }
        }
        assert!(seen > 10, "found {seen} uses of sql!");
    }

    pub(super) fn user(id: &str) -> crate::model::DirectoryObject {
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
            on_premises_sync_enabled: false,
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
        assert_eq!(
            tx.object(&id.to_ascii_uppercase()).unwrap().map(|o| o.display_name.clone()),
            Some("Zoe".into())
        );
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
