//! One simulated host's share of the data plane: its SA database, the outer addresses of
//! each CHILD SA (which the `esp` crate does not know), and what its removed SAs counted.

use std::collections::HashMap;
use std::net::SocketAddr;

use esp::{SaCounters, Sad};
use ike_core::ipsec::{EspSaPair, IpsecChange};

use super::spec::pair_spec;

/// Where a CHILD SA's packets go on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Outer {
    /// Our address: the NAT-T port's with UDP encapsulation.
    pub(crate) local: SocketAddr,
    /// The peer's address (its IKE or NAT-T port; plain ESP goes to that IP's ESP port).
    pub(crate) remote: SocketAddr,
    /// UDP-encapsulated (RFC 3948).
    pub(crate) encapsulated: bool,
}

/// One SA pair's counters, for the report: which CHILD SA, whether it is still installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaReport {
    /// Our inbound SPI.
    pub spi_in: u32,
    /// The SPI we sent with.
    pub spi_out: u32,
    /// Still installed at the end of the run.
    pub installed: bool,
    /// What it counted.
    pub counters: SaCounters,
}

/// A simulated host's ESP state (also `serve`'s tunnels' and `connect`'s CGW's: one host
/// facing a real peer).
pub(crate) struct HostPlane {
    pub(crate) sad: Sad,
    /// The inbound anti-replay window of its SAs.
    replay_window: u32,
    /// Seeds the next pair's AES-CBC IVs; moves on with every install.
    iv_seed: u64,
    /// Outer addresses and the peer's SPI per inbound SPI.
    outer: HashMap<u32, (Outer, u32)>,
    /// The pairs removed (by IKE, or with a crash), with what they counted.
    removed: Vec<SaReport>,
    /// Installs the SA database refused (keys of a wrong length, a duplicate SPI).
    pub(crate) refused: u64,
    /// The pairs installed, for `--keys` (Wireshark's `esp_sa`); kept only when asked.
    pub(super) installed: Option<Vec<EspSaPair>>,
}

impl HostPlane {
    pub(crate) fn new(replay_window: u32, iv_seed: u64, keep_pairs: bool) -> HostPlane {
        HostPlane {
            sad: Sad::new(),
            replay_window,
            iv_seed,
            outer: HashMap::new(),
            removed: Vec::new(),
            refused: 0,
            installed: keep_pairs.then(Vec::new),
        }
    }

    /// One change from the endpoint's `poll_ipsec`.
    pub(crate) fn apply(&mut self, change: IpsecChange) {
        match change {
            IpsecChange::Install(pair) => self.install(&pair),
            IpsecChange::Remove { spi_in } => self.remove(spi_in),
            IpsecChange::Update {
                spi_in,
                local,
                remote,
                encapsulated,
            } => {
                if let Some((outer, _)) = self.outer.get_mut(&spi_in) {
                    *outer = Outer {
                        local,
                        remote,
                        encapsulated,
                    };
                }
            }
        }
    }

    fn install(&mut self, pair: &EspSaPair) {
        self.iv_seed = self.iv_seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let installed = pair_spec(pair, self.replay_window, self.iv_seed)
            .map_err(|e| e.to_string())
            .and_then(|spec| self.sad.install(spec).map_err(|e| e.to_string()));
        if let Err(e) = installed {
            self.refused += 1;
            tracing::warn!(
                spi_in = format_args!("{:08x}", pair.spi_in),
                "the data plane cannot install this CHILD SA: {e}"
            );
            return;
        }
        let outer = Outer {
            local: pair.local,
            remote: pair.remote,
            encapsulated: pair.encapsulated,
        };
        self.outer.insert(pair.spi_in, (outer, pair.spi_out));
        if let Some(pairs) = &mut self.installed {
            pairs.push(pair.clone());
        }
    }

    fn remove(&mut self, spi_in: u32) {
        let Some(counters) = self.sad.remove(spi_in) else {
            return;
        };
        let spi_out = self.outer.remove(&spi_in).map_or(0, |(_, s)| s);
        self.removed.push(SaReport {
            spi_in,
            spi_out,
            installed: false,
            counters,
        });
    }

    /// The host went down: its SAs go with it, counted as removed.
    pub(super) fn crash(&mut self) {
        let spis: Vec<u32> = self.sad.spis_in().collect();
        for spi in spis {
            self.remove(spi);
        }
    }

    /// Whether a CHILD SA is installed: the tunnel is up for routing.
    pub(super) fn up(&self) -> bool {
        !self.sad.is_empty()
    }

    /// Whether its newest CHILD SA's packets are UDP-encapsulated (AWS's MTU is 8 bytes
    /// lower then).
    pub(super) fn encapsulated(&self) -> bool {
        self.sad
            .spis_in()
            .last()
            .and_then(|spi| self.outer(spi))
            .is_some_and(|o| o.encapsulated)
    }

    /// The outer addresses of the pair whose inbound SPI is `spi_in`.
    pub(crate) fn outer(&self, spi_in: u32) -> Option<Outer> {
        self.outer.get(&spi_in).map(|(o, _)| *o)
    }

    /// Every pair's counters, removed ones first (in removal order), then the installed.
    pub(crate) fn report(&self) -> Vec<SaReport> {
        let mut all = self.removed.clone();
        for spi_in in self.sad.spis_in() {
            all.push(SaReport {
                spi_in,
                spi_out: self.outer.get(&spi_in).map_or(0, |(_, s)| *s),
                installed: true,
                counters: self.sad.counters(spi_in).unwrap_or_default(),
            });
        }
        all
    }
}
