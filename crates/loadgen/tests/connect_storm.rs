//! The connect storm against real servers on 127.0.0.1:0: every client connects and subscribes;
//! on `h1-tls` each connection costs, by the server's meter, what a TLS 1.3 handshake with the
//! server's certificate predicts on top of the plaintext storm's bytes, and a reconnect storm
//! resumes every session and saves what a PSK handshake predicts.

use rtbench_loadgen::connect_storm::{StormRow, storms};
use rtbench_loadgen::stack::ClientTls;
use rtbench_loadgen::{Control, Target};
use rtbench_server::testing::TestServer;
use rtbench_server::{ServerSettings, TlsSetting};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Clients per storm.
const CLIENTS: u64 = 100;
/// TLS 1.3 bytes per record on top of its content: 5-byte header, 1-byte inner content type,
/// 16-byte AEAD tag.
const RECORD: usize = 5 + 1 + 16;

async fn server(tls: bool) -> (TestServer, Target) {
    let settings = ServerSettings {
        tls: if tls {
            TlsSetting::SelfSigned
        } else {
            TlsSetting::Off
        },
        ..ServerSettings::default()
    };
    let server = TestServer::start(settings).await.unwrap();
    let client_tls = server
        .server
        .tls_cert_pem()
        .map(|pem| ClientTls::trusting(pem).unwrap().leak());
    let target = Target::plain(server.http, server.tcp).with_tls(client_tls);
    (server, target)
}

async fn run(target: &Target) -> Vec<StormRow> {
    let control = Control::new(target).unwrap();
    storms(CLIENTS, target, &control).await.unwrap()
}

/// The fewest bytes a full TLS 1.3 handshake (X25519, SHA-256 suites, one certificate of
/// `cert_der` bytes, ECDSA P-256) adds to one connection, with the request and the response head
/// as one record each. Each message: its 4-byte handshake header and its smallest body.
fn least_tls_bytes(cert_der: usize) -> usize {
    let key_share = 2 + 2 + 2 + 2 + 2 + 32; // extension, list, group, key
    let versions = 2 + 2 + 1 + 2; // client: list of one
    let client_hello = 4 + 2 + 32 + 1 + 2 + 2 + 2 + 2 + key_share + versions;
    let server_hello = 4 + 2 + 32 + 1 + 2 + 1 + 2 + (2 + 2 + 2 + 2 + 32) + (2 + 2 + 2);
    let certificate = 4 + 1 + 3 + 3 + cert_der + 2;
    let verify = 4 + 2 + 2 + 8;
    let finished = 4 + 32;
    let plaintext_records = 2 * 5; // ClientHello, ServerHello
    // The server's encrypted flight in at least one record; the client's Finished in one; the
    // request and the response head in one each.
    let encrypted_records = 4 * RECORD;
    client_hello
        + server_hello
        + certificate
        + verify
        + 2 * finished
        + plaintext_records
        + encrypted_records
}

/// The most: [`least_tls_bytes`] with every optional part at its largest — the client's other
/// extensions (SNI absent for an IP, ALPN, signature algorithms, groups, PSK modes, a session id
/// of 32 bytes: 300 bytes at most), EncryptedExtensions with ALPN `http/1.1`, a 72-byte signature,
/// each server message in a record of its own, two ChangeCipherSpec records of 6 bytes, and two
/// session tickets of 32 bytes each with their framing.
fn most_tls_bytes(cert_der: usize) -> usize {
    let encrypted_extensions = RECORD + 4 + 2 + (2 + 2 + 2 + 1 + 8);
    let tickets = 2 * (RECORD + 4 + 4 + 4 + (1 + 8) + (2 + 32) + 2);
    least_tls_bytes(cert_der) + 300 + encrypted_extensions + (72 - 8) + 3 * RECORD + 2 * 6 + tickets
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_connection_costs_what_tls_1_3_predicts_and_a_reconnect_resumes() {
    let (_plain_server, plain) = server(false).await;
    let plain_rows = run(&plain).await;
    assert_eq!(plain_rows.len(), 1, "no reconnect storm without TLS");
    let plain_row = &plain_rows[0];
    assert_eq!((plain_row.connections, plain_row.resumed), (CLIENTS, 0));
    assert!(plain_row.bytes_per_connection > 0.0);

    let (tls_server, tls) = server(true).await;
    let cert_der =
        CertificateDer::pem_slice_iter(tls_server.server.tls_cert_pem().unwrap().as_bytes())
            .next()
            .unwrap()
            .unwrap()
            .len();
    let rows = run(&tls).await;
    let (full, again) = (&rows[0], &rows[1]);
    assert_eq!((full.connections, full.resumed), (CLIENTS, 0));
    let tls_bytes = full.bytes_per_connection - plain_row.bytes_per_connection;
    let (least, most) = (least_tls_bytes(cert_der), most_tls_bytes(cert_der));
    assert!(
        (least as f64..=most as f64).contains(&tls_bytes),
        "TLS adds {tls_bytes} B per connection; TLS 1.3 with a {cert_der}-byte certificate \
         predicts {least}..={most}"
    );

    assert_eq!(again.resumed, CLIENTS, "every reconnect resumes");
    // A resumed handshake has no Certificate (4 + 1 + 3 + 3 + DER + 2) and no CertificateVerify
    // (16 bytes at least); it adds the client's pre_shared_key extension (2 + 2 + 2 + 2 + a
    // 32-byte ticket + 4 + 2 + 1 + a 32-byte binder = 79) and the server's (6).
    let least_saved = (4 + 1 + 3 + 3 + cert_der + 2) + 16 - 79 - 6;
    let saved = full.bytes_per_connection - again.bytes_per_connection;
    assert!(
        saved >= least_saved as f64,
        "resumption saves {saved} B per connection; TLS 1.3 predicts {least_saved} at least"
    );
    assert!(full.connect_latency_us.p50 > 0.0);
}
