//! Role management policies and their 17 rules, in Graph's wire shape.
//!
//! Each role has one policy; each policy has exactly the 17 rules of reference §2.6, whose ids never
//! change. Rules are typed here so that a PATCH is parsed strictly: an unknown field, a wrong type
//! or an impossible value is refused naming the field, never stored.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::time::IsoDuration;

pub const EXPIRATION_ADMIN_ELIGIBILITY: &str = "Expiration_Admin_Eligibility";
pub const ENABLEMENT_ADMIN_ELIGIBILITY: &str = "Enablement_Admin_Eligibility";
pub const EXPIRATION_ADMIN_ASSIGNMENT: &str = "Expiration_Admin_Assignment";
pub const ENABLEMENT_ADMIN_ASSIGNMENT: &str = "Enablement_Admin_Assignment";
pub const EXPIRATION_END_USER_ASSIGNMENT: &str = "Expiration_EndUser_Assignment";
pub const ENABLEMENT_END_USER_ASSIGNMENT: &str = "Enablement_EndUser_Assignment";
pub const APPROVAL_END_USER_ASSIGNMENT: &str = "Approval_EndUser_Assignment";
pub const AUTHENTICATION_CONTEXT_END_USER_ASSIGNMENT: &str = "AuthenticationContext_EndUser_Assignment";

/// The 17 rule ids, in the order the real service lists them.
pub const RULE_IDS: [&str; 17] = [
    "Expiration_Admin_Eligibility",
    "Enablement_Admin_Eligibility",
    "Notification_Admin_Admin_Eligibility",
    "Notification_Requestor_Admin_Eligibility",
    "Notification_Approver_Admin_Eligibility",
    "Expiration_Admin_Assignment",
    "Enablement_Admin_Assignment",
    "Notification_Admin_Admin_Assignment",
    "Notification_Requestor_Admin_Assignment",
    "Notification_Approver_Admin_Assignment",
    "Expiration_EndUser_Assignment",
    "Enablement_EndUser_Assignment",
    "Approval_EndUser_Assignment",
    "AuthenticationContext_EndUser_Assignment",
    "Notification_Admin_EndUser_Assignment",
    "Notification_Requestor_EndUser_Assignment",
    "Notification_Approver_EndUser_Assignment",
];

/// Which of the three enablement requirements a rule switches on.
pub const ENABLEMENT_VALUES: [&str; 3] = ["MultiFactorAuthentication", "Justification", "Ticketing"];

fn serialize_duration<S: Serializer>(d: &IsoDuration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.to_string())
}

fn deserialize_duration<'de, D: Deserializer<'de>>(d: D) -> Result<IsoDuration, D::Error> {
    let text = String::deserialize(d)?;
    IsoDuration::parse(&text).map_err(serde::de::Error::custom)
}

/// The operations a rule target may name (`unifiedRoleManagementPolicyRuleOperation`), spelled as
/// the service returns them.
const OPERATIONS: [&str; 9] =
    ["all", "activate", "deactivate", "assign", "update", "remove", "extend", "renew", "unknownFutureValue"];

