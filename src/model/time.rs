//! Points in time and ISO 8601 durations, in the forms Microsoft Graph reads and writes.
//!
//! Graph accepts `DateTimeOffset` values with `Z` or an offset and returns them in UTC with `Z`;
//! durations are `Edm.Duration` (xsd `dayTimeDuration`): days, hours, minutes and seconds. Calendar
//! units (years, months) have no fixed length, so we refuse them rather than guess.

use std::fmt;

use chrono::{DateTime, SecondsFormat, SubsecRound, TimeDelta, Utc};

/// A point on the simulated timeline, always UTC.
pub type Timestamp = DateTime<Utc>;

/// Parses an RFC 3339 / ISO 8601 date-time with `Z` or an offset; a bare date means midnight UTC.
/// Kept to the millisecond, the store's precision, so what a response echoes is what a later read
/// returns.
pub fn parse_timestamp(text: &str) -> Result<Timestamp, String> {
    let t = parse_exact(text)?;
    // chrono keeps a leap second as a 60th second made of nanoseconds past 1e9; .NET's
    // DateTimeOffset (what Graph parses with) has no such second and refuses it.
    if t.timestamp_subsec_nanos() >= 1_000_000_000 {
        return Err(format!("'{text}' names a leap second (second 60), which is not a valid time here"));
    }
    let t = t.trunc_subsecs(3);
    if t < earliest() || t > latest() {
        return Err(format!(
            "'{text}' is outside the times Graph represents ({} to {})",
            format_timestamp(earliest()),
            format_timestamp(latest())
        ));
    }
    Ok(t)
}

/// The earliest time Graph's `DateTimeOffset` represents: 0001-01-01T00:00:00Z.
pub fn earliest() -> Timestamp {
    chrono::NaiveDate::from_ymd_opt(1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MIN_UTC, |t| t.and_utc())
}

/// [`latest`] in the store's milliseconds since the Unix epoch.
pub const LATEST_MILLIS: i64 = 253_402_300_799_999;

/// The latest time Graph's `DateTimeOffset` represents, to the store's millisecond:
/// 9999-12-31T23:59:59.999Z. The clock never passes it, and a time plus the longest duration
/// pimlab reads stays well inside chrono's range, so date arithmetic cannot overflow.
pub fn latest() -> Timestamp {
    from_millis(LATEST_MILLIS)
}

/// `t + d`, or `None` past [`latest`].
pub fn checked_add(t: Timestamp, d: IsoDuration) -> Option<Timestamp> {
    t.checked_add_signed(d.as_delta()).filter(|r| *r <= latest())
}

