//! The cluster's broker: Redis pub/sub between the processes of `rtbench serve --procs N`.
//!
//! The process that runs a schedule (`POST /schedule`, `/plan`, `/schedule/resume`) does not
//! append to its own hub: it hands each event, with the sequence number it assigned and its
//! scheduled time, to the broker ([`Broker::publish`]). Every process, that one included,
//! subscribes to the cluster's event channels and appends what arrives to its own hub with the
//! same number ([`crate::hub::Topic::publish_at`]), so every process's rings, and the resume
//! cursors and `Last-Event-ID`s read from them, are the same: a client that reconnects to
//! another process loses nothing. The hop's latency is measured here ([`hop`]); the cluster's
//! control plane (metrics, drops) is in [`cluster`]. `POST /publish` (a client's upstream
//! publish) stays local to the process that takes it.

pub mod cluster;
pub mod hop;
pub mod wire;

use crate::state::{Server, State};
use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use wire::BrokerEvent;

/// How long connecting to the broker may take before the server gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the broker could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The URL is not a Redis URL.
    #[error("--broker {0}: not a Redis URL (redis://HOST:PORT): {1}")]
    BadUrl(String, String),
    /// The broker did not answer.
    #[error("cannot reach the broker at {0}: {1}")]
    Unreachable(String, String),
    /// A peer process did not answer on its private port.
    #[error("cluster peer {0}: {1}")]
    Peer(SocketAddr, String),
    /// A broker attached twice.
    #[error("this server already has a broker")]
    AlreadyAttached,
}

/// Which broker to use and what this process is in the cluster.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// `redis://HOST:PORT`.
    pub url: String,
    /// The cluster's name: its channels and member list are named after it.
    pub cluster: String,
    /// This process's index in the cluster and its private control address, when it is one of
    /// several processes (its peers find it there).
    pub member: Option<(u32, SocketAddr)>,
}

/// An event on its way to the broker.
#[derive(Debug)]
struct Outgoing {
    topic: String,
    event: BrokerEvent,
}

/// A server's link to the broker.
#[derive(Debug)]
pub struct Broker {
    config: BrokerConfig,
    outgoing: mpsc::UnboundedSender<Outgoing>,
    /// For commands (the member list); publishing has its own clone.
    conn: MultiplexedConnection,
    hop: hop::HopStats,
}

impl Broker {
    /// Hands event `seq` of `topic`, scheduled at `t_pub_ns`, to the broker (in order, without
    /// blocking the calling publisher thread).
    pub fn publish(&self, topic: &str, seq: u64, t_pub_ns: u64, payload: String) {
        let event = BrokerEvent {
            seq,
            t_pub_ns,
            t_sent_ns: rtbench_proto::mono_now_ns(),
            payload,
        };
        let outgoing = Outgoing {
            topic: topic.to_owned(),
            event,
        };
        if self.outgoing.send(outgoing).is_err() {
            tracing::warn!("broker publisher stopped: event {seq} of '{topic}' not sent");
        }
    }

    /// The indices and private control addresses of the other processes of the cluster.
    pub(crate) async fn peers(&self) -> Result<Vec<(u32, SocketAddr)>, BrokerError> {
        let Some((me, _)) = self.config.member else {
            return Ok(Vec::new());
        };
        let key = cluster::members_key(&self.config.cluster);
        let mut conn = self.conn.clone();
        let members: std::collections::BTreeMap<u32, String> = conn
            .hgetall(&key)
            .await
            .map_err(|e| BrokerError::Unreachable(self.config.url.clone(), e.to_string()))?;
        Ok(members
            .into_iter()
            .filter(|(i, _)| *i != me)
            .filter_map(|(i, addr)| Some((i, addr.parse().ok()?)))
            .collect())
    }

    /// Appends the hop histogram to a `/metrics` text.
    pub(crate) fn render_metrics(&self, out: &mut String) {
        self.hop.render(out);
    }
}

