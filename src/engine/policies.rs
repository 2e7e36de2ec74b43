//! Reading and changing role management policies. A rule update is a merge of the caller's fields
//! over the stored rule, parsed strictly and checked before anything is written.

use crate::model::ErrorCode;
use serde_json::Value;

use super::audit::{About, Activity, Audit, Audited, Entry};
use super::directory::{require_admin, resolve_role};
use super::{Engine, Session};
use crate::model::policy::{Approver, Policy, PolicyRule};
use crate::model::{ApiError, IsoDuration, PrincipalKind, Surface};
use crate::store::AuditTarget;

fn rule_not_found(policy_id: &str, rule_id: &str) -> ApiError {
    ApiError::new(
        404,
        ErrorCode::ResourceNotFound,
        format!("Rule '{rule_id}' does not exist in policy '{policy_id}'."),
    )
}

/// Merges `patch` over `current` and parses the result strictly.
fn merged_rule(current: &PolicyRule, rule_id: &str, patch: &Value) -> Result<PolicyRule, ApiError> {
    let Value::Object(fields) = patch else {
        return Err(ApiError::bad_request("body", "a rule update must be a JSON object"));
    };
    let mut merged = serde_json::to_value(current).expect("rules serialise");
    let expected_type = merged["@odata.type"].as_str().unwrap_or_default().to_string();
    for (key, value) in fields {
        match key.as_str() {
            "@odata.type" => {
                if value.as_str() != Some(expected_type.as_str()) {
                    return Err(ApiError::bad_request(
                        "@odata.type",
                        format!("rule '{rule_id}' is a {expected_type}; {value} cannot be given"),
                    ));
                }
            }
            // Other annotations (`@odata.context`, `...@odata.type`) come back from a GET; they
            // describe the response, not the rule.
            k if k.starts_with('@') || k.contains("@odata.") => {}
            "id" => {
                if value.as_str() != Some(rule_id) {
                    return Err(ApiError::bad_request(
                        "id",
                        format!("the body's id {value} does not match the rule '{rule_id}' in the path"),
                    ));
                }
            }
            _ => {
                let mut value = value.clone();
                drop_type_annotations(key, &mut value);
                merged[key] = value;
            }
        }
    }
    let mut rule = crate::model::policy::parse_rule(merged)
        .map_err(|(field, problem)| ApiError::bad_request(&field, problem))?;
    rule.canonicalise_operations();
    rule.check_values().map_err(|(field, problem)| ApiError::bad_request(&field, problem))?;
    Ok(rule)
}

/// The bodies Microsoft documents annotate the nested objects of a rule with their OData type
/// (`target` is a `microsoft.graph.unifiedRoleManagementPolicyRuleTarget`, `setting` a
/// `microsoft.graph.approvalSettings`, each stage a `microsoft.graph.unifiedApprovalStage`).
/// They describe what the rule already is, so they are dropped before the rule is read; an
/// approver's `@odata.type` (user or group) means something and is kept.
fn drop_type_annotations(key: &str, value: &mut Value) {
    fn drop_here(v: &mut Value) {
        if let Value::Object(fields) = v {
            fields.retain(|k, _| !(k.starts_with('@') || k.contains("@odata.")));
        }
    }
    match key {
        "target" => drop_here(value),
        "setting" => {
            drop_here(value);
            if let Some(Value::Array(stages)) = value.get_mut("approvalStages") {
                stages.iter_mut().for_each(drop_here);
            }
        }
        _ => {}
    }
}

