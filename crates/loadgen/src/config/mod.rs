//! The workload given to every transport, with its limits: this module owns the configuration's
//! types and all of their validation (the idle scenario's shared limits included,
//! [`check_polling`]).

mod flows;

pub use crate::error::ConfigError;
pub use flows::{Arrivals, MAX_BURST, MAX_BURST_GAP, MAX_SENDS, MAX_TOPICS, SendFlow, SendTo};

use crate::conditions::Conditions;
use crate::faults::{FaultPlan, MIN_DROP_EVERY};
use rtbench_proto::Transport;
use rtbench_proto::limits::{MAX_PAYLOAD_BYTES, MAX_SCHEDULE_RATE_PER_S, MAX_SCHEDULED_EVENTS};
use std::time::Duration;

/// Most clients per transport: the server's default `--max-connections`. A phase holds every
/// client's connection open at once, so the server's open-file limit must allow that many too;
/// the load generator spreads clients over processes ([`crate::shard`]) when one process's limit
/// does not (docs/limits.md).
pub const MAX_CLIENTS: u64 = 50_000;
/// Most load-generator processes per phase (`--loadgen-procs`, [`crate::shard`]).
pub const MAX_LOADGEN_PROCS: u32 = 64;
/// Most deliveries (clients × scheduled events) one phase may expect. Receipts are not kept (each is
/// recorded into a histogram at arrival), so this bounds no memory: it refuses a typo such as
/// `--rate 1e6` before it runs for days. One hour at 10,000 clients and 20 events/s is 720 million.
pub const MAX_EXPECTED_DELIVERIES: u64 = 2_000_000_000;

/// What every transport is given in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadConfig {
    /// Scenario name written into each row.
    pub scenario: String,
    /// Subscribed clients per transport.
    pub clients: u64,
    /// Events the server publishes per second, to every room (0: none, when clients send).
    pub rate_per_s: f64,
    /// Payload bytes per server-published event.
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
    /// Members per room; each room is one topic. `None`: every client in one room.
    pub room_size: Option<u64>,
    /// How the server's events are spaced in time.
    pub arrivals: Arrivals,
    /// Messages clients publish upstream, if any.
    pub send: Option<SendFlow>,
    /// Seed of the schedule's random choices (Poisson gaps, send phases): every transport of a
    /// run gets the same schedule.
    pub seed: u64,
    /// Network conditions between clients and server (loopback: none added, no proxy).
    pub conditions: Conditions,
    /// Faults injected in every phase (none by default).
    pub faults: FaultPlan,
    /// Lateness of the load generator's probe timer (p99) above which a window is marked
    /// `loadgen-bound` ([`crate::probe::LAG_BOUND_P99`] by default).
    pub loadgen_lag_bound: Duration,
    /// Load-generator processes a phase's clients are split over (1: this process runs them all;
    /// more: [`crate::shard`]). Raised automatically when one process's open-file limit cannot
    /// hold a share.
    pub loadgen_procs: u32,
    /// Socket.IO rows: clients publish as acknowledged emits on their own connection
    /// (`42<id>["publish",…]`, answered `43<id>[]`) instead of `POST /publish`, and the row reports
    /// the latency to the ack (`--socketio-ack`). Other rows ignore it.
    pub socketio_ack: bool,
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
            transports: Transport::DEFAULT.to_vec(),
            connect_timeout: Duration::from_secs(20),
            quiet: false,
            room_size: None,
            arrivals: Arrivals::Fixed,
            send: None,
            seed: 1,
            conditions: Conditions::loopback(),
            faults: FaultPlan::default(),
            loadgen_lag_bound: crate::probe::LAG_BOUND_P99,
            loadgen_procs: 1,
            socketio_ack: false,
        }
    }
}

/// The limits a workload and the idle scenario share: the short-poll interval, the long-poll hold
/// and a non-empty transport list.
pub(crate) fn check_polling(
    poll_interval: Duration,
    longpoll_timeout: Duration,
    transports: &[Transport],
) -> Result<(), ConfigError> {
    check(
        poll_interval >= Duration::from_millis(1),
        "poll interval",
        "at least 1ms",
        format!("{poll_interval:?}"),
    )?;
    check(
        longpoll_timeout >= Duration::from_millis(1)
            && longpoll_timeout.as_millis()
                <= u128::from(rtbench_proto::limits::MAX_LONGPOLL_TIMEOUT_MS),
        "long-poll timeout",
        "between 1ms and 120s",
        format!("{longpoll_timeout:?}"),
    )?;
    check(
        !transports.is_empty(),
        "transports",
        "a non-empty list",
        "none",
    )
}

