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
/// its own audit record). The audit rows are shown with their words, read from the audit trail's
/// dictionary (`audit_texts`), which is left out itself: a refusal's row may add words to it.
/// Read-only, through plain SQLite.
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
    tables.retain(|t| !t.starts_with("sqlite_") && t != "audit_texts");
    let mut out = String::new();
    for table in tables {
        out.push_str(&format!("== {table}\n"));
        if table == "audit" {
            for row in audit_rows(&conn).into_iter().filter(|r| r.result != "failure") {
                out.push_str(&format!("{row:?}\n"));
            }
            continue;
        }
        // WITHOUT ROWID tables come in primary-key order already.
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
            .or_else(|_| conn.prepare(&format!("SELECT * FROM {table}")))
            .unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            let values: Vec<String> =
                (0..columns).map(|i| format!("{:?}", row.get_ref(i).unwrap())).collect();
            out.push_str(&values.join(" | "));
            out.push('\n');
        }
    }
    out
}

/// One audit row with its words read from the audit trail's dictionary.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub activity: String,
    pub category: String,
    pub result: String,
    pub reason: Option<String>,
    /// Spelled as the engine spells it (the store keeps a GUID as its 16 bytes).
    pub request_id: Option<String>,
    /// Each target's JSON.
    pub targets: Vec<String>,
}

/// Every audit row, in sequence order, through plain SQLite: the numbers in `audit_texts` read
/// back (`targets` packs them as LEB128 varints).
pub fn audit_rows(conn: &rusqlite::Connection) -> Vec<AuditRow> {
    let words: std::collections::HashMap<i64, String> = conn
        .prepare("SELECT id, text FROM audit_texts")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let word = |id: i64| words.get(&id).unwrap_or_else(|| panic!("audit word {id} missing")).clone();
    let mut stmt = conn
        .prepare(
            "SELECT seq, at, actor_id, activity, category, result, reason, request_id, targets
             FROM audit ORDER BY seq",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            let packed: Vec<u8> = r.get(8)?;
            Ok(AuditRow {
                seq: r.get(0)?,
                at: r.get(1)?,
                actor: word(r.get(2)?),
                activity: word(r.get(3)?),
                category: word(r.get(4)?),
                // Kept as a code (schema version 12).
                result: match r.get::<_, i64>(5)? {
                    0 => "success".to_string(),
                    1 => "failure".to_string(),
                    other => panic!("audit result code {other}"),
                },
                reason: r.get::<_, Option<i64>>(6)?.map(word),
                request_id: spelled_id(r.get_ref(7)?),
                targets: targets(&packed, &word),
            })
        })
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

/// An id column as the engine spells it: a GUID kept as its 16 bytes in its canonical form,
/// any other id as its text.
pub fn spelled_id(value: rusqlite::types::ValueRef<'_>) -> Option<String> {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => None,
        ValueRef::Blob(bytes) => {
            assert_eq!(bytes.len(), 16, "an id kept as bytes is a GUID's 16");
            Some(spelled_guid(bytes))
        }
        ValueRef::Text(text) => Some(String::from_utf8_lossy(text).into_owned()),
        other => panic!("an id column holds {other:?}"),
    }
}

/// A GUID kept as its 16 bytes, in its canonical form (8-4-4-4-12 lower-case hex digits).
pub fn spelled_guid(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// An audit row's targets, each as the JSON its dictionary word holds. A 0 marks a target kept
/// inline (schema version 13): its type's word and its GUID's 16 bytes follow, and it has no
/// display name.
fn targets(packed: &[u8], word: &dyn Fn(i64) -> String) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = packed;
    while !rest.is_empty() {
        let (n, after) = varint(rest);
        rest = after;
        if n != 0 {
            out.push(word(n));
            continue;
        }
        let (kind, after) = varint(rest);
        let (guid, after) = after.split_at(16);
        rest = after;
        let target = pimlab::model::audit::AuditTarget {
            id: spelled_guid(guid),
            kind: word(kind),
            display_name: None,
        };
        out.push(serde_json::to_string(&target).unwrap());
    }
    out
}

/// The unsigned LEB128 varint at the front of `bytes`, and what follows it.
fn varint(bytes: &[u8]) -> (i64, &[u8]) {
    let (mut n, mut shift) = (0i64, 0);
    for (i, &b) in bytes.iter().enumerate() {
        n |= i64::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            return (n, &bytes[i + 1..]);
        }
    }
    panic!("a varint cut short in {bytes:?}")
}

/// How many refused requests the audit trail records.
pub fn failure_audits(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the store read-only");
    conn.query_row("SELECT count(*) FROM audit WHERE result = 1 /* failure */", [], |r| r.get(0)).unwrap()
}
