//! `ikesim connect`: the simulated customer gateway (CGW) alone, on the wall clock, against
//! a real responder (strongSwan, libreswan, a router, `ikesim serve`). It initiates one
//! tunnel — IKEv2, or IKEv1 main mode + quick mode — and says what the CGW sees, one line
//! per event on stderr, then whether phase 1 and phase 2 came up.
//!
//! The configuration is one CGW connection exactly as a scenario's `[tunnel.cgw]` table
//! spells it (the same keys, defaults and checks: [`CgwConnection`]), plus `local`, our
//! address:
//!
//! ```toml
//! local = "127.0.2.1"              # loopback only in a file; --local names any address
//! ike_version = 2
//! pre_shared_key = "…"             # required: there is no AWS tunnel to take it from
//! ike_proposals = ["aes128-sha256-modp2048"]
//! esp_proposals = ["aes128-sha256-modp2048"]
//! ```
//!
//! Ports work like `serve`'s: on our IKE port, every IKE datagram carries the non-ESP
//! marker (RFC 3948 §2.2) when neither port is 500; next to it the CGW has a NAT-T port
//! (4500 when the IKE port is 500, else one the OS picks), where it moves — and moves the
//! responder from 500 to 4500 — once NAT detection finds a NAT, and where every IKE datagram
//! is marked (ike_core::nat_t).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use ike_core::{
    ChildFailure, Direction, Endpoint, Event, EventKind, IkeVersion, NatTPorts, PeerIncompatible,
    SaState,
};
use ike_wire::NotifyType;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use tokio::net::UdpSocket;

use crate::framing::{PortRole, Received};
use crate::scenario::{CgwConnection, CgwStartup};
use crate::serve::ConfigError;

pub use ike_core::nat_t::{IKE_PORT, NAT_T_PORT};
/// How long `connect` waits for the tunnel without `--duration` or `--stay`.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);
/// How long the CGW waits for the answer to its DELETE when it shuts down.
const DELETE_WAIT: Duration = Duration::from_secs(2);
/// Our address when neither the file nor the command line names one.
pub const DEFAULT_LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

const MAX_DATAGRAM: usize = 65_535;

/// A commented configuration to start from (documentation and tests).
pub const TEMPLATE: &str = r#"# ikesim connect configuration: one simulated customer gateway (CGW) connection, with
# the keys of a scenario's [tunnel.cgw] table (docs/scenario-format.md), plus `local`.
# Start it with `ikesim connect --config FILE --peer ADDR`; see docs/real-cgw.md.

# Our address (the CGW's outside IP; IDi is this IP). A file may only name loopback
# addresses; give any other with --local. Without a port the OS picks one.
local = "127.0.0.1"

ike_version = 2
pre_shared_key = "ikesim.example_psk_1"
ike_proposals = ["aes256-sha256-modp2048"]    # strongSwan syntax
esp_proposals = ["aes256-sha256-modp2048"]    # a DH group here means PFS
# local_ts = ["0.0.0.0/0"]
# remote_ts = ["0.0.0.0/0"]
# ike_lifetime = "8h"
# child_lifetime = "1h"
# rekey_margin = "9m"
# rekey_fuzz = 100
# rekey = true
# dpd_delay = "0s"                            # 0s: no DPD of our own (we still answer)
# dpd_action = "clear"
# abandon_after_ike_sa_init = false           # stop after IKE_SA_INIT / main mode 4 (half-open SA)
# terminate_at = "30s"                        # delete the IKE SA at this time
# crash_at = "30s"                            # go silent (and exit) at this time
"#;

/// `ip:port`, or an IP alone (port `None`).
pub fn parse_addr(s: &str) -> Result<(IpAddr, Option<u16>), String> {
    let s = s.trim();
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok((addr.ip(), Some(addr.port())));
    }
    if let Ok(ip) = s
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok((ip, None));
    }
    Err(format!(
        "`{s}` is not an address such as 127.0.0.1:500 or 127.0.0.1"
    ))
}

/// Our address from the file or `--local`: an IP and maybe a port (absent: the OS picks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Local {
    pub ip: IpAddr,
    pub port: Option<u16>,
}

impl<'de> Deserialize<'de> for Local {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_addr(&s)
            .map(|(ip, port)| Local { ip, port })
            .map_err(serde::de::Error::custom)
    }
}

/// The whole file: a CGW connection and our address.
#[derive(Clone, Debug, Default)]
pub struct ConnectConfig {
    pub local: Option<toml::Spanned<Local>>,
    pub cgw: CgwConnection,
}

/// Deserializes the file: `local` is ours, every other key goes to [`CgwConnection`]
/// (with its `deny_unknown_fields`), straight from the TOML deserializer so that errors
/// keep their line numbers.
impl<'de> Deserialize<'de> for ConnectConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(FileVisitor)
    }
}

struct FileVisitor;

impl<'de> Visitor<'de> for FileVisitor {
    type Value = ConnectConfig;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a CGW connection (the keys of a scenario's [tunnel.cgw]) and `local`")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ConnectConfig, A::Error> {
        let mut local = None;
        let cgw =
            CgwConnection::deserialize(serde::de::value::MapAccessDeserializer::new(TakeLocal {
                inner: map,
                local: &mut local,
            }))?;
        Ok(ConnectConfig { local, cgw })
    }
}

