//! The scenario file format, read strictly: every table and key is known (`deny_unknown_fields`),
//! required keys must be there, values must have their type and range. Errors are one line that
//! names the file, the line, the table and the key.
//!
//! ```toml
//! description = "one line saying what the workload is"
//! clients = 100            # clients per transport
//! room_size = 10           # members per room, one topic each (default: every client in one room)
//! seed = 1                 # seed of Poisson gaps and send phases (default 1)
//!
//! [push]                   # events the server publishes to every room (optional)
//! rate_per_s = 20          # per room
//! arrivals = "fixed"       # "fixed" or "poisson"
//! payload_bytes = 128
//!
//! [send]                   # messages clients publish (optional; [push], [send] or both)
//! senders_per_room = 2     # default: every member
//! rate_per_s = 0.5         # bursts per second per sender
//! arrivals = "poisson"
//! payload_bytes = 64       # at least 40: the sender's stamp
//! burst = 5                # messages per burst (default 1)
//! burst_gap = "40ms"       # between the messages of a burst (default 0s)
//! to = "room"              # "room" (members receive it) or "server" (the room's input topic)
//!
//! [polling]                # optional
//! poll_interval = "500ms"
//! longpoll_timeout = "30s"
//!
//! [timing]                 # optional
//! warmup = "2s"
//! window = "10s"
//! tail = "500ms"
//! drain = "2s"
//! ```

use crate::config::{Arrivals, SendTo};
use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// A whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ScenarioFile {
    pub(super) description: String,
    pub(super) clients: u64,
    pub(super) room_size: Option<u64>,
    pub(super) seed: Option<u64>,
    pub(super) push: Option<PushTable>,
    pub(super) send: Option<SendTable>,
    #[serde(default)]
    pub(super) polling: PollingTable,
    #[serde(default)]
    pub(super) timing: TimingTable,
}

/// `[push]`: the server's events.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PushTable {
    pub(super) rate_per_s: f64,
    pub(super) arrivals: Arrivals,
    pub(super) payload_bytes: usize,
}

/// `[send]`: clients' messages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SendTable {
    pub(super) senders_per_room: Option<u64>,
    pub(super) rate_per_s: f64,
    pub(super) arrivals: Arrivals,
    pub(super) payload_bytes: usize,
    pub(super) burst: Option<u32>,
    #[serde(default, deserialize_with = "duration")]
    pub(super) burst_gap: Option<Duration>,
    pub(super) to: SendTo,
}

/// `[polling]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PollingTable {
    #[serde(default, deserialize_with = "duration")]
    pub(super) poll_interval: Option<Duration>,
    #[serde(default, deserialize_with = "duration")]
    pub(super) longpoll_timeout: Option<Duration>,
}

/// `[timing]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TimingTable {
    #[serde(default, deserialize_with = "duration")]
    pub(super) warmup: Option<Duration>,
    #[serde(default, deserialize_with = "duration")]
    pub(super) window: Option<Duration>,
    #[serde(default, deserialize_with = "duration")]
    pub(super) tail: Option<Duration>,
    #[serde(default, deserialize_with = "duration")]
    pub(super) drain: Option<Duration>,
}

/// A duration written as a string: `500ms`, `2s`, `1m`.
fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_duration(&text).map(Some).map_err(|e| {
        serde::de::Error::custom(format!(
            "invalid duration \"{text}\": {e} (examples: 500ms, 2s, 1m)"
        ))
    })
}

/// Parses `text`, or returns the one-line message and the 1-based line of the error.
pub(super) fn parse(text: &str) -> Result<ScenarioFile, (usize, String)> {
    toml::from_str(text).map_err(|e| {
        let start = e.span().map_or(0, |s| s.start);
        locate(text, start, e.message())
    })
}

/// Rewrites a TOML error at byte `start` as `(line, message)`, naming the table and key.
fn locate(text: &str, start: usize, message: &str) -> (usize, String) {
    let start = start.min(text.len());
    let line_no = text[..start].matches('\n').count() + 1;
    let lines: Vec<&str> = text.lines().collect();
    let line = lines.get(line_no - 1).map_or("", |l| l.trim());
    let header = |l: &str| {
        let l = l.trim();
        (l.starts_with('[') && !l.starts_with("[[")).then(|| {
            l.trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
    };
    let enclosing = lines[..(line_no - 1).min(lines.len())]
        .iter()
        .rev()
        .find_map(|l| header(l));
    let place = |table: Option<String>| match table {
        Some(t) => format!("in [{t}]"),
        None => "at the top level".to_string(),
    };
    let key_on_line = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string());
    let message = message.trim().replace('\n', " ");
    let text = if let Some(rest) = message.strip_prefix("unknown field ") {
        let (key, expected) = rest.split_once(", ").unwrap_or((rest, ""));
        format!("unknown key {key} {}; {expected}", place(enclosing))
    } else if let Some(key) = message.strip_prefix("missing field ") {
        let table = header(line).or(key_on_line).or(enclosing);
        format!("missing key {key} {}", place(table))
    } else if let (Some(key), None) = (key_on_line, header(line)) {
        format!("key `{key}` {}: {message}", place(enclosing))
    } else {
        message
    };
    (line_no, text.trim_end_matches("; ").to_string())
}
