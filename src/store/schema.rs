//! Schema creation and forward-only migration, versioned by `PRAGMA user_version`.

use rusqlite::{Connection, TransactionBehavior};

/// `PRAGMA application_id` of every pimlab store ("PIML"), so we never mistake another database for ours.
pub const APPLICATION_ID: i64 = 0x5049_4D4C;

/// The schema version this pimlab writes. Bump it with an entry in `upgrade_from`.
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = include_str!("../../schema.sql");

/// Brings the schema to `SCHEMA_VERSION` in one IMMEDIATE transaction: creates it in an empty file,
/// or runs each upgrade step in turn. Callers have already refused newer versions.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
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

/// Moves the schema from `version` to `version + 1`. Each arm says why the step exists.
fn upgrade_from(_tx: &rusqlite::Transaction<'_>, version: i64) -> rusqlite::Result<()> {
    // No released version precedes 1 yet.
    unreachable!("no upgrade step from schema version {version}")
}
