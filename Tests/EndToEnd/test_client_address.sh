#!/usr/bin/env bash
# test_client_address.sh -- the client's address reaches the real server through Sluice (FULLNAT), by
# TOA and by PROXY protocol v1/v2, with real servers, with and without syn_proxy, over IPv4 and IPv6.
#
# The configuration is generated (into $LAB_DIR/client-address/sluice.yaml): one service per mode and
# option set, each on both VIPs, each with one real server so that we know where to look.
#
#   VIP port  client_address     syn_proxy  options                       real server
#   8101/8111 proxy_protocol_v1  off/on     -                             rs1 nginx :8088 (proxy_protocol)
#   8102/8112 proxy_protocol_v2  off/on     -                             rs1 nginx :8088
#   8103/8113 proxy_protocol_v2  off/on     send_on_connect               rs1 nginx :8088
#   8120/8121 toa                off/on     -                             rs1 nginx :8080
#   8122      toa                off        toa_option_kind: 253          rs1 nginx :8080
#   8131      proxy_protocol_v1  off        -                             rs2 HAProxy :8090 (accept-proxy)
#   8132/8133 proxy_protocol_v2  off/on     unique_id, crc32c             rs2 HAProxy :8090
#   8141/8143 proxy_protocol_v1  off/on     send_on_connect               rs3 proxy_backend.py :2525
#   8142/8144 proxy_protocol_v2  off/on     send_on_connect (+ unique_id, crc32c on 8144)
#   8151/8153 proxy_protocol_v1  off/on     -                             rs3 proxy_backend.py :2525
#   8152/8154 proxy_protocol_v2  off/on     -                             rs3 proxy_backend.py :2525
#
# What it shows (sl-gw forwards nothing by itself; lab.sh asserts it):
#   1. nginx's `listen ... proxy_protocol` sees the client's address and port ($proxy_protocol_addr,
#      $proxy_protocol_port, in the /proxywhoami answer and in its access log) for v1, v2 and v2 with
#      send_on_connect, IPv4 and IPv6, syn_proxy off and on; nginx never logs a broken header.
#   2. HAProxy with `accept-proxy` (%ci:%cp) sees the client through v1 and v2; with the UNIQUE_ID and
#      CRC32C TLVs (HAProxy verifies the CRC and shows the id via fc_pp_unique_id).
#   3. A server-first backend (reads the PROXY header, greets "220 ... CLIENT PORT" first, answers one
#      command) completes its dialogue with a client that waits for the greeting: send_on_connect,
#      v1 and v2, syn_proxy off and on; without send_on_connect the same client gets no greeting (which
#      is why the option exists). Client-first clients get through the same backend without it, and a
#      PROXY header the client sends itself is never trusted (Sluice's header comes first).
#   4. The first data segment towards the real server is dropped once in the backend namespace (an
#      nftables rule whose one-packet budget is a `limit` object with a burst of one packet per hour:
#      nftables quotas count bytes, so no quota drops exactly one packet of unknown size; a named
#      counter proves one packet was dropped). The client-first header is inserted again, identical and
#      at the same sequence number, when the client retransmits; the send_on_connect header is resent by
#      Sluice; TOA is on the retransmission too. The exchange completes, the header arrives exactly
#      once (nginx logs the right client and no broken header; the python backend sees its command
#      right after one header).
#   5. TOA: a capture in the backend namespace shows the option (kind 254, or the configured 253; 8
#      bytes for IPv4, 20 for IPv6) with the client's address and port on the segment that completes
#      the handshake towards the real server and on the first data segment, and never on the SYN; a
#      hand-made client (raw socket) that puts a kind-254 option naming another address on every
#      segment never gets it to the server: the server sees only Sluice's option with the true address.
#   6. 10 MB downloads and uploads keep their sha256 in every mode (toa, v1, v2; syn_proxy off and on;
#      IPv4 and IPv6).
#   7. A client whose first segment is a full MSS (request and 64 KiB body in one send) leaves no room
#      for the header: it goes out as a segment of its own, and nginx still gets the client and the body.
#   Counters from the stats file: toa_inserted, toa_stripped, toa_no_room, proxy_headers_inserted,
#   proxy_headers_separate, proxy_header_resends, proxy_headers_from_client.
#
# ARTIFACTS=DIR keeps the generated configuration, captures and logs in DIR.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd nginx curl ethtool python3 sha256sum tcpdump nft haproxy timeout
require_sluice
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
PROBE="$E2E_DIR/client_probe.py"
PCAP_TCP="$E2E_DIR/pcap_tcp.py"
HAPROXY_PORT=8090
SF_PORT=2525 # proxy_backend.py on rs3
WORK="" CONFIG="" SF_LOG=""
CAPTURE_PID=""
DROP_NS="" RST_NS=""

