#!/usr/bin/env python3
"""swing.py -- why one run's forwarding ratio differs from the next (Perf/README.md, "Why forwarding swings").

On the 2-vCPU lab the generator and the sink share CPU0, and the generator's achieved transmit rate
lands in one of two modes from run to run. The rate counted at the sink follows it, for the C
forwarder and for Sluice alike, so a ratio of two medians taken from runs in different modes swings.
This script reads the per-run rows of `make perf` (perf-*.tsv, cases xsk_fwd_udp / sluice_udp) and of
Perf/netns/forwarding.sh (forwarding-*.tsv, cases xsk_fwd / sluice) and prints, per case, how strongly
the sink rate follows the generator's rate (Pearson r), then Sluice against the C forwarder at equal
generator rate: the C forwarder's sink rate as a straight line of its generator rate (least squares over
its runs), evaluated at each Sluice run's generator rate.

usage: Perf/swing.py FILE.tsv [FILE.tsv ...]     (clean runs only: perf.tsv's `clean` column)
"""
import csv
import statistics
import sys


def runs(paths):
    """(case, sink pps, generator tx pps) of every clean forwarding run in the files."""
    out = []
    for path in paths:
        for row in csv.DictReader(open(path), delimiter="\t"):
            if "part" in row:  # make perf
                if row["part"] != "packet" or row["case"] not in ("xsk_fwd_udp", "sluice_udp") or row["clean"] != "1":
                    continue
                case, sink, gen = row["case"][:-4], row["value"], row["flood_tx_pps"]
            else:  # forwarding.sh
                if row.get("case") not in ("xsk_fwd", "sluice"):
                    continue
                case, sink, gen = row["case"], row["sink_median_pps"], row["gen_tx_pps"]
            try:
                out.append((case, float(sink), float(gen)))
            except ValueError:
                pass
    return out


def pearson(xs, ys):
    mx, my = statistics.mean(xs), statistics.mean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / (sxx * syy) ** 0.5 if sxx and syy else float("nan")


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    data = runs(sys.argv[1:])
    by = {c: [(s, g) for case, s, g in data if case == c] for c in ("xsk_fwd", "sluice")}
    for case, rows in by.items():
        if len(rows) < 3:
            print(f"{case}: {len(rows)} runs, too few")
            continue
        sinks, gens = [s for s, _ in rows], [g for _, g in rows]
        print(f"{case}: {len(rows)} runs, sink {statistics.median(sinks) / 1e3:,.0f}k "
              f"({min(sinks) / 1e3:,.0f}–{max(sinks) / 1e3:,.0f}k), generator {statistics.median(gens) / 1e3:,.0f}k "
              f"({min(gens) / 1e3:,.0f}–{max(gens) / 1e3:,.0f}k), r(sink, generator) = {pearson(gens, sinks):.2f}")
    ref, own = by["xsk_fwd"], by["sluice"]
    if len(ref) < 3 or not own:
        return 0
    slope, intercept = statistics.linear_regression([g for _, g in ref], [s for s, _ in ref])
    ratios = sorted((s / (intercept + slope * g), g) for s, g in own)
    values = [r for r, _ in ratios]
    print(f"C forwarder's sink = {intercept / 1e3:,.0f}k + {slope:.3f} x generator rate")
    print(f"Sluice / C forwarder at equal generator rate: median {statistics.median(values):.2f} "
          f"({min(values):.2f}–{max(values):.2f}) over {len(values)} runs; ratio of the plain medians "
          f"{statistics.median([s for s, _ in own]) / statistics.median([s for s, _ in ref]):.2f}")
    for r, g in sorted(ratios, key=lambda t: t[1]):
        print(f"  generator {g / 1e3:6,.0f}k: {r:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
