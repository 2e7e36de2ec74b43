//! Schema creation and forward-only migration, versioned by `PRAGMA user_version`.

use rusqlite::{Connection, TransactionBehavior};

/// `PRAGMA application_id` of every pimlab store ("PIML"), so we never mistake another database for ours.
pub const APPLICATION_ID: i64 = 0x5049_4D4C;

/// The schema version this pimlab writes. Bump it with an entry in `upgrade_from`.
pub const SCHEMA_VERSION: i64 = 10;

const SCHEMA: &str = include_str!("../../schema.sql");

/// Brings the schema to `SCHEMA_VERSION` in one IMMEDIATE transaction: creates it in an empty file,
/// or runs each upgrade step in turn. Callers have already refused newer and negative versions.
/// A store already at the current version is left alone without taking the write lock, so that
/// opening a store to read it never waits for (or blocks) a writer.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    if current_version(conn)? == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Another process may have migrated it while we waited for the lock.
    let version = current_version(&tx)?;
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    if version == 0 {
        tx.execute_batch(SCHEMA)?;
    } else {
        for from in version..SCHEMA_VERSION {
            upgrade_from(&tx, from)?;
        }
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()
}

/// Gives an existing tenant's default caller User Access Administrator at the tenant root
/// management group, as a new tenant's gets it (the engine's `azure_access::elevated_access`).
fn elevate_default_caller(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    use rusqlite::OptionalExtension;
    let meta = |key: &str| -> rusqlite::Result<Option<String>> {
        tx.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()
    };
    let (Some(tenant), Some(admin)) = (meta("tenant_id")?, meta("default_caller")?) else {
        return Ok(());
    };
    let clock: i64 = meta("clock")?.and_then(|c| c.parse().ok()).unwrap_or(0);
    let root = crate::model::azure_scope::AzureScope::tenant_root(&tenant);
    let id = crate::model::azure_scope::elevated_access_id(root.path(), &admin);
    tx.execute(
        "INSERT OR IGNORE INTO schedules (id, surface, kind, principal_id, role_definition_id, directory_scope_id,
             member_type, assignment_type, status, state, start_at, expiration_type, instance_id)
         VALUES (?1, 'azureResource', 'assignment', ?2, ?3, ?4, 'Direct', 'Assigned', 'Provisioned', 'live', ?5,
             'noExpiration', ?1)",
        rusqlite::params![id, admin, crate::model::azure_roles::USER_ACCESS_ADMINISTRATOR, root.path(), clock],
    )?;
    Ok(())
}

