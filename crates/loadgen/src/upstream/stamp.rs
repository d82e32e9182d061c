//! The stamp a client puts at the front of every message it publishes: its *scheduled* send time
//! on CLOCK_MONOTONIC and its client id, `~<t_ns>~<client>~`, padded with `x` to the payload size.
//!
//! The server stamps published events with its own arrival time; latency of a client's message is
//! instead counted from the moment it was scheduled to be sent (open loop; see docs/measurement.md, "The schedule and the clock"), read from
//! this stamp by every receiver on the load generator's own clock. Server-generated payloads are
//! alphanumeric, so a payload starting with `~` is always a client's.

/// Smallest payload a sent message may have: room for the longest stamp.
pub const MIN_SEND_PAYLOAD_BYTES: usize = 40;

/// Who sent a message, and when it was scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Scheduled send time, CLOCK_MONOTONIC ns.
    pub t_sched_ns: u64,
    /// The sender's client id.
    pub client: u32,
}

/// The payload of a message `client` was scheduled to send at `t_sched_ns`, `payload_bytes` long
/// (longer only if `payload_bytes` < [`MIN_SEND_PAYLOAD_BYTES`]).
pub fn encode(t_sched_ns: u64, client: u32, payload_bytes: usize) -> String {
    let mut out = format!("~{t_sched_ns}~{client}~");
    let pad = payload_bytes.saturating_sub(out.len());
    out.extend(std::iter::repeat_n('x', pad));
    out
}

/// The stamp at the front of `payload`, if it carries one.
pub fn parse(payload: &str) -> Option<Stamp> {
    let mut parts = payload.strip_prefix('~')?.splitn(3, '~');
    let t_sched_ns = parts.next()?.parse().ok()?;
    let client = parts.next()?.parse().ok()?;
    parts.next()?;
    Some(Stamp { t_sched_ns, client })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_at_the_asked_length() {
        let p = encode(u64::MAX, u32::MAX, MIN_SEND_PAYLOAD_BYTES);
        assert_eq!(p.len(), MIN_SEND_PAYLOAD_BYTES);
        let p = encode(123_456_789, 7, 64);
        assert_eq!(p.len(), 64);
        assert_eq!(
            parse(&p),
            Some(Stamp {
                t_sched_ns: 123_456_789,
                client: 7
            })
        );
        assert_eq!(parse(&rtbench_proto::make_payload(3, 64)), None);
        assert_eq!(parse("~1~"), None);
        assert_eq!(parse("~a~1~"), None);
    }
}
