#!/usr/bin/env python3
"""Joins callgrind instruction counts (name<TAB>count lines) onto a benchmark TSV as its sixth column.

usage: callgrind_join.py BENCH_TSV COUNTS_TSV   (BENCH_TSV is rewritten in place, rows sorted)
"""
import sys

rows = {l.split("\t")[0]: l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()}
for l in open(sys.argv[2]):
    name, n = l.rstrip("\n").split("\t")
    r = rows.get(name, [name])
    rows[name] = (r + [""] * 5)[:5] + [n]
with open(sys.argv[1], "w") as f:
    for name in sorted(rows):
        f.write("\t".join(rows[name]) + "\n")
