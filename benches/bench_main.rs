//! `cargo bench`: the micro-benchmarks of rtbench, one criterion group per topic.
//!
//! - `codec`: encode and parse of one event per transport framing (raw-TCP frame, WebSocket frame,
//!   SSE block, poll response) and of the canonical body they all carry;
//! - `hub`: one publish woken up in N waiting readers;
//! - `delivery`: one event published into an in-process server on 127.0.0.1:0 until one
//!   subscribed client of each transport has parsed it.
//!
//! Criterion writes its HTML report to `target/criterion/report/index.html`;
//! `cargo bench -- --save-baseline main` and `cargo bench -- --baseline main` compare runs.

mod benchmarks;

criterion::criterion_main!(
    benchmarks::codec::benches,
    benchmarks::hub::benches,
    benchmarks::delivery::benches,
);
