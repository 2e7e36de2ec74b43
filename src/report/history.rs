//! The store's history over a stretch of simulated time, read once and named, for the reports
//! that look back (`report activity`, `timeline`): who held what when (schedules), what was asked
//! (requests, with the approval they waited for) and what the service refused (audit rows).

use std::collections::HashMap;

use serde::Serialize;

use super::chain::Named;
use super::gates::Reader;
use crate::engine::Engine;
use crate::model::approval::ReviewResult;
use crate::model::{
    Action, ApiError, AssignmentType, RequestKind, Schedule, ScheduleRequest, ScheduleState, Status, Surface,
    Timestamp,
};

/// The stretch of time a report covers: `[since, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    #[serde(serialize_with = "super::chain::time")]
    pub since: Timestamp,
    #[serde(serialize_with = "super::chain::time")]
    pub until: Timestamp,
}

impl Period {
    /// `since` (default: the start of the store's history) to `until` (default: the tenant's
    /// clock), refusing an empty stretch by name.
    fn resolve(
        engine: &mut Engine,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Result<Period, ApiError> {
        let now = engine.now()?;
        let until = until.unwrap_or(now);
        let since = match since {
            Some(s) => s,
            None => beginning(engine, until)?.unwrap_or(now.min(until)),
        };
        if since >= until {
            return Err(ApiError::bad_request(
                "until",
                format!(
                    "the report's end {} is not after its start {}: give --until after --since",
                    crate::model::time::format_timestamp(until),
                    crate::model::time::format_timestamp(since)
                ),
            ));
        }
        Ok(Period { since, until })
    }

    /// The part of `[start, end)` inside the period, if any (`end` `None`: never ends).
    pub fn clip(&self, start: Timestamp, end: Option<Timestamp>) -> Option<(Timestamp, Timestamp)> {
        let from = start.max(self.since);
        let to = end.map_or(self.until, |e| e.min(self.until));
        (from < to).then_some((from, to))
    }

    pub fn contains(&self, t: Timestamp) -> bool {
        self.since <= t && t < self.until
    }
}

/// The first thing the store remembers before `until`: a schedule's start or a request.
fn beginning(engine: &mut Engine, until: Timestamp) -> Result<Option<Timestamp>, ApiError> {
    let first_schedule = engine.schedules_overlapping(Timestamp::MIN_UTC, until)?.first().map(|s| s.start());
    let first_request =
        engine.requests(&crate::engine::RequestFilter::default())?.iter().map(|q| q.created_at).min();
    Ok([first_schedule, first_request].into_iter().flatten().min())
}

/// How a holding ended, as far as the period sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Ending {
    /// Still in effect (or to come) at the end of the period's knowledge.
    Ongoing,
    /// Reached its end time.
    Expired,
    /// Removed, deactivated or cancelled.
    Removed,
    /// Superseded by an update, extension or renewal (its successor carries on).
    Replaced,
}

/// One schedule as the reports see it: who, what, from when to when, and what made it.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    pub schedule_id: String,
    pub principal: Named,
    pub role: Named,
    /// Where it was made (`/`, an administrative unit, an Azure scope, a group's id).
    pub scope: String,
    pub kind: RequestKind,
    /// An assignment activated from an eligibility (just-in-time), not assigned standing.
    pub activated: bool,
    pub start: Timestamp,
    /// When it stopped giving access (its end, or when it ended early); `None`: permanent.
    pub end: Option<Timestamp>,
    pub ending: Ending,
    /// The request that made it, if one did (not for assignments made outside PIM).
    pub request: Option<Asked>,
}

impl Held {
    /// An active assignment that gives the role (a standing one, or an activation).
    pub fn is_active_assignment(&self) -> bool {
        self.kind == RequestKind::Assignment
    }
}

/// How a request that waited for a decision came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    Approved,
    Denied,
    /// Nobody decided in time.
    TimedOut,
    /// Cancelled by its requestor while it waited.
    Canceled,
    /// Still waiting at the tenant's clock.
    Waiting,
}

/// A request, with the decision it waited for (if it waited).
#[derive(Debug, Clone, PartialEq)]
pub struct Asked {
    pub id: String,
    pub action: Action,
    pub principal: Named,
    pub role: Named,
    pub created: Timestamp,
    pub justification: Option<String>,
    /// Set when the request waited for an approver: the verdict, when (or until when, for one
    /// still waiting: the clock) and by whom.
    pub decision: Option<Decision>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub verdict: Verdict,
    pub at: Timestamp,
    pub by: Option<Named>,
}

impl Asked {
    pub fn is_activation(&self) -> bool {
        self.action == Action::SelfActivate
    }
}

/// A request the service refused (it left only its audit row).
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub at: Timestamp,
    pub actor: Named,
    pub action: Action,
    pub principal: Option<Named>,
    pub role: Option<Named>,
    pub reason: Option<String>,
}

/// Everything the period holds.
pub struct History {
    pub period: Period,
    pub now: Timestamp,
    /// Schedules in effect at some point of the period, in start order.
    pub held: Vec<Held>,
    /// Requests made in the period, in the order they were made.
    pub asked: Vec<Asked>,
    pub refused: Vec<Refused>,
}

