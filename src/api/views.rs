//! The Graph wire format, produced in one place: every entity as Microsoft Graph returns it
//! (camelCase, `@odata.type` where the real service writes it, nulls where it writes nulls).
//! The CLI's `--json` output uses these same functions.

use serde_json::{Map, Value, json};

use crate::engine::RequestProperties;
use crate::model::audit::AuditRecord;
use crate::model::policy::Policy;
use crate::model::time::format_timestamp;
use crate::model::{
    DirectoryObject, PrincipalKind, RequestKind, RoleDefinition, Schedule, ScheduleInfo, ScheduleRequest,
    Timestamp,
};

pub const GRAPH_ROOT: &str = "https://graph.microsoft.com";

fn time(t: Option<Timestamp>) -> Value {
    t.map(|t| Value::String(format_timestamp(t))).unwrap_or(Value::Null)
}

/// `requestSchedule`.
pub fn schedule_info(info: &ScheduleInfo) -> Value {
    json!({
        "startDateTime": time(info.start),
        "recurrence": null,
        "expiration": {
            "type": info.expiration.kind.as_str(),
            "endDateTime": time(info.expiration.end),
            "duration": info.expiration.duration.map(|d| d.to_string()),
        }
    })
}

/// The properties of `unifiedRoleEligibilityScheduleRequest` /
/// `unifiedRoleAssignmentScheduleRequest`, in the order Graph writes them.
pub const REQUEST_PROPERTIES: [&str; 17] = [
    "id",
    "status",
    "createdDateTime",
    "completedDateTime",
    "approvalId",
    "customData",
    "action",
    "principalId",
    "roleDefinitionId",
    "directoryScopeId",
    "appScopeId",
    "isValidationOnly",
    "targetScheduleId",
    "justification",
    "createdBy",
    "scheduleInfo",
    "ticketInfo",
];

/// One property of a request as Graph writes it; `None` for a name that is not one of
/// [`REQUEST_PROPERTIES`]. Hooks read a request a property at a time (most read three or four of
/// seventeen), so a property is made alone, and [`request`] is made of these.
pub fn request_property(q: &ScheduleRequest, name: &str) -> Option<Value> {
    Some(match name {
        "id" => q.id.as_str().into(),
        "status" => q.status.as_str().into(),
        "createdDateTime" => format_timestamp(q.created_at).into(),
        "completedDateTime" => time(q.completed_at),
        "approvalId" => q.approval_id.as_deref().into(),
        "customData" => Value::Null,
        "action" => q.action.as_str().into(),
        "principalId" => q.principal_id.as_str().into(),
        "roleDefinitionId" => q.role_definition_id.as_str().into(),
        "directoryScopeId" => q.directory_scope_id.as_deref().into(),
        "appScopeId" => q.app_scope_id.as_deref().into(),
        "isValidationOnly" => q.is_validation_only.into(),
        "targetScheduleId" => q.target_schedule_id.as_deref().into(),
        "justification" => q.justification.as_deref().into(),
        // An application acting as itself is named under `application`, a user under `user`.
        "createdBy" if q.created_by_app => json!({
            "application": {"displayName": null, "id": q.created_by},
            "device": null,
            "user": null,
        }),
        "createdBy" => json!({
            "application": null,
            "device": null,
            "user": {"displayName": null, "id": q.created_by},
        }),
        "scheduleInfo" => q.schedule_info.as_ref().map_or(Value::Null, schedule_info),
        "ticketInfo" => json!({"ticketNumber": q.ticket_info.number, "ticketSystem": q.ticket_info.system}),
        _ => return None,
    })
}

/// A request as hooks see it: its Graph properties, one at a time.
pub const REQUEST: RequestProperties = RequestProperties {
    names: &REQUEST_PROPERTIES,
    objects: &["createdBy", "scheduleInfo", "ticketInfo"],
    property: request_property,
};

/// `unifiedRoleEligibilityScheduleRequest` / `unifiedRoleAssignmentScheduleRequest`.
pub fn request(q: &ScheduleRequest) -> Value {
    let properties =
        REQUEST_PROPERTIES.iter().filter_map(|&name| Some((name.to_string(), request_property(q, name)?)));
    Value::Object(properties.collect())
}

