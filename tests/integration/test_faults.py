#!/usr/bin/env python3
"""Upstream faults: ternd recursing over the lab, where zones under evil.test are delegated (from
the lab's test. servers, with glue) to scripted misbehaving servers (evilns.py) on NET.5.x.
Each fault ends in the correct answer or SERVFAIL within the resolution budget
(kMaxResolutionTimeMs), no reply ever carries a forged record, the upstream work a hostile zone
can cause stays within the iterator's budgets (lib/resolver/limits.hpp), the lab's true answers
(the victim names) survive every scenario, and ternd stays up.

Needs root (port 53 on 127.N.x.y), nsd, dig. Exit 0 = all passed, 77 = skipped."""
from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ternlab  # noqa: E402
from attacklib import Table, check_victims, expect, recursive_yaml, skip_unless_ready, start_ternd_yaml  # noqa: E402
from evilns import FORGED_ADDR, EvilServer  # noqa: E402
from ternlab import Lab, dig  # noqa: E402

NET = os.environ.get("TERN_LAB_NET", "127.62")
# lib/resolver/limits.hpp
K_MAX_RESOLUTION_S = 10.0
K_MAX_UPSTREAM_QUERIES = 50
K_MAX_CNAME_CHAIN = 11
K_MAX_GLUELESS = 6
K_MAX_NS_PER_DELEGATION = 13
BUDGET_SLACK_S = 1.5          # dig start-up, scheduling on a loaded 2-core machine
GENUINE = "192.0.2.200"       # what every honest evilns answer carries


def evil(n: int) -> str:
    return f"{NET}.5.{n}"


# zone -> (server address, mode, options); the lab delegates each zone to ns.<zone> with glue.
SERVERS = {
    "oob.evil.test": (1, "oob", {}),
    "to.evil.test": (2, "timeout", {}),
    "slow.evil.test": (3, "slow", dict(delay_ms=1200)),
    "wid.evil.test": (4, "wrong_id", {}),
    "wq.evil.test": (5, "wrong_question", {}),
    "wp.evil.test": (6, "wrong_port", {}),
    "trunc.evil.test": (7, "truncated", {}),
    "garb.evil.test": (8, "garbage", {}),
    "tc.evil.test": (9, "tc", {}),
    "cname.evil.test": (12, "cname_loop", {}),
    "nxns.evil.test": (13, "nxns", dict(victim_zone="victim.evil.test", ns_count=200)),
    "victim.evil.test": (14, "nxdomain", {}),
}
# half.evil.test: one server that never answers and one good one.
HALF = {"ns1.half.evil.test": (15, "timeout"), "ns2.half.evil.test": (16, "good")}


