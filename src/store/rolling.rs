//! A scenario's rolling batch: its writes share transactions, committed every so often, instead
//! of one commit each.
//!
//! A commit is what a write costs most on a disk (the WAL's append, and now and then its
//! checkpoint): a scenario that commits each of its 42,000 requests spends nearly half its time
//! committing. Inside a rolling batch each write is a savepoint, so a refused request still
//! changes nothing (invariant 3), but the commits are shared. The batch is committed:
//! - every [`ROLLING_LIMIT`] transactions, so that the WAL and what a crash loses stay bounded;
//! - when the store is copied (a fork), so that the copy holds everything done so far (SQLite's
//!   backup cannot read a connection in the middle of its own write transaction);
//! - when the scenario ends, however it ends.
//!
//! On some errors (a full disk) SQLite rolls back the whole transaction itself, not only the
//! savepoint of the write that met it: the writes before it in the batch, which had succeeded,
//! are gone too. The batch notices before its next transaction, and that transaction (or the
//! batch's end) fails, once, with how many were lost, so a scenario never goes on believing
//! they were kept.
//!
//! An engine-level batch begun meanwhile (a clock advance, an import, a dry run) is a savepoint
//! of the rolling batch's transaction: it succeeds or fails whole, as it would alone, and its
//! writes are committed with the rest. It used to commit the rolling batch and run in a
//! transaction of its own, so a scenario committed at every simulated instant; a day of the year
//! bench (activations at 08:00, expiries at 16:00, the move to the next morning) then wrote each
//! page of the schedules' indexes to the WAL four times, where once does.
//!
//! While it runs on a file store, a thread of its own folds the WAL into the store after each
//! commit (`checkpointer.rs`), so the commits themselves never wait for a checkpoint.
//!
//! The next read or write after a commit opens the next batch. While it is open, the scenario's
//! process holds the store's write lock: another process's write waits for the next commit (the
//! busy timeout is a minute; a batch of [`ROLLING_LIMIT`] transactions takes well under that).
//! So that it gets the lock then, the batch leaves it free for [`LET_OTHERS_IN`] after each
//! commit it makes on its own, and a waiting pimlab asks for it every millisecond
//! (`wait_a_millisecond` in `mod.rs`). Without the pause the next transaction took the lock back
//! within microseconds, and a write from another process waited for the whole script.

use super::checkpointer::Checkpointer;
use super::{Batch, Store, cache};

/// Transactions (reads and writes; an engine batch and each one inside it) in one rolling batch
/// at most: about two commits for a working day of the year bench's 10,000 users. At 4,096 the
/// late days took a fifth longer (their morning committed three times); at 100,000, no less
/// time than this, and more memory.
pub const ROLLING_LIMIT: usize = 16_384;

/// WAL pages (of 4 KiB) after which a commit folds the WAL into the store while a rolling batch
/// runs, if no thread can do it (`checkpointer.rs`): 64 MiB, where SQLite's default is 1,000
/// pages. Each fold writes every page the WAL holds and waits for the disk twice; with the
/// default, the 42,000-request scenario folded about fifty times, rewriting the same pages and
/// waiting a second in all. The WAL is folded when the store is closed, as always.
const ROLLING_CHECKPOINT_PAGES: i64 = 16_384;

/// How long the lock stays free after a full batch's commit, for a write another process is
/// waiting to make (it asks every millisecond): a few commits a simulated working day of the
/// year bench, under a thousandth of its time.
const LET_OTHERS_IN: std::time::Duration = std::time::Duration::from_millis(3);

/// SQLite's own threshold, restored when the rolling batch ends.
const DEFAULT_CHECKPOINT_PAGES: i64 = 1_000;

/// An open scenario's batching.
#[derive(Clone, Copy)]
pub(super) struct Rolling {
    /// Whether its transaction is open now.
    open: bool,
    /// Transactions run in the open one.
    used: usize,
    /// Transactions SQLite rolled back with the open one, on an error one of them met (a full
    /// disk), not yet reported: those before the failing one had succeeded.
    lost: usize,
}

