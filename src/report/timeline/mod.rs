//! `timeline`: a Gantt-style picture of a period. This module is the picture's model (lanes of
//! marks: eligibility windows, standing assignments, activations, approvals waiting, refusals,
//! denials, expiries), built from the history; [`axis`] chooses the time axis's ticks, [`svg`]
//! draws the model and [`html`] wraps the drawing in a self-contained page with hover details.
//! The same store gives the same bytes: everything is ordered, and no clock or randomness is read.

pub mod axis;
pub mod html;
pub mod svg;

use std::collections::HashMap;

use serde::Serialize;

use super::chain::Named;
use super::history::{Ending, Held, History, Period, Verdict};
use crate::engine::Engine;
use crate::model::time::format_timestamp;
use crate::model::{ApiError, RequestKind, Timestamp};

/// What the picture is of.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimelineQuery {
    /// One role (id or name): a lane per principal.
    pub role: Option<String>,
    /// One principal: a lane per role.
    pub principal: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    /// What the picture shows, as its title says.
    pub about: String,
    #[serde(flatten)]
    pub period: Period,
    #[serde(serialize_with = "super::chain::time")]
    pub now: Timestamp,
    pub lanes: Vec<Lane>,
}

/// One row of the picture: a principal (for a role) or a role.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lane {
    pub id: String,
    pub label: String,
    pub marks: Vec<Mark>,
}

/// A bar (from `start` to `end`) or, without an end, a marker at `start`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mark {
    pub kind: MarkKind,
    #[serde(serialize_with = "super::chain::time")]
    pub start: Timestamp,
    /// A bar's end (`None` for a bar: permanent, drawn to the period's end); always `None` for a
    /// marker.
    #[serde(serialize_with = "maybe_time")]
    pub end: Option<Timestamp>,
    pub detail: Detail,
}

fn maybe_time<S: serde::Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format_timestamp(*t)),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MarkKind {
    /// An eligibility window (a bar).
    Eligible,
    /// An active assignment made by an administrator: standing privilege (a bar).
    Assigned,
    /// An activation: just-in-time privilege (a bar).
    Activated,
    /// A request waiting for an approver, from its making to the decision (a bar).
    Waiting,
    /// A request the service refused (a marker).
    Refused,
    /// A request an approver denied, or nobody decided in time (a marker).
    Denied,
    /// A schedule that reached its end (a marker).
    Expired,
}

impl MarkKind {
    pub const ALL: [MarkKind; 7] = [
        MarkKind::Eligible,
        MarkKind::Assigned,
        MarkKind::Activated,
        MarkKind::Waiting,
        MarkKind::Refused,
        MarkKind::Denied,
        MarkKind::Expired,
    ];

    pub fn is_bar(self) -> bool {
        matches!(self, MarkKind::Eligible | MarkKind::Assigned | MarkKind::Activated | MarkKind::Waiting)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MarkKind::Eligible => "eligible",
            MarkKind::Assigned => "assigned",
            MarkKind::Activated => "activated",
            MarkKind::Waiting => "waiting",
            MarkKind::Refused => "refused",
            MarkKind::Denied => "denied",
            MarkKind::Expired => "expired",
        }
    }

    /// The legend's words.
    pub fn legend(self) -> &'static str {
        match self {
            MarkKind::Eligible => "eligible",
            MarkKind::Assigned => "assigned (standing)",
            MarkKind::Activated => "activated (just in time)",
            MarkKind::Waiting => "waiting for approval",
            MarkKind::Refused => "refused",
            MarkKind::Denied => "denied / timed out",
            MarkKind::Expired => "expired",
        }
    }
}

/// What a hover shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Detail {
    /// One line: what this is (`Activation of Global Administrator by alice@...`).
    pub what: String,
    pub request_id: Option<String>,
    pub justification: Option<String>,
    /// Who decided (an approval's approver).
    pub approver: Option<String>,
    /// Why it was refused.
    pub reason: Option<String>,
}

impl Detail {
    fn new(what: String) -> Detail {
        Detail { what, request_id: None, justification: None, approver: None, reason: None }
    }
}

/// Which lane a mark goes to, and whether the picture shows it at all.
enum Lanes {
    /// Only this role's marks, a lane per principal.
    Role(String),
    /// Only this principal's marks, a lane per role.
    Principal(String),
    /// The privileged directory roles' marks, a lane per role.
    Privileged(HashMap<String, bool>),
}

impl Lanes {
    fn lane<'a>(&mut self, engine: &mut Engine, principal: &'a Named, role: &'a Named) -> Option<&'a Named> {
        match self {
            Lanes::Role(id) => role.id.eq_ignore_ascii_case(id).then_some(principal),
            Lanes::Principal(id) => principal.id.eq_ignore_ascii_case(id).then_some(role),
            Lanes::Privileged(known) => {
                let privileged = *known
                    .entry(role.id.clone())
                    .or_insert_with(|| engine.role(&role.id).is_ok_and(|r| r.is_privileged));
                privileged.then_some(role)
            }
        }
    }
}

