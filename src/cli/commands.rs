//! One function per command, over the engine. Each builds the same typed request the Graph
//! router builds from JSON, so the two surfaces cannot disagree.

use std::io::Write;

use serde_json::Value;

use super::CliError;
use super::args::*;
use super::render::{self, Names};
use crate::api::{graph, views};
use crate::engine::{AuditQuery, Engine, InitOptions, NewObject, RequestFilter, Session};
use crate::model::approval::Decision;
use crate::model::policy::{Approver, PolicyRule};
use crate::model::time::{format_timestamp, parse_human_duration, parse_timestamp};
use crate::model::{
    Action, ApiError, Expiration, ExpirationType, NewRequest, PrincipalKind, RequestKind, ScheduleInfo,
    Status, Surface, TicketInfo,
};

type Out<'a> = &'a mut dyn Write;

fn usage(e: String) -> CliError {
    CliError::Usage(e)
}

/// Runs one parsed command on an open store (the shell keeps the store between commands).
pub(super) fn dispatch(
    engine: &mut Engine,
    store: &str,
    caller: Option<&str>,
    mfa: bool,
    cli: &Cli,
    out: Out<'_>,
    err: Out<'_>,
) -> Result<i32, CliError> {
    let Some(command) = &cli.command else {
        return Err(usage("no command given".into()));
    };
    if let Command::Init(a) = command {
        return init(engine, store, a, out);
    }
    if !engine.is_initialized()? {
        match engine.init(&InitOptions::default()) {
            Ok(summary) => writeln!(
                err,
                "pimlab: created a new tenant in {store} (seed 1, domain {}); `pimlab init --help` shows the options",
                summary.domain
            )?,
            // Another process created it a moment ago: use theirs.
            Err(e) if e.code == "StoreAlreadyInitialized" => {}
            Err(e) => return Err(e.into()),
        }
    }
    let mut session = session(engine, cli)?;
    if let (Some(c), None) = (caller, &cli.as_principal) {
        session.caller = c.to_string();
    }
    session.mfa = session.mfa && mfa;

    let json = cli.json;
    match command {
        Command::Init(_) => unreachable!("handled above"),
        Command::Run(_) | Command::Repl => {
            Err(usage("`run` and `repl` cannot be used from inside a session".into()))
        }
        Command::Eligible { action } => admin(engine, &session, RequestKind::Eligibility, action, json, out),
        Command::Active { action } => admin(engine, &session, RequestKind::Assignment, action, json, out),
        Command::Activate(a) => activate(engine, &session, a, json, out),
        Command::Deactivate(a) => deactivate(engine, &session, a, json, out),
        Command::Extend(a) => self_change(engine, &session, Action::SelfExtend, a, json, out),
        Command::Renew(a) => self_change(engine, &session, Action::SelfRenew, a, json, out),
        Command::Requests(a) => requests(engine, &session, a, json, out),
        Command::Request { action } => request(engine, &session, action, json, out),
        Command::Approvals { mine } => approvals(engine, &session, *mine, json, out),
        Command::Approve(a) => decide(engine, &session, a, Decision::Approve, json, out),
        Command::Deny(a) => decide(engine, &session, a, Decision::Deny, json, out),
        Command::Notifications { to, since, full } => {
            notifications(engine, to.as_deref(), since.as_deref(), *full, json, out)
        }
        Command::Role { action } => role(engine, &session, action, json, out),
        Command::Policy { action } => policy(engine, &session, action, json, out),
        Command::Hook { action } => hook(engine, &session, action, json, out),
        Command::User { action } => objects(engine, &session, PrincipalKind::User, action, json, out),
        Command::Group { action } => objects(engine, &session, PrincipalKind::Group, action, json, out),
        Command::Sp { action } => {
            objects(engine, &session, PrincipalKind::ServicePrincipal, action, json, out)
        }
        Command::Au { action } => {
            objects(engine, &session, PrincipalKind::AdministrativeUnit, action, json, out)
        }
        Command::Clock { action } => clock(engine, &session, action.as_ref(), json, out),
        Command::Audit(a) => audit(engine, a, json, out),
        Command::Graph(a) => graph_call(engine, &session, a, out, err),
    }
}

fn init(engine: &mut Engine, store: &str, a: &InitArgs, out: Out<'_>) -> Result<i32, CliError> {
    let at = match &a.at {
        Some(t) => parse_timestamp(t).map_err(usage)?,
        None => InitOptions::default().at,
    };
    if engine.is_initialized()? {
        if !a.force {
            return Err(CliError::Api(ApiError::new(
                409,
                "StoreAlreadyInitialized",
                format!(
                    "{store} already holds a tenant; add --force to replace it (everything in it is lost)"
                ),
            )));
        }
        engine.wipe()?;
    }
    let summary = engine.init(&InitOptions { seed: a.seed, at, demo: a.demo, domain: a.domain.clone() })?;
    let admin =
        engine.object(&summary.break_glass_id)?.and_then(|o| o.user_principal_name).unwrap_or_default();
    writeln!(out, "Created tenant {} ({}) in {store}", summary.tenant_id, summary.domain)?;
    writeln!(out, "  clock      {}", format_timestamp(at))?;
    writeln!(out, "  roles      {} built-in, each with its default policy", summary.roles)?;
    writeln!(out, "  users      {}   groups {}", summary.users, summary.groups)?;
    writeln!(out, "  caller     {admin} (permanent Global Administrator; act as someone else with --as)")?;
    Ok(0)
}

fn session(engine: &mut Engine, cli: &Cli) -> Result<Session, CliError> {
    let caller = match &cli.as_principal {
        Some(p) => engine.resolve_object(p)?.id,
        None => engine.default_caller()?,
    };
    Ok(Session { caller, mfa: !cli.no_mfa, auth_contexts: cli.auth_contexts.clone() })
}

