//! The Azure Resource Manager router for `Microsoft.Authorization`: one function takes a method, a
//! path (with query) and a body, and returns what ARM would: a status and a JSON body. The CLI's
//! `arm` command and scripts' `pim.arm` go through here.
//!
//! A path is `{scope}/providers/Microsoft.Authorization/{type}[/{name}[/{action}]]?api-version=...`
//! (arm-pim reference §0.2), `{scope}` being empty (the tenant), a management group, a
//! subscription, a resource group or a resource. This file splits the path, checks the scope and
//! the `api-version`, and routes by resource type; each family answers in its own file, and
//! `views.rs` writes ARM's wire format.

mod approval_views;
mod approvals;
mod children;
mod policies;
mod requests;
mod role_definitions;
pub(crate) mod rules;
mod schedules;
pub mod views;

use serde_json::Value;

use crate::api::response::Response;
use crate::engine::{Engine, Session, fidelity};
use crate::model::RequestKind;
use crate::model::azure_scope::AzureScope;
use crate::model::{ApiError, ErrorCode};
use schedules::{Collection, Placement, Placer};

/// The provider segment every `Microsoft.Authorization` path has.
const PROVIDER: &str = "providers/Microsoft.Authorization";

/// Where ARM answers; `nextLink`s point there unless a server says otherwise.
pub const ARM_ROOT: &str = "https://management.azure.com";

/// Routes one ARM call.
pub fn handle(
    engine: &mut Engine,
    session: &Session,
    method: &str,
    target: &str,
    body: Option<&str>,
) -> Response {
    handle_at(engine, session, ARM_ROOT, method, target, body)
}

/// Routes one ARM call answered at `root` (a server's own address): next links point there.
pub fn handle_at(
    engine: &mut Engine,
    session: &Session,
    root: &str,
    method: &str,
    target: &str,
    body: Option<&str>,
) -> Response {
    let method = method.to_ascii_uppercase();
    let routed = delegated_scope(session).and_then(|()| route(engine, session, root, &method, target, body));
    match routed {
        Ok(r) => r,
        Err(e) => Response { status: e.status, body: Some(views::error(&e)) },
    }
}

/// The rules of an Azure role's settings nobody has changed, as ARM writes them (the exported
/// plan compares a changed policy with them).
pub fn default_policy_rules() -> Vec<Value> {
    crate::model::policy::default_azure_resource_rules().iter().map(rules::to_arm).collect()
}

/// An application calling ARM for a user needs the Azure Service Management scope
/// `user_impersonation`; acting as itself it needs none (Azure RBAC alone decides). Without it ARM
/// refuses the token (`ARM_SCOPE_MISSING_CODE`; Azure's sign-in would not issue such a token).
fn delegated_scope(session: &Session) -> Result<(), ApiError> {
    if !matches!(session.client, crate::engine::Client::Delegated { .. }) {
        return Ok(());
    }
    crate::engine::check_access(session, crate::model::permissions::Access::AzureManagement).map_err(|e| {
        let mut refused = ApiError::new(
            401,
            fidelity::ARM_SCOPE_MISSING_CODE,
            "The access token is invalid: it does not carry the user_impersonation scope of Azure Service Management.",
        );
        refused.details = e.details;
        refused
    })
}

/// The families of `Microsoft.Authorization` resource types, by the `api-version`s they accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Pim,
    Rbac,
    Approvals,
}

impl Family {
    fn versions(self) -> &'static [&'static str] {
        match self {
            Family::Pim => fidelity::ARM_PIM_API_VERSIONS,
            Family::Rbac => fidelity::ARM_RBAC_API_VERSIONS,
            Family::Approvals => fidelity::ARM_APPROVAL_API_VERSIONS,
        }
    }
}

/// Every resource type pimlab knows of `Microsoft.Authorization`, as ARM spells it, with its
/// family.
const RESOURCE_TYPES: &[(&str, Family)] = &[
    ("roleEligibilityScheduleRequests", Family::Pim),
    ("roleAssignmentScheduleRequests", Family::Pim),
    ("roleEligibilitySchedules", Family::Pim),
    ("roleAssignmentSchedules", Family::Pim),
    ("roleEligibilityScheduleInstances", Family::Pim),
    ("roleAssignmentScheduleInstances", Family::Pim),
    ("roleManagementPolicies", Family::Pim),
    ("roleManagementPolicyAssignments", Family::Pim),
    ("eligibleChildResources", Family::Pim),
    ("roleAssignments", Family::Rbac),
    ("roleDefinitions", Family::Rbac),
    ("roleAssignmentApprovals", Family::Approvals),
];