/// A map that hands `local` to its slot and everything else on.
struct TakeLocal<'a, A> {
    inner: A,
    local: &'a mut Option<toml::Spanned<Local>>,
}

/// A key: `local`, or another one deserialized by the wrapped seed. The seed comes back
/// unused with `local`, for the next key.
enum Key<S, V> {
    Local(S),
    Other(V),
}

struct KeySeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<S> {
    type Value = Key<S, S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let key = String::deserialize(d)?;
        if key == "local" {
            return Ok(Key::Local(self.0));
        }
        self.0
            .deserialize(serde::de::value::StringDeserializer::<D::Error>::new(key))
            .map(Key::Other)
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for TakeLocal<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let mut seed = seed;
        loop {
            match self.inner.next_key_seed(KeySeed(seed))? {
                None => return Ok(None),
                Some(Key::Other(v)) => return Ok(Some(v)),
                Some(Key::Local(s)) => {
                    *self.local = Some(self.inner.next_value()?);
                    seed = s;
                }
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl ConnectConfig {
    /// Reads and checks a configuration; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<ConnectConfig, ConfigError> {
        let config: ConnectConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            file: file.into(),
            message: e.to_string(),
        })?;
        let invalid = |span: Option<std::ops::Range<usize>>, key: &str, message: String| {
            ConfigError::Invalid {
                file: file.into(),
                line: span.map_or(String::new(), |s| format!(":{}", line_of(text, s.start))),
                key: key.into(),
                message,
            }
        };
        let key_line = |key: &str| {
            text.lines()
                .position(|l| {
                    l.trim_start()
                        .strip_prefix(key)
                        .is_some_and(|r| r.trim_start().starts_with('='))
                })
                .map(|i| {
                    let offset: usize = text.lines().take(i).map(|l| l.len() + 1).sum();
                    offset..offset + 1
                })
        };
        if let Some(local) = &config.local {
            let ip = local.get_ref().ip;
            if !ip.is_loopback() {
                return Err(invalid(
                    Some(local.span()),
                    "local",
                    format!(
                        "{ip} is not a loopback address: a file only binds loopback; to use another address, \
                         give it explicitly with --local"
                    ),
                ));
            }
        }
        let cgw = &config.cgw;
        if let Err((key, message)) = cgw.check() {
            let span = if key.is_empty() { None } else { key_line(key) };
            return Err(invalid(
                span,
                if key.is_empty() { "ike_proposals" } else { key },
                message,
            ));
        }
        if cgw.startup_action == CgwStartup::Add {
            return Err(invalid(
                key_line("startup_action"),
                "startup_action",
                "\"add\" waits for the peer to initiate; `connect` initiates (leave it out, or \"start\")".into(),
            ));
        }
        if cgw.reboot_at.is_some() {
            return Err(invalid(
                key_line("reboot_at"),
                "reboot_at",
                "not supported by `connect`: stop it (kill -9) and start it again instead".into(),
            ));
        }
        if let (Some(c), Some(t)) = (cgw.crash_at, cgw.terminate_at) {
            if t >= c {
                return Err(invalid(
                    key_line("terminate_at"),
                    "terminate_at",
                    format!("{t} is after crash_at ({c}): the CGW is gone by then"),
                ));
            }
        }
        Ok(config)
    }

    pub fn from_file(path: &Path) -> Result<ConnectConfig, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            file: file.clone(),
            source,
        })?;
        ConnectConfig::parse(&text, &file)
    }
}

/// What `connect` runs with besides the file (the command line).
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// The responder: an IP and maybe a port (absent: 500, or 4500 when ours is 4500).
    pub peer: (IpAddr, Option<u16>),
    /// `--local`: our address, any one (naming it is what allows leaving loopback).
    pub local: Option<(IpAddr, Option<u16>)>,
    /// `--psk`: replaces the file's pre-shared key.
    pub psk: Option<String>,
    /// `--duration`: the longest the run may last (default [`DEFAULT_WAIT`], or no limit
    /// with `stay`).
    pub duration: Option<Duration>,
    /// `--stay`: keep the tunnel up (answering DPD, rekeying) until Ctrl-C or `duration`.
    pub stay: bool,
}

/// How the run went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Phase 1 and phase 2 came up (and, with `--stay`, were up at the end).
    Up,
    /// The tunnel did not come up, or went down: why.
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The command line or the file do not make a usable run.
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The addresses of a run: ours (port 0: the OS picks) and the responder's.
pub fn addresses(
    config: &ConnectConfig,
    options: &ConnectOptions,
) -> Result<(SocketAddr, SocketAddr), String> {
    let (local_ip, local_port) = match (options.local, &config.local) {
        (Some((ip, port)), _) => (ip, port),
        (None, Some(l)) => (l.get_ref().ip, l.get_ref().port),
        (None, None) => (DEFAULT_LOCAL, None),
    };
    let (peer_ip, peer_port) = options.peer;
    if local_ip.is_unspecified() {
        return Err(format!(
            "--local {local_ip}: name our address, not a wildcard: the CGW identifies itself (IDi) by it"
        ));
    }
    if peer_ip.is_unspecified() || peer_ip.is_multicast() {
        return Err(format!("--peer {peer_ip}: name the responder's address"));
    }
    if local_ip.is_ipv4() != peer_ip.is_ipv4() {
        return Err(format!(
            "our address {local_ip} and the peer's {peer_ip} are not of the same IP version"
        ));
    }
    if local_ip.is_loopback() && !peer_ip.is_loopback() {
        return Err(format!(
            "the peer {peer_ip} is not on loopback, and our address is {local_ip}: give this machine's address \
             the responder reaches with --local"
        ));
    }
    let local_port = local_port.unwrap_or(0);
    let peer_port = peer_port.unwrap_or(if local_port == NAT_T_PORT {
        NAT_T_PORT
    } else {
        IKE_PORT
    });
    if peer_port == 0 {
        return Err(format!("--peer {peer_ip}:0: name the responder's port"));
    }
    Ok((
        SocketAddr::new(local_ip, local_port),
        SocketAddr::new(peer_ip, peer_port),
    ))
}

