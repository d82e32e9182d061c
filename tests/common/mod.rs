//! Helpers shared by the end-to-end tests: an in-process server on 127.0.0.1:0 that can be
//! restarted on the same addresses, and a small bounded workload.

#![allow(dead_code)]

use rtbench_loadgen::{LoadConfig, RestartServer, Target};
use rtbench_server::{Listeners, Server, ServerConfig};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::{Mutex, oneshot};
use tokio::task::JoinHandle;

/// A running in-process server: its stop signal and its task.
type Running = (oneshot::Sender<()>, JoinHandle<std::io::Result<()>>);

/// An in-process server that a test can restart on the same addresses, losing its ring.
#[derive(Debug)]
pub struct TestServer {
    /// Where it listens.
    pub target: Target,
    config: ServerConfig,
    running: Mutex<Option<Running>>,
}

async fn serve(
    http: tokio::net::TcpListener,
    tcp: tokio::net::TcpListener,
    config: ServerConfig,
) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    let server = Server::new(config);
    let task = tokio::spawn(async move {
        server
            .run(Listeners { http, tcp }, async {
                let _ = stopped.await;
            })
            .await
    });
    (stop, task)
}

impl TestServer {
    /// Starts a server on 127.0.0.1:0 (fault endpoints on when `fault_endpoints`).
    pub async fn start(fault_endpoints: bool) -> TestServer {
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = Target {
            http: http.local_addr().unwrap(),
            tcp: tcp.local_addr().unwrap(),
        };
        let config = ServerConfig {
            fault_endpoints,
            ..ServerConfig::default()
        };
        let running = serve(http, tcp, config.clone()).await;
        TestServer {
            target,
            config,
            running: Mutex::new(Some(running)),
        }
    }
}

impl RestartServer for TestServer {
    fn restart(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move {
            let mut running = self.running.lock().await;
            if let Some((stop, task)) = running.take() {
                let _ = stop.send(());
                let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
            }
            let http = tokio::net::TcpListener::bind(self.target.http)
                .await
                .map_err(|e| e.to_string())?;
            let tcp = tokio::net::TcpListener::bind(self.target.tcp)
                .await
                .map_err(|e| e.to_string())?;
            *running = Some(serve(http, tcp, self.config.clone()).await);
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
