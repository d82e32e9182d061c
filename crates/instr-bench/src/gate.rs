//! The verdict: each benchmark's instruction count against the baseline's, under one tolerance,
//! rendered as a text table (the terminal) or Markdown (a pull-request comment).
//!
//! Only instructions are gated: they are exact. Cache misses are shown — callgrind simulates a
//! cache, so they are deterministic too, but they are small integers that move by tens of percent
//! when an allocation shifts by a cache line, which is not a regression anyone could act on.

use crate::baseline::Baseline;
use crate::counts::Count;
use std::fmt::Write;

/// What one benchmark's count says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the tolerance.
    Pass,
    /// Fewer instructions than the baseline by more than the tolerance (passes; regenerate the
    /// baseline to lock it in).
    Better,
    /// More instructions than the baseline by more than the tolerance.
    Regression,
    /// Not in the baseline: shown, not gated.
    New,
}

/// One benchmark compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// This run's counts.
    pub current: Count,
    /// The baseline's instruction count, if it has the benchmark.
    pub baseline_instructions: Option<u64>,
    /// Change of the instruction count, in %.
    pub delta_pct: Option<f64>,
    /// The verdict.
    pub verdict: Verdict,
}

/// A run compared with the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Every benchmark, sorted by name.
    pub rows: Vec<Row>,
    /// The tolerance applied, in %.
    pub tolerance_pct: f64,
}

/// A run that cannot be judged against the baseline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    /// A baseline benchmark was not measured.
    #[error("benchmark '{0}' is in the baseline but not in this run")]
    Missing(String),
    /// A benchmark now makes another number of deliveries.
    #[error("benchmark '{name}' makes {now} deliveries, the baseline's {then}; regenerate it")]
    Deliveries {
        /// The benchmark.
        name: String,
        /// Deliveries in the baseline.
        then: u64,
        /// Deliveries now.
        now: u64,
    },
}

impl Comparison {
    /// The benchmarks that regressed.
    pub fn regressions(&self) -> impl Iterator<Item = &Row> {
        self.rows
            .iter()
            .filter(|r| r.verdict == Verdict::Regression)
    }

    /// `rtbench compare`'s exit code: 0 when nothing regressed, else 3.
    pub fn exit_code(&self) -> u8 {
        if self.regressions().next().is_none() {
            rtbench_compare::EXIT_OK
        } else {
            rtbench_compare::EXIT_REGRESSION
        }
    }
}

/// Compares `current` (one run's counts) with `baseline` under `tolerance_pct`.
pub fn compare(
    baseline: &Baseline,
    current: &[Count],
    tolerance_pct: f64,
) -> Result<Comparison, GateError> {
    if let Some(gone) = baseline
        .benchmarks
        .iter()
        .find(|b| !current.iter().any(|c| c.name == b.name))
    {
        return Err(GateError::Missing(gone.name.clone()));
    }
    let mut rows = Vec::with_capacity(current.len());
    for cur in current {
        let base = baseline.benchmarks.iter().find(|b| b.name == cur.name);
        if let Some(base) = base.filter(|b| b.deliveries != cur.deliveries) {
            return Err(GateError::Deliveries {
                name: cur.name.clone(),
                then: base.deliveries,
                now: cur.deliveries,
            });
        }
        let delta_pct = base.map(|b| pct_change(b.instructions, cur.instructions));
        let verdict = match delta_pct {
            None => Verdict::New,
            Some(d) if d > tolerance_pct => Verdict::Regression,
            Some(d) if d < -tolerance_pct => Verdict::Better,
            Some(_) => Verdict::Pass,
        };
        rows.push(Row {
            current: cur.clone(),
            baseline_instructions: base.map(|b| b.instructions),
            delta_pct,
            verdict,
        });
    }
    Ok(Comparison {
        rows,
        tolerance_pct,
    })
}

/// Change from `from` to `to`, in %.
pub fn pct_change(from: u64, to: u64) -> f64 {
    if from == 0 {
        return if to == 0 { 0.0 } else { f64::INFINITY };
    }
    (to as f64 - from as f64) / from as f64 * 100.0
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "ok",
        Verdict::Better => "better",
        Verdict::Regression => "REGRESSION",
        Verdict::New => "new (not gated)",
    }
}

/// One benchmark's cells: name, deliveries, baseline and current instructions per delivery,
/// change, L1 and LL misses per delivery, verdict.
fn cells(r: &Row) -> [String; 8] {
    let per = |ir: u64| format!("{:.1}", ir as f64 / r.current.deliveries as f64);
    let c = &r.current;
    [
        c.name.clone(),
        c.deliveries.to_string(),
        r.baseline_instructions.map_or("-".into(), per),
        per(c.instructions),
        r.delta_pct.map_or("-".into(), |d| format!("{d:+.2} %")),
        format!("{:.2}", c.l1_misses as f64 / c.deliveries as f64),
        format!("{:.2}", c.ll_misses as f64 / c.deliveries as f64),
        verdict_word(r.verdict).into(),
    ]
}

const HEADER: [&str; 8] = [
    "benchmark",
    "deliveries",
    "baseline instr/deliv",
    "instr/deliv",
    "change",
    "L1 miss/deliv",
    "LL miss/deliv",
    "verdict",
];

