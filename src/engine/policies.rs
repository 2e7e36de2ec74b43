//! Reading and changing role management policies. A rule update is a merge of the caller's fields
//! over the stored rule, parsed strictly and checked before anything is written.

use serde_json::Value;

use super::directory::{require_admin, resolve_role};
use super::{Engine, Session, audit};
use crate::model::policy::{Approver, Policy, PolicyRule};
use crate::model::{ApiError, PrincipalKind, Surface};
use crate::store::AuditTarget;

fn rule_not_found(policy_id: &str, rule_id: &str) -> ApiError {
    ApiError::new(
        404,
        "ResourceNotFound",
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
                merged[key] = value.clone();
            }
        }
    }
    let rule = crate::model::policy::parse_rule(merged)
        .map_err(|(field, problem)| ApiError::bad_request(&field, problem))?;
    rule.check_values().map_err(|(field, problem)| ApiError::bad_request(&field, problem))?;
    Ok(rule)
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
                ApiError::new(404, "ResourceNotFound", format!("role '{}' has no policy", role.display_name))
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
            let policy = tx.policy(policy_id)?.ok_or_else(|| {
                ApiError::new(404, "ResourceNotFound", format!("Policy '{policy_id}' does not exist."))
            })?;
            let mut changed = Vec::new();
            for (rule_id, patch) in patches {
                let current = policy.rule(rule_id).ok_or_else(|| rule_not_found(policy_id, rule_id))?;
                let rule = merged_rule(current, rule_id, patch)?;
                check_approvers(tx, &rule)?;
                tx.update_rule(&policy.id, &rule, ctx.now, &session.caller)?;
                let role = tx.role(&policy.role_definition_id)?;
                audit::other(
                    tx,
                    ctx,
                    &session.caller,
                    "Update role setting in PIM",
                    "RoleManagement",
                    vec![
                        AuditTarget {
                            id: policy.role_definition_id.clone(),
                            kind: "Role".into(),
                            display_name: role.map(|r| r.display_name),
                        },
                        AuditTarget {
                            id: format!("{}/{rule_id}", policy.id),
                            kind: "Other".into(),
                            display_name: Some(rule_id.to_string()),
                        },
                    ],
                )?;
                changed.push(rule);
            }
            Ok(changed)
        })
    }
}
