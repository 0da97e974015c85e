#!/bin/bash
# perf.sh -- `make perf`: Sluice against its peers, side by side, in one invocation (issue 5, item 2).
#
# Built on Perf/netns/common.sh (the topology, the CPU placement, the peers and one run of each kind,
# shared with forwarding.sh and synproxy.sh) and the measurement tools of Perf/lab (generator, forwarder,
# counter, client, CPU accounting; Perf/README.md describes the method). Namespaces pp-*.
#
# Parts (PARTS, in this order):
#   memory  memory per connection with 1 million connections, from the Perf package's `memory-probe`
#           (when Perf/Sources/memory-probe exists; built here with swift build -c release)
#   packet  packet-path capacity, counted at the receiver, R runs of D_P s, cases alternating:
#             xsk_fwd_udp  Perf/lab's C AF_XDP forwarder, xsk_gen UDP flat out: the copy-mode ceiling
#             sluice_udp   Sluice forwarding established UDP flows (4096, opened by a warm-up)
#             xsk_fwd_syn  the C forwarder again, with the SYN flood's traffic (random sources)
#             sluice_syn   Sluice answering that flood with cookie SYN-ACKs (counted at the client): by
#                          default its XDP program answers them (XDP_TX)
#             sluice_synw  the same with synproxy.answer_in_xdp: false: the worker answers in user space
#           and, not in the default list (PACKET_CASES="sluice_udp_full sluice_udp_admin", see below):
#             sluice_udp_full   sluice_udp with its table holding ≥ TABLE_FILL (100000) connections, opened
#                               before the measurement by random-source UDP (netns/common.sh fill_table;
#                               two LIPs, connection_capacity SLUICE_CONN_CAPACITY_FULL = the shipped
#                               default 1048576, the admin socket and metrics endpoint configured, unused)
#             sluice_udp_admin  the same, and during the measured seconds netns/admin_load.py (in the
#                               gateway's namespace, on GEN_CPU) alternately scrapes /metrics and lists
#                               100000 connections through the admin API (10 pages of 10000) as fast as
#                               it can. Its ratio to sluice_udp_full, run by run, is what the admin load
#                               costs forwarding (target ≥ 0.95).
#   conn    per peer (PEERS: route, nft_fullnat, nft_synproxy, haproxy, sluice, sluice_fullnat), D_C s each:
#             cps (wrk -c32, Connection: close), rps (wrk -c32 keep-alive), lat (tcpbench -c1, a new
#             connection per request, latency including connect)
#   flood   per peer: legit (tcpbench -c8 -k1, no flood), then the same inside a random-source SYN flood
#           at each rate of FLOOD_RATES and flat out (flood_max); table size after each flood. One more
#           peer runs here only: `bound`, routing with an XDP program on the gateway's client-side veth
#           that drops the whole flood at its first instruction (Perf/lab/bpf/lab_sinks.bpf.c). No gateway
#           spends less on a flood, so its survival is the most this 2-core lab lets any gateway show: the
#           flooder shares the client's CPU, and its transmit path and the replies land there.
#           sluice_fullnat (Sluice without syn_proxy and without a client-address header: the job
#           nftables FULLNAT does) runs the conn tests only: without SYN cookies a flood fills its table by
#           design, which the `sluice` peer's figures already show the remedy for.
#           Peers named PEER_defer (route_defer, nft_fullnat_defer, nft_synproxy_defer, sluice_defer,
#           sluice_fullnat_defer) are PEER with the NAPI deferral DEFER ("2 200000": napi_defer_hard_irqs,
#           gro_flush_timeout ns) on the gateway's veths, the same for each (netns/common.sh NAPI_DEFER);
#           they run cps and lat only: the CPU per connection of a host that batches its receive work,
#           and what the batching costs a lone connection's latency.
# The conn and flood tests run R rounds; every round brings each peer up in a fresh topology (a flood
# leaves state behind) and runs its tests, so a burst of foreign load spreads over all peers.
#
# Sluice is measured both ways: `sluice_fullnat` with syn_proxy off and client_address none (to nginx
# :80; the job of nftables FULLNAT, its reference) and `sluice` with syn_proxy on (the job of nftables
# synproxy, its reference) and, to do HAProxy's work (PROXY v2 to nginx's :81), client_address
# proxy_protocol_v2. CLIENT_ADDRESS=auto (default) uses proxy_protocol_v2 when `sluice check` accepts it
# and a request through it reaches nginx's PROXY listener with the client's address, else `none` (to
# nginx :80), and says which in the results; CLIENT_ADDRESS=none|proxy_protocol_v2 forces one.
#
# Every run records the gateway CPU (DUT_CPU busy, /proc/stat), the client CPU, foreign CPU
# (Perf/lab/cpuacct.py) and the processes created while it ran. A run with foreign CPU > MAX_FOREIGN % of one CPU
# or more than MAX_NEW_PIDS new processes is contaminated: it is redone (up to ATTEMPTS in all, after
# waiting up to QUIET_TIMEOUT s for the machine to go quiet) and left out of the figures. No run starts
# after MAX_MINUTES; what is missing then shows as fewer runs in the table.
#
# Output: Perf/results/perf-<UTC stamp>.{tsv,md,json,png} (+ -acct.log, -sluice.log, -memory.txt).
# usage: sudo Perf/perf.sh      (make perf)
#   env: R=5 D_P=5 D_C=4 LD=4 FLOOD_RATES="100000 300000" PARTS="memory packet conn flood"
#        PEERS="route bound nft_fullnat nft_synproxy haproxy sluice sluice_fullnat" (and the *_defer peers) DEFER="2 200000" TESTS="cps rps lat legit flood_..." (default:
#        from PARTS and FLOOD_RATES) PACKET_CASES="xsk_fwd_udp sluice_udp xsk_fwd_syn sluice_syn sluice_synw"
#        (also: sluice_udp_full sluice_udp_admin) TABLE_FILL=100000 FILL_RATE=60000 METRICS_PORT=9810
#        SLUICE_CONN_CAPACITY_FULL=1048576
#        CLIENT_XDP=1 (a native XDP_PASS program on the client's veth; 0: none; sink: lab_sinks.bpf.c's
#        xdp_client_sink, which drops the replies to the flood's spoofed sources at XDP cost)
#        SLUICE=.build/release/sluice MEMORY_PROBE=(built here) CLIENT_ADDRESS=auto MAX_FOREIGN=10 MAX_NEW_PIDS=25 ATTEMPTS=2
#        QUIET_TIMEOUT=10 MAX_MINUTES=35 (from PERF_START, default now) WAIT_NS=600 GEN_CPU=0 DUT_CPU=1
#        FLOOD_CPU=GEN_CPU (where the flooder runs) KEEP=0 (leave pp-* up)
set -u
PERFDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$PERFDIR")
LABBIN=$PERFDIR/.build-lab-perf
NSP=pp
R=${R:-5}
D_P=${D_P:-5}
D_C=${D_C:-4}
LD=${LD:-4}
FLOOD_RATES=${FLOOD_RATES:-"100000 300000"}
PARTS=${PARTS:-"memory packet conn flood"}
PEERS=${PEERS:-"route bound nft_fullnat nft_synproxy haproxy sluice sluice_fullnat route_defer nft_fullnat_defer nft_synproxy_defer sluice_defer sluice_fullnat_defer"}
DEFER=${DEFER:-"2 200000"}
PACKET_CASES=${PACKET_CASES:-"xsk_fwd_udp sluice_udp xsk_fwd_syn sluice_syn sluice_synw"}
CLIENT_XDP=${CLIENT_XDP:-1}
SLUICE=${SLUICE:-$ROOT/.build/release/sluice}
CLIENT_ADDRESS=${CLIENT_ADDRESS:-auto}
ATTEMPTS=${ATTEMPTS:-2}
QUIET_TIMEOUT=${QUIET_TIMEOUT:-10}
MAX_MINUTES=${MAX_MINUTES:-35}
WAIT_NS=${WAIT_NS:-600}
RES=${RES:-$PERFDIR/results}
STAMP=$(date -u +%Y%m%d-%H%M%S)
OUT=$RES/perf-$STAMP
TSV=$OUT.tsv
ACCT_LOG=$OUT-acct.log
T_START=${PERF_START:-$(date +%s)}   # make perf passes the time it started, so the budget covers its build

