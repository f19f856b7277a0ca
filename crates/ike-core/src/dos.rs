//! A responder's defences against floods of IKE_SA_INIT requests (RFC 7296 §2.6), modelled
//! on strongSwan's receiver (`src/libcharon/network/receiver.c`: `drop_ike_sa_init`) and
//! IKE SA manager (`sa/ike_sa_manager.c`: half-open counts, the IKE_SA_INIT hash table).
//! Knobs: `DosConfig`; users' view: docs/flood-defence.md.
//!
//! The flow of an IKE_SA_INIT request through `Endpoint::handle` (`endpoint/input.rs`):
//!
//! 1. **Known SPIi** (RFC 7296 §2.1): a request whose SPIi and source IP are those of an
//!    SA of ours is a retransmission (the same bytes to a half-open SA: our response
//!    again) or a replay (the SA is past IKE_SA_INIT, or was and is gone — rekeyed,
//!    deleted): dropped and counted (`Stats::replays_dropped`), no SA, no event.
//!    strongSwan keeps a hash of each SA's IKE_SA_INIT for the first; we look the SPIi up
//!    in the endpoint's index and keep the last few authenticated SPIi (`Replays`) for
//!    the second.
//! 2. **Cookies** (§2.6): once the half-open SAs reach `cookie_threshold` (and for
//!    `cookie_calmdown` after, as strongSwan's `COOKIE_CALMDOWN_DELAY`), a request without
//!    a valid COOKIE notify gets a stateless answer carrying one — no DH, no SA, no event.
//!    A spoofed source never sees it, so a spoofed flood stops costing anything but this
//!    answer. The cookie is the RFC's suggestion,
//!    `<VersionIDofSecret> | HMAC-SHA-256(<secret>, Ni | IPi | SPIi)`: 4 bytes of version
//!    and 32 of MAC (`Cookies`). The secret comes from the endpoint's seeded RNG when the
//!    first cookie is needed (so runs stay deterministic, and runs that never need one
//!    draw nothing); a new one replaces it after `cookie_secret_lifetime` or
//!    `cookie_secret_uses` cookies, and the previous one's cookies stay valid for
//!    `cookie_grace` (strongSwan: a new secret after 120 s, cookies valid 10 s).
//! 3. **Bounds**: a source IP holding `block_threshold` half-open SAs, or an endpoint
//!    holding `half_open_limit`, gets nothing (`Stats::half_open_refused`) — strongSwan's
//!    `block_threshold` and `init_limit_half_open`. With cookies on, only a peer that
//!    receives at its address gets this far, so the per-IP bound is what stops one host
//!    from filling the table, and the global bound is the memory ceiling.
//! 4. **Expensive DH under pressure**: while cookies are required, a request whose KE
//!    group is in `expensive_dh_groups` (MODP-3072 … MODP-8192: 4–35 ms of our CPU per
//!    request, against ~0.1 ms for ECP-256) is answered with INVALID_KE_PAYLOAD naming a
//!    group the peer also offered that our proposals allow and that is not expensive
//!    (RFC 7296 §1.3; the initiator retries with it). Why this policy rather than a DH
//!    budget per second: a budget drops the legitimate CGW's request as readily as the
//!    attacker's (it cannot tell them apart), while the downgrade costs the attacker its
//!    lever and a legitimate CGW one round trip, and never refuses a CGW that offered
//!    only expensive groups (it is then answered as today, within the half-open bounds).
//!    Without pressure nothing changes: the peer's choice stands.
//! 5. Then `IkeSa::accept` as ever.
//!
//! Half-open SAs expire on their own timer whatever the load: the endpoint keeps the next
//! deadline of every SA in a heap (`endpoint/table.rs`), so expiry, `poll_timeout` and
//! `handle` cost O(log n) in the number of SAs, not a walk of all of them.
//!
//! A datagram with a major version above 2 is answered with INVALID_MAJOR_VERSION in an
//! unprotected INFORMATIONAL response carrying major version 2 (RFC 7296 §1.5, §2.5),
//! when it is a request and the stateless-answer budget (`stateless_answers_per_second`,
//! a token bucket: `Budget`) allows.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use ike_crypto::Prf;
use ike_wire::{
    DhGroup, ExchangeType, Flags, Header, Notify, NotifyType, Payload, PayloadType, PrfId,
    Proposal, TransformType,
};
use rand::RngCore;
use rand_chacha::ChaCha20Rng;

use crate::config::DosConfig;

/// Bytes of a cookie secret (HMAC-SHA-256's block is 64; its output 32 is plenty).
const SECRET_LEN: usize = 32;
/// Bytes of the version id in front of a cookie's MAC.
const VERSION_LEN: usize = 4;
/// How many authenticated SPIi a `Replays` remembers.
const REPLAY_MEMORY: usize = 8;

