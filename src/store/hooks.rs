//! Rows of `hooks`.

use rusqlite::{OptionalExtension, Row, params};

use super::Tx;
use super::cache::Cached;
use crate::model::hook::Hook;
use crate::model::time::{from_millis, to_millis};

const HOOK_COLUMNS: &str = "name, source, role_definition_id, scope, added_by, added_at, position";

fn hook_from_row(r: &Row<'_>) -> rusqlite::Result<Hook> {
    Ok(Hook {
        name: r.get(0)?,
        source: r.get(1)?,
        role_definition_id: r.get(2)?,
        scope: r.get(3)?,
        added_by: r.get(4)?,
        added_at: from_millis(r.get(5)?),
        position: r.get(6)?,
    })
}

impl Tx<'_> {
    /// Stores a new hook after every other one.
    pub fn insert_hook(&self, h: &Hook) -> rusqlite::Result<()> {
        self.forget_cached(Cached::Hooks);
        self.tx
            .cached(sql!(
                "INSERT INTO hooks ({HOOK_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, (SELECT coalesce(max(position), 0) + 1 FROM hooks))"
            ))?
            .execute(params![h.name, h.source, h.role_definition_id, h.scope, h.added_by, to_millis(h.added_at)])?;
        Ok(())
    }

    /// Every hook, in the order they run. Shared with the store's caches: every request asks.
    pub fn hooks(&self) -> rusqlite::Result<std::rc::Rc<Vec<Hook>>> {
        if let Some(hooks) = &self.caches()?.hooks {
            return Ok(hooks.clone());
        }
        let mut stmt = self.tx.cached(sql!("SELECT {HOOK_COLUMNS} FROM hooks ORDER BY position"))?;
        let hooks: std::rc::Rc<Vec<Hook>> =
            std::rc::Rc::new(stmt.query_map([], hook_from_row)?.collect::<Result<_, _>>()?);
        self.caches()?.hooks = Some(hooks.clone());
        Ok(hooks)
    }

    pub fn hook(&self, name: &str) -> rusqlite::Result<Option<Hook>> {
        self.tx
            .cached(sql!("SELECT {HOOK_COLUMNS} FROM hooks WHERE name = ?1"))?
            .query_row([name], hook_from_row)
            .optional()
    }

    /// Replaces a hook's source, keeping its place in the order, its role and its scope.
    pub fn update_hook_source(&self, name: &str, source: &str) -> rusqlite::Result<bool> {
        self.forget_cached(Cached::Hooks);
        Ok(self.tx.cached("UPDATE hooks SET source = ?2 WHERE name = ?1")?.execute([name, source])? > 0)
    }

    pub fn delete_hook(&self, name: &str) -> rusqlite::Result<bool> {
        self.forget_cached(Cached::Hooks);
        Ok(self.tx.cached("DELETE FROM hooks WHERE name = ?1")?.execute([name])? > 0)
    }
}
