//! The printer: a [`Filter`] back to `$filter` text, parenthesised only where precedence needs it,
//! and [`QueryOptions`] back to a query string. Each is the inverse of its parser: parsing what it
//! prints gives the same tree, which the property tests check. The printed form is canonical
//! (lower-case keywords, single spaces, the property left of its operator), so two trees print
//! alike exactly when they are equal.

use std::fmt;

use super::ast::{Filter, LambdaBody, Literal, QueryOptions};

impl Filter {
    fn precedence(&self) -> u8 {
        match self {
            Filter::Or(..) => 1,
            Filter::And(..) => 2,
            _ => 3,
        }
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, min_precedence: u8) -> fmt::Result {
        let parenthesize = self.precedence() < min_precedence;
        if parenthesize {
            f.write_str("(")?;
        }
        match self {
            Filter::Compare { property, op, value } => write!(f, "{property} {} {value}", op.as_str())?,
            Filter::In { property, values } => {
                write!(f, "{property} in (")?;
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{value}")?;
                }
                f.write_str(")")?;
            }
            Filter::Function { function, property, value } => {
                write!(f, "{}({property}, {})", function.as_str(), Literal::String(value.clone()))?
            }
            Filter::Lambda { collection, operator, body } => {
                write!(f, "{collection}/{}(", operator.as_str())?;
                if let Some(LambdaBody { variable, predicate }) = body {
                    write!(f, "{variable}: ")?;
                    predicate.write(f, 0)?;
                }
                f.write_str(")")?;
            }
            Filter::Or(a, b) => {
                a.write(f, 1)?;
                f.write_str(" or ")?;
                b.write(f, 2)?;
            }
            Filter::And(a, b) => {
                a.write(f, 2)?;
                f.write_str(" and ")?;
                b.write(f, 3)?;
            }
            Filter::Not(inner) => {
                f.write_str("not ")?;
                inner.write(f, 3)?;
            }
        }
        if parenthesize {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// Renders the filter back to OData syntax (parenthesised only where needed); parsing the
/// result gives the same tree.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, 0)
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Number(n) => write!(f, "{n}"),
            Literal::String(s) => write!(f, "'{}'", s.replace('\'', "''")),
            Literal::DateTime(s) | Literal::Guid(s) => f.write_str(s),
        }
    }
}

/// Renders the options as a query string without the leading `?`, each option once, in a fixed
/// order (`$filter`, `$select`, `$expand`, `$orderby`, `$top`, `$skip`, `$count`), leaving out
/// options at their default. Values are percent-encoded where [`parse_query`] would otherwise
/// misread them; parsing the result gives the same options.
///
/// [`parse_query`]: super::parse_query
impl fmt::Display for QueryOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, value)) in self.pairs().into_iter().enumerate() {
            if i > 0 {
                f.write_str("&")?;
            }
            write!(f, "{name}={}", percent_encode(&value))?;
        }
        Ok(())
    }
}

impl QueryOptions {
    /// Every option that differs from its default, as `(name, value)` with the value not yet
    /// encoded. Options nested in an `$expand` item are written inside its parentheses, `;`
    /// between them, unencoded: the parser decodes the whole `$expand` value once.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(filter) = &self.filter {
            out.push(("$filter", filter.to_string()));
        }
        if let Some(select) = &self.select {
            out.push(("$select", select.join(",")));
        }
        if !self.expand.is_empty() {
            let items: Vec<String> = self
                .expand
                .iter()
                .map(|item| {
                    let nested: Vec<String> = item
                        .options
                        .pairs()
                        .into_iter()
                        .map(|(name, value)| format!("{name}={value}"))
                        .collect();
                    if nested.is_empty() {
                        item.name.clone()
                    } else {
                        format!("{}({})", item.name, nested.join(";"))
                    }
                })
                .collect();
            out.push(("$expand", items.join(",")));
        }
        if !self.orderby.is_empty() {
            let keys: Vec<String> = self
                .orderby
                .iter()
                .map(|(path, descending)| if *descending { format!("{path} desc") } else { path.clone() })
                .collect();
            out.push(("$orderby", keys.join(",")));
        }
        if let Some(top) = self.top {
            out.push(("$top", top.to_string()));
        }
        if let Some(skip) = self.skip {
            out.push(("$skip", skip.to_string()));
        }
        if self.count {
            out.push(("$count", "true".to_string()));
        }
        out
    }
}

/// Percent-encodes every byte but the URL-safe ones that read the same decoded or not. `&`, `+`,
/// `%` and `#` are encoded because the query parser (or a URL) gives them a meaning; `'`, `(`,
/// `)`, `,`, `/`, `:`, `;` and `$` stay readable, as Graph's documentation writes them.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$'()*,/:;=@?".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
