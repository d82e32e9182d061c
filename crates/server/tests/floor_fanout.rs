//! The raw-TCP floor's fan-out: every subscriber gets every event exactly once and in order, a
//! reader whose socket fills up catches up from the ring (or is told what left it), and the meter
//! counts every event and byte the clients receive.

mod common;

use bytes::BytesMut;
use common::{STEP, TestServer, sample, within};
use rtbench_proto::event::{Message, parse_message};
use rtbench_proto::frame::{decode_frame, encode_sub};
use rtbench_proto::metrics::{
    BYTES_RECEIVED, BYTES_SENT, EVENTS_DELIVERED, KERNEL_BYTES_ACKED, KERNEL_BYTES_RECEIVED,
    KERNEL_RECEIVE_QUEUE_BYTES, KERNEL_SEND_QUEUE_BYTES,
};
use rtbench_proto::{ServerSettings, mono_now_ns};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const TOPIC: &str = "floor";

/// What a raw-TCP client received: an event's seq, or a gap notice's count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Got {
    Event(u64),
    Gap(u64),
}

/// A raw-TCP subscriber.
struct Sub {
    stream: TcpStream,
    buf: BytesMut,
    /// Every byte read.
    bytes: usize,
}

impl Sub {
    /// Subscribes to [`TOPIC`] from cursor 0 on `stream`.
    async fn on(mut stream: TcpStream) -> Sub {
        stream.set_nodelay(true).unwrap();
        let mut out = BytesMut::new();
        encode_sub(TOPIC, 0, &mut out);
        stream.write_all(&out).await.unwrap();
        Sub {
            stream,
            buf: BytesMut::new(),
            bytes: 0,
        }
    }

    async fn connect(server: &TestServer) -> Sub {
        Sub::on(TcpStream::connect(server.tcp).await.unwrap()).await
    }

    /// Reads messages until event `last` arrives; returns them all, `last` included.
    async fn until(&mut self, last: u64) -> Vec<Got> {
        let mut got = Vec::new();
        within(STEP, async {
            loop {
                while let Some(frame) = decode_frame(&mut self.buf).unwrap() {
                    let msg = match parse_message(&frame).unwrap() {
                        Message::Event(e) => Got::Event(e.seq),
                        Message::Gap { dropped } => Got::Gap(dropped),
                    };
                    got.push(msg);
                    if msg == Got::Event(last) {
                        return;
                    }
                }
                let n = self.stream.read_buf(&mut self.buf).await.unwrap();
                assert!(n > 0, "server closed early");
                self.bytes += n;
            }
        })
        .await;
        got
    }
}

/// Checks `got` is every event from 1 to `last` in order, each once, gaps accounting for the
/// missing ones; returns the number of gap notices.
fn assert_complete(got: &[Got], last: u64) -> usize {
    let (mut next, mut gaps) = (1, 0);
    for g in got {
        match *g {
            Got::Event(seq) => {
                assert_eq!(seq, next, "out of order or duplicated: {got:?}");
                next += 1;
            }
            Got::Gap(n) => {
                next += n;
                gaps += 1;
            }
        }
    }
    assert_eq!(next, last + 1, "events missing at the end");
    gaps
}

/// Bytes the kernel may hold for one connection: the server's largest send buffer
/// (`tcp_wmem`'s maximum) plus a small receive buffer — publishing twice that is sure to fill it.
fn socket_buffers_bytes() -> usize {
    let wmem = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem").unwrap();
    let max: usize = wmem.split_whitespace().last().unwrap().parse().unwrap();
    max + 256 * 1024
}

/// A subscriber that reads nothing until told, with a small receive buffer.
async fn slow_sub(server: &TestServer) -> Sub {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    Sub::on(socket.connect(server.tcp).await.unwrap()).await
}

/// Publishes `n` events of `payload_bytes` straight into the hub, yielding every 50 so the
/// fan-out and a reading client interleave with the publisher.
async fn publish(server: &TestServer, n: usize, payload_bytes: usize) {
    let payload = "x".repeat(payload_bytes);
    for i in 0..n {
        server
            .server
            .hub()
            .publish(TOPIC, mono_now_ns(), &payload)
            .unwrap();
        if i % 50 == 49 {
            tokio::task::yield_now().await;
        }
    }
}

