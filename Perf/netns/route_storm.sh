#!/bin/bash
# route_storm.sh -- what following a routing daemon's full-table push costs Sluice (the multi-queue
# issue: "a routing daemon pushing a full table must not stall the workers"). Sluice runs in namespace
# rt-gw (skb mode on a veth, one service) while `ip -batch` adds N /32 routes there, the way a BGP daemon
# installs a table; the routes reach Sluice's rtnetlink mirror as N events.
#
# Measured, R runs each, in one invocation (the baseline is the kernel's own work in the same run):
#   install_s      wall time of `ip -batch` (the kernel installing N routes, with Sluice listening)
#   ip_cpu_s       CPU time of the `ip` process (user + system: building and installing the routes)
#   sluice_cpu_s   CPU time Sluice's process used from the push's start until 2 s after its end
#   ratio          sluice_cpu_s / ip_cpu_s: following the table against installing it
# The mirror applies each event in O(1) and builds snapshots at most once per hold-down
# (NetlinkMirror+Loop.swift); workers never wait for it, they pick a snapshot up between batches.
#
# usage: sudo Perf/netns/route_storm.sh        (env: N=100000 R=3 SLUICE=.build/release/sluice
#                                               SLUICE_BASE=path: also run an older binary for comparison)
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PERFDIR=$(dirname "$HERE")
ROOT=$(dirname "$PERFDIR")
N=${N:-100000}
R=${R:-3}
SLUICE=${SLUICE:-$ROOT/.build/release/sluice}
SLUICE_BASE=${SLUICE_BASE:-}
RES=${RES:-$PERFDIR/results}
STAMP=$(date -u +%Y%m%d-%H%M%S)
WORK=$(mktemp -d /tmp/route-storm.XXXXXX)
TSV=$RES/route-storm-$STAMP.tsv
MD=$RES/route-storm-$STAMP.md
SETTLE_S=2   # after the push: the last hold-down and snapshot fall in the measured window
TICKS=$(getconf CLK_TCK)
[ "$(id -u)" = 0 ] || { echo "route_storm.sh: needs root (network namespaces)" >&2; exit 1; }
[ -x "$SLUICE" ] || { echo "route_storm.sh: no $SLUICE (swift build -c release --product sluice)" >&2; exit 1; }
mkdir -p "$RES"

net_down() { ip netns del rt-gw 2>/dev/null; ip netns del rt-peer 2>/dev/null; }
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; net_down; rm -rf "$WORK"; }
trap cleanup EXIT

cat >"$WORK/sluice.yaml" <<YAML
interfaces: { external: rt0, xdp_mode: skb }
local_address_groups: { lips: [10.81.0.240] }
virtual_servers:
  - { name: web, vip: 203.0.113.81, port: 80, protocol: tcp, local_address_group: lips,
      real_servers: [{ address: 10.81.0.2, port: 8080 }] }
admin: { socket: $WORK/admin.sock }
YAML
python3 - "$N" >"$WORK/batch" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(n):
    print(f"route add 10.{128 + i // 65536}.{(i // 256) % 256}.{i % 256}/32 via 10.81.0.2")
PY

cpu_of() { awk -v t="$TICKS" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }

# one_run BINARY LABEL RUN -> a TSV row
one_run() {
  local bin=$1 label=$2 run=$3
  net_down
  ip netns add rt-gw && ip netns add rt-peer
  ip link add rt0 netns rt-gw type veth peer name rt1 netns rt-peer
  ip -n rt-gw link set lo up && ip -n rt-gw link set rt0 up && ip -n rt-peer link set rt1 up
  ip -n rt-gw addr add 10.81.0.1/24 dev rt0
  ip netns exec rt-gw "$bin" run --config "$WORK/sluice.yaml" >"$WORK/sluice-$label-$run.log" 2>&1 &
  PID=$!
  for _ in $(seq 50); do grep -q "data plane up" "$WORK/sluice-$label-$run.log" && break; sleep 0.1; done
  sleep 1
  local before start end after install ipcpu
  before=$(cpu_of "$PID")
  start=$(date +%s.%N)
  # `ip`'s own CPU time, from the shell's accounting of its child.
  ipcpu=$( { TIMEFORMAT='%U %S'; time ip -n rt-gw -batch "$WORK/batch"; } 2>&1 | awk '{ print $1 + $2 }')
  end=$(date +%s.%N)
  sleep "$SETTLE_S"
  after=$(cpu_of "$PID")
  kill "$PID"; wait "$PID" 2>/dev/null; PID=""
  install=$(echo "$end - $start" | bc -l)
  printf "%s\t%s\t%s\t%.3f\t%.2f\t%.2f\t%.2f\n" "$label" "$run" "$N" "$install" "$ipcpu" \
    "$(echo "$after - $before" | bc -l)" "$(echo "($after - $before) / $ipcpu" | bc -l)" | tee -a "$TSV"
}

printf "binary\trun\troutes\tinstall_s\tip_cpu_s\tsluice_cpu_s\tratio\n" >"$TSV"
for run in $(seq "$R"); do
  one_run "$SLUICE" sluice "$run"
  [ -n "$SLUICE_BASE" ] && one_run "$SLUICE_BASE" base "$run"
done

python3 - "$TSV" "$MD" "$N" "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)" <<'PY'
import csv, statistics, sys
tsv, md, n, commit = sys.argv[1:5]
rows = list(csv.DictReader(open(tsv), delimiter="\t"))
out = [f"# Route storm: {int(n):,} routes pushed with `ip -batch` (commit {commit})", "",
       "| binary | runs | install s | ip CPU s | Sluice CPU s | Sluice / ip |", "|---|---|---|---|---|---|"]
for label in sorted({r["binary"] for r in rows}):
    rs = [r for r in rows if r["binary"] == label]
    med = lambda k: statistics.median(float(r[k]) for r in rs)
    out.append(f"| {label} | {len(rs)} | {med('install_s'):.2f} | {med('ip_cpu_s'):.2f} | "
               f"{med('sluice_cpu_s'):.2f} | {med('ratio'):.2f} |")
out += ["", "Medians. Sluice CPU counts its whole process from the push's start to 2 s after its end."]
open(md, "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
