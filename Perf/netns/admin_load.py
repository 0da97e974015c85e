#!/usr/bin/env python3
"""admin_load.py -- the admin load of perf.sh's packet case `sluice_udp_admin`: scrape Sluice's Prometheus
endpoint and list its connections through the admin API, alternately and as fast as one client can, until
SIGINT/SIGTERM (or --seconds).

    admin_load.py --socket PATH --metrics ADDRESS:PORT [--entries 100000] [--limit 10000] [--seconds 0]

One round = one scrape (GET /metrics) + one listing of --entries connections, paged by --limit (the API caps
limit at 10000): GET /v1/connections?limit=L&offset=0, L, 2L, ... A page that does not answer 200 with
exactly L entries is a listing error; a scrape that does not answer 200 with sluice_ metrics is a scrape
error. A request in flight when the signal comes is finished; a listing cut short is not counted.

One process for the whole run (no curl per request): the benchmark counts the processes created while it
measures, and a fork per request would both cost CPU and read as foreign activity. The script runs where
perf.sh starts it: in the gateway's namespace (the metrics endpoint listens on its loopback), pinned to
the generator's CPU.

Prints at the end one line:
    SUMMARY admin_load secs= scrapes= scrape_errors= listings= pages= list_errors= entries= total=
            scrape_ms_p50= page_ms_p50= page_ms_max= listing_ms_p50=
(total: the `total` the last page reported; *_ms: wall time per request / per whole listing).
"""
import argparse
import http.client
import json
import signal
import socket
import statistics
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


def get(conn, path):
    """(status, body); the server closes every connection after one answer."""
    try:
        conn.request("GET", path, headers={"Host": "x"})
        r = conn.getresponse()
        return r.status, r.read()
    except (OSError, http.client.HTTPException) as e:
        return None, str(e).encode()
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--metrics", required=True, help="ADDRESS:PORT of metrics.listen")
    ap.add_argument("--entries", type=int, default=100000)
    ap.add_argument("--limit", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=0, help="0: until SIGINT/SIGTERM")
    a = ap.parse_args()
    host, _, port = a.metrics.rpartition(":")
    host = host.strip("[]")
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    scrapes = scrape_errors = listings = pages = list_errors = entries = 0
    total = -1
    scrape_ms, page_ms, listing_ms = [], [], []
    start = time.monotonic()
    deadline = start + a.seconds if a.seconds > 0 else float("inf")
    last_error = ""
    while not stop and time.monotonic() < deadline:
        t = time.monotonic()
        status, body = get(http.client.HTTPConnection(host, int(port), timeout=5), "/metrics")
        scrape_ms.append((time.monotonic() - t) * 1000)
        scrapes += 1
        if status != 200 or b"sluice_" not in body:
            scrape_errors += 1
            last_error = f"metrics: {status} {body[:120]!r}"
        t_list, complete = time.monotonic(), True
        for offset in range(0, a.entries, a.limit):
            if stop or time.monotonic() >= deadline:
                complete = False
                break
            t = time.monotonic()
            status, body = get(UnixConnection(a.socket, 5), f"/v1/connections?limit={a.limit}&offset={offset}")
            page_ms.append((time.monotonic() - t) * 1000)
            pages += 1
            n = -1
            if status == 200:
                try:
                    page = json.loads(body)
                    n = len(page["connections"])
                    total = page["total"]
                except (ValueError, KeyError, TypeError):
                    n = -1
            if n >= 0:
                entries += n
            if n != a.limit:
                list_errors += 1
                last_error = f"page offset={offset}: status {status}, {n} entries, {body[:120]!r}"
        if complete:
            listings += 1
            listing_ms.append((time.monotonic() - t_list) * 1000)

    med = lambda v: f"{statistics.median(v):.1f}" if v else "-"
    print(f"SUMMARY admin_load secs={time.monotonic() - start:.2f} scrapes={scrapes} scrape_errors={scrape_errors} "
          f"listings={listings} pages={pages} list_errors={list_errors} entries={entries} total={total} "
          f"scrape_ms_p50={med(scrape_ms)} page_ms_p50={med(page_ms)} "
          f"page_ms_max={max(page_ms) if page_ms else 0:.1f} listing_ms_p50={med(listing_ms)}")
    if last_error:
        print(f"last error: {last_error}", file=sys.stderr)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
