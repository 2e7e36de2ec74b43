//! The policy phase (reference §8.3): each entry's target found in the store, protected roles
//! skipped (§5.4), the drift computed against the live policy, and the change made through the
//! engine's own policy operations. A refused change fails that policy alone.

use std::collections::HashMap;

use serde_json::Value;

use super::body::Kind;
use super::config::{GroupRef, PolicyEntry, Target};
use super::report::{PolicyResult, PolicyStatus};
use super::rules;
use crate::engine::{Engine, PolicyChange, Session};
use crate::model::policy::{Policy, PolicyRule};
use crate::model::{ApiError, PrincipalKind};

/// Entra roles whose policy is never changed (since orchestrator 1.4.8).
pub const ALWAYS_PROTECTED: [&str; 1] = ["Global Administrator"];
/// Roles whose policy is changed only with `--allow-protected-roles`.
pub const PROTECTED_ENTRA: [&str; 3] =
    ["Privileged Role Administrator", "Security Administrator", "User Access Administrator"];
pub const PROTECTED_AZURE: [&str; 2] = ["Owner", "User Access Administrator"];

/// Where a policy lives, once found.
enum Found {
    Entra { policy: Policy },
    Azure { scope: String, role: String, policy: Policy },
    Group { policy: Policy },
}

impl Found {
    fn policy(&self) -> &Policy {
        match self {
            Found::Entra { policy } | Found::Azure { policy, .. } | Found::Group { policy } => policy,
        }
    }
}

/// Runs every policy entry; `what_if` reports drift and counts each as Skipped, as EasyPIM's
/// WhatIf does (the change is still made inside the discarded trial, so that assignments see it).
pub fn run(
    engine: &mut Engine,
    session: &Session,
    entries: &[PolicyEntry],
    what_if: bool,
    allow_protected: bool,
) -> Result<Vec<PolicyResult>, ApiError> {
    let mut out = Vec::new();
    for entry in entries {
        out.push(one(engine, session, entry, what_if, allow_protected)?);
    }
    Ok(out)
}

fn one(
    engine: &mut Engine,
    session: &Session,
    entry: &PolicyEntry,
    what_if: bool,
    allow_protected: bool,
) -> Result<PolicyResult, ApiError> {
    let mut result = PolicyResult {
        origin: entry.origin.clone(),
        name: match &entry.template {
            Some(t) => format!("{} (template {t})", describe(&entry.target)),
            None => describe(&entry.target),
        },
        status: PolicyStatus::Applied,
        drift: Vec::new(),
        error: None,
    };
    if let Some(status) = protection(&entry.target, allow_protected) {
        result.status = status;
        return Ok(result);
    }
    let found = match find(engine, &entry.target) {
        Ok(f) => f,
        Err(e) if e.status >= 500 => return Err(e),
        Err(e) => {
            result.status = PolicyStatus::SkippedRoleNotFound;
            result.error = Some(e.message);
            return Ok(result);
        }
    };
    let kinds = approver_kinds(engine, entry)?;
    let kind_of = |id: &str| kinds.get(&id.to_ascii_lowercase()).copied();
    let changed = match rules::changed_rules(&entry.body, found.policy(), entry.target.kind(), &kind_of) {
        Ok(c) => c,
        Err(problem) => {
            result.status = PolicyStatus::Failed;
            result.error = Some(problem);
            return Ok(result);
        }
    };
    result.drift = rules::drift(found.policy(), &changed);
    if !changed.is_empty() {
        if let Err(e) = write(engine, session, &found, changed) {
            if e.status >= 500 {
                return Err(e);
            }
            result.status = PolicyStatus::Failed;
            result.error = Some(format!("{}: {}", e.code, e.message));
            return Ok(result);
        }
    }
    if what_if {
        result.status = PolicyStatus::Skipped;
    }
    Ok(result)
}

