//! One line of a CSV file into a typed row: every value is checked here, without the store
//! (required values, GUIDs, yes/no values, times, durations, tickets, lengths), so a file with a
//! bad line is refused before anything is looked up or written.

use std::path::Path;

use ::csv::StringRecord;

use super::columns::{Field, Header};
use super::place::at_cell;
use crate::engine::fidelity::{
    MAX_DESCRIPTION, MAX_DISPLAY_NAME, MAX_JUSTIFICATION, MAX_MAIL, MAX_USER_PRINCIPAL_NAME,
};
use crate::model::{ApiError, RequestKind, ids};
use crate::ops::values;
use crate::ops::{AdminArgs, RequestOptions, ScheduleArgs, TargetArgs};

/// A user to create.
#[derive(Debug)]
pub struct UserRow {
    pub line: u64,
    pub upn: String,
    pub display_name: String,
    pub id: Option<String>,
    pub mail: Option<String>,
    pub account_enabled: Option<bool>,
}

/// A group to create.
#[derive(Debug)]
pub struct GroupRow {
    pub line: u64,
    pub display_name: String,
    pub id: Option<String>,
    pub description: Option<String>,
    pub is_assignable_to_role: bool,
    pub security_enabled: bool,
    pub mail_enabled: bool,
}

/// A member (or owner) to add to a group, both named as anywhere in pimlab.
#[derive(Debug)]
pub struct MembershipRow {
    pub line: u64,
    pub group: String,
    pub member: String,
    pub owner: bool,
}

/// An eligibility or an active assignment, as `pimlab eligible assign` / `active assign` takes it.
#[derive(Debug)]
pub struct AssignmentRow {
    pub line: u64,
    pub kind: RequestKind,
    pub args: AdminArgs,
}

/// The cells of one record, read through the file's header.
pub struct Cells<'a> {
    pub path: &'a Path,
    pub line: u64,
    pub header: &'a Header,
    pub record: &'a StringRecord,
}

impl Cells<'_> {
    /// The trimmed value of `field`; `None` when the file has no such column or the cell is empty.
    fn get(&self, field: Field) -> Option<&str> {
        let v = self.record.get(self.header.column(field)?)?.trim();
        (!v.is_empty()).then_some(v)
    }

    /// A problem with the cell of `field`, naming the line and the column.
    pub fn error(&self, field: Field, problem: impl std::fmt::Display) -> ApiError {
        let column = self.header.column(field).unwrap_or(0);
        at_cell(self.path, self.line, column, &self.header.names[column], problem)
    }

    fn required(&self, field: Field) -> Result<String, ApiError> {
        self.get(field).map(str::to_string).ok_or_else(|| self.error(field, "a value is required"))
    }

    /// Free text of at most `limit` characters (counted as Graph counts them, in UTF-16 units).
    fn text(&self, field: Field, limit: usize) -> Result<Option<String>, ApiError> {
        let Some(v) = self.get(field) else { return Ok(None) };
        let length = v.encode_utf16().count();
        if length > limit {
            return Err(self.error(field, format!("{length} characters; at most {limit} are accepted")));
        }
        Ok(Some(v.to_string()))
    }

    fn required_text(&self, field: Field, limit: usize) -> Result<String, ApiError> {
        self.required(field)?;
        Ok(self.text(field, limit)?.unwrap_or_default())
    }

    fn parsed<T>(&self, field: Field, parse: fn(&str) -> Result<T, String>) -> Result<Option<T>, ApiError> {
        self.get(field).map(|v| parse(v).map_err(|e| self.error(field, e))).transpose()
    }

    /// `true`/`false` (also `yes`/`no`, `1`/`0`), any case.
    fn flag(&self, field: Field) -> Result<Option<bool>, ApiError> {
        self.parsed(field, |v| match v.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(true),
            "false" | "no" | "0" => Ok(false),
            _ => Err(format!("'{v}' is not true or false (nor yes/no, 1/0)")),
        })
    }

    fn guid(&self, field: Field) -> Result<Option<String>, ApiError> {
        self.parsed(field, |v| {
            if ids::is_guid(v) { Ok(v.to_ascii_lowercase()) } else { Err(format!("'{v}' is not a GUID")) }
        })
    }
}

