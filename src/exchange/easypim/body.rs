//! A policy body (reference §4): the fields of a template, an inline policy or an entry's
//! flattened fields, read into typed settings. A field that is absent (or an empty string) is
//! `None` and leaves its rule of the live policy unchanged.

use serde_json::{Map, Value};

use super::durations::policy_duration;
use super::fidelity;
use super::source::{field, first_field, invalid, text, truthy};
use crate::model::IsoDuration;

/// Which kind of policy a body is for: a few fields mean something only for some.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Entra,
    Azure,
    Group,
}

/// An approver as the configuration names one.
#[derive(Debug, Clone, PartialEq)]
pub struct ApproverRef {
    pub id: String,
    pub name: Option<String>,
    /// `Some(true)` for `"Type": "Group"`, `Some(false)` for `User`, `None` when absent.
    pub group: Option<bool>,
}

/// One notification rule's settings (reference §4.3).
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub default_recipients: bool,
    pub level: String,
    pub recipients: Vec<String>,
}

/// The settings a body supplies, typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Body {
    pub activation_duration: Option<IsoDuration>,
    pub activation_requirement: Option<Vec<String>>,
    pub active_assignment_requirement: Option<Vec<String>>,
    pub approval_required: Option<bool>,
    pub approvers: Option<Vec<ApproverRef>>,
    pub allow_permanent_eligibility: Option<bool>,
    pub maximum_eligibility: Option<IsoDuration>,
    pub allow_permanent_active: Option<bool>,
    pub maximum_active: Option<IsoDuration>,
    pub auth_context_enabled: Option<bool>,
    pub auth_context_value: Option<String>,
    /// By rule id (`Notification_Admin_Admin_Eligibility`, ...).
    pub notifications: Vec<(&'static str, Notification)>,
}

/// The nine flat notification keys and the rule each sets (reference §4.3).
pub const NOTIFICATION_KEYS: [(&str, &str); 9] = [
    ("Notification_EligibleAssignment_Alert", "Notification_Admin_Admin_Eligibility"),
    ("Notification_EligibleAssignment_Assignee", "Notification_Requestor_Admin_Eligibility"),
    ("Notification_EligibleAssignment_Approver", "Notification_Approver_Admin_Eligibility"),
    ("Notification_ActiveAssignment_Alert", "Notification_Admin_Admin_Assignment"),
    ("Notification_ActiveAssignment_Assignee", "Notification_Requestor_Admin_Assignment"),
    ("Notification_ActiveAssignment_Approver", "Notification_Approver_Admin_Assignment"),
    ("Notification_Activation_Alert", "Notification_Admin_EndUser_Assignment"),
    ("Notification_Activation_Assignee", "Notification_Requestor_EndUser_Assignment"),
    ("Notification_Activation_Approver", "Notification_Approver_EndUser_Assignment"),
];

/// Names of the live policy's properties that people put in configurations; EasyPIM ignores them
/// (reference §4, quirk 8), except the two group aliases.
const LIVE_PROPERTY_NAMES: [&str; 3] =
    ["EnablementRules", "MaximumEligibleAssignmentDuration", "AllowPermanentEligibleAssignment"];

const ACTIVATION_TOKENS: [&str; 4] = ["None", "MultiFactorAuthentication", "Justification", "Ticketing"];

