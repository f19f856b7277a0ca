//! Tunnel log records for a person at a terminal (issue 11 §6, `docs/terminal.md`).
//!
//! AWS's JSON is for machines; someone watching `ikesim run` in a terminal wants what
//! `journalctl`, `swanctl --log` and `aws logs tail` give: one short line per event, the
//! time first, the source next, the message last. So a record becomes
//!
//! ```text
//! 2026-01-01 UTC
//! 00:00:00.045  T1 127.0.1.1  P1 → established  P2 → negotiating  dpd        AWS tunnel Phase 1 IKE_SA established …
//! 00:00:00.045  T1 127.0.1.1  P1   established  P2 → established  dpd        AWS tunnel Phase 2 CHILD_SA established …
//! 00:00:00.045  T2 127.0.1.2  P1 → down         P2   down         dpd        AWS tunnel is sending AUTHENTICATION_FAILED as the response
//! ```
//!
//! - the record's UTC time to the millisecond, and a dated line before the first record
//!   and whenever the day changes (records carry UTC times, reference §1);
//! - the tunnel as `T<n>` and its outside IP (the log stream's last part), each tunnel in
//!   its own colour, since a VPN connection's two tunnels interleave;
//! - the phase 1 (IKE SA) and phase 2 (CHILD SA) states in fixed-width columns, green when
//!   established, yellow when negotiating or rekeying, red when down; `→` marks a phase
//!   whose state differs from the tunnel's previous record (a tunnel is down before its
//!   first), and such a line is bold;
//! - `dpd` and `nat-t` as flags when `dpd_enabled` / `nat_t_detected` are true;
//! - the `details` message, control characters escaped so a line stays one line and a
//!   record cannot drive the terminal.
//!
//! Colour is SGR escapes written here (ECMA-48 §8.3.117: the handful of codes below),
//! only when the caller asks; [`View::color_default`] decides as <https://no-color.org>
//! and `TERM=dumb` say.

use std::ffi::OsStr;
use std::fmt;
use std::fmt::Write as _;
use std::net::IpAddr;

use chrono::NaiveDate;

use crate::{PhaseState, TunnelRecord};

/// SGR parameters (ECMA-48 §8.3.117).
mod sgr {
    pub const BOLD: u8 = 1;
    pub const DIM: u8 = 2;
    pub const RED: u8 = 31;
    pub const GREEN: u8 = 32;
    pub const YELLOW: u8 = 33;
    /// Tunnel colours: none of the state colours, so a tunnel never reads as a state.
    pub const TUNNELS: [u8; 6] = [36, 35, 34, 96, 95, 94];
}

/// Width of a state column: the longest state, `established` / `negotiating`.
const STATE_WIDTH: usize = 11;
/// Width of the flags column: `dpd nat-t`.
const FLAGS_WIDTH: usize = 9;

/// Renders tunnel log records as lines for a person (see the module documentation).
///
/// It remembers each tunnel's previous record, to mark state changes, and the day of the
/// previous line, to date the output: give it every record of the output, in order.
#[derive(Clone, Debug)]
pub struct View {
    tunnels: Vec<TunnelColumn>,
    label_width: usize,
    color: bool,
    day: Option<NaiveDate>,
}

#[derive(Clone, Debug)]
struct TunnelColumn {
    label: String,
    color: u8,
    /// The phase states of the tunnel's previous record.
    states: (PhaseState, PhaseState),
}

impl TunnelColumn {
    /// Tunnel `index`, named by its outside IP or stream name (`None`: not announced).
    fn new(index: usize, name: Option<&str>) -> TunnelColumn {
        let number = index + 1;
        let label = match name {
            Some(name) => format!("T{number} {}", outside_ip(name)),
            None => format!("T{number}"),
        };
        TunnelColumn {
            label,
            color: sgr::TUNNELS[index % sgr::TUNNELS.len()],
            states: (PhaseState::Down, PhaseState::Down),
        }
    }
}

/// The tunnel's outside IP from its stream name, `<vpn-connection-id><sep><outside-ip>`
/// with `-` or `_` as the separator (neither occurs in an IP address); the whole text
/// when it does not end in one (an IP address alone, or a name of another shape).
fn outside_ip(stream: &str) -> &str {
    match stream.rsplit_once(['-', '_']) {
        Some((_, ip)) if ip.parse::<IpAddr>().is_ok() => ip,
        _ => stream,
    }
}

