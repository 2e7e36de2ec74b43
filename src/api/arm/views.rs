//! ARM's wire format: resources in the `{properties, id, type, name}` envelope, and the error
//! envelope `{"error": {"code", "message", "details"}}` (arm-pim reference §1, §4.1). Everything
//! the ARM router sends is written here.

use serde_json::{Value, json};

use crate::model::azure_roles::AzureBuiltinRole;
use crate::model::azure_scope::{AzureScope, AzureScopeNode};
use crate::model::time::format_timestamp;
use crate::model::{
    ApiError, DirectoryObject, ExpirationType, PrincipalKind, RequestKind, ScheduleInfo, ScheduleRequest,
};

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

/// The id of role definition `guid` as ARM writes it in a PIM object at `scope`: qualified by the
/// subscription the scope is in (as the service does), else tenant-level.
fn role_definition_id(scope: &AzureScope, guid: &str) -> String {
    let sub = scope.path().strip_prefix("/subscriptions/").and_then(|rest| rest.split('/').next());
    match sub {
        Some(sub) => format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
        None => format!("/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
    }
}

/// `principalType` as ARM spells it.
fn principal_type(p: Option<&DirectoryObject>) -> &'static str {
    match p.map(|p| p.kind) {
        Some(PrincipalKind::Group) => "Group",
        Some(PrincipalKind::ServicePrincipal) => "ServicePrincipal",
        _ => "User",
    }
}

/// `expandedProperties`: the scope, role and principal by name.
fn expanded(
    scope: &AzureScopeNode,
    role_guid: &str,
    principal_id: &str,
    p: Option<&DirectoryObject>,
) -> Value {
    let role_name = crate::model::azure_roles::builtin(role_guid).map(|r| r.role_name);
    let mut principal = json!({
        "id": principal_id,
        "displayName": p.map(|p| p.display_name.as_str()),
        "type": principal_type(p),
    });
    if let Some(mail) = p.and_then(|p| p.mail.as_deref().or(p.user_principal_name.as_deref())) {
        principal["email"] = json!(mail);
    }
    json!({
        "scope": { "id": scope.scope.path(), "displayName": scope.display_name, "type": scope.scope.kind().arm_type() },
        "roleDefinition": {
            "id": role_definition_id(&scope.scope, role_guid), "displayName": role_name, "type": "BuiltInRole",
        },
        "principal": principal,
    })
}

/// `scheduleInfo` as ARM writes it: PascalCase expiration type, times and duration as given.
fn schedule_info(info: Option<&ScheduleInfo>) -> Value {
    let Some(info) = info else { return Value::Null };
    let kind = match info.expiration.kind {
        ExpirationType::AfterDuration => "AfterDuration",
        ExpirationType::AfterDateTime => "AfterDateTime",
        ExpirationType::NoExpiration => "NoExpiration",
        ExpirationType::NotSpecified => "AfterDuration",
    };
    json!({
        "startDateTime": info.start.map(format_timestamp),
        "expiration": {
            "type": kind,
            "endDateTime": info.expiration.end.map(format_timestamp),
            "duration": info.expiration.duration.map(|d| d.to_string()),
        },
    })
}

/// A schedule request (2020-10-01 shape) under the name its client gave it.
pub fn schedule_request(
    q: &ScheduleRequest,
    name: &str,
    scope: &AzureScopeNode,
    principal: Option<&DirectoryObject>,
) -> Value {
    let (target, instance, collection, type_name) = match q.kind {
        RequestKind::Eligibility => (
            "targetRoleEligibilityScheduleId",
            "targetRoleEligibilityScheduleInstanceId",
            "roleEligibilityScheduleRequests",
            "Microsoft.Authorization/RoleEligibilityScheduleRequests",
        ),
        RequestKind::Assignment => (
            "targetRoleAssignmentScheduleId",
            "targetRoleAssignmentScheduleInstanceId",
            "roleAssignmentScheduleRequests",
            "Microsoft.Authorization/RoleAssignmentScheduleRequests",
        ),
    };
    let mut props = serde_json::Map::new();
    props.insert(target.into(), json!(q.target_schedule_id));
    props.insert(instance.into(), Value::Null);
    props.insert("scope".into(), json!(scope.scope.path()));
    props.insert("roleDefinitionId".into(), json!(role_definition_id(&scope.scope, &q.role_definition_id)));
    props.insert("principalId".into(), json!(q.principal_id));
    props.insert("principalType".into(), json!(principal_type(principal)));
    props.insert("requestType".into(), json!(super::requests::pascal(q.action)));
    props.insert("status".into(), json!(q.status.as_str()));
    props.insert("approvalId".into(), json!(q.approval_id));
    props.insert("scheduleInfo".into(), schedule_info(q.schedule_info.as_ref()));
    if q.kind == RequestKind::Assignment {
        props.insert("linkedRoleEligibilityScheduleId".into(), json!(q.activated_using));
    }
    props.insert(
        "ticketInfo".into(),
        json!({ "ticketNumber": q.ticket_info.number, "ticketSystem": q.ticket_info.system }),
    );
    props.insert("justification".into(), json!(q.justification));
    props.insert("requestorId".into(), json!(q.created_by));
    props.insert("createdOn".into(), json!(format_timestamp(q.created_at)));
    props.insert("condition".into(), Value::Null);
    props.insert("conditionVersion".into(), Value::Null);
    props.insert(
        "expandedProperties".into(),
        expanded(scope, &q.role_definition_id, &q.principal_id, principal),
    );
    json!({
        "properties": props,
        "name": name,
        "id": format!("{}/providers/Microsoft.Authorization/{collection}/{name}", scope.scope.path()),
        "type": type_name,
    })
}

/// ARM's error envelope, with pimlab's explanation as `details` (ARM's `ErrorDetail`: code,
/// target, message) and any fix in the message.
pub fn error(e: &ApiError) -> Value {
    let mut inner = json!({ "code": e.code, "message": e.message });
    crate::api::views::explain(e, &mut inner);
    json!({ "error": inner })
}
