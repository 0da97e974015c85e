#!/usr/bin/env bash
# test_synproxy.sh -- SYNPROXY through Sluice in the namespace lab, with real clients, real servers and
# a real SYN flood. The configuration is the shipped Config/sluice.yaml with `syn_proxy: true` on web
# (IPv4) and web6, an explicit top-level `synproxy:` block, and one extra syn_proxy service "refuse"
# (VIP:81 -> rs1:9, where nothing listens).
#
# What it shows (sl-gw forwards nothing by itself; lab.sh asserts it):
#   1. HTTP 200 through both VIPs; the backends see only LIPs; the handshakes went through the proxy
#      (cookies sent, handshakes completed).
#   2. 10 MB download and 10 MB upload through both VIPs arrive intact (sha256) with the client's
#      timestamps, SACK and window scaling each switched off in turn (sysctls in sl-cli, which also
#      govern IPv6 TCP); the SYN the proxy sends to the real server carries exactly the options the
#      client offered. The sysctls are restored afterwards.
#   3. A 10 s random-source SYN flood (hping3) at VIP:80 while a legitimate client connects in a loop:
#      no legitimate connection fails, the flood is answered with cookies and creates no connection
#      state (the connection and local-port gauges stay within what the legitimate client made), and
#      no flooded source reaches a backend: the backends see SYNs only from LIPs, about one per
#      legitimate connection.
#   4. ACKs with a bad cookie (hping3 -A over IPv4, a python raw socket over IPv6) open nothing:
#      drop_bad_cookie grows, connections_created does not, no SYN reaches a backend.
#   5. A real server that refuses (RST to the proxy's SYN): the client is reset at once, not left to
#      time out, and syn_proxy_server_refused counts it. (The client's own handshake was completed by
#      the proxy, so its kernel reports ECONNRESET, "Connection reset by peer", rather than
#      ECONNREFUSED: that is inherent to SYN proxying, dpvs and netfilter do the same.)
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd nginx curl ethtool python3 sha256sum hping3 tcpdump timeout
require_sluice
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
"$PYTHON" -c 'import yaml' 2>/dev/null || skip "python3 has no yaml module (PyYAML) to derive the configuration"
FLOOD_SECONDS=${FLOOD_SECONDS:-10}
REFUSE_PORT=81
WORK=$(mktemp -d /tmp/sluice-synproxy.XXXXXX)
CONFIG="$WORK/sluice.yaml"
CAPTURE_PIDS=()
TCP_SYSCTLS="net.ipv4.tcp_timestamps net.ipv4.tcp_sack net.ipv4.tcp_window_scaling"
SAVED_SYSCTLS=()

cleanup() {
    local pid
    for pid in "${CAPTURE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    restore_sysctls
    stop_sluice >/dev/null 2>&1
    "$LAB" down >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- helpers ----------------------------------------------------------------------------------------

# The configuration: Config/sluice.yaml with syn_proxy on web/web6, an explicit synproxy block and the
# refusing service.
cat >"$WORK/config.py" <<'PY'
import sys, yaml
src, dst, vip, lips, refuse_port, rs = sys.argv[1:7]
with open(src) as f:
    config = yaml.safe_load(f)
proxied = [s["name"] for s in config["virtual_servers"] if s["name"] in ("web", "web6")]
if proxied != ["web", "web6"]:
    sys.exit(f"Config/sluice.yaml no longer has services web and web6 (found {proxied})")
for server in config["virtual_servers"]:
    if server["name"] in proxied:
        server["syn_proxy"] = True
config["virtual_servers"].append({
    "name": "refuse", "vip": vip, "port": int(refuse_port), "protocol": "tcp", "scheduler": "rr",
    "local_address_group": lips, "syn_proxy": True, "real_servers": [{"address": rs, "port": 9}],
})
config["synproxy"] = {
    "mss": 1452, "wscale": 7, "sack": True, "timestamps": True, "retries": 3, "queue": 4,
    "rst_on_bad_cookie": False, "ack_storm_threshold": 10,
}
with open(dst, "w") as f:
    yaml.safe_dump(config, f, sort_keys=False)
PY

# Bad-cookie ACKs over IPv6: a raw TCP socket (the kernel fills in the checksum), random seq/ack.
cat >"$WORK/badack6.py" <<'PY'
import random, socket, struct, sys
vip, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_CHECKSUM, 16)
for i in range(count):
    s.sendto(struct.pack("!HHIIBBHHH", 41000 + i, port, random.getrandbits(32), random.getrandbits(32),
                         5 << 4, 0x10, 65535, 0, 0), (vip, 0))
