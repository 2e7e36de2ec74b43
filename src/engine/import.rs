//! Importing a tenant's state as it is, keeping its ids: directory objects and memberships, custom
//! roles, schedules, policies with their rules, the Azure estate, custom Azure roles and
//! applications' permissions; and the lab's own facts (tenant id, clock, seed) of a tenant created
//! from an export. Each item is one write with its audit row, made by whoever runs the import;
//! `import` runs them all inside one `Engine::atomically`.
//!
//! An item whose id the store already has is replaced by the file's version (`Updated`), or left
//! as it is when identical (`Unchanged`). A role's policy takes the file's id and rules, replacing
//! the store's policy of that role.

use super::audit::{About, Activity, Audit, Entry};
use super::{Ctx, Engine, Session};
use crate::model::azure_role::AzureRole;
use crate::model::azure_scope::AzureScopeNode;
use crate::model::builtin_roles::BUILTIN_ROLES;
use crate::model::permissions::AppPermission;
use crate::model::policy::Policy;
use crate::model::time::to_millis;
use crate::model::{ApiError, DirectoryObject, RoleDefinition, Schedule, Surface, Timestamp};
use crate::store::{AuditTarget, Tx};

/// What importing one item did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Unchanged,
}

/// What a real export cannot carry but a lab tenant is made of (`pimlab-tenant.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct TenantFacts {
    pub tenant_id: String,
    pub domain: String,
    pub clock: Timestamp,
    pub seed: u64,
    /// The id generator's position.
    pub next_id: u64,
    /// The store's default caller (its break-glass administrator).
    pub default_caller: String,
    /// The fidelity profile as the store keeps it.
    pub fidelity: String,
    /// The options the tenant was first created with (`init`'s time and `--demo`), from which
    /// `export` without `--since` makes the tenant as it was then: none for an export that does
    /// not carry them (the import's store then counts from its own creation).
    pub created: Option<(Timestamp, bool)>,
}

fn invalid(message: String) -> ApiError {
    ApiError::new(400, crate::model::ErrorCode::PimlabImportInvalid, message)
}

/// One audit row about an imported item.
fn row(
    tx: &Tx<'_>,
    ctx: &Ctx,
    session: &Session,
    what: &str,
    change: Change,
    id: &str,
) -> Result<Audit, ApiError> {
    if change == Change::Unchanged {
        return Ok(Audit::none("an identical item changes nothing"));
    }
    let verb = if change == Change::Created { "created" } else { "updated" };
    let target = AuditTarget { id: id.to_string(), kind: what.to_string(), display_name: None };
    let entry = Entry::new(
        tx,
        ctx,
        &session.caller,
        Activity::Imported(format!("{what} {verb}")),
        About::Targets(vec![target]),
    )?;
    Ok(Audit::of(entry))
}

impl Engine {
    /// The lab's own facts about the tenant.
    pub fn tenant_facts(&mut self) -> Result<TenantFacts, ApiError> {
        self.read(|tx, ctx| {
            Ok(TenantFacts {
                tenant_id: ctx.tenant_id.clone(),
                domain: tx.meta("domain")?.unwrap_or_default(),
                clock: ctx.now,
                seed: ctx.seed,
                next_id: tx.meta("next_id")?.and_then(|v| v.parse().ok()).unwrap_or(0),
                default_caller: tx.meta("default_caller")?.unwrap_or_default(),
                fidelity: ctx.fidelity.to_stored(),
                created: match tx.meta("created_at")?.map(|t| crate::model::time::parse_timestamp(&t)) {
                    Some(Ok(at)) => Some((at, tx.meta("created_with_demo")?.is_some_and(|d| d == "true"))),
                    _ => None,
                },
            })
        })
    }

