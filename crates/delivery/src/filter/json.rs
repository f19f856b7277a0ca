//! JSON patterns: `{ CONDITION }`, conditions joined with `&&` and `||`, "parenthesis are
//! allowed and the syntax follows standard order of operations () > && > ||" (AWS).
//!
//! A condition is a selector and a test:
//! - selector: `$` then `.name` (letters, digits, `-`, `_`) and `[index]` steps, the first a
//!   property: `$.eventId`, `$.users[0].id`, `$.coordinates[0][1]`;
//! - `= VALUE`, `!= VALUE`: VALUE quoted (`"John.Doe@example.com"`, with `\"` and `\\`) or
//!   not (AWS: "strings that consist entirely of alphanumeric characters do not need to be
//!   quoted"; its own examples also leave `123.123.*` and `+1000` bare, so ikesim allows
//!   letters, digits and `_ - . * +` bare). A `*` at the start or end is a wildcard;
//!   `$.x = *` matches any string or number;
//! - `< > <= >= = !=` with a NUMBER (an integer or decimal with optional sign, optionally
//!   `e` and an exponent): compared as numbers when the field is a number; `=`/`!=` with a
//!   number on a string field compare the text (`$.recipientAccountId = 123456789012`);
//! - `IS TRUE`, `IS FALSE`, `IS NULL` (the field is that JSON literal), `NOT EXISTS` (the
//!   selector reaches nothing).
//!
//! AWS: "The SELECTOR must point to a value node (string or number) in the JSON. If it
//! points to an array or object, the filter will not be applied": so `=`, `!=` and the
//! orderings are false on arrays, objects, booleans, null and missing fields — `!=` too.

use serde_json::Value;

use super::cursor::Cursor;
use super::text::quoted;
use super::{wildcard_eq, FilterError};

/// A parsed JSON pattern.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Condition(Selector, Test),
}

/// The path from the root of the message to a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Selector(Vec<Step>);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Test {
    Compare(Op, Literal),
    IsTrue,
    IsFalse,
    IsNull,
    NotExists,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Literal {
    /// A bare number: its value, and its text for comparing with strings.
    Number(f64, String),
    /// A quoted string, or a bare word that is not a number.
    Text(String),
}

impl Expr {
    pub(super) fn eval(&self, message: &Value) -> bool {
        match self {
            Expr::Or(all) => all.iter().any(|e| e.eval(message)),
            Expr::And(all) => all.iter().all(|e| e.eval(message)),
            Expr::Condition(selector, test) => test.eval(selector.resolve(message)),
        }
    }
}

impl Selector {
    fn resolve<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        self.0.iter().try_fold(root, |node, step| match step {
            Step::Key(key) => node.as_object()?.get(key),
            Step::Index(i) => node.as_array()?.get(*i),
        })
    }
}

impl Test {
    fn eval(&self, node: Option<&Value>) -> bool {
        match self {
            Test::IsTrue => node == Some(&Value::Bool(true)),
            Test::IsFalse => node == Some(&Value::Bool(false)),
            Test::IsNull => node == Some(&Value::Null),
            Test::NotExists => node.is_none(),
            Test::Compare(op, literal) => match node {
                Some(Value::String(s)) => compare_text(*op, literal.text(), s),
                Some(Value::Number(n)) => match (literal, n.as_f64()) {
                    (Literal::Number(want, _), Some(have)) => op.holds(have, *want),
                    (Literal::Text(text), _) => compare_text(*op, text, &n.to_string()),
                    (Literal::Number(..), None) => false,
                },
                _ => false,
            },
        }
    }
}

/// `=`/`!=` on a string (orderings only compare numbers).
fn compare_text(op: Op, literal: &str, value: &str) -> bool {
    match op {
        Op::Eq => wildcard_eq(literal, value),
        Op::Ne => !wildcard_eq(literal, value),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => false,
    }
}

impl Literal {
    fn text(&self) -> &str {
        match self {
            Literal::Number(_, text) | Literal::Text(text) => text,
        }
    }
}