impl Store {
    /// Starts a rolling batch: from now until [`Store::end_rolling`], reads and writes share
    /// transactions. Returns whether this call started it (a rolling batch inside an open batch
    /// or another rolling batch is part of that one).
    pub fn begin_rolling(&mut self) -> rusqlite::Result<bool> {
        if self.rolling.get().is_some() || self.batch.get() != Batch::None {
            return Ok(false);
        }
        // A file store's WAL is folded by a thread of its own, woken by a WAL hook that takes the
        // place of `wal_autocheckpoint`; failing that, by the commits, less often than usual.
        self.checkpointer = match self.path.as_deref() {
            Some(path) => Checkpointer::start(path, &mut self.conn),
            None => None,
        };
        if self.checkpointer.is_none() {
            self.conn.pragma_update(None, "wal_autocheckpoint", ROLLING_CHECKPOINT_PAGES)?;
        }
        self.rolling.set(Some(Rolling { open: false, used: 0, lost: 0 }));
        Ok(true)
    }

    /// Ends the rolling batch, committing what it holds.
    pub fn end_rolling(&mut self) -> rusqlite::Result<()> {
        let settled = self.settle();
        self.rolling.set(None);
        let stopped = self.checkpointer.take().map_or(Ok(()), |c| c.stop(&mut self.conn));
        let restored = self.conn.pragma_update(None, "wal_autocheckpoint", DEFAULT_CHECKPOINT_PAGES);
        settled.and(stopped).and(restored)
    }

    /// Commits what the rolling batch holds now, if it holds anything; the next read or write
    /// opens the next one.
    pub(crate) fn settle(&self) -> rusqlite::Result<()> {
        let nested = self.nested.borrow_mut().take();
        if let Some(mark) = nested {
            // Only a bug leaves an engine batch open here (a copy or the scenario's end comes
            // between operations): not ended, then not kept.
            self.end_nested(&mark, false)?;
        }
        self.notice_lost();
        self.report_lost()?;
        match self.rolling.get() {
            Some(r) if r.open => {
                self.rolling.set(Some(Rolling { open: false, used: 0, lost: 0 }));
                self.end_batch(true)
            }
            _ => Ok(()),
        }
    }

    /// If SQLite rolled back the rolling batch's open transaction itself (on an error it cannot
    /// undo a statement of alone: a full disk), counts its transactions as lost, and lets the
    /// next one open afresh. The operation that met the error has reported it; the ones before
    /// it in the transaction had succeeded, and are gone too.
    fn notice_lost(&self) {
        let Some(r) = self.rolling.get() else {
            return;
        };
        if r.open && self.conn.is_autocommit() {
            self.batch.set(Batch::None);
            self.rolling.set(Some(Rolling { open: false, used: 0, lost: r.lost + r.used }));
            self.caches.borrow_mut().transaction_ended(false);
        }
    }

    /// Fails, once, if transactions were lost since the last report: the scenario must not go
    /// on believing that what it did is in the store.
    fn report_lost(&self) -> rusqlite::Result<()> {
        match self.rolling.get() {
            Some(r) if r.lost > 0 => {
                self.rolling.set(Some(Rolling { lost: 0, ..r }));
                Err(aborted(format!(
                    "SQLite rolled back the scenario's batch on an error (a full disk?): the {} \
                     operations and reads since its last commit are not in the store, though those \
                     before the error succeeded",
                    r.lost
                )))
            }
            _ => Ok(()),
        }
    }

    /// Before a transaction: opens the rolling batch's transaction if none is open, or, when the
    /// open one is full, commits it and opens the next.
    pub(super) fn roll_on(&self) -> rusqlite::Result<()> {
        self.notice_lost();
        self.report_lost()?;
        // Never in the middle of an engine batch: it is committed whole or not at all.
        let full = self.rolling.get().is_some_and(|r| r.open && r.used >= ROLLING_LIMIT);
        if full && self.nested.borrow().is_none() {
            self.settle()?;
            if self.path.is_some() {
                std::thread::sleep(LET_OTHERS_IN);
            }
        }
        let Some(mut r) = self.rolling.get() else {
            return Ok(());
        };
        if !r.open && self.batch.get() == Batch::None {
            self.begin_immediate()?;
            self.batch.set(Batch::Savepoints);
            r.open = true;
        }
        if r.open {
            r.used += 1;
        }
        self.rolling.set(Some(r));
        Ok(())
    }

