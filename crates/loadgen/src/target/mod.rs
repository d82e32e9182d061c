//! Servers rtbench did not write (`docs/contract.md`): the loopback-only target address, and
//! `rtbench check`'s conformance suite ([`run_check`]) — the contract clause by clause against a
//! live server, each pass, fail or skipped with a reason, in the spirit of the Autobahn
//! WebSocket test suite's report.

pub mod clauses;
pub mod counted;
pub mod meter;
pub mod process;
pub mod publisher;
pub mod spec;
pub mod wire;

use clauses::Ctx;
use rtbench_proto::Transport;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// What a clause found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The server does what the clause says.
    Pass,
    /// It does not.
    Fail,
    /// The clause could not be checked (the reason says why).
    Skipped,
}

impl Verdict {
    /// `pass`, `FAIL` or `skipped`, as the table prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Skipped => "skipped",
        }
    }
}

/// One row of the check's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClauseResult {
    /// The clause's id (`sse.resume`), as `docs/contract.md` names it.
    pub id: String,
    /// What it found.
    pub verdict: Verdict,
    /// Why, in one line.
    pub reason: String,
}

/// Why the check could not run at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The URL is not `http://host:port`.
    #[error("'{0}' is not a target URL (expected http://127.0.0.1:PORT)")]
    BadUrl(String),
    /// The URL names a host that is not this machine.
    #[error(
        "'{0}' is not a loopback address: rtbench sends traffic only to this machine (127.0.0.1, ::1, localhost)"
    )]
    NotLoopback(String),
    /// Nothing usable answers there.
    #[error("{0}")]
    Unusable(String),
}

/// Parses `http://HOST:PORT[/]` (or `HOST:PORT`) into a loopback socket address; any other host
/// is refused.
pub fn loopback_addr(url: &str) -> Result<SocketAddr, TargetError> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let hostport = rest.strip_suffix('/').unwrap_or(rest);
    if hostport.is_empty() || hostport.contains('/') || url.starts_with("https://") {
        return Err(TargetError::BadUrl(url.to_string()));
    }
    let addrs: Vec<SocketAddr> = hostport
        .to_socket_addrs()
        .map_err(|_| TargetError::BadUrl(url.to_string()))?
        .collect();
    let is_loopback = |ip: IpAddr| ip.is_loopback();
    match addrs.iter().find(|a| is_loopback(a.ip())) {
        Some(a) if addrs.iter().all(|a| is_loopback(a.ip())) => Ok(*a),
        _ => Err(TargetError::NotLoopback(url.to_string())),
    }
}

/// How to run the check.
#[derive(Debug, Clone)]
pub struct CheckConfig {
    /// The target's HTTP address (loopback).
    pub addr: SocketAddr,
    /// Time limit of each clause.
    pub clause_timeout: Duration,
    /// Events the target keeps per topic, if known; otherwise read from `GET /settings` when the
    /// target serves it (the gap clauses skip when neither says).
    pub ring_capacity: Option<usize>,
    /// The transports to check (the raw-TCP floor is not part of the contract's check).
    pub transports: Vec<Transport>,
}

/// The HTTP transports the contract covers: the chapter's four (the floor and the transports
/// beyond the chapter, such as Socket.IO, are not part of it).
pub fn contract_transports() -> Vec<Transport> {
    Transport::DEFAULT
        .into_iter()
        .filter(|t| t.http_path().is_some())
        .collect()
}