impl View {
    /// A view of `tunnels`, each given by its outside IP (an [`IpAddr`]) or its log
    /// stream's name (`vpn-…-<outside-ip>`, either separator): tunnel `i` of
    /// [`View::render`] is the `i`-th, shown as `T<i+1>` and its outside IP.
    /// `color`: whether to write ANSI colour and bold (see [`View::color_default`]).
    pub fn new<I, T>(tunnels: I, color: bool) -> View
    where
        I: IntoIterator<Item = T>,
        T: fmt::Display,
    {
        let tunnels: Vec<TunnelColumn> = tunnels
            .into_iter()
            .enumerate()
            .map(|(index, tunnel)| TunnelColumn::new(index, Some(&tunnel.to_string())))
            .collect();
        let label_width = tunnels
            .iter()
            .map(|t| t.label.chars().count())
            .max()
            .unwrap_or(0);
        View {
            tunnels,
            label_width,
            color,
            day: None,
        }
    }

    /// Whether colour is wanted, for a caller that already knows the output is a
    /// terminal: not when `NO_COLOR` is set to anything but the empty string
    /// (<https://no-color.org>), nor when `TERM` is `dumb`.
    pub fn color_default() -> bool {
        color_allowed(
            std::env::var_os("NO_COLOR").as_deref(),
            std::env::var_os("TERM").as_deref(),
        )
    }

    /// The line for `record` of tunnel `tunnel`, without a newline. Before the first
    /// record, and whenever the record's UTC day differs from the previous one's, the
    /// text starts with a dated line (`2026-01-01 UTC`) and a `\n`.
    ///
    /// A tunnel index beyond those given to [`View::new`] is shown as `T<n>` alone.
    pub fn render(&mut self, tunnel: usize, record: &TunnelRecord) -> String {
        while self.tunnels.len() <= tunnel {
            let index = self.tunnels.len();
            self.tunnels.push(TunnelColumn::new(index, None));
        }
        let color = self.color;
        let mut out = String::new();
        let day = record.time.date_naive();
        if self.day != Some(day) {
            self.day = Some(day);
            paint(&mut out, color, &[sgr::BOLD], &format!("{day} UTC"));
            out.push('\n');
        }
        let column = &mut self.tunnels[tunnel];
        let previous = column.states;
        let current = (record.ike_phase1_state, record.ike_phase2_state);
        column.states = current;
        let changed = previous != current;
        let emphasis: &[u8] = if changed { &[sgr::BOLD] } else { &[] };

        let time = record.time.format("%H:%M:%S%.3f").to_string();
        paint(
            &mut out,
            color,
            if changed { &[sgr::BOLD] } else { &[sgr::DIM] },
            &time,
        );
        out.push_str("  ");
        let label = pad(&column.label, self.label_width);
        paint(&mut out, color, &[column.color, sgr::BOLD], &label);
        for (name, before, now) in [("P1", previous.0, current.0), ("P2", previous.1, current.1)] {
            out.push_str("  ");
            let marker = if before == now { "  " } else { "→ " };
            paint(&mut out, color, emphasis, &format!("{name} {marker}"));
            let state = pad(now.as_str(), STATE_WIDTH);
            let hue = state_color(now);
            let codes: &[u8] = if changed { &[hue, sgr::BOLD] } else { &[hue] };
            paint(&mut out, color, codes, &state);
        }
        let details = escape_controls(&record.details);
        let mut flags = Vec::new();
        if record.dpd_enabled {
            flags.push("dpd");
        }
        if record.nat_t_detected {
            flags.push("nat-t");
        }
        let flags = flags.join(" ");
        if !flags.is_empty() || !details.is_empty() {
            out.push_str("  ");
            let width = if details.is_empty() { 0 } else { FLAGS_WIDTH };
            paint(&mut out, color, &[sgr::DIM], &pad(&flags, width));
        }
        if !details.is_empty() {
            out.push_str("  ");
            paint(&mut out, color, emphasis, &details);
        }
        out
    }
}

