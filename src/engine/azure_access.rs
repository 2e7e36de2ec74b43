//! Azure resource roles in the engine (arm-pim reference §2, §3): the built-in roles as role
//! definitions, the policy of a (scope, role) pair, who may administer a scope, and which scopes
//! an eligibility made higher up the tree covers.

use super::azure_scopes::{ancestors, node, parse_scope};
use super::directory::{unauthorized, user_groups_of};
use super::{Session, fidelity};
use crate::model::azure_roles::{AZURE_BUILTIN_ROLES, AzureBuiltinRole, role_guid};
use crate::model::azure_scope::AzureScopeNode;
use crate::model::policy::Policy;
use crate::model::{ApiError, RequestKind, RoleDefinition, ScheduleState, Surface};
use crate::store::Tx;

/// The action that lets a principal assign roles at a scope (§2.4).
const ASSIGN_ACTION: &str = "Microsoft.Authorization/roleAssignments/write";

/// A built-in Azure role as the engine's role definition (its id the lower-case GUID).
fn as_definition(r: &AzureBuiltinRole) -> RoleDefinition {
    RoleDefinition {
        id: r.id.to_string(),
        display_name: r.role_name.to_string(),
        description: Some(r.description.to_string()),
        is_built_in: true,
        is_enabled: true,
        is_privileged: r.is_privileged,
        template_id: None,
        version: None,
        allowed_resource_actions: r.permissions.actions.iter().map(|a| a.to_string()).collect(),
        inherits_permissions_from: Vec::new(),
    }
}

/// Every built-in Azure role, as role definitions.
pub fn azure_roles() -> Vec<RoleDefinition> {
    AZURE_BUILTIN_ROLES.iter().map(as_definition).collect()
}

/// The built-in Azure role named by `text` (GUID, role definition id or name), as a role definition.
pub fn azure_role_definition(text: &str) -> Result<RoleDefinition, ApiError> {
    azure_role(text).map(|(_, d)| d)
}

/// The Azure role named by `text`: a GUID, a role definition id in any of its forms, or a role name.
pub(crate) fn azure_role(text: &str) -> Result<(&'static AzureBuiltinRole, RoleDefinition), ApiError> {
    let guid = role_guid(text);
    let found = AZURE_BUILTIN_ROLES
        .iter()
        .find(|r| guid.as_deref() == Some(r.id) || r.role_name.eq_ignore_ascii_case(text.trim()));
    match found {
        Some(r) => Ok((r, as_definition(r))),
        None => Err(ApiError::new(
            400,
            fidelity::ARM_ROLE_DEFINITION_NOT_FOUND_CODE,
            format!("The specified role definition with ID '{text}' does not exist."),
        )
        .with_hint(crate::model::Hint::ListRoles)),
    }
}

/// The policy of `role` at `scope`: the one stored once someone changed it, else the defaults,
/// with an id derived from the pair (policies are per scope and not inherited, §2.2).
pub(crate) fn azure_policy(tx: &Tx<'_>, scope: &AzureScopeNode, role_id: &str) -> Result<Policy, ApiError> {
    let key = scope.scope.key();
    if let Some(p) = tx.policy_for(Surface::AzureResource.as_str(), &key, role_id)? {
        return Ok(p);
    }
    Ok(Policy::azure_default(&scope.scope, role_id))
}

/// The policy of `role` at `scope` as stored, storing the defaults first if no one changed them
/// (inside the caller's write, so a refused change stores nothing).
pub(crate) fn stored_azure_policy(
    tx: &Tx<'_>,
    scope: &AzureScopeNode,
    role_id: &str,
) -> Result<Policy, ApiError> {
    let key = scope.scope.key();
    if let Some(p) = tx.policy_for(Surface::AzureResource.as_str(), &key, role_id)? {
        return Ok(p);
    }
    let mut policy = azure_policy(tx, scope, role_id)?;
    policy.scope_id = key;
    tx.insert_policy(Surface::AzureResource.as_str(), &policy)?;
    Ok(policy)
}

/// The scope named by a request (its canonical path) with the scopes above it, nearest first.
pub(crate) fn scope_and_ancestors(tx: &Tx<'_>, text: &str) -> Result<Vec<AzureScopeNode>, ApiError> {
    let here = node(tx, &parse_scope(text)?)?;
    let mut all = vec![here.clone()];
    all.extend(ancestors(tx, &here)?);
    Ok(all)
}

/// Refuses a caller who may not assign roles at `scope`: one needs an active assignment, at the
/// scope or above it, of a role that grants `Microsoft.Authorization/roleAssignments/write`
/// (Owner, User Access Administrator, Role Based Access Control Administrator...), directly or
/// through a group.
pub(crate) fn require_azure_admin(
    tx: &Tx<'_>,
    session: &Session,
    scope: &str,
    keys: &[String],
    doing: &str,
) -> Result<(), ApiError> {
    let mut holders = vec![session.caller.clone()];
    holders.extend(user_groups_of(tx, &session.caller)?);
    for role in AZURE_BUILTIN_ROLES.iter().filter(|r| r.grants(ASSIGN_ACTION)) {
        for holder in &holders {
            let held = tx.schedules_of(RequestKind::Assignment, holder, role.id, ScheduleState::Live)?;
            if held.iter().any(|s| {
                s.surface == Surface::AzureResource
                    && s.is_active()
                    && s.directory_scope_id.as_deref().is_some_and(|p| keys.contains(&p.to_ascii_lowercase()))
            }) {
                return Ok(());
            }
        }
    }
    Err(unauthorized().with_fix(
        "AuthorizationFailed",
        "caller",
        format!(
            "{doing} at {scope} needs an active Azure role there or above that may write role assignments (Owner, User Access Administrator, Role Based Access Control Administrator); the caller {} holds none",
            tx.object(&session.caller)?.map_or(session.caller.clone(), |o| format!("{} ({})", o.display_name, o.id))
        ),
        crate::model::Hint::ActAsAdministrator,
    ))
}

/// The role assignment a new tenant's break-glass administrator holds at the top of the Azure
/// estate: User Access Administrator at the tenant root management group, as Entra's "elevate
/// access" gives a Global Administrator, so someone can assign the first Azure roles. Made outside
/// PIM: its id (an ARM role assignment's GUID) is derived from what it grants.
pub(crate) fn elevated_access(
    tenant_id: &str,
    admin: &str,
    at: crate::model::Timestamp,
) -> crate::model::Schedule {
    let root = crate::model::azure_scope::AzureScope::tenant_root(tenant_id);
    let uaa = crate::model::azure_roles::USER_ACCESS_ADMINISTRATOR;
    let id = crate::model::azure_scope::elevated_access_id(root.path(), admin);
    let mut s =
        super::records::outside_pim_assignment(id, admin, uaa, Some(root.path().to_string()), None, at);
    s.surface = Surface::AzureResource;
    s
}

impl super::Engine {
    /// The settings of every built-in Azure role at `scope`: each pair's stored policy, or the
    /// defaults (policies are per scope and not inherited).
    pub fn azure_policies_at(
        &mut self,
        scope: &crate::model::azure_scope::AzureScope,
    ) -> Result<Vec<(&'static AzureBuiltinRole, Policy)>, ApiError> {
        self.read(|tx, _| {
            let here = node(tx, scope)?;
            let mut out = Vec::new();
            for role in AZURE_BUILTIN_ROLES {
                out.push((role, azure_policy(tx, &here, role.id)?));
            }
            Ok(out)
        })
    }
}
