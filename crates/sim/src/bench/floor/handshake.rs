//! One establishment's crypto, both peers, as ike-core computes it (see the count in
//! [`HandshakeOps`]): IKEv2 IKE_SA_INIT + IKE_AUTH, IKEv1 main mode + quick mode with PFS.

use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddr};

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

use super::HandshakeOps;
use crate::bench::BenchError;

/// The first transform of each kind in a proposal, as the handshake would select them.
#[derive(Clone, Copy, Debug)]
pub(super) struct Transforms {
    pub encryption: Encryption,
    pub integrity: Option<Integrity>,
    pub prf: Prf,
    pub dh: DhGroup,
}

pub(super) fn transforms(text: &str, kind: ProposalKind) -> Result<Transforms, BenchError> {
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
pub(super) struct Dh {
    secret: Vec<u8>,
    public_i: Vec<u8>,
    public_r: Vec<u8>,
}

/// One DH between two peers: two key pairs, two shared secrets (which must agree).
pub(super) fn dh(group: DhGroup) -> Result<Dh, BenchError> {
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
pub(super) fn ikev2_handshake(
    t: &Transforms,
    esp: &Transforms,
) -> Result<HandshakeOps, BenchError> {
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
pub(super) fn ikev1_handshake(
    t: &Transforms,
    esp: &Transforms,
) -> Result<HandshakeOps, BenchError> {
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
