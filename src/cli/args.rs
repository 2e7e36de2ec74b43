//! The command-line grammar. The REPL (later) parses the same grammar, line by line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// pimlab: a local laboratory for Microsoft Entra Privileged Identity Management.
#[derive(Debug, Parser)]
#[command(name = "pimlab", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// The store: one SQLite file per tenant, created and seeded on first use [default: pimlab.db;
    /// `run` uses a private in-memory store unless --db is given].
    #[arg(long, global = true, env = "PIMLAB_DB")]
    pub db: Option<PathBuf>,

    /// Act as this principal (id, user principal name or display name) instead of the break-glass admin.
    #[arg(long = "as", global = true, value_name = "PRINCIPAL")]
    pub as_principal: Option<String>,

    /// The session did not satisfy multi-factor authentication.
    #[arg(long, global = true)]
    pub no_mfa: bool,

    /// Authentication-context claims the session carries (e.g. c1); repeatable.
    #[arg(long = "auth-context", global = true, value_name = "CLAIM")]
    pub auth_contexts: Vec<String>,

    /// Print Graph JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,

    /// Without a command, pimlab opens the REPL.
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The store file: --db, PIMLAB_DB, or ./pimlab.db.
    pub fn store_path(&self) -> PathBuf {
        self.db.clone().unwrap_or_else(|| PathBuf::from("pimlab.db"))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the tenant: built-in roles, default policies, a break-glass Global Administrator.
    Init(InitArgs),
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
    Approvals {
        /// Only those the caller may decide.
        #[arg(long)]
        mine: bool,
    },
    /// Approve a request waiting for you (an approval stage, or an administrator's decision).
    Approve(DecisionArgs),
    /// Deny a request waiting for you.
    Deny(DecisionArgs),
    /// The notification outbox: every mail the service would have sent.
    Notifications {
        /// Only messages to this principal (id, user principal name or display name).
        #[arg(long, value_name = "PRINCIPAL")]
        to: Option<String>,
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Print each message's body too.
        #[arg(long)]
        full: bool,
    },
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
    /// Administrative units (scopes).
    Au {
        #[command(subcommand)]
        action: ObjectAction,
    },
    /// The simulated clock.
    Clock {
        #[command(subcommand)]
        action: Option<ClockAction>,
    },
    /// The audit trail.
    Audit(AuditArgs),
    /// Send one Microsoft Graph request through the router, as a real client would.
    Graph(GraphArgs),
    /// Run a Lua scenario script (an in-memory store unless --db is given).
    Run(RunArgs),
    /// Open the interactive shell (also what `pimlab` alone does).
    Repl,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The script.
    pub script: PathBuf,
    /// Seed of the new tenant [default: 1]; with --db, only when the store is new.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Start of the new tenant's clock; with --db, only when the store is new.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Give the new tenant the demonstration organisation; with --db, only when the store is new.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Args)]
pub struct DecisionArgs {
    /// The request (its approval has the same id).
    pub id: String,
    #[arg(long, short)]
    pub justification: Option<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Add a small demonstration organisation.
    #[arg(long)]
    pub demo: bool,
    /// Seed of the id generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Start of the simulated clock (ISO 8601).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// The tenant's domain.
    #[arg(long, default_value = "contoso.example")]
    pub domain: String,
    /// Replace an existing tenant in this store.
    #[arg(long)]
    pub force: bool,
}

/// When a schedule starts and ends.
#[derive(Debug, Args, Clone, Default)]
pub struct ScheduleArgs {
    /// Start time (ISO 8601); default now.
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,
    /// Length (ISO 8601 such as PT8H or P90D, or 8h, 90d).
    #[arg(long, value_name = "DURATION", conflicts_with_all = ["until", "permanent"])]
    pub duration: Option<String>,
    /// End time (ISO 8601).
    #[arg(long, value_name = "TIME", conflicts_with = "permanent")]
    pub until: Option<String>,
    /// No expiration.
    #[arg(long)]
    pub permanent: bool,
}

#[derive(Debug, Args, Clone)]
pub struct TargetArgs {
    /// Principal: id, user principal name or display name.
    #[arg(long, short)]
    pub principal: String,
    /// Role: id or display name.
    #[arg(long, short)]
    pub role: String,
    /// Scope: "/" (tenant), an administrative unit's name or id, or a directory scope path.
    #[arg(long, default_value = "/")]
    pub scope: String,
}

#[derive(Debug, Args, Clone)]
pub struct RequestOptions {
    #[arg(long, short)]
    pub justification: Option<String>,
    /// Ticket as SYSTEM:NUMBER (e.g. ServiceNow:INC0012345).
    #[arg(long, value_name = "SYSTEM:NUMBER")]
    pub ticket: Option<String>,
    /// Run every check and store nothing (isValidationOnly).
    #[arg(long)]
    pub validate_only: bool,
}

#[derive(Debug, Subcommand)]
pub enum AdminAction {
    /// Create (adminAssign).
    Assign(AdminArgs),
    /// Replace the schedule of an existing one (adminUpdate).
    Update(AdminArgs),
    /// Remove (adminRemove).
    Remove(AdminArgs),
    /// Extend one that is about to expire (adminExtend).
    Extend(AdminArgs),
    /// Renew one that has expired (adminRenew).
    Renew(AdminArgs),
    /// List current and future ones.
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct AdminArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub schedule: ScheduleArgs,
    #[command(flatten)]
    pub options: RequestOptions,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long, short)]
    pub principal: Option<String>,
    #[arg(long, short)]
    pub role: Option<String>,
    /// Only those in effect now (instances), not future ones.
    #[arg(long)]
    pub now: bool,
}