fn schedule_info(s: &ScheduleArgs) -> Result<Option<ScheduleInfo>, CliError> {
    let start = s.start.as_deref().map(parse_timestamp).transpose().map_err(usage)?;
    let expiration = if s.permanent {
        Some(Expiration::never())
    } else if let Some(d) = &s.duration {
        Some(Expiration::after(parse_human_duration(d).map_err(usage)?))
    } else if let Some(u) = &s.until {
        Some(Expiration::at(parse_timestamp(u).map_err(usage)?))
    } else {
        None
    };
    if start.is_none() && expiration.is_none() {
        return Ok(None);
    }
    Ok(Some(ScheduleInfo {
        start,
        expiration: expiration.unwrap_or(Expiration {
            kind: ExpirationType::NotSpecified,
            end: None,
            duration: None,
        }),
    }))
}

/// `/`, a path, or an administrative unit (or other object) by name or id.
pub(super) fn scope(engine: &mut Engine, text: &str) -> Result<String, CliError> {
    if text.starts_with('/') {
        return Ok(text.to_string());
    }
    let o = engine.resolve_object(text)?;
    Ok(match o.kind {
        PrincipalKind::AdministrativeUnit => format!("/administrativeUnits/{}", o.id),
        _ => format!("/{}", o.id),
    })
}

fn ticket(t: &Option<String>) -> Option<TicketInfo> {
    t.as_deref().map(crate::engine::parse_ticket)
}

fn submit(
    engine: &mut Engine,
    session: &Session,
    req: NewRequest,
    json: bool,
    out: Out<'_>,
) -> Result<i32, CliError> {
    let q = engine.submit(session, &req)?;
    if json {
        writeln!(out, "{}", pretty(&views::request(&q)))?;
    } else {
        let mut names = Names::default();
        write!(out, "{}", render::request_story(engine, &mut names, &q))?;
    }
    Ok(0)
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("json values serialise")
}

fn admin(
    engine: &mut Engine,
    session: &Session,
    kind: RequestKind,
    action: &AdminAction,
    json: bool,
    out: Out<'_>,
) -> Result<i32, CliError> {
    let (act, a) = match action {
        AdminAction::Assign(a) => (Action::AdminAssign, a),
        AdminAction::Update(a) => (Action::AdminUpdate, a),
        AdminAction::Remove(a) => (Action::AdminRemove, a),
        AdminAction::Extend(a) => (Action::AdminExtend, a),
        AdminAction::Renew(a) => (Action::AdminRenew, a),
        AdminAction::List(l) => return list(engine, kind, l, json, out),
    };
    let req = NewRequest {
        surface: Surface::Directory,
        kind,
        action: act,
        principal_id: engine.resolve_object(&a.target.principal)?.id,
        role_definition_id: engine.resolve_role(&a.target.role)?.id,
        directory_scope_id: Some(scope(engine, &a.target.scope)?),
        app_scope_id: None,
        justification: a.options.justification.clone(),
        schedule_info: schedule_info(&a.schedule)?,
        ticket_info: ticket(&a.options.ticket),
        is_validation_only: a.options.validate_only,
    };
    submit(engine, session, req, json, out)
}

fn list(
    engine: &mut Engine,
    kind: RequestKind,
    l: &ListArgs,
    json: bool,
    out: Out<'_>,
) -> Result<i32, CliError> {
    let principal = l.principal.as_deref().map(|p| engine.resolve_object(p)).transpose()?.map(|o| o.id);
    let role = l.role.as_deref().map(|r| engine.resolve_role(r)).transpose()?.map(|r| r.id);
    let rows = if l.now {
        engine.instances(kind, principal.as_deref(), role.as_deref())?
    } else {
        engine.schedules(kind, principal.as_deref(), role.as_deref())?
    };
    if json {
        let items: Vec<Value> =
            rows.iter().map(|s| if l.now { views::instance(s) } else { views::schedule(s) }).collect();
        writeln!(out, "{}", pretty(&Value::Array(items)))?;
    } else {
        let mut names = Names::default();
        writeln!(out, "{}", render::schedules_table(engine, &mut names, &rows))?;
    }
    Ok(0)
}

fn activate(
    engine: &mut Engine,
    session: &Session,
    a: &ActivateArgs,
    json: bool,
    out: Out<'_>,
) -> Result<i32, CliError> {
    let principal = match &a.for_group {
        Some(g) => engine.resolve_object(g)?.id,
        None => session.caller.clone(),
    };
    let start = a.start.as_deref().map(parse_timestamp).transpose().map_err(usage)?;
    let duration = a.duration.as_deref().map(parse_human_duration).transpose().map_err(usage)?;
    let schedule_info = if start.is_some() || duration.is_some() {
        Some(ScheduleInfo {
            start,
            expiration: duration.map(Expiration::after).unwrap_or(Expiration {
                kind: ExpirationType::NotSpecified,
                end: None,
                duration: None,
            }),
        })
    } else {
        None
    };
    let req = NewRequest {
        surface: Surface::Directory,
        kind: RequestKind::Assignment,
        action: Action::SelfActivate,
        principal_id: principal,
        role_definition_id: engine.resolve_role(&a.role)?.id,
        directory_scope_id: Some(scope(engine, &a.scope)?),
        app_scope_id: None,
        justification: a.options.justification.clone(),
        schedule_info,
        ticket_info: ticket(&a.options.ticket),
        is_validation_only: a.options.validate_only,
    };
    submit(engine, session, req, json, out)
}

