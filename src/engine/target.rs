//! What a request is about: its principal, role, scope and policy, resolved and checked once, and
//! the live schedules and eligibilities of that target.

use super::directory::role_assignable_groups_of;
use super::records::record;
use super::validate::Checks;
use super::{Ctx, Session, extension, fidelity};
use crate::model::ErrorCode;
use crate::model::policy::Policy;
use crate::model::{
    ApiError, DirectoryObject, MemberType, NewRequest, PrincipalKind, RequestKind, RoleDefinition, Schedule,
    ScheduleRequest, ScheduleState, Status, Surface,
};
use crate::store::Tx;

/// What a request is about, once its ids are known to exist.
pub(crate) struct Target {
    pub(crate) principal: DirectoryObject,
    pub(crate) role: RoleDefinition,
    pub(crate) scope: String,
    /// The scopes whose eligibilities cover this one: the scope itself for a directory role; for
    /// an Azure role also every scope above it (lower-case keys), as Azure RBAC inherits (§2.2).
    pub(crate) covering: Vec<String>,
    /// Which kind of role: a directory role's holders are only role-assignable groups, an Azure
    /// role's any group.
    pub(crate) surface: Surface,
    pub(crate) policy: Policy,
    /// What the `validate` hooks decided.
    pub(crate) hooks: extension::HookOutcome,
}

impl Target {
    /// A trace that starts with the hooks' verdicts, so a hook's denial is reported with the
    /// built-in rule failures, in the same error.
    pub(crate) fn checks(&self) -> Checks {
        Checks { trace: self.hooks.steps.clone() }
    }
}

fn scope_of(req: &NewRequest) -> Result<String, ApiError> {
    match (req.directory_scope_id.as_deref(), req.app_scope_id.as_deref()) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "directoryScopeId",
            "give either directoryScopeId or appScopeId, not both",
        )),
        (None, None) => Err(ApiError::bad_request(
            "directoryScopeId",
            "one of directoryScopeId or appScopeId is required (\"/\" for the whole tenant)",
        )),
        (Some(s), None) | (None, Some(s)) => Ok(s.to_string()),
    }
}

/// Checks the scope names something that exists: `/`, `/administrativeUnits/{id}` or `/{objectId}`.
fn check_directory_scope(tx: &Tx<'_>, scope: &str) -> Result<(), ApiError> {
    if scope == "/" {
        return Ok(());
    }
    let bad = |why: String| ApiError::bad_request("directoryScopeId", why);
    let rest = scope.strip_prefix('/').ok_or_else(|| bad(format!("'{scope}' must start with '/'")))?;
    let (expect_unit, id) = match rest.split_once('/') {
        Some(("administrativeUnits", id)) => (true, id),
        Some(_) => {
            return Err(bad(format!(
                "'{scope}' is not '/', '/administrativeUnits/{{id}}' or '/{{objectId}}'"
            )));
        }
        None => (false, rest),
    };
    match tx.object(id)? {
        Some(o) if expect_unit && o.kind != PrincipalKind::AdministrativeUnit => {
            Err(bad(format!("'{id}' in '{scope}' is a {}, not an administrative unit", o.kind.as_str())))
        }
        Some(_) => Ok(()),
        None => Err(bad(format!("the scope '{scope}' names no object in this tenant"))),
    }
}

/// Refuses a role that cannot be assigned at an administrative unit's scope when `scope` is one.
pub(crate) fn check_role_at_scope(role: &RoleDefinition, scope: &str) -> Result<(), ApiError> {
    if !scope.starts_with("/administrativeUnits/")
        || crate::model::builtin_roles::assignable_at_administrative_unit(role)
    {
        return Ok(());
    }
    let which = if role.is_built_in {
        format!(
            "the built-in roles that can are: {}",
            crate::model::builtin_roles::ADMINISTRATIVE_UNIT_ROLES.join(", ")
        )
    } else {
        "a custom role can when it has a permission over users, groups or devices".to_string()
    };
    Err(ApiError::new(
        400,
        fidelity::ROLE_NOT_AT_ADMINISTRATIVE_UNIT_CODE,
        format!(
            "The role '{}' cannot be assigned at the scope of an administrative unit ('{scope}'); {which}.",
            role.display_name
        ),
    )
    .with_detail(
        "InvalidValue",
        "directoryScopeId",
        format!("'{}' is not assignable at '{scope}'", role.display_name),
    ))
}

