//! Schedule requests: the nine actions as typed `NewRequest`s (the same ones the Graph router
//! builds from JSON, so the surfaces cannot disagree), listing, one request, and approvals.

use super::args::*;
use super::outcome::{Outcome, PendingDecision, RequestEvent};
use crate::engine::{Engine, RequestFilter, Session};
use crate::model::approval::{ApprovalChannel, Decision};
use crate::model::{
    Action, ApiError, Expiration, ExpirationType, NewRequest, RequestKind, ScheduleInfo, Status, Surface,
    Timestamp,
};

fn schedule_info(s: &ScheduleArgs) -> Option<ScheduleInfo> {
    let expiration = if s.permanent {
        Some(Expiration::never())
    } else if let Some(d) = s.duration {
        Some(Expiration::after(d))
    } else {
        s.until.map(Expiration::at)
    };
    starting(s.start, expiration)
}

/// A schedule from what was given; `None` when nothing was (the engine applies its defaults).
fn starting(start: Option<Timestamp>, expiration: Option<Expiration>) -> Option<ScheduleInfo> {
    if start.is_none() && expiration.is_none() {
        return None;
    }
    Some(ScheduleInfo {
        start,
        expiration: expiration.unwrap_or(Expiration {
            kind: ExpirationType::NotSpecified,
            end: None,
            duration: None,
        }),
    })
}

fn submitted(engine: &mut Engine, session: &Session, req: NewRequest) -> Result<Outcome, ApiError> {
    Ok(Outcome::Request(engine.submit(session, &req)?, RequestEvent::Submitted))
}

/// The principal a member's action is for: a group they belong to, or themselves.
fn member_principal(
    engine: &mut Engine,
    session: &Session,
    group: &Option<String>,
) -> Result<String, ApiError> {
    match group {
        Some(g) => Ok(engine.resolve_object(g)?.id),
        None => Ok(session.caller.clone()),
    }
}

struct Request<'a> {
    kind: RequestKind,
    action: Action,
    principal_id: String,
    role: &'a str,
    scope: &'a str,
    /// PIM for Groups: the group, whose relationship `role` names.
    group: Option<&'a str>,
    schedule_info: Option<ScheduleInfo>,
    options: &'a RequestOptions,
}

fn build(engine: &mut Engine, r: Request<'_>) -> Result<NewRequest, ApiError> {
    // An Azure scope makes it a request for an Azure resource role, whose name or id the engine
    // resolves against the Azure catalog.
    // A group makes it a PIM for Groups request: the group is the scope, `member` or `owner` the role.
    let (surface, scope, role) = match r.group {
        Some(group) => {
            let (group, access) = engine.group_access(group, r.role)?;
            (Surface::Group, group.id, access.id)
        }
        None => match super::azure_scope(engine, r.scope)? {
            Some(path) => (Surface::AzureResource, path, r.role.to_string()),
            None => (Surface::Directory, super::scope(engine, r.scope)?, engine.resolve_role(r.role)?.id),
        },
    };
    Ok(NewRequest {
        surface,
        kind: r.kind,
        action: r.action,
        principal_id: r.principal_id,
        role_definition_id: role,
        directory_scope_id: Some(scope),
        app_scope_id: None,
        justification: r.options.justification.clone(),
        schedule_info: r.schedule_info,
        ticket_info: r.options.ticket.clone(),
        is_validation_only: r.options.validate_only,
    })
}

pub(super) fn admin(
    engine: &mut Engine,
    session: &Session,
    kind: RequestKind,
    action: &AdminAction,
) -> Result<Outcome, ApiError> {
    let (act, a) = match action {
        AdminAction::Assign(a) => (Action::AdminAssign, a),
        AdminAction::Update(a) => (Action::AdminUpdate, a),
        AdminAction::Remove(a) => (Action::AdminRemove, a),
        AdminAction::Extend(a) => (Action::AdminExtend, a),
        AdminAction::Renew(a) => (Action::AdminRenew, a),
        AdminAction::List(l) => return list_schedules(engine, session, kind, l),
    };
    let principal_id = engine.resolve_object(&a.target.principal)?.id;
    let req = admin_request(engine, kind, act, principal_id, a)?;
    submitted(engine, session, req)
}