/// Runs the CGW: binds, initiates and drives the tunnel on the wall clock.
pub fn connect(config: &ConnectConfig, options: &ConnectOptions) -> Result<Outcome, ConnectError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(connect_async(config, options))
}

/// The short SPI form AWS and strongSwan print.
fn spi64(spi: u64) -> String {
    format!("{spi:016x}")
}

fn spi32(spi: u32) -> String {
    format!("{spi:08x}")
}

fn exchange_name(version: IkeVersion, exchange: ike_wire::ExchangeType) -> String {
    match (version, exchange.0) {
        (IkeVersion::V1, 2) => "main mode".into(),
        (IkeVersion::V1, 32) => "quick mode".into(),
        (IkeVersion::V1, 5) => "informational".into(),
        _ => exchange.to_string(),
    }
}

/// Why a CHILD SA did not come up, in words.
fn child_failure(f: ChildFailure) -> String {
    match f {
        ChildFailure::Incompatible(
            PeerIncompatible::NoProposalChosen { .. },
            Direction::Received,
        ) => "the responder accepted none of our ESP proposals (NO_PROPOSAL_CHOSEN)".into(),
        ChildFailure::Incompatible(PeerIncompatible::NoProposalChosen { .. }, Direction::Sent) => {
            "we accepted none of the peer's ESP proposals (NO_PROPOSAL_CHOSEN)".into()
        }
        ChildFailure::Incompatible(PeerIncompatible::TsUnacceptable, Direction::Received) => {
            "the responder refused our traffic selectors (TS_UNACCEPTABLE / INVALID_ID_INFORMATION)"
                .into()
        }
        ChildFailure::Incompatible(PeerIncompatible::TsUnacceptable, Direction::Sent) => {
            "we refused the peer's traffic selectors (TS_UNACCEPTABLE / INVALID_ID_INFORMATION)"
                .into()
        }
        ChildFailure::Notified(n) => format!("the responder answered {n}"),
        ChildFailure::Misbehaved(m) => format!("the responder's answer is invalid: {m}"),
        ChildFailure::Unconfirmed => "the initiator never confirmed the IPsec SA".into(),
        ChildFailure::Internal => "our own state did not allow the CHILD SA".into(),
    }
}

/// What an event means for the run: a line to log, and whether it is a failure (and why).
struct Described {
    line: String,
    level: tracing::Level,
    failure: Option<String>,
}

