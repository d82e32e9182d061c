#!/usr/bin/env bash
# Timed fuzz run of the hand-written parsers (issue 12): the proptest targets in
# tests/hostile/fuzz_*.rs — raw-TCP frame decoder and command parser, the load generator's SSE
# parser, the scenario file reader, and the server's lean request-head parser (through a real
# `rtbench serve`, as it is private to the server crate). Each target draws fresh cases for
# SECS seconds (default 60) and stops at the first failure with its shrunk input; turn any such
# input into a plain test next to the target. `cargo test` alone runs a fixed 256 cases each.
# proptest rather than cargo-fuzz: it runs on the stable toolchain under `cargo test`, with no
# nightly sanitizer flags. Usage: fuzz/run.sh [SECS]
set -euo pipefail
cd "$(dirname "$0")/.."
RTBENCH_FUZZ_SECS="${1:-60}" exec cargo test --test hostile fuzz_ -- --test-threads 2 --nocapture
