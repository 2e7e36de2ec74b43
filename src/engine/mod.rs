//! Every business rule: the request lifecycle, policy evaluation, the simulated clock and its due
//! events, the catalog and the seeded tenant.
//!
//! The engine owns the store. Each state change runs in one write transaction (`Engine::write`)
//! whose closure returns its value and its audit rows ([`audit::Audit`]); the rows are written
//! just before the commit, so no write commits without stating what it did. A refused request is
//! undone and leaves only its audit row (`Engine::write_or_refuse`); other refused writes leave
//! nothing. Time comes from the store's simulated clock and ids from its seeded
//! generator: nothing here reads the wall clock or a global random source.

mod alerts;
mod approvals;
mod audit;
mod azure_access;
pub use azure_access::as_definition as azure_role_definition;
pub use calling::check_access;
mod azure_policies;
mod azure_roles;
pub mod azure_scopes;
mod calling;
mod clock;
mod direct;
mod directory;
pub mod extension;
pub mod fidelity;
mod group_access;
mod group_policies;
mod history;
mod hook_admin;
mod hook_context;
mod import;
mod lifecycle;
mod lockout;
mod marks;
mod notify;
mod policies;
mod profile;
mod provision;
mod queries;
mod records;
mod rewind;
mod roles;
mod seed;
mod target;
mod validate;

use crate::model::ErrorCode;
use std::path::Path;
use std::rc::Rc;

use crate::model::time::{from_millis, to_millis};
use crate::model::{ApiError, Timestamp, ids};
use crate::store::{Store, StoreError, Tx};
use audit::{Audit, Audited};

pub use alerts::{AlertChange, AlertFacts, AlertState, Dismissal};
pub use clock::AdvanceReport;
pub use directory::NewObject;
pub use extension::{Hook, HookCall, HookDecision, HookEvent, HookFailure, HookRunner, RequestProperties};
pub use history::Refusal;
pub use hook_admin::HandlerVerdict;
pub use hook_context::{HookContext, TenantView};
pub use import::{Change, TenantFacts};
pub use marks::Mark;
pub use policies::PolicyChange;
pub use queries::{AuditQuery, AuditedBy, RequestFilter};
pub(crate) use records::request_not_found;
pub use roles::{NewRole, RoleChange};
pub use seed::InitOptions;

/// Who is calling, and what their session proves.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The caller's object id: the signed-in user, or, for an app-only call, the application's
    /// service principal.
    pub caller: String,
    /// The session satisfied multi-factor authentication.
    pub mfa: bool,
    /// Authentication-context claims (`c1`, ...) the session carries.
    pub auth_contexts: Vec<String>,
    /// The application the call is made through, and the permissions it brings.
    pub client: Client,
}

impl Session {
    pub fn new(caller: impl Into<String>) -> Self {
        Session { caller: caller.into(), mfa: true, auth_contexts: Vec::new(), client: Client::FirstParty }
    }

    /// Whether an application calls as itself, with no signed-in user.
    pub fn is_app_only(&self) -> bool {
        matches!(self.client, Client::AppOnly { .. })
    }
}

/// The application a session calls through (issue 11: the calling context).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Client {
    /// pimlab's own first-party client, consented for every delegated scope PIM uses: what a
    /// session has always been (`--as USER` without `--app`). Only the directory roles of the
    /// user decide what it may do.
    #[default]
    FirstParty,
    /// A service principal of the tenant acting for the signed-in user (`--as USER --app SP`),
    /// with the delegated scopes it was granted.
    Delegated { app: String, scopes: Vec<String> },
    /// A service principal acting as itself (`--app SP`), with the application permissions it was
    /// granted; the session's caller is the service principal.
    AppOnly { app: String, roles: Vec<String> },
}

/// The pimlab engine over one store.
pub struct Engine {
    store: Store,
    runner: Option<Rc<dyn HookRunner>>,
    /// Calls answered so far by this engine (see [`Engine::next_call`]).
    calls: std::cell::Cell<u64>,
    /// A time operations read instead of the simulated clock, while a dry run asks "as if it
    /// were" then (set only inside [`Engine::test_hook`]).
    clock_override: Option<Timestamp>,
}

/// Facts every operation in a transaction reads once.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub now: Timestamp,
    pub tenant_id: String,
    pub seed: u64,
    /// Which of the store's fidelity switches are on (see `model::fidelity`).
    pub fidelity: crate::model::FidelityProfile,
    /// Runs policy hooks, when a host for them is installed.
    pub runner: Option<Rc<dyn HookRunner>>,
    /// What the hooks of this transaction share (the hooks attached, the request's `ctx`).
    pub hooks: hook_context::HookCache,
}

