//! Query strings (percent-decoding, every option, `$expand` nesting) and applying them.

use super::*;

// ----- query strings --------------------------------------------------------------------

#[test]
fn parses_plain_query() {
    let q = parse_query(
        "$filter=principalId eq '071cc716-8147-4397-a5ba-b2105951cc0b'&$select=id,principalId&$top=5&$skip=2&$count=true&$orderby=createdDateTime desc,id",
    )
    .unwrap();
    assert_eq!(
        q.filter.as_ref().and_then(|f| f.required_eq("principalId")).as_deref(),
        Some("071cc716-8147-4397-a5ba-b2105951cc0b")
    );
    assert_eq!(q.select, Some(vec!["id".to_string(), "principalId".to_string()]));
    assert_eq!(q.top, Some(5));
    assert_eq!(q.skip, Some(2));
    assert!(q.count);
    assert_eq!(q.orderby, vec![("createdDateTime".to_string(), true), ("id".to_string(), false)]);
    assert!(q.expand.is_empty());
}

#[test]
fn parses_empty_query_and_ignores_non_dollar_params() {
    assert_eq!(parse_query("").unwrap(), QueryOptions::default());
    assert_eq!(parse_query("?").unwrap(), QueryOptions::default());
    assert_eq!(parse_query("api-version=1&foo=bar&&filter=whatever").unwrap(), QueryOptions::default());
    let q = parse_query("?$top=3&x=1&").unwrap();
    assert_eq!(q.top, Some(3));
}

#[test]
fn parses_percent_encoded_query() {
    let q = parse_query("%24filter=principalId%20eq%20%27abc%27&%24top=1").unwrap();
    assert_eq!(q.filter, Some(cmp("principalId", CompareOp::Eq, Literal::String("abc".into()))));
    assert_eq!(q.top, Some(1));
    let q = parse_query("$filter=status+eq+%27Pending+Approval%27+and+x+eq+%27a%26b%27").unwrap();
    assert_eq!(
        q.filter,
        Some(and(
            cmp("status", CompareOp::Eq, Literal::String("Pending Approval".into())),
            cmp("x", CompareOp::Eq, Literal::String("a&b".into()))
        ))
    );
    // Encoded '+' survives as a literal plus sign (datetime offsets).
    let q = parse_query("$filter=t%20ge%202025-01-01T00:00:00%2B01:00").unwrap();
    assert_eq!(
        q.filter,
        Some(cmp("t", CompareOp::Ge, Literal::DateTime("2025-01-01T00:00:00+01:00".into())))
    );
    // Encoded UTF-8.
    let q = parse_query("$filter=displayName%20eq%20%27Ren%C3%A9%27").unwrap();
    assert!(q.filter.unwrap().matches(&json!({"displayName": "RENÉ"})));
    // Mixed-case escapes and option names.
    let q = parse_query("%24Select=id%2cdisplayName").unwrap();
    assert_eq!(q.select, Some(vec!["id".to_string(), "displayName".to_string()]));
}

