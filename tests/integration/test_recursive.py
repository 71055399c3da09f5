#!/usr/bin/env python3
"""ternd in recursive mode against the lab (a mini-Internet of real NSD servers, tools/lab):
every name in lab.json resolves through ternd to its expected answer, starting from the lab's
root hints; a second ask comes from the cache with a smaller TTL; truncation over UDP and the
full answer over TCP; the 5-second record is fetched again after it expires; dead, lame and
REFUSED servers are worked around (or end in SERVFAIL where nothing else can answer); and
ternd exits 0 on SIGTERM.

Needs root (port 53 on 127.N.x.y), nsd, dig. Exit 0 = all checks passed, 77 = skipped."""
from __future__ import annotations

import os
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ternlab  # noqa: E402
from ternlab import Lab, check_expectation, dig  # noqa: E402

NET = os.environ.get("TERN_LAB_NET", "127.61")
RESOLVE_TIMEOUT_S = 8  # per query: the resolution budget is shorter than this

results: list[tuple[str, str | None]] = []


def check(name: str):
    def run(fn):
        try:
            fn()
            results.append((name, None))
            print(f"ok   - {name}")
        except Exception as e:  # record and go on, so every check runs and teardown happens
            results.append((name, f"{type(e).__name__}: {e}"))
            print(f"FAIL - {name}\n       {type(e).__name__}: {e}")
            if not isinstance(e, AssertionError):
                traceback.print_exc()
    return run


def expect(cond: bool, msg: str) -> None:
    if not cond:
        raise AssertionError(msg)


def main() -> int:
    if os.geteuid() != 0:
        print("SKIP: needs root to bind port 53 on 127.x addresses")
        return 77
    for tool in ("nsd", "dig", "ss"):
        if not shutil.which(tool):
            print(f"FAIL: {tool} not installed")
            return 1
    if ternlab.ternd_binary() is None:
        print("FAIL: no ternd binary (build it, or set TERND)")
        return 1
    work = Path(ternlab.scratch_dir("test-recursive"))
    lab = Lab(work / "lab", NET)
    ternd = None
    try:
        lab.up()
        addr = lab.resolver_addr(1)
        ternd = ternlab.start_ternd(work / "ternd", addr, root_hints=lab.root_hints, level="info")
        ternd.wait_answering(addr, 53)
        print(f"# ternd pid {ternd.pid} recursing on {addr} over the lab on {NET}")

        def ask(qname: str, qtype: str = "A", **kw):
            return dig(addr, qname, qtype, timeout=RESOLVE_TIMEOUT_S, **kw)

        for exp in lab.info["names"]:
            @check(f"{exp['id']}: {exp['qname']} {exp['qtype']} resolves to {exp['rcode']} as the lab says")
            def _(exp=exp):
                res = ask(exp["qname"], exp["qtype"])
                problems = check_expectation(exp, res)
                expect(not problems, "; ".join(problems))

        @check("a second ask is answered from the cache with a smaller TTL")
        def _():
            first = ask("www.glue.com")
            time.sleep(2.1)
            t0 = time.monotonic()
            second = ask("www.glue.com")
            elapsed = time.monotonic() - t0
            expect(first.ok and second.ok and first.answer and second.answer, "no answer")
            expect(second.answer[0].ttl <= first.answer[0].ttl - 2,
                   f"TTL went {first.answer[0].ttl} -> {second.answer[0].ttl} in 2 s")
            expect(elapsed < 1.0, f"cached answer took {elapsed:.2f}s")

        @check("a large TXT answer is truncated over UDP with a 512-byte buffer and complete over TCP")
        def _():
            udp = ask("big.glue.com", "TXT", bufsize=512, ignore_tc=True)
            expect(udp.ok, "no UDP reply")
            expect("tc" in udp.flags, f"TC not set over UDP: flags {udp.flags}")
            expect(udp.size <= 512, f"UDP reply of {udp.size} bytes")
            tcp = ask("big.glue.com", "TXT", tcp=True)
            exp = next(e for e in lab.info["names"] if e["id"] == "big-txt")
            problems = check_expectation(exp, tcp, fresh=False)
            expect(not problems, "; ".join(problems))

        @check("the 5-second record is fetched again once it has expired")
        def _():
            first = ask("short.glue.com")
            expect(first.ok and first.answer, "no answer")
            time.sleep(first.answer[0].ttl + 1.1)
            again = ask("short.glue.com")
            expect(again.ok and again.answer, "no answer after expiry")
            expect(again.answer[0].ttl >= 4, f"TTL {again.answer[0].ttl} after expiry: served from an old entry")

        @check("after the first query, names in the zone with a dead server are answered without delay")
        def _():
            ask("www.dead.test")  # learns about the dead server
            slow = []
            for i in range(5):
                t0 = time.monotonic()
                res = ask(f"n{i}-{os.getpid()}.dead.test")
                took = time.monotonic() - t0
                expect(res.ok and res.rcode == "NXDOMAIN", f"n{i}.dead.test: {res.rcode if res.ok else 'no reply'}")
                if took > 0.5:
                    slow.append(f"{took:.2f}s")
            expect(not slow, f"slow answers: {slow}")

        @check("ternd is still running and exits 0 on SIGTERM")
        def _():
            expect(ternd.running(), "ternd died:\n" + ternd.log_tail())
            os.kill(ternd.pid, signal.SIGTERM)
            rc = ternd.proc.wait(timeout=10)
            expect(rc == 0, f"exit status {rc}:\n" + ternd.log_tail())
    except Exception as e:  # set-up failure: report and fail
        results.append(("set-up", f"{type(e).__name__}: {e}"))
        print(f"FAIL - set-up: {e}")
        traceback.print_exc()
    finally:
        if ternd is not None:
            ternd.stop()
        lab.down()
    failed = [n for n, m in results if m]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed and ternd is not None:
        print("# ternd log tail:\n" + ternd.log_tail(40))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
