//! A scenario's rolling batch: its writes share transactions, committed every so often, instead
//! of one commit each.
//!
//! A commit is what a write costs most on a disk (the WAL's append, and now and then its
//! checkpoint): a scenario that commits each of its 42,000 requests spends nearly half its time
//! committing. Inside a rolling batch each write is a savepoint, so a refused request still
//! changes nothing (invariant 3), but the commits are shared. The batch is committed:
//! - when an engine-level batch begins (a clock advance, an import, Graph's `$batch`), which then
//!   runs in a transaction of its own: so a scenario commits once per simulated instant;
//! - every [`ROLLING_LIMIT`] transactions, so that the WAL and what a crash loses stay bounded;
//! - when the scenario ends, however it ends.
//!
//! - when the store is copied (a fork), so that the copy holds everything done so far (SQLite's
//!   backup cannot read a connection in the middle of its own write transaction).
//!
//! While it runs on a file store, a thread of its own folds the WAL into the store after each
//! commit (`checkpointer.rs`), so the commits themselves never wait for a checkpoint.
//!
//! The next read or write after a commit opens the next batch. While it is open, the scenario's
//! process holds the store's write lock: another process's write waits for the next commit (the
//! busy timeout is a minute; a batch of [`ROLLING_LIMIT`] requests takes well under that).

use super::checkpointer::Checkpointer;
use super::{Batch, Store};

/// Transactions (reads and writes) in one rolling batch at most.
pub const ROLLING_LIMIT: usize = 4096;

/// WAL pages (of 4 KiB) after which a commit folds the WAL into the store while a rolling batch
/// runs, if no thread can do it (`checkpointer.rs`): 64 MiB, where SQLite's default is 1,000 pages. Each fold writes every page the WAL
/// holds and waits for the disk twice; with the default, the 42,000-request scenario folded
/// about fifty times, rewriting the same pages and waiting a second in all. The WAL is folded
/// when the store is closed, as always.
const ROLLING_CHECKPOINT_PAGES: i64 = 16_384;

/// SQLite's own threshold, restored when the rolling batch ends.
const DEFAULT_CHECKPOINT_PAGES: i64 = 1_000;

/// An open scenario's batching.
#[derive(Clone, Copy)]
pub(super) struct Rolling {
    /// Whether its transaction is open now.
    open: bool,
    /// Transactions run in the open one.
    used: usize,
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
        self.rolling.set(Some(Rolling { open: false, used: 0 }));
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
        match self.rolling.get() {
            Some(r) if r.open => {
                self.rolling.set(Some(Rolling { open: false, used: 0 }));
                self.end_batch(true)
            }
            _ => Ok(()),
        }
    }

    /// Before a transaction: opens the rolling batch's transaction if none is open, or, when the
    /// open one is full, commits it and opens the next.
    pub(super) fn roll_on(&self) -> rusqlite::Result<()> {
        if self.rolling.get().is_some_and(|r| r.open && r.used >= ROLLING_LIMIT) {
            self.settle()?;
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

    /// A rolling batch's transaction ended (committed, or discarded after a panic): the next
    /// read or write opens the next one.
    pub(super) fn rolling_discarded(&self) {
        if self.rolling.get().is_some() {
            self.rolling.set(Some(Rolling { open: false, used: 0 }));
        }
    }
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

    #[test]
    fn an_engine_batch_inside_a_rolling_batch_commits_it_first_and_runs_on_its_own() {
        let (_dir, path, mut store) = file_store();
        store.begin_rolling().unwrap();
        add(&mut store, 1);
        // A dry run (`Engine::trial`) needs a batch of its own, to throw away whole.
        assert!(store.begin_batch(Batch::Whole).unwrap(), "the batch was not opened");
        assert!(others_see(&path, 1), "what the rolling batch held was not committed first");
        add(&mut store, 2);
        store.end_batch(false).unwrap();
        assert!(!others_see(&path, 2));
        // The rolling batch resumes.
        add(&mut store, 3);
        assert!(!others_see(&path, 3));
        store.end_rolling().unwrap();
        assert!(others_see(&path, 3) && !others_see(&path, 2));
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
