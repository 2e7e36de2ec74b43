//! PIM for Groups in the engine (reference §6): which groups PIM may govern, a relationship
//! (`member`, `owner`) as the role definition a request is about, a group's two policies (their
//! defaults before the group is onboarded, stored from its first request or settings change), who
//! administers a group, and the audit rows of the membership an active assignment is.
//!
//! The membership itself needs no code here: a live, provisioned group assignment *is* a
//! membership (the store reads it with the memberships added outside PIM), so it starts and ends
//! exactly with its schedule, and one added outside PIM is never touched.

use super::audit::{About, Activity, Entry};
use super::directory::{require_admin, target_of, unauthorized};
use super::{Ctx, Session, fidelity, new_id};
use crate::model::group::{GROUP_SCOPE_TYPE, GroupAccess, policy_id};
use crate::model::policy::{Policy, PolicyRule, default_azure_resource_rules};
use crate::model::{
    ApiError, DirectoryObject, ErrorCode, IsoDuration, PrincipalKind, RequestKind, RoleDefinition, Schedule,
    ScheduleState, Status, Surface, ids,
};
use crate::store::Tx;

/// The relationship `text` names, or the service's refusal of an unknown enum value.
pub(crate) fn access(text: &str) -> Result<GroupAccess, ApiError> {
    GroupAccess::parse(text).ok_or_else(|| {
        ApiError::new(400, ErrorCode::BadRequest, format!("Requested value '{text}' was not found."))
            .with_detail("InvalidValue", "accessId", format!("'{text}' is not member or owner"))
    })
}

/// The group `group_id` names, when PIM for Groups may govern it: a security or Microsoft 365
/// group, not one with dynamic membership (§6). It need not be role-assignable.
pub(crate) fn governable_group(
    tx: &Tx<'_>,
    group_id: &str,
) -> Result<std::rc::Rc<DirectoryObject>, ApiError> {
    let o = tx.object(group_id)?.ok_or_else(|| {
        ApiError::new(
            404,
            ErrorCode::Request_ResourceNotFound,
            format!("Resource '{group_id}' does not exist or one of its queried reference-property objects are not present."),
        )
        .with_detail("GroupNotFound", "groupId", format!("no group '{group_id}' in this tenant"))
    })?;
    let refuse = |why: String| Err(ApiError::new(400, fidelity::GROUP_NOT_GOVERNABLE_CODE, why));
    if o.kind != PrincipalKind::Group {
        return refuse(format!("'{}' ({}) is a {}, not a group", o.display_name, o.id, o.kind.as_str()));
    }
    if o.group_types.iter().any(|t| t == "DynamicMembership") {
        return refuse(format!(
            "group '{}' has dynamic membership (groupTypes DynamicMembership); PIM for Groups cannot govern a dynamic group",
            o.display_name
        ));
    }
    if o.on_premises_sync_enabled {
        return refuse(format!(
            "group '{}' is synchronised from on-premises (onPremisesSyncEnabled); PIM for Groups cannot govern a group managed on-premises",
            o.display_name
        ));
    }
    if !o.security_enabled && !o.group_types.iter().any(|t| t == "Unified") {
        return refuse(format!(
            "group '{}' is a distribution group (neither security-enabled nor Microsoft 365); PIM for Groups governs security and Microsoft 365 groups",
            o.display_name
        ));
    }
    Ok(o)
}

/// A relationship to `group` as the role definition a request is about.
pub(crate) fn access_definition(access: GroupAccess, group: &DirectoryObject) -> RoleDefinition {
    RoleDefinition {
        id: access.as_str().to_string(),
        display_name: access.title().to_string(),
        description: Some(format!("{} of the group '{}' ({})", access.title(), group.display_name, group.id)),
        is_built_in: true,
        is_enabled: true,
        // A role-assignable group's members hold its directory roles.
        is_privileged: group.is_assignable_to_role,
        template_id: None,
        version: None,
        allowed_resource_actions: Default::default(),
        inherits_permissions_from: Default::default(),
    }
}

/// The rules a group's member or owner policy starts with (§6): eligible and active assignments
/// must expire (after a year and after six months), an activation lasts at most eight hours and
/// needs a justification, and nothing asks for MFA.
pub(crate) fn default_rules() -> Vec<PolicyRule> {
    // As an Azure role's: eligible and active assignments must expire.
    default_azure_resource_rules()
        .into_iter()
        .map(|rule| match rule {
            PolicyRule::Expiration(mut r) if r.id == crate::model::policy::EXPIRATION_END_USER_ASSIGNMENT => {
                r.maximum_duration = IsoDuration::from_hours(8);
                PolicyRule::Expiration(r)
            }
            PolicyRule::Enablement(mut r) if r.id == crate::model::policy::ENABLEMENT_END_USER_ASSIGNMENT => {
                r.enabled_rules = vec!["Justification".into()];
                PolicyRule::Enablement(r)
            }
            PolicyRule::Enablement(mut r)
                if r.id == crate::model::policy::ENABLEMENT_ADMIN_ASSIGNMENT
                    && !fidelity::GROUP_ADMIN_ASSIGNMENT_NEEDS_JUSTIFICATION =>
            {
                r.enabled_rules.clear();
                PolicyRule::Enablement(r)
            }
            other => other,
        })
        .collect()
}

