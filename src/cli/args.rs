//! The command-line grammar: global options, the commands only a terminal has (init, graph,
//! run, repl), and every operation of [`crate::ops`]. The REPL parses the same grammar.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::ops::Operation;

/// pimlab: a local laboratory for Microsoft Entra Privileged Identity Management.
#[derive(Debug, Parser)]
#[command(name = "pimlab", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// The store: one SQLite file per tenant, created and seeded by the first command that
    /// writes [default: pimlab.db; `run` uses a private in-memory store unless --db is given].
    #[arg(long, global = true, env = "PIMLAB_DB")]
    pub db: Option<PathBuf>,

    /// Act as this principal (id, user principal name or display name) instead of the break-glass admin.
    #[arg(long = "as", global = true, value_name = "PRINCIPAL")]
    pub as_principal: Option<String>,

    /// Call through this application (its service principal's name or id): for the --as user
    /// with the app's delegated scopes, or, without --as, as the app itself with its application
    /// permissions.
    #[arg(long, global = true, value_name = "APP")]
    pub app: Option<String>,

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

impl Command {
    /// Whether the command only reads the store (so must not create one): a reading operation,
    /// or a Graph `GET`.
    pub fn is_read_only(&self) -> bool {
        match self {
            Command::Op(op) => op.is_read_only(),
            Command::Graph(g) => g.method.eq_ignore_ascii_case("GET"),
            Command::Arm(a) => a.method.eq_ignore_ascii_case("GET"),
            Command::Completions(_) | Command::Man | Command::Token(_) | Command::Serve(_) => true,
            Command::Export(_) => true,
            Command::Apply(a) => a.what_if,
            Command::Import(a) => a.dry_run,
            Command::Mark(m) => m.name.is_none(),
            Command::Init(_) | Command::Run(_) | Command::Repl => false,
            // It changes only its private copy of the store.
            Command::Whatif(_) => true,
        }
    }
}

impl Cli {
    /// Parses a command line typed inside an open session (a REPL line, `pim.run`). `--db` there
    /// would change the store under the session, so it is refused; `PIMLAB_DB` only says which
    /// store to open, which the session has done already, so it is ignored.
    pub fn parse_in_session<I, T>(argv: I) -> Result<Cli, super::CliError>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::{CommandFactory, FromArgMatches};
        let clap_error = super::CliError::from;
        let matches = Cli::command().try_get_matches_from(argv).map_err(clap_error)?;
        if matches.value_source("db") == Some(clap::parser::ValueSource::CommandLine) {
            return Err(super::CliError::Usage("--db cannot change the store of an open session".into()));
        }
        let mut cli = Cli::from_arg_matches(&matches).map_err(clap_error)?;
        cli.db = None;
        Ok(cli)
    }

    /// The store file: --db, PIMLAB_DB, or ./pimlab.db.
    pub fn store_path(&self) -> PathBuf {
        self.db.clone().unwrap_or_else(|| PathBuf::from("pimlab.db"))
    }
}

// A command line is parsed once per run; the size of the largest operation costs nothing worth
// boxing it for.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the tenant: built-in roles, default policies, a break-glass Global Administrator.
    Init(InitArgs),
    /// Every operation on the tenant (the same typed operations scripts call).
    #[command(flatten)]
    Op(Operation),
    /// Send one Microsoft Graph request through the router, as a real client would.
    Graph(GraphArgs),
    /// Send one Azure Resource Manager request (Microsoft.Authorization) through its router.
    Arm(ArmArgs),
    /// Run a Lua scenario script (an in-memory store unless --db is given).
    Run(RunArgs),
    /// Run a Lua scenario on a private copy of the store (--db) and show what it would change:
    /// who would gain and lose which privilege, when, and why. The store itself is not touched.
    Whatif(WhatifArgs),
    /// Open the interactive shell (also what `pimlab` alone does).
    Repl,
    /// Print the shell completion script for SHELL (e.g. `pimlab completions bash >
    /// ~/.local/share/bash-completion/completions/pimlab`).
    Completions(CompletionsArgs),
    /// Print pimlab's manual page, in roff (e.g. `pimlab man > ~/.local/share/man/man1/pimlab.1`).
    Man,
    /// Serve Microsoft Graph and Azure Resource Manager over HTTP on one port, for real clients.
    Serve(ServeArgs),
    /// Print a bearer token for `serve`: for the --as user, through the --app application, or
    /// for the application alone.
    Token(TokenArgs),
    /// Bring an organisation in: CSV files of users, groups, memberships, eligibilities and
    /// assignments, or Graph/ARM JSON as the real APIs return it (a folder: every file in it).
    Import(ImportArgs),
    /// Write the tenant as Graph/ARM JSON or an EasyPIM configuration, or the changes since a
    /// mark as the real calls that would make them.
    Export(ExportArgs),
    /// Remember the tenant as it is now, under NAME, for `export --since NAME`.
    Mark(MarkArgs),
    /// Apply an EasyPIM configuration (pim-config.json) to the store, as EasyPIM's orchestrator
    /// would apply it to a tenant.
    Apply(ApplyArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// CSV or JSON files, or folders of them.
    #[arg(required = true, value_name = "FILE")]
    pub paths: Vec<PathBuf>,
    /// Print what would change; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// graph (method, URL, body), http (an .http file), powershell, az (az rest lines), json (the
    /// whole tenant, for import) or easypim (an EasyPIM configuration).
    #[arg(long, value_enum, default_value = "graph")]
    pub format: ExportFormat,
    /// Export the changes made since this mark (`pimlab mark NAME`) [default: since the tenant
    /// was created].
    #[arg(long, value_name = "MARK")]
    pub since: Option<String>,
    /// Write here instead of standard output (for json: a folder, one file per collection).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportFormat {
    Graph,
    Http,
    #[value(name = "powershell")]
    PowerShell,
    Az,
    Json,
    #[value(name = "easypim")]
    EasyPim,
}