/// Beta's form of a request: its `ticketInfo` has two more properties, null when not given.
pub fn request_beta(q: &ScheduleRequest) -> Value {
    let mut v = request(q);
    v["ticketInfo"]["ticketApproverIdentityId"] = q.ticket_info.approver_identity_id.clone().into();
    v["ticketInfo"]["ticketSubmitterIdentityId"] = q.ticket_info.submitter_identity_id.clone().into();
    v
}

pub fn request_type(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Eligibility => "#microsoft.graph.unifiedRoleEligibilityScheduleRequest",
        RequestKind::Assignment => "#microsoft.graph.unifiedRoleAssignmentScheduleRequest",
    }
}

/// `unifiedRoleEligibilitySchedule` / `unifiedRoleAssignmentSchedule`.
pub fn schedule(s: &Schedule) -> Value {
    let mut v = Map::new();
    let odata_type = match s.kind {
        RequestKind::Eligibility => "#microsoft.graph.unifiedRoleEligibilitySchedule",
        RequestKind::Assignment => "#microsoft.graph.unifiedRoleAssignmentSchedule",
    };
    v.insert("@odata.type".into(), odata_type.into());
    v.insert("id".into(), s.id.clone().into());
    v.insert("principalId".into(), s.principal_id.clone().into());
    v.insert("roleDefinitionId".into(), s.role_definition_id.clone().into());
    v.insert("directoryScopeId".into(), json!(s.directory_scope_id));
    v.insert("appScopeId".into(), json!(s.app_scope_id));
    v.insert("createdUsing".into(), json!(s.created_using));
    v.insert("createdDateTime".into(), time(s.created_at));
    v.insert("modifiedDateTime".into(), time(s.modified_at));
    v.insert("status".into(), s.status.as_str().into());
    if s.kind == RequestKind::Assignment {
        v.insert("assignmentType".into(), json!(s.assignment_type.map(|a| a.as_str())));
    }
    v.insert("memberType".into(), s.member_type.as_str().into());
    v.insert("scheduleInfo".into(), schedule_info(&s.schedule_info));
    Value::Object(v)
}

/// `unifiedRoleEligibilityScheduleInstance` / `unifiedRoleAssignmentScheduleInstance` of a
/// schedule in effect.
pub fn instance(s: &Schedule) -> Value {
    // Assignments made outside PIM have no start or end on their instance (reference §3.9).
    let outside_pim = s.created_using.is_none();
    let mut v = Map::new();
    v.insert("id".into(), s.instance_id.clone().into());
    v.insert("principalId".into(), s.principal_id.clone().into());
    v.insert("roleDefinitionId".into(), s.role_definition_id.clone().into());
    v.insert("directoryScopeId".into(), json!(s.directory_scope_id));
    v.insert("appScopeId".into(), json!(s.app_scope_id));
    v.insert("startDateTime".into(), if outside_pim { Value::Null } else { time(s.schedule_info.start) });
    v.insert("endDateTime".into(), if outside_pim { Value::Null } else { time(s.end_at) });
    match s.kind {
        RequestKind::Assignment => {
            v.insert("assignmentType".into(), json!(s.assignment_type.map(|a| a.as_str())));
            v.insert("memberType".into(), s.member_type.as_str().into());
            v.insert("roleAssignmentOriginId".into(), s.instance_id.clone().into());
            v.insert("roleAssignmentScheduleId".into(), s.id.clone().into());
        }
        RequestKind::Eligibility => {
            v.insert("memberType".into(), s.member_type.as_str().into());
            v.insert("roleEligibilityScheduleId".into(), s.id.clone().into());
        }
    }
    Value::Object(v)
}

/// `unifiedRoleAssignment` of an assignment in effect.
pub fn role_assignment(s: &Schedule, tenant_id: &str) -> Value {
    json!({
        "id": s.instance_id,
        "principalId": s.principal_id,
        "principalOrganizationId": tenant_id,
        "roleDefinitionId": s.role_definition_id,
        "directoryScopeId": s.directory_scope_id,
        // The legacy duplicate of the scope the service still returns (reference §1.3).
        "resourceScope": s.directory_scope_id.as_deref().or(s.app_scope_id.as_deref()),
        "appScopeId": s.app_scope_id,
        "condition": null,
    })
}

