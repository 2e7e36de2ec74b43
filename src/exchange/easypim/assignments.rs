//! The `Assignments` block (reference §7.1, §7.2): one assignment per entry of each role's
//! (role+scope's, group+relationship's) `assignments` list; and the legacy flat lists (§7.6),
//! which current EasyPIM reads only to validate their principals.

use serde_json::{Map, Value};

use super::config::{Config, GroupRef, Target, group_access};
use super::source::{field, first_field, invalid, text, truthy};
use crate::model::ApiError;

/// One desired assignment.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub origin: String,
    pub target: Target,
    pub principal: String,
    /// `assignmentType` contains `Active` (any case); anything else is eligible.
    pub active: bool,
    pub duration: Option<String>,
    pub permanent: bool,
    pub justification: Option<String>,
    /// Azure only: an ABAC condition.
    pub condition: Option<String>,
}

/// Reads `Assignments` and notes the legacy lists.
pub fn read(root: &Map<String, Value>, config: &mut Config) -> Result<(), ApiError> {
    legacy_lists(root, config);
    let block = match field(root, "Assignments") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(b)) => b,
        Some(other) => return Err(invalid("Assignments", format!("must be an object, not {other}"))),
    };
    for (key, value) in block {
        let lists = ["EntraRoles", "AzureRoles", "Groups", "GroupRoles"];
        let Some(list) = lists.iter().find(|l| l.eq_ignore_ascii_case(key)) else {
            config.notes.push(format!("Assignments.{key} is not a list EasyPIM reads; ignored"));
            continue;
        };
        let Value::Array(blocks) = value else {
            return Err(invalid(&format!("Assignments.{key}"), format!("must be an array, not {value}")));
        };
        for (i, b) in blocks.iter().enumerate() {
            let origin = format!("Assignments.{list}[{i}]");
            let Value::Object(b) = b else {
                return Err(invalid(&origin, format!("must be an object, not {b}")));
            };
            let target = block_target(list, b, &origin)?;
            let entries = match field(b, "assignments") {
                Some(Value::Array(e)) => e,
                None | Some(Value::Null) => continue,
                Some(other) => {
                    return Err(invalid(&origin, format!("assignments must be an array, not {other}")));
                }
            };
            for (j, e) in entries.iter().enumerate() {
                let origin = format!("{origin}.assignments[{j}]");
                let Value::Object(e) = e else {
                    return Err(invalid(&origin, format!("must be an object, not {e}")));
                };
                let a = entry(target.clone(), e, &origin, &mut config.notes)?;
                config.assignments.push(a);
            }
        }
    }
    Ok(())
}

fn block_target(list: &str, b: &Map<String, Value>, origin: &str) -> Result<Target, ApiError> {
    let role = text(b, "roleName").map(str::to_string);
    match list {
        "EntraRoles" => {
            Ok(Target::Entra { role: role.ok_or_else(|| invalid(origin, "roleName is required"))? })
        }
        "AzureRoles" => Ok(Target::Azure {
            role: role.ok_or_else(|| invalid(origin, "roleName is required"))?,
            scope: text(b, "scope").ok_or_else(|| invalid(origin, "scope is required"))?.to_string(),
        }),
        _ => {
            let group = text(b, "groupId").ok_or_else(|| invalid(origin, "groupId is required"))?.to_string();
            let access = match role {
                Some(r) => Some(
                    group_access(&r)
                        .ok_or_else(|| invalid(origin, format!("roleName '{r}' must be Member or Owner")))?,
                ),
                // HEAD's mapping of a GroupRoles block assumes Member; a Groups block passes the
                // missing value on and its entries fail.
                None if list == "GroupRoles" => Some("member".to_string()),
                None => None,
            };
            Ok(Target::Group { group: GroupRef::Id(group), access })
        }
    }
}

fn entry(
    target: Target,
    e: &Map<String, Value>,
    origin: &str,
    notes: &mut Vec<String>,
) -> Result<Assignment, ApiError> {
    let principal =
        text(e, "principalId").ok_or_else(|| invalid(origin, "principalId is required"))?.to_string();
    let active = text(e, "assignmentType").is_some_and(|t| t.to_ascii_lowercase().contains("active"));
    let permanent = match field(e, "permanent") {
        None | Some(Value::Null) => false,
        Some(v) => {
            let (value, quirk) = truthy(v);
            if quirk {
                notes.push(format!(
                    "{origin}: quirk: permanent is {v}, a string; PowerShell reads it as {value}"
                ));
            }
            value
        }
    };
    if text(e, "directoryScopeId").is_some_and(|s| s != "/") {
        notes.push(format!(
            "{origin}: directoryScopeId is ignored by EasyPIM; the assignment is made at the tenant (/)"
        ));
    }
    if field(e, "principalName").is_some() {
        notes.push(format!("{origin}: principalName is no longer read (deprecated)"));
    }
    let condition = match &target {
        Target::Azure { .. } => text(e, "condition").map(str::to_string),
        _ => None,
    };
    Ok(Assignment {
        origin: origin.to_string(),
        target,
        principal,
        active,
        duration: text(e, "duration").map(str::to_string),
        permanent,
        justification: text(e, "justification").map(str::to_string),
        condition,
    })
}

/// The legacy flat lists: their principals are validated, nothing is created from them.
fn legacy_lists(root: &Map<String, Value>, config: &mut Config) {
    for list in [
        "AzureRoles",
        "AzureRolesActive",
        "EntraIDRoles",
        "EntraIDRolesActive",
        "GroupRoles",
        "GroupRolesActive",
    ] {
        let Some(Value::Array(items)) = field(root, list) else { continue };
        let ids: usize = items
            .iter()
            .filter_map(Value::as_object)
            .map(|i| match first_field(i, &["PrincipalIds"]) {
                Some(Value::Array(ids)) => ids.len(),
                _ => usize::from(field(i, "PrincipalId").is_some()),
            })
            .sum();
        config.notes.push(format!(
            "{list} is a legacy flat assignment list ({ids} principal(s)): current EasyPIM validates its principals but creates nothing from it; move it under Assignments"
        ));
    }
}
