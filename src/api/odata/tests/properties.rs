//! Property tests: the printers and parsers are inverses over random trees, other spellings of
//! the same filter parse to the same tree, the evaluator agrees with itself, and no input, however
//! malformed or deep, makes the parsers or the evaluator panic or overflow the stack.
//!
//! Failures are not persisted to files: each bug found becomes a named test in `regressions.rs`.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::Config;

use super::strategies::{filter, literal, path, query_options, text};
use super::*;

/// Enough cases to find shallow bugs on every run while keeping the suite fast in debug builds;
/// `PROPTEST_CASES=100000 cargo test --lib properties` searches deeper.
fn config() -> Config {
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() { Config::default().cases } else { 256 };
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// A deterministic stream of choices (xorshift), so that one seed gives one spelling and a
/// shrunk failure can be replayed.
struct Choices(u64);

impl Choices {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn one_in(&mut self, n: u64) -> bool {
        self.next() % n == 0
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[(self.next() % options.len() as u64) as usize]
    }

    /// Whitespace where the grammar needs some.
    fn space(&mut self) -> &'static str {
        self.pick(&[" ", "  ", "\t", " \n "])
    }

    /// Whitespace where the grammar allows none.
    fn maybe_space(&mut self) -> &'static str {
        self.pick(&["", "", " ", "  "])
    }

    /// `word` with each letter's case chosen at random: keywords are case-insensitive.
    fn any_case(&mut self, word: &str) -> String {
        word.chars().map(|c| if self.one_in(2) { c.to_ascii_uppercase() } else { c }).collect()
    }
}

fn op_text(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "eq",
        CompareOp::Ne => "ne",
        CompareOp::Gt => "gt",
        CompareOp::Ge => "ge",
        CompareOp::Lt => "lt",
        CompareOp::Le => "le",
    }
}

/// Another spelling of a literal: keywords in any case, numbers also in exponent form.
fn loose_literal(literal: &Literal, c: &mut Choices) -> String {
    match literal {
        Literal::Null => c.any_case("null"),
        Literal::Bool(b) => c.any_case(&b.to_string()),
        Literal::Number(n) if c.one_in(2) => format!("{n:e}"),
        other => other.to_string(),
    }
}

/// Writes `filter` the way a person might: any keyword case, extra whitespace and parentheses,
/// and the literal left of its operator. Parentheses are still added where precedence needs them
/// (`min` is the precedence the context requires, as in the printer).
fn loose(filter: &Filter, min: u8, c: &mut Choices) -> String {
    let precedence = match filter {
        Filter::Or(..) => 1,
        Filter::And(..) => 2,
        _ => 3,
    };
    let text = match filter {
        Filter::Compare { property, op, value } => {
            let (sp1, sp2) = (c.space(), c.space());
            if c.one_in(3) {
                let value = loose_literal(value, c);
                format!("{value}{sp1}{}{sp2}{property}", c.any_case(op_text(op.flipped())))
            } else {
                let value = loose_literal(value, c);
                format!("{property}{sp1}{}{sp2}{value}", c.any_case(op_text(*op)))
            }
        }
        Filter::In { property, values } => {
            let mut items = Vec::new();
            for value in values {
                items.push(format!("{}{}{}", c.maybe_space(), loose_literal(value, c), c.maybe_space()));
            }
            format!("{property}{}{}{}({})", c.space(), c.any_case("in"), c.maybe_space(), items.join(","))
        }
        Filter::Function { function, property, value } => {
            let name = match function {
                StringFunction::StartsWith => "startswith",
                StringFunction::EndsWith => "endswith",
                StringFunction::Contains => "contains",
            };
            let value = Literal::String(value.clone());
            let (s1, s2, s3, s4) = (c.maybe_space(), c.maybe_space(), c.maybe_space(), c.maybe_space());
            format!("{}({s1}{property}{s2},{s3}{value}{s4})", c.any_case(name))
        }
        Filter::Lambda { collection, operator, body } => {
            let name = c.any_case(match operator {
                LambdaOperator::Any => "any",
                LambdaOperator::All => "all",
            });
            let inside = match body {
                Some(LambdaBody { variable, predicate }) => {
                    let (s1, s2) = (c.maybe_space(), c.maybe_space());
                    format!("{variable}{s1}:{s2}{}", loose(predicate, 0, c))
                }
                None => c.maybe_space().to_string(),
            };
            format!("{collection}/{name}({inside})")
        }
        Filter::Or(a, b) => {
            let a = loose(a, 1, c);
            let b = loose(b, 2, c);
            format!("{a}{}{}{}{b}", c.space(), c.any_case("or"), c.space())
        }
        Filter::And(a, b) => {
            let a = loose(a, 2, c);
            let b = loose(b, 3, c);
            format!("{a}{}{}{}{b}", c.space(), c.any_case("and"), c.space())
        }
        Filter::Not(a) => {
            let a = loose(a, 3, c);
            format!("{}{}{a}", c.any_case("not"), c.space())
        }
    };
    if precedence < min || c.one_in(6) {
        format!("({}{text}{})", c.maybe_space(), c.maybe_space())
    } else {
        text
    }
}

/// A random JSON value over the same names the generated filters use, so that filters often
/// find what they look for.
fn json_item() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |n| n.is_finite()).prop_map(Value::from),
        text().prop_map(Value::from),
        select(vec!["2025-01-01T00:00:00Z", "2025-01-01", "071cc716-8147-4397-a5ba-b2105951cc0b"])
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((path(), inner), 0..5).prop_map(|fields| {
                Value::Object(fields.into_iter().map(|(k, v)| (k.replace('/', ""), v)).collect())
            }),
        ]
    })
}

