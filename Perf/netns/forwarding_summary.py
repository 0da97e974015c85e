#!/usr/bin/env python3
"""forwarding_summary.py -- netns/forwarding.sh's summary: the markdown table and the figures' JSON (which
../suite_chart.py draws, so that the chart and the table cannot disagree) from the per-run TSV.

    forwarding_summary.py TSV MD JSON MAX_FOREIGN MAX_NEW_PIDS SLUICE_STATUS SMOKES STAMP R D RATE GEN_CPU DUT_CPU

Which runs count: the last attempt of each run of a case, if processes outside the lab used at most
MAX_FOREIGN % of one CPU and at most MAX_NEW_PIDS processes were created while it ran. Every figure is
the median (min–max) over those runs. TSVs of earlier runs (without the new_pids or extra columns) are
read too: columns are taken by their header's names.

Per Sluice run the `extra` column holds the deltas of Sluice's counters over the measured seconds
(forwarding.sh's DELTAS), the workers it started and, with two queues, pf-g0's per-queue XDP redirects.
Hand-offs per forwarded packet = hand_offs_sent / forwarded_inbound of the run. Gateway CPU: where the
gateway has DUT_CPU to itself, that core's busy share; in sluice2 and sluice2_rss, whose generators share
both cores with it, both cores' busy shares minus the generators' own CPU time (xsk_gen's cpu_s, in
`extra` as gen_cpu_s) per second of the run (what is left includes the sink's cheap XDP_DROP counter,
which the other cases have on the generator's core). Gateway ns per packet = gateway cores x 10^9 / sink
pps: the cost of one forwarded packet, comparable across the cases.
"""
import json
import os
import platform
import statistics
import sys

(tsv, md, out_json, maxf, maxp, sluice_status, smokes, stamp, runs, secs, rate, gen_cpu,
 dut_cpu) = sys.argv[1:14]
maxf, maxp = float(maxf), int(maxp)
NS_PER_S = 1e9
PERCENT = 100.0
# What each case is (forwarding.sh's header says it in full).
WHAT = {
    "xsk_fwd": "C AF_XDP forwarder (the copy-mode ceiling), 1 queue",
    "sluice": "Sluice, 1 worker, 1 queue",
    "sluice2": "Sluice, 2 workers, one per core (each core shared with a generator), 2 queues, every flow on both",
    "sluice2_rss": "as sluice2, each flow only on the queue RSS would pick (no hand-off)",
    "sluice2_1core": "Sluice, 2 workers both on the gateway's one core, 2 queues, every flow on both",
    "sluice2_1core_rss": "as sluice2_1core, each flow only on the queue RSS would pick (no hand-off)",
}
SHARED = ("sluice2", "sluice2_rss")   # the generators share both cores with the gateway
TWO_WORKERS = ("sluice2", "sluice2_rss", "sluice2_1core", "sluice2_1core_rss")


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def stats(values):
    v = [x for x in values if x is not None]
    if not v:
        return None
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}


def spread(s, fmt="{:,.0f}"):
    if not s:
        return "–"
    return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}–{fmt.format(s['max'])})"


lines = [l.rstrip("\n").split("\t") for l in open(tsv)]
head, rows = lines[0], [dict(zip(lines[0], l)) for l in lines[1:] if l and l[0]]
order = []
for r in rows:
    if r["case"] not in order:
        order.append(r["case"])


def extra(r):
    return {k: num(v) for k, _, v in (kv.partition("=") for kv in r.get("extra", "-").split(",")) if k and v}


def gateway_cores(case, r, x):
    """CPU the gateway used in a run, in cores (see the header); None if not known."""
    dut, gen = num(r.get("dut_cpu_busy")), num(r.get("gen_cpu_busy"))
    if case not in SHARED:
        return dut / PERCENT if dut is not None else None
    if dut is None or gen is None or x.get("gen_cpu_s") is None:
        return None
    return (dut + gen) / PERCENT - x["gen_cpu_s"] / float(secs)


def kept_runs(case):
    """The last attempt of each run of CASE, and how many runs were made."""
    last = {}
    for r in rows:
        if r["case"] == case:
            last[r["run"]] = r
    kept = {run: r for run, r in last.items()
            if (num(r.get("foreign_pct")) or 0) <= maxf and 0 <= int(num(r.get("new_pids", 0)) or 0) <= maxp}
    return kept, len(last)


