//! Notifications: the nine notification rules of a role's policy decide who is told what. Every
//! event the real service mails about writes one message per recipient type to the outbox.

use super::{Ctx, fidelity};
use crate::model::approval::Notification;
use crate::model::builtin_roles::{GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR};
use crate::model::policy::PolicyRule;
use crate::model::{ApiError, PrincipalKind, Surface};
use crate::store::Tx;

/// Which triple of notification rules an event falls under (reference §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audience {
    /// `Notification_*_Admin_Eligibility`: an administrator made someone eligible.
    AdminEligibility,
    /// `Notification_*_Admin_Assignment`: an administrator made an active assignment.
    AdminAssignment,
    /// `Notification_*_EndUser_Assignment`: someone activated (or asked to).
    EndUserAssignment,
}

impl Audience {
    fn suffix(self) -> &'static str {
        match self {
            Audience::AdminEligibility => "Admin_Eligibility",
            Audience::AdminAssignment => "Admin_Assignment",
            Audience::EndUserAssignment => "EndUser_Assignment",
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
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
    fn name(self) -> String {
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

    /// The recipient types told about it.
    fn recipient_types(self) -> &'static [&'static str] {
        match self {
            Event::EligibleAssigned | Event::ActiveAssigned | Event::Activated => &["Admin", "Requestor"],
            Event::ApprovalRequested | Event::Escalated => &["Approver"],
            Event::Approved | Event::Denied | Event::TimedOut | Event::Failed => &["Requestor"],
            Event::Expiring { .. } | Event::Expired => &["Admin", "Requestor"],
        }
    }

    /// Whether a "critical only" rule still sends it: the messages that ask someone to act.
    fn critical(self) -> bool {
        fidelity::CRITICAL_NOTIFICATIONS.contains(&self.name().as_str())
            || matches!(self, Event::Expiring { .. } if fidelity::CRITICAL_NOTIFICATIONS.contains(&"Expiring"))
    }
}

/// One event to announce.
pub(crate) struct Notice<'a> {
    pub event: Event,
    pub audience: Audience,
    pub role_id: &'a str,
    /// Who holds (or asked for) the role.
    pub principal_id: &'a str,
    pub request_id: Option<&'a str>,
    /// Where the role is held: for an Azure role, its scope (whose settings decide the mails).
    pub scope: Option<&'a str>,
    /// Who may approve, for approver messages.
    pub approvers: &'a [String],
    /// A line about the schedule: when it starts and ends.
    pub detail: String,
}

