#!/bin/bash
# micro-synproxy.sh -- the SYNPROXY per-packet micro benchmark (Perf/Benchmarks/SynProxyBenchmarks) and,
# optionally, callgrind instruction counts of the same two loops (Perf/Sources/synproxy-probe), which
# repeat exactly run to run and are unaffected by other load on the machine.
#
#   (a) synproxy-syn-answer  client SYN -> cookie SYN-ACK (stateless; SYN bytes restored every iteration)
#   (b) synproxy-cookie-ack  valid-cookie ACK -> connection, held ACK, RS SYN in the output queue
#                            (batches of 1000 distinct client ports; expired between batches, unmeasured)
#
# usage: Perf/micro-synproxy.sh [--callgrind] [--no-bench] [--check]
#   (default)     swift package benchmark --target SynProxyBenchmarks (wall clock, mallocCountTotal)
#   --callgrind   also count instructions per packet with valgrind (about 1 minute)
#   --no-bench    skip the package-benchmark run (use with --callgrind)
#   --check       also run `swift package benchmark thresholds check` for SynProxyBenchmarks against
#                 Perf/Thresholds/<swift>/ (non-zero exit when a loop allocates)
#   env SCRATCH=.build   the scratch path (e.g. .build-mine when another build uses .build)
#   env STAMP=...        the results' time stamp (micro-all.sh sets it)
# Writes Perf/results/micro-synproxy-<UTC stamp>.md (+ the raw benchmark output next to it, and a .tsv with
# one row per benchmark: name, p50 ns, p90 ns, samples, mallocs per packet, callgrind instructions), and its
# chart, micro-synproxy-<stamp>.png (suite_chart.py; not when micro-all.sh runs it: that draws one of all).
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
MD=results/micro-synproxy-$STAMP.md
RAW=results/micro-synproxy-$STAMP.txt
TSV=results/micro-synproxy-$STAMP.tsv
: >"$TSV"
CGTSV=$(mktemp /tmp/micro-synproxy-tsv.XXXXXX)
SWIFT_MINOR=$(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9]*\.[0-9]*\).*/\1/p' | head -1)
STATUS=0
: >"$RAW"

{
  echo "# SYNPROXY per-packet micro benchmark, $STAMP (UTC)"
  echo
  echo "Machine: $(uname -n), $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), kernel $(uname -r), Swift $SWIFT_MINOR."
  echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg). Code: $(git -C .. rev-parse --short HEAD 2>/dev/null) + working tree."
  echo
} >"$MD"

if [ "$BENCH" = 1 ]; then
  swift package --scratch-path "$SCRATCH" benchmark --target SynProxyBenchmarks --no-progress 2>&1 | tee -a "$RAW"
  python3 bench_table.py "$RAW" "$TSV" 'synproxy-\S+' "package-benchmark (wall clock per packet)" \
    synproxy-syn-answer=10^6 synproxy-cookie-ack=1000 synproxy-harness-empty-loop=10^6 >>"$MD"
fi

if [ "$CHECK" = 1 ]; then
  echo "## thresholds check (Thresholds/$SWIFT_MINOR, SynProxyBenchmarks)" >>"$MD"
  swift package --scratch-path "$SCRATCH" benchmark thresholds check --path "Thresholds/$SWIFT_MINOR" \
    --target SynProxyBenchmarks --no-progress 2>&1 | tee -a "$RAW"
  rc=${PIPESTATUS[0]}
  echo "exit status $rc (0 = within thresholds; non-zero = a regression, e.g. an allocation per packet)" >>"$MD"
  echo >>"$MD"
  [ "$rc" = 0 ] || STATUS=$rc
fi

if [ "$CALLGRIND" = 1 ]; then
  swift build -c release --scratch-path "$SCRATCH" --product synproxy-probe >/dev/null \
    || { echo "building synproxy-probe failed" >&2; exit 1; }
  PROBE=$SCRATCH/release/synproxy-probe
  TMP=$(mktemp -d /tmp/micro-synproxy-cg.XXXXXX)
  # ir MODE N FUNCTION -> instructions executed inside FUNCTION (callgrind --toggle-collect), which
  # holds only the measured loop: set-up and the ACK path's expiry between batches are not counted.
  ir() {
    valgrind --tool=callgrind --toggle-collect="*$3*" --callgrind-out-file="$TMP/$1.$2.out" "$PROBE" "$1" "$2" 2>&1 \
      | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
  }
  NS=100000 NA=20000
  syn=$(( $(ir syn $NS synLoop) / NS )); sync=$(( $(ir syn-copy $NS synLoop) / NS ))
  ack=$(( $(ir ack $NA ackBatch) / NA )); ackc=$(( $(ir ack-copy $NA ackBatch) / NA ))
  {
    echo "## callgrind instructions per packet (--toggle-collect on the loop function; N = $NS SYNs, $NA ACKs)"
    echo
    echo "A step is restore + process. The restore (copying the frame into the chunk buffer) is the harness's"
    echo "share, which a worker handed its UMEM frame does not pay; it is measured alone and subtracted."
    echo
    echo "| path | step | restore | process |"
    echo "|---|---|---|---|"
    echo "| (a) SYN → cookie SYN-ACK | $syn | $sync | $((syn - sync)) |"
    echo "| (b) valid-cookie ACK → connection + RS SYN | $ack | $ackc | $((ack - ackc)) |"
    echo
  } >>"$MD"
  printf "synproxy-syn-answer\t%s\nsynproxy-cookie-ack\t%s\n" $((syn - sync)) $((ack - ackc)) >>"$CGTSV"
  for path in "syn $NS (a)" "ack $NA (b)"; do
    set -- $path
    {
      echo "Where the instructions of path $3 go (self cost per packet, functions above 1 %):"
      echo
      echo "| instructions / packet | function |"
      echo "|---|---|"
    } >>"$MD"
    python3 "$PERFDIR/callgrind_top.py" "$TMP/$1.$2.out" "$2" >>"$MD"
  done
  rm -rf "$TMP"
fi
# Join the callgrind counts onto the benchmark rows of the TSV.
python3 "$PERFDIR/callgrind_join.py" "$TSV" "$CGTSV"
rm -f "$CGTSV"
# The chart of this suite's TSV (micro-all.sh draws one of all three instead).
if [ -z "${MICRO_ALL:-}" ]; then
  "${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}" "$PERFDIR/suite_chart.py" micro "${TSV%.tsv}.png" "$TSV" \
    || echo "micro-synproxy.sh: no chart (suite_chart.py failed)" >&2
fi
echo
cat "$MD"
exit $STATUS
