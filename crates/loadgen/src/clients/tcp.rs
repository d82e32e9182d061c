//! Raw-TCP floor client: one `SUB` frame, then length-prefixed event frames.

use super::{ClientCtx, record_message};
use crate::recorder::Recorder;
use bytes::BytesMut;
use rtbench_proto::frame::{decode_frame, encode_sub};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub(super) struct Session {
    stream: TcpStream,
    buf: BytesMut,
}

impl Session {
    pub(super) async fn connect(ctx: &ClientCtx) -> Result<Session, String> {
        let addr = ctx.target.tcp;
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let mut sub = BytesMut::new();
        encode_sub(&ctx.topic, 0, &mut sub);
        stream
            .write_all(&sub)
            .await
            .map_err(|e| format!("sending SUB: {e}"))?;
        Ok(Session {
            stream,
            buf: BytesMut::with_capacity(8192),
        })
    }

    pub(super) async fn recv(&mut self, rec: &mut Recorder) -> Result<(), String> {
        let n = self
            .stream
            .read_buf(&mut self.buf)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("server closed the connection".into());
        }
        while let Some(frame) = decode_frame(&mut self.buf).map_err(|e| e.to_string())? {
            record_message(&frame, rec)?;
        }
        Ok(())
    }
}
