//! Parsing Graph request bodies into engine inputs, as strictly as the real service: unknown
//! properties, wrong types and unknown enum values are refused naming the offending value.

use crate::model::ErrorCode;
use serde_json::{Map, Value};

use crate::engine::NewObject;
use crate::model::time::parse_timestamp;
use crate::model::{
    Action, ApiError, Expiration, ExpirationType, IsoDuration, NewRequest, PrincipalKind, RequestKind,
    ScheduleInfo, Surface, TicketInfo,
};

/// Parses a body text as a JSON object.
pub fn parse_object(text: &str) -> Result<Map<String, Value>, ApiError> {
    let value = serde_json::from_str::<Unique>(text).map(|u| u.0).map_err(|e| {
        ApiError::new(
            400,
            ErrorCode::BadRequest,
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )
        .with_detail("InvalidJson", "body", format!("{e}"))
    })?;
    match value {
        Value::Object(m) => Ok(m),
        other => {
            Err(ApiError::bad_request("body", format!("expected a JSON object, got {}", kind_of(&other))))
        }
    }
}

/// JSON read as Graph's OData reader reads it: a property named twice in one object is an error
/// (serde_json alone keeps the last), at any depth.
struct Unique(Value);

impl<'de> serde::Deserialize<'de> for Unique {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueVisitor).map(Unique)
    }
}

struct UniqueVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Unique(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Unique(v) = map.next_value()?;
            if fields.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "Multiple properties with the name '{key}' were detected in an entry or a complex value. In OData, duplicate property names are not allowed."
                )));
            }
            fields.insert(key, v);
        }
        Ok(Value::Object(fields))
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn unknown_property(name: &str, type_name: &str) -> ApiError {
    ApiError::new(
        400,
        ErrorCode::BadRequest,
        format!(
            "The property '{name}' does not exist on type 'microsoft.graph.{type_name}'. Make sure to only use property names that are defined by the type."
        ),
    )
}

/// Refuses any key not in `allowed` (case-sensitive, as OData is); `@odata.*` annotations pass.
fn only_known(m: &Map<String, Value>, allowed: &[&str], type_name: &str) -> Result<(), ApiError> {
    for key in m.keys() {
        if !key.starts_with("@odata.") && !allowed.contains(&key.as_str()) {
            return Err(unknown_property(key, type_name));
        }
    }
    Ok(())
}

fn string(m: &Map<String, Value>, key: &str, field: &str) -> Result<Option<String>, ApiError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => {
            Err(ApiError::bad_request(field, format!("expected a string, got {}", kind_of(other))))
        }
    }
}

fn boolean(m: &Map<String, Value>, key: &str, field: &str) -> Result<Option<bool>, ApiError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => {
            Err(ApiError::bad_request(field, format!("expected true or false, got {}", kind_of(other))))
        }
    }
}

fn object<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(other) => {
            Err(ApiError::bad_request(field, format!("expected an object, got {}", kind_of(other))))
        }
    }
}

fn enum_not_found(value: &str, field: &str, allowed: &str) -> ApiError {
    // The first sentence is what the real service (.NET enum parsing) says.
    ApiError::new(400, ErrorCode::BadRequest, format!("Requested value '{value}' was not found."))
        .with_detail("InvalidValue", field, format!("'{value}' is not one of {allowed}"))
}

