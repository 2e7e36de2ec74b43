//! Notifications: the nine notification rules of a role's policy decide who is told what. Every
//! event the real service mails about writes one message per recipient type to the outbox.

use super::{Ctx, fidelity};
use crate::model::builtin_roles::{GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR};
use crate::model::mail::{Content, Letter, Outgoing};
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

pub(crate) use crate::model::mail::{Detail, Event};

/// The recipient types told about an event.
fn recipient_types(event: Event) -> &'static [&'static str] {
    match event {
        Event::EligibleAssigned | Event::ActiveAssigned | Event::Activated => &["Admin", "Requestor"],
        Event::ApprovalRequested | Event::Escalated => &["Approver"],
        Event::Approved | Event::Denied | Event::TimedOut | Event::Failed => &["Requestor"],
        Event::Expiring { .. } | Event::Expired => &["Admin", "Requestor"],
    }
}

/// Whether a "critical only" rule still sends it: the messages that ask someone to act.
fn critical(event: Event) -> bool {
    fidelity::CRITICAL_NOTIFICATIONS.contains(&event.name().as_str())
        || matches!(event, Event::Expiring { .. } if fidelity::CRITICAL_NOTIFICATIONS.contains(&"Expiring"))
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
    /// The line under the first: when the schedule starts and ends, or what happened.
    pub detail: Detail,
}

/// Users who hold Global Administrator or Privileged Role Administrator now: the default admin recipients.
fn admins(tx: &Tx<'_>) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for role in [GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR] {
        for principal in tx.active_principals_of_role(role, "/")?.iter() {
            out.extend(users_of(tx, principal)?);
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
        Some(o) if o.kind == PrincipalKind::User => vec![o.id.clone()],
        Some(o) if o.kind == PrincipalKind::Group => tx.members(&o.id, "member")?,
        _ => Vec::new(),
    })
}

fn address(tx: &Tx<'_>, id: &str) -> Result<Option<String>, ApiError> {
    Ok(tx.object(id)?.and_then(|o| o.mail.clone().or_else(|| o.user_principal_name.clone())))
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
            tx.object(group)?.map_or(group.to_string(), |g| g.display_name.clone())
        ),
        _ => tx.role(notice.role_id)?.map_or(notice.role_id.to_string(), |r| r.display_name),
    };
    let principal =
        tx.object(notice.principal_id)?.map_or(notice.principal_id.to_string(), |o| o.display_name.clone());
    // The names as they are now: the mail says them so for good, whatever is renamed later.
    let content =
        Content::Letter(Letter { event: notice.event, role, principal, detail: notice.detail.clone() });
    for recipient_type in recipient_types(notice.event) {
        let rule_id = ["Notification_", recipient_type, "_", notice.audience.suffix()].concat();
        let Some(PolicyRule::Notification(rule)) = policy.rule(&rule_id) else {
            continue;
        };
        let level_allows = match rule.notification_level.as_str() {
            "None" => false,
            "Critical" => critical(notice.event),
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
        once_each(&mut recipients);
        if recipients.is_empty() {
            continue;
        }
        tx.insert_notification(&Outgoing {
            at: ctx.now,
            event: notice.event.name(),
            rule_id: Some(rule_id),
            recipient_type: recipient_type.to_string(),
            recipients,
            recipient_ids: ids,
            content: &content,
            request_id: notice.request_id.map(str::to_string),
            critical: critical(notice.event),
        })?;
    }
    Ok(())
}

/// Each address once, in first-mention order, whatever its case (a default recipient may also be
/// listed). A mail's few addresses are compared with each other; a long list (an imported tenant's
/// many administrators) goes through a set of lower-case copies.
fn once_each(recipients: &mut Vec<String>) {
    const FEW: usize = 16;
    if recipients.len() <= FEW {
        let mut kept: Vec<String> = Vec::with_capacity(recipients.len());
        for r in recipients.drain(..) {
            if !kept.iter().any(|k| k.eq_ignore_ascii_case(&r)) {
                kept.push(r);
            }
        }
        *recipients = kept;
    } else {
        let mut seen = std::collections::HashSet::new();
        recipients.retain(|r| seen.insert(r.to_ascii_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::once_each;

    /// Each address once, as a set of lower-case copies keeps them.
    fn reference(mut recipients: Vec<String>) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        recipients.retain(|r| seen.insert(r.to_ascii_lowercase()));
        recipients
    }

    proptest::proptest! {
        /// The generator for an address mailed twice, or one dropped: short lists and long,
        /// with the same address in different cases, keep the first of each in order.
        #[test]
        fn each_address_is_mailed_once_in_first_mention_order(
            picks in proptest::collection::vec((0..24usize, proptest::bool::ANY), 0..40)
        ) {
            let recipients: Vec<String> = picks
                .iter()
                .map(|&(n, upper)| {
                    let address = format!("admin{n}@contoso.example");
                    if upper { address.to_ascii_uppercase() } else { address }
                })
                .collect();
            let mut ours = recipients.clone();
            once_each(&mut ours);
            proptest::prop_assert_eq!(ours, reference(recipients));
        }
    }
}
