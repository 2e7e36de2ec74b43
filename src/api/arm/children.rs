//! `eligibleChildResources` (arm-pim reference §2.2): the scopes below a management group,
//! subscription or resource group where an eligibility held there can be activated (just-enough
//! access), as `{id, name, type}` with `type` like `subscription` or `resourcegroup`, filtered with
//! `resourceType eq '...'` (`or` between several).

use serde_json::json;

use super::{Call, list};
use crate::api::response::Response;
use crate::model::azure_scope::AzureScopeKind;
use crate::model::{ApiError, ErrorCode};

impl Call<'_> {
    pub(super) fn eligible_child_resources(&mut self) -> Result<Response, ApiError> {
        self.require_method(&["GET"])?;
        let scope = self.scope.clone().ok_or_else(|| {
            ApiError::new(
                400,
                ErrorCode::InvalidResourceType,
                "Eligible child resources are listed below a scope.",
            )
        })?;
        if scope.kind() == AzureScopeKind::Resource {
            return Err(ApiError::bad_request(
                "scope",
                "eligible child resources are listed below a management group, subscription or resource group",
            ));
        }
        let types = match self.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            None => None,
            Some(f) => Some(resource_types(f)?),
        };
        let mut items = Vec::new();
        for node in self.engine.azure_scopes()? {
            let (_, ancestors, _) = self.engine.azure_scope(node.scope.path())?;
            if !ancestors.iter().any(|a| a.scope.key() == scope.key()) {
                continue;
            }
            let kind = node.scope.kind().arm_type();
            if types.as_ref().is_some_and(|t| !t.iter().any(|w| w.eq_ignore_ascii_case(kind))) {
                continue;
            }
            items.push(json!({ "id": node.scope.path(), "name": node.display_name, "type": kind }));
        }
        Ok(list(items))
    }
}

/// `resourceType eq 'subscription' or resourceType eq 'resourcegroup'`: the types asked for.
fn resource_types(text: &str) -> Result<Vec<String>, ApiError> {
    let refused = || {
        ApiError::new(400, ErrorCode::InvalidFilter, format!("The filter '{text}' is not supported."))
            .with_detail(
                "InvalidFilter",
                "$filter",
                "eligible child resources filter on resourceType eq '...', joined with or",
            )
    };
    let lower = text.to_ascii_lowercase();
    lower
        .split(" or ")
        .map(|term| {
            let value = term.trim().strip_prefix("resourcetype eq ").ok_or_else(refused)?.trim();
            value
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .map(str::to_string)
                .ok_or_else(refused)
        })
        .collect()
}
