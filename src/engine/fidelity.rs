//! Every choice pimlab makes where the references say UNCONFIRMED, in one place.
//!
//! Each constant names the reference point it settles. The README's fidelity table lists them;
//! change a value here and the behaviour changes everywhere.

/// Requests are purged this many days after `createdDateTime` (addendum §7: "typically about 45 days").
use crate::model::ErrorCode;

pub const REQUEST_RETENTION_DAYS: i64 = 45;

/// Cancelled requests are purged this many days after cancellation (addendum §7, documented).
pub const CANCELED_REQUEST_RETENTION_DAYS: i64 = 30;

/// With the fidelity switch `portal-extend-renew-windows` on, an expired schedule can be renewed
/// this long after it ended (reference §3.2: "expired items stay visible up to 30 days"); with it
/// off, as long as the schedule is remembered (`ENDED_SCHEDULE_RETENTION_DAYS`).
pub const RENEW_WINDOW_DAYS: i64 = 30;

/// Ended (expired, removed, replaced) schedules are forgotten this long after they end. Longer
/// than the renewal window, so a late renewal is told why rather than that nothing exists.
pub const ENDED_SCHEDULE_RETENTION_DAYS: i64 = 90;

/// Extension is offered when the end is within this many days (reference §3.2, portal behaviour).
pub const EXTEND_WINDOW_DAYS: i64 = 14;

/// The extend and renew windows are the portal's: the addendum (§5) found no evidence that the
/// API enforces them, so pimlab enforces them only with the fidelity switch
/// `portal-extend-renew-windows` on, and then says so with its own error codes below, which are
/// not real service codes. (Extending an assignment that never expires is refused either way.)
pub const EXTEND_TOO_EARLY_CODE: ErrorCode = ErrorCode::PimlabExtendWindowNotOpen;
pub const RENEW_TOO_LATE_CODE: ErrorCode = ErrorCode::PimlabRenewWindowClosed;

/// Minimum life of an assignment or activation, and minimum time before it can be removed or
/// deactivated (reference §3.2, documented).
pub const MINIMUM_ACTIVE_MINUTES: i64 = 5;

/// Status an approval-required request ends in when its stage times out (addendum §2: the backend
/// value `TimedOut`; not in the v1.0 list).
pub const APPROVAL_TIMEOUT_STATUS: crate::model::Status = crate::model::Status::TimedOut;

/// The message of `PendingRoleAssignmentRequest`; the v1.0 text is unknown (addendum §11), so this is invented.
pub const PENDING_REQUEST_MESSAGE: &str = "There is already a pending request for this role assignment.";

/// ARM: a request for an Azure role while another for the same principal, role and scope still
/// waits: `RoleAssignmentRequestExists` (arm-pim §4.1; its message was not captured, so the Graph
/// side's is reused).
pub const ARM_PENDING_REQUEST_CODE: ErrorCode = ErrorCode::RoleAssignmentRequestExists;

/// Removing the last active Global Administrator: the real code is unknown. pimlab uses this one.
pub const LAST_GLOBAL_ADMIN_CODE: ErrorCode = ErrorCode::PimlabLastGlobalAdministrator;

/// A principal id that is not in the directory. The legacy PIM API called this `SubjectNotFound`;
/// the v1.0 code is unconfirmed.
pub const PRINCIPAL_NOT_FOUND_CODE: ErrorCode = ErrorCode::SubjectNotFound;

/// A role definition id that does not exist (legacy PIM API code; v1.0 unconfirmed).
pub const ROLE_NOT_FOUND_CODE: ErrorCode = ErrorCode::RoleNotFound;

/// A principal that cannot hold the role this way: a service principal made eligible, a group that
/// is not role-assignable. The real code is unconfirmed; pimlab uses this one.
pub const INVALID_PRINCIPAL_CODE: ErrorCode = ErrorCode::InvalidPrincipalForRoleAssignment;

/// A role that cannot be assigned at an administrative unit's scope, asked for at one (which roles
/// can is Microsoft's documented list, `builtin_roles::ADMINISTRATIVE_UNIT_ROLES`). The real
/// service's code for it is unconfirmed; pimlab answers 400 `BadRequest`, as for its other
/// invalid scopes, naming `directoryScopeId`.
pub const ROLE_NOT_AT_ADMINISTRATIVE_UNIT_CODE: ErrorCode = ErrorCode::BadRequest;

/// Whether the expiration policy's `maximumDuration` applies when expiry is not required. The
/// portal disables the maximum when permanent assignments are allowed; pimlab follows it.
pub const MAXIMUM_APPLIES_ONLY_WHEN_EXPIRATION_REQUIRED: bool = true;

