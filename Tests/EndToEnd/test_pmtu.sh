#!/usr/bin/env bash
# test_pmtu.sh -- path-MTU discovery through FULLNAT, in the namespace lab.
#
# The router's segment to the backends has MTU 1280 (LAB_MTU=1280, also IPv6's minimum), while the
# client and the gateway have 1500. A client uploading through the VIP sends full-size segments; the
# router cannot forward them (DF set; IPv6 never fragments in transit) and reports "fragmentation
# needed" / "packet too big" to their source -- the LIP, so the report comes back to Sluice, which
# must translate it (outer VIP → client, quoted packet client:port → VIP:80) for the client to
# lower its path MTU. Without that translation the upload stalls in a black hole.
#
# For the client to send oversized segments at all, the backends advertise MSS 1460 / 1440 (route
# `advmss`), as a server on a 1500-byte link behind a smaller hop would; with their own 1280-byte
# MTU they would advertise 1240 / 1220 and no packet would ever be too big. Sluice clamps MSS only to
# its own egress MTU (1500 here), so it does not hide the problem either: PMTUD has to do the work.
#
# Checked: 5 MB uploads and 10 MB downloads intact over IPv4 and IPv6; a capture in sl-cli holds an
# ICMP type 3 code 4 (v4) / ICMPv6 type 2 (v6) from the VIP, with a valid checksum, MTU 1280, quoting
# the upload's own 4-tuple; the client's kernel cached PMTU 1280 for the VIP; Sluice counted
# icmp_translated > 0.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd nginx curl ethtool python3 sha256sum tcpdump
require_sluice
export LAB_MTU=${LAB_MTU:-1280}
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
CONFIG="$REPO_ROOT/Config/sluice.yaml"
WORK=$(mktemp -d /tmp/sluice-pmtu.XXXXXX)
CAPTURE_PID=""
stop_capture() {
    [ -n "$CAPTURE_PID" ] || return 0
    # SIGTERM: a background job of a non-interactive shell ignores SIGINT.
    kill -TERM "$CAPTURE_PID" 2>/dev/null
    wait "$CAPTURE_PID" 2>/dev/null
    CAPTURE_PID=""
}
trap 'stop_capture; stop_sluice >/dev/null 2>&1; "$LAB" down >/dev/null 2>&1; rm -rf "$WORK"' EXIT

# The capture reader: one line per ICMP/ICMPv6 error in a pcap file (Ethernet link type):
# "FAMILY SRC DST TYPE CODE MTU CHECKSUM_OK INNER_SRC INNER_SPORT INNER_DST INNER_DPORT".
cat >"$WORK/icmp_errors.py" <<'PY'
import ipaddress, struct, sys

def csum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total

def ports(proto, l4):
    return struct.unpack("!HH", l4[:4]) if proto in (6, 17) and len(l4) >= 4 else (0, 0)

with open(sys.argv[1], "rb") as f:
    data = f.read()
endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
offset = 24
while offset + 16 <= len(data):
    caplen = struct.unpack(endian + "IIII", data[offset:offset + 16])[2]
    frame = data[offset + 16:offset + 16 + caplen]
    offset += 16 + caplen
    ethertype, packet = struct.unpack("!H", frame[12:14])[0], frame[14:]
    if ethertype == 0x0800 and len(packet) >= 20 and packet[9] == 1:
        ihl = (packet[0] & 15) * 4
        total = struct.unpack("!H", packet[2:4])[0]
        icmp = packet[ihl:total]
        if len(icmp) < 8 + 20 or icmp[0] not in (3, 4, 11):
            continue
        inner = icmp[8:]
        inner_ihl = (inner[0] & 15) * 4
        sport, dport = ports(inner[9], inner[inner_ihl:])
        print(4, ipaddress.ip_address(packet[12:16]), ipaddress.ip_address(packet[16:20]), icmp[0], icmp[1],
              struct.unpack("!H", icmp[6:8])[0], int(csum(icmp) == 0xFFFF),
              ipaddress.ip_address(inner[12:16]), sport, ipaddress.ip_address(inner[16:20]), dport)
    elif ethertype == 0x86DD and len(packet) >= 40 and packet[6] == 58:
        length = struct.unpack("!H", packet[4:6])[0]
        icmp = packet[40:40 + length]
        if len(icmp) < 8 + 40 or icmp[0] not in (1, 2, 3):
            continue
        pseudo = packet[8:40] + struct.pack("!IxxxB", len(icmp), 58)
        inner = icmp[8:]
        sport, dport = ports(inner[6], inner[40:])
        print(6, ipaddress.ip_address(packet[8:24]), ipaddress.ip_address(packet[24:40]), icmp[0], icmp[1],
              struct.unpack("!I", icmp[4:8])[0], int(csum(pseudo + icmp) == 0xFFFF),
              ipaddress.ip_address(inner[8:24]), sport, ipaddress.ip_address(inner[24:40]), dport)
