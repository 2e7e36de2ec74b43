//! Roles that do not require MFA on activation: the end-user enablement rule of a privileged
//! role's policy lacks `MultiFactorAuthentication` (an authentication context counts, see the
//! fidelity constants), for the roles someone is eligible for.

use std::collections::BTreeSet;

use super::tenant::Tenant;
use super::{Fix, Found, Incident};
use crate::model::RequestKind;
use crate::model::alerts::fidelity::{AUTH_CONTEXT_COUNTS_AS_MFA, NO_MFA_ONLY_WITH_ELIGIBLE};
use crate::model::policy::{
    AUTHENTICATION_CONTEXT_END_USER_ASSIGNMENT, ENABLEMENT_END_USER_ASSIGNMENT, Policy, PolicyRule,
};

/// Whether activating under `policy` needs MFA, and the end-user enablement rules it has.
pub(super) fn requires_mfa(policy: &Policy) -> (bool, Vec<String>) {
    let mut enabled = Vec::new();
    let mut mfa = false;
    for rule in policy.rules.iter() {
        match rule {
            PolicyRule::Enablement(r) if r.id == ENABLEMENT_END_USER_ASSIGNMENT => {
                mfa |= r.enabled_rules.iter().any(|v| v.eq_ignore_ascii_case("MultiFactorAuthentication"));
                enabled = r.enabled_rules.clone();
            }
            PolicyRule::AuthenticationContext(r) if r.id == AUTHENTICATION_CONTEXT_END_USER_ASSIGNMENT => {
                mfa |= AUTH_CONTEXT_COUNTS_AS_MFA && r.is_enabled;
            }
            _ => {}
        }
    }
    (mfa, enabled)
}

pub(super) fn found(t: &Tenant<'_>) -> Found {
    let roles: BTreeSet<&str> = if NO_MFA_ONLY_WITH_ELIGIBLE {
        t.grants()
            .filter(|s| s.kind == RequestKind::Eligibility)
            .map(|s| s.role_definition_id.as_str())
            .collect()
    } else {
        t.f.roles.iter().map(|r| r.id.as_str()).collect()
    };
    let mut incidents = Vec::new();
    let mut checked = 0;
    for role in roles.into_iter().filter(|r| t.is_privileged(r)) {
        let Some(policy) = t.f.policies.get(role) else { continue };
        checked += 1;
        let (mfa, enabled) = requires_mfa(policy);
        if mfa {
            continue;
        }
        let rules = if enabled.is_empty() { "none".to_string() } else { enabled.join(", ") };
        let named = t.role(role);
        let mut i = Incident::new(
            role.to_string(),
            format!("activation needs no MFA (its activation requirements: {rules})"),
            Fix::RequireMfa { role: named.name.clone() },
        );
        i.role = Some(named);
        i.scope = Some("/".to_string());
        incidents.push(i);
    }
    let measured = format!(
        "{} of {checked} privileged role(s) with eligible members activate without MFA",
        incidents.len()
    );
    Found { measured, incidents }
}
