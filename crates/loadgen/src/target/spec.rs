//! The target file (`--target-file`, docs/contract.md "Other paths and field names"): where a
//! server rtbench did not write serves each transport and its publish and schedule endpoints (URL
//! templates with `{topic}`, `{cursor}`, `{timeout_ms}`), and what its event's fields are called.
//! Its defaults are the contract's, so a conforming server needs no file, and with the defaults
//! every URL and every parsed body is byte for byte what rtbench sent and read before the file
//! existed.
//!
//! The file is read strictly: an unknown table or key, a template that does not start with `/`,
//! lacks `{topic}` (or the cursor where a transport resumes by it) or names a placeholder that does
//! not exist, and empty or clashing field names are each one line of the error. One spec serves a
//! whole process ([`install`], [`current`]): a target run measures one server, and every client,
//! the check and the control plane read the same one.

use rtbench_proto::Transport;
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{LazyLock, OnceLock};

/// One piece of a URL template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Text as written.
    Text(String),
    /// `{topic}`.
    Topic,
    /// `{cursor}`: the last event held.
    Cursor,
    /// `{timeout_ms}`: how long a long poll may be held.
    TimeoutMs,
}

/// A URL path and query with placeholders, parsed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

impl Template {
    /// Parses `text` for `key`, allowing the placeholders in `allowed`; problems go to `errors`.
    fn parse(key: &str, text: &str, allowed: &[&str], errors: &mut Vec<String>) -> Template {
        let mut pieces = Vec::new();
        let mut rest = text;
        if !text.starts_with('/') {
            errors.push(format!("urls.{key}: '{text}' must start with '/'"));
        }
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let Some(close) = rest[open..].find('}') else {
                errors.push(format!("urls.{key}: '{text}' has a '{{' without '}}'"));
                return Template { pieces };
            };
            let name = &rest[open + 1..open + close];
            match name {
                _ if !allowed.contains(&name) => errors.push(format!(
                    "urls.{key}: unknown placeholder '{{{name}}}' (allowed here: {})",
                    allowed
                        .iter()
                        .map(|a| format!("{{{a}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                "topic" => pieces.push(Piece::Topic),
                "cursor" => pieces.push(Piece::Cursor),
                _ => pieces.push(Piece::TimeoutMs),
            }
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Template { pieces }
    }

    fn has(&self, piece: &Piece) -> bool {
        self.pieces.contains(piece)
    }

    /// The path with the placeholders filled in.
    pub fn render(&self, topic: &str, cursor: &str, timeout_ms: &str) -> String {
        let mut out = String::with_capacity(64);
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Topic => out.push_str(topic),
                Piece::Cursor => out.push_str(cursor),
                Piece::TimeoutMs => out.push_str(timeout_ms),
            }
        }
        out
    }

    /// The path without the query parameter that carries the topic (the check's `bad.no_topic`
    /// clause), the cursor filled in; as [`Template::render`] with an empty topic when the topic
    /// is not a query parameter of its own.
    pub fn render_without_topic(&self, cursor: &str) -> String {
        let mut out = String::with_capacity(64);
        let mut drop_amp = false;
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) if drop_amp => {
                    out.push_str(t.strip_prefix('&').unwrap_or(t));
                    drop_amp = false;
                }
                Piece::Text(t) => out.push_str(t),
                Piece::Topic => {
                    let cut = out.rfind(['?', '&']).map_or(out.len(), |i| i + 1);
                    drop_amp = out[cut..].ends_with('=');
                    if drop_amp {
                        out.truncate(cut);
                    }
                }
                Piece::Cursor => out.push_str(cursor),
                Piece::TimeoutMs => {}
            }
        }
        out
    }

    /// Whether the template carries the cursor (SSE's default resumes by `Last-Event-ID` instead).
    pub fn has_cursor(&self) -> bool {
        self.has(&Piece::Cursor)
    }

    /// Whether the topic is in the query rather than in the path (the check's `bad.no_topic`
    /// clause can only leave out a query parameter).
    pub fn topic_in_query(&self) -> bool {
        let mut seen_query = false;
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) if t.contains('?') => seen_query = true,
                Piece::Topic => return seen_query,
                _ => {}
            }
        }
        false
    }
}

/// The names of the event's three fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    /// The sequence number's (`seq`).
    pub seq: String,
    /// The scheduled time's (`t_pub_ns`).
    pub t_pub_ns: String,
    /// The payload's (`payload`).
    pub payload: String,
}