cases = {}
for c in order:
    kept, made = kept_runs(c)
    sink = {run: num(r["sink_median_pps"]) for run, r in kept.items()}
    x = {run: extra(r) for run, r in kept.items()}
    entry = {
        "what": WHAT.get(c, c), "kept": len(kept), "made": made,
        "sink": stats(sink.values()), "sink_by_run": sink,
        "dut_busy": stats(num(r["dut_cpu_busy"]) for r in kept.values()),
        "gen_busy": stats(num(r["gen_cpu_busy"]) for r in kept.values()),
        "gen_tx": stats(num(r["gen_tx_pps"]) for r in kept.values()),
    }
    cores = {run: gateway_cores(c, r, x[run]) for run, r in kept.items()}
    entry["gateway_cores"] = stats(cores.values())
    entry["ns_per_packet"] = stats(cores[run] * NS_PER_S / sink[run] for run in kept
                                   if sink[run] and cores[run] is not None)
    if c in SHARED:
        entry["generator_cores"] = stats(e.get("gen_cpu_s") / float(secs) for e in x.values()
                                         if e.get("gen_cpu_s") is not None)
    if any(e.get("forwarded_inbound") for e in x.values()):
        entry["workers"] = stats(e.get("workers") for e in x.values())
        entry["hand_offs_per_packet"] = stats(e.get("hand_offs_sent", 0) / e["forwarded_inbound"]
                                              for e in x.values() if e.get("forwarded_inbound"))
        entry["forwarded_per_s"] = stats(e["forwarded_inbound"] / float(secs) for e in x.values()
                                         if e.get("forwarded_inbound"))
        entry["connections"] = stats(e.get("connections") for e in x.values())
        for k in ("hand_offs_sent", "hand_offs_received", "drop_hand_off_full", "drop_wrong_worker",
                  "drop_tx_ring_full", "drop_udp_source_flow_limit", "drop_udp_flow_limit"):
            entry[k] = int(sum(e.get(k) or 0 for e in x.values()))
        queues = sorted({k for e in x.values() for k in e if k.endswith("_xdp_redirect")})
        if queues:
            entry["rx_queue_share"] = [stats(e.get(q, 0) / sum(e.get(k, 0) for k in queues) * PERCENT
                                             for e in x.values() if sum(e.get(k, 0) for k in queues))
                                       for q in queues]
    cases[c] = entry

med = {c: e["sink"]["median"] for c, e in cases.items() if e["sink"]}
ratios = {}
if med.get("xsk_fwd") and "sluice" in med:
    ratios["sluice/xsk_fwd"] = {"medians": med["sluice"] / med["xsk_fwd"]}
for c in TWO_WORKERS:
    if c in med and med.get("sluice"):
        per_round = [cases[c]["sink_by_run"][run] / cases["sluice"]["sink_by_run"][run]
                     for run in cases[c]["sink_by_run"]
                     if run in cases["sluice"]["sink_by_run"] and cases["sluice"]["sink_by_run"][run]
                     and cases[c]["sink_by_run"][run] is not None]
        ratios[f"{c}/sluice"] = {"medians": med[c] / med["sluice"], "per_round": stats(per_round)}
        ns1, ns2 = cases["sluice"].get("ns_per_packet"), cases[c].get("ns_per_packet")
        if ns1 and ns2:
            ratios[f"{c}/sluice"]["ns_per_packet"] = ns2["median"] / ns1["median"]

cpu_model = ""
try:
    cpu_model = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
except (OSError, IndexError):
    pass
meta = {"stamp": stamp, "node": platform.node(), "kernel": platform.release(), "cpus": os.cpu_count(),
        "cpu_model": cpu_model, "runs": int(runs), "seconds": float(secs),
        "rate": "flat out" if rate == "0" else f"{rate} pps", "gen_cpu": gen_cpu, "dut_cpu": dut_cpu,
        "max_foreign": maxf, "max_new_pids": maxp, "tsv": os.path.basename(tsv)}
json.dump({"meta": meta, "cases": cases, "ratios": ratios}, open(out_json, "w"), indent=1)

