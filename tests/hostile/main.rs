//! Hostile clients (issue 12): black-box tests against a real `rtbench serve` child. Every test
//! runs a canary subscriber on another topic and bounds the server's RSS, threads and fds while a
//! client misbehaves. `refused` covers the refusals that always held; `defects_*` reproduce the
//! defects issue 12 lists, each bounded by a limit of `docs/limits.md`. `fuzz_*` are
//! property-based fuzz targets of the hand-written parsers (proptest, bounded:
//! `RTBENCH_FUZZ_SECS` seconds each, default a fixed number of cases).

mod attack;
mod canary;
mod defects_memory;
mod defects_resources;
mod fuzz_head;
mod fuzz_parsers;
mod harness;
mod refused;
