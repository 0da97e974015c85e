#!/usr/bin/env bash
# test_queues.sh -- every RX queue of a data-plane interface is served, or Sluice does not start; with
# several workers every connection works whichever queue its frames arrive on.
#
#   qa-cli eth0 --- ext0 [qa-gw] int0 --- eth0 qa-rs        every end created with 2 RX and 2 TX queues
#
#   1. native mode, 1 worker: refused, naming the interface, its 2 queues and both fixes;
#   2. native mode, 2 workers: starts and binds both queues; with `ntuple_rules: true` refused (veth has
#      no receive classification rules), naming the interface and the way out, with nothing left attached;
#   3. skb mode, 1 worker: starts (in generic mode every frame arrives on queue 0);
#   4. native mode, `workers` left out: one worker per RX queue (2), each pinned to a CPU of its own
#      (the machine has two). 2000 connections from the client to
#      nginx behind the VIP, all answered; frames arrived on both RX queues of both interfaces (the
#      veths' per-queue XDP redirect counts), so the workers handed frames to each other (hand_offs_sent
#      and hand_offs_received, equal), none was lost to a full ring and none reached the wrong worker;
#   5. `ethtool -L IF rx 1 tx 1` on every end (the fix the refusal names), native, 1 worker: starts.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd ethtool timeout nginx python3
require_sluice
WORK=$(mktemp -d /tmp/sluice-queues.XXXXXX)
NAMESPACES="qa-cli qa-gw qa-rs"
cleanup() {
    delete_namespaces $NAMESPACES
    rm -rf "$WORK"
}
trap cleanup EXIT

for ns in $NAMESPACES; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add ext0 netns qa-gw numrxqueues 2 numtxqueues 2 type veth peer name eth0 netns qa-cli \
    numrxqueues 2 numtxqueues 2
# Both interfaces get two queues: Sluice binds the same queues on each.
ip link add int0 netns qa-gw numrxqueues 2 numtxqueues 2 type veth peer name eth0 netns qa-rs \
    numrxqueues 2 numtxqueues 2
ip -n qa-gw addr add 10.60.0.1/24 dev ext0
ip -n qa-cli addr add 10.60.0.2/24 dev eth0
ip -n qa-gw addr add 10.61.0.1/24 dev int0
ip -n qa-rs addr add 10.61.0.2/24 dev eth0
for pair in "qa-gw ext0" "qa-gw int0" "qa-cli eth0" "qa-rs eth0"; do
    set -- $pair
    ip -n "$1" link set "$2" up
    ip netns exec "$1" ethtool -K "$2" tx off >/dev/null
done
ip netns exec qa-gw sysctl -qw net.ipv4.ip_forward=0
# The VIP and the LIP are nobody's address: routes send them to the gateway, which answers for them.
ip -n qa-cli route add 203.0.113.60/32 via 10.60.0.1
ip -n qa-rs route add 10.61.0.240/32 via 10.61.0.1

# write_config MODE [WORKERS [SETTING]]: the gateway's configuration ($WORK/sluice.yaml); without WORKERS
# the file leaves dataplane.workers out; SETTING is one more dataplane entry.
write_config() {
    cat >"$WORK/sluice.yaml" <<YAML
interfaces: { external: ext0, internal: int0, xdp_mode: $1 }
local_address_groups: { lips: [10.61.0.240] }
virtual_servers:
  - { name: web, vip: 203.0.113.60, port: 80, protocol: tcp, local_address_group: lips,
      real_servers: [{ address: 10.61.0.2, port: 8080 }] }
${2:+dataplane: { workers: $2${3:+, $3} \}}
admin: { socket: $WORK/admin.sock }
YAML
}

