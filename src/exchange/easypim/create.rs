//! The assignment phase (reference §7.3, §7.4): an entry whose principal already holds the role
//! (eligible or active, whatever the entry asks: quirk 6) is skipped; otherwise its schedule is
//! worked out from the live policy as EasyPIM's core cmdlets do and an admin request is
//! submitted, which succeeds or fails alone.

use super::assignments::Assignment;
use super::durations::assignment_duration;
use super::fidelity;
use super::holdings::{Holding, Place, holdings, place};
use super::report::{AssignmentOutcome, AssignmentResult};
use crate::engine::{Engine, Session};
use crate::model::policy::{
    EXPIRATION_ADMIN_ASSIGNMENT, EXPIRATION_ADMIN_ELIGIBILITY, EXPIRATION_END_USER_ASSIGNMENT, Policy,
};
use crate::model::{
    Action, ApiError, Expiration, IsoDuration, NewRequest, RequestKind, ScheduleInfo, Surface,
};

pub fn run(
    engine: &mut Engine,
    session: &Session,
    entries: &[Assignment],
    what_if: bool,
) -> Result<Vec<AssignmentResult>, ApiError> {
    let mut out = Vec::new();
    for a in entries {
        let mut result = AssignmentResult {
            origin: a.origin.clone(),
            what: String::new(),
            principal: a.principal.clone(),
            active: a.active,
            outcome: AssignmentOutcome::Created,
            notes: Vec::new(),
        };
        match one(engine, session, a, what_if, &mut result) {
            Ok(outcome) => result.outcome = outcome,
            Err(e) if e.status >= 500 => return Err(e),
            Err(e) => result.outcome = AssignmentOutcome::Failed(format!("{}: {}", e.code, e.message)),
        }
        out.push(result);
    }
    Ok(out)
}

fn one(
    engine: &mut Engine,
    session: &Session,
    a: &Assignment,
    what_if: bool,
    result: &mut AssignmentResult,
) -> Result<AssignmentOutcome, ApiError> {
    let here = place(engine, &a.target)?;
    result.what = format!("{} {}", here.role_name, scope_words(&here));
    let held: Vec<Holding> = holdings(engine, here.surface)?
        .into_iter()
        .filter(|h| h.schedule.principal_id.eq_ignore_ascii_case(&a.principal))
        .filter(|h| here.same(h.schedule.surface, &h.schedule.role_definition_id, h.scope()))
        .collect();
    if let Some(h) = held.first() {
        if h.active != a.active {
            result.notes.push(format!(
                "quirk: the principal holds it {}; EasyPIM counts that as a match and does not change it",
                if h.active { "active" } else { "eligible" }
            ));
        }
        return Ok(AssignmentOutcome::Skipped);
    }
    if a.condition.is_some() {
        result
            .notes
            .push("the ABAC condition is not modelled by pimlab; the assignment is made without it".into());
    }
    let policy = live_policy(engine, &here)?;
    let expiration = expiration(a, &here, &policy, result)?;
    let req = NewRequest {
        surface: here.surface,
        kind: if a.active { RequestKind::Assignment } else { RequestKind::Eligibility },
        action: Action::AdminAssign,
        principal_id: a.principal.clone(),
        role_definition_id: here.role_id.clone(),
        directory_scope_id: Some(here.scope.clone()),
        app_scope_id: None,
        justification: Some(
            a.justification.clone().unwrap_or_else(|| fidelity::DEFAULT_JUSTIFICATION.to_string()),
        ),
        schedule_info: Some(ScheduleInfo { start: None, expiration }),
        ticket_info: None,
        is_validation_only: false,
    };
    engine.submit(session, &req)?;
    Ok(if what_if { AssignmentOutcome::Planned } else { AssignmentOutcome::Created })
}

fn scope_words(p: &Place) -> String {
    match p.surface {
        Surface::Directory => format!("at {}", p.scope),
        Surface::AzureResource => format!("at {}", p.scope),
        Surface::Group => format!("of group {}", p.scope),
    }
}

fn live_policy(engine: &mut Engine, p: &Place) -> Result<Policy, ApiError> {
    match p.surface {
        Surface::Directory => engine.policy_for_role(&p.role_id),
        Surface::AzureResource => Ok(engine.azure_policy(&p.scope, &p.role_id)?.1),
        Surface::Group => engine
            .group_policies(&p.scope)?
            .into_iter()
            .find(|x| x.role_definition_id.eq_ignore_ascii_case(&p.role_id))
            .ok_or_else(|| ApiError::internal("a group without its policy")),
    }
}

/// The schedule EasyPIM's core asks for (reference §7.3): `permanent` wins; a `duration` must
/// not exceed the limit; without either, the limit itself.
fn expiration(
    a: &Assignment,
    p: &Place,
    policy: &Policy,
    result: &mut AssignmentResult,
) -> Result<Expiration, ApiError> {
    if a.permanent {
        return Ok(Expiration::never());
    }
    let max = |id: &str| policy.expiration(id).map(|r| r.maximum_duration);
    let activation = max(EXPIRATION_END_USER_ASSIGNMENT);
    // Each limit with the words EasyPIM's refusal uses for it.
    let limits: Vec<(Option<IsoDuration>, &str)> = match (p.surface, a.active) {
        (_, false) => vec![(max(EXPIRATION_ADMIN_ELIGIBILITY), "the maximum eligible duration")],
        (Surface::Directory, true) => {
            vec![(activation.or(max(EXPIRATION_ADMIN_ASSIGNMENT)), "the role's activation duration (quirk)")]
        }
        (Surface::AzureResource, true) => vec![
            (max(EXPIRATION_ADMIN_ASSIGNMENT), "the maximum active duration"),
            (activation, "the role's activation duration"),
        ],
        (Surface::Group, true) => vec![(max(EXPIRATION_ADMIN_ASSIGNMENT), "the maximum active duration")],
    };
    let Some(text) = &a.duration else {
        let first = limits[0].0.unwrap_or(IsoDuration::from_minutes(30));
        return Ok(Expiration::after(first));
    };
    let (d, rewritten) = assignment_duration(text).map_err(|e| ApiError::bad_request("duration", e))?;
    if rewritten && text.trim().to_ascii_uppercase().ends_with('M') {
        result.notes.push(format!("quirk: duration '{text}' is read as {d} (minutes, not months)"));
    }
    for (limit, words) in limits {
        if let Some(limit) = limit {
            if d > limit {
                return Err(ApiError::bad_request(
                    "duration",
                    format!("POLICY VALIDATION FAILED: duration {text} ({d}) exceeds {words}, {limit}"),
                ));
            }
        }
    }
    Ok(Expiration::after(d))
}
