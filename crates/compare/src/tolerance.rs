//! How far a gated figure may move before it is a regression, per kind of figure, in percent of
//! the baseline.
//!
//! The defaults come from the run-to-run spread measured on the CI machine kind with the CI
//! profile, 21 runs under light to heavy load from other processes (`docs/perf-gate.md` has the
//! numbers). Deterministic figures (bytes, requests per delivery) moved at most 2.0 % between two
//! runs (1.5 % on the best of several) — an event's fan-out straddling a window edge under load —
//! and get 3 %; TCP segments were not measured then and get 10 % until they are. Timings —
//! always ratios to the same run's raw-TCP floor, judged on the best of up to four runs (see
//! [`crate::gate`]) — moved at most +58 % (median latency) and +61 % (server CPU): they get
//! +100 %, i.e. a regression must double a ratio in every run.

use std::fmt;

/// Tolerances of the gate, each in percent of the baseline value (`2.0` = 2 %).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// Wire bytes per delivery.
    pub bytes: f64,
    /// HTTP requests per delivery.
    pub requests: f64,
    /// TCP segments per delivery (when both runs measured them).
    pub packets: f64,
    /// Median latency as a ratio to the same run's raw-TCP floor.
    pub p50: f64,
    /// Server CPU per delivery as a ratio to the same run's raw-TCP floor.
    pub cpu: f64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            bytes: 3.0,
            requests: 3.0,
            packets: 10.0,
            p50: 100.0,
            cpu: 100.0,
        }
    }
}

/// The names `--tolerance` accepts, in display order.
pub const NAMES: [&str; 5] = ["bytes", "requests", "packets", "p50", "cpu"];

/// A `--tolerance` setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToleranceError {
    /// Not of the form `NAME=PERCENT`.
    #[error("tolerance '{0}' is not NAME=PERCENT (e.g. p50=75 or bytes=2%)")]
    Syntax(String),
    /// An unknown name.
    #[error("unknown tolerance '{0}' (known: bytes, requests, packets, p50, cpu)")]
    Name(String),
    /// Not a finite, non-negative number.
    #[error("tolerance '{0}' must be a non-negative percentage")]
    Value(String),
}

impl Tolerances {
    /// Applies one `NAME=PERCENT` setting (a trailing `%` is allowed).
    pub fn set(&mut self, setting: &str) -> Result<(), ToleranceError> {
        let (name, value) = setting
            .split_once('=')
            .ok_or_else(|| ToleranceError::Syntax(setting.to_string()))?;
        let (name, value) = (name.trim(), value.trim());
        let pct: f64 = value
            .strip_suffix('%')
            .unwrap_or(value)
            .trim()
            .parse()
            .map_err(|_| ToleranceError::Value(setting.to_string()))?;
        if !pct.is_finite() || pct < 0.0 {
            return Err(ToleranceError::Value(setting.to_string()));
        }
        let slot = match name {
            "bytes" => &mut self.bytes,
            "requests" => &mut self.requests,
            "packets" => &mut self.packets,
            "p50" => &mut self.p50,
            "cpu" => &mut self.cpu,
            _ => return Err(ToleranceError::Name(name.to_string())),
        };
        *slot = pct;
        Ok(())
    }

    /// The defaults with every setting of `settings` applied in order.
    pub fn from_settings<S: AsRef<str>>(settings: &[S]) -> Result<Tolerances, ToleranceError> {
        let mut t = Tolerances::default();
        for s in settings {
            t.set(s.as_ref())?;
        }
        Ok(t)
    }

    /// The values in [`NAMES`] order.
    fn values(&self) -> [f64; 5] {
        [self.bytes, self.requests, self.packets, self.p50, self.cpu]
    }
}

impl fmt::Display for Tolerances {
    /// `bytes ±2%, requests ±5%, …`, as the report states them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, value)) in NAMES.iter().zip(self.values()).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name} +{value}%")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_override_defaults_and_bad_ones_say_why() {
        let t = Tolerances::from_settings(&["p50=40", "bytes = 0.5%"]).unwrap();
        assert_eq!((t.p50, t.bytes), (40.0, 0.5));
        assert_eq!(t.requests, Tolerances::default().requests);
        assert_eq!(
            Tolerances::from_settings(&["p50"]).unwrap_err(),
            ToleranceError::Syntax("p50".into())
        );
        assert_eq!(
            Tolerances::from_settings(&["latency=3"]).unwrap_err(),
            ToleranceError::Name("latency".into())
        );
        assert!(matches!(
            Tolerances::from_settings(&["p50=-1"]),
            Err(ToleranceError::Value(_))
        ));
        assert!(matches!(
            Tolerances::from_settings(&["p50=lots"]),
            Err(ToleranceError::Value(_))
        ));
        assert!(Tolerances::default().to_string().starts_with("bytes +3%"));
    }
}