/// An activation may not outlive the eligibility that allows it. When it would, pimlab fails the
/// request with `ExpirationRule` (rather than silently shortening it).
pub const ACTIVATION_MAY_OUTLIVE_ELIGIBILITY: bool = false;

/// Actor recorded for what the service does by itself (expiry, start, purge), as in Entra's audit log.
pub const SYSTEM_ACTOR: &str = "MS-PIM";

/// Events a rule set to `notificationLevel: Critical` still mails: those that ask someone to act
/// ("critical emails only" suppresses the rest, reference §2.7). Which events count is unconfirmed.
pub const CRITICAL_NOTIFICATIONS: &[&str] = &["ApprovalRequested", "ApprovalEscalated", "Expiring"];

/// Expiry notices go out this many days before an eligibility or active assignment ends
/// (reference §3.2). Activations, which last hours, get none.
pub const EXPIRY_NOTICE_DAYS: [i64; 2] = [14, 1];

/// The status of a pending step when its request is cancelled (addendum §12: unknown).
pub const CANCELED_STEP_STATUS: crate::model::approval::StepStatus =
    crate::model::approval::StepStatus::Canceled;

/// A decision the Graph approval step API cannot make (a multi-stage approval, an extension's or
/// renewal's; reference §3.12) unless the fidelity profile allows it: how the service refuses is
/// not documented; pimlab answers 400 `BadRequest`, naming the switch that would allow it.
pub const GRAPH_APPROVAL_UNSUPPORTED_CODE: ErrorCode = ErrorCode::BadRequest;

/// A second decision on a stage already decided: 409, as the beta docs say; the code is unknown.
pub const ALREADY_DECIDED_CODE: ErrorCode = ErrorCode::Conflict;

/// A policy hook that fails (error, budget, memory, bad decision) refuses the request with this
/// code: pimlab's own, since real PIM has no hooks.
pub const HOOK_FAILED_CODE: ErrorCode = ErrorCode::PimlabHookFailed;

/// A hook file refused at `hook add` (it does not compile, or returns no table of known
/// handlers): pimlab's own code; nothing is stored.
pub const HOOK_INVALID_CODE: ErrorCode = ErrorCode::PimlabHookInvalid;

/// How long free text may be, in UTF-16 code units as .NET counts a string's length. The real
/// limits are not all documented: the portal caps an activation's reason at 500 characters,
/// Entra documents 256 for a display name and 113 for a user principal name; the rest are
/// pimlab's choices, generous enough for any real value and small enough that no stored row can
/// grow without bound.
pub const MAX_JUSTIFICATION: usize = 500;
pub const MAX_TICKET_FIELD: usize = 256;
pub const MAX_DISPLAY_NAME: usize = 256;
pub const MAX_USER_PRINCIPAL_NAME: usize = 113;
pub const MAX_MAIL: usize = 256;
pub const MAX_DESCRIPTION: usize = 1024;

/// Beta's `allowedPrincipalTypes` of every role definition (reference §1.2, a flags enum written
/// as Graph writes flags: comma-separated). Which roles allow fewer kinds is not documented; every
/// role is assignable to users, service principals and role-assignable groups.
pub const ALLOWED_PRINCIPAL_TYPES: &str = "user,servicePrincipal,group";

/// Graph: the directory roles that let a signed-in user read everyone's PIM requests, schedules
/// and instances of directory roles (anyone reads their own, through `filterByCurrentUser`). The
/// reference does not list them; these are the roles Microsoft's PIM pages name as able to view
/// assignments: Global Administrator, Privileged Role Administrator, Global Reader, Security
/// Administrator, Security Reader (template ids).
pub const PIM_READER_ROLES: &[&str] = &[
    "62e90394-69f5-4237-9190-012177145e10",
    "e8611ab8-c189-46e8-94e1-60213ab1f814",
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
    "194ae4cb-b126-40b2-bd5b-6091b380977d",
    "5d6b6bb7-de71-4623-b4af-96380a352509",
];

/// ARM: the `api-version`s each resource family of `Microsoft.Authorization` accepts (arm-pim
/// reference §0.1). The PIM families list the stable 2020-10-01 and the previews seen; role
/// assignments and definitions the versions whose specs were seen (2022-04-01 most used).
pub const ARM_PIM_API_VERSIONS: &[&str] =
    &["2020-10-01", "2020-10-01-preview", "2022-04-01-preview", "2024-02-01-preview", "2024-09-01-preview"];
