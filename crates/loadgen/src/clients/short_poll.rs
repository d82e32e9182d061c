//! Short-poll client: asks at a fixed interval from a random phase, like a real fleet of browsers.
//! The ticks are absolute (open loop): a slow answer makes the next poll late, never shifts the rest.
//! After a lost connection it connects again and asks at once with the same cursor, then resumes
//! its interval from there.

use super::subscription::{Carry, ClientCtx, RecvError, Subscription, record_poll_response};
use crate::error::ClientError;
use crate::http::{Conn, ReqBody, Requests};
use crate::recorder::Recorder;
use crate::target::spec;
use rand::Rng;
use rtbench_proto::Transport;
use std::time::Duration;
use tokio::time::{Instant, Interval, MissedTickBehavior, interval_at};

pub(super) struct Session {
    conn: Conn,
    ticks: Interval,
}

impl Subscription for Session {
    const TRANSPORT: Transport = Transport::ShortPoll;

    async fn connect(ctx: &ClientCtx, carry: &Carry, _cursor: u64) -> Result<Session, ClientError> {
        let conn = Conn::connect(&ctx.target).await?;
        let phase = match carry.resuming {
            true => Duration::ZERO,
            false => ctx.poll_interval.mul_f64(rand::rng().random::<f64>()),
        };
        let mut ticks = interval_at(Instant::now() + phase, ctx.poll_interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
        Ok(Session { conn, ticks })
    }

    async fn recv(
        &mut self,
        ctx: &ClientCtx,
        rec: &mut Recorder,
        _carry: &mut Carry,
    ) -> Result<(), RecvError> {
        self.ticks.tick().await;
        let path = spec::current()
            .short_poll
            .render(&ctx.topic, &rec.cursor().to_string(), "");
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
