//! Azure resource roles in the engine (arm-pim reference §2, §3): the built-in roles as role
//! definitions, the policy of a (scope, role) pair, who may administer a scope, and which scopes
//! an eligibility made higher up the tree covers.

use super::azure_scopes::{ancestors, node, parse_scope};
use super::directory::user_groups_of;
use super::{Session, fidelity};
use crate::model::azure_role::AzureRole;
use crate::model::azure_roles::role_guid;
use crate::model::azure_scope::AzureScopeNode;
use crate::model::policy::Policy;
use crate::model::{ApiError, ErrorCode, RequestKind, RoleDefinition, ScheduleState, Surface};
use crate::store::Tx;

/// What an Azure administrator does, by the RBAC action it needs at the scope (§2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AzureAdminAction {
    /// Admin requests (assign, remove, extend...): Owner, User Access Administrator, Role Based
    /// Access Control Administrator.
    AssignRoles,
    /// Role settings: Owner or User Access Administrator ("on the resource", §2.4); Role Based
    /// Access Control Administrator may assign but not change settings.
    ManagePolicies,
    /// Custom role definitions: Owner or User Access Administrator at every assignable scope.
    DefineRoles,
    /// Reading everyone's schedules, instances and requests: any role that may read role
    /// assignments (every built-in role's `*/read` or `Microsoft.Authorization/*/read`).
    ReadAssignments,
}

impl AzureAdminAction {
    fn action(self) -> &'static str {
        match self {
            AzureAdminAction::AssignRoles => "Microsoft.Authorization/roleAssignments/write",
            AzureAdminAction::ManagePolicies => "Microsoft.Authorization/roleManagementPolicies/write",
            AzureAdminAction::DefineRoles => "Microsoft.Authorization/roleDefinitions/write",
            AzureAdminAction::ReadAssignments => "Microsoft.Authorization/roleAssignments/read",
        }
    }

    fn holders(self) -> &'static str {
        match self {
            AzureAdminAction::AssignRoles => {
                "Owner, User Access Administrator, Role Based Access Control Administrator"
            }
            AzureAdminAction::ManagePolicies | AzureAdminAction::DefineRoles => {
                "Owner, User Access Administrator"
            }
            AzureAdminAction::ReadAssignments => "Reader, or any role that may read role assignments",
        }
    }
}

/// An Azure role as the engine's role definition (its id the lower-case GUID).
pub fn as_definition(r: &AzureRole) -> RoleDefinition {
    RoleDefinition {
        id: r.id.clone(),
        display_name: r.role_name.clone(),
        description: Some(r.description.clone()),
        is_built_in: !r.is_custom(),
        is_enabled: true,
        is_privileged: r.is_privileged(),
        template_id: None,
        version: None,
        allowed_resource_actions: r.permissions.iter().flat_map(|p| p.actions.iter().cloned()).collect(),
        inherits_permissions_from: Default::default(),
    }
}

/// ARM's answer for a role definition that does not exist (or is not visible where asked).
pub(crate) fn role_not_found(text: &str) -> ApiError {
    ApiError::new(
        400,
        fidelity::ARM_ROLE_DEFINITION_NOT_FOUND_CODE,
        format!("The specified role definition with ID '{text}' does not exist."),
    )
    .with_hint(crate::model::Hint::ListRoles)
}

/// The Azure role named by `text`: a GUID, a role definition id in any of its forms, or a role
/// name; built-in or one of the tenant's custom roles.
pub(crate) fn azure_role(tx: &Tx<'_>, text: &str) -> Result<AzureRole, ApiError> {
    let key = role_guid(text).unwrap_or_else(|| text.trim().to_string());
    tx.azure_role(&key)?.ok_or_else(|| role_not_found(text))
}

/// The Azure role named by `text`, which must be assignable at `scope` (a custom role exists
/// only at and below its assignable scopes).
pub(crate) fn azure_role_at(tx: &Tx<'_>, text: &str, scope: &AzureScopeNode) -> Result<AzureRole, ApiError> {
    let role = azure_role(tx, text)?;
    if role.assignable_within(&chain_keys(tx, scope)?) {
        return Ok(role);
    }
    Err(ApiError::new(
        400,
        fidelity::ARM_ROLE_NOT_ASSIGNABLE_CODE,
        format!("The specified role definition with ID '{}' does not exist.", role.id),
    )
    .with_detail(
        "AssignableScopes",
        "roleDefinitionId",
        format!(
            "'{}' can be assigned only at or below {}, not at {}",
            role.role_name,
            role.assignable_scopes.join(", "),
            scope.scope
        ),
    ))
}

