//! The plan between two snapshots of a tenant: the Graph and ARM calls that take a real tenant
//! from the first to the second, in an order that works (objects before what names them;
//! removals of grants before the objects they name).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::plan::{Binding, Call, Plan, Service, reference, variable};
use super::snapshot::{GrantKey, PolicyKey, Snapshot, text};

/// The ARM `api-version` the plan's PIM calls name.
const ARM_PIM_VERSION: &str = "2020-10-01";
/// The ARM `api-version` of role definitions.
const ARM_RBAC_VERSION: &str = "2022-04-01";
/// What the plan's requests give as their justification.
const JUSTIFICATION: &str = "Planned in pimlab";

/// Builds calls, naming objects the plan creates by variables.
struct Planner<'a> {
    before: &'a Snapshot,
    after: &'a Snapshot,
    plan: Plan,
    taken: BTreeSet<String>,
    /// Objects the plan creates (users, groups, custom roles): their id in the lab -> variable.
    created: BTreeMap<String, String>,
}

/// The calls that take a tenant from `before` to `after`; `notes` lists what no call can do.
pub fn plan(before: &Snapshot, after: &Snapshot, notes: Vec<String>) -> Plan {
    let mut p = Planner {
        before,
        after,
        plan: Plan { calls: Vec::new(), notes },
        taken: BTreeSet::new(),
        created: BTreeMap::new(),
    };
    p.directory_objects();
    p.memberships(true);
    p.custom_roles();
    p.policies();
    p.grants();
    p.memberships(false);
    p.removed_objects();
    let new_activations = after.activations.saturating_sub(before.activations);
    if new_activations > 0 {
        p.plan.notes.push(format!(
            "{new_activations} activation(s): users activate their own eligible roles when they need them"
        ));
    }
    p.plan
}

