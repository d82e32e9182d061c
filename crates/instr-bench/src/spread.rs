//! Run-to-run spread: how far the instruction count of each benchmark moves between repeated runs
//! of one unchanged tree — the measurement the gate's tolerance is chosen from.

use crate::counts::Count;
use crate::gate::pct_change;
use std::fmt::Write;

/// One benchmark's counts over several runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Spread {
    /// `<function> <id>`.
    pub name: String,
    /// Deliveries per run.
    pub deliveries: u64,
    /// Fewest instructions in any run.
    pub min: u64,
    /// Most instructions in any run.
    pub max: u64,
}

impl Spread {
    /// `(max − min) / min`, in %: the largest increase one run showed over another.
    pub fn spread_pct(&self) -> f64 {
        pct_change(self.min, self.max)
    }
}

/// Each benchmark's spread over `runs` (benchmarks missing from some run are left out).
pub fn spread(runs: &[Vec<Count>]) -> Vec<Spread> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    first
        .iter()
        .filter_map(|c| {
            let all: Option<Vec<u64>> = runs
                .iter()
                .map(|r| r.iter().find(|x| x.name == c.name).map(|x| x.instructions))
                .collect();
            let all = all?;
            Some(Spread {
                name: c.name.clone(),
                deliveries: c.deliveries,
                min: *all.iter().min()?,
                max: *all.iter().max()?,
            })
        })
        .collect()
}

/// The spreads as a Markdown table.
pub fn render_markdown(spreads: &[Spread], runs: usize) -> String {
    let mut out = format!(
        "| benchmark | deliveries | instr/deliv (min) | instr/deliv (max) | spread over {runs} runs |\n|---|---:|---:|---:|---:|\n"
    );
    for s in spreads {
        let d = s.deliveries as f64;
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} | {:.1} | {:.3} % |",
            s.name,
            s.deliveries,
            s.min as f64 / d,
            s.max as f64 / d,
            s.spread_pct()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counts::parse_counts;
    use crate::counts::tests::line;

    #[test]
    fn spread_is_the_largest_increase_between_runs() {
        let runs: Vec<Vec<Count>> = [1000, 1010, 1005]
            .iter()
            .map(|ir| parse_counts(&line("server_sse", "fanout_10", *ir)).unwrap())
            .collect();
        let s = spread(&runs);
        assert_eq!((s[0].min, s[0].max), (1000, 1010));
        assert!((s[0].spread_pct() - 1.0).abs() < 1e-9);
        let md = render_markdown(&s, 3);
        assert!(
            md.contains("| server_sse fanout_10 | 10 | 100.0 | 101.0 | 1.000 % |"),
            "{md}"
        );
        assert!(spread(&[]).is_empty());
    }
}
