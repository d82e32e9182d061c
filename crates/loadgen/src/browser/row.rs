//! A browser row as a results row (`client: browser`), beside the Rust clients' rows of the same
//! workload: built by the Rust phase's own row builder ([`crate::phase::build_row`]) from the same
//! kinds of figures (windowed deliveries and latencies, loss over the whole schedule, the server's
//! counters over the window, the load generator's CPU — here every Chromium process's), with
//! notes saying what differs: the latency's clock uncertainty, what the CPU is, where the
//! reconnects were counted, the connections the server dropped.

use super::{BrowserRow, ReconnectsSource};
use crate::config::LoadConfig;
use crate::faults::notes::RowNotes;
use crate::phase::{Counted, build_row};
use rtbench_results::{Client, Overload, Row};

impl BrowserRow {
    /// The results row of these browser clients, measured under `config`'s workload.
    pub fn to_row(&self, config: &LoadConfig) -> Row {
        let counted = Counted {
            hist: self.latency_ns.clone(),
            lost: self.lost,
            duplicated: self.duplicated,
            reordered: self.reordered,
            client_errors: config.clients.saturating_sub(self.clients as u64),
        };
        let notes = RowNotes {
            conditions: config.conditions.name.clone(),
            reconnects: self.reconnects,
            lost_in_gaps: self.lost_in_gaps,
            notes: self.notes(),
        };
        let mut row = build_row(
            self.transport,
            (config, &self.workload),
            counted,
            (notes, Overload::default()),
            0,
            self.totals,
        );
        row.client = Client::Browser;
        row
    }

    /// What a reader of the row must know.
    fn notes(&self) -> Vec<String> {
        let counted = match self.reconnects_source {
            ReconnectsSource::Page => format!(
                "counted by the pages (the server accepted {} new connections)",
                self.server_reconnects
            ),
            ReconnectsSource::Server => format!(
                "counted by the server as new connections (the pages saw {})",
                self.page_reconnects
            ),
        };
        let mut notes = vec![format!(
            "headless Chromium: latency ± {} (clock offset); cli CPU is browser CPU (all {} Chromium processes); {} reconnects, {counted}",
            uncertainty(self.offset_uncertainty_us),
            self.browser_processes,
            self.reconnects,
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

/// A clock-offset uncertainty as a reader takes it in: `850 µs`, `8.2 ms`.
fn uncertainty(us: u64) -> String {
    if us < 1_000 {
        format!("{us} µs")
    } else {
        format!("{:.1} ms", us as f64 / 1_000.0)
    }
}
