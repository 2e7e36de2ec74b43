//! Two replays side by side (the baseline, policies unchanged, and the replay with the change):
//! which requests' outcomes differ, of what kind, with totals per kind and per role.

use serde::Serialize;

use super::fate::{Answer, Fate};
use crate::model::IsoDuration;
use crate::model::time::format_timestamp;

/// The kinds of change a report counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    /// Granted (or done) before, refused now.
    Refused,
    /// Granted at once before, waits for approval now.
    Waited,
    /// Granted both times, ending earlier now.
    Shortened,
    /// Granted both times, ending later now.
    Lengthened,
    /// Not granted before (refused, waiting, denied...), granted now.
    Granted,
    /// Any other difference.
    Other,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 6] = [
        ChangeKind::Refused,
        ChangeKind::Waited,
        ChangeKind::Shortened,
        ChangeKind::Lengthened,
        ChangeKind::Granted,
        ChangeKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Refused => "refused",
            ChangeKind::Waited => "waited",
            ChangeKind::Shortened => "shortened",
            ChangeKind::Lengthened => "lengthened",
            ChangeKind::Granted => "granted",
            ChangeKind::Other => "other",
        }
    }
}

/// The kind of change from `before` to `after`, if their outcomes differ.
pub(super) fn classify(before: &Fate, after: &Fate) -> Option<ChangeKind> {
    if before.same_as(after) {
        return None;
    }
    let never = |end: Option<crate::model::Timestamp>| end.map_or(i64::MAX, |t| t.timestamp_millis());
    let accepted = before.holds() || before.answer == Answer::Completed;
    Some(match (before.holds(), after.holds()) {
        _ if accepted && after.answer == Answer::Refused => ChangeKind::Refused,
        (true, _) if after.waited_from.is_some() && before.waited_from.is_none() => ChangeKind::Waited,
        (true, true) if never(after.end) < never(before.end) => ChangeKind::Shortened,
        (true, true) if never(after.end) > never(before.end) => ChangeKind::Lengthened,
        (false, true) => ChangeKind::Granted,
        _ => ChangeKind::Other,
    })
}

/// One line of explanation for a change, in the report's words.
pub(super) fn describe(
    kind: ChangeKind,
    before: &Fate,
    after: &Fate,
    until: crate::model::Timestamp,
    approver: Option<&str>,
) -> String {
    let span = |d: chrono::TimeDelta| IsoDuration::from_delta(d).to_string();
    let end = |f: &Fate| f.end.map_or("never".to_string(), format_timestamp);
    match kind {
        ChangeKind::Refused => refusal(after),
        ChangeKind::Waited => match (after.answer, after.waited()) {
            (Answer::Waiting, _) => format!(
                "would still be waiting at {} (history has no decision to replay)",
                format_timestamp(until)
            ),
            (Answer::Approved, Some(w)) => {
                format!("waited {} for approval by {}", span(w), approver.unwrap_or("an approver"))
            }
            (Answer::TimedOut, Some(w)) => {
                format!("waited {}, then the approval expired (history has no decision to replay)", span(w))
            }
            (Answer::Denied, Some(w)) => format!("waited {}, then denied", span(w)),
            (Answer::Canceled, Some(w)) => format!("waited {}, then cancelled", span(w)),
            (other, _) => format!("waited, then {}", answer_word(other)),
        },
        ChangeKind::Shortened | ChangeKind::Lengthened => {
            let delta = match (before.end, after.end) {
                (Some(b), Some(a)) => {
                    format!(" ({} {})", span((b - a).abs()), if a < b { "less" } else { "more" })
                }
                _ => String::new(),
            };
            let fit = if after.shortened_to_maximum { "; asked for the new maximum" } else { "" };
            format!("ends {} instead of {}{delta}{fit}", end(after), end(before))
        }
        ChangeKind::Granted => format!("granted, ending {}; was {}", end(after), summary(before)),
        ChangeKind::Other => format!("{} instead of {}", summary(after), summary(before)),
    }
}

fn refusal(f: &Fate) -> String {
    let code = f.code.as_deref().unwrap_or("refused");
    if f.rules.is_empty() { code.to_string() } else { format!("{code} ({})", f.rules.join(", ")) }
}

/// A fate in a few words.
pub(super) fn summary(f: &Fate) -> String {
    match f.answer {
        Answer::Refused => format!("refused: {}", refusal(f)),
        Answer::Granted | Answer::Approved => {
            format!("{} until {}", answer_word(f.answer), f.end.map_or("never".to_string(), format_timestamp))
        }
        other => answer_word(other).to_string(),
    }
}

fn answer_word(a: Answer) -> &'static str {
    match a {
        Answer::Granted => "granted",
        Answer::Completed => "done",
        Answer::Waiting => "waiting",
        Answer::Approved => "approved",
        Answer::Denied => "denied",
        Answer::TimedOut => "timed out",
        Answer::Canceled => "cancelled",
        Answer::Failed => "failed",
        Answer::Refused => "refused",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::parse_timestamp;

    fn granted(end: &str) -> Fate {
        let mut f = Fate::refused(&crate::model::ApiError::internal("x"));
        f.answer = Answer::Granted;
        f.code = None;
        f.start = parse_timestamp("2025-01-06T09:00:00Z").ok();
        f.end = parse_timestamp(end).ok();
        f
    }

    #[test]
    fn the_same_outcome_is_no_change_and_an_earlier_end_is_shortened() {
        let long = granted("2025-01-06T17:00:00Z");
        let short = granted("2025-01-06T11:00:00Z");
        assert_eq!(classify(&long, &long), None);
        assert_eq!(classify(&long, &short), Some(ChangeKind::Shortened));
        assert_eq!(classify(&short, &long), Some(ChangeKind::Lengthened));
        let refused = Fate::refused(&crate::model::ApiError::bad_request("justification", "no"));
        assert_eq!(classify(&long, &refused), Some(ChangeKind::Refused));
        assert_eq!(classify(&refused, &long), Some(ChangeKind::Granted));
    }
}