/// Where a target serves what, and what its events' fields are called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    /// `GET` of a short poll.
    pub short_poll: Template,
    /// `GET` of a long poll.
    pub long_poll: Template,
    /// `GET` of an SSE stream (resumed with `Last-Event-ID` unless it carries `{cursor}`).
    pub sse: Template,
    /// The WebSocket upgrade.
    pub websocket: Template,
    /// `POST` of a publish (the payload is the body).
    pub publish: Template,
    /// `POST` of the server's publisher's schedule (docs/contract.md, "Stamping").
    pub schedule: String,
    /// The event's field names.
    pub fields: Fields,
}

/// What the target file may say; every key optional, none other allowed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    #[serde(default)]
    urls: UrlsFile,
    #[serde(default)]
    fields: FieldsFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct UrlsFile {
    short_poll: Option<String>,
    long_poll: Option<String>,
    sse: Option<String>,
    websocket: Option<String>,
    publish: Option<String>,
    schedule: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldsFile {
    seq: Option<String>,
    t_pub_ns: Option<String>,
    payload: Option<String>,
}

/// The contract's URLs (docs/contract.md, "The four transports"), keyed as the file's `[urls]`
/// table names them (a transport's key is its name).
const DEFAULT_URLS: [(&str, &str); 6] = [
    (
        Transport::ShortPoll.as_str(),
        "/poll?topic={topic}&after={cursor}",
    ),
    (
        Transport::LongPoll.as_str(),
        "/longpoll?topic={topic}&after={cursor}&timeout_ms={timeout_ms}",
    ),
    (Transport::Sse.as_str(), "/sse?topic={topic}"),
    (
        Transport::WebSocket.as_str(),
        "/ws?topic={topic}&after={cursor}",
    ),
    ("publish", "/publish?topic={topic}"),
    ("schedule", rtbench_proto::paths::SCHEDULE),
];

/// Why a target file cannot be used: one line per problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .lines.join("\n"))]
pub struct SpecError {
    /// Each problem, one line naming the file.
    pub lines: Vec<String>,
}

impl Default for TargetSpec {
    fn default() -> TargetSpec {
        TargetSpec::from_file(SpecFile::default()).expect("the contract's defaults are valid")
    }
}

impl TargetSpec {
    /// Reads and checks a target file.
    pub fn load(path: &Path) -> Result<TargetSpec, SpecError> {
        let name = path.display();
        let text = std::fs::read_to_string(path).map_err(|e| SpecError {
            lines: vec![format!("{name}: {e}")],
        })?;
        TargetSpec::parse(&text).map_err(|lines| SpecError {
            lines: lines.into_iter().map(|l| format!("{name}: {l}")).collect(),
        })
    }

    /// Parses a target file's text; the problems, one line each.
    pub fn parse(text: &str) -> Result<TargetSpec, Vec<String>> {
        let file: SpecFile = toml::from_str(text).map_err(|e| {
            let mut line = e.message().to_string();
            if let Some(span) = e.span() {
                let at = text[..span.start].matches('\n').count() + 1;
                let _ = write!(line, " (line {at})");
            }
            vec![line]
        })?;
        TargetSpec::from_file(file)
    }

    fn from_file(file: SpecFile) -> Result<TargetSpec, Vec<String>> {
        let mut errors = Vec::new();
        let u = file.urls;
        let given = [
            u.short_poll,
            u.long_poll,
            u.sse,
            u.websocket,
            u.publish,
            u.schedule,
        ];
        let text = |i: usize| given[i].clone().unwrap_or(DEFAULT_URLS[i].1.to_string());
        let mut template = |i: usize, allowed: &[&str], needs: &[&str]| {
            let (key, t) = (DEFAULT_URLS[i].0, text(i));
            for need in needs {
                if !t.contains(&format!("{{{need}}}")) {
                    errors.push(format!("urls.{key}: '{t}' has no {{{need}}}"));
                }
            }
            Template::parse(key, &t, allowed, &mut errors)
        };
        let resumable = ["topic", "cursor"];
        let short_poll = template(0, &resumable, &resumable);
        let long_poll = template(1, &["topic", "cursor", "timeout_ms"], &resumable);
        let sse = template(2, &resumable, &["topic"]);
        let websocket = template(3, &resumable, &resumable);
        let publish = template(4, &["topic"], &["topic"]);
        let schedule = text(5);
        if !schedule.starts_with('/') || schedule.contains('{') {
            errors.push(format!(
                "urls.schedule: '{schedule}' must be a path starting with '/', without placeholders"
            ));
        }
        let f = file.fields;
        let fields = Fields {
            seq: f.seq.unwrap_or_else(|| "seq".into()),
            t_pub_ns: f.t_pub_ns.unwrap_or_else(|| "t_pub_ns".into()),
            payload: f.payload.unwrap_or_else(|| "payload".into()),
        };
        check_fields(&fields, &mut errors);
        match errors.is_empty() {
            true => Ok(TargetSpec {
                short_poll,
                long_poll,
                sse,
                websocket,
                publish,
                schedule,
                fields,
            }),
            false => Err(errors),
        }
    }

    /// The template of an HTTP transport of the contract (`None` for the others).
    pub fn template(&self, transport: Transport) -> Option<&Template> {
        match transport {
            Transport::ShortPoll => Some(&self.short_poll),
            Transport::LongPoll => Some(&self.long_poll),
            Transport::Sse => Some(&self.sse),
            Transport::WebSocket => Some(&self.websocket),
            _ => None,
        }
    }

    /// Whether the event's fields are the contract's (then bodies are read as they come).
    fn canonical_fields(&self) -> bool {
        self.fields.seq == "seq"
            && self.fields.t_pub_ns == "t_pub_ns"
            && self.fields.payload == "payload"
    }

    /// A pushed message (event or gap notice) with the contract's field names.
    pub fn message<'a>(&self, body: &'a [u8]) -> Cow<'a, [u8]> {
        if self.canonical_fields() {
            return Cow::Borrowed(body);
        }
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(mut v) => {
                self.rename(&mut v);
                Cow::Owned(serde_json::to_vec(&v).unwrap_or_else(|_| body.to_vec()))
            }
            Err(_) => Cow::Borrowed(body),
        }
    }

    /// A poll answer `{"dropped":D,"events":[...]}` whose events have the contract's field names.
    pub fn batch<'a>(&self, body: &'a [u8]) -> Cow<'a, [u8]> {
        if self.canonical_fields() {
            return Cow::Borrowed(body);
        }
        let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(body) else {
            return Cow::Borrowed(body);
        };
        if let Some(events) = v.get_mut("events").and_then(|e| e.as_array_mut()) {
            events.iter_mut().for_each(|e| self.rename(e));
        }
        Cow::Owned(serde_json::to_vec(&v).unwrap_or_else(|_| body.to_vec()))
    }

    fn rename(&self, event: &mut serde_json::Value) {
        let Some(map) = event.as_object_mut() else {
            return;
        };
        for (theirs, ours) in [
            (&self.fields.seq, "seq"),
            (&self.fields.t_pub_ns, "t_pub_ns"),
            (&self.fields.payload, "payload"),
        ] {
            if let Some(value) = map.remove(theirs.as_str()) {
                map.insert(ours.to_string(), value);
            }
        }
    }
}

