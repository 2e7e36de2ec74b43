//! Unit tests of the OData module through its public functions: each file covers one part
//! (filters, lambdas, query strings and evaluation); `properties.rs` holds the property tests,
//! `strategies.rs` their generators and `regressions.rs` what they found. The helpers here are
//! shared by all.

use super::*;
use serde_json::{Value, json};

mod filter;
mod lambda;
mod properties;
mod query;
mod regressions;
mod strategies;

fn f(text: &str) -> Filter {
    parse_filter(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn err(text: &str) -> String {
    parse_filter(text).expect_err(&format!("{text} should not parse")).message
}

fn qerr(query: &str) -> String {
    parse_query(query).expect_err(&format!("{query} should not parse")).message
}

fn cmp(property: &str, op: CompareOp, value: Literal) -> Filter {
    Filter::Compare { property: property.to_string(), op, value }
}

fn num(property: &str, n: f64) -> Filter {
    cmp(property, CompareOp::Eq, Literal::Number(n))
}

fn and(a: Filter, b: Filter) -> Filter {
    Filter::And(Box::new(a), Box::new(b))
}

fn or(a: Filter, b: Filter) -> Filter {
    Filter::Or(Box::new(a), Box::new(b))
}

fn not(a: Filter) -> Filter {
    Filter::Not(Box::new(a))
}

fn assignment() -> Value {
    json!({
        "@odata.type": "#microsoft.graph.unifiedRoleAssignmentSchedule",
        "id": "a1",
        "principalId": "071cc716-8147-4397-a5ba-b2105951cc0b",
        "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10",
        "directoryScopeId": "/",
        "status": "Provisioned",
        "memberType": "Direct",
        "createdUsing": null,
        "isBuiltIn": true,
        "priority": 5,
        "displayName": "Global Administrator",
        "activityDateTime": "2025-01-15T10:30:00.1234567Z",
        "principal": {"id": "071cc716-8147-4397-a5ba-b2105951cc0b", "displayName": "Alex"},
        "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "PT8H"}},
        "tags": ["a", "b"]
    })
}

fn matches(text: &str) -> bool {
    f(text).matches(&assignment())
}
