//! Ids as the store keeps them in its busiest tables (schema version 10): a GUID in its canonical
//! form (8-4-4-4-12 lower-case hex digits, as every id pimlab makes or imports is) as its 16 bytes,
//! any other id (`member`, a scope's path, an id written by hand) as its text. Both ways are
//! exact, so equality is kept: two ids are equal exactly when what is stored is. So is order
//! among GUIDs (the bytes compare as the digits do); but SQLite sorts a GUID's bytes after every
//! text, so a read that orders by an id that may not be a GUID (a schedule made outside PIM has
//! the role assignment's id) orders its rows again by the ids' text (`schedules.rs`), and a
//! UNION with a table that keeps ids as text (`memberships`) is merged outside SQL.
//!
//! The columns kept so: requests' `id`, `principal_id`, `role_definition_id`,
//! `directory_scope_id`, `app_scope_id`, `target_schedule_id`, `approval_id`, `created_by`,
//! `activated_using`; schedules' `id`, `principal_id`, `role_definition_id`,
//! `directory_scope_id`, `app_scope_id`, `created_using`, `activated_using`, `replaces`;
//! `approval_steps.approval_id`; `audit.request_id` and `notifications.request_id`. Every
//! statement binds an id of these columns as a [`Key`] and reads one with [`Id`].

use rusqlite::ToSql;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};

/// An id to bind: a GUID's 16 bytes, or the text. The bytes are worked out once, when the key is
/// made, so that binding borrows them rather than allocating a blob per statement.
#[derive(Debug, Clone, Copy)]
pub(super) struct Key<'a> {
    text: &'a str,
    guid: Option<[u8; 16]>,
}

impl<'a> Key<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Key { text, guid: guid_bytes(text) }
    }
}

impl ToSql for Key<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match &self.guid {
            Some(bytes) => ValueRef::Blob(bytes),
            None => ValueRef::Text(self.text.as_bytes()),
        }))
    }
}

/// An optional id to bind.
pub(super) fn key(id: Option<&str>) -> Option<Key<'_>> {
    id.map(Key::new)
}

/// An id that is most often the row's own (a request's schedule is the request's id, a request
/// is made by its principal, a schedule by the request of its id): then it is kept as an empty
/// blob, which no id is, and read back as the row's own.
#[derive(Debug, Clone, Copy)]
pub(super) enum Ref<'a> {
    Own,
    Other(Key<'a>),
}

impl ToSql for Ref<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Ref::Own => Ok(ToSqlOutput::Borrowed(ValueRef::Blob(&[]))),
            Ref::Other(key) => key.to_sql(),
        }
    }
}

/// `id` as a [`Ref`] from a row whose own id is `own`.
pub(super) fn reference<'a>(id: Option<&'a str>, own: &str) -> Option<Ref<'a>> {
    id.map(|id| if id == own { Ref::Own } else { Ref::Other(Key::new(id)) })
}

/// The optional id in column `i` of a row whose own id is `own` (see [`Ref`]).
pub(super) fn opt_ref(r: &rusqlite::Row<'_>, i: usize, own: &str) -> rusqlite::Result<Option<String>> {
    match r.get_ref(i)? {
        ValueRef::Blob([]) => Ok(Some(own.to_string())),
        _ => opt_id(r, i),
    }
}

/// An optional id as a value to bind, as [`Key`] binds it.
pub(super) fn key_value(id: Option<&str>) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match id {
        None => Value::Null,
        Some(id) => match guid_bytes(id) {
            Some(bytes) => Value::Blob(bytes.to_vec()),
            None => Value::Text(id.to_string()),
        },
    }
}

/// An id read back: a GUID's bytes spelled out, or the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Id(pub(super) String);

impl FromSql for Id {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Blob(bytes) => {
                let bytes: &[u8; 16] = bytes.try_into().map_err(|_| FromSqlError::InvalidBlobSize {
                    expected_size: 16,
                    blob_size: bytes.len(),
                })?;
                Ok(Id(spell(bytes)))
            }
            ValueRef::Text(_) => String::column_result(value).map(Id),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

/// The id in column `i` of a row.
pub(super) fn id(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<String> {
    Ok(r.get::<_, Id>(i)?.0)
}

/// The optional id in column `i` of a row.
pub(super) fn opt_id(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(r.get::<_, Option<Id>>(i)?.map(|id| id.0))
}

/// The 16 bytes of a GUID in canonical form; `None` for any other text.
pub(super) fn guid_bytes(text: &str) -> Option<[u8; 16]> {
    let t = text.as_bytes();
    if t.len() != 36 || [8, 13, 18, 23].iter().any(|&i| t[i] != b'-') {
        return None;
    }
    let mut out = [0u8; 16];
    // Dashes only where the form has them: 32 digits remain, or the text is no GUID.
    let mut digits = t.iter().filter(|&&c| c != b'-');
    for byte in &mut out {
        let (hi, lo) = (nibble(*digits.next()?)?, nibble(*digits.next()?)?);
        *byte = hi << 4 | lo;
    }
    Some(out)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// A GUID's 16 bytes in canonical form.
pub(super) fn spell(bytes: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_canonical_guid_is_its_bytes_and_everything_else_its_text() {
        let guid = "729827e3-9c14-49f7-bb1b-9608f156bbb8";
        let bytes = guid_bytes(guid).unwrap();
        assert_eq!(bytes[..4], [0x72, 0x98, 0x27, 0xe3]);
        assert_eq!(spell(&bytes), guid);
        for other in [
            "729827E3-9C14-49F7-BB1B-9608F156BBB8",
            "729827e3-9c14-49f7-bb1b-9608f156bbb",
            "729827e39c1449f7bb1b9608f156bbb8",
            "729827e3-9c14-49f7-bb1b-9608f156bbbg",
            "729827e3-9c1449f7--bb1b-9608f156bbb8",
            "{729827e3-9c14-49f7-bb1b-9608f156bb}",
            "member",
            "/",
            "",
        ] {
            assert_eq!(guid_bytes(other), None, "{other}");
        }
    }

    #[test]
    fn guids_sort_by_their_bytes_as_by_their_digits() {
        let mut ids = [
            "f0000000-0000-0000-0000-000000000000",
            "0a000000-0000-0000-0000-000000000001",
            "0a000000-0000-0000-0000-000000000000",
            "9fffffff-ffff-ffff-ffff-ffffffffffff",
            "a0000000-0000-0000-0000-000000000000",
        ];
        let mut by_bytes = ids;
        by_bytes.sort_by_key(|g| guid_bytes(g).unwrap());
        ids.sort();
        assert_eq!(ids, by_bytes);
    }

    #[test]
    fn an_id_goes_in_and_comes_out_the_same() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for text in ["729827e3-9c14-49f7-bb1b-9608f156bbb8", "member", "/administrativeUnits/x"] {
            let back: Id = conn.query_row("SELECT ?1", [Key::new(text)], |r| r.get(0)).unwrap();
            assert_eq!(back.0, text);
        }
        let kind: String = conn
            .query_row("SELECT typeof(?1)", [Key::new("729827e3-9c14-49f7-bb1b-9608f156bbb8")], |r| r.get(0))
            .unwrap();
        assert_eq!(kind, "blob");
    }
}
