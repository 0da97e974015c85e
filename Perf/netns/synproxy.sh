#!/bin/bash
# synproxy.sh -- SYNPROXY under load, in one invocation (issue 3; perf-lab README §5.A item 3 and §5.C):
#   A. SYN-answering rate: a random-source SYN flood at a syn_proxy VIP, SYN-ACKs counted at the client,
#      as a ratio to the C AF_XDP forwarder ceiling (perf-lab xsk_fwd) measured in the same run.
#   B. Flood survival: legitimate connections per second (new connection per request, 3 s timeout) under
#      the strongest SYN flood this machine makes (xsk_gen -r flat out) and a rate-limited one, divided by
#      the same without a flood; errors and connections >= 1 s; for Sluice, nftables synproxy and HAProxy.
#
#   ps-cli                       ps-gw (device under test)                        ps-be
#   ps-c0 10.210.1.2/24  <-->  ps-g0 10.210.1.1/24
#   02:00:00:00:01:02           02:00:00:00:01:01
#                               ps-g1 10.210.2.1/24  <-->  ps-b0 10.210.2.2/24 (nginx :80, :81 PROXY v2)
#                               02:00:00:00:02:01          02:00:00:00:02:02
#   VIP 10.210.9.10:80 (ps-cli routes it via 10.210.1.1). Sluice: LIP 10.210.2.100 on no interface
#   (ps-be has a /32 route to it via 10.210.2.1),
#   ps-gw ip_forward=0 (Sluice forwards in user space; it mirrors ps-gw's routes and permanent neighbours,
#   whose default route points back into ps-cli, where replies to random sources die: ip_forward=0 there).
#   nft synproxy and HAProxy terminate on the VIP, which they get on ps-gw's lo, with ip_forward=1.
#   Same addresses and MACs as ../shared/perf-lab/topo.sh; namespaces and interfaces prefixed ps-.
#
# CPU placement (perf-lab README §1.2): the gateway (sluice / haproxy / xsk_fwd, the NAPI kthreads of
# ps-g0/ps-g1 when native XDP is attached, their RPS otherwise) on DUT_CPU; generator, client, nginx,
# counters and the RPS/NAPI of ps-c0/ps-b0 on GEN_CPU.
#
# Part A cases, R_A runs of D_A s each, alternating (traffic: xsk_gen -p syn -r flat out, 60-byte SYNs
# from random IPv4 sources to VIP:80):
#   xsk_fwd   perf-lab's C AF_XDP forwarder, ps-g0 -> MAC rewrite -> ps-g1, counted by xdpcnt on ps-b0
#   sluice    `sluice run`, service VIP:80 syn_proxy -> 10.210.2.2:80; SYN-ACKs counted by xdpcnt on ps-c0
#   nft_syn   (reference) nftables synproxy (perf-lab conf/nft_synproxy.nft); SYN-ACKs counted on ps-c0
# Part B peers sluice, nft_synproxy, haproxy (perf-lab conf/), each in a fresh topology with nginx;
# R_B runs of these tests, in this order every run:
#   legit       tcpbench -c 8 -k 1 -T 3000 for LD s, no flood
#   flood_max   xsk_gen -p syn -r flat out for LD+2 s; tcpbench (same) starts 1 s into it, for LD s
#   flood_N     the same with xsk_gen -R N, for each N in FLOOD_RATES (requested pps; the achieved rate
#               is recorded: the generator shares GEN_CPU with the client, nginx and the SYN-ACKs' receive)
# (perf-lab's run_peers.sh lets the client run 1 s before and after its flood; here every measured
# second of the client is under flood.) Survival ratio = flood conn/s / legit conn/s of the same run.
#
# Every run records foreign CPU (perf-lab cpuacct.py, prefix patched to ps-) and the number of
# processes created while it ran; a contaminated run (foreign > MAX_FOREIGN % of one CPU or more than
# MAX_NEW_PIDS new processes) is redone up to ATTEMPTS times and left out of the summary.
# Every loop and process is bounded by time; the script stops starting runs after MAX_MINUTES.
#
# The perf-lab tools are built from ../shared/perf-lab (or $PERF_LAB) with its own Makefile in
# Perf/.build-lab-synproxy (gitignored). Needs root, libxdp/libbpf, clang, nginx, haproxy, nft,
# conntrack, tcpdump, curl, ethtool (apt-get install nginx haproxy nftables conntrack tcpdump curl ethtool), and
# `swift build -c release --product sluice` in the repository root (or SLUICE=path).
#
# usage: sudo Perf/netns/synproxy.sh
#   env: R_A=5 D_A=8 R_B=5 LD=5 FLOOD_RATES="100000 300000" PARTS="A B" CASES_A="xsk_fwd sluice nft_syn"
#        PEERS="sluice nft_synproxy haproxy" SLUICE=.build/release/sluice MAX_FOREIGN=10 MAX_NEW_PIDS=25
#        ATTEMPTS=2 QUIET_TIMEOUT=30 MAX_MINUTES=16 WAIT_NS=900 KEEP=0
# Writes Perf/results/synproxy-<UTC stamp>.{md,tsv} and the per-peer Sluice/HAProxy logs next to them.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PERFDIR=$(dirname "$HERE")
ROOT=$(dirname "$PERFDIR")
PERF_LAB=${PERF_LAB:-$(cd "$ROOT/.." && pwd)/shared/perf-lab}
LABBIN=$PERFDIR/.build-lab-synproxy
R_A=${R_A:-5}
D_A=${D_A:-8}
R_B=${R_B:-5}
LD=${LD:-5}
FLOOD_RATES=${FLOOD_RATES:-"100000 300000"}
PARTS=${PARTS:-"A B"}
CASES_A=${CASES_A:-"xsk_fwd sluice nft_syn"}
PEERS=${PEERS:-"sluice nft_synproxy haproxy"}
SLUICE=${SLUICE:-$ROOT/.build/release/sluice}
MAX_FOREIGN=${MAX_FOREIGN:-10}
MAX_NEW_PIDS=${MAX_NEW_PIDS:-25}
ATTEMPTS=${ATTEMPTS:-2}
QUIET_TIMEOUT=${QUIET_TIMEOUT:-30}
MAX_MINUTES=${MAX_MINUTES:-16}
WAIT_NS=${WAIT_NS:-900}
STAMP=$(date -u +%Y%m%d-%H%M%S)
RES=${RES:-$PERFDIR/results}
WORK=$(mktemp -d /tmp/ps-synproxy.XXXXXX)
TSV=$RES/synproxy-$STAMP.tsv
MD=$RES/synproxy-$STAMP.md
T0=$(date +%s)

