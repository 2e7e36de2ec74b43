//! The lab's Azure estate (arm-pim §2.1): the scope tree under the tenant root management group.
//! Management groups and subscriptions hang where they are put (under the root unless a parent is
//! named); resource groups and resources hang where their paths say. A scope is added only under
//! one the tree has, so every scope's ancestry reaches the root.

use super::audit::{About, Activity, Audit, Entry};
use super::directory::require_admin;
use super::{Engine, Session};
use crate::model::azure_scope::{AzureScope, AzureScopeKind, AzureScopeNode, TENANT_ROOT_NAME};
use crate::model::{ApiError, ErrorCode};
use crate::store::Tx;

/// A scope to add: its path (any spelling ARM accepts), a display name (default: its name), and
/// for a management group or subscription the management group it goes under (default: the root).
#[derive(Debug, Clone, Default)]
pub struct NewAzureScope {
    pub path: String,
    pub display_name: Option<String>,
    pub parent: Option<String>,
}

/// `text` as a scope, or a 400 naming it and saying why not.
pub(crate) fn parse_scope(text: &str) -> Result<AzureScope, ApiError> {
    AzureScope::parse(text)
        .map_err(|why| ApiError::bad_request("scope", format!("'{text}' is not an Azure scope: {why}")))
}

/// The 404 ARM gives for a scope the tenant does not have, in ARM's words.
pub(crate) fn scope_not_found(scope: &AzureScope) -> ApiError {
    let (code, message) = match scope.kind() {
        AzureScopeKind::ManagementGroup => (
            ErrorCode::ManagementGroupNotFound,
            format!("The management group '{}' could not be found.", scope.name()),
        ),
        AzureScopeKind::Subscription => (
            ErrorCode::SubscriptionNotFound,
            format!("The subscription '{}' could not be found.", scope.name()),
        ),
        AzureScopeKind::ResourceGroup => (
            ErrorCode::ResourceGroupNotFound,
            format!("Resource group '{}' could not be found.", scope.name()),
        ),
        AzureScopeKind::Resource => (
            ErrorCode::ResourceNotFound,
            format!(
                "The Resource '{}/{}' was not found.",
                scope.resource_type().unwrap_or_default(),
                scope.name()
            ),
        ),
    };
    ApiError::new(404, code, message).with_detail(
        "ScopeNotFound",
        "scope",
        format!("the lab's Azure estate has no {}", scope.path()),
    )
}

/// The tree's node for `scope`, or its 404.
pub(crate) fn node(tx: &Tx<'_>, scope: &AzureScope) -> Result<AzureScopeNode, ApiError> {
    tx.azure_scope(scope)?.ok_or_else(|| scope_not_found(scope))
}

/// A scope named by path (any spelling) or by display name (unique among the tree's).
pub(crate) fn resolve(tx: &Tx<'_>, text: &str) -> Result<AzureScopeNode, ApiError> {
    if text.contains('/') {
        return node(tx, &parse_scope(text)?);
    }
    let matches: Vec<AzureScopeNode> = tx
        .azure_scopes()?
        .into_iter()
        .filter(|n| n.display_name.eq_ignore_ascii_case(text) || n.scope.name().eq_ignore_ascii_case(text))
        .collect();
    match matches.len() {
        1 => Ok(matches.into_iter().next().expect("one match")),
        0 => {
            Err(ApiError::new(404, ErrorCode::ResourceNotFound, format!("No Azure scope is named '{text}'."))
                .with_detail(
                    "ScopeNotFound",
                    "scope",
                    "give its path, or the display name of a scope of the lab's Azure estate",
                ))
        }
        n => {
            Err(ApiError::new(400, ErrorCode::AmbiguousName, format!("{n} Azure scopes are named '{text}'."))
                .with_detail(
                    "AmbiguousName",
                    "scope",
                    matches.iter().map(|m| m.scope.path().to_string()).collect::<Vec<_>>().join(", "),
                ))
        }
    }
}

