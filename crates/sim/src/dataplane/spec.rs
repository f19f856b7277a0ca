//! ike-core's CHILD SA as the SA database installs it: [`pair_spec`] maps an
//! [`EspSaPair`] (what the core negotiated, in IKE's words) to an [`esp::PairSpec`] (what
//! ESP needs: suites, keys, SPIs, selectors, the replay window). `serve`'s data plane uses
//! it too.

use std::net::IpAddr;

use esp::{Integrity, PairSpec, SaSpec, Selector, Suite};
use ike_core::ipsec::{EspKeys, EspSaPair};
use ike_wire::{EncrId, IntegId, TrafficSelector};

/// Why a CHILD SA cannot be carried by the data plane.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// A cipher the `esp` crate does not implement (AWS offers only AES-CBC and AES-GCM-16).
    #[error("ESP cipher {0} is not implemented by the data plane (AES-CBC and AES-GCM-16 are)")]
    Cipher(EncrId),
    /// An integrity algorithm the `esp` crate does not implement, or none with AES-CBC.
    #[error(
        "ESP integrity {0:?} is not implemented by the data plane (HMAC-SHA1-96 and HMAC-SHA2 are)"
    )]
    Integrity(Option<IntegId>),
    /// A selector whose two addresses are of different families.
    #[error("traffic selector {0} mixes address families")]
    Selector(String),
}

/// The ESP suite of a negotiated cipher, key length and integrity algorithm (RFC 7296
/// §3.3.2 IDs; AES's key length defaults to 128 bits when the core gave none).
pub fn suite(
    encryption: EncrId,
    key_bits: Option<u16>,
    integrity: Option<IntegId>,
) -> Result<Suite, SpecError> {
    let key_bits = key_bits.unwrap_or(128);
    if encryption == EncrId::AES_GCM_16 {
        return Ok(Suite::AesGcm16 { key_bits });
    }
    if encryption != EncrId::AES_CBC {
        return Err(SpecError::Cipher(encryption));
    }
    let integrity = match integrity {
        Some(IntegId::HMAC_SHA1_96) => Integrity::HmacSha1_96,
        Some(IntegId::HMAC_SHA2_256_128) => Integrity::HmacSha256_128,
        Some(IntegId::HMAC_SHA2_384_192) => Integrity::HmacSha384_192,
        Some(IntegId::HMAC_SHA2_512_256) => Integrity::HmacSha512_256,
        other => return Err(SpecError::Integrity(other)),
    };
    Ok(Suite::AesCbc {
        key_bits,
        integrity,
    })
}

/// An IKE traffic selector as ESP matches it (RFC 4301 §4.4.1: the same address range,
/// protocol and port range).
pub fn selector(ts: &TrafficSelector) -> Result<Selector, SpecError> {
    let same_family = matches!(
        (ts.start_addr, ts.end_addr),
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_))
    );
    if !same_family {
        return Err(SpecError::Selector(ts.to_string()));
    }
    Ok(Selector {
        addrs: ts.start_addr..=ts.end_addr,
        protocol: ts.ip_protocol,
        ports: ts.start_port..=ts.end_port,
    })
}

fn sa(spi: u32, suite: Suite, keys: &EspKeys, esn: bool) -> SaSpec {
    SaSpec {
        spi,
        suite,
        encryption_key: keys.encryption.clone(),
        integrity_key: keys.integrity.clone(),
        esn,
    }
}

/// The SA database's pair for a CHILD SA: inbound with our SPI and the inbound keys,
/// outbound with the peer's; our selectors local, the peer's remote; `replay_window`
/// packets of anti-replay (the AWS tunnel's `replay_window_size`, the CGW's
/// `replay_window`); `iv_seed` seeds the AES-CBC IVs (deterministic by the run's seed).
pub fn pair_spec(
    pair: &EspSaPair,
    replay_window: u32,
    iv_seed: u64,
) -> Result<PairSpec, SpecError> {
    let suite = suite(pair.encryption, pair.key_bits, pair.integrity)?;
    let selectors = |ts: &[TrafficSelector]| ts.iter().map(selector).collect::<Result<_, _>>();
    Ok(PairSpec {
        inbound: sa(pair.spi_in, suite, &pair.inbound, pair.esn),
        outbound: sa(pair.spi_out, suite, &pair.outbound, pair.esn),
        local: selectors(&pair.ts_local)?,
        remote: selectors(&pair.ts_remote)?,
        replay_window,
        replaces: pair.replaces,
        defer_outbound: pair.defer_outbound,
        iv_seed,
    })
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, SocketAddr};

    use ike_core::{IkeVersion, SaHandle};

    use super::*;

    fn pair(encryption: EncrId, integrity: Option<IntegId>) -> EspSaPair {
        let keys = |b: u8| EspKeys {
            encryption: vec![b; 36],
            integrity: vec![b; 32],
        };
        let addr: SocketAddr = "127.0.1.1:500".parse().unwrap();
        EspSaPair {
            ike_sa: SaHandle(1),
            ike_version: IkeVersion::V2,
            spi_in: 0x1111_1111,
            spi_out: 0x2222_2222,
            encryption,
            key_bits: Some(256),
            integrity,
            esn: false,
            inbound: keys(1),
            outbound: keys(2),
            ts_local: vec![TrafficSelector::ipv4(
                Ipv4Addr::new(10, 0, 0, 0),
                Ipv4Addr::new(10, 0, 255, 255),
            )],
            ts_remote: vec![TrafficSelector::any_ipv4()],
            local: addr,
            remote: addr,
            encapsulated: false,
            replaces: Some(7),
            defer_outbound: true,
        }
    }

    #[test]
    fn a_child_sa_maps_to_its_pair_direction_by_direction() {
        let p = pair_spec(&pair(EncrId::AES_GCM_16, None), 1_024, 9).unwrap();
        assert_eq!(p.inbound.suite, Suite::AesGcm16 { key_bits: 256 });
        assert_eq!((p.inbound.spi, p.outbound.spi), (0x1111_1111, 0x2222_2222));
        assert_eq!(
            (p.inbound.encryption_key[0], p.outbound.encryption_key[0]),
            (1, 2)
        );
        assert_eq!(
            p.local[0].addrs,
            IpAddr::from([10, 0, 0, 0])..=IpAddr::from([10, 0, 255, 255])
        );
        assert_eq!(
            (p.remote[0].protocol, p.remote[0].ports.clone()),
            (0, 0..=65_535)
        );
        assert_eq!(
            (p.replay_window, p.replaces, p.defer_outbound, p.iv_seed),
            (1_024, Some(7), true, 9)
        );
        let cbc = pair_spec(
            &pair(EncrId::AES_CBC, Some(IntegId::HMAC_SHA2_256_128)),
            32,
            0,
        )
        .unwrap();
        assert_eq!(
            cbc.outbound.suite,
            Suite::AesCbc {
                key_bits: 256,
                integrity: Integrity::HmacSha256_128
            }
        );
        assert_eq!(
            pair_spec(
                &pair(EncrId::TRIPLE_DES, Some(IntegId::HMAC_SHA1_96)),
                32,
                0
            ),
            Err(SpecError::Cipher(EncrId::TRIPLE_DES))
        );
        assert_eq!(
            pair_spec(&pair(EncrId::AES_CBC, None), 32, 0),
            Err(SpecError::Integrity(None))
        );
    }
}
