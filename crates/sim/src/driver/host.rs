//! A simulated host: an endpoint and the two real UDP sockets it sends and receives on.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use ike_core::{Endpoint, NatTPorts};
use tokio::net::UdpSocket;

use crate::framing::{PortRole, Received};
use crate::traffic::Reboot;

/// A simulated host's two ports, in this order.
pub(super) const ROLES: [PortRole; 2] = [PortRole::Ike, PortRole::NatT];

/// A simulated host: an endpoint and its sockets (IKE port, NAT-T port).
pub struct Host {
    pub endpoint: Endpoint,
    pub(super) sockets: [Arc<UdpSocket>; 2],
    pub(super) addrs: [SocketAddr; 2],
    /// A crashed host neither sends nor receives nor keeps time.
    pub(crate) alive: bool,
    /// How to bring the host back after a crash ([`Action::Boot`]).
    pub reboot: Option<Reboot>,
}

impl Host {
    /// Binds the IKE and NAT-T sockets on `ip` (a loopback address; the OS picks the
    /// ports) and builds the endpoint for the IKE port's address.
    pub async fn bind(
        ip: std::net::IpAddr,
        make: impl FnOnce(SocketAddr) -> Endpoint,
    ) -> std::io::Result<Host> {
        if !ip.is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{ip} is not a loopback address"),
            ));
        }
        let ike = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let nat_t = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let addrs = [ike.local_addr()?, nat_t.local_addr()?];
        let mut endpoint = make(addrs[0]);
        endpoint.set_nat_t_ports(NatTPorts {
            local: Some(addrs[1].port()),
            peer: None,
        });
        Ok(Host {
            endpoint,
            sockets: [Arc::new(ike), Arc::new(nat_t)],
            addrs,
            alive: true,
            reboot: None,
        })
    }

    /// The IKE port's address: where the peer calls.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// The NAT-T port's address.
    pub fn nat_t_addr(&self) -> SocketAddr {
        self.addrs[1]
    }

    /// Both addresses (IKE port, NAT-T port).
    pub fn addrs(&self) -> [SocketAddr; 2] {
        self.addrs
    }

    /// Tells the endpoint where its peer's NAT-T port is.
    pub fn set_peer_nat_t_port(&mut self, port: u16) {
        let ports = self.endpoint.nat_t_ports();
        self.endpoint.set_nat_t_ports(NatTPorts {
            peer: Some(port),
            ..ports
        });
    }

    /// Hands the endpoint a datagram that arrived on port `port` (index into `addrs`),
    /// without the NAT-T port's marker; anything else there (ESP, keepalives, unmarked IKE)
    /// is not for IKE and is dropped.
    pub(super) fn deliver(&mut self, now: Instant, port: usize, from: SocketAddr, data: &[u8]) {
        if !self.alive {
            return;
        }
        let local = self.addrs[port];
        match ROLES[port].classify(local, from, data) {
            Received::Ike(message) => self.endpoint.handle(now, local, from, message),
            other => {
                tracing::debug!(%local, %from, ?other, "not an IKE message on the NAT-T port: dropped")
            }
        }
    }
}
