//! Long-poll client: one request at a time, re-issued at once with the cursor of the last event.
//! After a lost connection it connects again and asks with the same cursor: nothing is skipped.

use super::{ClientCtx, RecvError, record_poll_response};
use crate::http1::Conn;
use crate::recorder::Recorder;
use rtbench_proto::Transport;

pub(super) struct Session {
    conn: Conn,
}

impl Session {
    pub(super) async fn connect(ctx: &ClientCtx) -> Result<Session, String> {
        Ok(Session {
            conn: Conn::connect(ctx.target.http).await?,
        })
    }

    pub(super) async fn recv(
        &mut self,
        ctx: &ClientCtx,
        rec: &mut Recorder,
    ) -> Result<(), RecvError> {
        let path = format!(
            "{}?topic={}&after={}&timeout_ms={}",
            Transport::LongPoll.path(),
            ctx.topic,
            rec.cursor(),
            ctx.longpoll_timeout_ms
        );
        let body = self.conn.get_body(&path).await?;
        record_poll_response(&body, rec)
    }

    pub(super) fn reset(self) {
        self.conn.reset();
    }
}
