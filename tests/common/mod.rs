//! Helpers shared by the end-to-end tests: an in-process server on 127.0.0.1:0 that can be
//! restarted on the same addresses, and a small bounded workload.

#![allow(dead_code)]

use rtbench_loadgen::{LoadConfig, RestartServer, Target};
use rtbench_server::ServerSettings;
use rtbench_server::testing::TestServer as Running;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::Mutex;

/// An in-process server that a test can restart on the same addresses, losing its ring.
#[derive(Debug)]
pub struct TestServer {
    /// Where it listens.
    pub target: Target,
    config: ServerSettings,
    running: Mutex<Option<Running>>,
}

impl TestServer {
    /// Starts a server on 127.0.0.1:0 (fault endpoints on when `fault_endpoints`).
    pub async fn start(fault_endpoints: bool) -> TestServer {
        let config = ServerSettings {
            fault_endpoints,
            ..ServerSettings::default()
        };
        let running = Running::start(config.clone()).await.unwrap();
        TestServer {
            target: Target::plain(running.http, running.tcp),
            config,
            running: Mutex::new(Some(running)),
        }
    }
}

impl RestartServer for TestServer {
    fn restart(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move {
            let mut running = self.running.lock().await;
            if let Some(old) = running.take() {
                let _ = tokio::time::timeout(Duration::from_secs(10), old.stop()).await;
            }
            let (http, tcp) = (self.target.http, self.target.tcp);
            let next = Running::start_on(http, tcp, self.config.clone())
                .await
                .map_err(|e| e.to_string())?;
            *running = Some(next);
            Ok(())
        })
    }
}

/// A small workload: 4 clients, 50 events/s, 1.5 s window (75 events), a generous drain.
pub fn small_config() -> LoadConfig {
    LoadConfig {
        clients: 4,
        rate_per_s: 50.0,
        payload_bytes: 64,
        poll_interval: Duration::from_millis(40),
        warmup: Duration::from_millis(200),
        window: Duration::from_millis(1_500),
        tail: Duration::from_millis(100),
        drain: Duration::from_secs(4),
        quiet: true,
        ..LoadConfig::default()
    }
}
