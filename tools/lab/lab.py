#!/usr/bin/env python3
"""tools/lab: a mini-Internet of real authoritative servers (NSD) on loopback.

Every "server" is one NSD process bound to its own address NET.X.Y port 53 (NET is 127.53 by
default, so several labs can run at once on 127.54, 127.55, ...). `up` generates the zones and
configs under DIR, starts every server in parallel, waits (bounded) until each answers the SOA of
its first zone, and writes DIR/root.hints and DIR/lab.json. `down` stops the servers by PID and
checks that nothing is left listening on NET.*. `status` says which servers answer.

Address plan (NET = 127.53):
    NET.0.x   root servers (a.root-servers.net, b.root-servers.net)
    NET.1.x   TLD servers: com, net, org, test, two each, glue in the root
    NET.2.x   leaf servers for the feature zones (glue, CNAME chain, DNAME, wildcard, ...)
    NET.3.x   misbehaving: .1 dead (nothing listens), .2 lame, .3 answers REFUSED
    NET.4.x   benchmark servers holding the generated zNNNN.bench.test zones
    NET.255.x free for the resolvers under test (Unbound, ternd); never used by the lab

Used three ways:
    tools/lab/lab up|down|status [--dir DIR] [--net 127.53]
    from lab import Lab; lab = Lab(dir, "127.54"); lab.up(); ...; lab.down()
    the helpers below (dig, DigResult, check_expectation, Unbound, Daemon, wait_until) for
    integration tests and tools/bench.

lab.json (written by `up`; tests read it):
    servers[]   name, addr, port, role (root|tld|leaf|misbehaving|bench), behaviour, hosts (NS names
                that point at it), zones
    dead[]      addresses listed as NS where nothing listens
    names[]     one expectation each: id, what, qname, qtype, rcode, and optionally
                answer [[owner, type, rdata]...] (compared as a set), answer_ttl (max TTL),
                negative_soa {owner, ttl} (the SOA in the authority section and its TTL),
                min_answer_bytes, needs_tcp, and `unbound` {field: value, why} where Unbound 1.17
                knowingly differs from the correct answer (check_expectation() compares a reply)
    bench       the generated zones, the cache-hit query file and the cold-cache wildcard zone
    resolver_addrs  NET.255.x addresses the lab never uses, for resolvers under test

Only the Python standard library is used; the DNS work is done by nsd, unbound and dig.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = REPO_ROOT / ".lab"
DEFAULT_NET = "127.53"

# Budgets (every wait in this file is bounded by one of these).
START_TIMEOUT_S = 10.0       # all servers must answer their SOA within this, in total
STOP_TERM_GRACE_S = 3.0      # after SIGTERM, wait this long before SIGKILL
STOP_KILL_GRACE_S = 2.0      # after SIGKILL, wait this long before giving up loudly
POLL_INTERVAL_S = 0.05

BENCH_ZONE_COUNT = 1000
BENCH_SERVER_COUNT = 4

# Negative-caching parameters, chosen so min(SOA TTL, SOA MINIMUM) differs between zones
# (RFC 2308 §5: the negative TTL is the minimum of the two).
NEG_SOA_TTL, NEG_SOA_MIN = 3600, 300        # neg.test: negative TTL 300 (MINIMUM wins)
NEGMIN_SOA_TTL, NEGMIN_SOA_MIN = 120, 600   # negmin.test: negative TTL 120 (SOA TTL wins)
DEFAULT_TTL = 3600
SHORT_TTL = 5
BIG_TXT_STRINGS = 6                         # 6 x 250-byte strings: > 1232 bytes, needs TCP
BIG_TXT_LEN = 250


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------

def fqdn(name: str) -> str:
    """Lower-case, absolute form of a domain name ("www.Example.com" -> "www.example.com.")."""
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


def is_subdomain(name: str, zone: str) -> bool:
    """True if name is zone or below it (both absolute)."""
    name, zone = fqdn(name), fqdn(zone)
    return zone == "." or name == zone or name.endswith("." + zone)


def parse_net(net: str) -> str:
    """Validates a lab network prefix of the form 127.N and returns it."""
    m = re.fullmatch(r"127\.(\d{1,3})", net.strip())
    if not m or int(m.group(1)) > 255:
        raise ValueError(f"--net must look like 127.N with N in 0..255, got {net!r}")
    return f"127.{int(m.group(1))}"


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = POLL_INTERVAL_S,
               what: str = "condition") -> None:
    """Polls predicate() until it returns True; raises TimeoutError naming `what` after timeout.

    The loop is bounded in time (timeout) and therefore in count (timeout / interval + 1)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