#[derive(Debug, Args)]
pub struct ActivateArgs {
    #[arg(long, short)]
    pub role: String,
    #[arg(long, default_value = "/")]
    pub scope: String,
    /// Activate for a role-assignable group you belong to, rather than for yourself.
    #[arg(long, value_name = "GROUP")]
    pub for_group: Option<String>,
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,
    /// Length (default: the role's maximum activation duration).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    #[command(flatten)]
    pub options: RequestOptions,
}

#[derive(Debug, Args)]
pub struct SelfArgs {
    #[arg(long, short)]
    pub role: String,
    #[arg(long, default_value = "/")]
    pub scope: String,
    #[arg(long, value_name = "GROUP")]
    pub for_group: Option<String>,
    #[command(flatten)]
    pub options: RequestOptions,
}

#[derive(Debug, Args)]
pub struct SelfChangeArgs {
    #[arg(long, short)]
    pub role: String,
    #[arg(long, default_value = "/")]
    pub scope: String,
    /// The active assignment rather than the eligibility.
    #[arg(long)]
    pub active: bool,
    #[command(flatten)]
    pub schedule: ScheduleArgs,
    #[command(flatten)]
    pub options: RequestOptions,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Eligible,
    Active,
}

#[derive(Debug, Args)]
pub struct RequestsArgs {
    /// Only requests still waiting: for a decision, or for their start time (Granted).
    #[arg(long)]
    pub pending: bool,
    /// Only requests for the caller.
    #[arg(long)]
    pub mine: bool,
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    #[arg(long, short)]
    pub principal: Option<String>,
    #[arg(long, short)]
    pub role: Option<String>,
    /// A status such as Provisioned or PendingApproval.
    #[arg(long)]
    pub status: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RequestAction {
    /// Show one request.
    Show { id: String },
    /// Cancel a Granted or pending request.
    Cancel { id: String },
    /// Tell the story of a request: every check, the value seen, the limit, the outcome.
    Explain { id: String },
}

#[derive(Debug, Subcommand)]
pub enum RoleAction {
    /// List role definitions.
    List {
        /// Only roles labelled privileged.
        #[arg(long)]
        privileged: bool,
    },
    /// Show one role definition.
    Show { role: String },
    /// Create a custom role definition (with its own policy at the defaults).
    Add {
        name: String,
        /// Allowed resource action, e.g. microsoft.directory/users/basic/update; repeatable.
        #[arg(long = "action", value_name = "ACTION", required = true)]
        actions: Vec<String>,
        #[arg(long)]
        description: Option<String>,
        /// Create it disabled (not assignable).
        #[arg(long)]
        disabled: bool,
    },
    /// Delete a custom role definition nobody holds.
    Delete { role: String },
}

#[derive(Debug, Subcommand)]
pub enum PolicyAction {
    /// Show a role's settings readably.
    Show { role: String },
    /// Change a role's settings.
    Set(PolicySetArgs),
}

#[derive(Debug, Args)]
pub struct PolicySetArgs {
    pub role: String,
    /// Maximum activation duration (Expiration_EndUser_Assignment).
    #[arg(long, value_name = "DURATION")]
    pub activation_max: Option<String>,
    /// Require MFA on activation.
    #[arg(long, value_name = "BOOL")]
    pub require_mfa: Option<bool>,
    /// Require a justification on activation.
    #[arg(long, value_name = "BOOL")]
    pub require_justification: Option<bool>,
    /// Require a ticket on activation.
    #[arg(long, value_name = "BOOL")]
    pub require_ticket: Option<bool>,
    /// Require approval to activate.
    #[arg(long, value_name = "BOOL")]
    pub require_approval: Option<bool>,
    /// Approvers (users or groups), replacing the current ones; repeatable.
    #[arg(long = "approver", value_name = "PRINCIPAL")]
    pub approvers: Vec<String>,
    /// Name no approvers: the holders of Privileged Role Administrator and Global Administrator decide.
    #[arg(long, conflicts_with = "approvers")]
    pub clear_approvers: bool,
    /// Require an authentication context on activation (e.g. c1), or "none".
    #[arg(long, value_name = "CLAIM")]
    pub require_auth_context: Option<String>,
    /// Allow permanent eligible assignments.
    #[arg(long, value_name = "BOOL")]
    pub allow_permanent_eligible: Option<bool>,
    /// Expire eligible assignments after this long.
    #[arg(long, value_name = "DURATION")]
    pub eligible_max: Option<String>,
    /// Allow permanent active assignments.
    #[arg(long, value_name = "BOOL")]
    pub allow_permanent_active: Option<bool>,
    /// Expire active assignments after this long.
    #[arg(long, value_name = "DURATION")]
    pub active_max: Option<String>,
    /// Require a justification on active assignment.
    #[arg(long, value_name = "BOOL")]
    pub require_justification_on_assign: Option<bool>,
    /// Patch one rule by id with a Graph JSON body (or @FILE), as PATCH .../rules/{id} does.
    #[arg(long, value_name = "RULE_ID", requires = "body")]
    pub rule: Option<String>,
    #[arg(long, value_name = "JSON", requires = "rule")]
    pub body: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum HookAction {
    /// Attach a hook: a Lua file returning a table of handlers (validate, route, completed).
    Add {
        name: String,
        #[arg(long, value_name = "F.lua")]
        file: PathBuf,
        /// Only for this role.
        #[arg(long, short)]
        role: Option<String>,
        /// Only at this scope.
        #[arg(long)]
        scope: Option<String>,
    },
    /// List the hooks, in the order they run.
    List,
    /// Show one hook and its source.
    Show { name: String },
    /// Detach a hook.
    Remove { name: String },
    /// Run a hook on a request (a Graph request body) without changing anything.
    Test {
        name: String,
        /// The request as Graph JSON, or @FILE.
        #[arg(long, value_name = "JSON")]
        request: String,
        /// Which request collection the body is for (default: from its action).
        #[arg(long, value_enum)]
        kind: Option<KindArg>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ObjectAction {
    /// Create one.
    Add(ObjectAddArgs),
    /// List them.
    List,
    /// Show one.
    Show { name: String },
    /// Add a member (or owner) to a group or administrative unit.
    AddMember {
        container: String,
        member: String,
        /// As an owner rather than a member.
        #[arg(long)]
        owner: bool,
    },
    /// List a group's or unit's members.
    Members { container: String },
}

#[derive(Debug, Args)]
pub struct ObjectAddArgs {
    /// Display name.
    pub name: String,
    /// User principal name (users; default name@domain).
    #[arg(long)]
    pub upn: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// Groups: may hold directory roles.
    #[arg(long)]
    pub role_assignable: bool,
}

#[derive(Debug, Subcommand)]
pub enum ClockAction {
    /// Print the simulated time.
    Show,
    /// Move the clock forward to TIME, processing every due event.
    Set { time: String },
    /// Move the clock forward by DURATION (PT8H, P30D, 8h, 30d), processing every due event.
    Advance { duration: String },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    #[arg(long, short)]
    pub principal: Option<String>,
    #[arg(long, short)]
    pub role: Option<String>,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// GET, POST, PATCH or DELETE.
    pub method: String,
    /// Path, e.g. /v1.0/roleManagement/directory/roleAssignments?$expand=principal
    pub path: String,
    /// JSON body, or @FILE to read it from a file.
    #[arg(long)]
    pub body: Option<String>,
}
