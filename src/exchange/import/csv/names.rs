//! Names across the whole import: every object the tenant has and every user and group the files
//! create, found by id, user principal name or display name exactly as `resolve_object` finds
//! them (case-insensitively; `alice` for `alice@{domain}`), from maps built once, so a row costs a
//! hash lookup rather than a query. A file's row may name an object another file creates.

use std::collections::HashMap;

use crate::model::{DirectoryObject, PrincipalKind};

/// One object an import can name.
#[derive(Debug)]
pub struct Entry {
    pub kind: PrincipalKind,
    pub display_name: String,
    pub upn: Option<String>,
    /// Where it comes from: the tenant (with its id), or a line of a file.
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub enum Origin {
    Stored(String),
    /// An object the import creates, from `file`'s `line` (entries are in the order of creation:
    /// users first, then groups).
    Row {
        file: usize,
        line: u64,
    },
}

/// How a key names an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Id,
    Upn,
    DisplayName,
}

/// Why a name did not name one object.
#[derive(Debug)]
pub enum Miss {
    None,
    Many(Vec<usize>),
}

/// Every nameable object, by each of its names.
#[derive(Default)]
pub struct Directory {
    pub entries: Vec<Entry>,
    by_key: HashMap<String, Vec<(usize, KeyKind)>>,
    domain: String,
}

impl Directory {
    pub fn new(domain: String) -> Directory {
        Directory { domain: domain.to_ascii_lowercase(), ..Directory::default() }
    }

    /// Adds an object the tenant has.
    pub fn add_stored(&mut self, o: DirectoryObject) {
        let entry = Entry {
            kind: o.kind,
            display_name: o.display_name,
            upn: o.user_principal_name,
            origin: Origin::Stored(o.id.clone()),
        };
        self.add(entry, Some(&o.id));
    }

    /// Adds an object the import creates; `id` when its row gives one.
    pub fn add_planned(&mut self, entry: Entry, id: Option<&str>) -> usize {
        self.add(entry, id)
    }

    fn add(&mut self, entry: Entry, id: Option<&str>) -> usize {
        let n = self.entries.len();
        if let Some(id) = id {
            self.key(id, n, KeyKind::Id);
        }
        if let Some(upn) = entry.upn.clone() {
            self.key(&upn, n, KeyKind::Upn);
        }
        let name = entry.display_name.clone();
        self.key(&name, n, KeyKind::DisplayName);
        self.entries.push(entry);
        n
    }

    fn key(&mut self, text: &str, n: usize, kind: KeyKind) {
        self.by_key.entry(text.trim().to_ascii_lowercase()).or_default().push((n, kind));
    }

    /// The object that already has this id, if one does.
    pub fn with_id(&self, id: &str) -> Option<usize> {
        self.find(id, &[KeyKind::Id]).first().copied()
    }

    /// The object that already has this user principal name, if one does.
    pub fn with_upn(&self, upn: &str) -> Option<usize> {
        self.find(upn, &[KeyKind::Upn]).first().copied()
    }

    fn find(&self, text: &str, kinds: &[KeyKind]) -> Vec<usize> {
        let mut found: Vec<usize> = Vec::new();
        for (n, k) in self.by_key.get(&text.trim().to_ascii_lowercase()).map_or(&[][..], |v| &v[..]) {
            if kinds.contains(k) && !found.contains(n) {
                found.push(*n);
            }
        }
        found
    }

    /// The one object `text` names: by id first; else by user principal name or display name;
    /// else, for a bare name, as `name@{domain}`.
    pub fn resolve(&self, text: &str) -> Result<usize, Miss> {
        if let Some(n) = self.with_id(text) {
            return Ok(n);
        }
        let mut found = self.find(text, &[KeyKind::Upn, KeyKind::DisplayName]);
        if found.is_empty() && !text.contains('@') {
            found = self.find(&format!("{}@{}", text.trim(), self.domain), &[KeyKind::Upn]);
        }
        match found.len() {
            0 => Err(Miss::None),
            1 => Ok(found[0]),
            _ => Err(Miss::Many(found)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(kind: PrincipalKind, name: &str, upn: Option<&str>, n: usize) -> Entry {
        Entry {
            kind,
            display_name: name.into(),
            upn: upn.map(str::to_string),
            origin: Origin::Row { file: 0, line: n as u64 + 2 },
        }
    }

    #[test]
    fn names_resolve_by_id_upn_display_name_and_short_name() {
        let mut d = Directory::new("Contoso.example".into());
        let alice = d.add_planned(
            planned(PrincipalKind::User, "Alice Admin", Some("alice@contoso.example"), 0),
            Some("00000000-0000-0000-0000-00000000000a"),
        );
        let sales = d.add_planned(planned(PrincipalKind::Group, "Sales", None, 1), None);
        assert_eq!(d.resolve("00000000-0000-0000-0000-00000000000A").unwrap(), alice);
        assert_eq!(d.resolve(" ALICE@contoso.example ").unwrap(), alice);
        assert_eq!(d.resolve("alice admin").unwrap(), alice);
        assert_eq!(d.resolve("alice").unwrap(), alice);
        assert_eq!(d.resolve("sales").unwrap(), sales);
        assert!(matches!(d.resolve("nobody"), Err(Miss::None)));
        d.add_planned(planned(PrincipalKind::Group, "Sales", None, 2), None);
        assert!(matches!(d.resolve("Sales"), Err(Miss::Many(v)) if v.len() == 2));
    }
}
