//! `rtbench serve`'s limits against hostile clients, as flags (`docs/limits.md`).

use super::duration;
use clap::Args;
use rtbench_proto::ServerLimits;
use std::time::Duration;

/// The server's limits against hostile clients (`docs/limits.md`): what one connection, topic or
/// request may cost. The defaults never bind a normal `rtbench run`.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Bytes of event bodies each topic's ring keeps (with --ring-capacity events); the oldest
    /// leave first and a reader behind them gets a gap notice.
    #[arg(long, default_value_t = ServerLimits::default().ring_bytes)]
    pub ring_bytes: usize,
    /// Bytes of events one connection takes from a ring per write or poll answer (at least one).
    #[arg(long, default_value_t = ServerLimits::default().batch_bytes)]
    pub batch_bytes: usize,
    /// Most bytes a WebSocket may queue for a client that does not read.
    #[arg(long, default_value_t = ServerLimits::default().ws_max_write_buffer_bytes)]
    pub ws_max_write_buffer: usize,
    /// Most connections open at once (both listeners); more get 503 (HTTP) or are closed (TCP).
    #[arg(long, default_value_t = ServerLimits::default().max_connections)]
    pub max_connections: usize,
    /// Longest a client may take to send a request head (HTTP) or its SUB frame (raw TCP).
    #[arg(long, value_parser = duration, default_value = "10s")]
    pub header_read_timeout: Duration,
    /// Longest an HTTP connection may stay open with no request in progress.
    #[arg(long, value_parser = duration, default_value = "60s")]
    pub idle_timeout: Duration,
    /// Most events one connection may publish per second; a faster one is slowed, not refused.
    #[arg(long, default_value_t = ServerLimits::default().publish_rate_per_conn)]
    pub publish_rate_limit: u64,
    /// Most events clients together may publish to one topic per second (scheduled publishers
    /// are not counted).
    #[arg(long, default_value_t = ServerLimits::default().publish_rate_per_topic)]
    pub topic_publish_rate_limit: u64,
    /// Free a topic nobody has used (no subscriber, publisher, publish or read) for this long;
    /// 0 never frees topics.
    #[arg(long, value_parser = duration, default_value = "5m")]
    pub topic_idle_ttl: Duration,
    /// Most scheduled publishers (/schedule, /plan, /schedule/resume) running at once.
    #[arg(long, default_value_t = ServerLimits::default().max_publishers)]
    pub max_publishers: usize,
    /// Longest request head accepted, in bytes; a longer one gets 431.
    #[arg(long, default_value_t = ServerLimits::default().max_head_bytes)]
    pub max_head_bytes: usize,
    /// Require 'Authorization: Bearer TOKEN' on the control endpoints (/schedule, /plan,
    /// /schedule/resume, /faults/*). Without it they answer on a loopback address only.
    #[arg(long)]
    pub control_token: Option<String>,
}

/// Milliseconds of `d`, saturating.
fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl LimitArgs {
    /// The limits these flags give.
    pub fn to_limits(&self) -> ServerLimits {
        ServerLimits {
            ring_bytes: self.ring_bytes,
            batch_bytes: self.batch_bytes,
            ws_max_write_buffer_bytes: self.ws_max_write_buffer,
            max_connections: self.max_connections,
            header_read_timeout_ms: ms(self.header_read_timeout),
            idle_timeout_ms: ms(self.idle_timeout),
            publish_rate_per_conn: self.publish_rate_limit,
            publish_rate_per_topic: self.topic_publish_rate_limit,
            topic_idle_ttl_ms: ms(self.topic_idle_ttl),
            max_publishers: self.max_publishers,
            max_head_bytes: self.max_head_bytes,
            control_token: self.control_token.clone(),
        }
    }
}
