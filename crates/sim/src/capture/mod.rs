//! Captures: every datagram the driver puts on the wire, as a pcap file (raw IPv4/IPv6
//! packets, so Wireshark and tshark read it as they would a capture on `lo`), and the keys
//! as Wireshark's decryption tables ([`KeyFiles`]), so the SK payloads and the ESP packets
//! decrypt.
//!
//! On the wire, IKE and UDP-encapsulated ESP (RFC 3948) are UDP datagrams
//! ([`PcapSink::write`]); plain ESP is IP protocol 50 with no UDP header
//! ([`PcapSink::write_esp`]) — inside the simulator it travels over a loopback UDP socket
//! (the host's ESP port, docs/data-plane.md), but the capture shows it as it would be.
//!
//! Both are created before the run starts (an unusable path is bad input, not a failure
//! after the simulation) and closed however the run ends, a signal included: a pcap is
//! whole up to its last packet.

mod keys;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use etherparse::{IpNumber, PacketBuilder};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness};

pub use keys::{wireshark_esp_sa_lines, wireshark_key_line, KeyFiles};

/// The TTL (IPv4) or hop limit (IPv6) of every captured packet.
const HOP_LIMIT: u8 = 64;

/// `--pcap`: every datagram, as raw IP packets.
pub struct PcapSink {
    writer: PcapWriter<BufWriter<File>>,
    /// One packet's bytes, reused: a busy data plane writes many.
    packet: Vec<u8>,
}

impl PcapSink {
    /// Creates the file and writes its header. The header is little-endian, the byte order
    /// of the machines that write nearly every pcap (libpcap writes the host's order): every
    /// reader takes either, but some (`pcap-parser` 0.17) read no packets from a
    /// big-endian file, which is pcap-file's default.
    pub fn create(path: &Path) -> std::io::Result<PcapSink> {
        let file = BufWriter::new(File::create(path)?);
        let header = PcapHeader {
            datalink: DataLink::RAW,
            endianness: Endianness::Little,
            ..PcapHeader::default()
        };
        let writer = PcapWriter::with_header(file, header).map_err(std::io::Error::other)?;
        Ok(PcapSink {
            writer,
            packet: Vec::new(),
        })
    }

    /// Writes one UDP datagram (IKE, or UDP-encapsulated ESP), `since_epoch` being its
    /// capture time. A datagram between an IPv4 and an IPv6 address cannot exist and is not
    /// written.
    pub fn write(
        &mut self,
        since_epoch: Duration,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
    ) -> std::io::Result<()> {
        let builder = match (src, dst) {
            (SocketAddr::V4(s), SocketAddr::V4(d)) => {
                PacketBuilder::ipv4(s.ip().octets(), d.ip().octets(), HOP_LIMIT)
                    .udp(s.port(), d.port())
            }
            (SocketAddr::V6(s), SocketAddr::V6(d)) => {
                PacketBuilder::ipv6(s.ip().octets(), d.ip().octets(), HOP_LIMIT)
                    .udp(s.port(), d.port())
            }
            _ => return Ok(()),
        };
        self.packet.clear();
        builder
            .write(&mut self.packet, payload)
            .map_err(std::io::Error::other)?;
        self.write_packet(since_epoch)
    }

    /// Writes one plain ESP packet (RFC 4303 §2: `esp` starts with the SPI) as it is on
    /// the wire: an IP packet from `src` to `dst` with protocol 50 and no UDP header.
    /// Addresses of two families are not written, as with [`PcapSink::write`].
    pub fn write_esp(
        &mut self,
        since_epoch: Duration,
        src: IpAddr,
        dst: IpAddr,
        esp: &[u8],
    ) -> std::io::Result<()> {
        let builder = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                PacketBuilder::ipv4(s.octets(), d.octets(), HOP_LIMIT)
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                PacketBuilder::ipv6(s.octets(), d.octets(), HOP_LIMIT)
            }
            _ => return Ok(()),
        };
        self.packet.clear();
        builder
            .write(
                &mut self.packet,
                IpNumber::ENCAPSULATING_SECURITY_PAYLOAD,
                esp,
            )
            .map_err(std::io::Error::other)?;
        self.write_packet(since_epoch)
    }

    /// Writes what is buffered: the file ends after its last whole packet.
    pub fn finish(self) -> std::io::Result<()> {
        self.writer.into_writer().flush()
    }

    fn write_packet(&mut self, since_epoch: Duration) -> std::io::Result<()> {
        let len = u32::try_from(self.packet.len()).unwrap_or(u32::MAX);
        self.writer
            .write_packet(&PcapPacket::new(since_epoch, len, &self.packet))
            .map_err(std::io::Error::other)?;
        Ok(())
    }
}