out = [f"# Forwarding capacity, {stamp} (UTC)\n",
       f"Machine: {meta['node']}, kernel {meta['kernel']}, {meta['cpus']} CPUs ({cpu_model}). R={runs} runs of "
       f"D={secs} s per case, alternating, offered rate {meta['rate']}, 60-byte UDP frames, 4096 flows, counted at "
       f"the sink. Generator and sink on CPU {gen_cpu}, gateway on CPU {dut_cpu}, except in sluice2 and "
       f"sluice2_rss (each core: one generator and the gateway's pipeline of the other one's queue). Runs with foreign CPU > {maxf:g} % of one CPU or "
       f"more than {maxp} processes created during the run are excluded. Cells: median (min–max) over the kept "
       "runs.\n",
       "| case | what | sink pps | runs kept / made | CPU busy CPU" + dut_cpu + " / CPU" + gen_cpu + " % | "
       "generator tx pps | generators' CPU, cores | gateway CPU, cores | gateway ns / packet | workers | "
       "hand-offs / forwarded packet | pf-g0 RX queues, % of XDP redirects |",
       "|---|---|---|---|---|---|---|---|---|---|---|---|"]
for c, e in cases.items():
    share = " / ".join(spread(s, "{:.0f}") for s in e.get("rx_queue_share", [])) or "–"
    workers = f"{e['workers']['median']:.0f}" if e.get("workers") else "–"
    out.append(f"| {c} | {e['what']} | {spread(e['sink'])} | {e['kept']} / {e['made']} | "
               f"{spread(e['dut_busy'], '{:.0f}')} / {spread(e['gen_busy'], '{:.0f}')} | {spread(e['gen_tx'])} | "
               f"{spread(e.get('generator_cores'), '{:.2f}') if c in SHARED else '1 (own core)'} | "
               f"{spread(e.get('gateway_cores'), '{:.2f}')} | {spread(e.get('ns_per_packet'))} | {workers} | "
               f"{spread(e.get('hand_offs_per_packet'), '{:.2f}')} | {share} |")
out.append("")
if "sluice/xsk_fwd" in ratios:
    out.append(f"**Ratio Sluice / C AF_XDP forwarder (sink medians): {ratios['sluice/xsk_fwd']['medians']:.2f}**\n")
else:
    out.append("Ratio Sluice / C AF_XDP forwarder: not available (no kept run of one of the cases).\n")
for c in TWO_WORKERS:
    k = f"{c}/sluice"
    if k in ratios:
        pr = ratios[k]["per_round"]
        out.append(f"- **{c} / sluice (2 workers / 1 worker, sink medians): {ratios[k]['medians']:.2f}**"
                   + (f"; per round {spread(pr, '{:.2f}')}" if pr else "")
                   + (f"; gateway CPU per packet ×{ratios[k]['ns_per_packet']:.2f}" if "ns_per_packet" in ratios[k] else ""))
for c, e in cases.items():
    if "hand_offs_sent" not in e:
        continue
    line = f"- {c}: {spread(e.get('connections'))} connections; forwarded {spread(e.get('forwarded_per_s'))} packets/s by "
    line += "Sluice's own count; "
    if e.get("workers") and e["workers"]["median"] > 1:
        line += (f"hand-offs sent {e['hand_offs_sent']:,}, received {e['hand_offs_received']:,}, lost to a full ring "
                 f"(drop_hand_off_full) {e['drop_hand_off_full']:,}, drop_wrong_worker {e['drop_wrong_worker']:,}; ")
    line += (f"drop_tx_ring_full {e['drop_tx_ring_full']:,}, refused by the UDP flow budgets "
             f"{e['drop_udp_source_flow_limit'] + e['drop_udp_flow_limit']:,} (sums over the kept runs).")
    out.append(line)
out.append("")
out.append(f"Sluice: {sluice_status}. Smoke checks (translated frames at the RS): {smokes or 'not run'}.\n")
out.append(f"Per-run rows (Sluice's counter deltas in `extra`): `{os.path.basename(tsv)}`; figures: "
           f"`{os.path.basename(out_json)}`; chart: `{os.path.basename(out_json)[:-len('.json')]}.png`.")
open(md, "w").write("\n".join(out) + "\n")
print("\n".join(out))
