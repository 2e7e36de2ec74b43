//! The Microsoft Graph router: one function takes a method, a path (with query) and a body, and
//! returns what Graph would: a status and a JSON body. The CLI's `graph` command, scripts and the
//! HTTP listener all go through here, so they cannot drift apart.

use serde_json::{Map, Value};

use super::odata::{self, QueryOptions};
use super::{body, views};
use crate::engine::{Engine, RequestFilter, Session};
use crate::model::approval::Decision;
use crate::model::{ApiError, PrincipalKind, RequestKind, Schedule, ScheduleRequest, Status, ids};

/// The schedule and instance collections: read-only, and routed alike.
const SCHEDULE_COLLECTIONS: [&str; 4] = [
    "roleEligibilitySchedules",
    "roleAssignmentSchedules",
    "roleEligibilityScheduleInstances",
    "roleAssignmentScheduleInstances",
];

/// A Graph response: the HTTP status and the JSON body (none for 204).
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub body: Option<Value>,
}

impl Response {
    fn ok(body: Value) -> Self {
        Response { status: 200, body: Some(body) }
    }
    fn created(body: Value) -> Self {
        Response { status: 201, body: Some(body) }
    }
    fn no_content() -> Self {
        Response { status: 204, body: None }
    }
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Which Graph version a request addressed; it shapes `@odata.context`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    Beta,
}

impl Version {
    fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "v1.0",
            Version::Beta => "beta",
        }
    }
}

struct Call<'a> {
    engine: &'a mut Engine,
    session: &'a Session,
    method: String,
    version: Version,
    segments: Vec<String>,
    query: QueryOptions,
    raw_query: String,
    body: Option<&'a str>,
}

/// Routes one Graph call.
pub fn handle(
    engine: &mut Engine,
    session: &Session,
    method: &str,
    target: &str,
    body: Option<&str>,
) -> Response {
    let method = method.to_ascii_uppercase();
    match route(engine, session, &method, target, body) {
        Ok(r) => r,
        Err(e) => {
            let now = engine.now().unwrap_or_default();
            let request_id = ids::nth_guid(fnv(&format!("{method} {target} {now}")), 0);
            Response { status: e.status, body: Some(views::error(&e, now, &request_id)) }
        }
    }
}

/// A stable hash, so an error's request-id is reproducible without consuming the id generator.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

fn not_found_path(path: &str) -> ApiError {
    ApiError::new(400, "BadRequest", format!("Resource not found for the segment '{path}'."))
}

fn method_not_allowed(method: &str, path: &str) -> ApiError {
    ApiError::new(
        405,
        "Request_BadRequest",
        format!("The HTTP method '{method}' is not allowed on '{path}'."),
    )
}

/// Splits `name('key')` into `name` and `key`; plain segments stay whole.
fn split_key(segment: &str) -> Vec<String> {
    if let Some(open) = segment.find("('") {
        if segment.ends_with("')") && !segment.starts_with("filterByCurrentUser") {
            return vec![segment[..open].to_string(), segment[open + 2..segment.len() - 2].to_string()];
        }
    }
    vec![segment.to_string()]
}

