//! IPv4 reassembly (RFC 791 §3.2): fragments held by (source, destination, protocol,
//! identification) until their datagram is whole, with a time-out and a bound on how many
//! datagrams are held at once. The byte ranges are kept by etherparse's `IpDefragBuf`.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use etherparse::defrag::IpDefragBuf;
use etherparse::{Ipv4Header, Ipv4Slice};

/// Which datagram a fragment belongs to (RFC 791: source, destination, protocol,
/// identification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: [u8; 4],
    dst: [u8; 4],
    protocol: u8,
    id: u16,
}

/// One datagram being reassembled.
#[derive(Debug)]
struct Partial {
    /// The byte ranges received and their data.
    buf: IpDefragBuf,
    /// The first fragment's header (offset 0), once it came: the whole datagram's header.
    first: Option<Ipv4Header>,
    /// Which entry of [`Reassembler::deadlines`] is this datagram's.
    generation: u64,
}

/// What [`Reassembler::add`] made of a fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Added {
    /// Held; the datagram is not whole yet.
    Held,
    /// The datagram is whole: here it is, as one packet.
    Whole(Vec<u8>),
    /// The fragment contradicts the others (or is impossible); the datagram is dropped.
    Malformed,
}

/// The datagrams being reassembled.
#[derive(Debug)]
pub(crate) struct Reassembler {
    partial: HashMap<Key, Partial>,
    /// `(deadline, key, generation)` in arrival order of each datagram's first fragment, so
    /// also in deadline order; entries of finished datagrams are skipped.
    deadlines: VecDeque<(Instant, Key, u64)>,
    next_generation: u64,
    timeout: Duration,
    max: usize,
    /// Datagrams dropped by the time-out or by the bound.
    pub(crate) timed_out: u64,
}

impl Reassembler {
    /// Holds at most `max` datagrams, each for at most `timeout` after its first fragment.
    pub(crate) fn new(timeout: Duration, max: usize) -> Reassembler {
        Reassembler {
            partial: HashMap::new(),
            deadlines: VecDeque::new(),
            next_generation: 0,
            timeout,
            max: max.max(1),
            timed_out: 0,
        }
    }

    /// A fragment arriving at `now` (its header checksum already checked).
    pub(crate) fn add(&mut self, now: Instant, fragment: &Ipv4Slice<'_>) -> Added {
        let header = fragment.header();
        let key = Key {
            src: header.source(),
            dst: header.destination(),
            protocol: header.protocol().0,
            id: header.identification(),
        };
        let payload = fragment.payload().payload;
        let offset = header.fragments_offset();
        if !self.partial.contains_key(&key) {
            if self.partial.len() >= self.max {
                self.evict_oldest();
            }
            let generation = self.next_generation;
            self.next_generation += 1;
            let deadline = now.checked_add(self.timeout).unwrap_or(now);
            self.deadlines.push_back((deadline, key, generation));
            self.partial.insert(
                key,
                Partial {
                    buf: IpDefragBuf::new(fragment.payload().ip_number, Vec::new(), Vec::new()),
                    first: None,
                    generation,
                },
            );
        }
        let Some(partial) = self.partial.get_mut(&key) else {
            return Added::Malformed;
        };
        let header_len = header.slice().len();
        let end = usize::from(offset.byte_offset()) + payload.len();
        let whole_len = end
            + partial
                .first
                .as_ref()
                .map_or(header_len, Ipv4Header::header_len);
        let fits = u16::try_from(whole_len).is_ok();
        if !fits
            || partial
                .buf
                .add(offset, header.more_fragments(), payload)
                .is_err()
        {
            self.partial.remove(&key);
            self.trim();
            return Added::Malformed;
        }
        if offset.value() == 0 {
            partial.first = Some(header.to_header());
        }
        if !partial.buf.is_complete() {
            return Added::Held;
        }
        let Some(done) = self.partial.remove(&key) else {
            return Added::Malformed;
        };
        self.trim();
        let Some(mut whole) = done.first else {
            return Added::Malformed;
        };
        let (data, _) = done.buf.take_bufs();
        whole.more_fragments = false;
        whole.fragment_offset = etherparse::IpFragOffset::ZERO;
        if whole.header_len() + data.len() > usize::from(u16::MAX)
            || whole.set_payload_len(data.len()).is_err()
        {
            return Added::Malformed;
        }
        whole.header_checksum = whole.calc_header_checksum();
        let mut packet = Vec::with_capacity(whole.header_len() + data.len());
        packet.extend_from_slice(&whole.to_bytes());
        packet.extend_from_slice(&data);
        Added::Whole(packet)
    }

