# lib.sh -- helpers sourced by lab.sh and every Tests/EndToEnd/test_*.sh script.
#
# Conventions shared by all end-to-end scripts:
#   - exit 0 = all checks passed, 1 = at least one check failed, 77 = skipped (automake's convention,
#     which `make test` counts separately);
#   - every check goes through pass/fail/skip_check so that the last line of output is always
#     "N passed, N failed, N skipped";
#   - nothing touches the host's network: commands run in namespaces prefixed "sl-" (see lab.sh).
#
# Source it with:  . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$E2E_DIR/../.." && pwd)
LAB="$E2E_DIR/lab.sh"
SLUICE_BIN=${SLUICE_BIN:-$REPO_ROOT/.build/release/sluice}
LAB_DIR=${LAB_DIR:-/tmp/sluice-lab} # nginx prefixes, logs, pid files, the 10 MB file

# The namespace lab (lab.sh). Everything is L3: the gateway sl-gw shares no subnet with the backends,
# forwards nothing itself (ip_forward=0), and owns neither VIPs nor LIPs on any interface.
#
#   sl-cli eth0 10.10.1.2  fd00:10:1::2 --- ext0 10.10.1.1 fd00:10:1::1  sl-gw
#                                            int0 10.10.2.1 fd00:10:2::1 --- gw0 10.10.2.2 fd00:10:2::2  sl-rtr
#   sl-rtr br0 10.30.0.1 fd00:30::1 (bridge, MTU $LAB_MTU) --- sl-rsN eth0 10.30.0.1N fd00:30::1N  (N = 1..3)
#
# client routes the VIP prefixes via ext0; the router routes the LIP prefixes via int0; the backends
# route the LIP prefixes via the router and know nothing else.
LAB_NAMESPACES="sl-cli sl-gw sl-rtr sl-rs1 sl-rs2 sl-rs3"
LAB_BACKENDS="1 2 3"
CLI_V4=10.10.1.2 CLI_V6=fd00:10:1::2
GW_EXT_V4=10.10.1.1 GW_EXT_V6=fd00:10:1::1
GW_INT_V4=10.10.2.1 GW_INT_V6=fd00:10:2::1
RTR_V4=10.10.2.2 RTR_V6=fd00:10:2::2
RTR_BR_V4=10.30.0.1 RTR_BR_V6=fd00:30::1
VIP_V4=203.0.113.10 VIP_V6=fd00:203::10
VIP_PREFIX_V4=203.0.113.0/24 VIP_PREFIX_V6=fd00:203::/64
LIPS_V4="10.20.0.240 10.20.0.241" LIPS_V6="fd00:20::240 fd00:20::241"
LIP_PREFIX_V4=10.20.0.0/24 LIP_PREFIX_V6=fd00:20::/64
HTTP_PORT=80 UDP_PORT=9000      # VIP ports (Config/sluice.yaml)
RS_HTTP_PORT=8080               # nginx on every backend
PP_PORT=8088                    # VIP port of web-pp (client_address: proxy_protocol_v2)
RS_PROXY_PORT=8088              # nginx with `proxy_protocol` (web-pp, test_client_address.sh)
RS_UPLOAD_PORT=8081             # python upload sink on 127.0.0.1, behind nginx's /upload
RS_UDP_PORT=9000                # python UDP echo on every backend
rs_v4() { echo "10.30.0.1$1"; }
rs_v6() { echo "fd00:30::1$1"; }

E2E_PASSED=0
E2E_FAILED=0
E2E_SKIPPED=0
E2E_NAME=$(basename "${0:-e2e}" .sh)

log() { printf '%s\n' "$*"; }
log_step() { printf '== %s\n' "$*"; }

# skip MESSAGE: end the whole script as skipped (exit 77) with a clear reason.
skip() {
    printf 'SKIP: %s: %s\n' "$E2E_NAME" "$*"
    printf '%d passed, %d failed, %d skipped\n' "$E2E_PASSED" "$E2E_FAILED" "$((E2E_SKIPPED + 1))"
    exit 77
}

