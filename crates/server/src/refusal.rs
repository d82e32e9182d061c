//! Logging refusals and limit hits, rate-limited: one `warn` line per kind of limit per second at
//! most, saying how many more were refused since the last line, so a flood of hostile clients
//! cannot fill a disk. `rtbench serve` installs the subscriber (`RUST_LOG` filters it).

use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};

/// A limit the server enforces, named by its flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// `--max-connections`.
    MaxConnections,
    /// `--header-read-timeout`.
    HeaderReadTimeout,
    /// `--idle-timeout`.
    IdleTimeout,
    /// `--max-head-bytes`.
    MaxHeadBytes,
    /// `--publish-rate-limit` / `--topic-publish-rate-limit`.
    PublishRate,
    /// `--ws-max-write-buffer`.
    WsWriteBuffer,
    /// `--max-publishers`.
    MaxPublishers,
    /// `--control-token` (or a control request on a non-loopback listener without one).
    Control,
    /// `--max-topics`, the sequence-number end or the event-size limit.
    Topic,
}

const KINDS: usize = 9;

impl Limit {
    fn index(self) -> usize {
        self as usize
    }

    /// The flag that sets the limit, as the log line names it.
    fn flag(self) -> &'static str {
        match self {
            Limit::MaxConnections => "--max-connections",
            Limit::HeaderReadTimeout => "--header-read-timeout",
            Limit::IdleTimeout => "--idle-timeout",
            Limit::MaxHeadBytes => "--max-head-bytes",
            Limit::PublishRate => "--publish-rate-limit",
            Limit::WsWriteBuffer => "--ws-max-write-buffer",
            Limit::MaxPublishers => "--max-publishers",
            Limit::Control => "--control-token",
            Limit::Topic => "topic limits",
        }
    }
}

/// Per kind: the second of the last line (CLOCK_MONOTONIC), and hits not logged since.
static LAST_SECOND: [AtomicU64; KINDS] = [const { AtomicU64::new(u64::MAX) }; KINDS];
static SUPPRESSED: [AtomicU64; KINDS] = [const { AtomicU64::new(0) }; KINDS];

/// Records one hit of `limit`; logs it unless a line for the same kind went out this second.
pub(crate) fn hit(limit: Limit, detail: impl Display) {
    let i = limit.index();
    let second = rtbench_proto::mono_now_ns() / 1_000_000_000;
    let last = LAST_SECOND[i].load(Ordering::Relaxed);
    let mine = last != second
        && LAST_SECOND[i]
            .compare_exchange(last, second, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok();
    if !mine {
        SUPPRESSED[i].fetch_add(1, Ordering::Relaxed);
        return;
    }
    let more = SUPPRESSED[i].swap(0, Ordering::Relaxed);
    tracing::warn!(
        "refused ({}): {detail}{}",
        limit.flag(),
        if more > 0 {
            format!(" (+{more} more since the last line)")
        } else {
            String::new()
        }
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_kind_per_second_the_rest_counted() {
        let i = Limit::IdleTimeout.index();
        for _ in 0..100 {
            hit(Limit::IdleTimeout, "x");
        }
        // The first hit of this second logged; the other 99 wait for the next line.
        assert!(SUPPRESSED[i].load(Ordering::Relaxed) >= 99);
        assert_eq!(Limit::MaxConnections.flag(), "--max-connections");
    }
}
