//! The arguments of the read-only reports (`who`, `access`), of the reports over the store's
//! history (`report activity`, `timeline`) and of the questions asked of it (`check`, `fuzz`),
//! typed for clap and serde as every operation's are (see [`super::args`]), and what a timeline
//! is written as.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use serde::Deserialize;

use super::values::{self, de};
use crate::model::{ApiError, Timestamp};

/// `report ...`: reports over the store's history.
#[derive(Debug, Subcommand, Clone)]
pub enum ReportAction {
    /// Activations, refusals, denials, approvals and their waits, peak holders, and hours of
    /// standing against just-in-time privilege, over a period, by role, principal or day.
    Activity(ActivityArgs),
}

/// The stretch of the store's history a report covers, as `--since`/`--until` (a script's
/// `since`/`until` keys).
#[derive(Debug, Args, Clone, Default, Deserialize)]
pub struct PeriodArgs {
    /// From this time (ISO 8601; default: the start of the store's history).
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    #[serde(default, deserialize_with = "de::time")]
    pub since: Option<Timestamp>,
    /// Up to this time (ISO 8601; default: now, the tenant's clock).
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    #[serde(default, deserialize_with = "de::time")]
    pub until: Option<Timestamp>,
}

/// `report activity`.
#[derive(Debug, Args, Clone, Default, Deserialize)]
pub struct ActivityArgs {
    #[command(flatten)]
    #[serde(flatten)]
    pub period: PeriodArgs,
    /// One row per role, principal or day.
    #[arg(long, value_enum, default_value_t = ActivityBy::Role)]
    #[serde(default)]
    pub by: ActivityBy,
    /// How to print it: a table, JSON (as --json) or CSV.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    #[serde(default)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivityBy {
    #[default]
    Role,
    Principal,
    Day,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    #[default]
    Table,
    Json,
    Csv,
}

/// `timeline`: a Gantt-style picture of a period.
#[derive(Debug, Args, Clone, Default, Deserialize)]
pub struct TimelineArgs {
    /// Only this role (id or display name): a lane per principal.
    #[arg(long, short, conflicts_with = "principal")]
    #[serde(default)]
    pub role: Option<String>,
    /// Only this principal (id, user principal name or display name): a lane per role.
    #[arg(long, short)]
    #[serde(default)]
    pub principal: Option<String>,
    #[command(flatten)]
    #[serde(flatten)]
    pub period: PeriodArgs,
    /// The file to write: FILE.svg (a picture) or FILE.html (a page with hover details). A
    /// script leaves it out and gets the SVG back as text.
    #[arg(long, value_name = "FILE", required = true)]
    #[serde(default)]
    pub out: Option<PathBuf>,
}

/// What a timeline is written as, by its file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureFormat {
    Svg,
    Html,
}

impl PictureFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            PictureFormat::Svg => "svg",
            PictureFormat::Html => "html",
        }
    }

    /// The format `path` asks for, refusing any other extension by name.
    pub(super) fn of(path: &Path) -> Result<PictureFormat, ApiError> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
        match ext.as_str() {
            "svg" => Ok(PictureFormat::Svg),
            "html" => Ok(PictureFormat::Html),
            _ => Err(ApiError::usage(format!(
                "'{}': a timeline is written as FILE.svg or FILE.html, not {}",
                path.display(),
                if ext.is_empty() { "a file without an extension".to_string() } else { format!(".{ext}") }
            ))),
        }
    }
}

/// `who ROLE`: who holds a role, and who could.
#[derive(Debug, Args, Clone, Deserialize)]
pub struct WhoArgs {
    /// The role: id or display name (a directory role, or with an Azure --scope an Azure role).
    pub role: String,
    /// Where: `/`, an administrative unit, or an Azure scope (path or name); default every
    /// directory scope.
    #[arg(long)]
    #[serde(default)]
    pub scope: Option<String>,
    /// When (ISO 8601; default now): a past time reads history, a future one the schedules made.
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    #[serde(default, deserialize_with = "de::time")]
    pub at: Option<Timestamp>,
    /// Also who could hold it by activating, with what stands in the way.
    #[arg(long)]
    #[serde(default)]
    pub could: bool,
}

/// `access PRINCIPAL`: every role a principal holds or could hold.
#[derive(Debug, Args, Clone, Deserialize)]
pub struct AccessArgs {
    /// The principal: id, user principal name or display name.
    pub principal: String,
    /// When (ISO 8601; default now).
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    #[serde(default, deserialize_with = "de::time")]
    pub at: Option<Timestamp>,
}

/// `check PROPS.lua`: properties judged at every instant of the store's history.
#[derive(Debug, Args, Clone, Deserialize)]
pub struct CheckArgs {
    /// The property file (Lua): `property("name", function(t) return ... end)`, one or more.
    #[arg(required = true)]
    #[serde(default)]
    pub props: Option<PathBuf>,
    /// The properties themselves (scripts give them this way; they cannot read files).
    #[arg(skip)]
    pub source: Option<String>,
}

/// `fuzz --seed N --steps K --props PROPS.lua`: random valid steps against a private copy of the
/// store, the properties checked after each; a violation shrunk to a script `run` replays.
#[derive(Debug, Args, Clone, Deserialize)]
pub struct FuzzArgs {
    /// The seed of the step generator: the same seed gives the same steps.
    #[arg(long, default_value_t = 1)]
    #[serde(default = "first_seed")]
    pub seed: u64,
    /// How many steps to take (at most 10000).
    #[arg(long, default_value_t = 100)]
    #[serde(default = "fuzz_steps")]
    pub steps: usize,
    /// The property file (Lua), as `check` takes it.
    #[arg(long, value_name = "PROPS.lua", required = true)]
    #[serde(default)]
    pub props: Option<PathBuf>,
    /// The properties themselves (scripts give them this way; they cannot read files).
    #[arg(skip)]
    pub source: Option<String>,
}

fn first_seed() -> u64 {
    1
}

fn fuzz_steps() -> usize {
    100
}
