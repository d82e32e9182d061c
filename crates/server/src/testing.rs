//! An in-process server on loopback for tests and benchmarks (cargo feature `testing`): the one
//! starter every test suite shares, so none hand-builds listeners, a shutdown channel and a task.
//!
//! [`TestServer`] runs on the caller's tokio runtime; [`ThreadedTestServer`] on a runtime and
//! thread of its own, so the clients a benchmark measures never share its executor (as in a real
//! run, where the server is another process).

use crate::server::Listeners;
use crate::state::Server;
use rtbench_proto::ServerSettings;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long [`TestServer::stop`] waits for the server to finish (its own drain takes up to 2 s).
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// Binds both listeners: `http` and `tcp` may be port 0 (any free port).
async fn bind(http: SocketAddr, tcp: SocketAddr) -> io::Result<Listeners> {
    Ok(Listeners {
        http: TcpListener::bind(http).await?,
        tcp: TcpListener::bind(tcp).await?,
    })
}

/// 127.0.0.1, any free port.
fn any_loopback() -> SocketAddr {
    ([127, 0, 0, 1], 0).into()
}

/// A server running on the caller's runtime until [`TestServer::stop`] or drop.
#[derive(Debug)]
pub struct TestServer {
    /// Address of the HTTP listener.
    pub http: SocketAddr,
    /// Address of the raw-TCP listener.
    pub tcp: SocketAddr,
    /// The server, e.g. for publishing straight into its hub.
    pub server: Server,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl TestServer {
    /// Starts a server with `settings` on 127.0.0.1, any free ports.
    pub async fn start(settings: ServerSettings) -> io::Result<TestServer> {
        Self::start_on(any_loopback(), any_loopback(), settings).await
    }

    /// Starts a server with `settings` on `http` and `tcp` (e.g. a stopped server's addresses),
    /// with TLS when `settings.tls` asks for it (see [`Server::try_new`]).
    pub async fn start_on(
        http: SocketAddr,
        tcp: SocketAddr,
        settings: ServerSettings,
    ) -> io::Result<TestServer> {
        let server = Server::try_new(settings).map_err(io::Error::other)?;
        Self::serve(server, bind(http, tcp).await?)
    }

    /// Serves an already built `server` (e.g. with a publisher started) on 127.0.0.1.
    pub async fn serve_on_loopback(server: Server) -> io::Result<TestServer> {
        Self::serve(server, bind(any_loopback(), any_loopback()).await?)
    }

    fn serve(server: Server, listeners: Listeners) -> io::Result<TestServer> {
        let http = listeners.http.local_addr()?;
        let tcp = listeners.tcp.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = server.clone();
        let task = tokio::spawn(async move {
            serving
                .run(listeners, async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(TestServer {
            http,
            tcp,
            server,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    /// `ws://127.0.0.1:PORT{path}`.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.http)
    }

    /// Starts shutdown and waits (at most 15 s) for the server to finish; its listeners are
    /// closed when this returns, so a new server may bind the same addresses.
    pub async fn stop(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(task) = self.task.take() else {
            return Ok(());
        };
        match tokio::time::timeout(STOP_TIMEOUT, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(io::Error::other(join)),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "test server did not stop within 15 s",
            )),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A server on a one-worker runtime and thread of its own; shut down when dropped.
#[derive(Debug)]
pub struct ThreadedTestServer {
    /// The server (on its own runtime), e.g. for publishing straight into its hub.
    pub server: Server,
    /// Address of the HTTP listener.
    pub http: SocketAddr,
    /// Address of the raw-TCP listener.
    pub tcp: SocketAddr,
    runtime: Option<Runtime>,
    stop: Option<oneshot::Sender<()>>,
}

impl ThreadedTestServer {
    /// Starts a server with `settings` on 127.0.0.1, any free ports, on its own runtime.
    pub fn start(settings: ServerSettings) -> io::Result<ThreadedTestServer> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("test-server")
            .enable_all()
            .build()?;
        let started = runtime.block_on(TestServer::start(settings))?;
        let mut started = started;
        let stop = started.stop.take();
        // The task runs on; the handle is not needed to stop it (drop sends the signal).
        drop(started.task.take());
        Ok(ThreadedTestServer {
            server: started.server.clone(),
            http: started.http,
            tcp: started.tcp,
            runtime: Some(runtime),
            stop,
        })
    }
}

impl Drop for ThreadedTestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(3));
        }
    }
}
