//! The lambda operators `any` and `all`: parsing, scoping of range variables, evaluation, errors.

use super::*;

// ----- lambda operators ---------------------------------------------------------------

fn audit() -> Value {
    json!({
        "id": "audit1",
        "activityDateTime": "2025-01-15T10:30:00Z",
        "category": "RoleManagement",
        "targetResources": [
            {"id": "071cc716-8147-4397-a5ba-b2105951cc0b", "displayName": "Alex", "type": "User"},
            {
                "id": "62e90394-69f5-4237-9190-012177145e10",
                "displayName": "Global Administrator",
                "type": "Role",
                "modifiedProperties": [
                    {"displayName": "Role.DisplayName", "newValue": "Global Administrator"},
                    {"displayName": "Role.TemplateId", "newValue": null}
                ]
            }
        ],
        "roles": ["x", "Reader"],
        "tags": ["alpha", "apple"],
        "members": [],
        "owners": null,
        "mixed": ["a", 1, null]
    })
}

fn audit_matches(text: &str) -> bool {
    f(text).matches(&audit())
}

fn lambda(collection: &str, operator: LambdaOperator, variable: &str, predicate: Filter) -> Filter {
    Filter::Lambda {
        collection: collection.into(),
        operator,
        body: Some(LambdaBody { variable: variable.into(), predicate: Box::new(predicate) }),
    }
}

#[test]
fn lambda_any_over_objects() {
    let text = "targetResources/any(t: t/id eq '071cc716-8147-4397-a5ba-b2105951cc0b')";
    assert_eq!(
        f(text),
        lambda(
            "targetResources",
            LambdaOperator::Any,
            "t",
            cmp("t/id", CompareOp::Eq, Literal::String("071cc716-8147-4397-a5ba-b2105951cc0b".into()))
        )
    );
    assert!(audit_matches(text));
    assert!(audit_matches("targetResources/any(t: t/id eq 071CC716-8147-4397-A5BA-B2105951CC0B)"));
    assert!(!audit_matches("targetResources/any(t: t/id eq 'fe930be7-5e62-47db-91af-98c3a49a38b1')"));
    assert!(!f(text).matches(&json!({"targetResources": [{"id": "other"}]})));
}

#[test]
fn lambda_predicate_applies_to_one_element() {
    let text = "targetResources/any(t:t/displayName eq 'Global Administrator' and t/type eq 'Role')";
    assert_eq!(
        f(text),
        lambda(
            "targetResources",
            LambdaOperator::Any,
            "t",
            and(
                cmp("t/displayName", CompareOp::Eq, Literal::String("Global Administrator".into())),
                cmp("t/type", CompareOp::Eq, Literal::String("Role".into()))
            )
        )
    );
    assert!(audit_matches(text));
    // Both conditions hold, but on different elements.
    assert!(!audit_matches("targetResources/any(t: t/displayName eq 'Alex' and t/type eq 'Role')"));
    assert!(audit_matches("targetResources/any(t: t/displayName eq 'Alex' or t/type eq 'Role')"));
    assert!(audit_matches("targetResources/any(t: not (t/type eq 'Role'))"));
    assert!(audit_matches("targetResources/any(t: t/type in ('Group', 'role'))"));
    assert!(audit_matches("targetResources/any(t: startswith(t/displayName, 'global'))"));
}

#[test]
fn lambda_over_primitive_collections() {
    assert_eq!(
        f("roles/any(r: r eq 'x')"),
        lambda("roles", LambdaOperator::Any, "r", cmp("r", CompareOp::Eq, Literal::String("x".into())))
    );
    assert!(audit_matches("roles/any(r: r eq 'x')"));
    assert!(audit_matches("roles/any(r: r eq 'READER')"));
    assert!(!audit_matches("roles/any(r: r eq 'Owner')"));
    assert!(audit_matches("roles/any(r: 'x' eq r)"));
    assert!(audit_matches("roles/any(r: r in ('Owner', 'reader'))"));
    assert!(!audit_matches("roles/all(r: r eq 'x')"));
    assert!(audit_matches("roles/all(r: r ne null)"));
    assert!(!audit_matches("mixed/all(r: r ne null)"));
    assert!(audit_matches("mixed/any(r: r eq 1)"));
    // A primitive element has no properties.
    assert!(!audit_matches("roles/any(r: r/id eq 'x')"));
    assert!(audit_matches("roles/all(r: r/id eq null)"));
}

