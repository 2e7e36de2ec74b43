//! Playing the history again on a fork: the clock moved to each event's time (processing what
//! falls due in between, as `clock advance` does: starts, expiries, approval timeouts), each
//! request submitted again as its original caller with its original body, each decision and
//! cancellation made again when the replayed request still waits for one.

use std::collections::BTreeMap;

use super::fate::{Answer, Fate};
use super::history::{Event, History};
use super::{ASSUME_MFA_WHEN_UNRECORDED, SHORTEN_TO_MAXIMUM};
use crate::engine::{Client, Engine, Session};
use crate::model::approval::ApprovalChannel;
use crate::model::{
    ApiError, ErrorCode, Expiration, Hint, NewRequest, Progress, ScheduleInfo, ScheduleRequest, Timestamp,
};

/// Plays `h` on `fork` and gives each request's fate, in the order of `h.requests`.
pub(super) fn play(
    fork: &mut Engine,
    h: &History,
    phase: &str,
    progress: &dyn Progress,
) -> Result<Vec<Fate>, ApiError> {
    let service = Session::new(fork.default_caller()?);
    let mut fates: Vec<Option<Fate>> = vec![None; h.requests.len()];
    // Replayed requests still waiting for a decision: history's index -> the replay's id.
    let mut waiting: BTreeMap<usize, String> = BTreeMap::new();
    progress.start(phase, h.requests.len() as u64);
    // One transaction for the whole replay: each request is still a savepoint that succeeds or
    // fails alone, but the in-memory fork is not committed a hundred thousand times.
    fork.batch(|fork| -> Result<(), ApiError> {
        let mut now = fork.now()?;
        for (at, event) in &h.events {
            if *at > now {
                let report = fork.advance_to(&service, *at)?;
                now = *at;
                if report.timed_out > 0 || report.failed > 0 {
                    settle(fork, &mut waiting, &mut fates)?;
                }
            }
            match event {
                Event::Submit(n) => {
                    let decided_at = h.decision_of(*n).and_then(|s| s.reviewed_at);
                    let (fate, id) = submit(fork, &h.requests[*n], decided_at)?;
                    if let (Answer::Waiting, Some(id)) = (fate.answer, id) {
                        waiting.insert(*n, id);
                    }
                    fates[*n] = Some(fate);
                    progress.advance(1);
                }
                Event::Decide { request, approver, decision, justification } => {
                    let Some(id) = waiting.get(request).cloned() else { continue };
                    let session = Session::new(approver.clone());
                    let decided = fork.decide(
                        &session,
                        &id,
                        None,
                        *decision,
                        justification.as_deref(),
                        ApprovalChannel::Portal,
                    );
                    // An approver the changed policy does not name cannot decide: the request waits on.
                    if let Ok(q) = decided {
                        if !q.status.is_pending() {
                            waiting.remove(request);
                            fates[*request] = Some(resolved(fates[*request].take(), &q, *at, Some(approver)));
                        }
                    }
                }
                Event::Cancel { request, by } => {
                    let Some(id) = waiting.get(request).cloned() else { continue };
                    let kind = h.requests[*request].kind;
                    if let Ok(q) = fork.cancel(&Session::new(by.clone()), kind, &id) {
                        waiting.remove(request);
                        fates[*request] = Some(resolved(fates[*request].take(), &q, *at, None));
                    }
                }
            }
        }
        if h.until > now {
            fork.advance_to(&service, h.until)?;
        }
        settle(fork, &mut waiting, &mut fates)
    })??;
    progress.finish();
    fates
        .into_iter()
        .map(|f| {
            f.ok_or_else(|| ApiError::internal("a stored request had no place in the replay's timeline"))
        })
        .collect()
}

