//! The step from schema version 9 to 10, the lean store: what can be derived is derived when
//! read. Messages keep their inputs, not their text (a message whose text no letter renders
//! exactly keeps its text); decision traces, the audit's words and targets, and the outbox's
//! names and addresses become numbers in the dictionaries; indexes no query needs go. Every row
//! keeps its number (`seq`, `rowid`), and every read gives what it gave before.
//!
//! The tables' definitions are repeated from schema.sql on purpose: a step stays as it was when a
//! later version changes a table.

use std::cell::RefCell;

use rusqlite::Connection;
use rusqlite::types::Value;

use super::codes::words_to_codes;
use super::keys::key_value;
use super::{Tx, cache};
use crate::model::audit::{AuditRecord, AuditTarget};
use crate::model::mail::{Content, Letter, Outgoing};
use crate::model::time::{from_millis, to_millis};
use crate::model::{
    Action, AssignmentType, ExpirationType, MemberType, RequestKind, ScheduleState, Status, Surface,
    TraceStep,
};

/// Creates the dictionaries and the new tables, converts every row, drops what is gone.
pub(super) fn upgrade(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "DROP VIEW IF EXISTS instances;
         DROP VIEW IF EXISTS role_assignments;
         DROP INDEX IF EXISTS notifications_by_time;
         DROP INDEX IF EXISTS audit_by_time;
         DROP INDEX IF EXISTS requests_by_client_name;
         DROP INDEX IF EXISTS requests_by_target;
         DROP INDEX IF EXISTS requests_by_created;
         DROP INDEX IF EXISTS requests_by_canceled;
         DROP INDEX IF EXISTS requests_by_status;
         DROP INDEX IF EXISTS schedules_by_target;
         DROP INDEX IF EXISTS schedules_live_by_end;
         DROP INDEX IF EXISTS schedules_live_by_start;
         DROP INDEX IF EXISTS schedules_ended;
         DROP INDEX IF EXISTS schedules_by_role;
         DROP INDEX IF EXISTS schedules_one_instance;
         DROP INDEX IF EXISTS schedules_warn_14;
         DROP INDEX IF EXISTS schedules_warn_1;
         ALTER TABLE notifications RENAME TO notifications_v9;
         ALTER TABLE audit RENAME TO audit_v9;
         ALTER TABLE requests RENAME TO requests_v9;
         ALTER TABLE schedules RENAME TO schedules_v9;",
    )?;
    conn.execute_batch(TABLES)?;
    // Every row keeps its rowid; words become codes (codes.rs), the trace is packed below.
    conn.execute_batch(&format!(
        "INSERT INTO requests (rowid, id, principal_id, role_definition_id, directory_scope_id, app_scope_id, justification, has_schedule_info, start_at, expiration_end, expiration_duration, ticket_number, ticket_system, target_schedule_id, approval_id, created_at, completed_at, created_by, activated_using, canceled_at, ticket_approver_id, ticket_submitter_id, client_name, created_by_app,
             surface, kind, action, status, expiration_type, trace)
         SELECT rowid, id, principal_id, role_definition_id, directory_scope_id, app_scope_id, justification, has_schedule_info, start_at, expiration_end, expiration_duration, ticket_number, ticket_system, target_schedule_id, approval_id, created_at, completed_at, created_by, activated_using, canceled_at, ticket_approver_id, ticket_submitter_id, client_name, created_by_app,
             {}, {}, {}, {}, {}, x''
         FROM requests_v9;
         INSERT INTO schedules (rowid, id, principal_id, role_definition_id, directory_scope_id, app_scope_id, created_using, created_at, modified_at, start_at, expiration_end, expiration_duration, end_at, activated_using, instance_id, ended_at, replaces, warn_14_at, warn_1_at,
             surface, kind, member_type, assignment_type, status, state, expiration_type)
         SELECT rowid, id, principal_id, role_definition_id, directory_scope_id, app_scope_id, created_using, created_at, modified_at, start_at, expiration_end, expiration_duration, end_at, activated_using, instance_id, ended_at, replaces, warn_14_at, warn_1_at,
             {}, {}, {}, {}, {}, {}, {}
         FROM schedules_v9;",
        words_to_codes::<Surface>("surface"),
        words_to_codes::<RequestKind>("kind"),
        words_to_codes::<Action>("action"),
        words_to_codes::<Status>("status"),
        words_to_codes::<ExpirationType>("expiration_type"),
        words_to_codes::<Surface>("surface"),
        words_to_codes::<RequestKind>("kind"),
        words_to_codes::<MemberType>("member_type"),
        words_to_codes::<AssignmentType>("assignment_type"),
        words_to_codes::<Status>("status"),
        words_to_codes::<ScheduleState>("state"),
        words_to_codes::<ExpirationType>("expiration_type"),
    ))?;
    let caches = RefCell::new(cache::Caches::default());
    let tx = Tx::within(conn, &caches);
    tx.convert_notifications()?;
    tx.convert_audit()?;
    tx.convert_traces()?;
    tx.rekey(
        "requests",
        &[
            "id",
            "principal_id",
            "role_definition_id",
            "directory_scope_id",
            "app_scope_id",
            "target_schedule_id",
            "approval_id",
            "created_by",
            "activated_using",
        ],
    )?;
    tx.rekey(
        "schedules",
        &[
            "id",
            "principal_id",
            "role_definition_id",
            "directory_scope_id",
            "app_scope_id",
            "created_using",
            "activated_using",
            "replaces",
        ],
    )?;
    tx.rekey("approval_steps", &["approval_id"])?;
    drop(tx);
    // An id that is the row's own is kept as an empty blob (keys.rs); a live schedule's
    // `ended_at` holds its planned end (schedules.rs).
    conn.execute_batch(
        "UPDATE requests SET target_schedule_id = x'' WHERE target_schedule_id = id;
         UPDATE requests SET created_by = x'' WHERE created_by = principal_id;
         UPDATE schedules SET created_using = x'' WHERE created_using = id;
         UPDATE schedules SET ended_at = end_at WHERE state = 1 /* live */;
         DROP TABLE notifications_v9;
         DROP TABLE audit_v9;
         DROP TABLE requests_v9;
         DROP TABLE schedules_v9;",
    )?;
    conn.execute_batch(INDEXES_AND_VIEWS)
}

