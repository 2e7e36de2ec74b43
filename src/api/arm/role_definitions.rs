//! `roleDefinitions` (arm-pim reference §1.11): the built-in Azure roles and the tenant's custom
//! ones. A list at a scope shows the built-in roles and the custom roles assignable there
//! (`$filter=atScopeAndBelow()` adds those assignable only below it); the tenant-level list shows
//! every one. `$filter` also takes `roleName eq '...'` and `type eq 'BuiltInRole'|'CustomRole'`.
//! PUT defines or replaces a custom role under a GUID, DELETE removes one nobody holds.

use serde_json::Value;

use super::{Call, views};
use crate::api::response::Response;
use crate::model::azure_role::{AzurePermissions, AzureRole, AzureRoleDraft};
use crate::model::azure_roles::role_guid;
use crate::model::{ApiError, ErrorCode};

/// What a role definition list's `$filter` may ask.
enum RoleFilter {
    All,
    RoleName(String),
    Type(String),
    AtScopeAndBelow,
}

impl Call<'_> {
    pub(super) fn role_definitions(&mut self) -> Result<Response, ApiError> {
        let prefix = self.prefix();
        let rest = self.rest.clone();
        match (self.method.as_str(), rest.as_slice()) {
            ("GET", []) => {
                let filter = parse_filter(self.filter.as_deref())?;
                let below = matches!(filter, RoleFilter::AtScopeAndBelow);
                let scope = self.scope.clone();
                let items = self
                    .engine
                    .azure_roles_at(scope.as_ref(), below)?
                    .iter()
                    .filter(|r| matches(&filter, r))
                    .map(|r| views::role_definition(&prefix, r))
                    .collect();
                Ok(self.list(items))
            }
            ("GET", [name]) => {
                let role = self.visible_role(name)?;
                Ok(Response::ok(views::role_definition(&prefix, &role)))
            }
            ("PUT", [name]) => {
                let body = self.body.ok_or_else(|| super::invalid_content("the request has no body"))?;
                let draft = draft(name, body)?;
                let (role, _) = self.engine.define_azure_role(self.session, Some(name), &draft)?;
                Ok(Response::created(views::role_definition(&prefix, &role)))
            }
            ("DELETE", [name]) => match self.engine.delete_azure_role(self.session, name)? {
                Some(role) => Ok(Response::ok(views::role_definition(&prefix, &role))),
                None => Ok(Response::no_content()),
            },
            (_, [] | [_]) => Err(self.method_refused()),
            _ => Err(ApiError::new(
                400,
                ErrorCode::InvalidResourceType,
                format!("'{}' is not a roleDefinitions path.", rest.join("/")),
            )),
        }
    }

    /// The role named `name` (its GUID in any form) if it shows at the call's scope.
    fn visible_role(&mut self, name: &str) -> Result<AzureRole, ApiError> {
        let guid = role_guid(name).ok_or_else(|| not_found(name))?;
        let scope = self.scope.clone();
        self.engine
            .azure_roles_at(scope.as_ref(), false)?
            .into_iter()
            .find(|r| r.id == guid)
            .ok_or_else(|| not_found(name))
    }
}

fn not_found(name: &str) -> ApiError {
    ApiError::new(
        404,
        crate::engine::fidelity::ARM_ROLE_DEFINITION_NOT_FOUND_CODE,
        format!("The specified role definition with ID '{name}' does not exist."),
    )
}

/// A PUT body: `{"name"?, "properties": {roleName, description, type, permissions,
/// assignableScopes}}`; read-only properties a client echoes back are ignored.
fn draft(name: &str, body: &str) -> Result<AzureRoleDraft, ApiError> {
    let (value, props) = super::body_properties(body)?;
    if let Some(named) = value.get("name").and_then(Value::as_str) {
        if !named.eq_ignore_ascii_case(name) {
            return Err(ApiError::bad_request(
                "name",
                format!("the body names role definition '{named}' but the path names '{name}'"),
            ));
        }
    }
    let text = |key: &str| super::property_text(&props, key);
    if let Some(kind) = text("type")? {
        if !kind.eq_ignore_ascii_case("CustomRole") {
            return Err(ApiError::bad_request(
                "properties.type",
                format!("'{kind}': only custom roles can be defined (type 'CustomRole')"),
            ));
        }
    }
    let list = |key: &str| -> Result<Value, ApiError> { Ok(props.get(key).cloned().unwrap_or(Value::Null)) };
    let permissions: Vec<AzurePermissions> = match list("permissions")? {
        Value::Null => Vec::new(),
        v => serde_path_to_error::deserialize(v).map_err(|e| {
            super::invalid_content(&format!(
                "{}. Path 'properties.permissions{}'",
                e.inner(),
                path_suffix(&e)
            ))
        })?,
    };
    let assignable_scopes: Vec<String> = match list("assignableScopes")? {
        Value::Null => Vec::new(),
        v => serde_json::from_value(v)
            .map_err(|e| super::invalid_content(&format!("{e}. Path 'properties.assignableScopes'")))?,
    };
    Ok(AzureRoleDraft {
        role_name: text("roleName")?.unwrap_or_default(),
        description: text("description")?.unwrap_or_default(),
        permissions,
        assignable_scopes,
    })
}

fn path_suffix<E>(e: &serde_path_to_error::Error<E>) -> String {
    let path = e.path().to_string();
    if path == "." { String::new() } else { format!(".{path}").replace(".[", "[") }
}

fn matches(filter: &RoleFilter, role: &AzureRole) -> bool {
    match filter {
        RoleFilter::All | RoleFilter::AtScopeAndBelow => true,
        RoleFilter::RoleName(n) => role.role_name.eq_ignore_ascii_case(n),
        RoleFilter::Type(t) => t.eq_ignore_ascii_case(role.role_type.as_str()),
    }
}

/// `roleName eq 'Owner'`, `type eq 'BuiltInRole'`, `atScopeAndBelow()`; anything else is
/// refused, naming what is taken.
fn parse_filter(filter: Option<&str>) -> Result<RoleFilter, ApiError> {
    let Some(text) = filter.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(RoleFilter::All);
    };
    if text.eq_ignore_ascii_case("atScopeAndBelow()") {
        return Ok(RoleFilter::AtScopeAndBelow);
    }
    let refused = || {
        super::unsupported_filter(
            text,
            "role definitions filter on roleName eq '...', type eq 'BuiltInRole'|'CustomRole' or atScopeAndBelow()",
        )
    };
    let mut words = text.splitn(3, ' ');
    let (field, op, value) =
        (words.next().unwrap_or(""), words.next().unwrap_or(""), words.next().unwrap_or(""));
    let value = value.trim();
    let quoted = super::quoted(value).ok_or_else(refused)?;
    if !op.eq_ignore_ascii_case("eq") || quoted.contains('\'') {
        return Err(refused());
    }
    match field {
        f if f.eq_ignore_ascii_case("roleName") => Ok(RoleFilter::RoleName(quoted.to_string())),
        f if f.eq_ignore_ascii_case("type") => Ok(RoleFilter::Type(quoted.to_string())),
        _ => Err(refused()),
    }
}
