//! The fault-injection endpoints: `POST /faults/close` exists only when enabled and closes exactly
//! the asked number of a transport's connections; `POST /schedule/resume` continues a schedule's
//! sequence numbers on a fresh server, and a cursor behind them gets a gap notice.

mod common;

use common::{STEP, TestServer, client, within};
use reqwest::StatusCode;
use rtbench_proto::faults::{CloseRequest, CloseResponse, ResumeRequest};
use rtbench_proto::poll::parse_poll_response;
use rtbench_proto::{mono_now_ns, paths};
use rtbench_server::ServerSettings;

#[tokio::test]
async fn close_endpoint_is_off_by_default() {
    let server = TestServer::start().await;
    let body = CloseRequest {
        transport: "sse".into(),
        count: 1,
    };
    let resp = within(
        STEP,
        client()
            .post(server.url(paths::FAULTS_CLOSE))
            .json(&body)
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    server.stop().await;
}

fn ask(transport: &str, count: u64) -> CloseRequest {
    CloseRequest {
        transport: transport.into(),
        count,
    }
}

async fn close(server: &TestServer, req: CloseRequest) -> CloseResponse {
    let resp = within(
        STEP,
        client()
            .post(server.url(paths::FAULTS_CLOSE))
            .json(&req)
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json::<CloseResponse>().await.unwrap()
}

#[tokio::test]
async fn close_drops_the_asked_number_of_streams() {
    let server = TestServer::with_config(ServerSettings {
        fault_endpoints: true,
        ..ServerSettings::default()
    })
    .await;
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut resp = within(STEP, client().get(server.url("/sse?topic=t")).send())
            .await
            .unwrap();
        within(STEP, resp.chunk())
            .await
            .unwrap()
            .expect("retry preamble");
        streams.push(resp);
    }
    assert_eq!(
        close(&server, ask("websocket", 5)).await,
        CloseResponse { closed: 0, open: 0 }
    );
    assert_eq!(
        close(&server, ask("sse", 2)).await,
        CloseResponse { closed: 2, open: 3 }
    );
    // Exactly two streams end (cut without an SSE end); one stays open.
    let mut ended = 0;
    for resp in &mut streams {
        if let Ok(next) =
            tokio::time::timeout(std::time::Duration::from_millis(500), resp.chunk()).await
        {
            assert!(
                !matches!(next, Ok(Some(_))),
                "a closed stream yields no more data"
            );
            ended += 1;
        }
    }
    assert_eq!(ended, 2);
    let bad = within(
        STEP,
        client()
            .post(server.url(paths::FAULTS_CLOSE))
            .json(&ask("pigeon", 1))
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test]
async fn resume_continues_the_sequence_and_reports_the_missing_history() {
    let server = TestServer::start().await;
    let request = ResumeRequest {
        topic: "t".into(),
        payload_bytes: 8,
        start_mono_ns: mono_now_ns(),
        period_ns: 1_000_000,
        first_seq: 1,
        from_seq: 11,
        last_seq: 12,
    };
    let resp = within(
        STEP,
        client()
            .post(server.url(paths::RESUME))
            .json(&request)
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // A client that held event 3 waits for the next event: the gap 4..=10 and events 11, 12.
    let body = within(
        STEP,
        client()
            .get(server.url("/longpoll?topic=t&after=3&timeout_ms=5000"))
            .send(),
    )
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap();
    let batch = parse_poll_response(&body).unwrap();
    assert_eq!(batch.dropped, 7);
    assert_eq!(batch.events[0].seq, 11);
    assert_eq!(
        batch.events[0].t_pub_ns,
        request.t_pub_ns(11),
        "the original schedule's time"
    );
    // The topic has events now: a second resume is refused.
    let again = within(
        STEP,
        client()
            .post(server.url(paths::RESUME))
            .json(&request)
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    server.stop().await;
}