def pid_alive(pid: int) -> bool:
    """True if a process with this PID exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode(errors="replace")
    except OSError:
        return False
    state = stat[stat.rfind(")") + 2:].split(" ", 1)[0]
    return state not in ("Z", "X")


def pid_cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read().decode(errors="replace")
    fields = stat[stat.rfind(")") + 2:].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def stop_pid(pid: int, must_contain: str, what: str) -> None:
    """Stops one process we started: SIGTERM, then SIGKILL after a bound.

    The process is only signalled if its command line contains `must_contain` (guards against a
    recycled PID). Reaps it if it is our child. Raises RuntimeError if it survives SIGKILL."""
    if not pid_alive(pid):
        _reap(pid)
        return
    if must_contain not in " ".join(pid_cmdline(pid)):
        return  # PID was recycled by something else: not ours to kill
    for sig, grace in ((signal.SIGTERM, STOP_TERM_GRACE_S), (signal.SIGKILL, STOP_KILL_GRACE_S)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            _reap(pid)
            if not pid_alive(pid):
                return
            time.sleep(0.02)
    raise RuntimeError(f"{what} (pid {pid}) survived SIGKILL")


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def listening_sockets(prefix: str, addrs: Iterable[str] | None = None) -> list[str]:
    """Local UDP/TCP listening sockets on an address starting with prefix + '.' (via `ss`),
    restricted to the addresses in addrs if given. Entries look like "udp 127.53.0.1:53"."""
    out = subprocess.run(["ss", "-Hlntu"], capture_output=True, text=True, timeout=10).stdout
    wanted = set(addrs) if addrs is not None else None
    found = []
    for line in out.splitlines():
        cols = line.split()
        if len(cols) < 5 or not cols[4].startswith(prefix + "."):
            continue
        if wanted is not None and cols[4].rsplit(":", 1)[0] not in wanted:
            continue
        found.append(f"{cols[0]} {cols[4]}")
    return found


# ---------------------------------------------------------------------------------------------
# dig wrapper
# ---------------------------------------------------------------------------------------------

@dataclass
class RR:
    """One resource record as dig prints it; owner and type normalised, rdata as text."""
    owner: str
    ttl: int
    rclass: str
    rtype: str
    rdata: str

    def key(self) -> tuple[str, str, str]:
        return (fqdn(self.owner), self.rtype.upper(), normalise_rdata(self.rtype, self.rdata))


@dataclass
class DigResult:
    """A parsed dig reply. `ok` is False when no reply arrived (timeout, refused connection).

    rcode: "NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", ...; flags: {"qr","aa","rd","ra","tc",...};
    answer/authority/additional: lists of RR; protocol: "UDP" or "TCP" (the transport of the
    reply dig printed); size: message size in bytes; raw: dig's full output (for messages)."""
    ok: bool
    rcode: str = ""
    flags: set = field(default_factory=set)
    answer: list = field(default_factory=list)
    authority: list = field(default_factory=list)
    additional: list = field(default_factory=list)
    protocol: str = ""
    size: int = 0
    raw: str = ""

    def rrs(self, rtype: str, section: str = "answer") -> list:
        return [rr for rr in getattr(self, section) if rr.rtype == rtype.upper()]


def normalise_rdata(rtype: str, rdata: str) -> str:
    """Canonical text for comparing RDATA: names lower-cased and absolute, spaces collapsed."""
    rtype = rtype.upper()
    rdata = " ".join(rdata.split())
    if rtype in ("NS", "CNAME", "DNAME", "PTR"):
        return fqdn(rdata)
    if rtype == "MX":
        pref, _, host = rdata.partition(" ")
        return f"{int(pref)} {fqdn(host)}"
    if rtype == "SOA":
        parts = rdata.split(" ")
        return " ".join([fqdn(parts[0]), fqdn(parts[1])] + parts[2:])
    if rtype == "AAAA":
        import ipaddress
        return str(ipaddress.IPv6Address(rdata))
    return rdata


def parse_dig(text: str) -> DigResult:
    """Parses the output of `dig +noall +comments +answer +authority +additional +stats`."""
    res = DigResult(ok=False, raw=text)
    section = None
    for line in text.splitlines():
        line = line.rstrip()
        if not line:
            continue
        m = re.match(r";; ->>HEADER<<- opcode: \S+, status: (\S+), id: \d+", line)
        if m:
            res.ok = True
            res.rcode = m.group(1)
            # dig prints one header per reply it got (e.g. UDP truncated, then TCP): keep the last.
            res.flags, res.answer, res.authority, res.additional = set(), [], [], []
            section = None
            continue
        m = re.match(r";; flags:([^;]*);", line)
        if m:
            res.flags = set(m.group(1).split())
            continue
        m = re.match(r";; (ANSWER|AUTHORITY|ADDITIONAL) SECTION:", line)
        if m:
            section = m.group(1).lower()
            continue
        m = re.match(r";; SERVER: \S+ \((UDP|TCP)\)", line)
        if m:
            res.protocol = m.group(1)
            continue
        m = re.match(r";; MSG SIZE\s+rcvd: (\d+)", line)
        if m:
            res.size = int(m.group(1))
            continue
        if line.startswith(";"):
            if not line.startswith(";;"):
                continue  # OPT pseudosection content (; EDNS: ...)
            section = None if "SECTION" in line or "PSEUDOSECTION" in line else section
            continue
        if section:
            parts = line.split(None, 4)
            if len(parts) >= 4:
                rdata = parts[4] if len(parts) == 5 else ""
                getattr(res, section).append(RR(fqdn(parts[0]), int(parts[1]), parts[2].upper(),
                                                parts[3].upper(), rdata))
    return res


