//! Text patterns: terms matched anywhere in the message, case-sensitively (AWS: "all terms
//! must appear in a log event for there to be a match. Metric filters are case
//! sensitive").
//!
//! - `ERROR Exception`: both terms appear (as substrings: `ERROR` matches `ERRORCODE`).
//! - `"Failed to process"`: the quoted phrase appears. Inside quotes, `\"` is a quote and
//!   `\\` a backslash (AWS's CDK quotes terms so). AWS: terms "that include characters other
//!   than alphanumeric or underscore must be placed inside double quotes", so an unquoted
//!   `ERRORCODE:` is refused with a hint, as AWS refuses it.
//! - `ERROR -WARN`, `"ERROR" - "Exiting"`: `-` excludes the term after it.
//! - `?ERROR ?WARN`: either. Each `?` starts an alternative, and the terms after it up to the
//!   next `?` must all appear in it (how AWS's CDK writes `anyTermGroup`: `?"ERROR"
//!   "MainThread" ?"WARN" "Deadlock"`); terms before the first `?` are an alternative too.

use super::cursor::Cursor;
use super::FilterError;

/// Alternatives, any of which may match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TextPattern {
    groups: Vec<Group>,
}

/// Terms that must all appear, and terms that must not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Group {
    include: Vec<String>,
    exclude: Vec<String>,
}

impl TextPattern {
    pub(super) fn matches(&self, message: &str) -> bool {
        self.groups.iter().any(|g| {
            g.include.iter().all(|t| message.contains(t.as_str()))
                && !g.exclude.iter().any(|t| message.contains(t.as_str()))
        })
    }
}

/// Parses the text pattern `pattern`, starting at byte `start` (its first non-blank).
pub(super) fn parse(pattern: &str, start: usize) -> Result<TextPattern, FilterError> {
    let mut groups: Vec<Group> = Vec::new();
    let mut cursor = Cursor { pattern, at: start };
    loop {
        cursor.skip_blanks();
        let Some(c) = cursor.peek() else { break };
        let mut exclude = false;
        let mut group_start = false;
        if c == '?' {
            group_start = true;
            cursor.bump();
            cursor.skip_blanks();
            if cursor.peek() == Some('-') {
                exclude = true;
                cursor.bump();
                cursor.skip_blanks();
            }
        } else if c == '-' {
            exclude = true;
            cursor.bump();
            cursor.skip_blanks();
        }
        let Some(term) = cursor.term()? else {
            let what = if exclude { "`-`" } else { "`?`" };
            return Err(FilterError::new(
                pattern,
                cursor.at,
                format!("{what} must be followed by a term"),
            ));
        };
        if group_start || groups.is_empty() {
            groups.push(Group::default());
        }
        if let Some(group) = groups.last_mut() {
            if exclude {
                group.exclude.push(term);
            } else {
                group.include.push(term);
            }
        }
    }
    Ok(TextPattern { groups })
}

/// The text grammar's term, on the shared cursor.
impl Cursor<'_> {
    /// A quoted phrase or an unquoted term; `None` at the end.
    fn term(&mut self) -> Result<Option<String>, FilterError> {
        match self.peek() {
            None => Ok(None),
            Some('"') => quoted(self.pattern, &mut self.at).map(Some),
            Some(_) => {
                let begin = self.at;
                while let Some(c) = self.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    if !(c.is_alphanumeric() || c == '_') {
                        let word: String = self.pattern[begin..]
                            .chars()
                            .take_while(|c| !c.is_whitespace())
                            .collect();
                        return Err(FilterError::new(
                            self.pattern,
                            self.at,
                            format!(
                                "`{c}` in an unquoted term; AWS requires terms with characters \
                                 other than letters, digits and `_` in double quotes: write \
                                 \"{}\"",
                                word.replace('\\', "\\\\").replace('"', "\\\"")
                            ),
                        ));
                    }
                    self.bump();
                }
                Ok(Some(self.pattern[begin..self.at].to_owned()))
            }
        }
    }
}

/// The double-quoted string at byte `*at` of `pattern` (which holds `"`), unescaped; `*at`
/// ends after the closing quote. `\"` is a quote and `\\` a backslash; any other backslash
/// stands for itself.
pub(super) fn quoted(pattern: &str, at: &mut usize) -> Result<String, FilterError> {
    let open = *at;
    let mut out = String::new();
    let mut chars = pattern[open + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                *at = open + 1 + i + 1;
                return Ok(out);
            }
            '\\' => match chars.clone().next() {
                Some((_, next @ ('"' | '\\'))) => {
                    out.push(next);
                    chars.next();
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    Err(FilterError::new(
        pattern,
        open,
        "this quote is never closed; end the string with `\"` (a quote inside it is `\\\"`)",
    ))
}
