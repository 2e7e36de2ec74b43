//! Writing the plan through the engine, inside the import's one transaction: users, groups,
//! memberships, then eligibilities and active assignments as administrators' requests. Each step
//! is the engine call its command uses (`user add`, `group add`, `group member add`,
//! `eligible assign`, `active assign`), so the checks, the policies and the audit rows are the
//! real ones; a refusal comes back as the engine gave it, with its line in front.

use super::super::Summary;
use super::columns::Field;
use super::names::Origin;
use super::plan::Plan;
use crate::engine::{Client, Engine, NewObject, Session, check_access};
use crate::exchange::Progress;
use crate::model::permissions::Access;
use crate::model::{Action, ApiError, PrincipalKind, RequestKind, Surface};

pub fn run(
    engine: &mut Engine,
    session: &Session,
    plan: &Plan<'_>,
    progress: &dyn Progress,
    summary: &mut Summary,
) -> Result<(), ApiError> {
    // The id of each entry of the plan's names, as soon as it has one.
    let mut ids: Vec<Option<String>> = plan
        .names
        .entries
        .iter()
        .map(|e| match &e.origin {
            Origin::Stored(id) => Some(id.clone()),
            Origin::Row { .. } => None,
        })
        .collect();
    let planned: Vec<usize> =
        (0..ids.len()).filter(|n| matches!(plan.names.entries[*n].origin, Origin::Row { .. })).collect();
    if !plan.users.is_empty() || !plan.groups.is_empty() || !plan.memberships.is_empty() {
        permitted(session, Access::WriteDirectory)?;
    }

    let users = plan.users.iter().map(|(file, row)| {
        let new = NewObject {
            id: row.id.clone(),
            kind: Some(PrincipalKind::User),
            display_name: row.display_name.clone(),
            user_principal_name: Some(row.upn.clone()),
            mail: row.mail.clone(),
            account_enabled: row.account_enabled,
            ..NewObject::default()
        };
        (*file, row.line, new)
    });
    let groups = plan.groups.iter().map(|(file, row)| {
        let new = NewObject {
            id: row.id.clone(),
            kind: Some(PrincipalKind::Group),
            display_name: row.display_name.clone(),
            description: row.description.clone(),
            is_assignable_to_role: row.is_assignable_to_role,
            security_enabled: row.security_enabled,
            mail_enabled: row.mail_enabled,
            ..NewObject::default()
        };
        (*file, row.line, new)
    });
    // Entries of the import's own objects are in the order they are created: users, then groups.
    let mut created = planned.into_iter();
    for (what, count, news) in [
        ("users", plan.users.len(), Box::new(users) as Box<dyn Iterator<Item = _>>),
        ("groups", plan.groups.len(), Box::new(groups)),
    ] {
        let mut news = news;
        phase(progress, what, count, |_| {
            let (file, line, new) = news.next().expect("one object per step");
            let o = engine.create_object(session, new).map_err(|e| file.refused(line, None, e))?;
            ids[created.next().expect("one entry per object created")] = Some(o.id);
            Ok(())
        })?;
        add(summary, what, count);
    }

    let id = |n: usize| ids[n].clone().expect("every object is created before it is named");
    let mut owners = 0;
    phase(progress, "memberships", plan.memberships.len(), |step| {
        let m = &plan.memberships[step];
        let relation = if m.row.owner { "owner" } else { "member" };
        owners += usize::from(m.row.owner);
        engine
            .add_member(session, &id(m.group), &id(m.member), relation)
            .map_err(|e| m.file.refused(m.row.line, Some(Field::Member), e))
    })?;
    add(summary, "group members", plan.memberships.len() - owners);
    add(summary, "group owners", owners);

    let mut counts = [0usize; 2];
    phase(progress, "role assignments", plan.assignments.len(), |step| {
        let a = &plan.assignments[step];
        let mut args = a.row.args.clone();
        args.target.group = a.group.map(id);
        let req = crate::ops::admin_request(engine, a.row.kind, Action::AdminAssign, id(a.principal), &args)
            .map_err(|e| a.file.refused(a.row.line, None, e))?;
        let needed = match (req.surface, a.row.kind) {
            (Surface::AzureResource, _) => None,
            (Surface::Group, _) => Some(Access::WriteGroupAccess),
            (Surface::Directory, RequestKind::Eligibility) => Some(Access::WriteEligibility),
            (Surface::Directory, RequestKind::Assignment) => Some(Access::WriteAssignment),
        };
        if let Some(needed) = needed {
            permitted(session, needed).map_err(|e| a.file.refused(a.row.line, None, e))?;
        }
        engine.submit_within(session, &req).map_err(|e| a.file.refused(a.row.line, None, e))?;
        counts[usize::from(a.row.kind == RequestKind::Assignment)] += 1;
        Ok(())
    })?;
    add(summary, "eligible assignments", counts[0]);
    add(summary, "active assignments", counts[1]);
    Ok(())
}

/// A line of the summary, for what there was some of.
fn add(summary: &mut Summary, what: &str, count: usize) {
    if count > 0 {
        summary.add(what, count);
    }
}

/// Runs `step` for 0..total as one phase of the progress report; nothing for an empty phase.
fn phase(
    progress: &dyn Progress,
    name: &str,
    total: usize,
    mut step: impl FnMut(usize) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    if total == 0 {
        return Ok(());
    }
    progress.start(name, total as u64);
    for n in 0..total {
        step(n)?;
        progress.advance(1);
    }
    progress.finish();
    Ok(())
}

/// An application's call needs the permission the same command would (pimlab's own client holds
/// them all).
fn permitted(session: &Session, needed: Access) -> Result<(), ApiError> {
    match session.client {
        Client::FirstParty => Ok(()),
        _ => check_access(session, needed),
    }
}
