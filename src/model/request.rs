//! Schedule requests, schedules and the enumerations they use.
//!
//! One set of types serves every surface: a role lives on a [`Surface`] at a scope, so Azure
//! resource roles and PIM for Groups add views and rules rather than a second engine.

use std::fmt;

use super::time::{IsoDuration, Timestamp};

/// Where a role lives. Only directory roles exist today; the others are reserved so that adding
/// them adds views and rules, not a second engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Surface {
    /// Microsoft Entra directory roles (`roleManagement/directory`).
    Directory,
    /// Azure resource roles (ARM `Microsoft.Authorization`).
    AzureResource,
    /// PIM for Groups (`identityGovernance/privilegedAccess/group`).
    Group,
}

impl Surface {
    pub fn as_str(self) -> &'static str {
        match self {
            Surface::Directory => "directory",
            Surface::AzureResource => "azureResource",
            Surface::Group => "group",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "directory" => Some(Surface::Directory),
            "azureResource" => Some(Surface::AzureResource),
            "group" => Some(Surface::Group),
            _ => None,
        }
    }
}

/// Eligibility (may activate) or assignment (holds the role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    Eligibility,
    Assignment,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Eligibility => "eligibility",
            RequestKind::Assignment => "assignment",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "eligibility" => Some(RequestKind::Eligibility),
            "assignment" => Some(RequestKind::Assignment),
            _ => None,
        }
    }
    /// The `level` a policy rule targets for this kind.
    pub fn level(self) -> &'static str {
        match self {
            RequestKind::Eligibility => "Eligibility",
            RequestKind::Assignment => "Assignment",
        }
    }
}

/// `unifiedRoleScheduleRequestActions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    AdminAssign,
    AdminUpdate,
    AdminRemove,
    SelfActivate,
    SelfDeactivate,
    AdminExtend,
    AdminRenew,
    SelfExtend,
    SelfRenew,
}

impl Action {
    pub const ALL: [Action; 9] = [
        Action::AdminAssign,
        Action::AdminUpdate,
        Action::AdminRemove,
        Action::SelfActivate,
        Action::SelfDeactivate,
        Action::AdminExtend,
        Action::AdminRenew,
        Action::SelfExtend,
        Action::SelfRenew,
    ];

