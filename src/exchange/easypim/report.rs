//! What a run did (or, under `--what-if`, would do), and its text: per-policy statuses
//! (reference §8.3), the assignment lines, and EasyPIM's summary blocks (§8.6). `apply` and
//! `apply --what-if` fill the same report; only the words differ (Planned for Created, drift per
//! policy, WouldRemove for Removed).

use std::io::Write;

use super::fidelity::WOULD_REMOVE_LISTED;
use super::rules::Drift;
use crate::model::{ApiError, Surface};

#[derive(Debug, Clone, PartialEq)]
pub enum PolicyStatus {
    Applied,
    Failed,
    /// Under `--what-if`: nothing applied (the drift says what would change).
    Skipped,
    ProtectedNoChanges,
    ProtectedAlwaysSkipped,
    SkippedRoleNotFound,
}

impl PolicyStatus {
    pub fn words(&self) -> &'static str {
        match self {
            PolicyStatus::Applied => "Applied",
            PolicyStatus::Failed => "Failed",
            PolicyStatus::Skipped => "Skipped",
            PolicyStatus::ProtectedNoChanges => "Protected (No Changes)",
            PolicyStatus::ProtectedAlwaysSkipped => "Protected (Always Skipped)",
            PolicyStatus::SkippedRoleNotFound => "SkippedRoleNotFound",
        }
    }
}