fn deactivate(
    engine: &mut Engine,
    session: &Session,
    a: &SelfArgs,
    json: bool,
    out: Out<'_>,
) -> Result<i32, CliError> {
    let principal = match &a.for_group {
        Some(g) => engine.resolve_object(g)?.id,
        None => session.caller.clone(),
    };
    let req = NewRequest {
        surface: Surface::Directory,
        kind: RequestKind::Assignment,
        action: Action::SelfDeactivate,
        principal_id: principal,
        role_definition_id: engine.resolve_role(&a.role)?.id,
        directory_scope_id: Some(scope(engine, &a.scope)?),
        app_scope_id: None,
        justification: a.options.justification.clone(),
        schedule_info: None,
        ticket_info: ticket(&a.options.ticket),
        is_validation_only: a.options.validate_only,
    };
    submit(engine, session, req, json, out)
}

fn self_change(
    engine: &mut Engine,
    session: &Session,
    action: Action,
    a: &SelfChangeArgs,
    json: bool,
    out: Out<'_>,
) -> Result<i32, CliError> {
    let req = NewRequest {
        surface: Surface::Directory,
        kind: if a.active { RequestKind::Assignment } else { RequestKind::Eligibility },
        action,
        principal_id: session.caller.clone(),
        role_definition_id: engine.resolve_role(&a.role)?.id,
        directory_scope_id: Some(scope(engine, &a.scope)?),
        app_scope_id: None,
        justification: a.options.justification.clone(),
        schedule_info: schedule_info(&a.schedule)?,
        ticket_info: ticket(&a.options.ticket),
        is_validation_only: a.options.validate_only,
    };
    submit(engine, session, req, json, out)
}

fn requests(
    engine: &mut Engine,
    session: &Session,
    a: &RequestsArgs,
    json: bool,
    out: Out<'_>,
) -> Result<i32, CliError> {
    let status = match &a.status {
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            usage(format!(
                "'{s}' is not a status (one of {})",
                Status::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })?),
        None => None,
    };
    let mut principal = a.principal.as_deref().map(|p| engine.resolve_object(p)).transpose()?.map(|o| o.id);
    if a.mine {
        principal = Some(session.caller.clone());
    }
    let filter = RequestFilter {
        kind: a.kind.map(|k| match k {
            KindArg::Eligible => RequestKind::Eligibility,
            KindArg::Active => RequestKind::Assignment,
        }),
        principal_id: principal,
        role_definition_id: a.role.as_deref().map(|r| engine.resolve_role(r)).transpose()?.map(|r| r.id),
        status,
        created_by: None,
    };
    let rows: Vec<_> = engine
        .requests(&filter)?
        .into_iter()
        .filter(|q| !a.pending || q.status.is_pending() || q.status == Status::Granted)
        .collect();
    if json {
        writeln!(out, "{}", pretty(&Value::Array(rows.iter().map(views::request).collect())))?;
        return Ok(0);
    }
    let mut names = Names::default();
    let mut t = render::table(&["created", "kind", "action", "status", "principal", "role", "id"]);
    for q in &rows {
        t.add_row(vec![
            format_timestamp(q.created_at),
            q.kind.as_str().to_string(),
            q.action.as_str().to_string(),
            q.status.as_str().to_string(),
            names.principal(engine, &q.principal_id),
            names.role(engine, &q.role_definition_id),
            q.id.clone(),
        ]);
    }
    writeln!(out, "{}", render::finish(&t))?;
    Ok(0)
}

fn request(
    engine: &mut Engine,
    session: &Session,
    action: &RequestAction,
    json: bool,
    out: Out<'_>,
) -> Result<i32, CliError> {
    let mut names = Names::default();
    match action {
        RequestAction::Show { id } => {
            let q = engine.request(id, None)?;
            if json {
                writeln!(out, "{}", pretty(&views::request(&q)))?;
            } else {
                write!(out, "{}", render::request_story(engine, &mut names, &q))?;
            }
        }
        RequestAction::Cancel { id } => {
            let kind = engine.request(id, None)?.kind;
            let q = engine.cancel(session, kind, id)?;
            if json {
                writeln!(out, "{}", pretty(&views::request(&q)))?;
            } else {
                writeln!(out, "Cancelled request {}: now {}", q.id, q.status)?;
            }
        }
        RequestAction::Explain { id } => {
            let q = engine.request(id, None)?;
            if json {
                writeln!(
                    out,
                    "{}",
                    pretty(&serde_json::json!({"request": views::request(&q), "trace": q.trace}))
                )?;
                return Ok(0);
            }
            write!(out, "{}", render::request_story(engine, &mut names, &q))?;
            writeln!(out, "\nHow it was decided:")?;
            if q.trace.is_empty() {
                writeln!(out, "  no policy rule applied to this action")?;
            }
            for step in &q.trace {
                writeln!(
                    out,
                    "  {} {:<58} saw {}; rule: {}",
                    if step.passed { "pass" } else { "FAIL" },
                    step.check,
                    step.seen,
                    step.limit
                )?;
            }
            let outcome = match q.status {
                Status::Provisioned => {
                    "It was provisioned: the access is in effect (or was, until it ended).".to_string()
                }
                Status::Granted => "It was granted and will take effect at its start time.".to_string(),
                Status::PendingApproval => "It waits for an approver.".to_string(),
                Status::PendingAdminDecision => "It waits for an administrator to act on it.".to_string(),
                Status::Revoked => {
                    "The access it targeted was removed (or the request was cancelled).".to_string()
                }
                Status::Canceled => "It was cancelled before it took effect.".to_string(),
                Status::Denied => "An approver denied it.".to_string(),
                Status::Failed => match q.trace.iter().rev().find(|t| !t.passed) {
                    Some(t) if t.check == "ProvisioningAfterApproval" => {
                        format!("It was approved, then failed: {}.", t.seen)
                    }
                    Some(t) => format!("It failed when it was due to start: {}.", t.seen),
                    None => "It failed: what it needed was gone.".to_string(),
                },
                Status::TimedOut => "No approver decided in time.".to_string(),
                Status::PendingEvaluation => "It is being evaluated.".to_string(),
            };
            writeln!(out, "\n{outcome}")?;
        }
    }
    Ok(0)
}

