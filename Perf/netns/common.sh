# common.sh -- the parts of Perf/netns/*.sh that every netns benchmark shares, sourced by forwarding.sh,
# synproxy.sh and perf.sh: the measurement tools of Perf/lab built into a private folder, the
# three-namespace topology, the peers (nginx, nftables FULLNAT/synproxy, HAProxy, Sluice), the
# generators, one packet-rate run and one client run, CPU accounting and the contamination rule.
#
# Shaped as one sourced file of functions rather than a library script with its own main so that each
# benchmark keeps its own loop, TSV columns and summary (their result files stay comparable with earlier
# runs) while the topology, the peers and the measurement of a single run are written once.
#
#   NSP-cli                       NSP-gw (device under test)                       NSP-be
#   NSP-c0 10.210.1.2/24  <-->  NSP-g0 10.210.1.1/24
#   02:00:00:00:01:02            02:00:00:00:01:01
#                                NSP-g1 10.210.2.1/24  <-->  NSP-b0 10.210.2.2/24 (RIP; nginx :80, :81 PROXY)
#                                02:00:00:00:02:01           02:00:00:00:02:02
#   VIP 10.210.9.10 (NSP-cli routes it, and RIP's /24, via 10.210.1.1). LIP 10.210.2.100 and LIP2
#   10.210.2.101 on no interface (NSP-be has a /32 route to each via the gateway; LIP2 is used only by
#   the cases that need more than one LIP's 64 511 ports). NSP-gw's default route points back into NSP-cli,
#   which does not forward: replies to random flood sources die there. Every MAC is fixed and every
#   neighbour entry permanent, so no generator ARPs and an XDP_DROP counter cannot starve ARP; rp_filter
#   is off and ICMP redirects are off. Namespaces and interfaces carry the caller's prefix; no veth end
#   lies outside them, so nothing of the lab's traffic can reach the host's network.
#
# Gateway modes (gw_mode): none (Sluice / xsk_fwd: ip_forward=0, so whatever crosses NSP-gw was forwarded
# in user space; native XDP gives the veths NAPI kthreads, pinned to DUT_CPU), forward (route,
# nft FULLNAT: kernel forwarding, receive work by RPS on DUT_CPU), terminate (nft synproxy, HAProxy:
# forward plus the VIP on lo).
#
# CPU placement, which a 2-core machine makes essential: veth receive work runs as softirq on the CPU
# that sent the frame, so left alone the generator and the gateway would share a core and every figure
# would be meaningless. Hence: the gateway process and every kernel thread of NSP-g0/NSP-g1 on DUT_CPU
# (threaded NAPI, the kthread pinned, where native XDP gives the veth NAPI; RPS otherwise); generator,
# client, nginx, counters and the receive work of NSP-c0/NSP-b0 on GEN_CPU. DUT_CPU's busy share in
# /proc/stat is then the gateway's CPU use.
#
# NAPI deferral: NAPI_DEFER="HARD_IRQS TIMEOUT_NS" (default empty: none; perf.sh's *_defer peers set it)
# is written to the gateway veths' napi_defer_hard_irqs and gro_flush_timeout, the same for every peer.
# Sluice writes it itself (dataplane.napi_defer_hard_irqs, gro_flush_timeout); for xsk_fwd the lab does,
# and the kernel's own peers (route, nft, HAProxy) get GRO on those veths, which gives them a NAPI to
# defer, run as a pinned thread on DUT_CPU like Sluice's, instead of RPS. Without it every frame that
# finds a veth's NAPI idle wakes a thread or raises an IPI, which in this lab costs more than the
# gateways' own work; with it a frame that arrives during a deferral waits up to TIMEOUT_NS.
#
# The caller sets before sourcing: NSP (prefix, e.g. pp), LABBIN (where Perf/lab's tools are built),
# WORK (a private temp dir), RES (results dir), and optionally PERF_LAB (the tools' sources, default
# Perf/lab), SLUICE, SLUICE_SERVICES, SLUICE_SYN_PROXY, SLUICE_CLIENT_ADDRESS, SLUICE_ANSWER_IN_XDP,
# MAX_FOREIGN, MAX_NEW_PIDS, GEN_CPU (default 0), DUT_CPU (default 1), BPF_CLANG (a clang that knows
# -target bpf; Perf/lab/Makefile finds one), NET_QUEUES (default 1: every veth end is created with that
# many RX and TX queues; set_queues then chooses how many are in use).

CLI=$NSP-cli GW=$NSP-gw BE=$NSP-be
IF_C0=$NSP-c0 IF_G0=$NSP-g0 IF_G1=$NSP-g1 IF_B0=$NSP-b0
MAC_C0=02:00:00:00:01:02 MAC_G0=02:00:00:00:01:01
MAC_G1=02:00:00:00:02:01 MAC_B0=02:00:00:00:02:02
CIP=10.210.1.2 VIP=10.210.9.10 LIP=10.210.2.100 LIP2=10.210.2.101 RIP=10.210.2.2 UDP_PORT=9
GW_LIP=10.210.2.1   # the gateway's own backend-side address: the source the kernel peers and HAProxy use
MAX_FOREIGN=${MAX_FOREIGN:-10}
MAX_NEW_PIDS=${MAX_NEW_PIDS:-25}
# The system python: a pyenv shim on PATH runs dozens of shell processes per call, which the
# contamination check would count (and which cost CPU of their own).
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
GEN_CPU=${GEN_CPU:-0}   # generator, client, backend, counters
DUT_CPU=${DUT_CPU:-1}   # the device under test: the gateway and its interfaces' kernel work
NAPI_DEFER=${NAPI_DEFER:-}   # the gateway veths' NAPI deferral (above); empty: none
NGX_PID="" HAP_PID="" SLUICE_PID=""
NETNS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PERF_LAB=${PERF_LAB:-$(cd "$NETNS_DIR/../lab" && pwd)}

