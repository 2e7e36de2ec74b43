//! The Microsoft Graph router: one function takes a method, a path (with query) and a body, and
//! returns what Graph would: a status and a JSON body. The CLI's `graph` command, scripts and the
//! HTTP listener all go through here, so they cannot drift apart.
//!
//! This file parses the path and holds the routing table; each resource family answers in its own
//! file, and `shape.rs` applies the query options to what they render.

mod alert_views;
mod alerts;
mod approvals;
mod audit_logs;
mod batch;
mod directory_objects;
mod group_views;
mod groups;
mod permissions;
mod policies;
mod requests;
mod role_assignments;
mod role_definitions;
mod schedules;
mod shape;

use crate::model::ErrorCode;
use serde_json::Value;

use super::odata::{self, QueryOptions};
use super::views;
use crate::engine::{Engine, Session};
use crate::model::{ApiError, PrincipalKind, RequestKind, ids};

/// The schedule and instance collections: read-only, and routed alike.
const SCHEDULE_COLLECTIONS: [&str; 4] = [
    "roleEligibilitySchedules",
    "roleAssignmentSchedules",
    "roleEligibilityScheduleInstances",
    "roleAssignmentScheduleInstances",
];

pub use super::response::Response;

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
    /// The entity type the call answers with and the properties its handler named (through
    /// `check_filter`), for checking `$select` and `$orderby` names.
    entity_type: std::cell::RefCell<Option<(String, Vec<String>)>>,
    /// The path ended in `/$count`: a collection answers with its number of items alone.
    count_only: bool,
    /// Where the service answers (`https://graph.microsoft.com`, or a `pimlab serve`): links in
    /// answers (`@odata.context`, `@odata.nextLink`) point there.
    root: &'a str,
}

/// Routes one Graph call.
pub fn handle(
    engine: &mut Engine,
    session: &Session,
    method: &str,
    target: &str,
    body: Option<&str>,
) -> Response {
    handle_at(engine, session, views::GRAPH_ROOT, method, target, body)
}

/// Routes one Graph call answered at `root` (a server's own address): its links point there.
pub fn handle_at(
    engine: &mut Engine,
    session: &Session,
    root: &str,
    method: &str,
    target: &str,
    body: Option<&str>,
) -> Response {
    let method = method.to_ascii_uppercase();
    match route(engine, session, root, &method, target, body) {
        Ok(r) => r,
        Err(e) => error_response(engine, &method, target, body, e),
    }
}

/// A refusal made before a call reaches the router (an unusable token), as Graph sends it.
pub fn refusal(engine: &mut Engine, method: &str, target: &str, e: ApiError) -> Response {
    error_response(engine, method, target, None, e)
}

/// A refusal of `method target` as Graph sends it.
fn error_response(
    engine: &mut Engine,
    method: &str,
    target: &str,
    body: Option<&str>,
    e: ApiError,
) -> Response {
    let e = e.during(&format!("{method} {target}"));
    let now = engine.now().unwrap_or_default();
    // Unique per call, and reproducible: the call, its body, the simulated time and which call
    // of the session it is.
    let call = engine.next_call();
    let request_id = ids::nth_guid(fnv(&format!("{method} {target} {now} {call} {}", body.unwrap_or(""))), 0);
    Response { status: e.status, body: Some(views::error(&e, now, &request_id)) }
}

/// One entity as Graph answers it: `@odata.context` first, then the entity's properties in their
/// order (anything but an object is left as it is).
fn context_first(context: String, entity: Value) -> Value {
    let Value::Object(fields) = entity else { return entity };
    let mut out = serde_json::Map::new();
    out.insert("@odata.context".into(), context.into());
    out.extend(fields);
    Value::Object(out)
}

/// A stable hash, so an error's request-id is reproducible without consuming the id generator.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// What the directory's Graph API lists: schedules of directory roles (Azure resource roles'
/// live in the same store, and answer over ARM).
fn directory_only(rows: Vec<crate::model::Schedule>) -> Vec<crate::model::Schedule> {
    rows.into_iter().filter(|s| s.surface == crate::model::Surface::Directory).collect()
}

fn not_found_path(path: &str) -> ApiError {
    ApiError::new(400, ErrorCode::BadRequest, format!("Resource not found for the segment '{path}'."))
}

fn method_not_allowed(method: &str, path: &str) -> ApiError {
    ApiError::new(
        405,
        ErrorCode::Request_BadRequest,
        format!("The HTTP method '{method}' is not allowed on '{path}'."),
    )
}

