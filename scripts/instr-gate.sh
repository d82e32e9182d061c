#!/usr/bin/env bash
# The deterministic performance gate: instruction counts of the hot paths (per transport, the
# server's per-delivery path at fan-out 1 and 100, the publish path, the load generator's
# per-delivery path), counted by Valgrind's callgrind through gungraun
# (crates/instr-bench/benches/), compared with the committed baseline by `instr-gate`.
#
#   scripts/instr-gate.sh                      # check the tree; exit 0 pass, 3 regression, 2 unusable
#   scripts/instr-gate.sh --update-baseline    # regenerate reports/instructions/baseline.json
#   scripts/instr-gate.sh --features extra-work-5pct   # build the benches with a cargo feature
#
# Needs valgrind and gungraun-runner of the same version as the gungraun library in Cargo.lock
# (.ci/run installs both). Environment: INSTR_OUT (default reports/latest/instructions),
# INSTR_BASELINE (default reports/instructions/baseline.json), INSTR_TOLERANCE (a % overriding
# the baseline's), INSTR_BASELINE_RUNS (runs --update-baseline takes the median of, default 5).
# docs/perf-gate.md gives the measured spread and why the tolerance is what it is.
set -uo pipefail
cd "$(dirname "$0")/.."

update=0
features=()
while [ $# -gt 0 ]; do
  case "$1" in
    --update-baseline) update=1 ;;
    --features) shift; features=(--features "${1:?--features needs a value}") ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "instr-gate: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

out=${INSTR_OUT:-reports/latest/instructions}
baseline=${INSTR_BASELINE:-reports/instructions/baseline.json}
tolerance=()
[ -n "${INSTR_TOLERANCE:-}" ] && tolerance=(--tolerance "$INSTR_TOLERANCE")

command -v valgrind >/dev/null || { echo "instr-gate: valgrind not found (apt-get install valgrind)" >&2; exit 2; }
want=$(grep -A1 '^name = "gungraun"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
have=$(gungraun-runner --version 2>/dev/null | awk '{print $2}')
if [ "$want" != "$have" ]; then
  echo "instr-gate: gungraun-runner ${have:-not found}, the benches use gungraun $want:" \
       "cargo install gungraun-runner --version $want --locked" >&2
  exit 2
fi

mkdir -p "$out"
echo "instr-gate: building the benchmarks${features[*]:+ (${features[*]})} and the comparer"
cargo build --release --locked --quiet -p rtbench-instr-bench --bin instr-gate ||
  { echo "instr-gate: build failed" >&2; exit 2; }
gate=target/release/instr-gate
cargo bench --locked --quiet -p rtbench-instr-bench "${features[@]}" --no-run 2>"$out/build.stderr" ||
  { echo "instr-gate: benchmark build failed:" >&2; tail -20 "$out/build.stderr" >&2; exit 2; }

# run_benches FILE: one run of every benchmark, gungraun's JSON lines into FILE.
run_benches() {
  local start=$SECONDS
  cargo bench --locked --quiet -p rtbench-instr-bench "${features[@]}" -- --output-format=json \
    >"$1" 2>"$1.stderr" || { echo "instr-gate: benchmarks failed:" >&2; tail -20 "$1.stderr" >&2; return 1; }
  echo "instr-gate: $(grep -c '^{' "$1") benchmarks in $((SECONDS - start)) s" \
       "(load average $(cut -d' ' -f1-3 /proc/loadavg))"
}

if [ "$update" -eq 1 ]; then
  n=${INSTR_BASELINE_RUNS:-5}
  runs=()
  for i in $(seq 1 "$n"); do
    run_benches "$out/baseline-run-$i.jsonl" || exit 2
    runs+=("$out/baseline-run-$i.jsonl")
  done
  mkdir -p "$(dirname "$baseline")"
  "$gate" baseline --out "$baseline" ${INSTR_TOLERANCE:+--tolerance "$INSTR_TOLERANCE"} "${runs[@]}" ||
    exit 2
  echo "instr-gate: commit $baseline"
  exit 0
fi

[ -f "$baseline" ] || { echo "instr-gate: no baseline at $baseline; make one with --update-baseline" >&2; exit 2; }
run_benches "$out/run.jsonl" || exit 2
"$gate" compare "$baseline" "$out/run.jsonl" "${tolerance[@]}" --format markdown >"$out/gate.md"
"$gate" compare "$baseline" "$out/run.jsonl" "${tolerance[@]}" >"$out/gate.txt"
rc=$?
cat "$out/gate.txt"
case $rc in
  0) echo "instr-gate: PASS (report: $out/gate.txt, Markdown: $out/gate.md)" ;;
  3) echo "instr-gate: FAIL: instruction counts grew beyond the tolerance (see above; $out/gate.md)" ;;
  *) echo "instr-gate: could not compare (exit $rc)" ;;
esac
exit "$rc"
