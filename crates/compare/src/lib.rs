//! The regression gate: compares a results document against a baseline, figure by figure, and
//! says whether anything regressed beyond its tolerance.
//!
//! It reads only [`rtbench_results::Results`]. What is checked and why is in [`gate`]; how far a
//! figure may move is in [`Tolerances`]; the verdict of each figure is a [`Check`]. `rtbench
//! compare` prints [`render_text`] or [`render_markdown`] and exits with [`EXIT_OK`],
//! [`EXIT_REGRESSION`] or [`EXIT_UNUSABLE`]. [`most_typical`] chooses a baseline among several
//! runs of one tree.

mod check;
mod compat;
pub mod gate;
mod render;
pub mod stacks;
pub mod tolerance;
mod typical;

pub use check::{Check, Rule, Verdict};
pub use compat::{Incompatible, check_compatible};
pub use render::{Names, render_markdown, render_text};
pub use stacks::{StackComparison, compare_stacks};
pub use tolerance::{ToleranceError, Tolerances};
pub use typical::{PickError, most_typical};

use rtbench_results::Results;

/// Exit code: every gated figure is within its tolerance.
pub const EXIT_OK: u8 = 0;
/// Exit code: an input could not be used (unreadable, corrupt, another schema version, another
/// workload, a bad flag).
pub const EXIT_UNUSABLE: u8 = 2;
/// Exit code: at least one gated figure regressed beyond its tolerance.
pub const EXIT_REGRESSION: u8 = 3;

/// The outcome of comparing two runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Every figure compared, row by row.
    pub checks: Vec<Check>,
    /// Things a reader must know to trust the verdict (other machine, injected faults, …).
    pub notes: Vec<String>,
    /// The tolerances applied.
    pub tolerances: Tolerances,
    /// How many current runs were judged together (see [`gate`]).
    pub runs: usize,
}

impl Comparison {
    /// The figures that regressed.
    pub fn regressions(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(|c| c.verdict == Verdict::Regression)
    }

    /// Whether nothing regressed.
    pub fn passed(&self) -> bool {
        self.regressions().next().is_none()
    }

    /// Number of gated figures (those not merely shown).
    pub fn gated(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.verdict != Verdict::Info)
            .count()
    }

    /// The process exit code for this outcome.
    pub fn exit_code(&self) -> u8 {
        if self.passed() {
            EXIT_OK
        } else {
            EXIT_REGRESSION
        }
    }
}

/// Compares one or more current runs of the same tree against `baseline` under `tolerances`, or
/// says why they cannot be compared. With several runs, a cost or timing regresses only if it
/// regresses in every run, while delivery must be complete in every run ([`gate`]).
pub fn compare(
    baseline: &Results,
    currents: &[Results],
    tolerances: &Tolerances,
) -> Result<Comparison, Incompatible> {
    if currents.is_empty() {
        return Err(Incompatible::NoCurrent);
    }
    for current in currents {
        check_compatible(baseline, current)?;
    }
    Ok(Comparison {
        checks: gate::checks(baseline, currents, tolerances),
        notes: notes(baseline, currents),
        tolerances: *tolerances,
        runs: currents.len(),
    })
}

/// Warnings about the runs that do not make them incomparable.
fn notes(baseline: &Results, currents: &[Results]) -> Vec<String> {
    let mut notes = Vec::new();
    let b = &baseline.environment;
    if let Some(c) = currents
        .iter()
        .map(|c| &c.environment)
        .find(|c| (b.cpu_model.as_str(), b.cores) != (c.cpu_model.as_str(), c.cores))
    {
        notes.push(format!(
            "different machines: baseline {} ({} cores), current {} ({} cores); the timing \
             tolerances were measured on one machine kind",
            b.cpu_model, b.cores, c.cpu_model, c.cores
        ));
    }
    let runs =
        std::iter::once(("baseline", baseline)).chain(currents.iter().map(|c| ("current", c)));
    for (which, doc) in runs {
        let f = doc.config.server_fault();
        if !f.is_off() {
            notes.push(format!(
                "the {which} run injected a server fault (delay {} µs per HTTP write, {} bytes of \
                 padding per event): not a real measurement",
                f.delay_us, f.pad_bytes
            ));
        }
    }
    notes.dedup();
    notes
}

#[cfg(test)]
mod tests;
