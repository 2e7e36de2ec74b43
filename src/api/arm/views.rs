//! ARM's wire format: resources in the `{properties, id, type, name}` envelope, and the error
//! envelope `{"error": {"code", "message", "details"}}` (arm-pim reference §1, §4.1). Everything
//! the ARM router sends is written here.

use serde_json::{Value, json};

use crate::model::azure_role::AzureRole;
use crate::model::azure_scope::{AzureScope, AzureScopeNode};
use crate::model::time::format_timestamp;
use crate::model::{
    ApiError, DirectoryObject, ExpirationType, PrincipalKind, RequestKind, Schedule, ScheduleInfo,
    ScheduleRequest,
};

/// A role definition (2022-04-01 shape), its id under `prefix`
/// (`{scope}/providers/Microsoft.Authorization`). Built-in roles carry no creation or update
/// record pimlab could know, so those are null.
pub fn role_definition(prefix: &str, role: &AzureRole) -> Value {
    let permissions: Vec<Value> = role
        .permissions
        .iter()
        .map(|p| {
            json!({
                "actions": p.actions, "notActions": p.not_actions,
                "dataActions": p.data_actions, "notDataActions": p.not_data_actions,
            })
        })
        .collect();
    let at = |s: &Option<crate::model::azure_role::Stamp>| s.as_ref().map(|s| format_timestamp(s.at));
    let by = |s: &Option<crate::model::azure_role::Stamp>| s.as_ref().map(|s| s.by.clone());
    json!({
        "properties": {
            "roleName": role.role_name,
            "type": role.role_type.as_str(),
            "description": role.description,
            "assignableScopes": role.assignable_scopes,
            "permissions": permissions,
            "createdOn": at(&role.created),
            "updatedOn": at(&role.updated),
            "createdBy": by(&role.created),
            "updatedBy": by(&role.updated),
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
    role: Option<&AzureRole>,
    principal_id: &str,
    p: Option<&DirectoryObject>,
) -> Value {
    let role_name = role.map(|r| r.role_name.as_str());
    let role_type = role.map_or("BuiltInRole", |r| r.role_type.as_str());
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
            "id": role_definition_id(&scope.scope, role_guid), "displayName": role_name, "type": role_type,
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
    role: Option<&AzureRole>,
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
        expanded(scope, &q.role_definition_id, role, &q.principal_id, principal),
    );
    json!({
        "properties": props,
        "name": name,
        "id": format!("{}/providers/Microsoft.Authorization/{collection}/{name}", scope.scope.path()),
        "type": type_name,
    })
}

/// `{scope}/providers/Microsoft.Authorization/{collection}/{name}`.
fn resource_id(scope: &AzureScope, collection: &str, name: &str) -> String {
    format!("{}/providers/Microsoft.Authorization/{collection}/{name}", scope.path())
}

/// The properties schedules and instances share, in the samples' order up to `principalType`.
fn common(
    s: &Schedule,
    scope: &AzureScopeNode,
    principal: Option<&DirectoryObject>,
) -> serde_json::Map<String, Value> {
    let mut p = serde_json::Map::new();
    p.insert("scope".into(), json!(scope.scope.path()));
    p.insert("roleDefinitionId".into(), json!(role_definition_id(&scope.scope, &s.role_definition_id)));
    p.insert("principalId".into(), json!(s.principal_id));
    p.insert("principalType".into(), json!(principal_type(principal)));
    p
}

/// `memberType`: `Inherited` when listed below the scope it was made at (arm-pim §2.2), else as held.
fn member_type(s: &Schedule, inherited: bool) -> &'static str {
    if inherited {
        return "Inherited";
    }
    match s.member_type {
        crate::model::MemberType::Group => "Group",
        _ => "Direct",
    }
}

fn assignment_type(s: &Schedule) -> Value {
    match s.assignment_type {
        Some(crate::model::AssignmentType::Activated) => json!("Activated"),
        Some(crate::model::AssignmentType::Assigned) => json!("Assigned"),
        None => Value::Null,
    }
}

/// How ARM names the collections, ids and types of one kind (eligibility or assignment).
struct KindNames {
    schedules: &'static str,
    instances: &'static str,
    requests: &'static str,
    request_key: &'static str,
    schedule_key: &'static str,
    schedule_type: &'static str,
    instance_type: &'static str,
}

impl KindNames {
    fn of(kind: RequestKind) -> KindNames {
        match kind {
            RequestKind::Eligibility => KindNames {
                schedules: "roleEligibilitySchedules",
                instances: "roleEligibilityScheduleInstances",
                requests: "roleEligibilityScheduleRequests",
                request_key: "roleEligibilityScheduleRequestId",
                schedule_key: "roleEligibilityScheduleId",
                schedule_type: "Microsoft.Authorization/RoleEligibilitySchedules",
                instance_type: "Microsoft.Authorization/RoleEligibilityScheduleInstances",
            },
            RequestKind::Assignment => KindNames {
                schedules: "roleAssignmentSchedules",
                instances: "roleAssignmentScheduleInstances",
                requests: "roleAssignmentScheduleRequests",
                request_key: "roleAssignmentScheduleRequestId",
                schedule_key: "roleAssignmentScheduleId",
                schedule_type: "Microsoft.Authorization/RoleAssignmentSchedules",
                instance_type: "Microsoft.Authorization/RoleAssignmentScheduleInstances",
            },
        }
    }
}

/// An eligibility or assignment schedule (2020-10-01 shape); `request_name` is the name of the
/// request that made it (none for an assignment made outside PIM); `linked`, for an activation,
/// the full id of the eligibility schedule it came from (at that eligibility's own scope).
pub fn schedule(
    s: &Schedule,
    scope: &AzureScopeNode,
    principal: Option<&DirectoryObject>,
    role: Option<&AzureRole>,
    request_name: Option<&str>,
    linked: Option<&str>,
    inherited: bool,
) -> Value {
    let mut p = common(s, scope, principal);
    let n = KindNames::of(s.kind);
    let (collection, request_key, requests, type_name) =
        (n.schedules, n.request_key, n.requests, n.schedule_type);
    p.insert(request_key.into(), json!(request_name.map(|n| resource_id(&scope.scope, requests, n))));
    if s.kind == RequestKind::Assignment {
        p.insert("linkedRoleEligibilityScheduleId".into(), json!(linked));
        p.insert("assignmentType".into(), assignment_type(s));
    }
    p.insert("memberType".into(), json!(member_type(s, inherited)));
    p.insert("status".into(), json!(s.status.as_str()));
    p.insert("startDateTime".into(), json!(format_timestamp(s.start())));
    p.insert("endDateTime".into(), json!(s.end_at.map(format_timestamp)));
    p.insert("condition".into(), Value::Null);
    p.insert("conditionVersion".into(), Value::Null);
    p.insert("createdOn".into(), json!(s.created_at.map(format_timestamp)));
    p.insert("updatedOn".into(), json!(s.modified_at.or(s.created_at).map(format_timestamp)));
    p.insert(
        "expandedProperties".into(),
        expanded(scope, &s.role_definition_id, role, &s.principal_id, principal),
    );
    json!({
        "properties": p,
        "name": s.id,
        "id": resource_id(&scope.scope, collection, &s.id),
        "type": type_name,
    })
}

/// An instance: what is in effect now (2020-10-01 shape), named by its role assignment's GUID.
pub fn instance(
    s: &Schedule,
    scope: &AzureScopeNode,
    principal: Option<&DirectoryObject>,
    role: Option<&AzureRole>,
    linked: Option<&str>,
    inherited: bool,
) -> Value {
    let mut p = common(s, scope, principal);
    let n = KindNames::of(s.kind);
    let (collection, schedule_key, schedules, type_name) =
        (n.instances, n.schedule_key, n.schedules, n.instance_type);
    p.insert(schedule_key.into(), json!(resource_id(&scope.scope, schedules, &s.id)));
    if s.kind == RequestKind::Assignment {
        p.insert(
            "originRoleAssignmentId".into(),
            json!(resource_id(&scope.scope, "roleAssignments", &s.instance_id)),
        );
    }
    p.insert("status".into(), json!(s.status.as_str()));
    p.insert("startDateTime".into(), json!(format_timestamp(s.start())));
    p.insert("endDateTime".into(), json!(s.end_at.map(format_timestamp)));
    if s.kind == RequestKind::Assignment {
        p.insert("linkedRoleEligibilityScheduleId".into(), json!(linked));
        p.insert("linkedRoleEligibilityScheduleInstanceId".into(), Value::Null);
        p.insert("assignmentType".into(), assignment_type(s));
    }
    p.insert("memberType".into(), json!(member_type(s, inherited)));
    p.insert("condition".into(), Value::Null);
    p.insert("conditionVersion".into(), Value::Null);
    p.insert("createdOn".into(), json!(s.created_at.map(format_timestamp)));
    p.insert(
        "expandedProperties".into(),
        expanded(scope, &s.role_definition_id, role, &s.principal_id, principal),
    );
    json!({
        "properties": p,
        "name": s.instance_id,
        "id": resource_id(&scope.scope, collection, &s.instance_id),
        "type": type_name,
    })
}

/// A role assignment (2022-04-01 shape): what an active or activated Azure role grants, named by
/// its GUID. ARM's role assignments carry no inherited flag (§2.2).
pub fn role_assignment(s: &Schedule, scope: &AzureScopeNode, principal: Option<&DirectoryObject>) -> Value {
    let when = s.created_at.or(s.schedule_info.start).map(format_timestamp);
    json!({
        "properties": {
            "roleDefinitionId": role_definition_id(&scope.scope, &s.role_definition_id),
            "principalId": s.principal_id,
            "principalType": principal_type(principal),
            "scope": scope.scope.path(),
            "condition": null,
            "conditionVersion": null,
            "createdOn": when,
            "updatedOn": when,
            "createdBy": null,
            "updatedBy": null,
            "delegatedManagedIdentityResourceId": null,
            "description": null,
        },
        "id": resource_id(&scope.scope, "roleAssignments", &s.instance_id),
        "type": "Microsoft.Authorization/roleAssignments",
        "name": s.instance_id,
    })
}

fn scope_ref(scope: &AzureScopeNode) -> Value {
    json!({ "id": scope.scope.path(), "displayName": scope.display_name, "type": scope.scope.kind().arm_type() })
}

fn modified_by(policy: &crate::model::policy::Policy, by: Option<&DirectoryObject>) -> Value {
    match (&policy.last_modified_by, by) {
        (Some(id), p) => json!({
            "id": id, "displayName": p.map(|p| p.display_name.as_str()), "type": principal_type(p),
            "email": p.and_then(|p| p.mail.as_deref().or(p.user_principal_name.as_deref())),
        }),
        (None, _) => Value::Null,
    }
}

/// A role management policy at a scope (2020-10-01 shape); `effectiveRules` are its rules, as
/// nothing is inherited (§2.2).
pub fn policy(
    policy: &crate::model::policy::Policy,
    scope: &AzureScopeNode,
    by: Option<&DirectoryObject>,
) -> Value {
    let rules: Vec<Value> = policy.rules.iter().map(super::rules::to_arm).collect();
    json!({
        "properties": {
            "scope": scope.scope.path(),
            "displayName": "Default",
            "description": "Default",
            "isOrganizationDefault": false,
            "lastModifiedBy": modified_by(policy, by),
            "lastModifiedDateTime": policy.last_modified_at.map(format_timestamp),
            "rules": rules,
            "effectiveRules": rules,
            "policyProperties": { "scope": scope_ref(scope) },
        },
        "name": policy.id,
        "id": resource_id(&scope.scope, "roleManagementPolicies", &policy.id),
        "type": "Microsoft.Authorization/RoleManagementPolicies",
    })
}

/// The assignment of a policy to a role at a scope, named `{policyGuid}_{roleGuid}`.
pub fn policy_assignment(
    policy: &crate::model::policy::Policy,
    role: &AzureRole,
    scope: &AzureScopeNode,
    by: Option<&DirectoryObject>,
) -> Value {
    let name = format!("{}_{}", policy.id, role.id);
    let policy_id = resource_id(&scope.scope, "roleManagementPolicies", &policy.id);
    let role_id = role_definition_id(&scope.scope, &role.id);
    json!({
        "properties": {
            "scope": scope.scope.path(),
            "roleDefinitionId": role_id,
            "policyId": policy_id,
            "effectiveRules": policy.rules.iter().map(super::rules::to_arm).collect::<Vec<_>>(),
            "policyAssignmentProperties": {
                "scope": scope_ref(scope),
                "roleDefinition": { "id": role_id, "displayName": role.role_name, "type": role.role_type.as_str() },
                "policy": {
                    "id": policy_id,
                    "lastModifiedBy": modified_by(policy, by),
                    "lastModifiedDateTime": policy.last_modified_at.map(format_timestamp),
                },
            },
        },
        "name": name,
        "id": resource_id(&scope.scope, "roleManagementPolicyAssignments", &name),
        "type": "Microsoft.Authorization/RoleManagementPolicyAssignment",
    })
}

/// ARM's error envelope, with pimlab's explanation as `details` (ARM's `ErrorDetail`: code,
/// target, message) and any fix in the message.
pub fn error(e: &ApiError) -> Value {
    let mut inner = json!({ "code": e.code, "message": e.message });
    crate::api::views::explain(e, &mut inner);
    json!({ "error": inner })
}
