//! Applies the JSON collections of all the files together, in dependency order: the Azure estate,
//! directory objects, their memberships and permissions, custom roles, schedules (eligibilities
//! before the activations that used them), role settings, then Azure schedules. A reference to
//! something neither the files nor the store has refuses the import, naming the file, the item
//! and the id; the caller's transaction then leaves the store as it was.

use super::arm_form;
use super::convert::{self, At};
use super::{JsonFile, Kind, Part, phase, prepare, tally};
use crate::engine::{Change, Engine, Session};
use crate::exchange::Progress;
use crate::exchange::import::Summary;
use crate::model::azure_scope::{AzureScope, AzureScopeNode};
use crate::model::permissions::AppPermission;
use crate::model::{ApiError, Surface};

/// Imports one item: what it changed.
type ItemImport<'a> =
    dyn FnMut(&mut Engine, &At<'_>, &serde_json::Value) -> Result<Vec<Change>, ApiError> + 'a;

/// Applies the JSON files, all of them together, in dependency order.
pub fn apply(
    engine: &mut Engine,
    session: &Session,
    files: &[JsonFile],
    progress: &dyn Progress,
    summary: &mut Summary,
) -> Result<(), ApiError> {
    if files.is_empty() {
        return Ok(());
    }
    let (session, facts) = prepare(engine, session, files)?;
    let records = || files.iter().filter_map(|f| f.tenant.as_deref());
    let recorded: Vec<AppPermission> = records().flat_map(|t| t.grants.iter().cloned()).collect();
    let beside_pim: Vec<(String, String, String)> =
        records().flat_map(|t| t.beside_pim.iter().cloned()).collect();
    let session = &session;
    let now = engine.now()?;
    let parts = |kind: Kind| files.iter().flat_map(|f| &f.parts).filter(move |p| p.kind == kind);
    let mut each = |kind: Kind, engine: &mut Engine, f: &mut ItemImport<'_>| -> Result<(), ApiError> {
        let all: Vec<&Part> = parts(kind).collect();
        let total = all.iter().map(|p| p.items.len()).sum();
        if total == 0 {
            return Ok(());
        }
        phase(progress, kind.label(), total);
        let mut changes = Vec::new();
        for part in all {
            for (index, item) in part.items.iter().enumerate() {
                changes.extend(f(engine, &At { origin: &part.origin, index }, item)?);
                progress.advance(1);
            }
        }
        progress.finish();
        tally(summary, kind.label(), &changes);
        Ok(())
    };
    each(Kind::AzureEstate, engine, &mut |e, at, item| {
        let node = convert::estate(at, item, now)?;
        ensure_scope(e, session, at, &node.scope, Some(node.clone()))
    })?;
    for kind in [Kind::Users, Kind::Groups, Kind::ServicePrincipals, Kind::AdministrativeUnits] {
        each(kind, engine, &mut |e, at, item| {
            let mut object = convert::object(at, kind, item, now)?;
            // A creation time the wire does not show (a service principal's, an administrative
            // unit's) is the store's when it has the object, else the import's.
            if item.get("createdDateTime").is_none_or(serde_json::Value::is_null) {
                if let Some(old) = e.object(&object.id)? {
                    object.created_at = old.created_at;
                }
            }
            Ok(vec![e.import_object(session, &object)?])
        })?;
    }
    // Before the memberships: a live group assignment *is* a membership, which the group's
    // `members` list shows too and must not come back as a second one added outside PIM.
    for kind in [Kind::GroupEligibilitySchedules, Kind::GroupAssignmentSchedules] {
        each(kind, engine, &mut |e, at, item| {
            let s = convert::group_schedule(at, kind, item)?;
            require_object(e, at, &s.principal_id)?;
            let group = s.directory_scope_id.clone().unwrap_or_default();
            match e.object(&group)? {
                Some(o) if o.kind == crate::model::PrincipalKind::Group => {}
                _ => {
                    return Err(at.error(
                        "groupId",
                        format!("'{group}' is neither among the imported groups nor a group in the store"),
                    ));
                }
            }
            Ok(vec![e.import_schedule(session, &s)?])
        })?;
    }
    let mut memberships = Vec::new();
    let mut pim_made = Vec::new();
    for part in parts(Kind::GroupAssignmentSchedules) {
        for (index, item) in part.items.iter().enumerate() {
            let s = convert::group_schedule(&At { origin: &part.origin, index }, part.kind, item)?;
            if s.status == crate::model::Status::Provisioned {
                pim_made.push((
                    s.directory_scope_id.unwrap_or_default(),
                    s.principal_id,
                    s.role_definition_id,
                ));
            }
        }
    }
    for kind in [Kind::Groups, Kind::AdministrativeUnits] {
        for part in parts(kind) {
            for (index, item) in part.items.iter().enumerate() {
                let at = At { origin: &part.origin, index };
                let container = convert::object(&at, kind, item, now)?.id;
                for (relation, member) in convert::members(&at, item)? {
                    require_object(engine, &at, &member)?;
                    let key = (container.clone(), member.clone(), relation.to_string());
                    let beside = beside_pim.contains(&key);
                    if pim_made.contains(&key) && !beside {
                        // The files' own group assignment makes it (even one that ended by the
                        // store's clock and was left out).
                        memberships.push(Change::Unchanged);
                        continue;
                    }
                    memberships
                        .push(engine.import_membership(session, &container, &member, relation, beside)?);
                }
            }
        }
    }
    each(Kind::AppRoleAssignments, engine, &mut |e, at, item| {
        let p = convert::app_role(at, item, now)?;
        require_object(e, at, &p.app_id)?;
        let p = with_unseen(e, p, &recorded, session, true)?;
        Ok(vec![e.import_app_permission(session, &p)?])
    })?;
    each(Kind::PermissionGrants, engine, &mut |e, at, item| {
        let mut out = Vec::new();
        for p in convert::grants(at, item, now)? {
            require_object(e, at, &p.app_id)?;
            let p = with_unseen(e, p, &recorded, session, false)?;
            out.push(e.import_app_permission(session, &p)?);
        }
        Ok(out)
    })?;
    each(Kind::RoleDefinitions, engine, &mut |e, at, item| {
        Ok(vec![e.import_role(session, &convert::role(at, item)?)?])
    })?;
    for kind in [Kind::RoleEligibilitySchedules, Kind::RoleAssignmentSchedules] {
        each(kind, engine, &mut |e, at, item| {
            let s = convert::schedule(at, kind, item)?;
            require_object(e, at, &s.principal_id)?;
            if e.roles()?.iter().all(|r| r.id != s.role_definition_id) {
                return Err(at.error(
                    "roleDefinitionId",
                    format!("'{}' is neither imported nor in the store", s.role_definition_id),
                ));
            }
            Ok(vec![e.import_schedule(session, &s)?])
        })?;
    }
    each(Kind::PolicyAssignments, engine, &mut |e, at, item| {
        let (surface, policy) = convert::policy_assignment(at, item)?;
        match surface {
            Surface::Group => {
                require_object(e, at, &policy.scope_id)?;
                // A group not onboarded shows its policies at the defaults: importing them
                // unchanged must not onboard it.
                if e.group_policies(&policy.scope_id)?.contains(&policy) {
                    return Ok(vec![Change::Unchanged]);
                }
            }
            _ => {
                if e.roles()?.iter().all(|r| r.id != policy.role_definition_id) {
                    return Err(at.error(
                        "roleDefinitionId",
                        format!("'{}' is neither imported nor in the store", policy.role_definition_id),
                    ));
                }
            }
        }
        Ok(vec![e.import_policy(session, surface, &policy)?])
    })?;
    // Before the Azure settings and schedules that name them.
    each(Kind::AzureRoleDefinitions, engine, &mut |e, at, item| {
        let role = convert::azure_role(at, item)?;
        if !role.is_custom() {
            return match e.azure_role(&role.id) {
                Ok(known) if !known.is_custom() => Ok(vec![Change::Unchanged]),
                _ => {
                    Err(at.error("name", format!("'{}' is not a built-in Azure role pimlab knows", role.id)))
                }
            };
        }
        // The scopes it may be assigned at are in the estate (made there if missing; counted
        // with the estate, not here).
        for path in role.assignable_scopes.iter().filter(|p| p.as_str() != "/") {
            let scope = AzureScope::parse(path).map_err(|e| at.error("properties.assignableScopes", e))?;
            ensure_scope(e, session, at, &scope, None)?;
        }
        Ok(vec![e.import_azure_role(session, &role).map_err(|err| at.error("name", err.message))?])
    })?;
    let mut roles = std::collections::BTreeMap::new();
    for part in parts(Kind::AzurePolicyAssignments) {
        for (index, item) in part.items.iter().enumerate() {
            let (policy, role) = convert::arm_policy_role(&At { origin: &part.origin, index }, item)?;
            roles.insert(policy, role);
        }
    }
    each(Kind::AzurePolicies, engine, &mut |e, at, item| {
        let policy = convert::arm_policy(at, item, &roles)?;
        let scope = AzureScope::parse(&policy.scope_id).map_err(|e| at.error("properties.scope", e))?;
        ensure_scope(e, session, at, &scope, None)?;
        if e.azure_policy(&policy.scope_id, &policy.role_definition_id)
            .is_ok_and(|(_, old)| arm_form::same_policy(&old, &policy))
        {
            return Ok(vec![Change::Unchanged]);
        }
        Ok(vec![e.import_policy(session, Surface::AzureResource, &policy)?])
    })?;
    for kind in [Kind::AzureEligibilitySchedules, Kind::AzureAssignmentSchedules] {
        each(kind, engine, &mut |e, at, item| {
            let s = convert::arm_schedule(at, kind, item)?;
            if s.member_type == crate::model::MemberType::Inherited {
                // A copy of a schedule that lives at a scope above: imported from there.
                return Ok(vec![Change::Unchanged]);
            }
            require_object(e, at, &s.principal_id)?;
            if e.azure_role(&s.role_definition_id).is_err() {
                return Err(at.error(
                    "properties.roleDefinitionId",
                    format!(
                        "'{}' is neither a built-in Azure role nor a custom one in the store",
                        s.role_definition_id
                    ),
                ));
            }
            let scope = AzureScope::parse(s.directory_scope_id.as_deref().unwrap_or_default())
                .map_err(|e| at.error("properties.scope", e))?;
            let mut changes = ensure_scope(e, session, at, &scope, None)?;
            let stored = e.schedule(s.kind, &s.id)?;
            changes.push(match stored {
                Some(old) if arm_form::same_schedule(&old, &s) => Change::Unchanged,
                _ => e.import_schedule(session, &s)?,
            });
            // Only the schedule counts here; the scopes it made are counted with the estate.
            Ok(changes.split_off(changes.len() - 1))
        })?;
    }
    tally(summary, "memberships", &memberships);
    if let Some(facts) = facts {
        engine.finish_tenant(&facts)?;
    }
    Ok(())
}

