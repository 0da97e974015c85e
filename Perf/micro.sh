#!/bin/bash
# micro.sh -- the per-packet FULLNAT micro benchmark (Perf/Benchmarks/FullNATBenchmarks), Swift vs the C
# reference, with the Swift/C ratio computed from the same run, and optionally callgrind instruction counts
# (repeatable, unaffected by other load on the machine) from Perf/Sources/fullnat-probe.
#
# usage: Perf/micro.sh [--callgrind] [--no-bench] [--check]
#   (default)     swift package benchmark (wall clock, throughput, mallocCountTotal; instructions where the
#                 machine has hardware counters) and the ratio table
#   --callgrind   also count instructions per packet with valgrind (8 cases x 2 runs, about 2 minutes)
#   --no-bench    skip the package-benchmark run (use with --callgrind)
#   --check       also run `swift package benchmark thresholds check` against Perf/Thresholds/<swift>/
#                 (fails, exit 2, when a benchmark allocates)
#   env SCRATCH=.build   the scratch path (e.g. .build-mine when another build uses .build)
#   env STAMP=...        the results' time stamp (micro-all.sh sets it)
# Writes Perf/results/micro-<UTC stamp>.md (+ the raw benchmark output next to it, and a .tsv with one row
# per benchmark: name, p50 ns, p90 ns, samples, mallocs per packet, callgrind instructions (process only)),
# and its chart, micro-<stamp>.png (suite_chart.py; not when micro-all.sh runs it: that draws one of all).
# Perf/micro-all.sh runs this, micro-synproxy.sh and micro-paths.sh together with one summary table.
set -u
PERFDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$PERFDIR"
SCRATCH=${SCRATCH:-.build}
BENCH=1 CALLGRIND=0 CHECK=0
for a in "$@"; do
  case $a in
    --callgrind) CALLGRIND=1 ;;
    --no-bench) BENCH=0 ;;
    --check) CHECK=1 ;;
    *) echo "usage: $0 [--callgrind] [--no-bench] [--check]" >&2; exit 2 ;;
  esac
done
STAMP=${STAMP:-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p results
MD=results/micro-$STAMP.md
RAW=results/micro-$STAMP.txt
TSV=results/micro-$STAMP.tsv
: >"$TSV"
CGTSV=$(mktemp /tmp/micro-cg-tsv.XXXXXX)
SWIFT_MINOR=$(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9]*\.[0-9]*\).*/\1/p' | head -1)
STATUS=0

{
  echo "# FULLNAT per-packet micro benchmark, $STAMP (UTC)"
  echo
  echo "Machine: $(uname -n), $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), kernel $(uname -r), Swift $SWIFT_MINOR."
  echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
} >"$MD"

if [ "$BENCH" = 1 ]; then
  swift package --scratch-path "$SCRATCH" benchmark --target FullNATBenchmarks --no-progress 2>&1 | tee "$RAW"
  python3 bench_table.py "$RAW" "$TSV" 'established-\S+' \
    "package-benchmark (wall clock per packet, 10^6 packets per sample)" >>"$MD"
  python3 - "$TSV" >>"$MD" <<'EOF'
import sys
p50 = {line.split("\t")[0]: line.split("\t")[1] for line in open(sys.argv[1])}
for direction in ("inbound", "outbound"):
    s, c = p50.get(f"established-{direction}-swift"), p50.get(f"established-{direction}-c")
    try:
        sp, cp = float(s), float(c)
        print(f"- {direction}: Swift / C = {sp:.0f} / {cp:.0f} ns = **{sp / cp:.2f}x** (p50)")
    except (TypeError, ValueError):
        print(f"- {direction}: ratio not available (a benchmark was skipped or failed)")
print()
EOF
fi

if [ "$CHECK" = 1 ]; then
  printf "## thresholds check (Thresholds/%s)\n\n" "$SWIFT_MINOR" >>"$MD"
  swift package --scratch-path "$SCRATCH" benchmark thresholds check --target FullNATBenchmarks \
    --path "Thresholds/$SWIFT_MINOR" --no-progress 2>&1 \
    | tee -a "$RAW"
  rc=${PIPESTATUS[0]}
  printf "exit status %s (0 = within thresholds; non-zero = a regression, e.g. an allocation per packet)\n\n" \
    "$rc" >>"$MD"
  [ "$rc" = 0 ] || STATUS=$rc
fi

if [ "$CALLGRIND" = 1 ]; then
  swift build -c release --scratch-path "$SCRATCH" --product fullnat-probe >/dev/null \
    || { echo "building fullnat-probe failed" >&2; exit 1; }
  PROBE=$SCRATCH/release/fullnat-probe
  N1=10000 N2=110000
  TMP=$(mktemp -d /tmp/micro-cg.XXXXXX)
  ir() { # ir LANG DIR N -> instructions of the whole process
    valgrind --tool=callgrind --callgrind-out-file="$TMP/$1.$2.$3.out" "$PROBE" "$1" "$2" "$3" 2>&1 \
      | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
  }
  per_packet() { echo $(( ($(ir "$1" "$2" $N2) - $(ir "$1" "$2" $N1)) / (N2 - N1) )); }
  {
    echo "## callgrind instructions per packet ((Ir(N=$N2) - Ir(N=$N1)) / $((N2 - N1)); setup cancels out)"
    echo
    echo "A step is restore + process. The restore (copying the pristine frame into the buffer) is the harness's"
    echo "share, which a worker handed a span over its UMEM frame does not pay; it is measured alone and"
    echo "subtracted to give the process-only figures."
    echo
    echo "| direction | Swift step | C step | Swift restore | C restore | Swift process | C process | process Swift / C |"
    echo "|---|---|---|---|---|---|---|---|"
  } >>"$MD"
  for d in inbound outbound; do
    s=$(per_packet swift $d); c=$(per_packet c $d)
    sc=$(per_packet swift-copy $d); cc=$(per_packet c-copy $d)
    echo "| $d | $s | $c | $sc | $cc | $((s - sc)) | $((c - cc)) | $(awk -v s=$((s - sc)) -v c=$((c - cc)) 'BEGIN{printf "%.2f", s / c}') |" >>"$MD"
    printf "established-%s-swift\t%s\nestablished-%s-c\t%s\n" $d $((s - sc)) $d $((c - cc)) >>"$CGTSV"
  done
  {
    echo
    echo "Where the Swift inbound instructions go (self cost per packet, functions above 1 %, from the N=$N2 run;"
    echo "setup-only functions excluded by subtracting the N=$N1 run):"
    echo
    echo "| instructions / packet | function |"
    echo "|---|---|"
  } >>"$MD"
  python3 "$PERFDIR/callgrind_top.py" "$TMP/swift.inbound.$N2.out" $((N2 - N1)) \
    --baseline "$TMP/swift.inbound.$N1.out" >>"$MD"
  rm -rf "$TMP"
fi
# Join the callgrind counts onto the benchmark rows of the TSV.
python3 "$PERFDIR/callgrind_join.py" "$TSV" "$CGTSV"
rm -f "$CGTSV"
# The chart of this suite's TSV (micro-all.sh draws one of all three instead).
if [ -z "${MICRO_ALL:-}" ]; then
  "${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}" "$PERFDIR/suite_chart.py" micro "${TSV%.tsv}.png" "$TSV" \
    || echo "micro.sh: no chart (suite_chart.py failed)" >&2
fi
echo
cat "$MD"
exit $STATUS
