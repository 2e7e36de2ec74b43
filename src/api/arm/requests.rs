//! `roleEligibilityScheduleRequests` and `roleAssignmentScheduleRequests` (arm-pim reference §0.2,
//! §1.2, §1.3, §6): PUT under a GUID the client chooses (201), GET one by that name, list them at a
//! scope, POST `cancel` (200, no body). Requests go through the same engine as Graph's; ARM only
//! reads the `properties` envelope and writes ARM's shape.

use serde_json::{Map, Value};

use super::{Call, views};
use crate::api::response::Response;
use crate::model::azure_scope::{AzureScope, is_guid};
use crate::model::time::{parse_human_duration, parse_timestamp};
use crate::model::{
    Action, ApiError, ErrorCode, Expiration, ExpirationType, NewRequest, RequestKind, ScheduleInfo,
    ScheduleRequest, Surface, TicketInfo,
};

impl Call<'_> {
    pub(super) fn schedule_requests(&mut self, kind: RequestKind) -> Result<Response, ApiError> {
        let scope = self.scope.clone().ok_or_else(|| {
            ApiError::new(
                400,
                ErrorCode::InvalidResourceType,
                "Schedule requests are made at a scope: a management group, subscription, resource group or resource.",
            )
        })?;
        let rest = self.rest.clone();
        match rest.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            [] => {
                self.require_method(&["GET"])?;
                let filter = request_filter(self.filter.as_deref())?;
                // Lists of one's own requests need no read rights (§2.4).
                let own_only = matches!(
                    filter,
                    RequestFilter::AsTarget | RequestFilter::AsRequestor | RequestFilter::AsApprover
                );
                self.require_read(own_only)?;
                let caller = self.session.caller.clone();
                let groups = self.engine.groups_of(&caller)?;
                let mut placer = self.placer()?;
                let mut items = Vec::new();
                for q in self.engine.requests(&Default::default())? {
                    if q.kind != kind
                        || q.surface != Surface::AzureResource
                        || !self.made_at_or_below(&mut placer, q.directory_scope_id.as_deref())?
                    {
                        continue;
                    }
                    let keep = match &filter {
                        RequestFilter::All => true,
                        RequestFilter::Principal(p) => q.principal_id.eq_ignore_ascii_case(p),
                        RequestFilter::AsTarget => {
                            q.principal_id.eq_ignore_ascii_case(&caller)
                                || groups.iter().any(|g| g.eq_ignore_ascii_case(&q.principal_id))
                        }
                        RequestFilter::AsRequestor => q.created_by.eq_ignore_ascii_case(&caller),
                        RequestFilter::AsApprover => self.engine.is_approver(&caller, &q)?,
                    };
                    if keep {
                        items.push(self.render(&q)?);
                    }
                }
                Ok(self.list(items))
            }
            [name] => match self.method.as_str() {
                "PUT" => self.put(kind, &scope, name),
                "GET" => {
                    let q = self.named(kind, name)?;
                    let own = self.engine.is_own_request(self.session, &q)?;
                    self.require_read(own)?;
                    Ok(Response::ok(self.render(&q)?))
                }
                "DELETE" => Err(delete_refused(self.session, kind, &scope)),
                _ => self.require_method(&["GET", "PUT"]).map(|()| Response::no_content()),
            },
            [name, "validate"] => {
                self.require_method(&["POST"])?;
                self.validate(kind, &scope, name)
            }
            [name, "cancel"] => {
                self.require_method(&["POST"])?;
                let q = self.named(kind, name)?;
                self.engine.cancel(self.session, kind, &q.id)?;
                Ok(Response { status: 200, body: None })
            }
            _ => Err(ApiError::new(
                400,
                ErrorCode::InvalidResourceType,
                format!("'{}' is not a schedule request path.", rest.join("/")),
            )),
        }
    }

    fn put(&mut self, kind: RequestKind, scope: &AzureScope, name: &str) -> Result<Response, ApiError> {
        if !is_guid(name) {
            return Err(ApiError::bad_request(
                "name",
                format!("a schedule request's name is a GUID the client chooses; '{name}' is not one"),
            ));
        }
        let body = self.body.ok_or_else(|| super::invalid_content("the request has no body"))?;
        let req = new_request(kind, scope, body)?;
        let q = self.engine.submit_named(self.session, &req, name)?;
        Ok(Response::created(self.render(&q)?))
    }

    /// `POST .../{name}/validate`: every check a PUT of the same body would run, nothing stored
    /// (arm-pim §0.2). The status says what the PUT would do: `Granted` when it would take
    /// effect, `PendingEvaluation` when it would wait for an approver (§1.12).
    fn validate(&mut self, kind: RequestKind, scope: &AzureScope, name: &str) -> Result<Response, ApiError> {
        let body = self.body.ok_or_else(|| super::invalid_content("the request has no body"))?;
        let mut req = new_request(kind, scope, body)?;
        req.is_validation_only = true;
        let q = self.engine.submit(self.session, &req)?;
        let node = self.engine.azure_scope_at(scope)?;
        let principal = self.engine.object(&q.principal_id)?;
        let role = self.engine.azure_role(&q.role_definition_id).ok();
        let mut v = views::schedule_request(&q, name, &node, principal.as_ref(), role.as_ref());
        let status = match q.status {
            crate::model::Status::PendingApproval | crate::model::Status::PendingAdminDecision => {
                "PendingEvaluation"
            }
            crate::model::Status::Provisioned | crate::model::Status::Granted => "Granted",
            other => other.as_str(),
        };
        v["properties"]["status"] = serde_json::json!(status);
        Ok(Response::ok(v))
    }

    /// The request a client PUT under `name` (or, for one made elsewhere, with that id).
    fn named(&mut self, kind: RequestKind, name: &str) -> Result<ScheduleRequest, ApiError> {
        let id = self.engine.request_named(name)?.unwrap_or_else(|| name.to_string());
        let q = self.engine.request(&id, Some(kind)).map_err(|_| not_found(kind, name))?;
        if q.surface != Surface::AzureResource {
            return Err(not_found(kind, name));
        }
        Ok(q)
    }

    fn render(&mut self, q: &ScheduleRequest) -> Result<Value, ApiError> {
        let name = self.engine.request_client_name(&q.id)?.unwrap_or_else(|| q.id.clone());
        let scope_path = q.directory_scope_id.clone().unwrap_or_default();
        let scope = self.engine.azure_scope_at(&crate::engine::azure_scopes::parse_scope(&scope_path)?)?;
        let principal = self.engine.object(&q.principal_id)?;
        let role = self.engine.azure_role(&q.role_definition_id).ok();
        Ok(views::schedule_request(q, &name, &scope, principal.as_ref(), role.as_ref()))
    }
}

