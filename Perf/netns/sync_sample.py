#!/usr/bin/env python3
"""sync_sample.py -- netns/sync.sh's lag measurement: sample the sync counters of two gateways through
their admin APIs every --interval seconds (default 0.1) until SIGINT/SIGTERM or --seconds, and turn the
samples into lags.

    sync_sample.py --source SOCKET --peer SOCKET [--peer-pid PID] [--interval 0.1] [--seconds 0] > samples.tsv
    sync_sample.py --lag samples.tsv       prints one line: SUMMARY sync_lag n= median_ms= p99_ms= max_ms= ...

Why the admin API and not the stats file: the stats file is rewritten once a second, too coarse to see a
lag of a few hundred milliseconds. GET /v1/counters sums the counters the workers publish every 100 ms,
so one sample is at most ~100 ms old on either side. One process for the whole run, one unix-socket
request per gateway per sample (no curl per request: that would be 20 new processes a second on the
client's core).

Writes one TSV line per sample, with a header:
    t_source  sync_events_queued sync_events_overflowed sync_updates_coalesced connections_created connections
              connections_expired
    t_peer    sync_entries_installed sync_entries_updated sync_entries_removed sync_entries_refused (the sum
              of the sync_refused_* counters by reason, in binaries that have them)
              udp_rcvbuf_errors (with --peer-pid: datagrams the peer's kernel dropped because a UDP socket's
              receive buffer was full, from /proc/PID/net/snmp, which is the peer's namespace's)
t_* are CLOCK_MONOTONIC seconds taken when that gateway's answer arrived. A request that fails leaves
its columns empty (the line is still written, so a gap shows).

The lag (--lag). Only update events count (a connection entering a state worth a peer's table, docs/sync.md):
  source side  U(t) = sync_events_queued - removals, removals = connections_created - connections (the
               gauge): every entry that left the table queued one removal event (an expiry, or a new
               SYN on a tuple in TIME_WAIT, which the client's port reuse makes common), but for
               half-open entries, which queue none and are rare here; the final totals show it
               (update events queued against updates applied once the load is over)
  peer side    P(t) = sync_entries_installed + sync_entries_updated + sync_entries_refused (every update
               record that arrives counts in exactly one of them)
Removals are left out because the peer counts a removal only when it still holds the entry: its own
copy, armed with the same idle time, often expires first. Both are taken relative to the first sample.
For each sample i inside the load (from the first to the last sample where connections_created grew):
lag_i = min(t_peer_j - t_source_i) over the samples j with t_peer_j >= t_source_i and P_j >= U_i. The
figure is an upper bound on the sampling grid, and each side's counters are up to ~100 ms old (the
workers publish every 100 ms), so a lag is good to about +-100 ms. A sample whose count the peer never
reaches before the sampling ends is "unresolved": its lag is longer than the sampling lasted (events
lost on the way are never applied: the refresh resends their connections later), so it ranks above
every measured lag in the quantiles and shows as "never".
"""
import argparse
import http.client
import json
import signal
import socket
import sys
import time

stop = False


def on_signal(*_):
    global stop
    stop = True


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def counters(path):
    """(monotonic time of the answer, {name: value}) or (time, None); the server closes after one answer."""
    conn = UnixConnection(path, 1.0)
    try:
        conn.request("GET", "/v1/counters", headers={"Host": "x"})
        r = conn.getresponse()
        body = r.read()
        now = time.monotonic()
        return now, (json.loads(body) if r.status == 200 else None)
    except (OSError, http.client.HTTPException, ValueError):
        return time.monotonic(), None
    finally:
        conn.close()


SOURCE = ["sync_events_queued", "sync_events_overflowed", "sync_updates_coalesced", "connections_created", "connections",
          "connections_expired"]
PEER = ["sync_entries_installed", "sync_entries_updated", "sync_entries_removed", "sync_entries_refused"]


def peer_value(counters, name):
    """A peer counter; sync_entries_refused is the sum of the refusals by reason (sync_refused_own_tuple,
    _own_local_address, _no_service, _table_full, _stale) where the binary counts them so, or the single
    counter of that name in binaries from before."""
    if name == "sync_entries_refused":
        return counters.get(name, 0) + sum(v for k, v in counters.items() if k.startswith("sync_refused_"))
    return counters.get(name, 0)


def rcvbuf_errors(pid):
    """Udp RcvbufErrors of the namespace of process pid, "" if unreadable."""
    try:
        with open(f"/proc/{pid}/net/snmp") as f:
            udp = [l.split() for l in f if l.startswith("Udp:")]
        return udp[1][udp[0].index("RcvbufErrors")]
    except (OSError, IndexError, ValueError):
        return ""


def num(x):
    try:
        return float(x)
    except ValueError:
        return None


def read_samples(path):
    """The complete samples of a samples file (a failed request leaves its line incomplete), as dicts."""
    rows = []
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            v = [num(x) for x in line.rstrip("\n").split("\t")]
            if len(v) == len(head) and None not in v:
                rows.append(dict(zip(head, v)))
    return rows


def updates_queued(r):
    """U: the source's update events (updates superseded in their round by a later event of the same
    connection are never sent)."""
    return (r["sync_events_queued"] - (r["connections_created"] - r["connections"])
            - r.get("sync_updates_coalesced", 0))