/// `unifiedRoleManagementPolicyRuleTarget`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleTarget {
    pub caller: String,
    pub operations: Vec<String>,
    pub level: String,
    /// Empty when a body leaves them out, as some of Microsoft's documented bodies do.
    #[serde(default)]
    pub inheritable_settings: Vec<String>,
    #[serde(default)]
    pub enforced_settings: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_objects: Option<Vec<serde_json::Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpirationRule {
    pub id: String,
    pub is_expiration_required: bool,
    #[serde(serialize_with = "serialize_duration", deserialize_with = "deserialize_duration")]
    pub maximum_duration: IsoDuration,
    pub target: RuleTarget,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnablementRule {
    pub id: String,
    pub enabled_rules: Vec<String>,
    pub target: RuleTarget,
}

impl EnablementRule {
    pub fn requires(&self, what: &str) -> bool {
        self.enabled_rules.iter().any(|r| r.eq_ignore_ascii_case(what))
    }
}

/// A `subjectSet` naming who may approve. Graph v1.0 writes `userId`/`groupId`; beta writes `id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "@odata.type")]
pub enum Approver {
    #[serde(rename = "#microsoft.graph.singleUser")]
    SingleUser {
        #[serde(rename = "userId", alias = "id")]
        user_id: String,
        #[serde(default)]
        description: Option<String>,
        #[serde(rename = "isBackup", default, skip_serializing)]
        is_backup: Option<bool>,
    },
    #[serde(rename = "#microsoft.graph.groupMembers")]
    GroupMembers {
        #[serde(rename = "groupId", alias = "id")]
        group_id: String,
        #[serde(default)]
        description: Option<String>,
        #[serde(rename = "isBackup", default, skip_serializing)]
        is_backup: Option<bool>,
    },
}

impl Approver {
    pub fn object_id(&self) -> &str {
        match self {
            Approver::SingleUser { user_id, .. } => user_id,
            Approver::GroupMembers { group_id, .. } => group_id,
        }
    }
}

/// `unifiedApprovalStage`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalStage {
    pub approval_stage_time_out_in_days: i32,
    pub is_approver_justification_required: bool,
    pub escalation_time_in_minutes: i32,
    pub is_escalation_enabled: bool,
    pub primary_approvers: Vec<Approver>,
    pub escalation_approvers: Vec<Approver>,
}

impl ApprovalStage {
    /// The stage of the default approval rule (reference §2.7): a day to decide, approver
    /// justification required, no escalation, no approvers named (so the default approvers decide).
    pub fn default_stage() -> ApprovalStage {
        ApprovalStage {
            approval_stage_time_out_in_days: 1,
            is_approver_justification_required: true,
            escalation_time_in_minutes: 0,
            is_escalation_enabled: false,
            primary_approvers: Vec::new(),
            escalation_approvers: Vec::new(),
        }
    }
}

