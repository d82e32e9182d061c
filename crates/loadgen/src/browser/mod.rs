//! Clients hosted in headless Chromium (Debian's `chromium`, driven over the DevTools protocol
//! with `chromiumoxide`): the browser's own EventSource, WebSocket and fetch, measured like
//! rtbench's Rust clients — each delivery's latency against the event's scheduled time, sequence
//! numbers checked — and handed back as per-transport rows (`docs/browser.md`).
//!
//! Each browser client gets a browser context of its own, with its own connection pool, and in it
//! one page of the server's own origin hosting that client ([`CLIENTS_JS`]). One client per pool
//! because a browser binds a request to whichever idle connection of its pool frees first: two
//! clients of one pool would share connections, and the server's byte meter, which counts a
//! connection under the endpoint of its first request, would count one's bytes as the other's.
//! Same origin, so the browser sends no `Origin` on its GETs and the server serves them as it
//! serves rtbench's clients (lean path, same bytes). The page and the last clock exchange close
//! their connections, so each event client's connection is its own and is counted under its
//! transport (the byte meter tags a connection by its first request). Each page estimates its
//! offset to the server's CLOCK_MONOTONIC with `GET /clock` (smallest round trip kept; its half
//! is the uncertainty, recorded in the row). Transports are measured one after the other, as
//! `rtbench run` measures its own ([`phase`]): a fresh topic's schedule, the server's counters
//! read around it, and each page hands back what its client saw (counts and an HdrHistogram).
//! `rtbench run --clients-in browser` turns the rows into results rows.

mod phase;
mod row;

use crate::control::Target;
use crate::error::LoadError;
use crate::faults::FaultPlan;
use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::page::Page;
use futures_util::StreamExt;
use rtbench_proto::Transport;
use rtbench_proto::control::ScheduleResponse;
use rtbench_results::{LatencyHistogram, Totals};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The page code of the browser clients (`rtbenchOpen`, `rtbenchResults`).
pub const CLIENTS_JS: &str = include_str!("clients.js");
/// The server's empty page the clients run in (`rtbench_server`'s `page.rs`): no favicon, and its
/// connection closes after it.
const CLIENTS_PAGE_PATH: &str = "/page/clients.html";

/// Something the browser run could not do.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// No `chromium` (or `chromium-browser`) on `PATH`.
    #[error("no chromium on PATH (Debian: apt-get install chromium)")]
    NoChromium,
    /// The DevTools protocol failed (launch, page, evaluation).
    #[error("chromium: {0}")]
    Cdp(String),
    /// The page's answer was not what the clients return.
    #[error("browser clients answered unexpectedly: {0}")]
    BadAnswer(String),
    /// The schedule could not be started.
    #[error(transparent)]
    Load(#[from] LoadError),
}

fn cdp(e: impl std::fmt::Display) -> BrowserError {
    BrowserError::Cdp(e.to_string())
}

/// What to run: for each of `transports` in turn, `clients` browser clients on a fresh topic
/// (`{topic}-{transport}`), which a schedule of `events` at `rate_per_s` publishes to.
#[derive(Debug, Clone)]
pub struct BrowserSpec {
    /// Browser clients per transport (one browser context and page each).
    pub clients: usize,
    /// The HTTP transports the clients use (the raw-TCP floor has no browser client).
    pub transports: Vec<Transport>,
    /// Prefix of the topics, one per transport; nothing else may publish to them.
    pub topic: String,
    /// Events the schedule publishes.
    pub events: u64,
    /// Schedule rate, events per second.
    pub rate_per_s: f64,
    /// Payload of each event, in bytes.
    pub payload_bytes: usize,
    /// Interval of the short-poll client's polls, milliseconds.
    pub poll_interval_ms: u64,
    /// Longest the clients wait for the last event after the schedule's end.
    pub grace: Duration,
    /// Connections dropped while events flow: every `drop_every`, `drop_fraction` of the clients'
    /// connections, all closed by the server (`POST /faults/close`; a page cannot be reset from
    /// outside as rtbench's clients are). `restart_server_at` is not used.
    pub faults: FaultPlan,
}

/// One transport's browser clients, summed.
#[derive(Debug, Clone)]
pub struct BrowserRow {
    /// The transport.
    pub transport: Transport,
    /// Clients of it.
    pub clients: usize,
    /// Events delivered, over all its clients.
    pub deliveries: u64,
    /// Events a client never received (scheduled minus delivered, over all its clients).
    pub lost: u64,
    /// Of `lost`, events the server announced as gone with a gap notice.
    pub lost_in_gaps: u64,
    /// Sequence numbers skipped between two deliveries, over all its clients.
    pub gaps: u64,
    /// Receipts of an event the client already had.
    pub duplicated: u64,
    /// Receipts of an event older than one the client already had, not had before.
    pub reordered: u64,
    /// Reconnections the pages saw (EventSource errors it recovered from, WebSocket reopenings,
    /// failed fetches). A browser reopens a closed idle keep-alive connection for a fetch without
    /// telling the page, so a short poll's reconnects are not all seen.
    pub reconnects: u64,
    /// Latency of every delivery, in nanoseconds (the pages' HdrHistograms, added).
    pub latency_ns: LatencyHistogram,
    /// Largest clock-offset uncertainty of its pages, in microseconds: each latency is known
    /// within ± this.
    pub offset_uncertainty_us: u64,
    /// The server's counters over the window: from just before the schedule started to when
    /// every page had answered (the clients' connections were all open before it, and stay open
    /// after it). The client CPU is not measured (0): the browser's processes are not ours.
    pub totals: Totals,
    /// The schedule the server answered.
    pub schedule: ScheduleResponse,
    /// Drop rounds run and connections the server closed in them.
    pub drops: (u64, u64),
}

