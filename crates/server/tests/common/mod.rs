//! Shared helpers of the end-to-end tests: a real server on 127.0.0.1:0 and small clients.

#![allow(dead_code)]

pub mod raw;

use reqwest::StatusCode;
use rtbench_proto::metrics::{Sample, parse_text};
use rtbench_server::{ServerSettings, testing};
use std::future::Future;
use std::net::SocketAddr;
use std::ops::Deref;
use std::time::Duration;

/// Upper bound on any single step of a test.
pub const STEP: Duration = Duration::from_secs(10);

/// A server running on loopback until dropped or [`TestServer::stop`]ped: the crate's own test
/// server, plus the requests these tests make of it.
pub struct TestServer(testing::TestServer);

impl Deref for TestServer {
    type Target = testing::TestServer;

    fn deref(&self) -> &testing::TestServer {
        &self.0
    }
}

impl TestServer {
    /// Starts a server with the default configuration.
    pub async fn start() -> Self {
        Self::with_config(ServerSettings::default()).await
    }

    /// Starts a server with `config`.
    pub async fn with_config(config: ServerSettings) -> Self {
        TestServer(testing::TestServer::start(config).await.unwrap())
    }

    /// Triggers shutdown and waits (bounded) for the server to finish.
    pub async fn stop(self) {
        self.0.stop().await.unwrap();
    }

    /// Publishes `payload` to `topic` over HTTP on a fresh connection; returns its seq.
    pub async fn publish(&self, topic: &str, payload: &str) -> u64 {
        let resp = within(
            STEP,
            client()
                .post(self.url(&format!("/publish?topic={topic}")))
                .body(payload.to_string())
                .send(),
        )
        .await
        .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let v: serde_json::Value = resp.json().await.unwrap();
        v["seq"].as_u64().unwrap()
    }

    /// Scrapes `/metrics` on a fresh connection.
    pub async fn metrics(&self) -> Vec<Sample> {
        Self::metrics_at(self.http).await
    }

    /// Scrapes `/metrics` of the server at `http` on a fresh connection.
    pub async fn metrics_at(http: SocketAddr) -> Vec<Sample> {
        let url = format!("http://{http}/metrics");
        let resp = within(STEP, client().get(url).send()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        parse_text(&resp.text().await.unwrap())
    }

    /// Asserts the server still answers a good request on a new connection.
    pub async fn assert_healthy(&self) {
        let resp = within(STEP, client().get(self.url("/healthz")).send())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.text().await.unwrap(), "ok");
    }
}

/// Value of series `name` for `transport` (or unlabelled when `None`) in a scrape.
pub fn sample(samples: &[Sample], name: &str, transport: Option<&str>) -> f64 {
    samples
        .iter()
        .find(|s| s.name == name && s.transport.as_deref() == transport)
        .unwrap_or_else(|| panic!("no sample {name} {transport:?}"))
        .value
}

/// A reqwest client that opens a new connection for every request and ignores proxies.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// Awaits `fut` for at most `limit`, panicking with a clear message otherwise.
pub async fn within<F: Future>(limit: Duration, fut: F) -> F::Output {
    tokio::time::timeout(limit, fut)
        .await
        .expect("test step timed out")
}

/// Asserts `resp` has `status` and a one-line JSON body with a string "error" field.
pub async fn assert_json_error(resp: reqwest::Response, status: StatusCode) {
    assert_eq!(resp.status(), status);
    let ctype = resp
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(ctype, "application/json");
    let text = resp.text().await.unwrap();
    assert!(
        !text.contains('\n'),
        "error body must be one line: {text:?}"
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), 1, "only an error field: {text}");
    assert!(!obj["error"].as_str().unwrap().is_empty());
}

/// The payloads of parsed canonical bodies, in order.
pub fn payloads(bodies: &[Vec<u8>]) -> Vec<String> {
    bodies
        .iter()
        .map(|b| rtbench_proto::parse_body(b).unwrap().payload.into_owned())
        .collect()
}
