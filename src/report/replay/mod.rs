//! `replay`: the backtest. The requests of the store's history are played again, in time order,
//! on a private in-memory fork whose policies (or hooks) differ, and the report says which
//! outcomes change: granted -> refused (with the engine's error code), granted -> waited for
//! approval (and for how long, when history has the approver's decision to replay), durations
//! shortened, and not granted -> granted; with totals per kind of change and per role.
//!
//! The only writes are to forks in memory; the store asked about is only read.
//!
//! What the fork starts from: the store holds the tenant as it is now, so the fork is a copy of
//! it turned back to the instant of the first replayed request (`Engine::rewound_fork`): those
//! requests and what they made (schedules, approval steps, notifications, audit rows) are
//! forgotten, the schedules they (or the clock) ended are in effect again, and the clock reads
//! that instant. Each request is then submitted again at its own time, as its caller, with its
//! stored body; the clock moves between requests as `clock advance` moves it (starts, expiries,
//! approval timeouts); an approver's decision and a cancellation are made again at their
//! recorded times when the replayed request still waits. At the end the clock moves to the
//! store's own.
//!
//! The baseline: the same history is replayed on the same rewound fork with nothing changed,
//! and the report compares the changed replay with it, so a difference that comes from replaying
//! itself is never blamed on the change. The report also says how many baseline outcomes match
//! history, and lists those that do not.
//!
//! Limits (also in the README's fidelity table):
//! - refused requests leave only an audit row (ARCHITECTURE.md, invariant 3): they are counted,
//!   not replayed; requests purged from the store (45 days after creation) are not replayed;
//! - what the store keeps no history of is as it is now throughout the replay: directory objects
//!   (one made after a request exists before it), memberships and assignments made outside PIM,
//!   today's policy settings and hooks (the change is made on top of them);
//! - requests made before the first replayed one keep the outcome they have now;
//! - a session's MFA is known only where a rule asked for it (the decision trace records it);
//!   elsewhere it is assumed ([`ASSUME_MFA_WHEN_UNRECORDED`]); authentication-context claims
//!   likewise come from the trace;
//! - a stored request keeps the schedule it was given, not the one asked for: a duration that
//!   was the old maximum by default reads as asked for; see [`SHORTEN_TO_MAXIMUM`];
//! - an administrator's denial of a self-service extension or renewal leaves no approval step and
//!   is not replayed (an approval is: it is the administrator's own request).

mod compare;
mod fate;
mod history;
mod play;

use std::collections::HashMap;

use serde::Serialize;

use super::chain::{Named, maybe_time, time};
pub use compare::ChangeKind;
pub use fate::{Answer, Fate};
use history::History;

use crate::engine::Engine;
use crate::model::{Action, ApiError, Progress, ScheduleRequest, Timestamp};

/// A replayed request that asked for longer than the (changed) policy allows is replayed asking
/// for the maximum, as the portal's slider would have made its requester do, and reported as
/// shortened; with this off it is refused (ExpirationRule), as the API would refuse it.
pub const SHORTEN_TO_MAXIMUM: bool = true;

/// The store does not record whether a session satisfied MFA unless a rule asked: such a request
/// is replayed as from a session with MFA (pimlab's default session), so requiring MFA changes
/// only requests history shows without it.
pub const ASSUME_MFA_WHEN_UNRECORDED: bool = true;

/// What to replay: from when, and the changes (described for the report) that `change` makes on
/// the fork.
pub struct ReplayQuery {
    pub since: Option<Timestamp>,
    pub changes: Vec<String>,
}

/// One request whose outcome changed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The request's id in the store's history.
    pub request: String,
    #[serde(serialize_with = "time")]
    pub at: Timestamp,
    pub action: String,
    pub principal: Named,
    pub role: Named,
    pub kind: ChangeKind,
    pub detail: String,
    pub before: Fate,
    pub after: Fate,
}

/// How many changes of each kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub refused: usize,
    pub waited: usize,
    pub shortened: usize,
    pub lengthened: usize,
    pub granted: usize,
    pub other: usize,
}

impl Totals {
    fn add(&mut self, kind: ChangeKind) {
        *self.slot(kind) += 1;
    }

    fn slot(&mut self, kind: ChangeKind) -> &mut usize {
        match kind {
            ChangeKind::Refused => &mut self.refused,
            ChangeKind::Waited => &mut self.waited,
            ChangeKind::Shortened => &mut self.shortened,
            ChangeKind::Lengthened => &mut self.lengthened,
            ChangeKind::Granted => &mut self.granted,
            ChangeKind::Other => &mut self.other,
        }
    }

    /// The count of one kind.
    pub fn of(&self, kind: ChangeKind) -> usize {
        *self.clone().slot(kind)
    }
}

/// The totals of one role.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleTotals {
    pub role: Named,
    pub totals: Totals,
}

