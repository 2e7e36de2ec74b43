//! Operations: every command pimlab offers, as one typed layer under every surface.
//!
//! An [`Operation`] is typed arguments (see [`args`]); [`apply`] runs it on the engine for a
//! [`Session`] and gives an [`Outcome`], a typed value. Surfaces are adapters: the command line
//! and the REPL parse an `Operation` with clap and render the outcome as a table or as JSON
//! ([`Outcome::to_json`]); a Lua scenario builds the same `Operation` from a table and receives
//! the JSON as a Lua value; a refusal reaches every surface as the same structured `ApiError`.
//!
//! Nothing here prints. The one thing an operation may need from outside the tenant is a file
//! (`hook add --file`, `--body @FILE`) or, for a picture, a file to write (`timeline --out`);
//! [`Access`] says whether the surface may read or write one (a script may do neither).

mod alerts;
mod apps;
pub mod args;
mod azure;
mod check;
mod clock;
mod directory;
mod forks;
mod fuzz;
mod hooks;
mod outcome;
mod policy;
mod replay;
mod replay_args;
mod report_args;
mod reports;
mod requests;
pub mod values;

use clap::Subcommand;

pub use alerts::{AlertArgs, AlertRefreshArgs, AlertSetArgs, AlertsAction};
pub use args::*;
pub use forks::{DiffArgs, ForkArgs, open_store};
pub use outcome::{
    Forked, FuzzReport, FuzzStep, Outcome, PendingDecision, RequestEvent, ScopeTree, Violation,
};
pub use replay_args::{PolicySpec, ReplayArgs, policy_change};
pub use report_args::*;
pub(crate) use requests::admin_request;

use crate::engine::{Engine, Session};
use crate::model::{ApiError, PrincipalKind};

/// What the surface running an operation may do beyond the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// May read files named in arguments (`--file`, `@FILE`): the command line and the REPL may;
    /// scripts may not (the sandbox promises no file reads).
    pub read_files: bool,
    /// May write files named in arguments (`timeline --out`): the command line and the REPL
    /// may; scripts may not (they get what would have been written as a value).
    pub write_files: bool,
}

impl Access {
    /// The command line and the REPL.
    pub const TERMINAL: Access = Access { read_files: true, write_files: true };
    /// Lua scenarios and REPL Lua lines.
    pub const SCRIPT: Access = Access { read_files: false, write_files: false };
}

/// What a single call may say about its session besides its arguments: the command line's global
/// `--as`, `--no-mfa` and `--auth-context` (a script's `as`, `no_mfa`, `auth_context` keys).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionOptions {
    pub as_principal: Option<String>,
    pub no_mfa: bool,
    pub auth_contexts: Vec<String>,
    /// The application the call comes through (`--app`; a script's `app` key).
    pub app: Option<String>,
}

impl SessionOptions {
    /// The session `base` as these options change it: `--as` a user (only users sign in), and
    /// `--app` the application the call comes through, for that user (delegated) or, without
    /// `--as`, as itself (app-only).
    pub fn session(&self, engine: &mut Engine, base: &Session) -> Result<Session, ApiError> {
        let mut session = base.clone();
        if let Some(p) = &self.as_principal {
            session.caller = apps::signed_in_user(engine, p)?;
        }
        if let Some(app) = &self.app {
            let (sp, client) = engine.client_for(app, self.as_principal.is_some())?;
            if session.is_app_only() || self.as_principal.is_none() {
                session.caller = sp;
            }
            session.client = client;
        }
        session.mfa = session.mfa && !self.no_mfa;
        session.auth_contexts.extend(self.auth_contexts.iter().cloned());
        Ok(session)
    }
}

