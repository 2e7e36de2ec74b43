//! The WouldRemove export (reference §8.6): the assignments cleanup would remove, as JSON (an
//! array of six-field objects) or CSV with EasyPIM's headers; always written, empty when nothing
//! would go. A folder gets `EasyPIM-WouldRemove-<yyyyMMddTHHmmss>.json` (the simulated clock).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::report::{Report, Verdict};
use crate::engine::Engine;
use crate::model::ApiError;

const HEADERS: [&str; 6] = ["PrincipalId", "PrincipalName", "RoleName", "Scope", "ResourceType", "Mode"];

/// Writes the export; returns the path written.
pub fn write(engine: &mut Engine, path: &Path, report: &Report) -> Result<String, ApiError> {
    let target: PathBuf = if path.is_dir() {
        let stamp = engine.now()?.format("%Y%m%dT%H%M%S");
        path.join(format!("EasyPIM-WouldRemove-{stamp}.json"))
    } else if path.extension().is_none() {
        path.with_extension("json")
    } else {
        path.to_path_buf()
    };
    let mode = if report.mode == "delta" { "delta" } else { "initial-preview" };
    let mut rows = Vec::new();
    for i in report.cleanup_with(&Verdict::WouldRemove) {
        let name = engine.object(&i.principal)?.map(|o| o.display_name).unwrap_or_default();
        rows.push([
            i.principal.clone(),
            name,
            i.role.clone(),
            i.scope.clone(),
            i.resource_type(),
            mode.to_string(),
        ]);
    }
    let csv = target.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let text = if csv {
        let mut text = HEADERS.join(",") + "\n";
        for row in &rows {
            let cells: Vec<String> = row.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
            text.push_str(&(cells.join(",") + "\n"));
        }
        text
    } else {
        let objects: Vec<Value> = rows
            .iter()
            .map(|row| {
                Value::Object(HEADERS.iter().zip(row).map(|(h, v)| (h.to_string(), json!(v))).collect())
            })
            .collect();
        serde_json::to_string_pretty(&objects).unwrap_or_default() + "\n"
    };
    std::fs::write(&target, text).map_err(|e| {
        ApiError::bad_request("would-remove-export", format!("cannot write {}: {e}", target.display()))
    })?;
    Ok(target.display().to_string())
}
