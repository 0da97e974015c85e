#!/bin/bash
# sync.sh -- what connection sync (docs/sync.md) costs and how far behind the peer's table runs, in one
# invocation:
#   1. Lag under load: gateway A carries the highest new-connection rate this lab reaches (wrk, a new
#      connection per request) for D seconds and sends its connection events to gateway B, which only
#      receives. Every SAMPLE_INTERVAL (100 ms) A's `sync_events_queued` and B's
#      `sync_entries_{installed,updated,removed}` and `sync_refused_*` are read through their admin APIs
#      (netns/sync_sample.py; the stats file is rewritten only once a second). Lag of a sample at t: the
#      smallest Δ with B's applied updates at t+Δ ≥ A's queued updates at t; median, p99, max
#      (sync_sample.py says exactly what is counted). Target (the issue): the peer's table within 1 s of
#      the source. One run per entry of LAG_CONNS: the first (wrk -c CONNS) at the highest rate, the
#      next at lower rates, which tell the lag of the design itself from what the highest rate adds
#      (fewer events per 100 ms round).
#   2. Cost: new connections per second through A with a `sync:` section (B receiving) and without,
#      R runs of D_COST seconds each, alternating (ABBA order), and the ratio of the medians.
#      Target: ≥ 0.95.
#
#   sy-cli                      sy-gw (A, device under test)                      sy-be
#   sy-c0 10.210.1.2/24  <-->  sy-g0 10.210.1.1/24
#                              sy-g1 10.210.2.1/24  <------------------------->  sy-b0 10.210.2.2/24 (RIP,
#                              sy-sa 10.210.8.1/30 (sync)                               nginx :80)
#                                 |
#                              sy-sb 10.210.8.2/30 (sync)
#   sy-c1 10.210.4.2/24  <-->  sy-h0 10.210.4.1/24   sy-gwb (B, receives sync only)
#                              sy-h1 10.210.3.1/24  <------------------------->  sy-b1 10.210.3.2/24
#   The client routes the VIP 10.210.9.10 to A only (no edge ECMP: B is there to receive, not to
#   forward). A's LIP 10.210.2.100, B's 10.210.3.100 (each gateway of a group needs LIPs of its own).
#   The topology of A is common.sh's (net_up, namespaces prefixed sy-); B and the sync link are added
#   here. Both gateways keep IP forwarding off (what crosses them went through Sluice's AF_XDP path).
#
# CPU placement (common.sh says why it matters on two cores): A and the NAPI kthreads of its veths on
# DUT_CPU (1); wrk, nginx and the sampler on GEN_CPU (0). B must go on one of the two: PEER_CPU
# (default GEN_CPU), so that DUT_CPU's busy share stays A's own and A's cost per connection can be read
# from it; the price is that B's receiving work competes with the client and nginx, which already bound
# the connection rate here (see Perf/README.md), so the rate ratio includes B's cost too (pessimistic).
# The sync link's receive work is steered (RPS) to the receiving gateway's CPU.
#
# Refresh: `sync.refresh` resends every live connection as updates the peer counts like events, which
# would let B's count catch up with A's without the events having arrived; the lag run therefore uses
# LAG_REFRESH (longer than the run), the cost runs the shipped default SYNC_REFRESH (10 s).
#
# Noise: every run records CPU busy per core, foreign CPU (Perf/lab/cpuacct.py, processes outside the
# sy-* namespaces) and the processes created while it ran. A run over MAX_FOREIGN % of one CPU or
# MAX_NEW_PIDS processes is marked contaminated in the TSV; the summary gives the ratio over all runs
# and over the clean ones (a background load that runs throughout, such as a fuzz campaign, hits both
# cases alike, since they alternate).
#
# Needs root, wrk, nginx, curl, ethtool, python3, and the release binary .build/release/sluice (or
# SLUICE=path); it builds nothing (not even Perf/lab's tools: wrk is the client here).
#
# usage: sudo Perf/netns/sync.sh     (make perf-sync; ≈ 4 min)
#   env: D=20 R=3 D_COST=10 CONNS=32 LAG_CONNS="32 2 1" SAMPLE_INTERVAL=0.1 DRAIN=3 SETTLE=8 LAG_REFRESH=3600s
#        SYNC_REFRESH=10s PEER_CPU=0 PEER_NICE=0 GEN_CPU=0 DUT_CPU=1 MAX_FOREIGN=10 MAX_NEW_PIDS=25 WAIT_NS=900 KEEP=0
#        SLUICE=.build/release/sluice
# Writes Perf/results/sync-<UTC stamp>.{md,tsv}, -samples-cN.tsv (the 100 ms samples of the lag run
# with wrk -c N), -acct.log (CPU accounting per run) and .png (the chart of the TSV and the samples,
# ../suite_chart.py).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PERFDIR=$(dirname "$HERE")
ROOT=$(dirname "$PERFDIR")
D=${D:-20}                              # lag run: seconds of load
R=${R:-3}                               # cost: runs with sync and without, each
D_COST=${D_COST:-10}                    # cost: seconds of load per run
CONNS=${CONNS:-32}                      # wrk's concurrent connections (perf.sh's cps test uses 32)
LAG_CONNS=${LAG_CONNS:-"$CONNS 2 1"}    # lag runs: wrk connections of each; the first gives the highest
                                        # rate, the others lower ones (fewer events per 100 ms round)
