#!/bin/bash
# micro-paths.sh -- the per-packet micro benchmarks of the remaining paths (Perf/Benchmarks/PathBenchmarks):
# ICMP translation, connection-table lookups at 10/50/90 % fill (hit and miss), TOA and PROXY header
# insertion as packet operations and through Dataplane.process; optionally callgrind instruction counts
# of the same loops (Perf/Sources/path-probe) and the memory probe (bytes per connection).
#
# usage: Perf/micro-paths.sh [--callgrind] [--no-bench] [--check] [--memory]
#   (default)     swift package benchmark --target PathBenchmarks (wall clock, mallocCountTotal)
#   --callgrind   also count instructions per packet with valgrind (about 5 minutes: the 90 % table
#                 fill runs under valgrind too)
#   --no-bench    skip the package-benchmark run
#   --check       also run `swift package benchmark thresholds check` for PathBenchmarks against
#                 Perf/Thresholds/<swift>/ (non-zero exit when a loop allocates)
#   --memory      also run memory-probe (data plane filled with 10^6 SYNs; bare table) -> bytes/connection
#   env SCRATCH=.build   the scratch path (e.g. .build-mine when another build uses .build)
#   env STAMP=...        the results' time stamp (micro-all.sh sets it)
# Writes Perf/results/micro-paths-<stamp>.{md,txt,tsv}; the tsv has one row per benchmark:
#   name  p50_ns  p90_ns  samples  mallocs_per_packet  instructions_per_packet(process only)
# and its chart, micro-paths-<stamp>.png (suite_chart.py; not when micro-all.sh runs it: that draws one of all).
set -u
PERFDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$PERFDIR"
SCRATCH=${SCRATCH:-.build}
BENCH=1 CALLGRIND=0 CHECK=0 MEMORY=0
for a in "$@"; do
  case $a in
    --callgrind) CALLGRIND=1 ;;
    --no-bench) BENCH=0 ;;
    --check) CHECK=1 ;;
    --memory) MEMORY=1 ;;
    *) echo "usage: $0 [--callgrind] [--no-bench] [--check] [--memory]" >&2; exit 2 ;;
  esac
done
STAMP=${STAMP:-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p results
MD=results/micro-paths-$STAMP.md
RAW=results/micro-paths-$STAMP.txt
TSV=results/micro-paths-$STAMP.tsv
SWIFT_MINOR=$(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9]*\.[0-9]*\).*/\1/p' | head -1)
STATUS=0
: >"$RAW"
: >"$TSV"
TMP=$(mktemp -d /tmp/micro-paths.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

{
  echo "# Path micro benchmarks (ICMP, table lookups, TOA, PROXY), $STAMP (UTC)"
  echo
  echo "Machine: $(uname -n), $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), kernel $(uname -r), Swift $SWIFT_MINOR."
  echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg). Code: $(git -C .. rev-parse --short HEAD 2>/dev/null) + working tree."
  echo
} >"$MD"

if [ "$BENCH" = 1 ]; then
  swift package --scratch-path "$SCRATCH" benchmark --target PathBenchmarks --no-progress 2>&1 | tee -a "$RAW"
  python3 bench_table.py "$RAW" "$TMP/bench.tsv" '(?:paths|icmp|table|packet|dataplane)-\S+' \
    "package-benchmark (wall clock per packet or lookup, 10^6 per sample)" >>"$MD"
fi

if [ "$CHECK" = 1 ]; then
  echo "## thresholds check (Thresholds/$SWIFT_MINOR, PathBenchmarks)" >>"$MD"
  swift package --scratch-path "$SCRATCH" benchmark thresholds check --path "Thresholds/$SWIFT_MINOR" \
    --target PathBenchmarks --no-progress 2>&1 | tee -a "$RAW"
  rc=${PIPESTATUS[0]}
  echo "exit status $rc (0 = within thresholds; non-zero = a regression, e.g. an allocation per packet)" >>"$MD"
  echo >>"$MD"
  [ "$rc" = 0 ] || STATUS=$rc
fi

