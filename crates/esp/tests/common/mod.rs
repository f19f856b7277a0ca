//! What the tests share: every suite, keyed SA specs, inner packets built with etherparse.
#![allow(dead_code)]

use std::net::Ipv4Addr;

use esp::{Integrity, SaSpec, Suite};

/// Every suite the crate implements.
pub fn suites() -> Vec<Suite> {
    let mut all = vec![
        Suite::AesGcm16 { key_bits: 128 },
        Suite::AesGcm16 { key_bits: 256 },
    ];
    for key_bits in [128, 192, 256] {
        for integrity in [
            Integrity::HmacSha1_96,
            Integrity::HmacSha256_128,
            Integrity::HmacSha384_192,
            Integrity::HmacSha512_256,
        ] {
            all.push(Suite::AesCbc {
                key_bits,
                integrity,
            });
        }
    }
    all
}

/// An SA with keys derived from `seed` (any bytes do: ESP takes what IKE derived).
pub fn spec(suite: Suite, spi: u32, esn: bool, seed: u8) -> SaSpec {
    let bytes = |n: usize, salt: u8| -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ salt)
            .collect()
    };
    SaSpec {
        spi,
        suite,
        encryption_key: bytes(suite.encryption_key_len(), 0x5c),
        integrity_key: bytes(suite.integrity_key_len(), 0x36),
        esn,
    }
}

/// An IPv4 UDP packet.
pub fn udp4(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let builder = etherparse::PacketBuilder::ipv4(src.octets(), dst.octets(), 64).udp(sport, dport);
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut out, payload).unwrap();
    out
}

/// An IPv4 ICMP echo request.
pub fn ping4(src: Ipv4Addr, dst: Ipv4Addr, seq: u16, payload: &[u8]) -> Vec<u8> {
    let builder =
        etherparse::PacketBuilder::ipv4(src.octets(), dst.octets(), 64).icmpv4_echo_request(7, seq);
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut out, payload).unwrap();
    out
}

/// An IPv6 UDP packet.
pub fn udp6(src: [u8; 16], dst: [u8; 16], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let builder = etherparse::PacketBuilder::ipv6(src, dst, 64).udp(sport, dport);
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut out, payload).unwrap();
    out
}
