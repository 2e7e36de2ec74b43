//! The vocabulary of the who/what reports: who holds a role, through which chain, in which
//! window, and what stands between an eligible principal and the role.

use serde::{Serialize, Serializer};

use crate::model::Timestamp;
use crate::model::time::format_timestamp;

pub(super) fn time<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_timestamp(*t))
}

pub(super) fn maybe_time<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format_timestamp(*t)),
        None => s.serialize_none(),
    }
}

/// A directory object, a role or a scope: its id and the name people read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Named {
    pub id: String,
    pub name: String,
}

/// Whether the time asked about is before, at or after the tenant's clock: a past time reads the
/// schedules that were in effect then, a future one the schedules already made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum When {
    Past,
    Now,
    Future,
}

impl When {
    pub fn of(at: Timestamp, now: Timestamp) -> When {
        match at.cmp(&now) {
            std::cmp::Ordering::Less => When::Past,
            std::cmp::Ordering::Equal => When::Now,
            std::cmp::Ordering::Greater => When::Future,
        }
    }
}

/// Whether the principal holds the role at the time (nothing to do), or could hold it by
/// activating what it is eligible for (no administrator's help, perhaps an approver's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Holding {
    Active,
    Eligible,
}

/// How the principal belongs to the group that holds the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Membership {
    /// A member added outside PIM. The store keeps no history of these: for a past or future
    /// time they are read as they are now.
    Direct,
    /// A PIM for Groups membership in effect (an active assignment to the group's `member`).
    PimActive,
    /// Eligible for PIM for Groups membership: the principal activates the membership first.
    PimEligible,
}

/// A group on the chain and how the principal is its member.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupLink {
    pub group: Named,
    pub membership: Membership,
}

/// Through what the principal holds the role: the role's schedule (on the principal itself, or on
/// a group it belongs to) and where that schedule was made.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Chain {
    /// The role's schedule (eligibility or assignment).
    pub schedule_id: String,
    /// `eligibility` or `assignment`: what the schedule gives its holder.
    pub kind: &'static str,
    /// For an assignment: `Assigned` (by an administrator) or `Activated` (from an eligibility).
    pub assignment_type: Option<&'static str>,
    /// Where the schedule was made.
    pub scope: String,
    /// Made at a scope above the one asked about (an Azure parent scope, or the whole tenant for
    /// a directory role asked about at an administrative unit): the role is inherited.
    pub inherited: bool,
    /// The group that holds the role, when the principal holds it as the group's member.
    pub group: Option<GroupLink>,
}

/// When the chain gives the role: where all of its links overlap.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    #[serde(serialize_with = "time")]
    pub start: Timestamp,
    /// `None`: permanent.
    #[serde(serialize_with = "maybe_time")]
    pub end: Option<Timestamp>,
}

impl Window {
    /// The part of both windows.
    pub fn and(self, other: Window) -> Window {
        Window { start: self.start.max(other.start), end: earlier_end(self.end, other.end) }
    }
}

/// The earlier of two ends, `None` being never.
pub(super) fn earlier_end(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// One thing that stands between an eligible principal and the role, as the settings say now
/// (the store keeps no history of settings, so a past time is judged by today's).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Obstacle {
    /// What the principal activates when it meets this: `role`, or `membership` of the chain's group.
    pub on: &'static str,
    #[serde(flatten)]
    pub kind: ObstacleKind,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ObstacleKind {
    /// An approver must approve; `default_approvers`: the policy names none, so the Privileged
    /// Role Administrators and Global Administrators do.
    #[serde(rename_all = "camelCase")]
    Approval {
        approvers: Vec<Named>,
        default_approvers: bool,
    },
    /// Multi-factor authentication at activation.
    Mfa,
    /// A Conditional Access authentication context.
    AuthenticationContext {
        claim: String,
    },
    Justification,
    Ticket,
    /// The longest activation the policy allows (ISO 8601).
    #[serde(rename_all = "camelCase")]
    MaximumDuration {
        duration: String,
    },
    /// A policy hook that would run on the activation, by name.
    Hook {
        name: String,
    },
}

/// One principal holding (or able to hold) one role.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    pub principal: Named,
    pub role: Named,
    pub holds: Holding,
    pub via: Chain,
    pub window: Window,
    /// Empty for an active holder.
    pub obstacles: Vec<Obstacle>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::parse_timestamp;

    fn t(text: &str) -> Timestamp {
        parse_timestamp(text).expect("a time")
    }

    #[test]
    fn a_chain_gives_the_role_where_its_windows_overlap() {
        let role = Window { start: t("2025-01-01T00:00:00Z"), end: None };
        let membership = Window { start: t("2025-02-01T00:00:00Z"), end: Some(t("2025-03-01T00:00:00Z")) };
        assert_eq!(role.and(membership), membership);
        assert_eq!(membership.and(role), membership);
        let earlier = Window { start: t("2024-12-01T00:00:00Z"), end: Some(t("2025-02-15T00:00:00Z")) };
        assert_eq!(
            membership.and(earlier),
            Window { start: t("2025-02-01T00:00:00Z"), end: Some(t("2025-02-15T00:00:00Z")) }
        );
        assert_eq!(earlier_end(None, None), None, "permanent and permanent stay permanent");
    }

    #[test]
    fn a_time_is_past_now_or_future_against_the_clock() {
        let now = t("2025-01-06T09:00:00Z");
        assert_eq!(When::of(t("2025-01-06T08:59:59Z"), now), When::Past);
        assert_eq!(When::of(now, now), When::Now);
        assert_eq!(When::of(t("2025-01-06T09:00:01Z"), now), When::Future);
    }
}
