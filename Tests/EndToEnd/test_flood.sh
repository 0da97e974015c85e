#!/usr/bin/env bash
# test_flood.sh -- floods against services WITHOUT syn_proxy: true, in the namespace lab.
#
# The shipped Config/sluice.yaml, whose web service has `syn_proxy: auto` (the default). With
# synproxy.auto_half_open lowered to 64 so the flood passes it within milliseconds:
#   1. An hping3 --rand-source SYN flood at VIP:80 while a legitimate client connects in a loop: every
#      legitimate request succeeds; the defence engages (syn_proxy_auto_engaged, the log's
#      event=defence_engaged kind=syn_proxy_auto_cookies) and local ports in use stay near the
#      threshold instead of growing with the flood; after the flood, half-open entries expire, the
#      defence disengages and plain FULLNAT serves again (a SYN reaches a backend from a LIP).
#   2. An hping3 UDP flood at the UDP echo service from one (spoofed, fixed) source address over ever
#      new source ports: that source stops at udp_source_flow_limit (drop_udp_source_flow_limit,
#      logged), while the legitimate client opens new flows (a new socket per query) through the flood,
#      each answered, at most one resend later (the overloaded receive ring drops about 1 % of frames).
#   3. An hping3 --rand-source UDP flood at the same service (whose echo answers every spoofed source)
#      while a legitimate client talks over one flow: the flow keeps its echo; new UDP flows are refused
#      past the service's budget (udp_flow_limit, lowered to 20000 here; drop_udp_flow_limit, logged as
#      event=defence_engaged), and TCP requests to the same LIPs still succeed during the flood.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd nginx curl ethtool python3 hping3 timeout
require_sluice
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
FLOOD_SECONDS=${FLOOD_SECONDS:-8}
AUTO_HALF_OPEN=64
UDP_FLOW_LIMIT=20000
FLOODER_V4=10.10.1.99
WORK=$(mktemp -d /tmp/sluice-flood.XXXXXX)
CONFIG="$WORK/sluice.yaml"
trap 'stop_sluice >/dev/null 2>&1; "$LAB" down >/dev/null 2>&1; rm -rf "$WORK"' EXIT

grep -q '^    syn_proxy: auto$' "$REPO_ROOT/Config/sluice.yaml" || fail "Config/sluice.yaml's web has syn_proxy: auto"
grep -q '^  udp_flow_limit: ' "$REPO_ROOT/Config/sluice.yaml" || fail "Config/sluice.yaml sets dataplane.udp_flow_limit"
sed -e "s/^  auto_half_open: .*/  auto_half_open: $AUTO_HALF_OPEN/" \
    -e "s/^  udp_flow_limit: .*/  udp_flow_limit: $UDP_FLOW_LIMIT/" "$REPO_ROOT/Config/sluice.yaml" >"$CONFIG"
counter() { local v; v=$(stat_value "$SLUICE_STATS" "$1"); echo "${v:-0}"; }


# One UDP flow (one socket): a datagram every 50 ms, each answered by the backend's echo.
cat >"$WORK/udp_legit.py" <<'PY'
import socket, sys, time
vip, port, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.connect((vip, port))
ok = failed = 0
end = time.monotonic() + duration
n = 0
while time.monotonic() < end:
    n += 1
    payload = f"legit {n}".encode()
    try:
        s.send(payload)
        while True:
            data = s.recv(2048)
            if payload in data:
                break
        ok += 1
    except OSError:
        failed += 1
    time.sleep(0.05)
print(f"ok={ok} failed={failed}")
PY

# New flows: each query from a new socket (a new source port), each answered by the backend's echo.
# A query unanswered within 1 s is sent once more on the same flow, as a UDP client (a resolver) would:
# the flood overloads the gateway's receive ring, and the kernel drops about 1 % of all frames there,
# legitimate ones too, before Sluice sees them. A flow the defence refused would stay refused (the
# budget is per source address), so "answered at most one retry later" still tells the two apart.
cat >"$WORK/udp_new_flows.py" <<'PY'
import socket, sys, time
vip, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ok = failed = retried = 0
for n in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    for attempt in range(2):
        try:
            s.sendto(f"new {n}".encode(), (vip, port))
            s.recv(2048)
            ok += 1
            break
        except OSError:
            if attempt == 0:
                retried += 1
            else:
                failed += 1
    s.close()
    time.sleep(0.1)