impl Ctx {
    /// The same context at another instant (the clock moving through due events).
    pub fn at(&self, now: Timestamp) -> Ctx {
        Ctx { now, ..self.clone() }
    }
}

impl Engine {
    /// Opens the store at `path` (creating the file and schema if needed; not seeding it).
    pub fn open(path: &Path) -> Result<Engine, StoreError> {
        Ok(Engine {
            store: Store::open(path)?,
            runner: None,
            calls: Default::default(),
            clock_override: None,
        })
    }

    /// A fresh in-memory store.
    pub fn in_memory() -> Result<Engine, StoreError> {
        Ok(Engine {
            store: Store::open_in_memory()?,
            runner: None,
            calls: Default::default(),
            clock_override: None,
        })
    }

    /// Writes a consistent copy of this engine's store to a new file at `dest` (`pimlab fork`):
    /// as of one instant, even while another process writes the original.
    /// Inside a rolling batch, what the batch holds is committed first, so the copy holds it.
    pub fn fork_to(&self, dest: &Path) -> Result<(), StoreError> {
        self.store.copy_to(dest)
    }

    /// A private in-memory copy of this engine's store, with the same hook runner: what-if runs
    /// and replays change it, never the original.
    pub fn fork_in_memory(&self) -> Result<Engine, StoreError> {
        Ok(Engine {
            store: self.store.copy_in_memory()?,
            runner: self.runner.clone(),
            calls: Default::default(),
            clock_override: None,
        })
    }

    /// The number of this call among the calls this engine has answered (0, 1, 2, ...): with the
    /// simulated time, it tells apart two identical calls in one session, reproducibly, without
    /// writing to the store (a read must not consume the store's id generator).
    pub fn next_call(&self) -> u64 {
        let n = self.calls.get();
        self.calls.set(n + 1);
        n
    }

    pub fn is_initialized(&mut self) -> Result<bool, ApiError> {
        Ok(self.store.is_initialized()?)
    }

