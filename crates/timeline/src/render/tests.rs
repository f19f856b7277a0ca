//! The renderer's output without a browser: the page's structure, the laid-out plan it
//! embeds, the collapsing rule's thresholds, and escaping against a hostile model.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::labels::{collapsed_label, span};
use super::layout::{KEEP_BURSTS, MAX_COLLAPSE_SPAN_US, MIN_COLLAPSE_SPAN_US};
use super::{base64, render_html};
use crate::{
    Datagram, Event, Fate, Lane, LaneKind, Message, PayloadView, Protection, RecordMark, Timeline,
    TimerMark, What,
};

#[path = "../../../../tests/timeline/fixture.rs"]
pub(super) mod fixture;

/// The JSON plan inside the page, decoded as the page's script decodes it.
fn plan_of(page: &str) -> Value {
    let open = "<script type=\"application/json\" id=\"timeline-data\">";
    let start = page
        .find(open)
        .map(|i| i + open.len())
        .expect("the plan's script element");
    let end = start + page[start..].find("</script>").expect("its end");
    serde_json::from_str(&page[start..end]).expect("the plan is JSON")
}

fn items(plan: &Value) -> Vec<&Value> {
    plan["segments"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["items"].as_array().into_iter().flatten())
        .collect()
}

/// A record item's `details`, from its JSON line.
fn details(item: &Value) -> String {
    let json = item["json"].as_str().unwrap_or_default();
    let record: Value = serde_json::from_str(json).unwrap_or_default();
    record["details"].as_str().unwrap_or_default().to_owned()
}

fn arrows<'a>(plan: &'a Value, label: &str) -> Vec<&'a Value> {
    items(plan)
        .into_iter()
        .filter(|i| i["k"] == "d" && i["label"] == label)
        .collect()
}

/// An arrow's payload line (in its shape).
fn line<'a>(plan: &'a Value, arrow: &Value) -> &'a Value {
    &plan["shapes"][arrow["shape"].as_u64().unwrap() as usize]["line"]
}

