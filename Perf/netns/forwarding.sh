#!/bin/bash
# forwarding.sh -- packet-path capacity of Sluice against the AF_XDP ceiling, in one invocation
# (issue 2): the C forwarder on the same veths gives the most a copy-mode AF_XDP path does on this
# machine, and Sluice's established-flow forwarding is expressed as a share of it. The generator is
# cheap, so the gateway is the bottleneck; the rate is counted at the sink.
#
#   pf-cli                       pf-gw (device under test)                        pf-be
#   pf-c0 10.210.1.2/24  <-->  pf-g0 10.210.1.1/24
#   02:00:00:00:01:02           02:00:00:00:01:01
#                               pf-g1 10.210.2.1/24  <-->  pf-b0 10.210.2.2/24 (RS, the sink)
#                               02:00:00:00:02:01          02:00:00:00:02:02
#   VIP 10.210.9.10 (pf-cli routes it via 10.210.1.1), LIP 10.210.2.100 (on no interface; pf-be's default
#   route points at pf-gw). The addresses and MACs of every Perf/netns script, namespaces prefixed pf-.
#
# Cases, each run R times for D seconds (alternating), generator and sink on GEN_CPU, gateway on DUT_CPU:
#   xsk_fwd  Perf/lab's C AF_XDP forwarder (copy mode, rx pf-g0 -> MAC rewrite -> tx pf-g1): the ceiling
#   sluice   `sluice run` with a UDP service VIP:9 -> RS 10.210.2.2:9 from LIP 10.210.2.100, fed
#            established flows (a 2 s warm-up at 20 kpps opens all 4096 flows of xsk_gen first)
# Traffic: Perf/lab's xsk_gen, 60-byte IPv4/UDP frames 10.210.1.2:1024-5119 -> 10.210.9.10:9, UDP checksum 0
# (valid: "none", RFC 768), IPv4 header checksum computed (Perf/lab/src/frames.h). Flat out unless RATE
# is set.
# Counting: Perf/lab's xdpcnt (native XDP_DROP counter) on pf-b0; the table shows sink pps.
# pf-gw keeps ip_forward=0, so every frame counted at the sink went through the AF_XDP path.
#
# The topology, the lab's tools (built from Perf/lab, or $PERF_LAB, into Perf/.build-lab), Sluice's
# start/stop and one measured run come from common.sh (shared with synproxy.sh and ../perf.sh).
# Needs root, make, a C compiler, libxdp/libbpf (make deps), clang with the BPF target (the Swift
# toolchain's does), ethtool, tcpdump, and for the sluice case
# `swift build -c release --product sluice` in the repository root first.
#
# usage: sudo Perf/netns/forwarding.sh          (env: R=5 D=8 RATE=0 CASES="xsk_fwd sluice"
#                                                SLUICE=.build/release/sluice MAX_FOREIGN=10 MAX_NEW_PIDS=25
#                                                ATTEMPTS=2 QUIET_TIMEOUT=30 KEEP=0)
# A run is contaminated (retried up to ATTEMPTS times, then excluded from the summary) when processes outside
# the pf-* namespaces used more than MAX_FOREIGN % of one CPU, or more than MAX_NEW_PIDS processes were
# created while it ran (short-lived compiler processes escape cpuacct.py).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PERFDIR=$(dirname "$HERE")
ROOT=$(dirname "$PERFDIR")
LABBIN=$PERFDIR/.build-lab
R=${R:-5}
D=${D:-8}
RATE=${RATE:-0}
CASES=${CASES:-"xsk_fwd sluice"}
SLUICE=${SLUICE:-$ROOT/.build/release/sluice}
MAX_FOREIGN=${MAX_FOREIGN:-10}
MAX_NEW_PIDS=${MAX_NEW_PIDS:-25}
ATTEMPTS=${ATTEMPTS:-2}
QUIET_TIMEOUT=${QUIET_TIMEOUT:-30}
STAMP=$(date -u +%Y%m%d-%H%M%S)
RES=${RES:-$PERFDIR/results}
WORK=$(mktemp -d /tmp/pf-forwarding.XXXXXX)
TSV=$RES/forwarding-$STAMP.tsv
MD=$RES/forwarding-$STAMP.md

NSP=pf
[ "$(id -u)" = 0 ] || { echo "forwarding.sh: needs root (network namespaces, XDP)" >&2; exit 1; }
mkdir -p "$RES"
source "$HERE/common.sh"
SLUICE_SERVICES=udp
lab_build