/// `Ok` if `ok`, else the error saying `name` must be `rule`.
pub(crate) fn check(
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
        // A scenario whose clients send may have no server events at all.
        let silent_server = self.rate_per_s == 0.0 && self.send.is_some();
        check(
            silent_server
                || (self.rate_per_s.is_finite()
                    && self.rate_per_s > 0.0
                    && self.rate_per_s <= MAX_SCHEDULE_RATE_PER_S),
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
        check_polling(self.poll_interval, self.longpoll_timeout, &self.transports)?;
        self.validate_faults()?;
        validate_procs(self)?;
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
        )?;
        flows::validate(self)
    }
}

impl LoadConfig {
    /// Checks the fault plan against the schedule it applies to.
    fn validate_faults(&self) -> Result<(), ConfigError> {
        let f = &self.faults;
        // Faults resume one fixed-rate schedule (a restarted server continues its sequence), so
        // they need a workload that is one: every client in one room, server events only.
        let single_schedule =
            self.rooms() == 1 && self.arrivals == Arrivals::Fixed && self.send.is_none();
        check(
            f.is_none() || single_schedule,
            "faults (--drop-fraction, --restart-server-at)",
            "used with a one-room, fixed-rate scenario without client messages, such as dashboard",
            format!("scenario {}", self.scenario),
        )?;
        check(
            (0.0..=1.0).contains(&f.drop_fraction),
            "drop fraction",
            "between 0 and 1",
            f.drop_fraction,
        )?;
        check(
            f.drop_fraction == 0.0 || f.drop_every >= MIN_DROP_EVERY,
            "drop every",
            format!("at least {MIN_DROP_EVERY:?} when a drop fraction is set"),
            format!("{:?}", f.drop_every),
        )?;
        if let Some(at) = f.restart_server_at {
            check(
                !at.is_zero() && at < self.warmup + self.window,
                "restart-server-at",
                "after the first event and before the end of the measured window (warm-up + window)",
                format!("{at:?}"),
            )?;
        }
        check(
            self.conditions.rtt <= Duration::from_secs(10)
                && self.conditions.jitter <= self.conditions.rtt / 2,
            "conditions",
            "an RTT of at most 10 s and a jitter of at most half the RTT",
            format!(
                "RTT {:?}, jitter {:?}",
                self.conditions.rtt, self.conditions.jitter
            ),
        )
    }
}

/// The limits on `loadgen_procs`: between 1 and [`MAX_LOADGEN_PROCS`], at most one per client,
/// and more than 1 only for a workload a shard can run.
fn validate_procs(config: &LoadConfig) -> Result<(), ConfigError> {
    let procs = config.loadgen_procs;
    check(
        (1..=MAX_LOADGEN_PROCS).contains(&procs),
        "--loadgen-procs",
        format!("between 1 and {MAX_LOADGEN_PROCS}"),
        procs,
    )?;
    if procs == 1 {
        return Ok(());
    }
    check(
        u64::from(procs) <= config.clients,
        "--loadgen-procs",
        format!("at most the number of clients ({})", config.clients),
        procs,
    )?;
    check(
        config.send.is_none() && config.conditions.is_loopback() && config.faults.is_none(),
        "--loadgen-procs above 1",
        "used with a workload whose clients only receive, on loopback conditions, without faults (client messages, the delay proxy and faults run in one process)",
        format!("scenario {} with {procs} processes", config.scenario),
    )
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
        assert!(
            bad(|c| c.faults.drop_fraction = 1.5)
                .starts_with("drop fraction must be between 0 and 1")
        );
        assert!(bad(|c| c.faults.drop_fraction = 0.1).starts_with("drop every must be at least"));
        assert!(
            bad(|c| c.faults.restart_server_at = Some(Duration::from_secs(60)))
                .starts_with("restart-server-at")
        );
        assert!(bad(|c| c.conditions.jitter = Duration::from_millis(1)).starts_with("conditions"));
    }
}