fn role(
    engine: &mut Engine,
    session: &Session,
    action: &RoleAction,
    json: bool,
    out: Out<'_>,
) -> Result<i32, CliError> {
    match action {
        RoleAction::Add { name, actions, description, disabled } => {
            let r = engine.create_role(
                session,
                crate::engine::NewRole {
                    display_name: name.clone(),
                    description: description.clone(),
                    allowed_resource_actions: actions.clone(),
                    is_enabled: !disabled,
                    template_id: None,
                },
            )?;
            if json {
                writeln!(out, "{}", pretty(&views::role_definition(&r)))?;
            } else {
                writeln!(
                    out,
                    "Created custom role {} ({}) with {} permission(s)",
                    r.display_name,
                    r.id,
                    r.allowed_resource_actions.len()
                )?;
            }
        }
        RoleAction::Delete { role } => {
            let r = engine.role(role)?;
            engine.delete_role(session, &r.id)?;
            if json {
                writeln!(out, "{}", pretty(&serde_json::json!({ "deleted": views::role_definition(&r) })))?;
            } else {
                writeln!(out, "Deleted custom role {} ({})", r.display_name, r.id)?;
            }
        }
        RoleAction::List { privileged } => {
            let roles: Vec<_> =
                engine.roles()?.into_iter().filter(|r| !privileged || r.is_privileged).collect();
            if json {
                writeln!(
                    out,
                    "{}",
                    pretty(&Value::Array(roles.iter().map(views::role_definition).collect()))
                )?;
                return Ok(0);
            }
            let mut t = render::table(&["role", "privileged", "built-in", "id"]);
            for r in &roles {
                t.add_row(vec![
                    r.display_name.clone(),
                    if r.is_privileged { "yes" } else { "" }.to_string(),
                    if r.is_built_in { "yes" } else { "custom" }.to_string(),
                    r.id.clone(),
                ]);
            }
            writeln!(out, "{}", render::finish(&t))?;
        }
        RoleAction::Show { role } => {
            let r = engine.role(role)?;
            if json {
                writeln!(out, "{}", pretty(&views::role_definition(&r)))?;
                return Ok(0);
            }
            writeln!(out, "{} ({})", r.display_name, r.id)?;
            if let Some(d) = &r.description {
                writeln!(out, "  {d}")?;
            }
            writeln!(
                out,
                "  built-in {}   privileged {}   enabled {}",
                r.is_built_in, r.is_privileged, r.is_enabled
            )?;
            writeln!(out, "  permissions:")?;
            for a in &r.allowed_resource_actions {
                writeln!(out, "    {a}")?;
            }
            let eligible = engine.schedules(RequestKind::Eligibility, None, Some(&r.id))?;
            let active = engine.schedules(RequestKind::Assignment, None, Some(&r.id))?;
            let mut names = Names::default();
            if !eligible.is_empty() {
                writeln!(out, "  eligible:\n{}", render::schedules_table(engine, &mut names, &eligible))?;
            }
            if !active.is_empty() {
                writeln!(out, "  active:\n{}", render::schedules_table(engine, &mut names, &active))?;
            }
        }
    }
    Ok(0)
}

fn read_body(text: &str) -> Result<String, CliError> {
    match text.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| usage(format!("cannot read body file '{path}': {e}")))
        }
        None => Ok(text.to_string()),
    }
}

