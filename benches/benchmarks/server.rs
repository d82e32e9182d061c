//! An in-process rtbench server on 127.0.0.1:0, on a runtime and thread of its own so that the
//! clients being measured never share its executor (as in a real run, where it is another process).

use rtbench_server::{Listeners, Server, ServerConfig};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

/// A running server; shut down when dropped.
pub struct InProcess {
    /// The server, for publishing straight into its hub.
    pub server: Server,
    /// HTTP listener address.
    pub http: SocketAddr,
    /// Raw-TCP listener address.
    pub tcp: SocketAddr,
    runtime: Option<Runtime>,
    stop: Option<oneshot::Sender<()>>,
}

impl InProcess {
    /// Starts a server with the default configuration on one worker thread.
    pub fn start() -> InProcess {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("bench-server")
            .enable_all()
            .build()
            .expect("server runtime");
        let listeners = runtime.block_on(async {
            Listeners {
                http: tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind http"),
                tcp: tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind tcp"),
            }
        });
        let http = listeners.http.local_addr().expect("http address");
        let tcp = listeners.tcp.local_addr().expect("tcp address");
        let server = Server::new(ServerConfig::default());
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = server.clone();
        runtime.spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            serving.run(listeners, shutdown).await
        });
        InProcess {
            server,
            http,
            tcp,
            runtime: Some(runtime),
            stop: Some(stop),
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(3));
        }
    }
}