/// A group's policy for `access` before the group is onboarded.
fn default_policy(group_id: &str, access: GroupAccess) -> Policy {
    Policy {
        id: policy_id(group_id, &ids::derived_guid(&format!("{group_id}\u{0}{}", access.as_str()))),
        scope_id: group_id.to_string(),
        scope_type: GROUP_SCOPE_TYPE.to_string(),
        role_definition_id: access.as_str().to_string(),
        last_modified_at: None,
        last_modified_by: None,
        rules: default_rules().into(),
    }
}

/// The policy of `access` in the group: its own once onboarded, else the defaults.
pub(crate) fn group_policy(tx: &Tx<'_>, group_id: &str, access: GroupAccess) -> Result<Policy, ApiError> {
    Ok(match tx.policy_for(Surface::Group.as_str(), group_id, access.as_str())? {
        Some(p) => p,
        None => default_policy(group_id, access),
    })
}

/// The group's policy whose id is `id`, stored or (not yet onboarded) by its default id.
pub(crate) fn group_policy_by_id(tx: &Tx<'_>, id: &str) -> Result<Option<Policy>, ApiError> {
    if let Some(p) = tx.policy(id)? {
        return Ok((p.scope_type == GROUP_SCOPE_TYPE).then_some(p));
    }
    let Some(group_id) = id.strip_prefix(&format!("{GROUP_SCOPE_TYPE}_")).and_then(|r| r.rsplit_once('_'))
    else {
        return Ok(None);
    };
    let group_id = group_id.0.to_ascii_lowercase();
    if tx.policy_for(Surface::Group.as_str(), &group_id, GroupAccess::Member.as_str())?.is_some() {
        return Ok(None);
    }
    Ok(GroupAccess::ALL
        .into_iter()
        .map(|a| default_policy(&group_id, a))
        .find(|p| p.id.eq_ignore_ascii_case(id)))
}

/// Onboards the group into PIM (its first request or settings change, §6): its two policies
/// are stored, under new ids. Returns whether it was onboarded now.
pub(crate) fn onboard(tx: &Tx<'_>, ctx: &Ctx, group_id: &str) -> Result<bool, ApiError> {
    if tx.policy_for(Surface::Group.as_str(), group_id, GroupAccess::Member.as_str())?.is_some() {
        return Ok(false);
    }
    for access in GroupAccess::ALL {
        let mut p = default_policy(group_id, access);
        if fidelity::GROUP_POLICY_IDS_CHANGE_AT_ONBOARDING {
            p.id = policy_id(group_id, &new_id(tx, ctx)?);
        }
        tx.insert_policy(Surface::Group.as_str(), &p)?;
    }
    Ok(true)
}

/// Admin actions on a group's memberships and settings: a Global or Privileged Role
/// Administrator, or (by the fidelity choice) one of the group's owners.
pub(crate) fn require_group_admin(
    tx: &Tx<'_>,
    session: &Session,
    group: &DirectoryObject,
    doing: &str,
) -> Result<(), ApiError> {
    if require_admin(tx, session, doing).is_ok() {
        return Ok(());
    }
    if fidelity::GROUP_OWNERS_ADMINISTER_GROUP
        && tx
            .members(&group.id, GroupAccess::Owner.as_str())?
            .iter()
            .any(|o| o.eq_ignore_ascii_case(&session.caller))
    {
        return Ok(());
    }
    Err(unauthorized().with_fix(
        "CallerNotGroupAdministrator",
        "caller",
        format!(
            "{doing} for group '{}' needs an owner of the group, or an active Privileged Role Administrator or Global Administrator; the caller {} is none of these",
            group.display_name,
            tx.object(&session.caller)?.map_or(session.caller.clone(), |o| format!("{} ({})", o.display_name, o.id))
        ),
        crate::model::Hint::ActAsAdministrator,
    ))
}

/// Whether `principal` is `access` of the group now, outside PIM or through it.
fn is_holder(tx: &Tx<'_>, group: &str, principal: &str, access: &str) -> Result<bool, ApiError> {
    Ok(tx.is_group_holder(group, principal, access)?)
}

/// A group membership (or ownership) looked at before a change, to tell after it whether the
/// principal joined or left the group; Entra records both in its audit log, by the PIM service.
pub(crate) struct MembershipWatch {
    group: String,
    principal: String,
    access: GroupAccess,
    was: bool,
}