PY

# counter NAME: the current value of a counter or gauge in the stats file (0 if absent).
counter() { local v; v=$(stat_value "$SLUICE_STATS" "$1"); echo "${v:-0}"; }

# fresh_stats: wait until Sluice has rewritten its stats file twice (it does so every second), so that
# the file reflects everything that happened before the call.
fresh_stats() {
    local i n=0 last
    last=$(date -r "$SLUICE_STATS" +%s%N 2>/dev/null)
    for ((i = 0; i < 40 && n < 2; i++)); do
        sleep 0.1
        local now
        now=$(date -r "$SLUICE_STATS" +%s%N 2>/dev/null)
        if [ "$now" != "$last" ]; then
            n=$((n + 1))
            last=$now
        fi
    done
}

# Pure SYNs (SYN without ACK), IPv4 and IPv6 (libpcap cannot index tcp[] over IPv6: the TCP flags are
# byte 13 of the TCP header, which follows the 40-byte IPv6 header when there are no extension headers).
SYN_FILTER='(ip and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn) or (ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 0x02)'

# start_capture NAME: capture pure SYNs on eth0 of every backend into $WORK/NAME-rsN.pcap.
start_capture() {
    local n
    CAPTURE_PIDS=()
    for n in $LAB_BACKENDS; do
        ip netns exec "sl-rs$n" tcpdump -n -U --immediate-mode -i eth0 -w "$WORK/$1-rs$n.pcap" "$SYN_FILTER" \
            2>"$WORK/$1-rs$n.err" &
        CAPTURE_PIDS+=($!)
    done
    for n in $LAB_BACKENDS; do wait_for_log "$WORK/$1-rs$n.err" 'listening on' 5; done
}

# stop_capture NAME: stop the captures and print one line per SYN seen: "rsN SRC_ADDR DST_PORT OPTIONS".
stop_capture() {
    local pid n
    sleep 0.3
    for pid in "${CAPTURE_PIDS[@]}"; do kill -INT "$pid" 2>/dev/null; done
    for pid in "${CAPTURE_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    CAPTURE_PIDS=()
    for n in $LAB_BACKENDS; do
        tcpdump -n -r "$WORK/$1-rs$n.pcap" 2>/dev/null | awk -v rs="rs$n" '
            { src = $3; sub(/\.[0-9]+$/, "", src); dst = $5; sub(/:$/, "", dst); sub(/.*\./, "", dst)
              opts = ""; if (match($0, /options \[[^]]*\]/)) opts = substr($0, RSTART + 9, RLENGTH - 10)
              print rs, src, dst, opts }'
    done
}

# is_lip ADDR: ADDR is one of the configured LIPs (either family).
is_lip() {
    local lip
    for lip in $LIPS_V4 $LIPS_V6; do [ "$lip" = "$1" ] && return 0; done
    return 1
}

# non_lip_sources FILE: the distinct source addresses in a stop_capture listing that are not LIPs.
non_lip_sources() {
    local src
    for src in $(awk '{ print $2 }' "$1" | sort -u); do is_lip "$src" || printf '%s ' "$src"; done
}

save_sysctls() {
    local key
    SAVED_SYSCTLS=()
    for key in $TCP_SYSCTLS; do SAVED_SYSCTLS+=("$key=$(ip netns exec sl-cli sysctl -n "$key")"); done
}
restore_sysctls() {
    [ "${#SAVED_SYSCTLS[@]}" -gt 0 ] || return 0
    ip netns exec sl-cli sysctl -qw "${SAVED_SYSCTLS[@]}" >/dev/null 2>&1
}
# client_options TS SACK WS: set the client's TCP options (1 = on, 0 = off).
client_options() {
    ip netns exec sl-cli sysctl -qw net.ipv4.tcp_timestamps="$1" net.ipv4.tcp_sack="$2" \
        net.ipv4.tcp_window_scaling="$3" >/dev/null
}

