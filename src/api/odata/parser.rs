//! The `$filter` parser: tokens to a [`Filter`] tree by recursive descent, checking what the
//! grammar alone cannot (one side of a comparison is a literal, lambda range variables are
//! declared, used and not reused) so that every tree it returns is one the evaluator can run.

use super::ast::{CompareOp, Filter, LambdaBody, LambdaOperator, Literal, StringFunction, path_head};
use super::error::{ODataError, filter_error};
use super::lexer::{Tok, Token, lex};

const KEYWORDS: [&str; 13] =
    ["and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "in", "true", "false", "null"];

/// How deeply parentheses, `not`s and lambdas may nest. The parser and the evaluator recurse once
/// per level, so without a bound a few kilobytes of `((((` would exhaust the stack and abort the
/// whole process instead of answering 400. No filter written by hand comes near it.
pub(super) const MAX_NESTING: usize = 100;

/// How many conditions and operators a filter may have. `and` and `or` associate to the left,
/// so a chain makes the tree as deep as it is long, and evaluating, printing, cloning and
/// dropping the tree recurse over that depth; the bound keeps that within the stack.
pub(super) const MAX_NODES: usize = 1000;

/// The keyword `word` spells (case-insensitively), if any: a keyword is never a property path.
pub(super) fn keyword(word: &str) -> Option<&'static str> {
    KEYWORDS.iter().copied().find(|k| k.eq_ignore_ascii_case(word))
}

enum Operand {
    Path(String),
    Literal(Literal),
}

/// A lambda whose body is being parsed.
struct LambdaScope {
    /// The range variable.
    variable: String,
    /// Position of the range variable's declaration.
    declared_at: usize,
    /// The lambda operator token (`members/any`).
    lambda: Token,
    /// Whether the body refers to the range variable.
    used: bool,
    /// The first path in the body that starts with no range variable in scope, and its position.
    stray: Option<(String, usize)>,
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Enclosing lambdas, innermost last.
    scopes: Vec<LambdaScope>,
    /// Parentheses, `not`s and lambda bodies open at the current token (see [`MAX_NESTING`]).
    nesting: usize,
    /// Conditions and operators read so far (see [`MAX_NODES`]).
    nodes: usize,
}

/// Splits `members/any` into the collection path (empty for a bare `any`) and the operator.
fn split_lambda(word: &str) -> Option<(&str, LambdaOperator)> {
    let (collection, name) = word.rsplit_once('/').unwrap_or(("", word));
    if name.eq_ignore_ascii_case("any") {
        Some((collection, LambdaOperator::Any))
    } else if name.eq_ignore_ascii_case("all") {
        Some((collection, LambdaOperator::All))
    } else {
        None
    }
}

