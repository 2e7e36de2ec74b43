//! PIM for Groups as plain data (reference §6): the two relationships an assignment can grant,
//! and the composite ids the group API gives its schedules and instances.
//!
//! A group's "role" is its relationship (`accessId`) and its scope is the group, so a group's
//! schedule is stored as every other one: surface `group`, role `member` or `owner`, scope the
//! group's id. Only the wire names differ.

/// `privilegedAccessGroupRelationships`: what an assignment makes its principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupAccess {
    Member,
    Owner,
}

impl GroupAccess {
    pub const ALL: [GroupAccess; 2] = [GroupAccess::Member, GroupAccess::Owner];

    /// The wire value, which is also the stored role id and the membership relation.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupAccess::Member => "member",
            GroupAccess::Owner => "owner",
        }
    }

    /// `member` or `owner`, in any case (the service reads enums case-insensitively).
    pub fn parse(s: &str) -> Option<Self> {
        GroupAccess::ALL.into_iter().find(|a| a.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// As a person reads it: `Member`, `Owner`.
    pub fn title(self) -> &'static str {
        match self {
            GroupAccess::Member => "Member",
            GroupAccess::Owner => "Owner",
        }
    }
}

/// The `scopeType` of a group's policies.
pub const GROUP_SCOPE_TYPE: &str = "Group";

/// The id the group API gives a schedule or instance: `{groupId}_{accessId}_{id}` (reference §6;
/// the documented examples use it for schedules, instances and `targetScheduleId`).
pub fn composite_id(group_id: &str, access: &str, id: &str) -> String {
    format!("{group_id}_{access}_{id}")
}

/// The stored id inside a composite one (its last part); an id without parts is taken as it is.
pub fn inner_id(id: &str) -> &str {
    id.rsplit('_').next().unwrap_or(id)
}

/// The id of a group's policy: `Group_{groupId}_{guid}` (reference §3.10).
pub fn policy_id(group_id: &str, guid: &str) -> String {
    format!("{GROUP_SCOPE_TYPE}_{group_id}_{guid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_parses_in_any_case_and_nothing_else() {
        assert_eq!(GroupAccess::parse("Owner"), Some(GroupAccess::Owner));
        assert_eq!(GroupAccess::parse(" member "), Some(GroupAccess::Member));
        assert_eq!(GroupAccess::parse("members"), None);
        assert_eq!(GroupAccess::parse(""), None);
    }

    #[test]
    fn composite_ids_round_trip() {
        let id = composite_id("g", "member", "1234");
        assert_eq!(id, "g_member_1234");
        assert_eq!(inner_id(&id), "1234");
        assert_eq!(inner_id("plain"), "plain");
    }
}
