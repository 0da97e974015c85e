#!/usr/bin/env python3
"""suite_chart.py -- one chart per benchmark suite, from the files the suite wrote into Perf/results (make
perf has its own, chart.py). Each suite's script calls it at its end; it can be rerun on committed
results, since it reads only those files and never the machine.

    suite_chart.py forwarding OUT.png forwarding-STAMP.json
        (the figures netns/forwarding_summary.py wrote, so that the chart and the table cannot disagree)
    suite_chart.py micro OUT.png micro-STAMP.tsv [micro-synproxy-STAMP.tsv micro-paths-STAMP.tsv
                                                   micro-xdp-STAMP.txt]
        (any of the micro suites' TSVs: name, p50 ns, p90 ns, samples, mallocs per packet, callgrind
        instructions per packet; micro-xdp's RESULT lines)
    suite_chart.py sync OUT.png sync-STAMP.tsv
        (with the -samples-cN.tsv files its lag rows name, looked for beside it)
    suite_chart.py synproxy OUT.png synproxy-STAMP.tsv [MAX_FOREIGN [MAX_NEW_PIDS]]
        (runs kept by the rule of netns/synproxy.sh's summary: the last attempt of each run, foreign CPU
        at most MAX_FOREIGN % of one CPU (10), at most MAX_NEW_PIDS processes created (25))

Bars are medians with min–max whiskers unless a panel says otherwise; Sluice in the colour chart.py gives
it, references (C, other peers) in grey. matplotlib's Agg backend (no display; python3-matplotlib, which
`make deps` installs: run it with /usr/bin/python3 where a pyenv python3 comes first on PATH).
"""
import json
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SLUICE, SLUICE_ALT, PEER, CEIL, XDP = "#d95f02", "#fdae6b", "#7f8c8d", "#34495e", "#1b9e77"
DPI = 110
PANEL_W, PANEL_H = 5.6, 4.0       # inches per panel
LABEL_SIZE, TICK_SIZE, TITLE_SIZE, NOTE_SIZE = 8, 7, 9, 6.5
HEADROOM = 1.18                   # y range above the highest whisker, for the value labels
FORWARDING_W, FORWARDING_RATIOS = 20, [2.2, 1.7, 1.1]   # inches; the forwarding panels' relative widths
KILO = 1e3
MAX_FOREIGN, MAX_NEW_PIDS = 10.0, 25   # synproxy.sh's defaults
LAG_TARGET_MS = 1000                   # sync.sh's target: the peer within 1 s
SURVIVAL_TARGET = 0.8                  # synproxy.sh's target under flood


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def stats(values):
    v = [x for x in values if x is not None]
    return {"median": statistics.median(v), "min": min(v), "max": max(v)} if v else None


def style(ax, title, ylabel):
    ax.set_title(title, fontsize=TITLE_SIZE)
    ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    ax.tick_params(axis="both", labelsize=TICK_SIZE)


def bars(ax, labels, st, colours, title, unit, fmt="{:,.0f}", notes=None, target=None):
    """Vertical bars of medians with min–max whiskers, the median written above each whisker."""
    xs = list(range(len(labels)))
    med = [s["median"] if s else 0 for s in st]
    lo = [s["median"] - s["min"] if s else 0 for s in st]
    hi = [s["max"] - s["median"] if s else 0 for s in st]
    drawn = ax.bar(xs, med, color=colours, yerr=[lo, hi], capsize=3, ecolor="#333333")
    for i, (b, s) in enumerate(zip(drawn, st)):
        text = fmt.format(s["median"]) if s else "n/a"
        if notes and notes[i]:
            text += "\n" + notes[i]
        ax.annotate(text, (b.get_x() + b.get_width() / 2, s["max"] if s else 0), ha="center", va="bottom",
                    fontsize=NOTE_SIZE, xytext=(0, 2), textcoords="offset points")
    top = max([s["max"] for s in st if s] + [target or 0, 1])
    ax.set_ylim(0, top * HEADROOM)
    if target is not None:
        ax.axhline(target, color=SLUICE, linestyle="--", linewidth=1)
    ax.set_xticks(xs, labels, rotation=20, ha="right", fontsize=LABEL_SIZE)
    style(ax, title, unit)


