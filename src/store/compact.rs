//! The step from schema version 11 to 12: what every request, mail and audit row repeated in
//! many bytes takes few. A request's justification becomes its number in `texts` (where its mails
//! already name it); a request's schedule start and completion, and a mail's window, become
//! milliseconds after a time of the same row (a zero takes no bytes, a working day four, a time
//! since the epoch six); an audit row's result becomes a code. The three tables are rebuilt, as
//! SQLite documents for a change of a column's type; every row keeps its number (`seq`, `rowid`),
//! and every read gives what it gave before.
//!
//! The tables' definitions are repeated from schema.sql on purpose: a step stays as it was when a
//! later version changes a table.

use std::cell::RefCell;

use rusqlite::Connection;

use super::codes::{AuditResult, words_to_codes};
use super::texts::Dictionary;
use super::{Tx, cache};

/// Rebuilds `requests`, `notifications` and `audit` in their new shape, converting every row.
pub(super) fn upgrade(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "ALTER TABLE requests RENAME TO requests_v11;
         ALTER TABLE notifications RENAME TO notifications_v11;
         ALTER TABLE audit RENAME TO audit_v11;",
    )?;
    conn.execute_batch(TABLES)?;
    // A result other than success or failure, which no pimlab wrote, stops the step at the NOT NULL.
    conn.execute_batch(&format!(
        "INSERT INTO requests (rowid, id, surface, kind, action, status, principal_id, role_definition_id,
             directory_scope_id, app_scope_id, justification, has_schedule_info, start_after, expiration_type,
             expiration_end, expiration_duration, ticket_number, ticket_system, target_schedule_id, approval_id,
             created_at, completed_after, created_by, activated_using, canceled_at, trace, ticket_approver_id,
             ticket_submitter_id, client_name, created_by_app)
         SELECT rowid, id, surface, kind, action, status, principal_id, role_definition_id,
             directory_scope_id, app_scope_id, NULL, has_schedule_info, start_at - created_at, expiration_type,
             expiration_end, expiration_duration, ticket_number, ticket_system, target_schedule_id, approval_id,
             created_at, completed_at - created_at, created_by, activated_using, canceled_at, trace, ticket_approver_id,
             ticket_submitter_id, client_name, created_by_app
         FROM requests_v11;
         INSERT INTO notifications (seq, at, event, rule_id, recipient_type, recipients, recipient_ids, request_id,
             critical, role, principal, starts_after, lasts, justification, detail, subject, body)
         SELECT seq, at, event, rule_id, recipient_type, recipients, recipient_ids, request_id,
             critical, role, principal, starts_at - at, ends_at - starts_at, justification, detail, subject, body
         FROM notifications_v11;
         INSERT INTO audit (seq, at, actor_id, activity, category, result, reason, request_id, targets)
         SELECT seq, at, actor_id, activity, category, {}, reason, request_id, targets
         FROM audit_v11;",
        words_to_codes::<AuditResult>("result"),
    ))?;
    justifications_as_words(conn)?;
    conn.execute_batch(
        "DROP TABLE requests_v11;
         DROP TABLE notifications_v11;
         DROP TABLE audit_v11;",
    )?;
    conn.execute_batch(INDEXES)
}

/// Each request's justification as its number in `texts`.
fn justifications_as_words(conn: &Connection) -> rusqlite::Result<()> {
    let caches = RefCell::new(cache::Caches::default());
    let tx = Tx::within(conn, &caches);
    let mut rows = conn.prepare(
        "SELECT rowid, justification FROM requests_v11 WHERE justification IS NOT NULL ORDER BY rowid",
    )?;
    let mut update = conn.prepare("UPDATE requests SET justification = ?2 WHERE rowid = ?1")?;
    let mut rows = rows.query([])?;
    while let Some(r) = rows.next()? {
        let rowid: i64 = r.get(0)?;
        let text: String = r.get(1)?;
        update.execute(rusqlite::params![rowid, tx.word_id(Dictionary::Texts, &text)?])?;
    }
    Ok(())
}

/// The tables schema 12 changed, as schema.sql has them.
const TABLES: &str = "
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
         justification       INTEGER,           -- texts
         has_schedule_info   INTEGER NOT NULL,
         start_after         INTEGER,           -- the schedule's start, after created_at
         expiration_type     INTEGER,  -- 0 afterDuration, 1 afterDateTime, 2 noExpiration, 3 notSpecified
         expiration_end      INTEGER,
         expiration_duration TEXT,
         ticket_number       TEXT,
         ticket_system       TEXT,
         target_schedule_id  TEXT,
         approval_id         TEXT,
         created_at          INTEGER NOT NULL,
         completed_after     INTEGER,           -- after created_at
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
         starts_after   INTEGER,                      -- a letter's window: from, after `at`
         lasts          INTEGER,                      -- its length (null: permanent)
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
         result     INTEGER NOT NULL CHECK (result = 0 OR result = 1),  -- 0 success, 1 failure
         reason     INTEGER,           -- audit_texts
         request_id TEXT,
         targets    BLOB NOT NULL      -- audit_texts, packed: each target's JSON {id, type, displayName}
     );
";

/// The indexes of the rebuilt requests, as schema.sql has them (notifications and audit have none
/// but their keys).
const INDEXES: &str = "
     CREATE UNIQUE INDEX requests_by_client_name ON requests (client_name COLLATE NOCASE) WHERE client_name IS NOT NULL;
     CREATE INDEX requests_pending ON requests (principal_id, role_definition_id)
         WHERE status = 3 /* PendingAdminDecision */ OR status = 2 /* PendingApproval */;
     CREATE INDEX requests_by_created ON requests (created_at);
     CREATE INDEX requests_by_canceled ON requests (canceled_at) WHERE canceled_at IS NOT NULL;
";
