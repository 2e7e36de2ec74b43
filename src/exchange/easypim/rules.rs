//! A policy body made into rules (reference §4): each supplied field sets its rule of the live
//! policy, every other rule is left as it is. What differs from the live policy is the drift
//! `--what-if` shows and the change `apply` makes.

use serde_json::Value;

use super::body::{ApproverRef, Body, Kind};
use crate::model::PrincipalKind;
use crate::model::policy::{
    APPROVAL_END_USER_ASSIGNMENT, AUTHENTICATION_CONTEXT_END_USER_ASSIGNMENT, ApprovalStage, Approver,
    ENABLEMENT_ADMIN_ASSIGNMENT, ENABLEMENT_END_USER_ASSIGNMENT, EXPIRATION_ADMIN_ASSIGNMENT,
    EXPIRATION_ADMIN_ELIGIBILITY, EXPIRATION_END_USER_ASSIGNMENT, Policy, PolicyRule,
};

/// One setting that differs: `Expiration_EndUser_Assignment.maximumDuration`, live and wanted.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub setting: String,
    pub actual: String,
    pub expected: String,
}

/// The rules of `live` that `body` changes, as they should be. `kind_of` tells what directory
/// object an id is (Azure approvers without a type are looked up, user first).
pub fn changed_rules(
    body: &Body,
    live: &Policy,
    kind: Kind,
    kind_of: &dyn Fn(&str) -> Option<PrincipalKind>,
) -> Result<Vec<PolicyRule>, String> {
    let mut out = Vec::new();
    for rule in live.rules.iter() {
        let mut r = rule.clone();
        set(&mut r, body, kind, kind_of)?;
        if r != *rule {
            out.push(r);
        }
    }
    Ok(out)
}

fn set(
    rule: &mut PolicyRule,
    b: &Body,
    kind: Kind,
    kind_of: &dyn Fn(&str) -> Option<PrincipalKind>,
) -> Result<(), String> {
    let id = rule.id().to_string();
    let auth_context_on = kind != Kind::Group && b.auth_context_enabled == Some(true);
    match rule {
        PolicyRule::Expiration(x) if id == EXPIRATION_END_USER_ASSIGNMENT => {
            if let Some(d) = b.activation_duration {
                x.is_expiration_required = true;
                x.maximum_duration = d;
            }
        }
        PolicyRule::Expiration(x) if id == EXPIRATION_ADMIN_ELIGIBILITY => {
            if let Some(allow) = b.allow_permanent_eligibility {
                x.is_expiration_required = !allow;
            }
            if let Some(d) = b.maximum_eligibility {
                x.maximum_duration = d;
            }
        }
        PolicyRule::Expiration(x) if id == EXPIRATION_ADMIN_ASSIGNMENT => {
            if let Some(allow) = b.allow_permanent_active {
                x.is_expiration_required = !allow;
            }
            if let Some(d) = b.maximum_active {
                x.maximum_duration = d;
            }
        }
        PolicyRule::Enablement(x) if id == ENABLEMENT_END_USER_ASSIGNMENT => {
            if let Some(list) = &b.activation_requirement {
                x.enabled_rules = list.clone();
            }
            // Graph refuses MFA together with an authentication context (MfaAndAcrsConflict).
            if auth_context_on {
                x.enabled_rules.retain(|r| r != "MultiFactorAuthentication");
            }
        }
        PolicyRule::Enablement(x) if id == ENABLEMENT_ADMIN_ASSIGNMENT => {
            if let Some(list) = &b.active_assignment_requirement {
                x.enabled_rules = list.clone();
            }
        }
        PolicyRule::Approval(x) if id == APPROVAL_END_USER_ASSIGNMENT => {
            // `Approvers` without `ApprovalRequired` switches approval on (quirk 3).
            let required = match (b.approval_required, &b.approvers) {
                (Some(r), _) => r,
                (None, Some(_)) => true,
                (None, None) => return Ok(()),
            };
            let approvers = match (&b.approvers, required, kind) {
                (_, false, Kind::Entra | Kind::Group) => Some(Vec::new()),
                (Some(list), _, _) => {
                    Some(list.iter().map(|a| approver(a, kind, kind_of)).collect::<Vec<_>>())
                }
                (None, _, _) => None,
            };
            if required
                && approvers.as_ref().is_none_or(|a| a.is_empty())
                && x.setting.approval_stages.first().is_none_or(|s| s.primary_approvers.is_empty())
            {
                return Err("MissingApprovers: approval is required but no approvers are given".into());
            }
            let s = &mut x.setting;
            s.is_approval_required = required;
            s.is_approval_required_for_extension = false;
            s.is_requestor_justification_required = true;
            s.approval_mode = "SingleStage".into();
            let mut stage = s.approval_stages.first().cloned().unwrap_or_else(ApprovalStage::default_stage);
            stage.approval_stage_time_out_in_days = 1;
            stage.is_approver_justification_required = true;
            stage.is_escalation_enabled = false;
            stage.escalation_approvers = vec![];
            if let Some(list) = approvers {
                stage.primary_approvers = list;
            }
            s.approval_stages = vec![stage];
        }
        PolicyRule::AuthenticationContext(x)
            if id == AUTHENTICATION_CONTEXT_END_USER_ASSIGNMENT && kind != Kind::Group =>
        {
            match b.auth_context_enabled {
                Some(true) => {
                    x.is_enabled = true;
                    x.claim_value = b.auth_context_value.clone();
                }
                Some(false) => {
                    x.is_enabled = false;
                    x.claim_value = None;
                }
                None => {}
            }
        }
        PolicyRule::Notification(x) => {
            if let Some((_, n)) = b.notifications.iter().find(|(rule, _)| *rule == id) {
                x.notification_type = "Email".into();
                x.is_default_recipients_enabled = n.default_recipients;
                x.notification_level = n.level.clone();
                x.notification_recipients = n.recipients.clone();
            }
        }
        _ => {}
    }
    Ok(())
}

