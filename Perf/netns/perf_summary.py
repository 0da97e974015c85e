#!/usr/bin/env python3
# perf_summary.py -- the tables of `make perf` (Perf/perf.sh): per-run rows in, markdown and the
# aggregates for Perf/chart.py out.
#
#   perf_summary.py RUNS.tsv META.json OUT.md OUT.json
#
# Kept apart from perf.sh because the statistics (the last clean attempt of each run, medians with
# min–max, ratios taken within one round, the targets) are easier to read and check in Python than in
# shell; the chart reads OUT.json so that it never re-derives a number the table shows.
#
# Rules: a run is the last attempt of (part, case, test, run) whose row is clean (foreign CPU and new
# processes under the limits perf.sh applied). A cell with no clean run shows the contaminated runs
# instead, marked †, so that a noisy development run still says something; the targets are judged on
# clean runs only. Ratios to the same peer's no-flood rate are taken per round (same topology, same
# minute) and then summarised.
import json
import os
import re
import statistics
import sys

tsv, meta_path, md_path, json_path = sys.argv[1:5]
meta = json.load(open(meta_path))
lines = [l.rstrip("\n").split("\t") for l in open(tsv) if l.strip()]
head, rows = lines[0], [dict(zip(lines[0], l)) for l in lines[1:]]


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def runs(part, case, test=None):
    """{run: row} of the last clean attempt per run, and whether they are clean (else the last attempts)."""
    last, clean = {}, {}
    for r in rows:
        if r["part"] != part or r["case"] != case or (test is not None and r["test"] != test):
            continue
        last[r["run"]] = r
        if r["clean"] == "1":
            clean[r["run"]] = r
    return (clean, True) if clean else (last, False)


def made(part, case, test=None):
    return len({r["run"] for r in rows if r["part"] == part and r["case"] == case
                and (test is None or r["test"] == test)})


def kept(case, test):
    rs, ok = runs("conn", case, test)
    return len(rs) if ok else 0


def stats(values):
    v = [x for x in values if x is not None]
    if not v:
        return None
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}


def fmt(s, f="{:,.0f}", noisy=False):
    if not s:
        return "–"
    mark = "†" if noisy else ""
    if s["n"] == 1:
        return f"{f.format(s['median'])}{mark}"
    return f"{f.format(s['median'])} ({f.format(s['min'])}–{f.format(s['max'])}){mark}"


def extra(r, name):
    for kv in r.get("extra", "").split(","):
        k, _, v = kv.partition("=")
        if k == name:
            return num(v)
    return None


out, agg, targets = [], {"meta": meta, "packet": {}, "conn": {}, "flood": {}, "derived": {}}, []
out.append(f"# Sluice against its peers — `make perf`, {meta['stamp']} UTC\n")
out.append(
    f"Machine: {meta['host']}, {meta['cpus']} vCPUs ({meta['cpu_model']}), {meta['mem_gib']} GiB, kernel "
    f"{meta['kernel']}; generator, client and nginx on CPU0, the gateway and its interfaces' kernel work on "
    f"CPU1. {meta['params']}. Whole run {int(meta['elapsed_s']) // 60} min {int(meta['elapsed_s']) % 60} s"
    + (f" (plus {meta['waited_ns_s']} s waiting for other namespace labs to finish)" if meta['waited_ns_s'] != "0" else "")
    + ". Cells: median (min–max) over the runs kept; a run is redone when processes outside the test used "
    f"more than {meta['max_foreign']} % of one CPU or more than {meta['max_new_pids']} processes were created "
    "while it ran; † marks a cell that had no clean run (contaminated figures, not judged).\n")
out.append(f"Command: `{meta['command']}`. Sluice: `{meta['sluice']}`; peer `sluice`: syn_proxy on, "
           f"{meta['client_address']}; peer `sluice_fullnat`: syn_proxy off, client_address none.\n")
napi = meta.get("napi_defer", "2 200000").split()
out.append(
    "Peers named \"…, NAPI deferral\" (PEER_defer) run with napi_defer_hard_irqs "
    f"{napi[0]} and gro_flush_timeout {napi[-1]} ns on the gateway's veths, the same for each (DEFER): Sluice "
    "sets it itself (dataplane.napi_defer_hard_irqs, gro_flush_timeout), the kernel's peers get GRO on those "
    "veths for a NAPI of their own, run as a pinned thread on CPU1 (Perf/netns/common.sh). Every other row "
    "runs without deferral.\n")

