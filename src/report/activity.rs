//! `report activity`: what happened to privilege over a period, grouped by role, principal or
//! day: activations, refusals and denials, approvals and how long they took, the most holders at
//! once, and hours of standing against just-in-time privilege.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveTime};
use serde::Serialize;

use super::chain::Named;
use super::history::{History, Period, Verdict};
use crate::engine::Engine;
use crate::model::time::IsoDuration;
use crate::model::{ApiError, Timestamp};

/// What the rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum GroupBy {
    Role,
    Principal,
    /// Each UTC day of the period.
    Day,
}

impl GroupBy {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Role => "role",
            GroupBy::Principal => "principal",
            GroupBy::Day => "day",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityReport {
    #[serde(flatten)]
    pub period: Period,
    pub by: GroupBy,
    pub rows: Vec<ActivityRow>,
    /// The whole period (its peak is the most active holdings at once, of any role).
    pub total: ActivityRow,
}

/// One role, principal or day.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityRow {
    /// The role's or principal's name, or the day (`2025-01-06`).
    pub key: String,
    /// The role's or principal's id (none for a day or the total).
    pub id: Option<String>,
    /// Activation requests made (selfActivate), whatever became of them.
    pub activations: usize,
    /// Requests the service refused (each left only its audit row).
    pub refused: usize,
    /// Requests an approver denied.
    pub denied: usize,
    /// Requests an approver approved, and how long they waited (ISO 8601).
    pub approved: usize,
    pub approval_wait: Option<Wait>,
    /// The most active holdings at once: for a role its holders, for a principal its roles, for
    /// a day or the total every (principal, role) pair.
    pub peak_holders: usize,
    /// Hours of active assignments made standing (assigned) and just in time (activated).
    pub standing_hours: f64,
    pub jit_hours: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wait {
    pub min: String,
    pub median: String,
    pub max: String,
}

/// One holding: principal, role, scope, and whether it was activated.
type HoldingKey = (String, String, String, bool);
/// A stretch of time, `[from, to)`.
type Span = (Timestamp, Timestamp);

/// What one row adds up before it is a row.
#[derive(Default)]
struct Tally {
    label: String,
    id: Option<String>,
    activations: usize,
    refused: usize,
    denied: usize,
    waits: Vec<i64>,
    /// Active holdings (merged per principal, role, scope and kind), for the peak.
    active: Vec<(Timestamp, Timestamp)>,
    standing_ms: i64,
    jit_ms: i64,
}

impl Tally {
    fn add_interval(&mut self, from: Timestamp, to: Timestamp, activated: bool) {
        let ms = (to - from).num_milliseconds();
        if activated {
            self.jit_ms += ms;
        } else {
            self.standing_ms += ms;
        }
        self.active.push((from, to));
    }

    fn row(mut self) -> ActivityRow {
        self.waits.sort_unstable();
        let iso = |ms: i64| IsoDuration::from_delta(Duration::milliseconds(ms)).to_string();
        let approval_wait = (!self.waits.is_empty()).then(|| {
            let n = self.waits.len();
            let median =
                if n % 2 == 1 { self.waits[n / 2] } else { (self.waits[n / 2 - 1] + self.waits[n / 2]) / 2 };
            Wait { min: iso(self.waits[0]), median: iso(median), max: iso(self.waits[n - 1]) }
        });
        ActivityRow {
            key: self.label,
            id: self.id,
            activations: self.activations,
            refused: self.refused,
            denied: self.denied,
            approved: self.waits.len(),
            approval_wait,
            peak_holders: peak(&self.active),
            standing_hours: hours(self.standing_ms),
            jit_hours: hours(self.jit_ms),
        }
    }
}

/// Hours to two decimals (so the same store always prints the same number).
fn hours(ms: i64) -> f64 {
    (ms as f64 / 36_000.0).round() / 100.0
}

/// The most intervals that overlap at one instant; one ending as another starts do not overlap.
pub(super) fn peak(intervals: &[(Timestamp, Timestamp)]) -> usize {
    let mut edges: Vec<(Timestamp, i32)> = Vec::with_capacity(intervals.len() * 2);
    for (from, to) in intervals {
        edges.push((*from, 1));
        edges.push((*to, -1));
    }
    // At one instant, ends before starts.
    edges.sort_unstable();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    usize::try_from(most).unwrap_or(0)
}

/// Overlapping or touching intervals joined, in order.
fn merged(mut v: Vec<(Timestamp, Timestamp)>) -> Vec<(Timestamp, Timestamp)> {
    v.sort_unstable();
    let mut out: Vec<(Timestamp, Timestamp)> = Vec::new();
    for (from, to) in v {
        match out.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => out.push((from, to)),
        }
    }
    out
}

fn day_of(t: Timestamp) -> Timestamp {
    t.date_naive().and_time(NaiveTime::MIN).and_utc()
}

/// The row of a role, a principal, or the day of an instant (made when first needed).
fn row_of<'m>(
    rows: &'m mut BTreeMap<String, Tally>,
    by: GroupBy,
    role: Option<&Named>,
    who: Option<&Named>,
    at: Timestamp,
) -> Option<&'m mut Tally> {
    let (key, label, id) = match by {
        GroupBy::Role => role.map(|r| (r.id.clone(), r.name.clone(), Some(r.id.clone())))?,
        GroupBy::Principal => who.map(|p| (p.id.clone(), p.name.clone(), Some(p.id.clone())))?,
        GroupBy::Day => {
            let k = day_of(at).format("%Y-%m-%d").to_string();
            (k.clone(), k, None)
        }
    };
    Some(rows.entry(key).or_insert_with(|| Tally { label, id, ..Tally::default() }))
}

