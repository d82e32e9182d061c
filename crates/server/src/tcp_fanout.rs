//! The raw-TCP floor's fan-out: one task per topic writes every caught-up subscriber's socket in
//! turn, with each event's frame encoded once ([`FloorBatch`]).
//!
//! Why: the floor must cost the server as little per delivery as the kernel allows, or it is not a
//! floor. A task per connection woken per event pays a wake-up, a ring read, a frame encoding and a
//! poll per delivery; here a delivery is one non-blocking `write` of shared bytes (and two relaxed
//! counter adds). Hand-written because no crate does a cursor-checked fan-out with a slow path.
//!
//! How: a subscriber is a *member* of its topic's [`Fanout`] only while it is caught up. On each
//! round the task reads the events after the last one it sent ([`FloorBatch::fill`]) and tries to
//! write each member the frames it lacks. A socket that takes only part (or none) of them, or
//! fails, is handed back to its connection task ([`Handback`]: its cursor, plus the unwritten rest
//! of the frames when the write was partial) and leaves the list; the connection task then catches
//! up from the ring by cursor exactly as a connection always did (a gap notice if events left the
//! ring, writes bounded by `--batch-bytes`) and rejoins once its cursor has reached the fan-out's.
//! So no event is lost or sent twice, and memory stays bounded by the ring and one batch per
//! connection. The bytes are counted at the socket by the meter (`Metered::try_write`). On a TLS
//! stack each write is sealed for its connection first (`floor_socket.rs`): the frames are shared,
//! the encryption cannot be.
//!
//! The member list sits behind an async mutex held for a whole round, so joining and leaving
//! (connection tasks) wait for the round without blocking a worker thread; the task yields every
//! [`YIELD_EVERY`] writes so a large round does not starve the publisher or the accept loop.

use crate::floor_batch::FloorBatch;
use crate::floor_socket::FloorIo;
use crate::hub::Topic;
use crate::state::Shutdown;
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::io::ErrorKind;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{Notify, oneshot};

/// Writes between two yields of the fan-out task.
const YIELD_EVERY: usize = 256;
/// Batch buffer capacity kept between rounds, in bytes; a larger one is released after use.
const KEEP_BATCH_BYTES: usize = 64 * 1024;

/// A socket the fan-out and its connection task share (plaintext or TLS, `floor_socket.rs`).
pub(crate) type FloorSocket = Arc<FloorIo>;

/// What the fan-out hands a connection task when its socket could not take a round.
#[derive(Debug)]
pub(crate) struct Handback {
    /// The connection's cursor: the last event fully written or owed by `rest`.
    pub(crate) cursor: u64,
    /// The unwritten end of a partial write and the number of events it completes.
    pub(crate) rest: Option<(Bytes, usize)>,
    /// The socket failed (the connection ends).
    pub(crate) failed: bool,
}

/// One caught-up subscriber.
#[derive(Debug)]
struct Member {
    id: u64,
    socket: FloorSocket,
    cursor: u64,
    back: oneshot::Sender<Handback>,
}

/// The member list and the fan-out's position.
#[derive(Debug, Default)]
struct Members {
    /// Every event up to this one has been offered to every member.
    sent: u64,
    list: Vec<Member>,
    next_id: u64,
}

/// One topic's fan-out.
#[derive(Debug)]
pub(crate) struct Fanout {
    topic: Arc<Topic>,
    members: tokio::sync::Mutex<Members>,
    stopped: AtomicBool,
    stop: Notify,
}

/// A membership: the id to leave with and where the hand-back arrives.
pub(crate) type Membership = (u64, oneshot::Receiver<Handback>);

impl Fanout {
    /// Adds `socket` at `cursor` if it has every event the fan-out has sent; `None` when it is
    /// behind (it must catch up from the ring first).
    pub(crate) async fn join(&self, socket: &FloorSocket, cursor: u64) -> Option<Membership> {
        let mut members = self.members.lock().await;
        if cursor < members.sent {
            return None;
        }
        let (back, receiver) = oneshot::channel();
        let id = members.next_id;
        members.next_id += 1;
        members.list.push(Member {
            id,
            socket: socket.clone(),
            cursor,
            back,
        });
        Some((id, receiver))
    }

