#!/usr/bin/env bash
# Shows that the performance gate catches real regressions and nothing else, by running it
# three ways against the committed baseline:
#   1. the unchanged tree                                  -> must pass (exit 0)
#   2. the server busy-waiting 100 µs before each HTTP write (--server-fault-delay-us 100)
#                                                          -> must fail with exit 3 (timing, CPU)
#   3. every event body padded by 64 bytes (--server-fault-pad-bytes 64)
#                                                          -> must fail with exit 3 (bytes)
# Exit 0 when all three behave, 1 otherwise. Outputs: reports/latest/selftest/{clean,delay,pad}/.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ -z "${RTBENCH:-}" ]; then
  cargo build --release --locked --quiet || { echo "selftest: build failed" >&2; exit 1; }
fi
export RTBENCH=${RTBENCH:-target/release/rtbench}
root=reports/latest/selftest
failures=0

# expect NAME CODE [rtbench run flags...]
expect() {
  local name=$1 want=$2
  shift 2
  echo "== selftest $name: expecting exit $want"
  PERF_OUT="$root/$name" bash scripts/perf-check.sh -- "$@" | tail -n 12
  local got=${PIPESTATUS[0]}
  if [ "$got" -eq "$want" ]; then
    echo "== selftest $name: exit $got as expected"
  else
    echo "== selftest $name: exit $got, expected $want" >&2
    failures=$((failures + 1))
  fi
}

expect clean 0
expect delay 3 --server-fault-delay-us 100
expect pad 3 --server-fault-pad-bytes 64

if [ "$failures" -eq 0 ]; then
  echo "selftest: the gate passed the unchanged tree and failed both injected regressions"
else
  echo "selftest: $failures case(s) misbehaved" >&2
  exit 1
fi
