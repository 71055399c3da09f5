"""evilns: scripted misbehaving authoritative DNS servers for tern's fault and attack tests.

Python stdlib only; DNS messages are built here with struct (a small encoder with name
compression) and the question is parsed from each query. One EvilServer serves one zone on one
address (UDP and TCP port 53 by default) with one behaviour, in threads of the calling process:

    srv = EvilServer("127.62.5.1", "slow.evil.test", "slow", delay_ms=1500); srv.start()
    ...; srv.queries (count), srv.qnames (what was asked); srv.stop()

Behaviours (mode):
    good          authoritative answers: <name> A = genuine address, NS/SOA at the apex,
                  NODATA for other types
    timeout       never answers (UDP dropped, TCP held open without a reply)
    slow          the good answer after delay_ms
    wrong_id      first a forged answer (FORGED_ADDR) with another message ID, then (if
                  follow_good) the good answer
    wrong_question  first a forged answer for another question (www.glue.com A FORGED_ADDR) with
                  the right ID, then (if follow_good) the good answer
    wrong_port    first a forged answer with the right ID and question but from another source
                  port, then (if follow_good) the good answer from port 53
    truncated     the good answer cut in the middle of a record (TC not set)
    garbage       the right ID followed by random bytes
    tc            UDP: TC=1 with an empty answer; TCP: the good answer
    oob           the good answer plus out-of-bailiwick records: `com.` and `glue.com.` NS
                  hijacked to ns.<zone> in authority, A records for www.glue.com,
                  ns1.glue.com and ns.<zone> = FORGED_ADDR / this server in additional; asked
                  about any name outside its zone it answers FORGED_ADDR (so a resolver that
                  believed the hijack is caught)
    referral_loop a referral for <zone> itself to <peer_ns>.<zone>, whose glue is `peer_addr`
                  (two such servers refer to each other: a sideways loop that never progresses)
    nxdomain      NXDOMAIN (with the SOA) for every name below the apex but ns.<zone>
    cname_loop    loopa.<zone> CNAME loopb.<zone>, loopb CNAME loopa; chainN.<zone> CNAME
                  chain(N+1).<zone> (an endless chain)
    nxns          a referral of <first label below zone>.<zone> to `ns_count` NS names
                  ns<i>.<victim zone> with no glue (NXNSAttack fan-out)

Also a raw-socket sender (RawUdp) that forges UDP packets from any loopback address and port,
for the Kaminsky test. Every loop here is bounded by a stop flag checked at least every 0.2 s.
"""
from __future__ import annotations

import os
import random
import select
import socket
import struct
import threading
import time

FORGED_ADDR = "203.0.113.66"      # every forged A record carries this: grep answers for it
FORGED_NS_TARGET = "ns.attacker.invalid."

T_A, T_NS, T_CNAME, T_SOA, T_AAAA, T_OPT = 1, 2, 5, 6, 28, 41
C_IN = 1
RC_NOERROR, RC_NXDOMAIN = 0, 3
MAX_RECORDED_QNAMES = 10000


# ---------------------------------------------------------------------------------------------
# Wire encoding
# ---------------------------------------------------------------------------------------------

def name_labels(name: str) -> list[bytes]:
    return [x.encode() for x in name.rstrip(".").split(".") if x]


def fqdn(name: str) -> str:
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


def is_sub(name: str, zone: str) -> bool:
    name, zone = fqdn(name), fqdn(zone)
    return zone == "." or name == zone or name.endswith("." + zone)


