//! The `--timeline` page in a real browser: headless Chromium opens each page from disk
//! (`--dump-dom` for the DOM after the page's script ran, `--screenshot` for a PNG) and the
//! tests check that the script ran without errors and painted what the page's own plan
//! says — every lane, every arrow with its label, retransmission and loss marks, every
//! record — for `ikesim run ikev2-psk-mismatch --timeline` and
//! `ikesim run ikev2-child-rekey-collision --timeline`, for hand-built timelines
//! (tests/timeline/fixture.rs) including a hostile one, and a 30-day run's size and open
//! time (printed, not asserted: no timed assertions).
//!
//! Without Chromium each test says `skipped: needs chromium …` and passes; with
//! IKESIM_REQUIRE_PEERS=1 (CI) it fails. `IKESIM_UPDATE_SCREENSHOTS=1` copies the
//! screenshots to docs/timeline-*.png.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::{can_run, repo, run, temp_dir, Need, CHROMIUM};
use serde_json::Value;
// The fixture's imports (it says `use super::…`).
use timeline::{
    Datagram, Event, Fate, Lane, LaneKind, Message, PayloadView, Protection, RecordMark, Timeline,
    TimerMark, What,
};

#[path = "timeline/fixture.rs"]
mod fixture;

/// A guard against a wedged browser (not an assertion on speed).
const BROWSER_LIMIT: Duration = Duration::from_secs(180);