/// The dictionaries and the tables schema 10 changed, as schema.sql has them.
const TABLES: &str = "
     CREATE TABLE texts (
         id   INTEGER PRIMARY KEY,
         text TEXT NOT NULL UNIQUE
     );
     CREATE TABLE audit_texts (
         id   INTEGER PRIMARY KEY,
         text TEXT NOT NULL UNIQUE
     );
     CREATE TABLE notifications (
         seq            INTEGER PRIMARY KEY,
         at             INTEGER NOT NULL,
         event          INTEGER NOT NULL,             -- texts: RoleActivated, ExpiringIn14Days, Hook:NAME
         rule_id        INTEGER,                      -- texts: the notification rule that sent it
         recipient_type INTEGER NOT NULL,             -- texts: Admin, Requestor, Approver, Hook
         recipients     BLOB NOT NULL,                -- texts, packed: the addresses
         recipient_ids  BLOB NOT NULL,                -- texts, packed: the object ids (default recipients)
         request_id     TEXT,
         critical       INTEGER NOT NULL,
         role           INTEGER,                      -- texts: a letter's role
         principal      INTEGER,                      -- texts: a letter's principal
         starts_at      INTEGER,                      -- a letter's window: from
         ends_at        INTEGER,                      -- until (null: permanent)
         justification  INTEGER,                      -- texts: the window's justification
         detail         TEXT,                         -- a letter's detail line, when it is no window
         subject        TEXT,                         -- a message given whole
         body           TEXT
     );
     CREATE TABLE audit (
         seq        INTEGER PRIMARY KEY,
         at         INTEGER NOT NULL,
         actor_id   INTEGER NOT NULL,  -- audit_texts
         activity   INTEGER NOT NULL,  -- audit_texts
         category   INTEGER NOT NULL,  -- audit_texts
         result     TEXT NOT NULL,     -- success, failure
         reason     INTEGER,           -- audit_texts
         request_id TEXT,
         targets    BLOB NOT NULL      -- audit_texts, packed: each target's JSON {id, type, displayName}
     );
     CREATE TABLE requests (
         id                  TEXT PRIMARY KEY,
         surface             INTEGER NOT NULL,  -- 0 directory, 1 group, 2 azureResource
         kind                INTEGER NOT NULL CHECK (kind IN (0, 1)),  -- 0 assignment, 1 eligibility
         action              INTEGER NOT NULL,  -- 0 selfActivate, 1 adminAssign, ... (codes.rs)
         status              INTEGER NOT NULL,  -- 0 Provisioned, 1 Granted, 2 PendingApproval, ... (codes.rs)
         principal_id        TEXT NOT NULL,
         role_definition_id  TEXT NOT NULL,
         directory_scope_id  TEXT,
         app_scope_id        TEXT,
         justification       TEXT,
         has_schedule_info   INTEGER NOT NULL,
         start_at            INTEGER,
         expiration_type     INTEGER,  -- 0 afterDuration, 1 afterDateTime, 2 noExpiration, 3 notSpecified
         expiration_end      INTEGER,
         expiration_duration TEXT,
         ticket_number       TEXT,
         ticket_system       TEXT,
         target_schedule_id  TEXT,
         approval_id         TEXT,
         created_at          INTEGER NOT NULL,
         completed_at        INTEGER,
         created_by          TEXT NOT NULL,
         activated_using     TEXT,
         canceled_at         INTEGER,
         trace               BLOB NOT NULL,  -- the decision trace, packed (texts; src/store/records.rs)
         -- Beta's ticketInfo (schema version 2).
         ticket_approver_id  TEXT,
         ticket_submitter_id TEXT,
         -- The name an ARM client gave the request in its PUT (schema version 4); Graph requests have none.
         client_name         TEXT,
         -- The creator was an application acting as itself, not a signed-in user.
         created_by_app      INTEGER NOT NULL DEFAULT 0
     );
     CREATE TABLE schedules (
         id                  TEXT PRIMARY KEY,
         surface             INTEGER NOT NULL,  -- 0 directory, 1 group, 2 azureResource
         kind                INTEGER NOT NULL CHECK (kind IN (0, 1)),  -- 0 assignment, 1 eligibility
         principal_id        TEXT NOT NULL,
         role_definition_id  TEXT NOT NULL,
         directory_scope_id  TEXT,
         app_scope_id        TEXT,
         member_type         INTEGER NOT NULL,  -- 0 Direct, 1 Group, 2 Inherited
         assignment_type     INTEGER,           -- 0 Activated, 1 Assigned
         status              INTEGER NOT NULL,  -- as requests.status
         state               INTEGER NOT NULL CHECK (state IN (0, 1, 2, 3)),  -- 0 expired, 1 live, 2 removed, 3 replaced
         created_using       TEXT,
         created_at          INTEGER,
         modified_at         INTEGER,
         start_at            INTEGER NOT NULL,
         expiration_type     INTEGER NOT NULL,  -- as requests.expiration_type
         expiration_end      INTEGER,
         expiration_duration TEXT,
         end_at              INTEGER,
         activated_using     TEXT,
         instance_id         TEXT NOT NULL,
         ended_at            INTEGER,        -- when it ended; while live, its planned end (schedules.rs)
         replaces            TEXT,           -- a future-dated update replaces this schedule when it starts
         warn_14_at          INTEGER,        -- when the 14-day expiry notice is due (null: sent or none)
         warn_1_at           INTEGER         -- when the 1-day expiry notice is due
     );
