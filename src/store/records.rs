//! Rows of `requests` and `audit`.

use crate::model::audit::AuditRecord;
use rusqlite::{OptionalExtension, Row, params};

use super::Tx;
use crate::model::time::{from_millis, to_millis};
use crate::model::{
    Action, Expiration, ExpirationType, IsoDuration, RequestKind, ScheduleInfo, ScheduleRequest, Status,
    Surface, TicketInfo, Timestamp,
};

const REQUEST_COLUMNS: &str = "id, surface, kind, action, status, principal_id, role_definition_id, \
     directory_scope_id, app_scope_id, justification, has_schedule_info, start_at, expiration_type, \
     expiration_end, expiration_duration, ticket_number, ticket_system, target_schedule_id, approval_id, \
     created_at, completed_at, created_by, activated_using, canceled_at, trace, ticket_approver_id, \
     ticket_submitter_id, created_by_app";

fn conversion_error(what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unknown {what} '{value}' in the store").into(),
    )
}

fn request_from_row(r: &Row<'_>) -> rusqlite::Result<ScheduleRequest> {
    let surface: String = r.get(1)?;
    let kind: String = r.get(2)?;
    let action: String = r.get(3)?;
    let status: String = r.get(4)?;
    let has_schedule: bool = r.get(10)?;
    let schedule_info = if has_schedule {
        let exp_type: Option<String> = r.get(12)?;
        let exp_type = exp_type.as_deref().unwrap_or("notSpecified");
        let duration: Option<String> = r.get(14)?;
        Some(ScheduleInfo {
            start: r.get::<_, Option<i64>>(11)?.map(from_millis),
            expiration: Expiration {
                kind: ExpirationType::parse(exp_type)
                    .ok_or_else(|| conversion_error("expiration type", exp_type))?,
                end: r.get::<_, Option<i64>>(13)?.map(from_millis),
                duration: duration.as_deref().and_then(|d| IsoDuration::parse(d).ok()),
            },
        })
    } else {
        None
    };
    let trace: String = r.get(24)?;
    Ok(ScheduleRequest {
        id: r.get(0)?,
        surface: Surface::parse(&surface).ok_or_else(|| conversion_error("surface", &surface))?,
        kind: RequestKind::parse(&kind).ok_or_else(|| conversion_error("kind", &kind))?,
        action: Action::parse(&action).ok_or_else(|| conversion_error("action", &action))?,
        status: Status::parse(&status).ok_or_else(|| conversion_error("status", &status))?,
        principal_id: r.get(5)?,
        role_definition_id: r.get(6)?,
        directory_scope_id: r.get(7)?,
        app_scope_id: r.get(8)?,
        justification: r.get(9)?,
        schedule_info,
        ticket_info: TicketInfo {
            number: r.get(15)?,
            system: r.get(16)?,
            approver_identity_id: r.get(25)?,
            submitter_identity_id: r.get(26)?,
        },
        is_validation_only: false,
        target_schedule_id: r.get(17)?,
        approval_id: r.get(18)?,
        created_at: from_millis(r.get(19)?),
        completed_at: r.get::<_, Option<i64>>(20)?.map(from_millis),
        created_by: r.get(21)?,
        created_by_app: r.get(27)?,
        activated_using: r.get(22)?,
        canceled_at: r.get::<_, Option<i64>>(23)?.map(from_millis),
        trace: serde_json::from_str(&trace).unwrap_or_default(),
    })
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
        let s = q.schedule_info.as_ref();
        self.tx
            .prepare_cached(&format!(
                "INSERT INTO requests ({REQUEST_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)"
            ))?
            .execute(params![
                q.id,
                q.surface.as_str(),
                q.kind.as_str(),
                q.action.as_str(),
                q.status.as_str(),
                q.principal_id,
                q.role_definition_id,
                q.directory_scope_id,
                q.app_scope_id,
                q.justification,
                s.is_some(),
                s.and_then(|s| s.start).map(to_millis),
                s.map(|s| s.expiration.kind.as_str()),
                s.and_then(|s| s.expiration.end).map(to_millis),
                s.and_then(|s| s.expiration.duration).map(|d| d.to_string()),
                q.ticket_info.number,
                q.ticket_info.system,
                q.target_schedule_id,
                q.approval_id,
                to_millis(q.created_at),
                q.completed_at.map(to_millis),
                q.created_by,
                q.activated_using,
                q.canceled_at.map(to_millis),
                serde_json::to_string(&q.trace).expect("trace serialises"),
                q.ticket_info.approver_identity_id,
                q.ticket_info.submitter_identity_id,
                q.created_by_app,
            ])?;
        Ok(())
    }

    /// Rewrites a request's mutable fields (status, times, schedule, trace).
    pub fn update_request(&self, q: &ScheduleRequest) -> rusqlite::Result<()> {
        let s = q.schedule_info.as_ref();
        self.tx
            .prepare_cached(
                "UPDATE requests SET status = ?2, completed_at = ?3, canceled_at = ?4, target_schedule_id = ?5,
                 approval_id = ?6, has_schedule_info = ?7, start_at = ?8, trace = ?9
                 WHERE id = ?1",
            )?
            .execute(params![
                q.id,
                q.status.as_str(),
                q.completed_at.map(to_millis),
                q.canceled_at.map(to_millis),
                q.target_schedule_id,
                q.approval_id,
                s.is_some(),
                s.and_then(|s| s.start).map(to_millis),
                serde_json::to_string(&q.trace).expect("trace serialises"),
            ])?;
        Ok(())
    }

    /// Records the name an ARM client PUT the request under.
    pub fn set_request_client_name(&self, id: &str, name: &str) -> rusqlite::Result<()> {
        self.tx.prepare_cached("UPDATE requests SET client_name = ?2 WHERE id = ?1")?.execute([id, name])?;
        Ok(())
    }

    /// The id of the request an ARM client PUT under `name`, and the client's name of a request.
    pub fn request_id_by_client_name(&self, name: &str) -> rusqlite::Result<Option<String>> {
        self.tx
            .prepare_cached("SELECT id FROM requests WHERE client_name = ?1 COLLATE NOCASE")?
            .query_row([name], |r| r.get(0))
            .optional()
    }

    pub fn request_client_name(&self, id: &str) -> rusqlite::Result<Option<String>> {
        Ok(self
            .tx
            .prepare_cached("SELECT client_name FROM requests WHERE id = ?1")?
            .query_row([id], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }

    pub fn request(&self, id: &str) -> rusqlite::Result<Option<ScheduleRequest>> {
        self.tx
            .prepare_cached(&format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE id = ?1"))?
            .query_row([id.to_ascii_lowercase()], request_from_row)
            .optional()
    }

    /// Ids of requests beginning with `prefix` (case-insensitive), at most `limit`, in id order.
    pub fn request_ids_starting_with(&self, prefix: &str, limit: usize) -> rusqlite::Result<Vec<String>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id FROM requests WHERE substr(id, 1, length(?1)) = ?1 ORDER BY id LIMIT ?2",
        )?;
        stmt.query_map(params![prefix.to_ascii_lowercase(), limit as i64], |r| r.get(0))?.collect()
    }

    /// The id of the newest request.
    pub fn newest_request_id(&self) -> rusqlite::Result<Option<String>> {
        self.tx
            .prepare_cached("SELECT id FROM requests ORDER BY created_at DESC, rowid DESC LIMIT 1")?
            .query_row([], |r| r.get(0))
            .optional()
    }

    /// Requests in creation order, narrowed by whatever the query pins down.
    pub fn requests(&self, q: &RequestQuery<'_>) -> rusqlite::Result<Vec<ScheduleRequest>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {REQUEST_COLUMNS} FROM requests
             WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR principal_id = ?2)
               AND (?3 IS NULL OR role_definition_id = ?3) AND (?4 IS NULL OR status = ?4)
               AND (?5 IS NULL OR created_by = ?5)
             ORDER BY created_at, rowid"
        ))?;
        stmt.query_map(
            params![
                q.kind.map(|k| k.as_str()),
                q.principal_id.map(str::to_ascii_lowercase),
                q.role_definition_id.map(str::to_ascii_lowercase),
                q.status.map(|s| s.as_str()),
                q.created_by.map(str::to_ascii_lowercase)
            ],
            request_from_row,
        )?
        .collect()
    }

    /// Requests for the same target still waiting for a decision.
    pub fn pending_requests_for(
        &self,
        kind: RequestKind,
        principal_id: &str,
        role_id: &str,
        scope: &str,
    ) -> rusqlite::Result<Vec<ScheduleRequest>> {
        // One index seek per status: `status IN (three values)` made SQLite build a temporary
        // b-tree for the list on every request. The statuses go in the index's (alphabetical)
        // order, so the rows come back in the order the single query gave them.
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {REQUEST_COLUMNS} FROM requests
             WHERE principal_id = ?1 AND role_definition_id = ?2 AND kind = ?3 AND status = ?4
               AND coalesce(directory_scope_id, app_scope_id) = ?5"
        ))?;
        let mut pending = Vec::new();
        for status in ["PendingAdminDecision", "PendingApproval", "PendingApprovalProvisioning"] {
            let rows = stmt
                .query_map(params![principal_id, role_id, kind.as_str(), status, scope], request_from_row)?;
            for row in rows {
                pending.push(row?);
            }
        }
        Ok(pending)
    }

    /// Deletes requests the service would have purged by `now` (see the fidelity settings).
    /// Two statements rather than one `OR`, so each can use its index.
    pub fn purge_requests(
        &self,
        created_before: Timestamp,
        canceled_before: Timestamp,
    ) -> rusqlite::Result<Vec<String>> {
        let mut ids: Vec<String> = Vec::new();
        for sql in [
            "DELETE FROM requests WHERE created_at <= ?1 RETURNING id",
            "DELETE FROM requests WHERE canceled_at <= ?1 RETURNING id",
        ] {
            let mut stmt = self.tx.prepare_cached(sql)?;
            let at = if sql.contains("created_at") { created_before } else { canceled_before };
            for id in stmt.query_map([to_millis(at)], |r| r.get(0))? {
                ids.push(id?);
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// The earliest time a request becomes due for purging, given the two retention periods.
    pub fn next_request_purge(
        &self,
        retention_ms: i64,
        canceled_retention_ms: i64,
    ) -> rusqlite::Result<Option<Timestamp>> {
        let created: Option<i64> =
            self.tx.prepare_cached("SELECT min(created_at) FROM requests")?.query_row([], |r| r.get(0))?;
        let canceled: Option<i64> =
            self.tx.prepare_cached("SELECT min(canceled_at) FROM requests")?.query_row([], |r| r.get(0))?;
        let due = [created.map(|t| t + retention_ms), canceled.map(|t| t + canceled_retention_ms)];
        Ok(due.into_iter().flatten().min().map(from_millis))
    }
}

impl Tx<'_> {
    pub fn insert_audit(&self, a: &AuditRecord) -> rusqlite::Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO audit (at, actor_id, activity, category, result, reason, request_id, targets)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                to_millis(a.at),
                a.actor_id,
                a.activity,
                a.category,
                a.result,
                a.reason,
                a.request_id,
                serde_json::to_string(&a.targets).expect("targets serialise"),
            ])?;
        Ok(())
    }

    pub fn audit(&self, since: Option<Timestamp>) -> rusqlite::Result<Vec<AuditRecord>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT seq, at, actor_id, activity, category, result, reason, request_id, targets
             FROM audit WHERE ?1 IS NULL OR at >= ?1 ORDER BY seq",
        )?;
        stmt.query_map([since.map(to_millis)], |r| {
            let targets: String = r.get(8)?;
            Ok(AuditRecord {
                seq: r.get(0)?,
                at: from_millis(r.get(1)?),
                actor_id: r.get(2)?,
                activity: r.get(3)?,
                category: r.get(4)?,
                result: r.get(5)?,
                reason: r.get(6)?,
                request_id: r.get(7)?,
                targets: serde_json::from_str(&targets).unwrap_or_default(),
            })
        })?
        .collect()
    }
}