PY

"$LAB" up || { fail "lab.sh up"; finish; }
# The backends advertise a 1500-byte link's MSS (see the header).
for n in $LAB_BACKENDS; do
    ip -n "sl-rs$n" route change "$LIP_PREFIX_V4" via "$RTR_BR_V4" dev eth0 advmss 1460
    ip -n "sl-rs$n" -6 route change "$LIP_PREFIX_V6" via "$RTR_BR_V6" dev eth0 advmss 1440
done
check_eq "router<->backend MTU is $LAB_MTU, client and gateway 1500" "$LAB_MTU 1500 1500 1500" \
    "$(ip -n sl-rtr -j link show br0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["mtu"])') \
$(ip -n sl-cli -j link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["mtu"])') \
$(ip -n sl-gw -j link show ext0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["mtu"])') \
$(ip -n sl-gw -j link show int0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["mtu"])')"
check_eq "the router forwards and does PMTU discovery; sl-gw forwards nothing" "1 1 0 0 0" \
    "$(ns_exec sl-rtr sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv4.ip_no_pmtu_disc |
        tr '\n' ' ')$(ns_exec sl-gw sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding | tr '\n' ' ' |
        sed 's/ $//')"
check_eq "the client does PMTU discovery and has no cached path MTU yet" "0 " \
    "$(ns_exec sl-cli sysctl -n net.ipv4.ip_no_pmtu_disc) $(ip -n sl-cli route get "$VIP_V4" | grep -o 'mtu [0-9]*')"

if start_sluice "$CONFIG"; then
    pass "sluice run starts"
else
    fail "sluice run starts"
    finish
fi

# --immediate-mode: without it libpcap holds the frames in a ring block it has not handed over yet,
# and the few ICMP errors of a short run were lost when tcpdump stopped.
ns_exec sl-cli tcpdump -i eth0 -n -U --immediate-mode -s 2048 -w "$WORK/cli.pcap" 'icmp or icmp6' >"$WORK/tcpdump.log" 2>&1 &
CAPTURE_PID=$!
wait_for_log "$WORK/tcpdump.log" 'listening on' 10 || fail "tcpdump starts in sl-cli"

upload="$WORK/upload.bin"
head -c 5000000 /dev/urandom >"$upload"
upload_sha=$(sha256sum "$upload" | cut -d' ' -f1)
declare -A upload_port
for family in 4 6; do
    if [ "$family" = 4 ]; then vip=$VIP_V4 url="http://$VIP_V4:$HTTP_PORT"; else
        vip=$VIP_V6 url="http://[$VIP_V6]:$HTTP_PORT"
    fi
    log_step "IPv$family through the VIP, 1280-byte hop beyond the gateway"
    reply=$(ns_exec sl-cli curl -gsS -m 30 --data-binary @"$upload" -w 'port=%{local_port}' "$url/upload" 2>&1)
    log "    upload reply: $(tr '\n' ' ' <<<"$reply")"
    upload_port[$family]=$(grep -o 'port=[0-9]*' <<<"$reply" | cut -d= -f2)
    check_eq "IPv$family: 5 MB upload through the VIP is intact" "5000000 $upload_sha" \
        "$(head -1 <<<"$reply" | cut -d' ' -f2-3)"
    check_eq "IPv$family: the client cached path MTU $LAB_MTU for the VIP" "mtu $LAB_MTU" \
        "$(ip -n sl-cli "-$family" route get "$vip" | grep -o 'mtu [0-9]*')"
    check_eq "IPv$family: 10 MB download through the VIP is intact" "$(cat "$LAB_DIR/10mb.sha256")" \
        "$(ns_exec sl-cli curl -gsS -m 30 "$url/10mb" | sha256sum | cut -d' ' -f1)"
