//! The `ctx` a hook is given besides the request: its plain values, the fields read from the
//! store when a hook first asks (`TenantView`), and what the hooks of one transaction share
//! (`Ctx::hooks`): the hooks attached, read once, and the request's `ctx`, built once for all
//! its events and hooks.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{Value, json};

use crate::model::hook::Hook;
use crate::model::time::format_timestamp;
use crate::model::{Action, ApiError, ScheduleRequest, Timestamp};
use crate::store::Tx;

/// The `ctx` a handler receives. The scope, time, action and kind are plain values; the caller,
/// the principal (with its groups), the role and the policy are read from the store the first time
/// a hook asks for them, then kept. The engine builds it once per request (in one transaction) and
/// hands the same one to every event and hook of that request.
pub struct HookContext {
    /// Distinct for every context built, so a host may convert it once and reuse the conversion.
    pub id: u64,
    /// What the plain fields are made from (`plain`).
    plain: Plain,
    caller_id: String,
    principal_id: String,
    role_id: String,
    /// The request's scope: an Azure role's settings are its scope's.
    scope: Option<String>,
    /// A PIM for Groups request's group, whose directory roles `groupRoles` lists.
    group: Option<String>,
    read: [std::cell::OnceCell<Value>; 5],
}

/// The request's facts `ctx` shows as plain values.
struct Plain {
    scope: Option<String>,
    now: Timestamp,
    action: Action,
    kind: crate::model::RequestKind,
    surface: crate::model::Surface,
    /// A PIM for Groups request's group and relationship, in the group API's names.
    group: Option<(Option<String>, String)>,
    /// An Azure role's scope with the scopes above it, nearest first (what reaches it).
    scope_ancestry: Option<Vec<String>>,
}

