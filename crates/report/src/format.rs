//! Number formatting shared by every view; [`number`] is the one the regression gate uses too.

pub use rtbench_results::format::{latency_us, number};

/// [`number`], or `–` when the figure was not measured.
pub fn opt_number(x: Option<f64>) -> String {
    x.map_or("–".into(), number)
}

/// A large figure rounded to a whole number, thousands grouped: `100,043`, `5,000`, `40`. A
/// figure below 10 keeps [`number`]'s digits (`2.5`).
pub fn whole(x: f64) -> String {
    if x.abs() < 10.0 {
        return number(x);
    }
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 {
        out.insert(0, '-');
    }
    out
}

/// A percentage with two decimals: `0.00%`, `1.25%`.
pub fn percent(x: f64) -> String {
    format!("{x:.2}%")
}

/// A byte count a person reads: `512 B`, `7.4 KiB`, `12.5 MiB` (negative growth keeps its sign).
pub fn bytes(x: f64) -> String {
    let a = x.abs();
    if a < 1024.0 {
        format!("{x:.0} B")
    } else if a < 1024.0 * 1024.0 {
        format!("{:.1} KiB", x / 1024.0)
    } else {
        format!("{:.1} MiB", x / (1024.0 * 1024.0))
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
        assert_eq!(whole(100_043.4), "100,043");
        assert_eq!(whole(5_000.0), "5,000");
        assert_eq!(whole(1_234_567.0), "1,234,567");
        assert_eq!(whole(40.0), "40");
        assert_eq!(whole(2.5), "2.5");
        assert_eq!(ratio(Some(1.0)), "1.00×");
        assert_eq!(ratio(None), "–");
        assert_eq!(opt_number(None), "–");
        assert_eq!(percent(0.1234), "0.12%");
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(7_577.6), "7.4 KiB");
        assert_eq!(bytes(-2_048.0), "-2.0 KiB");
        assert_eq!(bytes(3.0 * 1024.0 * 1024.0), "3.0 MiB");
    }
}
