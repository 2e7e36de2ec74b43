//! `roleManagementPolicies` and `roleManagementPolicyAssignments` (arm-pim reference §1.8, §1.9,
//! §3): the settings of every built-in Azure role at a scope, each at Azure's defaults until
//! changed, listed (`$filter=roleDefinitionId eq '...'`, as terraform finds a role's policy) and
//! read by name. Changing them over ARM (PATCH) comes with the rest of the Azure half.

use super::{Call, list, views};
use crate::api::response::Response;
use crate::model::azure_roles::role_guid;
use crate::model::{ApiError, ErrorCode};

impl Call<'_> {
    pub(super) fn policies(&mut self, assignments: bool) -> Result<Response, ApiError> {
        let scope = self.scope.clone().ok_or_else(|| {
            ApiError::new(
                400,
                ErrorCode::InvalidResourceType,
                "Role management policies are read at a scope.",
            )
        })?;
        if self.method != "GET" {
            return Err(ApiError::new(
                501,
                ErrorCode::PimlabNotModelled,
                "pimlab does not change Azure role settings over ARM yet; read them with GET.",
            ));
        }
        let role_filter = match self.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            None => None,
            Some(f) => Some(role_filter(f)?),
        };
        let node = self.engine.azure_scope_at(&scope)?;
        let mut items = Vec::new();
        for (role, policy) in self.engine.azure_policies_at(&scope)? {
            if role_filter.as_deref().is_some_and(|g| g != role.id) {
                continue;
            }
            let by = match &policy.last_modified_by {
                Some(id) => self.engine.object(id)?,
                None => None,
            };
            let name = if assignments { format!("{}_{}", policy.id, role.id) } else { policy.id.clone() };
            let v = if assignments {
                views::policy_assignment(&policy, role, &node, by.as_ref())
            } else {
                views::policy(&policy, &node, by.as_ref())
            };
            items.push((name, v));
        }
        match self.rest.as_slice() {
            [] => Ok(list(items.into_iter().map(|(_, v)| v).collect())),
            [name] => items
                .into_iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| Response::ok(v))
                .ok_or_else(|| {
                    ApiError::new(
                        404,
                        ErrorCode::ResourceNotFound,
                        format!("The {} '{name}' could not be found at {scope}.", self.resource_type),
                    )
                }),
            _ => {
                Err(ApiError::new(400, ErrorCode::InvalidResourceType, "Not a role management policy path."))
            }
        }
    }
}

/// `roleDefinitionId eq '{id}'`: the role's GUID.
fn role_filter(text: &str) -> Result<String, ApiError> {
    let refused = || super::unsupported_filter(text, "policies filter on roleDefinitionId eq '...'");
    let lower = text.to_ascii_lowercase();
    let value = lower
        .strip_prefix("roledefinitionid eq ")
        .map(|_| text["roleDefinitionId eq ".len()..].trim())
        .ok_or_else(refused)?;
    let quoted = super::quoted(value).ok_or_else(refused)?;
    role_guid(quoted).ok_or_else(refused)
}
