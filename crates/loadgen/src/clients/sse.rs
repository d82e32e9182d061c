//! Server-Sent Events client: one streaming response, parsed block by block.

use super::{ClientCtx, SseParser, record_message};
use crate::http1::Conn;
use crate::recorder::Recorder;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use rtbench_proto::paths;

pub(super) struct Session {
    body: Incoming,
    parser: SseParser,
    _conn: Conn,
}

impl Session {
    pub(super) async fn connect(ctx: &ClientCtx) -> Result<Session, String> {
        let mut conn = Conn::connect(ctx.target.http).await?;
        let resp = conn
            .get(&format!("{}?topic={}&after=0", paths::SSE, ctx.topic))
            .await?;
        Ok(Session {
            body: resp.into_body(),
            parser: SseParser::default(),
            _conn: conn,
        })
    }

    pub(super) async fn recv(&mut self, rec: &mut Recorder) -> Result<(), String> {
        let frame = match self.body.frame().await {
            Some(Ok(frame)) => frame,
            Some(Err(e)) => return Err(format!("SSE stream: {e}")),
            None => return Err("SSE stream ended".into()),
        };
        let Ok(data) = frame.into_data() else {
            return Ok(());
        };
        self.parser.push(&data);
        while let Some(block) = self.parser.next_block() {
            match block.event.as_deref() {
                None | Some("message") | Some("gap") if !block.data.is_empty() => {
                    record_message(&block.data, rec)?
                }
                _ => {}
            }
        }
        Ok(())
    }
}