fn policy(
    engine: &mut Engine,
    session: &Session,
    action: &PolicyAction,
    json: bool,
    out: Out<'_>,
) -> Result<i32, CliError> {
    let mut names = Names::default();
    match action {
        PolicyAction::Show { role } => {
            let r = engine.role(role)?;
            let p = engine.policy_for_role(&r.id)?;
            if json {
                writeln!(out, "{}", pretty(&views::policy(&p, true)))?;
            } else {
                write!(out, "{}", render::policy(engine, &mut names, &r.display_name, &p))?;
            }
        }
        PolicyAction::Set(a) => {
            let r = engine.role(&a.role)?;
            let p = engine.policy_for_role(&r.id)?;
            // Every change goes in one transaction: all of them, or none.
            let mut patches: Vec<(String, Value)> = Vec::new();
            if let (Some(rule_id), Some(body)) = (&a.rule, &a.body) {
                let patch = crate::api::body::parse_object(&read_body(body)?)?;
                patches.push((rule_id.clone(), Value::Object(patch)));
            }
            let any_setting = a.activation_max.is_some()
                || a.require_mfa.is_some()
                || a.require_justification.is_some()
                || a.require_ticket.is_some()
                || a.require_approval.is_some()
                || !a.approvers.is_empty()
                || a.clear_approvers
                || a.require_auth_context.is_some()
                || a.allow_permanent_eligible.is_some()
                || a.eligible_max.is_some()
                || a.allow_permanent_active.is_some()
                || a.active_max.is_some()
                || a.require_justification_on_assign.is_some();
            if patches.is_empty() && !any_setting {
                return Err(usage(
                    "nothing to change: give at least one setting (see `pimlab policy set --help`)".into(),
                ));
            }
            let mut rules = p.rules.clone();
            let dur = |s: &Option<String>| s.as_deref().map(parse_human_duration).transpose().map_err(usage);
            let activation_max = dur(&a.activation_max)?;
            let eligible_max = dur(&a.eligible_max)?;
            let active_max = dur(&a.active_max)?;
            let mut approvers = Vec::new();
            for name in &a.approvers {
                let o = engine.resolve_object(name)?;
                approvers.push(match o.kind {
                    PrincipalKind::Group => Approver::GroupMembers {
                        group_id: o.id,
                        description: Some(o.display_name),
                        is_backup: None,
                    },
                    _ => Approver::SingleUser {
                        user_id: o.id,
                        description: Some(o.display_name),
                        is_backup: None,
                    },
                });
            }
            let mut touched = std::collections::BTreeSet::new();
            for rule in &mut rules {
                let id = rule.id().to_string();
                let before = rule.clone();
                match rule {
                    PolicyRule::Expiration(x) if id == "Expiration_EndUser_Assignment" => {
                        if let Some(d) = activation_max {
                            x.maximum_duration = d;
                        }
                    }
                    PolicyRule::Expiration(x) if id == "Expiration_Admin_Eligibility" => {
                        if let Some(b) = a.allow_permanent_eligible {
                            x.is_expiration_required = !b;
                        }
                        if let Some(d) = eligible_max {
                            x.maximum_duration = d;
                        }
                    }
                    PolicyRule::Expiration(x) if id == "Expiration_Admin_Assignment" => {
                        if let Some(b) = a.allow_permanent_active {
                            x.is_expiration_required = !b;
                        }
                        if let Some(d) = active_max {
                            x.maximum_duration = d;
                        }
                    }
                    PolicyRule::Enablement(x) if id == "Enablement_EndUser_Assignment" => {
                        toggle(&mut x.enabled_rules, "MultiFactorAuthentication", a.require_mfa);
                        toggle(&mut x.enabled_rules, "Justification", a.require_justification);
                        toggle(&mut x.enabled_rules, "Ticketing", a.require_ticket);
                    }
                    PolicyRule::Enablement(x) if id == "Enablement_Admin_Assignment" => {
                        toggle(&mut x.enabled_rules, "Justification", a.require_justification_on_assign);
                    }
                    PolicyRule::Approval(x) => {
                        if let Some(b) = a.require_approval {
                            x.setting.is_approval_required = b;
                        }
                        if !approvers.is_empty() || a.clear_approvers {
                            if let Some(stage) = x.setting.approval_stages.first_mut() {
                                stage.primary_approvers = approvers.clone();
                            }
                        }
                    }
                    PolicyRule::AuthenticationContext(x) => {
                        if let Some(c) = &a.require_auth_context {
                            if c.eq_ignore_ascii_case("none") {
                                x.is_enabled = false;
                                x.claim_value = None;
                            } else {
                                x.is_enabled = true;
                                x.claim_value = Some(c.clone());
                            }
                        }
                    }
                    _ => {}
                }
                if *rule != before {
                    touched.insert(id);
                }
            }
            for rule in rules.iter().filter(|r| touched.contains(r.id())) {
                patches.push((rule.id().to_string(), serde_json::to_value(rule).expect("rules serialise")));
            }
            if patches.is_empty() {
                writeln!(out, "{} already has these settings; nothing changed", r.display_name)?;
                return Ok(0);
            }
            let changed = engine.update_rules(session, &p.id, &patches)?;
            if json {
                writeln!(out, "{}", pretty(&serde_json::to_value(&changed).expect("rules serialise")))?;
            } else {
                for c in &changed {
                    writeln!(out, "updated {} of {}", c.id(), r.display_name)?;
                }
                let p = engine.policy_for_role(&r.id)?;
                write!(out, "\n{}", render::policy(engine, &mut names, &r.display_name, &p))?;
            }
        }
    }
    Ok(0)
}

fn toggle(list: &mut Vec<String>, value: &str, want: Option<bool>) {
    match want {
        Some(true) if !list.iter().any(|v| v == value) => list.push(value.to_string()),
        Some(false) => list.retain(|v| v != value),
        _ => {}
    }
}

