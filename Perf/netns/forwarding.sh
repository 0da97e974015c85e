#!/bin/bash
# forwarding.sh -- packet-path capacity of Sluice against the AF_XDP ceiling, in one invocation
# (issue 2): the C forwarder on the same veths gives the most a copy-mode AF_XDP path does on this
# machine, and Sluice's established-flow forwarding is expressed as a share of it. The generator is
# cheap, so the gateway is the bottleneck; the rate is counted at the sink.
#
#   pf-cli                       pf-gw (device under test)                        pf-be
#   pf-c0 10.210.1.2/24  <-->  pf-g0 10.210.1.1/24
#   02:00:00:00:01:02           02:00:00:00:01:01
#                               pf-g1 10.210.2.1/24  <-->  pf-b0 10.210.2.2/24 (RS, the sink)
#                               02:00:00:00:02:01          02:00:00:00:02:02
#   VIP 10.210.9.10 (pf-cli routes it via 10.210.1.1), LIP 10.210.2.100 (on no interface; pf-be's default
#   route points at pf-gw). The addresses and MACs of every Perf/netns script, namespaces prefixed pf-.
#
# Cases, each run R times for D seconds (alternating), generator and sink on GEN_CPU, gateway on DUT_CPU
# unless said otherwise:
#   xsk_fwd  Perf/lab's C AF_XDP forwarder (copy mode, rx pf-g0 -> MAC rewrite -> tx pf-g1): the ceiling
#   sluice   `sluice run` with a UDP service VIP:9 -> RS 10.210.2.2:9 from LIP 10.210.2.100, fed
#            established flows (a 2 s warm-up at 20 kpps opens all 4096 flows of xsk_gen first); one worker
#   sluice2  the same with two workers (the issue's "2 workers against 1 in the same run"): every veth end
#            with 2 RX and 2 TX queues, `dataplane.workers` left out (so one worker per RX queue: 2), one
#            worker per core. Two generators, one on pf-c0's TX queue 0 and one on queue 1 (a veth frame
#            arrives on the peer's RX queue of the sender's TX queue), each sending all 4096 flows, so
#            about half of each queue's frames belong to the other worker (ownership is the Toeplitz hash
#            of the client tuple, FlowOwnership.swift) and are handed off. Two cores leave no third for
#            the generators: each core runs one generator and the gateway's whole pipeline of the OTHER
#            generator's queue (its worker, the NAPI threads of that queue on both gateway veths, the
#            sink's NAPI thread of that queue): generator 0 on GEN_CPU feeds queue 0, served on DUT_CPU,
#            generator 1 on DUT_CPU feeds queue 1, served on GEN_CPU. Crosswise because a generator
#            sharing a core with the NAPI thread of the queue it feeds starves it, and that queue stalls
#            (tried: a few hundred frames/s, the generator spinning on EAGAIN, even under SCHED_IDLE).
#            The generators report the CPU time they used (xsk_gen's cpu_s), which the summary takes off
#            the two cores to get the gateway's.
#   sluice2_rss  as sluice2, but each generator sends only the flows an RSS NIC with Sluice's key and
#            table would put on its queue (xsk_gen -k 2): 2048 flows each, every frame arrives at its
#            owner, no hand-off: what a NIC does once its RSS key and table agree with Sluice's
#   sluice2_1core  two workers (`dataplane.workers: 2`) and generators as in sluice2, but the whole
#            gateway (both workers, every NAPI thread of its veths) on DUT_CPU and the generators and the
#            sink on GEN_CPU, as in `sluice`: the same CPU as one worker gets, so what a second worker and
#            the hand-offs cost per packet shows as a lower rate
#   sluice2_1core_rss  as sluice2_1core with sluice2_rss's generators: a second worker without hand-offs
# The single-queue cases run on the same veths set to one queue each (ethtool -L), the two-queue cases
# with two; pf-g0's per-queue XDP redirect counts (ethtool -S) show that both queues got traffic.
# Traffic: Perf/lab's xsk_gen, 60-byte IPv4/UDP frames 10.210.1.2:1024-5119 -> 10.210.9.10:9, UDP checksum 0
# (valid: "none", RFC 768), IPv4 header checksum computed (Perf/lab/src/frames.h). Flat out unless RATE
# is set.
# Counting: Perf/lab's xdpcnt (native XDP_DROP counter) on pf-b0; the table shows sink pps.
# pf-gw keeps ip_forward=0, so every frame counted at the sink went through the AF_XDP path.
#
# The topology, the lab's tools (built from Perf/lab, or $PERF_LAB, into Perf/.build-lab), Sluice's
# start/stop and one measured run come from common.sh (shared with synproxy.sh and ../perf.sh).
# Needs root, make, a C compiler, libxdp/libbpf (make deps), clang with the BPF target (the Swift
# toolchain's does), ethtool, tcpdump, and for the sluice cases
# `swift build -c release --product sluice` in the repository root first.
#
# usage: sudo Perf/netns/forwarding.sh          (env: R=5 D=8 RATE=0
#                                                CASES="xsk_fwd sluice sluice2 sluice2_rss sluice2_1core
#                                                       sluice2_1core_rss"
#                                                SLUICE=.build/release/sluice MAX_FOREIGN=10 MAX_NEW_PIDS=25
#                                                ATTEMPTS=2 QUIET_TIMEOUT=30 WAIT_NS=600 KEEP=0)
# Writes Perf/results/forwarding-<UTC stamp>.{md,tsv,json,png} (the summary, per-run rows, the summary's
# figures, the chart drawn from them by ../suite_chart.py) and -<case>-run<N>.log (Sluice's log and
# stats file of each run).
# A run is contaminated (retried up to ATTEMPTS times, then excluded from the summary) when processes outside
# the pf-* namespaces used more than MAX_FOREIGN % of one CPU, or more than MAX_NEW_PIDS processes were
# created while it ran (short-lived compiler processes escape cpuacct.py).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PERFDIR=$(dirname "$HERE")
ROOT=$(dirname "$PERFDIR")
LABBIN=$PERFDIR/.build-lab
R=${R:-5}
D=${D:-8}
RATE=${RATE:-0}
CASES=${CASES:-"xsk_fwd sluice sluice2 sluice2_rss sluice2_1core sluice2_1core_rss"}
MULTI_QUEUES=2   # RX/TX queues per veth end in the two-worker cases
SLUICE=${SLUICE:-$ROOT/.build/release/sluice}
MAX_FOREIGN=${MAX_FOREIGN:-10}
MAX_NEW_PIDS=${MAX_NEW_PIDS:-25}
ATTEMPTS=${ATTEMPTS:-2}
QUIET_TIMEOUT=${QUIET_TIMEOUT:-30}
WAIT_NS=${WAIT_NS:-600}   # seconds to wait for another namespace lab to finish, before starting and before
                          # each round (-1: do not wait); two labs on two cores spoil each other's figures
