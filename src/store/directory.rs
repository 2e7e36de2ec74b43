//! Rows of `directory_objects`, `memberships` and `role_definitions`.

use std::rc::Rc;

use super::groups::PIM_MEMBERSHIP;
use rusqlite::{OptionalExtension, Row, params};

use super::Tx;
use super::cache::{Cached, lower_case};
use super::keys::{Key, id, opt_id};
use crate::model::time::{from_millis, to_millis};
use crate::model::{DirectoryObject, PrincipalKind, RoleDefinition};

const OBJECT_COLUMNS: &str = "id, kind, display_name, user_principal_name, mail, description, \
     is_assignable_to_role, security_enabled, mail_enabled, app_id, account_enabled, created_at, group_types, on_premises_sync";

fn object_from_row(r: &Row<'_>) -> rusqlite::Result<DirectoryObject> {
    let kind: String = r.get(1)?;
    Ok(DirectoryObject {
        id: r.get(0)?,
        kind: PrincipalKind::parse(&kind).unwrap_or(PrincipalKind::User),
        display_name: r.get(2)?,
        user_principal_name: r.get(3)?,
        mail: r.get(4)?,
        description: r.get(5)?,
        is_assignable_to_role: r.get(6)?,
        security_enabled: r.get(7)?,
        mail_enabled: r.get(8)?,
        app_id: r.get(9)?,
        account_enabled: r.get(10)?,
        created_at: from_millis(r.get(11)?),
        group_types: serde_json::from_str(&r.get::<_, String>(12)?).unwrap_or_default(),
        on_premises_sync_enabled: r.get(13)?,
    })
}

const ROLE_COLUMNS: &str = "id, display_name, description, is_built_in, is_enabled, is_privileged, \
     template_id, version, allowed_actions, inherits_from";

fn role_from_row(r: &Row<'_>) -> rusqlite::Result<RoleDefinition> {
    let actions: String = r.get(8)?;
    let inherits: String = r.get(9)?;
    Ok(RoleDefinition {
        id: r.get(0)?,
        display_name: r.get(1)?,
        description: r.get(2)?,
        is_built_in: r.get(3)?,
        is_enabled: r.get(4)?,
        is_privileged: r.get(5)?,
        template_id: r.get(6)?,
        version: r.get(7)?,
        allowed_resource_actions: serde_json::from_str::<Vec<String>>(&actions).unwrap_or_default().into(),
        inherits_permissions_from: serde_json::from_str::<Vec<String>>(&inherits).unwrap_or_default().into(),
    })
}