SAMPLE_INTERVAL=${SAMPLE_INTERVAL:-0.1} # lag run: seconds between samples
DRAIN=${DRAIN:-3}                       # lag run: seconds still sampled after the load, for the last events
SETTLE=${SETTLE:-8}                     # pause after each run: longer than TIME_WAIT's 7 s idle timeout, so
                                        # both tables are empty again when the next run starts
LAG_REFRESH=${LAG_REFRESH:-3600s}       # lag run: no refresh inside it (see the header)
SYNC_REFRESH=${SYNC_REFRESH:-10s}       # cost runs and B: the shipped default
LAG_TARGET_MS=1000                      # the issue's targets
RATIO_TARGET=0.95
GEN_CPU=${GEN_CPU:-0}
DUT_CPU=${DUT_CPU:-1}
PEER_CPU=${PEER_CPU:-$GEN_CPU}
PEER_NICE=${PEER_NICE:-0}
MAX_FOREIGN=${MAX_FOREIGN:-10}
MAX_NEW_PIDS=${MAX_NEW_PIDS:-25}
WAIT_NS=${WAIT_NS:-900}
SLUICE=${SLUICE:-$ROOT/.build/release/sluice}
STAMP=$(date -u +%Y%m%d-%H%M%S)
RES=${RES:-$PERFDIR/results}
TSV=$RES/sync-$STAMP.tsv
MD=$RES/sync-$STAMP.md
ACCT_LOG=$RES/sync-$STAMP-acct.log

[ "$(id -u)" = 0 ] || { echo "sync.sh: needs root (network namespaces, XDP)" >&2; exit 1; }
for tool in wrk nginx curl ethtool taskset; do
  command -v $tool >/dev/null || { echo "sync.sh: $tool missing (make deps)" >&2; exit 1; }
done
[ -x "$SLUICE" ] || { echo "sync.sh: no binary at $SLUICE (make build first)" >&2; exit 1; }
# Which build is measured (taken now, before the runs): the binary is not built here, so say when it
# was and what the tree was then.
BINARY="$(basename "$SLUICE") $("$SLUICE" --version 2>/dev/null), built $(date -u -r "$SLUICE" '+%Y-%m-%d %H:%M UTC')"
BINARY="$BINARY, tree at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
[ -n "$(git -C "$ROOT" status --porcelain -uno 2>/dev/null)" ] && BINARY="$BINARY with uncommitted changes"
WORK=$(mktemp -d /tmp/sy-sync.XXXXXX)
chmod 0755 "$WORK"
mkdir -p "$RES"
NSP=sy
source "$HERE/common.sh"   # A's topology (net_up), nginx, napi_threaded, rps, accounting, contamination
SLUICE_SERVICES=tcp        # one TCP service VIP:80 -> RIP:80, syn_proxy on (common.sh's defaults)
GWB=$NSP-gwb
IF_H0=$NSP-h0 IF_H1=$NSP-h1 IF_C1=$NSP-c1 IF_B1=$NSP-b1 IF_SA=$NSP-sa IF_SB=$NSP-sb
LIP_B=10.210.3.100
SYNC_A=10.210.8.1 SYNC_B=10.210.8.2 SYNC_PORT=8848
CPUACCT="$PYTHON $PERF_LAB/cpuacct.py --netns-prefix $NSP"
GEN_MASK=$(printf %x $((1 << GEN_CPU)))
DUT_MASK=$(printf %x $((1 << DUT_CPU)))
PEER_MASK=$(printf %x $((1 << PEER_CPU)))
declare -A GPID=([a]="" [b]="")
SAMPLER_PID=""

