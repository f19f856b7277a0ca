//! Catalogue templates: literal text with `{name}` placeholders.

/// A piece of a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Segment<'a> {
    Literal(&'a str),
    Placeholder(&'a str),
}

/// Splits a template into literals and `{name}` placeholders (`name`: `[a-z0-9_]+`).
/// A brace that does not open a well-formed placeholder is literal text.
pub(crate) fn segments(template: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut literal_start = 0;
    let mut search_from = 0;
    while let Some(open) = template[search_from..].find('{').map(|i| i + search_from) {
        let name_end = template[open + 1..]
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .map(|i| i + open + 1);
        match name_end {
            Some(close) if close > open + 1 && template[close..].starts_with('}') => {
                if open > literal_start {
                    out.push(Segment::Literal(&template[literal_start..open]));
                }
                out.push(Segment::Placeholder(&template[open + 1..close]));
                literal_start = close + 1;
                search_from = close + 1;
            }
            _ => search_from = open + 1,
        }
    }
    if literal_start < template.len() {
        out.push(Segment::Literal(&template[literal_start..]));
    }
    out
}

/// The placeholder names of a template, in order.
pub(crate) fn placeholders(template: &str) -> Vec<&str> {
    segments(template)
        .into_iter()
        .filter_map(|segment| match segment {
            Segment::Placeholder(name) => Some(name),
            Segment::Literal(_) => None,
        })
        .collect()
}

/// Fills each placeholder with its value; one without a value stays as `{name}`.
pub(crate) fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    for segment in segments(template) {
        match segment {
            Segment::Literal(text) => out.push_str(text),
            Segment::Placeholder(name) => match values.iter().find(|(n, _)| *n == name) {
                Some((_, value)) => out.push_str(value),
                None => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            },
        }
    }
    out
}

/// Whether `text` is the whole template with every placeholder replaced by non-empty text.
pub(crate) fn matches(template: &str, text: &str) -> bool {
    captures(template, text).is_some()
}

/// The placeholders' values when `text` is the whole template with every placeholder
/// replaced by non-empty text (the first way that fits, each placeholder as short as it
/// can be), in the template's order.
pub(crate) fn captures<'t>(template: &'t str, text: &str) -> Option<Vec<(&'t str, String)>> {
    let mut values = Vec::new();
    capture_segments(&segments(template), text, &mut values).then_some(values)
}

