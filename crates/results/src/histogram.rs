//! Latency histograms: HdrHistogram in nanoseconds (3 significant digits, 1 ns .. 60 s). In memory
//! a row holds the histogram itself; only its JSON form is V2 + deflate in base64 ([`as_base64`], used
//! with `serde(with)`), so results can be merged and re-plotted.

use crate::Latency;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};

/// Highest trackable latency: 60 s in nanoseconds. Larger values are clamped, not dropped.
pub const MAX_LATENCY_NS: u64 = 60_000_000_000;

/// A latency histogram in nanoseconds.
pub type LatencyHistogram = Histogram<u64>;

/// A new, empty latency histogram with rtbench's bounds and precision.
pub fn new_histogram() -> LatencyHistogram {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("static bounds are valid")
}

/// Serialises `h` as base64 of its V2 + deflate encoding.
pub fn encode_histogram(h: &LatencyHistogram) -> String {
    let mut buf = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut buf)
        .expect("serialising to a Vec cannot fail");
    STANDARD.encode(buf)
}

/// A histogram string that does not decode.
#[derive(Debug, thiserror::Error)]
#[error("latency histogram does not decode: {0}")]
pub struct BadHistogram(String);

impl BadHistogram {
    /// An error saying `reason`.
    pub(crate) fn new(reason: String) -> Self {
        BadHistogram(reason)
    }
}

/// Decodes a histogram written by [`encode_histogram`].
pub fn decode_histogram(text: &str) -> Result<LatencyHistogram, BadHistogram> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|e| BadHistogram(e.to_string()))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| BadHistogram(format!("{e:?}")))
}

/// `serde(with = "crate::histogram::as_base64")`: a [`LatencyHistogram`] as the base64 text of its
/// V2 + deflate encoding.
pub mod as_base64 {
    use super::{LatencyHistogram, decode_histogram, encode_histogram};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `h` as base64 text.
    pub fn serialize<S: Serializer>(h: &LatencyHistogram, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode_histogram(h))
    }

    /// Reads a histogram written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<LatencyHistogram, D::Error> {
        let text = String::deserialize(d)?;
        decode_histogram(&text).map_err(serde::de::Error::custom)
    }
}

impl Latency {
    /// Percentiles of a nanosecond histogram, in microseconds. An empty histogram gives zeros.
    pub fn from_histogram(h: &LatencyHistogram) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        let us = |ns: u64| ns as f64 / 1_000.0;
        Latency {
            p50: us(h.value_at_quantile(0.50)),
            p90: us(h.value_at_quantile(0.90)),
            p99: us(h.value_at_quantile(0.99)),
            p999: us(h.value_at_quantile(0.999)),
            max: us(h.max()),
            mean: h.mean() / 1_000.0,
            uncertainty_us: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_percentiles() {
        let mut h = new_histogram();
        for v in 1..=1000u64 {
            h.record(v * 1_000).unwrap();
        }
        let back = decode_histogram(&encode_histogram(&h)).unwrap();
        assert_eq!(back.len(), 1000);
        let l = Latency::from_histogram(&back);
        assert!((l.p50 - 500.0).abs() <= 1.0, "p50 {}", l.p50);
        assert!((l.max - 1000.0).abs() <= 1.0);
        assert!(decode_histogram("not base64!").is_err());
        assert_eq!(
            Latency::from_histogram(&new_histogram()),
            Latency::default()
        );
    }
}
