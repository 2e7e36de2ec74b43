//! Approvals (one step per stage, as Graph beta's `approvalStep`) and the notification outbox.

use super::policy::ApprovalStage;
use super::time::Timestamp;

/// `approvalStep.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepStatus {
    NotStarted,
    InProgress,
    Completed,
    Expired,
    Canceled,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::NotStarted => "NotStarted",
            StepStatus::InProgress => "InProgress",
            StepStatus::Completed => "Completed",
            StepStatus::Expired => "Expired",
            StepStatus::Canceled => "Canceled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            StepStatus::NotStarted,
            StepStatus::InProgress,
            StepStatus::Completed,
            StepStatus::Expired,
            StepStatus::Canceled,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// `approvalStep.reviewResult` as read back. Approvers write `Approve`/`Deny` (see [`Decision`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReviewResult {
    NotReviewed,
    Approved,
    Denied,
}

impl ReviewResult {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewResult::NotReviewed => "NotReviewed",
            ReviewResult::Approved => "Approved",
            ReviewResult::Denied => "Denied",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [ReviewResult::NotReviewed, ReviewResult::Approved, ReviewResult::Denied]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Where an approver's decision comes from. The Graph approval step API cannot decide everything
/// the portal can (reference §3.12); the store's fidelity profile can lift that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalChannel {
    /// The approver's own view (the portal's "Approve requests"): `pimlab approve`, `pim.approve`.
    Portal,
    /// `PATCH .../roleAssignmentApprovals/{id}/steps/{stepId}`.
    GraphStepApi,
    /// ARM's `PUT`/`PATCH .../roleAssignmentApprovals/{id}/stages/{stageId}`.
    ArmStageApi,
}

/// What an approver writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Approve,
    Deny,
}

impl Decision {
    /// `Approve` / `Deny`, case-insensitively, as the service accepts them.
    pub fn parse(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("Approve") {
            Some(Decision::Approve)
        } else if s.eq_ignore_ascii_case("Deny") {
            Some(Decision::Deny)
        } else {
            None
        }
    }
    pub fn result(self) -> ReviewResult {
        match self {
            Decision::Approve => ReviewResult::Approved,
            Decision::Deny => ReviewResult::Denied,
        }
    }
}

/// One stage of a request's approval.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalStep {
    pub id: String,
    /// The approval's id, which is the request's.
    pub approval_id: String,
    /// 1-based.
    pub stage: u32,
    pub status: StepStatus,
    pub review_result: ReviewResult,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<Timestamp>,
    pub justification: Option<String>,
    pub started_at: Option<Timestamp>,
    /// The stage times out then.
    pub due_at: Option<Timestamp>,
    /// Escalation approvers may decide from then.
    pub escalation_at: Option<Timestamp>,
    pub escalated: bool,
    /// The stage settings the request was made under.
    pub settings: ApprovalStage,
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub seq: i64,
    pub at: Timestamp,
    pub event: String,
    pub rule_id: Option<String>,
    pub recipient_type: String,
    pub recipients: Vec<String>,
    pub recipient_ids: Vec<String>,
    pub subject: String,
    pub body: String,
    pub request_id: Option<String>,
    pub critical: bool,
}