/// Parses a `$filter` expression.
///
/// Grammar (keywords case-insensitive; `and` binds tighter than `or`, `not` tighter than both):
///
/// ```text
/// or      := and ('or' and)*
/// and     := unary ('and' unary)*
/// unary   := 'not' unary | primary
/// primary := '(' or ')' | function '(' path ',' string ')' | operand op operand
///          | path 'in' '(' [literal (',' literal)*] ')'
///          | path '/' ('any' | 'all') '(' [identifier ':' or] ')'
/// op      := eq | ne | gt | ge | lt | le
/// operand := path | 'string' | number | true | false | null | datetime | guid
/// ```
///
/// In a lambda (`targetResources/any(t: t/id eq 'x')`) the identifier before `:` is the range
/// variable; paths starting with it refer to the collection's element, other paths to the item
/// being filtered (see [`LambdaBody`]). The body must use its range variable, and a nested lambda
/// may not reuse an enclosing lambda's variable name. Only `any` may be written without a body
/// (`members/any()`).
///
/// Parentheses, `not`s and lambdas nest at most 100 deep and a filter has at most 1,000
/// conditions and operators, so that no input can exhaust the stack.
pub fn parse_filter(text: &str) -> Result<Filter, ODataError> {
    let chars: Vec<char> = text.chars().collect();
    let tokens = lex(&chars)?;
    if tokens.is_empty() {
        return Err(filter_error("the filter expression is empty"));
    }
    let mut parser = Parser { tokens, pos: 0, scopes: Vec::new(), nesting: 0, nodes: 0 };
    let filter = parser.parse_or()?;
    match parser.peek() {
        None => Ok(filter),
        Some(t) if t.tok == Tok::RParen => {
            Err(filter_error(format!("unbalanced parentheses: unexpected ')' at position {}", t.start)))
        }
        Some(t) => Err(filter_error(format!(
            "unexpected token '{}' at position {}; expected 'and', 'or' or the end of the filter",
            t.text, t.start
        ))),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(kw))
    }

    fn missing_operand(&self) -> ODataError {
        match (self.peek(), self.pos.checked_sub(1).map(|p| &self.tokens[p])) {
            (Some(t), _) => {
                filter_error(format!("missing operand before '{}' at position {}", t.text, t.start))
            }
            (None, Some(prev)) => {
                filter_error(format!("missing operand after '{}' at position {}", prev.text, prev.start))
            }
            (None, None) => filter_error("the filter expression is empty"),
        }
    }

    fn never_closed(open: usize) -> ODataError {
        filter_error(format!("unbalanced parentheses: '(' at position {open} is never closed"))
    }

    /// Enters a parenthesis, `not` or lambda body opened by the token at `at`.
    fn nest(&mut self, at: usize) -> Result<(), ODataError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(filter_error(format!(
                "parentheses, 'not' and lambdas nest more than {MAX_NESTING} deep at position {at}"
            )));
        }
        Ok(())
    }

    fn unnest(&mut self) {
        self.nesting -= 1;
    }

    /// Counts one condition or operator, starting at the token at `at`.
    fn count_node(&mut self, at: usize) -> Result<(), ODataError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(filter_error(format!(
                "the filter has more than {MAX_NODES} conditions and operators; the one at position {at} is past the limit"
            )));
        }
        Ok(())
    }

    /// Counts the `and`, `or` or `not` at the current token and steps over it.
    fn take_operator(&mut self) -> Result<(), ODataError> {
        self.count_node(self.tokens[self.pos].start)?;
        self.pos += 1;
        Ok(())
    }

    fn parse_or(&mut self) -> Result<Filter, ODataError> {
        let mut left = self.parse_and()?;
        while self.peek_keyword("or") {
            self.take_operator()?;
            let right = self.parse_and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> Result<Filter, ODataError> {
        let mut left = self.parse_unary()?;
        while self.peek_keyword("and") {
            self.take_operator()?;
            let right = self.parse_unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_unary(&mut self) -> Result<Filter, ODataError> {
        if self.peek_keyword("not") {
            let at = self.tokens[self.pos].start;
            self.take_operator()?;
            self.nest(at)?;
            let inner = self.parse_unary()?;
            self.unnest();
            return Ok(Filter::Not(Box::new(inner)));
        }
        self.parse_primary()
    }

    fn parse_primary(&mut self) -> Result<Filter, ODataError> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.missing_operand());
        };
        if token.tok != Tok::LParen {
            // A condition: a comparison, `in`, a function or a lambda.
            self.count_node(token.start)?;
        }
        match &token.tok {
            Tok::LParen => {
                self.pos += 1;
                self.nest(token.start)?;
                let inner = self.parse_or()?;
                self.unnest();
                match self.peek() {
                    Some(t) if t.tok == Tok::RParen => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    Some(t) => Err(filter_error(format!(
                        "unexpected token '{}' at position {}; expected ')' to close '(' at position {}",
                        t.text, t.start, token.start
                    ))),
                    None => Err(Self::never_closed(token.start)),
                }
            }
            Tok::Word(w)
                if keyword(w).is_none()
                    && self.tokens.get(self.pos + 1).is_some_and(|t| t.tok == Tok::LParen) =>
            {
                match split_lambda(w) {
                    Some((collection, operator)) => {
                        let collection = collection.to_string();
                        self.parse_lambda(token.clone(), collection, operator)
                    }
                    None => self.parse_function(token.clone()),
                }
            }
            _ => self.parse_comparison(),
        }
    }

    fn parse_operand(&mut self) -> Result<(Operand, Token), ODataError> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.missing_operand());
        };
        let operand = match &token.tok {
            Tok::Word(w) => match keyword(w) {
                Some("true") => Operand::Literal(Literal::Bool(true)),
                Some("false") => Operand::Literal(Literal::Bool(false)),
                Some("null") => Operand::Literal(Literal::Null),
                Some(_) => return Err(self.missing_operand()),
                None => {
                    self.note_path(&token, w);
                    Operand::Path(w.clone())
                }
            },
            Tok::Str(s) => Operand::Literal(Literal::String(s.clone())),
            Tok::Num(n) => Operand::Literal(Literal::Number(*n)),
            Tok::DateTime(d) => Operand::Literal(Literal::DateTime(d.clone())),
            Tok::Guid(g) => Operand::Literal(Literal::Guid(g.clone())),
            Tok::LParen | Tok::RParen | Tok::Comma | Tok::Colon => {
                return Err(self.missing_operand());
            }
        };
        self.pos += 1;
        Ok((operand, token))
    }

    fn parse_comparison(&mut self) -> Result<Filter, ODataError> {
        let (left, left_token) = self.parse_operand()?;
        let Some(op_token) = self.peek().cloned() else {
            return Err(filter_error(format!(
                "missing operator after '{}' at position {}",
                left_token.text, left_token.start
            )));
        };
        let op = match &op_token.tok {
            Tok::Word(w) => match keyword(w) {
                Some("eq") => Some(CompareOp::Eq),
                Some("ne") => Some(CompareOp::Ne),
                Some("gt") => Some(CompareOp::Gt),
                Some("ge") => Some(CompareOp::Ge),
                Some("lt") => Some(CompareOp::Lt),
                Some("le") => Some(CompareOp::Le),
                Some("in") => return self.parse_in(left, left_token),
                _ => None,
            },
            _ => None,
        };
        let Some(op) = op else {
            return Err(filter_error(format!(
                "unexpected token '{}' at position {}; expected a comparison operator (eq, ne, gt, ge, lt, le or in)",
                op_token.text, op_token.start
            )));
        };
        self.pos += 1;
        let (right, right_token) = self.parse_operand()?;
        match (left, right) {
            (Operand::Path(property), Operand::Literal(value)) => Ok(Filter::Compare { property, op, value }),
            (Operand::Literal(value), Operand::Path(property)) => {
                Ok(Filter::Compare { property, op: op.flipped(), value })
            }
            (Operand::Path(_), Operand::Path(_)) => Err(filter_error(format!(
                "cannot compare property '{}' with property '{}' at position {}; one side must be a literal",
                left_token.text, right_token.text, right_token.start
            ))),
            (Operand::Literal(_), Operand::Literal(_)) => Err(filter_error(format!(
                "comparison of literals '{}' and '{}' at position {}; one side must be a property",
                left_token.text, right_token.text, left_token.start
            ))),
        }
    }

    fn parse_in(&mut self, left: Operand, left_token: Token) -> Result<Filter, ODataError> {
        let in_token = self.tokens[self.pos].clone();
        self.pos += 1;
        let Operand::Path(property) = left else {
            return Err(filter_error(format!(
                "the left side of 'in' at position {} must be a property, found '{}'",
                in_token.start, left_token.text
            )));
        };
        let open = match self.peek() {
            Some(t) if t.tok == Tok::LParen => t.start,
            Some(t) => {
                return Err(filter_error(format!(
                    "expected '(' after 'in' at position {}, found '{}'",
                    in_token.start, t.text
                )));
            }
            None => {
                return Err(filter_error(format!("expected '(' after 'in' at position {}", in_token.start)));
            }
        };
        self.pos += 1;
        let mut values = Vec::new();
        if self.peek().is_some_and(|t| t.tok == Tok::RParen) {
            self.pos += 1;
            return Ok(Filter::In { property, values });
        }
        loop {
            if self.peek().is_none() {
                return Err(Self::never_closed(open));
            }
            match self.parse_operand()? {
                (Operand::Literal(value), _) => values.push(value),
                (Operand::Path(_), token) => {
                    return Err(filter_error(format!(
                        "expected a literal in the 'in' list at position {}, found property '{}'",
                        token.start, token.text
                    )));
                }
            }
            match self.peek().cloned() {
                Some(Token { tok: Tok::Comma, .. }) => self.pos += 1,
                Some(Token { tok: Tok::RParen, .. }) => {
                    self.pos += 1;
                    return Ok(Filter::In { property, values });
                }
                Some(t) => {
                    return Err(filter_error(format!(
                        "unexpected token '{}' at position {}; expected ',' or ')' in the 'in' list",
                        t.text, t.start
                    )));
                }
                None => return Err(Self::never_closed(open)),
            }
        }
    }

    /// Records a property path written inside a lambda body: marks the range variable it starts
    /// with as used, or remembers it as the body's first path that starts with none.
    fn note_path(&mut self, token: &Token, path: &str) {
        let head = path_head(path);
        if let Some(scope) = self.scopes.iter_mut().rev().find(|s| s.variable.eq_ignore_ascii_case(head)) {
            scope.used = true;
        } else if let Some(scope) = self.scopes.last_mut() {
            scope.stray.get_or_insert_with(|| (path.to_string(), token.start));
        }
    }

    /// Parses `collection/any(variable: predicate)` and friends; `self.pos` is at the operator
    /// token, which is followed by `(`.
    fn parse_lambda(
        &mut self,
        name: Token,
        collection: String,
        operator: LambdaOperator,
    ) -> Result<Filter, ODataError> {
        if collection.is_empty() {
            return Err(filter_error(format!(
                "lambda operator '{}' at position {} must follow a collection property, as in 'members/{}(m: ...)'",
                name.text,
                name.start,
                name.text.to_ascii_lowercase()
            )));
        }
        self.note_path(&name, &collection);
        let open = self.tokens[self.pos + 1].start;
        self.pos += 2;
        let variable_token = match self.peek().cloned() {
            None => return Err(Self::never_closed(open)),
            Some(t) if t.tok == Tok::RParen => {
                if operator == LambdaOperator::All {
                    return Err(filter_error(format!(
                        "'{}' at position {} needs a range variable and a predicate, as in '{}(x: ...)'",
                        name.text, name.start, name.text
                    )));
                }
                self.pos += 1;
                return Ok(Filter::Lambda { collection, operator, body: None });
            }
            Some(t) => t,
        };
        let variable = match &variable_token.tok {
            Tok::Word(w) if keyword(w).is_none() && w.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                w.clone()
            }
            _ => {
                return Err(filter_error(format!(
                    "expected a range variable name at position {} in '{}', found '{}'",
                    variable_token.start, name.text, variable_token.text
                )));
            }
        };
        self.pos += 1;
        match self.peek() {
            Some(t) if t.tok == Tok::Colon => self.pos += 1,
            Some(t) => {
                return Err(filter_error(format!(
                    "missing ':' after range variable '{variable}' at position {}; found '{}' at position {}",
                    variable_token.start, t.text, t.start
                )));
            }
            None => {
                return Err(filter_error(format!(
                    "missing ':' after range variable '{variable}' at position {}",
                    variable_token.start
                )));
            }
        }
        if let Some(outer) = self.scopes.iter().find(|s| s.variable.eq_ignore_ascii_case(&variable)) {
            return Err(filter_error(format!(
                "range variable '{variable}' at position {} is already declared at position {}",
                variable_token.start, outer.declared_at
            )));
        }
        self.scopes.push(LambdaScope {
            variable: variable.clone(),
            declared_at: variable_token.start,
            lambda: name.clone(),
            used: false,
            stray: None,
        });
        let predicate = self.nest(name.start).and_then(|()| self.parse_or());
        self.unnest();
        let scope = self.scopes.pop().expect("pushed above");
        let predicate = predicate?;
        match self.peek() {
            Some(t) if t.tok == Tok::RParen => self.pos += 1,
            Some(t) => {
                return Err(filter_error(format!(
                    "unexpected token '{}' at position {}; expected ')' to close '{}' at position {}",
                    t.text, t.start, name.text, name.start
                )));
            }
            None => return Err(Self::never_closed(open)),
        }
        if !scope.used {
            return Err(match scope.stray {
                Some((path, start)) => {
                    let head = path_head(&path);
                    let within = if head == path { String::new() } else { format!(" in '{path}'") };
                    filter_error(format!(
                        "unknown range variable '{head}'{within} at position {start}; '{}' at position {} declares '{}'",
                        scope.lambda.text, scope.lambda.start, scope.variable
                    ))
                }
                None => filter_error(format!(
                    "range variable '{}' at position {} is never used in '{}'",
                    scope.variable, scope.declared_at, scope.lambda.text
                )),
            });
        }
        Ok(Filter::Lambda {
            collection,
            operator,
            body: Some(LambdaBody { variable, predicate: Box::new(predicate) }),
        })
    }

    fn parse_function(&mut self, name: Token) -> Result<Filter, ODataError> {
        let function = match name.text.to_ascii_lowercase().as_str() {
            "startswith" => StringFunction::StartsWith,
            "endswith" => StringFunction::EndsWith,
            "contains" => StringFunction::Contains,
            _ => {
                return Err(filter_error(format!(
                    "unsupported function '{}' at position {}; supported functions are startswith, endswith and contains",
                    name.text, name.start
                )));
            }
        };
        let open = self.tokens[self.pos + 1].start;
        self.pos += 2;
        let (first, first_token) = self.parse_operand()?;
        let Operand::Path(property) = first else {
            return Err(filter_error(format!(
                "the first argument of '{}' at position {} must be a property, found '{}'",
                name.text, first_token.start, first_token.text
            )));
        };
        match self.peek() {
            Some(t) if t.tok == Tok::Comma => self.pos += 1,
            Some(t) => {
                return Err(filter_error(format!(
                    "unexpected token '{}' at position {}; expected ',' in '{}'",
                    t.text, t.start, name.text
                )));
            }
            None => return Err(Self::never_closed(open)),
        }
        let (second, second_token) = self.parse_operand()?;
        let value = match second {
            Operand::Literal(Literal::String(s) | Literal::Guid(s)) => s,
            _ => {
                return Err(filter_error(format!(
                    "the second argument of '{}' at position {} must be a string, found '{}'",
                    name.text, second_token.start, second_token.text
                )));
            }
        };
        match self.peek() {
            Some(t) if t.tok == Tok::RParen => self.pos += 1,
            Some(t) => {
                return Err(filter_error(format!(
                    "unexpected token '{}' at position {}; expected ')' to close '{}'",
                    t.text, t.start, name.text
                )));
            }
            None => return Err(Self::never_closed(open)),
        }
        Ok(Filter::Function { function, property, value })
    }
}
