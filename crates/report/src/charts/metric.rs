//! The figures a bar or sweep chart can show, with their titles and units.

use crate::data::Point;
use crate::format::{latency_us, number};

/// One figure of a [`Point`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// p50 delivery latency.
    LatencyP50,
    /// Wire bytes per delivery.
    Bytes,
    /// TCP segments per delivery.
    Packets,
    /// HTTP requests per delivery.
    Requests,
    /// Server CPU per delivery.
    ServerCpu,
    /// Server RSS growth per open connection.
    Memory,
    /// Idle bytes per second per client.
    IdleBytes,
    /// Idle requests per second per client.
    IdleRequests,
    /// Idle server CPU per second per client.
    IdleCpu,
}

impl Metric {
    /// Cost per delivery, in the order the page shows them.
    pub const PER_DELIVERY: [Metric; 4] = [
        Metric::Bytes,
        Metric::Packets,
        Metric::Requests,
        Metric::ServerCpu,
    ];
    /// Cost of holding clients, shown only when measured.
    pub const HOLDING: [Metric; 4] = [
        Metric::Memory,
        Metric::IdleBytes,
        Metric::IdleRequests,
        Metric::IdleCpu,
    ];

    /// Chart title.
    pub fn title(self) -> &'static str {
        match self {
            Metric::LatencyP50 => "Median delivery latency",
            Metric::Bytes => "Wire bytes per delivery",
            Metric::Packets => "TCP packets per delivery",
            Metric::Requests => "HTTP requests per delivery",
            Metric::ServerCpu => "Server CPU per delivery",
            Metric::Memory => "Server memory per open connection",
            Metric::IdleBytes => "Idle traffic per client",
            Metric::IdleRequests => "Idle requests per client",
            Metric::IdleCpu => "Idle server CPU per client",
        }
    }

    /// Axis title, with the unit.
    pub fn axis(self) -> &'static str {
        match self {
            Metric::LatencyP50 => "p50 delivery latency",
            Metric::Bytes => "bytes per delivery, both directions",
            Metric::Packets => "TCP segments per delivery",
            Metric::Requests => "HTTP requests per delivery",
            Metric::ServerCpu => "server CPU µs per delivery",
            Metric::Memory => "KiB of server RSS per connection",
            Metric::IdleBytes => "bytes/s per idle client",
            Metric::IdleRequests => "requests/s per idle client",
            Metric::IdleCpu => "server CPU µs/s per idle client",
        }
    }

    /// What to read off the chart, one sentence.
    pub fn caption(self) -> &'static str {
        match self {
            Metric::LatencyP50 => {
                "The median time from an event's scheduled publication to its parsing by a client."
            }
            Metric::Bytes => {
                "TCP payload bytes in both directions per delivered event, headers, handshakes and \
                              empty polls included."
            }
            Metric::Packets => {
                "TCP segments in both directions per delivered event (kernel TCP_INFO)."
            }
            Metric::Requests => {
                "HTTP requests the server answered per delivered event; push transports made \
                                 theirs before the window."
            }
            Metric::ServerCpu => {
                "Server process CPU (user + system) per delivered event; a timing, so it moves \
                                  between runs."
            }
            Metric::Memory => {
                "Growth of the server's resident memory per open connection, while idle."
            }
            Metric::IdleBytes => {
                "Bytes per second each connected client costs while no event flows."
            }
            Metric::IdleRequests => {
                "HTTP requests per second each connected client makes while no event flows."
            }
            Metric::IdleCpu => {
                "Server CPU per second each connected client costs while no event flows."
            }
        }
    }

    /// Short name for file-like ids: `bytes`, `server-cpu`.
    pub fn id(self) -> &'static str {
        match self {
            Metric::LatencyP50 => "latency-p50",
            Metric::Bytes => "bytes",
            Metric::Packets => "packets",
            Metric::Requests => "requests",
            Metric::ServerCpu => "server-cpu",
            Metric::Memory => "memory",
            Metric::IdleBytes => "idle-bytes",
            Metric::IdleRequests => "idle-requests",
            Metric::IdleCpu => "idle-cpu",
        }
    }

    /// The figure for `p`, in the axis unit; `None` when it was not measured.
    pub fn value(self, p: &Point) -> Option<f64> {
        match self {
            Metric::LatencyP50 => Some(p.latency.p50),
            Metric::Bytes => Some(p.bytes_per_delivery),
            Metric::Packets => p.packets_per_delivery,
            Metric::Requests => Some(p.requests_per_delivery),
            Metric::ServerCpu => p.server_measured.then_some(p.server_cpu_us_per_delivery),
            Metric::Memory => p.memory_per_connection_bytes.map(|b| b / 1_024.0),
            Metric::IdleBytes => p.idle_bytes_per_client_s,
            Metric::IdleRequests => p.idle_requests_per_client_s,
            Metric::IdleCpu => p.idle_server_cpu_us_per_client_s,
        }
    }

    /// A value with its unit, for a label on a bar or a tick: `180 B`, `7.1 µs`, `1.24 ms`.
    pub fn format(self, v: f64) -> String {
        match self {
            Metric::LatencyP50 => latency_us(v),
            Metric::Bytes => format!("{} B", number(v)),
            Metric::Packets | Metric::Requests => number(v),
            Metric::ServerCpu => format!("{} µs", number(v)),
            Metric::Memory => format!("{} KiB", number(v)),
            Metric::IdleBytes => format!("{} B/s", number(v)),
            Metric::IdleRequests => format!("{}/s", number(v)),
            Metric::IdleCpu => format!("{} µs/s", number(v)),
        }
    }
}