/// Approvers must be users (`singleUser`) or groups (`groupMembers`) of this tenant.
fn check_approvers(tx: &crate::store::Tx<'_>, rule: &PolicyRule) -> Result<(), ApiError> {
    let PolicyRule::Approval(a) = rule else {
        return Ok(());
    };
    for (i, stage) in a.setting.approval_stages.iter().enumerate() {
        for (list, approvers) in [
            ("primaryApprovers", &stage.primary_approvers),
            ("escalationApprovers", &stage.escalation_approvers),
        ] {
            for approver in approvers {
                let wanted = match approver {
                    Approver::SingleUser { .. } => PrincipalKind::User,
                    Approver::GroupMembers { .. } => PrincipalKind::Group,
                };
                match tx.object(approver.object_id())? {
                    Some(o) if o.kind == wanted => {}
                    _ => {
                        return Err(ApiError::bad_request(
                            &format!("setting.approvalStages[{i}].{list}"),
                            format!(
                                "approver '{}' is not a {} in this tenant",
                                approver.object_id(),
                                wanted.as_str()
                            ),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

impl Engine {
    /// The policy governing a directory role.
    pub fn policy_for_role(&mut self, role: &str) -> Result<Policy, ApiError> {
        self.read(|tx, _| {
            let role = resolve_role(tx, role)?;
            tx.policy_for(Surface::Directory.as_str(), "/", &role.id)?.ok_or_else(|| {
                ApiError::new(
                    404,
                    ErrorCode::ResourceNotFound,
                    format!("role '{}' has no policy", role.display_name),
                )
            })
        })
    }

    /// `PATCH /policies/roleManagementPolicies/{id}/rules/{ruleId}`.
    pub fn update_rule(
        &mut self,
        session: &Session,
        policy_id: &str,
        rule_id: &str,
        patch: &Value,
    ) -> Result<PolicyRule, ApiError> {
        let mut changed = self.update_rules(session, policy_id, &[(rule_id.to_string(), patch.clone())])?;
        Ok(changed.remove(0))
    }

    /// Changes several rules of one policy in one transaction: all of them, or none.
    pub fn update_rules(
        &mut self,
        session: &Session,
        policy_id: &str,
        patches: &[(String, Value)],
    ) -> Result<Vec<PolicyRule>, ApiError> {
        self.write(|tx, ctx| {
            require_admin(tx, session, "Changing role settings")?;
            let policy = stored_policy(tx, policy_id)?;
            let mut rules = Vec::new();
            for (rule_id, patch) in patches {
                let current = policy.rule(rule_id).ok_or_else(|| rule_not_found(policy_id, rule_id))?;
                rules.push(merged_rule(current, rule_id, patch)?);
            }
            write_rules(tx, ctx, session, &policy, rules)
        })
    }

    /// Changes a role's settings as the portal's switches do ([`PolicyChange`]), and then any
    /// raw rule patches, in one transaction. Returns the rules that changed (none: nothing did).
    pub fn change_policy(
        &mut self,
        session: &Session,
        policy_id: &str,
        change: &PolicyChange,
        patches: &[(String, Value)],
    ) -> Result<Vec<PolicyRule>, ApiError> {
        self.write(|tx, ctx| {
            require_admin(tx, session, "Changing role settings")?;
            let policy = stored_policy(tx, policy_id)?;
            apply_change(tx, ctx, session, policy, change, patches)
        })
    }
}

/// Applies `change` and `patches` to `policy`; returns the rules that changed.
pub(super) fn apply_change(
    tx: &crate::store::Tx<'_>,
    ctx: &super::Ctx,
    session: &Session,
    policy: Policy,
    change: &PolicyChange,
    patches: &[(String, Value)],
) -> Result<Audited<Vec<PolicyRule>>, ApiError> {
    let policy_id = policy.id.as_str();
    let mut approvers = Vec::new();
    for id in change.approvers.iter().flatten() {
        let o = tx.object(id)?.ok_or_else(|| {
            ApiError::new(400, ErrorCode::SubjectNotFound, format!("approver '{id}' does not exist"))
        })?;
        approvers.push(match o.kind {
            PrincipalKind::Group => Approver::GroupMembers {
                group_id: o.id.clone(),
                description: Some(o.display_name.clone()),
                is_backup: None,
            },
            _ => Approver::SingleUser {
                user_id: o.id.clone(),
                description: Some(o.display_name.clone()),
                is_backup: None,
            },
        });
    }
    let mut rules: Vec<PolicyRule> = Vec::new();
    for rule in policy.rules.iter() {
        let mut changed = rule.clone();
        change.apply_to(&mut changed, &approvers);
        if let Some((rule_id, patch)) = patches.iter().find(|(id, _)| id == rule.id()) {
            changed = merged_rule(&changed, rule_id, patch)?;
        }
        if changed != *rule {
            rules.push(changed);
        }
    }
    for (rule_id, _) in patches {
        policy.rule(rule_id).ok_or_else(|| rule_not_found(policy_id, rule_id))?;
    }
    write_rules(tx, ctx, session, &policy, rules)
}

fn stored_policy(tx: &crate::store::Tx<'_>, policy_id: &str) -> Result<Policy, ApiError> {
    tx.policy(policy_id)?.ok_or_else(|| {
        ApiError::new(404, ErrorCode::ResourceNotFound, format!("Policy '{policy_id}' does not exist."))
    })
}

/// Checks and stores changed rules, one audit row each.
pub(super) fn write_rules(
    tx: &crate::store::Tx<'_>,
    ctx: &super::Ctx,
    session: &Session,
    policy: &Policy,
    rules: Vec<PolicyRule>,
) -> Result<Audited<Vec<PolicyRule>>, ApiError> {
    let role = tx.role(&policy.role_definition_id)?;
    let mut audit = Audit::none("no rule changed");
    for rule in &rules {
        let rule_id = rule.id();
        rule.check_values().map_err(|(field, problem)| ApiError::bad_request(&field, problem))?;
        check_approvers(tx, rule)?;
        tx.update_rule(&policy.id, rule, ctx.now, &session.caller)?;
        let about = About::Targets(vec![
            AuditTarget {
                id: policy.role_definition_id.clone(),
                kind: "Role".into(),
                display_name: match &role {
                    Some(r) => Some(r.display_name.clone()),
                    None => tx.azure_role(&policy.role_definition_id)?.map(|r| r.role_name),
                },
            },
            AuditTarget {
                id: format!("{}/{rule_id}", policy.id),
                kind: "Other".into(),
                display_name: Some(rule_id.to_string()),
            },
        ]);
        audit.push(Entry::new(tx, ctx, &session.caller, Activity::RoleSettingUpdated, about)?);
    }
    Ok((rules, audit))
}

/// A change to a role's settings in the portal's terms: each `Some` sets one switch; `None`
/// leaves it. The engine turns it into rule changes, so no surface writes rule JSON for it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyChange {
    /// `Expiration_EndUser_Assignment.maximumDuration`.
    pub activation_max: Option<IsoDuration>,
    /// `Enablement_EndUser_Assignment`: MFA, justification, ticket on activation.
    pub require_mfa: Option<bool>,
    pub require_justification: Option<bool>,
    pub require_ticket: Option<bool>,
    /// `Approval_EndUser_Assignment.setting.isApprovalRequired`.
    pub require_approval: Option<bool>,
    /// The first stage's primary approvers, by object id: `Some(vec![])` names none (the
    /// administrators decide).
    pub approvers: Option<Vec<String>>,
    /// `AuthenticationContext_EndUser_Assignment`: `Some(None)` turns it off.
    pub require_auth_context: Option<Option<String>>,
    /// `Expiration_Admin_Eligibility`.
    pub allow_permanent_eligible: Option<bool>,
    pub eligible_max: Option<IsoDuration>,
    /// `Expiration_Admin_Assignment`.
    pub allow_permanent_active: Option<bool>,
    pub active_max: Option<IsoDuration>,
    /// `Enablement_Admin_Assignment`: justification on active assignment.
    pub require_justification_on_assign: Option<bool>,
}

impl PolicyChange {
    /// Whether any switch is set.
    pub fn is_empty(&self) -> bool {
        *self == PolicyChange::default()
    }

    fn apply_to(&self, rule: &mut PolicyRule, approvers: &[Approver]) {
        let id = rule.id().to_string();
        match rule {
            PolicyRule::Expiration(x) if id == "Expiration_EndUser_Assignment" => {
                if let Some(d) = self.activation_max {
                    x.maximum_duration = d;
                }
            }
            PolicyRule::Expiration(x) if id == "Expiration_Admin_Eligibility" => {
                if let Some(b) = self.allow_permanent_eligible {
                    x.is_expiration_required = !b;
                }
                if let Some(d) = self.eligible_max {
                    x.maximum_duration = d;
                }
            }
            PolicyRule::Expiration(x) if id == "Expiration_Admin_Assignment" => {
                if let Some(b) = self.allow_permanent_active {
                    x.is_expiration_required = !b;
                }
                if let Some(d) = self.active_max {
                    x.maximum_duration = d;
                }
            }
            PolicyRule::Enablement(x) if id == "Enablement_EndUser_Assignment" => {
                toggle(&mut x.enabled_rules, "MultiFactorAuthentication", self.require_mfa);
                toggle(&mut x.enabled_rules, "Justification", self.require_justification);
                toggle(&mut x.enabled_rules, "Ticketing", self.require_ticket);
            }
            PolicyRule::Enablement(x) if id == "Enablement_Admin_Assignment" => {
                toggle(&mut x.enabled_rules, "Justification", self.require_justification_on_assign);
            }
            PolicyRule::Approval(x) => {
                if let Some(b) = self.require_approval {
                    x.setting.is_approval_required = b;
                }
                if self.approvers.is_some() {
                    if let Some(stage) = x.setting.approval_stages.first_mut() {
                        stage.primary_approvers = approvers.to_vec();
                    }
                }
            }
            PolicyRule::AuthenticationContext(x) => match &self.require_auth_context {
                Some(None) => {
                    x.is_enabled = false;
                    x.claim_value = None;
                }
                Some(Some(c)) => {
                    x.is_enabled = true;
                    x.claim_value = Some(c.clone());
                }
                None => {}
            },
            _ => {}
        }
    }
}

fn toggle(list: &mut Vec<String>, value: &str, want: Option<bool>) {
    match want {
        Some(true) if !list.iter().any(|v| v == value) => list.push(value.to_string()),
        Some(false) => list.retain(|v| v != value),
        _ => {}
    }
}
