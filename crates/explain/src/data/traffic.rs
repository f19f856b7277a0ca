//! What AWS/VPN's metrics say that the tunnel log cannot: a tunnel that carries nothing
//! (`metrics-idle`), traffic one way only (`metrics-one-way-out`, `metrics-one-way-in`,
//! asymmetric routing when the two tunnels of a connection each carry one direction),
//! and one direction far heavier than the other (`metrics-lopsided`: the MTU black hole's
//! signature). Each finding's title starts with `metrics:` and says the figures it rests
//! on; the thresholds are in the constants below.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::metrics::{Metric, Series};
use super::TunnelFindings;
use crate::rules::{words, Finding, Severity};

/// One direction carrying at least this many times the other's bytes is lopsided.
pub const LOPSIDED: f64 = 4.0;

/// AWS's documented maximum MSS (aws-vpn-log-reference.md §6), and ikesim's figure with
/// NAT-T (docs/data-plane.md: a 1438-byte MTU, the UDP header's 8 bytes less).
const MSS: &str = "clamp TCP's MSS on the CGW's tunnel interface to 1406 bytes (AWS's documented \
                   maximum: an MTU of 1446), less with NAT-T (1398 for ikesim's 1438-byte \
                   NAT-T MTU), and let the CGW fragment before encryption";

/// One tunnel's metrics, summed.
#[derive(Default)]
struct Totals {
    data_in: f64,
    data_out: f64,
    /// Datapoints of the data metrics (periods).
    periods: usize,
    /// TunnelState datapoints at 1 and at 0.
    up: usize,
    down: usize,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
}

impl Totals {
    fn of(series: &[&Series]) -> Totals {
        let mut t = Totals::default();
        for s in series {
            for p in &s.points {
                t.first = Some(t.first.map_or(p.time, |f| f.min(p.time)));
                t.last = Some(t.last.map_or(p.time, |l| l.max(p.time)));
                match s.metric {
                    Metric::State if p.value >= 0.5 => t.up += 1,
                    Metric::State => t.down += 1,
                    Metric::DataIn => t.data_in += p.value,
                    Metric::DataOut => t.data_out += p.value,
                }
            }
            if s.metric != Metric::State {
                t.periods = t.periods.max(s.points.len());
            }
        }
        t
    }

    fn has_data(&self) -> bool {
        self.periods > 0
    }

    fn span(&self) -> String {
        let n = match self.periods {
            1 => "1 datapoint".to_owned(),
            n => format!("{n} datapoints"),
        };
        match (self.first, self.last) {
            (Some(a), Some(b)) if a == b => format!("{n} at {}", words::full(a)),
            (Some(a), Some(b)) => format!("{n} from {} to {}", words::full(a), words::full(b)),
            _ => n,
        }
    }
}

fn bytes(v: f64) -> String {
    // Whole bytes are what the metrics carry.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = v.max(0.0).round() as u64;
    match n {
        0..=9_999 => format!("{n} B"),
        10_000..=9_999_999 => format!("{:.1} kB", v / 1e3),
        _ => format!("{:.1} MB", v / 1e6),
    }
}

fn finding(id: &'static str, severity: Severity, title: String, cause: String) -> Finding {
    Finding {
        id,
        title,
        cause,
        evidence: Vec::new(),
        guide: None,
        scenario: None,
        severity,
    }
}

/// The findings of every tunnel the series name (series naming none are one tunnel).
pub fn findings(file: &str, series: &[Series]) -> Vec<TunnelFindings> {
    let mut tunnels: BTreeMap<Option<IpAddr>, Vec<&Series>> = BTreeMap::new();
    for s in series {
        tunnels.entry(s.tunnel).or_default().push(s);
    }
    let totals: Vec<(Option<IpAddr>, Totals)> =
        tunnels.iter().map(|(ip, s)| (*ip, Totals::of(s))).collect();
    totals
        .iter()
        .map(|(ip, t)| {
            // The other tunnel carrying the other direction only: asymmetric routing.
            let mirror = totals.iter().find(|(other, o)| {
                other != ip
                    && o.has_data()
                    && ((t.data_in == 0.0) != (o.data_in == 0.0))
                    && ((t.data_out == 0.0) != (o.data_out == 0.0))
                    && (t.data_in == 0.0) != (t.data_out == 0.0)
            });
            TunnelFindings {
                file: file.to_owned(),
                tunnel: *ip,
                findings: of_tunnel(t, mirror.map(|(ip, _)| *ip)),
            }
        })
        .collect()
}