# --- the lab and Sluice -----------------------------------------------------------------------------

if ! "$PYTHON" "$WORK/config.py" "$REPO_ROOT/Config/sluice.yaml" "$CONFIG" "$VIP_V4" lips "$REFUSE_PORT" \
    "$(rs_v4 1)"; then
    fail "derive the syn_proxy configuration from Config/sluice.yaml"
    finish
fi
check "the syn_proxy configuration passes 'sluice check'" "$SLUICE_BIN" check --config "$CONFIG"
"$LAB" up || { fail "lab.sh up"; finish; }
check_eq "sl-gw does not forward (IPv4, IPv6)" "0 0" \
    "$(ip netns exec sl-gw sysctl -n net.ipv4.ip_forward) $(ip netns exec sl-gw sysctl -n net.ipv6.conf.all.forwarding)"
if start_sluice "$CONFIG"; then
    pass "sluice run starts with syn_proxy on web and web6"
else
    fail "sluice run starts with syn_proxy on web and web6"
    finish
fi
check "the start-up summary shows syn_proxy on for web, web6 and refuse" \
    bash -c "[ \$(grep -cE 'virtual server (web|web6|refuse): .*syn_proxy on' '$SLUICE_LOG') = 3 ]"
URL4="http://$VIP_V4:$HTTP_PORT"
URL6="http://[$VIP_V6]:$HTTP_PORT"

# --- 1. HTTP through both VIPs ----------------------------------------------------------------------
log_step "1. HTTP through the SYN-proxied VIPs"
fresh_stats
cookies0=$(counter syn_proxy_cookies_sent) done0=$(counter syn_proxy_handshakes_completed)
for family in 4 6; do
    if [ "$family" = 4 ]; then url=$URL4; else url=$URL6; fi
    ok=0 bad=""
    for i in 1 2 3 4 5 6; do
        out=$(ns_exec sl-cli curl -gsS -m 3 -w '%{http_code}\n' "$url/whoami" 2>&1)
        read -r server source _ <<<"$(head -n 1 <<<"$out")"
        code=$(tail -n 1 <<<"$out")
        if [ "${code:-}" = 200 ] && [[ "${server:-}" == rs[123] ]]; then ok=$((ok + 1)); fi
        is_lip "${source:-}" || bad="$out"
    done
    check_eq "IPv$family: 6/6 HTTP 200 through the syn_proxy VIP" 6 "$ok"
    check_eq "IPv$family: the backends saw only LIPs" "" "$bad"
done
fresh_stats
check "the 12 handshakes were answered with cookies (syn_proxy_cookies_sent)" \
    test "$(counter syn_proxy_cookies_sent)" -ge $((cookies0 + 12))
check "the 12 connections completed the RS handshake through the proxy (syn_proxy_handshakes_completed)" \
    test "$(counter syn_proxy_handshakes_completed)" -ge $((done0 + 12))

