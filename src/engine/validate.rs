//! Schedule normalisation and policy evaluation. Every check leaves a [`TraceStep`]; the failing
//! ones become one `RoleAssignmentRequestPolicyValidationFailed` error listing every rule that
//! failed, as the real service does, with pimlab's explanation beside it.

use super::fidelity;
use crate::model::ErrorCode;
use crate::model::policy::{EnablementRule, ExpirationRule};
use crate::model::{
    ApiError, Expiration, ExpirationType, Hint, IsoDuration, NewRequest, ScheduleInfo, SettledSchedule,
    Timestamp, TraceStep,
};

/// The decision trace of one request under construction.
#[derive(Debug, Default)]
pub(crate) struct Checks {
    pub trace: Vec<TraceStep>,
}

impl Checks {
    pub fn pass(&mut self, check: &str, seen: impl Into<String>, limit: impl Into<String>) {
        self.trace.push(TraceStep {
            check: check.to_string(),
            rule: None,
            passed: true,
            seen: seen.into(),
            limit: limit.into(),
            fix: None,
        });
    }

    pub fn fail(
        &mut self,
        check: &str,
        rule: &str,
        seen: impl Into<String>,
        limit: impl Into<String>,
        fix: Hint,
    ) {
        self.trace.push(TraceStep {
            check: check.to_string(),
            rule: Some(rule.to_string()),
            passed: false,
            seen: seen.into(),
            limit: limit.into(),
            fix: Some(fix),
        });
    }

    #[allow(dead_code)]
    pub fn failed(&self) -> bool {
        self.trace.iter().any(|s| !s.passed)
    }

    /// The real error for the failures so far, if any: every failing rule name once, in order.
    pub fn error(&self) -> Option<ApiError> {
        let mut names: Vec<&str> = Vec::new();
        for step in self.trace.iter().filter(|s| !s.passed) {
            let name = step.rule.as_deref().unwrap_or("PolicyRule");
            if !names.contains(&name) {
                names.push(name);
            }
        }
        if names.is_empty() {
            return None;
        }
        let list = serde_json::to_string(&names).expect("names serialise");
        let mut err = ApiError::new(
            400,
            ErrorCode::RoleAssignmentRequestPolicyValidationFailed,
            format!("The following policy rules failed: {list}"),
        );
        for step in self.trace.iter().filter(|s| !s.passed) {
            err.details.push(crate::model::ErrorDetail {
                code: step.rule.clone().unwrap_or_default(),
                target: step.check.clone(),
                message: detail(step),
                hint: step.fix.clone(),
            });
        }
        Some(err)
    }
}

/// The explanation beside a failed rule: what was seen and the limit (how to fix it travels as the
/// detail's hint). A hook's denial is its own message; a rule setting is named when it is not the
/// rule itself.
fn detail(step: &TraceStep) -> String {
    if step.check.starts_with("hook ") {
        return format!("{} denied the request: {}", step.check, step.seen);
    }
    let what = if step.rule.as_deref() == Some(step.check.as_str()) {
        String::new()
    } else {
        format!("{}: ", step.check)
    };
    format!("{what}saw {}; limit: {}", step.seen, step.limit)
}

/// Normalises a requested schedule as the service does (reference §3.4): a start in the past or
/// absent becomes the processing time; an unspecified expiration takes `default`.
pub(crate) fn normalise(
    info: Option<&ScheduleInfo>,
    now: Timestamp,
    default: Expiration,
) -> Result<SettledSchedule, ApiError> {
    let start = match info.and_then(|i| i.start) {
        Some(s) if s > now => s,
        _ => now,
    };
    let mut expiration = match info {
        Some(i) if i.expiration.kind != ExpirationType::NotSpecified => i.expiration.clone(),
        _ => default,
    };
    match expiration.kind {
        ExpirationType::AfterDateTime => {
            let end = expiration.end.ok_or_else(|| {
                ApiError::bad_request(
                    "scheduleInfo.expiration.endDateTime",
                    "expiration type afterDateTime needs an endDateTime",
                )
            })?;
            if end <= start {
                return Err(ApiError::bad_request(
                    "scheduleInfo.expiration.endDateTime",
                    format!(
                        "the end {} is not after the start {}",
                        crate::model::time::format_timestamp(end),
                        crate::model::time::format_timestamp(start)
                    ),
                ));
            }
            expiration.duration = None;
        }
        ExpirationType::AfterDuration => {
            let d = expiration.duration.ok_or_else(|| {
                ApiError::bad_request(
                    "scheduleInfo.expiration.duration",
                    "expiration type afterDuration needs a duration such as PT8H",
                )
            })?;
            if d.as_millis() <= 0 {
                return Err(ApiError::bad_request(
                    "scheduleInfo.expiration.duration",
                    format!("the duration '{d}' must be longer than zero"),
                ));
            }
            expiration.end = None;
        }
        ExpirationType::NoExpiration | ExpirationType::NotSpecified => {
            expiration.kind = ExpirationType::NoExpiration;
            expiration.end = None;
            expiration.duration = None;
        }
    }
    Ok(SettledSchedule { start, expiration })
}

