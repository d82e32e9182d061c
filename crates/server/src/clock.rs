//! `GET /clock`: the server's CLOCK_MONOTONIC as `{"mono_ns":N}`, for a page (or any client on
//! another host) to estimate its offset to the clock events are stamped with.
//!
//! A client reads its own clock at `t0`, asks, reads it again at `t1`: the server's reading was
//! taken somewhere in between, so `offset = mono_ns − (t0 + t1) / 2` with an uncertainty of
//! `± (t1 − t0) / 2`; of several exchanges it keeps the one with the smallest round trip
//! (`docs/browser.md`). The answer is `no-store`, so no cache can hand back a stale reading.
//!
//! `GET /clock?close` answers the same with `connection: close`: a browser's last ping closes its
//! keep-alive connection, so the connection an event client opens next is its own (the server's
//! byte meter counts a connection under the endpoint of its first request).

use axum::extract::RawQuery;
use axum::http::header::{CACHE_CONTROL, CONNECTION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

/// `GET /clock` (and `GET /clock?close`).
pub(crate) async fn handler(RawQuery(query): RawQuery) -> Response {
    let headers = [
        (CONTENT_TYPE, "application/json"),
        (CACHE_CONTROL, "no-store"),
    ];
    let body = body(rtbench_proto::mono_now_ns());
    match query.as_deref() {
        Some("close") => (headers, [(CONNECTION, "close")], body).into_response(),
        _ => (headers, body).into_response(),
    }
}

/// The answer's body for a reading of `mono_ns`.
fn body(mono_ns: u64) -> String {
    format!("{{\"mono_ns\":{mono_ns}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_json_with_the_reading() {
        let v: serde_json::Value = serde_json::from_str(&body(u64::MAX)).unwrap();
        assert_eq!(v["mono_ns"].as_u64(), Some(u64::MAX));
    }
}