# ------------------------------------------------------------------ packet path
PK = [("xsk_fwd_udp", "C AF_XDP forwarder `xsk_fwd` (ceiling), UDP flat out", "sink"),
      ("sluice_udp", "Sluice forwarding established UDP flows (4096)", "sink"),
      ("xsk_fwd_syn", "C AF_XDP forwarder `xsk_fwd` (ceiling), random-source SYN flood", "sink"),
      ("sluice_syn", "Sluice answering that SYN flood (cookie SYN-ACKs; its XDP program answers)", "client"),
      ("sluice_synw", "Sluice answering that SYN flood in its worker (`answer_in_xdp: false`)", "client"),
      ("sluice_udp_full", "Sluice forwarding established UDP flows (4096), ≥ 100 000 connections in its table", "sink"),
      ("sluice_udp_admin", "the same, while /metrics is scraped and 100 000 connections are listed (admin API), "
       "alternately, as fast as one client can", "sink")]
if any(r["part"] == "packet" for r in rows):
    out.append("## Packet path: pps counted at the receiver (60-byte frames, gateway on one core)\n")
    out.append("| case | pps | counted at | runs kept / made | gateway CPU % | generator tx pps | ratio to the ceiling |")
    out.append("|---|---|---|---|---|---|---|")
    for case, label, _ in PK:
        rs, ok = runs("packet", case)
        if not rs:
            continue
        s = stats([num(r["value"]) for r in rs.values()])
        agg["packet"][case] = dict(s or {}, clean=ok, label=label)
        ceiling = "xsk_fwd_udp" if "_udp" in case else "xsk_fwd_syn"
        ratio = "–"
        if case.startswith("sluice") and agg["packet"].get(ceiling, {}).get("median"):
            ratio = f"**{s['median'] / agg['packet'][ceiling]['median']:.2f}**"
            agg["derived"][case + "_ratio"] = s["median"] / agg["packet"][ceiling]["median"]
        where = {"b0": "sink (backend veth)", "c0": "client veth (SYN-ACKs)"}.get(next(iter(rs.values()))["test"], "?")
        out.append(f"| {label} | {fmt(s, noisy=not ok)} | {where} | {len(rs) if ok else 0} / {made('packet', case)} | "
                   f"{fmt(stats([num(r['dut_cpu_busy']) for r in rs.values()]))} | "
                   f"{fmt(stats([num(r['flood_tx_pps']) for r in rs.values()]))} | {ratio} |")
    for case in ("sluice_udp", "sluice_syn", "sluice_synw", "sluice_udp_full", "sluice_udp_admin"):
        rs, ok = runs("packet", case)
        secs = None
        m = re.search(r"D_P=(\d+)", meta["params"])
        secs = float(m.group(1)) if m else None
        if rs and secs and extra(next(iter(rs.values())), "xdp_redirected_vip") is not None:
            per = lambda n: fmt(stats([(extra(r, n) or 0) / secs for r in rs.values()]))
            out.append(f"\n{case}, Sluice's counters per second of traffic: XDP steered to the socket "
                       f"{per('xdp_redirected_vip')}, received {per('received_external')}"
                       + (f", SYNs answered by the XDP program {per('xdp_syn_answered')}, cookie SYN-ACKs sent in all "
                          f"{per('syn_proxy_cookies_sent')}" if case.startswith("sluice_syn") else "")
                       + f", TX ring full {per('drop_tx_ring_full')} (steered − received was dropped by the kernel: RX ring full).")
    # The admin load: sluice_udp_admin ÷ sluice_udp_full, run by run (same round, same table size).
    # Pairs of clean runs when there are any (both cases clean in the same round), else the last attempts
    # of both (noisy), never a clean run of one against a contaminated run of the other.
    ad, ad_ok = runs("packet", "sluice_udp_admin")
    fu, fu_ok = runs("packet", "sluice_udp_full")
    if ad_ok != fu_ok or set(ad) != set(fu):
        both = set(ad) & set(fu) if ad_ok and fu_ok else set()
        if both:
            ad, fu = {k: ad[k] for k in both}, {k: fu[k] for k in both}
        else:
            last = lambda case: {r["run"]: r for r in rows if r["part"] == "packet" and r["case"] == case}
            ad, fu, ad_ok, fu_ok = last("sluice_udp_admin"), last("sluice_udp_full"), False, False
    if ad and fu:
        pairs = [(k, num(ad[k]["value"]) / num(fu[k]["value"])) for k in sorted(ad, key=int)
                 if k in fu and num(ad[k]["value"]) and num(fu[k]["value"])]
        rs = stats([v for _, v in pairs])
        ma, mf = stats([num(r["value"]) for r in ad.values()]), stats([num(r["value"]) for r in fu.values()])
        of_medians = ma["median"] / mf["median"] if ma and mf and mf["median"] else None
        tot = lambda rows_, n: sum(int(extra(r, n) or 0) for r in rows_.values())
        per_run = lambda rows_, n: fmt(stats([extra(r, n) for r in rows_.values()]))
        secs = lambda r: extra(r, "secs") or 0
        rate = lambda n: fmt(stats([(extra(r, n) or 0) / secs(r) for r in ad.values() if secs(r)]), "{:,.2f}")
        clean = ad_ok and fu_ok
        agg["derived"]["admin_ratio"] = rs["median"] if rs else None
        agg["derived"]["admin_ratio_runs"] = [v for _, v in pairs]
        agg["derived"]["admin_ratio_of_medians"] = of_medians
        agg["derived"]["admin_load"] = {n: tot(ad, n) for n in ("scrapes", "scrape_errors", "listings", "pages",
                                                                   "list_errors", "entries")}
        x = f"{rs['median']:.2f}" if rs else "–"
        out.append(f"\n**admin load (scrape + 100k listing) vs none: ratio {x} (target: ≥ 0.95, i.e. not measurably "
                   f"slower)**" + ("" if clean else " (noisy runs only)") + ". ")
        out.append(f"Ratio per run (sluice_udp_admin ÷ sluice_udp_full of the same round): "
                   + ", ".join(f"{v:.2f}" for _, v in pairs)
                   + (f"; ratio of the medians {of_medians:.2f}" if of_medians else "") + ". "
                   f"Connections in the table before each run: full {per_run(fu, 'table')}, admin {per_run(ad, 'table')}; "
                   f"after it: {per_run(fu, 'table_after')} / {per_run(ad, 'table_after')}. "
                   f"Admin load per run ({fmt(stats([secs(r) for r in ad.values()]), '{:.1f}')} s): "
                   f"scrapes {per_run(ad, 'scrapes')}, complete 100k listings {per_run(ad, 'listings')}, "
                   f"pages of 10 000 {per_run(ad, 'pages')} (per second: scrapes {rate('scrapes')}, listings "
                   f"{rate('listings')}); in all {tot(ad, 'scrapes')} scrapes, {tot(ad, 'listings')} listings, "
                   f"{tot(ad, 'pages')} pages, {tot(ad, 'entries'):,} entries; errors: {tot(ad, 'list_errors')} "
                   f"pages without 10 000 entries, {tot(ad, 'scrape_errors')} failed scrapes. Wall time: scrape "
                   f"{per_run(ad, 'scrape_ms_p50')} ms, page {per_run(ad, 'page_ms_p50')} ms (longest "
                   f"{fmt(stats([extra(r, 'page_ms_max') for r in ad.values()]))} ms), whole listing "
                   f"{per_run(ad, 'listing_ms_p50')} ms (medians per run).")
        # What one round of the load costs the gateway core, to scale to a real scrape/listing frequency:
        # forwarding time lost per run ((1 − ratio) × the load's seconds) ÷ the listings it completed.
        lost = stats([(1 - v) * secs(ad[k]) / extra(ad[k], "listings") for k, v in pairs
                      if secs(ad[k]) and extra(ad[k], "listings")])
        if lost:
            agg["derived"]["admin_gateway_s_per_listing"] = lost["median"]
            out.append(f"Forwarding time lost per complete listing (+ its scrape), (1 − ratio) × the load's seconds ÷ "
                       f"listings, per run: {fmt(lost, '{:.2f}')} s of full-rate forwarding — at one listing a minute that "
                       f"would be ≈ {lost['median'] / 60 * 100:.1f} % of its forwarding.")
        errs = tot(ad, "list_errors") + tot(ad, "scrape_errors")
        detail = (f"{x} (forwarding with ÷ without the load, per run, median)" + ("" if clean else " (noisy runs only)")
                  + f"; {tot(ad, 'scrapes')} scrapes, {tot(ad, 'listings')} listings of 100 000, {errs} errors")
        targets.append(("Admin load (scrape + 100k listing) vs none: forwarding ratio ≥ 0.95",
                        None if not rs or not clean else (rs["median"] >= 0.95 and errs == 0), detail))
    out.append("")
    for case, what in (("sluice_udp", "Established forwarding"), ("sluice_syn", "SYN answering")):
        r = agg["derived"].get(case + "_ratio")
        clean = agg["packet"].get(case, {}).get("clean") and agg["packet"].get("xsk_fwd_" + case[-3:], {}).get("clean")
        detail = "not measured" if r is None else f"{r:.2f}" + ("" if clean else " (noisy runs only)")
        w = agg["derived"].get("sluice_synw_ratio")
        if case == "sluice_syn" and w is not None:
            detail += f" (answered in XDP); in the worker: {w:.2f}" + ("" if agg["packet"]["sluice_synw"]["clean"] else " (noisy)")
        targets.append((f"{what} ≥ 0.9 of the C forwarder ceiling", None if r is None or not clean else r >= 0.9, detail))

