//! Starting a phase's clients: one task per client, subscribed to its room's topic, at most
//! [`CONNECT_BATCH`] connecting at once (a ramp, so an 18,000-client phase does not throw 18,000
//! SYNs at the listen queue together; the phase still waits until every one is subscribed). A sender whose
//! transport's `SendPath` is inline (WebSocket, raw TCP) sends from its own loop on its own
//! socket; any other sender gets an upstream task ([`crate::upstream::http`]) with connections of
//! its own on HTTP/1.1, and on HTTP/2 the client's subscription connection, handed over by the
//! client as it connects and reconnects.

use super::Workload;
use crate::clients::CONNECT_BATCH;
use crate::clients::{self, AckSink, ClientCtx};
use crate::config::LoadConfig;
use crate::config::SendTo;
use crate::control::Target;
use crate::error::ClientError;
use crate::latency_sink::LatencySink;
use crate::recorder::Tally;
use crate::upstream::http::{self, HttpSender, SendTally};
use crate::upstream::inline::InlineSends;
use rtbench_proto::Transport;
use rtbench_proto::transport::SendPath;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

/// The tasks of a started phase.
pub(crate) struct Launched {
    /// Client tasks; each hands back its room and its tally.
    pub(crate) clients: JoinSet<(usize, Tally)>,
    /// Upstream tasks of HTTP senders.
    pub(crate) senders: JoinSet<SendTally>,
    /// Per client, where the dispatcher hands its due messages (`None`: it does not send).
    pub(crate) dues: Vec<Option<UnboundedSender<u64>>>,
    /// How many tasks report on `ready`: every client, and every HTTP sender.
    pub(crate) expected_ready: u64,
    /// One reset handle per launched client, in client order (fault injection).
    pub(crate) resets: Vec<Arc<Notify>>,
}

/// What a phase's tasks report to it as they go.
pub(crate) struct Counters {
    /// Distinct events received, every client together.
    pub(crate) received: Arc<AtomicU64>,
    /// Client messages written to their socket (WebSocket, raw TCP) or answered (HTTP).
    pub(crate) sent: Arc<AtomicU64>,
    /// Where clients record their first receipts' latencies.
    pub(crate) latencies: Arc<LatencySink>,
    /// Where Socket.IO senders count and time their acknowledged emits (`--socketio-ack`).
    pub(crate) acks: Option<Arc<AckSink>>,
}

impl Counters {
    /// A phase's counters, with an ack sink when `transport`'s senders emit with acks.
    pub(crate) fn new(
        transport: Transport,
        config: &LoadConfig,
        received: Arc<AtomicU64>,
    ) -> Counters {
        let acked = config.socketio_ack && config.send.is_some() && clients::sends_acked(transport);
        Counters {
            received,
            sent: Arc::new(AtomicU64::new(0)),
            latencies: Arc::new(LatencySink::new()),
            acks: acked.then(|| Arc::new(AckSink::default())),
        }
    }
}