def dig(server: str, qname: str, qtype: str = "A", port: int = 53, *, tcp: bool = False,
        recurse: bool = True, bufsize: int | None = None, ignore_tc: bool = False,
        timeout: float = 2.0, tries: int = 1, qclass: str = "IN", extra: Iterable[str] = ()) -> DigResult:
    """Sends one query with dig to server:port and returns the parsed reply.

    Never raises for DNS failures: a missing reply gives DigResult(ok=False). dig retries over TCP
    by itself when a UDP reply is truncated, unless ignore_tc=True (then you see the TC reply)."""
    cmd = ["dig", f"@{server}", "-p", str(port), "-c", qclass, "-t", qtype, "-q", qname,
           "+noall", "+comments", "+answer", "+authority", "+additional", "+stats",
           f"+time={max(1, int(round(timeout)))}", f"+tries={tries}",
           "+tcp" if tcp else "+notcp", "+rec" if recurse else "+norec"]
    if bufsize is not None:
        cmd.append(f"+bufsize={bufsize}")
    if ignore_tc:
        cmd.append("+ignore")
    cmd.extend(extra)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=timeout * tries * 2 + 5).stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return DigResult(ok=False, raw=out)
    return parse_dig(out)


def check_expectation(exp: dict, res: DigResult, fresh: bool = True) -> list[str]:
    """Compares a reply with one entry of lab.json "names"; returns a list of problems ([] = ok).

    fresh=True also checks that TTLs are close to the zone's (first query through a cold cache).
    Keys used: rcode, answer ([owner,type,rdata] list, compared as a set), answer_ttl,
    negative_soa ({owner, ttl}), min_answer_bytes."""
    problems = []
    if not res.ok:
        return ["no reply: " + res.raw.strip().replace("\n", " | ")[-300:]]
    if res.rcode != exp["rcode"]:
        problems.append(f"rcode {res.rcode}, expected {exp['rcode']}")
    if "answer" in exp:
        want = {(fqdn(o), t.upper(), normalise_rdata(t, r)) for o, t, r in exp["answer"]}
        got = {rr.key() for rr in res.answer}
        if want != got:
            problems.append(f"answer mismatch: missing {sorted(want - got)} unexpected {sorted(got - want)}")
    if "answer_ttl" in exp:
        for rr in res.answer:
            if rr.ttl > exp["answer_ttl"] or (fresh and rr.ttl < exp["answer_ttl"] - 30 and exp["answer_ttl"] > 30):
                problems.append(f"{rr.owner} {rr.rtype} TTL {rr.ttl}, expected <= {exp['answer_ttl']}")
    if "negative_soa" in exp:
        want_owner, want_ttl = fqdn(exp["negative_soa"]["owner"]), exp["negative_soa"]["ttl"]
        soas = res.rrs("SOA", "authority")
        if res.answer:
            problems.append(f"negative answer has {len(res.answer)} answer records")
        if len(soas) != 1 or soas[0].owner != want_owner:
            problems.append(f"expected one SOA {want_owner} in authority, got {[r.owner for r in soas]}")
        else:
            ttl = soas[0].ttl
            if ttl > want_ttl or (fresh and ttl < want_ttl - 30):
                problems.append(f"negative TTL (SOA TTL in authority) {ttl}, expected {want_ttl}")
    if "min_answer_bytes" in exp:
        total = sum(len(rr.rdata) for rr in res.answer)
        if total < exp["min_answer_bytes"]:
            problems.append(f"answer rdata text is {total} bytes, expected >= {exp['min_answer_bytes']}")
    return problems


# ---------------------------------------------------------------------------------------------
# Topology
# ---------------------------------------------------------------------------------------------

@dataclass
class Zone:
    origin: str
    ns: list                      # apex NS host names
    servers: list                 # names of Server objects serving the zone
    records: list = field(default_factory=list)   # (owner, ttl, type, rdata)
    soa_ttl: int = DEFAULT_TTL
    soa_min: int = 300

    def add(self, owner: str, rtype: str, rdata: str, ttl: int = DEFAULT_TTL) -> None:
        self.records.append((fqdn(owner), ttl, rtype.upper(), rdata))


@dataclass
class Server:
    name: str                     # short id, e.g. "root-a"
    addr: str
    role: str
    behaviour: str                # what it does, for lab.json
    zones: list = field(default_factory=list)   # origins, in load order (first = health check)


