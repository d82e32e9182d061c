//! One transport's browser phase: `clients` pages, each hosting one client of the transport and
//! subscribed to the phase's fresh topic; the server's counters read just before the schedule
//! starts and again once every page has answered (the window: every event of the schedule, no
//! connection set-up, no close); connections dropped meanwhile when the fault plan says so; the
//! pages' answers summed into one [`BrowserRow`].

use super::{BrowserError, BrowserRow, BrowserSpec, ClientAnswer, evaluate, open_page};
use crate::control::{Control, Target};
use crate::faults::FaultPlan;
use chromiumoxide::browser::Browser;
use rtbench_proto::Transport;
use rtbench_proto::control::{ScheduleRequest, ScheduleResponse};
use rtbench_proto::mono_now_ns;
use rtbench_results::histogram::new_histogram;
use std::time::Duration;

/// Delay between starting the schedule and its first event, in milliseconds.
const START_IN_MS: u64 = 500;
/// Clock exchanges each page makes before it subscribes.
const CLOCK_PINGS: u32 = 16;

/// How long a page waits for its client's last event, from the schedule's start, milliseconds.
pub(super) fn deadline_ms(spec: &BrowserSpec) -> u64 {
    let run_ms = (spec.events as f64 / spec.rate_per_s * 1000.0).ceil() as u64;
    run_ms + spec.grace.as_millis() as u64 + START_IN_MS
}

/// Runs `transport`'s phase of `spec`; its pages are closed afterwards, whatever happened.
pub(super) async fn run(
    browser: &Browser,
    target: Target,
    spec: &BrowserSpec,
    transport: Transport,
) -> Result<BrowserRow, BrowserError> {
    let topic = format!("{}-{}", spec.topic, transport.as_str());
    let config = serde_json::json!({
        "topic": topic, "after": 0, "last_seq": spec.events,
        "transports": [transport], "poll_interval_ms": spec.poll_interval_ms,
        "deadline_ms": deadline_ms(spec), "clock_pings": CLOCK_PINGS,
    });
    let mut pages = Vec::with_capacity(spec.clients);
    let mut result = Ok(());
    for _ in 0..spec.clients {
        match open_page(browser, target.http, &config).await {
            Ok(page) => pages.push(page),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    let result = match result {
        Ok(()) => window(&target, &pages, spec, transport, topic).await,
        Err(e) => Err(e),
    };
    for (page, context) in pages {
        let _ = evaluate(&page, "window.rtbenchClose()".into()).await;
        let _ = page.close().await;
        let _ = browser.dispose_browser_context(context).await;
    }
    result
}

/// The measured window of a phase whose pages are all subscribed.
async fn window(
    target: &Target,
    pages: &[(chromiumoxide::Page, super::BrowserContextId)],
    spec: &BrowserSpec,
    transport: Transport,
    topic: String,
) -> Result<BrowserRow, BrowserError> {
    let control = Control::new(target)?;
    let m0 = control.scrape().await?;
    let t0_ns = mono_now_ns();
    let schedule = control
        .schedule(&ScheduleRequest {
            topic,
            rate_per_s: spec.rate_per_s,
            payload_bytes: spec.payload_bytes,
            events: spec.events,
            start_in_ms: START_IN_MS,
        })
        .await?;
    let drops = tokio::spawn(drop_rounds(
        control.clone(),
        spec.faults.clone(),
        (transport, spec.clients as u64),
        schedule.clone(),
    ));
    let answers = futures_util::future::join_all(
        pages
            .iter()
            .map(|(page, _)| evaluate(page, "window.rtbenchResults()".into())),
    )
    .await;
    // The drop task ends with the schedule's last event, before the last page can answer.
    let drops = drops
        .await
        .map_err(|e| BrowserError::Cdp(format!("drop task: {e}")))?;
    let m1 = control.scrape().await?;
    let window_us = mono_now_ns().saturating_sub(t0_ns) / 1_000;
    let mut clients = Vec::with_capacity(pages.len());
    for answer in answers {
        let answer: Vec<ClientAnswer> =
            serde_json::from_value(answer?).map_err(|e| BrowserError::BadAnswer(e.to_string()))?;
        clients.extend(answer);
    }
    let mut row = sum(spec, transport, &clients)?;
    row.totals = crate::window::totals(transport, &m0, &m1, 0, window_us);
    row.schedule = schedule;
    row.drops = drops;
    Ok(row)
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
        tokio::time::sleep(Duration::from_nanos(at_ns.saturating_sub(mono_now_ns()))).await;
        let (k, _) = plan.split(clients, rounds);
        rounds += 1;
        closed += control.close_connections(transport, k).await.unwrap_or(0);
    }
}

/// Sums the answers of `transport`'s clients into its row (window figures left empty).
fn sum(
    spec: &BrowserSpec,
    transport: Transport,
    clients: &[ClientAnswer],
) -> Result<BrowserRow, BrowserError> {
    let mut row = BrowserRow {
        transport,
        clients: 0,
        deliveries: 0,
        lost: 0,
        lost_in_gaps: 0,
        gaps: 0,
        duplicated: 0,
        reordered: 0,
        reconnects: 0,
        latency_ns: new_histogram(),
        offset_uncertainty_us: 0,
        totals: Default::default(),
        schedule: ScheduleResponse {
            topic: String::new(),
            start_mono_ns: 0,
            period_ns: 0,
            first_seq: 0,
            last_seq: 0,
        },
        drops: (0, 0),
    };
    for c in clients.iter().filter(|c| c.transport == transport) {
        let histogram = rtbench_results::decode_histogram(&c.histogram)
            .map_err(|e| BrowserError::BadAnswer(e.to_string()))?;
        row.latency_ns
            .add(&histogram)
            .map_err(|e| BrowserError::BadAnswer(format!("{e:?}")))?;
        let lost = spec.events.saturating_sub(c.deliveries);
        row.clients += 1;
        row.deliveries += c.deliveries;
        row.lost += lost;
        row.lost_in_gaps += c.dropped.min(lost);
        row.gaps += c.gaps;
        row.duplicated += c.duplicated;
        row.reordered += c.reordered;
        row.reconnects += c.reconnects;
        row.offset_uncertainty_us = row.offset_uncertainty_us.max(c.uncertainty_us);
    }
    Ok(row)
}
