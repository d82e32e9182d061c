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
//! is the uncertainty, recorded in the row). Then a fresh topic's schedule is started with
//! `POST /schedule` and each page hands back what its clients saw.
//!
//! Not yet wired into `rtbench run` (`--clients-in browser`): [`measure`] is the building block.

use crate::control::{Control, Target};
use crate::error::LoadError;
use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::page::Page;
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use rtbench_proto::Transport;
use rtbench_proto::control::ScheduleRequest;
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
/// Clock exchanges each page makes before it subscribes.
const CLOCK_PINGS: u32 = 16;
/// Interval of the browser's short polls, in milliseconds.
pub const SHORT_POLL_INTERVAL_MS: u64 = 100;
/// Highest latency a row's histogram holds, in microseconds (one minute).
const MAX_LATENCY_US: u64 = 60_000_000;

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

/// What to run: `clients` browser clients of each of `transports` on one fresh topic, which a
/// schedule of `events` at `rate_per_s` publishes to.
#[derive(Debug, Clone)]
pub struct BrowserSpec {
    /// Browser clients per transport (one browser context and page each).
    pub clients: usize,
    /// The HTTP transports the clients use (the raw-TCP floor has no browser client).
    pub transports: Vec<Transport>,
    /// A topic nothing else publishes to.
    pub topic: String,
    /// Events the schedule publishes.
    pub events: u64,
    /// Schedule rate, events per second.
    pub rate_per_s: f64,
    /// Payload of each event, in bytes.
    pub payload_bytes: usize,
    /// Longest the clients wait for the last event after the schedule's end.
    pub grace: Duration,
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
    /// Sequence numbers skipped between two deliveries, over all its clients.
    pub gaps: u64,
    /// Deliveries at or below a sequence number already delivered.
    pub out_of_order: u64,
    /// Reconnections (EventSource errors it recovered from, WebSocket reopenings, failed fetches).
    pub reconnects: u64,
    /// Latency of every delivery, in microseconds.
    pub latency_us: Histogram<u64>,
    /// Largest clock-offset uncertainty of its pages, in microseconds: each latency is known
    /// within ± this.
    pub offset_uncertainty_us: u64,
}

/// What one page's client of one transport hands back.
#[derive(Debug, Deserialize)]
struct ClientAnswer {
    transport: Transport,
    deliveries: u64,
    latencies_us: Vec<u64>,
    gaps: u64,
    out_of_order: u64,
    dropped: u64,
    reconnects: u64,
    uncertainty_us: u64,
}

/// The path of Debian's Chromium on `PATH`.
fn chromium() -> Result<PathBuf, BrowserError> {
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

/// Opens one client page in a browser context of its own and subscribes its clients.
async fn open_page(
    browser: &Browser,
    http: SocketAddr,
    config: &serde_json::Value,
) -> Result<Page, BrowserError> {
    let context = browser
        .create_browser_context(CreateBrowserContextParams::default())
        .await
        .map_err(cdp)?;
    let target = CreateTargetParams::builder()
        .url(format!("http://{http}{CLIENTS_PAGE_PATH}"))
        .browser_context_id(context)
        .build()
        .map_err(cdp)?;
    let page = browser.new_page(target).await.map_err(cdp)?;
    page.wait_for_navigation().await.map_err(cdp)?;
    evaluate(&page, CLIENTS_JS.to_string()).await?;
    evaluate(&page, format!("window.rtbenchOpen({config})")).await?;
    Ok(page)
}

/// Runs `spec` against the server at `target` in a headless Chromium; one row per transport.
pub async fn measure(target: Target, spec: &BrowserSpec) -> Result<Vec<BrowserRow>, BrowserError> {
    let run_ms = (spec.events as f64 / spec.rate_per_s * 1000.0).ceil() as u64;
    let deadline_ms = run_ms + spec.grace.as_millis() as u64 + START_IN_MS;
    // A profile of its own: Chromium refuses a profile another instance holds.
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let profile =
        std::env::temp_dir().join(format!("rtbench-chromium-{}-{run}", std::process::id()));
    let config = BrowserConfig::builder()
        .chrome_executable(chromium()?)
        .no_sandbox()
        .user_data_dir(&profile)
        .request_timeout(Duration::from_millis(deadline_ms) + Duration::from_secs(30))
        .arg("--disable-gpu")
        .build()
        .map_err(BrowserError::Cdp)?;
    let (mut browser, mut handler) = Browser::launch(config).await.map_err(cdp)?;
    let driver = tokio::spawn(async move { while handler.next().await.is_some() {} });
    let result = run_pages(&browser, target, spec, deadline_ms).await;
    let _ = browser.close().await;
    let _ = browser.wait().await;
    driver.abort();
    let _ = std::fs::remove_dir_all(&profile);
    result
}

/// Delay between starting the schedule and its first event, in milliseconds.
const START_IN_MS: u64 = 500;

async fn run_pages(
    browser: &Browser,
    target: Target,
    spec: &BrowserSpec,
    deadline_ms: u64,
) -> Result<Vec<BrowserRow>, BrowserError> {
    let mut pages = Vec::with_capacity(spec.clients * spec.transports.len());
    for _ in 0..spec.clients {
        for &transport in &spec.transports {
            let config = serde_json::json!({
                "topic": spec.topic, "after": 0, "last_seq": spec.events,
                "transports": [transport], "poll_interval_ms": SHORT_POLL_INTERVAL_MS,
                "deadline_ms": deadline_ms, "clock_pings": CLOCK_PINGS,
            });
            pages.push(open_page(browser, target.http, &config).await?);
        }
    }
    let schedule = ScheduleRequest {
        topic: spec.topic.clone(),
        rate_per_s: spec.rate_per_s,
        payload_bytes: spec.payload_bytes,
        events: spec.events,
        start_in_ms: START_IN_MS,
    };
    Control::new(&target)?.schedule(&schedule).await?;
    let answers = futures_util::future::join_all(
        pages
            .iter()
            .map(|page| evaluate(page, "window.rtbenchResults()".into())),
    )
    .await;
    let mut clients = Vec::new();
    for answer in answers {
        let answer: Vec<ClientAnswer> =
            serde_json::from_value(answer?).map_err(|e| BrowserError::BadAnswer(e.to_string()))?;
        clients.extend(answer);
    }
    Ok(rows(spec, clients))
}

/// Sums the clients' answers into one row per transport of `spec`.
fn rows(spec: &BrowserSpec, clients: Vec<ClientAnswer>) -> Vec<BrowserRow> {
    spec.transports
        .iter()
        .map(|&transport| {
            let mut row = BrowserRow {
                transport,
                clients: 0,
                deliveries: 0,
                lost: 0,
                gaps: 0,
                out_of_order: 0,
                reconnects: 0,
                latency_us: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
                    .expect("valid histogram bounds"),
                offset_uncertainty_us: 0,
            };
            for c in clients.iter().filter(|c| c.transport == transport) {
                row.clients += 1;
                row.deliveries += c.deliveries;
                row.lost += spec.events.saturating_sub(c.deliveries).max(c.dropped);
                row.gaps += c.gaps;
                row.out_of_order += c.out_of_order;
                row.reconnects += c.reconnects;
                row.offset_uncertainty_us = row.offset_uncertainty_us.max(c.uncertainty_us);
                for &us in &c.latencies_us {
                    row.latency_us
                        .saturating_record(us.clamp(1, MAX_LATENCY_US));
                }
            }
            row
        })
        .collect()
}
