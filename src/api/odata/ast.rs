//! The syntax trees of the query options: [`QueryOptions`] and the `$filter` tree [`Filter`],
//! with the operators' OData spellings and what the router reads off a filter without evaluating
//! it ([`Filter::properties`], [`Filter::required_eq`]).
//!
//! The trees are plain data: the parsers in `query.rs` and `parser.rs` build them, `eval.rs`
//! applies them to JSON and `print.rs` writes them back as text.

/// Parsed OData system query options, either for a whole request or nested inside an `$expand`
/// item (`roleDefinition($select=id,displayName)`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryOptions {
    /// `$filter`.
    pub filter: Option<Filter>,
    /// `$select`, property names as written (`*` means every property).
    pub select: Option<Vec<String>>,
    /// `$expand`, in the order written.
    pub expand: Vec<ExpandItem>,
    /// `$top`.
    pub top: Option<usize>,
    /// `$skip`.
    pub skip: Option<usize>,
    /// `$count=true`.
    pub count: bool,
    /// `$orderby`: property path and whether the order is descending.
    pub orderby: Vec<(String, bool)>,
}

/// One item of `$expand`: a navigation property and the options nested in parentheses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExpandItem {
    /// Navigation property name as written (`principal`, `policy`, or `*`).
    pub name: String,
    /// Options nested in parentheses, e.g. `$expand=rules` for `policy($expand=rules)`.
    pub options: QueryOptions,
}

/// Comparison operators of `$filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// String functions usable as a boolean expression in `$filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringFunction {
    StartsWith,
    EndsWith,
    Contains,
}

/// Lambda operators of `$filter`, applied to a collection property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaOperator {
    /// `collection/any(x: ...)`: some element satisfies the predicate.
    Any,
    /// `collection/all(x: ...)`: every element satisfies the predicate.
    All,
}

/// The `variable: predicate` part of a lambda operator.
///
/// Inside `predicate`, a path whose first segment is `variable` (matched case-insensitively)
/// refers to the current element of the collection (`variable` alone is the element itself, for
/// collections of primitives); the range variables of enclosing lambdas stay visible, and any other
/// path refers to the item being filtered.
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaBody {
    pub variable: String,
    pub predicate: Box<Filter>,
}

/// A literal value in a `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number such as `5`, `-1.5` or `1e3`.
    Number(f64),
    /// A quoted string, `''` unescaped.
    String(String),
    /// An unquoted date or date-time such as `2025-01-01T00:00:00Z` (kept as written).
    DateTime(String),
    /// An unquoted GUID (kept as written).
    Guid(String),
}

/// Syntax tree of a `$filter` expression.
///
/// Comparisons always have the property on the left: `5 lt priority` is stored as
/// `priority gt 5`.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `property op literal`.
    Compare {
        property: String,
        op: CompareOp,
        value: Literal,
    },
    /// `property in (literal, ...)`.
    In {
        property: String,
        values: Vec<Literal>,
    },
    /// `startswith(property, 'text')` and friends (case-insensitive).
    Function {
        function: StringFunction,
        property: String,
        value: String,
    },
    /// `collection/any(variable: predicate)`, `collection/all(variable: predicate)` or
    /// `collection/any()`.
    ///
    /// `any` is true when some element satisfies the predicate (false for a missing, null or
    /// empty collection); `all` is true when every element does (true for an empty collection,
    /// false for a missing or null one). Without a body, `any()` is true for a non-empty
    /// collection.
    Lambda {
        /// Path to the collection, as written; it may start with an enclosing lambda's range
        /// variable (`t/modifiedProperties`).
        collection: String,
        operator: LambdaOperator,
        /// `None` only for the argument-less `collection/any()`.
        body: Option<LambdaBody>,
    },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

/// The first segment of a property path (the range variable, for a path inside a lambda body).
pub(super) fn path_head(path: &str) -> &str {
    path.split('/').next().unwrap_or(path)
}

impl CompareOp {
    /// The operator with its operands swapped (`5 lt x` is `x gt 5`).
    pub fn flipped(self) -> CompareOp {
        match self {
            CompareOp::Eq => CompareOp::Eq,
            CompareOp::Ne => CompareOp::Ne,
            CompareOp::Gt => CompareOp::Lt,
            CompareOp::Ge => CompareOp::Le,
            CompareOp::Lt => CompareOp::Gt,
            CompareOp::Le => CompareOp::Ge,
        }
    }

    /// The OData spelling, as the printer writes it (the parser accepts any case).
    pub(super) fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }
}

impl LambdaOperator {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            LambdaOperator::Any => "any",
            LambdaOperator::All => "all",
        }
    }
}

impl StringFunction {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            StringFunction::StartsWith => "startswith",
            StringFunction::EndsWith => "endswith",
            StringFunction::Contains => "contains",
        }
    }
}

impl Filter {
    /// Every property path of the filtered item that the filter mentions, as written, in order
    /// of first appearance and without case-insensitive duplicates. A lambda contributes its
    /// collection path (`targetResources` for `targetResources/any(t: t/id eq 'x')`) and the
    /// paths of its body that do not start with a range variable; paths into the collection's
    /// elements are not listed.
    pub fn properties(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        self.collect_properties(&mut Vec::new(), &mut out);
        out
    }

    fn collect_properties<'a>(&'a self, variables: &mut Vec<&'a str>, out: &mut Vec<String>) {
        let mut add = |path: &String, variables: &[&str]| {
            let head = path_head(path);
            if !variables.iter().any(|v| v.eq_ignore_ascii_case(head))
                && !out.iter().any(|p| p.eq_ignore_ascii_case(path))
            {
                out.push(path.clone());
            }
        };
        match self {
            Filter::Compare { property, .. }
            | Filter::In { property, .. }
            | Filter::Function { property, .. } => add(property, variables),
            Filter::Lambda { collection, body, .. } => {
                add(collection, variables);
                if let Some(LambdaBody { variable, predicate }) = body {
                    variables.push(variable);
                    predicate.collect_properties(variables, out);
                    variables.pop();
                }
            }
            Filter::And(a, b) | Filter::Or(a, b) => {
                a.collect_properties(variables, out);
                b.collect_properties(variables, out);
            }
            Filter::Not(inner) => inner.collect_properties(variables, out),
        }
    }

    /// The value `v` when the filter requires `prop eq v` at the top level, alone or inside a
    /// chain of `and` (never under `or` or `not`). The property name is matched
    /// case-insensitively. Strings, GUIDs and datetimes are returned as written, numbers and
    /// booleans in their OData spelling; `prop eq null` gives `None`. When the chain mentions
    /// the property more than once, the first occurrence wins.
    pub fn required_eq(&self, prop: &str) -> Option<String> {
        match self {
            Filter::Compare { property, op: CompareOp::Eq, value } if property.eq_ignore_ascii_case(prop) => {
                match value {
                    Literal::Null => None,
                    Literal::String(s) | Literal::Guid(s) | Literal::DateTime(s) => Some(s.clone()),
                    Literal::Bool(b) => Some(b.to_string()),
                    Literal::Number(n) => Some(n.to_string()),
                }
            }
            Filter::And(a, b) => a.required_eq(prop).or_else(|| b.required_eq(prop)),
            _ => None,
        }
    }
}
