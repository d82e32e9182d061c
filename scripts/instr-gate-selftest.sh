#!/usr/bin/env bash
# Shows that the instruction-count gate (scripts/instr-gate.sh) passes an unchanged tree every
# time and fails a 5 % regression every time, naming the benchmark:
#   1. the unchanged tree, INSTR_SELFTEST_PASSES times (default 2)  -> each must exit 0
#   2. the test-only feature extra-work-5pct (~5 % more instructions in SSE's per-delivery
#      server framing, rtbench_proto::sse::encode_event)            -> must exit 3, and the
#      regressions must be server_sse fanout_1 and server_sse fanout_100, nothing else
# Exit 0 when every case behaves, 1 otherwise. Outputs: reports/latest/instr-selftest/.
set -uo pipefail
cd "$(dirname "$0")/.."

root=reports/latest/instr-selftest
failures=0

# expect NAME CODE [instr-gate.sh flags...]: runs the gate, checks its exit code.
expect() {
  local name=$1 want=$2
  shift 2
  echo "== instr-selftest $name: expecting exit $want"
  INSTR_OUT="$root/$name" bash scripts/instr-gate.sh "$@" >"$root/$name.log" 2>&1
  local got=$?
  grep -E '^instr-gate: [0-9]+ benchmarks|regression:|^(PASS|FAIL)' "$root/$name.log"
  if [ "$got" -eq "$want" ]; then
    echo "== instr-selftest $name: exit $got as expected"
  else
    echo "== instr-selftest $name: exit $got, expected $want (log: $root/$name.log)" >&2
    failures=$((failures + 1))
  fi
}

mkdir -p "$root"
for i in $(seq 1 "${INSTR_SELFTEST_PASSES:-2}"); do
  expect "clean-$i" 0
done
expect extra-work-5pct 3 --features extra-work-5pct
named=$(grep -o 'regression: [a-z_]* [a-z_0-9]*' "$root/extra-work-5pct.log" | sort | tr '\n' ',')
if [ "$named" != "regression: server_sse fanout_1,regression: server_sse fanout_100," ]; then
  echo "== instr-selftest extra-work-5pct: regressions named '$named'," \
       "expected server_sse fanout_1 and fanout_100 only" >&2
  failures=$((failures + 1))
fi

if [ "$failures" -eq 0 ]; then
  echo "instr-selftest: PASS (unchanged tree passes, a 5 % regression fails naming its benchmark)"
  exit 0
fi
echo "instr-selftest: FAIL ($failures case(s) misbehaved)" >&2
exit 1
