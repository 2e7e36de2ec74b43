//! Applications as callers (issue 11): the `app` commands, who may sign in with `--as`, and which
//! Microsoft Graph permission each operation needs when it comes through an application.

use super::args::*;
use super::outcome::Outcome;
use super::{AlertsAction, Operation, azure_scope};
use crate::engine::{Engine, NewObject, Session};
use crate::model::permissions::{Access, PermissionKind};
use crate::model::{ApiError, PrincipalKind};

pub(super) fn app(engine: &mut Engine, session: &Session, action: &AppAction) -> Result<Outcome, ApiError> {
    let name = match action {
        AppAction::Add(a) => {
            let sp = engine.create_object(
                session,
                NewObject {
                    kind: Some(PrincipalKind::ServicePrincipal),
                    display_name: a.name.clone(),
                    description: a.description.clone(),
                    ..Default::default()
                },
            )?;
            sp.id
        }
        AppAction::Grant(a) => {
            engine.grant_permission(session, &a.name, kind(a), &a.permission)?;
            a.name.clone()
        }
        AppAction::Revoke(a) => {
            engine.revoke_permission(session, &a.name, kind(a), &a.permission)?;
            a.name.clone()
        }
        AppAction::Show(a) => a.name.clone(),
    };
    let (app, permissions) = engine.app_permissions(&name)?;
    Ok(Outcome::App { app, permissions })
}

/// The arguments of an administrator's request; None for a listing.
fn admin_args(action: &AdminAction) -> Option<&AdminArgs> {
    match action {
        AdminAction::Assign(a)
        | AdminAction::Update(a)
        | AdminAction::Remove(a)
        | AdminAction::Extend(a)
        | AdminAction::Renew(a) => Some(a),
        AdminAction::List(_) => None,
    }
}

fn kind(a: &AppPermissionArgs) -> PermissionKind {
    if a.application { PermissionKind::Application } else { PermissionKind::Delegated }
}

/// The user `--as` names. Only users sign in: a group cannot, and an application calls as itself
/// with `--app`.
pub(super) fn signed_in_user(engine: &mut Engine, text: &str) -> Result<String, ApiError> {
    let o = engine.resolve_object(text)?;
    match o.kind {
        PrincipalKind::User => Ok(o.id),
        PrincipalKind::Group => Err(ApiError::usage(format!(
            "'{}' is a group, and groups cannot sign in: act --as one of its members",
            o.display_name
        ))),
        PrincipalKind::ServicePrincipal => Err(ApiError::usage(format!(
            "'{}' is an application's service principal: an application calls as itself with --app '{}'",
            o.display_name, o.display_name
        ))),
        _ => Err(ApiError::usage(format!(
            "'{}' is a {}, which cannot sign in",
            o.display_name,
            o.kind.as_str()
        ))),
    }
}

/// The Microsoft Graph permission `op` needs when it comes through an application; None for the
/// lab's own controls (the clock, hooks, the fidelity profile, the estate, the outbox) and for
/// Azure roles, which Azure RBAC governs rather than Graph permissions.
pub(super) fn needs(engine: &mut Engine, op: &Operation) -> Result<Option<Access>, ApiError> {
    let azure = |engine: &mut Engine, scope: &str| -> Result<bool, ApiError> {
        Ok(scope != "/" && azure_scope(engine, scope)?.is_some())
    };
    Ok(Some(match op {
        Operation::Eligible { action: AdminAction::List(l) }
        | Operation::Active { action: AdminAction::List(l) }
            if l.group.is_some() =>
        {
            Access::ReadGroupAccess
        }
        Operation::Eligible { action } | Operation::Active { action } => {
            let eligible = matches!(op, Operation::Eligible { .. });
            match admin_args(action) {
                None if eligible => Access::ReadEligibility,
                None => Access::ReadAssignment,
                Some(a) if a.target.group.is_some() => Access::WriteGroupAccess,
                Some(a) if azure(engine, &a.target.scope)? => return Ok(None),
                Some(_) if eligible => Access::WriteEligibility,
                Some(_) => Access::WriteAssignment,
            }
        }
        Operation::Activate(a) if a.group.is_some() => Access::WriteGroupAccess,
        Operation::Activate(a) => {
            if azure(engine, &a.scope)? {
                return Ok(None);
            }
            Access::WriteAssignment
        }
        Operation::Deactivate(a) if a.group.is_some() => Access::WriteGroupAccess,
        Operation::Extend(a) | Operation::Renew(a) if a.group.is_some() => Access::WriteGroupAccess,
        Operation::Deactivate(_) | Operation::Extend(_) | Operation::Renew(_) => Access::WriteAssignment,
        Operation::Requests(_)
        | Operation::Request { action: RequestAction::Show(_) | RequestAction::Explain(_) } => {
            Access::ReadAssignmentRequests
        }
        Operation::Request { action: RequestAction::Cancel(_) } => Access::WriteAssignment,
        Operation::Approvals(_) | Operation::Approve(_) | Operation::Deny(_) => Access::Approvals,
        // Who holds a role reads assignments; who could, and a principal's access, eligibilities too.
        Operation::Who(a) if !a.could => Access::ReadAssignment,
        Operation::Who(_) | Operation::Access(_) => Access::ReadEligibility,
        // Properties read who holds and could hold roles, as of every instant.
        Operation::Check(_) | Operation::Fuzz(_) => Access::ReadEligibility,
        // A replay reads every request and the settings; it changes only its private copy.
        Operation::Replay(_) => Access::ReadAssignmentRequests,
        Operation::Role { action: RoleAction::List(_) | RoleAction::Show(_) } => Access::ReadRoles,
        Operation::Role { .. } => Access::WriteRoles,
        Operation::Policy { action: PolicyAction::Show(a) } if a.group.is_some() => Access::ReadGroupPolicy,
        Operation::Policy { action: PolicyAction::Set(a) } if a.group.is_some() => Access::WriteGroupPolicy,
        Operation::Policy { action: PolicyAction::Show(a) } => match &a.scope {
            Some(s) if azure(engine, s)? => return Ok(None),
            _ => Access::ReadPolicy,
        },
        Operation::Policy { action: PolicyAction::Set(a) } => match &a.scope {
            Some(s) if azure(engine, s)? => return Ok(None),
            _ => Access::WritePolicy,
        },
        Operation::User { action }
        | Operation::Group { action }
        | Operation::Sp { action }
        | Operation::Au { action } => match action {
            ObjectAction::List | ObjectAction::Show(_) | ObjectAction::Members(_) => Access::ReadDirectory,
            ObjectAction::Add(_) | ObjectAction::AddMember(_) => Access::WriteDirectory,
        },
        Operation::Audit(_) => Access::ReadAudit,
        // The history reports read refusals back from the audit trail.
        Operation::Report { .. } | Operation::Timeline(_) => Access::ReadAudit,
        Operation::Alerts { action: None | Some(AlertsAction::Config) } => Access::ReadAlerts,
        Operation::Alerts { .. } => Access::WriteAlerts,
        Operation::App { .. }
        | Operation::Notifications(_)
        | Operation::Hook { .. }
        | Operation::Scope { .. }
        | Operation::Clock { .. }
        | Operation::Fork(_)
        | Operation::Diff(_)
        | Operation::Config { .. } => return Ok(None),
    }))
}
