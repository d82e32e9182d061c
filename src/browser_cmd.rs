//! `rtbench run --clients-in browser` (or `rust,browser`): every point of the campaign measured
//! again by the browser's own clients in headless Chromium (`rtbench_loadgen::browser`), on the
//! same server, after the Rust clients' rows. Browser rows carry `client: browser` and sit in the
//! same results beside the Rust rows (`docs/browser.md`).

use crate::cli::{ClientsIn, RunArgs};
use rtbench_loadgen::browser::{BrowserSpec, measure};
use rtbench_loadgen::config::Arrivals;
use rtbench_loadgen::{Campaign, Conditions, LoadConfig, Target};
use rtbench_proto::Stack;
use rtbench_results::Row;
use std::time::Duration;

/// Extra wait for a page's last event after the schedule's planned end, beyond the drain.
const GRACE_BEYOND_DRAIN: Duration = Duration::from_secs(5);

/// Whether `args` asks for rtbench's own clients.
pub fn rust_wanted(args: &RunArgs) -> bool {
    args.clients_in.contains(&ClientsIn::Rust)
}

/// Whether `args` asks for browser clients.
pub fn browser_wanted(args: &RunArgs) -> bool {
    args.clients_in.contains(&ClientsIn::Browser)
}

/// Topics the browser phases need on the server: one per HTTP transport per point.
pub fn topics_needed(args: &RunArgs, campaign: &Campaign) -> usize {
    if !browser_wanted(args) {
        return 0;
    }
    campaign
        .points
        .iter()
        .map(|p| p.config.transports.len())
        .sum()
}

/// Refuses, before anything starts and in one line, what the browser clients cannot run.
pub fn check(args: &RunArgs, campaign: &Campaign, profiles: &[Conditions]) -> anyhow::Result<()> {
    if !browser_wanted(args) {
        return Ok(());
    }
    let refuse = |why: &str| Err(anyhow::anyhow!("--clients-in browser: {why}"));
    if let Err(e) = rtbench_loadgen::browser::chromium() {
        return refuse(&e.to_string());
    }
    if crate::stacks::stack(args) != Stack::H1 {
        return refuse("the browser's pages are plain http:// (stack h1 only)");
    }
    if args.repeat > 1 || args.restart_server_at.is_some() || args.capacity.plan().is_some() {
        return refuse("no --repeat, --restart-server-at or capacity search with browser clients");
    }
    if !profiles.iter().all(Conditions::is_loopback) {
        return refuse("browser clients run on loopback without added conditions");
    }
    for point in &campaign.points {
        let c = &point.config;
        if c.room_size.is_some() || c.send.is_some() || c.arrivals != Arrivals::Fixed {
            return refuse(
                "browser clients run one topic of fixed-rate server push (the dashboard scenario)",
            );
        }
        if !c.transports.iter().any(|t| !t.spec().floor) {
            return refuse("no HTTP transport in --transports");
        }
    }
    Ok(())
}

/// The browser rows of every point of `campaign`, in point order.
pub fn measure_points(
    runtime: &tokio::runtime::Runtime,
    campaign: &Campaign,
    target: Target,
    quiet: bool,
) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    let run_id = std::process::id();
    for (i, point) in campaign.points.iter().enumerate() {
        let c = &point.config;
        let spec = BrowserSpec {
            config: LoadConfig {
                transports: c
                    .transports
                    .iter()
                    .copied()
                    .filter(|t| !t.spec().floor)
                    .collect(),
                ..c.clone()
            },
            topic: format!("browser-{run_id}-{i}"),
            grace: GRACE_BEYOND_DRAIN,
        };
        if !quiet {
            eprintln!(
                "browser clients: {} per transport in headless Chromium, {} events",
                c.clients,
                c.scheduled_events()
            );
        }
        for b in runtime.block_on(measure(target, &spec))? {
            if !quiet {
                eprintln!(
                    "  {} (browser): {} deliveries in the window, lost {}, reconnects {}",
                    b.transport, b.deliveries, b.lost, b.reconnects
                );
            }
            rows.push(b.to_row(c));
        }
    }
    Ok(rows)
}

/// `rows` with each browser row's p50 over its workload's floor (a Rust-client row) set.
pub fn with_floor_ratios(mut rows: Vec<Row>) -> Vec<Row> {
    let ratios: Vec<Option<f64>> = rows
        .iter()
        .map(|row| {
            let floor = rtbench_results::floor::floor_row(&rows, row);
            rtbench_results::floor::ratio_of(row, floor, |r| r.latency_us.p50)
        })
        .collect();
    for (row, ratio) in rows.iter_mut().zip(ratios) {
        if row.client == rtbench_results::Client::Browser {
            row.ratio_to_floor_p50 = ratio;
        }
    }
    rows
}

/// The run's fault line, saying who dropped the browser clients' connections: all the server.
pub fn faults_spec(
    args: &RunArgs,
    mut spec: rtbench_results::FaultsSpec,
) -> rtbench_results::FaultsSpec {
    if let (true, Some(d)) = (browser_wanted(args), spec.description.as_mut()) {
        let browser = "browser clients': all closed by the server";
        *d = if rust_wanted(args) {
            format!("{d}; {browser}")
        } else {
            d.replace("half closed by the server, half reset by clients", browser)
        };
    }
    spec
}
