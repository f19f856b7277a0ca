//! Where a connection's hosts get their sockets: their own (`run`), or a pool the cells
//! of an estate share.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use ike_core::Endpoint;

use crate::driver::{Host, Port};

/// Where a connection's hosts get their sockets.
pub(crate) enum Sockets<'a> {
    /// Each host binds its own (a `run`).
    Own,
    /// From a pool that many cells share (an estate).
    Pool(&'a mut SocketPool),
}

/// Sockets that the cells of an estate share: the `k`-th host on an address in any cell
/// gets the same IKE and NAT-T sockets as the `k`-th host on it in every other cell. A
/// cell's hosts keep distinct addresses, and a datagram sent in a cell's step is received
/// in the same step ([`crate::driver::Cell`]), so sharing is invisible to each cell — and
/// ten thousand tunnels need a handful of sockets, not two per host.
#[derive(Default)]
pub struct SocketPool {
    pairs: HashMap<(IpAddr, usize), [Port; 2]>,
    /// How many hosts the cell being built has put on each address so far.
    taken: HashMap<IpAddr, usize>,
}

impl SocketPool {
    /// The next cell is about to be built.
    pub(crate) fn next_cell(&mut self) {
        self.taken.clear();
    }

    pub(super) async fn host(
        &mut self,
        ip: IpAddr,
        make: impl FnOnce(SocketAddr) -> Endpoint,
    ) -> std::io::Result<Host> {
        let k = self.taken.entry(ip).or_default();
        let key = (ip, *k);
        *k += 1;
        let ports = match self.pairs.entry(key) {
            Entry::Occupied(e) => e.get().clone(),
            Entry::Vacant(e) => e.insert(Host::bind_ports(ip).await?).clone(),
        };
        Ok(Host::on_ports(make, ports))
    }
}

impl Sockets<'_> {
    pub(super) async fn host(
        &mut self,
        ip: IpAddr,
        make: impl FnOnce(SocketAddr) -> Endpoint,
    ) -> std::io::Result<Host> {
        match self {
            Sockets::Own => Host::bind(ip, make).await,
            Sockets::Pool(pool) => pool.host(ip, make).await,
        }
    }
}
