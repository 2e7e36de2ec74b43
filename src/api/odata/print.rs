//! The printer: a [`Filter`] back to `$filter` text, parenthesised only where precedence needs it.
//! Parsing what it prints gives the same tree, which the property tests check.

use std::fmt;

use super::ast::{Filter, LambdaBody, Literal};

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
