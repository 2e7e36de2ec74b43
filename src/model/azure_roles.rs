//! The built-in Azure (ARM `Microsoft.Authorization`) role definitions, as static data, plus the small
//! helpers the simulator needs to look a role up, read a role definition id in any of its forms and
//! decide whether a role's `actions`/`notActions` grant a given operation.
//!
//! Where the data comes from: the team's ARM reference, §5 (GUIDs, names, order and the permission
//! summaries; docs/fidelity.md says what the references are) and the shape of a real role definition.
//! Where that table only summarises a role, the action lists here are a short, representative subset
//! in the usual Azure form, and the role carries a comment saying so. Descriptions are pimlab's.

/// One permission block of a role definition (ARM `permissions[]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AzurePermission {
    pub actions: &'static [&'static str],
    pub not_actions: &'static [&'static str],
    pub data_actions: &'static [&'static str],
    pub not_data_actions: &'static [&'static str],
}

/// A built-in Azure role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AzureBuiltinRole {
    /// The role definition's GUID (lower case), the same in every tenant.
    pub id: &'static str,
    pub role_name: &'static str,
    pub description: &'static str,
    pub permissions: AzurePermission,
    /// `assignableScopes`: `["/"]` for almost all built-ins.
    pub assignable_scopes: &'static [&'static str],
    /// Whether Azure counts it as a privileged administrator role (Owner, Contributor, User Access
    /// Administrator, Role Based Access Control Administrator; the rest are job-function roles).
    pub is_privileged: bool,
}

/// Well-known role definition GUIDs the engine refers to by name.
pub const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
pub const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
pub const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
pub const USER_ACCESS_ADMINISTRATOR: &str = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
pub const RBAC_ADMINISTRATOR: &str = "f58310d9-a9f6-439a-9e8d-f62e7b41a168";

/// An empty action list, for the many roles with no `notActions` or data actions.
const NONE: &[&str] = &[];
/// `assignableScopes` of (almost) every built-in role: the root scope.
const ROOT: &[&str] = &["/"];

/// A permission block with only control-plane `actions`.
const fn actions_only(actions: &'static [&'static str]) -> AzurePermission {
    AzurePermission { actions, not_actions: NONE, data_actions: NONE, not_data_actions: NONE }
}

/// A permission block with control-plane `actions` and data-plane `dataActions`, nothing excluded.
const fn with_data(
    actions: &'static [&'static str],
    data_actions: &'static [&'static str],
) -> AzurePermission {
    AzurePermission { actions, not_actions: NONE, data_actions, not_data_actions: NONE }
}

/// A job-function (non-privileged) role assignable anywhere, which is what most built-ins are.
const fn job_role(
    id: &'static str,
    role_name: &'static str,
    description: &'static str,
    permissions: AzurePermission,
) -> AzureBuiltinRole {
    AzureBuiltinRole {
        id,
        role_name,
        description,
        permissions,
        assignable_scopes: ROOT,
        is_privileged: false,
    }
}

/// A privileged administrator role assignable anywhere.
const fn admin_role(
    id: &'static str,
    role_name: &'static str,
    description: &'static str,
    permissions: AzurePermission,
) -> AzureBuiltinRole {
    AzureBuiltinRole { id, role_name, description, permissions, assignable_scopes: ROOT, is_privileged: true }
}

/// The control-plane actions shared by the Key Vault data roles: read the vault and its deployment
/// context, open support tickets. Data access comes from each role's `dataActions`.
const KEY_VAULT_CONTROL_PLANE: &[&str] = &[
    "Microsoft.Authorization/*/read",
    "Microsoft.Insights/alertRules/*",
    "Microsoft.Resources/deployments/*",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Support/*",
    "Microsoft.KeyVault/checkNameAvailability/read",
    "Microsoft.KeyVault/deletedVaults/read",
    "Microsoft.KeyVault/locations/*/read",
    "Microsoft.KeyVault/vaults/*/read",
    "Microsoft.KeyVault/operations/read",
];