# ------------------------------------------------------------------ the lab's tools, built here
# lab_build: build Perf/lab (xsk_gen, xsk_fwd, xdpcnt, tcpbench, the XDP objects) into LABBIN, point
# cpuacct.py at our namespaces, and fill the peers' configuration templates (Perf/lab/conf) into WORK.
lab_build() {
  [ -f "$PERF_LAB/Makefile" ] || { echo "lab_build: no Makefile in $PERF_LAB (PERF_LAB)" >&2; exit 1; }
  make -s -C "$PERF_LAB" OUT="$LABBIN" CLIENT_IP="$CIP" >"$WORK/make.log" 2>&1 \
    || { cat "$WORK/make.log" >&2; echo "building the lab's tools (Perf/lab) failed" >&2; exit 1; }
  BIN=$LABBIN/bin
  CPUACCT="$PYTHON $PERF_LAB/cpuacct.py --netns-prefix $NSP"
  GEN_MASK=$(printf %x $((1 << GEN_CPU)))
  DUT_MASK=$(printf %x $((1 << DUT_CPU)))
  local f
  for f in nft_fullnat.nft nft_synproxy.nft nginx.conf haproxy.cfg; do
    sed -e "s|@VIP@|$VIP|g" -e "s|@RIP@|$RIP|g" -e "s|@GW_LIP@|$GW_LIP|g" -e "s|@IF_G1@|$IF_G1|g" \
      -e "s|@WORK@|$WORK|g" "$PERF_LAB/conf/$f" >"$WORK/$f"
    ! grep -q "@[A-Z_0-9]*@" "$WORK/$f" || { echo "$f: a placeholder was left unfilled" >&2; exit 1; }
  done
}

# napi_threaded NS IFACE CPU [CPU ...]: move the veth's NAPI polls into kernel threads of their own and pin
# them (a veth has NAPI only while a native XDP program is attached; one per RX queue). Otherwise its
# receive work runs as softirq on whichever CPU sent the frame. With one CPU every thread goes there;
# with several, the thread of RX queue i goes to the i-th (the last one for the rest). A thread is named
# napi/IFACE-<NAPI id>, and veth adds its queues' NAPIs in queue order, so the ids sort as the queues do
# (checked: a sender on TX queue 1 loaded the thread with the higher id; ps shows 15 characters of the
# name, enough while the prefix has two letters and the ids four digits).
napi_threaded() {
  local ns=$1 dev=$2 pid i=0
  shift 2
  local -a cpus=("$@")
  ip netns exec "$ns" sh -c "echo 1 > /sys/class/net/$dev/threaded" || { echo "napi_threaded: $dev refused" >&2; return 1; }
  sleep 0.2
  for pid in $(ps -eo pid=,comm= | awk -v p="napi/$dev-" 'index($2, p) == 1 {sub(".*-", "", $2); print $2, $1}' \
      | sort -n | awk '{print $2}'); do
    taskset -pc "${cpus[$((i < ${#cpus[@]} ? i : ${#cpus[@]} - 1))]}" "$pid" >/dev/null
    i=$((i + 1))
  done
}

# napi_defer NS IFACE: NAPI_DEFER on the veth (nothing when NAPI_DEFER is empty).
napi_defer() {
  [ -n "${NAPI_DEFER:-}" ] || return 0
  ip netns exec "$1" sh -c "echo ${NAPI_DEFER#* } > /sys/class/net/$2/gro_flush_timeout; \
    echo ${NAPI_DEFER% *} > /sys/class/net/$2/napi_defer_hard_irqs"
}

# rps NS IFACE HEXMASK: receive packet steering of the veth's RX queues to the CPUs of HEXMASK, for
# veths without NAPI (no XDP program, or generic XDP); 0 switches it off.
rps() { ip netns exec "$1" sh -c "for q in /sys/class/net/$2/queues/rx-*; do echo $3 > \$q/rps_cpus; done"; }

# wait_ready LOG: wait (at most 5 s) until a tool's log shows its READY line.
wait_ready() {
  local _
  for _ in $(seq 50); do
    grep -q "^READY" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "not ready after 5 s: $1" >&2
  tail -3 "$1" >&2 2>/dev/null
  return 1
}

