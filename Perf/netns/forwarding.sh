#!/bin/bash
# forwarding.sh -- packet-path capacity of Sluice against the AF_XDP ceiling, in one invocation
# (perf-lab README §5.A, items 1 and 2; issue 2).
#
#   pf-cli                       pf-gw (device under test)                        pf-be
#   pf-c0 10.210.1.2/24  <-->  pf-g0 10.210.1.1/24
#   02:00:00:00:01:02           02:00:00:00:01:01
#                               pf-g1 10.210.2.1/24  <-->  pf-b0 10.210.2.2/24 (RS, the sink)
#                               02:00:00:00:02:01          02:00:00:00:02:02
#   VIP 10.210.9.10 (pf-cli routes it via 10.210.1.1), LIP 10.210.2.100 (on no interface; pf-be's default
#   route points at pf-gw). Same addresses and MACs as ../shared/perf-lab/topo.sh, namespaces prefixed pf-.
#
# Cases, each run R times for D seconds (alternating), generator and sink on GEN_CPU, gateway on DUT_CPU:
#   xsk_fwd  perf-lab's C AF_XDP forwarder (copy mode, rx pf-g0 -> MAC rewrite -> tx pf-g1): the ceiling
#   sluice   `sluice run` with a UDP service VIP:9 -> RS 10.210.2.2:9 from LIP 10.210.2.100, fed
#            established flows (a 2 s warm-up at 20 kpps opens all 4096 flows of xsk_gen first)
# Traffic: perf-lab's xsk_gen, 60-byte IPv4/UDP frames 10.210.1.2:1024-5119 -> 10.210.9.10:9, UDP checksum 0
# (valid: "none", RFC 768), IPv4 header checksum computed (src/pkt.h). Flat out unless RATE is set.
# Counting: perf-lab's xdpcnt (native XDP_DROP counter) on pf-b0; the table shows sink pps.
# pf-gw keeps ip_forward=0, so every frame counted at the sink went through the AF_XDP path.
#
# The perf-lab tools are built from ../shared/perf-lab (or $PERF_LAB) with its own Makefile into
# Perf/.build-lab at run time; lib.sh and cpuacct.py are copied from there, cpuacct.py with its namespace
# prefix changed from pm- to pf-. Needs root, libxdp/libbpf, clang, and for the sluice case
# `swift build -c release` in the repository root first.
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
PERF_LAB=${PERF_LAB:-$(cd "$ROOT/.." && pwd)/shared/perf-lab}
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

CLI=pf-cli GW=pf-gw BE=pf-be
MAC_C0=02:00:00:00:01:02 MAC_G0=02:00:00:00:01:01
MAC_G1=02:00:00:00:02:01 MAC_B0=02:00:00:00:02:02
VIP=10.210.9.10 LIP=10.210.2.100 RIP=10.210.2.2 UDP_PORT=9

[ "$(id -u)" = 0 ] || { echo "forwarding.sh: needs root (network namespaces, XDP)" >&2; exit 1; }
[ -d "$PERF_LAB/src" ] || { echo "forwarding.sh: perf-lab not found at $PERF_LAB (set PERF_LAB)" >&2; exit 1; }
mkdir -p "$RES"

# ------------------------------------------------------------------ perf-lab tools, built here
build_lab() {
  rm -rf "$LABBIN" && mkdir -p "$LABBIN"
  cp -r "$PERF_LAB/Makefile" "$PERF_LAB/src" "$PERF_LAB/bpf" "$PERF_LAB/lib.sh" "$PERF_LAB/cpuacct.py" "$LABBIN/"
  sed -i "s|/run/netns/pm-\*|/run/netns/pf-*|" "$LABBIN/cpuacct.py"
  grep -q "/run/netns/pf-\*" "$LABBIN/cpuacct.py" || { echo "cpuacct.py: namespace prefix not patched" >&2; exit 1; }
  make -s -C "$LABBIN" bpf/xdp_progs.o bin/xdpcnt bin/xsk_gen bin/xsk_fwd >"$WORK/make.log" 2>&1 \
    || { cat "$WORK/make.log" >&2; echo "forwarding.sh: building perf-lab tools failed" >&2; exit 1; }
}
build_lab
BIN=$LABBIN/bin
source "$LABBIN/lib.sh"   # napi_threaded, rps, wait_ready; honours GEN_CPU / DUT_CPU and our RES
CPUACCT="python3 $LABBIN/cpuacct.py"

# ------------------------------------------------------------------ topology
# up/down are adapted from ../shared/perf-lab/topo.sh (this project's shared lab): pf- names, ip_forward=0 in
# the gateway, no VIP on lo, LIP on no interface.
down() {
  for ns in $CLI $GW $BE; do
    for p in $(ip netns pids $ns 2>/dev/null); do kill "$p" 2>/dev/null; done
  done
  sleep 0.3
  for ns in $CLI $GW $BE; do ip netns del $ns 2>/dev/null; done
  true
}

