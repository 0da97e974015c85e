#!/bin/bash
# synproxy.sh -- SYNPROXY under load, in one invocation (issue 3):
#   A. SYN-answering rate: a random-source SYN flood at a syn_proxy VIP, SYN-ACKs counted at the client,
#      as a ratio to the C AF_XDP forwarder ceiling (Perf/lab's xsk_fwd) measured in the same run.
#   B. Flood survival: legitimate connections per second (new connection per request, 3 s timeout) under
#      the strongest SYN flood this machine makes (xsk_gen -r flat out) and a rate-limited one, divided by
#      the same without a flood; errors and connections >= 1 s; for Sluice, nftables synproxy and HAProxy.
#
#   ps-cli                       ps-gw (device under test)                        ps-be
#   ps-c0 10.210.1.2/24  <-->  ps-g0 10.210.1.1/24
#   02:00:00:00:01:02           02:00:00:00:01:01
#                               ps-g1 10.210.2.1/24  <-->  ps-b0 10.210.2.2/24 (nginx :80, :81 PROXY v2)
#                               02:00:00:00:02:01          02:00:00:00:02:02
#   VIP 10.210.9.10:80 (ps-cli routes it via 10.210.1.1). Sluice: LIP 10.210.2.100 on no interface
#   (ps-be has a /32 route to it via 10.210.2.1),
#   ps-gw ip_forward=0 (Sluice forwards in user space; it mirrors ps-gw's routes and permanent neighbours,
#   whose default route points back into ps-cli, where replies to random sources die: ip_forward=0 there).
#   nft synproxy and HAProxy terminate on the VIP, which they get on ps-gw's lo, with ip_forward=1.
#   The addresses and MACs of every Perf/netns script; namespaces and interfaces prefixed ps-.
#
# CPU placement (common.sh says why): the gateway (sluice / haproxy / xsk_fwd, the NAPI kthreads of
# ps-g0/ps-g1 when native XDP is attached, their RPS otherwise) on DUT_CPU; generator, client, nginx,
# counters and the RPS/NAPI of ps-c0/ps-b0 on GEN_CPU.
#
# Part A cases, R_A runs of D_A s each, alternating (traffic: xsk_gen -p syn -r flat out, 60-byte SYNs
# from random IPv4 sources to VIP:80):
#   xsk_fwd   Perf/lab's C AF_XDP forwarder, ps-g0 -> MAC rewrite -> ps-g1, counted by xdpcnt on ps-b0
#   sluice    `sluice run`, service VIP:80 syn_proxy -> 10.210.2.2:80; SYN-ACKs counted by xdpcnt on ps-c0
#   nft_syn   (reference) nftables synproxy (Perf/lab/conf/nft_synproxy.nft); SYN-ACKs counted on ps-c0
# Part B peers sluice, nft_synproxy, haproxy (Perf/lab/conf), each in a fresh topology with nginx (a flood
# leaves conntrack entries and retransmitting half-open connections behind, which would spoil the next peer);
# R_B runs of these tests, in this order every run:
#   legit       tcpbench -c 8 -k 1 -T 3000 for LD s, no flood
#   flood_max   xsk_gen -p syn -r flat out for LD+2 s; tcpbench (same) starts 1 s into it, for LD s
#   flood_N     the same with xsk_gen -R N, for each N in FLOOD_RATES (requested pps; the achieved rate
#               is recorded: the generator shares GEN_CPU with the client, nginx and the SYN-ACKs' receive)
# (Every measured second of the client is under flood: the flood starts 1 s before the client and
# ends 1 s after it.) Survival ratio = flood conn/s / legit conn/s of the same run.
#
# Every run records foreign CPU (Perf/lab/cpuacct.py, for the ps-* namespaces) and the number of
# processes created while it ran; a contaminated run (foreign > MAX_FOREIGN % of one CPU or more than
# MAX_NEW_PIDS new processes) is redone up to ATTEMPTS times and left out of the summary.
# Every loop and process is bounded by time; the script stops starting runs after MAX_MINUTES.
#
# The topology, the peers, Sluice's start/stop and one measured run of each kind come from common.sh
# (shared with forwarding.sh and ../perf.sh). The lab's tools are built from Perf/lab (or $PERF_LAB)
# with its Makefile into Perf/.build-lab-synproxy (gitignored). Needs root, make, a C compiler,
# libxdp/libbpf, clang with the BPF target, nginx, haproxy, nft,
# conntrack, tcpdump, curl, ethtool (apt-get install nginx haproxy nftables conntrack tcpdump curl ethtool), and
# `swift build -c release --product sluice` in the repository root (or SLUICE=path).
#
# usage: sudo Perf/netns/synproxy.sh
#   env: R_A=5 D_A=8 R_B=5 LD=5 FLOOD_RATES="100000 300000" PARTS="A B" CASES_A="xsk_fwd sluice nft_syn"
#        PEERS="sluice nft_synproxy haproxy" SLUICE=.build/release/sluice MAX_FOREIGN=10 MAX_NEW_PIDS=25
#        ATTEMPTS=2 QUIET_TIMEOUT=30 MAX_MINUTES=16 WAIT_NS=900 KEEP=0
# Writes Perf/results/synproxy-<UTC stamp>.{md,tsv,png} (the chart: ../suite_chart.py) and the per-peer
# Sluice/HAProxy logs next to them.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PERFDIR=$(dirname "$HERE")
ROOT=$(dirname "$PERFDIR")
LABBIN=$PERFDIR/.build-lab-synproxy
R_A=${R_A:-5}
D_A=${D_A:-8}
R_B=${R_B:-5}
LD=${LD:-5}
FLOOD_RATES=${FLOOD_RATES:-"100000 300000"}
PARTS=${PARTS:-"A B"}
CASES_A=${CASES_A:-"xsk_fwd sluice nft_syn"}
PEERS=${PEERS:-"sluice nft_synproxy haproxy"}
SLUICE=${SLUICE:-$ROOT/.build/release/sluice}
MAX_FOREIGN=${MAX_FOREIGN:-10}
MAX_NEW_PIDS=${MAX_NEW_PIDS:-25}
ATTEMPTS=${ATTEMPTS:-2}
QUIET_TIMEOUT=${QUIET_TIMEOUT:-30}
MAX_MINUTES=${MAX_MINUTES:-16}
WAIT_NS=${WAIT_NS:-900}
STAMP=$(date -u +%Y%m%d-%H%M%S)
RES=${RES:-$PERFDIR/results}
WORK=$(mktemp -d /tmp/ps-synproxy.XXXXXX)
TSV=$RES/synproxy-$STAMP.tsv
MD=$RES/synproxy-$STAMP.md
T0=$(date +%s)

