//! Examples from AWS's "Filter and pattern syntax" page (CloudWatch Logs User Guide,
//! FilterAndPatternSyntax.html; quoted from its source, github.com/awsdocs/
//! amazon-cloudwatch-logs-user-guide, doc_source/FilterAndPatternSyntax.md), each with the
//! matches the page states, and the pattern AWS's VPN monitoring sample filters with.

use super::*;

fn pattern(text: &str) -> FilterPattern {
    match FilterPattern::parse(text) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn which(text: &str, messages: &[&str]) -> Vec<usize> {
    let p = pattern(text);
    (0..messages.len())
        .filter(|&i| p.matches(messages[i]))
        .collect()
}

fn error(text: &str) -> FilterError {
    match FilterPattern::parse(text) {
        Ok(p) => panic!("{text:?} parsed as {p:?}"),
        Err(e) => e,
    }
}

// --- "Matching Terms in Log Events" ---

#[test]
fn aws_example_1_the_empty_pattern_matches_everything() {
    // "The filter pattern "" matches all log events."
    for text in ["", "   ", "\"\""] {
        assert_eq!(
            which(text, &["anything", "", "{\"a\":1}"]),
            [0, 1, 2],
            "{text:?}"
        );
    }
}

#[test]
fn aws_example_2_a_single_term_matches_anywhere_in_the_message() {
    // "The filter pattern "ERROR" matches log event messages that contain this term"
    let messages = [
        "[ERROR] A fatal exception has occurred",
        "Exiting with ERRORCODE: -1",
        "[WARN] ok",
    ];
    assert_eq!(which("ERROR", &messages), [0, 1]);
    assert_eq!(which("\"ERROR\"", &messages), [0, 1]);
    // "Metric filters are case sensitive."
    assert!(which("error", &messages).is_empty());
}

#[test]
fn aws_example_3_a_minus_excludes_the_term_after_it() {
    // "if you change the filter pattern to "ERROR" - "Exiting", the log event message
    // "Exiting with ERRORCODE: -1" would be excluded"
    let messages = [
        "[ERROR] A fatal exception has occurred",
        "Exiting with ERRORCODE: -1",
    ];
    assert_eq!(which("\"ERROR\" - \"Exiting\"", &messages), [0]);
    assert_eq!(which("ERROR -Exiting", &messages), [0]);
}

#[test]
fn aws_example_4_several_terms_must_all_appear() {
    // "The filter pattern "ERROR Exception" matches log event messages that contain both terms"
    let messages = [
        "[ERROR] Caught IllegalArgumentException",
        "[ERROR] Unhandled Exception",
        "[ERROR] Unhandled",
    ];
    assert_eq!(which("ERROR Exception", &messages), [0, 1]);
    // "The filter pattern "Failed to process the request" matches log event messages that
    // contain all terms"
    let messages = [
        "[WARN] Failed to process the request",
        "[ERROR] Unable to continue: Failed to process the request",
        "the request to process Failed",
        "Failed to process",
    ];
    assert_eq!(which("Failed to process the request", &messages), [0, 1, 2]);
    // A quoted phrase is one term.
    assert_eq!(
        which("\"Failed to process the request\"", &messages),
        [0, 1]
    );
}

#[test]
fn aws_or_pattern_matching_with_question_marks() {
    // "`ERROR` matches examples 1 and 2. `?ERROR ?WARN` matches examples 1, 2, and 3 ...
    // `ERROR WARN` only matches example 1 ... ERROR -WARN matches example 2"
    let messages = ["ERROR WARN message", "ERROR message", "WARN message"];
    assert_eq!(which("ERROR", &messages), [0, 1]);
    assert_eq!(which("?ERROR ?WARN", &messages), [0, 1, 2]);
    assert_eq!(which("ERROR WARN", &messages), [0]);
    assert_eq!(which("ERROR -WARN", &messages), [1]);
}

#[test]
fn question_marks_start_term_groups_as_aws_cdk_writes_them() {
    // AWS CDK's FilterPattern.anyTermGroup(["ERROR", "MainThread"], ["WARN", "Deadlock"])
    // renders `?"ERROR" "MainThread" ?"WARN" "Deadlock"`: "A term group matches an event if
    // all the terms in it appear in the event string."
    let messages = [
        "ERROR in MainThread",
        "ERROR elsewhere",
        "WARN Deadlock",
        "WARN",
    ];
    let p = "?\"ERROR\" \"MainThread\" ?\"WARN\" \"Deadlock\"";
    assert_eq!(which(p, &messages), [0, 2]);
    // Terms before the first `?` are a group too.
    assert_eq!(which("ERROR MainThread ?Deadlock", &messages), [0, 2]);
}

#[test]
fn quoted_terms_take_escaped_quotes_and_backslashes() {
    let messages = [r#"he said "hi""#, r"C:\temp", "hi"];
    assert_eq!(which(r#""said \"hi\"""#, &messages), [0]);
    assert_eq!(which(r#""C:\\temp""#, &messages), [1]);
}

#[test]
fn unquoted_terms_with_other_characters_are_refused_as_aws_refuses_them() {
    // "Metric filter terms that include characters other than alphanumeric or underscore must
    // be placed inside double quotes"
    let e = error("ERROR ERRORCODE:");
    assert_eq!(e.column, 16);
    assert!(e.problem.contains("\"ERRORCODE:\""), "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "filter pattern, column 16: {}\n  ERROR ERRORCODE:\n                 ^",
            e.problem
        )
    );
    assert_eq!(error("ERROR \"open").column, 7);
    assert_eq!(error("ERROR -").column, 8);
    assert_eq!(error("?").column, 2);
    assert!(error("[ip, user]").problem.contains("space-delimited"));
    assert!(error("%ERR.R%").problem.contains("regular-expression"));
}

// --- "Matching Terms in JSON Log Events" ---

/// The page's first JSON example event.
const TRAIL: &str = r#"{
  "eventType": "UpdateTrail",
  "sourceIPAddress": "111.111.111.111",
  "arrayKey": ["value", "another value"],
  "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
  "SomeObject": null,
  "ThisFlag": true
}"#;

#[test]
fn aws_json_metric_filter_examples_match() {
    // "The following filters would match:"
    for text in [
        r#"{ $.eventType = "UpdateTrail" }"#,
        "{ $.sourceIPAddress != 123.123.* }",
        r#"{ $.arrayKey[0] = "value" }"#,
        "{ $.objectList[1].id = 2 }",
        "{ $.SomeObject IS NULL }",
        "{ $.SomeOtherObject NOT EXISTS }",
        "{ $.ThisFlag IS TRUE }",
    ] {
        assert!(pattern(text).matches(TRAIL), "{text} should match");
    }
    // And their negations do not.
    for text in [
        r#"{ $.eventType = "PutTrail" }"#,
        "{ $.sourceIPAddress != 111.111.* }",
        r#"{ $.arrayKey[1] = "value" }"#,
        "{ $.objectList[0].id = 2 }",
        "{ $.eventType IS NULL }",
        "{ $.SomeObject NOT EXISTS }",
        "{ $.ThisFlag IS FALSE }",
        // "If arrayKey is not an array this will be false."
        r#"{ $.eventType[0] = "value" }"#,
    ] {
        assert!(!pattern(text).matches(TRAIL), "{text} should not match");
    }
}

#[test]
fn aws_string_wildcards_at_the_start_or_end() {
    // "*Event will match PutEvent and GetEvent. Event* will match EventId and EventName.
    // Ev*ent will only match the actual string Ev*ent."
    let event = |v: &str| format!(r#"{{"e": "{v}"}}"#);
    let cases = [
        ("*Event", "PutEvent", true),
        ("*Event", "GetEvent", true),
        ("*Event", "EventId", false),
        ("Event*", "EventId", true),
        ("Event*", "EventName", true),
        ("Event*", "PutEvent", false),
        ("Ev*ent", "Ev*ent", true),
        ("Ev*ent", "Event", false),
        (
            "\"*DPD timed out*\"",
            "AWS tunnel DPD timed out after 3 retransmits",
            true,
        ),
        ("\"*DPD timed out*\"", "AWS tunnel DPD is idle", false),
    ];
    for (literal, value, expected) in cases {
        let p = pattern(&format!("{{ $.e = {literal} }}"));
        assert_eq!(p.matches(&event(value)), expected, "{literal} vs {value}");
    }
    // `$.latency = *`: the field is there, whatever its value (AWS's metric-value example).
    let p = pattern("{ $.latency = * }");
    assert!(p.matches(r#"{"latency": 12}"#));
    assert!(p.matches(r#"{"latency": "slow"}"#));
    assert!(!p.matches(r#"{"other": 12}"#));
}

/// The page's compound-conditions example event.
const USERS: &str = r#"{
    "user": {"id": 1, "email": "John.Stiles@example.com"},
    "users": [
        {"id": 2, "email": "John.Doe@example.com"},
        {"id": 3, "email": "Jane.Doe@example.com"}
    ],
    "actions": ["GET", "PUT", "DELETE"],
    "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]
}"#;

#[test]
fn aws_compound_conditions_follow_parentheses_then_and_then_or() {
    // "Parenthesis are allowed and the syntax follows standard order of operations
    // () > && > ||."
    let cases = [
        (
            r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#,
            true,
        ),
        (
            r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#,
            false,
        ),
        (
            r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }"#,
            true,
        ),
        (
            r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }"#,
            false,
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(pattern(text).matches(USERS), expected, "{text}");
    }
}

#[test]
fn aws_json_or_examples() {
    // "{$.foo = bar} matches pattern 1, {$.foo = baz } matches pattern 2, and
    // {$.foo = bar || $.foo = baz } matches pattern 1 and 2."
    let messages = [r#"{"foo": "bar"}"#, r#"{"foo": "baz"}"#];
    assert_eq!(which("{$.foo = bar}", &messages), [0]);
    assert_eq!(which("{$.foo = baz }", &messages), [1]);
    assert_eq!(which("{$.foo = bar || $.foo = baz }", &messages), [0, 1]);
}

#[test]
fn aws_selectors_on_arrays_or_objects_match_neither_way() {
    // "both {$.users = 1} and {$.users != 1} will fail to match a log event where users is
    // an array"
    let message = r#"{"users": [1, 2, 3]}"#;
    assert!(!pattern("{$.users = 1}").matches(message));
    assert!(!pattern("{$.users != 1}").matches(message));
    // Nor does `!=` match a field that is not there.
    assert!(!pattern("{$.missing != 1}").matches(message));
}

#[test]
fn aws_numeric_comparisons() {
    // The page's examples, each on an event it matches and one it does not.
    let cases = [
        (
            "{ $.latency >= 500 }",
            r#"{"latency": 500}"#,
            r#"{"latency": 499.9}"#,
        ),
        (
            "{ $.numbers[0] < 10e3 }",
            r#"{"numbers": [9999]}"#,
            r#"{"numbers": [10000]}"#,
        ),
        (
            "{ $.numbers[0] < 10e-3 }",
            r#"{"numbers": [0.001]}"#,
            r#"{"numbers": [0.01]}"#,
        ),
        (
            "{ $.processes[4].averageRuntime <= 55.5 }",
            r#"{"processes": [0, 0, 0, 0, {"averageRuntime": 55.5}]}"#,
            r#"{"processes": [0, 0, 0, 0, {"averageRuntime": 55.6}]}"#,
        ),
        (
            "{ $.errorCode = 400 }",
            r#"{"errorCode": 400}"#,
            r#"{"errorCode": 401}"#,
        ),
        (
            "{ $.errorCode != 500 }",
            r#"{"errorCode": 400}"#,
            r#"{"errorCode": 500}"#,
        ),
        (
            "{ $.latency > +1000 }",
            r#"{"latency": 1000.5}"#,
            r#"{"latency": 1000}"#,
        ),
    ];
    for (text, yes, no) in cases {
        let p = pattern(text);
        assert!(p.matches(yes), "{text} on {yes}");
        assert!(!p.matches(no), "{text} on {no}");
    }
    // 400 and 400.0 are the same number; a number on a string field compares the text
    // ("the recipientAccountId is 123456789012").
    assert!(pattern("{ $.errorCode = 400 }").matches(r#"{"errorCode": 400.0}"#));
    assert!(pattern("{ $.recipientAccountId = 123456789012 }")
        .matches(r#"{"recipientAccountId": "123456789012"}"#));
    // An ordering on a string field is false.
    assert!(!pattern("{ $.latency > 5 }").matches(r#"{"latency": "9"}"#));
}

#[test]
fn a_message_that_is_not_json_never_matches_a_json_pattern() {
    let p = pattern("{ $.details = * }");
    assert!(p.is_json());
    for message in [
        "details",
        "2026-01-01 00:00:00.000Z down down details=x",
        "",
        "[1,2]",
        "\"x\"",
    ] {
        assert!(!p.matches(message), "{message:?}");
    }
    assert!(!pattern("{ $.x NOT EXISTS }").matches("not json"));
}

#[test]
fn aws_vpn_monitoring_pattern_on_ikesim_records() {
    // The filter of AWS's aws-samples VPN monitoring template (reference §1).
    let p = pattern(r#"{ ($.details = "*DPD timed out*") || ($.ike_phase1_state = "down") }"#);
    let record = |p1: &str, details: &str| {
        format!(
            r#"{{"event_timestamp":1767225600015,"timestamp":"2026-01-01 00:00:00.015Z","dpd_enabled":true,"nat_t_detected":false,"ike_phase1_state":"{p1}","ike_phase2_state":"down","details":"{details}"}}"#
        )
    };
    assert!(!p.matches(&record(
        "negotiating",
        "AWS tunnel is negotiating Phase 1 IKE_SA"
    )));
    assert!(!p.matches(&record(
        "established",
        "AWS tunnel Phase 2 CHILD_SA established"
    )));
    assert!(p.matches(&record(
        "down",
        "AWS tunnel DPD timed out after 3 retransmits"
    )));
    assert!(p.matches(&record(
        "down",
        "AWS tunnel received DELETE for IKE_SA from CGW"
    )));
    assert!(p.matches(&record(
        "established",
        "AWS tunnel DPD timed out after 3 retransmits"
    )));
    // Booleans are tested with IS TRUE / IS FALSE.
    assert!(
        pattern("{ $.dpd_enabled IS TRUE && $.nat_t_detected IS FALSE }")
            .matches(&record("down", "x"))
    );
    assert!(!pattern("{ $.dpd_enabled = true }").matches(&record("down", "x")));
}

#[test]
fn json_pattern_errors_name_the_column() {
    let cases = [
        ("{ $.details ~ \"x\" }", 13, "expected `=`"),
        ("{ $.details == \"x\" }", 13, "`==`"),
        ("{ $.details = \"x\" ", 19, "closing `}`"),
        ("{ ($.a = 1 }", 12, "expected `&&`, `||` or `)`"),
        ("{ ($.a = 1", 3, "never closed"),
        (
            "{ $.a = 1 $.b = 2 }",
            11,
            "expected `&&`, `||` or the closing `}`",
        ),
        ("{ $.a = 1 } x", 13, "nothing may follow"),
        ("{ }", 3, "expected a condition"),
        ("{ details = 1 }", 3, "selector"),
        ("{ $ = 1 }", 3, "a selector names a property"),
        ("{ $.a. = 1 }", 7, "property name"),
        ("{ $[0] = 1 }", 4, "must follow a property"),
        ("{ $.a[x] = 1 }", 7, "array index"),
        ("{ $.a > abc }", 7, "compares numbers"),
        ("{ $.a = }", 9, "expected a value"),
        ("{ $.a = john@example.com }", 13, "\"john@example.com\""),
        ("{ $.a IS MAYBE }", 10, "`TRUE`, `FALSE` or `NULL`"),
        ("{ $.a NOT THERE }", 11, "`EXISTS`"),
        ("{ $.a = %x% }", 9, "regular expressions"),
        ("{ $.a = \"x }", 9, "never closed"),
        // Columns count characters, not bytes.
        ("{ $.é = x@ }", 10, "unquoted value"),
    ];
    for (text, column, needle) in cases {
        let e = error(text);
        assert_eq!(e.column, column, "{text}: {e}");
        assert!(e.problem.contains(needle), "{text}: {e}");
        assert_eq!(e.pattern, text);
    }
}

#[test]
fn patterns_keep_their_text() {
    let text = "{ $.a = 1 }";
    let p: FilterPattern = text.parse().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.as_str(), text);
    assert_eq!(p.to_string(), text);
    assert!(!pattern("ERROR").is_json());
}

#[test]
fn no_short_pattern_makes_parsing_or_matching_panic() {
    // Every pattern of up to four characters from the syntax's own alphabet (and one
    // multi-byte letter): parse gives a pattern or an error whose column is inside it, and
    // matching any message is a plain bool.
    let alphabet: Vec<char> = "{}$.[]0a\"\\ =!<>&|()*-?%é".chars().collect();
    let messages = [r#"{"a":[0,"a*"],"0":null}"#, "a 0 *", ""];
    let mut text = Vec::new();
    let mut patterns = 0;
    let mut stack = vec![0_usize; 0];
    loop {
        text.clear();
        text.extend(stack.iter().map(|&i| alphabet[i]));
        let pattern: String = text.iter().collect();
        match FilterPattern::parse(&pattern) {
            Ok(p) => {
                for m in messages {
                    let _ = p.matches(m);
                }
            }
            Err(e) => assert!(
                (1..=pattern.chars().count() + 1).contains(&e.column),
                "{pattern:?}: {e}"
            ),
        }
        patterns += 1;
        // The next pattern: count in base alphabet.len(), growing to four characters.
        let mut i = stack.len();
        loop {
            if i == 0 {
                if stack.len() == 4 {
                    assert!(patterns > 300_000);
                    return;
                }
                stack = vec![0; stack.len() + 1];
                break;
            }
            i -= 1;
            stack[i] += 1;
            if stack[i] < alphabet.len() {
                break;
            }
            stack[i] = 0;
        }
    }
}
