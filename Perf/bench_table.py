#!/usr/bin/env python3
# bench_table.py -- the markdown table and the TSV rows of one `swift package benchmark` run, shared by
# micro.sh, micro-synproxy.sh and micro-paths.sh (micro-all.sh reads the TSVs).
#
#   bench_table.py RAW TSV NAME_REGEX TITLE [NAME=PACKETS_PER_SAMPLE ...]
#
# RAW is the benchmark's text output; NAME_REGEX matches the benchmark names to keep. Prints the table
# (p50 and p90 wall clock, samples, mallocs per packet at p100 scaled to one packet, instructions at p50)
# under "## TITLE"; with NAME=PACKETS arguments a "packets per sample" column is added. Writes
# "name<TAB>p50<TAB>p90<TAB>samples<TAB>mallocs" lines to TSV. Names the benchmark skipped, with why.
import re
import sys

raw, tsv_path, pattern, title = sys.argv[1:5]
per = dict(arg.split("=", 1) for arg in sys.argv[5:])
text = open(raw).read()
rows = {}
for name, body in re.findall(r"\n(" + pattern + r")\n(.*?)(?=\n\n|\Z)", text, re.S):
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip("│").split("│")]
        if len(cells) >= 9 and cells[0].startswith(("Time (wall clock)", "Malloc (total)", "Instructions")):
            rows.setdefault(name, {})[cells[0].split(" (")[0]] = cells[1:9]
print(f"## {title}\n")
extra = " packets per sample |" if per else ""
print(f"| benchmark |{extra} p50 ns | p90 ns | samples | mallocs per packet (p100, scaled) | instructions p50 |")
print("|---|" + ("---|" if per else "") + "---|---|---|---|---|")
with open(tsv_path, "w") as tsv:
    for name in sorted(rows):
        r = rows[name]
        t, m, i = r.get("Time", ["?"] * 8), r.get("Malloc", ["?"] * 8), r.get("Instructions", ["n/a"] * 8)
        column = f" {per.get(name, '?')} |" if per else ""
        print(f"| {name} |{column} {t[2]} | {t[4]} | {t[7]} | {m[6]} | {i[2]} |")
        tsv.write(f"{name}\t{t[2]}\t{t[4]}\t{t[7]}\t{m[6]}\n")
skipped = re.findall(r"\w+Benchmarks: (\S+) skipped: (.*)", text)
if skipped:
    print()
    for name, why in skipped:
        print(f"- {name} skipped: {why}")
print()
