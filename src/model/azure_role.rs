//! An Azure role definition as the engine and ARM handle it, built-in or custom (arm-pim
//! reference §1.11, §5): the catalog's static roles and a tenant's custom roles in one owned shape.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::Timestamp;
use super::azure_roles::{AZURE_BUILTIN_ROLES, AzureBuiltinRole, matches_any};
use super::azure_scope::AzureScope;

/// `properties.type` of a role definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AzureRoleType {
    BuiltInRole,
    CustomRole,
}

impl AzureRoleType {
    pub fn as_str(self) -> &'static str {
        match self {
            AzureRoleType::BuiltInRole => "BuiltInRole",
            AzureRoleType::CustomRole => "CustomRole",
        }
    }
}

/// One block of `permissions[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AzurePermissions {
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub not_actions: Vec<String>,
    #[serde(default)]
    pub data_actions: Vec<String>,
    #[serde(default)]
    pub not_data_actions: Vec<String>,
}

impl AzurePermissions {
    /// Whether this block grants `action`: one of its `actions` matches and none of its
    /// `notActions` does (ARM's wildcards, case-insensitive). Data actions are the data plane's,
    /// which pimlab does not model.
    pub fn grants(&self, action: &str) -> bool {
        matches_any(&self.actions, action) && !matches_any(&self.not_actions, action)
    }
}

/// Who made or last changed a custom role, and when (null for built-in roles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub at: Timestamp,
    pub by: String,
}

/// An Azure role definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureRole {
    /// The role definition's GUID, lower case.
    pub id: String,
    pub role_name: String,
    pub description: String,
    pub role_type: AzureRoleType,
    pub permissions: Vec<AzurePermissions>,
    /// Built-in roles: `["/"]`. Custom roles: the management groups, subscriptions, resource
    /// groups or resources they may be assigned at or below, as paths.
    pub assignable_scopes: Vec<String>,
    pub created: Option<Stamp>,
    pub updated: Option<Stamp>,
}

impl AzureRole {
    fn from_builtin(r: &AzureBuiltinRole) -> AzureRole {
        let p = &r.permissions;
        let owned = |list: &[&str]| list.iter().map(|a| a.to_string()).collect();
        AzureRole {
            id: r.id.to_string(),
            role_name: r.role_name.to_string(),
            description: r.description.to_string(),
            role_type: AzureRoleType::BuiltInRole,
            permissions: vec![AzurePermissions {
                actions: owned(p.actions),
                not_actions: owned(p.not_actions),
                data_actions: owned(p.data_actions),
                not_data_actions: owned(p.not_data_actions),
            }],
            assignable_scopes: owned(r.assignable_scopes),
            created: None,
            updated: None,
        }
    }

    pub fn is_custom(&self) -> bool {
        self.role_type == AzureRoleType::CustomRole
    }

    /// Whether any permission block grants `action`.
    pub fn grants(&self, action: &str) -> bool {
        self.permissions.iter().any(|p| p.grants(action))
    }

    /// Whether Azure counts the role as a privileged administrator role: the four built-ins the
    /// catalog marks, and a custom role that may grant access or do everything.
    pub fn is_privileged(&self) -> bool {
        match self.role_type {
            AzureRoleType::BuiltInRole => {
                AZURE_BUILTIN_ROLES.iter().any(|r| r.id == self.id && r.is_privileged)
            }
            AzureRoleType::CustomRole => {
                self.grants("Microsoft.Authorization/roleAssignments/write")
                    || self.permissions.iter().any(|p| p.actions.iter().any(|a| a == "*"))
            }
        }
    }

    /// Whether the role may be assigned at a scope, given that scope's key and its ancestors'
    /// (`chain`, from the estate: a subscription's parent is a management group, which its path
    /// does not show): one of its assignable scopes is in the chain, or is `/`.
    pub fn assignable_within(&self, chain: &[String]) -> bool {
        self.assignable_scopes
            .iter()
            .any(|a| a == "/" || AzureScope::parse(a).is_ok_and(|a| chain.contains(&a.key())))
    }
}

/// What a caller asks a custom role to be (a PUT's body, a command's flags); the engine checks it
/// and stamps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AzureRoleDraft {
    pub role_name: String,
    pub description: String,
    pub permissions: Vec<AzurePermissions>,
    pub assignable_scopes: Vec<String>,
}

/// The built-in roles, in the catalog's order, made once.
pub fn builtin_roles() -> &'static [AzureRole] {
    static ROLES: OnceLock<Vec<AzureRole>> = OnceLock::new();
    ROLES.get_or_init(|| AZURE_BUILTIN_ROLES.iter().map(AzureRole::from_builtin).collect())
}

/// The built-in role with this GUID or role name (case-insensitive).
pub fn builtin_role(id_or_name: &str) -> Option<&'static AzureRole> {
    let text = id_or_name.trim();
    builtin_roles().iter().find(|r| r.id.eq_ignore_ascii_case(text) || r.role_name.eq_ignore_ascii_case(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::azure_roles::{OWNER, RBAC_ADMINISTRATOR, READER};

    #[test]
    fn built_in_roles_keep_the_catalogs_permissions() {
        assert_eq!(builtin_roles().len(), AZURE_BUILTIN_ROLES.len());
        let owner = builtin_role(OWNER).unwrap();
        assert!(owner.grants("Microsoft.Authorization/roleManagementPolicies/write"));
        assert!(owner.is_privileged());
        let rbac = builtin_role("role based access control administrator").unwrap();
        assert_eq!(rbac.id, RBAC_ADMINISTRATOR);
        assert!(rbac.grants("Microsoft.Authorization/roleAssignments/write"));
        assert!(!rbac.grants("Microsoft.Authorization/roleManagementPolicies/write"));
        assert!(!builtin_role(READER).unwrap().is_privileged());
    }

    #[test]
    fn a_custom_role_is_assignable_at_and_below_its_scopes_only() {
        let sub = "/subscriptions/8a1f3c52-6d0e-4b7a-9c21-5e4d3f2a1b00";
        let role = AzureRole {
            id: "0b5f3c1e-1111-4a2b-9c3d-4e5f60718293".into(),
            role_name: "Operator".into(),
            description: String::new(),
            role_type: AzureRoleType::CustomRole,
            permissions: vec![AzurePermissions {
                actions: vec!["Microsoft.Compute/virtualMachines/*".into()],
                not_actions: vec!["Microsoft.Compute/virtualMachines/delete".into()],
                ..AzurePermissions::default()
            }],
            assignable_scopes: vec![format!("{sub}/resourceGroups/rg-prod-app")],
            created: None,
            updated: None,
        };
        let chain = |paths: &[&str]| -> Vec<String> {
            paths.iter().map(|p| AzureScope::parse(p).unwrap().key()).collect()
        };
        let rg = format!("{sub}/resourceGroups/RG-PROD-APP");
        let site = format!("{rg}/providers/Microsoft.Web/sites/contoso");
        assert!(role.assignable_within(&chain(&[&rg, sub])));
        assert!(role.assignable_within(&chain(&[&site, &rg, sub])));
        assert!(!role.assignable_within(&chain(&[sub])));
        assert!(!role.assignable_within(&chain(&[&format!("{sub}/resourceGroups/rg-prod-app2"), sub])));
        assert!(builtin_role(OWNER).unwrap().assignable_within(&chain(&[sub])));
        assert!(role.grants("Microsoft.Compute/virtualMachines/start/action"));
        assert!(!role.grants("Microsoft.Compute/virtualMachines/delete"));
        assert!(!role.is_privileged());
    }
}
