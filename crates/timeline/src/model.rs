//! The ladder diagram as data. Everything is `Serialize`: the page embeds it as JSON.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::EspBand;

/// Everything drawn on one page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Timeline {
    /// The page's heading, e.g. `ikesim run ikev2-psk-mismatch --seed 1`.
    pub title: String,
    /// Time zero of every `at_us`: the simulated clock's start (`run`) or serve's start.
    pub origin: DateTime<Utc>,
    /// The hosts, left to right: for each tunnel its CGW and AWS endpoint; a NAT between
    /// them when the scenario has one.
    pub lanes: Vec<Lane>,
    /// What happened, in time order (ties in the order it happened).
    pub events: Vec<Event>,
    /// ESP, per tunnel and direction, as density bands (empty without a data plane).
    pub esp: Vec<EspBand>,
}

/// One host: a vertical lane.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lane {
    /// `CGW (tunnel 1)`, `AWS tunnel 1`, `NAT`, `CGW 198.51.100.7` (a real one, in `serve`).
    pub name: String,
    /// What kind of host.
    pub kind: LaneKind,
    /// Its address(es) as on the wire, e.g. `127.0.2.1`.
    pub address: String,
    /// The tunnel it belongs to (0-based), if one.
    pub tunnel: Option<usize>,
}

/// What kind of host a lane is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneKind {
    /// The customer gateway (simulated, or the real one `serve` faces).
    Cgw,
    /// The NAT in front of the CGW.
    Nat,
    /// An AWS VPN endpoint (one per tunnel).
    Aws,
}

/// One thing that happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// When, in microseconds since [`Timeline::origin`].
    pub at_us: u64,
    /// What.
    pub what: What,
}

/// The kinds of things drawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum What {
    /// A datagram sent (an arrow). Boxed: a datagram is ten times the size of the other
    /// kinds, and a month of an idle tunnel holds hundreds of thousands of timers.
    Datagram(Box<Datagram>),
    /// A timer that fired on a lane (a mark on it).
    Timer(TimerMark),
    /// An AWS log record written (on its AWS lane).
    Record(RecordMark),
}

/// A datagram from one lane to another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Datagram {
    /// Sending lane.
    pub from: usize,
    /// Receiving lane (where it was addressed, even if it never arrived).
    pub to: usize,
    /// The NAT lane it passed through, if any.
    pub via: Option<usize>,
    /// Source and destination as the sender wrote them (`127.0.2.1:50123`).
    pub src: String,
    /// See `src`.
    pub dst: String,
    /// UDP payload length in bytes (with the non-ESP marker when there is one).
    pub len: usize,
    /// 1 for the first transmission, 2… for retransmissions of the same bytes.
    pub transmission: u32,
    /// Whether this is the extra copy a duplicating path made.
    pub duplicate: bool,
    /// What became of it.
    pub fate: Fate,
    /// What was in it.
    pub message: Message,
}

/// What became of a datagram.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "fate")]
pub enum Fate {
    /// It arrived at `at_us` (later than sent: delayed by the path).
    Delivered {
        /// Arrival time.
        at_us: u64,
    },
    /// The path lost it (`loss`, `blackhole`, `mtu`, a NAT without a mapping, …).
    Lost {
        /// Why, in a word or two.
        reason: String,
    },
}

/// A decoded IKE message (or what a datagram was when it was not one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    /// 1 or 2 (0: not IKE).
    pub ike_version: u8,
    /// `IKE_SA_INIT`, `IKE_AUTH`, `CREATE_CHILD_SA`, `INFORMATIONAL`, `Identity Protection
    /// (Main Mode)`, `Quick Mode`, `Informational`; `NAT-keepalive`, `ESP` when not IKE.
    pub exchange: String,
    /// The header's message id.
    pub message_id: u32,
    /// A response (IKEv2's R flag; IKEv1: the responder's message of an exchange).
    pub response: bool,
    /// The sender is the original initiator of the IKE SA (IKEv2's I flag).
    pub initiator: bool,
    /// `spi_i/spi_r` (IKEv1: the cookies), 16 hex digits each.
    pub spis: String,
    /// The payloads in order, an encrypted payload's contents in its place.
    pub payloads: Vec<PayloadView>,
    /// Whether the contents were protected, and whether ikesim could read them.
    pub protection: Protection,
}

/// Whether a message's payloads were encrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Protection {
    /// Sent in the clear (IKE_SA_INIT, main mode 1–4).
    Plain,
    /// Encrypted, and shown decrypted (ikesim knows the keys).
    Decrypted,
    /// Encrypted with keys nobody here has (e.g. a PSK mismatch): contents unknown.
    Opaque,
}

/// One payload, decoded into words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PayloadView {
    /// Its short name as the RFCs draw it: `SA`, `KE`, `Ni`, `Nr`, `IDi`, `AUTH`, `TSi`,
    /// `N(INITIAL_CONTACT)`, `D`, `HASH`, `SK`.
    pub name: String,
    /// One short line for the arrow's label, e.g. `group 14`, `AES-GCM-16-256`.
    pub summary: String,
    /// The full decode for the detail pane (several lines).
    pub detail: String,
    /// Inside the encrypted payload.
    pub encrypted: bool,
}

/// A timer that fired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimerMark {
    /// The lane (host) whose timer it is.
    pub lane: usize,
    /// `retransmit`, `half-open`, `IKE SA expiry`, `IKE SA rekey`, `DPD`, `CHILD SA rekey`,
    /// `CHILD SA expiry`.
    pub timer: String,
    /// Which SA, e.g. `IKE SA 1a2b…/3c4d…` or `CHILD SA c0ffee01`.
    pub sa: String,
}

/// An AWS log record, on the lane of the AWS endpoint that wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordMark {
    /// The AWS lane.
    pub lane: usize,
    /// The log stream.
    pub stream: String,
    /// `details`.
    pub details: String,
    /// `ike_phase1_state`.
    pub phase1: String,
    /// `ike_phase2_state`.
    pub phase2: String,
    /// The record exactly as written (JSON line), for the detail pane.
    pub json: String,
}