fn current_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Moves the schema from `version` to `version + 1`. Each arm says why the step exists.
fn upgrade_from(tx: &rusqlite::Transaction<'_>, version: i64) -> rusqlite::Result<()> {
    match version {
        // 1 → 2: requests keep beta's ticketInfo.ticketApproverIdentityId and
        // ticketSubmitterIdentityId (empty for every request made before).
        1 => tx.execute_batch(
            "ALTER TABLE requests ADD COLUMN ticket_approver_id TEXT;
             ALTER TABLE requests ADD COLUMN ticket_submitter_id TEXT;",
        ),
        // 2 → 3: the Azure scope tree, with the tenant root management group of a store that
        // already has a tenant (a new tenant gets it when it is seeded), and its default caller's
        // elevated access there. The table's definition is repeated from schema.sql on purpose: a
        // step stays as it was when a later version changes the table.
        2 => tx.execute_batch(&format!(
            "CREATE TABLE azure_scopes (
                 key          TEXT PRIMARY KEY,
                 path         TEXT NOT NULL,
                 kind         TEXT NOT NULL CHECK (kind IN ('managementGroup', 'subscription', 'resourceGroup', 'resource')),
                 display_name TEXT NOT NULL,
                 parent_key   TEXT REFERENCES azure_scopes (key),
                 created_at   INTEGER NOT NULL
             ) WITHOUT ROWID;
             CREATE INDEX azure_scopes_by_parent ON azure_scopes (parent_key);
             INSERT INTO azure_scopes (key, path, kind, display_name, parent_key, created_at)
                 SELECT lower('{root}' || value), '{root}' || value, 'managementGroup', '{name}', NULL,
                        COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'clock'), 0)
                 FROM meta WHERE key = 'tenant_id';",
            root = crate::model::azure_scope::MANAGEMENT_GROUP_PREFIX,
            name = crate::model::azure_scope::TENANT_ROOT_NAME,
        ))
        .and_then(|()| elevate_default_caller(tx)),
        // 3 → 4: requests keep the name an ARM client PUT them under.
        3 => tx.execute_batch(
            "ALTER TABLE requests ADD COLUMN client_name TEXT;
             CREATE UNIQUE INDEX requests_by_client_name ON requests (client_name COLLATE NOCASE)
                 WHERE client_name IS NOT NULL;",
        ),
        // 4 → 5: custom Azure roles.
        4 => tx.execute_batch(
            "CREATE TABLE azure_role_definitions (
                 id                TEXT PRIMARY KEY,
                 role_name         TEXT NOT NULL,
                 description       TEXT NOT NULL,
                 permissions       TEXT NOT NULL,
                 assignable_scopes TEXT NOT NULL,
                 created_at        INTEGER NOT NULL,
                 created_by        TEXT NOT NULL,
                 updated_at        INTEGER NOT NULL,
                 updated_by        TEXT NOT NULL
             ) WITHOUT ROWID;
             CREATE UNIQUE INDEX azure_role_definitions_by_name
                 ON azure_role_definitions (role_name COLLATE NOCASE);",
        ),
        // 5 → 6: the permissions granted to applications, and requests made by one acting as
        // itself.
        5 => tx.execute_batch(
            "ALTER TABLE requests ADD COLUMN created_by_app INTEGER NOT NULL DEFAULT 0;
             CREATE TABLE app_permissions (
                 id         TEXT PRIMARY KEY,
                 app_id     TEXT NOT NULL,
                 kind       TEXT NOT NULL CHECK (kind IN ('delegated', 'application')),
                 permission TEXT NOT NULL,
                 granted_at INTEGER NOT NULL,
                 granted_by TEXT NOT NULL,
                 UNIQUE (app_id, kind, permission)
             );",
        ),
        // 6 → 7: groups synchronised from on-premises (PIM for Groups cannot govern them).
        6 => tx.execute_batch(
            "ALTER TABLE directory_objects ADD COLUMN on_premises_sync INTEGER NOT NULL DEFAULT 0;",
        ),
        // 7 → 8: marks, for `export --since`.
        7 => tx.execute_batch(
            "CREATE TABLE marks (
                 name     TEXT PRIMARY KEY COLLATE NOCASE,
                 taken_at INTEGER NOT NULL,
                 snapshot TEXT NOT NULL
             ) WITHOUT ROWID;",
        ),
        // 8 → 9: PIM alerts' configurations and dismissals.
        8 => tx.execute_batch(
            "CREATE TABLE alert_settings (
                 alert        TEXT PRIMARY KEY,
                 is_enabled   INTEGER NOT NULL DEFAULT 1,
                 settings     TEXT NOT NULL DEFAULT '{}',
                 dismissed    TEXT,
                 dismissed_at INTEGER,
                 dismissed_by TEXT,
                 updated_at   INTEGER NOT NULL
             ) WITHOUT ROWID;",
        ),
        // 9 → 10: the lean store (see `lean.rs`): messages keep their inputs, traces, the audit's
        // words and the outbox's names become numbers in two dictionaries, unused indexes go.
        9 => super::lean::upgrade(tx),
        // No released version precedes 1: a store claiming one was not written by pimlab.
        _ => Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            Some(format!("no pimlab wrote schema version {version}; there is no way to upgrade it")),
        )),
    }
}
