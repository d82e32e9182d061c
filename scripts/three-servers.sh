#!/usr/bin/env bash
# The three servers side by side (docs/contract.md, README "Three servers, one machine"):
# rtbench's own server (`rtbench serve`), the Node.js and the Python reference servers, measured
# back to back on this machine by the same `rtbench run --target URL --target-pid PID` with the same
# workload, so every row is measured the same way: bytes at the load generator's sockets, server
# CPU and RSS from /proc/PID. Writes one Markdown table to OUT.
#
#   scripts/three-servers.sh [OUT.md] [-- extra `rtbench run` flags]
#
# Environment: RTBENCH (default target/release/rtbench), PYTHON (a python with the reference
# server's requirements; default: a venv under target/tmp, created from the pinned
# requirements.txt), SERVER_CPU (the core the servers are pinned to, default 1; the load
# generator keeps the others). Needs node/npm, python3, curl, taskset. Traffic stays on loopback.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-three-servers.md}
shift || true
[[ "${1:-}" == "--" ]] && shift
EXTRA=("$@")
RTBENCH=${RTBENCH:-$ROOT/target/release/rtbench}
SERVER_CPU=${SERVER_CPU:-1}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

[[ -x "$RTBENCH" ]] || { echo "no rtbench at $RTBENCH (cargo build --release)" >&2; exit 2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_healthy() {
  for _ in $(seq 100); do curl -fs "http://$1/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "the server at $1 never answered /healthz" >&2; exit 2
}
# A reference server prints {"http":"127.0.0.1:PORT","pid":N} once it listens.
wait_banner() {
  for _ in $(seq 100); do
    [[ -s "$1" ]] && python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); print(d["http"])' "$1" && return 0
    sleep 0.1
  done
  echo "no banner in $1: $(cat "$1")" >&2; exit 2
}
# Run in the background (`pin ... &`): exec, so that $! is the server itself.
pin() { if [[ $(nproc) -ge 2 ]]; then exec taskset -c "$SERVER_CPU" "$@"; else exec "$@"; fi; }

(cd "$ROOT/reference-servers/node" && [[ -d node_modules ]] || npm ci --no-audit --no-fund --loglevel=error)
if [[ -z "${PYTHON:-}" ]]; then
  VENV=$ROOT/target/tmp/reference-python-venv
  if ! "$VENV/bin/python" -c 'import starlette, uvicorn, websockets' 2>/dev/null; then
    python3 -m venv --clear "$VENV"
    "$VENV/bin/pip" install -q -r "$ROOT/reference-servers/python/requirements.txt"
  fi
  PYTHON=$VENV/bin/python
fi

# measure NAME ADDR PID: one `run --target` into $WORK/NAME.
measure() {
  "$RTBENCH" run --target "http://$2" --target-pid "$3" --out "$WORK/$1" --quiet "${EXTRA[@]}" \
    > "$WORK/$1.log" 2>&1 || { echo "$1: rtbench run failed:" >&2; tail -5 "$WORK/$1.log" >&2; exit 1; }
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

port=$(free_port); tcp=$(free_port)
pin "$RTBENCH" serve --addr "127.0.0.1:$port" --tcp-addr "127.0.0.1:$tcp" > "$WORK/own.out" 2>&1 &
PIDS+=($!); wait_healthy "127.0.0.1:$port"
measure rtbench "127.0.0.1:$port" "${PIDS[-1]}"
kill "${PIDS[-1]}"

pin node "$ROOT/reference-servers/node/server.js" --port 0 > "$WORK/node.out" 2>&1 &
PIDS+=($!); addr=$(wait_banner "$WORK/node.out")
measure node "$addr" "${PIDS[-1]}"
kill "${PIDS[-1]}"

pin "$PYTHON" "$ROOT/reference-servers/python/server.py" --port 0 > "$WORK/python.out" 2>&1 &
PIDS+=($!); addr=$(wait_banner "$WORK/python.out")
measure python "$addr" "${PIDS[-1]}"
kill "${PIDS[-1]}"

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- . ':!*.md' || echo "+changes")

python3 - "$WORK" "$OUT" "$COMMIT" "$LOAD_BEFORE" "$LOAD_AFTER" <<'EOF'
import json, sys
work, out, commit, before, after = sys.argv[1:6]
names = [("rtbench", "rtbench serve"), ("node", "Node.js reference"), ("python", "Python reference")]
def ms(us):
    return f"{us / 1000:.2f} ms" if us < 100_000 else f"{us / 1000:.0f} ms"
lines = []
first = None
for key, label in names:
    r = json.load(open(f"{work}/{key}/results.json"))
    first = first or r
    for row in r["rows"]:
        t = row["totals"]
        rss = t.get("server_rss_bytes")
        lines.append("| {} | {} | {} | {} | {:.0f} | {} | {} | {}/{}/{} |".format(
            label, row["transport"], ms(row["latency_us"]["p50"]), ms(row["latency_us"]["p99"]),
            row["bytes_per_delivery"],
            f'{row["server_cpu_us_per_delivery"]:.1f}' if "server_cpu_us_per_delivery" in row else "not measured",
            f"{rss / 2**20:.0f} MiB" if rss else "not measured",
            row["lost"], row["duplicated"], row["reordered"]))
row0 = first["rows"][0]
env = first["environment"]
workload = (f'`{row0["scenario"]}`: {row0["clients"]} clients per transport, {row0["rate_per_s"]:g} events/s, '
            f'{row0["payload_bytes"]}-byte payloads, short polls every {row0["poll_interval_ms"]} ms')
with open(out, "w") as f:
    f.write(f"Commit {commit}, {env.get('build_profile', '?')} build, one machine ({env.get('cores', '?')} cores, "
            f"{env.get('cpu_model', '?')}), the three servers measured back to back by "
            f"`rtbench run --target URL --target-pid PID`; workload {workload}. "
            f"Load average (1, 5, 15 min) {before} before, {after} after.\n\n")
    f.write("| server | transport | p50 | p99 | bytes/delivery | server CPU µs/delivery | server RSS | lost/dup/reord |\n")
    f.write("|---|---|---|---|---|---|---|---|\n")
    f.write("\n".join(lines) + "\n")
print(open(out).read())
EOF