cleanup() {
    [ -z "$CAPTURE_PID" ] || kill -TERM "$CAPTURE_PID" 2>/dev/null
    [ -z "$DROP_NS" ] || ip netns exec "$DROP_NS" nft delete table inet ca_drop 2>/dev/null
    [ -z "$RST_NS" ] || ip netns exec "$RST_NS" nft delete table inet ca_rst 2>/dev/null
    stop_sluice >/dev/null 2>&1
    if [ -n "${ARTIFACTS:-}" ] && [ -n "$WORK" ] && [ -d "$WORK" ]; then
        mkdir -p "$ARTIFACTS" && cp -r "$WORK"/. "$ARTIFACTS"/
        local n
        for n in $LAB_BACKENDS; do
            cp "$LAB_DIR/rs$n/access.log" "$ARTIFACTS/rs$n-access.log" 2>/dev/null
            cp "$LAB_DIR/rs$n/error.log" "$ARTIFACTS/rs$n-error.log" 2>/dev/null
        done
    fi
    "$LAB" down >/dev/null 2>&1
}
trap cleanup EXIT

# --- the services -------------------------------------------------------------------------------------

# name, VIP port, client_address, syn_proxy, options (soc = send_on_connect, uid = unique_id,
# crc = crc32c, k253 = toa_option_kind 253), real server, its port.
SERVICES=(
    "pp1 8101 proxy_protocol_v1 false - 1 $RS_PROXY_PORT"
    "pp1-sp 8111 proxy_protocol_v1 true - 1 $RS_PROXY_PORT"
    "pp2 8102 proxy_protocol_v2 false - 1 $RS_PROXY_PORT"
    "pp2-sp 8112 proxy_protocol_v2 true - 1 $RS_PROXY_PORT"
    "pp2-soc 8103 proxy_protocol_v2 false soc 1 $RS_PROXY_PORT"
    "pp2-soc-sp 8113 proxy_protocol_v2 true soc 1 $RS_PROXY_PORT"
    "toa 8120 toa false - 1 $RS_HTTP_PORT"
    "toa-sp 8121 toa true - 1 $RS_HTTP_PORT"
    "toa253 8122 toa false k253 1 $RS_HTTP_PORT"
    "hap1 8131 proxy_protocol_v1 false - 2 $HAPROXY_PORT"
    "hap2 8132 proxy_protocol_v2 false uid,crc 2 $HAPROXY_PORT"
    "hap2-sp 8133 proxy_protocol_v2 true uid,crc 2 $HAPROXY_PORT"
    "sf1 8141 proxy_protocol_v1 false soc 3 $SF_PORT"
    "sf2 8142 proxy_protocol_v2 false soc 3 $SF_PORT"
    "sf1-sp 8143 proxy_protocol_v1 true soc 3 $SF_PORT"
    "sf2-sp 8144 proxy_protocol_v2 true soc,uid,crc 3 $SF_PORT"
    "cf1 8151 proxy_protocol_v1 false - 3 $SF_PORT"
    "cf2 8152 proxy_protocol_v2 false - 3 $SF_PORT"
    "cf1-sp 8153 proxy_protocol_v1 true - 3 $SF_PORT"
    "cf2-sp 8154 proxy_protocol_v2 true - 3 $SF_PORT"
)

# port NAME: the VIP port of service NAME.
port() {
    local entry name vport
    for entry in "${SERVICES[@]}"; do
        read -r name vport _ <<<"$entry"
        [ "$name" = "$1" ] && { echo "$vport"; return 0; }
    done
    echo "test_client_address.sh: no service $1" >&2
    return 1
}

write_config() {
    local entry name vport mode sp opts rs rsport family vip group rsaddr block
    {
        printf 'interfaces: { external: ext0, internal: int0 }\n'
        printf 'local_address_groups:\n  lips: [%s]\n  lips6: [%s]\n' \
            "$(echo $LIPS_V4 | sed 's/ /, /g')" "$(printf '"%s", ' $LIPS_V6 | sed 's/, $//')"
        printf 'virtual_servers:\n'
        for entry in "${SERVICES[@]}"; do
            read -r name vport mode sp opts rs rsport <<<"$entry"
            for family in 4 6; do
                if [ "$family" = 4 ]; then
                    vip=$VIP_V4 group=lips rsaddr=$(rs_v4 "$rs")
                else
                    vip=$VIP_V6 group=lips6 rsaddr=$(rs_v6 "$rs")
                fi
                printf '  - name: ca-%s-%s\n    vip: "%s"\n    port: %s\n    protocol: tcp\n' \
                    "$name" "$family" "$vip" "$vport"
                printf '    local_address_group: %s\n    syn_proxy: %s\n    client_address: %s\n' \
                    "$group" "$sp" "$mode"
                [[ ",$opts," == *,k253,* ]] && printf '    toa_option_kind: 253\n'
                block=""
                [[ ",$opts," == *,soc,* ]] && block+="send_on_connect: true, "
                [[ ",$opts," == *,uid,* ]] && block+="unique_id: true, "
                [[ ",$opts," == *,crc,* ]] && block+="crc32c: true, "
                [ -z "$block" ] || printf '    proxy_protocol: { %s }\n' "${block%, }"
                printf '    real_servers: [{ address: "%s", port: %s }]\n' "$rsaddr" "$rsport"
            done
        done
    } >"$CONFIG"
}

# --- helpers --------------------------------------------------------------------------------------------

