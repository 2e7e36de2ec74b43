//! ARM's wire format: resources in the `{properties, id, type, name}` envelope, and the error
//! envelope `{"error": {"code", "message", "details"}}` (arm-pim reference §1, §4.1). Everything
//! the ARM router sends is written here.

use serde_json::{Value, json};

use crate::model::ApiError;
use crate::model::azure_roles::AzureBuiltinRole;

/// A role definition (2022-04-01 shape), its id under `prefix`
/// (`{scope}/providers/Microsoft.Authorization`). Built-in roles carry no creation or update
/// record pimlab could know, so those are null.
pub fn role_definition(prefix: &str, role: &AzureBuiltinRole) -> Value {
    let p = &role.permissions;
    json!({
        "properties": {
            "roleName": role.role_name,
            "type": "BuiltInRole",
            "description": role.description,
            "assignableScopes": role.assignable_scopes,
            "permissions": [{
                "actions": p.actions, "notActions": p.not_actions,
                "dataActions": p.data_actions, "notDataActions": p.not_data_actions,
            }],
            "createdOn": null,
            "updatedOn": null,
            "createdBy": null,
            "updatedBy": null,
        },
        "id": format!("{prefix}/roleDefinitions/{}", role.id),
        "type": "Microsoft.Authorization/roleDefinitions",
        "name": role.id,
    })
}

/// ARM's error envelope, with pimlab's explanation as `details` (ARM's `ErrorDetail`: code,
/// target, message) and any fix in the message.
pub fn error(e: &ApiError) -> Value {
    let mut inner = json!({ "code": e.code, "message": e.message });
    crate::api::views::explain(e, &mut inner);
    json!({ "error": inner })
}