    /// The camelCase form v1.0 responses use.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::AdminAssign => "adminAssign",
            Action::AdminUpdate => "adminUpdate",
            Action::AdminRemove => "adminRemove",
            Action::SelfActivate => "selfActivate",
            Action::SelfDeactivate => "selfDeactivate",
            Action::AdminExtend => "adminExtend",
            Action::AdminRenew => "adminRenew",
            Action::SelfExtend => "selfExtend",
            Action::SelfRenew => "selfRenew",
        }
    }

    /// Input is accepted case-insensitively, as the real service does (`AdminAssign`, `adminassign`).
    pub fn parse(s: &str) -> Option<Self> {
        Action::ALL.into_iter().find(|a| a.as_str().eq_ignore_ascii_case(s))
    }

    pub fn is_admin(self) -> bool {
        matches!(
            self,
            Action::AdminAssign
                | Action::AdminUpdate
                | Action::AdminRemove
                | Action::AdminExtend
                | Action::AdminRenew
        )
    }

    /// The policy-rule `operations` value this action falls under.
    pub fn operation(self) -> &'static str {
        match self {
            Action::AdminAssign => "assign",
            Action::AdminUpdate => "update",
            Action::AdminRemove => "remove",
            Action::SelfActivate => "activate",
            Action::SelfDeactivate => "deactivate",
            Action::AdminExtend | Action::SelfExtend => "extend",
            Action::AdminRenew | Action::SelfRenew => "renew",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Request and schedule `status` strings (reference §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Provisioned,
    Granted,
    PendingApproval,
    PendingAdminDecision,
    Revoked,
    Canceled,
    Denied,
    Failed,
    /// Not in the v1.0 list; see the fidelity module for why we use it after an approval timeout.
    TimedOut,
    /// Being evaluated (an ARM backend status): what policy hooks see while they decide.
    PendingEvaluation,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Provisioned,
        Status::Granted,
        Status::PendingApproval,
        Status::PendingAdminDecision,
        Status::Revoked,
        Status::Canceled,
        Status::Denied,
        Status::Failed,
        Status::TimedOut,
        Status::PendingEvaluation,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Provisioned => "Provisioned",
            Status::Granted => "Granted",
            Status::PendingApproval => "PendingApproval",
            Status::PendingAdminDecision => "PendingAdminDecision",
            Status::Revoked => "Revoked",
            Status::Canceled => "Canceled",
            Status::Denied => "Denied",
            Status::Failed => "Failed",
            Status::TimedOut => "TimedOut",
            Status::PendingEvaluation => "PendingEvaluation",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Status::ALL.into_iter().find(|v| v.as_str().eq_ignore_ascii_case(s))
    }
    /// Still waiting for someone: a decision, or its start time.
    pub fn is_pending(self) -> bool {
        matches!(self, Status::PendingApproval | Status::PendingAdminDecision)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `expirationPatternType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpirationType {
    NotSpecified,
    NoExpiration,
    AfterDateTime,
    AfterDuration,
}

impl ExpirationType {
    pub fn as_str(self) -> &'static str {
        match self {
            ExpirationType::NotSpecified => "notSpecified",
            ExpirationType::NoExpiration => "noExpiration",
            ExpirationType::AfterDateTime => "afterDateTime",
            ExpirationType::AfterDuration => "afterDuration",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            ExpirationType::NotSpecified,
            ExpirationType::NoExpiration,
            ExpirationType::AfterDateTime,
            ExpirationType::AfterDuration,
        ]
        .into_iter()
        .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }
}

/// `expirationPattern`.
#[derive(Debug, Clone, PartialEq)]
pub struct Expiration {
    pub kind: ExpirationType,
    pub end: Option<Timestamp>,
    pub duration: Option<IsoDuration>,
}

impl Expiration {
    pub fn never() -> Self {
        Expiration { kind: ExpirationType::NoExpiration, end: None, duration: None }
    }
    pub fn after(duration: IsoDuration) -> Self {
        Expiration { kind: ExpirationType::AfterDuration, end: None, duration: Some(duration) }
    }
    pub fn at(end: Timestamp) -> Self {
        Expiration { kind: ExpirationType::AfterDateTime, end: Some(end), duration: None }
    }
}

/// `requestSchedule` (recurrence is unsupported by PIM and always null).
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleInfo {
    pub start: Option<Timestamp>,
    pub expiration: Expiration,
}

impl ScheduleInfo {
    /// When access granted under this schedule ends, given when it starts; `None` = never.
    pub fn end_from(&self, start: Timestamp) -> Option<Timestamp> {
        match self.expiration.kind {
            ExpirationType::AfterDateTime => self.expiration.end,
            ExpirationType::AfterDuration => self.expiration.duration.map(|d| start + d.as_delta()),
            ExpirationType::NoExpiration | ExpirationType::NotSpecified => None,
        }
    }
}

/// A schedule as the service settles it when it processes a request (reference §3.4): it has a
/// start, and an expiration of a definite type. Only `normalise` (engine) and the approval path
/// make one, so code that holds one needs no `expect` on the start.
#[derive(Debug, Clone, PartialEq)]
pub struct SettledSchedule {
    pub start: Timestamp,
    pub expiration: Expiration,
}

impl SettledSchedule {
    /// When access under it ends; `None` = never.
    pub fn end(&self) -> Option<Timestamp> {
        self.info().end_from(self.start)
    }

    pub fn is_permanent(&self) -> bool {
        self.end().is_none()
    }

    /// The wire form (`scheduleInfo`).
    pub fn info(&self) -> ScheduleInfo {
        ScheduleInfo { start: Some(self.start), expiration: self.expiration.clone() }
    }
}

/// `ticketInfo`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketInfo {
    pub number: Option<String>,
    pub system: Option<String>,
    /// Beta only: who approved the ticket (`ticketApproverIdentityId`).
    pub approver_identity_id: Option<String>,
    /// Beta only: who raised the ticket (`ticketSubmitterIdentityId`).
    pub submitter_identity_id: Option<String>,
}

/// `memberType`: how the principal holds the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberType {
    Direct,
    Group,
    Inherited,
}

impl MemberType {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberType::Direct => "Direct",
            MemberType::Group => "Group",
            MemberType::Inherited => "Inherited",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Direct" => Some(MemberType::Direct),
            "Group" => Some(MemberType::Group),
            "Inherited" => Some(MemberType::Inherited),
            _ => None,
        }
    }
}

/// `assignmentType` of an active assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssignmentType {
    Assigned,
    Activated,
}

impl AssignmentType {
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentType::Assigned => "Assigned",
            AssignmentType::Activated => "Activated",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Assigned" => Some(AssignmentType::Assigned),
            "Activated" => Some(AssignmentType::Activated),
            _ => None,
        }
    }
}

/// What a caller asks for, once the surface syntax (Graph JSON, CLI flags, Lua) is parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequest {
    pub surface: Surface,
    pub kind: RequestKind,
    pub action: Action,
    pub principal_id: String,
    pub role_definition_id: String,
    pub directory_scope_id: Option<String>,
    pub app_scope_id: Option<String>,
    pub justification: Option<String>,
    pub schedule_info: Option<ScheduleInfo>,
    pub ticket_info: Option<TicketInfo>,
    pub is_validation_only: bool,
}

/// One step of a request's decision trace: a rule evaluated, the value seen, the limit, the verdict.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceStep {
    /// What was checked: a policy rule id (`Expiration_EndUser_Assignment`) or an engine check.
    pub check: String,
    /// The failure name the real service reports (`ExpirationRule`), when the check failed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rule: Option<String>,
    pub passed: bool,
    /// The value the request carried.
    pub seen: String,
    /// The limit or requirement it was held to.
    pub limit: String,
    /// How to fix a failure (older stores hold it as text: see `hint::stored`).
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "super::hint::stored::deserialize"
    )]
    pub fix: Option<super::Hint>,
}

/// A stored schedule request.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRequest {
    pub id: String,
    pub surface: Surface,
    pub kind: RequestKind,
    pub action: Action,
    pub status: Status,
    pub principal_id: String,
    pub role_definition_id: String,
    pub directory_scope_id: Option<String>,
    pub app_scope_id: Option<String>,
    pub justification: Option<String>,
    pub schedule_info: Option<ScheduleInfo>,
    pub ticket_info: TicketInfo,
    pub is_validation_only: bool,
    pub target_schedule_id: Option<String>,
    pub approval_id: Option<String>,
    pub created_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    pub created_by: String,
    /// The creator was an application acting as itself (Graph's `createdBy.application`), not a
    /// signed-in user.
    pub created_by_app: bool,
    /// For activations: the eligibility schedule that allowed it.
    pub activated_using: Option<String>,
    pub canceled_at: Option<Timestamp>,
    pub trace: Vec<TraceStep>,
}

/// What tests start from.
#[cfg(test)]
pub mod sample {
    use super::*;

    /// A directory self-activation of `role` at the tenant scope by `principal`, nothing
    /// optional set.
    pub(crate) fn request(
        id: &str,
        principal: &str,
        role: &str,
        status: Status,
        created_at: Timestamp,
    ) -> ScheduleRequest {
        ScheduleRequest {
            id: id.into(),
            surface: Surface::Directory,
            kind: RequestKind::Assignment,
            action: Action::SelfActivate,
            status,
            principal_id: principal.into(),
            role_definition_id: role.into(),
            directory_scope_id: Some("/".into()),
            app_scope_id: None,
            justification: None,
            schedule_info: None,
            ticket_info: TicketInfo::default(),
            is_validation_only: false,
            target_schedule_id: None,
            approval_id: None,
            created_at,
            completed_at: None,
            created_by: principal.into(),
            created_by_app: false,
            activated_using: None,
            canceled_at: None,
            trace: Vec::new(),
        }
    }
}

impl ScheduleRequest {
    /// The request's fields as a body to submit again (after an approval, or in a replay).
    pub fn body(&self) -> NewRequest {
        NewRequest {
            surface: self.surface,
            kind: self.kind,
            action: self.action,
            principal_id: self.principal_id.clone(),
            role_definition_id: self.role_definition_id.clone(),
            directory_scope_id: self.directory_scope_id.clone(),
            app_scope_id: self.app_scope_id.clone(),
            justification: self.justification.clone(),
            schedule_info: self.schedule_info.clone(),
            ticket_info: Some(self.ticket_info.clone()),
            is_validation_only: false,
        }
    }
}

/// Where a schedule is in its life. Only `Live` schedules are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScheduleState {
    /// Current or future access.
    Live,
    /// Ended at its expiry; kept so it can be renewed.
    Expired,
    /// Ended by a remove, a deactivation or a cancel.
    Removed,
    /// Superseded by an update, extend or renew.
    Replaced,
}

impl ScheduleState {
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleState::Live => "live",
            ScheduleState::Expired => "expired",
            ScheduleState::Removed => "removed",
            ScheduleState::Replaced => "replaced",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "live" => Some(ScheduleState::Live),
            "expired" => Some(ScheduleState::Expired),
            "removed" => Some(ScheduleState::Removed),
            "replaced" => Some(ScheduleState::Replaced),
            _ => None,
        }
    }
}

/// An eligibility or assignment schedule. While it is `Provisioned` and `Live` it has an instance
/// (and, for assignments, a `unifiedRoleAssignment`), all identified by `instance_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub id: String,
    pub surface: Surface,
    pub kind: RequestKind,
    pub principal_id: String,
    pub role_definition_id: String,
    pub directory_scope_id: Option<String>,
    pub app_scope_id: Option<String>,
    pub member_type: MemberType,
    pub assignment_type: Option<AssignmentType>,
    pub status: Status,
    pub state: ScheduleState,
    /// The request that created it; `None` for assignments made outside PIM.
    pub created_using: Option<String>,
    pub created_at: Option<Timestamp>,
    pub modified_at: Option<Timestamp>,
    /// The normalised schedule: `start` is always set.
    pub schedule_info: ScheduleInfo,
    /// When access ends; `None` = permanent.
    pub end_at: Option<Timestamp>,
    /// For activations: the eligibility schedule used.
    pub activated_using: Option<String>,
    pub instance_id: String,
    pub ended_at: Option<Timestamp>,
    /// For a future-dated update or extension: the schedule it replaces when it starts.
    pub replaces: Option<String>,
    /// When the 14-day and 1-day expiry notices are due (none once sent, or when not applicable).
    pub warn_14_at: Option<Timestamp>,
    pub warn_1_at: Option<Timestamp>,
}

impl Schedule {
    pub fn start(&self) -> Timestamp {
        self.schedule_info.start.expect("stored schedules are normalised")
    }
    /// In effect now: it has an instance.
    pub fn is_active(&self) -> bool {
        self.state == ScheduleState::Live && self.status == Status::Provisioned
    }
}
