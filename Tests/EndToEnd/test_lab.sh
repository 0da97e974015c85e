#!/usr/bin/env bash
# test_lab.sh -- the namespace lab itself is what the other end-to-end tests assume it is:
# backends serve and log, the gateway forwards nothing on its own, and the client cannot reach the
# backends except through a VIP. Needs no Sluice binary.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd nginx curl ethtool python3 sha256sum
trap '"$LAB" down >/dev/null 2>&1' EXIT

log_step "lab up"
if ! "$LAB" up; then
    fail "lab.sh up"
    finish
fi
pass "lab.sh up"

check_eq "sl-gw: net.ipv4.ip_forward" 0 "$(ns_exec sl-gw sysctl -n net.ipv4.ip_forward)"
check_eq "sl-gw: net.ipv6.conf.all.forwarding" 0 "$(ns_exec sl-gw sysctl -n net.ipv6.conf.all.forwarding)"
check "no VIP or LIP is assigned in sl-gw" \
    bash -c "! ip -n sl-gw addr | grep -E '203\.0\.113\.|fd00:203:|10\.20\.0\.|fd00:20:'"

for ns in sl-cli sl-gw sl-rtr sl-rs1; do
    for ifc in $(ip -n "$ns" -br link | awk '$1 != "lo" { sub(/@.*/, "", $1); print $1 }'); do
        [ "$ifc" = br0 ] && continue
        check "$ns/$ifc: tx checksum offload off" \
            bash -c "ip netns exec $ns ethtool -k $ifc | grep -q '^tx-checksumming: off'"
    done
done

for n in $LAB_BACKENDS; do
    check_eq "router -> rs$n over IPv4: GET /" "rs$n" "$(ns_exec sl-rtr curl -sS -m 3 "http://$(rs_v4 "$n"):$RS_HTTP_PORT/")"
    check_eq "router -> rs$n over IPv6: GET /whoami shows the router's address" "rs$n $RTR_BR_V6" \
        "$(ns_exec sl-rtr curl -gsS -m 3 "http://[$(rs_v6 "$n")]:$RS_HTTP_PORT/whoami" | cut -d' ' -f1-2)"
    reply=$(ns_exec sl-rtr python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(b"ping", (sys.argv[1], int(sys.argv[2]))); print(s.recvfrom(100)[0].decode())' "$(rs_v4 "$n")" "$RS_UDP_PORT")
    check_eq "router -> rs$n UDP echo" "rs$n $RTR_BR_V4" "$(cut -d' ' -f1-2 <<<"$reply")"
done

check_eq "10 MB download is intact" "$(cat "$LAB_DIR/10mb.sha256")" \
    "$(ns_exec sl-rtr curl -sS -m 10 "http://$(rs_v4 1):$RS_HTTP_PORT/10mb" | sha256sum | cut -d' ' -f1)"
upload="$LAB_DIR/upload.bin"
head -c 3000000 /dev/urandom >"$upload"
check_eq "3 MB upload is intact" "rs2 3000000 $(sha256sum "$upload" | cut -d' ' -f1)" \
    "$(ns_exec sl-rtr curl -sS -m 10 --data-binary @"$upload" "http://$(rs_v4 2):$RS_HTTP_PORT/upload")"

check "access log records the router as the source" grep -q "^$RTR_BR_V4 " "$LAB_DIR/rs1/access.log"
check "nginx with proxy_protocol listens on $RS_PROXY_PORT" wait_for_port sl-rs3 "$RS_PROXY_PORT" tcp 1

check "without Sluice the client cannot reach the IPv4 VIP" \
    bash -c "! ip netns exec sl-cli curl -s -m 1 http://$VIP_V4/"
check "without Sluice the client cannot reach the IPv6 VIP" \
    bash -c "! ip netns exec sl-cli curl -gs -m 1 http://[$VIP_V6]/"
check "the client has no route to the backends" \
    bash -c "! ip netns exec sl-cli curl -s -m 1 http://$(rs_v4 1):$RS_HTTP_PORT/"

log_step "LAB_MTU=1280"
if LAB_MTU=1280 "$LAB" up >/dev/null; then
    check_eq "router<->backend MTU follows LAB_MTU" 1280 \
        "$(ip -n sl-rs1 -j link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["mtu"])')"
    check_eq "10 MB download over the 1280-byte link" "$(cat "$LAB_DIR/10mb.sha256")" \
        "$(ns_exec sl-rtr curl -sS -m 10 "http://$(rs_v4 3):$RS_HTTP_PORT/10mb" | sha256sum | cut -d' ' -f1)"
else
    fail "LAB_MTU=1280 lab.sh up"
fi

"$LAB" down >/dev/null
check "lab.sh down removes every sl- namespace" bash -c "! ip netns list | grep -E '^sl-(cli|gw|rtr|rs[123])( |$)'"
finish
