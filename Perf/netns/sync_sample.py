#!/usr/bin/env python3
"""sync_sample.py -- sample the sync counters of two gateways through their admin APIs every --interval
seconds (default 0.1), for netns/sync.sh's lag measurement, until SIGINT/SIGTERM or --seconds.

    sync_sample.py --source SOCKET --peer SOCKET [--interval 0.1] [--seconds 0] > samples.tsv

Why the admin API and not the stats file: the stats file is rewritten once a second, too coarse to see a
lag of a few hundred milliseconds. GET /v1/counters sums the counters the workers publish every 100 ms,
so one sample is at most ~100 ms old on either side. One process for the whole run, one unix-socket
request per gateway per sample (no curl per request: that would be 20 new processes a second on the
client's core).

Writes one TSV line per sample, with a header:
    t_source  source_queued source_overflowed source_expired source_reused source_created
    t_peer    peer_installed peer_updated peer_removed peer_refused
t_* are CLOCK_MONOTONIC seconds taken when that gateway's answer arrived. A request that fails leaves
its columns empty (the line is still written, so a gap shows).
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


SOURCE = ["sync_events_queued", "sync_events_overflowed", "connections_expired", "syn_proxy_reused",
          "connections_created"]
PEER = ["sync_entries_installed", "sync_entries_updated", "sync_entries_removed", "sync_entries_refused"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True, help="admin socket of the gateway that sends (A)")
    ap.add_argument("--peer", required=True, help="admin socket of the gateway that receives (B)")
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--seconds", type=float, default=0, help="0: until SIGINT/SIGTERM")
    a = ap.parse_args()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    out = sys.stdout
    out.write("t_source\t" + "\t".join(SOURCE) + "\tt_peer\t" + "\t".join(PEER) + "\n")
    start = time.monotonic()
    next_at = start
    while not stop and (a.seconds <= 0 or time.monotonic() - start < a.seconds):
        ta, ca = counters(a.source)
        tb, cb = counters(a.peer)
        cols = [f"{ta:.4f}"] + [str(ca.get(n, 0)) if ca else "" for n in SOURCE]
        cols += [f"{tb:.4f}"] + [str(cb.get(n, 0)) if cb else "" for n in PEER]
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