/// Refuses a reference to an object neither the files nor the store holds.
fn require_object(engine: &mut Engine, at: &At<'_>, id: &str) -> Result<(), ApiError> {
    match engine.object(id)? {
        Some(_) => Ok(()),
        None => Err(at.error("id", format!("'{id}' is neither among the imported objects nor in the store"))),
    }
}

/// What the wire does not show of a permission: its own id (an `oauth2PermissionGrant` shows
/// its first scope's), who granted it and, for a delegated one (`time_shown` false), when. From
/// an export's record of it (`recorded`), else from the store when it holds the permission,
/// else the import's caller (and the import's time).
fn with_unseen(
    engine: &mut Engine,
    mut p: AppPermission,
    recorded: &[AppPermission],
    session: &Session,
    time_shown: bool,
) -> Result<AppPermission, ApiError> {
    let same = |h: &AppPermission| h.app_id == p.app_id && h.kind == p.kind && h.permission == p.permission;
    if let Some(r) = recorded.iter().find(|r| same(r)) {
        return Ok(AppPermission {
            id: r.id.clone(),
            granted_by: r.granted_by.clone(),
            granted_at: r.granted_at,
            ..p
        });
    }
    let held = engine.app_permissions(&p.app_id).map(|(_, held)| held).unwrap_or_default();
    match held.into_iter().find(|h| same(h)) {
        Some(h) => {
            p.granted_by = h.granted_by;
            if !time_shown {
                (p.id, p.granted_at) = (h.id, h.granted_at);
            }
        }
        None => p.granted_by = session.caller.clone(),
    }
    Ok(p)
}

