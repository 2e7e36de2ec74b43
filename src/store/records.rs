//! Rows of `requests` and `audit`.

use crate::model::audit::AuditRecord;
use rusqlite::{OptionalExtension, Row, params};

use super::Tx;
use super::cache::{Caches, Keyed, TargetWord, joined_key, lower_case};
use super::codes::{AuditResult, C, Coded, coded, opt_coded};
use super::keys::{Key, guid_bytes, id, key, opt_id, opt_ref, reference, spell};
use super::texts::{Dictionary, Unpack, damaged, push_varint};
use crate::model::audit::AuditTarget;
use crate::model::time::{from_millis, to_millis};
use crate::model::{
    Expiration, ExpirationType, Hint, IsoDuration, RequestKind, ScheduleInfo, ScheduleRequest, Status,
    TicketInfo, Timestamp, TraceStep,
};

const REQUEST_COLUMNS: &str = "id, surface, kind, action, status, principal_id, role_definition_id, \
     directory_scope_id, app_scope_id, justification, has_schedule_info, start_after, expiration_type, \
     expiration_end, expiration_duration, ticket_number, ticket_system, target_schedule_id, approval_id, \
     created_at, completed_after, created_by, activated_using, canceled_at, trace, ticket_approver_id, \
     ticket_submitter_id, created_by_app";

/// The statement of `pending_requests_for`. Its status condition is written as
/// `requests_pending`'s, so SQLite may use that partial index: `status IN (...)` made it build a
/// temporary b-tree for the list on every request, and a bound status cannot prove the index's
/// condition.
static PENDING: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {REQUEST_COLUMNS} FROM requests
         WHERE principal_id = ?1 AND role_definition_id = ?2 AND kind = ?3
           AND (status = 3 /* PendingAdminDecision */ OR status = 2 /* PendingApproval */)
           AND coalesce(directory_scope_id, app_scope_id) = ?4"
    )
});

/// The key `no_pending` drops entries by (`cache.rs`): the same for the writes that drop them and
/// the reads that remember them, whatever case the ids are in.
fn waiting_target(principal_id: &str, role_id: &str) -> String {
    joined_key(&[&lower_case(principal_id), &lower_case(role_id)])
}

