//! The built-in Microsoft Entra directory roles, with their real template ids.
//!
//! This is the static catalog the simulator serves from
//! `GET /roleManagement/directory/roleDefinitions` and consults whenever a
//! request names a `roleDefinitionId`.
//!
//! Where the data comes from:
//!
//! - The list of roles — display names, template ids, order and the
//!   "privileged" flag — is the table in section 4.3 of
//!   `shared/reference/graph-pim.md`, itself taken from the Microsoft Entra
//!   built-in roles permissions reference (entra-docs). It is a subset (45
//!   roles) of the real catalog, chosen to cover the roles PIM scenarios
//!   usually involve.
//! - `allowed_resource_actions` holds real Entra resource action names taken
//!   from the permissions reference, but is a *representative* subset of each
//!   role's actions, not the full list (the real Global Administrator has
//!   more than two hundred). The two roles shown in
//!   `shared/reference/samples/graph/unifiedRoleDefinition.json` (User
//!   Administrator and Privileged Role Administrator) carry exactly the
//!   actions and descriptions of that sample.
//! - `inherits_permissions_from` follows the real catalog: nearly every
//!   built-in role inherits the read actions of Directory Readers. Directory
//!   Readers itself, Directory Synchronization Accounts and Guest Inviter (whose
//!   real parent, the hidden Guest User role, is not in this catalog) inherit
//!   nothing here.
//! - `description` is a one-sentence summary written for this project, except
//!   for the two sample roles above, which use the sample's text verbatim.
//!
//! Why `id` equals the template id: for built-in role definitions Graph
//! returns `id == templateId` (the reference derives this from Microsoft's
//! response examples), and the same GUID is used in every tenant. Built-in roles are
//! therefore addressed by their template id everywhere — role assignments,
//! eligibility and assignment schedule requests, and role management policy
//! assignments — so the catalog stores a single id per role.

/// One built-in directory role definition, as Graph's `unifiedRoleDefinition` describes it.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinRole {
    /// The role's id, which for built-in roles equals its `templateId`.
    pub id: &'static str,
    pub display_name: &'static str,
    pub description: &'static str,
    /// Carries the "privileged" label in Microsoft's permissions reference.
    pub is_privileged: bool,
    /// `rolePermissions[0].allowedResourceActions`.
    pub allowed_resource_actions: &'static [&'static str],
    /// Ids of the built-in roles this one `inheritsPermissionsFrom`.
    pub inherits_permissions_from: &'static [&'static str],
}

/// Well-known ids the engine refers to by name.
pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
pub const PRIVILEGED_ROLE_ADMINISTRATOR: &str = "e8611ab8-c189-46e8-94e1-60213ab1f814";
pub const DIRECTORY_READERS: &str = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b";

/// `inheritsPermissionsFrom` for roles that build on Directory Readers.
const FROM_DIRECTORY_READERS: &[&str] = &[DIRECTORY_READERS];
/// `inheritsPermissionsFrom` for roles with no parent in this catalog.
const NO_PARENT: &[&str] = &[];

