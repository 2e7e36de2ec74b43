//! Custom role definitions: created, changed and deleted by administrators. Built-in roles are
//! read-only. Each new role gets its own policy at the defaults, as the real service gives one.

use super::audit::{About, Activity, Audit, Entry};
use super::directory::{require_admin, resolve_role};
use super::validate::check_length;
use super::{Ctx, Engine, Session, fidelity, new_id};
use crate::model::ErrorCode;
use crate::model::policy::{Policy, default_directory_rules};
use crate::model::{ApiError, RequestKind, RoleDefinition, Surface};
use crate::store::{AuditTarget, Tx};

/// What a caller supplies for a custom role.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewRole {
    pub display_name: String,
    pub description: Option<String>,
    pub allowed_resource_actions: Vec<String>,
    pub is_enabled: bool,
    pub template_id: Option<String>,
}

/// A change to a custom role; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleChange {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub allowed_resource_actions: Option<Vec<String>>,
    pub is_enabled: Option<bool>,
}

fn check_actions(actions: &[String]) -> Result<(), ApiError> {
    if actions.is_empty() {
        return Err(ApiError::bad_request(
            "rolePermissions",
            "a custom role needs at least one allowed resource action, e.g. microsoft.directory/users/basic/update",
        ));
    }
    for a in actions {
        let parts: Vec<&str> = a.split('/').collect();
        if parts.len() < 3 || parts.iter().any(|p| p.is_empty() || p.contains(char::is_whitespace)) {
            return Err(ApiError::bad_request(
                "rolePermissions.allowedResourceActions",
                format!(
                    "'{a}' is not a resource action (namespace/entity/property/action, e.g. microsoft.directory/groups/members/update)"
                ),
            ));
        }
    }
    Ok(())
}

impl Engine {
    /// Creates a custom role definition and its policy.
    pub fn create_role(&mut self, session: &Session, new: NewRole) -> Result<RoleDefinition, ApiError> {
        self.write(|tx, ctx| {
            require_admin(tx, session, "Creating role definitions")?;
            let name = new.display_name.trim();
            if name.is_empty() {
                return Err(ApiError::bad_request("displayName", "a custom role needs a display name"));
            }
            check_length("displayName", Some(name), fidelity::MAX_DISPLAY_NAME)?;
            check_length("description", new.description.as_deref(), fidelity::MAX_DESCRIPTION)?;
            if tx.role_named(name)?.is_some() {
                return Err(ApiError::new(
                    409,
                    ErrorCode::Request_BadRequest,
                    format!("A role definition named '{name}' already exists."),
                ));
            }
            check_actions(&new.allowed_resource_actions)?;
            let id = match &new.template_id {
                Some(t) if crate::model::ids::is_guid(t) => t.to_lowercase(),
                Some(t) => return Err(ApiError::bad_request("templateId", format!("'{t}' is not a GUID"))),
                None => new_id(tx, ctx)?,
            };
            if tx.role(&id)?.is_some() {
                return Err(ApiError::new(
                    409,
                    ErrorCode::Request_BadRequest,
                    format!("A role definition with id '{id}' already exists."),
                ));
            }
            let role = RoleDefinition {
                id: id.clone(),
                display_name: name.to_string(),
                description: new.description.clone(),
                is_built_in: false,
                is_enabled: new.is_enabled,
                is_privileged: false,
                template_id: Some(id.clone()),
                version: None,
                allowed_resource_actions: new.allowed_resource_actions.clone().into(),
                inherits_permissions_from: Default::default(),
            };
            insert_role_with_default_policy(tx, ctx, &role)?;
            let about = About::Targets(vec![target(&role)]);
            let row = Entry::new(tx, ctx, &session.caller, Activity::RoleDefinitionAdded, about)?;
            Ok((role, Audit::of(row)))
        })
    }