impl Tx<'_> {
    fn request_from_row(&self, r: &Row<'_>) -> rusqlite::Result<ScheduleRequest> {
        let created_at: i64 = r.get(19)?;
        // Kept as the milliseconds after the request's creation (schema version 12).
        let after_creation = |i: usize| -> rusqlite::Result<Option<Timestamp>> {
            Ok(r.get::<_, Option<i64>>(i)?.map(|offset| from_millis(created_at.saturating_add(offset))))
        };
        let has_schedule: bool = r.get(10)?;
        let schedule_info = if has_schedule {
            let duration: Option<String> = r.get(14)?;
            Some(ScheduleInfo {
                start: after_creation(11)?,
                expiration: Expiration {
                    kind: opt_coded(r, 12)?.unwrap_or(ExpirationType::NotSpecified),
                    end: r.get::<_, Option<i64>>(13)?.map(from_millis),
                    duration: duration.as_deref().and_then(|d| IsoDuration::parse(d).ok()),
                },
            })
        } else {
            None
        };
        let trace = self.unpack_trace(r.get_ref(24)?.as_blob_or_null()?.unwrap_or_default())?;
        let (own, principal) = (id(r, 0)?, id(r, 5)?);
        Ok(ScheduleRequest {
            surface: coded(r, 1)?,
            kind: coded(r, 2)?,
            action: coded(r, 3)?,
            status: coded(r, 4)?,
            principal_id: principal.clone(),
            role_definition_id: id(r, 6)?,
            directory_scope_id: opt_id(r, 7)?,
            app_scope_id: opt_id(r, 8)?,
            justification: self.word_opt(Dictionary::Texts, r.get(9)?)?,
            schedule_info,
            ticket_info: TicketInfo {
                number: r.get(15)?,
                system: r.get(16)?,
                approver_identity_id: r.get(25)?,
                submitter_identity_id: r.get(26)?,
            },
            is_validation_only: false,
            target_schedule_id: opt_ref(r, 17, &own)?,
            approval_id: opt_id(r, 18)?,
            created_at: from_millis(created_at),
            completed_at: after_creation(20)?,
            created_by: opt_ref(r, 21, &principal)?.unwrap_or_default(),
            created_by_app: r.get(27)?,
            activated_using: opt_id(r, 22)?,
            canceled_at: r.get::<_, Option<i64>>(23)?.map(from_millis),
            trace,
            id: own,
        })
    }

    /// A decision trace packed (schema version 10): per step the numbers in `texts` of its check,
    /// then a flag byte (1: passed, 2: a rule name follows, 4: a fix follows), then the rule's,
    /// the value seen, the limit, and the fix as its JSON. Checks, limits and most values recur
    /// from request to request, so a step takes a few bytes.
    pub(super) fn pack_trace(&self, trace: &[TraceStep]) -> rusqlite::Result<Vec<u8>> {
        let mut out = Vec::new();
        for step in trace {
            let flags = i64::from(step.passed)
                | i64::from(step.rule.is_some()) << 1
                | i64::from(step.fix.is_some()) << 2;
            push_varint(&mut out, self.word_id(Dictionary::Texts, &step.check)?);
            push_varint(&mut out, flags);
            if let Some(rule) = &step.rule {
                push_varint(&mut out, self.word_id(Dictionary::Texts, rule)?);
            }
            push_varint(&mut out, self.word_id(Dictionary::Texts, &step.seen)?);
            push_varint(&mut out, self.word_id(Dictionary::Texts, &step.limit)?);
            if let Some(fix) = &step.fix {
                let json = serde_json::to_string(fix).expect("a hint serialises");
                push_varint(&mut out, self.word_id(Dictionary::Texts, &json)?);
            }
        }
        Ok(out)
    }

    /// The steps of a packed trace. A damaged trace reads as none, as a damaged JSON trace did.
    fn unpack_trace(&self, bytes: &[u8]) -> rusqlite::Result<Vec<TraceStep>> {
        let mut reader = Unpack(bytes);
        let mut steps = Vec::new();
        let word = |id: i64| self.word(Dictionary::Texts, id).map(|t| t.to_string());
        while !reader.is_empty() {
            let (Some(check), Some(flags)) = (reader.next_id(), reader.next_id()) else {
                return Ok(Vec::new());
            };
            let rule = if flags & 2 != 0 {
                let Some(rule) = reader.next_id() else { return Ok(Vec::new()) };
                Some(word(rule)?)
            } else {
                None
            };
            let (Some(seen), Some(limit)) = (reader.next_id(), reader.next_id()) else {
                return Ok(Vec::new());
            };
            let fix = if flags & 4 != 0 {
                let Some(fix) = reader.next_id() else { return Ok(Vec::new()) };
                match serde_json::from_str::<Hint>(&self.word(Dictionary::Texts, fix)?) {
                    Ok(hint) => Some(hint),
                    Err(_) => return Ok(Vec::new()),
                }
            } else {
                None
            };
            steps.push(TraceStep {
                check: word(check)?,
                rule,
                passed: flags & 1 != 0,
                seen: word(seen)?,
                limit: word(limit)?,
                fix,
            });
        }
        Ok(steps)
    }
}

/// Filters the request listing can push into SQL; everything else is OData over the JSON.
#[derive(Debug, Default, Clone)]
pub struct RequestQuery<'a> {
    pub kind: Option<RequestKind>,
    pub principal_id: Option<&'a str>,
    pub role_definition_id: Option<&'a str>,
    pub status: Option<Status>,
    pub created_by: Option<&'a str>,
}

