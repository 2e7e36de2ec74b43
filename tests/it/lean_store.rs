//! The lean store (schema version 10, issue 14): a store that a pimlab of schema version 9 made
//! (`fixtures/v9`: the demonstration tenant, then hooks' mails and notes, activations granted and
//! refused, approvals approved, denied, cancelled and timed out, expiry notices, an expiry and a
//! renewal) is upgraded in place the first time this pimlab opens it, and then every command of
//! the fixture's transcript prints, byte for byte, what that pimlab printed: mails (subjects and
//! bodies), the audit trail, requests with their decision traces, Graph's JSON, exports. The
//! upgraded store has the layout of a new one, and keeps what a new one keeps.

use std::collections::BTreeMap;
use std::path::Path;

use crate::harness::cli::{Lab, v9_transcript};

fn open(db: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open")
}

fn version(db: &Path) -> i64 {
    open(db).query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
}

fn count(db: &Path, sql: &str) -> i64 {
    open(db).query_row(sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The store's layout: every table's columns (name, type, not null, default, key) and every
/// index's and view's definition, whitespace aside.
fn layout(db: &Path) -> BTreeMap<String, String> {
    let conn = open(db);
    let objects: Vec<(String, String, Option<String>)> = conn
        .prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = BTreeMap::new();
    for (kind, name, sql) in objects {
        let shape = if kind == "table" {
            let columns: Vec<String> = conn
                .prepare(&format!(
                    "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('{name}')"
                ))
                .unwrap()
                .query_map([], |r| {
                    Ok(format!(
                        "{} {} {} {:?} {}",
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, i64>(4)?
                    ))
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            columns.join(", ")
        } else {
            sql.unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ")
        };
        out.insert(format!("{kind} {name}"), shape);
    }
    out
}

#[test]
fn a_version_9_store_is_upgraded_and_prints_what_the_pimlab_that_made_it_printed() {
    let lab = Lab::v9();
    assert_eq!(version(&lab.db), 9, "the fixture is a schema-9 store");
    let failures = count(&lab.db, "SELECT count(*) FROM audit WHERE result = 'failure'");
    let justified = count(&lab.db, "SELECT count(*) FROM requests WHERE justification IS NOT NULL");
    let windows = count(&lab.db, "SELECT count(*) FROM notifications WHERE instr(body, '\nFrom ') > 0");
    let transcript = v9_transcript();
    assert!(transcript.len() > 50, "the transcript has every command and every request's story");
    for (command, printed) in &transcript {
        // The fixture's commands have no quoted arguments.
        let out = lab
            .command()
            .env("PIMLAB_WIDTH", "160")
            .arg("--db")
            .arg(&lab.db)
            .args(command.split(' '))
            .output()
            .expect("run pimlab");
        let mut got = String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap();
        if !out.status.success() {
            got.push_str(&format!("[exit {}]\n", out.status.code().unwrap_or(-1)));
        }
        if &got != printed {
            let line = got.lines().zip(printed.lines()).position(|(a, b)| a != b).unwrap_or(0);
            panic!(
                "$ pimlab {command}: differs from what the schema-9 pimlab printed, from line {}:\n--- now ---\n{}\n--- then ---\n{}",
                line + 1,
                got.lines().skip(line).take(5).collect::<Vec<_>>().join("\n"),
                printed.lines().skip(line).take(5).collect::<Vec<_>>().join("\n"),
            );
        }
    }
    assert_eq!(version(&lab.db), pimlab::store::SCHEMA_VERSION, "the first command upgraded it");
    let conn = open(&lab.db);
    conn.execute_batch("PRAGMA wal_checkpoint").ok();
    drop(conn);

    // What a new store keeps, and in the same shape.
    let fresh = Lab::demo();
    assert_eq!(layout(&lab.db), layout(&fresh.db), "an upgraded store has the layout of a new one");
    let letters = count(&lab.db, "SELECT count(*) FROM notifications WHERE subject IS NULL");
    let given = count(&lab.db, "SELECT count(*) FROM notifications WHERE subject IS NOT NULL");
    let hooks = count(
        &lab.db,
        "SELECT count(*) FROM notifications n JOIN texts t ON t.id = n.event WHERE t.text LIKE 'Hook:%'",
    );
    assert!(letters > 40, "{letters} mails kept as letters");
    assert_eq!(given, hooks, "only hooks' own mails keep their text: every other mail was a letter");
    for (table, column) in
        [("requests", "trace"), ("requests", "id"), ("requests", "principal_id"), ("audit", "targets")]
    {
        let sql = format!("SELECT count(*) FROM {table} WHERE typeof({column}) <> 'blob'");
        assert_eq!(count(&lab.db, &sql), 0, "{table}.{column} is packed: {sql}");
    }
    // Schema 12: a justification is a number in `texts`, a result a code, a window an offset.
    assert!(failures > 0 && justified > 0, "the fixture has refusals and justifications");
    assert_eq!(count(&lab.db, "SELECT count(*) FROM audit WHERE result = 1 /* failure */"), failures);
    assert_eq!(count(&lab.db, "SELECT count(*) FROM audit WHERE typeof(result) <> 'integer'"), 0);
    assert_eq!(
        count(&lab.db, "SELECT count(*) FROM requests r JOIN texts t ON t.id = r.justification"),
        justified,
        "every justification is a number in texts"
    );
    assert!(windows > 0, "the fixture's mails name windows");
    assert_eq!(
        count(&lab.db, "SELECT count(*) FROM notifications WHERE starts_after IS NOT NULL"),
        windows,
        "every window is kept as its parts"
    );
    let guid_text = "typeof(id) = 'text' AND id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-*'";
    assert_eq!(
        count(&lab.db, &format!("SELECT count(*) FROM schedules WHERE {guid_text}")),
        0,
        "a GUID is kept as its bytes"
    );
}
