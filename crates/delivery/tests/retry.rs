//! The pusher against a scripted CloudWatch Logs endpoint on loopback: throttling,
//! ServiceUnavailable and 5xx are retried, a client error is not, and the events a response
//! lists in `rejectedLogEventsInfo` are counted as not delivered. No moto needed: the
//! endpoint answers in CloudWatch Logs' JSON protocol (awsJson1_1) from a script.

#![cfg(feature = "sdk")]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use delivery::batch::LogEvent;
use delivery::push::{PushConfig, PushTuning, Pusher, RetryPolicy};

/// One scripted answer: HTTP status and, for an error, its code.
#[derive(Clone, Copy)]
enum Answer {
    Ok(&'static str),
    Error(u16, &'static str),
}

type Script = Arc<Mutex<HashMap<String, Vec<Answer>>>>;
/// The requests seen: (operation, body), in order.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// Reads one request: its `X-Amz-Target` operation and body.
fn read_request(stream: &TcpStream) -> Option<(String, String)> {
    let mut reader = BufReader::new(stream);
    let mut target = String::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.to_ascii_lowercase().as_str() {
                "x-amz-target" => target = value.trim().rsplit('.').next()?.to_owned(),
                "content-length" => length = value.trim().parse().ok()?,
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((target, String::from_utf8_lossy(&body).into_owned()))
}

/// Serves `script` on a loopback port; returns the URL and the requests seen, in order.
fn serve(script: Script) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("its address"));
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let Some((op, body)) = read_request(&stream) else {
                continue;
            };
            log.lock().unwrap().push((op.clone(), body));
            let answer = {
                let mut script = script.lock().unwrap();
                let queue = script.entry(op).or_default();
                if queue.len() > 1 {
                    queue.remove(0)
                } else {
                    queue.first().copied().unwrap_or(Answer::Ok("{}"))
                }
            };
            let (status, body, error) = match answer {
                Answer::Ok(body) => (200, body.to_owned(), None),
                Answer::Error(status, code) => (
                    status,
                    format!("{{\"__type\":\"{code}\",\"message\":\"scripted {code}\"}}"),
                    Some(code),
                ),
            };
            let mut response = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.1\r\n\
                 content-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            if let Some(code) = error {
                response.push_str(&format!("x-amzn-errortype: {code}\r\n"));
            }
            response.push_str("\r\n");
            response.push_str(&body);
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (url, seen)
}

#[test]
fn throttling_and_server_errors_are_retried_rejections_and_client_errors_counted() {
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::set_var("AWS_CONFIG_FILE", "/dev/null");
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    std::env::remove_var("AWS_PROFILE");

    let script: Script = Arc::new(Mutex::new(HashMap::from([
        (
            "CreateLogGroup".to_owned(),
            vec![
                Answer::Error(400, "ThrottlingException"),
                Answer::Error(400, "ResourceAlreadyExistsException"),
            ],
        ),
        (
            "CreateLogStream".to_owned(),
            vec![
                Answer::Error(503, "ServiceUnavailableException"),
                Answer::Ok("{}"),
                // The second stream: a client error, not retried.
                Answer::Error(400, "InvalidParameterException"),
            ],
        ),
        (
            "PutLogEvents".to_owned(),
            vec![
                Answer::Error(500, "InternalFailure"),
                Answer::Ok(r#"{"rejectedLogEventsInfo":{"tooOldLogEventEndIndex":1}}"#),
            ],
        ),
    ])));
    let (url, seen) = serve(script);
    let pusher = Pusher::start_tuned(
        PushConfig {
            region: Some("us-east-1".into()),
            endpoint_url: Some(url),
            ..PushConfig::default()
        },
        PushTuning {
            retry: RetryPolicy {
                max_attempts: 6,
                base: Duration::from_millis(5),
                cap: Duration::from_millis(20),
            },
            ..PushTuning::default()
        },
    )
    .expect("start the pusher");
    let now = chrono::Utc::now().timestamp_millis();
    for i in 0..3 {
        pusher.send(
            "/g",
            "first",
            LogEvent {
                timestamp: now + i,
                message: format!("event {i}"),
            },
        );
    }
    pusher.flush();
    pusher.send(
        "/g",
        "second",
        LogEvent {
            timestamp: now,
            message: "never put".into(),
        },
    );
    let report = pusher.finish();
    eprintln!("{report}");

    let ops: Vec<String> = seen.lock().unwrap().iter().map(|r| r.0.clone()).collect();
    assert_eq!(
        ops,
        [
            "CreateLogGroup",  // throttled
            "CreateLogGroup",  // already exists: fine
            "CreateLogStream", // 503
            "CreateLogStream",
            "PutLogEvents",    // 500
            "PutLogEvents",    // one rejected as too old
            "CreateLogStream", // the second stream: 400, not retried
        ]
    );
    let put = &seen.lock().unwrap()[5].1;
    assert!(
        put.contains("\"logStreamName\":\"first\"") && put.contains("event 2"),
        "{put}"
    );
    assert_eq!(report.delivered, 2, "{report}");
    assert_eq!(report.undelivered, 2, "{report}");
    assert_eq!(
        report.put_log_events_calls, 1,
        "a retried call counts once: {report}"
    );
    let first = report.first_error.clone().unwrap_or_default();
    assert!(
        first.contains("rejected 1 events of /g first: 1 too old"),
        "{first}"
    );
    let second = report.streams.iter().find(|s| s.stream == "second");
    assert_eq!(second.map(|s| (s.delivered, s.undelivered)), Some((0, 1)));
}
