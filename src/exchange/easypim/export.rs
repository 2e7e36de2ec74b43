//! `export --format easypim`: the tenant's changed policies (Entra roles, Azure roles at each
//! scope, groups' member and owner policies) and its eligible and active assignments (not
//! activations) as an EasyPIM configuration in the current forms (`PolicyTemplates`,
//! `EntraRoles.Policies`, `AzureRoles.Policies`, `GroupRoles.Policies`, `Assignments`).
//! Deterministic: the same store gives the same bytes. Bodies shared by several policies become
//! templates. What EasyPIM cannot express is listed under `_pimlab` (a key EasyPIM ignores).

use std::io::Write;

use serde_json::{Map, Value, json};

use super::body::NOTIFICATION_KEYS;
use crate::engine::{Engine, Session};
use crate::model::policy::{
    APPROVAL_END_USER_ASSIGNMENT, AUTHENTICATION_CONTEXT_END_USER_ASSIGNMENT, Approver,
    ENABLEMENT_ADMIN_ASSIGNMENT, ENABLEMENT_END_USER_ASSIGNMENT, EXPIRATION_ADMIN_ASSIGNMENT,
    EXPIRATION_ADMIN_ELIGIBILITY, EXPIRATION_END_USER_ASSIGNMENT, Policy, PolicyRule,
};
use crate::model::{
    ApiError, AssignmentType, ExpirationType, MemberType, PrincipalKind, RequestKind, Surface,
};

/// Writes the configuration to `out`.
pub fn export(engine: &mut Engine, _session: &Session, out: &mut dyn Write) -> Result<(), ApiError> {
    let mut notes: Vec<String> = Vec::new();
    let mut entra: Vec<(String, Map<String, Value>)> = Vec::new();
    for p in engine.policies(true)? {
        if p.last_modified_at.is_none() {
            continue;
        }
        let role = engine.resolve_role(&p.role_definition_id)?;
        entra.push((role.display_name, body(&p)));
    }
    entra.sort_by(|a, b| a.0.cmp(&b.0));
    let mut azure: Vec<(String, String, Map<String, Value>)> = Vec::new();
    for node in engine.azure_scopes()? {
        for (role, p) in engine.azure_policies_at(&node.scope)? {
            if p.last_modified_at.is_some() && p.scope_id.eq_ignore_ascii_case(&node.scope.key()) {
                azure.push((role.role_name.clone(), node.scope.path().to_string(), body(&p)));
            }
        }
    }
    azure.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let mut groups: Vec<(String, String, Map<String, Value>)> = Vec::new();
    for g in engine.objects(PrincipalKind::Group)? {
        let Ok(policies) = engine.group_policies(&g.id) else { continue };
        for p in policies {
            if p.last_modified_at.is_some() {
                let access =
                    if p.role_definition_id.eq_ignore_ascii_case("owner") { "Owner" } else { "Member" };
                groups.push((g.id.clone(), access.to_string(), body(&p)));
            }
        }
    }
    groups.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));

    // Bodies used more than once become templates, named in order of first use.
    let mut all: Vec<&Map<String, Value>> = entra.iter().map(|e| &e.1).collect();
    all.extend(azure.iter().map(|e| &e.2));
    all.extend(groups.iter().map(|e| &e.2));
    let mut templates: Vec<Map<String, Value>> = Vec::new();
    for b in &all {
        if all.iter().filter(|o| *o == b).count() > 1 && !templates.contains(b) {
            templates.push((*b).clone());
        }
    }
    let reference = |b: &Map<String, Value>| -> Map<String, Value> {
        match templates.iter().position(|t| t == b) {
            Some(i) => Map::from_iter([("Template".to_string(), json!(format!("Shared{}", i + 1)))]),
            None => b.clone(),
        }
    };

    let mut root = Map::new();
    if !templates.is_empty() {
        let named =
            templates.iter().enumerate().map(|(i, t)| (format!("Shared{}", i + 1), Value::Object(t.clone())));
        root.insert("PolicyTemplates".into(), Value::Object(named.collect()));
    }
    if !entra.is_empty() {
        let policies: Map<String, Value> =
            entra.iter().map(|(r, b)| (r.clone(), Value::Object(reference(b)))).collect();
        root.insert("EntraRoles".into(), json!({ "Policies": policies }));
    }
    if !azure.is_empty() {
        let policies: Vec<Value> = azure
            .iter()
            .map(|(role, scope, b)| {
                let mut e = Map::from_iter([
                    ("RoleName".to_string(), json!(role)),
                    ("Scope".to_string(), json!(scope)),
                ]);
                match reference(b).remove("Template") {
                    Some(t) => e.insert("Template".into(), t),
                    None => e.insert("Policy".into(), Value::Object(b.clone())),
                };
                Value::Object(e)
            })
            .collect();
        root.insert("AzureRoles".into(), json!({ "Policies": policies }));
    }
    if !groups.is_empty() {
        let mut policies = Map::new();
        for (group, access, b) in &groups {
            let entry = policies.entry(group.clone()).or_insert_with(|| json!({}));
            entry[access] = Value::Object(reference(b));
        }
        root.insert("GroupRoles".into(), json!({ "Policies": policies }));
    }
    let assignments = assignments(engine, &mut notes)?;
    if !assignments.is_empty() {
        root.insert("Assignments".into(), Value::Object(assignments));
    }
    if !notes.is_empty() {
        root.insert("_pimlab".into(), json!({ "notExported": notes }));
    }
    let text = serde_json::to_string_pretty(&Value::Object(root)).unwrap_or_default();
    writeln!(out, "{text}").map_err(|e| ApiError::internal(format!("writing the export: {e}")))
}

