//! A policy hook as stored: a Lua source and what it is attached to.

use super::time::Timestamp;

/// A stored hook.
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    pub name: String,
    pub source: String,
    /// Runs only for this role (id); `None` = every role.
    pub role_definition_id: Option<String>,
    /// Runs only at this scope; `None` = every scope.
    pub scope: Option<String>,
    pub added_by: String,
    pub added_at: Timestamp,
    /// Hooks run in this order (the order they were added).
    pub position: i64,
}

impl Hook {
    pub fn applies_to(&self, role: &str, scope: &str) -> bool {
        self.role_definition_id.as_deref().is_none_or(|r| r.eq_ignore_ascii_case(role))
            && self.scope.as_deref().is_none_or(|s| s == scope)
    }
}
