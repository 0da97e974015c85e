#!/usr/bin/env bash
# test_lifecycle.sh -- how `sluice run` starts, stops and fails, in the namespace lab.
#
#   - SIGTERM and SIGINT: exit 0 within 2 s (timed from the kill to `wait` returning; sluice is this
#     shell's direct child: `ip netns exec` execs it), leaving no XDP program on sl-gw's interfaces;
#   - a run killed with SIGKILL leaves its program attached; the next start replaces it and forwards;
#   - an unknown interface (external or internal): non-zero exit, one line naming the interface,
#     nothing left attached;
#   - a bad file: `sluice check` lists every problem with its key path and exits 1 (and `run` refuses it);
#   - two runs at once: the second fails with a clear error and leaves the first one's program (same
#     program id) attached and forwarding; once the first stops, nothing remains;
#   - dataplane.napi_defer_hard_irqs and gro_flush_timeout: written to ext0 and int0 for the run (read
#     back from sysfs in sl-gw while it forwards), put back as they were when it stops.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd nginx curl ethtool python3 timeout
require_sluice
CONFIG="$REPO_ROOT/Config/sluice.yaml"
WORK=$(mktemp -d /tmp/sluice-lifecycle.XXXXXX)
trap 'stop_sluice >/dev/null 2>&1; "$LAB" down >/dev/null 2>&1; rm -rf "$WORK"' EXIT

# forwards: both VIPs answer an HTTP request from sl-cli.
forwards() {
    local body4 body6
    body4=$(ns_exec sl-cli curl -gsS -m 3 "http://$VIP_V4:$HTTP_PORT/whoami") || return 1
    body6=$(ns_exec sl-cli curl -gsS -m 3 "http://[$VIP_V6]:$HTTP_PORT/whoami") || return 1
    [[ "$body4" == rs[123]\ * && "$body6" == rs[123]\ * ]]
}

# timed_stop SIGNAL: send SIGNAL to sluice and wait for it; sets STOP_MS and STOP_STATUS.
timed_stop() {
    local start
    start=$(date +%s%N)
    kill "-$1" "$SLUICE_PID"
    STOP_STATUS=0
    wait "$SLUICE_PID" || STOP_STATUS=$?
    STOP_MS=$((($(date +%s%N) - start) / 1000000))
    SLUICE_PID=""
}

# run_once CONFIG: `sluice run` in sl-gw in the foreground (at most 20 s); sets RUN_STATUS and RUN_OUT
# (stdout and stderr together).
run_once() {
    RUN_STATUS=0
    RUN_OUT=$(timeout 20 ip netns exec sl-gw "$SLUICE_BIN" run --config "$1" --stats-file "$WORK/once.stats" 2>&1) ||
        RUN_STATUS=$?
}

"$LAB" up || { fail "lab.sh up"; finish; }

# --- SIGTERM and SIGINT -------------------------------------------------------------------------------
for signal in TERM INT; do
    log_step "SIG$signal"
    if ! start_sluice "$CONFIG"; then
        fail "SIG$signal: sluice run starts"
        continue
    fi
    check_eq "SIG$signal: sluice is this shell's direct child (ip netns exec execs it)" \
        "$(basename "$(readlink -f "$SLUICE_BIN")") $$" \
        "$(basename "$(readlink "/proc/$SLUICE_PID/exe")") $(awk '{ print $4 }' "/proc/$SLUICE_PID/stat")"
    check "SIG$signal: both VIPs forward before the signal" forwards
    timed_stop "$signal"
    log "    exit status $STOP_STATUS after $STOP_MS ms"
    check_eq "SIG$signal: sluice exits with status 0" 0 "$STOP_STATUS"
    if [ "$STOP_MS" -lt 2000 ]; then
        pass "SIG$signal: sluice exits within 2 s ($STOP_MS ms)"
    else
        fail "SIG$signal: sluice exits within 2 s ($STOP_MS ms)"
    fi
    check_eq "SIG$signal: no XDP program left on sl-gw's interfaces" "" "$(xdp_attached sl-gw | tr '\n' ' ')"
    check "SIG$signal: the VIP is unreachable once sluice is gone" \
        bash -c "! ip netns exec sl-cli curl -s -m 1 http://$VIP_V4/"
done