#[test]
fn the_psk_mismatch_page_holds_its_lanes_arrows_marks_and_records() {
    let page = render_html(&fixture::psk_mismatch());
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<title>ikesim run ikev2-psk-mismatch --seed 1</title>"));
    assert!(
        page.contains("3 lost") || page.contains("(1 lost, 1 retransmissions)"),
        "{page:.2000}"
    );
    let plan = plan_of(&page);
    let lanes: Vec<&str> = plan["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(lanes, ["CGW (tunnel 1)", "AWS tunnel 1"]);

    let auth = arrows(&plan, "IKE_AUTH #1 request (I)");
    assert_eq!(auth.len(), 2, "the lost one and its retransmission");
    assert_eq!(
        line(&plan, auth[0]),
        "SK{IDi, AUTH, SA, TSi, TSr, N(INITIAL_CONTACT)}"
    );
    assert_eq!(
        auth[0]["shape"], auth[1]["shape"],
        "the same bytes, one shape"
    );
    assert_eq!(auth[0]["lost"], "loss");
    assert_eq!(auth[0]["tx"], 1);
    assert_eq!(auth[1]["tx"], 2);
    assert!(auth[1].get("lost").is_none());
    let failed = arrows(&plan, "IKE_AUTH #1 response (R)");
    assert_eq!(line(&plan, failed[0]), "SK{N(AUTHENTICATION_FAILED)}");
    assert_eq!(
        line(&plan, arrows(&plan, "IKE_SA_INIT #0 request (I)")[0]),
        "SA, KE, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP)"
    );
    assert_eq!(
        arrows(&plan, "IKE_SA_INIT #0 request (I)")[1]["delay"],
        180_000
    );
    let init_requests = arrows(&plan, "IKE_SA_INIT #0 request (I)");
    assert_eq!(init_requests[0].get("delayed"), None);
    assert_eq!(init_requests[1]["delayed"], true);
    assert_eq!(failed[0]["reply"], true);
    let init_answers = arrows(&plan, "IKE_SA_INIT #0 response (R)");
    assert_eq!(init_answers.iter().filter(|a| a["dup"] == true).count(), 1);

    // The payloads' full decode is there once each, for the detail pane.
    let payloads = plan["payloads"].as_array().unwrap();
    let idi: Vec<&Value> = payloads.iter().filter(|p| p["name"] == "IDi").collect();
    assert_eq!(idi.len(), 1, "interned");
    assert_eq!(idi[0]["detail"], "ID_IPV4_ADDR 127.0.2.1");

    // The records sit where the retransmitted IKE_AUTH arrives: the arrow points at them.
    let records: Vec<&Value> = items(&plan).into_iter().filter(|i| i["k"] == "r").collect();
    assert_eq!(records.len(), 5);
    let mismatch = records
        .iter()
        .find(|r| details(r).contains("pre-shared key mismatch"))
        .unwrap();
    assert_eq!(auth[1]["y1"], mismatch["y"]);
    assert!(mismatch["json"]
        .as_str()
        .unwrap()
        .contains("\"event_timestamp\":1767225602035"));
    let timers: Vec<&str> = items(&plan)
        .into_iter()
        .filter(|i| i["k"] == "t")
        .map(|t| t["timer"].as_str().unwrap())
        .collect();
    assert_eq!(timers, ["retransmit", "half-open"]);

    // Rows go down in time; the 180 ms delayed IKE_SA_INIT slants further than the others.
    let init = arrows(&plan, "IKE_SA_INIT #0 request (I)");
    let slant = |a: &Value| a["y1"].as_u64().unwrap() - a["y0"].as_u64().unwrap();
    assert!(
        slant(init[1]) > slant(init[0]),
        "{} vs {}",
        slant(init[1]),
        slant(init[0])
    );
    // Nothing collapses in a 42-second failure; the 30 s of silence is no gap row either.
    assert!(plan["segments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["collapsed"] == false));
}

#[test]
fn dpd_stretches_collapse_and_the_collision_stays_shown() {
    let plan = plan_of(&render_html(&fixture::rekey_collision()));
    let segments = plan["segments"].as_array().unwrap();
    let shape: Vec<bool> = segments.iter().map(|s| s["collapsed"] == true).collect();
    assert_eq!(
        shape,
        [false, true, false],
        "setup, the DPD stretch, the collision"
    );
    assert_eq!(segments[1]["label"], "… 47 min: 283 DPD exchanges …");
    // The collapsed stretch is laid out all the same, for when it is expanded: its first
    // and last KEEP_BURSTS exchanges, and a row for the 183 between them.
    assert_eq!(
        segments[1]["items"].as_array().unwrap().len(),
        2 * KEEP_BURSTS * 3 + 1
    );
    let collision = &segments[2];
    let requests: Vec<&Value> = collision["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["k"] == "d" && i["label"].as_str().unwrap().starts_with("CREATE_CHILD_SA"))
        .filter(|i| i["label"].as_str().unwrap().contains("request"))
        .collect();
    assert_eq!(requests.len(), 2, "both sides' requests");
    assert_eq!(requests[0]["from"], 1);
    assert_eq!(requests[1]["from"], 0);
    assert_eq!(
        line(&plan, requests[0]),
        "SK{N(REKEY_SA), SA, Ni, TSi, TSr}"
    );
    assert!(collision["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["k"] == "r" && details(i).contains("redundant SA is being deleted")));
    // Gap rows tell the silence between setup and the first DPD (7 min), and the folded
    // stretch's exchanges it does not draw.
    let gaps: Vec<&str> = items(&plan)
        .iter()
        .filter(|i| i["k"] == "g")
        .filter_map(|i| i["text"].as_str())
        .collect();
    let elided = |g: &str| g.starts_with("… 183 more like these over ");
    assert_eq!(gaps.iter().filter(|g| elided(g)).count(), 1, "{gaps:?}");
    assert!(
        gaps.iter().all(|g| elided(g) || *g == "7 min later"),
        "{gaps:?}"
    );
}

/// A timeline of a DPD exchange every `every_s` for `count` exchanges after the setup.
fn dpd_run(count: u32, every_s: u64) -> Timeline {
    let mut t = fixture::psk_mismatch();
    t.events.truncate(3);
    for n in 0..count {
        fixture::dpd(
            &mut t.events,
            60_000_000 + u64::from(n) * every_s * 1_000_000,
            n,
        );
    }
    t
}

fn collapsed(t: &Timeline) -> Vec<String> {
    let plan = plan_of(&render_html(t));
    plan["segments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["collapsed"] == true)
        .map(|s| s["label"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn collapsing_thresholds() {
    // Three bursts spanning just under 10 minutes stay shown; at 10 minutes they collapse.
    let under = (MIN_COLLAPSE_SPAN_US / 1_000_000 - 1) / 2;
    assert_eq!(collapsed(&dpd_run(3, under)), Vec::<String>::new());
    assert_eq!(collapsed(&dpd_run(3, 300)), ["… 10 min: 3 DPD exchanges …"]);
    // Two bursts stay shown however far apart (a rekey an hour is no idle stretch).
    assert_eq!(collapsed(&dpd_run(2, 3600)), Vec::<String>::new());
    // Three days of DPD every 10 s: a bar a day.
    let days = MAX_COLLAPSE_SPAN_US / 1_000_000 / 10;
    let bars = collapsed(&dpd_run(u32::try_from(3 * days).unwrap(), 10));
    assert_eq!(bars.len(), 3, "{bars:?}");
    assert_eq!(bars[0], "… 23 h 59 min: 8640 DPD exchanges …");
    // A lost DPD request keeps its burst (and so the stretch around it) apart.
    let mut t = dpd_run(12, 150);
    if let What::Datagram(d) = &mut t.events[3 + 5 * 3 + 1].what {
        d.fate = Fate::Lost {
            reason: "blackhole".into(),
        };
    }
    assert_eq!(
        collapsed(&t),
        ["… 10 min: 5 DPD exchanges …", "… 12 min: 6 DPD exchanges …"]
    );
}

/// A day of DPD every 10 s folds into one bar whose expansion draws the first and last
/// `KEEP_BURSTS` exchanges and one row for the rest; the totals still count them all.
#[test]
fn a_long_folded_stretch_draws_its_ends_and_counts_the_middle() {
    let exchanges = 8640;
    let plan = plan_of(&render_html(&dpd_run(exchanges, 10)));
    let segments = plan["segments"].as_array().unwrap();
    let bar = segments.iter().find(|s| s["collapsed"] == true).unwrap();
    assert_eq!(bar["label"], "… 23 h 59 min: 8640 DPD exchanges …");
    let items = bar["items"].as_array().unwrap();
    // Each DPD exchange is a timer, a request and a response.
    let arrows = items.iter().filter(|i| i["k"] == "d").count();
    assert_eq!(arrows, 2 * 2 * KEEP_BURSTS);
    let gaps: Vec<&str> = items
        .iter()
        .filter(|i| i["k"] == "g")
        .filter_map(|i| i["text"].as_str())
        .collect();
    let elided = exchanges as usize - 2 * KEEP_BURSTS;
    assert!(
        gaps.iter().any(
            |g| g.starts_with(&format!("… {elided} more like these over "))
                && g.contains(&format!("{elided} DPD exchanges"))
        ),
        "{gaps:?}"
    );
    assert_eq!(plan["counts"]["datagrams"], 2 + 2 * u64::from(exchanges));
    assert_eq!(plan["counts"]["timers"], u64::from(exchanges));
    // Fewer than 2 × KEEP_BURSTS + 2 bursts: every one is drawn.
    let plan = plan_of(&render_html(&dpd_run(101, 10)));
    let all: usize = plan["segments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["items"].as_array().unwrap())
        .filter(|i| i["k"] == "d")
        .count();
    assert_eq!(all, 2 + 2 * 101);
}

#[test]
fn a_month_of_rekeys_is_a_small_page_with_a_bar_a_day() {
    let t = fixture::month(30, None);
    let page = render_html(&t);
    let plan = plan_of(&page);
    let segments = plan["segments"].as_array().unwrap();
    assert_eq!(
        segments.iter().filter(|s| s["collapsed"] == true).count(),
        30
    );
    let first = segments.iter().find(|s| s["collapsed"] == true).unwrap();
    assert_eq!(
        first["label"],
        "… 23 h 50 min: 87 records, 27 CHILD SA rekeys, 27 deletes, 3 IKE SA rekeys …"
    );
    assert!(page.len() < 3_000_000, "{} bytes", page.len());
}

#[test]
fn a_nat_is_a_lane_every_arrow_passes() {
    let plan = plan_of(&render_html(&fixture::behind_nat(fixture::psk_mismatch())));
    let lanes: Vec<(&str, u64)> = plan["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["kind"].as_str().unwrap(), l["x"].as_u64().unwrap()))
        .collect();
    assert_eq!(lanes, [("cgw", 270), ("nat", 610), ("aws", 950)]);
    let all = items(&plan);
    assert!(all.iter().filter(|i| i["k"] == "d").all(|a| a["via"] == 1));
    assert!(all.iter().filter(|i| i["k"] == "r").all(|r| r["lane"] == 2));
    let auth = arrows(&plan, "IKE_AUTH #1 request (I)");
    assert_eq!(
        (auth[0]["from"].as_u64(), auth[0]["to"].as_u64()),
        (Some(0), Some(2))
    );
}

fn hostile_parts() -> (String, Value) {
    let page = render_html(&fixture::hostile());
    let plan = plan_of(&page);
    (page, plan)
}

#[test]
fn hostile_strings_stay_text() {
    let (page, plan) = hostile_parts();
    // Exactly the page's own two script elements, opened and closed; no markup from the model.
    assert_eq!(page.matches("<script").count(), 2);
    assert_eq!(page.matches("</script>").count(), 2);
    assert!(!page.contains("<img"));
    assert!(!page.contains("<!--"));
    let json = &page[page.find("id=\"timeline-data\"").unwrap()..];
    assert!(!json.contains('\u{2028}') && json.contains("\\u2028"));
    assert!(page.contains("<title>serve &lt;/script&gt;&lt;img src=x onerror=&quot;document.title=&#39;pwned&#39;&quot;&gt;&lt;!--\u{2028}&amp;amp;</title>")
        || page.contains("<title>serve &lt;/script&gt;&lt;img src=x onerror=&quot;document.title=&#39;pwned&#39;&quot;&gt;&lt;!--"));
    // … and the script still gets every string back exactly.
    assert_eq!(plan["title"], format!("serve {}", fixture::HOSTILE));
    assert_eq!(
        plan["lanes"][0]["name"],
        format!("CGW {}", fixture::HOSTILE)
    );
    let idi = plan["payloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "IDi")
        .unwrap();
    assert_eq!(idi["summary"], fixture::HOSTILE);
}

#[test]
fn the_policy_allows_exactly_the_pages_own_script_and_style() {
    let page = render_html(&fixture::psk_mismatch());
    let csp_at = page.find("Content-Security-Policy\" content=\"").unwrap();
    let csp = &page[csp_at..page[csp_at..].find("\">").unwrap() + csp_at];
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let script_start = page.rfind("<script>").unwrap() + "<script>".len();
    let script =
        &page[script_start..script_start + page[script_start..].find("</script>").unwrap()];
    assert_eq!(script, super::JS);
    assert!(csp.contains(&format!("script-src '{}'", super::csp_hash(script))));
    assert!(csp.contains(&format!("style-src '{}'", super::csp_hash(super::CSS))));
    // RFC 4648 §10's test vectors.
    let vectors = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foobar", "Zm9vYmFy"),
    ];
    for (input, output) in vectors {
        assert_eq!(base64(input.as_bytes()), output);
    }
    // No address or URL for the browser to fetch.
    for needle in ["http://", "https://", "src=", "href=", "@import", "url("] {
        let outside_svg_namespace = page
            .replace("http://www.w3.org/2000/svg", "")
            .replace("url(#head-", "");
        assert!(
            !outside_svg_namespace.contains(needle),
            "the page holds {needle}"
        );
    }
}

#[test]
fn labels_of_what_ikesim_cannot_read_and_of_what_is_not_ike() {
    use super::labels::{exchange_label, payload_line};
    // A real CGW's IKE_AUTH under a key that does not match: the SK payload, contents unknown.
    let mut m = fixture::v2(
        "IKE_AUTH",
        1,
        false,
        true,
        vec![fixture::payload("SK", "240 bytes", "", false)],
    );
    m.protection = Protection::Opaque;
    assert_eq!(exchange_label(&m), "IKE_AUTH #1 request (I)");
    assert_eq!(payload_line(&m), "SK{?}");
    // The responder's own request carries neither flag; its answer to the initiator R only.
    let m = fixture::v2(
        "INFORMATIONAL",
        7,
        false,
        false,
        vec![fixture::payload("SK", "", "", false)],
    );
    assert_eq!(
        (exchange_label(&m), payload_line(&m)),
        ("INFORMATIONAL #7 request".to_owned(), "SK{}".to_owned())
    );
    let mut m = fixture::v2("INFORMATIONAL", 7, true, false, vec![]);
    assert_eq!(exchange_label(&m), "INFORMATIONAL #7 response (R)");
    // A decrypted empty SK (the collector leaves no SK view in place of the contents).
    m.protection = Protection::Decrypted;
    assert_eq!(payload_line(&m), "SK{}");
    // IKEv1: main mode's clear payloads, and a NAT-keepalive (not IKE).
    let mut v1 = fixture::v2(
        "Identity Protection (Main Mode)",
        0,
        false,
        true,
        vec![
            fixture::payload("SA", "", "", false),
            fixture::payload("VID", "RFC 3706 DPD", "", false),
        ],
    );
    v1.ike_version = 1;
    assert_eq!(
        exchange_label(&v1),
        "Identity Protection (Main Mode) #0 request (I)"
    );
    assert_eq!(payload_line(&v1), "SA, VID");
    // Main mode 5: encrypted after the header, no SK payload.
    v1.payloads = vec![
        fixture::payload("ID", "", "", true),
        fixture::payload("HASH", "", "", true),
    ];
    assert_eq!(payload_line(&v1), "{ID, HASH}");
    let keepalive = Message {
        ike_version: 0,
        exchange: "NAT-keepalive".into(),
        message_id: 0,
        response: false,
        initiator: false,
        spis: String::new(),
        payloads: vec![],
        protection: Protection::Plain,
    };
    assert_eq!(
        (exchange_label(&keepalive), payload_line(&keepalive)),
        ("NAT-keepalive".to_owned(), String::new())
    );
}

#[test]
fn words() {
    assert_eq!(span(850_000), "850 ms");
    assert_eq!(span(12_000_000), "12 s");
    assert_eq!(span(47 * 60_000_000), "47 min");
    assert_eq!(span(3 * 3_600_000_000 + 12 * 60_000_000), "3 h 12 min");
    assert_eq!(span(6 * 86_400_000_000 + 4 * 3_600_000_000), "6 d 4 h");
    let counts = [
        ("DPD exchanges".to_owned(), 283),
        ("CHILD SA rekeys".to_owned(), 1),
    ];
    assert_eq!(
        collapsed_label(47 * 60_000_000, &counts),
        "… 47 min: 283 DPD exchanges, 1 CHILD SA rekey …"
    );
}

#[test]
fn an_empty_or_inconsistent_model_still_renders() {
    let mut t = Timeline {
        title: String::new(),
        origin: DateTime::<Utc>::default(),
        lanes: vec![],
        events: vec![],
        esp: vec![],
    };
    let plan = plan_of(&render_html(&t));
    assert_eq!(plan["segments"].as_array().unwrap().len(), 0);
    // Lanes out of range, an arrival before the send: skipped or drawn flat, never a panic.
    t.lanes.push(Lane {
        name: "CGW".into(),
        kind: LaneKind::Cgw,
        address: String::new(),
        tunnel: None,
    });
    let message = Message {
        ike_version: 2,
        exchange: "IKE_SA_INIT".into(),
        message_id: 0,
        response: false,
        initiator: true,
        spis: String::new(),
        payloads: vec![PayloadView {
            name: "SA".into(),
            summary: String::new(),
            detail: String::new(),
            encrypted: false,
        }],
        protection: Protection::Plain,
    };
    let datagram = |to| Datagram {
        from: 0,
        to,
        via: Some(9),
        src: String::new(),
        dst: String::new(),
        len: 0,
        transmission: 1,
        duplicate: false,
        fate: Fate::Delivered { at_us: 0 },
        message: message.clone(),
    };
    t.events = vec![
        Event {
            at_us: 5,
            what: What::Datagram(Box::new(datagram(7))),
        },
        Event {
            at_us: 5,
            what: What::Datagram(Box::new(datagram(0))),
        },
        Event {
            at_us: 6,
            what: What::Timer(TimerMark {
                lane: 3,
                timer: "DPD".into(),
                sa: String::new(),
            }),
        },
        Event {
            at_us: 7,
            what: What::Record(RecordMark {
                lane: 4,
                stream: String::new(),
                details: String::new(),
                phase1: String::new(),
                phase2: String::new(),
                json: String::new(),
            }),
        },
    ];
    let plan = plan_of(&render_html(&t));
    let all = items(&plan);
    assert_eq!(all.len(), 1, "only the datagram between known lanes");
    // Events out of time order (a producer's bug) still lay out, collapsing included.
    let mut shuffled = dpd_run(20, 60);
    shuffled.events.reverse();
    let plan = plan_of(&render_html(&shuffled));
    assert_eq!(items(&plan).len(), shuffled.events.len());
    assert!(all[0].get("via").is_none());
    assert!(all[0]["y1"].as_u64() > all[0]["y0"].as_u64());
}
