//! One benchmark's counts as gungraun reports them: `cargo bench -- --output-format=json` prints
//! one JSON document per benchmark (schema `summary.v7`); the callgrind profile's total holds the
//! instruction count (`Ir`) and the cache simulation's misses.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The counts of one benchmark run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    /// `<function> <id>`, e.g. `server_sse fanout_100`.
    pub name: String,
    /// Deliveries the benchmark makes: the number its id ends in (`fanout_100` → 100).
    pub deliveries: u64,
    /// User-space instructions executed.
    pub instructions: u64,
    /// First-level cache misses: instruction reads, data reads and data writes.
    pub l1_misses: u64,
    /// Last-level cache misses: instruction reads, data reads and data writes.
    pub ll_misses: u64,
}

impl Count {
    /// Instructions per delivery.
    pub fn instructions_per_delivery(&self) -> f64 {
        self.instructions as f64 / self.deliveries as f64
    }
}

/// Gungraun's output could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CountsError {
    /// A line is not JSON.
    #[error("line {line}: not JSON: {source}")]
    NotJson {
        /// 1-based line number.
        line: usize,
        /// The parser's complaint.
        source: serde_json::Error,
    },
    /// A line lacks a field the gate needs.
    #[error("line {line}: no {field} (is this gungraun's --output-format=json?)")]
    Missing {
        /// 1-based line number.
        line: usize,
        /// The missing field.
        field: &'static str,
    },
    /// A benchmark id does not end in `_<deliveries>` with deliveries > 0.
    #[error("benchmark '{0}': its id must end in _<deliveries> (e.g. fanout_100)")]
    NoDeliveries(String),
    /// Two benchmarks of the same name.
    #[error("benchmark '{0}' appears twice")]
    Duplicate(String),
    /// No benchmark at all.
    #[error("no benchmark results in the input")]
    Empty,
}

/// Parses gungraun's JSON lines (blank lines and lines not starting with `{` are skipped, so
/// cargo's own messages may be mixed in), sorted by name.
pub fn parse_counts(text: &str) -> Result<Vec<Count>, CountsError> {
    let mut counts: Vec<Count> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if !line.trim_start().starts_with('{') {
            continue;
        }
        let doc: Value = serde_json::from_str(line).map_err(|source| CountsError::NotJson {
            line: line_no,
            source,
        })?;
        let count = one(&doc, line_no)?;
        if counts.iter().any(|c| c.name == count.name) {
            return Err(CountsError::Duplicate(count.name));
        }
        counts.push(count);
    }
    if counts.is_empty() {
        return Err(CountsError::Empty);
    }
    counts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(counts)
}

/// The counts of one benchmark document.
fn one(doc: &Value, line: usize) -> Result<Count, CountsError> {
    let missing = |field| CountsError::Missing { line, field };
    let function = doc["function_name"]
        .as_str()
        .ok_or(missing("function_name"))?;
    let id = doc["id"].as_str().ok_or(missing("id"))?;
    let name = format!("{function} {id}");
    let deliveries = id
        .rsplit('_')
        .next()
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| CountsError::NoDeliveries(name.clone()))?;
    let metrics = doc["profiles"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["tool"] == "Callgrind"))
        .map(|p| &p["data"]["total"]["metrics"])
        .ok_or(missing("a Callgrind profile"))?;
    let metric = |key: &str| metrics[key]["values"]["new"].as_u64();
    let sum = |keys: [&str; 3]| keys.iter().map(|k| metric(k)).sum::<Option<u64>>();
    Ok(Count {
        name,
        deliveries,
        instructions: metric("Ir").ok_or(missing("Ir"))?,
        l1_misses: sum(["I1mr", "D1mr", "D1mw"])
            .ok_or(missing("I1mr/D1mr/D1mw (cache simulation)"))?,
        ll_misses: sum(["ILmr", "DLmr", "DLmw"])
            .ok_or(missing("ILmr/DLmr/DLmw (cache simulation)"))?,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One line of gungraun's JSON output, trimmed to what the gate reads.
    pub(crate) fn line(function: &str, id: &str, ir: u64) -> String {
        let metrics = serde_json::json!({
            "Ir": {"values": {"new": ir}},
            "I1mr": {"values": {"new": 3}}, "D1mr": {"values": {"new": 2}},
            "D1mw": {"values": {"new": 1}}, "ILmr": {"values": {"new": 2}},
            "DLmr": {"values": {"new": 1}}, "DLmw": {"values": {"new": 0}},
        });
        serde_json::json!({
            "function_name": function, "id": id, "version": "7",
            "profiles": [{"tool": "Callgrind", "data": {"total": {"metrics": metrics}}}],
        })
        .to_string()
    }

    #[test]
    fn reads_names_deliveries_and_counts_sorted() {
        let text = format!(
            "   Compiling x\n{}\n\n{}\n",
            line("server_tcp", "fanout_100", 32_745),
            line("loadgen_sse", "messages_10", 56_661)
        );
        let counts = parse_counts(&text).unwrap();
        assert_eq!(counts.len(), 2);
        assert_eq!(counts[0].name, "loadgen_sse messages_10");
        let tcp = &counts[1];
        assert_eq!((tcp.deliveries, tcp.instructions), (100, 32_745));
        assert_eq!((tcp.l1_misses, tcp.ll_misses), (6, 3));
        assert!((tcp.instructions_per_delivery() - 327.45).abs() < 1e-9);
    }

    #[test]
    fn refuses_what_it_cannot_gate() {
        assert!(matches!(parse_counts(""), Err(CountsError::Empty)));
        assert!(matches!(
            parse_counts("{not json"),
            Err(CountsError::NotJson { line: 1, .. })
        ));
        assert!(matches!(
            parse_counts(&line("f", "fanout", 1)),
            Err(CountsError::NoDeliveries(_))
        ));
        assert!(matches!(
            parse_counts(&line("f", "x_0", 1)),
            Err(CountsError::NoDeliveries(_))
        ));
        let twice = format!("{}\n{}", line("f", "x_1", 1), line("f", "x_1", 2));
        assert!(matches!(
            parse_counts(&twice),
            Err(CountsError::Duplicate(_))
        ));
        assert!(matches!(
            parse_counts(r#"{"function_name":"f","id":"x_1","profiles":[]}"#),
            Err(CountsError::Missing { line: 1, .. })
        ));
    }
}
