//! WebSocket client (`ws://`, or `wss://` on a TLS stack): one connection, one text message per event down; messages it publishes go up
//! the same socket as text messages. After a lost connection it connects again with `after=` the
//! last event it holds. On the HTTP/2 stacks the WebSocket runs on a stream of the client's own
//! HTTP/2 connection, opened with extended CONNECT (RFC 8441) instead of an HTTP/1.1 upgrade.

use super::subscription::{Carry, ClientCtx, RecvError, Subscription, record_message};
use crate::error::ClientError;
use crate::http::Conn;
use crate::recorder::Recorder;
use crate::stack::{self, Stream};
use crate::target::spec;
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use rtbench_proto::Transport;
use rtbench_proto::{limits, paths};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

pub(super) struct Session {
    ws: WebSocketStream<Socket>,
    /// The HTTP/2 connection the WebSocket's stream belongs to (`None`: HTTP/1.1, its own socket).
    h2: Option<Conn>,
}

/// What a WebSocket runs on.
enum Socket {
    /// Its own connection, upgraded from HTTP/1.1.
    Own(Stream),
    /// A stream of an HTTP/2 connection (RFC 8441).
    H2(TokioIo<Upgraded>),
}

impl Subscription for Session {
    const TRANSPORT: Transport = Transport::WebSocket;
    const SENDS_INLINE: bool = true;

    async fn connect(ctx: &ClientCtx, _carry: &Carry, after: u64) -> Result<Session, ClientError> {
        let mut path = spec::current()
            .websocket
            .render(&ctx.topic, &after.to_string(), "");
        path.push_str(&publish_to_query(ctx));
        let config = WebSocketConfig::default()
            .read_buffer_size(8192)
            .write_buffer_size(0)
            .max_message_size(Some(limits::MAX_FRAME_BYTES));
        if ctx.target.http2 {
            let mut conn = Conn::connect(&ctx.target).await?;
            let stream = TokioIo::new(conn.websocket(&path).await?);
            let ws =
                WebSocketStream::from_raw_socket(Socket::H2(stream), Role::Client, Some(config))
                    .await;
            return Ok(Session { ws, h2: Some(conn) });
        }
        let addr = ctx.target.http;
        let stream = stack::connect(addr, ctx.target.tls).await?;
        let scheme = if ctx.target.tls.is_some() {
            "wss"
        } else {
            "ws"
        };
        let url = format!("{scheme}://{addr}{path}");
        let (ws, _) = client_async_with_config(url, Socket::Own(stream), Some(config))
            .await
            .map_err(ClientError::WebSocketHandshake)?;
        Ok(Session { ws, h2: None })
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
        match (self.h2, self.ws.get_ref()) {
            (Some(conn), _) => conn.reset(),
            (None, Socket::Own(stream)) => drop(stream.set_zero_linger()),
            (None, Socket::H2(_)) => {}
        }
    }
}

/// Forwards one IO call to the socket in use.
macro_rules! either {
    ($self:ident, $s:ident => $call:expr) => {
        match $self.get_mut() {
            Socket::Own($s) => $call,
            Socket::H2($s) => $call,
        }
    };
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        either!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        either!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        either!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        either!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}

/// `&publish_to=<topic>` when the client's messages go elsewhere than its topic.
fn publish_to_query(ctx: &ClientCtx) -> String {
    ctx.publish_to
        .as_deref()
        .map(|t| format!("&{}={t}", paths::PUBLISH_TO_PARAM))
        .unwrap_or_default()
}
