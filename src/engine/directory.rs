//! The directory: creating principals and units, membership, name resolution, and who is an
//! administrator.

use super::audit::{About, Activity, Audit, Audited, Entry};
use super::validate::check_length;
use super::{Ctx, Engine, Session, fidelity, new_id};
use crate::model::ErrorCode;
use crate::model::builtin_roles::{GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR};
use crate::model::{ApiError, DirectoryObject, PrincipalKind, RoleDefinition, ids};
use crate::store::{AuditTarget, Tx};

/// What a caller supplies to create a directory object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewObject {
    /// The object's id, when it must keep one it has elsewhere (an import); a new one otherwise.
    pub id: Option<String>,
    pub kind: Option<PrincipalKind>,
    pub display_name: String,
    pub user_principal_name: Option<String>,
    pub mail: Option<String>,
    pub description: Option<String>,
    pub is_assignable_to_role: bool,
    pub security_enabled: bool,
    pub mail_enabled: bool,
    pub app_id: Option<String>,
    /// `None` means enabled.
    pub account_enabled: Option<bool>,
    pub group_types: Vec<String>,
    /// Groups: synchronised from on-premises (a lab setting: Graph cannot create one).
    pub on_premises_sync_enabled: bool,
    /// Members and owners to add at creation (`members@odata.bind`), by id.
    pub members: Vec<String>,
    pub owners: Vec<String>,
}

