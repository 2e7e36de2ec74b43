//! The typed answer of `fuzz` (the operations layer runs it): the steps taken, and the first
//! property broken with the shortest steps found that break it and the script that replays them.

use serde::Serialize;

use super::check::Status;
use crate::model::Timestamp;
use crate::model::time::format_timestamp;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FuzzReport {
    pub file: String,
    pub seed: u64,
    /// The steps asked for.
    pub steps: usize,
    /// The steps taken (fewer when a property broke first).
    pub taken: usize,
    pub properties: Vec<String>,
    pub violation: Option<Violation>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    pub property: String,
    pub status: Status,
    pub message: Option<String>,
    /// After which step it broke (0: the store broke it before any step).
    pub after_step: usize,
    #[serde(serialize_with = "time")]
    pub at: Timestamp,
    /// The shortest steps found that break it, in order.
    pub shrunk: Vec<FuzzStep>,
    /// Those steps as a Lua scenario, ending with the property's check.
    pub script: String,
}

/// One step as people read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FuzzStep {
    /// Who takes it: a user's principal name, or `None` for the administrator.
    pub by: Option<String>,
    pub does: String,
}

fn time<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_timestamp(*t))
}
