//! A remote shard's clock against the server's: an NTP-style exchange over `GET /clock`.
//!
//! The shard reads its clock at `t0`, asks the server for its CLOCK_MONOTONIC, reads its clock
//! again at `t1`. The server read its clock somewhere in between, so
//! `offset = server − (t0 + t1) / 2` (the server's clock minus the shard's) is known to within
//! `± (t1 − t0) / 2`. Of [`SAMPLES`] exchanges the one with the smallest round trip is kept
//! (the least queueing, so the tightest bound). Hand-written: it is a subtraction and a
//! minimum, over the control client every shard already has.

use crate::control::Control;
use crate::error::LoadError;
use rtbench_proto::mono_now_ns;
use rtbench_results::ClockOffset;

/// Exchanges per estimate.
pub const SAMPLES: usize = 16;

/// One exchange: the shard's clock before, the server's reading, the shard's clock after (ns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange {
    /// The shard's clock when it asked.
    pub t0_ns: u64,
    /// The server's answer.
    pub server_ns: u64,
    /// The shard's clock when the answer arrived.
    pub t1_ns: u64,
}

impl Exchange {
    /// The round trip, ns.
    pub fn rtt_ns(&self) -> u64 {
        self.t1_ns.saturating_sub(self.t0_ns)
    }

    /// What this exchange says: the offset at its midpoint, ± half its round trip.
    pub fn offset(&self) -> ClockOffset {
        let mid = (i128::from(self.t0_ns) + i128::from(self.t1_ns)) / 2;
        let offset = i128::from(self.server_ns) - mid;
        ClockOffset {
            offset_ns: offset.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
            uncertainty_ns: self.rtt_ns().div_ceil(2),
        }
    }
}

/// The estimate of the exchange with the smallest round trip (`None` without exchanges).
pub fn best(exchanges: &[Exchange]) -> Option<ClockOffset> {
    exchanges
        .iter()
        .min_by_key(|e| e.rtt_ns())
        .map(Exchange::offset)
}

/// Estimates this process's offset to the server `control` speaks to, from [`SAMPLES`]
/// exchanges.
pub async fn estimate(control: &Control) -> Result<ClockOffset, LoadError> {
    let mut exchanges = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let t0_ns = mono_now_ns();
        let server_ns = control.server_clock_ns().await?;
        let t1_ns = mono_now_ns();
        exchanges.push(Exchange {
            t0_ns,
            server_ns,
            t1_ns,
        });
    }
    best(&exchanges).ok_or_else(|| LoadError::Control("no clock exchange".into()))
}

/// `server_ns` (the server's clock) on this process's clock, given `offset` (saturating).
pub fn to_local(server_ns: u64, offset: ClockOffset) -> u64 {
    server_ns.saturating_add_signed(offset.offset_ns.saturating_neg())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exchange_with_the_smallest_round_trip_wins() {
        // The server is 1 ms ahead. A slow exchange answered late in its trip; the fast one
        // is 2 µs round trip.
        let slow = Exchange {
            t0_ns: 10_000,
            server_ns: 1_090_000,
            t1_ns: 110_000,
        };
        let fast = Exchange {
            t0_ns: 200_000,
            server_ns: 1_201_000,
            t1_ns: 202_000,
        };
        assert_eq!(
            best(&[slow, fast]),
            Some(ClockOffset {
                offset_ns: 1_000_000,
                uncertainty_ns: 1_000
            })
        );
        assert_eq!(slow.offset().uncertainty_ns, 50_000);
        assert_eq!(best(&[]), None);
        let behind = Exchange {
            t0_ns: 5_000_000,
            server_ns: 1_000,
            t1_ns: 5_000_010,
        };
        assert_eq!(behind.offset().offset_ns, 1_000 - 5_000_005);
        assert_eq!(to_local(1_000, behind.offset()), 5_000_005);
        assert_eq!(to_local(2_000_000, best(&[fast]).unwrap()), 1_000_000);
    }
}