/// Connects `server` to the broker of `config`: subscribes to the cluster's event channels,
/// starts the task that publishes, and registers the member's private address. Call before
/// serving; fails with one clear error when the broker cannot be reached within 5 s.
pub async fn attach_broker(server: &Server, config: BrokerConfig) -> Result<(), BrokerError> {
    let state = server.state().clone();
    let url = config.url.clone();
    let unreachable =
        |e: &dyn std::fmt::Display| BrokerError::Unreachable(url.clone(), e.to_string());
    let client = redis::Client::open(url.as_str())
        .map_err(|e| BrokerError::BadUrl(url.clone(), e.to_string()))?;
    let connect = async {
        let conn = client.get_multiplexed_async_connection().await?;
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub
            .psubscribe(wire::channel(&config.cluster, "*"))
            .await?;
        Ok::<_, redis::RedisError>((conn, pubsub))
    };
    let (mut conn, pubsub) = tokio::time::timeout(CONNECT_TIMEOUT, connect)
        .await
        .map_err(|_| unreachable(&"no answer within 5 s"))?
        .map_err(|e| unreachable(&e))?;
    if let Some((index, addr)) = config.member {
        let key = cluster::members_key(&config.cluster);
        let () = conn
            .hset(&key, index, addr.to_string())
            .await
            .map_err(|e| unreachable(&e))?;
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let broker = Arc::new(Broker {
        config,
        outgoing: tx,
        conn: conn.clone(),
        hop: hop::HopStats::default(),
    });
    state
        .broker
        .set(broker.clone())
        .map_err(|_| BrokerError::AlreadyAttached)?;
    tokio::spawn(publish_loop(broker.config.cluster.clone(), conn, rx));
    tokio::spawn(subscribe_loop(state, broker, pubsub));
    Ok(())
}

/// Publishes the outgoing events in order until every sender is gone.
async fn publish_loop(
    cluster: String,
    mut conn: MultiplexedConnection,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
) {
    while let Some(Outgoing { topic, event }) = rx.recv().await {
        let sent: Result<(), _> = conn
            .publish(wire::channel(&cluster, &topic), event.encode())
            .await;
        if let Err(e) = sent {
            tracing::error!(
                "broker: event {} of '{topic}' not published: {e}",
                event.seq
            );
        }
    }
}

/// Appends every event the broker delivers to this process's hub until shutdown.
async fn subscribe_loop(state: Arc<State>, broker: Arc<Broker>, pubsub: redis::aio::PubSub) {
    let mut messages = pubsub.into_on_message();
    let mut shutdown = state.shutdown();
    loop {
        let message = tokio::select! {
            m = messages.next() => m,
            () = shutdown.wait() => return,
        };
        let Some(message) = message else {
            tracing::error!("broker: subscription lost; this process receives no more events");
            return;
        };
        deliver(
            &state,
            &broker,
            message.get_channel_name(),
            message.get_payload_bytes(),
        );
    }
}

/// One broker message into the hub.
fn deliver(state: &State, broker: &Broker, channel: &str, bytes: &[u8]) {
    let now_ns = rtbench_proto::mono_now_ns();
    let (Some(name), Some(event)) = (
        wire::topic_of(&broker.config.cluster, channel),
        BrokerEvent::decode(bytes),
    ) else {
        tracing::warn!("broker: malformed message on '{channel}' ignored");
        return;
    };
    broker.hop.record(now_ns.saturating_sub(event.t_sent_ns));
    let appended = state
        .hub
        .topic(name)
        .and_then(|topic| topic.publish_at(event.seq, event.t_pub_ns, &event.payload));
    if let Err(e) = appended {
        tracing::warn!("broker: event {} of '{name}' refused: {e}", event.seq);
    }
}

/// The `/metrics` text of a cluster member: its own, with the hop histogram, summed over every
/// process unless `local` (`GET /metrics?local`, what peers ask each other). A peer that does not
/// answer fails the whole scrape: a sum over some processes would under-count without saying so.
pub(crate) async fn cluster_metrics(
    state: &State,
    local: bool,
    mut own: String,
) -> Result<String, crate::ApiError> {
    let Some(broker) = state.broker.get() else {
        return Ok(own);
    };
    broker.render_metrics(&mut own);
    if local {
        return Ok(own);
    }
    let failed = |e: BrokerError| crate::ApiError::Internal(format!("cluster metrics: {e}"));
    let peers = broker.peers().await.map_err(failed)?;
    let path = format!("{}?local", rtbench_proto::paths::METRICS);
    let answers = futures_util::future::join_all(
        (peers.iter()).map(|&(_, addr)| cluster::peer_request(addr, "GET", &path, Vec::new())),
    )
    .await;
    let mut texts = Vec::with_capacity(answers.len());
    for (answer, (_, addr)) in answers.into_iter().zip(&peers) {
        match answer.map_err(failed)? {
            (200, text) => texts.push(text),
            (status, _) => {
                let why = format!("answered {status}");
                return Err(failed(BrokerError::Peer(*addr, why)));
            }
        }
    }
    let me = broker.config.member.map_or(0, |(i, _)| i);
    let mut members = vec![(me, own.as_str())];
    members.extend((peers.iter().map(|(i, _)| *i)).zip(texts.iter().map(String::as_str)));
    let mut out = cluster::sum_metrics(&own, &texts);
    out.push_str(&cluster::member_series(&members));
    Ok(out)
}

/// Passes a `POST /faults/close` on through the cluster: what this process could not close
/// (`count - closed_here`) is asked of each peer in turn; the answer sums closed and open.
pub(crate) async fn cluster_close(
    state: &State,
    local: bool,
    request: rtbench_proto::faults::CloseRequest,
    here: rtbench_proto::faults::CloseResponse,
) -> Result<rtbench_proto::faults::CloseResponse, crate::ApiError> {
    let Some(broker) = state.broker.get().filter(|_| !local) else {
        return Ok(here);
    };
    let failed = |e: BrokerError| crate::ApiError::Internal(format!("cluster close: {e}"));
    let mut total = here;
    let path = format!("{}?local", rtbench_proto::paths::FAULTS_CLOSE);
    for (_, addr) in broker.peers().await.map_err(failed)? {
        let rest = rtbench_proto::faults::CloseRequest {
            transport: request.transport.clone(),
            count: request.count.saturating_sub(total.closed),
        };
        let body = serde_json::to_vec(&rest).unwrap_or_default();
        let (status, text) = cluster::peer_request(addr, "POST", &path, body)
            .await
            .map_err(failed)?;
        let answer: rtbench_proto::faults::CloseResponse = (status == 200)
            .then(|| serde_json::from_str(&text).ok())
            .flatten()
            .ok_or_else(|| {
                failed(BrokerError::Peer(
                    addr,
                    format!("answered {status}: {text}"),
                ))
            })?;
        total.closed += answer.closed;
        total.open += answer.open;
    }
    Ok(total)
}