[ "$(id -u)" = 0 ] || { echo "perf.sh: needs root (network namespaces, XDP)" >&2; exit 1; }
for tool in nginx haproxy nft conntrack curl ethtool wrk make ss; do
  command -v $tool >/dev/null || { echo "perf.sh: $tool missing (make deps)" >&2; exit 1; }
done
mkdir -p "$RES"
WORK=$(mktemp -d /tmp/pp-perf.XXXXXX)
# shellcheck source=netns/common.sh
source "$PERFDIR/netns/common.sh"
SLUICE_SERVICES="udp tcp"
SLUICE_SYN_PROXY=true

cleanup() {
  stop_sluice 2>/dev/null
  stop_haproxy
  [ "${KEEP:-0}" = 1 ] || net_down
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

WAITED_NS=0
t=$(date +%s)
wait_other_ns "$WAIT_NS" || exit 1
WAITED_NS=$(( $(date +%s) - t ))
lab_build
T0=$(date +%s)
# The budget counts from T_START, less the time spent waiting for other labs to finish.
over_time() { [ $(( $(date +%s) - T_START - WAITED_NS )) -ge $((MAX_MINUTES * 60)) ]; }

printf "t_s\tpart\tcase\ttest\trun\tattempt\tvalue\tunit\terrors\tslow_ge_1s\tp50_us\tp99_us\tflood_tx_pps\tdut_cpu_busy\tgen_cpu_busy\tforeign_pct\tnew_pids\tclean\textra\n" >"$TSV"
# row PART CASE TEST RUN ATTEMPT VALUE UNIT ERRORS SLOW P50 P99 FLOOD EXTRA (ACCT and NEW_PIDS from the run)
# -> appends to the TSV and returns 1 when the run was contaminated.
row() {
  local busy=($ACCT) clean=1
  contaminated "${busy[2]:-}" "${NEW_PIDS:-}" && clean=0
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" $(( $(date +%s) - T0 )) \
    "$1" "$2" "$3" "$4" "$5" \
    "${6:-}" "$7" "$8" "$9" "${10}" "${11}" "${12}" "${busy[0]:-}" "${busy[1]:-}" "${busy[2]:-}" "${NEW_PIDS:-}" \
    "$clean" "${13}" >>"$TSV"
  printf "%-6s %-13s %-13s run %s/%s: %s %s (dut %s%%, gen %s%%, foreign %s%%, %s pids)%s\n" "$1" "$2" "$3" "$4" "$5" \
    "${6:-–}" "$7" "${busy[0]:-?}" "${busy[1]:-?}" "${busy[2]:-?}" "${NEW_PIDS:-?}" "$([ $clean = 1 ] || echo " CONTAMINATED")"
  [ $clean = 1 ]
}
# quiet_before ATTEMPT: before a redo, wait (bounded) for the machine to go idle.
quiet_before() { [ "$1" -gt 1 ] && $CPUACCT quiet 15 "$QUIET_TIMEOUT" >/dev/null; true; }

# ------------------------------------------------------------------ memory
MEMORY_NOTE="not run"
part_memory() {
  if [ ! -d "$PERFDIR/Sources/memory-probe" ]; then
    MEMORY_NOTE="missing: Perf/Sources/memory-probe does not exist yet"
    echo "memory: $MEMORY_NOTE"
    return
  fi
  local probe=${MEMORY_PROBE:-$PERFDIR/.build/release/memory-probe}
  if [ -z "${MEMORY_PROBE:-}" ] \
    && ! (cd "$PERFDIR" && swift build -c release --product memory-probe) >"$WORK/memory-build.log" 2>&1; then
    MEMORY_NOTE="memory-probe did not build: $(grep -m1 error: "$WORK/memory-build.log")"
    echo "memory: $MEMORY_NOTE"
    return
  fi
  if taskset -c "$DUT_CPU" timeout 300 "$probe" >"$OUT-memory.txt" 2>&1; then
    MEMORY_NOTE="ok"
  else
    MEMORY_NOTE="memory-probe failed (exit $?), output in $(basename "$OUT")-memory.txt"
  fi
  echo "memory: $MEMORY_NOTE"; cat "$OUT-memory.txt"
}

# ------------------------------------------------------------------ packet path
# packet_config CASE: Sluice's configuration for a packet case (sluice_synw: no SYN answering in XDP;
# sluice_udp_full/_admin: two LIPs, the shipped table size, the metrics endpoint, the table filled first,
# and for _admin the admin load during the run). Also sets PK_FILL and PK_ADMIN_LOAD for packet_run.
packet_config() {
  packet_reset
  case $1 in
    sluice_synw) SLUICE_ANSWER_IN_XDP=false ;;
    sluice_udp_full|sluice_udp_admin)
      SLUICE_LIPS="$LIP, $LIP2" SLUICE_CONN_CAPACITY=${SLUICE_CONN_CAPACITY_FULL:-1048576}
      SLUICE_METRICS=127.0.0.1:${METRICS_PORT:-9810} PK_FILL=${TABLE_FILL:-100000}
      # As deployed: the worker pinned to the gateway's core (dataplane.cpus), the process and so its
      # control plane (admin API, metrics, checks) on the other one. ADMIN_PLACEMENT=shared keeps the
      # whole process on DUT_CPU, to show what the admin work costs a core it shares.
      if [ "${ADMIN_PLACEMENT:-split}" = split ]; then SLUICE_WORKER_CPUS=$DUT_CPU SLUICE_PROCESS_CPUS=$GEN_CPU; fi
      [ "$1" = sluice_udp_admin ] && PK_ADMIN_LOAD=1 ;;
  esac
  sluice_usable
}

