#!/bin/bash
# micro-all.sh -- every per-packet micro benchmark in one command, with one summary table:
#   micro.sh           FULLNAT established segment, both directions, Swift vs the C reference
#   micro-synproxy.sh  SYN -> cookie SYN-ACK, valid-cookie ACK -> connection + RS SYN
#   micro-paths.sh     ICMP translation, table lookups at 10/50/90 % fill, TOA and PROXY insertion,
#                      and the memory probe (bytes per connection with 10^6 connections)
#   micro-xdp.sh       the XDP program's SYN answer, ns per frame (BPF_PROG_TEST_RUN; as root only)
# Each suite runs its package-benchmark target and its allocation gate (`thresholds check`); with
# --callgrind also its instruction counts (valgrind; about 10 more minutes in all).
#
# usage: Perf/micro-all.sh [--callgrind] [--no-check]
#   env SCRATCH=.build   the scratch path for every suite
# Writes Perf/results/micro-all-<UTC stamp>.md (the summary) and .png (the chart of every suite's TSV and
# micro-xdp's results, suite_chart.py) next to each suite's own micro-<stamp>.*, micro-synproxy-<stamp>.*,
# micro-paths-<stamp>.* files (same stamp).
# Exit status: non-zero when a thresholds check failed (an allocation per packet) or a suite failed.
set -u
PERFDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$PERFDIR"
CHECK=--check CALLGRIND=
for a in "$@"; do
  case $a in
    --callgrind) CALLGRIND=--callgrind ;;
    --no-check) CHECK= ;;
    *) echo "usage: $0 [--callgrind] [--no-check]" >&2; exit 2 ;;
  esac
done
FLAGS=($CHECK $CALLGRIND)
export STAMP=$(date -u +%Y%m%d-%H%M%S)
export SCRATCH=${SCRATCH:-.build}
export MICRO_ALL=1   # the suites leave their charts to this script's one
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date +%s)
STATUS=0
declare -A RC
for suite in micro micro-synproxy micro-paths; do
  extra=()
  [ "$suite" = micro-paths ] && extra=(--memory)
  ./$suite.sh "${FLAGS[@]}" "${extra[@]}"
  RC[$suite]=$?
  [ "${RC[$suite]}" = 0 ] || STATUS=${RC[$suite]}
done
if [ "$(id -u)" = 0 ]; then
  ./micro-xdp.sh
  RC[micro-xdp]=$?
  [ "${RC[micro-xdp]}" = 0 ] || STATUS=${RC[micro-xdp]}
else
  echo "micro-all.sh: micro-xdp.sh skipped (needs root)"
fi
MINUTES=$(( ($(date +%s) - START + 59) / 60 ))

SUMMARY=results/micro-all-$STAMP.md
python3 - "$STAMP" "$SUMMARY" "${RC[micro]}" "${RC[micro-synproxy]}" "${RC[micro-paths]}" "$LOAD_START" \
  "$(cut -d' ' -f1-3 /proc/loadavg)" "$MINUTES" "$*" <<'EOF'
import os, subprocess, sys
stamp, out, rc_f, rc_s, rc_p, load0, load1, minutes, args = sys.argv[1:10]
what = {
    "established-inbound-swift": "FULLNAT client → RS data segment (Swift)",
    "established-inbound-c": "FULLNAT client → RS data segment (C reference)",
    "established-outbound-swift": "FULLNAT RS → client data segment (Swift)",
    "established-outbound-c": "FULLNAT RS → client data segment (C reference)",
    "synproxy-syn-answer": "SYN → cookie SYN-ACK",
    "synproxy-cookie-ack": "valid-cookie ACK → connection + RS SYN",
    "icmp-from-rs-side": "ICMP frag-needed from behind → client (590-byte error)",
    "icmp-from-client-side": "ICMP frag-needed from the client side → RS",
    "table-lookup-10-hit": "table lookup, 10 % of 2^20, hit",
    "table-lookup-10-miss": "table lookup, 10 % of 2^20, miss",
    "table-lookup-50-hit": "table lookup, 50 % of 2^20, hit",
    "table-lookup-50-miss": "table lookup, 50 % of 2^20, miss",
    "table-lookup-90-hit": "table lookup, 90 % of 2^20, hit",
    "table-lookup-90-miss": "table lookup, 90 % of 2^20, miss",
    "packet-toa-ack": "TOA.insert, handshake-completing ACK",
    "packet-toa-data": "TOA.insert, first data segment (512 B)",
    "packet-proxy-v1-data": "PROXY v1 insertion, first data segment",
    "packet-proxy-v2-data": "PROXY v2 insertion, first data segment",
    "packet-proxy-v2-tlv-data": "PROXY v2 + UNIQUE_ID + CRC32C insertion",
    "dataplane-toa-ack": "Dataplane.process: ACK on a toa service",
    "dataplane-toa-data": "Dataplane.process: first data on a toa service",
    "dataplane-proxy-v2-data": "Dataplane.process: first data, proxy_protocol_v2",
    "dataplane-proxy-v1-data": "Dataplane.process: first data, proxy_protocol_v1",
}
rows, memory = [], None
for suite in ("micro", "micro-synproxy", "micro-paths"):
    path = f"results/{suite}-{stamp}.tsv"
    if not os.path.exists(path):
        continue
    for line in open(path):
        cells = line.rstrip("\n").split("\t")
        if cells[0] == "memory-dataplane-bytes-per-connection":
            memory = cells[1]
            continue
        if "harness-empty-loop" in cells[0]:
            continue
        cells = (cells + [""] * 6)[:6]
        rows.append((suite, cells))
