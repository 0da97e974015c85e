#!/usr/bin/env bash
# test_persistence.sh -- persistence templates and the Maglev (mh) choice through Sluice in the lab.
#
# Persistence: a service with `scheduler: rr` and `persistence_timeout: 30` over three backends. 50
# connections from the client (each from a new source port) all reach one backend, although rr alone
# would spread them; 50 from a second client address all reach one backend too, and rr gives it the
# next one. `sluicectl list` shows `persistent 30` as ipvsadm does and `sluicectl explain` names the
# template as the rule. The stats file counts the templates made and followed.
#
# mh: `scheduler: mh` with `mh_port: true` and a scheduler_seed. 24 connections from fixed client ports
# are mapped to backends; Sluice is stopped and started again (a new process: nothing is kept) and
# the same ports map to the same backends, as they would on another gateway of an ECMP group.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd nginx curl ethtool python3
require_sluice
SLUICECTL=${SLUICECTL:-$REPO_ROOT/.build/release/sluicectl}
[ -x "$SLUICECTL" ] || skip "no sluicectl binary at $SLUICECTL (make build)"
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
WORK=$(mktemp -d /tmp/sluice-persistence.XXXXXX)
CONFIG="$WORK/sluice.yaml"
SECOND_CLIENT=10.10.9.2
trap 'stop_sluice >/dev/null 2>&1; "$LAB" down >/dev/null 2>&1; rm -rf "$WORK"' EXIT

# write_config SCHEDULER EXTRA...: one IPv4 TCP service on the VIP over the three backends.
write_config() {
    local scheduler=$1 extra
    shift
    extra=$(printf '    %s\n' "$@")
    cat >"$CONFIG" <<YAML
interfaces: { external: ext0, internal: int0 }
local_address_groups:
  lips: [10.20.0.240, 10.20.0.241]
dataplane: { scheduler_seed: 4242 }
admin: { socket: $WORK/admin.sock }
virtual_servers:
  - name: web
    vip: $VIP_V4
    port: $HTTP_PORT
    protocol: tcp
    scheduler: $scheduler
$extra
    local_address_group: lips
    real_servers:
      - { address: $(rs_v4 1), port: $RS_HTTP_PORT }
      - { address: $(rs_v4 2), port: $RS_HTTP_PORT }
      - { address: $(rs_v4 3), port: $RS_HTTP_PORT }
YAML
}

# The client: one GET /whoami per connection, from SOURCE (or the default address) and from the given
# ports (0: any). Prints one backend name per line ("failed" for a connection that got no answer).
# The connection is closed with a RST (SO_LINGER 0), so no TIME_WAIT keeps a port from the next run.
cat >"$WORK/whoami_ports.py" <<'PY'
import socket, struct, sys
vip, port, source, ports = sys.argv[1], int(sys.argv[2]), sys.argv[3], [int(p) for p in sys.argv[4:]]
for local in ports:
    try:
        s = socket.socket()
        s.settimeout(5)
        s.bind((source, local))
        s.connect((vip, port))
        s.sendall(f"GET /whoami HTTP/1.0\r\nHost: {vip}\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        print(data.split(b"\r\n\r\n", 1)[1].split()[0].decode())
    except (OSError, IndexError):
        print("failed")
PY
whoami() { # SOURCE PORT...
    local source=$1
    shift
    ns_exec sl-cli "$PYTHON" "$WORK/whoami_ports.py" "$VIP_V4" "$HTTP_PORT" "$source" "$@"
}
zeros() { for ((i = 0; i < $1; i++)); do printf '0 '; done; }

"$LAB" up || { fail "lab.sh up"; finish; }
ip -n sl-cli addr add "$SECOND_CLIENT/32" dev lo

log_step "persistence_timeout 30 with rr"
write_config rr "persistence_timeout: 30"
if start_sluice "$CONFIG"; then pass "sluice run starts"; else fail "sluice run starts"; finish; fi
# shellcheck disable=SC2046
first=$(whoami "$CLI_V4" $(zeros 50) | sort | uniq -c | sed 's/^ *//')
log "    client $CLI_V4: $(tr '\n' ' ' <<<"$first")"
check_eq "50 connections from one client all reach one backend" "50" "$(awk 'NR == 1 && $2 != "failed" { print $1 }' <<<"$first")"
# shellcheck disable=SC2046
second=$(whoami "$SECOND_CLIENT" $(zeros 50) | sort | uniq -c | sed 's/^ *//')
log "    client $SECOND_CLIENT: $(tr '\n' ' ' <<<"$second")"
check_eq "50 connections from a second client all reach one backend" "50" "$(awk 'NR == 1 && $2 != "failed" { print $1 }' <<<"$second")"
check "rr gave the second client another backend" test "$(awk '{ print $2 }' <<<"$first")" != "$(awk '{ print $2 }' <<<"$second")"
listing=$("$SLUICECTL" --socket "$WORK/admin.sock" list 2>&1)
check "sluicectl list shows 'rr persistent 30' as ipvsadm does" grep -q "TCP  $VIP_V4:$HTTP_PORT rr persistent 30\$" <<<"$listing"
explained=$("$SLUICECTL" --socket "$WORK/admin.sock" explain tcp "$CLI_V4:5555" "$VIP_V4:$HTTP_PORT" 2>&1)
log "    $(grep 'new flow' <<<"$explained")"
check "sluicectl explain names the template as the rule" grep -q "by persistence template (expires in" <<<"$explained"
check "explain predicts the client's backend" grep -q "$(rs_v4 "$(awk '{ print substr($2, 3) }' <<<"$first")"):$RS_HTTP_PORT, by" <<<"$explained"
sleep 1.2  # the stats file is written every second
check_eq "the stats file counts 2 templates made and 98 followed" "2 98" \
    "$(stat_value "$SLUICE_STATS" persistence_template_created) $(stat_value "$SLUICE_STATS" persistence_template_followed)"
stop_sluice || fail "sluice exits 0 on SIGTERM"

log_step "mh with mh_port: the same ports reach the same backends in a new process"
write_config mh "mh_port: true"
PORTS=$(seq 42000 42023)
declare -a runs
for run in 1 2; do
    if ! start_sluice "$CONFIG"; then fail "sluice run $run starts"; finish; fi
    # shellcheck disable=SC2086
    runs[run]=$(whoami "$CLI_V4" $PORTS | tr '\n' ' ')
    stop_sluice || fail "sluice run $run exits 0 on SIGTERM"
    log "    run $run: ${runs[run]}"
done
check "every connection was answered" bash -c "! grep -q failed <<<'${runs[1]} ${runs[2]}'"
check_eq "the second process sends every port to the same backend" "${runs[1]}" "${runs[2]}"
check "the ports spread over more than one backend" test "$(tr ' ' '\n' <<<"${runs[1]}" | sort -u | grep -c rs)" -gt 1
finish
