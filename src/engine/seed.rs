//! A new tenant: the built-in roles, a policy per role at its defaults, a break-glass Global
//! Administrator, and (with `--demo`) a small organisation whose state is built through the same
//! requests a real administrator would send.

use super::audit::{About, Activity, Audit, Entry};
use super::directory::{NewObject, add_member, create_object};
use super::{Ctx, Engine, Session, new_id, set_clock};
use crate::model::ErrorCode;
use crate::model::builtin_roles::{BUILTIN_ROLES, GLOBAL_ADMINISTRATOR};
use crate::model::time::{parse_timestamp, to_millis};
use crate::model::{
    Action, ApiError, Expiration, IsoDuration, NewRequest, PrincipalKind, RequestKind, RoleDefinition,
    ScheduleInfo, Surface, Timestamp, ids,
};
use crate::store::{AuditTarget, Tx};

/// How to create a tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct InitOptions {
    pub seed: u64,
    pub at: Timestamp,
    pub demo: bool,
    pub domain: String,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            seed: 1,
            // A fixed Monday morning, so two stores made without --at are identical.
            at: parse_timestamp("2025-01-06T09:00:00Z").expect("valid constant"),
            demo: false,
            domain: "contoso.example".into(),
        }
    }
}

/// The break-glass administrator every store starts with.
pub const BREAK_GLASS_NAME: &str = "Break Glass Admin";

/// Creates the tenant in `tx`; returns its audit rows (the break-glass administrator and its
/// Global Administrator assignment).
fn seed_tenant(tx: &Tx<'_>, opts: &InitOptions) -> Result<Audit, ApiError> {
    tx.set_meta("seed", &opts.seed.to_string())?;
    tx.set_meta("domain", &opts.domain)?;
    tx.set_meta("clock", &to_millis(opts.at).to_string())?;
    let probe = Ctx {
        now: opts.at,
        tenant_id: String::new(),
        seed: opts.seed,
        fidelity: Default::default(),
        runner: None,
        hooks: Default::default(),
    };
    let tenant_id = new_id(tx, &probe)?;
    tx.set_meta("tenant_id", &tenant_id)?;
    let ctx = Ctx {
        now: opts.at,
        tenant_id: tenant_id.clone(),
        seed: opts.seed,
        fidelity: Default::default(),
        runner: None,
        hooks: Default::default(),
    };
    // Every tenant's Azure estate starts with its root management group.
    tx.insert_azure_scope(&super::azure_scopes::tenant_root(&tenant_id, opts.at))?;
    for b in BUILTIN_ROLES {
        let role = builtin_role(b);
        super::roles::insert_role_with_default_policy(tx, &ctx, &role)?;
    }
    let (admin, mut audit) = create_object(
        tx,
        &ctx,
        "system",
        NewObject {
            kind: Some(PrincipalKind::User),
            display_name: BREAK_GLASS_NAME.into(),
            user_principal_name: Some(format!("breakglass@{}", opts.domain)),
            ..Default::default()
        },
    )?;
    tx.set_meta("default_caller", &admin.id)?;
    // A permanent Global Administrator assignment made outside PIM, as a new tenant's first
    // administrator has: its schedule and instance share the role assignment's id (reference §3.9).
    let id = ids::role_assignment_id(GLOBAL_ADMINISTRATOR, &admin.id, Some("/"), false);
    tx.insert_schedule(&super::records::outside_pim_assignment(
        id,
        &admin.id,
        GLOBAL_ADMINISTRATOR,
        Some("/".into()),
        None,
        opts.at,
    ))?;
    let about = About::Targets(vec![
        AuditTarget {
            id: GLOBAL_ADMINISTRATOR.into(),
            kind: "Role".into(),
            display_name: Some("Global Administrator".into()),
        },
        super::directory::target_of(&admin),
    ]);
    audit.push(Entry::new(tx, &ctx, "system", Activity::RoleAssignmentAdded, about)?);
    // And someone who can assign the first Azure roles (see `azure_access::elevated_access`).
    let elevated = super::azure_access::elevated_access(&tenant_id, &admin.id, opts.at);
    tx.insert_schedule(&elevated)?;
    let about = About::Targets(vec![
        AuditTarget {
            id: elevated.role_definition_id.clone(),
            kind: "AzureRole".into(),
            display_name: Some("User Access Administrator".into()),
        },
        super::directory::target_of(&admin),
    ]);
    audit.push(Entry::new(tx, &ctx, "system", Activity::RoleAssignmentAdded, about)?);
    Ok(audit)
}

/// A built-in directory role as a new tenant stores it.
pub(crate) fn builtin_role(b: &crate::model::builtin_roles::BuiltinRole) -> RoleDefinition {
    RoleDefinition {
        id: b.id.to_string(),
        display_name: b.display_name.to_string(),
        description: Some(b.description.to_string()),
        is_built_in: true,
        is_enabled: true,
        is_privileged: b.is_privileged,
        template_id: Some(b.id.to_string()),
        version: Some("1".to_string()),
        allowed_resource_actions: b.allowed_resource_actions.iter().map(|s| s.to_string()).collect(),
        inherits_permissions_from: b.inherits_permissions_from.iter().map(|s| s.to_string()).collect(),
    }
}

