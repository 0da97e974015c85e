#!/usr/bin/env bash
# lab.sh -- the namespace lab for Sluice's end-to-end tests and `make demo`.
#
# usage: lab.sh up | down | status | report | demo [REQUESTS]
#
# Topology (addresses are defined once in lib.sh):
#
#   sl-cli                 sl-gw (Sluice)                 sl-rtr (router)            sl-rs1..3 (backends)
#   eth0 10.10.1.2 ----- ext0 10.10.1.1
#        fd00:10:1::2         fd00:10:1::1
#                          int0 10.10.2.1 ------------ gw0 10.10.2.2
#                               fd00:10:2::1               fd00:10:2::2
#                                                       br0 10.30.0.1 ---+-- eth0 10.30.0.11  fd00:30::11
#                                                           fd00:30::1   +-- eth0 10.30.0.12  fd00:30::12
#                                                         (MTU $LAB_MTU) +-- eth0 10.30.0.13  fd00:30::13
#
#   VIPs 203.0.113.10, fd00:203::10 -- routed by sl-cli to ext0's addresses, never assigned anywhere.
#   LIPs 10.20.0.240-241, fd00:20::240-241 -- routed by sl-rtr to int0's addresses, never assigned anywhere;
#   the backends route the LIP prefixes back via the router and have no default route; they also route
#   the gateway's int0 addresses, the source of its health checks.
#
# Why it is shaped this way (docs/design.md §1, §6; docs/afxdp.md §4):
#   - L3 only: the gateway shares no subnet with the backends, and sl-gw has IPv4 and IPv6 forwarding
#     turned off (asserted), so any packet that crosses it was forwarded by Sluice, not by the kernel.
#   - `ethtool -K <veth> tx off` on every veth end: a kernel sender on veth hands out CHECKSUM_PARTIAL
#     frames, which AF_XDP would deliver with only the pseudo-header sum in the L4 checksum field.
#     It also turns off TSO, so no frame is larger than the MTU (and a 2 KiB UMEM frame).
#   - The gateway's default routes point into sl-cli, which does not forward: replies to spoofed
#     flood sources leave through ext0 and die there instead of leaking anywhere.
#   - Each backend runs nginx (port 8080; 8088 with proxy_protocol), a python upload sink behind
#     nginx's /upload (answers "rsN LENGTH SHA256"), and a python UDP echo on 9000 (answers
#     "rsN SRC_ADDR SRC_PORT PAYLOAD"). Logs record the source address each backend saw.
#   - LAB_MTU (default 1500) sets the MTU of the router<->backend segment, for PMTU tests.
#   - `up` is idempotent (it tears down first); `down` kills every process inside the sl-* namespaces
#     (by PID, found with `ip netns pids`) and deletes them.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LAB_MTU=${LAB_MTU:-1500}
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}

lab_down() {
    local ns pid
    for ns in $LAB_NAMESPACES; do
        ns_exists "$ns" || continue
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
    done
    for ns in $LAB_NAMESPACES; do
        ns_exists "$ns" || continue
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
            sleep 0.1
        done
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
    case "$LAB_DIR" in /tmp/?*) rm -rf "$LAB_DIR" ;; *) rm -rf "${LAB_DIR:?}"/rs? "$LAB_DIR"/10mb* ;; esac
}

ns_exists() { [ -e "/run/netns/$1" ]; }

# veth NS_A IF_A NS_B IF_B: a veth pair with each end created directly in its namespace.
veth() {
    ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
}

# no_offload NS IF: full checksums and no TSO on frames this end sends (see the header).
no_offload() {
    ip netns exec "$1" ethtool -K "$2" tx off >/dev/null 2>&1 ||
        { echo "lab: 'ethtool -K $2 tx off' failed in $1" >&2; return 1; }
}

addr() { # NS IF V4/24 V6/64
    ip -n "$1" addr add "$3" dev "$2"
    ip -n "$1" addr add "$4" dev "$2" nodad
    ip -n "$1" link set "$2" up
}

sysctls() { # NS KEY=VALUE...
    local ns=$1
    shift
    ip netns exec "$ns" sysctl -qw "$@" >/dev/null
}

# resolve_neighbour NS ADDR: make the kernel in NS resolve ADDR's link-layer address (one UDP datagram
# to the discard port; there is no ping in every image) and wait until the entry has an lladdr.
resolve_neighbour() {
    local i
    for ((i = 0; i < 30; i++)); do
        ip netns exec "$1" bash -c "echo x >/dev/udp/$2/9" 2>/dev/null || true
        ip -n "$1" neigh show "$2" | grep -q lladdr && return 0
        sleep 0.1
    done
    return 1
}

