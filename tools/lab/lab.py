#!/usr/bin/env python3
"""tools/lab: a mini-Internet of real authoritative servers (NSD) on loopback.

Every "server" is one NSD process bound to its own address NET.X.Y port 53 (NET is 127.53 by
default, so several labs can run at once on 127.54, 127.55, ...). `up` generates the zones and
configs under DIR, starts every server in parallel, waits (bounded) until each answers the SOA of
its first zone, and writes DIR/root.hints and DIR/lab.json. `down` stops the servers by PID and
checks that nothing is left listening on the lab's addresses. `status` says which servers answer.

Address plan (NET = 127.53):
    NET.0.x   root servers (a.root-servers.net, b.root-servers.net)
    NET.1.x   TLD servers: com, net, org, test, two each, glue in the root
    NET.2.x   leaf servers for the feature zones (glue, CNAME chain, DNAME, wildcard, ...)
    NET.3.x   misbehaving: .1 dead (nothing listens), .2 lame (refers back to the same zone),
              .3 answers REFUSED, .4 lame (refers upward)
    NET.4.x   benchmark servers holding the generated zNNNN.bench.test zones
    NET.5.x   free for scripted servers a test runs itself (tests/integration/evilns.py), reached
              through `extra_delegations` (below); never used by the lab
    NET.255.x free for the resolvers under test (Unbound, ternd); never used by the lab

Used three ways:
    tools/lab/lab up|down|status [--dir DIR] [--net 127.53]
    from lab import Lab; lab = Lab(dir, "127.54"); lab.up(); ...; lab.down()
    the helpers re-exported here for integration tests and tools/bench: dig, DigResult,
    check_expectation (dnsutil.py); Unbound, Daemon, wait_until, stop_pid, ternd_config (procs.py)

Files: topology.py (servers, zones, expectations: pure data), dnsutil.py, procs.py, lab.py (this).

lab.json (written by `up`; tests read it):
    servers[]   name, addr, port, role (root|tld|leaf|misbehaving|bench), behaviour, hosts (NS names
                that point at it), zones
    dead[]      addresses listed as NS where nothing listens
    names[]     one expectation each: id, what, qname, qtype, rcode, and optionally
                answer [[owner, type, rdata]...] (compared as a set), answer_ttl (max TTL),
                negative_soa {owner, ttl} (the SOA in the authority section and its TTL),
                min_answer_bytes, needs_tcp, and `unbound` {field: value, why} where Unbound 1.17
                knowingly differs from the correct answer ({skip: true, why} where it is not even
                deterministic); check_expectation() compares a reply with an entry
    bench       the generated zones, the cache-hit query file and the cold-cache wildcard zone
    resolver_addrs  NET.255.x addresses the lab never uses, for resolvers under test
    extra_delegations  {zone: {NS host: address}} given to Lab(..., extra_delegations=...): zones
                the lab delegates (NS + in-bailiwick glue in the parent) to servers it does not
                run, e.g. tests/integration/evilns.py on NET.5.x

Only the Python standard library is used; the DNS work is done by nsd, unbound and dig.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Re-exported: `from lab import dig, Unbound, ...` is the interface for tests and tools/bench.
from dnsutil import (RR, DigResult, check_expectation, dig, fqdn, is_subdomain,  # noqa: E402,F401
                     normalise_rdata, parse_dig)
from procs import (POLL_INTERVAL_S, Daemon, LabError, Unbound, listening_sockets,  # noqa: E402,F401
                   pid_alive, pid_cmdline, proc_cpu_seconds, stop_pid, ternd_config, wait_until)
from topology import BENCH_SERVER_COUNT, Server, Topology, Zone  # noqa: E402,F401

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = REPO_ROOT / ".lab"
DEFAULT_NET = "127.53"
START_TIMEOUT_S = 10.0       # all servers must answer their SOA within this, in total


def parse_net(net: str) -> str:
    """Validates a lab network prefix of the form 127.N and returns it."""
    m = re.fullmatch(r"127\.(\d{1,3})", net.strip())
    if not m or int(m.group(1)) > 255:
        raise ValueError(f"--net must look like 127.N with N in 0..255, got {net!r}")
    return f"127.{int(m.group(1))}"


# ---------------------------------------------------------------------------------------------
# The lab
# ---------------------------------------------------------------------------------------------

class Lab:
    """A set of NSD processes on NET.x.y:53 described by DIR/lab.json.

    lab = Lab("/tmp/mylab", "127.54"); lab.up()   # generates, starts, waits; raises LabError
    lab.info                                      # the dict written to lab.json
    lab.query_counts()                            # {server: queries received} via nsd-control
    lab.down()                                    # stops everything by PID; idempotent
    """

    def __init__(self, dir: str | os.PathLike = DEFAULT_DIR, net: str = DEFAULT_NET,
                 extra_delegations: dict | None = None):
        """extra_delegations: {zone: {NS host: address}} delegated from the lab's zone above it
        to servers outside the lab (see Topology); listed in lab.json."""
        self.dir = Path(dir).resolve()
        self.net = parse_net(net)
        self.extra_delegations = extra_delegations or {}
        self.topo: Topology | None = None
        self.info: dict = {}
        self.startup_seconds: float = 0.0

    # paths
    def _run(self) -> Path:
        return self.dir / "run"

    def _pidfile(self, name: str) -> Path:
        return self._run() / f"{name}.pid"

    def _conf(self, name: str) -> Path:
        return self.dir / "conf" / f"{name}.conf"

    def _log(self, name: str) -> Path:
        return self.dir / "log" / f"{name}.log"

    @property
    def root_hints(self) -> Path:
        return self.dir / "root.hints"

    @property
    def json_path(self) -> Path:
        return self.dir / "lab.json"

    def resolver_addr(self, n: int) -> str:
        """An address reserved for resolvers under test on this lab's network (NET.255.n)."""
        return f"{self.net}.255.{n}"

    # generation
    @staticmethod
    def _write(path: Path, text: str) -> None:
        """Writes text unless the file already holds exactly that (a re-`up` rewrites nothing;
        creating and truncating 1000 files is slow on a busy disk)."""
        try:
            if path.read_text() == text:
                return
        except OSError:
            pass
        path.write_text(text)

    def generate(self) -> None:
        topo = self.topo = Topology(self.net, self.extra_delegations)
        for sub in ("zones", "conf", "log", "run"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        zdir = self.dir / "zones"
        served = {origin for s in topo.servers.values() for origin in s.zones}
        for origin in topo.zones:
            if origin in served:
                self._write(zdir / self._zonefile_name(origin), topo.zonefile(origin))
        for s in topo.servers.values():
            self._write(self._conf(s.name), self._nsd_conf(s))
        hints = ["; root hints for the tern lab on " + self.net]
        for h, addr in topo.root_ns.items():
            hints += [f".\t3600000\tIN\tNS\t{fqdn(h)}", f"{fqdn(h)}\t3600000\tIN\tA\t{addr}"]
        self.root_hints.write_text("\n".join(hints) + "\n")
        self.info = self._describe()
        self.json_path.write_text(json.dumps(self.info, indent=1) + "\n")
        qfile = self.dir / "bench-cache-hit.queries"
        qfile.write_text("".join(f"www.{z} A\n" for z in topo.bench_zones))

    @staticmethod
    def _zonefile_name(origin: str) -> str:
        return "root.zone" if origin == "." else origin.rstrip(".") + ".zone"

    def _nsd_conf(self, s: Server) -> str:
        run, name = self._run(), s.name
        zones = []
        for origin in s.zones:
            zones.append(f"zone:\n  name: \"{origin}\"\n  zonefile: \"{self._zonefile_name(origin)}\"\n")
        return f"""# generated by tools/lab: {name} ({s.role}) {s.behaviour}
server:
  ip-address: {s.addr}
  port: 53
  do-ip4: yes
  do-ip6: no
  server-count: 1
  reuseport: no
  username: ""
  chroot: ""
  database: ""
  zonesdir: "{self.dir / 'zones'}"
  zonelistfile: "{run / (name + '.zonelist')}"
  xfrdfile: "{run / (name + '.xfrd.state')}"
  xfrdir: "{run}"
  pidfile: "{run / (name + '.nsd.pid')}"
  logfile: "{self._log(name)}"
  verbosity: 0
  hide-version: yes
  identity: "{name}"
  rrl-ratelimit: 0
  refuse-any: no
  tcp-count: 200
remote-control:
  control-enable: yes
  control-interface: "{run / (name + '.ctl')}"
""" + "".join(zones)

    def _describe(self) -> dict:
        t = self.topo
        servers = []
        for s in t.servers.values():
            hosts = sorted(h for h, a in t.hosts.items() if a == s.addr)
            servers.append(dict(name=s.name, addr=s.addr, port=53, role=s.role, behaviour=s.behaviour,
                                hosts=hosts, zones=s.zones if s.role != "bench" else
                                [f"{len(s.zones)} zones, e.g. {s.zones[0]}"]))
        return dict(
            net=self.net, dir=str(self.dir), root_hints=str(self.root_hints),
            resolver_addrs=dict(note="NET.255.x is never used by the lab: put resolvers there",
                                unbound=self.resolver_addr(1), ternd=self.resolver_addr(2)),
            servers=servers, dead=t.dead, names=t.names,
            extra_delegations=t.extra_delegations,
            negative_ttl_rule="RFC 2308: min(SOA TTL, SOA MINIMUM); the SOA in negative answers "
                              "carries that TTL",
            bench=dict(zone_count=len(t.bench_zones), zone_pattern="zNNNN.bench.test. (NNNN 0000..%04d)"
                       % (len(t.bench_zones) - 1), servers=[f"bench-{j}" for j in range(BENCH_SERVER_COUNT)],
                       zone_contents="SOA, 2 NS, apex A/MX/TXT, www A/AAAA, mail A, * A",
                       cache_hit_queries=str(self.dir / "bench-cache-hit.queries"),
                       cold_wildcard_zone="wild.test.",
                       cold_note="every <unique>.wild.test A is a fresh cache miss answered from *.wild.test"),
        )

    # lifecycle
    def up(self) -> float:
        """Generates and starts the lab; returns the start-up time in seconds. Raises LabError."""
        t0 = time.monotonic()
        self.down(quiet=True)
        self.generate()
        busy = listening_sockets(self.net, self.addresses())
        if busy:
            raise LabError(f"something already listens on this lab's addresses: {busy}")
        checks = {s.name: subprocess.Popen(["nsd-checkconf", str(self._conf(s.name))], stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT, text=True)
                  for s in self.topo.servers.values()}
        for name, c in checks.items():
            out, _ = c.communicate(timeout=30)
            if c.returncode != 0:
                raise LabError(f"nsd-checkconf failed for {name}: {out}")
        procs = {}
        try:
            for s in self.topo.servers.values():
                self._log(s.name).write_text("")
                out = open(self.dir / "log" / f"{s.name}.out", "wb")
                p = subprocess.Popen(["nsd", "-d", "-c", str(self._conf(s.name))], stdin=subprocess.DEVNULL,
                                     stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
                out.close()
                procs[s.name] = p
                self._pidfile(s.name).write_text(f"{p.pid}\n")
            self._wait_ready(procs, t0 + START_TIMEOUT_S)
        except BaseException:
            self.down(quiet=True)
            raise
        self.startup_seconds = time.monotonic() - t0
        return self.startup_seconds

    def _wait_ready(self, procs: dict, deadline: float) -> None:
        pending = dict(procs)
        while pending:
            for name, p in list(pending.items()):
                if p.poll() is not None:
                    raise LabError(f"server {name} exited with {p.returncode} during start-up:\n"
                                   + self._logtail(name))
            checks = {name: subprocess.Popen(self._health_cmd(name), stdout=subprocess.PIPE,
                                             stderr=subprocess.DEVNULL, text=True)
                      for name in pending}
            for name, c in checks.items():
                try:
                    out, _ = c.communicate(timeout=max(0.5, deadline - time.monotonic() + 1))
                except subprocess.TimeoutExpired:
                    c.kill()
                    c.communicate()
                    continue
                res = parse_dig(out)
                if res.ok and res.rcode == "NOERROR" and "aa" in res.flags:
                    del pending[name]
            if pending and time.monotonic() >= deadline:
                name = sorted(pending)[0]
                raise LabError(f"servers {sorted(pending)} did not answer their SOA within "
                               f"{START_TIMEOUT_S}s; log of {name}:\n" + self._logtail(name))
            if pending:
                time.sleep(POLL_INTERVAL_S)

    def _health_cmd(self, name: str) -> list:
        s = self.topo.servers[name] if self.topo else None
        addr, zone = (s.addr, s.zones[0]) if s else (None, None)
        return ["dig", f"@{addr}", "-p", "53", "-t", "SOA", "-q", zone, "+norec", "+time=1", "+tries=1",
                "+noall", "+comments"]

    def _logtail(self, name: str) -> str:
        parts = []
        for f in (self._log(name), self.dir / "log" / f"{name}.out"):
            try:
                parts.append(f"--- {f}\n" + "\n".join(f.read_text(errors="replace").splitlines()[-20:]))
            except OSError:
                pass
        return "\n".join(parts)

    def pids(self) -> dict:
        """{server name: pid} from the pid files in DIR/run (servers started by any process)."""
        out = {}
        run = self._run()
        if run.is_dir():
            for f in sorted(run.glob("*.pid")):
                if f.name.endswith(".nsd.pid"):
                    continue
                try:
                    out[f.stem] = int(f.read_text().strip())
                except (OSError, ValueError):
                    pass
        return out

    def down(self, quiet: bool = False) -> None:
        """Stops every server recorded in DIR/run by PID and checks nothing listens on NET.*."""
        errors = []
        for name, pid in self.pids().items():
            try:
                stop_pid(pid, str(self._conf(name)), f"lab server {name}")
            except RuntimeError as e:
                errors.append(str(e))
                continue
            for f in (self._pidfile(name), self._run() / f"{name}.nsd.pid", self._run() / f"{name}.ctl"):
                try:
                    f.unlink()
                except FileNotFoundError:
                    pass
        if errors:
            raise LabError("; ".join(errors))
        if not quiet:
            left = []
            addrs = self.addresses()
            for _ in range(50):   # bounded: sockets close with their process, give it 1 s
                left = listening_sockets(self.net, addrs)
                if not left:
                    break
                time.sleep(0.02)
            if left:
                raise LabError(f"still listening on the lab's addresses after down: {left}")

    def addresses(self) -> set:
        """Every address the lab uses: its servers and the dead server (nothing must listen there)."""
        topo = self.topo or Topology(self.net)
        return {s.addr for s in topo.servers.values()} | {d["addr"] for d in topo.dead}

    def load_info(self) -> dict:
        """Reads DIR/lab.json (for a lab started by another process)."""
        self.info = json.loads(self.json_path.read_text())
        return self.info

    def status(self) -> list:
        """[(server, addr, pid or None, answers: bool)] for every server in lab.json."""
        info = self.info or self.load_info()
        pids = self.pids()
        rows = []
        for s in info["servers"]:
            zone = s["zones"][0] if s["role"] != "bench" else s["zones"][0].split()[-1]
            res = dig(s["addr"], zone, "SOA", recurse=False, timeout=1)
            pid = pids.get(s["name"])
            rows.append((s["name"], s["addr"], pid if pid and pid_alive(pid) else None,
                         res.ok and res.rcode == "NOERROR" and "aa" in res.flags))
        return rows

    def query_counts(self) -> dict:
        """{server name: number of queries it has received} from `nsd-control stats_noreset`.

        Use the difference of two calls to count upstream queries a resolver sent to the lab."""
        out = {}
        names = [s["name"] for s in (self.info or self.load_info())["servers"]]
        procs = {n: subprocess.Popen(["nsd-control", "-c", str(self._conf(n)), "stats_noreset"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in names}
        for n, p in procs.items():
            so, se = p.communicate(timeout=10)
            m = re.search(r"^num\.queries=(\d+)$", so, re.M)
            if p.returncode != 0 or not m:
                raise LabError(f"nsd-control stats for {n} failed: {so}{se}")
            out[n] = int(m.group(1))
        return out


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------

def main(argv: list | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tools/lab/lab", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=("up", "down", "status"))
    ap.add_argument("--dir", default=str(DEFAULT_DIR), help="lab directory (default: .lab/ in the repo)")
    ap.add_argument("--net", default=DEFAULT_NET, help="network prefix 127.N (default 127.53)")
    args = ap.parse_args(argv)
    try:
        lab = Lab(args.dir, args.net)
    except ValueError as e:
        print(f"lab: {e}", file=sys.stderr)
        return 2
    try:
        if args.command == "up":
            secs = lab.up()
            t = lab.topo
            print(f"lab up in {secs:.2f}s: {len(t.servers)} NSD servers on {lab.net}.*, "
                  f"{len(t.zones)} zones ({len(t.bench_zones)} bench zones)")
            print(f"root hints: {lab.root_hints}\ndescription: {lab.json_path}")
            print(f"resolvers under test may use {lab.net}.255.1 .. {lab.net}.255.254")
        elif args.command == "down":
            lab.down()
            print(f"lab down: nothing listens on the lab's {len(lab.addresses())} addresses in {lab.net}.*")
        else:
            if not lab.json_path.exists():
                print(f"no lab in {lab.dir}")
                return 1
            bad = 0
            for name, addr, pid, ok in lab.status():
                bad += not ok
                print(f"{name:10} {addr:15} pid {pid or '-':>7}  {'answers' if ok else 'NOT ANSWERING'}")
            for d in lab.info.get("dead", []):
                print(f"{d['name']:10} {d['addr']:15} (dead by design: nothing listens)")
            return 1 if bad else 0
    except (LabError, TimeoutError) as e:
        print(f"lab: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