/// One cookie secret and its version id.
struct Secret {
    version: u32,
    key: [u8; SECRET_LEN],
    since: Instant,
    uses: u64,
}

/// The cookie secrets: the current one, and the previous one while its grace lasts.
#[derive(Default)]
pub(crate) struct Cookies {
    current: Option<Secret>,
    previous: Option<(Secret, Instant)>,
}

fn mac(key: &[u8], ni: &[u8], ip: IpAddr, spi_i: u64) -> Vec<u8> {
    let ip = match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    Prf::new(PrfId::HMAC_SHA2_256).map_or_else(
        |_| Vec::new(),
        |prf| prf.compute_parts(key, &[ni, &ip, &spi_i.to_be_bytes()]),
    )
}

impl Cookies {
    /// The cookie for this request (Ni, IPi, SPIi), drawing a new secret first when the
    /// current one is spent.
    pub fn make(
        &mut self,
        now: Instant,
        rng: &mut ChaCha20Rng,
        config: &DosConfig,
        (ni, ip, spi_i): (&[u8], IpAddr, u64),
    ) -> Vec<u8> {
        let spent = self.current.as_ref().is_none_or(|s| {
            now.saturating_duration_since(s.since) >= config.cookie_secret_lifetime
                || s.uses >= config.cookie_secret_uses
        });
        if spent {
            let mut key = [0; SECRET_LEN];
            rng.fill_bytes(&mut key);
            let version = self
                .current
                .as_ref()
                .map_or_else(|| rng.next_u32(), |s| s.version.wrapping_add(1));
            let new = Secret {
                version,
                key,
                since: now,
                uses: 0,
            };
            if let Some(old) = self.current.replace(new) {
                self.previous = Some((old, now + config.cookie_grace));
            }
        }
        let Some(secret) = self.current.as_mut() else {
            return Vec::new();
        };
        secret.uses += 1;
        let mut cookie = secret.version.to_be_bytes().to_vec();
        cookie.extend(mac(&secret.key, ni, ip, spi_i));
        cookie
    }

    /// Whether `cookie` is one we made for this request with the current secret, or with
    /// the previous one while its grace lasts.
    pub fn verify(
        &self,
        now: Instant,
        cookie: &[u8],
        (ni, ip, spi_i): (&[u8], IpAddr, u64),
    ) -> bool {
        let Some((version, tag)) = cookie.split_first_chunk::<VERSION_LEN>() else {
            return false;
        };
        let version = u32::from_be_bytes(*version);
        let previous = self
            .previous
            .as_ref()
            .filter(|(_, until)| now < *until)
            .map(|(s, _)| s);
        let secret = self
            .current
            .iter()
            .chain(previous)
            .find(|s| s.version == version);
        secret.is_some_and(|s| crate::shell::same_mac(tag, &mac(&s.key, ni, ip, spi_i)))
    }
}

/// A token bucket: `rate` answers per second, as many in a burst.
#[derive(Default)]
pub(crate) struct Budget {
    tokens: u32,
    refilled: Option<Instant>,
}

impl Budget {
    /// Takes one token if there is one.
    pub fn take(&mut self, now: Instant, rate: u32) -> bool {
        let elapsed = self
            .refilled
            .map_or(Duration::from_secs(1), |t| now.saturating_duration_since(t));
        let earned = (elapsed.as_secs_f64() * f64::from(rate)).floor();
        if earned >= 1.0 {
            // At most `rate`: the cast cannot truncate anything that matters.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let earned = earned.min(f64::from(rate)) as u32;
            self.tokens = self.tokens.saturating_add(earned).min(rate);
            self.refilled = Some(now);
        }
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }
}

/// The SPIi of the last few IKE SAs a peer authenticated as initiator: a copy of their
/// IKE_SA_INIT after they are gone (rekeyed, deleted) is a replay, not a new SA. A
/// legitimate new IKE SA draws a new random SPIi (RFC 7296 §2.6), so refusing an old one
/// costs nothing; only an authenticated peer adds to it, so a flood cannot flush it.
#[derive(Default)]
pub(crate) struct Replays {
    seen: VecDeque<(u64, IpAddr)>,
}

impl Replays {
    pub fn remember(&mut self, spi_i: u64, ip: IpAddr) {
        if !self.seen.contains(&(spi_i, ip)) {
            if self.seen.len() == REPLAY_MEMORY {
                self.seen.pop_front();
            }
            self.seen.push_back((spi_i, ip));
        }
    }