fn parse_schedule_info(m: &Map<String, Value>) -> Result<ScheduleInfo, ApiError> {
    only_known(m, &["startDateTime", "expiration", "recurrence"], "requestSchedule")?;
    if !matches!(m.get("recurrence"), None | Some(Value::Null)) {
        return Err(ApiError::bad_request(
            "scheduleInfo.recurrence",
            "recurrence is not supported by PIM; send null",
        ));
    }
    let start = match string(m, "startDateTime", "scheduleInfo.startDateTime")? {
        Some(s) => {
            Some(parse_timestamp(&s).map_err(|e| ApiError::bad_request("scheduleInfo.startDateTime", e))?)
        }
        None => None,
    };
    let expiration = match object(m, "expiration", "scheduleInfo.expiration")? {
        None => Expiration { kind: ExpirationType::NotSpecified, end: None, duration: None },
        Some(e) => {
            only_known(e, &["type", "endDateTime", "duration"], "expirationPattern")?;
            let end = match string(e, "endDateTime", "scheduleInfo.expiration.endDateTime")? {
                Some(s) => Some(
                    parse_timestamp(&s)
                        .map_err(|e| ApiError::bad_request("scheduleInfo.expiration.endDateTime", e))?,
                ),
                None => None,
            };
            let duration = match string(e, "duration", "scheduleInfo.expiration.duration")? {
                Some(s) => Some(
                    IsoDuration::parse(&s)
                        .map_err(|e| ApiError::bad_request("scheduleInfo.expiration.duration", e))?,
                ),
                None => None,
            };
            let kind = match string(e, "type", "scheduleInfo.expiration.type")? {
                Some(t) => ExpirationType::parse(&t).ok_or_else(|| {
                    enum_not_found(
                        &t,
                        "scheduleInfo.expiration.type",
                        "noExpiration, afterDateTime, afterDuration, notSpecified",
                    )
                })?,
                // Without a type, infer it from what was given.
                None if end.is_some() => ExpirationType::AfterDateTime,
                None if duration.is_some() => ExpirationType::AfterDuration,
                None => ExpirationType::NotSpecified,
            };
            Expiration { kind, end, duration }
        }
    };
    Ok(ScheduleInfo { start, expiration })
}

/// The properties a schedule request body may have whatever its surface; each surface adds how
/// it names the role and the scope.
const REQUEST_FIELDS: [&str; 8] = [
    "action",
    "principalId",
    "justification",
    "scheduleInfo",
    "ticketInfo",
    "isValidationOnly",
    "customData",
    "targetScheduleId",
];

/// A `unifiedRole{Eligibility,Assignment}ScheduleRequest` body.
/// `beta`: the body was sent to Graph beta, whose `ticketInfo` has two more properties.
pub fn schedule_request(kind: RequestKind, text: &str, beta: bool) -> Result<NewRequest, ApiError> {
    let m = parse_object(text)?;
    let type_name = match kind {
        RequestKind::Eligibility => "unifiedRoleEligibilityScheduleRequest",
        RequestKind::Assignment => "unifiedRoleAssignmentScheduleRequest",
    };
    let mut known = REQUEST_FIELDS.to_vec();
    known.extend(["roleDefinitionId", "directoryScopeId", "appScopeId"]);
    only_known(&m, &known, type_name)?;
    let action_text = string(&m, "action", "action")?
        .ok_or_else(|| ApiError::bad_request("action", "the action is required, e.g. \"adminAssign\""))?;
    let action = Action::parse(&action_text).ok_or_else(|| {
        enum_not_found(
            &action_text,
            "action",
            &Action::ALL.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", "),
        )
    })?;
    let principal_id = string(&m, "principalId", "principalId")?
        .ok_or_else(|| ApiError::bad_request("principalId", "the principalId is required"))?;
    let role_definition_id = string(&m, "roleDefinitionId", "roleDefinitionId")?
        .ok_or_else(|| ApiError::bad_request("roleDefinitionId", "the roleDefinitionId is required"))?;
    let schedule_info = match object(&m, "scheduleInfo", "scheduleInfo")? {
        Some(s) => Some(parse_schedule_info(s)?),
        None => None,
    };
    let ticket_info = match object(&m, "ticketInfo", "ticketInfo")? {
        Some(t) => {
            // Beta's ticketInfo has two more properties; v1.0's refuses them as unknown.
            let known: &[&str] = if beta {
                &["ticketNumber", "ticketSystem", "ticketApproverIdentityId", "ticketSubmitterIdentityId"]
            } else {
                &["ticketNumber", "ticketSystem"]
            };
            only_known(t, known, "ticketInfo")?;
            Some(TicketInfo {
                number: string(t, "ticketNumber", "ticketInfo.ticketNumber")?,
                system: string(t, "ticketSystem", "ticketInfo.ticketSystem")?,
                approver_identity_id: string(
                    t,
                    "ticketApproverIdentityId",
                    "ticketInfo.ticketApproverIdentityId",
                )?,
                submitter_identity_id: string(
                    t,
                    "ticketSubmitterIdentityId",
                    "ticketInfo.ticketSubmitterIdentityId",
                )?,
            })
        }
        None => None,
    };
    Ok(NewRequest {
        surface: Surface::Directory,
        kind,
        action,
        principal_id,
        role_definition_id,
        directory_scope_id: string(&m, "directoryScopeId", "directoryScopeId")?,
        app_scope_id: string(&m, "appScopeId", "appScopeId")?,
        justification: string(&m, "justification", "justification")?,
        schedule_info,
        ticket_info,
        is_validation_only: boolean(&m, "isValidationOnly", "isValidationOnly")?.unwrap_or(false),
    })
}