impl Op {
    /// AWS: "precise matching on numeric comparisons".
    fn holds(self, have: f64, want: f64) -> bool {
        match self {
            Op::Eq => have == want,
            Op::Ne => have != want,
            Op::Lt => have < want,
            Op::Le => have <= want,
            Op::Gt => have > want,
            Op::Ge => have >= want,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// Parses the JSON pattern `pattern`, whose `{` is at byte `start`.
pub(super) fn parse(pattern: &str, start: usize) -> Result<Expr, FilterError> {
    let mut p = Cursor {
        pattern,
        at: start + 1,
    };
    let expr = p.or()?;
    p.skip_blanks();
    match p.peek() {
        Some('}') => p.bump(),
        None => return Err(p.error("the pattern ends before its closing `}`")),
        Some(_) => return Err(p.error("expected `&&`, `||` or the closing `}`")),
    }
    p.skip_blanks();
    if p.peek().is_some() {
        return Err(p.error("nothing may follow the closing `}` of a JSON pattern"));
    }
    Ok(expr)
}

/// The JSON grammar, as methods on the shared cursor.
impl Cursor<'_> {
    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut all = vec![self.and()?];
        while self.eat("||") {
            all.push(self.and()?);
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Expr::Or(all)
        })
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut all = vec![self.unary()?];
        while self.eat("&&") {
            all.push(self.unary()?);
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Expr::And(all)
        })
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        self.skip_blanks();
        match self.peek() {
            Some('(') => {
                let open = self.at;
                self.bump();
                let inner = self.or()?;
                if !self.eat(")") {
                    return Err(if self.peek().is_none() {
                        FilterError::new(self.pattern, open, "this `(` is never closed")
                    } else {
                        self.error("expected `&&`, `||` or `)`")
                    });
                }
                Ok(inner)
            }
            Some('$') => {
                let selector = self.selector()?;
                let test = self.test(&selector)?;
                Ok(Expr::Condition(selector, test))
            }
            Some('}') | None => {
                Err(self.error("expected a condition, such as `$.details = \"*DPD timed out*\"`"))
            }
            Some(_) => {
                Err(self.error("expected a condition starting with a selector (`$.field`) or `(`"))
            }
        }
    }

    fn selector(&mut self) -> Result<Selector, FilterError> {
        let begin = self.at;
        self.bump(); // `$`
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                Some('.') => {
                    self.bump();
                    let name_at = self.at;
                    while self
                        .peek()
                        .is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_')
                    {
                        self.bump();
                    }
                    if self.at == name_at {
                        return Err(self.error(
                            "expected a property name (letters, digits, `-`, `_`) after `.`",
                        ));
                    }
                    steps.push(Step::Key(self.pattern[name_at..self.at].to_owned()));
                }
                Some('[') => {
                    if steps.is_empty() {
                        return Err(
                            self.error("an array index must follow a property: `$.name[0]`")
                        );
                    }
                    self.bump();
                    let digits_at = self.at;
                    while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                        self.bump();
                    }
                    let index = self.pattern[digits_at..self.at].parse::<usize>();
                    let Ok(index) = index else {
                        return Err(self.error("expected an array index (digits) after `[`"));
                    };
                    if self.peek() != Some(']') {
                        return Err(self.error("expected `]` after the array index"));
                    }
                    self.bump();
                    steps.push(Step::Index(index));
                }
                _ => break,
            }
        }
        if steps.is_empty() {
            return Err(FilterError::new(
                self.pattern,
                begin,
                "a selector names a property of the message: `$.field`",
            ));
        }
        Ok(Selector(steps))
    }

    fn test(&mut self, selector: &Selector) -> Result<Test, FilterError> {
        self.skip_blanks();
        let op_at = self.at;
        let rest = self.rest();
        let op = if rest.starts_with("==") {
            return Err(self.error("`==` is not an operator here; write `=`"));
        } else if rest.starts_with("!=") {
            Op::Ne
        } else if rest.starts_with("<=") {
            Op::Le
        } else if rest.starts_with(">=") {
            Op::Ge
        } else if rest.starts_with('=') {
            Op::Eq
        } else if rest.starts_with('<') {
            Op::Lt
        } else if rest.starts_with('>') {
            Op::Gt
        } else if let Some(test) = self.keyword_test()? {
            return Ok(test);
        } else {
            let shown = selector_text(selector);
            return Err(self.error(format!(
                "expected `=`, `!=`, `<`, `<=`, `>`, `>=`, `IS TRUE`, `IS FALSE`, `IS NULL` or \
                 `NOT EXISTS` after `{shown}`"
            )));
        };
        self.at += op.as_str().len();
        let literal = self.literal()?;
        if !matches!(op, Op::Eq | Op::Ne) && !matches!(literal, Literal::Number(..)) {
            return Err(FilterError::new(
                self.pattern,
                op_at,
                format!(
                    "`{}` compares numbers, and what follows is not one (a number is an \
                     integer or decimal, optionally signed, optionally with `e` and an exponent)",
                    op.as_str()
                ),
            ));
        }
        Ok(Test::Compare(op, literal))
    }

    /// `IS TRUE`, `IS FALSE`, `IS NULL`, `NOT EXISTS`; `None` when the next word is neither
    /// `IS` nor `NOT`.
    fn keyword_test(&mut self) -> Result<Option<Test>, FilterError> {
        let first = self.word();
        let test = match first {
            "IS" => {
                self.at += first.len();
                self.skip_blanks();
                match self.word() {
                    "TRUE" => Test::IsTrue,
                    "FALSE" => Test::IsFalse,
                    "NULL" => Test::IsNull,
                    _ => return Err(self.error("expected `TRUE`, `FALSE` or `NULL` after `IS`")),
                }
            }
            "NOT" => {
                self.at += first.len();
                self.skip_blanks();
                if self.word() != "EXISTS" {
                    return Err(self.error("expected `EXISTS` after `NOT`"));
                }
                Test::NotExists
            }
            _ => return Ok(None),
        };
        self.at += self.word().len();
        Ok(Some(test))
    }

    /// The run of letters at the cursor.
    fn word(&self) -> &str {
        let rest = self.rest();
        let end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        &rest[..end]
    }

    fn literal(&mut self) -> Result<Literal, FilterError> {
        self.skip_blanks();
        match self.peek() {
            Some('"') => quoted(self.pattern, &mut self.at).map(Literal::Text),
            Some('%') => Err(self.error(
                "regular expressions (`%…%`) are not supported; use `*` at the start or end \
                 of a string",
            )),
            _ => {
                let begin = self.at;
                while let Some(c) = self.peek() {
                    if c.is_whitespace() || matches!(c, ')' | '}' | '&' | '|') {
                        break;
                    }
                    if !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '*' | '+')) {
                        let word: String = self.pattern[begin..]
                            .chars()
                            .take_while(|c| !(c.is_whitespace() || matches!(c, ')' | '}')))
                            .collect();
                        return Err(self.error(format!(
                            "`{c}` in an unquoted value; AWS requires values with characters \
                             such as `@`, `$`, `\\` in double quotes: write \"{}\"",
                            word.replace('\\', "\\\\").replace('"', "\\\"")
                        )));
                    }
                    self.bump();
                }
                let text = &self.pattern[begin..self.at];
                if text.is_empty() {
                    return Err(self.error("expected a value: a string, a number or `*`"));
                }
                Ok(match number(text) {
                    Some(value) => Literal::Number(value, text.to_owned()),
                    None => Literal::Text(text.to_owned()),
                })
            }
        }
    }
}

/// `text` as AWS's NUMBER: "an integer with an optional + or - sign, a decimal with an
/// optional + or - sign, or a number in scientific notation, which is an integer or a
/// decimal with an optional + or - sign, followed by 'e', followed by an integer with an
/// optional + or - sign".
fn number(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            (digits(whole) || whole.is_empty())
                && (digits(fraction) || fraction.is_empty())
                && !(whole.is_empty() && fraction.is_empty())
        }
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    if !(mantissa_ok && exponent_ok) {
        return None;
    }
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn selector_text(selector: &Selector) -> String {
    let mut out = String::from("$");
    for step in &selector.0 {
        match step {
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}
