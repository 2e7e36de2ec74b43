//! A tenant as the plan compares it: the Graph and ARM collections `export --format json` writes
//! (or a mark saved), sorted into what a plan can create, change or remove, each under the key
//! a real tenant would know it by (an Entra schedule by principal, role and scope, not by the
//! lab's own id).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// An Entra or group schedule, or an Azure one, by what it grants.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GrantKey {
    /// `directory`, `group` or `azure`.
    pub surface: &'static str,
    /// `eligible` or `active`.
    pub kind: &'static str,
    pub principal: String,
    /// A directory role's id, `member`/`owner` for a group, an Azure role's GUID (lower case).
    pub role: String,
    /// `/`, an administrative unit, a group's id, or an Azure scope (as ARM spells it).
    pub scope: String,
}

/// A policy's rules by id, and whether anyone changed it (a policy nobody changed holds the
/// defaults a new role or group starts with).
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub changed: bool,
    pub rules: BTreeMap<String, Value>,
}

/// A role's policy, by the scope and role it governs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolicyKey {
    pub surface: &'static str,
    pub scope: String,
    pub role: String,
}

#[derive(Debug, Default)]
pub struct Snapshot {
    pub users: BTreeMap<String, Value>,
    pub groups: BTreeMap<String, Value>,
    /// (group, relation `members`/`owners`, member).
    pub memberships: BTreeSet<(String, &'static str, String)>,
    /// Custom directory roles.
    pub directory_roles: BTreeMap<String, Value>,
    /// Custom Azure roles, by GUID (lower case).
    pub azure_roles: BTreeMap<String, Value>,
    /// What each grant's schedule says (the Graph or ARM item).
    pub grants: BTreeMap<GrantKey, Value>,
    /// Each policy's rules by id.
    pub policies: BTreeMap<PolicyKey, Policy>,
    /// Activations: users make them, so a plan only mentions them.
    pub activations: usize,
}

/// A string property of an item, empty when it has none.
pub fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// The last segment of an ARM id, lower case (a role definition's GUID).
pub fn guid_of(arm_id: &str) -> String {
    arm_id.rsplit('/').next().unwrap_or(arm_id).to_ascii_lowercase()
}

impl Snapshot {
    /// Sorts the items of Graph and ARM collection documents (`{"value": [...]}`), wherever they
    /// came from, by their `@odata.type` or ARM `type`. Unknown items are left out.
    pub fn from_documents<'a>(documents: impl IntoIterator<Item = &'a Value>) -> Snapshot {
        let mut s = Snapshot::default();
        for doc in documents {
            for item in doc.get("value").and_then(Value::as_array).into_iter().flatten() {
                s.add(item);
            }
        }
        s
    }

    fn add(&mut self, item: &Value) {
        if let Some(arm_type) = item.get("type").and_then(Value::as_str) {
            // ARM spells some types in the plural (`RoleEligibilitySchedules`), others not
            // (`RoleManagementPolicyAssignment`).
            let arm_type = arm_type.to_ascii_lowercase();
            self.add_arm(arm_type.strip_suffix('s').unwrap_or(&arm_type), item);
            return;
        }
        let odata = item.get("@odata.type").and_then(Value::as_str).unwrap_or_default();
        let id = text(item, "id");
        match odata.trim_start_matches("#microsoft.graph.") {
            "user" => {
                self.users.insert(id, item.clone());
            }
            "group" => {
                for relation in ["members", "owners"] {
                    for m in item.get(relation).and_then(Value::as_array).into_iter().flatten() {
                        self.memberships.insert((id.clone(), relation, text(m, "id")));
                    }
                }
                self.groups.insert(id, item.clone());
            }
            "unifiedRoleDefinition" if item.get("isBuiltIn") == Some(&Value::Bool(false)) => {
                self.directory_roles.insert(id, item.clone());
            }
            "unifiedRoleEligibilitySchedule" => self.add_directory_grant("eligible", item),
            "unifiedRoleAssignmentSchedule" => {
                if text(item, "assignmentType") == "Activated" {
                    self.activations += 1;
                } else {
                    self.add_directory_grant("active", item);
                }
            }
            "privilegedAccessGroupEligibilitySchedule" => self.add_group_grant("eligible", item),
            "privilegedAccessGroupAssignmentSchedule" => {
                if text(item, "assignmentType").eq_ignore_ascii_case("activated") {
                    self.activations += 1;
                } else {
                    self.add_group_grant("active", item);
                }
            }
            "unifiedRoleManagementPolicyAssignment" | "" if item.get("policy").is_some() => {
                let surface = if text(item, "scopeType") == "Group" { "group" } else { "directory" };
                let key =
                    PolicyKey { surface, scope: text(item, "scopeId"), role: text(item, "roleDefinitionId") };
                let policy = &item["policy"];
                let changed = !policy["lastModifiedDateTime"].is_null();
                self.policies.insert(key, Policy { changed, rules: rules_by_id(policy.get("rules")) });
            }
            _ => {}
        }
    }

