#!/usr/bin/env python3
"""Captures golden packets: real responses of NSD (127.53.250.1) and Knot (127.53.250.2)
running the lab zones in this directory (see README.md). For each case it sends one query
built here over UDP to the loopback server, stores the raw response as <name>.hex, and stores
dig's text of the same query as <name>.dig. Run once; the tests only read the files.
Only ever talks to 127.0.0.0/8."""
import os, random, socket, struct, subprocess, sys

CASES = [
    # name, server, qname, qtype(num), qclass, dnssec_ok, nsid
    ("nsd-cname-a", "127.53.250.1", "www.example.test", 1, 1, False, False),
    ("nsd-mx-glue", "127.53.250.1", "example.test", 15, 1, False, False),
    ("nsd-txt", "127.53.250.1", "txt.example.test", 16, 1, False, False),
    ("nsd-srv", "127.53.250.1", "_sip._tcp.example.test", 33, 1, False, False),
    ("nsd-caa", "127.53.250.1", "example.test", 257, 1, False, False),
    ("nsd-dname", "127.53.250.1", "x.old.example.test", 1, 1, False, False),
    ("nsd-ptr", "127.53.250.1", "4.2.0.192.in-addr.example.test", 12, 1, False, False),
    ("nsd-https", "127.53.250.1", "svc.example.test", 65, 1, False, False),
    ("nsd-svcb-alias", "127.53.250.1", "alias.example.test", 64, 1, False, False),
    ("nsd-unknown-type", "127.53.250.1", "opaque.example.test", 65280, 1, False, False),
    ("nsd-nxdomain", "127.53.250.1", "nonexistent.example.test", 1, 1, False, False),
    ("nsd-nodata", "127.53.250.1", "web.example.test", 15, 1, False, False),
    ("nsd-referral-ds", "127.53.250.1", "host.child.example.test", 1, 1, True, False),
    ("nsd-0x20", "127.53.250.1", "MiXeD.cAsE.example.test", 1, 1, False, False),
    ("nsd-soa-nsid", "127.53.250.1", "example.test", 6, 1, False, True),
    ("nsd-aaaa", "127.53.250.1", "ns2.example.test", 28, 1, False, False),
    ("nsd-chaos-id", "127.53.250.1", "id.server", 16, 3, False, False),
    ("nsd-any-refused-zone", "127.53.250.1", "elsewhere.invalid", 1, 1, False, False),
    ("knot-dnskey", "127.53.250.2", "signed.test", 48, 1, True, False),
    ("knot-rrsig-a", "127.53.250.2", "www.signed.test", 1, 1, True, True),
    ("knot-nxdomain-nsec3", "127.53.250.2", "nope.signed.test", 1, 1, True, False),
    ("knot-nsec3param", "127.53.250.2", "signed.test", 51, 1, True, False),
    ("knot-nodata-nsec3", "127.53.250.2", "www.signed.test", 16, 1, True, False),
    ("knot-nxdomain-nsec", "127.53.250.2", "nope.nsec.test", 1, 1, True, False),
    ("knot-dnskey-ed25519", "127.53.250.2", "nsec.test", 48, 1, True, False),
]

TYPE_NAMES = {65280: "TYPE65280"}
CLASS_NAMES = {1: "IN", 3: "CH"}


def wire_name(name):
    out = b""
    for label in name.strip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qname, qtype, qclass, do, nsid):
    qid = random.randrange(65536)
    hdr = struct.pack(">HHHHHH", qid, 0x0000, 1, 0, 0, 1)  # RD clear, AD clear
    q = wire_name(qname) + struct.pack(">HH", qtype, qclass)
    opts = struct.pack(">HH", 3, 0) if nsid else b""
    opt = b"\0" + struct.pack(">HHIH", 41, 1232, 0x8000 if do else 0, len(opts)) + opts
    return hdr + q + opt


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for name, server, qname, qtype, qclass, do, nsid in CASES:
        assert server.startswith("127.")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        s.sendto(query(qname, qtype, qclass, do, nsid), (server, 53))
        resp, _ = s.recvfrom(65535)
        s.close()
        with open(os.path.join(here, name + ".hex"), "w") as f:
            h = resp.hex()
            for i in range(0, len(h), 64):
                f.write(h[i:i + 64] + "\n")
        tname = TYPE_NAMES.get(qtype) or subprocess.run(
            ["python3", "-c", "import sys"], check=True) and None
        args = ["dig", "@" + server, "-p", "53", "+norec", "+noadflag", "+nocookie", "+nocmd",
                "+nostats", "+bufsize=1232", "-c", CLASS_NAMES[qclass], "-t",
                "TYPE%d" % qtype, "-q", qname]
        if do:
            args.append("+dnssec")
        if nsid:
            args.append("+nsid")
        out = subprocess.run(args, capture_output=True, text=True, timeout=10).stdout
        with open(os.path.join(here, name + ".dig"), "w") as f:
            f.write(out)
        print(name, len(resp))


if __name__ == "__main__":
    main()
