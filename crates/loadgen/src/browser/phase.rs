//! One transport's browser phase, run as a Rust-client phase is ([`crate::phase`]): `clients`
//! pages, each hosting one client of the transport and subscribed to the phase's fresh topic; the
//! same schedule (the Rust phase's [`Workload`]: warm-up, window, tail, started by the same
//! `POST /schedule`); the same window rule, told to each page once the schedule's time zero is
//! known (a delivery is measured when its event's scheduled time lies in the window: warm-up and
//! tail deliveries are checked for order and loss but not measured); the server's counters read
//! in the quiet gaps at the window's edges, with the CPU of every Chromium process ([`TreeCpu`]);
//! connections dropped meanwhile when the fault plan says so; the pages' answers summed into one
//! [`BrowserRow`].
//!
//! Reconnects are counted where every one is seen ([`ReconnectsSource`]): by the pages for
//! EventSource (each error it recovers from) and WebSocket (each close), by the server for the
//! fetch clients: the connections it accepted for the transport from before the pages opened to
//! after they answered, minus one first connection per client, because Chromium reopens a closed
//! keep-alive connection for the next fetch without telling the page.

use super::cpu::TreeCpu;
use super::{
    BrowserError, BrowserRow, BrowserSpec, ClientAnswer, ReconnectsSource, evaluate, open_page,
};
use crate::control::{Control, Snapshot, Target};
use crate::error::LoadError;
use crate::faults::FaultPlan;
use crate::phase::sleep_until_mono;
use crate::workload::{Workload, start::SCHEDULE_LEAD_MS};
use chromiumoxide::Page;
use chromiumoxide::browser::Browser;
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use rtbench_proto::Transport;
use rtbench_proto::control::ScheduleResponse;
use rtbench_proto::mono_now_ns;
use rtbench_results::histogram::new_histogram;
use std::time::Duration;

/// Clock exchanges each page makes before it subscribes.
const CLOCK_PINGS: u32 = 16;

/// How long a page waits for its client's last event once asked (just after the schedule
/// started), milliseconds: the schedule's lead and span, the drain and the grace.
pub(super) fn deadline_ms(spec: &BrowserSpec, workload: &Workload) -> u64 {
    let span =
        Duration::from_millis(SCHEDULE_LEAD_MS) + Duration::from_nanos(workload.last_offset());
    (span + spec.config.drain + spec.grace).as_millis() as u64
}

/// What one phase works with.
struct Phase<'a> {
    control: Control,
    pages: &'a [(Page, BrowserContextId)],
    spec: &'a BrowserSpec,
    transport: Transport,
    workload: &'a Workload,
    /// The launched Chromium's pid: the root of the process tree whose CPU is measured.
    browser_pid: Option<u32>,
    /// The server's counters before any page of the phase opened.
    before: Snapshot,
}