fn describe(e: &Event) -> Option<Described> {
    use tracing::Level;
    let v = match e.ike_version {
        IkeVersion::V1 => "IKEv1",
        IkeVersion::V2 => "IKEv2",
    };
    let nat = if e.nat_t_detected {
        ", NAT detected"
    } else {
        ""
    };
    let ok = |line: String| {
        Some(Described {
            line,
            level: Level::INFO,
            failure: None,
        })
    };
    let debug = |line: String| {
        Some(Described {
            line,
            level: Level::DEBUG,
            failure: None,
        })
    };
    let fail = |why: String| {
        Some(Described {
            line: why.clone(),
            level: Level::WARN,
            failure: Some(why),
        })
    };
    let warn = |line: String| {
        Some(Described {
            line,
            level: Level::WARN,
            failure: None,
        })
    };
    match &e.kind {
        EventKind::IkeSaNegotiating { spi_i, .. } => {
            ok(format!("IKE SA negotiating with {} ({v}, SPI {}_i)", e.peer, spi64(*spi_i)))
        }
        EventKind::InvalidKePayload { group, direction: Direction::Received } => {
            ok(format!("the responder asks for DH group {group} (INVALID_KE_PAYLOAD): retrying with it"))
        }
        EventKind::InvalidKePayload { group, direction: Direction::Sent } => {
            debug(format!("sent INVALID_KE_PAYLOAD asking for {group}"))
        }
        EventKind::IkeNoProposalChosen { direction: Direction::Received, .. } => {
            fail("IKE SA failed: the responder accepted none of our IKE proposals (NO_PROPOSAL_CHOSEN)".into())
        }
        EventKind::IkeNoProposalChosen { direction: Direction::Sent, .. } => {
            fail("IKE SA failed: we accepted none of the peer's IKE proposals (NO_PROPOSAL_CHOSEN)".into())
        }
        EventKind::AuthenticationFailed { direction: Direction::Received } => fail(
            "IKE SA failed: the responder rejected our authentication (AUTHENTICATION_FAILED): the pre-shared \
             keys (or the identities the responder expects) differ"
                .into(),
        ),
        EventKind::AuthenticationFailed { direction: Direction::Sent } => fail(
            "IKE SA failed: the responder's AUTH does not verify with our pre-shared key (we sent \
             AUTHENTICATION_FAILED): the pre-shared keys differ"
                .into(),
        ),
        EventKind::PayloadDecryptionFailed => fail(
            "IKE SA failed: the responder's encrypted main mode message does not decrypt or verify with our \
             keys: the pre-shared keys differ"
                .into(),
        ),
        EventKind::IkeSaEstablished { spi_i, spi_r, selected } => ok(format!(
            "IKE SA established with {}: {v}, SPIs {}_i {}_r, {selected}{nat}",
            e.peer,
            spi64(*spi_i),
            spi64(*spi_r)
        )),
        EventKind::ChildSaEstablished { spi_in, spi_out, selected } => ok(format!(
            "CHILD SA established: SPIs {}_i {}_o, {selected}{}",
            spi32(*spi_in),
            spi32(*spi_out),
            if selected.dh.is_some() { " (PFS)" } else { "" }
        )),
        EventKind::ChildSaNegotiating => debug("CHILD SA negotiating (quick mode)".into()),
        EventKind::ChildSaFailed { failure } => fail(format!("CHILD SA failed: {}", child_failure(*failure))),
        EventKind::IkeSaFailed { notify } if *notify == NotifyType::NO_PROPOSAL_CHOSEN => fail(
            "IKE SA failed: the responder chose a proposal we did not offer (NO_PROPOSAL_CHOSEN on our side)".into(),
        ),
        EventKind::IkeSaFailed { notify } => fail(format!("IKE SA failed: {notify}")),
        EventKind::RetransmitsExhausted { exchange, retransmits } => fail(format!(
            "timeout: no answer to our {} request after {retransmits} retransmits",
            exchange_name(e.ike_version, *exchange)
        )),
        EventKind::IkeSaDeleteReceived => warn("the responder deleted the IKE SA".into()),
        EventKind::ChildSaDeleteReceived { spi } => ok(format!("the responder deleted CHILD SA {}", spi32(*spi))),
        EventKind::ChildSaDeleted { spi_in, spi_out } => {
            ok(format!("CHILD SA deleted: SPIs {}_i {}_o", spi32(*spi_in), spi32(*spi_out)))
        }
        EventKind::IkeSaDeleted => ok("IKE SA deleted".into()),
        EventKind::IkeSaDeleteSent => ok("deleting the IKE SA (DELETE sent)".into()),
        EventKind::ChildSaDeleteSent { spi_in } => ok(format!("deleting CHILD SA {}_i (DELETE sent)", spi32(*spi_in))),
        EventKind::HalfOpenTimeout => warn("half-open IKE SA timed out".into()),
        EventKind::DpdTimeout { retransmits, action } => {
            warn(format!("DPD: the responder is dead (no answer after {retransmits} retransmits), action {action:?}"))
        }
        EventKind::CreateChildRequestSent { id } => debug(format!("CREATE_CHILD_SA request {id} sent")),
        EventKind::CreateChildRequestProcessed { id } => debug(format!("CREATE_CHILD_SA request {id} processed")),
        EventKind::CreateChildResponseSent { id } => debug(format!("CREATE_CHILD_SA response {id} sent")),
        EventKind::CreateChildResponseProcessed { id } => debug(format!("CREATE_CHILD_SA response {id} processed")),
        EventKind::ChildSaRekeyed { old_spi_in, spi_in, spi_out } => ok(format!(
            "CHILD SA rekeyed: new SPIs {}_i {}_o (replaces {}_i)",
            spi32(*spi_in),
            spi32(*spi_out),
            spi32(*old_spi_in)
        )),
        EventKind::IkeSaRekeyed { spi_i, spi_r } => {
            ok(format!("IKE SA rekeyed: new SPIs {}_i {}_r", spi64(*spi_i), spi64(*spi_r)))
        }
        EventKind::IkeRekeyFailed { notify } => warn(format!("IKE SA rekey refused by the responder: {notify}")),
        EventKind::RedundantChildSaDeleted { spi_in } => {
            ok(format!("rekey collision: deleting the redundant CHILD SA {}_i", spi32(*spi_in)))
        }
        EventKind::ChildRekeyCollisionDelete { spi } => {
            ok(format!("the responder deleted CHILD SA {} while we rekeyed it", spi32(*spi)))
        }
        _ => debug(format!("{:?}", e.kind)),
    }
}

fn log(d: &Described) {
    match d.level {
        tracing::Level::WARN => tracing::warn!("{}", d.line),
        tracing::Level::INFO => tracing::info!("{}", d.line),
        _ => tracing::debug!("{}", d.line),
    }
}

/// What the run has seen so far.
#[derive(Default)]
struct Progress {
    phase1_up: bool,
    phase2_up: bool,
    /// The first reason the tunnel did not come up (or went down).
    failure: Option<String>,
    /// The last thing that took the tunnel down after it was up.
    down: Option<String>,
    /// We sent an encrypted main mode message (IKEv1 message 5).
    sent_mm5: bool,
}

