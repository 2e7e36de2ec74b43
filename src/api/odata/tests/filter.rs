//! `$filter`: parsing, evaluation, the properties a filter names, printing and errors.

use super::*;

// ----- parsing: structure ------------------------------------------------------------

#[test]
fn parses_simple_comparison() {
    assert_eq!(
        f("status eq 'PendingApproval'"),
        cmp("status", CompareOp::Eq, Literal::String("PendingApproval".into()))
    );
}

#[test]
fn parses_every_comparison_operator() {
    for (text, op) in [
        ("eq", CompareOp::Eq),
        ("ne", CompareOp::Ne),
        ("gt", CompareOp::Gt),
        ("ge", CompareOp::Ge),
        ("lt", CompareOp::Lt),
        ("le", CompareOp::Le),
    ] {
        assert_eq!(f(&format!("priority {text} 5")), cmp("priority", op, Literal::Number(5.0)));
    }
}

#[test]
fn and_binds_tighter_than_or() {
    assert_eq!(f("a eq 1 or b eq 2 and c eq 3"), or(num("a", 1.0), and(num("b", 2.0), num("c", 3.0))));
    assert_eq!(f("a eq 1 and b eq 2 or c eq 3"), or(and(num("a", 1.0), num("b", 2.0)), num("c", 3.0)));
    let filter = f("a eq 1 or b eq 2 and c eq 3");
    assert!(filter.matches(&json!({"a": 1, "b": 0, "c": 0})));
    assert!(!filter.matches(&json!({"a": 0, "b": 2, "c": 0})));
    assert!(filter.matches(&json!({"a": 0, "b": 2, "c": 3})));
}

#[test]
fn and_or_are_left_associative() {
    assert_eq!(f("a eq 1 and b eq 2 and c eq 3"), and(and(num("a", 1.0), num("b", 2.0)), num("c", 3.0)));
    assert_eq!(f("a eq 1 or b eq 2 or c eq 3"), or(or(num("a", 1.0), num("b", 2.0)), num("c", 3.0)));
}

#[test]
fn parentheses_override_precedence() {
    let filter = f("(a eq 1 or b eq 2) and c eq 3");
    assert_eq!(filter, and(or(num("a", 1.0), num("b", 2.0)), num("c", 3.0)));
    assert!(!filter.matches(&json!({"a": 1, "b": 0, "c": 0})));
    assert!(filter.matches(&json!({"a": 1, "b": 0, "c": 3})));
    assert_eq!(f("((a eq 1))"), num("a", 1.0));
    let real = f("(status eq 'Granted' or status eq 'Provisioned') and memberType ne 'Group'");
    assert!(real.matches(&assignment()));
    assert!(!real.matches(&json!({"status": "Provisioned", "memberType": "Group"})));
    assert!(real.matches(&json!({"status": "granted"})));
}

#[test]
fn not_operator() {
    assert_eq!(f("not a eq 1"), not(num("a", 1.0)));
    assert_eq!(f("not a eq 1 and b eq 2"), and(not(num("a", 1.0)), num("b", 2.0)));
    assert_eq!(f("not (a eq 1 or b eq 2)"), not(or(num("a", 1.0), num("b", 2.0))));
    assert_eq!(f("not not a eq 1"), not(not(num("a", 1.0))));
    assert_eq!(f("not(a eq 1)"), not(num("a", 1.0)));
    assert!(!matches("not status eq 'Provisioned'"));
    assert!(matches("not status eq 'Granted'"));
    assert!(matches("not (status eq 'Granted' or priority eq 4)"));
    assert!(matches("NOT not status eq 'provisioned'"));
}