/// A policy's settings in EasyPIM's fields (notifications only where they are not the default).
fn body(p: &Policy) -> Map<String, Value> {
    let mut b = Map::new();
    let exp = |id: &str| p.expiration(id);
    if let Some(r) = exp(EXPIRATION_END_USER_ASSIGNMENT) {
        b.insert("ActivationDuration".into(), json!(r.maximum_duration.to_string()));
    }
    let list = |id: &str| {
        p.enablement(id)
            .map(|r| if r.enabled_rules.is_empty() { json!("None") } else { json!(r.enabled_rules) })
    };
    if let Some(v) = list(ENABLEMENT_END_USER_ASSIGNMENT) {
        b.insert("ActivationRequirement".into(), v);
    }
    if let Some(v) = list(ENABLEMENT_ADMIN_ASSIGNMENT) {
        b.insert("ActiveAssignmentRequirement".into(), v);
    }
    if let Some(PolicyRule::Approval(a)) = p.rule(APPROVAL_END_USER_ASSIGNMENT) {
        {
            b.insert("ApprovalRequired".into(), json!(a.setting.is_approval_required));
            let approvers: Vec<Value> = a
                .setting
                .approval_stages
                .first()
                .map(|s| s.primary_approvers.iter().map(approver).collect())
                .unwrap_or_default();
            if a.setting.is_approval_required {
                b.insert("Approvers".into(), json!(approvers));
            }
        }
    }
    for (allow, max, id) in [
        ("AllowPermanentEligibility", "MaximumEligibilityDuration", EXPIRATION_ADMIN_ELIGIBILITY),
        ("AllowPermanentActiveAssignment", "MaximumActiveAssignmentDuration", EXPIRATION_ADMIN_ASSIGNMENT),
    ] {
        if let Some(r) = exp(id) {
            b.insert(allow.into(), json!(!r.is_expiration_required));
            b.insert(max.into(), json!(r.maximum_duration.to_string()));
        }
    }
    if let Some(PolicyRule::AuthenticationContext(a)) = p.rule(AUTHENTICATION_CONTEXT_END_USER_ASSIGNMENT) {
        if a.is_enabled {
            b.insert("AuthenticationContext_Enabled".into(), json!(true));
            b.insert("AuthenticationContext_Value".into(), json!(a.claim_value));
        }
    }
    for (key, rule) in NOTIFICATION_KEYS {
        if let Some(PolicyRule::Notification(n)) = p.rule(rule) {
            let default = n.is_default_recipients_enabled
                && n.notification_level == "All"
                && n.notification_recipients.is_empty();
            if !default {
                b.insert(
                    key.into(),
                    json!({
                        "isDefaultRecipientEnabled": n.is_default_recipients_enabled,
                        "notificationLevel": n.notification_level,
                        "Recipients": n.notification_recipients,
                    }),
                );
            }
        }
    }
    b
}

