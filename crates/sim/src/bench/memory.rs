//! Resident memory per established tunnel. Each size runs in a process of its own (the
//! binary re-executes itself, see `ikesim bench memory`), so that one size's peak does not
//! hide the next's and the allocator's free lists start empty: the process reads its
//! VmRSS before building anything, again once every tunnel is established (from the
//! estate sink's progress calls), and its VmHWM (peak) at the end (proc(5)).

use std::time::Duration;

use super::{fleet_connections, float, wide, BenchError, Figure, Size, Tally, Target};
use crate::estate::{run_estate, EstateSink};

/// What one memory process measured, in KiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemorySample {
    /// Tunnels established (two per connection).
    pub tunnels: usize,
    /// VmRSS before the connections were built.
    pub baseline_kib: u64,
    /// VmRSS once every tunnel was established.
    pub established_kib: u64,
    /// VmHWM at the end: the process's peak.
    pub peak_kib: u64,
}

impl MemorySample {
    const TAG: &'static str = "memory-sample";

    /// The line the child process prints for its parent.
    pub fn to_line(&self) -> String {
        format!(
            "{} tunnels={} baseline={} established={} peak={}",
            Self::TAG,
            self.tunnels,
            self.baseline_kib,
            self.established_kib,
            self.peak_kib
        )
    }

    /// Reads [`MemorySample::to_line`]'s line back (`None` if it is not one).
    pub fn parse(line: &str) -> Option<MemorySample> {
        let mut words = line.split_whitespace();
        if words.next()? != Self::TAG {
            return None;
        }
        let mut field = |key: &str| -> Option<u64> {
            words
                .next()?
                .strip_prefix(key)?
                .strip_prefix('=')?
                .parse()
                .ok()
        };
        Some(MemorySample {
            tunnels: usize::try_from(field("tunnels")?).ok()?,
            baseline_kib: field("baseline")?,
            established_kib: field("established")?,
            peak_kib: field("peak")?,
        })
    }

    /// KiB of resident memory per established tunnel.
    pub fn established_per_tunnel(&self) -> f64 {
        float(self.established_kib.saturating_sub(self.baseline_kib))
            / float(wide(self.tunnels.max(1)))
    }

    /// KiB of peak memory per tunnel.
    pub fn peak_per_tunnel(&self) -> f64 {
        float(self.peak_kib.saturating_sub(self.baseline_kib)) / float(wide(self.tunnels.max(1)))
    }
}

/// A `kB` line of /proc/self/status (`VmRSS`, `VmHWM`).
fn status_kib(key: &str) -> Result<u64, BenchError> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix(key)?.strip_prefix(':')?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .ok_or_else(|| BenchError::Unexpected(format!("/proc/self/status has no {key}")))
}

/// Counts, and reads VmRSS the first time every tunnel is up.
struct Sampler {
    tally: Tally,
    tunnels: usize,
    established: Option<Result<u64, BenchError>>,
}

impl EstateSink for Sampler {
    fn record(
        &mut self,
        connection: usize,
        tunnel: usize,
        _stream: &str,
        record: &vpn_log::TunnelRecord,
    ) -> std::io::Result<()> {
        self.tally.count(connection, tunnel, record);
        Ok(())
    }

    fn progress(&mut self, _simulated: Duration) {
        if self.established.is_none() && self.tally.established == self.tunnels {
            self.established = Some(status_kib("VmRSS"));
        }
    }
}

/// In this process: builds `tunnels` tunnels ([`fleet_connections`], two per
/// connection), runs them until all are established and a simulated minute more, and
/// reads the memory figures. Meant for a fresh process (`ikesim bench --memory-child`).
pub fn memory_sample(tunnels: usize) -> Result<MemorySample, BenchError> {
    let baseline_kib = status_kib("VmRSS")?;
    let connections = tunnels.div_ceil(2);
    let scenarios = fleet_connections(connections, 1)?;
    let mut sampler = Sampler {
        tally: Tally::new(connections),
        tunnels: 2 * connections,
        established: None,
    };
    let options = super::estate_options(Duration::from_secs(60), 256);
    // Owned: each scenario is dropped once its cell is built, as a fleet does.
    run_estate(scenarios, &options, &mut sampler)?;
    let established_kib = sampler.established.ok_or_else(|| {
        BenchError::Unexpected(format!(
            "memory: {} of {} tunnels established",
            sampler.tally.most_established, sampler.tunnels
        ))
    })??;
    Ok(MemorySample {
        tunnels: sampler.tunnels,
        baseline_kib,
        established_kib,
        peak_kib: status_kib("VmHWM")?,
    })
}

/// Resident KiB per established tunnel at 1k and 10k tunnels (20 and 200 with
/// [`Size::Quick`]), each from `sample` (a fresh process's [`memory_sample`]); each row's
/// baseline is the smallest size's figure, so a ratio near 1 means memory is linear in
/// tunnels.
pub fn memory_figures(
    size: Size,
    sample: &mut dyn FnMut(usize) -> Result<MemorySample, BenchError>,
) -> Result<Vec<Figure>, BenchError> {
    let sizes = match size {
        Size::Full => [1000, 10_000],
        Size::Quick => [20, 200],
    };
    let mut rows = Vec::with_capacity(sizes.len());
    let mut smallest = None;
    for n in sizes {
        let s = sample(n)?;
        let per_tunnel = s.established_per_tunnel();
        let baseline = *smallest.get_or_insert(per_tunnel);
        rows.push(
            Figure::new(
                format!("memory per established tunnel at {} tunnels", s.tunnels),
                per_tunnel,
                "KiB",
                &format!("{} tunnels", sizes[0]),
                baseline,
            )
            .with_target(Target::ValueBelow(16.0))
            .with_note(format!(
                "VmRSS {} KiB established, {} KiB before building; peak (VmHWM) {:.1} KiB per \
                 tunnel",
                s.established_kib,
                s.baseline_kib,
                s.peak_per_tunnel()
            )),
        );
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_line_reads_back_and_a_stranger_does_not() {
        let s = MemorySample {
            tunnels: 2000,
            baseline_kib: 5120,
            established_kib: 53_120,
            peak_kib: 60_000,
        };
        assert_eq!(MemorySample::parse(&s.to_line()), Some(s));
        assert!((s.established_per_tunnel() - 24.0).abs() < 1e-9);
        assert_eq!(
            MemorySample::parse("memory-sample tunnels=2 baseline=1"),
            None
        );
        assert_eq!(MemorySample::parse("note: a debug build"), None);
    }

    #[test]
    fn status_has_the_resident_set() {
        assert!(status_kib("VmRSS").is_ok_and(|kib| kib > 0));
        assert!(status_kib("NoSuchKey").is_err());
    }
}
