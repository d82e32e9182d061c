//! The results document of an rtbench run: one versioned JSON file that the terminal table, the
//! Markdown summary, the HTML report and the regression gate all read, and that doubles as a baseline.
//!
//! Field names are fixed (tools and CI read them); [`SCHEMA_VERSION`] changes when they do, and a
//! test pins the shape. Older documents are still read: [`v1`] and [`v2`] convert them. Latency histograms
//! are histograms in memory and travel serialised ([`histogram`]) so runs can be merged and
//! re-plotted without re-running. Transports are [`rtbench_proto::Transport`] values, written as
//! their names; the server's settings are [`rtbench_proto::ServerInfo`], as `GET /settings`
//! answers them. What a row is divided by (its floor) is found in one place, [`floor`], and figures
//! are written for people in one way, [`format`].

pub mod cluster;
mod conditions;
pub mod floor;
pub mod format;
mod group;
pub mod histogram;
mod load;
mod overload;
mod repeat;
mod row;
mod shards;
mod unmeasured;
pub mod v1;
pub mod v2;

pub use conditions::{ConditionsSpec, FaultsSpec};
pub use group::stack_key;

pub use histogram::{LatencyHistogram, decode_histogram, encode_histogram};
pub use load::LoadError;
pub use overload::Overload;
pub use repeat::combine_repeats;
pub use row::{Ack, Client, Latency, MinMax, Row, Spread, Totals};
pub use rtbench_proto::settings::{HttpEngine, ServerFault, ServerInfo, ServerSettings};
pub use rtbench_proto::stack::Stack;
pub use rtbench_proto::transport::Transport;
pub use shards::{ClockOffset, ShardClock, max_uncertainty_us};

use serde::{Deserialize, Serialize};

/// Fields added after the first documents of version 1 were written (the scenario, room and
/// upstream fields) default when absent, so every version-1 document stays readable.
fn one() -> u32 {
    1
}

/// Version of the document's shape. Readers refuse other versions with a clear error; versions 1
/// and 2 are converted ([`v1`], [`v2`]).
///
/// Version 2: `config.server` is the server's whole [`ServerInfo`] (`{"settings": {…, "fault":
/// {…}}, "allocator": …}`) instead of a flat list of buffer settings, and `config.server_fault`
/// is gone (it is `config.server.settings.fault`).
///
/// Version 3: a row's `lost` no longer includes the events a client was behind on when the drain
/// ended (`overload.late`) or the server had not published (`overload.unpublished`): those are
/// late, not lost, and are counted apart ([`Row::undelivered`] adds all three).
pub const SCHEMA_VERSION: u32 = 3;

/// One run: where, how, and what it measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// Always [`SCHEMA_VERSION`] when written by this version.
    pub schema_version: u32,
    /// `rtbench <version>` that wrote the document.
    pub tool: String,
    /// The command line that produced the run, program name first.
    pub command: Vec<String>,
    /// Start of the run, seconds since the Unix epoch (wall clock; never used for latency).
    pub started_at_unix_s: u64,
    /// The machine and build the run was made on.
    pub environment: Environment,
    /// The workload every transport was given.
    pub config: RunConfig,
    /// One row per (scenario, transport), floor first.
    pub rows: Vec<Row>,
    /// The broker hop and cost, on a server cluster (additive; absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<cluster::ClusterFigures>,
}

/// The machine, build and process placement of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    /// CPU model name from /proc/cpuinfo.
    pub cpu_model: String,
    /// Logical CPUs online.
    pub cores: usize,
    /// Kernel release (`uname -r`).
    pub kernel: String,
    /// `rustc --version` of the compiler that built rtbench.
    pub rustc: String,
    /// Git commit of the source tree the binary was built from, embedded at build time (`-dirty`
    /// appended when tracked files had uncommitted changes; `unknown` when built outside git).
    /// Documents written before the build recorded it hold the current directory's commit.
    pub git_commit: String,
    /// Whether the source tree had uncommitted changes to tracked files when the binary was built.
    #[serde(default)]
    pub git_dirty: bool,
    /// Cargo profile the binary was built with: `release` or `debug` (empty in documents written
    /// before it was recorded). A debug build's timings are not the transports'.
    #[serde(default)]
    pub build_profile: String,
    /// Where the server and the load generator ran.
    pub placement: Placement,
    /// The plain-`write()` calibration of the floor (`rtbench write-cost`), when the run measured
    /// it: absent from documents of runs without the floor and from older ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_cost: Option<WriteCost>,
}

/// What one plain `write()` of a floor-sized frame costs the writing thread on this machine, over
/// as many loopback sockets as the run had floor clients: the floor server's lower bound per
/// delivery, so its CPU per delivery can be stated as a ratio to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteCost {
    /// Sockets written in turn (the floor row's clients).
    pub clients: u64,
    /// Bytes per write (the floor row's bytes per delivery, rounded).
    pub bytes: usize,
    /// Pause before each counted round of writes, ms: the run's event interval (at most 1 s), so
    /// the sockets are as cold between writes as the floor server's.
    #[serde(default)]
    pub interval_ms: u64,
    /// The writer thread's CPU per write, ns (median of the repetitions).
    pub ns_per_write: u64,
}