def updates_applied(r):
    """P: the peer's applied updates."""
    return r["sync_entries_installed"] + r["sync_entries_updated"] + r["sync_entries_refused"]


def sample_lags(rows):
    """(first, last, lags): the indices of the first and last sample of the load and, for each sample
    between them, (t_source, lag in ms), the lag None when the peer never caught up."""
    u0, p0 = updates_queued(rows[0]), updates_applied(rows[0])
    grew = [i for i in range(1, len(rows)) if rows[i]["connections_created"] > rows[i - 1]["connections_created"]]
    if not grew:
        return None, None, []
    first, last = grew[0], grew[-1]
    lags = []
    for i in range(first, last + 1):
        want, t = updates_queued(rows[i]) - u0, rows[i]["t_source"]
        hit = next((r["t_peer"] - t for r in rows if r["t_peer"] >= t and updates_applied(r) - p0 >= want), None)
        lags.append((t, None if hit is None else hit * 1000))
    return first, last, lags


def lag(path):
    rows = read_samples(path)
    if len(rows) < 3:
        print("SUMMARY sync_lag n=0 error=too_few_samples")
        return
    upd, app = updates_queued, updates_applied
    u0, p0 = upd(rows[0]), app(rows[0])
    first, last, per_sample = sample_lags(rows)
    if first is None:
        print("SUMMARY sync_lag n=0 error=no_load")
        return
    lags = [x for _, x in per_sample if x is not None]
    unresolved = len(per_sample) - len(lags)
    # Unresolved samples are lags longer than the sampling lasted: they rank above every resolved one
    # (nearest-rank quantiles over all samples), shown as "inf".
    ranked = sorted(lags) + [float("inf")] * unresolved
    pick = lambda q: ranked[min(len(ranked) - 1, max(0, -(-len(ranked) * q // 100) - 1))]
    show = lambda x: "never" if x == float("inf") else f"{x:.0f}"
    end, load_s = rows[-1], rows[last]["t_source"] - rows[first]["t_source"]
    fields = {
        "n": len(ranked), "unresolved": unresolved,
        "median_ms": show(pick(50)), "p99_ms": show(pick(99)), "max_ms": show(ranked[-1]),
        "max_resolved_ms": f"{max(lags):.0f}" if lags else "-",
        "within_1s_pct": f"{100 * sum(1 for x in lags if x <= 1000) / len(ranked):.1f}",
        "load_s": f"{load_s:.1f}",
        "connections": int(rows[last]["connections_created"] - rows[0]["connections_created"]),
        "update_events": int(upd(end) - u0), "updates_applied": int(app(end) - p0),
        "never_applied": int((upd(end) - u0) - (app(end) - p0)),
        "removals": int((end["connections_created"] - end["connections"]) - (rows[0]["connections_created"] - rows[0]["connections"])),
        "expired": int(end["connections_expired"] - rows[0]["connections_expired"]),
        "peer_removed": int(end["sync_entries_removed"] - rows[0]["sync_entries_removed"]),
        "peer_refused": int(end["sync_entries_refused"] - rows[0]["sync_entries_refused"]),
        "overflowed": int(end["sync_events_overflowed"] - rows[0]["sync_events_overflowed"]),
        "peer_udp_drops": int(end["udp_rcvbuf_errors"] - rows[0]["udp_rcvbuf_errors"]),
        "first_drop_s": next((f"{r['t_peer'] - rows[first]['t_source']:.1f}" for r in rows
                              if r["udp_rcvbuf_errors"] > rows[0]["udp_rcvbuf_errors"]), "-"),
        "update_events_per_s": f"{(upd(rows[last]) - upd(rows[first])) / load_s:.0f}" if load_s > 0 else "-",
        "samples": len(rows),
        "interval_ms": f"{1000 * (rows[-1]['t_source'] - rows[0]['t_source']) / (len(rows) - 1):.0f}",
    }
    print("SUMMARY sync_lag " + " ".join(f"{k}={v}" for k, v in fields.items()))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--lag":
        lag(sys.argv[2])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True, help="admin socket of the gateway that sends (A)")
    ap.add_argument("--peer", required=True, help="admin socket of the gateway that receives (B)")
    ap.add_argument("--peer-pid", type=int, default=0, help="the peer's sluice process (for its namespace's UDP drops)")
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--seconds", type=float, default=0, help="0: until SIGINT/SIGTERM")
    a = ap.parse_args()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    out = sys.stdout
    out.write("t_source\t" + "\t".join(SOURCE) + "\tt_peer\t" + "\t".join(PEER) + "\tudp_rcvbuf_errors\n")
    start = time.monotonic()
    next_at = start
    while not stop and (a.seconds <= 0 or time.monotonic() - start < a.seconds):
        ta, ca = counters(a.source)
        tb, cb = counters(a.peer)
        cols = [f"{ta:.4f}"] + [str(ca.get(n, 0)) if ca else "" for n in SOURCE]
        cols += [f"{tb:.4f}"] + [str(peer_value(cb, n)) if cb else "" for n in PEER]
        cols.append(rcvbuf_errors(a.peer_pid) if a.peer_pid else "0")
        out.write("\t".join(cols) + "\n")
        out.flush()
        # A fixed grid (not sleep(interval) after the work), so the requests' own time does not stretch it.
        next_at += a.interval
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_at = time.monotonic()


if __name__ == "__main__":
    main()