impl HookContext {
    /// The fields read on first use, in the order of [`HookContext::field`].
    pub const LAZY: [&'static str; 5] = ["caller", "principal", "role", "policy", "groupRoles"];

    /// The plain fields of `ctx`, each with its value, made from the request's facts where a host
    /// needs them (building them as one JSON object for every request, to be converted again, was
    /// a sixtieth of a request's instructions in the year bench). `None` where this request has no
    /// such field (`groupId` of a directory role's request) or it is null (`scope` of a request
    /// with none).
    pub fn plain(&self) -> [(&'static str, Option<Value>); 8] {
        let p = &self.plain;
        let text = |s: &str| Some(Value::String(s.to_string()));
        [
            ("scope", p.scope.as_deref().and_then(text)),
            ("now", Some(Value::String(format_timestamp(p.now)))),
            ("action", text(p.action.as_str())),
            ("kind", text(p.kind.as_str())),
            ("surface", text(p.surface.as_str())),
            ("groupId", p.group.as_ref().and_then(|(group, _)| group.as_deref()).and_then(text)),
            ("accessId", p.group.as_ref().and_then(|(_, access)| text(access))),
            ("scopeAncestry", p.scope_ancestry.as_ref().map(|chain| json!(chain))),
        ]
    }

    /// A lazily read field of `ctx` (one of [`HookContext::LAZY`]), read through `view` on first
    /// use: `caller` and `principal` as `{id, displayName, userPrincipalName, type, groups}` (just
    /// `{id}` for an unknown one), `role` as `{id, displayName, isBuiltIn, isPrivileged}`, `policy`
    /// as `{id, rules}` (null when there is none).
    pub fn field(&self, name: &str, view: &dyn TenantView) -> Result<&Value, ApiError> {
        let Some(i) = Self::LAZY.iter().position(|f| *f == name) else {
            return Err(ApiError::internal(format!("ctx has no field '{name}'")));
        };
        if let Some(v) = self.read[i].get() {
            return Ok(v);
        }
        let v = match i {
            // A self-service request's caller is its principal: read once.
            0 if self.caller_id == self.principal_id => self.field("principal", view)?.clone(),
            0 => view.principal(&self.caller_id)?,
            1 => view.principal(&self.principal_id)?,
            2 => view.role(&self.role_id)?,
            3 => view.policy(&self.role_id, self.scope.as_deref())?,
            _ => match &self.group {
                Some(group) => view.group_roles(group)?,
                None => Value::Null,
            },
        };
        Ok(self.read[i].get_or_init(|| v))
    }
}

/// A fresh number for a [`HookCall::serial`] or a [`HookContext::id`].
pub(crate) fn next_serial() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Read-only queries a hook may make (`ctx.eligibilities{...}`, `ctx.assignments{...}`,
/// `ctx.groups(principal)`), and the reads behind the lazy fields of [`HookContext`].
pub trait TenantView {
    /// Current eligibilities (in effect now), as plain tables.
    fn eligibilities(&self, principal: Option<&str>, role: Option<&str>) -> Result<Value, ApiError>;
    /// Active assignments in effect now (assigned and activated), as plain tables.
    fn assignments(&self, principal: Option<&str>, role: Option<&str>) -> Result<Value, ApiError>;
    /// The role-assignable groups a principal belongs to.
    fn groups(&self, principal: &str) -> Result<Value, ApiError>;
    /// The policy of a role, `{id, rules}` (null when it has none): a directory role's (the
    /// tenant's), or an Azure role's at `scope`.
    fn policy(&self, role: &str, scope: Option<&str>) -> Result<Value, ApiError>;
    /// A principal by id, with its role-assignable groups (`{id}` alone when it is unknown).
    fn principal(&self, id: &str) -> Result<Value, ApiError>;
    /// A role definition by id (null when it is unknown).
    fn role(&self, id: &str) -> Result<Value, ApiError>;
    /// The directory roles a group is eligible for or holds (eligible first), each once, as
    /// `{id, displayName, isPrivileged}`: where a membership of it leads.
    fn group_roles(&self, group: &str) -> Result<Value, ApiError>;
}

/// The `ctx` a handler receives: its plain values as the request's facts, the rest when a hook
/// reads them.
pub(crate) fn context(
    tx: &Tx<'_>,
    ctx: &super::Ctx,
    q: &ScheduleRequest,
    caller: &str,
) -> Result<HookContext, ApiError> {
    let group = (q.surface == crate::model::Surface::Group)
        .then(|| (q.directory_scope_id.clone(), q.role_definition_id.clone()));
    // What the membership leads to, `groupRoles`, is read when a hook first asks (a lazy field):
    // most hooks never do, and it is two reads of the store.
    let scope_ancestry = match (q.surface, q.directory_scope_id.as_deref()) {
        (crate::model::Surface::AzureResource, Some(scope)) => Some(
            super::azure_access::scope_and_ancestors(tx, scope)?
                .iter()
                .map(|n| n.scope.path().to_string())
                .collect(),
        ),
        _ => None,
    };
    let plain = Plain {
        scope: q.directory_scope_id.clone().or(q.app_scope_id.clone()),
        now: ctx.now,
        action: q.action,
        kind: q.kind,
        surface: q.surface,
        group,
        scope_ancestry,
    };
    Ok(HookContext {
        id: next_serial(),
        plain,
        caller_id: caller.to_string(),
        principal_id: q.principal_id.clone(),
        role_id: q.role_definition_id.clone(),
        scope: q.directory_scope_id.clone(),
        group: if q.surface == crate::model::Surface::Group { q.directory_scope_id.clone() } else { None },
        read: Default::default(),
    })
}

/// What the hooks of one transaction share (`Ctx::hooks`): the hooks attached, read once, and the
/// `ctx` of the request being decided, built once for all its events. Nothing a hook sees can
/// change inside one transaction between two events of the same request (the key holds
/// everything `ctx` is built from; the store's principals, groups, roles and policies are not
/// changed by a request).
#[derive(Clone, Default)]
pub(crate) struct HookCache(Rc<RefCell<CacheState>>);

#[derive(Default)]
struct CacheState {
    hooks: Option<Rc<Vec<Hook>>>,
    context: Option<(ContextKey, Rc<HookContext>)>,
}

/// Everything a `ctx` is built from: the caller, the request's principal, role, scopes, action
/// and kind, and the time.
#[derive(PartialEq)]
struct ContextKey {
    caller: String,
    principal: String,
    role: String,
    directory_scope: Option<String>,
    app_scope: Option<String>,
    action: Action,
    kind: crate::model::RequestKind,
    now: Timestamp,
}

impl ContextKey {
    /// Whether `self` is the key of this request's `ctx` (compared in place: making a key per
    /// hook run, to compare, cost more than comparing).
    fn is_of(&self, ctx: &super::Ctx, q: &ScheduleRequest, caller: &str) -> bool {
        self.caller == caller
            && self.principal == q.principal_id
            && self.role == q.role_definition_id
            && self.directory_scope == q.directory_scope_id
            && self.app_scope == q.app_scope_id
            && self.action == q.action
            && self.kind == q.kind
            && self.now == ctx.now
    }

    fn of(ctx: &super::Ctx, q: &ScheduleRequest, caller: &str) -> ContextKey {
        ContextKey {
            caller: caller.to_string(),
            principal: q.principal_id.clone(),
            role: q.role_definition_id.clone(),
            directory_scope: q.directory_scope_id.clone(),
            app_scope: q.app_scope_id.clone(),
            action: q.action,
            kind: q.kind,
            now: ctx.now,
        }
    }
}

impl HookCache {
    pub(super) fn hooks(&self, tx: &Tx<'_>) -> Result<Rc<Vec<Hook>>, ApiError> {
        if let Some(h) = &self.0.borrow().hooks {
            return Ok(h.clone());
        }
        let hooks = tx.hooks()?;
        self.0.borrow_mut().hooks = Some(hooks.clone());
        Ok(hooks)
    }

    pub(super) fn context(
        &self,
        tx: &Tx<'_>,
        ctx: &super::Ctx,
        q: &ScheduleRequest,
        caller: &str,
    ) -> Result<Rc<HookContext>, ApiError> {
        if let Some((k, c)) = &self.0.borrow().context {
            if k.is_of(ctx, q, caller) {
                return Ok(c.clone());
            }
        }
        let built = Rc::new(context(tx, ctx, q, caller)?);
        self.0.borrow_mut().context = Some((ContextKey::of(ctx, q, caller), built.clone()));
        Ok(built)
    }
}
