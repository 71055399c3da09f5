#!/usr/bin/env python3
"""Overload: ternd recursing over the lab with cache.max-size 8MiB and resolver.max-concurrent
500. Measure its cache-hit capacity with dnsperf (5 s), flood it for 30 s at twice that rate with
a 1:1 mix of cache hits and cold names under *.wild.test (every cold name is a new resolution),
probe it with dig every second (each probe must be answered within 1 s), sample its RSS every
0.5 s, then measure the capacity again.

Memory bound: peak RSS < cache.max-size + overhead, overhead = the RSS measured idle after the
warm-up (binary, libraries, loop, empty structures, the warmed entries) + MARGIN_MIB for the
flood's transient state (up to max-concurrent resolutions with their iterator state and waiter
lists, TCP/UDP buffers in user space, allocator slack).
Throughput after the flood must be at least RECOVERY of what it was before.

Outstanding upstream work is capped by resolver.max-concurrent (SERVFAIL beyond it, counted in
PipelineStats::over_limit); the count is read from dnsperf's SERVFAIL figure, since no metrics
endpoint is served by ternd yet.

Needs root, nsd, dig, dnsperf. Exit 0 = all passed, 77 = skipped. Takes about 60 s."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ternlab  # noqa: E402
from attacklib import Table, expect, recursive_yaml, rss_kib, skip_unless_ready, start_ternd_yaml  # noqa: E402
from ternlab import Lab, dig, stop_pid  # noqa: E402

NET = os.environ.get("TERN_LAB_NET", "127.65")
CACHE_MIB = 8
MAX_CONCURRENT = 500
MARGIN_MIB = 24
FLOOD_S = 30
MEASURE_S = 5
RECOVERY = 0.80
OVER = 1.2            # below this offered/capacity ratio the flood must show it overloaded ternd
HIT_NAMES = 200
PROBE_LIMIT_S = 1.0


def dnsperf(addr: str, qfile: Path, seconds: int, qps: int | None = None, extra: tuple = (),
            outstanding: int = 500, timeout_s: int = 2) -> dict:
    cmd = ["dnsperf", "-s", addr, "-p", "53", "-d", str(qfile), "-l", str(seconds), "-c", "4",
           "-q", str(outstanding), "-t", str(timeout_s), *extra]
    if qps:
        cmd += ["-Q", str(qps)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    dnsperf.procs.append(p)
    out, _ = p.communicate(timeout=seconds + 20)
    res = dict(raw=out)
    for key, pat in (("sent", r"Queries sent:\s+(\d+)"), ("completed", r"Queries completed:\s+(\d+)"),
                     ("lost", r"Queries lost:\s+(\d+)"), ("qps", r"Queries per second:\s+([\d.]+)")):
        m = re.search(pat, out)
        res[key] = float(m.group(1)) if m else 0.0
    m = re.search(r"Response codes:\s+(.*)", out)
    res["rcodes"] = m.group(1).strip() if m else "?"
    return res


dnsperf.procs = []


def udp_rcvbuf_errors() -> int:
    """System-wide UDP datagrams dropped because a receive buffer was full (/proc/net/snmp)."""
    with open("/proc/net/snmp") as f:
        rows = [ln.split() for ln in f if ln.startswith("Udp:")]
    return int(dict(zip(rows[0][1:], rows[1][1:])).get("RcvbufErrors", 0)) if len(rows) >= 2 else 0


def main() -> int:
    rc = skip_unless_ready(("nsd", "dig", "ss", "dnsperf"))
    if rc is not None:
        return rc
    work = Path(ternlab.scratch_dir("test-overload"))
    lab = Lab(work / "lab", NET)
    ternd = None
    table = Table("overload")
    try:
        lab.up()
        addr = lab.resolver_addr(1)
        ternd = start_ternd_yaml(
            work / "ternd",
            recursive_yaml([f"{addr}:53"], lab.root_hints, cache=f"  max-size: {CACHE_MIB}MiB",
                           resolver=f"  max-concurrent: {MAX_CONCURRENT}\n", level="warn"), addr)
        print(f"# ternd pid {ternd.pid} on {addr}; lab {NET}")
        hits = work / "hits.queries"
        zones = lab.info["bench"]["zone_count"]
        hits.write_text("".join(f"www.z{i:04d}.bench.test A\n" for i in range(min(HIT_NAMES, zones))))
        warm = dnsperf(addr, hits, 10, qps=2000, extra=("-n", "1"))
        dig(addr, "www.glue.com", "A", timeout=5)
        time.sleep(0.5)
        idle_kib = rss_kib(ternd.pid)
        limit_kib = CACHE_MIB * 1024 + idle_kib + MARGIN_MIB * 1024
        print(f"# warm-up: {warm['completed']:.0f} of {HIT_NAMES} names ({warm['rcodes']}); idle RSS "
              f"{idle_kib / 1024:.1f} MiB; RSS limit {limit_kib / 1024:.1f} MiB = cache {CACHE_MIB} + idle "
              f"{idle_kib / 1024:.1f} + margin {MARGIN_MIB}")

        before = {}
        with table.scenario("capacity", f"dnsperf {MEASURE_S} s of cache hits ({HIT_NAMES} names), no rate limit") as r:
            before = dnsperf(addr, hits, MEASURE_S)
            r.result = f"{before['qps']:.0f} qps, lost {before['lost']:.0f}, {before['rcodes']}"
            expect(before["qps"] > 0, "no throughput measured:\n" + before["raw"][-500:])

        with table.scenario("2x capacity flood",
                            f"dnsperf -Q {2 * before.get('qps', 0):.0f} for {FLOOD_S} s, 1:1 cache hits and cold "
                            f"*.wild.test names; dig probe every 1 s; RSS every 0.5 s") as r:
            cold = work / "flood.queries"
            n = int(max(2 * before["qps"] * FLOOD_S, 10000))
            n = min(n, 400000)
            with open(cold, "w") as f:
                for i in range(n):
                    f.write(f"www.z{i % HIT_NAMES:04d}.bench.test A\n" if i % 2 else f"f{i:07d}.wild.test A\n")
            probes, rss = [], []
            done = threading.Event()

            def sample() -> None:
                deadline = time.monotonic() + FLOOD_S + 10   # bounded even if dnsperf hangs
                next_probe = time.monotonic() + 1.0
                while not done.is_set() and time.monotonic() < deadline:
                    if ternd.running():
                        rss.append(rss_kib(ternd.pid))
                    if time.monotonic() >= next_probe:
                        t0 = time.monotonic()
                        res = dig(addr, "www.glue.com", "A", timeout=1)
                        probes.append((res.ok and [rr.rdata for rr in res.answer] == ["192.0.2.1"],
                                       time.monotonic() - t0))
                        next_probe += 1.0
                    time.sleep(0.5)
            t = threading.Thread(target=sample, daemon=True)
            lab0 = sum(lab.query_counts().values())
            drops0 = udp_rcvbuf_errors()
            cpu0 = ternd.cpu_seconds()
            t.start()
            # Enough queries in flight that cold-name latency does not throttle the offered rate.
            flood = dnsperf(addr, cold, FLOOD_S, qps=int(2 * before["qps"]), outstanding=60000, timeout_s=1)
            done.set()
            t.join(timeout=5)
            cpu = ternd.cpu_seconds() - cpu0
            upstream = sum(lab.query_counts().values()) - lab0
            drops = udp_rcvbuf_errors() - drops0
            bad = [f"{took:.2f}s" + ("" if ok else " (no/wrong answer)") for ok, took in probes
                   if not ok or took > PROBE_LIMIT_S]
            peak = max(rss) if rss else 0
            servfail = re.search(r"SERVFAIL (\d+)", flood["rcodes"])
            r.result = (f"sent {flood['sent']:.0f} ({flood['sent'] / FLOOD_S:.0f}/s), completed {flood['completed']:.0f}, "
                        f"lost {flood['lost']:.0f}; {flood['rcodes']}; probes {len(probes) - len(bad)}/{len(probes)} "
                        f"within {PROBE_LIMIT_S:.0f}s; RSS peak {peak / 1024:.1f} MiB (limit {limit_kib / 1024:.1f}); "
                        f"{upstream} lab queries; {drops} UDP datagrams dropped by the kernel (receive buffer full, "
                        f"system-wide); ternd CPU {cpu:.1f}s in {FLOOD_S}s; load average "
                        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
            if servfail:
                r.result += f"; SERVFAIL (max-concurrent {MAX_CONCURRENT} cap or upstream) {servfail.group(1)}"
            expect(ternd.running(), "ternd died:\n" + ternd.log_tail())
            offered = flood["sent"] / FLOOD_S
            r.result += (f"; offered {offered / before['qps']:.2f}x the cache-hit capacity"
                         + ("" if offered >= OVER * before["qps"] else
                            " (dnsperf shares the CPUs and could not offer 2x; half the names are cold, "
                            "so it is still far beyond the miss-path capacity)"))
            expect(flood["completed"] < 0.9 * flood["sent"] or offered >= OVER * before["qps"],
                   "the flood was no overload: nearly everything was answered at under 1.2x capacity")
            expect(len(probes) >= FLOOD_S // 2, f"only {len(probes)} probes ran")
            expect(not bad, f"probes not answered within {PROBE_LIMIT_S}s: {bad}")
            expect(peak < limit_kib, f"RSS peak {peak / 1024:.1f} MiB >= limit {limit_kib / 1024:.1f} MiB")

        with table.scenario("recovery", f"dnsperf {MEASURE_S} s of cache hits after the flood: >= {RECOVERY:.0%} of before") as r:
            time.sleep(2.0)
            dnsperf(addr, hits, 3, qps=2000, extra=("-n", "1"))   # re-warm names evicted by the flood
            after = dnsperf(addr, hits, MEASURE_S)
            ratio = after["qps"] / before["qps"] if before.get("qps") else 0
            r.result = f"{after['qps']:.0f} qps = {ratio:.0%} of {before['qps']:.0f}; RSS now {rss_kib(ternd.pid) / 1024:.1f} MiB"
            expect(ratio >= RECOVERY, f"throughput {ratio:.0%} of before")
    except Exception as e:
        with table.scenario("set-up", "lab, ternd, dnsperf") as r:
            raise e
    finally:
        for p in dnsperf.procs:
            if p.poll() is None:
                stop_pid(p.pid, "dnsperf", "dnsperf")
        if ternd is not None:
            ternd.stop()
        lab.down()
    table.print()
    return table.exit_code()


if __name__ == "__main__":
    sys.exit(main())
