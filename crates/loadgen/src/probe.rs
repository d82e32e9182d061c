//! Was the load generator the limit? Over each measured window a probe task sleeps 10 ms in a loop
//! on the clients' runtime and records how late each wake-up came (a task that waits for a thread
//! is late; so is every client's read), and the phase's CPU time says how many cores the load
//! generator used. A window in which either passed its bound is marked `loadgen-bound`: its
//! latency measures the load generator as much as the server (docs/capacity.md).

use rtbench_proto::mono_now_ns;
use rtbench_results::histogram::new_histogram;
use rtbench_results::{LatencyHistogram, Overload};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The probe's sleep. Lateness does not depend on it; a longer sleep means fewer wake-ups, whose CPU
/// counts in the load generator's CPU per delivery (100 a second, not 1,000, to keep that small).
pub const PROBE_PERIOD: Duration = Duration::from_millis(10);
/// Probe lateness, 99th percentile, above which the load generator was saturated by default
/// (`LoadConfig::loadgen_lag_bound`). Tokio's timer rounds a sleep up to its next millisecond
/// tick, so an idle runtime is up to about 1 ms late.
pub const LAG_BOUND_P99: Duration = Duration::from_millis(5);
/// Share of its available cores above which the load generator's CPU was saturated.
pub const CPU_BOUND_SHARE: f64 = 0.9;

/// A running probe.
#[derive(Debug)]
pub struct LagProbe {
    stop: oneshot::Sender<()>,
    task: JoinHandle<LatencyHistogram>,
}

impl LagProbe {
    /// Starts probing on the current runtime.
    pub fn start() -> LagProbe {
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut lateness_ns = new_histogram();
            loop {
                let due_ns = mono_now_ns() + PROBE_PERIOD.as_nanos() as u64;
                tokio::select! {
                    _ = &mut stopped => return lateness_ns,
                    () = tokio::time::sleep(PROBE_PERIOD) => {}
                }
                lateness_ns.saturating_record(mono_now_ns().saturating_sub(due_ns).max(1));
            }
        });
        LagProbe { stop, task }
    }

    /// Stops the probe; its lateness histogram, nanoseconds (empty if the task failed).
    pub async fn finish(self) -> LatencyHistogram {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_else(|_| new_histogram())
    }
}

/// Cores this process may use: its CPU affinity and cgroup quota, as the standard library reads
/// them.
pub fn cores_available() -> f64 {
    std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64)
}

/// The load generator's account of a window: `cpu_us` of its CPU over `window_us`, `available`
/// cores, and the probe's `lateness_ns` against `lag_bound`; with the note to add when it was
/// saturated.
pub fn judge(
    (cpu_us, window_us): (u64, u64),
    available: f64,
    (lateness_ns, lag_bound): (&LatencyHistogram, Duration),
) -> (Overload, Option<String>) {
    let lag_bound_us = lag_bound.as_secs_f64() * 1e6;
    let cores = (window_us > 0).then(|| cpu_us as f64 / window_us as f64);
    let lag =
        |q: f64| (!lateness_ns.is_empty()).then(|| lateness_ns.value_at_quantile(q) as f64 / 1e3);
    let (lag_p99, lag_max) = (lag(0.99), lag(1.0));
    let cpu_bound = cores.is_some_and(|c| c >= CPU_BOUND_SHARE * available);
    let lag_bound = lag_p99.is_some_and(|l| l > lag_bound_us);
    let mut why = Vec::new();
    if let (true, Some(c)) = (cpu_bound, cores) {
        why.push(format!(
            "it used {c:.2} of its {available:.0} cores (bound {:.0} %)",
            CPU_BOUND_SHARE * 100.0
        ));
    }
    if let (true, Some(l)) = (lag_bound, lag_p99) {
        why.push(format!(
            "its probe timer fired {:.1} ms late at p99 (bound {:.0} ms)",
            l / 1e3,
            lag_bound_us / 1e3
        ));
    }
    let overload = Overload {
        loadgen_cpu_cores: cores,
        loadgen_cores_available: Some(available),
        loadgen_lag_p99_us: lag_p99,
        loadgen_lag_max_us: lag_max,
        loadgen_bound: cpu_bound || lag_bound,
        ..Overload::default()
    };
    let note = overload.loadgen_bound.then(|| {
        format!(
            "loadgen-bound: the load generator was saturated during the window ({}); this row's latency measures the load generator as much as the server",
            why.join("; ")
        )
    });
    (overload, note)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lateness(values_us: &[u64]) -> LatencyHistogram {
        let mut h = new_histogram();
        for v in values_us {
            h.record(v * 1_000).unwrap();
        }
        h
    }

    #[test]
    fn bound_by_cpu_or_by_lateness_and_not_otherwise() {
        let calm = lateness(&[300; 100]);
        let (o, note) = judge((1_000_000, 1_000_000), 2.0, (&calm, LAG_BOUND_P99));
        assert_eq!(
            (o.loadgen_cpu_cores, o.loadgen_bound, note),
            (Some(1.0), false, None)
        );
        let (o, note) = judge((1_900_000, 1_000_000), 2.0, (&calm, LAG_BOUND_P99));
        assert!(o.loadgen_bound);
        assert!(note.unwrap().contains("1.90 of its 2 cores"));
        let mut late = vec![300; 98];
        late.extend([20_000, 20_000]);
        let (o, note) = judge((100_000, 1_000_000), 2.0, (&lateness(&late), LAG_BOUND_P99));
        assert!(o.loadgen_bound);
        assert!(
            note.unwrap().contains("ms late at p99"),
            "p99 of 100 samples is the 99th"
        );
        assert!(
            !judge((0, 0), 2.0, (&new_histogram(), LAG_BOUND_P99))
                .0
                .loadgen_bound
        );
    }

    /// A runtime whose only thread a task keeps blocking: the probe sees it.
    #[test]
    fn a_starved_runtime_is_seen_late() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let lateness = rt.block_on(async {
            let probe = LagProbe::start();
            for _ in 0..10 {
                // Blocks the runtime's only thread: whatever the probe waits for waits 20 ms more.
                std::thread::sleep(Duration::from_millis(20));
                tokio::task::yield_now().await;
            }
            probe.finish().await
        });
        assert!(!lateness.is_empty());
        let (o, _) = judge((0, 1_000_000), 2.0, (&lateness, LAG_BOUND_P99));
        assert!(o.loadgen_lag_max_us.unwrap() >= 15_000.0, "{o:?}");
    }
}