impl Tx<'_> {
    pub fn insert_object(&self, o: &DirectoryObject) -> rusqlite::Result<()> {
        self.write_object(o, "")
    }

    /// Replaces the properties of the object with `o`'s id (an import's newer version).
    pub fn update_object(&self, o: &DirectoryObject) -> rusqlite::Result<()> {
        self.write_object(
            o,
            " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, display_name = excluded.display_name,
             user_principal_name = excluded.user_principal_name, mail = excluded.mail,
             description = excluded.description, is_assignable_to_role = excluded.is_assignable_to_role,
             security_enabled = excluded.security_enabled, mail_enabled = excluded.mail_enabled,
             app_id = excluded.app_id, account_enabled = excluded.account_enabled,
             created_at = excluded.created_at, group_types = excluded.group_types,
             on_premises_sync = excluded.on_premises_sync",
        )
    }

    /// Inserts `o`, with `on_conflict` (empty: a second object with its id is an error).
    fn write_object(&self, o: &DirectoryObject, on_conflict: &str) -> rusqlite::Result<()> {
        self.forget_cached(Cached::Objects);
        self.tx
            .prepare_cached(&format!(
                "INSERT INTO directory_objects ({OBJECT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14){on_conflict}"
            ))?
            .execute(params![
                o.id,
                o.kind.as_str(),
                o.display_name,
                o.user_principal_name,
                o.mail,
                o.description,
                o.is_assignable_to_role,
                o.security_enabled,
                o.mail_enabled,
                o.app_id,
                o.account_enabled,
                to_millis(o.created_at),
                serde_json::to_string(&o.group_types).unwrap_or_default(),
                o.on_premises_sync_enabled,
            ])?;
        Ok(())
    }

    /// The object with id `id` (any case), shared with the store's cache: a request looks up
    /// its caller, principal, group and mail recipients a dozen times, and a copy of each would
    /// allocate every one of its strings again.
    pub fn object(&self, id: &str) -> rusqlite::Result<Option<Rc<DirectoryObject>>> {
        let key = lower_case(id);
        self.remembered(
            |c| &mut c.objects,
            &key,
            || {
                Ok(self
                    .tx
                    .cached(sql!("SELECT {OBJECT_COLUMNS} FROM directory_objects WHERE id = ?1"))?
                    .query_row([&*key], object_from_row)
                    .optional()?
                    .map(Rc::new))
            },
        )
    }

    /// Objects whose user principal name or display name is `name` (case-insensitive).
    /// Remembered: a scenario names the same group or role holder in every request.
    pub fn objects_named(&self, name: &str) -> rusqlite::Result<Vec<DirectoryObject>> {
        self.remembered(
            |c| &mut c.object_names,
            name,
            || {
                let mut stmt = self.tx.cached(sql!(
                    "SELECT {OBJECT_COLUMNS} FROM directory_objects
                     WHERE user_principal_name = ?1
                     UNION
                     SELECT {OBJECT_COLUMNS} FROM directory_objects WHERE display_name = ?1 COLLATE NOCASE
                     ORDER BY created_at, id"
                ))?;
                stmt.query_map([name], object_from_row)?.collect()
            },
        )
    }

    pub fn objects(&self, kind: PrincipalKind) -> rusqlite::Result<Vec<DirectoryObject>> {
        let mut stmt = self.tx.cached(sql!(
            "SELECT {OBJECT_COLUMNS} FROM directory_objects WHERE kind = ?1 ORDER BY created_at, display_name, id"
        ))?;
        stmt.query_map([kind.as_str()], object_from_row)?.collect()
    }

    pub fn add_membership(&self, container: &str, member: &str, relation: &str) -> rusqlite::Result<bool> {
        self.forget_cached(Cached::Memberships);
        let n = self
            .tx
            .cached(
                "INSERT OR IGNORE INTO memberships (container_id, member_id, relation) VALUES (?1, ?2, ?3)",
            )?
            .execute([container, member, relation])?;
        Ok(n > 0)
    }

    /// Ids of the direct members (or owners) of a group or administrative unit: those added to
    /// it, and those whose PIM for Groups membership (or ownership) is in effect now, which is a
    /// membership exactly while its schedule is (see `groups.rs`).
    pub fn members(&self, container: &str, relation: &str) -> rusqlite::Result<Vec<String>> {
        // Two statements, merged here: a schedule keeps its ids as bytes (keys.rs), a membership
        // row as text, so SQL's UNION would not see the same id in both.
        let mut ids: Vec<String> = self
            .tx
            .cached("SELECT member_id FROM memberships WHERE container_id = ?1 AND relation = ?2")?
            .query_map([container, relation], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut stmt = self.tx.cached(sql!(
            "SELECT principal_id FROM schedules WHERE {PIM_MEMBERSHIP} AND directory_scope_id = ?1 AND role_definition_id = ?2"
        ))?;
        for found in stmt.query_map(params![Key::new(container), Key::new(relation)], |r| id(r, 0))? {
            ids.push(found?);
        }
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// Ids of the groups (and units) `member` belongs to directly, through PIM for Groups too.
    pub fn containers_of(&self, member: &str) -> rusqlite::Result<Vec<String>> {
        // Two statements, merged here (see `members`).
        let mut ids: Vec<String> = self
            .tx
            .cached("SELECT container_id FROM memberships WHERE member_id = ?1 AND relation = 'member'")?
            .query_map([member], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut stmt = self.tx.cached(sql!(
            "SELECT directory_scope_id FROM schedules WHERE {PIM_MEMBERSHIP} AND principal_id = ?1 AND role_definition_id = 'member'"
        ))?;
        for found in stmt.query_map([Key::new(member)], |r| opt_id(r, 0))? {
            // A membership schedule always has its group as its scope.
            ids.extend(found?);
        }
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    pub fn insert_role(&self, r: &RoleDefinition) -> rusqlite::Result<()> {
        self.forget_cached(Cached::Roles);
        self.tx
            .cached(sql!(
                "INSERT INTO role_definitions ({ROLE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ))?
            .execute(params![
                r.id,
                r.display_name,
                r.description,
                r.is_built_in,
                r.is_enabled,
                r.is_privileged,
                r.template_id,
                r.version,
                serde_json::to_string(&*r.allowed_resource_actions).unwrap_or_default(),
                serde_json::to_string(&*r.inherits_permissions_from).unwrap_or_default(),
            ])?;
        Ok(())
    }

    pub fn role(&self, id: &str) -> rusqlite::Result<Option<RoleDefinition>> {
        let key = lower_case(id);
        self.remembered(
            |c| &mut c.roles,
            &key,
            || {
                self.tx
                    .cached(sql!("SELECT {ROLE_COLUMNS} FROM role_definitions WHERE id = ?1"))?
                    .query_row([&*key], role_from_row)
                    .optional()
            },
        )
    }

    pub fn role_named(&self, name: &str) -> rusqlite::Result<Option<RoleDefinition>> {
        // NOCASE folds ASCII letters only, as this key does.
        self.remembered(
            |c| &mut c.role_names,
            &name.to_ascii_lowercase(),
            || {
                self.tx
                    .cached(sql!(
                        "SELECT {ROLE_COLUMNS} FROM role_definitions WHERE display_name = ?1 COLLATE NOCASE"
                    ))?
                    .query_row([name], role_from_row)
                    .optional()
            },
        )
    }

    pub fn roles(&self) -> rusqlite::Result<Vec<RoleDefinition>> {
        let mut stmt = self.tx.cached(sql!("SELECT {ROLE_COLUMNS} FROM role_definitions ORDER BY rowid"))?;
        stmt.query_map([], role_from_row)?.collect()
    }
}

impl Tx<'_> {
    pub fn update_role(&self, r: &RoleDefinition) -> rusqlite::Result<()> {
        self.forget_cached(Cached::Roles);
        self.tx
            .cached(
                "UPDATE role_definitions SET display_name = ?2, description = ?3, is_enabled = ?4, allowed_actions = ?5 WHERE id = ?1",
            )?
            .execute(params![
                r.id,
                r.display_name,
                r.description,
                r.is_enabled,
                serde_json::to_string(&*r.allowed_resource_actions).unwrap_or_default(),
            ])?;
        Ok(())
    }

    /// Deletes a role definition with its policy.
    pub fn delete_role(&self, id: &str) -> rusqlite::Result<()> {
        self.forget_cached(Cached::Roles);
        self.forget_cached(Cached::Policies);
        self.tx.execute(
            "DELETE FROM policy_rules WHERE policy_id IN (SELECT id FROM policies WHERE role_definition_id = ?1)",
            [id],
        )?;
        self.tx.execute("DELETE FROM policies WHERE role_definition_id = ?1", [id])?;
        self.tx.execute("DELETE FROM role_definitions WHERE id = ?1", [id])?;
        Ok(())
    }
}
