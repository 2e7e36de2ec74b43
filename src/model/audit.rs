//! Audit records as the engine writes them and the surfaces show them (Graph's `directoryAudit`,
//! the `audit` table).

use super::Timestamp;

/// One audit record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    pub seq: i64,
    pub at: Timestamp,
    pub actor_id: String,
    pub activity: String,
    pub category: String,
    pub result: String,
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub targets: Vec<AuditTarget>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditTarget {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub display_name: Option<String>,
}
