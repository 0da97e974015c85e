#!/usr/bin/env bash
# test_sync.sh -- connection sync: no transfer breaks when a gateway dies, is stopped or is drained.
#
#   ec-cli --- ec-edge (BIRD, ECMP) ---+--- ec-gwa (Sluice + BIRD) ---+--- ec-rs (BIRD, nginx)
#                                      +--- ec-gwb (Sluice + BIRD) ---+
#                                            gwa sy0 --- gwb sy0 (the sync link)
#
# Each gateway announces the VIP to the edge and its LIP to ec-rs over BGP (one include file; BIRD's
# filters split them by prefix), and sends its connection events to the other (sync: on the sync link,
# a shared key). ec-rs routes each LIP as BGP says: when a gateway dies, the other adopts its LIP and
# announces it, so the real server's replies follow. The gateways have IP forwarding off.
#   1. 20 rate-limited 20 MB downloads and 20 uploads (about 10 s each); half way the gateway carrying
#      most of them is SIGKILLed: every transfer completes with its sha256 intact; the survivor logged
#      the peer lost and installed the peer's connections beforehand.
#   2. A new batch through the survivor alone; the killed gateway restarts half way: it gets the
#      survivor's table by bulk sync, the edge spreads the flows over both again, and every transfer
#      completes intact (the restarted gateway carries flows it learned by sync).
#   3. The same with SIGTERM (graceful stop: the peer is told and takes the LIP over at once).
#   4. The same with `sluicectl drain on`: the VIP is withdrawn but the LIP kept.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd nginx curl bird birdc ethtool sha256sum
require_sluice
SLUICECTL=${SLUICECTL:-$REPO_ROOT/.build/release/sluicectl}
[ -x "$SLUICECTL" ] || skip "no sluicectl binary at $SLUICECTL (make build)"
WORK=$(mktemp -d /tmp/sluice-sync.XXXXXX)
chmod 0755 "$WORK"
NAMESPACES="ec-cli ec-edge ec-gwa ec-gwb ec-rs"
VIP=203.0.113.50
RS=10.53.0.11
TRANSFERS=${SYNC_TRANSFERS:-20}
SIZE_MB=${SYNC_SIZE_MB:-20}
RATE=${SYNC_RATE:-2m}
declare -A GW_EXT=([a]=10.51.1.2 [b]=10.51.2.2) EDGE_SIDE=([a]=10.51.1.1 [b]=10.51.2.1)
declare -A GW_INT=([a]=10.52.1.1 [b]=10.52.2.1) RS_SIDE=([a]=10.52.1.2 [b]=10.52.2.2)
declare -A LIP=([a]=10.54.1.240 [b]=10.54.2.240) SYNC=([a]=10.99.0.1 [b]=10.99.0.2) PID=([a]="" [b]="")
declare -A OTHER=([a]=b [b]=a)

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