/// The protected roles' policies are skipped whatever the file says.
fn protection(target: &Target, allow: bool) -> Option<PolicyStatus> {
    let (name, list): (&str, &[&str]) = match target {
        Target::Entra { role } => (role, &PROTECTED_ENTRA),
        Target::Azure { role, .. } => (role, &PROTECTED_AZURE),
        Target::Group { .. } => return None,
    };
    let is = |l: &[&str]| l.iter().any(|p| p.eq_ignore_ascii_case(name.trim()));
    if matches!(target, Target::Entra { .. }) && is(&ALWAYS_PROTECTED) {
        return Some(PolicyStatus::ProtectedAlwaysSkipped);
    }
    (is(list) && !allow).then_some(PolicyStatus::ProtectedNoChanges)
}

/// What a policy entry is about, in words.
pub fn describe(target: &Target) -> String {
    match target {
        Target::Entra { role } => format!("Entra role '{role}'"),
        Target::Azure { role, scope } => format!("Azure role '{role}' at {scope}"),
        Target::Group { group, access } => {
            let g = match group {
                GroupRef::Id(id) => id.clone(),
                GroupRef::Name(n) => format!("'{n}'"),
            };
            format!("group {g} {}", access.as_deref().unwrap_or("(no role)"))
        }
    }
}

fn find(engine: &mut Engine, target: &Target) -> Result<Found, ApiError> {
    match target {
        Target::Entra { role } => {
            let role = engine.resolve_role(role)?;
            Ok(Found::Entra { policy: engine.policy_for_role(&role.id)? })
        }
        Target::Azure { role, scope } => {
            let (definition, policy) = engine.azure_policy(scope, role)?;
            Ok(Found::Azure { scope: scope.clone(), role: definition.id, policy })
        }
        Target::Group { group, access } => {
            let id = group_id(engine, group)?;
            let access = access.as_deref().unwrap_or("member");
            let policies = engine.group_policies(&id)?;
            let policy = policies
                .into_iter()
                .find(|p| p.role_definition_id.eq_ignore_ascii_case(access))
                .ok_or_else(|| ApiError::internal(format!("group {id} has no {access} policy")))?;
            Ok(Found::Group { policy })
        }
    }
}

/// A group policy's group: by id, or by exact display name (first match), as EasyPIM resolves it.
pub fn group_id(engine: &mut Engine, group: &GroupRef) -> Result<String, ApiError> {
    match group {
        GroupRef::Id(id) => Ok(id.clone()),
        GroupRef::Name(name) => {
            let groups = engine.objects(PrincipalKind::Group)?;
            groups.into_iter().find(|g| g.display_name == *name).map(|g| g.id).ok_or_else(|| {
                ApiError::new(
                    404,
                    crate::model::ErrorCode::ResourceNotFound,
                    format!("no group is named '{name}'"),
                )
            })
        }
    }
}

/// The directory kind of each approver id the entry names (Azure sends untyped ones as found).
fn approver_kinds(
    engine: &mut Engine,
    entry: &PolicyEntry,
) -> Result<HashMap<String, PrincipalKind>, ApiError> {
    let mut kinds = HashMap::new();
    if entry.target.kind() == Kind::Azure {
        for a in entry.body.approvers.iter().flatten() {
            if let Some(o) = engine.object(&a.id)? {
                kinds.insert(a.id.to_ascii_lowercase(), o.kind);
            }
        }
    }
    Ok(kinds)
}

fn write(
    engine: &mut Engine,
    session: &Session,
    found: &Found,
    changed: Vec<PolicyRule>,
) -> Result<(), ApiError> {
    let patches = |rules: &[PolicyRule]| -> Vec<(String, Value)> {
        rules.iter().map(|r| (r.id().to_string(), serde_json::to_value(r).unwrap_or_default())).collect()
    };
    match found {
        Found::Entra { policy } => {
            engine.change_policy(session, &policy.id, &PolicyChange::default(), &patches(&changed))?;
        }
        Found::Azure { scope, role, .. } => {
            engine.replace_azure_rules(session, scope, role, changed)?;
        }
        Found::Group { policy } => {
            engine.change_group_policy(session, &policy.id, &PolicyChange::default(), &patches(&changed))?;
        }
    }
    Ok(())
}