CLI=ps-cli GW=ps-gw BE=ps-be
MAC_C0=02:00:00:00:01:02 MAC_G0=02:00:00:00:01:01
MAC_G1=02:00:00:00:02:01 MAC_B0=02:00:00:00:02:02
VIP=10.210.9.10 LIP=10.210.2.100 RIP=10.210.2.2

[ "$(id -u)" = 0 ] || { echo "synproxy.sh: needs root (network namespaces, XDP)" >&2; exit 1; }
[ -d "$PERF_LAB/src" ] || { echo "synproxy.sh: perf-lab not found at $PERF_LAB (set PERF_LAB)" >&2; exit 1; }
# The system python: a pyenv shim on PATH runs dozens of shell processes per call, which the
# contamination checks below would count (and which cost CPU of their own).
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
for tool in nginx haproxy nft conntrack tcpdump curl ethtool make; do
  command -v $tool >/dev/null || { echo "synproxy.sh: $tool missing (apt-get install it)" >&2; exit 1; }
done
mkdir -p "$RES"

# ------------------------------------------------------------------ wait for other network benchmarks
# Two cores: another namespace lab running next to this one spoils both. Wait (bounded) until no
# namespace other than ours exists.
waited=0
while ip netns list | awk '{print $1}' | grep -qv '^ps-'; do
  if [ "$waited" -ge "$WAIT_NS" ]; then
    echo "synproxy.sh: other network namespaces still present after ${WAIT_NS}s: $(ip netns list | awk '{print $1}' | grep -v '^ps-' | tr '\n' ' ')" >&2
    exit 1
  fi
  [ "$waited" = 0 ] && echo "waiting for other namespaces to go: $(ip netns list | awk '{print $1}' | grep -v '^ps-' | tr '\n' ' ')"
  sleep 10; waited=$((waited + 10))
done
T0=$(date +%s)

# ------------------------------------------------------------------ perf-lab tools, built here
rm -rf "$LABBIN" && mkdir -p "$LABBIN"
cp -r "$PERF_LAB/Makefile" "$PERF_LAB/src" "$PERF_LAB/bpf" "$PERF_LAB/lib.sh" "$PERF_LAB/cpuacct.py" "$PERF_LAB/conf" "$LABBIN/"
chmod -R u+w "$LABBIN"
sed -i "s|/run/netns/pm-\*|/run/netns/ps-*|" "$LABBIN/cpuacct.py"
grep -q "/run/netns/ps-\*" "$LABBIN/cpuacct.py" || { echo "cpuacct.py: namespace prefix not patched" >&2; exit 1; }
make -s -C "$LABBIN" >"$WORK/make.log" 2>&1 || { cat "$WORK/make.log" >&2; echo "building perf-lab tools failed" >&2; exit 1; }
BIN=$LABBIN/bin
source "$LABBIN/lib.sh"   # napi_threaded, rps, wait_ready; GEN_CPU / DUT_CPU
CPUACCT="$PYTHON $LABBIN/cpuacct.py"
GEN_MASK=$(printf %x $((1 << GEN_CPU)))
DUT_MASK=$(printf %x $((1 << DUT_CPU)))
# The peers' configurations, from perf-lab: interface names pm- -> ps-, nginx's files into WORK.
sed "s/\"pm-g1\"/\"ps-g1\"/" "$LABBIN/conf/nft_synproxy.nft" >"$WORK/nft_synproxy.nft"
grep -q '"ps-g1"' "$WORK/nft_synproxy.nft" || { echo "nft_synproxy.nft: interface not patched" >&2; exit 1; }
sed -e "s|/tmp/pm-nginx.pid|$WORK/nginx.pid|" -e "s|/tmp/pm-nginx-error.log|$WORK/nginx-error.log|" \
  "$LABBIN/conf/nginx.conf" >"$WORK/nginx.conf"
