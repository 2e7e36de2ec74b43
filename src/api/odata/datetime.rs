//! How a `$filter` reads a date-time: shared by the lexer (is this literal a valid date-time?)
//! and the evaluator (do these two strings compare chronologically?), so both agree.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};

/// Parses an RFC 3339 date-time, a date (`2025-01-01`, midnight UTC) or a date-time without
/// offset (taken as UTC).
pub(super) fn parse_datetime(text: &str) -> Option<DateTime<FixedOffset>> {
    let bytes = text.as_bytes();
    if bytes.len() < 10 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt);
    }
    if bytes.len() == 10 {
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        return Some(date.and_time(NaiveTime::MIN).and_utc().fixed_offset());
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|dt| dt.and_utc().fixed_offset())
}