/// Runs headless Chromium on `page` with `args`, in a fresh profile; returns stdout.
fn chromium(dir: &Path, page: &Path, args: &[String]) -> String {
    let profile = dir.join(format!(
        "profile-{}",
        page.file_stem().and_then(|s| s.to_str()).unwrap_or("page")
    ));
    let _ = std::fs::remove_dir_all(&profile);
    let url = format!("file://{}", page.display());
    // Output to files, not pipes: a DOM larger than a pipe's buffer would block Chromium
    // while this waits for it to exit.
    let stdout_path = profile.with_extension("stdout");
    let stderr_path = profile.with_extension("stderr");
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            "--force-color-profile=srgb",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("create chromium's stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("create chromium's stderr file"))
        .spawn()
        .expect("start chromium");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if started.elapsed() > BROWSER_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish {url} within {BROWSER_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = std::fs::read(&stdout_path).expect("chromium's stdout");
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(
        status.success(),
        "chromium {args:?} {url} failed ({status}): {stderr}"
    );
    let _ = std::fs::remove_dir_all(&profile);
    String::from_utf8_lossy(&stdout).into_owned()
}

/// The DOM of `page` (optionally `#fragment`) after its script ran.
fn dump_dom(dir: &Path, page: &Path, fragment: &str) -> String {
    let target = if fragment.is_empty() {
        page.to_path_buf()
    } else {
        // Chromium takes the fragment as part of the URL; a path with '#' would be a file name.
        PathBuf::from(format!("{}#{fragment}", page.display()))
    };
    chromium(dir, &target, &["--dump-dom".to_owned()])
}

/// Takes a screenshot of `page` (at `#fragment` when not empty); checks it is a PNG of some
/// substance; returns its path.
fn screenshot(dir: &Path, page: &Path, fragment: &str, name: &str) -> PathBuf {
    screenshot_with(dir, page, fragment, name, &[])
}

/// [`screenshot`] with more Chromium flags (`--force-dark-mode`: the reader's system is dark).
fn screenshot_with(dir: &Path, page: &Path, fragment: &str, name: &str, flags: &[&str]) -> PathBuf {
    let png = dir.join(format!("{name}.png"));
    let target = if fragment.is_empty() {
        page.to_path_buf()
    } else {
        PathBuf::from(format!("{}#{fragment}", page.display()))
    };
    let mut args = vec![
        format!("--screenshot={}", png.display()),
        "--window-size=1600,1000".into(),
    ];
    args.extend(flags.iter().map(|f| (*f).to_owned()));
    chromium(dir, &target, &args);
    let bytes = std::fs::read(&png).expect("chromium wrote the screenshot");
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        png.display()
    );
    assert!(
        bytes.len() > 20_000,
        "{} is only {} bytes: a blank page?",
        png.display(),
        bytes.len()
    );
    if std::env::var("IKESIM_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
        let docs = repo().join("docs").join(format!("timeline-{name}.png"));
        std::fs::copy(&png, &docs).expect("copy the screenshot into docs/");
    }
    png
}

/// The plan the page embeds (what its script paints), decoded.
fn plan_of(page: &str) -> Value {
    let open = "<script type=\"application/json\" id=\"timeline-data\">";
    let start = page
        .find(open)
        .map(|i| i + open.len())
        .expect("the plan's script element");
    let end = start + page[start..].find("</script>").expect("its end");
    serde_json::from_str(&page[start..end]).expect("the plan is JSON")
}

/// The items of the segments painted at open (all of them when `expanded`).
fn shown_items(plan: &Value, expanded: bool) -> Vec<&Value> {
    plan["segments"]
        .as_array()
        .expect("segments")
        .iter()
        .filter(|s| expanded || s["collapsed"] == false)
        .flat_map(|s| s["items"].as_array().expect("items"))
        .collect()
}

/// Text content as the DOM serializes it.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// What a browser test checks on every page: the script ran to its end without an error,
/// and the DOM holds every lane head, every shown arrow (with its label), retransmission
/// and loss mark, timer and record of the page's plan. Returns the DOM.
fn check_painted(dir: &Path, page_path: &Path, expanded: bool) -> (String, Value) {
    let page = std::fs::read_to_string(page_path).expect("read the page");
    let plan = plan_of(&page);
    let dom = dump_dom(dir, page_path, if expanded { "expand-all" } else { "" });
    assert!(
        dom.contains("data-status=\"rendered\""),
        "the script did not finish: {}",
        &dom[dom.find("<body").unwrap_or(0)..]
            .chars()
            .take(3000)
            .collect::<String>()
    );
    assert!(
        dom.contains("<ul id=\"script-errors\" hidden=\"\"></ul>"),
        "script errors: {}",
        dom.split("id=\"script-errors\"")
            .nth(1)
            .unwrap_or("")
            .chars()
            .take(2000)
            .collect::<String>()
    );
    for lane in plan["lanes"].as_array().expect("lanes") {
        let name = lane["name"].as_str().expect("lane name");
        let kind = lane["kind"].as_str().expect("lane kind");
        assert!(
            dom.contains(&format!("class=\"lane-head {kind}\"")),
            "no {kind} lane head"
        );
        assert!(
            dom.contains(&format!("<b>{}</b>", escaped(name))),
            "no lane head {name}"
        );
    }
    let items = shown_items(&plan, expanded);
    let kind = |k: &str| items.iter().filter(|i| i["k"] == k).count();
    let marked = |needle: &str| dom.matches(needle).count();
    assert_eq!(
        marked("role=\"button\" data-item=\""),
        items.iter().filter(|i| i["k"] != "g").count()
    );
    assert_eq!(
        marked(" class=\"dg"),
        kind("d"),
        "one painted arrow per datagram"
    );
    assert_eq!(marked(" class=\"rec\""), kind("r"), "one mark per record");
    assert_eq!(marked(" class=\"timer\""), kind("t"), "one mark per timer");
    let arrows: Vec<&&Value> = items.iter().filter(|i| i["k"] == "d").collect();
    let retransmitted = arrows.iter().filter(|a| a["tx"].as_u64() > Some(1)).count();
    assert_eq!(
        marked("class=\"label\" text-anchor=\"middle\">↻ retransmission "),
        retransmitted,
        "retransmission marks"
    );
    let lost = arrows.iter().filter(|a| a.get("lost").is_some()).count();
    assert_eq!(marked(">✕ lost: "), lost, "loss marks");
    assert_eq!(
        marked(" class=\"cross\""),
        lost,
        "a cross on every lost arrow"
    );
    let via = arrows
        .iter()
        .filter(|a| a.get("via").is_some() && a.get("lost").is_none())
        .count();
    assert_eq!(
        marked(" class=\"via\""),
        via,
        "a dot where an arrow passes the NAT"
    );
    // Every <text> element's content (what ends in `</text>`, after its last tag), a
    // retransmission's or duplicate's also without its mark.
    let texts: std::collections::HashSet<&str> = dom
        .split("</text>")
        .filter_map(|piece| piece.rsplit('>').next())
        .flat_map(|t| {
            let marked = t.starts_with('↻') || t.starts_with('⇉');
            [Some(t), marked.then(|| t.rsplit(": ").next()).flatten()]
        })
        .flatten()
        .collect();
    for arrow in &arrows {
        let label = escaped(arrow["label"].as_str().expect("label"));
        assert!(texts.contains(label.as_str()), "no arrow labelled {label}");
    }
    let collapsed = plan["segments"]
        .as_array()
        .expect("segments")
        .iter()
        .filter(|s| s["collapsed"] == true)
        .count();
    assert_eq!(
        marked("class=\"bar\""),
        collapsed,
        "a bar per collapsed stretch"
    );
    (dom, plan)
}

/// The detail pane's content with item `which` (`SEGMENT:ITEM`) kept in it
/// (`FILE.html#show=…`), after checking the script ran without errors.
fn detail_pane(dir: &Path, page: &Path, which: &str) -> String {
    let dom = dump_dom(dir, page, &format!("show={which}"));
    assert!(
        dom.contains("data-status=\"rendered\""),
        "the script did not finish"
    );
    assert!(
        dom.contains("<ul id=\"script-errors\" hidden=\"\"></ul>"),
        "script errors: {}",
        dom.split("id=\"script-errors\"")
            .nth(1)
            .unwrap_or("")
            .chars()
            .take(2000)
            .collect::<String>()
    );
    let start = dom.find("<aside id=\"detail\"").expect("the detail pane");
    let end = start + dom[start..].find("</aside>").expect("its end");
    dom[start..end].to_owned()
}

fn render_fixture(dir: &Path, name: &str, t: &Timeline) -> PathBuf {
    let path = dir.join(format!("{name}.html"));
    std::fs::write(&path, timeline::render_html(t)).expect("write the page");
    path
}

fn render_ms(dom: &str) -> f64 {
    let at = dom.find("data-ms=\"").expect("the page's own timing") + "data-ms=\"".len();
    dom[at..dom[at..].find('"').expect("its end") + at]
        .parse()
        .expect("a number")
}

#[test]
fn hand_built_psk_mismatch_page_in_chromium() {
    if !can_run(&[Need::Chromium]) {
        return;
    }
    let dir = temp_dir("timeline-fixture");
    let page = render_fixture(&dir, "psk-fixture", &fixture::psk_mismatch());
    let (dom, _) = check_painted(&dir, &page, false);
    // The labels a reader sees.
    for text in [
        "IKE_SA_INIT #0 request (I)</text>",
        ">SK{IDi, AUTH, SA, TSi, TSr, N(INITIAL_CONTACT)}</text>",
        ">↻ retransmission 1: IKE_AUTH #1 request (I)</text>",
        ">✕ lost: loss</text>",
        ">⇉ duplicate: IKE_SA_INIT #0 response (R)</text>",
        ">◷ +180 ms</text>",
        ">SK{N(AUTHENTICATION_FAILED)}</text>",
        ">◔ retransmit timer fired</text>",
        ">◆ AWS tunnel detected a pre-shared key mismatch with cgw: 127.0.2.1</text>",
        ">2026-01-01 00:00:00.005 <tspan class=\"off\">+00:00:00.005</tspan></text>",
    ] {
        assert!(dom.contains(text), "no {text}");
    }
    // Keyboard: every arrow, mark and record is a Tab stop.
    assert_eq!(
        dom.matches("tabindex=\"0\" role=\"button\" data-item=")
            .count(),
        15
    );
    // The detail pane: the retransmitted IKE_AUTH decoded, payload by payload…
    let auth = detail_pane(&dir, &page, "0:6");
    for text in [
        "<h2>↻ IKE_AUTH #1 request (I)</h2>",
        "<dd>retransmission 1</dd>",
        "<dd>CGW (tunnel 1) 127.0.2.1:500</dd>",
        "<b>IDi</b> 127.0.2.1<span class=\"enc\"> (inside SK)</span><pre>ID_IPV4_ADDR 127.0.2.1</pre>",
        "<pre>method 2 (Shared Key Message Integrity Code), 32 bytes</pre>",
        "<b>N(INITIAL_CONTACT)</b>",
    ] {
        assert!(auth.contains(text), "no {text} in {auth}");
    }
    // … the lost one's fate, a record's JSON line, a timer.
    assert!(detail_pane(&dir, &page, "0:4").contains("<dd>lost (loss)</dd>"));
    let record = detail_pane(&dir, &page, "0:7");
    assert!(
        record.contains("\"event_timestamp\":1767225602035"),
        "{record}"
    );
    assert!(record
        .contains("<dd>AWS tunnel detected a pre-shared key mismatch with cgw: 127.0.2.1</dd>"));
    assert!(detail_pane(&dir, &page, "0:5").contains("<h2>◔ retransmit timer fired</h2>"));
    screenshot(&dir, &page, "show=0:6", "psk-fixture");
    // Printable: Chromium's print path (the print stylesheet) makes a PDF of it.
    let pdf = dir.join("psk-fixture.pdf");
    chromium(
        &dir,
        &page,
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".to_owned(),
        ],
    );
    let bytes = std::fs::read(&pdf).expect("chromium printed the page");
    assert!(
        bytes.starts_with(b"%PDF-") && bytes.len() > 10_000,
        "{} bytes",
        bytes.len()
    );
}

