//! Rows of `approval_steps` and `notifications`.

use rusqlite::{OptionalExtension, Row, params};

use super::Tx;
use super::keys::{Key, id, key, opt_id};
use super::texts::{Dictionary, damaged};
use crate::model::Timestamp;
use crate::model::approval::{ApprovalStep, Notification, ReviewResult, StepStatus};
use crate::model::mail::{Content, Detail, Event, Letter, Outgoing};
use crate::model::time::{from_millis, to_millis};

const STEP_COLUMNS: &str = "id, approval_id, stage, status, review_result, reviewed_by, reviewed_at, justification, \
     started_at, due_at, escalation_at, escalated, settings";

fn step_from_row(r: &Row<'_>) -> rusqlite::Result<ApprovalStep> {
    let status: String = r.get(3)?;
    let result: String = r.get(4)?;
    let settings: String = r.get(12)?;
    let bad = |what: &str, v: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown {what} '{v}'").into(),
        )
    };
    Ok(ApprovalStep {
        id: r.get(0)?,
        approval_id: id(r, 1)?,
        stage: r.get(2)?,
        status: StepStatus::parse(&status).ok_or_else(|| bad("step status", &status))?,
        review_result: ReviewResult::parse(&result).ok_or_else(|| bad("review result", &result))?,
        reviewed_by: r.get(5)?,
        reviewed_at: r.get::<_, Option<i64>>(6)?.map(from_millis),
        justification: r.get(7)?,
        started_at: r.get::<_, Option<i64>>(8)?.map(from_millis),
        due_at: r.get::<_, Option<i64>>(9)?.map(from_millis),
        escalation_at: r.get::<_, Option<i64>>(10)?.map(from_millis),
        escalated: r.get(11)?,
        settings: serde_json::from_str(&settings).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(12, rusqlite::types::Type::Text, Box::new(e))
        })?,
    })
}

