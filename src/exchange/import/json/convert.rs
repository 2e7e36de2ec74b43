//! One item of a Graph or ARM collection into pimlab's model, strictly where pimlab needs a value
//! and leniently elsewhere (extra properties and annotations are the real services' and ignored).
//! Every refusal names the file (or collection), the item's index and the field.

use serde_json::Value;

use super::{Kind, Part};
use crate::engine::TenantFacts;
use crate::exchange::import::invalid;
use crate::model::azure_role::{AzurePermissions, AzureRole, AzureRoleType, Stamp};
use crate::model::azure_scope::{AzureScope, AzureScopeNode};
use crate::model::group::GroupAccess;
use crate::model::permissions::{AppPermission, PERMISSIONS, PermissionKind};
use crate::model::policy::{Policy, PolicyRule};
use crate::model::time::parse_timestamp;
use crate::model::{
    ApiError, AssignmentType, DirectoryObject, Expiration, ExpirationType, IsoDuration, MemberType,
    PrincipalKind, RequestKind, RoleDefinition, Schedule, ScheduleInfo, ScheduleState, Status, Surface,
    Timestamp,
};

/// Where an item is, for messages.
pub struct At<'a> {
    pub origin: &'a str,
    pub index: usize,
}

impl At<'_> {
    pub fn error(&self, field: &str, problem: impl std::fmt::Display) -> ApiError {
        invalid(format!("{}: item {}: {field}: {problem}", self.origin, self.index))
    }
}

/// Checks every item of a part converts (with the epoch standing in for the clock).
pub fn check(part: &Part) -> Result<(), ApiError> {
    let now = Timestamp::default();
    for (index, item) in part.items.iter().enumerate() {
        let at = At { origin: &part.origin, index };
        match part.kind {
            Kind::Users | Kind::Groups | Kind::ServicePrincipals | Kind::AdministrativeUnits => {
                object(&at, part.kind, item, now)?;
                members(&at, item)?;
            }
            Kind::RoleDefinitions => drop(role(&at, item)?),
            Kind::RoleEligibilitySchedules | Kind::RoleAssignmentSchedules => {
                drop(schedule(&at, part.kind, item)?)
            }
            Kind::AzureEligibilitySchedules | Kind::AzureAssignmentSchedules => {
                drop(arm_schedule(&at, part.kind, item)?)
            }
            Kind::PolicyAssignments => drop(policy_assignment(&at, item)?),
            Kind::AppRoleAssignments => drop(app_role(&at, item, now)?),
            Kind::PermissionGrants => drop(grants(&at, item, now)?),
            Kind::AzureEstate => drop(estate(&at, item, now)?),
            Kind::GroupEligibilitySchedules | Kind::GroupAssignmentSchedules => {
                drop(group_schedule(&at, part.kind, item)?)
            }
            Kind::AzureRoleDefinitions => drop(azure_role(&at, item)?),
            Kind::AzurePolicyAssignments => drop(arm_policy_role(&at, item)?),
            Kind::AzurePolicies => {}
        }
    }
    Ok(())
}

fn text<'v>(at: &At<'_>, item: &'v Value, field: &str) -> Result<&'v str, ApiError> {
    item.get(field).and_then(Value::as_str).ok_or_else(|| at.error(field, "missing, or not a string"))
}

fn optional_text(item: &Value, field: &str) -> Option<String> {
    item.get(field).and_then(Value::as_str).map(str::to_string)
}

fn time(at: &At<'_>, item: &Value, field: &str) -> Result<Option<Timestamp>, ApiError> {
    match item.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_timestamp(s).map(Some).map_err(|e| at.error(field, e)),
        Some(other) => Err(at.error(field, format!("not a time: {other}"))),
    }
}

fn flag(item: &Value, field: &str, default: bool) -> bool {
    item.get(field).and_then(Value::as_bool).unwrap_or(default)
}