# case_traffic CASE: the traffic of a packet case: udp or syn.
case_traffic() {
  case $1 in *_udp|*_udp_*) echo udp ;; *) echo syn ;; esac
}

part_packet() {
  net_up || return
  local cases= c r attempt traffic gw
  for c in $PACKET_CASES; do
    case $c in sluice_*) packet_config "$c" || { echo "packet: $c skipped: $SLUICE_STATUS"; continue; } ;; esac
    cases="$cases $c"
  done
  for r in $(seq "$R"); do
    for c in $cases; do
      traffic=$(case_traffic "$c") gw=${c%%_*}
      [ "$gw" = xsk ] && gw=xsk_fwd
      case $c in sluice_*) packet_config "$c" ;; esac
      for attempt in $(seq "$ATTEMPTS"); do
        over_time && { echo "time budget spent: packet part stops at run $r" >&2; return; }
        quiet_before "$attempt"
        if ! packet_run "$gw" "$traffic" "$D_P" 0 "$ACCT_LOG" "packet $c run $r/$attempt"; then
          echo "packet $c run $r: could not run" >&2; break
        fi
        case $c in sluice_*) cat "$WORK/sluice.stats" >>"$WORK/sluice-packet.stats" 2>/dev/null ;; esac
        row packet "$c" "$(echo "$PK_WHERE" | sed "s/^$NSP-//")" "$r" "$attempt" "$PK_COUNT" pps - - - - \
          "$PK_GEN_TX" "$PK_EXTRA" && break
      done
    done
  done
}
# packet_reset: the plain configuration again, for the connection part.
packet_reset() {
  SLUICE_ANSWER_IN_XDP= SLUICE_LIPS=$LIP SLUICE_CONN_CAPACITY=65536 SLUICE_METRICS= PK_FILL=0 PK_ADMIN_LOAD=0
  SLUICE_WORKER_CPUS= SLUICE_PROCESS_CPUS=
}

