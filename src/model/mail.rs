//! The words of the notification outbox: what a mail says, rendered from its event, the names it
//! was about and a detail line. The engine decides who is told (`engine/notify.rs`); the store
//! keeps a mail's inputs, not its text, and renders it again here when it is read, so the text is
//! the same on the day it was sent and every day after.

use super::Timestamp;
use super::time::format_timestamp;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    EligibleAssigned,
    ActiveAssigned,
    Activated,
    ApprovalRequested,
    Escalated,
    Approved,
    Denied,
    TimedOut,
    /// Approved, but it could not be carried out.
    Failed,
    Expiring {
        days: i64,
    },
    Expired,
}

impl Event {
    /// The event's name in the outbox (`RoleActivated`, `ExpiringIn14Days`).
    pub fn name(self) -> String {
        match self {
            Event::EligibleAssigned => "EligibleAssignmentMade".into(),
            Event::ActiveAssigned => "ActiveAssignmentMade".into(),
            Event::Activated => "RoleActivated".into(),
            Event::ApprovalRequested => "ApprovalRequested".into(),
            Event::Escalated => "ApprovalEscalated".into(),
            Event::Approved => "RequestApproved".into(),
            Event::Denied => "RequestDenied".into(),
            Event::TimedOut => "RequestTimedOut".into(),
            Event::Failed => "RequestFailed".into(),
            Event::Expiring { days } => format!("ExpiringIn{days}Days"),
            Event::Expired => "Expired".into(),
        }
    }

    /// The event a name stands for: the inverse of [`Event::name`].
    pub fn parse(name: &str) -> Option<Event> {
        Some(match name {
            "EligibleAssignmentMade" => Event::EligibleAssigned,
            "ActiveAssignmentMade" => Event::ActiveAssigned,
            "RoleActivated" => Event::Activated,
            "ApprovalRequested" => Event::ApprovalRequested,
            "ApprovalEscalated" => Event::Escalated,
            "RequestApproved" => Event::Approved,
            "RequestDenied" => Event::Denied,
            "RequestTimedOut" => Event::TimedOut,
            "RequestFailed" => Event::Failed,
            "Expired" => Event::Expired,
            other => {
                let digits = other.strip_prefix("ExpiringIn")?.strip_suffix("Days")?;
                // Only the spelling `name` writes (no `+`, no leading zero).
                let days: i64 = digits.parse().ok()?;
                if days.to_string() != digits {
                    return None;
                }
                Event::Expiring { days }
            }
        })
    }
}

/// The line under a mail's first: when the schedule runs (the most common, kept as its parts),
/// or a line of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    /// "From START until END. Justification: WHY" (END: "it is removed (permanent)" when none).
    Window {
        start: Timestamp,
        end: Option<Timestamp>,
        justification: Option<String>,
    },
    Text(String),
}

impl Detail {
    pub fn render(&self) -> String {
        match self {
            Detail::Window { start, end, justification } => format!(
                "From {} until {}.{}",
                format_timestamp(*start),
                end.map_or("it is removed (permanent)".to_string(), format_timestamp),
                justification.as_ref().map(|j| format!(" Justification: {j}")).unwrap_or_default()
            ),
            Detail::Text(text) => text.clone(),
        }
    }
}

/// A mail written from the outbox's templates: the event, the role and principal as they were
/// named when it was sent, and its detail line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub event: Event,
    pub role: String,
    pub principal: String,
    pub detail: Detail,
}

