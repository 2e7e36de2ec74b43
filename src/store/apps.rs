//! Rows of `app_permissions`: the Microsoft Graph permissions granted to a tenant's applications
//! (their service principals), delegated scopes and application roles alike.

use rusqlite::{Row, params};

use super::Tx;
use crate::model::permissions::{AppPermission, PermissionKind};
use crate::model::time::{from_millis, to_millis};

const COLUMNS: &str = "id, app_id, kind, permission, granted_at, granted_by";

fn from_row(r: &Row<'_>) -> rusqlite::Result<AppPermission> {
    let kind: String = r.get(2)?;
    Ok(AppPermission {
        id: r.get(0)?,
        app_id: r.get(1)?,
        kind: PermissionKind::parse(&kind).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                format!("'{kind}' is not a permission kind").into(),
            )
        })?,
        permission: r.get(3)?,
        granted_at: from_millis(r.get(4)?),
        granted_by: r.get(5)?,
    })
}

impl Tx<'_> {
    pub fn insert_app_permission(&self, p: &AppPermission) -> rusqlite::Result<()> {
        self.tx
            .cached(sql!("INSERT INTO app_permissions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"))?
            .execute(params![
                p.id,
                p.app_id,
                p.kind.as_str(),
                p.permission,
                to_millis(p.granted_at),
                p.granted_by
            ])?;
        Ok(())
    }

    /// Removes a grant; returns whether there was one.
    pub fn delete_app_permission(
        &self,
        app_id: &str,
        kind: PermissionKind,
        permission: &str,
    ) -> rusqlite::Result<bool> {
        let n = self
            .tx
            .cached("DELETE FROM app_permissions WHERE app_id = ?1 AND kind = ?2 AND permission = ?3")?
            .execute(params![app_id, kind.as_str(), permission])?;
        Ok(n > 0)
    }

    /// An application's grants, delegated first, each kind by name.
    pub fn app_permissions(&self, app_id: &str) -> rusqlite::Result<Vec<AppPermission>> {
        let mut stmt = self.tx.cached(sql!(
            "SELECT {COLUMNS} FROM app_permissions WHERE app_id = ?1 ORDER BY kind DESC, permission"
        ))?;
        stmt.query_map([app_id], from_row)?.collect()
    }
}