    /// Runs `f` in a write transaction and commits what it did with the audit rows it returns
    /// (ARCHITECTURE.md, invariant 3). An error rolls everything back and leaves no row.
    pub(crate) fn write<T>(
        &mut self,
        f: impl FnOnce(&Tx<'_>, &Ctx) -> Result<Audited<T>, ApiError>,
    ) -> Result<T, ApiError> {
        let tx = self.store.write()?;
        let ctx = load_ctx(&tx, &self.runner, self.clock_override)?;
        let (value, audit) = f(&tx, &ctx)?;
        commit(tx, audit)?;
        Ok(value)
    }

    /// Runs `f` as [`Engine::write`] does, except that a refusal (an error below 500) is recorded:
    /// what `f` did is rolled back, and the rows `refusal` makes of the error are committed in a
    /// transaction of their own, by the same path as every other write. An internal error (500
    /// and above) rolls everything back and leaves no row.
    ///
    /// Not a savepoint around `f`: SQLite copies every page a savepoint touches into a statement
    /// journal, which cost an eighth of every accepted request to serve the rare refused one.
    pub(crate) fn write_or_refuse<T>(
        &mut self,
        f: impl FnOnce(&Tx<'_>, &Ctx) -> Result<Audited<T>, ApiError>,
        refusal: impl FnOnce(&Tx<'_>, &Ctx, &ApiError) -> Result<Audit, ApiError>,
    ) -> Result<T, ApiError> {
        let error = {
            let tx = self.store.write()?;
            let ctx = load_ctx(&tx, &self.runner, self.clock_override)?;
            match f(&tx, &ctx) {
                Ok((value, audit)) => {
                    commit(tx, audit)?;
                    return Ok(value);
                }
                Err(e) if e.status < 500 => e,
                Err(e) => return Err(e),
            }
            // Dropping `tx` here rolls back what `f` did.
        };
        let tx = self.store.write()?;
        let ctx = load_ctx(&tx, &self.runner, self.clock_override)?;
        let audit = refusal(&tx, &ctx, &error)?;
        commit(tx, audit)?;
        Err(error)
    }

    /// Runs `f` in a write transaction that is never committed: every check runs against the
    /// store as it is, and nothing (no row, no id, no audit row) is kept. Validation-only
    /// requests use it.
    pub(crate) fn rehearse<T>(
        &mut self,
        f: impl FnOnce(&Tx<'_>, &Ctx) -> Result<Audited<T>, ApiError>,
    ) -> Result<T, ApiError> {
        let tx = self.store.write()?;
        let ctx = load_ctx(&tx, &self.runner, self.clock_override)?;
        let (value, _discarded) = f(&tx, &ctx)?;
        drop(tx);
        Ok(value)
    }

    /// Runs `f` on a consistent read snapshot.
    pub(crate) fn read<T>(
        &mut self,
        f: impl FnOnce(&Tx<'_>, &Ctx) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let tx = self.store.read()?;
        let ctx = load_ctx(&tx, &self.runner, self.clock_override)?;
        f(&tx, &ctx)
    }

    /// Runs `f` on a consistent read snapshot without reading the tenant's facts first: for
    /// resolving names and ids, which every call of a script does before its real work. A
    /// refusal from a store with no tenant yet says so, as `read` would.
    pub(crate) fn lookup<T>(
        &mut self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let tx = self.store.read()?;
        match f(&tx) {
            Ok(value) => Ok(value),
            Err(e) => {
                load_ctx(&tx, &self.runner, self.clock_override)?;
                Err(e)
            }
        }
    }

    /// Loads a property file through the hook host (the Lua sandbox): see
    /// [`HookRunner::properties`].
    pub fn properties(
        &self,
        file: &str,
        source: &str,
    ) -> Result<Box<dyn crate::model::property::Judge>, ApiError> {
        match &self.runner {
            Some(runner) => runner.properties(file, source),
            None => {
                Err(ApiError::usage(format!("no Lua host is installed to run the properties of '{file}'")))
            }
        }
    }

    /// Installs the host that runs policy hooks (the Lua sandbox of `crate::hooks`). Without
    /// one, a tenant with hooks refuses the requests they would judge.
    pub fn set_hook_runner(&mut self, runner: Rc<dyn HookRunner>) {
        self.runner = Some(runner);
    }

    /// Runs `f` with all its store changes in one transaction: each operation still succeeds or
    /// fails alone (a savepoint each), but they share one commit. Graph's `$batch` uses it.
    pub fn batch<T>(&mut self, f: impl FnOnce(&mut Engine) -> T) -> Result<T, ApiError> {
        let opened = self.store.begin_batch(crate::store::Batch::Savepoints)?;
        let value = f(self);
        if opened {
            self.store.end_batch(true)?;
        }
        Ok(value)
    }

    /// Runs `f` with all its store changes in one transaction, kept only if `f` succeeds: for a
    /// write made of several steps that must happen whole or not at all, with no other process
    /// in between (a clock advance). Inside an open batch, `f` is part of the batch.
    ///
    /// The writes inside are not savepoints (which copy every page they touch into a statement
    /// journal): a failed one is undone only with the whole, so `f` must return every error it
    /// meets, never carry on past one (and must not use `write_or_refuse`, which keeps a refusal).
    pub(crate) fn atomically<T>(
        &mut self,
        f: impl FnOnce(&mut Engine) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let opened = self.store.begin_batch(crate::store::Batch::Whole)?;
        let result = f(self);
        if opened {
            self.store.end_batch(result.is_ok())?;
        }
        result
    }

    /// Runs `f` as [`Engine::atomically`] would, then discards everything it did, whatever it
    /// returned: a dry run (`import --dry-run`, `apply --what-if`) that reports exactly what the
    /// real run would do. Refused inside an open batch, which could not be undone alone.
    pub(crate) fn trial<T>(
        &mut self,
        f: impl FnOnce(&mut Engine) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let opened = self.store.begin_batch(crate::store::Batch::Whole)?;
        if !opened {
            return Err(ApiError::internal("a dry run cannot start inside an open batch"));
        }
        let result = f(self);
        self.store.end_batch(false)?;
        result
    }

    /// Runs `f` as [`Engine::batch`] does (each write a savepoint that succeeds or fails alone,
    /// so one refused item does not stop the rest), in one transaction that is kept only when
    /// `keep` is true and `f` succeeded: `apply` keeps it, `apply --what-if` runs the same items
    /// and discards them. Refused inside an open batch, which could not be undone alone.
    pub(crate) fn items_batch<T>(
        &mut self,
        keep: bool,
        f: impl FnOnce(&mut Engine) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let opened = self.store.begin_batch(crate::store::Batch::Savepoints)?;
        if !opened {
            return Err(ApiError::internal("a run of items cannot start inside an open batch"));
        }
        let result = f(self);
        self.store.end_batch(keep && result.is_ok())?;
        result
    }

    /// Runs a scenario's operations in a rolling batch (`store/rolling.rs`): from now until
    /// [`Engine::end_rolling`], writes share transactions, committed every few thousand
    /// operations, each write still a savepoint that succeeds or fails alone, and each engine
    /// batch inside (a clock advance) a savepoint that succeeds or fails whole. Returns whether
    /// this call started it.
    pub fn begin_rolling(&mut self) -> Result<bool, ApiError> {
        Ok(self.store.begin_rolling()?)
    }

    /// Ends the rolling batch, committing what it holds.
    pub fn end_rolling(&mut self) -> Result<(), ApiError> {
        Ok(self.store.end_rolling()?)
    }

    /// After a panic was caught mid-operation (a bug): whatever batch was open is discarded, so
    /// the next operation starts from the store as it was before that batch (an engine batch
    /// inside a scenario's rolling batch is discarded alone, as when it ran on its own).
    pub fn recover_from_panic(&mut self) {
        let _ = self.store.end_batch(false);
    }

    /// The simulated time.
    pub fn now(&mut self) -> Result<Timestamp, ApiError> {
        self.read(|_, ctx| Ok(ctx.now))
    }

    /// The store's seed (scripts seed their random numbers from it).
    pub fn seed(&mut self) -> Result<u64, ApiError> {
        self.read(|_, ctx| Ok(ctx.seed))
    }

    pub fn tenant_id(&mut self) -> Result<String, ApiError> {
        self.read(|_, ctx| Ok(ctx.tenant_id.clone()))
    }

    /// The tenant's domain (for user principal names).
    pub fn domain(&mut self) -> Result<String, ApiError> {
        self.read(|tx, _| Ok(tx.meta("domain")?.unwrap_or_default()))
    }

    /// The store's default caller: its break-glass administrator.
    pub fn default_caller(&mut self) -> Result<String, ApiError> {
        self.read(|tx, _| {
            tx.meta("default_caller")?.ok_or_else(|| {
                ApiError::new(500, ErrorCode::InternalServerError, "the store has no default caller")
            })
        })
    }
}

/// The one way a write ends: its audit rows, then the commit, in the same transaction. `Audit`
/// has no empty default, so every write has stated what it did before it gets here.
fn commit(tx: Tx<'_>, audit: Audit) -> Result<(), ApiError> {
    audit.write(&tx)?;
    tx.commit()?;
    Ok(())
}

/// The facts every operation reads once; `clock_override`, when set, stands in for the simulated
/// clock (a dry run "as if it were" another time; see [`Engine::test_hook`]).
fn load_ctx(
    tx: &Tx<'_>,
    runner: &Option<Rc<dyn HookRunner>>,
    clock_override: Option<Timestamp>,
) -> Result<Ctx, ApiError> {
    let (tenant_id, clock, seed, fidelity) = tx.tenant_facts()?;
    let Some(tenant_id) = tenant_id else {
        return Err(ApiError::new(409, ErrorCode::StoreNotInitialized, "this store has no tenant yet")
            .with_hint(crate::model::Hint::InitTenant));
    };
    // A value that does not parse is a damaged store: say so rather than read it as 1970 or 0.
    let damaged = |key: &str, value: &str| {
        ApiError::internal(format!(
            "the store's {key} ('{value}' in its meta table) is not a number; the store is damaged"
        ))
    };
    let now = match clock {
        None => 0,
        Some(v) => v.parse::<i64>().map_err(|_| damaged("clock", &v))?,
    };
    let seed = match seed {
        None => 0,
        Some(v) => v.parse::<u64>().map_err(|_| damaged("seed", &v))?,
    };
    // An older pimlab let the clock run past the calendar Graph knows; date arithmetic there
    // would overflow, so such a store is refused rather than half-used.
    if now > crate::model::time::LATEST_MILLIS {
        return Err(ApiError::internal(format!(
            "the store's clock ({now} ms after 1970) is past {}, the latest time pimlab supports",
            crate::model::time::format_timestamp(crate::model::time::latest())
        ))
        .with_hint(crate::model::Hint::StartAfresh));
    }
    let fidelity = crate::model::FidelityProfile::from_stored(fidelity.as_deref().unwrap_or("")).map_err(|name| {
        ApiError::internal(format!(
            "the store's fidelity profile turns on '{name}', a switch this pimlab does not know (it knows {}); a newer pimlab wrote it",
            crate::model::FidelitySwitch::names()
        ))
    })?;
    let now = clock_override.unwrap_or_else(|| from_millis(now));
    Ok(Ctx { now, tenant_id, seed, fidelity, runner: runner.clone(), hooks: Default::default() })
}

/// Takes the next id from the store's seeded generator (inside the caller's transaction, so a
/// rolled-back request does not consume one).
pub(crate) fn new_id(tx: &Tx<'_>, ctx: &Ctx) -> Result<String, ApiError> {
    let n = tx.bump_counter("next_id")?;
    Ok(ids::nth_guid(ctx.seed, n))
}

/// The id the next `new_id` will give, without taking it (what a request is about to be called).
pub(crate) fn peek_id(tx: &Tx<'_>, ctx: &Ctx) -> Result<String, ApiError> {
    let n = tx.meta("next_id")?.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Ok(ids::nth_guid(ctx.seed, n))
}

pub(crate) fn set_clock(tx: &Tx<'_>, t: Timestamp) -> Result<(), ApiError> {
    tx.set_meta("clock", &to_millis(t).to_string())?;
    Ok(())
}
