#!/usr/bin/env bash
# Measures what docs/capacity.md reports, on this machine, with the release build of this tree:
#
#   1. the capacity search of all five transports at the dashboard's payload (timed);
#   2. 18,000 clients at 1 event/s on websocket, sse and long_poll (every event delivered?);
#   3. the floor: a run at 100, 1,000, 5,000 and 15,000 clients (2 events/s, 10 s warm-up so the
#      floor's connections are past TCP's quick-ack start) with the plain-write() calibration, then
#      each transport's p50 as a ratio to the floor's and the floor's CPU as a ratio to write();
#   4. (with FULL=1) 10 minutes at 5,000 SSE clients and 5 events/s: load-generator RSS after the
#      first minute and at the end, and the latency interval log.
#
#   scripts/capacity-acceptance.sh [OUT_DIR]       # default target/acceptance
#   STEPS=1,2 scripts/capacity-acceptance.sh       # only these items
#
# Every run writes its results.json, index.html and .hlog files under OUT_DIR/<item>. Run it on a
# quiet machine: another busy process is counted as the load generator's or the server's lag.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/acceptance}
steps=${STEPS:-1,2,3${FULL:+,4}}
mkdir -p "$out"
cargo build --release --locked --quiet --bin rtbench
rt=target/release/rtbench
want() { [[ ",$steps," == *",$1,"* ]]; }
clock() { date +%s; }

if want 1; then
  echo "== 1. capacity search, all five transports"
  t0=$(clock)
  $rt run --transports tcp,websocket,sse,long_poll,short_poll \
    --capacity-steps 100,1000,2500,5000,10000,15000 --capacity-bisections 2 \
    --warmup 2s --window 5s --tail 500ms --out "$out/capacity" | tee "$out/capacity.txt"
  echo "capacity search took $(( $(clock) - t0 )) s" | tee -a "$out/capacity.txt"
fi

if want 2; then
  echo "== 2. 18,000 clients at 1 event/s"
  $rt run --clients 18000 --rate 1 --transports websocket,sse,long_poll \
    --out "$out/clients-18000" | tee "$out/clients-18000.txt"
fi

if want 3; then
  for n in 100 1000 5000 15000; do
    echo "== 3. the floor at $n clients"
    $rt run --clients "$n" --rate 2 --warmup 10s --window 10s --calibrate-write \
      --out "$out/floor-$n" | tee "$out/floor-$n.txt"
  done
  python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
print("clients | floor srv µs/deliv | plain write() µs | ratio | lowest p50 ÷ floor (transport)")
for n in (100, 1000, 5000, 15000):
    doc = json.load(open(f"{out}/floor-{n}/results.json"))
    rows = {r["transport"]: r for r in doc["rows"]}
    tcp = rows["tcp"]
    wc = (doc["environment"].get("write_cost") or {})
    us = wc["ns_per_write"] / 1e3 if wc.get("ns_per_write") else None
    ratio = f"{tcp['server_cpu_us_per_delivery'] / us:.2f}×" if us else "–"
    low = min((r["ratio_to_floor_p50"], t) for t, r in rows.items()
              if t != "tcp" and r.get("ratio_to_floor_p50") is not None)
    write = f"{us:.2f}" if us else "–"
    print(f"{n} | {tcp['server_cpu_us_per_delivery']:.2f} | {write} | {ratio} | {low[0]:.2f} ({low[1]})")
PY
fi

if want 4; then
  echo "== 4. 10 minutes at 5,000 SSE clients, 5 events/s"
  $rt run --transports sse --clients 5000 --rate 5 --warmup 60s --window 540s --tail 1s \
    --out "$out/rss" | tee "$out/rss.txt"
  python3 - "$out" <<'PY'
import json, sys
row = json.load(open(f"{sys.argv[1]}/rss/results.json"))["rows"][0]["overload"]
a, b = row["loadgen_rss_window_start_bytes"], row["loadgen_rss_window_end_bytes"]
print(f"load-generator RSS after the first minute {a/1e6:.2f} MB, at the end {b/1e6:.2f} MB: {100*(b-a)/a:+.2f} %")
PY
fi
