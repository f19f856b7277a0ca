//! Times, durations and counts in words, shared by the rules' titles and the report.

use chrono::{DateTime, Utc};

/// `3 h 12 min`, `40 s`, `2 d 4 h`, `0.03 s`: two units at most.
pub fn span(seconds: f64) -> String {
    let s = seconds.max(0.0);
    if s < 1.0 {
        return format!("{s:.2} s");
    }
    // Whole seconds are all a title needs; the cast cannot truncate a realistic log.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = s.round() as u64;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{sec} s"),
        (0, 0, _) if sec == 0 => format!("{m} min"),
        (0, 0, _) => format!("{m} min {sec} s"),
        (0, _, 0) => format!("{h} h"),
        (0, _, _) => format!("{h} h {m} min"),
        (_, 0, _) => format!("{d} d"),
        _ => format!("{d} d {h} h"),
    }
}

/// Seconds from `a` to `b`.
pub fn seconds(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    // Milliseconds of a log's span fit an f64 exactly.
    #[allow(clippy::cast_precision_loss)]
    let ms = (b - a).num_milliseconds() as f64;
    ms / 1000.0
}

/// `2026-01-01 00:00:00.015`: a record's time in full.
pub fn full(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// A record's time as short as the stream allows: `00:55:30.045` when the stream stays
/// within one UTC day, else `01-02 00:55:30`.
pub fn short(t: DateTime<Utc>, one_day: bool) -> String {
    if one_day {
        t.format("%H:%M:%S%.3f").to_string()
    } else {
        t.format("%m-%d %H:%M:%S").to_string()
    }
}

/// `1 attempt`, `3 attempts`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else if let Some(stem) = noun
        .strip_suffix('y')
        .filter(|stem| !stem.ends_with(['a', 'e', 'i', 'o', 'u']))
    {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {noun}s")
    }
}

/// Words of `text` in lines of at most `width` characters (a longer word gets its own).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_counts() {
        assert_eq!(span(0.03), "0.03 s");
        assert_eq!(span(40.0), "40 s");
        assert_eq!(span(11_520.0), "3 h 12 min");
        assert_eq!(span(86_400.0 * 30.0), "30 d");
        assert_eq!(span(90.0), "1 min 30 s");
        assert_eq!(count(1, "attempt"), "1 attempt");
        assert_eq!(count(3, "retry"), "3 retries");
        assert_eq!(count(2, "phase 2 rekey"), "2 phase 2 rekeys");
        assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
    }
}
