//! What a replay reads of the store's history beyond requests and the audit trail (the
//! approvers' decisions), and the private fork it replays on: an in-memory copy of the store
//! turned back to the instant before the first replayed request.

use super::Engine;
use super::audit::Audit;
use crate::model::approval::ApprovalStep;
use crate::model::{ApiError, Timestamp};
use crate::store::Rewound;

impl Engine {
    /// The approval steps decided at or after `since`, in the order they were decided.
    pub fn steps_decided_since(&mut self, since: Timestamp) -> Result<Vec<ApprovalStep>, ApiError> {
        self.read(|tx, _| Ok(tx.steps_decided_since(since)?))
    }

    /// A private in-memory copy of this store as it was before the requests created at or after
    /// `from`: those requests and what they made are gone, what they ended is in effect again,
    /// and the clock reads `from`. This store is not changed. What the store keeps no history of
    /// (directory objects, memberships outside PIM, assignments outside PIM, policies, hooks)
    /// is in the copy as it is now.
    pub fn rewound_fork(&self, from: Timestamp) -> Result<(Engine, Rewound), ApiError> {
        let mut fork = self.fork_in_memory().map_err(|e| match e {
            crate::store::StoreError::Sqlite { source, .. } => ApiError::from(source),
            other => ApiError::internal(other.to_string()),
        })?;
        let rewound = fork.write(|tx, _| {
            let rewound = tx.rewind_requests(from)?;
            Ok((rewound, Audit::none("a replay's private fork forgets the requests it replays")))
        })?;
        Ok((fork, rewound))
    }
}
