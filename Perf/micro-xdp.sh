#!/bin/bash
# micro-xdp.sh -- ns per frame of Sluice's XDP program on the SYN path, which answers SYNs by default
# (xdp-syn-probe: BPF_PROG_TEST_RUN, the kernel timing the program alone; see its header). Needs root:
# it loads the program on a veth in a namespace of its own (px-xdp), removed on exit.
#
# usage: sudo Perf/micro-xdp.sh [CALLS]      (default 200000 timed runs per case)
#   env SCRATCH=.build-mb (the Perf package's scratch path), STAMP (default now, UTC), CPU=1 (where it runs)
# Writes Perf/results/micro-xdp-<stamp>.txt; exit status non-zero when the probe failed.
set -u
PERFDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$PERFDIR"
CALLS=${1:-200000}
CPU=${CPU:-1}
SCRATCH=${SCRATCH:-.build-mb}
STAMP=${STAMP:-$(date -u +%Y%m%d-%H%M%S)}
NS=px-xdp
OUT=results/micro-xdp-$STAMP.txt
[ "$(id -u)" = 0 ] || { echo "micro-xdp.sh: needs root (a network namespace, an XDP program)" >&2; exit 1; }
swift build -c release --product xdp-syn-probe --scratch-path "$SCRATCH" >/tmp/micro-xdp-build.log 2>&1 \
  || { tail -20 /tmp/micro-xdp-build.log >&2; echo "micro-xdp.sh: build failed" >&2; exit 1; }
trap 'ip netns del $NS 2>/dev/null' EXIT
ip netns del $NS 2>/dev/null
ip netns add $NS
ip -n $NS link add pxg0 type veth peer name pxc0
for dev in lo pxg0 pxc0; do ip -n $NS link set $dev up; done
mkdir -p results
{
  echo "# micro-xdp.sh $STAMP UTC: $(uname -r), $(nproc) CPUs, on CPU $CPU, code $(git -C .. rev-parse --short HEAD)$(git -C .. diff --quiet HEAD -- Sources || echo ' + working tree')"
  ip netns exec $NS taskset -c "$CPU" "$SCRATCH/release/xdp-syn-probe" pxg0 "$CALLS"
} | tee "$OUT"
exit "${PIPESTATUS[0]}"
