//! Requests for a reader: a request's story, its decision trace, request and approval tables.

use std::io::{self, Write};

use super::{Names, finish, request_story, table, time};
use crate::engine::Engine;
use crate::model::approval::{Decision, StepStatus};
use crate::model::time::format_timestamp;
use crate::model::{ScheduleRequest, Status};
use crate::ops::{Outcome, RequestEvent};

pub(super) fn render(
    engine: &mut Engine,
    names: &mut Names,
    outcome: &Outcome,
    out: &mut dyn Write,
) -> io::Result<()> {
    match outcome {
        Outcome::Request(q, RequestEvent::Submitted | RequestEvent::Shown) => {
            write!(out, "{}", request_story(engine, names, q))
        }
        Outcome::Request(q, RequestEvent::Cancelled) => {
            writeln!(out, "Cancelled request {}: now {}", q.id, q.status)
        }
        Outcome::Request(q, RequestEvent::Decided(d)) => {
            let verb = if *d == Decision::Approve { "Approved" } else { "Denied" };
            writeln!(out, "{verb}: request {} is now {}", q.id, q.status)?;
            write!(out, "{}", request_story(engine, names, q))
        }
        Outcome::Request(q, RequestEvent::Explained) => explain(engine, names, q, out),
        Outcome::Requests(rows) if rows.is_empty() => writeln!(out, "no requests"),
        Outcome::Requests(rows) => {
            let mut t = table(&["created", "kind", "action", "status", "principal", "role", "id"]);
            for q in rows {
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
            writeln!(out, "{}", finish(&t))
        }
        Outcome::Approvals(rows) if rows.is_empty() => writeln!(out, "no requests waiting for a decision"),
        Outcome::Approvals(rows) => {
            let mut t = table(&["created", "status", "action", "principal", "role", "waiting for", "id"]);
            for p in rows {
                let q = &p.request;
                let stage = p
                    .steps
                    .iter()
                    .filter(|s| s.status == StepStatus::InProgress)
                    .map(|s| format!("stage {}/{} until {}", s.stage, p.steps.len(), time(s.due_at)))
                    .collect::<Vec<_>>()
                    .join(", ");
                let who: Vec<String> = p.approvers.iter().map(|a| names.principal(engine, a)).collect();
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
            writeln!(out, "{}", finish(&t))
        }
        _ => Ok(()),
    }
}

/// `request explain`: the story, every check with the value seen and the rule, and the outcome.
fn explain(
    engine: &mut Engine,
    names: &mut Names,
    q: &ScheduleRequest,
    out: &mut dyn Write,
) -> io::Result<()> {
    write!(out, "{}", request_story(engine, names, q))?;
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
        Status::Revoked => "The access it targeted was removed (or the request was cancelled).".to_string(),
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
    writeln!(out, "\n{outcome}")
}
