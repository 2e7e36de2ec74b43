//! The store's connection with the prepared statements it keeps, found by the address of their
//! SQL text.
//!
//! rusqlite's own cache (`prepare_cached`) finds a statement by its text: each use hashes the SQL
//! (SipHash, a few hundred bytes) to take it out, copies the text into a new `Arc<str>` key, and
//! hashes it again to put it back. A request runs about thirty statements, and that was about
//! 35,000 of its instructions (callgrind, the year bench's working day). Nearly every statement
//! pimlab runs is a `&'static str` (a literal, or a [`crate::store::sql!`] text made once), so its
//! address and length are key enough: [`Db::cached`] finds it by those, with no hashing of the
//! text and no allocation. A text made at run time still goes through `prepare_cached`.
//!
//! The statements borrow the connection, which the store owns beside them. They are kept as
//! `Statement<'static>`, which is sound because the connection is boxed (it never moves, however
//! the store is moved) and the statements are dropped before it (the fields' order); only
//! [`Db::cached`] lends one out, for no longer than `&self`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};

use rusqlite::hooks::Wal;
use rusqlite::{CachedStatement, Connection, PrepFlags, Statement};

/// A statement's key: its SQL text's address and length.
type Key = (usize, usize);

/// The connection, and the statements prepared on it that are not in use now.
pub(super) struct Db {
    /// Dropped before `conn` (fields drop in order), as a statement must be finalised before its
    /// connection closes.
    idle: RefCell<HashMap<Key, Vec<Statement<'static>>, foldhash::fast::RandomState>>,
    conn: Box<Connection>,
}

// SAFETY: the statements only ever travel with the connection they were prepared on (rusqlite's
// own statement cache is `Send` for the same reason), and neither is shared between threads: `Db`
// is not `Sync`.
unsafe impl Send for Db {}

impl Db {
    pub(super) fn new(conn: Connection) -> Db {
        Db { idle: RefCell::default(), conn: Box::new(conn) }
    }

