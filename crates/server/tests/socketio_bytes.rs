//! Socket.IO's bytes per event pinned to the protocol documents, over raw sockets: one known event
//! costs, on Engine.IO's WebSocket transport, exactly one RFC 6455 text frame whose payload is the
//! Engine.IO message type `4`, the Socket.IO EVENT type `2` and the JSON array `["e",<body>]`
//! (socket.io-protocol v5, engine.io-protocol v4); on Engine.IO's long-polling transport, one
//! `GET` answered with exactly that packet as the body. The meter counts exactly those bytes in
//! the `socketio` / `socketio_polling` rows, and the kernel agrees.
//!
//! The expected bytes are built here from those rules, not by the server's or the client's code;
//! the event is published straight into the hub with a known `t_pub_ns`.

mod common;

use common::raw::Raw;
use common::{STEP, sample, within};
use rtbench_proto::metrics::{self as names, Sample, parse_text};
use rtbench_server::ServerSettings;
use rtbench_server::testing::TestServer;
use tokio::io::AsyncReadExt;

/// Payload bytes of the event.
const P: usize = 100;
/// The event's scheduled time, chosen so its digits are known.
const T_PUB_NS: u64 = 1_000_000_007;

fn event_body(seq: u64, payload: &str) -> String {
    format!(r#"{{"seq":{seq},"t_pub_ns":{T_PUB_NS},"payload":"{payload}"}}"#)
}

/// The Engine.IO message carrying the Socket.IO EVENT `e` with `body` as its one argument.
fn event_packet(body: &str) -> String {
    format!(r#"42["e",{body}]"#)
}

async fn metrics(server: &TestServer) -> Vec<Sample> {
    let mut c = Raw::connect(server.http).await;
    c.send(b"GET /metrics HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
        .await;
    let text = within(STEP, async {
        let mut all = Vec::new();
        c.stream.read_to_end(&mut all).await.unwrap();
        String::from_utf8(all).unwrap()
    })
    .await;
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    parse_text(body)
}

/// A scrape once the meter holds at least `sent` bytes sent for `transport` more than `before`
/// does (bounded: the server counts a write just after the kernel took it, so the client can read
/// the bytes a moment before the meter counts them).
async fn settled(
    server: &TestServer,
    before: &[Sample],
    transport: &str,
    sent: usize,
) -> Vec<Sample> {
    let base = counts(before, transport).0.0;
    for _ in 0..100 {
        let m = metrics(server).await;
        if counts(&m, transport).0.0 - base >= sent as f64 {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    metrics(server).await
}

/// (sent, received) by the meter, and by the kernel, for `transport`'s bucket.
fn counts(m: &[Sample], transport: &str) -> ((f64, f64), (f64, f64)) {
    let s = |name| sample(m, name, Some(transport));
    let meter = (s(names::BYTES_SENT), s(names::BYTES_RECEIVED));
    let kernel = (
        s(names::KERNEL_BYTES_ACKED) + s(names::KERNEL_SEND_QUEUE_BYTES),
        s(names::KERNEL_BYTES_RECEIVED) - s(names::KERNEL_RECEIVE_QUEUE_BYTES),
    );
    (meter, kernel)
}

fn assert_costs(
    before: &[Sample],
    after: &[Sample],
    transport: &str,
    sent: usize,
    received: usize,
) {
    let ((s0, r0), _) = counts(before, transport);
    let ((s1, r1), kernel) = counts(after, transport);
    assert_eq!(
        (s1 - s0, r1 - r0),
        (sent as f64, received as f64),
        "{transport} meter"
    );
    assert_eq!(kernel, (s1, r1), "{transport}: kernel and meter disagree");
}

/// RFC 6455 §5.2: one unmasked server text frame: (its length on the wire, its payload).
async fn server_frame(c: &mut Raw) -> (usize, String) {
    let head = c.take(2).await;
    assert_eq!(head[0], 0x81, "FIN + text");
    let (len, header) = match head[1] {
        126 => (
            u16::from_be_bytes(c.take(2).await.try_into().unwrap()) as usize,
            4,
        ),
        n if n < 126 => (n as usize, 2),
        n => panic!("unexpected length byte {n}"),
    };
    let payload = String::from_utf8(c.take(len).await).unwrap();
    (header + len, payload)
}

/// RFC 6455 §5.2: a client text frame, masked with the all-zero key (so the payload reads as is).
fn client_frame(text: &str) -> Vec<u8> {
    assert!(text.len() < 126);
    let mut f = vec![0x81, 0x80 | text.len() as u8, 0, 0, 0, 0];
    f.extend_from_slice(text.as_bytes());
    f
}

/// The event's body, published before the client subscribes (so it arrives by the replay after
/// CONNECT, whatever the timing), and its sequence number.
fn publish(server: &TestServer, topic: &str) -> String {
    let payload = rtbench_proto::make_payload(1, P);
    let seq = server
        .server
        .hub()
        .publish(topic, T_PUB_NS, &payload)
        .unwrap();
    event_body(seq, &payload)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socketio_event_costs_exactly_one_frame_of_42_and_the_json_array() {
    let server = TestServer::start(ServerSettings::default()).await.unwrap();
    let body = publish(&server, "sio");
    let packet = event_packet(&body);
    assert_eq!(packet.len(), 2 + r#"["e",]"#.len() + body.len());
    // FIN + text, 126 and a 16-bit length (the packet is 126..65535 bytes), unmasked.
    let mut frame = vec![0x81, 126];
    frame.extend_from_slice(&(packet.len() as u16).to_be_bytes());
    frame.extend_from_slice(packet.as_bytes());

    let before = metrics(&server).await;
    let mut c = Raw::connect(server.http).await;
    let upgrade = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nhost: t\r\nconnection: upgrade\r\n\
          upgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    c.send(upgrade.as_bytes()).await;
    let (status, _, head) = c.head().await;
    assert_eq!(status, "HTTP/1.1 101 Switching Protocols");
    let (open_len, open) = server_frame(&mut c).await;
    assert!(
        open.starts_with(r#"0{"sid":""#),
        "Engine.IO open packet: {open}"
    );
    let connect = client_frame(r#"40{"topic":"sio","after":0}"#);
    c.send(&connect).await;
    // The CONNECT answer, the ping socketioxide sends once as each session starts (unanswered:
    // the test ends long before the ping timeout) and the event, in any order.
    let mut frames: Vec<(usize, String)> = Vec::new();
    let has = |frames: &[(usize, String)], p: &str| frames.iter().any(|(_, f)| f.starts_with(p));
    while !(has(&frames, "2") && has(&frames, "40") && has(&frames, "42")) {
        frames.push(server_frame(&mut c).await);
    }
    assert_eq!(frames.len(), 3, "{frames:?}");
    let (event_len, event) = frames.iter().find(|(_, f)| f.starts_with("42")).unwrap();
    assert_eq!(*event, packet);
    assert_eq!(*event_len, frame.len());
    assert!(
        frames.iter().any(|(_, f)| f.starts_with(r#"40{"sid":""#)),
        "{frames:?}"
    );
    assert!(frames.iter().any(|(_, f)| f == "2"), "{frames:?}");
    let sent = head + open_len + frames.iter().map(|(n, _)| n).sum::<usize>();
    let after = settled(&server, &before, "socketio", sent).await;
    assert_costs(
        &before,
        &after,
        "socketio",
        sent,
        upgrade.len() + connect.len(),
    );
    let delivered = |m: &[Sample]| sample(m, names::EVENTS_DELIVERED, Some("socketio"));
    assert_eq!(delivered(&after) - delivered(&before), 1.0);
}

/// Sends one polling request on `c` and returns (bytes read for the whole answer, its body).
async fn poll(c: &mut Raw, request: &str) -> (usize, String) {
    c.send(request.as_bytes()).await;
    let (status, fields, head) = c.head().await;
    assert_eq!(status, "HTTP/1.1 200 OK", "{fields:?}");
    let len: usize = fields
        .iter()
        .find_map(|f| f.strip_prefix("content-length: "))
        .unwrap_or_else(|| panic!("a content-length in {fields:?}"))
        .parse()
        .unwrap();
    let body = String::from_utf8(c.take(len).await).unwrap();
    (head + len, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socketio_polling_event_is_one_get_answered_with_the_packet() {
    let server = TestServer::start(ServerSettings::default()).await.unwrap();
    let packet = event_packet(&publish(&server, "sio-p"));
    let path = "/socket.io-polling/?EIO=4&transport=polling";
    let before = metrics(&server).await;
    let mut c = Raw::connect(server.http).await;
    let open_get = format!("GET {path} HTTP/1.1\r\nhost: t\r\n\r\n");
    let (mut sent, open) = poll(&mut c, &open_get).await;
    let sid = open
        .strip_prefix(r#"0{"sid":""#)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("Engine.IO open packet: {open}"));
    let url = format!("{path}&sid={sid}");
    let connect = r#"40{"topic":"sio-p","after":0}"#;
    let post = format!(
        "POST {url} HTTP/1.1\r\nhost: t\r\ncontent-type: text/plain;charset=UTF-8\r\ncontent-length: {}\r\n\r\n{connect}",
        connect.len()
    );
    let (n, ok) = poll(&mut c, &post).await;
    assert_eq!(ok, "ok");
    sent += n;
    let mut received = open_get.len() + post.len();
    let get = format!("GET {url} HTTP/1.1\r\nhost: t\r\n\r\n");
    // The CONNECT answer, the session's first ping and the event, in one answer or more (in any
    // order): each answer is its packets joined by the record separator 0x1E.
    let mut packets: Vec<String> = Vec::new();
    let has = |packets: &[String], p: &str| packets.iter().any(|f| f.starts_with(p));
    while !(has(&packets, "2") && has(&packets, "40") && has(&packets, "42")) {
        let (n, body) = poll(&mut c, &get).await;
        (sent, received) = (sent + n, received + get.len());
        let split: Vec<String> = body.split('\x1e').map(str::to_string).collect();
        assert_eq!(split.join("\x1e"), body);
        packets.extend(split);
    }
    assert_eq!(packets.len(), 3, "{packets:?}");
    assert!(packets.contains(&packet), "{packets:?}");
    assert!(packets.contains(&"2".to_string()), "{packets:?}");
    assert!(has(&packets, r#"40{"sid":""#), "{packets:?}");
    let after = settled(&server, &before, "socketio_polling", sent).await;
    assert_costs(&before, &after, "socketio_polling", sent, received);
}

/// Acknowledged emits (socket.io-protocol v5, "Acknowledgement": `{ type: EVENT, data: ["foo"],
/// id: 12 }` is `212["foo"]`, answered by `{ type: ACK, data: [], id: 12 }`, `312[]`, each in an
/// Engine.IO message `4`): three emits of the event `publish` with ids 0, 5 and 12 get exactly one
/// ACK each, `430[]`, `435[]` and `4312[]`, each one unmasked text frame, and each payload is
/// published to the socket's topic; an emit without an id is published and not acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socketio_acked_emits_get_one_empty_ack_each_and_are_published() {
    let server = TestServer::start(ServerSettings::default()).await.unwrap();
    let mut c = Raw::connect(server.http).await;
    let upgrade = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nhost: t\r\nconnection: upgrade\r\n\
          upgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    c.send(upgrade.as_bytes()).await;
    let (status, _, _) = c.head().await;
    assert_eq!(status, "HTTP/1.1 101 Switching Protocols");
    let (_, open) = server_frame(&mut c).await;
    assert!(open.starts_with(r#"0{"sid":""#), "{open}");
    c.send(&client_frame(r#"40{"topic":"sio-ack","after":0}"#))
        .await;
    let mut frames: Vec<(usize, String)> = Vec::new();
    while !frames.iter().any(|(_, f)| f.starts_with("40")) {
        frames.push(server_frame(&mut c).await);
    }
    for emit in [
        r#"420["publish","m-0"]"#,
        r#"425["publish","m-5"]"#,
        r#"4212["publish","m-12"]"#,
        r#"42["publish","m-none"]"#,
    ] {
        c.send(&client_frame(emit)).await;
    }
    // Four events come back through the topic's room; wait for them, then for any stray ACK.
    fn events(frames: &[(usize, String)]) -> impl Iterator<Item = &(usize, String)> {
        frames.iter().filter(|(_, f)| f.starts_with("42"))
    }
    while events(&frames).count() < 4 {
        frames.push(server_frame(&mut c).await);
    }
    let hub = server.server.hub();
    assert_eq!(hub.topic("sio-ack").unwrap().last_seq(), 4);
    let acks: Vec<&(usize, String)> = frames.iter().filter(|(_, f)| f.starts_with("43")).collect();
    let expected = [(2 + 5, "430[]"), (2 + 5, "435[]"), (2 + 6, "4312[]")];
    assert_eq!(acks.len(), 3, "one ACK per emit with an id: {frames:?}");
    for (len, ack) in expected {
        assert!(
            acks.iter().any(|(n, f)| (*n, f.as_str()) == (len, ack)),
            "{ack} in one frame of {len} bytes: {frames:?}"
        );
    }
    for p in ["m-0", "m-5", "m-12", "m-none"] {
        assert!(
            events(&frames).any(|(_, f)| f.contains(&format!(r#""payload":"{p}""#))),
            "{p} published: {frames:?}"
        );
    }
}
