//! The sockets of a `serve` tunnel: its address, and on port 500 also 4500, as AWS listens.

use std::net::SocketAddr;
use std::sync::Arc;

use ike_core::nat_t::{IKE_PORT, NAT_T_PORT};
use tokio::net::UdpSocket;

use super::ServeError;
use crate::driver::Port;
use crate::framing::PortRole;

/// What to do about a port that cannot be bound.
pub(super) fn bind_hint(addr: &SocketAddr, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied if addr.port() < 1024 => format!(
            " (ports below 1024 need root or CAP_NET_BIND_SERVICE; listening on {} also takes {NAT_T_PORT}; \
             or listen on 4500 alone, e.g. --listen {}:4500)",
            IKE_PORT,
            addr.ip()
        ),
        std::io::ErrorKind::AddrInUse => {
            " (another program has it: a running charon or ikesim serve? `ss -ulpn` shows who)".to_owned()
        }
        _ => String::new(),
    }
}

/// Binds a tunnel's sockets: `addr`, and on port 500 also 4500 (NAT-T), as AWS listens.
pub(super) async fn bind_ports(addr: SocketAddr) -> Result<Vec<Port>, ServeError> {
    let mut wanted = vec![(addr, PortRole::Single)];
    if addr.port() == IKE_PORT {
        wanted.push((SocketAddr::new(addr.ip(), NAT_T_PORT), PortRole::NatT));
    }
    let mut ports = Vec::new();
    for (addr, role) in wanted {
        let socket = UdpSocket::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let addr = socket.local_addr()?;
        ports.push(Port {
            role,
            socket: Arc::new(socket),
            addr,
        });
    }
    Ok(ports)
}
