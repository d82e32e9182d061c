//! One client per task, one [`Subscription`](subscription) implementation per transport, each in
//! its own module, all behind the same calls: `connect` (which subscribes, resuming from what the
//! client already holds), `recv` (which waits for the next message or batch and records what it
//! carried), `send` (for transports whose `SendPath` is inline: publish on their own socket),
//! `reset` (which aborts the connection) and `reconnect_delay`. The loop around them — stop when
//! every scheduled event is in and every message sent, or when told to; reconnect when the
//! connection is lost ([`reconnect`]) — is written once ([`drive`]), so every transport is driven,
//! measured and resumed the same way. [`pick`] is the one place that chooses the implementation
//! for a [`Transport`].

mod drive;
mod long_poll;
mod reconnect;
mod short_poll;
mod socketio;
mod socketio_ack;
mod socketio_codec;
mod socketio_polling;
mod sse;
mod sse_parser;
mod subscription;
mod tcp;
mod websocket;
mod webtransport;

pub use reconnect::{MAX_ATTEMPTS, backoff};
pub(crate) use socketio_ack::AckSink;
pub use sse_parser::{SseBlock, SseParser};
pub use subscription::ClientCtx;

use crate::recorder::Tally;
use crate::upstream::inline::InlineSends;
use rtbench_proto::Transport;
use std::future::Future;
use std::pin::Pin;
use subscription::Subscription;

/// Most clients connecting at once (a phase's ramp, the idle scenario's batches), so the listen
/// backlog never overflows.
pub const CONNECT_BATCH: u64 = 256;

/// A running client's task.
type ClientTask = Pin<Box<dyn Future<Output = Tally> + Send>>;

/// One transport's client, as [`pick`] chose it.
#[derive(Debug, Clone, Copy)]
struct Client {
    /// The transport its subscription speaks.
    transport: Transport,
    /// Whether it publishes on its own socket.
    sends_inline: bool,
    /// Whether it can publish acknowledged emits on its own connection (`--socketio-ack`).
    sends_acked: bool,
    /// Starts it.
    start: fn(ClientCtx, Option<InlineSends>) -> ClientTask,
}

impl Client {
    fn of<S: Subscription>() -> Client {
        Client {
            transport: S::TRANSPORT,
            sends_inline: S::SENDS_INLINE,
            sends_acked: S::SENDS_ACKED,
            start: |ctx, sends| Box::pin(drive::drive::<S>(ctx, sends)),
        }
    }
}

/// The one place that chooses a transport's client implementation.
fn pick(transport: Transport) -> Client {
    match transport {
        Transport::Tcp => Client::of::<tcp::Session>(),
        Transport::WebSocket => Client::of::<websocket::Session>(),
        Transport::Sse => Client::of::<sse::Session>(),
        Transport::LongPoll => Client::of::<long_poll::Session>(),
        Transport::ShortPoll => Client::of::<short_poll::Session>(),
        Transport::SocketIo => Client::of::<socketio::Session>(),
        Transport::SocketIoPolling => Client::of::<socketio_polling::Session>(),
        Transport::WebTransport => Client::of::<webtransport::Stream>(),
        Transport::WebTransportDatagram => Client::of::<webtransport::Datagrams>(),
    }
}

/// Whether `transport`'s clients publish acknowledged emits on their own connection when the
/// phase asks for them (`--socketio-ack`).
pub(crate) fn sends_acked(transport: Transport) -> bool {
    pick(transport).sends_acked
}

/// Runs one client of `transport` until every scheduled event arrived or the phase stops it,
/// reconnecting whenever its connection is lost.
pub async fn run(transport: Transport, ctx: ClientCtx) -> Tally {
    run_with_sends(transport, ctx, None).await
}

/// [`run`], also sending `sends` on the client's own socket as they fall due (transports whose
/// `SendPath` is inline).
pub(crate) async fn run_with_sends(
    transport: Transport,
    ctx: ClientCtx,
    sends: Option<InlineSends>,
) -> Tally {
    let client = pick(transport);
    debug_assert_eq!(client.transport, transport);
    debug_assert!(
        sends.is_none() || client.sends_inline || client.sends_acked,
        "{transport} was given inline sends but publishes on connections of its own"
    );
    (client.start)(ctx, sends).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtbench_proto::transport::SendPath;

    #[test]
    fn every_transport_has_its_client_and_the_spec_says_who_sends_inline() {
        for t in Transport::ALL {
            let client = pick(t);
            assert_eq!(client.transport, t, "{t} picks another transport's client");
            assert_eq!(
                client.sends_inline,
                t.spec().send == SendPath::Inline,
                "{t}: its client and its spec disagree on who sends inline"
            );
        }
        let inline = Transport::ALL.iter().filter(|t| pick(**t).sends_inline);
        assert_eq!(
            inline.count(),
            2,
            "raw TCP and WebSocket publish on their own socket"
        );
    }

    #[test]
    fn sse_waits_the_servers_retry_and_the_others_back_off() {
        use std::time::Duration;
        use subscription::Carry;
        let carry = Carry {
            retry: Some(Duration::from_millis(1000)),
            ..Carry::default()
        };
        assert_eq!(
            sse::Session::reconnect_delay(0, &carry),
            Duration::from_millis(1000)
        );
        assert_eq!(
            sse::Session::reconnect_delay(0, &Carry::default()),
            sse::SSE_DEFAULT_RETRY
        );
        assert_eq!(
            websocket::Session::reconnect_delay(0, &carry),
            Duration::ZERO
        );
        assert_eq!(
            tcp::Session::reconnect_delay(3, &carry),
            backoff(3),
            "no standard delay: back off"
        );
    }
}