#[test]
fn collapsed_stretches_paint_when_expanded() {
    if !can_run(&[Need::Chromium]) {
        return;
    }
    let dir = temp_dir("timeline-collapse");
    let page = render_fixture(&dir, "collision-fixture", &fixture::rekey_collision());
    let (dom, _) = check_painted(&dir, &page, false);
    assert!(dom.contains("▸ … 47 min: 283 DPD exchanges … (click to expand)"));
    let (expanded, _) = check_painted(&dir, &page, true);
    assert!(expanded.contains("▾ … 47 min: 283 DPD exchanges … (click to collapse)"));
    assert!(expanded.matches(" class=\"dg").count() > dom.matches(" class=\"dg").count() + 500);
    screenshot_with(
        &dir,
        &page,
        "",
        "collision-fixture-dark",
        &["--force-dark-mode"],
    );
}

#[test]
fn hostile_strings_stay_text_in_the_browser() {
    if !can_run(&[Need::Chromium]) {
        return;
    }
    let dir = temp_dir("timeline-hostile");
    let page = render_fixture(&dir, "hostile", &fixture::hostile());
    let (dom, _) = check_painted(&dir, &page, false);
    assert!(
        !dom.contains("<img"),
        "markup from the model became an element"
    );
    assert!(
        !dom.contains("pwned</title>"),
        "a handler from the model ran"
    );
    assert!(dom.contains(&format!("<b>CGW {}</b>", escaped(fixture::HOSTILE))));
    // The detail pane shows the hostile ID, the record and the timer as text too.
    for which in ["0:6", "0:7", "0:5"] {
        let pane = detail_pane(&dir, &page, which);
        assert!(
            !pane.contains("<img"),
            "markup from the model in the detail pane"
        );
        assert!(pane.contains(&escaped(fixture::HOSTILE)), "{pane}");
    }
}