cp "$LABBIN/conf/haproxy.cfg" "$WORK/haproxy.cfg"

# ------------------------------------------------------------------ topology
NGX_PID="" HAP_PID="" SLUICE_PID=""
down() {
  local ns pid
  for ns in $CLI $GW $BE; do
    for pid in $(ip netns pids $ns 2>/dev/null); do kill "$pid" 2>/dev/null; done
  done
  sleep 0.3
  for ns in $CLI $GW $BE; do ip netns del $ns 2>/dev/null; done
  NGX_PID="" HAP_PID="" SLUICE_PID=""
  true
}

up() {
  down
  for ns in $CLI $GW $BE; do ip netns add $ns; ip -n $ns link set lo up; done
  ip link add ps-c0 netns $CLI address $MAC_C0 type veth peer name ps-g0 netns $GW address $MAC_G0
  ip link add ps-g1 netns $GW address $MAC_G1 type veth peer name ps-b0 netns $BE address $MAC_B0
  ip -n $CLI addr add 10.210.1.2/24 dev ps-c0
  ip -n $GW addr add 10.210.1.1/24 dev ps-g0
  ip -n $GW addr add 10.210.2.1/24 dev ps-g1
  ip -n $BE addr add $RIP/24 dev ps-b0
  for i in "$CLI ps-c0" "$GW ps-g0" "$GW ps-g1" "$BE ps-b0"; do
    set -- $i
    # A kernel sender on veth hands out CHECKSUM_PARTIAL frames (pseudo-header sum only); an AF_XDP
    # reader gets them as they are. Every veth end computes its checksums, as Tests/EndToEnd/lab.sh does
    # (and as a NIC would deliver them), for every peer alike.
    ip netns exec $1 ethtool -K $2 tx off >/dev/null || { echo "ethtool -K $2 tx off failed" >&2; exit 1; }
    ip -n $1 link set $2 up
  done
  ip -n $CLI route add 10.210.9.0/24 via 10.210.1.1
  ip -n $BE route add default via 10.210.2.1
  # The LIP lies inside ps-be's connected /24 but is on no interface: without this host route the
  # backend would ARP for it (nobody answers) instead of sending replies to the gateway.
  ip -n $BE route add $LIP/32 via 10.210.2.1
  ip -n $GW route add default via 10.210.1.2   # replies to random sources go back to ps-cli and die there
  ip netns exec $GW sysctl -qw net.ipv4.ip_forward=0 net.ipv4.conf.all.send_redirects=0
  ip netns exec $CLI sysctl -qw net.ipv4.ip_forward=0 net.ipv4.tcp_syn_retries=2
  for ns in $CLI $GW $BE; do
    ip netns exec $ns sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
    ip netns exec $ns sysctl -qw net.ipv4.ip_local_port_range="1024 65000" net.ipv4.tcp_tw_reuse=1
    ip netns exec $ns sysctl -qw net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=4096
  done
  for d in ps-g0 ps-g1; do ip netns exec $GW sysctl -qw net.ipv4.conf.$d.rp_filter=0 net.ipv4.conf.$d.send_redirects=0; done
  # Permanent neighbours: generators never ARP, XDP_DROP counters never answer ARP, and Sluice finds
  # every next hop without a resolution round trip.
  ip -n $CLI neigh replace 10.210.1.1 lladdr $MAC_G0 dev ps-c0 nud permanent
  ip -n $GW neigh replace 10.210.1.2 lladdr $MAC_C0 dev ps-g0 nud permanent
  ip -n $GW neigh replace $RIP lladdr $MAC_B0 dev ps-g1 nud permanent
  ip -n $BE neigh replace 10.210.2.1 lladdr $MAC_G1 dev ps-b0 nud permanent
  # Kernel receive work of the client and the backend on GEN_CPU (they have no XDP: backlog + RPS).
  rps $CLI ps-c0 "$GEN_MASK"; rps $BE ps-b0 "$GEN_MASK"
}

start_nginx() {
  ip netns exec $BE taskset -c "$GEN_CPU" nginx -c "$WORK/nginx.conf" >"$WORK/nginx.out" 2>&1 &
  NGX_PID=$!
  sleep 1
}