/// Pieces joined with or without a space between them: random text that gets past the lexer's
/// first error and reaches the parser.
fn soup(pieces: &'static str) -> impl Strategy<Value = String> {
    let piece = select(pieces.split_whitespace().collect::<Vec<_>>());
    vec((piece, select(vec!["", " "])), 0..24)
        .prop_map(|pieces| pieces.into_iter().flat_map(|(piece, gap)| [piece, gap]).collect())
}

/// Text made of the pieces a filter is written with.
fn filter_soup() -> impl Strategy<Value = String> {
    soup(
        "( ) ' '' , : / eq ne lt in and or not true null a t a/b t/id any all /any( /all( startswith( \
         contains - 1 1.5e3 e 2025-01-01 T10:00:00Z +01:00 071cc716-8147-4397-a5ba-b2105951cc0b é \u{0}",
    )
}

/// Text made of the pieces a query string is written with.
fn query_soup() -> impl Strategy<Value = String> {
    soup(
        "$filter= $select= $expand= $orderby= $top= $skip= $count= $search= & = ; ( ) ' , % %2 %24 %27 \
         %FF %C3%A9 + a a/b * desc asc 1 -1 true ? a%20eq%201 a($select=b;$filter=c%20eq%20'd')",
    )
}

/// Input nested `depth` deep, or as long as that, in each of the ways a query can nest: parentheses,
/// `not`, lambdas inside lambdas, a long `or` chain (a deep tree, since `or` associates to the
/// left) and `$expand` options inside `$expand` options.
fn deep_query(shape: u8, depth: usize) -> String {
    match shape {
        0 => format!("$filter={}a eq 1{}", "(".repeat(depth), ")".repeat(depth)),
        1 => format!("$filter={}a eq 1", "not ".repeat(depth)),
        2 => {
            let opened: String =
                (1..=depth).rev().map(|k| format!("c/any(x{k}: x{k}/id eq 1 and ")).collect();
            format!("$filter={opened}x0 eq 1{}", ")".repeat(depth))
        }
        3 => format!("$filter={}", vec!["a eq 1"; depth * 4 + 1].join(" or ")),
        _ => format!("$expand={}b{}", "a($expand=".repeat(depth), ")".repeat(depth)),
    }
}

proptest! {
    // Fewer cases: each input is long. The depths reach well past every limit (nesting 100,
    // 1000 conditions, 10 levels of `$expand`), where the stack used to run out.
    #![proptest_config(Config { cases: 64, ..config() })]

    #[test]
    fn deep_or_long_input_is_parsed_or_refused_never_a_stack_overflow(shape in 0u8..5, depth in 0usize..1500) {
        if let Ok(options) = parse_query(&deep_query(shape, depth)) {
            let item = json!({"a": 1, "c": [{"id": 1}]});
            if let Some(filter) = &options.filter {
                filter.matches(&item);
                prop_assert!(!filter.to_string().is_empty());
                prop_assert!(filter.properties().len() <= 2);
            }
            options.apply(vec![item]);
            drop(options);
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_printed_filter_parses_back_to_the_same_tree(tree in filter()) {
        let printed = tree.to_string();
        let parsed = parse_filter(&printed);
        prop_assert_eq!(parsed.as_ref(), Ok(&tree), "printed as {}", printed);
        prop_assert_eq!(parsed.unwrap().to_string(), printed);
    }

    #[test]
    fn other_spellings_of_a_filter_parse_to_the_same_tree(tree in filter(), seed in 1u64..) {
        let spelled = loose(&tree, 0, &mut Choices(seed));
        let parsed = parse_filter(&spelled);
        prop_assert_eq!(parsed.as_ref(), Ok(&tree), "spelled as {}", spelled);
    }

    #[test]
    fn printed_query_options_parse_back_to_the_same_options(options in query_options(2)) {
        let printed = options.to_string();
        let parsed = parse_query(&printed);
        prop_assert_eq!(parsed.as_ref(), Ok(&options), "printed as {}", printed);
        prop_assert_eq!(parsed.unwrap().to_string(), printed);
    }

    #[test]
    fn a_literal_prints_as_it_parses(value in literal()) {
        let printed = format!("p eq {value}");
        prop_assert_eq!(
            parse_filter(&printed),
            Ok(Filter::Compare { property: "p".into(), op: CompareOp::Eq, value })
        );
    }

    #[test]
    fn evaluation_never_panics_and_not_inverts(tree in filter(), item in json_item()) {
        let matched = tree.matches(&item);
        prop_assert_eq!(Filter::Not(Box::new(tree)).matches(&item), !matched);
    }

    #[test]
    fn in_matches_exactly_when_one_of_its_equalities_does(
        property in path(),
        values in vec(literal(), 0..4),
        item in json_item(),
    ) {
        let either = values.iter().any(|value| {
            Filter::Compare { property: property.clone(), op: CompareOp::Eq, value: value.clone() }.matches(&item)
        });
        prop_assert_eq!(Filter::In { property, values }.matches(&item), either);
    }

    #[test]
    fn any_string_is_parsed_or_refused_as_a_filter_never_a_panic(input in any::<String>()) {
        let _ = parse_filter(&input);
    }

    #[test]
    fn filter_shaped_noise_is_parsed_or_refused_never_a_panic(input in filter_soup(), item in json_item()) {
        if let Ok(tree) = parse_filter(&input) {
            tree.matches(&item);
            prop_assert_eq!(parse_filter(&tree.to_string()), Ok(tree));
        }
    }

    #[test]
    fn any_query_string_is_parsed_or_refused_never_a_panic(input in prop_oneof![any::<String>(), query_soup()]) {
        if let Ok(options) = parse_query(&input) {
            options.apply(vec![json!({"a": 1, "b": [{"c": "d"}]})]);
        }
    }
}