#[test]
fn lambda_all() {
    assert_eq!(
        f("tags/all(x: startswith(x, 'a'))"),
        lambda(
            "tags",
            LambdaOperator::All,
            "x",
            Filter::Function {
                function: StringFunction::StartsWith,
                property: "x".into(),
                value: "a".into()
            }
        )
    );
    assert!(audit_matches("tags/all(x: startswith(x, 'a'))"));
    assert!(!audit_matches("tags/all(x: startswith(x, 'al'))"));
    assert!(audit_matches("tags/any(x: startswith(x, 'al'))"));
    assert!(audit_matches("targetResources/all(t: t/id ne null and t/type ne 'Group')"));
    assert!(!audit_matches("targetResources/all(t: t/type eq 'Role')"));
}

#[test]
fn lambda_any_without_argument() {
    assert_eq!(
        f("members/any()"),
        Filter::Lambda { collection: "members".into(), operator: LambdaOperator::Any, body: None }
    );
    assert!(!audit_matches("members/any()"));
    assert!(audit_matches("not members/any()"));
    assert!(audit_matches("roles/any()"));
    assert!(audit_matches("targetResources/any ( )"));
    assert!(!audit_matches("owners/any()"));
    assert!(!audit_matches("missing/any()"));
    assert!(!audit_matches("category/any()"));
    assert!(f("members/any()").matches(&json!({"members": [{"id": "m"}]})));
}

#[test]
fn lambda_missing_null_and_empty_collections() {
    // any: false for empty, null, missing and non-collection values.
    assert!(!audit_matches("members/any(m: m/id eq 'x')"));
    assert!(!audit_matches("members/any(m: m/id eq null)"));
    assert!(!audit_matches("owners/any(o: o/id eq null)"));
    assert!(!audit_matches("missing/any(m: m eq null)"));
    assert!(!audit_matches("category/any(c: c eq null)"));
    // all: true for an empty collection, false for null, missing and non-collection values.
    assert!(audit_matches("members/all(m: m/id eq 'x')"));
    assert!(!audit_matches("owners/all(o: o/id eq 'x')"));
    assert!(!audit_matches("missing/all(m: m/id eq 'x')"));
    assert!(!audit_matches("category/all(c: c ne null)"));
    assert!(audit_matches("not owners/all(o: o/id eq 'x')"));
}

#[test]
fn lambda_combined_with_other_clauses() {
    let text = "activityDateTime ge 2025-01-01T00:00:00Z and targetResources/any(t: t/id eq 'abc')";
    assert_eq!(
        f(text),
        and(
            cmp("activityDateTime", CompareOp::Ge, Literal::DateTime("2025-01-01T00:00:00Z".into())),
            lambda(
                "targetResources",
                LambdaOperator::Any,
                "t",
                cmp("t/id", CompareOp::Eq, Literal::String("abc".into()))
            )
        )
    );
    assert!(!audit_matches(text));
    let item = json!({"activityDateTime": "2025-03-01T00:00:00Z", "targetResources": [{"id": "abc"}]});
    assert!(f(text).matches(&item));
    assert!(
        !f(text).matches(
            &json!({"activityDateTime": "2024-12-31T00:00:00Z", "targetResources": [{"id": "abc"}]})
        )
    );
    assert!(audit_matches(
        "category eq 'RoleManagement' and (targetResources/any(t: t/type eq 'Group') or roles/any(r: r eq 'x'))"
    ));
    assert!(audit_matches("targetResources/any(t: t/type eq 'User') and not tags/any(x: x eq 'beta')"));
    let q = parse_query("$filter=targetResources%2Fany(t%3At%2Fid+eq+'abc')&$count=true").unwrap();
    assert!(q.filter.unwrap().matches(&item));
}

#[test]
fn lambda_outer_paths_and_case_insensitivity() {
    // Paths not starting with the range variable refer to the filtered item.
    assert!(audit_matches("targetResources/any(t: t/type eq 'Role' and category eq 'RoleManagement')"));
    assert!(!audit_matches("targetResources/any(t: t/type eq 'Role' and category eq 'Other')"));
    // Keywords, operators, properties and range variables are case-insensitive.
    assert!(audit_matches("TargetResources/ANY(T: t/ID eq '071cc716-8147-4397-a5ba-b2105951cc0b')"));
    assert!(audit_matches("TAGS/All(X: StartsWith(X, 'A'))"));
    assert!(audit_matches("roles/Any(R: r EQ 'x')"));
    // The range variable shadows an outer property of the same name.
    assert!(f("id/any(id: id eq 'b')").matches(&json!({"id": ["a", "b"]})));
    assert!(f("tags/any(id: id eq 'alpha')").matches(&audit()));
    // A path whose last segment is 'any' or 'all' is still an ordinary property.
    assert!(f("flags/any eq true and x/all eq 1").matches(&json!({"flags": {"any": true}, "x": {"all": 1}})));
}

