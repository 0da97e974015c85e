#!/usr/bin/env bash
# test_fragments.sh -- fragmented UDP through Sluice (docs/protocol.md §3 "Fragments"), both families:
#
#   fr-cli eth0 10.71.0.2 fd00:71::2 --- ext0 10.71.0.1 fd00:71::1  [fr-gw: Sluice, forwarding off]
#                                       int0 10.72.0.1 fd00:72::1 --- eth0 10.72.0.2 fd00:72::2  fr-rs
#
#   VIPs 203.0.113.71, fd00:203::71 (routed by fr-cli to ext0); LIPs 10.73.0.240, fd00:73::240 (routed by
#   fr-rs to int0); every link has a 1500-byte MTU; a UDP echo on fr-rs:9000 (udp_fragments.py).
#
# 1. 4000-byte datagrams from a UDP socket to each VIP: the client's kernel fragments them in order,
#    Sluice forwards the fragments to the echo, whose 4000-byte answers (fragmented by its kernel) come
#    back through Sluice; every answer carries the bytes sent (SHA-256 compared);
# 2. the same with fragments built by hand and sent last first (AF_PACKET), so the later fragments reach
#    Sluice before their first and wait in its hold;
# 3. the counters say so: first and later fragments forwarded, fragments released from the hold, none
#    expired, the XDP program's redirected_fragment; the echo saw only the LIPs, 4000 bytes each time.
#
# Every veth has two queues and Sluice runs in native mode with its default of one worker per RX queue:
# fragments of one datagram reach either worker (a veth delivers on the sender's transmit queue), first
# fragments are handed to their connection's owner, later ones are forwarded wherever they arrive
# through the shared fragment table (QUEUES=1 runs the same with one worker).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd ethtool python3
require_sluice
WORK=$(mktemp -d /tmp/sluice-fragments.XXXXXX)
NAMESPACES="fr-cli fr-gw fr-rs"
VIP4=203.0.113.71 VIP6=fd00:203::71 LIP4=10.73.0.240 LIP6=fd00:73::240
CLIENT4=10.71.0.2 CLIENT6=fd00:71::2 PORT=9000 SIZE=4000 COUNT=${COUNT:-5}
SLUICE_PID=""
cleanup() {
    [ -n "$SLUICE_PID" ] && kill -TERM "$SLUICE_PID" 2>/dev/null && wait "$SLUICE_PID" 2>/dev/null
    delete_namespaces $NAMESPACES
    rm -rf "$WORK"
}
trap cleanup EXIT

# The topology. Every veth end sends full checksums and no TSO frames (docs/afxdp.md §4).
for ns in $NAMESPACES; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
done
QUEUES=${QUEUES:-2}
ip link add ext0 netns fr-gw numrxqueues "$QUEUES" numtxqueues "$QUEUES" type veth peer name eth0 netns fr-cli \
    numrxqueues "$QUEUES" numtxqueues "$QUEUES"
ip link add int0 netns fr-gw numrxqueues "$QUEUES" numtxqueues "$QUEUES" type veth peer name eth0 netns fr-rs \
    numrxqueues "$QUEUES" numtxqueues "$QUEUES"
ip -n fr-cli addr add "$CLIENT4/24" dev eth0
ip -n fr-cli addr add "$CLIENT6/64" dev eth0 nodad
ip -n fr-gw addr add 10.71.0.1/24 dev ext0
ip -n fr-gw addr add fd00:71::1/64 dev ext0 nodad
ip -n fr-gw addr add 10.72.0.1/24 dev int0
ip -n fr-gw addr add fd00:72::1/64 dev int0 nodad
ip -n fr-rs addr add 10.72.0.2/24 dev eth0
ip -n fr-rs addr add fd00:72::2/64 dev eth0 nodad
for pair in "fr-gw ext0" "fr-gw int0" "fr-cli eth0" "fr-rs eth0"; do
    set -- $pair
    ip -n "$1" link set "$2" mtu 1500 up
    ip netns exec "$1" ethtool -K "$2" tx off >/dev/null
done
ip -n fr-cli route add 203.0.113.0/24 via 10.71.0.1
ip -n fr-cli -6 route add fd00:203::/64 via fd00:71::1
ip -n fr-rs route add 10.73.0.0/24 via 10.72.0.1
ip -n fr-rs -6 route add fd00:73::/64 via fd00:72::1
ip netns exec fr-gw sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
check_eq "fr-gw forwards nothing by itself" "0 0" \
    "$(ip netns exec fr-gw sysctl -n net.ipv4.ip_forward) $(ip netns exec fr-gw sysctl -n net.ipv6.conf.all.forwarding)"

# The echo, and the gateway's neighbour entries for the client and the server (Sluice mirrors them).
ip netns exec fr-rs setsid python3 "$E2E_DIR/udp_fragments.py" echo "$PORT" "$WORK/echo.log" \
    >"$WORK/echo.out" 2>&1 </dev/null &