cpu = subprocess.run(["sh", "-c", "sed -n 's/^model name\\s*: //p' /proc/cpuinfo | head -1"],
                     capture_output=True, text=True).stdout.strip()
head = subprocess.run(["git", "-C", "..", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
with open(out, "w") as f:
    f.write(f"# All micro benchmarks, {stamp} (UTC)\n\n")
    f.write(f"`SCRATCH={os.environ.get('SCRATCH', '.build')} Perf/micro-all.sh {args}`".replace(" `", "`") + f", "
            f"{minutes} min. Machine: {os.uname().nodename}, {os.cpu_count()} CPUs ({cpu}), kernel "
            f"{os.uname().release}. Code: {head} + working tree. Load average {load0} at start, {load1} at the end: "
            "wall-clock figures on a shared machine are noisy; instruction counts (callgrind) are not.\n\n")
    f.write("| path | benchmark | p50 ns | p90 ns | samples | mallocs / packet | instructions / packet |\n")
    f.write("|---|---|---|---|---|---|---|\n")
    order = list(what)
    rows.sort(key=lambda r: order.index(r[1][0]) if r[1][0] in order else len(order))
    for suite, (name, p50, p90, samples, mallocs, instr) in rows:
        f.write(f"| {what.get(name, name)} | `{name}` | {p50} | {p90} | {samples} | {mallocs} | {instr or 'n/a'} |\n")
    f.write("\nInstructions: callgrind, per packet (per lookup), the harness's frame restore subtracted "
            "(`--callgrind`; n/a without it). Mallocs: package-benchmark's `mallocCountTotal` per packet "
            "(p100, scaled to one packet).\n\n")
    if memory:
        f.write(f"Memory per connection, 10^6 connections made by SYNs through `Dataplane.process` "
                f"(memory-probe, RSS): **{memory} bytes** (target ≤ 160: {'met' if float(memory) <= 160 else 'NOT met'}).\n\n")
    f.write("Allocation gate (`swift package benchmark thresholds check --path Thresholds/<swift>`), exit status per suite "
            "(0 = no benchmark allocates beyond the harness's own 16 per sample):\n\n")
    for suite, rc in (("micro", rc_f), ("micro-synproxy", rc_s), ("micro-paths", rc_p)):
        f.write(f"- {suite}.sh: {rc} — details in `results/{suite}-{stamp}.md`\n")
    xdp = f"results/micro-xdp-{stamp}.txt"
    if os.path.exists(xdp):
        f.write("\nThe XDP program's SYN path (`micro-xdp.sh`: BPF_PROG_TEST_RUN, the kernel timing one run of "
                "the program; the first row is its fixed cost, passing a frame that is not for it):\n\n"
                "| frame | benchmark | median ns | p90 ns | runs | of the fixed cost |\n|---|---|---|---|---|---|\n")
        for line in open(xdp):
            if not line.startswith("RESULT "):
                continue
            fields, _, comment = line.partition("  # ")
            kv = dict(item.split("=", 1) for item in fields.split()[1:])
            f.write(f"| {comment.strip()} | `{kv['name']}` | {kv['median_ns']} | {kv['p90_ns']} | {kv['runs']} | "
                    f"{kv.get('ratio_to_pass', '100%')} |\n")
    else:
        f.write("\nThe XDP program's SYN path: not measured (`micro-xdp.sh` runs only as root; if it failed, its output says why).\n")
EOF
# One chart of everything measured under this stamp.
INPUTS=()
for f in results/{micro,micro-synproxy,micro-paths}-$STAMP.tsv results/micro-xdp-$STAMP.txt; do
  [ -s "$f" ] && INPUTS+=("$f")
done
[ ${#INPUTS[@]} -gt 0 ] && { "${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}" suite_chart.py micro \
  "results/micro-all-$STAMP.png" "${INPUTS[@]}" || echo "micro-all.sh: no chart (suite_chart.py failed)" >&2; }
echo
cat "$SUMMARY"
exit $STATUS