STAMP=$(date -u +%Y%m%d-%H%M%S)
RES=${RES:-$PERFDIR/results}
WORK=$(mktemp -d /tmp/pf-forwarding.XXXXXX)
TSV=$RES/forwarding-$STAMP.tsv
MD=$RES/forwarding-$STAMP.md
JSON=$RES/forwarding-$STAMP.json
PNG=$RES/forwarding-$STAMP.png

NSP=pf
[ "$(id -u)" = 0 ] || { echo "forwarding.sh: needs root (network namespaces, XDP)" >&2; exit 1; }
mkdir -p "$RES"
# The veths get MULTI_QUEUES queues when a two-worker case runs (set_queues picks 1 or 2 per case); else
# they are created as always, with one.
case " $CASES " in *" sluice2"*) NET_QUEUES=$MULTI_QUEUES ;; *) NET_QUEUES=1 ;; esac
source "$HERE/common.sh"
SLUICE_SERVICES=udp
# Counters whose change over a Sluice run goes into the `extra` column, besides common.sh's: what was
# forwarded and what the workers handed each other.
DELTAS="$DELTAS forwarded_inbound hand_offs_sent hand_offs_received drop_hand_off_full drop_wrong_worker"
DELTAS="$DELTAS drop_udp_source_flow_limit drop_udp_flow_limit"
lab_build

cleanup() {
  stop_sluice
  [ "${KEEP:-0}" = 1 ] || net_down
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# smoke: with Sluice running and no counter on pf-b0, capture a few frames at the RS and check that they
# were translated (LIP -> RIP:9) and that tcpdump finds no bad IPv4 header checksum.
sluice_smoke() {
  ip netns exec $BE timeout 4 tcpdump -nvc 5 -i $IF_B0 udp >"$WORK/smoke.txt" 2>/dev/null &
  local tp=$!
  sleep 1
  gen_udp 2 1000 >/dev/null 2>&1
  wait $tp 2>/dev/null
  if grep -q "$LIP\.[0-9]* > $RIP\.$UDP_PORT:" "$WORK/smoke.txt" && ! grep -q "bad cksum" "$WORK/smoke.txt"; then
    SMOKE="ok: $(grep -c "$LIP\." "$WORK/smoke.txt") frames $LIP.lport > $RIP.$UDP_PORT, no bad checksum"
  else
    SMOKE="FAILED: $(head -4 "$WORK/smoke.txt" | tr '\n' ' ')"
  fi
}

# ------------------------------------------------------------------ cases
# case_setup CASE: the queues, workers and placement of CASE (see the header); writes Sluice's config.
case_setup() {
  local q=1
  SLUICE_WORKERS=1 SLUICE_WORKER_CPUS= SLUICE_PROCESS_CPUS= SLUICE_NAPI_CPUS=
  GEN_QUEUES=1 GEN_QUEUE_CPUS= GEN_RSS=0 COUNTER_NAPI_CPUS=
  case $1 in
    sluice2|sluice2_rss)
      # queue 0: generator on GEN_CPU, served on DUT_CPU; queue 1 the other way round (see the header)
      q=$MULTI_QUEUES SLUICE_WORKERS=
      SLUICE_WORKER_CPUS="$DUT_CPU, $GEN_CPU" SLUICE_PROCESS_CPUS="$GEN_CPU,$DUT_CPU" SLUICE_NAPI_CPUS="$DUT_CPU $GEN_CPU"
      GEN_QUEUES=$MULTI_QUEUES GEN_QUEUE_CPUS="$GEN_CPU $DUT_CPU" COUNTER_NAPI_CPUS="$DUT_CPU $GEN_CPU" ;;
    sluice2_1core|sluice2_1core_rss)
      q=$MULTI_QUEUES SLUICE_WORKERS=$MULTI_QUEUES GEN_QUEUES=$MULTI_QUEUES ;;
  esac
  case $1 in *_rss) GEN_RSS=1 ;; esac
  set_queues "$q" || return 1
  sluice_config >"$WORK/sluice.yaml"
}

