//! What the data plane has been told (`crate::ipsec`): the CHILD SAs it holds, by our
//! inbound SPI, with the IKE SA that holds each and the outer addresses it was told.
//!
//! After every input the endpoint compares the SAs that input touched (`SaTable::
//! take_touched`) with the ledger and queues the difference: `Install` for a CHILD SA
//! whose keys went into use (`ChildSa::keys_in_use`), `Update` when the outer addresses of
//! its IKE SA moved, `Remove` for one that left its IKE SA's `children` — by whatever path:
//! a DELETE sent or received, the old SA of a rekey or the loser of a collision once its
//! DELETE is done, expiry, its IKE SA deleted, expired, closed by INITIAL_CONTACT or DPD,
//! `Endpoint::forget_child_sas`, an IKEv1 ISAKMP SA gone with no other to take its IPsec
//! SAs over. One comparison rather than a call at each of those places, so no path can
//! forget to tell; a CHILD SA that moves to another IKE SA (an IKEv2 IKE rekey, RFC 7296
//! §2.8: "the new IKE SA … inherits all of the CHILD SAs"; IKEv1's new ISAKMP SA taking
//! over, or an orphan adopted) is no change at all.
//!
//! Cost: the SAs an input touched and their CHILD SAs (one or two), each looked up in a
//! map — nothing at all, and no allocation, without a data plane.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;

use ike_crypto::{ChildSaKeys, Encryption, Integrity};
use ike_wire::EsnId;

use super::sas::Sa;
use super::table::SaTable;
use crate::child::{ChildSa, KeymatOrder};
use crate::event::SaHandle;
use crate::ipsec::{EspKeys, EspSaPair, IpsecChange};
use crate::nat_t::NatTPorts;

/// The CHILD SAs the data plane holds.
#[derive(Default)]
pub(super) struct Ledger {
    /// By our inbound SPI.
    installed: BTreeMap<u32, Told>,
    /// The same, by the IKE SA that holds each: what goes when that SA goes.
    by_owner: BTreeSet<(SaHandle, u32)>,
}

/// What the data plane was told of one CHILD SA.
struct Told {
    owner: SaHandle,
    outer: Outer,
}

/// A CHILD SA's outer addresses: those of its IKE SA (RFC 7296 §2.23, RFC 3948).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Outer {
    local: SocketAddr,
    remote: SocketAddr,
    encapsulated: bool,
}

impl Outer {
    /// UDP encapsulation when NAT detection found a NAT on either side (the initiator then
    /// floats to the NAT-T port, the responder follows) or the SA is on our NAT-T port.
    fn of(sa: &Sa, nat_t: NatTPorts) -> Outer {
        let local = sa.local();
        Outer {
            local,
            remote: sa.remote(),
            encapsulated: sa.nat().detected() || nat_t.local == Some(local.port()),
        }
    }
}

impl Ledger {
    /// Whether the data plane holds the CHILD SA with our inbound SPI `spi_in`.
    fn holds(&self, spi_in: u32) -> bool {
        self.installed.contains_key(&spi_in)
    }

    /// Compares the `touched` SAs' CHILD SAs with what the data plane holds and queues the
    /// changes onto `out`: installs first (a rekey's new SA before its old one goes), then
    /// removals.
    pub fn sync(
        &mut self,
        touched: &BTreeSet<SaHandle>,
        sas: &SaTable,
        nat_t: NatTPorts,
        out: &mut VecDeque<IpsecChange>,
    ) {
        let mut live = BTreeSet::new();
        for &h in touched {
            let Some(sa) = sas.get(h) else {
                continue;
            };
            let outer = Outer::of(sa, nat_t);
            for child in sa.children().iter().filter(|c| c.keys_in_use) {
                let spi_in = child.spi_in.0;
                live.insert((h, spi_in));
                self.sync_child(h, sa, child, outer, out);
            }
        }
        for &h in touched {
            let gone: Vec<u32> = self
                .by_owner
                .range((h, 0)..=(h, u32::MAX))
                .filter(|k| !live.contains(*k))
                .map(|&(_, spi)| spi)
                .collect();
            for spi_in in gone {
                self.by_owner.remove(&(h, spi_in));
                self.installed.remove(&spi_in);
                out.push_back(IpsecChange::Remove { spi_in });
            }
        }
    }

