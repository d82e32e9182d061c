//! The clauses of `docs/contract.md` as checks: each one talks to the target over the wire and says
//! pass, fail or skipped with a one-line reason. Every clause is bounded in events and in time by
//! its caller ([`super::run_check`]).

use super::Verdict;
use super::spec;
use super::wire::{self, Collected, Item, Resume, WireError};
use rtbench_proto::Transport;
use rtbench_proto::limits::MAX_PAYLOAD_BYTES;
use std::net::SocketAddr;
use std::time::Duration;

/// Events the order clause publishes: more than 100, so a server that loses one in a hundred fails.
pub const ORDER_EVENTS: u64 = 120;
/// Events published before the resume clause subscribes, and its cursor.
pub const RESUME_EVENTS: u64 = 20;
/// The resume clause's cursor: it must receive exactly the events after it.
pub const RESUME_AFTER: u64 = 10;
/// Largest ring the gap clause overflows by publishing; a larger one makes it skip.
pub const MAX_GAP_PROBE_EVENTS: usize = 5_000;

/// What a clause needs: where the target is, a topic prefix of its own, and a time limit per step.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The target's HTTP address.
    pub addr: SocketAddr,
    /// Prefix of every topic this run uses (unique per run).
    pub prefix: String,
    /// Time limit of one clause.
    pub limit: Duration,
}

impl Ctx {
    /// A topic of this run.
    pub fn topic(&self, name: &str) -> String {
        format!("{}-{name}", self.prefix)
    }
}

/// A clause's finding.
pub type Finding = (Verdict, String);

fn pass(why: impl Into<String>) -> Finding {
    (Verdict::Pass, why.into())
}

fn fail(why: impl Into<String>) -> Finding {
    (Verdict::Fail, why.into())
}

fn payload_of(i: u64) -> String {
    format!("check-{i}-abcdefghij")
}

/// Publishes `n` events to `topic`, returning the first event's seq.
pub async fn publish_n(ctx: &Ctx, topic: &str, n: u64) -> Result<u64, WireError> {
    let mut first = 0;
    for i in 0..n {
        let seq = wire::publish(ctx.addr, topic, &payload_of(i), ctx.limit).await?;
        if i == 0 {
            first = seq;
        }
    }
    Ok(first)
}