# gateway CASE: packet_run's gateway for a case (every sluice* case is Sluice).
gateway() { case $1 in sluice*) echo sluice ;; *) echo "$1" ;; esac; }

# ------------------------------------------------------------------ one measured run
run_case() { # run_case CASE RUN -> appends one TSV row; returns 1 if the run could not be made
  local c=$1 r=$2 extra
  case_setup "$c" || return 1
  $CPUACCT quiet 15 "$QUIET_TIMEOUT" >/dev/null
  : >"$WORK/sluice.log"
  packet_run "$(gateway "$c")" udp "$D" "$RATE" || return 1
  extra="gen_cpu_s=${PK_GEN_CPU:-}"
  if [ "$(gateway "$c")" = sluice ]; then
    cat "$WORK/sluice.log" "$WORK/sluice.stats" >"$RES/forwarding-$STAMP-$c-run$r.log" 2>/dev/null
    # the workers Sluice started ("data plane up: ..., N worker(s)")
    # and its connections at the end (the stats file outlives the process)
    extra="$extra,workers=$(sed -n 's/.*data plane up:.* \([0-9]*\) worker(s).*/\1/p' "$WORK/sluice.log" | tail -1)"
    extra="$extra,connections=$(sstat connections),$PK_EXTRA"
  fi
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$c" "$r" "$PK_COUNT" "$PK_GEN_TX" $ACCT "$RATE" "$NEW_PIDS" \
    "$extra" | tee -a "$TSV"
}

# ------------------------------------------------------------------ main
wait_other_ns "$WAIT_NS" || exit 1
printf "case\trun\tsink_median_pps\tgen_tx_pps\tdut_cpu_busy\tgen_cpu_busy\tforeign_pct\toffered_rate\tnew_pids\textra\n" >"$TSV"
net_up
SMOKES=
ACTIVE=
for c in $CASES; do
  case $c in xsk_fwd|sluice|sluice2|sluice2_rss|sluice2_1core|sluice2_1core_rss) ;;
    *) echo "unknown case $c" >&2; continue ;; esac
  if [ "$(gateway "$c")" = sluice ]; then
    case_setup "$c" || { echo "$c skipped: the veths did not take its queues" >&2; continue; }
    if ! sluice_usable; then
      echo "$c case skipped: $SLUICE_STATUS"
      continue
    fi
    if start_sluice; then sluice_smoke; stop_sluice; else SMOKE="FAILED: sluice did not start"; fi
    echo "$c smoke: $SMOKE"
    SMOKES="$SMOKES${SMOKES:+; }$c: $SMOKE"
  fi
  ACTIVE="$ACTIVE $c"
done
# Cases alternate run by run, so that a burst of background load hits both rather than one.
for r in $(seq "$R"); do
  [ "$r" -gt 1 ] && wait_other_ns "$WAIT_NS"   # bounded; if another lab stays, contaminated runs show it
  for c in $ACTIVE; do
    for attempt in $(seq "$ATTEMPTS"); do
      run_case "$c" "$r" || { echo "$c run $r: could not run" >&2; break; }
      foreign=$(tail -1 "$TSV" | cut -f7)
      pids=$(tail -1 "$TSV" | cut -f9)
      contaminated "$foreign" "$pids" || break
      echo "# $c run $r attempt $attempt contaminated (foreign $foreign %, $pids new pids)" >&2
    done
  done
done

# ------------------------------------------------------------------ summary (markdown, JSON) and chart
$PYTHON "$HERE/forwarding_summary.py" "$TSV" "$MD" "$JSON" "$MAX_FOREIGN" "$MAX_NEW_PIDS" "$SLUICE_STATUS" "$SMOKES" \
  "$STAMP" "$R" "$D" "$RATE" "$GEN_CPU" "$DUT_CPU"
$PYTHON "$PERFDIR/suite_chart.py" forwarding "$PNG" "$JSON" || echo "forwarding.sh: no chart (suite_chart.py failed)" >&2