# other_labs: namespaces not ours that have processes in them (an empty leftover namespace costs no CPU).
other_labs() {
  local ns
  for ns in $(ip netns list | awk '{print $1}' | grep -v "^$NSP-"); do
    [ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && printf "%s " "$ns"
  done
  true
}

# wait_other_ns SECONDS: two cores; another namespace lab running next to ours spoils both. Wait (bounded)
# until no other namespace has processes; 1 if one still has at the end. Negative: do not wait.
wait_other_ns() {
  local waited=0 others
  [ "$1" -lt 0 ] && return 0
  while others=$(other_labs) && [ -n "$others" ]; do
    [ "$waited" -ge "$1" ] && { echo "other network namespaces still present after ${1}s: $others" >&2; return 1; }
    [ "$waited" = 0 ] && echo "waiting for other namespaces to go: $others"
    sleep 10; waited=$((waited + 10))
  done
  return 0
}

# ------------------------------------------------------------------ topology
net_down() {
  local ns pid
  for ns in $CLI $GW $BE; do
    for pid in $(ip netns pids $ns 2>/dev/null); do kill "$pid" 2>/dev/null; done
  done
  sleep 0.3
  for ns in $CLI $GW $BE; do ip netns del $ns 2>/dev/null; done
  NGX_PID="" HAP_PID="" SLUICE_PID=""
  true
}

net_up() {
  net_down
  local ns i q=
  for ns in $CLI $GW $BE; do ip netns add $ns; ip -n $ns link set lo up; done
  # NET_QUEUES > 1: every end gets that many RX and TX queues (native XDP on a veth wants its peer's TX
  # queues no more than its own RX queues, so both ends alike); set_queues picks how many are used.
  [ "${NET_QUEUES:-1}" -gt 1 ] && q="numrxqueues $NET_QUEUES numtxqueues $NET_QUEUES"
  ip link add $IF_C0 netns $CLI address $MAC_C0 $q type veth peer name $IF_G0 netns $GW address $MAC_G0 $q
  ip link add $IF_G1 netns $GW address $MAC_G1 $q type veth peer name $IF_B0 netns $BE address $MAC_B0 $q
  CUR_QUEUES=${NET_QUEUES:-1}
  ip -n $CLI addr add $CIP/24 dev $IF_C0
  ip -n $GW addr add 10.210.1.1/24 dev $IF_G0
  ip -n $GW addr add $GW_LIP/24 dev $IF_G1
  ip -n $BE addr add $RIP/24 dev $IF_B0
  for i in "$CLI $IF_C0" "$GW $IF_G0" "$GW $IF_G1" "$BE $IF_B0"; do
    set -- $i
    # A kernel sender on veth hands out CHECKSUM_PARTIAL frames (pseudo-header sum only); an AF_XDP
    # reader gets them as they are. Every veth end computes its checksums, as Tests/EndToEnd/lab.sh does
    # (and as a NIC would deliver them), for every peer alike.
    ip netns exec $1 ethtool -K $2 tx off >/dev/null || { echo "ethtool -K $2 tx off failed" >&2; return 1; }
    ip -n $1 link set $2 up
  done
  ip -n $CLI route add 10.210.9.0/24 via 10.210.1.1
  ip -n $CLI route add 10.210.2.0/24 via 10.210.1.1   # the route peer: the client talks to RIP itself
  ip -n $BE route add default via 10.210.2.1
  # The LIP lies inside NSP-be's connected /24 but is on no interface: without this host route the backend
  # would ARP for it (nobody answers) instead of sending replies to the gateway.
  ip -n $BE route add $LIP/32 via 10.210.2.1
  ip -n $BE route add $LIP2/32 via 10.210.2.1
  ip -n $GW route add default via $CIP   # replies to random sources go back to NSP-cli and die there
  ip netns exec $GW sysctl -qw net.ipv4.ip_forward=0 net.ipv4.conf.all.send_redirects=0
  ip netns exec $CLI sysctl -qw net.ipv4.ip_forward=0 net.ipv4.tcp_syn_retries=2
  for ns in $CLI $GW $BE; do
    ip netns exec $ns sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
    ip netns exec $ns sysctl -qw net.ipv4.ip_local_port_range="1024 65000" net.ipv4.tcp_tw_reuse=1
    ip netns exec $ns sysctl -qw net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=4096
  done
  for i in $IF_G0 $IF_G1; do
    ip netns exec $GW sysctl -qw net.ipv4.conf.$i.rp_filter=0 net.ipv4.conf.$i.send_redirects=0
  done
  # Permanent neighbours: generators never ARP, XDP_DROP counters never answer ARP, and Sluice (which
  # mirrors the kernel's routes and neighbours) finds every next hop without a resolution round trip.
  ip -n $CLI neigh replace 10.210.1.1 lladdr $MAC_G0 dev $IF_C0 nud permanent
  ip -n $GW neigh replace $CIP lladdr $MAC_C0 dev $IF_G0 nud permanent
  ip -n $GW neigh replace $RIP lladdr $MAC_B0 dev $IF_G1 nud permanent
  ip -n $BE neigh replace 10.210.2.1 lladdr $MAC_G1 dev $IF_B0 nud permanent
  # Kernel receive work of the client and the backend on GEN_CPU (no XDP there: backlog + RPS).
  rps $CLI $IF_C0 "$GEN_MASK"; rps $BE $IF_B0 "$GEN_MASK"
}

# set_queues N: N RX and N TX queues in use on every veth end (ethtool -L; at most NET_QUEUES). Between
# runs only: with an XDP program attached the kernel may refuse. A veth frame arrives on the receiver's
# RX queue of the number of the sender's TX queue.
set_queues() {
  local n=$1 i
  [ "$n" = "${CUR_QUEUES:-1}" ] && return 0
  for i in "$CLI $IF_C0" "$GW $IF_G0" "$GW $IF_G1" "$BE $IF_B0"; do
    set -- $i
    ip netns exec $1 ethtool -L $2 rx $n tx $n || { echo "ethtool -L $2 rx $n tx $n failed" >&2; return 1; }
  done
  CUR_QUEUES=$n
  rps $CLI $IF_C0 "$GEN_MASK"; rps $BE $IF_B0 "$GEN_MASK"
}

# queue_redirects NS IFACE: the veth's per-RX-queue XDP redirect counts (ethtool -S
# rx_queue_N_xdp_redirect), "q0 q1 ..." in queue order.
queue_redirects() {
  ip netns exec "$1" ethtool -S "$2" 2>/dev/null | awk '$1 ~ /^rx_queue_[0-9]+_xdp_redirect:$/ {
    split($1, f, "_"); v[f[3]] = $2; if (f[3] + 1 > n) n = f[3] + 1 }
    END {for (i = 0; i < n; i++) printf "%s%s", (i ? " " : ""), v[i] + 0; print ""}'
}

