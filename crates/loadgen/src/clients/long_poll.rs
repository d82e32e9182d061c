//! Long-poll client: one request at a time, re-issued at once with the cursor of the last event.
//! After a lost connection it connects again and asks with the same cursor: nothing is skipped.

use super::subscription::{Carry, ClientCtx, RecvError, Subscription, record_poll_response};
use crate::error::ClientError;
use crate::http::{Conn, ReqBody, Requests};
use crate::recorder::Recorder;
use crate::target::spec;
use rtbench_proto::Transport;

pub(super) struct Session {
    conn: Conn,
}

impl Subscription for Session {
    const TRANSPORT: Transport = Transport::LongPoll;

    async fn connect(
        ctx: &ClientCtx,
        _carry: &Carry,
        _cursor: u64,
    ) -> Result<Session, ClientError> {
        Ok(Session {
            conn: Conn::connect(&ctx.target).await?,
        })
    }

    async fn recv(
        &mut self,
        ctx: &ClientCtx,
        rec: &mut Recorder,
        _carry: &mut Carry,
    ) -> Result<(), RecvError> {
        let path = spec::current().long_poll.render(
            &ctx.topic,
            &rec.cursor().to_string(),
            &ctx.longpoll_timeout_ms.to_string(),
        );
        let body = self.conn.get_body(&path).await?;
        record_poll_response(&body, rec)
    }

    fn share(&self) -> Option<Requests<ReqBody>> {
        self.conn.share()
    }

    fn reset(self) {
        self.conn.reset();
    }
}
