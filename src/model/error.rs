//! The error every surface reports: the real service's HTTP status and code first, then pimlab's
//! own explanation (the value seen, the limit, how to fix it) as OData error `details`.

use std::fmt;

/// One line of explanation beside the real error: which rule or field, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErrorDetail {
    /// The real failure name (`ExpirationRule`) or a field name.
    pub code: String,
    /// The field or rule the problem is about.
    pub target: String,
    pub message: String,
}

/// What kind of failure an error is, which decides how a surface reports it (a command line exits
/// 2 for `Usage`, 1 otherwise; an internal error asks to be reported as a bug).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The arguments themselves are unusable (nothing to do, a missing value): fix the call.
    Usage,
    /// The request is malformed or names something wrong for this tenant.
    User,
    /// The tenant's policy (or a hook) refuses a well-formed request.
    Policy,
    /// The object named does not exist.
    NotFound,
    /// The request clashes with the tenant's state (it exists already, it is decided, busy).
    Conflict,
    /// pimlab failed: a bug, or a store that cannot be read or written.
    Internal,
}

impl ErrorKind {
    /// The kind a status implies, for errors that do not say.
    pub fn of_status(status: u16) -> ErrorKind {
        match status {
            401 | 403 => ErrorKind::Policy,
            404 => ErrorKind::NotFound,
            409 | 412 | 503 => ErrorKind::Conflict,
            500..=599 => ErrorKind::Internal,
            _ => ErrorKind::User,
        }
    }
}

/// An error a request can end in. `code` and `message` are the real service's where it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub details: Vec<ErrorDetail>,
    pub kind: ErrorKind,
}

impl ApiError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            details: Vec::new(),
            kind: ErrorKind::of_status(status),
        }
    }

    /// The same error, of another kind.
    pub fn of_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// Arguments that cannot be used as given (a command line's usage error).
    pub fn usage(message: impl Into<String>) -> Self {
        ApiError::new(400, "BadRequest", message).of_kind(ErrorKind::Usage)
    }

    pub fn with_detail(
        mut self,
        code: impl Into<String>,
        target: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        self.details.push(ErrorDetail { code: code.into(), target: target.into(), message: message.into() });
        self
    }

    /// 400 `BadRequest` naming the field and the problem: malformed or missing input.
    pub fn bad_request(field: &str, problem: impl Into<String>) -> Self {
        let problem = problem.into();
        ApiError::new(400, "BadRequest", format!("Invalid value for '{field}': {problem}")).with_detail(
            "InvalidValue",
            field,
            problem,
        )
    }

    /// The policy rules a refused request broke, each once, in the order they failed: the codes
    /// of the details of `RoleAssignmentRequestPolicyValidationFailed`.
    pub fn failed_rules(&self) -> Vec<String> {
        let mut rules: Vec<String> = Vec::new();
        if self.code == "RoleAssignmentRequestPolicyValidationFailed" {
            for d in &self.details {
                if !d.code.is_empty() && !rules.contains(&d.code) {
                    rules.push(d.code.clone());
                }
            }
        }
        rules
    }

    /// 404 for an object that does not exist.
    pub fn not_found(code: &str, what: &str, id: &str) -> Self {
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
