//! Rows of `approval_steps` and `notifications`.

use rusqlite::{OptionalExtension, Row, params};

use super::Tx;
use crate::model::Timestamp;
use crate::model::approval::{ApprovalStep, Notification, ReviewResult, StepStatus};
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
        approval_id: r.get(1)?,
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
            .prepare_cached(&format!(
                "INSERT OR REPLACE INTO approval_steps ({STEP_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
            ))?
            .execute(params![
                s.id,
                s.approval_id,
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
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {STEP_COLUMNS} FROM approval_steps WHERE approval_id = ?1 ORDER BY stage"
        ))?;
        stmt.query_map([approval_id.to_ascii_lowercase()], step_from_row)?.collect()
    }

    /// Steps an approver decided at or after `since`, in the order they were decided: the
    /// decisions a replay makes again.
    pub fn steps_decided_since(&self, since: Timestamp) -> rusqlite::Result<Vec<ApprovalStep>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {STEP_COLUMNS} FROM approval_steps
             WHERE reviewed_at >= ?1 AND reviewed_by IS NOT NULL ORDER BY reviewed_at, approval_id, stage"
        ))?;
        stmt.query_map([to_millis(since)], step_from_row)?.collect()
    }

    pub fn step(&self, id: &str) -> rusqlite::Result<Option<ApprovalStep>> {
        self.tx
            .prepare_cached(&format!("SELECT {STEP_COLUMNS} FROM approval_steps WHERE id = ?1"))?
            .query_row([id.to_ascii_lowercase()], step_from_row)
            .optional()
    }

    /// Steps in progress, for listing what waits for whom.
    pub fn steps_in_progress(&self) -> rusqlite::Result<Vec<ApprovalStep>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {STEP_COLUMNS} FROM approval_steps WHERE status = 'InProgress' ORDER BY started_at, approval_id"
        ))?;
        stmt.query_map([], step_from_row)?.collect()
    }

    /// When the next stage times out or escalates.
    pub fn next_step_event(&self) -> rusqlite::Result<Option<Timestamp>> {
        let due: Option<i64> = self
            .tx
            .prepare_cached("SELECT min(due_at) FROM approval_steps WHERE status = 'InProgress'")?
            .query_row([], |r| r.get(0))?;
        let escalation: Option<i64> = self
            .tx
            .prepare_cached(
                "SELECT min(escalation_at) FROM approval_steps WHERE status = 'InProgress' AND escalated = 0",
            )?
            .query_row([], |r| r.get(0))?;
        Ok([due, escalation].into_iter().flatten().min().map(from_millis))
    }

    /// Steps in progress whose timeout has come by `t`.
    pub fn steps_due_by(&self, t: Timestamp) -> rusqlite::Result<Vec<ApprovalStep>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {STEP_COLUMNS} FROM approval_steps WHERE status = 'InProgress' AND due_at <= ?1 ORDER BY due_at, id"
        ))?;
        stmt.query_map([to_millis(t)], step_from_row)?.collect()
    }

    /// Steps in progress whose escalation has come by `t` and was not yet announced.
    pub fn steps_escalating_by(&self, t: Timestamp) -> rusqlite::Result<Vec<ApprovalStep>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {STEP_COLUMNS} FROM approval_steps
             WHERE status = 'InProgress' AND escalated = 0 AND escalation_at <= ?1 ORDER BY escalation_at, id"
        ))?;
        stmt.query_map([to_millis(t)], step_from_row)?.collect()
    }

    /// Forgets the steps of purged requests.
    pub fn purge_steps(&self) -> rusqlite::Result<usize> {
        self.tx
            .prepare_cached("DELETE FROM approval_steps WHERE approval_id NOT IN (SELECT id FROM requests)")?
            .execute([])
    }

    pub fn insert_notification(&self, n: &Notification) -> rusqlite::Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO notifications (at, event, rule_id, recipient_type, recipients, recipient_ids, subject, body, request_id, critical)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                to_millis(n.at),
                n.event,
                n.rule_id,
                n.recipient_type,
                serde_json::to_string(&n.recipients).expect("strings serialise"),
                serde_json::to_string(&n.recipient_ids).expect("strings serialise"),
                n.subject,
                n.body,
                n.request_id,
                n.critical,
            ])?;
        Ok(())
    }

    /// The outbox, oldest first, from `since`.
    pub fn notifications(&self, since: Option<Timestamp>) -> rusqlite::Result<Vec<Notification>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT seq, at, event, rule_id, recipient_type, recipients, recipient_ids, subject, body, request_id, critical
             FROM notifications WHERE ?1 IS NULL OR at >= ?1 ORDER BY seq",
        )?;
        stmt.query_map([since.map(to_millis)], |r| {
            let recipients: String = r.get(5)?;
            let ids: String = r.get(6)?;
            Ok(Notification {
                seq: r.get(0)?,
                at: from_millis(r.get(1)?),
                event: r.get(2)?,
                rule_id: r.get(3)?,
                recipient_type: r.get(4)?,
                recipients: serde_json::from_str(&recipients).unwrap_or_default(),
                recipient_ids: serde_json::from_str(&ids).unwrap_or_default(),
                subject: r.get(7)?,
                body: r.get(8)?,
                request_id: r.get(9)?,
                critical: r.get(10)?,
            })
        })?
        .collect()
    }
}