def figure(panels, title, cols=None):
    cols = cols or min(len(panels), 3)
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(PANEL_W * cols, PANEL_H * rows), squeeze=False)
    for ax, draw in zip(axes.flat, panels):
        draw(ax)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=TITLE_SIZE)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    return fig


# ------------------------------------------------------------------ forwarding
def forwarding(out, path):
    agg = json.load(open(path))
    meta, cases, ratios = agg["meta"], agg["cases"], agg.get("ratios", {})
    order = [c for c in ("xsk_fwd", "sluice", "sluice2", "sluice2_rss", "sluice2_1core", "sluice2_1core_rss")
             if c in cases]
    order += [c for c in cases if c not in order]
    names = {"xsk_fwd": "C forwarder\n(ceiling)", "sluice": "Sluice\n1 worker", "sluice2": "2 workers,\n1 per core",
             "sluice2_rss": "2 workers, 1 per core,\nRSS-placed flows", "sluice2_1core": "2 workers\non 1 core",
             "sluice2_1core_rss": "2 workers on 1 core,\nRSS-placed flows"}
    colour = {"xsk_fwd": CEIL, "sluice": SLUICE}
    panels = []

    def rate(ax):
        notes = []
        for c in order:
            r = ratios.get(f"{c}/sluice") or ({"medians": ratios["sluice/xsk_fwd"]["medians"]}
                                                if c == "sluice" and "sluice/xsk_fwd" in ratios else None)
            note = (f"{r['medians']:.2f} × " + ("1 worker" if c != "sluice" else "C fwd")) if r else ""
            h = cases[c].get("hand_offs_per_packet")
            if h and c != "sluice":
                note += f"\n{h['median']:.2f} hand-off/pkt"
            notes.append(note)
        st = [dict((k, v / KILO) for k, v in cases[c]["sink"].items() if k != "n") if cases[c]["sink"] else None
              for c in order]
        bars(ax, [names.get(c, c) for c in order], st, [colour.get(c, SLUICE_ALT) for c in order],
             "Forwarded at the sink (60-byte UDP, 4096 flows)", "kpps", "{:,.0f}k", notes)
    panels.append(rate)

    own = [c for c in order if cases[c].get("ns_per_packet")]
    if own:
        panels.append(lambda ax: bars(
            ax, [names.get(c, c) for c in own], [cases[c]["ns_per_packet"] for c in own],
            [colour.get(c, SLUICE_ALT) for c in own],
            "Gateway CPU per forwarded packet: cores used × 10⁹ ÷ pps\n(shared cores: the generators' CPU subtracted)",
            "ns", notes=[f"{cases[c]['gateway_cores']['median']:.2f} cores" if cases[c].get("gateway_cores") else ""
                         for c in own]))
    ho = [c for c in order if cases[c].get("hand_offs_per_packet") and (cases[c].get("workers") or {}).get("median", 1) > 1]
    if ho:
        def hand(ax):
            bars(ax, [names.get(c, c) for c in ho], [cases[c]["hand_offs_per_packet"] for c in ho],
                 [SLUICE_ALT] * len(ho), "Hand-offs per forwarded packet\n(hand_offs_sent ÷ forwarded_inbound)",
                 "hand-offs / packet", "{:.2f}",
                 [f"{cases[c].get('drop_hand_off_full', 0):,} lost (ring full)" for c in ho])
            ax.set_ylim(0, 1)
        panels.append(hand)
    # the rate panel widest: it carries a note per bar
    fig = plt.figure(figsize=(FORWARDING_W, PANEL_H + 0.6))
    grid = fig.add_gridspec(1, len(panels), width_ratios=FORWARDING_RATIOS[:len(panels)])
    for i, draw in enumerate(panels):
        draw(fig.add_subplot(grid[0, i]))
    fig.suptitle(f"Forwarding, {meta['stamp']} UTC — {meta['cpus']} vCPU {meta['cpu_model']}, kernel "
                 f"{meta['kernel']}; R={meta['runs']} × {meta['seconds']:g} s, {meta['rate']}; medians, whiskers "
                 "min–max; '1 per core': the 2 cores shared with the generators", fontsize=TITLE_SIZE)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    fig.savefig(out, dpi=DPI)