impl Progress {
    fn event(&mut self, e: &Event) {
        if let Some(d) = describe(e) {
            log(&d);
            if let Some(why) = d.failure {
                let before_up = !(self.phase1_up && self.phase2_up);
                if before_up {
                    self.failure.get_or_insert(why);
                } else {
                    self.down = Some(why);
                }
            } else if d.level == tracing::Level::WARN
                || matches!(e.kind, EventKind::ChildSaDeleteReceived { .. })
            {
                self.down = Some(d.line);
            }
        }
        match e.kind {
            EventKind::IkeSaEstablished { .. } => self.phase1_up = true,
            EventKind::ChildSaEstablished { .. } => self.phase2_up = true,
            _ => {}
        }
    }

    fn up(&self) -> bool {
        self.phase1_up && self.phase2_up
    }
}

/// An unprotected IKEv1 informational with an error notification (RFC 2408 §3.14.1),
/// which the core does not act on (nothing proves who sent it) — but while phase 1 is
/// being negotiated it is the responder telling us why it gave up.
fn v1_plain_error(data: &[u8]) -> Option<ike_wire::v1::NotifyType> {
    use ike_wire::v1::{Body, ExchangeType, Message, Payload};
    if ike_wire::ike_major_version(data) != Some(1) {
        return None;
    }
    let msg = Message::parse(data).ok()?;
    if msg.header.exchange != ExchangeType::INFORMATIONAL {
        return None;
    }
    let Body::Plain(payloads) = &msg.body else {
        return None;
    };
    payloads.iter().find_map(|p| match p {
        Payload::Notification(n) if n.ty.is_error() => Some(n.ty),
        _ => None,
    })
}

fn v1_error_reason(ty: ike_wire::v1::NotifyType, sent_mm5: bool) -> String {
    use ike_wire::v1::NotifyType as N;
    let hint = match ty {
        N::PAYLOAD_MALFORMED | N::INVALID_PAYLOAD_TYPE | N::INVALID_HASH_INFORMATION | N::AUTHENTICATION_FAILED
            if sent_mm5 =>
        {
            ": it could not decrypt or verify our main mode message 5, whose keys come from the pre-shared key — \
             the pre-shared keys differ"
        }
        N::INVALID_ID_INFORMATION => ": it does not accept our identity (IDi is our IP address)",
        _ => "",
    };
    format!("IKE SA failed: the responder sent {ty} (an unprotected notification) during main mode{hint}")
}

/// The CGW's sockets: its IKE port, and a NAT-T port next to it (4500 when the IKE port is
/// 500, else one the OS picks) unless the IKE port is 4500 itself.
async fn bind_ports(
    local: SocketAddr,
) -> Result<Vec<(PortRole, SocketAddr, UdpSocket)>, ConnectError> {
    let bind = |addr: SocketAddr| async move {
        let socket = UdpSocket::bind(addr)
            .await
            .map_err(|e| ConnectError::BadInput(format!("cannot bind {addr}: {e}")))?;
        let addr = socket.local_addr()?;
        Ok::<_, ConnectError>((addr, socket))
    };
    let (ike, socket) = bind(local).await?;
    let mut ports = vec![(PortRole::Single, ike, socket)];
    if ike.port() != NAT_T_PORT {
        let port = if ike.port() == IKE_PORT {
            NAT_T_PORT
        } else {
            0
        };
        let (nat_t, socket) = bind(SocketAddr::new(ike.ip(), port)).await?;
        ports.push((PortRole::NatT, nat_t, socket));
    }
    Ok(ports)
}

/// Receives on whichever socket has a datagram first: (its index, (length, source)).
async fn recv_any(
    ports: &[(PortRole, SocketAddr, UdpSocket)],
    buf: &mut [u8],
) -> std::io::Result<(usize, (usize, SocketAddr))> {
    match ports {
        [(_, _, a)] => a.recv_from(buf).await.map(|got| (0, got)),
        [(_, _, a), (_, _, b), ..] => loop {
            // Readiness first, then the read, so no datagram is taken and then dropped.
            let got = tokio::select! {
                r = a.readable() => r.and_then(|()| a.try_recv_from(buf)).map(|got| (0, got)),
                r = b.readable() => r.and_then(|()| b.try_recv_from(buf)).map(|got| (1, got)),
            };
            match got {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                other => return other,
            }
        },
        [] => std::future::pending().await,
    }
}

/// Whether a datagram we send is an encrypted IKEv1 main mode message (message 5).
fn is_v1_mm_encrypted(d: &[u8]) -> bool {
    d.len() >= 28 && d[17] == 0x10 && d[18] == 2 && d[19] & 1 == 1
}