class Topology:
    """Builds the servers, zones and expected answers of a lab on network `net` (e.g. 127.53)."""

    def __init__(self, net: str):
        self.net = net
        self.servers: dict[str, Server] = {}
        self.zones: dict[str, Zone] = {}
        self.hosts: dict[str, str] = {}       # NS host name -> address
        self.dead: list[dict] = []
        self.names: list[dict] = []
        self._build()

    def a(self, x: int, y: int) -> str:
        return f"{self.net}.{x}.{y}"

    def server(self, name: str, addr: str, role: str, behaviour: str) -> Server:
        s = Server(name, addr, role, behaviour)
        self.servers[name] = s
        return s

    def zone(self, origin: str, ns_hosts: dict, servers: list, **kw) -> Zone:
        """Adds a zone whose apex NS are ns_hosts (host -> address) and which `servers` serve."""
        origin = fqdn(origin)
        z = Zone(origin, [fqdn(h) for h in ns_hosts], list(servers), **kw)
        for h, addr in ns_hosts.items():
            self.hosts[fqdn(h)] = addr
        self.zones[origin] = z
        for s in servers:
            self.servers[s].zones.append(origin)
        return z

    def expect(self, id_: str, what: str, qname: str, qtype: str, rcode: str = "NOERROR", **kw) -> None:
        self.names.append(dict(id=id_, what=what, qname=fqdn(qname), qtype=qtype, rcode=rcode, **kw))

    def _build(self) -> None:
        a = self.a
        # Servers ------------------------------------------------------------------------------
        self.server("root-a", a(0, 1), "root", "authoritative for . and root-servers.net")
        self.server("root-b", a(0, 2), "root", "authoritative for . and root-servers.net")
        for i, tld in enumerate(("com", "net", "org", "test")):
            for j, ab in enumerate("ab"):
                self.server(f"{tld}-{ab}", a(1, 2 * i + j + 1), "tld", f"authoritative for {tld}.")
        for j, ab in enumerate("abcd"):
            self.server(f"leaf-{ab}", a(2, j + 1), "leaf", "authoritative for leaf zones")
        self.dead.append(dict(name="dead", addr=a(3, 1), host="ns1.dead.test.",
                              behaviour="nothing listens on this address (UDP gets ICMP port "
                                        "unreachable, TCP gets RST)"))
        self.server("lame", a(3, 2), "misbehaving",
                    "lame: listed as NS for lame.test and lameonly.test but serves only a copy of "
                    "the parent zone test., so it answers with a non-authoritative referral back to "
                    "the same zone cut (no progress)")
        self.server("lame-up", a(3, 4), "misbehaving",
                    "lame: listed as NS for lame.test and lameuponly.test but serves only a copy of "
                    "the root zone, so it answers with a non-authoritative upward referral to the "
                    "test. servers")
        self.server("refused", a(3, 3), "misbehaving",
                    "listed as NS for refused.test and refusedonly.test but does not serve them: "
                    "NSD answers REFUSED for every zone but refuser.invalid.")
        for j in range(BENCH_SERVER_COUNT):
            self.server(f"bench-{j}", a(4, j + 1), "bench", "authoritative for generated zNNNN.bench.test zones")

        roots = {"a.root-servers.net": a(0, 1), "b.root-servers.net": a(0, 2)}
        self.root_ns = roots
        self.zone(".", roots, ["root-a", "root-b"])
        self.zone("root-servers.net", roots, ["root-a", "root-b"])
        for tld in ("com", "net", "org", "test"):
            sa, sb = self.servers[f"{tld}-a"], self.servers[f"{tld}-b"]
            self.zone(tld, {f"a.nic.{tld}": sa.addr, f"b.nic.{tld}": sb.addr}, [sa.name, sb.name])

        la, lb, lc, ld = (self.servers[f"leaf-{x}"].addr for x in "abcd")
        ab, cd = ["leaf-a", "leaf-b"], ["leaf-c", "leaf-d"]

        # In-bailiwick glue, short TTL, big TXT ---------------------------------------------
        z = self.zone("glue.com", {"ns1.glue.com": la, "ns2.glue.com": lb}, ab)
        z.add("www.glue.com", "A", "192.0.2.1")
        z.add("www.glue.com", "AAAA", "2001:db8::1")
        self.expect("in-bailiwick-glue", "glue.com is delegated from com to ns1/ns2.glue.com with glue",
                    "www.glue.com", "A", answer=[["www.glue.com.", "A", "192.0.2.1"]], answer_ttl=DEFAULT_TTL)
        z.add("short.glue.com", "A", "192.0.2.7", ttl=SHORT_TTL)
        self.expect("ttl-5", f"a record with TTL {SHORT_TTL}", "short.glue.com", "A",
                    answer=[["short.glue.com.", "A", "192.0.2.7"]], answer_ttl=SHORT_TTL)
        big = []
        for i in range(BIG_TXT_STRINGS):
            s = f"big{i}-" + "".join(chr(ord("a") + (i * 7 + k) % 26) for k in range(BIG_TXT_LEN - 5))
            z.add("big.glue.com", "TXT", f'"{s}"')
            big.append(["big.glue.com.", "TXT", f'"{s}"'])
        self.expect("big-txt", f"TXT RRset of {BIG_TXT_STRINGS} x {BIG_TXT_LEN} bytes: larger than 1232, "
                    "truncated over UDP with a 1232-byte buffer, complete over TCP",
                    "big.glue.com", "TXT", answer=big, min_answer_bytes=BIG_TXT_STRINGS * BIG_TXT_LEN,
                    needs_tcp=True)

        # Out-of-bailiwick NS without glue ---------------------------------------------------
        z = self.zone("hosting.net", {"ns1.hosting.net": la, "ns2.hosting.net": lb}, ab)
        z.add("ns.hosting.net", "A", lc)
        z.add("ns-b.hosting.net", "A", ld)
        z.add("www.hosting.net", "A", "192.0.2.10")
        z = self.zone("oob.org", {"ns.hosting.net": lc, "ns-b.hosting.net": ld}, cd)
        z.add("www.oob.org", "A", "192.0.2.2")
        self.expect("out-of-bailiwick-ns", "oob.org is delegated to ns.hosting.net / ns-b.hosting.net "
                    "(in net) with no glue: the NS names must be resolved first",
                    "www.oob.org", "A", answer=[["www.oob.org.", "A", "192.0.2.2"]])

        # CNAME chain across three zones -----------------------------------------------------
        z = self.zone("x.com", {"ns1.x.com": la, "ns2.x.com": lb}, ab)
        z.add("a.x.com", "CNAME", "b.y.net.")
        z = self.zone("y.net", {"ns1.y.net": lc, "ns2.y.net": ld}, cd)
        z.add("b.y.net", "CNAME", "c.z.org.")
        z = self.zone("z.org", {"ns1.z.org": la, "ns2.z.org": lb}, ab)
        z.add("c.z.org", "A", "192.0.2.3")
        self.expect("cname-chain", "a.x.com -> b.y.net -> c.z.org -> A: three zones in three TLDs, "
                    "x.com/z.org on leaf-a/b, y.net on leaf-c/d", "a.x.com", "A",
                    answer=[["a.x.com.", "CNAME", "b.y.net."], ["b.y.net.", "CNAME", "c.z.org."],
                            ["c.z.org.", "A", "192.0.2.3"]])

        # DNAME ------------------------------------------------------------------------------
        z = self.zone("dn.test", {"ns1.dn.test": la, "ns2.dn.test": lb}, ab)
        z.add("legacy.dn.test", "DNAME", "glue.com.")
        self.expect("dname", "legacy.dn.test DNAME glue.com.: www.legacy.dn.test is synthesised as a "
                    "CNAME to www.glue.com", "www.legacy.dn.test", "A",
                    answer=[["legacy.dn.test.", "DNAME", "glue.com."],
                            ["www.legacy.dn.test.", "CNAME", "www.glue.com."],
                            ["www.glue.com.", "A", "192.0.2.1"]])

        # Wildcard (also the cold-cache benchmark zone) -------------------------------------
        z = self.zone("wild.test", {"ns1.wild.test": lc, "ns2.wild.test": ld}, cd)
        z.add("*.wild.test", "A", "192.0.2.5")
        z.add("*.wild.test", "TXT", '"wildcard"')
        z.add("exact.wild.test", "A", "192.0.2.55")
        self.expect("wildcard", "*.wild.test A 192.0.2.5: any name below wild.test is synthesised",
                    "q7rvk2.wild.test", "A", answer=[["q7rvk2.wild.test.", "A", "192.0.2.5"]])
        self.expect("wildcard-exact", "an existing name next to the wildcard is not synthesised",
                    "exact.wild.test", "A", answer=[["exact.wild.test.", "A", "192.0.2.55"]])
        self.expect("wildcard-nodata", "the wildcard has A and TXT but no AAAA: NODATA",
                    "any.wild.test", "AAAA", negative_soa=dict(owner="wild.test.", ttl=300))

        # Negative answers, empty non-terminal ----------------------------------------------
        z = self.zone("neg.test", {"ns1.neg.test": la, "ns2.neg.test": lb}, ab,
                      soa_ttl=NEG_SOA_TTL, soa_min=NEG_SOA_MIN)
        z.add("www.neg.test", "A", "192.0.2.8")
        z.add("host.ent.neg.test", "A", "192.0.2.9")
        neg = dict(owner="neg.test.", ttl=min(NEG_SOA_TTL, NEG_SOA_MIN))
        self.expect("nxdomain", f"name does not exist; SOA TTL {NEG_SOA_TTL}, MINIMUM {NEG_SOA_MIN}",
                    "nx.neg.test", "A", rcode="NXDOMAIN", negative_soa=neg)
        self.expect("nodata", "www.neg.test has an A but no AAAA", "www.neg.test", "AAAA", negative_soa=neg)
        self.expect("empty-non-terminal", "ent.neg.test has no records but host.ent.neg.test exists: "
                    "NOERROR with no answer, not NXDOMAIN", "ent.neg.test", "A", negative_soa=neg)
        self.expect("ent-leaf", "the name below the empty non-terminal", "host.ent.neg.test", "A",
                    answer=[["host.ent.neg.test.", "A", "192.0.2.9"]])
        z = self.zone("negmin.test", {"ns1.negmin.test": la, "ns2.negmin.test": lb}, ab,
                      soa_ttl=NEGMIN_SOA_TTL, soa_min=NEGMIN_SOA_MIN)
        z.add("www.negmin.test", "A", "192.0.2.11")
        self.expect("nxdomain-soa-ttl-wins", f"SOA TTL {NEGMIN_SOA_TTL} < MINIMUM {NEGMIN_SOA_MIN}: "
                    f"negative TTL {min(NEGMIN_SOA_TTL, NEGMIN_SOA_MIN)}", "nx.negmin.test", "A",
                    rcode="NXDOMAIN", negative_soa=dict(owner="negmin.test.",
                                                        ttl=min(NEGMIN_SOA_TTL, NEGMIN_SOA_MIN)))

        # Dead, lame, REFUSED ----------------------------------------------------------------
        dead, lame, refused, lameup = a(3, 1), a(3, 2), a(3, 3), a(3, 4)
        z = self.zone("dead.test", {"ns1.dead.test": dead, "ns2.dead.test": lb}, ["leaf-b"])
        z.add("www.dead.test", "A", "192.0.2.20")
        self.expect("dead-server", f"dead.test NS ns1.dead.test ({dead}, nothing listening) and "
                    f"ns2.dead.test ({lb}, live)", "www.dead.test", "A",
                    answer=[["www.dead.test.", "A", "192.0.2.20"]])
        z = self.zone("lame.test", {"ns1.lame.test": lame, "ns2.lame.test": la, "ns3.lame.test": lameup},
                      ["leaf-a"])
        z.add("www.lame.test", "A", "192.0.2.21")
        self.expect("lame-and-live", f"lame.test NS ns1.lame.test ({lame}, lame: referral to itself), "
                    f"ns2.lame.test ({la}, live) and ns3.lame.test ({lameup}, lame: upward referral)",
                    "www.lame.test", "A", answer=[["www.lame.test.", "A", "192.0.2.21"]])
        self.zone("lameonly.test", {"ns1.lameonly.test": lame}, [])
        self.expect("lame-only", "lameonly.test has only the lame server, which refers back to "
                    "lameonly.test itself (no progress): no answer can be had", "www.lameonly.test", "A",
                    rcode="SERVFAIL",
                    unbound=dict(rcode="NOERROR", answer=[],
                                 why="Unbound 1.17 scrubs the same-zone NS RRset as 'promiscuous' and "
                                     "then classifies the empty non-AA reply as NODATA"))
        self.zone("lameuponly.test", {"ns1.lameuponly.test": lameup}, [])
        self.expect("lame-up-only", "lameuponly.test has only the lame server that refers upward to "
                    "the test. servers: no answer can be had", "www.lameuponly.test", "A", rcode="SERVFAIL")
        z = self.zone("refused.test", {"ns1.refused.test": refused, "ns2.refused.test": lb}, ["leaf-b"])
        z.add("www.refused.test", "A", "192.0.2.22")
        self.expect("refused-and-live", f"refused.test NS ns1.refused.test ({refused}, REFUSED) and "
                    f"ns2.refused.test ({lb}, live)", "www.refused.test", "A",
                    answer=[["www.refused.test.", "A", "192.0.2.22"]])
        self.zone("refusedonly.test", {"ns1.refusedonly.test": refused}, [])
        self.expect("refused-only", "refusedonly.test has only the REFUSED server", "www.refusedonly.test",
                    "A", rcode="SERVFAIL")
        # The lame server serves the parent zone test. (filled in by _finish); the REFUSED server
        # serves one private zone so its health can be checked.
        self.servers["lame"].zones.append("test.")
        self.servers["lame-up"].zones.append(".")
        z = self.zone("refuser.invalid", {"ns1.refuser.invalid": refused}, ["refused"])
        z.add("refuser.invalid", "TXT", '"this server answers REFUSED for every other zone"')

        # Generated benchmark zones -----------------------------------------------------------
        bench_addrs = {f"b{j}.bench.test": self.servers[f"bench-{j}"].addr for j in range(BENCH_SERVER_COUNT)}
        z = self.zone("bench.test", {"ns1.bench.test": la, "ns2.bench.test": lb}, ab)
        for h, addr in bench_addrs.items():
            z.add(h, "A", addr)
            self.hosts[h] = addr
        self.bench_zones = []
        for i in range(BENCH_ZONE_COUNT):
            j, k = i % BENCH_SERVER_COUNT, (i + 1) % BENCH_SERVER_COUNT
            origin = f"z{i:04d}.bench.test"
            z = self.zone(origin, {f"b{j}.bench.test": bench_addrs[f"b{j}.bench.test"],
                                   f"b{k}.bench.test": bench_addrs[f"b{k}.bench.test"]},
                          [f"bench-{j}", f"bench-{k}"])
            hi, lo = i >> 8, i & 255
            z.add(origin, "A", f"198.19.{hi}.{lo}")
            z.add(origin, "MX", f"10 mail.{origin}.")
            z.add(origin, "TXT", f'"bench zone {i}"')
            z.add(f"www.{origin}", "A", f"198.18.{hi}.{lo}")
            z.add(f"www.{origin}", "AAAA", f"2001:db8:b::{i:x}")
            z.add(f"mail.{origin}", "A", f"198.18.{hi + 100}.{lo}")
            z.add(f"*.{origin}", "A", f"198.18.{hi + 200}.{lo}")
            self.bench_zones.append(fqdn(origin))
        for i in (0, BENCH_ZONE_COUNT - 1):
            hi, lo = i >> 8, i & 255
            self.expect(f"bench-{i:04d}", "a generated benchmark zone", f"www.z{i:04d}.bench.test", "A",
                        answer=[[f"www.z{i:04d}.bench.test.", "A", f"198.18.{hi}.{lo}"]])
        self._finish()

    def _finish(self) -> None:
        """Adds SOA, apex NS, addresses of in-zone NS hosts, and delegations with glue."""
        for z in self.zones.values():
            recs = [(z.origin, z.soa_ttl, "SOA",
                     f"{z.ns[0]} hostmaster.{z.origin if z.origin != '.' else 'root-servers.net.'} "
                     f"2026112701 3600 900 604800 {z.soa_min}")]
            recs += [(z.origin, DEFAULT_TTL, "NS", h) for h in z.ns]
            recs += [(h, DEFAULT_TTL, "A", self.hosts[h]) for h in z.ns if is_subdomain(h, z.origin)]
            z.records = recs + z.records
        for child in self.zones.values():
            if child.origin == ".":
                continue
            parent = self.parent_of(child.origin)
            if parent is None:
                continue
            pz = self.zones[parent]
            pz.records += [(child.origin, DEFAULT_TTL, "NS", h) for h in child.ns]
            # Glue only for NS names inside the delegated zone (in-bailiwick), as registries do.
            pz.records += [(h, DEFAULT_TTL, "A", self.hosts[h]) for h in child.ns
                           if is_subdomain(h, child.origin)]
        for z in self.zones.values():   # drop exact duplicates, keep order
            seen, out = set(), []
            for r in z.records:
                key = (r[0], r[2], r[3])
                if key not in seen:
                    seen.add(key)
                    out.append(r)
            z.records = out

    def parent_of(self, origin: str) -> str | None:
        labels = origin.rstrip(".").split(".")
        for i in range(1, len(labels) + 1):
            cand = ".".join(labels[i:]) + "." if i < len(labels) else "."
            if cand in self.zones and self.zones[cand].servers:
                return cand
        return None

    def zonefile(self, origin: str) -> str:
        z = self.zones[origin]
        lines = [f"; generated by tools/lab for {origin}", f"$TTL {DEFAULT_TTL}"]
        for owner, ttl, rtype, rdata in z.records:
            lines.append(f"{owner}\t{ttl}\tIN\t{rtype}\t{rdata}")
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# The lab
# ---------------------------------------------------------------------------------------------