vip_of() { if [ "$1" = 4 ]; then echo "$VIP_V4"; else echo "$VIP_V6"; fi; }
client_of() { if [ "$1" = 4 ]; then echo "$CLI_V4"; else echo "$CLI_V6"; fi; }
url_of() { if [ "$1" = 4 ]; then echo "http://$VIP_V4:$2"; else echo "http://[$VIP_V6]:$2"; fi; }
rs_of() { if [ "$1" = 4 ]; then rs_v4 "$2"; else rs_v6 "$2"; fi; }

is_lip() {
    local lip
    for lip in $LIPS_V4 $LIPS_V6; do [ "$lip" = "$1" ] && return 0; done
    return 1
}

# counter NAME: the current value of a counter in the stats file (empty when the file has no such name).
counter() { stat_value "$SLUICE_STATS" "$1"; }

# fresh_stats: wait until Sluice has rewritten its stats file twice (every second), so that it
# reflects everything that happened before the call.
fresh_stats() {
    local i n=0 last now
    last=$(date -r "$SLUICE_STATS" +%s%N 2>/dev/null)
    for ((i = 0; i < 40 && n < 2; i++)); do
        sleep 0.1
        now=$(date -r "$SLUICE_STATS" +%s%N 2>/dev/null)
        if [ "$now" != "$last" ]; then
            n=$((n + 1))
            last=$now
        fi
    done
}

# snapshot NAME...: remember counters (fresh) as BEFORE_NAME.
declare -A BEFORE
snapshot() {
    local name
    fresh_stats
    for name in "$@"; do BEFORE[$name]=$(counter "$name"); done
}
# grown NAME: how much counter NAME grew since the snapshot ("missing" when the stats file lacks it).
grown() {
    local now
    now=$(counter "$1")
    if [ -z "$now" ] || [ -z "${BEFORE[$1]:-}" ]; then echo missing; else echo $((now - BEFORE[$1])); fi
}
# check_grown MESSAGE NAME MIN [MAX]: counter NAME grew by MIN..MAX since the snapshot.
check_grown() {
    local by
    by=$(grown "$2")
    if [ "$by" = missing ]; then
        fail "$1 (the stats file has no counter $2)"
    elif [ "$by" -ge "$3" ] && { [ -z "${4:-}" ] || [ "$by" -le "$4" ]; }; then
        pass "$1 ($2 +$by)"
    else
        fail "$1 ($2 +$by, expected ${3}..${4:-})"
    fi
}

# capture_start NS NAME FILTER: tcpdump on eth0 of NS into $WORK/NAME.pcap.
capture_start() {
    ip netns exec "$1" tcpdump -n -U --immediate-mode -s 256 -i eth0 -w "$WORK/$2.pcap" "$3" 2>"$WORK/$2.err" &
    CAPTURE_PID=$!
    wait_for_log "$WORK/$2.err" 'listening on' 5
}
# capture_stop NAME: stop it and decode every segment into $WORK/NAME.txt (pcap_tcp.py, 64 payload bytes:
# SRC SPORT DST DPORT FLAGS SEQ ACK LEN OPTIONS TIME PAYLOAD).
capture_stop() {
    sleep 0.3
    kill -INT "$CAPTURE_PID" 2>/dev/null
    wait "$CAPTURE_PID" 2>/dev/null
    CAPTURE_PID=""
    "$PYTHON" "$PCAP_TCP" "$WORK/$1.pcap" 64 >"$WORK/$1.txt" 2>"$WORK/$1.decode-err"
}

# drop_once_on NS PORT: drop the first TCP segment that carries data to PORT in NS, once. Data means
# the IP length exceeds the IP and TCP headers: one rule per TCP data offset, since nftables cannot
# subtract one field from another. The rules share one limit object (a budget of one packet per hour)
# and one counter.
drop_once_on() {
    local ns=$1 port=$2 d rules=""
    for d in $(seq 5 15); do
        rules+="        tcp dport $port tcp doff $d ip length > $((20 + 4 * d)) limit name \"once\" counter name \"dropped\" drop"$'\n'
        rules+="        tcp dport $port tcp doff $d ip6 length > $((4 * d)) limit name \"once\" counter name \"dropped\" drop"$'\n'
    done
    ip netns exec "$ns" nft -f - <<EOF || return 1
table inet ca_drop {
    limit once { rate 1/hour burst 1 packets }
    counter dropped { }
    chain input {
        type filter hook input priority filter; policy accept;
$rules    }
}
EOF
    DROP_NS=$ns
}
# drop_once_count: packets the rule dropped.
drop_once_count() {
    ip netns exec "$DROP_NS" nft -j list counter inet ca_drop dropped 2>/dev/null | "$PYTHON" -c '
import json, sys
for item in json.load(sys.stdin)["nftables"]:
    if "counter" in item:
        print(item["counter"]["packets"])'
}
drop_once_off() {
    ip netns exec "$DROP_NS" nft delete table inet ca_drop 2>/dev/null
    DROP_NS=""
}

# nginx_client FAMILY PORT: GET /proxywhoami through the VIP. Prints "SERVER PP_ADDR PP_PORT PEER_ADDR
# PEER_PORT CLIENT_ADDR CLIENT_PORT" (what nginx saw, then what the client was).
nginx_client() {
    ns_exec sl-cli curl -gsS -m 10 -w ' %{local_ip} %{local_port}' "$(url_of "$1" "$2")/proxywhoami" 2>&1 | tr '\n' ' '
}

