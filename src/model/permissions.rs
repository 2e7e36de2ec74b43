//! Microsoft Graph permissions as PIM uses them (reference §8, addendum §6): the permissions an
//! application can be granted, delegated (scopes, acting for a signed-in user) or as application
//! roles (acting as itself), and for each kind of call the permissions any one of which lets it
//! through. The table is data: which call needs what is decided here and nowhere else.

/// How an application holds a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PermissionKind {
    /// A delegated scope (`scp`): the app acts for a signed-in user.
    Delegated,
    /// An application permission (`roles`): the app acts as itself.
    Application,
}

impl PermissionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionKind::Delegated => "delegated",
            PermissionKind::Application => "application",
        }
    }

    pub fn parse(text: &str) -> Option<PermissionKind> {
        match text.to_ascii_lowercase().as_str() {
            "delegated" | "scope" | "scp" => Some(PermissionKind::Delegated),
            "application" | "app" | "role" | "roles" => Some(PermissionKind::Application),
            _ => None,
        }
    }
}

/// One permission granted to an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPermission {
    /// The grant's own id (an `appRoleAssignment`'s or an `oauth2PermissionGrant`'s).
    pub id: String,
    /// The application's service principal.
    pub app_id: String,
    pub kind: PermissionKind,
    pub permission: String,
    pub granted_at: super::Timestamp,
    pub granted_by: String,
}

/// The Microsoft Graph permissions pimlab knows, as Graph spells them.
pub const PERMISSIONS: &[&str] = &[
    "RoleManagement.Read.Directory",
    "RoleManagement.ReadWrite.Directory",
    "RoleManagement.Read.All",
    "RoleEligibilitySchedule.Read.Directory",
    "RoleEligibilitySchedule.ReadWrite.Directory",
    "RoleEligibilitySchedule.Remove.Directory",
    "RoleAssignmentSchedule.Read.Directory",
    "RoleAssignmentSchedule.ReadWrite.Directory",
    "RoleAssignmentSchedule.Remove.Directory",
    "RoleManagementPolicy.Read.Directory",
    "RoleManagementPolicy.ReadWrite.Directory",
    "RoleManagementPolicy.Read.AzureADGroup",
    "RoleManagementPolicy.ReadWrite.AzureADGroup",
    "PrivilegedAccess.Read.AzureADGroup",
    "PrivilegedAccess.ReadWrite.AzureADGroup",
    "PrivilegedEligibilitySchedule.Read.AzureADGroup",
    "PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup",
    "PrivilegedAssignmentSchedule.Read.AzureADGroup",
    "PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "User.Read",
    "User.Read.All",
    "User.ReadWrite.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "Application.Read.All",
    "AuditLog.Read.All",
    "RoleManagementAlert.Read.Directory",
    "RoleManagementAlert.ReadWrite.Directory",
    // Azure Service Management (Azure Resource Manager): the one delegated scope an application
    // needs to call ARM for a user; what the user may do there is Azure RBAC's.
    "user_impersonation",
];

/// The permission as Graph spells it, whatever case `text` uses.
pub fn permission(text: &str) -> Option<&'static str> {
    PERMISSIONS.iter().copied().find(|p| p.eq_ignore_ascii_case(text.trim()))
}

/// What a call does, as far as permissions go. Each surface maps its calls to one of these; the
/// table below says which permissions let it through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Role definitions and role assignments (`roleManagement/directory/roleDefinitions`,
    /// `roleAssignments`).
    ReadRoles,
    /// Custom role definitions and assignments made outside PIM.
    WriteRoles,
    /// Eligibility schedules and instances.
    ReadEligibility,
    /// Eligibility schedule requests, read: in practice the service asks the write scopes even
    /// for a GET of the request collections (addendum §6).
    ReadEligibilityRequests,
    WriteEligibility,
    /// Assignment schedules and instances.
    ReadAssignment,
    /// Assignment schedule requests, read (the write scopes, as for eligibility requests).
    ReadAssignmentRequests,
    WriteAssignment,
    ReadPolicy,
    WritePolicy,
    /// Approvals of directory-role requests (beta `roleAssignmentApprovals`).
    Approvals,
    ReadGroupAccess,
    WriteGroupAccess,
    ReadGroupPolicy,
    WriteGroupPolicy,
    ReadDirectory,
    WriteDirectory,
    /// The signed-in user (`/me`).
    Me,
    ReadAudit,
    /// PIM alerts, their definitions, configurations and incidents.
    ReadAlerts,
    /// Alert configurations changed, alerts dismissed or refreshed.
    WriteAlerts,
    /// Any Azure Resource Manager call made for a user.
    AzureManagement,
}

