//! Cleanup (reference §8.4, the documented table, which is the contract): each assignment the
//! store holds in a category the configuration declares is Kept, Protected, Skipped, reported
//! WouldRemove, or (initial mode) Removed through an admin removal request.

use super::Mode;
use super::assignments::Assignment;
use super::holdings::{Holding, Place, holdings, place};
use super::report::{CleanupItem, CleanupResult, Verdict};
use crate::engine::{Engine, Session};
use crate::model::{Action, ApiError, NewRequest, RequestKind, Surface};

/// Roles whose assignments cleanup never removes.
pub const PROTECTED_ROLES: [&str; 4] = [
    "Global Administrator",
    "Privileged Role Administrator",
    "Security Administrator",
    "User Access Administrator",
];

pub fn run(
    engine: &mut Engine,
    session: &Session,
    desired: &[Assignment],
    protected_users: &[String],
    mode: Mode,
    what_if: bool,
) -> Result<CleanupResult, ApiError> {
    // The desired assignments that name something the store has (others cannot match anything).
    let mut wanted: Vec<(Place, String, bool)> = Vec::new();
    for a in desired {
        if let Ok(p) = place(engine, &a.target) {
            wanted.push((p, a.principal.to_ascii_lowercase(), a.active));
        }
    }
    let mut items = Vec::new();
    for surface in [Surface::Directory, Surface::AzureResource, Surface::Group] {
        let declared: Vec<&(Place, String, bool)> =
            wanted.iter().filter(|w| w.0.surface == surface).collect();
        if declared.is_empty() {
            continue;
        }
        for h in holdings(engine, surface)? {
            if h.is_activation() || !declared.iter().any(|w| w.2 == h.active) {
                continue;
            }
            // Azure: only at the scopes the configuration names (and what they inherit);
            // groups: only the groups it names.
            let inherited_scope = match surface {
                Surface::Directory => false,
                Surface::AzureResource => match examined(engine, &h, &declared)? {
                    None => continue,
                    Some(inherited) => inherited,
                },
                Surface::Group => {
                    if !declared.iter().any(|w| w.0.scope.eq_ignore_ascii_case(h.scope())) {
                        continue;
                    }
                    false
                }
            };
            let role_name = role_name(engine, &h)?;
            let mut item = CleanupItem {
                surface,
                active: h.active,
                principal: h.schedule.principal_id.clone(),
                role: role_name.clone(),
                scope: h.scope().to_string(),
                verdict: Verdict::Kept,
                error: None,
            };
            item.verdict = if declared.iter().any(|w| {
                w.2 == h.active
                    && w.1.eq_ignore_ascii_case(&h.schedule.principal_id)
                    && w.0.same(surface, &h.schedule.role_definition_id, h.scope())
            }) {
                Verdict::Kept
            } else if protected_users.iter().any(|p| p.eq_ignore_ascii_case(&h.schedule.principal_id))
                || PROTECTED_ROLES.iter().any(|r| r.eq_ignore_ascii_case(&role_name))
            {
                Verdict::Protected
            } else if h.inherited() || inherited_scope {
                Verdict::Skipped("inherited".into())
            } else if mode == Mode::Delta {
                Verdict::WouldRemove
            } else if surface == Surface::Directory && item.scope != "/" {
                Verdict::Skipped("removal at an administrative unit is not implemented".into())
            } else {
                // Initial mode removes; under --what-if the removal runs in the discarded trial,
                // so the preview shows exactly what the real run removes (and what it cannot).
                match remove(engine, session, &h) {
                    Ok(()) if what_if => Verdict::WouldRemove,
                    Ok(()) => Verdict::Removed,
                    Err(e) if e.status >= 500 => return Err(e),
                    Err(e) => {
                        item.error = Some(format!("{}: {}", e.code, e.message));
                        Verdict::Failed
                    }
                }
            };
            items.push(item);
        }
    }
    Ok(CleanupResult { desired: desired.len(), items })
}

/// For an Azure assignment: `None` when it is at no scope the configuration examines; else
/// whether it is inherited there (held at an ancestor of a declared scope).
fn examined(
    engine: &mut Engine,
    h: &Holding,
    declared: &[&(Place, String, bool)],
) -> Result<Option<bool>, ApiError> {
    let scope = h.scope();
    if declared.iter().any(|w| w.0.scope.eq_ignore_ascii_case(scope)) {
        return Ok(Some(false));
    }
    for w in declared {
        let (_, ancestors) = engine_ancestors(engine, &w.0.scope)?;
        if ancestors.iter().any(|a| a.eq_ignore_ascii_case(scope)) {
            return Ok(Some(true));
        }
    }
    Ok(None)
}

/// The paths above an Azure scope.
fn engine_ancestors(engine: &mut Engine, scope: &str) -> Result<(String, Vec<String>), ApiError> {
    let (node, chain, _) = engine.azure_scope(scope)?;
    Ok((node.scope.path().to_string(), chain.iter().map(|n| n.scope.path().to_string()).collect()))
}

fn role_name(engine: &mut Engine, h: &Holding) -> Result<String, ApiError> {
    let id = &h.schedule.role_definition_id;
    Ok(match h.schedule.surface {
        Surface::Directory => engine.resolve_role(id).map(|r| r.display_name).unwrap_or_else(|_| id.clone()),
        Surface::AzureResource => engine.azure_role(id).map(|r| r.role_name).unwrap_or_else(|_| id.clone()),
        Surface::Group => id.clone(),
    })
}

fn remove(engine: &mut Engine, session: &Session, h: &Holding) -> Result<(), ApiError> {
    let req = NewRequest {
        surface: h.schedule.surface,
        kind: if h.active { RequestKind::Assignment } else { RequestKind::Eligibility },
        action: Action::AdminRemove,
        principal_id: h.schedule.principal_id.clone(),
        role_definition_id: h.schedule.role_definition_id.clone(),
        directory_scope_id: Some(h.scope().to_string()),
        app_scope_id: None,
        justification: Some("Removed by the EasyPIM orchestrator (initial mode)".into()),
        schedule_info: None,
        ticket_info: None,
        is_validation_only: false,
    };
    engine.submit(session, &req)?;
    Ok(())
}