# --- a crashed run's program is replaced at the next start ---------------------------------------------
log_step "SIGKILL, then start again"
if start_sluice "$CONFIG"; then
    check "before SIGKILL: both VIPs forward" forwards
    kill -KILL "$SLUICE_PID"
    wait "$SLUICE_PID" 2>/dev/null
    SLUICE_PID=""
    stale=$(xdp_prog_ids sl-gw)
    log "    left attached after SIGKILL: $(tr '\n' ' ' <<<"$stale")"
    check_eq "after SIGKILL the killed run's program is still attached on ext0 and int0 (precondition)" \
        "ext0 int0" "$(cut -d' ' -f1 <<<"$stale" | sort | tr '\n' ' ' | sed 's/ $//')"
    if start_sluice "$CONFIG" "$WORK/restart.log"; then
        pass "sluice run starts over the stale program"
        grep -i stale "$WORK/restart.log" | sed "s/^/    | /"
        fresh=$(xdp_prog_ids sl-gw)
        log "    attached now: $(tr '\n' ' ' <<<"$fresh")"
        check "the stale program was replaced by a new one (different program ids)" \
            bash -c "[ -n '$fresh' ] && [ -z \"\$(comm -12 <(sort <<<'$stale') <(sort <<<'$fresh'))\" ]"
        check "after the restart both VIPs forward again" forwards
        timed_stop TERM
        check_eq "the restarted sluice exits 0 on SIGTERM" 0 "$STOP_STATUS"
        check_eq "no XDP program left after the restarted sluice stops" "" "$(xdp_attached sl-gw | tr '\n' ' ')"
    else
        fail "sluice run starts over the stale program"
        ip -n sl-gw link set ext0 xdp off 2>/dev/null
        ip -n sl-gw link set int0 xdp off 2>/dev/null
    fi
else
    fail "sluice run starts (before SIGKILL)"
fi

# --- unknown interfaces ---------------------------------------------------------------------------------
for side in external internal; do
    if [ "$side" = external ]; then bad=nosuch0 from='external: ext0'; else bad=nosuch1 from='internal: int0'; fi
    log_step "unknown $side interface $bad"
    sed "s/^\(  \)$from\$/\1${from%%:*}: $bad/" "$CONFIG" >"$WORK/bad-$side.yaml"
    if ! grep -q "^  ${from%%:*}: $bad\$" "$WORK/bad-$side.yaml"; then
        fail "unknown $side interface: could not derive the configuration from $CONFIG"
        continue
    fi
    run_once "$WORK/bad-$side.yaml"
    printf '%s\n' "$RUN_OUT" | sed 's/^/    | /'
    check "unknown $side interface: sluice run exits non-zero" test "$RUN_STATUS" -ne 0 -a "$RUN_STATUS" -ne 124
    check_eq "unknown $side interface: exactly one line of output" 1 "$(grep -c . <<<"$RUN_OUT")"
    check "unknown $side interface: the error names '$bad'" grep -q "$bad" <<<"$RUN_OUT"
    check_eq "unknown $side interface: no XDP program left behind" "" "$(xdp_attached sl-gw | tr '\n' ' ')"
done

# --- missing capabilities ---------------------------------------------------------------------------------
if command -v setpriv >/dev/null; then
    log_step "without CAP_NET_ADMIN, CAP_BPF and CAP_SYS_ADMIN"
    RUN_STATUS=0
    RUN_OUT=$(SLUICE_LOCK_DIR="$WORK" timeout 20 ip netns exec sl-gw setpriv --bounding-set=-net_admin,-bpf,-sys_admin \
        --inh-caps=-all "$SLUICE_BIN" run --config "$CONFIG" 2>&1) || RUN_STATUS=$?
    printf '%s\n' "$RUN_OUT" | cut -c1-160 | sed 's/^/    | /'
    check "without capabilities: sluice run exits non-zero" test "$RUN_STATUS" -ne 0 -a "$RUN_STATUS" -ne 124
    check_eq "without capabilities: exactly one line of output" 1 "$(grep -c . <<<"$RUN_OUT")"
    check "without capabilities: the error names the missing capabilities" grep -q "CAP_NET_ADMIN" <<<"$RUN_OUT"
    check_eq "without capabilities: no XDP program left behind" "" "$(xdp_attached sl-gw | tr '\n' ' ')"
fi

# --- a bad configuration file ------------------------------------------------------------------------------
log_step "a configuration with eight problems"
cat >"$WORK/bad.yaml" <<'EOF'
interfaces: { external: ext0, internal: int0, xdp_mode: turbo }
local_address_groups:
  lips: [10.20.0.240, 10.20.0.300]
virtual_servers:
  - name: web
    vip: 203.0.113.10
    port: 70000
    protocol: tcp
    scheduler: fastest
    local_address_group: lips
    colour: blue
    real_servers:
      - { address: 10.30.0.11, port: 8080, weight: 100 }
      - { address: 10.30.0.12, port: 0, weight: 70000 }
dataplane:
  frame_size: 3000
EOF
problems="interfaces.xdp_mode local_address_groups.lips[1] virtual_servers[0].port virtual_servers[0].scheduler
virtual_servers[0].colour virtual_servers[0].real_servers[1].port virtual_servers[0].real_servers[1].weight
dataplane.frame_size"
status=0
out=$("$SLUICE_BIN" check --config "$WORK/bad.yaml" 2>&1) || status=$?
printf '%s\n' "$out" | sed 's/^/    | /'
check_eq "sluice check exits 1 on a bad file" 1 "$status"
missing=""
for path in $problems; do
    grep -qF "$path:" <<<"$out" || missing+="$path "