#[test]
fn in_operator() {
    assert_eq!(
        f("roleDefinitionId in ('a','b')"),
        Filter::In {
            property: "roleDefinitionId".into(),
            values: vec![Literal::String("a".into()), Literal::String("b".into())]
        }
    );
    assert!(matches("roleDefinitionId in ('x', '62E90394-69F5-4237-9190-012177145E10')"));
    assert!(!matches("roleDefinitionId in ('x', 'y')"));
    assert!(matches("priority in (1, 5)"));
    assert!(matches("status IN ('provisioned')"));
    assert!(matches("principalId in (071cc716-8147-4397-a5ba-b2105951cc0b)"));
    assert!(matches("createdUsing in ('x', null)"));
    assert!(!matches("status in ()"));
    assert!(matches("not status in ('Granted')"));
}

#[test]
fn literals_are_parsed() {
    assert_eq!(f("name eq 'O''Brien'"), cmp("name", CompareOp::Eq, Literal::String("O'Brien".into())));
    assert_eq!(f("name eq ''"), cmp("name", CompareOp::Eq, Literal::String(String::new())));
    assert_eq!(f("n eq -1.5e2"), cmp("n", CompareOp::Eq, Literal::Number(-150.0)));
    assert_eq!(f("b eq TRUE"), cmp("b", CompareOp::Eq, Literal::Bool(true)));
    assert_eq!(f("b eq false"), cmp("b", CompareOp::Eq, Literal::Bool(false)));
    assert_eq!(f("b eq Null"), cmp("b", CompareOp::Eq, Literal::Null));
    assert_eq!(
        f("d ge 2025-01-01T00:00:00Z"),
        cmp("d", CompareOp::Ge, Literal::DateTime("2025-01-01T00:00:00Z".into()))
    );
    assert_eq!(
        f("id eq fe930be7-5e62-47db-91af-98c3a49a38b1"),
        cmp("id", CompareOp::Eq, Literal::Guid("fe930be7-5e62-47db-91af-98c3a49a38b1".into()))
    );
    assert_eq!(
        f("id eq 071cc716-8147-4397-a5ba-b2105951cc0b"),
        cmp("id", CompareOp::Eq, Literal::Guid("071cc716-8147-4397-a5ba-b2105951cc0b".into()))
    );
    // Strings keep spaces, parentheses and keywords verbatim.
    assert_eq!(
        f("name eq ' a (and) or '"),
        cmp("name", CompareOp::Eq, Literal::String(" a (and) or ".into()))
    );
}

#[test]
fn literal_on_the_left_is_normalised() {
    assert_eq!(f("5 lt priority"), cmp("priority", CompareOp::Gt, Literal::Number(5.0)));
    assert_eq!(
        f("'Provisioned' eq status"),
        cmp("status", CompareOp::Eq, Literal::String("Provisioned".into()))
    );
    assert!(matches("4 lt priority"));
    assert!(!matches("5 lt priority"));
}

#[test]
fn keywords_and_properties_are_case_insensitive() {
    assert!(matches("PRINCIPALID EQ '071CC716-8147-4397-A5BA-B2105951CC0B' AND Status Eq 'provisioned'"));
    assert!(matches("status eq 'x' Or isbuiltin eq TRUE"));
    assert!(matches("CREATEDUSING EQ NULL"));
    assert!(matches("displayname eq 'global ADMINISTRATOR'"));
}

// ----- evaluation ----------------------------------------------------------------------

#[test]
fn real_client_filters() {
    assert!(matches(
        "principalId eq '071cc716-8147-4397-a5ba-b2105951cc0b' and roleDefinitionId eq '62e90394-69f5-4237-9190-012177145e10'"
    ));
    assert!(!matches(
        "principalId eq '071cc716-8147-4397-a5ba-b2105951cc0b' and roleDefinitionId eq 'fe930be7-5e62-47db-91af-98c3a49a38b1'"
    ));
    let policy = json!({"scopeId": "/", "scopeType": "DirectoryRole", "roleDefinitionId": "fe930be7"});
    assert!(f("scopeId eq '/' and scopeType eq 'DirectoryRole'").matches(&policy));
    assert!(
        f("scopeId eq '/' and scopeType eq 'DirectoryRole' and roleDefinitionId eq 'fe930be7'")
            .matches(&policy)
    );
    assert!(matches("isBuiltIn eq true"));
    assert!(!matches("isBuiltIn eq false"));
    assert!(matches("isBuiltIn ne false"));
}