/// `<t>.order`: a live subscriber receives every event once, in order, with its payload.
pub async fn order(ctx: &Ctx, transport: Transport) -> Finding {
    let topic = ctx.topic(&format!("order-{}", transport.as_str()));
    let (addr, limit, sub_topic) = (ctx.addr, ctx.limit, topic.clone());
    let sub = tokio::spawn(async move {
        let resume = Resume {
            after: 0,
            last_event_id: false,
        };
        wire::collect(
            addr,
            transport,
            &sub_topic,
            resume,
            ORDER_EVENTS as usize,
            limit,
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    if let Err(e) = publish_n(ctx, &topic, ORDER_EVENTS).await {
        sub.abort();
        return fail(format!("publishing: {e}"));
    }
    let got = match sub.await {
        Ok(Ok(got)) => got,
        Ok(Err(e)) => return fail(e.to_string()),
        Err(e) => return fail(format!("subscriber task: {e}")),
    };
    match judge_sequence(&got, 1, ORDER_EVENTS, true) {
        Ok(()) => pass(format!(
            "{ORDER_EVENTS} events 1..={ORDER_EVENTS} in order, payloads intact; at the client {} B down, {} B up in all",
            got.bytes_down, got.bytes_up
        )),
        Err(e) => fail(e),
    }
}

/// Whether `got` holds exactly the events `first..first+n`, in order, with no gap notice.
fn judge_sequence(got: &Collected, first: u64, n: u64, payloads: bool) -> Result<(), String> {
    let mut expect = first;
    for item in &got.items {
        match item {
            Item::Gap(d) => {
                return Err(format!(
                    "a gap of {d} signalled before event {expect} though nothing fell out of history"
                ));
            }
            Item::Event { seq, payload, .. } => {
                if *seq != expect {
                    let what = if *seq > expect {
                        "lost"
                    } else {
                        "repeated or reordered"
                    };
                    return Err(format!("expected seq {expect}, got {seq} (events {what})"));
                }
                if payloads && *payload != payload_of(seq - 1) {
                    return Err(format!(
                        "seq {seq} carries payload \"{payload}\", not the published one"
                    ));
                }
                expect += 1;
            }
        }
    }
    if expect < first + n {
        let timed = if got.timed_out {
            " before the time limit"
        } else {
            ""
        };
        return Err(format!("received {} of {n} events{timed}", expect - first));
    }
    Ok(())
}

/// `<t>.resume`: a subscriber resuming after a cursor gets exactly the events after it (SSE sends
/// the cursor as `Last-Event-ID`, as a browser does on reconnect).
pub async fn resume(ctx: &Ctx, topic: &str, transport: Transport) -> Finding {
    let resume = Resume {
        after: RESUME_AFTER,
        last_event_id: transport == Transport::Sse,
    };
    let want = (RESUME_EVENTS - RESUME_AFTER) as usize;
    let got = match wire::collect(ctx.addr, transport, topic, resume, want, ctx.limit).await {
        Ok(got) => got,
        Err(e) => return fail(e.to_string()),
    };
    let how = if resume.last_event_id {
        "Last-Event-ID: "
    } else {
        "after="
    };
    match judge_sequence(&got, RESUME_AFTER + 1, RESUME_EVENTS - RESUME_AFTER, false) {
        Ok(()) => pass(format!(
            "{how}{RESUME_AFTER} → events {}..={RESUME_EVENTS}, nothing lost or repeated",
            RESUME_AFTER + 1
        )),
        Err(e) => fail(format!("resuming with {how}{RESUME_AFTER}: {e}")),
    }
}

/// `<t>.gap`: a cursor that fell out of the server's history gets a gap notice counting exactly
/// the events lost, then the oldest event still held.
pub async fn gap(ctx: &Ctx, topic: &str, transport: Transport) -> Finding {
    let resume = Resume {
        after: 1,
        last_event_id: transport == Transport::Sse,
    };
    let got = match wire::collect(ctx.addr, transport, topic, resume, 1, ctx.limit).await {
        Ok(got) => got,
        Err(e) => return fail(e.to_string()),
    };
    match got.items.as_slice() {
        [Item::Gap(d), Item::Event { seq, .. }, ..] if *seq == 1 + d + 1 => {
            pass(format!("after=1 → gap of {d}, then seq {seq}"))
        }
        [Item::Gap(d), Item::Event { seq, .. }, ..] => fail(format!(
            "gap of {d} after cursor 1 but the next event is seq {seq}, not {}",
            1 + d + 1
        )),
        [Item::Event { seq, .. }, ..] => fail(format!(
            "events after cursor 1 fell out of history but no gap was signalled (first event seq {seq})"
        )),
        _ => fail("nothing delivered after a cursor behind the history".to_string()),
    }
}

/// A request that must be refused with a 4xx status, and the server must stay up.
pub async fn refused(ctx: &Ctx, method: &str, path: &str, body: Vec<u8>, want: &str) -> Finding {
    match wire::request(ctx.addr, method, path, body, ctx.limit).await {
        Ok(a) if a.status.is_client_error() => {
            pass(format!("{method} {} → {}", short(path), a.status.as_u16()))
        }
        Ok(a) if a.status.is_server_error() => fail(format!(
            "{method} {} → {}: a server error, not a refusal ({want})",
            short(path),
            a.status.as_u16()
        )),
        Ok(a) => fail(format!(
            "{method} {} → {}: accepted, expected {want}",
            short(path),
            a.status.as_u16()
        )),
        Err(e) => fail(format!("{method} {}: {e} (expected {want})", short(path))),
    }
}

fn short(path: &str) -> String {
    if path.len() > 40 {
        format!("{}…", &path[..40])
    } else {
        path.to_string()
    }
}

/// `limits.payload`: a payload over the contract's limit is refused with a 4xx, not a crash.
pub async fn too_large(ctx: &Ctx) -> Finding {
    let path = spec::current().publish.render(&ctx.topic("large"), "", "");
    refused(ctx, "POST", &path, vec![b'x'; MAX_PAYLOAD_BYTES + 1], "413").await
}

/// `alive`: after every abuse above, a publish still works and is delivered.
pub async fn alive(ctx: &Ctx) -> Finding {
    let topic = ctx.topic("alive");
    if let Err(e) = wire::publish(ctx.addr, &topic, &payload_of(0), ctx.limit).await {
        return fail(format!("the server no longer publishes: {e}"));
    }
    let resume = Resume {
        after: 0,
        last_event_id: false,
    };
    match wire::collect(ctx.addr, Transport::ShortPoll, &topic, resume, 1, ctx.limit).await {
        Ok(got) if got.seqs() == [1] => pass("publishes and delivers after the bad requests"),
        Ok(got) => fail(format!(
            "after the bad requests, poll gave {:?}",
            got.seqs()
        )),
        Err(e) => fail(format!("the server no longer answers polls: {e}")),
    }
}

/// Hold time the long-poll timeout clause asks for, in milliseconds.
pub const LONGPOLL_HOLD_MS: u64 = 300;

/// `long_poll.timeout`: a long poll on a quiet topic is answered empty when its `timeout_ms`
/// runs out (not held forever, not answered at once with nothing).
pub async fn longpoll_timeout(ctx: &Ctx) -> Finding {
    let path =
        spec::current()
            .long_poll
            .render(&ctx.topic("quiet"), "0", &LONGPOLL_HOLD_MS.to_string());
    let started = std::time::Instant::now();
    let answer = match wire::request(ctx.addr, "GET", &path, Vec::new(), ctx.limit).await {
        Ok(a) => a,
        Err(e) => return fail(format!("GET {}: {e}", short(&path))),
    };
    let held_ms = started.elapsed().as_millis() as u64;
    let empty = rtbench_proto::poll::parse_poll_response(&spec::current().batch(&answer.body))
        .is_ok_and(|b| b.dropped == 0 && b.events.is_empty());
    if !answer.status.is_success() || !empty {
        return fail(format!(
            "a quiet long poll answered {} {}, not an empty batch",
            answer.status.as_u16(),
            wire::snippet(&answer.body)
        ));
    }
    // Lower bound only: a busy machine may answer late, never early.
    if held_ms + 50 < LONGPOLL_HOLD_MS {
        return fail(format!(
            "answered after {held_ms} ms, before its timeout_ms={LONGPOLL_HOLD_MS}"
        ));
    }
    pass(format!(
        "timeout_ms={LONGPOLL_HOLD_MS} on a quiet topic → empty batch after {held_ms} ms"
    ))
}

/// `bad.ws_cursor`: a WebSocket upgrade with a cursor that is not a number is refused, not
/// accepted.
pub async fn websocket_bad_cursor(ctx: &Ctx) -> Finding {
    let url = format!(
        "ws://{}{}",
        ctx.addr,
        spec::current()
            .websocket
            .render(&ctx.topic("bad"), "abc", "")
    );
    match tokio_tungstenite::connect_async(&url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp))
            if resp.status().is_client_error() =>
        {
            pass(format!(
                "upgrade with after=abc → {}",
                resp.status().as_u16()
            ))
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => fail(format!(
            "upgrade with after=abc → {}: expected a 4xx refusal",
            resp.status().as_u16()
        )),
        Err(e) => fail(format!(
            "upgrade with after=abc: {e} (expected a 4xx refusal)"
        )),
        Ok(_) => fail("the upgrade with after=abc was accepted".to_string()),
    }
}
