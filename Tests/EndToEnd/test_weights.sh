#!/usr/bin/env bash
# test_weights.sh -- scheduler weights and quiescent servers through Sluice in the namespace lab.
#
# Requirement: "weights honoured within ±10% over 3000 connections". A python client in sl-cli opens
# sequential short HTTP/1.0 connections to the IPv4 VIP's /whoami (one process, so 3000 connections take
# seconds, not the minutes 3000 curl processes would), and each answer names the backend. Each
# backend's share must be within ±10% (relative) of weight/total; the backends' access logs must agree
# with the client's count. wrr, wlc and rr are each run (rr ignores weights: equal shares).
#
# Quiescence (weight 0 = drain): a client holds a keep-alive connection to rs3 with a 10 MB download
# half read; the configuration is rewritten with rs3's weight 0 and reloaded with SIGHUP; new
# connections must no longer reach rs3, while the held connection finishes its download intact and
# answers one more request on the same connection, still from rs3.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd nginx curl ethtool python3 sha256sum
require_sluice
CONNECTIONS=${CONNECTIONS:-3000}
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
WORK=$(mktemp -d /tmp/sluice-weights.XXXXXX)
CONFIG="$WORK/sluice.yaml"
trap 'stop_sluice >/dev/null 2>&1; "$LAB" down >/dev/null 2>&1; rm -rf "$WORK"' EXIT

# write_config SCHEDULER W1 W2 W3: one IPv4 TCP service on the VIP, three backends with these weights.
write_config() {
    cat >"$CONFIG.tmp" <<EOF
interfaces: { external: ext0, internal: int0 }
local_address_groups:
  lips: [10.20.0.240, 10.20.0.241]
virtual_servers:
  - name: web
    vip: $VIP_V4
    port: $HTTP_PORT
    protocol: tcp
    scheduler: $1
    local_address_group: lips
    real_servers:
      - { address: $(rs_v4 1), port: $RS_HTTP_PORT, weight: $2 }
      - { address: $(rs_v4 2), port: $RS_HTTP_PORT, weight: $3 }
      - { address: $(rs_v4 3), port: $RS_HTTP_PORT, weight: $4 }
EOF
    mv "$CONFIG.tmp" "$CONFIG"
}

# The holding client: finds a keep-alive connection to TARGET, starts GET /10mb on it and reads 1 MB,
# writes READY, waits for GO, reads the rest, then asks /whoami again on the same connection.
# Prints "sha256=HEX again=rsN".
cat >"$WORK/hold.py" <<'PY'
import hashlib, http.client, os, sys, time
vip, port, target, ready, go = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
for _ in range(30):
    conn = http.client.HTTPConnection(vip, port, timeout=20)
    conn.request("GET", "/whoami")
    if conn.getresponse().read().split()[0].decode() == target:
        break
    conn.close()
else:
    sys.exit(f"no connection reached {target}")
conn.request("GET", "/10mb")
response = conn.getresponse()
digest = hashlib.sha256(response.read(1 << 20))
with open(ready, "w") as f:
    f.write(f"{conn.sock.getsockname()[1]}\n")
deadline = time.monotonic() + 30
while not os.path.exists(go):
    if time.monotonic() > deadline:
        sys.exit("no go signal")
    time.sleep(0.05)
digest.update(response.read())
conn.request("GET", "/whoami")
print(f"sha256={digest.hexdigest()} again={conn.getresponse().read().split()[0].decode()}")
PY

# whoami_lines N: how many /whoami requests backend rsN has logged.
whoami_lines() { grep -c '"GET /whoami ' "$LAB_DIR/rs$1/access.log" 2>/dev/null || true; }

# check_shares LABEL COUNTS W1 W2 W3: each rsN's share of the answered connections within ±10% of Wn/total.
check_shares() {
    local label=$1 counts=$2 weights=("$3" "$4" "$5") total_w=$(($3 + $4 + $5)) n c answered=0 verdict=ok detail=""
    for n in 1 2 3; do
        c=$(sed -n "s/.*rs$n=\([0-9]*\).*/\1/p" <<<"$counts")
        answered=$((answered + c))
    done
    for n in 1 2 3; do
        c=$(sed -n "s/.*rs$n=\([0-9]*\).*/\1/p" <<<"$counts")
        detail+=$(awk -v c="$c" -v a="$answered" -v w="${weights[n - 1]}" -v t="$total_w" -v n="$n" \
            'BEGIN { e = a * w / t; printf " rs%d %d/%.0f", n, c, e }')
        if ! awk -v c="$c" -v a="$answered" -v w="${weights[n - 1]}" -v t="$total_w" \
            'BEGIN { e = a * w / t; d = c - e; if (d < 0) d = -d; exit !(d <= 0.10 * e) }'; then
            verdict=bad
        fi
    done
    if [ "$verdict" = ok ] && [ "$answered" -gt 0 ]; then
        pass "$label: every backend's share within ±10% of its weight (got/expected:$detail)"
    else
        fail "$label: every backend's share within ±10% of its weight (got/expected:$detail)"
    fi
}