class Query:
    """The parts of a query the servers need; None from parse() when the packet is not a query."""

    def __init__(self, qid: int, flags: int, qname: str, qname_wire: bytes, qtype: int, qclass: int,
                 edns_size: int | None):
        self.id, self.flags, self.qname, self.qname_wire = qid, flags, qname, qname_wire
        self.qtype, self.qclass, self.edns_size = qtype, qclass, edns_size

    @staticmethod
    def parse(data: bytes) -> "Query | None":
        if len(data) < 12:
            return None
        qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", data[:12])
        if flags & 0x8000 or qd != 1:
            return None
        pos, labels = 12, []
        while True:                      # bounded: pos grows every turn, checked against len
            if pos >= len(data):
                return None
            n = data[pos]
            if n == 0:
                pos += 1
                break
            if n > 63 or pos + 1 + n > len(data):
                return None
            labels.append(data[pos + 1:pos + 1 + n].decode("ascii", "replace"))
            pos += 1 + n
            if pos > 12 + 255:
                return None
        qname_wire = data[12:pos]
        if pos + 4 > len(data):
            return None
        qtype, qclass = struct.unpack("!HH", data[pos:pos + 4])
        pos += 4
        edns = None
        if ar >= 1 and an == 0 and ns == 0 and pos + 11 <= len(data) and data[pos] == 0:
            t, size = struct.unpack("!HH", data[pos + 1:pos + 5])
            if t == T_OPT:
                edns = size
        return Query(qid, flags, fqdn(".".join(labels) if labels else "."), qname_wire, qtype, qclass,
                     edns)


class Msg:
    """A reply under construction: header fields, the question as asked, and records."""

    def __init__(self, q: Query, rcode: int = RC_NOERROR, aa: bool = True, tc: bool = False):
        self.q, self.rcode, self.aa, self.tc = q, rcode, aa, tc
        self.id = q.id
        self.qname_wire = q.qname_wire
        self.qtype = q.qtype
        self.sections: list[list] = [[], [], []]   # answer, authority, additional

    def add(self, section: int, owner: str, rtype: int, ttl: int, rdata) -> "Msg":
        self.sections[section].append((owner, rtype, ttl, rdata))
        return self

    def encode(self) -> bytes:
        out = bytearray()
        offsets: dict[tuple, int] = {}

        def put_name(name: str) -> None:
            labels = name_labels(name)
            for i in range(len(labels)):
                key = tuple(x.lower() for x in labels[i:])
                if key in offsets:
                    out.extend(struct.pack("!H", 0xC000 | offsets[key]))
                    return
                if len(out) < 0x3FFF:
                    offsets[key] = len(out)
                out.append(len(labels[i]))
                out.extend(labels[i])
            out.append(0)

        flags = 0x8000 | (0x0400 if self.aa else 0) | (0x0200 if self.tc else 0) | \
            (self.q.flags & 0x0100) | self.rcode
        out.extend(struct.pack("!HHHHHH", self.id, flags, 1, *(len(s) for s in self.sections)))
        # The question as asked (keeps 0x20 case); register its suffixes for compression.
        qlabels = []
        pos = 0
        wire = self.qname_wire
        while pos < len(wire) and wire[pos]:
            qlabels.append(wire[pos + 1:pos + 1 + wire[pos]])
            pos += 1 + wire[pos]
        for i in range(len(qlabels)):
            offsets.setdefault(tuple(x.lower() for x in qlabels[i:]), len(out))
            out.append(len(qlabels[i]))
            out.extend(qlabels[i])
        out.append(0)
        out.extend(struct.pack("!HH", self.qtype, C_IN))
        for section in self.sections:
            for owner, rtype, ttl, rdata in section:
                put_name(owner)
                out.extend(struct.pack("!HHI", rtype, C_IN, ttl))
                lenpos = len(out)
                out.extend(b"\0\0")
                if rtype == T_A:
                    out.extend(socket.inet_aton(rdata))
                elif rtype == T_AAAA:
                    out.extend(socket.inet_pton(socket.AF_INET6, rdata))
                elif rtype in (T_NS, T_CNAME):
                    put_name(rdata)
                elif rtype == T_SOA:
                    mname, rname, serial, refresh, retry, expire, minimum = rdata
                    put_name(mname)
                    put_name(rname)
                    out.extend(struct.pack("!IIIII", serial, refresh, retry, expire, minimum))
                else:
                    out.extend(rdata)
                struct.pack_into("!H", out, lenpos, len(out) - lenpos - 2)
        return bytes(out)


