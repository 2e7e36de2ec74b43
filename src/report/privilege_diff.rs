//! `diff A B`: who gains and who loses which privilege, when, and why, between two stores of one
//! tenant (a store and its fork, a fork after a what-if scenario).
//!
//! Both stores are read at the same instants: the time asked (default: the later of the two
//! clocks, so a store whose clock is behind is read in its future, from the schedules it has
//! already made) and, over a period, every instant in it at which a schedule of either store starts
//! or ends, the only instants at which holdings change. A difference that lasts over several
//! instants is one change with a window. "Gain" means B holds what A does not; "loss" the reverse.

use std::collections::BTreeMap;

use serde::Serialize;

use super::chain::{Chain, Named, maybe_time, time};
use super::diff_reasons::{Reason, divergence, reasons};
use super::gates::Reader;
use super::holdings::{Held, Key, Privilege, ScopeNames, holdings};
use crate::engine::Engine;
use crate::model::time::{IsoDuration, checked_add, format_timestamp, latest};
use crate::model::{ApiError, ErrorCode, Status, Timestamp};

/// Which of the two stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Side {
    A,
    B,
}

/// A store compared: how it is named, its tenant and its clock.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreFacts {
    pub name: String,
    pub tenant_id: String,
    #[serde(serialize_with = "time")]
    pub clock: Timestamp,
}

/// B holds the privilege and A does not (`gain`), or the reverse (`loss`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Direction {
    Gain,
    Loss,
}

/// One difference: a privilege one store holds and the other does not, for a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub direction: Direction,
    pub privilege: Privilege,
    /// The first instant compared at which the stores differ so.
    #[serde(serialize_with = "time")]
    pub from: Timestamp,
    /// The first instant compared at which they no longer do; `None`: they still do at the last
    /// instant compared.
    #[serde(serialize_with = "maybe_time")]
    pub until: Option<Timestamp>,
    /// The chains that give the privilege in the store that holds it.
    pub via: Vec<Chain>,
    /// What made the difference: the audit rows of either store since their histories parted
    /// that name the principal (or a group on the chain) and the role, policy changes of the
    /// role, and the rows of the same requests (approvals).
    pub because: Vec<Reason>,
}

/// A request waiting for a decision in one store and not the other: not a privilege yet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Waiting {
    pub store: Side,
    pub request_id: String,
    pub principal: Named,
    pub role: Named,
    pub action: String,
    pub status: String,
    pub justification: Option<String>,
    #[serde(serialize_with = "time")]
    pub created: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivilegeDiff {
    pub a: StoreFacts,
    pub b: StoreFacts,
    /// The first instant compared.
    #[serde(serialize_with = "time")]
    pub at: Timestamp,
    /// The end of the period compared; `None`: only `at`.
    #[serde(serialize_with = "maybe_time")]
    pub until: Option<Timestamp>,
    /// Every instant compared (`at`, and each instant in the period at which either store's
    /// holdings can change).
    pub instants: usize,
    pub changes: Vec<Change>,
    pub waiting: Vec<Waiting>,
}

impl PrivilegeDiff {
    /// Neither store holds anything the other does not, and nothing waits in one only.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.waiting.is_empty()
    }
}

/// What to compare: an instant (default: the later of the two clocks), and a period after it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiffQuery {
    pub at: Option<Timestamp>,
    pub over: Option<Over>,
}

/// How long after the first instant to compare.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Over {
    /// A duration (`--over P7D`).
    For(IsoDuration),
    /// Up to an instant (a what-if run: to where its scenario moved the clock).
    Until(Timestamp),
}

/// The privilege diff of B against A. Both must be stores of one tenant.
pub fn privilege_diff(
    (a_name, a): (&str, &mut Engine),
    (b_name, b): (&str, &mut Engine),
    q: &DiffQuery,
) -> Result<PrivilegeDiff, ApiError> {
    let facts = |name: &str, e: &mut Engine| -> Result<StoreFacts, ApiError> {
        Ok(StoreFacts { name: name.to_string(), tenant_id: e.tenant_id()?, clock: e.now()? })
    };
    let (fa, fb) = (facts(a_name, a)?, facts(b_name, b)?);
    if !fa.tenant_id.eq_ignore_ascii_case(&fb.tenant_id) {
        return Err(ApiError::new(
            400,
            ErrorCode::PimlabDifferentTenants,
            format!(
                "{} holds tenant {} and {} holds tenant {}: only stores of one tenant (a store and its forks) can be compared",
                fa.name, fa.tenant_id, fb.name, fb.tenant_id
            ),
        ));
    }
    let at = q.at.unwrap_or(fa.clock.max(fb.clock));
    let until = match q.over {
        None => None,
        Some(Over::Until(t)) => Some(t.max(at)),
        Some(Over::For(d)) => Some(checked_add(at, d).ok_or_else(|| {
            ApiError::usage(format!(
                "{} after {} is past {}, the latest time there is",
                d,
                format_timestamp(at),
                format_timestamp(latest())
            ))
        })?),
    };
    let mut instants = vec![at];
    if let Some(until) = until {
        instants.extend(a.schedule_boundaries(at, until)?);
        instants.extend(b.schedule_boundaries(at, until)?);
    }
    instants.sort();
    instants.dedup();
    let (parted_a, parted_b) = divergence(a, b)?;
    let mut changes = {
        let mut ra = Reader::new(a, Some(at))?;
        let mut rb = Reader::new(b, Some(at))?;
        compare(&mut ra, &mut rb, &instants)?
    };
    for c in &mut changes {
        c.because = reasons(c, &parted_a, &parted_b, a, b)?;
    }
    changes.sort_by(|x, y| {
        (x.from, &x.privilege.principal.name, &x.privilege.role.name, x.direction, x.privilege.holds).cmp(&(
            y.from,
            &y.privilege.principal.name,
            &y.privilege.role.name,
            y.direction,
            y.privilege.holds,
        ))
    });
    let mut waiting = waiting_in(Side::A, a, b)?;
    waiting.extend(waiting_in(Side::B, b, a)?);
    Ok(PrivilegeDiff { a: fa, b: fb, at, until, instants: instants.len(), changes, waiting })
}

