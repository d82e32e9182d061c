//! Raw-TCP floor client: one `SUB <topic> <after>` frame, then length-prefixed event frames down;
//! messages it publishes go up the same socket as `PUB` frames. After a lost connection it
//! subscribes again after the last event it holds.

use super::{ClientCtx, RecvError, record_message};
use crate::recorder::Recorder;
use bytes::BytesMut;
use rtbench_proto::frame::{decode_frame, encode_pub, encode_sub, encode_sub_publishing_to};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub(super) struct Session {
    stream: TcpStream,
    buf: BytesMut,
}

impl Session {
    pub(super) async fn connect(ctx: &ClientCtx, after: u64) -> Result<Session, String> {
        let addr = ctx.target.tcp;
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let mut sub = BytesMut::new();
        match &ctx.publish_to {
            Some(other) => encode_sub_publishing_to(&ctx.topic, after, other, &mut sub),
            None => encode_sub(&ctx.topic, after, &mut sub),
        }
        stream
            .write_all(&sub)
            .await
            .map_err(|e| format!("sending SUB: {e}"))?;
        Ok(Session {
            stream,
            buf: BytesMut::with_capacity(8192),
        })
    }

    pub(super) async fn recv(&mut self, rec: &mut Recorder) -> Result<(), RecvError> {
        let n = self
            .stream
            .read_buf(&mut self.buf)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("server closed the connection".to_string().into());
        }
        while let Some(frame) =
            decode_frame(&mut self.buf).map_err(|e| RecvError::Protocol(e.to_string()))?
        {
            record_message(&frame, rec)?;
        }
        Ok(())
    }

    /// Publishes `payload` as one `PUB` frame.
    pub(super) async fn send(&mut self, payload: &str) -> Result<(), String> {
        let mut frame = BytesMut::with_capacity(payload.len() + 8);
        encode_pub(payload, &mut frame);
        self.stream
            .write_all(&frame)
            .await
            .map_err(|e| format!("sending PUB: {e}"))
    }

    /// Aborts the connection with a TCP reset.
    pub(super) fn reset(self) {
        let _ = self.stream.set_zero_linger();
    }
}
