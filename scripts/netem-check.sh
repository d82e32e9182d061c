#!/usr/bin/env bash
# Compares rtbench's delay proxy with the kernel's own shaping, in a network namespace this script
# creates (and removes on exit): the server runs in the namespace behind a veth pair shaped by tc,
# the load generator in the root namespace; then the same workload runs on loopback through the
# proxy with the same settings. Both tables are printed; docs/conditions.md explains the differences.
#
#   scripts/netem-check.sh delay 20ms [rtbench run flags...]     netem delay 20ms each way vs --rtt 40ms
#   scripts/netem-check.sh rate 1600kbit [rtbench run flags...]  netem rate (or tbf) vs --bandwidth
#
# Needs root, iproute2 (tc, ip) and a release build (cargo build --release, or RTBENCH=path).
# A kernel without netem (CONFIG_NET_SCH_NETEM unset) cannot check delays; for rates it falls back
# to tbf, which lets its burst through unshaped (the script sets the smallest burst, one frame).
set -euo pipefail
mode=${1:-}; value=${2:-}
if [[ $mode != delay && $mode != rate ]] || [[ -z $value ]]; then
    echo "usage: $0 delay ONE_WAY|rate RATE [rtbench run flags...]" >&2
    exit 2
fi
shift 2
BIN=${RTBENCH:-target/release/rtbench}
NS=rtbench-check; A=rtbchk0; B=rtbchk1; HOST=10.213.0.1; PEER=10.213.0.2
OUT=${OUT:-reports/latest/netem-check}
[[ -x $BIN ]] || { echo "no $BIN: run cargo build --release first" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "needs root (ip netns, tc)" >&2; exit 1; }
command -v tc >/dev/null || { echo "needs iproute2 (apt-get install -y iproute2)" >&2; exit 1; }

server=""
cleanup() {
    [[ -n $server ]] && kill "$server" 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    ip link del "$A" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$NS"
ip link add "$A" type veth peer name "$B"
ip link set "$B" netns "$NS"
ip addr add "$HOST/24" dev "$A" && ip link set "$A" up
ip netns exec "$NS" ip addr add "$PEER/24" dev "$B"
ip netns exec "$NS" ip link set "$B" up
ip netns exec "$NS" ip link set lo up

# Shape both directions: each veth end's egress.
shape() {
    local dev=$1; shift
    if [[ $dev == "$B" ]]; then ip netns exec "$NS" tc qdisc add dev "$dev" root "$@"; else tc qdisc add dev "$dev" root "$@"; fi
}
kernel_label=""
if [[ $mode == delay ]]; then
    if ! shape "$A" netem delay "$value" 2>/tmp/rtbench-netem.err; then
        echo "netem is not available in this kernel ($(cat /tmp/rtbench-netem.err)); delays cannot be checked here" >&2
        exit 3
    fi
    shape "$B" netem delay "$value"
    kernel_label="netem delay $value each way"
    ms=$(awk -v v="$value" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /s$/ && v !~ /ms$/) n *= 1000; printf "%.3f", 2 * n }')
    proxy_flags=(--rtt "${ms}ms")
else
    if shape "$A" netem rate "$value" 2>/dev/null; then
        shape "$B" netem rate "$value"
        kernel_label="netem rate $value each way"
    else
        shape "$A" tbf rate "$value" burst 1514 latency 2s
        shape "$B" tbf rate "$value" burst 1514 latency 2s
        kernel_label="tbf rate $value burst 1514 B each way (no netem in this kernel)"
    fi
    proxy_flags=(--rtt 0ms --bandwidth "$value")
fi

ip netns exec "$NS" "$BIN" serve --addr "$PEER:18080" --tcp-addr "$PEER:18081" >/dev/null 2>&1 &
server=$!
sleep 1

echo "== kernel: $kernel_label"
"$BIN" run -q --server-http "$PEER:18080" --server-tcp "$PEER:18081" --out "$OUT/kernel" "$@"
echo
echo "== proxy: ${proxy_flags[*]}"
"$BIN" run -q "${proxy_flags[@]}" --out "$OUT/proxy" "$@"