#[test]
fn query_errors() {
    assert_eq!(
        qerr("$top=1&$filter=a%2"),
        "Invalid query string: malformed percent-escape '%2' at position 16"
    );
    assert_eq!(qerr("$filter=a%zz"), "Invalid query string: malformed percent-escape '%zz' at position 9");
    assert_eq!(
        qerr("$filter=%FF"),
        "Invalid query string: '%FF' at position 8 does not decode to valid UTF-8"
    );
    assert_eq!(
        qerr("$search=abc"),
        "Unrecognized query option '$search'; supported options are $filter, $select, $expand, $top, $skip, $count and $orderby"
    );
    assert_eq!(qerr("$top=1&$TOP=2"), "Query option '$TOP' was specified more than once");
    assert_eq!(
        qerr("$filter=a eq 1&%24filter=b eq 2"),
        "Query option '$filter' was specified more than once"
    );
    assert_eq!(qerr("$top=-1"), "Invalid $top: '-1' is not a non-negative integer");
    assert_eq!(qerr("$top=abc"), "Invalid $top: 'abc' is not a non-negative integer");
    assert_eq!(qerr("$top="), "Invalid $top: '' is not a non-negative integer");
    assert_eq!(qerr("$top=1.5"), "Invalid $top: '1.5' is not a non-negative integer");
    assert_eq!(
        qerr("$top=99999999999999999999999"),
        "Invalid $top: '99999999999999999999999' is not a non-negative integer"
    );
    assert_eq!(qerr("$skip=x"), "Invalid $skip: 'x' is not a non-negative integer");
    assert_eq!(qerr("$count=yes"), "Invalid $count: 'yes' must be true or false");
    assert_eq!(
        qerr("$filter=principalId eqq 'abc'"),
        "Invalid $filter: unexpected token 'eqq' at position 12; expected a comparison operator (eq, ne, gt, ge, lt, le or in)"
    );
    assert_eq!(qerr("$filter="), "Invalid $filter: the filter expression is empty");
    assert_eq!(qerr("$select="), "Invalid $select: no properties given");
    assert_eq!(qerr("$select=id,,x"), "Invalid $select: empty property name in 'id,,x'");
    assert_eq!(qerr("$select=id,1x"), "Invalid $select: invalid property name '1x'");
    assert_eq!(qerr("$orderby="), "Invalid $orderby: no properties given");
    assert_eq!(
        qerr("$orderby=id sideways"),
        "Invalid $orderby: unknown direction 'sideways' after 'id'; expected asc or desc"
    );
    assert_eq!(qerr("$orderby=id asc extra"), "Invalid $orderby: unexpected token 'extra' in 'id asc extra'");
    assert_eq!(qerr("$orderby=id,,x"), "Invalid $orderby: empty item in 'id,,x'");
}

#[test]
fn top_zero_count_false_are_valid() {
    let q = parse_query("$top=0&$count=FALSE&$skip=0").unwrap();
    assert_eq!(q.top, Some(0));
    assert_eq!(q.skip, Some(0));
    assert!(!q.count);
}

#[test]
fn parses_expand_with_nested_options() {
    let q = parse_query("$expand=principal,roleDefinition($select=id,displayName)").unwrap();
    assert_eq!(q.expand.len(), 2);
    assert_eq!(q.expand[0].name, "principal");
    assert_eq!(q.expand[0].options, QueryOptions::default());
    assert_eq!(q.expand[1].name, "roleDefinition");
    assert_eq!(q.expand[1].options.select, Some(vec!["id".to_string(), "displayName".to_string()]));
    assert!(q.expand_item("ROLEDEFINITION").is_some());
    assert!(q.expand_item("directoryScope").is_none());

    let q = parse_query(
        "$filter=scopeId eq '/' and scopeType eq 'DirectoryRole' and roleDefinitionId eq 'fe930be7-5e62-47db-91af-98c3a49a38b1'&$expand=policy($expand=rules)",
    )
    .unwrap();
    assert_eq!(q.filter.unwrap().required_eq("scopeType").as_deref(), Some("DirectoryRole"));
    assert_eq!(q.expand[0].name, "policy");
    assert_eq!(q.expand[0].options.expand[0].name, "rules");

    let q = parse_query(
        "$expand=policy($expand=rules($select=id;$filter=id eq 'a,b;(c)');$select=id, displayName ; $top=2),principal",
    )
    .unwrap();
    let policy = &q.expand[0];
    assert_eq!(policy.options.top, Some(2));
    assert_eq!(policy.options.select, Some(vec!["id".to_string(), "displayName".to_string()]));
    let rules = &policy.options.expand[0];
    assert_eq!(rules.name, "rules");
    assert_eq!(rules.options.select, Some(vec!["id".to_string()]));
    assert_eq!(rules.options.filter, Some(cmp("id", CompareOp::Eq, Literal::String("a,b;(c)".into()))));
    assert_eq!(q.expand[1].name, "principal");

    let q = parse_query("%24expand=policy(%24expand%3Drules)").unwrap();
    assert_eq!(q.expand[0].options.expand[0].name, "rules");

    let q = parse_query("$expand=*").unwrap();
    assert!(q.expand_item("anything").is_some());

    let q = parse_query("$expand=policy()").unwrap();
    assert_eq!(q.expand[0].options, QueryOptions::default());
}

