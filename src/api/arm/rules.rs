//! Policy rules in ARM's spelling (arm-pim reference §3.1, §3.2), both ways. The model keeps one
//! shape, Graph's: `@odata.type` names the rule, approvers are `singleUser`/`groupMembers` subject
//! sets. ARM names the rule by `ruleType`, writes operations in PascalCase, null where Graph has an
//! empty list, and approvers as `{id, userType, isBackup, description}`.

use serde_json::{Map, Value, json};

use crate::model::policy::{PolicyRule, parse_rule};

/// The namespace and prefix a Graph rule type has that ARM's `ruleType` leaves out.
const GRAPH_RULE_PREFIX: &str = "#microsoft.graph.unified";

/// A policy rule as ARM writes it.
pub(crate) fn to_arm(rule: &PolicyRule) -> Value {
    let mut v = serde_json::to_value(rule).unwrap_or(Value::Null);
    let Value::Object(fields) = &mut v else { return v };
    if let Some(Value::String(t)) = fields.remove("@odata.type") {
        let kind = t.rsplit('.').next().unwrap_or_default().trim_start_matches("unified").to_string();
        fields.insert("ruleType".into(), json!(kind));
    }
    if let Some(target) = fields.get_mut("target").and_then(Value::as_object_mut) {
        if let Some(Value::Array(ops)) = target.get_mut("operations") {
            for op in ops.iter_mut() {
                if op.as_str().is_some_and(|o| o.eq_ignore_ascii_case("all")) {
                    *op = json!("All");
                }
            }
        }
        target.remove("@odata.type");
        target.entry("targetObjects").or_insert(Value::Null);
    }
    if let Some(setting) = fields.get_mut("setting").and_then(Value::as_object_mut) {
        setting.remove("@odata.type");
        for stage in setting.get_mut("approvalStages").and_then(Value::as_array_mut).into_iter().flatten() {
            for key in ["primaryApprovers", "escalationApprovers"] {
                for a in stage.get_mut(key).and_then(Value::as_array_mut).into_iter().flatten() {
                    *a = arm_approver(a);
                }
            }
        }
    }
    v
}

fn arm_approver(a: &Value) -> Value {
    let group = a.get("@odata.type").and_then(Value::as_str).is_some_and(|t| t.ends_with("groupMembers"));
    let id =
        a.get("groupId").or_else(|| a.get("userId")).or_else(|| a.get("id")).cloned().unwrap_or(Value::Null);
    json!({
        "id": id,
        "description": a.get("description").cloned().unwrap_or(Value::Null),
        "isBackup": a.get("isBackup").cloned().unwrap_or(json!(false)),
        "userType": if group { "Group" } else { "User" },
    })
}

/// A rule as an ARM client sends it in a PATCH, read strictly into the model. A rule is sent
/// whole (ARM replaces rules by id, §3.6): every field its type has must be there; an unknown
/// field, a wrong type or an impossible value is refused. `Err((field, problem))`, the field's
/// path within the rule.
pub(crate) fn from_arm(v: &Value) -> Result<PolicyRule, (String, String)> {
    let Value::Object(fields) = v else {
        return Err(("".into(), format!("a rule is a JSON object, not {v}")));
    };
    let mut graph = Map::new();
    for (key, value) in fields {
        match key.as_str() {
            "ruleType" => {
                let kind = value.as_str().ok_or_else(|| ("ruleType".to_string(), "a string".to_string()))?;
                graph.insert("@odata.type".into(), json!(format!("{GRAPH_RULE_PREFIX}{kind}")));
            }
            "target" => {
                let mut target = value.clone();
                drop_nulls(&mut target);
                graph.insert(key.clone(), target);
            }
            "setting" => {
                let mut setting = value.clone();
                graph_approvers(&mut setting)?;
                graph.insert(key.clone(), setting);
            }
            // ARM writes an empty recipient list as null.
            "notificationRecipients" if value.is_null() => {
                graph.insert(key.clone(), json!([]));
            }
            // 2024-09-01-preview's exemptions: echoed as null by every example.
            "exceptionMembers" if value.is_null() => {}
            "exceptionMembers" => {
                return Err((
                    key.clone(),
                    "pimlab does not model members exempt from an expiration rule; send null".into(),
                ));
            }
            _ => {
                graph.insert(key.clone(), value.clone());
            }
        }
    }
    if !graph.contains_key("@odata.type") {
        return Err(("ruleType".into(), "every rule names its ruleType".into()));
    }
    let mut rule = parse_rule(Value::Object(graph)).map_err(|(field, problem)| {
        // The model's names are Graph's; the client wrote ARM's.
        (if field == "@odata.type" { "ruleType".into() } else { field }, problem)
    })?;
    rule.canonicalise_operations();
    rule.check_values()?;
    Ok(rule)
}

/// `targetObjects`, `inheritableSettings` and `enforcedSettings` come back null from ARM, and
/// clients send them back so; the model's defaults stand for null.
fn drop_nulls(v: &mut Value) {
    if let Value::Object(fields) = v {
        fields.retain(|_, value| !value.is_null());
    }
}