    pub fn contains(&self, spi_i: u64, ip: IpAddr) -> bool {
        self.seen.contains(&(spi_i, ip))
    }
}

/// The endpoint's flood-defence state: the cookie secrets, until when cookies stay
/// required, the stateless-answer budget and the replay memory.
#[derive(Default)]
pub(crate) struct Guard {
    pub cookies: Cookies,
    /// Cookies stay required until then (`DosConfig::cookie_calmdown` after the half-open
    /// SAs were last at the threshold).
    cookies_until: Option<Instant>,
    pub budget: Budget,
    pub replays: Replays,
}

impl Guard {
    /// Whether an IKE_SA_INIT request must carry a cookie now, with `half_open` SAs.
    pub fn cookies_required(&mut self, now: Instant, half_open: usize, config: &DosConfig) -> bool {
        if half_open >= config.cookie_threshold {
            self.cookies_until = Some(now + config.cookie_calmdown);
            return true;
        }
        self.cookies_until.is_some_and(|t| now < t)
    }
}

/// The proposals `offered` without the DH groups `DosConfig::expensive_dh_groups` names,
/// for choosing a cheaper group under pressure (`None`: nothing was removed).
pub(crate) fn without_expensive_groups(
    offered: &[Proposal],
    config: &DosConfig,
) -> Option<Vec<Proposal>> {
    let expensive = |t: &ike_wire::Transform| {
        t.ty == TransformType::DH && config.expensive_dh_groups.contains(&DhGroup(t.id))
    };
    if !offered.iter().any(|p| p.transforms.iter().any(expensive)) {
        return None;
    }
    let cheap = offered
        .iter()
        .map(|p| Proposal {
            transforms: p
                .transforms
                .iter()
                .filter(|t| !expensive(t))
                .cloned()
                .collect(),
            ..p.clone()
        })
        .collect();
    Some(cheap)
}

/// An answer to a request of a major version above 2 (RFC 7296 §1.5, §2.5): an
/// unprotected INFORMATIONAL response with the request's SPIs and message id, major
/// version 2 (the closest we support, §3.10.1), and INVALID_MAJOR_VERSION.
pub(crate) fn invalid_major_version(request: &Header) -> Vec<u8> {
    let header = Header {
        spi_i: request.spi_i,
        spi_r: request.spi_r,
        next_payload: PayloadType::NONE,
        major: 2,
        minor: 0,
        exchange: ExchangeType::INFORMATIONAL,
        flags: Flags::RESPONSE,
        message_id: request.message_id,
        length: 0,
    };
    ike_wire::Message {
        header,
        payloads: vec![Payload::Notify(Notify::new(
            NotifyType::INVALID_MAJOR_VERSION,
            Vec::new(),
        ))],
    }
    .encode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::net::Ipv4Addr;

    #[test]
    fn cookies_verify_across_one_rotation_within_grace() {
        let config = DosConfig {
            cookie_secret_uses: 2,
            ..DosConfig::default()
        };
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut jar = Cookies::default();
        let t0 = Instant::now();
        let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 2, 1));
        let req = (&[7u8; 32][..], ip, 42);
        let first = jar.make(t0, &mut rng, &config, req);
        assert_eq!(first.len(), 36);
        assert!(jar.verify(t0, &first, req));
        // Another SPIi, nonce or address does not verify.
        assert!(!jar.verify(t0, &first, (&[7u8; 32][..], ip, 43)));
        assert!(!jar.verify(t0, &first, (&[8u8; 32][..], ip, 42)));
        let other = IpAddr::V4(Ipv4Addr::new(127, 0, 2, 2));
        assert!(!jar.verify(t0, &first, (&[7u8; 32][..], other, 42)));
        let mut forged = first.clone();
        forged[10] ^= 1;
        assert!(!jar.verify(t0, &forged, req));
        // The third cookie draws a new secret: the first stays valid during the grace.
        jar.make(t0, &mut rng, &config, req);
        let third = jar.make(t0, &mut rng, &config, req);
        assert_ne!(first[..4], third[..4], "a new secret has a new version id");
        assert!(jar.verify(t0 + Duration::from_secs(9), &first, req));
        assert!(!jar.verify(t0 + Duration::from_secs(10), &first, req));
        assert!(jar.verify(t0 + Duration::from_secs(10), &third, req));
    }

    #[test]
    fn budget_refills_at_its_rate() {
        let mut b = Budget::default();
        let t0 = Instant::now();
        assert_eq!((0..10).filter(|_| b.take(t0, 3)).count(), 3);
        assert!(!b.take(t0 + Duration::from_millis(300), 3));
        assert!(b.take(t0 + Duration::from_millis(400), 3));
    }
}
