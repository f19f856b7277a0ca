//! One tunnel carrying 1,000 packets/s for a simulated hour (accelerated time): a UDP
//! echo flow of 500 packets/s from on-premises, each 1,400 bytes, every one answered by
//! the VPC's host — 500 packets/s each way through real ESP (AES-GCM-16-128) over real
//! loopback UDP. Against its floor, measured in the same run: the ESP crypto of as many
//! packets ([`PacketFloor`]) plus a loopback UDP send/receive of as many datagrams
//! ([`round_trip_floor`]). The hour runs twice with the same seed and the two runs'
//! counters (packets, bytes, each SA's last sequence number) are printed side by side:
//! they must be equal (tests/bench.rs checks).

use std::fmt::Write as _;
use std::time::Duration;

use esp::Suite;

use super::floor::{round_trip_floor, PacketFloor};
use super::seal_open::INNER;
use super::{BenchError, Figure, Lap, Size, Stopwatch};
use crate::runner::{run, RunOptions};
use crate::Scenario;

/// Packets per second of the flow, each answered: as many again come back.
const RATE: u32 = 500;
/// The CHILD SA's suite (`aes128gcm16`).
const SUITE: Suite = Suite::AesGcm16 { key_bits: 128 };

/// The scenario: one IKEv2 tunnel, one UDP echo flow from on-premises to the VPC for
/// `seconds` less the first second (the tunnel comes up) and the last ten (the last
/// answers come back).
fn scenario(seconds: u64) -> Result<Scenario, BenchError> {
    let mut text = String::from(
        "description = \"bench: 1,000 packets/s\"\nseed = 1\n\
         [vpn_connection]\nid = \"vpn-0b000000000000000\"\n\
         [cgw]\noutside_ip = \"127.0.2.1\"\n\
         [[tunnel]]\noutside_ip = \"127.0.1.1\"\n\
         [tunnel.aws]\npre_shared_key = \"ikesim.bench_psk_1\"\n\
         [tunnel.cgw]\nike_proposals = [\"aes128gcm16-prfsha256-ecp256\"]\n\
         esp_proposals = [\"aes128gcm16-ecp256\"]\n\
         local_ts = [\"172.16.0.0/16\"]\nremote_ts = [\"10.0.0.0/16\"]\n\
         [vpc]\ncidr = \"10.0.0.0/16\"\nhosts = [\"10.0.0.10\"]\n\
         [onprem]\ncidr = \"172.16.0.0/16\"\nhosts = [\"172.16.0.10\"]\n",
    );
    let _ = write!(
        text,
        "[[flow]]\nname = \"udp-to-vpc\"\nkind = \"udp\"\nfrom = \"onprem\"\n\
         rate = \"{RATE}/s\"\nsize = {INNER}\nstart = \"1s\"\nstop = \"{}s\"\n",
        seconds.saturating_sub(10)
    );
    Scenario::parse(&text, "bench", "bench").map_err(|e| BenchError::Suite(e.to_string()))
}

/// What a run counted, to compare two runs with the same seed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Counters {
    /// ESP packets sealed, and opened, by all hosts.
    sealed: u64,
    opened: u64,
    /// Inner bytes sealed and opened.
    bytes: u64,
    /// Each SA pair's last outbound sequence number, host by host: sequence numbers
    /// start at 1 and every packet sealed takes the next (RFC 4303 §3.3.3), so it is the
    /// SA's packets out.
    last_seqs: Vec<u64>,
    /// The flow's packets sent and answered.
    sent: u64,
    answered: u64,
    /// IKE datagrams sent.
    ike_datagrams: u64,
}

impl Counters {
    fn of(output: &crate::runner::RunOutput) -> Result<Counters, BenchError> {
        let plane = output
            .data_plane
            .as_ref()
            .ok_or_else(|| BenchError::Unexpected("the run had no data plane".to_owned()))?;
        let mut c = Counters {
            sealed: 0,
            opened: 0,
            bytes: 0,
            last_seqs: Vec::new(),
            sent: 0,
            answered: 0,
            ike_datagrams: output.stats.iter().map(|(_, s)| s.datagrams_out).sum(),
        };
        for h in &plane.hosts {
            let t = h.total();
            c.sealed += t.packets_out;
            c.opened += t.packets_in;
            c.bytes += t.bytes_out + t.bytes_in;
            c.last_seqs
                .extend(h.sas.iter().map(|s| s.counters.packets_out));
        }
        for f in &plane.flows {
            c.sent += f.stats.sent;
            c.answered += f.stats.answered;
        }
        Ok(c)
    }

    fn seqs(&self) -> String {
        let s: Vec<String> = self.last_seqs.iter().map(u64::to_string).collect();
        s.join("+")
    }
}

/// The hour (30 s with [`Size::Quick`]), twice, against its floor.
pub fn traffic(size: Size) -> Result<Figure, BenchError> {
    let seconds = match size {
        Size::Full => 3600,
        Size::Quick => 30,
    };
    let scenario = scenario(seconds)?;
    let options = RunOptions {
        duration: Some(Duration::from_secs(seconds)),
        ..RunOptions::default()
    };
    let mut laps: Vec<Lap> = Vec::new();
    let mut counters: Vec<Counters> = Vec::new();
    for _ in 0..2 {
        let watch = Stopwatch::start();
        let output = run(&scenario, &options)?;
        laps.push(watch.lap());
        counters.push(Counters::of(&output)?);
    }
    let (a, b) = (&counters[0], &counters[1]);
    if a.sealed == 0 || a.answered == 0 {
        return Err(BenchError::Unexpected(format!(
            "the tunnel carried nothing: {a:?}"
        )));
    }
    let crypto = {
        let mut floor = PacketFloor::new(SUITE, INNER)?;
        let watch = Stopwatch::start();
        for _ in 0..a.sealed {
            if !floor.packet() {
                return Err(BenchError::Inconsistent("a sealed packet did not open"));
            }
        }
        watch.lap()
    };
    let datagrams = a.sealed + a.ike_datagrams;
    let round_trips = usize::try_from(datagrams.div_ceil(2)).unwrap_or(usize::MAX);
    let udp = round_trip_floor(round_trips, SUITE.sealed_len(INNER))?;
    let floor = crypto + udp;
    let run_cpu = (laps[0].cpu + laps[1].cpu) / 2;
    let verdict = if a == b { "equal" } else { "DIFFER" };
    let span = if seconds % 3600 == 0 {
        format!("{} h", seconds / 3600)
    } else {
        format!("{seconds} s")
    };
    Ok(Figure::new(
        format!("tunnel 1000 packets/s x {span}"),
        run_cpu.as_secs_f64(),
        "s",
        "ESP crypto + loopback UDP floor",
        floor.cpu.as_secs_f64(),
    )
    .with_note(format!(
        "UDP echo flow {RATE}/s from on-premises, {INNER} B, answered: {RATE} packets/s \
         each way, AES-GCM-16-128; the mean of two runs {} and {}; floor: {} packets' \
         seal+open {crypto} + {datagrams} datagrams ({} ESP, {} IKE) as {round_trips} \
         loopback round trips of {} B {udp}; same seed twice: sealed {}/{}, opened {}/{}, \
         bytes {}/{}, answered {}/{}, last seqs {}/{}: {verdict}",
        laps[0],
        laps[1],
        a.sealed,
        a.sealed,
        a.ike_datagrams,
        SUITE.sealed_len(INNER),
        a.sealed,
        b.sealed,
        a.opened,
        b.opened,
        a.bytes,
        b.bytes,
        a.answered,
        b.answered,
        a.seqs(),
        b.seqs(),
    )))
}
