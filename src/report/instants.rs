//! The store's history as instants: every time at which something changed (an audit row: a
//! request, an approval decision, a policy or directory change; a schedule starting or ending,
//! which the audit trail does not always show: a future-dated eligibility starts, an activation
//! expires), in time order, each with what happened then. `check` judges its properties at these.

use std::collections::BTreeMap;

use serde::Serialize;

use super::gates::{Reader, window};
use crate::engine::Engine;
use crate::model::audit::AuditRecord;
use crate::model::time::format_timestamp;
use crate::model::{ApiError, AssignmentType, RequestKind, Schedule, Surface, Timestamp};

/// How many events before an instant are shown with it as leading to it (beside all of its own).
pub const EVENTS_BEFORE: usize = 3;

/// Something that happened: an audit row, or a schedule starting or ending.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(serialize_with = "time")]
    pub at: Timestamp,
    /// Who did it (an audit row's actor); `None` for a schedule starting or ending by itself.
    pub actor: Option<String>,
    /// What happened: the audit activity as Entra names it, or `eligibility starts`,
    /// `activation ends`...
    pub what: String,
    /// What it was about: role, principal, group (names).
    pub targets: Vec<String>,
    /// An audit row's result (`success`, `failure`).
    pub result: Option<String>,
    /// The request behind it, when there is one.
    pub request_id: Option<String>,
}

fn time<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_timestamp(*t))
}

/// One instant of the history and what happened at it.
#[derive(Debug, Clone, PartialEq)]
pub struct Moment {
    pub at: Timestamp,
    pub events: Vec<Event>,
}

/// Every instant of the store's history (audit rows and schedule boundaries, past and, for the
/// schedules already made, future), in time order.
pub fn history(engine: &mut Engine) -> Result<Vec<Moment>, ApiError> {
    let rows = engine.audit(&crate::engine::AuditQuery::default())?;
    let schedules = engine.schedule_history()?;
    let mut reader = Reader::new(engine, None)?;
    let mut at: BTreeMap<Timestamp, Vec<Event>> = BTreeMap::new();
    for row in &rows {
        let event = audit_event(&mut reader, row)?;
        at.entry(row.at).or_default().push(event);
    }
    for s in &schedules {
        let w = window(s);
        let mut boundaries = vec![(w.start, "starts")];
        boundaries.extend(w.end.map(|end| (end, "ends")));
        for (t, verb) in boundaries {
            let event = schedule_event(&mut reader, s, t, verb)?;
            at.entry(t).or_default().push(event);
        }
    }
    Ok(at.into_iter().map(|(at, events)| Moment { at, events }).collect())
}

/// What led to instant `index`: its own events, after the last [`EVENTS_BEFORE`] before it.
pub fn leading_to(history: &[Moment], index: usize) -> Vec<Event> {
    let before: Vec<&Event> = history[..index].iter().flat_map(|m| &m.events).collect();
    let skip = before.len().saturating_sub(EVENTS_BEFORE);
    before[skip..].iter().copied().chain(&history[index].events).cloned().collect()
}

fn audit_event(reader: &mut Reader<'_>, row: &AuditRecord) -> Result<Event, ApiError> {
    let actor = reader.object(&row.actor_id)?.name;
    let targets =
        row.targets.iter().map(|t| t.display_name.clone().unwrap_or_else(|| t.id.clone())).collect();
    Ok(Event {
        at: row.at,
        actor: Some(actor),
        what: row.activity.clone(),
        targets,
        result: Some(row.result.clone()),
        request_id: row.request_id.clone(),
    })
}

fn schedule_event(
    reader: &mut Reader<'_>,
    s: &Schedule,
    at: Timestamp,
    verb: &str,
) -> Result<Event, ApiError> {
    let kind = match (s.kind, s.assignment_type) {
        (RequestKind::Eligibility, _) => "eligibility",
        (RequestKind::Assignment, Some(AssignmentType::Activated)) => "activation",
        (RequestKind::Assignment, _) => "assignment",
    };
    let role = match s.surface {
        // A PIM for Groups schedule: the relationship to the group its scope names.
        Surface::Group => {
            let group = s.directory_scope_id.as_deref().unwrap_or_default().trim_start_matches('/');
            format!("{} of {}", s.role_definition_id, reader.object(group)?.name)
        }
        surface => reader.role(surface, &s.role_definition_id)?.name,
    };
    Ok(Event {
        at,
        actor: None,
        what: format!("{kind} {verb}"),
        targets: vec![role, reader.object(&s.principal_id)?.name],
        result: None,
        request_id: s.created_using.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(at: i64, what: &str) -> Event {
        Event {
            at: Timestamp::from_timestamp_millis(at).expect("a time"),
            actor: None,
            what: what.into(),
            targets: vec![],
            result: None,
            request_id: None,
        }
    }

    #[test]
    fn an_instant_is_led_to_by_its_own_events_after_the_last_few_before_it() {
        let history: Vec<Moment> = (0..4)
            .map(|i| Moment {
                at: Timestamp::from_timestamp_millis(i).expect("a time"),
                events: vec![event(i, &format!("{i}a")), event(i, &format!("{i}b"))],
            })
            .collect();
        let names = |v: Vec<Event>| v.into_iter().map(|e| e.what).collect::<Vec<_>>();
        assert_eq!(names(leading_to(&history, 0)), ["0a", "0b"]);
        assert_eq!(names(leading_to(&history, 1)), ["0a", "0b", "1a", "1b"]);
        assert_eq!(names(leading_to(&history, 3)), ["1b", "2a", "2b", "3a", "3b"]);
    }
}
