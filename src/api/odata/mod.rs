//! OData system query options (`$filter`, `$select`, `$expand`, `$top`, `$skip`, `$count`,
//! `$orderby`) as the simulated Microsoft Graph API accepts them.
//!
//! A query travels through the files of this folder in order:
//!
//! * `query.rs`: [`parse_query`] turns the raw query string (the part after `?`, percent-encoded
//!   or not) into [`QueryOptions`], rejecting unknown or duplicated `$` options with a message
//!   that names them.
//! * `lexer.rs` and `parser.rs`: [`parse_filter`] turns a `$filter` expression into a [`Filter`]
//!   syntax tree (comparisons, `in`, `and`/`or`/`not`, parentheses,
//!   `startswith`/`endswith`/`contains`, and the lambda operators `any`/`all` over collection
//!   properties). Parse errors name the offending token and its 0-based character position.
//!   Nesting and size are bounded so that no query can exhaust the stack.
//! * `ast.rs`: the trees themselves, and what the router reads off a filter before running it.
//! * `eval.rs`: [`Filter::matches`], [`apply_select`], [`apply_orderby`] and
//!   [`QueryOptions::apply`] evaluate the options.
//! * `print.rs`: a filter, and whole query options, back to text (`Display`), the inverse of the
//!   parsers.
//! * `datetime.rs` and `error.rs`: the date-time reading and the error type the others share.
//!
//! Everything is evaluated over [`serde_json::Value`] rather than over typed model structs. Graph
//! resources are rendered to JSON exactly as the wire format shows them (camelCase keys, nested
//! complex types such as `scheduleInfo/expiration/type`, expanded navigation properties), and Graph
//! query semantics are defined over that wire shape: property names are matched
//! case-insensitively, a missing property behaves like `null`, and `$select` trims the rendered
//! object. Working on the rendered JSON lets one implementation serve every collection endpoint,
//! and guarantees the filter sees exactly what the client would see.

mod ast;
mod datetime;
mod error;
mod eval;
mod lexer;
mod parser;
mod print;
mod query;

pub use ast::{
    CompareOp, ExpandItem, Filter, LambdaBody, LambdaOperator, Literal, QueryOptions, StringFunction,
};
pub use error::ODataError;
pub use eval::{apply_orderby, apply_select, resolve_path};
pub use parser::parse_filter;
pub use query::parse_query;

#[cfg(test)]
mod tests;