/// A `privilegedAccessGroup{Eligibility,Assignment}ScheduleRequest` body: the group's request is
/// a directory request's with `accessId` for the role and `groupId` for the scope (reference §6),
/// so it is read by the same parser once its own names are checked and mapped.
pub fn group_schedule_request(kind: RequestKind, text: &str, beta: bool) -> Result<NewRequest, ApiError> {
    let mut m = parse_object(text)?;
    let type_name = match kind {
        RequestKind::Eligibility => "privilegedAccessGroupEligibilityScheduleRequest",
        RequestKind::Assignment => "privilegedAccessGroupAssignmentScheduleRequest",
    };
    let mut known = REQUEST_FIELDS.to_vec();
    known.extend(["accessId", "groupId"]);
    only_known(&m, &known, type_name)?;
    for (own, directory) in [("accessId", "roleDefinitionId"), ("groupId", "directoryScopeId")] {
        let value = string(&m, own, own)?
            .ok_or_else(|| ApiError::bad_request(own, format!("the {own} is required")))?;
        m.remove(own);
        m.insert(directory.to_string(), Value::String(value));
    }
    let mut req = schedule_request(kind, &Value::Object(m).to_string(), beta)?;
    req.surface = Surface::Group;
    Ok(req)
}

/// A `unifiedRoleAssignment` body (`POST /roleManagement/directory/roleAssignments`): principal,
/// role, and exactly one of the directory and app scopes.
pub fn role_assignment(text: &str) -> Result<(String, String, Option<String>, Option<String>), ApiError> {
    let m = parse_object(text)?;
    only_known(
        &m,
        &["principalId", "roleDefinitionId", "directoryScopeId", "appScopeId", "condition"],
        "unifiedRoleAssignment",
    )?;
    let principal = string(&m, "principalId", "principalId")?
        .ok_or_else(|| ApiError::bad_request("principalId", "the principalId is required"))?;
    let role = string(&m, "roleDefinitionId", "roleDefinitionId")?
        .ok_or_else(|| ApiError::bad_request("roleDefinitionId", "the roleDefinitionId is required"))?;
    let directory = string(&m, "directoryScopeId", "directoryScopeId")?;
    let app = string(&m, "appScopeId", "appScopeId")?;
    match (&directory, &app) {
        (None, None) => Err(ApiError::bad_request(
            "directoryScopeId",
            "one of directoryScopeId or appScopeId is required",
        )),
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "directoryScopeId",
            "give either directoryScopeId or appScopeId, not both",
        )),
        _ => Ok((principal, role, directory, app)),
    }
}

