//! The audit trail's vocabulary and its one way in.
//!
//! Every activity pimlab records is an [`Activity`], which renders the name Entra's PIM audit log
//! gives it, with its category and result. An audit row is made by one constructor,
//! [`Entry::new`]. A write does not insert its rows: its closure returns them as an [`Audit`]
//! beside its value, and `Engine::write` (`engine/mod.rs`) writes them in the same transaction just
//! before the commit. `Audit` has no empty default, so a write cannot commit without stating what
//! it did; one that deliberately records nothing says why, with [`Audit::none`]. A refused request's
//! row takes the same path (`Engine::write_or_refuse`).

use std::fmt;

use super::Ctx;
use crate::model::time::format_timestamp;
use crate::model::{
    Action, ApiError, ExpirationType, NewRequest, PrincipalKind, RequestKind, Schedule, ScheduleRequest,
    Timestamp,
};
use crate::store::{AuditRecord, AuditTarget, Tx};

/// How a request turned out, in its activity name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Carried out: "... completed ...".
    Completed,
    /// Waiting for a decision: "... requested ...".
    Requested,
    /// Refused, or approved but impossible to carry out: "... failed ...".
    Failed,
}

/// A decision on a request that waited for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Approved; for a multi-stage approval, one stage of several: `(stage, stages)`.
    Approved {
        stage: Option<(u32, usize)>,
    },
    Denied,
    /// No approver decided before the stage timed out.
    TimedOut,
}

/// Every activity the audit trail records, named as Entra's PIM audit log names it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Activity {
    /// A PIM request: submitted and waiting, carried out, or refused.
    Request {
        kind: RequestKind,
        action: Action,
        permanent: bool,
        outcome: Outcome,
    },
    /// A request cancelled (or, for an eligibility, revoked) before it took effect.
    Canceled {
        kind: RequestKind,
        action: Action,
    },
    /// A decision on a request waiting for approval (or an administrator's decision).
    Decision {
        kind: RequestKind,
        action: Action,
        verdict: Verdict,
    },
    /// The clock kept the last Global Administrator instead of letting it expire.
    KeptLastGlobalAdministrator,
    /// The clock ended a schedule at its end time.
    Expired {
        kind: RequestKind,
        activation: bool,
    },
    /// The clock could not start a future schedule: what it needed no longer holds.
    StartFailed,
    /// The clock started a future schedule.
    Started,
    /// An approval stage waited long enough to go to its escalation approvers.
    Escalated,
    /// Schedule requests past retention were purged (how many).
    RequestsPurged(usize),
    /// Ended schedules past retention were purged (how many).
    SchedulesPurged(usize),
    /// The simulated clock moved (to when).
    ClockAdvanced(Timestamp),
    /// A switch of the store's fidelity profile turned on or off.
    FidelitySwitched {
        switch: crate::model::FidelitySwitch,
        on: bool,
    },
    /// A role assignment made outside PIM (and the new tenant's first one).
    RoleAssignmentAdded,
    /// A role assignment removed outside PIM.
    RoleAssignmentRemoved,
    RoleDefinitionAdded,
    RoleDefinitionUpdated,
    RoleDefinitionDeleted,
    /// One rule of a role's settings changed.
    RoleSettingUpdated,
    /// A PIM alert's configuration changed (on or off, thresholds).
    AlertConfigured,
    /// A PIM alert dismissed.
    AlertDismissed,
    /// PIM alerts refreshed (scanned again).
    AlertsRefreshed,
    /// A management group, subscription, resource group or resource added to the Azure estate.
    AzureScopeAdded(crate::model::azure_scope::AzureScopeKind),
    /// A user, group, service principal or administrative unit created.
    ObjectAdded(PrincipalKind),
    /// A member (or owner) added to a group or administrative unit.
    MemberAdded {
        owner: bool,
        /// The container is an administrative unit (Entra logs these under their own name).
        unit: bool,
    },
    /// A member (or owner) taken out of a group: PIM for Groups ending an active membership.
    MemberRemoved {
        owner: bool,
    },
    /// A policy hook added (its name).
    HookAdded(String),
    /// A policy hook removed (its name).
    HookRemoved(String),
    /// A policy hook given new source (its name).
    HookUpdated(String),
    /// A `completed` hook failed on an outcome the clock produced (its message).
    HookFailed(String),
    /// An application was granted a Microsoft Graph permission (or had one taken away).
    AppPermission {
        kind: crate::model::permissions::PermissionKind,
        granted: bool,
    },
    /// `import` wrote something as a file had it (what, and whether it was created or updated).
    Imported(String),
}