    /// Begins an engine batch of `kind` inside the rolling batch, as a savepoint of its
    /// transaction; inside another engine batch, it is part of that one (false).
    pub(super) fn begin_nested(&self, kind: Batch) -> rusqlite::Result<bool> {
        if self.nested.borrow().is_some() {
            return Ok(false);
        }
        self.roll_on()?;
        self.conn.cached("SAVEPOINT pimlab_batch")?.execute([])?;
        *self.nested.borrow_mut() = Some(cache::Mark::taken(&self.caches.borrow(), true));
        self.batch.set(kind);
        Ok(true)
    }

    /// Ends the engine batch begun at `mark` inside the rolling batch: released into the rolling
    /// batch's transaction (`commit`), or rolled back to where it began. The rolling batch goes on.
    pub(super) fn end_nested(&self, mark: &cache::Mark, commit: bool) -> rusqlite::Result<()> {
        self.batch.set(Batch::Savepoints);
        let release = || self.conn.cached("RELEASE pimlab_batch")?.execute([]).map(drop);
        let undo = || self.conn.cached("ROLLBACK TO pimlab_batch")?.execute([]).and_then(|_| release());
        if self.conn.is_autocommit() {
            // SQLite ended the whole transaction on an error (a full disk): the rolling batch's
            // writes are gone too, and the next operation opens a transaction afresh. Not kept,
            // the batch is as it should be (a ROLLBACK TO now would fail, and its error hide the
            // one that ended the batch); kept, it cannot be.
            self.notice_lost();
            // Noticed already or now, the batch's transaction is over: the next one begins afresh.
            self.batch.set(Batch::None);
            return if commit {
                Err(aborted(
                    "the batch's transaction was rolled back by an earlier error, so nothing in it was kept"
                        .into(),
                ))
            } else {
                Ok(())
            };
        }
        let ended = if commit { release().or_else(|e| undo().and(Err(e))) } else { undo() };
        if !commit || ended.is_err() {
            mark.rolled_back(&mut self.caches.borrow_mut());
        }
        ended
    }

    /// A rolling batch's transaction ended (committed, or discarded after a panic): the next
    /// read or write opens the next one.
    pub(super) fn rolling_discarded(&self) {
        if let Some(r) = self.rolling.get() {
            self.rolling.set(Some(Rolling { open: false, used: 0, ..r }));
        }
    }
}