/// Reads a resolved body (template overlaid, entry fields flattened). `notes` collects what the
/// input relies on (quirks, dropped values).
pub fn read(
    map: &Map<String, Value>,
    kind: Kind,
    origin: &str,
    notes: &mut Vec<String>,
) -> Result<Body, crate::model::ApiError> {
    let mut b = Body::default();
    let duration =
        |key: &str, notes: &mut Vec<String>| -> Result<Option<IsoDuration>, crate::model::ApiError> {
            match text(map, key) {
                None => Ok(None),
                Some(t) => policy_duration(t, kind, key).map_err(|e| invalid(origin, e)).inspect(|d| {
                    if d.is_none() {
                        notes.push(format!("{origin}: {key} '{t}' is zero; EasyPIM drops zero durations"));
                    }
                }),
            }
        };
    b.activation_duration = duration("ActivationDuration", notes)?;
    if kind == Kind::Group && b.activation_duration.is_none() {
        b.activation_duration = duration("Duration", notes)?;
    }
    b.activation_requirement = requirement(map, "ActivationRequirement", origin, notes)?;
    if kind == Kind::Group && b.activation_requirement.is_none() {
        b.activation_requirement = requirement(map, "EnablementRules", origin, notes)?;
    }
    b.active_assignment_requirement = requirement(map, "ActiveAssignmentRequirement", origin, notes)?;
    if let Some(list) = &mut b.active_assignment_requirement {
        if list.iter().any(|t| t == "Ticketing") {
            notes.push(format!(
                "{origin}: ActiveAssignmentRequirement 'Ticketing' is not valid for active assignments; EasyPIM drops it"
            ));
            list.retain(|t| t != "Ticketing");
        }
    }
    b.approval_required = boolean(map, "ApprovalRequired", origin, notes);
    b.approvers = match field(map, "Approvers") {
        None | Some(Value::Null) => None,
        Some(v) => Some(approvers(v, origin, notes)?),
    };
    b.allow_permanent_eligibility = boolean(map, "AllowPermanentEligibility", origin, notes);
    b.maximum_eligibility = duration("MaximumEligibilityDuration", notes)?;
    b.allow_permanent_active = boolean(map, "AllowPermanentActiveAssignment", origin, notes);
    b.maximum_active = duration("MaximumActiveAssignmentDuration", notes)?;
    if kind != Kind::Group {
        b.auth_context_enabled = boolean(map, "AuthenticationContext_Enabled", origin, notes);
        b.auth_context_value = match text(map, "AuthenticationContext_Value") {
            None => None,
            Some(v) => Some(claim(v).ok_or_else(|| {
                invalid(
                    origin,
                    format!(
                        "AuthenticationContext_Value '{v}' is not c1 to c99 (optionally followed by :Label)"
                    ),
                )
            })?),
        };
        if b.auth_context_enabled == Some(true) && b.auth_context_value.is_none() {
            return Err(invalid(
                origin,
                "AuthenticationContext_Enabled is true but AuthenticationContext_Value is missing",
            ));
        }
    }
    b.notifications = notifications(map, origin, notes)?;
    for name in LIVE_PROPERTY_NAMES {
        let alias = kind == Kind::Group && name == "EnablementRules";
        if !alias && field(map, name).is_some() {
            notes.push(format!(
                "{origin}: '{name}' is a property of exported policies, not a configuration key; EasyPIM ignores it"
            ));
        }
    }
    Ok(b)
}

/// A boolean field; a string there is truthy as in PowerShell (flagged).
fn boolean(map: &Map<String, Value>, key: &str, origin: &str, notes: &mut Vec<String>) -> Option<bool> {
    let v = field(map, key)?;
    if v.is_null() {
        return None;
    }
    let (value, quirk) = truthy(v);
    if quirk {
        notes.push(format!(
            "{origin}: quirk: {key} is {v}, not a JSON boolean; PowerShell reads it as {value}"
        ));
    }
    Some(value)
}

/// `ActivationRequirement` / `ActiveAssignmentRequirement`: a comma list or an array of exact,
/// case-sensitive tokens; `None` alone (or nothing) is the empty list.
fn requirement(
    map: &Map<String, Value>,
    key: &str,
    origin: &str,
    notes: &mut Vec<String>,
) -> Result<Option<Vec<String>>, crate::model::ApiError> {
    let tokens: Vec<String> = match field(map, key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => {
            s.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect()
        }
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.trim().to_string()),
                other => Err(invalid(origin, format!("{key} holds {other}, not a string"))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(invalid(origin, format!("{key} must be a string or an array, not {other}")));
        }
    };
    let mut out = Vec::new();
    for t in tokens {
        if t == "AuthenticationContext" {
            notes.push(format!(
                "{origin}: {key} 'AuthenticationContext' is not a requirement; removed, as EasyPIM's validation does (use AuthenticationContext_Enabled)"
            ));
            continue;
        }
        if !ACTIVATION_TOKENS.contains(&t.as_str()) {
            return Err(invalid(
                origin,
                format!(
                    "{key} '{t}' is not one of None, MultiFactorAuthentication, Justification, Ticketing (case-sensitive)"
                ),
            ));
        }
        if t != "None" && !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(Some(out))
}

