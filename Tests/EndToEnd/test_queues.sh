#!/usr/bin/env bash
# test_queues.sh -- every RX queue of a data-plane interface is served, or Sluice does not start.
#
#   qa-cli eth0 --- ext0 [qa-gw] int0 --- eth0 qa-rs        every end created with 2 RX and 2 TX queues
#
#   1. native mode, 1 worker: refused, naming the interface, its 2 queues and both fixes;
#   2. native mode, 2 workers: starts and binds both queues;
#   3. skb mode, 1 worker: starts (in generic mode every frame arrives on queue 0);
#   4. `ethtool -L IF rx 1 tx 1` on every end (the fix the refusal names), native, 1 worker: starts.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd ethtool timeout
require_sluice
WORK=$(mktemp -d /tmp/sluice-queues.XXXXXX)
NAMESPACES="qa-cli qa-gw qa-rs"
cleanup() {
    local ns pid
    for ns in $NAMESPACES; do
        [ -e "/run/netns/$ns" ] || continue
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
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

# run_sluice MODE WORKERS: runs sluice for up to 4 s; prints its exit code ("running" if it was still
# up, then stopped with SIGTERM) and keeps its output in $WORK/out.
run_sluice() {
    cat >"$WORK/sluice.yaml" <<YAML
interfaces: { external: ext0, internal: int0, xdp_mode: $1 }
local_address_groups: { lips: [10.61.0.240] }
virtual_servers:
  - { name: web, vip: 203.0.113.60, port: 80, protocol: tcp, local_address_group: lips,
      real_servers: [{ address: 10.61.0.2, port: 8080 }] }
dataplane: { workers: $2 }
admin: { socket: $WORK/admin.sock }
YAML
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

log_step "3. skb mode, 1 worker"
rc=$(run_sluice skb 1)
check_eq "starts (every frame arrives on queue 0)" running "$rc"

log_step "4. ethtool -L rx 1 tx 1 on both links, native mode, 1 worker"
# Both ends of both links: native XDP on veth wants at least as many RX queues as its peer's TX queues.
check "the interfaces take one queue" bash -c "ip netns exec qa-gw ethtool -L ext0 rx 1 tx 1 &&
    ip netns exec qa-gw ethtool -L int0 rx 1 tx 1 && ip netns exec qa-cli ethtool -L eth0 rx 1 tx 1 &&
    ip netns exec qa-rs ethtool -L eth0 rx 1 tx 1"
rc=$(run_sluice native 1)
check_eq "starts" running "$rc"
finish