#[test]
fn numeric_comparisons() {
    assert!(matches("priority eq 5"));
    assert!(matches("priority eq 5.0"));
    assert!(!matches("priority ne 5"));
    assert!(matches("priority gt 4"));
    assert!(!matches("priority gt 5"));
    assert!(matches("priority ge 5"));
    assert!(!matches("priority ge 6"));
    assert!(matches("priority lt 6"));
    assert!(!matches("priority lt 5"));
    assert!(matches("priority le 5"));
    assert!(!matches("priority le 4"));
    assert!(matches("priority gt -10"));
}

#[test]
fn string_comparisons() {
    assert!(matches("status eq 'PROVISIONED'"));
    assert!(matches("status ne 'Granted'"));
    assert!(!matches("status ne 'provisioned'"));
    assert!(matches("displayName gt 'alpha'"));
    assert!(matches("displayName gt 'ALPHA'"));
    assert!(matches("displayName lt 'zeta'"));
    assert!(matches("displayName ge 'global administrator'"));
    assert!(matches("displayName le 'GLOBAL ADMINISTRATOR'"));
    assert!(!matches("displayName lt 'global'"));
}

#[test]
fn datetime_comparisons() {
    assert!(matches("activityDateTime ge 2025-01-01T00:00:00Z and activityDateTime le 2025-02-01T00:00:00Z"));
    assert!(!matches("activityDateTime ge 2025-02-01T00:00:00Z"));
    assert!(matches("activityDateTime gt 2025-01-15T10:30:00Z"));
    assert!(matches("activityDateTime lt 2025-01-15T10:30:00.5Z"));
    // Offsets are honoured: 11:30+01:00 is 10:30Z.
    assert!(matches("activityDateTime ge 2025-01-15T11:30:00+01:00"));
    assert!(!matches("activityDateTime lt 2025-01-15T11:30:00+01:00"));
    // Date-only literal means midnight UTC.
    assert!(matches("activityDateTime gt 2025-01-15"));
    assert!(matches("activityDateTime lt 2025-01-16"));
    // Chronological, not lexicographic: '+14:00' on the 16th is before 10:30Z on the 15th.
    assert!(matches("activityDateTime gt 2025-01-16T00:00:00+14:00"));
    // Quoted datetimes compare chronologically too.
    let item = json!({"start": "2025-01-01T00:00:00Z"});
    assert!(f("start eq '2025-01-01T01:00:00+01:00'").matches(&item));
    assert!(f("start eq 2025-01-01T01:00:00+01:00").matches(&item));
    assert!(f("start lt '2025-01-01T00:00:01Z'").matches(&item));
    // A datetime literal against a non-datetime string or a number is not comparable.
    assert!(!matches("displayName gt 2025-01-01T00:00:00Z"));
    assert!(!matches("priority gt 2025-01-01T00:00:00Z"));
    assert!(matches("displayName ne 2025-01-01T00:00:00Z"));
}

#[test]
fn null_handling() {
    // Missing property and JSON null both equal null.
    assert!(matches("createdUsing eq null"));
    assert!(matches("doesNotExist eq null"));
    assert!(!matches("createdUsing ne null"));
    assert!(matches("status ne null"));
    assert!(!matches("status eq null"));
    // Non-null literal against a missing/null value.
    assert!(!matches("createdUsing eq 'x'"));
    assert!(matches("createdUsing ne 'x'"));
    assert!(!matches("doesNotExist eq 5"));
    assert!(matches("doesNotExist ne 5"));
    // Ordering with null is always false.
    assert!(!matches("createdUsing gt 'a'"));
    assert!(!matches("createdUsing lt 'a'"));
    assert!(!matches("priority gt null"));
    assert!(!matches("createdUsing ge null"));
    assert!(!matches("createdUsing le null"));
    assert!(matches("not createdUsing gt 'a'"));
}

