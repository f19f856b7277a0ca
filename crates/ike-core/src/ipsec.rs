//! What the core tells the data plane: the ESP SAs to install and remove, as charon tells
//! the kernel through its `kernel_ipsec` interface (`add_sa`, `del_sa`, `update_sa`). The
//! core negotiates CHILD SAs and derives their KEYMAT (RFC 7296 §2.17; IKEv1 quick mode,
//! RFC 2409 §5.5); what carries packets with them is the data plane's (`esp`, driven by
//! `sim`). Opt-in with `EndpointConfig::data_plane`, drained with `Endpoint::poll_ipsec`
//! after every input like the events; without it nothing is queued.
//!
//! # Order and lifetime
//! - [`IpsecChange::Install`] when a CHILD SA is installed — with IKE_AUTH, a
//!   CREATE_CHILD_SA (new or rekey), IKEv1 quick mode — on both sides. From then on its
//!   inbound SA takes packets and its outbound SA is the one to send with (for a rekey:
//!   in place of the outbound SA of the CHILD SA it `replaces`, whose inbound SA keeps
//!   taking packets until its own [`IpsecChange::Remove`], so nothing in flight is lost at
//!   a rekey — as strongSwan does). The responder of an IKEv2 rekey (no collision) sends
//!   on the new SA only once the old one is removed (`EspSaPair::defer_outbound`): the
//!   initiator installs its inbound side when the response arrives, so what the
//!   responder sent on the new SA before that would be lost; the initiator's DELETE of
//!   the old SA comes after it installed both sides. strongSwan's responder does the same
//!   (it installs the new outbound SA once the old SA is deleted).
//!   Both ends of a rekey collision (RFC 7296 §2.8.1) install both new SAs, each with
//!   `replaces` naming the old SA, each end in its own order (on an orderly path: the
//!   one its answer to the peer's request made, then its own exchange's). Only the first
//!   of them should take over the old SA's outbound SA; the second only receives, and
//!   sends once the first is removed. That keeps a collision lossless: each end goes on
//!   sending on the SA it installed first — the redundant one, at one end — and the peer
//!   holds that SA's inbound side until the DELETE, which leaves after those packets, has
//!   been answered; whereas the end that deletes its own exchange's SA would lose what
//!   it sent on it meanwhile. The rule for the data plane: among live pairs that replace
//!   the same SA, the one installed first sends.
//! - [`IpsecChange::Remove`] when a CHILD SA goes, for whatever reason (DELETE sent or
//!   received — IKEv2 once its exchange is done, IKEv1 at once —, the old SA of a rekey
//!   and the redundant one of a collision once deleted, expiry, its IKE SA deleted,
//!   expired, closed by DPD or by INITIAL_CONTACT, `Endpoint::forget_child_sas`, an IKEv1
//!   ISAKMP SA deleted with no other to take its IPsec SAs over): both of its SAs go.
//!   Every `Install` is followed by exactly one `Remove` of the same `spi_in`, unless the
//!   endpoint itself is dropped (a crash: the data plane goes with it). A CHILD SA that
//!   moves to another IKE SA — an IKEv2 IKE rekey's new SA inherits them (RFC 7296 §2.8),
//!   an IKEv1 ISAKMP SA replacing another takes its IPsec SAs over — stays as it is: no
//!   change is queued, and its `EspSaPair::ike_sa` still names the IKE SA that negotiated
//!   it.
//! - [`IpsecChange::Update`] when the outer addresses of an installed CHILD SA change.
//!   The core moves an SA's ports in one case only once CHILD SAs are up: a responder
//!   follows a peer behind a NAT to the address its last authenticated message came from
//!   (RFC 7296 §2.23, RFC 3947 §5; `nat_t`). The move to the NAT-T ports happens before
//!   IKE_AUTH or main mode message 5, so before any CHILD SA is installed.
//!
//! The changes come from one comparison after each input of what the SAs hold with what
//! the data plane was told (`endpoint::ledger`), not from each place a CHILD SA comes or
//! goes: no path can forget to tell.

