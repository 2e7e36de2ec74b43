//! ISO 8601 durations as EasyPIM reads them (reference §3.2): policy durations with years and
//! months (fixed lengths, see `fidelity`), zero values dropped; assignment durations with the
//! `P<n>M` = minutes rewrite (quirk 4).

use chrono::TimeDelta;

use super::body::Kind;
use super::fidelity::{DAYS_PER_MONTH, DAYS_PER_YEAR};
use crate::model::IsoDuration;

/// Parses `P[nY][nM][nW][nD][T[nH][nM][nS]]` (integers, seconds may have a fraction) into a fixed
/// length, years and months counted as `DAYS_PER_YEAR` and `DAYS_PER_MONTH` days.
pub fn parse(text: &str) -> Result<IsoDuration, String> {
    let bad = |why: &str| format!("'{text}' is not an ISO 8601 duration ({why}; e.g. PT8H, P30D, P1Y)");
    let upper = text.trim().to_ascii_uppercase();
    let rest = upper.strip_prefix('P').ok_or_else(|| bad("it must start with P"))?;
    if rest.is_empty() || rest == "T" {
        return Err(bad("it has no amount"));
    }
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, t),
        Some(_) => return Err(bad("T with no time amount")),
        None => (rest, ""),
    };
    let mut millis: f64 = 0.0;
    for (part, units) in [
        (
            date,
            &[
                ('Y', DAYS_PER_YEAR as f64 * 86_400_000.0),
                ('M', DAYS_PER_MONTH as f64 * 86_400_000.0),
                ('W', 604_800_000.0),
                ('D', 86_400_000.0),
            ][..],
        ),
        (time, &[('H', 3_600_000.0), ('M', 60_000.0), ('S', 1_000.0)][..]),
    ] {
        let mut number = String::new();
        let mut next_unit = 0;
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            let at = units[next_unit..]
                .iter()
                .position(|(u, _)| *u == c)
                .ok_or_else(|| bad(&format!("'{c}' is unknown or out of order here")))?;
            let value: f64 = number.parse().map_err(|_| bad(&format!("no number before '{c}'")))?;
            if number.contains('.') && c != 'S' {
                return Err(bad("only seconds may have a fraction"));
            }
            millis += value * units[next_unit + at].1;
            next_unit += at + 1;
            number.clear();
        }
        if !number.is_empty() {
            return Err(bad("a number has no designator"));
        }
    }
    // Longer than pimlab's clock can represent: refused rather than overflowed.
    if !millis.is_finite() || millis > 9_000_000.0 * 86_400_000.0 {
        return Err(bad("too long"));
    }
    Ok(IsoDuration::from_delta(TimeDelta::milliseconds(millis.round() as i64)))
}

/// A policy duration: `None` for a zero one (the orchestrator drops those with a warning).
/// For Entra roles and groups, `P<n>Y` is sent as `P<365n>D`, which is what a fixed length is.
pub fn policy_duration(text: &str, _kind: Kind, key: &str) -> Result<Option<IsoDuration>, String> {
    let d = parse(text).map_err(|e| format!("{key}: {e}"))?;
    Ok((d.as_millis() > 0).then_some(d))
}

/// An assignment's `duration`: a bare `P<n>H`, `P<n>M` or `P<n>S` is rewritten to `PT<n>...`
/// first, so `P6M` is six **minutes** (quirk 4). The flag says whether the rewrite happened.
pub fn assignment_duration(text: &str) -> Result<(IsoDuration, bool), String> {
    let upper = text.trim().to_ascii_uppercase();
    if let Some(rest) = upper.strip_prefix('P') {
        let digits = rest.trim_end_matches(['H', 'M', 'S']);
        if !rest.contains('T')
            && rest.len() == digits.len() + 1
            && !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit())
        {
            return Ok((parse(&format!("PT{rest}"))?, true));
        }
    }
    Ok((parse(text)?, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_months_and_the_minutes_quirk() {
        assert_eq!(parse("P1Y").unwrap(), IsoDuration::from_days(365));
        assert_eq!(parse("P1M").unwrap(), IsoDuration::from_days(30));
        assert_eq!(parse("P1DT2H30M").unwrap().to_string(), "P1DT2H30M");
        assert_eq!(assignment_duration("P6M").unwrap(), (IsoDuration::from_minutes(6), true));
        assert!(!assignment_duration("P1Y6M").unwrap().1);
        assert_eq!(assignment_duration("PT8H").unwrap(), (IsoDuration::from_hours(8), false));
        assert!(parse("P").is_err());
        assert!(parse("PT").is_err());
        assert!(parse("P1H").is_err());
        assert!(parse("PD").is_err());
        assert_eq!(policy_duration("PT0S", Kind::Entra, "k").unwrap(), None);
    }
}