# gw_kernel MODE: none (Sluice / xsk_fwd: nothing on the VIP, no forwarding) or terminate (nft synproxy,
# HAProxy: VIP on lo, forwarding on, gateway receive work by RPS on DUT_CPU).
gw_kernel() {
  ip netns exec $GW nft delete table ip pm_lb 2>/dev/null
  if [ "$1" = terminate ]; then
    ip -n $GW addr replace $VIP/32 dev lo
    ip netns exec $GW sysctl -qw net.ipv4.ip_forward=1
    rps $GW ps-g0 "$DUT_MASK"; rps $GW ps-g1 "$DUT_MASK"
  else
    ip -n $GW addr del $VIP/32 dev lo 2>/dev/null
    ip netns exec $GW sysctl -qw net.ipv4.ip_forward=0
    rps $GW ps-g0 0; rps $GW ps-g1 0
  fi
}

start_nft() {
  gw_kernel terminate
  ip netns exec $GW sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 2>/dev/null \
    || { modprobe nf_conntrack 2>/dev/null; ip netns exec $GW sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0; }
  ip netns exec $GW nft -f "$WORK/nft_synproxy.nft"
}

start_haproxy() {
  gw_kernel terminate
  ip netns exec $GW taskset -c "$DUT_CPU" haproxy -f "$WORK/haproxy.cfg" -db >>"$WORK/haproxy.log" 2>&1 &
  HAP_PID=$!
  sleep 1
}

stop_haproxy() {
  [ -n "$HAP_PID" ] || return 0
  kill "$HAP_PID" 2>/dev/null; wait "$HAP_PID" 2>/dev/null; HAP_PID=""
}