/// An approver as EasyPIM sends it: with no type, Entra roles and groups send a user (quirk 2);
/// Azure looks the id up, user first, then group.
fn approver(a: &ApproverRef, kind: Kind, kind_of: &dyn Fn(&str) -> Option<PrincipalKind>) -> Approver {
    let group = match (a.group, kind) {
        (Some(g), _) => g,
        (None, Kind::Azure) => kind_of(&a.id) == Some(PrincipalKind::Group),
        (None, _) => false,
    };
    if group {
        Approver::GroupMembers { group_id: a.id.clone(), description: a.name.clone(), is_backup: None }
    } else {
        Approver::SingleUser { user_id: a.id.clone(), description: a.name.clone(), is_backup: None }
    }
}

/// The settings where `changed` differs from `live`, leaf by leaf (rule targets aside).
pub fn drift(live: &Policy, changed: &[PolicyRule]) -> Vec<Drift> {
    let mut out = Vec::new();
    for rule in changed {
        let Some(before) = live.rule(rule.id()) else { continue };
        let (a, b) = (
            serde_json::to_value(before).unwrap_or_default(),
            serde_json::to_value(rule).unwrap_or_default(),
        );
        leaves(rule.id(), &a, &b, &mut out);
    }
    out
}

fn leaves(path: &str, a: &Value, b: &Value, out: &mut Vec<Drift>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, vb) in y {
                if k == "target" || k.starts_with('@') {
                    continue;
                }
                leaves(&format!("{path}.{k}"), x.get(k).unwrap_or(&Value::Null), vb, out);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() && x.iter().all(Value::is_object) => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                leaves(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        _ if a != b => out.push(Drift { setting: path.to_string(), actual: show(a), expected: show(b) }),
        _ => {}
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            format!("[{}]", items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::IsoDuration;
    use crate::model::policy::default_directory_rules;

    fn policy() -> Policy {
        Policy {
            id: "p".into(),
            scope_id: "/".into(),
            scope_type: "Directory".into(),
            role_definition_id: "r".into(),
            last_modified_at: None,
            last_modified_by: None,
            rules: default_directory_rules().into(),
        }
    }

    #[test]
    fn only_supplied_fields_change_rules() {
        let none = |_: &str| None;
        let body = Body { activation_duration: Some(IsoDuration::from_hours(2)), ..Default::default() };
        let changed = changed_rules(&body, &policy(), Kind::Entra, &none).unwrap();
        assert_eq!(changed.len(), 1);
        let d = drift(&policy(), &changed);
        assert_eq!(
            d,
            vec![Drift {
                setting: "Expiration_EndUser_Assignment.maximumDuration".into(),
                actual: "PT8H".into(),
                expected: "PT2H".into()
            }]
        );
        assert!(changed_rules(&Body::default(), &policy(), Kind::Entra, &none).unwrap().is_empty());
    }

    #[test]
    fn approvers_without_approval_required_turn_approval_on() {
        let none = |_: &str| None;
        let body = Body {
            approvers: Some(vec![ApproverRef { id: "g".into(), name: None, group: None }]),
            ..Default::default()
        };
        let changed = changed_rules(&body, &policy(), Kind::Entra, &none).unwrap();
        let PolicyRule::Approval(a) = &changed[0] else { panic!("{changed:?}") };
        assert!(a.setting.is_approval_required);
        assert!(matches!(a.setting.approval_stages[0].primary_approvers[0], Approver::SingleUser { .. }));
        let missing = Body { approval_required: Some(true), ..Default::default() };
        assert!(
            changed_rules(&missing, &policy(), Kind::Entra, &none).unwrap_err().contains("MissingApprovers")
        );
    }
}