const READ_ROLES: &[&str] = &[
    "RoleManagement.Read.Directory",
    "RoleManagement.ReadWrite.Directory",
    "RoleManagement.Read.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const WRITE_ROLES: &[&str] = &["RoleManagement.ReadWrite.Directory"];
const READ_ELIGIBILITY: &[&str] = &[
    "RoleEligibilitySchedule.Read.Directory",
    "RoleEligibilitySchedule.ReadWrite.Directory",
    "RoleManagement.Read.Directory",
    "RoleManagement.ReadWrite.Directory",
    "RoleManagement.Read.All",
];
const WRITE_ELIGIBILITY: &[&str] =
    &["RoleEligibilitySchedule.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory"];
const READ_ASSIGNMENT: &[&str] = &[
    "RoleAssignmentSchedule.Read.Directory",
    "RoleAssignmentSchedule.ReadWrite.Directory",
    "RoleManagement.Read.Directory",
    "RoleManagement.ReadWrite.Directory",
    "RoleManagement.Read.All",
];
const WRITE_ASSIGNMENT: &[&str] =
    &["RoleAssignmentSchedule.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory"];
const READ_POLICY: &[&str] = &[
    "RoleManagementPolicy.Read.Directory",
    "RoleManagementPolicy.ReadWrite.Directory",
    "RoleManagement.Read.Directory",
    "RoleManagement.ReadWrite.Directory",
];
const WRITE_POLICY: &[&str] = &["RoleManagementPolicy.ReadWrite.Directory"];
const READ_GROUP_ACCESS: &[&str] = &[
    "PrivilegedAccess.Read.AzureADGroup",
    "PrivilegedAccess.ReadWrite.AzureADGroup",
    "PrivilegedEligibilitySchedule.Read.AzureADGroup",
    "PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup",
    "PrivilegedAssignmentSchedule.Read.AzureADGroup",
    "PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup",
];
const WRITE_GROUP_ACCESS: &[&str] = &[
    "PrivilegedAccess.ReadWrite.AzureADGroup",
    "PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup",
    "PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup",
];
const READ_GROUP_POLICY: &[&str] =
    &["RoleManagementPolicy.Read.AzureADGroup", "RoleManagementPolicy.ReadWrite.AzureADGroup"];
const WRITE_GROUP_POLICY: &[&str] = &["RoleManagementPolicy.ReadWrite.AzureADGroup"];
const READ_DIRECTORY: &[&str] = &[
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "User.Read.All",
    "User.ReadWrite.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "Application.Read.All",
];
const WRITE_DIRECTORY: &[&str] = &["Directory.ReadWrite.All", "User.ReadWrite.All", "Group.ReadWrite.All"];
const ME: &[&str] =
    &["User.Read", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
const READ_AUDIT: &[&str] = &["AuditLog.Read.All"];
const READ_ALERTS: &[&str] =
    &["RoleManagementAlert.Read.Directory", "RoleManagementAlert.ReadWrite.Directory"];
const WRITE_ALERTS: &[&str] = &["RoleManagementAlert.ReadWrite.Directory"];
const AZURE_MANAGEMENT: &[&str] = &["user_impersonation"];

impl Access {
    /// The permissions any one of which lets the call through, in the order the service names
    /// them in a refusal.
    pub fn accepted(self) -> &'static [&'static str] {
        match self {
            Access::ReadRoles => READ_ROLES,
            Access::WriteRoles => WRITE_ROLES,
            Access::ReadEligibility => READ_ELIGIBILITY,
            Access::ReadEligibilityRequests | Access::WriteEligibility => WRITE_ELIGIBILITY,
            Access::ReadAssignment => READ_ASSIGNMENT,
            Access::ReadAssignmentRequests | Access::WriteAssignment | Access::Approvals => WRITE_ASSIGNMENT,
            Access::ReadPolicy => READ_POLICY,
            Access::WritePolicy => WRITE_POLICY,
            Access::ReadGroupAccess => READ_GROUP_ACCESS,
            Access::WriteGroupAccess => WRITE_GROUP_ACCESS,
            Access::ReadGroupPolicy => READ_GROUP_POLICY,
            Access::WriteGroupPolicy => WRITE_GROUP_POLICY,
            Access::ReadDirectory => READ_DIRECTORY,
            Access::WriteDirectory => WRITE_DIRECTORY,
            Access::Me => ME,
            Access::ReadAudit => READ_AUDIT,
            Access::ReadAlerts => READ_ALERTS,
            Access::WriteAlerts => WRITE_ALERTS,
            Access::AzureManagement => AZURE_MANAGEMENT,
        }
    }

    /// Whether an application may make the call as itself at all. Changing role settings is
    /// delegated-only (reference §8: the application permission is "not supported" for a rule
    /// PATCH), and `/me` and approvals need a signed-in user.
    pub fn app_only_supported(self) -> bool {
        !matches!(self, Access::WritePolicy | Access::Me | Access::Approvals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_accepted_permission_is_in_the_catalog() {
        let all = [
            Access::ReadRoles,
            Access::WriteRoles,
            Access::ReadEligibility,
            Access::ReadEligibilityRequests,
            Access::WriteEligibility,
            Access::ReadAssignment,
            Access::ReadAssignmentRequests,
            Access::WriteAssignment,
            Access::ReadPolicy,
            Access::WritePolicy,
            Access::Approvals,
            Access::ReadGroupAccess,
            Access::WriteGroupAccess,
            Access::ReadGroupPolicy,
            Access::WriteGroupPolicy,
            Access::ReadDirectory,
            Access::WriteDirectory,
            Access::Me,
            Access::ReadAudit,
            Access::AzureManagement,
        ];
        for access in all {
            for p in access.accepted() {
                assert_eq!(permission(p), Some(*p), "{access:?} names {p}");
            }
        }
    }

    #[test]
    fn permissions_are_found_in_any_case() {
        assert_eq!(permission("rolemanagement.read.directory"), Some("RoleManagement.Read.Directory"));
        assert_eq!(permission("Nope.Read"), None);
    }
}