    /// The earliest time-out of a datagram still held.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines
            .iter()
            .find(|(_, key, generation)| self.is_live(key, *generation))
            .map(|(deadline, _, _)| *deadline)
    }

    /// Drops the datagrams whose time is up at `now`.
    pub(crate) fn expire(&mut self, now: Instant) {
        while let Some(&(deadline, key, generation)) = self.deadlines.front() {
            if self.is_live(&key, generation) {
                if deadline > now {
                    break;
                }
                self.partial.remove(&key);
                self.timed_out += 1;
            }
            self.deadlines.pop_front();
        }
    }

    /// Drops the datagram that has waited longest, to make room.
    fn evict_oldest(&mut self) {
        while let Some((_, key, generation)) = self.deadlines.pop_front() {
            if self.is_live(&key, generation) {
                self.partial.remove(&key);
                self.timed_out += 1;
                return;
            }
        }
    }

    /// Forgets the deadlines of finished datagrams at the front, so that
    /// [`Reassembler::next_deadline`] stays cheap when datagrams complete in order.
    fn trim(&mut self) {
        while let Some((_, key, generation)) = self.deadlines.front() {
            if self.is_live(key, *generation) {
                break;
            }
            self.deadlines.pop_front();
        }
    }

    fn is_live(&self, key: &Key, generation: u64) -> bool {
        self.partial
            .get(key)
            .is_some_and(|p| p.generation == generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fragment;
    use crate::packet::{build, Ip, Transport};
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn slice(bytes: &[u8]) -> Ipv4Slice<'_> {
        Ipv4Slice::from_slice(bytes).unwrap()
    }

    fn packet(id: u16, len: usize) -> Vec<u8> {
        let ip = Ip {
            src: Ipv4Addr::new(192, 168, 1, 10),
            dst: Ipv4Addr::new(10, 0, 0, 10),
            id,
            df: false,
        };
        let payload: Vec<u8> = (0..len - 28).map(|i| (i * 7 % 256) as u8).collect();
        build(
            ip,
            Transport::Echo {
                reply: false,
                id: 1,
                seq: 2,
            },
            &payload,
        )
    }

    proptest! {
        /// Fragment, then reassemble in any order, with duplicates: the original packet.
        #[test]
        fn fragment_then_reassemble(
            len in 29usize..9000,
            mtu in 68u16..1500,
            order in proptest::collection::vec(any::<prop::sample::Index>(), 0..40),
            dups in proptest::collection::vec(any::<prop::sample::Index>(), 0..10),
        ) {
            let p = packet(9, len);
            let frags = fragment(&p, mtu).unwrap();
            prop_assume!(frags.len() > 1);
            // A random permutation (swaps), then some fragments repeated at random places.
            let mut seq: Vec<usize> = (0..frags.len()).collect();
            for (k, i) in order.iter().enumerate() {
                let a = k % seq.len();
                let b = i.index(seq.len());
                seq.swap(a, b);
            }
            for d in &dups {
                let which = d.index(frags.len());
                let at = d.index(seq.len() + 1);
                seq.insert(at.min(seq.len()), which);
            }
            // The datagram is whole when the last missing fragment arrives; what follows are
            // duplicates of a finished datagram: held as a new one (and timed out later).
            let mut r = Reassembler::new(Duration::from_secs(30), 8);
            let now = Instant::now();
            let mut whole = None;
            for &i in &seq {
                match r.add(now, &slice(&frags[i])) {
                    Added::Whole(w) => {
                        prop_assert!(whole.is_none());
                        whole = Some(w);
                        break;
                    }
                    Added::Held => {}
                    Added::Malformed => prop_assert!(false, "malformed"),
                }
            }
            prop_assert_eq!(whole, Some(p));
        }
    }

    #[test]
    fn finished_datagrams_leave_no_deadlines_behind() {
        let now = Instant::now();
        let mut r = Reassembler::new(Duration::from_secs(30), 4);
        for id in 0..1000 {
            let frags = fragment(&packet(id, 1500), 600).unwrap();
            for f in &frags {
                r.add(now, &slice(f));
            }
        }
        assert!(r.deadlines.is_empty());
        assert_eq!((r.next_deadline(), r.timed_out), (None, 0));
    }

    #[test]
    fn time_out_and_bound() {
        let now = Instant::now();
        let mut r = Reassembler::new(Duration::from_secs(30), 2);
        let a = fragment(&packet(1, 3000), 1000).unwrap();
        let b = fragment(&packet(2, 3000), 1000).unwrap();
        let c = fragment(&packet(3, 3000), 1000).unwrap();
        assert_eq!(r.add(now, &slice(&a[0])), Added::Held);
        let later = now + Duration::from_secs(1);
        assert_eq!(r.add(later, &slice(&b[0])), Added::Held);
        assert_eq!(r.next_deadline(), Some(now + Duration::from_secs(30)));
        // A third datagram evicts the oldest (a).
        assert_eq!(r.add(later, &slice(&c[1])), Added::Held);
        assert_eq!(r.timed_out, 1);
        assert_eq!(r.next_deadline(), Some(later + Duration::from_secs(30)));
        // b completes; c times out.
        for f in &b[1..] {
            r.add(later, &slice(f));
        }
        assert_eq!(r.next_deadline(), Some(later + Duration::from_secs(30)));
        r.expire(later + Duration::from_secs(29));
        assert_eq!(r.timed_out, 1);
        r.expire(later + Duration::from_secs(30));
        assert_eq!(r.timed_out, 2);
        assert_eq!(r.next_deadline(), None);
        // A fragment contradicting the end already known drops the datagram.
        assert_eq!(a.len(), 4);
        assert_eq!(r.add(later, &slice(&a[3])), Added::Held);
        let mut h = etherparse::Ipv4HeaderSlice::from_slice(&a[1])
            .unwrap()
            .to_header();
        h.more_fragments = false; // a second, different end
        h.header_checksum = h.calc_header_checksum();
        let mut short = a[1].clone();
        short[..20].copy_from_slice(&h.to_bytes());
        assert_eq!(r.add(later, &slice(&short)), Added::Malformed);
        assert_eq!(r.next_deadline(), None);
    }
}