    fn add_directory_grant(&mut self, kind: &'static str, item: &Value) {
        if text(item, "memberType") != "Direct" {
            return; // through a group: the group's own grant is the one to make
        }
        let key = GrantKey {
            surface: "directory",
            kind,
            principal: text(item, "principalId"),
            role: text(item, "roleDefinitionId"),
            scope: text(item, "directoryScopeId"),
        };
        self.grants.insert(key, item.clone());
    }

    fn add_group_grant(&mut self, kind: &'static str, item: &Value) {
        if !text(item, "memberType").eq_ignore_ascii_case("direct") {
            return;
        }
        let key = GrantKey {
            surface: "group",
            kind,
            principal: text(item, "principalId"),
            role: text(item, "accessId"),
            scope: text(item, "groupId"),
        };
        self.grants.insert(key, item.clone());
    }

    fn add_arm(&mut self, arm_type: &str, item: &Value) {
        let p = &item["properties"];
        match arm_type {
            "microsoft.authorization/roleeligibilityschedule"
            | "microsoft.authorization/roleassignmentschedule" => {
                let eligible = arm_type.ends_with("roleeligibilityschedule");
                if !eligible && text(p, "assignmentType") == "Activated" {
                    self.activations += 1;
                    return;
                }
                if text(p, "memberType") == "Group" {
                    return;
                }
                let key = GrantKey {
                    surface: "azure",
                    kind: if eligible { "eligible" } else { "active" },
                    principal: text(p, "principalId"),
                    role: guid_of(&text(p, "roleDefinitionId")),
                    scope: text(p, "scope"),
                };
                // Listed below its scope the same schedule is `Inherited`; the one at its scope
                // is the one to keep.
                if text(p, "memberType") == "Direct" || !self.grants.contains_key(&key) {
                    self.grants.insert(key, item.clone());
                }
            }
            "microsoft.authorization/rolemanagementpolicyassignment" => {
                let key = PolicyKey {
                    surface: "azure",
                    scope: text(p, "scope"),
                    role: guid_of(&text(p, "roleDefinitionId")),
                };
                let changed = !p["policyAssignmentProperties"]["policy"]["lastModifiedDateTime"].is_null();
                self.policies.insert(key, Policy { changed, rules: rules_by_id(p.get("effectiveRules")) });
            }
            "microsoft.authorization/roledefinition" if text(p, "type") == "CustomRole" => {
                self.azure_roles.insert(guid_of(&text(item, "id")), item.clone());
            }
            _ => {}
        }
    }
}

fn rules_by_id(rules: Option<&Value>) -> BTreeMap<String, Value> {
    rules.and_then(Value::as_array).into_iter().flatten().map(|r| (text(r, "id"), r.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn arm(kind: &str, properties: Value) -> Value {
        json!({"value": [{"type": kind, "name": "n", "id": "/x/n", "properties": properties}]})
    }

    /// ARM names some types in the plural and some not, and clients vary the case: each spelling
    /// lands where it belongs (a schedule spelt one way was once left out of every plan).
    #[test]
    fn arm_items_are_sorted_whatever_the_spelling_of_their_type() {
        let schedule = json!({"scope": "/subscriptions/s", "principalId": "p", "memberType": "Direct",
            "roleDefinitionId": "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/ACDD72A7"});
        for kind in [
            "Microsoft.Authorization/RoleEligibilitySchedules",
            "Microsoft.Authorization/roleEligibilitySchedule",
            "microsoft.authorization/roleeligibilityschedules",
        ] {
            let s = Snapshot::from_documents([&arm(kind, schedule.clone())]);
            let key = s.grants.keys().next().unwrap_or_else(|| panic!("{kind} was left out"));
            assert_eq!(
                (key.surface, key.kind, key.role.as_str()),
                ("azure", "eligible", "acdd72a7"),
                "{kind}"
            );
        }
        let policy = json!({"scope": "/subscriptions/s", "roleDefinitionId": "/r/ACDD72A7", "effectiveRules": [],
            "policyAssignmentProperties": {"policy": {"lastModifiedDateTime": "2025-01-06T09:00:00Z"}}});
        for kind in [
            "Microsoft.Authorization/RoleManagementPolicyAssignment",
            "Microsoft.Authorization/roleManagementPolicyAssignments",
        ] {
            let s = Snapshot::from_documents([&arm(kind, policy.clone())]);
            assert!(s.policies.values().all(|p| p.changed) && s.policies.len() == 1, "{kind}");
        }
    }

    #[test]
    fn activations_and_grants_through_groups_are_not_grants_to_make() {
        let doc = json!({"value": [
            {"@odata.type": "#microsoft.graph.unifiedRoleAssignmentSchedule", "assignmentType": "Activated",
             "memberType": "Direct", "principalId": "p", "roleDefinitionId": "r", "directoryScopeId": "/"},
            {"@odata.type": "#microsoft.graph.unifiedRoleEligibilitySchedule", "memberType": "Group",
             "principalId": "p", "roleDefinitionId": "r", "directoryScopeId": "/"}
        ]});
        let s = Snapshot::from_documents([&doc]);
        assert!(s.grants.is_empty());
        assert_eq!(s.activations, 1);
    }
}