# wait_links_up NS: wait until no interface in NS reports operstate DOWN.
wait_links_up() {
    local i
    for ((i = 0; i < 50; i++)); do
        ip -n "$1" -br link | awk '$2 == "DOWN" { found = 1 } END { exit found }' && return 0
        sleep 0.1
    done
    echo "lab: links in $1 still down: $(ip -n "$1" -br link | awk '$2 == "DOWN" { print $1 }')" >&2
    return 1
}

write_backend_py() {
    cat >"$LAB_DIR/backend.py" <<'PY'
# Backend helpers for the Sluice lab: a UDP echo and an HTTP upload sink, one process per backend.
import hashlib, http.server, socket, sys, threading

name, udp_port, http_port, udp_log = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

def udp_echo():
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", udp_port))
    with open(udp_log, "a", buffering=1) as log:
        while True:
            data, peer = s.recvfrom(65535)
            host = peer[0].removeprefix("::ffff:")
            log.write(f"{host} {peer[1]} {len(data)}\n")
            s.sendto(f"{name} {host} {peer[1]} ".encode() + data, peer)

class Upload(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        digest, left = hashlib.sha256(), length
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 16))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
        body = f"{name} {length - left} {digest.hexdigest()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

threading.Thread(target=udp_echo, daemon=True).start()
http.server.ThreadingHTTPServer(("127.0.0.1", http_port), Upload).serve_forever()
PY
}

write_nginx_conf() { # N
    local n=$1 dir="$LAB_DIR/rs$1"
    mkdir -p "$dir/html" "$dir/tmp"
    chmod 0777 "$dir/tmp"
    printf 'rs%s\n' "$n" >"$dir/html/index.html"
    ln -s "$LAB_DIR/10mb" "$dir/html/10mb"
    cat >"$dir/nginx.conf" <<EOF
# nginx for lab backend rs$n (generated by lab.sh)
daemon on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    log_format sl '\$remote_addr \$remote_port \$server_port "\$request" \$status \$body_bytes_sent '
                  'proxy=\$proxy_protocol_addr proxy_port=\$proxy_protocol_port';
    access_log $dir/access.log sl;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 5;
    server {
        listen $RS_HTTP_PORT;
        listen [::]:$RS_HTTP_PORT;
        listen $RS_PROXY_PORT proxy_protocol;
        listen [::]:$RS_PROXY_PORT proxy_protocol;
        root $dir/html;
        location = / { default_type text/plain; return 200 "rs$n\n"; }
        location = /whoami { default_type text/plain; return 200 "rs$n \$remote_addr \$remote_port\n"; }
        # On the proxy_protocol listener: the client named by the PROXY header, then the connection's peer.
        location = /proxywhoami {
            default_type text/plain;
            return 200 "rs$n \$proxy_protocol_addr \$proxy_protocol_port \$remote_addr \$remote_port\n";
        }
        location = /upload {
            client_max_body_size 64m;
            proxy_pass http://127.0.0.1:$RS_UPLOAD_PORT;
        }
    }
}
EOF
}

