//! The settings of Azure roles, one policy per (scope, role) pair (arm-pim reference §2.2, §3):
//! read (stored, or Azure's defaults), changed in the portal's terms or rule by rule, replaced
//! rule by rule as ARM's PATCH does (§3.6), and reset to the defaults. Changing them needs a role
//! that may manage role settings at the scope or above it (§2.4).

use serde_json::Value;

use super::audit::{About, Activity, Audit, Entry};
use super::azure_access::{AzureAdminAction, require_azure_admin, scope_and_ancestors};
use super::policies::{PolicyChange, apply_change, write_rules};
use super::{Engine, Session};
use crate::model::azure_scope::AzureScopeNode;
use crate::model::policy::{Policy, PolicyRule};
use crate::model::{ApiError, ErrorCode, RoleDefinition, Surface};
use crate::store::{AuditTarget, Tx};

/// The scope a change is made at, after checking the caller may change settings there.
fn scope_for_change(tx: &Tx<'_>, session: &Session, scope: &str) -> Result<AzureScopeNode, ApiError> {
    let chain = scope_and_ancestors(tx, scope)?;
    let keys: Vec<String> = chain.iter().map(|n| n.scope.key()).collect();
    let here = chain.into_iter().next().expect("a scope's chain starts with the scope");
    require_azure_admin(
        tx,
        session,
        AzureAdminAction::ManagePolicies,
        here.scope.path(),
        &keys,
        "Changing role settings",
    )?;
    Ok(here)
}

impl Engine {
    /// Changes the settings of Azure role `role` at `scope` (both as commands name them), as
    /// [`Engine::change_policy`] does; the pair's defaults are stored first if no one changed
    /// them before.
    pub fn change_azure_policy(
        &mut self,
        session: &Session,
        scope: &str,
        role: &str,
        change: &PolicyChange,
        patches: &[(String, Value)],
    ) -> Result<Vec<PolicyRule>, ApiError> {
        self.write(|tx, ctx| {
            let here = scope_for_change(tx, session, scope)?;
            let role = super::azure_access::azure_role_at(tx, role, &here)?;
            let policy = super::azure_access::stored_azure_policy(tx, &here, &role.id)?;
            apply_change(tx, ctx, session, policy, change, patches)
        })
    }

    /// Replaces rules of the policy of Azure role `role` at `scope` by id, as ARM's PATCH does:
    /// each rule sent whole, all of them or none. Returns the rules that changed.
    pub fn replace_azure_rules(
        &mut self,
        session: &Session,
        scope: &str,
        role: &str,
        rules: Vec<PolicyRule>,
    ) -> Result<Vec<PolicyRule>, ApiError> {
        self.write(|tx, ctx| {
            let here = scope_for_change(tx, session, scope)?;
            let role = super::azure_access::azure_role_at(tx, role, &here)?;
            let policy = super::azure_access::stored_azure_policy(tx, &here, &role.id)?;
            let mut changed = Vec::new();
            for (i, rule) in rules.into_iter().enumerate() {
                let current = policy.rule(rule.id()).ok_or_else(|| {
                    ApiError::new(400, ErrorCode::InvalidPolicy, "The policy is invalid.").with_detail(
                        "InvalidRuleId",
                        format!("properties.rules[{i}].id"),
                        format!("'{}' is not a rule of this policy", rule.id()),
                    )
                })?;
                if *current != rule && !changed.iter().any(|r: &PolicyRule| r.id() == rule.id()) {
                    changed.push(rule);
                }
            }
            write_rules(tx, ctx, session, &policy, changed)
        })
    }

    /// Puts the settings of Azure role `role` at `scope` back to Azure's defaults. Returns whether
    /// anything was stored (false: the pair was at its defaults already).
    pub fn reset_azure_policy(
        &mut self,
        session: &Session,
        scope: &str,
        role: &str,
    ) -> Result<bool, ApiError> {
        self.write(|tx, ctx| {
            let here = scope_for_change(tx, session, scope)?;
            let role = super::azure_access::azure_role_at(tx, role, &here)?;
            let Some(stored) = tx.policy_for(Surface::AzureResource.as_str(), &here.scope.key(), &role.id)?
            else {
                return Ok((false, Audit::none("the role's settings were at their defaults")));
            };
            tx.delete_policy(&stored.id)?;
            let about = About::Targets(vec![
                AuditTarget {
                    id: role.id.clone(),
                    kind: "Role".into(),
                    display_name: Some(role.role_name.clone()),
                },
                AuditTarget {
                    id: stored.id.clone(),
                    kind: "Other".into(),
                    display_name: Some(format!("all rules reset at {}", here.scope.path())),
                },
            ]);
            let entry = Entry::new(tx, ctx, &session.caller, Activity::RoleSettingUpdated, about)?;
            Ok((true, Audit::of(entry)))
        })
    }

    /// The settings of Azure role `role` at `scope`: stored, or Azure's defaults.
    pub fn azure_policy(&mut self, scope: &str, role: &str) -> Result<(RoleDefinition, Policy), ApiError> {
        self.read(|tx, _| {
            let chain = scope_and_ancestors(tx, scope)?;
            let role = super::azure_access::azure_role_at(tx, role, &chain[0])?;
            let policy = super::azure_access::azure_policy(tx, &chain[0], &role.id)?;
            Ok((super::azure_access::as_definition(&role), policy))
        })
    }
}