fn objects(
    engine: &mut Engine,
    session: &Session,
    kind: PrincipalKind,
    action: &ObjectAction,
    json: bool,
    out: Out<'_>,
) -> Result<i32, CliError> {
    match action {
        ObjectAction::Add(a) => {
            let o = engine.create_object(
                session,
                NewObject {
                    kind: Some(kind),
                    display_name: a.name.clone(),
                    user_principal_name: a.upn.clone(),
                    description: a.description.clone(),
                    is_assignable_to_role: a.role_assignable,
                    security_enabled: kind == PrincipalKind::Group,
                    ..Default::default()
                },
            )?;
            if json {
                writeln!(out, "{}", pretty(&views::directory_object(&o)))?;
            } else {
                writeln!(
                    out,
                    "Created {} {} ({}){}",
                    kind.as_str(),
                    o.display_name,
                    o.id,
                    o.user_principal_name.as_ref().map(|u| format!(", {u}")).unwrap_or_default()
                )?;
            }
        }
        ObjectAction::List => {
            let rows = engine.objects(kind)?;
            if json {
                writeln!(
                    out,
                    "{}",
                    pretty(&Value::Array(rows.iter().map(views::directory_object).collect()))
                )?;
                return Ok(0);
            }
            let mut t = match kind {
                PrincipalKind::User => render::table(&["name", "user principal name", "id"]),
                PrincipalKind::Group => render::table(&["name", "role-assignable", "members", "id"]),
                _ => render::table(&["name", "id"]),
            };
            for o in &rows {
                match kind {
                    PrincipalKind::User => t.add_row(vec![
                        o.display_name.clone(),
                        o.user_principal_name.clone().unwrap_or_default(),
                        o.id.clone(),
                    ]),
                    PrincipalKind::Group => {
                        let n = engine.members(&o.id, "member")?.len();
                        t.add_row(vec![
                            o.display_name.clone(),
                            if o.is_assignable_to_role { "yes" } else { "no" }.into(),
                            n.to_string(),
                            o.id.clone(),
                        ])
                    }
                    _ => t.add_row(vec![o.display_name.clone(), o.id.clone()]),
                };
            }
            writeln!(out, "{}", render::finish(&t))?;
        }
        ObjectAction::Show { name } => {
            let o = engine.resolve_object(name)?;
            if json {
                writeln!(out, "{}", pretty(&views::directory_object(&o)))?;
                return Ok(0);
            }
            writeln!(out, "{} {} ({})", o.kind.as_str(), o.display_name, o.id)?;
            if let Some(u) = &o.user_principal_name {
                writeln!(out, "  user principal name  {u}")?;
            }
            if o.kind == PrincipalKind::Group {
                writeln!(out, "  role-assignable      {}", o.is_assignable_to_role)?;
            }
            let mut names = Names::default();
            let eligible = engine.schedules(RequestKind::Eligibility, Some(&o.id), None)?;
            let active = engine.schedules(RequestKind::Assignment, Some(&o.id), None)?;
            if !eligible.is_empty() {
                writeln!(out, "  eligible:\n{}", render::schedules_table(engine, &mut names, &eligible))?;
            }
            if !active.is_empty() {
                writeln!(out, "  active:\n{}", render::schedules_table(engine, &mut names, &active))?;
            }
        }
        ObjectAction::AddMember { container, member, owner } => {
            let relation = if *owner { "owner" } else { "member" };
            engine.add_member(session, container, member, relation)?;
            if json {
                let (c, m) = (engine.resolve_object(container)?, engine.resolve_object(member)?);
                writeln!(
                    out,
                    "{}",
                    pretty(&serde_json::json!({
                        "container": views::directory_object(&c), "member": views::directory_object(&m), "relation": relation,
                    }))
                )?;
            } else {
                writeln!(out, "Added {member} to {container} as {relation}")?;
            }
        }
        ObjectAction::Members { container } => {
            let c = engine.resolve_object(container)?;
            let rows = engine.members(&c.id, "member")?;
            if json {
                writeln!(
                    out,
                    "{}",
                    pretty(&Value::Array(rows.iter().map(views::directory_object).collect()))
                )?;
                return Ok(0);
            }
            let mut t = render::table(&["member", "kind", "id"]);
            for o in &rows {
                t.add_row(vec![
                    o.user_principal_name.clone().unwrap_or(o.display_name.clone()),
                    o.kind.as_str().to_string(),
                    o.id.clone(),
                ]);
            }
            writeln!(out, "{}", render::finish(&t))?;
        }
    }
    Ok(0)
}

fn clock(
    engine: &mut Engine,
    session: &Session,
    action: Option<&ClockAction>,
    json: bool,
    out: Out<'_>,
) -> Result<i32, CliError> {
    let report = match action {
        None | Some(ClockAction::Show) => {
            let now = engine.now()?;
            if json {
                writeln!(out, "{}", pretty(&serde_json::json!({"now": format_timestamp(now)})))?;
            } else {
                writeln!(out, "{}", format_timestamp(now))?;
            }
            return Ok(0);
        }
        Some(ClockAction::Set { time }) => {
            engine.advance_to(session, parse_timestamp(time).map_err(usage)?)?
        }
        Some(ClockAction::Advance { duration }) => {
            engine.advance_by(session, parse_human_duration(duration).map_err(usage)?)?
        }
    };
    let now = engine.now()?;
    if json {
        writeln!(
            out,
            "{}",
            pretty(&serde_json::json!({
                "from": report.from.map(format_timestamp), "to": format_timestamp(now),
                "started": report.started, "expired": report.expired, "failed": report.failed, "timedOut": report.timed_out,
                "purgedRequests": report.purged_requests, "purgedSchedules": report.purged_schedules,
                "events": report.events, "eventsOmitted": report.events_omitted,
            }))
        )?;
        return Ok(0);
    }
    writeln!(out, "{} → {}", render::time(report.from), format_timestamp(now))?;
    for e in &report.events {
        writeln!(out, "  {e}")?;
    }
    if report.events_omitted > 0 {
        writeln!(
            out,
            "  ... and {} more events (pimlab audit --since {} lists every one)",
            report.events_omitted,
            render::time(report.from)
        )?;
    }
    writeln!(
        out,
        "  {} started, {} expired, {} failed, {} timed out, {} requests purged",
        report.started, report.expired, report.failed, report.timed_out, report.purged_requests
    )?;
    Ok(0)
}

fn audit(engine: &mut Engine, a: &AuditArgs, json: bool, out: Out<'_>) -> Result<i32, CliError> {
    let q = AuditQuery {
        since: a.since.as_deref().map(parse_timestamp).transpose().map_err(usage)?,
        principal: a.principal.clone(),
        role: a.role.clone(),
    };
    let rows = engine.audit(&q)?;
    if json {
        let mut items = Vec::new();
        for r in &rows {
            let actor = engine.object(&r.actor_id)?;
            items.push(views::audit_record(r, actor.as_ref()));
        }
        writeln!(out, "{}", pretty(&Value::Array(items)))?;
        return Ok(0);
    }
    let mut names = Names::default();
    let mut t = render::table(&["time", "actor", "activity", "targets"]);
    for r in &rows {
        let actor =
            if r.actor_id.contains('-') { names.principal(engine, &r.actor_id) } else { r.actor_id.clone() };
        let targets: Vec<String> =
            r.targets.iter().map(|t| t.display_name.clone().unwrap_or(t.id.clone())).collect();
        t.add_row(vec![format_timestamp(r.at), actor, r.activity.clone(), targets.join(", ")]);
    }
    writeln!(out, "{}", render::finish(&t))?;
    Ok(0)
}

fn graph_call(
    engine: &mut Engine,
    session: &Session,
    a: &GraphArgs,
    out: Out<'_>,
    err: Out<'_>,
) -> Result<i32, CliError> {
    let body = a.body.as_deref().map(read_body).transpose()?;
    let response = graph::handle(engine, session, &a.method, &a.path, body.as_deref());
    if let Some(b) = &response.body {
        writeln!(out, "{}", pretty(b))?;
    }
    writeln!(err, "{}", graph::status_line(&response))?;
    Ok(if response.is_success() { 0 } else { 1 })
}

