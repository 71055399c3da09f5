#!/usr/bin/env python3
"""tools/bench: dnsperf against ternd and against Unbound in the same run, on the same lab.

    tools/bench/bench [--mode cache-hit|cold] [--duration 10] [--ternd PATH] [--forward]
                      [--compare-unbound-twice] [--rounds N] [--net 127.59] [--json FILE]

What it does, in one run:
  1. brings up a private lab (tools/lab: NSD servers on NET.x.y, default 127.59) in a temp dir;
  2. starts the contenders, each single-threaded and pinned to one CPU (taskset -c 1):
       unbound   Debian's Unbound, num-threads 1, no validation, recursing the lab from its root hints
       ternd     recursing the lab (resolver.mode: recursive, resolver.root-hints) — or, if the
                 binary is missing or does not answer within 3 s, skipped with a message
       unbound-2 instead of ternd with --compare-unbound-twice: a second identical Unbound, so the
                 ratio shows the noise of the method (it should be ~1.0)
     With --forward both forward "." to a third process, an Unbound recursing the lab (unpinned).
  3. per round and contender: warm-up, then dnsperf (taskset -c 0) for --duration seconds;
     the resolver's CPU time is read from /proc/PID/stat (utime+stime, CLK_TCK) before and after.
       cache-hit: the query file is www.zNNNN.bench.test A for the lab's 1000 generated zones; a
                  warm-up pass (dnsperf -n 1) fills the cache, and the answers are spot-checked.
       cold:      every query is a unique <random>.wild.test A (answered by the lab's *.wild.test
                  wildcard), so every query is a cache miss; the wild.test delegation is warmed first.
  4. prints, per contender: answered queries per resolver-CPU-second (the primary figure: it does
     not depend on how busy the shared machine is), raw qps, average latency and its stddev,
     upstream queries per client query (counted on the lab servers with nsd-control stats, or on
     the forward target's unbound-control stats with --forward), and the ratios to the first
     contender (Unbound). With --rounds N > 1 the rounds alternate the order of the contenders
     (AB, BA, ...) and the median over the rounds is reported. --max-qps offers both the same fixed
     load (per CPU-second figures depend on load, since a busier event loop batches more).

Everything it starts is stopped by PID at the end, also on Ctrl-C or SIGTERM. Every wait is bounded.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
sys.path.insert(0, str(REPO_ROOT / "tools" / "lab"))
from lab import Daemon, Lab, LabError, Unbound, dig, ternd_config  # noqa: E402

TERND_READY_TIMEOUT_S = 3.0      # the issue: skip ternd if it does not answer within 3 s
UNBOUND_READY_TIMEOUT_S = 10.0
WARMUP_TIMEOUT_S = 120           # a warm-up dnsperf pass is bounded by this
COLD_MAX_QPS_GUESS = 60000       # cold query files hold duration x this many unique names...
COLD_MAX_NAMES = 2_000_000       # ...but never more than this


@dataclass
class Contender:
    name: str
    addr: str
    daemon: Daemon | None = None
    skipped: str = ""                                   # why it was not measured
    runs: list = field(default_factory=list)            # one dict per round


def log(msg: str) -> None:
    print(f"[bench] {msg}", flush=True)


def parse_dnsperf(text: str) -> dict:
    """Extracts the summary figures of a dnsperf run."""
    def num(pattern: str, cast=float, default=None):
        m = re.search(pattern, text)
        return cast(m.group(1)) if m else default
    out = dict(
        sent=num(r"Queries sent:\s+(\d+)", int, 0),
        completed=num(r"Queries completed:\s+(\d+)", int, 0),
        lost=num(r"Queries lost:\s+(\d+)", int, 0),
        run_time=num(r"Run time \(s\):\s+([\d.]+)"),
        qps=num(r"Queries per second:\s+([\d.]+)"),
        latency_avg=num(r"Average Latency \(s\):\s+([\d.]+)"),
        latency_min=num(r"Average Latency \(s\):\s+[\d.]+ \(min ([\d.]+)"),
        latency_max=num(r"Average Latency \(s\):\s+[\d.]+ \(min [\d.]+, max ([\d.]+)"),
        latency_stddev=num(r"Latency StdDev \(s\):\s+([\d.]+)"),
    )
    m = re.search(r"Response codes:\s+(.*)", text)
    out["rcodes"] = m.group(1).strip() if m else ""
    return out


def run_dnsperf(addr: str, qfile: Path, *, cpu: int | None, duration: float | None = None,
                maxruns: int | None = None, outstanding: int = 100, clients: int = 8,
                timeout: float = 5.0, max_qps: int | None = None) -> dict:
    """Runs dnsperf (pinned to cpu) against addr:53 and returns parse_dnsperf() of its output."""
    cmd = (["taskset", "-c", str(cpu)] if cpu is not None else []) + [
        "dnsperf", "-s", addr, "-p", "53", "-d", str(qfile), "-c", str(clients), "-T", "1",
        "-q", str(outstanding), "-t", str(int(timeout))]
    if duration is not None:
        cmd += ["-l", str(duration)]
    if maxruns is not None:
        cmd += ["-n", str(maxruns)]
    if max_qps:
        cmd += ["-Q", str(max_qps)]
    bound = (duration or 0) + timeout + (WARMUP_TIMEOUT_S if duration is None else 30)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=bound)
    if r.returncode != 0:
        raise LabError(f"dnsperf failed ({r.returncode}): {r.stdout[-500:]}{r.stderr[-500:]}")
    res = parse_dnsperf(r.stdout)
    res["raw"] = r.stdout
    return res


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None   # zone files: avoid a busy disk
        self.work = Path(args.dir or tempfile.mkdtemp(prefix="tern-bench-", dir=shm)).resolve()
        self.work.mkdir(parents=True, exist_ok=True)
        self.lab = Lab(self.work / "lab", args.net)
        self.upstream: Unbound | None = None
        self.contenders: list[Contender] = []
        self.rng = random.Random()

    # setup ---------------------------------------------------------------------------------------
    def setup(self) -> None:
        secs = self.lab.up()
        log(f"lab up in {secs:.2f}s on {self.lab.net}.* ({self.work / 'lab'})")
        forward = None
        if self.args.forward:
            self.upstream = Unbound(self.work / "upstream", self.lab.resolver_addr(9), 53,
                                    root_hints=self.lab.root_hints, name="upstream-unbound",
                                    discard_timeout_ms=None, extra=self._unbound_extra())
            self.upstream.start()
            self.upstream.wait_answering(timeout=UNBOUND_READY_TIMEOUT_S)
            forward = [f"{self.upstream.addr}@53"]
            log(f"forward target: Unbound recursing the lab on {self.upstream.addr}:53 (unpinned)")
        cpu = self.args.resolver_cpu
        names = ["unbound", "unbound-2"] if self.args.compare_unbound_twice else ["unbound"]
        for i, name in enumerate(names):
            c = Contender(name, self.lab.resolver_addr(1 + 2 * i))
            c.daemon = Unbound(self.work / name, c.addr, 53, root_hints=None if forward else self.lab.root_hints,
                               forward=forward, cpu=cpu, name=name, discard_timeout_ms=None,
                               extra=self._unbound_extra())
            c.daemon.start()
            c.daemon.wait_answering(timeout=UNBOUND_READY_TIMEOUT_S)
            self._check_pinned(c)
            self.contenders.append(c)
        if not self.args.compare_unbound_twice:
            self.contenders.append(self._start_ternd(forward))

    def _check_pinned(self, c: Contender) -> None:
        cpus = c.daemon.cpus_allowed()
        if cpus != str(self.args.resolver_cpu):
            raise LabError(f"{c.name} (pid {c.daemon.pid}) runs on CPUs {cpus}, not {self.args.resolver_cpu}")
        log(f"{c.name}: pid {c.daemon.pid} on {c.addr}:53, pinned to CPU {cpus}")

    def _unbound_extra(self) -> list:
        # Same cache budget for every Unbound so the cold run does not measure eviction differences.
        return ["msg-cache-size: 64m", "rrset-cache-size: 128m"]

    def _start_ternd(self, forward: list | None) -> Contender:
        c = Contender("ternd", self.lab.resolver_addr(2))
        binary = Path(self.args.ternd) if self.args.ternd else REPO_ROOT / "build" / "daemon" / "ternd"
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            c.skipped = f"no ternd binary at {binary} (use --ternd PATH)"
            log(f"ternd: SKIPPED: {c.skipped}")
            return c
        d = self.work / "ternd"
        d.mkdir(exist_ok=True)
        conf = d / "ternd.yaml"
        ups = [u.replace("@", ":") for u in forward] if forward else None
        conf.write_text(ternd_config(f"{c.addr}:53", root_hints=self.lab.root_hints, forward=ups))
        argv = [str(binary)] + self.args.ternd_args.format(config=conf).split()
        c.daemon = Daemon(argv, log=d / "ternd.log", cpu=self.args.resolver_cpu, name="ternd")
        c.daemon.start()
        try:
            # Any DNS reply counts as "answering"; this one needs a resolution through the lab.
            c.daemon.wait_answering(c.addr, 53, timeout=TERND_READY_TIMEOUT_S,
                                    probe=("z0000.bench.test", "SOA", "IN"))
            self._check_pinned(c)
        except LabError as e:
            c.daemon.stop()
            c.skipped = f"ternd ({' '.join(argv)}) did not answer on {c.addr}:53 within " \
                        f"{TERND_READY_TIMEOUT_S:.0f}s: {str(e).splitlines()[0]}"
            log(f"ternd: SKIPPED: {c.skipped}")
            tail = c.daemon.log_tail(10)
            if tail.strip():
                log("ternd log tail:\n" + tail)
        return c

    # measurement ---------------------------------------------------------------------------------
    def upstream_count(self) -> int:
        """Queries the upstream has received so far: the forward target's, or all lab servers'."""
        if self.upstream is not None:
            return int(self.upstream.stats().get("total.num.queries", 0))
        return sum(self.lab.query_counts().values())

    def cold_file(self, tag: str) -> Path:
        n = min(COLD_MAX_NAMES, int(self.args.duration * COLD_MAX_QPS_GUESS))
        prefix = f"{tag}{self.rng.getrandbits(32):08x}"
        path = self.work / f"cold-{tag}.queries"
        with open(path, "w") as f:
            for i in range(n):
                f.write(f"{prefix}-{i:x}.wild.test A\n")
        return path

    def measure(self, c: Contender, rnd: int) -> dict:
        a = self.args
        if a.mode == "cache-hit":
            qfile = Path(self.lab.info["bench"]["cache_hit_queries"])
            warm = run_dnsperf(c.addr, qfile, cpu=a.dnsperf_cpu, maxruns=1, outstanding=20, clients=4)
            if warm["completed"] == 0:
                raise LabError(f"{c.name}: warm-up got no answers:\n{warm['raw']}")
            for i in (0, 513, 999):   # the pipeline must give right answers, not just fast ones
                res = dig(c.addr, f"www.z{i:04d}.bench.test", "A", timeout=3)
                want = f"198.18.{i >> 8}.{i & 255}"
                if not (res.ok and res.rcode == "NOERROR" and [r.rdata for r in res.answer] == [want]):
                    raise LabError(f"{c.name} answered www.z{i:04d}.bench.test wrongly:\n{res.raw}")
        else:
            qfile = self.cold_file(f"r{rnd}{c.name.replace('-', '')}")
            res = dig(c.addr, f"warm{self.rng.getrandbits(32):x}.wild.test", "A", timeout=3)
            if not (res.ok and res.answer and res.answer[0].rdata == "192.0.2.5"):
                raise LabError(f"{c.name} does not resolve the wildcard:\n{res.raw}")
        up0 = self.upstream_count()
        cpu0 = c.daemon.cpu_seconds()
        perf = run_dnsperf(c.addr, qfile, cpu=a.dnsperf_cpu, duration=a.duration,
                           maxruns=1 if a.mode == "cold" else None, outstanding=a.outstanding,
                           clients=a.clients, max_qps=a.max_qps)
        cpu1 = c.daemon.cpu_seconds()
        up1 = self.upstream_count()
        cpu = cpu1 - cpu0
        perf.pop("raw")
        perf.update(cpu_seconds=cpu,
                    per_cpu_second=perf["completed"] / cpu if cpu > 0 else None,
                    cpu_share=cpu / perf["run_time"] if perf["run_time"] else None,
                    upstream_queries=up1 - up0,
                    upstream_per_query=(up1 - up0) / perf["completed"] if perf["completed"] else None)
        if perf["completed"] == 0:
            raise LabError(f"{c.name}: dnsperf got no answers")
        return perf

    def run(self) -> None:
        for rnd in range(self.args.rounds):
            # Alternate the order (AB, BA, ...) so drift in machine load does not favour one side.
            for c in (self.contenders if rnd % 2 == 0 else list(reversed(self.contenders))):
                if c.skipped:
                    continue
                if not c.daemon.running():
                    raise LabError(f"{c.name} died:\n{c.daemon.log_tail()}")
                r = self.measure(c, rnd)
                c.runs.append(r)
                log(f"round {rnd + 1}/{self.args.rounds} {c.name:9}: {r['completed']} answered in "
                    f"{r['run_time']:.2f}s, {r['qps']:.0f} qps, {r['per_cpu_second']:.0f} per CPU-s, "
                    f"CPU {100 * r['cpu_share']:.0f}%, avg latency {1000 * r['latency_avg']:.3f} ms, "
                    f"upstream/query {r['upstream_per_query']:.3f}, rcodes {r['rcodes']}")

    # report --------------------------------------------------------------------------------------
    def summary(self) -> dict:
        out = dict(mode=self.args.mode, forward=self.args.forward, duration=self.args.duration,
                   rounds=self.args.rounds, net=self.lab.net, contenders={})
        for c in self.contenders:
            if c.skipped:
                out["contenders"][c.name] = dict(skipped=c.skipped)
                continue
            med = {}
            for k in ("completed", "lost", "run_time", "qps", "latency_avg", "latency_stddev",
                      "cpu_seconds", "per_cpu_second", "cpu_share", "upstream_per_query"):
                vals = [r[k] for r in c.runs if r.get(k) is not None]
                med[k] = statistics.median(vals) if vals else None
            out["contenders"][c.name] = dict(median=med, runs=c.runs)
        measured = [c for c in self.contenders if not c.skipped]
        if len(measured) >= 2:
            base, other = (out["contenders"][c.name]["median"] for c in measured[:2])
            ratio = {}
            for k in ("per_cpu_second", "qps", "latency_avg"):
                ratio[k] = other[k] / base[k] if base[k] and other[k] is not None else None
            # Per round as well: the spread of these shows the noise of the method.
            ratio["per_cpu_second_by_round"] = [
                b2["per_cpu_second"] / b1["per_cpu_second"]
                for b1, b2 in zip(measured[0].runs, measured[1].runs) if b1["per_cpu_second"]]
            byr = ratio["per_cpu_second_by_round"]
            ratio["per_cpu_second_median_of_rounds"] = statistics.median(byr) if byr else None
            out["ratio"] = dict(of=f"{measured[1].name}/{measured[0].name}", **ratio)
        return out

    def print_summary(self, s: dict) -> None:
        up = "forward target's queries" if self.args.forward else "lab queries"
        print()
        print(f"== tern bench: mode {s['mode']}{' (forward)' if s['forward'] else ' (recursive)'}, "
              f"{s['duration']}s x {s['rounds']} round(s), medians")
        print(f"{'resolver':10} {'per CPU-s':>10} {'qps':>9} {'CPU':>5} {'lat avg ms':>10} "
              f"{'lat sd ms':>9} {'lost':>6} {'upstream/q':>10}")
        for name, c in s["contenders"].items():
            if "skipped" in c:
                print(f"{name:10} SKIPPED: {c['skipped']}")
                continue
            m = c["median"]
            print(f"{name:10} {m['per_cpu_second']:10.0f} {m['qps']:9.0f} {100 * m['cpu_share']:4.0f}% "
                  f"{1000 * m['latency_avg']:10.3f} {1000 * m['latency_stddev']:9.3f} {m['lost']:6.0f} "
                  f"{m['upstream_per_query']:10.3f}")
        if "ratio" in s:
            r = s["ratio"]
            byr = ", ".join(f"{x:.3f}" for x in r["per_cpu_second_by_round"])
            print(f"ratio {r['of']}: per CPU-second {r['per_cpu_second']:.3f} (rounds: {byr}; median of "
                  f"round ratios {r['per_cpu_second_median_of_rounds']:.3f}), qps {r['qps']:.3f}, "
                  f"avg latency {r['latency_avg']:.3f}")
        else:
            print("ratio: needs two measured resolvers")
        print(f"(per CPU-s = answered queries / resolver utime+stime; upstream/q = {up} per answered query)")

    def teardown(self) -> None:
        for c in self.contenders:
            if c.daemon is not None:
                try:
                    c.daemon.stop()
                except Exception as e:  # keep stopping the rest
                    log(f"stopping {c.name}: {e}")
        if self.upstream is not None:
            self.upstream.stop()
        self.lab.down(quiet=True)
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)


def main(argv: list | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tools/bench/bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=("cache-hit", "cold"), default="cache-hit")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per measurement (default 10)")
    ap.add_argument("--rounds", type=int, default=1, help="interleaved rounds; medians are reported")
    ap.add_argument("--ternd", help="ternd binary (default build/daemon/ternd)")
    ap.add_argument("--ternd-args", default="--config {config}",
                    help="ternd arguments; {config} is the generated YAML (default: '--config {config}')")
    ap.add_argument("--forward", action="store_true",
                    help="both resolvers forward to a third process (an Unbound recursing the lab)")
    ap.add_argument("--compare-unbound-twice", action="store_true",
                    help="sanity check: two identical Unbounds instead of ternd; the ratio should be ~1")
    ap.add_argument("--net", default="127.59", help="lab network 127.N (default 127.59)")
    ap.add_argument("--dir", help="work directory (default: a fresh temp dir, removed at the end)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--clients", type=int, default=8, help="dnsperf -c (default 8)")
    ap.add_argument("--outstanding", type=int, default=100, help="dnsperf -q (default 100)")
    ap.add_argument("--max-qps", type=int,
                    help="dnsperf -Q: offer the same fixed load to every resolver (per CPU-second figures "
                         "depend on load: a busier loop batches more); default: as fast as dnsperf can")
    ap.add_argument("--resolver-cpu", type=int, default=1, help="CPU for the resolvers (default 1)")
    ap.add_argument("--dnsperf-cpu", type=int, default=0, help="CPU for dnsperf (default 0)")
    ap.add_argument("--json", help="also write the summary (all rounds) to this file")
    args = ap.parse_args(argv)
    if args.duration <= 0 or args.duration > 600 or not 1 <= args.rounds <= 20:
        ap.error("--duration must be in (0, 600] and --rounds in 1..20")
    for tool in ("dnsperf", "taskset", "nsd", "unbound", "dig", "ss"):
        if not shutil.which(tool):
            print(f"bench: {tool} is not installed", file=sys.stderr)
            return 2
    if os.geteuid() != 0:
        print("bench: needs root (the lab binds port 53 on 127.x addresses)", file=sys.stderr)
        return 2

    def on_term(signum, frame):
        raise SystemExit(f"bench: signal {signum}, stopping")
    signal.signal(signal.SIGTERM, on_term)

    bench = Bench(args)
    rc = 0
    try:
        bench.setup()
        bench.run()
        s = bench.summary()
        bench.print_summary(s)
        if args.json:
            Path(args.json).write_text(json.dumps(s, indent=1) + "\n")
    except (LabError, TimeoutError, subprocess.TimeoutExpired) as e:
        print(f"bench: {e}", file=sys.stderr)
        rc = 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        rc = 130
    finally:
        bench.teardown()
    return rc


if __name__ == "__main__":
    sys.exit(main())