fn parse_exact(text: &str) -> Result<Timestamp, String> {
    let trimmed = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(trimmed) {
        return Ok(t.with_timezone(&Utc));
    }
    // .NET writes seven fractional digits and sometimes omits the zone; accept the zone-less form as UTC.
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(t.and_utc());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(trimmed, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    Err(format!(
        "'{text}' is not an ISO 8601 date-time (expected e.g. 2025-01-06T09:00:00Z or 2025-01-06T10:00:00+01:00)"
    ))
}

/// Formats a timestamp as Graph does: UTC, `Z`, fractional seconds only when present.
pub fn format_timestamp(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Milliseconds since the Unix epoch: the store's representation of time (sortable, indexable).
pub fn to_millis(t: Timestamp) -> i64 {
    t.timestamp_millis()
}

pub fn from_millis(ms: i64) -> Timestamp {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The longest duration the parsers read, in milliseconds: about 31,700 years. Far beyond any
/// policy or clock move, yet every millisecond up to it is exact in the `f64` arithmetic of
/// [`IsoDuration::parse`] (exact below 2^53), and a timestamp moved by it stays far inside chrono's
/// range. It bounds the whole duration, not each part, so the canonical form of anything read
/// (all of it written as days and less) reads back.
const MAX_MILLIS: i64 = 1_000_000_000_000_000;

const DAY_MILLIS: i64 = 86_400_000;

/// A non-negative ISO 8601 duration of fixed length (days, hours, minutes, seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoDuration {
    millis: i64,
}

impl IsoDuration {
    pub const fn from_minutes(m: i64) -> Self {
        IsoDuration { millis: m * 60_000 }
    }
    pub const fn from_hours(h: i64) -> Self {
        IsoDuration { millis: h * 3_600_000 }
    }
    pub const fn from_days(d: i64) -> Self {
        IsoDuration { millis: d * 86_400_000 }
    }
    pub fn from_delta(d: TimeDelta) -> Self {
        IsoDuration { millis: d.num_milliseconds().max(0) }
    }
    pub fn as_delta(self) -> TimeDelta {
        TimeDelta::milliseconds(self.millis)
    }
    pub fn as_millis(self) -> i64 {
        self.millis
    }

    /// Parses `P365D`, `PT8H`, `PT1H45M`, `P1DT2H30M15.5S`, `P2W`. Lower-case designators are accepted.
    /// Durations longer than about 31,700 years are refused; up to that, `parse(d.to_string())`
    /// gives `d` back.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            format!("'{text}' is not an ISO 8601 duration ({why}; expected e.g. PT8H, PT30M or P365D)")
        };
        let s = text.trim().to_ascii_uppercase();
        let rest = s.strip_prefix('P').ok_or_else(|| bad("it must start with P"))?;
        if rest.is_empty() || rest == "T" {
            return Err(bad("it has no amount"));
        }
        let mut millis: i64 = 0;
        let mut in_time = false;
        let mut number = String::new();
        let mut last_rank = 0;
        for c in rest.chars() {
            match c {
                '0'..='9' | '.' | ',' => number.push(if c == ',' { '.' } else { c }),
                'T' => {
                    if in_time || !number.is_empty() {
                        return Err(bad("misplaced T"));
                    }
                    in_time = true;
                }
                _ => {
                    if number.is_empty() {
                        return Err(bad(&format!("no number before '{c}'")));
                    }
                    let (unit_ms, rank): (f64, i32) = match (c, in_time) {
                        ('W', false) => (604_800_000.0, 1),
                        ('D', false) => (86_400_000.0, 2),
                        ('H', true) => (3_600_000.0, 3),
                        ('M', true) => (60_000.0, 4),
                        ('S', true) => (1_000.0, 5),
                        ('Y', false) | ('M', false) => {
                            return Err(bad("years and months have no fixed length; use days, e.g. P365D"));
                        }
                        ('H', false) | ('S', false) => {
                            return Err(bad(&format!("'{c}' needs a T before it, as in PT8H")));
                        }
                        _ => return Err(bad(&format!("unknown designator '{c}'"))),
                    };
                    if rank <= last_rank {
                        return Err(bad("designators out of order or repeated"));
                    }
                    last_rank = rank;
                    let value: f64 = number.parse().map_err(|_| bad("bad number"))?;
                    if number.contains('.') && c != 'S' {
                        return Err(bad("only seconds may have a fraction"));
                    }
                    let add = value * unit_ms;
                    if !add.is_finite() || millis as f64 + add > MAX_MILLIS as f64 {
                        return Err(bad("too long"));
                    }
                    millis += add.round() as i64;
                    number.clear();
                }
            }
        }
        if !number.is_empty() {
            return Err(bad("a number has no designator"));
        }
        if in_time && last_rank < 3 {
            return Err(bad("T with no time amount"));
        }
        Ok(IsoDuration { millis })
    }
}

impl serde::Serialize for IsoDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for IsoDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        IsoDuration::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for IsoDuration {
    /// Canonical form, as .NET serialises a `TimeSpan`: `P365D`, `PT8H`, `PT1H30M`, `P1DT2H`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.millis;
        let days = ms / 86_400_000;
        ms %= 86_400_000;
        let hours = ms / 3_600_000;
        ms %= 3_600_000;
        let minutes = ms / 60_000;
        ms %= 60_000;
        let seconds = ms / 1000;
        let frac = ms % 1000;
        write!(f, "P")?;
        if days > 0 {
            write!(f, "{days}D")?;
        }
        if hours > 0 || minutes > 0 || seconds > 0 || frac > 0 || days == 0 {
            write!(f, "T")?;
            if hours > 0 {
                write!(f, "{hours}H")?;
            }
            if minutes > 0 {
                write!(f, "{minutes}M")?;
            }
            if frac > 0 {
                let text = format!("{seconds}.{frac:03}");
                write!(f, "{}S", text.trim_end_matches('0'))?;
            } else if seconds > 0 || (days == 0 && hours == 0 && minutes == 0) {
                write!(f, "{seconds}S")?;
            }
        }
        Ok(())
    }
}

