//! The data plane's side of the pair: an SA database built from each endpoint's
//! `poll_ipsec`, checking `ike_core::ipsec`'s contract after every input, and the checks
//! that one end's SAs are the other's seen from across the tunnel.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ike_core::{Endpoint, EspKeys, EspSaPair, IpsecChange};
use ike_crypto::{Encryption, Integrity, SkCipher};

use super::{Host, Pair};

/// A data plane's SA database kept from an endpoint's `poll_ipsec`, checking the contract
/// of `ike_core::ipsec` after every input: an SPI is installed once, a removal or an
/// update names an installed SA, a rekey replaces an installed one, and every CHILD SA the
/// endpoint has up (`child_sas`) is installed.
#[derive(Default)]
pub struct DataPlane {
    /// The SA pairs installed now, by our inbound SPI.
    pub installed: BTreeMap<u32, EspSaPair>,
    /// Every change, with the time since the pair was created.
    pub log: Vec<(Duration, IpsecChange)>,
    /// Every inbound SPI ever installed.
    ever: BTreeSet<u32>,
}

impl DataPlane {
    pub(super) fn apply(&mut self, at: Duration, change: IpsecChange) {
        match &change {
            IpsecChange::Install(p) => {
                assert!(
                    self.ever.insert(p.spi_in),
                    "{:08x} installed a second time",
                    p.spi_in
                );
                if let Some(old) = p.replaces {
                    assert!(
                        self.installed.contains_key(&old),
                        "{:08x} replaces {old:08x}, which is not installed",
                        p.spi_in
                    );
                }
                self.installed.insert(p.spi_in, (**p).clone());
            }
            IpsecChange::Remove { spi_in } => {
                assert!(
                    self.installed.remove(spi_in).is_some(),
                    "{spi_in:08x} removed but not installed"
                );
            }
            IpsecChange::Update {
                spi_in,
                local,
                remote,
                encapsulated,
            } => {
                let p = self
                    .installed
                    .get_mut(spi_in)
                    .unwrap_or_else(|| panic!("{spi_in:08x} updated but not installed"));
                (p.local, p.remote, p.encapsulated) = (*local, *remote, *encapsulated);
            }
        }
        self.log.push((at, change));
    }

    /// Every CHILD SA that is up is installed.
    pub(super) fn check(&self, endpoint: &Endpoint) {
        for (spi_in, spi_out) in endpoint.child_sas() {
            let p = self.installed.get(&spi_in).unwrap_or_else(|| {
                panic!("CHILD SA {spi_in:08x} is up but not installed: {self:?}")
            });
            assert_eq!(p.spi_out, spi_out, "{spi_in:08x}'s outbound SPI");
        }
    }

    /// Installed are exactly the CHILD SAs that are up: what holds once no exchange is in
    /// flight (an old SA of a rekey and an SA being deleted wait only for their DELETE).
    pub fn assert_settled(&self, endpoint: &Endpoint) {
        let up: BTreeSet<u32> = endpoint.child_sas().iter().map(|c| c.0).collect();
        assert_eq!(self.spis(), up, "installed vs up once settled");
    }

    /// The inbound SPIs installed now.
    pub fn spis(&self) -> BTreeSet<u32> {
        self.installed.keys().copied().collect()
    }

    /// The Installs so far, in order.
    pub fn installs(&self) -> Vec<&EspSaPair> {
        self.log
            .iter()
            .filter_map(|(_, c)| match c {
                IpsecChange::Install(p) => Some(&**p),
                _ => None,
            })
            .collect()
    }

    /// The inbound SPIs removed so far, in order.
    pub fn removes(&self) -> Vec<u32> {
        self.log
            .iter()
            .filter_map(|(_, c)| match c {
                IpsecChange::Remove { spi_in } => Some(*spi_in),
                _ => None,
            })
            .collect()
    }

    /// The changes from position `from` of the log on.
    pub fn since(&self, from: usize) -> Vec<IpsecChange> {
        self.log[from.min(self.log.len())..]
            .iter()
            .map(|(_, c)| c.clone())
            .collect()
    }
}

