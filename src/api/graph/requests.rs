//! `roleEligibilityScheduleRequests` and `roleAssignmentScheduleRequests`: submitting a request,
//! listing and reading them (with `filterByCurrentUser`), and their expansions.

use crate::model::ErrorCode;
use serde_json::{Map, Value};

use super::{Call, Response};
use crate::api::{body, views};
use crate::engine::RequestFilter;
use crate::model::{ApiError, RequestKind, ScheduleRequest, Status, Surface};

/// Properties a schedule request can be expanded on.
const REQUEST_EXPANDS: &[&str] =
    &["principal", "roleDefinition", "directoryScope", "appScope", "targetSchedule", "activatedUsing"];

impl Call<'_> {
    /// A request in the form of the Graph version addressed.
    fn request_view(&self, q: &ScheduleRequest) -> Value {
        match self.version {
            super::Version::V1 => views::request(q),
            super::Version::Beta => views::request_beta(q),
        }
    }

    fn render_request(&mut self, q: &ScheduleRequest) -> Result<Value, ApiError> {
        let mut v = self.request_view(q);
        self.expand_common(&mut v, &q.principal_id, &q.role_definition_id, q.directory_scope_id.as_deref())?;
        if self.query.expand_item("targetSchedule").is_some() {
            v["targetSchedule"] = match &q.target_schedule_id {
                Some(id) => {
                    self.engine.schedule(q.kind, id)?.map(|s| views::schedule(&s)).unwrap_or(Value::Null)
                }
                None => Value::Null,
            };
        }
        if self.query.expand_item("activatedUsing").is_some() {
            if q.kind == RequestKind::Eligibility {
                return Err(ApiError::new(
                    400,
                    ErrorCode::BadRequest,
                    "Could not find a property named 'activatedUsing' on type 'microsoft.graph.unifiedRoleEligibilityScheduleRequest'.",
                ));
            }
            v["activatedUsing"] = match &q.activated_using {
                Some(id) => self.engine.schedule_any(id)?.map(|s| views::schedule(&s)).unwrap_or(Value::Null),
                None => Value::Null,
            };
        }
        Ok(v)
    }

    pub(super) fn requests(
        &mut self,
        kind: RequestKind,
        collection: &str,
        current_user: Option<String>,
    ) -> Result<Response, ApiError> {
        let type_name = views::request_type(kind).trim_start_matches("#microsoft.graph.").to_string();
        if current_user.is_none() && self.method == "POST" {
            let req = body::schedule_request(kind, self.body_text()?, self.version == super::Version::Beta)?;
            let q = self.engine.submit(self.session, &req)?;
            let v =
                self.created_entity(&format!("roleManagement/directory/{collection}"), self.request_view(&q));
            return Ok(Response::created(v));
        }
        self.require_method(&["GET"])?;
        self.engine.require_pim_reader(self.session, current_user.is_some())?;
        self.check_expands(REQUEST_EXPANDS, &type_name)?;
        // Every property but `customData` (never set), and the navigation properties.
        let filterable: Vec<&str> = views::REQUEST_PROPERTIES
            .iter()
            .copied()
            .filter(|p| *p != "customData")
            .chain(["principal", "roleDefinition"])
            .collect();
        self.check_filter(&filterable, &type_name)?;
        let filter = &self.query.filter;
        let mut f = RequestFilter {
            kind: Some(kind),
            principal_id: filter.as_ref().and_then(|f| f.required_eq("principalId")),
            role_definition_id: filter.as_ref().and_then(|f| f.required_eq("roleDefinitionId")),
            status: filter.as_ref().and_then(|f| f.required_eq("status")).and_then(|s| Status::parse(&s)),
            created_by: None,
        };
        let caller = self.session.caller.clone();
        let mut approver_only = false;
        match current_user.as_deref() {
            Some("principal") => f.principal_id = Some(caller.clone()),
            Some("createdBy") => f.created_by = Some(caller.clone()),
            Some(_) => approver_only = true,
            None => {}
        }
        let mut items = Vec::new();
        for q in self.engine.requests(&f)?.into_iter().filter(|q| q.surface == Surface::Directory) {
            if approver_only
                && (q.status != Status::PendingApproval || !self.engine.is_approver(&caller, &q)?)
            {
                continue;
            }
            let mut v = self.render_request(&q)?;
            if current_user.is_some() {
                v = with_type_first(v, views::request_type(kind));
            }
            items.push(v);
        }
        let context = if current_user.is_some() {
            self.context(&format!("Collection({type_name})"))
        } else {
            self.context(&format!("roleManagement/directory/{collection}"))
        };
        self.collection(context, items)
    }

    pub(super) fn request_by_id(
        &mut self,
        kind: RequestKind,
        collection: &str,
        id: &str,
    ) -> Result<Response, ApiError> {
        self.require_method(&["GET"])?;
        let type_name = views::request_type(kind).trim_start_matches("#microsoft.graph.").to_string();
        self.check_expands(REQUEST_EXPANDS, &type_name)?;
        let q = self.engine.request(id, Some(kind))?;
        if q.surface != Surface::Directory {
            // Azure resource roles' requests are ARM's, not Graph's.
            return Err(crate::engine::request_not_found(id));
        }
        let own = self.engine.is_own_request(self.session, &q)?;
        self.engine.require_pim_reader(self.session, own)?;
        let v = self.render_request(&q)?;
        self.entity(self.context(&format!("roleManagement/directory/{collection}/$entity")), v)
    }
}

/// Puts `@odata.type` first, where Graph writes it.
fn with_type_first(v: Value, odata_type: &str) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            out.insert("@odata.type".into(), odata_type.into());
            out.extend(m);
            Value::Object(out)
        }
        other => other,
    }
}
