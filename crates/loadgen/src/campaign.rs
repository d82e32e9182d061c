//! A whole run: every point of a sweep, `repeat` times, every transport in each repetition.
//!
//! Transports are interleaved across repetitions — repetition `r` runs them in the configured
//! order rotated by `r` — so a drift of the machine during the run touches every transport alike,
//! and no transport always runs first. Each repetition uses its own seed (the same for every
//! transport within it), so Poisson arrivals and send phases differ between repetitions but never
//! between transports. The repetitions of one (point, transport) are combined into one row:
//! medians with a min–max spread ([`rtbench_results::combine_repeats`]).

use crate::config::LoadConfig;
use crate::control::{Control, Target};
use crate::error::LoadError;
use crate::interval_log;
use crate::phase::run_phase;
use crate::progress::Progress;
use rtbench_results::format::latency_us;
use rtbench_results::{Row, combine_repeats, floor};
use std::path::PathBuf;

/// Most repetitions of one point.
pub const MAX_REPEAT: u32 = 100;

/// One point of a sweep: a label (`poll_interval=250ms`, empty without a sweep) and its workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The swept values of this point, `key=value` separated by spaces.
    pub label: String,
    /// The workload at this point.
    pub config: LoadConfig,
}

/// Every point, and how often each is repeated.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    /// Points in run order.
    pub points: Vec<Point>,
    /// Repetitions of every point (1: no repetition).
    pub repeat: u32,
    /// Where each phase writes its latency over time (`latency-<transport>….hlog`,
    /// [`crate::interval_log`]); `None`: not written.
    pub latency_log_dir: Option<PathBuf>,
}

impl Campaign {
    /// One point, run once.
    pub fn single(config: LoadConfig) -> Campaign {
        Campaign {
            points: vec![Point {
                label: String::new(),
                config,
            }],
            repeat: 1,
            latency_log_dir: None,
        }
    }

    /// Checks every point and the repetition count before anything runs.
    pub fn validate(&self) -> Result<(), LoadError> {
        if !(1..=MAX_REPEAT).contains(&self.repeat) {
            return Err(LoadError::Config(crate::error::ConfigError::OutOfRange {
                name: "repeat",
                rule: format!("between 1 and {MAX_REPEAT}"),
                got: self.repeat.to_string(),
            }));
        }
        for point in &self.points {
            point
                .config
                .validate()
                .map_err(|e| match point.label.is_empty() {
                    true => LoadError::Config(e),
                    false => LoadError::Point {
                        point: point.label.clone(),
                        error: e,
                    },
                })?;
        }
        Ok(())
    }

    /// Phases the run will make.
    pub fn phases(&self) -> usize {
        let per_rep: usize = self.points.iter().map(|p| p.config.transports.len()).sum();
        per_rep * self.repeat as usize
    }
}

/// Runs `campaign` against `target`: one row per (point, transport), points in order, transports
/// in their configured order within each point, `ratio_to_floor_p50` filled per point.
pub async fn run_campaign(
    campaign: &Campaign,
    target: &Target,
    progress: &Progress,
) -> Result<Vec<Row>, LoadError> {
    run_campaign_with(campaign, target, &Control::new(target)?, progress).await
}

/// Like [`run_campaign`], with a control client of the caller's (one that can restart the server,
/// for `restart_server_at`).
pub async fn run_campaign_with(
    campaign: &Campaign,
    target: &Target,
    control: &Control,
    progress: &Progress,
) -> Result<Vec<Row>, LoadError> {
    campaign.validate()?;
    let restarts = campaign
        .points
        .iter()
        .any(|p| p.config.faults.restart_server_at.is_some());
    if restarts && !control.can_restart() {
        return Err(LoadError::Control(
            "--restart-server-at needs a server rtbench started itself".into(),
        ));
    }
    let total = campaign.phases();
    let mut done = 0;
    let mut rows = Vec::with_capacity(total);
    for point in &campaign.points {
        let transports = &point.config.transports;
        let mut runs: Vec<Vec<Row>> = vec![Vec::new(); transports.len()];
        for rep in 0..campaign.repeat {
            let config = LoadConfig {
                seed: point.config.seed.wrapping_add(u64::from(rep)),
                ..point.config.clone()
            };
            for k in 0..transports.len() {
                let i = (k + rep as usize) % transports.len();
                done += 1;
                let label = phase_label(done, total, &config, transports[i], point, rep, campaign);
                let phase = progress.phase(label.clone());
                let log = campaign.latency_log_dir.as_ref().map(|dir| {
                    dir.join(latency_log_name(
                        transports[i],
                        &config,
                        point,
                        rep,
                        campaign,
                    ))
                });
                let row = run_phase(transports[i], &config, target, control, (&phase, log)).await?;
                drop(phase);
                progress.println(&summary(&label, &row));
                runs[i].push(row);
            }
        }
        let mut point_rows = Vec::with_capacity(runs.len());
        for reps in &runs {
            let combined = combine_repeats(reps).map_err(|e| LoadError::Combine(e.to_string()))?;
            point_rows.extend(combined);
        }
        rows.extend(floor::with_p50_ratios(point_rows));
    }
    progress.finish();
    Ok(rows)
}

/// `[3/15] chat · sse · poll_interval=250ms · rep 2/3`.
fn phase_label(
    n: usize,
    total: usize,
    config: &LoadConfig,
    transport: rtbench_proto::Transport,
    point: &Point,
    rep: u32,
    campaign: &Campaign,
) -> String {
    let mut label = format!("[{n}/{total}] {} · {transport}", config.scenario);
    if !point.label.is_empty() {
        label.push_str(&format!(" · {}", point.label));
    }
    if campaign.repeat > 1 {
        label.push_str(&format!(" · rep {}/{}", rep + 1, campaign.repeat));
    }
    label
}

/// The file name of one phase's latency log: the transport, then the conditions (unless loopback),
/// the sweep point and the repetition when there is more than one.
fn latency_log_name(
    transport: rtbench_proto::Transport,
    config: &LoadConfig,
    point: &Point,
    rep: u32,
    campaign: &Campaign,
) -> String {
    let conditions = match config.conditions.is_loopback() {
        true => "",
        false => config.conditions.name.as_str(),
    };
    let rep = match campaign.repeat {
        1 => String::new(),
        _ => format!("r{}", rep + 1),
    };
    interval_log::file_name(transport.as_str(), &[conditions, &point.label, &rep])
}

/// The line left on screen when a phase ends.
/// Says when part of the loss was late or unpublished, and when the load generator was the limit.
fn summary(label: &str, row: &Row) -> String {
    let l = &row.latency_us;
    let mut line = format!(
        "{label}: {} deliveries, p50 {}, p99 {}, lost/dup/reord {}",
        row.deliveries,
        latency_us(l.p50),
        latency_us(l.p99),
        rtbench_results::format::loss(row)
    );
    if row.overload.loadgen_bound {
        line.push_str(" · LOADGEN-BOUND (see notes)");
    }
    line
}
