//! PSK authentication (RFC 7296 §2.15) and NAT detection (RFC 7296 §2.23).

use std::net::SocketAddr;

use ring::digest;

use crate::Prf;

/// The pad string of RFC 7296 §2.15, without a terminating NUL.
const KEY_PAD: &[u8] = b"Key Pad for IKEv2";

/// The AUTH data of a shared-key authentication (RFC 7296 §2.15):
/// `prf(prf(PSK, "Key Pad for IKEv2"), signed_message | peer_nonce | prf(SK_p, id_body))`.
///
/// For the initiator's AUTH, `signed_message` is its IKE_SA_INIT request as sent,
/// `peer_nonce` is Nr (the body of the responder's Nonce payload), `sk_p` is SK_pi and
/// `id_body` is the IDi payload body after its generic header (ID type, 3 reserved octets,
/// identification data). For the responder's: its IKE_SA_INIT response, Ni, SK_pr, IDr.
pub fn psk_auth(
    prf: &Prf,
    psk: &[u8],
    signed_message: &[u8],
    peer_nonce: &[u8],
    sk_p: &[u8],
    id_body: &[u8],
) -> Vec<u8> {
    let key = prf.compute(psk, KEY_PAD);
    let maced_id = prf.compute(sk_p, id_body);
    prf.compute_parts(&key, &[signed_message, peer_nonce, &maced_id])
}

/// The data of a NAT_DETECTION_SOURCE_IP / NAT_DETECTION_DESTINATION_IP notify:
/// `SHA-1(SPIi | SPIr | IP | Port)` (RFC 7296 §2.23). In IKE_SA_INIT's request SPIr is 0.
/// The IP is 4 octets for IPv4, 16 for IPv6; the port is in network order.
pub fn nat_detection_hash(spi_i: u64, spi_r: u64, addr: SocketAddr) -> [u8; 20] {
    let mut ctx = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(&spi_i.to_be_bytes());
    ctx.update(&spi_r.to_be_bytes());
    match addr {
        SocketAddr::V4(a) => ctx.update(&a.ip().octets()),
        SocketAddr::V6(a) => ctx.update(&a.ip().octets()),
    }
    ctx.update(&addr.port().to_be_bytes());
    let mut out = [0u8; 20];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ike_wire::PrfId;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    fn sha256() -> Prf {
        Prf::new(PrfId::HMAC_SHA2_256).unwrap()
    }

    const MSG: &[u8] = b"IKE_SA_INIT request bytes";
    const ID_BODY: &[u8] = &[1, 0, 0, 0, 192, 0, 2, 1]; // ID_IPV4_ADDR 192.0.2.1

    fn nr() -> Vec<u8> {
        h(&"0badcafe".repeat(6))
    }

    /// Expected value computed independently with Python's hmac module.
    #[test]
    fn psk_auth_known_answer() {
        let auth = psk_auth(
            &sha256(),
            b"aws-tunnel-psk",
            MSG,
            &nr(),
            &[0x77; 32],
            ID_BODY,
        );
        assert_eq!(
            auth,
            h("5f5dd4e88e25347e1ab1a85fa1dd2ec449e6850030fbe34291effd098e20436a")
        );
    }

    #[test]
    fn psk_auth_depends_on_every_input() {
        let p = sha256();
        let base = psk_auth(&p, b"psk", MSG, &nr(), &[7; 32], ID_BODY);
        assert_eq!(base, psk_auth(&p, b"psk", MSG, &nr(), &[7; 32], ID_BODY));
        assert_eq!(base.len(), 32);
        let variants = [
            psk_auth(&p, b"psk2", MSG, &nr(), &[7; 32], ID_BODY),
            psk_auth(&p, b"psk", b"other message", &nr(), &[7; 32], ID_BODY),
            psk_auth(&p, b"psk", MSG, &nr()[1..], &[7; 32], ID_BODY),
            psk_auth(&p, b"psk", MSG, &nr(), &[8; 32], ID_BODY),
            psk_auth(
                &p,
                b"psk",
                MSG,
                &nr(),
                &[7; 32],
                &[1, 0, 0, 0, 192, 0, 2, 2],
            ),
        ];
        for v in variants {
            assert_ne!(v, base);
        }
        let sha1 = Prf::new(PrfId::HMAC_SHA1).unwrap();
        assert_eq!(
            psk_auth(&sha1, b"psk", MSG, &nr(), &[7; 20], ID_BODY).len(),
            20
        );
    }

    /// Expected values computed independently with Python's hashlib.
    #[test]
    fn nat_detection_known_answers() {
        let v4 = nat_detection_hash(
            0x0123_4567_89ab_cdef,
            0xfedc_ba98_7654_3210,
            "192.0.2.1:500".parse().unwrap(),
        );
        assert_eq!(v4.to_vec(), h("b43b59394bf8bc930246a8f80b6fddf05c58d9bf"));
        let v6 = nat_detection_hash(
            0x0123_4567_89ab_cdef,
            0,
            "[2001:db8::1]:4500".parse().unwrap(),
        );
        assert_eq!(v6.to_vec(), h("3171550555febfcaa96bf57ef38afe1449b1b00f"));
    }

    #[test]
    fn nat_detection_sees_address_port_and_spis() {
        let a: SocketAddr = "192.0.2.1:500".parse().unwrap();
        let base = nat_detection_hash(1, 2, a);
        assert_ne!(
            base,
            nat_detection_hash(1, 2, "192.0.2.1:4500".parse().unwrap())
        );
        assert_ne!(
            base,
            nat_detection_hash(1, 2, "192.0.2.2:500".parse().unwrap())
        );
        assert_ne!(base, nat_detection_hash(1, 3, a));
        assert_ne!(base, nat_detection_hash(0, 2, a));
    }
}