# gw_mode none|forward|terminate (see the header).
gw_mode() {
  ip netns exec $GW nft delete table ip lab_lb 2>/dev/null
  local d
  if [ "$1" = none ]; then
    ip -n $GW addr del $VIP/32 dev lo 2>/dev/null
    ip netns exec $GW sysctl -qw net.ipv4.ip_forward=0
    rps $GW $IF_G0 0; rps $GW $IF_G1 0
    for d in $IF_G0 $IF_G1; do ip netns exec $GW ethtool -K $d gro off >/dev/null 2>&1; done
    return
  fi
  if [ "$1" = terminate ]; then ip -n $GW addr replace $VIP/32 dev lo; else ip -n $GW addr del $VIP/32 dev lo 2>/dev/null; fi
  ip netns exec $GW sysctl -qw net.ipv4.ip_forward=1
  if [ -n "${NAPI_DEFER:-}" ]; then
    # GRO gives the veths a NAPI for the kernel's path: threaded on DUT_CPU and deferred as Sluice's is.
    for d in $IF_G0 $IF_G1; do ip netns exec $GW ethtool -K $d gro on >/dev/null || echo "gw_mode: GRO on $d refused" >&2; done
    sleep 0.2
    napi_threaded $GW $IF_G0 "$DUT_CPU"; napi_threaded $GW $IF_G1 "$DUT_CPU"
    napi_defer $GW $IF_G0; napi_defer $GW $IF_G1
    rps $GW $IF_G0 0; rps $GW $IF_G1 0
  else
    rps $GW $IF_G0 "$DUT_MASK"; rps $GW $IF_G1 "$DUT_MASK"
  fi
}

# ------------------------------------------------------------------ peers
start_nginx() {
  ip netns exec $BE taskset -c "$GEN_CPU" nginx -c "$WORK/nginx.conf" >"$WORK/nginx.out" 2>&1 &
  NGX_PID=$!
  sleep 1
}

# start_nft fullnat|synproxy: Perf/lab/conf's ruleset in NSP-gw (synproxy: strict conntrack, VIP on lo).
start_nft() {
  if [ "$1" = synproxy ]; then gw_mode terminate; else gw_mode forward; fi
  ip netns exec $GW nft -f "$WORK/nft_$1.nft"
  [ "$1" = synproxy ] && ip netns exec $GW sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0
  true
}

start_haproxy() {
  gw_mode terminate
  ip netns exec $GW taskset -c "$DUT_CPU" haproxy -f "$WORK/haproxy.cfg" -db >>"$WORK/haproxy.log" 2>&1 &
  HAP_PID=$!
  sleep 1
}

stop_haproxy() {
  [ -n "$HAP_PID" ] || return 0
  kill "$HAP_PID" 2>/dev/null; wait "$HAP_PID" 2>/dev/null; HAP_PID=""
}

# ------------------------------------------------------------------ Sluice
# SLUICE_SERVICES: any of "udp" (VIP:9 -> RIP:9, the forwarding test) and "tcp" (VIP:80 -> RIP, the
# connection and SYN tests); SLUICE_SYN_PROXY true|false; SLUICE_CLIENT_ADDRESS none|proxy_protocol_v2
# (PROXY v2 goes to nginx's proxy_protocol listener on :81, as HAProxy's does); SLUICE_ANSWER_IN_XDP
# true|false writes synproxy.answer_in_xdp (empty: the key is left out, the binary's default applies);
# SLUICE_LIPS the local addresses ("$LIP", or "$LIP, $LIP2": a LIP's ports are unique per LIP, so one
# LIP holds at most 64 511 connections); SLUICE_CONN_CAPACITY dataplane.connection_capacity (65536);
# SLUICE_METRICS ADDRESS:PORT for metrics.listen (empty: no metrics endpoint). The admin API's socket is
# always $WORK/admin.sock (SLUICE_ADMIN_SOCKET), never the default /run/sluice/admin.sock, which another
# Sluice on the host (the e2e tests, a second lab) may hold.
SLUICE=${SLUICE:-$(dirname "$(dirname "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)")")/.build/release/sluice}
SLUICE_SERVICES=${SLUICE_SERVICES:-"udp tcp"}
SLUICE_SYN_PROXY=${SLUICE_SYN_PROXY:-true}
SLUICE_CLIENT_ADDRESS=${SLUICE_CLIENT_ADDRESS:-none}
SLUICE_ANSWER_IN_XDP=${SLUICE_ANSWER_IN_XDP:-}
SLUICE_LIPS=${SLUICE_LIPS:-$LIP}
SLUICE_CONN_CAPACITY=${SLUICE_CONN_CAPACITY:-65536}
SLUICE_METRICS=${SLUICE_METRICS:-}
SLUICE_ADMIN_SOCKET=$WORK/admin.sock
# SLUICE_WORKERS: dataplane.workers (1; empty: the key is left out, one worker per RX queue). With more
# than one, SLUICE_WORKER_CPUS ("0, 1": dataplane.cpus, worker i on the i-th) and SLUICE_PROCESS_CPUS
# (taskset of the process, "0,1") place them; SLUICE_NAPI_CPUS ("0 1": RX queue i's NAPI thread of both
# gateway veths on the i-th, see napi_threaded) places the kernel's receive work (default DUT_CPU).
SLUICE_WORKERS=${SLUICE_WORKERS-1}
# SLUICE_UDP_SOURCE_FLOW_LIMIT: dataplane.udp_source_flow_limit, 0 (no limit) by default. The lab's client
# is one address sending 4096 UDP flows, and the shipped default (1024 flows per client address and
# worker) would refuse three quarters of them (drop_udp_source_flow_limit): the forwarding cases would
# measure drops, not established flows. Random-source traffic (fill_table, floods) never comes near it.
SLUICE_UDP_SOURCE_FLOW_LIMIT=${SLUICE_UDP_SOURCE_FLOW_LIMIT:-0}

sluice_rs_port() { [ "$SLUICE_CLIENT_ADDRESS" = none ] && echo 80 || echo 81; }