/// A duration as people type it on the command line and in scripts: ISO 8601 (`PT8H`, `P30D`), or
/// numbers with units from the largest to the smallest, each at most once (`8h`, `90d`, `1h30m`,
/// `2d 4h`, `1.5h`, `45s`; units `w`, `d`, `h`, `m`, `s` or their words). A fraction must come to
/// whole milliseconds. One parser for every surface but Graph, whose bodies take ISO 8601 only.
pub fn parse_human_duration(text: &str) -> Result<IsoDuration, String> {
    let t = text.trim();
    if t.to_ascii_uppercase().starts_with('P') {
        return IsoDuration::parse(t);
    }
    let not_a_duration = |why: &str| {
        format!(
            "'{text}' is not a duration ({why}; expected ISO 8601 such as PT8H or P30D, or 8h, 1h30m, 1.5h, 90d)"
        )
    };
    let too_long =
        || format!("'{text}' is not a duration (too long: the longest is {} days)", MAX_MILLIS / DAY_MILLIS);
    let mut rest = t;
    let mut total: i64 = 0;
    // The rank of the last unit read: each next one must be smaller.
    let mut last_rank = usize::MAX;
    if rest.is_empty() {
        return Err(not_a_duration("it is empty"));
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let (whole, after) = rest.split_at(digits);
        let (fraction, after) = match after.strip_prefix('.') {
            Some(f) => f.split_at(f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len())),
            None => ("", after),
        };
        if whole.is_empty() && fraction.is_empty() {
            return Err(not_a_duration("a number must come before each unit"));
        }
        let after = after.trim_start();
        let word_end = after.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(after.len());
        let (word, after) = after.split_at(word_end);
        let Some((rank, unit_millis)) = human_unit(word) else {
            return Err(not_a_duration(&if word.is_empty() {
                "a number without a unit".to_string()
            } else {
                format!("'{word}' is not a unit")
            }));
        };
        if last_rank != usize::MAX && rank <= last_rank {
            return Err(not_a_duration("units go from the largest to the smallest, each once"));
        }
        last_rank = rank;
        let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| too_long())? };
        let mut millis = whole.checked_mul(unit_millis).ok_or_else(too_long)?;
        if !fraction.is_empty() {
            // Exactly: the fraction's digits times the unit, over a power of ten.
            let scale = 10i128
                .checked_pow(fraction.len() as u32)
                .ok_or_else(|| not_a_duration("too many decimals"))?;
            let numerator: i128 =
                fraction.parse::<i128>().map_err(|_| not_a_duration("too many decimals"))?
                    * i128::from(unit_millis);
            if numerator % scale != 0 {
                return Err(not_a_duration("its fraction is not a whole number of milliseconds"));
            }
            let part = i64::try_from(numerator / scale).map_err(|_| too_long())?;
            millis = millis.checked_add(part).ok_or_else(too_long)?;
        }
        total = total.checked_add(millis).ok_or_else(too_long)?;
        rest = after.trim_start();
    }
    if total > MAX_MILLIS {
        return Err(too_long());
    }
    Ok(IsoDuration { millis: total })
}