pub const ARM_RBAC_API_VERSIONS: &[&str] =
    &["2015-07-01", "2017-10-01", "2017-10-01-preview", "2020-10-01", "2022-04-01"];
pub const ARM_APPROVAL_API_VERSIONS: &[&str] = &["2021-01-01-preview"];

/// ARM: an `api-version` a resource type does not have. The reference saw the message ("The
/// resource type '...' could not be found in the namespace 'Microsoft.Authorization' for api
/// version '...'. The supported api-versions are ...") but not its code; ARM pairs that message
/// with `InvalidResourceType`, so pimlab does (400).
pub const ARM_UNSUPPORTED_API_VERSION_CODE: ErrorCode = ErrorCode::InvalidResourceType;

/// ARM: a role definition id that names no role. The reference has the message ("The specified
/// role definition with ID '...' does not exist.") from a validation; pimlab answers a GET of one
/// with it as 404 `RoleDefinitionDoesNotExist`.
pub const ARM_ROLE_DEFINITION_NOT_FOUND_CODE: ErrorCode = ErrorCode::RoleDefinitionDoesNotExist;

/// ARM: a request for a custom role at a scope outside its `assignableScopes`. A custom role is
/// defined only at and below them, so pimlab answers as for a role that does not exist there
/// (400, "The specified role definition with ID '...' does not exist."), naming the scopes in its
/// explanation; the real code is not in the reference.
pub const ARM_ROLE_NOT_ASSIGNABLE_CODE: ErrorCode = ErrorCode::RoleDefinitionDoesNotExist;

/// ARM: the longest custom role name pimlab accepts (not in the reference; Azure's portal limits
/// names to a few hundred characters).
pub const MAX_AZURE_ROLE_NAME: usize = 512;

/// ARM: a custom role may name at most one management group among its assignable scopes (Azure's
/// documented rule, not in the reference).
pub const MAX_CUSTOM_ROLE_MANAGEMENT_GROUPS: usize = 1;

/// ARM: deleting a custom role someone holds or is eligible for, or narrowing its assignable
/// scopes past where it is held. The code `RoleDefinitionHasAssignments` is the one Azure's
/// tools report; its status is not in the reference: pimlab answers 409.
pub const ROLE_DEFINITION_IN_USE_STATUS: u16 = 409;

/// ARM: a caller without read rights at a scope (no active Azure role there or above that may
/// read role assignments) who lists schedules, instances, requests or role assignments without
/// `$filter=asTarget()`, or reads one that is not theirs. The reference has the message (§2.4)
/// but not the code or status: pimlab answers 403 `AuthorizationFailed`.
pub const ARM_READ_NEEDS_AS_TARGET_CODE: ErrorCode = ErrorCode::AuthorizationFailed;

/// ARM: a call an application makes for a user without the Azure Service Management scope
/// `user_impersonation`. Azure's sign-in would refuse to issue such a token (consent first), so
/// the real answer is never seen; pimlab answers ARM's 401 for an unusable token.
pub const ARM_SCOPE_MISSING_CODE: ErrorCode = ErrorCode::InvalidAuthenticationToken;

/// ARM: how many items one page of a list holds before a `nextLink` (with `$skipToken`) asks
/// for the next. ARM pages server-side; the size is not in the reference.
pub const ARM_PAGE_SIZE: usize = 100;

/// ARM: a PUT of a schedule request under a name another request has. The name must be new
/// ("must be unique per request", arm-pim §1.1); the service's code for a reused one is not in
/// the reference: pimlab answers 409 `Conflict`.
pub const ARM_REQUEST_NAME_TAKEN_CODE: ErrorCode = ErrorCode::Conflict;

/// ARM: a PUT of a role management policy. The service answered 400 with this text as the whole
/// body and no error code (arm-pim §0.2); only PATCH changes a policy.
pub const ARM_POLICY_PUT_BODY: &str = "Not implemented exception";

/// ARM: DELETE of a role management policy (or of its assignment) answers 200, or 204 when there
/// was nothing to delete (arm-pim §0.2). What a delete does is not in the reference: a (scope,
/// role) pair always has a policy, so pimlab puts the pair's settings back to Azure's defaults,
/// and answers this status when they were at the defaults already (200 when it reset them).
pub const ARM_POLICY_DELETE_AT_DEFAULTS_STATUS: u16 = 204;