/// `unifiedRoleDefinition`.
pub fn role_definition(r: &RoleDefinition) -> Value {
    json!({
        "id": r.id,
        "description": r.description,
        "displayName": r.display_name,
        "isBuiltIn": r.is_built_in,
        "isEnabled": r.is_enabled,
        "resourceScopes": ["/"],
        "templateId": r.template_id,
        "version": r.version,
        "rolePermissions": [{
            "allowedResourceActions": &*r.allowed_resource_actions,
            "condition": null,
        }],
    })
}

/// What beta's `unifiedRoleDefinition` has beyond v1.0's: `isPrivileged` (the "privileged" label
/// of Microsoft's permissions reference) and `allowedPrincipalTypes`.
pub fn role_definition_beta(r: &RoleDefinition) -> Value {
    let mut v = role_definition(r);
    v["isPrivileged"] = r.is_privileged.into();
    v["allowedPrincipalTypes"] = crate::engine::fidelity::ALLOWED_PRINCIPAL_TYPES.into();
    v
}

/// `unifiedRoleManagementPolicy`, with its rules when `with_rules`.
pub fn policy(p: &Policy, with_rules: bool) -> Value {
    let mut v = json!({
        "id": p.id,
        "displayName": p.scope_type,
        "description": p.scope_type,
        "isOrganizationDefault": false,
        "scopeId": p.scope_id,
        "scopeType": p.scope_type,
        "lastModifiedDateTime": time(p.last_modified_at),
        "lastModifiedBy": {"displayName": null, "id": p.last_modified_by},
    });
    if with_rules {
        v["rules"] = policy_rules(p);
    }
    v
}

pub fn policy_rules(p: &Policy) -> Value {
    serde_json::to_value(&*p.rules).expect("rules serialise")
}

/// `unifiedRoleManagementPolicyAssignment` (one per policy: `{policyId}_{roleDefinitionId}`).
pub fn policy_assignment(p: &Policy) -> Value {
    json!({
        "id": format!("{}_{}", p.id, p.role_definition_id),
        "policyId": p.id,
        "scopeId": p.scope_id,
        "scopeType": p.scope_type,
        "roleDefinitionId": p.role_definition_id,
    })
}

/// A directory object (user, group, service principal, administrative unit).
pub fn directory_object(o: &DirectoryObject) -> Value {
    let mut v = Map::new();
    v.insert("@odata.type".into(), o.kind.odata_type().into());
    v.insert("id".into(), o.id.clone().into());
    v.insert("displayName".into(), o.display_name.clone().into());
    match o.kind {
        PrincipalKind::User => {
            v.insert("userPrincipalName".into(), json!(o.user_principal_name));
            v.insert("mail".into(), json!(o.mail));
            v.insert("accountEnabled".into(), o.account_enabled.into());
            v.insert("createdDateTime".into(), format_timestamp(o.created_at).into());
        }
        PrincipalKind::Group => {
            v.insert("description".into(), json!(o.description));
            v.insert("isAssignableToRole".into(), o.is_assignable_to_role.into());
            v.insert("securityEnabled".into(), o.security_enabled.into());
            v.insert("mailEnabled".into(), o.mail_enabled.into());
            v.insert("groupTypes".into(), json!(o.group_types));
            // Graph writes null for a cloud-only group.
            v.insert(
                "onPremisesSyncEnabled".into(),
                if o.on_premises_sync_enabled { json!(true) } else { Value::Null },
            );
            v.insert("createdDateTime".into(), format_timestamp(o.created_at).into());
        }
        PrincipalKind::ServicePrincipal => {
            v.insert("appId".into(), json!(o.app_id));
            v.insert("accountEnabled".into(), o.account_enabled.into());
            v.insert("servicePrincipalType".into(), "Application".into());
        }
        PrincipalKind::AdministrativeUnit => {
            v.insert("description".into(), json!(o.description));
            v.insert("visibility".into(), Value::Null);
        }
    }
    Value::Object(v)
}

