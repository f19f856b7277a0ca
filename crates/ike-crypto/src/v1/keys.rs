//! The IKEv1 key schedule and HASH payloads (RFC 2409 §5, §5.5, §5.7, App. B) and NAT-D
//! (RFC 3947 §3.2).

use std::net::SocketAddr;

use super::Hash;
use crate::Prf;

/// `SKEYID = prf(pre-shared-key, Ni_b | Nr_b)` for pre-shared key authentication
/// (RFC 2409 §5). The nonces are the Nonce payload bodies of main mode 3 and 4.
pub fn skeyid_psk(prf: &Prf, psk: &[u8], ni_b: &[u8], nr_b: &[u8]) -> Vec<u8> {
    prf.compute_parts(psk, &[ni_b, nr_b])
}

/// The secrets of an ISAKMP SA (RFC 2409 §5). `Debug` shows only their lengths.
#[derive(Clone, PartialEq, Eq)]
pub struct Phase1Keys {
    /// Keys HASH_I and HASH_R.
    pub skeyid: Vec<u8>,
    /// Derives quick mode KEYMAT.
    pub skeyid_d: Vec<u8>,
    /// Keys the HASH payloads of quick mode and informational exchanges.
    pub skeyid_a: Vec<u8>,
    /// Derives the ISAKMP SA's cipher key.
    pub skeyid_e: Vec<u8>,
    /// The cipher key of the ISAKMP SA, the same in both directions (App. B).
    pub enc_key: Vec<u8>,
}

impl std::fmt::Debug for Phase1Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = |k: &Vec<u8>| format!("<{} bytes>", k.len());
        f.debug_struct("Phase1Keys")
            .field("skeyid", &format_args!("{}", len(&self.skeyid)))
            .field("skeyid_d", &format_args!("{}", len(&self.skeyid_d)))
            .field("skeyid_a", &format_args!("{}", len(&self.skeyid_a)))
            .field("skeyid_e", &format_args!("{}", len(&self.skeyid_e)))
            .field("enc_key", &format_args!("{}", len(&self.enc_key)))
            .finish()
    }
}

/// Derives SKEYID_d, SKEYID_a, SKEYID_e and the cipher key from SKEYID (RFC 2409 §5):
///
/// ```text
/// SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
/// SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
/// SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
/// ```
///
/// The cipher key is the first `enc_key_len` bytes of SKEYID_e, or when SKEYID_e is
/// shorter (SHA-1 with AES-256) the first bytes of `K1 | K2 | …` with
/// `K1 = prf(SKEYID_e, 0)`, `Kn+1 = prf(SKEYID_e, Kn)` (App. B). `g_xy` is
/// [`KeyExchange::shared_secret`](crate::KeyExchange::shared_secret); the cookies are the
/// ISAKMP header's initiator and responder cookies.
pub fn phase1_keys(
    prf: &Prf,
    skeyid: Vec<u8>,
    g_xy: &[u8],
    cky_i: u64,
    cky_r: u64,
    enc_key_len: usize,
) -> Phase1Keys {
    let (cky_i, cky_r) = (cky_i.to_be_bytes(), cky_r.to_be_bytes());
    let skeyid_d = prf.compute_parts(&skeyid, &[g_xy, &cky_i, &cky_r, &[0]]);
    let skeyid_a = prf.compute_parts(&skeyid, &[&skeyid_d, g_xy, &cky_i, &cky_r, &[1]]);
    let skeyid_e = prf.compute_parts(&skeyid, &[&skeyid_a, g_xy, &cky_i, &cky_r, &[2]]);
    let enc_key = if skeyid_e.len() >= enc_key_len {
        skeyid_e[..enc_key_len].to_vec()
    } else {
        let mut key = Vec::with_capacity(enc_key_len + prf.output_len());
        let mut k = prf.compute(&skeyid_e, &[0]);
        key.extend_from_slice(&k);
        while key.len() < enc_key_len {
            k = prf.compute(&skeyid_e, &k);
            key.extend_from_slice(&k);
        }
        key.truncate(enc_key_len);
        key
    };
    Phase1Keys {
        skeyid,
        skeyid_d,
        skeyid_a,
        skeyid_e,
        enc_key,
    }
}

/// The initiator's main mode HASH_I (RFC 2409 §5):
/// `prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)`.
///
/// `g_xi`/`g_xr` are the KE payload bodies, `sai_b` the body of the initiator's SA payload
/// as sent in main mode 1 (all its proposals), `idii_b` the body of the initiator's ID
/// payload (ID type, protocol, port, data).
#[allow(clippy::too_many_arguments)] // the RFC's inputs, one argument each
pub fn hash_i(
    prf: &Prf,
    skeyid: &[u8],
    g_xi: &[u8],
    g_xr: &[u8],
    cky_i: u64,
    cky_r: u64,
    sai_b: &[u8],
    idii_b: &[u8],
) -> Vec<u8> {
    prf.compute_parts(
        skeyid,
        &[
            g_xi,
            g_xr,
            &cky_i.to_be_bytes(),
            &cky_r.to_be_bytes(),
            sai_b,
            idii_b,
        ],
    )
}

