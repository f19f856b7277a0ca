//! CloudWatch Logs filter patterns (`--filter-pattern`), as AWS documents them in "Filter
//! pattern syntax for metric filters, subscription filters, filter log events, and Live
//! Tail" (CloudWatch Logs User Guide, FilterAndPatternSyntax.html; the examples the tests
//! cite are that page's, as archived in github.com/awsdocs/amazon-cloudwatch-logs-user-guide,
//! doc_source/FilterAndPatternSyntax.md).
//!
//! Two of AWS's pattern forms are understood:
//! - **JSON** (`{ … }`, filter/json.rs): conditions on selectors (`$.a.b`, `$.a[0]`) joined with
//!   `&&` and `||` and parentheses — the form AWS's own VPN monitoring filters use,
//!   `{ ($.details = "*DPD timed out*") || ($.ike_phase1_state = "down") }`. A message that
//!   is not JSON never matches a JSON pattern.
//! - **Text** (filter/text.rs): terms that must all appear, `"quoted phrases"`, `-term`
//!   exclusions, `?term` alternatives; the empty pattern matches everything.
//!
//! Space-delimited (`[a, b, …]`) and regular-expression (`%…%`) patterns are refused with
//! an error that says so. Where moto differs (its FilterLogEvents understands only plain
//! terms), AWS's documentation wins.

mod cursor;
mod json;
mod text;

use std::fmt;

/// A parsed filter pattern: [`FilterPattern::matches`] says whether CloudWatch Logs would
/// pass a log event's message through it.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterPattern {
    source: String,
    form: Form,
}

#[derive(Clone, Debug, PartialEq)]
enum Form {
    /// The empty pattern: every event.
    All,
    Text(text::TextPattern),
    Json(json::Expr),
}

impl FilterPattern {
    /// Parses `text` as AWS would. Leading and trailing whitespace are not significant.
    ///
    /// # Errors
    /// A [`FilterError`] naming the problem and its column.
    pub fn parse(text: &str) -> Result<FilterPattern, FilterError> {
        let trimmed = text.trim_start();
        let offset = text.len() - trimmed.len();
        let form = match trimmed.chars().next() {
            None => Form::All,
            Some('{') => Form::Json(json::parse(text, offset)?),
            Some('[') => {
                return Err(FilterError::new(
                    text,
                    offset,
                    "space-delimited patterns (`[field, …]`) are not supported; use a JSON \
                     pattern (`{ $.details = \"*…*\" }`) or terms",
                ))
            }
            Some('%') => {
                return Err(FilterError::new(
                    text,
                    offset,
                    "regular-expression patterns (`%…%`) are not supported; use `*` wildcards \
                     in a JSON pattern (`{ $.details = \"*…*\" }`) or terms",
                ))
            }
            Some(_) => Form::Text(text::parse(text, offset)?),
        };
        Ok(FilterPattern {
            source: text.to_owned(),
            form,
        })
    }

    /// Whether an event with this message passes the pattern.
    pub fn matches(&self, message: &str) -> bool {
        match &self.form {
            Form::All => true,
            Form::Text(pattern) => pattern.matches(message),
            Form::Json(expr) => serde_json::from_str::<serde_json::Value>(message)
                .is_ok_and(|value| expr.eval(&value)),
        }
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether this is a JSON pattern (which only JSON messages can match).
    pub fn is_json(&self) -> bool {
        matches!(self.form, Form::Json(_))
    }
}

impl fmt::Display for FilterPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl std::str::FromStr for FilterPattern {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<FilterPattern, FilterError> {
        FilterPattern::parse(s)
    }
}

/// A pattern AWS would not accept, or one ikesim does not understand: what is wrong, and
/// where (1-based column, in characters). Its `Display` quotes the pattern and points at the
/// column.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct FilterError {
    /// The pattern as given.
    pub pattern: String,
    /// Where the problem is: 1-based, counting characters.
    pub column: usize,
    /// What is wrong, and what to write instead.
    pub problem: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "filter pattern, column {}: {}\n  {}\n  {:>width$}",
            self.column,
            self.problem,
            self.pattern,
            "^",
            width = self.column
        )
    }
}

impl FilterError {
    /// The error at byte offset `at` of `pattern`.
    fn new(pattern: &str, at: usize, problem: impl Into<String>) -> FilterError {
        let at = at.min(pattern.len());
        let column = pattern.char_indices().take_while(|&(i, _)| i < at).count() + 1;
        FilterError {
            pattern: pattern.to_owned(),
            column,
            problem: problem.into(),
        }
    }
}

/// Whether `value` equals `literal`, where a `*` at the start or the end of `literal` matches
/// any text (AWS: "`*Event` will match `PutEvent` and `GetEvent`. `Event*` will match
/// `EventId` and `EventName`. `Ev*ent` will only match the actual string `Ev*ent`").
fn wildcard_eq(literal: &str, value: &str) -> bool {
    if literal == "*" {
        return true;
    }
    match (literal.strip_prefix('*'), literal.strip_suffix('*')) {
        (Some(_), Some(_)) => value.contains(&literal[1..literal.len() - 1]),
        (Some(tail), None) => value.ends_with(tail),
        (None, Some(head)) => value.starts_with(head),
        (None, None) => value == literal,
    }
}

#[cfg(test)]
mod tests;
