//! Server-Sent Events client: one streaming response, parsed block by block. Like a browser's
//! `EventSource`, it remembers the last `id:` and the server's `retry:`; after a lost stream it waits
//! `retry` (3 s if the server sent none, as browsers default) and connects again with
//! `Last-Event-ID` (see [`super::reconnect`]).

use super::sse_parser::SseParser;
use super::subscription::{Carry, ClientCtx, RecvError, Subscription, record_message};
use crate::error::ClientError;
use crate::http::{Conn, ReqBody, Requests};
use crate::recorder::Recorder;
use crate::target::spec;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use rtbench_proto::Transport;
use rtbench_proto::paths;
use std::time::Duration;

/// SSE reconnection time when the server sent no `retry:`.
pub(super) const SSE_DEFAULT_RETRY: Duration = Duration::from_secs(3);

pub(super) struct Session {
    body: Incoming,
    parser: SseParser,
    conn: Conn,
}

impl Subscription for Session {
    const TRANSPORT: Transport = Transport::Sse;

    async fn connect(ctx: &ClientCtx, carry: &Carry, _cursor: u64) -> Result<Session, ClientError> {
        let mut conn = Conn::connect(&ctx.target).await?;
        let cursor = carry.last_event_id.as_deref().unwrap_or("0");
        let path = spec::current().sse.render(&ctx.topic, cursor, "");
        let header = carry
            .last_event_id
            .as_deref()
            .map(|id| (paths::LAST_EVENT_ID, id));
        let resp = conn.get_with(&path, header).await?;
        Ok(Session {
            body: resp.into_body(),
            parser: SseParser::default(),
            conn,
        })
    }

    async fn recv(
        &mut self,
        _ctx: &ClientCtx,
        rec: &mut Recorder,
        carry: &mut Carry,
    ) -> Result<(), RecvError> {
        let frame = match self.body.frame().await {
            Some(Ok(frame)) => frame,
            Some(Err(source)) => {
                return Err(ClientError::Body {
                    what: "SSE stream",
                    source,
                }
                .into());
            }
            None => return Err(ClientError::Ended("SSE stream ended").into()),
        };
        let Ok(data) = frame.into_data() else {
            return Ok(());
        };
        self.parser.push(&data);
        while let Some(block) = self.parser.next_block() {
            if let Some(ms) = block.retry_ms {
                carry.retry = Some(Duration::from_millis(ms));
            }
            match block.event.as_deref() {
                None | Some("message") | Some("gap") if !block.data.is_empty() => {
                    record_message(&block.data, rec)?
                }
                _ => {}
            }
            // The id is remembered once the block is dispatched, as EventSource does.
            if let Some(id) = block.id {
                carry.last_event_id = Some(id);
            }
        }
        Ok(())
    }

    fn share(&self) -> Option<Requests<ReqBody>> {
        self.conn.share()
    }

    fn reset(self) {
        self.conn.reset();
    }

    /// What `EventSource` waits: the server's `retry:`, before every attempt.
    fn reconnect_delay(_attempt: u32, carry: &Carry) -> Duration {
        carry.retry.unwrap_or(SSE_DEFAULT_RETRY)
    }
}