/// An error of the rolling batch's own, about work SQLite rolled back (`SQLITE_ABORT`).
fn aborted(message: String) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT), Some(message))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::checkpointer::Tuning;
    use crate::store::tests::user;

    fn id(n: usize) -> String {
        format!("00000000-0000-0000-0000-{n:012x}")
    }

    /// A second connection to the same file: what another process sees.
    fn others_see(path: &std::path::Path, n: usize) -> bool {
        let other = rusqlite::Connection::open(path).unwrap();
        other
            .query_row("SELECT count(*) FROM directory_objects WHERE id = ?1", [id(n)], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap()
            == 1
    }

    fn add(store: &mut Store, n: usize) {
        let tx = store.write().unwrap();
        let mut u = user(&id(n));
        u.user_principal_name = Some(format!("user{n}@contoso.example"));
        tx.insert_object(&u).unwrap();
        tx.commit().unwrap();
    }

    fn file_store() -> (tempfile::TempDir, std::path::PathBuf, Store) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rolling.db");
        let store = Store::open(&path).unwrap();
        (dir, path, store)
    }

    /// Writes objects from `n` on until SQLite refuses one, and returns its error.
    fn fill(store: &mut Store, n: usize) -> rusqlite::Error {
        for k in n..n + 10_000 {
            let tx = store.write().unwrap();
            let mut u = user(&id(k));
            u.user_principal_name = Some(format!("user{k}@contoso.example"));
            if let Err(e) = tx.insert_object(&u) {
                return e;
            }
            tx.commit().unwrap();
        }
        panic!("10,000 objects fitted in the store");
    }

    /// A store whose file may grow by a few pages at most: its next big batch fills it, and
    /// SQLite rolls back the whole transaction itself.
    fn nearly_full(store: &Store) {
        let pages: i64 = store.conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        store.conn.pragma_update(None, "max_page_count", pages + 3).unwrap();
    }

    /// Room on the disk again.
    fn room(store: &Store) {
        store.conn.pragma_update(None, "max_page_count", 1_000_000).unwrap();
    }

    fn is_full(e: &rusqlite::Error) -> bool {
        e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
    }

    /// Whether `e` is the rolling batch's report that SQLite took back what it held.
    fn says_lost(e: &rusqlite::Error) -> bool {
        e.to_string().contains("not in the store")
    }

    /// A nearly full store (object 0 committed) in a rolling batch that has written object 1.
    fn rolling_on_a_nearly_full_disk() -> (tempfile::TempDir, std::path::PathBuf, Store) {
        let (dir, path, mut store) = file_store();
        add(&mut store, 0);
        nearly_full(&store);
        store.begin_rolling().unwrap();
        add(&mut store, 1);
        (dir, path, store)
    }

    #[test]
    fn a_batch_its_full_disk_rolled_back_ends_without_an_error_of_its_own() {
        let (_dir, path, mut store) = file_store();
        add(&mut store, 0);
        nearly_full(&store);
        assert!(store.begin_batch(Batch::Whole).unwrap());
        let full = fill(&mut store, 1);
        assert!(is_full(&full), "{full}");
        // Not "cannot rollback - no transaction is active", which would stand in for the full disk.
        store.end_batch(false).unwrap();
        assert!(others_see(&path, 0) && !others_see(&path, 1));
        assert!(we_see(&mut store, 0) && !we_see(&mut store, 1));
    }

    #[test]
    fn an_engine_batch_a_full_disk_ended_inside_a_rolling_batch_ends_without_an_error_of_its_own() {
        let (_dir, path, mut store) = rolling_on_a_nearly_full_disk();
        assert!(store.begin_batch(Batch::Whole).unwrap());
        let full = fill(&mut store, 2);
        assert!(is_full(&full), "{full}");
        // SQLite rolled back the rolling batch's transaction too: write 1 is gone with it, and
        // the next operation says so.
        store.end_batch(false).unwrap();
        let lost = store.read().map(drop).unwrap_err();
        assert!(says_lost(&lost), "{lost}");
        assert!(!we_see(&mut store, 1) && !we_see(&mut store, 2));
        // Kept after such an error, the batch says it could not be.
        assert!(store.begin_batch(Batch::Whole).unwrap());
        let again = fill(&mut store, 2);
        assert!(is_full(&again), "{again}");
        let kept = store.end_batch(true).unwrap_err().to_string();
        assert!(kept.contains("rolled back by an earlier error"), "{kept}");
        assert!(store.read().is_err(), "the second loss went unreported");
        // The rolling batch goes on, in a transaction of its own, once there is room.
        room(&store);
        add(&mut store, 3);
        store.end_rolling().unwrap();
        assert!(others_see(&path, 0) && others_see(&path, 3) && !others_see(&path, 1));
    }

    #[test]
    fn a_full_disk_in_a_rolling_batch_says_the_operations_before_it_are_lost_too() {
        let (_dir, path, mut store) = rolling_on_a_nearly_full_disk();
        let full = fill(&mut store, 2);
        assert!(is_full(&full), "{full}");
        room(&store);
        // Write 1 had succeeded; SQLite took it back with the write that filled the disk.
        let lost = store.write().map(drop).unwrap_err();
        assert!(says_lost(&lost), "{lost}");
        // Said once: the scenario goes on, in a transaction of its own.
        assert!(!we_see(&mut store, 1));
        add(&mut store, 3);
        store.end_rolling().unwrap();
        assert!(others_see(&path, 0) && others_see(&path, 3) && !others_see(&path, 1));
    }

    #[test]
    fn a_full_disk_at_a_rolling_batch_s_last_operation_is_reported_when_it_ends() {
        let (_dir, path, mut store) = rolling_on_a_nearly_full_disk();
        assert!(is_full(&fill(&mut store, 2)));
        let lost = store.end_rolling().unwrap_err();
        assert!(says_lost(&lost), "{lost}");
        assert!(others_see(&path, 0) && !others_see(&path, 1));
        // The store works on after the batch, once there is room.
        room(&store);
        add(&mut store, 4);
        assert!(others_see(&path, 4));
    }

    #[test]
    fn a_rolling_batch_commits_when_it_ends_and_not_before() {
        let (_dir, path, mut store) = file_store();
        assert!(store.begin_rolling().unwrap());
        add(&mut store, 1);
        assert!(!others_see(&path, 1), "committed before the batch ended");
        store.end_rolling().unwrap();
        assert!(others_see(&path, 1));
    }

    #[test]
    fn a_write_undone_inside_a_rolling_batch_is_undone_alone() {
        let (_dir, path, mut store) = file_store();
        store.begin_rolling().unwrap();
        add(&mut store, 1);
        {
            let tx = store.write().unwrap();
            tx.insert_object(&user(&id(2))).unwrap();
            // Dropped without commit: a refused request.
        }
        add(&mut store, 3);
        store.end_rolling().unwrap();
        assert!(others_see(&path, 1) && !others_see(&path, 2) && others_see(&path, 3));
    }

    /// Whether the store's own reads (through its caches) find object `n`.
    fn we_see(store: &mut Store, n: usize) -> bool {
        store.read().unwrap().object(&id(n)).unwrap().is_some()
    }

    #[test]
    fn an_engine_batch_inside_a_rolling_batch_is_a_savepoint_committed_with_the_rest() {
        let (_dir, path, mut store) = file_store();
        store.begin_rolling().unwrap();
        add(&mut store, 1);
        // A dry run (`Engine::trial`): begun, written to, thrown away whole.
        assert!(store.begin_batch(Batch::Whole).unwrap(), "the batch was not opened");
        assert!(!others_see(&path, 1), "the rolling batch was committed for it");
        add(&mut store, 2);
        assert!(!store.begin_batch(Batch::Savepoints).unwrap(), "a batch inside it is part of it");
        add(&mut store, 3);
        assert!(we_see(&mut store, 2) && we_see(&mut store, 3));
        store.end_batch(false).unwrap();
        assert!(!we_see(&mut store, 2) && !we_see(&mut store, 3), "the dry run was not undone");
        assert!(we_see(&mut store, 1), "the rolling batch's own write was undone with it");
        // A clock advance (`Engine::atomically`): kept, and committed with the rest.
        assert!(store.begin_batch(Batch::Whole).unwrap());
        add(&mut store, 4);
        store.end_batch(true).unwrap();
        add(&mut store, 5);
        assert!(!others_see(&path, 4), "the engine batch was committed on its own");
        store.end_rolling().unwrap();
        assert!([1, 4, 5].iter().all(|&n| others_see(&path, n)));
        assert!(![2, 3].iter().any(|&n| others_see(&path, n)));
    }

    #[test]
    fn a_full_rolling_batch_waits_for_the_engine_batch_inside_it_to_end() {
        let (_dir, path, mut store) = file_store();
        store.begin_rolling().unwrap();
        assert!(store.begin_batch(Batch::Whole).unwrap());
        for n in 0..ROLLING_LIMIT + 1 {
            add(&mut store, n);
        }
        assert!(!others_see(&path, 0), "half an engine batch was committed");
        store.end_batch(true).unwrap();
        add(&mut store, ROLLING_LIMIT + 1);
        assert!(others_see(&path, 0), "the full batch was not committed after it");
        store.end_rolling().unwrap();
        assert!(others_see(&path, ROLLING_LIMIT + 1));
    }

    /// One step of a scenario in a rolling batch: a write of its own, or an engine batch.
    #[derive(Debug, Clone)]
    enum Step {
        /// A write, kept or refused (undone alone).
        Write { keep: bool },
        /// An engine batch: each write in it kept or refused when it is a batch of savepoints
        /// (`Engine::batch`), every one kept when it succeeds or fails whole (`atomically`), and
        /// the batch itself kept or thrown away.
        Engine { whole: bool, writes: Vec<bool>, keep: bool },
        /// The disk fills under a write (`engine`: one of an engine batch's, of either kind,
        /// which then tries one more write before it ends, or not): SQLite rolls back the
        /// rolling batch's transaction, whatever succeeded in it before.
        DiskFull { engine: Option<(bool, bool)> },
    }

    fn steps() -> impl proptest::strategy::Strategy<Value = Vec<Step>> {
        use proptest::prelude::*;
        let step = prop_oneof![
            any::<bool>().prop_map(|keep| Step::Write { keep }),
            (any::<bool>(), proptest::collection::vec(any::<bool>(), 0..4), any::<bool>())
                .prop_map(|(whole, writes, keep)| Step::Engine { whole, writes, keep }),
            proptest::option::of((any::<bool>(), any::<bool>())).prop_map(|engine| Step::DiskFull { engine }),
        ];
        proptest::collection::vec(step, 1..12)
    }

    /// Writes object `n` and takes an id, kept or undone with the write.
    fn write(store: &mut Store, n: usize, keep: bool) {
        let tx = store.write().unwrap();
        let mut u = user(&id(n));
        u.user_principal_name = Some(format!("user{n}@contoso.example"));
        tx.insert_object(&u).unwrap();
        tx.bump_counter("next_id").unwrap();
        if keep {
            tx.commit().unwrap();
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(48))]

        /// The generator for what engine batches inside a rolling batch keep: writes of its own
        /// and engine batches of both kinds, each kept or thrown away. After each step the
        /// store's own reads (through its caches) find exactly the objects a model keeps, and
        /// the id counter is the model's; after the scenario, so does another connection.
        #[test]
        fn a_rolling_batch_keeps_what_its_engine_batches_and_writes_keep(steps in steps()) {
            let (_dir, path, mut store) = file_store();
            store.begin_rolling().unwrap();
            let (mut n, mut kept, mut ids) = (0, Vec::new(), 0u64);
            for step in steps {
                match step {
                    Step::Write { keep } => {
                        write(&mut store, n, keep);
                        if keep {
                            kept.push(n);
                            ids += 1;
                        }
                        n += 1;
                    }
                    Step::Engine { whole, writes, keep } => {
                        let kind = if whole { Batch::Whole } else { Batch::Savepoints };
                        proptest::prop_assert!(store.begin_batch(kind).unwrap());
                        let (mut theirs, mut their_ids) = (Vec::new(), 0);
                        for keep_write in writes {
                            // A batch that succeeds or fails whole never carries on past a refusal.
                            let keep_write = keep_write || whole;
                            write(&mut store, n, keep_write);
                            if keep_write {
                                theirs.push(n);
                                their_ids += 1;
                            }
                            n += 1;
                        }
                        store.end_batch(keep).unwrap();
                        if keep {
                            kept.extend(theirs);
                            ids += their_ids;
                        }
                    }
                    Step::DiskFull { engine } => {
                        nearly_full(&store);
                        if let Some((whole, _)) = engine {
                            let kind = if whole { Batch::Whole } else { Batch::Savepoints };
                            proptest::prop_assert!(store.begin_batch(kind).unwrap());
                        }
                        let full = fill(&mut store, 1_000_000);
                        proptest::prop_assert!(is_full(&full), "{}", full);
                        room(&store);
                        // Nothing in this scenario is committed before it ends: all of it is gone,
                        // and the next operation says so, inside the engine batch or after it.
                        let said_inside = matches!(engine, Some((_, true)));
                        if said_inside {
                            let lost = store.write().map(drop).unwrap_err();
                            proptest::prop_assert!(says_lost(&lost), "{}", lost);
                        }
                        if engine.is_some() {
                            store.end_batch(false).unwrap();
                        }
                        if !said_inside {
                            let lost = store.read().map(drop).unwrap_err();
                            proptest::prop_assert!(says_lost(&lost), "{}", lost);
                        }
                        kept.clear();
                        ids = 0;
                    }
                }
                for m in 0..n {
                    proptest::prop_assert_eq!(we_see(&mut store, m), kept.contains(&m), "object {}", m);
                }
                let counter = store.read().unwrap().meta("next_id").unwrap();
                proptest::prop_assert_eq!(counter, (ids > 0).then(|| ids.to_string()));
            }
            store.end_rolling().unwrap();
            for m in 0..n {
                proptest::prop_assert_eq!(others_see(&path, m), kept.contains(&m), "object {}", m);
            }
            let other = rusqlite::Connection::open(&path).unwrap();
            let counter: Option<String> =
                other.query_row("SELECT value FROM meta WHERE key = 'next_id'", [], |r| r.get(0)).ok();
            proptest::prop_assert_eq!(counter, (ids > 0).then(|| ids.to_string()));
        }
    }

    #[test]
    fn a_full_rolling_batch_is_committed_and_the_next_one_opened() {
        let (_dir, path, mut store) = file_store();
        store.begin_rolling().unwrap();
        for n in 0..ROLLING_LIMIT + 1 {
            add(&mut store, n);
        }
        assert!(others_see(&path, 0), "the first batch was not committed when full");
        assert!(!others_see(&path, ROLLING_LIMIT), "the next batch was committed early");
        store.end_rolling().unwrap();
        assert!(others_see(&path, ROLLING_LIMIT));
    }

    #[test]
    fn a_copy_made_inside_a_rolling_batch_holds_what_it_did() {
        let (_dir, _path, mut store) = file_store();
        store.begin_rolling().unwrap();
        add(&mut store, 1);
        let mut copy = store.copy_in_memory().unwrap();
        assert!(copy.read().unwrap().object(&id(1)).unwrap().is_some());
        store.end_rolling().unwrap();
    }

    #[test]
    fn a_rolling_batch_inside_an_open_batch_is_part_of_it() {
        let (_dir, path, mut store) = file_store();
        store.begin_batch(Batch::Savepoints).unwrap();
        assert!(!store.begin_rolling().unwrap());
        add(&mut store, 1);
        store.end_batch(true).unwrap();
        assert!(others_see(&path, 1));
    }

    fn threshold(store: &Store) -> i64 {
        store.conn.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_rolling_batch_folds_its_wal_on_a_thread_of_its_own_and_puts_the_threshold_back() {
        let (_dir, path, mut store) = file_store();
        assert_eq!(threshold(&store), DEFAULT_CHECKPOINT_PAGES);
        let folded = || std::fs::metadata(&path).unwrap().len();
        let before = folded();
        store.begin_rolling().unwrap();
        assert_eq!(threshold(&store), 0, "the engine's commits no longer checkpoint");
        for n in 0..500 {
            add(&mut store, n);
        }
        store.settle().unwrap();
        // The thread was woken by the commit: the rows reach the store file while the batch runs.
        let waited = std::time::Instant::now();
        while folded() <= before {
            assert!(waited.elapsed() < std::time::Duration::from_secs(30), "never folded");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        add(&mut store, 500);
        store.end_rolling().unwrap();
        assert!(store.checkpointer.is_none(), "the thread stops with the batch");
        assert_eq!(threshold(&store), DEFAULT_CHECKPOINT_PAGES);
        assert!((0..=500).all(|n| others_see(&path, n)));
    }

    /// The WAL's size after `commits` commits of ten rows each in a rolling batch whose thread
    /// starts the WAL again past 40 frames (rather than 16,384, so that a few hundred commits
    /// show it) and sleeps `pause` before each checkpoint.
    fn wal_after(commits: usize, pause: Duration) -> u64 {
        let (_dir, path, mut store) = file_store();
        store.begin_rolling().unwrap();
        store.checkpointer.take();
        let tuning = Tuning { restart_frames: 40, pause };
        store.checkpointer = Checkpointer::tuned(&path, &mut store.conn, tuning);
        assert!(store.checkpointer.is_some());
        for n in 0..commits * 10 {
            add(&mut store, n);
            if n % 10 == 9 {
                store.settle().unwrap();
            }
        }
        let wal = std::fs::metadata(path.with_extension("db-wal")).unwrap().len();
        store.end_rolling().unwrap();
        assert!((0..commits * 10).all(|n| others_see(&path, n)));
        wal
    }

    /// A commit of ten rows writes a handful of frames: the WAL may hold 40, then one more commit.
    const WAL_BOUND: u64 = 100 * 4096;

    #[test]
    fn a_rolling_batch_starts_its_wal_again_rather_than_growing_it_for_ever() {
        // Three hundred commits of a few pages each: well over 4 MiB in a WAL never started again.
        let wal = wal_after(300, Duration::ZERO);
        assert!(wal < WAL_BOUND, "the WAL grew to {wal} bytes");
    }

    #[test]
    fn a_wal_folded_by_a_thread_kept_from_running_stays_as_short() {
        // The bound held only while the thread kept up: the engine went by the WAL's length at the
        // thread's last checkpoint, and on a busy machine (CI) the WAL outgrew 1 MiB.
        let wal = wal_after(100, Duration::from_millis(20));
        assert!(wal < WAL_BOUND, "the WAL grew to {wal} bytes");
    }

    #[test]
    fn a_rolling_batch_in_memory_folds_nothing_and_starts_no_thread() {
        let mut store = Store::open_in_memory().unwrap();
        store.begin_rolling().unwrap();
        assert!(store.checkpointer.is_none());
        add(&mut store, 1);
        store.end_rolling().unwrap();
    }
}