fn approver(a: &Approver) -> Value {
    match a {
        Approver::SingleUser { user_id, description, .. } => {
            json!({ "Id": user_id, "Name": description, "Type": "User" })
        }
        Approver::GroupMembers { group_id, description, .. } => {
            json!({ "Id": group_id, "Name": description, "Type": "Group" })
        }
    }
}

/// One assignment: the list it goes in, the fields that name its block, the entry.
type Row = (&'static str, Vec<(String, String)>, Value);

/// The eligible and active assignments (not activations, not inherited ones), one block per role
/// (role and scope for Azure, group and relationship for groups), in a stable order.
fn assignments(engine: &mut Engine, notes: &mut Vec<String>) -> Result<Map<String, Value>, ApiError> {
    let mut rows: Vec<Row> = Vec::new();
    let now = engine.now()?;
    for (kind, active) in [(RequestKind::Eligibility, false), (RequestKind::Assignment, true)] {
        for s in engine.schedules(kind, None, None)? {
            if s.assignment_type == Some(AssignmentType::Activated) || s.member_type != MemberType::Direct {
                continue;
            }
            let scope = s.directory_scope_id.clone().unwrap_or_else(|| "/".into());
            let mut entry = Map::new();
            entry.insert("principalId".into(), json!(s.principal_id));
            entry.insert("assignmentType".into(), json!(if active { "Active" } else { "Eligible" }));
            match s.end_at {
                None => {
                    entry.insert("permanent".into(), json!(true));
                }
                Some(end) => {
                    let d = match s.schedule_info.expiration.kind {
                        ExpirationType::AfterDuration => s.schedule_info.expiration.duration,
                        _ => Some(crate::model::IsoDuration::from_delta(end - s.start().max(now))),
                    };
                    if let Some(d) = d {
                        entry.insert("duration".into(), json!(d.to_string()));
                    }
                }
            }
            let (list, keys) = match s.surface {
                Surface::Directory => {
                    if scope != "/" {
                        notes.push(format!(
                            "{} assignment of role {} for {} at {scope}: EasyPIM makes Entra assignments at / only",
                            if active { "active" } else { "eligible" },
                            s.role_definition_id,
                            s.principal_id
                        ));
                        continue;
                    }
                    let role = engine.resolve_role(&s.role_definition_id)?.display_name;
                    ("EntraRoles", vec![("roleName".to_string(), role)])
                }
                Surface::AzureResource => {
                    let role = engine.azure_role(&s.role_definition_id)?.role_name;
                    ("AzureRoles", vec![("roleName".to_string(), role), ("scope".to_string(), scope)])
                }
                Surface::Group => {
                    let access =
                        if s.role_definition_id.eq_ignore_ascii_case("owner") { "Owner" } else { "Member" };
                    (
                        "Groups",
                        vec![("groupId".to_string(), scope), ("roleName".to_string(), access.to_string())],
                    )
                }
            };
            rows.push((list, keys, Value::Object(entry)));
        }
    }
    let key = |r: &Row| {
        (
            r.0.to_string(),
            r.1.clone(),
            r.2["principalId"].as_str().unwrap_or_default().to_string(),
            r.2["assignmentType"].to_string(),
        )
    };
    rows.sort_by_key(key);
    let mut out: Map<String, Value> = Map::new();
    for (list, keys, entry) in rows {
        let blocks = out.entry(list.to_string()).or_insert_with(|| json!([]));
        let blocks = blocks.as_array_mut().expect("lists are arrays");
        let same = |b: &Value| keys.iter().all(|(k, v)| b[k] == json!(v));
        match blocks.iter_mut().find(|b| same(b)) {
            Some(b) => b["assignments"].as_array_mut().expect("blocks hold a list").push(entry),
            None => {
                let mut b: Map<String, Value> = keys.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
                b.insert("assignments".into(), json!([entry]));
                blocks.push(Value::Object(b));
            }
        }
    }
    Ok(out)
}
