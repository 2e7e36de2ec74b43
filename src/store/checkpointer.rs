//! The WAL folded into the store on a thread of its own while a rolling batch runs: the second
//! core's share of a long scenario.
//!
//! A commit appends the pages it changed to the WAL; a checkpoint copies them into the store file
//! and waits for the disk. Left to SQLite, the checkpoint runs inside the commit that crosses the
//! threshold, on the engine's thread: over the year bench's later days, when a day's purges and
//! expiries change pages all over the store, it was a seventh of the time (perf). SQLite lets
//! another connection checkpoint while the writer goes on (a PASSIVE checkpoint takes no lock the
//! writer needs, and copies only frames already committed), so while a rolling batch runs the
//! engine's connection never checkpoints (`wal_autocheckpoint` 0) and this thread does, woken
//! after each commit.
//!
//! The WAL starts again from its beginning only when a writer begins a transaction while every
//! frame in it is folded; a rolling batch begins its next transaction the moment it commits, before
//! the thread has folded that commit's frames, so left alone the WAL would grow for ever (it
//! reached 4 GB in the year bench's first minute). So once a commit leaves more than
//! [`RESTART_FRAMES`] in the WAL, the next transaction waits for the thread to fold the last
//! commit (the earlier ones it folded while the engine worked) and then begins, and the WAL starts
//! again. The engine's connection counts the frames itself: SQLite tells it after each commit (its
//! WAL hook, the one `wal_autocheckpoint` uses). A count the thread reported from its last
//! checkpoint would lag by as many commits as the thread was kept from running, and on a busy
//! machine the WAL outgrew its bound by that much.
//!
//! What the store holds is the same either way: a checkpoint moves committed pages from one file
//! to the other. Its errors are the writer's to meet (a full disk fails the next commit), so the
//! thread ignores them; the WAL then waits for the next checkpoint, or for the store's close.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::hooks::Wal;
use rusqlite::{Connection, OpenFlags};

use super::statements::Db;

/// WAL frames (pages of 4 KiB) past which the next transaction waits for the WAL to be folded
/// whole, so that it starts again from its beginning: 64 MiB.
const RESTART_FRAMES: i64 = 16_384;

/// What the engine's thread and the checkpointing thread share.
#[derive(Default)]
struct State {
    /// Commits so far (each wakes the thread).
    commits: u64,
    /// Commits whose frames a checkpoint has folded.
    folded: u64,
    /// Frames in the WAL after the last commit.
    frames: i64,
    /// The batch is over: the thread stops.
    stop: bool,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

/// The shared state, locked. A poisoned lock is taken all the same: each field is written in
/// one store, so a panic while it was held cannot have left one half-written.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A thread that checkpoints the store's WAL after each commit.
pub(super) struct Checkpointer {
    shared: Shared,
    thread: Option<JoinHandle<()>>,
    /// [`RESTART_FRAMES`], or a test's smaller number.
    restart_frames: i64,
}

/// How a test changes the thread: a smaller WAL, a thread kept from running.
#[derive(Clone, Copy)]
pub(super) struct Tuning {
    /// Frames past which the WAL starts again.
    pub restart_frames: i64,
    /// Time the thread sleeps before each checkpoint, as if the machine were busy.
    pub pause: Duration,
}

impl Checkpointer {
    /// Starts the thread with a connection of its own to the store at `path`, woken by each
    /// commit on `db`; `None` if it cannot be had (the writer then checkpoints as it did).
    pub(super) fn start(path: &Path, db: &mut Db) -> Option<Checkpointer> {
        Self::tuned(path, db, Tuning { restart_frames: RESTART_FRAMES, pause: Duration::ZERO })
    }

    /// As `start`, tuned.
    pub(super) fn tuned(path: &Path, db: &mut Db, tuning: Tuning) -> Option<Checkpointer> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ok()?;
        let shared: Shared = Arc::default();
        let theirs = shared.clone();
        let thread = std::thread::Builder::new()
            .name("pimlab-checkpoint".into())
            .spawn(move || fold_after_commits(&conn, &theirs, tuning.pause))
            .ok()?;
        let checkpointer = Checkpointer {
            shared: shared.clone(),
            thread: Some(thread),
            restart_frames: tuning.restart_frames,
        };
        // Dropping `checkpointer` stops the thread, should the hook not be set.
        db.wal_hook(Some(move |_: &mut Wal, frames| {
            committed(&shared, frames);
            Ok(())
        }))
        .ok()?;
        Some(checkpointer)
    }

    /// Stops the thread and takes its hook off `db`.
    pub(super) fn stop(self, db: &mut Db) -> rusqlite::Result<()> {
        drop(self);
        db.wal_hook(None::<fn(&mut Wal, std::ffi::c_int) -> rusqlite::Result<()>>)
    }

    /// Before a transaction begins: if the last commit left more than [`RESTART_FRAMES`] in the
    /// WAL, waits until every commit is folded, so that the transaction starts the WAL again.
    pub(super) fn before_begin(&self) {
        let (state, changed) = &*self.shared;
        let mut s = lock(state);
        if s.frames <= self.restart_frames {
            return;
        }
        // (`stop` is set only when the checkpointer is dropped, never while this runs.)
        while s.folded < s.commits {
            // A thread that ended (it cannot, short of a panic) would never say it folded.
            if self.thread.as_ref().is_none_or(JoinHandle::is_finished) {
                return;
            }
            s = changed.wait_timeout(s, Duration::from_millis(100)).unwrap_or_else(PoisonError::into_inner).0;
        }
        // Folded: the transaction about to begin starts the WAL again (unless a reader elsewhere
        // holds an older snapshot; then the next commit says the WAL is still long, and the next
        // transaction waits again).
    }
}

/// The engine's WAL hook, after each commit: the WAL holds `frames`, some of them new to fold.
fn committed(shared: &Shared, frames: std::ffi::c_int) {
    let (state, changed) = &**shared;
    let mut s = lock(state);
    s.commits += 1;
    s.frames = i64::from(frames);
    drop(s);
    changed.notify_all();
}

impl Drop for Checkpointer {
    /// Lets the thread finish the checkpoint it is in, and waits for it.
    fn drop(&mut self) {
        let (state, changed) = &*self.shared;
        lock(state).stop = true;
        changed.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One checkpoint for each wake-up; commits made while one ran are folded by the next.
fn fold_after_commits(conn: &Connection, shared: &Shared, pause: Duration) {
    let (state, changed) = &**shared;
    let mut s = lock(state);
    loop {
        while s.folded == s.commits && !s.stop {
            s = changed.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
        if s.stop {
            return;
        }
        let upto = s.commits;
        drop(s);
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
        // Its row (busy, frames in the WAL, frames folded) says nothing the engine needs: a
        // checkpoint that could not fold everything leaves the WAL long, and the next commit says so.
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        s = lock(state);
        s.folded = upto;
        changed.notify_all();
    }
}