# --- 2. Bulk transfers with the client's TCP options switched on and off ----------------------------
log_step "2. 10 MB down / 10 MB up with timestamps, SACK, window scaling each on and off"
save_sysctls
log "    client sysctls before: ${SAVED_SYSCTLS[*]}"
upload="$WORK/upload.bin"
head -c 10485760 /dev/urandom >"$upload"
up_expected="10485760 $(sha256sum "$upload" | cut -d' ' -f1)"
down_expected=$(cat "$LAB_DIR/10mb.sha256")
for combo in "all on:1 1 1" "timestamps off:0 1 1" "SACK off:1 0 1" "window scaling off:1 1 0" "all off:0 0 0"; do
    label=${combo%%:*}
    read -r ts sack ws <<<"${combo#*:}"
    client_options "$ts" "$sack" "$ws"
    start_capture "opts"
    for family in 4 6; do
        if [ "$family" = 4 ]; then url=$URL4; else url=$URL6; fi
        check_eq "$label, IPv$family: 10 MB download intact" "$down_expected" \
            "$(ns_exec sl-cli curl -gsS -m 30 "$url/10mb" | sha256sum | cut -d' ' -f1)"
        check_eq "$label, IPv$family: 10 MB upload intact" "$up_expected" \
            "$(ns_exec sl-cli curl -gsS -m 30 --data-binary @"$upload" "$url/upload" | cut -d' ' -f2-)"
    done
    stop_capture "opts" >"$WORK/opts.txt"
    # The RS leg: one SYN per transfer, from a LIP, offering exactly the options the client offered.
    check_eq "$label: one SYN per transfer (4) reached the backends" 4 "$(wc -l <"$WORK/opts.txt")"
    check_eq "$label: the backends' SYNs all came from LIPs" "" "$(non_lip_sources "$WORK/opts.txt")"
    expect="mss=1 sack=$sack ts=$ts ws=$ws"
    wrong=$(awk -v want="$expect" '{
        got = sprintf("mss=%d sack=%d ts=%d ws=%d", /mss [0-9]/, /sackOK/, /TS val/, /wscale/)
        if (got != want) print $1, $2, got }' "$WORK/opts.txt")
    check_eq "$label: the proxy's SYN to the real server offers the client's options ($expect)" "" "$wrong"
done
restore_sysctls
check_eq "the client's TCP sysctls are restored" "${SAVED_SYSCTLS[*]}" \
    "$(for key in $TCP_SYSCTLS; do printf '%s=%s ' "$key" "$(ip netns exec sl-cli sysctl -n "$key")"; done |
        sed 's/ $//')"

# --- 3. SYN flood -----------------------------------------------------------------------------------
log_step "3. ${FLOOD_SECONDS} s random-source SYN flood at $VIP_V4:$HTTP_PORT with a legitimate client"
fresh_stats
syns0=$(counter syn_proxy_syns_received) cookies0=$(counter syn_proxy_cookies_sent)
conns0=$(counter connections) ports0=$(counter local_ports_in_use) created0=$(counter connections_created)
log "    before: connections=$conns0 local_ports_in_use=$ports0"
start_capture "flood"
ns_exec sl-cli "$PYTHON" "$E2E_DIR/legit_requests.py" "$VIP_V4" "$HTTP_PORT" $((FLOOD_SECONDS + 2)) >"$WORK/legit.out" 2>&1 &
legit_pid=$!
sleep 1
ns_exec sl-cli timeout "$FLOOD_SECONDS" hping3 -S -p "$HTTP_PORT" --flood --rand-source "$VIP_V4" \
    >"$WORK/hping.out" 2>&1 &
flood_pid=$!
max_conns=0 max_ports=0
while kill -0 "$flood_pid" 2>/dev/null; do
    sleep 0.5
    c=$(counter connections) p=$(counter local_ports_in_use)
    [ "$c" -gt "$max_conns" ] && max_conns=$c
    [ "$p" -gt "$max_ports" ] && max_ports=$p
done
wait "$flood_pid"
wait "$legit_pid"
legit=$(cat "$WORK/legit.out")
log "    legitimate client: $legit"
log "    hping3: $(grep -m1 'packets transmitted' "$WORK/hping.out")"
stop_capture "flood" >"$WORK/flood.txt"
fresh_stats
legit_ok=$(sed -n 's/.*ok=\([0-9]*\).*/\1/p' <<<"$legit")
legit_ok=${legit_ok:-0}
syns=$(($(counter syn_proxy_syns_received) - syns0)) cookies=$(($(counter syn_proxy_cookies_sent) - cookies0))
created=$(($(counter connections_created) - created0))
conns=$(counter connections) ports=$(counter local_ports_in_use)
log "    sluice: syn_proxy_syns_received +$syns, syn_proxy_cookies_sent +$cookies, connections_created +$created"
log "    gauges: connections max $max_conns during / $conns after, local_ports_in_use max $max_ports / $ports after"
check "the legitimate client made connections throughout the flood (ok=$legit_ok)" test "$legit_ok" -ge 50
check_eq "no legitimate connection failed during the flood" "failed=0" "$(grep -o 'failed=[0-9]*' <<<"$legit")"
check "the flood reached the proxy: syn_proxy_syns_received +$syns >= 10000" test "$syns" -ge 10000
check "every flooded SYN was answered with a cookie: syn_proxy_cookies_sent +$cookies >= 10000" \
    test "$cookies" -ge 10000