";

/// The indexes of the rebuilt tables and the views over schedules, as schema.sql has them.
const INDEXES_AND_VIEWS: &str = "
     CREATE UNIQUE INDEX requests_by_client_name ON requests (client_name COLLATE NOCASE) WHERE client_name IS NOT NULL;
     CREATE INDEX requests_pending ON requests (principal_id, role_definition_id)
         WHERE status = 3 /* PendingAdminDecision */ OR status = 2 /* PendingApproval */;
     CREATE INDEX requests_by_created ON requests (created_at);
     CREATE INDEX requests_by_canceled ON requests (canceled_at) WHERE canceled_at IS NOT NULL;
     CREATE INDEX schedules_by_target ON schedules (principal_id, role_definition_id, kind, state);
     CREATE INDEX schedules_live_by_end ON schedules (end_at) WHERE state = 1 /* live */;
     CREATE INDEX schedules_live_by_start ON schedules (start_at) WHERE state = 1 /* live */ AND status = 1 /* Granted */;
     CREATE INDEX schedules_ended ON schedules (ended_at) WHERE state <> 1 /* live */;
     CREATE INDEX schedules_live_by_role ON schedules (role_definition_id, kind) WHERE state = 1 /* live */;
     CREATE UNIQUE INDEX schedules_one_instance ON schedules (instance_id) WHERE state = 1 /* live */ AND status = 0 /* Provisioned */;
     CREATE INDEX schedules_warn_14 ON schedules (warn_14_at) WHERE warn_14_at IS NOT NULL;
     CREATE INDEX schedules_warn_1 ON schedules (warn_1_at) WHERE warn_1_at IS NOT NULL;
     CREATE VIEW instances AS
         SELECT id,
                CASE surface WHEN 0 THEN 'directory' WHEN 1 THEN 'group' WHEN 2 THEN 'azureResource' END AS surface,
                CASE kind WHEN 0 THEN 'assignment' WHEN 1 THEN 'eligibility' END AS kind,
                principal_id,
                role_definition_id,
                directory_scope_id,
                app_scope_id,
                CASE member_type WHEN 0 THEN 'Direct' WHEN 1 THEN 'Group' WHEN 2 THEN 'Inherited' END AS member_type,
                CASE assignment_type WHEN 0 THEN 'Activated' WHEN 1 THEN 'Assigned' END AS assignment_type,
                CASE status WHEN 0 THEN 'Provisioned' WHEN 1 THEN 'Granted' WHEN 2 THEN 'PendingApproval' WHEN 3 THEN 'PendingAdminDecision' WHEN 4 THEN 'Revoked' WHEN 5 THEN 'Canceled' WHEN 6 THEN 'Denied' WHEN 7 THEN 'Failed' WHEN 8 THEN 'TimedOut' WHEN 9 THEN 'PendingEvaluation' END AS status,
                CASE state WHEN 0 THEN 'expired' WHEN 1 THEN 'live' WHEN 2 THEN 'removed' WHEN 3 THEN 'replaced' END AS state,
                iif(created_using = x'', id, created_using) AS created_using,
                created_at,
                modified_at,
                start_at,
                CASE expiration_type WHEN 0 THEN 'afterDuration' WHEN 1 THEN 'afterDateTime' WHEN 2 THEN 'noExpiration' WHEN 3 THEN 'notSpecified' END AS expiration_type,
                expiration_end,
                expiration_duration,
                end_at,
                activated_using,
                instance_id,
                NULL AS ended_at,
                replaces,
                warn_14_at,
                warn_1_at
         FROM schedules WHERE state = 1 /* live */ AND status = 0 /* Provisioned */;
     CREATE VIEW role_assignments AS
         SELECT instance_id AS id, principal_id, role_definition_id, directory_scope_id, app_scope_id,
                id AS schedule_id, CASE member_type WHEN 0 THEN 'Direct' WHEN 1 THEN 'Group' WHEN 2 THEN 'Inherited' END AS member_type,
                CASE assignment_type WHEN 0 THEN 'Activated' WHEN 1 THEN 'Assigned' END AS assignment_type
         FROM schedules
         WHERE kind = 0 /* assignment */ AND state = 1 /* live */ AND status = 0 /* Provisioned */;