cleanup() {
  stop_sluice 2>/dev/null
  stop_haproxy
  [ "${KEEP:-0}" = 1 ] || down
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ Sluice
sluice_config() {
  cat <<EOF
# Generated by Perf/netns/synproxy.sh
interfaces:
  external: ps-g0
  internal: ps-g1
  xdp_mode: native
local_address_groups:
  lips: [$LIP]
virtual_servers:
  - name: web
    vip: $VIP
    port: 80
    protocol: tcp
    scheduler: rr
    local_address_group: lips
    syn_proxy: true
    real_servers:
      - { address: $RIP, port: 80, weight: 1 }
dataplane:
  workers: 1
  connection_capacity: 65536
synproxy:
  mss: 1452
  wscale: 7
  sack: true
  timestamps: true
  retries: 3
  queue: 4
  rst_on_bad_cookie: false
  ack_storm_threshold: 10
EOF
}

SLUICE_STATUS="not requested"
sluice_usable() {
  [ -x "$SLUICE" ] || { SLUICE_STATUS="no binary at $SLUICE (run: swift build -c release --product sluice)"; return 1; }
  sluice_config >"$WORK/sluice.yaml"
  if ! "$SLUICE" check --config "$WORK/sluice.yaml" >"$WORK/check.log" 2>&1; then
    SLUICE_STATUS="\`sluice check\` rejects the generated config: $(head -3 "$WORK/check.log" | tr '\n' ' ')"
    return 1
  fi
  SLUICE_STATUS="ok"
}

# start_sluice: run it on DUT_CPU in ps-gw, wait for its XDP program on both interfaces, pin the NAPI
# kthreads native XDP gave the two veths.
start_sluice() {
  gw_kernel none
  rm -f "$WORK/sluice.stats"
  ip netns exec $GW taskset -c "$DUT_CPU" "$SLUICE" run --config "$WORK/sluice.yaml" --stats-file "$WORK/sluice.stats" \
    >>"$WORK/sluice.log" 2>&1 &
  SLUICE_PID=$!
  for _ in $(seq 100); do
    kill -0 "$SLUICE_PID" 2>/dev/null || { echo "sluice exited:" >&2; tail -5 "$WORK/sluice.log" >&2; SLUICE_PID=; return 1; }
    if ip -n $GW link show ps-g0 | grep -q "xdp" && ip -n $GW link show ps-g1 | grep -q "xdp"; then
      sleep 1
      napi_threaded $GW ps-g0 "$DUT_CPU"; napi_threaded $GW ps-g1 "$DUT_CPU"
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

# sstat NAME: a counter from Sluice's stats file (rewritten every second), 0 if absent.
sstat() { awk -v n="$1" '$1 == n {print $2; f = 1} END {if (!f) print 0}' "$WORK/sluice.stats" 2>/dev/null || echo 0; }

# Counters whose change over a run goes into the `extra` column: what the XDP program steered to the
# socket versus what Sluice received (the difference was lost in between: RX ring full), and what
# the SYN proxy did with it.
DELTAS="xdp_redirected_vip received_external syn_proxy_cookies_sent syn_proxy_acks_valid syn_proxy_handshakes_completed xdp_redirected_lip received_internal drop_tx_ring_full"
counters() { local n; for n in $DELTAS; do printf "%s " "$(sstat $n)"; done; }
deltas() { # deltas "BEFORE" "AFTER" -> name=after-before,...
  local -a a=($1) b=($2); local i=0 n out=
  for n in $DELTAS; do out="$out${out:+,}$n=$(( ${b[$i]:-0} - ${a[$i]:-0} ))"; i=$((i + 1)); done
  echo "$out"
}

# ------------------------------------------------------------------ helpers
field() { sed -n "s/.*[ ]$1=\([0-9.]*\).*/\1/p" <<<"$2" | head -1; }
errors() { # errors TCPBENCH_OUTPUT: refused/reset + timeouts + I/O errors (empty output: "-")
  local c t i
  c=$(field err_conn "$1"); t=$(field err_timeout "$1"); i=$(field err_io "$1")
  [ -n "$c$t$i" ] && echo $(( ${c:-0} + ${t:-0} + ${i:-0} )) || echo -
}
over_time() { [ $(( $(date +%s) - T0 )) -ge $((MAX_MINUTES * 60)) ]; }
contaminated() {
  awk -v f="$1" -v m="$MAX_FOREIGN" -v p="$2" -v pm="$MAX_NEW_PIDS" 'BEGIN{exit !(f > m || p > pm || p < 0)}'
}
acct() { # acct A B LABEL -> "dut_busy gen_busy foreign_pct"; the full diff goes to the acct log
  local d
  d=$($CPUACCT diff "$1" "$2")
  echo "$3 $d" >>"$RES/synproxy-$STAMP-acct.log"
  $PYTHON -c "import json,sys;d=json.loads(sys.argv[1]);print(d['cpu$DUT_CPU']['busy'],d['cpu$GEN_CPU']['busy'],d['foreign_pct'])" "$d"
}
syn_flood() { # syn_flood SECONDS RATE(0 = flat out): xsk_gen random-source SYNs at VIP:80 from ps-c0
  local ropt=
  [ "$2" != 0 ] && ropt="-R $2"
  ip netns exec $CLI taskset -c "$GEN_CPU" "$BIN/xsk_gen" -i ps-c0 -p syn -r -s $MAC_C0 -d $MAC_G0 -D $VIP -t "$1" $ropt
}
row() { printf "%s\n" "$(IFS=$'\t'; echo "$*")" | tee -a "$TSV"; }
printf "part\tcase\ttest\trun\tvalue\terrors\tslow_ge_1s\tp50_us\tp99_us\tflood_tx_pps\tdut_cpu_busy\tgen_cpu_busy\tforeign_pct\tnew_pids\textra\n" >"$TSV"

# ------------------------------------------------------------------ part A: SYN answering rate
SMOKE_A="not run"
smoke_a() { # SYN-ACKs at the client, valid checksums (tcpdump -vv checks IP and TCP checksums)
  ip netns exec $CLI timeout 5 tcpdump -nvvc 5 -i ps-c0 'tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)' \
    >"$WORK/smoke_a.txt" 2>/dev/null &
  local tp=$!
  sleep 1
  syn_flood 2 1000 >/dev/null 2>&1
  wait $tp 2>/dev/null
  if grep -q "$VIP\.80 > [0-9.]*: Flags \[S\.\]" "$WORK/smoke_a.txt" && ! grep -qi "incorrect" "$WORK/smoke_a.txt"; then
    SMOKE_A="ok: $(grep -c "Flags \[S\.\]" "$WORK/smoke_a.txt") SYN-ACKs $VIP.80 > random sources, checksums correct"
  else
    SMOKE_A="FAILED: $(head -4 "$WORK/smoke_a.txt" | tr '\n' ' ')"
  fi
}

run_a() { # run_a CASE RUN
  local c=$1 r=$2 cp sp counter_ns counter_if pid0 pid1 busy c0 c1 extra=-
  $CPUACCT quiet 15 "$QUIET_TIMEOUT" >/dev/null
  case $c in
    xsk_fwd)
      gw_kernel none
      ip netns exec $GW taskset -c "$DUT_CPU" "$BIN/xsk_fwd" -i ps-g0 -o ps-g1 -d $MAC_B0 -m native \
        -t $((D_A + 1)) >"$WORK/fwd.log" 2>&1 &
      cp=$!
      wait_ready "$WORK/fwd.log" || { kill $cp 2>/dev/null; return 1; }
      napi_threaded $GW ps-g0 "$DUT_CPU"
      counter_ns=$BE counter_if=ps-b0 ;;
    sluice)
      start_sluice || return 1
      counter_ns=$CLI counter_if=ps-c0 ;;
    nft_syn)
      start_nft
      counter_ns=$CLI counter_if=ps-c0 ;;
  esac
  ip netns exec $counter_ns "$BIN/xdpcnt" -i $counter_if -p xdp_drop_cnt -m native -t $((D_A + 1)) -q >"$WORK/count.log" 2>&1 &
  sp=$!
  wait_ready "$WORK/count.log" || { kill $sp 2>/dev/null; return 1; }
  napi_threaded $counter_ns $counter_if "$GEN_CPU"
  [ "$c" = sluice ] && { sleep 1.2; c0=$(counters); }
  pid0=$(cut -d' ' -f5 /proc/loadavg)
  $CPUACCT snap "$WORK/a.json"
  syn_flood "$D_A" 0 >"$WORK/gen.log" 2>&1
  $CPUACCT snap "$WORK/b.json"
  pid1=$(cut -d' ' -f5 /proc/loadavg)
  wait $sp
  case $c in
    xsk_fwd) wait $cp ;;
    sluice)
      sleep 1.2; c1=$(counters)
      extra="$(deltas "$c0" "$c1")"
      stop_sluice
      cat "$WORK/sluice.stats" >"$RES/synproxy-$STAMP-A-sluice-run$r.stats" 2>/dev/null ;;
    nft_syn) gw_kernel none ;;
  esac
  busy=$(acct "$WORK/a.json" "$WORK/b.json" "A $c run $r")
  row A "$c" syn_flood "$r" "$(field median_pps "$(grep SUMMARY "$WORK/count.log")")" - - - - \
    "$(field median_tx_pps "$(grep SUMMARY "$WORK/gen.log")")" $busy $((pid1 - pid0)) "$extra"
}