# ------------------------------------------------------------------ connections and floods
TARGET=$VIP
SMOKE=""
SLUICE_CA_NOTE=""
# choose_client_address: CLIENT_ADDRESS=auto -> proxy_protocol_v2 if the binary accepts it and nginx's
# PROXY listener answers with the client's address through it, else none. Runs once, in the first round.
choose_client_address() {
  [ -n "$SLUICE_CA_NOTE" ] && return 0
  if [ "$CLIENT_ADDRESS" != auto ]; then
    SLUICE_CLIENT_ADDRESS=$CLIENT_ADDRESS
    SLUICE_CA_NOTE="client_address $CLIENT_ADDRESS (forced)"
    return 0
  fi
  SLUICE_CLIENT_ADDRESS=proxy_protocol_v2
  if sluice_usable && start_sluice; then
    local answer
    answer=$(ip netns exec $CLI curl -s -m 3 http://$VIP/ 2>&1)
    stop_sluice
    if [ "$answer" = "ok $CIP" ]; then
      SLUICE_CA_NOTE="client_address proxy_protocol_v2 (auto: PROXY v2 reached nginx :81 with the client's address)"
      return 0
    fi
    SLUICE_CA_NOTE="client_address none (auto: proxy_protocol_v2 accepted by \`sluice check\` but the request through it got '${answer:0:60}')"
  else
    SLUICE_CA_NOTE="client_address none (auto: this build does not accept proxy_protocol_v2: ${SLUICE_STATUS:0:120})"
  fi
  SLUICE_CLIENT_ADDRESS=none
}

# peer_up PEER: fresh topology, nginx, the peer; one request through it must work.
# CLIENT_XDP=1: a native XDP_PASS program on the client's veth, for every peer alike. On veth, frames a
# gateway sends with XDP_TX reach a peer only when that peer runs native XDP (on a NIC they always
# leave); without it Sluice falls back to answering SYNs in its worker (gauge xdp_syn_answering = 0).
peer_up() {
  net_up || return 1
  if [ "$CLIENT_XDP" = sink ]; then
    ip netns exec $CLI "$BIN/xdpcnt" -i $IF_C0 -o "$LABBIN/bpf/lab_sinks.o" -p xdp_client_sink -m native -t 86400 -q \
      >"$WORK/client-xdp.log" 2>&1 &
    wait_ready "$WORK/client-xdp.log" || return 1
    napi_threaded $CLI $IF_C0 "$GEN_CPU"
  elif [ "$CLIENT_XDP" = 1 ]; then
    ip netns exec $CLI "$BIN/xdpcnt" -i $IF_C0 -p xdp_pass_cnt -m native -t 86400 -q >"$WORK/client-xdp.log" 2>&1 &
    wait_ready "$WORK/client-xdp.log" || return 1
    napi_threaded $CLI $IF_C0 "$GEN_CPU"
  fi
  start_nginx
  TARGET=$VIP
  # PEER_defer: PEER with the NAPI deferral on the gateway's veths (gw_mode, sluice_config read it).
  case $1 in *_defer) NAPI_DEFER=$DEFER ;; *) NAPI_DEFER= ;; esac
  case ${1%_defer} in
    route) gw_mode forward; TARGET=$RIP ;;
    bound)
      gw_mode forward; TARGET=$RIP
      ip netns exec $GW "$BIN/xdpcnt" -i $IF_G0 -o "$LABBIN/bpf/lab_sinks.o" -p xdp_flood_drop -m native -t 86400 -q \
        >"$WORK/bound-xdp.log" 2>&1 &
      wait_ready "$WORK/bound-xdp.log" || return 1
      napi_threaded $GW $IF_G0 "$DUT_CPU" ;;
    nft_fullnat) start_nft fullnat ;;
    nft_synproxy) start_nft synproxy ;;
    haproxy) start_haproxy ;;
    sluice)
      # The choice is made once (first round); sluice_fullnat changes SLUICE_CLIENT_ADDRESS in between.
      SLUICE_SYN_PROXY=true; choose_client_address
      SLUICE_CA_CHOSEN=${SLUICE_CA_CHOSEN:-$SLUICE_CLIENT_ADDRESS} SLUICE_CLIENT_ADDRESS=$SLUICE_CA_CHOSEN
      sluice_usable && start_sluice || return 1 ;;
    sluice_fullnat)
      SLUICE_SYN_PROXY=false SLUICE_CLIENT_ADDRESS=none
      sluice_usable && start_sluice || return 1 ;;
  esac
  local answer
  answer=$(ip netns exec $CLI curl -s -m 3 http://$TARGET/ 2>&1)
  [ "${answer:0:2}" = ok ] && return 0
  SMOKE="$SMOKE $1 FAILED ('${answer:0:60}');"
  return 1
}