def main() -> int:
    rc = skip_unless_ready()
    if rc is not None:
        return rc
    deleg = {z: {f"ns.{z}": evil(n)} for z, (n, _, _) in SERVERS.items()}
    # The referral loop: loop.evil.test has two servers that each refer the zone to the other.
    deleg["loop.evil.test"] = {"ns-a.loop.evil.test": evil(10)}
    deleg["half.evil.test"] = {h: evil(n) for h, (n, _) in HALF.items()}
    work = Path(ternlab.scratch_dir("test-faults"))
    lab = Lab(work / "lab", NET, extra_delegations=deleg)
    servers: dict[str, EvilServer] = {}
    ternd = None
    table = Table("upstream faults")
    try:
        for z, (n, mode, kw) in SERVERS.items():
            servers[z] = EvilServer(evil(n), z, mode, **kw).start()
        servers["loop-a"] = EvilServer(evil(10), "loop.evil.test", "referral_loop", peer_addr=evil(11),
                                       peer_ns="ns-b").start()
        for h, (n, mode) in HALF.items():
            servers[h] = EvilServer(evil(n), "half.evil.test", mode).start()
        servers["loop-b"] = EvilServer(evil(11), "loop.evil.test", "referral_loop", peer_addr=evil(10),
                                       peer_ns="ns-a").start()
        lab.up()
        addr = lab.resolver_addr(1)
        ternd = start_ternd_yaml(work / "ternd", recursive_yaml([f"{addr}:53"], lab.root_hints), addr)
        print(f"# ternd pid {ternd.pid} on {addr}; lab {NET}; scripted servers on {NET}.5.x")

        def ask(qname: str, qtype: str = "A"):
            t0 = time.monotonic()
            res = dig(addr, qname, qtype, timeout=K_MAX_RESOLUTION_S + 3)
            return res, time.monotonic() - t0

        def rdatas(res) -> set:
            return {rr.rdata for sec in (res.answer, res.authority, res.additional) for rr in sec}

        def within_budget(res, took: float) -> None:
            expect(res.ok, f"no reply within {K_MAX_RESOLUTION_S + 3:.0f}s (the resolver dropped the query)")
            expect(took <= K_MAX_RESOLUTION_S + BUDGET_SLACK_S, f"took {took:.1f}s, budget {K_MAX_RESOLUTION_S}s")
            expect(FORGED_ADDR not in rdatas(res), f"forged {FORGED_ADDR} in the reply")

        def answer_or_servfail(res, took: float, must_answer: bool) -> str:
            within_budget(res, took)
            got = sorted(rr.rdata for rr in res.answer if rr.rtype == "A")
            if res.rcode == "NOERROR" and got == [GENUINE]:
                return f"correct answer {GENUINE} in {took:.1f}s"
            expect(not must_answer, f"{res.rcode} {got} in {took:.1f}s, expected the answer {GENUINE}")
            expect(res.rcode == "SERVFAIL", f"{res.rcode} {got} in {took:.1f}s: neither the answer nor SERVFAIL")
            return f"SERVFAIL in {took:.1f}s"

        # Out-of-bailiwick first, while glue.com is not yet cached: the hijack has its best chance.
        with table.scenario("out-of-bailiwick records",
                            "answer with com./glue.com. NS hijacked to the attacker, www.glue.com A "
                            f"{FORGED_ADDR} and ns1.glue.com A <attacker> in additional") as r:
            res, took = ask("www.oob.evil.test")
            r.result = answer_or_servfail(res, took, must_answer=True)
            problems = check_victims(addr, FORGED_ADDR)
            asked = [q for q, _ in servers["oob.evil.test"].qnames if not q.endswith("oob.evil.test.")]
            expect(not problems, "; ".join(problems))
            expect(not asked, f"the attacker's server was asked about names outside its zone: {asked[:5]}")
            r.result += "; victims true; attacker never asked about glue.com/com"

        # The rest run concurrently (each has its own zone and server), each bounded by dig's timeout.
        cases = [
            ("timeout", "to.evil.test: never answers (UDP dropped, TCP held)", "www.to.evil.test", False),
            ("slow", "slow.evil.test: answers after 1.2 s (the first RTO is 0.8 s)", "www.slow.evil.test", True),
            ("wrong ID", "forged answer with another ID, then the genuine one", "www.wid.evil.test", True),
            ("wrong question", "forged answer for www.glue.com with the right ID, then the genuine one",
             "www.wq.evil.test", True),
            ("wrong source port", "forged answer (right ID and question) from another port, then the "
             "genuine one from 53", "www.wp.evil.test", True),
            ("truncated packet", "the answer cut inside its last record, TC clear", "www.trunc.evil.test", False),
            ("garbage packet", "the right ID followed by random bytes", "www.garb.evil.test", False),
            ("TC=1 over UDP", "UDP: TC=1 and nothing else; TCP: the answer", "www.tc.evil.test", True),
        ]
        with ThreadPoolExecutor(max_workers=len(cases) + 3) as pool:
            futs = {c[0]: pool.submit(ask, c[2]) for c in cases}
            f_loop = pool.submit(ask, "www.loop.evil.test")
            f_cname = pool.submit(ask, "loopa.cname.evil.test")
            f_chain = pool.submit(ask, "chain1.cname.evil.test")
            f_half = pool.submit(ask, "www.half.evil.test")
            results = {k: f.result() for k, f in futs.items()}
            loop_res, cname_res, chain_res = f_loop.result(), f_cname.result(), f_chain.result()
            half_res = f_half.result()

        with table.scenario("one dead server of two", "half.evil.test: ns1 never answers, ns2 is good") as r:
            res, took = half_res
            r.result = answer_or_servfail(res, took, must_answer=True)
            # Server choice among unknown servers is random: ask more names (bounded) until the
            # dead one has been tried, each must still get the answer.
            for i in range(6):
                if servers["ns1.half.evil.test"].queries:
                    break
                res, took = ask(f"w{i}.half.evil.test")
                answer_or_servfail(res, took, must_answer=True)
            r.result += (f"; ns1 saw {servers['ns1.half.evil.test'].queries}, "
                         f"ns2 {servers['ns2.half.evil.test'].queries} queries")

        for name, tried, qname, must in cases:
            with table.scenario(name, tried) as r:
                res, took = results[name]
                r.result = answer_or_servfail(res, took, must)
                srv = servers[qname.split(".", 1)[1]]
                r.result += f"; server saw {srv.queries} queries ({srv.tcp_queries} TCP)"
                expect(srv.queries <= K_MAX_UPSTREAM_QUERIES,
                       f"{srv.queries} queries to one server for one client query (budget {K_MAX_UPSTREAM_QUERIES})")

        with table.scenario("referral loop", "loop.evil.test: ns-a refers the zone to ns-b, ns-b back to ns-a") as r:
            res, took = loop_res
            r.result = answer_or_servfail(res, took, must_answer=False)
            n = servers["loop-a"].queries + servers["loop-b"].queries
            r.result += f"; {n} queries to the two servers"
            expect(n <= K_MAX_UPSTREAM_QUERIES, f"{n} queries > kMaxUpstreamQueries {K_MAX_UPSTREAM_QUERIES}")

        with table.scenario("CNAME loop", "loopa CNAME loopb CNAME loopa; chain1 -> chain2 -> ... endless") as r:
            res, took = cname_res
            r.result = "loop: " + answer_or_servfail(res, took, must_answer=False)
            res2, took2 = chain_res
            r.result += "; chain: " + answer_or_servfail(res2, took2, must_answer=False)
            chain_hops = max((int(q.split(".")[0][5:]) for q, _ in servers["cname.evil.test"].qnames
                              if q.startswith("chain") and q.split(".")[0][5:].isdigit()), default=0)
            n = servers["cname.evil.test"].queries
            r.result += f"; longest chain followed: chain{chain_hops}; {n} queries for both"
            expect(chain_hops <= K_MAX_CNAME_CHAIN + 2, f"followed the chain to chain{chain_hops}, "
                   f"kMaxCnameChain is {K_MAX_CNAME_CHAIN}")
            expect(n <= 2 * K_MAX_UPSTREAM_QUERIES, f"{n} queries for two client queries")

        with table.scenario("200 NS names without glue (NXNS)",
                            "nxns.evil.test refers www.nxns.evil.test to ns0..ns199.victim.evil.test, no glue; "
                            "the victim answers NXDOMAIN") as r:
            before = {k: s.queries for k, s in servers.items()}
            lab_before = sum(lab.query_counts().values())
            res, took = ask("www.nxns.evil.test")
            r.result = answer_or_servfail(res, took, must_answer=False)
            victim = servers["victim.evil.test"]
            victim_q = victim.queries - before["victim.evil.test"]
            names = {q for q, _ in victim.qnames if q.startswith("ns") and q.endswith("victim.evil.test.")}
            evil_q = sum(s.queries - before[k] for k, s in servers.items())
            lab_q = sum(lab.query_counts().values()) - lab_before
            r.result += (f"; victim got {victim_q} queries for {len(names)} distinct NS names; "
                         f"upstream total {evil_q + lab_q} (scripted {evil_q}, lab {lab_q})")
            expect(len(names) <= K_MAX_NS_PER_DELEGATION,
                   f"{len(names)} NS names looked up > kMaxNsPerDelegation {K_MAX_NS_PER_DELEGATION}")
            expect(evil_q + lab_q <= K_MAX_UPSTREAM_QUERIES,
                   f"{evil_q + lab_q} upstream queries for one client query > {K_MAX_UPSTREAM_QUERIES}")

        with table.scenario("cache not poisoned, process up",
                            "after every fault: the lab's victim names and a second round of the "
                            "spoofed names") as r:
            problems = check_victims(addr, FORGED_ADDR)
            for qname in ("www.wid.evil.test", "www.wq.evil.test", "www.wp.evil.test", "www.oob.evil.test"):
                res = dig(addr, qname, "A", timeout=8)
                got = sorted(rr.rdata for rr in res.answer if rr.rtype == "A")
                if got != [GENUINE]:
                    problems.append(f"{qname}: {res.rcode if res.ok else 'no reply'} {got}")
            expect(not problems, "; ".join(problems))
            expect(ternd.running(), "ternd died:\n" + ternd.log_tail())
            r.result = f"{len(problems)} problems; ternd pid {ternd.pid} still running"
    except Exception as e:
        with table.scenario("set-up", "lab, scripted servers, ternd") as r:
            raise e
    finally:
        if ternd is not None:
            ternd.stop()
        for s in servers.values():
            s.stop()
        lab.down()
    table.print()
    if table.exit_code() and ternd is not None:
        print("# ternd log tail:\n" + ternd.log_tail(30))
    return table.exit_code()


if __name__ == "__main__":
    sys.exit(main())