# require_root: skip unless we can create network namespaces (root or CAP_NET_ADMIN + CAP_SYS_ADMIN).
require_root() {
    if [ "$(id -u)" -ne 0 ]; then
        skip "needs root (network namespaces, XDP); run as root or via 'sudo make test'"
    fi
    local probe="sl-probe-$$"
    if ! ip netns add "$probe" 2>/dev/null; then
        skip "cannot create network namespaces here ('ip netns add' failed: no CAP_SYS_ADMIN/CAP_NET_ADMIN?)"
    fi
    ip netns del "$probe" 2>/dev/null || true
}

# require_cmd CMD...: skip when a tool is missing (run 'make deps').
require_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || skip "'$c' is not installed (run 'make deps')"
    done
}

# require_sluice: skip when the release binary has not been built.
require_sluice() {
    [ -x "$SLUICE_BIN" ] || skip "$SLUICE_BIN is missing (run 'make build')"
}

# ns_exec NS CMD...: run a command inside a namespace.
ns_exec() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

# pass/fail/skip_check MESSAGE: record one check.
pass() {
    E2E_PASSED=$((E2E_PASSED + 1))
    printf 'PASS: %s\n' "$*"
}
fail() {
    E2E_FAILED=$((E2E_FAILED + 1))
    printf 'FAIL: %s\n' "$*"
}
skip_check() {
    E2E_SKIPPED=$((E2E_SKIPPED + 1))
    printf 'SKIP: %s\n' "$*"
}

# check MESSAGE CMD...: run CMD (output hidden unless it fails) and record pass or fail.
check() {
    local msg=$1 out
    shift
    if out=$("$@" 2>&1); then
        pass "$msg"
    else
        fail "$msg"
        [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    | /' | head -20
    fi
    return 0
}

# check_eq MESSAGE EXPECTED ACTUAL
check_eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (expected '$2', got '$3')"; fi
}

# finish: print the summary line and exit 1 if anything failed.
finish() {
    printf '%d passed, %d failed, %d skipped\n' "$E2E_PASSED" "$E2E_FAILED" "$E2E_SKIPPED"
    if [ "$E2E_FAILED" -eq 0 ]; then exit 0; fi
    exit 1
}

# wait_for_port NS PORT [tcp|udp] [TIMEOUT_S]: wait until something listens on PORT inside NS.
wait_for_port() {
    local ns=$1 port=$2 proto=${3:-tcp} timeout=${4:-10} flag i
    [ "$proto" = udp ] && flag=-Hlun || flag=-Hltn
    for ((i = 0; i < timeout * 10; i++)); do
        if ip netns exec "$ns" ss "$flag" "sport = :$port" 2>/dev/null | grep -q .; then
            return 0
        fi
        sleep 0.1
    done
    printf 'timeout: nothing listens on %s/%s in %s after %ss\n' "$port" "$proto" "$ns" "$timeout" >&2
    return 1
}

# wait_for_file FILE [TIMEOUT_S]: wait until FILE exists and is not empty.
wait_for_file() {
    local file=$1 timeout=${2:-10} i
    for ((i = 0; i < timeout * 10; i++)); do
        [ -s "$file" ] && return 0
        sleep 0.1
    done
    return 1
}

# xdp_attached NS: list "iface" for every interface in NS that still has an XDP program.
xdp_attached() {
    ip -n "$1" -j link show | python3 -c '
import json, sys
for link in json.load(sys.stdin):
    if "xdp" in link:
        print(link["ifname"])
'
}

# stat_value FILE NAME: the value of counter NAME in a "name value" stats file (empty if absent).
stat_value() {
    awk -v n="$2" '$1 == n { print $2; exit }' "$1" 2>/dev/null
}

# Sluice inside the gateway namespace (the stats file is written every second by `sluice run`).
SLUICE_PID=""
SLUICE_LOG=""
SLUICE_STATS=""