# ------------------------------------------------------------------ micro
# The order of micro-all.sh's summary table.
MICRO_ORDER = ["established-inbound-swift", "established-inbound-c", "established-outbound-swift",
               "established-outbound-c", "synproxy-syn-answer", "synproxy-cookie-ack", "icmp-from-rs-side",
               "icmp-from-client-side", "table-lookup-10-hit", "table-lookup-10-miss", "table-lookup-50-hit",
               "table-lookup-50-miss", "table-lookup-90-hit", "table-lookup-90-miss", "packet-toa-ack",
               "packet-toa-data", "packet-proxy-v1-data", "packet-proxy-v2-data", "packet-proxy-v2-tlv-data",
               "dataplane-toa-ack", "dataplane-toa-data", "dataplane-proxy-v2-data", "dataplane-proxy-v1-data"]
MEMORY_ROW = "memory-dataplane-bytes-per-connection"
MEMORY_TARGET = 160


def micro(out, paths):
    rows, memory, xdp, stamp = {}, None, [], ""
    for p in paths:
        stamp = stamp or os.path.basename(p).rsplit(".", 1)[0][-len("YYYYmmdd-HHMMSS"):]
        if p.endswith(".txt"):
            for line in open(p):
                if line.startswith("RESULT "):
                    kv = dict(item.split("=", 1) for item in line.partition("  # ")[0].split()[1:])
                    xdp.append((kv["name"], num(kv["median_ns"]), num(kv["p90_ns"])))
            continue
        for line in open(p):
            cells = line.rstrip("\n").split("\t")
            if cells[0] == MEMORY_ROW:
                memory = num(cells[1])
            elif "harness-empty-loop" not in cells[0] and len(cells) >= 5:
                rows[cells[0]] = (cells + [""])[:6]
    names = sorted(rows, key=lambda n: (MICRO_ORDER.index(n) if n in MICRO_ORDER else len(MICRO_ORDER), n))
    colour = lambda n: PEER if n.endswith("-c") else SLUICE
    mallocs = [num(rows[n][4]) for n in names if num(rows[n][4]) is not None]

    def hbars(ax, labels, values, colours, title, unit, whisker=None):
        ys = list(range(len(labels)))[::-1]
        ends = [v + (whisker[1][i] if whisker else 0) for i, v in enumerate(values)]
        ax.barh(ys, values, color=colours, xerr=whisker, capsize=2, ecolor="#333333")
        for y, v, e in zip(ys, values, ends):
            ax.annotate(f"{v:,.0f}", (e, y), va="center", fontsize=NOTE_SIZE, xytext=(3, 0), textcoords="offset points")
        ax.set_yticks(ys, labels, fontsize=TICK_SIZE)
        ax.set_xlim(0, max(ends + [1]) * HEADROOM)
        ax.set_title(title, fontsize=TITLE_SIZE)
        ax.set_xlabel(unit, fontsize=LABEL_SIZE)
        ax.tick_params(axis="x", labelsize=TICK_SIZE)

    panels = []
    counted = [n for n in names if num(rows[n][5]) is not None]
    if counted:
        panels.append(lambda ax: hbars(ax, counted, [num(rows[n][5]) for n in counted], [colour(n) for n in counted],
                                       "Instructions per packet (callgrind; C reference grey)", "instructions"))
    timed = [n for n in names if num(rows[n][1]) is not None]
    labels = timed + [f"{n} (XDP)" for n, _, _ in xdp]
    p50 = [num(rows[n][1]) for n in timed] + [m for _, m, _ in xdp]
    p90 = [num(rows[n][2]) or num(rows[n][1]) for n in timed] + [q for _, _, q in xdp]
    if labels:
        panels.append(lambda ax: hbars(
            ax, labels, p50, [colour(n) for n in timed] + [XDP] * len(xdp),
            "Wall clock per packet, p50 (whisker: p90)\nXDP rows: BPF_PROG_TEST_RUN median", "ns",
            [[0] * len(p50), [max(0, b - a) for a, b in zip(p50, p90)]]))
    if not panels:
        sys.exit("suite_chart.py micro: nothing to draw")
    fig = figure(panels, f"Micro benchmarks, {stamp} UTC — heap allocations per packet: "
                         + (f"{max(mallocs):g} at most over {len(mallocs)} paths" if mallocs else "n/a")
                         + (f"; memory per connection (10⁶ connections): {memory:g} B (target ≤ {MEMORY_TARGET})"
                            if memory else "")
                         + "\nshared 2-core VM: instruction counts repeat exactly, wall-clock figures do not", cols=2)
    fig.set_size_inches(PANEL_W * 2, max(PANEL_H, 0.22 * len(labels) + 1.5))
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(out, dpi=DPI)


