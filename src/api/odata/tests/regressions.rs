//! Bugs the property tests found, each kept as a plain test named after what it shows.

use super::super::parser::{MAX_NESTING, MAX_NODES};
use super::super::query::MAX_EXPAND_DEPTH;
use super::*;

/// `depth` lambdas, one inside the other, each testing its own element and then its body.
fn nested_lambdas(depth: usize, innermost: &str) -> String {
    let opened: String = (1..=depth).rev().map(|k| format!("c/any(x{k}: x{k}/id eq {k} and ")).collect();
    format!("{opened}{innermost}{}", ")".repeat(depth))
}

#[test]
fn deeply_nested_parentheses_are_refused_not_a_stack_overflow() {
    // 600 levels used to overflow a 2 MB stack and abort the process.
    let text = format!("{}a eq 1{}", "(".repeat(600), ")".repeat(600));
    assert_eq!(
        err(&text),
        "Invalid $filter: parentheses, 'not' and lambdas nest more than 100 deep at position 100"
    );
    let limit = format!("{}a eq 1{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
    assert_eq!(f(&limit), num("a", 1.0));
}

#[test]
fn deeply_nested_not_and_lambdas_are_refused_not_a_stack_overflow() {
    let nots = format!("{}a eq 1", "not ".repeat(MAX_NESTING + 1));
    assert!(err(&nots).contains("nest more than 100 deep at position 400"), "{}", err(&nots));
    assert!(f(&format!("{}a eq 1", "not ".repeat(MAX_NESTING))).matches(&json!({"a": 1})));

    let lambdas = nested_lambdas(MAX_NESTING + 1, "a eq 1");
    assert!(err(&lambdas).contains("nest more than 100 deep"), "{}", err(&lambdas));
    let item = json!({"a": 1, "c": (1..=MAX_NESTING).map(|k| json!({"id": k})).collect::<Vec<_>>()});
    // `c` is the item's collection at every level, so each level finds its own element.
    assert!(f(&nested_lambdas(MAX_NESTING, "a eq 1")).matches(&item));
}

#[test]
fn a_long_or_chain_is_refused_not_a_stack_overflow() {
    // `or` associates to the left, so 2,000 terms made a tree 2,000 deep, and evaluating it
    // overflowed the stack.
    let long = vec!["a eq 1"; 2000].join(" or ");
    assert_eq!(
        err(&long),
        "Invalid $filter: the filter has more than 1000 conditions and operators; the one at position 5000 is past the limit"
    );
    let terms = MAX_NODES.div_ceil(2);
    let limit = vec!["a eq 1"; terms].join(" and ");
    assert!(f(&limit).matches(&json!({"a": 1})));
    assert!(parse_filter(&format!("{limit} and a eq 1")).is_err());
}

#[test]
fn deeply_nested_expand_options_are_refused_not_a_stack_overflow() {
    // 300 levels used to overflow the stack while parsing.
    let deep = format!("$expand={}b{}", "a($expand=".repeat(300), ")".repeat(300));
    let message = qerr(&deep);
    assert!(
        message.ends_with("Invalid $expand: the options of 'a' nest more than 10 levels deep"),
        "{message}"
    );
    let limit = format!("$expand={}b{}", "a($expand=".repeat(MAX_EXPAND_DEPTH), ")".repeat(MAX_EXPAND_DEPTH));
    let q = parse_query(&limit).unwrap();
    let (items, _) = q.apply(vec![json!({"a": {"a": {"b": 1}}})]);
    assert_eq!(items.len(), 1);
}

#[test]
fn the_largest_filters_accepted_evaluate_print_clone_and_drop_within_the_stack() {
    // The worst trees the limits allow: the deepest chain, and lambdas and `not`s nested to the
    // limit around the longest chain that still fits. Test threads have 2 MB of stack.
    let chain = vec!["a eq 1"; MAX_NODES.div_ceil(2)].join(" or ");
    let lambdas = 30;
    let nots = MAX_NESTING - lambdas - 1;
    let left = MAX_NODES - 3 * lambdas - nots;
    let inner = vec!["a eq 1"; left.div_ceil(2) - 1].join(" or ");
    let mixed = nested_lambdas(lambdas, &format!("{}({inner})", "not ".repeat(nots)));
    for text in [chain, mixed] {
        let tree = f(&text);
        let item = json!({"a": 1, "c": [{"id": 1}]});
        tree.matches(&item);
        assert_eq!(f(&tree.to_string()), tree.clone());
        assert!(format!("{tree:?}").len() > text.len() / 2);
        assert!(tree.properties().contains(&"a".to_string()));
    }
}
