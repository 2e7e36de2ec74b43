//! The history a replay plays again, read once from the store: the requests still stored from
//! the first one replayed on, and the decisions and cancellations made on them, in the order the
//! audit trail gives them (its sequence numbers order what happened within one instant).

use std::collections::HashMap;

use crate::engine::{AuditQuery, Engine, RequestFilter};
use crate::model::approval::{ApprovalStep, Decision, ReviewResult};
use crate::model::audit::AuditRecord;
use crate::model::{ApiError, ScheduleRequest, Timestamp};

/// One thing that happened, to play again at its time.
#[derive(Debug, Clone)]
pub(super) enum Event {
    /// Request `n` (an index into [`History::requests`]) was submitted.
    Submit(usize),
    /// An approver decided a stage of request `n`.
    Decide { request: usize, approver: String, decision: Decision, justification: Option<String> },
    /// Someone cancelled request `n`.
    Cancel { request: usize, by: String },
}

/// What a replay replays.
#[derive(Debug, Clone)]
pub(super) struct History {
    /// The first replayed request's time: the fork starts there.
    pub from: Option<Timestamp>,
    /// The store's clock: the replay runs to it.
    pub until: Timestamp,
    pub requests: Vec<ScheduleRequest>,
    /// The decided steps of each request, by index.
    pub decided: HashMap<usize, Vec<ApprovalStep>>,
    /// Every event in the order it happened.
    pub events: Vec<(Timestamp, Event)>,
    /// Requests refused in the window: only their audit row is stored, so they cannot be replayed.
    pub refused: usize,
}

impl History {
    /// Reads the requests created at or after `since` (every stored request without it).
    pub fn read(engine: &mut Engine, since: Option<Timestamp>) -> Result<History, ApiError> {
        let until = engine.now()?;
        let requests: Vec<ScheduleRequest> = engine
            .requests(&RequestFilter::default())?
            .into_iter()
            .filter(|q| since.is_none_or(|s| q.created_at >= s))
            .collect();
        let Some(from) = requests.first().map(|q| q.created_at) else {
            let refused = match since {
                Some(s) => count_refusals(engine, s)?,
                None => 0,
            };
            return Ok(History {
                from: None,
                until,
                requests,
                decided: HashMap::new(),
                events: Vec::new(),
                refused,
            });
        };
        let index: HashMap<&str, usize> =
            requests.iter().enumerate().map(|(n, q)| (q.id.as_str(), n)).collect();
        let mut decided: HashMap<usize, Vec<ApprovalStep>> = HashMap::new();
        for step in engine.steps_decided_since(from)? {
            if let Some(&n) = index.get(step.approval_id.as_str()) {
                decided.entry(n).or_default().push(step);
            }
        }
        let audit = engine.audit(&AuditQuery { since: Some(since.unwrap_or(from)), ..Default::default() })?;
        let mut refused = 0;
        // Sort keys: (time, audit sequence, index) — an event the audit trail does not show comes
        // first in its instant, in creation order.
        let mut keyed: Vec<((Timestamp, i64, usize), Event)> = Vec::new();
        let mut submitted = vec![false; requests.len()];
        for row in &audit {
            let Some(n) = row.request_id.as_deref().and_then(|id| index.get(id)).copied() else {
                refused += usize::from(is_refusal(row));
                continue;
            };
            let key = (row.at, row.seq, n);
            if !submitted[n] {
                submitted[n] = true;
                keyed.push((key, Event::Submit(n)));
                continue;
            }
            let step = decided.get(&n).and_then(|steps| {
                steps.iter().find(|s| {
                    s.reviewed_at == Some(row.at) && s.reviewed_by.as_deref() == Some(&row.actor_id)
                })
            });
            if let Some(step) = step {
                keyed.push((key, decision_event(n, step)));
            } else if requests[n].canceled_at == Some(row.at)
                && row.actor_id != crate::engine::fidelity::SYSTEM_ACTOR
            {
                keyed.push((key, Event::Cancel { request: n, by: row.actor_id.clone() }));
            }
        }
        for (n, q) in requests.iter().enumerate().filter(|(n, _)| !submitted[*n]) {
            keyed.push(((q.created_at, i64::MIN, n), Event::Submit(n)));
        }
        keyed.sort_by_key(|(key, _)| *key);
        let events = keyed.into_iter().map(|((at, _, _), e)| (at, e)).collect();
        Ok(History { from: Some(from), until, requests, decided, events, refused })
    }

    /// When request `n` was decided in history, by whom, and how (its last decided stage).
    pub fn decision_of(&self, n: usize) -> Option<&ApprovalStep> {
        self.decided.get(&n).and_then(|steps| steps.last())
    }
}

fn decision_event(n: usize, step: &ApprovalStep) -> Event {
    Event::Decide {
        request: n,
        approver: step.reviewed_by.clone().unwrap_or_default(),
        decision: match step.review_result {
            ReviewResult::Denied => Decision::Deny,
            _ => Decision::Approve,
        },
        justification: step.justification.clone(),
    }
}

/// Refused requests from `since` on, which left only their audit row.
fn count_refusals(engine: &mut Engine, since: Timestamp) -> Result<usize, ApiError> {
    let rows = engine.audit(&AuditQuery { since: Some(since), ..Default::default() })?;
    Ok(rows.iter().filter(|r| is_refusal(r)).count())
}

/// The row a refused request leaves (ARCHITECTURE.md, invariant 3): a failure by a caller (not the
/// service itself) with no request id, since nothing was stored.
fn is_refusal(row: &AuditRecord) -> bool {
    row.result == "failure"
        && row.request_id.is_none()
        && row.actor_id != crate::engine::fidelity::SYSTEM_ACTOR
}
