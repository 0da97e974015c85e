#!/bin/bash
# conn_profile.sh -- where the gateway core's time goes per new connection: `perf record` of the gateway's
# CPU while wrk opens connections through one peer (`make perf`'s cps test: wrk -c32, Connection: close),
# for each peer of PEERS in turn, in the topology of netns/common.sh (namespaces cp-*).
#
# For each peer it prints the connection rate, the gateway CPU's busy share, the µs of gateway CPU per
# connection, and the top of `perf report` by thread name (comm) and by symbol, so Sluice's worker thread,
# the NAPI threads that copy frames in and out (copy mode) and the kernel's own forwarding can be compared.
#
# usage: sudo Perf/netns/conn_profile.sh        (env: PEERS="nft_fullnat sluice_fullnat sluice" SECS=6
#        SLUICE=.build/release/sluice GEN_CPU=0 DUT_CPU=1 TOP=25)
# Output: Perf/results/conn-profile-<UTC stamp>.txt (RES= elsewhere).
set -u
PERFDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=$(dirname "$PERFDIR")
LABBIN=$PERFDIR/.build-lab-perf
NSP=cp
PEERS=${PEERS:-"nft_fullnat sluice_fullnat sluice"}
SECS=${SECS:-6}
TOP=${TOP:-25}
RES=${RES:-$PERFDIR/results}
OUT=$RES/conn-profile-$(date -u +%Y%m%d-%H%M%S).txt
[ "$(id -u)" = 0 ] || { echo "conn_profile.sh: needs root" >&2; exit 1; }
command -v perf >/dev/null || { echo "conn_profile.sh: perf missing (make deps)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/cp-prof.XXXXXX)
# shellcheck source=common.sh
source "$PERFDIR/netns/common.sh"
SLUICE_SERVICES=tcp
cleanup() { stop_sluice 2>/dev/null; net_down; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$RES"
lab_build

# peer PEER: fresh topology with nginx and the peer, as perf.sh's peer_up (client XDP pass program included).
peer() {
  net_up || return 1
  ip netns exec $CLI "$BIN/xdpcnt" -i $IF_C0 -p xdp_pass_cnt -m native -t 86400 -q >"$WORK/client-xdp.log" 2>&1 &
  wait_ready "$WORK/client-xdp.log" || return 1
  napi_threaded $CLI $IF_C0 "$GEN_CPU"
  start_nginx
  case $1 in
    nft_fullnat) start_nft fullnat ;;
    nft_synproxy) start_nft synproxy ;;
    sluice) SLUICE_SYN_PROXY=true SLUICE_CLIENT_ADDRESS=proxy_protocol_v2; sluice_usable && start_sluice || return 1 ;;
    sluice_fullnat) SLUICE_SYN_PROXY=false SLUICE_CLIENT_ADDRESS=none; sluice_usable && start_sluice || return 1 ;;
    *) echo "unknown peer $1" >&2; return 1 ;;
  esac
  [ "$(ip netns exec $CLI curl -s -m 3 "http://$VIP/" 2>&1 | cut -c1-2)" = ok ]
}

{
  echo "# conn_profile.sh $(date -u +%Y-%m-%dT%H:%M:%SZ): wrk -t1 -c32 -H 'Connection: close' for ${SECS} s,"
  echo "# perf record -e cpu-clock -C $DUT_CPU for the middle $((SECS - 2)) s; gateway CPU $DUT_CPU, client/nginx CPU $GEN_CPU"
  echo "# Sluice: $SLUICE ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null))"
} >"$OUT"
for p in $PEERS; do
  if ! peer "$p"; then echo "$p: did not come up" | tee -a "$OUT"; stop_sluice 2>/dev/null; continue; fi
  ip netns exec $CLI taskset -c "$GEN_CPU" wrk -t1 -c32 -d"${SECS}s" -H 'Connection: close' "http://$VIP/" \
    >"$WORK/wrk.log" 2>&1 &
  wp=$!
  sleep 1
  # busy = everything but idle and iowait (softirq included: the kernel's own forwarding runs there)
  read -r _ u n s i w q sq st _ < <(grep "^cpu$DUT_CPU " /proc/stat)
  busy0=$((u + n + s + q + sq + st)) all0=$((u + n + s + i + w + q + sq + st))
  perf record -q -e cpu-clock -C "$DUT_CPU" -g -o "$WORK/perf.data" -- sleep $((SECS - 2)) >/dev/null 2>&1
  read -r _ u n s i w q sq st _ < <(grep "^cpu$DUT_CPU " /proc/stat)
  busy1=$((u + n + s + q + sq + st)) all1=$((u + n + s + i + w + q + sq + st))
  wait $wp
  rate=$(awk '/Requests\/sec/{print $2}' "$WORK/wrk.log")
  busy=$(awk -v b=$((busy1 - busy0)) -v a=$((all1 - all0)) 'BEGIN{printf "%.0f", a ? 100 * b / a : 0}')
  {
    echo
    echo "## $p: ${rate:-?} conn/s, gateway CPU $busy % busy: $(awk -v r="${rate:-0}" -v b="$busy" \
      'BEGIN{if (r > 0) printf "%.1f", b / 100 * 1e6 / r; else print "?"}') µs per connection"
    echo "### by thread"
    perf report -q -i "$WORK/perf.data" --no-children --sort comm --stdio -g none 2>/dev/null | grep -v "^$" | head -12
    echo "### by symbol (top $TOP)"
    perf report -q -i "$WORK/perf.data" --no-children --sort comm,sym --stdio -g none 2>/dev/null | grep -v "^$" \
      | head -"$TOP"
  } >>"$OUT"
  case $p in sluice*) stop_sluice ;; esac
done
cat "$OUT"
echo "conn_profile.sh: ${OUT#$ROOT/}"