/// Whether `principal` is `access` of the group now: what the caller `knows`, else asked of the
/// store (debug builds ask anyway, and check that the caller was right).
fn holds(
    tx: &Tx<'_>,
    group: &str,
    principal: &str,
    access: GroupAccess,
    knows: Option<bool>,
) -> Result<bool, ApiError> {
    let asked = || is_holder(tx, group, principal, access.as_str());
    match knows {
        Some(known) => {
            debug_assert_eq!(asked()?, known, "the caller's answer is the store's");
            Ok(known)
        }
        None => asked(),
    }
}

/// Watches the membership a change to a group assignment may start or end; `None` for anything
/// else (eligibilities, other surfaces). The caller may already know whether the principal
/// holds the access now (`knows`); else the store is asked.
pub(crate) fn watch(
    tx: &Tx<'_>,
    surface: Surface,
    kind: RequestKind,
    group: Option<&str>,
    principal: &str,
    role: &str,
    knows: Option<bool>,
) -> Result<Option<MembershipWatch>, ApiError> {
    let (Surface::Group, RequestKind::Assignment, Some(group), Some(access)) =
        (surface, kind, group, GroupAccess::parse(role))
    else {
        return Ok(None);
    };
    let was = holds(tx, group, principal, access, knows)?;
    Ok(Some(MembershipWatch { group: group.to_string(), principal: principal.to_string(), access, was }))
}

/// Watches the membership schedule `s` may change as it starts or ends (`knows`: as [`watch`]).
pub(crate) fn watch_schedule(
    tx: &Tx<'_>,
    s: &Schedule,
    knows: Option<bool>,
) -> Result<Option<MembershipWatch>, ApiError> {
    watch(
        tx,
        s.surface,
        s.kind,
        s.directory_scope_id.as_deref(),
        &s.principal_id,
        &s.role_definition_id,
        knows,
    )
}

/// As [`watch_schedule`], for a schedule about to end: while it is live and provisioned, its
/// principal holds its access of the group (the schedule itself makes them), so the store is not
/// asked. About half of a clock's expiries in a PIM for Groups organisation.
pub(crate) fn watch_ending(tx: &Tx<'_>, s: &Schedule) -> Result<Option<MembershipWatch>, ApiError> {
    let holding = s.state == ScheduleState::Live && s.status == Status::Provisioned;
    watch_schedule(tx, s, holding.then_some(true))
}

impl MembershipWatch {
    /// The audit row of the membership's change, if it changed, the principal holding the access
    /// `now` or not.
    fn settle_as(self, tx: &Tx<'_>, ctx: &Ctx, now: bool) -> Result<Option<Entry>, ApiError> {
        if now == self.was {
            return Ok(None);
        }
        let owner = self.access == GroupAccess::Owner;
        let activity = if now {
            Activity::MemberAdded { owner, unit: false }
        } else {
            Activity::MemberRemoved { owner }
        };
        let mut targets = Vec::new();
        for id in [&self.group, &self.principal] {
            if let Some(o) = tx.object(id)? {
                targets.push(target_of(&o));
            }
        }
        let why =
            if now { "a PIM for Groups assignment took effect" } else { "a PIM for Groups assignment ended" };
        Ok(Some(
            Entry::new(tx, ctx, fidelity::SYSTEM_ACTOR, activity, About::Targets(targets))?
                .reason(why.to_string()),
        ))
    }
}

/// Adds the row of a watched membership's change, if any, to `audit`. The caller may already
/// know whether the principal holds the access after the change (`knows`: an activation carried
/// out at once, whose schedule is live and provisioned); else the store is asked.
pub(crate) fn settle_into(
    watch: Option<MembershipWatch>,
    knows: Option<bool>,
    tx: &Tx<'_>,
    ctx: &Ctx,
    audit: &mut super::audit::Audit,
) -> Result<(), ApiError> {
    let Some(watch) = watch else {
        return Ok(());
    };
    let now = holds(tx, &watch.group, &watch.principal, watch.access, knows)?;
    if let Some(row) = watch.settle_as(tx, ctx, now)? {
        audit.push(row);
    }
    Ok(())
}

/// What a role-assignable group holds in the directory, in words, for a membership's decision
/// trace: its members hold the same for as long as they are members.
pub(crate) fn directory_roles_of(tx: &Tx<'_>, group: &DirectoryObject) -> Result<Vec<String>, ApiError> {
    if !group.is_assignable_to_role {
        return Ok(Vec::new());
    }
    let held = tx.live_directory_roles_of(&group.id)?;
    let mut out = Vec::new();
    for (kind, how) in [(RequestKind::Assignment, "active"), (RequestKind::Eligibility, "eligible")] {
        for (_, role) in held.iter().filter(|(k, _)| *k == kind) {
            let name = tx.role(role)?.map_or(role.clone(), |r| r.display_name);
            out.push(format!("{name} ({how})"));
        }
    }
    Ok(out)
}