# ------------------------------------------------------------------ sync
def sync(out, path):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "netns"))
    import sync_sample  # the lag's one definition

    lines = [l.rstrip("\n").split("\t") for l in open(path)]
    rows = [dict(zip(lines[0], l)) for l in lines[1:] if l and l[0]]
    extra = lambda r: dict(kv.partition("=")[::2] for kv in r.get("extra", "").split(",") if "=" in kv)
    stamp = os.path.basename(path)[len("sync-"):-len(".tsv")]
    lag_runs = []
    for r in rows:
        if r["phase"] != "lag":
            continue
        f = os.path.join(os.path.dirname(path), extra(r).get("samples_file", ""))
        if os.path.isfile(f):
            samples = sync_sample.read_samples(f)
            first, _, lags = sync_sample.sample_lags(samples) if len(samples) > 2 else (None, None, [])
            if first is not None:
                lag_runs.append((f"wrk -c{extra(r).get('conns')}, {num(r['conn_per_s']):,.0f} conn/s", samples, first, lags))
    panels = []

    def lag_panel(ax):
        for i, (label, _, _, lags) in enumerate(lag_runs):
            t0 = lags[0][0]
            got = [(t - t0, v) for t, v in lags if v is not None]
            ax.plot([t for t, _ in got], [v for _, v in got], marker=".", markersize=3, linewidth=0.8, label=label)
            never = [t - t0 for t, v in lags if v is None]
            if never:
                ax.plot(never, [LAG_TARGET_MS * HEADROOM] * len(never), "x", color="C%d" % i, markersize=5)
        ax.axhline(LAG_TARGET_MS, color=SLUICE, linestyle="--", linewidth=1)
        ax.set_ylim(0, LAG_TARGET_MS * HEADROOM * 1.08)
        ax.set_xlabel("s into the load", fontsize=LABEL_SIZE)
        ax.legend(fontsize=NOTE_SIZE)
        style(ax, "Lag per 100 ms sample: B applies what A queued\n(x: not reached while sampled; dashed: 1 s target)", "ms")

    def count_panel(ax):
        label, samples, first, _ = lag_runs[0]
        u0, p0 = sync_sample.updates_queued(samples[0]), sync_sample.updates_applied(samples[0])
        t0 = samples[first]["t_source"]
        ax.plot([s["t_source"] - t0 for s in samples], [sync_sample.updates_queued(s) - u0 for s in samples],
                color=CEIL, linewidth=1, label="A: update events queued")
        ax.plot([s["t_peer"] - t0 for s in samples], [sync_sample.updates_applied(s) - p0 for s in samples],
                color=SLUICE, linewidth=1, linestyle="--", label="B: updates applied")
        ax.set_xlabel("s into the load", fontsize=LABEL_SIZE)
        ax.legend(fontsize=NOTE_SIZE)
        style(ax, f"Events, {label}", "events since the start")

    if lag_runs:
        panels += [lag_panel, count_panel]
    cost = [r for r in rows if r["phase"] == "cost"]
    if cost:
        cases = [("sync", "with sync"), ("nosync", "without")]

        def rate_panel(ax):
            st = [stats(num(r["conn_per_s"]) for r in cost if r["case"] == c) for c, _ in cases]
            ratio = st[0]["median"] / st[1]["median"] if st[0] and st[1] and st[1]["median"] else None
            bars(ax, [n for _, n in cases], st, [SLUICE, PEER], "New connections/s through A\n(wrk -c32, close; "
                 + (f"ratio {ratio:.3f}, target ≥ 0.95)" if ratio else "ratio n/a)"), "conn/s")
        panels.append(rate_panel)

        def cpu_panel(ax):
            st = [stats(num(r["a_cpu_us_per_conn"]) for r in cost if r["case"] == "sync"),
                  stats(num(r["a_cpu_us_per_conn"]) for r in cost if r["case"] == "nosync"),
                  stats(num(r["b_cpu_us_per_conn"]) for r in cost if r["case"] == "sync")]
            bars(ax, ["A, with sync", "A, without", "B (receiving)"], st, [SLUICE, PEER, SLUICE_ALT],
                 "Process CPU per A connection", "µs", "{:,.1f}")
        panels.append(cpu_panel)
    if not panels:
        sys.exit("suite_chart.py sync: nothing to draw")
    fig = figure(panels, f"Connection sync, {stamp} UTC — lag runs of {len(lag_runs)} client loads; cost: "
                         f"{len(cost)} runs alternating; medians, whiskers min–max", cols=2)
    fig.savefig(out, dpi=DPI)


