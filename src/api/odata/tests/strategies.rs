//! Generators of random query trees for the property tests. They produce only trees the parsers
//! can return (the property left of its operator, finite numbers, valid date-times, lambda range
//! variables declared once and used), so that `parse(print(tree)) == tree` is the whole contract
//! and a failure is a bug, not a generator the parser never promised to read.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use super::super::parser::keyword;
use super::*;

/// One path segment: names seen in Graph, names that are also keywords or operators (they are
/// ordinary segments inside a longer path), and random ASCII and Unicode identifiers.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(vec![
            "id", "status", "principalId", "displayName", "scheduleInfo", "expiration", "type",
            "createdDateTime", "t", "x", "r", "T", "any", "all", "not", "eq", "In", "null",
            "startswith", "a.b", "_x",
        ])
        .prop_map(String::from),
        2 => "[a-zA-Z_][a-zA-Z0-9_.]{0,6}",
        1 => "[\\p{L}_][\\p{L}\\p{N}_.]{0,4}",
    ]
}

/// A property path of one to three segments; a keyword alone is a keyword, not a path.
pub(super) fn path() -> impl Strategy<Value = String> {
    vec(segment(), 1..=3)
        .prop_map(|s| s.join("/"))
        .prop_filter("a keyword is not a path", |p| keyword(p).is_none())
}

/// A lambda range variable: letters, digits and `_`, never a keyword.
fn variable() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec!["t", "x", "r", "m", "T", "item", "_v", "any"]).prop_map(String::from),
        "[a-zA-Z_][a-zA-Z0-9_]{0,3}",
    ]
    .prop_filter("a keyword is not a variable", |v| keyword(v).is_none())
}

/// Any string, and short ones rich in what a printer must escape or a splitter might cut at.
pub(super) fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-z' ();,&%+=$/]{0,12}", Just(String::new()), Just("'".to_string())]
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![(-1000i32..1000).prop_map(f64::from), any::<f64>().prop_filter("finite", |n| n.is_finite())]
}

/// A date-time in each form the lexer reads: date only, and date and time with `Z`, an offset
/// or no zone, with or without a fraction of a second.
fn datetime() -> impl Strategy<Value = String> {
    let date = (0u32..=9999, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"));
    let time = (0u32..24, 0u32..60, 0u32..60, prop::option::of("[0-9]{1,9}")).prop_map(|(h, m, s, frac)| {
        let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
        format!("T{h:02}:{m:02}:{s:02}{frac}")
    });
    let zone = prop_oneof![
        Just(String::from("Z")),
        Just(String::new()),
        (prop::bool::ANY, 0u32..24, 0u32..60)
            .prop_map(|(east, h, m)| format!("{}{h:02}:{m:02}", if east { '+' } else { '-' })),
    ];
    (date, prop::option::of((time, zone))).prop_map(|(date, rest)| match rest {
        Some((time, zone)) => format!("{date}{time}{zone}"),
        None => date,
    })
}

fn guid() -> impl Strategy<Value = String> {
    "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
}

pub(super) fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        Just(Literal::Null),
        any::<bool>().prop_map(Literal::Bool),
        number().prop_map(Literal::Number),
        text().prop_map(Literal::String),
        datetime().prop_map(Literal::DateTime),
        guid().prop_map(Literal::Guid),
    ]
}

fn compare_op() -> impl Strategy<Value = CompareOp> {
    select(vec![CompareOp::Eq, CompareOp::Ne, CompareOp::Gt, CompareOp::Ge, CompareOp::Lt, CompareOp::Le])
}

fn leaf() -> impl Strategy<Value = Filter> {
    let function =
        select(vec![StringFunction::StartsWith, StringFunction::EndsWith, StringFunction::Contains]);
    prop_oneof![
        3 => (path(), compare_op(), literal()).prop_map(|(property, op, value)| Filter::Compare { property, op, value }),
        1 => (path(), vec(literal(), 0..4)).prop_map(|(property, values)| Filter::In { property, values }),
        1 => (function, path(), text())
            .prop_map(|(function, property, value)| Filter::Function { function, property, value }),
        1 => path().prop_map(|collection| Filter::Lambda { collection, operator: LambdaOperator::Any, body: None }),
    ]
}

