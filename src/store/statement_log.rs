//! The statements the store runs, logged while a test asks (`collect`), and the query plans that
//! read a growing table without an index (`unindexed_reads`). A year-long scenario runs each
//! per-request or per-instant statement millions of times over a store of millions of rows: one
//! full pass among them makes the year quadratic, and a sample of a few days does not show it.
//! Outside a test's `collect` nothing is traced: a connection gets its trace callback only when
//! it is opened while its thread collects.

// The test API is used by tests only (`cli/plans.rs` and below).
#![cfg_attr(not(test), allow(dead_code))]

use std::cell::RefCell;
use std::collections::BTreeSet;

use rusqlite::Connection;
use rusqlite::trace::{TraceEvent, TraceEventCodes};

use super::Store;

thread_local! {
    /// The statements run on this thread since `collect` began, as written (parameters unbound).
    static LOG: RefCell<Option<BTreeSet<String>>> = const { RefCell::new(None) };
}

/// `conn`, logging each statement it starts when it is opened while this thread collects.
pub(super) fn logging(mut conn: Connection) -> Connection {
    if LOG.with(|log| log.borrow().is_none()) {
        return conn;
    }
    let traced = conn.trace_v2(
        TraceEventCodes::SQLITE_TRACE_STMT,
        Some(|event: TraceEvent<'_>| {
            if let TraceEvent::Stmt(stmt, _) = event {
                LOG.with(|log| {
                    if let Some(set) = log.borrow_mut().as_mut() {
                        set.insert(stmt.sql().into_owned());
                    }
                });
            }
        }),
    );
    // Logging is the tests' aid: a store that cannot be traced still works.
    let _ = traced;
    conn
}

/// The statements `work` made the stores it opened run on this thread.
pub(crate) fn collect(work: impl FnOnce()) -> BTreeSet<String> {
    LOG.with(|log| *log.borrow_mut() = Some(BTreeSet::new()));
    work();
    LOG.with(|log| log.borrow_mut().take()).unwrap_or_default()
}

/// The tables that grow with every request and every simulated day.
const GROWING: [&str; 5] = ["requests", "schedules", "audit", "notifications", "approval_steps"];

/// Statements that read a growing table whole by design, each with the reason: the end of its
/// text (whitespace as one space), which no other statement's has.
const WHOLE_BY_DESIGN: [(&str, &str); 6] = [
    ("FROM audit WHERE ?1 IS NULL OR at >= ?1 ORDER BY seq", "the audit listing reads the trail in order"),
    (
        "FROM notifications WHERE ?1 IS NULL OR at >= ?1 ORDER BY seq",
        "the outbox listing reads every message",
    ),
    (
        "SELECT actor_id, max(at) FROM audit GROUP BY actor_id",
        "an alert asks each actor's last act, over the trail",
    ),
    (
        "GROUP BY principal_id, role_definition_id",
        "an alert asks each eligibility's last activation, over every request",
    ),
    ("warn_1_at FROM schedules", "`check` walks every schedule the store keeps (`schedule_history`)"),
    ("SELECT id FROM requests", "a request named by the beginning of its id: every id is compared"),
];

/// Whether `sql` is one of `WHOLE_BY_DESIGN`.
fn whole_by_design(sql: &str) -> bool {
    let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    WHOLE_BY_DESIGN.iter().any(|(end, _)| sql.ends_with(end))
}

/// Each of `statements` whose query plan reads a growing table without an index, with those
/// lines of its plan, unless it reads the table whole by design.
pub(crate) fn unindexed_reads(statements: &BTreeSet<String>) -> Vec<String> {
    let Ok(store) = Store::open_in_memory() else {
        return vec!["no store to explain the statements in".to_string()];
    };
    statements
        .iter()
        .filter(|sql| !whole_by_design(sql))
        .filter_map(|sql| {
            let passes = full_passes(&store.conn, sql);
            (!passes.is_empty()).then(|| {
                format!("{}\n    {}", sql.split_whitespace().collect::<Vec<_>>().join(" "), passes.join("; "))
            })
        })
        .collect()
}

/// The lines of `sql`'s query plan that read a growing table without an index: `SCAN t`, or
/// `SEARCH t` with no index named (how SQLite shows a `min()` it cannot answer from one).
fn full_passes(conn: &Connection, sql: &str) -> Vec<String> {
    let Ok(mut stmt) = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")) else {
        return Vec::new(); // not a statement of the store's schema (a pragma, a temporary table)
    };
    let details: Vec<String> =
        stmt.query_map([], |r| r.get::<_, String>(3)).and_then(|rows| rows.collect()).unwrap_or_default();
    details
        .into_iter()
        .filter(|d| {
            let mut words = d.split_whitespace();
            let (Some(verb), Some(table)) = (words.next(), words.next()) else { return false };
            (verb == "SCAN" || verb == "SEARCH") && GROWING.contains(&table) && !d.contains(" USING ")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_purge_of_cancelled_requests_is_found_through_its_index() {
        // min() skips nulls, but SQLite does not infer `canceled_at IS NOT NULL` from it: without
        // the condition written out, the partial index was not used and every clock advance read
        // every request the store keeps.
        let statements = collect(|| {
            let mut store = Store::open_in_memory().unwrap();
            store.read().unwrap().next_request_purge(1, 1).unwrap();
        });
        assert!(statements.iter().any(|s| s.contains("min(canceled_at)")), "{statements:?}");
        assert_eq!(unindexed_reads(&statements), Vec::<String>::new());
    }

    #[test]
    fn a_full_pass_is_found_and_a_read_by_design_is_not() {
        let statements: BTreeSet<String> = [
            "SELECT min(canceled_at) FROM requests",
            "SELECT count(*) FROM schedules WHERE instance_id = 'x'",
            "SELECT seq FROM audit WHERE ?1 IS NULL OR at >= ?1 ORDER BY seq",
            "SELECT min(created_at) FROM requests",
        ]
        .map(String::from)
        .into();
        let found = unindexed_reads(&statements);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("SELECT count(*) FROM schedules"), "{found:?}");
        assert!(found[1].starts_with("SELECT min(canceled_at) FROM requests"), "{found:?}");
    }
}