/// Every operation on a tenant. The command line's grammar embeds this enum, so each variant is
/// also a subcommand (`pimlab eligible assign ...`).
#[derive(Debug, Clone, Subcommand)]
pub enum Operation {
    /// Eligible assignments: who may activate a role.
    Eligible {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Active assignments: who holds a role without activating.
    Active {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Activate one of your eligible roles (selfActivate).
    Activate(ActivateArgs),
    /// End one of your activations early (selfDeactivate).
    Deactivate(SelfArgs),
    /// Ask an administrator to extend one of your expiring assignments (selfExtend).
    Extend(SelfChangeArgs),
    /// Ask an administrator to renew one of your expired assignments (selfRenew).
    Renew(SelfChangeArgs),
    /// List schedule requests.
    Requests(RequestsArgs),
    /// Show, cancel or explain one request.
    Request {
        #[command(subcommand)]
        action: RequestAction,
    },
    /// Requests waiting for a decision, and who may decide them.
    Approvals(ApprovalsArgs),
    /// Approve a request waiting for you (an approval stage, or an administrator's decision).
    Approve(DecisionArgs),
    /// Deny a request waiting for you.
    Deny(DecisionArgs),
    /// The notification outbox: every mail the service would have sent.
    Notifications(NotificationsArgs),
    /// Role definitions.
    Role {
        #[command(subcommand)]
        action: RoleAction,
    },
    /// Role settings (role management policies).
    Policy {
        #[command(subcommand)]
        action: PolicyAction,
    },
    /// Custom policy rules in Lua (see docs/scripting.md).
    Hook {
        #[command(subcommand)]
        action: HookAction,
    },
    /// Users.
    User {
        #[command(subcommand)]
        action: ObjectAction,
    },
    /// Groups.
    Group {
        #[command(subcommand)]
        action: ObjectAction,
    },
    /// Service principals.
    Sp {
        #[command(subcommand)]
        action: ObjectAction,
    },
    /// Applications and the Microsoft Graph permissions they hold.
    App {
        #[command(subcommand)]
        action: AppAction,
    },
    /// Administrative units (scopes).
    Au {
        #[command(subcommand)]
        action: ObjectAction,
    },
    /// The Azure estate: management groups, subscriptions, resource groups and resources.
    Scope {
        #[command(subcommand)]
        action: ScopeAction,
    },
    /// The simulated clock.
    Clock {
        #[command(subcommand)]
        action: Option<ClockAction>,
    },
    /// The audit trail.
    Audit(AuditArgs),
    /// Who holds a role at a scope and time; with --could, who could, and what stands in the way.
    Who(WhoArgs),
    /// Every role a principal holds or could hold at a time, and through what.
    Access(AccessArgs),
    /// Judge Lua properties at every instant of the store's history: the first that breaks each.
    Check(CheckArgs),
    /// Random valid steps on a private copy of the store, checking properties after each; a
    /// violation is shrunk to a Lua script `pimlab run` replays.
    Fuzz(FuzzArgs),
    /// Reports over the store's history.
    Report {
        #[command(subcommand)]
        action: ReportAction,
    },
    /// A Gantt-style picture of a period: eligibility windows, activations, approvals waiting,
    /// refusals and expiries, written as SVG or as a self-contained HTML page.
    Timeline(TimelineArgs),
    /// Copy the store, as of one instant, to a new file (safe while others write to it).
    Fork(ForkArgs),
    /// Who gains and who loses which privilege between two stores of one tenant, when, and why.
    Diff(DiffArgs),
    /// PIM alerts at the tenant's clock: what fires, the affected items and how to fix each.
    Alerts {
        #[command(subcommand)]
        action: Option<AlertsAction>,
    },
    /// Play the store's requests again under other policies (or a hook), on a private copy, and
    /// report which outcomes change.
    Replay(ReplayArgs),
    /// Settings of the lab itself (not of the tenant): the fidelity profile.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

/// Runs one operation for `session`.
pub fn apply(
    engine: &mut Engine,
    session: &Session,
    op: &Operation,
    access: Access,
) -> Result<Outcome, ApiError> {
    apply_with_progress(engine, session, op, access, &crate::model::NoProgress)
}

/// Runs one operation for `session`, reporting how far a long one (a replay, a clock advance)
/// got to `progress`.
pub fn apply_with_progress(
    engine: &mut Engine,
    session: &Session,
    op: &Operation,
    access: Access,
    progress: &dyn crate::model::Progress,
) -> Result<Outcome, ApiError> {
    // pimlab's own client holds every permission: only an application's call is looked up.
    let checked = match session.client {
        crate::engine::Client::FirstParty => Ok(()),
        _ => match apps::needs(engine, op)? {
            Some(needed) => crate::engine::check_access(session, needed),
            None => Ok(()),
        },
    };
    checked
        .and_then(|()| match op {
            Operation::Replay(a) => replay::replay(engine, a, access, progress),
            Operation::Clock { action } => clock::clock(engine, session, action.as_ref(), progress),
            _ => run(engine, session, op, access),
        })
        .map_err(|e| e.during(&format!("running `{}`", op.name())))
}

impl Operation {
    /// Whether this operation only reads the tenant (a listing, a show, an explanation, a hook's
    /// dry run): such an operation must never be what creates a store.
    pub fn is_read_only(&self) -> bool {
        match self {
            Operation::Eligible { action } | Operation::Active { action } => {
                matches!(action, AdminAction::List(_))
            }
            Operation::Requests(_)
            | Operation::Approvals(_)
            | Operation::Notifications(_)
            | Operation::Audit(_)
            | Operation::Who(_)
            | Operation::Access(_)
            | Operation::Check(_)
            | Operation::Fuzz(_)
            | Operation::Report { .. }
            | Operation::Timeline(_)
            | Operation::Fork(_)
            | Operation::Diff(_)
            | Operation::Replay(_) => true,
            Operation::Request { action } => !matches!(action, RequestAction::Cancel(_)),
            Operation::Role { action } => matches!(action, RoleAction::List(_) | RoleAction::Show(_)),
            Operation::Policy { action } => matches!(action, PolicyAction::Show(_)),
            Operation::Hook { action } => {
                matches!(action, HookAction::List | HookAction::Show(_) | HookAction::Test(_))
            }
            Operation::User { action }
            | Operation::Group { action }
            | Operation::Sp { action }
            | Operation::Au { action } => {
                matches!(action, ObjectAction::List | ObjectAction::Show(_) | ObjectAction::Members(_))
            }
            Operation::Clock { action } => matches!(action, None | Some(ClockAction::Show)),
            Operation::Alerts { action } => matches!(action, None | Some(AlertsAction::Config)),
            Operation::Scope { action } => !matches!(action, ScopeAction::Add(_)),
            Operation::App { action } => matches!(action, AppAction::Show(_)),
            Operation::Config { action: ConfigAction::Fidelity { action } } => {
                matches!(action, None | Some(FidelityAction::Show))
            }
            Operation::Activate(_)
            | Operation::Deactivate(_)
            | Operation::Extend(_)
            | Operation::Renew(_)
            | Operation::Approve(_)
            | Operation::Deny(_) => false,
        }
    }

    /// The command that names this operation (`eligible assign`), for messages.
    pub fn name(&self) -> String {
        fn admin(a: &AdminAction) -> &'static str {
            match a {
                AdminAction::Assign(_) => "assign",
                AdminAction::Update(_) => "update",
                AdminAction::Remove(_) => "remove",
                AdminAction::Extend(_) => "extend",
                AdminAction::Renew(_) => "renew",
                AdminAction::List(_) => "list",
            }
        }
        match self {
            Operation::Eligible { action } => format!("eligible {}", admin(action)),
            Operation::Active { action } => format!("active {}", admin(action)),
            Operation::Activate(_) => "activate".into(),
            Operation::Deactivate(_) => "deactivate".into(),
            Operation::Extend(_) => "extend".into(),
            Operation::Renew(_) => "renew".into(),
            Operation::Requests(_) => "requests".into(),
            Operation::Request { .. } => "request".into(),
            Operation::Approvals(_) => "approvals".into(),
            Operation::Approve(_) => "approve".into(),
            Operation::Deny(_) => "deny".into(),
            Operation::Notifications(_) => "notifications".into(),
            Operation::Role { .. } => "role".into(),
            Operation::Policy { .. } => "policy".into(),
            Operation::Hook { .. } => "hook".into(),
            Operation::User { .. } => "user".into(),
            Operation::Group { .. } => "group".into(),
            Operation::Sp { .. } => "sp".into(),
            Operation::App { .. } => "app".into(),
            Operation::Au { .. } => "au".into(),
            Operation::Clock { .. } => "clock".into(),
            Operation::Scope { .. } => "scope".into(),
            Operation::Audit(_) => "audit".into(),
            Operation::Who(_) => "who".into(),
            Operation::Access(_) => "access".into(),
            Operation::Check(_) => "check".into(),
            Operation::Fuzz(_) => "fuzz".into(),
            Operation::Report { action: ReportAction::Activity(_) } => "report activity".into(),
            Operation::Timeline(_) => "timeline".into(),
            Operation::Fork(_) => "fork".into(),
            Operation::Diff(_) => "diff".into(),
            Operation::Alerts { .. } => "alerts".into(),
            Operation::Replay(_) => "replay".into(),
            Operation::Config { .. } => "config".into(),
        }
    }
}

fn run(engine: &mut Engine, session: &Session, op: &Operation, access: Access) -> Result<Outcome, ApiError> {
    use crate::model::RequestKind::{Assignment, Eligibility};
    match op {
        Operation::Eligible { action } => requests::admin(engine, session, Eligibility, action),
        Operation::Active { action } => requests::admin(engine, session, Assignment, action),
        Operation::Activate(a) => requests::activate(engine, session, a),
        Operation::Deactivate(a) => requests::deactivate(engine, session, a),
        Operation::Extend(a) => requests::self_change(engine, session, crate::model::Action::SelfExtend, a),
        Operation::Renew(a) => requests::self_change(engine, session, crate::model::Action::SelfRenew, a),
        Operation::Requests(a) => requests::list_requests(engine, session, a),
        Operation::Request { action } => requests::request(engine, session, action),
        Operation::Approvals(a) => requests::approvals(engine, session, a),
        Operation::Approve(a) => {
            requests::decide(engine, session, a, crate::model::approval::Decision::Approve)
        }
        Operation::Deny(a) => requests::decide(engine, session, a, crate::model::approval::Decision::Deny),
        Operation::Notifications(a) => clock::notifications(engine, a),
        Operation::Role { action } => directory::role(engine, session, action),
        Operation::Policy { action } => policy::policy(engine, session, action, access),
        Operation::Hook { action } => hooks::hook(engine, session, action, access),
        Operation::User { action } => directory::objects(engine, session, PrincipalKind::User, action),
        Operation::Group { action } => directory::objects(engine, session, PrincipalKind::Group, action),
        Operation::Sp { action } => {
            directory::objects(engine, session, PrincipalKind::ServicePrincipal, action)
        }
        Operation::Au { action } => {
            directory::objects(engine, session, PrincipalKind::AdministrativeUnit, action)
        }
        Operation::Clock { action } => {
            clock::clock(engine, session, action.as_ref(), &crate::model::NoProgress)
        }
        Operation::Scope { action } => azure::scope(engine, session, action),
        Operation::App { action } => apps::app(engine, session, action),
        Operation::Audit(a) => clock::audit(engine, a),
        Operation::Who(a) => reports::who(engine, a),
        Operation::Access(a) => reports::access(engine, a),
        Operation::Check(a) => check::check(engine, session, a, access),
        Operation::Fuzz(a) => fuzz::fuzz(engine, session, a, access),
        Operation::Report { action: ReportAction::Activity(a) } => reports::activity(engine, a),
        Operation::Timeline(a) => reports::timeline(engine, a, access),
        Operation::Fork(a) => forks::fork(engine, a, access),
        Operation::Diff(a) => forks::diff(a, access),
        Operation::Alerts { action } => alerts::alerts(engine, session, action.as_ref()),
        Operation::Replay(a) => replay::replay(engine, a, access, &crate::model::NoProgress),
        Operation::Config { action: ConfigAction::Fidelity { action } } => {
            clock::fidelity(engine, session, action.as_ref())
        }
    }
}

/// A scope as commands take it: `/`, a path, or an administrative unit (or other object) by name
/// or id.
pub fn scope(engine: &mut Engine, text: &str) -> Result<String, ApiError> {
    if text.starts_with('/') {
        return Ok(text.to_string());
    }
    let o = engine.resolve_object(text)?;
    Ok(match o.kind {
        PrincipalKind::AdministrativeUnit => format!("/administrativeUnits/{}", o.id),
        _ => format!("/{}", o.id),
    })
}

/// The Azure scope `text` names, if it names one: an ARM path (`/subscriptions/...`,
/// `/providers/Microsoft.Management/...`, any spelling ARM accepts), or the name of a scope of the
/// estate that is not also a directory object's (a directory scope wins a name both have).
pub fn azure_scope(engine: &mut Engine, text: &str) -> Result<Option<String>, ApiError> {
    let lower = text.trim().trim_start_matches('/').to_ascii_lowercase();
    if lower.starts_with("subscriptions/") || lower.starts_with("providers/") {
        return Ok(Some(engine.azure_scope(text)?.0.scope.path().to_string()));
    }
    if text.starts_with('/') || engine.resolve_object(text).is_ok() {
        return Ok(None);
    }
    Ok(engine.azure_scope(text).ok().map(|(n, _, _)| n.scope.path().to_string()))
}

/// JSON given inline, or `@FILE` where the surface may read files.
pub fn body_text(text: &str, access: Access) -> Result<String, ApiError> {
    match text.strip_prefix('@') {
        Some(path) => read_file(std::path::Path::new(path), "body", access),
        None => Ok(text.to_string()),
    }
}

/// Reads a file an argument names, if the surface may.
pub fn read_file(path: &std::path::Path, what: &str, access: Access) -> Result<String, ApiError> {
    if !access.read_files {
        return Err(ApiError::usage(format!(
            "scripts cannot read files ('{}'); give the {what} itself",
            path.display()
        )));
    }
    std::fs::read_to_string(path)
        .map_err(|e| ApiError::usage(format!("cannot read {what} file '{}': {e}", path.display())))
}
