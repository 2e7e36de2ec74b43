//! Stores on disk: a tenant in a store file of its own temporary directory, for tests of the
//! engine and the router that must look at the file, and what "unchanged" means for a store.

use std::path::{Path, PathBuf};

use pimlab::engine::{Engine, InitOptions, Session};
use tempfile::TempDir;

/// A tenant in `<temporary directory>/t.db`, opened by the engine, and its break-glass Global
/// Administrator (the default caller). The directory goes when this is dropped.
pub struct FileTenant {
    pub dir: TempDir,
    pub db: PathBuf,
    pub engine: Engine,
    pub admin: Session,
}

impl FileTenant {
    pub fn new(opts: &InitOptions) -> FileTenant {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("t.db");
        let mut engine = Engine::open(&db).expect("open store");
        engine.init(opts).expect("init");
        let admin = Session::new(engine.default_caller().expect("default caller"));
        FileTenant { dir, db, engine, admin }
    }

    /// The demonstration tenant (seed 1, the default clock).
    pub fn demo() -> FileTenant {
        FileTenant::new(&InitOptions { demo: true, ..InitOptions::default() })
    }
}

/// Every row of every table of a store, except the audit rows of refused requests: what
/// "unchanged" means for a refusal (ARCHITECTURE.md, invariant 3: a refused request leaves only
/// its own audit record). Read-only, through plain SQLite.
pub fn logical_dump(db: &Path) -> String {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the store read-only");
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.retain(|t| !t.starts_with("sqlite_"));
    let mut out = String::new();
    for table in tables {
        let filter = if table == "audit" { " WHERE result <> 'failure'" } else { "" };
        // WITHOUT ROWID tables come in primary-key order already.
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table}{filter} ORDER BY rowid"))
            .or_else(|_| conn.prepare(&format!("SELECT * FROM {table}{filter}")))
            .unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        out.push_str(&format!("== {table}\n"));
        while let Some(row) = rows.next().unwrap() {
            let values: Vec<String> =
                (0..columns).map(|i| format!("{:?}", row.get_ref(i).unwrap())).collect();
            out.push_str(&values.join(" | "));
            out.push('\n');
        }
    }
    out
}

/// How many refused requests the audit trail records.
pub fn failure_audits(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the store read-only");
    conn.query_row("SELECT count(*) FROM audit WHERE result = 'failure'", [], |r| r.get(0)).unwrap()
}