# nginx_saw_client LABEL FAMILY PORT: nginx's PROXY address and port are the client's own, the
# connection came from a LIP, and the access log has the request with the same proxy address.
nginx_saw_client() {
    local label=$1 family=$2 vport=$3 out server pp_addr pp_port peer _peer_port caddr cport
    out=$(nginx_client "$family" "$vport")
    read -r server pp_addr pp_port peer _peer_port caddr cport <<<"$out"
    if [ "${server:-}" = rs1 ] && [ "${caddr:-}" = "$(client_of "$family")" ] && [ "$pp_addr" = "$caddr" ] &&
        [ "$pp_port" = "$cport" ] && is_lip "$peer"; then
        pass "$label: nginx's \$proxy_protocol_addr:port is the client's $caddr:$cport (connection from $peer)"
    else
        fail "$label: nginx's \$proxy_protocol_addr:port is the client's (got: $out)"
        return
    fi
    # nginx writes its access log after the response: give a loaded machine a moment.
    check "$label: nginx logged the request with proxy=$caddr proxy_port=$cport" \
        wait_for_log "$LAB_DIR/rs1/access.log" \
        "^$peer [0-9]+ $RS_PROXY_PORT \"GET /proxywhoami HTTP/1.1\" 200 .* proxy=$caddr proxy_port=$cport\$" 3
}

# sf_dialogue LABEL FAMILY PORT MODE VERSION [TLVS]: one dialogue with proxy_backend.py; the client's
# greeting and the backend's log line must both name the client, the VIP and its port.
sf_dialogue() {
    local label=$1 family=$2 vport=$3 mode=$4 version=$5 tlvs=${6:--} before out line i caddr vip
    caddr=$(client_of "$family") vip=$(vip_of "$family")
    before=$(wc -l <"$SF_LOG")
    out=$(ns_exec sl-cli "$PYTHON" "$PROBE" dialogue "$vip" "$vport" "$mode")
    for ((i = 0; i < 70; i++)); do
        [ "$(wc -l <"$SF_LOG")" -gt "$before" ] && break
        sleep 0.1
    done
    line=$(tail -n +"$((before + 1))" "$SF_LOG" | head -n 1)
    local greeted_port
    read -r _ _ _ greeted_port _ <<<"$out"
    if [[ "$out" =~ ^ok\ rs3\ $caddr\ [0-9]+\ v$version$ ]] &&
        [[ "$line" =~ ^ok\ v$version\ TCP$family\ $caddr\ $greeted_port\ $vip\ $vport\ peer=([^,]+),[0-9]+\ tlvs=$tlvs\ cmd=HELO\ probe$ ]] &&
        is_lip "${BASH_REMATCH[1]}"; then
        pass "$label: the $mode dialogue completed; the backend was greeted with the client $caddr:$greeted_port"
    else
        fail "$label: the $mode dialogue completed (client: '$out'; backend: '$line')"
    fi
}

# resent_in_time LABEL FAMILY RS PORT CAPTURE: after losing Sluice's self-sent header, every copy that
# reached the server is identical at one sequence number, and Sluice's own resend (first after 250 ms)
# arrived before the server's SYN-ACK retransmission timer (1 s) had to rescue the connection: the
# header segment is also what completes the server's handshake, so a server that retransmits its
# SYN-ACK never got a copy in time.
resent_in_time() {
    local label=$1 rs rs_port=$4 file="$WORK/$5.txt" copies times gap synacks
    rs=$(rs_of "$2" "$3")
    copies=$(awk -v rs="$rs" '$3 == rs && $8 > 0' "$file" | awk 'NR == 1 { seq = $6 } $6 == seq')
    log "    header copies at rs$3 (seq length time first-bytes): $(awk '{ printf "%s %s %s %.24s | ", $6, $8, $10, $11 }' <<<"$copies")"
    # A copy may carry the client's first data behind the header (the client's request met an
    # unacknowledged header): compare the bytes every copy has, at most the 64 captured.
    check_eq "$label: every copy of the header reached the server identical, at one sequence number" 1 \
        "$(awk 'NR == FNR { if (min == "" || $8 < min) min = $8; next }
                { print $6, substr($11, 1, 2 * (min < 64 ? min : 64)) }' <(echo "$copies") <(echo "$copies") |
            sort -u | grep -c .)"
    times=$(awk '{ print $10 }' <<<"$copies" | head -n 2 | paste -sd' ')
    gap=$(awk '{ printf "%d", ($2 - $1) * 1000 }' <<<"$times")
    check "$label: Sluice's resend reached the server within 900 ms of the lost copy (took ${gap} ms)" \
        test "${gap:-99999}" -lt 900
    synacks=$(awk -v rs="$rs" -v p="$rs_port" '$1 == rs && $2 == p && $5 == "SA"' "$file" | grep -c .)
    check_eq "$label: the server never had to retransmit its SYN-ACK" 1 "$synacks"
}

