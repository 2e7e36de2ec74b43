//! A plan: the real requests that would make a change in a tenant, in order, before any format
//! is chosen. A call may bind what its response returns (a new object's id, a policy found by
//! its role) to a name that later calls use, because a real tenant gives new objects ids of its
//! own and names policies its own way.

use serde_json::Value;

/// Which service a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `https://graph.microsoft.com`
    Graph,
    /// `https://management.azure.com`
    Arm,
}

impl Service {
    pub fn root(self) -> &'static str {
        match self {
            Service::Graph => "https://graph.microsoft.com",
            Service::Arm => "https://management.azure.com",
        }
    }
}

/// What a call's response gives a later call: `var` names the value of `field` in the response
/// (a dotted path, e.g. `id` or `value.0.policyId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub var: String,
    pub field: String,
}

/// One request. Strings of `path` and `body` may hold `{{var}}`: the value a binding of an
/// earlier call names.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// What the call does, in a sentence (each format writes it as a comment).
    pub title: String,
    pub service: Service,
    pub method: &'static str,
    /// The path after the service's root, with its query.
    pub path: String,
    pub body: Option<Value>,
    pub binds: Option<Binding>,
}

/// The calls, and what cannot be a call (Lua hooks, activations users make themselves, Azure
/// subscriptions) as notes written as comments.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Plan {
    pub calls: Vec<Call>,
    pub notes: Vec<String>,
}

/// A reference to a binding, as calls write it.
pub fn reference(var: &str) -> String {
    format!("{{{{{var}}}}}")
}

/// Splits text at references: literal parts and variable names, in order.
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else { break };
        let name = &rest[start + 2..start + 2 + len];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            // Not ours: keep it as text and look further on.
            out.push(Piece::Text(&rest[..start + 2]));
            rest = &rest[start + 2..];
            continue;
        }
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        out.push(Piece::Var(name));
        rest = &rest[start + 2 + len + 2..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// A variable name made from what it stands for (`alice@contoso.example` -> `alice`), unique
/// among `taken`.
pub fn variable(prefix: &str, hint: &str, taken: &mut std::collections::BTreeSet<String>) -> String {
    let stem: String = hint
        .split('@')
        .next()
        .unwrap_or(hint)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect();
    let stem = stem.split('_').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("_");
    let base = if stem.is_empty() { prefix.to_string() } else { format!("{prefix}_{stem}") };
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_found_between_text() {
        assert_eq!(
            pieces("/v1.0/groups/{{group_ops}}/members/$ref"),
            vec![Piece::Text("/v1.0/groups/"), Piece::Var("group_ops"), Piece::Text("/members/$ref")]
        );
        assert_eq!(pieces("{{a}}{{b}}"), vec![Piece::Var("a"), Piece::Var("b")]);
        assert_eq!(pieces("no {{ref here"), vec![Piece::Text("no {{ref here")]);
        assert_eq!(pieces("{{not a var}}x"), vec![Piece::Text("{{"), Piece::Text("not a var}}x")]);
    }

    #[test]
    fn variables_are_named_after_what_they_hold_and_never_twice() {
        let mut taken = Default::default();
        assert_eq!(variable("user", "alice@contoso.example", &mut taken), "user_alice");
        assert_eq!(variable("user", "Alice", &mut taken), "user_alice_2");
        assert_eq!(variable("group", "Ops — Tier 1!", &mut taken), "group_ops_tier_1");
        assert_eq!(variable("policy", "", &mut taken), "policy");
    }
}
