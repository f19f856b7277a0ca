//! The floors: the work a run cannot avoid, done back to back with no protocol, no state
//! machine and no simulated network, on ike-crypto's own primitives (the ones ike-core
//! calls) — so that a figure over its floor says what the protocol and IO cost on top.
//!
//! A handshake's crypto is counted from ike-core (the calls named in [`HandshakeOps`]),
//! for both peers together: what one full-stack establishment computes on the initiator
//! and the responder. The byte counts that feed the hashes and ciphers (the IKE_SA_INIT
//! messages AUTH signs, the IKE_AUTH plaintexts, the IKEv1 messages 5 and 6 and quick
//! mode's three) are the sizes of ikesim's own messages with the suite's key exchange:
//! the cost of an HMAC or AES over a few hundred bytes is a microsecond either way, far
//! below a DH computation.

use std::net::{Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant};

use ike_core::ProposalKind;
use ike_wire::DhGroup;

use super::{BenchError, Lap, Stopwatch};

mod handshake;
mod packet;
use handshake::{dh, ikev1_handshake, ikev2_handshake, transforms};
pub use packet::PacketFloor;

/// The suite of a handshake figure: what the CGW proposes (and AWS accepts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeSuite {
    /// IKEv2, `aes128gcm16-prfsha256-ecp256`: AES-GCM protects IKE_AUTH (RFC 5282).
    Ikev2Ecp256Gcm,
    /// IKEv2, `aes128-sha256-modp2048`: AES-CBC with HMAC-SHA-256-128 (RFC 3602, 4868).
    Ikev2Modp2048Cbc,
    /// IKEv1 main mode + quick mode, `aes128-sha256-modp2048` in both phases, so quick
    /// mode does a second DH (PFS, which AWS's IKEv1 tunnels use).
    Ikev1Modp2048Cbc,
}

impl HandshakeSuite {
    /// Every suite the bench measures, in the order it prints them.
    pub const ALL: [HandshakeSuite; 3] = [
        HandshakeSuite::Ikev2Ecp256Gcm,
        HandshakeSuite::Ikev2Modp2048Cbc,
        HandshakeSuite::Ikev1Modp2048Cbc,
    ];

    /// The figure's name.
    pub fn label(self) -> &'static str {
        match self {
            HandshakeSuite::Ikev2Ecp256Gcm => "IKEv2 ECP-256 AES-GCM",
            HandshakeSuite::Ikev2Modp2048Cbc => "IKEv2 MODP-2048 AES-CBC-SHA256",
            HandshakeSuite::Ikev1Modp2048Cbc => "IKEv1 MODP-2048 AES-CBC-SHA256 (PFS)",
        }
    }

    /// 1 or 2 (the scenario's `ike_version`).
    pub fn ike_version(self) -> u8 {
        match self {
            HandshakeSuite::Ikev1Modp2048Cbc => 1,
            _ => 2,
        }
    }

    /// The CGW's IKE proposal, in the scenario's keywords.
    pub fn ike_proposal(self) -> &'static str {
        match self {
            HandshakeSuite::Ikev2Ecp256Gcm => "aes128gcm16-prfsha256-ecp256",
            HandshakeSuite::Ikev2Modp2048Cbc | HandshakeSuite::Ikev1Modp2048Cbc => {
                "aes128-sha256-modp2048"
            }
        }
    }

    /// The CGW's ESP proposal. IKEv2's first CHILD SA comes with IKE_AUTH, which has no
    /// KE payload (RFC 7296 §1.2), so its PFS group does not enter the handshake.
    pub fn esp_proposal(self) -> &'static str {
        match self {
            HandshakeSuite::Ikev2Ecp256Gcm => "aes128gcm16-ecp256",
            HandshakeSuite::Ikev2Modp2048Cbc | HandshakeSuite::Ikev1Modp2048Cbc => {
                "aes128-sha256-modp2048"
            }
        }
    }

    /// The crypto one establishment computes, both peers together.
    pub fn ops(self) -> HandshakeOps {
        match self {
            HandshakeSuite::Ikev1Modp2048Cbc => HandshakeOps::IKEV1_PFS,
            _ => HandshakeOps::IKEV2,
        }
    }
}

