//! Number formatting shared by every view.

/// A latency given in microseconds, in the unit a person reads best: `48.2 µs`, `1.25 ms`, `251 ms`.
pub fn latency_us(us: f64) -> String {
    if us < 100.0 {
        format!("{us:.1} µs")
    } else if us < 1_000.0 {
        format!("{us:.0} µs")
    } else if us < 10_000.0 {
        format!("{:.2} ms", us / 1_000.0)
    } else if us < 1_000_000.0 {
        format!("{:.0} ms", us / 1_000.0)
    } else {
        format!("{:.2} s", us / 1_000_000.0)
    }
}

/// A figure with about three significant digits and no needless zeros: `180`, `2.5`, `0.012`.
pub fn number(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    let s = if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A ratio: `1.00×`, `2.3×`, `5,000×`.
pub fn ratio(x: Option<f64>) -> String {
    match x {
        None => "–".into(),
        Some(x) if x < 10.0 => format!("{x:.2}×"),
        Some(x) if x < 100.0 => format!("{x:.1}×"),
        Some(x) => format!("{x:.0}×"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_digits() {
        assert_eq!(latency_us(48.25), "48.2 µs");
        assert_eq!(latency_us(480.0), "480 µs");
        assert_eq!(latency_us(1_250.0), "1.25 ms");
        assert_eq!(latency_us(251_000.0), "251 ms");
        assert_eq!(latency_us(2_500_000.0), "2.50 s");
        assert_eq!(number(180.0), "180");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(0.0125), "0.013");
        assert_eq!(number(20.0), "20");
        assert_eq!(ratio(Some(1.0)), "1.00×");
        assert_eq!(ratio(None), "–");
    }
}