    /// Removes member `id`, if it is still one.
    pub(crate) async fn leave(&self, id: u64) {
        let mut members = self.members.lock().await;
        if let Some(i) = members.list.iter().position(|m| m.id == id) {
            members.list.swap_remove(i);
        }
    }

    /// Writes every round until the last user detaches or the server shuts down.
    async fn run(self: Arc<Self>, batch_bytes: usize, mut shutdown: Shutdown) {
        let mut published = self.topic.subscribe();
        let mut batch = FloorBatch::new();
        let mut sent = self.members.lock().await.sent;
        loop {
            if self.stopped.load(Ordering::Acquire) || shutdown.is_set() {
                return;
            }
            if *published.borrow_and_update() <= sent {
                tokio::select! {
                    changed = published.changed() => if changed.is_err() { return },
                    () = self.stop.notified() => {}
                    () = shutdown.wait() => return,
                }
                continue;
            }
            let mut members = self.members.lock().await;
            if batch.fill(&self.topic, members.sent, batch_bytes) > 0 {
                // The fan-out itself fell out of the ring: every member catches up on its own.
                for m in members.list.drain(..) {
                    let _ = m.back.send(hand_back(m.cursor, None, false));
                }
            } else {
                write_round(&batch, &mut members.list).await;
            }
            members.sent = batch.last_seq();
            sent = members.sent;
            drop(members);
            batch.release_if_larger(KEEP_BATCH_BYTES);
        }
    }
}

fn hand_back(cursor: u64, rest: Option<(Bytes, usize)>, failed: bool) -> Handback {
    Handback {
        cursor,
        rest,
        failed,
    }
}

/// Offers `batch` to every member: the frames it lacks in one non-blocking write each. A member
/// whose socket does not take them all is handed back and leaves `list`.
async fn write_round(batch: &FloorBatch, list: &mut Vec<Member>) {
    let last = batch.last_seq();
    let mut i = 0;
    let mut writes = 0;
    while i < list.len() {
        let member = &mut list[i];
        let Some((frames, events)) = batch.frames_after(member.cursor) else {
            let m = list.swap_remove(i);
            let _ = m.back.send(hand_back(m.cursor, None, false));
            continue;
        };
        if events == 0 {
            i += 1;
            continue;
        }
        writes += 1;
        if writes % YIELD_EVERY == 0 {
            tokio::task::yield_now().await;
        }
        let back = match member.socket.try_write(frames) {
            Ok(n) if n == frames.len() && !member.socket.pending() => {
                member.socket.meter().delivered(events);
                member.cursor = last;
                i += 1;
                continue;
            }
            // Part taken, or (TLS) all taken but not all of its ciphertext written: the connection
            // task writes the rest when the socket is writable.
            Ok(n) => hand_back(
                last,
                Some((Bytes::copy_from_slice(&frames[n..]), events)),
                false,
            ),
            Err(e) if e.kind() == ErrorKind::WouldBlock => hand_back(member.cursor, None, false),
            Err(_) => hand_back(member.cursor, None, true),
        };
        let m = list.swap_remove(i);
        let _ = m.back.send(back);
    }
}

/// Every topic's fan-out on one raw-TCP listener, each alive while a connection uses it.
#[derive(Debug, Default)]
pub(crate) struct Fanouts {
    by_topic: Mutex<HashMap<usize, (Arc<Fanout>, usize)>>,
}

/// A connection's use of its topic's fan-out; the last one dropped stops the fan-out's task.
#[derive(Debug)]
pub(crate) struct Attachment {
    fanouts: Arc<Fanouts>,
    key: usize,
    fanout: Arc<Fanout>,
}

impl Attachment {
    /// The fan-out.
    pub(crate) fn fanout(&self) -> &Fanout {
        &self.fanout
    }
}

