//! The store's dictionaries (schema version 10): a text that recurs from row to row (a name, an
//! address, a rule id, a trace's check, limit or value) is kept once and named by its number.
//! `texts` serves the outbox and the decision traces; `audit_texts` the audit trail alone, so that
//! a refused request's audit row, which commits when everything else is rolled back, adds words
//! to the audit trail's dictionary and to nothing else. Entries are never changed or removed
//! while a store lives (`init --force` empties them with everything else), so a number read once
//! names the same text for as long as the store's caches are valid (see `cache.rs`).
//!
//! Lists of numbers are packed into a blob, each number as an unsigned LEB128 varint: one byte
//! below 128, two below 16,384.

use std::rc::Rc;

use rusqlite::OptionalExtension;

use super::Tx;

/// Which dictionary a column's numbers name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dictionary {
    /// `texts`: the outbox's and the decision traces' words.
    Texts = 0,
    /// `audit_texts`: the audit trail's words.
    Audit = 1,
}

impl Dictionary {
    fn find_sql(self) -> &'static str {
        match self {
            Dictionary::Texts => "SELECT id FROM texts WHERE text = ?1",
            Dictionary::Audit => "SELECT id FROM audit_texts WHERE text = ?1",
        }
    }

    fn add_sql(self) -> &'static str {
        match self {
            Dictionary::Texts => "INSERT INTO texts (text) VALUES (?1)",
            Dictionary::Audit => "INSERT INTO audit_texts (text) VALUES (?1)",
        }
    }

    fn get_sql(self) -> &'static str {
        match self {
            Dictionary::Texts => "SELECT text FROM texts WHERE id = ?1",
            Dictionary::Audit => "SELECT text FROM audit_texts WHERE id = ?1",
        }
    }
}

/// The number of `text` in `dict`, added if it is not there yet; and whether it was added.
fn find_or_add(conn: &super::Scope<'_>, dict: Dictionary, text: &str) -> rusqlite::Result<(i64, bool)> {
    if let Some(id) = conn.cached(dict.find_sql())?.query_row([text], |r| r.get(0)).optional()? {
        return Ok((id, false));
    }
    conn.cached(dict.add_sql())?.execute([text])?;
    Ok((conn.last_insert_rowid(), true))
}

/// The text numbered `id` in `dict`; a number the dictionary lacks is a damaged store.
fn text_of(conn: &super::Scope<'_>, dict: Dictionary, id: i64) -> rusqlite::Result<String> {
    conn.cached(dict.get_sql())?.query_row([id], |r| r.get(0)).optional()?.ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Integer,
            format!("text {id} is missing from the store's dictionary").into(),
        )
    })
}

pub(super) fn push_varint(out: &mut Vec<u8>, n: i64) {
    let mut n = n as u64;
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Reads varints off the front of a packed blob.
pub(super) struct Unpack<'a>(pub(super) &'a [u8]);