impl Planner<'_> {
    /// Adds a call; the caller may then say what its response binds.
    fn call(
        &mut self,
        title: String,
        service: Service,
        method: &'static str,
        path: String,
        body: Option<Value>,
    ) -> &mut Call {
        self.plan.calls.push(Call { title, service, method, path, body, binds: None });
        self.plan.calls.last_mut().expect("just pushed")
    }

    /// How later calls name an object: its id, or the variable of the call that creates it.
    fn id(&self, lab_id: &str) -> String {
        match self.created.get(lab_id) {
            Some(var) => reference(var),
            None => lab_id.to_string(),
        }
    }

    fn directory_objects(&mut self) {
        for (id, user) in &self.after.users {
            match self.before.users.get(id) {
                None => {
                    let upn = text(user, "userPrincipalName");
                    let var = variable("user", &upn, &mut self.taken);
                    let nickname = upn.split('@').next().unwrap_or_default().to_string();
                    let body = json!({
                        "accountEnabled": user.get("accountEnabled").cloned().unwrap_or(Value::Bool(true)),
                        "displayName": text(user, "displayName"),
                        "mailNickname": nickname,
                        "userPrincipalName": upn,
                        "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "choose-a-first-password"}
                    });
                    let title = format!("Create the user {} ({upn})", text(user, "displayName"));
                    self.call(title, Service::Graph, "POST", "/v1.0/users".into(), Some(body)).binds =
                        Some(Binding { var: var.clone(), field: "id".to_string() });
                    self.created.insert(id.clone(), var);
                }
                Some(old) => {
                    let changed = changes(old, user, &["displayName", "accountEnabled"]);
                    if let Some(changed) = changed {
                        let title = format!("Update the user {}", text(user, "userPrincipalName"));
                        self.call(title, Service::Graph, "PATCH", format!("/v1.0/users/{id}"), Some(changed));
                    }
                }
            }
        }
        for (id, group) in &self.after.groups {
            match self.before.groups.get(id) {
                None => {
                    let name = text(group, "displayName");
                    let var = variable("group", &name, &mut self.taken);
                    let mut body = json!({
                        "displayName": name,
                        "mailEnabled": group.get("mailEnabled").cloned().unwrap_or(Value::Bool(false)),
                        "mailNickname": var.trim_start_matches("group_"),
                        "securityEnabled": group.get("securityEnabled").cloned().unwrap_or(Value::Bool(true)),
                        "groupTypes": group.get("groupTypes").cloned().unwrap_or(json!([])),
                    });
                    for key in ["description", "isAssignableToRole"] {
                        if let Some(v) = group.get(key).filter(|v| !v.is_null()) {
                            body[key] = v.clone();
                        }
                    }
                    let title = format!("Create the group {name}");
                    self.call(title, Service::Graph, "POST", "/v1.0/groups".into(), Some(body)).binds =
                        Some(Binding { var: var.clone(), field: "id".to_string() });
                    self.created.insert(id.clone(), var);
                }
                Some(old) => {
                    let changed = changes(old, group, &["displayName", "description"]);
                    if let Some(changed) = changed {
                        let title = format!("Update the group {}", text(group, "displayName"));
                        self.call(
                            title,
                            Service::Graph,
                            "PATCH",
                            format!("/v1.0/groups/{id}"),
                            Some(changed),
                        );
                    }
                }
            }
        }
    }

    /// Added memberships (`adding`), or removed ones.
    fn memberships(&mut self, adding: bool) {
        let (from, to) = if adding { (self.before, self.after) } else { (self.after, self.before) };
        let changed: Vec<_> = to.memberships.difference(&from.memberships).cloned().collect();
        for (group, relation, member) in changed {
            let noun = if relation == "owners" { "owner" } else { "member" };
            let group_name = self.name_of(&group);
            let member_name = self.name_of(&member);
            if adding {
                let body = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{}", self.id(&member))});
                let path = format!("/v1.0/groups/{}/{relation}/$ref", self.id(&group));
                self.call(
                    format!("Add {member_name} to {group_name} as a {noun}"),
                    Service::Graph,
                    "POST",
                    path,
                    Some(body),
                );
            } else {
                let path = format!("/v1.0/groups/{group}/{relation}/{member}/$ref");
                self.call(
                    format!("Remove {member_name} from {group_name}'s {noun}s"),
                    Service::Graph,
                    "DELETE",
                    path,
                    None,
                );
            }
        }
    }

    /// A principal's or group's name, from either snapshot.
    fn name_of(&self, id: &str) -> String {
        [self.after, self.before]
            .iter()
            .find_map(|s| {
                s.users
                    .get(id)
                    .map(|u| text(u, "userPrincipalName"))
                    .or_else(|| s.groups.get(id).map(|g| text(g, "displayName")))
            })
            .unwrap_or_else(|| id.to_string())
    }

    fn custom_roles(&mut self) {
        for (id, role) in &self.after.directory_roles {
            if self.before.directory_roles.get(id) == Some(role) {
                continue;
            }
            let mut body = json!({
                "displayName": text(role, "displayName"),
                "description": role.get("description").cloned().unwrap_or(Value::Null),
                "isEnabled": role.get("isEnabled").cloned().unwrap_or(Value::Bool(true)),
                "rolePermissions": role.get("rolePermissions").cloned().unwrap_or(json!([])),
            });
            if self.before.directory_roles.contains_key(id) {
                let title = format!("Update the custom role {}", text(role, "displayName"));
                let path = format!("/v1.0/roleManagement/directory/roleDefinitions/{id}");
                self.call(title, Service::Graph, "PATCH", path, Some(body));
            } else {
                body["@odata.type"] = json!("#microsoft.graph.unifiedRoleDefinition");
                let var = variable("role", &text(role, "displayName"), &mut self.taken);
                let title = format!("Create the custom role {}", text(role, "displayName"));
                self.call(
                    title,
                    Service::Graph,
                    "POST",
                    "/v1.0/roleManagement/directory/roleDefinitions".into(),
                    Some(body),
                )
                .binds = Some(Binding { var: var.clone(), field: "id".to_string() });
                self.created.insert(id.clone(), var);
            }
        }
        for (guid, role) in &self.after.azure_roles {
            if self.before.azure_roles.get(guid) == Some(role) {
                continue;
            }
            let p = &role["properties"];
            let scope = p["assignableScopes"].get(0).and_then(Value::as_str).unwrap_or("/").to_string();
            let body = json!({"properties": {
                "roleName": text(p, "roleName"),
                "description": p.get("description").cloned().unwrap_or(Value::Null),
                "type": "CustomRole",
                "permissions": p.get("permissions").cloned().unwrap_or(json!([])),
                "assignableScopes": p.get("assignableScopes").cloned().unwrap_or(json!([])),
            }});
            let path = format!(
                "{scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}?api-version={ARM_RBAC_VERSION}"
            );
            self.call(
                format!("Define the custom Azure role {}", text(p, "roleName")),
                Service::Arm,
                "PUT",
                path,
                Some(body),
            );
        }
    }

    fn policies(&mut self) {
        for (key, policy) in &self.after.policies {
            let changed: Vec<&Value> = match self.before.policies.get(key) {
                // A policy both snapshots hold: the rules that differ.
                Some(old) => policy
                    .rules
                    .iter()
                    .filter(|(id, rule)| old.rules.get(*id) != Some(*rule))
                    .map(|(_, r)| r)
                    .collect(),
                // A new role's or group's policy: its rules if someone changed them; a new one
                // starts with the defaults, as it would in the tenant.
                // An Azure role's settings at a scope: against the settings it started with.
                None if policy.changed && key.surface == "azure" => {
                    let defaults: BTreeMap<String, Value> = crate::api::arm::default_policy_rules()
                        .into_iter()
                        .map(|r| (r["id"].as_str().unwrap_or_default().to_string(), r))
                        .collect();
                    policy
                        .rules
                        .iter()
                        .filter(|(id, rule)| defaults.get(*id) != Some(*rule))
                        .map(|(_, r)| r)
                        .collect()
                }
                None if policy.changed => policy.rules.values().collect(),
                None => Vec::new(),
            };
            if changed.is_empty() {
                continue;
            }
            let role = self.role_name(key);
            let var = variable("policy", &role, &mut self.taken);
            match key.surface {
                "azure" => {
                    let filter = format!(
                        "roleDefinitionId eq '{}/providers/Microsoft.Authorization/roleDefinitions/{}'",
                        key.scope, key.role
                    );
                    let path = format!(
                        "{}/providers/Microsoft.Authorization/roleManagementPolicyAssignments?api-version={ARM_PIM_VERSION}&$filter={filter}",
                        key.scope
                    );
                    self.call(
                        format!("Find the policy of {role} at {}", key.scope),
                        Service::Arm,
                        "GET",
                        path,
                        None,
                    )
                    .binds =
                        Some(Binding { var: var.clone(), field: "value.0.properties.policyId".to_string() });
                    let rules: Vec<Value> = changed.into_iter().map(rule_body).collect();
                    let title =
                        format!("Change {} rule(s) of {role}'s settings at {}", rules.len(), key.scope);
                    let path = format!("{}?api-version={ARM_PIM_VERSION}", reference(&var));
                    self.call(
                        title,
                        Service::Arm,
                        "PATCH",
                        path,
                        Some(json!({"properties": {"rules": rules}})),
                    );
                }
                surface => {
                    let scope_type = if surface == "group" { "Group" } else { "DirectoryRole" };
                    let scope = self.id(&key.scope);
                    let role_id = self.id(&key.role);
                    let path = format!(
                        "/v1.0/policies/roleManagementPolicyAssignments?$filter=scopeId eq '{scope}' and scopeType eq '{scope_type}' and roleDefinitionId eq '{role_id}'"
                    );
                    self.call(format!("Find the policy of {role}"), Service::Graph, "GET", path, None)
                        .binds = Some(Binding { var: var.clone(), field: "value.0.policyId".to_string() });
                    for rule in changed {
                        let body = rule_body(rule);
                        let id = text(rule, "id");
                        let path =
                            format!("/v1.0/policies/roleManagementPolicies/{}/rules/{id}", reference(&var));
                        self.call(
                            format!("Set {role}'s rule {id}"),
                            Service::Graph,
                            "PATCH",
                            path,
                            Some(body),
                        );
                    }
                }
            }
        }
    }

    fn role_name(&self, key: &PolicyKey) -> String {
        match key.surface {
            "group" => format!("{} ({})", self.name_of(&key.scope), key.role),
            "azure" => self
                .after
                .azure_roles
                .get(&key.role)
                .map(|r| text(&r["properties"], "roleName"))
                .or_else(|| {
                    crate::model::azure_role::builtin_role(&key.role).map(|r| r.role_name.to_string())
                })
                .unwrap_or_else(|| key.role.clone()),
            _ => self
                .after
                .directory_roles
                .get(&key.role)
                .map(|r| text(r, "displayName"))
                .or_else(|| crate::model::builtin_roles::find(&key.role).map(|r| r.display_name.to_string()))
                .unwrap_or_else(|| key.role.clone()),
        }
    }

    fn grants(&mut self) {
        let keys: BTreeSet<&GrantKey> = self.before.grants.keys().chain(self.after.grants.keys()).collect();
        for key in keys {
            let (old, new) = (self.before.grants.get(key), self.after.grants.get(key));
            let action = match (old, new) {
                (None, Some(_)) => "Assign",
                (Some(_), None) => "Remove",
                (Some(o), Some(n)) if schedule(key, o) != schedule(key, n) => "Update",
                _ => continue,
            };
            let item = new.or(old).expect("one side holds the grant");
            self.grant(key, action, item);
        }
    }

    fn grant(&mut self, key: &GrantKey, action: &str, item: &Value) {
        let who = self.name_of(&key.principal);
        let principal = self.id(&key.principal);
        let info = if action == "Remove" { None } else { Some(schedule(key, item)) };
        match key.surface {
            "azure" => {
                let role = self.role_name(&PolicyKey {
                    surface: "azure",
                    scope: key.scope.clone(),
                    role: key.role.clone(),
                });
                let kind = if key.kind == "eligible" {
                    "roleEligibilityScheduleRequests"
                } else {
                    "roleAssignmentScheduleRequests"
                };
                let mut properties = json!({
                    "principalId": principal,
                    "roleDefinitionId": format!("{}/providers/Microsoft.Authorization/roleDefinitions/{}", key.scope, key.role),
                    "requestType": format!("Admin{action}"),
                    "justification": JUSTIFICATION,
                });
                if let Some(info) = info {
                    properties["scheduleInfo"] = info;
                }
                // A request is named by the client; the schedule's own name is as good a GUID as any.
                let name = item.get("name").and_then(Value::as_str).unwrap_or(&key.principal).to_string();
                let path = format!(
                    "{}/providers/Microsoft.Authorization/{kind}/{name}?api-version={ARM_PIM_VERSION}",
                    key.scope
                );
                let title = grant_title(action, key.kind, &who, &format!("{role} at {}", key.scope));
                self.call(title, Service::Arm, "PUT", path, Some(json!({"properties": properties})));
            }
            "group" => {
                let kind = if key.kind == "eligible" {
                    "eligibilityScheduleRequests"
                } else {
                    "assignmentScheduleRequests"
                };
                let mut body = json!({
                    "accessId": key.role,
                    "principalId": principal,
                    "groupId": self.id(&key.scope),
                    "action": format!("admin{action}"),
                    "justification": JUSTIFICATION,
                });
                if let Some(info) = info {
                    body["scheduleInfo"] = info;
                }
                let title = grant_title(
                    action,
                    key.kind,
                    &who,
                    &format!("{} of {}", key.role, self.name_of(&key.scope)),
                );
                let path = format!("/v1.0/identityGovernance/privilegedAccess/group/{kind}");
                self.call(title, Service::Graph, "POST", path, Some(body));
            }
            _ => {
                let kind = if key.kind == "eligible" {
                    "roleEligibilityScheduleRequests"
                } else {
                    "roleAssignmentScheduleRequests"
                };
                let role = self.role_name(&PolicyKey {
                    surface: "directory",
                    scope: key.scope.clone(),
                    role: key.role.clone(),
                });
                let mut body = json!({
                    "action": format!("admin{action}"),
                    "principalId": principal,
                    "roleDefinitionId": self.id(&key.role),
                    "directoryScopeId": key.scope,
                    "justification": JUSTIFICATION,
                });
                if let Some(info) = info {
                    body["scheduleInfo"] = info;
                }
                let title = grant_title(action, key.kind, &who, &role);
                self.call(
                    title,
                    Service::Graph,
                    "POST",
                    format!("/v1.0/roleManagement/directory/{kind}"),
                    Some(body),
                );
            }
        }
    }

    fn removed_objects(&mut self) {
        for (id, group) in &self.before.groups {
            if !self.after.groups.contains_key(id) {
                let title = format!("Delete the group {}", text(group, "displayName"));
                self.call(title, Service::Graph, "DELETE", format!("/v1.0/groups/{id}"), None);
            }
        }
        for (id, user) in &self.before.users {
            if !self.after.users.contains_key(id) {
                let title = format!("Delete the user {}", text(user, "userPrincipalName"));
                self.call(title, Service::Graph, "DELETE", format!("/v1.0/users/{id}"), None);
            }
        }
    }
}