NSP=ps
[ "$(id -u)" = 0 ] || { echo "synproxy.sh: needs root (network namespaces, XDP)" >&2; exit 1; }
for tool in nginx haproxy nft conntrack tcpdump curl ethtool make; do
  command -v $tool >/dev/null || { echo "synproxy.sh: $tool missing (apt-get install it)" >&2; exit 1; }
done
mkdir -p "$RES"
source "$HERE/common.sh"   # topology, peers, Sluice, generators, accounting, packet_run, client_run
SLUICE_SERVICES=tcp
SLUICE_SYN_PROXY=true
SLUICE_CLIENT_ADDRESS=none

wait_other_ns "$WAIT_NS" || exit 1
T0=$(date +%s)
lab_build

cleanup() {
  stop_sluice 2>/dev/null
  stop_haproxy
  [ "${KEEP:-0}" = 1 ] || net_down
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

over_time() { [ $(( $(date +%s) - T0 )) -ge $((MAX_MINUTES * 60)) ]; }
row() { printf "%s\n" "$(IFS=$'\t'; echo "$*")" | tee -a "$TSV"; }
printf "part\tcase\ttest\trun\tvalue\terrors\tslow_ge_1s\tp50_us\tp99_us\tflood_tx_pps\tdut_cpu_busy\tgen_cpu_busy\tforeign_pct\tnew_pids\textra\n" >"$TSV"

# ------------------------------------------------------------------ part A: SYN answering rate
SMOKE_A="not run"
smoke_a() { # SYN-ACKs at the client, valid checksums (tcpdump -vv checks IP and TCP checksums)
  ip netns exec $CLI timeout 5 tcpdump -nvvc 5 -i $IF_C0 'tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)' \
    >"$WORK/smoke_a.txt" 2>/dev/null &
  local tp=$!
  sleep 1
  syn_flood 2 1000 >/dev/null 2>&1
  wait $tp 2>/dev/null
  if grep -q "$VIP\.80 > [0-9.]*: Flags \[S\.\]" "$WORK/smoke_a.txt" && ! grep -qi "incorrect" "$WORK/smoke_a.txt"; then
    SMOKE_A="ok: $(grep -c "Flags \[S\.\]" "$WORK/smoke_a.txt") SYN-ACKs $VIP.80 > random sources, checksums correct"
  else
    SMOKE_A="FAILED: $(head -4 "$WORK/smoke_a.txt" | tr '\n' ' ')"
  fi
}

run_a() { # run_a CASE RUN
  local c=$1 r=$2
  $CPUACCT quiet 15 "$QUIET_TIMEOUT" >/dev/null
  packet_run "$c" syn "$D_A" 0 "$RES/synproxy-$STAMP-acct.log" "A $c run $r" || return 1
  [ "$c" = sluice ] && cat "$WORK/sluice.stats" >"$RES/synproxy-$STAMP-A-sluice-run$r.stats" 2>/dev/null
  row A "$c" syn_flood "$r" "$PK_COUNT" - - - - "$PK_GEN_TX" $ACCT "$NEW_PIDS" "$PK_EXTRA"
}

part_a() {
  net_up
  start_nginx
  local active=
  for c in $CASES_A; do
    if [ "$c" = sluice ]; then
      sluice_usable || { echo "part A: sluice skipped: $SLUICE_STATUS"; continue; }
      if start_sluice; then smoke_a; stop_sluice; else SMOKE_A="FAILED: sluice did not start"; fi
      echo "part A smoke (sluice): $SMOKE_A"
    fi
    active="$active $c"
  done
  for r in $(seq "$R_A"); do
    for c in $active; do
      over_time && { echo "time budget spent: part A stops at run $r" >&2; return; }
      for attempt in $(seq "$ATTEMPTS"); do
        run_a "$c" "$r" || { echo "A $c run $r: could not run" >&2; break; }
        contaminated "$(tail -1 "$TSV" | cut -f13)" "$(tail -1 "$TSV" | cut -f14)" || break
        echo "# A $c run $r attempt $attempt contaminated" >&2
      done
    done
  done
}

# ------------------------------------------------------------------ part B: flood survival
SMOKE_B=""
peer_up() { # fresh topology, nginx, the peer; one request through the VIP must work
  net_up
  start_nginx
  case $1 in
    sluice) sluice_usable && start_sluice || return 1 ;;
    nft_synproxy) start_nft synproxy ;;
    haproxy) start_haproxy ;;
  esac
  local answer
  answer=$(ip netns exec $CLI curl -s -m 3 http://$VIP/ 2>&1)
  SMOKE_B="$SMOKE_B $1: $( [ "${answer:0:2}" = ok ] && echo ok || echo "FAILED ($answer)");"
  [ "${answer:0:2}" = ok ]
}