done
check_eq "sluice check names every problem with its key path" "" "$missing"
check_eq "sluice check reports each problem on its own line, prefixed with the file, then a count" \
    "8 $WORK/bad.yaml: 8 problems" \
    "$(grep -cF "$WORK/bad.yaml: " <<<"$out" | awk '{ print $1 - 1 }') $(tail -1 <<<"$out")"
run_once "$WORK/bad.yaml"
missing=""
for path in $problems; do
    grep -qF "$path:" <<<"$RUN_OUT" || missing+="$path "
done
check_eq "sluice run refuses the bad file with status 1" 1 "$RUN_STATUS"
check_eq "sluice run lists the same problems" "" "$missing"
check_eq "sluice run with a bad file attaches nothing" "" "$(xdp_attached sl-gw | tr '\n' ' ')"

# --- two runs at once ------------------------------------------------------------------------------------
log_step "a second sluice run while the first runs"
if start_sluice "$CONFIG"; then
    first=$(xdp_prog_ids sl-gw)
    log "    first run's programs: $(tr '\n' ' ' <<<"$first")"
    start=$(date +%s%N)
    run_once "$CONFIG"
    second_ms=$((($(date +%s%N) - start) / 1000000))
    printf '%s\n' "$RUN_OUT" | sed 's/^/    | /'
    log "    second run: exit status $RUN_STATUS after $second_ms ms"
    check "the second sluice run fails (non-zero, not timed out)" \
        test "$RUN_STATUS" -ne 0 -a "$RUN_STATUS" -ne 124
    check "the second run's error names an interface of the first" grep -Eq 'ext0|int0' <<<"$RUN_OUT"
    check_eq "the first run's programs are still attached (same ids)" "$first" "$(xdp_prog_ids sl-gw)"
    check "the first sluice is still running" kill -0 "$SLUICE_PID"
    check "the first sluice still forwards both VIPs" forwards
    timed_stop TERM
    check_eq "the first sluice exits 0 on SIGTERM" 0 "$STOP_STATUS"
    check_eq "after the first sluice stops no XDP program remains" "" "$(xdp_attached sl-gw | tr '\n' ' ')"
else
    fail "sluice run starts (two runs at once)"
fi

# --- NAPI deferral: set for the run, put back at stop ---------------------------------------------------
log_step "napi_defer_hard_irqs and gro_flush_timeout"
# napi_values IF: "<napi_defer_hard_irqs> <gro_flush_timeout>" of IF in sl-gw.
napi_values() {
    ip netns exec sl-gw cat "/sys/class/net/$1/napi_defer_hard_irqs" "/sys/class/net/$1/gro_flush_timeout" | tr '\n' ' ' |
        sed 's/ $//'
}
# A value of the host's own on ext0, so that putting back is told apart from resetting to 0.
ip netns exec sl-gw sh -c 'echo 5000 >/sys/class/net/ext0/gro_flush_timeout; echo 1 >/sys/class/net/ext0/napi_defer_hard_irqs'
ext_before=$(napi_values ext0)
int_before=$(napi_values int0)
log "    before: ext0 $ext_before, int0 $int_before"
sed '/^dataplane:$/a\  napi_defer_hard_irqs: 2\n  gro_flush_timeout: 200000' "$CONFIG" >"$WORK/napi.yaml"
if start_sluice "$WORK/napi.yaml" "$WORK/napi.log"; then
    check_eq "while it runs, ext0 defers 2 polls by 200 µs" "2 200000" "$(napi_values ext0)"
    check_eq "while it runs, int0 defers 2 polls by 200 µs" "2 200000" "$(napi_values int0)"
    check "the start-up log names the deferral" grep -q "napi_defer_hard_irqs 2, gro_flush_timeout 200000 ns" \
        "$WORK/napi.log"
    check "both VIPs forward with the deferral" forwards
    timed_stop TERM
    check_eq "sluice with the deferral exits 0 on SIGTERM" 0 "$STOP_STATUS"
    check_eq "after the stop ext0 has its own values again" "$ext_before" "$(napi_values ext0)"
    check_eq "after the stop int0 has its own values again" "$int_before" "$(napi_values int0)"
else
    fail "sluice run starts with napi_defer_hard_irqs and gro_flush_timeout"
fi
sed '/^dataplane:$/a\  napi_defer_hard_irqs: 2' "$CONFIG" >"$WORK/napi-half.yaml"
run_once "$WORK/napi-half.yaml"
check "half of the pair is refused, naming the missing key" grep -q "napi_defer_hard_irqs needs gro_flush_timeout" \
    <<<"$RUN_OUT"
check_eq "half of the pair: sluice run exits 1" 1 "$RUN_STATUS"
finish