part_a() {
  up
  start_nginx
  local active=
  for c in $CASES_A; do
    if [ "$c" = sluice ]; then
      sluice_usable || { echo "part A: sluice skipped: $SLUICE_STATUS"; continue; }
      if start_sluice; then smoke_a; stop_sluice; else SMOKE_A="FAILED: sluice did not start"; fi
      echo "part A smoke (sluice): $SMOKE_A"
    fi
    active="$active $c"
  done
  for r in $(seq "$R_A"); do
    for c in $active; do
      over_time && { echo "time budget spent: part A stops at run $r" >&2; return; }
      for attempt in $(seq "$ATTEMPTS"); do
        run_a "$c" "$r" || { echo "A $c run $r: could not run" >&2; break; }
        contaminated "$(tail -1 "$TSV" | cut -f13)" "$(tail -1 "$TSV" | cut -f14)" || break
        echo "# A $c run $r attempt $attempt contaminated" >&2
      done
    done
  done
}

# ------------------------------------------------------------------ part B: flood survival
SMOKE_B=""
peer_up() { # fresh topology, nginx, the peer; one request through the VIP must work
  up
  start_nginx
  case $1 in
    sluice) sluice_usable && start_sluice || return 1 ;;
    nft_synproxy) start_nft ;;
    haproxy) start_haproxy ;;
  esac
  local answer
  answer=$(ip netns exec $CLI curl -s -m 3 http://$VIP/ 2>&1)
  SMOKE_B="$SMOKE_B $1: $( [ "${answer:0:2}" = ok ] && echo ok || echo "FAILED ($answer)");"
  [ "${answer:0:2}" = ok ]
}

peer_down() {
  case $1 in
    sluice) stop_sluice; cp "$WORK/sluice.log" "$RES/synproxy-$STAMP-B-sluice.log" 2>/dev/null
            cat "$WORK/sluice.stats" >>"$RES/synproxy-$STAMP-B-sluice.log" 2>/dev/null ;;
    haproxy) stop_haproxy ;;
  esac
}

run_b() { # run_b PEER TEST RUN
  local p=$1 t=$2 r=$3 gp= pid0 pid1 busy out extra=- s0 s1 flood_pps=-
  $CPUACCT quiet 15 "$QUIET_TIMEOUT" >/dev/null
  [ "$p" = nft_synproxy ] && ip netns exec $GW conntrack -F >/dev/null 2>&1
  [ "$p" = sluice ] && s0=$(counters)
  if [ "$t" != legit ]; then
    syn_flood $((LD + 2)) "$([ "$t" = flood_max ] && echo 0 || echo "${t#flood_}")" >"$WORK/flood.log" 2>&1 &
    gp=$!
    sleep 1
  fi
  pid0=$(cut -d' ' -f5 /proc/loadavg)
  $CPUACCT snap "$WORK/a.json"
  out=$(ip netns exec $CLI taskset -c "$GEN_CPU" "$BIN/tcpbench" -a $VIP -c 8 -k 1 -d "$LD" -T 3000)
  $CPUACCT snap "$WORK/b.json"
  pid1=$(cut -d' ' -f5 /proc/loadavg)
  if [ -n "$gp" ]; then
    wait $gp
    flood_pps=$(field median_tx_pps "$(grep SUMMARY "$WORK/flood.log")")
  fi
  busy=$(acct "$WORK/a.json" "$WORK/b.json" "B $p $t run $r")
  case $p in
    sluice)
      sleep 1.2
      s1=$(counters)
      extra="$(deltas "$s0" "$s1"),connections_now=$(sstat connections),lports_in_use=$(sstat local_ports_in_use),hold_full=$(sstat drop_hold_queue_full),table_full=$(sstat drop_connection_table_full)" ;;
    nft_synproxy) extra="conntrack_entries=$(ip netns exec $GW conntrack -C 2>/dev/null || echo -)" ;;
  esac
  row B "$p" "$t" "$r" "$(field rate "$out")" \
    "$(errors "$out")" \
    "$(field slow_ge_1s "$out")" "$(field p50_us "$out")" "$(field p99_us "$out")" "$flood_pps" $busy \
    $((pid1 - pid0)) "$extra"
  sleep 1   # let the flood's SYN-ACKs and the client's last RSTs drain
}