peer_down() {
  case $1 in
    sluice) stop_sluice; cp "$WORK/sluice.log" "$RES/synproxy-$STAMP-B-sluice.log" 2>/dev/null
            cat "$WORK/sluice.stats" >>"$RES/synproxy-$STAMP-B-sluice.log" 2>/dev/null ;;
    haproxy) stop_haproxy ;;
  esac
}

run_b() { # run_b PEER TEST RUN
  local p=$1 t=$2 r=$3 extra=- s0
  $CPUACCT quiet 15 "$QUIET_TIMEOUT" >/dev/null
  [ "$p" = nft_synproxy ] && ip netns exec $GW conntrack -F >/dev/null 2>&1
  [ "$p" = sluice ] && s0=$(counters)
  client_run $VIP "$t" "$LD" "$RES/synproxy-$STAMP-acct.log" "B $p $t run $r"
  case $p in
    sluice)
      sleep 1.2
      extra="$(deltas "$s0" "$(counters)"),connections_now=$(sstat connections),lports_in_use=$(sstat local_ports_in_use),hold_full=$(sstat drop_hold_queue_full),table_full=$(sstat drop_connection_table_full)" ;;
    nft_synproxy) extra="conntrack_entries=$(ip netns exec $GW conntrack -C 2>/dev/null || echo -)" ;;
  esac
  row B "$p" "$t" "$r" "$CL_VALUE" "$CL_ERR" "$CL_SLOW" "$CL_P50" "$CL_P99" "$CL_FLOOD" $ACCT "$NEW_PIDS" "$extra"
  sleep 1   # let the flood's SYN-ACKs and the client's last RSTs drain
}

part_b() {
  for p in $PEERS; do
    over_time && { echo "time budget spent: part B stops before $p" >&2; return; }
    if ! peer_up "$p"; then echo "part B: $p skipped ($SLUICE_STATUS)" >&2; peer_down "$p"; continue; fi
    for r in $(seq "$R_B"); do
      for t in legit flood_max $(for n in $FLOOD_RATES; do echo "flood_$n"; done); do
        over_time && { echo "time budget spent: part B $p stops at run $r" >&2; break 2; }
        for attempt in $(seq "$ATTEMPTS"); do
          run_b "$p" "$t" "$r"
          contaminated "$(tail -1 "$TSV" | cut -f13)" "$(tail -1 "$TSV" | cut -f14)" || break
          echo "# B $p $t run $r attempt $attempt contaminated" >&2
        done
      done
    done
    peer_down "$p"
  done
  cp "$WORK/haproxy.log" "$RES/synproxy-$STAMP-B-haproxy.log" 2>/dev/null
}

