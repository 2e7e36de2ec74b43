//! Microsoft Graph calls through the router (`pimlab::api::graph::handle`), as a server would
//! make them, on a tenant in memory or in a store file; and the checks of the Graph error
//! envelope.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pimlab::api::graph;
use pimlab::engine::{Engine, InitOptions, Session};
use pimlab::model::IsoDuration;
use serde_json::{Value, json};
use tempfile::TempDir;
use uuid::Uuid;

use super::{s, store};

pub const ROOT: &str = "https://graph.microsoft.com";
pub const ELIG_REQS: &str = "/v1.0/roleManagement/directory/roleEligibilityScheduleRequests";
pub const ASSIGN_REQS: &str = "/v1.0/roleManagement/directory/roleAssignmentScheduleRequests";
pub const ELIG_SCHEDULES: &str = "/v1.0/roleManagement/directory/roleEligibilitySchedules";
pub const ASSIGN_SCHEDULES: &str = "/v1.0/roleManagement/directory/roleAssignmentSchedules";
pub const ELIG_INSTANCES: &str = "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances";
pub const ASSIGN_INSTANCES: &str = "/v1.0/roleManagement/directory/roleAssignmentScheduleInstances";
pub const ROLE_ASSIGNMENTS: &str = "/v1.0/roleManagement/directory/roleAssignments";
pub const ROLE_DEFINITIONS: &str = "/v1.0/roleManagement/directory/roleDefinitions";
pub const APPROVALS: &str = "/beta/roleManagement/directory/roleAssignmentApprovals";
pub const POLICIES: &str = "/v1.0/policies/roleManagementPolicies";
pub const POLICY_ASSIGNMENTS: &str = "/v1.0/policies/roleManagementPolicyAssignments";
pub const AUDITS: &str = "/v1.0/auditLogs/directoryAudits";
pub const DIRECTORY_ROLE_SCOPE: &str = "scopeId eq '/' and scopeType eq 'DirectoryRole'";
pub const ME: &str = "filterByCurrentUser(on='principal')";
pub const AS_APPROVER: &str = "filterByCurrentUser(on='approver')";

/// One Graph call: the status and the JSON body (`null` for 204).
pub fn call(
    engine: &mut Engine,
    session: &Session,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let r = graph::handle(engine, session, method, path, body);
    (r.status, r.body.unwrap_or(Value::Null))
}

/// The caller with this object id.
pub fn session(id: &str) -> Session {
    Session::new(id)
}

/// A schedule request body as real clients send it: tenant scope, the justification
/// "integration test", an expiration ([`after`], [`until`] or [`never`]).
pub fn request(action: &str, principal: &str, role: &str, expiration: Value) -> Value {
    json!({
        "action": action,
        "principalId": principal,
        "roleDefinitionId": role,
        "directoryScopeId": "/",
        "justification": "integration test",
        "scheduleInfo": {"expiration": expiration},
    })
}

/// A request body with a start time as well.
pub fn request_at(action: &str, principal: &str, role: &str, start: &str, expiration: Value) -> Value {
    let mut b = request(action, principal, role, expiration);
    b["scheduleInfo"]["startDateTime"] = start.into();
    b
}

/// `"expiration"` after an ISO 8601 duration.
pub fn after(duration: &str) -> Value {
    json!({"type": "afterDuration", "duration": duration})
}

/// `"expiration"` at a time.
pub fn until(end: &str) -> Value {
    json!({"type": "afterDateTime", "endDateTime": end})
}

/// `"expiration"` never.
pub fn never() -> Value {
    json!({"type": "noExpiration"})
}

/// A tenant behind the router, and its break-glass Global Administrator.
pub struct Lab {
    pub engine: Engine,
    pub admin: Session,
    /// The store file, for tenants made with [`Lab::demo_on_file`].
    file: Option<(TempDir, std::path::PathBuf)>,
}

impl Lab {
    /// A new tenant (seed 1, the default clock) in memory.
    pub fn new() -> Lab {
        Lab::with(InitOptions::default())
    }

    /// The demonstration tenant (seed 1, the default clock) in memory.
    pub fn demo() -> Lab {
        Lab::with(InitOptions { demo: true, ..InitOptions::default() })
    }

