//! A position in a filter pattern, shared by the JSON and the text parsers: what is left,
//! the next character, blanks, and errors that point at the position.

use super::FilterError;

/// The pattern and a byte offset into it, always at a character boundary.
pub(super) struct Cursor<'a> {
    pub(super) pattern: &'a str,
    pub(super) at: usize,
}

impl Cursor<'_> {
    pub(super) fn rest(&self) -> &str {
        &self.pattern[self.at..]
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(super) fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.at += c.len_utf8();
        }
    }

    pub(super) fn skip_blanks(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    pub(super) fn error(&self, problem: impl Into<String>) -> FilterError {
        FilterError::new(self.pattern, self.at, problem)
    }

    /// Skips blanks, then `token` if it comes next.
    pub(super) fn eat(&mut self, token: &str) -> bool {
        self.skip_blanks();
        if self.rest().starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }
}
