//! rtbench's deterministic regression gate: instruction counts of the hot paths, measured by
//! Valgrind's callgrind through gungraun (`benches/`), compared with a committed baseline.
//!
//! Wall time on a shared 2-core runner moves by more than a real 5 % regression (see
//! docs/perf-gate.md); user-space instruction counts do not. [`counts`] reads the counts gungraun
//! prints (`--output-format=json`), [`baseline`] keeps them in `reports/instructions/`, [`gate`]
//! judges a run against the baseline (exit codes as `rtbench compare`'s) and renders the verdict
//! as text or Markdown, [`spread`] measures how far repeated runs of one tree differ.
//!
//! Hand-written rather than gungraun's own baselines: those live under `target/` as raw callgrind
//! files, with no committed, reviewable form and no Markdown verdict for a pull request.

pub mod baseline;
pub mod counts;
pub mod gate;
pub mod spread;

pub use baseline::{Baseline, BaselineError};
pub use counts::{Count, CountsError, parse_counts};
pub use gate::{Verdict, compare};