/// Every built-in role of the reference's §5 table, in its order.
pub static AZURE_BUILTIN_ROLES: &[AzureBuiltinRole] = &[
    admin_role(
        OWNER,
        "Owner",
        "Gives complete control over all resources, including the right to assign roles in Azure RBAC.",
        actions_only(&["*"]),
    ),
    admin_role(
        CONTRIBUTOR,
        "Contributor",
        "Lets the holder create and manage every kind of resource, but not assign roles in Azure RBAC.",
        AzurePermission {
            actions: &["*"],
            not_actions: &[
                "Microsoft.Authorization/*/Delete",
                "Microsoft.Authorization/*/Write",
                "Microsoft.Authorization/elevateAccess/Action",
                "Microsoft.Blueprint/blueprintAssignments/write",
                "Microsoft.Blueprint/blueprintAssignments/delete",
                "Microsoft.Compute/galleries/share/action",
                "Microsoft.Purview/consents/write",
                "Microsoft.Purview/consents/delete",
                "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
                "Microsoft.Subscription/cancel/action",
                "Microsoft.Subscription/enable/action",
            ],
            data_actions: NONE,
            not_data_actions: NONE,
        },
    ),
    job_role(
        READER,
        "Reader",
        "Lets the holder see every resource but change nothing.",
        actions_only(&["*/read"]),
    ),
    admin_role(
        USER_ACCESS_ADMINISTRATOR,
        "User Access Administrator",
        "Lets the holder manage who has access to Azure resources by granting and removing role assignments.",
        actions_only(&["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"]),
    ),
    // Azure pairs this role with an assignment condition limiting which roles it may hand out; the
    // condition is not modelled here.
    admin_role(
        RBAC_ADMINISTRATOR,
        "Role Based Access Control Administrator",
        "Lets the holder create and remove role assignments in Azure RBAC, without other management rights.",
        actions_only(&[
            "Microsoft.Authorization/roleAssignments/write",
            "Microsoft.Authorization/roleAssignments/delete",
            "*/read",
            "Microsoft.Support/*",
        ]),
    ),
    AzureBuiltinRole {
        id: "a8889054-8d42-49c9-bc1c-52486c10e7cd",
        role_name: "Reservations Administrator",
        description: "Lets the holder read, manage and delegate access to the reservations of a tenant.",
        permissions: actions_only(&[
            "Microsoft.Capacity/*/read",
            "Microsoft.Capacity/*/action",
            "Microsoft.Capacity/*/write",
            "Microsoft.Authorization/roleAssignments/read",
            "Microsoft.Authorization/roleDefinitions/read",
            "Microsoft.Authorization/roleAssignments/write",
            "Microsoft.Authorization/roleAssignments/delete",
        ]),
        assignable_scopes: &["/providers/Microsoft.Capacity"],
        is_privileged: false,
    },
    job_role(
        "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        "Key Vault Administrator",
        "Allows every data-plane operation on a key vault and the keys, secrets and certificates in it.",
        with_data(KEY_VAULT_CONTROL_PLANE, &["Microsoft.KeyVault/vaults/*"]),
    ),
    // Summarised by the reference ("read secret values"); the lists are the usual ones, abridged.
    job_role(
        "4633458b-17de-408a-b874-0445c86b69e6",
        "Key Vault Secrets User",
        "Allows reading the contents of secrets in a key vault that uses the Azure RBAC permission model.",
        with_data(
            NONE,
            &[
                "Microsoft.KeyVault/vaults/secrets/getSecret/action",
                "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
            ],
        ),
    ),
    // Summarised by the reference ("manage secrets"); the lists are the usual ones, abridged.
    job_role(
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        "Key Vault Secrets Officer",
        "Allows any operation on the secrets of a key vault, but not on the vault's permissions.",
        with_data(KEY_VAULT_CONTROL_PLANE, &["Microsoft.KeyVault/vaults/secrets/*"]),
    ),
    // Summarised by the reference ("metadata read"); the lists are the usual ones, abridged.
    job_role(
        "21090545-7ca7-4776-b22c-e363652d74d2",
        "Key Vault Reader",
        "Allows reading key vault metadata and object properties, but not secret values or key material.",
        with_data(
            KEY_VAULT_CONTROL_PLANE,
            &["Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"],
        ),
    ),
    // Summarised by the reference; Azure also attaches a condition restricting it to the Key Vault
    // data roles, which is not modelled here.
    job_role(
        "8b54135c-b56d-4d72-a534-26097cfdc8d8",
        "Key Vault Data Access Administrator",
        "Lets the holder grant and remove the Key Vault data-plane roles on vaults it can see.",
        actions_only(&[
            "Microsoft.Authorization/roleAssignments/write",
            "Microsoft.Authorization/roleAssignments/delete",
            "Microsoft.Authorization/*/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Resources/subscriptions/read",
            "Microsoft.Management/managementGroups/read",
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.Support/*",
        ]),
    ),
    job_role(
        "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
        "Storage Blob Data Owner",
        "Gives full control of blob containers and their data, including setting POSIX access control.",
        with_data(
            &[
                "Microsoft.Storage/storageAccounts/blobServices/containers/*",
                "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
            ],
            &["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*"],
        ),
    ),
    // Summarised by the reference ("blob read/write/delete"); the lists are the usual ones.
    job_role(
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        "Storage Blob Data Contributor",
        "Allows reading, writing and deleting blob containers and the blobs inside them.",
        with_data(
            &[
                "Microsoft.Storage/storageAccounts/blobServices/containers/delete",
                "Microsoft.Storage/storageAccounts/blobServices/containers/read",
                "Microsoft.Storage/storageAccounts/blobServices/containers/write",
                "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
            ],
            &[
                "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
                "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
                "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
                "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action",
                "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action",
            ],
        ),
    ),
    job_role(
        "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
        "Storage Blob Data Reader",
        "Allows listing blob containers and reading the blobs inside them.",
        with_data(
            &[
                "Microsoft.Storage/storageAccounts/blobServices/containers/read",
                "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
            ],
            &["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
        ),
    ),
    // Summarised by the reference ("manage storage accounts incl. keys"); the list is abridged.
    job_role(
        "17d1049b-9a84-46fb-8f53-869881c3d3ab",
        "Storage Account Contributor",
        "Lets the holder manage storage accounts, including their access keys, and so reach their data.",
        actions_only(&[
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Insights/diagnosticSettings/*",
            "Microsoft.Network/virtualNetworks/subnets/joinViaServiceEndpoint/action",
            "Microsoft.ResourceHealth/availabilityStatuses/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Storage/storageAccounts/*",
            "Microsoft.Support/*",
        ]),
    ),
    // Summarised by the reference ("queue data r/w/d"); the lists are the usual ones.
    job_role(
        "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        "Storage Queue Data Contributor",
        "Allows reading, writing and deleting storage queues and the messages in them.",
        with_data(
            &[
                "Microsoft.Storage/storageAccounts/queueServices/queues/delete",
                "Microsoft.Storage/storageAccounts/queueServices/queues/read",
                "Microsoft.Storage/storageAccounts/queueServices/queues/write",
            ],
            &[
                "Microsoft.Storage/storageAccounts/queueServices/queues/messages/delete",
                "Microsoft.Storage/storageAccounts/queueServices/queues/messages/read",
                "Microsoft.Storage/storageAccounts/queueServices/queues/messages/write",
                "Microsoft.Storage/storageAccounts/queueServices/queues/messages/process/action",
            ],
        ),
    ),
    // Summarised by the reference ("queue data read"); the lists are the usual ones.
    job_role(
        "19e7f393-937e-4f77-808e-94535e297925",
        "Storage Queue Data Reader",
        "Allows listing storage queues and reading the messages in them.",
        with_data(
            &["Microsoft.Storage/storageAccounts/queueServices/queues/read"],
            &["Microsoft.Storage/storageAccounts/queueServices/queues/messages/read"],
        ),
    ),
    // The reference summarises the network and backup actions; those parts of the list are abridged.
    job_role(
        "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
        "Virtual Machine Contributor",
        "Lets the holder create and manage virtual machines, but not sign in to them or manage the networks \
         and storage accounts they attach to.",
        actions_only(&[
            "Microsoft.Authorization/*/read",
            "Microsoft.Compute/availabilitySets/*",
            "Microsoft.Compute/locations/*",
            "Microsoft.Compute/virtualMachines/*",
            "Microsoft.Compute/virtualMachineScaleSets/*",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Network/loadBalancers/backendAddressPools/join/action",
            "Microsoft.Network/loadBalancers/read",
            "Microsoft.Network/networkInterfaces/*",
            "Microsoft.Network/networkSecurityGroups/join/action",
            "Microsoft.Network/networkSecurityGroups/read",
            "Microsoft.Network/publicIPAddresses/join/action",
            "Microsoft.Network/publicIPAddresses/read",
            "Microsoft.Network/virtualNetworks/read",
            "Microsoft.Network/virtualNetworks/subnets/join/action",
            "Microsoft.RecoveryServices/locations/*",
            "Microsoft.RecoveryServices/Vaults/backupPolicies/read",
            "Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/write",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.SqlVirtualMachine/*",
            "Microsoft.Storage/storageAccounts/listKeys/action",
            "Microsoft.Storage/storageAccounts/read",
            "Microsoft.Support/*",
        ]),
    ),
    // Summarised by the reference ("VM login as admin"); the lists are the usual ones, abridged.
    job_role(
        "1c0163c0-47e6-4577-8991-ea5c82e286e4",
        "Virtual Machine Administrator Login",
        "Allows signing in to virtual machines in the portal or over SSH/RDP with administrator rights.",
        with_data(
            &[
                "Microsoft.Network/publicIPAddresses/read",
                "Microsoft.Network/virtualNetworks/read",
                "Microsoft.Network/loadBalancers/read",
                "Microsoft.Network/networkInterfaces/read",
                "Microsoft.Compute/virtualMachines/*/read",
                "Microsoft.HybridCompute/machines/*/read",
            ],
            &[
                "Microsoft.Compute/virtualMachines/login/action",
                "Microsoft.Compute/virtualMachines/loginAsAdmin/action",
                "Microsoft.HybridCompute/machines/login/action",
                "Microsoft.HybridCompute/machines/loginAsAdmin/action",
            ],
        ),
    ),
    // Summarised by the reference ("VM login as user"); the lists are the usual ones, abridged.
    job_role(
        "fb879df8-f326-4884-b1cf-06f3ad86be52",
        "Virtual Machine User Login",
        "Allows signing in to virtual machines in the portal or over SSH/RDP as an ordinary user.",
        with_data(
            &[
                "Microsoft.Network/publicIPAddresses/read",
                "Microsoft.Network/virtualNetworks/read",
                "Microsoft.Network/loadBalancers/read",
                "Microsoft.Network/networkInterfaces/read",
                "Microsoft.Compute/virtualMachines/*/read",
                "Microsoft.HybridCompute/machines/*/read",
            ],
            &[
                "Microsoft.Compute/virtualMachines/login/action",
                "Microsoft.HybridCompute/machines/login/action",
            ],
        ),
    ),
    // Summarised by the reference ("manage networks"); the list is the usual one.
    job_role(
        "4d97b98b-1d4f-4787-a291-c67834d212e7",
        "Network Contributor",
        "Lets the holder create and manage networks of every kind, but not grant access to them.",
        actions_only(&[
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Network/*",
            "Microsoft.ResourceHealth/availabilityStatuses/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
        ]),
    ),
    // No action list in the reference; the list is the usual one.
    job_role(
        "befefa01-2a29-4197-83a8-272ff33ce314",
        "DNS Zone Contributor",
        "Lets the holder manage public DNS zones and their record sets, but not control who can reach them.",
        actions_only(&[
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Network/dnsZones/*",
            "Microsoft.ResourceHealth/availabilityStatuses/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
        ]),
    ),
    // No action list in the reference; the list is the usual one, abridged.
    job_role(
        "b12aa53e-6015-4669-85d0-8515ebb3ae7f",
        "Private DNS Zone Contributor",
        "Lets the holder manage private DNS zones, their record sets and virtual network links.",
        actions_only(&[
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
            "Microsoft.Network/privateDnsZones/*",
            "Microsoft.Network/privateDnsOperationResults/*",
            "Microsoft.Network/privateDnsOperationStatuses/*",
            "Microsoft.Network/virtualNetworks/read",
            "Microsoft.Network/virtualNetworks/join/action",
        ]),
    ),
    // No action list in the reference; the list is the usual one, abridged.
    job_role(
        "de139f84-1756-47ae-9be6-808fbbe84772",
        "Website Contributor",
        "Lets the holder manage web apps, but not the App Service plans they run on or access to them.",
        actions_only(&[
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Insights/components/*",
            "Microsoft.ResourceHealth/availabilityStatuses/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
            "Microsoft.Web/certificates/*",
            "Microsoft.Web/listSitesAssignedToHostName/read",
            "Microsoft.Web/serverFarms/join/action",
            "Microsoft.Web/serverFarms/read",
            "Microsoft.Web/sites/*",
        ]),
    ),
    // No action list in the reference; the list is the usual one, abridged.
    job_role(
        "2cc479cb-7b4d-49a8-b449-8c00fd0f0a4b",
        "Web Plan Contributor",
        "Lets the holder manage App Service plans, but not the web apps on them or access to them.",
        actions_only(&[
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.ResourceHealth/availabilityStatuses/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
            "Microsoft.Web/serverFarms/*",
            "Microsoft.Web/hostingEnvironments/Join/Action",
            "Microsoft.Insights/autoscalesettings/*",
        ]),
    ),
    // No action list in the reference; the list is the usual one.
    job_role(
        "7f951dda-4ed3-4680-a7ca-43fe172d538d",
        "AcrPull",
        "Allows pulling artifacts from a container registry.",
        actions_only(&["Microsoft.ContainerRegistry/registries/pull/read"]),
    ),
    // No action list in the reference; the list is the usual one.
    job_role(
        "8311e382-0749-4cb8-b61a-304f252e45ec",
        "AcrPush",
        "Allows pushing artifacts to a container registry and pulling them from it.",
        actions_only(&[
            "Microsoft.ContainerRegistry/registries/pull/read",
            "Microsoft.ContainerRegistry/registries/push/write",
        ]),
    ),
    // The PIM spec examples mislabel this GUID as "Contributor"; it is this narrow registry role.
    // No action list in the reference; the lists are the usual ones.
    job_role(
        "c8d4ff99-41c3-41a8-9f60-21dfdad59608",
        "AcrQuarantineWriter",
        "Allows reading and changing the quarantine state of images in a container registry.",
        with_data(
            &[
                "Microsoft.ContainerRegistry/registries/quarantine/read",
                "Microsoft.ContainerRegistry/registries/quarantine/write",
            ],
            &[
                "Microsoft.ContainerRegistry/registries/quarantinedArtifacts/read",
                "Microsoft.ContainerRegistry/registries/quarantinedArtifacts/write",
            ],
        ),
    ),
    // No action list in the reference; the list is the usual one.
    job_role(
        "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8",
        "Azure Kubernetes Service Cluster Admin Role",
        "Allows fetching the cluster-admin credentials of an AKS managed cluster.",
        actions_only(&[
            "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action",
            "Microsoft.ContainerService/managedClusters/accessProfiles/listCredential/action",
            "Microsoft.ContainerService/managedClusters/read",
            "Microsoft.ContainerService/managedClusters/runcommand/action",
        ]),
    ),
    // No action list in the reference; the list is the usual one.
    job_role(
        "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
        "Azure Kubernetes Service Cluster User Role",
        "Allows fetching the cluster-user credentials of an AKS managed cluster.",
        actions_only(&[
            "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
            "Microsoft.ContainerService/managedClusters/read",
        ]),
    ),
    // No action list in the reference; the list is the usual one.
    job_role(
        "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8",
        "Azure Kubernetes Service Contributor Role",
        "Lets the holder read and update AKS managed clusters through Azure Resource Manager.",
        actions_only(&[
            "Microsoft.ContainerService/managedClusters/read",
            "Microsoft.ContainerService/managedClusters/write",
            "Microsoft.Resources/deployments/*",
        ]),
    ),
    // No action list in the reference; the lists are the usual ones, abridged.
    job_role(
        "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
        "Azure Kubernetes Service RBAC Cluster Admin",
        "Gives full control of every Kubernetes resource in an AKS cluster that uses Azure RBAC.",
        with_data(
            &[
                "Microsoft.Authorization/*/read",
                "Microsoft.Insights/alertRules/*",
                "Microsoft.Resources/deployments/write",
                "Microsoft.Resources/subscriptions/operationresults/read",
                "Microsoft.Resources/subscriptions/read",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
            ],
            &["Microsoft.ContainerService/managedClusters/*"],
        ),
    ),
    // No action list in the reference; the list is the usual one, abridged.
    job_role(
        "5e467623-bb1f-42f4-a55d-6e525e11384b",
        "Backup Contributor",
        "Lets the holder manage backups in a Recovery Services vault, but not create vaults or grant access.",
        actions_only(&[
            "Microsoft.Authorization/*/read",
            "Microsoft.Network/virtualNetworks/read",
            "Microsoft.RecoveryServices/locations/*",
            "Microsoft.RecoveryServices/Vaults/backupFabrics/*",
            "Microsoft.RecoveryServices/Vaults/backupJobs/*",
            "Microsoft.RecoveryServices/Vaults/backupPolicies/*",
            "Microsoft.RecoveryServices/Vaults/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Storage/storageAccounts/read",
            "Microsoft.Support/*",
        ]),
    ),
    // No action list in the reference; the list is the usual one.
    job_role(
        "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59",
        "Managed Identity Contributor",
        "Lets the holder create, read, update and delete user-assigned managed identities.",
        actions_only(&[
            "Microsoft.ManagedIdentity/userAssignedIdentities/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/write",
            "Microsoft.ManagedIdentity/userAssignedIdentities/delete",
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Support/*",
        ]),
    ),
    // No action list in the reference; the lists are the usual ones.
    job_role(
        "090c5cfd-751d-490a-894a-3ce6f1109419",
        "Azure Service Bus Data Owner",
        "Gives full access to Service Bus namespaces and the messages in their queues and topics.",
        with_data(&["Microsoft.ServiceBus/*"], &["Microsoft.ServiceBus/*"]),
    ),
    // No action list in the reference; the lists are the usual ones.
    job_role(
        "f526a384-b230-433a-b45c-95f59c4a2dec",
        "Azure Event Hubs Data Owner",
        "Gives full access to Event Hubs namespaces and the events sent to and read from them.",
        with_data(&["Microsoft.EventHub/*"], &["Microsoft.EventHub/*"]),
    ),
    // No action list in the reference; the lists are the usual ones, abridged.
    job_role(
        "230815da-be43-4aae-9cb4-875f7bd000aa",
        "Cosmos DB Operator",
        "Lets the holder manage Azure Cosmos DB accounts, but not read their data or their keys.",
        AzurePermission {
            actions: &[
                "Microsoft.DocumentDb/databaseAccounts/*",
                "Microsoft.Insights/alertRules/*",
                "Microsoft.Authorization/*/read",
                "Microsoft.ResourceHealth/availabilityStatuses/read",
                "Microsoft.Resources/deployments/*",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                "Microsoft.Support/*",
                "Microsoft.Network/virtualNetworks/subnets/joinViaServiceEndpoint/action",
            ],
            not_actions: &[
                "Microsoft.DocumentDB/databaseAccounts/readonlyKeys/*",
                "Microsoft.DocumentDB/databaseAccounts/regenerateKey/*",
                "Microsoft.DocumentDB/databaseAccounts/listKeys/*",
                "Microsoft.DocumentDB/databaseAccounts/listConnectionStrings/*",
                "Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions/write",
                "Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions/delete",
                "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/write",
                "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/delete",
            ],
            data_actions: NONE,
            not_data_actions: NONE,
        },
    ),
    // The reference has only the name (from a spec example); the data actions are the usual ones.
    job_role(
        "a1705bd2-3a8f-45a5-8683-466fcfd5cc24",
        "FHIR Data Converter",
        "Allows running the FHIR service's data conversion ($convert-data) operation.",
        with_data(
            NONE,
            &[
                "Microsoft.HealthcareApis/services/fhir/resources/convertData/action",
                "Microsoft.HealthcareApis/workspaces/fhirservices/resources/convertData/action",
            ],
        ),
    ),
];

