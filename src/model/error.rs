//! The error every surface reports: the real service's HTTP status and code first, then pimlab's
//! own explanation (the value seen, the limit) as OData error `details`, and how to fix it as
//! typed [`Hint`]s that each surface words in its own terms.
//!
//! Codes are an enum ([`ErrorCode`]); the wire string is derived from it, so no code branches on
//! text. Each code has a [`ErrorKind`] that says what sort of failure it is.

use std::fmt;

use super::hint::Hint;

/// One line of explanation beside the real error: which rule or field, what was wrong, and how
/// to put it right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDetail {
    /// The real failure name (`ExpirationRule`) or a field name.
    pub code: String,
    /// The field or rule the problem is about.
    pub target: String,
    pub message: String,
    /// How to fix it, if pimlab knows.
    pub hint: Option<Hint>,
}

/// What kind of failure an error is, which decides how a surface reports it (a command line exits
/// 2 for `Usage`, 1 otherwise; an internal error asks to be reported as a bug).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The arguments themselves are unusable (nothing to do, a file that cannot be read): fix the
    /// call.
    Usage,
    /// The request is malformed or asks for something this tenant cannot do.
    User,
    /// The tenant's policy (or a hook, or the caller's rights) refuses a well-formed request.
    Policy,
    /// The object named does not exist.
    NotFound,
    /// The request clashes with the tenant's state (it exists already, it is decided, busy).
    Conflict,
    /// pimlab failed: a bug, or a store that cannot be read or written.
    Internal,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Usage => "usage",
            ErrorKind::User => "user",
            ErrorKind::Policy => "policy",
            ErrorKind::NotFound => "notFound",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Internal => "internal",
        }
    }
}