# ------------------------------------------------------------------ connections
BASE_PEERS = ("route", "nft_fullnat", "nft_synproxy", "haproxy", "sluice", "sluice_fullnat")
# PEER_defer: the same peer with the NAPI deferral on the gateway's veths (perf.sh), cps and lat only.
PEERS = [p for p in BASE_PEERS + tuple(f"{b}_defer" for b in BASE_PEERS)
         if any(r["part"] == "conn" and r["case"] == p for r in rows)]
LABEL = {"route": "routing only", "nft_fullnat": "nftables FULLNAT", "nft_synproxy": "nftables synproxy",
         "haproxy": "HAProxy (PROXY v2)", "sluice": "**Sluice** (syn_proxy, PROXY v2)",
         "sluice_fullnat": "**Sluice** FULLNAT (no syn_proxy, no header)",
         "bound": "lab bound: routing, the flood dropped by XDP on arrival"}
for _b in BASE_PEERS:
    LABEL[f"{_b}_defer"] = LABEL[_b] + ", NAPI deferral"
# The bound peer runs the flood tests only (perf.sh): a gateway that spends nothing on the flood.
FLOOD_PEERS = [p for p in ("route", "bound", "nft_fullnat", "nft_synproxy", "haproxy", "sluice")
               if any(r["part"] == "conn" and r["case"] == p for r in rows)]