/// Makes sure `scope` is in the estate, with the scopes above it (a subscription or management
/// group with no known parent goes under the tenant root). `node` is the file's own version of it.
fn ensure_scope(
    engine: &mut Engine,
    session: &Session,
    at: &At<'_>,
    scope: &AzureScope,
    node: Option<AzureScopeNode>,
) -> Result<Vec<Change>, ApiError> {
    let known = engine.azure_scopes()?;
    if node.is_none() && known.iter().any(|n| n.scope.key() == scope.key()) {
        return Ok(Vec::new());
    }
    let now = engine.now()?;
    let root = AzureScope::tenant_root(&engine.tenant_id()?);
    let node = node.unwrap_or_else(|| AzureScopeNode {
        scope: scope.clone(),
        display_name: scope.name().to_string(),
        parent: scope.path_parent(),
        created_at: now,
    });
    let mut node = node;
    if node.parent.is_none() && node.scope.key() != root.key() {
        node.parent = Some(root);
    }
    let mut changes = Vec::new();
    if let Some(parent) = node.parent.clone() {
        if !known.iter().any(|n| n.scope.key() == parent.key()) {
            changes.extend(ensure_scope(engine, session, at, &parent, None)?);
        }
    }
    if node.parent.is_none() {
        // The tenant root is every store's own.
        return Ok(vec![Change::Unchanged]);
    }
    changes.push(engine.import_azure_scope(session, &node).map_err(|e| at.error("scope", e.message))?);
    Ok(changes)
}