# start_sluice CONFIG [LOGFILE] [STATSFILE]: start `sluice run` in $SLUICE_NS (default sl-gw) in the
# background and wait until it writes its first stats file (which it does only once the data plane is up).
start_sluice() {
    local config=$1
    SLUICE_LOG=${2:-$LAB_DIR/sluice.log}
    SLUICE_STATS=${3:-$LAB_DIR/sluice.stats}
    rm -f "$SLUICE_STATS"
    ip netns exec "${SLUICE_NS:-sl-gw}" "$SLUICE_BIN" run --config "$config" --stats-file "$SLUICE_STATS" \
        >"$SLUICE_LOG" 2>&1 &
    SLUICE_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$SLUICE_PID" 2>/dev/null; then
            printf 'sluice exited during start-up; log:\n' >&2
            sed 's/^/    | /' "$SLUICE_LOG" >&2
            SLUICE_PID=""
            return 1
        fi
        [ -s "$SLUICE_STATS" ] && return 0
        sleep 0.1
    done
    printf 'sluice wrote no stats file within 10 s; log:\n' >&2
    sed 's/^/    | /' "$SLUICE_LOG" >&2
    return 1
}

# stop_sluice: SIGTERM, wait up to 10 s, then SIGKILL. Returns the exit status of sluice.
stop_sluice() {
    [ -n "$SLUICE_PID" ] || return 0
    local i rc=0
    kill -TERM "$SLUICE_PID" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$SLUICE_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$SLUICE_PID" 2>/dev/null; then
        printf 'sluice did not stop on SIGTERM within 10 s; killing it\n' >&2
        kill -KILL "$SLUICE_PID" 2>/dev/null || true
        rc=137
    fi
    local status=0
    wait "$SLUICE_PID" 2>/dev/null || status=$?
    [ "$rc" -ne 0 ] || rc=$status
    SLUICE_PID=""
    return "$rc"
}

# xdp_prog_ids NS: "iface prog-id" for every interface in NS that has an XDP program attached.
xdp_prog_ids() {
    ip -n "$1" -j -d link show | python3 -c '
import json, sys
for link in json.load(sys.stdin):
    xdp = link.get("xdp")
    if xdp:
        ids = [a["prog"]["id"] for a in xdp.get("attached", []) if "prog" in a] or [xdp.get("prog", {}).get("id")]
        print(link["ifname"], ",".join(str(i) for i in ids))
'
}

# wait_for_log FILE PATTERN [TIMEOUT_S]: wait until an extended regex PATTERN matches a line of FILE.
wait_for_log() {
    local file=$1 pattern=$2 timeout=${3:-10} i
    for ((i = 0; i < timeout * 10; i++)); do
        grep -Eq -- "$pattern" "$file" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# reload_sluice PATTERN: SIGHUP the running sluice and wait (5 s) for a log line matching PATTERN
# ("event=reload_applied" by default) that was not in the log before the signal.
reload_sluice() {
    local pattern=${1:-event=reload_applied} before i
    [ -n "$SLUICE_PID" ] || return 1
    before=$(grep -Ec -- "$pattern" "$SLUICE_LOG" 2>/dev/null)
    kill -HUP "$SLUICE_PID" || return 1
    for ((i = 0; i < 50; i++)); do
        [ "$(grep -Ec -- "$pattern" "$SLUICE_LOG" 2>/dev/null)" -gt "$before" ] && return 0
        sleep 0.1
    done
    return 1
}

# start_whoami_nginx NS DIR ADDRESS:PORT: a minimal nginx in NS answering GET /whoami with
# "rs1 CLIENT-ADDRESS CLIENT-PORT" (what whoami_count.py counts), its files under DIR, pid in DIR/nginx.pid.
start_whoami_nginx() {
    local ns=$1 dir=$2 listen=$3
    mkdir -p "$dir/tmp"
    cat >"$dir/nginx.conf" <<NGINX
daemon on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen $listen;
        location = /whoami { default_type text/plain; return 200 "rs1 \$remote_addr \$remote_port\n"; }
    }
}
NGINX
    ip netns exec "$ns" nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"
}

# delete_namespaces NS...: kills whatever still runs in each namespace that exists, then deletes it.
delete_namespaces() {
    local ns pid
    for ns in "$@"; do
        [ -e "/run/netns/$ns" ] || continue
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
}