/// `c1` .. `c99`, a `:Label` stripped.
fn claim(value: &str) -> Option<String> {
    let id = value.split(':').next().unwrap_or_default().trim();
    let n: u32 = id.strip_prefix('c').or_else(|| id.strip_prefix('C'))?.parse().ok()?;
    (1..=99).contains(&n).then(|| format!("c{n}"))
}

/// Approvers: a bare id, or an object with `Id` (required), a name, a type (reference §4.2).
fn approvers(
    v: &Value,
    origin: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<ApproverRef>, crate::model::ApiError> {
    let items = match v {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::String(id) => out.push(ApproverRef { id: id.clone(), name: None, group: None }),
            Value::Object(m) => {
                let id = text(m, "Id").ok_or_else(|| {
                    invalid(origin, format!("Approvers[{i}] has no Id (InvalidApproverFormat: every approver needs an object id)"))
                })?;
                let name = match text(m, "Name") {
                    Some(n) => Some(n.to_string()),
                    None => {
                        let alias =
                            ["description", "desc", "displayName"].into_iter().find(|k| text(m, k).is_some());
                        alias.map(|k| {
                            notes.push(format!(
                                "{origin}: Approvers[{i}] uses '{k}'; EasyPIM warns and reads it as Name"
                            ));
                            text(m, k).unwrap_or_default().to_string()
                        })
                    }
                };
                let group = match first_field(m, &["Type", "userType"]).and_then(Value::as_str) {
                    None => None,
                    Some(t) if t.eq_ignore_ascii_case("group") || t.eq_ignore_ascii_case("groupMembers") => {
                        Some(true)
                    }
                    Some(t) if t.eq_ignore_ascii_case("user") => Some(false),
                    Some(t) => {
                        return Err(invalid(
                            origin,
                            format!("Approvers[{i}] Type '{t}' is not User or Group"),
                        ));
                    }
                };
                out.push(ApproverRef { id: id.to_string(), name, group });
            }
            other => {
                return Err(invalid(origin, format!("Approvers[{i}] is {other}, not an id or an object")));
            }
        }
    }
    Ok(out)
}