/// The request an administrator's action makes of its arguments, for `principal_id` (resolved
/// already): `eligible assign` and `active assign` build theirs with it, and so does `import`.
pub(crate) fn admin_request(
    engine: &mut Engine,
    kind: RequestKind,
    action: Action,
    principal_id: String,
    a: &AdminArgs,
) -> Result<NewRequest, ApiError> {
    build(
        engine,
        Request {
            kind,
            action,
            principal_id,
            role: &a.target.role,
            scope: &a.target.scope,
            group: a.target.group.as_deref(),
            schedule_info: schedule_info(&a.schedule),
            options: &a.options,
        },
    )
}

fn list_schedules(
    engine: &mut Engine,
    session: &Session,
    kind: RequestKind,
    l: &ListArgs,
) -> Result<Outcome, ApiError> {
    let principal = match (&l.principal, l.mine) {
        (_, true) => Some(session.caller.clone()),
        (Some(p), false) => Some(engine.resolve_object(p)?.id),
        (None, false) => None,
    };
    if let Some(group) = &l.group {
        return list_group(engine, kind, l, group, principal.as_deref());
    }
    let own = principal.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(&session.caller));
    engine.require_pim_reader(session, own)?;
    let role = l.role.as_deref().map(|r| engine.resolve_role(r)).transpose()?.map(|r| r.id);
    let mut rows = held(engine, kind, l.now, principal.as_deref(), role.as_deref())?;
    // One principal's: also what it holds through its role-assignable groups, shown as Graph
    // shows a member's share of a group's assignment (the member, memberType Group).
    if let Some(p) = principal.as_deref() {
        for group in engine.role_assignable_groups_of(p)? {
            for mut s in held(engine, kind, l.now, Some(&group), role.as_deref())? {
                s.principal_id = p.to_string();
                s.member_type = crate::model::MemberType::Group;
                rows.push(s);
            }
        }
    }
    Ok(if l.now { Outcome::Instances(rows) } else { Outcome::Schedules(rows) })
}

/// A group's PIM memberships and ownerships (one relationship's, with --access), of one
/// principal when given.
fn list_group(
    engine: &mut Engine,
    kind: RequestKind,
    l: &ListArgs,
    group: &str,
    principal: Option<&str>,
) -> Result<Outcome, ApiError> {
    let (group, access) = engine.group_access(group, l.role.as_deref().unwrap_or("member"))?;
    let rows: Vec<_> = held(engine, kind, l.now, principal, None)?
        .into_iter()
        .filter(|s| {
            s.surface == Surface::Group
                && s.directory_scope_id.as_deref() == Some(group.id.as_str())
                && (l.role.is_none() || s.role_definition_id == access.id)
        })
        .collect();
    Ok(if l.now { Outcome::Instances(rows) } else { Outcome::Schedules(rows) })
}

/// Schedules (or, `now`, instances) of a kind, for one principal and role when given.
fn held(
    engine: &mut Engine,
    kind: RequestKind,
    now: bool,
    principal: Option<&str>,
    role: Option<&str>,
) -> Result<Vec<crate::model::Schedule>, ApiError> {
    if now { engine.instances(kind, principal, role) } else { engine.schedules(kind, principal, role) }
}

pub(super) fn activate(
    engine: &mut Engine,
    session: &Session,
    a: &ActivateArgs,
) -> Result<Outcome, ApiError> {
    let principal_id = member_principal(engine, session, &a.for_group)?;
    let req = build(
        engine,
        Request {
            kind: RequestKind::Assignment,
            action: Action::SelfActivate,
            principal_id,
            role: &a.role,
            scope: &a.scope,
            group: a.group.as_deref(),
            schedule_info: starting(a.start, a.duration.map(Expiration::after)),
            options: &a.options,
        },
    )?;
    submitted(engine, session, req)
}