impl std::fmt::Debug for DataPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let spis: Vec<String> = self.installed.keys().map(|s| format!("{s:08x}")).collect();
        write!(f, "installed [{}]", spis.join(", "))
    }
}

/// `a` and `b` are the two ends of one CHILD SA: what one sends with, the other receives
/// with — SPIs, keys and selectors crossed, the algorithms, ESN and encapsulation alike.
pub fn assert_mirrors(a: &EspSaPair, b: &EspSaPair) {
    let at = format!("{:08x} / {:08x}", a.spi_in, b.spi_in);
    assert_eq!((a.spi_in, a.spi_out), (b.spi_out, b.spi_in), "SPIs: {at}");
    assert!(
        a.outbound == b.inbound,
        "a's outbound keys are b's inbound: {at}"
    );
    assert!(
        a.inbound == b.outbound,
        "a's inbound keys are b's outbound: {at}"
    );
    assert!(
        a.inbound != a.outbound,
        "each direction has its own keys: {at}"
    );
    assert_eq!(a.ts_local, b.ts_remote, "selectors: {at}");
    assert_eq!(a.ts_remote, b.ts_local, "selectors: {at}");
    assert_eq!(
        (a.encryption, a.key_bits, a.integrity, a.esn, a.ike_version),
        (b.encryption, b.key_bits, b.integrity, b.esn, b.ike_version),
        "algorithms: {at}"
    );
    assert_eq!(a.encapsulated, b.encapsulated, "encapsulation: {at}");
    seal_and_open(a, &a.outbound, &b.inbound);
    seal_and_open(b, &b.outbound, &a.inbound);
}

/// Seals a packet with `sender`'s keys and opens it with `receiver`'s, as ESP would (the
/// SPI and sequence number authenticated; AES-GCM as RFC 4106, AES-CBC + HMAC as RFC
/// 3602 / 4868 — the construction IKE's SK payload shares). The keys must fit the SA's
/// cipher exactly; a flipped bit must fail.
fn seal_and_open(sa: &EspSaPair, sender: &EspKeys, receiver: &EspKeys) {
    let cipher = |k: &EspKeys| {
        let encryption = Encryption::new(sa.encryption, sa.key_bits).expect("a known cipher");
        let integrity = sa.integrity.map(|i| Integrity::new(i).expect("known"));
        SkCipher::new(encryption, integrity, &k.encryption, &k.integrity)
            .expect("the keys fit the cipher")
    };
    let (seal, open) = (cipher(sender), cipher(receiver));
    let header = [sa.spi_out.to_be_bytes(), 1u32.to_be_bytes()].concat();
    let iv = vec![7; seal.iv_len()];
    let inner = b"an inner IPv4 packet, as far as this check goes";
    let body = seal.seal(&header, inner, &iv);
    assert_eq!(
        open.open(&header, &body)
            .expect("opens with the peer's inbound keys"),
        inner
    );
    let mut bad = body.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(open.open(&header, &bad).is_err(), "a damaged packet fails");
}

/// The one SA pair each end holds, checked against each other.
pub fn the_pair(pair: &Pair) -> (EspSaPair, EspSaPair) {
    let one = |host: &Host| {
        let all: Vec<&EspSaPair> = host.sad.installed.values().collect();
        assert_eq!(all.len(), 1, "one SA pair installed: {:?}", host.sad);
        all[0].clone()
    };
    let (aws, cgw) = (one(&pair.aws), one(&pair.cgw));
    assert_mirrors(&aws, &cgw);
    (aws, cgw)
}

/// The change that installs `p`.
pub fn install(p: &EspSaPair) -> IpsecChange {
    IpsecChange::Install(Box::new(p.clone()))
}

/// The change that removes the CHILD SA `spi_in`.
pub fn remove(spi_in: u32) -> IpsecChange {
    IpsecChange::Remove { spi_in }
}
