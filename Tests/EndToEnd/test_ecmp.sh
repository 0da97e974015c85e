#!/usr/bin/env bash
# test_ecmp.sh -- two gateways announce one VIP to an edge router over BGP; the edge spreads clients
# over them by ECMP, and each gateway withdraws its route when it should.
#
#   ec-cli --- ec-edge (BIRD, AS 65000, kernel ECMP) ---+--- ec-gwa (Sluice + BIRD, AS 65001) ---+--- ec-rs
#                                                       +--- ec-gwb (Sluice + BIRD, AS 65001) ---+    (nginx)
#
# Cross-VLAN and L3 only, like the lab: each gateway has its own links and LIPs; the real server routes
# each gateway's LIPs back to it. The gateways have IP forwarding off. Asserted on the edge's FIB
# (`ip route show VIP`): both up -> 2 next hops and 200 requests from many source ports all succeed
# through both gateways; `sluicectl drain on` on A -> 1 within 3 s and requests still succeed, off -> 2;
# A's service loses its quorum (its health checks are blocked by nftables in A only) -> 1; SIGSTOP on A
# -> withdrawn within 5 s by its guard, SIGCONT -> 2; SIGTERM on A -> withdrawn while A still forwards,
# and requests running across it all succeed; SIGKILL on B -> withdrawn within 5 s (the guard); both
# gone -> 0. And SYN cookies: a SYN the edge routes to A and its ACK routed to B open the connection
# on B (the gateways share synproxy.key_file).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd nginx curl bird birdc nft ethtool
require_sluice
SLUICECTL=${SLUICECTL:-$REPO_ROOT/.build/release/sluicectl}
[ -x "$SLUICECTL" ] || skip "no sluicectl binary at $SLUICECTL (make build)"
WORK=$(mktemp -d /tmp/sluice-ecmp.XXXXXX)
chmod 0755 "$WORK"
NAMESPACES="ec-cli ec-edge ec-gwa ec-gwb ec-rs"
VIP=203.0.113.50
RS=10.53.0.11
declare -A GW_EXT=([a]=10.51.1.2 [b]=10.51.2.2) EDGE_SIDE=([a]=10.51.1.1 [b]=10.51.2.1)
declare -A GW_INT=([a]=10.52.1.1 [b]=10.52.2.1) RS_SIDE=([a]=10.52.1.2 [b]=10.52.2.2)
declare -A LIP=([a]=10.54.1.240 [b]=10.54.2.240) PID=([a]="" [b]="")
COOKIE_PORT=40123

cleanup() {
    local ns pid
    for g in a b; do [ -n "${PID[$g]}" ] && kill -KILL "${PID[$g]}" 2>/dev/null; done
    for ns in $NAMESPACES; do
        [ -e "/run/netns/$ns" ] || continue
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    done
    sleep 0.3
    for ns in $NAMESPACES; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

link() { # NS1 IF1 ADDR1 NS2 IF2 ADDR2 (/30 or /24 given with the addresses)
    ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
    ip -n "$1" addr add "$3" dev "$2"
    ip -n "$4" addr add "$6" dev "$5"
    ip -n "$1" link set "$2" up
    ip -n "$4" link set "$5" up
    ip netns exec "$1" ethtool -K "$2" tx off >/dev/null
    ip netns exec "$4" ethtool -K "$5" tx off >/dev/null
}

topology() {
    local ns g
    for ns in $NAMESPACES; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
    done
    link ec-cli eth0 10.50.0.2/24 ec-edge c0 10.50.0.1/24
    ip -n ec-cli route add default via 10.50.0.1
    ip -n ec-rs addr add "$RS/32" dev lo
    for g in a b; do
        link ec-edge "g$g" "${EDGE_SIDE[$g]}/30" "ec-gw$g" ext0 "${GW_EXT[$g]}/30"
        link "ec-gw$g" int0 "${GW_INT[$g]}/30" ec-rs "r$g" "${RS_SIDE[$g]}/30"
        ip -n "ec-gw$g" route add "$RS/32" via "${RS_SIDE[$g]}"
        ip -n "ec-gw$g" route add default via "${EDGE_SIDE[$g]}"
        ip -n ec-rs route add "${LIP[$g]}/32" via "${GW_INT[$g]}"
        ip netns exec "ec-gw$g" sysctl -qw net.ipv4.ip_forward=0
    done
    ip netns exec ec-edge sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1
    ip netns exec ec-cli sysctl -qw net.ipv4.ip_forward=0
    mkdir -p "$WORK/rs"
    cat >"$WORK/rs/nginx.conf" <<NGINX
daemon on;
worker_processes 1;
pid $WORK/rs/nginx.pid;
error_log $WORK/rs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/rs/body;
    proxy_temp_path $WORK/rs/proxy;
    fastcgi_temp_path $WORK/rs/fastcgi;
    uwsgi_temp_path $WORK/rs/uwsgi;
    scgi_temp_path $WORK/rs/scgi;
    server {
        listen $RS:8080;
        location = /whoami { default_type text/plain; return 200 "rs \$remote_addr \$remote_port\n"; }
    }
}
NGINX
    ip netns exec ec-rs nginx -c "$WORK/rs/nginx.conf" -p "$WORK/rs"
}

