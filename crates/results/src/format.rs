//! Figures written for people, the same in every view (the report's tables and the gate's).

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

/// A figure with about three significant digits and no needless zeros: `180`, `2.5`, `0.013`;
/// `0` for zero, and Rust's own words for infinities and NaN.
pub fn number(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x == 0.0 { "0".into() } else { x.to_string() };
    }
    let a = x.abs();
    let digits = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A row's delivery account as the tables show it: `lost/duplicated/reordered`, then the events
/// not delivered that are not lost, when there are any: `0/0/0 +12 late`, `0/0/0 +3 unpublished`.
pub fn loss(row: &crate::Row) -> String {
    let mut out = format!("{}/{}/{}", row.lost, row.duplicated, row.reordered);
    if row.overload.late > 0 {
        out.push_str(&format!(" +{} late", row.overload.late));
    }
    if row.overload.unpublished > 0 {
        out.push_str(&format!(" +{} unpublished", row.overload.unpublished));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{loss, number};

    #[test]
    fn loss_shows_late_and_unpublished_apart() {
        let mut row = crate::tests::sample().rows[0].clone();
        assert_eq!(loss(&row), "0/0/0");
        (row.lost, row.duplicated, row.reordered) = (1, 2, 3);
        (row.overload.late, row.overload.unpublished) = (12, 4);
        assert_eq!(loss(&row), "1/2/3 +12 late +4 unpublished");
        assert_eq!(row.undelivered(), 17);
    }

    #[test]
    fn three_digits_without_needless_zeros() {
        assert_eq!(number(180.4), "180");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(20.0), "20");
        assert_eq!(number(0.0125), "0.013");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(f64::INFINITY), "inf");
    }
}
