//! ESP in the timeline: the data plane's packet fates (`Observer::packet`) counted into a
//! density band per tunnel and direction ([`timeline::EspBand`]: bounded buckets, so a
//! year of packets costs what an hour does), never one event per packet.

use timeline::{Direction, EspBand, LaneKind, PacketFate as Shown};

use super::{lost_reason, Collector};
use crate::dataplane::{PacketFate, PacketNote};

impl Collector {
    /// `Observer::packet`: one inner packet's fate at a host.
    pub(crate) fn packet(&mut self, note: &PacketNote) {
        let Some(lane) = self
            .lanes
            .of_host(note.host)
            .and_then(|l| self.lanes.lanes.get(l))
        else {
            return;
        };
        // What an AWS endpoint sends, and what a CGW receives, goes to on-premises.
        let aws = lane.kind == LaneKind::Aws;
        let direction = if aws == note.outbound {
            Direction::VpcToOnprem
        } else {
            Direction::OnpremToVpc
        };
        let tunnel = lane.tunnel.unwrap_or(0);
        let at_us = self.at(note.at);
        let found = self
            .bands
            .iter()
            .position(|b| b.tunnel == tunnel && b.direction == direction);
        let i = found.unwrap_or_else(|| {
            self.bands.push(EspBand::new(tunnel, direction));
            self.bands.len() - 1
        });
        let shown = match note.fate {
            PacketFate::Delivered => Shown::Delivered,
            PacketFate::Lost(reason) => Shown::Lost(lost_reason(reason)),
            PacketFate::Dropped(cause) => Shown::Dropped(cause.name()),
        };
        self.bands[i].count(at_us, shown);
    }
}
