"""The lab's mini-Internet as data: which NSD server serves which zones with which records, and
what a correct resolver answers for each test name. Pure computation, no I/O but the zone text."""
from __future__ import annotations

from dataclasses import dataclass, field

from dnsutil import fqdn, is_subdomain

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

    def __init__(self, net: str, extra_delegations: dict | None = None):
        """extra_delegations: {child zone: {NS host: address}} delegated from the lab's zone
        above it (e.g. "slow.evil.test" from test.) to servers the lab does not run (scripted
        servers in a test, on NET.5.x); the parent gets the NS records and glue for in-bailiwick
        NS hosts. The lab serves nothing for these zones and expects nothing of them."""
        self.net = net
        self.extra_delegations = {fqdn(z): {fqdn(h): a for h, a in ns.items()}
                                  for z, ns in (extra_delegations or {}).items()}
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
                    "lame: listed as NS for lameself.test and lameonly.test but serves only a copy of "
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
        z = self.zone("lame.test", {"ns2.lame.test": la, "ns3.lame.test": lameup}, ["leaf-a"])
        z.add("www.lame.test", "A", "192.0.2.21")
        self.expect("lame-and-live", f"lame.test NS ns2.lame.test ({la}, live) and ns3.lame.test "
                    f"({lameup}, lame: upward referral)",
                    "www.lame.test", "A", answer=[["www.lame.test.", "A", "192.0.2.21"]])
        z = self.zone("lameself.test", {"ns1.lameself.test": lame, "ns2.lameself.test": la}, ["leaf-a"])
        z.add("www.lameself.test", "A", "192.0.2.23")
        self.expect("lame-self-and-live", f"lameself.test NS ns1.lameself.test ({lame}, lame: referral "
                    f"back to lameself.test) and ns2.lameself.test ({la}, live)",
                    "www.lameself.test", "A", answer=[["www.lameself.test.", "A", "192.0.2.23"]],
                    unbound=dict(skip=True, why="Unbound 1.17 answers NODATA (see lame-only) whenever it "
                                 "happens to ask the lame server first: nondeterministic"))
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
        for origin, ns in self.extra_delegations.items():
            parent = self.parent_of(origin)
            if parent is None:
                raise ValueError(f"extra delegation {origin}: no lab zone above it")
            pz = self.zones[parent]
            pz.records += [(origin, DEFAULT_TTL, "NS", h) for h in ns]
            pz.records += [(h, DEFAULT_TTL, "A", a) for h, a in ns.items() if is_subdomain(h, origin)]
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
