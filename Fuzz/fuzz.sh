#!/usr/bin/env bash
# fuzz.sh -- run Sluice's fuzz targets (built by `make fuzz-build` into Fuzz/.build/release).
#
#   fuzz.sh smoke      each target for FUZZ_SMOKE_RUNS executions (default 20000; fuzz-config
#                      FUZZ_SMOKE_RUNS_CONFIG, 3000) over the committed seed corpus, with a fixed seed:
#                      part of `make test`; fails on any crash, and on an input that takes over 10 s.
#   fuzz.sh campaign   each target for FUZZ_SECONDS (default 600) on a working corpus kept in
#                      Fuzz/.corpus/TARGET (grown from the seeds, gitignored); appends one line per target
#                      to Fuzz/results/campaigns.md (date, seconds, executions, coverage, corpus, crashes)
#                      and keeps any crashing input in Fuzz/crashes/ (each must become a unit test).
#   fuzz.sh seeds      rewrite the committed seed corpus Fuzz/Corpus/TARGET from the targets' --write-seeds.
set -uo pipefail
FUZZ_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN="$FUZZ_DIR/.build/release"
TARGETS=${FUZZ_TARGETS:-"fuzz-dataplane fuzz-client-address fuzz-netlink fuzz-config"}
# Smoke executions per target: the configuration loader is ~40x slower per input than the others.
smoke_runs() { if [ "$1" = fuzz-config ]; then echo "${FUZZ_SMOKE_RUNS_CONFIG:-3000}"; else echo "${FUZZ_SMOKE_RUNS:-20000}"; fi; }
mode=${1:-smoke}

for t in $TARGETS; do
    [ -x "$BIN/$t" ] || { echo "fuzz.sh: no $BIN/$t (make fuzz-build)" >&2; exit 2; }
done

case $mode in
seeds)
    for t in $TARGETS; do
        rm -rf "$FUZZ_DIR/Corpus/$t"
        "$BIN/$t" --write-seeds "$FUZZ_DIR/Corpus/$t"
    done
    ;;
smoke)
    work=$(mktemp -d /tmp/sluice-fuzz.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    failed=0
    for t in $TARGETS; do
        mkdir -p "$work/$t"
        cp "$FUZZ_DIR/Corpus/$t"/* "$work/$t/"
        runs=$(smoke_runs "$t")
        if "$BIN/$t" -runs="$runs" -seed=1 -timeout=10 -artifact_prefix="$work/" "$work/$t" >"$work/$t.log" 2>&1; then
            echo "fuzz smoke: $t: $runs executions, $(grep -o 'cov: [0-9]*' "$work/$t.log" | tail -1), no crash"
        else
            echo "fuzz smoke: $t: FAILED"
            tail -30 "$work/$t.log"
            for a in "$work"/crash-* "$work"/timeout-* "$work"/oom-*; do
                [ -e "$a" ] && echo "  input (base64): $(base64 -w0 "$a")"
            done
            failed=1
        fi
    done
    exit $failed
    ;;
campaign)
    seconds=${FUZZ_SECONDS:-600}
    mkdir -p "$FUZZ_DIR/crashes" "$FUZZ_DIR/results"
    results="$FUZZ_DIR/results/campaigns.md"
    if [ ! -s "$results" ]; then
        {
            echo "# Fuzz campaigns"
            echo
            echo "One line per target per \`make fuzz\` run (Fuzz/fuzz.sh campaign), newest last. Executions add up"
            echo "over runs; the working corpus (Fuzz/.corpus) carries coverage from one run to the next on the"
            echo "machine that ran them."
            echo
            echo "| date (UTC) | target | seconds | executions | coverage (cov / ft) | corpus | crashes | machine |"
            echo "|---|---|---|---|---|---|---|---|"
        } >"$results"
    fi
    status=0
    for t in $TARGETS; do
        corpus="$FUZZ_DIR/.corpus/$t"
        mkdir -p "$corpus"
        cp -n "$FUZZ_DIR/Corpus/$t"/* "$corpus/" 2>/dev/null
        log=$(mktemp /tmp/sluice-fuzz-$t.XXXXXX)
        start=$(date -u +%Y-%m-%dT%H:%MZ)
        "$BIN/$t" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 -artifact_prefix="$FUZZ_DIR/crashes/$t-" \
            "$corpus" >"$log" 2>&1
        rc=$?
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        coverage=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 | awk '{ print $2 " / " $4 }')
        crashes=$(ls "$FUZZ_DIR/crashes/$t-"* 2>/dev/null | wc -l)
        echo "| $start | $t | $seconds | ${execs:-?} | ${coverage:-?} | $(ls "$corpus" | wc -l) | $crashes | $(nproc) cores |" >>"$results"
        echo "fuzz campaign: $t: ${execs:-?} executions in ${seconds}s, coverage ${coverage:-?}, crashes $crashes (rc $rc)"
        [ "$rc" -eq 0 ] || { tail -30 "$log"; status=1; }
        rm -f "$log"
    done
    total=$(awk -F'|' 'NR > 7 && $5 ~ /[0-9]/ { s += $5 } END { print s + 0 }' "$results")
    echo "fuzz campaign: $total executions recorded in all (Fuzz/results/campaigns.md)"
    exit $status
    ;;
*)
    echo "usage: fuzz.sh smoke|campaign|seeds" >&2
    exit 2
    ;;
esac
