//! Rows of `alert_settings` (schema 9): an alert's configuration as the tenant changed it, and its
//! dismissal; and the reads the alerts are computed from that no other query gives (activations
//! and each principal's last act).

use std::collections::HashMap;

use rusqlite::params;

use super::Tx;
use super::keys::id;
use crate::model::Timestamp;
use crate::model::time::{from_millis, to_millis};

/// One row of `alert_settings`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRow {
    pub alert: String,
    pub is_enabled: bool,
    /// JSON object: threshold name to value.
    pub settings: String,
    /// JSON array of the incident ids dismissed, if the alert is dismissed.
    pub dismissed: Option<String>,
    pub dismissed_at: Option<Timestamp>,
    pub dismissed_by: Option<String>,
}

impl Tx<'_> {
    /// Every alert's row (alerts never changed have none).
    pub fn alert_rows(&self) -> rusqlite::Result<Vec<AlertRow>> {
        self.tx
            .cached(
                "SELECT alert, is_enabled, settings, dismissed, dismissed_at, dismissed_by
                 FROM alert_settings ORDER BY alert",
            )?
            .query_map([], |r| {
                Ok(AlertRow {
                    alert: r.get(0)?,
                    is_enabled: r.get(1)?,
                    settings: r.get(2)?,
                    dismissed: r.get(3)?,
                    dismissed_at: r.get::<_, Option<i64>>(4)?.map(from_millis),
                    dismissed_by: r.get(5)?,
                })
            })?
            .collect()
    }

    /// One alert's row.
    pub fn alert_row(&self, alert: &str) -> rusqlite::Result<Option<AlertRow>> {
        Ok(self.alert_rows()?.into_iter().find(|r| r.alert == alert))
    }

    /// Writes an alert's row whole.
    pub fn save_alert_row(&self, row: &AlertRow, at: Timestamp) -> rusqlite::Result<()> {
        self.tx
            .cached(
                "INSERT OR REPLACE INTO alert_settings
                     (alert, is_enabled, settings, dismissed, dismissed_at, dismissed_by, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                row.alert,
                row.is_enabled,
                row.settings,
                row.dismissed,
                row.dismissed_at.map(to_millis),
                row.dismissed_by,
                to_millis(at)
            ])?;
        Ok(())
    }

    /// Activations of directory roles that were carried out (granted, whether or not they have
    /// ended since) created from `since`: principal, role and when, oldest first.
    pub fn directory_activations_since(
        &self,
        since: Timestamp,
    ) -> rusqlite::Result<Vec<(String, String, Timestamp)>> {
        self.tx
            .cached(
                "SELECT principal_id, role_definition_id, created_at FROM requests
                 WHERE action = 0 /* selfActivate */ AND surface = 0 /* directory */
                   AND status IN (0 /* Provisioned */, 1 /* Granted */, 4 /* Revoked */) AND created_at >= ?1
                 ORDER BY created_at, id",
            )?
            .query_map([to_millis(since)], |r| Ok((id(r, 0)?, id(r, 1)?, from_millis(r.get(2)?))))?
            .collect()
    }

    /// The last directory-role activation of each principal and role that has one.
    pub fn last_directory_activations(&self) -> rusqlite::Result<HashMap<(String, String), Timestamp>> {
        self.tx
            .cached(
                "SELECT principal_id, role_definition_id, max(created_at) FROM requests
                 WHERE action = 0 /* selfActivate */ AND surface = 0 /* directory */
                   AND status IN (0 /* Provisioned */, 1 /* Granted */, 4 /* Revoked */)
                 GROUP BY principal_id, role_definition_id",
            )?
            .query_map([], |r| Ok(((id(r, 0)?, id(r, 1)?), from_millis(r.get(2)?))))?
            .collect()
    }

    /// Each actor's last row in the audit trail.
    pub fn last_acts(&self) -> rusqlite::Result<HashMap<String, Timestamp>> {
        let acts: Vec<(i64, i64)> = self
            .tx
            .cached("SELECT actor_id, max(at) FROM audit GROUP BY actor_id")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        acts.into_iter()
            .map(|(actor, at)| {
                Ok((self.word(super::texts::Dictionary::Audit, actor)?.to_string(), from_millis(at)))
            })
            .collect()
    }
}