impl Tx<'_> {
    /// Inserts a step, or rewrites it if it exists.
    pub fn save_step(&self, s: &ApprovalStep) -> rusqlite::Result<()> {
        self.tx
            .cached(sql!(
                "INSERT OR REPLACE INTO approval_steps ({STEP_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
            ))?
            .execute(params![
                s.id,
                Key::new(&s.approval_id),
                s.stage,
                s.status.as_str(),
                s.review_result.as_str(),
                s.reviewed_by,
                s.reviewed_at.map(to_millis),
                s.justification,
                s.started_at.map(to_millis),
                s.due_at.map(to_millis),
                s.escalation_at.map(to_millis),
                s.escalated,
                serde_json::to_string(&s.settings).expect("stages serialise"),
            ])?;
        Ok(())
    }

    /// The steps of one approval, stage by stage.
    pub fn steps(&self, approval_id: &str) -> rusqlite::Result<Vec<ApprovalStep>> {
        let mut stmt = self.tx.cached(sql!(
            "SELECT {STEP_COLUMNS} FROM approval_steps WHERE approval_id = ?1 ORDER BY stage"
        ))?;
        stmt.query_map([Key::new(&approval_id.to_ascii_lowercase())], step_from_row)?.collect()
    }

    /// Steps an approver decided at or after `since`, in the order they were decided: the
    /// decisions a replay makes again.
    pub fn steps_decided_since(&self, since: Timestamp) -> rusqlite::Result<Vec<ApprovalStep>> {
        let mut stmt = self.tx.cached(sql!(
            "SELECT {STEP_COLUMNS} FROM approval_steps
             WHERE reviewed_at >= ?1 AND reviewed_by IS NOT NULL ORDER BY reviewed_at, approval_id, stage"
        ))?;
        stmt.query_map([to_millis(since)], step_from_row)?.collect()
    }

    pub fn step(&self, id: &str) -> rusqlite::Result<Option<ApprovalStep>> {
        self.tx
            .cached(sql!("SELECT {STEP_COLUMNS} FROM approval_steps WHERE id = ?1"))?
            .query_row([id.to_ascii_lowercase()], step_from_row)
            .optional()
    }

    /// Steps in progress, for listing what waits for whom.
    pub fn steps_in_progress(&self) -> rusqlite::Result<Vec<ApprovalStep>> {
        let mut stmt = self.tx.cached(sql!(
            "SELECT {STEP_COLUMNS} FROM approval_steps WHERE status = 'InProgress' ORDER BY started_at, approval_id"
        ))?;
        stmt.query_map([], step_from_row)?.collect()
    }

    /// When the next stage times out or escalates.
    pub fn next_step_event(&self) -> rusqlite::Result<Option<Timestamp>> {
        let due: Option<i64> = self
            .tx
            .cached("SELECT min(due_at) FROM approval_steps WHERE status = 'InProgress'")?
            .query_row([], |r| r.get(0))?;
        let escalation: Option<i64> = self
            .tx
            .cached(
                "SELECT min(escalation_at) FROM approval_steps WHERE status = 'InProgress' AND escalated = 0",
            )?
            .query_row([], |r| r.get(0))?;
        Ok([due, escalation].into_iter().flatten().min().map(from_millis))
    }

    /// Steps in progress whose timeout has come by `t`.
    pub fn steps_due_by(&self, t: Timestamp) -> rusqlite::Result<Vec<ApprovalStep>> {
        let mut stmt = self.tx.cached(sql!(
            "SELECT {STEP_COLUMNS} FROM approval_steps WHERE status = 'InProgress' AND due_at <= ?1 ORDER BY due_at, id"
        ))?;
        stmt.query_map([to_millis(t)], step_from_row)?.collect()
    }

    /// Steps in progress whose escalation has come by `t` and was not yet announced.
    pub fn steps_escalating_by(&self, t: Timestamp) -> rusqlite::Result<Vec<ApprovalStep>> {
        let mut stmt = self.tx.cached(sql!(
            "SELECT {STEP_COLUMNS} FROM approval_steps
             WHERE status = 'InProgress' AND escalated = 0 AND escalation_at <= ?1 ORDER BY escalation_at, id"
        ))?;
        stmt.query_map([to_millis(t)], step_from_row)?.collect()
    }

    /// Forgets the steps of the approvals `purged` (those of purged requests), each found through
    /// its approval's key: asking for the steps of no request left read every step at every
    /// purge. Only the requests that asked for approval are looked for: looking for each purged
    /// request's steps was 10,000 lookups a working day in the year bench, for about 100 found.
    pub fn purge_steps(&self, purged: &[String]) -> rusqlite::Result<usize> {
        let mut stmt = self.tx.cached("DELETE FROM approval_steps WHERE approval_id = ?1")?;
        let mut forgotten = 0;
        for id in purged {
            forgotten += stmt.execute([Key::new(id)])?;
        }
        Ok(forgotten)
    }

    /// Writes a message's inputs (a letter's names and detail, or a given subject and body): its
    /// text is rendered when it is read.
    pub fn insert_notification(&self, n: &Outgoing<'_>) -> rusqlite::Result<()> {
        self.insert_notification_numbered(None, n)
    }

    /// Writes a message as number `seq`, or as the next number: its window as its start after
    /// the message's time and its length (schema version 12).
    pub(super) fn insert_notification_numbered(
        &self,
        seq: Option<i64>,
        n: &Outgoing<'_>,
    ) -> rusqlite::Result<()> {
        let row = self.message_row(n)?;
        let at = to_millis(n.at);
        let (starts_after, lasts) = match row.window {
            Some((start, end)) => (Some(start - at), end.map(|end| end - start)),
            None => (None, None),
        };
        self.tx
            .cached(
                "INSERT INTO notifications (seq, at, event, rule_id, recipient_type, recipients, recipient_ids,
                     request_id, critical, role, principal, starts_after, lasts, justification, detail, subject, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            )?
            .execute(params![
                seq,
                at,
                row.event,
                row.rule_id,
                row.recipient_type,
                row.recipients,
                row.recipient_ids,
                key(n.request_id.as_deref()),
                n.critical,
                row.role,
                row.principal,
                starts_after,
                lasts,
                row.justification,
                row.detail,
                row.subject,
                row.body,
            ])?;
        Ok(())
    }

    /// What a message's row holds but its number, time, request and criticality: its words as
    /// numbers in `texts`, a letter's window in milliseconds since the epoch.
    pub(super) fn message_row<'n>(&self, n: &Outgoing<'n>) -> rusqlite::Result<MessageRow<'n>> {
        let words = |text: Option<&str>| text.map(|t| self.word_id(Dictionary::Texts, t)).transpose();
        let mut row = MessageRow {
            event: self.word_id(Dictionary::Texts, &n.event)?,
            rule_id: words(n.rule_id.as_deref())?,
            recipient_type: self.word_id(Dictionary::Texts, &n.recipient_type)?,
            recipients: self.pack_words(Dictionary::Texts, n.recipients.iter().map(String::as_str))?,
            recipient_ids: self.pack_words(Dictionary::Texts, n.recipient_ids.iter().map(String::as_str))?,
            role: None,
            principal: None,
            window: None,
            justification: None,
            detail: None,
            subject: None,
            body: None,
        };
        match n.content {
            Content::Letter(letter) => {
                row.role = words(Some(&letter.role))?;
                row.principal = words(Some(&letter.principal))?;
                match &letter.detail {
                    // Kept as its parts when the store's milliseconds hold its times exactly.
                    Detail::Window { start, end, justification: why }
                        if [Some(*start), *end]
                            .into_iter()
                            .flatten()
                            .all(|t| from_millis(to_millis(t)) == t) =>
                    {
                        row.window = Some((to_millis(*start), end.map(to_millis)));
                        row.justification = words(why.as_deref())?;
                    }
                    other => row.detail = Some(other.render()),
                }
            }
            Content::Given { subject, body } => {
                (row.subject, row.body) = (Some(subject.as_str()), Some(body.as_str()));
            }
        }
        Ok(row)
    }

    /// The outbox, oldest first, from `since`: each message rendered as it was sent.
    pub fn notifications(&self, since: Option<Timestamp>) -> rusqlite::Result<Vec<Notification>> {
        let mut stmt = self.tx.cached(
            "SELECT seq, at, event, rule_id, recipient_type, recipients, recipient_ids, request_id, critical,
                    role, principal, starts_after, lasts, justification, detail, subject, body
             FROM notifications WHERE ?1 IS NULL OR at >= ?1 ORDER BY seq",
        )?;
        let mut rows = stmt.query([since.map(to_millis)])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let event = self.word(Dictionary::Texts, r.get(2)?)?;
            let recipient_type = self.word(Dictionary::Texts, r.get(4)?)?;
            let request_id = opt_id(r, 7)?;
            let at: i64 = r.get(1)?;
            let (subject, body) = match (r.get::<_, Option<String>>(15)?, r.get::<_, Option<String>>(16)?) {
                (Some(subject), Some(body)) => (subject, body),
                _ => {
                    let event = Event::parse(&event).ok_or_else(|| damaged("a notification's event"))?;
                    let detail = match r.get::<_, Option<i64>>(11)? {
                        Some(after) => Detail::Window {
                            start: from_millis(at.saturating_add(after)),
                            end: r
                                .get::<_, Option<i64>>(12)?
                                .map(|lasts| from_millis(at.saturating_add(after).saturating_add(lasts))),
                            justification: self.word_opt(Dictionary::Texts, r.get(13)?)?,
                        },
                        None => Detail::Text(r.get::<_, Option<String>>(14)?.unwrap_or_default()),
                    };
                    let name = |i: usize| -> rusqlite::Result<String> {
                        Ok(self.word_opt(Dictionary::Texts, r.get(i)?)?.unwrap_or_default())
                    };
                    let letter = Letter { event, role: name(9)?, principal: name(10)?, detail };
                    letter.render(&recipient_type, request_id.as_deref())
                }
            };
            out.push(Notification {
                seq: r.get(0)?,
                at: from_millis(at),
                event: event.to_string(),
                rule_id: self.word_opt(Dictionary::Texts, r.get(3)?)?,
                recipient_type: recipient_type.to_string(),
                recipients: self.unpack_words(Dictionary::Texts, &r.get::<_, Vec<u8>>(5)?)?,
                recipient_ids: self.unpack_words(Dictionary::Texts, &r.get::<_, Vec<u8>>(6)?)?,
                subject,
                body,
                request_id,
                critical: r.get(8)?,
            });
        }
        Ok(out)
    }
}

/// A message's row as `Tx::message_row` makes it.
pub(super) struct MessageRow<'n> {
    pub event: i64,
    pub rule_id: Option<i64>,
    pub recipient_type: i64,
    pub recipients: Vec<u8>,
    pub recipient_ids: Vec<u8>,
    pub role: Option<i64>,
    pub principal: Option<i64>,
    /// A letter's window (start, end) in milliseconds since the epoch.
    pub window: Option<(i64, Option<i64>)>,
    pub justification: Option<i64>,
    pub detail: Option<String>,
    pub subject: Option<&'n str>,
    pub body: Option<&'n str>,
}
