//! What ARM's spelling carries of an Azure policy and an Azure schedule, to tell an import of
//! what the store already holds from a change. ARM's rules do not carry every field of the
//! model's (an approver's `isBackup` left unset reads back as `false`), and a schedule shows its
//! end as a time whatever its expiration was, and its last change as its creation when nobody
//! changed it: compared in the model, an identical import would count as an update.

use crate::model::policy::Policy;
use crate::model::{Schedule, ScheduleState};

/// Whether two Azure policies are the same as ARM writes them.
pub fn same_policy(old: &Policy, new: &Policy) -> bool {
    let arm = |p: &Policy| p.rules.iter().map(crate::api::arm::rules::to_arm).collect::<Vec<_>>();
    (&old.id, &old.role_definition_id, &old.last_modified_at, &old.last_modified_by)
        == (&new.id, &new.role_definition_id, &new.last_modified_at, &new.last_modified_by)
        && old.scope_id.eq_ignore_ascii_case(&new.scope_id)
        && arm(old) == arm(new)
}

/// Whether the store's schedule `old` is the one ARM wrote as `new` (as the import reads it,
/// before its end is worked out): a live schedule with the same properties, ending at the same
/// time.
pub fn same_schedule(old: &Schedule, new: &Schedule) -> bool {
    let scope = |s: &Schedule| s.directory_scope_id.as_deref().map(str::to_ascii_lowercase);
    let shown = |s: &Schedule, end| {
        (
            (s.surface, s.kind, s.principal_id.clone(), s.role_definition_id.clone(), scope(s)),
            (s.member_type, s.assignment_type, s.status, s.created_using.clone(), s.activated_using.clone()),
            (s.created_at, s.modified_at.or(s.created_at), s.start(), end),
        )
    };
    old.state == ScheduleState::Live
        && shown(old, old.end_at) == shown(new, new.schedule_info.end_from(new.start()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Expiration, IsoDuration, MemberType, RequestKind, ScheduleInfo, Status, Surface};

    fn eligibility(expiration: Expiration) -> Schedule {
        let start = crate::model::time::parse_timestamp("2025-01-06T09:00:00Z").unwrap();
        let mut s = Schedule {
            id: "e1".into(),
            surface: Surface::AzureResource,
            kind: RequestKind::Eligibility,
            principal_id: "p".into(),
            role_definition_id: "r".into(),
            directory_scope_id: Some("/subscriptions/S".into()),
            app_scope_id: None,
            member_type: MemberType::Direct,
            assignment_type: None,
            status: Status::Provisioned,
            state: ScheduleState::Live,
            created_using: Some("e1".into()),
            created_at: Some(start),
            modified_at: None,
            schedule_info: ScheduleInfo { start: Some(start), expiration },
            end_at: None,
            activated_using: None,
            instance_id: "i".into(),
            ended_at: None,
            replaces: None,
            warn_14_at: None,
            warn_1_at: None,
        };
        s.end_at = s.schedule_info.end_from(start);
        s
    }

    #[test]
    fn a_duration_and_the_end_it_gives_are_the_same_schedule_over_arm() {
        let stored = eligibility(Expiration::after(IsoDuration::from_days(90)));
        let mut read = eligibility(Expiration::at(stored.end_at.unwrap()));
        read.modified_at = read.created_at;
        read.directory_scope_id = Some("/subscriptions/s".into());
        assert!(same_schedule(&stored, &read));
    }

    #[test]
    fn another_end_status_or_an_ended_schedule_is_a_change() {
        let stored = eligibility(Expiration::after(IsoDuration::from_days(90)));
        let later = eligibility(Expiration::after(IsoDuration::from_days(91)));
        assert!(!same_schedule(&stored, &later));
        let mut revoked = stored.clone();
        revoked.status = Status::Revoked;
        assert!(!same_schedule(&stored, &revoked));
        let mut ended = stored.clone();
        ended.state = ScheduleState::Expired;
        assert!(!same_schedule(&ended, &stored));
    }
}