/// Spawns the clients `clients` (ids; every client of the phase in one process, a shard's range
/// in a shard) of `workload`, and their HTTP senders. Each reports once on `ready`.
pub(crate) fn launch(
    transport: Transport,
    config: &LoadConfig,
    (target, clients): (Target, Range<u32>),
    workload: &Workload,
    stop: &watch::Receiver<bool>,
    counters: &Counters,
    ready: &mpsc::Sender<Result<(), ClientError>>,
) -> Launched {
    // Acknowledged emits (`--socketio-ack`) go on the client's own connection, as inline sends do.
    let sends_inline = transport.spec().send == SendPath::Inline || counters.acks.is_some();
    // Clients are stopped by the phase, not by a last sequence number: a client whose room has no
    // more events stays connected (and keeps polling) until the schedule is over.
    let never = Arc::new(AtomicU64::new(u64::MAX));
    let gate = Arc::new(Semaphore::new(CONNECT_BATCH as usize));
    let count = clients.len();
    let mut launched = Launched {
        clients: JoinSet::new(),
        senders: JoinSet::new(),
        dues: Vec::with_capacity(count),
        expected_ready: count as u64,
        resets: Vec::with_capacity(count),
    };
    for client in clients {
        let r = workload.room_of(client);
        let room = &workload.rooms[r];
        let sending = config.send.as_ref().filter(|_| workload.is_sender(client));
        let publish_to = sending.map(|send| match send.to {
            SendTo::Room => room.topic.clone(),
            SendTo::Server => room
                .input_topic
                .clone()
                .unwrap_or_else(|| room.topic.clone()),
        });
        let (due_tx, due_rx) = match sending {
            Some(_) => {
                let (tx, rx) = mpsc::unbounded_channel();
                (Some(tx), Some(rx))
            }
            None => (None, None),
        };
        launched.dues.push(due_tx);
        // HTTP/2: the sender publishes on the client's connection, which the client hands over.
        let (share, shared) = match sending.is_some() && !sends_inline && target.http2 {
            true => {
                let (tx, rx) = watch::channel(None);
                (Some(Arc::new(tx)), Some(rx))
            }
            false => (None, None),
        };
        let ctx = ClientCtx {
            target,
            topic: room.topic.clone(),
            poll_interval: config.poll_interval,
            longpoll_timeout_ms: config.longpoll_timeout.as_millis() as u64,
            expected_events: workload.room_events[r] as usize,
            last_seq: never.clone(),
            stop: stop.clone(),
            ready: ready.clone(),
            client_id: client,
            publish_to: publish_to
                .clone()
                .filter(|t| sends_inline && *t != room.topic),
            received: counters.received.clone(),
            reset: Arc::new(Notify::new()),
            latencies: Some(counters.latencies.clone()),
            connect_gate: Some(gate.clone()),
            share,
            acks: sending.and(counters.acks.clone()),
        };
        launched.resets.push(ctx.reset.clone());
        let mut inline = None;
        if let (Some(send), Some(rx), Some(topic)) = (sending, due_rx, publish_to) {
            if sends_inline {
                let sent = counters.sent.clone();
                inline = Some(InlineSends::new(rx, client, send.payload_bytes, sent));
            } else {
                let sender = HttpSender {
                    target,
                    transport,
                    topic,
                    client,
                    payload_bytes: send.payload_bytes,
                    sent: counters.sent.clone(),
                    shared,
                };
                launched
                    .senders
                    .spawn(http::run(sender, rx, ready.clone(), stop.clone()));
                launched.expected_ready += 1;
            }
        }
        launched
            .clients
            .spawn(async move { (r, clients::run_with_sends(transport, ctx, inline).await) });
    }
    launched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Arrivals, SendFlow};
    use std::time::Duration;

    /// Who publishes how is the spec's `SendPath`: inline transports get no HTTP sender task, the
    /// others one per sending client (whose connections fail at once: nothing listens).
    #[tokio::test]
    async fn send_path_decides_who_gets_an_http_sender() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = closed.local_addr().unwrap();
        drop(closed);
        let config = LoadConfig {
            clients: 4,
            rate_per_s: 0.0,
            room_size: Some(2),
            send: Some(SendFlow {
                senders_per_room: Some(1),
                rate_per_s: 1.0,
                arrivals: Arrivals::Fixed,
                payload_bytes: 64,
                burst: 1,
                burst_gap: Duration::ZERO,
                to: SendTo::Room,
            }),
            ..LoadConfig::default()
        };
        let target = Target::plain(addr, addr);
        for transport in Transport::ALL {
            let workload = Workload::build(transport, &config).unwrap();
            let (stop_tx, stop) = watch::channel(false);
            let counters = Counters {
                received: Arc::new(AtomicU64::new(0)),
                sent: Arc::new(AtomicU64::new(0)),
                latencies: Arc::new(LatencySink::new()),
                acks: None,
            };
            let (ready, mut ready_rx) = mpsc::channel(16);
            let mut launched = launch(
                transport,
                &config,
                (target, 0..4),
                &workload,
                &stop,
                &counters,
                &ready,
            );
            let http_senders = match transport.spec().send {
                SendPath::Inline => 0,
                SendPath::HttpPublish => 2,
            };
            assert_eq!(launched.senders.len(), http_senders, "{transport}");
            assert_eq!(launched.expected_ready, 4 + http_senders as u64);
            assert_eq!(launched.dues.iter().flatten().count(), 2, "{transport}");
            for _ in 0..launched.expected_ready {
                let refused = tokio::time::timeout(Duration::from_secs(10), ready_rx.recv())
                    .await
                    .expect("a refused connection reports at once")
                    .unwrap();
                assert!(refused.is_err(), "{transport}: nothing listens");
            }
            let _ = stop_tx.send(true);
            launched.clients.shutdown().await;
            launched.senders.shutdown().await;
        }
    }
}
