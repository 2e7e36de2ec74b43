//! A tenant's custom Azure roles (arm-pim reference §1.11): defined under a GUID the caller
//! chooses, assignable at and below their `assignableScopes`, changed by a new PUT, deleted once
//! nobody holds or is eligible for them. Defining one needs a role that grants
//! `Microsoft.Authorization/roleDefinitions/write` at every scope it will be assignable at.

use super::audit::{About, Activity, Audit, Entry};
use super::azure_access::{AzureAdminAction, require_azure_admin, scope_and_ancestors};
use super::{Engine, Session, fidelity};
use crate::model::azure_role::{AzureRole, AzureRoleDraft, AzureRoleType, Stamp, builtin_role};
use crate::model::azure_scope::AzureScopeKind;
use crate::model::{ApiError, ErrorCode, RequestKind, Surface};
use crate::store::{AuditTarget, Tx};

fn audit_target(r: &AzureRole) -> AuditTarget {
    AuditTarget { id: r.id.clone(), kind: "Role".into(), display_name: Some(r.role_name.clone()) }
}

/// Checks a draft's fields and its assignable scopes (each in the estate, in its canonical
/// spelling, the caller an administrator there). Returns the scopes as the estate spells them.
fn checked_scopes(tx: &Tx<'_>, session: &Session, draft: &AzureRoleDraft) -> Result<Vec<String>, ApiError> {
    let name = draft.role_name.trim();
    if name.is_empty() {
        return Err(ApiError::bad_request("properties.roleName", "a custom role needs a name"));
    }
    if name.chars().count() > fidelity::MAX_AZURE_ROLE_NAME {
        return Err(ApiError::bad_request(
            "properties.roleName",
            format!("'{name}' is longer than {} characters", fidelity::MAX_AZURE_ROLE_NAME),
        ));
    }
    if draft.description.chars().count() > fidelity::MAX_DESCRIPTION {
        return Err(ApiError::bad_request(
            "properties.description",
            format!("the description is longer than {} characters", fidelity::MAX_DESCRIPTION),
        ));
    }
    if draft.permissions.is_empty()
        || draft.permissions.iter().all(|p| p.actions.is_empty() && p.data_actions.is_empty())
    {
        return Err(ApiError::bad_request(
            "properties.permissions",
            "a custom role grants at least one action or data action",
        ));
    }
    for (i, p) in draft.permissions.iter().enumerate() {
        let lists = [
            ("actions", &p.actions),
            ("notActions", &p.not_actions),
            ("dataActions", &p.data_actions),
            ("notDataActions", &p.not_data_actions),
        ];
        for (field, list) in lists {
            if let Some(bad) = list.iter().find(|a| a.trim().is_empty() || a.contains(char::is_whitespace)) {
                return Err(ApiError::bad_request(
                    &format!("properties.permissions[{i}].{field}"),
                    format!("'{bad}' is not an operation (Provider/resource/action, '*' as a wildcard)"),
                ));
            }
        }
    }
    if draft.assignable_scopes.is_empty() {
        return Err(ApiError::bad_request(
            "properties.assignableScopes",
            "a custom role names the scopes it may be assigned at",
        ));
    }
    let mut scopes = Vec::new();
    let mut management_groups = 0;
    for (i, text) in draft.assignable_scopes.iter().enumerate() {
        let field = format!("properties.assignableScopes[{i}]");
        if text.trim() == "/" {
            return Err(ApiError::bad_request(
                &field,
                "a custom role cannot be assignable at the root scope '/'; name a management group, subscription, resource group or resource",
            ));
        }
        // A scope's name (`rg-prod-app`) or its path.
        let here = &super::azure_scopes::resolve(tx, text)?;
        let chain = super::azure_access::chain_keys(tx, here)?;
        if here.scope.kind() == AzureScopeKind::ManagementGroup {
            management_groups += 1;
            if management_groups > fidelity::MAX_CUSTOM_ROLE_MANAGEMENT_GROUPS {
                return Err(ApiError::bad_request(
                    &field,
                    format!(
                        "a custom role may name at most {} management group among its assignable scopes",
                        fidelity::MAX_CUSTOM_ROLE_MANAGEMENT_GROUPS
                    ),
                ));
            }
        }
        require_azure_admin(
            tx,
            session,
            AzureAdminAction::DefineRoles,
            here.scope.path(),
            &chain,
            "Defining custom roles",
        )?;
        if !scopes.contains(&here.scope.path().to_string()) {
            scopes.push(here.scope.path().to_string());
        }
    }
    Ok(scopes)
}