/// The audit log's category of an activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Category {
    RoleManagement,
    Directory,
    GroupManagement,
    AdministrativeUnit,
    Policy,
    Simulation,
    /// The Azure estate (management groups, subscriptions, resource groups, resources).
    ResourceManagement,
    /// Applications, their permissions and consent.
    ApplicationManagement,
}

impl Category {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Category::RoleManagement => "RoleManagement",
            Category::AdministrativeUnit => "AdministrativeUnit",
            Category::Directory => "Directory",
            Category::GroupManagement => "GroupManagement",
            Category::Policy => "Policy",
            Category::Simulation => "Simulation",
            Category::ResourceManagement => "ResourceManagement",
            Category::ApplicationManagement => "ApplicationManagement",
        }
    }
}

impl Activity {
    /// The activity of a request, with the span of what it asks for (or removes).
    pub(crate) fn request(kind: RequestKind, action: Action, permanent: bool, outcome: Outcome) -> Self {
        Activity::Request { kind, action, permanent, outcome }
    }

    pub(crate) fn category(&self) -> Category {
        match self {
            Activity::ClockAdvanced(_) | Activity::FidelitySwitched { .. } | Activity::Imported(_) => {
                Category::Simulation
            }
            Activity::ObjectAdded(_) => Category::Directory,
            Activity::AzureScopeAdded(_) => Category::ResourceManagement,
            Activity::AppPermission { .. } => Category::ApplicationManagement,
            Activity::MemberAdded { unit: true, .. } => Category::AdministrativeUnit,
            Activity::MemberAdded { .. } | Activity::MemberRemoved { .. } => Category::GroupManagement,
            Activity::HookAdded(_)
            | Activity::HookRemoved(_)
            | Activity::HookUpdated(_)
            | Activity::HookFailed(_) => Category::Policy,
            _ => Category::RoleManagement,
        }
    }

    /// Whether the row records a failure: a refused or failed request, a request nobody decided.
    pub(crate) fn is_failure(&self) -> bool {
        matches!(
            self,
            Activity::Request { outcome: Outcome::Failed, .. }
                | Activity::Decision { verdict: Verdict::TimedOut, .. }
        )
    }

    /// `success` or `failure`, as the row stores it.
    pub(crate) fn result(&self) -> &'static str {
        if self.is_failure() { "failure" } else { "success" }
    }
}