fn approvals(
    engine: &mut Engine,
    session: &Session,
    mine: bool,
    json: bool,
    out: Out<'_>,
) -> Result<i32, CliError> {
    let rows: Vec<_> = engine
        .pending_decisions()?
        .into_iter()
        .filter(|(_, approvers)| !mine || approvers.iter().any(|a| a.eq_ignore_ascii_case(&session.caller)))
        .collect();
    if json {
        let mut items = Vec::new();
        for (q, approvers) in &rows {
            let mut v = views::request(q);
            v["approvers"] = serde_json::json!(approvers);
            items.push(v);
        }
        writeln!(out, "{}", pretty(&Value::Array(items)))?;
        return Ok(0);
    }
    let mut names = Names::default();
    let mut t = render::table(&["created", "status", "action", "principal", "role", "waiting for", "id"]);
    for (q, approvers) in &rows {
        let steps = engine.approval_steps(&q.id)?;
        let stage = steps
            .iter()
            .filter(|s| s.status == crate::model::approval::StepStatus::InProgress)
            .map(|s| format!("stage {}/{} until {}", s.stage, steps.len(), render::time(s.due_at)))
            .collect::<Vec<_>>()
            .join(", ");
        let who: Vec<String> = approvers.iter().map(|a| names.principal(engine, a)).collect();
        let waiting = if stage.is_empty() {
            format!("an administrator: {}", who.join(", "))
        } else {
            format!("{stage}: {}", who.join(", "))
        };
        t.add_row(vec![
            format_timestamp(q.created_at),
            q.status.as_str().to_string(),
            q.action.as_str().to_string(),
            names.principal(engine, &q.principal_id),
            names.role(engine, &q.role_definition_id),
            waiting,
            q.id.clone(),
        ]);
    }
    writeln!(out, "{}", render::finish(&t))?;
    Ok(0)
}

fn decide(
    engine: &mut Engine,
    session: &Session,
    a: &DecisionArgs,
    decision: Decision,
    json: bool,
    out: Out<'_>,
) -> Result<i32, CliError> {
    let q = engine.decide(session, &a.id, None, decision, a.justification.as_deref())?;
    if json {
        writeln!(out, "{}", pretty(&views::request(&q)))?;
    } else {
        let verb = if decision == Decision::Approve { "Approved" } else { "Denied" };
        writeln!(out, "{verb}: request {} is now {}", q.id, q.status)?;
        let mut names = Names::default();
        write!(out, "{}", render::request_story(engine, &mut names, &q))?;
    }
    Ok(0)
}

fn notifications(
    engine: &mut Engine,
    to: Option<&str>,
    since: Option<&str>,
    full: bool,
    json: bool,
    out: Out<'_>,
) -> Result<i32, CliError> {
    let since = since.map(parse_timestamp).transpose().map_err(usage)?;
    let rows = engine.notifications(to, since)?;
    if json {
        writeln!(out, "{}", pretty(&Value::Array(rows.iter().map(views::notification).collect())))?;
        return Ok(0);
    }
    if full {
        for n in &rows {
            writeln!(
                out,
                "{}  {}  to {} ({})",
                format_timestamp(n.at),
                n.event,
                n.recipients.join(", "),
                n.recipient_type
            )?;
            writeln!(out, "  Subject: {}", n.subject)?;
            for line in n.body.lines() {
                writeln!(out, "  | {line}")?;
            }
            writeln!(out)?;
        }
        return Ok(0);
    }
    let mut t = render::table(&["time", "event", "to", "subject"]);
    for n in &rows {
        t.add_row(vec![
            format_timestamp(n.at),
            n.event.clone(),
            format!("{} ({})", n.recipients.join(", "), n.recipient_type),
            n.subject.clone(),
        ]);
    }
    writeln!(out, "{}", render::finish(&t))?;
    Ok(0)
}

