//! A store turned back to the instant before a run of requests, for a replay's private fork:
//! what those requests made is forgotten (their rows, schedules, approval steps, notifications
//! and audit rows), and what they ended is in effect again. Never run on a user's store: the
//! engine only offers it on an in-memory copy (`Engine::rewound_fork`).

use super::Tx;
use super::cache::Keyed;
use crate::model::Timestamp;
use crate::model::time::to_millis;

/// How much a rewind forgot and restored, for the replay's report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rewound {
    pub requests: usize,
    pub schedules_forgotten: usize,
    pub schedules_restored: usize,
}

impl Tx<'_> {
    /// Forgets every request created at or after `from` and what it made, and puts back in effect
    /// the schedules made by earlier requests that ended after `from` (by a forgotten request, or
    /// by their expiry, which the replayed clock repeats). Schedules made outside PIM stay as they
    /// are: the store keeps no history of them. The clock is set to `from`.
    pub fn rewind_requests(&self, from: Timestamp) -> rusqlite::Result<Rewound> {
        let t = to_millis(from);
        // Schedules of every kind end and come back: every remembered live schedule goes.
        self.writing_schedule(super::schedules::ScheduleWrite::Any);
        self.guard.caches.borrow_mut().forget_keyed(Keyed::NoPending(None));
        let later = "SELECT id FROM requests WHERE created_at >= ?1";
        self.tx.execute(&format!("DELETE FROM approval_steps WHERE approval_id IN ({later})"), [t])?;
        self.tx
            .execute(&format!("DELETE FROM notifications WHERE at > ?1 OR request_id IN ({later})"), [t])?;
        self.tx.execute(&format!("DELETE FROM audit WHERE at > ?1 OR request_id IN ({later})"), [t])?;
        let schedules_forgotten =
            // `created_using` is an empty blob where it is the schedule's own id (keys.rs).
            self.tx.execute(
                &format!("DELETE FROM schedules WHERE iif(created_using = x'', id, created_using) IN ({later})"),
                [t],
            )?;
        let requests = self.tx.execute("DELETE FROM requests WHERE created_at >= ?1", [t])?;
        // A future-dated schedule that started after `from` waits for its start again (first, so
        // that the schedule it took over from may be in effect again without two instances).
        self.tx.execute(
            "UPDATE schedules SET status = 1 /* Granted */
             WHERE state = 1 /* live */ AND status = 0 /* Provisioned */ AND start_at > ?1",
            [t],
        )?;
        // Ended after `from`, or at `from` by a request (an expiry at `from` came before it). A
        // live schedule's `ended_at` holds its planned end (schedules.rs).
        let schedules_restored = self.tx.execute(
            "UPDATE schedules SET state = 1 /* live */, ended_at = end_at
             WHERE state <> 1 /* live */ AND created_using IS NOT NULL
               AND (ended_at > ?1 OR (ended_at = ?1 AND state <> 0 /* expired */))",
            [t],
        )?;
        self.set_meta("clock", &t.to_string())?;
        Ok(Rewound { requests, schedules_forgotten, schedules_restored })
    }
}