/// `approvalSettings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalSettings {
    pub is_approval_required: bool,
    pub is_approval_required_for_extension: bool,
    pub is_requestor_justification_required: bool,
    pub approval_mode: String,
    pub approval_stages: Vec<ApprovalStage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalRule {
    pub id: String,
    pub target: RuleTarget,
    pub setting: ApprovalSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthenticationContextRule {
    pub id: String,
    pub is_enabled: bool,
    pub claim_value: Option<String>,
    pub target: RuleTarget,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotificationRule {
    pub id: String,
    pub notification_type: String,
    pub recipient_type: String,
    pub notification_level: String,
    pub is_default_recipients_enabled: bool,
    pub notification_recipients: Vec<String>,
    pub target: RuleTarget,
}

/// One policy rule, tagged by its `@odata.type` as on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "@odata.type")]
pub enum PolicyRule {
    #[serde(rename = "#microsoft.graph.unifiedRoleManagementPolicyExpirationRule")]
    Expiration(ExpirationRule),
    #[serde(rename = "#microsoft.graph.unifiedRoleManagementPolicyEnablementRule")]
    Enablement(EnablementRule),
    #[serde(rename = "#microsoft.graph.unifiedRoleManagementPolicyApprovalRule")]
    Approval(ApprovalRule),
    #[serde(rename = "#microsoft.graph.unifiedRoleManagementPolicyAuthenticationContextRule")]
    AuthenticationContext(AuthenticationContextRule),
    #[serde(rename = "#microsoft.graph.unifiedRoleManagementPolicyNotificationRule")]
    Notification(NotificationRule),
}

impl PolicyRule {
    pub fn id(&self) -> &str {
        match self {
            PolicyRule::Expiration(r) => &r.id,
            PolicyRule::Enablement(r) => &r.id,
            PolicyRule::Approval(r) => &r.id,
            PolicyRule::AuthenticationContext(r) => &r.id,
            PolicyRule::Notification(r) => &r.id,
        }
    }

    pub fn target(&self) -> &RuleTarget {
        match self {
            PolicyRule::Expiration(r) => &r.target,
            PolicyRule::Enablement(r) => &r.target,
            PolicyRule::Approval(r) => &r.target,
            PolicyRule::AuthenticationContext(r) => &r.target,
            PolicyRule::Notification(r) => &r.target,
        }
    }

    fn target_mut(&mut self) -> &mut RuleTarget {
        match self {
            PolicyRule::Expiration(r) => &mut r.target,
            PolicyRule::Enablement(r) => &mut r.target,
            PolicyRule::Approval(r) => &mut r.target,
            PolicyRule::AuthenticationContext(r) => &mut r.target,
            PolicyRule::Notification(r) => &mut r.target,
        }
    }

    /// Writes `target.operations` as the service returns them (`All` is read back as `all`):
    /// each known operation in its canonical spelling, whatever casing the caller sent.
    pub fn canonicalise_operations(&mut self) {
        for op in &mut self.target_mut().operations {
            if let Some(known) = OPERATIONS.iter().find(|o| o.eq_ignore_ascii_case(op)) {
                *op = known.to_string();
            }
        }
    }

    /// The `@odata.type` name (without the namespace) a rule with this id must have.
    pub fn type_for_id(id: &str) -> Option<&'static str> {
        let prefix = id.split('_').next()?;
        RULE_IDS.iter().find(|r| r.eq_ignore_ascii_case(id))?;
        Some(match prefix {
            "Expiration" => "unifiedRoleManagementPolicyExpirationRule",
            "Enablement" => "unifiedRoleManagementPolicyEnablementRule",
            "Approval" => "unifiedRoleManagementPolicyApprovalRule",
            "AuthenticationContext" => "unifiedRoleManagementPolicyAuthenticationContextRule",
            _ => "unifiedRoleManagementPolicyNotificationRule",
        })
    }

    /// Checks the values the types alone cannot: the rule keeps its id, caller and level; enum-like
    /// strings hold documented values; numbers are in range. Returns `(field, problem)` on failure.
    pub fn check_values(&self) -> Result<(), (String, String)> {
        let id = self.id();
        let (caller, level) = caller_and_level(id)
            .ok_or_else(|| ("id".to_string(), format!("'{id}' is not one of the 17 rule ids")))?;
        let t = self.target();
        if !t.caller.eq_ignore_ascii_case(caller) {
            return Err((
                "target.caller".into(),
                format!("rule {id} applies to caller '{caller}'; '{}' cannot be set", t.caller),
            ));
        }
        if !t.level.eq_ignore_ascii_case(level) {
            return Err((
                "target.level".into(),
                format!("rule {id} applies to level '{level}'; '{}' cannot be set", t.level),
            ));
        }
        for op in &t.operations {
            if !OPERATIONS.iter().any(|o| o.eq_ignore_ascii_case(op)) {
                return Err((
                    "target.operations".into(),
                    format!("'{op}' is not an operation (expected one of {})", OPERATIONS.join(", ")),
                ));
            }
        }
        match self {
            PolicyRule::Expiration(r) => {
                if r.maximum_duration.as_millis() <= 0 {
                    return Err((
                        "maximumDuration".into(),
                        format!("'{}' must be longer than zero", r.maximum_duration),
                    ));
                }
            }
            PolicyRule::Enablement(r) => {
                for v in &r.enabled_rules {
                    if !ENABLEMENT_VALUES.contains(&v.as_str()) {
                        return Err((
                            "enabledRules".into(),
                            format!("'{v}' is not one of {}", ENABLEMENT_VALUES.join(", ")),
                        ));
                    }
                }
                if !id.contains("EndUser") && r.enabled_rules.iter().any(|v| v == "Ticketing") {
                    // The portal offers ticketing only on activation; admins cannot be asked for a ticket.
                    return Err((
                        "enabledRules".into(),
                        format!(
                            "'Ticketing' can only be required on activation (Enablement_EndUser_Assignment), not on {id}"
                        ),
                    ));
                }
            }
            PolicyRule::Approval(r) => {
                const MODES: [&str; 4] = ["SingleStage", "Serial", "Parallel", "NoApproval"];
                let s = &r.setting;
                if !MODES.contains(&s.approval_mode.as_str()) {
                    return Err((
                        "setting.approvalMode".into(),
                        format!("'{}' is not one of {}", s.approval_mode, MODES.join(", ")),
                    ));
                }
                if s.approval_stages.len() > 2 {
                    return Err((
                        "setting.approvalStages".into(),
                        format!("{} stages given; at most 2 are supported", s.approval_stages.len()),
                    ));
                }
                if s.is_approval_required && s.approval_stages.is_empty() {
                    return Err((
                        "setting.approvalStages".into(),
                        "approval is required but no stage is given".into(),
                    ));
                }
                for (i, stage) in s.approval_stages.iter().enumerate() {
                    if !(1..=30).contains(&stage.approval_stage_time_out_in_days) {
                        return Err((
                            format!("setting.approvalStages[{i}].approvalStageTimeOutInDays"),
                            format!("{} is outside 1..30", stage.approval_stage_time_out_in_days),
                        ));
                    }
                    if stage.escalation_time_in_minutes < 0 {
                        return Err((
                            format!("setting.approvalStages[{i}].escalationTimeInMinutes"),
                            format!("{} is negative", stage.escalation_time_in_minutes),
                        ));
                    }
                }
            }
            PolicyRule::AuthenticationContext(r) => {
                if r.is_enabled && r.claim_value.as_deref().unwrap_or("").is_empty() {
                    return Err((
                        "claimValue".into(),
                        "an enabled authentication-context rule needs a claimValue such as 'c1'".into(),
                    ));
                }
            }
            PolicyRule::Notification(r) => {
                const LEVELS: [&str; 3] = ["None", "Critical", "All"];
                if !LEVELS.contains(&r.notification_level.as_str()) {
                    return Err((
                        "notificationLevel".into(),
                        format!("'{}' is not one of {}", r.notification_level, LEVELS.join(", ")),
                    ));
                }
                if r.notification_type != "Email" {
                    return Err((
                        "notificationType".into(),
                        format!("'{}' is not supported; only 'Email' is", r.notification_type),
                    ));
                }
                let expected = id.split('_').nth(1).unwrap_or_default();
                if r.recipient_type != expected {
                    return Err((
                        "recipientType".into(),
                        format!("rule {id} notifies '{expected}'; '{}' cannot be set", r.recipient_type),
                    ));
                }
                if r.notification_recipients.len() > 1000 {
                    return Err((
                        "notificationRecipients".into(),
                        format!(
                            "{} recipients given; at most 1000 are allowed",
                            r.notification_recipients.len()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The (caller, level) a rule id fixes, e.g. `Expiration_EndUser_Assignment` → (EndUser, Assignment).
pub fn caller_and_level(id: &str) -> Option<(&'static str, &'static str)> {
    RULE_IDS.iter().find(|r| **r == id)?;
    let caller = if id.contains("_EndUser_") { "EndUser" } else { "Admin" };
    let level = if id.ends_with("Eligibility") { "Eligibility" } else { "Assignment" };
    Some((caller, level))
}

fn default_target(id: &str) -> RuleTarget {
    let (caller, level) = caller_and_level(id).expect("default rules use known ids");
    RuleTarget {
        caller: caller.into(),
        operations: vec!["all".into()],
        level: level.into(),
        inheritable_settings: vec![],
        enforced_settings: vec![],
        target_objects: None,
    }
}

/// The 17 rules at the defaults the real service ships for a built-in directory role (reference §2.7).
pub fn default_directory_rules() -> Vec<PolicyRule> {
    RULE_IDS
        .iter()
        .map(|&id| {
            let target = default_target(id);
            let owned = id.to_string();
            match id {
                "Expiration_Admin_Eligibility" => PolicyRule::Expiration(ExpirationRule {
                    id: owned,
                    is_expiration_required: false,
                    maximum_duration: IsoDuration::from_days(365),
                    target,
                }),
                "Expiration_Admin_Assignment" => PolicyRule::Expiration(ExpirationRule {
                    id: owned,
                    is_expiration_required: false,
                    maximum_duration: IsoDuration::from_days(180),
                    target,
                }),
                "Expiration_EndUser_Assignment" => PolicyRule::Expiration(ExpirationRule {
                    id: owned,
                    is_expiration_required: true,
                    maximum_duration: IsoDuration::from_hours(8),
                    target,
                }),
                "Enablement_Admin_Eligibility" => {
                    PolicyRule::Enablement(EnablementRule { id: owned, enabled_rules: vec![], target })
                }
                "Enablement_Admin_Assignment" => PolicyRule::Enablement(EnablementRule {
                    id: owned,
                    enabled_rules: vec!["Justification".into()],
                    target,
                }),
                "Enablement_EndUser_Assignment" => PolicyRule::Enablement(EnablementRule {
                    id: owned,
                    enabled_rules: vec!["MultiFactorAuthentication".into(), "Justification".into()],
                    target,
                }),
                "Approval_EndUser_Assignment" => PolicyRule::Approval(ApprovalRule {
                    id: owned,
                    target,
                    setting: ApprovalSettings {
                        is_approval_required: false,
                        is_approval_required_for_extension: false,
                        is_requestor_justification_required: true,
                        approval_mode: "SingleStage".into(),
                        approval_stages: vec![ApprovalStage::default_stage()],
                    },
                }),
                "AuthenticationContext_EndUser_Assignment" => {
                    PolicyRule::AuthenticationContext(AuthenticationContextRule {
                        id: owned,
                        is_enabled: false,
                        claim_value: None,
                        target,
                    })
                }
                _ => PolicyRule::Notification(NotificationRule {
                    recipient_type: id.split('_').nth(1).expect("notification ids have a recipient").into(),
                    id: owned,
                    notification_type: "Email".into(),
                    notification_level: "All".into(),
                    is_default_recipients_enabled: true,
                    notification_recipients: vec![],
                    target,
                }),
            }
        })
        .collect()
}

/// The rules of an Azure resource role's policy at a scope before anyone changes them (arm-pim
/// reference §3.5): as a directory role's, except that eligible and active assignments must
/// expire (after a year and after six months), as the portal's "permanent not allowed" default.
pub fn default_azure_resource_rules() -> Vec<PolicyRule> {
    default_directory_rules()
        .into_iter()
        .map(|rule| match rule {
            PolicyRule::Expiration(mut r) if r.id.starts_with("Expiration_Admin_") => {
                r.is_expiration_required = true;
                PolicyRule::Expiration(r)
            }
            other => other,
        })
        .collect()
}

/// A role management policy with its rules, as the engine reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub id: String,
    pub scope_id: String,
    pub scope_type: String,
    pub role_definition_id: String,
    pub last_modified_at: Option<super::time::Timestamp>,
    pub last_modified_by: Option<String>,
    /// Shared with the store's parsed-rule cache: a request reads its policy twice or more, and
    /// copying seventeen rules each time was a tenth of its work.
    pub rules: std::rc::Rc<[PolicyRule]>,
}

impl Policy {
    /// The settings of Azure role `role_id` at `scope` before anyone changes them: Azure's
    /// defaults, with an id derived from the pair (settings are per scope and not inherited).
    pub fn azure_default(scope: &super::azure_scope::AzureScope, role_id: &str) -> Policy {
        Policy {
            id: super::ids::derived_guid(&format!("{}\u{0}{role_id}", scope.key())),
            scope_id: scope.path().to_string(),
            scope_type: scope.kind().arm_type().to_string(),
            role_definition_id: role_id.to_string(),
            last_modified_at: None,
            last_modified_by: None,
            rules: default_azure_resource_rules().into(),
        }
    }

    pub fn rule(&self, id: &str) -> Option<&PolicyRule> {
        self.rules.iter().find(|r| r.id() == id)
    }

    pub fn expiration(&self, id: &str) -> Option<&ExpirationRule> {
        match self.rule(id)? {
            PolicyRule::Expiration(r) => Some(r),
            _ => None,
        }
    }

    pub fn enablement(&self, id: &str) -> Option<&EnablementRule> {
        match self.rule(id)? {
            PolicyRule::Enablement(r) => Some(r),
            _ => None,
        }
    }

    pub fn approval(&self) -> Option<&ApprovalRule> {
        match self.rule(APPROVAL_END_USER_ASSIGNMENT)? {
            PolicyRule::Approval(r) => Some(r),
            _ => None,
        }
    }

    pub fn authentication_context(&self) -> Option<&AuthenticationContextRule> {
        match self.rule(AUTHENTICATION_CONTEXT_END_USER_ASSIGNMENT)? {
            PolicyRule::AuthenticationContext(r) => Some(r),
            _ => None,
        }
    }
}

/// Parses a rule from its wire JSON, naming the offending field on failure: `(field, problem)`.
/// The variant is chosen from `@odata.type` first, so that errors inside it keep their path
/// (serde's internally tagged enums lose it).
pub fn parse_rule(mut v: serde_json::Value) -> Result<PolicyRule, (String, String)> {
    fn typed<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, (String, String)> {
        serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            let field = if path.is_empty() || path == "." { "body".to_string() } else { path };
            (field, e.into_inner().to_string())
        })
    }
    let odata_type = match v.as_object_mut().and_then(|m| m.remove("@odata.type")) {
        Some(serde_json::Value::String(t)) => t,
        Some(other) => return Err(("@odata.type".into(), format!("expected a string, got {other}"))),
        None => return Err(("@odata.type".into(), "the rule's @odata.type is missing".into())),
    };
    match odata_type.trim_start_matches("#microsoft.graph.") {
        "unifiedRoleManagementPolicyExpirationRule" => typed(v).map(PolicyRule::Expiration),
        "unifiedRoleManagementPolicyEnablementRule" => typed(v).map(PolicyRule::Enablement),
        "unifiedRoleManagementPolicyApprovalRule" => typed(v).map(PolicyRule::Approval),
        "unifiedRoleManagementPolicyAuthenticationContextRule" => {
            typed(v).map(PolicyRule::AuthenticationContext)
        }
        "unifiedRoleManagementPolicyNotificationRule" => typed(v).map(PolicyRule::Notification),
        other => Err(("@odata.type".into(), format!("'{other}' is not a policy rule type"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_have_the_17_rules_with_reference_values() {
        let rules = default_directory_rules();
        assert_eq!(rules.len(), 17);
        let json = serde_json::to_value(&rules).unwrap();
        assert_eq!(json[0]["@odata.type"], "#microsoft.graph.unifiedRoleManagementPolicyExpirationRule");
        assert_eq!(json[0]["maximumDuration"], "P365D");
        assert_eq!(json[0]["isExpirationRequired"], false);
        assert_eq!(json[5]["maximumDuration"], "P180D");
        assert_eq!(json[10]["maximumDuration"], "PT8H");
        assert_eq!(json[10]["isExpirationRequired"], true);
        assert_eq!(
            json[11]["enabledRules"],
            serde_json::json!(["MultiFactorAuthentication", "Justification"])
        );
        assert_eq!(json[12]["setting"]["approvalStages"][0]["approvalStageTimeOutInDays"], 1);
        assert_eq!(json[2]["recipientType"], "Admin");
        assert_eq!(json[16]["recipientType"], "Approver");
        assert_eq!(json[16]["target"]["operations"], serde_json::json!(["all"]));
        for rule in &rules {
            rule.check_values().unwrap();
        }
    }

    #[test]
    fn rules_parse_strictly() {
        let good = serde_json::json!({
            "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyExpirationRule",
            "id": "Expiration_EndUser_Assignment", "isExpirationRequired": true, "maximumDuration": "PT4H",
            "target": {"caller": "EndUser", "operations": ["all"], "level": "Assignment", "inheritableSettings": [], "enforcedSettings": []}
        });
        let rule: PolicyRule = serde_json::from_value(good.clone()).unwrap();
        assert_eq!(serde_json::to_value(&rule).unwrap(), good);
        let mut unknown = good.clone();
        unknown["maxDuration"] = "PT4H".into();
        assert!(
            serde_json::from_value::<PolicyRule>(unknown).unwrap_err().to_string().contains("maxDuration")
        );
        let mut bad = good;
        bad["maximumDuration"] = "eight hours".into();
        assert!(serde_json::from_value::<PolicyRule>(bad).unwrap_err().to_string().contains("eight hours"));
    }

    #[test]
    fn value_checks_name_the_field() {
        let mut rules = default_directory_rules();
        if let PolicyRule::Enablement(r) = &mut rules[11] {
            r.enabled_rules.push("Selfie".into());
        }
        assert_eq!(rules[11].check_values().unwrap_err().0, "enabledRules");
        if let PolicyRule::Notification(r) = &mut rules[2] {
            r.recipient_type = "Requestor".into();
        }
        assert_eq!(rules[2].check_values().unwrap_err().0, "recipientType");
    }
}