/// Runs every clause against the target, in order; `Err` only when the target cannot be used at
/// all (down, or not speaking the contract), with one line saying why.
pub async fn run_check(config: &CheckConfig) -> Result<Vec<ClauseResult>, TargetError> {
    let ctx = Ctx {
        addr: config.addr,
        prefix: format!(
            "check{}-{}",
            std::process::id(),
            rtbench_proto::mono_now_ns() % 1_000_000_000
        ),
        limit: config.clause_timeout,
    };
    preflight(&ctx).await?;
    let mut out = Vec::new();
    for &t in &config.transports {
        let finding = bounded(&ctx, clauses::order(&ctx, t)).await;
        push(&mut out, format!("{}.order", t.as_str()), finding);
    }
    let topic = ctx.topic("resume");
    let prepared = clauses::publish_n(&ctx, &topic, clauses::RESUME_EVENTS).await;
    for &t in &config.transports {
        let finding = match &prepared {
            Ok(_) => bounded(&ctx, clauses::resume(&ctx, &topic, t)).await,
            Err(e) => (Verdict::Fail, format!("publishing: {e}")),
        };
        push(&mut out, format!("{}.resume", t.as_str()), finding);
    }
    gap_clauses(&ctx, config, &mut out).await;
    refusal_clauses(&ctx, &config.transports, &mut out).await;
    let finding = bounded(&ctx, clauses::alive(&ctx)).await;
    push(&mut out, "alive".into(), finding);
    Ok(out)
}

fn push(out: &mut Vec<ClauseResult>, id: String, (verdict, reason): clauses::Finding) {
    out.push(ClauseResult {
        id,
        verdict,
        reason,
    });
}

/// Runs a clause within the clause time limit (plus a second for its own timeouts to report).
async fn bounded(
    ctx: &Ctx,
    clause: impl std::future::Future<Output = clauses::Finding>,
) -> clauses::Finding {
    let limit = ctx.limit + Duration::from_secs(1);
    tokio::time::timeout(limit, clause).await.unwrap_or((
        Verdict::Fail,
        format!("no result within {limit:?}: the target hangs"),
    ))
}

/// One publish to see the target is there and speaks the contract, else one clear line.
/// Before `rtbench run --target` measures anything: the target publishes an event and a short poll
/// gives it back with exactly the contract's fields; one line on what is wrong otherwise (down,
/// HTML, events without `seq`/`t_pub_ns`/`payload`), each step bounded by `limit`.
pub async fn preflight_run(addr: SocketAddr, limit: Duration) -> Result<(), TargetError> {
    let ctx = Ctx {
        addr,
        prefix: format!("run{}", std::process::id()),
        limit,
    };
    preflight(&ctx).await?;
    let path = spec::current()
        .short_poll
        .render(&ctx.topic("hello"), "0", "");
    let unusable = |why: String| {
        TargetError::Unusable(format!(
            "target {addr} does not speak the contract (docs/contract.md): GET /poll: {why}"
        ))
    };
    let answer = wire::request(addr, "GET", &path, Vec::new(), limit)
        .await
        .map_err(|e| unusable(e.to_string()))?;
    if !answer.status.is_success() {
        return Err(unusable(format!("answered {}", answer.status)));
    }
    let body = spec::current().batch(&answer.body);
    let batch = rtbench_proto::poll::parse_poll_response(&body).map_err(|e| {
        unusable(format!(
            "not an event batch ({e}): {}",
            wire::snippet(&answer.body)
        ))
    })?;
    match batch.events.first() {
        Some(event) if event.payload.as_ref() == "hello" => Ok(()),
        _ => Err(unusable(format!(
            "the published event is not in the answer: {}",
            wire::snippet(&answer.body)
        ))),
    }
}

async fn preflight(ctx: &Ctx) -> Result<(), TargetError> {
    let topic = ctx.topic("hello");
    wire::publish(ctx.addr, &topic, "hello", ctx.limit)
        .await
        .map(|_| ())
        .map_err(|e| match e {
            wire::WireError::Connect { addr, why } => {
                TargetError::Unusable(format!("target {addr} is down: {why}"))
            }
            e => TargetError::Unusable(format!(
                "target {} does not speak the contract (docs/contract.md): {e}",
                ctx.addr
            )),
        })
}

/// The target's ring capacity from `GET /settings` (`settings.ring_capacity`), when it serves one.
async fn ring_from_settings(ctx: &Ctx) -> Option<usize> {
    let answer = wire::request(ctx.addr, "GET", "/settings", Vec::new(), ctx.limit)
        .await
        .ok()?;
    if !answer.status.is_success() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&answer.body).ok()?;
    let ring = v.pointer("/settings/ring_capacity")?.as_u64()?;
    usize::try_from(ring).ok()
}