/// Finds a directory object by id, user principal name or display name.
pub(crate) fn resolve_object(tx: &Tx<'_>, text: &str, what: &str) -> Result<DirectoryObject, ApiError> {
    let text = text.trim();
    if let Some(o) = tx.object(text)? {
        return Ok(std::rc::Rc::unwrap_or_clone(o));
    }
    let mut found = tx.objects_named(text)?;
    if found.is_empty() && !text.contains('@') {
        // `alice` is short for `alice@{domain}`.
        let domain = tx.meta("domain")?.unwrap_or_default();
        found = tx.objects_named(&format!("{text}@{domain}"))?;
    }
    match found.len() {
        0 => Err(ApiError::new(
            404,
            ErrorCode::Request_ResourceNotFound,
            format!("{what} '{text}' does not exist (give an id, a user principal name or a display name)."),
        )),
        1 => Ok(found.remove(0)),
        _ => Err(ApiError::new(
            400,
            ErrorCode::AmbiguousName,
            format!(
                "'{text}' names {} objects ({}); use an id instead.",
                found.len(),
                found.iter().map(|o| format!("{} {}", o.kind.as_str(), o.id)).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

/// Finds a role definition by id, template id or display name.
pub(crate) fn resolve_role(tx: &Tx<'_>, text: &str) -> Result<RoleDefinition, ApiError> {
    let text = text.trim();
    if let Some(r) = tx.role(text)? {
        return Ok(r);
    }
    tx.role_named(text)?.ok_or_else(|| {
        ApiError::new(
            404,
            super::fidelity::ROLE_NOT_FOUND_CODE,
            format!("Role '{text}' does not exist (give a role id or display name)."),
        )
        .with_hint(crate::model::Hint::ListRoles)
    })
}

/// Ids of the role-assignable groups `principal` is a direct member of (they cannot be nested).
pub(crate) fn role_assignable_groups_of(tx: &Tx<'_>, principal: &str) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for id in tx.containers_of(principal)? {
        if let Some(g) = tx.object(&id)? {
            if g.kind == PrincipalKind::Group && g.is_assignable_to_role {
                out.push(id);
            }
        }
    }
    Ok(out)
}

/// Every group `principal` is a member of (Azure RBAC takes any group, not only role-assignable
/// ones).
pub(crate) fn user_groups_of(tx: &Tx<'_>, principal: &str) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for id in tx.containers_of(principal)? {
        if tx.object(&id)?.is_some_and(|g| g.kind == PrincipalKind::Group) {
            out.push(id);
        }
    }
    Ok(out)
}

/// Whether `principal` holds `role` at the tenant scope right now, directly or through a group.
/// Every administrator's write asks, so it reads only the holders' ids, and looks for the
/// principal's groups only when the principal does not hold the role itself.
pub(crate) fn holds_role(tx: &Tx<'_>, principal: &str, role: &str) -> Result<bool, ApiError> {
    let holders = tx.active_principals_of_role(role, "/")?;
    if holders.iter().any(|h| h.eq_ignore_ascii_case(principal)) {
        return Ok(true);
    }
    let groups = role_assignable_groups_of(tx, principal)?;
    Ok(holders.iter().any(|h| groups.iter().any(|g| g.eq_ignore_ascii_case(h))))
}

/// Admin actions need an active Privileged Role Administrator or Global Administrator.
pub(crate) fn require_admin(tx: &Tx<'_>, session: &Session, doing: &str) -> Result<(), ApiError> {
    // An application acting as itself needs its application permission, not a directory role
    // (reference §8); every surface checks that permission before a call reaches the engine
    // (`engine::calling::check_access`).
    if session.is_app_only() {
        return Ok(());
    }
    if holds_role(tx, &session.caller, GLOBAL_ADMINISTRATOR)?
        || holds_role(tx, &session.caller, PRIVILEGED_ROLE_ADMINISTRATOR)?
    {
        return Ok(());
    }
    Err(unauthorized().with_fix(
        "CallerNotAdministrator",
        "caller",
        format!(
            "{doing} needs an active Privileged Role Administrator or Global Administrator assignment; the caller {} has neither",
            tx.object(&session.caller)?.map_or(session.caller.clone(), |o| format!("{} ({})", o.display_name, o.id))
        ),
        crate::model::Hint::ActAsAdministrator,
    ))
}

/// The real service's 403 for a caller without the directory role (addendum §6).
pub(crate) fn unauthorized() -> ApiError {
    ApiError::new(
        403,
        ErrorCode::UnauthorizedAccessException,
        "Attempted to perform an unauthorized operation.",
    )
}

/// Validates and stores a new directory object.
pub(crate) fn create_object(
    tx: &Tx<'_>,
    ctx: &Ctx,
    actor: &str,
    new: NewObject,
) -> Result<Audited<DirectoryObject>, ApiError> {
    let kind =
        new.kind.ok_or_else(|| ApiError::bad_request("@odata.type", "the kind of object is missing"))?;
    let name = new.display_name.trim();
    if name.is_empty() {
        return Err(ApiError::bad_request("displayName", "a display name is required"));
    }
    check_length("displayName", Some(name), fidelity::MAX_DISPLAY_NAME)?;
    check_length("userPrincipalName", new.user_principal_name.as_deref(), fidelity::MAX_USER_PRINCIPAL_NAME)?;
    check_length("mail", new.mail.as_deref(), fidelity::MAX_MAIL)?;
    check_length("description", new.description.as_deref(), fidelity::MAX_DESCRIPTION)?;
    let domain = tx.meta("domain")?.unwrap_or_default();
    let upn = match kind {
        PrincipalKind::User => {
            let upn = match new.user_principal_name {
                Some(u) => u.trim().to_string(),
                None => format!("{}@{domain}", mail_nickname(name)),
            };
            if !upn.contains('@') || upn.starts_with('@') || upn.ends_with('@') {
                return Err(ApiError::bad_request(
                    "userPrincipalName",
                    format!("'{upn}' is not of the form name@domain"),
                ));
            }
            if !tx.objects_named(&upn)?.iter().all(|o| o.user_principal_name.as_deref() != Some(upn.as_str()))
            {
                return Err(ApiError::new(
                    400,
                    ErrorCode::Request_BadRequest,
                    format!(
                        "Another object with the same value for property userPrincipalName already exists: '{upn}'."
                    ),
                ));
            }
            Some(upn)
        }
        _ => None,
    };
    if new.is_assignable_to_role && kind != PrincipalKind::Group {
        return Err(ApiError::bad_request("isAssignableToRole", "only groups can be role-assignable"));
    }
    if kind == PrincipalKind::Group && new.is_assignable_to_role && !new.security_enabled {
        return Err(ApiError::bad_request(
            "securityEnabled",
            "a role-assignable group must be security-enabled (isAssignableToRole needs securityEnabled: true)",
        ));
    }
    for t in &new.group_types {
        if kind != PrincipalKind::Group || !["Unified", "DynamicMembership"].contains(&t.as_str()) {
            return Err(ApiError::bad_request(
                "groupTypes",
                format!("'{t}' is not a group type (Unified or DynamicMembership, groups only)"),
            ));
        }
    }
    if new.is_assignable_to_role && new.group_types.iter().any(|t| t == "DynamicMembership") {
        return Err(ApiError::bad_request(
            "groupTypes",
            "a role-assignable group cannot have dynamic membership",
        ));
    }
    let id = match new.id {
        Some(id) => given_id(tx, id.trim())?,
        None => new_id(tx, ctx)?,
    };
    let app_id = match kind {
        PrincipalKind::ServicePrincipal => Some(match new.app_id {
            Some(a) if ids::is_guid(&a) => a,
            Some(a) => {
                return Err(ApiError::bad_request("appId", format!("'{a}' is not a GUID")));
            }
            None => new_id(tx, ctx)?,
        }),
        _ => None,
    };
    let object = DirectoryObject {
        id,
        kind,
        display_name: name.to_string(),
        mail: new.mail.or_else(|| upn.clone()),
        user_principal_name: upn,
        description: new.description,
        is_assignable_to_role: new.is_assignable_to_role,
        security_enabled: new.security_enabled,
        mail_enabled: new.mail_enabled,
        app_id,
        account_enabled: new.account_enabled.unwrap_or(true),
        group_types: new.group_types.clone(),
        on_premises_sync_enabled: new.on_premises_sync_enabled && kind == PrincipalKind::Group,
        created_at: ctx.now,
    };
    tx.insert_object(&object)?;
    let about = About::Targets(vec![target_of(&object)]);
    let mut audit = Audit::of(Entry::new(tx, ctx, actor, Activity::ObjectAdded(kind), about)?);
    for (ids, relation) in [(&new.members, "member"), (&new.owners, "owner")] {
        for id in ids {
            if tx.object(id)?.is_none() {
                return Err(ApiError::bad_request(
                    &format!("{relation}s@odata.bind"),
                    format!("'{id}' names no object in this tenant"),
                ));
            }
            audit.push(add_member(tx, ctx, actor, &object.id, id, relation)?);
        }
    }
    Ok((object, audit))
}

/// An id the caller chose: a GUID no object has yet (kept in lower case, as the store keys ids).
fn given_id(tx: &Tx<'_>, id: &str) -> Result<String, ApiError> {
    if !ids::is_guid(id) {
        return Err(ApiError::bad_request("id", format!("'{id}' is not a GUID")));
    }
    let id = id.to_ascii_lowercase();
    if tx.object(&id)?.is_some() {
        return Err(ApiError::new(
            400,
            ErrorCode::Request_BadRequest,
            format!("Another object with the same value for property id already exists: '{id}'."),
        ));
    }
    Ok(id)
}

pub(crate) fn target_of(o: &DirectoryObject) -> AuditTarget {
    AuditTarget {
        id: o.id.clone(),
        kind: o.kind.as_str().to_string(),
        display_name: Some(o.display_name.clone()),
    }
}

/// `Alice Admin` → `alice.admin`.
fn mail_nickname(name: &str) -> String {
    let mut out = String::new();
    for word in name.split_whitespace() {
        if !out.is_empty() {
            out.push('.');
        }
        out.extend(word.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()));
    }
    if out.is_empty() { "user".into() } else { out }
}

/// Adds `member` to a group (or unit) as a member or owner; returns the audit row.
pub(crate) fn add_member(
    tx: &Tx<'_>,
    ctx: &Ctx,
    actor: &str,
    container: &str,
    member: &str,
    relation: &str,
) -> Result<Entry, ApiError> {
    let c = resolve_object(tx, container, "Group")?;
    let m = resolve_object(tx, member, "Member")?;
    match (c.kind, relation) {
        (PrincipalKind::Group, "member" | "owner") | (PrincipalKind::AdministrativeUnit, "member") => {}
        _ => {
            return Err(ApiError::bad_request(
                "container",
                format!(
                    "{} '{}' cannot have {}",
                    c.kind.as_str(),
                    c.display_name,
                    if relation == "owner" { "an owner" } else { "a member" }
                ),
            ));
        }
    }
    if c.is_assignable_to_role && relation == "member" && m.kind == PrincipalKind::Group {
        return Err(ApiError::bad_request(
            "member",
            format!(
                "role-assignable group '{}' cannot have groups as members (nesting is not supported)",
                c.display_name
            ),
        ));
    }
    if m.kind == PrincipalKind::AdministrativeUnit || c.id == m.id {
        return Err(ApiError::bad_request(
            "member",
            format!("'{}' cannot be a {relation} of '{}'", m.display_name, c.display_name),
        ));
    }
    if !tx.add_membership(&c.id, &m.id, relation)? {
        return Err(ApiError::new(
            400,
            ErrorCode::Request_BadRequest,
            format!(
                "One or more added object references already exist: '{}' is already a {relation} of '{}'.",
                m.display_name, c.display_name
            ),
        ));
    }
    let activity = Activity::MemberAdded {
        owner: relation == "owner",
        unit: c.kind == PrincipalKind::AdministrativeUnit,
    };
    Entry::new(tx, ctx, actor, activity, About::Targets(vec![target_of(&c), target_of(&m)]))
}

impl Engine {
    /// Creates a user, group, service principal or administrative unit. Needs an administrator.
    pub fn create_object(&mut self, session: &Session, new: NewObject) -> Result<DirectoryObject, ApiError> {
        self.write(|tx, ctx| {
            require_admin(tx, session, "Creating directory objects")?;
            create_object(tx, ctx, &session.caller, new)
        })
    }

    /// Adds a member (or owner) to a group or administrative unit. Needs an administrator.
    pub fn add_member(
        &mut self,
        session: &Session,
        container: &str,
        member: &str,
        relation: &str,
    ) -> Result<(), ApiError> {
        self.write(|tx, ctx| {
            require_admin(tx, session, "Changing group membership")?;
            Ok(((), Audit::of(add_member(tx, ctx, &session.caller, container, member, relation)?)))
        })
    }

    /// Resolves an id, user principal name or display name to a directory object.
    pub fn resolve_object(&mut self, text: &str) -> Result<DirectoryObject, ApiError> {
        self.lookup(|tx| resolve_object(tx, text, "Principal"))
    }

    /// Resolves an id or display name to a role definition.
    pub fn resolve_role(&mut self, text: &str) -> Result<RoleDefinition, ApiError> {
        self.lookup(|tx| resolve_role(tx, text))
    }
}