pub(super) fn deactivate(engine: &mut Engine, session: &Session, a: &SelfArgs) -> Result<Outcome, ApiError> {
    let principal_id = member_principal(engine, session, &a.for_group)?;
    let req = build(
        engine,
        Request {
            kind: RequestKind::Assignment,
            action: Action::SelfDeactivate,
            principal_id,
            role: &a.role,
            scope: &a.scope,
            group: a.group.as_deref(),
            schedule_info: None,
            options: &a.options,
        },
    )?;
    submitted(engine, session, req)
}

pub(super) fn self_change(
    engine: &mut Engine,
    session: &Session,
    action: Action,
    a: &SelfChangeArgs,
) -> Result<Outcome, ApiError> {
    let req = build(
        engine,
        Request {
            kind: if a.active { RequestKind::Assignment } else { RequestKind::Eligibility },
            action,
            principal_id: session.caller.clone(),
            role: &a.role,
            scope: &a.scope,
            group: a.group.as_deref(),
            schedule_info: schedule_info(&a.schedule),
            options: &a.options,
        },
    )?;
    submitted(engine, session, req)
}

pub(super) fn list_requests(
    engine: &mut Engine,
    session: &Session,
    a: &RequestsArgs,
) -> Result<Outcome, ApiError> {
    let mut principal = a.principal.as_deref().map(|p| engine.resolve_object(p)).transpose()?.map(|o| o.id);
    if a.mine {
        principal = Some(session.caller.clone());
    }
    let own = principal.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(&session.caller));
    engine.require_pim_reader(session, own)?;
    let filter = RequestFilter {
        kind: a.kind.map(KindArg::kind),
        principal_id: principal,
        role_definition_id: a.role.as_deref().map(|r| engine.resolve_role(r)).transpose()?.map(|r| r.id),
        status: a.status,
        created_by: None,
    };
    let rows = engine
        .requests(&filter)?
        .into_iter()
        .filter(|q| !a.pending || q.status.is_pending() || q.status == Status::Granted)
        .collect();
    Ok(Outcome::Requests(rows))
}

pub(super) fn request(
    engine: &mut Engine,
    session: &Session,
    action: &RequestAction,
) -> Result<Outcome, ApiError> {
    Ok(match action {
        RequestAction::Show(a) => {
            let id = engine.resolve_request_id(&a.id)?;
            Outcome::Request(readable_request(engine, session, &id)?, RequestEvent::Shown)
        }
        RequestAction::Cancel(a) => {
            let id = engine.resolve_request_id(&a.id)?;
            let kind = engine.request(&id, None)?.kind;
            Outcome::Request(engine.cancel(session, kind, &id)?, RequestEvent::Cancelled)
        }
        RequestAction::Explain(a) => {
            let id = engine.resolve_request_id(&a.id)?;
            Outcome::Request(readable_request(engine, session, &id)?, RequestEvent::Explained)
        }
    })
}

/// A request the caller may read: their own (for them, made by them, or waiting for their
/// decision), or anyone's with a reader's role.
fn readable_request(
    engine: &mut Engine,
    session: &Session,
    id: &str,
) -> Result<crate::model::ScheduleRequest, ApiError> {
    let q = engine.request(id, None)?;
    let own = engine.is_own_request(session, &q)?;
    engine.require_pim_reader(session, own)?;
    Ok(q)
}

pub(super) fn approvals(
    engine: &mut Engine,
    session: &Session,
    a: &ApprovalsArgs,
) -> Result<Outcome, ApiError> {
    let mut rows = Vec::new();
    for (request, approvers) in engine.pending_decisions()? {
        if a.mine && !approvers.iter().any(|id| id.eq_ignore_ascii_case(&session.caller)) {
            continue;
        }
        let steps = engine.approval_steps(&request.id)?;
        rows.push(PendingDecision { request, approvers, steps });
    }
    Ok(Outcome::Approvals(rows))
}

pub(super) fn decide(
    engine: &mut Engine,
    session: &Session,
    a: &DecisionArgs,
    decision: Decision,
) -> Result<Outcome, ApiError> {
    let id = engine.resolve_request_id(&a.id)?;
    let q =
        engine.decide(session, &id, None, decision, a.justification.as_deref(), ApprovalChannel::Portal)?;
    Ok(Outcome::Request(q, RequestEvent::Decided(decision)))
}