/// What one establishment (IKE SA + first CHILD SA) computes, both peers together, by
/// the ike-crypto call ike-core makes (counted in ike-core's `sa/` and `v1/`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HandshakeOps {
    /// `KeyExchange::generate`: one ephemeral key pair per peer per DH.
    pub dh_key_pairs: u32,
    /// `KeyExchange::shared_secret`: one per peer per DH.
    pub dh_shared_secrets: u32,
    /// NAT detection hashes (IKEv2 `nat_detection_hash`, IKEv1 `nat_d`): each peer hashes
    /// two addresses for the two it sends and two to check the two it receives.
    pub nat_hashes: u32,
    /// Key schedule runs: IKEv2 SKEYSEED + prf+ (RFC 7296 §2.14), IKEv1 SKEYID + its
    /// SKEYID_d/a/e chain (RFC 2409 §5); one per peer.
    pub ike_key_schedules: u32,
    /// SK ciphers / CBC contexts keyed: IKEv2 two per peer (one per direction), IKEv1 one
    /// per peer (one key both ways, RFC 2409 App. B).
    pub ciphers_keyed: u32,
    /// Authentications computed: IKEv2 `psk_auth` (each peer makes its own AUTH and checks
    /// the other's), IKEv1 HASH_I and HASH_R (each made once and checked once).
    pub auths: u32,
    /// Messages encrypted (and as many decrypted): IKEv2's IKE_AUTH request and response,
    /// IKEv1's main mode 5 and 6 and quick mode's three.
    pub messages_sealed: u32,
    /// Quick mode HASH(1), HASH(2), HASH(3), each made once and checked once (IKEv1).
    pub qm_hashes: u32,
    /// CHILD SA key material: IKEv2 `child_keymat` once per peer, IKEv1 `qm_keymat` per
    /// peer per direction.
    pub child_keymats: u32,
}

impl HandshakeOps {
    /// IKEv2 IKE_SA_INIT + IKE_AUTH with the first CHILD SA (RFC 7296 §1.2).
    pub const IKEV2: HandshakeOps = HandshakeOps {
        dh_key_pairs: 2,
        dh_shared_secrets: 2,
        nat_hashes: 8,
        ike_key_schedules: 2,
        ciphers_keyed: 4,
        auths: 4,
        messages_sealed: 2,
        qm_hashes: 0,
        child_keymats: 2,
    };

    /// IKEv1 main mode with a PSK + quick mode with PFS (RFC 2409 §5.4, §5.5).
    pub const IKEV1_PFS: HandshakeOps = HandshakeOps {
        dh_key_pairs: 4,
        dh_shared_secrets: 4,
        nat_hashes: 8,
        ike_key_schedules: 2,
        ciphers_keyed: 2,
        auths: 4,
        messages_sealed: 5,
        qm_hashes: 6,
        child_keymats: 4,
    };

    /// The DH computations (key pairs and shared secrets): what dominates.
    pub fn dh_computations(&self) -> u32 {
        self.dh_key_pairs + self.dh_shared_secrets
    }

    /// A one-line account for the report: `4 DH (2 key pairs, 2 secrets), 8 NAT hashes, …`.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!(
            "{} DH ({} key pairs, {} shared secrets)",
            self.dh_computations(),
            self.dh_key_pairs,
            self.dh_shared_secrets
        )];
        let rest = [
            (self.nat_hashes, "NAT hashes"),
            (self.ike_key_schedules, "key schedules"),
            (self.ciphers_keyed, "ciphers keyed"),
            (self.auths, "AUTH/HASH_I/R"),
            (self.messages_sealed, "messages sealed and opened"),
            (self.qm_hashes, "quick mode hashes"),
            (self.child_keymats, "CHILD keymats"),
        ];
        parts.extend(
            rest.iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, what)| format!("{n} {what}")),
        );
        parts.join(", ")
    }
}

