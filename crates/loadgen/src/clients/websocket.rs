//! WebSocket client: one connection, one text message per event.

use super::{ClientCtx, record_message};
use crate::recorder::Recorder;
use futures_util::StreamExt;
use rtbench_proto::{limits, paths};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

pub(super) struct Session {
    ws: WebSocketStream<TcpStream>,
}

impl Session {
    pub(super) async fn connect(ctx: &ClientCtx) -> Result<Session, String> {
        let addr = ctx.target.http;
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let url = format!("ws://{addr}{}?topic={}&after=0", paths::WS, ctx.topic);
        let config = WebSocketConfig::default()
            .read_buffer_size(8192)
            .write_buffer_size(0)
            .max_message_size(Some(limits::MAX_FRAME_BYTES));
        let (ws, _) = client_async_with_config(url, stream, Some(config))
            .await
            .map_err(|e| format!("WebSocket handshake: {e}"))?;
        Ok(Session { ws })
    }

    pub(super) async fn recv(&mut self, rec: &mut Recorder) -> Result<(), String> {
        match self.ws.next().await {
            Some(Ok(Message::Text(text))) => record_message(text.as_bytes(), rec),
            Some(Ok(Message::Close(frame))) => {
                Err(format!("server closed the WebSocket: {frame:?}"))
            }
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(format!("WebSocket: {e}")),
            None => Err("WebSocket ended".into()),
        }
    }
}