fn color_allowed(no_color: Option<&OsStr>, term: Option<&OsStr>) -> bool {
    no_color.is_none_or(OsStr::is_empty) && term != Some(OsStr::new("dumb"))
}

fn state_color(state: PhaseState) -> u8 {
    match state {
        PhaseState::Established => sgr::GREEN,
        PhaseState::Rekeying | PhaseState::Negotiating => sgr::YELLOW,
        PhaseState::Down => sgr::RED,
    }
}

/// `text` padded with spaces to `width` characters: `format!` counts characters, not
/// bytes, so the three-byte `→` takes one column as on the terminal.
fn pad(text: &str, width: usize) -> String {
    format!("{text:<width$}")
}

/// Appends `text` in the SGR `codes` (then a reset), or plain without colour or codes.
fn paint(out: &mut String, color: bool, codes: &[u8], text: &str) {
    if !color || codes.is_empty() || text.is_empty() {
        out.push_str(text);
        return;
    }
    out.push_str("\x1b[");
    for (i, code) in codes.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        let _ = write!(out, "{code}");
    }
    out.push('m');
    out.push_str(text);
    out.push_str("\x1b[0m");
}

/// `details` with every control character (newline, ESC, C1 controls, …) written as its
/// Rust escape (`\n`, `\u{1b}`): one record stays one line, and a message read from a
/// file (`explain`) cannot move the cursor or change colours.
fn escape_controls(details: &str) -> String {
    if !details.chars().any(char::is_control) {
        return details.to_owned();
    }
    let mut out = String::with_capacity(details.len() + 8);
    for c in details.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use PhaseState::{Down, Established, Negotiating, Rekeying};

    const STREAMS: [&str; 2] = [
        "vpn-0a1b2c3d4e5f60718-127.0.1.1",
        "vpn-0a1b2c3d4e5f60718-127.0.1.2",
    ];

    fn record(time: &str, p1: PhaseState, p2: PhaseState, details: &str) -> TunnelRecord {
        TunnelRecord {
            time: time.parse::<DateTime<Utc>>().unwrap(),
            dpd_enabled: true,
            nat_t_detected: false,
            ike_phase1_state: p1,
            ike_phase2_state: p2,
            details: details.to_owned(),
        }
    }

    /// A run of both tunnels like `ikev2-two-tunnels-one-failing`, plus a rekey and a
    /// repeat, rendered without colour.
    fn lines(color: bool) -> Vec<String> {
        let mut view = View::new(STREAMS, color);
        let t = "2026-01-01T00:00:00.015Z";
        let u = "2026-01-01T00:00:00.045Z";
        [
            (
                0,
                record(t, Negotiating, Down, "AWS tunnel is negotiating Phase 1"),
            ),
            (
                1,
                record(t, Negotiating, Down, "AWS tunnel is negotiating Phase 1"),
            ),
            (
                0,
                record(
                    u,
                    Established,
                    Negotiating,
                    "AWS tunnel Phase 1 IKE_SA established",
                ),
            ),
            (
                0,
                record(
                    u,
                    Established,
                    Established,
                    "AWS tunnel Phase 2 CHILD_SA established",
                ),
            ),
            (
                1,
                record(
                    u,
                    Negotiating,
                    Down,
                    "AWS tunnel detected a pre-shared key mismatch",
                ),
            ),
            (
                1,
                record(u, Down, Down, "AWS tunnel is sending AUTHENTICATION_FAILED"),
            ),
            (
                0,
                record(
                    u,
                    Established,
                    Rekeying,
                    "AWS tunnel is sending request (id=2)",
                ),
            ),
            (
                0,
                record(
                    u,
                    Established,
                    Rekeying,
                    "AWS tunnel processed response (id=2)",
                ),
            ),
        ]
        .iter()
        .flat_map(|(tunnel, r)| {
            let text = view.render(*tunnel, r);
            text.lines().map(str::to_owned).collect::<Vec<_>>()
        })
        .collect()
    }

    #[test]
    fn a_dated_line_then_one_line_per_record() {
        let lines = lines(false);
        assert_eq!(lines.len(), 9);
        assert_eq!(lines[0], "2026-01-01 UTC");
        assert_eq!(
            lines[1],
            "00:00:00.015  T1 127.0.1.1  P1 → negotiating  P2   down         dpd        \
             AWS tunnel is negotiating Phase 1"
        );
        assert_eq!(
            lines[6],
            "00:00:00.045  T2 127.0.1.2  P1 → down         P2   down         dpd        \
             AWS tunnel is sending AUTHENTICATION_FAILED"
        );
    }

    #[test]
    fn columns_align() {
        let lines = lines(false);
        let records = &lines[1..];
        // Characters, not bytes, before each field: what a terminal shows.
        let column = |line: &str, field: &str| line[..line.find(field).unwrap()].chars().count();
        for field in ["T", "P1", "P2", "dpd", "AWS tunnel"] {
            let at: Vec<usize> = records.iter().map(|l| column(l, field)).collect();
            assert!(
                at.windows(2).all(|w| w[0] == w[1]),
                "{field}: {at:?}\n{records:#?}"
            );
        }
        assert!(records.iter().all(|l| l.starts_with("00:00:00.0")));
        assert!(lines.iter().all(|l| l.trim_end() == l));
    }

    #[test]
    fn state_changes_are_marked_and_repeats_are_not() {
        let lines = lines(false);
        let marks = |line: &str| {
            let p1 = line.contains("P1 →");
            let p2 = line.contains("P2 →");
            (p1, p2)
        };
        let got: Vec<(bool, bool)> = lines[1..].iter().map(|l| marks(l)).collect();
        assert_eq!(
            got,
            [
                (true, false),  // T1 down/down → negotiating/down
                (true, false),  // T2 the same, on its own
                (true, true),   // T1 → established/negotiating
                (false, true),  // T1 → established/established
                (false, false), // T2 repeats negotiating/down
                (true, false),  // T2 → down
                (false, true),  // T1 → rekeying
                (false, false), // T1 repeats
            ]
        );
    }

    #[test]
    fn no_escape_without_colour_and_none_from_details() {
        let mut view = View::new(STREAMS, false);
        let evil = record(
            "2026-01-01T00:00:00Z",
            Down,
            Down,
            "a\nb\x1b[31mc\u{9b}d\te",
        );
        let line = view.render(0, &evil);
        assert!(lines(false).iter().all(|l| !l.contains('\x1b')));
        assert!(!line.contains('\x1b') && !line.contains('\u{9b}'));
        assert_eq!(line.lines().count(), 2, "{line:?}");
        assert!(line.ends_with(r"a\nb\u{1b}[31mc\u{9b}d\te"), "{line:?}");
        let mut coloured = View::new(STREAMS, true);
        let line = coloured.render(0, &evil);
        // The view's own escapes only: the one from the record is defused.
        assert!(!line.contains("\x1b[31mc"), "{line:?}");
    }

    #[test]
    fn colour_marks_states_tunnels_and_changes() {
        let lines = lines(true);
        let plain = super::tests::lines(false);
        assert_eq!(lines.len(), plain.len());
        assert_eq!(lines[0], "\x1b[1m2026-01-01 UTC\x1b[0m");
        // A changed line: bold time, green and yellow states in bold.
        assert!(
            lines[3].starts_with("\x1b[1m00:00:00.045\x1b[0m"),
            "{:?}",
            lines[3]
        );
        assert!(
            lines[3].contains("\x1b[32;1mestablished\x1b[0m"),
            "{:?}",
            lines[3]
        );
        assert!(
            lines[3].contains("\x1b[33;1mnegotiating\x1b[0m"),
            "{:?}",
            lines[3]
        );
        // A repeat: dim time, plain-weight red/yellow states, no bold message.
        assert!(
            lines[5].starts_with("\x1b[2m00:00:00.045\x1b[0m"),
            "{:?}",
            lines[5]
        );
        assert!(
            lines[5].contains("\x1b[33mnegotiating\x1b[0m"),
            "{:?}",
            lines[5]
        );
        assert!(
            lines[5].contains("\x1b[31mdown       \x1b[0m"),
            "{:?}",
            lines[5]
        );
        assert!(lines[5].ends_with("  AWS tunnel detected a pre-shared key mismatch"));
        // Each tunnel its own colour.
        assert!(lines[1].contains("\x1b[36;1mT1 127.0.1.1\x1b[0m"));
        assert!(lines[2].contains("\x1b[35;1mT2 127.0.1.2\x1b[0m"));
        // Without the escapes, the same text.
        for (coloured, plain) in lines.iter().zip(&plain) {
            assert_eq!(&strip_sgr(coloured), plain);
        }
    }

    fn strip_sgr(line: &str) -> String {
        let mut out = String::new();
        let mut rest = line;
        while let Some(start) = rest.find("\x1b[") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('m').unwrap();
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn no_json_in_the_output() {
        let details = r#"No Proposal Match Found. Notifying with "No proposal chosen""#;
        let mut view = View::new(STREAMS, false);
        let mut all = lines(false);
        let text = view.render(1, &record("2026-01-01T00:00:00Z", Down, Down, details));
        all.extend(text.lines().map(str::to_owned));
        for line in &all {
            assert!(
                serde_json::from_str::<serde_json::Value>(line).is_err(),
                "{line}"
            );
            assert!(
                !line.contains("\"details\"") && !line.contains('{'),
                "{line}"
            );
        }
        assert!(all.last().unwrap().ends_with(details));
    }

    #[test]
    fn the_date_is_shown_again_when_the_day_changes() {
        let mut view = View::new(STREAMS, false);
        let day1 = view.render(0, &record("2026-01-01T23:59:59.999Z", Down, Down, "x"));
        let same = view.render(1, &record("2026-01-01T23:59:59.999Z", Down, Down, "y"));
        let day2 = view.render(0, &record("2026-01-02T00:00:00Z", Down, Down, "z"));
        assert!(
            day1.starts_with("2026-01-01 UTC\n23:59:59.999  T1"),
            "{day1}"
        );
        assert!(same.starts_with("23:59:59.999  T2"), "{same}");
        assert!(
            day2.starts_with("2026-01-02 UTC\n00:00:00.000  T1"),
            "{day2}"
        );
    }

    #[test]
    fn flags_and_labels() {
        let streams = [
            "vpn-1234abcd_1.2.3.4",
            "odd-stream-name",
            "vpn-1234abcd-::1",
        ];
        let mut view = View::new(streams, false);
        // The line after the time; the first has the dated line before it.
        let mut line = |tunnel: usize, r: &TunnelRecord| {
            let text = view.render(tunnel, r);
            let last = text.lines().last().unwrap_or_default().to_owned();
            last["00:00:00.000  ".len()..].to_owned()
        };
        let mut r = record("2026-01-01T00:00:00Z", Established, Established, "m");
        r.nat_t_detected = true;
        assert_eq!(
            line(0, &r),
            "T1 1.2.3.4          P1 → established  P2 → established  dpd nat-t  m"
        );
        r.dpd_enabled = false;
        r.nat_t_detected = false;
        assert_eq!(
            line(1, &r),
            "T2 odd-stream-name  P1 → established  P2 → established             m"
        );
        r.details = String::new();
        assert_eq!(
            line(2, &r),
            "T3 ::1              P1 → established  P2 → established"
        );
        // A tunnel nobody announced is shown by number rather than refused.
        assert_eq!(
            line(5, &r),
            "T6                  P1 → established  P2 → established"
        );
    }

    #[test]
    fn tunnels_given_by_outside_ip() {
        let ips: Vec<IpAddr> = vec!["127.0.1.1".parse().unwrap(), "127.0.1.2".parse().unwrap()];
        let mut by_ip = View::new(ips, false);
        let mut by_stream = View::new(STREAMS, false);
        let r = record("2026-01-01T00:00:00Z", Negotiating, Down, "m");
        for tunnel in [0, 1, 1] {
            assert_eq!(by_ip.render(tunnel, &r), by_stream.render(tunnel, &r));
        }
    }

    #[test]
    fn no_color_and_dumb_terminals_get_no_colour() {
        let os = |s: &'static str| Some(OsStr::new(s));
        assert!(color_allowed(None, os("xterm-256color")));
        assert!(color_allowed(None, None));
        assert!(
            color_allowed(os(""), os("xterm")),
            "an empty NO_COLOR does not count"
        );
        assert!(!color_allowed(os("1"), os("xterm")));
        assert!(!color_allowed(os("0"), os("xterm")), "any value counts");
        assert!(!color_allowed(None, os("dumb")));
    }
}