impl Tx<'_> {
    pub fn insert_request(&self, q: &ScheduleRequest) -> rusqlite::Result<()> {
        self.writing_request(q);
        let s = q.schedule_info.as_ref();
        let created_at = to_millis(q.created_at);
        self.tx
            .cached(sql!(
                "INSERT INTO requests ({REQUEST_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)"
            ))?
            .execute(params![
                Key::new(&q.id),
                C(q.surface),
                C(q.kind),
                C(q.action),
                C(q.status),
                Key::new(&q.principal_id),
                Key::new(&q.role_definition_id),
                key(q.directory_scope_id.as_deref()),
                key(q.app_scope_id.as_deref()),
                q.justification.as_deref().map(|j| self.word_id(Dictionary::Texts, j)).transpose()?,
                s.is_some(),
                s.and_then(|s| s.start).map(|t| to_millis(t) - created_at),
                s.map(|s| C(s.expiration.kind)),
                s.and_then(|s| s.expiration.end).map(to_millis),
                s.and_then(|s| s.expiration.duration).map(|d| d.to_string()),
                q.ticket_info.number,
                q.ticket_info.system,
                reference(q.target_schedule_id.as_deref(), &q.id),
                key(q.approval_id.as_deref()),
                created_at,
                q.completed_at.map(|t| to_millis(t) - created_at),
                reference(Some(&q.created_by), &q.principal_id),
                key(q.activated_using.as_deref()),
                q.canceled_at.map(to_millis),
                self.pack_trace(&q.trace)?,
                q.ticket_info.approver_identity_id,
                q.ticket_info.submitter_identity_id,
                q.created_by_app,
            ])?;
        Ok(())
    }

    /// Rewrites a request's mutable fields (status, times, schedule, trace).
    pub fn update_request(&self, q: &ScheduleRequest) -> rusqlite::Result<()> {
        self.writing_request(q);
        let s = q.schedule_info.as_ref();
        let created_at = to_millis(q.created_at);
        self.tx
            .cached(
                "UPDATE requests SET status = ?2, completed_after = ?3, canceled_at = ?4, target_schedule_id = ?5,
                 approval_id = ?6, has_schedule_info = ?7, start_after = ?8, trace = ?9
                 WHERE id = ?1",
            )?
            .execute(params![
                Key::new(&q.id),
                C(q.status),
                q.completed_at.map(|t| to_millis(t) - created_at),
                q.canceled_at.map(to_millis),
                reference(q.target_schedule_id.as_deref(), &q.id),
                key(q.approval_id.as_deref()),
                s.is_some(),
                s.and_then(|s| s.start).map(|t| to_millis(t) - created_at),
                self.pack_trace(&q.trace)?,
            ])?;
        Ok(())
    }

    /// Records the name an ARM client PUT the request under.
    pub fn set_request_client_name(&self, id: &str, name: &str) -> rusqlite::Result<()> {
        self.tx
            .cached("UPDATE requests SET client_name = ?2 WHERE id = ?1")?
            .execute(params![Key::new(id), name])?;
        Ok(())
    }

    /// The id of the request an ARM client PUT under `name`, and the client's name of a request.
    pub fn request_id_by_client_name(&self, name: &str) -> rusqlite::Result<Option<String>> {
        self.tx
            .cached("SELECT id FROM requests WHERE client_name = ?1 COLLATE NOCASE")?
            .query_row([name], |r| id(r, 0))
            .optional()
    }

    pub fn request_client_name(&self, id: &str) -> rusqlite::Result<Option<String>> {
        Ok(self
            .tx
            .cached("SELECT client_name FROM requests WHERE id = ?1")?
            .query_row([Key::new(id)], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }

    pub fn request(&self, id: &str) -> rusqlite::Result<Option<ScheduleRequest>> {
        self.tx
            .cached(sql!("SELECT {REQUEST_COLUMNS} FROM requests WHERE id = ?1"))?
            .query_row([Key::new(&id.to_ascii_lowercase())], |r| self.request_from_row(r))
            .optional()
    }

    /// Ids of requests beginning with `prefix` (case-insensitive), at most `limit`, in id order.
    /// Every id is read, as SQLite's prefix test read every key before ids were kept as bytes.
    pub fn request_ids_starting_with(&self, prefix: &str, limit: usize) -> rusqlite::Result<Vec<String>> {
        let prefix = prefix.to_ascii_lowercase();
        let mut stmt = self.tx.cached("SELECT id FROM requests")?;
        let mut ids = Vec::new();
        for found in stmt.query_map([], |r| id(r, 0))? {
            let found = found?;
            if found.starts_with(&prefix) {
                ids.push(found);
            }
        }
        ids.sort();
        ids.truncate(limit);
        Ok(ids)
    }

    /// The id of the newest request.
    pub fn newest_request_id(&self) -> rusqlite::Result<Option<String>> {
        self.tx
            .cached("SELECT id FROM requests ORDER BY created_at DESC, rowid DESC LIMIT 1")?
            .query_row([], |r| id(r, 0))
            .optional()
    }

    /// Requests in creation order, narrowed by whatever the query pins down.
    pub fn requests(&self, q: &RequestQuery<'_>) -> rusqlite::Result<Vec<ScheduleRequest>> {
        let mut stmt = self.tx.cached(sql!(
            "SELECT {REQUEST_COLUMNS} FROM requests
             WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR principal_id = ?2)
               AND (?3 IS NULL OR role_definition_id = ?3) AND (?4 IS NULL OR status = ?4)
               AND (?5 IS NULL OR iif(created_by = x'', principal_id, created_by) = ?5)
             ORDER BY created_at, rowid"
        ))?;
        stmt.query_map(
            params![
                q.kind.map(C),
                key(q.principal_id.map(str::to_ascii_lowercase).as_deref()),
                key(q.role_definition_id.map(str::to_ascii_lowercase).as_deref()),
                q.status.map(C),
                key(q.created_by.map(str::to_ascii_lowercase).as_deref())
            ],
            |r| self.request_from_row(r),
        )?
        .collect()
    }

    /// This transaction is about to write `q`: if it waits for a decision, its target is no longer
    /// known to have no such request.
    fn writing_request(&self, q: &ScheduleRequest) {
        if q.status.is_pending() {
            let target = waiting_target(&q.principal_id, &q.role_definition_id);
            self.guard.caches.borrow_mut().forget_keyed(Keyed::NoPending(Some(&target)));
        }
    }

    /// Requests for the same target still waiting for a decision (remembered when there are
    /// none: `cache.rs`).
    pub fn pending_requests_for(
        &self,
        kind: RequestKind,
        principal_id: &str,
        role_id: &str,
        scope: &str,
    ) -> rusqlite::Result<Vec<ScheduleRequest>> {
        let target = waiting_target(principal_id, role_id);
        let asked = joined_key(&[kind.as_str(), principal_id, role_id, scope]);
        let known_none =
            |c: &Caches| c.no_pending.get(&target).is_some_and(|asked_before| asked_before.contains(&asked));
        if known_none(&*self.caches()?) {
            return Ok(Vec::new());
        }
        let mut stmt = self.tx.cached(PENDING.as_str())?;
        let mut pending = stmt
            .query_map(params![Key::new(principal_id), Key::new(role_id), C(kind), Key::new(scope)], |r| {
                self.request_from_row(r)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        // The statuses in alphabetical order, each in the index's order, as the rows came when an
        // index held every status (`PendingApprovalProvisioning`, asked for too then, is no status
        // a request is ever stored with).
        pending.sort_by_key(|q| q.status != Status::PendingAdminDecision);
        if pending.is_empty() {
            self.caches()?.no_pending.entry(target).or_default().insert(asked);
        }
        Ok(pending)
    }

    /// Deletes requests the service would have purged by `now` (see the fidelity settings).
    /// Two statements rather than one `OR`, so each can use its index.
    pub fn purge_requests(
        &self,
        created_before: Timestamp,
        canceled_before: Timestamp,
    ) -> rusqlite::Result<Purged> {
        let mut purged = Purged::default();
        for sql in [
            "DELETE FROM requests WHERE created_at <= ?1 RETURNING id, approval_id",
            "DELETE FROM requests WHERE canceled_at <= ?1 RETURNING id, approval_id",
        ] {
            let mut stmt = self.tx.cached(sql)?;
            let at = if sql.contains("created_at") { created_before } else { canceled_before };
            let mut rows = stmt.query([to_millis(at)])?;
            while let Some(row) = rows.next()? {
                purged.requests.push(id(row, 0)?);
                purged.approvals.extend(opt_id(row, 1)?);
            }
        }
        purged.requests.sort();
        Ok(purged)
    }

    /// The earliest time a request becomes due for purging, given the two retention periods.
    pub fn next_request_purge(
        &self,
        retention_ms: i64,
        canceled_retention_ms: i64,
    ) -> rusqlite::Result<Option<Timestamp>> {
        let created: Option<i64> =
            self.tx.cached("SELECT min(created_at) FROM requests")?.query_row([], |r| r.get(0))?;
        let canceled: Option<i64> = self
            .tx
            // The condition lets SQLite use `requests_by_canceled`: it does not infer it from min().
            .cached("SELECT min(canceled_at) FROM requests WHERE canceled_at IS NOT NULL")?
            .query_row([], |r| r.get(0))?;
        let due = [created.map(|t| t + retention_ms), canceled.map(|t| t + canceled_retention_ms)];
        Ok(due.into_iter().flatten().min().map(from_millis))
    }
}

/// The requests a purge deleted, and the approvals among them, whose steps go with them.
#[derive(Debug, Default)]
pub struct Purged {
    /// Their ids, in order.
    pub requests: Vec<String>,
    /// The ids of their approvals (the requests that asked for one: a few in a hundred).
    pub approvals: Vec<String>,
}

/// In an audit row's packed targets, the number that no word has (a dictionary counts from 1):
/// the target follows inline, as its type's word and its id's 16 bytes (schema version 13).
const INLINE_TARGET: i64 = 0;

/// The id's bytes of a target kept inline rather than as a dictionary word: one with a GUID for
/// its id and no display name, which is what a request or a schedule is in the audit trail. Such
/// a target is most often named once: the purge of a day's requests names each of them, and as
/// words they added a word per request (2.2 million in the year bench's year, 440 MB with their
/// index, written at random places in it).
fn inline_guid(t: &AuditTarget) -> Option<[u8; 16]> {
    if t.display_name.is_some() {
        return None;
    }
    guid_bytes(&t.id)
}

/// An audit row's words as `Tx::audit_words` numbers them.
pub(super) struct AuditWords {
    pub actor: i64,
    pub activity: i64,
    pub category: i64,
    pub reason: Option<i64>,
    pub targets: Vec<u8>,
}

impl Tx<'_> {
    /// Writes an audit row: its actor, words, reason and targets as numbers in `audit_texts`
    /// (each target as its JSON), its result as a code (`codes::AuditResult`).
    pub fn insert_audit(&self, a: &AuditRecord) -> rusqlite::Result<()> {
        self.insert_audit_numbered(None, a)
    }

    /// Writes an audit row as number `seq`, or as the next number.
    pub(super) fn insert_audit_numbered(&self, seq: Option<i64>, a: &AuditRecord) -> rusqlite::Result<()> {
        let words = self.audit_words(a)?;
        self.tx
            .cached(
                "INSERT INTO audit (seq, at, actor_id, activity, category, result, reason, request_id, targets)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                seq,
                to_millis(a.at),
                words.actor,
                words.activity,
                words.category,
                C(AuditResult::parse(&a.result)?),
                words.reason,
                key(a.request_id.as_deref()),
                words.targets,
            ])?;
        Ok(())
    }

    /// An audit row's words as numbers in `audit_texts`, its targets packed.
    pub(super) fn audit_words(&self, a: &AuditRecord) -> rusqlite::Result<AuditWords> {
        let word = |text: &str| self.word_id(Dictionary::Audit, text);
        let mut targets = Vec::new();
        for t in &a.targets {
            match inline_guid(t) {
                Some(guid) => {
                    push_varint(&mut targets, INLINE_TARGET);
                    push_varint(&mut targets, word(&t.kind)?);
                    targets.extend_from_slice(&guid);
                }
                None => push_varint(&mut targets, self.target_word(t)?),
            }
        }
        Ok(AuditWords {
            actor: word(&a.actor_id)?,
            activity: word(&a.activity)?,
            category: word(&a.category)?,
            reason: a.reason.as_deref().map(word).transpose()?,
            targets,
        })
    }

    /// The number of an audit target's JSON in the audit dictionary: remembered by the target
    /// (`Words::targets`), else serialised and looked up as any other word.
    fn target_word(&self, t: &AuditTarget) -> rusqlite::Result<i64> {
        let same =
            |w: &&TargetWord| *w.kind == *t.kind && w.display_name.as_deref() == t.display_name.as_deref();
        let remembered = self.caches()?.words[Dictionary::Audit as usize]
            .targets
            .get(t.id.as_str())
            .and_then(|known| known.iter().find(same).map(|w| w.id));
        if let Some(id) = remembered {
            return Ok(id);
        }
        let id = self.word_id(Dictionary::Audit, &serde_json::to_string(t).expect("a target serialises"))?;
        // Remembered after `word_id`, which may have emptied the dictionary's memory to make room.
        self.caches()?.words[Dictionary::Audit as usize]
            .targets
            .entry(t.id.as_str().into())
            .or_default()
            .push(TargetWord {
                kind: t.kind.as_str().into(),
                display_name: t.display_name.as_deref().map(Into::into),
                id,
            });
        Ok(id)
    }

    /// An audit row's targets, as `audit_words` packed them.
    fn unpack_targets(&self, blob: &[u8]) -> rusqlite::Result<Vec<AuditTarget>> {
        let cut = || damaged("an audit row's targets");
        let mut reader = Unpack(blob);
        let mut targets = Vec::new();
        while !reader.is_empty() {
            let n = reader.next_id().ok_or_else(cut)?;
            if n == INLINE_TARGET {
                let kind = self.word(Dictionary::Audit, reader.next_id().ok_or_else(cut)?)?;
                let guid: [u8; 16] = reader.take(16).and_then(|b| b.try_into().ok()).ok_or_else(cut)?;
                targets.push(AuditTarget { id: spell(&guid), kind: kind.to_string(), display_name: None });
            } else {
                let json = self.word(Dictionary::Audit, n)?;
                targets.push(serde_json::from_str::<AuditTarget>(&json).map_err(|_| cut())?);
            }
        }
        Ok(targets)
    }

    /// The audit records from `since` that `keep` keeps, in order. Kept or not as each is read: a
    /// year's trail is nine million records, and a query wants a few of them.
    pub fn audit_where(
        &self,
        since: Option<Timestamp>,
        keep: &mut dyn FnMut(&AuditRecord) -> bool,
    ) -> rusqlite::Result<Vec<AuditRecord>> {
        let mut stmt = self.tx.cached(
            "SELECT seq, at, actor_id, activity, category, result, reason, request_id, targets
             FROM audit WHERE ?1 IS NULL OR at >= ?1 ORDER BY seq",
        )?;
        let mut rows = stmt.query([since.map(to_millis)])?;
        let mut out = Vec::new();
        let word = |id: i64| self.word(Dictionary::Audit, id).map(|t| t.to_string());
        while let Some(r) = rows.next()? {
            let targets = self.unpack_targets(r.get_ref(8)?.as_blob()?)?;
            let record = AuditRecord {
                seq: r.get(0)?,
                at: from_millis(r.get(1)?),
                actor_id: word(r.get(2)?)?,
                activity: word(r.get(3)?)?,
                category: word(r.get(4)?)?,
                result: coded::<AuditResult>(r, 5)?.word().to_string(),
                reason: r.get::<_, Option<i64>>(6)?.map(word).transpose()?,
                request_id: opt_id(r, 7)?,
                targets,
            };
            if keep(&record) {
                out.push(record);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