pub(crate) fn already_initialized() -> ApiError {
    ApiError::new(409, ErrorCode::StoreAlreadyInitialized, "this store already holds a tenant")
        .with_hint(crate::model::Hint::ReplaceTenant)
}

/// What `init` made.
#[derive(Debug, Clone, PartialEq)]
pub struct InitSummary {
    pub tenant_id: String,
    pub domain: String,
    pub break_glass_id: String,
    pub roles: usize,
    pub users: usize,
    pub groups: usize,
}

impl Engine {
    /// Creates the tenant in an empty store.
    pub fn init(&mut self, opts: &InitOptions) -> Result<InitSummary, ApiError> {
        {
            // The check and the seeding share one write transaction, so two processes creating
            // the same new store cannot both seed it.
            let tx = self.store.write()?;
            if tx.meta("tenant_id")?.is_some() {
                return Err(already_initialized());
            }
            let audit = seed_tenant(&tx, opts)?;
            super::commit(tx, audit)?;
        }
        if opts.demo {
            self.seed_demo()?;
        }
        let users = self.objects(PrincipalKind::User)?.len();
        let groups = self.objects(PrincipalKind::Group)?.len();
        Ok(InitSummary {
            tenant_id: self.tenant_id()?,
            domain: opts.domain.clone(),
            break_glass_id: self.default_caller()?,
            roles: BUILTIN_ROLES.len(),
            users,
            groups,
        })
    }

    /// Empties the store so `init` can run again.
    pub fn wipe(&mut self) -> Result<(), ApiError> {
        Ok(self.store.wipe()?)
    }

    fn seed_demo(&mut self) -> Result<(), ApiError> {
        let admin = Session::new(self.default_caller()?);
        let mut ids = std::collections::BTreeMap::new();
        let users = [
            ("Alice Andersen", "alice"),
            ("Ben Bakker", "ben"),
            ("Chloe Dubois", "chloe"),
            ("Dev Patel", "dev"),
            ("Emma Fischer", "emma"),
            ("Farid Haddad", "farid"),
            ("Grace Ito", "grace"),
            ("Hugo Laurent", "hugo"),
            ("Isla Murphy", "isla"),
            ("Jonas Nowak", "jonas"),
            ("Kenji Sato", "kenji"),
            ("Lena Vogel", "lena"),
        ];
        let domain = self.domain()?;
        self.write(|tx, ctx| {
            let mut audit = Audit::none("the demo organisation has no objects");
            let mut make = |new: NewObject| {
                let (o, rows) = create_object(tx, ctx, &admin.caller, new)?;
                audit.append(rows);
                Ok::<_, ApiError>(o)
            };
            for (name, nick) in users {
                let o = make(NewObject {
                    kind: Some(PrincipalKind::User),
                    display_name: name.into(),
                    user_principal_name: Some(format!("{nick}@{domain}")),
                    ..Default::default()
                })?;
                ids.insert(nick.to_string(), o.id);
            }
            for (name, key, assignable, description) in [
                ("Tier-0 Admins", "tier0", true, "Role-assignable group for the identity platform team"),
                ("Helpdesk Tier 1", "helpdesk", true, "Role-assignable group for first-line support"),
                ("PIM Approvers", "approvers", false, "People who approve privileged activations"),
                ("All Staff", "staff", false, "Everyone in the company"),
            ] {
                let o = make(NewObject {
                    kind: Some(PrincipalKind::Group),
                    display_name: name.into(),
                    description: Some(description.into()),
                    is_assignable_to_role: assignable,
                    security_enabled: true,
                    ..Default::default()
                })?;
                ids.insert(key.to_string(), o.id);
            }
            let sp = make(NewObject {
                kind: Some(PrincipalKind::ServicePrincipal),
                display_name: "Nightly Sync Automation".into(),
                ..Default::default()
            })?;
            ids.insert("sync".into(), sp.id);
            let au = make(NewObject {
                kind: Some(PrincipalKind::AdministrativeUnit),
                display_name: "Europe".into(),
                description: Some("Staff based in Europe".into()),
                ..Default::default()
            })?;
            ids.insert("europe".into(), au.id);
            for (group, members) in [
                ("tier0", &["alice", "dev"][..]),
                ("helpdesk", &["ben", "emma", "hugo"][..]),
                ("approvers", &["alice", "dev", "kenji"][..]),
                (
                    "staff",
                    &[
                        "alice", "ben", "chloe", "dev", "emma", "farid", "grace", "hugo", "isla", "jonas",
                        "kenji", "lena",
                    ][..],
                ),
                ("europe", &["emma", "hugo", "lena"][..]),
            ] {
                for m in members {
                    audit.push(add_member(tx, ctx, &admin.caller, &ids[group], &ids[*m], "member")?);
                }
            }
            Ok(((), audit))
        })?;
        self.seed_demo_estate(&admin)?;
        let role = |name: &str| -> String {
            crate::model::builtin_roles::BUILTIN_ROLES
                .iter()
                .find(|r| r.display_name == name)
                .map(|r| r.id.to_string())
                .expect("demo uses built-in role names")
        };
        let europe = format!("/administrativeUnits/{}", ids["europe"]);
        let plan: Vec<(RequestKind, &str, &str, &str, Option<IsoDuration>)> = vec![
            (
                RequestKind::Eligibility,
                "alice",
                "Global Administrator",
                "/",
                Some(IsoDuration::from_days(180)),
            ),
            (RequestKind::Eligibility, "tier0", "Privileged Role Administrator", "/", None),
            (RequestKind::Eligibility, "helpdesk", "Helpdesk Administrator", "/", None),
            (
                RequestKind::Eligibility,
                "chloe",
                "Security Administrator",
                "/",
                Some(IsoDuration::from_days(90)),
            ),
            (
                RequestKind::Eligibility,
                "farid",
                "User Administrator",
                &europe,
                Some(IsoDuration::from_days(365)),
            ),
            (RequestKind::Eligibility, "grace", "Exchange Administrator", "/", None),
            (
                RequestKind::Eligibility,
                "isla",
                "Conditional Access Administrator",
                "/",
                Some(IsoDuration::from_days(60)),
            ),
            (RequestKind::Eligibility, "kenji", "Intune Administrator", "/", None),
            (RequestKind::Eligibility, "lena", "Global Reader", "/", Some(IsoDuration::from_days(10))),
            (RequestKind::Assignment, "chloe", "Security Reader", "/", None),
            (
                RequestKind::Assignment,
                "jonas",
                "Billing Administrator",
                "/",
                Some(IsoDuration::from_days(30)),
            ),
            (RequestKind::Assignment, "sync", "Directory Readers", "/", None),
        ];
        for (kind, who, role_name, scope, duration) in plan {
            let req = NewRequest {
                surface: Surface::Directory,
                kind,
                action: Action::AdminAssign,
                principal_id: ids[who].clone(),
                role_definition_id: role(role_name),
                directory_scope_id: Some(scope.to_string()),
                app_scope_id: None,
                justification: Some(format!("Demo organisation: {role_name} for {who}")),
                schedule_info: Some(ScheduleInfo {
                    start: None,
                    expiration: duration.map(Expiration::after).unwrap_or_else(Expiration::never),
                }),
                ticket_info: None,
                is_validation_only: false,
            };
            self.submit(&admin, &req)?;
        }
        Ok(())
    }
}