/// What a request list's `$filter` asks (arm-pim §2.3).
enum RequestFilter {
    All,
    Principal(String),
    AsTarget,
    AsRequestor,
    AsApprover,
}

/// `principalId eq '...'`, `asTarget()`, `asRequestor()`, `asApprover()`; anything else is refused.
fn request_filter(filter: Option<&str>) -> Result<RequestFilter, ApiError> {
    let Some(text) = filter.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(RequestFilter::All);
    };
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "astarget()" => return Ok(RequestFilter::AsTarget),
        "asrequestor()" => return Ok(RequestFilter::AsRequestor),
        "asapprover()" => return Ok(RequestFilter::AsApprover),
        _ => {}
    }
    if lower.starts_with("principalid eq ") {
        let value = text["principalId eq ".len()..].trim();
        if let Some(v) = super::quoted(value) {
            return Ok(RequestFilter::Principal(v.to_string()));
        }
    }
    Err(super::unsupported_filter(
        text,
        "schedule requests filter on principalId eq '...', asTarget(), asRequestor() or asApprover()",
    ))
}

fn not_found(kind: RequestKind, name: &str) -> ApiError {
    let what = match kind {
        RequestKind::Eligibility => "roleEligibilityScheduleRequests",
        RequestKind::Assignment => "roleAssignmentScheduleRequests",
    };
    ApiError::new(
        404,
        ErrorCode::RoleAssignmentRequestNotFound,
        format!("The {what} '{name}' could not be found."),
    )
}

