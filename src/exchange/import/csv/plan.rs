//! Before anything is written: every object the files create is placed beside those the tenant
//! has, duplicate ids and user principal names are refused, and every name a membership or an
//! assignment gives is resolved to one object of the right kind, so a bad reference refuses the
//! import with its line and column instead of failing half-way through.

use std::collections::HashMap;

use super::columns::Field;
use super::names::{Directory, Entry, Miss, Origin};
use super::rows::{AssignmentRow, GroupRow, MembershipRow, UserRow};
use super::{CsvFile, Rows};
use crate::engine::Engine;
use crate::model::{ApiError, PrincipalKind};

/// The import, resolved: each row with its file and the objects it names (entries of `names`).
pub struct Plan<'a> {
    pub names: Directory,
    pub users: Vec<(&'a CsvFile, &'a UserRow)>,
    pub groups: Vec<(&'a CsvFile, &'a GroupRow)>,
    pub memberships: Vec<Membership<'a>>,
    pub assignments: Vec<Assignment<'a>>,
}

pub struct Membership<'a> {
    pub file: &'a CsvFile,
    pub row: &'a MembershipRow,
    pub group: usize,
    pub member: usize,
}

pub struct Assignment<'a> {
    pub file: &'a CsvFile,
    pub row: &'a AssignmentRow,
    pub principal: usize,
    pub group: Option<usize>,
}

const PRINCIPALS: &[PrincipalKind] =
    &[PrincipalKind::User, PrincipalKind::Group, PrincipalKind::ServicePrincipal];

