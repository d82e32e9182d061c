//! Network conditions end to end: every transport through the delay proxy (round-trip time, jitter,
//! bandwidth cap) still delivers every event exactly once and in order, and no event arrives before
//! its one-way delay has passed (a bound that holds by construction, not a timing measurement).

mod common;

use common::{TestServer, small_config};
use rtbench_loadgen::{Conditions, Control, run_transport};
use rtbench_proto::Transport;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transport_delivers_everything_through_the_proxy() {
    let server = TestServer::start(false).await;
    let control = Control::new(&server.target).unwrap();
    let mut config = small_config();
    config.conditions = Conditions {
        name: "custom".into(),
        rtt: Duration::from_millis(10),
        jitter: Duration::from_millis(2),
        bandwidth_bps: Some(2_000_000),
    };
    // The delay proxy relays TCP: WebTransport's QUIC (UDP) rows cannot go through it.
    for transport in Transport::ALL
        .into_iter()
        .filter(|t| t.quic_path().is_none())
    {
        let row = tokio::time::timeout(
            Duration::from_secs(60),
            run_transport(transport, &config, &server.target, &control),
        )
        .await
        .expect("phase is bounded")
        .expect("phase runs");
        assert_eq!(row.conditions, "custom");
        assert_eq!(
            (
                row.undelivered(),
                row.duplicated,
                row.reordered,
                row.client_errors
            ),
            (0, 0, 0, 0),
            "{transport}"
        );
        assert_eq!(row.deliveries, 4 * 75, "{transport}");
        assert_eq!(row.reconnects, 0, "{transport}");
        // One way is 5 ms minus at most 2 ms of jitter: nothing can arrive sooner.
        assert!(
            row.latency_us.p50 >= 3_000.0,
            "{transport}: p50 {} µs",
            row.latency_us.p50
        );
        assert!(
            row.totals.bytes_to_clients > 0,
            "{transport}: the server's meter still counts"
        );
    }
}
