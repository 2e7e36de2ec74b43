//! Rule PATCH bodies as Microsoft documents them and the Graph SDKs send them: every nested object
//! annotated with its OData type, settings left out where they are empty, operations in any
//! casing. The real service accepts them; so must pimlab (issue 9, §2).

use serde_json::{Value, json};

use crate::harness::graph::Lab;

/// The Global Administrator policy's id and the path of one of its rules.
fn rule_path(lab: &mut Lab, rule: &str) -> String {
    let policies = lab.list(
        "/v1.0/policies/roleManagementPolicyAssignments?$filter=scopeId eq '/' and scopeType eq 'DirectoryRole' and roleDefinitionId eq '62e90394-69f5-4237-9190-012177145e10'",
    );
    let policy = policies[0]["policyId"].as_str().expect("policyId").to_string();
    format!("/v1.0/policies/roleManagementPolicies/{policy}/rules/{rule}")
}

#[test]
fn a_rule_patch_with_odata_types_on_its_target_and_settings_is_accepted() {
    let mut lab = Lab::demo();
    let path = rule_path(&mut lab, "Approval_EndUser_Assignment");
    let body = json!({
        "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyApprovalRule",
        "id": "Approval_EndUser_Assignment",
        "target": {
            "@odata.type": "microsoft.graph.unifiedRoleManagementPolicyRuleTarget",
            "caller": "EndUser",
            "operations": ["All"],
            "level": "Assignment"
        },
        "setting": {
            "@odata.type": "microsoft.graph.approvalSettings",
            "isApprovalRequired": true,
            "isApprovalRequiredForExtension": false,
            "isRequestorJustificationRequired": true,
            "approvalMode": "SingleStage",
            "approvalStages": [{
                "@odata.type": "microsoft.graph.unifiedApprovalStage",
                "approvalStageTimeOutInDays": 1,
                "isApproverJustificationRequired": true,
                "escalationTimeInMinutes": 0,
                "isEscalationEnabled": false,
                "primaryApprovers": [],
                "escalationApprovers": []
            }]
        }
    });
    let admin = lab.admin.clone();
    let (status, answer) = lab.send(&admin, "PATCH", &path, &body);
    assert_eq!(status, 204, "{answer:#}");
    let rule = lab.get(&path);
    assert_eq!(rule["setting"]["isApprovalRequired"], json!(true), "{rule:#}");
    // Read back as the service spells it, and with the settings the body left out.
    assert_eq!(rule["target"]["operations"], json!(["all"]), "{rule:#}");
    assert_eq!(rule["target"]["inheritableSettings"], json!([]), "{rule:#}");
    assert!(rule["target"].get("@odata.type").is_none_or(Value::is_string));
}

#[test]
fn an_approvers_odata_type_still_says_whether_it_is_a_user_or_a_group() {
    let mut lab = Lab::demo();
    let path = rule_path(&mut lab, "Approval_EndUser_Assignment");
    let user = lab.list("/v1.0/users?$top=1")[0]["id"].as_str().unwrap().to_string();
    let body = json!({
        "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyApprovalRule",
        "id": "Approval_EndUser_Assignment",
        "setting": {
            "@odata.type": "microsoft.graph.approvalSettings",
            "isApprovalRequired": true,
            "isApprovalRequiredForExtension": false,
            "isRequestorJustificationRequired": true,
            "approvalMode": "SingleStage",
            "approvalStages": [{
                "approvalStageTimeOutInDays": 1,
                "isApproverJustificationRequired": true,
                "escalationTimeInMinutes": 0,
                "isEscalationEnabled": false,
                "primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": user}],
                "escalationApprovers": []
            }]
        }
    });
    let admin = lab.admin.clone();
    let (status, answer) = lab.send(&admin, "PATCH", &path, &body);
    assert_eq!(status, 204, "{answer:#}");
    let rule = lab.get(&path);
    let approver = &rule["setting"]["approvalStages"][0]["primaryApprovers"][0];
    assert_eq!(approver["@odata.type"], json!("#microsoft.graph.singleUser"), "{rule:#}");
    assert_eq!(approver["userId"], json!(user));
}