#[test]
fn expand_errors() {
    assert_eq!(qerr("$expand="), "Invalid $expand: no navigation properties given");
    assert_eq!(
        qerr("$expand=policy($expand=rules"),
        "Invalid $expand: unbalanced parentheses in 'policy($expand=rules'"
    );
    assert_eq!(qerr("$expand=policy)"), "Invalid $expand: unbalanced parentheses in 'policy)'");
    assert_eq!(qerr("$expand=principal,,policy"), "Invalid $expand: empty item in 'principal,,policy'");
    assert_eq!(
        qerr("$expand=policy($top=1)x"),
        "Invalid $expand: unexpected text after ')' in 'policy($top=1)x'"
    );
    assert_eq!(qerr("$expand=9lives"), "Invalid $expand: invalid navigation property '9lives'");
    assert_eq!(
        qerr("$expand=policy($levels=2)"),
        "Invalid $expand item 'policy': Unrecognized query option '$levels'; supported options are $filter, $select, $expand, $top, $skip, $count and $orderby"
    );
    assert_eq!(
        qerr("$expand=policy(select=id)"),
        "Invalid $expand: option 'select' of 'policy' must start with '$'"
    );
    assert_eq!(
        qerr("$expand=policy($select)"),
        "Invalid $expand: option '$select' of 'policy' must have the form $option=value"
    );
    assert_eq!(
        qerr("$expand=policy($top=1;$top=2)"),
        "Invalid $expand item 'policy': Query option '$top' was specified more than once"
    );
    assert_eq!(
        qerr("$expand=roleDefinition($filter=id eqq 'x')"),
        "Invalid $expand item 'roleDefinition': Invalid $filter: unexpected token 'eqq' at position 3; expected a comparison operator (eq, ne, gt, ge, lt, le or in)"
    );
}

#[test]
fn odata_error_is_std_error() {
    let e = parse_filter("").unwrap_err();
    assert_eq!(e.to_string(), e.message);
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(boxed.to_string().starts_with("Invalid $filter"));
}

// ----- $select / $orderby / apply -------------------------------------------------------

#[test]
fn select_keeps_selected_and_odata_keys() {
    let mut item = assignment();
    item["principal@odata.context"] = json!("ctx");
    apply_select(&mut item, &["ID".to_string(), "principalId".to_string(), "principal".to_string()]);
    let keys: Vec<&str> = item.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(keys, vec!["@odata.type", "id", "principalId", "principal", "principal@odata.context"]);

    let mut item = assignment();
    apply_select(&mut item, &["scheduleInfo/expiration".to_string()]);
    assert_eq!(item.as_object().unwrap().len(), 2);
    assert_eq!(item["scheduleInfo"]["expiration"]["type"], "afterDuration");

    let mut item = assignment();
    apply_select(&mut item, &["*".to_string()]);
    assert_eq!(item, assignment());

    let mut item = assignment();
    apply_select(&mut item, &["nothingLikeThis".to_string()]);
    assert_eq!(item, json!({"@odata.type": "#microsoft.graph.unifiedRoleAssignmentSchedule"}));

    let mut items = json!([{"id": 1, "x": 2}, {"id": 3, "y": 4}, 7]);
    apply_select(&mut items, &["id".to_string()]);
    assert_eq!(items, json!([{"id": 1}, {"id": 3}, 7]));
}