pub fn user(c: &Cells<'_>) -> Result<UserRow, ApiError> {
    let upn = c.required_text(Field::UserPrincipalName, MAX_USER_PRINCIPAL_NAME)?;
    if !upn.contains('@') || upn.starts_with('@') || upn.ends_with('@') {
        return Err(c.error(Field::UserPrincipalName, format!("'{upn}' is not of the form name@domain")));
    }
    Ok(UserRow {
        line: c.line,
        upn,
        display_name: c.required_text(Field::DisplayName, MAX_DISPLAY_NAME)?,
        id: c.guid(Field::Id)?,
        mail: c.text(Field::Mail, MAX_MAIL)?,
        account_enabled: c.flag(Field::AccountEnabled)?,
    })
}

pub fn group(c: &Cells<'_>) -> Result<GroupRow, ApiError> {
    Ok(GroupRow {
        line: c.line,
        display_name: c.required_text(Field::DisplayName, MAX_DISPLAY_NAME)?,
        id: c.guid(Field::Id)?,
        description: c.text(Field::Description, MAX_DESCRIPTION)?,
        is_assignable_to_role: c.flag(Field::IsAssignableToRole)?.unwrap_or(false),
        // As `pimlab group add` makes them: security groups.
        security_enabled: c.flag(Field::SecurityEnabled)?.unwrap_or(true),
        mail_enabled: c.flag(Field::MailEnabled)?.unwrap_or(false),
    })
}

pub fn membership(c: &Cells<'_>) -> Result<MembershipRow, ApiError> {
    let owner = c
        .parsed(Field::Relation, |v| match v.to_ascii_lowercase().as_str() {
            "member" => Ok(false),
            "owner" => Ok(true),
            _ => Err(format!("'{v}' is not a relation (member or owner)")),
        })?
        .unwrap_or(false);
    Ok(MembershipRow {
        line: c.line,
        group: c.required(Field::Group)?,
        member: c.required(Field::Member)?,
        owner,
    })
}

pub fn assignment(c: &Cells<'_>) -> Result<AssignmentRow, ApiError> {
    let kind = c
        .parsed(Field::Type, |v| match v.to_ascii_lowercase().as_str() {
            "eligible" => Ok(RequestKind::Eligibility),
            "active" => Ok(RequestKind::Assignment),
            _ => Err(format!("'{v}' is not a type of assignment (eligible or active)")),
        })?
        .ok_or_else(|| c.error(Field::Type, "a value is required (eligible or active)"))?;
    let group = c.get(Field::Group).map(str::to_string);
    if let (Some(_), Some(scope)) = (&group, c.get(Field::Scope)) {
        return Err(c.error(
            Field::Scope,
            format!("'{scope}' given with a group: a PIM for Groups row's scope is its group"),
        ));
    }
    let ends: Vec<Field> =
        [Field::Duration, Field::End, Field::Permanent].into_iter().filter(|f| c.get(*f).is_some()).collect();
    if let [first, second, ..] = ends[..] {
        return Err(c.error(
            second,
            format!(
                "given with {}: a schedule ends in one way only (duration, end or permanent)",
                first.name()
            ),
        ));
    }
    let schedule = ScheduleArgs {
        start: c.parsed(Field::Start, values::time)?,
        duration: c.parsed(Field::Duration, values::duration)?,
        until: c.parsed(Field::End, values::time)?,
        permanent: c.flag(Field::Permanent)?.unwrap_or(false),
    };
    let justification = c.text(Field::Justification, MAX_JUSTIFICATION)?;
    let ticket = c.parsed(Field::Ticket, values::ticket)?;
    let args = AdminArgs {
        target: TargetArgs {
            principal: c.required(Field::Principal)?,
            role: c.required(Field::Role)?,
            scope: c.get(Field::Scope).unwrap_or("/").to_string(),
            group,
        },
        schedule,
        options: RequestOptions { justification, ticket, validate_only: false },
    };
    Ok(AssignmentRow { line: c.line, kind, args })
}