lab_up() {
    command -v nginx >/dev/null || { echo "lab: nginx is not installed (make deps)" >&2; exit 1; }
    lab_down
    mkdir -p "$LAB_DIR"
    local ns n
    for ns in $LAB_NAMESPACES; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        # No DAD, no RAs: addresses are usable at once and nothing is autoconfigured behind our back.
        sysctls "$ns" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
            net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
            net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
    done

    # Links. Every end is created in its own namespace, so nothing appears in the host's namespace.
    veth sl-cli eth0 sl-gw ext0
    veth sl-gw int0 sl-rtr gw0
    ip -n sl-rtr link add br0 type bridge
    ip -n sl-rtr link set br0 mtu "$LAB_MTU"
    for n in $LAB_BACKENDS; do
        veth sl-rtr "rs$n" "sl-rs$n" eth0
        ip -n sl-rtr link set "rs$n" mtu "$LAB_MTU" master br0 up
        ip -n "sl-rs$n" link set eth0 mtu "$LAB_MTU"
        no_offload sl-rtr "rs$n"
        no_offload "sl-rs$n" eth0
    done
    no_offload sl-cli eth0
    no_offload sl-gw ext0
    no_offload sl-gw int0
    no_offload sl-rtr gw0
    no_offload sl-rtr br0

    addr sl-cli eth0 "$CLI_V4/24" "$CLI_V6/64"
    addr sl-gw ext0 "$GW_EXT_V4/24" "$GW_EXT_V6/64"
    addr sl-gw int0 "$GW_INT_V4/24" "$GW_INT_V6/64"
    addr sl-rtr gw0 "$RTR_V4/24" "$RTR_V6/64"
    addr sl-rtr br0 "$RTR_BR_V4/24" "$RTR_BR_V6/64"
    for n in $LAB_BACKENDS; do
        addr "sl-rs$n" eth0 "$(rs_v4 "$n")/24" "$(rs_v6 "$n")/64"
    done

    # Routes: VIPs and LIPs are reachable only through the gateway's interface addresses.
    ip -n sl-cli route add "$VIP_PREFIX_V4" via "$GW_EXT_V4"
    ip -n sl-cli -6 route add "$VIP_PREFIX_V6" via "$GW_EXT_V6"
    ip -n sl-rtr route add "$LIP_PREFIX_V4" via "$GW_INT_V4"
    ip -n sl-rtr -6 route add "$LIP_PREFIX_V6" via "$GW_INT_V6"
    ip -n sl-gw route add 10.30.0.0/24 via "$RTR_V4"
    ip -n sl-gw -6 route add fd00:30::/64 via "$RTR_V6"
    ip -n sl-gw route add default via "$CLI_V4"
    ip -n sl-gw -6 route add default via "$CLI_V6"
    for n in $LAB_BACKENDS; do
        ip -n "sl-rs$n" route add "$LIP_PREFIX_V4" via "$RTR_BR_V4"
        ip -n "sl-rs$n" -6 route add "$LIP_PREFIX_V6" via "$RTR_BR_V6"
        # Health checks leave the gateway from int0's own address (the kernel's stack, not a LIP).
        ip -n "sl-rs$n" route add "$GW_INT_V4/32" via "$RTR_BR_V4"
        ip -n "sl-rs$n" -6 route add "$GW_INT_V6/128" via "$RTR_BR_V6"
    done

    # Forwarding: only the router forwards. The gateway must not (asserted below).
    sysctls sl-rtr net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv4.conf.all.send_redirects=0
    sysctls sl-gw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
    sysctls sl-cli net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
    if [ "$(ip netns exec sl-gw sysctl -n net.ipv4.ip_forward)" != 0 ] ||
        [ "$(ip netns exec sl-gw sysctl -n net.ipv6.conf.all.forwarding)" != 0 ]; then
        echo "lab: sl-gw still forwards; refusing to continue" >&2
        exit 1
    fi

    # Backends: nginx + python helpers.
    head -c $((10 * 1024 * 1024)) /dev/urandom >"$LAB_DIR/10mb"
    sha256sum "$LAB_DIR/10mb" | cut -d' ' -f1 >"$LAB_DIR/10mb.sha256"
    write_backend_py
    for n in $LAB_BACKENDS; do
        write_nginx_conf "$n"
        ip netns exec "sl-rs$n" nginx -c "$LAB_DIR/rs$n/nginx.conf" -p "$LAB_DIR/rs$n" -e "$LAB_DIR/rs$n/error.log"
        ip netns exec "sl-rs$n" setsid "$PYTHON" "$LAB_DIR/backend.py" "rs$n" "$RS_UDP_PORT" "$RS_UPLOAD_PORT" \
            "$LAB_DIR/rs$n/udp.log" >"$LAB_DIR/rs$n/backend.log" 2>&1 </dev/null &
    done
    for n in $LAB_BACKENDS; do
        wait_for_port "sl-rs$n" "$RS_HTTP_PORT" tcp
        wait_for_port "sl-rs$n" "$RS_UPLOAD_PORT" tcp
        wait_for_port "sl-rs$n" "$RS_UDP_PORT" udp
    done

    # Operstate follows carrier through the kernel's linkwatch, which may lag by up to a second.
    for ns in sl-cli sl-gw sl-rtr; do wait_links_up "$ns"; done
    for n in $LAB_BACKENDS; do wait_links_up "sl-rs$n"; done

    # Prime the neighbour tables the data plane mirrors (it reads them; the kernel resolves them).
    local target
    for target in "$CLI_V4" "$CLI_V6" "$RTR_V4" "$RTR_V6"; do
        resolve_neighbour sl-gw "$target" || { echo "lab: sl-gw cannot resolve $target" >&2; exit 1; }
    done
    for n in $LAB_BACKENDS; do
        resolve_neighbour sl-rtr "$(rs_v4 "$n")" || { echo "lab: sl-rtr cannot resolve $(rs_v4 "$n")" >&2; exit 1; }
        resolve_neighbour sl-rtr "$(rs_v6 "$n")" || { echo "lab: sl-rtr cannot resolve $(rs_v6 "$n")" >&2; exit 1; }
    done
    echo "lab up (MTU router<->backends $LAB_MTU, files in $LAB_DIR)"
}

