//! Schema creation and forward-only migration, versioned by `PRAGMA user_version`.

use rusqlite::{Connection, TransactionBehavior};

/// `PRAGMA application_id` of every pimlab store ("PIML"), so we never mistake another database for ours.
pub const APPLICATION_ID: i64 = 0x5049_4D4C;

/// The schema version this pimlab writes. Bump it with an entry in `upgrade_from`.
pub const SCHEMA_VERSION: i64 = 13;

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
    tx.commit()?;
    if version != 0 {
        give_back_space(conn);
    }
    Ok(())
}

/// Rewrites an upgraded store without the pages it no longer uses, when they are at least a
/// quarter of it. An upgrade that moves rows into leaner tables frees the pages the old rows
/// held, and SQLite reuses free pages as a store grows but never gives them back: a schema-9
/// store of 155 MB kept its size with 32 MB of rows in it. `VACUUM` writes the store anew, once,
/// as the upgrade's last step. One that cannot run (no room on the disk for the copy it writes,
/// another process reading the store) leaves the store as it was, only larger than it needs to
/// be, so its error is not the opening's.
fn give_back_space(conn: &Connection) {
    let count = |pragma: &str| conn.query_row(pragma, [], |r| r.get::<_, i64>(0)).unwrap_or(0);
    let (pages, free) = (count("PRAGMA page_count"), count("PRAGMA freelist_count"));
    if free > 0 && free * 4 >= pages {
        let _ = conn.execute_batch("VACUUM");
    }
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

/// How schema 10 checked a schedule's state, and how 11 does. SQLite tests `IN` with more than
/// two values against a temporary b-tree it builds for the list, and ran this check on every
/// insert and update of a schedule: a twentieth of a scenario's work. Equalities test the same.
const STATE_CHECK_10: &str = "CHECK (state IN (0, 1, 2, 3))";
const STATE_CHECK_11: &str = "CHECK (state = 0 OR state = 1 OR state = 2 OR state = 3)";

/// Rewrites the check in the table's stored definition, as SQLite documents for a change that
/// leaves every row as it is (lang_altertable.html, "making other kinds of table schema
/// changes"): no table is rebuilt, however large. The schema version moves so that every
/// connection reads the definition again.
fn state_check(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    /// Turns `writable_schema` off again however the step ends.
    struct Writable<'a>(&'a Connection);
    impl Drop for Writable<'_> {
        fn drop(&mut self) {
            let _ = self.0.execute_batch("PRAGMA writable_schema = OFF");
        }
    }
    let schema_version: i64 = tx.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    tx.execute_batch("PRAGMA writable_schema = ON")?;
    let writable = Writable(tx);
    let changed = tx.execute(
        "UPDATE sqlite_schema SET sql = replace(sql, ?1, ?2)
         WHERE type = 'table' AND name = 'schedules' AND instr(sql, ?1) > 0",
        [STATE_CHECK_10, STATE_CHECK_11],
    )?;
    if changed > 0 {
        tx.execute_batch(&format!("PRAGMA schema_version = {}", schema_version + 1))?;
    }
    drop(writable);
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
        // 10 → 11: the check on `schedules.state` written as equalities (see `state_check`).
        10 => state_check(tx),
        // 11 → 12: requests' justifications as numbers in `texts`, times that follow another of
        // their row as offsets from it, the audit's result as a code (see `compact.rs`).
        11 => super::compact::upgrade(tx),
        // 12 → 13: an audit row's target with a GUID and no display name may be kept inline
        // rather than as a word (`records.rs`, `INLINE_TARGET`). Every row written before reads as
        // it did; the version moves so that an older pimlab, which would take the inline target's
        // mark for a missing word, refuses the store rather than calling it damaged.
        12 => Ok(()),
        // No released version precedes 1: a store claiming one was not written by pimlab.
        _ => Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            Some(format!("no pimlab wrote schema version {version}; there is no way to upgrade it")),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedules_sql(conn: &Connection) -> String {
        conn.query_row("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'schedules'", [], |r| {
            r.get(0)
        })
        .unwrap()
    }

    /// Opcodes of an insert of a schedule in state `state`.
    fn insert_opcodes(conn: &Connection) -> Vec<String> {
        let mut stmt = conn.prepare("EXPLAIN INSERT INTO schedules (id, surface, kind, principal_id, role_definition_id, member_type, status, state, start_at, expiration_type, instance_id) VALUES ('s', 0, 0, 'p', 'r', 0, 0, ?1, 0, 0, 'i')").unwrap();
        stmt.query_map([1], |r| r.get::<_, String>(1)).unwrap().map(Result::unwrap).collect()
    }

    /// A store file at schema `version` whose file holds free pages, most of it (as an upgrade
    /// that moved rows into leaner tables leaves it).
    fn store_with_free_pages(path: &std::path::Path, version: i64) -> (i64, i64) {
        let mut conn = Connection::open(path).unwrap();
        migrate(&mut conn).unwrap();
        conn.execute_batch(
            "CREATE TABLE old_rows (x BLOB);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
             INSERT INTO old_rows SELECT randomblob(1000) FROM n;
             DROP TABLE old_rows;",
        )
        .unwrap();
        conn.pragma_update(None, "user_version", version).unwrap();
        let count = |pragma: &str| conn.query_row(pragma, [], |r| r.get::<_, i64>(0)).unwrap();
        (count("PRAGMA page_count"), count("PRAGMA freelist_count"))
    }

    #[test]
    fn an_upgraded_store_gives_back_the_pages_its_old_rows_held() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let (pages, free) = store_with_free_pages(&path, SCHEMA_VERSION - 1);
        assert!(free * 2 > pages, "{free} of {pages} pages free before");
        let before = std::fs::metadata(&path).unwrap().len();
        // As `Store::open` opens a file: in WAL mode, then migrated.
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        migrate(&mut conn).unwrap();
        let free: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0)).unwrap();
        assert_eq!(free, 0);
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
        let after = std::fs::metadata(&path).unwrap().len();
        assert!(after * 4 < before, "{after} bytes after the upgrade, {before} before");
        assert_eq!(current_version(&conn).unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn a_store_already_at_this_version_is_not_rewritten_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("current.db");
        let (_, free) = store_with_free_pages(&path, SCHEMA_VERSION);
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn).unwrap();
        let still: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0)).unwrap();
        assert_eq!(still, free, "opening a store must not cost a rewrite of it");
    }

    #[test]
    fn an_upgraded_store_checks_a_schedules_state_without_building_a_list() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        // Its schedules' check made as schema 10 wrote it (the step from 10 is the one under test;
        // the whole chain from an older store runs in `tests/it/lean_store.rs`).
        conn.execute_batch("PRAGMA writable_schema = ON").unwrap();
        let version: i64 = conn.query_row("PRAGMA schema_version", [], |r| r.get(0)).unwrap();
        conn.execute(
            "UPDATE sqlite_schema SET sql = replace(sql, ?1, ?2) WHERE name = 'schedules'",
            [STATE_CHECK_11, STATE_CHECK_10],
        )
        .unwrap();
        conn.execute_batch(&format!(
            "PRAGMA schema_version = {}; PRAGMA writable_schema = OFF; PRAGMA user_version = 10;",
            version + 1
        ))
        .unwrap();
        assert!(schedules_sql(&conn).contains(STATE_CHECK_10));
        assert!(insert_opcodes(&conn).iter().any(|op| op == "OpenEphemeral"), "10 builds the list");

        let tx = conn.transaction().unwrap();
        upgrade_from(&tx, 10).unwrap();
        tx.commit().unwrap();

        assert!(schedules_sql(&conn).contains(STATE_CHECK_11));
        assert!(!insert_opcodes(&conn).iter().any(|op| op == "OpenEphemeral"));
        let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(integrity, "ok");
        // The check still refuses what it refused, and lets through what it let through.
        let insert = |state: i64| {
            conn.execute(
                "INSERT INTO schedules (id, surface, kind, principal_id, role_definition_id, member_type, status, state, start_at, expiration_type, instance_id) VALUES (?1, 0, 0, 'p', 'r', 0, 0, ?2, 0, 0, ?1)",
                rusqlite::params![format!("s{state}"), state],
            )
        };
        for state in 0..=3 {
            insert(state).unwrap();
        }
        assert!(insert(4).is_err());
        assert!(insert(-1).is_err());
    }

    #[test]
    fn a_new_store_has_the_check_an_upgraded_one_gets() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert!(schedules_sql(&conn).contains(STATE_CHECK_11));
    }
}
