//! Why two stores differ: the audit rows each wrote after their histories parted (a fork shares
//! its original's trail up to the fork), picked for one privilege: rows that name its principal
//! (or a group on its chain) and its role (or that group), the role's policy changes, and the
//! other rows of the same requests (approvals, decisions).

use serde::Serialize;

use super::chain::{Named, time};
use super::privilege_diff::{Change, Side};
use crate::engine::{AuditQuery, Engine};
use crate::model::audit::AuditRecord;
use crate::model::{ApiError, Timestamp};

/// The activity a policy change is audited as (the engine's `RoleSettingUpdated`).
const POLICY_CHANGE: &str = "Update role setting in PIM";

/// One audit row of one store that explains a difference, with its request's facts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    pub store: Side,
    #[serde(serialize_with = "time")]
    pub at: Timestamp,
    pub activity: String,
    pub actor: Named,
    pub result: String,
    /// The row's reason: a justification, a verdict, what failed.
    pub reason: Option<String>,
    pub request: Option<RequestFacts>,
}

/// The request an audit row is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestFacts {
    pub id: String,
    pub action: String,
    pub status: String,
    pub justification: Option<String>,
}

/// Each store's audit rows after the longest history both share.
pub(super) fn divergence(
    a: &mut Engine,
    b: &mut Engine,
) -> Result<(Vec<AuditRecord>, Vec<AuditRecord>), ApiError> {
    let (mut ra, mut rb) = (a.audit(&AuditQuery::default())?, b.audit(&AuditQuery::default())?);
    let shared = ra.iter().zip(rb.iter()).take_while(|(x, y)| x == y).count();
    Ok((ra.split_off(shared), rb.split_off(shared)))
}

/// The rows of either store that explain `c`.
pub(super) fn reasons(
    c: &Change,
    parted_a: &[AuditRecord],
    parted_b: &[AuditRecord],
    a: &mut Engine,
    b: &mut Engine,
) -> Result<Vec<Reason>, ApiError> {
    let groups: Vec<&str> =
        c.via.iter().filter_map(|v| v.group.as_ref()).map(|g| g.group.id.as_str()).collect();
    let principal = [c.privilege.principal.id.as_str()];
    let mut links: Vec<&str> = vec![c.privilege.role.id.as_str(), c.privilege.scope.id.as_str()];
    links.extend(&groups);
    let role = [c.privilege.role.id.as_str()];
    // The principal's own rows about the role or a group on the chain; the chain's groups' rows
    // about the role; the role's policy changes.
    let about = [(&principal[..], &links[..]), (&groups[..], &role[..])];
    let mut out = Vec::new();
    for (side, rows, engine) in [(Side::A, parted_a, a), (Side::B, parted_b, b)] {
        for row in pick(rows, &about, &role) {
            out.push(reason(side, row, engine)?);
        }
    }
    Ok(out)
}

/// The rows that name one of `who` and one of its `what`, policy changes of `role`, and the other
/// rows of their requests.
fn pick<'r>(rows: &'r [AuditRecord], about: &[(&[&str], &[&str])], role: &[&str]) -> Vec<&'r AuditRecord> {
    let names = |row: &AuditRecord, ids: &[&str]| {
        row.targets.iter().any(|t| ids.iter().any(|id| id.eq_ignore_ascii_case(&t.id)))
    };
    let direct: Vec<&AuditRecord> = rows
        .iter()
        .filter(|r| {
            about.iter().any(|(who, what)| names(r, who) && names(r, what))
                || (r.activity.starts_with(POLICY_CHANGE) && names(r, role))
        })
        .collect();
    let requests: Vec<&str> = direct.iter().filter_map(|r| r.request_id.as_deref()).collect();
    rows.iter()
        .filter(|r| {
            direct.iter().any(|d| std::ptr::eq(*d, *r))
                || r.request_id.as_deref().is_some_and(|q| requests.contains(&q))
        })
        .collect()
}

fn reason(store: Side, row: &AuditRecord, engine: &mut Engine) -> Result<Reason, ApiError> {
    let actor = match engine.object(&row.actor_id)? {
        Some(o) => Named { id: o.id, name: o.user_principal_name.unwrap_or(o.display_name) },
        None => Named { id: row.actor_id.clone(), name: row.actor_id.clone() },
    };
    let request = match &row.request_id {
        Some(id) => engine.request(id, None).ok().map(|q| RequestFacts {
            id: q.id,
            action: q.action.as_str().to_string(),
            status: q.status.as_str().to_string(),
            justification: q.justification,
        }),
        None => None,
    };
    Ok(Reason {
        store,
        at: row.at,
        activity: row.activity.clone(),
        actor,
        result: row.result.clone(),
        reason: row.reason.clone(),
        request,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::audit::AuditTarget;

    fn row(seq: i64, activity: &str, targets: &[&str], request: Option<&str>) -> AuditRecord {
        AuditRecord {
            seq,
            at: Timestamp::default(),
            actor_id: "admin".into(),
            activity: activity.into(),
            category: "RoleManagement".into(),
            result: "success".into(),
            reason: None,
            request_id: request.map(str::to_string),
            targets: targets
                .iter()
                .map(|id| AuditTarget { id: id.to_string(), kind: "x".into(), display_name: None })
                .collect(),
        }
    }

    #[test]
    fn a_privileges_reasons_are_its_own_rows_its_groups_rows_about_the_role_and_their_requests() {
        let rows = [
            row(1, "Add group", &["night"], None),
            row(2, "Add member to group", &["night", "ben"], None),
            row(3, "Add member to group", &["night", "emma"], None),
            row(4, "Add member to role in PIM requested", &["reader", "night"], Some("q1")),
            row(5, "Approve", &["someone"], Some("q1")),
            row(6, "Update role setting in PIM", &["reader"], None),
            row(7, "Update role setting in PIM", &["other role"], None),
            row(8, "Add member to role in PIM requested", &["reader", "ben"], Some("q2")),
        ];
        let (principal, groups, role) = (["ben"], ["night"], ["reader"]);
        let links = ["reader", "/", "night"];
        let about = [(&principal[..], &links[..]), (&groups[..], &role[..])];
        let picked: Vec<i64> = pick(&rows, &about, &role).iter().map(|r| r.seq).collect();
        // Not the group's creation, nor emma's membership, nor another role's settings.
        assert_eq!(picked, [2, 4, 5, 6, 8]);
    }
}