#[derive(Debug, Args)]
pub struct MarkArgs {
    /// The mark's name (a mark of the same name moves here); without one, the marks are listed.
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The EasyPIM configuration file.
    pub config: PathBuf,
    /// Report what applying would do (EasyPIM's -WhatIf); change nothing.
    #[arg(long)]
    pub what_if: bool,
    /// delta adds and updates; initial also removes what the file does not declare (except
    /// ProtectedUsers).
    #[arg(long, value_enum, default_value = "delta")]
    pub mode: ApplyMode,
    /// Which domains to touch (EasyPIM's -Operations); cleanup runs only with all.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    pub operations: Vec<ApplyDomain>,
    /// Leave policies alone (EasyPIM's -SkipPolicies).
    #[arg(long)]
    pub skip_policies: bool,
    /// Create no assignments and run no cleanup (-SkipAssignments).
    #[arg(long)]
    pub skip_assignments: bool,
    /// Run no cleanup (-SkipCleanup).
    #[arg(long)]
    pub skip_cleanup: bool,
    /// Also change the policies of Privileged Role Administrator, Security Administrator, User
    /// Access Administrator and Azure Owner (never Global Administrator).
    #[arg(long)]
    pub allow_protected_roles: bool,
    /// Write the assignments cleanup would remove here: a folder, a .json or a .csv file.
    #[arg(long, value_name = "PATH")]
    pub would_remove_export: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApplyDomain {
    All,
    #[value(name = "entra-roles", alias = "EntraRoles")]
    EntraRoles,
    #[value(name = "azure-roles", alias = "AzureRoles")]
    AzureRoles,
    #[value(name = "group-roles", alias = "GroupRoles")]
    GroupRoles,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ApplyMode {
    Delta,
    Initial,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The port (0: any free one; the address is printed).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// A call without a bearer token acts as the tenant's default caller (else 401).
    #[arg(long)]
    pub allow_anonymous: bool,
    /// Serve HTTPS with a self-signed certificate made at start-up (the Azure and Graph SDKs send
    /// tokens over HTTPS only); it is written to --certificate for clients to trust.
    #[arg(long)]
    pub tls: bool,
    /// Where --tls writes its certificate (PEM) [default: the store's path with .cert.pem].
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub certificate: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// An authentication-context claim the token carries (acrs), e.g. c1; repeatable.
    #[arg(long = "acr", value_name = "CLAIM")]
    pub acrs: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, powershell or elvish.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The script.
    pub script: PathBuf,
    /// Seed of the new tenant [default: 1]; with --db, only when the store is new.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Start of the new tenant's clock; with --db, only when the store is new.
    #[arg(long, value_name = "TIME", value_parser = crate::ops::values::time)]
    pub at: Option<crate::model::Timestamp>,
    /// Give the new tenant the demonstration organisation; with --db, only when the store is new.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Args)]
pub struct WhatifArgs {
    /// The scenario (a script `pimlab run` would run).
    pub script: PathBuf,
    /// Compare over at least this period from the store's clock (ISO 8601 duration, e.g. P7D)
    /// [default: as far as the scenario moved the clock].
    #[arg(long, value_name = "PERIOD", value_parser = crate::ops::values::duration)]
    pub over: Option<crate::model::time::IsoDuration>,
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
    #[arg(long, value_name = "TIME", value_parser = crate::ops::values::time)]
    pub at: Option<crate::model::Timestamp>,
    /// The tenant's domain.
    #[arg(long, default_value = "contoso.example")]
    pub domain: String,
    /// Replace an existing tenant in this store.
    #[arg(long)]
    pub force: bool,
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

#[derive(Debug, Args)]
pub struct ArmArgs {
    /// GET, PUT, PATCH, POST or DELETE.
    pub method: String,
    /// Path after the host, with its api-version, e.g.
    /// /subscriptions/ID/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01
    pub path: String,
    /// JSON body, or @FILE to read it from a file.
    #[arg(long)]
    pub body: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// clap checks a grammar only when a command is first parsed (a positional `bool` without
    /// `ArgAction::Set` panics there); this walks every command now, so such a slip fails a test
    /// instead of a user's first `pimlab config fidelity set`.
    #[test]
    fn the_grammar_passes_clap_s_own_consistency_checks() {
        Cli::command().debug_assert();
    }

    /// Every argument of every command says what it is for in `--help` (a flag with an empty
    /// line beside it leaves a newcomer guessing).
    #[test]
    fn every_argument_of_every_command_has_help_text() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") || arg.is_global_set() && !path.is_empty() {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() && sub.get_long_about().is_none() && sub.get_name() != "help" {
                    missing.push(format!("{path} {} (the command)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "arguments without help text:\n{}", missing.join("\n"));
    }
}