";

/// A JSON list as schema 9 kept it; what does not parse reads as empty, as it did.
fn list<T: serde::de::DeserializeOwned>(json: &str) -> Vec<T> {
    serde_json::from_str(json).unwrap_or_default()
}

impl Tx<'_> {
    /// Each message as a letter when one renders its text exactly, else as its text.
    fn convert_notifications(&self) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare(
            "SELECT seq, at, event, rule_id, recipient_type, recipients, recipient_ids, subject, body, request_id,
                    critical
             FROM notifications_v9 ORDER BY seq",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (event, recipient_type): (String, String) = (r.get(2)?, r.get(4)?);
            let (subject, body): (String, String) = (r.get(7)?, r.get(8)?);
            let request_id: Option<String> = r.get(9)?;
            let content =
                match Letter::recover(&event, &recipient_type, request_id.as_deref(), &subject, &body) {
                    Some(letter) => Content::Letter(letter),
                    None => Content::Given { subject, body },
                };
            let message = Outgoing {
                at: from_millis(r.get(1)?),
                event,
                rule_id: r.get(3)?,
                recipient_type,
                recipients: list(&r.get::<_, String>(5)?),
                recipient_ids: list(&r.get::<_, String>(6)?),
                content: &content,
                request_id,
                critical: r.get(10)?,
            };
            self.insert_message_10(r.get(0)?, &message)?;
        }
        Ok(())
    }

    fn convert_audit(&self) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare(
            "SELECT seq, at, actor_id, activity, category, result, reason, request_id, targets
             FROM audit_v9 ORDER BY seq",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let row = AuditRecord {
                seq: r.get(0)?,
                at: from_millis(r.get(1)?),
                actor_id: r.get(2)?,
                activity: r.get(3)?,
                category: r.get(4)?,
                result: r.get(5)?,
                reason: r.get(6)?,
                request_id: r.get(7)?,
                targets: list::<AuditTarget>(&r.get::<_, String>(8)?),
            };
            self.insert_audit_10(&row)?;
        }
        Ok(())
    }

    /// Writes a message as schema 10 keeps it: its window in milliseconds since the epoch.
    fn insert_message_10(&self, seq: i64, n: &Outgoing<'_>) -> rusqlite::Result<()> {
        let row = self.message_row(n)?;
        let (starts_at, ends_at) = match row.window {
            Some((start, end)) => (Some(start), end),
            None => (None, None),
        };
        self.tx
            .cached(
                "INSERT INTO notifications (seq, at, event, rule_id, recipient_type, recipients, recipient_ids,
                     request_id, critical, role, principal, starts_at, ends_at, justification, detail, subject, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            )?
            .execute(rusqlite::params![
                seq,
                to_millis(n.at),
                row.event,
                row.rule_id,
                row.recipient_type,
                row.recipients,
                row.recipient_ids,
                key_value(n.request_id.as_deref()),
                n.critical,
                row.role,
                row.principal,
                starts_at,
                ends_at,
                row.justification,
                row.detail,
                row.subject,
                row.body,
            ])?;
        Ok(())
    }

    /// Writes an audit row as schema 10 keeps it: its result as text.
    fn insert_audit_10(&self, a: &AuditRecord) -> rusqlite::Result<()> {
        let words = self.audit_words(a)?;
        self.tx
            .cached(
                "INSERT INTO audit (seq, at, actor_id, activity, category, result, reason, request_id, targets)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(rusqlite::params![
                a.seq,
                to_millis(a.at),
                words.actor,
                words.activity,
                words.category,
                a.result,
                words.reason,
                key_value(a.request_id.as_deref()),
                words.targets,
            ])?;
        Ok(())
    }

    /// Each request's trace packed.
    fn convert_traces(&self) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare("SELECT rowid, trace FROM requests_v9 ORDER BY rowid")?;
        let mut rows = stmt.query([])?;
        let mut update = self.tx.prepare("UPDATE requests SET trace = ?2 WHERE rowid = ?1")?;
        while let Some(r) = rows.next()? {
            let trace: Vec<TraceStep> = list(&r.get::<_, String>(1)?);
            update.execute(rusqlite::params![r.get::<_, i64>(0)?, self.pack_trace(&trace)?])?;
        }
        Ok(())
    }

    /// Every row's ids in `columns` of `table` as the store keeps them now (`keys.rs`).
    fn rekey(&self, table: &str, columns: &[&str]) -> rusqlite::Result<()> {
        let rows: Vec<Vec<Value>> = self
            .tx
            .prepare(&format!("SELECT rowid, {} FROM {table}", columns.join(", ")))?
            .query_map([], |r| {
                let mut row = vec![Value::Integer(r.get(0)?)];
                for i in 1..=columns.len() {
                    row.push(key_value(r.get::<_, Option<String>>(i)?.as_deref()));
                }
                Ok(row)
            })?
            .collect::<rusqlite::Result<_>>()?;
        let set: Vec<String> = columns.iter().enumerate().map(|(i, c)| format!("{c} = ?{}", i + 2)).collect();
        let mut update =
            self.tx.prepare(&format!("UPDATE {table} SET {} WHERE rowid = ?1", set.join(", ")))?;
        for row in rows {
            update.execute(rusqlite::params_from_iter(row))?;
        }
        Ok(())
    }
}