/// A user, group, service principal or administrative unit (`now` stands in for a creation time
/// the wire does not show).
pub fn object(at: &At<'_>, kind: Kind, item: &Value, now: Timestamp) -> Result<DirectoryObject, ApiError> {
    let kind = match kind {
        Kind::Users => PrincipalKind::User,
        Kind::Groups => PrincipalKind::Group,
        Kind::ServicePrincipals => PrincipalKind::ServicePrincipal,
        _ => PrincipalKind::AdministrativeUnit,
    };
    let id = text(at, item, "id")?.to_ascii_lowercase();
    if !crate::model::ids::is_guid(&id) {
        return Err(at.error("id", format!("'{id}' is not a GUID")));
    }
    let group_types = match item.get("groupTypes") {
        Some(Value::Array(v)) => v.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    };
    Ok(DirectoryObject {
        id,
        kind,
        display_name: text(at, item, "displayName")?.to_string(),
        user_principal_name: optional_text(item, "userPrincipalName"),
        mail: if kind == PrincipalKind::User { optional_text(item, "mail") } else { None },
        description: optional_text(item, "description"),
        is_assignable_to_role: flag(item, "isAssignableToRole", false),
        security_enabled: flag(item, "securityEnabled", false),
        mail_enabled: flag(item, "mailEnabled", false),
        app_id: optional_text(item, "appId"),
        account_enabled: flag(item, "accountEnabled", true),
        group_types,
        on_premises_sync_enabled: flag(item, "onPremisesSyncEnabled", false),
        created_at: time(at, item, "createdDateTime")?.unwrap_or(now),
    })
}

/// The members and owners a list expanded (`$expand=members`): (relation, member id).
pub fn members(at: &At<'_>, item: &Value) -> Result<Vec<(&'static str, String)>, ApiError> {
    let mut out = Vec::new();
    for (field, relation) in [("members", "member"), ("owners", "owner")] {
        let Some(list) = item.get(field) else { continue };
        let list = list.as_array().ok_or_else(|| at.error(field, "not an array"))?;
        for m in list {
            let id = m
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| at.error(field, "a member without an id"))?;
            out.push((relation, id.to_ascii_lowercase()));
        }
    }
    Ok(out)
}

