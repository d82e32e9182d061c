//! WebSocket client (`ws://`, or `wss://` on a TLS stack): one connection, one text message per event down; messages it publishes go up
//! the same socket as text messages. After a lost connection it connects again with `after=` the
//! last event it holds.

use super::subscription::{Carry, ClientCtx, RecvError, Subscription, record_message};
use crate::error::ClientError;
use crate::recorder::Recorder;
use crate::stack::{self, Stream};
use futures_util::{SinkExt, StreamExt};
use rtbench_proto::Transport;
use rtbench_proto::{limits, paths};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

pub(super) struct Session {
    ws: WebSocketStream<Stream>,
}

impl Subscription for Session {
    const TRANSPORT: Transport = Transport::WebSocket;
    const SENDS_INLINE: bool = true;

    async fn connect(ctx: &ClientCtx, _carry: &Carry, after: u64) -> Result<Session, ClientError> {
        let addr = ctx.target.http;
        let stream = stack::connect(addr, ctx.target.tls).await?;
        let scheme = if ctx.target.tls.is_some() {
            "wss"
        } else {
            "ws"
        };
        let url = format!(
            "{scheme}://{addr}{}?topic={}&after={after}{}",
            Self::TRANSPORT.path(),
            ctx.topic,
            publish_to_query(ctx)
        );
        let config = WebSocketConfig::default()
            .read_buffer_size(8192)
            .write_buffer_size(0)
            .max_message_size(Some(limits::MAX_FRAME_BYTES));
        let (ws, _) = client_async_with_config(url, stream, Some(config))
            .await
            .map_err(ClientError::WebSocketHandshake)?;
        Ok(Session { ws })
    }

    async fn recv(
        &mut self,
        _ctx: &ClientCtx,
        rec: &mut Recorder,
        _carry: &mut Carry,
    ) -> Result<(), RecvError> {
        match self.ws.next().await {
            Some(Ok(Message::Text(text))) => record_message(text.as_bytes(), rec),
            Some(Ok(Message::Close(frame))) => Err(ClientError::WebSocketClosed(frame).into()),
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(ClientError::WebSocket(e).into()),
            None => Err(ClientError::Ended("WebSocket ended").into()),
        }
    }

    /// Publishes `payload` as one text message.
    async fn send(&mut self, payload: &str) -> Result<(), ClientError> {
        self.ws
            .send(Message::text(payload))
            .await
            .map_err(ClientError::WebSocketSend)
    }

    fn reset(self) {
        let _ = self.ws.get_ref().set_zero_linger();
    }
}

/// `&publish_to=<topic>` when the client's messages go elsewhere than its topic.
fn publish_to_query(ctx: &ClientCtx) -> String {
    ctx.publish_to
        .as_deref()
        .map(|t| format!("&{}={t}", paths::PUBLISH_TO_PARAM))
        .unwrap_or_default()
}