up() {
  down
  for ns in $CLI $GW $BE; do ip netns add $ns; ip -n $ns link set lo up; done
  ip link add pf-c0 netns $CLI address $MAC_C0 type veth peer name pf-g0 netns $GW address $MAC_G0
  ip link add pf-g1 netns $GW address $MAC_G1 type veth peer name pf-b0 netns $BE address $MAC_B0
  ip -n $CLI addr add 10.210.1.2/24 dev pf-c0
  ip -n $GW addr add 10.210.1.1/24 dev pf-g0
  ip -n $GW addr add 10.210.2.1/24 dev pf-g1
  ip -n $BE addr add $RIP/24 dev pf-b0
  for i in "$CLI pf-c0" "$GW pf-g0" "$GW pf-g1" "$BE pf-b0"; do set -- $i; ip -n $1 link set $2 up; done
  ip -n $CLI route add 10.210.9.0/24 via 10.210.1.1
  ip -n $BE route add default via 10.210.2.1
  ip -n $GW route add default via 10.210.1.2
  # Sluice forwards in user space: the gateway kernel must not (and with XDP redirect it never sees the
  # frames anyway); a frame reaching the sink therefore went through the AF_XDP socket.
  ip netns exec $GW sysctl -qw net.ipv4.ip_forward=0 net.ipv4.conf.all.send_redirects=0
  ip netns exec $CLI sysctl -qw net.ipv4.ip_forward=0
  for ns in $CLI $GW $BE; do
    ip netns exec $ns sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  done
  for d in pf-g0 pf-g1; do ip netns exec $GW sysctl -qw net.ipv4.conf.$d.rp_filter=0; done
  # Permanent neighbours: the generator never ARPs, the XDP_DROP sink never answers ARP, and Sluice (which
  # mirrors the kernel's routes and neighbours) finds the RS's MAC without a resolution round trip.
  ip -n $CLI neigh replace 10.210.1.1 lladdr $MAC_G0 dev pf-c0 nud permanent
  ip -n $GW neigh replace 10.210.1.2 lladdr $MAC_C0 dev pf-g0 nud permanent
  ip -n $GW neigh replace $RIP lladdr $MAC_B0 dev pf-g1 nud permanent
  ip -n $BE neigh replace 10.210.2.1 lladdr $MAC_G1 dev pf-b0 nud permanent
}

