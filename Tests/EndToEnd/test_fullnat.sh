#!/usr/bin/env bash
# test_fullnat.sh -- FULLNAT through Sluice in the namespace lab, with real clients and servers:
# curl and a UDP client in sl-cli, nginx and a UDP echo on three backends behind a router, Sluice in
# sl-gw (which forwards nothing by itself) running the shipped Config/sluice.yaml.
#
# What it shows: both address families work; the backends see only LIPs (never the client); the wrr
# weights 100/100/50 shape the spread; bulk transfers in both directions arrive intact; UDP is
# translated both ways; SIGTERM stops Sluice cleanly and leaves no XDP program behind.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd nginx curl ethtool python3 sha256sum
require_sluice
REQUESTS=${REQUESTS:-30}
CONFIG="$REPO_ROOT/Config/sluice.yaml"
trap 'stop_sluice >/dev/null 2>&1; "$LAB" down >/dev/null 2>&1' EXIT

"$LAB" up || { fail "lab.sh up"; finish; }
if start_sluice "$CONFIG"; then
    pass "sluice run starts and writes its stats file"
else
    fail "sluice run starts and writes its stats file"
    finish
fi

# is_lip FAMILY ADDR: ADDR is one of the configured LIPs of that family.
is_lip() {
    local lip
    for lip in $([ "$1" = 4 ] && echo "$LIPS_V4" || echo "$LIPS_V6"); do [ "$lip" = "$2" ] && return 0; done
    return 1
}

# HTTP through each VIP: every answer comes from a backend that saw a LIP and a port from the range.
for family in 4 6; do
    if [ "$family" = 4 ]; then url="http://$VIP_V4:$HTTP_PORT"; else url="http://[$VIP_V6]:$HTTP_PORT"; fi
    declare -A seen=([rs1]=0 [rs2]=0 [rs3]=0)
    ok=0 bad_source=""
    for ((i = 0; i < REQUESTS; i++)); do
        read -r server source port < <(ns_exec sl-cli curl -gsS -m 3 "$url/whoami" 2>/dev/null) || continue
        [ -n "${server:-}" ] || continue
        ok=$((ok + 1))
        seen[$server]=$((${seen[$server]:-0} + 1))
        if ! is_lip "$family" "$source" || [ "$port" -lt 1025 ] || [ "$port" -gt 65535 ]; then
            bad_source="$source:$port"
        fi
    done
    check_eq "IPv$family: $REQUESTS/$REQUESTS requests through the VIP answered" "$REQUESTS" "$ok"
    check_eq "IPv$family: backends saw only LIPs with ports in 1025-65535" "" "$bad_source"
    log "    spread: rs1=${seen[rs1]} rs2=${seen[rs2]} rs3=${seen[rs3]}"
    if [ "${seen[rs1]}" -gt 0 ] && [ "${seen[rs2]}" -gt 0 ] && [ "${seen[rs3]}" -gt 0 ] &&
        [ "${seen[rs3]}" -lt "${seen[rs1]}" ] && [ "${seen[rs3]}" -lt "${seen[rs2]}" ]; then
        pass "IPv$family: wrr 100/100/50 reaches every backend, rs3 least"
    else
        fail "IPv$family: wrr 100/100/50 reaches every backend, rs3 least"
    fi
    unset seen

    check_eq "IPv$family: 10 MB download through the VIP is intact" "$(cat "$LAB_DIR/10mb.sha256")" \
        "$(ns_exec sl-cli curl -gsS -m 30 "$url/10mb" | sha256sum | cut -d' ' -f1)"
    upload="$LAB_DIR/upload.bin"
    head -c 10485760 /dev/urandom >"$upload"
    check_eq "IPv$family: 10 MB upload through the VIP is intact" "10485760 $(sha256sum "$upload" | cut -d' ' -f1)" \
        "$(ns_exec sl-cli curl -gsS -m 30 --data-binary @"$upload" "$url/upload" | cut -d' ' -f2-)"
done

# UDP through each VIP: the echo names the backend and the source it saw, which must be a LIP.
for family in 4 6; do
    if [ "$family" = 4 ]; then vip=$VIP_V4; else vip=$VIP_V6; fi
    replies=0 bad=""
    for i in 1 2 3 4 5 6; do
        reply=$(ns_exec sl-cli python3 -c '
import socket, sys
addr, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(sys.argv[3].encode(), (addr, port))
try:
    data, peer = s.recvfrom(65535)
    print(data.decode(), peer[0], peer[1])
except socket.timeout:
    pass' "$vip" "$UDP_PORT" "probe-$i")
        [ -n "$reply" ] || continue
        replies=$((replies + 1))
        read -r server source _ payload from_addr from_port <<<"$reply"
        if ! is_lip "$family" "$source" || [ "$payload" != "probe-$i" ] || [ "$from_addr" != "$vip" ] ||
            [ "$from_port" != "$UDP_PORT" ]; then
            bad="$reply"
        fi
    done
    check_eq "IPv$family: 6/6 UDP datagrams echoed through the VIP" 6 "$replies"
    check_eq "IPv$family: UDP echoes came from the VIP, backends saw a LIP" "" "$bad"
done

check "no backend ever saw the client's address" \
    bash -c "! cat $LAB_DIR/rs?/access.log $LAB_DIR/rs?/udp.log | grep -E '^($CLI_V4|$CLI_V6) '"
check "the stats file holds 'name value' lines" \
    bash -c "[ -s '$SLUICE_STATS' ] && awk 'NF != 2 || \$2 !~ /^[0-9]+\$/ { exit 1 }' '$SLUICE_STATS'"

log_step "stopping sluice (SIGTERM)"
if stop_sluice; then pass "sluice exits 0 on SIGTERM"; else fail "sluice exits 0 on SIGTERM"; fi
check_eq "no XDP program left on sl-gw's interfaces" "" "$(xdp_attached sl-gw)"
check "without Sluice the VIP is unreachable again" bash -c "! ip netns exec sl-cli curl -s -m 1 http://$VIP_V4/"
finish