    /// Creates a tenant from its facts in an empty store: the built-in roles and the tenant root
    /// management group; no user. The facts' id counter, clock and default caller are set by
    /// [`Engine::finish_tenant`] once everything is in.
    pub fn create_tenant(&mut self, facts: &TenantFacts) -> Result<(), ApiError> {
        {
            let tx = self.store.write()?;
            if tx.meta("tenant_id")?.is_some() {
                return Err(super::seed::already_initialized());
            }
            tx.set_meta("seed", &facts.seed.to_string())?;
            tx.set_meta("domain", &facts.domain)?;
            tx.set_meta("clock", &to_millis(facts.clock).to_string())?;
            tx.set_meta("tenant_id", &facts.tenant_id)?;
            tx.set_meta("fidelity", &facts.fidelity)?;
            if let Some((at, demo)) = facts.created {
                tx.set_meta("created_at", &crate::model::time::format_timestamp(at))?;
                tx.set_meta("created_with_demo", if demo { "true" } else { "false" })?;
            }
            let ctx = Ctx {
                now: facts.clock,
                tenant_id: facts.tenant_id.clone(),
                seed: facts.seed,
                fidelity: Default::default(),
                runner: None,
                hooks: Default::default(),
            };
            tx.insert_azure_scope(&super::azure_scopes::tenant_root(&facts.tenant_id, facts.clock))?;
            // Their policies come with the import; `finish_tenant` gives any role left without one
            // its defaults.
            for b in BUILTIN_ROLES {
                tx.insert_role(&super::seed::builtin_role(b))?;
            }
            let target = AuditTarget {
                id: facts.tenant_id.clone(),
                kind: "Tenant".into(),
                display_name: Some(facts.domain.clone()),
            };
            let entry = Entry::new(
                &tx,
                &ctx,
                "system",
                Activity::Imported("tenant created".into()),
                About::Targets(vec![target]),
            )?;
            super::commit(tx, Audit::of(entry))?;
        }
        Ok(())
    }

    /// Sets what the tenant's facts say once the import is in: the id generator's position (never
    /// back), the clock and the default caller, who must exist.
    pub fn finish_tenant(&mut self, facts: &TenantFacts) -> Result<(), ApiError> {
        self.write(|tx, ctx| {
            for role in tx.roles()? {
                if tx.policy_for(Surface::Directory.as_str(), "/", &role.id)?.is_none() {
                    super::roles::insert_default_policy(tx, ctx, &role)?;
                }
            }
            if tx.object(&facts.default_caller)?.is_none() {
                return Err(invalid(format!(
                    "the tenant's default caller '{}' is not among the imported users",
                    facts.default_caller
                )));
            }
            let at = tx.meta("next_id")?.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            tx.set_meta("next_id", &at.max(facts.next_id).to_string())?;
            tx.set_meta("clock", &to_millis(facts.clock).to_string())?;
            tx.set_meta("default_caller", &facts.default_caller)?;
            Ok(((), Audit::none("the tenant's own facts; the tenant's creation was recorded")))
        })
    }

    /// A user, group, service principal or administrative unit with its id.
    pub fn import_object(&mut self, session: &Session, o: &DirectoryObject) -> Result<Change, ApiError> {
        self.write(|tx, ctx| {
            let change = match tx.object(&o.id)? {
                None => {
                    tx.insert_object(o)?;
                    Change::Created
                }
                Some(old) if *old == *o => Change::Unchanged,
                Some(_) => {
                    tx.update_object(o)?;
                    Change::Updated
                }
            };
            Ok((change, row(tx, ctx, session, o.kind.as_str(), change, &o.id)?))
        })
    }

    /// A membership (or ownership) outside PIM. One a live PIM for Groups assignment already
    /// makes (a group's `members` list shows both as one) is that assignment's, and left to it,
    /// unless `beside_pim`: the export recorded that it was added outside PIM too.
    pub fn import_membership(
        &mut self,
        session: &Session,
        container: &str,
        member: &str,
        relation: &str,
        beside_pim: bool,
    ) -> Result<Change, ApiError> {
        self.write(|tx, ctx| {
            let added = !tx.has_direct_membership(container, member, relation)?
                && (beside_pim || !tx.has_pim_membership(container, member, relation)?)
                && tx.add_membership(container, member, relation)?;
            let change = if added { Change::Created } else { Change::Unchanged };
            Ok((change, row(tx, ctx, session, relation, change, &format!("{container}/{member}"))?))
        })
    }

    /// The memberships added outside PIM that a live PIM for Groups assignment also makes, as
    /// (group, member, relation): the Graph lists show each once, so an export records them.
    pub fn memberships_beside_pim(&mut self) -> Result<Vec<(String, String, String)>, ApiError> {
        self.read(|tx, _| {
            let mut out = Vec::new();
            for s in tx.live_schedules(crate::model::RequestKind::Assignment, None, None)? {
                let group = s.directory_scope_id.clone().unwrap_or_default();
                if s.surface == Surface::Group
                    && s.status == crate::model::Status::Provisioned
                    && tx.has_direct_membership(&group, &s.principal_id, &s.role_definition_id)?
                {
                    out.push((group, s.principal_id, s.role_definition_id));
                }
            }
            out.sort();
            out.dedup();
            Ok(out)
        })
    }