/// The responder's main mode HASH_R (RFC 2409 §5):
/// `prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)`. Note the swapped order of
/// the DH values and cookies, and that SAi_b is still the *initiator's* SA payload body.
#[allow(clippy::too_many_arguments)] // the RFC's inputs, one argument each
pub fn hash_r(
    prf: &Prf,
    skeyid: &[u8],
    g_xr: &[u8],
    g_xi: &[u8],
    cky_r: u64,
    cky_i: u64,
    sai_b: &[u8],
    idir_b: &[u8],
) -> Vec<u8> {
    prf.compute_parts(
        skeyid,
        &[
            g_xr,
            g_xi,
            &cky_r.to_be_bytes(),
            &cky_i.to_be_bytes(),
            sai_b,
            idir_b,
        ],
    )
}

/// Quick mode HASH(1) (RFC 2409 §5.5): `prf(SKEYID_a, M-ID | SA | Ni [| KE] [| IDci | IDcr])`.
/// `rest` is the message's payload chain after the HASH payload, generic headers included.
pub fn qm_hash1(prf: &Prf, skeyid_a: &[u8], message_id: u32, rest: &[u8]) -> Vec<u8> {
    prf.compute_parts(skeyid_a, &[&message_id.to_be_bytes(), rest])
}

/// Quick mode HASH(2) (RFC 2409 §5.5):
/// `prf(SKEYID_a, M-ID | Ni_b | SA | Nr [| KE] [| IDci | IDcr])`. `ni_b` is the body of the
/// initiator's Nonce payload; `rest` the response's payloads after its HASH payload.
pub fn qm_hash2(prf: &Prf, skeyid_a: &[u8], message_id: u32, ni_b: &[u8], rest: &[u8]) -> Vec<u8> {
    prf.compute_parts(skeyid_a, &[&message_id.to_be_bytes(), ni_b, rest])
}

/// Quick mode HASH(3) (RFC 2409 §5.5): `prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)`, the 0 one
/// octet.
pub fn qm_hash3(prf: &Prf, skeyid_a: &[u8], message_id: u32, ni_b: &[u8], nr_b: &[u8]) -> Vec<u8> {
    prf.compute_parts(skeyid_a, &[&[0], &message_id.to_be_bytes(), ni_b, nr_b])
}

/// HASH(1) of an informational exchange (RFC 2409 §5.7): `prf(SKEYID_a, M-ID | N/D)`, where
/// `rest` is the Notification or Delete payload after the HASH payload, header included.
pub fn info_hash(prf: &Prf, skeyid_a: &[u8], message_id: u32, rest: &[u8]) -> Vec<u8> {
    qm_hash1(prf, skeyid_a, message_id, rest)
}

/// The KEYMAT of one IPsec SA (RFC 2409 §5.5), `len` bytes of `K1 | K2 | …` with
///
/// ```text
/// K1   = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
/// Kn+1 = prf(SKEYID_d, Kn | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
/// ```
///
/// `g_xy` only with PFS (quick mode carried KE payloads). `protocol` is the protocol id of
/// the proposal (3 for ESP) and `spi` the SPI of the SA being keyed: the one its receiver
/// chose, so the two directions get different KEYMAT. Split it with [`EspKeys::split`]
/// (`len` = [`child_sa_key_len`](crate::child_sa_key_len)).
///
/// [`EspKeys::split`]: super::EspKeys::split
#[allow(clippy::too_many_arguments)] // the RFC's inputs, one argument each
pub fn qm_keymat(
    prf: &Prf,
    skeyid_d: &[u8],
    g_xy: Option<&[u8]>,
    protocol: u8,
    spi: u32,
    ni_b: &[u8],
    nr_b: &[u8],
    len: usize,
) -> Vec<u8> {
    let seed: [&[u8]; 5] = [
        g_xy.unwrap_or_default(),
        &[protocol],
        &spi.to_be_bytes(),
        ni_b,
        nr_b,
    ];
    let mut keymat = Vec::with_capacity(len + prf.output_len());
    let mut k = prf.compute_parts(skeyid_d, &seed);
    keymat.extend_from_slice(&k);
    while keymat.len() < len {
        let mut parts: Vec<&[u8]> = Vec::with_capacity(seed.len() + 1);
        parts.push(&k);
        parts.extend_from_slice(&seed);
        k = prf.compute_parts(skeyid_d, &parts);
        keymat.extend_from_slice(&k);
    }
    keymat.truncate(len);
    keymat
}

/// The data of a NAT-D payload (RFC 3947 §3.2): `HASH(CKY-I | CKY-R | IP | Port)` with the
/// negotiated hash. The IP is 4 octets for IPv4, 16 for IPv6; the port is in network order.
/// Main mode 3 and 4 carry the hash of the peer's address first, then of our own (§3.2).
pub fn nat_d(hash: Hash, cky_i: u64, cky_r: u64, addr: SocketAddr) -> Vec<u8> {
    let ip = match addr {
        SocketAddr::V4(a) => a.ip().octets().to_vec(),
        SocketAddr::V6(a) => a.ip().octets().to_vec(),
    };
    hash.digest_parts(&[
        &cky_i.to_be_bytes(),
        &cky_r.to_be_bytes(),
        &ip,
        &addr.port().to_be_bytes(),
    ])
}