    /// A tenant made with `opts`, in memory.
    pub fn with(opts: InitOptions) -> Lab {
        let mut engine = Engine::in_memory().expect("in-memory store");
        engine.init(&opts).expect("init");
        let admin = Session::new(engine.default_caller().expect("default caller"));
        Lab { engine, admin, file: None }
    }

    /// The demonstration tenant in a store file, so that [`Lab::dump`] can prove a refusal
    /// changed nothing.
    pub fn demo_on_file() -> Lab {
        let t = store::FileTenant::demo();
        Lab { engine: t.engine, admin: t.admin, file: Some((t.dir, t.db)) }
    }

    #[track_caller]
    fn db(&self) -> &std::path::Path {
        &self.file.as_ref().expect("an in-memory tenant has no store file: use Lab::demo_on_file").1
    }

    /// Every row of the store file but the refusals' audit rows ([`store::logical_dump`]).
    #[track_caller]
    pub fn dump(&self) -> String {
        store::logical_dump(self.db())
    }

    /// How many refused requests the store's audit trail records.
    #[track_caller]
    pub fn failures(&self) -> i64 {
        store::failure_audits(self.db())
    }

    pub fn raw(&mut self, who: &Session, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
        call(&mut self.engine, who, method, path, body)
    }

    pub fn send(&mut self, who: &Session, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let text = body.to_string();
        self.raw(who, method, path, Some(&text))
    }

    /// GET as the administrator; must succeed.
    #[track_caller]
    pub fn get(&mut self, path: &str) -> Value {
        let admin = self.admin.clone();
        self.get_as(&admin, path)
    }

    #[track_caller]
    pub fn get_as(&mut self, who: &Session, path: &str) -> Value {
        let (status, body) = self.raw(who, "GET", path, None);
        assert_eq!(status, 200, "GET {path}: {body:#}");
        body
    }

    /// The `value` array of a collection GET as the administrator.
    #[track_caller]
    pub fn list(&mut self, path: &str) -> Vec<Value> {
        let admin = self.admin.clone();
        self.list_as(&admin, path)
    }

    #[track_caller]
    pub fn list_as(&mut self, who: &Session, path: &str) -> Vec<Value> {
        let body = self.get_as(who, path);
        body["value"].as_array().unwrap_or_else(|| panic!("GET {path} has no value array: {body:#}")).clone()
    }

    /// POSTs a request body; returns the status and body.
    pub fn submit(&mut self, who: &Session, collection: &str, body: &Value) -> (u16, Value) {
        self.send(who, "POST", collection, body)
    }

    /// POSTs a request body that must be accepted (201).
    #[track_caller]
    pub fn accepted(&mut self, who: &Session, collection: &str, body: &Value) -> Value {
        let (status, out) = self.submit(who, collection, body);
        assert_eq!(status, 201, "POST {collection} {body}: {out:#}");
        out
    }

    /// As the administrator.
    #[track_caller]
    pub fn admin_accepted(&mut self, collection: &str, body: &Value) -> Value {
        let admin = self.admin.clone();
        self.accepted(&admin, collection, body)
    }

    pub fn admin_submit(&mut self, collection: &str, body: &Value) -> (u16, Value) {
        let admin = self.admin.clone();
        self.submit(&admin, collection, body)
    }

    /// POSTs a new object as the administrator; returns its id.
    #[track_caller]
    pub fn create(&mut self, collection: &str, body: Value) -> String {
        let admin = self.admin.clone();
        let (status, out) = self.send(&admin, "POST", collection, &body);
        assert_eq!(status, 201, "POST {collection}: {out:#}");
        out["id"].as_str().expect("created object has an id").to_string()
    }

    /// A user created through `POST /users`.
    #[track_caller]
    pub fn user(&mut self, nick: &str) -> String {
        self.create(
            "/v1.0/users",
            json!({
                "accountEnabled": true,
                "displayName": format!("{nick} Tester"),
                "mailNickname": nick,
                "userPrincipalName": format!("{nick}@contoso.example"),
                "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "x"},
            }),
        )
    }