type Open = BTreeMap<(Direction, Key), (Held, Timestamp)>;

/// Both stores' holdings at each instant, differences merged into windows.
fn compare(a: &mut Reader<'_>, b: &mut Reader<'_>, instants: &[Timestamp]) -> Result<Vec<Change>, ApiError> {
    let (mut names_a, mut names_b) = (ScopeNames::default(), ScopeNames::default());
    let mut open: Open = BTreeMap::new();
    let mut done = Vec::new();
    for &t in instants {
        a.move_to(t);
        b.move_to(t);
        let (ha, hb) = (holdings(a, &mut names_a)?, holdings(b, &mut names_b)?);
        let mut now: BTreeMap<(Direction, Key), Held> = BTreeMap::new();
        for (k, held) in &hb {
            if !ha.contains_key(k) {
                now.insert((Direction::Gain, k.clone()), held.clone());
            }
        }
        for (k, held) in &ha {
            if !hb.contains_key(k) {
                now.insert((Direction::Loss, k.clone()), held.clone());
            }
        }
        let ended: Vec<(Direction, Key)> = open.keys().filter(|k| !now.contains_key(*k)).cloned().collect();
        for k in ended {
            if let Some((held, from)) = open.remove(&k) {
                done.push(change(k.0, held, from, Some(t)));
            }
        }
        for (k, held) in now {
            match open.get_mut(&k) {
                Some((kept, _)) => {
                    for chain in held.via {
                        if !kept.via.contains(&chain) {
                            kept.via.push(chain);
                        }
                    }
                }
                None => {
                    open.insert(k, (held, t));
                }
            }
        }
    }
    done.extend(open.into_iter().map(|(k, (held, from))| change(k.0, held, from, None)));
    Ok(done)
}

/// A difference found, before its reasons are looked up.
fn change(direction: Direction, held: Held, from: Timestamp, until: Option<Timestamp>) -> Change {
    Change { direction, privilege: held.privilege, from, until, via: held.via, because: Vec::new() }
}

/// Requests waiting for a decision in `this` store that do not wait in `other`.
fn waiting_in(side: Side, this: &mut Engine, other: &mut Engine) -> Result<Vec<Waiting>, ApiError> {
    let pending = |e: &mut Engine| -> Result<Vec<crate::model::ScheduleRequest>, ApiError> {
        let mut all = Vec::new();
        for status in [Status::PendingApproval, Status::PendingAdminDecision] {
            all.extend(
                e.requests(&crate::engine::RequestFilter { status: Some(status), ..Default::default() })?,
            );
        }
        Ok(all)
    };
    // Two stores parted from one seed give their next requests the same ids: a request is the
    // same one only if it is also for the same principal, role and action, made at the same time.
    let same = |q: &crate::model::ScheduleRequest| {
        (q.id.clone(), q.principal_id.clone(), q.role_definition_id.clone(), q.action, q.created_at)
    };
    let theirs: Vec<_> = pending(other)?.iter().map(same).collect();
    let mut reader = Reader::new(this, None)?;
    let mut out = Vec::new();
    for q in pending(reader.engine)?.into_iter().filter(|q| !theirs.contains(&same(q))) {
        let role = match q.surface {
            crate::model::Surface::Group => {
                Named { id: q.role_definition_id.clone(), name: q.role_definition_id.clone() }
            }
            surface => reader.role(surface, &q.role_definition_id)?,
        };
        out.push(Waiting {
            store: side,
            request_id: q.id.clone(),
            principal: reader.object(&q.principal_id)?,
            role,
            action: q.action.as_str().to_string(),
            status: q.status.as_str().to_string(),
            justification: q.justification.clone(),
            created: q.created_at,
        });
    }
    out.sort_by(|x, y| (x.created, &x.request_id).cmp(&(y.created, &y.request_id)));
    Ok(out)
}
