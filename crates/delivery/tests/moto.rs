//! The pusher against moto's server (library level; tests/cloudwatch.rs runs the binary):
//! several streams, several calls per stream, events outside CloudWatch's window, metrics,
//! and an endpoint that is not there. Logs are read back with the SDK's GetLogEvents
//! paging; metrics only counted here (the SDK's CloudWatch client speaks CBOR, which moto
//! does not: tests/cloudwatch.rs reads them back with boto3).
//!
//! Needs moto (`.ci/moto-venv`); skips without it unless IKESIM_REQUIRE_PEERS=1.

#![cfg(feature = "sdk")]

#[path = "../../../tests/cloudwatch/moto.rs"]
mod moto;

use std::time::Duration;

use chrono::Utc;
use delivery::batch::LogEvent;
use delivery::metrics::{MetricDatum, TUNNEL_STATE};
use delivery::push::{PushConfig, PushTuning, Pusher, RetryPolicy};
use moto::{moto_missing, Moto, MOTO_INSTALL};

const GROUP: &str = "/aws/vendedlogs/ikesim-library-test";

fn skip() -> bool {
    let Some(missing) = moto_missing() else {
        return false;
    };
    let message = format!("needs {missing}, install with: {MOTO_INSTALL}");
    assert!(
        std::env::var("IKESIM_REQUIRE_PEERS").as_deref() != Ok("1"),
        "{message}; IKESIM_REQUIRE_PEERS=1 is set, so this fails instead of skipping"
    );
    eprintln!("skipped: {message}; set IKESIM_REQUIRE_PEERS=1 to fail instead of skipping");
    true
}

fn start(url: &str) -> Pusher {
    let config = PushConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some(url.to_owned()),
        ..PushConfig::default()
    };
    let tuning = PushTuning {
        retry: RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(50),
            cap: Duration::from_millis(200),
        },
        ..PushTuning::default()
    };
    Pusher::start_tuned(config, tuning).expect("start the pusher")
}

async fn read_stream(client: &aws_sdk_cloudwatchlogs::Client, stream: &str) -> Vec<LogEvent> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .get_log_events()
            .log_group_name(GROUP)
            .log_stream_name(stream)
            .start_from_head(true)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("GetLogEvents");
        out.extend(page.events().iter().map(|e| LogEvent {
            timestamp: e.timestamp().unwrap_or_default(),
            message: e.message().unwrap_or_default().to_owned(),
        }));
        let next = page.next_forward_token().map(str::to_owned);
        if next == token {
            return out;
        }
        token = next;
    }
}

// One test function: the SDK reads credentials from the process environment, set once here.
#[test]
fn the_pusher_delivers_in_order_counts_what_it_cannot_and_pushes_metrics() {
    if skip() {
        return;
    }
    let moto = Moto::start();
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::set_var("AWS_CONFIG_FILE", "/dev/null");
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    std::env::remove_var("AWS_PROFILE");

    // 25,000 events over 30 h in one stream (three calls at least: 10,000 per call, 24 h
    // per call), 3 in another, one too old and one too new in a third.
    let now = Utc::now().timestamp_millis();
    let hours = |h: i64| h * 3_600_000;
    let big: Vec<LogEvent> = (0..25_000)
        .map(|i| LogEvent {
            timestamp: now - hours(30) + i * (hours(30) / 25_000),
            message: format!("{{\"n\":{i},\"details\":\"event {i}\"}}"),
        })
        .collect();
    let small: Vec<LogEvent> = (0..3)
        .map(|i| LogEvent {
            timestamp: now - 1000 + i,
            message: format!("small {i}"),
        })
        .collect();
    let pusher = start(&moto.url);
    pusher.open(GROUP, "big");
    pusher.open(GROUP, "empty");
    for e in &big {
        pusher.send(GROUP, "big", e.clone());
    }
    for e in &small {
        pusher.send(GROUP, "small", e.clone());
    }
    pusher.flush();
    pusher.send(
        GROUP,
        "outside",
        LogEvent {
            timestamp: now - hours(15 * 24),
            message: "too old".into(),
        },
    );
    pusher.send(
        GROUP,
        "outside",
        LogEvent {
            timestamp: now + hours(3),
            message: "too new".into(),
        },
    );
    let datums: Vec<MetricDatum> = (0..1500)
        .map(|i| MetricDatum {
            name: TUNNEL_STATE,
            vpn_id: "vpn-0a1b2c3d".into(),
            tunnel_ip: format!("127.0.{}.{}", i / 250, i % 250 + 1),
            timestamp: Utc::now() - chrono::Duration::minutes(5),
            value: f64::from(i % 2),
            unit: "None",
        })
        .collect();
    pusher.metrics(datums);
    let report = pusher.finish();
    eprintln!("{report}");

    assert_eq!(report.delivered, 25_003, "{report}");
    assert_eq!(report.undelivered, 2, "{report}");
    assert_eq!(report.metric_datums, 1500, "{report}");
    assert!(!report.complete());
    let reason = report.first_error.clone().unwrap_or_default();
    assert!(reason.contains("older than the 14 days"), "{reason}");
    let calls = |name: &str| {
        report
            .streams
            .iter()
            .find(|s| s.stream == name)
            .map(|s| (s.delivered, s.undelivered, s.calls))
    };
    let (delivered, _, big_calls) = calls("big").expect("the big stream's report");
    assert_eq!(delivered, 25_000);
    assert!(big_calls >= 3, "{report}");
    assert_eq!(calls("empty"), Some((0, 0, 0)));
    assert_eq!(calls("small"), Some((3, 0, 1)));
    assert_eq!(calls("outside"), Some((0, 2, 0)));
    let text = report.to_string();
    assert!(
        text.contains("2 events and 0 metric datums NOT delivered"),
        "{text}"
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(http)
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&moto.url)
            .load()
            .await;
        let client = aws_sdk_cloudwatchlogs::Client::new(&sdk);
        assert_eq!(read_stream(&client, "big").await, big);
        assert_eq!(read_stream(&client, "small").await, small);
        assert!(read_stream(&client, "empty").await.is_empty());
        let streams = client
            .describe_log_streams()
            .log_group_name(GROUP)
            .send()
            .await
            .expect("DescribeLogStreams");
        let mut names: Vec<_> = streams
            .log_streams()
            .iter()
            .filter_map(|s| s.log_stream_name())
            .collect();
        names.sort_unstable();
        // "outside" had no event to put: a stream is created when opened or first put.
        assert_eq!(names, ["big", "empty", "small"]);
    });

    // Nothing listens on moto's port once it is gone: every event is counted, none lost.
    let url = moto.url.clone();
    drop(moto);
    let pusher = start(&url);
    for e in &small {
        pusher.send(GROUP, "small", e.clone());
    }
    let report = pusher.finish();
    assert_eq!((report.delivered, report.undelivered), (0, 3), "{report}");
    let reason = report.first_error.unwrap_or_default();
    assert!(reason.contains("could not reach the endpoint"), "{reason}");
}
