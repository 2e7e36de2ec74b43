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
                    if !add.is_finite() || add > 1.0e15 {
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

/// Reads a duration as a human: "8h", "30m", "90d", or any ISO 8601 form. Used by the CLI and clock.
pub fn parse_human_duration(text: &str) -> Result<IsoDuration, String> {
    let t = text.trim();
    if t.to_ascii_uppercase().starts_with('P') {
        return IsoDuration::parse(t);
    }
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: i64 = num.parse().map_err(|_| {
        format!("'{text}' is not a duration (expected ISO 8601 such as PT8H or P30D, or 8h, 30m, 90d)")
    })?;
    match unit.trim().to_ascii_lowercase().as_str() {
        "m" | "min" | "mins" | "minutes" => Ok(IsoDuration::from_minutes(n)),
        "h" | "hour" | "hours" => Ok(IsoDuration::from_hours(n)),
        "d" | "day" | "days" => Ok(IsoDuration::from_days(n)),
        "w" | "week" | "weeks" => Ok(IsoDuration::from_days(7 * n)),
        _ => Err(format!(
            "'{text}' is not a duration (expected ISO 8601 such as PT8H or P30D, or 8h, 30m, 90d)"
        )),
    }
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
    fn timestamps_accept_offsets_and_format_in_utc() {
        let t = parse_timestamp("2025-01-06T10:00:00+01:00").unwrap();
        assert_eq!(format_timestamp(t), "2025-01-06T09:00:00Z");
        let t = parse_timestamp("2024-05-08T07:31:02.4419478Z").unwrap();
        assert_eq!(format_timestamp(t), "2024-05-08T07:31:02.441Z", "kept to the store's millisecond");
        assert_eq!(format_timestamp(parse_timestamp("2025-02-01").unwrap()), "2025-02-01T00:00:00Z");
        assert!(parse_timestamp("yesterday").unwrap_err().contains("'yesterday'"));
    }
}