# run_spread LABEL SCHEDULER W1 W2 W3 N [E1 E2 E3]: reload with this scheduler and these weights, make N
# connections, check the shares against the expected ratio E (default: the weights) and that the backends'
# logs agree with what the client was told.
run_spread() {
    local label=$1 scheduler=$2 w1=$3 w2=$4 w3=$5 n=$6 e1=${7:-$3} e2=${8:-$4} e3=${9:-$5}
    local before=() after counts start elapsed i
    write_config "$scheduler" "$w1" "$w2" "$w3"
    if ! reload_sluice; then
        fail "$label: sluice reloads the configuration on SIGHUP"
        return
    fi
    for i in 1 2 3; do before[i]=$(whoami_lines "$i"); done
    start=$(date +%s%N)
    counts=$(ns_exec sl-cli "$PYTHON" "$E2E_DIR/whoami_count.py" "$VIP_V4" "$HTTP_PORT" "$n")
    elapsed=$((($(date +%s%N) - start) / 1000000))
    log "    $label: $counts in ${elapsed} ms"
    check_eq "$label: $n/$n connections answered" "failed=0" "$(grep -o 'failed=[0-9]*' <<<"$counts")"
    check_shares "$label" "$counts" "$e1" "$e2" "$e3"
    after=""
    for i in 1 2 3; do after+="rs$i=$(($(whoami_lines "$i") - before[i])) "; done
    check_eq "$label: the backends' access logs agree with the client's count" \
        "$(cut -d' ' -f1-3 <<<"$counts")" "${after% }"
}

"$LAB" up || { fail "lab.sh up"; finish; }
write_config wrr 100 100 50
if start_sluice "$CONFIG"; then
    pass "sluice run starts with a wrr 100/100/50 configuration"
else
    fail "sluice run starts with a wrr 100/100/50 configuration"
    finish
fi

run_spread "wrr 100/100/50" wrr 100 100 50 "$CONNECTIONS"
run_spread "wlc 100/100/50" wlc 100 100 50 "$CONNECTIONS"
run_spread "rr 100/100/50 (weights ignored)" rr 100 100 50 $((CONNECTIONS / 2)) 1 1 1
run_spread "wrr 300/200/100" wrr 300 200 100 $((CONNECTIONS / 2))

# Quiescence: drain rs3 (weight 0) while a connection to it is in the middle of a download.
log_step "quiescent rs3: weight 0 while a connection to it is mid-transfer"
write_config wrr 100 100 50
reload_sluice || fail "sluice reloads the configuration on SIGHUP"
rm -f "$WORK/ready" "$WORK/go"
ns_exec sl-cli "$PYTHON" "$WORK/hold.py" "$VIP_V4" "$HTTP_PORT" rs3 "$WORK/ready" "$WORK/go" \
    >"$WORK/hold.out" 2>&1 &
hold_pid=$!
if wait_for_file "$WORK/ready" 20; then
    pass "a keep-alive connection to rs3 is open with a 10 MB download under way"
    write_config wrr 100 100 0
    check "sluice reloads rs3's weight 0 on SIGHUP" reload_sluice
    counts=$(ns_exec sl-cli "$PYTHON" "$E2E_DIR/whoami_count.py" "$VIP_V4" "$HTTP_PORT" 300)
    log "    after the reload: $counts"
    check_eq "after weight 0: 300/300 new connections answered" "failed=0" "$(grep -o 'failed=[0-9]*' <<<"$counts")"
    check_eq "after weight 0: no new connection reaches rs3" "rs3=0" "$(grep -o 'rs3=[0-9]*' <<<"$counts")"
    check_shares "after weight 0 (wrr 100/100/0)" "$counts" 100 100 0
    touch "$WORK/go"
    wait "$hold_pid"
    hold_status=$?
    hold_out=$(cat "$WORK/hold.out")
    check_eq "the connection opened before the drain completes its 10 MB download intact" \
        "sha256=$(cat "$LAB_DIR/10mb.sha256")" "$(grep -o 'sha256=[0-9a-f]*' <<<"$hold_out")"
    check_eq "the same keep-alive connection still reaches rs3 after the drain" \
        "again=rs3 exit=0" "$(grep -o 'again=rs[0-9]*' <<<"$hold_out") exit=$hold_status"
else
    fail "a keep-alive connection to rs3 is open with a 10 MB download under way"
    sed 's/^/    | /' "$WORK/hold.out"
    kill "$hold_pid" 2>/dev/null
fi

# Undrain: rs3 receives new connections again.
write_config wrr 100 100 50
reload_sluice || fail "sluice reloads the configuration on SIGHUP"
counts=$(ns_exec sl-cli "$PYTHON" "$E2E_DIR/whoami_count.py" "$VIP_V4" "$HTTP_PORT" 50)
log "    weight restored: $counts"
check "with its weight restored rs3 receives new connections again" \
    bash -c "[ \"\$(grep -o 'rs3=[0-9]*' <<<'$counts' | cut -d= -f2)\" -gt 0 ]"

grep -E 'event=reload_refused' "$SLUICE_LOG" | sed 's/^/    | /'
check_eq "no reload was refused" "" "$(grep -E 'event=reload_refused' "$SLUICE_LOG")"
if stop_sluice; then pass "sluice exits 0 on SIGTERM"; else fail "sluice exits 0 on SIGTERM"; fi
finish