sluice_config() {
  echo "# Generated by Perf/netns/common.sh"
  cat <<EOF
interfaces:
  external: $IF_G0
  internal: $IF_G1
  xdp_mode: native
local_address_groups:
  lips: [$SLUICE_LIPS]
virtual_servers:
EOF
  case " $SLUICE_SERVICES " in *" udp "*) cat <<EOF ;; esac
  - name: udp-sink
    vip: $VIP
    port: $UDP_PORT
    protocol: udp
    scheduler: rr
    local_address_group: lips
    real_servers:
      - { address: $RIP, port: $UDP_PORT, weight: 1 }
EOF
  case " $SLUICE_SERVICES " in *" tcp "*) cat <<EOF ;; esac
  - name: web
    vip: $VIP
    port: 80
    protocol: tcp
    scheduler: rr
    local_address_group: lips
    syn_proxy: $SLUICE_SYN_PROXY
    client_address: $SLUICE_CLIENT_ADDRESS
    real_servers:
      - { address: $RIP, port: $(sluice_rs_port), weight: 1 }
EOF
  cat <<EOF
dataplane:
${SLUICE_WORKERS:+  workers: $SLUICE_WORKERS}
  connection_capacity: $SLUICE_CONN_CAPACITY
  udp_source_flow_limit: $SLUICE_UDP_SOURCE_FLOW_LIMIT