pub fn timeline(engine: &mut Engine, q: &TimelineQuery) -> Result<Timeline, ApiError> {
    let (mut lanes_of, about) = match (&q.role, &q.principal) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request("principal", "give a role or a principal, not both"));
        }
        (Some(role), None) => {
            let role = engine.resolve_role(role)?;
            let about = format!("{}: a lane per principal", role.display_name);
            (Lanes::Role(role.id), about)
        }
        (None, Some(p)) => {
            let o = engine.resolve_object(p)?;
            let about = format!("{}: a lane per role", o.user_principal_name.unwrap_or(o.display_name));
            (Lanes::Principal(o.id), about)
        }
        (None, None) => (Lanes::Privileged(HashMap::new()), "Privileged roles: a lane per role".to_string()),
    };
    let h = History::read(engine, q.since, q.until)?;
    let mut lanes: Vec<Lane> = Vec::new();
    let mut put = |lane: &Named, mark: Mark| match lanes.iter_mut().find(|l| l.id == lane.id) {
        Some(l) => l.marks.push(mark),
        None => lanes.push(Lane { id: lane.id.clone(), label: lane.name.clone(), marks: vec![mark] }),
    };
    for held in &h.held {
        let Some(lane) = lanes_of.lane(engine, &held.principal, &held.role) else { continue };
        for mark in held_marks(held, &h.period) {
            put(lane, mark);
        }
    }
    for a in &h.asked {
        let (Some(lane), Some(d)) = (lanes_of.lane(engine, &a.principal, &a.role), &a.decision) else {
            continue;
        };
        let mut detail =
            Detail::new(format!("{} of {} for {}", a.action.as_str(), a.role.name, a.principal.name));
        detail.request_id = Some(a.id.clone());
        detail.justification = a.justification.clone();
        detail.approver = d.by.as_ref().map(|b| b.name.clone());
        let verdict = match d.verdict {
            Verdict::Approved => "approved",
            Verdict::Denied => "denied",
            Verdict::TimedOut => "timed out",
            Verdict::Canceled => "cancelled",
            Verdict::Waiting => "still waiting",
        };
        let mut waiting = detail.clone();
        waiting.what = format!("{} (waited for approval: {verdict})", detail.what);
        put(lane, Mark { kind: MarkKind::Waiting, start: a.created, end: Some(d.at), detail: waiting });
        if matches!(d.verdict, Verdict::Denied | Verdict::TimedOut) {
            detail.what = format!("{} ({verdict})", detail.what);
            put(lane, Mark { kind: MarkKind::Denied, start: d.at, end: None, detail });
        }
    }
    for r in &h.refused {
        let who = r.principal.as_ref().unwrap_or(&r.actor);
        let Some(role) = &r.role else { continue };
        let Some(lane) = lanes_of.lane(engine, who, role) else { continue };
        let mut detail =
            Detail::new(format!("{} of {} for {}: refused", r.action.as_str(), role.name, who.name));
        detail.reason = r.reason.clone();
        put(lane, Mark { kind: MarkKind::Refused, start: r.at, end: None, detail });
    }
    for lane in &mut lanes {
        // Bars first, so the markers are drawn over them.
        lane.marks.sort_by_key(|m| (!m.kind.is_bar(), m.start, m.kind));
    }
    lanes.sort_by(|a, b| (&a.label, &a.id).cmp(&(&b.label, &b.id)));
    Ok(Timeline { about, period: h.period, now: h.now, lanes })
}

/// A schedule's bar, and its expiry when it reached its end inside the period.
fn held_marks(held: &Held, period: &Period) -> Vec<Mark> {
    let kind = match (held.kind, held.activated) {
        (RequestKind::Eligibility, _) => MarkKind::Eligible,
        (RequestKind::Assignment, true) => MarkKind::Activated,
        (RequestKind::Assignment, false) => MarkKind::Assigned,
    };
    let words = match kind {
        MarkKind::Eligible => "Eligibility",
        MarkKind::Activated => "Activation",
        _ => "Assignment",
    };
    let mut detail = Detail::new(format!("{words}: {} for {}", held.role.name, held.principal.name));
    if let Some(q) = &held.request {
        detail.request_id = Some(q.id.clone());
        detail.justification = q.justification.clone();
        detail.approver = q.decision.as_ref().and_then(|d| d.by.as_ref()).map(|b| b.name.clone());
    }
    let mut marks = vec![Mark { kind, start: held.start, end: held.end, detail: detail.clone() }];
    if let (Ending::Expired, Some(end)) = (held.ending, held.end) {
        if period.contains(end) {
            detail.what = format!("{words} expired: {} for {}", held.role.name, held.principal.name);
            marks.push(Mark { kind: MarkKind::Expired, start: end, end: None, detail });
        }
    }
    marks
}