def cell(peer, test, key="value", f="{:,.0f}"):
    rs, ok = runs("conn", peer, test)
    s = stats([num(r[key]) for r in rs.values()])
    return s, ok, fmt(s, f, noisy=not ok)


def per_op(peer, test):
    """Gateway CPU µs per operation, per run: DUT busy fraction × 10^6 / rate."""
    rs, ok = runs("conn", peer, test)
    return stats([num(r["dut_cpu_busy"]) / 100 * 1e6 / num(r["value"]) for r in rs.values()
                  if num(r["value"]) and num(r["dut_cpu_busy"]) is not None]), ok


if any(r["part"] == "conn" and r["test"] in ("cps", "rps", "lat") for r in rows):
    out.append("## Connections: client → gateway → nginx (\"ok\\n\"), gateway on CPU1\n")
    out.append("| peer | new conn/s (wrk -c32, close) | req/s keep-alive (wrk -c32) | latency incl. connect p50 / p99 µs (tcpbench -c1) | added p50 vs routing µs | gateway CPU % cps / rps | gateway µs per connection | gateway µs per request | client CPU % (cps) | runs kept cps / rps / lat |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    route_p50 = cell("route", "lat", "p50_us")[0] if "route" in PEERS else None
    for p in PEERS:
        cps, cps_ok, cps_s = cell(p, "cps")
        rps, rps_ok, rps_s = cell(p, "rps")
        p50, p50_ok, p50_s = cell(p, "lat", "p50_us")
        p99, _, p99_s = cell(p, "lat", "p99_us")
        added = "–"
        # Against routing on the same host: deferred peers against routing with the deferral.
        base_p50 = (cell("route_defer", "lat", "p50_us")[0] if "route_defer" in PEERS else None) \
            if p.endswith("_defer") else route_p50
        if p50 and base_p50:
            a = p50["median"] - base_p50["median"]
            agg["derived"][f"{p}_added_us"] = a
            added = f"{a:+,.0f}" if p not in ("route", "route_defer") else "0"
        upc, upc_ok = per_op(p, "cps")
        upr, upr_ok = per_op(p, "rps")
        agg["conn"][p] = {"cps": cps, "rps": rps, "lat_p50": p50, "lat_p99": p99, "us_per_conn": upc,
                          "us_per_req": upr, "clean": cps_ok and (rps_ok or p.endswith("_defer")) and p50_ok}
        out.append(f"| {LABEL[p]} | {cps_s} | {rps_s} | {p50_s} / {p99_s} | {added} | "
                   f"{cell(p, 'cps', 'dut_cpu_busy')[2]} / {cell(p, 'rps', 'dut_cpu_busy')[2]} | "
                   f"{fmt(upc, '{:,.1f}', not upc_ok)} | {fmt(upr, '{:,.1f}', not upr_ok)} | {cell(p, 'cps', 'gen_cpu_busy')[2]} | "
                   + " / ".join(f"{kept(p, t)}/{made('conn', p, t)}" for t in ("cps", "rps", "lat")) + " |")
    out.append("\nGateway µs per connection = CPU1 busy fraction × 10⁶ ÷ new conn/s, per run; it includes the "
               "kernel's receive work and wake-ups (RPS interrupts and wake-ups, which are dear in a VM: routing alone costs tens of µs per connection here). When the "
               "client core (CPU0) is ≥ 95 % busy the conn/s figure is the client's limit, not the gateway's.\n")
    s, h = agg["conn"].get("sluice", {}), agg["conn"].get("haproxy", {})
    if s.get("us_per_conn") and h.get("us_per_conn"):
        f = h["us_per_conn"]["median"] / s["us_per_conn"]["median"]
        agg["derived"]["haproxy_over_sluice_us_per_conn"] = f
        targets.append(("Gateway CPU per connection below HAProxy's by ≥ 3×", f >= 3 if s["clean"] and h["clean"] else None,
                        f"Sluice {s['us_per_conn']['median']:.1f} µs, HAProxy {h['us_per_conn']['median']:.1f} µs: {f:.2f}×"))
    else:
        targets.append(("Gateway CPU per connection below HAProxy's by ≥ 3×", None, "not measured"))
    # Sluice against the kernel doing the same job: with syn_proxy, nftables synproxy; without it,
    # nftables FULLNAT (the CPU per new connection of each pair, medians over clean runs).
    defer = meta.get("napi_defer", "2 200000").split()
    with_defer = (f" (both with NAPI deferral: napi_defer_hard_irqs {defer[0]}, gro_flush_timeout "
                  f"{int(defer[-1]) // 1000} µs)")
    for mine, theirs, what in (("sluice", "nft_synproxy", "syn_proxy on: ≤ nftables synproxy's"),
                               ("sluice_fullnat", "nft_fullnat", "syn_proxy off: ≤ nftables FULLNAT's"),
                               ("sluice_defer", "nft_synproxy_defer", "syn_proxy on: ≤ nftables synproxy's" + with_defer),
                               ("sluice_fullnat_defer", "nft_fullnat_defer",
                                "syn_proxy off: ≤ nftables FULLNAT's" + with_defer)):
        if mine.endswith("_defer") and mine not in PEERS:
            continue
        a, b = agg["conn"].get(mine, {}), agg["conn"].get(theirs, {})
        title = f"Gateway CPU per new connection, {what}"
        if a.get("us_per_conn") and b.get("us_per_conn"):
            x, y = a["us_per_conn"]["median"], b["us_per_conn"]["median"]
            agg["derived"][f"{mine}_over_{theirs}_us_per_conn"] = x / y
            targets.append((title, x <= y if a["clean"] and b["clean"] else None,
                            f"Sluice {x:.1f} µs, {LABEL[theirs]} {y:.1f} µs: {x / y:.2f}×"))
        else:
            targets.append((title, None, "not measured"))
    sa, na = agg["derived"].get("sluice_added_us"), agg["derived"].get("nft_synproxy_added_us")
    if sa is not None and na is not None:
        ok = agg["conn"]["sluice"]["clean"] and agg["conn"]["nft_synproxy"]["clean"] and agg["conn"]["route"]["clean"]
        targets.append(("Added latency per new connection below nftables synproxy's", sa < na if ok else None,
                        f"Sluice {sa:+.0f} µs, nft synproxy {na:+.0f} µs (p50 vs routing)"))
    else:
        targets.append(("Added latency per new connection below nftables synproxy's", None, "not measured"))
    sa, na = agg["derived"].get("sluice_defer_added_us"), agg["derived"].get("nft_synproxy_defer_added_us")
    if sa is not None and na is not None:
        ok = all(agg["conn"][p]["clean"] for p in ("sluice_defer", "nft_synproxy_defer", "route_defer"))
        targets.append(("Added latency per new connection below nftables synproxy's" + with_defer,
                        sa < na if ok else None,
                        f"Sluice {sa:+.0f} µs, nft synproxy {na:+.0f} µs (p50 vs routing with the same deferral)"))

# ------------------------------------------------------------------ floods
FLOODS = sorted({r["test"] for r in rows if r["part"] == "conn" and r["test"].startswith("flood_")},
                key=lambda t: (t == "flood_max", int(t[6:]) if t[6:].isdigit() else 0))
if FLOODS:
    out.append("## SYN flood: legitimate clients (tcpbench -c8, a new connection per request, 3 s timeout) inside a random-source SYN flood\n")
    out.append("Survival = legit conn/s under the flood ÷ the same peer's legit conn/s without flood in the same round. "
               "Errors = refused/reset + timeouts + I/O errors + non-2xx answers, ≥ 1 s = connections that took a second or more "
               "(a lost SYN), both summed over the runs; table = the gateway's state after the flood (nft: "
               "conntrack entries, Sluice: connections in its table, HAProxy/routing: half-open SYN-RECV sockets of the "
               "gateway/backend, read right after the flood). "
               "The flood's achieved rate differs per peer: the flooder shares CPU0 with the client and nginx. "
               "The lab-bound row is routing with the whole flood dropped by an XDP program on the gateway's "
               "client-side veth at its first instruction: no gateway spends less on a flood, so its survival "
               "is the most any gateway can show here. What it loses is what the flood costs the client's "
               "core, which the flooder's transmit path (and, for the other peers, the replies to the "
               "spoofed sources) share with the client and nginx.\n")
    hdr = "| peer | legit conn/s, no flood | " + " | ".join(
        f"{'flat out' if t == 'flood_max' else t[6:] + ' pps requested'}: achieved pps → survival, errors, ≥ 1 s, p99 µs, table"
        for t in FLOODS) + " |"
    out.append(hdr[:-1] + "| runs kept legit / floods |")
    out.append("|---|---|" + "---|" * len(FLOODS) + "---|")
    for p in FLOOD_PEERS:
        base, base_ok = runs("conn", p, "legit")
        cells = [fmt(stats([num(r["value"]) for r in base.values()]), noisy=not base_ok)]
        agg["flood"][p] = {"legit": stats([num(r["value"]) for r in base.values()])}
        for t in FLOODS:
            rs, ok = runs("conn", p, t)
            if not rs:
                cells.append("–")
                continue
            ratios = stats([num(r["value"]) / num(base[k]["value"]) for k, r in rs.items()
                            if k in base and num(base[k]["value"]) and num(r["value"]) is not None])
            err = sum(int(num(r["errors"]) or 0) for r in rs.values())
            slow = sum(int(num(r["slow_ge_1s"]) or 0) for r in rs.values())
            agg["flood"][p][t] = {"survival": ratios, "errors": err, "slow": slow,
                                  "achieved": stats([num(r["flood_tx_pps"]) for r in rs.values()]),
                                  "clean": ok and base_ok}
            cells.append(f"{fmt(stats([num(r['flood_tx_pps']) for r in rs.values()]))} → "
                         f"**{fmt(ratios, '{:.2f}', not (ok and base_ok))}**, {err}, {slow}, "
                         f"{fmt(stats([num(r['p99_us']) for r in rs.values()]))}, "
                         f"{fmt(stats([extra(r, 'table_after') for r in rs.values()]))}")
        out.append(f"| {LABEL[p]} | " + " | ".join(cells) + f" | {kept(p, 'legit')}/{made('conn', p, 'legit')} / "
                   + ", ".join(f"{kept(p, t)}/{made('conn', p, t)}" for t in FLOODS) + " |")
    out.append("")
    sf = agg["flood"].get("sluice", {}).get("flood_max")
    bf = agg["flood"].get("bound", {}).get("flood_max")
    if sf and sf["survival"]:
        ok = sf["survival"]["median"] >= 0.8 and sf["errors"] == 0
        detail = (f"survival {sf['survival']['median']:.2f} at {sf['achieved']['median'] / 1000:,.0f} kpps achieved, {sf['errors']} errors"
                  if sf["achieved"] else f"survival {sf['survival']['median']:.2f}, {sf['errors']} errors")
        if bf and bf["survival"] and bf["achieved"]:
            detail += (f"; the lab's bound (the flood dropped by XDP on arrival, no gateway work) "
                       f"{bf['survival']['median']:.2f} at {bf['achieved']['median'] / 1000:,.0f} kpps")
        targets.append(("Under the strongest flood: legit rate ≥ 0.8 of no-flood, zero errors", ok if sf["clean"] else None,
                        detail))
    else:
        targets.append(("Under the strongest flood: legit rate ≥ 0.8 of no-flood, zero errors", None, "not measured"))
    srs, _ = runs("conn", "sluice", "flood_max")
    if srs and extra(next(iter(srs.values())), "xdp_redirected_vip") is not None:
        secs = int(re.search(r"LD=(\d+)", meta["params"]).group(1)) + 2
        per = lambda n: fmt(stats([(extra(r, n) or 0) / secs for r in srs.values()]))
        live = [extra(r, "xdp_syn_answering") for r in srs.values()]
        out.append(f"Sluice under the flat-out flood, its counters per second: SYNs answered by the XDP program "
                   f"{per('xdp_syn_answered')}, XDP steered to the socket {per('xdp_redirected_vip')}, received "
                   f"{per('received_external')}, cookie SYN-ACKs in all {per('syn_proxy_cookies_sent')}, valid-cookie "
                   f"ACKs {per('syn_proxy_acks_valid')}, handshakes with the RS {per('syn_proxy_handshakes_completed')}; "
                   f"XDP SYN answering live (gauge) in {sum(1 for v in live if v)} of {len(live)} runs; SYN-ACKs "
                   f"the client's veth refused (its ring full; `xdp_tx_errors` of the gateway's veth) "
                   f"{per('xdp_tx_errors')}.\n")

# ------------------------------------------------------------------ memory
out.append("## Memory per connection (1 million connections)\n")
mem_bytes = None
if meta.get("memory_file"):
    text = open(os.path.join(os.path.dirname(md_path), meta["memory_file"])).read()
    m = re.search(r"(?i)result: ([0-9.]+) B/connection", text) \
        or re.search(r"(?i)measured: ([0-9.]+) bytes per connection", text)
    mem_bytes = num(m.group(1)) if m else None
    out.append("`memory-probe` output:\n\n```\n" + text.strip()[:1500] + "\n```\n")
else:
    out.append(f"Not measured: {meta['memory']}.\n")
agg["derived"]["bytes_per_connection"] = mem_bytes
targets.append(("≤ 160 bytes of memory per connection", None if mem_bytes is None else mem_bytes <= 160,
                "not measured" if mem_bytes is None else f"{mem_bytes:,.0f} bytes"))
targets.append(("0 heap allocations per packet on every path", None,
                "not measured by `make perf`: the micro benchmarks' allocation gate (Perf/README.md)"))

# ------------------------------------------------------------------ targets
out.insert(3, "## Targets\n\n| target | | measured |\n|---|---|---|\n" + "\n".join(
    f"| {t} | {'**met**' if v else '**NOT met**' if v is False else 'not judged'} | {d} |" for t, v, d in targets) + "\n")
agg["targets"] = [{"target": t, "met": v, "detail": d} for t, v, d in targets]
out.append(f"Smoke: {meta['smoke']}. Sluice binary: {meta['sluice_status']}. Memory: {meta['memory']}.")
out.append(f"Per-run rows: `{os.path.basename(tsv)}`; CPU accounting per run: `{os.path.basename(tsv)[:-4]}-acct.log`; "
           f"chart: `{os.path.basename(json_path)[:-5]}.png`.")
open(md_path, "w").write("\n".join(out) + "\n")
json.dump(agg, open(json_path, "w"), indent=1)
