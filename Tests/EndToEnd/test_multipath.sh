#!/usr/bin/env bash
# test_multipath.sh -- a multipath route on the internal side spreads connections over its next hops,
# as the kernel would, one next hop per connection (docs/design.md §1, NetworkView.swift).
#
#   mp-cli eth0 --- ext0 [mp-gw] int0 --- br0 [mp-sw] --- r1 (10.71.0.2) --- br1 [mp-sw] --- mp-rs
#                                                     \--- r2 (10.71.0.3) ---/
#
#   mp-gw: ip route 10.72.0.0/24 nexthop via 10.71.0.2 nexthop via 10.71.0.3 (ip_forward=0: only Sluice
#   forwards); r1 and r2 are routers (namespaces mp-r1, mp-r2) between the gateway's link and the real
#   server's. 400 connections to nginx behind the VIP: every one answered, both routers carried a good
#   share of them, and each connection's frames kept to one router (tcpdump on both routers: no local
#   port seen at both).
# Then `interfaces.route_table`: with the gateway's routes moved to table 100 (as a VRF or ip rules
# would keep them) and none to the servers left in main, Sluice configured for table 100 still reaches
# the server, and configured for main it does not.
# Then ip rules, with no route_table in the configuration: `ip rule add from 10.71.0.0/24 lookup 100`
# (the LIPs' prefix) sends the translated packets to the server through table 100, as the kernel would
# route a FULLNAT gateway's output; after `ip rule del` they have no route (none in main), and once the
# rule is back they get through again: one Sluice process throughout, following the rules at run time.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd ethtool nginx python3 tcpdump
require_sluice
WORK=$(mktemp -d /tmp/sluice-multipath.XXXXXX)
NAMESPACES="mp-cli mp-gw mp-sw mp-r1 mp-r2 mp-rs"
cleanup() {
    [ -n "${SLUICE_PID:-}" ] && stop_sluice >/dev/null 2>&1
    delete_namespaces $NAMESPACES
    rm -rf "$WORK"
}
trap cleanup EXIT

for ns in $NAMESPACES; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
# link NS1 IF1 NS2 IF2: a veth pair, both ends up, transmit checksums filled in.
link() {
    ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
    ip -n "$1" link set "$2" up
    ip -n "$3" link set "$4" up
    ip netns exec "$1" ethtool -K "$2" tx off >/dev/null
    ip netns exec "$3" ethtool -K "$4" tx off >/dev/null
}
link mp-cli eth0 mp-gw ext0
link mp-gw int0 mp-sw gw
link mp-r1 up0 mp-sw r1a
link mp-r2 up0 mp-sw r2a
link mp-r1 down0 mp-sw r1b
link mp-r2 down0 mp-sw r2b
link mp-rs eth0 mp-sw rs
ip -n mp-sw link add br0 type bridge
ip -n mp-sw link add br1 type bridge
for port in gw r1a r2a; do ip -n mp-sw link set "$port" master br0; done
for port in r1b r2b rs; do ip -n mp-sw link set "$port" master br1; done
ip -n mp-sw link set br0 up
ip -n mp-sw link set br1 up

ip -n mp-cli addr add 10.70.0.2/24 dev eth0
ip -n mp-cli route add 203.0.113.70/32 via 10.70.0.1
ip -n mp-gw addr add 10.70.0.1/24 dev ext0
ip -n mp-gw addr add 10.71.0.1/24 dev int0
ip -n mp-gw route add 10.72.0.0/24 nexthop via 10.71.0.2 nexthop via 10.71.0.3
ip netns exec mp-gw sysctl -qw net.ipv4.ip_forward=0
for r in 1 2; do
    ip -n "mp-r$r" addr add "10.71.0.$((r + 1))/24" dev up0
    ip -n "mp-r$r" addr add "10.72.0.$((r + 1))/24" dev down0
    ip -n "mp-r$r" route add 10.71.0.240/32 via 10.71.0.1
    ip netns exec "mp-r$r" sysctl -qw net.ipv4.ip_forward=1
done
ip -n mp-rs addr add 10.72.0.10/24 dev eth0
ip -n mp-rs route add default via 10.72.0.2

cat >"$WORK/sluice.yaml" <<YAML
interfaces: { external: ext0, internal: int0 }
local_address_groups: { lips: [10.71.0.240] }
virtual_servers:
  - { name: web, vip: 203.0.113.70, port: 80, protocol: tcp, local_address_group: lips,
      real_servers: [{ address: 10.72.0.10, port: 8080 }] }
admin: { socket: $WORK/admin.sock }
YAML
start_whoami_nginx mp-rs "$WORK/rs" 10.72.0.10:8080
# Every frame towards the real server, as each router receives it from the gateway's link.
for r in 1 2; do
    ip netns exec "mp-r$r" tcpdump -i up0 -nn -l --immediate-mode -w "$WORK/r$r.pcap" \
        'tcp and dst host 10.72.0.10' 2>/dev/null &
