//! pimlab's own JSON shapes, beside the Graph ones of [`super::views`]: what `--json` prints and
//! what scripts receive for things Graph has no entity for (a clock report, a decision trace, the
//! approvals waiting, hooks and their decisions). Documented once, in docs/scripting.md §4.

use serde_json::{Value, json};

use super::views;
use crate::engine::HandlerVerdict;
use crate::engine::{AdvanceReport, HookDecision};
use crate::model::hook::Hook;
use crate::model::time::format_timestamp;
use crate::model::{ApiError, RoleDefinition, ScheduleRequest, Timestamp};

/// `clock show`: `{"now": ...}`.
pub fn now(now: Timestamp) -> Value {
    json!({ "now": format_timestamp(now) })
}

/// `scope add`, `scope list`: an Azure scope as the estate holds it, `id` and `type` as ARM
/// names them (`expandedProperties.scope`).
pub fn azure_scope(node: &crate::model::azure_scope::AzureScopeNode) -> Value {
    json!({
        "id": node.scope.path(), "name": node.scope.name(), "type": node.scope.kind().arm_type(),
        "displayName": node.display_name, "parent": node.parent.as_ref().map(|p| p.path()),
        "createdDateTime": format_timestamp(node.created_at),
    })
}

/// `scope show`: the scope, with `ancestors` (nearest first) and `children`.
pub fn azure_scope_with(
    node: &crate::model::azure_scope::AzureScopeNode,
    ancestors: &[crate::model::azure_scope::AzureScopeNode],
    children: &[crate::model::azure_scope::AzureScopeNode],
) -> Value {
    let mut v = azure_scope(node);
    v["ancestors"] = Value::Array(ancestors.iter().map(azure_scope).collect());
    v["children"] = Value::Array(children.iter().map(azure_scope).collect());
    v
}

/// `config fidelity`: every switch of the profile, in listing order.
pub fn fidelity(profile: crate::model::FidelityProfile) -> Value {
    let switches: Vec<Value> = crate::model::FidelitySwitch::ALL
        .iter()
        .map(|s| {
            json!({
                "name": s.name(), "on": profile.is_on(*s), "origin": s.origin().as_str(),
                "effect": s.effect(), "whenOff": s.when_off(),
            })
        })
        .collect();
    Value::Array(switches)
}

/// `clock set` / `clock advance`: what moved, and the events on the way.
pub fn clock_report(report: &AdvanceReport, now: Timestamp) -> Value {
    json!({
        "from": report.from.map(format_timestamp), "to": format_timestamp(now),
        "started": report.started, "expired": report.expired, "failed": report.failed,
        "timedOut": report.timed_out, "purgedRequests": report.purged_requests,
        "purgedSchedules": report.purged_schedules, "events": report.events,
        "eventsOmitted": report.events_omitted,
    })
}

/// `request explain`: the request and its decision trace, each fix worded as for Graph.
pub fn explain(q: &ScheduleRequest) -> Value {
    let trace: Vec<Value> = q
        .trace
        .iter()
        .map(|step| {
            let mut v = json!({ "check": step.check });
            if let Some(rule) = &step.rule {
                v["rule"] = json!(rule);
            }
            v["passed"] = json!(step.passed);
            v["seen"] = json!(step.seen);
            v["limit"] = json!(step.limit);
            if let Some(fix) = &step.fix {
                v["fix"] = json!(super::hints::graph_words(fix));
            }
            v
        })
        .collect();
    json!({ "request": views::request(q), "trace": trace })
}

/// One request waiting for a decision: the Graph request plus who may decide it.
pub fn pending_decision(q: &ScheduleRequest, approvers: &[String]) -> Value {
    let mut v = views::request(q);
    v["approvers"] = json!(approvers);
    v
}

/// An application: its service principal as Graph writes it, the Microsoft Graph permissions it
/// holds by name, and the same in the two shapes Graph keeps them: `appRoleAssignments`
/// (application permissions) and `oauth2PermissionGrants` (delegated scopes, consented for all
/// users).
pub fn app(
    sp: &crate::model::DirectoryObject,
    permissions: &[crate::model::permissions::AppPermission],
) -> Value {
    // The permissions by name first: Graph's objects name an application permission only by
    // its app role's id.
    let named: Vec<Value> = permissions
        .iter()
        .map(|p| {
            json!({
                "id": p.id, "kind": p.kind.as_str(), "permission": p.permission,
                "grantedDateTime": crate::model::time::format_timestamp(p.granted_at), "grantedBy": p.granted_by,
            })
        })
        .collect();
    json!({
        "servicePrincipal": views::directory_object(sp),
        "permissions": named,
        "appRoleAssignments": views::app_role_assignments(sp, permissions),
        "oauth2PermissionGrants": views::permission_grants(sp, permissions),
    })
}

pub fn role_deleted(r: &RoleDefinition) -> Value {
    json!({ "deleted": views::role_definition(r) })
}

pub fn member_added(
    container: &crate::model::DirectoryObject,
    member: &crate::model::DirectoryObject,
    relation: &str,
) -> Value {
    json!({
        "container": views::directory_object(container), "member": views::directory_object(member),
        "relation": relation,
    })
}

pub fn hook(h: &Hook) -> Value {
    json!({
        "name": h.name, "role": h.role_definition_id, "scope": h.scope, "addedBy": h.added_by,
        "addedDateTime": format_timestamp(h.added_at), "position": h.position, "source": h.source,
    })
}

/// `hook add`: the hook and the handlers its file defines.
pub fn hook_added(h: &Hook, handlers: &[String]) -> Value {
    let mut v = hook(h);
    v["handlers"] = json!(handlers);
    v
}

pub fn hook_removed(h: &Hook) -> Value {
    json!({ "removed": hook(h) })
}

/// A decision in the shape the handler returned it (`nil` → `null`).
pub fn hook_decision(d: &HookDecision) -> Value {
    use HookDecision as D;
    match d {
        D::Allow => Value::Null,
        D::Deny { rule, message } => json!({ "deny": rule, "message": message }),
        D::RequireApproval { approvers } => json!({ "approval": true, "approvers": approvers }),
        D::Shorten { duration } => json!({ "duration": duration.to_string() }),
        D::Route { approvers, replace } => json!({ "approvers": approvers, "replace": replace }),
        D::Note(n) => json!({ "note": n }),
        D::Notify { to, subject, body } => {
            json!({ "notify": { "to": to, "subject": subject, "body": body } })
        }
    }
}

/// `hook test`: each handler's decision, and what the request would come to.
pub fn hook_test(verdicts: &[HandlerVerdict], outcome: &Result<ScheduleRequest, ApiError>) -> Value {
    let handlers: Vec<Value> = verdicts
        .iter()
        .map(|(event, v)| {
            json!({
                "handler": event.handler(),
                "defined": !matches!(v, Ok(None)),
                "decision": match v {
                    Ok(None) => Value::Null,
                    Ok(Some(d)) => hook_decision(d),
                    Err(f) => json!({"error": f.message, "line": f.line}),
                },
            })
        })
        .collect();
    let outcome = match outcome {
        Ok(q) => views::request(q),
        Err(e) => json!({"error": {"code": e.code, "message": e.message}}),
    };
    json!({ "handlers": handlers, "outcome": outcome })
}