    /// The statement for `sql`, prepared on first use and kept for the next (a statement in use
    /// and asked for again, by a nested call, is prepared a second time, and both are kept).
    pub(super) fn cached(&self, sql: &'static str) -> rusqlite::Result<Held<'_>> {
        let key = (sql.as_ptr() as usize, sql.len());
        let kept = self.idle.borrow_mut().get_mut(&key).and_then(Vec::pop);
        let stmt = match kept {
            Some(stmt) => stmt,
            // Persistent: SQLite allocates it for a long life, as rusqlite's cache does.
            None => self.conn.prepare_with_flags(sql, PrepFlags::SQLITE_PREPARE_PERSISTENT)?,
        };
        Ok(Held::Kept { stmt: Some(stmt), key, db: self })
    }

    /// Sets (or, with `None`, removes) what SQLite calls after each commit with the number of
    /// frames the WAL then holds (`checkpointer.rs`). It replaces `wal_autocheckpoint`, which is
    /// such a hook too.
    pub(super) fn wal_hook<F>(&mut self, hook: Option<F>) -> rusqlite::Result<()>
    where
        F: FnMut(&mut Wal, std::ffi::c_int) -> rusqlite::Result<()> + Send + 'static,
    {
        self.conn.wal_hook(hook)
    }
}

impl Deref for Db {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

/// A statement in use: a kept one, back with the others when dropped (rusqlite resets a statement
/// after `execute` and when its `Rows` are dropped, so it comes back ready to bind and run again),
/// or, for a schema upgrade's `Tx` (which runs on the bare connection, before the store keeps
/// statements), one from rusqlite's cache.
pub(super) enum Held<'a> {
    Kept { stmt: Option<Statement<'a>>, key: Key, db: &'a Db },
    Cached(CachedStatement<'a>),
}

impl<'a> Held<'a> {
    /// The statement for `sql` from rusqlite's cache.
    pub(super) fn cached(conn: &'a Connection, sql: &str) -> rusqlite::Result<Held<'a>> {
        Ok(Held::Cached(conn.prepare_cached(sql)?))
    }
}

impl<'a> Deref for Held<'a> {
    type Target = Statement<'a>;
    fn deref(&self) -> &Statement<'a> {
        match self {
            Held::Kept { stmt, .. } => stmt.as_ref().expect("held until dropped"),
            Held::Cached(stmt) => stmt,
        }
    }
}

/// (Whoever holds it binds and runs it; nothing puts another statement in its place, which would
/// keep that one beyond its own connection.)
impl<'a> DerefMut for Held<'a> {
    fn deref_mut(&mut self) -> &mut Statement<'a> {
        match self {
            Held::Kept { stmt, .. } => stmt.as_mut().expect("held until dropped"),
            Held::Cached(stmt) => stmt,
        }
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let Held::Kept { stmt, key, db } = self {
            if let Some(stmt) = stmt.take() {
                // SAFETY: `stmt` was prepared on `db.conn`, boxed (so its address is fixed) and
                // dropped only after `idle` is: the longer lifetime never outlives the
                // connection, and no statement leaves `idle` except through `cached`, for no
                // longer than `&Db`.
                let stmt = unsafe { std::mem::transmute::<Statement<'_>, Statement<'static>>(stmt) };
                db.idle.borrow_mut().entry(*key).or_default().push(stmt);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Db {
        let db = Db::new(Connection::open_in_memory().unwrap());
        db.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3);").unwrap();
        db
    }

    fn kept(db: &Db, sql: &'static str) -> usize {
        db.idle.borrow().get(&(sql.as_ptr() as usize, sql.len())).map_or(0, Vec::len)
    }

    #[test]
    fn a_statement_asked_for_while_in_use_is_prepared_again_and_both_are_kept() {
        static SQL: &str = "SELECT count(*) FROM t WHERE x > ?1";
        let db = db();
        {
            let mut outer = db.cached(SQL).unwrap();
            let mut inner = db.cached(SQL).unwrap();
            assert_eq!(inner.query_row([1], |r| r.get::<_, i64>(0)).unwrap(), 2);
            assert_eq!(outer.query_row([2], |r| r.get::<_, i64>(0)).unwrap(), 1);
            assert_eq!(kept(&db, SQL), 0, "both are in use");
        }
        assert_eq!(kept(&db, SQL), 2);
        assert_eq!(db.cached(SQL).unwrap().query_row([0], |r| r.get::<_, i64>(0)).unwrap(), 3);
    }

    #[test]
    fn a_statement_dropped_in_the_middle_of_its_rows_is_kept_reset() {
        static SQL: &str = "SELECT x FROM t ORDER BY x";
        let db = db();
        {
            let mut stmt = db.cached(SQL).unwrap();
            let mut rows = stmt.query([]).unwrap();
            assert_eq!(rows.next().unwrap().unwrap().get::<_, i64>(0).unwrap(), 1);
        }
        assert_eq!(kept(&db, SQL), 1);
        // A statement left in the middle of a read would keep the table locked.
        db.execute_batch("DROP TABLE t").unwrap();
    }

    #[test]
    fn kept_statements_follow_their_connection_when_it_moves() {
        static SQL: &str = "SELECT sum(x) FROM t";
        let db = db();
        assert_eq!(db.cached(SQL).unwrap().query_row([], |r| r.get::<_, i64>(0)).unwrap(), 6);
        let moved = Box::new(db);
        let db = &*moved;
        assert_eq!(kept(db, SQL), 1);
        assert_eq!(db.cached(SQL).unwrap().query_row([], |r| r.get::<_, i64>(0)).unwrap(), 6);
    }

    #[test]
    fn the_same_text_at_another_address_is_a_statement_of_its_own() {
        let db = db();
        let made = String::from("SELECT max(x) FROM t");
        let leaked: &'static str = Box::leak(made.into_boxed_str());
        static SQL: &str = "SELECT max(x) FROM t";
        assert_eq!(db.cached(leaked).unwrap().query_row([], |r| r.get::<_, i64>(0)).unwrap(), 3);
        assert_eq!(db.cached(SQL).unwrap().query_row([], |r| r.get::<_, i64>(0)).unwrap(), 3);
        assert_eq!((kept(&db, leaked), kept(&db, SQL)), (1, 1));
    }
}
