//! The arguments of the reports over the store's history (`report activity`, `timeline`), typed
//! for clap and serde as every operation's are (see [`super::args`]), and what a timeline is
//! written as.

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

/// `report activity`.
#[derive(Debug, Args, Clone, Default, Deserialize)]
pub struct ActivityArgs {
    /// From this time (ISO 8601; default: the start of the store's history).
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    #[serde(default, deserialize_with = "de::time")]
    pub since: Option<Timestamp>,
    /// Up to this time (ISO 8601; default: now, the tenant's clock).
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    #[serde(default, deserialize_with = "de::time")]
    pub until: Option<Timestamp>,
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
    /// From this time (ISO 8601; default: the start of the store's history).
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    #[serde(default, deserialize_with = "de::time")]
    pub since: Option<Timestamp>,
    /// Up to this time (ISO 8601; default: now, the tenant's clock).
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    #[serde(default, deserialize_with = "de::time")]
    pub until: Option<Timestamp>,
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
