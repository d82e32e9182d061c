//! `GET /settings` answers the settings the server runs with as one JSON value, and every
//! transport with an HTTP path in its spec is routed and metered under that transport.

mod common;

use common::{STEP, TestServer, client, sample, within};
use reqwest::StatusCode;
use rtbench_proto::metrics as names;
use rtbench_proto::{HttpEngine, ServerFault, ServerInfo, ServerSettings, Transport, paths};

/// Settings that differ from the defaults in every kind of field.
fn unusual(engine: HttpEngine) -> ServerSettings {
    ServerSettings {
        ring_capacity: 77,
        sse_keep_alive_ms: 1234,
        ws_read_buffer_bytes: 4096,
        http_writev: false,
        http_engine: engine,
        fault_endpoints: true,
        fault: ServerFault {
            delay_us: 0,
            pad_bytes: 3,
        },
        ..ServerSettings::default()
    }
}

#[tokio::test]
async fn settings_answers_the_settings_in_force_and_the_allocator() {
    for engine in HttpEngine::ALL {
        let settings = unusual(engine);
        let server = TestServer::with_config(settings.clone()).await;
        let resp = within(STEP, client().get(server.url(paths::SETTINGS)).send())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            resp.headers()["content-type"].to_str().unwrap(),
            "application/json"
        );
        let json: serde_json::Value = resp.json().await.unwrap();
        // The shape: the settings object and the allocator, and the engine by its name.
        let obj = json.as_object().unwrap();
        assert_eq!(obj.len(), 2, "{json}");
        assert_eq!(json["allocator"], "system");
        assert_eq!(json["settings"]["http_engine"], engine.as_str());
        assert_eq!(json["settings"]["ring_capacity"], 77);
        assert_eq!(json["settings"]["fault"]["pad_bytes"], 3);
        let info: ServerInfo = serde_json::from_value(json).unwrap();
        assert_eq!(info.settings, settings);
        server.stop().await;
    }
}

/// A request to `transport`'s path that the endpoint answers at once.
fn request_path(transport: Transport, path: &str) -> String {
    match transport {
        Transport::LongPoll => format!("{path}?topic=r&timeout_ms=0"),
        // Engine.IO's handshake; the polling one is answered at once with the open packet.
        Transport::SocketIo => format!("{path}?EIO=4&transport=websocket"),
        Transport::SocketIoPolling => format!("{path}?EIO=4&transport=polling"),
        _ => format!("{path}?topic=r"),
    }
}

#[tokio::test]
async fn every_http_transport_is_routed_and_metered_under_itself() {
    for engine in HttpEngine::ALL {
        let server = TestServer::with_config(ServerSettings {
            http_engine: engine,
            ..ServerSettings::default()
        })
        .await;
        let mut routed = 0;
        for transport in Transport::ALL {
            let Some(path) = transport.http_path() else {
                continue;
            };
            let url = server.url(&request_path(transport, path));
            let resp = within(STEP, client().get(url).send()).await.unwrap();
            // A plain GET of /ws (or of Socket.IO's WebSocket transport) is refused by the upgrade,
            // but it reached its route.
            let expected = match transport {
                Transport::WebSocket | Transport::SocketIo => resp.status().is_client_error(),
                _ => resp.status() == StatusCode::OK,
            };
            assert!(expected, "{transport} ({engine}): {}", resp.status());
            assert_ne!(resp.status(), StatusCode::NOT_FOUND);
            assert_ne!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
            drop(resp);
            let metrics = server.metrics().await;
            let label = Some(transport.as_str());
            assert_eq!(
                sample(&metrics, names::HTTP_REQUESTS, label),
                1.0,
                "{transport} ({engine}) counts its one request"
            );
            assert_eq!(
                sample(&metrics, names::CONNECTIONS_ACCEPTED, label),
                1.0,
                "{transport} ({engine}) counts its one connection"
            );
            routed += 1;
        }
        let with_path = Transport::ALL.iter().filter(|t| t.http_path().is_some());
        assert_eq!(routed, with_path.count());
        assert!(routed >= 4, "poll, long poll, SSE and WebSocket are HTTP");
        server.stop().await;
    }
}
