//! The page: one self-contained HTML file (inline SVG, CSS and script; nothing fetched).
//!
//! # Where layout happens
//! In Rust ([`layout`]): every lane's x, every row's y, where each arrow ends, which idle
//! stretches collapse and their labels are computed here, deterministically, and pinned by
//! unit tests without a browser. The page embeds that plan as JSON and its script
//! (`page.js`) only paints it as SVG — painting a collapsed stretch when it is expanded. So
//! the page stays small (a laid-out item is a few hundred bytes of JSON, payload decodes
//! interned once, not an SVG subtree per arrow with its detail) and opens fast (a 30-day
//! run paints its handful of shown rows and a bar per collapsed day, not 10 000 arrows);
//! emitting all SVG from Rust would make a month-long run's page tens of MB.
//!
//! # Untrusted text
//! Every string in the model may come from a peer (a real CGW's ID payload in `serve`), so
//! the title is HTML-escaped, the plan is embedded as JSON with `<`, `>`, `&`, U+2028 and
//! U+2029 escaped (it can neither close its `<script>` element nor break a JavaScript
//! parser), and the script only ever sets `textContent`, never markup. A
//! Content-Security-Policy meta tag allows only this page's own script and style (by their
//! SHA-256) and no loads at all, so even a missed escape could not run or fetch anything.

mod band;
mod labels;
mod layout;
mod plan;
mod rules;

use std::fmt::Write as _;

use crate::Timeline;

/// The page's stylesheet (light and dark, print).
const CSS: &str = include_str!("page.css");
/// The page's painter and interactions.
const JS: &str = include_str!("page.js");

/// The whole page for `timeline`, self-contained: open it from disk, print it, mail it.
///
/// Nothing in `timeline` can inject markup or script into the page (see the module docs).
#[must_use]
pub fn render_html(timeline: &Timeline) -> String {
    let plan = layout::plan(timeline);
    let json = script_safe_json(&serde_json::to_string(&plan).unwrap_or_else(|_| "null".into()));
    let title = escape_html(&timeline.title);
    let c = &plan.counts;
    let mut summary = format!(
        "From {} UTC · {} lanes · {} datagrams ({} lost, {} retransmissions) · {} AWS records · {} timers fired",
        escape_html(&plan.origin.replace('T', " ").replace('Z', "")),
        plan.lanes.len(),
        c.datagrams,
        c.lost,
        c.retransmissions,
        c.records,
        c.timers,
    );
    match c.collapsed {
        0 => {}
        1 => summary.push_str(" · 1 idle stretch collapsed"),
        n => {
            let _ = write!(summary, " · {n} idle stretches collapsed");
        }
    }
    let mut esp = String::new();
    if let Some(e) = &plan.esp {
        let mut t = crate::EspBucket::default();
        for b in &e.bands {
            t.merge(&b.totals);
        }
        let _ = write!(
            summary,
            " · ESP: {} packets delivered, {} lost, {} dropped",
            t.delivered,
            t.lost_total(),
            t.dropped_total()
        );
        let _ = write!(
            esp,
            "<section id=\"esp\" aria-label=\"ESP packets per tunnel and direction\">\n\
             <h2>ESP packets, {} per bucket <span class=\"legend\"><span class=\"key ok\">■ delivered</span> \
             <span class=\"key lost\">■ dropped</span> <span class=\"key retx\">■ lost on the path</span> \
             (darker: more; hover a bucket for its numbers)</span></h2>\n</section>\n",
            escape_html(&e.bucket)
        );
    }
    let csp = format!(
        "default-src 'none'; script-src '{}'; style-src '{}'; img-src 'none'; \
         base-uri 'none'; form-action 'none'",
        csp_hash(JS),
        csp_hash(CSS)
    );
    let mut page = String::with_capacity(json.len() + CSS.len() + JS.len() + 4096);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <meta name=\"generator\" content=\"ikesim\">\n\
         <title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n\
         <header>\n<h1>{title}</h1>\n<p id=\"summary\">{summary}</p>\n\
         <p id=\"controls\"><button type=\"button\" id=\"expand-all\">Expand all</button> \
         <button type=\"button\" id=\"collapse-all\">Collapse all</button> \
         <span class=\"legend\"><span class=\"key retx\">↻ retransmission</span> \
         <span class=\"key lost\">✕ lost</span> <span class=\"key dup\">⇉ duplicate</span> \
         <span class=\"key delayed\">◷ delayed</span> <span class=\"key timer\">◔ timer fired</span> \
         <span class=\"key rec\">◆ AWS log record</span></span></p>\n</header>\n{esp}\
         <div id=\"page\">\n<main id=\"diagram\" aria-label=\"Ladder diagram, time flowing down\">\n\
         <div id=\"lanes\"></div>\n<div id=\"segments\"></div>\n</main>\n\
         <aside id=\"detail\" aria-live=\"polite\" aria-label=\"Details\"><p class=\"hint\">Hover or \
         Tab to an arrow, mark or record to see it here; click it or press Enter to keep it.</p></aside>\n\
         </div>\n<ul id=\"script-errors\" hidden></ul>\n\
         <p id=\"render-status\" data-status=\"pending\"></p>\n\
         <noscript><p>This page draws its diagram with its own inline script; allow scripts for \
         this file to see it.</p></noscript>\n\
         <script type=\"application/json\" id=\"timeline-data\">{json}</script>\n\
         <script>{JS}</script>\n</body>\n</html>\n"
    );
    page
}

/// HTML-escapes text for element content and attribute values.
pub(crate) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON that may sit inside `<script>`: `<`, `>` and `&` as `\u003c`… (no `</script>` nor
/// `<!--` can appear), U+2028/U+2029 escaped (line terminators to older JavaScript parsers).
/// These characters only occur inside JSON strings, where the escapes mean the same.
pub(crate) fn script_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// A CSP source expression allowing exactly this inline text (CSP Level 3 §8.4 hash-source:
/// `'sha256-'` and the base64 of the SHA-256 of its UTF-8 bytes).
fn csp_hash(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    format!("sha256-{}", base64(digest.as_ref()))
}

/// Standard base64 with padding (RFC 4648 §4), for the 32 bytes of a CSP hash.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