edge_bird() {
    cat >"$WORK/edge.conf" <<BIRD
router id 10.50.0.1;
protocol device {}
protocol kernel { ipv4 { import none; export all; }; merge paths yes limit 16; }
template bgp gateways { local as 65000; hold time 6; keepalive time 2; connect retry time 1; ipv4 { import all; export none; }; }
protocol bgp gwa from gateways { neighbor ${GW_EXT[a]} as 65001; }
protocol bgp gwb from gateways { neighbor ${GW_EXT[b]} as 65001; }
BIRD
    ip netns exec ec-edge bird -c "$WORK/edge.conf" -s "$WORK/edge.ctl" -P "$WORK/edge.pid"
}

gateway_bird() { # G
    local g=$1
    : >"$WORK/vips-$g.conf"
    : >"$WORK/vips6-$g.conf"
    cat >"$WORK/bird-$g.conf" <<BIRD
router id ${GW_EXT[$g]};
protocol device {}
protocol static sluice_vips {
  ipv4;
include "$WORK/vips-$g.conf";
}
protocol bgp uplink {
  local ${GW_EXT[$g]} as 65001; neighbor ${EDGE_SIDE[$g]} as 65000; hold time 6; keepalive time 2;
  connect retry time 1;
  ipv4 { import none; export where proto = "sluice_vips"; next hop self; };
}
BIRD
    ip netns exec "ec-gw$g" bird -c "$WORK/bird-$g.conf" -s "$WORK/bird-$g.ctl" -P "$WORK/bird-$g.pid"
}

start_gateway() { # G
    local g=$1 i
    cat >"$WORK/sluice-$g.yaml" <<YAML
interfaces: { external: ext0, internal: int0 }
local_address_groups:
  lips: [${LIP[$g]}]
virtual_servers:
  - name: web
    vip: $VIP
    port: 80
    protocol: tcp
    scheduler: rr
    local_address_group: lips
    syn_proxy: true
    health_check: { type: tcp, interval: 500ms, timeout: 400ms, rise: 1, fall: 1 }
    real_servers:
      - { address: $RS, port: 8080 }
synproxy: { key_file: $WORK/cookie.key }
admin: { socket: $WORK/admin-$g.sock }
announce:
  method: bird
  bird:
    control_socket: $WORK/bird-$g.ctl
    include_file: $WORK/vips-$g.conf
    include_file6: $WORK/vips6-$g.conf
  shutdown_grace: 2s
YAML
    rm -f "$WORK/stats-$g"
    ip netns exec "ec-gw$g" "$SLUICE_BIN" run --config "$WORK/sluice-$g.yaml" --stats-file "$WORK/stats-$g" \
        >>"$WORK/sluice-$g.log" 2>&1 &
    PID[$g]=$!
    for ((i = 0; i < 100; i++)); do
        [ -s "$WORK/stats-$g" ] && return 0
        kill -0 "${PID[$g]}" 2>/dev/null || break
        sleep 0.1
    done
    sed 's/^/    | /' "$WORK/sluice-$g.log" >&2
    return 1
}