fn of_tunnel(t: &Totals, mirror: Option<Option<IpAddr>>) -> Vec<Finding> {
    let mut out = Vec::new();
    if t.up == 0 && t.down > 0 {
        out.push(finding(
            "metrics-down",
            Severity::Info,
            format!("metrics: TunnelState 0 at every datapoint, {}", t.span()),
            "The tunnel was down all along in the metrics (a static VPN's TunnelState is 1 \
             while IPsec is up; with BGP only while BGP is established): the log's findings say \
             why."
                .to_owned(),
        ));
        return out;
    }
    if !t.has_data() {
        return out;
    }
    let (i, o) = (t.data_in, t.data_out);
    let figures = format!("TunnelDataIn {}, TunnelDataOut {}", bytes(i), bytes(o));
    let other = |m: Option<IpAddr>| match m {
        Some(ip) => format!("the other tunnel ({ip})"),
        None => "the other tunnel".to_owned(),
    };
    if i == 0.0 && o == 0.0 {
        out.push(finding(
            "metrics-idle",
            Severity::Warning,
            format!("metrics: idle tunnel, no data either way, {}", t.span()),
            "Nothing crossed the tunnel. AWS's DPD is on demand: with nothing heard from the CGW \
             for 10 s AWS sends R-U-THERE, every 10 s on an idle tunnel, and declares the peer \
             dead after three unanswered ones (DPD timeout action). A CGW that does not answer \
             DPD, or that lets an idle CHILD SA expire (an idle timeout, or a lifetime with no \
             traffic to renegotiate it: on-demand and trap policies come back only with \
             traffic), leaves the tunnel down until traffic or the CGW starts it again. Keep \
             traffic on the tunnel (a ping from the CGW side every few seconds), or set the \
             startup action to start and DPD timeout action to restart."
                .to_owned(),
        ));
    } else if i == 0.0 {
        let cause = match mirror {
            Some(m) => format!(
                "AWS sends into this tunnel and nothing comes back on it, while {} receives \
                 traffic and sends none: asymmetric routing — the CGW answers over the other tunnel. A \
                 stateful firewall on either side then drops the replies it never saw leave. \
                 Route both directions over one tunnel (the same preference on the CGW as AWS's: \
                 static routes or BGP attributes), or let the firewall accept asymmetric flows.",
                other(m)
            ),
            None => "AWS sent into the tunnel and received nothing from the CGW: the CGW or the \
                     hosts behind it do not answer through this tunnel. Likely causes: \
                     asymmetric routing (the CGW returns traffic over the other tunnel or the \
                     internet — compare the other tunnel's TunnelDataIn), a CGW firewall or NAT \
                     rule dropping the replies, on-premises hosts not answering, or a CGW policy \
                     that does not send those networks into this tunnel."
                .to_owned(),
        };
        out.push(finding(
            "metrics-one-way-out",
            Severity::Warning,
            format!(
                "metrics: one-way traffic, out only ({figures}), {}",
                t.span()
            ),
            cause,
        ));
    } else if o == 0.0 {
        let cause = match mirror {
            Some(m) => format!(
                "The CGW sends into this tunnel and AWS answers over {}: asymmetric routing \
                 (AWS routes each VPC flow over one tunnel of its choosing). A stateful CGW \
                 firewall drops replies arriving on the tunnel its requests did not leave by. \
                 Prefer one tunnel on both sides, or accept asymmetric flows on the CGW.",
                other(m)
            ),
            None => "Traffic from the CGW arrives and nothing goes back in this tunnel: the \
                     VPC does not answer, or answers elsewhere. Likely causes: security groups \
                     or network ACLs, a VPC route table without the route to the on-premises \
                     networks (route propagation off), or asymmetric routing (AWS answers over \
                     the other tunnel — compare its TunnelDataOut)."
                .to_owned(),
        };
        out.push(finding(
            "metrics-one-way-in",
            Severity::Warning,
            format!(
                "metrics: one-way traffic, in only ({figures}), {}",
                t.span()
            ),
            cause,
        ));
    } else if i >= LOPSIDED * o || o >= LOPSIDED * i {
        let (heavy, light) = if i > o {
            ("in (from the CGW)", "out")
        } else {
            ("out (to the CGW)", "in")
        };
        out.push(finding(
            "metrics-lopsided",
            Severity::Warning,
            format!(
                "metrics: traffic {:.1}× heavier {heavy} than {light} ({figures}), possible MTU \
                 black hole, {}",
                i.max(o) / i.min(o),
                t.span()
            ),
            format!(
                "Small packets cross the tunnel both ways but the big ones of one direction may \
                 not: AWS's tunnel carries inner packets of at most 1446 bytes and does no path \
                 MTU discovery, so a packet larger than that with DF set is dropped with no ICMP \
                 back — pings work, large transfers stall. (A bulk transfer one way looks the \
                 same in these sums: check whether large transfers stall.) To fix it, {MSS}."
            ),
        ));
    } else {
        out.push(finding(
            "metrics-traffic",
            Severity::Info,
            format!("metrics: data both ways ({figures}), {}", t.span()),
            "The tunnel carried traffic in both directions.".to_owned(),
        ));
    }
    out
}
