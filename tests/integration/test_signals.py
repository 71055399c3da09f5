#!/usr/bin/env python3
"""Bad config and signals against ternd recursing over the lab:

- SIGHUP with a broken file: ternd keeps serving with the old configuration and logs why.
- SIGHUP storm: 50 SIGHUPs in ~1 s with valid files that alternate a resolver setting (each
  reload builds a new resolver): still serving, no crash, no file-descriptor leak.
- SIGTERM under load (dnsperf, cache hits and cold names): exit 0 within the stop grace
  (lib/server kDefaultStopGraceMs = 2 s) plus a margin.

Needs root, nsd, dig, dnsperf. Exit 0 = all passed, 77 = skipped."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ternlab  # noqa: E402
from attacklib import Table, expect, fd_count, recursive_yaml, skip_unless_ready, start_ternd_yaml  # noqa: E402
from ternlab import Lab, dig, stop_pid  # noqa: E402

NET = os.environ.get("TERN_LAB_NET", "127.66")
STOP_GRACE_S = 2.0        # lib/server/server.hpp kDefaultStopGraceMs
STOP_MARGIN_S = 1.0
STORM = 50


def served(addr: str) -> list[str]:
    problems = []
    for qname, want in (("www.glue.com", "192.0.2.1"), (f"s{time.monotonic_ns() % 10**9}.wild.test", "192.0.2.5")):
        res = dig(addr, qname, "A", timeout=3)
        got = [rr.rdata for rr in res.answer if rr.rtype == "A"]
        if not res.ok or got != [want]:
            problems.append(f"{qname}: {res.rcode if res.ok else 'no reply'} {got}")
    return problems


def main() -> int:
    rc = skip_unless_ready(("nsd", "dig", "ss", "dnsperf"))
    if rc is not None:
        return rc
    work = Path(ternlab.scratch_dir("test-signals"))
    lab = Lab(work / "lab", NET)
    ternd = None
    perf = None
    table = Table("bad config and signals")
    try:
        lab.up()
        addr = lab.resolver_addr(1)
        good = recursive_yaml([f"{addr}:53"], lab.root_hints)
        ternd = start_ternd_yaml(work / "ternd", good, addr)
        conf = work / "ternd" / "ternd.yaml"
        print(f"# ternd pid {ternd.pid} on {addr}; lab {NET}")
        expect(not served(addr), "not serving at start")

        with table.scenario("SIGHUP with a broken file",
                            "config replaced by bad YAML, then by a wrong type (cache.max-size: lots); SIGHUP each") as r:
            outcomes = []
            for broken in ("server:\n  listen: [\"x\n  : :\n", good.replace("max-size: 64MiB", "max-size: lots")):
                log_before = ternd.log.stat().st_size
                conf.write_text(broken)
                os.kill(ternd.pid, signal.SIGHUP)
                time.sleep(0.5)
                log = ternd.log.read_text(errors="replace")[log_before:]
                problems = served(addr)
                expect(ternd.running(), "ternd died on SIGHUP with a broken file:\n" + ternd.log_tail())
                expect(not problems, "not serving after the failed reload: " + "; ".join(problems))
                expect("reload failed" in log, f"the log does not say the reload failed: {log.strip()[-300:]}")
                outcomes.append(next((ln for ln in log.splitlines() if "reload failed" in ln), "?").split("] ", 1)[-1])
            conf.write_text(good)
            r.result = "still serving; log: " + " / ".join(outcomes)

        with table.scenario("SIGHUP storm",
                            f"{STORM} SIGHUPs in ~1 s, the file alternating qname-minimisation relaxed/strict "
                            "(a new resolver per reload)") as r:
            served(addr)
            time.sleep(0.3)
            fds_before = fd_count(ternd.pid)
            variants = [good.replace("  mode: recursive\n", f"  mode: recursive\n  qname-minimisation: {m}\n")
                        for m in ("strict", "relaxed")]
            log_before = ternd.log.stat().st_size
            t0 = time.monotonic()
            for i in range(STORM):
                conf.write_text(variants[i % 2])
                os.kill(ternd.pid, signal.SIGHUP)
                time.sleep(0.02)
            took = time.monotonic() - t0
            time.sleep(1.0)
            problems = served(addr)
            time.sleep(0.5)
            fds_after = fd_count(ternd.pid)
            log = ternd.log.read_text(errors="replace")[log_before:]
            reloads = log.count("configuration reloaded")
            r.result = (f"{STORM} SIGHUPs in {took:.1f}s, {reloads} reloads logged; fds {fds_before} -> {fds_after}; "
                        f"{'serving' if not problems else problems}")
            expect(ternd.running(), "ternd died in the SIGHUP storm:\n" + ternd.log_tail())
            expect(not problems, "; ".join(problems))
            expect(fds_after <= fds_before + 2, f"file descriptors grew {fds_before} -> {fds_after}")
            expect(reloads >= 1, "no reload logged")

        with table.scenario("SIGTERM under load",
                            "dnsperf (cache hits and cold names, 8 s, up to 20k qps); SIGTERM after 2 s") as r:
            qfile = work / "load.queries"
            lines = []
            for i in range(20000):
                lines.append("www.glue.com A\n" if i % 2 else f"term{i}.wild.test A\n")
            qfile.write_text("".join(lines))
            perf = subprocess.Popen(["dnsperf", "-s", addr, "-p", "53", "-d", str(qfile), "-l", "8", "-Q", "20000",
                                     "-c", "4", "-q", "200", "-t", "2"], stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
            time.sleep(2.0)
            expect(perf.poll() is None, "dnsperf ended early")
            t0 = time.monotonic()
            os.kill(ternd.pid, signal.SIGTERM)
            try:
                code = ternd.proc.wait(timeout=STOP_GRACE_S + STOP_MARGIN_S + 5)
            except subprocess.TimeoutExpired:
                code = None
            took = time.monotonic() - t0
            r.result = f"exit status {code} after {took:.2f}s (deadline {STOP_GRACE_S + STOP_MARGIN_S:.0f}s)"
            expect(code == 0, f"exit status {code}:\n" + ternd.log_tail())
            expect(took <= STOP_GRACE_S + STOP_MARGIN_S, f"stopping took {took:.2f}s")
            out, _ = perf.communicate(timeout=15)
            sent = next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if "Queries sent" in ln), "?")
            r.result += f"; dnsperf had sent {sent} queries"
    except Exception as e:
        with table.scenario("set-up", "lab, ternd") as r:
            raise e
    finally:
        if perf is not None and perf.poll() is None:
            stop_pid(perf.pid, "dnsperf", "dnsperf")
        if ternd is not None:
            ternd.stop()
        lab.down()
    table.print()
    return table.exit_code()


if __name__ == "__main__":
    sys.exit(main())
