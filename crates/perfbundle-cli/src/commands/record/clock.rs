//! Wall-clock / CLOCK_MONOTONIC pairs: what puts a profiler's monotonic
//! times on the k6 run's wall clock.

use nix::time::{clock_gettime, ClockId};
use perfbundle_core::time::format_rfc3339_ms;

/// A wall-clock / CLOCK_MONOTONIC pair read back to back.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    pub wall_ns: i64,
    pub mono_ns: i64,
    /// How long reading the pair took (its uncertainty), ns.
    pub spread_ns: i64,
}

fn mono_ns() -> i64 {
    clock_gettime(ClockId::CLOCK_MONOTONIC).map(|t| t.tv_sec() * 1_000_000_000 + t.tv_nsec()).unwrap_or(0)
}

pub fn stamp() -> Stamp {
    let m0 = mono_ns();
    let wall_ns =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0);
    let m1 = mono_ns();
    Stamp { wall_ns, mono_ns: m0 + (m1 - m0) / 2, spread_ns: m1 - m0 }
}

pub fn iso(ns: i64) -> String {
    format_rfc3339_ms(ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_pair_is_tight() {
        let s = stamp();
        assert!(s.spread_ns < 1_000_000, "{} ns", s.spread_ns);
        assert!(s.mono_ns > 0 && s.wall_ns > 1_700_000_000_000_000_000);
    }
}