peer_down() {
  case ${1%_defer} in
    sluice|sluice_fullnat) stop_sluice; cat "$WORK/sluice.stats" >>"$WORK/sluice-conn.stats" 2>/dev/null ;;
    haproxy) stop_haproxy ;;
  esac
}

# table_size PEER: the gateway's state after a flood (nft: conntrack entries; Sluice: connections in its
# table; HAProxy: half-open (SYN-RECV) sockets in the gateway; route: the same in the backend).
table_size() {
  case $1 in
    nft_*) ip netns exec $GW conntrack -C 2>/dev/null || echo - ;;
    sluice) sleep 1.2; sstat connections ;;
    haproxy) ip netns exec $GW ss -Htan state syn-recv 2>/dev/null | wc -l ;;
    route) ip netns exec $BE ss -Htan state syn-recv 2>/dev/null | wc -l ;;
  esac
}

# xdp_tx_errors: frames the gateway's XDP program sent back out of its client-side veth with XDP_TX
# that the client's veth refused (its receive ring full): SYN-ACKs lost before they left the gateway.
xdp_tx_errors() {
  ip netns exec $GW ethtool -S $IF_G0 2>/dev/null | awk '/xdp_tx_errors/{n += $2} END{print n + 0}'
}

conn_tests() {
  local t= n
  [ -n "${TESTS:-}" ] && { echo "$TESTS"; return; }
  case " $PARTS " in *" conn "*) t="cps rps lat" ;; esac
  case " $PARTS " in *" flood "*) t="$t legit"; for n in $FLOOD_RATES; do t="$t flood_$n"; done; t="$t flood_max" ;; esac
  echo $t
}