/// The `regression:` lines naming each failing benchmark and its change.
fn regression_lines(c: &Comparison) -> Vec<String> {
    c.regressions()
        .map(|r| {
            let d = r.current.deliveries as f64;
            format!(
                "regression: {}: {:.1} → {:.1} instructions per delivery ({:+.2} %, tolerance {} %)",
                r.current.name,
                r.baseline_instructions.unwrap_or(0) as f64 / d,
                r.current.instructions as f64 / d,
                r.delta_pct.unwrap_or(0.0),
                c.tolerance_pct
            )
        })
        .collect()
}

fn summary(c: &Comparison) -> String {
    let failed = c.regressions().count();
    if failed == 0 {
        format!(
            "PASS: {} benchmarks within +{} % instructions of the baseline",
            c.rows.len(),
            c.tolerance_pct
        )
    } else {
        format!(
            "FAIL: {failed} of {} benchmarks grew by more than {} % instructions",
            c.rows.len(),
            c.tolerance_pct
        )
    }
}

/// The comparison as an aligned text table, the regression lines and the verdict.
pub fn render_text(c: &Comparison) -> String {
    let rows: Vec<[String; 8]> = c.rows.iter().map(cells).collect();
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([HEADER[i].len()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..8).map(width).collect();
    let mut out = String::new();
    let line = |out: &mut String, cols: &[String]| {
        for (i, col) in cols.iter().enumerate() {
            let pad = widths[i].saturating_sub(col.chars().count());
            if i == 0 || i == 7 {
                let _ = write!(out, "{col}{}  ", " ".repeat(pad));
            } else {
                let _ = write!(out, "{}{col}  ", " ".repeat(pad));
            }
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out.push('\n');
    };
    line(&mut out, &HEADER.map(String::from));
    for r in &rows {
        line(&mut out, r);
    }
    for l in regression_lines(c) {
        let _ = writeln!(out, "  {l}");
    }
    let _ = writeln!(out, "{}", summary(c));
    out
}

/// The comparison as Markdown for a pull-request comment.
pub fn render_markdown(c: &Comparison) -> String {
    let mut out = String::from("### Instruction-count gate (callgrind)\n\n");
    let _ = writeln!(out, "**{}**\n", summary(c));
    let _ = writeln!(out, "| {} |", HEADER.join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(6) + "---|");
    for r in &c.rows {
        let mut row = cells(r);
        if r.verdict == Verdict::Regression {
            row[7] = format!("**{}**", row[7]);
        }
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    let lines = regression_lines(c);
    if !lines.is_empty() {
        out.push('\n');
        for l in lines {
            let _ = writeln!(out, "- {l}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counts::parse_counts;
    use crate::counts::tests::line;

    fn run(sse_ir: u64) -> Vec<Count> {
        let text = [
            line("server_sse", "fanout_100", sse_ir),
            line("server_tcp", "fanout_100", 32_745),
        ]
        .join("\n");
        parse_counts(&text).unwrap()
    }

    fn baseline() -> Baseline {
        Baseline::from_runs(&[run(100_000)], 2.0).unwrap()
    }

    #[test]
    fn five_percent_more_fails_naming_the_benchmark_and_delta() {
        let c = compare(&baseline(), &run(105_000), 2.0).unwrap();
        assert_eq!(c.exit_code(), rtbench_compare::EXIT_REGRESSION);
        let failed: Vec<&str> = c.regressions().map(|r| r.current.name.as_str()).collect();
        assert_eq!(failed, ["server_sse fanout_100"]);
        let text = render_text(&c);
        assert!(
            text.contains("regression: server_sse fanout_100: 1000.0 → 1050.0 instructions per delivery (+5.00 %, tolerance 2 %)"),
            "{text}"
        );
        let md = render_markdown(&c);
        assert!(
            md.contains("**REGRESSION**") && md.contains("FAIL: 1 of 2"),
            "{md}"
        );
    }

    #[test]
    fn within_tolerance_passes_and_a_large_drop_is_better() {
        let c = compare(&baseline(), &run(101_999), 2.0).unwrap();
        assert_eq!(c.exit_code(), rtbench_compare::EXIT_OK);
        assert_eq!(c.rows[0].verdict, Verdict::Pass);
        assert!(render_text(&c).contains("PASS: 2 benchmarks"));
        let c = compare(&baseline(), &run(90_000), 2.0).unwrap();
        assert_eq!((c.exit_code(), c.rows[0].verdict), (0, Verdict::Better));
        // Just over the tolerance fails.
        let c = compare(&baseline(), &run(102_001), 2.0).unwrap();
        assert_eq!(c.exit_code(), rtbench_compare::EXIT_REGRESSION);
    }

    #[test]
    fn missing_new_and_redefined_benchmarks() {
        let only_tcp = parse_counts(&line("server_tcp", "fanout_100", 1)).unwrap();
        assert_eq!(
            compare(&baseline(), &only_tcp, 2.0),
            Err(GateError::Missing("server_sse fanout_100".into()))
        );
        let mut more = run(100_000);
        more.extend(parse_counts(&line("server_x", "fanout_1", 5)).unwrap());
        let c = compare(&baseline(), &more, 2.0).unwrap();
        assert_eq!(c.rows[2].verdict, Verdict::New);
        assert_eq!(c.exit_code(), 0);
        let mut redefined = run(100_000);
        redefined[0].deliveries = 10;
        assert!(matches!(
            compare(&baseline(), &redefined, 2.0),
            Err(GateError::Deliveries {
                then: 100,
                now: 10,
                ..
            })
        ));
    }
}
