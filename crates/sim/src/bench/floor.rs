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

use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use ike_core::{parse_proposal, ProposalKind, ProposalSpec};
use ike_crypto::v1::{
    hash_i, hash_r, nat_d, phase1_iv, phase1_keys, phase2_iv, qm_hash1, qm_hash2, qm_hash3,
    qm_keymat, skeyid_psk, Cbc, Hash,
};
use ike_crypto::{
    child_keymat, child_sa_key_len, dh_public_len, nat_detection_hash, psk_auth, skeyseed,
    Encryption, IkeSuite, Integrity, KeyExchange, Prf, SkCipher,
};
use ike_wire::DhGroup;

use super::{BenchError, Lap, Stopwatch};

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

/// The first transform of each kind in a proposal, as the handshake would select them.
#[derive(Clone, Copy, Debug)]
struct Transforms {
    encryption: Encryption,
    integrity: Option<Integrity>,
    prf: Prf,
    dh: DhGroup,
}

fn transforms(text: &str, kind: ProposalKind) -> Result<Transforms, BenchError> {
    let unsupported = |what: &str| BenchError::Suite(format!("{text}: no {what}"));
    let spec: ProposalSpec =
        parse_proposal(text, kind).map_err(|e| BenchError::Suite(format!("{text}: {e}")))?;
    let cipher = spec
        .encryption
        .first()
        .ok_or_else(|| unsupported("encryption"))?;
    let encryption = Encryption::new(cipher.id, cipher.key_bits)?;
    let integrity = if encryption.is_aead() {
        None
    } else {
        let id = *spec
            .integrity
            .first()
            .ok_or_else(|| unsupported("integrity"))?;
        Some(Integrity::new(id)?)
    };
    let prf = match spec.prf.first() {
        Some(id) => Prf::new(*id)?,
        None => Prf::new(ike_wire::PrfId::HMAC_SHA2_256)?,
    };
    let dh = *spec.dh.first().ok_or_else(|| unsupported("DH group"))?;
    Ok(Transforms {
        encryption,
        integrity,
        prf,
        dh,
    })
}

/// The addresses the NAT hashes cover (any two: the hash does not care).
const AWS: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::new(127, 0, 1, 1)), 500);
const CGW: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::new(127, 0, 2, 1)), 500);
const PSK: &[u8] = b"ikesim.bench_psk_1";
const ID_BODY: &[u8] = &[1, 0, 0, 0, 127, 0, 2, 1];

/// What a DH between two peers leaves: the shared secret and the two public values.
struct Dh {
    secret: Vec<u8>,
    public_i: Vec<u8>,
    public_r: Vec<u8>,
}

/// One DH between two peers: two key pairs, two shared secrets (which must agree).
fn dh(group: DhGroup) -> Result<Dh, BenchError> {
    let a = KeyExchange::generate(group)?;
    let b = KeyExchange::generate(group)?;
    let (pa, pb) = (a.public_value().to_vec(), b.public_value().to_vec());
    let secret = a.shared_secret(&pb)?;
    let other = b.shared_secret(&pa)?;
    if secret != other {
        return Err(BenchError::Inconsistent(
            "DH (the peers' shared secrets differ)",
        ));
    }
    Ok(Dh {
        secret,
        public_i: pa,
        public_r: pb,
    })
}

/// The size of ikesim's IKE_SA_INIT message with a `public_len`-byte KE payload: header,
/// a one-proposal SA, KE, a 32-byte nonce, two NAT detection notifies.
fn init_len(public_len: usize) -> usize {
    28 + 48 + (8 + public_len) + (4 + 32) + 2 * (8 + 20)
}

