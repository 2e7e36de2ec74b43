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

/// An error a request can end in. `code` and `message` are the real service's where it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub details: Vec<ErrorDetail>,
}

impl ApiError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError { status, code: code.into(), message: message.into(), details: Vec::new() }
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