/// Splits `name('key')` into `name` and `key`; plain segments stay whole.
fn split_key(segment: &str) -> Vec<String> {
    if let Some((name, rest)) = segment.split_once("('") {
        // `rest`, not the whole segment, must end in `')`: in `x(')` the two share a quote.
        if let Some(key) = rest.strip_suffix("')") {
            if !segment.starts_with("filterByCurrentUser") {
                return vec![name.to_string(), key.to_string()];
            }
        }
    }
    vec![segment.to_string()]
}

fn route(
    engine: &mut Engine,
    session: &Session,
    root: &str,
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
    let query =
        odata::parse_query(raw_query).map_err(|e| ApiError::new(400, ErrorCode::BadRequest, e.message))?;
    let mut call = Call {
        engine,
        session,
        method: method.to_string(),
        version,
        segments,
        query,
        raw_query: raw_query.to_string(),
        body,
        entity_type: Default::default(),
        count_only: false,
        root: root.trim_end_matches('/'),
    };
    let mut response = call.dispatch()?;
    if version == Version::Beta {
        if let Some(body) = response.body.as_mut() {
            views::to_beta(body);
        }
    }
    Ok(response)
}

/// A path segment as sent, percent-decoded (RFC 3986); an escape that is not one, or bytes that
/// are not UTF-8, are kept as they came rather than refused, as the service's router does.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

impl Call<'_> {
    fn path(&self) -> String {
        self.segments.join("/")
    }

    fn context(&self, fragment: &str) -> String {
        format!("{}/{}/$metadata#{fragment}", self.root, self.version.as_str())
    }

    /// An entity as a create answers it: `@odata.context` (`{collection}/$entity`) first, then
    /// the entity's properties.
    fn created_entity(&self, collection: &str, entity: Value) -> Value {
        context_first(self.context(&format!("{collection}/$entity")), entity)
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
            ApiError::bad_request("body", "this call needs a JSON body")
                .with_hint(crate::model::Hint::GiveBody)
        })
    }

    /// The routing table: each resource family answers in its own file.
    fn dispatch(&mut self) -> Result<Response, ApiError> {
        // `.../collection/$count`: the collection's count, as OData answers it.
        if self.segments.len() > 1 && self.segments.last().is_some_and(|s| s == "$count") {
            self.require_method(&["GET"])?;
            self.segments.pop();
            self.count_only = true;
        }
        let segs: Vec<String> = self.segments.clone();
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        if let Some(needed) = permissions::access_for(&self.method, &s, &self.raw_query) {
            crate::engine::check_access(self.session, needed)?;
        }
        match s.as_slice() {
            ["roleManagement", "directory", rest @ ..] => self.directory(rest),
            ["identityGovernance", "privilegedAccess", "group", rest @ ..] => self.groups(rest),
            ["identityGovernance", "roleManagementAlerts", rest @ ..] if self.version == Version::Beta => {
                self.role_management_alerts(rest)
            }
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
            ["me"] => self.me(),
            ["oauth2PermissionGrants"] => self.permission_grants(),
            ["auditLogs", "directoryAudits"] => self.audit(),
            ["$batch"] => self.batch(),
            _ => Err(not_found_path(&self.path())),
        }
    }

    /// The routes under `roleManagement/directory`.
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
}

/// The `on` argument of `filterByCurrentUser(on='...')`.
fn filter_by_current_user_on(segment: &str, allowed: &[&str]) -> Result<String, ApiError> {
    let inner =
        segment.strip_prefix("filterByCurrentUser(").and_then(|s| s.strip_suffix(')')).ok_or_else(|| {
            ApiError::new(400, ErrorCode::BadRequest, format!("'{segment}' is not a valid function call"))
        })?;
    let value = inner.trim().strip_prefix("on=").map(|v| v.trim().trim_matches('\'')).ok_or_else(|| {
        ApiError::bad_request("on", "filterByCurrentUser needs on='principal' (or 'approver' for requests)")
    })?;
    if allowed.contains(&value) {
        Ok(value.to_string())
    } else {
        Err(ApiError::new(400, ErrorCode::BadRequest, format!("Requested value '{value}' was not found."))
            .with_detail("InvalidValue", "on", format!("'{value}' is not one of {}", allowed.join(", "))))
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
        "identityGovernance",
        "privilegedAccess",
        "group",
        "eligibilityScheduleRequests",
        "assignmentScheduleRequests",
        "eligibilitySchedules",
        "assignmentSchedules",
        "eligibilityScheduleInstances",
        "assignmentScheduleInstances",
        "assignmentApprovals",
        "stages",
        "roleManagementAlerts",
        "alerts",
        "alertDefinitions",
        "alertConfigurations",
        "alertIncidents",
        "alertDefinition",
        "alertConfiguration",
        "refresh",
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
    r.status_line()
}
