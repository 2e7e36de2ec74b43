//! The time axis: ticks at round instants, chosen by the period's span so that a few hours read
//! in hours, a week in days, a quarter in weeks (up to 13 of them) and longer in months, with at most
//! [`MOST_TICKS`] of them.

use chrono::{Datelike, Duration, NaiveTime, TimeZone, Utc};

use crate::model::Timestamp;

/// More ticks than this crowd their labels on a picture 1,200 pixels wide.
pub const MOST_TICKS: usize = 14;

/// A tick: where, and what its label says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    pub at: Timestamp,
    pub label: String,
}

fn midnight(t: Timestamp) -> Timestamp {
    t.date_naive().and_time(NaiveTime::MIN).and_utc()
}

/// The ticks inside `[since, until]`.
pub fn ticks(since: Timestamp, until: Timestamp) -> Vec<Tick> {
    let span = until - since;
    if span <= Duration::hours(48) {
        let step =
            [1, 2, 3, 6, 12, 24].into_iter().find(|h| span.num_hours() / h < MOST_TICKS as i64).unwrap_or(24);
        let first = midnight(since);
        every(first, Duration::hours(step), since, until, |t| {
            if t == midnight(t) { t.format("%a %d %b").to_string() } else { t.format("%H:%M").to_string() }
        })
    } else if span <= Duration::days(24) {
        let step = if span.num_days() < MOST_TICKS as i64 { 1 } else { 2 };
        every(midnight(since), Duration::days(step), since, until, |t| t.format("%a %d %b").to_string())
    } else if span <= Duration::weeks(13) {
        let d = midnight(since);
        let monday = d - Duration::days(i64::from(d.weekday().num_days_from_monday()));
        every(monday, Duration::weeks(1), since, until, |t| t.format("%d %b").to_string())
    } else {
        months(since, until)
    }
}

fn every(
    first: Timestamp,
    step: Duration,
    since: Timestamp,
    until: Timestamp,
    label: impl Fn(Timestamp) -> String,
) -> Vec<Tick> {
    let mut out = Vec::new();
    let mut t = first;
    while t <= until {
        if t >= since {
            out.push(Tick { at: t, label: label(t) });
        }
        t += step;
    }
    out
}

/// The first of every month (or every few months, for a long span).
fn months(since: Timestamp, until: Timestamp) -> Vec<Tick> {
    let count = |y: i32, m: u32| i64::from(y) * 12 + i64::from(m) - 1;
    let total = count(until.year(), until.month()) - count(since.year(), since.month());
    let step = [1, 2, 3, 6, 12, 24, 60, 120, 600, 1200, 6000]
        .into_iter()
        .find(|s| total / s < MOST_TICKS as i64)
        .unwrap_or(12_000);
    let mut out = Vec::new();
    let mut n = count(since.year(), since.month());
    n -= n % step;
    let end = count(until.year(), until.month());
    while n <= end {
        let (y, m) = (n.div_euclid(12), n.rem_euclid(12) + 1);
        let at = i32::try_from(y)
            .ok()
            .and_then(|y| Utc.with_ymd_and_hms(y, u32::try_from(m).unwrap_or(1), 1, 0, 0, 0).single());
        if let Some(at) = at.filter(|t| *t >= since && *t <= until) {
            out.push(Tick { at, label: at.format("%b %Y").to_string() });
        }
        n += step;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::parse_timestamp;
    use proptest::prelude::*;

    fn t(text: &str) -> Timestamp {
        parse_timestamp(text).expect("a time")
    }

    #[test]
    fn the_span_chooses_hours_days_weeks_or_months() {
        let labels = |a, b| ticks(t(a), t(b)).into_iter().map(|k| k.label).collect::<Vec<_>>();
        assert_eq!(
            labels("2025-01-06T09:00:00Z", "2025-01-06T13:00:00Z"),
            ["09:00", "10:00", "11:00", "12:00", "13:00"]
        );
        assert_eq!(
            labels("2025-01-06T09:00:00Z", "2025-01-09T09:00:00Z"),
            ["Tue 07 Jan", "Wed 08 Jan", "Thu 09 Jan"]
        );
        assert_eq!(labels("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z")[0], "06 Jan");
        assert_eq!(labels("2025-01-01T00:00:00Z", "2025-12-01T00:00:00Z")[..2], ["Jan 2025", "Feb 2025"]);
    }

    proptest! {
        /// Whatever the span (a minute to a thousand years), the ticks lie inside it, in order,
        /// and there are never more than the picture has room for.
        #[test]
        fn ticks_are_few_in_order_and_inside(start in 0i64..4_000_000_000_000, len in 60_000i64..30_000_000_000_000) {
            let since = crate::model::time::from_millis(start);
            let until = crate::model::time::from_millis(start + len);
            let all = ticks(since, until);
            prop_assert!(all.len() <= MOST_TICKS, "{} ticks", all.len());
            prop_assert!(all.iter().all(|k| k.at >= since && k.at <= until));
            prop_assert!(all.windows(2).all(|w| w[0].at < w[1].at));
        }
    }
}