async fn connect_async(
    config: &ConnectConfig,
    options: &ConnectOptions,
) -> Result<Outcome, ConnectError> {
    let (local, peer) = addresses(config, options).map_err(ConnectError::BadInput)?;
    let psk = match (&options.psk, &config.cgw.pre_shared_key) {
        (Some(p), _) | (None, Some(p)) => p.clone(),
        (None, None) => {
            return Err(ConnectError::BadInput(
                "no pre-shared key: set pre_shared_key in the file or give --psk".into(),
            ))
        }
    };
    if psk.is_empty() {
        return Err(ConnectError::BadInput("the pre-shared key is empty".into()));
    }
    let ports = bind_ports(local).await?;
    let local = ports[0].1;
    let endpoint_config = config.cgw.endpoint_config(&psk);
    let mut endpoint = Endpoint::new(endpoint_config, local, rand::random());
    if let Some((_, nat_t, _)) = ports.get(1) {
        endpoint.set_nat_t_ports(NatTPorts {
            local: Some(nat_t.port()),
            peer: None,
        });
    }
    let marker = PortRole::Single.uses_marker(local, peer);
    eprintln!(
        "ikesim connect: CGW {local} -> responder {peer}, IKEv{}{}{}",
        config.cgw.ike_version,
        if marker {
            " (non-ESP marker: neither port is 500)"
        } else {
            ""
        },
        ports.get(1).map_or(String::new(), |(_, a, _)| format!(
            "; NAT-T port {}",
            a.port()
        ))
    );

    let t0 = Instant::now();
    let cgw = &config.cgw;
    let terminate_at = cgw.terminate_at.map(|d| t0 + d.0);
    let crash_at = cgw.crash_at.map(|d| t0 + d.0);
    // A CGW that is told to do something later stays until then.
    let stay = options.stay || terminate_at.is_some() || crash_at.is_some();
    let limit = options
        .duration
        .or((!stay).then_some(DEFAULT_WAIT))
        .map(|d| t0 + d);

    endpoint.initiate(t0, peer);
    if endpoint.poll_timeout().is_none() {
        return Err(ConnectError::BadInput(format!(
            "cannot start negotiating: none of ike_proposals can be offered in IKEv{} (IKEv1 has no AES-GCM for \
             phase 1)",
            cgw.ike_version
        )));
    }

    let mut progress = Progress::default();
    let mut shutdown = std::pin::pin!(crate::serve::shutdown_signal());
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut foreign = 0u64;
    let mut esp = 0u64;
    // Set once the run is ending: the deadline for the DELETE exchange.
    let mut closing: Option<Instant> = None;
    let mut reason_end: Option<String> = None;
    let mut crashed = false;
    let mut timed_out = false;
    // Whether anything at all came from the responder.
    let mut heard = false;
    // The phase states when the run decided to end (before our own DELETE).
    let mut states_at_end: Option<(SaState, SaState)> = None;

    loop {
        // Events first (they decide the outcome), then datagrams.
        while let Some(e) = endpoint.poll_event() {
            progress.event(&e);
        }
        while let Some(t) = endpoint.poll_transmit() {
            if endpoint.config().ike_version == IkeVersion::V1 && is_v1_mm_encrypted(&t.payload) {
                progress.sent_mm5 = true;
            }
            let Some((role, _, socket)) = ports.iter().find(|(_, a, _)| *a == t.src) else {
                continue;
            };
            let datagram = role.frame(t.src, t.dst, t.payload);
            tracing::debug!(src = %t.src, dst = %t.dst, len = datagram.len(), "send");
            if let Err(e) = socket.send_to(&datagram, t.dst).await {
                tracing::warn!(dst = %t.dst, "send failed: {e}");
            }
        }
        let now = Instant::now();
        if let Some(at) = closing {
            // Shutting down: done once the DELETE exchange is over (IKEv2: answered; IKEv1
            // has no answer), or we waited long enough.
            if endpoint.poll_timeout().is_none() || now >= at {
                break;
            }
        } else {
            let end = if progress.failure.is_some() || (progress.up() && !stay) {
                Some(None)
            } else if endpoint.poll_timeout().is_none() {
                // Nothing is left to happen: abandoned, or down for good.
                Some(None)
            } else if crash_at.is_some_and(|t| now >= t) {
                crashed = true;
                Some(Some("crash_at reached: the CGW goes silent".to_owned()))
            } else if terminate_at.is_some_and(|t| now >= t) {
                Some(Some("terminate_at reached".to_owned()))
            } else if limit.is_some_and(|t| now >= t) {
                timed_out = true;
                Some(Some(match options.duration {
                    Some(d) => format!("--duration {} reached", crate::SimDuration(d)),
                    None => format!("no result within {}", crate::SimDuration(DEFAULT_WAIT)),
                }))
            } else {
                None
            };
            if let Some(why) = end {
                if let Some(why) = &why {
                    tracing::info!("{why}: ending");
                }
                reason_end = why;
                states_at_end = Some(endpoint.phase_states());
                if crashed {
                    break;
                }
                // A CGW shutting down deletes its IKE SA (the responder logs the DELETE).
                if endpoint.ike_sas().is_empty() {
                    break;
                }
                endpoint.delete_ike_sas(now);
                closing = Some(now + DELETE_WAIT);
                continue;
            }
        }

        let next = [
            endpoint.poll_timeout(),
            limit,
            terminate_at,
            crash_at,
            closing,
        ]
        .into_iter()
        .flatten()
        .min();
        let timer = async {
            match next {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            signal = &mut shutdown, if closing.is_none() => {
                tracing::info!("{signal}: stopping");
                reason_end = Some(signal.to_owned());
                states_at_end = Some(endpoint.phase_states());
                if endpoint.ike_sas().is_empty() {
                    break;
                }
                endpoint.delete_ike_sas(Instant::now());
                closing = Some(Instant::now() + DELETE_WAIT);
            }
            got = recv_any(&ports, &mut buf) => {
                let (port, (n, from)) = match got {
                    Ok(x) => x,
                    Err(e) => {
                        // E.g. ICMP port unreachable: the responder is not there (yet).
                        tracing::debug!("receive error: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                if from.ip() != peer.ip() {
                    foreign += 1;
                    tracing::debug!(%from, "datagram from an address other than the responder's dropped");
                    continue;
                }
                heard = true;
                let data = &buf[..n];
                let (role, local, _) = &ports[port];
                let local = *local;
                match role.classify(local, from, data) {
                    Received::Ike(message) => {
                        tracing::debug!(%from, %local, len = message.len(), "receive");
                        let now = Instant::now();
                        let undecryptable = endpoint.stats().integrity_failures;
                        endpoint.handle(now, local, from, message);
                        let undecryptable = endpoint.stats().integrity_failures > undecryptable;
                        let (p1, _) = endpoint.phase_states();
                        if undecryptable && progress.sent_mm5 && p1 == SaState::Negotiating {
                            // IKEv1 with a wrong PSK: the responder cannot decrypt message 5
                            // and says so (strongSwan: PAYLOAD_MALFORMED) encrypted with its
                            // own keys, which are not ours. The core ignores what it cannot
                            // read (and would retransmit for minutes); we can tell why.
                            let why = "IKE SA failed: the responder answered our main mode message 5 with an \
                                       encrypted message that does not decrypt with our keys — its keys differ \
                                       from ours, so the pre-shared keys differ"
                                .to_owned();
                            tracing::warn!("{why}");
                            progress.failure.get_or_insert(why);
                        }
                        if let Some(ty) = v1_plain_error(message) {
                            let (p1, _) = endpoint.phase_states();
                            if p1 == SaState::Negotiating && ty != ike_wire::v1::NotifyType::NO_PROPOSAL_CHOSEN {
                                let why = v1_error_reason(ty, progress.sent_mm5);
                                tracing::warn!("{why}");
                                progress.failure.get_or_insert(why);
                            }
                        }
                    }
                    Received::Keepalive => tracing::trace!(%from, "NAT-keepalive"),
                    Received::UnmarkedIke => tracing::warn!(
                        %from,
                        "IKE message without the non-ESP marker dropped: when neither port is 500 every IKE \
                         datagram must start with four zero bytes (RFC 3948 §2.2)"
                    ),
                    Received::Esp => {
                        esp += 1;
                        tracing::debug!(%from, len = n, "ESP datagram (no ESP data plane here: counted)");
                    }
                }
            }
            () = timer => {
                let now = Instant::now();
                if endpoint.poll_timeout().is_some_and(|at| at <= now) {
                    endpoint.handle_timeout(now);
                }
            }
        }
    }
    // What the last datagrams said (the answer to our DELETE).
    while let Some(e) = endpoint.poll_event() {
        progress.event(&e);
    }
    tracing::debug!(stats = ?endpoint.stats(), esp, foreign, "counters");

    let alive = |s: SaState| matches!(s, SaState::Established | SaState::Rekeying);
    let (p1, p2) = states_at_end.unwrap_or_else(|| endpoint.phase_states());
    let outcome = match &progress.failure {
        Some(why) => Outcome::Failed(why.clone()),
        None if !progress.phase1_up && cgw.abandon_after_ike_sa_init => Outcome::Failed(
            "abandoned after IKE_SA_INIT (IKEv1: main mode 4), as configured (abandon_after_ike_sa_init): the responder is left with a \
             half-open IKE SA"
                .into(),
        ),
        None if !progress.phase1_up && !heard => Outcome::Failed(format!(
            "{}no answer from {peer}{} — is a responder listening there? (IKE's port is 500; `ikesim serve` \
             listens on 4500)",
            if timed_out { "timeout: " } else { "" },
            reason_end.as_ref().map_or(String::new(), |r| format!(" ({r})"))
        )),
        None if !progress.phase1_up => Outcome::Failed(match &reason_end {
            Some(r) if timed_out => format!("timeout: phase 1 did not come up ({r})"),
            Some(r) => format!("phase 1 did not come up ({r})"),
            None => "phase 1 did not come up".into(),
        }),
        None if !progress.phase2_up => Outcome::Failed(match &reason_end {
            Some(r) if timed_out => format!("timeout: phase 1 came up, phase 2 did not ({r})"),
            Some(r) => format!("phase 1 came up, phase 2 did not ({r})"),
            None => "phase 1 came up, phase 2 did not".into(),
        }),
        // With --stay (or a configured terminate/crash) the tunnel must still have been up
        // when the run ended; our own DELETE at the end does not count.
        None if stay && !(alive(p1) && alive(p2)) => Outcome::Failed(match &progress.down {
            Some(down) => format!("the tunnel came up, then went down: {down}"),
            None => "the tunnel came up, then went down".into(),
        }),
        None => Outcome::Up,
    };
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConnectConfig, String> {
        ConnectConfig::parse(text, "c.toml").map_err(|e| e.to_string())
    }

    #[test]
    fn the_template_parses_and_local_is_taken_out_of_the_cgw_keys() {
        let c = parse(TEMPLATE).unwrap();
        assert_eq!(
            c.local.as_ref().map(|l| *l.get_ref()),
            Some(Local {
                ip: DEFAULT_LOCAL,
                port: None
            })
        );
        assert_eq!(
            c.cgw.pre_shared_key.as_deref(),
            Some("ikesim.example_psk_1")
        );
        assert_eq!(c.cgw.ike_proposals[0].0, "aes256-sha256-modp2048");
        // `local` may come anywhere, with a port; everything else is [tunnel.cgw]'s.
        let c = parse("ike_version = 1\nlocal = \"127.0.2.1:4500\"\nrekey = false\n").unwrap();
        assert_eq!(
            c.local.map(|l| *l.get_ref()),
            Some(Local {
                ip: "127.0.2.1".parse().unwrap(),
                port: Some(4500)
            })
        );
        assert_eq!((c.cgw.ike_version, c.cgw.rekey), (1, false));
        let c = parse("").unwrap();
        assert!(c.local.is_none() && c.cgw.pre_shared_key.is_none());
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = parse("ike_version = 2\nfoo = 1\n").unwrap_err();
        assert!(
            e.contains("c.toml") && e.contains("line 2") && e.contains("unknown field `foo`"),
            "{e}"
        );
        let e = parse("\nike_proposals = [\"aes128-sha9-modp2048\"]\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("sha9"), "{e}");
        let e = parse("local = \"nowhere\"\n").unwrap_err();
        assert!(e.contains("line 1") && e.contains("nowhere"), "{e}");
        let e = parse("ike_version = 2\nlocal = \"192.0.2.1\"\n").unwrap_err();
        assert!(
            e.starts_with("c.toml:2: `local`") && e.contains("--local"),
            "{e}"
        );
        let e = parse("ike_version = 3\n").unwrap_err();
        assert!(e.starts_with("c.toml:1: `ike_version`"), "{e}");
        let e = parse("startup_action = \"add\"\n").unwrap_err();
        assert!(
            e.contains("`startup_action`") && e.contains("initiates"),
            "{e}"
        );
        assert!(
            parse("ike_version = 1\nabandon_after_ike_sa_init = true\n").is_ok(),
            "IKEv1: after main mode 4"
        );
        let e = parse("reboot_at = \"1m\"\n").unwrap_err();
        assert!(e.contains("`reboot_at`"), "{e}");
    }

    #[test]
    fn addresses_default_to_loopback_and_ike_ports() {
        let config = ConnectConfig::default();
        let opts = |peer: &str, local: Option<&str>| ConnectOptions {
            peer: parse_addr(peer).unwrap(),
            local: local.map(|l| parse_addr(l).unwrap()),
            psk: None,
            duration: None,
            stay: false,
        };
        let (l, p) = addresses(&config, &opts("127.0.0.1", None)).unwrap();
        assert_eq!(
            (l, p),
            (
                "127.0.0.1:0".parse().unwrap(),
                "127.0.0.1:500".parse().unwrap()
            )
        );
        let (_, p) = addresses(&config, &opts("127.0.1.1", Some("127.0.2.1:4500"))).unwrap();
        assert_eq!(p, "127.0.1.1:4500".parse().unwrap());
        let (_, p) = addresses(&config, &opts("127.0.1.1:14500", None)).unwrap();
        assert_eq!(p.port(), 14500);
        let e = addresses(&config, &opts("192.0.2.1", None)).unwrap_err();
        assert!(e.contains("--local"), "{e}");
        assert!(addresses(&config, &opts("192.0.2.1", Some("192.0.2.10"))).is_ok());
        assert!(addresses(&config, &opts("127.0.0.1", Some("0.0.0.0")))
            .unwrap_err()
            .contains("wildcard"));
        assert!(addresses(&config, &opts("::1", None))
            .unwrap_err()
            .contains("IP version"));
        assert!(parse_addr("localhost").is_err());
    }

    #[test]
    fn v1_plain_error_notifications_are_read() {
        use ike_wire::v1::{
            doi, protocol, Body, ExchangeType, Flags, Header, Message, Notification, Payload,
        };
        let header = Header {
            cky_i: 1,
            cky_r: 2,
            next_payload: ike_wire::v1::PayloadType::NONE,
            major: 1,
            minor: 0,
            exchange: ExchangeType::INFORMATIONAL,
            flags: Flags(0),
            message_id: 0,
            length: 0,
        };
        let n = Notification {
            doi: doi::IPSEC,
            protocol: protocol::ISAKMP,
            spi: Vec::new(),
            ty: ike_wire::v1::NotifyType::PAYLOAD_MALFORMED,
            data: Vec::new(),
        };
        let d = Message {
            header,
            body: Body::Plain(vec![Payload::Notification(n)]),
        }
        .encode();
        assert_eq!(
            v1_plain_error(&d),
            Some(ike_wire::v1::NotifyType::PAYLOAD_MALFORMED)
        );
        assert!(
            v1_error_reason(ike_wire::v1::NotifyType::PAYLOAD_MALFORMED, true)
                .contains("pre-shared keys differ")
        );
        assert_eq!(v1_plain_error(b"\x00\x01"), None);
        assert!(!is_v1_mm_encrypted(&d));
    }
}