# transfers LABEL FAMILY PORT: 10 MB down and 10 MB up through the VIP keep their sha256.
transfers() {
    local label=$1 url
    url=$(url_of "$2" "$3")
    check_eq "$label: 10 MB download intact" "$(cat "$LAB_DIR/10mb.sha256")" \
        "$(ns_exec sl-cli curl -gsS -m 60 "$url/10mb" | sha256sum | cut -d' ' -f1)"
    check_eq "$label: 10 MB upload intact" "$UPLOAD_EXPECTED" \
        "$(ns_exec sl-cli curl -gsS -m 60 --data-binary @"$UPLOAD" "$url/upload" | cut -d' ' -f2-)"
}

# --- the lab, the backends, Sluice --------------------------------------------------------------------

"$LAB" up || { fail "lab.sh up"; finish; }
WORK="$LAB_DIR/client-address"
mkdir -p "$WORK"
CONFIG="$WORK/sluice.yaml"
SF_LOG="$WORK/proxy_backend.log"
: >"$SF_LOG"
write_config
check "the generated configuration passes 'sluice check'" "$SLUICE_BIN" check --config "$CONFIG"
check_eq "sl-gw does not forward (IPv4, IPv6)" "0 0" \
    "$(ip netns exec sl-gw sysctl -n net.ipv4.ip_forward) $(ip netns exec sl-gw sysctl -n net.ipv6.conf.all.forwarding)"

# HAProxy on rs2: accept-proxy on both families; answers with the client it learned from the header.
mkdir -p "$WORK/haproxy"
cat >"$WORK/haproxy/haproxy.cfg" <<EOF
global
    pidfile $WORK/haproxy/haproxy.pid
defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s
frontend accept_proxy
    bind 0.0.0.0:$HAPROXY_PORT accept-proxy
    bind [::]:$HAPROXY_PORT v6only accept-proxy
    http-request return status 200 content-type text/plain lf-string "haproxy %ci %cp uid=%[fc_pp_unique_id,hex]\n"
EOF
ip netns exec sl-rs2 haproxy -q -D -f "$WORK/haproxy/haproxy.cfg" -p "$WORK/haproxy/haproxy.pid" \
    >"$WORK/haproxy/haproxy.out" 2>&1 || { cat "$WORK/haproxy/haproxy.out"; }
check "HAProxy (accept-proxy) listens on rs2:$HAPROXY_PORT" wait_for_port sl-rs2 "$HAPROXY_PORT" tcp 5
ip netns exec sl-rs3 setsid "$PYTHON" "$E2E_DIR/proxy_backend.py" rs3 "$SF_PORT" "$SF_LOG" \
    >"$WORK/proxy_backend.out" 2>&1 </dev/null &
check "the server-first backend listens on rs3:$SF_PORT" wait_for_port sl-rs3 "$SF_PORT" tcp 5

if start_sluice "$CONFIG" "$WORK/sluice.log" "$WORK/sluice.stats"; then
    pass "sluice run starts with every client_address mode"
else
    fail "sluice run starts with every client_address mode"
    finish
fi
check "the start-up summary names each service's client_address and options" bash -c "
    grep -q 'virtual server ca-pp1-4: .*syn_proxy off, client_address proxy_protocol_v1\$' '$SLUICE_LOG' &&
    grep -q 'virtual server ca-toa253-6: .*client_address toa (option kind 253)\$' '$SLUICE_LOG' &&
    grep -q 'virtual server ca-sf2-sp-4: .*syn_proxy on, client_address proxy_protocol_v2 (unique_id, crc32c, send_on_connect)\$' '$SLUICE_LOG'"
fresh_stats
for name in toa_inserted toa_stripped toa_no_room proxy_headers_inserted proxy_headers_separate \
    proxy_header_resends proxy_headers_from_client; do
    [ -n "$(counter "$name")" ] || fail "the stats file has no counter $name (renamed? see Sources/SluiceCore/Counters.swift)"
done
UPLOAD="$WORK/upload.bin"
head -c 10485760 /dev/urandom >"$UPLOAD"
UPLOAD_EXPECTED="10485760 $(sha256sum "$UPLOAD" | cut -d' ' -f1)"

# --- 1. nginx proxy_protocol ------------------------------------------------------------------------------
log_step "1. nginx 'listen ... proxy_protocol' learns the client (v1, v2, v2 send_on_connect; syn_proxy off/on)"
snapshot proxy_headers_inserted proxy_headers_separate
for family in 4 6; do
    for name in pp1 pp1-sp pp2 pp2-sp pp2-soc pp2-soc-sp; do
        nginx_saw_client "IPv$family $name" "$family" "$(port "$name")"
    done
done
fresh_stats
log "    proxy_headers_inserted +$(grown proxy_headers_inserted), proxy_headers_separate +$(grown proxy_headers_separate)"
check "the 8 client-first requests each got one header (proxy_headers_inserted +$(grown proxy_headers_inserted) >= 8)" \
    test "$(grown proxy_headers_inserted | sed 's/missing/-1/')" -ge 8

