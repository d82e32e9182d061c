//! The committed baseline (`reports/instructions/baseline.json`): each benchmark's counts from the
//! median of several runs of one tree, and the tolerance the gate applies to them.

use crate::counts::Count;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Version of the baseline file's layout.
pub const SCHEMA: u32 = 1;

/// The counts a change is judged against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Layout version ([`SCHEMA`]).
    pub schema: u32,
    /// How far (in %) an instruction count may grow before the gate fails.
    pub tolerance_pct: f64,
    /// Runs the baseline was made from.
    pub runs: usize,
    /// Every benchmark's counts, sorted by name.
    pub benchmarks: Vec<Count>,
}

/// A baseline that cannot be made, read or written.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The file is not a baseline.
    #[error("{path}: not an instruction baseline: {source}")]
    Corrupt {
        /// The file.
        path: String,
        /// The parser's complaint.
        source: serde_json::Error,
    },
    /// The file has another layout version.
    #[error("{path}: baseline schema {found}, this gate reads {SCHEMA}; regenerate it")]
    Schema {
        /// The file.
        path: String,
        /// Its version.
        found: u32,
    },
    /// The runs do not measure the same benchmarks.
    #[error("run {run} measured other benchmarks than run 1 ({detail})")]
    Mismatch {
        /// 1-based index of the odd run.
        run: usize,
        /// The first difference.
        detail: String,
    },
    /// No run given, or a tolerance that is not a positive percentage.
    #[error("{0}")]
    Invalid(String),
}

impl Baseline {
    /// The baseline of `runs` (each a run's counts sorted by name): per benchmark, the run with the
    /// median instruction count.
    pub fn from_runs(runs: &[Vec<Count>], tolerance_pct: f64) -> Result<Baseline, BaselineError> {
        check_tolerance(tolerance_pct)?;
        let first = runs
            .first()
            .ok_or_else(|| BaselineError::Invalid("no run to make a baseline from".into()))?;
        for (i, run) in runs.iter().enumerate().skip(1) {
            let names = |r: &[Count]| r.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
            if names(run) != names(first) {
                return Err(BaselineError::Mismatch {
                    run: i + 1,
                    detail: format!("{:?} vs {:?}", names(run), names(first)),
                });
            }
        }
        let benchmarks = (0..first.len())
            .map(|b| {
                let mut all: Vec<&Count> = runs.iter().map(|r| &r[b]).collect();
                all.sort_by_key(|c| c.instructions);
                all[all.len() / 2].clone()
            })
            .collect();
        Ok(Baseline {
            schema: SCHEMA,
            tolerance_pct,
            runs: runs.len(),
            benchmarks,
        })
    }

    /// Reads a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Io {
            path: shown.clone(),
            source,
        })?;
        #[derive(Deserialize)]
        struct Version {
            schema: u32,
        }
        let corrupt = |source| BaselineError::Corrupt {
            path: shown.clone(),
            source,
        };
        let version: Version = serde_json::from_str(&text).map_err(corrupt)?;
        if version.schema != SCHEMA {
            return Err(BaselineError::Schema {
                path: shown,
                found: version.schema,
            });
        }
        let baseline: Baseline = serde_json::from_str(&text).map_err(corrupt)?;
        check_tolerance(baseline.tolerance_pct)?;
        Ok(baseline)
    }

    /// Writes the baseline as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<(), BaselineError> {
        let text = serde_json::to_string_pretty(self).expect("a baseline always serialises");
        std::fs::write(path, text + "\n").map_err(|source| BaselineError::Io {
            path: path.display().to_string(),
            source,
        })
    }
}

/// Refuses a tolerance that is not a finite percentage above 0.
pub fn check_tolerance(pct: f64) -> Result<(), BaselineError> {
    if pct.is_finite() && pct > 0.0 && pct < 100.0 {
        Ok(())
    } else {
        Err(BaselineError::Invalid(format!(
            "tolerance {pct} % is not a percentage in (0, 100)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(name: &str, instructions: u64) -> Count {
        Count {
            name: name.into(),
            deliveries: 1,
            instructions,
            l1_misses: 0,
            ll_misses: 0,
        }
    }

    #[test]
    fn takes_each_benchmarks_median_run_and_round_trips() {
        let runs = vec![
            vec![count("a_1", 100), count("b_1", 7)],
            vec![count("a_1", 103), count("b_1", 5)],
            vec![count("a_1", 101), count("b_1", 6)],
        ];
        let b = Baseline::from_runs(&runs, 1.0).unwrap();
        let got: Vec<u64> = b.benchmarks.iter().map(|c| c.instructions).collect();
        assert_eq!(got, [101, 6]);
        assert_eq!(b.runs, 3);
        let dir = std::env::temp_dir().join(format!("instr-baseline-{}", std::process::id()));
        b.save(&dir).unwrap();
        assert_eq!(Baseline::load(&dir).unwrap(), b);
        std::fs::write(&dir, r#"{"schema":99}"#).unwrap();
        assert!(matches!(
            Baseline::load(&dir),
            Err(BaselineError::Schema { found: 99, .. })
        ));
        std::fs::write(&dir, "[]").unwrap();
        assert!(matches!(
            Baseline::load(&dir),
            Err(BaselineError::Corrupt { .. })
        ));
        std::fs::remove_file(&dir).unwrap();
    }

    #[test]
    fn refuses_mismatched_runs_and_bad_tolerances() {
        let runs = vec![vec![count("a_1", 1)], vec![count("b_1", 1)]];
        assert!(matches!(
            Baseline::from_runs(&runs, 1.0),
            Err(BaselineError::Mismatch { run: 2, .. })
        ));
        assert!(Baseline::from_runs(&[], 1.0).is_err());
        for bad in [0.0, -1.0, f64::NAN, 100.0] {
            assert!(Baseline::from_runs(&runs[..1], bad).is_err());
        }
    }
}
