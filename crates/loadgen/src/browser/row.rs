//! A browser row as a results row (`client: browser`), beside the Rust clients' rows of the same
//! workload: the same figures from the same server counters, and notes saying what differs (the
//! window is the whole schedule, the latency's clock uncertainty, the client CPU not measured,
//! the connections the server dropped).

use super::BrowserRow;
use crate::config::LoadConfig;
use crate::window::{self, per};
use rtbench_results::{Client, Latency, Overload, Row};

impl BrowserRow {
    /// The results row of these browser clients, measured under `config`'s workload.
    pub fn to_row(&self, config: &LoadConfig) -> Row {
        let totals = self.totals;
        let deliveries = self.deliveries;
        Row {
            scenario: config.scenario.clone(),
            transport: self.transport,
            client: Client::Browser,
            conditions: config.conditions.name.clone(),
            clients: self.clients as u64,
            rate_per_s: config.rate_per_s,
            payload_bytes: config.payload_bytes,
            poll_interval_ms: config.poll_interval.as_millis() as u64,
            room_size: config.effective_room_size(),
            senders: 0,
            send_rate_per_s: 0.0,
            events: self.schedule.last_seq + 1 - self.schedule.first_seq.max(1),
            sends: 0,
            sends_lost: 0,
            deliveries,
            lost: self.lost,
            duplicated: self.duplicated,
            reordered: self.reordered,
            lost_in_gaps: self.lost_in_gaps,
            notes: self.notes(),
            overload: Overload::default(),
            client_errors: 0,
            reconnects: self.reconnects,
            latency_us: Latency::from_histogram(&self.latency_ns),
            ratio_to_floor_p50: None,
            bytes_per_delivery: per(
                totals.bytes_to_clients + totals.bytes_from_clients,
                deliveries,
            ),
            requests_per_delivery: per(totals.http_requests, deliveries),
            server_cpu_us_per_delivery: per(totals.server_cpu_us, deliveries),
            client_cpu_us_per_delivery: 0.0,
            packets_per_delivery: window::segments(&totals).map(|n| per(n, deliveries)),
            kernel_bytes_per_delivery: window::kernel_bytes(&totals).map(|n| per(n, deliveries)),
            meter_kernel_disagreement_pct: window::disagreement_pct(&totals),
            connections: None,
            memory_per_connection_bytes: None,
            memory_per_connection_at_connect_bytes: None,
            kernel_socket_memory_per_connection_bytes: None,
            idle_bytes_per_client_s: None,
            idle_requests_per_client_s: None,
            idle_server_cpu_us_per_client_s: None,
            spread: None,
            totals,
            latency_histogram: self.latency_ns.clone(),
            shards: Vec::new(),
        }
    }

    /// What a reader of the row must know.
    fn notes(&self) -> Vec<String> {
        let mut notes = vec![format!(
            "headless Chromium; whole schedule measured ({} events); latency ± {} µs (clock offset); client CPU not measured",
            self.schedule.last_seq + 1 - self.schedule.first_seq.max(1),
            self.offset_uncertainty_us
        )];
        let (rounds, closed) = self.drops;
        if rounds > 0 {
            notes.push(format!(
                "{closed} connections closed by the server in {rounds} drop rounds"
            ));
        }
        if self.gaps > 0 {
            notes.push(format!("{} sequence numbers skipped", self.gaps));
        }
        notes
    }
}
