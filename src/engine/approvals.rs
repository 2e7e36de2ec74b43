//! Who may approve a request: the approval rule's approvers, or, when it names none, the holders
//! of Privileged Role Administrator and Global Administrator (reference §3.12). Never the requester.

use super::directory::role_assignable_groups_of;
use super::{Engine, fidelity};
use crate::model::builtin_roles::{GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR};
use crate::model::policy::Approver;
use crate::model::{ApiError, PrincipalKind, ScheduleRequest, Surface};
use crate::store::Tx;

/// Users who hold `role` at the tenant scope now, directly or through a group.
fn holders(tx: &Tx<'_>, role: &str) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for s in tx.active_assignments_of_role(role, "/")? {
        match tx.object(&s.principal_id)? {
            Some(o) if o.kind == PrincipalKind::Group => out.extend(tx.members(&o.id, "member")?),
            Some(o) if o.kind == PrincipalKind::User => out.push(o.id),
            _ => {}
        }
    }
    Ok(out)
}

/// The user ids who may decide `q` (first stage).
pub(crate) fn approvers_for(tx: &Tx<'_>, q: &ScheduleRequest) -> Result<Vec<String>, ApiError> {
    let policy = tx.policy_for(Surface::Directory.as_str(), "/", &q.role_definition_id)?;
    let mut ids = Vec::new();
    let configured = policy
        .as_ref()
        .and_then(|p| p.approval())
        .and_then(|a| a.setting.approval_stages.first())
        .map(|s| s.primary_approvers.clone())
        .unwrap_or_default();
    for a in &configured {
        match a {
            Approver::SingleUser { user_id, .. } => ids.push(user_id.clone()),
            Approver::GroupMembers { group_id, .. } => ids.extend(tx.members(group_id, "member")?),
        }
    }
    if configured.is_empty() {
        ids.extend(holders(tx, PRIVILEGED_ROLE_ADMINISTRATOR)?);
        ids.extend(holders(tx, GLOBAL_ADMINISTRATOR)?);
    }
    // No one approves their own request, nor one for a group they belong to.
    let requester_groups = role_assignable_groups_of(tx, &q.created_by)?;
    ids.retain(|id| {
        !id.eq_ignore_ascii_case(&q.created_by)
            && !id.eq_ignore_ascii_case(&q.principal_id)
            && !requester_groups.contains(id)
    });
    ids.retain(|id| id != fidelity::SYSTEM_ACTOR);
    ids.sort();
    ids.dedup();
    Ok(ids)
}

impl Engine {
    /// Whether `user` may approve request `q`.
    pub fn is_approver(&mut self, user: &str, q: &ScheduleRequest) -> Result<bool, ApiError> {
        self.read(|tx, _| Ok(approvers_for(tx, q)?.iter().any(|a| a.eq_ignore_ascii_case(user))))
    }

    /// The user ids who may approve request `q`.
    pub fn approvers(&mut self, q: &ScheduleRequest) -> Result<Vec<String>, ApiError> {
        self.read(|tx, _| approvers_for(tx, q))
    }
}
