//! Choosing a baseline: of several runs of one tree, the most typical one — the run whose gated
//! figures are, at worst, closest to the median of all the runs. A baseline at the low tail of the
//! spread would make an unchanged tree fail; one at the high tail would hide regressions.

use crate::check::Rule;
use crate::compat::{Incompatible, check_compatible};
use crate::gate::metrics;
use crate::tolerance::Tolerances;
use rtbench_results::Results;
use rtbench_results::floor::floor_row;

/// Why no run could be chosen.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PickError {
    /// No runs were given.
    #[error("no runs to choose from")]
    NoRuns,
    /// Two runs measured different workloads or have different rows.
    #[error(transparent)]
    Incompatible(#[from] Incompatible),
    /// Every run lost, duplicated or reordered events, or had client errors.
    #[error("every run had incomplete delivery (lost, duplicated, reordered or client errors)")]
    AllIncomplete,
}

/// The gated cost and timing figures of `run`, in a fixed order (`None` where absent or 0).
fn figures(run: &Results) -> Vec<Option<f64>> {
    let tol = Tolerances::default();
    let mut out = Vec::new();
    for row in &run.rows {
        let floor = floor_row(&run.rows, row);
        for m in metrics(row.transport, &tol) {
            if matches!(m.rule, Rule::AtMost(_)) {
                out.push((m.value)(row, floor).filter(|v| *v > 0.0));
            }
        }
    }
    out
}

/// Whether every row of `run` delivered everything exactly once, in order, without errors.
fn complete(run: &Results) -> bool {
    run.rows
        .iter()
        .all(|r| r.undelivered() + r.duplicated + r.reordered + r.client_errors == 0)
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// The index of the most typical of `runs`: among runs with complete delivery, the one whose
/// largest |ln(figure ÷ median of that figure over all runs)| is smallest. Ties go to the earlier.
pub fn most_typical(runs: &[Results]) -> Result<usize, PickError> {
    let first = runs.first().ok_or(PickError::NoRuns)?;
    for run in &runs[1..] {
        check_compatible(first, run)?;
    }
    let table: Vec<Vec<Option<f64>>> = runs.iter().map(figures).collect();
    let medians: Vec<Option<f64>> = (0..table[0].len())
        .map(|k| median(table.iter().filter_map(|f| f[k]).collect()))
        .collect();
    let spread = |f: &Vec<Option<f64>>| {
        f.iter()
            .zip(&medians)
            .filter_map(|(v, m)| Some((v.as_ref()? / m.as_ref()?).ln().abs()))
            .fold(0.0, f64::max)
    };
    runs.iter()
        .zip(&table)
        .enumerate()
        .filter(|(_, (run, _))| complete(run))
        .map(|(i, (_, f))| (i, spread(f)))
        .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
        .map(|(i, _)| i)
        .ok_or(PickError::AllIncomplete)
}
