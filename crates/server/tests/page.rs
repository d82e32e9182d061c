//! The live page and what it uses: `GET /` and its embedded assets, `GET /clock` (a reading of
//! the same CLOCK_MONOTONIC this process reads), and the bounded demo publisher (events on
//! schedule, stoppable, bounds and JSON content type enforced).

mod common;

use common::{STEP, TestServer, client, within};
use reqwest::StatusCode;
use rtbench_proto::mono_now_ns;
use serde_json::{Value, json};

async fn get(s: &TestServer, path: &str) -> reqwest::Response {
    within(STEP, client().get(s.url(path)).send())
        .await
        .unwrap()
}

async fn demo(s: &TestServer, path: &str, body: Value) -> (StatusCode, Value) {
    let resp = within(STEP, client().post(s.url(path)).json(&body).send())
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_from_the_binary() {
    let s = TestServer::start().await;
    for (path, kind) in [
        ("/", "text/html"),
        ("/page/app.js", "text/javascript"),
        ("/page/style.css", "text/css"),
    ] {
        let resp = get(&s, path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let content_type = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(content_type.starts_with(kind), "{path}: {content_type}");
        assert!(!resp.text().await.unwrap().is_empty(), "{path}");
    }
    s.stop().await;
}

#[tokio::test]
async fn the_clock_answers_this_hosts_monotonic_clock() {
    let s = TestServer::start().await;
    let before = mono_now_ns();
    let v: Value = get(&s, "/clock").await.json().await.unwrap();
    let after = mono_now_ns();
    let mono_ns = v["mono_ns"].as_u64().unwrap();
    assert!(
        (before..=after).contains(&mono_ns),
        "{before} {mono_ns} {after}"
    );
    s.stop().await;
}

#[tokio::test]
async fn the_demo_publishes_on_schedule_and_stops() {
    let s = TestServer::start().await;
    s.publish("demo", "before").await;
    let start = json!({"topic": "demo", "rate_per_s": 100.0, "seconds": 60, "payload_bytes": 8});
    let (status, started) = demo(&s, "/demo/start", start).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert_eq!(
        started["after"], 1,
        "the topic's last event before the demo"
    );
    assert_eq!(started["events"], 6000);
    let first_t_ns = started["start_mono_ns"].as_u64().unwrap();
    let events = within(STEP, async {
        loop {
            let v: Value = get(&s, "/poll?topic=demo&after=1")
                .await
                .json()
                .await
                .unwrap();
            if v["events"].as_array().unwrap().len() >= 3 {
                return v["events"].as_array().unwrap().clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    for (k, e) in events.iter().enumerate() {
        assert_eq!(e["seq"], k as u64 + 2);
        // Stamped with its scheduled time: start + k × 10 ms.
        assert_eq!(e["t_pub_ns"], first_t_ns + k as u64 * 10_000_000);
        assert_eq!(e["payload"].as_str().unwrap().len(), 8);
    }
    assert_eq!(demo(&s, "/demo/stop", json!({})).await.1["stopped"], true);
    assert_eq!(demo(&s, "/demo/stop", json!({})).await.1["stopped"], false);
    s.stop().await;
}

#[tokio::test]
async fn demos_out_of_bounds_or_not_json_are_refused() {
    let s = TestServer::start().await;
    for bad in [
        json!({"topic": "d", "rate_per_s": 1000.0, "seconds": 10}),
        json!({"topic": "d", "rate_per_s": 10.0, "seconds": 100000}),
        json!({"topic": "d", "rate_per_s": 10.0, "seconds": 10, "payload_bytes": 1_000_000}),
        json!({"topic": "bad topic", "rate_per_s": 10.0, "seconds": 10}),
    ] {
        let (status, _) = demo(&s, "/demo/start", bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let plain = within(
        STEP,
        client()
            .post(s.url("/demo/start"))
            .header("content-type", "text/plain")
            .body(r#"{"topic":"d","rate_per_s":10,"seconds":10}"#)
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(plain.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    s.stop().await;
}