/// Submits stored request `q` again, as its caller, at the fork's clock: its fate, and the
/// replayed request's id when one was stored.
fn submit(
    fork: &mut Engine,
    q: &ScheduleRequest,
    decided_at: Option<Timestamp>,
) -> Result<(Fate, Option<String>), ApiError> {
    let session = session_of(q);
    let mut req = body_of(q, decided_at);
    let mut shortened = false;
    let answer = match fork.submit(&session, &req) {
        Err(e) if e.status < 500 => match maximum_allowed(&e).filter(|_| SHORTEN_TO_MAXIMUM) {
            Some(max) if req.schedule_info.is_some() => {
                let start = req.schedule_info.as_ref().and_then(|i| i.start);
                req.schedule_info = Some(ScheduleInfo { start, expiration: Expiration::after(max) });
                shortened = true;
                fork.submit(&session, &req)
            }
            _ => Err(e),
        },
        other => other,
    };
    let (mut fate, id) = match answer {
        Ok(r) => (Fate::of_request(&r), Some(r.id)),
        Err(e) if e.status < 500 => (Fate::refused(&e), None),
        Err(e) => return Err(e),
    };
    fate.shortened_to_maximum = shortened && fate.answer != Answer::Refused;
    Ok((fate, id))
}

/// The maximum duration a policy refusal names when the request asked for too long (whatever
/// else failed: the retry at the maximum shows what remains).
fn maximum_allowed(e: &ApiError) -> Option<crate::model::IsoDuration> {
    if e.code != ErrorCode::RoleAssignmentRequestPolicyValidationFailed {
        return None;
    }
    e.details.iter().find_map(|d| match &d.hint {
        Some(Hint::AtMost { duration }) if d.code == "ExpirationRule" => Some(*duration),
        _ => None,
    })
}

/// The session the request came in: its caller (an application acting as itself, when it was
/// one), with MFA and authentication-context claims as its decision trace shows them.
fn session_of(q: &ScheduleRequest) -> Session {
    let mut session = Session::new(q.created_by.clone());
    if q.created_by_app {
        session.client = Client::AppOnly { app: q.created_by.clone(), roles: Vec::new() };
    }
    let mfa_step = q.trace.iter().find(|s| s.check.ends_with(".MultiFactorAuthentication"));
    session.mfa = mfa_step.map_or(ASSUME_MFA_WHEN_UNRECORDED, |s| s.passed);
    session.auth_contexts = q
        .trace
        .iter()
        .filter(|s| s.check.starts_with("AuthenticationContext") && s.passed)
        .filter_map(|s| s.seen.strip_prefix("claim ").map(str::to_string))
        .collect();
    session
}

/// The body the request was submitted with, as far as the stored request tells: a start that was
/// the moment it was processed (or approved) is "now" again; a future start is kept.
fn body_of(q: &ScheduleRequest, decided_at: Option<Timestamp>) -> NewRequest {
    let mut body = q.body();
    if let Some(info) = body.schedule_info.as_mut() {
        info.start = info.start.filter(|s| *s > q.created_at && Some(*s) != decided_at);
    }
    body
}

/// Reads again the requests still waiting, and records those whose wait ended (timed out, or
/// failed when approved).
fn settle(
    fork: &mut Engine,
    waiting: &mut BTreeMap<usize, String>,
    fates: &mut [Option<Fate>],
) -> Result<(), ApiError> {
    let mut done = Vec::new();
    for (n, id) in waiting.iter() {
        // A request purged while it waited (45 days) stays as last seen.
        let Ok(q) = fork.request(id, None) else { continue };
        if !q.status.is_pending() {
            // A timed-out approval records no completion: it ended when its last stage was due.
            let due = fork.approval_steps(id)?.iter().filter_map(|s| s.due_at).max();
            let at = q.completed_at.or(q.canceled_at).or(due).unwrap_or(q.created_at);
            fates[*n] = Some(resolved(fates[*n].take(), &q, at, None));
            done.push(*n);
        }
    }
    for n in done {
        waiting.remove(&n);
    }
    Ok(())
}

/// A waiting request's fate once its wait ended at `at`.
fn resolved(before: Option<Fate>, q: &ScheduleRequest, at: Timestamp, by: Option<&String>) -> Fate {
    let mut fate = Fate::of_request(q);
    fate.waited_from = before.as_ref().and_then(|f| f.waited_from).or(Some(q.created_at));
    fate.waited_until = Some(at);
    fate.decided_by = by.cloned();
    fate.shortened_to_maximum = before.is_some_and(|f| f.shortened_to_maximum);
    fate
}
