//! Potential stale accounts in privileged roles: an account holding or eligible for a privileged
//! role that has not signed in within the configured time. The store keeps no sign-ins; the last
//! act in the audit trail stands in (see `model::alerts::fidelity::STALE_PROXY`).

use std::collections::BTreeSet;

use super::tenant::Tenant;
use super::{Found, Incident};
use crate::model::alerts::AlertSettings;
use crate::model::ids::derived_guid;
use crate::model::time::format_timestamp;

pub(super) fn found(t: &Tenant<'_>, s: &AlertSettings) -> Found {
    let window = s.duration("duration");
    let since = t.f.now.checked_sub_signed(window.as_delta()).unwrap_or(t.f.now);
    let mut incidents = Vec::new();
    let mut seen = BTreeSet::new();
    for h in t.holdings() {
        let role = h.schedule.role_definition_id.as_str();
        if !t.is_privileged(role) || t.is_group(h.principal) || !seen.insert((h.principal, role)) {
            continue;
        }
        let created = t.f.objects.get(h.principal).map(|o| o.created_at);
        let last_act = t.f.last_acts.get(h.principal).copied();
        let seen_at = last_act.max(created);
        if seen_at.is_some_and(|at| at > since) {
            continue;
        }
        let why = match (last_act, created) {
            (Some(a), _) => {
                format!("{}; last signed in {} (not within {window})", t.describe(&h), format_timestamp(a))
            }
            (None, Some(c)) => {
                format!(
                    "{}; never signed in since the account was created {}",
                    t.describe(&h),
                    format_timestamp(c)
                )
            }
            (None, None) => format!("{}; never signed in", t.describe(&h)),
        };
        let mut i =
            Incident::new(derived_guid(&format!("stale\0{}\0{role}", h.principal)), why, t.fix_for(&h));
        i.principal = Some(t.named(h.principal));
        i.role = Some(t.role(role));
        i.scope = Some(Tenant::scope(h.schedule));
        i.via_group = h.via.map(|g| t.named(g));
        i.assignment_created = Some(h.schedule.created_at.unwrap_or(h.schedule.start()));
        i.last_sign_in = last_act;
        incidents.push(i);
    }
    let measured =
        format!("{} privileged holding(s) of accounts not signed in within {window}", incidents.len());
    Found { measured, incidents }
}