/// `ikesim run SCENARIO --timeline` in `dir`; the page's path.
fn run_timeline(dir: &Path, scenario: &str, extra: &[&str]) -> PathBuf {
    let page = dir.join(format!("{scenario}.html"));
    let page_arg = page.to_str().expect("a UTF-8 temp path");
    let mut args = vec!["run", scenario, "--seed", "1", "--timeline", page_arg];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--out", dir.to_str().expect("UTF-8")]);
    let out = run(&args);
    assert!(
        out.status.success(),
        "ikesim {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        page.exists(),
        "ikesim run --timeline wrote no {}",
        page.display()
    );
    page
}

/// An arrow's payload line (`SK{IDi, AUTH, …}`), from its shape.
fn line_of<'a>(plan: &'a Value, arrow: &Value) -> &'a str {
    let shape = arrow["shape"]
        .as_u64()
        .and_then(|s| usize::try_from(s).ok())
        .expect("shape");
    plan["shapes"][shape]["line"]
        .as_str()
        .expect("a payload line")
}

/// The arrows of the plan whose label starts with `prefix`.
fn arrows_labelled<'a>(plan: &'a Value, prefix: &str) -> Vec<&'a Value> {
    shown_items(plan, true)
        .into_iter()
        .filter(|i| i["k"] == "d" && i["label"].as_str().is_some_and(|l| l.starts_with(prefix)))
        .collect()
}