/// One call, split up.
struct Call<'a> {
    engine: &'a mut Engine,
    session: &'a Session,
    body: Option<&'a str>,
    method: String,
    /// None: the tenant (a path that starts with `/providers/Microsoft.Authorization`).
    scope: Option<AzureScope>,
    /// The resource type as ARM spells it (whatever case the caller used).
    resource_type: &'static str,
    /// What follows the resource type: a name, then an action (`cancel`, `validate`).
    rest: Vec<String>,
    filter: Option<String>,
    /// Where the call was answered and what it asked, for a list's `nextLink`.
    root: String,
    path: String,
    raw_query: String,
    /// How many items earlier pages gave (`$skipToken`).
    skip: usize,
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
    let without_host = ["https://management.azure.com", "http://management.azure.com"]
        .iter()
        .find_map(|host| target.strip_prefix(host))
        .unwrap_or(target);
    let (path, raw_query) = without_host.split_once('?').unwrap_or((without_host, ""));
    let path = percent_encoding::percent_decode_str(path).decode_utf8_lossy().into_owned();
    let path = if path.starts_with('/') { path } else { format!("/{path}") };
    let query = parse_query(raw_query);
    // ASCII lower-casing keeps byte offsets, so a match in `lower` cuts `path` at the same place.
    let lower = path.to_ascii_lowercase();
    let marker = format!("/{}/", PROVIDER.to_ascii_lowercase());
    let Some(at) = lower.find(&marker) else {
        return Err(ApiError::new(
            400,
            ErrorCode::InvalidResourceType,
            format!("The request path '{path}' does not name a {PROVIDER} resource type."),
        )
        .with_detail(
            "Path",
            "path",
            format!("pimlab's ARM router answers {{scope}}/{PROVIDER}/{{type}}[/{{name}}]"),
        ));
    };
    let scope_text = &path[..at];
    let tail: Vec<String> =
        path[at + marker.len()..].split('/').filter(|s| !s.is_empty()).map(str::to_string).collect();
    let Some(type_text) = tail.first() else {
        return Err(ApiError::new(
            400,
            ErrorCode::InvalidResourceType,
            "The request path names no resource type.",
        ));
    };
    let version = query.api_version.clone();
    let Some(&(resource_type, family)) =
        RESOURCE_TYPES.iter().find(|(t, _)| t.eq_ignore_ascii_case(type_text))
    else {
        return Err(ApiError::new(
            400,
            ErrorCode::InvalidResourceType,
            format!(
                "The resource type '{type_text}' could not be found in the namespace 'Microsoft.Authorization' for api version '{}'.",
                version.as_deref().unwrap_or("")
            ),
        ));
    };
    check_api_version(resource_type, family, version.as_deref())?;
    let scope = if scope_text.trim_matches('/').is_empty() {
        None
    } else {
        // The estate's spelling, whatever the caller's: ids echo the scope as the tree holds it.
        let scope = crate::engine::azure_scopes::parse_scope(scope_text)?;
        Some(engine.azure_scope_at(&scope)?.scope)
    };
    let mut call = Call {
        engine,
        session,
        body,
        method: method.to_string(),
        scope,
        resource_type,
        rest: tail[1..].to_vec(),
        filter: query.filter,
        root: root.trim_end_matches('/').to_string(),
        path: path.clone(),
        raw_query: raw_query.to_string(),
        skip: query.skip,
    };
    call.dispatch()
}

/// The query options ARM reads: `api-version`, `$filter`, and a next link's `$skipToken`.
struct Query {
    api_version: Option<String>,
    filter: Option<String>,
    skip: usize,
}