def build_query(qname: str, qtype: int = T_A, qid: int | None = None, rd: bool = True) -> bytes:
    """A plain query (for the attack test's clients)."""
    qid = random.getrandbits(16) if qid is None else qid
    wire = b"".join(bytes([len(x)]) + x for x in name_labels(qname)) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x0100 if rd else 0, 1, 0, 0, 0) + wire + struct.pack("!HH", qtype, C_IN)


def parse_reply_addrs(data: bytes) -> tuple[int, int, list[str]] | None:
    """(id, rcode, every IPv4 address in any section's A records) of a reply; None if unparsable."""
    if len(data) < 12:
        return None
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", data[:12])
    pos = 12

    def skip_name(p: int) -> int:
        for _ in range(128):
            if p >= len(data):
                raise ValueError("name runs off the end")
            n = data[p]
            if n == 0:
                return p + 1
            if n & 0xC0 == 0xC0:
                return p + 2
            p += 1 + n
        raise ValueError("name too long")

    addrs = []
    try:
        for _ in range(qd):
            pos = skip_name(pos) + 4
        for _ in range(an + ns + ar):
            pos = skip_name(pos)
            if pos + 10 > len(data):
                raise ValueError("record header runs off the end")
            rtype, _, _, rdlen = struct.unpack("!HHIH", data[pos:pos + 10])
            pos += 10
            if pos + rdlen > len(data):
                raise ValueError("rdata runs off the end")
            if rtype == T_A and rdlen == 4:
                addrs.append(socket.inet_ntoa(data[pos:pos + 4]))
            pos += rdlen
    except ValueError:
        return None
    return qid, flags & 0xF, addrs


# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------

