//! A CSV file's header: which kind of file it is, and which column holds which field. Names are
//! matched without regard to case or surrounding spaces; a column the kind does not have is
//! refused by name, so a misspelt header never drops a field silently.

use std::path::Path;

use crate::model::ApiError;

use super::place::at_line;

/// The four kinds of CSV file, in the order an import applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Users,
    Groups,
    Memberships,
    Assignments,
}

/// Declares every field with the name its column has.
macro_rules! fields {
    ($($field:ident => $name:literal,)*) => {
        /// Every field a CSV file can have. The header name is the Graph property where there is one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Field {
            $($field,)*
        }

        const ALL_FIELDS: &[Field] = &[$(Field::$field,)*];

        impl Field {
            /// The column's name as the documentation spells it.
            pub fn name(self) -> &'static str {
                match self {
                    $(Field::$field => $name,)*
                }
            }
        }
    };
}

fields! {
    UserPrincipalName => "userPrincipalName",
    DisplayName => "displayName",
    Id => "id",
    Mail => "mail",
    AccountEnabled => "accountEnabled",
    Description => "description",
    IsAssignableToRole => "isAssignableToRole",
    SecurityEnabled => "securityEnabled",
    MailEnabled => "mailEnabled",
    Group => "group",
    Member => "member",
    Relation => "relation",
    Principal => "principal",
    Role => "role",
    Type => "type",
    Scope => "scope",
    Start => "start",
    Duration => "duration",
    End => "end",
    Permanent => "permanent",
    Justification => "justification",
    Ticket => "ticket",
}

const FIELD_COUNT: usize = ALL_FIELDS.len();

impl Field {
    /// The field an engine error's target names, if a CSV file has such a column.
    pub fn named(target: &str) -> Option<Field> {
        ALL_FIELDS.iter().copied().find(|f| f.name().eq_ignore_ascii_case(target))
    }
}

impl Kind {
    /// What the summary and the messages call the file's rows.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Users => "users",
            Kind::Groups => "groups",
            Kind::Memberships => "memberships",
            Kind::Assignments => "role assignments",
        }
    }

    /// The columns a file of this kind may have, required ones first.
    pub fn fields(self) -> &'static [Field] {
        use Field::*;
        match self {
            Kind::Users => &[UserPrincipalName, DisplayName, Id, Mail, AccountEnabled],
            Kind::Groups => &[DisplayName, Id, Description, IsAssignableToRole, SecurityEnabled, MailEnabled],
            Kind::Memberships => &[Group, Member, Relation],
            Kind::Assignments => {
                &[Principal, Role, Type, Scope, Group, Start, Duration, End, Permanent, Justification, Ticket]
            }
        }
    }

    /// The columns a file of this kind must have.
    pub fn required(self) -> &'static [Field] {
        use Field::*;
        match self {
            Kind::Users => &[UserPrincipalName, DisplayName],
            Kind::Groups => &[DisplayName],
            Kind::Memberships => &[Group, Member],
            Kind::Assignments => &[Principal, Role, Type],
        }
    }

    /// The kind a header names: the first of these columns it has decides.
    fn of(lower: &[String]) -> Option<Kind> {
        let has = |name: &str| lower.iter().any(|h| h == name);
        if has("userprincipalname") {
            Some(Kind::Users)
        } else if has("member") {
            Some(Kind::Memberships)
        } else if has("principal") {
            Some(Kind::Assignments)
        } else if has("displayname") {
            Some(Kind::Groups)
        } else {
            None
        }
    }
}

/// Which column holds each field of a file.
#[derive(Debug)]
pub struct Header {
    /// The column names as the file spells them.
    pub names: Vec<String>,
    /// By field (`Field as usize`).
    columns: Vec<Option<usize>>,
}

impl Header {
    /// The column (0-based) holding `field`, if the file has it.
    pub fn column(&self, field: Field) -> Option<usize> {
        self.columns[field as usize]
    }

    /// How many columns the header has.
    pub fn len(&self) -> usize {
        self.names.len()
    }
}

/// Reads the header (line `line` of `path`): the file's kind and where its fields are.
pub fn read(path: &Path, line: u64, names: &[&str]) -> Result<(Kind, Header), ApiError> {
    let lower: Vec<String> = names.iter().map(|n| n.trim().to_ascii_lowercase()).collect();
    let kind = Kind::of(&lower).ok_or_else(|| {
        at_line(
            path,
            line,
            format!(
                "the header ({}) names no kind of file: a users file has a userPrincipalName column, a memberships file a member column, a role assignments file a principal column, a groups file a displayName column (and none of those)",
                show_names(names)
            ),
        )
    })?;
    let mut columns = vec![None; FIELD_COUNT];
    for (i, name) in lower.iter().enumerate() {
        let spelt = names[i].trim();
        let Some(field) = kind.fields().iter().find(|f| f.name().eq_ignore_ascii_case(name)) else {
            return Err(at_line(
                path,
                line,
                format!(
                    "column {} ('{spelt}') is not a column of a {} file, which has {}",
                    i + 1,
                    kind.name(),
                    kind.fields().iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
                ),
            ));
        };
        if let Some(first) = columns[*field as usize] {
            let first: usize = first;
            return Err(at_line(
                path,
                line,
                format!(
                    "column {} ('{spelt}') repeats column {} ('{}')",
                    i + 1,
                    first + 1,
                    names[first].trim()
                ),
            ));
        }
        columns[*field as usize] = Some(i);
    }
    let missing: Vec<&str> =
        kind.required().iter().filter(|f| columns[**f as usize].is_none()).map(|f| f.name()).collect();
    if !missing.is_empty() {
        return Err(at_line(
            path,
            line,
            format!(
                "a {} file needs the column(s) {}; the header has {}",
                kind.name(),
                missing.join(", "),
                show_names(names)
            ),
        ));
    }
    Ok((kind, Header { names: names.iter().map(|n| n.trim().to_string()).collect(), columns }))
}

fn show_names(names: &[&str]) -> String {
    names.iter().map(|n| format!("'{}'", n.trim())).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Result<(Kind, Header), String> {
        read(Path::new("f.csv"), 1, names).map_err(|e| e.message)
    }

    #[test]
    fn the_kind_follows_from_the_key_column_whatever_its_case_and_place() {
        assert_eq!(header(&["displayName", " UserPrincipalName "]).unwrap().0, Kind::Users);
        assert_eq!(header(&["MEMBER", "group"]).unwrap().0, Kind::Memberships);
        assert_eq!(header(&["role", "principal", "type"]).unwrap().0, Kind::Assignments);
        assert_eq!(header(&["displayname"]).unwrap().0, Kind::Groups);
        let (_, h) = header(&["displayName", "description", "id"]).unwrap();
        assert_eq!((h.column(Field::Id), h.column(Field::Mail)), (Some(2), None));
    }

    #[test]
    fn unknown_repeated_and_missing_columns_are_refused_by_name() {
        let e = header(&["userPrincipalName", "displayName", "manager"]).unwrap_err();
        assert!(e.contains("column 3 ('manager') is not a column of a users file"), "{e}");
        let e = header(&["displayName", "ID", "id"]).unwrap_err();
        assert!(e.contains("column 3 ('id') repeats column 2 ('ID')"), "{e}");
        let e = header(&["principal", "role"]).unwrap_err();
        assert!(e.contains("needs the column(s) type"), "{e}");
        let e = header(&["name", "upn"]).unwrap_err();
        assert!(e.starts_with("f.csv: line 1: the header ('name', 'upn') names no kind"), "{e}");
    }
}
