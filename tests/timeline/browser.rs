//! The browser harness of tests/timeline.rs: headless Chromium on a page from disk, the
//! DOM after its script ran, screenshots, the detail pane, and the check every page gets
//! (its script's errors, and that it painted what its own plan says).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::common::{repo, CHROMIUM};

/// A guard against a wedged browser (not an assertion on speed).
const BROWSER_LIMIT: Duration = Duration::from_secs(180);

/// Runs headless Chromium on `page` with `args`, in a fresh profile; returns stdout.
pub fn chromium(dir: &Path, page: &Path, args: &[String]) -> String {
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
pub fn dump_dom(dir: &Path, page: &Path, fragment: &str) -> String {
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
pub fn screenshot(dir: &Path, page: &Path, fragment: &str, name: &str) -> PathBuf {
    screenshot_with(dir, page, fragment, name, &[])
}

/// [`screenshot`] with more Chromium flags (`--force-dark-mode`: the reader's system is dark).
pub fn screenshot_with(
    dir: &Path,
    page: &Path,
    fragment: &str,
    name: &str,
    flags: &[&str],
) -> PathBuf {
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
pub fn plan_of(page: &str) -> Value {
    let open = "<script type=\"application/json\" id=\"timeline-data\">";
    let start = page
        .find(open)
        .map(|i| i + open.len())
        .expect("the plan's script element");
    let end = start + page[start..].find("</script>").expect("its end");
    serde_json::from_str(&page[start..end]).expect("the plan is JSON")
}

/// The items of the segments painted at open (all of them when `expanded`).
pub fn shown_items(plan: &Value, expanded: bool) -> Vec<&Value> {
    plan["segments"]
        .as_array()
        .expect("segments")
        .iter()
        .filter(|s| expanded || s["collapsed"] == false)
        .flat_map(|s| s["items"].as_array().expect("items"))
        .collect()
}

/// Text content as the DOM serializes it.
pub fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The page's script ran to its end (`#render-status` says so) and caught no error (the
/// page lists them in `#script-errors`).
fn check_script_ran(dom: &str) {
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
}

/// What a browser test checks on every page: the script ran to its end without an error,
/// and the DOM holds every lane head, every shown arrow (with its label), retransmission
/// and loss mark, timer and record of the page's plan. Returns the DOM.
pub fn check_painted(dir: &Path, page_path: &Path, expanded: bool) -> (String, Value) {
    let page = std::fs::read_to_string(page_path).expect("read the page");
    let plan = plan_of(&page);
    let dom = dump_dom(dir, page_path, if expanded { "expand-all" } else { "" });
    check_script_ran(&dom);
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
pub fn detail_pane(dir: &Path, page: &Path, which: &str) -> String {
    let dom = dump_dom(dir, page, &format!("show={which}"));
    check_script_ran(&dom);
    let start = dom.find("<aside id=\"detail\"").expect("the detail pane");
    let end = start + dom[start..].find("</aside>").expect("its end");
    dom[start..end].to_owned()
}