/// `scope`'s ancestors, nearest first, up to the tenant root.
pub(crate) fn ancestors(tx: &Tx<'_>, scope: &AzureScopeNode) -> Result<Vec<AzureScopeNode>, ApiError> {
    let mut out = Vec::new();
    let mut at = scope.parent.clone();
    while let Some(p) = at {
        let n = node(tx, &p)?;
        at = n.parent.clone();
        out.push(n);
        if out.len() > 64 {
            return Err(ApiError::internal(format!("the Azure scope tree loops above {}", scope.scope)));
        }
    }
    Ok(out)
}

/// The tenant root management group, as a new tenant's tree holds it.
pub(crate) fn tenant_root(tenant_id: &str, at: crate::model::Timestamp) -> AzureScopeNode {
    AzureScopeNode {
        scope: AzureScope::tenant_root(tenant_id),
        display_name: TENANT_ROOT_NAME.to_string(),
        parent: None,
        created_at: at,
    }
}

impl Engine {
    /// Adds a scope to the lab's Azure estate (administrators only).
    pub fn add_azure_scope(
        &mut self,
        session: &Session,
        new: NewAzureScope,
    ) -> Result<AzureScopeNode, ApiError> {
        self.write(|tx, ctx| {
            require_admin(tx, session, "Adding Azure scopes")?;
            let scope = parse_scope(&new.path)?;
            if let Some(existing) = tx.azure_scope(&scope)? {
                return Err(ApiError::new(
                    409,
                    ErrorCode::ScopeExists,
                    format!("The Azure scope '{}' already exists.", existing.scope.path()),
                ));
            }
            let parent = match (scope.path_parent(), &new.parent) {
                (Some(by_path), None) => node(tx, &by_path)?,
                (Some(_), Some(_)) => {
                    return Err(ApiError::bad_request(
                        "parent",
                        format!("a {}'s parent is in its path; give a parent only for a management group or a subscription", scope.kind()),
                    ));
                }
                (None, Some(parent)) => resolve(tx, parent)?,
                (None, None) => node(tx, &AzureScope::tenant_root(&ctx.tenant_id))?,
            };
            if parent.scope.kind() != AzureScopeKind::ManagementGroup && scope.path_parent().is_none() {
                return Err(ApiError::bad_request(
                    "parent",
                    format!("a {} goes under a management group, not under {} '{}'", scope.kind(), parent.scope.kind(), parent.scope),
                ));
            }
            let display_name = new.display_name.clone().map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
            super::validate::check_length("displayName", display_name.as_deref(), super::fidelity::MAX_DISPLAY_NAME)?;
            let node = AzureScopeNode {
                display_name: display_name.unwrap_or_else(|| scope.name().to_string()),
                scope,
                parent: Some(parent.scope),
                created_at: ctx.now,
            };
            tx.insert_azure_scope(&node)?;
            let target = crate::model::audit::AuditTarget {
                id: node.scope.path().to_string(),
                kind: node.scope.kind().as_str().to_string(),
                display_name: Some(node.display_name.clone()),
            };
            let row = Entry::new(tx, ctx, &session.caller, Activity::AzureScopeAdded(node.scope.kind()), About::Targets(vec![target]))?;
            Ok((node, Audit::of(row)))
        })
    }

    /// The node of `scope`, or ARM's 404 for it.
    pub fn azure_scope_at(&mut self, scope: &AzureScope) -> Result<AzureScopeNode, ApiError> {
        self.read(|tx, _| node(tx, scope))
    }

    /// Every scope of the estate, in the order added (the root first).
    pub fn azure_scopes(&mut self) -> Result<Vec<AzureScopeNode>, ApiError> {
        self.read(|tx, _| Ok(tx.azure_scopes()?))
    }

    /// One scope (by path or name), with its ancestors (nearest first) and its children.
    pub fn azure_scope(
        &mut self,
        text: &str,
    ) -> Result<(AzureScopeNode, Vec<AzureScopeNode>, Vec<AzureScopeNode>), ApiError> {
        self.read(|tx, _| {
            let n = resolve(tx, text)?;
            let up = ancestors(tx, &n)?;
            let down = tx.azure_children(&n.scope)?;
            Ok((n, up, down))
        })
    }
}