/// Refuses a change that would strand an assignment or eligibility of `role` outside the scopes
/// it keeps (or, with none kept, anywhere).
fn require_unused_outside(
    tx: &Tx<'_>,
    role: &AzureRole,
    kept: Option<&AzureRole>,
    doing: &str,
) -> Result<(), ApiError> {
    for kind in [RequestKind::Eligibility, RequestKind::Assignment] {
        for s in tx.live_schedules(kind, None, Some(&role.id))? {
            if s.surface != Surface::AzureResource {
                continue;
            }
            let scope = s.directory_scope_id.clone().unwrap_or_default();
            let still = match kept {
                Some(k) => {
                    let here = super::azure_scopes::resolve(tx, &scope)?;
                    k.assignable_within(&super::azure_access::chain_keys(tx, &here)?)
                }
                None => false,
            };
            if !still {
                return Err(ApiError::new(
                    fidelity::ROLE_DEFINITION_IN_USE_STATUS,
                    ErrorCode::RoleDefinitionHasAssignments,
                    "There are existing role assignments referencing role (code: RoleDefinitionHasAssignments).",
                )
                .with_detail(
                    "InUse",
                    "roleDefinitionId",
                    format!(
                        "{doing}: '{}' is held at {scope} ({} schedule {}); remove it first",
                        role.role_name,
                        kind.as_str(),
                        s.id
                    ),
                ));
            }
        }
    }
    Ok(())
}

impl Engine {
    /// Creates or replaces the custom Azure role `id` (a GUID; none: a new one from the
    /// tenant's generator). Returns it and whether it is new.
    pub fn define_azure_role(
        &mut self,
        session: &Session,
        id: Option<&str>,
        draft: &AzureRoleDraft,
    ) -> Result<(AzureRole, bool), ApiError> {
        self.write(|tx, ctx| {
            let id = match id {
                Some(id) => id.trim().to_ascii_lowercase(),
                None => super::new_id(tx, ctx)?,
            };
            if !crate::model::ids::is_guid(&id) {
                return Err(ApiError::bad_request(
                    "name",
                    format!("the role definition name '{id}' is not a GUID"),
                ));
            }
            if let Some(b) = builtin_role(&id) {
                return Err(ApiError::bad_request(
                    "name",
                    format!("'{}' is a built-in role; built-in roles cannot be changed", b.role_name),
                ));
            }
            if tx.role(&id)?.is_some() {
                return Err(ApiError::bad_request("name", format!("'{id}' is the id of a directory role")));
            }
            let scopes = checked_scopes(tx, session, draft)?;
            let name = draft.role_name.trim().to_string();
            let taken = match tx.azure_role(&name)? {
                Some(other) => other.id != id,
                None => false,
            };
            if taken {
                return Err(ApiError::new(
                    409,
                    ErrorCode::RoleDefinitionWithSameNameExists,
                    "A role definition cannot be updated with a name that already exists.",
                )
                .with_detail(
                    "RoleName",
                    "properties.roleName",
                    format!("another role is named '{name}'"),
                ));
            }
            let previous = tx.azure_custom_role(&id)?;
            let stamp = Stamp { at: ctx.now, by: session.caller.clone() };
            let role = AzureRole {
                id: id.clone(),
                role_name: name,
                description: draft.description.clone(),
                role_type: AzureRoleType::CustomRole,
                permissions: draft.permissions.clone(),
                assignable_scopes: scopes,
                created: previous.as_ref().and_then(|p| p.created.clone()).or(Some(stamp.clone())),
                updated: Some(stamp),
            };
            if let Some(p) = &previous {
                require_unused_outside(tx, p, Some(&role), "Narrowing its assignable scopes")?;
            }
            tx.put_azure_role(&role)?;
            let activity = if previous.is_some() {
                Activity::RoleDefinitionUpdated
            } else {
                Activity::RoleDefinitionAdded
            };
            let row =
                Entry::new(tx, ctx, &session.caller, activity, About::Targets(vec![audit_target(&role)]))?;
            Ok(((role, previous.is_none()), Audit::of(row)))
        })
    }

    /// Deletes the custom Azure role `id` once nobody holds or is eligible for it, with its
    /// settings at every scope. Returns it; None when there was no such role.
    pub fn delete_azure_role(&mut self, session: &Session, id: &str) -> Result<Option<AzureRole>, ApiError> {
        self.write(|tx, ctx| {
            let key = crate::model::azure_roles::role_guid(id).unwrap_or_else(|| id.trim().to_string());
            if let Some(b) = builtin_role(&key) {
                return Err(ApiError::bad_request(
                    "name",
                    format!("'{}' is a built-in role; built-in roles cannot be deleted", b.role_name),
                ));
            }
            let Some(role) = tx.azure_custom_role(&key)? else {
                return Ok((None, Audit::none("no such role")));
            };
            for scope in &role.assignable_scopes {
                let chain = scope_and_ancestors(tx, scope)?;
                let keys: Vec<String> = chain.iter().map(|n| n.scope.key()).collect();
                require_azure_admin(
                    tx,
                    session,
                    AzureAdminAction::DefineRoles,
                    scope,
                    &keys,
                    "Deleting custom roles",
                )?;
            }
            require_unused_outside(tx, &role, None, "Deleting it")?;
            for policy in tx.policies(Surface::AzureResource.as_str(), false)? {
                if policy.role_definition_id == role.id {
                    tx.delete_policy(&policy.id)?;
                }
            }
            tx.delete_azure_role(&role.id)?;
            let row = Entry::new(
                tx,
                ctx,
                &session.caller,
                Activity::RoleDefinitionDeleted,
                About::Targets(vec![audit_target(&role)]),
            )?;
            Ok((Some(role), Audit::of(row)))
        })
    }
}