fn parse_query(raw: &str) -> Query {
    let mut q = Query { api_version: None, filter: None, skip: 0 };
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value =
            percent_encoding::percent_decode_str(&value.replace('+', " ")).decode_utf8_lossy().into_owned();
        match key.to_ascii_lowercase().as_str() {
            "api-version" => q.api_version = Some(value),
            "$filter" | "%24filter" => q.filter = Some(value),
            "$skiptoken" | "%24skiptoken" => q.skip = value.trim().parse().unwrap_or(0),
            _ => {}
        }
    }
    q
}

/// ARM refuses a call without `api-version`, or with one the resource type does not have.
fn check_api_version(resource_type: &str, family: Family, version: Option<&str>) -> Result<(), ApiError> {
    let supported = family.versions();
    match version {
        None | Some("") => Err(ApiError::new(
            400,
            ErrorCode::MissingApiVersionParameter,
            "The api-version query parameter (?api-version=) is required for all requests.",
        )),
        Some(v) if supported.iter().any(|s| s.eq_ignore_ascii_case(v)) => Ok(()),
        Some(v) => Err(ApiError::new(
            400,
            fidelity::ARM_UNSUPPORTED_API_VERSION_CODE,
            format!(
                "The resource type '{resource_type}' could not be found in the namespace 'Microsoft.Authorization' for api version '{v}'. The supported api-versions are '{}'.",
                supported.join(",")
            ),
        )),
    }
}

impl Call<'_> {
    fn dispatch(&mut self) -> Result<Response, ApiError> {
        match self.resource_type {
            "roleDefinitions" => self.role_definitions(),
            "roleEligibilityScheduleRequests" => {
                self.schedule_requests(crate::model::RequestKind::Eligibility)
            }
            "roleAssignmentScheduleRequests" => self.schedule_requests(crate::model::RequestKind::Assignment),
            "roleEligibilitySchedules" => self.read_only(Collection::Schedules(RequestKind::Eligibility)),
            "roleAssignmentSchedules" => self.read_only(Collection::Schedules(RequestKind::Assignment)),
            "roleEligibilityScheduleInstances" => {
                self.read_only(Collection::Instances(RequestKind::Eligibility))
            }
            "roleAssignmentScheduleInstances" => {
                self.read_only(Collection::Instances(RequestKind::Assignment))
            }
            "roleAssignments" if self.method == "GET" => self.read_only(Collection::RoleAssignments),
            "eligibleChildResources" => self.eligible_child_resources(),
            "roleManagementPolicies" => self.policies(false),
            "roleManagementPolicyAssignments" => self.policies(true),
            "roleAssignmentApprovals" => self.approvals(),
            other => Err(ApiError::new(
                501,
                ErrorCode::PimlabNotModelled,
                format!("pimlab does not answer {other} over ARM yet."),
            )
            .with_detail(
                "NotModelled",
                other,
                "the Azure resource roles of PIM are being built; role definitions answer today",
            )),
        }
    }

    /// A list's test of where requests were made, against the call's scope; none at the tenant,
    /// where every request counts.
    fn placer(&mut self) -> Result<Option<Placer>, ApiError> {
        match self.scope.clone() {
            Some(scope) => Ok(Some(Placer::new(self, &scope)?)),
            None => Ok(None),
        }
    }

    /// Whether something made at `path` sits at the call's scope or below it in the estate's tree
    /// (a subscription is below its management group, which its path does not show).
    fn made_at_or_below(
        &mut self,
        placer: &mut Option<Placer>,
        path: Option<&str>,
    ) -> Result<bool, ApiError> {
        match placer {
            None => Ok(true),
            Some(p) => Ok(matches!(p.place_path(self, path)?, Some(Placement::At | Placement::Below))),
        }
    }

    /// Whether the caller may read everyone's role assignments, schedules and requests at the
    /// call's scope (arm-pim §2.4); at the tenant level, whether they may at the tenant root.
    fn may_read_all(&mut self) -> Result<bool, ApiError> {
        let scope = match self.scope.clone() {
            Some(s) => s,
            None => AzureScope::tenant_root(&self.engine.tenant_id()?),
        };
        self.engine.may_read_azure_assignments(self.session, &scope)
    }

    /// A caller without read rights sees only their own items (arm-pim §2.4): a list needs
    /// `$filter=asTarget()` (`own_only`), and one item must be theirs (`own`).
    fn require_read(&mut self, own: bool) -> Result<(), ApiError> {
        if own || self.may_read_all()? {
            return Ok(());
        }
        Err(ApiError::new(
            403,
            fidelity::ARM_READ_NEEDS_AS_TARGET_CODE,
            format!(
                "The requestor {} does not have permissions for this request. Please use $filter=asTarget() to filter on the requestor's assignments.",
                self.session.caller
            ),
        )
        .with_detail(
            "ReadRights",
            "caller",
            "reading everyone's items at a scope needs an active Azure role there or above that may read role assignments (Reader, or any role granting Microsoft.Authorization/roleAssignments/read)",
        ))
    }

    /// ARM's prefix of ids at the call's scope: `{scope}/providers/Microsoft.Authorization`.
    fn prefix(&self) -> String {
        format!("{}/{PROVIDER}", self.scope.as_ref().map(AzureScope::path).unwrap_or(""))
    }

    fn require_method(&self, allowed: &[&str]) -> Result<(), ApiError> {
        if allowed.contains(&self.method.as_str()) {
            return Ok(());
        }
        Err(self.method_refused())
    }

    /// ARM's 405 for a method the resource does not have.
    fn method_refused(&self) -> ApiError {
        ApiError::new(
            405,
            ErrorCode::BadRequest,
            format!("The requested resource does not support http method '{}'.", self.method),
        )
    }
}