done
sleep 1

log_step "400 connections through a two-way multipath route"
SLUICE_NS=mp-gw
if start_sluice "$WORK/sluice.yaml" "$WORK/sluice.log" "$WORK/sluice.stats"; then
    result=$(ip netns exec mp-cli python3 "$E2E_DIR/whoami_count.py" 203.0.113.70 80 400)
    check_eq "every connection answered" "rs1=400 rs2=0 rs3=0 failed=0" "$result"
    stop_sluice
    check_eq "stops cleanly" 0 "$?"
else
    fail "sluice did not start"
fi
sleep 1
for r in 1 2; do
    pkill -INT -f "tcpdump -i up0 -nn -l --immediate-mode -w $WORK/r$r.pcap"
done
sleep 1
# ports PCAP: the distinct LIP ports of its frames, one per line (a LIP port is one connection here).
ports() { tcpdump -nn -r "$1" 2>/dev/null | awk '{ n = split($3, a, "."); print a[n] }' | sort -u; }
ports "$WORK/r1.pcap" >"$WORK/r1.ports"
ports "$WORK/r2.pcap" >"$WORK/r2.ports"
through1=$(wc -l <"$WORK/r1.ports")
through2=$(wc -l <"$WORK/r2.ports")
log "    connections through r1: $through1, through r2: $through2"
check "both routers carried connections (each at least a quarter)" test "$through1" -ge 100 -a "$through2" -ge 100
check_eq "each connection's frames through one router (no port at both)" 0 \
    "$(comm -12 "$WORK/r1.ports" "$WORK/r2.ports" | wc -l)"
check "(nearly) every connection seen (tcpdump may miss a few)" test "$((through1 + through2))" -ge 390

log_step "routes from table 100 (interfaces.route_table)"
ip -n mp-gw route add table 100 10.70.0.0/24 dev ext0
ip -n mp-gw route add table 100 10.71.0.0/24 dev int0
ip -n mp-gw route add table 100 10.72.0.0/24 nexthop via 10.71.0.2 nexthop via 10.71.0.3
ip -n mp-gw route del 10.72.0.0/24
# run_table TABLE: 50 connections through Sluice routing by TABLE; prints whoami_count.py's line.
run_table() {
    sed "s/^interfaces: .*/interfaces: { external: ext0, internal: int0, route_table: $1 }/" \
        "$WORK/sluice.yaml" >"$WORK/table.yaml"
    if start_sluice "$WORK/table.yaml" "$WORK/table-$1.log" "$WORK/table-$1.stats"; then
        ip netns exec mp-cli python3 "$E2E_DIR/whoami_count.py" 203.0.113.70 80 50 1
        stop_sluice
    fi
    sleep 0.7 # a queue just released stays busy for about half a second
}
check_eq "route_table: 100 reaches the server" "rs1=50 rs2=0 rs3=0 failed=0" "$(run_table 100)"
check_eq "route_table: 254 (main) has no route to it" "rs1=0 rs2=0 rs3=0 failed=50" "$(run_table 254)"
check "the data plane said why: no route" test "$(stat_value "$WORK/table-254.stats" drop_no_route)" -gt 0

log_step "ip rules pick table 100 for the LIPs' packets (no route_table), followed at run time"
ip -n mp-gw rule add from 10.71.0.0/24 lookup 100 priority 100
# count N: N connections through the running Sluice; prints whoami_count.py's line.
count() { ip netns exec mp-cli python3 "$E2E_DIR/whoami_count.py" 203.0.113.70 80 "$1" 1; }
if start_sluice "$WORK/sluice.yaml" "$WORK/rules.log" "$WORK/rules.stats"; then
    check_eq "from the LIPs lookup 100: the server is reached" "rs1=30 rs2=0 rs3=0 failed=0" "$(count 30)"
    ip -n mp-gw rule del from 10.71.0.0/24 lookup 100 priority 100
    sleep 1 # the mirror publishes a rule change within milliseconds; a second is ample
    check_eq "rule deleted: no route in main, every connection fails" "rs1=0 rs2=0 rs3=0 failed=10" "$(count 10)"
    sleep 1.2 # the stats file is rewritten every second
    check "the data plane said why: no route" test "$(stat_value "$WORK/rules.stats" drop_no_route)" -gt 0
    ip -n mp-gw rule add from 10.71.0.0/24 lookup 100 priority 100
    sleep 1
    check_eq "rule added back: the server is reached again" "rs1=30 rs2=0 rs3=0 failed=0" "$(count 30)"
    stop_sluice
    check_eq "stops cleanly" 0 "$?"
else
    fail "sluice did not start"
fi
finish