    /// A custom directory role; a new one gets a policy at the defaults, which an imported policy
    /// then replaces.
    pub fn import_role(&mut self, session: &Session, r: &RoleDefinition) -> Result<Change, ApiError> {
        self.write(|tx, ctx| {
            let change = match tx.role(&r.id)? {
                None => {
                    super::roles::insert_role_with_default_policy(tx, ctx, r)?;
                    Change::Created
                }
                Some(old) if &old == r => Change::Unchanged,
                Some(_) => {
                    tx.update_role(r)?;
                    Change::Updated
                }
            };
            Ok((change, row(tx, ctx, session, "roleDefinition", change, &r.id)?))
        })
    }

    /// A schedule with its id (the file's version replaces the store's). What the wire does not
    /// show follows from what it does: its instance's id, when it ends, its expiry notices, and
    /// for an activation the eligibility it used (the one it names, if the store has it, else the
    /// principal's live one for the role and scope). One that has ended by the store's clock is
    /// left out.
    pub fn import_schedule(&mut self, session: &Session, s: &Schedule) -> Result<Change, ApiError> {
        self.write(|tx, ctx| {
            let mut s = s.clone();
            let scope = s.directory_scope_id.clone().or(s.app_scope_id.clone());
            s.instance_id = match s.created_using {
                None => s.id.clone(),
                Some(_) => super::records::instance_id_of(
                    s.surface,
                    s.kind,
                    &s.role_definition_id,
                    &s.principal_id,
                    scope.as_deref(),
                ),
            };
            s.end_at = s.schedule_info.end_from(s.start());
            if s.end_at.is_some_and(|end| end <= ctx.now) {
                // Over by the store's clock (an older export imported later): history, which an
                // import does not bring back.
                return Ok((Change::Unchanged, Audit::none("a schedule that has ended is not imported")));
            }
            let activation = s.assignment_type == Some(crate::model::AssignmentType::Activated);
            let notice = |days: i64| {
                s.end_at
                    .map(|e| e - crate::model::IsoDuration::from_days(days).as_delta())
                    .filter(|t| s.created_using.is_some() && !activation && *t > ctx.now)
            };
            (s.warn_14_at, s.warn_1_at) = (
                notice(super::fidelity::EXPIRY_NOTICE_DAYS[0]),
                notice(super::fidelity::EXPIRY_NOTICE_DAYS[1]),
            );
            let named = match s.activated_using.take() {
                Some(id) => tx.schedule(&id)?.filter(|e| e.kind == crate::model::RequestKind::Eligibility),
                None => None,
            };
            if let Some(named) = named.filter(|_| activation) {
                s.activated_using = Some(named.id);
            } else if activation {
                let used = tx.schedules_of(
                    crate::model::RequestKind::Eligibility,
                    &s.principal_id,
                    &s.role_definition_id,
                    crate::model::ScheduleState::Live,
                )?;
                s.activated_using = used
                    .into_iter()
                    .find(|e| {
                        e.surface == s.surface
                            && e.directory_scope_id == s.directory_scope_id
                            && e.app_scope_id == s.app_scope_id
                    })
                    .map(|e| e.id);
            }
            let s = &s;
            let change = match tx.schedule(&s.id)? {
                None => Change::Created,
                Some(old) if &old == s => Change::Unchanged,
                Some(_) => {
                    tx.delete_schedule(&s.id)?;
                    Change::Updated
                }
            };
            if change != Change::Unchanged {
                tx.insert_schedule(s)?;
            }
            Ok((change, row(tx, ctx, session, "schedule", change, &s.id)?))
        })
    }

