//! The canary: an innocent raw-TCP subscriber on a topic of its own, fed by the server's publisher
//! at 50 events/s, that must keep receiving every event, in order, with no gap, whatever another
//! client does to the server meanwhile.

use crate::harness::{Server, schedule};
use bytes::BytesMut;
use rtbench_proto::event::{Message, parse_message};
use rtbench_proto::frame::{decode_frame, encode_sub};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The canary's topic.
pub const TOPIC: &str = "canary";
/// Events per second published to it.
const RATE_PER_S: u64 = 50;
/// Events scheduled: enough for any test (60 s).
const EVENTS: u64 = 3_000;

/// A raw-TCP subscriber that checks every message is the next event of its topic.
pub struct Subscriber {
    received: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    reader: JoinHandle<Result<(), String>>,
}

impl Subscriber {
    /// Subscribes to `topic` from its start.
    pub fn start(tcp: SocketAddr, topic: &str) -> Subscriber {
        let mut s = TcpStream::connect(tcp).expect("subscriber connects");
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut sub = BytesMut::new();
        encode_sub(topic, 0, &mut sub);
        s.write_all(&sub).expect("subscribe");
        let received = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, st) = (received.clone(), stop.clone());
        let reader = std::thread::spawn(move || read_in_order(s, &r, &st));
        Subscriber {
            received,
            stop,
            reader,
        }
    }

    /// Waits up to `within` for `want` events, stops, and asserts they all came in order with no
    /// gap and the connection stayed open.
    pub fn finish(self, want: u64, within: Duration) {
        let end = Instant::now() + within;
        while self.received.load(Ordering::Relaxed) < want && Instant::now() < end {
            if self.reader.is_finished() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop.store(true, Ordering::Relaxed);
        let outcome = self.reader.join().expect("subscriber thread");
        let got = self.received.load(Ordering::Relaxed);
        assert_eq!(outcome, Ok(()), "subscriber broken after {got} events");
        assert!(got >= want, "subscriber starved: {got} of {want} events");
    }
}

/// The canary: a [`Subscriber`] on [`TOPIC`] and its publisher.
pub struct Canary {
    started: Instant,
    subscriber: Subscriber,
}

impl Canary {
    /// Subscribes to [`TOPIC`], then starts its publisher.
    pub fn start(server: &Server) -> Canary {
        let subscriber = Subscriber::start(server.tcp, TOPIC);
        std::thread::sleep(Duration::from_millis(50));
        schedule(server, TOPIC, RATE_PER_S as f64, 16, EVENTS);
        Canary {
            started: Instant::now(),
            subscriber,
        }
    }

    /// Asserts the canary got every event published so far (waiting up to 3 s for the last ones),
    /// in order, with no gap.
    pub fn finish(self) {
        let published = (self.started.elapsed().as_secs_f64() * RATE_PER_S as f64) as u64;
        let want = published.saturating_sub(2).min(EVENTS);
        self.subscriber.finish(want, Duration::from_secs(3));
    }
}

/// Reads frames until `stop`; every message must be the next event (seq = previous + 1).
fn read_in_order(mut s: TcpStream, received: &AtomicU64, stop: &AtomicBool) -> Result<(), String> {
    let mut buf = BytesMut::new();
    let mut chunk = [0u8; 8192];
    while !stop.load(Ordering::Relaxed) {
        match s.read(&mut chunk) {
            Ok(0) => return Err("server closed the canary's connection".into()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
            Err(e) => return Err(format!("canary read: {e}")),
        }
        while let Some(frame) = decode_frame(&mut buf).map_err(|e| e.to_string())? {
            let next = received.load(Ordering::Relaxed) + 1;
            match parse_message(&frame).map_err(|e| e.to_string())? {
                Message::Gap { dropped } => return Err(format!("gap of {dropped} at {next}")),
                Message::Event(e) if e.seq != next => {
                    return Err(format!("seq {} where {next} was due", e.seq));
                }
                Message::Event(_) => received.store(next, Ordering::Relaxed),
            }
        }
    }
    Ok(())
}
