#!/usr/bin/env python3
"""Markdown rows of where a benchmark loop's instructions go, from callgrind output.

Shared by micro.sh, micro-synproxy.sh and micro-paths.sh: self cost per packet of every function
above a share of the total, names demangled. With --baseline, a second run of the same loop with
fewer packets is subtracted first, so set-up work that both runs share drops out.

usage: callgrind_top.py OUT PACKETS [--baseline OUT] [--min-share 0.01] [--note TEXT]
"""
import argparse
import re
import subprocess


def costs(path):
    out = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", path],
                         capture_output=True, text=True).stdout
    d = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+(\S+?):(\S+)", line)
        if m:
            name = m.group(3)
            try:
                name = subprocess.run(["swift", "demangle", "--simplified", "--compact", name],
                                      capture_output=True, text=True).stdout.strip() or name
            except OSError:
                pass
            d[name] = d.get(name, 0) + int(m.group(1).replace(",", ""))
    return d


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("packets", type=int)
    p.add_argument("--baseline")
    p.add_argument("--min-share", type=float, default=0.01)
    p.add_argument("--note", default="")
    a = p.parse_args()
    big = costs(a.out)
    small = costs(a.baseline) if a.baseline else {}
    per = {k: (v - small.get(k, 0)) / a.packets for k, v in big.items()}
    total = sum(v for v in per.values() if v > 0)
    for k, v in sorted(per.items(), key=lambda kv: -kv[1]):
        if v < total * a.min_share:
            break
        print(f"| {v:.0f} | `{k[:110]}` |")
    note = f" {a.note}" if a.note else ""
    print(f"\nTotal {total:.0f} instructions per packet{note}.\n")


if __name__ == "__main__":
    main()