fn describe_span(info: &SettledSchedule) -> String {
    match info.end() {
        None => "no expiration".to_string(),
        Some(end) => IsoDuration::from_delta(end - info.start).to_string(),
    }
}

/// Checks a normalised schedule against an expiration rule and the 5-minute minimum.
pub(crate) fn check_expiration(checks: &mut Checks, rule: &ExpirationRule, info: &SettledSchedule) {
    let start = info.start;
    let end = info.end();
    let max = rule.maximum_duration;
    let seen = describe_span(info);
    match end {
        None if rule.is_expiration_required => checks.fail(
            &rule.id,
            "ExpirationRule",
            seen,
            format!("an expiration is required, at most {max}"),
            Hint::GiveEnd { at_most: max },
        ),
        None => checks.pass(&rule.id, seen, "permanent allowed"),
        Some(end) => {
            let span = IsoDuration::from_delta(end - start);
            let minimum = IsoDuration::from_minutes(fidelity::MINIMUM_ACTIVE_MINUTES);
            let applies =
                rule.is_expiration_required || !fidelity::MAXIMUM_APPLIES_ONLY_WHEN_EXPIRATION_REQUIRED;
            if span < minimum {
                checks.fail(
                    &rule.id,
                    "ExpirationRule",
                    seen,
                    format!("at least {minimum}"),
                    Hint::AtLeast { duration: minimum },
                );
            } else if applies && span > max {
                checks.fail(
                    &rule.id,
                    "ExpirationRule",
                    seen,
                    format!("at most {max}"),
                    Hint::AtMost { duration: max },
                );
            } else if applies {
                checks.pass(&rule.id, seen, format!("at most {max}"));
            } else {
                checks.pass(&rule.id, seen, "no maximum while permanent is allowed");
            }
        }
    }
}

/// Checks MFA, justification and ticket requirements of an enablement rule.
pub(crate) fn check_enablement(checks: &mut Checks, rule: &EnablementRule, req: &NewRequest, mfa: bool) {
    if rule.requires("MultiFactorAuthentication") {
        if mfa {
            checks.pass(
                &format!("{}.MultiFactorAuthentication", rule.id),
                "MFA-satisfied session",
                "MFA required",
            );
        } else {
            checks.fail(
                &format!("{}.MultiFactorAuthentication", rule.id),
                "MfaRule",
                "a session without MFA",
                "MFA required",
                Hint::Mfa,
            );
        }
    }
    if rule.requires("Justification") {
        check_justification(checks, &format!("{}.Justification", rule.id), req);
    }
    if rule.requires("Ticketing") {
        let number = req.ticket_info.as_ref().and_then(|t| t.number.as_deref()).unwrap_or("").trim();
        if number.is_empty() {
            checks.fail(
                &format!("{}.Ticketing", rule.id),
                "TicketingRule",
                "no ticket",
                "ticket number required",
                Hint::Ticket,
            );
        } else {
            checks.pass(
                &format!("{}.Ticketing", rule.id),
                format!("ticket {number}"),
                "ticket number required",
            );
        }
    }
}

pub(crate) fn check_justification(checks: &mut Checks, check: &str, req: &NewRequest) {
    let j = req.justification.as_deref().unwrap_or("").trim();
    if j.is_empty() {
        checks.fail(
            check,
            "JustificationRule",
            "no justification",
            "justification required",
            Hint::Justification,
        );
    } else {
        checks.pass(check, format!("\"{j}\""), "justification required");
    }
}

/// Refuses free text longer than `limit` (see `fidelity::MAX_*`): 400 naming the property, its
/// length and the limit. Lengths are UTF-16 code units, as the service counts them.
pub(crate) fn check_length(property: &str, value: Option<&str>, limit: usize) -> Result<(), ApiError> {
    let Some(value) = value else { return Ok(()) };
    let length = value.encode_utf16().count();
    if length > limit {
        return Err(ApiError::bad_request(
            property,
            format!("{property} is {length} characters long; at most {limit} are accepted"),
        ));
    }
    Ok(())
}

/// The free text of a schedule request within its limits.
pub(crate) fn check_request_text(req: &NewRequest) -> Result<(), ApiError> {
    check_length("justification", req.justification.as_deref(), fidelity::MAX_JUSTIFICATION)?;
    if let Some(t) = &req.ticket_info {
        check_length("ticketInfo.ticketNumber", t.number.as_deref(), fidelity::MAX_TICKET_FIELD)?;
        check_length("ticketInfo.ticketSystem", t.system.as_deref(), fidelity::MAX_TICKET_FIELD)?;
    }
    Ok(())
}
