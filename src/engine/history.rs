//! Reads over a stretch of the store's history, for the reports that look back (activity,
//! timeline): the schedules in effect at some point of it, and the requests the service refused.
//!
//! A refused request leaves only its audit row (ARCHITECTURE.md, invariant 3), so refusals are
//! read back from the audit trail here, where the audit vocabulary lives: a row is a refusal when
//! its activity is one that [`Activity::request`] names for a failed request, never by matching
//! words of its text elsewhere.

use super::Engine;
use super::audit::{Activity, Outcome};
use crate::model::{Action, ApiError, RequestKind, Schedule, Timestamp};

/// A request the service refused, as its audit row tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub at: Timestamp,
    /// Who asked.
    pub actor_id: String,
    pub kind: RequestKind,
    pub action: Action,
    /// The request's principal and role (its audit row's targets); `None` when the row has none.
    pub principal_id: Option<String>,
    pub role_id: Option<String>,
    /// The error's `code: message`.
    pub reason: Option<String>,
}

impl Engine {
    /// Schedules of either kind and any state in effect at some point of `[from, to)`: live ones,
    /// and ended ones the store still keeps.
    pub fn schedules_overlapping(
        &mut self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Schedule>, ApiError> {
        self.read(|tx, _| Ok(tx.schedules_overlapping(from, to)?))
    }

    /// The requests refused in `[from, to)`, in the order they were refused.
    pub fn refusals(&mut self, from: Timestamp, to: Timestamp) -> Result<Vec<Refusal>, ApiError> {
        // Every activity name a refused request can carry, with what it says of the request.
        let mut names = Vec::new();
        for kind in [RequestKind::Eligibility, RequestKind::Assignment] {
            for action in Action::ALL {
                for permanent in [false, true] {
                    let name = Activity::request(kind, action, permanent, Outcome::Failed).to_string();
                    names.push((name, kind, action));
                }
            }
        }
        self.read(|tx, _| {
            let rows = tx.audit_where(Some(from), &mut |r| r.at < to && r.request_id.is_none())?;
            Ok(rows
                .into_iter()
                .filter_map(|r| {
                    let (_, kind, action) = names.iter().find(|(n, _, _)| *n == r.activity)?;
                    let role_id = r.targets.iter().find(|t| t.kind == "Role").map(|t| t.id.clone());
                    let principal_id = r.targets.iter().find(|t| t.kind != "Role").map(|t| t.id.clone());
                    Some(Refusal {
                        at: r.at,
                        actor_id: r.actor_id,
                        kind: *kind,
                        action: *action,
                        principal_id,
                        role_id,
                        reason: r.reason,
                    })
                })
                .collect())
        })
    }
}
