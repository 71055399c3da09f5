#!/usr/bin/env python3
"""Integration test of tools/lab: the mini-Internet comes up, each server behaves as lab.json says,
every name in lab.json resolves through Unbound (the reference resolver) to its expected answer,
and `down` leaves nothing running.

Needs root (binds port 53 on 127.57.x.y and 127.58.x.y; override with TERN_LAB_NET / TERN_LAB_NET2),
nsd, unbound and dig. Exit status 0 = all checks passed."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ternlab  # noqa: E402
from ternlab import Lab, Unbound, check_expectation, dig, listening_sockets, pid_alive  # noqa: E402

NET = os.environ.get("TERN_LAB_NET", "127.57")
NET2 = os.environ.get("TERN_LAB_NET2", "127.58")
RESOLVE_TIMEOUT_S = 10   # Unbound may first try the dead server and wait out its timeout

results: list[tuple[str, str | None]] = []


def check(name: str):
    """Decorator-free check runner: call check(name)(fn) to run fn and record pass/fail."""
    def run(fn):
        try:
            fn()
            results.append((name, None))
            print(f"ok   - {name}")
        except Exception as e:  # a failed check must not stop the others (and teardown)
            msg = f"{type(e).__name__}: {e}"
            results.append((name, msg))
            print(f"FAIL - {name}\n       {msg}")
            if not isinstance(e, AssertionError):
                traceback.print_exc()
    return run


def expect(cond: bool, msg: str) -> None:
    if not cond:
        raise AssertionError(msg)


def server(lab: Lab, name: str) -> dict:
    return next(s for s in lab.info["servers"] if s["name"] == name)


def main() -> int:
    if os.geteuid() != 0:
        print("SKIP: needs root to bind port 53 on 127.x addresses")
        return 77
    for tool in ("nsd", "nsd-checkconf", "nsd-control", "unbound", "unbound-checkconf", "dig", "ss"):
        if not shutil.which(tool):
            print(f"FAIL: {tool} not installed")
            return 1
    work = Path(ternlab.scratch_dir("test-lab"))
    lab = Lab(work / "lab", NET)
    ub = None
    try:
        startup = lab.up()
        print(f"# lab up in {startup:.2f}s on {NET}")

        @check("the lab starts within 10 seconds")
        def _():
            expect(startup < 10.0, f"start-up took {startup:.2f}s")

        @check("every server listed in lab.json answers the SOA of its zone authoritatively")
        def _():
            bad = [(n, a) for n, a, pid, ok in lab.status() if not ok or not pid]
            expect(not bad, f"not answering: {bad}")
            addrs = [s["addr"] for s in lab.info["servers"]] + [d["addr"] for d in lab.info["dead"]]
            expect(len(addrs) == len(set(addrs)), "two servers share an address")
            expect(all(a.startswith(NET + ".") for a in addrs), "a server is outside the lab network")

        @check("there are at least 1000 generated zones spread over at least 4 servers")
        def _():
            expect(lab.info["bench"]["zone_count"] >= 1000, str(lab.info["bench"]))
            bench = [s for s in lab.info["servers"] if s["role"] == "bench"]
            expect(len(bench) >= 4, f"{len(bench)} bench servers")
            res = dig(server(lab, "bench-3")["addr"], "www.z0003.bench.test", "A", recurse=False)
            expect(res.ok and "aa" in res.flags and res.answer, res.raw)

        @check("root.hints names the two root servers with their lab addresses")
        def _():
            text = lab.root_hints.read_text()
            for n in ("root-a", "root-b"):
                expect(server(lab, n)["addr"] in text, text)

        @check("nothing listens on the dead server's address")
        def _():
            d = lab.info["dead"][0]
            expect(not dig(d["addr"], "www.dead.test", "A", recurse=False, timeout=1).ok, "got a reply")
            expect(not dig(d["addr"], "www.dead.test", "A", recurse=False, tcp=True, timeout=1).ok,
                   "got a TCP reply")

        @check("the REFUSED server answers REFUSED for the zones delegated to it")
        def _():
            addr = server(lab, "refused")["addr"]
            for q in ("www.refused.test", "www.refusedonly.test"):
                res = dig(addr, q, "A", recurse=False)
                expect(res.ok and res.rcode == "REFUSED", res.raw)

        @check("the lame server answers without AA, referring back to the zone it was asked about")
        def _():
            res = dig(server(lab, "lame")["addr"], "www.lameonly.test", "A", recurse=False)
            expect(res.ok and res.rcode == "NOERROR" and "aa" not in res.flags, res.raw)
            expect(not res.answer and [r.owner for r in res.rrs("NS", "authority")] == ["lameonly.test."],
                   res.raw)

        @check("the upward-lame server answers without AA, referring up to the test. servers")
        def _():
            res = dig(server(lab, "lame-up")["addr"], "www.lameuponly.test", "A", recurse=False)
            expect(res.ok and res.rcode == "NOERROR" and "aa" not in res.flags, res.raw)
            owners = {r.owner for r in res.rrs("NS", "authority")}
            expect(owners == {"test."}, res.raw)

        @check("the org servers delegate oob.org to NS names in net without glue")
        def _():
            res = dig(server(lab, "org-a")["addr"], "www.oob.org", "A", recurse=False)
            ns = {r.rdata for r in res.rrs("NS", "authority")}
            expect(ns == {"ns.hosting.net.", "ns-b.hosting.net."}, res.raw)
            expect(not res.rrs("A", "additional"), "glue present:\n" + res.raw)

        @check("the com servers delegate glue.com with in-bailiwick glue")
        def _():
            res = dig(server(lab, "com-a")["addr"], "www.glue.com", "A", recurse=False)
            glue = {r.owner: r.rdata for r in res.rrs("A", "additional")}
            expect(glue == {"ns1.glue.com.": server(lab, "leaf-a")["addr"],
                            "ns2.glue.com.": server(lab, "leaf-b")["addr"]}, res.raw)

        @check("an authoritative server truncates the big TXT RRset over UDP with a 1232-byte buffer")
        def _():
            addr = server(lab, "leaf-a")["addr"]
            res = dig(addr, "big.glue.com", "TXT", recurse=False, bufsize=1232, ignore_tc=True)
            expect(res.ok and "tc" in res.flags, res.raw)
            res = dig(addr, "big.glue.com", "TXT", recurse=False, tcp=True)
            expect(res.ok and res.size > 1232 and len(res.answer) == 6, res.raw)

        @check("NSD gives negative answers the SOA TTL min(SOA TTL, MINIMUM) that lab.json records")
        def _():
            for exp in lab.info["names"]:
                if "negative_soa" not in exp or "wild" in exp["qname"]:
                    continue
                zone = exp["negative_soa"]["owner"]
                auth = next(s for s in lab.info["servers"] if zone in s["zones"])
                res = dig(auth["addr"], exp["qname"], exp["qtype"], recurse=False)
                problems = check_expectation(exp, res)
                expect(not problems and "aa" in res.flags, f"{exp['id']}: {problems}\n{res.raw}")

        @check("check_expectation reports a wrong rcode, a wrong answer and a wrong negative TTL")
        def _():
            names = {e["id"]: e for e in lab.info["names"]}
            leaf = server(lab, "leaf-a")["addr"]
            glue = dig(leaf, "www.glue.com", "A", recurse=False)
            expect(not check_expectation(names["in-bailiwick-glue"], glue), "the right answer was rejected")
            expect(check_expectation(names["nxdomain"], glue), "a positive answer passed as NXDOMAIN")
            other = dig(leaf, "short.glue.com", "A", recurse=False)
            expect(check_expectation(names["in-bailiwick-glue"], other), "a wrong A record passed")
            nx = dig(leaf, "nx.negmin.test", "A", recurse=False)
            expect(not check_expectation(names["nxdomain-soa-ttl-wins"], nx), nx.raw)
            wrong_ttl = dict(names["nxdomain-soa-ttl-wins"], negative_soa=dict(owner="negmin.test.", ttl=600))
            expect(check_expectation(wrong_ttl, nx), "a negative TTL of 120 passed as 600")

        ub = Unbound(work / "unbound", lab.resolver_addr(1), 53, root_hints=lab.root_hints)
        ub.start()
        ub.wait_answering()
        before = lab.query_counts()
        t_first = time.monotonic()

        for exp in lab.info["names"]:
            want = dict(exp, **exp["unbound"]) if "unbound" in exp else exp
            if want.get("skip"):
                print(f"skip - Unbound resolves {exp['qname']} {exp['qtype']} ({exp['id']}): {want['why']}")
                continue

            @check(f"Unbound resolves {exp['qname']} {exp['qtype']} through the lab ({exp['id']})")
            def _(exp=exp, want=want):
                t = time.monotonic()
                res = dig(ub.addr, exp["qname"], exp["qtype"], ub.port, timeout=RESOLVE_TIMEOUT_S)
                problems = check_expectation(want, res)
                expect(not problems, f"{problems}\n{res.raw}")
                if exp.get("needs_tcp"):
                    expect(res.protocol == "TCP", f"answer came over {res.protocol}")
                print(f"       {time.monotonic() - t:.2f}s rcode {res.rcode}")

        @check("Unbound truncates the big TXT answer over UDP to a 1232-byte client and sends it whole over TCP")
        def _():
            res = dig(ub.addr, "big.glue.com", "TXT", ub.port, bufsize=1232, ignore_tc=True)
            expect(res.ok and "tc" in res.flags, res.raw)
            res = dig(ub.addr, "big.glue.com", "TXT", ub.port, tcp=True)
            expect(res.ok and len(res.answer) == 6, res.raw)

        @check("the lab counts the queries Unbound sent it (nsd-control stats)")
        def _():
            after = lab.query_counts()
            delta = {k: after[k] - before[k] for k in after}
            expect(sum(delta.values()) >= len(lab.info["names"]), str(delta))
            expect(delta["root-a"] + delta["root-b"] >= 1, str(delta))
            expect(delta["refused"] >= 1 and delta["lame"] >= 1 and delta["lame-up"] >= 1, str(delta))

        @check("the 5-second record is fetched again from the lab once its TTL has run out")
        def _():
            leaves = ("leaf-a", "leaf-b")
            c0 = lab.query_counts()
            wait = max(0.0, 6.5 - (time.monotonic() - t_first))
            time.sleep(wait)
            res = dig(ub.addr, "short.glue.com", "A", ub.port)
            c1 = lab.query_counts()
            expect(res.ok and res.answer and res.answer[0].ttl <= 5, res.raw)
            expect(sum(c1[x] - c0[x] for x in leaves) >= 1, f"no new upstream query: {c0} {c1}")

        ub.stop()
        ub = None

        @check("a second lab runs at the same time on another network through the CLI")
        def _():
            cli = [str(ternlab.REPO_ROOT / "tools" / "lab" / "lab")]
            d2 = str(work / "lab2")
            r = subprocess.run(cli + ["up", "--dir", d2, "--net", NET2], capture_output=True, text=True,
                               timeout=60)
            try:
                expect(r.returncode == 0, r.stdout + r.stderr)
                r = subprocess.run(cli + ["status", "--dir", d2, "--net", NET2], capture_output=True,
                                   text=True, timeout=60)
                expect(r.returncode == 0 and "NOT ANSWERING" not in r.stdout, r.stdout + r.stderr)
                res = dig(f"{NET2}.2.1", "www.glue.com", "A", recurse=False)
                expect(res.ok and res.answer and res.answer[0].rdata == "192.0.2.1", res.raw)
            finally:
                r = subprocess.run(cli + ["down", "--dir", d2, "--net", NET2], capture_output=True,
                                   text=True, timeout=60)
            expect(r.returncode == 0, r.stdout + r.stderr)
            expect(not listening_sockets(NET2, Lab(d2, NET2).addresses()), "still listening")

        pids = lab.pids()

        @check("down stops every server by PID and leaves nothing listening on the lab network")
        def _():
            lab.down()
            left = listening_sockets(NET, lab.addresses())
            expect(not left, str(left))
            alive = [p for p in pids.values() if pid_alive(p)]
            expect(not alive, f"still alive: {alive}")
            expect(not lab.pids(), f"pid files left: {lab.pids()}")
    except Exception:
        traceback.print_exc()
        results.append(("the test ran to completion", "exception"))
    finally:
        if ub is not None:
            ub.stop()
        lab.down(quiet=True)

    failed = [n for n, err in results if err]
    print(f"# {len(results) - len(failed)}/{len(results)} checks passed")
    if not failed:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"# kept {work} for inspection")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
