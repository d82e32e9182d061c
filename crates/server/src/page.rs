//! `GET /`: the live page of `rtbench serve` — four lanes (EventSource, WebSocket, fetch
//! long-poll, fetch short-poll) on one topic, each with its events, live latency against the
//! events' scheduled time through a measured clock offset, events/s and bytes (`docs/browser.md`).
//!
//! The page, its script and its style are compiled into the binary (`include_str!`): it needs no
//! network and no other file. Its demo publisher is [`demo`].

mod demo;

use crate::control_guard;
use crate::state::State;
use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONNECTION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rtbench_proto::paths;
use std::sync::Arc;

/// The page's HTML.
const INDEX_HTML: &str = include_str!("page/index.html");
/// The page's script.
const APP_JS: &str = include_str!("page/app.js");
/// The page's style sheet.
const STYLE_CSS: &str = include_str!("page/style.css");
/// Where the page loads its script from.
const APP_JS_PATH: &str = "/page/app.js";
/// Where the page loads its style sheet from.
const STYLE_CSS_PATH: &str = "/page/style.css";
/// The empty page browser-hosted clients run in (`rtbench_loadgen::browser`): no favicon request,
/// and `connection: close`, so no connection of its own is left for an event client to reuse.
pub(crate) const CLIENTS_PAGE_PATH: &str = "/page/clients.html";
/// That page.
const CLIENTS_HTML: &str =
    "<!doctype html><title>rtbench browser clients</title><link rel=\"icon\" href=\"data:,\">";

/// The page, its assets and its demo publisher (behind the control guard, as `/schedule` is).
pub(crate) fn routes(state: &Arc<State>) -> Router<Arc<State>> {
    let demo = Router::new()
        .route(paths::DEMO_START, post(demo::start))
        .route(paths::DEMO_STOP, post(demo::stop))
        .layer(axum::Extension(Arc::new(demo::Demo::default())))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            control_guard::guard,
        ));
    Router::new()
        .route(
            paths::PAGE,
            get(|| asset("text/html; charset=utf-8", INDEX_HTML)),
        )
        .route(APP_JS_PATH, get(|| asset("text/javascript", APP_JS)))
        .route(STYLE_CSS_PATH, get(|| asset("text/css", STYLE_CSS)))
        .route(CLIENTS_PAGE_PATH, get(clients_page))
        .merge(demo)
}

/// One embedded file as an answer.
async fn asset(content_type: &'static str, text: &'static str) -> Response {
    (
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")],
        text,
    )
        .into_response()
}

/// The browser clients' empty page, on a connection that closes after it.
async fn clients_page() -> Response {
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CONNECTION, "close"),
        ],
        CLIENTS_HTML,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_embedded_assets_and_names_the_four_lanes() {
        assert!(INDEX_HTML.contains(APP_JS_PATH) && INDEX_HTML.contains(STYLE_CSS_PATH));
        for external in ["http://", "https://", "//cdn"] {
            assert!(!INDEX_HTML.contains(external), "{external}");
            assert!(!APP_JS.contains(external), "{external}");
            assert!(!STYLE_CSS.contains(external), "{external}");
        }
        for api in ["EventSource", "WebSocket", paths::CLOCK, paths::DEMO_START] {
            assert!(APP_JS.contains(api), "{api}");
        }
    }
}
