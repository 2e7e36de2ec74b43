//! What an assignment entry names, found in the store (a role id and a scope on one surface), and
//! the assignments the store holds, in the terms both the creation phase (§7.4's idempotency)
//! and the cleanup (§8.4) compare.

use super::config::{GroupRef, Target};
use crate::engine::Engine;
use crate::model::{ApiError, AssignmentType, MemberType, RequestKind, Schedule, Surface};

/// A role at a scope on one surface.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub surface: Surface,
    pub role_id: String,
    pub role_name: String,
    /// `/` or `/administrativeUnits/...`; an ARM path; a group's id.
    pub scope: String,
}

impl Place {
    pub fn same(&self, surface: Surface, role_id: &str, scope: &str) -> bool {
        self.surface == surface
            && self.role_id.eq_ignore_ascii_case(role_id)
            && self.scope.eq_ignore_ascii_case(scope)
    }
}

/// Finds the role and scope `target` names.
pub fn place(engine: &mut Engine, target: &Target) -> Result<Place, ApiError> {
    match target {
        Target::Entra { role } => {
            let r = engine.resolve_role(role)?;
            Ok(Place {
                surface: Surface::Directory,
                role_id: r.id,
                role_name: r.display_name,
                scope: "/".into(),
            })
        }
        Target::Azure { role, scope } => {
            let path = crate::ops::azure_scope(engine, scope)?.ok_or_else(|| {
                ApiError::bad_request("scope", format!("'{scope}' is not an Azure scope (a subscription, resource group, resource or management group path)"))
            })?;
            let (definition, _) = engine.azure_policy(&path, role)?;
            Ok(Place {
                surface: Surface::AzureResource,
                role_id: definition.id,
                role_name: definition.display_name,
                scope: path,
            })
        }
        Target::Group { group, access } => {
            let (GroupRef::Id(id) | GroupRef::Name(id)) = group;
            let access = access.as_deref().ok_or_else(|| {
                ApiError::bad_request("roleName", "the group block names no roleName (Member or Owner)")
            })?;
            let (group, definition) = engine.group_access(id, access)?;
            Ok(Place {
                surface: Surface::Group,
                role_id: definition.id,
                role_name: definition.display_name,
                scope: group.id,
            })
        }
    }
}

/// An assignment the store holds: eligible or active (activations included, as EasyPIM's
/// listing of active assignments shows them).
#[derive(Debug, Clone)]
pub struct Holding {
    pub schedule: Schedule,
    pub active: bool,
}

impl Holding {
    pub fn scope(&self) -> &str {
        self.schedule.directory_scope_id.as_deref().unwrap_or("/")
    }
    /// Made by activating an eligibility: not an assignment cleanup may remove.
    pub fn is_activation(&self) -> bool {
        self.schedule.assignment_type == Some(AssignmentType::Activated)
    }
    pub fn inherited(&self) -> bool {
        self.schedule.member_type != MemberType::Direct
    }
}

/// Every live assignment on `surface`.
pub fn holdings(engine: &mut Engine, surface: Surface) -> Result<Vec<Holding>, ApiError> {
    let mut out = Vec::new();
    for (kind, active) in [(RequestKind::Eligibility, false), (RequestKind::Assignment, true)] {
        for s in engine.schedules(kind, None, None)? {
            if s.surface == surface {
                out.push(Holding { schedule: s, active });
            }
        }
    }
    Ok(out)
}
