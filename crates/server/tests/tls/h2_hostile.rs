//! Hostile HTTP/2 over TLS (ALPN `h2`) and in cleartext (h2c prior knowledge on the plaintext
//! port), written frame by frame (RFC 9113 §4.1: a 9-byte header —
//! 24-bit length, type, flags, 31-bit stream id — then the payload): 10,000 streams opened on one
//! connection, and a flood of SETTINGS frames from a client that never reads the acknowledgements.
//! The server must answer or refuse every stream, or close the connection; nothing panics, and a
//! well-behaved client is served throughout.

use super::client::{config, connect};
use super::common::raw::Raw;
use super::{STEP, assert_ok, healthz_h1, request_close, settings, tls_server};
use rtbench_server::HttpEngine;
use rtbench_server::testing::TestServer;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The client connection preface (RFC 9113 §3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const GOAWAY: u8 = 0x7;
/// Streams the hostile client opens.
const STREAMS: u32 = 10_000;
/// SETTINGS frames the hostile client sends.
const SETTINGS_FLOOD: usize = 100_000;
/// How long a hostile client is given before it is judged.
const HOSTILE_FOR: Duration = Duration::from_secs(5);

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut out = vec![len[1], len[2], len[3], kind, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// `GET /healthz` as HPACK without the dynamic table: `:method GET` (static 2), `:scheme https`
/// (static 7), `:path` (static name 4) and `:authority` (static name 1) as literals never indexed.
fn get_healthz() -> Vec<u8> {
    let mut block = vec![0x82, 0x87, 0x04, 8];
    block.extend_from_slice(b"/healthz");
    block.extend_from_slice(&[0x01, 1, b't']);
    block
}

/// The frame types the server sent, read until it closes or `HOSTILE_FOR` passes.
async fn frame_types<R: AsyncReadExt + Unpin>(mut read: R) -> Vec<u8> {
    let mut bytes = Vec::new();
    let _ = tokio::time::timeout(HOSTILE_FOR, read.read_to_end(&mut bytes)).await;
    let (mut at, mut types) = (0, Vec::new());
    while at + 9 <= bytes.len() {
        let len = usize::from(bytes[at]) << 16
            | usize::from(bytes[at + 1]) << 8
            | usize::from(bytes[at + 2]);
        types.push(bytes[at + 3]);
        at += 9 + len;
    }
    types
}

#[tokio::test]
async fn one_raw_stream_is_answered_so_the_frames_below_are_well_formed() {
    let (server, cert) = tls_server(HttpEngine::Lean).await;
    let tls = connect(server.http, config(&[&cert], &["h2"]))
        .await
        .unwrap();
    let (read, mut write) = tokio::io::split(tls.stream);
    let reader = tokio::spawn(frame_types(read));
    let mut out = PREFACE.to_vec();
    out.extend(frame(SETTINGS, 0, 0, &[]));
    out.extend(frame(HEADERS, 0x5, 1, &get_healthz()));
    write.write_all(&out).await.unwrap();
    let types = tokio::time::timeout(STEP, reader).await.unwrap().unwrap();
    assert!(types.contains(&HEADERS), "no answer: {types:?}");
    assert!(
        !types.contains(&RST_STREAM) && !types.contains(&GOAWAY),
        "{types:?}"
    );
    drop(write);
    server.stop().await.unwrap();
}

/// Opens [`STREAMS`] streams at once on `io` (HTTP/2 from the preface on) and judges the answer:
/// every stream answered or refused, or the connection closed with GOAWAY.
async fn open_ten_thousand_streams<S>(io: S, what: &str)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (read, mut write) = tokio::io::split(io);
    let reader = tokio::spawn(frame_types(read));
    let mut out = PREFACE.to_vec();
    out.extend(frame(SETTINGS, 0, 0, &[]));
    let block = get_healthz();
    for i in 0..STREAMS {
        // END_STREAM | END_HEADERS: a whole GET per frame, on streams 1, 3, 5, ...
        out.extend(frame(HEADERS, 0x5, 2 * i + 1, &block));
    }
    let _ = tokio::time::timeout(HOSTILE_FOR, write.write_all(&out)).await;
    let types = tokio::time::timeout(STEP, reader).await.unwrap().unwrap();
    let answered = types.iter().filter(|t| **t == HEADERS).count();
    let refused = types.iter().filter(|t| **t == RST_STREAM).count();
    let closed = types.contains(&GOAWAY);
    assert!(
        closed || answered + refused == STREAMS as usize,
        "{what}: {answered} answered, {refused} refused, no GOAWAY"
    );
    assert!(answered + refused > 0, "{what}: HTTP/2 was never spoken");
    drop(write);
}

/// Sends the preface (unless sent already) and [`SETTINGS_FLOOD`] SETTINGS frames on `io`.
async fn settings_flood<S: AsyncWrite + Unpin + Send + 'static>(
    mut write: S,
    preface: bool,
) -> tokio::task::JoinHandle<S> {
    tokio::spawn(async move {
        let mut out = if preface {
            PREFACE.to_vec()
        } else {
            Vec::new()
        };
        for _ in 0..SETTINGS_FLOOD {
            out.extend(frame(SETTINGS, 0, 0, &[]));
        }
        // The server may stop reading (its acknowledgements are not read) or close: either ends it.
        let _ = tokio::time::timeout(HOSTILE_FOR, write.write_all(&out)).await;
        write
    })
}