done

sleep 0.5
stop_capture
"$PYTHON" "$WORK/icmp_errors.py" "$WORK/cli.pcap" >"$WORK/icmp.txt" 2>&1
log "    ICMP errors seen by the client (count family src dst type code mtu csum-ok inner-src sport inner-dst dport):"
sort "$WORK/icmp.txt" | uniq -c | sed 's/^ */    | /' | head -20
for family in 4 6; do
    if [ "$family" = 4 ]; then
        vip=$VIP_V4 cli=$CLI_V4 type=3 code=4 what="ICMP fragmentation needed (3/4)"
    else
        vip=$VIP_V6 cli=$CLI_V6 type=2 code=0 what="ICMPv6 packet too big (2)"
    fi
    want="$family $vip $cli $type $code $LAB_MTU 1 $cli ${upload_port[$family]:-?} $vip $HTTP_PORT"
    tuple="$cli:${upload_port[$family]:-?} → $vip:$HTTP_PORT"
    check "IPv$family: $what from the VIP, MTU $LAB_MTU, valid checksum, quoting the upload's $tuple" \
        grep -qxF "$want" "$WORK/icmp.txt"
    check "IPv$family: no ICMP error reached the client from anything but the VIP" \
        bash -c "! awk -v f=$family -v v=$vip '\$1 == f && \$2 != v' '$WORK/icmp.txt' | grep -q ."
done

# The client's TCP accepts an ICMP error only when the quoted sequence number is one it has in flight
# (RFC 5927 §4.1; Linux counts the others as OutOfWindowIcmps), so this also checks the quoted seq. An
# error that arrives after the segment it quotes was already resent smaller and acknowledged is out of
# window too, so a few late ones are legitimate; a wrong translation would put every one of them out.
# TcpExt counters are shared by IPv4 and IPv6, so the comparison is against both families' errors.
errors=$(awk '$1 == 4 || $1 == 6 { n++ } END { print n + 0 }' "$WORK/icmp.txt")
read -r oow v6_errors < <(ns_exec sl-cli nstat -az TcpExtOutOfWindowIcmps Icmp6InErrors |
    awk '$1 == "TcpExtOutOfWindowIcmps" { a = $2 } $1 == "Icmp6InErrors" { b = $2 } END { print a + 0, b + 0 }')
log "    client: $errors ICMP errors, $oow out of window; Icmp6InErrors $v6_errors"
check "the client's TCP accepted the translated ICMP errors (quoted seq in window; $oow of $errors late)" \
    test "$errors" -gt 0 -a "$oow" -lt "$errors"
check_eq "the client found no ICMPv6 error malformed (Icmp6InErrors)" 0 "$v6_errors"
stop_sluice || fail "sluice exits 0 on SIGTERM"
translated=$(stat_value "$SLUICE_STATS" icmp_translated)
log "    icmp_translated ${translated:-absent}, drop_too_big $(stat_value "$SLUICE_STATS" drop_too_big)," \
    "xdp_redirected_icmp $(stat_value "$SLUICE_STATS" xdp_redirected_icmp)"
check "the stats file shows icmp_translated > 0" test "${translated:-0}" -gt 0
finish