/// The built-in role with this GUID (case-insensitive), or whose `roleName` is this (case-insensitive).
///
/// Both forms are accepted because clients send either: ARM bodies carry GUIDs, while people and
/// `$filter=roleName eq '...'` use names.
pub fn builtin(id_or_name: &str) -> Option<&'static AzureBuiltinRole> {
    AZURE_BUILTIN_ROLES
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(id_or_name) || r.role_name.eq_ignore_ascii_case(id_or_name))
}

/// The GUID at the end of a role definition id in any of its forms: a bare GUID,
/// `/providers/Microsoft.Authorization/roleDefinitions/{guid}`, or
/// `/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}` (any scope
/// prefix; segment names compared case-insensitively; a trailing slash ignored). None when the text is
/// not one of these forms or the last segment is not a GUID.
///
/// ARM itself accepts all three forms in `roleDefinitionId`, and returns the scoped one, so callers
/// compare role definitions by this GUID rather than by the text they were given.
pub fn role_guid(id: &str) -> Option<String> {
    let id = id.strip_suffix('/').unwrap_or(id);
    if is_guid(id) {
        return Some(id.to_ascii_lowercase());
    }
    let rest = id.strip_prefix('/')?;
    let segments: Vec<&str> = rest.split('/').collect();
    let [prefix @ .., providers, namespace, kind, guid] = segments.as_slice() else {
        return None;
    };
    let well_formed = providers.eq_ignore_ascii_case("providers")
        && namespace.eq_ignore_ascii_case("Microsoft.Authorization")
        && kind.eq_ignore_ascii_case("roleDefinitions")
        && is_guid(guid)
        && is_scope_prefix(prefix);
    well_formed.then(|| guid.to_ascii_lowercase())
}

