//! The broker message: one event as the cluster's publisher hands it to Redis. Hand-written
//! because it is 24 bytes of header: sequence number, scheduled time and the publisher's send
//! stamp (CLOCK_MONOTONIC ns, little-endian `u64` each), then the payload's UTF-8 bytes. The
//! channel names the topic (`rtbench.<cluster>.ev.<topic>`), so the message carries no name.

/// Bytes before the payload.
const HEADER_BYTES: usize = 24;

/// One event on the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerEvent {
    /// Sequence number within the topic, assigned by the publisher.
    pub seq: u64,
    /// Scheduled publication time, CLOCK_MONOTONIC ns (what clients measure latency from).
    pub t_pub_ns: u64,
    /// When the publisher handed the event to the broker, CLOCK_MONOTONIC ns (the hop's start).
    pub t_sent_ns: u64,
    /// The payload.
    pub payload: String,
}

impl BrokerEvent {
    /// The message's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_BYTES + self.payload.len());
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&self.t_pub_ns.to_le_bytes());
        out.extend_from_slice(&self.t_sent_ns.to_le_bytes());
        out.extend_from_slice(self.payload.as_bytes());
        out
    }

    /// The event in `bytes`; `None` when they are too short or the payload is not UTF-8.
    pub fn decode(bytes: &[u8]) -> Option<BrokerEvent> {
        let (header, payload) = bytes.split_at_checked(HEADER_BYTES)?;
        let word = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&header[i * 8..i * 8 + 8]);
            u64::from_le_bytes(b)
        };
        Some(BrokerEvent {
            seq: word(0),
            t_pub_ns: word(1),
            t_sent_ns: word(2),
            payload: std::str::from_utf8(payload).ok()?.to_owned(),
        })
    }
}

/// The channel of `topic`'s events in cluster `cluster`.
pub fn channel(cluster: &str, topic: &str) -> String {
    format!("rtbench.{cluster}.ev.{topic}")
}

/// The topic a channel of cluster `cluster` carries, if it is one of its event channels.
pub fn topic_of<'a>(cluster: &str, channel: &'a str) -> Option<&'a str> {
    channel
        .strip_prefix("rtbench.")?
        .strip_prefix(cluster)?
        .strip_prefix(".ev.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_short_or_non_utf8_messages() {
        let event = BrokerEvent {
            seq: 7,
            t_pub_ns: 1_000,
            t_sent_ns: 1_005,
            payload: "héllo".into(),
        };
        let bytes = event.encode();
        assert_eq!(bytes.len(), 24 + "héllo".len());
        assert_eq!(BrokerEvent::decode(&bytes), Some(event));
        assert_eq!(BrokerEvent::decode(&bytes[..23]), None);
        let mut bad = bytes.clone();
        bad.push(0xff);
        assert_eq!(BrokerEvent::decode(&bad), None);
    }

    #[test]
    fn channels_name_cluster_and_topic() {
        let c = channel("c1", "news.eu");
        assert_eq!(c, "rtbench.c1.ev.news.eu");
        assert_eq!(topic_of("c1", &c), Some("news.eu"));
        assert_eq!(topic_of("c2", &c), None);
    }
}
