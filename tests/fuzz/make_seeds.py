#!/usr/bin/env python3
"""Writes the hand-made seeds of tests/fuzz/corpus/{pipeline,upstream}: real-shaped DNS
queries (as dig +qr sends them) and authoritative replies, in each target's input format
(see the comment at the top of fuzz_pipeline.cpp and fuzz_upstream.cpp). Re-run to refresh."""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
         "SRV": 33, "DNAME": 39, "OPT": 41, "DS": 43, "RRSIG": 46, "AXFR": 252, "ANY": 255}


def name(text):
    out = b""
    for label in [l for l in text.split(".") if l]:
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(id_, flags, qd=1, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", id_, flags, qd, an, ns, ar)


def opt(payload=1232, do=False, version=0, options=b""):
    ttl = (version << 16) | (0x8000 if do else 0)
    return b"\0" + struct.pack(">HHIH", 41, payload, ttl, len(options)) + options


def query(qname, qtype="A", id_=0x1234, rd=True, cd=False, ad=True, edns=True, payload=1232,
          do=False, qclass=1, cookie=True):
    flags = (0x0100 if rd else 0) | (0x0010 if cd else 0) | (0x0020 if ad else 0)
    q = name(qname) + struct.pack(">HH", TYPES.get(qtype, qtype) if isinstance(qtype, str) else qtype, qclass)
    if not edns:
        return header(id_, flags) + q
    options = struct.pack(">HH", 10, 8) + bytes(range(1, 9)) if cookie else b""
    return header(id_, flags, ar=1) + q + opt(payload, do, options=options)


def rr(owner, rtype, rdata, ttl=3600, rclass=1):
    return name(owner) + struct.pack(">HHIH", TYPES[rtype], rclass, ttl, len(rdata)) + rdata


def a(addr):
    return bytes(int(x) for x in addr.split("."))


def soa(zone):
    return name("ns1." + zone) + name("hostmaster." + zone) + struct.pack(">IIIII", 1, 7200, 3600, 1209600, 300)


def reply(qname, qtype, an=(), ns=(), ar=(), rcode=0, aa=True, tc=False, edns=True):
    flags = 0x8000 | (0x0400 if aa else 0) | (0x0200 if tc else 0) | rcode
    ar = list(ar) + ([opt()] if edns else [])
    q = name(qname) + struct.pack(">HH", TYPES[qtype], 1)
    return (header(0x4242, flags, 1, len(an), len(ns), len(ar)) + q + b"".join(an) +
            b"".join(ns) + b"".join(ar))


def chunk(msg, fix=True, kind=0, rtt=2):
    return bytes([(rtt << 4) | (4 if fix else 0) | kind]) + struct.pack(">H", len(msg)) + msg


def write(target, fname, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, fname), "wb") as f:
        f.write(data)


def pipeline_seeds():
    qs = {
        "a": query("www.example.com", "A"),
        "aaaa-do": query("www.example.com", "AAAA", do=True),
        "mx-noedns": query("example.org", "MX", edns=False),
        "txt-4096": query("txt.example.net", "TXT", payload=4096),
        "any": query("example.com", "ANY"),
        "axfr": query("example.com", "AXFR"),
        "chaos-version": query("version.bind", "TXT", qclass=3, edns=False),
        "chaos-id": query("id.server", "TXT", qclass=3),
        "ptr": query("1.2.0.192.in-addr.arpa", "PTR"),
        "case-0x20": query("wWw.ExAmPlE.cOm", "A", cd=True),
        "edns-v1": query("example.com", "A") [:-16] + opt(1232, version=1, options=b""),
        "small-payload": query("example.com", "A", payload=100),
        "root-ns": query(".", "NS"),
        "long-name": query(".".join(["a" * 63] * 3) + ".example", "A"),
        "ds-cd": query("example.com", "DS", cd=True, do=True),
        "type-zero": query("example.com", 0),
        "rrsig": query("example.com", "RRSIG"),
    }
    qs["edns-v1"] = header(0x1234, 0x0100, ar=1) + name("example.com") + struct.pack(">HH", 1, 1) + opt(1232, version=1)
    qs["qdcount2"] = bytearray(qs["a"]); qs["qdcount2"][5] = 2; qs["qdcount2"] = bytes(qs["qdcount2"])
    qs["update"] = bytearray(qs["a"]); qs["update"][2] = (5 << 3); qs["update"] = bytes(qs["update"])
    qs["response"] = bytearray(qs["a"]); qs["response"][2] |= 0x80; qs["response"] = bytes(qs["response"])
    qs["header-only"] = header(0xabcd, 0x0100, qd=0)
    qs["short"] = b"\x12\x34\x01"
    qs["two-opt"] = header(0x1234, 0x0100, ar=2) + name("example.com") + struct.pack(">HH", 1, 1) + opt() + opt()
    ctls = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x10, 0x20, 0x40, 0x80, 0xa3, 0xe7, 0x6f]
    for i, (k, q) in enumerate(sorted(qs.items())):
        ctl = ctls[i % len(ctls)]
        write("pipeline", "seed-%s" % k, bytes([ctl, 30 + i]) + q)
    write("pipeline", "seed-a-cache-hit", bytes([0x80, 200]) + qs["a"])
    write("pipeline", "seed-a-stale", bytes([0xe0, 1]) + qs["a"])
    write("pipeline", "seed-big-tcp", bytes([0x0b, 60]) + qs["txt-4096"])
    write("pipeline", "seed-big-udp", bytes([0x23, 60]) + qs["mx-noedns"])