# --- 2. HAProxy accept-proxy -------------------------------------------------------------------------------
log_step "2. HAProxy accept-proxy learns the client (v1; v2 with UNIQUE_ID and CRC32C)"
for family in 4 6; do
    for name in hap1 hap2 hap2-sp; do
        out=$(ns_exec sl-cli curl -gsS -m 10 -w ' %{local_ip} %{local_port}' "$(url_of "$family" "$(port "$name")")/" 2>&1 |
            tr '\n' ' ')
        read -r who ci cp uid caddr cport <<<"$out"
        if [ "${who:-}" = haproxy ] && [ "${caddr:-}" = "$(client_of "$family")" ] && [ "$ci" = "$caddr" ] &&
            [ "$cp" = "$cport" ]; then
            pass "IPv$family $name: HAProxy's %ci:%cp is the client's $caddr:$cport"
        else
            fail "IPv$family $name: HAProxy's %ci:%cp is the client's (got: $out)"
        fi
        if [ "$name" != hap1 ]; then
            check "IPv$family $name: HAProxy verified the CRC32C and read an 8-byte UNIQUE_ID ($uid)" \
                grep -qE '^uid=[0-9A-Fa-f]{16}$' <<<"${uid:-}"
        fi
    done
done

# --- 3. server-first ---------------------------------------------------------------------------------------
log_step "3. a server-first backend greets a client that waits (send_on_connect), and client-first ones"
snapshot proxy_headers_from_client
for family in 4 6; do
    sf_dialogue "IPv$family sf1 (v1, send_on_connect)" "$family" "$(port sf1)" server-first 1
    sf_dialogue "IPv$family sf2 (v2, send_on_connect)" "$family" "$(port sf2)" server-first 2
    sf_dialogue "IPv$family sf1-sp (v1, send_on_connect, syn_proxy)" "$family" "$(port sf1-sp)" server-first 1
    sf_dialogue "IPv$family sf2-sp (v2, send_on_connect, syn_proxy, TLVs)" "$family" "$(port sf2-sp)" server-first 2 \
        '(unique_id:[0-9a-f]{16},crc32c:ok|crc32c:ok,unique_id:[0-9a-f]{16})'
    sf_dialogue "IPv$family cf1 (v1, client-first)" "$family" "$(port cf1)" client-first 1
    sf_dialogue "IPv$family cf2-sp (v2, client-first, syn_proxy)" "$family" "$(port cf2-sp)" client-first 2
done
# Deliberate: the backend logs a bad line for this connection (no header) and for each spoof below.
DELIBERATE_BAD=5
out=$(ns_exec sl-cli "$PYTHON" "$PROBE" dialogue "$VIP_V4" "$(port cf2)" server-first)
check "without send_on_connect a server-first client gets no greeting (the header waits for client data): $out" \
    grep -q '^fail ' <<<"$out"
for family in 4 6; do
    for version in 1 2; do
        name=cf$version
        [ "$family" = 6 ] && name=cf$version-sp
        out=$(ns_exec sl-cli "$PYTHON" "$PROBE" spoof-header "$(vip_of "$family")" "$(port "$name")" "v$version")
        check "IPv$family $name: a PROXY v$version header sent by the client is not trusted (greeted as: $out)" \
            grep -qE "^ok rs3 $(client_of "$family") [0-9]+\$" <<<"$out"
    done
done
fresh_stats
check_grown "the client's own headers were counted" proxy_headers_from_client 4 4

# --- 4. the first data segment towards the real server is dropped once -------------------------------------
log_step "4. the first data segment towards the real server is lost once"
for family in 4 6; do
    for name in pp1 pp2 pp1-sp pp2-sp; do
        label="IPv$family $name, first segment lost"
        snapshot proxy_headers_inserted
        errors_before=$(grep -c 'broken header' "$LAB_DIR/rs1/error.log")
        capture_start sl-rs1 "drop-$name-$family" "tcp port $RS_PROXY_PORT"
        drop_once_on sl-rs1 "$RS_PROXY_PORT" || fail "$label: install the nftables rule"
        nginx_saw_client "$label" "$family" "$(port "$name")"
        check_eq "$label: the nftables rule dropped exactly one segment" 1 "$(drop_once_count)"
        drop_once_off
        capture_stop "drop-$name-$family"
        # The dropped segment and the client's retransmission: same sequence number, identical header.
        firsts=$(awk -v rs="$(rs_of "$family" 1)" '$3 == rs && $8 > 0' "$WORK/drop-$name-$family.txt" |
            awk 'NR == 1 { seq = $6 } $6 == seq { print $6, $11 }' | sort | uniq -c | awk '{ print $1 }')
        check_eq "$label: the retransmission carries the identical header at the same sequence number" 2 "$firsts"
        check_eq "$label: nginx logged no broken header" "$errors_before" \
            "$(grep -c 'broken header' "$LAB_DIR/rs1/error.log")"
        fresh_stats
        check_grown "$label: the header was inserted again into the retransmission" proxy_headers_inserted 2 2
    done
