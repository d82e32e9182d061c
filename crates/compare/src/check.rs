//! One line of the comparison: a figure of one transport in both runs, the rule it is held to,
//! and the verdict.

use rtbench_results::Transport;
use rtbench_results::format::number;

/// How a figure is judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// Must be 0 in the current run (loss, duplicates, reordering, client errors).
    Zero,
    /// Must equal the baseline exactly (deliveries in the window).
    Equal,
    /// May exceed the baseline by at most this many percent; lower is better.
    AtMost(f64),
    /// Shown, not gated; the text says why.
    Info(&'static str),
}

/// What the gate concluded about one figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the rule.
    Ok,
    /// Better than the baseline by more than the tolerance: not a failure, but the baseline may be
    /// worth regenerating.
    Better,
    /// Outside the rule: the gate fails.
    Regression,
    /// Not gated.
    Info,
}

impl Verdict {
    /// The word the tables print.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Better => "better",
            Verdict::Regression => "REGRESSION",
            Verdict::Info => "info",
        }
    }
}

/// Slack for floating-point noise in figures that are equal in fact.
const EPSILON: f64 = 1e-9;

/// One figure of one transport, compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Transport (row) the figure belongs to.
    pub transport: Transport,
    /// Name of the figure, e.g. `bytes_per_delivery` or `p50 ÷ tcp`.
    pub metric: String,
    /// Its value in the baseline, if the baseline has it.
    pub baseline: Option<f64>,
    /// Its value in the current run, if the current run has it.
    pub current: Option<f64>,
    /// The rule it is held to.
    pub rule: Rule,
    /// The outcome.
    pub verdict: Verdict,
}

impl Check {
    /// Judges `current` against `baseline` under `rule`. A gated figure missing from either run is
    /// shown as not gated (e.g. packets when the kernel counters were not read).
    pub fn new(
        transport: Transport,
        metric: &str,
        baseline: Option<f64>,
        current: Option<f64>,
        rule: Rule,
    ) -> Check {
        let (rule, verdict) = match (rule, baseline, current) {
            (Rule::Info(why), _, _) => (Rule::Info(why), Verdict::Info),
            (Rule::Zero, _, Some(c)) => (rule, ok_if(c <= EPSILON)),
            (Rule::Equal, Some(b), Some(c)) => (rule, ok_if((c - b).abs() <= EPSILON)),
            (Rule::AtMost(pct), Some(b), Some(c)) => (rule, at_most(b, c, pct)),
            _ => (Rule::Info("not measured in both runs"), Verdict::Info),
        };
        Check {
            transport,
            metric: metric.to_string(),
            baseline,
            current,
            rule,
            verdict,
        }
    }

    /// The change from baseline to current: a percentage when the baseline is not 0, else the
    /// difference; empty when either is missing.
    pub fn delta(&self) -> String {
        let (Some(b), Some(c)) = (self.baseline, self.current) else {
            return String::new();
        };
        if b.abs() > EPSILON && !matches!(self.rule, Rule::Zero | Rule::Equal) {
            format!("{:+.1}%", (c / b - 1.0) * 100.0)
        } else if (c - b).abs() <= EPSILON {
            "0".into()
        } else {
            let sign = if c > b { "+" } else { "" };
            format!("{sign}{}", number(c - b))
        }
    }

    /// The rule as the tables print it: `= 0`, `= baseline`, `≤ +2%`, `not gated: …`.
    pub fn limit(&self) -> String {
        match self.rule {
            Rule::Zero => "= 0".into(),
            Rule::Equal => "= baseline".into(),
            Rule::AtMost(pct) => format!("≤ +{pct}%"),
            Rule::Info(why) => format!("not gated: {why}"),
        }
    }
}

fn ok_if(ok: bool) -> Verdict {
    if ok { Verdict::Ok } else { Verdict::Regression }
}

/// `current` may exceed `baseline` by `pct` percent; below it by more than `pct` is better.
fn at_most(baseline: f64, current: f64, pct: f64) -> Verdict {
    let slack = baseline.abs() * pct / 100.0 + EPSILON;
    if current > baseline + slack {
        Verdict::Regression
    } else if current < baseline - slack {
        Verdict::Better
    } else {
        Verdict::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(b: f64, c: f64, rule: Rule) -> Verdict {
        Check::new(Transport::Sse, "m", Some(b), Some(c), rule).verdict
    }

    #[test]
    fn rules_judge_as_documented() {
        assert_eq!(verdict(0.0, 0.0, Rule::Zero), Verdict::Ok);
        assert_eq!(verdict(0.0, 1.0, Rule::Zero), Verdict::Regression);
        assert_eq!(verdict(4000.0, 4000.0, Rule::Equal), Verdict::Ok);
        assert_eq!(verdict(4000.0, 3999.0, Rule::Equal), Verdict::Regression);
        assert_eq!(verdict(100.0, 101.9, Rule::AtMost(2.0)), Verdict::Ok);
        assert_eq!(
            verdict(100.0, 102.1, Rule::AtMost(2.0)),
            Verdict::Regression
        );
        assert_eq!(verdict(100.0, 97.0, Rule::AtMost(2.0)), Verdict::Better);
        // A zero baseline admits no growth at all: requests on a push transport.
        assert_eq!(verdict(0.0, 0.0, Rule::AtMost(5.0)), Verdict::Ok);
        assert_eq!(verdict(0.0, 0.01, Rule::AtMost(5.0)), Verdict::Regression);
        assert_eq!(verdict(1.0, 99.0, Rule::Info("why")), Verdict::Info);
    }

    #[test]
    fn missing_figures_are_not_gated_and_deltas_read_well() {
        let c = Check::new(
            Transport::Sse,
            "packets",
            None,
            Some(3.0),
            Rule::AtMost(10.0),
        );
        assert_eq!(c.verdict, Verdict::Info);
        assert_eq!(c.delta(), "");
        assert!(c.limit().starts_with("not gated"));
        let c = Check::new(
            Transport::Sse,
            "bytes",
            Some(200.0),
            Some(250.0),
            Rule::AtMost(2.0),
        );
        assert_eq!(
            (c.delta().as_str(), c.limit().as_str()),
            ("+25.0%", "≤ +2%")
        );
        let c = Check::new(Transport::Sse, "lost", Some(0.0), Some(3.0), Rule::Zero);
        assert_eq!(c.delta(), "+3");
    }
}
