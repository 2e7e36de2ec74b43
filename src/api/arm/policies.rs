//! `roleManagementPolicies` and `roleManagementPolicyAssignments` (arm-pim reference §1.8, §1.9,
//! §3): the settings of every built-in Azure role at a scope, each at Azure's defaults until
//! changed. Listed (`$filter=roleDefinitionId eq '...'`, as terraform finds a role's policy), read
//! by name, changed with PATCH (rules replaced by id, §3.6), and put back to the defaults with
//! DELETE. A PUT of a policy is refused as ARM refuses it; a PUT of a policy assignment names the
//! one policy a (scope, role) pair has.

use serde_json::{Value, json};

use super::{Call, rules, views};
use crate::api::response::Response;
use crate::engine::fidelity;
use crate::model::azure_role::AzureRole;
use crate::model::azure_roles::role_guid;
use crate::model::azure_scope::AzureScope;
use crate::model::policy::{Policy, PolicyRule};
use crate::model::{ApiError, ErrorCode};

/// A policy (or its assignment) at the call's scope, with the role it governs.
struct Found {
    role: AzureRole,
    policy: Policy,
}

impl Call<'_> {
    pub(super) fn policies(&mut self, assignments: bool) -> Result<Response, ApiError> {
        let scope = self.scope.clone().ok_or_else(|| {
            ApiError::new(
                400,
                ErrorCode::InvalidResourceType,
                "Role management policies are read at a scope.",
            )
        })?;
        let rest = self.rest.clone();
        match (self.method.as_str(), rest.as_slice()) {
            ("GET", []) => self.list_policies(&scope, assignments),
            ("GET", [name]) => {
                let found = self.find(&scope, name, assignments)?;
                Ok(Response::ok(self.view(&scope, &found, assignments)?))
            }
            ("PATCH", [name]) if !assignments => self.patch_policy(&scope, name),
            ("PUT", [_]) if !assignments => {
                Ok(Response { status: 400, body: Some(json!(fidelity::ARM_POLICY_PUT_BODY)) })
            }
            ("PUT", [name]) => self.put_assignment(&scope, name),
            ("DELETE", [name]) => {
                let found = self.find(&scope, name, assignments)?;
                let reset = self.engine.reset_azure_policy(self.session, scope.path(), &found.role.id)?;
                let status = if reset { 200 } else { fidelity::ARM_POLICY_DELETE_AT_DEFAULTS_STATUS };
                Ok(Response { status, body: None })
            }
            (_, [] | [_]) => Err(self.method_refused()),
            _ => Err(ApiError::new(
                400,
                ErrorCode::InvalidResourceType,
                format!("'{}' is not a {} path.", rest.join("/"), self.resource_type),
            )),
        }
    }

    fn list_policies(&mut self, scope: &AzureScope, assignments: bool) -> Result<Response, ApiError> {
        let role_filter = match self.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            None => None,
            Some(f) => Some(role_filter(f)?),
        };
        let mut items = Vec::new();
        for (role, policy) in self.engine.azure_policies_at(scope)? {
            if role_filter.as_deref().is_some_and(|g| g != role.id) {
                continue;
            }
            items.push(self.view(scope, &Found { role, policy }, assignments)?);
        }
        Ok(self.list(items))
    }

    /// The policy named `name` at `scope` (an assignment is named `{policy}_{role}`).
    fn find(&mut self, scope: &AzureScope, name: &str, assignments: bool) -> Result<Found, ApiError> {
        for (role, policy) in self.engine.azure_policies_at(scope)? {
            let own = if assignments { format!("{}_{}", policy.id, role.id) } else { policy.id.clone() };
            if own.eq_ignore_ascii_case(name) {
                return Ok(Found { role, policy });
            }
        }
        Err(ApiError::new(
            404,
            ErrorCode::ResourceNotFound,
            format!("The {} '{name}' could not be found at {scope}.", self.resource_type),
        ))
    }

    fn view(&mut self, scope: &AzureScope, found: &Found, assignments: bool) -> Result<Value, ApiError> {
        let node = self.engine.azure_scope_at(scope)?;
        let by = match &found.policy.last_modified_by {
            Some(id) => self.engine.object(id)?,
            None => None,
        };
        Ok(if assignments {
            views::policy_assignment(&found.policy, &found.role, &node, by.as_ref())
        } else {
            views::policy(&found.policy, &node, by.as_ref())
        })
    }

    /// PATCH: `{"properties": {"rules": [...]}}`, each rule whole; the answer is the whole policy
    /// with the rules sent first, as ARM returns it (§3.6).
    fn patch_policy(&mut self, scope: &AzureScope, name: &str) -> Result<Response, ApiError> {
        let found = self.find(scope, name, false)?;
        let body = self.body.ok_or_else(|| super::invalid_content("the request has no body"))?;
        let value: Value = serde_json::from_str(body).map_err(|e| super::invalid_content(&e.to_string()))?;
        let sent = value
            .get("properties")
            .and_then(|p| p.get("rules"))
            .ok_or_else(|| invalid_policy("properties.rules", "a PATCH sends the rules it changes"))?;
        let sent = sent
            .as_array()
            .ok_or_else(|| invalid_policy("properties.rules", format!("an array of rules, not {sent}")))?;
        let mut rules: Vec<PolicyRule> = Vec::with_capacity(sent.len());
        for (i, v) in sent.iter().enumerate() {
            let rule = rules::from_arm(v).map_err(|(field, problem)| {
                let at = if field.is_empty() {
                    format!("properties.rules[{i}]")
                } else {
                    format!("properties.rules[{i}].{field}")
                };
                invalid_policy(&at, problem)
            })?;
            if rules.iter().any(|r| r.id() == rule.id()) {
                return Err(invalid_policy(
                    &format!("properties.rules[{i}].id"),
                    format!("rule '{}' is sent twice", rule.id()),
                ));
            }
            rules.push(rule);
        }
        let sent_ids: Vec<String> = rules.iter().map(|r| r.id().to_string()).collect();
        self.engine
            .replace_azure_rules(self.session, scope.path(), &found.role.id, rules)
            .map_err(as_invalid_policy)?;
        let mut updated = self.find(scope, name, false)?;
        // The rules sent come first, in the order sent, then the rest in their usual order.
        let mut ordered: Vec<PolicyRule> =
            sent_ids.iter().filter_map(|id| updated.policy.rule(id).cloned()).collect();
        ordered
            .extend(updated.policy.rules.iter().filter(|r| !sent_ids.iter().any(|id| id == r.id())).cloned());
        updated.policy.rules = ordered.into();
        Ok(Response::ok(self.view(scope, &updated, false)?))
    }

    /// PUT of `{policy}_{role}`: `{properties: {scope, roleDefinitionId, policyId}}` naming the
    /// pair's own policy (each role has exactly one at a scope). 201 with the assignment.
    fn put_assignment(&mut self, scope: &AzureScope, name: &str) -> Result<Response, ApiError> {
        let found = self.find(scope, name, true)?;
        let body = self.body.ok_or_else(|| super::invalid_content("the request has no body"))?;
        let value: Value = serde_json::from_str(body).map_err(|e| super::invalid_content(&e.to_string()))?;
        let props = value
            .get("properties")
            .and_then(Value::as_object)
            .ok_or_else(|| super::invalid_content("Required property 'properties' not found in JSON"))?;
        let text = |key: &str| props.get(key).and_then(Value::as_str);
        if let Some(role) = text("roleDefinitionId") {
            if role_guid(role).as_deref() != Some(found.role.id.as_str()) {
                return Err(ApiError::bad_request(
                    "properties.roleDefinitionId",
                    format!("'{role}' is not the role of assignment '{name}' ({})", found.role.role_name),
                ));
            }
        }
        if let Some(policy) = text("policyId") {
            let last = policy.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
            if !last.eq_ignore_ascii_case(&found.policy.id) {
                return Err(ApiError::bad_request(
                    "properties.policyId",
                    format!(
                        "'{policy}' is not the policy of {} at {scope}, which is '{}'; each role has one policy per scope",
                        found.role.role_name, found.policy.id
                    ),
                ));
            }
        }
        if let Some(at) = text("scope") {
            if AzureScope::parse(at).map(|s| s.key()).ok() != Some(scope.key()) {
                return Err(ApiError::bad_request(
                    "properties.scope",
                    format!("'{at}' is not the scope of the path, {scope}"),
                ));
            }
        }
        Ok(Response::created(self.view(scope, &found, true)?))
    }
}

/// ARM's 400 for a rule it cannot take, with pimlab's reason.
fn invalid_policy(field: &str, problem: impl Into<String>) -> ApiError {
    ApiError::new(400, ErrorCode::InvalidPolicy, "The policy is invalid.").with_detail(
        "InvalidValue",
        field,
        problem,
    )
}

/// A rule the engine refuses (an approver not in the tenant, a value out of range) is, to ARM,
/// an invalid policy.
fn as_invalid_policy(mut e: ApiError) -> ApiError {
    if e.code == ErrorCode::BadRequest {
        e.code = ErrorCode::InvalidPolicy;
        e.message = "The policy is invalid.".into();
    }
    e
}

/// `roleDefinitionId eq '{id}'`: the role's GUID.
fn role_filter(text: &str) -> Result<String, ApiError> {
    let refused = || super::unsupported_filter(text, "policies filter on roleDefinitionId eq '...'");
    let lower = text.to_ascii_lowercase();
    let value = lower
        .strip_prefix("roledefinitionid eq ")
        .map(|_| text["roleDefinitionId eq ".len()..].trim())
        .ok_or_else(refused)?;
    let quoted = super::quoted(value).ok_or_else(refused)?;
    role_guid(quoted).ok_or_else(refused)
}