cleanup() {
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
  stop_gw a; stop_gw b
  if [ "${KEEP:-0}" != 1 ]; then
    net_down   # common.sh: kills what runs in sy-cli, sy-gw, sy-be and deletes them
    local pid
    for pid in $(ip netns pids "$GWB" 2>/dev/null); do kill "$pid" 2>/dev/null; done
    ip netns del "$GWB" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ topology: A (common.sh), B, sync link
topology() {
  net_up || return 1
  ip netns del "$GWB" 2>/dev/null
  ip netns add "$GWB"
  ip -n "$GWB" link set lo up
  ip link add "$IF_C1" netns "$CLI" type veth peer name "$IF_H0" netns "$GWB"
  ip link add "$IF_H1" netns "$GWB" type veth peer name "$IF_B1" netns "$BE"
  ip link add "$IF_SA" netns "$GW" type veth peer name "$IF_SB" netns "$GWB"
  ip -n "$CLI" addr add 10.210.4.2/24 dev "$IF_C1"
  ip -n "$GWB" addr add 10.210.4.1/24 dev "$IF_H0"
  ip -n "$GWB" addr add 10.210.3.1/24 dev "$IF_H1"
  ip -n "$BE" addr add 10.210.3.2/24 dev "$IF_B1"
  ip -n "$GW" addr add $SYNC_A/30 dev "$IF_SA"
  ip -n "$GWB" addr add $SYNC_B/30 dev "$IF_SB"
  local i
  for i in "$CLI $IF_C1" "$GWB $IF_H0" "$GWB $IF_H1" "$BE $IF_B1" "$GW $IF_SA" "$GWB $IF_SB"; do
    set -- $i
    # As common.sh does for every veth end that an AF_XDP socket may read: no CHECKSUM_PARTIAL frames.
    ip netns exec "$1" ethtool -K "$2" tx off >/dev/null || return 1
    ip -n "$1" link set "$2" up
  done
  # B reaches the real server over its own link (its synced entries translate to the same RIP) and
  # sends what it does not know back towards the client side, as A does.
  ip -n "$GWB" route add $RIP/32 via 10.210.3.2
  ip -n "$GWB" route add default via 10.210.4.2
  ip -n "$BE" route add $LIP_B/32 via 10.210.3.1
  ip netns exec "$GWB" sysctl -qw net.ipv4.ip_forward=0 net.ipv4.conf.all.send_redirects=0 \
    net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  # The sync link carries no XDP program, so without RPS the receiver's softirq would run on the
  # sender's CPU: B's receive work on A's core.
  rps "$GWB" "$IF_SB" "$PEER_MASK"; rps "$GW" "$IF_SA" "$DUT_MASK"
  head -c 32 /dev/urandom >"$WORK/sync.key"
  sed -e "s|@VIP@|$VIP|g" -e "s|@RIP@|$RIP|g" -e "s|@GW_LIP@|$GW_LIP|g" -e "s|@IF_G1@|$IF_G1|g" \
    -e "s|@WORK@|$WORK|g" "$PERF_LAB/conf/nginx.conf" >"$WORK/nginx.conf"
  ! grep -q "@[A-Z_0-9]*@" "$WORK/nginx.conf" || { echo "nginx.conf: a placeholder was left unfilled" >&2; return 1; }
}

# ------------------------------------------------------------------ the two gateways
# gw_config a|b REFRESH: common.sh's Sluice configuration (the same service, syn_proxy and data plane
# for both) with that gateway's interfaces, LIP and admin socket, plus a `sync:` section unless REFRESH
# is "off".
gw_config() {
  local who=$1 refresh=$2 listen peer
  if [ "$who" = a ]; then
    SLUICE_ADMIN_SOCKET=$WORK/admin-a.sock sluice_config
    listen=$SYNC_A peer=$SYNC_B
  else
    IF_G0=$IF_H0 IF_G1=$IF_H1 SLUICE_LIPS=$LIP_B SLUICE_ADMIN_SOCKET=$WORK/admin-b.sock sluice_config
    listen=$SYNC_B peer=$SYNC_A
  fi
  [ "$refresh" = off ] && return 0
  cat <<EOF
sync:
  listen: "$listen:$SYNC_PORT"
  peers: ["$peer:$SYNC_PORT"]
  key_file: $WORK/sync.key
  refresh: $refresh
EOF
}

# start_gw a|b REFRESH: write the configuration, check it, run Sluice on the gateway's CPU in its
# namespace, wait for its XDP program on both veths, pin their NAPI kthreads, wait for the admin socket.
start_gw() {
  local who=$1 ns=$GW if0=$IF_G0 if1=$IF_G1 cpu=$DUT_CPU prio=0 _
  [ "$who" = b ] && ns=$GWB if0=$IF_H0 if1=$IF_H1 cpu=$PEER_CPU prio=$PEER_NICE
  gw_config "$who" "$2" >"$WORK/sluice-$who.yaml"
  "$SLUICE" check --config "$WORK/sluice-$who.yaml" >"$WORK/check-$who.log" 2>&1 \
    || { echo "sluice check ($who):" >&2; cat "$WORK/check-$who.log" >&2; return 1; }
  rm -f "$WORK/stats-$who" "$WORK/admin-$who.sock"
  echo "=== start $(date -u +%T) refresh=$2" >>"$WORK/sluice-$who.log"
  ip netns exec "$ns" nice -n "$prio" taskset -c "$cpu" "$SLUICE" run --config "$WORK/sluice-$who.yaml" \
    --stats-file "$WORK/stats-$who" >>"$WORK/sluice-$who.log" 2>&1 &
  GPID[$who]=$!
  for _ in $(seq 100); do
    kill -0 "${GPID[$who]}" 2>/dev/null || { echo "sluice ($who) exited:" >&2; tail -5 "$WORK/sluice-$who.log" >&2; GPID[$who]=""; return 1; }
    if ip -n "$ns" link show "$if0" | grep -q xdp && ip -n "$ns" link show "$if1" | grep -q xdp \
      && [ -S "$WORK/admin-$who.sock" ]; then
      sleep 1
      napi_threaded "$ns" "$if0" "$cpu"; napi_threaded "$ns" "$if1" "$cpu"
      return 0
    fi
    sleep 0.1
  done
  echo "sluice ($who): not up after 10 s" >&2
  stop_gw "$who"
  return 1
}

stop_gw() {
  local pid=${GPID[$1]} _
  [ -n "$pid" ] || return 0
  kill -INT "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  GPID[$1]=""
}

admin() { curl -s -m 2 --unix-socket "$WORK/admin-$1.sock" "http://x$2"; }

# peer_alive: A's admin API says its peer B is alive (heartbeats arrive, so events will too); 5 s at most.
peer_alive() {
  local _
  for _ in $(seq 50); do
    admin a /v1/sync | grep -q '"alive" *: *true' && return 0
    sleep 0.1
  done
  echo "sync: B not alive for A after 5 s: $(admin a /v1/sync | head -c 300)" >&2
  return 1
}

# through_vip: one request from the client through A must answer nginx's "ok".
through_vip() {
  local answer
  answer=$(ip netns exec "$CLI" curl -s -m 3 "http://$VIP/" 2>&1)
  [ "${answer:0:2}" = ok ] || { echo "request through the VIP failed: $answer" >&2; return 1; }
}

# stat_of a|b NAME: a counter from that gateway's stats file (rewritten every second), 0 if absent.
stat_of() { awk -v n="$2" '$1 == n {print $2; f = 1} END {if (!f) print 0}' "$WORK/stats-$1" 2>/dev/null || echo 0; }

# rcvbuf_errors NS: UDP datagrams the kernel of namespace NS dropped because a socket's receive buffer
# was full (/proc/net/snmp is per namespace): sync datagrams B's sync service did not read in time.
rcvbuf_errors() {
  ip netns exec "$1" awk '$1 == "Udp:" { if (!h) { for (i = 2; i <= NF; i++) k[i] = $i; h = 1 }
    else for (i = 2; i <= NF; i++) if (k[i] == "RcvbufErrors") print $i }' /proc/net/snmp
}