#[tokio::test]
async fn ten_thousand_streams_are_answered_refused_or_the_connection_closed() {
    for engine in HttpEngine::ALL {
        let (server, cert) = tls_server(engine).await;
        let tls = connect(server.http, config(&[&cert], &["h2"]))
            .await
            .unwrap();
        assert_eq!(tls.alpn().as_deref(), Some(b"h2".as_slice()));
        open_ten_thousand_streams(tls.stream, &format!("{engine} h2-tls")).await;
        assert_ok(&healthz_h1(server.http, &cert).await);
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn ten_thousand_h2c_streams_on_the_plaintext_port_are_refused_and_others_served() {
    for engine in HttpEngine::ALL {
        let server = TestServer::start(settings(engine, false)).await.unwrap();
        let mut steady = Raw::connect(server.http).await;
        let hostile = Raw::connect(server.http).await;
        open_ten_thousand_streams(hostile.stream, &format!("{engine} h2c")).await;
        assert_ok(&request_close(&mut steady.stream, "/healthz").await);
        assert_ok(&healthz_plain(server.http).await);
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn an_h2c_settings_flood_from_a_client_that_never_reads_harms_no_one_else() {
    for engine in HttpEngine::ALL {
        let server = TestServer::start(settings(engine, false)).await.unwrap();
        let hostile = Raw::connect(server.http).await;
        let (mut unread, mut write) = tokio::io::split(hostile.stream);
        write.write_all(PREFACE).await.unwrap();
        // The server speaks HTTP/2 first: its SETTINGS frame (then nothing more is read).
        let mut header = [0u8; 9];
        tokio::time::timeout(STEP, unread.read_exact(&mut header))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(header[3], SETTINGS, "{engine}: h2c spoken");
        let flood = settings_flood(write, false).await;
        assert_ok(&healthz_plain(server.http).await);
        let write = tokio::time::timeout(STEP, flood).await.unwrap().unwrap();
        assert_ok(&healthz_plain(server.http).await);
        drop(write);
        server.stop().await.unwrap();
    }
}

/// `GET /healthz` over a new plaintext HTTP/1.1 connection: the answer.
async fn healthz_plain(addr: std::net::SocketAddr) -> String {
    let mut raw = Raw::connect(addr).await;
    request_close(&mut raw.stream, "/healthz").await
}

#[tokio::test]
async fn a_settings_flood_from_a_client_that_never_reads_harms_no_one_else() {
    let (server, cert) = tls_server(HttpEngine::Lean).await;
    let tls = connect(server.http, config(&[&cert], &["h2"]))
        .await
        .unwrap();
    let (_unread, write) = tokio::io::split(tls.stream);
    let flood = settings_flood(write, true).await;
    // Served while the flood is on, and after.
    assert_ok(&healthz_h1(server.http, &cert).await);
    let write = tokio::time::timeout(STEP, flood).await.unwrap().unwrap();
    assert_ok(&healthz_h1(server.http, &cert).await);
    drop(write);
    server.stop().await.unwrap();
}