def upstream_seeds():
    prime = reply(".", "NS", an=[rr(".", "NS", name("a.root-servers.net"))],
                  ar=[rr("a.root-servers.net", "A", a("10.0.0.1"))])
    prime_v6 = reply(".", "NS", an=[rr(".", "NS", name("a.root-servers.net"))],
                     ar=[rr("a.root-servers.net", "A", a("10.0.0.1")),
                         rr("a.root-servers.net", "AAAA", bytes(15) + b"\1")])
    ref_com = reply("www.example.com", "A", aa=False, ns=[rr("com", "NS", name("ns1.nic.com"))],
                    ar=[rr("ns1.nic.com", "A", a("10.0.1.1"))])
    ref_ex = reply("www.example.com", "A", aa=False,
                   ns=[rr("example.com", "NS", name("ns1.example.com")),
                       rr("example.com", "NS", name("ns2.example.com"))],
                   ar=[rr("ns1.example.com", "A", a("10.0.3.1")), rr("ns2.example.com", "A", a("10.0.3.2"))])
    ref_glueless = reply("www.example.com", "A", aa=False,
                         ns=[rr("example.com", "NS", name("ns.example.net"))])
    ans = reply("www.example.com", "A", an=[rr("www.example.com", "A", a("192.0.2.1"), 300)])
    cname = reply("www.example.com", "A", an=[rr("www.example.com", "CNAME", name("host.example.net"), 300)])
    cname_full = reply("www.example.com", "A", an=[rr("www.example.com", "CNAME", name("w2.example.com"), 300),
                                                   rr("w2.example.com", "A", a("192.0.2.7"), 300)])
    dname = reply("www.example.com", "A", an=[rr("example.com", "DNAME", name("example.net"), 300)])
    nx = reply("www.example.com", "A", rcode=3, ns=[rr("example.com", "SOA", soa("example.com"))])
    nodata = reply("www.example.com", "A", ns=[rr("example.com", "SOA", soa("example.com"))])
    servfail = reply("www.example.com", "A", rcode=2, aa=False)
    refused = reply("www.example.com", "A", rcode=5, aa=False, edns=False)
    formerr = reply("www.example.com", "A", rcode=1, aa=False, edns=False)
    tc = reply("www.example.com", "A", tc=True, aa=False)
    ns_addr = reply("ns.example.net", "A", an=[rr("ns.example.net", "A", a("10.0.5.1"))])
    out_of_bailiwick = reply("www.example.com", "A", aa=False,
                             ns=[rr("example.com", "NS", name("ns1.example.com"))],
                             ar=[rr("ns1.example.com", "A", a("10.0.3.1")),
                                 rr("www.bank.test", "A", a("6.6.6.6"))])
    self_ref = reply("www.example.com", "A", aa=False, ns=[rr(".", "NS", name("a.root-servers.net"))],
                     ar=[rr("a.root-servers.net", "A", a("10.0.0.1"))])
    C = chunk
    flows = {
        "walk": [C(prime), C(ref_com), C(ref_ex), C(ans)],
        "walk-0x20": [C(prime), C(ref_com), C(ref_ex), C(ans)],
        "walk-qmin": [C(prime), C(ref_com), C(ref_ex), C(nodata), C(ans)],
        "cname": [C(prime), C(ref_com), C(ref_ex), C(cname), C(ref_com), C(ans)],
        "cname-in-zone": [C(prime), C(ref_com), C(ref_ex), C(cname_full)],
        "dname": [C(prime), C(ref_com), C(ref_ex), C(dname)],
        "nxdomain": [C(prime), C(ref_com), C(ref_ex), C(nx)],
        "glueless": [C(prime), C(ref_com), C(ref_glueless), C(ref_com), C(ns_addr), C(ans)],
        "timeouts": [C(prime), C(b"", kind=2), C(ref_com), C(b"", kind=3), C(ref_ex), C(ans)],
        "servfail-refused": [C(prime), C(servfail), C(refused), C(ref_com), C(ref_ex), C(ans)],
        "formerr-noedns": [C(prime), C(formerr), C(ref_com), C(ref_ex), C(ans)],
        "tc-then-tcp": [C(prime), C(ref_com), C(ref_ex), C(tc), C(ans)],
        "unfixed": [C(prime, fix=False), C(ref_com, fix=False), C(ans, fix=False)],
        "malformed": [C(prime), C(b"\x42\x42\x84\x00\x00\x01"), C(ref_com), C(ref_ex), C(ans)],
        "bailiwick": [C(prime), C(ref_com), C(out_of_bailiwick), C(ans)],
        "self-referral": [C(prime)] + [C(self_ref)] * 20,
        "prime-v6": [C(prime_v6), C(ref_com), C(ref_ex), C(ans)],
        "two-questions": [C(prime), C(ref_com), C(ref_ex), C(ans), C(ref_com), C(ref_ex), C(nx)],
    }
    ctl_for = {"walk-0x20": 0x04, "walk-qmin": 0x01, "prime-v6": 0x08, "two-questions": 0x10,
               "cname": 0x02, "glueless": 0x03}
    for k, chunks in flows.items():
        write("upstream", "seed-" + k, bytes([ctl_for.get(k, 0), 0]) + b"".join(chunks))
    write("upstream", "seed-empty", b"\x00\x00")


if __name__ == "__main__":
    pipeline_seeds()
    upstream_seeds()
    sys.exit(0)
