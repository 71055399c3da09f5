#!/usr/bin/env python3
"""Overload: ternd recursing over the lab with cache.max-size 8MiB and resolver.max-concurrent
500. Measure its cache-hit capacity with dnsperf (5 s), flood it for 30 s at twice that rate with
a 1:1 mix of cache hits and cold names under *.wild.test (every cold name is a new resolution),
probe it every second, sample its RSS every 0.5 s, then measure the capacity again.

Probes. A UDP socket offered twice what its reader can take keeps its kernel queue full, and
the kernel drops about half of all datagrams before ternd sees them, whatever ternd does: a
larger SO_RCVBUF (ternd asks for 4 MiB) only delays the first drop by the queue's length
(~100 ms of work) and adds that much latency. A UDP probe to the flooded address is therefore
reported (answered count, kernel drops on that socket) but not required. What must hold is
that the daemon stays responsive, each second, within 1 s (dig's query time):
  - a TCP probe to the flooded address (its own kernel queue; served by the same loop), and
  - a UDP probe to a second, quiet listen address of the same ternd (its own socket: libuv
    reads at most ~32 datagrams per socket per loop turn, so the flood cannot starve it).
Both fail if a loop turn takes longer than a second (unbounded per-turn work).
And ternd must keep answering cache hits: at least HITS_KEPT of the hits dnsperf offered during
the flood are answered (tern_pipeline_cache_hits_total), which needs the miss path shed while
the socket is backlogged (tern_pipeline_shed_total) instead of eating the loop's CPU share
(HITS_KEPT_ASAN under ASan, see there).

Memory bound: peak RSS < cache.max-size + OVERHEAD_MIB at max-concurrent 500 (the figure
documented in conf/ternd.yaml): binary, libraries and loop buffers (~8 MiB idle), the
resolutions in flight with their iterator state, sockets and waiter lists, the UDP send queue
(bounded), and allocator slack. Not checked under ASan (its shadow memory and quarantine are
not ternd's), only reported.
Throughput after the flood must be at least RECOVERY of what it was before, in the best of
RECOVERY_TRIES runs: on a shared machine the CPU ternd gets moves by tens of percent between
5 s runs (qps per ternd CPU-second is printed to tell that from a slower ternd).

Outstanding upstream work is capped by resolver.max-concurrent and resolver.max-waiting-clients
(SERVFAIL beyond, tern_pipeline_over_limit_total) and by the shedding above; the counters are
read from ternd's /metrics endpoint.

Needs root, nsd, dig, dnsperf. Exit 0 = all passed, 77 = skipped. Takes 50-60 s."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ternlab  # noqa: E402
from attacklib import Table, expect, recursive_yaml, rss_kib, skip_unless_ready, start_ternd_yaml  # noqa: E402
from ternlab import Lab, dig, stop_pid  # noqa: E402

NET = os.environ.get("TERN_LAB_NET", "127.65")
CACHE_MIB = 8
MAX_CONCURRENT = 500
OVERHEAD_MIB = 24     # documented in conf/ternd.yaml (resolver.max-concurrent)
HITS_KEPT = 0.5       # share of the offered cache hits answered during the flood
# Under ASan the user-space work of shedding a miss (read, parse, cache lookup) costs as much as
# answering a hit (measured: ~55k of either per CPU-second, against 160k hits in a release
# build), so at a true 2x only about half of what is offered can be read at all: the bar there
# is lower, still far above what a ternd that spends its CPU on resolutions keeps.
HITS_KEPT_ASAN = 0.3
FLOOD_S = 30
MEASURE_S = 5
RECOVERY = 0.80
RECOVERY_TRIES = 3
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


def udp_socket(addr: str, port: int = 53) -> tuple[int, int]:
    """(receive queue bytes, datagrams dropped) of the UDP socket bound to addr:port (/proc/net/udp)."""
    a = [int(x) for x in addr.split(".")]
    want = "%02X%02X%02X%02X:%04X" % (a[3], a[2], a[1], a[0], port)
    with open("/proc/net/udp") as f:
        for ln in f:
            cols = ln.split()
            if len(cols) > 12 and cols[1] == want:
                return int(cols[4].split(":")[1], 16), int(cols[12])
    return 0, 0


def metrics(addr: str) -> dict:
    """ternd's counters from its /metrics endpoint, name{labels} -> value."""
    with urllib.request.urlopen(f"http://{addr}:9153/metrics", timeout=5) as r:
        text = r.read().decode()
    out = {}
    for ln in text.splitlines():
        m = re.match(r"(tern_\w+(?:\{[^}]*\})?) (\S+)$", ln)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def is_asan(binary: str) -> bool:
    r = subprocess.run(["nm", "-D", binary], capture_output=True, text=True)
    return "__asan_init" in r.stdout or "__asan_init" in subprocess.run(
        ["nm", binary], capture_output=True, text=True).stdout