part_conn() {
  local tests r p t attempt secs unit extra s0 e0
  tests=$(conn_tests)
  for r in $(seq "$R"); do
    for p in $PEERS; do
      over_time && { echo "time budget spent: connection part stops at round $r" >&2; return; }
      if ! peer_up "$p"; then echo "$p: not up ($SMOKE)" >&2; peer_down "$p"; continue; fi
      for t in $tests; do
        case $p/$t in bound/cps|bound/rps|bound/lat) continue ;; esac   # the bound peer is for floods only
        case $p/$t in sluice_fullnat/legit|sluice_fullnat/flood_*) continue ;; esac   # conn tests only
        case $p/$t in *_defer/cps|*_defer/lat) ;; *_defer/*) continue ;; esac   # CPU per connection, latency
        for attempt in $(seq "$ATTEMPTS"); do
          over_time && break 3
          quiet_before "$attempt"
          case $p in nft_*) ip netns exec $GW conntrack -F >/dev/null 2>&1 ;; esac
          [ "$p" = sluice ] && { s0=$(counters); e0=$(xdp_tx_errors); }
          secs=$D_C; unit=conn/s
          case $t in legit|flood_*) secs=$LD ;; esac
          [ "$t" = rps ] && unit=req/s
          client_run "$TARGET" "$t" "$secs" "$ACCT_LOG" "conn $p $t run $r/$attempt" \
            || echo "$p $t: no result: $(tail -c 300 <<<"$CL_OUT")" >&2
          extra=-
          case $t in
            flood_*)
              extra="table_after=$(table_size "$p")"
              [ "$p" = sluice ] && extra="$extra,xdp_syn_answering=$(sstat xdp_syn_answering),$(deltas "$s0" "$(counters)"),xdp_tx_errors=$(( $(xdp_tx_errors) - e0 ))" ;;
          esac
          row conn "$p" "$t" "$r" "$attempt" "$CL_VALUE" "$unit" "$CL_ERR" "$CL_SLOW" "$CL_P50" "$CL_P99" \
            "$CL_FLOOD" "$extra"
          local ok=$?
          case $t in flood_*) sleep 0.5 ;; esac   # the flood's SYN-ACKs and the client's last RSTs drain
          [ $ok = 0 ] && break
        done
      done
      peer_down "$p"
    done
  done
}

for part in $PARTS; do
  case $part in
    memory) part_memory ;;
    packet) part_packet; packet_reset ;;
    conn) part_conn ;;
    flood) case " $PARTS " in *" conn "*) ;; *) part_conn ;; esac ;;   # flood runs inside part_conn
  esac
done
net_down
cat "$WORK"/sluice-*.stats >"$OUT-sluice.log" 2>/dev/null
cat "$WORK/sluice.log" >>"$OUT-sluice.log" 2>/dev/null
[ -s "$OUT-sluice.log" ] || rm -f "$OUT-sluice.log"
ELAPSED=$(( $(date +%s) - T_START - WAITED_NS ))

# ------------------------------------------------------------------ summary, chart
CPU_MODEL=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
MEM_GIB=$(awk '/^MemTotal/{printf "%.0f", $2 / 1048576}' /proc/meminfo)
M_STAMP=$STAMP M_HOST=$(hostname) M_KERNEL=$(uname -r) M_CPUS=$(nproc) M_CPU_MODEL=$CPU_MODEL M_MEM_GIB=$MEM_GIB \
M_PARAMS="R=$R D_P=$D_P D_C=$D_C LD=$LD FLOOD_RATES=\"$FLOOD_RATES\" CLIENT_XDP=$CLIENT_XDP PARTS=\"$PARTS\"$(
  case " $PARTS " in *" packet "*) echo " PACKET_CASES=\"$PACKET_CASES\"" ;; esac)$(
  case " $PACKET_CASES " in *" sluice_udp_full "*|*" sluice_udp_admin "*) echo " TABLE_FILL=${TABLE_FILL:-100000}" ;; esac)" M_RUNS=$R \
M_MAX_FOREIGN=$MAX_FOREIGN M_MAX_NEW_PIDS=$MAX_NEW_PIDS M_ELAPSED_S=$ELAPSED M_MEASURE_S=$(( $(date +%s) - T0 )) \
M_WAITED_NS_S=$WAITED_NS M_NAPI_DEFER="$DEFER" M_SLUICE=$SLUICE M_SLUICE_STATUS=$SLUICE_STATUS M_CLIENT_ADDRESS=$SLUICE_CA_NOTE \
M_SMOKE=${SMOKE:-every peer answered a request} M_MEMORY=$MEMORY_NOTE \
M_MEMORY_FILE=$( [ -s "$OUT-memory.txt" ] && basename "$OUT-memory.txt") M_COMMAND=${PERF_COMMAND:-sudo Perf/perf.sh} \
  $PYTHON -c 'import json, os, sys
json.dump({k[2:].lower(): v for k, v in os.environ.items() if k.startswith("M_")}, open(sys.argv[1], "w"), indent=1)' \
  "$OUT.meta.json"
$PYTHON "$PERFDIR/netns/perf_summary.py" "$TSV" "$OUT.meta.json" "$OUT.md" "$OUT.json" && rm -f "$OUT.meta.json"
if $PYTHON -c "import matplotlib" 2>/dev/null; then
  $PYTHON "$PERFDIR/chart.py" "$OUT.json" "$OUT.png" || echo "perf.sh: chart failed" >&2
else
  echo "perf.sh: python3-matplotlib missing (make deps): no chart" >&2
fi
cat "$OUT.md"
echo "perf.sh: $(( ELAPSED / 60 )) min $(( ELAPSED % 60 )) s; results in ${OUT#$ROOT/}.{md,tsv,json,png}"