check "the flood created no connections: connections_created +$created <= legitimate $legit_ok + 5" \
    test "$created" -le $((legit_ok + 5))
check "the connections gauge never exceeded the legitimate connections (max $max_conns <= $conns0 + $legit_ok)" \
    test "$max_conns" -le $((conns0 + legit_ok))
check "after the flood, connections $conns <= legitimate connections $legit_ok (+$conns0 before)" \
    test "$conns" -le $((conns0 + legit_ok))
check "local_ports_in_use never exceeded the legitimate connections (max $max_ports <= $ports0 + $legit_ok)" \
    test "$max_ports" -le $((ports0 + legit_ok))
check "after the flood, local_ports_in_use $ports <= legitimate connections $legit_ok (+$ports0 before)" \
    test "$ports" -le $((ports0 + legit_ok))
backend_syns=$(wc -l <"$WORK/flood.txt")
log "    SYNs at the backends during the flood: $backend_syns from $(awk '{ print $2 }' "$WORK/flood.txt" | sort -u |
    tr '\n' ' ')"
check_eq "no flooded source reached a backend: every SYN at the backends came from a LIP" "" \
    "$(non_lip_sources "$WORK/flood.txt")"
check "SYNs at the backends ($backend_syns) ~ legitimate connections ($legit_ok), not the flood ($syns)" \
    test "$backend_syns" -ge "$legit_ok" -a "$backend_syns" -le $((legit_ok + legit_ok / 20 + 5))

# --- 4. ACKs with a bad cookie ----------------------------------------------------------------------
# Source ports 20000-20019 lie below the client's ephemeral range (32768-60999), so no ACK can hit the
# tuple of a legitimate connection from section 3 that still has an entry (it would be forwarded).
log_step "4. ACKs with bad cookies (random seq/ack) to both VIPs"
fresh_stats
bad0=$(counter drop_bad_cookie) invalid0=$(counter syn_proxy_acks_invalid) created0=$(counter connections_created)
resets0=$(counter syn_proxy_resets_sent)
conns0=$(counter connections)
start_capture "badack"
ns_exec sl-cli hping3 -A -p "$HTTP_PORT" -s 20000 -M "$((RANDOM * 32768 + RANDOM))" -L "$((RANDOM * 32768 + RANDOM))" \
    -c 20 -i u10000 "$VIP_V4" >"$WORK/hping-ack.out" 2>&1
ns_exec sl-cli "$PYTHON" "$WORK/badack6.py" "$VIP_V6" "$HTTP_PORT" 10
fresh_stats
stop_capture "badack" >"$WORK/badack.txt"
bad=$(($(counter drop_bad_cookie) - bad0)) invalid=$(($(counter syn_proxy_acks_invalid) - invalid0))
created=$(($(counter connections_created) - created0)) conns=$(counter connections)
log "    drop_bad_cookie +$bad, syn_proxy_acks_invalid +$invalid, connections_created +$created," \
    "connections $conns0 -> $conns"
check_eq "30 bad-cookie ACKs (20 IPv4, 10 IPv6) counted as drop_bad_cookie" 30 "$bad"
check_eq "and as syn_proxy_acks_invalid" 30 "$invalid"
check_eq "bad-cookie ACKs created no connection (connections_created)" 0 "$created"
check "bad-cookie ACKs did not raise the connections gauge ($conns <= $conns0)" test "$conns" -le "$conns0"
check_eq "bad-cookie ACKs sent no SYN to any backend" 0 "$(wc -l <"$WORK/badack.txt")"
check_eq "with rst_on_bad_cookie: false no RST answered them (syn_proxy_resets_sent)" 0 \
    "$(($(counter syn_proxy_resets_sent) - resets0))"