/// One establishment's crypto for `suite`, both peers; says what it computed.
pub fn handshake_crypto(suite: HandshakeSuite) -> Result<HandshakeOps, BenchError> {
    let v1 = suite.ike_version() == 1;
    let ike = transforms(suite.ike_proposal(), ProposalKind::Ike)?;
    let mut esp = transforms(suite.esp_proposal(), ProposalKind::Esp)?;
    esp.prf = ike.prf;
    if v1 {
        ikev1_handshake(&ike, &esp)
    } else {
        ikev2_handshake(&ike, &esp)
    }
}

/// Handshakes' crypto per second of CPU time for `suite`: as many as fit in `budget` of
/// wall time, back to back.
pub fn handshake_floor(suite: HandshakeSuite, budget: Duration) -> Result<f64, BenchError> {
    let watch = Stopwatch::start();
    let started = Instant::now();
    let mut n = 0u64;
    while n == 0 || started.elapsed() < budget {
        handshake_crypto(suite)?;
        n += 1;
    }
    Ok(per_second(n, watch.lap().cpu))
}

/// `count` DH exchanges between two peers (two key pairs, two shared secrets each): the
/// floor of a run whose exchanges with a KE payload were counted.
pub(super) fn dh_floor(group: DhGroup, count: usize) -> Result<Lap, BenchError> {
    let watch = Stopwatch::start();
    for _ in 0..count {
        dh(group)?;
    }
    Ok(watch.lap())
}

/// `round_trips` UDP ping-pongs of `len` bytes between two loopback sockets, one
/// thread: what moving a run's datagrams over loopback costs at the least.
pub(super) fn round_trip_floor(round_trips: usize, len: usize) -> std::io::Result<Lap> {
    let a = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    let b = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    let (to_a, to_b) = (a.local_addr()?, b.local_addr()?);
    let datagram = vec![0u8; len.max(1)];
    let mut buf = vec![0u8; len.max(1) + 16];
    let watch = Stopwatch::start();
    for _ in 0..round_trips {
        a.send_to(&datagram, to_b)?;
        b.recv_from(&mut buf)?;
        b.send_to(&datagram, to_a)?;
        a.recv_from(&mut buf)?;
    }
    Ok(watch.lap())
}

/// `n` things in `elapsed`, per second.
pub(super) fn per_second(n: u64, elapsed: Duration) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let n = n as f64;
    n / elapsed.as_secs_f64().max(1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The floor does what its count says — every suite, every operation — and its
    /// computations check out (both peers' DH secrets, AUTHs, SK payloads and CBC
    /// messages agree), so it is the real work and not something the optimiser drops.
    #[test]
    fn each_suites_floor_computes_what_its_handshake_does() {
        for suite in HandshakeSuite::ALL {
            let done = handshake_crypto(suite).expect("the floor's crypto");
            assert_eq!(done, suite.ops(), "{}", suite.label());
        }
    }

    /// The counts as ike-core makes them: IKEv2 has one DH (IKE_AUTH carries no KE, RFC
    /// 7296 §1.2); IKEv1 with PFS has two (main mode and quick mode, RFC 2409 §5.5); both
    /// peers make and check every AUTH, and every message sealed is opened.
    #[test]
    fn a_handshake_is_counted_per_peer_and_exchange() {
        let v2 = HandshakeOps::IKEV2;
        assert_eq!(
            (v2.dh_computations(), v2.auths, v2.messages_sealed),
            (4, 4, 2)
        );
        let v1 = HandshakeOps::IKEV1_PFS;
        assert_eq!(
            (v1.dh_computations(), v1.auths, v1.messages_sealed),
            (8, 4, 5)
        );
        assert_eq!(
            v2.describe(),
            "4 DH (2 key pairs, 2 shared secrets), 8 NAT hashes, 2 key schedules, \
             4 ciphers keyed, 4 AUTH/HASH_I/R, 2 messages sealed and opened, 2 CHILD keymats"
        );
    }

    #[test]
    fn the_round_trip_floor_moves_datagrams() {
        assert!(round_trip_floor(3, 100).is_ok());
    }
}
