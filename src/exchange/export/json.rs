//! `export --format json`: the whole tenant as the Graph and ARM collections the real APIs return
//! (read through the routers, so the wire format is made in one place, see [`super::collect`]),
//! which `import` reads back to the same state. With `--out DIR` each collection is a file of DIR
//! beside `pimlab-tenant.json` (what a real export cannot carry: the tenant's id and domain, the
//! simulated clock, the seed and id counter, the default caller, the fidelity profile, the time
//! and options it was created with, who granted applications' permissions and when, the
//! memberships added outside PIM that a PIM for Groups assignment also makes); without it, one document
//! `{"collections": [{"file", "path", "document"}, ...]}` goes to the output. Same store, same
//! bytes: every collection is ordered by id.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::collect::{Collection, collect};
use crate::engine::{Engine, Session};
use crate::model::ApiError;
use crate::model::time::format_timestamp;

/// The file holding the lab's own facts about the tenant.
pub const TENANT_FILE: &str = "pimlab-tenant.json";

/// Writes the tenant's collections: into the folder `out_path`, one file each, or as one JSON
/// document to `out`.
pub fn write(
    engine: &mut Engine,
    session: &Session,
    out_path: Option<&PathBuf>,
    out: &mut dyn Write,
) -> Result<(), ApiError> {
    let mut collections = collect(engine, session)?;
    for c in &mut collections {
        sort_by_id(&mut c.document);
    }
    collections.push(tenant_collection(engine)?);
    match out_path {
        Some(dir) => write_folder(dir, &collections, out),
        None => {
            let all: Vec<Value> = collections
                .iter()
                .map(|c| json!({ "file": c.file, "path": c.path, "document": c.document }))
                .collect();
            let text = pretty(&json!({ "collections": all }));
            out.write_all(text.as_bytes()).map_err(|e| io_error("the output", &e))
        }
    }
}

/// The lab's own facts, as the document of [`TENANT_FILE`].
fn tenant_collection(engine: &mut Engine) -> Result<Collection, ApiError> {
    let facts = engine.tenant_facts()?;
    let mut document = json!({
        "pimlab": "tenant",
        "tenantId": facts.tenant_id,
        "domain": facts.domain,
        "clock": format_timestamp(facts.clock),
        "seed": facts.seed,
        "nextId": facts.next_id,
        "defaultCaller": facts.default_caller,
        "fidelity": facts.fidelity,
    });
    if let Some((at, demo)) = facts.created {
        document["createdAt"] = json!(format_timestamp(at));
        document["createdWithDemo"] = json!(demo);
    }
    document["grants"] = Value::Array(grants(engine)?);
    let beside: Vec<Value> = engine
        .memberships_beside_pim()?
        .into_iter()
        .map(
            |(group, member, relation)| json!({ "groupId": group, "memberId": member, "relation": relation }),
        )
        .collect();
    document["membershipsBesidePim"] = Value::Array(beside);
    Ok(Collection { file: TENANT_FILE.into(), path: "pimlab's own facts about the tenant".into(), document })
}

/// What the wire does not show of the permissions applications hold: every permission's own id
/// (an `oauth2PermissionGrant` shows only its first scope's), when and by whom it was granted.
/// Ordered by application, kind and permission.
fn grants(engine: &mut Engine) -> Result<Vec<Value>, ApiError> {
    let mut all = Vec::new();
    for sp in engine.objects(crate::model::PrincipalKind::ServicePrincipal)? {
        all.extend(engine.app_permissions(&sp.id)?.1);
    }
    all.sort_by(|a, b| {
        (&a.app_id, a.kind.as_str(), &a.permission).cmp(&(&b.app_id, b.kind.as_str(), &b.permission))
    });
    Ok(all
        .into_iter()
        .map(|p| {
            json!({
                "appId": p.app_id, "kind": p.kind.as_str(), "permission": p.permission, "id": p.id,
                "grantedAt": format_timestamp(p.granted_at), "grantedBy": p.granted_by,
            })
        })
        .collect())
}

/// Orders a collection's items by id (the routers list in the store's order, which an import
/// does not keep).
fn sort_by_id(document: &mut Value) {
    if let Some(items) = document.get_mut("value").and_then(Value::as_array_mut) {
        items.sort_by(|a, b| a["id"].as_str().unwrap_or("").cmp(b["id"].as_str().unwrap_or("")));
    }
}

fn pretty(v: &Value) -> String {
    let mut text = serde_json::to_string_pretty(v).expect("JSON values serialise");
    text.push('\n');
    text
}

/// Writes one file per collection into `dir`, created if missing. A folder that holds anything
/// but a previous export (which has a [`TENANT_FILE`]) is refused, naming it.
fn write_folder(dir: &Path, collections: &[Collection], out: &mut dyn Write) -> Result<(), ApiError> {
    if dir.exists() {
        if !dir.is_dir() {
            return Err(refused(format!("{} is a file, not a folder", dir.display())));
        }
        let mut entries = std::fs::read_dir(dir).map_err(|e| io_error(&dir.display().to_string(), &e))?;
        let not_empty = entries.next().is_some();
        if not_empty && !dir.join(TENANT_FILE).is_file() {
            return Err(refused(format!(
                "{} is not empty and holds no {TENANT_FILE}: it does not look like a previous export, so nothing was written",
                dir.display()
            )));
        }
    } else {
        std::fs::create_dir_all(dir).map_err(|e| io_error(&dir.display().to_string(), &e))?;
    }
    for c in collections {
        let path = dir.join(&c.file);
        std::fs::write(&path, pretty(&c.document)).map_err(|e| io_error(&path.display().to_string(), &e))?;
    }
    writeln!(out, "exported {} collection(s) to {}", collections.len(), dir.display())
        .map_err(|e| io_error("the output", &e))
}

fn refused(message: String) -> ApiError {
    ApiError::new(400, crate::model::ErrorCode::PimlabImportInvalid, message)
}

fn io_error(what: &str, e: &std::io::Error) -> ApiError {
    ApiError::internal(format!("export: writing {what} failed: {e}"))
}
