#!/usr/bin/env bash
# test_health.sh -- health checks, expiry of a dead server's connections, sorry server and reloads,
# with real backends in the namespace lab.
#
#  1. tcp checks (interval 1s, timeout 500ms, fall 2, rise 2) on web (rs1..3, rr): after start every
#     server proves itself; nginx on rs2 is stopped: after fall x interval + timeout + 1 s, 100
#     requests in a row all succeed, and the log has one event=rs_down line for rs2 with L4CON and the
#     live count; nginx is started again: rs2 gets traffic again within rise x interval (+ slack).
#  2. an http check expecting 200 on a health port takes down rs3, whose health endpoint answers 503
#     (L7STS); no request goes to rs3.
#  3. an exec check: a marker file makes the command fail for rs1 (PROCERR); no request reaches rs1.
#  4. every real server down (checked on a port nothing listens on): the sorry server answers.
#  5. a long, slow download from a server that dies silently (nftables drops its traffic) ends in a
#     reset within the fall window, instead of hanging.
#  6. 30 reloads during 300 requests and 4 long downloads: no failure, every sha256 intact.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd nginx curl python3 nft sha256sum
require_sluice
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
WORK=$(mktemp -d /tmp/sluice-health.XXXXXX)
CONFIG="$WORK/sluice.yaml"
HEALTH_PORT=8099
cleanup() {
    stop_sluice >/dev/null 2>&1
    ip netns exec sl-rs1 nft delete table inet sluice_dead 2>/dev/null
    "$LAB" down >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

# write_config MARKER: five services; MARKER only changes a comment (a reload with no difference).
write_config() {
    cat >"$CONFIG.tmp" <<YAML
interfaces: { external: ext0, internal: int0 }
local_address_groups:
  lips: [10.20.0.240, 10.20.0.241]
virtual_servers:
  - name: web
    vip: $VIP_V4
    port: 80
    protocol: tcp
    scheduler: rr
    local_address_group: lips
    health_check: { type: tcp, interval: 1s, timeout: 500ms, rise: 2, fall: 2 }
    real_servers:
      - { address: $(rs_v4 1), port: $RS_HTTP_PORT }
      - { address: $(rs_v4 2), port: $RS_HTTP_PORT }
      - { address: $(rs_v4 3), port: $RS_HTTP_PORT }
  - name: web-http
    vip: $VIP_V4
    port: 81
    protocol: tcp
    scheduler: rr
    local_address_group: lips
    health_check:
      type: http
      interval: 1s
      timeout: 500ms
      rise: 1
      fall: 1
      port: $HEALTH_PORT
      http: { path: /health, expect_status: ["200"] }
    real_servers:
      - { address: $(rs_v4 1), port: $RS_HTTP_PORT }
      - { address: $(rs_v4 3), port: $RS_HTTP_PORT }
  - name: web-exec
    vip: $VIP_V4
    port: 82
    protocol: tcp
    scheduler: rr
    local_address_group: lips
    health_check:
      type: exec
      interval: 1s
      timeout: 900ms
      rise: 1
      fall: 1
      exec: { command: ["/bin/sh", "-c", "test ! -e $WORK/down-\$SLUICE_RS_ADDRESS"] }
    real_servers:
      - { address: $(rs_v4 1), port: $RS_HTTP_PORT }
      - { address: $(rs_v4 2), port: $RS_HTTP_PORT }
  - name: web-sorry
    vip: $VIP_V4
    port: 83
    protocol: tcp
    scheduler: rr
    local_address_group: lips
    health_check: { type: tcp, port: 8097, interval: 1s, timeout: 500ms, rise: 1, fall: 1 }
    sorry_server: { address: $(rs_v4 3), port: $RS_HTTP_PORT }
    real_servers:
      - { address: $(rs_v4 1), port: $RS_HTTP_PORT }
      - { address: $(rs_v4 2), port: $RS_HTTP_PORT }
  - name: dl
    vip: $VIP_V4
    port: 84
    protocol: tcp
    scheduler: rr
    local_address_group: lips
    health_check: { type: tcp, interval: 1s, timeout: 500ms, rise: 1, fall: 2 }
    real_servers:
      - { address: $(rs_v4 1), port: $RS_HTTP_PORT }
# reload $1
YAML
    mv "$CONFIG.tmp" "$CONFIG"
}

# whoami_counts PORT N: N sequential requests to VIP:PORT/whoami; prints "rs1=N rs2=N rs3=N failed=N".
whoami_counts() { ns_exec sl-cli "$PYTHON" "$E2E_DIR/whoami_count.py" "$VIP_V4" "$1" "$2"; }
count_of() { grep -o "$1=[0-9]*" <<<"$2" | cut -d= -f2; }
field() { grep -o "$1=[0-9]*" <<<"$2"; }

# A health endpoint on every backend: 200 on rs1 and rs2, 503 on rs3.
cat >"$WORK/health.py" <<'PY'
import http.server, sys
code = int(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(code if self.path == "/health" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), H).serve_forever()
PY

"$LAB" up || { fail "lab.sh up"; finish; }
for n in 1 2 3; do
    code=200
    [ "$n" = 3 ] && code=503
    ip netns exec "sl-rs$n" "$PYTHON" "$WORK/health.py" "$HEALTH_PORT" "$code" >/dev/null 2>&1 &
done
write_config 0
if start_sluice "$CONFIG"; then
    pass "sluice run starts with health checks on five services"
else
    fail "sluice run starts with health checks on five services"
    finish
fi

log_step "1. tcp checks: servers start down and come up after rise successes"
for n in 1 2 3; do
    check "web rs$n comes up after its first checks (event=rs_up logged)" \
        wait_for_log "$SLUICE_LOG" "event=rs_up vs=web vip=tcp/$VIP_V4:80 rs=$(rs_v4 "$n"):$RS_HTTP_PORT" 10
done
counts=$(whoami_counts 80 30)
log "    all up: $counts"
check_eq "all up: 30/30 answered" "failed=0" "$(field failed "$counts")"
check "all up: every server answers" \
    test "$(count_of rs1 "$counts")" -gt 0 -a "$(count_of rs2 "$counts")" -gt 0 -a "$(count_of rs3 "$counts")" -gt 0

log_step "nginx on rs2 stops"
ip netns exec sl-rs2 nginx -c "$LAB_DIR/rs2/nginx.conf" -p "$LAB_DIR/rs2" -s stop
sleep 3.5 # fall (2) x interval (1 s) + timeout (0.5 s) + 1 s
counts=$(whoami_counts 80 100)
log "    rs2 dead: $counts"
check_eq "rs2 dead: 100 requests in a row all succeed, none to rs2" "failed=0 rs2=0" \
    "$(field failed "$counts") $(field rs2 "$counts")"
down_line=$(grep "event=rs_down vs=web " "$SLUICE_LOG" | grep "rs=$(rs_v4 2):$RS_HTTP_PORT" | head -1)
log "    | $down_line"
check "the log says when and why (rs_down, vs, vip, rs, check, L4CON, duration, live=2/3)" \
    grep -Eq "vip=tcp/$VIP_V4:80 rs=$(rs_v4 2):$RS_HTTP_PORT check=tcp status=L4CON duration_ms=[0-9]+ live=2/3" \
    <<<"$down_line"

log_step "nginx on rs2 starts again"
ip netns exec sl-rs2 nginx -c "$LAB_DIR/rs2/nginx.conf" -p "$LAB_DIR/rs2" -e "$LAB_DIR/rs2/error.log"
sleep 3 # rise (2) x interval (1 s) + 1 s
counts=$(whoami_counts 80 30)
log "    rs2 back: $counts"
check "rs2 gets traffic again after rise x interval" test "$(count_of rs2 "$counts")" -gt 0
check "the log has event=rs_up for rs2 with L4OK" \
    wait_for_log "$SLUICE_LOG" "event=rs_up vs=web .*rs=$(rs_v4 2):$RS_HTTP_PORT check=tcp status=L4OK" 1

log_step "2. http check: rs3 answers 503 on /health"
counts=$(whoami_counts 81 40)
log "    web-http: $counts"
check_eq "web-http: 40/40 answered, none by rs3" "failed=0 rs3=0" "$(field failed "$counts") $(field rs3 "$counts")"
check "web-http: rs3 never comes up" bash -c "! grep -q 'event=rs_up vs=web-http .*rs=$(rs_v4 3):' '$SLUICE_LOG'"
check "web-http: rs1 came up with L7OK" \
    wait_for_log "$SLUICE_LOG" "event=rs_up vs=web-http .*rs=$(rs_v4 1):$RS_HTTP_PORT check=http status=L7OK" 1

log_step "3. exec check: a marker file fails rs1's command"
touch "$WORK/down-$(rs_v4 1)"
check "web-exec: rs1 goes down with PROCERR" \
    wait_for_log "$SLUICE_LOG" "event=rs_down vs=web-exec .*rs=$(rs_v4 1):$RS_HTTP_PORT check=exec status=PROCERR" 5
counts=$(whoami_counts 82 30)
log "    web-exec: $counts"
check_eq "web-exec: 30/30 answered, none by rs1" "failed=0 rs1=0" "$(field failed "$counts") $(field rs1 "$counts")"

log_step "4. sorry server: every web-sorry server fails its check"
counts=$(whoami_counts 83 10)
log "    web-sorry: $counts"
check_eq "web-sorry: the sorry server (rs3) answers every request" "failed=0 rs3=10" \
    "$(field failed "$counts") $(field rs3 "$counts")"
check "web-sorry: the quorum loss is logged with the sorry server" \
    grep -q "event=vs_quorum_lost vs=web-sorry .*sorry_server=$(rs_v4 3):$RS_HTTP_PORT" "$SLUICE_LOG"

log_step "5. a slow download from a server that dies silently is reset, not left hanging"
ns_exec sl-cli curl -s -o /dev/null --limit-rate 200k -w '%{size_download}' "http://$VIP_V4:84/10mb" \
    >"$WORK/dl.out" 2>&1 &
dl_pid=$!
sleep 2
ip netns exec sl-rs1 nft -f - <<'NFT'
table inet sluice_dead {
    chain input { type filter hook input priority 0; tcp dport 8080 drop; }
    chain output { type filter hook output priority 0; tcp sport 8080 drop; }
}
NFT
died=$(date +%s%N)
for ((i = 0; i < 150; i++)); do
    kill -0 "$dl_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$dl_pid" 2>/dev/null; then
    kill "$dl_pid"
    fail "the download ends within 15 s of its server's death (it hung)"
else
    rc=0
    wait "$dl_pid" || rc=$?
    elapsed=$((($(date +%s%N) - died) / 1000000))
    log "    curl exit $rc after ${elapsed} ms, $(cat "$WORK/dl.out") bytes"
    check "the download ends with an error (reset), not a complete file" test "$rc" -ne 0
    check "it ends within the fall window + 2 s (fall 2 x 1 s + timeout 0.5 s + sweep)" test "$elapsed" -lt 4500
fi
sleep 1.2
check "a RST was sent for the dead server's connection (no_destination_resets)" \
    test "$(stat_value "$SLUICE_STATS" no_destination_resets)" -ge 1
ip netns exec sl-rs1 nft delete table inet sluice_dead

log_step "6. 30 reloads during 300 requests and 4 long downloads"
long_pids=""
for n in 1 2 3 4; do
    ns_exec sl-cli bash -c "curl -s --limit-rate 2m 'http://$VIP_V4/10mb' | sha256sum" >"$WORK/long$n.out" 2>&1 &
    long_pids+=" $!"
done
ns_exec sl-cli "$PYTHON" "$E2E_DIR/whoami_count.py" "$VIP_V4" 80 300 >"$WORK/reload-count.out" 2>&1 &
count_pid=$!
applied=0
for r in $(seq 1 30); do
    write_config "$r"
    reload_sluice && applied=$((applied + 1))
    sleep 0.15
done
check_eq "30 reloads applied" 30 "$applied"
wait "$count_pid"
counts=$(cat "$WORK/reload-count.out")
log "    during reloads: $counts"
check_eq "300 requests during 30 reloads: 0 failures" "failed=0" "$(field failed "$counts")"
# shellcheck disable=SC2086
wait $long_pids
expected=$(cut -d' ' -f1 "$LAB_DIR/10mb.sha256")
for n in 1 2 3 4; do
    check_eq "long download $n: sha256 intact across the reloads" "$expected" "$(cut -d' ' -f1 "$WORK/long$n.out")"
done
check_eq "no reload was refused" "" "$(grep 'event=reload_refused' "$SLUICE_LOG")"

if stop_sluice; then pass "sluice exits 0 on SIGTERM"; else fail "sluice exits 0 on SIGTERM"; fi
finish