# sync_field WHO KEY: a number from that gateway's GET /v1/sync (its totals since it started); REFUSED for
# the refusals by reason as reason:count;...
sync_field() {
  local j
  j=$(admin "$1" /v1/sync | tr -d ' \n')
  if [ "$2" = REFUSED ]; then
    sed -n 's/.*"refused":{\([^}]*\)}.*/\1/p' <<<"$j" | tr -d '"' | tr ',' ';'
  else
    sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" <<<"$j"
  fi
}

# ticks PID: CPU time (user + system, all threads, in clock ticks) the process has used so far.
ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0; }
HZ=$(getconf CLK_TCK)

# wrk_run SECONDS: new connections per second through the VIP (wrk, a new connection per request:
# `-H 'Connection: close'`, with the space, else wrk measures keep-alive). Sets WRK_RATE and WRK_ERR.
wrk_run() {
  local out e n
  out=$(ip netns exec "$CLI" taskset -c "$GEN_CPU" wrk -t1 -c"$CONNS" -d"${1}s" -H 'Connection: close' \
    "http://$VIP/" 2>&1)
  WRK_RATE=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  e=$(awk '/Socket errors/{gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out")
  n=$(awk '/Non-2xx/{print $5}' <<<"$out")
  WRK_ERR=$(( ${e:-0} + ${n:-0} ))
  [ -n "$WRK_RATE" ] || { echo "wrk gave no rate: $out" >&2; WRK_RATE=0; }
}

row() { printf "%s\n" "$(IFS=$'\t'; echo "$*")" | tee -a "$TSV"; }
printf "phase\tcase\trun\tconn_per_s\terrors\tseconds\ta_cpu_us_per_conn\tb_cpu_us_per_conn\tdut_cpu_busy\tgen_cpu_busy\tforeign_pct\tnew_pids\tcontaminated\textra\n" >"$TSV"

# measure PHASE CASE RUN SECONDS: one wrk run through A with CPU accounting around it; appends a row
# (EXTRA, set by the caller after the run, goes in the last column).
measure() {
  local phase=$1 c=$2 r=$3 secs=$4 a0 a1 b0=0 b1=0 cont a_us b_us
  a0=$(ticks "${GPID[a]}"); [ -n "${GPID[b]}" ] && b0=$(ticks "${GPID[b]}")
  acct_begin
  wrk_run "$secs"
  acct_end "$ACCT_LOG" "$phase $c run $r"
  a1=$(ticks "${GPID[a]}"); [ -n "${GPID[b]}" ] && b1=$(ticks "${GPID[b]}")
  # µs of the gateway process per connection: ticks / HZ s over (rate × seconds) connections.
  a_us=$(awk -v t=$((a1 - a0)) -v hz="$HZ" -v r="$WRK_RATE" -v s="$secs" 'BEGIN{printf "%.1f", (r > 0 ? t / hz * 1e6 / (r * s) : 0)}')
  b_us=$(awk -v t=$((b1 - b0)) -v hz="$HZ" -v r="$WRK_RATE" -v s="$secs" 'BEGIN{printf "%.1f", (r > 0 ? t / hz * 1e6 / (r * s) : 0)}')
  set -- $ACCT
  cont=0; contaminated "$3" "$NEW_PIDS" && cont=1
  M_ROW=("$phase" "$c" "$r" "$WRK_RATE" "$WRK_ERR" "$secs" "$a_us" "$b_us" "$1" "$2" "$3" "$NEW_PIDS" "$cont")
}

# ------------------------------------------------------------------ main
wait_other_ns "$WAIT_NS" || exit 1
T0=$(date +%s)
topology || { echo "sync.sh: the topology did not come up" >&2; exit 1; }
start_nginx
start_gw b "$SYNC_REFRESH" || exit 1

# 1. Lag under load: one run per entry of LAG_CONNS (the first, CONNS, is the highest rate; see the header).
# lag_run CONNS: a fresh A (its counters start at 0) with LAG_REFRESH, the sampler, wrk for D s, DRAIN s.
LAG_STATUS=""
lag_run() {
  local conns=$1 samples=$RES/sync-$STAMP-samples-c$1.tsv e0 rr0 summary extra
  if ! { start_gw a "$LAG_REFRESH" && peer_alive && through_vip; }; then
    LAG_STATUS="$LAG_STATUS c$conns: FAILED, A did not come up with sync (stderr);"
    stop_gw a
    return 1
  fi
  sleep 1.5   # the check request's events reach B before the first sample
  # In the client's namespace only so that the CPU accounting counts it as the run's (the admin sockets
  # are files, reachable from any namespace; /proc/PID/net/snmp is B's namespace's).
  ip netns exec "$CLI" taskset -c "$GEN_CPU" "$PYTHON" "$HERE/sync_sample.py" --source "$WORK/admin-a.sock" \
    --peer "$WORK/admin-b.sock" --peer-pid "${GPID[b]}" --interval "$SAMPLE_INTERVAL" >"$samples" 2>"$WORK/sampler.err" &
  SAMPLER_PID=$!
  sleep 1   # a second of samples before the load: the baseline
  e0=$(rcvbuf_errors "$GWB"); rr0=$(sync_field b recordsReceived)
  CONNS=$conns measure lag "c$conns" 1 "$D"
  sleep "$DRAIN"
  kill -INT "$SAMPLER_PID" 2>/dev/null; wait "$SAMPLER_PID" 2>/dev/null; SAMPLER_PID=""
  summary=$("$PYTHON" "$HERE/sync_sample.py" --lag "$samples" | grep -m1 "^SUMMARY sync_lag" | cut -d' ' -f3-)
  extra="conns=$conns,$(tr ' ' ',' <<<"$summary"),records_sent=$(sync_field a recordsSent)"
  extra="$extra,records_deferred=$(sync_field a recordsDeferred),peer_records_received=$(( $(sync_field b recordsReceived) - rr0 ))"
  extra="$extra,peer_refused_by_reason=$(sync_field b REFUSED),peer_udp_rcvbuf_errors=$(( $(rcvbuf_errors "$GWB") - e0 ))"
  extra="$extra,refresh=$LAG_REFRESH,samples_file=$(basename "$samples")"
  row "${M_ROW[@]}" "$extra"
  LAG_STATUS="$LAG_STATUS c$conns: ok;"
  [ -s "$WORK/sampler.err" ] && { LAG_STATUS="$LAG_STATUS sampler: $(head -c 200 "$WORK/sampler.err" | tr '\n' ' ');"; cat "$WORK/sampler.err" >&2; }
  stop_gw a
  sleep "$SETTLE"
}
for conns in $LAG_CONNS; do lag_run "$conns"; done

# 2. Cost: alternating, ABBA (odd runs sync first, even runs nosync first), so that a drift in the
# background load over the runs hits both cases alike.
for r in $(seq "$R"); do
  order="sync nosync"; [ $((r % 2)) = 0 ] && order="nosync sync"
  for c in $order; do
    refresh=off; [ "$c" = sync ] && refresh=$SYNC_REFRESH
    if ! start_gw a "$refresh"; then echo "cost $c run $r: A did not start" >&2; continue; fi
    if [ "$c" = sync ] && ! peer_alive; then stop_gw a; continue; fi
    through_vip || { stop_gw a; continue; }
    sleep 1.2   # the stats files show the check's events: the run's deltas start after them
    q0=$(stat_of a sync_events_queued); i0=$(stat_of b sync_entries_installed); u0=$(stat_of b sync_entries_updated)
    e0=$(rcvbuf_errors "$GWB")
    measure cost "$c" "$r" "$D_COST"
    sleep 1.2
    q1=$(stat_of a sync_events_queued); i1=$(stat_of b sync_entries_installed); u1=$(stat_of b sync_entries_updated)
    extra="events_queued=$((q1 - q0)),overflowed=$(stat_of a sync_events_overflowed),peer_installed=$((i1 - i0)),peer_updated=$((u1 - u0))"
    extra="$extra,peer_udp_rcvbuf_errors=$(( $(rcvbuf_errors "$GWB") - e0 )),refresh=$refresh"
    row "${M_ROW[@]}" "$extra"
    stop_gw a
    sleep "$SETTLE"
  done
done
ELAPSED=$(( $(date +%s) - T0 ))
# The gateways' logs go with the temporary directory; their errors, if any, are shown here.
grep -hiE "level=(error|critical)" "$WORK/sluice-a.log" "$WORK/sluice-b.log" 2>/dev/null | head -5 >&2

# ------------------------------------------------------------------ summary (markdown)
"$PYTHON" - "$TSV" "$MD" "$STAMP" "$ELAPSED" "$LAG_STATUS" "$LAG_TARGET_MS" "$RATIO_TARGET" "$MAX_FOREIGN" \
  "$MAX_NEW_PIDS" "D=$D R=$R D_COST=$D_COST CONNS=$CONNS SAMPLE_INTERVAL=$SAMPLE_INTERVAL LAG_REFRESH=$LAG_REFRESH SYNC_REFRESH=$SYNC_REFRESH GEN_CPU=$GEN_CPU DUT_CPU=$DUT_CPU PEER_CPU=$PEER_CPU" \
  "$(basename "$ACCT_LOG")" "$BINARY" <<'EOF'
import sys, statistics, platform, os
(tsv, md, stamp, elapsed, lag_status, lag_target, ratio_target, maxf, maxp, params, acct_file,
 binary) = sys.argv[1:]
lag_target, ratio_target = float(lag_target), float(ratio_target)
rows = [l.rstrip("\n").split("\t") for l in open(tsv)]
head, rows = rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]
def num(x):
    try: return float(x)
    except (TypeError, ValueError): return None