fn route(
    engine: &mut Engine,
    session: &Session,
    method: &str,
    target: &str,
    body: Option<&str>,
) -> Result<Response, ApiError> {
    let target = target.trim();
    let without_host = target
        .strip_prefix("https://graph.microsoft.com")
        .or_else(|| target.strip_prefix("http://graph.microsoft.com"))
        .unwrap_or(target);
    let (path, raw_query) = without_host.split_once('?').unwrap_or((without_host, ""));
    let mut segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .flat_map(|s| split_key(&percent_decode(s)))
        .map(canonical_segment)
        .collect();
    let version = match segments.first().map(String::as_str) {
        Some("v1.0") => {
            segments.remove(0);
            Version::V1
        }
        Some("beta") => {
            segments.remove(0);
            Version::Beta
        }
        _ => Version::V1,
    };
    let query = odata::parse_query(raw_query).map_err(|e| ApiError::new(400, "BadRequest", e.message))?;
    let mut call = Call {
        engine,
        session,
        method: method.to_string(),
        version,
        segments,
        query,
        raw_query: raw_query.to_string(),
        body,
    };
    let mut response = call.dispatch()?;
    if version == Version::Beta {
        if let Some(body) = response.body.as_mut() {
            views::to_beta(body);
        }
    }
    Ok(response)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Graph's limit on requests in one `$batch`.
const MAX_BATCH: usize = 20;

/// Properties each entity type can be filtered and expanded on.
const REQUEST_EXPANDS: &[&str] =
    &["principal", "roleDefinition", "directoryScope", "appScope", "targetSchedule", "activatedUsing"];
const SCHEDULE_EXPANDS: &[&str] =
    &["principal", "roleDefinition", "directoryScope", "appScope", "activatedUsing"];
const ASSIGNMENT_EXPANDS: &[&str] = &["principal", "roleDefinition", "directoryScope", "appScope"];

impl Call<'_> {
    fn path(&self) -> String {
        self.segments.join("/")
    }

    fn context(&self, fragment: &str) -> String {
        format!("{}/{}/$metadata#{fragment}", views::GRAPH_ROOT, self.version.as_str())
    }

    fn require_method(&self, allowed: &[&str]) -> Result<(), ApiError> {
        if allowed.contains(&self.method.as_str()) {
            Ok(())
        } else {
            Err(method_not_allowed(&self.method, &self.path()))
        }
    }

    fn body_text(&self) -> Result<&str, ApiError> {
        self.body.ok_or_else(|| {
            ApiError::bad_request("body", "this call needs a JSON body (--body '{...}' or --body @file.json)")
        })
    }

    fn dispatch(&mut self) -> Result<Response, ApiError> {
        let segs: Vec<String> = self.segments.clone();
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        match s.as_slice() {
            ["roleManagement", "directory", rest @ ..] => self.directory(rest),
            ["policies", "roleManagementPolicies", rest @ ..] => self.policies(rest),
            ["policies", "roleManagementPolicyAssignments", rest @ ..] => self.policy_assignments(rest),
            ["users", rest @ ..] => self.objects(PrincipalKind::User, "users", rest),
            ["groups", rest @ ..] => self.objects(PrincipalKind::Group, "groups", rest),
            ["servicePrincipals", rest @ ..] => {
                self.objects(PrincipalKind::ServicePrincipal, "servicePrincipals", rest)
            }
            ["directory", "administrativeUnits", rest @ ..] => {
                self.objects(PrincipalKind::AdministrativeUnit, "directory/administrativeUnits", rest)
            }
            ["me"] => {
                self.require_method(&["GET"])?;
                let caller = self.session.caller.clone();
                let o = self
                    .engine
                    .object(&caller)?
                    .ok_or_else(|| ApiError::not_found("Request_ResourceNotFound", "Object", &caller))?;
                let v = views::directory_object(&o);
                Ok(self.entity(self.context("users/$entity"), v))
            }
            ["auditLogs", "directoryAudits"] => self.audit(),
            ["$batch"] => self.batch(),
            _ => Err(not_found_path(&self.path())),
        }
    }

    // ---- roleManagement/directory -------------------------------------------------------------

    fn directory(&mut self, rest: &[&str]) -> Result<Response, ApiError> {
        let kind_of = |name: &str| match name {
            n if n.starts_with("roleEligibility") => RequestKind::Eligibility,
            _ => RequestKind::Assignment,
        };
        match rest {
            ["roleDefinitions"] => self.role_definitions(None, None),
            ["roleDefinitions", id] => self.role_definitions(Some(id), None),
            ["roleDefinitions", id, "inheritsPermissionsFrom"] => {
                self.role_definitions(Some(id), Some("inheritsPermissionsFrom"))
            }
            ["roleAssignments"] => self.role_assignments(None),
            ["roleAssignments", id] => self.role_assignments(Some(id)),
            ["roleAssignmentApprovals", rest @ ..] => self.approvals(rest),
            [c @ ("roleEligibilityScheduleRequests" | "roleAssignmentScheduleRequests")] => {
                self.requests(kind_of(c), c, None)
            }
            [c @ ("roleEligibilityScheduleRequests" | "roleAssignmentScheduleRequests"), f]
                if f.starts_with("filterByCurrentUser") =>
            {
                let on = filter_by_current_user_on(f, &["principal", "approver", "createdBy"])?;
                self.requests(kind_of(c), c, Some(on))
            }
            [c @ ("roleEligibilityScheduleRequests" | "roleAssignmentScheduleRequests"), id] => {
                self.request_by_id(kind_of(c), c, id)
            }
            [c @ ("roleEligibilityScheduleRequests" | "roleAssignmentScheduleRequests"), id, "cancel"] => {
                self.require_method(&["POST"])?;
                self.engine.cancel(self.session, kind_of(c), id)?;
                Ok(Response::no_content())
            }
            [c, tail @ ..] if SCHEDULE_COLLECTIONS.contains(c) => {
                let (kind, instances) = (kind_of(c), c.ends_with("Instances"));
                match tail {
                    [] => self.schedules(kind, c, instances, None),
                    [f] if f.starts_with("filterByCurrentUser") => {
                        filter_by_current_user_on(f, &["principal"])?;
                        self.schedules(kind, c, instances, Some(()))
                    }
                    [id] => self.schedule_by_id(kind, c, instances, id),
                    _ => Err(not_found_path(&self.path())),
                }
            }
            _ => Err(not_found_path(&self.path())),
        }
    }

    /// Beta `roleAssignmentApprovals`: an approval (id = request id) with one step per stage.
    /// v1.0 exposes approvals for PIM for Groups only (reference §1.15).
    fn approvals(&mut self, rest: &[&str]) -> Result<Response, ApiError> {
        if self.version != Version::Beta {
            return Err(not_found_path("roleAssignmentApprovals"));
        }
        match rest {
            [f] if f.starts_with("filterByCurrentUser") => {
                self.require_method(&["GET"])?;
                let on = filter_by_current_user_on(f, &["approver", "createdBy", "target"])?;
                let caller = self.session.caller.clone();
                let mut items = Vec::new();
                for (q, approvers) in self.engine.pending_decisions()? {
                    let mine = match on.as_str() {
                        "approver" => approvers.iter().any(|a| a.eq_ignore_ascii_case(&caller)),
                        "createdBy" => q.created_by.eq_ignore_ascii_case(&caller),
                        _ => q.principal_id.eq_ignore_ascii_case(&caller),
                    };
                    if mine && q.status == Status::PendingApproval {
                        items.push(self.approval_json(&q.id)?);
                    }
                }
                Ok(self.collection(self.context("Collection(approval)"), items))
            }
            [id] => {
                self.require_method(&["GET"])?;
                let v = self.approval_json(id)?;
                Ok(self.entity(self.context("roleManagement/directory/roleAssignmentApprovals/$entity"), v))
            }
            [id, "steps"] => {
                self.require_method(&["GET"])?;
                let v = self.approval_json(id)?;
                let items = v["steps"].as_array().cloned().unwrap_or_default();
                let context = format!("roleManagement/directory/roleAssignmentApprovals('{id}')/steps");
                Ok(self.collection(self.context(&context), items))
            }
            [id, "steps", step_id] if self.method == "PATCH" => {
                let body = body::parse_object(self.body_text()?)?;
                for key in body.keys() {
                    if !key.starts_with("@odata.")
                        && !["reviewResult", "justification"].contains(&key.as_str())
                    {
                        return Err(ApiError::new(
                            400,
                            "BadRequest",
                            format!(
                                "The property '{key}' does not exist on type 'microsoft.graph.approvalStep'. Make sure to only use property names that are defined by the type."
                            ),
                        ));
                    }
                }
                let result = body.get("reviewResult").and_then(Value::as_str).ok_or_else(|| {
                    ApiError::bad_request("reviewResult", "reviewResult is required: \"Approve\" or \"Deny\"")
                })?;
                let decision = Decision::parse(result).ok_or_else(|| {
                    ApiError::new(400, "BadRequest", format!("Requested value '{result}' was not found.")).with_detail(
                        "InvalidValue",
                        "reviewResult",
                        format!("'{result}' is not Approve or Deny (write Approve/Deny; they read back as Approved/Denied)"),
                    )
                })?;
                let justification = body.get("justification").and_then(Value::as_str);
                if self.engine.approval_steps(id)?.is_empty() {
                    return Err(ApiError::new(
                        404,
                        "ResourceNotFound",
                        format!("Approval '{id}' does not exist."),
                    ));
                }
                self.engine.decide(self.session, id, Some(step_id), decision, justification)?;
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
                            "ResourceNotFound",
                            format!("Approval step '{step_id}' does not exist."),
                        )
                    })?;
                let context =
                    format!("roleManagement/directory/roleAssignmentApprovals('{id}')/steps/$entity");
                Ok(self.entity(self.context(&context), step))
            }
            _ => Err(not_found_path(&self.path())),
        }
    }

    /// An approval with its steps, as the caller sees it (`assignedToMe`).
    fn approval_json(&mut self, id: &str) -> Result<Value, ApiError> {
        let steps = self.engine.approval_steps(id)?;
        if steps.is_empty() {
            return Err(ApiError::new(404, "ResourceNotFound", format!("Approval '{id}' does not exist.")));
        }
        let caller = self.session.caller.clone();
        let mut rendered = Vec::new();
        for step in &steps {
            let mine = self.engine.may_decide_step(&caller, step)?;
            let reviewer = match &step.reviewed_by {
                Some(r) => self.engine.object(r)?,
                None => None,
            };
            rendered.push(views::approval_step(step, mine, reviewer.as_ref()));
        }
        Ok(serde_json::json!({ "id": steps[0].approval_id, "steps": rendered }))
    }

    fn check_expands(&self, allowed: &[&str], type_name: &str) -> Result<(), ApiError> {
        for e in &self.query.expand {
            if e.name != "*" && !allowed.iter().any(|a| a.eq_ignore_ascii_case(&e.name)) {
                return Err(ApiError::new(
                    400,
                    "BadRequest",
                    format!(
                        "Could not find a property named '{}' on type 'microsoft.graph.{type_name}'.",
                        e.name
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_filter(&self, sample_fields: &[&str], type_name: &str) -> Result<(), ApiError> {
        if let Some(f) = &self.query.filter {
            for p in f.properties() {
                let head = p.split('/').next().unwrap_or_default();
                if !sample_fields.iter().any(|k| k.eq_ignore_ascii_case(head)) {
                    return Err(ApiError::new(
                        400,
                        "BadRequest",
                        format!(
                            "Invalid filter clause: Could not find a property named '{head}' on type 'microsoft.graph.{type_name}'."
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Applies the query to a rendered collection and wraps it as Graph does, with a next link
    /// when `$top` cut it short.
    fn collection(&self, context: String, items: Vec<Value>) -> Response {
        let (page, count) = self.query.apply(items);
        let mut out = Map::new();
        out.insert("@odata.context".into(), context.into());
        if self.query.count {
            out.insert("@odata.count".into(), count.into());
        }
        let skip = self.query.skip.unwrap_or(0);
        if let Some(top) = self.query.top {
            if top > 0 && skip + top < count {
                let rest: Vec<&str> = self
                    .raw_query
                    .split('&')
                    .filter(|p| !p.to_ascii_lowercase().replace("%24", "$").starts_with("$skip="))
                    .collect();
                let mut q = rest.join("&");
                if !q.is_empty() {
                    q.push('&');
                }
                q.push_str(&format!("$skip={}", skip + top));
                out.insert(
                    "@odata.nextLink".into(),
                    format!("{}/{}/{}?{q}", views::GRAPH_ROOT, self.version.as_str(), self.path()).into(),
                );
            }
        }
        out.insert("value".into(), Value::Array(page));
        Response::ok(Value::Object(out))
    }

    fn entity(&self, context: String, mut item: Value) -> Response {
        let (mut shaped, _) = QueryOptions {
            filter: None,
            top: None,
            skip: None,
            orderby: vec![],
            count: false,
            ..self.query.clone()
        }
        .apply(vec![item.take()]);
        let mut v = shaped.pop().unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            let mut out = Map::new();
            out.insert("@odata.context".into(), context.into());
            out.extend(std::mem::take(m));
            v = Value::Object(out);
        }
        Response::ok(v)
    }

    fn role_definitions(&mut self, id: Option<&str>, nav: Option<&str>) -> Result<Response, ApiError> {
        match (id, nav, self.method.as_str()) {
            (None, None, "POST") => {
                let new = body::new_role(self.body_text()?)?;
                let r = self.engine.create_role(self.session, new)?;
                let v = views::role_definition(&r);
                return Ok(Response {
                    status: 201,
                    ..self.entity(self.context("roleManagement/directory/roleDefinitions/$entity"), v)
                });
            }
            (Some(id), None, "PATCH") => {
                let change = body::role_change(self.body_text()?)?;
                self.engine.update_role(self.session, id, change)?;
                return Ok(Response::no_content());
            }
            (Some(id), None, "DELETE") => {
                self.engine.delete_role(self.session, id)?;
                return Ok(Response::no_content());
            }
            _ => self.require_method(&["GET"])?,
        }
        self.check_expands(&["inheritsPermissionsFrom"], "unifiedRoleDefinition")?;
        let expand = self.query.expand_item("inheritsPermissionsFrom").is_some();
        let render = |engine: &mut Engine, r: &crate::model::RoleDefinition| -> Result<Value, ApiError> {
            let mut v = views::role_definition(r);
            if expand {
                let mut parents = Vec::new();
                for p in &r.inherits_permissions_from {
                    parents.push(views::role_definition(&engine.role(p)?));
                }
                v["inheritsPermissionsFrom"] = Value::Array(parents);
            }
            Ok(v)
        };
        match (id, nav) {
            (None, _) => {
                self.check_filter(
                    &["id", "displayName", "isBuiltIn", "isEnabled", "templateId", "description", "version"],
                    "unifiedRoleDefinition",
                )?;
                let roles = self.engine.roles()?;
                let mut items = Vec::new();
                for r in &roles {
                    items.push(render(self.engine, r)?);
                }
                Ok(self.collection(self.context("roleManagement/directory/roleDefinitions"), items))
            }
            (Some(id), None) => {
                let r = self.role_by_id(id)?;
                let v = render(self.engine, &r)?;
                Ok(self.entity(self.context("roleManagement/directory/roleDefinitions/$entity"), v))
            }
            (Some(id), Some(_)) => {
                let r = self.role_by_id(id)?;
                let mut items = Vec::new();
                for p in &r.inherits_permissions_from {
                    items.push(views::role_definition(&self.engine.role(p)?));
                }
                Ok(self.collection(
                    self.context(&format!(
                        "roleManagement/directory/roleDefinitions('{}')/inheritsPermissionsFrom",
                        r.id
                    )),
                    items,
                ))
            }
        }
    }

    /// A role definition by id or template id only: Graph does not look roles up by name.
    fn role_by_id(&mut self, id: &str) -> Result<crate::model::RoleDefinition, ApiError> {
        let missing = || ApiError::not_found("Request_ResourceNotFound", "Role definition", id);
        if !ids::is_guid(id) {
            return Err(missing());
        }
        self.engine.role(id).map_err(|_| missing())
    }

    /// Embeds the expansions a query asks for into one rendered item.
    fn expand_common(
        &mut self,
        v: &mut Value,
        principal: &str,
        role: &str,
        directory_scope: Option<&str>,
    ) -> Result<(), ApiError> {
        if self.query.expand_item("principal").is_some() {
            v["principal"] = match self.engine.object(principal)? {
                Some(o) => views::directory_object(&o),
                None => Value::Null,
            };
        }
        if self.query.expand_item("roleDefinition").is_some() {
            v["roleDefinition"] =
                self.engine.role(role).map(|r| views::role_definition(&r)).unwrap_or(Value::Null);
        }
        if self.query.expand_item("directoryScope").is_some() {
            v["directoryScope"] = match directory_scope.and_then(ids::scope_object_id) {
                Some(id) => {
                    self.engine.object(id)?.map(|o| views::directory_object(&o)).unwrap_or(Value::Null)
                }
                None => Value::Null,
            };
        }
        if self.query.expand_item("appScope").is_some() {
            v["appScope"] = Value::Null;
        }
        Ok(())
    }

    fn render_request(&mut self, q: &ScheduleRequest) -> Result<Value, ApiError> {
        let mut v = views::request(q);
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
                    "BadRequest",
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

    fn requests(
        &mut self,
        kind: RequestKind,
        collection: &str,
        current_user: Option<String>,
    ) -> Result<Response, ApiError> {
        let type_name = views::request_type(kind).trim_start_matches("#microsoft.graph.").to_string();
        if current_user.is_none() && self.method == "POST" {
            let req = body::schedule_request(kind, self.body_text()?)?;
            let q = self.engine.submit(self.session, &req)?;
            let mut v = views::request(&q);
            if let Value::Object(m) = &mut v {
                let mut out = Map::new();
                out.insert(
                    "@odata.context".into(),
                    self.context(&format!("roleManagement/directory/{collection}/$entity")).into(),
                );
                out.extend(std::mem::take(m));
                v = Value::Object(out);
            }
            return Ok(Response::created(v));
        }
        self.require_method(&["GET"])?;
        self.check_expands(REQUEST_EXPANDS, &type_name)?;
        self.check_filter(
            &[
                "id",
                "status",
                "createdDateTime",
                "completedDateTime",
                "approvalId",
                "action",
                "principalId",
                "roleDefinitionId",
                "directoryScopeId",
                "appScopeId",
                "isValidationOnly",
                "targetScheduleId",
                "justification",
                "createdBy",
                "scheduleInfo",
                "ticketInfo",
                "principal",
                "roleDefinition",
            ],
            &type_name,
        )?;
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
        for q in self.engine.requests(&f)? {
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
        Ok(self.collection(context, items))
    }

    fn request_by_id(&mut self, kind: RequestKind, collection: &str, id: &str) -> Result<Response, ApiError> {
        self.require_method(&["GET"])?;
        let type_name = views::request_type(kind).trim_start_matches("#microsoft.graph.").to_string();
        self.check_expands(REQUEST_EXPANDS, &type_name)?;
        let q = self.engine.request(id, Some(kind))?;
        let v = self.render_request(&q)?;
        Ok(self.entity(self.context(&format!("roleManagement/directory/{collection}/$entity")), v))
    }

    fn render_schedule(&mut self, s: &Schedule, instance: bool) -> Result<Value, ApiError> {
        let mut v = if instance { views::instance(s) } else { views::schedule(s) };
        self.expand_common(&mut v, &s.principal_id, &s.role_definition_id, s.directory_scope_id.as_deref())?;
        if self.query.expand_item("activatedUsing").is_some() {
            v["activatedUsing"] = match &s.activated_using {
                Some(id) => match self.engine.schedule_any(id)? {
                    Some(e) if instance => views::instance(&e),
                    Some(e) => views::schedule(&e),
                    None => Value::Null,
                },
                None => Value::Null,
            };
        }
        Ok(v)
    }

    fn schedules(
        &mut self,
        kind: RequestKind,
        collection: &str,
        instances: bool,
        current_user: Option<()>,
    ) -> Result<Response, ApiError> {
        self.require_method(&["GET"])?;
        let type_name = type_name_of(kind, instances);
        let expands: &[&str] =
            if kind == RequestKind::Assignment { SCHEDULE_EXPANDS } else { &SCHEDULE_EXPANDS[..4] };
        self.check_expands(expands, type_name)?;
        let mut fields = vec![
            "id",
            "principalId",
            "roleDefinitionId",
            "directoryScopeId",
            "appScopeId",
            "memberType",
            "principal",
            "roleDefinition",
        ];
        if kind == RequestKind::Assignment {
            fields.push("assignmentType");
        }
        if instances {
            fields.extend([
                "startDateTime",
                "endDateTime",
                "roleAssignmentOriginId",
                "roleAssignmentScheduleId",
                "roleEligibilityScheduleId",
            ]);
        } else {
            fields.extend(["createdUsing", "createdDateTime", "modifiedDateTime", "status", "scheduleInfo"]);
        }
        self.check_filter(&fields, type_name)?;
        let principal_filter = self.query.filter.as_ref().and_then(|f| f.required_eq("principalId"));
        let role_filter = self.query.filter.as_ref().and_then(|f| f.required_eq("roleDefinitionId"));
        let (mine, groups) = match current_user {
            Some(()) => {
                let caller = self.session.caller.clone();
                let groups = self.engine.role_assignable_groups_of(&caller)?;
                (Some(caller), groups)
            }
            None => (None, Vec::new()),
        };
        let rows = if instances {
            self.engine.instances(
                kind,
                if mine.is_some() { None } else { principal_filter.as_deref() },
                role_filter.as_deref(),
            )?
        } else {
            self.engine.schedules(
                kind,
                if mine.is_some() { None } else { principal_filter.as_deref() },
                role_filter.as_deref(),
            )?
        };
        let mut items = Vec::new();
        for s in &rows {
            let via_group = match &mine {
                Some(me) if s.principal_id.eq_ignore_ascii_case(me) => false,
                Some(_) if groups.iter().any(|g| g.eq_ignore_ascii_case(&s.principal_id)) => true,
                Some(_) => continue,
                None => false,
            };
            let mut v = self.render_schedule(s, instances)?;
            if via_group {
                v["memberType"] = "Group".into();
            }
            items.push(v);
        }
        let context = if mine.is_some() {
            self.context(&format!("Collection({type_name})"))
        } else {
            self.context(&format!("roleManagement/directory/{collection}"))
        };
        Ok(self.collection(context, items))
    }

    fn schedule_by_id(
        &mut self,
        kind: RequestKind,
        collection: &str,
        instances: bool,
        id: &str,
    ) -> Result<Response, ApiError> {
        self.require_method(&["GET"])?;
        let found =
            if instances { self.engine.instance(kind, id)? } else { self.engine.schedule(kind, id)? };
        let s = found
            .ok_or_else(|| ApiError::not_found("ResourceNotFound", type_name_of(kind, instances), id))?;
        let v = self.render_schedule(&s, instances)?;
        Ok(self.entity(self.context(&format!("roleManagement/directory/{collection}/$entity")), v))
    }

    fn role_assignments(&mut self, id: Option<&str>) -> Result<Response, ApiError> {
        let tenant = self.engine.tenant_id()?;
        match (id, self.method.as_str()) {
            (None, "POST") => {
                let (principal, role, directory_scope, app_scope) = body::role_assignment(self.body_text()?)?;
                for (field, value) in [("principalId", &principal), ("roleDefinitionId", &role)] {
                    if !ids::is_guid(value) {
                        return Err(ApiError::bad_request(
                            field,
                            format!("'{value}' is not an object id (a GUID)"),
                        ));
                    }
                }
                let s = self.engine.create_role_assignment(
                    self.session,
                    &principal,
                    &role,
                    directory_scope.as_deref(),
                    app_scope.as_deref(),
                )?;
                let mut v = views::role_assignment(&s, &tenant);
                v["@odata.context"] = self.context("roleManagement/directory/roleAssignments/$entity").into();
                Ok(Response::created(v))
            }
            (Some(id), "DELETE") => {
                self.engine.delete_role_assignment(self.session, id)?;
                Ok(Response::no_content())
            }
            (None, "GET") => {
                self.check_expands(ASSIGNMENT_EXPANDS, "unifiedRoleAssignment")?;
                self.check_filter(
                    &[
                        "id",
                        "principalId",
                        "roleDefinitionId",
                        "directoryScopeId",
                        "appScopeId",
                        "principalOrganizationId",
                        "condition",
                        "principal",
                        "roleDefinition",
                    ],
                    "unifiedRoleAssignment",
                )?;
                let principal = self.query.filter.as_ref().and_then(|f| f.required_eq("principalId"));
                let role = self.query.filter.as_ref().and_then(|f| f.required_eq("roleDefinitionId"));
                let rows =
                    self.engine.instances(RequestKind::Assignment, principal.as_deref(), role.as_deref())?;
                let mut items = Vec::new();
                for s in &rows {
                    let mut v = views::role_assignment(s, &tenant);
                    self.expand_common(
                        &mut v,
                        &s.principal_id,
                        &s.role_definition_id,
                        s.directory_scope_id.as_deref(),
                    )?;
                    items.push(v);
                }
                Ok(self.collection(self.context("roleManagement/directory/roleAssignments"), items))
            }
            (Some(id), "GET") => {
                self.check_expands(ASSIGNMENT_EXPANDS, "unifiedRoleAssignment")?;
                let s = self
                    .engine
                    .instance(RequestKind::Assignment, id)?
                    .ok_or_else(|| ApiError::not_found("Request_ResourceNotFound", "Role assignment", id))?;
                let mut v = views::role_assignment(&s, &tenant);
                self.expand_common(
                    &mut v,
                    &s.principal_id,
                    &s.role_definition_id,
                    s.directory_scope_id.as_deref(),
                )?;
                Ok(self.entity(self.context("roleManagement/directory/roleAssignments/$entity"), v))
            }
            _ => Err(method_not_allowed(&self.method, &self.path())),
        }
    }

    // ---- policies ----------------------------------------------------------------------------

    /// The scope type the caller filtered on (`DirectoryRole` or `Directory`); it prefixes policy ids.
    fn policy_scope_type(&self, required: bool) -> Result<String, ApiError> {
        let f = self.query.filter.as_ref();
        let scope_id = f.and_then(|f| f.required_eq("scopeId"));
        let scope_type = f.and_then(|f| f.required_eq("scopeType"));
        match (scope_id.as_deref(), scope_type.as_deref()) {
            (Some("/"), Some(t)) if t.eq_ignore_ascii_case("DirectoryRole") => Ok("DirectoryRole".into()),
            (Some("/"), Some(t)) if t.eq_ignore_ascii_case("Directory") => Ok("Directory".into()),
            (Some(id), Some(t)) => Err(ApiError::new(403, "UnauthorizedAccessException", "Attempted to perform an unauthorized operation.")
                .with_detail("UnsupportedScope", "$filter", format!("no policies at scopeId '{id}' with scopeType '{t}' (directory-role policies are at scopeId '/' with scopeType 'DirectoryRole' or 'Directory')"))),
            _ if !required => Ok("DirectoryRole".into()),
            _ => Err(ApiError::new(400, "BadRequest", "The filter on scopeId and scopeType is required.")
                .with_detail("MissingFilter", "$filter", "add $filter=scopeId eq '/' and scopeType eq 'DirectoryRole'")),
        }
    }

    /// Renders a policy under the id prefix of the scope type asked for (reference §3.10).
    fn policy_view(p: &crate::model::policy::Policy, scope_type: &str) -> crate::model::policy::Policy {
        let mut p = p.clone();
        if scope_type == "Directory" {
            p.id = p.id.replacen("DirectoryRole_", "Directory_", 1);
            p.scope_type = "Directory".into();
        }
        p
    }

    fn find_policy(&mut self, id: &str) -> Result<(crate::model::policy::Policy, String), ApiError> {
        let (stored, scope_type) = match id.strip_prefix("Directory_") {
            Some(rest) => (format!("DirectoryRole_{rest}"), "Directory"),
            None => (id.to_string(), "DirectoryRole"),
        };
        let p = self
            .engine
            .policy(&stored)?
            .ok_or_else(|| ApiError::not_found("ResourceNotFound", "Policy", id))?;
        Ok((Self::policy_view(&p, scope_type), scope_type.to_string()))
    }

    fn policies(&mut self, rest: &[&str]) -> Result<Response, ApiError> {
        match rest {
            [] => {
                self.require_method(&["GET"])?;
                self.check_expands(&["rules", "effectiveRules"], "unifiedRoleManagementPolicy")?;
                self.check_filter(
                    &[
                        "scopeId",
                        "scopeType",
                        "id",
                        "displayName",
                        "description",
                        "isOrganizationDefault",
                        "lastModifiedDateTime",
                    ],
                    "unifiedRoleManagementPolicy",
                )?;
                let scope_type = self.policy_scope_type(true)?;
                let with_rules = !self.query.expand.is_empty();
                let items = self
                    .engine
                    .policies(with_rules)?
                    .iter()
                    .map(|p| self.policy_json(&Self::policy_view(p, &scope_type)))
                    .collect();
                Ok(self.collection(self.context("policies/roleManagementPolicies"), items))
            }
            [id] => {
                self.require_method(&["GET"])?;
                self.check_expands(&["rules", "effectiveRules"], "unifiedRoleManagementPolicy")?;
                let (p, _) = self.find_policy(id)?;
                let v = self.policy_json(&p);
                Ok(self.entity(self.context("policies/roleManagementPolicies/$entity"), v))
            }
            [id, nav @ ("rules" | "effectiveRules")] => {
                self.require_method(&["GET"])?;
                let (p, _) = self.find_policy(id)?;
                let items = views::policy_rules(&p).as_array().cloned().unwrap_or_default();
                Ok(self.collection(
                    self.context(&format!("policies/roleManagementPolicies('{}')/{nav}", p.id)),
                    items,
                ))
            }
            [id, "rules" | "effectiveRules", rule_id] => {
                let (p, _) = self.find_policy(id)?;
                if self.method == "PATCH" {
                    let patch = body::parse_object(self.body_text()?)?;
                    let stored_id = p.id.replacen("Directory_", "DirectoryRole_", 1);
                    self.engine.update_rule(self.session, &stored_id, rule_id, &Value::Object(patch))?;
                    return Ok(Response::no_content());
                }
                self.require_method(&["GET", "PATCH"])?;
                let rule = p
                    .rule(rule_id)
                    .ok_or_else(|| ApiError::not_found("ResourceNotFound", "Rule", rule_id))?;
                let v = serde_json::to_value(rule).expect("rules serialise");
                Ok(self.entity(
                    self.context(&format!("policies/roleManagementPolicies('{}')/rules/$entity", p.id)),
                    v,
                ))
            }
            _ => Err(not_found_path(&self.path())),
        }
    }

    fn policy_json(&self, p: &crate::model::policy::Policy) -> Value {
        let mut v = views::policy(p, false);
        for name in ["rules", "effectiveRules"] {
            if self.query.expand_item(name).is_some() {
                v[name] = views::policy_rules(p);
            }
        }
        v
    }

    fn policy_assignments(&mut self, rest: &[&str]) -> Result<Response, ApiError> {
        self.require_method(&["GET"])?;
        self.check_expands(&["policy"], "unifiedRoleManagementPolicyAssignment")?;
        let embed = |this: &Self, p: &crate::model::policy::Policy| -> Value {
            let mut v = views::policy_assignment(p);
            if let Some(e) = this.query.expand_item("policy") {
                let mut pv = views::policy(p, false);
                for name in ["rules", "effectiveRules"] {
                    if e.options.expand_item(name).is_some() {
                        pv[name] = views::policy_rules(p);
                    }
                }
                v["policy"] = pv;
            }
            v
        };
        match rest {
            [] => {
                self.check_filter(
                    &["scopeId", "scopeType", "roleDefinitionId", "policyId", "id"],
                    "unifiedRoleManagementPolicyAssignment",
                )?;
                let scope_type = self.policy_scope_type(true)?;
                let with_rules = self.query.expand_item("policy").is_some();
                let items = self
                    .engine
                    .policies(with_rules)?
                    .iter()
                    .map(|p| embed(self, &Self::policy_view(p, &scope_type)))
                    .collect();
                Ok(self.collection(self.context("policies/roleManagementPolicyAssignments"), items))
            }
            [id] => {
                // `{policyId}_{roleDefinitionId}`: both halves must match.
                let missing = || ApiError::not_found("ResourceNotFound", "Policy assignment", id);
                let (policy_id, role_id) = id.rsplit_once('_').ok_or_else(missing)?;
                let (p, _) = self.find_policy(policy_id).map_err(|_| missing())?;
                if !p.role_definition_id.eq_ignore_ascii_case(role_id) {
                    return Err(missing());
                }
                let v = embed(self, &p);
                Ok(self.entity(self.context("policies/roleManagementPolicyAssignments/$entity"), v))
            }
            _ => Err(not_found_path(&self.path())),
        }
    }

    // ---- directory objects -------------------------------------------------------------------

    fn objects(
        &mut self,
        kind: PrincipalKind,
        collection: &str,
        rest: &[&str],
    ) -> Result<Response, ApiError> {
        let type_name = kind.odata_type().trim_start_matches("#microsoft.graph.");
        match (rest, self.method.as_str()) {
            ([], "POST") => {
                let new = body::directory_object(kind, self.body_text()?)?;
                let o = self.engine.create_object(self.session, new)?;
                let mut v = views::directory_object(&o);
                if let Value::Object(m) = &mut v {
                    let mut out = Map::new();
                    out.insert(
                        "@odata.context".into(),
                        self.context(&format!("{collection}/$entity")).into(),
                    );
                    out.extend(std::mem::take(m));
                    v = Value::Object(out);
                }
                Ok(Response::created(v))
            }
            ([], "GET") => {
                self.check_filter(
                    &[
                        "id",
                        "displayName",
                        "userPrincipalName",
                        "mail",
                        "accountEnabled",
                        "isAssignableToRole",
                        "securityEnabled",
                        "mailEnabled",
                        "appId",
                        "description",
                        "createdDateTime",
                    ],
                    type_name,
                )?;
                let items = self.engine.objects(kind)?.iter().map(views::directory_object).collect();
                Ok(self.collection(self.context(collection), items))
            }
            ([id], "GET") => {
                let o = self.engine.object(id)?.filter(|o| o.kind == kind);
                let o = match o {
                    Some(o) => o,
                    // Users can also be addressed by user principal name.
                    None if kind == PrincipalKind::User => self
                        .engine
                        .resolve_object(id)
                        .ok()
                        .filter(|o| {
                            o.kind == kind
                                && o.user_principal_name
                                    .as_deref()
                                    .is_some_and(|u| u.eq_ignore_ascii_case(id))
                        })
                        .ok_or_else(|| ApiError::not_found("Request_ResourceNotFound", "Resource", id))?,
                    None => {
                        return Err(ApiError::not_found("Request_ResourceNotFound", "Resource", id));
                    }
                };
                let v = views::directory_object(&o);
                Ok(self.entity(self.context(&format!("{collection}/$entity")), v))
            }
            ([id, rel @ ("members" | "owners")], "GET") => {
                let relation = if *rel == "members" { "member" } else { "owner" };
                let items = self.engine.members(id, relation)?.iter().map(views::directory_object).collect();
                Ok(self.collection(self.context("directoryObjects"), items))
            }
            ([id, rel @ ("members" | "owners"), "$ref"], "POST") => {
                let relation = if *rel == "members" { "member" } else { "owner" };
                let member = body::reference(self.body_text()?)?;
                self.engine.add_member(self.session, id, &member, relation)?;
                Ok(Response::no_content())
            }
            _ => Err(method_not_allowed(&self.method, &self.path())),
        }
    }

    /// `POST /$batch`: up to 20 requests, each answered on its own, all in one store transaction
    /// (each request in its own savepoint, so a refused one changes nothing).
    fn batch(&mut self) -> Result<Response, ApiError> {
        self.require_method(&["POST"])?;
        let body = body::parse_object(self.body_text()?)?;
        let Some(Value::Array(requests)) = body.get("requests") else {
            return Err(ApiError::bad_request(
                "requests",
                "a batch body is {\"requests\": [{\"id\", \"method\", \"url\", \"body\"}]}",
            ));
        };
        if requests.len() > MAX_BATCH {
            return Err(ApiError::new(
                400,
                "BadRequest",
                format!(
                    "Number of requests in batch exceeds the maximum of {MAX_BATCH}: {} requests given.",
                    requests.len()
                ),
            ));
        }
        let mut parsed = Vec::new();
        for (i, r) in requests.iter().enumerate() {
            let field = |name: &str| format!("requests[{i}].{name}");
            let id = r
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::bad_request(&field("id"), "each request needs a string id"))?;
            let method = r
                .get("method")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::bad_request(&field("method"), "each request needs a method"))?;
            let url = r
                .get("url")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::bad_request(&field("url"), "each request needs a url"))?;
            let body = match r.get("body") {
                None | Some(Value::Null) => None,
                Some(b) => Some(b.to_string()),
            };
            if parsed.iter().any(|(other, ..): &(String, String, String, Option<String>)| other == id) {
                return Err(ApiError::bad_request(&field("id"), format!("the id '{id}' is used twice")));
            }
            parsed.push((id.to_string(), method.to_string(), url.to_string(), body));
        }
        let version = self.version;
        let session = self.session;
        let responses = self.engine.batch(|engine| {
            parsed
                .iter()
                .map(|(id, method, url, body)| {
                    let target = format!("/{}/{}", version.as_str(), url.trim_start_matches('/'));
                    let r = handle(engine, session, method, &target, body.as_deref());
                    let mut out = Map::new();
                    out.insert("id".into(), id.clone().into());
                    out.insert("status".into(), r.status.into());
                    out.insert("headers".into(), serde_json::json!({"Content-Type": "application/json"}));
                    if let Some(b) = r.body {
                        out.insert("body".into(), b);
                    }
                    Value::Object(out)
                })
                .collect::<Vec<_>>()
        })?;
        Ok(Response::ok(serde_json::json!({ "responses": responses })))
    }

    fn audit(&mut self) -> Result<Response, ApiError> {
        self.require_method(&["GET"])?;
        self.check_filter(
            &[
                "activityDateTime",
                "activityDisplayName",
                "category",
                "correlationId",
                "result",
                "targetResources",
                "initiatedBy",
                "loggedByService",
                "operationType",
                "id",
            ],
            "directoryAudit",
        )?;
        let mut items = Vec::new();
        for a in self.engine.audit(&Default::default())? {
            let actor = self.engine.object(&a.actor_id)?;
            items.push(views::audit_record(&a, actor.as_ref()));
        }
        // Newest first, as the real log lists them.
        items.reverse();
        Ok(self.collection(self.context("auditLogs/directoryAudits"), items))
    }
}

fn type_name_of(kind: RequestKind, instances: bool) -> &'static str {
    match (kind, instances) {
        (RequestKind::Eligibility, false) => "unifiedRoleEligibilitySchedule",
        (RequestKind::Assignment, false) => "unifiedRoleAssignmentSchedule",
        (RequestKind::Eligibility, true) => "unifiedRoleEligibilityScheduleInstance",
        (RequestKind::Assignment, true) => "unifiedRoleAssignmentScheduleInstance",
    }
}

/// The `on` argument of `filterByCurrentUser(on='...')`.
fn filter_by_current_user_on(segment: &str, allowed: &[&str]) -> Result<String, ApiError> {
    let inner =
        segment.strip_prefix("filterByCurrentUser(").and_then(|s| s.strip_suffix(')')).ok_or_else(|| {
            ApiError::new(400, "BadRequest", format!("'{segment}' is not a valid function call"))
        })?;
    let value = inner.trim().strip_prefix("on=").map(|v| v.trim().trim_matches('\'')).ok_or_else(|| {
        ApiError::bad_request("on", "filterByCurrentUser needs on='principal' (or 'approver' for requests)")
    })?;
    if allowed.contains(&value) {
        Ok(value.to_string())
    } else {
        Err(ApiError::new(400, "BadRequest", format!("Requested value '{value}' was not found."))
            .with_detail("InvalidValue", "on", format!("'{value}' is not one of {}", allowed.join(", "))))
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

/// Graph matches path segments case-insensitively; this gives each known segment its canonical
/// spelling so the router can match on it. Keys and function calls pass through unchanged.
fn canonical_segment(segment: String) -> String {
    const KNOWN: &[&str] = &[
        "v1.0",
        "beta",
        "roleManagement",
        "directory",
        "roleDefinitions",
        "inheritsPermissionsFrom",
        "roleAssignments",
        "roleEligibilityScheduleRequests",
        "roleAssignmentScheduleRequests",
        "roleEligibilitySchedules",
        "roleAssignmentSchedules",
        "roleEligibilityScheduleInstances",
        "roleAssignmentScheduleInstances",
        "cancel",
        "policies",
        "roleManagementPolicies",
        "roleManagementPolicyAssignments",
        "rules",
        "effectiveRules",
        "users",
        "groups",
        "servicePrincipals",
        "administrativeUnits",
        "members",
        "owners",
        "$ref",
        "me",
        "auditLogs",
        "directoryAudits",
        "$batch",
        "roleAssignmentApprovals",
        "steps",
    ];
    if let Some(k) = KNOWN.iter().find(|k| k.eq_ignore_ascii_case(&segment)) {
        return (*k).to_string();
    }
    match segment.find('(') {
        Some(i) if segment[..i].eq_ignore_ascii_case("filterByCurrentUser") => {
            format!("filterByCurrentUser{}", &segment[i..])
        }
        _ => segment,
    }
}

/// A one-line summary of a response for logs: `HTTP 201`.
pub fn status_line(r: &Response) -> String {
    format!("HTTP {}", r.status)
}