impl Unpack<'_> {
    /// The next number; `None` at the end, or where the blob is damaged (a varint cut short or
    /// too long).
    pub(super) fn next_id(&mut self) -> Option<i64> {
        let mut n: u64 = 0;
        for (i, &byte) in self.0.iter().enumerate().take(10) {
            n |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.0 = &self.0[i + 1..];
                return i64::try_from(n).ok();
            }
        }
        None
    }

    /// The next `n` bytes as they are; `None` if fewer remain.
    pub(super) fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (front, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(front)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Every number of a packed blob; `None` if it is damaged.
pub(super) fn unpack(bytes: &[u8]) -> Option<Vec<i64>> {
    let mut reader = Unpack(bytes);
    let mut out = Vec::new();
    while !reader.is_empty() {
        out.push(reader.next_id()?);
    }
    Some(out)
}

impl Tx<'_> {
    /// The number of `text` in `dict`, added if new (remembered either way).
    pub(super) fn word_id(&self, dict: Dictionary, text: &str) -> rusqlite::Result<i64> {
        if let Some(&id) = self.caches()?.words[dict as usize].by_text.get(text) {
            return Ok(id);
        }
        let (id, added) = find_or_add(&self.tx, dict, text)?;
        let mut caches = self.caches()?;
        if added {
            // A rollback takes the row back: what was remembered since must go with it.
            caches.added_word();
        }
        caches.words[dict as usize].remember(id, Rc::from(text));
        Ok(id)
    }

    /// The numbers of `texts` in `dict`, packed.
    pub(super) fn pack_words<'t>(
        &self,
        dict: Dictionary,
        texts: impl IntoIterator<Item = &'t str>,
    ) -> rusqlite::Result<Vec<u8>> {
        let mut out = Vec::new();
        for text in texts {
            push_varint(&mut out, self.word_id(dict, text)?);
        }
        Ok(out)
    }

    /// The text numbered `id` in `dict`.
    pub(super) fn word(&self, dict: Dictionary, id: i64) -> rusqlite::Result<Rc<str>> {
        if let Some(text) = self.caches()?.words[dict as usize].by_id.get(&id) {
            return Ok(text.clone());
        }
        let text: Rc<str> = Rc::from(text_of(&self.tx, dict, id)?);
        self.caches()?.words[dict as usize].remember(id, text.clone());
        Ok(text)
    }

    /// The text numbered `id`, if there is a number.
    pub(super) fn word_opt(&self, dict: Dictionary, id: Option<i64>) -> rusqlite::Result<Option<String>> {
        id.map(|id| self.word(dict, id).map(|t| t.to_string())).transpose()
    }

    /// The texts of a packed blob; a damaged blob is a damaged store.
    pub(super) fn unpack_words(&self, dict: Dictionary, bytes: &[u8]) -> rusqlite::Result<Vec<String>> {
        let ids = unpack(bytes).ok_or_else(|| damaged("a packed list"))?;
        ids.into_iter().map(|id| self.word(dict, id).map(|t| t.to_string())).collect()
    }
}

/// A row the store cannot read back.
pub(super) fn damaged(what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Blob,
        format!("{what} in the store is damaged").into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn pack(ids: impl IntoIterator<Item = i64>) -> Vec<u8> {
        let mut out = Vec::new();
        for id in ids {
            push_varint(&mut out, id);
        }
        out
    }

    #[test]
    fn varints_pack_and_unpack_every_size() {
        let ids = [0, 1, 127, 128, 16_383, 16_384, i64::from(u32::MAX), i64::MAX];
        let packed = pack(ids);
        assert_eq!(packed[..4], [0, 1, 127, 0x80]);
        assert_eq!(unpack(&packed), Some(ids.to_vec()));
        assert_eq!(unpack(&[]), Some(Vec::new()));
        assert_eq!(unpack(&[0x80]), None, "cut short");
        assert_eq!(unpack(&[0xff; 11]), None, "too long");
    }

    #[test]
    fn a_word_is_numbered_once_and_read_back() {
        let mut store = Store::open_in_memory().unwrap();
        let tx = store.write().unwrap();
        let a = tx.word_id(Dictionary::Texts, "Helpdesk Administrator").unwrap();
        let b = tx.word_id(Dictionary::Texts, "Helpdesk Administrator").unwrap();
        let c = tx.word_id(Dictionary::Audit, "Helpdesk Administrator").unwrap();
        assert_eq!(a, b);
        assert_eq!(&*tx.word(Dictionary::Audit, c).unwrap(), "Helpdesk Administrator");
        assert!(tx.word(Dictionary::Texts, a + 1).is_err(), "a number the dictionary lacks");
        tx.commit().unwrap();
    }

    #[test]
    fn a_word_added_in_a_rolled_back_transaction_is_not_remembered() {
        let mut store = Store::open_in_memory().unwrap();
        let kept = {
            let tx = store.write().unwrap();
            let id = tx.word_id(Dictionary::Texts, "kept").unwrap();
            tx.commit().unwrap();
            id
        };
        let lost = {
            let tx = store.write().unwrap();
            tx.word_id(Dictionary::Texts, "lost").unwrap()
            // Dropped without commit: rolled back.
        };
        let tx = store.write().unwrap();
        // The number the lost word had goes to the next new word, and means that word.
        let next = tx.word_id(Dictionary::Texts, "next").unwrap();
        assert_eq!(next, lost);
        assert_eq!(&*tx.word(Dictionary::Texts, next).unwrap(), "next");
        assert_eq!(tx.word_id(Dictionary::Texts, "kept").unwrap(), kept);
    }
}