impl<'a> Plan<'a> {
    pub fn new(engine: &mut Engine, files: &'a [CsvFile]) -> Result<Plan<'a>, ApiError> {
        let mut names = Directory::new(engine.domain()?);
        for kind in [
            PrincipalKind::User,
            PrincipalKind::Group,
            PrincipalKind::ServicePrincipal,
            PrincipalKind::AdministrativeUnit,
        ] {
            for o in engine.objects(kind)? {
                names.add_stored(o);
            }
        }
        let mut plan = Plan {
            names,
            users: Vec::new(),
            groups: Vec::new(),
            memberships: Vec::new(),
            assignments: Vec::new(),
        };
        plan.users = plan.place_all(files, PrincipalKind::User, |r| match r {
            Rows::Users(rows) => rows,
            _ => &[],
        })?;
        plan.groups = plan.place_all(files, PrincipalKind::Group, |r| match r {
            Rows::Groups(rows) => rows,
            _ => &[],
        })?;
        let index = |f: &CsvFile| files.iter().position(|g| std::ptr::eq(f, g)).unwrap_or(0);
        let mut seen: HashMap<(usize, usize, bool), (usize, u64)> = HashMap::new();
        for file in files {
            if let Rows::Memberships(rows) = &file.rows {
                for row in rows {
                    let containers = &[PrincipalKind::Group, PrincipalKind::AdministrativeUnit];
                    let group = plan.resolve(files, file, row.line, Field::Group, &row.group, containers)?;
                    let member =
                        plan.resolve(files, file, row.line, Field::Member, &row.member, PRINCIPALS)?;
                    if let Some((f, line)) = seen.insert((group, member, row.owner), (index(file), row.line))
                    {
                        return Err(file.cell_error(
                            row.line,
                            Field::Member,
                            format!(
                                "'{}' is listed twice for '{}' (first on {})",
                                row.member,
                                row.group,
                                show_row(files, f, line)
                            ),
                        ));
                    }
                    plan.memberships.push(Membership { file, row, group, member });
                }
            }
        }
        for file in files {
            if let Rows::Assignments(rows) = &file.rows {
                for row in rows {
                    let target = &row.args.target;
                    let principal =
                        plan.resolve(files, file, row.line, Field::Principal, &target.principal, PRINCIPALS)?;
                    let group = match &target.group {
                        Some(g) => Some(plan.resolve(
                            files,
                            file,
                            row.line,
                            Field::Group,
                            g,
                            &[PrincipalKind::Group],
                        )?),
                        None => None,
                    };
                    plan.assignments.push(Assignment { file, row, principal, group });
                }
            }
        }
        Ok(plan)
    }

    /// Adds the objects the files' rows of one kind create, in file order.
    fn place_all<R: Creates>(
        &mut self,
        files: &'a [CsvFile],
        kind: PrincipalKind,
        rows_of: fn(&'a Rows) -> &'a [R],
    ) -> Result<Vec<(&'a CsvFile, &'a R)>, ApiError> {
        let mut placed = Vec::new();
        for (i, file) in files.iter().enumerate() {
            for row in rows_of(&file.rows) {
                self.place(files, i, kind, row)?;
                placed.push((file, row));
            }
        }
        Ok(placed)
    }

    /// Adds an object a row creates, refusing an id or a user principal name another object has.
    fn place(
        &mut self,
        files: &[CsvFile],
        i: usize,
        kind: PrincipalKind,
        row: &impl Creates,
    ) -> Result<(), ApiError> {
        let (file, line) = (&files[i], row.line());
        let taken = |names: &Directory, found: Option<usize>, field: Field, value: &str| match found {
            Some(other) => Err(file.cell_error(
                line,
                field,
                format!(
                    "'{value}' is already the {} of {}",
                    field.name(),
                    describe(files, &names.entries[other])
                ),
            )),
            None => Ok(()),
        };
        if let Some(id) = row.id() {
            taken(&self.names, self.names.with_id(id), Field::Id, id)?;
        }
        if let Some(upn) = row.upn() {
            taken(&self.names, self.names.with_upn(upn), Field::UserPrincipalName, upn)?;
        }
        let entry = Entry {
            kind,
            display_name: row.display_name().to_string(),
            upn: row.upn().map(str::to_string),
            origin: Origin::Row { file: i, line },
        };
        self.names.add_planned(entry, row.id());
        Ok(())
    }

    /// The one object of one of `kinds` that a cell names.
    fn resolve(
        &self,
        files: &[CsvFile],
        file: &CsvFile,
        line: u64,
        field: Field,
        text: &str,
        kinds: &[PrincipalKind],
    ) -> Result<usize, ApiError> {
        let what = kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(" or ");
        match self.names.resolve(text) {
            Ok(n) if kinds.contains(&self.names.entries[n].kind) => Ok(n),
            Ok(n) => Err(file.cell_error(
                line,
                field,
                format!("'{text}' is {}, not a {what}", describe(files, &self.names.entries[n])),
            )),
            Err(Miss::None) => Err(file.cell_error(
                line,
                field,
                format!(
                    "'{text}' names no {what}, in the tenant or in this import (give an id, a user principal name or a display name)"
                ),
            )),
            Err(Miss::Many(found)) => Err(file.cell_error(
                line,
                field,
                format!(
                    "'{text}' names {} objects ({}); give an id or a user principal name",
                    found.len(),
                    found.iter().map(|n| describe(files, &self.names.entries[*n])).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }
}

/// `the user 'Alice' (id ...)` or `the group 'Sales' of groups.csv line 3`.
fn describe(files: &[CsvFile], e: &Entry) -> String {
    match &e.origin {
        Origin::Stored(id) => format!("the {} '{}' ({id})", e.kind.as_str(), e.display_name),
        Origin::Row { file, line, .. } => {
            format!("the {} '{}' of {}", e.kind.as_str(), e.display_name, show_row(files, *file, *line))
        }
    }
}

fn show_row(files: &[CsvFile], file: usize, line: u64) -> String {
    format!("{} line {line}", files[file].path.display())
}

/// A row that creates an object, as the names see it.
trait Creates {
    fn line(&self) -> u64;
    fn display_name(&self) -> &str;
    fn upn(&self) -> Option<&str>;
    fn id(&self) -> Option<&str>;
}

impl Creates for UserRow {
    fn line(&self) -> u64 {
        self.line
    }
    fn display_name(&self) -> &str {
        &self.display_name
    }
    fn upn(&self) -> Option<&str> {
        Some(&self.upn)
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

impl Creates for GroupRow {
    fn line(&self) -> u64 {
        self.line
    }
    fn display_name(&self) -> &str {
        &self.display_name
    }
    fn upn(&self) -> Option<&str> {
        None
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}