    /// A role's policy: it replaces the store's policy of the same role and scope (whatever its
    /// id), rules and all.
    pub fn import_policy(
        &mut self,
        session: &Session,
        surface: Surface,
        p: &Policy,
    ) -> Result<Change, ApiError> {
        self.write(|tx, ctx| {
            let old = tx.policy_for(surface.as_str(), &p.scope_id, &p.role_definition_id)?;
            if let Some(other) = tx.policy(&p.id)?.filter(|o| old.as_ref().is_none_or(|old| old.id != o.id)) {
                return Err(invalid(format!(
                    "policy '{}' is the store's policy of role '{}' at '{}', not of role '{}'",
                    p.id, other.role_definition_id, other.scope_id, p.role_definition_id
                )));
            }
            let change = match old {
                None => Change::Created,
                Some(old) if &old == p => Change::Unchanged,
                Some(old) => {
                    tx.delete_policy(&old.id)?;
                    Change::Updated
                }
            };
            if change != Change::Unchanged {
                tx.insert_policy(surface.as_str(), p)?;
            }
            Ok((change, row(tx, ctx, session, "policy", change, &p.id)?))
        })
    }

    /// A scope of the Azure estate under one it has (the parent must be there first).
    pub fn import_azure_scope(
        &mut self,
        session: &Session,
        node: &AzureScopeNode,
    ) -> Result<Change, ApiError> {
        self.write(|tx, ctx| {
            let change = match tx.azure_scope(&node.scope)? {
                Some(old) if old.display_name == node.display_name => Change::Unchanged,
                Some(_) => {
                    tx.rename_azure_scope(&node.scope, &node.display_name)?;
                    Change::Updated
                }
                None => {
                    let parent = node
                        .parent
                        .as_ref()
                        .ok_or_else(|| invalid(format!("the Azure scope {} has no parent", node.scope)))?;
                    if tx.azure_scope(parent)?.is_none() {
                        return Err(super::azure_scopes::scope_not_found(parent));
                    }
                    tx.insert_azure_scope(node)?;
                    Change::Created
                }
            };
            Ok((change, row(tx, ctx, session, node.scope.kind().as_str(), change, node.scope.path())?))
        })
    }

    /// A custom Azure role with its id, its creation and update stamps (none in the file: the
    /// store's, or made now by whoever imports it). Its id may be neither a built-in role's nor a directory
    /// role's, and its name not another role's.
    pub fn import_azure_role(&mut self, session: &Session, role: &AzureRole) -> Result<Change, ApiError> {
        self.write(|tx, ctx| {
            let stored = tx.azure_custom_role(&role.id)?;
            let mut role = role.clone();
            let stamp = crate::model::azure_role::Stamp { at: ctx.now, by: session.caller.clone() };
            role.created = role.created.or(stored.as_ref().and_then(|s| s.created.clone())).or(Some(stamp));
            role.updated =
                role.updated.or(stored.as_ref().and_then(|s| s.updated.clone())).or(role.created.clone());
            let role = &role;
            if tx.azure_role(&role.id)?.is_some_and(|r| !r.is_custom()) || tx.role(&role.id)?.is_some() {
                return Err(invalid(format!("'{}' is the id of a built-in or directory role", role.id)));
            }
            if let Some(other) = tx.azure_role(&role.role_name)?.filter(|o| o.id != role.id) {
                return Err(invalid(format!(
                    "another Azure role ('{}') is already named '{}'",
                    other.id, role.role_name
                )));
            }
            let change = match stored {
                None => Change::Created,
                Some(old) if &old == role => Change::Unchanged,
                Some(_) => Change::Updated,
            };
            if change != Change::Unchanged {
                tx.put_azure_role(role)?;
            }
            Ok((change, row(tx, ctx, session, "azureRoleDefinition", change, &role.id)?))
        })
    }

    /// A Microsoft Graph permission an application holds.
    pub fn import_app_permission(
        &mut self,
        session: &Session,
        p: &AppPermission,
    ) -> Result<Change, ApiError> {
        self.write(|tx, ctx| {
            let held = tx.app_permissions(&p.app_id)?;
            let change = match held.iter().find(|h| h.kind == p.kind && h.permission == p.permission) {
                Some(h) if h == p => Change::Unchanged,
                Some(_) => {
                    tx.delete_app_permission(&p.app_id, p.kind, &p.permission)?;
                    Change::Updated
                }
                None => Change::Created,
            };
            if change != Change::Unchanged {
                tx.insert_app_permission(p)?;
            }
            Ok((change, row(tx, ctx, session, "appPermission", change, &p.id)?))
        })
    }
}
