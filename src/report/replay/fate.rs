//! What became of one request: granted (from when to when), done at once, waiting for a
//! decision and how that ended, or refused with the engine's error code. A replay gives one per
//! request on each fork; the history's own outcome is read the same way from the stored request.

use serde::Serialize;

use super::super::chain::maybe_time;
use crate::model::approval::ApprovalStep;
use crate::model::{ApiError, ScheduleRequest, Status, Timestamp};

/// How a request ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Answer {
    /// Granted at once (now or from a future start).
    Granted,
    /// Done at once: a removal or a deactivation.
    Completed,
    /// Still waiting for a decision when the replay ended.
    Waiting,
    /// Waited, then approved (and granted).
    Approved,
    Denied,
    /// Waited until its approval timed out.
    TimedOut,
    Canceled,
    /// Accepted, but what it needed no longer held when it was approved or started.
    Failed,
    /// Refused when submitted.
    Refused,
}

/// One request's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fate {
    pub answer: Answer,
    /// A refusal's error code and the policy rules (or hook denials) that failed
    /// (`JustificationRule`, `WeekendFreeze`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// When it started waiting for a decision, and when the wait ended (none: still waiting).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "maybe_time")]
    pub waited_from: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "maybe_time")]
    pub waited_until: Option<Timestamp>,
    /// Who decided, when someone did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// The access it gave: from, and until (none: permanent).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "maybe_time")]
    pub start: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "maybe_time")]
    pub end: Option<Timestamp>,
    /// The request asked for longer than the policy allowed and was replayed asking for the
    /// maximum (see `SHORTEN_TO_MAXIMUM`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shortened_to_maximum: bool,
}

impl Fate {
    fn of(answer: Answer) -> Fate {
        Fate {
            answer,
            code: None,
            rules: Vec::new(),
            waited_from: None,
            waited_until: None,
            decided_by: None,
            start: None,
            end: None,
            shortened_to_maximum: false,
        }
    }

    /// A refusal, with the rules that failed.
    pub fn refused(e: &ApiError) -> Fate {
        let mut rules: Vec<String> = Vec::new();
        for d in &e.details {
            if !d.code.is_empty() && !rules.contains(&d.code) {
                rules.push(d.code.clone());
            }
        }
        Fate { code: Some(e.code.to_string()), rules, ..Fate::of(Answer::Refused) }
    }

    /// The outcome a request shows now.
    pub fn of_request(q: &ScheduleRequest) -> Fate {
        let answer = match q.status {
            Status::Provisioned | Status::Granted if q.approval_id.is_some() => Answer::Approved,
            Status::Provisioned | Status::Granted => Answer::Granted,
            Status::Revoked => Answer::Completed,
            Status::PendingApproval | Status::PendingAdminDecision | Status::PendingEvaluation => {
                Answer::Waiting
            }
            Status::Denied => Answer::Denied,
            Status::TimedOut => Answer::TimedOut,
            Status::Canceled => Answer::Canceled,
            Status::Failed => Answer::Failed,
        };
        let mut fate = Fate::of(answer);
        if matches!(answer, Answer::Granted | Answer::Approved) {
            if let Some(info) = &q.schedule_info {
                let start = info.start.unwrap_or(q.created_at);
                fate.start = Some(start);
                fate.end = info.end_from(start);
            }
        }
        if q.approval_id.is_some() || q.status == Status::PendingAdminDecision {
            fate.waited_from = Some(q.created_at);
            fate.waited_until = match answer {
                Answer::Waiting => None,
                Answer::Canceled => q.canceled_at,
                _ => q.completed_at,
            };
        }
        fate
    }

    /// The outcome a stored request had in history, with the approver of its last decided stage.
    pub fn in_history(q: &ScheduleRequest, decision: Option<&ApprovalStep>) -> Fate {
        let mut fate = Fate::of_request(q);
        if let Some(step) = decision {
            fate.decided_by = step.reviewed_by.clone();
            fate.waited_until = step.reviewed_at.or(fate.waited_until);
        }
        fate
    }

    /// It holds what it asked for (at once or after approval).
    pub fn holds(&self) -> bool {
        matches!(self.answer, Answer::Granted | Answer::Approved)
    }

    /// The same outcome, as a report compares them: the answer and the access it gave.
    pub fn same_as(&self, other: &Fate) -> bool {
        self.answer == other.answer && self.start == other.start && self.end == other.end
    }

    /// How long it waited, if the wait ended.
    pub fn waited(&self) -> Option<chrono::TimeDelta> {
        Some(self.waited_until? - self.waited_from?)
    }
}
