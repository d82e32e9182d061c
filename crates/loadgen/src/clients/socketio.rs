//! Socket.IO client over Engine.IO's WebSocket transport (`ws://…/socket.io/?EIO=4&transport=websocket`,
//! `wss://` on a TLS stack), speaking the packets of [`super::socketio_codec`] on tokio-tungstenite:
//! it waits for the open packet, sends CONNECT with `{"topic","after"}` auth, waits for the
//! namespace's answer, then records each `42["e",<body>]` and answers each ping. After a lost
//! connection or a DISCONNECT it opens a new session with `after` = the last event it holds.
//! Publishes go over `POST /publish`, as a browser app's `fetch` would; with `--socketio-ack` they
//! are acknowledged emits on the socket itself instead (`42<id>["publish",…]`, answered
//! `43<id>[]`, [`super::socketio_ack`]).

use super::socketio_ack::PendingAcks;
use super::socketio_codec::{self as codec, EngineTransport, Packet};
use super::subscription::{Carry, ClientCtx, RecvError, Subscription, protocol, record_message};
use crate::error::ClientError;
use crate::recorder::Recorder;
use crate::stack::{self, Stream};
use futures_util::{SinkExt, StreamExt};
use rtbench_proto::Transport;
use rtbench_proto::limits;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

pub(super) struct Session {
    ws: WebSocketStream<Stream>,
    /// This session's emits waiting for their ack (`None`: the client does not emit).
    acks: Option<PendingAcks>,
}

impl Subscription for Session {
    const TRANSPORT: Transport = Transport::SocketIo;
    const SENDS_ACKED: bool = true;

    async fn connect(ctx: &ClientCtx, _carry: &Carry, after: u64) -> Result<Session, ClientError> {
        let addr = ctx.target.http;
        let stream = stack::connect(addr, ctx.target.tls).await?;
        let scheme = if ctx.target.tls.is_some() {
            "wss"
        } else {
            "ws"
        };
        let url = format!(
            "{scheme}://{addr}{}?{}",
            Self::TRANSPORT.path(),
            codec::query(EngineTransport::WebSocket, None)
        );
        let config = WebSocketConfig::default()
            .read_buffer_size(8192)
            .write_buffer_size(0)
            .max_message_size(Some(limits::MAX_FRAME_BYTES));
        let (ws, _) = client_async_with_config(url, stream, Some(config))
            .await
            .map_err(ClientError::WebSocketHandshake)?;
        let acks = ctx
            .acks
            .clone()
            .map(|sink| PendingAcks::new(sink, ctx.client_id));
        let mut session = Session { ws, acks };
        session.expect(|p| matches!(p, Packet::Open { .. })).await?;
        session.send_text(codec::connect_for(ctx, after)).await?;
        session.expect(|p| *p == Packet::Connected).await?;
        Ok(session)
    }

    async fn recv(
        &mut self,
        _ctx: &ClientCtx,
        rec: &mut Recorder,
        _carry: &mut Carry,
    ) -> Result<(), RecvError> {
        let text = self.next_text().await?;
        match codec::parse(&text).map_err(protocol)? {
            Packet::Event(body) => record_message(body, rec),
            Packet::Ack(id) => {
                if let Some(acks) = &mut self.acks {
                    acks.acked(id);
                }
                Ok(())
            }
            Packet::Ping => Ok(self.send_text(codec::PONG.to_string()).await?),
            Packet::Closed => Err(ClientError::Ended("Socket.IO session closed").into()),
            Packet::Refused(why) => Err(protocol(format!("Socket.IO CONNECT refused: {why}"))),
            Packet::Open { .. } | Packet::Connected | Packet::Other => Ok(()),
        }
    }

    /// Emits `payload` with the next ack id (`--socketio-ack` only).
    async fn send(&mut self, payload: &str) -> Result<(), ClientError> {
        let Some(acks) = &mut self.acks else {
            return Err(ClientError::NoInlineSend);
        };
        let emit = codec::emit_publish(acks.emit(payload), payload);
        self.send_text(emit).await
    }

    fn reset(self) {
        let _ = self.ws.get_ref().set_zero_linger();
    }
}

impl Session {
    /// The next text message (pings of the WebSocket layer are answered by tungstenite).
    async fn next_text(&mut self) -> Result<String, ClientError> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
                Some(Ok(Message::Close(frame))) => return Err(ClientError::WebSocketClosed(frame)),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(ClientError::WebSocket(e)),
                None => return Err(ClientError::Ended("WebSocket ended")),
            }
        }
    }

    /// Reads packets until one `wanted` (answering pings); a refusal or a close fails.
    async fn expect(&mut self, wanted: impl Fn(&Packet<'_>) -> bool) -> Result<(), ClientError> {
        loop {
            let text = self.next_text().await?;
            let packet = codec::parse(&text).map_err(|e| ClientError::Protocol(e.to_string()))?;
            if wanted(&packet) {
                return Ok(());
            }
            match packet {
                Packet::Ping => self.send_text(codec::PONG.to_string()).await?,
                Packet::Refused(why) => {
                    return Err(ClientError::Protocol(format!(
                        "Socket.IO CONNECT refused: {why}"
                    )));
                }
                Packet::Closed => return Err(ClientError::Ended("Socket.IO session closed")),
                _ => {}
            }
        }
    }

    /// Sends one text message.
    async fn send_text(&mut self, text: String) -> Result<(), ClientError> {
        self.ws
            .send(Message::text(text))
            .await
            .map_err(ClientError::WebSocketSend)
    }
}
