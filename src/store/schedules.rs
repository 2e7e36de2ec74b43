//! Rows of `schedules` (and so of the `instances` and `role_assignments` views).

use std::rc::Rc;

use rusqlite::{OptionalExtension, Row, params};

use super::Tx;
use super::cache::{Cached, Caches, HashMap, Keyed, joined_key, lower_case};
use super::codes::{C, coded, opt_coded};
use super::keys::{Key, id, key, opt_id, opt_ref, reference};
use crate::model::time::{from_millis, to_millis};
use crate::model::{
    Expiration, IsoDuration, RequestKind, Schedule, ScheduleInfo, ScheduleState, Status, Surface, Timestamp,
};

const SCHEDULE_COLUMNS: &str = "id, surface, kind, principal_id, role_definition_id, directory_scope_id, \
     app_scope_id, member_type, assignment_type, status, state, created_using, created_at, modified_at, \
     start_at, expiration_type, expiration_end, expiration_duration, end_at, activated_using, instance_id, ended_at, replaces, warn_14_at, warn_1_at";

fn schedule_from_row(r: &Row<'_>) -> rusqlite::Result<Schedule> {
    let duration: Option<String> = r.get(17)?;
    let own = id(r, 0)?;
    let state: ScheduleState = coded(r, 10)?;
    Ok(Schedule {
        surface: coded(r, 1)?,
        kind: coded(r, 2)?,
        principal_id: id(r, 3)?,
        role_definition_id: id(r, 4)?,
        directory_scope_id: opt_id(r, 5)?,
        app_scope_id: opt_id(r, 6)?,
        member_type: coded(r, 7)?,
        assignment_type: opt_coded(r, 8)?,
        status: coded(r, 9)?,
        state,
        created_using: opt_ref(r, 11, &own)?,
        created_at: r.get::<_, Option<i64>>(12)?.map(from_millis),
        modified_at: r.get::<_, Option<i64>>(13)?.map(from_millis),
        schedule_info: ScheduleInfo {
            start: Some(from_millis(r.get(14)?)),
            expiration: Expiration {
                kind: coded(r, 15)?,
                end: r.get::<_, Option<i64>>(16)?.map(from_millis),
                duration: duration.as_deref().and_then(|d| IsoDuration::parse(d).ok()),
            },
        },
        end_at: r.get::<_, Option<i64>>(18)?.map(from_millis),
        activated_using: opt_id(r, 19)?,
        instance_id: r.get(20)?,
        // While live, the column holds the planned end (see `insert_schedule`).
        ended_at: match state {
            ScheduleState::Live => None,
            _ => r.get::<_, Option<i64>>(21)?.map(from_millis),
        },
        replaces: opt_id(r, 22)?,
        warn_14_at: r.get::<_, Option<i64>>(23)?.map(from_millis),
        warn_1_at: r.get::<_, Option<i64>>(24)?.map(from_millis),
        id: own,
    })
}

/// What the `ended_at` column holds: when the schedule ended, or, while it is live, when it is
/// planned to end (`end_at`), so that the row keeps its size when it ends. A row that grows in a
/// full page makes SQLite split the page: on the 42,000-request scenario, where nearly every
/// schedule is an activation that expires, the ended rows grew by nine bytes each (a null end
/// became a time) and left 1.9 MB of pages half empty. Every read of the column is of an ended
/// schedule (`state <> 1 /* live */`), or of every instant a schedule starts, ends or ended, among
/// which the planned ends are already.
fn ended_at_column(
    state: ScheduleState,
    ended_at: Option<Timestamp>,
    end_at: Option<Timestamp>,
) -> Option<i64> {
    match state {
        ScheduleState::Live => end_at.map(to_millis),
        _ => ended_at.map(to_millis),
    }
}

/// Schedules in the order `ORDER BY <time>, id` gave when every id was text: SQLite puts a GUID kept
/// as bytes (keys.rs) after every id kept as text (the ids of assignments made outside PIM), so
/// each statement's rows are put in (time, id) order here, the ids compared as text. The
/// statements that feed it have no `ORDER BY`: SQLite's sort (a sorter opened on every request)
/// would only be thrown away.
fn in_order(mut rows: Vec<Schedule>, time: fn(&Schedule) -> Option<Timestamp>) -> Vec<Schedule> {
    rows.sort_by(|a, b| time(a).cmp(&time(b)).then_with(|| a.id.cmp(&b.id)));
    rows
}

