//! The evaluator: applies parsed options to rendered Graph JSON. [`Filter::matches`] tests one
//! item; [`QueryOptions::apply`] runs the whole pipeline over a collection (`$filter`,
//! `$orderby`, `$skip`, `$top`, `$select`, nested `$expand` options) and counts for `$count`.
//!
//! Property names match case-insensitively and a missing property behaves like `null`, as Graph
//! does over its wire shape.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::ast::{
    CompareOp, ExpandItem, Filter, LambdaBody, LambdaOperator, Literal, QueryOptions, StringFunction,
};
use super::datetime::parse_datetime;

impl CompareOp {
    fn evaluate(self, actual: Option<&Value>, literal: &Literal) -> bool {
        if self == CompareOp::Eq {
            return literal_equals(actual, literal);
        }
        if self == CompareOp::Ne {
            return !literal_equals(actual, literal);
        }
        if *literal == Literal::Null {
            return false;
        }
        match compare_to_literal(actual, literal) {
            Some(ordering) => match self {
                CompareOp::Gt => ordering == Ordering::Greater,
                CompareOp::Ge => ordering != Ordering::Less,
                CompareOp::Lt => ordering == Ordering::Less,
                CompareOp::Le => ordering != Ordering::Greater,
                CompareOp::Eq | CompareOp::Ne => unreachable!("handled above"),
            },
            None => false,
        }
    }
}

/// Strings compare chronologically when both are date-times, otherwise case-insensitively.
fn compare_strings(a: &str, b: &str) -> Ordering {
    if let (Some(x), Some(y)) = (parse_datetime(a), parse_datetime(b)) {
        return x.cmp(&y);
    }
    a.to_lowercase().cmp(&b.to_lowercase())
}

/// How a JSON value compares with a literal; `None` when they are not comparable.
fn compare_to_literal(actual: Option<&Value>, literal: &Literal) -> Option<Ordering> {
    let actual = actual.filter(|v| !v.is_null());
    match (actual, literal) {
        (None, Literal::Null) => Some(Ordering::Equal),
        (None, _) | (Some(_), Literal::Null) => None,
        (Some(Value::Bool(a)), Literal::Bool(b)) => Some(a.cmp(b)),
        (Some(Value::Number(a)), Literal::Number(b)) => a.as_f64()?.partial_cmp(b),
        (Some(Value::String(a)), Literal::String(b) | Literal::Guid(b)) => Some(compare_strings(a, b)),
        (Some(Value::String(a)), Literal::DateTime(b)) => Some(parse_datetime(a)?.cmp(&parse_datetime(b)?)),
        _ => None,
    }
}

fn literal_equals(actual: Option<&Value>, literal: &Literal) -> bool {
    compare_to_literal(actual, literal) == Some(Ordering::Equal)
}

fn get_case_insensitive<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// Follows a `/`-separated property path through nested objects (keys matched
/// case-insensitively). `None` when a segment is missing or a non-object is in the way.
pub fn resolve_path<'a>(item: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('/').try_fold(item, |current, segment| get_case_insensitive(current.as_object()?, segment))
}

/// Range variables in scope while evaluating a lambda body, innermost last.
type Scope<'a> = Vec<(&'a str, &'a Value)>;

/// Resolves `path` inside lambda bodies: a path starting with a range variable in `scope`
/// (innermost first, case-insensitively) is resolved against that variable's element, any other
/// path against `item`.
fn resolve_scoped<'a>(item: &'a Value, scope: &[(&str, &'a Value)], path: &str) -> Option<&'a Value> {
    let (head, rest) = match path.split_once('/') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    match scope.iter().rev().find(|(variable, _)| variable.eq_ignore_ascii_case(head)) {
        Some((_, element)) => match rest {
            Some(rest) => resolve_path(element, rest),
            None => Some(element),
        },
        None => resolve_path(item, path),
    }
}

impl Filter {
    /// Whether `item` (a rendered Graph object) satisfies the filter.
    pub fn matches(&self, item: &Value) -> bool {
        self.evaluate(item, &mut Vec::new())
    }

    fn evaluate<'a>(&'a self, item: &'a Value, scope: &mut Scope<'a>) -> bool {
        match self {
            Filter::Compare { property, op, value } => {
                op.evaluate(resolve_scoped(item, scope, property), value)
            }
            Filter::In { property, values } => {
                let actual = resolve_scoped(item, scope, property);
                values.iter().any(|v| literal_equals(actual, v))
            }
            Filter::Function { function, property, value } => match resolve_scoped(item, scope, property) {
                Some(Value::String(s)) => {
                    let s = s.to_lowercase();
                    let value = value.to_lowercase();
                    match function {
                        StringFunction::StartsWith => s.starts_with(&value),
                        StringFunction::EndsWith => s.ends_with(&value),
                        StringFunction::Contains => s.contains(&value),
                    }
                }
                _ => false,
            },
            Filter::Lambda { collection, operator, body } => {
                let Some(Value::Array(elements)) = resolve_scoped(item, scope, collection) else {
                    return false;
                };
                let Some(LambdaBody { variable, predicate }) = body else {
                    return *operator == LambdaOperator::All || !elements.is_empty();
                };
                let mut test = |element: &'a Value| {
                    scope.push((variable.as_str(), element));
                    let result = predicate.evaluate(item, scope);
                    scope.pop();
                    result
                };
                match operator {
                    LambdaOperator::Any => elements.iter().any(&mut test),
                    LambdaOperator::All => elements.iter().all(&mut test),
                }
            }
            Filter::And(a, b) => a.evaluate(item, scope) && b.evaluate(item, scope),
            Filter::Or(a, b) => a.evaluate(item, scope) || b.evaluate(item, scope),
            Filter::Not(inner) => !inner.evaluate(item, scope),
        }
    }
}