impl Fanouts {
    /// Attaches to `topic`'s fan-out, starting its task (writes of at most `batch_bytes` of bodies)
    /// if it has none.
    pub(crate) fn attach(
        self: &Arc<Self>,
        topic: &Arc<Topic>,
        batch_bytes: usize,
        shutdown: Shutdown,
    ) -> Attachment {
        let key = Arc::as_ptr(topic) as usize;
        let mut by_topic = self.by_topic.lock();
        let (fanout, users) = by_topic.entry(key).or_insert_with(|| {
            let fanout = Arc::new(Fanout {
                topic: topic.clone(),
                members: tokio::sync::Mutex::new(Members {
                    sent: topic.last_seq(),
                    ..Members::default()
                }),
                stopped: AtomicBool::new(false),
                stop: Notify::new(),
            });
            tokio::spawn(fanout.clone().run(batch_bytes, shutdown));
            (fanout, 0)
        });
        *users += 1;
        Attachment {
            fanouts: self.clone(),
            key,
            fanout: fanout.clone(),
        }
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        let mut by_topic = self.fanouts.by_topic.lock();
        let Some((_, users)) = by_topic.get_mut(&self.key) else {
            return;
        };
        *users -= 1;
        if *users == 0 {
            by_topic.remove(&self.key);
            self.fanout.stopped.store(true, Ordering::Release);
            self.fanout.stop.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::Hub;
    use crate::meter::{ConnMeter, Metered, Meters};
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpStream;
    use tokio::sync::mpsc;

    /// A server-side socket in a fan-out member at `cursor`, and the client end.
    async fn member(id: u64, cursor: u64) -> (Member, oneshot::Receiver<Handback>, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        server.writable().await.unwrap();
        let (alive, _) = mpsc::channel(1);
        let meter = Arc::new(ConnMeter::new(Arc::new(Meters::default()), alive));
        let (back, receiver) = oneshot::channel();
        let socket = Arc::new(FloorIo::Plain(Metered::tracked(server, meter)));
        let m = Member {
            id,
            socket,
            cursor,
            back,
        };
        (m, receiver, client)
    }

    async fn seqs_read(client: &mut TcpStream, frames: usize) -> Vec<u64> {
        let mut buf = bytes::BytesMut::new();
        let mut seqs = Vec::new();
        while seqs.len() < frames {
            while let Some(f) = rtbench_proto::frame::decode_frame(&mut buf).unwrap() {
                seqs.push(rtbench_proto::parse_body(&f).unwrap().seq);
            }
            if seqs.len() < frames {
                assert!(client.read_buf(&mut buf).await.unwrap() > 0);
            }
        }
        assert!(buf.is_empty());
        seqs
    }

    #[tokio::test]
    async fn a_round_writes_each_member_the_frames_after_its_own_cursor() {
        let hub = Hub::new(100, 1);
        let topic = hub.topic("t").unwrap();
        for i in 0..6 {
            topic.publish(i, "p").unwrap();
        }
        let mut batch = FloorBatch::new();
        assert_eq!(batch.fill(&topic, 2, usize::MAX), 0);
        // Cursors at the batch's start, inside it, at its end, past it, and behind it.
        let mut list = Vec::new();
        let mut ends = Vec::new();
        for (id, cursor) in [(0, 2), (1, 4), (2, 6), (3, 7), (4, 1)] {
            let (m, receiver, client) = member(id, cursor).await;
            list.push(m);
            ends.push((receiver, client));
        }
        write_round(&batch, &mut list).await;
        let mut kept: Vec<(u64, u64)> = list.iter().map(|m| (m.id, m.cursor)).collect();
        kept.sort_unstable();
        assert_eq!(kept, [(0, 6), (1, 6), (2, 6), (3, 7)]);
        assert_eq!(seqs_read(&mut ends[0].1, 4).await, [3, 4, 5, 6]);
        assert_eq!(seqs_read(&mut ends[1].1, 2).await, [5, 6]);
        let back = ends[4].0.try_recv().unwrap();
        assert_eq!(
            (back.cursor, back.rest.is_none(), back.failed),
            (1, true, false)
        );
        // Nothing more was written to anyone: one more event reaches each kept member alone.
        topic.publish(7, "p").unwrap();
        assert_eq!(batch.fill(&topic, 6, usize::MAX), 0);
        write_round(&batch, &mut list).await;
        for (_, client) in &mut ends[..3] {
            assert_eq!(seqs_read(client, 1).await, [7]);
        }
        assert_eq!(list.iter().filter(|m| m.cursor == 7).count(), 4);
        let mut byte = [0u8; 1];
        let unread = ends[3].1.try_read(&mut byte).unwrap_err();
        assert_eq!(
            unread.kind(),
            ErrorKind::WouldBlock,
            "a member ahead got nothing"
        );
    }

    /// A TLS member at `cursor` whose socket buffers are small (so a round's ciphertext does not
    /// fit), and the client's end, not read until the test reads it.
    async fn tls_member(
        cursor: u64,
    ) -> (
        Member,
        oneshot::Receiver<Handback>,
        tokio_rustls::client::TlsStream<TcpStream>,
    ) {
        use crate::tls::{CertPem, ServerTls};
        use rustls::pki_types::pem::PemObject;
        let pem = CertPem::self_signed().unwrap();
        let tls = ServerTls::from_pem(&pem, rtbench_proto::TlsSetting::SelfSigned).unwrap();
        let listening = tokio::net::TcpSocket::new_v4().unwrap();
        listening.set_send_buffer_size(4096).unwrap();
        listening.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = listening.listen(1).unwrap();
        let connecting = tokio::net::TcpSocket::new_v4().unwrap();
        connecting.set_recv_buffer_size(4096).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from_pem_slice(pem.cert.as_bytes()).unwrap())
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let addr = listener.local_addr().unwrap();
        let (client, server) = tokio::join!(
            async {
                connector
                    .connect(name, connecting.connect(addr).await.unwrap())
                    .await
            },
            async {
                let (server, _) = listener.accept().await.unwrap();
                let (alive, _) = mpsc::channel(1);
                let meter = Arc::new(ConnMeter::new(Arc::new(Meters::default()), alive));
                tls.acceptor().accept(Metered::new(server, meter)).await
            }
        );
        let (socket, connection) = server.unwrap().into_inner();
        let socket = Arc::new(FloorIo::Tls(socket, Box::new(Mutex::new(connection))));
        let (back, receiver) = oneshot::channel();
        let m = Member {
            id: 0,
            socket,
            cursor,
            back,
        };
        (m, receiver, client.unwrap())
    }

    #[tokio::test]
    async fn tls_ciphertext_the_socket_did_not_take_hands_the_member_back() {
        let hub = Hub::new(100, 1);
        let topic = hub.topic("t").unwrap();
        let payload = "p".repeat(1000);
        for i in 0..40 {
            topic.publish(i, &payload).unwrap();
        }
        let mut batch = FloorBatch::new();
        assert_eq!(batch.fill(&topic, 0, usize::MAX), 0);
        let (m, mut receiver, mut client) = tls_member(0).await;
        let socket = m.socket.clone();
        let mut list = vec![m];
        write_round(&batch, &mut list).await;
        // rustls took every frame, but the socket not all of their ciphertext: the member is
        // handed back, owing nothing but that ciphertext, at the batch's last event.
        assert!(
            list.is_empty(),
            "a member with ciphertext pending stays no member"
        );
        let back = receiver.try_recv().unwrap();
        let (rest, events) = back.rest.expect("its events are owed");
        assert_eq!(
            (back.cursor, rest.len(), events, back.failed),
            (40, 0, 40, false)
        );
        assert!(socket.pending());
        // The connection task's flush, while the client reads: every event arrives, in order.
        let reader = tokio::spawn(async move {
            let mut buf = bytes::BytesMut::new();
            let mut seqs = Vec::new();
            while seqs.len() < 40 {
                while let Some(f) = rtbench_proto::frame::decode_frame(&mut buf).unwrap() {
                    seqs.push(rtbench_proto::parse_body(&f).unwrap().seq);
                }
                if seqs.len() < 40 {
                    assert!(client.read_buf(&mut buf).await.unwrap() > 0);
                }
            }
            seqs
        });
        while socket.pending() {
            socket.writable().await.unwrap();
            match socket.try_write(&[]) {
                Ok(_) => {}
                Err(e) => assert_eq!(e.kind(), ErrorKind::WouldBlock),
            }
        }
        assert_eq!(reader.await.unwrap(), (1..=40).collect::<Vec<u64>>());
    }
}
