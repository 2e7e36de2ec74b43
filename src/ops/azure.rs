//! The Azure estate: adding scopes, and reading the tree they form.

use super::args::*;
use super::outcome::{Outcome, ScopeTree};
use crate::engine::azure_scopes::NewAzureScope;
use crate::engine::{Engine, Session};
use crate::model::ApiError;
use crate::model::azure_scope::AzureScopeNode;

pub(super) fn scope(
    engine: &mut Engine,
    session: &Session,
    action: &ScopeAction,
) -> Result<Outcome, ApiError> {
    Ok(match action {
        ScopeAction::Add(a) => {
            let new = NewAzureScope {
                path: a.path.clone(),
                display_name: a.name.clone(),
                parent: a.parent.clone(),
            };
            Outcome::ScopeAdded(engine.add_azure_scope(session, new)?)
        }
        ScopeAction::List => {
            // In tree order: each scope followed by what is under it.
            let all = engine.azure_scopes()?;
            let mut rows = Vec::new();
            for root in all.iter().filter(|n| n.parent.is_none()) {
                flatten(tree(root, &all, 0), &mut rows);
            }
            Outcome::Scopes(rows)
        }
        ScopeAction::Show(a) => {
            let (node, ancestors, children) = engine.azure_scope(&a.scope)?;
            Outcome::Scope { node, ancestors, children }
        }
        ScopeAction::Tree(a) => {
            let all = engine.azure_scopes()?;
            let top = match &a.scope {
                Some(text) => engine.azure_scope(text)?.0,
                None => all.iter().find(|n| n.parent.is_none()).cloned().ok_or_else(|| {
                    ApiError::internal("the Azure estate has no tenant root management group")
                })?,
            };
            Outcome::ScopeTree(tree(&top, &all, 0))
        }
    })
}

fn flatten(t: ScopeTree, out: &mut Vec<AzureScopeNode>) {
    out.push(t.node);
    for c in t.children {
        flatten(c, out);
    }
}

/// `top` and everything under it, children by display name.
fn tree(top: &AzureScopeNode, all: &[AzureScopeNode], depth: usize) -> ScopeTree {
    let mut children: Vec<&AzureScopeNode> =
        all.iter().filter(|n| n.parent.as_ref().is_some_and(|p| p.key() == top.scope.key())).collect();
    children.sort_by_key(|n| (n.display_name.to_lowercase(), n.scope.key()));
    // The tree is as deep as ARM's hierarchy allows; the guard only stops a damaged store's loop.
    let children =
        if depth > 64 { Vec::new() } else { children.into_iter().map(|c| tree(c, all, depth + 1)).collect() };
    ScopeTree { node: top.clone(), children }
}
