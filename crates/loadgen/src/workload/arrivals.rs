//! Times of one flow of events, as nanosecond offsets from the phase's time zero.
//!
//! Fixed: `phase + k × period` for `k < ceil(span × rate)`, with `period = round(1e9 / rate)` —
//! the same arithmetic as the server's `/schedule` publisher, so a one-room fixed workload can use
//! it and agree to the nanosecond. Poisson: exponential gaps of mean `1 / rate` from a seeded
//! generator, while the offset stays below the span.

use crate::config::Arrivals;
use rand::Rng;
use rand::rngs::StdRng;

/// Most events one flow may produce, whatever the rate: a bound on every generating loop.
const MAX_FLOW_EVENTS: u64 = 10_000_000;

/// Nanoseconds between events at `rate_per_s` (as the server rounds it).
pub(super) fn period_ns(rate_per_s: f64) -> u64 {
    (1e9 / rate_per_s).round() as u64
}

/// Events a fixed flow at `rate_per_s` has over `span_s` seconds (at least one), as
/// [`crate::LoadConfig::scheduled_events`] counts them.
fn fixed_count(span_s: f64, rate_per_s: f64) -> u64 {
    (span_s * rate_per_s).ceil().max(1.0) as u64
}

/// Appends the offsets of one flow to `out`, in increasing order. `phase_ns` shifts a fixed flow
/// (Poisson flows start at 0: their first gap is random already).
pub(super) fn offsets(
    arrivals: Arrivals,
    rate_per_s: f64,
    span_s: f64,
    phase_ns: u64,
    rng: &mut StdRng,
    out: &mut Vec<u64>,
) {
    match arrivals {
        Arrivals::Fixed => {
            let period = period_ns(rate_per_s);
            let count = fixed_count(span_s, rate_per_s).min(MAX_FLOW_EVENTS);
            out.extend((0..count).map(|k| phase_ns + k * period));
        }
        Arrivals::Poisson => {
            let span_ns = span_s * 1e9;
            let mean_gap_ns = 1e9 / rate_per_s;
            let mut t = 0.0;
            for _ in 0..MAX_FLOW_EVENTS {
                // 1 - U lies in (0, 1], so the logarithm is finite.
                let u: f64 = 1.0 - rng.random::<f64>();
                t += -u.ln() * mean_gap_ns;
                if t >= span_ns {
                    break;
                }
                out.push(t as u64);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn fixed_matches_the_server_schedule() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut out = Vec::new();
        offsets(Arrivals::Fixed, 20.0, 12.5, 0, &mut rng, &mut out);
        assert_eq!(out.len(), 250);
        assert_eq!(out[1], 50_000_000);
        out.clear();
        offsets(Arrivals::Fixed, 3.0, 1.0, 7, &mut rng, &mut out);
        assert_eq!(out, [7, 333_333_340, 666_666_673]);
    }

    #[test]
    fn poisson_is_seeded_sorted_and_about_the_rate() {
        let gen_with = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut out = Vec::new();
            offsets(Arrivals::Poisson, 100.0, 100.0, 0, &mut rng, &mut out);
            out
        };
        let a = gen_with(3);
        assert_eq!(a, gen_with(3), "same seed, same times");
        assert_ne!(a, gen_with(4));
        assert!(a.windows(2).all(|w| w[0] <= w[1]));
        assert!((9_000..11_000).contains(&a.len()), "{}", a.len());
        assert!(*a.last().unwrap() < 100_000_000_000);
    }
}