#[test]
fn nested_lambdas() {
    let text = "targetResources/any(t: t/modifiedProperties/any(p: p/displayName eq 'Role.DisplayName' and p/newValue eq 'Global Administrator'))";
    assert_eq!(
        f(text),
        lambda(
            "targetResources",
            LambdaOperator::Any,
            "t",
            lambda(
                "t/modifiedProperties",
                LambdaOperator::Any,
                "p",
                and(
                    cmp("p/displayName", CompareOp::Eq, Literal::String("Role.DisplayName".into())),
                    cmp("p/newValue", CompareOp::Eq, Literal::String("Global Administrator".into()))
                )
            )
        )
    );
    assert!(audit_matches(text));
    assert!(!audit_matches(
        "targetResources/any(t: t/modifiedProperties/any(p: p/displayName eq 'Role.TemplateId' and p/newValue ne null))"
    ));
    // The inner body may use the outer range variable and the outer item.
    assert!(audit_matches(
        "targetResources/any(t: t/modifiedProperties/any(p: p/newValue eq 'Global Administrator' and t/type eq 'Role' and category eq 'RoleManagement'))"
    ));
    assert!(!audit_matches(
        "targetResources/any(t: t/modifiedProperties/any(p: p/newValue eq 'Global Administrator' and t/type eq 'User'))"
    ));
    // Elements without the nested collection: any is false, all is false (missing).
    assert!(!audit_matches("targetResources/all(t: t/modifiedProperties/any(p: p/newValue eq null))"));
    assert!(audit_matches(
        "targetResources/any(t: t/modifiedProperties/all(p: startswith(p/displayName, 'Role.')))"
    ));
    assert!(audit_matches("targetResources/any(t: t/modifiedProperties/any())"));
    // Nested collection of primitives.
    let item = json!({"groups": [{"labels": ["a", "b"]}, {"labels": ["c"]}]});
    assert!(f("groups/any(g: g/labels/any(l: l eq 'c'))").matches(&item));
    assert!(!f("groups/all(g: g/labels/any(l: l eq 'c'))").matches(&item));
    assert!(f("groups/all(g: g/labels/any())").matches(&item));
}

#[test]
fn lambda_properties_required_eq_and_display() {
    assert_eq!(f("targetResources/any(t: t/id eq 'x')").properties(), vec!["targetResources"]);
    assert_eq!(
        f("activityDateTime ge 2025-01-01T00:00:00Z and targetResources/any(t: t/id eq 'abc' and category eq 'c') and TargetResources/all(x: x/modifiedProperties/any(p: p/newValue eq null)) and members/any() and roles/any(r: r eq 'x')")
            .properties(),
        vec!["activityDateTime", "targetResources", "category", "members", "roles"]
    );
    // A range variable's scope ends with its lambda.
    assert_eq!(f("tags/any(t: t eq 'a') and t eq 1").properties(), vec!["tags", "t"]);
    assert_eq!(f("a eq 'x' and targetResources/any(t: t/id eq 'y')").required_eq("a").as_deref(), Some("x"));
    assert_eq!(f("targetResources/any(t: t/id eq 'y')").required_eq("t/id"), None);

    for text in [
        "targetResources/any(t: t/id eq '071cc716-8147-4397-a5ba-b2105951cc0b')",
        "targetResources/any(t: t/displayName eq 'Global Administrator' and t/type eq 'Role')",
        "roles/any(r: r eq 'x')",
        "tags/all(x: startswith(x, 'a'))",
        "members/any()",
        "activityDateTime ge 2025-01-01T00:00:00Z and targetResources/any(t: t/id eq 'abc')",
        "not a/all(x: x/b eq 1 or x/c in (1, 2)) or b/any(y: y/z/any(w: w eq 'q'))",
    ] {
        let parsed = f(text);
        let rendered = parsed.to_string();
        assert_eq!(rendered, text);
        assert_eq!(f(&rendered), parsed, "{text} -> {rendered}");
    }
    assert_eq!(f("Tags/ALL(X:(X eq 'a' or X eq 'b'))").to_string(), "Tags/all(X: X eq 'a' or X eq 'b')");
    assert_eq!(f("members/any( )").to_string(), "members/any()");
}