done
for family in 4 6; do
    for entry in "sf1 1" "sf2 2" "sf2-sp 2"; do
        read -r name version <<<"$entry"
        label="IPv$family $name, Sluice's header segment lost"
        snapshot proxy_header_resends
        capture_start sl-rs3 "drop-$name-$family" "tcp port $SF_PORT"
        drop_once_on sl-rs3 "$SF_PORT" || fail "$label: install the nftables rule"
        tlvs=-
        [ "$name" = sf2-sp ] && tlvs='(unique_id:[0-9a-f]{16},crc32c:ok|crc32c:ok,unique_id:[0-9a-f]{16})'
        sf_dialogue "$label" "$family" "$(port "$name")" server-first "$version" "$tlvs"
        check_eq "$label: the nftables rule dropped exactly one segment" 1 "$(drop_once_count)"
        drop_once_off
        capture_stop "drop-$name-$family"
        resent_in_time "$label" "$family" 3 "$SF_PORT" "drop-$name-$family"
        fresh_stats
        check_grown "$label: Sluice counted its resends" proxy_header_resends 1
    done
    label="IPv$family pp2-soc, Sluice's header segment lost"
    errors_before=$(grep -c 'broken header' "$LAB_DIR/rs1/error.log")
    capture_start sl-rs1 "drop-pp2-soc-$family" "tcp port $RS_PROXY_PORT"
    drop_once_on sl-rs1 "$RS_PROXY_PORT" || fail "$label: install the nftables rule"
    nginx_saw_client "$label" "$family" "$(port pp2-soc)"
    check_eq "$label: the nftables rule dropped exactly one segment" 1 "$(drop_once_count)"
    drop_once_off
    capture_stop "drop-pp2-soc-$family"
    resent_in_time "$label" "$family" 1 "$RS_PROXY_PORT" "drop-pp2-soc-$family"
    check_eq "$label: nginx logged no broken header" "$errors_before" "$(grep -c 'broken header' "$LAB_DIR/rs1/error.log")"
    for name in toa toa-sp; do
        label="IPv$family $name, first data segment lost"
        capture_start sl-rs1 "drop-$name-$family" "tcp port $RS_HTTP_PORT"
        drop_once_on sl-rs1 "$RS_HTTP_PORT" || fail "$label: install the nftables rule"
        out=$(ns_exec sl-cli curl -gsS -m 10 -w ' %{local_port}' "$(url_of "$family" "$(port "$name")")/whoami" 2>&1 |
            tr '\n' ' ')
        read -r server _ _ cport <<<"$out"
        check "$label: the request completed ($out)" test "${server:-}" = rs1
        check_eq "$label: the nftables rule dropped exactly one segment" 1 "$(drop_once_count)"
        drop_once_off
        capture_stop "drop-$name-$family"
        expected="toa=254,$([ "$family" = 4 ] && echo 8 || echo 20),$(client_of "$family"),${cport:-?}"
        firsts=$(awk -v rs="$(rs_of "$family" 1)" '$3 == rs && $8 > 0' "$WORK/drop-$name-$family.txt" |
            awk -v want="$expected" 'NR == 1 { seq = $6 } $6 == seq { n++; if (index($9, want)) t++ } END { print n + 0, t + 0 }')
        check_eq "$label: the original and the retransmission both carry the TOA ($expected)" "2 2" "$firsts"
    done
done
check_eq "proxy_backend.py never saw a broken or repeated header (bad lines: only the $DELIBERATE_BAD deliberate ones)" \
    "$DELIBERATE_BAD" "$(grep -c '^bad ' "$SF_LOG")"

# --- 5. TOA on the wire ---------------------------------------------------------------------------------------
log_step "5. TOA in the backend's capture: on the handshake-completing ACK, with the client's address"
snapshot toa_inserted toa_no_room toa_stripped
local_port=41000
for family in 4 6; do
    for entry in "toa 254" "toa-sp 254" "toa253 253"; do
        read -r name kind <<<"$entry"
        label="IPv$family $name"
        local_port=$((local_port + 1))
        capture_start sl-rs1 "toa-$name-$family" "tcp port $RS_HTTP_PORT"
        out=$(ns_exec sl-cli curl -gsS -m 10 --local-port "$local_port" "$(url_of "$family" "$(port "$name")")/whoami" 2>&1)
        capture_stop "toa-$name-$family"
        check "$label: the request through the VIP is answered ($out)" grep -q '^rs1 ' <<<"$out"
        length=$([ "$family" = 4 ] && echo 8 || echo 20)
        expected="toa=$kind,$length,$(client_of "$family"),$local_port"
        toward=$(awk -v rs="$(rs_of "$family" 1)" '$3 == rs' "$WORK/toa-$name-$family.txt")
        handshake=$(awk '$5 !~ /S/ { print; exit }' <<<"$toward")
        first_data=$(awk '$8 > 0 { print; exit }' <<<"$toward")
        log "    handshake-completing segment at rs1: $(cut -d' ' -f1-9 <<<"$handshake")"
        check "$label: the segment completing the handshake (a pure ACK) carries $expected" \
            awk -v want="$expected;" '$5 == "A" && $8 == 0 && index($9 ";", want) { ok = 1 } END { exit !ok }' \
            <<<"$handshake"
        check "$label: the first data segment carries it too" \
            awk -v want="$expected;" 'index($9 ";", want) { ok = 1 } END { exit !ok }' <<<"$first_data"
        check_eq "$label: every TOA the server received names the client (kind $kind, $length bytes)" "$expected" \
            "$(grep -o 'toa=[^; ]*' <<<"$toward" | sort -u | paste -sd' ')"
        check_eq "$label: the SYN to the server carries no TOA" "" "$(awk '$5 == "S" && /toa=/' <<<"$toward")"
    done
done
fresh_stats
check_grown "TOA insertions were counted (2 or more per connection)" toa_inserted 12
check_grown "no segment lacked room for TOA" toa_no_room 0 0