for part in $PARTS; do
  case $part in A) part_a ;; B) part_b ;; esac
done
ELAPSED=$(( $(date +%s) - T0 ))

# ------------------------------------------------------------------ summary (markdown)
$PYTHON - "$TSV" "$MD" "$MAX_FOREIGN" "$MAX_NEW_PIDS" "$SLUICE_STATUS" "$SMOKE_A" "$SMOKE_B" "$STAMP" \
  "R_A=$R_A D_A=$D_A R_B=$R_B LD=$LD FLOOD_RATES=$FLOOD_RATES" "$ELAPSED" "$D_A" "$LD" <<'EOF'
import sys, statistics, platform, os
tsv, md, maxf, maxp, sluice_status, smoke_a, smoke_b, stamp, params, elapsed, d_a, ld = sys.argv[1:]
d_a, ld = float(d_a), float(ld)
rows = [l.rstrip("\n").split("\t") for l in open(tsv)][1:]
def num(x):
    try: return float(x)
    except (TypeError, ValueError): return None
def clean(part, case, test):
    best = {}
    for row in rows:
        if row[0] == part and row[1] == case and row[2] == test:
            best[row[3]] = row          # the last attempt of each run
    kept = {r: x for r, x in best.items()
            if num(x[12]) is not None and num(x[12]) <= float(maxf) and 0 <= int(x[13]) <= int(maxp)}
    return kept, len(best)
def spread(v, fmt="{:,.0f}"):
    v = [x for x in v if x is not None]
    if not v: return "–"
    return f"{fmt.format(statistics.median(v))} ({fmt.format(min(v))}–{fmt.format(max(v))})"
def extra(x, name):
    for kv in x[14].split(","):
        k, _, v = kv.partition("=")
        if k == name: return num(v)
    return None
cpu = ""
try:
    cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
except (OSError, IndexError):
    pass
out = [f"# SYNPROXY under load, {stamp} (UTC)\n",
       f"Machine: {platform.node()}, {os.cpu_count()} CPUs ({cpu}), kernel {platform.release()}. {params}. "
       f"Runs with foreign CPU > {maxf} % of one CPU or more than {maxp} processes created while they ran "
       f"are excluded. Whole script: {int(elapsed) // 60} min {int(elapsed) % 60} s. "
       "Cells: median (min–max) over the kept runs.\n"]
out.append("## A. SYN answering (xsk_gen -p syn -r flat out, 60-byte SYNs from random sources)\n")
out.append("| case | counted pps | counted where | runs kept / made | generator tx pps | CPU busy DUT / GEN % |")
out.append("|---|---|---|---|---|---|")
med = {}
where = {"xsk_fwd": "sink on ps-b0 (forwarded SYNs)", "sluice": "ps-c0 (SYN-ACKs)", "nft_syn": "ps-c0 (SYN-ACKs)"}
for case in ("xsk_fwd", "sluice", "nft_syn"):
    kept, made = clean("A", case, "syn_flood")
    if not made: continue
    v = [num(x[4]) or 0 for x in kept.values()]
    if v: med[case] = statistics.median(v)
    out.append(f"| {case} | {spread(v)} | {where[case]} | {len(kept)} / {made} | "
               f"{spread([num(x[9]) for x in kept.values()])} | "
               f"{spread([num(x[10]) for x in kept.values()], '{:.0f}')} / {spread([num(x[11]) for x in kept.values()], '{:.0f}')} |")
out.append("")
if "xsk_fwd" in med and med["xsk_fwd"] > 0:
    for case in ("sluice", "nft_syn"):
        if case in med:
            ratio = med[case] / med["xsk_fwd"]
            target = f" — target ≥ 0.9: **{'met' if ratio >= 0.9 else 'NOT met'}**" if case == "sluice" else ""
            out.append(f"- **{case} / xsk_fwd ceiling = {ratio:.2f}** (medians){target}")
