//! What serving a WebSocket needs of its socket, for the two engines' sockets: axum's
//! [`WebSocket`] (stock: tokio-tungstenite over hyper's upgrade) and tokio-tungstenite's
//! [`WebSocketStream`] straight on the connection (lean: no hyper). Both are tungstenite
//! underneath, so [`crate::ws`] serves either with the same code, limits and close codes; this
//! trait only maps each one's message and error types to one shape. Hand-written because axum's
//! socket cannot be built from a raw stream, nor a tungstenite stream turned into axum's.

use axum::extract::ws::{self as axum_ws, WebSocket};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::future::Future;
use std::ops::Deref;
use std::str::Utf8Error;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// A message the client sent, as the server cares about it.
pub(crate) enum Incoming<T> {
    /// A TEXT message: a payload to publish.
    Text(T),
    /// A BINARY message (refused).
    Binary,
    /// A ping or pong (tungstenite answers pings itself).
    Control,
    /// The client's close frame (tungstenite has queued the reply).
    Close,
}

/// One WebSocket the server serves.
pub(crate) trait Socket: Send + Unpin {
    /// The payload of a TEXT message.
    type Text: TryFrom<Bytes, Error = Utf8Error> + Deref<Target = str> + Send;

    /// Queues one TEXT message (written by the next [`Socket::flush`] or when the buffer fills).
    fn feed_text(&mut self, text: Self::Text) -> impl Future<Output = Result<(), WsError>> + Send;

    /// Writes everything queued.
    fn flush(&mut self) -> impl Future<Output = Result<(), WsError>> + Send;

    /// The next message from the client; `None` once the connection is over.
    fn recv(
        &mut self,
    ) -> impl Future<Output = Option<Result<Incoming<Self::Text>, WsError>>> + Send;

    /// Sends a close frame with `code` and `reason` (at most 123 bytes).
    fn send_close(
        &mut self,
        code: u16,
        reason: &str,
    ) -> impl Future<Output = Result<(), WsError>> + Send;
}

/// The tungstenite error inside one of axum's (anything else: the connection is gone).
fn from_axum(error: axum::Error) -> WsError {
    match error.into_inner().downcast::<WsError>() {
        Ok(e) => *e,
        Err(_) => WsError::ConnectionClosed,
    }
}

impl Socket for WebSocket {
    type Text = axum_ws::Utf8Bytes;

    async fn feed_text(&mut self, text: Self::Text) -> Result<(), WsError> {
        self.feed(axum_ws::Message::Text(text))
            .await
            .map_err(from_axum)
    }

    async fn flush(&mut self) -> Result<(), WsError> {
        SinkExt::flush(self).await.map_err(from_axum)
    }

    async fn recv(&mut self) -> Option<Result<Incoming<Self::Text>, WsError>> {
        let message = match WebSocket::recv(self).await? {
            Ok(m) => m,
            Err(e) => return Some(Err(from_axum(e))),
        };
        Some(Ok(match message {
            axum_ws::Message::Text(t) => Incoming::Text(t),
            axum_ws::Message::Binary(_) => Incoming::Binary,
            axum_ws::Message::Ping(_) | axum_ws::Message::Pong(_) => Incoming::Control,
            axum_ws::Message::Close(_) => Incoming::Close,
        }))
    }

    async fn send_close(&mut self, code: u16, reason: &str) -> Result<(), WsError> {
        let frame = axum_ws::CloseFrame {
            code,
            reason: axum_ws::Utf8Bytes::from(reason),
        };
        self.send(axum_ws::Message::Close(Some(frame)))
            .await
            .map_err(from_axum)
    }
}

impl<S> Socket for WebSocketStream<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    type Text = tokio_tungstenite::tungstenite::Utf8Bytes;

    async fn feed_text(&mut self, text: Self::Text) -> Result<(), WsError> {
        self.feed(Message::Text(text)).await
    }

    async fn flush(&mut self) -> Result<(), WsError> {
        SinkExt::flush(self).await
    }

    async fn recv(&mut self) -> Option<Result<Incoming<Self::Text>, WsError>> {
        let message = match self.next().await? {
            Ok(m) => m,
            Err(e) => return Some(Err(e)),
        };
        Some(Ok(match message {
            Message::Text(t) => Incoming::Text(t),
            Message::Binary(_) => Incoming::Binary,
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Incoming::Control,
            Message::Close(_) => Incoming::Close,
        }))
    }

    async fn send_close(&mut self, code: u16, reason: &str) -> Result<(), WsError> {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        self.send(Message::Close(Some(frame))).await
    }
}