${SLUICE_WORKER_CPUS:+  cpus: [$SLUICE_WORKER_CPUS]}
${NAPI_DEFER:+  napi_defer_hard_irqs: ${NAPI_DEFER% *}}
${NAPI_DEFER:+  gro_flush_timeout: ${NAPI_DEFER#* }}
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
  [ -n "$SLUICE_ANSWER_IN_XDP" ] && echo "  answer_in_xdp: $SLUICE_ANSWER_IN_XDP"
  echo "admin: { socket: $SLUICE_ADMIN_SOCKET }"
  [ -n "$SLUICE_METRICS" ] && echo "metrics: { listen: \"$SLUICE_METRICS\" }"
  true
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

# start_sluice: run it on DUT_CPU (or SLUICE_PROCESS_CPUS, with the workers pinned by dataplane.cpus) in
# NSP-gw, wait for its XDP program on both interfaces, pin the NAPI kthreads native XDP gave the two veths.
start_sluice() {
  gw_mode none
  rm -f "$WORK/sluice.stats"
  ip netns exec $GW taskset -c "${SLUICE_PROCESS_CPUS:-$DUT_CPU}" "$SLUICE" run --config "$WORK/sluice.yaml" \
    --stats-file "$WORK/sluice.stats" \
    >>"$WORK/sluice.log" 2>&1 &
  SLUICE_PID=$!
  local _
  for _ in $(seq 100); do
    kill -0 "$SLUICE_PID" 2>/dev/null || { echo "sluice exited:" >&2; tail -5 "$WORK/sluice.log" >&2; SLUICE_PID=; return 1; }
    if ip -n $GW link show $IF_G0 | grep -q "xdp" && ip -n $GW link show $IF_G1 | grep -q "xdp"; then
      sleep 1
      napi_threaded $GW $IF_G0 ${SLUICE_NAPI_CPUS:-$DUT_CPU}; napi_threaded $GW $IF_G1 ${SLUICE_NAPI_CPUS:-$DUT_CPU}
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
  local _
  for _ in $(seq 50); do kill -0 "$SLUICE_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SLUICE_PID" 2>/dev/null
  wait "$SLUICE_PID" 2>/dev/null
  SLUICE_PID=
}

# sstat NAME: a counter from Sluice's stats file (rewritten every second), 0 if absent.
sstat() { awk -v n="$1" '$1 == n {print $2; f = 1} END {if (!f) print 0}' "$WORK/sluice.stats" 2>/dev/null || echo 0; }

# Counters whose change over a run goes into an `extra` column: what the XDP program steered to the
# socket versus what Sluice received (the difference was lost in between: RX ring full), and what the
# SYN proxy did with it.
# xdp_syn_answered: SYNs the XDP program answered itself (XDP_TX; not in the other counters).
DELTAS="xdp_redirected_vip received_external syn_proxy_cookies_sent syn_proxy_acks_valid syn_proxy_handshakes_completed xdp_redirected_lip received_internal drop_tx_ring_full xdp_syn_answered xdp_syn_to_dataplane"
counters() { local n; for n in $DELTAS; do printf "%s " "$(sstat $n)"; done; }
deltas() { # deltas "BEFORE" "AFTER" -> name=after-before,...
  local -a a=($1) b=($2); local i=0 n out=
  for n in $DELTAS; do out="$out${out:+,}$n=$(( ${b[$i]:-0} - ${a[$i]:-0} ))"; i=$((i + 1)); done
  echo "$out"
}

# queue_deltas "BEFORE" "AFTER" NAME: per-queue differences of two queue_redirects readings as
# NAME_q0_xdp_redirect=..,NAME_q1_xdp_redirect=..
queue_deltas() {
  local -a a=($1) b=($2); local i out=
  for i in "${!b[@]}"; do out="$out${out:+,}$3_q${i}_xdp_redirect=$(( ${b[$i]} - ${a[$i]:-0} ))"; done
  echo "$out"
}

# ------------------------------------------------------------------ generators
# gen_udp SECONDS [RATE]: xsk_gen 60-byte UDP, 4096 source ports, CIP -> VIP:9, from NSP-c0 on GEN_CPU.
# GEN_QUEUES=N (default 1) runs N instances at once, instance i on NSP-c0's TX queue i (so on NSP-g0's RX
# queue i) and on the i-th CPU of GEN_QUEUE_CPUS (default: all on GEN_CPU), RATE split between them, their
# outputs one after the other. GEN_RSS=1: each sends only the flows an RSS NIC with N queues would put on
# its queue (xsk_gen -k), so the N of them send the 4096 flows between them; otherwise each sends all.
gen_udp() {
  local ropt= n=${GEN_QUEUES:-1} i kopt= pids=
  local -a cpus=(${GEN_QUEUE_CPUS:-$GEN_CPU})
  [ "${2:-0}" != 0 ] && ropt="-R $(( $2 / n ))"
  [ "${GEN_RSS:-0}" = 1 ] && [ "$n" -gt 1 ] && kopt="-k $n"
  for i in $(seq 0 $((n - 1))); do
    ip netns exec $CLI taskset -c "${cpus[$((i < ${#cpus[@]} ? i : ${#cpus[@]} - 1))]}" "$BIN/xsk_gen" \
      -i $IF_C0 -q "$i" $kopt -p udp -s $MAC_C0 -d $MAC_G0 -S $CIP -D $VIP -t "$1" $ropt >"$WORK/gen-q$i.out" 2>&1 &
    pids="$pids $!"
  done
  wait $pids
  for i in $(seq 0 $((n - 1))); do cat "$WORK/gen-q$i.out"; done
}

# syn_flood SECONDS RATE(0 = flat out) [TARGET]: xsk_gen random-source 60-byte SYNs to TARGET:80 (VIP),
# from NSP-c0, on FLOOD_CPU (default GEN_CPU).
syn_flood() {
  local ropt=
  [ "$2" != 0 ] && ropt="-R $2"
  ip netns exec $CLI taskset -c "${FLOOD_CPU:-$GEN_CPU}" "$BIN/xsk_gen" -i $IF_C0 -p syn -r -s $MAC_C0 -d $MAC_G0 \
    -D "${3:-$VIP}" -t "$1" $ropt
}

# fill_table N: open UDP connections through Sluice until its `connections` gauge reaches N: xsk_gen's
# random-source UDP (a new source address and port per frame, so nearly every frame is a new flow) to
# VIP:9 in 1 s rounds, each at the deficit plus 5 % (at most FILL_RATE, default 60000, frames/s) and with a
# seed of its own (-x: new sources, not the last round's again), at most FILL_ROUNDS (8) rounds, so the
# table ends a little above N. The flows are one-way UDP (udp_oneway, 300 s
# idle timeout by default), so they stay for the measurement. Sets PK_TABLE (the gauge at the end); 1 if
# N was not reached.
fill_table() {
  local want=$1 rate round
  PK_TABLE=$(sstat connections)
  for round in $(seq "${FILL_ROUNDS:-8}"); do
    [ "$PK_TABLE" -ge "$want" ] && return 0
    rate=$(( (want - PK_TABLE) * 105 / 100 + 500 ))
    [ "$rate" -gt "${FILL_RATE:-60000}" ] && rate=${FILL_RATE:-60000}
    ip netns exec $CLI taskset -c "$GEN_CPU" "$BIN/xsk_gen" -i $IF_C0 -p udp -r -x $((round + 1)) -s $MAC_C0 \
      -d $MAC_G0 -D $VIP -t 1 -R "$rate" >>"$WORK/fill.log" 2>&1
    sleep 1.2   # the stats file is rewritten every second
    PK_TABLE=$(sstat connections)
  done
  [ "$PK_TABLE" -ge "$want" ] || { echo "fill_table: $PK_TABLE connections, wanted $want" >&2; return 1; }
}

# admin_load_start / admin_load_stop: netns/admin_load.py in NSP-gw (the metrics endpoint listens on its
# loopback), pinned to GEN_CPU, scraping SLUICE_METRICS and listing ADMIN_ENTRIES (100000) connections
# through SLUICE_ADMIN_SOCKET in pages of 10000, alternately, until stopped. admin_load_stop sets
# PK_ADMIN ("scrapes=..,scrape_errors=..,listings=..,pages=..,list_errors=..,...": its SUMMARY line).
admin_load_start() {
  ip netns exec $GW taskset -c "$GEN_CPU" "$PYTHON" "$NETNS_DIR/admin_load.py" --socket "$SLUICE_ADMIN_SOCKET" \
    --metrics "$SLUICE_METRICS" --entries "${ADMIN_ENTRIES:-100000}" --limit 10000 >"$WORK/admin-load.log" 2>&1 &
  ADMIN_PID=$!
}
admin_load_stop() {
  [ -n "${ADMIN_PID:-}" ] || return 0
  kill -INT "$ADMIN_PID" 2>/dev/null; wait "$ADMIN_PID" 2>/dev/null; ADMIN_PID=
  PK_ADMIN=$(grep -m1 "^SUMMARY admin_load" "$WORK/admin-load.log" | cut -d' ' -f3- | tr ' ' ',')
  [ -n "$PK_ADMIN" ] || PK_ADMIN="admin_load_failed=1"
  grep -v "^SUMMARY" "$WORK/admin-load.log" | head -3 >&2
  true
}

# ------------------------------------------------------------------ accounting
field() { sed -n "s/.*[ ]$1=\([0-9.]*\).*/\1/p" <<<" $2" | head -1; }
errors() { # errors TCPBENCH_OUTPUT: refused/reset + timeouts + I/O errors + non-2xx (empty output: "-")
  local c t i h
  c=$(field err_conn "$1"); t=$(field err_timeout "$1"); i=$(field err_io "$1"); h=$(field err_status "$1")
  [ -n "$c$t$i$h" ] && echo $(( ${c:-0} + ${t:-0} + ${i:-0} + ${h:-0} )) || echo -
}
# contaminated FOREIGN_PCT NEW_PIDS: cpuacct.py only sees processes alive at both snapshots, so a build
# running next to us (many short compiler processes) can hide from it; the number of pids created
# during the run (ours: about 5) catches that.
contaminated() {
  awk -v f="$1" -v m="$MAX_FOREIGN" -v p="$2" -v pm="$MAX_NEW_PIDS" 'BEGIN{exit !(f == "" || f > m || p > pm || p < 0)}'
}
# acct_begin / acct_end [LOG LABEL]: snapshot around a run; acct_end sets ACCT="dut_busy gen_busy
# foreign_pct" and NEW_PIDS, and appends the full diff to LOG.
acct_begin() {
  PID0=$(cut -d' ' -f5 /proc/loadavg)
  $CPUACCT snap "$WORK/acct-a.json"
}
acct_end() {
  $CPUACCT snap "$WORK/acct-b.json"
  local pid1 d
  pid1=$(cut -d' ' -f5 /proc/loadavg)
  NEW_PIDS=$((pid1 - PID0))
  d=$($CPUACCT diff "$WORK/acct-a.json" "$WORK/acct-b.json")
  [ -n "${1:-}" ] && echo "$2 new_pids=$NEW_PIDS $d" >>"$1"
  ACCT=$($PYTHON -c "import json,sys;d=json.loads(sys.argv[1]);print(d['cpu$DUT_CPU']['busy'],d['cpu$GEN_CPU']['busy'],d['foreign_pct'])" "$d")
}

# ------------------------------------------------------------------ one packet-rate run
# packet_run GATEWAY TRAFFIC SECONDS [RATE] [ACCT_LOG LABEL]
#   GATEWAY xsk_fwd (Perf/lab's C AF_XDP forwarder: NSP-g0 -> MAC rewrite -> NSP-g1, the copy-mode
#           ceiling), sluice (`sluice run`, the services of SLUICE_SERVICES) or nft_syn (nftables synproxy)
#   TRAFFIC udp (xsk_gen UDP CIP:1024-5119 -> VIP:9) or syn (xsk_gen -p syn -r, random sources -> VIP:80)
# Counted by Perf/lab's xdpcnt (native XDP_DROP): at the sink NSP-b0 for what is forwarded, at the
# client NSP-c0 for SYN-ACKs (sluice/nft_syn answering syn). The counter is attached before the gateway
# starts and prints one sample per second; PK_COUNT is the median of the samples that lie wholly inside
# the generator's run (the one it started in is dropped). Sluice with udp first gets a 2 s warm-up at
# 20 kpps that opens all 4096 flows, so what is measured is established traffic. Sluice with syn and XDP
# answering on waits (up to 8 s) until its gauge xdp_syn_answering says the XDP path is live: it checks
# every 5 s that XDP_TX can reach the client veth, which needs the counter's XDP program there.
# PK_FILL=N (Sluice, udp): after that warm-up, fill_table N opens at least N more flows (the table the
# admin cases need); PK_ADMIN_LOAD=1: admin_load_start just before the generator, stopped right after it
# (the load covers the whole measured run). Both add to PK_EXTRA: table= (connections before the run),
# table_after=, and the admin load's SUMMARY fields.
# Sets PK_COUNT, PK_GEN_TX, PK_GEN_CPU (the generators' CPU seconds), ACCT, NEW_PIDS, PK_EXTRA (Sluice's
# counter deltas; with several queues also NSP-g0's XDP redirects per RX queue) and PK_WHERE; returns 1 if
# the run could not be made. Leaves the gateway stopped.
packet_run() {
  local gw=$1 traffic=$2 secs=$3 rate=${4:-0} fp= cp counter_ns=$BE counter_if=$IF_B0 c0= c1= q0= n0 n1 _
  PK_COUNT= PK_GEN_TX= PK_GEN_CPU= PK_EXTRA=- ACCT= NEW_PIDS= PK_TABLE= PK_ADMIN=
  [ "$gw" != xsk_fwd ] && [ "$traffic" = syn ] && counter_ns=$CLI counter_if=$IF_C0
  PK_WHERE=$counter_if
  ip netns exec $counter_ns "$BIN/xdpcnt" -i $counter_if -p xdp_drop_cnt -m native -t 0 >"$WORK/count.log" 2>&1 &
  cp=$!
  wait_ready "$WORK/count.log" || { kill $cp 2>/dev/null; return 1; }
  napi_threaded $counter_ns $counter_if ${COUNTER_NAPI_CPUS:-$GEN_CPU}
  case $gw in
    xsk_fwd)
      gw_mode none
      ip netns exec $GW taskset -c "$DUT_CPU" "$BIN/xsk_fwd" -i $IF_G0 -o $IF_G1 -d $MAC_B0 -m native \
        -t $((secs + 2)) >"$WORK/fwd.log" 2>&1 &
      fp=$!
      wait_ready "$WORK/fwd.log" || { kill $fp $cp 2>/dev/null; return 1; }
      napi_threaded $GW $IF_G0 "$DUT_CPU"; napi_defer $GW $IF_G0; napi_defer $GW $IF_G1 ;;
    sluice)
      start_sluice || { kill $cp 2>/dev/null; return 1; }
      [ "$traffic" = udp ] && gen_udp 2 20000 >"$WORK/warm.log" 2>&1
      [ "$traffic" = udp ] && [ "${PK_FILL:-0}" -gt 0 ] && { sleep 1.2; fill_table "$PK_FILL"; }
      if [ "$traffic" = syn ] && [ "$SLUICE_ANSWER_IN_XDP" != false ]; then
        for _ in $(seq 40); do [ "$(sstat xdp_syn_answering)" = 1 ] && break; sleep 0.2; done
      fi
      sleep 1.2; c0=$(counters); q0=$(queue_redirects $GW $IF_G0) ;;
    nft_syn)
      start_nft synproxy ;;
    *) echo "packet_run: unknown gateway $gw" >&2; kill $cp 2>/dev/null; return 1 ;;
  esac
  [ "$gw" = sluice ] && [ "${PK_ADMIN_LOAD:-0}" = 1 ] && { admin_load_start; sleep 0.5; }
  n0=$(grep -c " pps$" "$WORK/count.log")
  acct_begin
  if [ "$traffic" = udp ]; then gen_udp "$secs" "$rate"; else syn_flood "$secs" "$rate"; fi >"$WORK/gen.log" 2>&1
  acct_end "${5:-}" "${6:-}"
  admin_load_stop
  n1=$(grep -c " pps$" "$WORK/count.log")
  kill -INT $cp 2>/dev/null; wait $cp 2>/dev/null
  [ -n "$fp" ] && wait $fp
  if [ "$gw" = sluice ]; then
    sleep 1.2; c1=$(counters)
    PK_EXTRA="xdp_syn_answering=$(sstat xdp_syn_answering),$(deltas "$c0" "$c1")"
    [ "${CUR_QUEUES:-1}" -gt 1 ] && PK_EXTRA="$PK_EXTRA,$(queue_deltas "$q0" "$(queue_redirects $GW $IF_G0)" "${IF_G0}_rx")"
    [ -n "$PK_TABLE" ] && PK_EXTRA="$PK_EXTRA,table=$PK_TABLE,table_after=$(sstat connections)"
    [ -n "$PK_ADMIN" ] && PK_EXTRA="$PK_EXTRA,$PK_ADMIN"
    stop_sluice
  fi
  gw_mode none
  PK_COUNT=$(grep " pps$" "$WORK/count.log" | sed -n "$((n0 + 2)),${n1}p" | awk '{print $2}' | sort -g \
    | awk '{v[NR] = $1} END {if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
  # one SUMMARY line per generator instance (GEN_QUEUES): their rates and CPU seconds add up
  PK_GEN_TX=$(sed -n 's/^SUMMARY .* median_tx_pps=\([0-9.]*\).*/\1/p' "$WORK/gen.log" | awk '{s += $1; n++} END {if (n) print s}')
  PK_GEN_CPU=$(sed -n 's/^SUMMARY .* cpu_s=\([0-9.]*\).*/\1/p' "$WORK/gen.log" | awk '{s += $1; n++} END {if (n) print s}')
  return 0
}

