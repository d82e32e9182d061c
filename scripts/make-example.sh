#!/usr/bin/env bash
# Regenerates reports/example/ from real runs on this machine: the default run (results.json), runs
# that sweep the event rate, the clients and the short-poll interval (sweeps/*/results.json), one
# page and summary from all of them (index.html, summary.md) and its screenshots at 1400 and 800 px
# (screenshot.png, screenshot-800.png).
# Takes about 10 minutes; run it on an otherwise idle machine, since latency is a timing.
#   scripts/make-example.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-reports/example}

cargo build --release --quiet
bin=target/release/rtbench
rm -rf "$out"
mkdir -p "$out/sweeps"

echo "== base: the default run" >&2
"$bin" run --quiet --out "$out" >/dev/null

sweep() {
    local name=$1
    shift
    echo "== $name: $*" >&2
    "$bin" run --quiet "$@" --out "$out/sweeps/$name" >/dev/null
    rm -f "$out/sweeps/$name/index.html" "$out/sweeps/$name/summary.md"
}
sweep rate-0.5 --rate 0.5 --window 20s
sweep rate-2 --rate 2
sweep rate-200 --rate 200
sweep clients-10 --clients 10
sweep clients-400 --clients 400
sweep poll-100ms --transports tcp,short_poll --poll-interval 100ms
sweep poll-2s --transports tcp,short_poll --poll-interval 2s

"$bin" report "$out/results.json" "$out"/sweeps/*/results.json --out "$out" >/dev/null
scripts/render-report.sh "$out/index.html" "$out/screenshot.png" 1400
scripts/render-report.sh "$out/index.html" "$out/screenshot-800.png" 800