/// ARM approvals: the path segment of an approval's stages. The 2021-01-01-preview spec first
/// named it `steps` and later `stages` (the Python SDK's URL templates and Microsoft's approval
/// page use `stages`; some spec examples still show `steps`). pimlab writes `stages` in ids and
/// accepts both on the way in, so a client built from either revision works.
pub const ARM_APPROVAL_STAGE_SEGMENTS: &[&str] = &["stages", "steps"];

/// ARM approvals: who may read an approval is not documented. pimlab shows one to its approvers
/// (of any stage, decided or not), to whoever created its request and to its target (the
/// `asApprover()`, `asCreatedBy()` and `asTarget()` of its list); anyone else asking for it by id,
/// or deciding a stage they may not decide, gets 403 `AuthorizationFailed`, as ARM answers a
/// caller without the right, rather than 404.
pub const ARM_APPROVAL_FORBIDDEN_CODE: ErrorCode = ErrorCode::AuthorizationFailed;

/// ARM approvals: a stage that ended without a review because its request did (cancelled,
/// denied or timed out at another stage). ARM's stage status has no `Canceled`; pimlab shows
/// `Completed` with `reviewResult: NotReviewed`.
pub const ARM_CANCELED_STAGE_STATUS: &str = "Completed";

/// ARM approvals: what a decision (PUT or PATCH of a stage) answers. The spec says 200 with the
/// stage; Microsoft's approval page says "an empty response". pimlab answers 200 with the stage as
/// decided (true) — a client that ignores the body sees no difference; false gives 200, no body.
pub const ARM_DECISION_ANSWERS_STAGE: bool = true;

/// ARM approvals: an extension's or renewal's approval cannot be decided over ARM (Microsoft's
/// approval page: "not supported by the Microsoft ARM API"); how the service refuses is not
/// documented: pimlab answers 400 `BadRequest`.
pub const ARM_EXTENSION_APPROVAL_UNSUPPORTED_CODE: ErrorCode = ErrorCode::BadRequest;

/// PIM for Groups (reference §6): a group that cannot be governed (dynamic membership, or a
/// mail-only distribution group) is refused with 400 `BadRequest`; the real code is not documented.
pub const GROUP_NOT_GOVERNABLE_CODE: ErrorCode = ErrorCode::BadRequest;

/// PIM for Groups: a list without `$filter` on `groupId` or `principalId` is refused (the docs
/// say the filter is required); the status and code are not documented: pimlab answers 400
/// `BadRequest`.
pub const GROUP_LIST_FILTER_MISSING_CODE: ErrorCode = ErrorCode::BadRequest;

/// PIM for Groups' default policy (reference §6: "justification only on activation"): read as
/// "an administrator's active assignment needs none", unlike a directory role's.
pub const GROUP_ADMIN_ASSIGNMENT_NEEDS_JUSTIFICATION: bool = false;

/// PIM for Groups: besides Global and Privileged Role Administrators, a group's owners (outside
/// PIM or through it) administer its memberships and settings, as the portal lets them. Which
/// roles the service accepts for a group that is not role-assignable is not modelled.
pub const GROUP_OWNERS_ADMINISTER_GROUP: bool = true;

/// PIM for Groups: a group's policies are read before it is onboarded under ids derived from the
/// group and the relationship (`Group_{groupId}_{guid}`); the docs say the ids change when the
/// group is onboarded, so onboarding stores them under new GUIDs from the store's generator.
pub const GROUP_POLICY_IDS_CHANGE_AT_ONBOARDING: bool = true;

/// PIM for Groups: the group API writes `assignmentType`/`memberType` lowercase, as its CSDL
/// enums are (`assigned`, `activated`, `direct`, `group`), although one documented example shows
/// them capitalised.
pub const GROUP_ENUMS_LOWERCASE: bool = true;

/// PIM for Groups: a principal who is already a member outside PIM may still be given a PIM
/// membership (the docs are silent); the membership added outside PIM outlives it.
pub const GROUP_PIM_OVER_DIRECT_MEMBERSHIP_ALLOWED: bool = true;

#[cfg(test)]
mod tests {
    use crate::model::FidelitySwitch;

    /// The switch's own description (in `model`, which cannot see these constants) names the
    /// same windows as the constants that enforce them.
    #[test]
    fn the_windows_switch_describes_the_windows_it_enforces() {
        let effect = FidelitySwitch::PortalExtendRenewWindows.effect();
        assert!(effect.contains(&format!("{} days before", super::EXTEND_WINDOW_DAYS)), "{effect}");
        assert!(effect.contains(&format!("{} days after", super::RENEW_WINDOW_DAYS)), "{effect}");
    }
}