#[derive(Debug, Clone)]
pub struct PolicyResult {
    pub origin: String,
    pub name: String,
    pub status: PolicyStatus,
    pub drift: Vec<Drift>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AssignmentOutcome {
    Created,
    Planned,
    Skipped,
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct AssignmentResult {
    pub origin: String,
    /// The role and where (`User Administrator at /`).
    pub what: String,
    pub principal: String,
    pub active: bool,
    pub outcome: AssignmentOutcome,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Kept,
    Protected,
    Skipped(String),
    WouldRemove,
    Removed,
    Failed,
}

#[derive(Debug, Clone)]
pub struct CleanupItem {
    pub surface: Surface,
    pub active: bool,
    pub principal: String,
    pub role: String,
    pub scope: String,
    pub verdict: Verdict,
    pub error: Option<String>,
}

impl CleanupItem {
    /// EasyPIM's `ResourceType` words.
    pub fn resource_type(&self) -> String {
        let kind = if self.active { "active" } else { "eligible" };
        match self.surface {
            Surface::Directory => format!("Entra Role {kind}"),
            Surface::AzureResource => format!("Azure Role {kind}"),
            Surface::Group => format!("Group {kind}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct CleanupResult {
    /// How many assignments the configuration declares.
    pub desired: usize,
    pub items: Vec<CleanupItem>,
}

/// Everything a run reports.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub what_if: bool,
    pub mode: &'static str,
    pub notes: Vec<String>,
    pub checked_principals: usize,
    pub missing_principals: Vec<String>,
    pub policies: Vec<PolicyResult>,
    pub cleanup: Option<CleanupResult>,
    /// Why cleanup did not run, when it did not.
    pub cleanup_skipped: Option<&'static str>,
    pub assignments: Vec<AssignmentResult>,
    pub export_path: Option<String>,
}

impl Report {
    /// The cleanup items with `verdict`.
    pub fn cleanup_with(&self, verdict: &Verdict) -> Vec<&CleanupItem> {
        self.cleanup.iter().flat_map(|c| c.items.iter()).filter(|i| i.verdict == *verdict).collect()
    }

    fn count(&self, f: impl Fn(&AssignmentOutcome) -> bool) -> usize {
        self.assignments.iter().filter(|a| f(&a.outcome)).count()
    }

    pub fn write(&self, out: &mut dyn Write) -> Result<(), ApiError> {
        self.write_text(out).map_err(|e| ApiError::internal(format!("writing the report: {e}")))
    }

    fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let kind = |active: bool| if active { "active" } else { "eligible" };
        for n in &self.notes {
            writeln!(out, "note: {n}")?;
        }
        match self.missing_principals.len() {
            0 => writeln!(
                out,
                "Principal validation: {} object id(s) checked, all exist",
                self.checked_principals
            )?,
            n => writeln!(
                out,
                "WARNING: principal validation: {n} of {} object id(s) do not exist: {} (what-if continues)",
                self.checked_principals,
                self.missing_principals.join(", ")
            )?,
        }
        if !self.policies.is_empty() {
            writeln!(out, "\nPolicies")?;
        }
        for p in &self.policies {
            let state = match (&p.status, self.what_if, p.drift.is_empty()) {
                (PolicyStatus::Skipped, _, true) => "[MATCH]".to_string(),
                (PolicyStatus::Skipped, _, false) => format!("DRIFT ({} setting(s))", p.drift.len()),
                (s, _, _) => format!("[{}]", s.words()),
            };
            writeln!(out, "  {state} {}", p.name)?;
            for d in &p.drift {
                writeln!(out, "      {}: {} -> {}", d.setting, d.actual, d.expected)?;
            }
            if let Some(e) = &p.error {
                writeln!(out, "      {}: {e}", p.origin)?;
            }
        }
        if let Some(c) = &self.cleanup {
            let listed: Vec<&CleanupItem> = c.items.iter().filter(|i| i.verdict != Verdict::Kept).collect();
            if !listed.is_empty() {
                writeln!(out, "\nCleanup")?;
            }
            for i in listed {
                let verdict = match &i.verdict {
                    Verdict::Skipped(why) => format!("Skipped ({why})"),
                    v => format!("{v:?}"),
                };
                writeln!(
                    out,
                    "  [{verdict}] {}: {} at {} for {}",
                    i.resource_type(),
                    i.role,
                    i.scope,
                    i.principal
                )?;
                if let Some(e) = &i.error {
                    writeln!(out, "      {e}")?;
                }
            }
        }
        if !self.assignments.is_empty() {
            writeln!(out, "\nAssignments")?;
        }
        for a in &self.assignments {
            let what = if a.what.is_empty() { a.origin.clone() } else { a.what.clone() };
            match &a.outcome {
                AssignmentOutcome::Created => {
                    writeln!(out, "  Created {} assignment: {what} for {}", kind(a.active), a.principal)?
                }
                AssignmentOutcome::Planned => writeln!(
                    out,
                    "  What if: Creating {} assignment: {what} for {}",
                    kind(a.active),
                    a.principal
                )?,
                AssignmentOutcome::Skipped => {
                    writeln!(out, "  [MATCH] Assignment exists: {what} for {}", a.principal)?
                }
                AssignmentOutcome::Failed(e) => {
                    writeln!(
                        out,
                        "  [FAILED] {} assignment ({}): {what} for {}",
                        kind(a.active),
                        a.origin,
                        a.principal
                    )?;
                    writeln!(out, "      {e}")?;
                }
            }
            for n in &a.notes {
                writeln!(out, "      {n}")?;
            }
        }
        self.write_summary(out)
    }

    fn write_summary(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let created = self.count(|o| *o == AssignmentOutcome::Created);
        let planned = self.count(|o| *o == AssignmentOutcome::Planned);
        let skipped = self.count(|o| *o == AssignmentOutcome::Skipped);
        let failed = self.count(|o| matches!(o, AssignmentOutcome::Failed(_)));
        writeln!(out, "\n=== ASSIGNMENT CREATIONS ===")?;
        writeln!(out, "  Created: {created}  Planned: {planned}  Skipped: {skipped}  Failed: {failed}")?;
        let by = |s: &PolicyStatus| self.policies.iter().filter(|p| p.status == *s).count();
        let protected = by(&PolicyStatus::ProtectedNoChanges) + by(&PolicyStatus::ProtectedAlwaysSkipped);
        let not_found = by(&PolicyStatus::SkippedRoleNotFound);
        writeln!(out, "=== POLICY OPERATIONS ===")?;
        writeln!(
            out,
            "  Applied: {}  Skipped: {}  Failed: {}  Total: {}",
            by(&PolicyStatus::Applied),
            by(&PolicyStatus::Skipped) + protected + not_found,
            by(&PolicyStatus::Failed),
            self.policies.len()
        )?;
        if protected + not_found > 0 {
            writeln!(out, "  Protected: {protected}  Roles not found: {not_found}")?;
        }
        if self.what_if {
            let drifted = self.policies.iter().filter(|p| !p.drift.is_empty()).count();
            writeln!(out, "  Drift detected: {drifted}")?;
        }
        writeln!(out, "=== CLEANUP OPERATIONS ===")?;
        let Some(c) = &self.cleanup else {
            return writeln!(out, "  Not run: {}", self.cleanup_skipped.unwrap_or("nothing to compare"));
        };
        writeln!(out, "  Analysis: {} desired assignment(s); mode {}", c.desired, self.mode)?;
        let skipped = c.items.iter().filter(|i| matches!(i.verdict, Verdict::Skipped(_))).count();
        let would = self.cleanup_with(&Verdict::WouldRemove);
        writeln!(
            out,
            "  Kept: {}  Removed: {}  WouldRemove: {}  Skipped: {}  Protected: {}  Failed: {}",
            self.cleanup_with(&Verdict::Kept).len(),
            self.cleanup_with(&Verdict::Removed).len(),
            would.len(),
            skipped,
            self.cleanup_with(&Verdict::Protected).len(),
            self.cleanup_with(&Verdict::Failed).len()
        )?;
        for i in would.iter().take(WOULD_REMOVE_LISTED) {
            writeln!(out, "    - {} | {} | {}", i.role, i.scope, i.principal)?;
        }
        if would.len() > WOULD_REMOVE_LISTED {
            writeln!(out, "    +{} more", would.len() - WOULD_REMOVE_LISTED)?;
        }
        if let Some(p) = &self.export_path {
            writeln!(out, "  WouldRemove export: {p}")?;
        }
        Ok(())
    }
}
