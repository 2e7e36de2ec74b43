//! PIM for Groups in the store: which memberships are PIM's. A group's member or owner
//! assignment (surface `group`, the group's id as its scope, `member` or `owner` as its role) is a
//! membership exactly while it is in effect, as an instance is (schema.sql), so a membership
//! cannot outlive its schedule or start before it. `members` and `containers_of` (directory.rs)
//! read both kinds.

use rusqlite::{OptionalExtension, params};

use super::Tx;
use super::cache::joined_key;
use crate::model::{RequestKind, ScheduleState, Status, Surface};

/// The schedules that are memberships now: live, provisioned group assignments.
pub(super) const PIM_MEMBERSHIP: &str = "surface = 1 /* group */ AND kind = 0 /* assignment */ AND state = 1 /* live */ AND status = 0 /* Provisioned */";

impl Tx<'_> {
    /// Whether `member` was added to `group` as `relation` outside PIM (a row of its own).
    pub fn has_direct_membership(&self, group: &str, member: &str, relation: &str) -> rusqlite::Result<bool> {
        Ok(self
            .tx
            .cached("SELECT 1 FROM memberships WHERE container_id = ?1 AND member_id = ?2 AND relation = ?3")?
            .query_row(params![group, member, relation], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Whether `member` is a `relation` of `group` now, outside PIM or through it: asked before
    /// and after every change of a group assignment. Both halves are remembered: the direct
    /// membership until one is added, the PIM one as `has_pim_membership` answers it.
    pub fn is_group_holder(&self, group: &str, member: &str, relation: &str) -> rusqlite::Result<bool> {
        Ok(self.has_direct_membership_remembered(group, member, relation)?
            || self.has_pim_membership(group, member, relation)?)
    }

    /// `has_direct_membership`, remembered (`Caches::memberships`).
    fn has_direct_membership_remembered(
        &self,
        group: &str,
        member: &str,
        relation: &str,
    ) -> rusqlite::Result<bool> {
        let key = joined_key(&[group, relation, member]);
        self.remembered(|c| &mut c.memberships, &key, || self.has_direct_membership(group, member, relation))
    }

    /// Whether a PIM for Groups assignment makes `member` a `relation` of `group` now:
    /// `PIM_MEMBERSHIP` among the member's live assignments of `relation`, as `schedules_of`
    /// remembers them (a membership's activation and expiry write through them). Ids compare as
    /// the store keeps them, exactly (keys.rs).
    pub fn has_pim_membership(&self, group: &str, member: &str, relation: &str) -> rusqlite::Result<bool> {
        let live = self.schedules_of(RequestKind::Assignment, member, relation, ScheduleState::Live)?;
        Ok(live.iter().any(|s| {
            s.surface == Surface::Group
                && s.status == Status::Provisioned
                && s.directory_scope_id.as_deref() == Some(group)
        }))
    }
}
