//! Long-poll client: one request at a time, re-issued at once with the cursor of the last event.

use super::{ClientCtx, record_poll_response};
use crate::http1::Conn;
use crate::recorder::Recorder;
use rtbench_proto::paths;

pub(super) struct Session {
    conn: Conn,
}

impl Session {
    pub(super) async fn connect(ctx: &ClientCtx) -> Result<Session, String> {
        Ok(Session {
            conn: Conn::connect(ctx.target.http).await?,
        })
    }

    pub(super) async fn recv(&mut self, ctx: &ClientCtx, rec: &mut Recorder) -> Result<(), String> {
        let path = format!(
            "{}?topic={}&after={}&timeout_ms={}",
            paths::LONGPOLL,
            ctx.topic,
            rec.cursor(),
            ctx.longpoll_timeout_ms
        );
        let body = self.conn.get_body(&path).await?;
        record_poll_response(&body, rec)
    }
}