class LabError(RuntimeError):
    pass


class Lab:
    """A set of NSD processes on NET.x.y:53 described by DIR/lab.json.

    lab = Lab("/tmp/mylab", "127.54"); lab.up()   # generates, starts, waits; raises LabError
    lab.info                                      # the dict written to lab.json
    lab.query_counts()                            # {server: queries received} via nsd-control
    lab.down()                                    # stops everything by PID; idempotent
    """

    def __init__(self, dir: str | os.PathLike = DEFAULT_DIR, net: str = DEFAULT_NET):
        self.dir = Path(dir).resolve()
        self.net = parse_net(net)
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
        topo = self.topo = Topology(self.net)
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
# Resolver processes for tests and benchmarks
# ---------------------------------------------------------------------------------------------

class Daemon:
    """A foreground process we start and stop by PID, with its output in a log file.

    d = Daemon(["ternd", "-c", conf], log=path, cpu=1); d.start(); d.wait_answering(addr, port)
    d.cpu_seconds(); d.stop()"""

    def __init__(self, argv: list, log: Path, cpu: int | None = None, name: str = ""):
        self.argv = list(argv)
        self.log = Path(log)
        self.cpu = cpu
        self.name = name or Path(argv[0]).name
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else 0

    def start(self) -> None:
        argv = (["taskset", "-c", str(self.cpu)] if self.cpu is not None else []) + self.argv
        with open(self.log, "ab") as out:
            # taskset execs the program, so the PID is the daemon's.
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_answering(self, addr: str, port: int, timeout: float = 10.0,
                       probe: tuple = ("version.server", "TXT", "CH")) -> None:
        """Waits until the daemon answers any DNS reply to a probe query; raises with the log tail."""
        qname, qtype, qclass = probe
        deadline = time.monotonic() + timeout
        while True:
            if not self.running():
                raise LabError(f"{self.name} exited ({self.proc.returncode if self.proc else '?'}):\n"
                               + self.log_tail())
            if dig(addr, qname, qtype, port, qclass=qclass, recurse=False, timeout=1).ok:
                return
            if time.monotonic() >= deadline:
                raise LabError(f"{self.name} did not answer on {addr}:{port} within {timeout}s:\n"
                               + self.log_tail())
            time.sleep(POLL_INTERVAL_S)

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            stop_pid(self.proc.pid, self.argv[0], self.name)
        try:
            self.proc.wait(timeout=STOP_KILL_GRACE_S)
        except subprocess.TimeoutExpired:
            pass


