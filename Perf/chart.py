#!/usr/bin/env python3
# chart.py -- the picture of `make perf`: bars per peer per test, medians with min–max whiskers.
#
#   chart.py perf-STAMP.json perf-STAMP.png
#
# Reads the aggregates Perf/netns/perf_summary.py wrote (never the raw rows), so that the chart and the
# markdown table cannot disagree. One panel per test because the units differ (pps, conn/s, µs,
# ratio); Sluice's bars are drawn in a colour of their own, the peers in grey tones, bars from
# contaminated runs only are hatched. Uses matplotlib's Agg backend (no display; python3-matplotlib).
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

src, png = sys.argv[1:3]
agg = json.load(open(src))
meta = agg["meta"]
SLUICE, PEER, CEIL = "#d95f02", "#7f8c8d", "#34495e"
NAMES = {"route": "routing", "nft_fullnat": "nft FULLNAT", "nft_synproxy": "nft synproxy",
         "haproxy": "HAProxy", "sluice": "Sluice\nsyn_proxy", "sluice_fullnat": "Sluice\nFULLNAT", "bound": "lab bound"}


def bars(ax, labels, stats, colours, title, unit, clean=None, fmt="{:,.0f}", target=None):
    xs = range(len(labels))
    med = [s["median"] if s else 0 for s in stats]
    lo = [s["median"] - s["min"] if s else 0 for s in stats]
    hi = [s["max"] - s["median"] if s else 0 for s in stats]
    drawn = ax.bar(xs, med, color=colours, yerr=[lo, hi], capsize=3, ecolor="#333333")
    for i, (b, s) in enumerate(zip(drawn, stats)):
        if clean is not None and not clean[i]:
            b.set_hatch("//")
        top = s["max"] if s else 0  # above the whisker, so that the label never sits on it
        ax.annotate(fmt.format(s["median"]) if s else "n/a", (b.get_x() + b.get_width() / 2, top),
                    ha="center", va="bottom", fontsize=7, xytext=(0, 2), textcoords="offset points")
    ax.set_ylim(0, max([s["max"] for s in stats if s] + [1]) * 1.15)  # room for the labels
    if target is not None:
        ax.axhline(target, color=SLUICE, linestyle="--", linewidth=1)
    ax.set_xticks(list(xs), labels, rotation=20, ha="right", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(unit, fontsize=8)
    ax.tick_params(axis="y", labelsize=7)


panels = []
pk = agg.get("packet", {})
if pk:
    order = [c for c in ("xsk_fwd_udp", "sluice_udp", "xsk_fwd_syn", "sluice_syn", "sluice_synw",
                         "sluice_udp_full", "sluice_udp_admin") if c in pk]
    labels = {"xsk_fwd_udp": "C fwd (UDP)", "sluice_udp": "Sluice fwd", "xsk_fwd_syn": "C fwd (SYN)",
              "sluice_syn": "Sluice SYN-ACK\n(XDP)", "sluice_synw": "Sluice SYN-ACK\n(worker)",
              "sluice_udp_full": "Sluice fwd\n100k table", "sluice_udp_admin": "Sluice fwd, 100k\n+ admin load"}
    panels.append(lambda ax: bars(
        ax, [labels[c] for c in order], [dict(pk[c], median=pk[c]["median"] / 1e3, min=pk[c]["min"] / 1e3,
                                              max=pk[c]["max"] / 1e3) if pk[c].get("median") is not None else None
                                         for c in order],
        [SLUICE if c.startswith("sluice") else CEIL for c in order], "Packet path (gateway on 1 core)", "kpps",
        [pk[c].get("clean", True) for c in order]))
conn = agg.get("conn", {})
BASE = ("route", "nft_fullnat", "nft_synproxy", "haproxy", "sluice", "sluice_fullnat")
# PEER_defer: the same peer with NAPI deferral on the gateway's veths (perf.sh); cps and lat only.
peers = [p for p in BASE + tuple(f"{b}_defer" for b in BASE) if p in conn]
for _b in BASE:
    NAMES[f"{_b}_defer"] = NAMES[_b] + " +defer"
for key, title, unit, fmt in (("cps", "New connections/s (wrk -c32, close)", "conn/s", "{:,.0f}"),
                              ("rps", "Keep-alive requests/s (wrk -c32)", "req/s", "{:,.0f}"),
                              ("lat_p50", "Latency incl. connect, p50 (tcpbench -c1)", "µs", "{:,.0f}"),
                              ("us_per_conn", "Gateway CPU per new connection", "µs", "{:,.1f}")):
    # Only the peers that ran the test (the *_defer peers run cps and lat only).
    shown = [p for p in peers if conn[p].get(key)]
    if shown:
        panels.append(lambda ax, key=key, title=title, unit=unit, fmt=fmt, shown=shown: bars(
            ax, [NAMES[p] for p in shown], [conn[p].get(key) for p in shown],
            [SLUICE if p.startswith("sluice") else PEER for p in shown], title, unit,
            [conn[p].get("clean", True) for p in shown], fmt))
fl = agg.get("flood", {})
tests = sorted({t for p in fl.values() for t in p if t.startswith("flood_")},
               key=lambda t: (t == "flood_max", int(t[6:]) if t[6:].isdigit() else 0))
if fl and tests:
    def flood_panel(ax):
        fpeers = [p for p in ("route", "bound", "nft_fullnat", "nft_synproxy", "haproxy", "sluice") if p in fl]
        width = 0.8 / len(tests)
        shades = ["#bdc3c7", "#95a5a6", "#2c3e50", "#1a252f"]
        for j, t in enumerate(tests):
            for i, p in enumerate(fpeers):
                s = fl[p].get(t, {}).get("survival")
                if not s:
                    continue
                x = i - 0.4 + width * (j + 0.5)
                colour = SLUICE if p == "sluice" else shades[j % len(shades)]
                b = ax.bar([x], [s["median"]], width, color=colour, alpha=0.55 + 0.45 * (j + 1) / len(tests),
                           yerr=[[s["median"] - s["min"]], [s["max"] - s["median"]]], capsize=2, ecolor="#333333")
                if not fl[p][t].get("clean", True):
                    b[0].set_hatch("//")
                ach = fl[p][t].get("achieved")
                ax.annotate(f"{s['median']:.2f}\n{ach['median'] / 1e3:.0f}k" if ach else f"{s['median']:.2f}",
                            (x, s["max"]), ha="center", va="bottom", fontsize=5.5, xytext=(0, 2),
                            textcoords="offset points")
        ax.axhline(0.8, color=SLUICE, linestyle="--", linewidth=1)
        ax.set_xticks(range(len(fpeers)), [NAMES[p] for p in fpeers], rotation=20, ha="right", fontsize=8)
        ax.set_ylim(0, 1.35)
        ax.set_title("SYN flood: legit conn/s ÷ no flood\n(bars: " + ", ".join(
            "flat out" if t == "flood_max" else f"{int(t[6:]) // 1000}k pps" for t in tests)
            + "; label: ratio, achieved pps; dashed: 0.8)", fontsize=8)
        ax.set_ylabel("survival", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
    panels.append(flood_panel)

if not panels:
    sys.exit("chart.py: nothing to draw")
cols = 3 if len(panels) > 4 else 2
rows = (len(panels) + cols - 1) // cols
fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.9 * rows), squeeze=False)
for ax, draw in zip(axes.flat, panels):
    draw(ax)
for ax in list(axes.flat)[len(panels):]:
    ax.axis("off")
fig.suptitle(f"Sluice vs peers, make perf {meta['stamp']} UTC — {meta['cpus']} vCPU {meta['cpu_model']}, "
             f"kernel {meta['kernel']}; medians, whiskers min–max, hatched = noisy runs only", fontsize=9)
fig.tight_layout(rect=(0, 0, 1, 0.96))
fig.savefig(png, dpi=110)