impl Letter {
    /// The subject and body of the letter to `recipient_type` (Admin, Requestor, Approver) about
    /// `request_id`, in the manner of PIM's mails.
    pub fn render(&self, recipient_type: &str, request_id: Option<&str>) -> (String, String) {
        let (role, principal) = (&self.role, &self.principal);
        let subject = match self.event {
            Event::EligibleAssigned => format!("PIM: {principal} has been made eligible for the {role} role"),
            Event::ActiveAssigned => format!("PIM: {principal} has been assigned the {role} role"),
            Event::Activated => format!("PIM: {principal} activated the {role} role"),
            Event::ApprovalRequested => {
                format!("PIM: Approval required: {principal} requests the {role} role")
            }
            Event::Escalated => format!("PIM: Approval overdue: {principal} still waits for the {role} role"),
            Event::Approved => format!("PIM: Your request for the {role} role was approved"),
            Event::Denied => format!("PIM: Your request for the {role} role was denied"),
            Event::TimedOut => format!("PIM: Your request for the {role} role expired without a decision"),
            Event::Failed => format!("PIM: Your request for the {role} role could not be carried out"),
            Event::Expiring { days } => {
                format!(
                    "PIM: {principal}'s {role} role expires in {days} day{}",
                    if days == 1 { "" } else { "s" }
                )
            }
            Event::Expired => format!("PIM: {principal}'s {role} role has expired"),
        };
        let action = match (self.event, recipient_type) {
            (Event::ApprovalRequested | Event::Escalated, _) => {
                "Review the request in Privileged Identity Management: Approve requests"
            }
            (Event::Expiring { .. }, "Requestor") => {
                "To keep the role, ask for an extension in Privileged Identity Management."
            }
            (Event::Expiring { .. }, _) => {
                "To keep the role, extend the assignment in Privileged Identity Management."
            }
            (Event::Expired, "Requestor") => {
                "To get it back, ask for a renewal within 30 days in Privileged Identity Management."
            }
            _ => "No action is needed.",
        };
        let mut body = format!("{subject}.\n{}\n", self.detail.render());
        if let Some(id) = request_id {
            body.push_str(&format!("Request: {id}\n"));
        }
        body.push_str(action);
        (subject, body)
    }
}

impl Letter {
    /// The letter that renders exactly as `subject` and `body` for `recipient_type` and
    /// `request_id`, if there is one: how a store that kept a mail's text (before schema version
    /// 10) keeps its inputs instead. Whatever is read off the text, the letter is only returned
    /// if it renders the very same text again.
    pub fn recover(
        event: &str,
        recipient_type: &str,
        request_id: Option<&str>,
        subject: &str,
        body: &str,
    ) -> Option<Letter> {
        let event = Event::parse(event)?;
        // The subject's template, with marks where the names go.
        const PRINCIPAL: &str = "\u{1}";
        const ROLE: &str = "\u{2}";
        let blank = |principal: &str, role: &str| Letter {
            event,
            role: role.to_string(),
            principal: principal.to_string(),
            detail: Detail::Text(String::new()),
        };
        let (template, empty_body) = blank(PRINCIPAL, ROLE).render(recipient_type, request_id);
        // The body around an empty detail line: what the detail line sits between.
        let (before_detail, after_detail) = empty_body.split_once(&format!("{template}.\n"))?;
        debug_assert!(before_detail.is_empty());
        let detail = body.strip_prefix(&format!("{subject}.\n"))?.strip_suffix(after_detail)?;
        let detail = Detail::parse(detail);
        for (principal, role) in names(&template, subject, PRINCIPAL, ROLE) {
            let letter = Letter { detail: detail.clone(), ..blank(&principal, &role) };
            if letter.render(recipient_type, request_id) == (subject.to_string(), body.to_string()) {
                return Some(letter);
            }
        }
        None
    }
}

/// The (principal, role) pairs that fill `template`'s marks to make `subject`: the principal
/// (when the template names one) comes first, and a literal between the two may occur inside
/// a name, so every split is a candidate.
fn names(template: &str, subject: &str, principal_mark: &str, role_mark: &str) -> Vec<(String, String)> {
    let Some((head, rest)) = template.split_once(principal_mark) else {
        // Only the role: the principal is not in the text, and renders nowhere.
        let Some((head, tail)) = template.split_once(role_mark) else { return Vec::new() };
        let role = subject.strip_prefix(head).and_then(|s| s.strip_suffix(tail));
        return role.map(|r| vec![(String::new(), r.to_string())]).unwrap_or_default();
    };
    let Some((middle, tail)) = rest.split_once(role_mark) else { return Vec::new() };
    let Some(names) = subject.strip_prefix(head).and_then(|s| s.strip_suffix(tail)) else {
        return Vec::new();
    };
    names
        .match_indices(middle)
        .map(|(i, _)| (names[..i].to_string(), names[i + middle.len()..].to_string()))
        .collect()
}

impl Detail {
    /// A detail line as a window when it renders back exactly as one, else as text.
    pub fn parse(text: &str) -> Detail {
        let window = || -> Option<Detail> {
            let (start, rest) = text.strip_prefix("From ")?.split_once(" until ")?;
            let (end, justification) = match rest.split_once(". Justification: ") {
                Some((end, why)) => (end, Some(why.to_string())),
                None => (rest.strip_suffix('.')?, None),
            };
            let end = match end {
                "it is removed (permanent)" => None,
                end => Some(super::time::parse_timestamp(end).ok()?),
            };
            let start = super::time::parse_timestamp(start).ok()?;
            Some(Detail::Window { start, end, justification })
        };
        match window() {
            Some(w) if w.render() == text => w,
            _ => Detail::Text(text.to_string()),
        }
    }
}

