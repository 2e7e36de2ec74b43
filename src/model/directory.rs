//! Directory objects: users, groups, service principals, administrative units, and role definitions.

use super::time::Timestamp;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    User,
    Group,
    ServicePrincipal,
    AdministrativeUnit,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Group => "group",
            PrincipalKind::ServicePrincipal => "servicePrincipal",
            PrincipalKind::AdministrativeUnit => "administrativeUnit",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(PrincipalKind::User),
            "group" => Some(PrincipalKind::Group),
            "servicePrincipal" => Some(PrincipalKind::ServicePrincipal),
            "administrativeUnit" => Some(PrincipalKind::AdministrativeUnit),
            _ => None,
        }
    }
    /// The Graph `@odata.type` of objects of this kind.
    pub fn odata_type(self) -> &'static str {
        match self {
            PrincipalKind::User => "#microsoft.graph.user",
            PrincipalKind::Group => "#microsoft.graph.group",
            PrincipalKind::ServicePrincipal => "#microsoft.graph.servicePrincipal",
            PrincipalKind::AdministrativeUnit => "#microsoft.graph.administrativeUnit",
        }
    }
}

/// A directory object. Users, groups and service principals can hold roles; administrative
/// units are scopes. One struct keeps lookups by id, name or UPN uniform.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryObject {
    pub id: String,
    pub kind: PrincipalKind,
    pub display_name: String,
    /// Users only.
    pub user_principal_name: Option<String>,
    pub mail: Option<String>,
    pub description: Option<String>,
    /// Groups: may hold directory roles.
    pub is_assignable_to_role: bool,
    /// Groups.
    pub security_enabled: bool,
    pub mail_enabled: bool,
    /// Service principals.
    pub app_id: Option<String>,
    pub account_enabled: bool,
    /// Groups: `Unified` (Microsoft 365), `DynamicMembership`.
    pub group_types: Vec<String>,
    /// Groups: synchronised from an on-premises directory (Graph's read-only
    /// `onPremisesSyncEnabled`); such a group is managed there, not in the cloud.
    pub on_premises_sync_enabled: bool,
    pub created_at: Timestamp,
}

/// A role definition (`unifiedRoleDefinition`).
#[derive(Debug, Clone, PartialEq)]
pub struct RoleDefinition {
    pub id: String,
    pub display_name: String,
    pub description: Option<String>,
    pub is_built_in: bool,
    pub is_enabled: bool,
    pub is_privileged: bool,
    pub template_id: Option<String>,
    pub version: Option<String>,
    /// Shared: the store's cache hands out a role on every request, and a built-in role has
    /// dozens of actions.
    pub allowed_resource_actions: Arc<[String]>,
    pub inherits_permissions_from: Arc<[String]>,
}