/// What a replay found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplayReport {
    #[serde(serialize_with = "maybe_time")]
    pub since: Option<Timestamp>,
    /// The first replayed request's time (none: nothing to replay).
    #[serde(serialize_with = "maybe_time")]
    pub from: Option<Timestamp>,
    /// The store's clock, where the replay ended.
    #[serde(serialize_with = "time")]
    pub until: Timestamp,
    /// The changes replayed, as given.
    pub changes_made: Vec<String>,
    pub replayed: usize,
    /// Requests refused in history: only their audit row is stored, so they cannot be replayed.
    pub refused_in_history_not_replayable: usize,
    /// Baseline outcomes that match history.
    pub reproduced: usize,
    /// Baseline outcomes that differ from history (the replay's own limits, not the change's).
    pub differs_from_history: Vec<Change>,
    pub totals: Totals,
    pub by_role: Vec<RoleTotals>,
    pub changes: Vec<Change>,
}

/// Replays the history from `q.since` on a fork changed by `change`, beside the baseline, and
/// reports the differences. `engine`'s store is only read.
pub fn replay(
    engine: &mut Engine,
    q: &ReplayQuery,
    change: &mut dyn FnMut(&mut Engine) -> Result<(), ApiError>,
    progress: &dyn Progress,
) -> Result<ReplayReport, ApiError> {
    let history = History::read(engine, q.since)?;
    let (mut baseline, _) = engine.rewound_fork(history.from.unwrap_or(history.until))?;
    let mut changed = baseline.fork_in_memory().map_err(|e| ApiError::internal(e.to_string()))?;
    // The change is made first, so that a change the tenant refuses is reported before any replay.
    change(&mut changed)?;
    let before = play::play(&mut baseline, &history, "baseline", progress)?;
    let after = play::play(&mut changed, &history, "replay", progress)?;
    let mut names = Names::default();
    let mut report = ReplayReport {
        since: q.since,
        from: history.from,
        until: history.until,
        changes_made: q.changes.clone(),
        replayed: history.requests.len(),
        refused_in_history_not_replayable: history.refused,
        reproduced: 0,
        differs_from_history: Vec::new(),
        totals: Totals::default(),
        by_role: Vec::new(),
        changes: Vec::new(),
    };
    let mut by_role: Vec<RoleTotals> = Vec::new();
    let mut touched: std::collections::HashSet<(String, String)> = Default::default();
    for (n, stored) in history.requests.iter().enumerate() {
        let past = Fate::in_history(stored, history.decision_of(n));
        match compare::classify(&past, &before[n]) {
            None => report.reproduced += 1,
            Some(kind) => {
                let change = names.change(engine, stored, kind, &past, &before[n], history.until)?;
                report.differs_from_history.push(change);
            }
        }
        let Some(kind) = compare::classify(&before[n], &after[n]) else { continue };
        let mut change = names.change(engine, stored, kind, &before[n], &after[n], history.until)?;
        // A deactivation (or extension, removal) refused because the grant before it changed is
        // a knock-on of that change, not a change of its own making.
        let target = (stored.principal_id.clone(), stored.role_definition_id.clone());
        let acts_on_a_grant = !matches!(stored.action, Action::SelfActivate | Action::AdminAssign);
        if !touched.insert(target) && acts_on_a_grant {
            change.detail.push_str(" (after an earlier change for this principal and role)");
        }
        report.totals.add(kind);
        match by_role.iter_mut().find(|r| r.role.id == change.role.id) {
            Some(r) => r.totals.add(kind),
            None => {
                let mut totals = Totals::default();
                totals.add(kind);
                by_role.push(RoleTotals { role: change.role.clone(), totals });
            }
        }
        report.changes.push(change);
    }
    by_role.sort_by(|a, b| a.role.name.cmp(&b.role.name));
    report.by_role = by_role;
    Ok(report)
}

/// Names of principals and roles, each looked up once.
#[derive(Default)]
struct Names {
    principals: HashMap<String, Named>,
    roles: HashMap<String, Named>,
}

impl Names {
    fn change(
        &mut self,
        engine: &mut Engine,
        q: &ScheduleRequest,
        kind: ChangeKind,
        before: &Fate,
        after: &Fate,
        until: Timestamp,
    ) -> Result<Change, ApiError> {
        let approver = match &after.decided_by {
            Some(id) => Some(self.principal(engine, id)?.name),
            None => None,
        };
        Ok(Change {
            request: q.id.clone(),
            at: q.created_at,
            action: q.action.as_str().to_string(),
            principal: self.principal(engine, &q.principal_id)?,
            role: self.role(engine, &q.role_definition_id),
            kind,
            detail: compare::describe(kind, before, after, until, approver.as_deref()),
            before: before.clone(),
            after: after.clone(),
        })
    }

    fn principal(&mut self, engine: &mut Engine, id: &str) -> Result<Named, ApiError> {
        if let Some(n) = self.principals.get(id) {
            return Ok(n.clone());
        }
        let name = engine.object(id)?.map_or_else(|| id.to_string(), |o| o.display_name);
        let named = Named { id: id.to_string(), name };
        self.principals.insert(id.to_string(), named.clone());
        Ok(named)
    }

    /// A directory role, an Azure role or a group's `member`/`owner`, by its id.
    fn role(&mut self, engine: &mut Engine, id: &str) -> Named {
        if let Some(n) = self.roles.get(id) {
            return n.clone();
        }
        let name = engine
            .role(id)
            .map(|r| r.display_name)
            .or_else(|_| engine.azure_role(id).map(|r| r.role_name))
            .unwrap_or_else(|_| id.to_string());
        let named = Named { id: id.to_string(), name };
        self.roles.insert(id.to_string(), named.clone());
        named
    }
}
