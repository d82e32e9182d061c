//! Server-Sent Events client: one streaming response, parsed block by block. Like a browser's
//! `EventSource`, it remembers the last `id:` and the server's `retry:`; after a lost stream it waits
//! `retry` and connects again with `Last-Event-ID` (see [`super::reconnect`]).

use super::{Carry, ClientCtx, RecvError, SseParser, record_message};
use crate::http1::Conn;
use crate::recorder::Recorder;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use rtbench_proto::Transport;
use rtbench_proto::paths;
use std::time::Duration;

pub(super) struct Session {
    body: Incoming,
    parser: SseParser,
    conn: Conn,
}

impl Session {
    pub(super) async fn connect(ctx: &ClientCtx, carry: &Carry) -> Result<Session, String> {
        let mut conn = Conn::connect(ctx.target.http).await?;
        let path = format!("{}?topic={}", Transport::Sse.path(), ctx.topic);
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

    pub(super) async fn recv(
        &mut self,
        rec: &mut Recorder,
        carry: &mut Carry,
    ) -> Result<(), RecvError> {
        let frame = match self.body.frame().await {
            Some(Ok(frame)) => frame,
            Some(Err(e)) => return Err(format!("SSE stream: {e}").into()),
            None => return Err("SSE stream ended".to_string().into()),
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

    pub(super) fn reset(self) {
        self.conn.reset();
    }
}