class EvilServer:
    """One zone on one address with one behaviour (see the module story)."""

    def __init__(self, addr: str, zone: str, mode: str, port: int = 53, *, genuine_addr: str = "192.0.2.200",
                 delay_ms: int = 0, follow_good: bool = True, peer_addr: str = "", peer_ns: str = "ns",
                 victim_zone: str = "", ns_count: int = 200, ttl: int = 300):
        self.addr, self.port, self.zone, self.mode = addr, port, fqdn(zone), mode
        self.genuine_addr, self.delay_ms, self.follow_good = genuine_addr, delay_ms, follow_good
        self.peer_addr, self.peer_ns = peer_addr, peer_ns
        self.victim_zone, self.ns_count, self.ttl = fqdn(victim_zone) if victim_zone else "", ns_count, ttl
        self.queries = 0
        self.tcp_queries = 0
        self.qnames: list[tuple[str, int]] = []
        self.forged_sent = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._alt: socket.socket | None = None   # another source port, for wrong_port
        self._conns: list[socket.socket] = []

    # lifecycle
    def start(self) -> "EvilServer":
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._udp.bind((self.addr, self.port))
        self._tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._tcp.bind((self.addr, self.port))
        self._tcp.listen(64)
        self._alt = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._alt.bind((self.addr, 0))
        for fn in (self._udp_loop, self._tcp_loop):
            t = threading.Thread(target=fn, daemon=True, name=f"evilns-{self.mode}")
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=2)
        for s in [self._udp, self._tcp, self._alt] + self._conns:
            try:
                if s:
                    s.close()
            except OSError:
                pass

    def describe(self) -> str:
        return f"{self.zone} on {self.addr}: {self.mode}"

    # loops
    def _udp_loop(self) -> None:
        while not self._stop.is_set():
            r, _, _ = select.select([self._udp], [], [], 0.2)
            if not r:
                continue
            try:
                data, peer = self._udp.recvfrom(65535)
            except OSError:
                continue
            self._handle(data, peer, tcp=False, send=lambda b, p=peer: self._udp.sendto(b, p))

    def _tcp_loop(self) -> None:
        while not self._stop.is_set():
            r, _, _ = select.select([self._tcp], [], [], 0.2)
            if not r:
                continue
            try:
                conn, peer = self._tcp.accept()
            except OSError:
                continue
            self._conns.append(conn)
            t = threading.Thread(target=self._tcp_conn, args=(conn, peer), daemon=True)
            t.start()

    def _tcp_conn(self, conn: socket.socket, peer) -> None:
        buf = b""
        deadline = time.monotonic() + 30      # a connection lives at most 30 s
        conn.settimeout(0.2)

        def send(b: bytes) -> None:
            try:
                conn.sendall(struct.pack("!H", len(b)) + b)
            except OSError:
                pass
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                chunk = conn.recv(65535)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 2:
                n = struct.unpack("!H", buf[:2])[0]
                if len(buf) < 2 + n:
                    break
                self._handle(buf[2:2 + n], peer, tcp=True, send=send)
                buf = buf[2 + n:]
        try:
            conn.close()
        except OSError:
            pass

    # behaviour
    def _handle(self, data: bytes, peer, tcp: bool, send) -> None:
        q = Query.parse(data)
        if q is None:
            return
        with self._lock:
            self.queries += 1
            self.tcp_queries += tcp
            if len(self.qnames) < MAX_RECORDED_QNAMES:
                self.qnames.append((q.qname, q.qtype))
        mode = self.mode
        limit = 65535 if tcp else max(512, q.edns_size or 512)

        def reply(msg: Msg, via=send) -> None:
            b = msg.encode()
            if len(b) > limit:
                t = Msg(q, msg.rcode, msg.aa, tc=True)
                b = t.encode()
            via(b)

        if mode == "timeout":
            return
        if mode == "slow":
            threading.Timer(self.delay_ms / 1000.0, lambda: self._stop.is_set() or reply(self.good(q))).start()
            return
        if mode in ("wrong_id", "wrong_question", "wrong_port"):
            forged = self.forged_answer(q)
            if mode == "wrong_id":
                forged.id = q.id ^ 0x5A5A
                reply(forged)
            elif mode == "wrong_question":
                forged.qname_wire = b"\x03www\x04glue\x03com\x00"
                forged.qtype = T_A
                forged.sections[0] = [("www.glue.com.", T_A, self.ttl, FORGED_ADDR)]
                reply(forged)
            elif not tcp:
                reply(forged, via=lambda b: self._alt.sendto(b, peer))
            self.forged_sent += 1
            if self.follow_good:
                time.sleep(0.02)
                reply(self.good(q))
            return
        if mode == "truncated":
            b = self.good(q).encode()
            send(b[:max(12, len(b) - 7)])
            return
        if mode == "garbage":
            send(struct.pack("!H", q.id) + os.urandom(random.randint(0, 200)))
            return
        if mode == "tc":
            reply(self.good(q) if tcp else Msg(q, tc=True))
            return
        if mode == "oob":
            reply(self.oob(q))
            return
        if mode == "referral_loop":
            peer_ns = f"{self.peer_ns}.{self.zone}"
            reply(self.referral(q, self.zone, [peer_ns], {peer_ns: self.peer_addr}))
            return
        if mode == "cname_loop":
            reply(self.cname_loop(q))
            return
        if mode == "nxns":
            reply(self.nxns(q))
            return
        if mode == "nxdomain":
            reply(self.nxdomain(q))
            return
        reply(self.good(q))

    def soa(self) -> tuple:
        return (f"ns.{self.zone}", f"hostmaster.{self.zone}", 2026112701, 3600, 900, 604800, 60)

    def good(self, q: Query) -> Msg:
        if not is_sub(q.qname, self.zone):
            return Msg(q, rcode=5, aa=False)   # REFUSED: not our zone
        m = Msg(q)
        ns = f"ns.{self.zone}"
        if q.qname == self.zone and q.qtype == T_NS:
            return m.add(0, self.zone, T_NS, self.ttl, ns).add(2, ns, T_A, self.ttl, self.addr)
        if q.qname == self.zone and q.qtype == T_SOA:
            return m.add(0, self.zone, T_SOA, self.ttl, self.soa())
        if q.qtype == T_A:
            return m.add(0, q.qname, T_A, self.ttl, self.addr if q.qname == ns else self.genuine_addr)
        return m.add(1, self.zone, T_SOA, 60, self.soa())  # NODATA

    def nxdomain(self, q: Query) -> Msg:
        if not is_sub(q.qname, self.zone) or q.qname == self.zone or q.qname == f"ns.{self.zone}":
            return self.good(q)
        return Msg(q, rcode=RC_NXDOMAIN).add(1, self.zone, T_SOA, 60, self.soa())

    def forged_answer(self, q: Query) -> Msg:
        m = Msg(q)
        if q.qtype == T_A:
            m.add(0, q.qname, T_A, self.ttl, FORGED_ADDR)
        m.add(1, self.zone, T_NS, self.ttl, FORGED_NS_TARGET)
        return m

    def oob(self, q: Query) -> Msg:
        if not is_sub(q.qname, self.zone):
            # Asked about a name it should never be asked about: the resolver believed a hijack.
            m = Msg(q)
            if q.qtype == T_A:
                m.add(0, q.qname, T_A, self.ttl, FORGED_ADDR)
            return m
        m = self.good(q)
        ns = f"ns.{self.zone}"
        m.add(1, "com.", T_NS, 86400, ns).add(1, "glue.com.", T_NS, 86400, ns)
        m.add(1, self.zone, T_NS, self.ttl, ns)
        # The hijacked NS addresses point back here (loopback: a fooled resolver asks us, and we
        # answer FORGED_ADDR); the A for www.glue.com is plain forged data.
        m.add(2, "www.glue.com.", T_A, 86400, FORGED_ADDR).add(2, "ns1.glue.com.", T_A, 86400, self.addr)
        m.add(2, ns, T_A, 86400, self.addr)
        return m

    def referral(self, q: Query, cut: str, ns_names: list, glue: dict) -> Msg:
        m = Msg(q, aa=False)
        for n in ns_names:
            m.add(1, cut, T_NS, self.ttl, n)
        for n, a in glue.items():
            if a:
                m.add(2, n, T_A, self.ttl, a)
        return m

    def cname_loop(self, q: Query) -> Msg:
        if not is_sub(q.qname, self.zone) or q.qname == self.zone:
            return self.good(q)
        first = q.qname[:-len(self.zone) - 1]
        if first == "loopa":
            target = f"loopb.{self.zone}"
        elif first == "loopb":
            target = f"loopa.{self.zone}"
        elif first.startswith("chain") and first[5:].isdigit():
            target = f"chain{int(first[5:]) + 1}.{self.zone}"
        else:
            return self.good(q)
        return Msg(q).add(0, q.qname, T_CNAME, self.ttl, target)

    def nxns(self, q: Query) -> Msg:
        if not is_sub(q.qname, self.zone) or q.qname == self.zone:
            return self.good(q)
        below = q.qname[:-len(self.zone) - 1].split(".")[-1]
        cut = f"{below}.{self.zone}"
        return self.referral(q, cut, [f"ns{i}.{self.victim_zone}" for i in range(self.ns_count)], {})


# ---------------------------------------------------------------------------------------------
# Forging from any loopback address (Kaminsky test)
# ---------------------------------------------------------------------------------------------

class RawUdp:
    """Sends UDP datagrams with a chosen source address and port through a raw IPv4 socket
    (needs root). The kernel fills the IP checksum and length; the UDP checksum is left 0
    (allowed over IPv4, RFC 768)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        self.sent = 0

    def send(self, src: str, sport: int, dst: str, dport: int, payload: bytes) -> None:
        udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), random.getrandbits(16), 0, 64,
                         socket.IPPROTO_UDP, 0, socket.inet_aton(src), socket.inet_aton(dst))
        try:
            self.sock.sendto(ip + udp, (dst, 0))
            self.sent += 1
        except OSError:
            pass   # e.g. ENOBUFS under the flood: not sent, not counted

    def close(self) -> None:
        self.sock.close()
