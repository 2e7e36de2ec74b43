//! Rows of `azure_scopes`: the lab's Azure estate.

use rusqlite::{OptionalExtension, Row, params};

use super::Tx;
use crate::model::azure_scope::{AzureScope, AzureScopeNode};
use crate::model::time::{from_millis, to_millis};

const SCOPE_COLUMNS: &str = "path, display_name, parent_key, created_at, \
     (SELECT p.path FROM azure_scopes p WHERE p.key = azure_scopes.parent_key)";

fn scope_from_row(r: &Row<'_>) -> rusqlite::Result<AzureScopeNode> {
    let path: String = r.get(0)?;
    let parent: Option<String> = r.get(4)?;
    let parse = |p: &str| {
        AzureScope::parse(p).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                format!("scope '{p}': {e}").into(),
            )
        })
    };
    Ok(AzureScopeNode {
        scope: parse(&path)?,
        display_name: r.get(1)?,
        parent: parent.as_deref().map(parse).transpose()?,
        created_at: from_millis(r.get(3)?),
    })
}

impl Tx<'_> {
    pub fn insert_azure_scope(&self, node: &AzureScopeNode) -> rusqlite::Result<()> {
        self.tx
            .cached(
                "INSERT INTO azure_scopes (key, path, kind, display_name, parent_key, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                node.scope.key(),
                node.scope.path(),
                node.scope.kind().as_str(),
                node.display_name,
                node.parent.as_ref().map(AzureScope::key),
                to_millis(node.created_at),
            ])?;
        Ok(())
    }

    /// Gives a scope another display name.
    pub fn rename_azure_scope(&self, scope: &AzureScope, display_name: &str) -> rusqlite::Result<()> {
        self.tx
            .cached("UPDATE azure_scopes SET display_name = ?2 WHERE key = ?1")?
            .execute(params![scope.key(), display_name])?;
        Ok(())
    }

    /// The scope whose key is `scope`'s, if the tree has it.
    pub fn azure_scope(&self, scope: &AzureScope) -> rusqlite::Result<Option<AzureScopeNode>> {
        self.tx
            .cached(sql!("SELECT {SCOPE_COLUMNS} FROM azure_scopes WHERE key = ?1"))?
            .query_row([scope.key()], scope_from_row)
            .optional()
    }

    /// Every scope, in the order they were added.
    pub fn azure_scopes(&self) -> rusqlite::Result<Vec<AzureScopeNode>> {
        let mut stmt =
            self.tx.cached(sql!("SELECT {SCOPE_COLUMNS} FROM azure_scopes ORDER BY created_at, key"))?;
        stmt.query_map([], scope_from_row)?.collect()
    }

    /// The scopes directly under `scope`.
    pub fn azure_children(&self, scope: &AzureScope) -> rusqlite::Result<Vec<AzureScopeNode>> {
        let mut stmt = self
            .tx
            .cached(sql!("SELECT {SCOPE_COLUMNS} FROM azure_scopes WHERE parent_key = ?1 ORDER BY key"))?;
        stmt.query_map([scope.key()], scope_from_row)?.collect()
    }
}