impl fmt::Display for Activity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Action::*;
        use RequestKind::{Assignment, Eligibility};
        match self {
            Activity::Request { kind, action, permanent, outcome } => {
                let state = match outcome {
                    Outcome::Completed => "completed",
                    Outcome::Requested => "requested",
                    Outcome::Failed => "failed",
                };
                let span = if *permanent { "permanent" } else { "timebound" };
                match (kind, action) {
                    (Eligibility, AdminAssign) => {
                        write!(f, "Add eligible member to role in PIM {state} ({span})")
                    }
                    (Assignment, AdminAssign) => write!(f, "Add member to role in PIM {state} ({span})"),
                    (Eligibility, AdminUpdate) => {
                        write!(f, "Update eligible member in role in PIM {state} ({span})")
                    }
                    (Assignment, AdminUpdate) => write!(f, "Update member in role in PIM {state} ({span})"),
                    (Eligibility, AdminRemove) => {
                        write!(f, "Remove eligible member from role in PIM {state} ({span})")
                    }
                    (Assignment, AdminRemove) => write!(f, "Remove member from role in PIM {state} ({span})"),
                    (Eligibility, AdminExtend) => write!(f, "Extend eligible member in role in PIM {state}"),
                    (Assignment, AdminExtend) => write!(f, "Extend member in role in PIM {state}"),
                    (Eligibility, AdminRenew) => write!(f, "Renew eligible member in role in PIM {state}"),
                    (Assignment, AdminRenew) => write!(f, "Renew member in role in PIM {state}"),
                    (_, SelfActivate) => write!(f, "Add member to role {state} (PIM activation)"),
                    (_, SelfDeactivate) => write!(f, "Remove member from role {state} (PIM deactivate)"),
                    (Eligibility, SelfExtend) => write!(f, "Extend eligible role assignment {state}"),
                    (Assignment, SelfExtend) => write!(f, "Extend role assignment {state}"),
                    (Eligibility, SelfRenew) => write!(f, "Renew eligible role assignment {state}"),
                    (Assignment, SelfRenew) => write!(f, "Renew role assignment {state}"),
                }
            }
            Activity::Canceled { kind, action } => match (kind, action) {
                (_, SelfActivate) => f.write_str("Add member to role canceled (PIM activation)"),
                (Eligibility, _) => f.write_str("Add eligible member to role in PIM canceled"),
                (Assignment, _) => f.write_str("Add member to role in PIM canceled"),
            },
            Activity::Decision { kind, action, verdict } => {
                let verdict = match verdict {
                    Verdict::Approved { stage: None } => "approved".to_string(),
                    Verdict::Approved { stage: Some((stage, stages)) } => {
                        format!("approved (stage {stage} of {stages})")
                    }
                    Verdict::Denied => "denied".into(),
                    Verdict::TimedOut => "timed out".into(),
                };
                let eligible = if *kind == Eligibility { "eligible " } else { "" };
                match action {
                    SelfActivate => write!(f, "Add member to role request {verdict} (PIM activation)"),
                    SelfExtend => write!(f, "Extend {eligible}role assignment request {verdict}"),
                    SelfRenew => write!(f, "Renew {eligible}role assignment request {verdict}"),
                    other => write!(f, "{} request {verdict}", other.as_str()),
                }
            }
            Activity::KeptLastGlobalAdministrator => {
                f.write_str("Keep member in role in PIM (last Global Administrator)")
            }
            Activity::Expired { kind: Eligibility, .. } => {
                f.write_str("Remove eligible member from role in PIM completed (timebound)")
            }
            Activity::Expired { activation: true, .. } => {
                f.write_str("Remove member from role (PIM activation expired)")
            }
            Activity::Expired { .. } => f.write_str("Remove member from role in PIM completed (timebound)"),
            Activity::StartFailed => f.write_str("Add member to role in PIM failed"),
            Activity::Started => f.write_str("Schedule started in PIM"),
            Activity::Escalated => f.write_str("Approval request escalated in PIM"),
            Activity::RequestsPurged(n) => write!(f, "Purge {n} schedule request(s) past retention"),
            Activity::SchedulesPurged(n) => write!(f, "Purge {n} ended schedule(s) past retention"),
            Activity::ClockAdvanced(to) => write!(f, "Advance simulated clock to {}", format_timestamp(*to)),
            Activity::FidelitySwitched { switch, on } => {
                write!(f, "Turn fidelity switch '{switch}' {}", if *on { "on" } else { "off" })
            }
            Activity::Imported(what) => write!(f, "Import {what}"),
            Activity::RoleAssignmentAdded => f.write_str("Add member to role"),
            Activity::RoleAssignmentRemoved => f.write_str("Remove member from role"),
            Activity::RoleDefinitionAdded => f.write_str("Add role definition"),
            Activity::RoleDefinitionUpdated => f.write_str("Update role definition"),
            Activity::RoleDefinitionDeleted => f.write_str("Delete role definition"),
            Activity::RoleSettingUpdated => f.write_str("Update role setting in PIM"),
            Activity::AlertConfigured => f.write_str("Update alert configuration in PIM"),
            Activity::AlertDismissed => f.write_str("Dismiss alert in PIM"),
            Activity::AlertsRefreshed => f.write_str("Refresh alerts in PIM"),
            Activity::AzureScopeAdded(kind) => f.write_str(match kind {
                crate::model::azure_scope::AzureScopeKind::ManagementGroup => "Add management group",
                crate::model::azure_scope::AzureScopeKind::Subscription => "Add subscription",
                crate::model::azure_scope::AzureScopeKind::ResourceGroup => "Add resource group",
                crate::model::azure_scope::AzureScopeKind::Resource => "Add resource",
            }),
            Activity::ObjectAdded(kind) => f.write_str(match kind {
                PrincipalKind::User => "Add user",
                PrincipalKind::Group => "Add group",
                PrincipalKind::ServicePrincipal => "Add service principal",
                PrincipalKind::AdministrativeUnit => "Add administrative unit",
            }),
            Activity::MemberAdded { unit: true, .. } => f.write_str("Add member to administrative unit"),
            Activity::MemberAdded { owner: true, .. } => f.write_str("Add owner to group"),
            Activity::MemberAdded { owner: false, .. } => f.write_str("Add member to group"),
            Activity::MemberRemoved { owner: true } => f.write_str("Remove owner from group"),
            Activity::MemberRemoved { owner: false } => f.write_str("Remove member from group"),
            Activity::HookAdded(name) => write!(f, "Add policy hook '{name}'"),
            Activity::HookRemoved(name) => write!(f, "Remove policy hook '{name}'"),
            Activity::HookUpdated(name) => write!(f, "Update policy hook '{name}'"),
            Activity::HookFailed(message) => write!(f, "Policy hook failed: {message}"),
            // Entra's names for consent to an application's permissions.
            Activity::AppPermission { kind, granted } => f.write_str(match (kind, granted) {
                (crate::model::permissions::PermissionKind::Application, true) => {
                    "Add app role assignment to service principal"
                }
                (crate::model::permissions::PermissionKind::Application, false) => {
                    "Remove app role assignment from service principal"
                }
                (crate::model::permissions::PermissionKind::Delegated, true) => {
                    "Add delegated permission grant"
                }
                (crate::model::permissions::PermissionKind::Delegated, false) => {
                    "Remove delegated permission grant"
                }
            }),
        }
    }
}

