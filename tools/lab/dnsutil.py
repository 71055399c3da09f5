"""DNS helpers for the tern lab, tests and benchmarks: names, a dig wrapper that parses replies,
and the comparison of a reply with an expectation from lab.json. Python stdlib + dig."""
from __future__ import annotations

import ipaddress
import re
import subprocess
from dataclasses import dataclass, field
from typing import Iterable


def fqdn(name: str) -> str:
    """Lower-case, absolute form of a domain name ("www.Example.com" -> "www.example.com.")."""
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


def is_subdomain(name: str, zone: str) -> bool:
    """True if name is zone or below it (both absolute)."""
    name, zone = fqdn(name), fqdn(zone)
    return zone == "." or name == zone or name.endswith("." + zone)


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
