//! ARM's wire format of approvals (api-version 2021-01-01-preview; arm-pim reference §3.7): an
//! approval `{id, name, type, properties: {stages}}` and its stages `{id, name, type, properties:
//! {displayName, status, assignedToMe, reviewedBy, reviewedDateTime, reviewResult,
//! justification}}`, in the shapes of the spec's examples and the Python SDK's
//! `RoleAssignmentApproval` and `RoleAssignmentApprovalStep`. Beside `views.rs`, which writes the
//! rest of ARM's shapes, so that the two families change apart.

use serde_json::{Value, json};

use crate::engine::fidelity;
use crate::model::approval::{ApprovalStep, ReviewResult, StepStatus};
use crate::model::time::format_timestamp;
use crate::model::{DirectoryObject, PrincipalKind};

/// The path segment ids use for stages (the spec's newer spelling).
const STAGES: &str = "stages";

/// An approval, its id under `prefix` (`{scope}/providers/Microsoft.Authorization`), with its
/// stages already written by [`stage`].
pub fn approval(prefix: &str, id: &str, stages: Vec<Value>) -> Value {
    json!({
        "properties": { "stages": stages },
        "id": format!("{prefix}/roleAssignmentApprovals/{id}"),
        "type": "Microsoft.Authorization/roleAssignmentApprovals",
        "name": id,
    })
}

/// One stage of approval `approval_id`; `assigned_to_me` says whether the caller is one of its
/// approvers; `reviewer` is the directory object of whoever decided it, if it is still there.
pub fn stage(
    prefix: &str,
    approval_id: &str,
    step: &ApprovalStep,
    assigned_to_me: bool,
    reviewer: Option<&DirectoryObject>,
) -> Value {
    let reviewed_by = step.reviewed_by.as_deref().map(|id| {
        let kind = match reviewer.map(|o| o.kind) {
            Some(PrincipalKind::ServicePrincipal) => "servicePrincipal",
            _ => "user",
        };
        json!({
            "principalId": id,
            "principalType": kind,
            "principalName": reviewer.map(|o| o.display_name.as_str()),
            "userPrincipalName": reviewer.and_then(|o| o.user_principal_name.as_deref()),
        })
    });
    json!({
        "properties": {
            "displayName": format!("Stage {}", step.stage),
            "status": status(step.status),
            "assignedToMe": assigned_to_me,
            "reviewedBy": reviewed_by,
            "reviewedDateTime": step.reviewed_at.map(format_timestamp),
            "reviewResult": review_result(step.review_result),
            // The spec's examples show an empty string before anyone has reviewed.
            "justification": step.justification.as_deref().unwrap_or(""),
        },
        "id": format!("{prefix}/roleAssignmentApprovals/{approval_id}/{STAGES}/{}", step.id),
        "type": "Microsoft.Authorization/roleAssignmentApprovals/stages",
        "name": step.id,
    })
}

/// ARM's stage status. ARM's enum (`NotStarted, InProgress, Completed, Expired, Initializing,
/// Escalating, Completing, Escalated`) has no `Canceled`. An escalated stage stays `InProgress`:
/// clients look for the stage in progress to decide it, and its approvers are only more.
fn status(s: StepStatus) -> &'static str {
    match s {
        StepStatus::NotStarted => "NotStarted",
        StepStatus::InProgress => "InProgress",
        StepStatus::Completed => "Completed",
        StepStatus::Expired => "Expired",
        StepStatus::Canceled => fidelity::ARM_CANCELED_STAGE_STATUS,
    }
}

/// ARM reads back what the approver wrote (`Approve`, `Deny`), where Graph says `Approved`.
fn review_result(r: ReviewResult) -> &'static str {
    match r {
        ReviewResult::NotReviewed => "NotReviewed",
        ReviewResult::Approved => "Approve",
        ReviewResult::Denied => "Deny",
    }
}