/// ARM's 400 for a `$filter` a collection does not take, saying what it does take.
fn unsupported_filter(text: &str, takes: &str) -> ApiError {
    ApiError::new(400, ErrorCode::InvalidFilter, format!("The filter '{text}' is not supported."))
        .with_detail("InvalidFilter", "$filter", takes)
}

/// ARM's 400 for a body it cannot read, in the words of its deserializer.
pub(super) fn invalid_content(why: &str) -> ApiError {
    ApiError::new(
        400,
        ErrorCode::InvalidRequestContent,
        format!("The request content was invalid and could not be deserialized: '{why}'."),
    )
}

/// A PUT body's `properties` object: a body that is not JSON, or has none, is ARM's
/// `InvalidRequestContent`.
pub(super) fn body_properties(body: &str) -> Result<(Value, serde_json::Map<String, Value>), ApiError> {
    let value: Value = serde_json::from_str(body).map_err(|e| invalid_content(&e.to_string()))?;
    let props = value
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| invalid_content("Required property 'properties' not found in JSON"))?;
    Ok((value, props))
}

/// A string property of a body's `properties` (absent or null: None), in the words of ARM's
/// deserializer when it is not a string.
pub(super) fn property_text(
    props: &serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<String>, ApiError> {
    match props.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(invalid_content(&format!(
            "Error converting value {other} to type 'String'. Path 'properties.{key}'"
        ))),
    }
}

/// ARM's 403 for a caller without `action` over `scope`, in the words ARM uses (arm-pim §4.1).
fn authorization_failed(caller: &str, action: &str, scope: &str) -> ApiError {
    ApiError::new(
        403,
        ErrorCode::AuthorizationFailed,
        format!(
            "The client '{caller}' with object id '{caller}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials."
        ),
    )
}

/// The value of a filter term's single-quoted literal (`'Owner'` gives `Owner`).
fn quoted(value: &str) -> Option<&str> {
    value.trim().strip_prefix('\'').and_then(|v| v.strip_suffix('\''))
}

impl Call<'_> {
    /// A list as ARM answers it: `{"value": [...]}`, a page at a time, with a `nextLink` (the
    /// same call with `$skipToken`) while more items remain.
    fn list(&self, items: Vec<Value>) -> Response {
        let page = fidelity::ARM_PAGE_SIZE;
        let rest = items.len().saturating_sub(self.skip);
        let value: Vec<Value> = items.into_iter().skip(self.skip).take(page).collect();
        let mut body = serde_json::json!({ "value": value });
        if rest > page {
            let kept: Vec<&str> = self
                .raw_query
                .split('&')
                .filter(|p| !p.is_empty() && !p.to_ascii_lowercase().starts_with("$skiptoken="))
                .collect();
            body["nextLink"] = serde_json::json!(format!(
                "{}{}?{}&$skipToken={}",
                self.root,
                self.path,
                kept.join("&"),
                self.skip + page
            ));
        }
        Response::ok(body)
    }
}