/// What a message says: a letter from the templates, or a subject and body given whole (a hook's
/// own mail, or a message kept from a store older than schema version 10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Letter(Letter),
    Given { subject: String, body: String },
}

/// A message for the outbox, as the engine writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing<'a> {
    pub at: Timestamp,
    /// The letter's event name, or the hook's (`Hook:NAME`).
    pub event: String,
    pub rule_id: Option<String>,
    pub recipient_type: String,
    pub recipients: Vec<String>,
    pub recipient_ids: Vec<String>,
    pub content: &'a Content,
    pub request_id: Option<String>,
    pub critical: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_name_parses_back_to_its_event() {
        let events = [
            Event::EligibleAssigned,
            Event::ActiveAssigned,
            Event::Activated,
            Event::ApprovalRequested,
            Event::Escalated,
            Event::Approved,
            Event::Denied,
            Event::TimedOut,
            Event::Failed,
            Event::Expiring { days: 14 },
            Event::Expiring { days: 1 },
            Event::Expiring { days: 0 },
            Event::Expired,
        ];
        for e in events {
            assert_eq!(Event::parse(&e.name()), Some(e), "{}", e.name());
        }
        for other in ["Hook:x", "ExpiringIn014Days", "ExpiringInDays", "ExpiringIn+1Days", "ExpiringIn-0Days"]
        {
            assert_eq!(Event::parse(other), None, "{other}");
        }
    }

    #[test]
    fn a_letter_is_recovered_from_its_text_only_when_it_renders_it_exactly() {
        let start = crate::model::time::from_millis(1_736_154_000_000);
        let tricky = [
            ("Ann activated the Bob", "Helpdesk Administrator"),
            ("Zoe", "role activated the role"),
            ("", ""),
            ("Ann's", "Global Reader's"),
        ];
        let events = [Event::Activated, Event::Approved, Event::Expiring { days: 1 }, Event::Expired];
        let details = [
            Detail::Window { start, end: None, justification: Some("a. Justification: b".into()) },
            Detail::Window { start, end: Some(start), justification: None },
            Detail::Text("Stage 1 waits for a decision until 2025-01-07T09:00:00Z.".into()),
            Detail::Text("multi\nline\nRequest: x".into()),
        ];
        for (principal, role) in tricky {
            for event in events {
                for detail in &details {
                    for (recipient, request) in [("Admin", Some("r-1")), ("Requestor", None)] {
                        let letter = Letter {
                            event,
                            role: role.into(),
                            principal: principal.into(),
                            detail: detail.clone(),
                        };
                        let (subject, body) = letter.render(recipient, request);
                        let found = Letter::recover(&event.name(), recipient, request, &subject, &body)
                            .unwrap_or_else(|| panic!("not recovered: {subject:?} {body:?}"));
                        assert_eq!(found.render(recipient, request), (subject, body));
                    }
                }
            }
        }
        assert_eq!(Letter::recover("Hook:x", "Hook", None, "s", "b"), None);
        assert_eq!(Letter::recover("RoleActivated", "Admin", None, "PIM: hand-written", "b"), None);
    }

    #[test]
    fn a_window_renders_as_the_mails_always_said_it() {
        let start = crate::model::time::from_millis(1_736_154_000_000);
        let end = Some(crate::model::time::from_millis(1_736_157_600_000));
        let letter = Letter {
            event: Event::Activated,
            role: "Helpdesk Administrator".into(),
            principal: "Month User 001".into(),
            detail: Detail::Window { start, end, justification: Some("Password resets".into()) },
        };
        let (subject, body) = letter.render("Admin", Some("481ddaa4-cfce-4cc7-b636-15ff637789f6"));
        assert_eq!(subject, "PIM: Month User 001 activated the Helpdesk Administrator role");
        assert_eq!(
            body,
            "PIM: Month User 001 activated the Helpdesk Administrator role.\n\
             From 2025-01-06T09:00:00Z until 2025-01-06T10:00:00Z. Justification: Password resets\n\
             Request: 481ddaa4-cfce-4cc7-b636-15ff637789f6\nNo action is needed."
        );
        let permanent = Detail::Window { start, end: None, justification: None };
        assert_eq!(permanent.render(), "From 2025-01-06T09:00:00Z until it is removed (permanent).");
    }
}
