//! A host the driver runs: an endpoint and the real UDP sockets it sends and receives on.
//!
//! A simulated host ([`Host::bind`]) has two sockets on its own loopback address, its IKE
//! port and its NAT-T port, wherever the OS put them; it talks only to the other simulated
//! hosts. A host facing a real peer (`serve`'s AWS tunnel, `connect`'s CGW:
//! [`Host::facing_real_peer`]) has the ports it was told to bind, by their numbers' roles
//! ([`PortRole`]), and sends wherever its endpoint says.

use std::net::SocketAddr;
use std::sync::Arc;

use ike_core::{Endpoint, NatTPorts};
use tokio::net::UdpSocket;

use crate::framing::PortRole;
use crate::traffic::Reboot;

/// One of a host's sockets.
#[derive(Clone)]
pub struct Port {
    pub role: PortRole,
    pub socket: Arc<UdpSocket>,
    pub addr: SocketAddr,
}

/// NAT keepalives (RFC 3948 §4): a host behind a NAT sends one 0xFF byte from its NAT-T port
/// to its peer's every `every`, so that the NAT keeps its mapping while IKE is quiet.
#[derive(Clone, Copy, Debug)]
pub struct Keepalive {
    /// The interval (strongSwan's `keep_alive`).
    pub every: std::time::Duration,
    /// The peer's NAT-T address.
    pub to: SocketAddr,
    /// When the next one is due.
    pub next: std::time::Instant,
}

/// An endpoint and its sockets; the first port is the one the endpoint is built for.
pub struct Host {
    pub endpoint: Endpoint,
    pub(super) ports: Vec<Port>,
    /// A crashed host neither sends nor receives nor keeps time.
    pub(crate) alive: bool,
    /// How to bring the host back after a crash (`Action::Boot`).
    pub reboot: Option<Box<Reboot>>,
    /// Talks to a real peer: may send anywhere, not only to the simulated hosts.
    pub(super) real_peer: bool,
    /// The NAT keepalives it sends, if any.
    pub keepalive: Option<Keepalive>,
}

impl Host {
    /// A simulated host: binds the IKE and NAT-T sockets on `ip` (a loopback address; the
    /// OS picks the ports) and builds the endpoint for the IKE port's address.
    pub async fn bind(
        ip: std::net::IpAddr,
        make: impl FnOnce(SocketAddr) -> Endpoint,
    ) -> std::io::Result<Host> {
        let ports = Host::bind_ports(ip).await?;
        Ok(Host::on_ports(make, ports))
    }

    /// A simulated host's two sockets on `ip` (a loopback address): its IKE port and its
    /// NAT-T port, wherever the OS puts them.
    pub async fn bind_ports(ip: std::net::IpAddr) -> std::io::Result<[Port; 2]> {
        if !ip.is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{ip} is not a loopback address"),
            ));
        }
        let ike = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let nat_t = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let (ike_addr, nat_t_addr) = (ike.local_addr()?, nat_t.local_addr()?);
        let port = |role, socket, addr| Port {
            role,
            socket: Arc::new(socket),
            addr,
        };
        Ok([
            port(PortRole::Ike, ike, ike_addr),
            port(PortRole::NatT, nat_t, nat_t_addr),
        ])
    }

    /// A simulated host on `ports` (an IKE and a NAT-T port, [`Host::bind_ports`]'s), which
    /// other cells' hosts may share ([`crate::runner::SocketPool`]); `make` builds the
    /// endpoint for the IKE port's address.
    pub fn on_ports(make: impl FnOnce(SocketAddr) -> Endpoint, ports: [Port; 2]) -> Host {
        let mut endpoint = make(ports[0].addr);
        endpoint.set_nat_t_ports(NatTPorts {
            local: Some(ports[1].addr.port()),
            peer: None,
        });
        Host {
            endpoint,
            ports: ports.into(),
            alive: true,
            reboot: None,
            real_peer: false,
            keepalive: None,
        }
    }

    /// A host facing a real peer on sockets bound already (at least one); a second port is
    /// the endpoint's NAT-T port.
    pub fn facing_real_peer(mut endpoint: Endpoint, ports: Vec<Port>) -> Host {
        if let Some(nat_t) = ports.get(1) {
            endpoint.set_nat_t_ports(NatTPorts {
                local: Some(nat_t.addr.port()),
                peer: None,
            });
        }
        Host {
            endpoint,
            ports,
            alive: true,
            reboot: None,
            real_peer: true,
            keepalive: None,
        }
    }

    /// Binds the host's ESP port (a socket on its address that stands for IP protocol 50,
    /// docs/data-plane.md) and returns its address.
    pub async fn add_esp_port(&mut self) -> std::io::Result<SocketAddr> {
        let socket = UdpSocket::bind(SocketAddr::new(self.addr().ip(), 0)).await?;
        let addr = socket.local_addr()?;
        self.ports.push(Port {
            role: PortRole::Esp,
            socket: Arc::new(socket),
            addr,
        });
        Ok(addr)
    }

    /// The first port's address: where the peer calls (a simulated host's IKE port).
    pub fn addr(&self) -> SocketAddr {
        self.ports[0].addr
    }

    /// The NAT-T port's address (the first port's, for a host with one).
    pub fn nat_t_addr(&self) -> SocketAddr {
        self.ports.get(1).map_or(self.addr(), |p| p.addr)
    }

    /// Every port's address, in order.
    pub fn addrs(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.ports.iter().map(|p| p.addr)
    }

    /// Tells the endpoint where its peer's NAT-T port is.
    pub fn set_peer_nat_t_port(&mut self, port: u16) {
        let ports = self.endpoint.nat_t_ports();
        self.endpoint.set_nat_t_ports(NatTPorts {
            peer: Some(port),
            ..ports
        });
    }

    /// The index of the port at `addr`.
    pub(super) fn port_at(&self, addr: SocketAddr) -> Option<usize> {
        self.ports.iter().position(|p| p.addr == addr)
    }
}
