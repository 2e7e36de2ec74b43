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
    parse_exact(text).map(|t| t.trunc_subsecs(3))
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

/// Reads a duration as a human: "8h", "30m", "90d", or any ISO 8601 form. Used by the CLI and clock.
/// The longest duration is the same as [`IsoDuration::parse`]'s.
pub fn parse_human_duration(text: &str) -> Result<IsoDuration, String> {
    let t = text.trim();
    if t.to_ascii_uppercase().starts_with('P') {
        return IsoDuration::parse(t);
    }
    let not_a_duration =
        || format!("'{text}' is not a duration (expected ISO 8601 such as PT8H or P30D, or 8h, 30m, 90d)");
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    if num.is_empty() {
        return Err(not_a_duration());
    }
    let unit_millis = match unit.trim().to_ascii_lowercase().as_str() {
        "m" | "min" | "mins" | "minutes" => 60_000,
        "h" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => DAY_MILLIS,
        "w" | "week" | "weeks" => 7 * DAY_MILLIS,
        _ => return Err(not_a_duration()),
    };
    // Checked: the digits can say more than an i64 of milliseconds holds.
    num.parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_millis))
        .filter(|millis| *millis <= MAX_MILLIS)
        .map(|millis| IsoDuration { millis })
        .ok_or_else(|| {
            format!("'{text}' is not a duration (too long: the longest is {} days)", MAX_MILLIS / DAY_MILLIS)
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