/// Runs `transport`'s phase of `spec` in `browser` (launched as process `pid`); its pages are
/// closed afterwards, whatever happened.
pub(super) async fn run(
    (browser, browser_pid): (&Browser, Option<u32>),
    target: Target,
    spec: &BrowserSpec,
    transport: Transport,
) -> Result<BrowserRow, BrowserError> {
    let topic = format!("{}-{}", spec.topic, transport.as_str());
    let workload = Workload::build_tagged(&spec.config, topic.clone())
        .map_err(|e| BrowserError::Workload(e.to_string()))?;
    if workload.rooms.len() != 1 || !workload.sends.is_empty() {
        return Err(BrowserError::Workload(
            "one topic of server push only (no rooms, no client messages)".into(),
        ));
    }
    let config = serde_json::json!({
        "topic": topic, "after": 0, "last_seq": workload.room_events[0],
        "transports": [transport], "poll_interval_ms": spec.config.poll_interval.as_millis() as u64,
        "deadline_ms": deadline_ms(spec, &workload), "clock_pings": CLOCK_PINGS,
    });
    let control = Control::new(&target)?;
    let before = control.scrape_patiently().await?;
    let mut pages = Vec::with_capacity(spec.config.clients as usize);
    let mut result = Ok(());
    for _ in 0..spec.config.clients {
        match open_page(browser, target.http, &config).await {
            Ok(page) => pages.push(page),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    let phase = Phase {
        control,
        pages: &pages,
        spec,
        transport,
        workload: &workload,
        browser_pid,
        before,
    };
    let result = match result {
        Ok(()) => phase.measure().await,
        Err(e) => Err(e),
    };
    for (page, context) in pages {
        let _ = evaluate(&page, "window.rtbenchClose()".into()).await;
        let _ = page.close().await;
        let _ = browser.dispose_browser_context(context).await;
    }
    result
}

/// The counters and the browser's CPU at the window's edges.
struct Edges {
    m0: Snapshot,
    m1: Snapshot,
    /// Every Chromium process's CPU between the two readings, microseconds.
    browser_cpu_us: u64,
    /// Chromium processes at the second reading.
    browser_processes: usize,
    window_us: u64,
}

impl Phase<'_> {
    /// Starts the schedule, tells the pages the window, reads the edges, gathers the answers.
    async fn measure(&self) -> Result<BrowserRow, BrowserError> {
        let (start, schedule) = self
            .workload
            .start(&self.spec.config, &self.control)
            .await?;
        let schedule = schedule.ok_or_else(|| {
            BrowserError::Workload("a fixed-rate schedule on one topic only".into())
        })?;
        let (from, to) = self.workload.window;
        let window_ns = (start + from, start + to);
        let tell = format!("window.rtbenchWindow({}, {})", window_ns.0, window_ns.1);
        for answer in self.each_page(&tell).await {
            answer?;
        }
        let drops = tokio::spawn(drop_rounds(
            self.control.clone(),
            self.spec.config.faults.clone(),
            (self.transport, self.spec.config.clients),
            schedule.clone(),
        ));
        let (answers, edges) =
            tokio::join!(self.each_page("window.rtbenchResults()"), self.edges(start));
        let edges = edges?;
        // The drop task ends with the schedule's last event, before the last page can answer.
        let drops = drops
            .await
            .map_err(|e| BrowserError::Cdp(format!("drop task: {e}")))?;
        let after = self.control.scrape_patiently().await?;
        let mut clients = Vec::with_capacity(self.pages.len());
        for answer in answers {
            let answer: Vec<ClientAnswer> = serde_json::from_value(answer?)
                .map_err(|e| BrowserError::BadAnswer(e.to_string()))?;
            clients.extend(answer);
        }
        let mut row = self.sum(&clients)?;
        let t = self.transport.index();
        let accepted = (after.transports[t].connections_accepted)
            .saturating_sub(self.before.transports[t].connections_accepted);
        row.server_reconnects = accepted.saturating_sub(self.spec.config.clients);
        row.reconnects = match row.reconnects_source {
            ReconnectsSource::Page => row.page_reconnects,
            ReconnectsSource::Server => row.server_reconnects,
        };
        row.totals = crate::window::totals(
            self.transport,
            &edges.m0,
            &edges.m1,
            edges.browser_cpu_us,
            edges.window_us,
        );
        row.browser_processes = edges.browser_processes;
        (row.schedule, row.window_ns, row.drops) = (schedule, window_ns, drops);
        Ok(row)
    }

    /// Evaluates `expression` in every page at once; their values, in page order.
    async fn each_page(&self, expression: &str) -> Vec<Result<serde_json::Value, BrowserError>> {
        futures_util::future::join_all(
            self.pages
                .iter()
                .map(|(page, _)| evaluate(page, expression.to_string())),
        )
        .await
    }

    /// Reads the server's counters and the browser's CPU in the quiet gap at each edge of the
    /// window (between two events, as a Rust phase does) of the schedule that started at `start`.
    async fn edges(&self, start: u64) -> Result<Edges, LoadError> {
        let (from, to) = self.workload.window;
        let tree = || self.browser_pid.map(TreeCpu::read).unwrap_or_default();
        sleep_until_mono(start + self.workload.quiet_point(from)).await;
        let (m0, cpu0, t0) = (
            self.control.scrape_patiently().await?,
            tree(),
            mono_now_ns(),
        );
        sleep_until_mono(start + self.workload.quiet_point(to)).await;
        let (m1, cpu1, t1) = (
            self.control.scrape_patiently().await?,
            tree(),
            mono_now_ns(),
        );
        Ok(Edges {
            m0,
            m1,
            browser_cpu_us: cpu1.since(&cpu0),
            browser_processes: cpu1.processes(),
            window_us: t1.saturating_sub(t0) / 1_000,
        })
    }

    /// Sums the answers of the phase's clients into its row (window figures left empty).
    fn sum(&self, clients: &[ClientAnswer]) -> Result<BrowserRow, BrowserError> {
        let events = self.workload.room_events[0];
        let mut row = empty_row(self.transport, self.workload.clone());
        for c in clients.iter().filter(|c| c.transport == self.transport) {
            if !c.window_known {
                return Err(BrowserError::BadAnswer(
                    "a page never got the window".into(),
                ));
            }
            let histogram = rtbench_results::decode_histogram(&c.histogram)
                .map_err(|e| BrowserError::BadAnswer(e.to_string()))?;
            row.latency_ns
                .add(&histogram)
                .map_err(|e| BrowserError::BadAnswer(format!("{e:?}")))?;
            // Loss over the whole schedule, as the Rust clients count it.
            let lost = events.saturating_sub(c.deliveries);
            row.clients += 1;
            row.deliveries += c.window_deliveries;
            row.received += c.deliveries;
            row.lost += lost;
            row.lost_in_gaps += c.dropped.min(lost);
            row.gaps += c.gaps;
            row.duplicated += c.duplicated;
            row.reordered += c.reordered;
            row.page_reconnects += c.reconnects;
            row.offset_uncertainty_us = row.offset_uncertainty_us.max(c.uncertainty_us);
        }
        Ok(row)
    }
}

/// A row of `transport` with nothing counted yet.
fn empty_row(transport: Transport, workload: Workload) -> BrowserRow {
    BrowserRow {
        transport,
        clients: 0,
        deliveries: 0,
        received: 0,
        lost: 0,
        lost_in_gaps: 0,
        gaps: 0,
        duplicated: 0,
        reordered: 0,
        reconnects: 0,
        reconnects_source: ReconnectsSource::of(transport),
        page_reconnects: 0,
        server_reconnects: 0,
        latency_ns: new_histogram(),
        offset_uncertainty_us: 0,
        totals: Default::default(),
        browser_processes: 0,
        schedule: ScheduleResponse {
            topic: String::new(),
            start_mono_ns: 0,
            period_ns: 0,
            first_seq: 0,
            last_seq: 0,
        },
        window_ns: (0, 0),
        drops: (0, 0),
        workload,
    }
}

/// Every `plan.drop_every` from the schedule's start until its last event, closes
/// `plan.drop_fraction` of the `clients` connections of `transport` (at least one) by the
/// server. Drop rounds run and connections closed.
async fn drop_rounds(
    control: Control,
    plan: FaultPlan,
    (transport, clients): (Transport, u64),
    schedule: ScheduleResponse,
) -> (u64, u64) {
    let (mut rounds, mut closed) = (0, 0);
    if !plan.drops() {
        return (rounds, closed);
    }
    let every_ns = plan.drop_every.as_nanos() as u64;
    let end_ns = schedule.t_pub_ns(schedule.last_seq);
    loop {
        let at_ns = schedule.start_mono_ns + (rounds + 1) * every_ns;
        if at_ns >= end_ns {
            return (rounds, closed);
        }
        sleep_until_mono(at_ns).await;
        let (k, _) = plan.split(clients, rounds);
        rounds += 1;
        closed += control.close_connections(transport, k).await.unwrap_or(0);
    }
}
