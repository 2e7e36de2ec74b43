//! EasyPIM configurations (the JSON EasyPIM's orchestrator reads): `pimlab apply` applies one to
//! the store with EasyPIM's semantics, or with `--what-if` reports what it would do, changing
//! nothing; `export --format easypim` writes the tenant's policies and assignments as one.
//!
//! One job per file: `source` reads the text as EasyPIM does (comments, case-insensitive keys),
//! `config`, `body` and `assignments` resolve it into the desired state (templates, forms,
//! validation), `durations` reads its ISO 8601 durations, `rules` turns a policy body into rule
//! changes and drift; the phases run against the store: `policies`, `cleanup` and `create`
//! (over `holdings`, what the store holds); `report` is what the run prints, `would_remove` the
//! WouldRemove export, `export` the other direction. `fidelity` holds every choice made where the
//! reference is silent.
//!
//! `apply` and `apply --what-if` run the very same phases, each item in a savepoint of its own
//! (a refused item fails alone, as in EasyPIM, which carries on past a failed one) inside one
//! transaction: `apply` keeps it, `--what-if` discards it, so the preview is what the run does.

mod assignments;
mod body;
mod cleanup;
mod config;
mod create;
mod durations;
mod export;
pub mod fidelity;
mod holdings;
mod policies;
mod report;
mod rules;
mod source;
mod would_remove;

use std::io::Write;
use std::path::PathBuf;

pub use config::Domains;
pub use export::export;

use crate::engine::{Engine, Session};
use crate::model::ApiError;

/// EasyPIM's `-Mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Adds and updates; removes nothing.
    Delta,
    /// Also removes what the configuration does not declare, except protected users.
    Initial,
}

/// What `apply` was asked to do.
pub struct ApplyOptions<'a> {
    pub config: &'a PathBuf,
    pub what_if: bool,
    pub mode: Mode,
    /// `-Operations`: the domains touched (cleanup runs only when all are).
    pub domains: Domains,
    pub skip_policies: bool,
    pub skip_assignments: bool,
    pub skip_cleanup: bool,
    /// `-AllowProtectedRoles`: change the policies of the protected roles but Global Administrator.
    pub allow_protected_roles: bool,
    /// `-WouldRemoveExportPath`: a folder, a `.json` or a `.csv` file.
    pub would_remove_export: Option<&'a PathBuf>,
}

impl<'a> ApplyOptions<'a> {
    /// The defaults EasyPIM runs with: every domain, delta, no skips.
    pub fn new(config: &'a PathBuf) -> Self {
        ApplyOptions {
            config,
            what_if: false,
            mode: Mode::Delta,
            domains: Domains::ALL,
            skip_policies: false,
            skip_assignments: false,
            skip_cleanup: false,
            allow_protected_roles: false,
            would_remove_export: None,
        }
    }
}

/// How a run went: the number of items that failed (the command line exits 1 when any did).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub failed: usize,
}

/// Applies (or previews) the configuration, writing EasyPIM's summary to `out`.
pub fn apply(
    engine: &mut Engine,
    session: &Session,
    options: &ApplyOptions<'_>,
    out: &mut dyn Write,
) -> Result<Applied, ApiError> {
    let file = options.config.display().to_string();
    let text = std::fs::read_to_string(options.config)
        .map_err(|e| source::invalid(&file, format!("cannot be read: {e}")))?;
    let parsed = source::parse(&file, &text)?;
    let config = config::read(&parsed.root, options.domains, parsed.notes)?;
    let mut missing = Vec::new();
    for id in &config.principal_ids {
        if engine.object(id)?.is_none() {
            missing.push(id.clone());
        }
    }
    if !missing.is_empty() && !options.what_if {
        return Err(source::invalid(
            &file,
            format!(
                "principal validation failed: {} object id(s) do not exist in the tenant ({}); nothing was changed (run with --what-if to see the rest of the plan)",
                missing.len(),
                missing.join(", ")
            ),
        ));
    }
    let mut report = report::Report {
        what_if: options.what_if,
        mode: match (options.mode, options.what_if) {
            (Mode::Delta, _) => "delta",
            (Mode::Initial, true) => "initial-preview",
            (Mode::Initial, false) => "initial",
        },
        notes: config.notes.clone(),
        checked_principals: config.principal_ids.len(),
        missing_principals: missing,
        ..Default::default()
    };
    let in_domains = |kind: body::Kind| options.domains.has(kind);
    let policies: Vec<_> = config.policies.iter().filter(|p| in_domains(p.target.kind())).cloned().collect();
    let wanted: Vec<_> = config.assignments.iter().filter(|a| in_domains(a.target.kind())).cloned().collect();
    report.cleanup_skipped = if !options.domains.all() {
        Some("cleanup runs only when every domain is selected (--operations all)")
    } else if options.skip_cleanup {
        Some("--skip-cleanup")
    } else if options.skip_assignments {
        Some("--skip-assignments")
    } else {
        None
    };
    engine.items_batch(!options.what_if, |e| {
        if !options.skip_policies {
            report.policies =
                policies::run(e, session, &policies, options.what_if, options.allow_protected_roles)?;
        }
        if report.cleanup_skipped.is_none() {
            let c =
                cleanup::run(e, session, &wanted, &config.protected_users, options.mode, options.what_if)?;
            report.cleanup = Some(c);
        }
        if !options.skip_assignments {
            report.assignments = create::run(e, session, &wanted, options.what_if)?;
        }
        Ok(())
    })?;
    if let Some(path) = options.would_remove_export {
        report.export_path = Some(would_remove::write(engine, path, &report)?);
    }
    report.write(out)?;
    let failed = report.policies.iter().filter(|p| p.status == report::PolicyStatus::Failed).count()
        + report
            .assignments
            .iter()
            .filter(|a| matches!(a.outcome, report::AssignmentOutcome::Failed(_)))
            .count()
        + report.cleanup_with(&report::Verdict::Failed).len();
    Ok(Applied { failed })
}