/// Beta `approvalStep`: one stage of an approval, as assigned to the caller or not.
pub fn approval_step(
    s: &crate::model::approval::ApprovalStep,
    assigned_to_me: bool,
    reviewer: Option<&DirectoryObject>,
) -> Value {
    json!({
        "id": s.id,
        "displayName": format!("Stage {}", s.stage),
        "reviewedDateTime": time(s.reviewed_at),
        "reviewResult": s.review_result.as_str(),
        "status": s.status.as_str(),
        "assignedToMe": assigned_to_me,
        "justification": s.justification,
        "reviewedBy": s.reviewed_by.as_ref().map(|id| json!({
            "id": id,
            "displayName": reviewer.map(|o| o.display_name.clone()),
        })),
    })
}

/// A message of the notification outbox.
pub fn notification(n: &crate::model::approval::Notification) -> Value {
    json!({
        "sequence": n.seq,
        "dateTime": format_timestamp(n.at),
        "event": n.event,
        "ruleId": n.rule_id,
        "recipientType": n.recipient_type,
        "recipients": n.recipients,
        "subject": n.subject,
        "body": n.body,
        "requestId": n.request_id,
        "critical": n.critical,
    })
}

/// `directoryAudit`.
pub fn audit_record(a: &AuditRecord, actor: Option<&DirectoryObject>) -> Value {
    let initiated_by = match actor {
        Some(o) if o.kind == PrincipalKind::ServicePrincipal => json!({
            "user": null,
            "app": {"appId": o.app_id, "displayName": o.display_name, "servicePrincipalId": o.id, "servicePrincipalName": null},
        }),
        Some(o) => json!({
            "user": {"id": o.id, "displayName": o.display_name, "userPrincipalName": o.user_principal_name, "ipAddress": null},
            "app": null,
        }),
        None => json!({
            "user": null,
            "app": {"appId": null, "displayName": a.actor_id, "servicePrincipalId": null, "servicePrincipalName": null},
        }),
    };
    json!({
        "id": format!("PIM_{:08}", a.seq),
        "category": a.category,
        "correlationId": a.request_id,
        "result": a.result,
        "resultReason": a.reason.clone().unwrap_or_default(),
        "activityDisplayName": a.activity,
        "activityDateTime": format_timestamp(a.at),
        "loggedByService": "PIM",
        "operationType": operation_type(&a.activity),
        "initiatedBy": initiated_by,
        "targetResources": a.targets.iter().map(|t| json!({
            "id": t.id,
            "displayName": t.display_name,
            "type": t.kind,
            "userPrincipalName": null,
            "modifiedProperties": [],
        })).collect::<Vec<_>>(),
        "additionalDetails": [],
    })
}

fn operation_type(activity: &str) -> &'static str {
    let a = activity.to_ascii_lowercase();
    if a.starts_with("add") {
        "Add"
    } else if a.starts_with("remove") {
        "Delete"
    } else {
        "Update"
    }
}

/// Rewrites a response for Graph beta, whose approver sets name their object `id` (with
/// `isBackup`) where v1.0 writes `userId` / `groupId` (reference §1.14).
pub fn to_beta(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let approver = matches!(
                m.get("@odata.type").and_then(Value::as_str),
                Some("#microsoft.graph.singleUser" | "#microsoft.graph.groupMembers")
            );
            if approver {
                // Idempotent: a body rewritten once (inside a beta $batch) keeps its `id`.
                let id = m
                    .remove("userId")
                    .or_else(|| m.remove("groupId"))
                    .or_else(|| m.remove("id"))
                    .unwrap_or(Value::Null);
                let description = m.remove("description").unwrap_or(Value::Null);
                let odata_type = m.remove("@odata.type").unwrap_or(Value::Null);
                m.clear();
                m.insert("@odata.type".into(), odata_type);
                m.insert("isBackup".into(), Value::Bool(false));
                m.insert("id".into(), id);
                m.insert("description".into(), description);
            } else {
                m.values_mut().for_each(to_beta);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(to_beta),
        _ => {}
    }
}