#[test]
fn lambda_errors() {
    // Missing ':'.
    assert_eq!(
        err("targetResources/any(t t/id eq 'x')"),
        "Invalid $filter: missing ':' after range variable 't' at position 20; found 't/id' at position 22"
    );
    assert_eq!(
        err("roles/any(r)"),
        "Invalid $filter: missing ':' after range variable 'r' at position 10; found ')' at position 11"
    );
    assert_eq!(err("roles/any(r"), "Invalid $filter: missing ':' after range variable 'r' at position 10");
    // Not a range variable name.
    assert_eq!(
        err("members/any(m/id eq 'x')"),
        "Invalid $filter: expected a range variable name at position 12 in 'members/any', found 'm/id'"
    );
    assert_eq!(
        err("members/any('m': m eq 1)"),
        "Invalid $filter: expected a range variable name at position 12 in 'members/any', found ''m''"
    );
    assert_eq!(
        err("members/any(and: m eq 1)"),
        "Invalid $filter: expected a range variable name at position 12 in 'members/any', found 'and'"
    );
    assert_eq!(
        err("members/any(: m eq 1)"),
        "Invalid $filter: expected a range variable name at position 12 in 'members/any', found ':'"
    );
    // Unknown range variable.
    assert_eq!(
        err("targetResources/any(t: s/id eq 'abc')"),
        "Invalid $filter: unknown range variable 's' in 's/id' at position 23; 'targetResources/any' at position 0 declares 't'"
    );
    assert_eq!(
        err("roles/any(r: x eq 'a')"),
        "Invalid $filter: unknown range variable 'x' at position 13; 'roles/any' at position 0 declares 'r'"
    );
    assert_eq!(
        err("a/any(x: x/b/any(y: x/c eq 1))"),
        "Invalid $filter: range variable 'y' at position 17 is never used in 'x/b/any'"
    );
    assert_eq!(
        err("a/any(x: x eq 1) and b/any(y: x eq 1)"),
        "Invalid $filter: unknown range variable 'x' at position 30; 'b/any' at position 21 declares 'y'"
    );
    assert_eq!(
        err("a/any(x: x/b/any(x: x eq 1))"),
        "Invalid $filter: range variable 'x' at position 17 is already declared at position 6"
    );
    // Unbalanced parentheses and stray tokens.
    assert_eq!(
        err("targetResources/any(t: t/id eq 'x'"),
        "Invalid $filter: unbalanced parentheses: '(' at position 19 is never closed"
    );
    assert_eq!(
        err("members/any("),
        "Invalid $filter: unbalanced parentheses: '(' at position 11 is never closed"
    );
    assert_eq!(
        err("a/any(x: x/b/any(y: y eq 1)"),
        "Invalid $filter: unbalanced parentheses: '(' at position 5 is never closed"
    );
    assert_eq!(
        err("targetResources/any(t: t/id eq 'x'))"),
        "Invalid $filter: unbalanced parentheses: unexpected ')' at position 35"
    );
    assert_eq!(
        err("targetResources/any(t: t/id eq 'x' t)"),
        "Invalid $filter: unexpected token 't' at position 35; expected ')' to close 'targetResources/any' at position 0"
    );
    // Missing predicate, body-less all, bare operator.
    assert_eq!(err("members/any(m:)"), "Invalid $filter: missing operand before ')' at position 14");
    assert_eq!(err("members/any(m: )"), "Invalid $filter: missing operand before ')' at position 15");
    assert_eq!(
        err("members/all()"),
        "Invalid $filter: 'members/all' at position 0 needs a range variable and a predicate, as in 'members/all(x: ...)'"
    );
    assert_eq!(
        err("any(x: x eq 1)"),
        "Invalid $filter: lambda operator 'any' at position 0 must follow a collection property, as in 'members/any(m: ...)'"
    );
    assert_eq!(
        err("targetResources/any(t: t/id eq 'x') eq true"),
        "Invalid $filter: unexpected token 'eq' at position 36; expected 'and', 'or' or the end of the filter"
    );
    assert_eq!(
        err("a eq 1 : b"),
        "Invalid $filter: unexpected token ':' at position 7; expected 'and', 'or' or the end of the filter"
    );
    assert!(qerr("$filter=roles/any(r: q eq 'x')").contains("unknown range variable 'q'"));
}
