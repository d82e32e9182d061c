//! A row's floor, found in one place: the row of [`Transport::FLOOR`] measured under the same
//! workload, and the ratios to it. The load generator fills `ratio_to_floor_p50` with it, the
//! report divides its points by it and the regression gate its timings.
//!
//! A floor shares the row's scenario, network conditions, clients, event rate and payload. The
//! floor does not read the short-poll interval, so any interval matches; where several floors
//! match (the points of a poll-interval sweep), the one measured with the row's interval — the
//! same run — is preferred.

use crate::Row;
use rtbench_proto::Transport;

/// What a floor must share with the row it divides.
#[derive(Debug, Clone, PartialEq)]
pub struct FloorKey {
    /// Scenario name.
    pub scenario: String,
    /// Network conditions.
    pub conditions: String,
    /// Clients subscribed.
    pub clients: u64,
    /// Events published per second.
    pub rate_per_s: f64,
    /// Payload bytes per event.
    pub payload_bytes: usize,
    /// Short-poll interval of the run, milliseconds (only decides between several floors).
    pub poll_interval_ms: u64,
}

impl FloorKey {
    /// The workload `row` was measured under.
    pub fn of(row: &Row) -> FloorKey {
        FloorKey {
            scenario: row.scenario.clone(),
            conditions: row.conditions.clone(),
            clients: row.clients,
            rate_per_s: row.rate_per_s,
            payload_bytes: row.payload_bytes,
            poll_interval_ms: row.poll_interval_ms,
        }
    }

    /// Whether a floor measured under `floor` may divide a row measured under `self`: the same
    /// workload in everything but the poll interval.
    pub fn shares_floor(&self, floor: &FloorKey) -> bool {
        self.scenario == floor.scenario
            && self.conditions == floor.conditions
            && self.clients == floor.clients
            && self.rate_per_s == floor.rate_per_s
            && self.payload_bytes == floor.payload_bytes
    }
}

/// Of `items`, the floor of a row measured under `key`; `of` gives an item's transport and
/// workload. The first floor with `key`'s poll interval wins, else the first floor that matches.
pub fn find<'a, T>(
    items: &'a [T],
    key: &FloorKey,
    of: impl Fn(&T) -> (Transport, FloorKey),
) -> Option<&'a T> {
    let mut any = None;
    for item in items {
        let (transport, k) = of(item);
        if transport != Transport::FLOOR || !key.shares_floor(&k) {
            continue;
        }
        if k.poll_interval_ms == key.poll_interval_ms {
            return Some(item);
        }
        any.get_or_insert(item);
    }
    any
}

/// The floor row of `row` among `rows` (`row` itself when it is a floor row).
pub fn floor_row<'a>(rows: &'a [Row], row: &Row) -> Option<&'a Row> {
    find(rows, &FloorKey::of(row), |r| (r.transport, FloorKey::of(r)))
}

/// `value ÷ floor_value`, when the floor's value is above zero.
pub fn ratio(value: f64, floor_value: f64) -> Option<f64> {
    (floor_value > 0.0).then(|| value / floor_value)
}

/// `f(row) ÷ f(floor)`, when there is a floor with a value above zero.
pub fn ratio_of(row: &Row, floor: Option<&Row>, f: impl Fn(&Row) -> f64) -> Option<f64> {
    floor.and_then(|fl| ratio(f(row), f(fl)))
}

/// Every row's p50 over its floor's p50 among `rows`, in `rows`' order: what the load generator
/// records as `ratio_to_floor_p50` once a point's rows are all measured.
pub fn p50_ratios(rows: &[Row]) -> Vec<Option<f64>> {
    rows.iter()
        .map(|row| ratio_of(row, floor_row(rows, row), |r| r.latency_us.p50))
        .collect()
}

/// `rows` with `ratio_to_floor_p50` set from [`p50_ratios`]: the one place the recorded ratio is
/// computed (the load generator calls it once a point's rows, or an idle run's, are all measured).
pub fn with_p50_ratios(rows: Vec<Row>) -> Vec<Row> {
    let ratios = p50_ratios(&rows);
    rows.into_iter()
        .zip(ratios)
        .map(|(row, ratio_to_floor_p50)| Row {
            ratio_to_floor_p50,
            ..row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::sample;

    fn row(transport: Transport, conditions: &str, poll_ms: u64, p50: f64) -> Row {
        let mut r = sample().rows[0].clone();
        r.transport = transport;
        r.conditions = conditions.into();
        r.poll_interval_ms = poll_ms;
        r.latency_us.p50 = p50;
        r
    }

    #[test]
    fn the_floor_shares_the_workload_and_prefers_the_same_poll_interval() {
        let rows = [
            row(Transport::FLOOR, "loopback", 100, 50.0),
            row(Transport::FLOOR, "lan", 500, 400.0),
            row(Transport::FLOOR, "loopback", 500, 40.0),
            row(Transport::Sse, "loopback", 500, 80.0),
            row(Transport::Sse, "lan", 250, 800.0),
            row(Transport::Sse, "mobile", 500, 9.0),
            row(Transport::ShortPoll, "loopback", 250, 100.0),
        ];
        assert_eq!(
            p50_ratios(&rows),
            [
                Some(1.0),
                Some(1.0),
                Some(1.0),
                Some(2.0),
                Some(2.0),
                None,
                Some(2.0)
            ]
        );
        assert!(std::ptr::eq(floor_row(&rows, &rows[3]).unwrap(), &rows[2]));
        let mut bigger = rows[3].clone();
        bigger.clients += 1;
        assert!(floor_row(&rows, &bigger).is_none());
    }

    #[test]
    fn a_zero_floor_gives_no_ratio() {
        assert_eq!(ratio(5.0, 0.0), None);
        assert_eq!(ratio(5.0, 2.0), Some(2.5));
        let rows = [row(Transport::FLOOR, "loopback", 500, 0.0)];
        assert_eq!(p50_ratios(&rows), [None]);
    }
}
