#!/usr/bin/env python3
"""cpuacct.py -- where the CPU time of a benchmark run went, to tell a clean run from one that something
else on this 2-core machine (another session's compiler, say) competed with.

    cpuacct.py [--netns-prefix P] snap FILE          record a snapshot: per-process CPU time, /proc/stat
    cpuacct.py [--netns-prefix P] diff FILE_A FILE_B print one JSON object for the span between two snapshots
    cpuacct.py [--netns-prefix P] quiet [MAX_PCT [TIMEOUT_S]]
                                   wait (at most TIMEOUT_S, default 120) until no CPU is more than MAX_PCT
                                   (default 15) busy over one second; print the last reading as JSON

A process belongs to the run when its network namespace is one of /run/netns/P-* (P defaults to "pm"):
the generators, clients, servers and gateways the benchmark started there. Kernel threads count as the
run's too: the NAPI threads, softirq daemons and workers that carry its packets cannot be told apart
from the rest. Everything else is foreign.

diff prints:
    secs                      length of the span
    cpuN: busy usr sys irq sirq   per CPU, % of the span (busy = all but idle and iowait)
    foreign_pct               CPU time of foreign processes, % of ONE CPU
    foreign_top               the three foreign commands that used most, [name, % of one CPU]
    run_pct                   CPU time of the run's own processes (kernel threads not included)
Blind spot: a process that starts and ends between the two snapshots is in neither, so a build's many
short compiler processes can hide; the benchmark scripts also count how many processes were created.
"""
import argparse
import glob
import json
import os
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")
PF_KTHREAD = 0x00200000


def namespace_inodes(prefix):
    inodes = set()
    for path in glob.glob(f"/run/netns/{prefix}-*"):
        try:
            inodes.add(os.stat(path).st_ino)
        except OSError:
            pass
    return inodes


def read_process(pid):
    """(command, CPU ticks used so far, kernel thread?, network namespace inode) or None if it is gone."""
    with open(f"/proc/{pid}/stat") as f:
        raw = f.read()
    command = raw[raw.index("(") + 1:raw.rindex(")")]
    rest = raw[raw.rindex(")") + 2:].split()
    # rest[0] is field 3 of proc(5) (state): flags is field 9, utime 14, stime 15.
    flags, utime, stime = int(rest[6]), int(rest[11]), int(rest[12])
    try:
        netns = os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        netns = 0
    return command, utime + stime, bool(flags & PF_KTHREAD), netns


def cpu_times():
    cpus = {}
    with open("/proc/stat") as f:
        for line in f:
            name, *values = line.split()
            if name.startswith("cpu") and name != "cpu":
                # user nice system idle iowait irq softirq steal
                cpus[name] = [int(v) for v in values[:8]]
    return cpus


def snapshot(prefix):
    ours = namespace_inodes(prefix)
    processes = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command, ticks, kthread, netns = read_process(entry)
        except (OSError, ValueError, IndexError):
            continue  # ended while we looked
        kind = "kernel" if kthread else "run" if netns in ours else "foreign"
        processes[entry] = [command, ticks, kind]
    return {"time": time.time(), "cpus": cpu_times(), "processes": processes, "me": os.getpid()}


def difference(a, b):
    span = max(b["time"] - a["time"], 1e-6)
    result = {"secs": round(span, 2)}
    for cpu, after in b["cpus"].items():
        before = a["cpus"].get(cpu, after)
        d = [x - y for x, y in zip(after, before)]
        total = sum(d) or 1
        result[cpu] = {
            "busy": round(100 * (total - d[3] - d[4]) / total),
            "usr": round(100 * (d[0] + d[1]) / total),
            "sys": round(100 * d[2] / total),
            "irq": round(100 * d[5] / total),
            "sirq": round(100 * d[6] / total),
        }
    foreign, run_ticks = {}, 0
    skip = {str(a["me"]), str(b["me"])}
    for pid, (command, ticks, kind) in b["processes"].items():
        if pid in skip or kind == "kernel":
            continue
        earlier = a["processes"].get(pid)
        # A pid whose time went down was reused by a new process: count that one from zero.
        used = ticks - earlier[1] if earlier and ticks >= earlier[1] else ticks
        if used <= 0:
            continue
        if kind == "run":
            run_ticks += used
        else:
            foreign[command] = foreign.get(command, 0) + used
    pct = lambda ticks: round(100 * ticks / TICKS / span, 1)  # noqa: E731 -- % of one CPU
    result["foreign_pct"] = pct(sum(foreign.values()))
    result["foreign_top"] = [[name, pct(t)] for name, t in sorted(foreign.items(), key=lambda kv: -kv[1])[:3]]
    result["run_pct"] = pct(run_ticks)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netns-prefix", default=os.environ.get("CPUACCT_NETNS_PREFIX", "pm"),
                        help="the run's namespaces are /run/netns/PREFIX-*")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("snap")
    p.add_argument("file")
    p = sub.add_parser("diff")
    p.add_argument("a")
    p.add_argument("b")
    p = sub.add_parser("quiet")
    p.add_argument("max_pct", nargs="?", type=float, default=15.0)
    p.add_argument("timeout", nargs="?", type=float, default=120.0)
    args = parser.parse_args()

    if args.command == "snap":
        with open(args.file, "w") as f:
            json.dump(snapshot(args.netns_prefix), f)
    elif args.command == "diff":
        with open(args.a) as fa, open(args.b) as fb:
            print(json.dumps(difference(json.load(fa), json.load(fb))))
    else:
        give_up = time.time() + args.timeout
        while True:
            first = snapshot(args.netns_prefix)
            time.sleep(1)
            d = difference(first, snapshot(args.netns_prefix))
            busiest = max((v["busy"] for k, v in d.items() if k.startswith("cpu")), default=0)
            quiet = busiest < args.max_pct
            if quiet or time.time() >= give_up:
                print(json.dumps({"quiet": quiet, "cpu_busy_max": busiest, "foreign_pct": d["foreign_pct"]}))
                return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