lab_status() {
    local ns
    for ns in $LAB_NAMESPACES; do
        if ! ns_exists "$ns"; then
            echo "== $ns: absent"
            continue
        fi
        echo "== $ns"
        ip -n "$ns" -br addr | grep -v '^lo ' | sed 's/^/   /'
        ip -n "$ns" route | sed 's/^/   route /'
        ip -n "$ns" -6 route | grep -v '^fe80' | sed 's/^/   route /'
        ip netns exec "$ns" ss -Hlntu | awk '{ print "   listen " $1 " " $5 }'
    done
    if ns_exists sl-gw; then
        echo "== sl-gw forwarding: ipv4 $(ip netns exec sl-gw sysctl -n net.ipv4.ip_forward)," \
            "ipv6 $(ip netns exec sl-gw sysctl -n net.ipv6.conf.all.forwarding);" \
            "XDP attached on: $(xdp_attached sl-gw | tr '\n' ' ')"
    fi
}

# report: what each backend saw -- requests per server and the source addresses (the LIPs, in FULLNAT).
lab_report() {
    local n dir
    for n in $LAB_BACKENDS; do
        dir="$LAB_DIR/rs$n"
        [ -d "$dir" ] || continue
        printf 'rs%s (%s, %s): %d HTTP requests, %d UDP datagrams\n' "$n" "$(rs_v4 "$n")" "$(rs_v6 "$n")" \
            "$(wc -l <"$dir/access.log" 2>/dev/null || echo 0)" "$(wc -l <"$dir/udp.log" 2>/dev/null || echo 0)"
        awk '{ print "HTTP from " $1 }' "$dir/access.log" 2>/dev/null | sort | uniq -c |
            awk '{ printf "    %s %s %-16s %d\n", $2, $3, $4, $1 }'
        awk '{ print "UDP  from " $1 }' "$dir/udp.log" 2>/dev/null | sort | uniq -c |
            awk '{ printf "    %s  %s %-16s %d\n", $2, $3, $4, $1 }'
    done
}

# udp_ask NS ADDR PORT PAYLOAD: send one datagram and print the reply (empty after 2 s of silence).
udp_ask() {
    ip netns exec "$1" "$PYTHON" -c '
import socket, sys
addr, port, payload = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(payload, (addr, port))
try:
    print(s.recvfrom(65535)[0].decode())
except socket.timeout:
    pass
' "$2" "$3" "$4"
}

# demo [REQUESTS]: the lab, Sluice in sl-gw, traffic through the VIPs, what the backends saw.
# demo_requests VIP N: N requests from sl-cli to http://VIP/, tallied by the backend that answered;
# fails when any request failed.
demo_requests() {
    local vip=$1 n=$2 i body bodies="" ok=0
    for ((i = 0; i < n; i++)); do
        if body=$(ip netns exec sl-cli curl -gsS -m 3 "http://$vip:$HTTP_PORT/" 2>&1); then
            bodies+="answered by $body"$'\n'
        else
            bodies+="failed: $body"$'\n'
            ok=1
        fi
    done
    printf '%s' "$bodies" | sort | uniq -c | sed 's/^ */    /'
    return "$ok"
}