/// One IKEv2 establishment's crypto (both peers); returns how many of each operation it
/// did, so the count is checked against [`HandshakeOps::IKEV2`].
fn ikev2_handshake(t: &Transforms, esp: &Transforms) -> Result<HandshakeOps, BenchError> {
    let mut done = HandshakeOps::default();
    let (ni, nr) = ([0x11u8; 32], [0x22u8; 32]);
    let (spi_i, spi_r) = (0x0123_4567_89ab_cdef_u64, 0xfedc_ba98_7654_3210_u64);
    // IKE_SA_INIT: each peer sends two NAT hashes and checks the two it receives.
    for (local, remote) in [(CGW, AWS), (AWS, CGW)] {
        black_box(nat_detection_hash(spi_i, 0, local));
        black_box(nat_detection_hash(spi_i, 0, remote));
        black_box(nat_detection_hash(spi_i, spi_r, remote));
        black_box(nat_detection_hash(spi_i, spi_r, local));
        done.nat_hashes += 4;
    }
    let g_ir = dh(t.dh)?.secret;
    done.dh_key_pairs += 2;
    done.dh_shared_secrets += 2;
    let suite = IkeSuite {
        encryption: t.encryption,
        integrity: t.integrity,
        prf: t.prf,
    };
    let mut schedules = Vec::with_capacity(2);
    for _ in 0..2 {
        let seed = skeyseed(&t.prf, &ni, &nr, &g_ir);
        schedules.push(suite.derive(&seed, &ni, &nr, spi_i, spi_r));
        done.ike_key_schedules += 1;
    }
    let mut ciphers = Vec::with_capacity(4);
    for keys in &schedules {
        ciphers.push(SkCipher::new(
            t.encryption,
            t.integrity,
            &keys.sk_ei,
            &keys.sk_ai,
        )?);
        ciphers.push(SkCipher::new(
            t.encryption,
            t.integrity,
            &keys.sk_er,
            &keys.sk_ar,
        )?);
        done.ciphers_keyed += 2;
    }
    let keys = &schedules[0];
    let public_len = dh_public_len(t.dh).unwrap_or(64);
    let init_request = vec![0x5au8; init_len(public_len)];
    let init_response = vec![0xa5u8; init_len(public_len) + 8];
    // IKE_AUTH: the initiator's AUTH made and checked, then the responder's.
    let auth_i = psk_auth(&t.prf, PSK, &init_request, &nr, &keys.sk_pi, ID_BODY);
    let check_i = psk_auth(&t.prf, PSK, &init_request, &nr, &keys.sk_pi, ID_BODY);
    let auth_r = psk_auth(&t.prf, PSK, &init_response, &ni, &keys.sk_pr, ID_BODY);
    let check_r = psk_auth(&t.prf, PSK, &init_response, &ni, &keys.sk_pr, ID_BODY);
    done.auths += 4;
    if auth_i != check_i || auth_r != check_r {
        return Err(BenchError::Inconsistent("AUTH (recomputed differently)"));
    }
    let iv = vec![0u8; ciphers[0].iv_len()];
    // Request: SA (ESP), TSi, TSr, IDi, AUTH, INITIAL_CONTACT; the response one shorter.
    for (seal, open, len) in [(0, 2, 200 + auth_i.len()), (3, 1, 160 + auth_r.len())] {
        let plaintext = vec![0x33u8; len];
        let prefix = [0u8; 32];
        let body = ciphers[seal].seal(&prefix, &plaintext, &iv);
        let opened = ciphers[open].open(&prefix, &body)?;
        if opened != plaintext {
            return Err(BenchError::Inconsistent("SK payload (opened differently)"));
        }
        done.messages_sealed += 1;
    }
    let len = 2 * child_sa_key_len(&esp.encryption, esp.integrity.as_ref());
    for keys in &schedules {
        black_box(child_keymat(&t.prf, &keys.sk_d, None, &ni, &nr, len));
        done.child_keymats += 1;
    }
    Ok(done)
}