hops() { # the number of next hops the edge's kernel has for the VIP
    local route
    route=$(ip -n ec-edge route show "$VIP" 2>/dev/null)
    if [ -z "$route" ]; then echo 0; elif grep -q nexthop <<<"$route"; then grep -c nexthop <<<"$route"; else echo 1; fi
}
wait_hops() { # N SECONDS
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        [ "$(hops)" = "$1" ] && return 0
        sleep 0.1
    done
    echo "edge FIB: $(ip -n ec-edge route show "$VIP" | tr '\n' ' ')"
    return 1
}
forwarded() { stat_value "$WORK/stats-$1" forwarded_inbound; }
# requests N: N sequential requests from distinct source ports; prints "ok=N failed=N".
requests() {
    ip netns exec ec-cli python3 - "$VIP" "$1" <<'PY'
import socket, sys
vip, n = sys.argv[1], int(sys.argv[2])
ok = failed = 0
for _ in range(n):
    try:
        with socket.create_connection((vip, 80), timeout=3) as s:
            s.sendall(f"GET /whoami HTTP/1.0\r\nHost: {vip}\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(4096):
                data += chunk
        ok += data.startswith(b"HTTP/1.1 200")
        failed += not data.startswith(b"HTTP/1.1 200")
    except OSError:
        failed += 1
print(f"ok={ok} failed={failed}")
PY
}

topology || { fail "the ECMP topology comes up"; finish; }
head -c 32 /dev/urandom >"$WORK/cookie.key"
edge_bird || { fail "the edge's BIRD starts"; finish; }
for g in a b; do
    gateway_bird "$g" || { fail "gateway $g's BIRD starts"; finish; }
    if start_gateway "$g"; then pass "sluice runs on gateway $g"; else fail "sluice runs on gateway $g"; finish; fi
done

log_step "both gateways announce"
check "the edge has 2 next hops for the VIP" wait_hops 2 30
log "    edge: $(ip -n ec-edge route show "$VIP" | tr '\n' ' ')"
a0=$(forwarded a) b0=$(forwarded b)
out=$(requests 200)
sleep 1.2
log "    200 requests: $out; forwarded by A +$(($(forwarded a) - a0)), by B +$(($(forwarded b) - b0))"
check_eq "200 requests from many source ports all succeed" "ok=200 failed=0" "$out"
check "both gateways carried some of them" test "$(($(forwarded a) - a0))" -gt 0 -a "$(($(forwarded b) - b0))" -gt 0

log_step "a SYN answered by A, its ACK steered to B"
# The edge marks the client's packets from port $COOKIE_PORT: the SYN (SYN without ACK) is routed to A,
# everything after it to B, as an ECMP change between SYN and ACK would do.
ip netns exec ec-edge nft -f - <<NFT
table ip steer {
    chain pre {
        type filter hook prerouting priority mangle;
        ip daddr $VIP tcp sport $COOKIE_PORT tcp flags & (syn | ack) == syn meta mark set 1
        ip daddr $VIP tcp sport $COOKIE_PORT tcp flags & (syn | ack) != syn meta mark set 2
    }
}
NFT
ip -n ec-edge route add "$VIP/32" via "${GW_EXT[a]}" table 101
ip -n ec-edge route add "$VIP/32" via "${GW_EXT[b]}" table 102
ip -n ec-edge rule add fwmark 1 lookup 101 priority 100
ip -n ec-edge rule add fwmark 2 lookup 102 priority 101
cookies_a=$(stat_value "$WORK/stats-a" syn_proxy_cookies_sent) created_a=$(stat_value "$WORK/stats-a" connections_created)
completed_b=$(stat_value "$WORK/stats-b" syn_proxy_handshakes_completed)
reply=$(ip netns exec ec-cli curl -sS -m 5 --local-port "$COOKIE_PORT" "http://$VIP/whoami" 2>&1)
sleep 1.2  # the stats files are written every second
check "the client got its answer (rs saw B's LIP): $reply" grep -q "^rs ${LIP[b]} " <<<"$reply"
check "A answered the SYN with a cookie and opened nothing" \
    test "$(stat_value "$WORK/stats-a" syn_proxy_cookies_sent)" -gt "$cookies_a" \
    -a "$(stat_value "$WORK/stats-a" connections_created)" -eq "$created_a"
check "B completed the handshake with A's cookie" \
    test "$(stat_value "$WORK/stats-b" syn_proxy_handshakes_completed)" -gt "$completed_b"
ip -n ec-edge rule del fwmark 1 lookup 101 priority 100
ip -n ec-edge rule del fwmark 2 lookup 102 priority 101
ip netns exec ec-edge nft delete table ip steer

log_step "sluicectl drain on / off on A"
check "drain on (A)" "$SLUICECTL" --socket "$WORK/admin-a.sock" drain on
check "1 next hop within 3 s" wait_hops 1 3
check_eq "requests still succeed (all through B)" "ok=50 failed=0" "$(requests 50)"
check "drain off (A)" "$SLUICECTL" --socket "$WORK/admin-a.sock" drain off
check "2 next hops again" wait_hops 2 10

log_step "A's real server fails its checks (as seen from A only)"
check "nftables blocks A's health checks" ip netns exec ec-gwa nft -f - <<NFT
table inet block_checks {
    chain out {
        type filter hook output priority 0;
        ip daddr $RS tcp dport 8080 drop
    }
}
NFT
check "A withdraws on quorum loss: 1 next hop within 3 s" wait_hops 1 3
check_eq "requests still succeed through B" "ok=50 failed=0" "$(requests 50)"
ip netns exec ec-gwa nft delete table inet block_checks
check "A's checks pass again: 2 next hops" wait_hops 2 10

log_step "SIGSTOP on A (stopped, not dead): its guard withdraws"
kill -STOP "${PID[a]}"
check "1 next hop within 5 s of the stop" wait_hops 1 5
check_eq "requests still succeed through B" "ok=50 failed=0" "$(requests 50)"
kill -CONT "${PID[a]}"
check "SIGCONT: 2 next hops again within 5 s" wait_hops 2 5
check "A's log names the stall and the guard" grep -q "no beat for" "$WORK/sluice-a.log"

log_step "SIGTERM on A: withdrawn before its data plane stops"
requests 300 >"$WORK/during-shutdown.txt" &
during=$!
sleep 0.3
kill -TERM "${PID[a]}"
check "1 next hop within 2 s, while A still runs" wait_hops 1 2
check "A is still running (its shutdown grace)" kill -0 "${PID[a]}"
wait "$during"
check_eq "requests running across A's shutdown all succeed" "ok=300 failed=0" "$(cat "$WORK/during-shutdown.txt")"
wait "${PID[a]}"
check_eq "A exits 0" 0 "$?"
PID[a]=""
check_eq "requests succeed after A left" "ok=50 failed=0" "$(requests 50)"

log_step "SIGKILL on B: its guard withdraws"
kill -KILL "${PID[b]}"
wait "${PID[b]}" 2>/dev/null
PID[b]=""
check "0 next hops within 5 s of the crash" wait_hops 0 5
finish
