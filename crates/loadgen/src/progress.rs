//! Live progress on stderr: scenario, transport, phase, elapsed / total and events received so
//! far, on one line redrawn by indicatif.
//!
//! Drawn when stderr is a terminal and `--quiet` is not given. The line is redrawn every 250 ms by
//! a task on the load generator's runtime; the only cost on a measured path is one relaxed counter
//! addition per received batch, which the drain needs anyway. When stderr is not a terminal (a CI
//! log), the same task prints one plain line (no escape codes) each time a phase enters a stage.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use parking_lot::Mutex;
use rtbench_proto::mono_now_ns;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often the line is redrawn.
const REDRAW: Duration = Duration::from_millis(250);

/// The progress line of a whole run (hidden when not drawn).
#[derive(Debug, Clone)]
pub struct Progress {
    bar: Option<ProgressBar>,
    /// Plain lines, one per phase and stage, for a stderr that is not a terminal.
    plain: bool,
}

impl Progress {
    /// A progress line on stderr, unless `quiet` or stderr is not a terminal.
    pub fn stderr(quiet: bool) -> Progress {
        if quiet {
            return Progress::hidden();
        }
        if !std::io::stderr().is_terminal() {
            return Progress {
                bar: None,
                plain: true,
            };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        Progress {
            bar: Some(bar),
            plain: false,
        }
    }

    /// No progress at all.
    pub fn hidden() -> Progress {
        Progress {
            bar: None,
            plain: false,
        }
    }

    /// Prints `line` above the progress line, or as a plain line (nothing when hidden).
    pub fn println(&self, line: &str) {
        if let Some(bar) = &self.bar {
            bar.println(line);
        } else if self.plain {
            eprintln!("{line}");
        }
    }

    /// Removes the progress line.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// The progress of one phase, shown as `label · <phase> · elapsed/total · received`.
    /// Must be called within the tokio runtime when drawn.
    pub(crate) fn phase(&self, label: String) -> PhaseProgress {
        let received = Arc::new(AtomicU64::new(0));
        let timeline = Arc::new(Mutex::new(None));
        let plain = self.plain.then(|| {
            let (received, timeline) = (received.clone(), timeline.clone());
            tokio::spawn(plain_lines(label.clone(), received, timeline))
        });
        let ticker = self.bar.clone().map(|bar| {
            let (received, timeline) = (received.clone(), timeline.clone());
            let begun = mono_now_ns();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(REDRAW);
                loop {
                    tick.tick().await;
                    let now = mono_now_ns();
                    let timeline: Option<Timeline> = *timeline.lock();
                    let got = received.load(Ordering::Relaxed);
                    bar.set_message(render(&label, timeline, begun, now, got));
                    bar.tick();
                }
            })
        });
        PhaseProgress {
            received,
            timeline,
            ticker: ticker.or(plain),
        }
    }
}

/// Prints one plain line each time the phase `label` enters a stage (checked every 250 ms).
async fn plain_lines(
    label: String,
    received: Arc<AtomicU64>,
    timeline: Arc<Mutex<Option<Timeline>>>,
) {
    let begun = mono_now_ns();
    let mut shown = "";
    let mut tick = tokio::time::interval(REDRAW);
    loop {
        tick.tick().await;
        let now = mono_now_ns();
        let timeline: Option<Timeline> = *timeline.lock();
        let stage = stage(timeline, now);
        if stage != shown {
            shown = stage;
            let got = received.load(Ordering::Relaxed);
            eprintln!("{}", render(&label, timeline, begun, now, got));
        }
    }
}

/// When a phase's stages begin and end, CLOCK_MONOTONIC ns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeline {
    /// Time zero of the schedule.
    pub(crate) start: u64,
    /// The measured window.
    pub(crate) window: (u64, u64),
    /// The last scheduled event or message.
    pub(crate) last: u64,
    /// The end of the longest drain.
    pub(crate) deadline: u64,
}

/// One phase's progress: the received counter its clients add to, and its timeline.
#[derive(Debug)]
pub(crate) struct PhaseProgress {
    received: Arc<AtomicU64>,
    timeline: Arc<Mutex<Option<Timeline>>>,
    ticker: Option<JoinHandle<()>>,
}

impl PhaseProgress {
    /// A phase progress that draws nothing (its counter still counts).
    pub(crate) fn hidden() -> PhaseProgress {
        Progress::hidden().phase(String::new())
    }

    /// The counter of distinct events received by every client of the phase.
    pub(crate) fn received(&self) -> Arc<AtomicU64> {
        self.received.clone()
    }

    /// Sets the phase's timeline once the schedule has started.
    pub(crate) fn set_timeline(&self, timeline: Timeline) {
        *self.timeline.lock() = Some(timeline);
    }
}

impl Drop for PhaseProgress {
    fn drop(&mut self) {
        if let Some(ticker) = &self.ticker {
            ticker.abort();
        }
    }
}

/// The stage a phase with `timeline` is in at `now`.
fn stage(timeline: Option<Timeline>, now: u64) -> &'static str {
    let Some(t) = timeline else {
        return "connecting";
    };
    if now < t.start {
        "starting"
    } else if now < t.window.0 {
        "warm-up"
    } else if now < t.window.1 {
        "window"
    } else if now < t.last {
        "tail"
    } else {
        "drain"
    }
}

/// The progress message at `now`.
fn render(label: &str, timeline: Option<Timeline>, begun: u64, now: u64, received: u64) -> String {
    let secs = |ns: u64| ns as f64 / 1e9;
    let Some(t) = timeline else {
        return format!(
            "{label} · connecting · {:.1} s",
            secs(now.saturating_sub(begun))
        );
    };
    let stage = stage(Some(t), now);
    format!(
        "{label} · {stage} · {:.1}/{:.1} s · {received} received",
        secs(now.saturating_sub(t.start)),
        secs(t.deadline.saturating_sub(t.start)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_stage() {
        let t = Timeline {
            start: 10_000_000_000,
            window: (12_000_000_000, 22_000_000_000),
            last: 22_500_000_000,
            deadline: 24_500_000_000,
        };
        let at = |now| render("chat · sse", Some(t), 0, now, 42);
        assert_eq!(
            at(15_000_000_000),
            "chat · sse · window · 5.0/14.5 s · 42 received"
        );
        assert!(at(11_000_000_000).contains("warm-up"));
        assert!(at(23_000_000_000).contains("drain"));
        assert!(render("x", None, 0, 1_500_000_000, 0).contains("connecting · 1.5 s"));
    }
}