/// A `$filter` tree: leaves combined by `and`, `or`, `not` and lambdas with a body, nested a
/// few levels, then given valid lambda scopes by [`scoped`].
pub(super) fn filter() -> impl Strategy<Value = Filter> {
    leaf()
        .prop_recursive(4, 24, 2, |inner| {
            let operator = select(vec![LambdaOperator::Any, LambdaOperator::All]);
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
                inner.clone().prop_map(|a| Filter::Not(Box::new(a))),
                (path(), operator, variable(), inner).prop_map(
                    |(collection, operator, variable, predicate)| {
                        Filter::Lambda {
                            collection,
                            operator,
                            body: Some(LambdaBody { variable, predicate: Box::new(predicate) }),
                        }
                    }
                ),
            ]
        })
        .prop_map(|f| scoped(f, &mut Vec::new()))
}

/// Makes the lambdas of `filter` valid the way the parser demands: a range variable is not the
/// name (in any case) of an enclosing one, and the body uses it (an `and` is added when it does
/// not). `outer` holds the enclosing variables.
fn scoped(filter: Filter, outer: &mut Vec<String>) -> Filter {
    let both = |a: Box<Filter>, b: Box<Filter>, outer: &mut Vec<String>| {
        (Box::new(scoped(*a, outer)), Box::new(scoped(*b, outer)))
    };
    match filter {
        Filter::Lambda { collection, operator, body: Some(LambdaBody { mut variable, predicate }) } => {
            while outer.iter().any(|v| v.eq_ignore_ascii_case(&variable)) {
                variable.push('_');
            }
            outer.push(variable.clone());
            let mut predicate = scoped(*predicate, outer);
            outer.pop();
            if !uses(&predicate, &variable) {
                let used = Filter::Compare {
                    property: format!("{variable}/id"),
                    op: CompareOp::Ne,
                    value: Literal::Null,
                };
                predicate = Filter::And(Box::new(predicate), Box::new(used));
            }
            Filter::Lambda {
                collection,
                operator,
                body: Some(LambdaBody { variable, predicate: Box::new(predicate) }),
            }
        }
        Filter::And(a, b) => {
            let (a, b) = both(a, b, outer);
            Filter::And(a, b)
        }
        Filter::Or(a, b) => {
            let (a, b) = both(a, b, outer);
            Filter::Or(a, b)
        }
        Filter::Not(a) => Filter::Not(Box::new(scoped(*a, outer))),
        leaf => leaf,
    }
}

/// Whether some path in `filter` starts with `variable`, which is what the parser counts as a use.
fn uses(filter: &Filter, variable: &str) -> bool {
    let starts = |path: &str| path.split('/').next().is_some_and(|head| head.eq_ignore_ascii_case(variable));
    match filter {
        Filter::Compare { property, .. }
        | Filter::In { property, .. }
        | Filter::Function { property, .. } => starts(property),
        Filter::Lambda { collection, body, .. } => {
            starts(collection) || body.as_ref().is_some_and(|b| uses(&b.predicate, variable))
        }
        Filter::And(a, b) | Filter::Or(a, b) => uses(a, variable) || uses(b, variable),
        Filter::Not(a) => uses(a, variable),
    }
}

/// A name in `$select` or `$expand`: a path or `*`.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![4 => path(), 1 => Just("*".to_string())]
}

/// Query options with `$expand` items nested up to `depth` levels.
pub(super) fn query_options(depth: u32) -> BoxedStrategy<QueryOptions> {
    let expand = if depth == 0 {
        Just(Vec::new()).boxed()
    } else {
        vec((name(), query_options(depth - 1)).prop_map(|(name, options)| ExpandItem { name, options }), 0..3)
            .boxed()
    };
    (
        prop::option::of(filter()),
        prop::option::of(vec(name(), 1..4)),
        expand,
        vec((path(), any::<bool>()), 0..3),
        prop::option::of(any::<usize>()),
        prop::option::of(any::<usize>()),
        any::<bool>(),
    )
        .prop_map(|(filter, select, expand, orderby, top, skip, count)| QueryOptions {
            filter,
            select,
            expand,
            top,
            skip,
            count,
            orderby,
        })
        .boxed()
}
