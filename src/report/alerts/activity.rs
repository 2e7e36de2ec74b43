//! The activation alerts: eligible administrators who do not activate (no activation of a
//! privileged role within the configured time, eligible at least that long), and roles activated
//! too frequently (as many activations of one role by one principal as the threshold, within the
//! configured interval, over the look-back).

use std::collections::BTreeMap;

use super::tenant::Tenant;
use super::{Fix, Found, Incident};
use crate::model::alerts::AlertSettings;
use crate::model::ids::derived_guid;
use crate::model::policy::{EXPIRATION_END_USER_ASSIGNMENT, PolicyRule};
use crate::model::time::format_timestamp;
use crate::model::{IsoDuration, RequestKind, Timestamp};

pub(super) fn redundant(t: &Tenant<'_>, s: &AlertSettings) -> Found {
    let window = s.duration("duration");
    let since = t.f.now.checked_sub_signed(window.as_delta()).unwrap_or(t.f.now);
    let mut incidents = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for h in t.holdings() {
        let sch = h.schedule;
        let role = sch.role_definition_id.as_str();
        if sch.kind != RequestKind::Eligibility || !t.is_privileged(role) || sch.start() > since {
            continue;
        }
        let last = t.f.last_activation.get(&(h.principal.to_string(), role.to_string())).copied();
        if last.is_some_and(|l| l > since) || !seen.insert((h.principal, role)) {
            continue;
        }
        let why = match last {
            Some(l) => format!(
                "{}; last activated {}, not since (within {window})",
                t.describe(&h),
                format_timestamp(l)
            ),
            None => format!("{}; never activated", t.describe(&h)),
        };
        let mut i =
            Incident::new(derived_guid(&format!("redundant\0{}\0{role}", h.principal)), why, t.fix_for(&h));
        i.principal = Some(t.named(h.principal));
        i.role = Some(t.role(role));
        i.scope = Some(Tenant::scope(sch));
        i.via_group = h.via.map(|g| t.named(g));
        i.last_activation = last;
        incidents.push(i);
    }
    let measured = format!(
        "{} eligible holding(s) of privileged roles without an activation in {window}",
        incidents.len()
    );
    Found { measured, incidents }
}

/// The most activations within `interval` of one another in `times` (sorted): how many, from when
/// to when.
pub fn busiest_window(times: &[Timestamp], interval: IsoDuration) -> (usize, Timestamp, Timestamp) {
    let mut best = (0, Timestamp::MIN_UTC, Timestamp::MIN_UTC);
    let mut first = 0;
    for (last, t) in times.iter().enumerate() {
        while (*t - times[first]) > interval.as_delta() {
            first += 1;
        }
        if last + 1 - first > best.0 {
            best = (last + 1 - first, times[first], *t);
        }
    }
    best
}

/// The role's maximum activation duration, and a longer one to propose (twice, at most a day).
fn activation_max(t: &Tenant<'_>, role: &str) -> (IsoDuration, IsoDuration) {
    let from =
        t.f.policies
            .get(role)
            .and_then(|p| {
                p.rules.iter().find_map(|r| match r {
                    PolicyRule::Expiration(e) if e.id == EXPIRATION_END_USER_ASSIGNMENT => {
                        Some(e.maximum_duration)
                    }
                    _ => None,
                })
            })
            .unwrap_or(IsoDuration::from_hours(8));
    let to = IsoDuration::from_delta(from.as_delta() * 2).min(IsoDuration::from_hours(24)).max(from);
    (from, to)
}

pub(super) fn sequential(t: &Tenant<'_>, s: &AlertSettings) -> Found {
    let threshold = s.get("sequentialActivationCounterThreshold") as usize;
    let interval = s.duration("timeIntervalBetweenActivations");
    let mut by_target: BTreeMap<(&str, &str), Vec<Timestamp>> = BTreeMap::new();
    for (p, r, at) in &t.f.recent_activations {
        if t.is_privileged(r) {
            by_target.entry((p.as_str(), r.as_str())).or_default().push(*at);
        }
    }
    let mut incidents = Vec::new();
    for ((p, r), times) in by_target {
        let (count, start, end) = busiest_window(&times, interval);
        if count < threshold {
            continue;
        }
        let role = t.role(r);
        let (from, to) = activation_max(t, r);
        let mut i = Incident::new(
            derived_guid(&format!("sequential\0{p}\0{r}")),
            format!(
                "activated {count} times between {} and {} (within {interval}); activations last at most {from}",
                format_timestamp(start),
                format_timestamp(end)
            ),
            Fix::LengthenActivation { role: role.name.clone(), from, to },
        );
        i.principal = Some(t.named(p));
        i.role = Some(role);
        i.scope = Some("/".to_string());
        i.activation_count = Some(count);
        i.sequence_start = Some(start);
        i.sequence_end = Some(end);
        incidents.push(i);
    }
    let measured = format!(
        "{} principal and role pair(s) with {threshold} or more activations within {interval}",
        incidents.len()
    );
    Found { measured, incidents }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::from_millis;
    use proptest::prelude::*;

    proptest! {
        /// The busiest window agrees with counting, for every activation, those within the
        /// interval from it.
        #[test]
        fn the_busiest_window_is_the_brute_force_count(mut minutes in proptest::collection::vec(0i64..600, 1..40), interval in 1i64..120) {
            minutes.sort_unstable();
            let times: Vec<Timestamp> = minutes.iter().map(|m| from_millis(m * 60_000)).collect();
            let (count, start, end) = busiest_window(&times, IsoDuration::from_minutes(interval));
            let brute = minutes.iter().map(|a| minutes.iter().filter(|b| **b >= *a && **b - *a <= interval).count()).max().unwrap();
            prop_assert_eq!(count, brute);
            prop_assert!(end >= start && (end - start) <= IsoDuration::from_minutes(interval).as_delta());
        }
    }
}