fn check_fields(fields: &Fields, errors: &mut Vec<String>) {
    let all = [
        ("seq", &fields.seq),
        ("t_pub_ns", &fields.t_pub_ns),
        ("payload", &fields.payload),
    ];
    for (key, name) in all {
        if name.is_empty() || name.contains('"') || name == "dropped" {
            errors.push(format!(
                "fields.{key}: '{name}' is not a usable field name (empty, a quote, or 'dropped')"
            ));
        }
    }
    for (i, (key, name)) in all.iter().enumerate() {
        if let Some((other, _)) = all[i + 1..].iter().find(|(_, n)| n == name) {
            errors.push(format!("fields.{key} and fields.{other} are both '{name}'"));
        }
    }
}

/// The process's target spec, once installed.
static INSTALLED: OnceLock<TargetSpec> = OnceLock::new();

/// The contract's, when nothing was installed.
static CONTRACT: LazyLock<TargetSpec> = LazyLock::new(TargetSpec::default);

/// Makes `spec` the process's (before any client starts); `false` if one was already installed.
pub fn install(spec: TargetSpec) -> bool {
    INSTALLED.set(spec).is_ok()
}

/// Reads a target file (`--target-file`) and makes it the process's target spec; without one the
/// contract's URLs and field names apply. Each problem of the file is one line of the error.
pub fn install_file(path: Option<&Path>) -> Result<(), SpecError> {
    let Some(path) = path else { return Ok(()) };
    if !install(TargetSpec::load(path)?) {
        return Err(SpecError {
            lines: vec![format!(
                "{}: a target file was already given in this process",
                path.display()
            )],
        });
    }
    Ok(())
}

/// The process's target spec: the installed one, or the contract's.
pub fn current() -> &'static TargetSpec {
    INSTALLED.get().unwrap_or(&CONTRACT)
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
