//! `rtbench run --sweep`'s axes: a knob of the load (`clients=10,100`, [`SweepAxis`]) or the
//! protocol stack (`stack=h1,h1-tls`), which runs as `--stack` does (`src/stacks.rs`).

use rtbench_loadgen::scenario::knobs::SweepAxis;
use rtbench_proto::Stack;

/// One `--sweep` axis of `rtbench run`: a load knob (`clients=10,100`), or the stack
/// (`stack=h1,h1-tls`), which runs like `--stack` — a server child, a table and a results
/// directory per stack, and the combined report with the stack section at `<out>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunSweep {
    /// A knob of the load.
    Knob(SweepAxis),
    /// The stacks.
    Stack(Vec<Stack>),
}

impl std::str::FromStr for RunSweep {
    type Err = String;

    fn from_str(s: &str) -> Result<RunSweep, String> {
        match s.split_once('=') {
            Some((key, values)) if key.trim() == "stack" => values
                .split(',')
                .map(crate::cli::tls::parse_stack)
                .collect::<Result<Vec<_>, _>>()
                .map(RunSweep::Stack),
            _ => s.parse().map(RunSweep::Knob).map_err(|e| {
                format!("{e} (or stack=h1,h1-tls: the protocol stacks, docs/stacks.md)")
            }),
        }
    }
}

impl std::fmt::Display for RunSweep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunSweep::Knob(axis) => axis.fmt(f),
            RunSweep::Stack(stacks) => {
                let names: Vec<&str> = stacks.iter().map(|s| s.as_str()).collect();
                write!(f, "stack={}", names.join(","))
            }
        }
    }
}

/// The knob axes of `sweeps` (the stack axis is run as `--stack` is).
pub fn knob_sweeps(sweeps: &[RunSweep]) -> Vec<SweepAxis> {
    sweeps
        .iter()
        .filter_map(|s| match s {
            RunSweep::Knob(axis) => Some(axis.clone()),
            RunSweep::Stack(_) => None,
        })
        .collect()
}