/// Keeps only the selected properties of `item` (names matched case-insensitively; for a path
/// such as `scheduleInfo/expiration` its first segment is kept), plus `@odata.*` annotations and
/// annotations of selected properties (`principal@odata.context`). `*` keeps everything. An array
/// is processed element by element; other values are left alone.
///
/// Expanded navigation properties are not kept implicitly: add their names to `select` (as
/// [`QueryOptions::apply`] does).
pub fn apply_select(item: &mut Value, select: &[String]) {
    if select.iter().any(|s| s == "*") {
        return;
    }
    match item {
        Value::Object(map) => {
            let selected = |name: &str| {
                select
                    .iter()
                    .any(|s| s.split('/').next().is_some_and(|first| first.eq_ignore_ascii_case(name)))
            };
            map.retain(|key, _| {
                key.starts_with("@odata.")
                    || selected(key)
                    || key.split_once("@odata.").is_some_and(|(owner, _)| selected(owner))
            });
        }
        Value::Array(items) => {
            for element in items {
                apply_select(element, select);
            }
        }
        _ => {}
    }
}

/// Rank of JSON types in `$orderby`: null sorts first in ascending order.
fn type_rank(value: &Value) -> u8 {
    match value {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// A total order over JSON values for sorting: nulls (and missing values) first, then booleans,
/// numbers, strings (date-times chronologically before other strings, which compare
/// case-insensitively), arrays, objects.
fn order_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let a = a.unwrap_or(&Value::Null);
    let b = b.unwrap_or(&Value::Null);
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => {
            x.as_f64().unwrap_or(0.0).total_cmp(&y.as_f64().unwrap_or(0.0))
        }
        (Value::String(x), Value::String(y)) => match (parse_datetime(x), parse_datetime(y)) {
            (Some(dx), Some(dy)) => dx.cmp(&dy),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => x.to_lowercase().cmp(&y.to_lowercase()).then_with(|| x.cmp(y)),
        },
        _ => type_rank(a).cmp(&type_rank(b)),
    }
}

/// Sorts `items` by the `$orderby` keys (stable; each key is a property path and whether it is
/// descending). Missing properties sort like `null`, first when ascending.
pub fn apply_orderby(items: &mut [Value], orderby: &[(String, bool)]) {
    if orderby.is_empty() {
        return;
    }
    items.sort_by(|a, b| {
        orderby
            .iter()
            .map(|(path, descending)| {
                let ordering = order_values(resolve_path(a, path), resolve_path(b, path));
                if *descending { ordering.reverse() } else { ordering }
            })
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    });
}

impl QueryOptions {
    /// The `$expand` item for navigation property `name` (case-insensitive), if requested.
    pub fn expand_item(&self, name: &str) -> Option<&ExpandItem> {
        self.expand.iter().find(|e| e.name.eq_ignore_ascii_case(name) || e.name == "*")
    }

    /// Applies the options to a rendered collection: `$filter`, `$orderby`, `$skip`, `$top`,
    /// then `$select` (keeping expanded navigation properties) and, for every expanded property
    /// already embedded in an item, the options nested in its `$expand` item (recursively; for an
    /// embedded collection this includes its nested `$filter`/`$orderby`/`$skip`/`$top`).
    ///
    /// Returns the resulting items and the number of items that matched the filter before
    /// `$skip`/`$top` (the value of `@odata.count`). Embedding the expanded objects is up to
    /// the caller.
    pub fn apply(&self, items: Vec<Value>) -> (Vec<Value>, usize) {
        let mut items = self.matching(items);
        let count = items.len();
        apply_orderby(&mut items, &self.orderby);
        let mut items: Vec<Value> =
            items.into_iter().skip(self.skip.unwrap_or(0)).take(self.top.unwrap_or(usize::MAX)).collect();
        for item in &mut items {
            self.shape(item);
        }
        (items, count)
    }

    /// The items `$filter` keeps (all of them without one), in their order.
    pub fn matching(&self, items: Vec<Value>) -> Vec<Value> {
        match &self.filter {
            Some(filter) => items.into_iter().filter(|i| filter.matches(i)).collect(),
            None => items,
        }
    }

    /// Nested expand options and `$select` for a single object.
    fn shape(&self, item: &mut Value) {
        if let Value::Object(map) = item {
            for expand in &self.expand {
                for (key, value) in map.iter_mut() {
                    if !key.eq_ignore_ascii_case(&expand.name) {
                        continue;
                    }
                    match value {
                        Value::Array(elements) => {
                            let (shaped, _) = expand.options.apply(std::mem::take(elements));
                            *elements = shaped;
                        }
                        Value::Object(_) => expand.options.shape(value),
                        _ => {}
                    }
                }
            }
        }
        if let Some(select) = &self.select {
            let mut keep = select.clone();
            keep.extend(self.expand.iter().map(|e| e.name.clone()));
            apply_select(item, &keep);
        }
    }
}