part_b() {
  for p in $PEERS; do
    over_time && { echo "time budget spent: part B stops before $p" >&2; return; }
    if ! peer_up "$p"; then echo "part B: $p skipped ($SLUICE_STATUS)" >&2; peer_down "$p"; continue; fi
    for r in $(seq "$R_B"); do
      for t in legit flood_max $(for n in $FLOOD_RATES; do echo "flood_$n"; done); do
        over_time && { echo "time budget spent: part B $p stops at run $r" >&2; break 2; }
        for attempt in $(seq "$ATTEMPTS"); do
          run_b "$p" "$t" "$r"
          contaminated "$(tail -1 "$TSV" | cut -f13)" "$(tail -1 "$TSV" | cut -f14)" || break
          echo "# B $p $t run $r attempt $attempt contaminated" >&2
        done
      done
    done
    peer_down "$p"
  done
  cp "$WORK/haproxy.log" "$RES/synproxy-$STAMP-B-haproxy.log" 2>/dev/null
}

for part in $PARTS; do
  case $part in A) part_a ;; B) part_b ;; esac
done
ELAPSED=$(( $(date +%s) - T0 ))

# ------------------------------------------------------------------ summary (markdown)
$PYTHON - "$TSV" "$MD" "$MAX_FOREIGN" "$MAX_NEW_PIDS" "$SLUICE_STATUS" "$SMOKE_A" "$SMOKE_B" "$STAMP" \
  "R_A=$R_A D_A=$D_A R_B=$R_B LD=$LD FLOOD_RATES=$FLOOD_RATES" "$ELAPSED" "$D_A" "$LD" <<'EOF'
import sys, statistics, platform, os
tsv, md, maxf, maxp, sluice_status, smoke_a, smoke_b, stamp, params, elapsed, d_a, ld = sys.argv[1:]
d_a, ld = float(d_a), float(ld)
rows = [l.rstrip("\n").split("\t") for l in open(tsv)][1:]
def num(x):
    try: return float(x)
    except (TypeError, ValueError): return None
def clean(part, case, test):
    best = {}
    for row in rows:
        if row[0] == part and row[1] == case and row[2] == test:
            best[row[3]] = row          # the last attempt of each run
    kept = {r: x for r, x in best.items()
            if num(x[12]) is not None and num(x[12]) <= float(maxf) and 0 <= int(x[13]) <= int(maxp)}
    return kept, len(best)
def spread(v, fmt="{:,.0f}"):
    v = [x for x in v if x is not None]
    if not v: return "–"
    return f"{fmt.format(statistics.median(v))} ({fmt.format(min(v))}–{fmt.format(max(v))})"
def extra(x, name):
    for kv in x[14].split(","):
        k, _, v = kv.partition("=")
        if k == name: return num(v)
    return None
cpu = ""
try:
    cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
except (OSError, IndexError):
    pass
out = [f"# SYNPROXY under load, {stamp} (UTC)\n",
       f"Machine: {platform.node()}, {os.cpu_count()} CPUs ({cpu}), kernel {platform.release()}. {params}. "
       f"Runs with foreign CPU > {maxf} % of one CPU or more than {maxp} processes created while they ran "
       f"are excluded. Whole script: {int(elapsed) // 60} min {int(elapsed) % 60} s. "
       "Cells: median (min–max) over the kept runs.\n"]
out.append("## A. SYN answering (xsk_gen -p syn -r flat out, 60-byte SYNs from random sources)\n")
out.append("| case | counted pps | counted where | runs kept / made | generator tx pps | CPU busy DUT / GEN % |")
out.append("|---|---|---|---|---|---|")
med = {}
where = {"xsk_fwd": "sink on ps-b0 (forwarded SYNs)", "sluice": "ps-c0 (SYN-ACKs)", "nft_syn": "ps-c0 (SYN-ACKs)"}
for case in ("xsk_fwd", "sluice", "nft_syn"):
    kept, made = clean("A", case, "syn_flood")
    if not made: continue
    v = [num(x[4]) or 0 for x in kept.values()]
    if v: med[case] = statistics.median(v)
    out.append(f"| {case} | {spread(v)} | {where[case]} | {len(kept)} / {made} | "
               f"{spread([num(x[9]) for x in kept.values()])} | "
               f"{spread([num(x[10]) for x in kept.values()], '{:.0f}')} / {spread([num(x[11]) for x in kept.values()], '{:.0f}')} |")