pub(crate) fn prepare(tx: &Tx<'_>, req: &NewRequest) -> Result<Target, ApiError> {
    match req.surface {
        Surface::AzureResource => return prepare_azure(tx, req),
        Surface::Group => return prepare_group(tx, req),
        Surface::Directory => {}
    }
    let scope = scope_of(req)?;
    if req.directory_scope_id.is_some() {
        check_directory_scope(tx, &scope)?;
    }
    let principal = principal_of(tx, req)?;
    let role = tx.role(&req.role_definition_id)?.ok_or_else(|| {
        ApiError::new(
            400,
            fidelity::ROLE_NOT_FOUND_CODE,
            format!("The role definition '{}' does not exist in this tenant.", req.role_definition_id),
        )
        .with_hint(crate::model::Hint::ListRoles)
    })?;
    check_role_at_scope(&role, &scope)?;
    if !role.is_enabled {
        return Err(ApiError::bad_request(
            "roleDefinitionId",
            format!("role '{}' is disabled (isEnabled: false) and cannot be assigned", role.display_name),
        ));
    }
    check_holder(&principal, req.kind, Surface::Directory)?;
    let policy = tx.policy_for(Surface::Directory.as_str(), "/", &role.id)?.ok_or_else(|| {
        ApiError::new(
            500,
            ErrorCode::InternalServerError,
            format!("role '{}' has no policy", role.display_name),
        )
    })?;
    let covering = vec![scope.clone()];
    Ok(Target {
        principal,
        role,
        scope,
        covering,
        surface: Surface::Directory,
        policy,
        hooks: extension::HookOutcome::default(),
    })
}

/// Refuses a principal that cannot hold a role this way: an administrative unit; a service
/// principal made eligible (it can only be assigned); for a directory role, a group that is not
/// role-assignable (Azure RBAC takes any group).
fn check_holder(principal: &DirectoryObject, kind: RequestKind, surface: Surface) -> Result<(), ApiError> {
    let invalid = |why: String| Err(ApiError::new(400, fidelity::INVALID_PRINCIPAL_CODE, why));
    match principal.kind {
        PrincipalKind::AdministrativeUnit => {
            invalid(format!("'{}' is an administrative unit; it cannot hold roles", principal.display_name))
        }
        PrincipalKind::ServicePrincipal if kind == RequestKind::Eligibility => invalid(format!(
            "service principal '{}' cannot be made eligible; service principals can only get active assignments",
            principal.display_name
        )),
        PrincipalKind::Group if surface == Surface::Directory && !principal.is_assignable_to_role => {
            invalid(format!(
                "group '{}' is not role-assignable (isAssignableToRole is false); only role-assignable groups can hold directory roles",
                principal.display_name
            ))
        }
        _ => Ok(()),
    }
}

/// The principal of a request, or the 400 for one the tenant does not have.
fn principal_of(tx: &Tx<'_>, req: &NewRequest) -> Result<DirectoryObject, ApiError> {
    tx.object(&req.principal_id)?.map(std::rc::Rc::unwrap_or_clone).ok_or_else(|| {
        ApiError::new(
            400,
            fidelity::PRINCIPAL_NOT_FOUND_CODE,
            format!("The principal '{}' does not exist in this tenant.", req.principal_id),
        )
    })
}

/// An Azure resource role's request: its scope in the estate (with those above it), an Azure
/// role (built-in or custom) that may be assigned there, a principal that can hold it, the (scope, role) policy.
fn prepare_azure(tx: &Tx<'_>, req: &NewRequest) -> Result<Target, ApiError> {
    let text = req.directory_scope_id.as_deref().ok_or_else(|| {
        ApiError::bad_request("scope", "an Azure role is requested at a scope: a management group, subscription, resource group or resource")
    })?;
    let chain = super::azure_access::scope_and_ancestors(tx, text)?;
    let here = &chain[0];
    let principal = principal_of(tx, req)?;
    let role = super::azure_access::as_definition(&super::azure_access::azure_role_at(
        tx,
        &req.role_definition_id,
        here,
    )?);
    check_holder(&principal, req.kind, Surface::AzureResource)?;
    let policy = super::azure_access::azure_policy(tx, here, &role.id)?;
    Ok(Target {
        principal,
        role,
        scope: here.scope.path().to_string(),
        covering: chain.iter().map(|n| n.scope.key()).collect(),
        surface: Surface::AzureResource,
        policy,
        hooks: extension::HookOutcome::default(),
    })
}