# run_sluice MODE WORKERS [SETTING]: runs sluice for up to 4 s; prints its exit code ("running" if it was still
# up, then stopped with SIGTERM) and keeps its output in $WORK/out.
run_sluice() {
    write_config "$1" "$2" "${3:-}"
    ip netns exec qa-gw "$SLUICE_BIN" run --config "$WORK/sluice.yaml" >"$WORK/out" 2>&1 &
    local pid=$! i
    for ((i = 0; i < 40; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        grep -q "data plane up" "$WORK/out" && break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        wait "$pid"
        echo "running"
    else
        wait "$pid"
        echo "$?"
        # Why it stopped, for a reader of the test's output.
        sed 's/^/    | /' "$WORK/out" >&2
    fi
    # A queue just released stays busy for about half a second.
    sleep 0.7
}

log_step "1. native mode, ext0 with 2 RX queues, 1 worker"
rc=$(run_sluice native 1)
check_eq "refused (exit 1)" 1 "$rc"
check "the refusal names the interface, its queues and the fixes" \
    grep -q "interface ext0 has 2 RX queues but Sluice binds 1 .*dataplane.workers: 2.*ethtool -L ext0 combined 1" \
    "$WORK/out"

log_step "2. native mode, 2 workers"
rc=$(run_sluice native 2)
check_eq "starts" running "$rc"
check "both queues bound" grep -q "native, 2 worker(s)" "$WORK/out"
rc=$(run_sluice native 2 "ntuple_rules: true")
check_eq "with ntuple_rules on veth: refused (exit 1)" 1 "$rc"
check "the refusal names the interface and the way out" \
    grep -q "ntuple rule.* on int0 failed.*ntuple_rules: false" "$WORK/out"
check "no XDP program left on either interface" \
    bash -c "! ip -n qa-gw link show ext0 | grep -q xdp && ! ip -n qa-gw link show int0 | grep -q xdp"

log_step "3. skb mode, 1 worker"
rc=$(run_sluice skb 1)
check_eq "starts (every frame arrives on queue 0)" running "$rc"

log_step "4. native mode, workers left out: one per RX queue; 2000 connections"
start_whoami_nginx qa-rs "$WORK/rs" 10.61.0.2:8080
# Per-queue XDP redirects of a gateway interface: "q0 q1".
redirects() {
    ip netns exec qa-gw ethtool -S "$1" | awk '/rx_queue_0_xdp_redirect/ { a = $2 } /rx_queue_1_xdp_redirect/ { b = $2 }
        END { print a + 0, b + 0 }'
}
write_config native
SLUICE_NS=qa-gw
if start_sluice "$WORK/sluice.yaml" "$WORK/run.log" "$WORK/run.stats"; then
    check "two workers, one per RX queue" grep -q "dataplane.workers not set: 2 workers for 2 RX queue(s)" "$WORK/run.log"
    check "both queues bound" grep -q "native, 2 worker(s)" "$WORK/run.log"
    # Each worker thread on a CPU of its own (the process may use all of this machine's).
    for w in 0 1; do
        tid=$(grep -lx "sluice-w$w" /proc/"$SLUICE_PID"/task/*/comm 2>/dev/null | head -1 | cut -d/ -f5)
        [ -n "$tid" ] || tid=$(for t in /proc/[0-9]*/task/*; do
            [ "$(cat "$t/comm" 2>/dev/null)" = "sluice-w$w" ] && basename "$t"; done | head -1)
        cpus=$(awk '/^Cpus_allowed_list/ { print $2 }' "/proc/$tid/status" 2>/dev/null)
        check_eq "worker $w pinned to CPU $w" "$w" "$cpus"
    done
    result=$(ip netns exec qa-cli python3 "$E2E_DIR/whoami_count.py" 203.0.113.60 80 2000)
    check_eq "2000 connections answered" "rs1=2000 rs2=0 rs3=0 failed=0" "$result"
    read -r ext0 ext1 <<<"$(redirects ext0)"
    read -r int0 int1 <<<"$(redirects int0)"
    log "    XDP redirects per queue: ext0 $ext0/$ext1, int0 $int0/$int1"
    check "client frames arrived on both queues" test "$ext0" -gt 500 -a "$ext1" -gt 500
    check "server replies arrived on both queues" test "$int0" -gt 500 -a "$int1" -gt 500
    sleep 1.2 # the stats file is written every second
    sent=$(stat_value "$WORK/run.stats" hand_offs_sent)
    received=$(stat_value "$WORK/run.stats" hand_offs_received)
    log "    hand-offs: sent ${sent:-none}, received ${received:-none}"
    check "frames were handed to their owner" test "${sent:-0}" -gt 1000
    check_eq "every hand-off was received" "$sent" "$received"
    check_eq "no hand-off lost to a full ring" 0 "$(stat_value "$WORK/run.stats" drop_hand_off_full)"
    check_eq "no frame at the wrong worker" 0 "$(stat_value "$WORK/run.stats" drop_wrong_worker)"
    stop_sluice
    check_eq "stops cleanly" 0 "$?"
else
    fail "sluice did not start with one worker per RX queue"
fi
kill "$(cat "$WORK/rs/nginx.pid")" 2>/dev/null
sleep 0.7 # a queue just released stays busy for about half a second

log_step "5. ethtool -L rx 1 tx 1 on both links, native mode, 1 worker"
# Both ends of both links: native XDP on veth wants at least as many RX queues as its peer's TX queues.
check "the interfaces take one queue" bash -c "ip netns exec qa-gw ethtool -L ext0 rx 1 tx 1 &&
    ip netns exec qa-gw ethtool -L int0 rx 1 tx 1 && ip netns exec qa-cli ethtool -L eth0 rx 1 tx 1 &&
    ip netns exec qa-rs ethtool -L eth0 rx 1 tx 1"
rc=$(run_sluice native 1)
check_eq "starts" running "$rc"
finish
