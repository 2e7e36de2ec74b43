//! Requests for the engine's API (`Engine::submit`), for the tests that drive the engine directly.

use pimlab::model::{
    Action, Expiration, IsoDuration, NewRequest, RequestKind, ScheduleInfo, Surface, Timestamp,
};

pub fn mins(n: i64) -> IsoDuration {
    IsoDuration::from_minutes(n)
}

pub fn hours(n: i64) -> IsoDuration {
    IsoDuration::from_hours(n)
}

pub fn days(n: i64) -> IsoDuration {
    IsoDuration::from_days(n)
}

/// A request for `principal` and `role` at the tenant scope, with the justification
/// "integration test" and no schedule.
pub fn req(kind: RequestKind, action: Action, principal: &str, role: &str) -> NewRequest {
    NewRequest {
        surface: Surface::Directory,
        kind,
        action,
        principal_id: principal.to_string(),
        role_definition_id: role.to_string(),
        directory_scope_id: Some("/".into()),
        app_scope_id: None,
        justification: Some("integration test".into()),
        schedule_info: None,
        ticket_info: None,
        is_validation_only: false,
    }
}

/// Small builders over [`NewRequest`].
pub trait RequestExt: Sized {
    fn lasting(self, d: IsoDuration) -> Self;
    fn permanent(self) -> Self;
    fn starting(self, start: Timestamp, d: IsoDuration) -> Self;
    fn justified(self, why: &str) -> Self;
    fn without_justification(self) -> Self;
    fn validation_only(self) -> Self;
}

impl RequestExt for NewRequest {
    fn lasting(mut self, d: IsoDuration) -> Self {
        self.schedule_info = Some(ScheduleInfo { start: None, expiration: Expiration::after(d) });
        self
    }
    fn permanent(mut self) -> Self {
        self.schedule_info = Some(ScheduleInfo { start: None, expiration: Expiration::never() });
        self
    }
    fn starting(mut self, start: Timestamp, d: IsoDuration) -> Self {
        self.schedule_info = Some(ScheduleInfo { start: Some(start), expiration: Expiration::after(d) });
        self
    }
    fn justified(mut self, why: &str) -> Self {
        self.justification = Some(why.into());
        self
    }
    fn without_justification(mut self) -> Self {
        self.justification = None;
        self
    }
    fn validation_only(mut self) -> Self {
        self.is_validation_only = true;
        self
    }
}