/// A user, group, service principal or administrative unit body.
pub fn directory_object(kind: PrincipalKind, text: &str) -> Result<NewObject, ApiError> {
    let m = parse_object(text)?;
    let (allowed, type_name): (&[&str], &str) = match kind {
        PrincipalKind::User => (
            &[
                "displayName",
                "userPrincipalName",
                "mail",
                "mailNickname",
                "accountEnabled",
                "passwordProfile",
                "givenName",
                "surname",
                "jobTitle",
                "department",
                "usageLocation",
            ],
            "user",
        ),
        PrincipalKind::Group => (
            &[
                "displayName",
                "description",
                "isAssignableToRole",
                "securityEnabled",
                "mailEnabled",
                "mailNickname",
                "groupTypes",
                "visibility",
                "members@odata.bind",
                "owners@odata.bind",
            ],
            "group",
        ),
        PrincipalKind::ServicePrincipal => (
            &["displayName", "appId", "accountEnabled", "description", "servicePrincipalType", "tags"],
            "servicePrincipal",
        ),
        PrincipalKind::AdministrativeUnit => {
            (&["displayName", "description", "visibility"], "administrativeUnit")
        }
    };
    only_known(&m, allowed, type_name)?;
    let display_name = string(&m, "displayName", "displayName")?.unwrap_or_default();
    Ok(NewObject {
        // Read-only in Graph: the service mints it.
        id: None,
        kind: Some(kind),
        display_name,
        user_principal_name: string(&m, "userPrincipalName", "userPrincipalName")?,
        mail: string(&m, "mail", "mail")?,
        description: string(&m, "description", "description")?,
        is_assignable_to_role: boolean(&m, "isAssignableToRole", "isAssignableToRole")?.unwrap_or(false),
        security_enabled: boolean(&m, "securityEnabled", "securityEnabled")?
            .unwrap_or(kind == PrincipalKind::Group),
        mail_enabled: boolean(&m, "mailEnabled", "mailEnabled")?.unwrap_or(false),
        app_id: string(&m, "appId", "appId")?,
        account_enabled: boolean(&m, "accountEnabled", "accountEnabled")?,
        group_types: string_list(&m, "groupTypes")?,
        // Read-only in Graph: synchronisation sets it, not a client.
        on_premises_sync_enabled: false,
        members: binds(&m, "members@odata.bind")?,
        owners: binds(&m, "owners@odata.bind")?,
    })
}

fn string_list(m: &Map<String, Value>, key: &str) -> Result<Vec<String>, ApiError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(ApiError::bad_request(
                    &format!("{key}[{i}]"),
                    format!("expected a string, got {}", kind_of(other)),
                )),
            })
            .collect(),
        Some(other) => {
            Err(ApiError::bad_request(key, format!("expected an array of strings, got {}", kind_of(other))))
        }
    }
}

/// The object ids in `members@odata.bind`-style URL lists.
fn binds(m: &Map<String, Value>, key: &str) -> Result<Vec<String>, ApiError> {
    string_list(m, key)?.iter().map(|url| object_id_of(url, key)).collect()
}

/// The object id at the end of a `https://graph.microsoft.com/v1.0/directoryObjects/{id}` URL.
fn object_id_of(url: &str, field: &str) -> Result<String, ApiError> {
    let last = url.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    let id = last.trim_start_matches("directoryObjects('").trim_end_matches("')");
    if id.is_empty() {
        return Err(ApiError::bad_request(field, format!("'{url}' names no object")));
    }
    Ok(id.to_string())
}

/// The object id in an `{"@odata.id": ".../directoryObjects/{id}"}` reference body.
pub fn reference(text: &str) -> Result<String, ApiError> {
    let m = parse_object(text)?;
    let target = string(&m, "@odata.id", "@odata.id")?
        .ok_or_else(|| ApiError::bad_request("@odata.id", "a reference body needs \"@odata.id\""))?;
    object_id_of(&target, "@odata.id")
}

fn role_permissions(m: &Map<String, Value>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(v) = m.get("rolePermissions") else {
        return Ok(None);
    };
    let Value::Array(perms) = v else {
        return Err(ApiError::bad_request(
            "rolePermissions",
            format!("expected an array, got {}", kind_of(v)),
        ));
    };
    let mut actions = Vec::new();
    for (i, p) in perms.iter().enumerate() {
        let Value::Object(p) = p else {
            return Err(ApiError::bad_request(&format!("rolePermissions[{i}]"), "expected an object"));
        };
        only_known(
            p,
            &["allowedResourceActions", "excludedResourceActions", "condition"],
            "unifiedRolePermission",
        )?;
        match p.get("allowedResourceActions") {
            Some(Value::Array(a)) => {
                for (j, action) in a.iter().enumerate() {
                    match action {
                        Value::String(s) => actions.push(s.clone()),
                        other => {
                            return Err(ApiError::bad_request(
                                &format!("rolePermissions[{i}].allowedResourceActions[{j}]"),
                                format!("expected a string, got {}", kind_of(other)),
                            ));
                        }
                    }
                }
            }
            _ => {
                return Err(ApiError::bad_request(
                    &format!("rolePermissions[{i}].allowedResourceActions"),
                    "an array of resource actions is required",
                ));
            }
        }
    }
    Ok(Some(actions))
}