#[test]
fn mismatched_types_are_false() {
    assert!(!matches("isBuiltIn eq 'true'"));
    assert!(matches("isBuiltIn ne 'true'"));
    assert!(!matches("priority eq '5'"));
    assert!(!matches("status eq 5"));
    assert!(!matches("status gt 5"));
    assert!(!matches("priority gt 'a'"));
    assert!(!matches("principal eq 'x'"));
    assert!(!matches("tags eq 'a'"));
    assert!(!matches("isBuiltIn gt 5"));
}

#[test]
fn nested_paths() {
    assert!(matches("principal/id eq '071cc716-8147-4397-a5ba-b2105951cc0b'"));
    assert!(matches("Principal/DisplayName eq 'alex'"));
    assert!(matches("scheduleInfo/expiration/type eq 'afterDuration'"));
    assert!(!matches("scheduleInfo/expiration/type eq 'noExpiration'"));
    assert!(matches("scheduleInfo/expiration/endDateTime eq null"));
    assert!(matches("scheduleInfo/missing/type eq null"));
    // A path through a non-object resolves to nothing.
    assert!(matches("status/value eq null"));
    assert!(matches("tags/x eq null"));
    assert!(!matches("principal/id eq null"));
    assert_eq!(resolve_path(&assignment(), "SCHEDULEINFO/expiration/Duration"), Some(&json!("PT8H")));
}

#[test]
fn exact_key_preferred_over_case_insensitive_key() {
    let item = json!({"Status": "a", "status": "b"});
    assert!(f("status eq 'b'").matches(&item));
    assert!(f("Status eq 'a'").matches(&item));
}

#[test]
fn string_functions() {
    assert!(matches("startswith(displayName, 'global')"));
    assert!(matches("endswith(displayName,'ADMINISTRATOR')"));
    assert!(matches("contains(displayName, 'l adm')"));
    assert!(!matches("contains(displayName, 'reader')"));
    assert!(!matches("startswith(priority, '5')"));
    assert!(!matches("startswith(missing, 'a')"));
    assert!(matches("StartsWith(displayName, 'G') and not contains(displayName, 'x')"));
    assert_eq!(
        f("startswith(displayName, 'Global')"),
        Filter::Function {
            function: StringFunction::StartsWith,
            property: "displayName".into(),
            value: "Global".into()
        }
    );
}

// ----- properties / required_eq / Display -------------------------------------------

#[test]
fn properties_lists_every_path_once() {
    let filter = f(
        "(status eq 'a' or Status eq 'b') and not principal/id in ('x') and startswith(displayName,'G') and 5 lt priority and status ne null",
    );
    assert_eq!(filter.properties(), vec!["status", "principal/id", "displayName", "priority"]);
}

#[test]
fn required_eq_finds_top_level_equalities() {
    let filter = f(
        "scopeId eq '/' and scopeType eq 'DirectoryRole' and roleDefinitionId eq 'fe930be7-5e62-47db-91af-98c3a49a38b1'",
    );
    assert_eq!(filter.required_eq("scopeId").as_deref(), Some("/"));
    assert_eq!(filter.required_eq("SCOPETYPE").as_deref(), Some("DirectoryRole"));
    assert_eq!(
        filter.required_eq("roleDefinitionId").as_deref(),
        Some("fe930be7-5e62-47db-91af-98c3a49a38b1")
    );
    assert_eq!(filter.required_eq("principalId"), None);

    assert_eq!(f("principalId eq 'p'").required_eq("principalId").as_deref(), Some("p"));
    assert_eq!(f("(a eq 'x' and (b eq 'y')) and c eq 'z'").required_eq("b").as_deref(), Some("y"));
    assert_eq!(f("'p' eq principalId").required_eq("principalId").as_deref(), Some("p"));
    assert_eq!(
        f("groupId eq 071cc716-8147-4397-a5ba-b2105951cc0b").required_eq("groupId").as_deref(),
        Some("071cc716-8147-4397-a5ba-b2105951cc0b")
    );
    assert_eq!(f("n eq 5").required_eq("n").as_deref(), Some("5"));
    assert_eq!(f("b eq true").required_eq("b").as_deref(), Some("true"));
    // Not required: under or / not, other operators, null.
    assert_eq!(f("a eq 'x' or b eq 'y'").required_eq("a"), None);
    assert_eq!(f("not a eq 'x'").required_eq("a"), None);
    assert_eq!(f("a ne 'x'").required_eq("a"), None);
    assert_eq!(f("a in ('x')").required_eq("a"), None);
    assert_eq!(f("a eq null").required_eq("a"), None);
    assert_eq!(f("(a eq 'x' or a eq 'y') and b eq 'z'").required_eq("a"), None);
}