/// The catalog, in the order of section 4.3 of the reference.
pub static BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole {
        id: GLOBAL_ADMINISTRATOR,
        display_name: "Global Administrator",
        description: "Can administer every feature of the directory and of the Microsoft cloud services that sign in with Entra identities, including assigning any role.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/administrativeUnits/allProperties/allTasks",
            "microsoft.directory/applications/allProperties/allTasks",
            "microsoft.directory/conditionalAccessPolicies/allProperties/allTasks",
            "microsoft.directory/devices/allProperties/allTasks",
            "microsoft.directory/directoryRoles/allProperties/allTasks",
            "microsoft.directory/domains/allProperties/allTasks",
            "microsoft.directory/entitlementManagement/allProperties/allTasks",
            "microsoft.directory/groups/allProperties/allTasks",
            "microsoft.directory/identityProtection/allProperties/allTasks",
            "microsoft.directory/organization/allProperties/allTasks",
            "microsoft.directory/policies/allProperties/allTasks",
            "microsoft.directory/privilegedIdentityManagement/allProperties/read",
            "microsoft.directory/roleAssignments/allProperties/allTasks",
            "microsoft.directory/roleDefinitions/allProperties/allTasks",
            "microsoft.directory/servicePrincipals/allProperties/allTasks",
            "microsoft.directory/users/allProperties/allTasks",
            "microsoft.azure.serviceHealth/allEntities/allTasks",
            "microsoft.intune/allEntities/allTasks",
            "microsoft.office365.exchange/allEntities/basic/allTasks",
            "microsoft.office365.sharePoint/allEntities/allTasks",
            "microsoft.teams/allEntities/allProperties/allTasks",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        display_name: "Global Reader",
        description: "Can view everything a Global Administrator can see across the directory and Microsoft 365 services, without permission to change anything.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/applications/allProperties/read",
            "microsoft.directory/auditLogs/allProperties/read",
            "microsoft.directory/conditionalAccessPolicies/allProperties/read",
            "microsoft.directory/devices/allProperties/read",
            "microsoft.directory/groups/allProperties/read",
            "microsoft.directory/policies/allProperties/read",
            "microsoft.directory/privilegedIdentityManagement/allProperties/read",
            "microsoft.directory/roleAssignments/allProperties/read",
            "microsoft.directory/roleDefinitions/allProperties/read",
            "microsoft.directory/signInReports/allProperties/read",
            "microsoft.directory/users/allProperties/read",
            "microsoft.office365.messageCenter/messages/read",
            "microsoft.office365.usageReports/allEntities/allProperties/read",
            "microsoft.office365.webPortal/allEntities/standard/read",
            "microsoft.teams/allEntities/allProperties/read",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: PRIVILEGED_ROLE_ADMINISTRATOR,
        display_name: "Privileged Role Administrator",
        description: "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/privilegedIdentityManagement/allProperties/allTasks",
            "microsoft.directory/roleAssignments/allProperties/allTasks",
            "microsoft.directory/roleDefinitions/allProperties/allTasks",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
        display_name: "Privileged Authentication Administrator",
        description: "Can register, reset and revoke sign-in methods, passwords included, for any user in the tenant, Global Administrators included.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/users/authenticationMethods/basic/update",
            "microsoft.directory/users/authenticationMethods/create",
            "microsoft.directory/users/authenticationMethods/delete",
            "microsoft.directory/users/authenticationMethods/standard/read",
            "microsoft.directory/users/password/update",
            "microsoft.directory/users/invalidateAllRefreshTokens",
            "microsoft.directory/users/delete",
            "microsoft.directory/users/restore",
            "microsoft.directory/users/userPrincipalName/update",
            "microsoft.azure.supportTickets/allEntities/allTasks",
            "microsoft.office365.supportTickets/allEntities/allTasks",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "fe930be7-5e62-47db-91af-98c3a49a38b1",
        display_name: "User Administrator",
        description: "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/users/create",
            "microsoft.directory/users/delete",
            "microsoft.directory/users/password/update",
            "microsoft.directory/groups/members/update",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "fdd7a751-b60b-444a-984c-02652fe8fa1c",
        display_name: "Groups Administrator",
        description: "Can create and manage groups and group-wide settings such as naming and expiration policies, except for role-assignable groups.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.directory/groups/create",
            "microsoft.directory/groups/delete",
            "microsoft.directory/groups/basic/update",
            "microsoft.directory/groups/members/update",
            "microsoft.directory/groups/owners/update",
            "microsoft.directory/groups/settings/update",
            "microsoft.directory/groups/dynamicMembershipRule/update",
            "microsoft.directory/groups/restore",
            "microsoft.directory/deletedItems.groups/restore",
            "microsoft.office365.serviceHealth/allEntities/allTasks",
            "microsoft.office365.supportTickets/allEntities/allTasks",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        display_name: "Helpdesk Administrator",
        description: "Can reset passwords and force sign-out for non-administrators and a few limited administrator roles, and can handle support requests.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.azure.serviceHealth/allEntities/allTasks",
            "microsoft.azure.supportTickets/allEntities/allTasks",
            "microsoft.directory/bitlockerKeys/key/read",
            "microsoft.directory/deviceLocalCredentials/standard/read",
            "microsoft.directory/users/invalidateAllRefreshTokens",
            "microsoft.directory/users/password/update",
            "microsoft.office365.serviceHealth/allEntities/allTasks",
            "microsoft.office365.supportTickets/allEntities/allTasks",
            "microsoft.office365.webPortal/allEntities/standard/read",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "966707d0-3269-4727-9be2-8c3a10f19b9d",
        display_name: "Password Administrator",
        description: "Can reset the passwords of non-administrators and of other Password Administrators, and nothing beyond that.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/users/password/update",
            "microsoft.office365.webPortal/allEntities/standard/read",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "c4e39bd9-1100-46d3-8c65-fb160da0071f",
        display_name: "Authentication Administrator",
        description: "Can register, reset and remove sign-in methods, passwords included, for non-administrators and a few lower-privileged roles.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/users/authenticationMethods/basic/update",
            "microsoft.directory/users/authenticationMethods/create",
            "microsoft.directory/users/authenticationMethods/delete",
            "microsoft.directory/users/authenticationMethods/standard/restrictedRead",
            "microsoft.directory/users/password/update",
            "microsoft.directory/users/invalidateAllRefreshTokens",
            "microsoft.directory/users/disable",
            "microsoft.directory/users/enable",
            "microsoft.directory/deletedItems.users/restore",
            "microsoft.azure.supportTickets/allEntities/allTasks",
            "microsoft.office365.supportTickets/allEntities/allTasks",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "0526716b-113d-4c15-b2c8-68e3c22b9f80",
        display_name: "Authentication Policy Administrator",
        description: "Can configure which sign-in methods users may register and use, tenant-wide MFA settings, password protection and verifiable credentials.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.directory/organization/strongAuthentication/allTasks",
            "microsoft.directory/userCredentialPolicies/basic/update",
            "microsoft.directory/userCredentialPolicies/create",
            "microsoft.directory/userCredentialPolicies/delete",
            "microsoft.directory/userCredentialPolicies/standard/read",
            "microsoft.directory/userCredentialPolicies/tenantDefault/update",
            "microsoft.directory/verifiableCredentials/configuration/allProperties/read",
            "microsoft.directory/verifiableCredentials/configuration/allProperties/update",
            "microsoft.directory/verifiableCredentials/configuration/create",
            "microsoft.azure.supportTickets/allEntities/allTasks",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
        display_name: "Application Administrator",
        description: "Can register and configure every app registration and enterprise application, their credentials and application proxy settings.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/applications/create",
            "microsoft.directory/applications/delete",
            "microsoft.directory/applications/basic/update",
            "microsoft.directory/applications/credentials/update",
            "microsoft.directory/applications/owners/update",
            "microsoft.directory/applications/permissions/update",
            "microsoft.directory/applications/applicationProxy/update",
            "microsoft.directory/connectorGroups/create",
            "microsoft.directory/servicePrincipals/create",
            "microsoft.directory/servicePrincipals/delete",
            "microsoft.directory/servicePrincipals/credentials/update",
            "microsoft.directory/servicePrincipals/appRoleAssignedTo/update",
            "microsoft.directory/servicePrincipals/managePermissionGrantsForAll.microsoft-application-admin",
            "microsoft.directory/oAuth2PermissionGrants/allProperties/allTasks",
            "microsoft.directory/auditLogs/allProperties/read",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "cf1c38e5-3621-4004-a7cb-879624dced7c",
        display_name: "Application Developer",
        description: "Can create app registrations and service principals, becoming their owner, even when ordinary users are not allowed to register applications.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/applications/createAsOwner",
            "microsoft.directory/oAuth2PermissionGrants/createAsOwner",
            "microsoft.directory/servicePrincipals/createAsOwner",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "158c047a-c907-4556-b7ef-446551a6b5f7",
        display_name: "Cloud Application Administrator",
        description: "Can register and configure app registrations and enterprise applications and their credentials, but not application proxy.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/applications/create",
            "microsoft.directory/applications/delete",
            "microsoft.directory/applications/basic/update",
            "microsoft.directory/applications/credentials/update",
            "microsoft.directory/applications/owners/update",
            "microsoft.directory/applications/permissions/update",
            "microsoft.directory/servicePrincipals/create",
            "microsoft.directory/servicePrincipals/delete",
            "microsoft.directory/servicePrincipals/credentials/update",
            "microsoft.directory/servicePrincipals/appRoleAssignedTo/update",
            "microsoft.directory/servicePrincipals/managePermissionGrantsForAll.microsoft-application-admin",
            "microsoft.directory/oAuth2PermissionGrants/allProperties/allTasks",
            "microsoft.directory/auditLogs/allProperties/read",
            "microsoft.directory/signInReports/allProperties/read",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "7698a772-787b-4ac8-901f-60d6b08affd2",
        display_name: "Cloud Device Administrator",
        description: "Can enable, disable and delete devices and read their BitLocker recovery keys, without managing other device properties.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/devices/delete",
            "microsoft.directory/devices/disable",
            "microsoft.directory/devices/enable",
            "microsoft.directory/bitlockerKeys/key/read",
            "microsoft.directory/deviceLocalCredentials/password/read",
            "microsoft.directory/deviceManagementPolicies/standard/read",
            "microsoft.directory/deviceRegistrationPolicy/basic/update",
            "microsoft.directory/deviceRegistrationPolicy/standard/read",
            "microsoft.directory/deletedItems.devices/restore",
            "microsoft.directory/auditLogs/allProperties/read",
            "microsoft.azure.serviceHealth/allEntities/allTasks",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
        display_name: "Conditional Access Administrator",
        description: "Can create, change and delete Conditional Access policies, named locations and authentication contexts.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/conditionalAccessPolicies/basic/update",
            "microsoft.directory/conditionalAccessPolicies/create",
            "microsoft.directory/conditionalAccessPolicies/delete",
            "microsoft.directory/conditionalAccessPolicies/owners/update",
            "microsoft.directory/conditionalAccessPolicies/standard/read",
            "microsoft.directory/conditionalAccessPolicies/tenantDefault/update",
            "microsoft.directory/namedLocations/basic/update",
            "microsoft.directory/namedLocations/create",
            "microsoft.directory/namedLocations/delete",
            "microsoft.directory/namedLocations/standard/read",
            "microsoft.directory/resourceNamespaces/resourceActions/authenticationContext/update",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "194ae4cb-b126-40b2-bd5b-6091b380977d",
        display_name: "Security Administrator",
        description: "Can manage security policies, identity protection and threat protection settings across Entra ID and Microsoft 365, and read all security reports.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/identityProtection/allProperties/read",
            "microsoft.directory/identityProtection/allProperties/update",
            "microsoft.directory/conditionalAccessPolicies/basic/update",
            "microsoft.directory/conditionalAccessPolicies/create",
            "microsoft.directory/policies/basic/update",
            "microsoft.directory/policies/create",
            "microsoft.directory/namedLocations/create",
            "microsoft.directory/bitlockerKeys/key/read",
            "microsoft.directory/auditLogs/allProperties/read",
            "microsoft.directory/signInReports/allProperties/read",
            "microsoft.directory/privilegedIdentityManagement/allProperties/read",
            "microsoft.office365.protectionCenter/allEntities/basic/update",
            "microsoft.office365.protectionCenter/allEntities/standard/read",
            "microsoft.azure.supportTickets/allEntities/allTasks",
            "microsoft.office365.serviceHealth/allEntities/allTasks",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f",
        display_name: "Security Operator",
        description: "Can investigate and respond to security alerts and incidents, with read access to security features across Microsoft 365.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.azure.advancedThreatProtection/allEntities/allTasks",
            "microsoft.directory/cloudAppSecurity/allProperties/allTasks",
            "microsoft.directory/identityProtection/allProperties/allTasks",
            "microsoft.directory/privilegedIdentityManagement/allProperties/read",
            "microsoft.directory/auditLogs/allProperties/read",
            "microsoft.directory/signInReports/allProperties/read",
            "microsoft.intune/allEntities/read",
            "microsoft.office365.securityComplianceCenter/allEntities/allTasks",
            "microsoft.windows.defenderAdvancedThreatProtection/allEntities/allTasks",
            "microsoft.azure.supportTickets/allEntities/allTasks",
            "microsoft.office365.supportTickets/allEntities/allTasks",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "5d6b6bb7-de71-4623-b4af-96380a352509",
        display_name: "Security Reader",
        description: "Can read security reports, alerts, logs and policy settings in Entra ID and Microsoft 365 without changing them.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/auditLogs/allProperties/read",
            "microsoft.directory/signInReports/allProperties/read",
            "microsoft.directory/identityProtection/allProperties/read",
            "microsoft.directory/privilegedIdentityManagement/allProperties/read",
            "microsoft.directory/conditionalAccessPolicies/standard/read",
            "microsoft.directory/policies/standard/read",
            "microsoft.directory/bitlockerKeys/key/read",
            "microsoft.directory/accessReviews/definitions/allProperties/read",
            "microsoft.directory/entitlementManagement/allProperties/read",
            "microsoft.office365.protectionCenter/allEntities/standard/read",
            "microsoft.office365.serviceHealth/allEntities/allTasks",
            "microsoft.office365.webPortal/allEntities/standard/read",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2",
        display_name: "Hybrid Identity Administrator",
        description: "Can manage synchronization from on-premises Active Directory, cloud sync provisioning, pass-through authentication and federation settings.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/cloudProvisioning/allProperties/allTasks",
            "microsoft.directory/onPremisesSynchronization/basic/update",
            "microsoft.directory/onPremisesSynchronization/standard/read",
            "microsoft.directory/organization/dirSync/update",
            "microsoft.directory/passwordHashSync/allProperties/allTasks",
            "microsoft.directory/hybridAuthenticationPolicy/allProperties/allTasks",
            "microsoft.directory/domains/allProperties/read",
            "microsoft.directory/domains/federation/update",
            "microsoft.directory/domains/federationConfiguration/basic/update",
            "microsoft.directory/domains/federationConfiguration/create",
            "microsoft.directory/provisioningLogs/allProperties/read",
            "microsoft.directory/auditLogs/allProperties/read",
            "microsoft.directory/signInReports/allProperties/read",
            "microsoft.office365.supportTickets/allEntities/allTasks",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "9360feb5-f418-4baa-8175-e2a00bac4301",
        display_name: "Directory Writers",
        description: "Can read and update basic properties of users, groups and service principals; intended for applications rather than people.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/users/create",
            "microsoft.directory/users/basic/update",
            "microsoft.directory/users/manager/update",
            "microsoft.directory/users/inviteGuest",
            "microsoft.directory/users/assignLicense",
            "microsoft.directory/groups/create",
            "microsoft.directory/groups/basic/update",
            "microsoft.directory/groups/members/update",
            "microsoft.directory/groups/owners/update",
            "microsoft.directory/groupSettings/basic/update",
            "microsoft.directory/groupSettings/create",
            "microsoft.directory/contacts/create",
            "microsoft.directory/applications/extensionProperties/update",
            "microsoft.directory/servicePrincipals/appRoleAssignedTo/update",
            "microsoft.directory/oAuth2PermissionGrants/create",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: DIRECTORY_READERS,
        display_name: "Directory Readers",
        description: "Can read basic directory information such as users, groups, devices and applications, and is often granted to guests and applications.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.directory/users/standard/read",
            "microsoft.directory/users/memberOf/read",
            "microsoft.directory/users/manager/read",
            "microsoft.directory/users/directReports/read",
            "microsoft.directory/groups/standard/read",
            "microsoft.directory/groups/members/read",
            "microsoft.directory/groups/owners/read",
            "microsoft.directory/devices/standard/read",
            "microsoft.directory/applications/standard/read",
            "microsoft.directory/servicePrincipals/standard/read",
            "microsoft.directory/domains/standard/read",
            "microsoft.directory/organization/standard/read",
            "microsoft.directory/directoryRoles/standard/read",
            "microsoft.directory/roleAssignments/standard/read",
            "microsoft.directory/roleDefinitions/standard/read",
        ],
        inherits_permissions_from: NO_PARENT,
    },
    BuiltinRole {
        id: "d29b2b05-8046-44ba-8758-1e26182fcf32",
        display_name: "Directory Synchronization Accounts",
        description: "Is reserved for the Microsoft Entra Connect service account, which uses it to synchronize on-premises directory data, and should not be assigned to people.",
        is_privileged: false,
        allowed_resource_actions: &["microsoft.directory/onPremisesSynchronization/standard/read"],
        inherits_permissions_from: NO_PARENT,
    },
    BuiltinRole {
        id: "8329153b-31d0-4727-b945-745eb3bc5f31",
        display_name: "Domain Name Administrator",
        description: "Can add, verify, update and remove custom domain names, including configuring them for federation.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/domains/allProperties/allTasks",
            "microsoft.office365.supportTickets/allEntities/allTasks",
            "microsoft.office365.webPortal/allEntities/standard/read",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "be2f45a1-457d-42af-a067-6ec1fa63bc45",
        display_name: "External Identity Provider Administrator",
        description: "Can add and configure the external identity providers the tenant trusts for direct federation.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/domains/federation/update",
            "microsoft.directory/identityProviders/allProperties/allTasks",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "3a2c62db-5318-420d-8d74-23affee5d9d5",
        display_name: "Intune Administrator",
        description: "Can manage every part of Microsoft Intune, along with the users, devices and security groups its policies are targeted at.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.intune/allEntities/allTasks",
            "microsoft.cloudPC/allEntities/allProperties/allTasks",
            "microsoft.directory/devices/basic/update",
            "microsoft.directory/devices/create",
            "microsoft.directory/devices/delete",
            "microsoft.directory/devices/registeredOwners/update",
            "microsoft.directory/bitlockerKeys/key/read",
            "microsoft.directory/deviceLocalCredentials/password/read",
            "microsoft.directory/groups.security/create",
            "microsoft.directory/groups.security/delete",
            "microsoft.directory/groups.security/members/update",
            "microsoft.directory/users/basic/update",
            "microsoft.directory/users/manager/update",
            "microsoft.azure.supportTickets/allEntities/allTasks",
            "microsoft.office365.supportTickets/allEntities/allTasks",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "59d46f88-662b-457b-bceb-5c3809e5908f",
        display_name: "Lifecycle Workflows Administrator",
        description: "Can build and run joiner, mover and leaver workflows and their tasks, and review their execution history.",
        is_privileged: true,
        allowed_resource_actions: &[
            "microsoft.directory/lifecycleWorkflows/workflows/allProperties/allTasks",
            "microsoft.directory/organization/strongAuthentication/read",
            "microsoft.directory/users/lifeCycleInfo/read",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e",
        display_name: "Identity Governance Administrator",
        description: "Can manage access packages, catalogs, access reviews and their policies in Microsoft Entra ID Governance.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.directory/accessReviews/allProperties/allTasks",
            "microsoft.directory/accessReviews/definitions.applications/allProperties/allTasks",
            "microsoft.directory/accessReviews/definitions.entitlementManagement/allProperties/allTasks",
            "microsoft.directory/accessReviews/definitions.groups/allProperties/update",
            "microsoft.directory/accessReviews/definitions.groups/create",
            "microsoft.directory/accessReviews/definitions.groups/delete",
            "microsoft.directory/entitlementManagement/allProperties/allTasks",
            "microsoft.directory/groups/members/update",
            "microsoft.directory/servicePrincipals/appRoleAssignedTo/update",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "29232cdf-9323-42fd-ade2-1d097af3e4de",
        display_name: "Exchange Administrator",
        description: "Can manage every Exchange Online setting and create and manage Microsoft 365 groups.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.office365.exchange/allEntities/basic/allTasks",
            "microsoft.directory/groups.unified/create",
            "microsoft.directory/groups.unified/delete",
            "microsoft.directory/groups.unified/basic/update",
            "microsoft.directory/groups.unified/members/update",
            "microsoft.directory/groups.unified/owners/update",
            "microsoft.directory/groups.unified/restore",
            "microsoft.directory/groups/hiddenMembers/read",
            "microsoft.directory/contacts/allProperties/read",
            "microsoft.backup/exchangeProtectionPolicies/allProperties/allTasks",
            "microsoft.office365.usageReports/allEntities/allProperties/read",
            "microsoft.office365.serviceHealth/allEntities/allTasks",
            "microsoft.office365.supportTickets/allEntities/allTasks",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "31392ffb-586c-42d1-9346-e59415a2cc4e",
        display_name: "Exchange Recipient Administrator",
        description: "Can create, update and delete Exchange Online recipients such as mailboxes and contacts, and migrate them.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.office365.exchange/migration/allProperties/allTasks",
            "microsoft.office365.exchange/recipients/allProperties/allTasks",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
        display_name: "SharePoint Administrator",
        description: "Can manage every SharePoint Online and OneDrive setting and create and manage Microsoft 365 groups.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.office365.sharePoint/allEntities/allTasks",
            "microsoft.directory/groups.unified/create",
            "microsoft.directory/groups.unified/delete",
            "microsoft.directory/groups.unified/basic/update",
            "microsoft.directory/groups.unified/members/update",
            "microsoft.directory/groups.unified/owners/update",
            "microsoft.directory/groups.unified/restore",
            "microsoft.backup/sharePointProtectionPolicies/allProperties/allTasks",
            "microsoft.backup/oneDriveForBusinessProtectionPolicies/allProperties/allTasks",
            "microsoft.office365.migrations/allEntities/allProperties/allTasks",
            "microsoft.office365.usageReports/allEntities/allProperties/read",
            "microsoft.office365.serviceHealth/allEntities/allTasks",
            "microsoft.office365.supportTickets/allEntities/allTasks",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "69091246-20e8-4a56-aa4d-066075b2a7a8",
        display_name: "Teams Administrator",
        description: "Can manage Microsoft Teams, including calling, messaging, meetings and the teams themselves, as well as Microsoft 365 groups.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.teams/allEntities/allProperties/allTasks",
            "microsoft.office365.skypeForBusiness/allEntities/allTasks",
            "microsoft.directory/groups.unified/create",
            "microsoft.directory/groups.unified/delete",
            "microsoft.directory/groups.unified/basic/update",
            "microsoft.directory/groups.unified/members/update",
            "microsoft.directory/groups.unified/owners/update",
            "microsoft.directory/externalUserProfiles/standard/read",
            "microsoft.directory/crossTenantAccessPolicy/default/crossCloudMeetings/update",
            "microsoft.office365.usageReports/allEntities/allProperties/read",
            "microsoft.office365.serviceHealth/allEntities/allTasks",
            "microsoft.office365.supportTickets/allEntities/allTasks",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "b0f54661-2d74-4c50-afa3-1ec803f12efe",
        display_name: "Billing Administrator",
        description: "Can buy products, manage subscriptions and payment details, and open support requests.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.commerce.billing/allEntities/allProperties/allTasks",
            "microsoft.directory/organization/basic/update",
            "microsoft.azure.serviceHealth/allEntities/allTasks",
            "microsoft.azure.supportTickets/allEntities/allTasks",
            "microsoft.office365.serviceHealth/allEntities/allTasks",
            "microsoft.office365.supportTickets/allEntities/allTasks",
            "microsoft.office365.webPortal/allEntities/standard/read",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
        display_name: "License Administrator",
        description: "Can assign, remove and reprocess product licenses for users and groups, and set users' usage location.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.directory/users/assignLicense",
            "microsoft.directory/users/reprocessLicenseAssignment",
            "microsoft.directory/users/usageLocation/update",
            "microsoft.directory/groups/assignLicense",
            "microsoft.directory/groups/reprocessLicenseAssignment",
            "microsoft.directory/authorizationPolicy/standard/read",
            "microsoft.azure.serviceHealth/allEntities/allTasks",
            "microsoft.office365.serviceHealth/allEntities/allTasks",
            "microsoft.office365.webPortal/allEntities/standard/read",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "17315797-102d-40b4-93e0-432062caca18",
        display_name: "Compliance Administrator",
        description: "Can manage compliance features and settings in Microsoft Purview, Compliance Manager and the related admin centers.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.office365.complianceManager/allEntities/allTasks",
            "microsoft.directory/entitlementManagement/allProperties/read",
            "microsoft.azure.serviceHealth/allEntities/allTasks",
            "microsoft.azure.supportTickets/allEntities/allTasks",
            "microsoft.office365.serviceHealth/allEntities/allTasks",
            "microsoft.office365.supportTickets/allEntities/allTasks",
            "microsoft.office365.webPortal/allEntities/standard/read",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "95e79109-95c0-4d8e-aee3-d01accf2d47b",
        display_name: "Guest Inviter",
        description: "Can invite external guest users even when members are not allowed to send invitations.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.directory/users/inviteGuest",
            "microsoft.directory/users/standard/read",
            "microsoft.directory/users/memberOf/read",
            "microsoft.directory/users/manager/read",
            "microsoft.directory/users/directReports/read",
        ],
        inherits_permissions_from: NO_PARENT,
    },
    BuiltinRole {
        id: "4a5d8f65-41da-4de4-8968-e035b65339cf",
        display_name: "Reports Reader",
        description: "Can read sign-in logs, audit logs, usage reports and adoption data, with no administrative rights.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.directory/auditLogs/allProperties/read",
            "microsoft.directory/provisioningLogs/allProperties/read",
            "microsoft.directory/signInReports/allProperties/read",
            "microsoft.office365.network/performance/allProperties/read",
            "microsoft.office365.usageReports/allEntities/allProperties/read",
            "microsoft.azure.serviceHealth/allEntities/allTasks",
            "microsoft.office365.webPortal/allEntities/standard/read",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "f023fd81-a637-4b56-95fd-791ac0226033",
        display_name: "Service Support Administrator",
        description: "Can open and follow up Microsoft support requests for Azure and Microsoft 365, and view service health.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.azure.serviceHealth/allEntities/allTasks",
            "microsoft.azure.supportTickets/allEntities/allTasks",
            "microsoft.office365.network/performance/allProperties/read",
            "microsoft.office365.serviceHealth/allEntities/allTasks",
            "microsoft.office365.supportTickets/allEntities/allTasks",
            "microsoft.office365.webPortal/allEntities/standard/read",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b",
        display_name: "Message Center Reader",
        description: "Can read the organization's Microsoft 365 message center posts and service updates, except security messages.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.office365.messageCenter/messages/read",
            "microsoft.office365.webPortal/allEntities/standard/read",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "8424c6f0-a189-499e-bbd0-26c1753c96d4",
        display_name: "Attribute Definition Administrator",
        description: "Can define, activate and deactivate custom security attributes and the attribute sets that group them.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.directory/attributeSets/allProperties/allTasks",
            "microsoft.directory/customSecurityAttributeDefinitions/allProperties/allTasks",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "58a13ea3-c632-46ae-9ee0-9c0d43cd7f3d",
        display_name: "Attribute Assignment Administrator",
        description: "Can set and remove custom security attribute values on users, service principals, managed identities and devices.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.directory/attributeSets/allProperties/read",
            "microsoft.directory/customSecurityAttributeDefinitions/allProperties/read",
            "microsoft.directory/users/customSecurityAttributes/read",
            "microsoft.directory/users/customSecurityAttributes/update",
            "microsoft.directory/servicePrincipals/customSecurityAttributes/read",
            "microsoft.directory/servicePrincipals/customSecurityAttributes/update",
            "microsoft.directory/azureManagedIdentities/customSecurityAttributes/read",
            "microsoft.directory/azureManagedIdentities/customSecurityAttributes/update",
            "microsoft.directory/devices/customSecurityAttributes/read",
            "microsoft.directory/devices/customSecurityAttributes/update",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "11648597-926c-4cf3-9c36-bcebb0ba8dcc",
        display_name: "Power Platform Administrator",
        description: "Can manage Power Platform environments, Power Apps, Power Automate flows and data loss prevention policies.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.powerApps/allEntities/allTasks",
            "microsoft.flow/allEntities/allTasks",
            "microsoft.dynamics365/allEntities/allTasks",
            "microsoft.azure.serviceHealth/allEntities/allTasks",
            "microsoft.azure.supportTickets/allEntities/allTasks",
            "microsoft.office365.serviceHealth/allEntities/allTasks",
            "microsoft.office365.supportTickets/allEntities/allTasks",
            "microsoft.office365.webPortal/allEntities/standard/read",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "a9ea8996-122f-4c74-9520-8edcd192826c",
        display_name: "Fabric Administrator",
        description: "Can manage all tenant settings of Microsoft Fabric and Power BI, and handle their support requests.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.powerApps.powerBI/allEntities/allTasks",
            "microsoft.azure.serviceHealth/allEntities/allTasks",
            "microsoft.azure.supportTickets/allEntities/allTasks",
            "microsoft.office365.serviceHealth/allEntities/allTasks",
            "microsoft.office365.supportTickets/allEntities/allTasks",
            "microsoft.office365.webPortal/allEntities/standard/read",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "44367163-eba1-44c3-98af-f5787879f96a",
        display_name: "Dynamics 365 Administrator",
        description: "Can manage the configuration of Dynamics 365 services and open support requests about them.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.dynamics365/allEntities/allTasks",
            "microsoft.azure.serviceHealth/allEntities/allTasks",
            "microsoft.azure.supportTickets/allEntities/allTasks",
            "microsoft.office365.serviceHealth/allEntities/allTasks",
            "microsoft.office365.supportTickets/allEntities/allTasks",
            "microsoft.office365.webPortal/allEntities/standard/read",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "11451d60-acb2-45eb-a7d6-43d0f0125c13",
        display_name: "Windows 365 Administrator",
        description: "Can provision and manage Cloud PCs, together with the devices and security groups used to assign them.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.cloudPC/allEntities/allProperties/allTasks",
            "microsoft.directory/devices/basic/update",
            "microsoft.directory/devices/create",
            "microsoft.directory/devices/delete",
            "microsoft.directory/devices/disable",
            "microsoft.directory/devices/enable",
            "microsoft.directory/devices/registeredUsers/update",
            "microsoft.directory/deletedItems.devices/restore",
            "microsoft.directory/groups.security/create",
            "microsoft.directory/groups.security/delete",
            "microsoft.directory/groups.security/members/update",
            "microsoft.directory/groups.security/owners/update",
            "microsoft.office365.usageReports/allEntities/allProperties/read",
            "microsoft.azure.supportTickets/allEntities/allTasks",
            "microsoft.office365.supportTickets/allEntities/allTasks",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
    BuiltinRole {
        id: "810a2642-a034-447f-a5e8-41beaa378541",
        display_name: "Yammer Administrator",
        description: "Can manage all aspects of Yammer (Viva Engage) and create, manage and restore Microsoft 365 groups.",
        is_privileged: false,
        allowed_resource_actions: &[
            "microsoft.office365.yammer/allEntities/allProperties/allTasks",
            "microsoft.directory/groups.unified/create",
            "microsoft.directory/groups.unified/delete",
            "microsoft.directory/groups.unified/basic/update",
            "microsoft.directory/groups.unified/members/update",
            "microsoft.directory/groups.unified/owners/update",
            "microsoft.directory/groups.unified/restore",
            "microsoft.directory/groups/hiddenMembers/read",
            "microsoft.office365.messageCenter/messages/read",
            "microsoft.office365.usageReports/allEntities/allProperties/read",
            "microsoft.office365.serviceHealth/allEntities/allTasks",
            "microsoft.office365.supportTickets/allEntities/allTasks",
            "microsoft.office365.webPortal/allEntities/standard/read",
        ],
        inherits_permissions_from: FROM_DIRECTORY_READERS,
    },
];