/// The keys of `scope` and of the scopes above it in the estate, nearest first.
pub(crate) fn chain_keys(tx: &Tx<'_>, scope: &AzureScopeNode) -> Result<Vec<String>, ApiError> {
    let mut keys = vec![scope.scope.key()];
    keys.extend(ancestors(tx, scope)?.iter().map(|n| n.scope.key()));
    Ok(keys)
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

/// Whether `principal` holds, directly or through a group, an active Azure role granting `what`'s
/// action at one of `keys` (a scope and its ancestors).
fn holds(tx: &Tx<'_>, principal: &str, what: AzureAdminAction, keys: &[String]) -> Result<bool, ApiError> {
    let mut holders = vec![principal.to_string()];
    holders.extend(user_groups_of(tx, principal)?);
    for role in tx.azure_roles()?.iter().filter(|r| r.grants(what.action())) {
        for holder in &holders {
            let held = tx.schedules_of(RequestKind::Assignment, holder, &role.id, ScheduleState::Live)?;
            if held.iter().any(|s| {
                s.surface == Surface::AzureResource
                    && s.is_active()
                    && s.directory_scope_id.as_deref().is_some_and(|p| keys.contains(&p.to_ascii_lowercase()))
            }) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Refuses a caller who may not do `what` at `scope`: one needs an active assignment, at the
/// scope or above it (`keys`: the scope and its ancestors), of a role that grants the action,
/// directly or through a group.
pub(crate) fn require_azure_admin(
    tx: &Tx<'_>,
    session: &Session,
    what: AzureAdminAction,
    scope: &str,
    keys: &[String],
    doing: &str,
) -> Result<(), ApiError> {
    if holds(tx, &session.caller, what, keys)? {
        return Ok(());
    }
    let caller = tx.object(&session.caller)?;
    let client =
        caller.as_ref().and_then(|o| o.user_principal_name.clone()).unwrap_or(session.caller.clone());
    Err(ApiError::new(
        403,
        ErrorCode::AuthorizationFailed,
        format!(
            "The client '{client}' with object id '{}' does not have authorization to perform action '{}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            session.caller,
            what.action(),
        ),
    )
    .with_fix(
        "AuthorizationFailed",
        "caller",
        format!(
            "{doing} at {scope} needs an active Azure role there or above that grants {} ({}); the caller {} holds none",
            what.action(),
            what.holders(),
            caller.map_or(session.caller.clone(), |o| format!("{} ({})", o.display_name, o.id))
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
    /// The settings of every Azure role at `scope` (the built-in ones, and the custom ones
    /// assignable there): each pair's stored policy, or the defaults (policies are per scope and
    /// not inherited).
    pub fn azure_policies_at(
        &mut self,
        scope: &crate::model::azure_scope::AzureScope,
    ) -> Result<Vec<(AzureRole, Policy)>, ApiError> {
        self.read(|tx, _| {
            let here = node(tx, scope)?;
            let chain = chain_keys(tx, &here)?;
            let mut out = Vec::new();
            // Every built-in role has settings everywhere (as ARM lists them); a custom role
            // where it may be assigned.
            for role in tx.azure_roles()? {
                if !role.is_custom() || role.assignable_within(&chain) {
                    let policy = azure_policy(tx, &here, &role.id)?;
                    out.push((role, policy));
                }
            }
            Ok(out)
        })
    }

    /// Whether the caller may read everyone's role assignments, schedules and requests at
    /// `scope` (an active Azure role there or above that grants
    /// `Microsoft.Authorization/roleAssignments/read`, §2.4).
    pub fn may_read_azure_assignments(
        &mut self,
        session: &Session,
        scope: &crate::model::azure_scope::AzureScope,
    ) -> Result<bool, ApiError> {
        self.read(|tx, _| {
            let here = node(tx, scope)?;
            holds(tx, &session.caller, AzureAdminAction::ReadAssignments, &chain_keys(tx, &here)?)
        })
    }

    /// The Azure role named by `text` (GUID, role definition id or name), built-in or custom.
    pub fn azure_role(&mut self, text: &str) -> Result<AzureRole, ApiError> {
        self.read(|tx, _| azure_role(tx, text))
    }

    /// Every Azure role: the built-in ones, then the tenant's custom ones.
    pub fn azure_roles(&mut self) -> Result<Vec<AzureRole>, ApiError> {
        self.read(|tx, _| Ok(tx.azure_roles()?))
    }

    /// The Azure roles a role definition list at `scope` shows: every one at the tenant level
    /// (`None`); else the built-in ones and the custom ones assignable at the scope, and with
    /// `below`, also those assignable somewhere below it (`atScopeAndBelow()`).
    pub fn azure_roles_at(
        &mut self,
        scope: Option<&crate::model::azure_scope::AzureScope>,
        below: bool,
    ) -> Result<Vec<AzureRole>, ApiError> {
        self.read(|tx, _| {
            let all = tx.azure_roles()?;
            let Some(scope) = scope else { return Ok(all) };
            let here = node(tx, scope)?;
            let chain = chain_keys(tx, &here)?;
            let mut out = Vec::new();
            for role in all {
                // ARM lists every built-in role at every scope.
                let shown = !role.is_custom()
                    || role.assignable_within(&chain)
                    || (below && {
                        let mut under = false;
                        for a in &role.assignable_scopes {
                            let at = node(tx, &parse_scope(a)?)?;
                            under |= chain_keys(tx, &at)?.contains(&here.scope.key());
                        }
                        under
                    });
                if shown {
                    out.push(role);
                }
            }
            Ok(out)
        })
    }
}
