//! `eligibleChildResources` (arm-pim reference §2.2): the scopes below a management group,
//! subscription or resource group where an eligibility held there can be activated (just-enough
//! access), as `{id, name, type}` with `type` like `subscription` or `resourcegroup`, filtered with
//! `resourceType eq '...'` (`or` between several).

use std::collections::HashMap;

use serde_json::json;

use super::Call;
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
        // Whose parent is whose, from one read of the estate.
        let all = self.engine.azure_scopes()?;
        let parent: HashMap<String, String> =
            all.iter().filter_map(|n| Some((n.scope.key(), n.parent.as_ref()?.key()))).collect();
        let below = |key: &str| {
            let mut at = parent.get(key);
            // The estate is a tree; the bound only ends a damaged store's loop.
            for _ in 0..64 {
                match at {
                    Some(p) if *p == scope.key() => return true,
                    Some(p) => at = parent.get(p),
                    None => return false,
                }
            }
            false
        };
        let mut items = Vec::new();
        for node in &all {
            if !below(&node.scope.key()) {
                continue;
            }
            let kind = node.scope.kind().arm_type();
            if types.as_ref().is_some_and(|t| !t.iter().any(|w| w.eq_ignore_ascii_case(kind))) {
                continue;
            }
            items.push(json!({ "id": node.scope.path(), "name": node.display_name, "type": kind }));
        }
        Ok(self.list(items))
    }
}

/// `resourceType eq 'subscription' or resourceType eq 'resourcegroup'`: the types asked for.
fn resource_types(text: &str) -> Result<Vec<String>, ApiError> {
    let refused = || {
        super::unsupported_filter(
            text,
            "eligible child resources filter on resourceType eq '...', joined with or",
        )
    };
    let lower = text.to_ascii_lowercase();
    lower
        .split(" or ")
        .map(|term| {
            let value = term.trim().strip_prefix("resourcetype eq ").ok_or_else(refused)?;
            super::quoted(value).map(str::to_string).ok_or_else(refused)
        })
        .collect()
}