print(f"ok={ok} failed={failed} retried={retried}")
PY

"$LAB" up || { fail "lab.sh up"; finish; }
if start_sluice "$CONFIG"; then pass "sluice run starts (web: syn_proxy auto, auto_half_open $AUTO_HALF_OPEN)"; else
    fail "sluice run starts"
    finish
fi

log_step "1. ${FLOOD_SECONDS} s random-source SYN flood at $VIP_V4:$HTTP_PORT (no syn_proxy: true)"
ns_exec sl-cli "$PYTHON" "$E2E_DIR/legit_requests.py" "$VIP_V4" "$HTTP_PORT" $((FLOOD_SECONDS + 2)) 0.05 >"$WORK/legit.out" 2>&1 &
legit_pid=$!
sleep 1
ns_exec sl-cli timeout "$FLOOD_SECONDS" hping3 -S -p "$HTTP_PORT" --flood --rand-source "$VIP_V4" \
    >"$WORK/hping.out" 2>&1 &
flood_pid=$!
max_ports=0
while kill -0 "$flood_pid" 2>/dev/null; do
    sleep 0.5
    p=$(counter local_ports_in_use)
    [ "$p" -gt "$max_ports" ] && max_ports=$p
done
wait "$legit_pid"
legit=$(cat "$WORK/legit.out")
log "    legitimate client: $legit"
log "    hping3: $(grep -m1 'packets transmitted' "$WORK/hping.out")"
sleep 1.2
cookies=$(counter syn_proxy_auto_cookies)
log "    sluice: syn_proxy_auto_cookies $cookies, engaged $(counter syn_proxy_auto_engaged), local_ports_in_use max $max_ports"
legit_ok=$(sed -n 's/.*ok=\([0-9]*\).*/\1/p' <<<"$legit")
check "the legitimate client made requests throughout the flood (ok=${legit_ok:-0})" test "${legit_ok:-0}" -ge 40
check_eq "no legitimate request failed during the flood" "failed=0" "$(grep -o 'failed=[0-9]*' <<<"$legit")"
check "the defence engaged: SYNs answered with cookies ($cookies >= 10000)" test "$cookies" -ge 10000
check "local ports in use stayed near the threshold (max $max_ports <= 4 x $AUTO_HALF_OPEN + legitimate)" \
    test "$max_ports" -le $((4 * AUTO_HALF_OPEN + ${legit_ok:-0}))
check "the log says the defence engaged" grep -q "event=defence_engaged kind=syn_proxy_auto_cookies" "$SLUICE_LOG"
# The flood's half-open entries live while the backends retransmit their SYN-ACKs to the spoofed
# sources (about a minute); the defence disengages at the first SYN that finds fewer than half the
# threshold. Requests go on meanwhile, and every one must succeed.
log "    requests every 2 s until the defence disengages"
after_ok=0 after_failed=0
for ((i = 0; i < 60; i++)); do
    if ns_exec sl-cli curl -fsS -m 5 -o /dev/null "http://$VIP_V4:$HTTP_PORT/"; then
        after_ok=$((after_ok + 1))
    else
        after_failed=$((after_failed + 1))
    fi
    sleep 1.2
    [ "$(counter syn_proxy_auto_disengaged)" -ge 1 ] && break
    sleep 0.8
done
check_eq "every request after the flood succeeded ($after_ok)" 0 "$after_failed"
check "the defence disengaged once the half-open entries expired" test "$(counter syn_proxy_auto_disengaged)" -ge 1
# The log's episode ends after ten quiet seconds of the cookie counter.
check "the log says so" wait_for_log "$SLUICE_LOG" "event=defence_disengaged kind=syn_proxy_auto_cookies" 15
created0=$(counter connections_created) cookies0=$(counter syn_proxy_auto_cookies)
check "a request after that succeeds" ns_exec sl-cli curl -fsS -m 5 -o /dev/null "http://$VIP_V4:$HTTP_PORT/"
sleep 1.2
check "...through plain FULLNAT (its SYN opened a connection, no cookie)" \
    test "$(counter connections_created)" -gt "$created0" -a "$(counter syn_proxy_auto_cookies)" -eq "$cookies0"