/// A custom directory role (`unifiedRoleDefinition`).
pub fn role(at: &At<'_>, item: &Value) -> Result<RoleDefinition, ApiError> {
    let actions: Vec<String> = item["rolePermissions"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .flat_map(|p| p["allowedResourceActions"].as_array().cloned().unwrap_or_default())
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Ok(RoleDefinition {
        id: text(at, item, "id")?.to_ascii_lowercase(),
        display_name: text(at, item, "displayName")?.to_string(),
        description: optional_text(item, "description"),
        is_built_in: false,
        is_enabled: flag(item, "isEnabled", true),
        is_privileged: flag(item, "isPrivileged", false),
        template_id: optional_text(item, "templateId"),
        version: optional_text(item, "version"),
        allowed_resource_actions: actions.into(),
        inherits_permissions_from: Default::default(),
    })
}

fn parse_enum<T>(
    at: &At<'_>,
    item: &Value,
    field: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, ApiError> {
    let v = text(at, item, field)?;
    parse(v).ok_or_else(|| at.error(field, format!("'{v}' is not a value pimlab knows")))
}

/// A directory role's eligibility or assignment schedule (Graph).
pub fn schedule(at: &At<'_>, kind: Kind, item: &Value) -> Result<Schedule, ApiError> {
    let mut s = graph_schedule(at, kind == Kind::RoleEligibilitySchedules, item)?;
    s.role_definition_id = text(at, item, "roleDefinitionId")?.to_ascii_lowercase();
    s.directory_scope_id = optional_text(item, "directoryScopeId");
    s.app_scope_id = optional_text(item, "appScopeId");
    Ok(s)
}

/// A PIM for Groups eligibility or assignment schedule (`privilegedAccessGroup*Schedule`): stored
/// as every schedule is, its relationship (`accessId`) as its role and its group as its scope,
/// under the id inside the group API's composite `{groupId}_{accessId}_{id}`.
pub fn group_schedule(at: &At<'_>, kind: Kind, item: &Value) -> Result<Schedule, ApiError> {
    let mut s = graph_schedule(at, kind == Kind::GroupEligibilitySchedules, item)?;
    s.surface = Surface::Group;
    s.id = crate::model::group::inner_id(&s.id).to_string();
    s.role_definition_id = parse_enum(at, item, "accessId", GroupAccess::parse)?.as_str().to_string();
    s.directory_scope_id = Some(text(at, item, "groupId")?.to_ascii_lowercase());
    Ok(s)
}

/// What a directory role's and a group's schedules share (Graph's `scheduleInfo`, enums in any
/// case: the group API writes them in lower case); the role and scope are the caller's to fill.
fn graph_schedule(at: &At<'_>, eligibility: bool, item: &Value) -> Result<Schedule, ApiError> {
    let request_kind = if eligibility { RequestKind::Eligibility } else { RequestKind::Assignment };
    let info = &item["scheduleInfo"];
    let expiration = &info["expiration"];
    let expiration = Expiration {
        kind: match expiration.get("type").and_then(Value::as_str) {
            None => ExpirationType::NoExpiration,
            Some(t) => ExpirationType::parse(t).ok_or_else(|| {
                at.error("scheduleInfo.expiration.type", format!("'{t}' is not an expiration type"))
            })?,
        },
        end: time(at, expiration, "endDateTime")?,
        duration: match expiration.get("duration").and_then(Value::as_str) {
            None => None,
            Some(d) => {
                Some(IsoDuration::parse(d).map_err(|e| at.error("scheduleInfo.expiration.duration", e))?)
            }
        },
    };
    let start =
        time(at, info, "startDateTime")?.ok_or_else(|| at.error("scheduleInfo.startDateTime", "missing"))?;
    Ok(Schedule {
        id: text(at, item, "id")?.to_string(),
        surface: Surface::Directory,
        kind: request_kind,
        principal_id: text(at, item, "principalId")?.to_ascii_lowercase(),
        role_definition_id: String::new(),
        directory_scope_id: None,
        app_scope_id: None,
        member_type: parse_enum(at, item, "memberType", |v| MemberType::parse(&pascal(v)))?,
        assignment_type: match request_kind {
            RequestKind::Assignment => {
                Some(parse_enum(at, item, "assignmentType", |v| AssignmentType::parse(&pascal(v)))?)
            }
            RequestKind::Eligibility => None,
        },
        status: parse_enum(at, item, "status", Status::parse)?,
        state: ScheduleState::Live,
        created_using: optional_text(item, "createdUsing"),
        created_at: time(at, item, "createdDateTime")?,
        modified_at: time(at, item, "modifiedDateTime")?,
        schedule_info: ScheduleInfo { start: Some(start), expiration },
        end_at: None,
        activated_using: None,
        instance_id: String::new(),
        ended_at: None,
        replaces: None,
        warn_14_at: None,
        warn_1_at: None,
    })
}

/// `direct` as `Direct`: the model's enums parse the directory API's spelling.
fn pascal(v: &str) -> String {
    let mut chars = v.chars();
    chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// An Azure role's eligibility or assignment schedule (ARM): its name is its id, its role the
/// GUID at the end of `roleDefinitionId`.
pub fn arm_schedule(at: &At<'_>, kind: Kind, item: &Value) -> Result<Schedule, ApiError> {
    let p = &item["properties"];
    let eligibility = kind == Kind::AzureEligibilitySchedules;
    let role = text(at, p, "roleDefinitionId")?;
    let role = role.rsplit('/').next().unwrap_or(role).to_ascii_lowercase();
    let scope = AzureScope::parse(text(at, p, "scope")?).map_err(|e| at.error("properties.scope", e))?;
    let start =
        time(at, p, "startDateTime")?.ok_or_else(|| at.error("properties.startDateTime", "missing"))?;
    let end = time(at, p, "endDateTime")?;
    let request =
        if eligibility { "roleEligibilityScheduleRequestId" } else { "roleAssignmentScheduleRequestId" };
    let created_using = optional_text(p, request).map(|r| r.rsplit('/').next().unwrap_or(&r).to_string());
    Ok(Schedule {
        id: text(at, item, "name")?.to_string(),
        surface: Surface::AzureResource,
        kind: if eligibility { RequestKind::Eligibility } else { RequestKind::Assignment },
        principal_id: text(at, p, "principalId")?.to_ascii_lowercase(),
        role_definition_id: role,
        directory_scope_id: Some(scope.path().to_string()),
        app_scope_id: None,
        member_type: parse_enum(at, p, "memberType", MemberType::parse)?,
        assignment_type: if eligibility {
            None
        } else {
            Some(parse_enum(at, p, "assignmentType", AssignmentType::parse)?)
        },
        status: parse_enum(at, p, "status", Status::parse)?,
        state: ScheduleState::Live,
        created_using,
        created_at: time(at, p, "createdOn")?,
        modified_at: time(at, p, "updatedOn")?,
        schedule_info: ScheduleInfo {
            start: Some(start),
            expiration: match end {
                Some(end) => {
                    Expiration { kind: ExpirationType::AfterDateTime, end: Some(end), duration: None }
                }
                None => Expiration::never(),
            },
        },
        end_at: None,
        // An activation names the eligibility it used, which may be at a scope above its own.
        activated_using: optional_text(p, "linkedRoleEligibilityScheduleId")
            .map(|l| l.rsplit('/').next().unwrap_or(&l).to_string()),
        instance_id: String::new(),
        ended_at: None,
        replaces: None,
        warn_14_at: None,
        warn_1_at: None,
    })
}

/// A policy assignment with its policy and rules embedded (`$expand=policy($expand=rules)`):
/// the surface it is on and the policy of its role.
pub fn policy_assignment(at: &At<'_>, item: &Value) -> Result<(Surface, Policy), ApiError> {
    let scope_type = text(at, item, "scopeType")?;
    let surface = match scope_type {
        "DirectoryRole" | "Directory" => Surface::Directory,
        "Group" => Surface::Group,
        other => {
            return Err(at.error("scopeType", format!("'{other}' is not DirectoryRole, Directory or Group")));
        }
    };
    let policy = item.get("policy").ok_or_else(|| {
        at.error("policy", "missing: export the assignments with $expand=policy($expand=rules), which names each policy's role")
    })?;
    let rules =
        policy["rules"].as_array().ok_or_else(|| at.error("policy.rules", "missing: expand the rules"))?;
    let mut parsed: Vec<PolicyRule> = Vec::with_capacity(rules.len());
    for (i, r) in rules.iter().enumerate() {
        let mut r = r.clone();
        if let Some(m) = r.as_object_mut() {
            m.retain(|k, _| k == "@odata.type" || !k.contains('@'));
        }
        parsed.push(serde_json::from_value(r).map_err(|e| at.error(&format!("policy.rules[{i}]"), e))?);
    }
    Ok((
        surface,
        Policy {
            id: text(at, policy, "id")?.to_string(),
            scope_id: text(at, item, "scopeId")?.to_string(),
            scope_type: scope_type.to_string(),
            role_definition_id: text(at, item, "roleDefinitionId")?.to_string(),
            last_modified_at: time(at, policy, "lastModifiedDateTime")?,
            last_modified_by: policy["lastModifiedBy"]["id"].as_str().map(str::to_string),
            rules: parsed.into(),
        },
    ))
}

/// An application permission (`appRoleAssignment`): its app role named back from its id.
pub fn app_role(at: &At<'_>, item: &Value, now: Timestamp) -> Result<AppPermission, ApiError> {
    let role_id = text(at, item, "appRoleId")?;
    let graph = crate::api::views::MICROSOFT_GRAPH_APP_ID;
    let permission = PERMISSIONS
        .iter()
        .find(|p| crate::model::ids::derived_guid(&format!("{graph}/{p}")).eq_ignore_ascii_case(role_id))
        .ok_or_else(|| {
            at.error("appRoleId", format!("'{role_id}' is not a Microsoft Graph permission pimlab knows"))
        })?;
    Ok(AppPermission {
        id: text(at, item, "id")?.to_string(),
        app_id: text(at, item, "principalId")?.to_ascii_lowercase(),
        kind: PermissionKind::Application,
        permission: permission.to_string(),
        granted_at: time(at, item, "createdDateTime")?.unwrap_or(now),
        granted_by: String::new(),
    })
}

/// An `oauth2PermissionGrant`: one permission per scope; the first keeps the grant's id.
pub fn grants(at: &At<'_>, item: &Value, now: Timestamp) -> Result<Vec<AppPermission>, ApiError> {
    let id = text(at, item, "id")?;
    let app = text(at, item, "clientId")?.to_ascii_lowercase();
    let mut out = Vec::new();
    for (i, scope) in text(at, item, "scope")?.split_whitespace().enumerate() {
        let permission = crate::model::permissions::permission(scope).ok_or_else(|| {
            at.error("scope", format!("'{scope}' is not a Microsoft Graph permission pimlab knows"))
        })?;
        out.push(AppPermission {
            id: if i == 0 {
                id.to_string()
            } else {
                crate::model::ids::derived_guid(&format!("{id}/{scope}"))
            },
            app_id: app.clone(),
            kind: PermissionKind::Delegated,
            permission: permission.to_string(),
            granted_at: now,
            granted_by: String::new(),
        });
    }
    Ok(out)
}

/// A scope of the estate (`id`, `properties.displayName`, `properties.parent.id`).
pub fn estate(at: &At<'_>, item: &Value, now: Timestamp) -> Result<AzureScopeNode, ApiError> {
    let scope = AzureScope::parse(text(at, item, "id")?).map_err(|e| at.error("id", e))?;
    let parent = match item["properties"]["parent"]["id"].as_str() {
        Some(p) => Some(AzureScope::parse(p).map_err(|e| at.error("properties.parent.id", e))?),
        None => scope.path_parent(),
    };
    let display_name = item["properties"]["displayName"].as_str().unwrap_or(scope.name()).to_string();
    Ok(AzureScopeNode { scope, display_name, parent, created_at: now })
}

/// `pimlab-tenant.json`.
pub fn tenant(origin: &str, doc: &Value) -> Result<TenantFacts, ApiError> {
    let at = At { origin, index: 0 };
    let number = |field: &str| {
        doc.get(field).and_then(Value::as_u64).ok_or_else(|| at.error(field, "missing, or not a number"))
    };
    Ok(TenantFacts {
        tenant_id: text(&at, doc, "tenantId")?.to_string(),
        domain: text(&at, doc, "domain")?.to_string(),
        clock: time(&at, doc, "clock")?.ok_or_else(|| at.error("clock", "missing"))?,
        seed: number("seed")?,
        next_id: number("nextId")?,
        default_caller: text(&at, doc, "defaultCaller")?.to_ascii_lowercase(),
        fidelity: doc.get("fidelity").and_then(Value::as_str).unwrap_or("").to_string(),
        created: time(&at, doc, "createdAt")?.map(|created| (created, flag(doc, "createdWithDemo", false))),
    })
}

/// An ARM policy (`roleManagementPolicies`) of the role its assignment names: `roles` maps a
/// policy's name to its role's GUID.
pub fn arm_policy(
    at: &At<'_>,
    item: &Value,
    roles: &std::collections::BTreeMap<String, String>,
) -> Result<Policy, ApiError> {
    let p = &item["properties"];
    let name = text(at, item, "name")?.to_ascii_lowercase();
    let role = roles.get(&name).ok_or_else(|| {
        at.error("name", format!("no roleManagementPolicyAssignment names the role of policy '{name}'; import the assignments too"))
    })?;
    let scope = AzureScope::parse(text(at, p, "scope")?).map_err(|e| at.error("properties.scope", e))?;
    let rules = p["rules"].as_array().ok_or_else(|| at.error("properties.rules", "missing"))?;
    let mut parsed = Vec::with_capacity(rules.len());
    for (i, r) in rules.iter().enumerate() {
        parsed.push(
            crate::api::arm::rules::from_arm(r)
                .map_err(|(field, problem)| at.error(&format!("properties.rules[{i}].{field}"), problem))?,
        );
    }
    Ok(Policy {
        id: name,
        scope_id: scope.key(),
        scope_type: scope.kind().arm_type().to_string(),
        role_definition_id: role.clone(),
        last_modified_at: time(at, p, "lastModifiedDateTime")?,
        last_modified_by: p["lastModifiedBy"]["id"].as_str().map(str::to_string),
        rules: parsed.into(),
    })
}

/// An ARM policy assignment: its policy's name and its role's GUID.
pub fn arm_policy_role(at: &At<'_>, item: &Value) -> Result<(String, String), ApiError> {
    let p = &item["properties"];
    let last = |field: &str| -> Result<String, ApiError> {
        let v = text(at, p, field)?;
        Ok(v.rsplit('/').next().unwrap_or(v).to_ascii_lowercase())
    };
    Ok((last("policyId")?, last("roleDefinitionId")?))
}

/// A custom Azure role definition (ARM `roleDefinitions`, 2022-04-01 shape): its name is its id.
/// A permission block's properties beyond the four pimlab models (`condition`, ...) are ignored.
pub fn azure_role(at: &At<'_>, item: &Value) -> Result<AzureRole, ApiError> {
    let p = &item["properties"];
    let id = text(at, item, "name")?.to_ascii_lowercase();
    if !crate::model::ids::is_guid(&id) {
        return Err(at.error("name", format!("'{id}' is not a GUID")));
    }
    let role_type = match p.get("type").and_then(Value::as_str) {
        Some(t) if t.eq_ignore_ascii_case("BuiltInRole") => AzureRoleType::BuiltInRole,
        Some(t) if t.eq_ignore_ascii_case("CustomRole") => AzureRoleType::CustomRole,
        other => {
            return Err(at.error(
                "properties.type",
                format!("{} is neither CustomRole nor BuiltInRole", other.unwrap_or("absent")),
            ));
        }
    };
    let mut permissions = Vec::new();
    for (i, block) in p["permissions"].as_array().into_iter().flatten().enumerate() {
        let mut block = block.clone();
        if let Some(m) = block.as_object_mut() {
            m.retain(|k, _| ["actions", "notActions", "dataActions", "notDataActions"].contains(&k.as_str()));
        }
        let block: AzurePermissions = serde_json::from_value(block)
            .map_err(|e| at.error(&format!("properties.permissions[{i}]"), e))?;
        permissions.push(block);
    }
    let mut assignable_scopes = Vec::new();
    for (i, scope) in p["assignableScopes"].as_array().into_iter().flatten().enumerate() {
        let field = format!("properties.assignableScopes[{i}]");
        let scope = scope.as_str().ok_or_else(|| at.error(&field, "not a string"))?;
        let path = match scope.trim() {
            "/" => "/".to_string(),
            other => AzureScope::parse(other).map_err(|e| at.error(&field, e))?.path().to_string(),
        };
        assignable_scopes.push(path);
    }
    let stamp = |on: &str, by: &str| -> Result<Option<Stamp>, ApiError> {
        Ok(time(at, p, on)?.map(|at| Stamp { at, by: optional_text(p, by).unwrap_or_default() }))
    };
    Ok(AzureRole {
        id,
        role_name: text(at, p, "roleName")?.to_string(),
        description: optional_text(p, "description").unwrap_or_default(),
        role_type,
        permissions,
        assignable_scopes,
        created: stamp("createdOn", "createdBy")?,
        updated: stamp("updatedOn", "updatedBy")?,
    })
}

/// `pimlab-tenant.json`'s `grants`: each permission an application holds, with its own id, when
/// and by whom it was granted.
pub fn grant_facts(origin: &str, doc: &Value) -> Result<Vec<AppPermission>, ApiError> {
    let mut out = Vec::new();
    for (index, g) in doc["grants"].as_array().into_iter().flatten().enumerate() {
        let at = At { origin, index };
        out.push(AppPermission {
            id: text(&at, g, "id")?.to_string(),
            app_id: text(&at, g, "appId")?.to_ascii_lowercase(),
            kind: parse_enum(&at, g, "kind", PermissionKind::parse)?,
            permission: text(&at, g, "permission")?.to_string(),
            granted_at: time(&at, g, "grantedAt")?.ok_or_else(|| at.error("grantedAt", "missing"))?,
            granted_by: text(&at, g, "grantedBy")?.to_string(),
        });
    }
    Ok(out)
}

/// `pimlab-tenant.json`'s `membershipsBesidePim`: (group, member, relation).
pub fn beside_pim(origin: &str, doc: &Value) -> Result<Vec<(String, String, String)>, ApiError> {
    let mut out = Vec::new();
    for (index, m) in doc["membershipsBesidePim"].as_array().into_iter().flatten().enumerate() {
        let at = At { origin, index };
        let relation = parse_enum(&at, m, "relation", GroupAccess::parse)?.as_str().to_string();
        out.push((
            text(&at, m, "groupId")?.to_ascii_lowercase(),
            text(&at, m, "memberId")?.to_ascii_lowercase(),
            relation,
        ));
    }
    Ok(out)
}
