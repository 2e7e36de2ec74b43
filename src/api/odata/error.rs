//! The one error type of the OData module: a message a Graph client can act on, naming the option,
//! the offending text and, for `$filter`, its 0-based character position.

use std::fmt;

/// An invalid query string or query option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ODataError {
    pub message: String,
}

impl ODataError {
    pub fn new(message: impl Into<String>) -> Self {
        ODataError { message: message.into() }
    }
}

impl fmt::Display for ODataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ODataError {}

/// An error in a `$filter` expression; the prefix tells the client which option to fix.
pub(super) fn filter_error(message: impl fmt::Display) -> ODataError {
    ODataError::new(format!("Invalid $filter: {message}"))
}