impl History {
    pub fn read(
        engine: &mut Engine,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Result<History, ApiError> {
        let period = Period::resolve(engine, since, until)?;
        let schedules = engine.schedules_overlapping(period.since, period.until)?;
        let requests = engine.requests(&crate::engine::RequestFilter::default())?;
        let refusals = engine.refusals(period.since, period.until)?;
        let mut names = Reader::new(engine, None)?;
        let now = names.now();
        let mut asked_all = Vec::new();
        for q in &requests {
            asked_all.push(asked(&mut names, q, now)?);
        }
        // Each schedule's request, found by id: searched for along the list, a week of a year's
        // store (50,000 schedules, 450,000 requests) took longer than ten minutes.
        let by_id: HashMap<&str, &Asked> = asked_all.iter().map(|a| (a.id.as_str(), a)).collect();
        let mut held = Vec::new();
        for s in &schedules {
            let request = s.created_using.as_deref().and_then(|id| by_id.get(id)).map(|a| (*a).clone());
            let h = holding(&mut names, s, request)?;
            if period.clip(h.start, h.end).is_some() {
                held.push(h);
            }
        }
        let mut asked: Vec<Asked> = asked_all.into_iter().filter(|a| period.contains(a.created)).collect();
        asked.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        let mut refused = Vec::new();
        for r in refusals {
            let principal = r.principal_id.as_deref().map(|p| names.object(p)).transpose()?;
            let role = match &r.role_id {
                Some(id) => Some(role_name(&mut names, surface_of_role(id), id, None)?),
                None => None,
            };
            refused.push(Refused {
                at: r.at,
                actor: names.object(&r.actor_id)?,
                action: r.action,
                principal,
                role,
                reason: r.reason,
            });
        }
        Ok(History { period, now, held, asked, refused })
    }
}

/// A refusal's row names the role only by id: an Azure role's id is a path, a directory role's
/// a GUID.
fn surface_of_role(id: &str) -> Surface {
    if id.contains('/') { Surface::AzureResource } else { Surface::Directory }
}

/// A role by the name people read; a PIM for Groups relationship reads `member of GROUP`.
fn role_name(
    names: &mut Reader<'_>,
    surface: Surface,
    role: &str,
    scope: Option<&str>,
) -> Result<Named, ApiError> {
    match (surface, scope) {
        (Surface::Group, Some(group)) => {
            let group = names.object(group)?;
            Ok(Named { id: format!("{}/{role}", group.id), name: format!("{role} of {}", group.name) })
        }
        _ => match names.role(surface, role) {
            Ok(n) => Ok(n),
            // A role deleted since: its id is all the store still knows.
            Err(_) => Ok(Named { id: role.to_string(), name: role.to_string() }),
        },
    }
}

fn scope_of(scope: &Option<String>, app_scope: &Option<String>) -> String {
    scope.clone().or_else(|| app_scope.clone()).unwrap_or_else(|| "/".to_string())
}

fn holding(names: &mut Reader<'_>, s: &Schedule, request: Option<Asked>) -> Result<Held, ApiError> {
    let scope = scope_of(&s.directory_scope_id, &s.app_scope_id);
    let window = super::gates::window(s);
    let ending = match s.state {
        ScheduleState::Live => Ending::Ongoing,
        ScheduleState::Expired => Ending::Expired,
        ScheduleState::Removed => Ending::Removed,
        ScheduleState::Replaced => Ending::Replaced,
    };
    Ok(Held {
        schedule_id: s.id.clone(),
        principal: names.object(&s.principal_id)?,
        role: role_name(names, s.surface, &s.role_definition_id, Some(&scope))?,
        scope,
        kind: s.kind,
        activated: s.assignment_type == Some(AssignmentType::Activated),
        start: window.start,
        end: window.end,
        ending,
        request,
    })
}

fn asked(names: &mut Reader<'_>, q: &ScheduleRequest, now: Timestamp) -> Result<Asked, ApiError> {
    let scope = scope_of(&q.directory_scope_id, &q.app_scope_id);
    let decision = match &q.approval_id {
        None if q.status != Status::PendingAdminDecision => None,
        _ => {
            let steps = match &q.approval_id {
                Some(id) => names.engine.approval_steps(id)?,
                None => Vec::new(),
            };
            let last = steps.iter().filter(|s| s.reviewed_at.is_some()).max_by_key(|s| s.reviewed_at);
            let verdict = match q.status {
                Status::Denied => Verdict::Denied,
                Status::TimedOut => Verdict::TimedOut,
                Status::Canceled => Verdict::Canceled,
                Status::PendingApproval | Status::PendingAdminDecision | Status::PendingEvaluation => {
                    Verdict::Waiting
                }
                _ if last.is_some_and(|s| s.review_result == ReviewResult::Denied) => Verdict::Denied,
                _ => Verdict::Approved,
            };
            let at = match verdict {
                Verdict::Waiting => now,
                Verdict::Canceled => q.canceled_at.or(q.completed_at).unwrap_or(now),
                _ => last.and_then(|s| s.reviewed_at).or(q.completed_at).unwrap_or(now),
            };
            let by = match last.and_then(|s| s.reviewed_by.clone()) {
                Some(id) if verdict != Verdict::Waiting => Some(names.object(&id)?),
                _ => None,
            };
            Some(Decision { verdict, at, by })
        }
    };
    Ok(Asked {
        id: q.id.clone(),
        action: q.action,
        principal: names.object(&q.principal_id)?,
        role: role_name(names, q.surface, &q.role_definition_id, Some(&scope))?,
        created: q.created_at,
        justification: q.justification.clone(),
        decision,
    })
}