/// Whether the segments before `/providers/Microsoft.Authorization/...` can be a scope: empty (the
/// tenant root) or name/value pairs with nothing blank, as every ARM scope path is.
fn is_scope_prefix(segments: &[&str]) -> bool {
    segments.len() % 2 == 0 && segments.iter().all(|s| !s.is_empty())
}

/// Whether `text` is a GUID in its 8-4-4-4-12 hexadecimal form (either case, no braces).
pub(crate) fn is_guid(text: &str) -> bool {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == GROUPS.len()
        && groups
            .iter()
            .zip(GROUPS)
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl AzureBuiltinRole {
    /// Whether the role's `actions` grant `action` (e.g. `Microsoft.Authorization/roleAssignments/write`)
    /// and its `notActions` do not take it away. ARM matching: case-insensitive; `*` matches any run of
    /// characters (so `*` grants everything, `*/read` grants every action ending in `/read`,
    /// `Microsoft.Authorization/*` grants every Authorization action); notActions use the same matching.
    ///
    /// Only control-plane `actions` are considered: data actions are checked by the data plane, which
    /// the simulator does not model.
    pub fn grants(&self, action: &str) -> bool {
        let p = &self.permissions;
        matches_any(p.actions, action) && !matches_any(p.not_actions, action)
    }
}

/// Whether any of `patterns` matches `action` under ARM's wildcard rules.
pub(crate) fn matches_any<S: AsRef<str>>(patterns: &[S], action: &str) -> bool {
    patterns.iter().any(|p| wildcard_match(p.as_ref(), action))
}

/// Case-insensitive glob match where `*` stands for any run of characters (possibly empty) and every
/// other character stands for itself.
///
/// Uses the classic greedy algorithm with a single backtrack point, so it runs in O(n·m) at worst and
/// never recurses, whatever the input.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let text: Vec<char> = text.to_lowercase().chars().collect();
    let (mut p, mut t) = (0, 0);
    // Position of the last `*` seen, and the text position it was tried against.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(c) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, from)) => {
                    // Let the last `*` swallow one more character and retry from there.
                    backtrack = Some((star, from + 1));
                    p = star + 1;
                    t = from + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn role(id: &str) -> &'static AzureBuiltinRole {
        builtin(id).unwrap_or_else(|| panic!("{id} is in the catalog"))
    }

    #[test]
    fn every_id_is_a_lower_case_guid() {
        for r in AZURE_BUILTIN_ROLES {
            assert!(is_guid(r.id), "{}: {}", r.role_name, r.id);
            assert_eq!(r.id, r.id.to_ascii_lowercase(), "{}", r.role_name);
        }
    }

    #[test]
    fn ids_and_names_are_unique_ignoring_case() {
        let ids: HashSet<String> = AZURE_BUILTIN_ROLES.iter().map(|r| r.id.to_ascii_lowercase()).collect();
        let names: HashSet<String> =
            AZURE_BUILTIN_ROLES.iter().map(|r| r.role_name.to_ascii_lowercase()).collect();
        assert_eq!(ids.len(), AZURE_BUILTIN_ROLES.len());
        assert_eq!(names.len(), AZURE_BUILTIN_ROLES.len());
    }

    #[test]
    fn the_catalog_holds_the_whole_reference_table() {
        assert_eq!(AZURE_BUILTIN_ROLES.len(), 38);
        assert_eq!(AZURE_BUILTIN_ROLES[0].id, OWNER);
        assert_eq!(AZURE_BUILTIN_ROLES[37].role_name, "FHIR Data Converter");
    }

    #[test]
    fn only_the_four_administrator_roles_are_privileged() {
        let privileged: HashSet<&str> =
            AZURE_BUILTIN_ROLES.iter().filter(|r| r.is_privileged).map(|r| r.id).collect();
        let expected: HashSet<&str> =
            [OWNER, CONTRIBUTOR, USER_ACCESS_ADMINISTRATOR, RBAC_ADMINISTRATOR].into_iter().collect();
        assert_eq!(privileged, expected);
    }

    #[test]
    fn reader_is_not_privileged_but_is_assignable_at_root() {
        let reader = role(READER);
        assert!(!reader.is_privileged);
        assert_eq!(reader.assignable_scopes, ["/"]);
    }

    #[test]
    fn reservations_administrator_is_assignable_only_under_capacity() {
        let r = role("Reservations Administrator");
        assert_eq!(r.assignable_scopes, ["/providers/Microsoft.Capacity"]);
        assert!(AZURE_BUILTIN_ROLES.iter().filter(|x| x.id != r.id).all(|x| x.assignable_scopes == ["/"]));
    }

    #[test]
    fn the_spec_examples_contributor_guid_is_acr_quarantine_writer() {
        let r = role("c8d4ff99-41c3-41a8-9f60-21dfdad59608");
        assert_eq!(r.role_name, "AcrQuarantineWriter");
        assert_ne!(role("Contributor").id, r.id);
    }

    #[test]
    fn contributor_matches_the_sample_definition() {
        let c = role(CONTRIBUTOR);
        assert_eq!(c.role_name, "Contributor");
        assert_eq!(c.permissions.actions, ["*"]);
        for sample in [
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
        ] {
            assert!(c.permissions.not_actions.contains(&sample), "{sample}");
        }
    }

    #[test]
    fn builtin_finds_by_upper_case_guid_and_lower_case_name() {
        assert_eq!(builtin(&OWNER.to_ascii_uppercase()).map(|r| r.role_name), Some("Owner"));
        assert_eq!(builtin("user access administrator").map(|r| r.id), Some(USER_ACCESS_ADMINISTRATOR));
        assert_eq!(
            builtin("KEY VAULT SECRETS USER").map(|r| r.id),
            Some("4633458b-17de-408a-b874-0445c86b69e6")
        );
    }

    #[test]
    fn builtin_returns_none_for_unknown() {
        assert!(builtin("Global Administrator").is_none());
        assert!(builtin("00000000-0000-0000-0000-000000000000").is_none());
        assert!(builtin("").is_none());
    }

    #[test]
    fn role_guid_reads_every_accepted_form() {
        const DEFS: &str = "providers/Microsoft.Authorization/roleDefinitions";
        let upper = CONTRIBUTOR.to_ascii_uppercase();
        let cases = [
            CONTRIBUTOR.to_string(),
            upper.clone(),
            format!("/{DEFS}/{CONTRIBUTOR}"),
            format!("/PROVIDERS/microsoft.authorization/ROLEDEFINITIONS/{upper}/"),
            format!("/subscriptions/dfa2a084-766f-4003-8ae1-c4aeb893a99f/{DEFS}/{CONTRIBUTOR}"),
            format!("/subscriptions/s1/resourceGroups/rg1/{DEFS}/{CONTRIBUTOR}/"),
            format!("/providers/Microsoft.Management/managementGroups/mg1/{DEFS}/{CONTRIBUTOR}"),
            format!("{CONTRIBUTOR}/"),
        ];
        for case in cases {
            assert_eq!(role_guid(&case).as_deref(), Some(CONTRIBUTOR), "{case}");
        }
    }

    #[test]
    fn role_guid_refuses_other_text() {
        let cases = [
            String::new(),
            "/".to_string(),
            "Contributor".to_string(),
            "/providers/Microsoft.Authorization/roleDefinitions/not-a-guid".to_string(),
            "/providers/Microsoft.Authorization/roleDefinitions/".to_string(),
            format!("/providers/Microsoft.Authorization/roleAssignments/{OWNER}"),
            format!("/providers/Microsoft.Resources/roleDefinitions/{OWNER}"),
            format!("providers/Microsoft.Authorization/roleDefinitions/{OWNER}"),
            format!("/subscriptions//providers/Microsoft.Authorization/roleDefinitions/{OWNER}"),
            format!("/providers/Microsoft.Authorization/roleDefinitions/{OWNER}//"),
            format!("{{{OWNER}}}"),
            "8e3af657a8ff443ca75c2fe8c4bcb635".to_string(),
        ];
        for case in cases {
            assert_eq!(role_guid(&case), None, "{case}");
        }
    }

    #[test]
    fn owner_grants_role_assignment_writes() {
        assert!(role(OWNER).grants("Microsoft.Authorization/roleAssignments/write"));
    }

    #[test]
    fn contributor_cannot_write_role_assignments_but_can_run_vms() {
        let c = role(CONTRIBUTOR);
        assert!(!c.grants("Microsoft.Authorization/roleAssignments/write"));
        assert!(!c.grants("microsoft.authorization/roleassignments/delete"));
        assert!(c.grants("Microsoft.Compute/virtualMachines/start/action"));
        assert!(c.grants("Microsoft.Authorization/roleAssignments/read"));
    }

    #[test]
    fn reader_reads_but_does_not_write() {
        let r = role(READER);
        assert!(r.grants("Microsoft.Compute/virtualMachines/read"));
        assert!(r.grants("MICROSOFT.COMPUTE/VIRTUALMACHINES/READ"));
        assert!(!r.grants("Microsoft.Compute/virtualMachines/write"));
        assert!(!r.grants("Microsoft.Compute/virtualMachines/read/extra"));
    }

    #[test]
    fn access_administrators_grant_role_assignment_writes() {
        for id in [USER_ACCESS_ADMINISTRATOR, RBAC_ADMINISTRATOR] {
            assert!(role(id).grants("Microsoft.Authorization/roleAssignments/write"), "{id}");
        }
        assert!(!role(RBAC_ADMINISTRATOR).grants("Microsoft.Authorization/roleDefinitions/write"));
        assert!(role(USER_ACCESS_ADMINISTRATOR).grants("Microsoft.Authorization/roleDefinitions/write"));
    }

    #[test]
    fn wildcard_matching_follows_arm_rules() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("*/read", "a/b/read"));
        assert!(!wildcard_match("*/read", "a/b/readx"));
        assert!(wildcard_match("Microsoft.Authorization/*/Write", "microsoft.authorization/locks/write"));
        assert!(wildcard_match("a*b*c", "aXbYbZc"));
        assert!(!wildcard_match("a*b*c", "aXbYbZ"));
        assert!(!wildcard_match("", "a"));
    }

    fn guid() -> impl Strategy<Value = String> {
        "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    }

    proptest! {
        #[test]
        fn role_guid_and_grants_never_panic(text in any::<String>(), pattern_like in "[a-zA-Z*/.]{0,40}") {
            let _ = role_guid(&text);
            let _ = role_guid(&pattern_like);
            for r in AZURE_BUILTIN_ROLES {
                let _ = r.grants(&text);
                let _ = r.grants(&pattern_like);
            }
        }

        #[test]
        fn role_guid_reads_any_generated_guid(g in guid()) {
            let id = format!("/providers/Microsoft.Authorization/roleDefinitions/{g}");
            prop_assert_eq!(role_guid(&id), Some(g.to_ascii_lowercase()));
        }
    }
}