    fn sync_child(
        &mut self,
        h: SaHandle,
        sa: &Sa,
        child: &ChildSa,
        outer: Outer,
        out: &mut VecDeque<IpsecChange>,
    ) {
        let spi_in = child.spi_in.0;
        let Some(told) = self.installed.get_mut(&spi_in) else {
            // A rekey replaces an SA the data plane holds, or nothing it knows of.
            let replaces = child.replaces.map(|s| s.0).filter(|s| self.holds(*s));
            let Some(pair) = esp_sa_pair(h, sa, child, outer, replaces) else {
                return;
            };
            out.push_back(IpsecChange::Install(Box::new(pair)));
            self.installed.insert(spi_in, Told { owner: h, outer });
            self.by_owner.insert((h, spi_in));
            return;
        };
        if told.owner != h {
            // Moved to another IKE SA (an IKE rekey's heir): the data plane keeps it.
            self.by_owner.remove(&(told.owner, spi_in));
            self.by_owner.insert((h, spi_in));
            told.owner = h;
        }
        if told.outer != outer {
            told.outer = outer;
            out.push_back(IpsecChange::Update {
                spi_in,
                local: outer.local,
                remote: outer.remote,
                encapsulated: outer.encapsulated,
            });
        }
    }
}

/// The data plane's view of `child` of the SA `h`: its KEYMAT split per direction
/// (RFC 7296 §2.17: each direction's encryption key, then its integrity key). `None` if
/// it has no usable keys (an algorithm ike-crypto cannot key; never for one it negotiated).
fn esp_sa_pair(
    h: SaHandle,
    sa: &Sa,
    child: &ChildSa,
    outer: Outer,
    replaces: Option<u32>,
) -> Option<EspSaPair> {
    let selected = child.selected?;
    let keys = (|| {
        let encryption = Encryption::new(selected.encryption.id, selected.encryption.key_bits)
            .map_err(|e| e.to_string())?;
        let integrity = selected
            .integrity
            .map(Integrity::new)
            .transpose()
            .map_err(|e| e.to_string())?;
        ChildSaKeys::split(&child.keymat, &encryption, integrity.as_ref())
            .ok_or_else(|| format!("KEYMAT of {} bytes is short", child.keymat.len()))
    })();
    let keys = match keys {
        Ok(k) => k,
        Err(e) => {
            tracing::warn!(spi_in = child.spi_in.0, "CHILD SA not installed: {e}");
            return None;
        }
    };
    let first = EspKeys {
        encryption: keys.encr_i,
        integrity: keys.integ_i,
    };
    let second = EspKeys {
        encryption: keys.encr_r,
        integrity: keys.integ_r,
    };
    let (outbound, inbound) = match child.order {
        KeymatOrder::OutboundFirst => (first, second),
        KeymatOrder::InboundFirst => (second, first),
    };
    Some(EspSaPair {
        ike_sa: h,
        ike_version: sa.version(),
        spi_in: child.spi_in.0,
        spi_out: child.spi_out.0,
        encryption: selected.encryption.id,
        key_bits: selected.encryption.key_bits,
        integrity: selected.integrity,
        esn: selected.esn == Some(EsnId::YES),
        inbound,
        outbound,
        ts_local: child.ts_local.clone(),
        ts_remote: child.ts_remote.clone(),
        local: outer.local,
        remote: outer.remote,
        encapsulated: outer.encapsulated,
        replaces,
        defer_outbound: replaces.is_some() && child.defer_outbound,
    })
}