/// A PIM for Groups request: a group PIM may govern (its id is the scope), a relationship to it
/// (`member` or `owner`, the role), a principal that can hold it, the group's policy for it.
fn prepare_group(tx: &Tx<'_>, req: &NewRequest) -> Result<Target, ApiError> {
    let group_id = req.directory_scope_id.as_deref().ok_or_else(|| {
        ApiError::bad_request(
            "groupId",
            "a membership or ownership is requested in a group: groupId is required",
        )
    })?;
    let group = super::group_access::governable_group(tx, group_id)?;
    let access = super::group_access::access(&req.role_definition_id)?;
    let principal = principal_of(tx, req)?;
    check_holder(&principal, req.kind, Surface::Group)?;
    let invalid = |why: String| Err(ApiError::new(400, fidelity::INVALID_PRINCIPAL_CODE, why));
    if principal.id == group.id {
        return invalid(format!("group '{}' cannot be a member or owner of itself", group.display_name));
    }
    if access == crate::model::group::GroupAccess::Owner && principal.kind == PrincipalKind::Group {
        return invalid(format!(
            "'{}' is a group; a group's owners are users or service principals",
            principal.display_name
        ));
    }
    if !fidelity::GROUP_PIM_OVER_DIRECT_MEMBERSHIP_ALLOWED
        && tx.has_direct_membership(&group.id, &principal.id, access.as_str())?
    {
        return Err(record_exists_outside_pim(&principal, &group));
    }
    let policy = super::group_access::group_policy(tx, &group.id, access)?;
    Ok(Target {
        role: super::group_access::access_definition(access, &group),
        scope: group.id.clone(),
        covering: vec![group.id.clone()],
        principal,
        surface: Surface::Group,
        policy,
        hooks: extension::HookOutcome::default(),
    })
}

/// A PIM membership asked for someone who is already a member outside PIM (when the fidelity
/// choice refuses it).
fn record_exists_outside_pim(principal: &DirectoryObject, group: &DirectoryObject) -> ApiError {
    super::records::role_assignment_exists().with_detail(
        "MemberOutsidePim",
        "principalId",
        format!("'{}' is already a member of '{}' outside PIM", principal.display_name, group.display_name),
    )
}

pub(crate) fn scope_matches(s: &Schedule, scope: &str) -> bool {
    s.directory_scope_id.as_deref().or(s.app_scope_id.as_deref()) == Some(scope)
}

/// Whether `s` (an eligibility) lets its holder act at the target's scope: made there, or, for an
/// Azure role, at a scope above it.
fn covers(t: &Target, s: &Schedule) -> bool {
    if s.surface == Surface::AzureResource {
        let key = s.directory_scope_id.as_deref().map(str::to_ascii_lowercase);
        return key.is_some_and(|k| t.covering.contains(&k));
    }
    scope_matches(s, &t.scope)
}

/// Live schedules of the principal itself for the role at the scope.
pub(crate) fn live_for(tx: &Tx<'_>, kind: RequestKind, t: &Target) -> Result<Vec<Schedule>, ApiError> {
    Ok(tx
        .schedules_of(kind, &t.principal.id, &t.role.id, ScheduleState::Live)?
        .into_iter()
        .filter(|s| scope_matches(s, &t.scope))
        .collect())
}

/// A request record with the common fields filled in.
pub(crate) fn new_record(
    ctx: &Ctx,
    id: String,
    session: &Session,
    req: &NewRequest,
    t: &Target,
    status: Status,
) -> ScheduleRequest {
    record(ctx, id, session, req, &t.principal.id, &t.role.id, status)
}

/// The eligibility that allows `principal` to activate: its own first, then a group's.
pub(crate) fn find_eligibility(
    tx: &Tx<'_>,
    ctx: &Ctx,
    t: &Target,
) -> Result<Option<(Schedule, MemberType)>, ApiError> {
    let current = |s: &Schedule| s.is_active() && covers(t, s) && s.start() <= ctx.now;
    if let Some(s) = tx
        .schedules_of(RequestKind::Eligibility, &t.principal.id, &t.role.id, ScheduleState::Live)?
        .into_iter()
        .find(current)
    {
        return Ok(Some((s, MemberType::Direct)));
    }
    if t.principal.kind == PrincipalKind::User {
        let groups = match t.surface {
            Surface::AzureResource => super::directory::user_groups_of(tx, &t.principal.id)?,
            _ => role_assignable_groups_of(tx, &t.principal.id)?,
        };
        for group in groups {
            if let Some(s) = tx
                .schedules_of(RequestKind::Eligibility, &group, &t.role.id, ScheduleState::Live)?
                .into_iter()
                .find(current)
            {
                return Ok(Some((s, MemberType::Group)));
            }
        }
    }
    Ok(None)
}