/// A unit of [`parse_human_duration`]: its rank (0 the largest) and its length.
fn human_unit(word: &str) -> Option<(usize, i64)> {
    Some(match word.to_ascii_lowercase().as_str() {
        "w" | "week" | "weeks" => (0, 7 * DAY_MILLIS),
        "d" | "day" | "days" => (1, DAY_MILLIS),
        "h" | "hr" | "hrs" | "hour" | "hours" => (2, 3_600_000),
        "m" | "min" | "mins" | "minute" | "minutes" => (3, 60_000),
        "s" | "sec" | "secs" | "second" | "seconds" => (4, 1_000),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip_to_the_canonical_graph_form() {
        for (input, canonical) in [
            ("PT8H", "PT8H"),
            ("P365D", "P365D"),
            ("PT5H30M", "PT5H30M"),
            ("pt90m", "PT1H30M"),
            ("P1DT2H", "P1DT2H"),
            ("P2W", "P14D"),
            ("PT0S", "PT0S"),
            ("PT1.5S", "PT1.5S"),
            ("PT300S", "PT5M"),
        ] {
            assert_eq!(IsoDuration::parse(input).unwrap().to_string(), canonical, "{input}");
        }
    }

    #[test]
    fn durations_refuse_ambiguous_or_malformed_input_naming_it() {
        for bad in
            ["8H", "P", "PT", "P1Y", "P3M", "P8H", "PT8", "PTH", "P1DT", "PT1H2H", "PT2M1H", "P1.5D", "PX"]
        {
            let err = IsoDuration::parse(bad).unwrap_err();
            assert!(err.contains(&format!("'{bad}'")), "{err}");
        }
    }

    #[test]
    fn human_durations_accept_short_forms() {
        assert_eq!(parse_human_duration("8h").unwrap(), IsoDuration::from_hours(8));
        assert_eq!(parse_human_duration("30d").unwrap(), IsoDuration::from_days(30));
        assert_eq!(parse_human_duration("PT15M").unwrap(), IsoDuration::from_minutes(15));
        assert!(parse_human_duration("soon").is_err());
    }

    #[test]
    fn human_durations_take_several_units_and_fractions() {
        for (text, millis) in [
            ("1h30m", 90 * 60_000),
            ("1.5h", 90 * 60_000),
            ("2d 4h", 2 * DAY_MILLIS + 4 * 3_600_000),
            ("1w2d", 9 * DAY_MILLIS),
            ("45s", 45_000),
            ("1m30s", 90_000),
            ("0.25 hours", 15 * 60_000),
            (".5d", DAY_MILLIS / 2),
            ("1 hour 30 minutes", 90 * 60_000),
            ("1.5s", 1_500),
        ] {
            assert_eq!(parse_human_duration(text), Ok(IsoDuration { millis }), "{text}");
        }
        for (bad, why) in [
            ("30m1h", "largest to the smallest"),
            ("1h1h", "largest to the smallest"),
            ("1h30", "a number without a unit"),
            ("h", "a number must come before"),
            ("1.0001s", "not a whole number of milliseconds"),
            ("2 fortnights", "'fortnights' is not a unit"),
            ("1h-30m", "a number must come before"),
            ("", "it is empty"),
        ] {
            let err = parse_human_duration(bad).unwrap_err();
            assert!(err.contains(&format!("'{bad}'")) && err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn a_huge_human_duration_is_refused_not_an_overflow_panic() {
        // Found by the property tests: the number was multiplied unchecked, so
        // `clock advance 999999999999999999m` panicked in debug builds and wrapped to a
        // negative duration in release builds.
        for huge in ["999999999999999999m", "99999999999999999999d", "9223372036854775807w", "11574075d"] {
            let err = parse_human_duration(huge).unwrap_err();
            assert!(err.contains(&format!("'{huge}'")) && err.contains("too long"), "{err}");
        }
        assert_eq!(parse_human_duration("11574074d").unwrap(), IsoDuration::from_days(11_574_074));
    }

    #[test]
    fn every_duration_read_formats_to_text_that_reads_back() {
        // Found by the property tests: the limit applied to each part, so 1,653,439 weeks plus
        // 11,574,074 days was read, but its canonical form (23,148,147 days) was then refused.
        let err = IsoDuration::parse("P1653439W11574074D").unwrap_err();
        assert!(err.contains("too long"), "{err}");
        let longest = IsoDuration::parse("P11574074DT1H46M40S").unwrap();
        assert_eq!(longest.as_millis(), MAX_MILLIS);
        assert_eq!(IsoDuration::parse(&longest.to_string()).unwrap(), longest);
        assert!(IsoDuration::parse("P11574074DT1H46M40.001S").is_err());
    }

    #[test]
    fn timestamps_accept_offsets_and_format_in_utc() {
        let t = parse_timestamp("2025-01-06T10:00:00+01:00").unwrap();
        assert_eq!(format_timestamp(t), "2025-01-06T09:00:00Z");
        let t = parse_timestamp("2024-05-08T07:31:02.4419478Z").unwrap();
        assert_eq!(format_timestamp(t), "2024-05-08T07:31:02.441Z", "kept to the store's millisecond");
        assert_eq!(format_timestamp(parse_timestamp("2025-02-01").unwrap()), "2025-02-01T00:00:00Z");
        assert!(parse_timestamp("yesterday").unwrap_err().contains("'yesterday'"));
    }
}

/// Property tests of durations: the canonical form reads back to the same duration, every valid
/// spelling reads as the sum of its parts up to the longest duration and is refused past it, and
/// no text makes either parser panic.
#[cfg(test)]
mod properties {
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::select;
    use proptest::test_runner::Config;

    use super::*;

    /// 256 cases keep the suite fast in debug builds; `PROPTEST_CASES` asks for a deeper search.
    /// Failures are not persisted to files: each bug found becomes a named test in `tests`.
    fn config() -> Config {
        let cases = if std::env::var_os("PROPTEST_CASES").is_some() { Config::default().cases } else { 256 };
        Config { cases, failure_persistence: None, ..Config::default() }
    }

    /// Milliseconds spread over every magnitude, from zero to the longest duration.
    fn millis() -> impl Strategy<Value = i64> {
        prop_oneof![
            0i64..1000,
            0i64..DAY_MILLIS,
            0i64..(400 * DAY_MILLIS),
            0i64..=MAX_MILLIS,
            Just(MAX_MILLIS)
        ]
    }

    /// Whether `text` has the canonical form `P[nD][T[nH][nM][n[.fff]S]]`: amounts in range and
    /// without leading zeros, no zero amount except in `PT0S`, fractions without trailing zeros.
    fn is_canonical(text: &str) -> bool {
        if text == "PT0S" {
            return true;
        }
        let Some(rest) = text.strip_prefix('P') else { return false };
        let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
        let amount_ok = |n: &str, below: u64| {
            !n.starts_with('0')
                && n.bytes().all(|b| b.is_ascii_digit())
                && n.parse().is_ok_and(|v: u64| v < below)
        };
        let date_ok = date.is_empty() || date.strip_suffix('D').is_some_and(|n| amount_ok(n, u64::MAX));
        // A `T` is written exactly when a time amount follows it.
        let mut time_ok = rest.contains('T') != time.is_empty();
        let (mut rank, mut number) = (0, String::new());
        for c in time.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            let (this_rank, ok) = match (c, number.split_once('.')) {
                ('H', None) => (1, amount_ok(&number, 24)),
                ('M', None) => (2, amount_ok(&number, 60)),
                ('S', None) => (3, amount_ok(&number, 60)),
                ('S', Some((whole, frac))) => (
                    3,
                    (whole == "0" || amount_ok(whole, 60))
                        && (1..=3).contains(&frac.len())
                        && !frac.ends_with('0'),
                ),
                _ => (0, false),
            };
            time_ok &= ok && this_rank > rank;
            rank = this_rank;
            number.clear();
        }
        date_ok && time_ok && number.is_empty() && !rest.is_empty()
    }

    /// One duration written as ISO 8601 from random parts, in either case, with `.` or `,` before
    /// a fraction of a second, and the milliseconds it means. Each part is small, or anything up
    /// to a little more than the longest duration on its own, so sums fall on both sides of it.
    fn iso_text() -> impl Strategy<Value = (String, i64)> {
        let part = |unit_ms: i64| {
            let most = MAX_MILLIS / unit_ms;
            prop::option::of(prop_oneof![0..=100i64, 0..=(most + most / 5)])
        };
        let parts = (part(7 * DAY_MILLIS), part(DAY_MILLIS), part(3_600_000), part(60_000), part(1000));
        (parts, 0u32..1000, any::<bool>(), any::<bool>())
            .prop_filter("a duration has an amount", |((w, d, h, m, s), ..)| {
                w.is_some() || d.is_some() || h.is_some() || m.is_some() || s.is_some()
            })
            .prop_map(|((w, d, h, m, s), frac, lower, comma)| {
                let mut text = String::from("P");
                let mut ms = 0;
                let mut write = |amount: Option<i64>, unit: char, unit_ms: i64, text: &mut String| {
                    if let Some(n) = amount {
                        text.push_str(&format!("{n}{unit}"));
                        ms += n * unit_ms;
                    }
                };
                write(w, 'W', 7 * DAY_MILLIS, &mut text);
                write(d, 'D', DAY_MILLIS, &mut text);
                if h.is_some() || m.is_some() || s.is_some() {
                    text.push('T');
                }
                write(h, 'H', 3_600_000, &mut text);
                write(m, 'M', 60_000, &mut text);
                if let Some(n) = s {
                    text.push_str(&format!("{n}{}{frac:03}S", if comma { ',' } else { '.' }));
                    ms += n * 1000 + i64::from(frac);
                }
                (if lower { text.to_ascii_lowercase() } else { text }, ms)
            })
    }

    /// Text made of the pieces durations are written with, so that random input gets past the
    /// first character.
    fn duration_soup() -> impl Strategy<Value = String> {
        let short =
            ["P", "p", "T", "t", "0", "1", "7", "12", ".", ",", "W", "D", "H", "M", "S", "Y", "h", "d"];
        let more =
            [" ", "-", "+", "e5", "min", "days", "∞", "é", "99999999999999999999", "9223372036854775807"];
        vec(select(short.into_iter().chain(more).collect::<Vec<_>>()), 0..10)
            .prop_map(|pieces| pieces.concat())
    }

    /// The units of human durations, each with its length.
    const HUMAN_UNITS: [(&str, i64); 8] = [
        ("m", 60_000),
        ("min", 60_000),
        ("h", 3_600_000),
        ("Hours", 3_600_000),
        ("d", DAY_MILLIS),
        ("day", DAY_MILLIS),
        ("W", 7 * DAY_MILLIS),
        ("weeks", 7 * DAY_MILLIS),
    ];

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn a_formatted_duration_parses_back_to_itself(ms in millis()) {
            let d = IsoDuration { millis: ms };
            let text = d.to_string();
            prop_assert_eq!(IsoDuration::parse(&text), Ok(d), "formatted as {}", text);
            prop_assert_eq!(IsoDuration::parse(&text.to_ascii_lowercase()), Ok(d));
            prop_assert_eq!(parse_human_duration(&text), Ok(d));
        }

        #[test]
        fn the_format_is_canonical_and_one_to_one(ms in millis(), delta in 1i64..=DAY_MILLIS) {
            let text = IsoDuration { millis: ms }.to_string();
            prop_assert!(is_canonical(&text), "{} is not canonical", text);
            prop_assert_ne!(IsoDuration { millis: ms + delta }.to_string(), text);
        }

        #[test]
        fn an_iso_duration_reads_as_the_sum_of_its_parts((text, ms) in iso_text()) {
            let parsed = IsoDuration::parse(&text);
            if ms > MAX_MILLIS {
                prop_assert!(parsed.is_err(), "{} gave {:?}", text, parsed);
            } else {
                prop_assert_eq!(&parsed, &Ok(IsoDuration { millis: ms }), "{}", text);
                let canonical = parsed.as_ref().unwrap().to_string();
                prop_assert_eq!(IsoDuration::parse(&canonical), parsed, "{} read back as {}", text, canonical);
            }
        }

        #[test]
        fn a_human_duration_is_its_number_times_its_unit(
            n in prop_oneof![0i64..100_000, 0i64..=i64::MAX],
            unit in 0..HUMAN_UNITS.len(),
            gap in select(vec!["", " ", "  "]),
        ) {
            let (name, unit_ms) = HUMAN_UNITS[unit];
            let text = format!(" {n}{gap}{name} ");
            let parsed = parse_human_duration(&text);
            match n.checked_mul(unit_ms).filter(|ms| *ms <= MAX_MILLIS) {
                Some(ms) => prop_assert_eq!(parsed, Ok(IsoDuration { millis: ms }), "{}", text),
                None => prop_assert!(parsed.is_err(), "{} gave {:?}", text, parsed),
            }
        }

        #[test]
        fn a_compound_human_duration_is_the_sum_of_its_parts(
            parts in vec((0i64..1_000, 0usize..3, any::<bool>()), 1..5),
        ) {
            // Units from the largest down, each once: a random subset, in order.
            let names = [("w", 7 * DAY_MILLIS), ("d", DAY_MILLIS), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)];
            let mut text = String::new();
            let mut millis = 0;
            let mut next = 0;
            for (n, skip, spaced) in parts {
                let unit = next + skip;
                let Some((name, unit_ms)) = names.get(unit) else { break };
                text.push_str(&format!("{n}{}{name}{}", if spaced { " " } else { "" }, if spaced { " " } else { "" }));
                millis += n * unit_ms;
                next = unit + 1;
            }
            prop_assume!(!text.is_empty());
            prop_assert_eq!(parse_human_duration(&text), Ok(IsoDuration { millis }), "{}", text);
        }

        #[test]
        fn no_text_makes_the_duration_parsers_panic(text in prop_oneof![any::<String>(), duration_soup()]) {
            for d in [IsoDuration::parse(&text), parse_human_duration(&text)].into_iter().flatten() {
                prop_assert!((0..=MAX_MILLIS).contains(&d.as_millis()), "{} gave {:?}", text, d);
                prop_assert_eq!(IsoDuration::parse(&d.to_string()), Ok(d), "{} gave {:?}", text, d);
            }
        }
    }
}