log_step "5b. a client that sends its own TOA (kind 254, another address) on every segment"
snapshot toa_stripped
RST_NS=sl-cli
spoof_port=47100
for family in 4 6; do
    for name in toa toa-sp; do
        label="IPv$family $name, client-sent TOA"
        spoof_port=$((spoof_port + 1))
        if [ "$family" = 4 ]; then fake=192.0.2.99; else fake=fd00:dead::99; fi
        ip netns exec sl-cli nft -f - <<EOF
table inet ca_rst {
    chain output {
        type filter hook output priority filter; policy accept;
        tcp sport $spoof_port tcp flags & rst == rst counter drop
    }
}
EOF
        capture_start sl-rs1 "spoof-$name-$family" "tcp port $RS_HTTP_PORT"
        out=$(ns_exec sl-cli timeout 15 "$PYTHON" "$PROBE" toa-spoof "$(vip_of "$family")" "$(port "$name")" "$spoof_port" \
            254 "$fake" 4321 2>&1)
        rc=$?
        capture_stop "spoof-$name-$family"
        ip netns exec sl-cli nft delete table inet ca_rst
        check "$label: the hand-made connection got its answer ($out)" test "$rc" -eq 0
        toward=$(awk -v rs="$(rs_of "$family" 1)" '$3 == rs' "$WORK/spoof-$name-$family.txt")
        expected="toa=254,$([ "$family" = 4 ] && echo 8 || echo 20),$(client_of "$family"),$spoof_port"
        check_eq "$label: the server saw no TOA naming $fake" "" "$(grep -F ",$fake," <<<"$toward")"
        check_eq "$label: the server saw only Sluice's TOA with the true address" "$expected" \
            "$(grep -o 'toa=[^; ]*' <<<"$toward" | sort -u | paste -sd' ')"
        check "$label: the handshake-completing ACK carries Sluice's TOA" \
            awk -v want="$expected;" '$5 !~ /S/ { found = index($9 ";", want); exit } END { exit !found }' \
            <<<"$toward"
    done
done
RST_NS=""
fresh_stats
check_grown "the client's TOA options were stripped and counted" toa_stripped 8

# --- 6. 10 MB both ways in every mode ------------------------------------------------------------------------
log_step "6. 10 MB download and upload in every mode"
for family in 4 6; do
    for name in toa toa-sp pp1 pp1-sp pp2 pp2-sp; do
        transfers "IPv$family $name" "$family" "$(port "$name")"
    done
done

# --- 7. no room for the header in the client's first segment -----------------------------------------------
log_step "7. a full-size first segment leaves no room: the header goes out as a segment of its own"
for family in 4 6; do
    for name in pp1 pp2 pp2-sp; do
        label="IPv$family $name, full-size first segment"
        snapshot proxy_headers_separate
        capture_start sl-rs1 "full-$name-$family" "tcp port $RS_PROXY_PORT"
        out=$(ns_exec sl-cli timeout 15 "$PYTHON" "$PROBE" full-first-segment "$(vip_of "$family")" "$(port "$name")" \
            65536 2>&1 | tr '\n' ' ')
        capture_stop "full-$name-$family"
        read -r caddr cport sha server length got_sha _ <<<"$out"
        log "    first data segments at rs1 (length, first bytes): $(awk -v rs="$(rs_of "$family" 1)" \
            '$3 == rs && $8 > 0 { printf "%s %.16s | ", $8, $11; if (++n == 3) exit }' "$WORK/full-$name-$family.txt")"
        check "$label: the 64 KiB upload arrived intact ($out)" \
            test "${server:-}" = rs1 -a "${length:-}" = 65536 -a "${got_sha:-}" = "${sha:-none}"
        if [ "${server:-}" = rs1 ]; then
            check "$label: nginx logged the POST with proxy=$caddr proxy_port=$cport" \
                grep -qE "\"POST /upload HTTP/1.1\" 200 .* proxy=$caddr proxy_port=$cport\$" "$LAB_DIR/rs1/access.log"
        else
            fail "$label: nginx logged the POST with the client's address (no answer)"
        fi
        fresh_stats
        check_grown "$label: the header went out as a segment of its own" proxy_headers_separate 1
    done
done

# --- the end ----------------------------------------------------------------------------------------------------
fresh_stats
log "    counters: $(for name in toa_inserted toa_pruned toa_no_room toa_stripped proxy_headers_inserted \
    proxy_headers_separate proxy_header_resends proxy_header_resends_abandoned proxy_headers_from_client; do
    printf '%s=%s ' "$name" "$(counter "$name")"
done)"
check_eq "no self-sent header was abandoned (proxy_header_resends_abandoned)" 0 \
    "$(counter proxy_header_resends_abandoned)"
check_eq "nginx never logged a broken PROXY header" 0 "$(cat "$LAB_DIR"/rs?/error.log | grep -c 'broken header')"
log_step "stopping sluice (SIGTERM)"
if stop_sluice; then pass "sluice exits 0 on SIGTERM"; else fail "sluice exits 0 on SIGTERM"; fi
check_eq "no XDP program left on sl-gw's interfaces" "" "$(xdp_attached sl-gw)"
finish