def extra(r):
    return dict(kv.partition("=")[::2] for kv in r["extra"].split(",") if "=" in kv)
def spread(v, fmt="{:,.0f}"):
    v = [x for x in v if x is not None]
    if not v: return "–"
    return f"{fmt.format(statistics.median(v))} ({fmt.format(min(v))}–{fmt.format(max(v))})"
cpu = ""
try:
    cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
except (OSError, IndexError):
    pass
out = [f"# Connection sync: lag and cost, {stamp} (UTC)\n",
       f"Machine: {platform.node()}, {os.cpu_count()} CPUs ({cpu}), kernel {platform.release()}. {params}. "
       f"Whole script: {int(elapsed) // 60} min {int(elapsed) % 60} s. Binary: {binary}. Client: wrk -t1, a new connection per "
       "request, through gateway A (Sluice, syn_proxy, FULLNAT to nginx); B receives A's sync only.\n"]

out.append("## 1. Lag under load (A's queued update events → B's applied updates)\n")
lag = [r for r in rows if r["phase"] == "lag"]
if lag:
    out.append("| wrk -c | connections/s | update events/s | lag median | p99 | max | samples ≤ 1 s | never reached | datagrams B's kernel dropped (records sent / received), first drop | CPU busy DUT / GEN % | foreign % |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in lag:
        x = extra(r)
        ms = lambda k: x.get(k) if x.get(k) == "never" else f"{x.get(k)} ms"
        out.append(f"| {x.get('conns')} | {num(r['conn_per_s']):,.0f} | {x.get('update_events_per_s')} | {ms('median_ms')} | "
                   f"{ms('p99_ms')} | {ms('max_ms')} | {x.get('within_1s_pct')} % of {x.get('n')} | "
                   f"{x.get('unresolved')} | {x.get('peer_udp_rcvbuf_errors')} ({x.get('records_sent')} / {x.get('peer_records_received')}), "
                   f"{'at ' + x.get('first_drop_s') + ' s' if x.get('first_drop_s', '-') != '-' else '–'} | "
                   f"{r['dut_cpu_busy']} / {r['gen_cpu_busy']} | {r['foreign_pct']} |")
    out.append("")
    x = extra(lag[0])
    mx, unresolved = num(x.get("max_ms")), int(num(x.get("unresolved")) or 0)
    met = mx is not None and mx <= lag_target and unresolved == 0
    out.append(f"- **Target: the peer's table within {lag_target / 1000:g} s of the source, at the highest rate — "
               f"{'met' if met else 'NOT met'}** (max {x.get('max_ms')}, p99 {x.get('p99_ms')} (ms); \"never\": "
               f"B's count did not reach A's within the {x.get('samples')} samples, because events were lost on the way).")
    for r in lag:
        x = extra(r)
        ue, ua = int(num(x.get("update_events")) or 0), int(num(x.get("updates_applied")) or 0)
        out.append(f"- wrk -c{x.get('conns')}: {x.get('connections')} connections in {x.get('load_s')} s; {ue} update events "
                   f"queued by A, {ua} applied by B ({'all' if ue == ua else f'{ue - ua} never'}; installed + updated + "
                   f"refused, {x.get('peer_refused')} refused; datagrams B refused, by reason: {x.get('peer_refused_by_reason') or 'none'}); "
                   f"{x.get('removals')} removal events (of which {x.get('expired')} expiries; the others: new SYNs on "
                   f"tuples in TIME_WAIT, the client reusing its ports), {x.get('peer_removed')} counted by B (it "
                   "counts only entries it still holds). "
                   f"A: {x.get('overflowed')} events overflowed its outbox, {x.get('records_deferred')} records deferred by "
                   f"the bandwidth bound. B's kernel dropped {x.get('peer_udp_rcvbuf_errors')} datagrams (UDP receive "
                   f"buffer full), the first {x.get('first_drop_s')} s into the load. A's process "
                   f"{r['a_cpu_us_per_conn']} µs per connection, B's {r['b_cpu_us_per_conn']} µs. "
                   f"Samples: `{x.get('samples_file')}` ({x.get('samples')}, every {x.get('interval_ms')} ms).")
    out.append(f"- Method: samples through the admin API (`/v1/counters`); a lag is an upper bound on that grid and "
               "each side's counters are up to ~100 ms old, so figures are good to about ±100 ms; events are sent "
               "in 100 ms rounds and installed in the next, so ≈ 100–200 ms is the design's own lag. After an event is "
               "lost, B's count stays short of A's, so every later sample waits for events that never come and is "
               "\"never reached\" (or reached only by later events: lags after a loss overstate). `sync.refresh` "
               f"{x.get('refresh')} in these runs (a refresh would resend every live connection, which B counts "
               "like events); with the shipped 10 s a lost event's connection reaches B at the next refresh.\n")
else:
    out.append(f"Not measured: {lag_status}\n")

out.append("## 2. Cost: new connections/s through A with sync vs without (alternating, ABBA)\n")
cost = [r for r in rows if r["phase"] == "cost"]
out.append("| case | conn/s median (min–max) | runs (clean / made) | A µs/conn | B µs/conn | CPU busy DUT % | CPU busy GEN % | foreign % of one CPU | errors | events/conn |")
out.append("|---|---|---|---|---|---|---|---|---|---|")
med = {}
for c in ("sync", "nosync"):
    rs = [r for r in cost if r["case"] == c]
    if not rs: continue
    v = [num(r["conn_per_s"]) for r in rs]
    med[c] = statistics.median(v)
    clean = sum(1 for r in rs if r["contaminated"] == "0")
    ev = [num(extra(r).get("events_queued")) / (num(r["conn_per_s"]) * num(r["seconds"]))
          for r in rs if c == "sync" and num(r["conn_per_s"])]
    out.append(f"| {c} | {spread(v)} | {clean} / {len(rs)} | {spread([num(r['a_cpu_us_per_conn']) for r in rs], '{:.1f}')} | "
               f"{spread([num(r['b_cpu_us_per_conn']) for r in rs], '{:.1f}') if c == 'sync' else '–'} | "
               f"{spread([num(r['dut_cpu_busy']) for r in rs], '{:.0f}')} | {spread([num(r['gen_cpu_busy']) for r in rs], '{:.0f}')} | "
               f"{spread([num(r['foreign_pct']) for r in rs], '{:.0f}')} | {sum(int(num(r['errors']) or 0) for r in rs)} | "
               f"{spread(ev, '{:.2f}') if ev else '–'} |")
out.append("")
if "sync" in med and "nosync" in med and med["nosync"] > 0:
    ratio = med["sync"] / med["nosync"]
    pairs = {}
    for r in cost:
        pairs.setdefault(r["run"], {})[r["case"]] = num(r["conn_per_s"])
    per_run = [p["sync"] / p["nosync"] for p in pairs.values() if p.get("sync") and p.get("nosync")]
    out.append(f"- **Rate ratio sync ÷ no sync = {ratio:.3f}** (medians; per run {', '.join(f'{x:.3f}' for x in per_run)}) "
               f"— target ≥ {ratio_target}: **{'met' if ratio >= ratio_target else 'NOT met'}**.")
    cl = {c: [num(r["conn_per_s"]) for r in cost if r["case"] == c and r["contaminated"] == "0"] for c in ("sync", "nosync")}
    if cl["sync"] and cl["nosync"]:
        out.append(f"- Clean runs only (foreign ≤ {maxf} % of one CPU, ≤ {maxp} new processes): "
                   f"{statistics.median(cl['sync']) / statistics.median(cl['nosync']):.3f} "
                   f"({len(cl['sync'])} + {len(cl['nosync'])} runs).")
    else:
        out.append(f"- No clean pair of runs (foreign ≤ {maxf} % of one CPU): the ratio above is over all runs, "
                   "which alternate, so a steady background load hits both cases alike.")
    a = {c: statistics.median([num(r["a_cpu_us_per_conn"]) for r in cost if r["case"] == c]) for c in ("sync", "nosync")}
    if a["nosync"]:
        out.append("- The rate is bounded by whichever core saturates first (DUT: A, its NAPI work and whatever "
               "foreign load the scheduler puts there; GEN: wrk, nginx and B), so with a steady foreign load on one "
               "core its run-to-run spread can exceed the 5 % asked; A's own CPU per connection (its process's CPU "
               "time ÷ connections, foreign load excluded) is the steadier measure of what sync costs the sender:")
    out.append(f"- A's own CPU per connection: {a['sync']:.1f} µs with sync, {a['nosync']:.1f} µs without "
                   f"(× {a['sync'] / a['nosync']:.2f}); B, receiving, {statistics.median([num(r['b_cpu_us_per_conn']) for r in cost if r['case'] == 'sync']):.1f} µs per A connection.")
out.append(f"\nPer-run rows: `{os.path.basename(tsv)}` (column `extra`: the lag figures, sync counters); "
           f"CPU accounting per run (with the top foreign processes): `{acct_file}`.")
open(md, "w").write("\n".join(out) + "\n")
print("\n".join(out))
EOF
# The chart: lag per sample, A's and B's counts, the cost runs (../suite_chart.py, from the files above).
"$PYTHON" "$PERFDIR/suite_chart.py" sync "${TSV%.tsv}.png" "$TSV" || echo "sync.sh: no chart (suite_chart.py failed)" >&2
