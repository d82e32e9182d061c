//! Raw-TCP floor client: one `SUB <topic> <after>` frame, then length-prefixed event frames down;
//! messages it publishes go up the same socket as `PUB` frames. After a lost connection it
//! subscribes again after the last event it holds. On a TLS stack the floor is TLS too: the
//! connection goes through the same connector as every other ([`crate::stack::connect`]).

use super::subscription::{Carry, ClientCtx, RecvError, Subscription, protocol, record_message};
use crate::error::ClientError;
use crate::recorder::Recorder;
use crate::stack::{self, Stream};
use bytes::BytesMut;
use rtbench_proto::Transport;
use rtbench_proto::frame::{decode_frame, encode_pub, encode_sub, encode_sub_publishing_to};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub(super) struct Session {
    stream: Stream,
    buf: BytesMut,
}

impl Subscription for Session {
    const TRANSPORT: Transport = Transport::Tcp;
    const SENDS_INLINE: bool = true;

    async fn connect(ctx: &ClientCtx, _carry: &Carry, after: u64) -> Result<Session, ClientError> {
        let mut stream = stack::connect(ctx.target.tcp, ctx.target.tls).await?;
        let mut sub = BytesMut::new();
        match &ctx.publish_to {
            Some(other) => encode_sub_publishing_to(&ctx.topic, after, other, &mut sub),
            None => encode_sub(&ctx.topic, after, &mut sub),
        }
        stream
            .write_all(&sub)
            .await
            .map_err(ClientError::io("sending SUB"))?;
        Ok(Session {
            stream,
            buf: BytesMut::with_capacity(8192),
        })
    }

    async fn recv(
        &mut self,
        _ctx: &ClientCtx,
        rec: &mut Recorder,
        _carry: &mut Carry,
    ) -> Result<(), RecvError> {
        let n = self
            .stream
            .read_buf(&mut self.buf)
            .await
            .map_err(ClientError::io("read"))?;
        if n == 0 {
            return Err(ClientError::Ended("server closed the connection").into());
        }
        while let Some(frame) = decode_frame(&mut self.buf).map_err(protocol)? {
            record_message(&frame, rec)?;
        }
        Ok(())
    }

    /// Publishes `payload` as one `PUB` frame.
    async fn send(&mut self, payload: &str) -> Result<(), ClientError> {
        let mut frame = BytesMut::with_capacity(payload.len() + 8);
        encode_pub(payload, &mut frame);
        self.stream
            .write_all(&frame)
            .await
            .map_err(ClientError::io("sending PUB"))
    }

    fn reset(self) {
        let _ = self.stream.set_zero_linger();
    }
}