/// One IKEv1 main mode + quick mode with PFS (both peers), counted as
/// [`ikev2_handshake`] is.
fn ikev1_handshake(t: &Transforms, esp: &Transforms) -> Result<HandshakeOps, BenchError> {
    let mut done = HandshakeOps::default();
    let hash = match t.prf.output_len() {
        32 => Hash::Sha256,
        48 => Hash::Sha384,
        64 => Hash::Sha512,
        _ => Hash::Sha1,
    };
    let prf = hash.prf();
    let (ni, nr) = ([0x11u8; 32], [0x22u8; 32]);
    let (cky_i, cky_r) = (0x0123_4567_89ab_cdef_u64, 0xfedc_ba98_7654_3210_u64);
    let Dh {
        secret: g_xy,
        public_i: g_xi,
        public_r: g_xr,
    } = dh(t.dh)?;
    done.dh_key_pairs += 2;
    done.dh_shared_secrets += 2;
    // Main mode 3 and 4: each peer sends two NAT-D hashes and checks the two it receives.
    for _ in 0..2 {
        for addr in [AWS, CGW, CGW, AWS] {
            black_box(nat_d(hash, cky_i, cky_r, addr));
        }
        done.nat_hashes += 4;
    }
    let key_len = usize::from(t.encryption.key_bits() / 8);
    let mut peers = Vec::with_capacity(2);
    for _ in 0..2 {
        let skeyid = skeyid_psk(&prf, PSK, &ni, &nr);
        let keys = phase1_keys(&prf, skeyid, &g_xy, cky_i, cky_r, key_len);
        done.ike_key_schedules += 1;
        let cbc = Cbc::new(&keys.enc_key)?;
        done.ciphers_keyed += 1;
        let iv = phase1_iv(hash, &g_xi, &g_xr, Cbc::BLOCK);
        peers.push((keys, cbc, iv));
    }
    let sa_b = [0x44u8; 52];
    let (keys, cbc, iv) = &peers[0];
    let (_, other, _) = &peers[1];
    let h_i = hash_i(
        &prf,
        &keys.skeyid,
        &g_xi,
        &g_xr,
        cky_i,
        cky_r,
        &sa_b,
        ID_BODY,
    );
    let check_i = hash_i(
        &prf,
        &keys.skeyid,
        &g_xi,
        &g_xr,
        cky_i,
        cky_r,
        &sa_b,
        ID_BODY,
    );
    let h_r = hash_r(
        &prf,
        &keys.skeyid,
        &g_xr,
        &g_xi,
        cky_r,
        cky_i,
        &sa_b,
        ID_BODY,
    );
    let check_r = hash_r(
        &prf,
        &keys.skeyid,
        &g_xr,
        &g_xi,
        cky_r,
        cky_i,
        &sa_b,
        ID_BODY,
    );
    done.auths += 4;
    if h_i != check_i || h_r != check_r {
        return Err(BenchError::Inconsistent(
            "HASH_I/HASH_R (recomputed differently)",
        ));
    }
    // Main mode 5 and 6 (ID, HASH, INITIAL-CONTACT), then quick mode 1, 2 (SA, nonce, KE,
    // IDs, HASH) and 3 (HASH), each encrypted by one peer and decrypted by the other.
    let mut seal = |len: usize, iv: &[u8]| -> Result<(), BenchError> {
        let plaintext = vec![0x33u8; len];
        let ciphertext = cbc.encrypt(iv, &plaintext);
        if other.decrypt(iv, &ciphertext)?.get(..len) != Some(plaintext.as_slice()) {
            return Err(BenchError::Inconsistent("CBC (decrypted differently)"));
        }
        done.messages_sealed += 1;
        Ok(())
    };
    seal(80, iv)?;
    seal(80, iv)?;
    let public_len = dh_public_len(esp.dh).unwrap_or(256);
    let last = [0x55u8; Cbc::BLOCK];
    let mid = 0x1234_5678;
    let qm_iv = phase2_iv(hash, &last, mid, Cbc::BLOCK);
    black_box(phase2_iv(hash, &last, mid, Cbc::BLOCK));
    seal(160 + public_len, &qm_iv)?;
    seal(160 + public_len, &qm_iv)?;
    seal(40, &qm_iv)?;
    let g_qm = dh(esp.dh)?.secret;
    done.dh_key_pairs += 2;
    done.dh_shared_secrets += 2;
    let rest = vec![0x66u8; 120 + public_len];
    for _ in 0..2 {
        black_box(qm_hash1(&prf, &keys.skeyid_a, mid, &rest));
        black_box(qm_hash2(&prf, &keys.skeyid_a, mid, &ni, &rest));
        black_box(qm_hash3(&prf, &keys.skeyid_a, mid, &ni, &nr));
        done.qm_hashes += 3;
    }
    let len = child_sa_key_len(&esp.encryption, esp.integrity.as_ref());
    for spi in [0x1111_1111_u32, 0x2222_2222, 0x3333_3333, 0x4444_4444] {
        black_box(qm_keymat(
            &prf,
            &keys.skeyid_d,
            Some(&g_qm),
            3,
            spi,
            &ni,
            &nr,
            len,
        ));
        done.child_keymats += 1;
    }
    Ok(done)
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