# ------------------------------------------------------------------ one client run
# client_run TARGET TEST SECONDS [ACCT_LOG LABEL]
#   TEST cps (wrk -t1 -c32 -H 'Connection: close': new connections/s), rps (wrk -t1 -c32 keep-alive),
#        lat (tcpbench -c1 -k1: latency including connect), legit (tcpbench -c8 -k1 -T3000),
#        flood_max / flood_N (the same as legit, inside an xsk_gen random-source SYN flood at TARGET,
#        flat out or -R N, that starts 1 s before the client and ends 1 s after it)
# Sets CL_VALUE (conn/s or req/s), CL_ERR, CL_SLOW (>= 1 s), CL_P50, CL_P99 (µs; wrk: average latency in
# CL_P50), CL_FLOOD (achieved flood pps), ACCT, NEW_PIDS, CL_OUT (the client's output).
client_run() {
  local target=$1 t=$2 secs=$3 gp= out
  CL_VALUE= CL_ERR=- CL_SLOW=- CL_P50=- CL_P99=- CL_FLOOD=- ACCT= NEW_PIDS=
  case $t in
    flood_*)
      syn_flood $((secs + 2)) "$([ "$t" = flood_max ] && echo 0 || echo "${t#flood_}")" "$target" >"$WORK/flood.log" 2>&1 &
      gp=$!
      sleep 1 ;;
  esac
  acct_begin
  case $t in
    cps) out=$(ip netns exec $CLI taskset -c "$GEN_CPU" wrk -t1 -c32 -d"${secs}s" -H 'Connection: close' "http://$target/" 2>&1) ;;
    rps) out=$(ip netns exec $CLI taskset -c "$GEN_CPU" wrk -t1 -c32 -d"${secs}s" "http://$target/" 2>&1) ;;
    lat) out=$(ip netns exec $CLI taskset -c "$GEN_CPU" "$BIN/tcpbench" -a "$target" -c 1 -k 1 -d "$secs" -T 3000) ;;
    *) out=$(ip netns exec $CLI taskset -c "$GEN_CPU" "$BIN/tcpbench" -a "$target" -c 8 -k 1 -d "$secs" -T 3000) ;;
  esac
  acct_end "${4:-}" "${5:-}"
  CL_OUT=$out
  if [ -n "$gp" ]; then
    wait $gp
    CL_FLOOD=$(field median_tx_pps "$(grep SUMMARY "$WORK/flood.log")")
  fi
  case $t in
    cps|rps)
      CL_VALUE=$(awk '/Requests\/sec/{print $2}' <<<"$out")
      local e n2
      e=$(awk '/Socket errors/{gsub(",","");print $4+$6+$8+$10}' <<<"$out")
      n2=$(awk '/Non-2xx/{print $5}' <<<"$out")
      CL_ERR=$(( ${e:-0} + ${n2:-0} ))
      CL_P50=$(awk '$1=="Latency"{v=$2; if (v ~ /ms$/) {sub("ms","",v); v*=1000} else if (v ~ /us$/) {sub("us","",v)} else if (v ~ /s$/) {sub("s","",v); v*=1e6}; print v}' <<<"$out") ;;
    *)
      CL_VALUE=$(field rate "$out")
      CL_ERR=$(errors "$out")
      CL_SLOW=$(field slow_ge_1s "$out")
      CL_P50=$(field p50_us "$out")
      CL_P99=$(field p99_us "$out") ;;
  esac
  [ -n "$CL_VALUE" ]
}