log_step "2. ${FLOOD_SECONDS} s UDP flood from one source ($FLOODER_V4) over ever new ports, new legitimate flows"
source_refused0=$(counter drop_udp_source_flow_limit)
ns_exec sl-cli timeout "$FLOOD_SECONDS" hping3 --udp -p "$UDP_PORT" --flood -a "$FLOODER_V4" -d 16 "$VIP_V4" \
    >"$WORK/hping-source.out" 2>&1 &
flood_pid=$!
sleep 2
fresh=$(ns_exec sl-cli "$PYTHON" "$WORK/udp_new_flows.py" "$VIP_V4" "$UDP_PORT" 40)
wait "$flood_pid"
source_refused=$(($(counter drop_udp_source_flow_limit) - source_refused0))
log "    new legitimate flows: $fresh; drop_udp_source_flow_limit +$source_refused"
check "the flooding source was held to its budget ($source_refused refused)" test "$source_refused" -gt 0
check_eq "every new legitimate flow was answered during it (one retry allowed)" "failed=0" \
    "$(grep -o 'failed=[0-9]*' <<<"$fresh")"
check "the log says the per-source defence engaged" \
    grep -q "event=defence_engaged kind=drop_udp_source_flow_limit" "$SLUICE_LOG"
log_step "3. ${FLOOD_SECONDS} s random-source UDP flood at $VIP_V4:$UDP_PORT with one answered flow"
ns_exec sl-cli "$PYTHON" "$WORK/udp_legit.py" "$VIP_V4" "$UDP_PORT" $((FLOOD_SECONDS + 2)) >"$WORK/udp.out" 2>&1 &
udp_pid=$!
sleep 1
ns_exec sl-cli timeout "$FLOOD_SECONDS" hping3 --udp -p "$UDP_PORT" --flood --rand-source -d 16 "$VIP_V4" \
    >"$WORK/hping-udp.out" 2>&1 &
flood_pid=$!
sleep 3
tcp_during=$(ns_exec sl-cli "$PYTHON" "$E2E_DIR/legit_requests.py" "$VIP_V4" "$HTTP_PORT" 2 0.05)
log "    TCP during the UDP flood: $tcp_during"
wait "$flood_pid"
wait "$udp_pid"
udp=$(cat "$WORK/udp.out")
sleep 1.2
refused=$(counter drop_udp_flow_limit)
log "    legitimate flow: $udp; drop_udp_flow_limit $refused, local_ports_in_use $(counter local_ports_in_use)"
udp_ok=$(sed -n 's/.*ok=\([0-9]*\).*/\1/p' <<<"$udp")
check "the answered flow kept its echo through the flood (ok=${udp_ok:-0})" test "${udp_ok:-0}" -ge 40
# The flood fills the receive rings, so a datagram of the flow may be lost like any other (UDP does not
# retransmit): at most 1 in 50.
udp_failed=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<<"$udp")
check "at most 2% of the flow's datagrams were lost in the flood (${udp_failed:-?})" \
    test "${udp_failed:-1000}" -le $((${udp_ok:-0} / 50 + 1))
check "new UDP flows were refused past the service's budget ($refused > 0)" test "$refused" -gt 0
check "ports in use stayed at the budget ($(counter local_ports_in_use) <= $UDP_FLOW_LIMIT + 200)" \
    test "$(counter local_ports_in_use)" -le $((UDP_FLOW_LIMIT + 200))
check_eq "TCP requests to the same LIPs succeeded during the UDP flood" "failed=0" \
    "$(grep -o 'failed=[0-9]*' <<<"$tcp_during")"
check "the log says the UDP defence engaged" grep -q "event=defence_engaged kind=drop_udp_flow_limit" "$SLUICE_LOG"

stop_sluice || fail "sluice exits 0 on SIGTERM"
finish