def main() -> int:
    rc = skip_unless_ready(("nsd", "dig", "ss", "dnsperf"))
    if rc is not None:
        return rc
    asan = is_asan(str(ternlab.ternd_binary()))
    work = Path(ternlab.scratch_dir("test-overload"))
    lab = Lab(work / "lab", NET)
    ternd = None
    table = Table("overload")
    try:
        lab.up()
        addr, quiet = lab.resolver_addr(1), lab.resolver_addr(2)
        ternd = start_ternd_yaml(
            work / "ternd",
            recursive_yaml([f"{addr}:53", f"{quiet}:53"], lab.root_hints, cache=f"  max-size: {CACHE_MIB}MiB",
                           resolver=f"  max-concurrent: {MAX_CONCURRENT}\n", level="warn")
            + f"metrics:\n  listen: \"{addr}:9153\"\n", addr)
        print(f"# ternd pid {ternd.pid} on {addr} (flooded) and {quiet} (quiet); lab {NET}"
              + ("; ASan build" if asan else ""))
        hits = work / "hits.queries"
        zones = lab.info["bench"]["zone_count"]
        hits.write_text("".join(f"www.z{i:04d}.bench.test A\n" for i in range(min(HIT_NAMES, zones))))
        warm = dnsperf(addr, hits, 5, qps=2000, extra=("-n", "1"))
        dig(addr, "www.glue.com", "A", timeout=5)
        time.sleep(0.5)
        idle_kib = rss_kib(ternd.pid)
        limit_kib = (CACHE_MIB + OVERHEAD_MIB) * 1024
        print(f"# warm-up: {warm['completed']:.0f} of {HIT_NAMES} names ({warm['rcodes']}); idle RSS "
              f"{idle_kib / 1024:.1f} MiB; RSS limit {limit_kib / 1024:.0f} MiB = cache {CACHE_MIB} + overhead "
              f"{OVERHEAD_MIB}" + (" (not checked under ASan)" if asan else ""))

        before = {}
        with table.scenario("capacity", f"dnsperf {MEASURE_S} s of cache hits ({HIT_NAMES} names), no rate limit") as r:
            c0 = ternd.cpu_seconds()
            before = dnsperf(addr, hits, MEASURE_S)
            before["cpu"] = ternd.cpu_seconds() - c0
            r.result = f"{before['qps']:.0f} qps, lost {before['lost']:.0f}, {before['rcodes']}"
            expect(before["qps"] > 0, "no throughput measured:\n" + before["raw"][-500:])

        with table.scenario("2x capacity flood",
                            f"dnsperf -Q {2 * before.get('qps', 0):.0f} for {FLOOD_S} s, 1:1 cache hits and cold "
                            f"*.wild.test names; each second a TCP probe to {addr}, a UDP probe to {quiet} "
                            f"and one to {addr}; RSS every 0.5 s") as r:
            cold = work / "flood.queries"
            # Long enough that dnsperf does not wrap around within the flood (a second pass would
            # find the "cold" names cached); bounded at 4M lines (~90 MB).
            n = int(min(max(2.2 * before["qps"] * FLOOD_S, 10000), 4_000_000))
            with open(cold, "w") as f:
                for start in range(0, n, 100_000):
                    f.write("".join(f"www.z{i % HIT_NAMES:04d}.bench.test A\n" if i % 2 else f"f{i:08d}.wild.test A\n"
                                    for i in range(start, min(n, start + 100_000))))
            probes = {"tcp": [], "quiet": [], "udp": []}
            rss = []
            done = threading.Event()

            def probe(kind: str) -> tuple:
                # The latency is dig's own "Query time" (query sent to reply read): starting a dig
                # process on a loaded machine can take longer than ternd's answer. dig gives up
                # after 1 s (+time=1), so an answer at all means within about a second.
                t0 = time.monotonic()
                res = dig(quiet if kind == "quiet" else addr, "www.glue.com", "A", timeout=1, tcp=kind == "tcp")
                took = time.monotonic() - t0
                m = re.search(r"Query time: (\d+) msec", res.raw)
                ok = res.ok and [rr.rdata for rr in res.answer] == ["192.0.2.1"]
                return kind, ok, int(m.group(1)) / 1000 if ok and m else took

            def prober() -> None:
                deadline = time.monotonic() + FLOOD_S + 10   # bounded even if dnsperf hangs
                with ThreadPoolExecutor(max_workers=3) as pool:
                    while not done.is_set() and time.monotonic() < deadline:
                        t0 = time.monotonic()
                        for kind, ok, took in pool.map(probe, ("tcp", "quiet", "udp")):
                            probes[kind].append((ok, took))
                        done.wait(max(0.0, 1.0 - (time.monotonic() - t0)))

            def sampler() -> None:
                deadline = time.monotonic() + FLOOD_S + 10
                while not done.is_set() and time.monotonic() < deadline:
                    if ternd.running():
                        rss.append(rss_kib(ternd.pid))
                    done.wait(0.5)
            threads = [threading.Thread(target=prober, daemon=True), threading.Thread(target=sampler, daemon=True)]
            lab0 = sum(lab.query_counts().values())
            drops0 = udp_rcvbuf_errors()
            sock0 = udp_socket(addr)[1]
            m0 = metrics(addr)
            cpu0 = ternd.cpu_seconds()
            for t in threads:
                t.start()
            # Enough queries in flight that cold-name latency does not throttle the offered rate.
            flood = dnsperf(addr, cold, FLOOD_S, qps=int(2 * before["qps"]), outstanding=60000, timeout_s=1)
            done.set()
            for t in threads:
                t.join(timeout=10)
            cpu = ternd.cpu_seconds() - cpu0
            upstream = sum(lab.query_counts().values()) - lab0
            drops = udp_rcvbuf_errors() - drops0
            sock_drops = udp_socket(addr)[1] - sock0
            m1 = metrics(addr)

            def delta(name: str) -> int:
                return int(m1.get(name, 0) - m0.get(name, 0))
            offered_hits = flood["sent"] / 2
            hits_answered = delta("tern_pipeline_cache_hits_total")

            def bad(kind: str) -> list:
                return [f"{took:.2f}s" + ("" if ok else " (no/wrong answer)") for ok, took in probes[kind]
                        if not ok or took > PROBE_LIMIT_S]

            def summary(kind: str) -> str:
                p = probes[kind]
                worst = max((took for _, took in p), default=0)
                return f"{len(p) - len(bad(kind))}/{len(p)} (worst {worst:.2f}s)"
            peak = max(rss) if rss else 0
            r.result = (f"sent {flood['sent']:.0f} ({flood['sent'] / FLOOD_S:.0f}/s), completed {flood['completed']:.0f}, "
                        f"lost {flood['lost']:.0f}; {flood['rcodes']}; probes within {PROBE_LIMIT_S:.0f}s: TCP "
                        f"{summary('tcp')}, UDP quiet socket {summary('quiet')}, UDP flooded socket "
                        f"{summary('udp')} (not required); cache hits answered {hits_answered} of ~{offered_hits:.0f} "
                        f"offered ({hits_answered / max(offered_hits, 1):.0%}); resolutions "
                        f"{delta('tern_pipeline_resolutions_total')}, shed {delta('tern_pipeline_shed_total')} "
                        f"(dropped {delta('tern_pipeline_shed_dropped_total')}), over limit "
                        f"{delta('tern_pipeline_over_limit_total')}; kernel drops on the flooded socket "
                        f"{sock_drops} ({drops} system-wide); RSS peak {peak / 1024:.1f} MiB (limit "
                        f"{limit_kib / 1024:.0f}{', not checked under ASan' if asan else ''}); {upstream} lab queries; "
                        f"ternd CPU {cpu:.1f}s in {FLOOD_S}s; load average {os.getloadavg()[0]:.1f} on "
                        f"{os.cpu_count()} CPUs")
            expect(ternd.running(), "ternd died:\n" + ternd.log_tail())
            offered = flood["sent"] / FLOOD_S
            r.result += (f"; offered {offered / before['qps']:.2f}x the cache-hit capacity"
                         + ("" if offered >= OVER * before["qps"] else
                            " (dnsperf shares the CPUs and could not offer 2x; half the names are cold, "
                            "so it is still far beyond the miss-path capacity)"))
            expect(flood["completed"] < 0.9 * flood["sent"] or offered >= OVER * before["qps"]
                   or delta("tern_pipeline_shed_total") > 0,
                   "the flood was no overload: nearly everything was answered at under 1.2x capacity")
            expect(len(probes["tcp"]) >= FLOOD_S // 2, f"only {len(probes['tcp'])} probe rounds ran")
            expect(not bad("tcp"), f"TCP probes not answered within {PROBE_LIMIT_S}s: {bad('tcp')}")
            expect(not bad("quiet"), f"UDP probes to the quiet socket not answered within {PROBE_LIMIT_S}s: "
                   f"{bad('quiet')}")
            kept = HITS_KEPT_ASAN if asan else HITS_KEPT
            expect(hits_answered >= kept * offered_hits,
                   f"only {hits_answered} of ~{offered_hits:.0f} offered cache hits answered (< {kept:.0%}"
                   + (", the ASan bar" if asan else "") + ")")
            expect(asan or peak < limit_kib, f"RSS peak {peak / 1024:.1f} MiB >= limit {limit_kib / 1024:.0f} MiB")

        with table.scenario("recovery", f"dnsperf {MEASURE_S} s of cache hits after the flood: >= {RECOVERY:.0%} of "
                            f"before (best of up to {RECOVERY_TRIES} runs: other work on the machine moves the capacity)") as r:
            time.sleep(2.0)
            dnsperf(addr, hits, 3, qps=2000, extra=("-n", "1"))   # re-warm names evicted by the flood
            tries = []
            for _ in range(RECOVERY_TRIES):
                c0 = ternd.cpu_seconds()
                after = dnsperf(addr, hits, MEASURE_S)
                tries.append((after["qps"], after["qps"] * MEASURE_S / max(ternd.cpu_seconds() - c0, 0.01)))
                if after["qps"] >= RECOVERY * before["qps"]:
                    break
            best = max(q for q, _ in tries)
            ratio = best / before["qps"] if before.get("qps") else 0
            r.result = (f"{best:.0f} qps = {ratio:.0%} of {before['qps']:.0f} (runs: "
                        + ", ".join(f"{q:.0f} qps, {per:.0f} per ternd CPU-second" for q, per in tries)
                        + f"; before: {before['qps'] * MEASURE_S / max(before['cpu'], 0.01):.0f} per CPU-second); "
                        f"RSS now {rss_kib(ternd.pid) / 1024:.1f} MiB")
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
        (work / "flood.queries").unlink(missing_ok=True)   # up to ~90 MB, even when the test fails
    table.print()
    return table.exit_code()


if __name__ == "__main__":
    sys.exit(main())