lab_demo() {
    local requests=${1:-12} config="$LAB_DIR/demo.yaml" ok=1 i body vip reply
    local server seen_addr seen_port lip lport client_addr client_port
    local ctl="$REPO_ROOT/.build/release/sluicectl" socket="$LAB_DIR/admin.sock"
    require_sluice
    trap 'stop_sluice >/dev/null 2>&1 || true; lab_down' EXIT
    lab_up
    # The shipped configuration, with TCP health checks on web and the admin socket in the lab.
    sed 's|^    establish_timeout: 15m$|&\n    health_check: { type: tcp, interval: 1s, timeout: 500ms, rise: 2, fall: 2 }|' \
        "$REPO_ROOT/Config/sluice.yaml" >"$config"
    printf 'admin: { socket: %s }\n' "$socket" >>"$config"
    log_step "starting: sluice run with Config/sluice.yaml + health checks on web (in sl-gw)"
    if ! start_sluice "$config"; then
        echo "demo: sluice did not start" >&2
        exit 1
    fi
    sed 's/^/    | /' "$SLUICE_LOG"
    wait_for_log "$SLUICE_LOG" "event=rs_up vs=web .*rs=$(rs_v4 3):" 5 || true
    for vip in "$VIP_V4" "[$VIP_V6]"; do
        log_step "curl http://$vip/ x $requests (from sl-cli)"
        demo_requests "$vip" "$requests" || ok=0
    done
    # Service web-pp: nginx's proxy_protocol listener learns the client from Sluice's PROXY v2 header.
    log_step "curl http://$VIP_V4:$PP_PORT/proxywhoami x 3 (web-pp: PROXY protocol v2 to nginx)"
    local seen client
    for ((i = 0; i < 3; i++)); do
        if body=$(ip netns exec sl-cli curl -gsS -m 3 -w ' %{local_ip} %{local_port}' \
            "http://$VIP_V4:$PP_PORT/proxywhoami" 2>&1); then
            read -r server seen_addr seen_port lip lport client_addr client_port <<<"${body//$'\n'/ }"
            seen="$seen_addr:$seen_port" client="$client_addr:$client_port"
            printf '    %s: PROXY header named %s (client %s), connection from %s:%s\n' \
                "$server" "$seen" "$client" "$lip" "$lport"
            [ "$seen" = "$client" ] || ok=0
        else
            printf '    failed: %s\n' "$body"
            ok=0
        fi
    done
    for vip in "$VIP_V4" "$VIP_V6"; do
        log_step "UDP to $vip:$UDP_PORT (from sl-cli)"
        for i in 1 2 3; do
            reply=$(udp_ask sl-cli "$vip" "$UDP_PORT" "hello-$i")
            if [ -n "$reply" ]; then printf '    reply: %s\n' "$reply"; else printf '    no reply\n'; ok=0; fi
        done
    done
    log_step "sluicectl list --stats (ipvsadm's layout)"
    "$ctl" --socket "$socket" list --stats | sed 's/^/    /' || ok=0
    log_step "rs2's nginx stops: its health check fails and it leaves the pool"
    ip netns exec sl-rs2 nginx -c "$LAB_DIR/rs2/nginx.conf" -p "$LAB_DIR/rs2" -s stop
    if wait_for_log "$SLUICE_LOG" "event=rs_down vs=web .*rs=$(rs_v4 2):" 6; then
        grep "event=rs_down vs=web " "$SLUICE_LOG" | sed 's/^/    | /'
    else
        echo "    rs2 was not taken down"
        ok=0
    fi
    "$ctl" --socket "$socket" health | sed 's/^/    /' || ok=0
    demo_requests "$VIP_V4" "$requests" || ok=0
    log_step "rs2's nginx starts again: two good checks and it is back"
    ip netns exec sl-rs2 nginx -c "$LAB_DIR/rs2/nginx.conf" -p "$LAB_DIR/rs2" -e "$LAB_DIR/rs2/error.log"
    if wait_for_log "$SLUICE_LOG" "event=rs_up vs=web .*rs=$(rs_v4 2):.*live=3/3" 6; then
        grep "event=rs_up vs=web .*rs=$(rs_v4 2):.*live=3/3" "$SLUICE_LOG" | sed 's/^/    | /'
    else
        echo "    rs2 did not come back"
        ok=0
    fi
    "$ctl" --socket "$socket" list | sed 's/^/    /' || ok=0
    log_step "what the backends saw (source addresses should be LIPs, never $CLI_V4 / $CLI_V6)"
    lab_report
    # The stats file is rewritten every second: wait for one written after the traffic.
    sleep 1.2
    log_step "sluice counters, non-zero ($SLUICE_STATS; every counter is in the file)"
    awk '$2 != 0 { print "    " $0 }' "$SLUICE_STATS"
    log_step "stopping sluice (SIGTERM)"
    local lines_before
    lines_before=$(wc -l <"$SLUICE_LOG")
    if stop_sluice; then echo "    sluice exited cleanly"; else echo "    sluice exited with an error"; ok=0; fi
    tail -n +"$((lines_before + 1))" "$SLUICE_LOG" | sed 's/^/    | /'
    local left
    left=$(xdp_attached sl-gw)
    if [ -n "$left" ]; then
        echo "    XDP program left attached on: $left"
        ok=0
    else
        echo "    no XDP program left on sl-gw's interfaces"
    fi
    if [ "$ok" = 1 ]; then echo "demo: OK"; else echo "demo: FAILED" >&2; exit 1; fi
}

case "${1:-}" in
up)
    [ "$(id -u)" -eq 0 ] || { echo "lab.sh up: needs root" >&2; exit 1; }
    lab_up
    ;;
down)
    lab_down
    echo "lab down"
    ;;
status) lab_status ;;
report) lab_report ;;
demo) lab_demo "${2:-12}" ;;
*)
    echo "usage: $0 up | down | status | report | demo [REQUESTS]" >&2
    exit 2
    ;;
esac
