//! Rows of `azure_role_definitions`: a tenant's custom Azure roles (built-in ones are catalog
//! data and never stored).

use rusqlite::{OptionalExtension, Row, params};

use super::Tx;
use crate::model::azure_role::{
    AzurePermissions, AzureRole, AzureRoleType, Stamp, builtin_role, builtin_roles,
};
use crate::model::time::{from_millis, to_millis};

const COLUMNS: &str = "id, role_name, description, permissions, assignable_scopes, \
     created_at, created_by, updated_at, updated_by";

fn json_column<T: serde::de::DeserializeOwned>(r: &Row<'_>, i: usize) -> rusqlite::Result<T> {
    let text: String = r.get(i)?;
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into()))
}

fn role_from_row(r: &Row<'_>) -> rusqlite::Result<AzureRole> {
    let permissions: Vec<AzurePermissions> = json_column(r, 3)?;
    let assignable_scopes: Vec<String> = json_column(r, 4)?;
    Ok(AzureRole {
        id: r.get(0)?,
        role_name: r.get(1)?,
        description: r.get(2)?,
        role_type: AzureRoleType::CustomRole,
        permissions,
        assignable_scopes,
        created: Some(Stamp { at: from_millis(r.get(5)?), by: r.get(6)? }),
        updated: Some(Stamp { at: from_millis(r.get(7)?), by: r.get(8)? }),
    })
}

impl Tx<'_> {
    /// Stores a custom role, replacing the one with its id.
    pub fn put_azure_role(&self, role: &AzureRole) -> rusqlite::Result<()> {
        let (created, updated) = match (&role.created, &role.updated) {
            (Some(c), Some(u)) => (c, u),
            _ => {
                return Err(rusqlite::Error::InvalidParameterName(format!(
                    "custom role '{}' has no creation record",
                    role.id
                )));
            }
        };
        let permissions = serde_json::to_string(&role.permissions).expect("permissions serialise");
        let scopes = serde_json::to_string(&role.assignable_scopes).expect("scopes serialise");
        self.tx
            .cached(sql!(
                "INSERT OR REPLACE INTO azure_role_definitions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ))?
            .execute(params![
                role.id,
                role.role_name,
                role.description,
                permissions,
                scopes,
                to_millis(created.at),
                created.by,
                to_millis(updated.at),
                updated.by,
            ])?;
        Ok(())
    }

    pub fn delete_azure_role(&self, id: &str) -> rusqlite::Result<()> {
        self.tx.cached("DELETE FROM azure_role_definitions WHERE id = ?1")?.execute([id])?;
        Ok(())
    }

    /// The custom role with this GUID (lower case), or named this (any case).
    pub fn azure_custom_role(&self, id_or_name: &str) -> rusqlite::Result<Option<AzureRole>> {
        self.tx
            .cached(sql!(
                "SELECT {COLUMNS} FROM azure_role_definitions WHERE id = lower(?1) OR role_name = ?1 COLLATE NOCASE"
            ))?
            .query_row([id_or_name.trim()], role_from_row)
            .optional()
    }

    /// The Azure role with this GUID or role name: a built-in one (catalog data), else one of the
    /// tenant's custom roles.
    pub fn azure_role(&self, id_or_name: &str) -> rusqlite::Result<Option<AzureRole>> {
        match builtin_role(id_or_name) {
            Some(r) => Ok(Some(r.clone())),
            None => self.azure_custom_role(id_or_name),
        }
    }

    /// Every Azure role: the built-in ones in the catalog's order, then the custom ones by name.
    pub fn azure_roles(&self) -> rusqlite::Result<Vec<AzureRole>> {
        let mut all = builtin_roles().to_vec();
        all.extend(self.azure_custom_roles()?);
        Ok(all)
    }

    /// Every custom role, by name.
    pub fn azure_custom_roles(&self) -> rusqlite::Result<Vec<AzureRole>> {
        let mut stmt = self
            .tx
            .cached(sql!("SELECT {COLUMNS} FROM azure_role_definitions ORDER BY role_name COLLATE NOCASE"))?;
        stmt.query_map([], role_from_row)?.collect()
    }
}
