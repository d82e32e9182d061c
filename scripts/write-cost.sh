#!/usr/bin/env bash
# The floor's lower bound on this machine: the writer thread's CPU per plain write() of a floor-sized
# frame over 100, 1,000, 5,000 and 15,000 loopback sockets (`rtbench write-cost`, release build).
# Compare the floor's "srv µs/deliv" of `rtbench run --transports tcp --clients N` with it; `rtbench
# run` also measures it at its own client count and prints the ratio (docs/capacity.md, "The floor").
#
#   scripts/write-cost.sh                 # every size, default frame (180 B), 20 rounds x 5
#   scripts/write-cost.sh 5000            # only these sizes
#   WRITE_COST_BYTES=179 scripts/write-cost.sh
#
# Run it on a quiet machine: another process on the writer's CPU is counted as nothing, but one on
# the drainer's slows it and shows up as piled-up socket buffers.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 5000 15000)
cargo build --release --locked --quiet --bin rtbench
for n in "${sizes[@]}"; do
  target/release/rtbench write-cost --clients "$n" --bytes "${WRITE_COST_BYTES:-180}"
done