impl Engine {
    /// The demo organisation's Azure estate: a management group for the company under the root,
    /// a production and a development subscription, their resource groups, a key vault and a
    /// storage account. Subscription ids are fixed (as real ones are, whatever the seed).
    fn seed_demo_estate(&mut self, admin: &Session) -> Result<(), ApiError> {
        const PROD: &str = "/subscriptions/8a1f3c52-6d0e-4b7a-9c21-5e4d3f2a1b00";
        const DEV: &str = "/subscriptions/3c9e7b14-2f5a-4d68-8e03-b1a2c4d5e6f7";
        let mg = "/providers/Microsoft.Management/managementGroups/contoso";
        let estate: [(String, &str, Option<&str>); 9] = [
            (mg.to_string(), "Contoso", None),
            (PROD.to_string(), "Contoso Production", Some(mg)),
            (DEV.to_string(), "Contoso Development", Some(mg)),
            (format!("{PROD}/resourceGroups/rg-prod-app"), "rg-prod-app", None),
            (format!("{PROD}/resourceGroups/rg-prod-data"), "rg-prod-data", None),
            (format!("{DEV}/resourceGroups/rg-dev-app"), "rg-dev-app", None),
            (
                format!(
                    "{PROD}/resourceGroups/rg-prod-data/providers/Microsoft.KeyVault/vaults/kv-contoso-prod"
                ),
                "kv-contoso-prod",
                None,
            ),
            (
                format!(
                    "{PROD}/resourceGroups/rg-prod-data/providers/Microsoft.Storage/storageAccounts/stcontosoprod"
                ),
                "stcontosoprod",
                None,
            ),
            (
                format!("{DEV}/resourceGroups/rg-dev-app/providers/Microsoft.Web/sites/contoso-dev-web"),
                "contoso-dev-web",
                None,
            ),
        ];
        for (path, name, parent) in estate {
            let new = super::azure_scopes::NewAzureScope {
                path,
                display_name: Some(name.to_string()),
                parent: parent.map(str::to_string),
            };
            self.add_azure_scope(admin, new)?;
        }
        Ok(())
    }
}

/// Sets the clock directly (only `init` does this; everything else advances it).
#[allow(dead_code)]
pub(crate) fn reset_clock(tx: &Tx<'_>, t: Timestamp) -> Result<(), ApiError> {
    set_clock(tx, t)
}