    /// Changes a custom role definition.
    pub fn update_role(
        &mut self,
        session: &Session,
        role: &str,
        change: RoleChange,
    ) -> Result<RoleDefinition, ApiError> {
        self.write(|tx, ctx| {
            require_admin(tx, session, "Changing role definitions")?;
            let mut r = resolve_role(tx, role)?;
            if r.is_built_in {
                return Err(ApiError::bad_request(
                    "roleDefinition",
                    format!("'{}' is built in and read-only", r.display_name),
                ));
            }
            if let Some(n) = change.display_name {
                let n = n.trim().to_string();
                if n.is_empty() {
                    return Err(ApiError::bad_request("displayName", "the display name cannot be empty"));
                }
                check_length("displayName", Some(&n), fidelity::MAX_DISPLAY_NAME)?;
                if tx.role_named(&n)?.is_some_and(|o| o.id != r.id) {
                    return Err(ApiError::new(
                        409,
                        ErrorCode::Request_BadRequest,
                        format!("A role definition named '{n}' already exists."),
                    ));
                }
                r.display_name = n;
            }
            if let Some(d) = change.description {
                check_length("description", Some(&d), fidelity::MAX_DESCRIPTION)?;
                r.description = Some(d);
            }
            if let Some(a) = change.allowed_resource_actions {
                check_actions(&a)?;
                r.allowed_resource_actions = a.into();
            }
            if let Some(e) = change.is_enabled {
                r.is_enabled = e;
            }
            tx.update_role(&r)?;
            let about = About::Targets(vec![target(&r)]);
            let row = Entry::new(tx, ctx, &session.caller, Activity::RoleDefinitionUpdated, about)?;
            Ok((r, Audit::of(row)))
        })
    }

    /// Deletes a custom role definition that nobody holds or is eligible for.
    pub fn delete_role(&mut self, session: &Session, role: &str) -> Result<(), ApiError> {
        self.write(|tx, ctx| {
            require_admin(tx, session, "Deleting role definitions")?;
            let r = resolve_role(tx, role)?;
            if r.is_built_in {
                return Err(ApiError::bad_request(
                    "roleDefinition",
                    format!("'{}' is built in and cannot be deleted", r.display_name),
                ));
            }
            for kind in [RequestKind::Eligibility, RequestKind::Assignment] {
                if let Some(s) = tx.live_schedules(kind, None, Some(&r.id))?.first() {
                    return Err(ApiError::bad_request(
                        "roleDefinition",
                        format!(
                            "'{}' is still in use ({} schedule {}); remove its assignments first",
                            r.display_name,
                            kind.as_str(),
                            s.id
                        ),
                    ));
                }
            }
            tx.delete_role(&r.id)?;
            let about = About::Targets(vec![target(&r)]);
            let row = Entry::new(tx, ctx, &session.caller, Activity::RoleDefinitionDeleted, about)?;
            Ok(((), Audit::of(row)))
        })
    }
}

fn target(r: &RoleDefinition) -> AuditTarget {
    AuditTarget { id: r.id.clone(), kind: "Role".into(), display_name: Some(r.display_name.clone()) }
}

/// Stores a directory role with its own policy at the defaults of reference §2.7, as every role
/// has one (id `DirectoryRole_{tenantId}_{guid}`).
pub(crate) fn insert_role_with_default_policy(
    tx: &Tx<'_>,
    ctx: &Ctx,
    role: &RoleDefinition,
) -> Result<(), ApiError> {
    tx.insert_role(role)?;
    insert_default_policy(tx, ctx, role)
}

/// Stores a directory role's policy at the defaults.
pub(crate) fn insert_default_policy(tx: &Tx<'_>, ctx: &Ctx, role: &RoleDefinition) -> Result<(), ApiError> {
    let policy_id = format!("DirectoryRole_{}_{}", ctx.tenant_id, new_id(tx, ctx)?);
    tx.insert_policy(
        Surface::Directory.as_str(),
        &Policy {
            id: policy_id,
            scope_id: "/".into(),
            scope_type: "DirectoryRole".into(),
            role_definition_id: role.id.clone(),
            last_modified_at: None,
            last_modified_by: None,
            rules: default_directory_rules().into(),
        },
    )?;
    Ok(())
}