out.append("")
if "xsk_fwd" in med and med["xsk_fwd"] > 0:
    for case in ("sluice", "nft_syn"):
        if case in med:
            ratio = med[case] / med["xsk_fwd"]
            target = f" — target ≥ 0.9: **{'met' if ratio >= 0.9 else 'NOT met'}**" if case == "sluice" else ""
            out.append(f"- **{case} / xsk_fwd ceiling = {ratio:.2f}** (medians){target}")
kept, _ = clean("A", "sluice", "syn_flood")
if kept:
    rate = lambda n: spread([(extra(x, n) or 0) / d_a for x in kept.values()])
    out.append(f"- Sluice's own counters per second of flood: XDP steered to the socket {rate('xdp_redirected_vip')}, "
               f"received by Sluice {rate('received_external')}, cookie SYN-ACKs sent {rate('syn_proxy_cookies_sent')}; "
               "the first two differ by what the kernel dropped because the RX ring was full.")
out.append(f"- Smoke check (Sluice's SYN-ACKs captured at the client): {smoke_a}\n")

tests = sorted({r[2] for r in rows if r[0] == "B"},
               key=lambda t: (t != "legit", t != "flood_max", int(t[6:]) if t[6:].isdigit() else 0))
out.append("## B. Flood survival (tcpbench -c 8 -k 1 -T 3000, new connection per request)\n")
out.append("| peer | test | flood tx pps | legit conn/s | survival (flood ÷ no flood, per run) | errors (sum) | conns ≥ 1 s (sum) | p99 µs | CPU busy DUT / GEN % | runs kept / made |")
out.append("|---|---|---|---|---|---|---|---|---|---|")
survival, errors = {}, {}
for peer in ("sluice", "nft_synproxy", "haproxy"):
    base, _ = clean("B", peer, "legit")
    for test in tests:
        kept, made = clean("B", peer, test)
        if not made: continue
        v = [num(x[4]) or 0 for x in kept.values()]
        ratios = [num(x[4]) / num(base[r][4]) for r, x in kept.items()
                  if test != "legit" and r in base and num(base[r][4]) and num(x[4]) is not None]
        if ratios: survival[(peer, test)] = statistics.median(ratios)
        errors[(peer, test)] = sum(int(num(x[5]) or 0) for x in kept.values())
        out.append(f"| {peer} | {test} | {spread([num(x[9]) for x in kept.values()]) if test != 'legit' else '–'} | "
                   f"{spread(v)} | {spread(ratios, '{:.2f}') if test != 'legit' else '1'} | "
                   f"{errors[(peer, test)]} | {sum(int(num(x[6]) or 0) for x in kept.values())} | "
                   f"{spread([num(x[8]) for x in kept.values()])} | "
                   f"{spread([num(x[10]) for x in kept.values()], '{:.0f}')} / {spread([num(x[11]) for x in kept.values()], '{:.0f}')} | {len(kept)} / {made} |")
out.append("")
for test in tests:
    if test == "legit": continue
    if ("sluice", test) in survival:
        s, e = survival[("sluice", test)], errors[("sluice", test)]
        ok = s >= 0.8 and e == 0
        out.append(f"- Sluice {test}: survival {s:.2f}, {e} errors — target ≥ 0.8 with zero errors: **{'met' if ok else 'NOT met'}**")
    for peer in ("nft_synproxy", "haproxy"):
        if (peer, test) in survival:
            out.append(f"- {peer} {test}: survival {survival[(peer, test)]:.2f}, {errors[(peer, test)]} errors")
out.append("\nSluice's counters per second of the run (flood tests: the LD+2 s flood; legit: the LD s client):\n")
out.append("| test | XDP → socket (VIP) | received by Sluice | cookie SYN-ACKs | valid-cookie ACKs | handshakes with the RS |")
out.append("|---|---|---|---|---|---|")
for test in tests:
    kept, _ = clean("B", "sluice", test)
    if not kept: continue
    secs = ld if test == "legit" else ld + 2
    rate = lambda n: spread([(extra(x, n) or 0) / secs for x in kept.values()])
    out.append(f"| {test} | {rate('xdp_redirected_vip')} | {rate('received_external')} | {rate('syn_proxy_cookies_sent')} | "
               f"{rate('syn_proxy_acks_valid')} | {rate('syn_proxy_handshakes_completed')} |")
out.append(f"\nSmoke (one request through the VIP per peer):{smoke_b} Sluice: {sluice_status}.")
out.append("Per-run rows (with Sluice's counter deltas and nft's conntrack count in column `extra`): `"
           + os.path.basename(tsv) + "`; per-run CPU accounting: `" + os.path.basename(tsv).replace(".tsv", "-acct.log") + "`.")
open(md, "w").write("\n".join(out) + "\n")
print("\n".join(out))
EOF