/// In (start, id) order: see [`in_order`].
fn by_start(rows: Vec<Schedule>) -> Vec<Schedule> {
    in_order(rows, |s| Some(s.start()))
}

/// A write of a schedule's row, as the caches of live schedules see it.
#[derive(Clone, Copy)]
pub(super) enum ScheduleWrite<'s> {
    /// A new row, `s`.
    Insert(&'s Schedule),
    /// The row of `s` moves to a new status and to this state (`set_schedule_state`).
    State(&'s Schedule, ScheduleState),
    /// An expiry notice of `s` is marked sent: a column no other target's rows hold, and no
    /// directory role or role holder depends on.
    Notice(&'s Schedule),
    /// Any other write, of any row or rows.
    Any,
}

/// `s` as a read of its row gives it back (`schedule_from_row`): its times to the millisecond,
/// its start always there, no end while it is live, its duration as its text reads. What the
/// remembered live assignments keep of a row written through them.
fn as_stored(s: &Schedule) -> Schedule {
    let ms = |t: Option<Timestamp>| t.map(|t| from_millis(to_millis(t)));
    let mut stored = s.clone();
    stored.created_at = ms(s.created_at);
    stored.modified_at = ms(s.modified_at);
    stored.schedule_info.start = ms(Some(s.start()));
    stored.schedule_info.expiration.end = ms(s.schedule_info.expiration.end);
    stored.schedule_info.expiration.duration =
        s.schedule_info.expiration.duration.and_then(|d| IsoDuration::parse(&d.to_string()).ok());
    stored.end_at = ms(s.end_at);
    stored.ended_at = match s.state {
        ScheduleState::Live => None,
        _ => ms(s.ended_at),
    };
    stored.warn_14_at = ms(s.warn_14_at);
    stored.warn_1_at = ms(s.warn_1_at);
    stored
}

impl Tx<'_> {
    pub fn insert_schedule(&self, s: &Schedule) -> rusqlite::Result<()> {
        self.tx
            .cached(sql!(
                "INSERT INTO schedules ({SCHEDULE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)"
            ))?
            .execute(params![
                Key::new(&s.id),
                C(s.surface),
                C(s.kind),
                Key::new(&s.principal_id),
                Key::new(&s.role_definition_id),
                key(s.directory_scope_id.as_deref()),
                key(s.app_scope_id.as_deref()),
                C(s.member_type),
                s.assignment_type.map(C),
                C(s.status),
                C(s.state),
                reference(s.created_using.as_deref(), &s.id),
                s.created_at.map(to_millis),
                s.modified_at.map(to_millis),
                to_millis(s.start()),
                C(s.schedule_info.expiration.kind),
                s.schedule_info.expiration.end.map(to_millis),
                s.schedule_info.expiration.duration.map(|d| d.to_string()),
                s.end_at.map(to_millis),
                key(s.activated_using.as_deref()),
                s.instance_id,
                ended_at_column(s.state, s.ended_at, s.end_at),
                key(s.replaces.as_deref()),
                s.warn_14_at.map(to_millis),
                s.warn_1_at.map(to_millis),
            ])?;
        // After the row is written: an entry the write is carried into must not get a row
        // that a failed statement never wrote.
        self.writing_schedule(ScheduleWrite::Insert(s));
        Ok(())
    }

    /// Removes a schedule (an import replacing it with a file's version).
    pub fn delete_schedule(&self, id: &str) -> rusqlite::Result<()> {
        self.writing_schedule(ScheduleWrite::Any);
        self.tx.cached("DELETE FROM schedules WHERE id = ?1")?.execute([Key::new(id)])?;
        Ok(())
    }

    /// Moves a schedule along its life: status, state, and when it ended.
    pub fn set_schedule_state(
        &self,
        s: &Schedule,
        status: Status,
        state: ScheduleState,
        ended_at: Option<Timestamp>,
        modified_at: Option<Timestamp>,
    ) -> rusqlite::Result<()> {
        self.tx
            .cached(
                "UPDATE schedules SET status = ?2, state = ?3, ended_at = iif(?3 = 1 /* live */, end_at, ?4),
                 modified_at = coalesce(?5, modified_at),
                 warn_14_at = CASE WHEN ?3 = 1 /* live */ THEN warn_14_at END,
                 warn_1_at = CASE WHEN ?3 = 1 /* live */ THEN warn_1_at END
             WHERE id = ?1",
            )?
            .execute(params![
                Key::new(&s.id),
                C(status),
                C(state),
                ended_at.map(to_millis),
                modified_at.map(to_millis)
            ])?;
        // After the row is written, as `insert_schedule`.
        self.writing_schedule(ScheduleWrite::State(s, state));
        Ok(())
    }

    pub fn schedule(&self, id: &str) -> rusqlite::Result<Option<Schedule>> {
        self.tx
            .cached(sql!("SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE id = ?1"))?
            .query_row([Key::new(id)], schedule_from_row)
            .optional()
    }

    /// The schedule whose instance has this id and is in effect.
    pub fn active_schedule_by_instance(&self, instance_id: &str) -> rusqlite::Result<Option<Schedule>> {
        self.tx
            .cached(sql!(
                "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE instance_id = ?1 AND state = 1 /* live */ AND status = 0 /* Provisioned */"
            ))?
            .query_row([instance_id], schedule_from_row)
            .optional()
    }

    /// Schedules of one principal for one role (any scope), in the given state. Live
    /// eligibilities are remembered (`cache.rs`): every activation reads the one it is made under.
    pub fn schedules_of(
        &self,
        kind: RequestKind,
        principal_id: &str,
        role_id: &str,
        state: ScheduleState,
    ) -> rusqlite::Result<Vec<Schedule>> {
        let read = || -> rusqlite::Result<Vec<Schedule>> {
            let mut stmt = self.tx.cached(sql!(
                "SELECT {SCHEDULE_COLUMNS} FROM schedules
                 WHERE principal_id = ?1 AND role_definition_id = ?2 AND kind = ?3 AND state = ?4"
            ))?;
            let rows = stmt.query_map(
                params![Key::new(principal_id), Key::new(role_id), C(kind), C(state)],
                schedule_from_row,
            )?;
            rows.collect::<rusqlite::Result<_>>().map(by_start)
        };
        let remembered: fn(&mut Caches) -> &mut HashMap<String, Rc<[Schedule]>> = match (kind, state) {
            (RequestKind::Eligibility, ScheduleState::Live) => |c| &mut c.eligibilities,
            (RequestKind::Assignment, ScheduleState::Live) => |c| &mut c.assignments,
            _ => return read(),
        };
        let key = joined_key(&[principal_id, role_id]);
        let live = self.remembered(remembered, &key, || read().map(Rc::from))?;
        Ok(live.to_vec())
    }

    /// This transaction makes (or, for a carried write, has just made) `write`: the remembered
    /// eligibilities go if it may be of one, its principal's remembered directory roles if it
    /// may be of a directory schedule, and its role's remembered holders if it may be of an
    /// assignment. The remembered live assignments of its target take the write in (an insert,
    /// or a schedule leaving its live state), or go (anything else).
    pub(super) fn writing_schedule(&self, write: ScheduleWrite<'_>) {
        let s = match write {
            ScheduleWrite::Insert(s) | ScheduleWrite::State(s, _) => Some(s),
            ScheduleWrite::Notice(s) => {
                // Only its target's entry holds the row: an entry holds the rows whose ids are
                // the ids it was asked with, byte for byte (the store compares ids exactly, and
                // an id in upper case is no GUID to it), so the row's own ids name it. Forgetting
                // every entry here, as other writes do, made each activation of the year bench's
                // later days read its eligibility again: the clock marks 5,000 notices a day.
                let target = joined_key(&[&s.principal_id, &s.role_definition_id]);
                self.guard.caches.borrow_mut().forget_keyed(match s.kind {
                    RequestKind::Eligibility => Keyed::Eligibilities(Some(&target)),
                    RequestKind::Assignment => Keyed::Assignments(Some(&target)),
                });
                return;
            }
            ScheduleWrite::Any => None,
        };
        if s.is_none_or(|s| s.kind == RequestKind::Eligibility) {
            self.forget_cached(Cached::Eligibilities);
        }
        let mut caches = self.guard.caches.borrow_mut();
        let Some(s) = s else {
            caches.forget_keyed(Keyed::Assignments(None));
            caches.forget_keyed(Keyed::DirectoryRoles(None));
            caches.forget_keyed(Keyed::RoleHolders(None));
            return;
        };
        if s.surface == Surface::Directory {
            caches.forget_keyed(Keyed::DirectoryRoles(Some(&lower_case(&s.principal_id))));
        }
        if s.kind == RequestKind::Assignment {
            caches.forget_keyed(Keyed::RoleHolders(Some(&lower_case(&s.role_definition_id))));
            let target = joined_key(&[&s.principal_id, &s.role_definition_id]);
            // The row as it will be, while it is live; `None` once it is not.
            let live = match write {
                ScheduleWrite::Insert(s) => (s.state == ScheduleState::Live).then(|| as_stored(s)),
                ScheduleWrite::State(_, ScheduleState::Live) => {
                    // A change within the live state (a future schedule starting): rare, and
                    // its columns are SQL's to work out, so the entry is read again.
                    caches.forget_keyed(Keyed::Assignments(Some(&target)));
                    return;
                }
                _ => None,
            };
            caches.carry_assignment(&target, |rows| {
                let kept = rows.iter().filter(|row| row.id != s.id).cloned();
                Rc::from(by_start(kept.chain(live).collect()))
            });
        }
    }

    /// The directory roles `principal_id` holds through live schedules, as (kind, role id) in
    /// (start, id) order: what a group's members come to hold, without reading whole schedules
    /// (a hook's context and a membership's trace ask it on every request for a group).
    /// Remembered until a directory schedule of the principal is written (`cache.rs`).
    pub fn live_directory_roles_of(
        &self,
        principal_id: &str,
    ) -> rusqlite::Result<Vec<(RequestKind, String)>> {
        let principal = lower_case(principal_id);
        let read = || -> rusqlite::Result<Rc<[(RequestKind, String)]>> {
            let mut stmt = self.tx.cached(
                "SELECT start_at, id, kind, role_definition_id FROM schedules
                 WHERE principal_id = ?1 AND state = 1 /* live */ AND surface = 0 /* directory */",
            )?;
            let mut rows: Vec<(i64, String, RequestKind, String)> = stmt
                .query_map(params![Key::new(&principal)], |r| {
                    Ok((r.get(0)?, id(r, 1)?, coded(r, 2)?, id(r, 3)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            // As `in_order`: the ids compared as text.
            rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            Ok(rows.into_iter().map(|(_, _, kind, role)| (kind, role)).collect())
        };
        Ok(self.remembered(|c| &mut c.directory_roles, &principal, read)?.to_vec())
    }

    /// Live schedules of a kind, optionally narrowed to a principal or role, in start order.
    pub fn live_schedules(
        &self,
        kind: RequestKind,
        principal_id: Option<&str>,
        role_id: Option<&str>,
    ) -> rusqlite::Result<Vec<Schedule>> {
        // One statement per filter combination: `(?2 IS NULL OR principal_id = ?2)` would make
        // SQLite scan every live schedule instead of using `schedules_by_target`.
        let filter = match (principal_id, role_id) {
            (Some(_), Some(_)) => "AND principal_id = ?2 AND role_definition_id = ?3",
            (Some(_), None) => "AND principal_id = ?2 AND ?3 IS NULL",
            (None, Some(_)) => "AND ?2 IS NULL AND role_definition_id = ?3",
            (None, None) => "AND ?2 IS NULL AND ?3 IS NULL",
        };
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules
             WHERE kind = ?1 AND state = 1 /* live */ {filter}"
        ))?;
        stmt.query_map(
            params![
                C(kind),
                key(principal_id.map(str::to_ascii_lowercase).as_deref()),
                key(role_id.map(str::to_ascii_lowercase).as_deref())
            ],
            schedule_from_row,
        )?
        .collect::<rusqlite::Result<_>>()
        .map(by_start)
    }

    /// Schedules of either kind and any state whose window covers `at`: started by then, neither
    /// ended (removed, expired, replaced) nor due to end by then. A future `at` finds the live
    /// schedules already made; a past one the ended schedules the store still keeps. Narrowed to a
    /// role, a principal, or both, in start order.
    pub fn schedules_covering(
        &self,
        at: Timestamp,
        role_id: Option<&str>,
        principal_id: Option<&str>,
    ) -> rusqlite::Result<Vec<Schedule>> {
        // One statement per filter combination, so that SQLite uses an index (see `live_schedules`).
        // A role alone is found live through `schedules_live_by_role` and ended after `at` through
        // `schedules_ended`: the two halves of `state = 1 /* live */ OR ended_at > ?1`.
        let sql = match (role_id, principal_id) {
            (Some(_), None) => format!(
                "SELECT {SCHEDULE_COLUMNS} FROM schedules
                 WHERE role_definition_id = ?2 AND ?3 IS NULL AND start_at <= ?1 AND (end_at IS NULL OR end_at > ?1)
                   AND state = 1 /* live */
                 UNION ALL
                 SELECT {SCHEDULE_COLUMNS} FROM schedules
                 WHERE role_definition_id = ?2 AND ?3 IS NULL AND start_at <= ?1 AND (end_at IS NULL OR end_at > ?1)
                   AND state <> 1 /* live */ AND ended_at > ?1"
            ),
            (role, principal) => {
                let filter = match (role, principal) {
                    (Some(_), Some(_)) => "role_definition_id = ?2 AND principal_id = ?3",
                    (None, Some(_)) => "?2 IS NULL AND principal_id = ?3",
                    _ => "?2 IS NULL AND ?3 IS NULL",
                };
                format!(
                    "SELECT {SCHEDULE_COLUMNS} FROM schedules
                     WHERE {filter} AND start_at <= ?1 AND (end_at IS NULL OR end_at > ?1)
                       AND (state = 1 /* live */ OR ended_at > ?1)"
                )
            }
        };
        let mut stmt = self.tx.prepare_cached(&sql)?;
        stmt.query_map(
            params![
                to_millis(at),
                key(role_id.map(str::to_ascii_lowercase).as_deref()),
                key(principal_id.map(str::to_ascii_lowercase).as_deref())
            ],
            schedule_from_row,
        )?
        .collect::<rusqlite::Result<_>>()
        .map(by_start)
    }

    /// Every schedule of any state, in start order.
    pub fn all_schedules(&self) -> rusqlite::Result<Vec<Schedule>> {
        let mut stmt = self.tx.cached(sql!("SELECT {SCHEDULE_COLUMNS} FROM schedules"))?;
        stmt.query_map([], schedule_from_row)?.collect::<rusqlite::Result<_>>().map(by_start)
    }

    /// Schedules of either kind and any state whose window overlaps `[from, to)`: started before
    /// `to`, neither ended nor due to end by `from`. The history reports (activity, timeline)
    /// read a stretch of time with one statement, in start order.
    pub fn schedules_overlapping(&self, from: Timestamp, to: Timestamp) -> rusqlite::Result<Vec<Schedule>> {
        let mut stmt = self.tx.cached(sql!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules
             WHERE start_at < ?2 AND (end_at IS NULL OR end_at > ?1)
               AND (state = 1 /* live */ OR ended_at > ?1)"
        ))?;
        stmt.query_map(params![to_millis(from), to_millis(to)], schedule_from_row)?
            .collect::<rusqlite::Result<_>>()
            .map(by_start)
    }

    /// Active (in-effect) assignment schedules for a role at a scope, across principals.
    pub fn active_assignments_of_role(&self, role_id: &str, scope: &str) -> rusqlite::Result<Vec<Schedule>> {
        let mut stmt = self.tx.cached(sql!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules
             WHERE role_definition_id = ?1 AND kind = 0 /* assignment */ AND state = 1 /* live */ AND status = 0 /* Provisioned */
               AND coalesce(directory_scope_id, app_scope_id) = ?2"
        ))?;
        stmt.query_map(params![Key::new(role_id), Key::new(scope)], schedule_from_row)?
            .collect::<rusqlite::Result<_>>()
            .map(by_start)
    }

    /// Who holds a role at a scope now: the principals of its in-effect assignment schedules, in
    /// the order of `active_assignments_of_role`. Every administrator's write asks, and every
    /// mail to administrators asks for two roles, so it reads one column rather than whole
    /// schedules, and the answer is remembered until an assignment of the role is written
    /// (`cache.rs`).
    pub fn active_principals_of_role(&self, role_id: &str, scope: &str) -> rusqlite::Result<Rc<[String]>> {
        let role = lower_case(role_id);
        // The role as asked and the scope: a role asked in another case is another question
        // (the statement compares ids exactly), dropped with the same role's entries.
        let asked = joined_key(&[role_id, scope]);
        if let Some(found) = self.caches()?.role_holders.get(&*role).and_then(|at| at.get(&asked)) {
            return Ok(found.clone());
        }
        let mut stmt = self.tx.cached(
            "SELECT principal_id, start_at, id FROM schedules
             WHERE role_definition_id = ?1 AND kind = 0 /* assignment */ AND state = 1 /* live */ AND status = 0 /* Provisioned */
               AND coalesce(directory_scope_id, app_scope_id) = ?2",
        )?;
        let mut rows: Vec<(String, i64, String)> = stmt
            .query_map(params![Key::new(role_id), Key::new(scope)], |r| {
                Ok((id(r, 0)?, r.get(1)?, id(r, 2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        rows.sort_by(|a, b| (a.1, &a.2).cmp(&(b.1, &b.2)));
        let found: Rc<[String]> = rows.into_iter().map(|(principal, _, _)| principal).collect();
        self.caches()?.role_holders.entry(role.into_owned()).or_default().insert(asked, found.clone());
        Ok(found)
    }

    /// When the next live schedule starts or ends, whichever is first.
    pub fn next_schedule_event(&self) -> rusqlite::Result<Option<Timestamp>> {
        let start: Option<i64> = self
            .tx
            .cached(
                "SELECT min(start_at) FROM schedules WHERE state = 1 /* live */ AND status = 1 /* Granted */",
            )?
            .query_row([], |r| r.get(0))?;
        let end: Option<i64> = self
            .tx
            .cached("SELECT min(end_at) FROM schedules WHERE state = 1 /* live */")?
            .query_row([], |r| r.get(0))?;
        Ok(match (start, end) {
            (Some(a), Some(b)) => Some(from_millis(a.min(b))),
            (a, b) => a.or(b).map(from_millis),
        })
    }

    /// Every instant in `(from, until]` at which some schedule starts, ends or ended early: the
    /// only instants at which who holds what can change (a privilege diff samples exactly these).
    pub fn schedule_boundaries(&self, from: Timestamp, until: Timestamp) -> rusqlite::Result<Vec<Timestamp>> {
        let mut stmt = self.tx.cached(
            "SELECT t FROM (SELECT start_at AS t FROM schedules UNION SELECT end_at FROM schedules
                            UNION SELECT ended_at FROM schedules)
             WHERE t > ?1 AND t <= ?2 ORDER BY t",
        )?;
        stmt.query_map(params![to_millis(from), to_millis(until)], |r| r.get::<_, i64>(0).map(from_millis))?
            .collect()
    }

    /// Live schedules whose end is at or before `t`.
    pub fn schedules_ending_by(&self, t: Timestamp) -> rusqlite::Result<Vec<Schedule>> {
        let mut stmt = self.tx.cached(sql!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE state = 1 /* live */ AND end_at <= ?1"
        ))?;
        let rows = stmt.query_map([to_millis(t)], schedule_from_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(in_order(rows, |s| s.end_at))
    }

    /// Live, not-yet-started schedules whose start is at or before `t`.
    pub fn schedules_starting_by(&self, t: Timestamp) -> rusqlite::Result<Vec<Schedule>> {
        let mut stmt = self.tx.cached(sql!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE state = 1 /* live */ AND status = 1 /* Granted */ AND start_at <= ?1"
        ))?;
        stmt.query_map([to_millis(t)], schedule_from_row)?.collect::<rusqlite::Result<_>>().map(by_start)
    }

    /// Forgets an ended schedule with this id, so a new one can take the id (a role assignment
    /// made outside PIM again gets the same id it had). Returns whether one was there.
    pub fn forget_ended_schedule(&self, id: &str) -> rusqlite::Result<bool> {
        Ok(self
            .tx
            .cached("DELETE FROM schedules WHERE id = ?1 AND state <> 1 /* live */")?
            .execute([Key::new(id)])?
            > 0)
    }

    /// Forgets ended schedules older than `before` (past the renewal window).
    pub fn purge_schedules(&self, before: Timestamp) -> rusqlite::Result<usize> {
        self.tx
            .cached("DELETE FROM schedules WHERE state <> 1 /* live */ AND ended_at <= ?1")?
            .execute([to_millis(before)])
    }

    pub fn next_schedule_purge(&self) -> rusqlite::Result<Option<Timestamp>> {
        let t: Option<i64> = self
            .tx
            .cached("SELECT min(ended_at) FROM schedules WHERE state <> 1 /* live */")?
            .query_row([], |r| r.get(0))?;
        Ok(t.map(from_millis))
    }
}

impl Tx<'_> {
    /// Removes a schedule's end (lock-out protection of the last Global Administrator).
    pub fn keep_schedule_forever(&self, id: &str) -> rusqlite::Result<()> {
        self.writing_schedule(ScheduleWrite::Any);
        self.tx
            .cached("UPDATE schedules SET end_at = NULL, ended_at = NULL, expiration_type = 2 /* noExpiration */, expiration_end = NULL, expiration_duration = NULL, warn_14_at = NULL, warn_1_at = NULL WHERE id = ?1")?
            .execute([Key::new(id)])?;
        Ok(())
    }
}

impl Tx<'_> {
    /// When the next expiry notice (14 days or 1 day before the end) is due.
    pub fn next_expiry_warning(&self) -> rusqlite::Result<Option<Timestamp>> {
        let a: Option<i64> = self
            .tx
            .cached("SELECT min(warn_14_at) FROM schedules WHERE warn_14_at IS NOT NULL")?
            .query_row([], |r| r.get(0))?;
        let b: Option<i64> = self
            .tx
            .cached("SELECT min(warn_1_at) FROM schedules WHERE warn_1_at IS NOT NULL")?
            .query_row([], |r| r.get(0))?;
        Ok([a, b].into_iter().flatten().min().map(from_millis))
    }

    /// Live schedules with an expiry notice due by `t`: `(schedule, days before the end)`.
    pub fn expiry_warnings_due_by(&self, t: Timestamp) -> rusqlite::Result<Vec<(Schedule, i64)>> {
        let mut out = Vec::new();
        for (sql, days) in [
            (sql!("SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE warn_14_at <= ?1"), 14),
            (sql!("SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE warn_1_at <= ?1"), 1),
        ] {
            let mut stmt = self.tx.cached(sql)?;
            let rows = stmt.query_map([to_millis(t)], schedule_from_row)?.collect::<rusqlite::Result<_>>()?;
            let due = in_order(
                rows,
                if days == 14 { |s: &Schedule| s.warn_14_at } else { |s: &Schedule| s.warn_1_at },
            );
            out.extend(due.into_iter().map(|s| (s, days)));
        }
        Ok(out)
    }

    /// Marks `s`'s expiry notice as sent (or no longer due).
    pub fn clear_expiry_warning(&self, s: &Schedule, days: i64) -> rusqlite::Result<()> {
        let sql = if days == 14 {
            "UPDATE schedules SET warn_14_at = NULL WHERE id = ?1"
        } else {
            "UPDATE schedules SET warn_1_at = NULL WHERE id = ?1"
        };
        self.writing_schedule(ScheduleWrite::Notice(s));
        self.tx.cached(sql)?.execute([Key::new(&s.id)])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