impl WriteCost {
    /// The writer thread's CPU per write, µs.
    pub fn us_per_write(&self) -> f64 {
        self.ns_per_write as f64 / 1000.0
    }
}

/// Core placement of server and load generator: fixed for the whole run, the same for every transport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// CPUs the server process was pinned to (empty when not pinned or not known).
    pub server_cpus: Vec<usize>,
    /// CPUs the load generator was pinned to (empty when not pinned).
    pub loadgen_cpus: Vec<usize>,
    /// One line a person reads, e.g. `server on cpu 1, load generator on cpu 0`.
    pub description: String,
}

/// The workload of a run, as the user set it or the defaults chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Scenario name (`dashboard` for the default push-to-all workload).
    pub scenario: String,
    /// Subscribed clients per transport.
    pub clients: u64,
    /// Events published per second.
    pub rate_per_s: f64,
    /// Payload bytes per event.
    pub payload_bytes: usize,
    /// Short-poll interval, milliseconds.
    pub poll_interval_ms: u64,
    /// How long a long-poll request asks to be held, milliseconds.
    pub longpoll_timeout_ms: u64,
    /// Warm-up before the measured window (discarded), milliseconds.
    pub warmup_ms: u64,
    /// Measured window, milliseconds.
    pub window_ms: u64,
    /// Events keep flowing this long after the window (unmeasured), milliseconds.
    pub tail_ms: u64,
    /// Longest wait for late deliveries after the last event, milliseconds.
    pub drain_ms: u64,
    /// Transports run, in order.
    pub transports: Vec<Transport>,
    /// Address of the HTTP listener measured.
    pub server_http: String,
    /// Address of the raw-TCP listener measured.
    pub server_tcp: String,
    /// Where the scenario came from: a built-in's file (`benches/scenarios/chat.toml`) or the path
    /// given to `--scenario`.
    #[serde(default)]
    pub scenario_file: String,
    /// The scenario's one-line description.
    #[serde(default)]
    pub scenario_description: String,
    /// The scenario file's text as it was run (command-line overrides are in `command`).
    #[serde(default)]
    pub scenario_toml: String,
    /// Members per room (one topic per room); `clients` when every client shares one room.
    #[serde(default)]
    pub room_size: u64,
    /// Upstream messages per second per sending client (0 when clients only receive).
    #[serde(default)]
    pub send_rate_per_s: f64,
    /// The `--sweep` axes as given (`poll_interval=100ms,250ms`); each point is one row per transport.
    #[serde(default)]
    pub sweep: Vec<String>,
    /// Repetitions of every point (`--repeat`); rows then report medians with a min–max spread.
    #[serde(default = "one")]
    pub repeat: u32,
    /// The server's settings (buffers, limits, HTTP engine, injected faults) and allocator, as it
    /// reported them (absent if it did not).
    pub server: Option<ServerInfo>,
    /// Idle scenario: connections opened per transport.
    pub connections: Option<u64>,
    /// Idle scenario: the window held with no events, milliseconds.
    pub idle_window_ms: Option<u64>,
    /// Network conditions the rows ran under, one entry per profile, in the order run.
    #[serde(default)]
    pub conditions: Vec<ConditionsSpec>,
    /// Faults injected in every phase.
    #[serde(default)]
    pub faults: FaultsSpec,
    /// The protocol stack every row ran on (`h1` in results written before stacks existed).
    #[serde(default)]
    pub stack: Stack,
    /// `run --target`: the server rtbench did not write that the rows measured (absent when
    /// rtbench measured its own server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetRun>,
}

/// How a run measured a server rtbench did not write (`rtbench run --target`, `docs/contract.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRun {
    /// The target's base URL, as given.
    pub url: String,
    /// Who stamped each event's scheduled time: `server` (its publisher, via `POST /schedule`) or
    /// `client` (the load generator's publisher clients).
    pub stamping: String,
    /// Bytes per delivery were counted at the load generator's sockets (`client`), not by a
    /// server-side meter.
    pub bytes_counted_at: String,
    /// The server process read from `/proc` for CPU and RSS (`--target-pid`); absent: the rows'
    /// server CPU and RSS figures were not measured (they read 0 and mean nothing).
    pub pid: Option<u32>,
}

impl TargetRun {
    /// Whether the rows' server CPU and RSS were measured.
    pub fn server_measured(&self) -> bool {
        self.pid.is_some()
    }
}

impl RunConfig {
    /// The degradations the server injected (all 0 for a real measurement, and when the server
    /// reported no settings).
    pub fn server_fault(&self) -> ServerFault {
        self.server
            .as_ref()
            .map_or_else(ServerFault::default, |s| s.settings.fault)
    }
}

impl Environment {
    /// Whether the run was made by a debug build, whose timings and CPU figures are the unoptimised
    /// code's rather than the transports'.
    pub fn is_debug_build(&self) -> bool {
        self.build_profile == "debug"
    }
}

impl Results {
    /// The row of `transport` under `scenario`, if the run has one.
    pub fn row(&self, scenario: &str, transport: Transport) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.scenario == scenario && r.transport == transport)
    }
}

#[cfg(test)]
mod tests;