fn ids(items: &[Value]) -> Vec<&str> {
    items.iter().map(|i| i["id"].as_str().unwrap()).collect()
}

#[test]
fn orderby_sorts_by_keys() {
    let mut items = vec![
        json!({"id": "a", "n": 2, "name": "beta", "t": "2025-01-02T00:00:00Z"}),
        json!({"id": "b", "n": 1, "name": "Alpha", "t": "2025-01-01T23:00:00-02:00"}),
        json!({"id": "c", "n": 2, "name": "alpha", "t": null}),
        json!({"id": "d", "name": "Gamma", "t": "2025-01-01T00:00:00Z"}),
    ];
    apply_orderby(&mut items, &[("n".to_string(), false)]);
    assert_eq!(ids(&items), vec!["d", "b", "a", "c"]);
    apply_orderby(&mut items, &[("n".to_string(), true)]);
    assert_eq!(ids(&items), vec!["a", "c", "b", "d"]);
    apply_orderby(&mut items, &[("N".to_string(), true), ("name".to_string(), false)]);
    assert_eq!(ids(&items), vec!["c", "a", "b", "d"]);
    // Chronological: 23:00-02:00 on the 1st is 01:00Z on the 2nd.
    apply_orderby(&mut items, &[("t".to_string(), false)]);
    assert_eq!(ids(&items), vec!["c", "d", "a", "b"]);
    apply_orderby(&mut items, &[("t".to_string(), true)]);
    assert_eq!(ids(&items), vec!["b", "a", "d", "c"]);
    // Case-insensitive strings, stable for ties.
    apply_orderby(&mut items, &[("name".to_string(), false)]);
    assert_eq!(ids(&items), vec!["b", "c", "a", "d"]);
    // Empty orderby leaves the order alone.
    apply_orderby(&mut items, &[]);
    assert_eq!(ids(&items), vec!["b", "c", "a", "d"]);
}

#[test]
fn orderby_nested_paths_and_mixed_types() {
    let mut items = vec![
        json!({"id": "a", "p": {"n": "x"}}),
        json!({"id": "b", "p": {"n": 3}}),
        json!({"id": "c", "p": {"n": true}}),
        json!({"id": "d"}),
        json!({"id": "e", "p": {"n": "2025-01-01T00:00:00Z"}}),
    ];
    apply_orderby(&mut items, &[("p/n".to_string(), false)]);
    assert_eq!(ids(&items), vec!["d", "c", "b", "e", "a"]);
}

#[test]
fn apply_runs_the_whole_pipeline() {
    let items: Vec<Value> = (0..10)
        .map(|i| {
            json!({
                "@odata.type": "#x",
                "id": format!("i{i}"),
                "n": i,
                "status": if i % 2 == 0 { "Provisioned" } else { "Granted" },
                "principal": {"id": format!("p{i}"), "displayName": "P"},
                "rules": [{"id": "r2", "v": 2}, {"id": "r1", "v": 1}, {"id": "r3", "v": 3}]
            })
        })
        .collect();
    let q = parse_query(
        "$filter=status eq 'provisioned'&$orderby=n desc&$skip=1&$top=2&$select=id&$expand=principal($select=id),rules($filter=v ne 3;$orderby=id;$select=id)&$count=true",
    )
    .unwrap();
    let (out, count) = q.apply(items);
    assert_eq!(count, 5);
    assert_eq!(
        out,
        vec![
            json!({"@odata.type": "#x", "id": "i6", "principal": {"id": "p6"}, "rules": [{"id": "r1"}, {"id": "r2"}]}),
            json!({"@odata.type": "#x", "id": "i4", "principal": {"id": "p4"}, "rules": [{"id": "r1"}, {"id": "r2"}]}),
        ]
    );

    let (all, count) = QueryOptions::default().apply(vec![json!({"id": "x"})]);
    assert_eq!((all, count), (vec![json!({"id": "x"})], 1));
}