/// What one page's client of one transport hands back.
#[derive(Debug, Deserialize)]
struct ClientAnswer {
    transport: Transport,
    deliveries: u64,
    /// HdrHistogram V2 in base64, nanoseconds, rtbench's bounds.
    histogram: String,
    gaps: u64,
    duplicated: u64,
    reordered: u64,
    dropped: u64,
    reconnects: u64,
    uncertainty_us: u64,
}

/// The path of Debian's Chromium on `PATH` (`chromium`, or `chromium-browser`).
pub fn chromium() -> Result<PathBuf, BrowserError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .ok_or(BrowserError::NoChromium)
}

/// Evaluates `expression` in `page`, waiting for its promise; its value.
async fn evaluate(page: &Page, expression: String) -> Result<serde_json::Value, BrowserError> {
    let params = EvaluateParams::builder()
        .expression(expression)
        .await_promise(true)
        .return_by_value(true)
        .build()
        .map_err(cdp)?;
    let result = page.evaluate_expression(params).await.map_err(cdp)?;
    Ok(result.value().cloned().unwrap_or_default())
}

/// Opens one client page in a browser context of its own and subscribes its clients; the page and
/// its context (to dispose of once done).
async fn open_page(
    browser: &Browser,
    http: SocketAddr,
    config: &serde_json::Value,
) -> Result<(Page, BrowserContextId), BrowserError> {
    let context = browser
        .create_browser_context(CreateBrowserContextParams::default())
        .await
        .map_err(cdp)?;
    let target = CreateTargetParams::builder()
        .url(format!("http://{http}{CLIENTS_PAGE_PATH}"))
        .browser_context_id(context.clone())
        .build()
        .map_err(cdp)?;
    let page = browser.new_page(target).await.map_err(cdp)?;
    page.wait_for_navigation().await.map_err(cdp)?;
    evaluate(&page, CLIENTS_JS.to_string()).await?;
    evaluate(&page, format!("window.rtbenchOpen({config})")).await?;
    Ok((page, context))
}

/// A headless Chromium of our own, its DevTools event loop, and its profile directory.
struct Launched {
    browser: Browser,
    driver: tokio::task::JoinHandle<()>,
    profile: PathBuf,
}

/// Starts a headless Chromium whose DevTools requests may take up to `request_timeout`.
async fn launch(request_timeout: Duration) -> Result<Launched, BrowserError> {
    // A profile of its own: Chromium refuses a profile another instance holds.
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let profile =
        std::env::temp_dir().join(format!("rtbench-chromium-{}-{run}", std::process::id()));
    let config = BrowserConfig::builder()
        .chrome_executable(chromium()?)
        .no_sandbox()
        .user_data_dir(&profile)
        .request_timeout(request_timeout)
        .arg("--disable-gpu")
        .build()
        .map_err(BrowserError::Cdp)?;
    let (browser, mut handler) = Browser::launch(config).await.map_err(cdp)?;
    let driver = tokio::spawn(async move { while handler.next().await.is_some() {} });
    Ok(Launched {
        browser,
        driver,
        profile,
    })
}

impl Launched {
    /// Closes the browser and removes its profile.
    async fn shut(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        self.driver.abort();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Runs `spec` against the server at `target` in a headless Chromium; one row per transport.
pub async fn measure(target: Target, spec: &BrowserSpec) -> Result<Vec<BrowserRow>, BrowserError> {
    let timeout = Duration::from_millis(phase::deadline_ms(spec)) + Duration::from_secs(30);
    let launched = launch(timeout).await?;
    let result = each_transport(&launched.browser, target, spec).await;
    launched.shut().await;
    result
}

/// The page code's HdrHistogram of `values_ns`, recorded and encoded in Chromium (a blank page,
/// no server) and decoded here: what a page hands back for those latencies.
pub async fn histogram_in_browser(values_ns: &[f64]) -> Result<LatencyHistogram, BrowserError> {
    let launched = launch(Duration::from_secs(30)).await?;
    let result = async {
        let page = launched
            .browser
            .new_page("about:blank")
            .await
            .map_err(cdp)?;
        evaluate(&page, CLIENTS_JS.to_string()).await?;
        let values = serde_json::to_string(values_ns).map_err(cdp)?;
        let text = evaluate(&page, format!("window.rtbenchHistogram({values})")).await?;
        let text = text
            .as_str()
            .ok_or_else(|| BrowserError::BadAnswer(text.to_string()))?;
        rtbench_results::decode_histogram(text).map_err(|e| BrowserError::BadAnswer(e.to_string()))
    }
    .await;
    launched.shut().await;
    result
}

/// One phase per transport of `spec`, in order; stops at the first that fails.
async fn each_transport(
    browser: &Browser,
    target: Target,
    spec: &BrowserSpec,
) -> Result<Vec<BrowserRow>, BrowserError> {
    let mut rows = Vec::with_capacity(spec.transports.len());
    for &transport in &spec.transports {
        rows.push(phase::run(browser, target, spec, transport).await?);
    }
    Ok(rows)
}