/// Adds pimlab's explanation to an error envelope's inner object, as Graph and ARM both carry it:
/// `details` (code, target, message with its fix) and the whole error's fixes in the message.
pub(crate) fn explain(e: &crate::model::ApiError, inner: &mut Value) {
    if !e.details.is_empty() {
        let details: Vec<Value> = e
            .details
            .iter()
            .map(|d| {
                json!({
                    "code": d.code, "target": d.target,
                    "message": super::hints::with_fix(&d.message, d.hint.as_ref()),
                })
            })
            .collect();
        inner["details"] = Value::Array(details);
    }
    if !e.hints.is_empty() {
        let hints: Vec<String> = e.hints.iter().map(super::hints::graph_words).collect();
        inner["message"] = json!(format!("{} ({})", e.message, hints.join("; ")));
    }
}

/// The Graph error envelope. pimlab's explanation goes in the standard OData `details`.
pub fn error(e: &crate::model::ApiError, now: Timestamp, request_id: &str) -> Value {
    let mut inner = json!({
        "code": e.code,
        "message": e.message,
        "innerError": {
            "date": format_timestamp(now),
            "request-id": request_id,
            "client-request-id": request_id,
        }
    });
    explain(e, &mut inner);
    json!({ "error": inner })
}

/// The app id of Microsoft Graph, the resource every permission pimlab knows belongs to.
pub const MICROSOFT_GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// An application's application permissions as Graph lists them (`appRoleAssignment`). The app
/// role's id is derived from the permission's name: the real GUIDs are Microsoft Graph's own and
/// not in the references.
pub fn app_role_assignments(
    sp: &crate::model::DirectoryObject,
    permissions: &[crate::model::permissions::AppPermission],
) -> Vec<Value> {
    use crate::model::permissions::PermissionKind;
    permissions
        .iter()
        .filter(|p| p.kind == PermissionKind::Application)
        .map(|p| {
            json!({
                "id": p.id,
                "appRoleId": crate::model::ids::derived_guid(&format!("{MICROSOFT_GRAPH_APP_ID}/{}", p.permission)),
                "createdDateTime": format_timestamp(p.granted_at),
                "deletedDateTime": null,
                "principalDisplayName": sp.display_name,
                "principalId": sp.id,
                "principalType": "ServicePrincipal",
                "resourceDisplayName": "Microsoft Graph",
                "resourceId": crate::model::ids::derived_guid(MICROSOFT_GRAPH_APP_ID),
            })
        })
        .collect()
}

/// An application's delegated scopes as Graph lists them: one `oauth2PermissionGrant`, consented
/// for all users, its `scope` the space-separated scopes.
pub fn permission_grants(
    sp: &crate::model::DirectoryObject,
    permissions: &[crate::model::permissions::AppPermission],
) -> Vec<Value> {
    use crate::model::permissions::PermissionKind;
    let scopes: Vec<&crate::model::permissions::AppPermission> =
        permissions.iter().filter(|p| p.kind == PermissionKind::Delegated).collect();
    match scopes.first() {
        None => Vec::new(),
        Some(first) => vec![json!({
            "id": first.id,
            "clientId": sp.id,
            "consentType": "AllPrincipals",
            "principalId": null,
            "resourceId": crate::model::ids::derived_guid(MICROSOFT_GRAPH_APP_ID),
            "scope": scopes.iter().map(|p| p.permission.as_str()).collect::<Vec<_>>().join(" "),
        })],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;

    #[test]
    fn every_listed_request_property_is_made_and_only_those() {
        let q = crate::model::request::sample::request(
            "r1",
            "p1",
            "d1",
            Status::Provisioned,
            Timestamp::UNIX_EPOCH,
        );
        let whole = request(&q);
        let names: Vec<&str> =
            whole.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
        assert_eq!(names, REQUEST_PROPERTIES, "the request is its listed properties, in order");
        for name in REQUEST_PROPERTIES {
            assert_eq!(request_property(&q, name).as_ref(), whole.get(name), "{name}");
        }
        assert_eq!(request_property(&q, "noSuchProperty"), None);
        for name in REQUEST_PROPERTIES {
            let object = REQUEST.objects.contains(&name);
            let value = request_property(&q, name).unwrap_or_default();
            assert_eq!(object, value.is_object() || (name == "scheduleInfo" && value.is_null()), "{name}");
        }
    }
}