/// What an audit row is about: its targets, and the request it belongs to (if any).
pub(crate) enum About<'a> {
    /// A stored request: its role and principal, and its id.
    Request(&'a ScheduleRequest),
    /// A request refused before it was stored: its role and principal; it has no id.
    Refused(&'a NewRequest),
    /// A schedule: its role and principal, and the request that created it (if one did).
    Schedule(&'a Schedule),
    /// A principal and a role, with no request (assignments outside PIM, escalations).
    RoleOf { principal: &'a str, role: &'a str },
    /// Anything else: these targets (possibly none), no request.
    Targets(Vec<AuditTarget>),
}

/// One audit row, before it is written: when, who, what, about what, and why.
#[derive(Debug)]
pub(crate) struct Entry {
    at: Timestamp,
    actor: String,
    activity: Activity,
    targets: Vec<AuditTarget>,
    request_id: Option<String>,
    reason: Option<String>,
}

impl Entry {
    /// The one constructor of an audit row: `actor` did `activity` at the transaction's time, about
    /// `about`. Its category and result follow from the activity; a reason is added with
    /// [`Entry::reason`].
    pub(crate) fn new(
        tx: &Tx<'_>,
        ctx: &Ctx,
        actor: &str,
        activity: Activity,
        about: About<'_>,
    ) -> Result<Entry, ApiError> {
        let (targets, request_id) = match about {
            About::Request(q) => {
                (role_and_principal(tx, &q.principal_id, &q.role_definition_id)?, Some(q.id.clone()))
            }
            About::Refused(req) => {
                (role_and_principal(tx, &req.principal_id, &req.role_definition_id)?, None)
            }
            About::Schedule(s) => {
                (role_and_principal(tx, &s.principal_id, &s.role_definition_id)?, s.created_using.clone())
            }
            About::RoleOf { principal, role } => (role_and_principal(tx, principal, role)?, None),
            About::Targets(targets) => (targets, None),
        };
        Ok(Entry { at: ctx.now, actor: actor.to_string(), activity, targets, request_id, reason: None })
    }

    /// Why it happened (a justification, a verdict, what failed).
    pub(crate) fn reason(mut self, reason: impl Into<Option<String>>) -> Entry {
        self.reason = reason.into();
        self
    }

    fn record(self) -> AuditRecord {
        AuditRecord {
            seq: 0,
            at: self.at,
            actor_id: self.actor,
            category: self.activity.category().as_str().to_string(),
            result: self.activity.result().to_string(),
            activity: self.activity.to_string(),
            reason: self.reason,
            request_id: self.request_id,
            targets: self.targets,
        }
    }
}

/// What a write did, for the audit trail: its rows, in order. A write's closure returns one beside
/// its value and `Engine::write` writes the rows just before the commit. There is no empty
/// default: a write that records nothing says why, with [`Audit::none`].
#[must_use = "a write's audit rows are written only when its closure returns them"]
#[derive(Debug)]
pub(crate) struct Audit {
    entries: Vec<Entry>,
}

/// Why a validation-only request's work records nothing: its transaction is never committed.
pub(crate) const VALIDATION_ONLY: &str = "validation only: the transaction is never committed";

/// A value and the audit rows of the write that produced it.
pub(crate) type Audited<T> = (T, Audit);

impl Audit {
    /// One row.
    pub(crate) fn of(entry: Entry) -> Audit {
        Audit { entries: vec![entry] }
    }

    /// No row, deliberately: `why` tells the reader what makes this write (or this part of one)
    /// not worth a row, e.g. [`VALIDATION_ONLY`]. It is the start of a write that adds rows as
    /// things happen ("no rule changed"), so rows pushed later are still written.
    pub(crate) fn none(why: &'static str) -> Audit {
        let _ = why;
        Audit { entries: Vec::new() }
    }

    /// Adds a row after the others.
    pub(crate) fn push(&mut self, entry: Entry) {
        self.entries.push(entry);
    }

    /// Adds another part's rows after these.
    pub(crate) fn append(&mut self, other: Audit) {
        self.entries.extend(other.entries);
    }

    /// Writes the rows into `tx`. Only `engine::commit` calls it, just before the commit.
    pub(super) fn write(self, tx: &Tx<'_>) -> Result<(), ApiError> {
        for entry in self.entries {
            tx.insert_audit(&entry.record())?;
        }
        Ok(())
    }
}

/// The row a refused request leaves: its activity as `failed`, the caller as actor, the error's
/// code and message as reason, its role and principal as targets, and no request id (nothing was
/// stored). A removal carries no schedule: its span is that of the assignment it would remove.
pub(crate) fn refusal(
    tx: &Tx<'_>,
    ctx: &Ctx,
    actor: &str,
    req: &NewRequest,
    error: &ApiError,
) -> Result<Audit, ApiError> {
    let permanent = match req.action {
        Action::AdminRemove => tx
            .live_schedules(req.kind, Some(&req.principal_id), Some(&req.role_definition_id))?
            .iter()
            .find(|s| s.directory_scope_id == req.directory_scope_id && s.is_active())
            .is_some_and(|s| s.end_at.is_none()),
        _ => req
            .schedule_info
            .as_ref()
            .is_some_and(|i| matches!(i.expiration.kind, ExpirationType::NoExpiration)),
    };
    let activity = Activity::request(req.kind, req.action, permanent, Outcome::Failed);
    let entry = Entry::new(tx, ctx, actor, activity, About::Refused(req))?
        .reason(format!("{}: {}", error.code, error.message));
    Ok(Audit::of(entry))
}

/// Targets of a request: the role and the principal.
fn role_and_principal(tx: &Tx<'_>, principal_id: &str, role_id: &str) -> Result<Vec<AuditTarget>, ApiError> {
    let role = tx.role(role_id)?;
    let principal = tx.object(principal_id)?;
    Ok(vec![
        AuditTarget {
            id: role_id.to_string(),
            kind: "Role".into(),
            display_name: role.map(|r| r.display_name),
        },
        AuditTarget {
            id: principal_id.to_string(),
            kind: principal.as_ref().map(|p| capitalise(p.kind.as_str())).unwrap_or_else(|| "Other".into()),
            display_name: principal.map(|p| p.display_name.clone()),
        },
    ])
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