cleanup() {
  [ -n "${SLUICE_PID:-}" ] && kill "$SLUICE_PID" 2>/dev/null
  [ "${KEEP:-0}" = 1 ] || down
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ Sluice
sluice_config() {
  cat <<EOF
# Generated by Perf/netns/forwarding.sh
interfaces:
  external: pf-g0
  internal: pf-g1
  xdp_mode: native
local_address_groups:
  lips: [$LIP]
virtual_servers:
  - name: udp-sink
    vip: $VIP
    port: $UDP_PORT
    protocol: udp
    scheduler: rr
    local_address_group: lips
    real_servers:
      - { address: $RIP, port: $UDP_PORT, weight: 1 }
dataplane:
  workers: 1
  connection_capacity: 65536
EOF
}

SLUICE_STATUS="not requested"
sluice_usable() {
  [ -x "$SLUICE" ] || { SLUICE_STATUS="no binary at $SLUICE (run: swift build -c release)"; return 1; }
  sluice_config > "$WORK/sluice.yaml"
  if ! "$SLUICE" check --config "$WORK/sluice.yaml" >"$WORK/check.log" 2>&1; then
    SLUICE_STATUS="\`sluice check\` rejects the generated config: $(head -3 "$WORK/check.log" | tr '\n' ' ')"
    return 1
  fi
  if ! "$SLUICE" run --help >/dev/null 2>&1; then
    SLUICE_STATUS="\`sluice run\` is not available in this build"
    return 1
  fi
  SLUICE_STATUS="ok"
}

# start_sluice: run it on DUT_CPU in pf-gw and wait until its XDP program sits on both interfaces.
start_sluice() {
  rm -f "$WORK/sluice.stats"
  ip netns exec $GW taskset -c "$DUT_CPU" "$SLUICE" run --config "$WORK/sluice.yaml" --stats-file "$WORK/sluice.stats" \
    >"$WORK/sluice.log" 2>&1 &
  SLUICE_PID=$!
  for _ in $(seq 100); do
    kill -0 "$SLUICE_PID" 2>/dev/null || { echo "sluice exited:" >&2; tail -5 "$WORK/sluice.log" >&2; SLUICE_PID=; return 1; }
    if ip -n $GW link show pf-g0 | grep -q "xdp" && ip -n $GW link show pf-g1 | grep -q "xdp"; then
      sleep 1
      return 0
    fi
    sleep 0.1
  done
  echo "sluice: XDP program not attached after 10 s" >&2
  stop_sluice
  return 1
}

stop_sluice() {
  [ -n "${SLUICE_PID:-}" ] || return 0
  kill -INT "$SLUICE_PID" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$SLUICE_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SLUICE_PID" 2>/dev/null
  wait "$SLUICE_PID" 2>/dev/null
  SLUICE_PID=
}

gen() { # gen SECONDS [RATE]: xsk_gen UDP into pf-c0 on GEN_CPU
  local rate=${2:-0} ropt=
  [ "$rate" != 0 ] && ropt="-R $rate"
  ip netns exec $CLI taskset -c "$GEN_CPU" "$BIN/xsk_gen" -i pf-c0 -p udp -s $MAC_C0 -d $MAC_G0 -S 10.210.1.2 \
    -D $VIP -t "$1" $ropt
}

# smoke: with Sluice running and no counter on pf-b0, capture a few frames at the RS and check that they
# were translated (LIP -> RIP:9) and that tcpdump finds no bad IPv4 header checksum.
sluice_smoke() {
  ip netns exec $BE timeout 4 tcpdump -nvc 5 -i pf-b0 udp >"$WORK/smoke.txt" 2>/dev/null &
  local tp=$!
  sleep 1
  gen 2 1000 >/dev/null 2>&1
  wait $tp 2>/dev/null
  if grep -q "$LIP\.[0-9]* > $RIP\.$UDP_PORT:" "$WORK/smoke.txt" && ! grep -q "bad cksum" "$WORK/smoke.txt"; then
    SMOKE="ok: $(grep -c "$LIP\." "$WORK/smoke.txt") frames $LIP.lport > $RIP.$UDP_PORT, no bad checksum"
  else
    SMOKE="FAILED: $(head -4 "$WORK/smoke.txt" | tr '\n' ' ')"
  fi
}

# ------------------------------------------------------------------ one measured run
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$2" | head -1; }

run_case() { # run_case CASE RUN -> appends one TSV row; returns 1 if the run could not be made
  local c=$1 r=$2 fp sp
  $CPUACCT quiet 15 "$QUIET_TIMEOUT" >/dev/null
  rps $GW pf-g0 0; rps $GW pf-g1 0
  case $c in
    xsk_fwd)
      ip netns exec $GW taskset -c "$DUT_CPU" "$BIN/xsk_fwd" -i pf-g0 -o pf-g1 -d $MAC_B0 -m native \
        -t $((D + 1)) >"$WORK/fwd.log" 2>&1 &
      fp=$!
      wait_ready "$WORK/fwd.log" || { kill $fp 2>/dev/null; return 1; }
      napi_threaded $GW pf-g0 "$DUT_CPU"
      ;;
    sluice)
      start_sluice || return 1
      napi_threaded $GW pf-g0 "$DUT_CPU"; napi_threaded $GW pf-g1 "$DUT_CPU"
      gen 2 20000 >"$WORK/warm.log" 2>&1       # opens the 4096 UDP flows: what follows is established
      ;;
  esac
  ip netns exec $BE "$BIN/xdpcnt" -i pf-b0 -p xdp_drop_cnt -m native -t $((D + 1)) -q >"$WORK/sink.log" 2>&1 &
  sp=$!
  wait_ready "$WORK/sink.log" || { kill $sp 2>/dev/null; return 1; }
  napi_threaded $BE pf-b0 "$GEN_CPU"
  local pid0 pid1
  pid0=$(cut -d' ' -f5 /proc/loadavg)
  $CPUACCT snap "$WORK/a.json"
  gen "$D" "$RATE" >"$WORK/gen.log" 2>&1
  $CPUACCT snap "$WORK/b.json"
  pid1=$(cut -d' ' -f5 /proc/loadavg)
  wait $sp
  [ "$c" = xsk_fwd ] && wait $fp
  if [ "$c" = sluice ]; then
    stop_sluice
    cat "$WORK/sluice.log" "$WORK/sluice.stats" >"$RES/forwarding-$STAMP-sluice-run$r.log" 2>/dev/null
  fi
  local acct busy
  acct=$($CPUACCT diff "$WORK/a.json" "$WORK/b.json")
  busy=$(python3 -c "import json,sys;d=json.loads(sys.argv[1]);print(d['cpu$DUT_CPU']['busy'],d['cpu$GEN_CPU']['busy'],d['foreign_pct'])" "$acct")
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$c" "$r" \
    "$(field median_pps "$(grep SUMMARY "$WORK/sink.log")")" \
    "$(field median_tx_pps "$(grep SUMMARY "$WORK/gen.log")")" $busy "$RATE" $((pid1 - pid0)) | tee -a "$TSV"
}

# contaminated FOREIGN_PCT NEW_PIDS: cpuacct.py only sees processes alive at both snapshots, so a build
# running next to us (many short compiler processes) can hide from it; the number of pids created during the
# run (ours: about 5) catches that.
contaminated() {
  awk -v f="$1" -v m="$MAX_FOREIGN" -v p="$2" -v pm="$MAX_NEW_PIDS" 'BEGIN{exit !(f > m || p > pm || p < 0)}'
}

# ------------------------------------------------------------------ main
printf "case\trun\tsink_median_pps\tgen_tx_pps\tdut_cpu_busy\tgen_cpu_busy\tforeign_pct\toffered_rate\tnew_pids\n" >"$TSV"
up
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