pub fn activity(
    engine: &mut Engine,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    by: GroupBy,
) -> Result<ActivityReport, ApiError> {
    let h = History::read(engine, since, until)?;
    let period = h.period;
    let mut rows: BTreeMap<String, Tally> = BTreeMap::new();
    let mut total = Tally { label: "total".into(), ..Tally::default() };
    if by == GroupBy::Day {
        let mut d = day_of(period.since);
        while d < period.until {
            let key = d.format("%Y-%m-%d").to_string();
            rows.insert(key.clone(), Tally { label: key, ..Tally::default() });
            d += Duration::days(1);
        }
    }
    for a in &h.asked {
        let counts = |t: &mut Tally| {
            t.activations += usize::from(a.is_activation());
            match &a.decision {
                Some(d) if d.verdict == Verdict::Denied => t.denied += 1,
                Some(d) if d.verdict == Verdict::Approved => {
                    t.waits.push((d.at - a.created).num_milliseconds())
                }
                _ => {}
            }
        };
        counts(&mut total);
        if let Some(t) = row_of(&mut rows, by, Some(&a.role), Some(&a.principal), a.created) {
            counts(t);
        }
    }
    for r in &h.refused {
        total.refused += 1;
        if let Some(t) =
            row_of(&mut rows, by, r.role.as_ref(), Some(r.principal.as_ref().unwrap_or(&r.actor)), r.at)
        {
            t.refused += 1;
        }
    }
    // Active assignments, joined per holding first, so that a schedule and the one that replaced
    // it are not counted twice.
    let mut holdings: BTreeMap<HoldingKey, (usize, Vec<Span>)> = BTreeMap::new();
    for (i, held) in h.held.iter().enumerate().filter(|(_, x)| x.is_active_assignment()) {
        let Some(span) = period.clip(held.start, held.end) else { continue };
        let key = (held.principal.id.clone(), held.role.id.clone(), held.scope.clone(), held.activated);
        holdings.entry(key).or_insert_with(|| (i, Vec::new())).1.push(span);
    }
    for (i, spans) in holdings.into_values() {
        let held = &h.held[i];
        for (from, to) in merged(spans) {
            total.add_interval(from, to, held.activated);
            if by == GroupBy::Day {
                let mut d = day_of(from);
                while d < to {
                    let next = d + Duration::days(1);
                    if let Some(t) = row_of(&mut rows, by, None, None, d) {
                        t.add_interval(from.max(d), to.min(next), held.activated);
                    }
                    d = next;
                }
            } else if let Some(t) = row_of(&mut rows, by, Some(&held.role), Some(&held.principal), from) {
                t.add_interval(from, to, held.activated);
            }
        }
    }
    let mut rows: Vec<ActivityRow> = rows.into_values().map(Tally::row).collect();
    if by != GroupBy::Day {
        // A role or principal the period only named (an eligibility made) has nothing to count.
        rows.retain(|r| r.activations + r.refused + r.denied + r.approved + r.peak_holders > 0);
        rows.sort_by(|a, b| (&a.key, &a.id).cmp(&(&b.key, &b.id)));
    }
    Ok(ActivityReport { period, by, rows, total: total.row() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::parse_timestamp;
    use proptest::prelude::*;

    fn t(h: i64) -> Timestamp {
        parse_timestamp("2025-01-06T00:00:00Z").expect("a time") + Duration::hours(h)
    }

    #[test]
    fn one_ending_as_another_starts_is_not_a_peak_of_two() {
        assert_eq!(peak(&[(t(0), t(2)), (t(2), t(4))]), 1);
        assert_eq!(peak(&[(t(0), t(3)), (t(2), t(4)), (t(1), t(5))]), 3);
        assert_eq!(peak(&[]), 0);
    }

    #[test]
    fn hours_keep_two_decimals() {
        assert_eq!(hours(90 * 60 * 1000), 1.5);
        assert_eq!(hours(60 * 1000), 0.02);
    }

    proptest! {
        /// The peak of intervals is what counting at every start gives, and joining a holding's
        /// intervals never covers more or less time than they did.
        #[test]
        fn the_sweep_agrees_with_counting_at_each_start(raw in prop::collection::vec((0i64..50, 1i64..20), 0..12)) {
            let v: Vec<(Timestamp, Timestamp)> = raw.iter().map(|(a, l)| (t(*a), t(a + l))).collect();
            let brute = v.iter().map(|(s, _)| v.iter().filter(|(a, b)| a <= s && s < b).count()).max().unwrap_or(0);
            prop_assert_eq!(peak(&v), brute);
            let covered = |w: &[(Timestamp, Timestamp)]| (0..80).filter(|h| w.iter().any(|(a, b)| *a <= t(*h) && t(*h) < *b)).count();
            let m = merged(v.clone());
            prop_assert_eq!(covered(&m), covered(&v));
            prop_assert!(m.windows(2).all(|p| p[0].1 < p[1].0));
        }
    }
}