#[test]
fn ikev2_psk_mismatch_timeline_in_chromium() {
    if !can_run(&[Need::Chromium]) {
        return;
    }
    let dir = temp_dir("timeline-psk");
    let page = run_timeline(&dir, "ikev2-psk-mismatch", &[]);
    let (dom, plan) = check_painted(&dir, &page, false);
    let kinds: Vec<&str> = plan["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"cgw") && kinds.contains(&"aws"),
        "lanes {kinds:?}"
    );
    assert!(!arrows_labelled(&plan, "IKE_SA_INIT #0 request").is_empty());
    let auth = arrows_labelled(&plan, "IKE_AUTH #1 request");
    assert!(!auth.is_empty(), "no IKE_AUTH request");
    let line = line_of(&plan, auth[0]);
    for payload in ["IDi", "AUTH", "SA", "TSi", "TSr"] {
        assert!(line.contains(payload), "IKE_AUTH carries {line}");
    }
    let answers = arrows_labelled(&plan, "IKE_AUTH #1 response");
    assert!(
        answers
            .iter()
            .any(|a| line_of(&plan, a).contains("N(AUTHENTICATION_FAILED)")),
        "AWS's AUTHENTICATION_FAILED answer"
    );
    assert!(
        dom.contains(">◆ AWS tunnel detected a pre-shared key mismatch"),
        "the AWS record"
    );
    assert!(
        dom.contains("SK{IDi, AUTH"),
        "the decrypted IKE_AUTH on the page"
    );
    screenshot(&dir, &page, "", "psk-mismatch");
}

#[test]
fn ikev2_child_rekey_collision_timeline_in_chromium() {
    if !can_run(&[Need::Chromium]) {
        return;
    }
    let dir = temp_dir("timeline-collision");
    let page = run_timeline(&dir, "ikev2-child-rekey-collision", &[]);
    let (dom, plan) = check_painted(&dir, &page, false);
    // Both sides' CREATE_CHILD_SA requests are shown (the collision is never collapsed).
    let requests: Vec<&Value> = shown_items(&plan, false)
        .into_iter()
        .filter(|i| i["k"] == "d")
        .filter(|i| {
            i["label"]
                .as_str()
                .is_some_and(|l| l.starts_with("CREATE_CHILD_SA") && l.contains("request"))
        })
        .filter(|i| line_of(&plan, i).contains("TSi"))
        .collect();
    let senders: std::collections::BTreeSet<u64> =
        requests.iter().filter_map(|r| r["from"].as_u64()).collect();
    assert!(
        senders.len() >= 2,
        "CHILD SA rekey requests from both sides: {requests:?}"
    );
    assert!(
        dom.contains(">◆ AWS tunnel (CHILD_SA) redundant SA is being deleted"),
        "the collision record"
    );
    screenshot(&dir, &page, "", "rekey-collision");
}

/// A 30-day page's size and open time in Chromium, printed for docs/timeline.md.
fn measure(dir: &Path, page: &Path) {
    let bytes = std::fs::metadata(page).expect("the page").len();
    assert!(bytes < 5_000_000, "{} is {bytes} bytes", page.display());
    let (dom, plan) = check_painted(dir, page, false);
    let (expanded, _) = check_painted(dir, page, true);
    eprintln!(
        "{}: {bytes} bytes, {} datagrams, {} records, {} collapsed stretches; drawn in {:.0} ms \
         (with every stretch expanded: {:.0} ms)",
        page.file_name().and_then(|n| n.to_str()).unwrap_or("page"),
        plan["counts"]["datagrams"],
        plan["counts"]["records"],
        plan["counts"]["collapsed"],
        render_ms(&dom),
        render_ms(&expanded),
    );
}

/// Generated months: steady traffic (CHILD SA rekeys every 55 min, IKE SA rekeys every
/// 7.5 h), and the same behind a NAT with DPD every 10 min too: `cargo test -p ikesim --test timeline -- --nocapture thirty_day` prints the figures.
#[test]
fn thirty_day_fixture_page_stays_small_and_opens_fast() {
    if !can_run(&[Need::Chromium]) {
        return;
    }
    let dir = temp_dir("timeline-month-fixture");
    let steady = fixture::month(30, None);
    measure(&dir, &render_fixture(&dir, "month-steady-fixture", &steady));
    let nat_dpd = fixture::behind_nat(fixture::month(30, Some(600)));
    measure(
        &dir,
        &render_fixture(&dir, "month-nat-dpd-fixture", &nat_dpd),
    );
}

/// The figure the issue asks for: a 30-day ikev2-happy run.
#[test]
fn thirty_day_ikev2_happy_page_stays_small_and_opens_fast() {
    if !can_run(&[Need::Chromium]) {
        return;
    }
    let dir = temp_dir("timeline-month");
    measure(
        &dir,
        &run_timeline(&dir, "ikev2-happy", &["--duration", "30d"]),
    );
}