check_eq "hping3 got no reply to its bad-cookie ACKs" "20 packets transmitted, 0 packets received" \
    "$(grep -o '[0-9]* packets transmitted, [0-9]* packets received' "$WORK/hping-ack.out")"

# --- 5. A real server that refuses ------------------------------------------------------------------
log_step "5. syn_proxy service $VIP_V4:$REFUSE_PORT -> $(rs_v4 1):9 (closed port)"
fresh_stats
refused0=$(counter syn_proxy_server_refused)
start_capture "refuse"
# What the client sees of the service: our SYN-ACK (the cookie) and the RST that must follow it.
ip netns exec sl-cli tcpdump -n -S -U --immediate-mode -i eth0 -w "$WORK/client81.pcap" \
    "tcp src port $REFUSE_PORT and src host $VIP_V4" 2>"$WORK/client81.err" &
client_capture=$!
CAPTURE_PIDS+=("$client_capture")
wait_for_log "$WORK/client81.err" 'listening on' 5
start=$(date +%s%N)
out=$(ns_exec sl-cli curl -v -sS -m 10 -o /dev/null "http://$VIP_V4:$REFUSE_PORT/" 2>&1)
rc=$?
elapsed=$((($(date +%s%N) - start) / 1000000))
stop_capture "refuse" >"$WORK/refuse.txt"
fresh_stats
refused=$(($(counter syn_proxy_server_refused) - refused0))
log "    curl exit $rc after $elapsed ms: $(grep -E '^curl: ' <<<"$out")"
log "    curl -v: $(grep -iE 'connect.*failed|recv failure|send failure' <<<"$out" | head -n 1)"
# The client's handshake was completed by the proxy, so the RST reaches an ESTABLISHED socket: ECONNRESET
# ("Connection reset by peer"). Which curl error that becomes depends on when curl notices: 7 during its
# connect check, 55 on sending the request, 56 on reading the answer. 28 would be a timeout.
check "curl to the refusing service fails, and not by timing out (exit 7, 55 or 56, got $rc)" \
    bash -c "[ $rc = 7 ] || [ $rc = 55 ] || [ $rc = 56 ]"
check "the client learns it at once ($elapsed ms < 1000 ms)" test "$elapsed" -lt 1000
check "the client's socket was reset by the peer (curl -v: Connection reset by peer / refused)" \
    grep -Eqi 'connection reset by peer|connection refused' <<<"$out"
check_eq "syn_proxy_server_refused counted it" 1 "$refused"
check_eq "the proxy's SYN went to rs1 port 9" "rs1 9" \
    "$(awk '{ print $1, $3 }' "$WORK/refuse.txt" | sort -u | paste -sd' ')"
check_eq "the proxy's SYN to rs1 came from a LIP" "" "$(non_lip_sources "$WORK/refuse.txt")"
# RFC 5961 §3: the client accepts a RST only with seq = its RCV.NXT, here the cookie + 1.
synack_rst=$(tcpdump -n -S -r "$WORK/client81.pcap" 2>/dev/null | awk '
    /Flags \[S\.\]/ { match($0, /seq [0-9]+/); cookie = substr($0, RSTART + 4, RLENGTH - 4) }
    /Flags \[R/ { match($0, /seq [0-9]+/); rst = substr($0, RSTART + 4, RLENGTH - 4) }
    END {
        if (cookie == "" || rst == "") print "synack=" cookie " rst=" rst
        else if (rst + 0 == (cookie + 1) % 4294967296) print "exact"
        else print "cookie " cookie " rst seq " rst
    }')
check_eq "the client got the proxy's SYN-ACK, then a RST with seq = cookie + 1" exact "$synack_rst"

# --- the end ----------------------------------------------------------------------------------------
check "no backend ever saw the client's address" \
    bash -c "! cat $LAB_DIR/rs?/access.log | grep -E '^($CLI_V4|$CLI_V6) '"
log_step "stopping sluice (SIGTERM)"
if stop_sluice; then pass "sluice exits 0 on SIGTERM"; else fail "sluice exits 0 on SIGTERM"; fi
check_eq "no XDP program left on sl-gw's interfaces" "" "$(xdp_attached sl-gw)"
finish