fn hook(
    engine: &mut Engine,
    session: &Session,
    action: &HookAction,
    json: bool,
    out: Out<'_>,
) -> Result<i32, CliError> {
    let mut names = Names::default();
    let hook_json = |h: &crate::model::hook::Hook| {
        serde_json::json!({
            "name": h.name, "role": h.role_definition_id, "scope": h.scope, "addedBy": h.added_by,
            "addedDateTime": format_timestamp(h.added_at), "position": h.position, "source": h.source,
        })
    };
    match action {
        HookAction::Add { name, file, role, scope } => {
            let source = std::fs::read_to_string(file)
                .map_err(|e| usage(format!("cannot read hook file '{}': {e}", file.display())))?;
            let scope = scope.as_deref().map(|s| self::scope(engine, s)).transpose()?;
            let (h, handlers) = engine.add_hook(session, name, &source, role.as_deref(), scope.as_deref())?;
            if json {
                writeln!(out, "{}", pretty(&hook_json(&h)))?;
            } else {
                let role = h
                    .role_definition_id
                    .as_deref()
                    .map_or("every role".to_string(), |r| names.role(engine, r));
                writeln!(
                    out,
                    "Added hook {} ({}) for {} at {}; it runs {} of {}",
                    h.name,
                    handlers.join(", "),
                    role,
                    h.scope.as_deref().unwrap_or("every scope"),
                    ordinal(h.position),
                    engine.hooks()?.len()
                )?;
            }
        }
        HookAction::List => {
            let hooks = engine.hooks()?;
            if json {
                writeln!(out, "{}", pretty(&Value::Array(hooks.iter().map(hook_json).collect())))?;
                return Ok(0);
            }
            let mut t = render::table(&["order", "hook", "role", "scope", "added", "by"]);
            for h in &hooks {
                t.add_row(vec![
                    h.position.to_string(),
                    h.name.clone(),
                    h.role_definition_id.as_deref().map_or("every role".into(), |r| names.role(engine, r)),
                    h.scope.clone().unwrap_or_else(|| "every scope".into()),
                    format_timestamp(h.added_at),
                    names.principal(engine, &h.added_by),
                ]);
            }
            writeln!(out, "{}", render::finish(&t))?;
        }
        HookAction::Show { name } => {
            let h = engine.hook(name)?;
            if json {
                writeln!(out, "{}", pretty(&hook_json(&h)))?;
                return Ok(0);
            }
            writeln!(
                out,
                "hook {} (runs {}), for {} at {}, added {} by {}\n",
                h.name,
                ordinal(h.position),
                h.role_definition_id.as_deref().map_or("every role".into(), |r| names.role(engine, r)),
                h.scope.as_deref().unwrap_or("every scope"),
                format_timestamp(h.added_at),
                names.principal(engine, &h.added_by)
            )?;
            for (i, line) in h.source.lines().enumerate() {
                writeln!(out, "{:>4}  {line}", i + 1)?;
            }
        }
        HookAction::Remove { name } => {
            let h = engine.remove_hook(session, name)?;
            if json {
                writeln!(out, "{}", pretty(&serde_json::json!({ "removed": hook_json(&h) })))?;
            } else {
                writeln!(out, "Removed hook {}", h.name)?;
            }
        }
        HookAction::Test { name, request, kind } => {
            let mut body = crate::api::body::parse_object(&read_body(request)?)?;
            // Unlike a Graph call, a dry run takes names too: `"principalId": "alice"`,
            // `"roleDefinitionId": "Global Administrator"`.
            if let Some(Value::String(p)) = body.get("principalId") {
                let id = engine.resolve_object(p)?.id;
                body.insert("principalId".into(), Value::String(id));
            }
            if let Some(Value::String(r)) = body.get("roleDefinitionId") {
                let id = engine.resolve_role(r)?.id;
                body.insert("roleDefinitionId".into(), Value::String(id));
            }
            let text = Value::Object(body).to_string();
            // A Graph body does not say which collection it was posted to: active unless told.
            let kind = match kind {
                Some(KindArg::Eligible) => RequestKind::Eligibility,
                Some(KindArg::Active) | None => RequestKind::Assignment,
            };
            let req = crate::api::body::schedule_request(kind, &text)?;
            let (verdicts, outcome) = engine.test_hook(session, name, &req)?;
            if json {
                let items: Vec<Value> = verdicts
                    .iter()
                    .map(|(event, v)| {
                        serde_json::json!({
                            "handler": event.handler(),
                            "defined": !matches!(v, Ok(None)),
                            "decision": match v {
                                Ok(None) => Value::Null,
                                Ok(Some(d)) => decision_json(d),
                                Err(f) => serde_json::json!({"error": f.message, "line": f.line}),
                            },
                        })
                    })
                    .collect();
                let outcome = match &outcome {
                    Ok(q) => views::request(q),
                    Err(e) => serde_json::json!({"error": {"code": e.code, "message": e.message}}),
                };
                writeln!(out, "{}", pretty(&serde_json::json!({"handlers": items, "outcome": outcome})))?;
                return Ok(0);
            }
            writeln!(out, "hook {name} on {} (nothing is stored):", req.action)?;
            for (event, v) in &verdicts {
                let text = match v {
                    Ok(None) => "no handler".to_string(),
                    Ok(Some(d)) => describe_decision(d),
                    Err(f) => format!(
                        "FAILED{}: {}",
                        f.line.map(|l| format!(" at line {l}")).unwrap_or_default(),
                        f.message
                    ),
                };
                writeln!(out, "  {:<10} {text}", event.handler())?;
            }
            match outcome {
                Ok(q) => writeln!(out, "the request would end {}", q.status)?,
                Err(e) => write!(out, "the request would be refused:\n{}", render::error(&e))?,
            }
        }
    }
    Ok(0)
}

fn ordinal(n: i64) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, r) if r != 11 => "st",
        (2, r) if r != 12 => "nd",
        (3, r) if r != 13 => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// A decision in the shape the handler returned it (`nil` → `null`), for `hook test --json`.
fn decision_json(d: &crate::engine::HookDecision) -> Value {
    use crate::engine::HookDecision as D;
    match d {
        D::Allow => Value::Null,
        D::Deny { rule, message } => serde_json::json!({ "deny": rule, "message": message }),
        D::RequireApproval { approvers } => serde_json::json!({ "approval": true, "approvers": approvers }),
        D::Shorten { duration } => serde_json::json!({ "duration": duration.to_string() }),
        D::Route { approvers, replace } => serde_json::json!({ "approvers": approvers, "replace": replace }),
        D::Note(n) => serde_json::json!({ "note": n }),
        D::Notify { to, subject, body } => {
            serde_json::json!({ "notify": { "to": to, "subject": subject, "body": body } })
        }
    }
}

fn describe_decision(d: &crate::engine::HookDecision) -> String {
    use crate::engine::HookDecision as D;
    match d {
        D::Allow => "allow".into(),
        D::Deny { rule, message } => format!("deny ({rule}): {message}"),
        D::RequireApproval { approvers } if approvers.is_empty() => "require approval".into(),
        D::RequireApproval { approvers } => format!("require approval by {}", approvers.join(", ")),
        D::Shorten { duration } => format!("shorten to {duration}"),
        D::Route { approvers, replace } => {
            format!("{} approvers {}", if *replace { "replace" } else { "add" }, approvers.join(", "))
        }
        D::Note(n) => format!("note: {n}"),
        D::Notify { to, subject, .. } => format!("notify {}: {subject}", to.join(", ")),
    }
}