cleanup() {
  stop_sluice
  [ "${KEEP:-0}" = 1 ] || net_down
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# smoke: with Sluice running and no counter on pf-b0, capture a few frames at the RS and check that they
# were translated (LIP -> RIP:9) and that tcpdump finds no bad IPv4 header checksum.
sluice_smoke() {
  ip netns exec $BE timeout 4 tcpdump -nvc 5 -i $IF_B0 udp >"$WORK/smoke.txt" 2>/dev/null &
  local tp=$!
  sleep 1
  gen_udp 2 1000 >/dev/null 2>&1
  wait $tp 2>/dev/null
  if grep -q "$LIP\.[0-9]* > $RIP\.$UDP_PORT:" "$WORK/smoke.txt" && ! grep -q "bad cksum" "$WORK/smoke.txt"; then
    SMOKE="ok: $(grep -c "$LIP\." "$WORK/smoke.txt") frames $LIP.lport > $RIP.$UDP_PORT, no bad checksum"
  else
    SMOKE="FAILED: $(head -4 "$WORK/smoke.txt" | tr '\n' ' ')"
  fi
}

# ------------------------------------------------------------------ one measured run
run_case() { # run_case CASE RUN -> appends one TSV row; returns 1 if the run could not be made
  local c=$1 r=$2
  $CPUACCT quiet 15 "$QUIET_TIMEOUT" >/dev/null
  : >"$WORK/sluice.log"
  packet_run "$c" udp "$D" "$RATE" || return 1
  [ "$c" = sluice ] && cat "$WORK/sluice.log" "$WORK/sluice.stats" >"$RES/forwarding-$STAMP-sluice-run$r.log" 2>/dev/null
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$c" "$r" "$PK_COUNT" "$PK_GEN_TX" $ACCT "$RATE" "$NEW_PIDS" | tee -a "$TSV"
}

# ------------------------------------------------------------------ main
printf "case\trun\tsink_median_pps\tgen_tx_pps\tdut_cpu_busy\tgen_cpu_busy\tforeign_pct\toffered_rate\tnew_pids\n" >"$TSV"
net_up
SMOKE="not run"
ACTIVE=
for c in $CASES; do
  if [ "$c" = sluice ]; then
    if ! sluice_usable; then
      echo "sluice case skipped: $SLUICE_STATUS"
      continue
    fi
    if start_sluice; then sluice_smoke; stop_sluice; else SMOKE="FAILED: sluice did not start"; fi
    echo "sluice smoke: $SMOKE"
  fi
  ACTIVE="$ACTIVE $c"
done
# Cases alternate run by run, so that a burst of background load hits both rather than one.
for r in $(seq "$R"); do
  for c in $ACTIVE; do
    for attempt in $(seq "$ATTEMPTS"); do
      run_case "$c" "$r" || { echo "$c run $r: could not run" >&2; break; }
      foreign=$(tail -1 "$TSV" | cut -f7)
      pids=$(tail -1 "$TSV" | cut -f9)
      contaminated "$foreign" "$pids" || break
      echo "# $c run $r attempt $attempt contaminated (foreign $foreign %, $pids new pids)" >&2
    done
  done
done

# ------------------------------------------------------------------ summary (markdown)
python3 - "$TSV" "$MD" "$MAX_FOREIGN" "$SLUICE_STATUS" "$SMOKE" "$STAMP" "$R" "$D" "$RATE" "$MAX_NEW_PIDS" <<'EOF'
import sys, statistics, platform, os
tsv, md, maxf, sluice_status, smoke, stamp, R, D, rate, maxp = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(tsv)][1:]
cases = {}
for c, r, sink, gen, dut, gcpu, foreign, _, pids in rows:
    cases.setdefault(c, []).append((int(r), float(sink or 0), float(gen or 0), dut, gcpu, float(foreign), int(pids)))
def clean(c):  # the last attempt of each run, kept if it was not contaminated
    best = {}
    for row in cases.get(c, []):
        best[row[0]] = row
    kept = [x for x in best.values() if x[5] <= float(maxf) and 0 <= x[6] <= int(maxp)]
    return kept, len(best)
out = []
out.append(f"# Forwarding capacity, {stamp} (UTC)\n")
out.append(f"Machine: {platform.node()}, kernel {platform.release()}, {os.cpu_count()} CPUs. "
           f"R={R} runs of D={D} s per case, offered rate {'flat out' if rate == '0' else rate + ' pps'}, "
           f"60-byte UDP frames, 4096 flows. Runs with foreign CPU > {maxf} % of one CPU or more than {maxp} "
           f"processes created during the run are excluded.\n")
out.append("| case | sink pps, median (min–max) | runs kept / made | gateway CPU busy (median) | generator tx pps (median) |")
out.append("|---|---|---|---|---|")
med = {}
for c in cases:
    kept, made = clean(c)
    if not kept:
        out.append(f"| {c} | – | 0 / {made} | – | – |"); continue
    s = [x[1] for x in kept]
    med[c] = statistics.median(s)
    out.append(f"| {c} | {med[c]:,.0f} ({min(s):,.0f}–{max(s):,.0f}) | {len(kept)} / {made} | "
               f"{statistics.median([float(x[3]) for x in kept]):.0f} % | {statistics.median([x[2] for x in kept]):,.0f} |")
out.append("")
if "sluice" in med and "xsk_fwd" in med and med["xsk_fwd"] > 0:
    out.append(f"**Ratio Sluice / C AF_XDP forwarder (sink medians): {med['sluice'] / med['xsk_fwd']:.2f}**\n")
else:
    out.append("Ratio Sluice / C AF_XDP forwarder: not available (no kept run of one of the cases).\n")
out.append(f"Sluice: {sluice_status}. Smoke check (translated frames at the RS): {smoke}.\n")
out.append("Per-run rows: `" + os.path.basename(tsv) + "`.")
open(md, "w").write("\n".join(out) + "\n")
print("\n".join(out))
EOF