/// Users who hold Global Administrator or Privileged Role Administrator now: the default admin recipients.
fn admins(tx: &Tx<'_>) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for role in [GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR] {
        for principal in tx.active_principals_of_role(role, "/")? {
            out.extend(users_of(tx, &principal)?);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The settings of an Azure role at `scope`: stored once changed, else Azure's defaults.
fn azure_rules(
    tx: &Tx<'_>,
    scope: &str,
    role_id: &str,
) -> Result<Option<crate::model::policy::Policy>, ApiError> {
    let Ok(scope) = crate::model::azure_scope::AzureScope::parse(scope) else {
        return Ok(None);
    };
    if let Some(p) = tx.policy_for(Surface::AzureResource.as_str(), &scope.key(), role_id)? {
        return Ok(Some(p));
    }
    Ok(Some(crate::model::policy::Policy::azure_default(&scope, role_id)))
}

/// An Azure scope's administrators: users who hold, at the scope or above it, an active Azure role
/// that may assign roles (Owner, User Access Administrator, ...), directly or through a group.
fn azure_admins(tx: &Tx<'_>, scope: &str) -> Result<Vec<String>, ApiError> {
    let mut keys = Vec::new();
    let mut at = crate::model::azure_scope::AzureScope::parse(scope).ok();
    while let Some(s) = at {
        keys.push(s.key());
        at = tx.azure_scope(&s)?.and_then(|n| n.parent);
        if keys.len() > 64 {
            break;
        }
    }
    let mut out = Vec::new();
    for role in tx.azure_roles()?.iter().filter(|r| r.grants("Microsoft.Authorization/roleAssignments/write"))
    {
        for s in tx.live_schedules(crate::model::RequestKind::Assignment, None, Some(&role.id))? {
            let here = s.directory_scope_id.as_deref().map(str::to_ascii_lowercase);
            if s.surface == Surface::AzureResource && s.is_active() && here.is_some_and(|h| keys.contains(&h))
            {
                out.extend(users_of(tx, &s.principal_id)?);
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// A user, or the members of a group.
fn users_of(tx: &Tx<'_>, id: &str) -> Result<Vec<String>, ApiError> {
    Ok(match tx.object(id)? {
        Some(o) if o.kind == PrincipalKind::User => vec![o.id],
        Some(o) if o.kind == PrincipalKind::Group => tx.members(&o.id, "member")?,
        _ => Vec::new(),
    })
}

fn address(tx: &Tx<'_>, id: &str) -> Result<Option<String>, ApiError> {
    Ok(tx.object(id)?.and_then(|o| o.mail.or(o.user_principal_name)))
}

/// Writes the messages `notice` calls for, one per recipient type that gets any.
pub(crate) fn emit(tx: &Tx<'_>, ctx: &Ctx, notice: &Notice<'_>) -> Result<(), ApiError> {
    // Only an Azure scope can hold an Azure role; a directory role's mail skips the lookup.
    let azure = match notice.scope.map(crate::model::azure_scope::AzureScope::parse) {
        Some(Ok(_)) => tx.azure_role(notice.role_id)?,
        _ => None,
    };
    let group_access = crate::model::group::GroupAccess::parse(notice.role_id);
    let policy = match (&azure, notice.scope) {
        (Some(_), Some(scope)) => azure_rules(tx, scope, notice.role_id)?,
        // A group's request onboarded it, so its policy is stored by the time anything is mailed.
        (None, Some(group)) if group_access.is_some() => {
            tx.policy_for(Surface::Group.as_str(), group, notice.role_id)?
        }
        _ => tx.policy_for(Surface::Directory.as_str(), "/", notice.role_id)?,
    };
    let Some(policy) = policy else {
        return Ok(());
    };
    let role = match (&azure, group_access, notice.scope) {
        (Some(r), _, _) => r.role_name.clone(),
        (None, Some(access), Some(group)) => format!(
            "{} of {}",
            access.title(),
            tx.object(group)?.map_or(group.to_string(), |g| g.display_name)
        ),
        _ => tx.role(notice.role_id)?.map_or(notice.role_id.to_string(), |r| r.display_name),
    };
    let principal =
        tx.object(notice.principal_id)?.map_or(notice.principal_id.to_string(), |o| o.display_name);
    for recipient_type in notice.event.recipient_types() {
        let rule_id = format!("Notification_{recipient_type}_{}", notice.audience.suffix());
        let Some(PolicyRule::Notification(rule)) = policy.rule(&rule_id) else {
            continue;
        };
        let level_allows = match rule.notification_level.as_str() {
            "None" => false,
            "Critical" => notice.event.critical(),
            _ => true,
        };
        if !level_allows {
            continue;
        }
        let mut ids = Vec::new();
        if rule.is_default_recipients_enabled {
            ids = match *recipient_type {
                "Admin" if azure.is_some() => azure_admins(tx, notice.scope.unwrap_or_default())?,
                "Admin" => admins(tx)?,
                "Requestor" => users_of(tx, notice.principal_id)?,
                _ => notice.approvers.to_vec(),
            };
        }
        let mut recipients = Vec::new();
        for id in &ids {
            if let Some(a) = address(tx, id)? {
                recipients.push(a);
            }
        }
        for extra in &rule.notification_recipients {
            recipients.push(extra.clone());
        }
        // Each address once, in first-mention order (a default recipient may also be listed).
        let mut seen = std::collections::HashSet::new();
        recipients.retain(|r| seen.insert(r.to_ascii_lowercase()));
        if recipients.is_empty() {
            continue;
        }
        let (subject, body) = message(notice, &role, &principal, recipient_type);
        tx.insert_notification(&Notification {
            seq: 0,
            at: ctx.now,
            event: notice.event.name(),
            rule_id: Some(rule_id),
            recipient_type: recipient_type.to_string(),
            recipients,
            recipient_ids: ids,
            subject,
            body,
            request_id: notice.request_id.map(str::to_string),
            critical: notice.event.critical(),
        })?;
    }
    Ok(())
}

/// The subject and body of a message, in the manner of PIM's mails.
fn message(n: &Notice<'_>, role: &str, principal: &str, recipient_type: &str) -> (String, String) {
    let subject = match n.event {
        Event::EligibleAssigned => format!("PIM: {principal} has been made eligible for the {role} role"),
        Event::ActiveAssigned => format!("PIM: {principal} has been assigned the {role} role"),
        Event::Activated => format!("PIM: {principal} activated the {role} role"),
        Event::ApprovalRequested => format!("PIM: Approval required: {principal} requests the {role} role"),
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
    let action = match (n.event, recipient_type) {
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
    let mut body = format!("{subject}.\n{}\n", n.detail);
    if let Some(id) = n.request_id {
        body.push_str(&format!("Request: {id}\n"));
    }
    body.push_str(action);
    (subject, body)
}