/// What a grant's request does, in words: `Make alice eligible for Reader`.
fn grant_title(action: &str, kind: &str, who: &str, what: &str) -> String {
    match (action, kind) {
        ("Assign", "eligible") => format!("Make {who} eligible for {what}"),
        ("Assign", _) => format!("Make {who} an active holder of {what}"),
        ("Update", "eligible") => format!("Change when {who} is eligible for {what}"),
        ("Update", _) => format!("Change when {who} actively holds {what}"),
        (_, "eligible") => format!("End {who}'s eligibility for {what}"),
        _ => format!("End {who}'s active assignment of {what}"),
    }
}

/// The properties of `keys` that differ from `old` to `new`, with their new values (None: none
/// differs).
fn changes(old: &Value, new: &Value, keys: &[&str]) -> Option<Value> {
    let mut out = serde_json::Map::new();
    for key in keys {
        if old.get(*key) != new.get(*key) {
            out.insert(key.to_string(), new.get(*key).cloned().unwrap_or(Value::Null));
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// A schedule's `scheduleInfo` as a request states it.
fn schedule(key: &GrantKey, item: &Value) -> Value {
    if key.surface == "azure" {
        let p = &item["properties"];
        let end = p.get("endDateTime").filter(|v| !v.is_null());
        let expiration = match end {
            Some(end) => json!({"type": "AfterDateTime", "endDateTime": end}),
            None => json!({"type": "NoExpiration"}),
        };
        return json!({"startDateTime": p.get("startDateTime").cloned().unwrap_or(Value::Null), "expiration": expiration});
    }
    let info = &item["scheduleInfo"];
    let mut expiration = info.get("expiration").cloned().unwrap_or(json!({"type": "noExpiration"}));
    if let Some(o) = expiration.as_object_mut() {
        o.retain(|_, v| !v.is_null());
    }
    json!({"startDateTime": info.get("startDateTime").cloned().unwrap_or(Value::Null), "expiration": expiration})
}

/// A policy rule as a PATCH (Graph's or ARM's) takes it: the rule without the listing's
/// annotations.
fn rule_body(rule: &Value) -> Value {
    let mut r = rule.clone();
    if let Some(o) = r.as_object_mut() {
        o.retain(|k, _| !k.ends_with("@odata.context"));
    }
    r
}