class Unbound(Daemon):
    """Debian's Unbound, single-threaded, in its own directory, recursing a lab or forwarding.

    u = Unbound(dir, addr="127.53.255.1", port=53, root_hints=lab.root_hints)      # recursive
    u = Unbound(dir, addr=..., forward=["127.53.255.9@53"])                        # forwarder
    u.start(); u.wait_answering(); ...; u.control("stats_noreset"); u.stop()
    extra: more `server:` lines, e.g. ["msg-cache-size: 64m"]. discard_timeout_ms: see below."""

    def __init__(self, dir: str | os.PathLike, addr: str, port: int = 53, root_hints: Path | None = None,
                 forward: list | None = None, extra: Iterable[str] = (), cpu: int | None = None,
                 name: str = "unbound", discard_timeout_ms: int | None = 0):
        self.dir = Path(dir).resolve()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.addr, self.port = addr, port
        self.conf = self.dir / "unbound.conf"
        lines = ["server:", f"  interface: {addr}@{port}", f"  port: {port}", "  do-ip6: no",
                 "  num-threads: 1", "  so-reuseport: no", '  username: ""', '  chroot: ""',
                 f'  directory: "{self.dir}"', f'  pidfile: "{self.dir / "unbound.pid"}"',
                 "  use-syslog: no", f'  logfile: "{self.dir / "unbound.log"}"', "  verbosity: 0",
                 "  do-not-query-localhost: no", '  module-config: "iterator"',
                 "  access-control: 127.0.0.0/8 allow", "  hide-version: no",
                 # Unbound serves test. as a built-in empty local zone (RFC 6761); the lab
                 # delegates it for real.
                 '  local-zone: "test." nodefault']
        if discard_timeout_ms is not None:
            # Debian's 1.17.1 has the backported discard-timeout (default 1900 ms): a reply whose
            # resolution took longer (e.g. the lab's dead server costs ~2 s) is silently dropped,
            # expecting the stub to retry. Tests want every query answered once: 0 disables it.
            # None keeps Unbound's default (benchmarks).
            lines.append(f"  discard-timeout: {discard_timeout_ms}")
        if root_hints:
            lines.append(f'  root-hints: "{Path(root_hints).resolve()}"')
        lines += [f"  {x}" for x in extra]
        lines += ["remote-control:", "  control-enable: yes",
                  f'  control-interface: "{self.dir / "unbound.ctl"}"', "  control-use-cert: no"]
        if forward:
            lines += ["forward-zone:", '  name: "."'] + [f"  forward-addr: {f}" for f in forward]
        self.conf.write_text("\n".join(lines) + "\n")
        r = subprocess.run(["unbound-checkconf", str(self.conf)], capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise LabError(f"unbound-checkconf {self.conf}: {r.stdout}{r.stderr}")
        super().__init__([shutil.which("unbound") or "unbound", "-d", "-p", "-c", str(self.conf)],
                         log=self.dir / "unbound.out", cpu=cpu, name=name)

    def wait_answering(self, addr: str | None = None, port: int | None = None, timeout: float = 10.0,
                       probe: tuple = ("version.server", "TXT", "CH")) -> None:
        super().wait_answering(addr or self.addr, port or self.port, timeout, probe)

    def log_tail(self, lines: int = 20) -> str:
        tail = super().log_tail(lines)
        try:
            tail += "\n" + "\n".join((self.dir / "unbound.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            pass
        return tail

    def control(self, *args: str) -> str:
        """Runs unbound-control against this instance and returns its output."""
        r = subprocess.run(["unbound-control", "-c", str(self.conf), *args], capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0:
            raise LabError(f"unbound-control {' '.join(args)}: {r.stdout}{r.stderr}")
        return r.stdout

    def stats(self) -> dict:
        """unbound-control stats_noreset as {key: float}."""
        out = {}
        for line in self.control("stats_noreset").splitlines():
            k, _, v = line.partition("=")
            try:
                out[k] = float(v)
            except ValueError:
                pass
        return out


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------

def main(argv: list | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tools/lab/lab", description=__doc__.split("\n\n")[0])
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