if [ "$CALLGRIND" = 1 ]; then
  swift build -c release --scratch-path "$SCRATCH" --product path-probe >/dev/null \
    || { echo "building path-probe failed" >&2; exit 1; }
  PROBE=$SCRATCH/release/path-probe
  N=20000 NT=100000
  # ir OUT FUNCTION ARGS... -> instructions executed inside FUNCTION (callgrind --toggle-collect)
  ir() {
    local out=$1 fn=$2
    shift 2
    valgrind --tool=callgrind --toggle-collect="*$fn*" --callgrind-out-file="$TMP/$out.out" "$PROBE" "$@" 2>&1 \
      | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
  }
  {
    echo "## callgrind instructions per packet (--toggle-collect on the loop function)"
    echo
    echo "A step is restore + the measured work; the restore (copying the frame, and for packet-* the parse"
    echo "result, into place) is the harness's share, measured alone (--copy) and subtracted. N = $N packets,"
    echo "$NT lookups per kind."
    echo
    echo "| benchmark | step | restore | process (per packet) |"
    echo "|---|---|---|---|"
  } >>"$MD"
  cases="icmp-from-rs-side icmp-from-client-side packet-toa-ack packet-toa-data packet-proxy-v1-data packet-proxy-v2-data packet-proxy-v2-tlv-data dataplane-toa-ack dataplane-toa-data dataplane-proxy-v2-data dataplane-proxy-v1-data"
  for c in $cases; do
    case $c in packet-*) fn=operationLoop ;; *) fn=replayLoop ;; esac
    if ! "$PROBE" "$c" 10 >/dev/null 2>&1; then
      echo "| $c | skipped: $("$PROBE" "$c" 10 2>&1 | tail -1) | | |" >>"$MD"
      continue
    fi
    s=$(ir "$c" $fn "$c" $N); r=$(ir "$c.copy" $fn "$c" --copy $N)
    step=$((s / N)) restore=$((r / N))
    echo "| $c | $step | $restore | **$((step - restore))** |" >>"$MD"
    printf "%s\t%s\n" "$c" $((step - restore)) >>"$TMP/cg.tsv"
  done
  for p in 10 50 90; do
    valgrind --tool=callgrind --toggle-collect='*lookupHitLoop*' --toggle-collect='*lookupMissLoop*' \
      --callgrind-out-file="$TMP/lookup$p.out" "$PROBE" table-lookup-$p $NT >/dev/null 2>&1
    for kind in Hit Miss; do
      n=$(callgrind_annotate --inclusive=yes --threshold=100 "$TMP/lookup$p.out" 2>/dev/null \
        | grep "lookup${kind}Loop" | head -1 | sed 's/^ *\([0-9,]*\).*/\1/' | tr -d ,)
      lower=$(echo $kind | tr A-Z a-z)
      if [ -n "$n" ]; then
        echo "| table-lookup-$p-$lower | $((n / NT)) | 0 | **$((n / NT))** |" >>"$MD"
        printf "%s\t%s\n" "table-lookup-$p-$lower" $((n / NT)) >>"$TMP/cg.tsv"
      else
        echo "| table-lookup-$p-$lower | (no count) | | |" >>"$MD"
      fi
    done
  done
  echo >>"$MD"
  for c in icmp-from-rs-side dataplane-toa-data dataplane-proxy-v2-data; do
    [ -f "$TMP/$c.out" ] || continue
    {
      echo "Where the instructions of $c go (self cost per packet, functions above 2 %):"
      echo
      echo "| instructions / packet | function |"
      echo "|---|---|"
    } >>"$MD"
    python3 "$PERFDIR/callgrind_top.py" "$TMP/$c.out" "$N" --min-share 0.02 --note "(restore included)" >>"$MD"
  done
fi

if [ "$MEMORY" = 1 ]; then
  swift build -c release --scratch-path "$SCRATCH" --product memory-probe >/dev/null \
    || { echo "building memory-probe failed" >&2; exit 1; }
  {
    echo "## memory per connection (memory-probe)"
    echo
    echo '```'
    "$SCRATCH/release/memory-probe" dataplane 1000000 2>&1
    echo
    "$SCRATCH/release/memory-probe" table 1000000 2>&1
    echo '```'
    echo
  } >>"$MD"
  sed -n 's/^measured: \([0-9.]*\) bytes.*/\1/p' "$MD" | head -1 | sed 's/^/memory-dataplane-bytes-per-connection\t/' >>"$TMP/mem.tsv"
fi

# The TSV: benchmark rows joined with their callgrind counts.
python3 - "$TMP" "$TSV" <<'EOF'
import os, sys
tmp, out = sys.argv[1], sys.argv[2]
def read(name):
    p = os.path.join(tmp, name)
    return [l.rstrip("\n").split("\t") for l in open(p)] if os.path.exists(p) else []
bench = {r[0]: r[1:] for r in read("bench.tsv")}
cg = {r[0]: r[1] for r in read("cg.tsv")}
with open(out, "w") as f:
    for name in sorted(set(bench) | set(cg)):
        b = bench.get(name, ["", "", "", ""])
        f.write("\t".join([name] + b + [cg.get(name, "")]) + "\n")
    for r in read("mem.tsv"):
        f.write("\t".join(r) + "\n")
EOF
# The chart of this suite's TSV (micro-all.sh draws one of all three instead).
if [ -z "${MICRO_ALL:-}" ]; then
  "${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}" "$PERFDIR/suite_chart.py" micro "${TSV%.tsv}.png" "$TSV" \
    || echo "micro-paths.sh: no chart (suite_chart.py failed)" >&2
fi
echo
cat "$MD"
exit $STATUS
