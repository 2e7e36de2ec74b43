//! `roleDefinitions`: the built-in Azure roles, listed at any scope (or the tenant) and read one
//! at a time (arm-pim reference §1.11). `$filter` takes `roleName eq '...'` and
//! `type eq 'BuiltInRole'|'CustomRole'`, as ARM documents for this list.

use super::{Call, list, views};
use crate::api::response::Response;
use crate::engine::fidelity;
use crate::model::azure_roles::{AZURE_BUILTIN_ROLES, AzureBuiltinRole, role_guid};
use crate::model::{ApiError, ErrorCode};

/// What a role definition list's `$filter` may ask.
enum RoleFilter {
    All,
    RoleName(String),
    Type(String),
}

impl Call<'_> {
    pub(super) fn role_definitions(&mut self) -> Result<Response, ApiError> {
        let prefix = self.prefix();
        match self.rest.as_slice() {
            [] => {
                self.require_method(&["GET"])?;
                let filter = parse_filter(self.filter.as_deref())?;
                let items = AZURE_BUILTIN_ROLES
                    .iter()
                    .filter(|r| matches(&filter, r))
                    .map(|r| views::role_definition(&prefix, r))
                    .collect();
                Ok(list(items))
            }
            [name] => {
                if self.method != "GET" {
                    return Err(ApiError::new(
                        501,
                        ErrorCode::PimlabNotModelled,
                        "pimlab does not model custom Azure role definitions yet; the built-in roles can only be read.",
                    ));
                }
                let guid = role_guid(name).ok_or_else(|| not_found(name))?;
                let role =
                    AZURE_BUILTIN_ROLES.iter().find(|r| r.id == guid).ok_or_else(|| not_found(name))?;
                Ok(Response::ok(views::role_definition(&prefix, role)))
            }
            _ => Err(ApiError::new(
                400,
                ErrorCode::InvalidResourceType,
                format!("'{}' is not a roleDefinitions path.", self.rest.join("/")),
            )),
        }
    }
}

fn not_found(name: &str) -> ApiError {
    ApiError::new(
        404,
        fidelity::ARM_ROLE_DEFINITION_NOT_FOUND_CODE,
        format!("The specified role definition with ID '{name}' does not exist."),
    )
}

fn matches(filter: &RoleFilter, role: &AzureBuiltinRole) -> bool {
    match filter {
        RoleFilter::All => true,
        RoleFilter::RoleName(n) => role.role_name.eq_ignore_ascii_case(n),
        RoleFilter::Type(t) => t.eq_ignore_ascii_case("BuiltInRole"),
    }
}

/// `roleName eq 'Owner'`, `type eq 'BuiltInRole'`; anything else is refused, naming what is taken.
fn parse_filter(filter: Option<&str>) -> Result<RoleFilter, ApiError> {
    let Some(text) = filter.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(RoleFilter::All);
    };
    let refused = || {
        super::unsupported_filter(
            text,
            "role definitions filter on roleName eq '...' or type eq 'BuiltInRole'",
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