    /// A security group created through `POST /groups`.
    #[track_caller]
    pub fn group(&mut self, name: &str, role_assignable: bool) -> String {
        self.create(
            "/v1.0/groups",
            json!({
                "displayName": name,
                "description": format!("{name} (test)"),
                "isAssignableToRole": role_assignable,
                "mailEnabled": false,
                "mailNickname": name.replace(' ', ""),
                "securityEnabled": true,
            }),
        )
    }

    #[track_caller]
    pub fn add_member(&mut self, group: &str, member: &str) {
        let admin = self.admin.clone();
        let body = json!({"@odata.id": format!("{ROOT}/v1.0/directoryObjects/{member}")});
        let (status, out) = self.send(&admin, "POST", &format!("/v1.0/groups/{group}/members/$ref"), &body);
        assert_eq!(status, 204, "add member: {out:#}");
    }

    #[track_caller]
    pub fn service_principal(&mut self, name: &str) -> String {
        self.create("/v1.0/servicePrincipals", json!({"displayName": name}))
    }

    #[track_caller]
    pub fn administrative_unit(&mut self, name: &str) -> String {
        self.create("/v1.0/directory/administrativeUnits", json!({"displayName": name, "description": name}))
    }

    /// The id of a user by user principal name (`GET /users/{nick}@contoso.example`).
    #[track_caller]
    pub fn user_id(&mut self, nick: &str) -> String {
        s(&self.get(&format!("/v1.0/users/{nick}@contoso.example"))["id"])
    }

    /// The id of a group by display name (`$filter=displayName eq '...'`).
    #[track_caller]
    pub fn group_id(&mut self, name: &str) -> String {
        let found = self.list(&format!("/v1.0/groups?$filter=displayName eq '{name}'"));
        assert_eq!(found.len(), 1, "group {name}");
        s(&found[0]["id"])
    }

    /// The directory-role policy id governing `role`.
    #[track_caller]
    pub fn policy_id(&mut self, role: &str) -> String {
        let found = self.list(&format!(
            "{POLICY_ASSIGNMENTS}?$filter={DIRECTORY_ROLE_SCOPE} and roleDefinitionId eq '{role}'"
        ));
        assert_eq!(found.len(), 1, "policy of {role}");
        s(&found[0]["policyId"])
    }

    /// The path of one rule of `role`'s policy.
    #[track_caller]
    pub fn rule_path(&mut self, role: &str, rule: &str) -> String {
        format!("{POLICIES}/{}/rules/{rule}", self.policy_id(role))
    }

    /// PATCHes a rule as the administrator; returns the status and body.
    #[track_caller]
    pub fn patch_rule(&mut self, role: &str, rule: &str, body: &Value) -> (u16, Value) {
        let path = self.rule_path(role, rule);
        let admin = self.admin.clone();
        self.send(&admin, "PATCH", &path, body)
    }

    /// PATCHes a rule as the administrator; must give 204.
    #[track_caller]
    pub fn set_rule(&mut self, role: &str, rule: &str, body: &Value) {
        let (status, out) = self.patch_rule(role, rule, body);
        assert_eq!(status, 204, "PATCH {rule}: {out:#}");
    }

    /// One rule of `role`'s policy.
    #[track_caller]
    pub fn rule(&mut self, role: &str, rule: &str) -> Value {
        let path = self.rule_path(role, rule);
        self.get(&path)
    }

    pub fn tenant_id(&mut self) -> String {
        let me = self.list(ROLE_ASSIGNMENTS);
        me[0]["principalOrganizationId"].as_str().expect("tenant id").to_string()
    }

    /// Moves the simulated clock (Graph has no endpoint for this).
    #[track_caller]
    pub fn advance(&mut self, iso: &str) {
        let admin = self.admin.clone();
        self.engine.advance_by(&admin, IsoDuration::parse(iso).expect("duration")).expect("advance");
    }