#[tokio::test]
async fn a_slow_reader_gets_every_event_in_order_and_a_fast_one_is_not_held_up() {
    let payload_bytes = 1000;
    let events = 2 * socket_buffers_bytes() / payload_bytes;
    let config = ServerSettings {
        ring_capacity: events + 10,
        ..Default::default()
    };
    let server = TestServer::with_config(config).await;
    let (mut fast, mut slow) = (Sub::connect(&server).await, slow_sub(&server).await);
    publish(&server, 1, 10).await;
    assert_eq!(fast.until(1).await, [Got::Event(1)]);
    assert_eq!(slow.until(1).await, [Got::Event(1)]);
    let last = events as u64 + 1;
    let reader = tokio::spawn(async move { fast.until(last).await });
    publish(&server, events, payload_bytes).await;
    // The fast reader gets everything while the slow one's socket is full and unread.
    let got = within(STEP, reader).await.unwrap();
    assert_eq!(
        assert_complete(&[[Got::Event(1)].as_slice(), &got].concat(), last),
        0
    );
    let got = slow.until(last).await;
    assert_eq!(
        assert_complete(&[[Got::Event(1)].as_slice(), &got].concat(), last),
        0,
        "the ring held every event: no gap"
    );
}

#[tokio::test]
async fn a_reader_that_falls_out_of_the_ring_is_told_how_many_and_resumes() {
    let payload_bytes = 1000;
    let events = 2 * socket_buffers_bytes() / payload_bytes;
    let config = ServerSettings {
        ring_capacity: 1000,
        ..Default::default()
    };
    let server = TestServer::with_config(config).await;
    let mut slow = slow_sub(&server).await;
    publish(&server, 1, 10).await;
    assert_eq!(slow.until(1).await, [Got::Event(1)]);
    publish(&server, events, payload_bytes).await;
    let last = events as u64 + 1;
    let got = slow.until(last).await;
    let gaps = assert_complete(&[[Got::Event(1)].as_slice(), &got].concat(), last);
    assert!(
        gaps >= 1,
        "events beyond the ring are not queued for a slow reader"
    );
    let events_received = got.iter().filter(|g| matches!(g, Got::Event(_))).count();
    assert!(
        events_received * payload_bytes < socket_buffers_bytes() + 2 * 1000 * payload_bytes,
        "{events_received} events reached a reader that could hold only its socket buffers and the ring"
    );
}

#[tokio::test]
async fn many_subscribers_joining_while_events_flow_get_each_event_exactly_once() {
    let server = TestServer::start().await;
    publish(&server, 20, 100).await;
    let mut subs = Vec::new();
    for _ in 0..100 {
        subs.push(Sub::connect(&server).await);
    }
    // Each joins while the fan-out has events to send it may already have caught up on.
    for _ in 0..100 {
        subs.push(Sub::connect(&server).await);
        publish(&server, 1, 100).await;
    }
    publish(&server, 80, 100).await;
    for sub in &mut subs {
        let got = sub.until(200).await;
        assert_eq!(assert_complete(&got, 200), 0);
    }
    publish(&server, 1, 100).await;
    for sub in &mut subs {
        assert_eq!(sub.until(201).await, [Got::Event(201)], "nothing twice");
    }
    let received: usize = subs.iter().map(|s| s.bytes).sum();
    let metrics = server.metrics().await;
    let delivered = sample(&metrics, EVENTS_DELIVERED, Some("tcp"));
    assert_eq!(delivered, (subs.len() * 201) as f64);
    let tcp = |name| sample(&metrics, name, Some("tcp"));
    assert_eq!(tcp(BYTES_SENT), received as f64);
    // The kernel's counters of the same sockets agree with the meter, both ways.
    assert_eq!(
        tcp(KERNEL_BYTES_ACKED) + tcp(KERNEL_SEND_QUEUE_BYTES),
        tcp(BYTES_SENT)
    );
    assert_eq!(
        tcp(KERNEL_BYTES_RECEIVED) - tcp(KERNEL_RECEIVE_QUEUE_BYTES),
        tcp(BYTES_RECEIVED)
    );
}