/// The nine notification rules from the flat keys and the nested `Notifications` object (which
/// wins where both give one).
fn notifications(
    map: &Map<String, Value>,
    origin: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<(&'static str, Notification)>, crate::model::ApiError> {
    let nested = match field(map, "Notifications") {
        Some(Value::Object(n)) => Some(n),
        None | Some(Value::Null) => None,
        Some(other) => return Err(invalid(origin, format!("Notifications must be an object, not {other}"))),
    };
    let mut out = Vec::new();
    for (key, rule) in NOTIFICATION_KEYS {
        let mut parts = key.split('_').skip(1);
        let (phase, recipient) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
        let nested_phase = match phase {
            "EligibleAssignment" => "Eligibility",
            "ActiveAssignment" => "Active",
            _ => "Activation",
        };
        let nested_recipient = if recipient == "Approver" { "Approvers" } else { recipient };
        let from_nested = nested
            .and_then(|n| field(n, nested_phase))
            .and_then(Value::as_object)
            .and_then(|p| field(p, nested_recipient));
        let Some(value) = from_nested.or_else(|| field(map, key)) else { continue };
        let Value::Object(n) = value else {
            return Err(invalid(origin, format!("{key} must be an object, not {value}")));
        };
        out.push((rule, notification(n, key, origin, notes)?));
    }
    Ok(out)
}

fn notification(
    n: &Map<String, Value>,
    key: &str,
    origin: &str,
    notes: &mut Vec<String>,
) -> Result<Notification, crate::model::ApiError> {
    let default_recipients = match first_field(
        n,
        &["isDefaultRecipientEnabled", "isDefaultRecipientsEnabled"],
    ) {
        None | Some(Value::Null) => true,
        Some(v) => {
            let (value, quirk) = truthy(v);
            if quirk {
                notes.push(format!(
                    "{origin}: quirk: {key}.isDefaultRecipientEnabled is {v}, a string; PowerShell reads it as {value}"
                ));
            }
            value
        }
    };
    let level = match text(n, "notificationLevel") {
        None => "All".to_string(),
        Some(l) => fidelity::NOTIFICATION_LEVELS
            .iter()
            .find(|known| known.eq_ignore_ascii_case(l))
            .map(|s| s.to_string())
            .ok_or_else(|| {
                invalid(origin, format!("{key}.notificationLevel '{l}' is not All, Critical or None"))
            })?,
    };
    let recipients = match field(n, "Recipients") {
        None | Some(Value::Null) => vec![],
        Some(Value::String(s)) => {
            s.split(',').map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect()
        }
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Some(other) => {
            return Err(invalid(origin, format!("{key}.Recipients must be e-mail addresses, not {other}")));
        }
    };
    Ok(Notification { default_recipients, level, recipients })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value, kind: Kind) -> (Result<Body, crate::model::ApiError>, Vec<String>) {
        let mut notes = Vec::new();
        let r = read(v.as_object().unwrap(), kind, "test", &mut notes);
        (r, notes)
    }

    #[test]
    fn requirements_are_case_sensitive_lists() {
        let (b, _) =
            body(json!({"ActivationRequirement": "MultiFactorAuthentication, Justification"}), Kind::Entra);
        assert_eq!(
            b.unwrap().activation_requirement.unwrap(),
            ["MultiFactorAuthentication", "Justification"]
        );
        let (b, _) = body(json!({"ActivationRequirement": "None"}), Kind::Entra);
        assert_eq!(b.unwrap().activation_requirement.unwrap(), Vec::<String>::new());
        let (e, _) = body(json!({"ActivationRequirement": ["justification"]}), Kind::Entra);
        assert!(e.unwrap_err().message.contains("case-sensitive"));
        let (b, notes) = body(json!({"ActiveAssignmentRequirement": "Justification,Ticketing"}), Kind::Entra);
        assert_eq!(b.unwrap().active_assignment_requirement.unwrap(), ["Justification"]);
        assert!(notes[0].contains("Ticketing"));
    }

    #[test]
    fn nested_notifications_win_and_string_booleans_are_truthy() {
        let (b, notes) = body(
            json!({
                "Notification_Activation_Alert": {"isDefaultRecipientEnabled": "false", "Recipients": "a@x, b@x"},
                "Notifications": {"Activation": {"Alert": {"notificationLevel": "critical"}}}
            }),
            Kind::Entra,
        );
        let b = b.unwrap();
        assert_eq!(b.notifications.len(), 1);
        assert_eq!(b.notifications[0].1.level, "Critical");
        assert!(notes.is_empty());
        let (b, notes) = body(
            json!({"Notification_Activation_Alert": {"isDefaultRecipientEnabled": "false"}}),
            Kind::Entra,
        );
        assert!(b.unwrap().notifications[0].1.default_recipients);
        assert!(notes[0].contains("quirk"));
    }

    #[test]
    fn group_aliases_and_auth_context() {
        let (b, _) = body(json!({"Duration": "PT1H", "EnablementRules": ["Justification"]}), Kind::Group);
        let b = b.unwrap();
        assert_eq!(b.activation_duration, Some(IsoDuration::from_hours(1)));
        assert_eq!(b.activation_requirement.unwrap(), ["Justification"]);
        let (b, _) = body(
            json!({"AuthenticationContext_Enabled": true, "AuthenticationContext_Value": "c3:Strong"}),
            Kind::Entra,
        );
        assert_eq!(b.unwrap().auth_context_value.as_deref(), Some("c3"));
        let (e, _) = body(
            json!({"AuthenticationContext_Enabled": true, "AuthenticationContext_Value": "c100"}),
            Kind::Entra,
        );
        assert!(e.is_err());
    }
}