kept, _ = clean("A", "sluice", "syn_flood")
if kept:
    rate = lambda n: spread([(extra(x, n) or 0) / d_a for x in kept.values()])
    out.append(f"- Sluice's own counters per second of flood: XDP steered to the socket {rate('xdp_redirected_vip')}, "
               f"received by Sluice {rate('received_external')}, cookie SYN-ACKs sent {rate('syn_proxy_cookies_sent')}; "
               "the first two differ by what the kernel dropped because the RX ring was full.")
out.append(f"- Smoke check (Sluice's SYN-ACKs captured at the client): {smoke_a}\n")

tests = sorted({r[2] for r in rows if r[0] == "B"},
               key=lambda t: (t != "legit", t != "flood_max", int(t[6:]) if t[6:].isdigit() else 0))
out.append("## B. Flood survival (tcpbench -c 8 -k 1 -T 3000, new connection per request)\n")
out.append("| peer | test | flood tx pps | legit conn/s | survival (flood ÷ no flood, per run) | errors (sum) | conns ≥ 1 s (sum) | p99 µs | CPU busy DUT / GEN % | runs kept / made |")
out.append("|---|---|---|---|---|---|---|---|---|---|")
survival, errors = {}, {}
for peer in ("sluice", "nft_synproxy", "haproxy"):
    base, _ = clean("B", peer, "legit")
    for test in tests:
        kept, made = clean("B", peer, test)
        if not made: continue
        v = [num(x[4]) or 0 for x in kept.values()]
        ratios = [num(x[4]) / num(base[r][4]) for r, x in kept.items()
                  if test != "legit" and r in base and num(base[r][4]) and num(x[4]) is not None]
        if ratios: survival[(peer, test)] = statistics.median(ratios)
        errors[(peer, test)] = sum(int(num(x[5]) or 0) for x in kept.values())
        out.append(f"| {peer} | {test} | {spread([num(x[9]) for x in kept.values()]) if test != 'legit' else '–'} | "
                   f"{spread(v)} | {spread(ratios, '{:.2f}') if test != 'legit' else '1'} | "
                   f"{errors[(peer, test)]} | {sum(int(num(x[6]) or 0) for x in kept.values())} | "
                   f"{spread([num(x[8]) for x in kept.values()])} | "
                   f"{spread([num(x[10]) for x in kept.values()], '{:.0f}')} / {spread([num(x[11]) for x in kept.values()], '{:.0f}')} | {len(kept)} / {made} |")
out.append("")
for test in tests:
    if test == "legit": continue
    if ("sluice", test) in survival:
        s, e = survival[("sluice", test)], errors[("sluice", test)]
        ok = s >= 0.8 and e == 0
        out.append(f"- Sluice {test}: survival {s:.2f}, {e} errors — target ≥ 0.8 with zero errors: **{'met' if ok else 'NOT met'}**")
    for peer in ("nft_synproxy", "haproxy"):
        if (peer, test) in survival:
            out.append(f"- {peer} {test}: survival {survival[(peer, test)]:.2f}, {errors[(peer, test)]} errors")
out.append("\nSluice's counters per second of the run (flood tests: the LD+2 s flood; legit: the LD s client):\n")
out.append("| test | XDP → socket (VIP) | received by Sluice | cookie SYN-ACKs | valid-cookie ACKs | handshakes with the RS |")
out.append("|---|---|---|---|---|---|")
for test in tests:
    kept, _ = clean("B", "sluice", test)
    if not kept: continue
    secs = ld if test == "legit" else ld + 2
    rate = lambda n: spread([(extra(x, n) or 0) / secs for x in kept.values()])
    out.append(f"| {test} | {rate('xdp_redirected_vip')} | {rate('received_external')} | {rate('syn_proxy_cookies_sent')} | "
               f"{rate('syn_proxy_acks_valid')} | {rate('syn_proxy_handshakes_completed')} |")
out.append(f"\nSmoke (one request through the VIP per peer):{smoke_b} Sluice: {sluice_status}.")
out.append("Per-run rows (with Sluice's counter deltas and nft's conntrack count in column `extra`): `"
           + os.path.basename(tsv) + "`; per-run CPU accounting: `" + os.path.basename(tsv).replace(".tsv", "-acct.log") + "`.")
open(md, "w").write("\n".join(out) + "\n")
print("\n".join(out))
EOF
# The chart: part A's rates, part B's survival and rates (../suite_chart.py, from the TSV, the same runs kept).
$PYTHON "$PERFDIR/suite_chart.py" synproxy "${TSV%.tsv}.png" "$TSV" "$MAX_FOREIGN" "$MAX_NEW_PIDS" \
  || echo "synproxy.sh: no chart (suite_chart.py failed)" >&2