const ROLE_FIELDS: &[&str] = &[
    "displayName",
    "description",
    "rolePermissions",
    "isEnabled",
    "templateId",
    "version",
    "resourceScopes",
    "isBuiltIn",
    "id",
];

/// A custom `unifiedRoleDefinition` to create.
pub fn new_role(text: &str) -> Result<crate::engine::NewRole, ApiError> {
    let m = parse_object(text)?;
    only_known(&m, ROLE_FIELDS, "unifiedRoleDefinition")?;
    if boolean(&m, "isBuiltIn", "isBuiltIn")? == Some(true) {
        return Err(ApiError::bad_request("isBuiltIn", "custom roles cannot be built in"));
    }
    Ok(crate::engine::NewRole {
        display_name: string(&m, "displayName", "displayName")?
            .ok_or_else(|| ApiError::bad_request("displayName", "a display name is required"))?,
        description: string(&m, "description", "description")?,
        allowed_resource_actions: role_permissions(&m)?
            .ok_or_else(|| ApiError::bad_request("rolePermissions", "rolePermissions is required"))?,
        is_enabled: boolean(&m, "isEnabled", "isEnabled")?.unwrap_or(true),
        template_id: string(&m, "templateId", "templateId")?,
    })
}

/// A change to a custom `unifiedRoleDefinition`.
pub fn role_change(text: &str) -> Result<crate::engine::RoleChange, ApiError> {
    let m = parse_object(text)?;
    only_known(&m, ROLE_FIELDS, "unifiedRoleDefinition")?;
    Ok(crate::engine::RoleChange {
        display_name: string(&m, "displayName", "displayName")?,
        description: string(&m, "description", "description")?,
        allowed_resource_actions: role_permissions(&m)?,
        is_enabled: boolean(&m, "isEnabled", "isEnabled")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The v1.0 form, which every test here sends.
    fn schedule_request(kind: RequestKind, text: &str) -> Result<NewRequest, ApiError> {
        super::schedule_request(kind, text, false)
    }

    #[test]
    fn request_bodies_parse_as_real_clients_send_them() {
        let r = schedule_request(
            RequestKind::Assignment,
            r#"{"action":"SelfActivate","principalId":"p","roleDefinitionId":"r","directoryScopeId":"/",
               "justification":"j","scheduleInfo":{"startDateTime":"2025-01-06T10:00:00+01:00",
               "expiration":{"type":"AfterDuration","duration":"PT4H"}},"ticketInfo":{"ticketNumber":"1","ticketSystem":"S"}}"#,
        )
        .unwrap();
        assert_eq!(r.action, Action::SelfActivate);
        assert_eq!(r.schedule_info.unwrap().expiration.duration, Some(IsoDuration::from_hours(4)));
    }

    #[test]
    fn bad_bodies_name_the_offending_value() {
        let e = schedule_request(RequestKind::Eligibility, "{not json").unwrap_err();
        assert_eq!(e.code, "BadRequest");
        let e = schedule_request(
            RequestKind::Eligibility,
            r#"{"action":"adminAssignX","principalId":"p","roleDefinitionId":"r"}"#,
        )
        .unwrap_err();
        assert!(e.message.contains("'adminAssignX'"), "{e}");
        let e = schedule_request(
            RequestKind::Eligibility,
            r#"{"action":"adminAssign","principalId":"p","roleDefinitionId":"r","colour":"red"}"#,
        )
        .unwrap_err();
        assert!(e.message.contains("'colour'"), "{e}");
        let e = schedule_request(
            RequestKind::Eligibility,
            r#"{"action":"adminAssign","principalId":"p","roleDefinitionId":"r","scheduleInfo":{"expiration":{"type":"afterDuration","duration":"8 hours"}}}"#,
        )
        .unwrap_err();
        assert!(e.message.contains("'8 hours'"), "{e}");
        let e =
            schedule_request(RequestKind::Eligibility, r#"{"action":"adminAssign","roleDefinitionId":"r"}"#)
                .unwrap_err();
        assert!(e.message.contains("principalId"), "{e}");
        let e = schedule_request(
            RequestKind::Eligibility,
            r#"{"action":"adminAssign","principalId":7,"roleDefinitionId":"r"}"#,
        )
        .unwrap_err();
        assert!(e.message.contains("principalId"), "{e}");
    }
}
