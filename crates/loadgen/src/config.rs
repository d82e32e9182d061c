//! The workload given to every transport, with its limits.

use rtbench_proto::Transport;
use rtbench_proto::limits::{MAX_PAYLOAD_BYTES, MAX_SCHEDULE_RATE_PER_S, MAX_SCHEDULED_EVENTS};
use std::time::Duration;

/// Most clients per transport. One server process may hold at most 20,000 open files on this
/// machine kind (CRATES.md), and a phase holds every client's connection open at once.
pub const MAX_CLIENTS: u64 = 15_000;
/// Most deliveries (clients × scheduled events) one phase may expect; each first receipt keeps
/// 16 bytes until the phase ends.
pub const MAX_EXPECTED_DELIVERIES: u64 = 20_000_000;

/// What every transport is given in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadConfig {
    /// Scenario name written into each row.
    pub scenario: String,
    /// Subscribed clients per transport.
    pub clients: u64,
    /// Events published per second.
    pub rate_per_s: f64,
    /// Payload bytes per event.
    pub payload_bytes: usize,
    /// Short-poll interval.
    pub poll_interval: Duration,
    /// How long a long-poll request asks to be held.
    pub longpoll_timeout: Duration,
    /// Discarded warm-up at the start of the schedule.
    pub warmup: Duration,
    /// Measured window after the warm-up.
    pub window: Duration,
    /// Unmeasured events after the window, so the window ends in steady state.
    pub tail: Duration,
    /// Longest wait for late deliveries after the last scheduled event.
    pub drain: Duration,
    /// Transports to run, in order.
    pub transports: Vec<Transport>,
    /// Longest wait for all clients to connect.
    pub connect_timeout: Duration,
    /// No progress lines on stderr.
    pub quiet: bool,
}

impl Default for LoadConfig {
    fn default() -> Self {
        LoadConfig {
            scenario: "dashboard".into(),
            clients: 100,
            rate_per_s: 20.0,
            payload_bytes: 128,
            poll_interval: Duration::from_millis(500),
            longpoll_timeout: Duration::from_secs(30),
            warmup: Duration::from_secs(2),
            window: Duration::from_secs(10),
            tail: Duration::from_millis(500),
            drain: Duration::from_secs(2),
            transports: Transport::ALL.to_vec(),
            connect_timeout: Duration::from_secs(20),
            quiet: false,
        }
    }
}

/// A configuration that cannot be run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A value outside its allowed range.
    #[error("{name} must be {rule} (got {got})")]
    OutOfRange {
        /// The setting.
        name: &'static str,
        /// The rule it breaks.
        rule: String,
        /// The value given.
        got: String,
    },
}

fn check(
    ok: bool,
    name: &'static str,
    rule: impl Into<String>,
    got: impl ToString,
) -> Result<(), ConfigError> {
    if ok {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            name,
            rule: rule.into(),
            got: got.to_string(),
        })
    }
}

impl LoadConfig {
    /// Events scheduled per phase: warm-up, window and tail at the configured rate.
    pub fn scheduled_events(&self) -> u64 {
        let span = (self.warmup + self.window + self.tail).as_secs_f64();
        (span * self.rate_per_s).ceil().max(1.0) as u64
    }

    /// Checks every limit; the first broken one is the error.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check(
            (1..=MAX_CLIENTS).contains(&self.clients),
            "clients",
            format!("between 1 and {MAX_CLIENTS}"),
            self.clients,
        )?;
        check(
            self.rate_per_s.is_finite()
                && self.rate_per_s > 0.0
                && self.rate_per_s <= MAX_SCHEDULE_RATE_PER_S,
            "rate",
            format!("greater than 0 and at most {MAX_SCHEDULE_RATE_PER_S} events/s"),
            self.rate_per_s,
        )?;
        check(
            self.payload_bytes <= MAX_PAYLOAD_BYTES,
            "payload",
            format!("at most {MAX_PAYLOAD_BYTES} bytes"),
            self.payload_bytes,
        )?;
        check(
            !self.window.is_zero(),
            "window",
            "longer than 0",
            format!("{:?}", self.window),
        )?;
        check(
            self.poll_interval >= Duration::from_millis(1),
            "poll interval",
            "at least 1ms",
            format!("{:?}", self.poll_interval),
        )?;
        check(
            self.longpoll_timeout >= Duration::from_millis(1)
                && self.longpoll_timeout.as_millis()
                    <= u128::from(rtbench_proto::limits::MAX_LONGPOLL_TIMEOUT_MS),
            "long-poll timeout",
            "between 1ms and 120s",
            format!("{:?}", self.longpoll_timeout),
        )?;
        check(
            !self.transports.is_empty(),
            "transports",
            "a non-empty list",
            "none",
        )?;
        let events = self.scheduled_events();
        check(
            events <= MAX_SCHEDULED_EVENTS,
            "rate × (warm-up + window + tail)",
            format!("at most {MAX_SCHEDULED_EVENTS} events"),
            events,
        )?;
        check(
            events.saturating_mul(self.clients) <= MAX_EXPECTED_DELIVERIES,
            "clients × scheduled events",
            format!("at most {MAX_EXPECTED_DELIVERIES}"),
            events.saturating_mul(self.clients),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_limits_bite() {
        let c = LoadConfig::default();
        c.validate().unwrap();
        assert_eq!(c.scheduled_events(), 250);
        let bad = |f: fn(&mut LoadConfig)| {
            let mut c = LoadConfig::default();
            f(&mut c);
            c.validate().unwrap_err().to_string()
        };
        assert!(bad(|c| c.clients = 0).starts_with("clients must be between 1"));
        assert!(bad(|c| c.rate_per_s = 0.0).starts_with("rate must be greater than 0"));
        assert!(bad(|c| c.rate_per_s = f64::NAN).starts_with("rate"));
        assert!(bad(|c| c.transports.clear()).starts_with("transports"));
        assert!(bad(|c| c.window = Duration::ZERO).starts_with("window"));
    }
}
