#!/usr/bin/env bash
# test_shared_cookies.sh -- synproxy.key_file: a SYN cookie one gateway answered opens the connection on
# another gateway holding the same key file (what an ECMP change between two gateways does).
#
# One gateway namespace, two Sluice runs in a row standing for gateways A and B with the same key file:
# A answers a kernel client's SYN with a cookie; the client's ACK and request are held back by nftables
# in the client namespace; A stops and B starts; the hold is lifted, the client retransmits its request
# (acknowledging the cookie) and B, which never saw the SYN, must open the connection and answer.
# The same with a B of another key file must not open anything (the control case).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd nginx curl nft
require_sluice
WORK=$(mktemp -d /tmp/sluice-cookies.XXXXXX)
cleanup() {
    stop_sluice >/dev/null 2>&1
    ip netns exec sl-cli nft delete table inet hold_ack 2>/dev/null
    "$LAB" down >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

head -c 32 /dev/urandom >"$WORK/group.key"
head -c 32 /dev/urandom >"$WORK/other.key"
write_config() { # KEY_FILE
    cat >"$WORK/sluice.yaml" <<YAML
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
    syn_proxy: true
    real_servers:
      - { address: $(rs_v4 1), port: $RS_HTTP_PORT }
      - { address: $(rs_v4 2), port: $RS_HTTP_PORT }
synproxy: { key_file: $1 }
admin: { socket: $WORK/admin.sock }
YAML
}
hold_on() {
    # Everything the client sends to the VIP but its SYN waits here until B runs.
    ip netns exec sl-cli nft -f - <<NFT
table inet hold_ack {
    chain out { type filter hook output priority 0; ip daddr $VIP_V4 tcp dport 80 tcp flags & (syn|ack) != syn drop; }
}
NFT
}
hold_off() { ip netns exec sl-cli nft delete table inet hold_ack; }

# one_round B_KEY LABEL: A answers the SYN with the group key, B (key B_KEY) gets the rest; prints
# curl's answer (empty when the connection did not open).
one_round() {
    local b_key=$1 label=$2
    write_config "$WORK/group.key"
    start_sluice "$WORK/sluice.yaml" "$WORK/a-$label.log" || { fail "$label: gateway A starts"; return; }
    hold_on
    ns_exec sl-cli curl -s -m 25 "http://$VIP_V4/whoami" >"$WORK/answer-$label" 2>&1 &
    local curl_pid=$!
    # The stats file is rewritten every second: wait (at most 5 s) until it shows the cookie.
    local cookies i
    for ((i = 0; i < 50; i++)); do
        sleep 0.1
        cookies=$(stat_value "$SLUICE_STATS" syn_proxy_cookies_sent)
        [ "${cookies:-0}" -ge 1 ] && [ "$i" -ge 10 ] && break
    done
    log "    $label: A sent ${cookies:-0} cookie(s), opened $(stat_value "$SLUICE_STATS" connections_created) connection(s)"
    check "$label: A answered the SYN with a cookie and opened nothing" \
        test "${cookies:-0}" -ge 1 -a "$(stat_value "$SLUICE_STATS" connections_created)" -eq 0
    stop_sluice || fail "$label: gateway A stops"
    write_config "$b_key"
    start_sluice "$WORK/sluice.yaml" "$WORK/b-$label.log" || { fail "$label: gateway B starts"; return; }
    hold_off
    wait "$curl_pid"
    sleep 1.2
    log "    $label: B counted $(stat_value "$SLUICE_STATS" syn_proxy_handshakes_completed) completed handshake(s), $(stat_value "$SLUICE_STATS" drop_bad_cookie) bad cookie(s)"
}

"$LAB" up || { fail "lab.sh up"; finish; }

log_step "A and B share the key file"
one_round "$WORK/group.key" shared
check "B opened the connection A's cookie started: the client got its answer" \
    grep -Eq "^rs[12] " "$WORK/answer-shared"
check "B counted the handshake" test "$(stat_value "$SLUICE_STATS" syn_proxy_handshakes_completed)" -ge 1
stop_sluice || fail "gateway B stops"

log_step "B has another key file (control)"
one_round "$WORK/other.key" other
check "B refused the cookie: no answer reached the client" test ! -s "$WORK/answer-other"
check "B counted the bad cookie" test "$(stat_value "$SLUICE_STATS" drop_bad_cookie)" -ge 1
if stop_sluice; then pass "sluice exits 0"; else fail "sluice exits 0"; fi
check "the key never reaches the log" bash -c "! grep -rqF \"\$(head -c 16 '$WORK/group.key' | od -An -tx1 | tr -d ' \\n')\" '$WORK'/*.log"
finish