/// Rewrites ARM approvers (`{id, userType, isBackup, description}`) in every stage of an approval
/// setting as the model's subject sets.
fn graph_approvers(setting: &mut Value) -> Result<(), (String, String)> {
    let Some(stages) = setting.get_mut("approvalStages").and_then(Value::as_array_mut) else {
        return Ok(());
    };
    for (i, stage) in stages.iter_mut().enumerate() {
        for key in ["primaryApprovers", "escalationApprovers"] {
            let Some(list) = stage.get_mut(key) else { continue };
            if list.is_null() {
                *list = json!([]);
                continue;
            }
            for (j, a) in list.as_array_mut().into_iter().flatten().enumerate() {
                let at = format!("setting.approvalStages[{i}].{key}[{j}]");
                *a = graph_approver(a).map_err(|problem| (at, problem))?;
            }
        }
    }
    Ok(())
}

fn graph_approver(a: &Value) -> Result<Value, String> {
    let id = a.get("id").and_then(Value::as_str).ok_or("an approver needs its object id in 'id'")?;
    let (odata_type, id_field) = match a.get("userType").and_then(Value::as_str) {
        Some(t) if t.eq_ignore_ascii_case("User") => ("#microsoft.graph.singleUser", "userId"),
        Some(t) if t.eq_ignore_ascii_case("Group") => ("#microsoft.graph.groupMembers", "groupId"),
        other => {
            return Err(format!(
                "userType is 'User' or 'Group', not {}",
                other.map_or("missing".to_string(), |t| format!("'{t}'"))
            ));
        }
    };
    Ok(json!({
        "@odata.type": odata_type,
        id_field: id,
        "description": a.get("description").cloned().unwrap_or(Value::Null),
        "isBackup": a.get("isBackup").cloned().unwrap_or(Value::Null),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::policy::default_azure_resource_rules;

    /// Every rule pimlab writes over ARM reads back as itself: a client that GETs a policy and
    /// PATCHes its rules back unchanged changes nothing.
    #[test]
    fn every_default_rule_survives_the_round_trip() {
        for rule in default_azure_resource_rules() {
            let back = from_arm(&to_arm(&rule)).unwrap_or_else(|e| panic!("{}: {e:?}", rule.id()));
            assert_eq!(back, rule);
        }
    }

    #[test]
    fn approvers_round_trip_as_users_and_groups() {
        let arm = json!({
            "id": "Approval_EndUser_Assignment", "ruleType": "RoleManagementPolicyApprovalRule",
            "target": {"caller": "EndUser", "operations": ["All"], "level": "Assignment",
                       "targetObjects": null, "inheritableSettings": null, "enforcedSettings": null},
            "setting": {"isApprovalRequired": true, "isApprovalRequiredForExtension": false,
                "isRequestorJustificationRequired": true, "approvalMode": "SingleStage",
                "approvalStages": [{"approvalStageTimeOutInDays": 1, "isApproverJustificationRequired": true,
                    "escalationTimeInMinutes": 0, "isEscalationEnabled": false, "escalationApprovers": null,
                    "primaryApprovers": [
                        {"id": "2385b0f3-5fa9-43cf-8ca4-b01dc97298cd", "userType": "Group", "isBackup": false, "description": "ops"},
                        {"id": "9b1a2c3d-0000-4000-8000-000000000001", "userType": "User", "isBackup": false, "description": null}]}]}
        });
        let rule = from_arm(&arm).unwrap();
        let again = to_arm(&rule);
        let approvers = &again["setting"]["approvalStages"][0]["primaryApprovers"];
        assert_eq!(approvers[0]["userType"], "Group");
        assert_eq!(approvers[0]["id"], "2385b0f3-5fa9-43cf-8ca4-b01dc97298cd");
        assert_eq!(approvers[1]["userType"], "User");
    }

    #[test]
    fn an_incomplete_rule_names_what_is_missing() {
        let arm = json!({"id": "Expiration_EndUser_Assignment", "ruleType": "RoleManagementPolicyExpirationRule",
            "maximumDuration": "PT4H",
            "target": {"caller": "EndUser", "operations": ["All"], "level": "Assignment"}});
        let (_, problem) = from_arm(&arm).unwrap_err();
        assert!(problem.contains("isExpirationRequired"), "{problem}");
        let no_type = json!({"id": "Expiration_EndUser_Assignment", "isExpirationRequired": true});
        assert_eq!(from_arm(&no_type).unwrap_err().0, "ruleType");
    }

    #[test]
    fn a_rule_cannot_change_whom_it_applies_to() {
        let mut arm = to_arm(&default_azure_resource_rules()[10]);
        arm["target"]["caller"] = json!("Admin");
        let (field, _) = from_arm(&arm).unwrap_err();
        assert_eq!(field, "target.caller");
    }
}
