//! Where the elements of a JSON document's array start, as lines: so that a problem in
//! the 12th event of a pretty-printed export points at its line, not at line 0.
//!
//! serde_json parses the document into values without positions; this is one more linear
//! pass over the bytes that tracks only strings and nesting, cheap beside the parse.

/// Which array's elements to locate.
#[derive(Clone, Copy, Debug)]
pub(super) enum Array<'a> {
    /// The document is the array (a Logs Insights JSON export).
    Top,
    /// The array is the value of this key of the top-level object (`events`, `results`,
    /// `logEvents`).
    Key(&'a str),
}

/// The 1-based line each element of `array` starts on, in order. Missing or malformed
/// parts give fewer lines; callers fall back to line 0 for elements past the end.
pub(super) fn element_lines(text: &str, array: Array<'_>) -> Vec<usize> {
    let offsets = element_offsets(text.as_bytes(), array);
    let mut lines = Vec::with_capacity(offsets.len());
    let mut line = 1;
    let mut at = 0;
    for offset in offsets {
        line += text
            .get(at..offset)
            .map_or(0, |part| part.matches('\n').count());
        at = offset;
        lines.push(line);
    }
    lines
}

fn element_offsets(bytes: &[u8], array: Array<'_>) -> Vec<usize> {
    let mut offsets = Vec::new();
    // Open containers, `{` or `[`.
    let mut stack: Vec<u8> = Vec::new();
    // The last string seen directly in the top-level object, and whether it was a key.
    let mut top_key: Option<(usize, usize)> = None;
    // Inside the array we are after, expecting an element next.
    let mut in_target = false;
    let mut expect_element = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_target
            && expect_element
            && stack.len() == target_depth(array)
            && !b.is_ascii_whitespace()
            && b != b']'
            && b != b','
        {
            offsets.push(i);
            expect_element = false;
        }
        match b {
            b'"' => {
                let start = i + 1;
                i = string_end(bytes, start);
                if stack.as_slice() == [b'{'] {
                    top_key = Some((start, i));
                }
            }
            b'{' | b'[' => {
                stack.push(b);
                if b == b'[' && !in_target && is_target(bytes, &stack, top_key, array) {
                    in_target = true;
                    expect_element = true;
                }
            }
            b'}' | b']' => {
                if in_target && b == b']' && stack.len() == target_depth(array) {
                    return offsets;
                }
                stack.pop();
            }
            b',' if in_target && stack.len() == target_depth(array) => expect_element = true,
            _ => {}
        }
        i += 1;
    }
    offsets
}

fn target_depth(array: Array<'_>) -> usize {
    match array {
        Array::Top => 1,
        Array::Key(_) => 2,
    }
}

fn is_target(bytes: &[u8], stack: &[u8], top_key: Option<(usize, usize)>, array: Array) -> bool {
    match array {
        Array::Top => stack == [b'['],
        Array::Key(key) => {
            stack == [b'{', b'[']
                && top_key.is_some_and(|(start, end)| &bytes[start..end] == key.as_bytes())
        }
    }
}

/// The index of the `"` closing the string whose content starts at `start` (or the end).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::{element_lines, Array};

    #[test]
    fn lines_of_elements() {
        let doc = "{\n  \"nextToken\": \"[x\\\"]\",\n  \"events\": [\n    {\"a\": [1, 2]},\n\n    \
                   {\"b\": \"],\"}, {\"c\": 3}\n  ],\n  \"events2\": [{}]\n}";
        assert_eq!(element_lines(doc, Array::Key("events")), vec![4, 6, 6]);
        assert_eq!(element_lines(doc, Array::Key("other")), Vec::<usize>::new());
        let top = "[\n{\"@message\": \"{}\"},\n{\"@message\": \"[\"}\n]";
        assert_eq!(element_lines(top, Array::Top), vec![2, 3]);
        // A nested array with the key's name is not the top-level one.
        let nested = "{\"x\": {\"events\": [1]}, \"events\": [\n2]}";
        assert_eq!(element_lines(nested, Array::Key("events")), vec![2]);
        // Truncated or odd input never panics.
        for bad in [
            "[",
            "{\"events\": [",
            "\"",
            "{\"events\": [\"\\",
            "]]]",
            "{{{",
        ] {
            let _ = element_lines(bad, Array::Top);
            let _ = element_lines(bad, Array::Key("events"));
        }
    }
}