/// There is no DELETE on schedule requests: ARM answers 403 `AuthorizationFailed` naming the action
/// that does not exist (arm-pim §0.2).
fn delete_refused(session: &crate::engine::Session, kind: RequestKind, scope: &AzureScope) -> ApiError {
    let resource = match kind {
        RequestKind::Eligibility => "roleEligibilityScheduleRequests",
        RequestKind::Assignment => "roleAssignmentScheduleRequests",
    };
    super::authorization_failed(
        &session.caller,
        &format!("Microsoft.Authorization/{resource}/delete"),
        scope.path(),
    )
    .with_detail(
        "NoDelete",
        "method",
        "requests are removed by a new request (AdminRemove), or cancelled while pending",
    )
}

/// The request a PUT body asks for (its `properties`; read-only properties a client echoes back
/// are ignored, as ARM ignores them).
fn new_request(kind: RequestKind, scope: &AzureScope, body: &str) -> Result<NewRequest, ApiError> {
    let (_, props) = super::body_properties(body)?;
    let props = &props;
    let text = |key: &str| super::property_text(props, key);
    let required = |key: &str| -> Result<String, ApiError> {
        text(key)?.ok_or_else(|| {
            super::invalid_content(&format!("Required property '{key}' not found in JSON. Path 'properties'"))
        })
    };
    let request_type = required("requestType")?;
    let action = Action::parse(&request_type).ok_or_else(|| {
        ApiError::bad_request(
            "requestType",
            format!("'{request_type}' is not one of {}", Action::ALL.map(pascal).join(", ")),
        )
    })?;
    if text("condition")?.is_some() {
        return Err(ApiError::new(
            501,
            ErrorCode::PimlabNotModelled,
            "pimlab does not model role assignment conditions (ABAC); send condition null.",
        ));
    }
    let ticket = props.get("ticketInfo").and_then(Value::as_object);
    let ticket_field =
        |key: &str| ticket.and_then(|t| t.get(key)).and_then(Value::as_str).map(str::to_string);
    Ok(NewRequest {
        surface: Surface::AzureResource,
        kind,
        action,
        principal_id: required("principalId")?,
        role_definition_id: required("roleDefinitionId")?,
        directory_scope_id: Some(scope.path().to_string()),
        app_scope_id: None,
        justification: text("justification")?,
        schedule_info: schedule_info(props)?,
        ticket_info: match (ticket_field("ticketNumber"), ticket_field("ticketSystem")) {
            (None, None) => None,
            (number, system) => Some(TicketInfo { number, system, ..TicketInfo::default() }),
        },
        is_validation_only: false,
    })
}

/// `scheduleInfo` as ARM writes it: `startDateTime`, and `expiration` with a PascalCase `type`.
fn schedule_info(props: &Map<String, Value>) -> Result<Option<ScheduleInfo>, ApiError> {
    let Some(info) = props.get("scheduleInfo").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let field = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let start = match field(info, "startDateTime") {
        Some(t) => {
            Some(parse_timestamp(&t).map_err(|e| ApiError::bad_request("scheduleInfo.startDateTime", e))?)
        }
        None => None,
    };
    let expiration = match info.get("expiration").filter(|v| !v.is_null()) {
        None => Expiration { kind: ExpirationType::NotSpecified, end: None, duration: None },
        Some(e) => {
            let kind_text = field(e, "type").unwrap_or_default();
            let kind = ExpirationType::parse(&kind_text).ok_or_else(|| {
                ApiError::bad_request(
                    "scheduleInfo.expiration.type",
                    format!("'{kind_text}' is not AfterDuration, AfterDateTime or NoExpiration"),
                )
            })?;
            let end = match field(e, "endDateTime") {
                Some(t) => Some(
                    parse_timestamp(&t)
                        .map_err(|err| ApiError::bad_request("scheduleInfo.expiration.endDateTime", err))?,
                ),
                None => None,
            };
            let duration = match field(e, "duration") {
                Some(d) => Some(
                    parse_human_duration(&d)
                        .map_err(|err| ApiError::bad_request("scheduleInfo.expiration.duration", err))?,
                ),
                None => None,
            };
            Expiration { kind, end, duration }
        }
    };
    Ok(Some(ScheduleInfo { start, expiration }))
}

/// An action as ARM spells it (`AdminAssign`).
pub(super) fn pascal(a: Action) -> String {
    let s = a.as_str();
    let mut chars = s.chars();
    chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}
