//! Role settings: show a role's policy, change it with the portal's switches or a raw rule patch.

use super::args::*;
use super::outcome::Outcome;
use super::{Access, body_text};
use crate::engine::{Engine, PolicyChange, Session};
use crate::model::ApiError;

pub(super) fn policy(
    engine: &mut Engine,
    session: &Session,
    action: &PolicyAction,
    access: Access,
) -> Result<Outcome, ApiError> {
    match action {
        PolicyAction::Show(a) => {
            if let Some(group) = &a.group {
                let (role, policy) = group_policy(engine, group, &a.role)?;
                return Ok(Outcome::Policy { role, policy });
            }
            if let Some(scope) = azure(engine, a.scope.as_deref())? {
                let (role, policy) = engine.azure_policy(&scope, &a.role)?;
                return Ok(Outcome::Policy { role, policy });
            }
            let role = engine.role(&a.role)?;
            let policy = engine.policy_for_role(&role.id)?;
            Ok(Outcome::Policy { role, policy })
        }
        PolicyAction::Set(a) => set(engine, session, a, access),
    }
}

/// A group's member or owner settings, with the relationship as the role they are about.
fn group_policy(
    engine: &mut Engine,
    group: &str,
    access: &str,
) -> Result<(crate::model::RoleDefinition, crate::model::policy::Policy), ApiError> {
    let (group, role) = engine.group_access(group, access)?;
    let policy = engine.group_policies(&group.id)?.into_iter().find(|p| p.role_definition_id == role.id);
    let policy = policy
        .ok_or_else(|| ApiError::internal(format!("group '{}' has no {} policy", group.id, role.id)))?;
    Ok((role, policy))
}

/// The Azure scope a policy command names, if it names one; a directory role's settings have no
/// scope (they are the tenant's).
fn azure(engine: &mut Engine, scope: Option<&str>) -> Result<Option<String>, ApiError> {
    match scope {
        None => Ok(None),
        Some(s) => super::azure_scope(engine, s)?.map(Some).ok_or_else(|| {
            ApiError::bad_request(
                "scope",
                format!("'{s}' is not an Azure scope; a directory role's settings are the tenant's and take no --scope"),
            )
        }),
    }
}

/// `policy set`: also how a replay changes its fork's settings.
pub(super) fn set(
    engine: &mut Engine,
    session: &Session,
    a: &PolicySetArgs,
    access: Access,
) -> Result<Outcome, ApiError> {
    let azure_scope = azure(engine, a.scope.as_deref())?;
    let mut patches = Vec::new();
    if let (Some(rule_id), Some(body)) = (&a.rule, &a.body) {
        let patch = crate::api::body::parse_object(&body_text(body, access)?)?;
        patches.push((rule_id.clone(), serde_json::Value::Object(patch)));
    }
    let approvers = if a.clear_approvers {
        Some(Vec::new())
    } else if a.approvers.is_empty() {
        None
    } else {
        Some(a.approvers.iter().map(|p| engine.resolve_object(p).map(|o| o.id)).collect::<Result<_, _>>()?)
    };
    let change = PolicyChange {
        activation_max: a.activation_max,
        require_mfa: a.require_mfa,
        require_justification: a.require_justification,
        require_ticket: a.require_ticket,
        require_approval: a.require_approval,
        approvers,
        require_auth_context: a
            .require_auth_context
            .as_ref()
            .map(|c| if c.eq_ignore_ascii_case("none") { None } else { Some(c.clone()) }),
        allow_permanent_eligible: a.allow_permanent_eligible,
        eligible_max: a.eligible_max,
        allow_permanent_active: a.allow_permanent_active,
        active_max: a.active_max,
        require_justification_on_assign: a.require_justification_on_assign,
    };
    if patches.is_empty() && change.is_empty() {
        return Err(ApiError::usage("nothing to change: give at least one setting"));
    }
    if let Some(group) = &a.group {
        let (_, policy) = group_policy(engine, group, &a.role)?;
        let changed = engine.change_group_policy(session, &policy.id, &change, &patches)?;
        let (role, policy) = group_policy(engine, group, &a.role)?;
        return Ok(Outcome::PolicyChanged { role, changed, policy });
    }
    if let Some(scope) = azure_scope {
        let changed = engine.change_azure_policy(session, &scope, &a.role, &change, &patches)?;
        let (role, policy) = engine.azure_policy(&scope, &a.role)?;
        return Ok(Outcome::PolicyChanged { role, changed, policy });
    }
    let role = engine.role(&a.role)?;
    let policy = engine.policy_for_role(&role.id)?;
    let changed = engine.change_policy(session, &policy.id, &change, &patches)?;
    let policy = engine.policy_for_role(&role.id)?;
    Ok(Outcome::PolicyChanged { role, changed, policy })
}