#[test]
fn display_round_trips() {
    for text in [
        "a eq 1 or b eq 2 and c eq 3",
        "(a eq 1 or b eq 2) and c eq 3",
        "a eq 1 and (b eq 2 and c eq 3)",
        "a eq 1 or (b eq 2 or c eq 3)",
        "not (a eq 'x' and b ne null)",
        "not not a eq true",
        "name eq 'O''Brien' and id in ('a', 071cc716-8147-4397-a5ba-b2105951cc0b, 3, null)",
        "t ge 2025-01-01T00:00:00Z and t lt 2025-02-01",
        "startswith(displayName, 'it''s') or x le -2.5",
        "principal/id eq 'p' and n in ()",
    ] {
        let parsed = f(text);
        let rendered = parsed.to_string();
        assert_eq!(f(&rendered), parsed, "{text} -> {rendered}");
    }
    assert_eq!(f("(a eq 1 or b eq 2) and not c eq 'x'").to_string(), "(a eq 1 or b eq 2) and not c eq 'x'");
    assert_eq!(f("a eq 1 or (b eq 2)").to_string(), "a eq 1 or b eq 2");
}

// ----- filter errors --------------------------------------------------------------------

#[test]
fn error_unknown_operator() {
    assert_eq!(
        err("principalId eqq 'abc'"),
        "Invalid $filter: unexpected token 'eqq' at position 12; expected a comparison operator (eq, ne, gt, ge, lt, le or in)"
    );
    assert_eq!(
        err("status and x eq 1"),
        "Invalid $filter: unexpected token 'and' at position 7; expected a comparison operator (eq, ne, gt, ge, lt, le or in)"
    );
    assert!(err("a has 'x'").contains("unexpected token 'has' at position 2"));
}

#[test]
fn error_unterminated_string() {
    assert_eq!(
        err("status eq 'Provisioned"),
        "Invalid $filter: unterminated string literal starting at position 10"
    );
    assert_eq!(err("name eq 'it''s"), "Invalid $filter: unterminated string literal starting at position 8");
}

#[test]
fn error_missing_operand() {
    assert_eq!(err("principalId eq"), "Invalid $filter: missing operand after 'eq' at position 12");
    assert_eq!(err("eq 'x'"), "Invalid $filter: missing operand before 'eq' at position 0");
    assert_eq!(err("a eq 1 and"), "Invalid $filter: missing operand after 'and' at position 7");
    assert_eq!(err("a eq 1 or or b eq 2"), "Invalid $filter: missing operand before 'or' at position 10");
    assert_eq!(err("a eq and b eq 1"), "Invalid $filter: missing operand before 'and' at position 5");
    assert_eq!(err("not"), "Invalid $filter: missing operand after 'not' at position 0");
    assert_eq!(err("()"), "Invalid $filter: missing operand before ')' at position 1");
    assert_eq!(err("status"), "Invalid $filter: missing operator after 'status' at position 0");
    assert_eq!(err("a in ('x',)"), "Invalid $filter: missing operand before ')' at position 10");
}