disown  # killed with its namespace at the end; no job report
wait_for_port fr-rs "$PORT" udp || { fail "the echo listens"; finish; }
for target in 10.71.0.2 fd00:71::2 10.72.0.2 fd00:72::2; do
    for _ in $(seq 30); do
        ip netns exec fr-gw bash -c "echo x >/dev/udp/$target/9" 2>/dev/null
        ip -n fr-gw neigh show "$target" | grep -q lladdr && break
        sleep 0.1
    done
done

cat >"$WORK/sluice.yaml" <<YAML
interfaces: { external: ext0, internal: int0, xdp_mode: native }
local_address_groups: { lips4: [$LIP4], lips6: ["$LIP6"] }
virtual_servers:
  - { name: echo4, vip: $VIP4, port: $PORT, protocol: udp, local_address_group: lips4,
      real_servers: [{ address: 10.72.0.2, port: $PORT }] }
  - { name: echo6, vip: "$VIP6", port: $PORT, protocol: udp, local_address_group: lips6,
      real_servers: [{ address: "fd00:72::2", port: $PORT }] }
admin: { socket: $WORK/admin.sock }
YAML
STATS="$WORK/sluice.stats"
ip netns exec fr-gw "$SLUICE_BIN" run --config "$WORK/sluice.yaml" --stats-file "$STATS" >"$WORK/sluice.log" 2>&1 &
SLUICE_PID=$!
if wait_for_file "$STATS" 10; then
    pass "sluice run starts"
else
    fail "sluice run starts"
    sed 's/^/    | /' "$WORK/sluice.log"
    finish
fi

# run_client NAME ARGS...: one client run in fr-cli, recorded as a check (its output shown when it fails).
run_client() {
    local name=$1
    shift
    check "$name" ip netns exec fr-cli python3 "$E2E_DIR/udp_fragments.py" "$@"
}

gateway_mac=$(ip netns exec fr-gw cat /sys/class/net/ext0/address)
for vip in "$VIP4" "$VIP6"; do
    if [ "$vip" = "$VIP4" ]; then label=IPv4 client=$CLIENT4; else label=IPv6 client=$CLIENT6; fi
    run_client "$label: $COUNT datagrams of $SIZE bytes, fragmented in order, echoed intact" \
        send "$vip" "$PORT" "$SIZE" "$COUNT"
    run_client "$label: $COUNT datagrams of $SIZE bytes, fragments sent last first, echoed intact" \
        reverse eth0 "$gateway_mac" "$client" "$vip" "$PORT" "$SIZE" "$COUNT"
done

# The stats file is rewritten every second: wait for one written after the traffic.
sleep 1.5
counter() { stat_value "$STATS" "$1"; }
expected=$((4 * COUNT))
check "every datagram's first fragment was forwarded both ways ($((2 * expected)))" \
    test "$(counter first_fragments_forwarded)" -ge "$((2 * expected))"
check "their later fragments were forwarded with the same rewrite ($((4 * expected)) or more)" \
    test "$(counter later_fragments_forwarded)" -ge "$((4 * expected))"
check "the fragments sent before their first were held and released ($((4 * COUNT)))" \
    test "$(counter fragments_released)" -ge "$((4 * COUNT))"
check_eq "no held fragment expired" 0 "$(counter drop_fragment_hold_expired)"
check_eq "no fragment found the hold or the table full" "0 0" \
    "$(counter drop_fragment_hold_full) $(counter drop_fragment_table_full)"
check "the XDP program steered the fragments to the workers" test "$(counter xdp_redirected_fragment)" -gt 0
log "    first $(counter first_fragments_forwarded), later $(counter later_fragments_forwarded)," \
    "held $(counter drop_fragment_held), released $(counter fragments_released)," \
    "xdp redirected $(counter xdp_redirected_fragment), passed $(counter xdp_passed_fragment)"
if [ "$QUEUES" -gt 1 ]; then
    check "one worker per RX queue ($QUEUES)" grep -q "native, $QUEUES worker(s)" "$WORK/sluice.log"
    check "first fragments were handed to their connection's owner" test "$(counter hand_offs_sent)" -gt 0
    check_eq "no frame at the wrong worker" 0 "$(counter drop_wrong_worker)"
    log "    hand-offs $(counter hand_offs_sent)"
fi
check "the echo saw only the LIPs, $SIZE bytes each time ($expected datagrams)" \
    bash -c "[ \$(wc -l <'$WORK/echo.log') -eq $expected ] &&
        awk '(\$1 != \"$LIP4\" && \$1 != \"$LIP6\") || \$3 != $SIZE { exit 1 }' '$WORK/echo.log'"

kill -TERM "$SLUICE_PID" 2>/dev/null
if wait "$SLUICE_PID"; then pass "sluice exits 0 on SIGTERM"; else fail "sluice exits 0 on SIGTERM"; fi
SLUICE_PID=""
check_eq "no XDP program left on fr-gw's interfaces" "" "$(xdp_attached fr-gw)"
finish
