//! Beta `roleAssignmentApprovals`: approvals and their steps as the caller sees them, and deciding a
//! step with a PATCH.

use crate::model::ErrorCode;
use serde_json::Value;

use super::{Call, Response, Version, filter_by_current_user_on, not_found_path};
use crate::api::{body, views};
use crate::model::approval::{ApprovalChannel, Decision};
use crate::model::{ApiError, Status, Surface};

impl Call<'_> {
    /// Beta `roleAssignmentApprovals`: an approval (id = request id) with one step per stage.
    /// v1.0 exposes approvals for PIM for Groups only (reference §1.15).
    pub(super) fn approvals(&mut self, rest: &[&str]) -> Result<Response, ApiError> {
        if self.version != Version::Beta {
            return Err(not_found_path("roleAssignmentApprovals"));
        }
        match rest {
            [f] if f.starts_with("filterByCurrentUser") => {
                let mut items = Vec::new();
                for id in self.current_users_approvals(f, Surface::Directory)? {
                    items.push(self.approval_json(&id)?);
                }
                self.collection(self.context("Collection(approval)"), items)
            }
            [id] => {
                self.require_method(&["GET"])?;
                let v = self.approval_json(id)?;
                self.entity(self.context("roleManagement/directory/roleAssignmentApprovals/$entity"), v)
            }
            [id, "steps"] => {
                self.require_method(&["GET"])?;
                let v = self.approval_json(id)?;
                let items = v["steps"].as_array().cloned().unwrap_or_default();
                let context = format!("roleManagement/directory/roleAssignmentApprovals('{id}')/steps");
                self.collection(self.context(&context), items)
            }
            [id, "steps", step_id] if self.method == "PATCH" => {
                let (decision, justification) = decision_body(self.body_text()?, "approvalStep")?;
                let justification = justification.as_deref();
                if self.directory_approval_steps(id)?.is_empty() {
                    return Err(ApiError::new(
                        404,
                        ErrorCode::ResourceNotFound,
                        format!("Approval '{id}' does not exist."),
                    ));
                }
                self.engine.decide(
                    self.session,
                    id,
                    Some(step_id),
                    decision,
                    justification,
                    ApprovalChannel::GraphStepApi,
                )?;
                Ok(Response::no_content())
            }
            [id, "steps", step_id] => {
                self.require_method(&["GET", "PATCH"])?;
                let v = self.approval_json(id)?;
                let step = v["steps"]
                    .as_array()
                    .and_then(|steps| {
                        steps
                            .iter()
                            .find(|s| s["id"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(step_id)))
                    })
                    .cloned()
                    .ok_or_else(|| {
                        ApiError::new(
                            404,
                            ErrorCode::ResourceNotFound,
                            format!("Approval step '{step_id}' does not exist."),
                        )
                    })?;
                let context =
                    format!("roleManagement/directory/roleAssignmentApprovals('{id}')/steps/$entity");
                self.entity(self.context(&context), step)
            }
            _ => Err(not_found_path(&self.path())),
        }
    }

    /// `.../filterByCurrentUser(on='approver'|'createdBy'|'target')` of approvals: the ids of the
    /// approvals on `surface` still waiting that the caller may decide, asked for, or is the
    /// target of.
    pub(super) fn current_users_approvals(
        &mut self,
        segment: &str,
        surface: Surface,
    ) -> Result<Vec<String>, ApiError> {
        self.require_method(&["GET"])?;
        let on = filter_by_current_user_on(segment, &["approver", "createdBy", "target"])?;
        let caller = self.session.caller.clone();
        let mut ids = Vec::new();
        for (q, approvers) in self.engine.pending_decisions()? {
            let mine = match on.as_str() {
                "approver" => approvers.iter().any(|a| a.eq_ignore_ascii_case(&caller)),
                "createdBy" => q.created_by.eq_ignore_ascii_case(&caller),
                _ => q.principal_id.eq_ignore_ascii_case(&caller),
            };
            if q.surface == surface && mine && q.status == Status::PendingApproval {
                ids.push(q.id);
            }
        }
        Ok(ids)
    }

    /// An approval with its steps, as the caller sees it (`assignedToMe`).
    /// The steps of approval `id` when it is a directory role's: an Azure role's approval is
    /// ARM's, and Graph answers as if it did not exist, as for its requests and schedules.
    fn directory_approval_steps(
        &mut self,
        id: &str,
    ) -> Result<Vec<crate::model::approval::ApprovalStep>, ApiError> {
        match self.engine.request(id, None) {
            Ok(q) if q.surface != Surface::Directory => Ok(Vec::new()),
            _ => self.engine.approval_steps(id),
        }
    }

    fn approval_json(&mut self, id: &str) -> Result<Value, ApiError> {
        let steps = self.directory_approval_steps(id)?;
        let rendered = self.render_steps(id, &steps)?;
        Ok(serde_json::json!({ "id": steps[0].approval_id, "steps": rendered }))
    }

    /// An approval's steps (or stages) as the caller sees them (`assignedToMe`, who reviewed);
    /// none means the approval does not exist.
    pub(super) fn render_steps(
        &mut self,
        id: &str,
        steps: &[crate::model::approval::ApprovalStep],
    ) -> Result<Vec<Value>, ApiError> {
        if steps.is_empty() {
            return Err(ApiError::new(
                404,
                ErrorCode::ResourceNotFound,
                format!("Approval '{id}' does not exist."),
            ));
        }
        let caller = self.session.caller.clone();
        let mut rendered = Vec::new();
        for step in steps {
            let mine = self.engine.may_decide_step(&caller, step)?;
            let reviewer = match &step.reviewed_by {
                Some(r) => self.engine.object(r)?,
                None => None,
            };
            rendered.push(views::approval_step(step, mine, reviewer.as_ref()));
        }
        Ok(rendered)
    }
}

/// A decision's body (`PATCH .../steps/{id}` or `.../stages/{id}`): `reviewResult` (`Approve` or
/// `Deny`) and an optional `justification`, and nothing else of `type_name`.
pub(super) fn decision_body(text: &str, type_name: &str) -> Result<(Decision, Option<String>), ApiError> {
    let body = body::parse_object(text)?;
    for key in body.keys() {
        if !key.starts_with("@odata.") && !["reviewResult", "justification"].contains(&key.as_str()) {
            return Err(ApiError::new(
                400,
                ErrorCode::BadRequest,
                format!(
                    "The property '{key}' does not exist on type 'microsoft.graph.{type_name}'. Make sure to only use property names that are defined by the type."
                ),
            ));
        }
    }
    let result = body.get("reviewResult").and_then(Value::as_str).ok_or_else(|| {
        ApiError::bad_request("reviewResult", "reviewResult is required: \"Approve\" or \"Deny\"")
    })?;
    let decision = Decision::parse(result).ok_or_else(|| {
        ApiError::new(400, ErrorCode::BadRequest, format!("Requested value '{result}' was not found.")).with_detail(
            "InvalidValue",
            "reviewResult",
            format!("'{result}' is not Approve or Deny (write Approve/Deny; they read back as Approved/Denied)"),
        )
    })?;
    Ok((decision, body.get("justification").and_then(Value::as_str).map(str::to_string)))
}
