//! The count alerts: too many Global Administrators (a count and a share of all role holdings,
//! both reached), and too many privileged role holders (pimlab's own). A holding is a principal
//! holding or eligible for a role in effect; a group's members count in its place.

use std::collections::{BTreeMap, BTreeSet};

use super::tenant::{Holding, Tenant};
use super::{Found, Incident};
use crate::model::alerts::AlertSettings;
use crate::model::builtin_roles::GLOBAL_ADMINISTRATOR;
use crate::model::ids::derived_guid;

/// One incident per principal and role (its first holding of it).
fn incidents<'a>(
    t: &Tenant<'_>,
    kind: &str,
    holdings: impl Iterator<Item = &'a Holding<'a>>,
) -> Vec<Incident> {
    let mut first: BTreeMap<(&str, &str), &Holding<'_>> = BTreeMap::new();
    for h in holdings {
        first.entry((h.principal, h.schedule.role_definition_id.as_str())).or_insert(h);
    }
    first
        .into_iter()
        .map(|((p, r), h)| {
            let mut i =
                Incident::new(derived_guid(&format!("{kind}\0{p}\0{r}")), t.describe(h), t.fix_for(h));
            i.principal = Some(t.named(p));
            i.role = Some(t.role(r));
            i.scope = Some(Tenant::scope(h.schedule));
            i.via_group = h.via.map(|g| t.named(g));
            i
        })
        .collect()
}

/// The numbers the Global Administrator alert compares: Global Administrators (principals), and
/// holdings (distinct principal and role pairs) of Global Administrator and of every role.
pub fn global_admin_counts(t: &Tenant<'_>) -> (usize, usize, usize) {
    let holdings = t.holdings();
    let pairs: BTreeSet<(&str, &str)> =
        holdings.iter().map(|h| (h.principal, h.schedule.role_definition_id.as_str())).collect();
    let ga = pairs.iter().filter(|(_, r)| *r == GLOBAL_ADMINISTRATOR).count();
    (ga, ga, pairs.len())
}

pub(super) fn global_admins(t: &Tenant<'_>, s: &AlertSettings) -> Found {
    let (admins, ga_pairs, all_pairs) = global_admin_counts(t);
    let count = s.get("globalAdminCountThreshold");
    let percent = s.get("percentageOfGlobalAdminsOutOfRolesThreshold");
    let share = if all_pairs == 0 { 0.0 } else { ga_pairs as f64 * 100.0 / all_pairs as f64 };
    // Both must be reached (the real alert's two criteria); compared in whole numbers.
    let fires = admins as i64 >= count && (ga_pairs as i64) * 100 >= percent * all_pairs as i64 && admins > 0;
    let measured = format!(
        "{admins} Global Administrator(s), {share:.0}% of {all_pairs} role holding(s) (fires at {count} and {percent}%)"
    );
    let holdings = t.holdings();
    let incidents = if fires {
        incidents(
            t,
            "tooManyGlobalAdmins",
            holdings.iter().filter(|h| h.schedule.role_definition_id == GLOBAL_ADMINISTRATOR),
        )
    } else {
        Vec::new()
    };
    Found { measured, incidents }
}

pub(super) fn privileged_holders(t: &Tenant<'_>, s: &AlertSettings) -> Found {
    let holdings = t.holdings();
    let privileged: Vec<&Holding<'_>> =
        holdings.iter().filter(|h| t.is_privileged(&h.schedule.role_definition_id)).collect();
    let principals: BTreeSet<&str> = privileged.iter().map(|h| h.principal).collect();
    let count = s.get("privilegedRoleHolderCountThreshold");
    let fires = !principals.is_empty() && principals.len() as i64 >= count;
    let measured = format!(
        "{} principal(s) hold or are eligible for privileged roles (fires at {count})",
        principals.len()
    );
    let incidents =
        if fires { incidents(t, "tooManyPrivileged", privileged.into_iter()) } else { Vec::new() };
    Found { measured, incidents }
}
