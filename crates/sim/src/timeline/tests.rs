//! `serve`'s timeline facing the simulated CGW of `connect` over loopback, in process:
//! the CGW's IKE_AUTH as the AWS endpoint received it, decrypted.

use std::net::IpAddr;
use std::sync::mpsc;
use std::time::Duration;

use timeline::{LaneKind, Protection, Timeline, What};
use vpn_log::{PhaseState, RecordSink, SinkError, TunnelRecord};

use crate::connect::{connect, ConnectConfig, ConnectOptions, Outcome};
use crate::serve::{serve_async, ServeConfig, ServeOptions};

/// Says when serve is listening (its first stream is opened after its sockets are bound),
/// and ends serve once the tunnel is up: a sink that fails is one of serve's ends.
struct StopWhenUp {
    listening: mpsc::Sender<()>,
    records: Vec<TunnelRecord>,
}

impl RecordSink for StopWhenUp {
    fn open(&mut self, _tunnel: usize, _stream: &str) -> Result<String, SinkError> {
        let _ = self.listening.send(());
        Ok("the test".to_owned())
    }

    fn write(&mut self, _: usize, _: &str, record: &TunnelRecord) -> Result<(), SinkError> {
        self.records.push(record.clone());
        if record.ike_phase2_state == PhaseState::Established {
            return Err(SinkError {
                what: "the test".to_owned(),
                source: std::io::Error::other("the tunnel is up: enough"),
            });
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

const PSK: &str = "ikesim.timeline_psk";

fn serve_until_up() -> (Timeline, Vec<TunnelRecord>, Outcome) {
    let config = ServeConfig::parse(
        &format!(
            "vpn_connection_id = \"vpn-0a1b2c3d4e5f60718\"\n[cgw]\noutside_ip = \"127.0.2.61\"\n\
             [[tunnel]]\nlisten = \"127.0.1.61:4500\"\n[tunnel.aws]\npre_shared_key = \"{PSK}\"\n"
        ),
        "serve.toml",
    )
    .expect("a valid serve configuration");
    let options = ServeOptions {
        timeline: Some("unused.html".into()),
        ..ServeOptions::default()
    };
    let (tx, listening) = mpsc::channel();
    let served = std::thread::spawn(move || {
        let mut sink = StopWhenUp {
            listening: tx,
            records: Vec::new(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let (result, timeline) = runtime.block_on(serve_async(&config, &options, &mut sink));
        (result, timeline, sink.records)
    });
    listening
        .recv_timeout(Duration::from_secs(10))
        .expect("serve listens");
    let cgw = ConnectConfig::parse(
        &format!(
            "local = \"127.0.2.61\"\npre_shared_key = \"{PSK}\"\n\
             ike_proposals = [\"aes256gcm16-prfsha384-ecp384\"]\n\
             esp_proposals = [\"aes256gcm16-ecp384\"]\n"
        ),
        "cgw.toml",
    )
    .expect("a valid CGW configuration");
    let outcome = connect(
        &cgw,
        &ConnectOptions {
            peer: (
                "127.0.1.61".parse::<IpAddr>().expect("an address"),
                Some(4500),
            ),
            local: None,
            psk: None,
            duration: Some(Duration::from_secs(20)),
            stay: false,
        },
    )
    .expect("connect runs");
    let (result, timeline, records) = served.join().expect("serve's thread");
    assert!(result.is_err(), "serve ended by the sink: {result:?}");
    (
        timeline.expect("a timeline was asked for"),
        records,
        outcome,
    )
}

#[test]
fn serve_shows_the_real_cgws_ike_auth_decrypted_as_aws_received_it() {
    let (t, records, outcome) = serve_until_up();
    assert_eq!(outcome, Outcome::Up);
    assert!(
        t.title.starts_with("ikesim serve 127.0.1.61:4500"),
        "{}",
        t.title
    );
    let lanes: Vec<(&str, LaneKind)> = t.lanes.iter().map(|l| (l.name.as_str(), l.kind)).collect();
    assert_eq!(
        lanes,
        [
            ("AWS tunnel 1", LaneKind::Aws),
            ("CGW 127.0.2.61", LaneKind::Cgw)
        ]
    );
    let datagrams: Vec<_> = t
        .events
        .iter()
        .filter_map(|e| match &e.what {
            What::Datagram(d) => Some(d),
            _ => None,
        })
        .collect();
    let exchanges: Vec<(usize, &str, bool)> = datagrams
        .iter()
        .map(|d| (d.from, d.message.exchange.as_str(), d.message.response))
        .collect();
    assert_eq!(
        exchanges,
        [
            (1, "IKE_SA_INIT", false),
            (0, "IKE_SA_INIT", true),
            (1, "IKE_AUTH", false),
            (0, "IKE_AUTH", true),
        ]
    );
    let auth = datagrams[2];
    assert_eq!(auth.to, 0);
    assert_eq!(auth.src.split(':').next(), Some("127.0.2.61"));
    assert_eq!(auth.dst, "127.0.1.61:4500");
    assert_eq!(
        auth.message.protection,
        Protection::Decrypted,
        "opened by the AWS endpoint: {auth:?}"
    );
    let names: Vec<&str> = auth
        .message
        .payloads
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    for wanted in ["IDi", "AUTH", "SA", "TSi", "TSr"] {
        assert!(names.contains(&wanted), "{wanted} in {names:?}");
    }
    assert!(auth.message.payloads.iter().all(|p| p.encrypted));
    let idi = auth.message.payloads.iter().find(|p| p.name == "IDi");
    assert_eq!(idi.map(|p| p.summary.as_str()), Some("127.0.2.61"));
    // AWS's answer, sealed here, and its records on its lane.
    assert_eq!(datagrams[3].message.protection, Protection::Decrypted);
    let marks: Vec<&str> = t
        .events
        .iter()
        .filter_map(|e| match &e.what {
            What::Record(r) => Some(r.details.as_str()),
            _ => None,
        })
        .collect();
    let written: Vec<&str> = records.iter().map(|r| r.details.as_str()).collect();
    assert_eq!(marks, written);
}

#[test]
fn the_page_replaces_the_file_whole_and_an_unwritable_path_is_an_error() {
    let dir = std::env::temp_dir().join(format!("ikesim-page-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let path = dir.join("run.html");
    std::fs::write(&path, "an older page").expect("write");
    let t = Timeline {
        title: "t".to_owned(),
        origin: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
        lanes: Vec::new(),
        events: Vec::new(),
        esp: Vec::new(),
    };
    super::write_page(&path, &t).expect("written");
    let page = std::fs::read_to_string(&path).expect("read");
    assert_eq!(page, timeline::render_html(&t));
    let left: Vec<_> = std::fs::read_dir(&dir)
        .expect("list")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        left,
        [std::ffi::OsString::from("run.html")],
        "no temporary file left"
    );
    let missing = dir.join("no-such-dir").join("run.html");
    assert!(super::write_page(&missing, &t).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A network that copies, loses to the MTU and meets a NAT without a mapping, and a host
/// resending the same bytes — straight through the collector.
#[test]
fn duplicates_mtu_losses_nat_drops_and_resends_are_drawn_as_such() {
    use std::time::Instant;

    use ike_core::Transmit;
    use ike_wire::{ExchangeType, Flags, Header, Payload, PayloadType};

    use super::{Collector, HostSpec, Lanes};
    use crate::network::{DropReason, Fate};

    let a = |s: &str| s.parse::<std::net::SocketAddr>().expect("an address");
    let hosts = [
        HostSpec {
            host: 0,
            addrs: vec![a("127.0.1.1:500")],
            tunnel: 0,
            aws: true,
        },
        HostSpec {
            host: 1,
            addrs: vec![a("127.0.2.1:500")],
            tunnel: 0,
            aws: false,
        },
    ];
    let nat = ("127.0.3.1".parse().expect("an address"), a("127.0.3.1:1"));
    let t0 = Instant::now();
    let mut c = Collector::new(t0, Lanes::new(&hosts, Some(nat)));
    let message = ike_wire::Message {
        header: Header {
            spi_i: 0x1122_3344_5566_7788,
            spi_r: 0,
            next_payload: PayloadType::NONE,
            major: 2,
            minor: 0,
            exchange: ExchangeType::IKE_SA_INIT,
            flags: Flags::INITIATOR,
            message_id: 0,
            length: 0,
        },
        payloads: vec![Payload::Nonce(vec![7; 32])],
    }
    .encode();
    let from_cgw = Transmit {
        src: a("127.0.2.1:500"),
        dst: a("127.0.1.1:500"),
        payload: message.clone(),
    };
    let ms = |n| t0 + Duration::from_millis(n);
    let copied = Fate::Delivered {
        at: ms(15),
        copy: Some(ms(40)),
    };
    c.sending(1, &from_cgw);
    c.egress(1, t0, &from_cgw, &copied);
    c.sending(1, &from_cgw);
    c.egress(1, ms(4000), &from_cgw, &Fate::Dropped(DropReason::TooBig));
    let to_nat = Transmit {
        src: a("127.0.1.1:500"),
        dst: a("127.0.3.1:1024"),
        payload: message,
    };
    c.sending(0, &to_nat);
    c.egress(
        0,
        ms(5000),
        &to_nat,
        &Fate::Delivered {
            at: ms(5015),
            copy: None,
        },
    );
    c.nat_dropped(&to_nat);

    let t = c.finish("t".to_owned(), chrono::DateTime::<chrono::Utc>::UNIX_EPOCH);
    let shown: Vec<_> = t
        .events
        .iter()
        .filter_map(|e| match &e.what {
            What::Datagram(d) => Some((
                e.at_us,
                d.from,
                d.to,
                d.via,
                d.transmission,
                d.duplicate,
                d.fate.clone(),
            )),
            _ => None,
        })
        .collect();
    use timeline::Fate::{Delivered, Lost};
    let lost = |r: &str| Lost {
        reason: r.to_owned(),
    };
    assert_eq!(
        shown,
        [
            (0, 0, 2, Some(1), 1, false, Delivered { at_us: 15_000 }),
            (0, 0, 2, Some(1), 1, true, Delivered { at_us: 40_000 }),
            (4_000_000, 0, 2, Some(1), 2, false, lost("MTU")),
            (5_000_000, 2, 0, Some(1), 1, false, lost("NAT: no mapping")),
        ]
    );
    let What::Datagram(first) = &t.events[0].what else {
        panic!("a datagram first");
    };
    assert_eq!(first.message.exchange, "IKE_SA_INIT");
    assert_eq!(first.message.spis, "1122334455667788/0000000000000000");
    assert_eq!(first.message.payloads[0].name, "Ni");
}

/// The data plane's packet fates become the two bands of the tunnel: what AWS seals and
/// the CGW opens goes VPC → on-premises, the other way on-premises → VPC; the path's
/// losses in the sender's direction, drops by their counter's name.
#[test]
fn packet_fates_count_into_a_band_per_direction() {
    use std::time::{Duration, Instant};

    use timeline::Direction;

    use super::{Collector, HostSpec, Lanes};
    use crate::dataplane::{Cause, PacketFate, PacketNote};
    use crate::network::DropReason;

    let a = |s: &str| s.parse::<std::net::SocketAddr>().expect("an address");
    let hosts = [
        HostSpec {
            host: 0,
            addrs: vec![a("127.0.1.1:500")],
            tunnel: 0,
            aws: true,
        },
        HostSpec {
            host: 1,
            addrs: vec![a("127.0.2.1:500")],
            tunnel: 0,
            aws: false,
        },
    ];
    let t0 = Instant::now();
    let mut c = Collector::new(t0, Lanes::new(&hosts, None));
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    let note = |ms, host, outbound, fate| PacketNote {
        at: at(ms),
        host,
        outbound,
        fate,
    };
    // AWS seals, the CGW opens: VPC → on-premises.
    c.packet(&note(10, 1, false, PacketFate::Delivered));
    c.packet(&note(20, 0, true, PacketFate::Lost(DropReason::Loss)));
    c.packet(&note(30, 0, true, PacketFate::Dropped(Cause::Mtu)));
    c.packet(&note(
        250,
        1,
        false,
        PacketFate::Dropped(Cause::Esp(esp::Drop::Replayed)),
    ));
    // The CGW seals, AWS opens: on-premises → VPC.
    c.packet(&note(40, 0, false, PacketFate::Delivered));
    c.packet(&note(50, 1, true, PacketFate::Dropped(Cause::NoTunnel)));
    // A host with no lane: not counted.
    c.packet(&note(60, 7, false, PacketFate::Delivered));
    let t = c.finish("t".into(), chrono::DateTime::<chrono::Utc>::UNIX_EPOCH);
    assert!(t.events.is_empty(), "no event per packet");
    let band = |d| {
        t.esp
            .iter()
            .find(|b| b.tunnel == 0 && b.direction == d)
            .expect("a band")
    };
    let down = band(Direction::VpcToOnprem).totals();
    assert_eq!(down.delivered, 1);
    assert_eq!(down.lost, vec![("loss".to_owned(), 1)]);
    assert_eq!(
        down.dropped,
        vec![("mtu_drop".to_owned(), 1), ("replayed".to_owned(), 1)]
    );
    // 100 ms buckets: the replay drop in the third.
    assert_eq!(band(Direction::VpcToOnprem).buckets.len(), 3);
    let up = band(Direction::OnpremToVpc).totals();
    assert_eq!(up.delivered, 1);
    assert_eq!(up.dropped, vec![("no_tunnel".to_owned(), 1)]);
    assert_eq!(t.esp.len(), 2);
}