#[test]
fn error_unbalanced_parentheses() {
    assert_eq!(err("(a eq 1"), "Invalid $filter: unbalanced parentheses: '(' at position 0 is never closed");
    assert_eq!(err("a eq 1)"), "Invalid $filter: unbalanced parentheses: unexpected ')' at position 6");
    assert_eq!(
        err("((a eq 1) or b eq 2"),
        "Invalid $filter: unbalanced parentheses: '(' at position 0 is never closed"
    );
    assert_eq!(
        err("a in ('x', 'y'"),
        "Invalid $filter: unbalanced parentheses: '(' at position 5 is never closed"
    );
    assert_eq!(
        err("startswith(a, 'x'"),
        "Invalid $filter: unbalanced parentheses: '(' at position 10 is never closed"
    );
    assert_eq!(
        err("(a eq 1 b eq 2)"),
        "Invalid $filter: unexpected token 'b' at position 8; expected ')' to close '(' at position 0"
    );
}

#[test]
fn error_trailing_tokens() {
    assert_eq!(
        err("a eq 1 b"),
        "Invalid $filter: unexpected token 'b' at position 7; expected 'and', 'or' or the end of the filter"
    );
    assert_eq!(
        err("a eq 'x' 'y'"),
        "Invalid $filter: unexpected token ''y'' at position 9; expected 'and', 'or' or the end of the filter"
    );
}

#[test]
fn error_empty_filter() {
    assert_eq!(err(""), "Invalid $filter: the filter expression is empty");
    assert_eq!(err("   "), "Invalid $filter: the filter expression is empty");
}

#[test]
fn error_bad_tokens_and_shapes() {
    assert_eq!(err("a eq \"x\""), "Invalid $filter: unexpected character '\"' at position 5");
    assert_eq!(err("a eq 12abc"), "Invalid $filter: invalid number literal '12abc' at position 5");
    assert_eq!(
        err("d ge 2025-13-01T00:00:00Z"),
        "Invalid $filter: invalid datetime literal '2025-13-01T00:00:00Z' at position 5"
    );
    assert_eq!(err("principal/ eq 'x'"), "Invalid $filter: invalid property path 'principal/' at position 0");
    assert_eq!(
        err("a eq b"),
        "Invalid $filter: cannot compare property 'a' with property 'b' at position 5; one side must be a literal"
    );
    assert_eq!(
        err("1 eq 1"),
        "Invalid $filter: comparison of literals '1' and '1' at position 0; one side must be a property"
    );
    assert_eq!(
        err("'x' in ('x')"),
        "Invalid $filter: the left side of 'in' at position 4 must be a property, found ''x''"
    );
    assert_eq!(err("a in 'x'"), "Invalid $filter: expected '(' after 'in' at position 2, found ''x''");
    assert_eq!(err("a in"), "Invalid $filter: expected '(' after 'in' at position 2");
    assert_eq!(
        err("a in ('x' 'y')"),
        "Invalid $filter: unexpected token ''y'' at position 10; expected ',' or ')' in the 'in' list"
    );
    assert_eq!(
        err("a in ('x', b)"),
        "Invalid $filter: expected a literal in the 'in' list at position 11, found property 'b'"
    );
    assert_eq!(
        err("members/count(m: m/id eq 'x')"),
        "Invalid $filter: unsupported function 'members/count' at position 0; supported functions are startswith, endswith and contains"
    );
    assert_eq!(
        err("startswith('x', 'y')"),
        "Invalid $filter: the first argument of 'startswith' at position 11 must be a property, found ''x''"
    );
    assert_eq!(
        err("startswith(a, 5)"),
        "Invalid $filter: the second argument of 'startswith' at position 14 must be a string, found '5'"
    );
    assert_eq!(
        err("startswith(a 'x')"),
        "Invalid $filter: unexpected token ''x'' at position 13; expected ',' in 'startswith'"
    );
}