    /// Every collection the router lists, rendered: the observable state of the tenant.
    pub fn observable_state(&mut self) -> Vec<(String, u16, Value)> {
        let mut paths: Vec<String> = [
            ELIG_REQS,
            ASSIGN_REQS,
            ELIG_SCHEDULES,
            ASSIGN_SCHEDULES,
            ELIG_INSTANCES,
            ASSIGN_INSTANCES,
            ROLE_ASSIGNMENTS,
            "/v1.0/users",
            "/v1.0/groups",
            "/v1.0/servicePrincipals",
            "/v1.0/directory/administrativeUnits",
            "/v1.0/auditLogs/directoryAudits",
        ]
        .iter()
        .map(|p| p.to_string())
        .collect();
        paths.push(format!("{POLICIES}?$filter={DIRECTORY_ROLE_SCOPE}&$expand=rules"));
        paths.push(format!(
            "{POLICY_ASSIGNMENTS}?$filter={DIRECTORY_ROLE_SCOPE}&$expand=policy($expand=rules)"
        ));
        for g in self.list("/v1.0/groups") {
            paths.push(format!("/v1.0/groups/{}/members", g["id"].as_str().unwrap_or_default()));
        }
        let admin = self.admin.clone();
        paths
            .into_iter()
            .map(|p| {
                let (status, mut body) = self.raw(&admin, "GET", &p, None);
                if p.contains("directoryAudits") {
                    // A refused request leaves its own audit record and nothing else (invariant 3).
                    if let Some(rows) = body["value"].as_array_mut() {
                        rows.retain(|r| r["result"] != "failure");
                    }
                }
                (p, status, body)
            })
            .collect()
    }
}

/// The keys of a JSON object, in order.
pub fn keys(v: &Value) -> Vec<String> {
    v.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

pub fn is_guid(text: &str) -> bool {
    Uuid::parse_str(text).is_ok() && text.len() == 36
}

/// The service's role-assignment id (reference §3.10): base64url of the role and principal GUIDs
/// in .NET byte order, then `-1` (`-1-e` for eligibility instances).
pub fn role_assignment_id(role: &str, principal: &str, eligible: bool) -> String {
    let mut bytes = Uuid::parse_str(role).expect("role guid").to_bytes_le().to_vec();
    bytes.extend(Uuid::parse_str(principal).expect("principal guid").to_bytes_le());
    format!("{}-1{}", URL_SAFE_NO_PAD.encode(bytes), if eligible { "-e" } else { "" })
}

/// Checks the Graph error envelope and the status and code; returns the `error` object.
#[track_caller]
pub fn assert_error(got: &(u16, Value), status: u16, code: &str) -> Value {
    let (got_status, body) = got;
    assert_eq!(*got_status, status, "status of {body:#}");
    assert_eq!(keys(body), ["error"], "envelope: {body:#}");
    let e = &body["error"];
    assert_eq!(e["code"], code, "code of {body:#}");
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "message of {body:#}");
    let inner = &e["innerError"];
    assert_eq!(keys(inner), ["date", "request-id", "client-request-id"], "innerError of {body:#}");
    assert!(chrono::DateTime::parse_from_rfc3339(&s(&inner["date"])).is_ok(), "date of {body:#}");
    assert!(is_guid(&s(&inner["request-id"])), "request-id of {body:#}");
    assert!(is_guid(&s(&inner["client-request-id"])), "client-request-id of {body:#}");
    if let Some(details) = e.get("details") {
        let details = details.as_array().expect("details is an array");
        assert!(!details.is_empty(), "details, when present, are not empty");
        for d in details {
            assert_eq!(keys(d), ["code", "target", "message"], "detail of {body:#}");
        }
    }
    e.clone()
}

/// Whether an error names `needle` in its message or in one of its details.
pub fn names(error: &Value, needle: &str) -> bool {
    let in_message = error["message"].as_str().is_some_and(|m| m.contains(needle));
    let in_details = error["details"].as_array().is_some_and(|ds| {
        ds.iter().any(|d| {
            d["target"].as_str().is_some_and(|t| t.contains(needle))
                || d["message"].as_str().is_some_and(|m| m.contains(needle))
        })
    });
    in_message || in_details
}

/// The error names `needle` in its message or in a detail's target or message.
#[track_caller]
pub fn assert_names(error: &Value, needle: &str) {
    assert!(names(error, needle), "the error should name '{needle}': {error:#}");
}