use std::net::SocketAddr;

use ike_wire::{EncrId, IntegId, TrafficSelector};

use crate::event::{IkeVersion, SaHandle};

/// One change to the data plane's SA database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IpsecChange {
    /// A CHILD SA (an ESP SA pair) is installed. Boxed: the keys make it large.
    Install(Box<EspSaPair>),
    /// The CHILD SA whose inbound SPI is `spi_in` is gone, both directions.
    Remove {
        /// Our inbound SPI of the CHILD SA that goes.
        spi_in: u32,
    },
    /// The outer addresses of the CHILD SA whose inbound SPI is `spi_in` changed.
    Update {
        /// Our inbound SPI of the CHILD SA.
        spi_in: u32,
        /// Our address (IP and port) its packets leave from.
        local: SocketAddr,
        /// The peer's address (IP and port) its packets go to.
        remote: SocketAddr,
        /// Whether its packets are UDP-encapsulated (RFC 3948) from now on.
        encapsulated: bool,
    },
}

/// The keys of one direction of a CHILD SA.
#[derive(Clone, PartialEq, Eq)]
pub struct EspKeys {
    /// Encryption key material; for AES-GCM the key and then the 4-byte salt (RFC 4106
    /// §8.1).
    pub encryption: Vec<u8>,
    /// The integrity key; empty with an AEAD cipher.
    pub integrity: Vec<u8>,
}

impl std::fmt::Debug for EspKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EspKeys")
            .field(
                "encryption",
                &format_args!("<{} bytes>", self.encryption.len()),
            )
            .field(
                "integrity",
                &format_args!("<{} bytes>", self.integrity.len()),
            )
            .finish()
    }
}

/// A CHILD SA as the data plane installs it: an inbound and an outbound ESP SA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EspSaPair {
    /// The IKE SA that negotiated it (after an IKE rekey the CHILD SA lives on under the
    /// new one, unchanged here).
    pub ike_sa: SaHandle,
    /// The version that negotiated it.
    pub ike_version: IkeVersion,
    /// The SPI we receive with (ours) and the one we send with (the peer's).
    pub spi_in: u32,
    /// The SPI we send with: the peer's choice.
    pub spi_out: u32,
    /// The ESP cipher (RFC 7296 §3.3.2).
    pub encryption: EncrId,
    /// Its key length, for ciphers with a variable one.
    pub key_bits: Option<u16>,
    /// The integrity algorithm; `None` with an AEAD cipher.
    pub integrity: Option<IntegId>,
    /// Extended sequence numbers were negotiated (RFC 4303 §2.2.1).
    pub esn: bool,
    /// The keys of what we receive.
    pub inbound: EspKeys,
    /// The keys of what we send.
    pub outbound: EspKeys,
    /// Our traffic selectors: what we send comes from inside them, what we receive goes
    /// to inside them.
    pub ts_local: Vec<TrafficSelector>,
    /// The peer's traffic selectors.
    pub ts_remote: Vec<TrafficSelector>,
    /// Our address (IP and port) its packets leave from: with UDP encapsulation, our NAT-T
    /// port.
    pub local: SocketAddr,
    /// The peer's address (IP and port) its packets go to.
    pub remote: SocketAddr,
    /// Whether its packets are UDP-encapsulated (RFC 3948): a NAT was detected (or faked),
    /// or the IKE SA floated to the NAT-T port.
    pub encapsulated: bool,
    /// For a rekey, the inbound SPI of the CHILD SA this one replaces (installed: the
    /// core names no SA the data plane does not hold). Two pairs may replace the same SA
    /// after a rekey collision; see the module doc for which one sends.
    pub replaces: Option<u32>,
    /// With `replaces`: this pair sends only once the pair it replaces is removed — we
    /// answered the peer's IKEv2 rekey, and the peer installs its inbound side of the new
    /// SA only when our response arrives (see the module doc). Never set for IKEv1, for
    /// either end of a rekey collision, or for the initiator of a rekey.
    pub defer_outbound: bool,
}
