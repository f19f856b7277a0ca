//! The words on an arrow and on a collapsed stretch: computed here, in Rust, so the page's
//! script only paints them and the unit tests can pin them.

use crate::{Datagram, Message};

/// An arrow's first line: exchange type, message id, request/response and the header's
/// flags as RFC 7296 §3.1 names them (I: sent by the original initiator, R: a response).
pub(crate) fn exchange_label(m: &Message) -> String {
    if m.ike_version == 0 {
        return m.exchange.clone();
    }
    let kind = if m.response { "response" } else { "request" };
    let mut flags = String::new();
    if m.initiator {
        flags.push('I');
    }
    if m.response {
        flags.push('R');
    }
    if flags.is_empty() {
        format!("{} #{} {kind}", m.exchange, m.message_id)
    } else {
        format!("{} #{} {kind} ({flags})", m.exchange, m.message_id)
    }
}

/// An arrow's second line: the payloads in order as the RFCs draw them, an encrypted
/// payload's contents inside `SK{…}` (RFC 7296 §1.2's notation), e.g.
/// `HDR, SK{IDi, AUTH, SA, TSi, TSr, N(INITIAL_CONTACT)}`. An opaque SK shows `SK{?}`.
/// IKEv1 has no SK payload: everything after the header is encrypted (RFC 2408 §3.1, the
/// E flag), drawn `{ID, HASH}` as the failure-mode guide does.
pub(crate) fn payload_line(m: &Message) -> String {
    if m.ike_version == 0 {
        return String::new();
    }
    let plain: Vec<&str> = m
        .payloads
        .iter()
        .filter(|p| !p.encrypted && p.name != "SK")
        .map(|p| p.name.as_str())
        .collect();
    let inner: Vec<&str> = m
        .payloads
        .iter()
        .filter(|p| p.encrypted)
        .map(|p| p.name.as_str())
        .collect();
    // A protected message has an SK payload even when it is empty (a liveness check is
    // `HDR, SK{}`, RFC 7296 §1.4): the collector puts the contents in its place.
    let has_sk = (m.ike_version == 2 && m.protection != crate::Protection::Plain)
        || m.payloads.iter().any(|p| p.name == "SK")
        || !inner.is_empty();
    let mut parts: Vec<String> = plain.iter().map(|s| (*s).to_owned()).collect();
    let sk = if m.ike_version == 1 { "" } else { "SK" };
    if has_sk {
        match m.protection {
            crate::Protection::Opaque if inner.is_empty() => parts.push(format!("{sk}{{?}}")),
            _ => parts.push(format!("{sk}{{{}}}", inner.join(", "))),
        }
    }
    parts.join(", ")
}

/// What kind of exchange a request starts, in the words a collapsed stretch counts it by.
/// Only requests (first transmissions) are counted, so an exchange counts once.
pub(crate) fn exchange_kind(d: &Datagram) -> Option<&'static str> {
    let m = &d.message;
    if m.response || d.transmission > 1 || d.duplicate {
        return None;
    }
    let has = |name: &str| m.payloads.iter().any(|p| p.name == name);
    let has_notify = |what: &str| {
        m.payloads
            .iter()
            .any(|p| p.name.starts_with("N(") && p.name.contains(what))
    };
    Some(match (m.ike_version, m.exchange.as_str()) {
        (0, "NAT-keepalive") => "NAT-keepalives",
        (0, _) => "other datagrams",
        (2, "INFORMATIONAL") if has("D") => "deletes",
        // RFC 7296 §1.4: an INFORMATIONAL with no payloads is a liveness check (DPD).
        (2, "INFORMATIONAL") if m.payloads.iter().all(|p| p.name == "SK") => "DPD exchanges",
        (2, "INFORMATIONAL") => "INFORMATIONAL exchanges",
        // §1.3.2: rekeying an IKE SA carries no traffic selectors; a CHILD SA's does.
        (2, "CREATE_CHILD_SA") if has("TSi") => "CHILD SA rekeys",
        (2, "CREATE_CHILD_SA") => "IKE SA rekeys",
        // RFC 3706: R-U-THERE in an IKEv1 informational exchange.
        (1, _) if has_notify("R-U-THERE") => "DPD exchanges",
        (1, "Quick Mode") => "quick modes",
        (1, _) if has("D") => "deletes",
        _ => "other exchanges",
    })
}

/// A span of simulated time, coarse: `850 ms`, `12 s`, `47 min`, `3 h 12 min`, `6 d 4 h`.
pub(crate) fn span(us: u64) -> String {
    let ms = us / 1000;
    let s = ms / 1000;
    let (m, h, d) = (s / 60, s / 3600, s / 86_400);
    if s == 0 {
        format!("{ms} ms")
    } else if m == 0 {
        format!("{s} s")
    } else if h == 0 {
        format!("{m} min")
    } else if d == 0 {
        match m % 60 {
            0 => format!("{h} h"),
            rest => format!("{h} h {rest} min"),
        }
    } else {
        match h % 24 {
            0 => format!("{d} d"),
            rest => format!("{d} d {rest} h"),
        }
    }
}

/// `… 47 min: 283 DPD exchanges, 2 CHILD SA rekeys …` (counts largest first, then by name).
pub(crate) fn collapsed_label(span_us: u64, counts: &[(String, usize)]) -> String {
    let mut sorted: Vec<&(String, usize)> = counts.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let what: Vec<String> = sorted
        .iter()
        .map(|(kind, n)| {
            if *n == 1 {
                format!("1 {}", singular(kind))
            } else {
                format!("{n} {kind}")
            }
        })
        .collect();
    if what.is_empty() {
        format!("… {}: nothing sent …", span(span_us))
    } else {
        format!("… {}: {} …", span(span_us), what.join(", "))
    }
}

fn singular(kind: &str) -> &str {
    match kind {
        "DPD exchanges" => "DPD exchange",
        "CHILD SA rekeys" => "CHILD SA rekey",
        "IKE SA rekeys" => "IKE SA rekey",
        "deletes" => "delete",
        "INFORMATIONAL exchanges" => "INFORMATIONAL exchange",
        "NAT-keepalives" => "NAT-keepalive",
        "quick modes" => "quick mode",
        "other exchanges" => "other exchange",
        "other datagrams" => "other datagram",
        "records" => "record",
        other => other,
    }
}