fn capture_segments<'t>(
    segments: &[Segment<'t>],
    text: &str,
    values: &mut Vec<(&'t str, String)>,
) -> bool {
    match segments.split_first() {
        None => text.is_empty(),
        Some((Segment::Literal(literal), rest)) => text
            .strip_prefix(literal)
            .is_some_and(|tail| capture_segments(rest, tail, values)),
        Some((Segment::Placeholder(name), rest)) => {
            // The placeholder takes text[..end]; `end` > 0 on a char boundary.
            let ends: Vec<usize> = match rest.first() {
                Some(Segment::Literal(next)) => text
                    .match_indices(next)
                    .map(|(i, _)| i)
                    .filter(|&i| i > 0)
                    .collect(),
                _ => text.char_indices().map(|(i, c)| i + c.len_utf8()).collect(),
            };
            ends.into_iter().any(|end| {
                values.push((name, text[..end].to_owned()));
                let fits = capture_segments(rest, &text[end..], values);
                if !fits {
                    values.pop();
                }
                fits
            })
        }
    }
}

/// Whether some string matches both templates: an emptiness check on the intersection of
/// the two patterns (each placeholder is "one character, then any").
#[cfg(test)]
pub(crate) fn overlap(a: &str, b: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Token {
        Char(char),
        Any,
        Star,
    }
    fn tokens(template: &str) -> Vec<Token> {
        let mut out = Vec::new();
        for segment in segments(template) {
            match segment {
                Segment::Literal(text) => out.extend(text.chars().map(Token::Char)),
                Segment::Placeholder(_) => out.extend([Token::Any, Token::Star]),
            }
        }
        out
    }
    fn closure(tokens: &[Token], mut i: usize) -> Vec<usize> {
        let mut out = vec![i];
        while tokens.get(i) == Some(&Token::Star) {
            i += 1;
            out.push(i);
        }
        out
    }
    let (ta, tb) = (tokens(a), tokens(b));
    let mut seen = std::collections::HashSet::new();
    let mut todo = vec![(0usize, 0usize)];
    while let Some(state) = todo.pop() {
        if !seen.insert(state) {
            continue;
        }
        for i in closure(&ta, state.0) {
            for j in closure(&tb, state.1) {
                if i == ta.len() && j == tb.len() {
                    return true;
                }
                let (Some(&x), Some(&y)) = (ta.get(i), tb.get(j)) else {
                    continue;
                };
                let compatible = match (x, y) {
                    (Token::Char(p), Token::Char(q)) => p == q,
                    _ => true,
                };
                if compatible {
                    let next_i = if x == Token::Star { i } else { i + 1 };
                    let next_j = if y == Token::Star { j } else { j + 1 };
                    todo.push((next_i, next_j));
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_placeholders_and_literals() {
        assert_eq!(
            segments("SPIs: {spi_i}_i {spi_r}_r"),
            vec![
                Segment::Literal("SPIs: "),
                Segment::Placeholder("spi_i"),
                Segment::Literal("_i "),
                Segment::Placeholder("spi_r"),
                Segment::Literal("_r"),
            ]
        );
        assert_eq!(segments("{a}{b}").len(), 2);
        assert_eq!(
            segments("a { b } {C} {"),
            vec![Segment::Literal("a { b } {C} {")]
        );
        assert_eq!(
            placeholders("(id={id}) x {retry_count}"),
            ["id", "retry_count"]
        );
    }

    #[test]
    fn captures_placeholder_values() {
        let t = "SPIs: {spi_i}_i {spi_r}_r";
        assert_eq!(
            captures(t, "SPIs: a5ff_i d215_r"),
            Some(vec![
                ("spi_i", "a5ff".to_owned()),
                ("spi_r", "d215".to_owned())
            ])
        );
        // A value may hold the next literal's text: the first split that fits wins.
        assert_eq!(
            captures("{a}_i", "x_i_i"),
            Some(vec![("a", "x_i".to_owned())])
        );
        assert_eq!(captures(t, "SPIs: _i d215_r"), None);
        assert_eq!(captures(t, "SPIs: a5ff_i d215"), None);
    }

    #[test]
    fn fills_placeholders() {
        let values = [("id", "7".to_owned())];
        assert_eq!(fill("request (id={id})", &values), "request (id=7)");
        assert_eq!(fill("{missing} {id}", &values), "{missing} 7");
    }

    #[test]
    fn matches_whole_string_with_non_empty_placeholders() {
        let t = "SPIs: {spi_i}_i {spi_r}_r";
        assert!(matches(t, "SPIs: 0a_i 0b_r"));
        assert!(matches(t, "SPIs: a_i b_i c_r"));
        assert!(!matches(t, "SPIs: _i 0b_r"));
        assert!(!matches(t, "SPIs: 0a_i 0b_r "));
        assert!(!matches(t, "SPIs: 0a_i _r"));
        assert!(matches("x {a}", "x é"));
        assert!(matches("{a}{b}", "ab"));
        assert!(!matches("{a}{b}", "a"));
        assert!(matches("plain", "plain"));
        assert!(!matches("plain", "plain!"));
        assert!(!matches("{a}", ""));
    }

    #[test]
    fn overlap_finds_common_strings() {
        assert!(overlap("a {x}", "a {y}"));
        assert!(overlap("a {x} c", "{y} b c"));
        assert!(overlap("{x}_r", "a{y}"));
        assert!(!overlap("a {x}", "b {x}"));
        assert!(!overlap("DPD timed out {n}", "DPD timeout {n}"));
        assert!(!overlap("{x}", ""));
        assert!(overlap("{x}", "literal"));
        assert!(!overlap("ab", "abc"));
    }
}
