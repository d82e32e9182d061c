//! Ratings derived from measurements, on the textbook's own four-level scales, and the verdict of a
//! textbook claim against a rating.
//!
//! A rating comes from one ratio to the raw-TCP floor measured under the same workload, cut at
//! fixed bounds. The bounds live here only; the page and the Markdown print them from these
//! constants, so a reader always sees the rule that produced every verdict.

use std::fmt;

/// A textbook scale: four levels, lowest first, and the ratio bounds between them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// Column of the textbook table it rates.
    pub name: &'static str,
    /// What ratio is rated.
    pub measure: &'static str,
    /// Level names, lowest first, as the textbook writes them.
    pub levels: [&'static str; 4],
    /// A ratio at or above `bounds[i]` is at least level `i + 1`.
    pub bounds: [f64; 3],
}

/// Latency, rated on p50 over the floor's p50. Within half a floor of the floor is "Muy Baja";
/// up to one extra floor round trip "Baja"; an order of magnitude past that "Alta".
pub const LATENCY: Scale = Scale {
    name: "Latencia",
    measure: "p50 delivery latency ÷ the raw-TCP floor's p50 under the same workload",
    levels: ["Muy Baja", "Baja", "Media-Alta", "Alta"],
    bounds: [1.5, 3.0, 30.0],
};

/// Overhead, rated on wire bytes per delivery (both directions, headers and handshakes included)
/// over the floor's: the deterministic cost figure.
pub const OVERHEAD: Scale = Scale {
    name: "Sobrecarga",
    measure: "wire bytes per delivery ÷ the raw-TCP floor's under the same workload",
    levels: ["Muy Baja", "Baja", "Media", "Alta"],
    bounds: [1.25, 2.0, 4.0],
};

/// A position on a scale: 0 is the lowest level, 3 the highest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Level(pub usize);

impl Scale {
    /// The level of `ratio`, or `None` when it is not a positive finite number.
    pub fn rate(&self, ratio: f64) -> Option<Level> {
        (ratio.is_finite() && ratio > 0.0)
            .then(|| Level(self.bounds.iter().filter(|b| ratio >= **b).count()))
    }

    /// The level a textbook label names (`"Media-Alta"`), if it is on this scale.
    pub fn level_of(&self, label: &str) -> Option<Level> {
        self.levels.iter().position(|l| *l == label).map(Level)
    }

    /// The name of `level`.
    pub fn label(&self, level: Level) -> &'static str {
        self.levels[level.0.min(3)]
    }

    /// The rule, one line per level: `Muy Baja: below 1.5×`, `Baja: 1.5× to 3×`, `Alta: 30× or more`.
    pub fn rules(&self) -> Vec<String> {
        let b = self.bounds.map(|x| crate::format::number(x) + "×");
        vec![
            format!("{}: below {}", self.levels[0], b[0]),
            format!("{}: {} to {}", self.levels[1], b[0], b[1]),
            format!("{}: {} to {}", self.levels[2], b[1], b[2]),
            format!("{}: {} or more", self.levels[3], b[2]),
        ]
    }
}

/// A textbook claim held against a measured rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Same level.
    Agrees,
    /// The measurement is this many levels below the claim.
    Lower(usize),
    /// The measurement is this many levels above the claim.
    Higher(usize),
}

impl Verdict {
    /// Compares a claimed level with a measured one.
    pub fn of(claimed: Level, measured: Level) -> Verdict {
        match measured.0.cmp(&claimed.0) {
            std::cmp::Ordering::Equal => Verdict::Agrees,
            std::cmp::Ordering::Less => Verdict::Lower(claimed.0 - measured.0),
            std::cmp::Ordering::Greater => Verdict::Higher(measured.0 - claimed.0),
        }
    }

    /// True for [`Verdict::Agrees`].
    pub fn agrees(self) -> bool {
        self == Verdict::Agrees
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let levels = |n: &usize| {
            if *n == 1 {
                "one level".to_string()
            } else {
                format!("{n} levels")
            }
        };
        match self {
            Verdict::Agrees => f.write_str("agrees"),
            Verdict::Lower(n) => write!(f, "disagrees: {} lower than claimed", levels(n)),
            Verdict::Higher(n) => write!(f, "disagrees: {} higher than claimed", levels(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_cut_the_ratio_into_four_levels() {
        assert_eq!(LATENCY.rate(1.0), Some(Level(0)));
        assert_eq!(LATENCY.rate(1.49), Some(Level(0)));
        assert_eq!(
            LATENCY.rate(1.5),
            Some(Level(1)),
            "a bound belongs to the level above"
        );
        assert_eq!(LATENCY.rate(2.9), Some(Level(1)));
        assert_eq!(LATENCY.rate(10.0), Some(Level(2)));
        assert_eq!(LATENCY.rate(438.0), Some(Level(3)));
        assert_eq!(OVERHEAD.rate(1.11), Some(Level(0)));
        assert_eq!(OVERHEAD.rate(2.3), Some(Level(2)));
        assert_eq!(OVERHEAD.rate(7.0), Some(Level(3)));
        assert_eq!(OVERHEAD.rate(0.0), None);
        assert_eq!(OVERHEAD.rate(f64::NAN), None);
        assert_eq!(OVERHEAD.rate(f64::INFINITY), None);
    }

    #[test]
    fn labels_round_trip_and_rules_state_every_bound() {
        assert_eq!(LATENCY.level_of("Media-Alta"), Some(Level(2)));
        assert_eq!(OVERHEAD.level_of("Media"), Some(Level(2)));
        assert_eq!(OVERHEAD.level_of("Media-Alta"), None);
        for s in [LATENCY, OVERHEAD] {
            for (i, l) in s.levels.iter().enumerate() {
                assert_eq!(s.label(Level(i)), *l);
            }
        }
        assert_eq!(
            LATENCY.rules(),
            [
                "Muy Baja: below 1.5×",
                "Baja: 1.5× to 3×",
                "Media-Alta: 3× to 30×",
                "Alta: 30× or more"
            ]
        );
        assert_eq!(OVERHEAD.rules()[1], "Baja: 1.25× to 2×");
    }

    #[test]
    fn verdicts_say_which_way_and_how_far() {
        assert_eq!(Verdict::of(Level(3), Level(3)), Verdict::Agrees);
        assert!(Verdict::of(Level(1), Level(1)).agrees());
        assert_eq!(Verdict::of(Level(3), Level(0)), Verdict::Lower(3));
        assert_eq!(Verdict::of(Level(2), Level(3)), Verdict::Higher(1));
        assert_eq!(
            Verdict::Lower(3).to_string(),
            "disagrees: 3 levels lower than claimed"
        );
        assert_eq!(
            Verdict::Higher(1).to_string(),
            "disagrees: one level higher than claimed"
        );
    }
}