/// Looks a built-in role up by id (its template id), ignoring ASCII case in the GUID.
pub fn find(id: &str) -> Option<&'static BuiltinRole> {
    BUILTIN_ROLES.iter().find(|r| r.id.eq_ignore_ascii_case(id))
}

/// The built-in roles that can be assigned at the scope of an administrative unit, as Microsoft's
/// "Assign Microsoft Entra roles with administrative unit scope" lists them (Printer
/// Administrator and Teams Devices Administrator are on that list but not in this catalog).
pub const ADMINISTRATIVE_UNIT_ROLES: [&str; 12] = [
    "Authentication Administrator",
    "Cloud Device Administrator",
    "Groups Administrator",
    "Helpdesk Administrator",
    "License Administrator",
    "Password Administrator",
    "Printer Administrator",
    "Privileged Authentication Administrator",
    "SharePoint Administrator",
    "Teams Administrator",
    "Teams Devices Administrator",
    "User Administrator",
];

/// Whether a role can be assigned at the scope of an administrative unit: a built-in role on
/// [`ADMINISTRATIVE_UNIT_ROLES`], or a custom role with at least one permission over users,
/// groups or devices (the objects an administrative unit holds).
pub fn assignable_at_administrative_unit(role: &super::RoleDefinition) -> bool {
    if role.is_built_in {
        return ADMINISTRATIVE_UNIT_ROLES.contains(&role.display_name.as_str());
    }
    role.allowed_resource_actions.iter().any(|a| {
        let a = a.to_ascii_lowercase();
        ["microsoft.directory/users/", "microsoft.directory/groups/", "microsoft.directory/devices/"]
            .iter()
            .any(|prefix| a.starts_with(prefix))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_administrative_unit_roles_in_the_catalog_are_named_as_it_names_them() {
        let named: Vec<&str> = ADMINISTRATIVE_UNIT_ROLES
            .iter()
            .copied()
            .filter(|n| BUILTIN_ROLES.iter().any(|r| r.display_name == *n))
            .collect();
        // Ten of the twelve are in the catalog; a renamed or mistyped one would drop out here.
        assert_eq!(named.len(), 10, "{named:?}");
    }

    #[test]
    fn a_custom_role_is_assignable_at_an_administrative_unit_when_it_acts_on_users_groups_or_devices() {
        let custom = |actions: &[&str]| super::super::RoleDefinition {
            id: "c1".into(),
            display_name: "Custom".into(),
            description: None,
            is_built_in: false,
            is_enabled: true,
            is_privileged: false,
            template_id: None,
            version: None,
            allowed_resource_actions: actions.iter().map(|a| a.to_string()).collect(),
            inherits_permissions_from: Default::default(),
        };
        for (actions, assignable) in [
            (&["microsoft.directory/users/password/update"][..], true),
            (
                &[
                    "microsoft.directory/applications/basic/update",
                    "Microsoft.Directory/Groups/members/update",
                ][..],
                true,
            ),
            (&["microsoft.directory/devices/disable"][..], true),
            (&["microsoft.directory/applications/basic/update"][..], false),
            (&[][..], false),
        ] {
            assert_eq!(assignable_at_administrative_unit(&custom(actions)), assignable, "{actions:?}");
        }
    }

    fn is_lowercase_guid(s: &str) -> bool {
        let groups: Vec<&str> = s.split('-').collect();
        let lens = [8, 4, 4, 4, 12];
        groups.len() == lens.len()
            && groups.iter().zip(lens).all(|(g, n)| {
                g.len() == n && g.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            })
    }

    #[test]
    fn catalog_has_45_roles() {
        assert_eq!(BUILTIN_ROLES.len(), 45);
    }

    #[test]
    fn ids_are_lowercase_guids_and_unique() {
        let mut seen = HashSet::new();
        for r in BUILTIN_ROLES {
            assert!(is_lowercase_guid(r.id), "{}: id {:?} is not a lowercase GUID", r.display_name, r.id);
            assert!(seen.insert(r.id), "duplicate id {}", r.id);
        }
    }

    #[test]
    fn guid_check_rejects_bad_input() {
        assert!(is_lowercase_guid("62e90394-69f5-4237-9190-012177145e10"));
        assert!(!is_lowercase_guid("62E90394-69F5-4237-9190-012177145E10"));
        assert!(!is_lowercase_guid("62e90394-69f5-4237-9190-012177145e1"));
        assert!(!is_lowercase_guid("62e90394-69f5-4237-9190-012177145e10-0"));
        assert!(!is_lowercase_guid("62e90394x69f5-4237-9190-012177145e10"));
        assert!(!is_lowercase_guid("g2e90394-69f5-4237-9190-012177145e10"));
    }

    #[test]
    fn display_names_are_unique() {
        let mut seen = HashSet::new();
        for r in BUILTIN_ROLES {
            assert!(!r.display_name.is_empty());
            assert!(seen.insert(r.display_name), "duplicate name {}", r.display_name);
        }
    }

    #[test]
    fn every_role_has_actions_and_a_description() {
        for r in BUILTIN_ROLES {
            assert!(!r.allowed_resource_actions.is_empty(), "{} has no actions", r.display_name);
            let mut seen = HashSet::new();
            for a in r.allowed_resource_actions {
                assert!(
                    a.starts_with("microsoft.") && a.split('/').count() >= 3,
                    "{}: malformed action {a:?}",
                    r.display_name
                );
                assert!(seen.insert(*a), "{}: duplicate action {a}", r.display_name);
            }
            assert!(r.description.ends_with('.'), "{}: description should be a sentence", r.display_name);
        }
    }

    #[test]
    fn inherited_roles_are_in_the_catalog() {
        for r in BUILTIN_ROLES {
            for parent in r.inherits_permissions_from {
                assert!(find(parent).is_some(), "{} inherits from unknown role {parent}", r.display_name);
                assert_ne!(*parent, r.id, "{} inherits from itself", r.display_name);
            }
        }
        let readers = find(DIRECTORY_READERS).unwrap();
        assert!(readers.inherits_permissions_from.is_empty());
        // Named by the reference (Groups Administrator) and the sample (User Administrator).
        for id in ["fdd7a751-b60b-444a-984c-02652fe8fa1c", "fe930be7-5e62-47db-91af-98c3a49a38b1"] {
            assert_eq!(find(id).unwrap().inherits_permissions_from, &[DIRECTORY_READERS]);
        }
    }

    #[test]
    fn find_ignores_case() {
        let upper = GLOBAL_ADMINISTRATOR.to_ascii_uppercase();
        let found = find(&upper).expect("upper-case id should be found");
        assert_eq!(found.id, GLOBAL_ADMINISTRATOR);
        assert_eq!(
            find("E8611AB8-c189-46E8-94e1-60213AB1F814").map(|r| r.display_name),
            Some("Privileged Role Administrator")
        );
        assert!(find("00000000-0000-0000-0000-000000000000").is_none());
        assert!(find("").is_none());
    }

    #[test]
    fn well_known_constants_resolve() {
        assert_eq!(find(GLOBAL_ADMINISTRATOR).unwrap().display_name, "Global Administrator");
        assert_eq!(
            find(PRIVILEGED_ROLE_ADMINISTRATOR).unwrap().display_name,
            "Privileged Role Administrator"
        );
        assert_eq!(find(DIRECTORY_READERS).unwrap().display_name, "Directory Readers");
        assert!(find(GLOBAL_ADMINISTRATOR).unwrap().is_privileged);
        assert!(find(PRIVILEGED_ROLE_ADMINISTRATOR).unwrap().is_privileged);
        assert!(!find(DIRECTORY_READERS).unwrap().is_privileged);
    }

    #[test]
    fn sample_roles_match_the_reference_sample() {
        let pra = find(PRIVILEGED_ROLE_ADMINISTRATOR).unwrap();
        assert_eq!(
            pra.allowed_resource_actions,
            &[
                "microsoft.directory/privilegedIdentityManagement/allProperties/allTasks",
                "microsoft.directory/roleAssignments/allProperties/allTasks",
                "microsoft.directory/roleDefinitions/allProperties/allTasks",
            ]
        );
        assert_eq!(
            pra.description,
            "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management."
        );
        let ua = find("fe930be7-5e62-47db-91af-98c3a49a38b1").unwrap();
        assert_eq!(ua.display_name, "User Administrator");
        assert_eq!(
            ua.description,
            "Can manage all aspects of users and groups, including resetting passwords for limited admins."
        );
        assert!(ua.allowed_resource_actions.contains(&"microsoft.directory/users/password/update"));
    }

    #[test]
    fn order_follows_the_reference_table() {
        assert_eq!(BUILTIN_ROLES[0].id, GLOBAL_ADMINISTRATOR);
        assert_eq!(BUILTIN_ROLES[2].id, PRIVILEGED_ROLE_ADMINISTRATOR);
        assert_eq!(BUILTIN_ROLES[20].id, DIRECTORY_READERS);
        assert_eq!(BUILTIN_ROLES[44].display_name, "Yammer Administrator");
        let privileged = BUILTIN_ROLES.iter().filter(|r| r.is_privileged).count();
        assert_eq!(privileged, 22);
    }
}
