//! The idle scenario against a real server on 127.0.0.1:0: a row per transport with the
//! connections held and every idle figure present; the polling transports keep asking while the
//! push transports stay silent. Socket.IO's two rows are there too (memory per idle connection).
//! No timing is asserted.

mod common;
use rtbench_loadgen::{IdleConfig, run_idle};
use rtbench_proto::Transport;
use std::time::Duration;

const N: u64 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_scenario_reports_every_transport() {
    let server = common::TestServer::start(false).await;
    let target = server.target;
    let config = IdleConfig {
        connections: N,
        idle_window: Duration::from_millis(500),
        poll_interval: Duration::from_millis(50),
        longpoll_timeout: Duration::from_millis(200),
        quiet: true,
        transports: Transport::ALL.to_vec(),
        ..IdleConfig::default()
    };
    let rows = tokio::time::timeout(Duration::from_secs(120), run_idle(&config, &target))
        .await
        .expect("the scenario is bounded")
        .expect("the scenario runs");
    assert_eq!(rows.len(), Transport::ALL.len());
    for (row, t) in rows.iter().zip(Transport::ALL) {
        let name = t.as_str();
        assert_eq!(
            (row.scenario.as_str(), row.transport.as_str()),
            ("idle", name)
        );
        assert_eq!((row.connections, row.clients), (Some(N), N), "{name}");
        assert_eq!((row.client_errors, row.deliveries), (0, 0), "{name}");
        assert!(row.memory_per_connection_bytes.is_some(), "{name}");
        assert!(row.totals.rss_growth_bytes.is_some(), "{name}");
        assert!(row.idle_bytes_per_client_s.is_some(), "{name}");
        assert!(row.idle_server_cpu_us_per_client_s.is_some(), "{name}");
        // UDP has no TCP_INFO: WebTransport's rows are not cross-checked by the kernel.
        assert_eq!(
            row.meter_kernel_disagreement_pct.is_some(),
            t.quic_path().is_none(),
            "{name}"
        );
        assert!(row.totals.window_us > 0, "{name}");
        let requests = row.idle_requests_per_client_s.expect("measured");
        match t {
            Transport::ShortPoll | Transport::LongPoll => {
                assert!(requests > 0.0, "{name} asks while idle");
                assert!(row.totals.bytes_to_clients > 0, "{name}");
            }
            // Socket.IO's polling client holds one GET, answered at the 25 s ping at the soonest.
            Transport::Tcp
            | Transport::WebSocket
            | Transport::Sse
            | Transport::SocketIo
            | Transport::SocketIoPolling
            | Transport::WebTransport
            | Transport::WebTransportDatagram => {
                assert_eq!(requests, 0.0, "{name} makes no request while idle");
            }
        }
    }
    let tcp = &rows[0];
    assert_eq!(
        tcp.totals.bytes_to_clients + tcp.totals.bytes_from_clients,
        0
    );
}
