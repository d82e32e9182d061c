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
//! `rtbench run` measures its own ([`phase`]): the same schedule (warm-up, window, tail), the
//! same window rule (a delivery is measured when its event's scheduled time lies in the window),
//! the server's counters read at the window's edges, and each page hands back what its client
//! saw (counts and an HdrHistogram of its windowed deliveries). The browser's CPU is that of
//! every Chromium process ([`cpu`]); reconnects are counted by the server ([`phase`]).
//! `rtbench run --clients-in browser` turns the rows into results rows through the Rust phase's
//! row builder ([`row`]).

mod cpu;
mod phase;
mod row;

use crate::config::LoadConfig;
use crate::control::Target;
use crate::error::LoadError;
use crate::workload::Workload;
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
    /// The workload is not one the browser clients run (one topic, fixed-rate server push).
    #[error("browser clients: {0}")]
    Workload(String),
}

fn cdp(e: impl std::fmt::Display) -> BrowserError {
    BrowserError::Cdp(e.to_string())
}

/// What to run: for each of `config.transports` in turn, `config.clients` browser clients on a
/// fresh topic (`{topic}-{transport}`), which the schedule of `config` publishes to — the
/// schedule a Rust-client phase of `config` runs, event for event.
#[derive(Debug, Clone)]
pub struct BrowserSpec {
    /// The workload: clients per transport (one browser context and page each), the HTTP
    /// transports (the raw-TCP floor has no browser client), rate, payload, poll interval,
    /// warm-up, window, tail, drain and fault plan. One topic at a fixed rate, server push only.
    /// Its drops (`drop_fraction` every `drop_every`) are all closed by the server
    /// (`POST /faults/close`): a page cannot be reset from outside as rtbench's clients are.
    pub config: LoadConfig,
    /// Prefix of the topics, one per transport; nothing else may publish to them.
    pub topic: String,
    /// Longest the clients wait for the last event beyond the schedule's end and the drain.
    pub grace: Duration,
}

/// One transport's browser clients, summed.
#[derive(Debug, Clone)]
pub struct BrowserRow {
    /// The transport.
    pub transport: Transport,
    /// Clients of it.
    pub clients: usize,
    /// Deliveries of events scheduled inside the window (first receipts), over all its clients:
    /// the row's deliveries, each with its latency in `latency_ns`.
    pub deliveries: u64,
    /// First receipts of any event of the schedule (warm-up and tail too), over all its clients.
    pub received: u64,
    /// Events a client never received, over the whole schedule (scheduled minus received, over
    /// all its clients), as the Rust rows count loss.
    pub lost: u64,
    /// Of `lost`, events the server announced as gone with a gap notice.
    pub lost_in_gaps: u64,
    /// Sequence numbers skipped between two deliveries, over all its clients.
    pub gaps: u64,
    /// Receipts of an event the client already had.
    pub duplicated: u64,
    /// Receipts of an event older than one the client already had, not had before.
    pub reordered: u64,
    /// Reconnections, as counted by `reconnects_source`: the pages' count where a page sees
    /// every one, the server's where it cannot.
    pub reconnects: u64,
    /// Who counted `reconnects`.
    pub reconnects_source: ReconnectsSource,
    /// Reconnections the pages saw (EventSource errors it recovered from, WebSocket reopenings,
    /// failed fetches).
    pub page_reconnects: u64,
    /// Connections the server accepted for the transport from before the pages opened to after
    /// they answered, minus one first connection per client: every connection the browser
    /// opened again, and any extra one it opened on its own.
    pub server_reconnects: u64,
    /// Latency of every windowed delivery, in nanoseconds (the pages' HdrHistograms, added).
    pub latency_ns: LatencyHistogram,
    /// Largest clock-offset uncertainty of its pages, in microseconds: each latency is known
    /// within ± this.
    pub offset_uncertainty_us: u64,
    /// The server's counters over the window, read in the quiet gaps at its edges as a Rust
    /// phase reads them; `client_cpu_us` is the CPU of every Chromium process over the same span.
    pub totals: Totals,
    /// Chromium processes counted in `totals.client_cpu_us` (at the window's end).
    pub browser_processes: usize,
    /// The schedule the server answered.
    pub schedule: ScheduleResponse,
    /// The measured window `[from, to)` in the server's CLOCK_MONOTONIC, nanoseconds: a delivery
    /// is measured when its event's scheduled time lies in it.
    pub window_ns: (u64, u64),
    /// Drop rounds run and connections the server closed in them.
    pub drops: (u64, u64),
    /// The phase's schedule as a Rust phase builds it (window, events in it).
    workload: Workload,
}

/// Who counted a browser row's reconnects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconnectsSource {
    /// The pages: an EventSource reports every error it recovers from, a WebSocket every close.
    Page,
    /// The server: a browser reopens a closed idle keep-alive connection for a fetch without
    /// telling the page, so a fetch client's reconnects are the new connections the server
    /// accepted.
    Server,
}

impl ReconnectsSource {
    /// Who can count `transport`'s browser reconnects.
    pub fn of(transport: Transport) -> ReconnectsSource {
        match transport {
            Transport::Sse | Transport::WebSocket => ReconnectsSource::Page,
            _ => ReconnectsSource::Server,
        }
    }
}

/// What one page's client of one transport hands back.
#[derive(Debug, Deserialize)]
struct ClientAnswer {
    transport: Transport,
    /// First receipts, whole schedule.
    deliveries: u64,
    /// First receipts of events scheduled inside the window.
    window_deliveries: u64,
    /// Whether the page was told the window before it answered.
    window_known: bool,
    /// HdrHistogram V2 in base64 of the windowed deliveries, nanoseconds, rtbench's bounds.
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

/// A headless Chromium of our own, its DevTools event loop, its profile directory, and the pid
/// of the process launched (the root of its process tree).
struct Launched {
    browser: Browser,
    driver: tokio::task::JoinHandle<()>,
    profile: PathBuf,
    pid: Option<u32>,
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
    let (mut browser, mut handler) = Browser::launch(config).await.map_err(cdp)?;
    let pid = browser
        .get_mut_child()
        .and_then(|child| child.as_mut_inner().id());
    let driver = tokio::spawn(async move { while handler.next().await.is_some() {} });
    Ok(Launched {
        browser,
        driver,
        profile,
        pid,
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
    let workload = Workload::build_tagged(&spec.config, spec.topic.clone())
        .map_err(|e| BrowserError::Workload(e.to_string()))?;
    let timeout =
        Duration::from_millis(phase::deadline_ms(spec, &workload)) + Duration::from_secs(30);
    let launched = launch(timeout).await?;
    let result = each_transport(&launched, target, spec).await;
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
    launched: &Launched,
    target: Target,
    spec: &BrowserSpec,
) -> Result<Vec<BrowserRow>, BrowserError> {
    let mut rows = Vec::with_capacity(spec.config.transports.len());
    for &transport in &spec.config.transports {
        let browser = (&launched.browser, launched.pid);
        rows.push(phase::run(browser, target, spec, transport).await?);
    }
    Ok(rows)
}
