//! `policies/roleManagementPolicies` (with their rules, read and PATCHed) and
//! `policies/roleManagementPolicyAssignments`, under either scope type's id prefix.

use crate::model::ErrorCode;
use serde_json::Value;

use super::{Call, Response, not_found_path};
use crate::api::{body, views};
use crate::model::ApiError;

impl Call<'_> {
    /// The group whose policies the caller filtered on (`scopeId eq '{groupId}' and scopeType eq
    /// 'Group'`), if it did.
    fn policy_group(&self) -> Option<String> {
        let f = self.query.filter.as_ref()?;
        let scope_type = f.required_eq("scopeType")?;
        scope_type
            .eq_ignore_ascii_case(crate::model::group::GROUP_SCOPE_TYPE)
            .then(|| f.required_eq("scopeId"))?
    }

    /// The policies the caller filtered on: a group's two, or the directory roles' under the
    /// scope type asked for.
    fn filtered_policies(&mut self, with_rules: bool) -> Result<Vec<crate::model::policy::Policy>, ApiError> {
        if let Some(group) = self.policy_group() {
            return self.engine.group_policies(&group);
        }
        let scope_type = self.policy_scope_type(true)?;
        Ok(self.engine.policies(with_rules)?.iter().map(|p| Self::policy_view(p, &scope_type)).collect())
    }

    /// The scope type the caller filtered on (`DirectoryRole` or `Directory`); it prefixes policy ids.
    fn policy_scope_type(&self, required: bool) -> Result<String, ApiError> {
        let f = self.query.filter.as_ref();
        let scope_id = f.and_then(|f| f.required_eq("scopeId"));
        let scope_type = f.and_then(|f| f.required_eq("scopeType"));
        match (scope_id.as_deref(), scope_type.as_deref()) {
            (Some("/"), Some(t)) if t.eq_ignore_ascii_case("DirectoryRole") => Ok("DirectoryRole".into()),
            (Some("/"), Some(t)) if t.eq_ignore_ascii_case("Directory") => Ok("Directory".into()),
            (Some(id), Some(t)) => Err(ApiError::new(403, ErrorCode::UnauthorizedAccessException, "Attempted to perform an unauthorized operation.")
                .with_detail("UnsupportedScope", "$filter", format!("no policies at scopeId '{id}' with scopeType '{t}' (directory-role policies are at scopeId '/' with scopeType 'DirectoryRole' or 'Directory')"))),
            _ if !required => Ok("DirectoryRole".into()),
            _ => Err(ApiError::new(400, ErrorCode::BadRequest, "The filter on scopeId and scopeType is required.")
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
        if id.starts_with("Group_") {
            let p = self
                .engine
                .group_policy_by_id(id)?
                .ok_or_else(|| ApiError::not_found(ErrorCode::ResourceNotFound, "Policy", id))?;
            return Ok((p, crate::model::group::GROUP_SCOPE_TYPE.to_string()));
        }
        let (stored, scope_type) = match id.strip_prefix("Directory_") {
            Some(rest) => (format!("DirectoryRole_{rest}"), "Directory"),
            None => (id.to_string(), "DirectoryRole"),
        };
        let p = self
            .engine
            .policy(&stored)?
            .ok_or_else(|| ApiError::not_found(ErrorCode::ResourceNotFound, "Policy", id))?;
        Ok((Self::policy_view(&p, scope_type), scope_type.to_string()))
    }

    pub(super) fn policies(&mut self, rest: &[&str]) -> Result<Response, ApiError> {
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
                let with_rules = !self.query.expand.is_empty();
                let items = self.filtered_policies(with_rules)?.iter().map(|p| self.policy_json(p)).collect();
                self.collection(self.context("policies/roleManagementPolicies"), items)
            }
            [id] => {
                self.require_method(&["GET"])?;
                self.check_expands(&["rules", "effectiveRules"], "unifiedRoleManagementPolicy")?;
                let (p, _) = self.find_policy(id)?;
                let v = self.policy_json(&p);
                self.entity(self.context("policies/roleManagementPolicies/$entity"), v)
            }
            [id, nav @ ("rules" | "effectiveRules")] => {
                self.require_method(&["GET"])?;
                let (p, _) = self.find_policy(id)?;
                let items = views::policy_rules(&p).as_array().cloned().unwrap_or_default();
                self.collection(
                    self.context(&format!("policies/roleManagementPolicies('{}')/{nav}", p.id)),
                    items,
                )
            }
            [id, "rules" | "effectiveRules", rule_id] => {
                let (p, scope_type) = self.find_policy(id)?;
                if self.method == "PATCH" {
                    let patch = body::parse_object(self.body_text()?)?;
                    if scope_type == crate::model::group::GROUP_SCOPE_TYPE {
                        // The group's first settings change onboards it (reference §6).
                        let patches = [(rule_id.to_string(), Value::Object(patch))];
                        self.engine.change_group_policy(
                            self.session,
                            &p.id,
                            &Default::default(),
                            &patches,
                        )?;
                        return Ok(Response::no_content());
                    }
                    let stored_id = p.id.replacen("Directory_", "DirectoryRole_", 1);
                    self.engine.update_rule(self.session, &stored_id, rule_id, &Value::Object(patch))?;
                    return Ok(Response::no_content());
                }
                self.require_method(&["GET", "PATCH"])?;
                let rule = p
                    .rule(rule_id)
                    .ok_or_else(|| ApiError::not_found(ErrorCode::ResourceNotFound, "Rule", rule_id))?;
                let v = serde_json::to_value(rule).expect("rules serialise");
                self.entity(
                    self.context(&format!("policies/roleManagementPolicies('{}')/rules/$entity", p.id)),
                    v,
                )
            }
            _ => Err(not_found_path(&self.path())),
        }
    }

    fn policy_json(&self, p: &crate::model::policy::Policy) -> Value {
        let mut v = views::policy(p, false);
        let base = format!("policies/roleManagementPolicies('{}')", p.id);
        for name in ["rules", "effectiveRules"] {
            if self.query.expand_item(name).is_some() {
                self.embed_rules(&mut v, p, name, &base);
            }
        }
        v
    }

    /// Embeds a policy's expanded `rules` or `effectiveRules` as Graph does: the collection's own
    /// `{name}@odata.context` (under `base`, the path that reached the policy), then the rules.
    fn embed_rules(&self, v: &mut Value, p: &crate::model::policy::Policy, name: &str, base: &str) {
        v[format!("{name}@odata.context")] = self.context(&format!("{base}/{name}")).into();
        v[name] = views::policy_rules(p);
    }

    pub(super) fn policy_assignments(&mut self, rest: &[&str]) -> Result<Response, ApiError> {
        self.require_method(&["GET"])?;
        self.check_expands(&["policy"], "unifiedRoleManagementPolicyAssignment")?;
        let embed = |this: &Self, p: &crate::model::policy::Policy| -> Value {
            let mut v = views::policy_assignment(p);
            if let Some(e) = this.query.expand_item("policy") {
                let mut pv = views::policy(p, false);
                let base = format!(
                    "policies/roleManagementPolicyAssignments('{}_{}')/policy",
                    p.id, p.role_definition_id
                );
                for name in ["rules", "effectiveRules"] {
                    if e.options.expand_item(name).is_some() {
                        this.embed_rules(&mut pv, p, name, &base);
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
                let with_rules = self.query.expand_item("policy").is_some();
                let items = self.filtered_policies(with_rules)?.iter().map(|p| embed(self, p)).collect();
                self.collection(self.context("policies/roleManagementPolicyAssignments"), items)
            }
            [id] => {
                // `{policyId}_{roleDefinitionId}`: both halves must match.
                let missing = || ApiError::not_found(ErrorCode::ResourceNotFound, "Policy assignment", id);
                let (policy_id, role_id) = id.rsplit_once('_').ok_or_else(missing)?;
                let (p, _) = self.find_policy(policy_id).map_err(|_| missing())?;
                if !p.role_definition_id.eq_ignore_ascii_case(role_id) {
                    return Err(missing());
                }
                let v = embed(self, &p);
                self.entity(self.context("policies/roleManagementPolicyAssignments/$entity"), v)
            }
            _ => Err(not_found_path(&self.path())),
        }
    }
}