async fn gap_clauses(ctx: &Ctx, config: &CheckConfig, out: &mut Vec<ClauseResult>) {
    let ring = match config.ring_capacity {
        Some(r) => Some(r),
        None => ring_from_settings(ctx).await,
    };
    let skip = match ring {
        None => Some(
            "ring capacity unknown: give --ring-capacity N (or serve GET /settings)".to_string(),
        ),
        Some(r) if r > clauses::MAX_GAP_PROBE_EVENTS => Some(format!(
            "the target keeps {r} events per topic; overflowing more than {} takes too long: start it with a smaller history",
            clauses::MAX_GAP_PROBE_EVENTS
        )),
        Some(_) => None,
    };
    let topic = ctx.topic("gap");
    let prepared = match (&skip, ring) {
        (None, Some(r)) => Some(clauses::publish_n(ctx, &topic, r as u64 + 10).await),
        _ => None,
    };
    for &t in &config.transports {
        let id = format!("{}.gap", t.as_str());
        let finding = match (&skip, &prepared) {
            (Some(why), _) => (Verdict::Skipped, why.clone()),
            (None, Some(Err(e))) => (Verdict::Fail, format!("publishing: {e}")),
            _ => bounded(ctx, clauses::gap(ctx, &topic, t)).await,
        };
        push(out, id, finding);
    }
}

async fn refusal_clauses(ctx: &Ctx, transports: &[Transport], out: &mut Vec<ClauseResult>) {
    let topic = ctx.topic("bad");
    let long_topic = "x".repeat(rtbench_proto::limits::MAX_TOPIC_BYTES + 1);
    let spec = spec::current();
    let poll = &spec.short_poll;
    let cases: [(&str, &str, String, Vec<u8>, &str); 5] = [
        (
            "bad.no_topic",
            "GET",
            poll.render_without_topic("0"),
            vec![],
            "400",
        ),
        (
            "bad.cursor",
            "GET",
            poll.render(&topic, "abc", ""),
            vec![],
            "400",
        ),
        (
            "bad.topic_name",
            "GET",
            poll.render(&long_topic, "0", ""),
            vec![],
            "400",
        ),
        (
            "bad.payload_utf8",
            "POST",
            spec.publish.render(&topic, "", ""),
            vec![0xff, 0xfe, 0xfd],
            "400",
        ),
        ("bad.path", "GET", "/no-such-endpoint".into(), vec![], "404"),
    ];
    for (id, method, path, body, want) in cases {
        if id == "bad.no_topic" && !poll.topic_in_query() {
            let why = "the target file puts the topic in the path: no request lacks it";
            push(out, id.into(), (Verdict::Skipped, why.into()));
            continue;
        }
        let finding = bounded(ctx, clauses::refused(ctx, method, &path, body, want)).await;
        push(out, id.into(), finding);
    }
    if transports.contains(&Transport::WebSocket) {
        let finding = bounded(ctx, clauses::websocket_bad_cursor(ctx)).await;
        push(out, "bad.ws_cursor".into(), finding);
    }
    let finding = bounded(ctx, clauses::too_large(ctx)).await;
    push(out, "limits.payload".into(), finding);
    if transports.contains(&Transport::LongPoll) {
        let finding = bounded(ctx, clauses::longpoll_timeout(ctx)).await;
        push(out, "long_poll.timeout".into(), finding);
    }
}

#[cfg(test)]
mod bytes_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets_are_accepted() {
        assert_eq!(
            loopback_addr("http://127.0.0.1:8080").unwrap(),
            "127.0.0.1:8080".parse().unwrap()
        );
        assert!(loopback_addr("127.0.0.1:9/").is_ok());
        assert!(loopback_addr("http://[::1]:80").is_ok());
        assert!(matches!(
            loopback_addr("http://10.0.0.1:80"),
            Err(TargetError::NotLoopback(_))
        ));
        assert!(matches!(
            loopback_addr("http://127.0.0.1:80/x"),
            Err(TargetError::BadUrl(_))
        ));
        assert!(matches!(
            loopback_addr("https://127.0.0.1:80"),
            Err(TargetError::BadUrl(_))
        ));
    }
}