macro_rules! error_codes {
    ($($(#[$doc:meta])* $code:ident => $kind:ident,)*) => {
        /// Every error code pimlab gives: the real service's where it has one (reference §5 and
        /// the legacy PIM codes), pimlab's own (`Pimlab...`) where the references are silent.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(non_camel_case_types)] // `Request_BadRequest` is the wire string
        pub enum ErrorCode {
            $($(#[$doc])* $code,)*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$code,)*];

            /// The code as the wire carries it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$code => stringify!($code),)*
                }
            }

            /// What kind of failure the code reports.
            pub fn kind(self) -> ErrorKind {
                match self {
                    $(ErrorCode::$code => ErrorKind::$kind,)*
                }
            }
        }
    };
}

error_codes! {
    BadRequest => User,
    Request_BadRequest => User,
    ResourceNotFound => NotFound,
    Request_ResourceNotFound => NotFound,
    /// A request the approval state refuses (a decided step).
    Conflict => Conflict,
    InternalServerError => Internal,
    ServiceUnavailable => Conflict,
    UnauthorizedAccessException => Policy,
    /// Graph's code for a call whose token lacks the permission (addendum §6).
    UnknownError => Policy,
    RoleAssignmentRequestPolicyValidationFailed => Policy,
    RoleAssignmentRequestAcrsValidationFailed => Policy,
    RoleAssignmentExists => Conflict,
    RoleAssignmentDoesNotExist => NotFound,
    RoleAssignmentRequestNotFound => NotFound,
    PendingRoleAssignmentRequest => Conflict,
    /// ARM's name for a request while another for the same target waits.
    RoleAssignmentRequestExists => Conflict,
    RequestCannotBeCancelled => Conflict,
    ActiveDurationTooShort => Policy,
    SubjectNotFound => NotFound,
    RoleNotFound => NotFound,
    /// ARM: a subscription the tenant does not have.
    SubscriptionNotFound => NotFound,
    /// ARM: a resource group its subscription does not have.
    ResourceGroupNotFound => NotFound,
    /// ARM: a management group the tenant does not have.
    ManagementGroupNotFound => NotFound,
    /// An Azure scope the lab already has.
    ScopeExists => Conflict,
    /// ARM: a call without `?api-version=`.
    MissingApiVersionParameter => User,
    /// ARM: a resource type (or an `api-version` of one) the namespace does not have.
    InvalidResourceType => User,
    /// ARM: a role definition that does not exist.
    RoleDefinitionDoesNotExist => NotFound,
    /// ARM: a custom role named as another role is.
    RoleDefinitionWithSameNameExists => Conflict,
    /// ARM: a custom role someone holds or is eligible for cannot be deleted (or narrowed).
    RoleDefinitionHasAssignments => Conflict,
    /// ARM: a call without a token.
    AuthenticationFailed => Policy,
    /// ARM: a token ARM cannot use (here: an app's call for a user without `user_impersonation`).
    InvalidAuthenticationToken => Policy,
    /// ARM: the caller lacks the RBAC action (also any DELETE of a schedule request).
    AuthorizationFailed => Policy,
    /// ARM: a request body that is not JSON, or lacks what the resource needs.
    InvalidRequestContent => User,
    /// ARM: a `$filter` the collection does not support.
    InvalidFilter => User,
    /// ARM: a role management policy PATCH with a rule that is malformed or not the policy's.
    InvalidPolicy => User,
    /// Something the real API has that pimlab does not model yet (501).
    PimlabNotModelled => User,
    InvalidPrincipalForRoleAssignment => User,
    /// A name that fits more than one object.
    AmbiguousName => User,
    PimlabExtendWindowNotOpen => Policy,
    PimlabRenewWindowClosed => Policy,
    PimlabLastGlobalAdministrator => Policy,
    PimlabHookFailed => Policy,
    PimlabHookInvalid => User,
    HookExists => Conflict,
    HookNotFound => NotFound,
    StoreAlreadyInitialized => Conflict,
    StoreNotInitialized => Conflict,
    /// `fork` onto a file that exists: a fork never overwrites.
    PimlabForkTargetExists => Conflict,
    /// A store file named for `diff` that does not exist, is not a pimlab store, or holds no tenant.
    PimlabStoreUnavailable => User,
    /// `diff` of two stores of different tenants: their principals and roles cannot be matched.
    PimlabDifferentTenants => User,
    /// An import file pimlab cannot read (the message names the file, line and column).
    PimlabImportInvalid => User,
    /// An EasyPIM configuration EasyPIM itself would refuse (the message names the entry).
    PimlabEasyPimConfigInvalid => User,
    /// `export --since` a mark the store does not have.
    PimlabMarkNotFound => NotFound,
    /// A property file (`check`, `fuzz`) that does not load: a syntax error, an error while it
    /// runs, no property, or two of one name (the message names the file and line).
    PimlabPropertiesInvalid => User,
    /// Arguments a surface cannot use (a command line's usage error).
    Usage => Usage,
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An error a request can end in. `code` and `message` are the real service's where it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: ErrorCode,
    pub message: String,
    pub details: Vec<ErrorDetail>,
    pub kind: ErrorKind,
    /// How to fix the error as a whole (a detail carries its own).
    pub hints: Vec<Hint>,
}

/// Where to report a bug (an internal error says so).
pub const REPORT_BUGS: &str =
    "this is a bug in pimlab; please report it with the command you ran and, if you can, the store file";

impl ApiError {
    pub fn new(status: u16, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            kind: code.kind(),
            hints: Vec::new(),
        }
    }

    /// The same error, of another kind.
    pub fn of_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// The same error with a way to fix it.
    pub fn with_hint(mut self, hint: Hint) -> Self {
        self.hints.push(hint);
        self
    }

    /// Arguments that cannot be used as given (a command line's usage error).
    pub fn usage(message: impl Into<String>) -> Self {
        ApiError::new(400, ErrorCode::Usage, message)
    }

    /// pimlab itself failed: the message says what it was doing, and that this is a bug.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(500, ErrorCode::InternalServerError, format!("{}; {REPORT_BUGS}", message.into()))
    }

    /// An internal error names the operation it happened in (`while submitting a request`).
    pub fn during(mut self, operation: &str) -> Self {
        if self.kind == ErrorKind::Internal && !self.message.starts_with("while ") {
            self.message = format!("while {operation}: {}", self.message);
        }
        self
    }

    pub fn with_detail(
        mut self,
        code: impl Into<String>,
        target: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        self.details.push(ErrorDetail {
            code: code.into(),
            target: target.into(),
            message: message.into(),
            hint: None,
        });
        self
    }

    /// Adds a detail with a hint.
    pub fn with_fix(
        mut self,
        code: impl Into<String>,
        target: impl Into<String>,
        message: impl Into<String>,
        hint: Hint,
    ) -> Self {
        self.details.push(ErrorDetail {
            code: code.into(),
            target: target.into(),
            message: message.into(),
            hint: Some(hint),
        });
        self
    }

    /// 400 `BadRequest` naming the field and the problem: malformed or missing input.
    pub fn bad_request(field: &str, problem: impl Into<String>) -> Self {
        let problem = problem.into();
        ApiError::new(400, ErrorCode::BadRequest, format!("Invalid value for '{field}': {problem}"))
            .with_detail("InvalidValue", field, problem)
    }

    /// The policy rules a refused request broke, each once, in the order they failed: the codes
    /// of the details of `RoleAssignmentRequestPolicyValidationFailed`.
    pub fn failed_rules(&self) -> Vec<String> {
        let mut rules: Vec<String> = Vec::new();
        if self.code == ErrorCode::RoleAssignmentRequestPolicyValidationFailed {
            for d in &self.details {
                if !d.code.is_empty() && !rules.contains(&d.code) {
                    rules.push(d.code.clone());
                }
            }
        }
        rules
    }

    /// 404 for an object that does not exist.
    pub fn not_found(code: ErrorCode, what: &str, id: &str) -> Self {
        ApiError::new(404, code, format!("{what} '{id}' does not exist."))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        for d in &self.details {
            write!(f, "\n  - {}: {}", d.code, d.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_distinct_wire_string() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
        }
    }

    #[test]
    fn an_internal_error_says_it_is_a_bug_and_names_the_operation() {
        let e = ApiError::internal("store error: disk I/O error").during("submitting a request");
        assert_eq!(e.kind, ErrorKind::Internal);
        assert!(e.message.starts_with("while submitting a request: store error"), "{}", e.message);
        assert!(e.message.contains("bug in pimlab"), "{}", e.message);
    }

    #[test]
    fn a_policy_refusal_is_of_the_policy_kind_though_its_status_is_400() {
        let e = ApiError::new(400, ErrorCode::RoleAssignmentRequestPolicyValidationFailed, "x");
        assert_eq!((e.status, e.kind), (400, ErrorKind::Policy));
    }
}