# ------------------------------------------------------------------ synproxy
def synproxy(out, path, maxf=MAX_FOREIGN, maxp=MAX_NEW_PIDS):
    lines = [l.rstrip("\n").split("\t") for l in open(path)]
    rows = [dict(zip(lines[0], l)) for l in lines[1:] if l and l[0]]
    stamp = os.path.basename(path)[len("synproxy-"):-len(".tsv")]

    def kept(part, case, test):
        last = {}
        for r in rows:
            if (r["part"], r["case"], r["test"]) == (part, case, test):
                last[r["run"]] = r
        return {run: r for run, r in last.items()
                if num(r["foreign_pct"]) is not None and num(r["foreign_pct"]) <= maxf
                and 0 <= int(num(r["new_pids"]) or 0) <= maxp}

    panels = []
    a_cases = [c for c in ("xsk_fwd", "sluice", "nft_syn") if kept("A", c, "syn_flood")]
    if a_cases:
        def a_panel(ax):
            st = [stats(num(r["value"]) / KILO for r in kept("A", c, "syn_flood").values()) for c in a_cases]
            ceiling = st[0]["median"] if a_cases[0] == "xsk_fwd" and st[0] else None
            notes = [f"×{s['median'] / ceiling:.2f}" if ceiling and s and c != "xsk_fwd" else "" for c, s in zip(a_cases, st)]
            names = {"xsk_fwd": "C forwarder\n(SYNs forwarded)", "sluice": "Sluice\n(SYN-ACKs)", "nft_syn": "nft synproxy\n(SYN-ACKs)"}
            bars(ax, [names[c] for c in a_cases], st, [CEIL if c == "xsk_fwd" else SLUICE if c == "sluice" else PEER
                                                       for c in a_cases],
                 "A. Random-source SYN flood flat out:\nanswered (Sluice, nft) or forwarded (C)", "kpps", "{:,.0f}k", notes)
        panels.append(a_panel)
    peers = [p for p in ("sluice", "nft_synproxy", "haproxy") if kept("B", p, "legit")]
    tests = sorted({r["test"] for r in rows if r["part"] == "B" and r["test"] != "legit"},
                   key=lambda t: (t == "flood_max", int(t[6:]) if t[6:].isdigit() else 0))
    test_name = lambda t: "flat out" if t == "flood_max" else f"{int(t[6:]) // 1000}k pps"
    if peers and tests:
        def survival_panel(ax):
            width = 0.8 / len(tests)
            for j, t in enumerate(tests):
                for i, p in enumerate(peers):
                    base, under = kept("B", p, "legit"), kept("B", p, t)
                    s = stats(num(x["value"]) / num(base[run]["value"]) for run, x in under.items()
                              if run in base and num(base[run]["value"]))
                    if not s:
                        continue
                    x = i - 0.4 + width * (j + 0.5)
                    ax.bar([x], [s["median"]], width, color=SLUICE if p == "sluice" else PEER,
                           alpha=0.45 + 0.55 * (j + 1) / len(tests),
                           yerr=[[s["median"] - s["min"]], [s["max"] - s["median"]]], capsize=2, ecolor="#333333")
                    ach = stats(num(x["flood_tx_pps"]) for x in under.values())
                    ax.annotate(f"{s['median']:.2f}" + (f"\n{ach['median'] / KILO:.0f}k" if ach else ""), (x, s["max"]),
                                ha="center", va="bottom", fontsize=NOTE_SIZE - 1, xytext=(0, 2), textcoords="offset points")
            ax.axhline(SURVIVAL_TARGET, color=SLUICE, linestyle="--", linewidth=1)
            ax.set_xticks(range(len(peers)), peers, fontsize=LABEL_SIZE)
            ax.set_ylim(0, max(1.0, ax.get_ylim()[1]) * HEADROOM)
            style(ax, "B. Legit conn/s under flood ÷ without, same run\n(bars: " + ", ".join(map(test_name, tests))
                  + "; label: ratio, achieved flood pps; dashed: 0.8)", "survival")
        panels.append(survival_panel)

        def legit_panel(ax):
            order = ["legit"] + tests
            width = 0.8 / len(order)
            for j, t in enumerate(order):
                for i, p in enumerate(peers):
                    s = stats(num(x["value"]) for x in kept("B", p, t).values())
                    if not s:
                        continue
                    x = i - 0.4 + width * (j + 0.5)
                    ax.bar([x], [s["median"]], width, color=SLUICE if p == "sluice" else PEER,
                           alpha=0.45 + 0.55 * (j + 1) / len(order),
                           yerr=[[s["median"] - s["min"]], [s["max"] - s["median"]]], capsize=2, ecolor="#333333")
            ax.set_xticks(range(len(peers)), peers, fontsize=LABEL_SIZE)
            style(ax, "B. Legit conn/s (tcpbench -c8)\n(bars: no flood, " + ", ".join(map(test_name, tests)) + ")",
                  "conn/s")
        panels.append(legit_panel)
    if not panels:
        sys.exit("suite_chart.py synproxy: nothing to draw")
    fig = figure(panels, f"SYNPROXY under load, {stamp} UTC — medians over kept runs (foreign ≤ {maxf:g} %, "
                         f"≤ {maxp} new processes), whiskers min–max; flood and client share CPU0")
    fig.savefig(out, dpi=DPI)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    suite, out, inputs = sys.argv[1], sys.argv[2], sys.argv[3:]
    if suite == "forwarding":
        forwarding(out, inputs[0])
    elif suite == "micro":
        micro(out, inputs)
    elif suite == "sync":
        sync(out, inputs[0])
    elif suite == "synproxy":
        synproxy(out, inputs[0], *(f(x) for f, x in zip((float, int), inputs[1:])))
    else:
        sys.exit(f"suite_chart.py: unknown suite {suite} (forwarding, micro, sync, synproxy)")


if __name__ == "__main__":
    main()
