//! The gate per stack: a baseline directory may hold one baseline per stack (`<stack>/results.json`
//! of a run over several stacks), and each current run is compared with the baseline of its own
//! stack ([`rtbench_results::stack_key`]). Runs of different stacks are still never compared with
//! each other: TLS records and handshakes are the stack's cost, not a regression.

use crate::{Comparison, Incompatible, Tolerances, compare};
use rtbench_results::{Results, stack_key};

/// One stack's comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct StackComparison {
    /// The stack.
    pub stack: String,
    /// Index of its baseline among the baselines given.
    pub baseline: usize,
    /// Indices of its current runs among the currents given.
    pub currents: Vec<usize>,
    /// The comparison.
    pub comparison: Comparison,
}

/// Compares each stack of `currents` with the one baseline of that stack, in the order the
/// currents' stacks are first seen. A stack of the baselines that no current ran is not compared;
/// a current stack without a baseline, or with two, is an error.
pub fn compare_stacks(
    baselines: &[Results],
    currents: &[Results],
    tolerances: &Tolerances,
) -> Result<Vec<StackComparison>, Incompatible> {
    if currents.is_empty() {
        return Err(Incompatible::NoCurrent);
    }
    let mut stacks: Vec<String> = Vec::new();
    for c in currents {
        let key = stack_key(c);
        if !stacks.contains(&key) {
            stacks.push(key);
        }
    }
    let mut out = Vec::new();
    for stack in stacks {
        let of_stack: Vec<usize> = (0..baselines.len())
            .filter(|&i| stack_key(&baselines[i]) == stack)
            .collect();
        let baseline = match of_stack[..] {
            [one] => one,
            [] => return Err(Incompatible::NoBaselineForStack { stack }),
            _ => return Err(Incompatible::BaselinesForStack { stack }),
        };
        let idx: Vec<usize> = (0..currents.len())
            .filter(|&i| stack_key(&currents[i]) == stack)
            .collect();
        let runs: Vec<Results> = idx.iter().map(|&i| currents[i].clone()).collect();
        let comparison = compare(&baselines[baseline], &runs, tolerances)?;
        out.push(StackComparison {
            stack,
            baseline,
            currents: idx,
            comparison,
        });
    }
    Ok(out)
}

/// The exit code of several stacks' comparisons: the worst of theirs.
pub fn exit_code(comparisons: &[StackComparison]) -> u8 {
    comparisons
        .iter()
        .map(|c| c.comparison.exit_code())
        .max()
        .unwrap_or(crate::EXIT_OK)
}