link() { # NS1 IF1 ADDR1 NS2 IF2 ADDR2
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
    link ec-gwa sy0 "${SYNC[a]}/30" ec-gwb sy0 "${SYNC[b]}/30"
    for g in a b; do
        link ec-edge "g$g" "${EDGE_SIDE[$g]}/30" "ec-gw$g" ext0 "${GW_EXT[$g]}/30"
        link "ec-gw$g" int0 "${GW_INT[$g]}/30" ec-rs "r$g" "${RS_SIDE[$g]}/30"
        ip -n "ec-gw$g" route add "$RS/32" via "${RS_SIDE[$g]}"
        ip -n "ec-gw$g" route add default via "${EDGE_SIDE[$g]}"
        ip netns exec "ec-gw$g" sysctl -qw net.ipv4.ip_forward=0
    done
    ip netns exec ec-edge sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1
    ip netns exec ec-rs sysctl -qw net.ipv4.ip_forward=0 net.ipv4.fib_multipath_hash_policy=1
    ip netns exec ec-cli sysctl -qw net.ipv4.ip_forward=0
    mkdir -p "$WORK/rs/www/upload" "$WORK/files"
    head -c $((SIZE_MB << 20)) /dev/urandom >"$WORK/rs/www/big"
    head -c $((SIZE_MB << 20)) /dev/urandom >"$WORK/files/up"
    chmod -R a+rwX "$WORK/rs"
    cat >"$WORK/rs/nginx.conf" <<NGINX
daemon on;
worker_processes 1;
user root;
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
        root $WORK/rs/www;
        location = /whoami { default_type text/plain; return 200 "rs \$remote_addr \$remote_port\n"; }
        location = /big { limit_rate $RATE; }
        location /upload/ { dav_methods PUT; client_max_body_size 0; create_full_put_path on; }
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

# The real server's router: learns each LIP from the gateway that announces it.
rs_bird() {
    cat >"$WORK/rs-bird.conf" <<BIRD
router id ${RS_SIDE[a]};
protocol device {}
protocol kernel { ipv4 { import none; export all; }; merge paths yes limit 16; }
template bgp gateways { local as 65002; hold time 6; keepalive time 2; connect retry time 1; ipv4 { import all; export none; }; }
protocol bgp gwa from gateways { neighbor ${GW_INT[a]} as 65001; }
protocol bgp gwb from gateways { neighbor ${GW_INT[b]} as 65001; }
BIRD
    ip netns exec ec-rs bird -c "$WORK/rs-bird.conf" -s "$WORK/rs-bird.ctl" -P "$WORK/rs-bird.pid"
}

gateway_bird() { # G
    local g=$1
    : >"$WORK/routes-$g.conf"
    : >"$WORK/routes6-$g.conf"
    cat >"$WORK/bird-$g.conf" <<BIRD
router id ${GW_EXT[$g]};
protocol device {}
protocol static sluice {
  ipv4;
include "$WORK/routes-$g.conf";
}
protocol bgp uplink {
  local ${GW_EXT[$g]} as 65001; neighbor ${EDGE_SIDE[$g]} as 65000; hold time 6; keepalive time 2;
  connect retry time 1;
  ipv4 { import none; export where proto = "sluice" && net = $VIP/32; next hop self; };
}
protocol bgp downlink {
  local ${GW_INT[$g]} as 65001; neighbor ${RS_SIDE[$g]} as 65002; hold time 6; keepalive time 2;
  connect retry time 1;
  ipv4 { import none; export where proto = "sluice" && net ~ [ 10.54.0.0/16+ ]; next hop self; };
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
    include_file: $WORK/routes-$g.conf
    include_file6: $WORK/routes6-$g.conf
  shutdown_grace: 2s
sync:
  listen: "${SYNC[$g]}:8848"
  peers: ["${SYNC[${OTHER[$g]}]}:8848"]
  key_file: $WORK/sync.key
  refresh: 2s
  dead_after: 2s
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

hops() { # NS PREFIX: how many next hops NS's kernel has for PREFIX
    local route
    route=$(ip -n "$1" route show "$2" 2>/dev/null)
    if [ -z "$route" ]; then echo 0; elif grep -q nexthop <<<"$route"; then grep -c nexthop <<<"$route"; else echo 1; fi
}
wait_route() { # NS PREFIX N SECONDS
    local i
    for ((i = 0; i < $4 * 10; i++)); do
        [ "$(hops "$1" "$2")" = "$3" ] && return 0
        sleep 0.1
    done
    echo "$1: $(ip -n "$1" route show "$2" | tr '\n' ' ')"
    return 1
}
counter() { local v; v=$(stat_value "$WORK/stats-$1" "$2" 2>/dev/null); echo "${v:-0}"; }
# log_count FILE PATTERN: lines matching so far.
log_count() { grep -Ec -- "$2" "$1" 2>/dev/null || true; }
# wait_more FILE PATTERN BEFORE SECONDS: until more than BEFORE lines match.
wait_more() {
    local i
    for ((i = 0; i < $4 * 10; i++)); do
        [ "$(log_count "$1" "$2")" -gt "$3" ] && return 0
        sleep 0.1
    done
    return 1
}
# wait_counter G NAME SECONDS: until gateway G's counter NAME is above 0.
wait_counter() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        [ "$(counter "$1" "$2")" -gt 0 ] && return 0
        sleep 0.1
    done
    return 1
}

# Starts TRANSFERS downloads and TRANSFERS uploads in the background, tagged BATCH.
start_transfers() { # BATCH
    local batch=$1 i
    mkdir -p "$WORK/out/$batch"
    for ((i = 0; i < TRANSFERS; i++)); do
        ip netns exec ec-cli curl -sS -m 120 -o "$WORK/out/$batch/down-$i" "http://$VIP/big" \
            >"$WORK/out/$batch/down-$i.log" 2>&1 &
        ip netns exec ec-cli curl -sS -m 120 --limit-rate "$RATE" -T "$WORK/files/up" \
            "http://$VIP/upload/$batch-$i" >"$WORK/out/$batch/up-$i.log" 2>&1 &
    done
}
# Waits for every transfer of BATCH and checks each file's sha256.
check_transfers() { # BATCH
    local batch=$1 i good=0 bad="" want_down want_up
    wait_for_curls
    want_down=$(sha256sum <"$WORK/rs/www/big" | cut -d' ' -f1)
    want_up=$(sha256sum <"$WORK/files/up" | cut -d' ' -f1)
    for ((i = 0; i < TRANSFERS; i++)); do
        if [ "$(sha256sum "$WORK/out/$batch/down-$i" 2>/dev/null | cut -d' ' -f1)" = "$want_down" ]; then
            good=$((good + 1))
        else
            bad="$bad down-$i($(head -c 200 "$WORK/out/$batch/down-$i.log" | tr '\n' ' '))"
        fi
        if [ "$(sha256sum "$WORK/rs/www/upload/$batch-$i" 2>/dev/null | cut -d' ' -f1)" = "$want_up" ]; then
            good=$((good + 1))
        else
            bad="$bad up-$i($(head -c 200 "$WORK/out/$batch/up-$i.log" | tr '\n' ' '))"
        fi
    done
    if [ -n "$bad" ]; then
        log "    broken:$bad"
        # What the gateways saw, for a failure read from CI's output alone.
        for g in a b; do
            log "    gateway $g: $(grep -E '^(connections|forwarded_inbound|forwarded_outbound|sync_[a-z_]*|drop_[a-z_]*) ' \
                "$WORK/stats-$g" 2>/dev/null | awk '$2 != 0' | tr '\n' ' ')"
            grep -E "event=(sync|drain|vip_|announce)" "$WORK/sluice-$g.log" | tail -8 | sed "s/^/    $g| /"
            "$SLUICECTL" --socket "$WORK/admin-$g.sock" connections 2>&1 | head -50 | sed "s/^/    $g> /"
        done
        log "    ec-rs: $(ip -n ec-rs route show | grep 10.54 | tr '\n' ' ')"
    fi
    check_eq "all $((2 * TRANSFERS)) transfers of batch $batch completed with their sha256 intact" \
        "$((2 * TRANSFERS))" "$good"
}
wait_for_curls() {
    local i
    for ((i = 0; i < 1300; i++)); do
        pgrep -f "curl -sS -m 120" >/dev/null || return 0
        sleep 0.1
    done
}
# The gateway forwarding more client packets now (each table also holds the other's connections).
busier() {
    local a0 b0 a b
    a0=$(counter a forwarded_inbound) b0=$(counter b forwarded_inbound)
    sleep 1.2
    a=$(($(counter a forwarded_inbound) - a0)) b=$(($(counter b forwarded_inbound) - b0))
    log "    client packets forwarded in the last second: A $a, B $b" >&2
    if [ "$a" -ge "$b" ]; then echo a; else echo b; fi
}

topology || { fail "the topology comes up"; finish; }
head -c 32 /dev/urandom >"$WORK/cookie.key"
head -c 32 /dev/urandom >"$WORK/sync.key"
edge_bird || { fail "the edge's BIRD starts"; finish; }
rs_bird || { fail "ec-rs's BIRD starts"; finish; }
for g in a b; do
    gateway_bird "$g" || { fail "gateway $g's BIRD starts"; finish; }
    if start_gateway "$g"; then pass "sluice runs on gateway $g with sync"; else fail "sluice runs on gateway $g"; finish; fi
done

log_step "both gateways announce their VIP to the edge and their LIP to the real server's router"
check "the edge has 2 next hops for the VIP" wait_route ec-edge "$VIP" 2 30
check "ec-rs routes A's LIP" wait_route ec-rs "${LIP[a]}" 1 15
check "ec-rs routes B's LIP" wait_route ec-rs "${LIP[b]}" 1 15
check "the peers hear each other" wait_for_log "$WORK/sluice-a.log" "event=sync_started" 5
check_eq "a request works" "" "$(ip netns exec ec-cli curl -fsS -m 5 -o /dev/null "http://$VIP/whoami" 2>&1)"

log_step "1. $TRANSFERS downloads and $TRANSFERS uploads of $SIZE_MB MB at $RATE/s; SIGKILL the busier gateway"
start_transfers 1
sleep 4
victim=$(busier)
survivor=${OTHER[$victim]}
installed=$(counter "$survivor" sync_entries_installed)
log "    killing $victim"
check "the survivor holds the victim's connections by sync ($installed installed)" test "$installed" -gt 0
lost=$(log_count "$WORK/sluice-$survivor.log" "event=sync_peer_lost")
kill -KILL "${PID[$victim]}"
wait "${PID[$victim]}" 2>/dev/null
PID[$victim]=""
check "the survivor adopts the victim's LIP" wait_more "$WORK/sluice-$survivor.log" "event=sync_peer_lost" "$lost" 10
check "ec-rs routes the victim's LIP to the survivor" wait_route ec-rs "${LIP[$victim]}" 1 10
listing=$("$SLUICECTL" --socket "$WORK/admin-$survivor.sock" sync 2>&1)
log "$(sed 's/^/    /' <<<"$listing")"
check "sluicectl sync on the survivor: the peer dead, its LIP answered here" \
    grep -Eq "^${SYNC[$victim]}:8848 +dead .*${LIP[$victim]} \(answered here\)" <<<"$listing"
check_transfers 1
log "    survivor: sync_entries_installed $(counter "$survivor" sync_entries_installed), forwarded_outbound $(counter "$survivor" forwarded_outbound)"

log_step "2. a batch through $survivor alone; $victim restarts half way and gets the table by bulk sync"
start_transfers 2
sleep 3
bulk=$(log_count "$WORK/sluice-$survivor.log" "event=sync_bulk_sent")
back=$(log_count "$WORK/sluice-$survivor.log" "event=sync_peer_back")
if start_gateway "$victim"; then pass "$victim restarts"; else fail "$victim restarts"; fi
check "the survivor sent its table to $victim" wait_more "$WORK/sluice-$survivor.log" "event=sync_bulk_sent" "$bulk" 10
check "$victim installed it" wait_counter "$victim" sync_entries_installed 5
check "the edge has 2 next hops again" wait_route ec-edge "$VIP" 2 30
check "$victim gets its LIP back" wait_more "$WORK/sluice-$survivor.log" "event=sync_peer_back" "$back" 15
check_transfers 2
check "$victim forwarded flows it learned by sync" test "$(counter "$victim" forwarded_inbound)" -gt 0

log_step "3. SIGTERM the busier gateway during a batch"
start_transfers 3
sleep 4
victim=$(busier)
survivor=${OTHER[$victim]}
lost=$(log_count "$WORK/sluice-$survivor.log" "event=sync_peer_lost")
kill -TERM "${PID[$victim]}"
check "the survivor is told and takes the LIP" wait_more "$WORK/sluice-$survivor.log" "event=sync_peer_lost" "$lost" 10
wait "${PID[$victim]}"
check_eq "$victim exits 0" 0 "$?"
PID[$victim]=""
check_transfers 3
back=$(log_count "$WORK/sluice-$survivor.log" "event=sync_peer_back")
if start_gateway "$victim"; then pass "$victim restarts"; else fail "$victim restarts"; fi
check "the edge has 2 next hops again" wait_route ec-edge "$VIP" 2 30
check "$victim gets its LIP back once re-synced" wait_more "$WORK/sluice-$survivor.log" "event=sync_peer_back" "$back" 10

log_step "4. drain the busier gateway during a batch: VIP withdrawn, LIP kept"
start_transfers 4
sleep 4
victim=$(busier)
check "drain on ($victim)" "$SLUICECTL" --socket "$WORK/admin-$victim.sock" drain on
check "the edge has 1 next hop" wait_route ec-edge "$VIP" 1 10
check "ec-rs still routes the drained gateway's LIP" test "$(hops ec-rs "${LIP[$victim]}")" -ge 1
check_transfers 4
finish
