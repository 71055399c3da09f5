#!/usr/bin/env python3
"""ternd under valgrind memcheck over one real scenario (issue 6): the lab (a mini-Internet of NSD
servers, tools/lab) with ternd recursing from the lab's root hints; dig queries over UDP and TCP
(cold misses, cache hits, NXDOMAIN, NODATA, a CNAME chain across three zones, a truncated answer
fetched again over TCP), ternctl status/stats/flush/lookup over the control socket, a SIGHUP
reload, more queries on the reloaded resolver, then SIGTERM. Passes when valgrind reports
no errors and no definitely or indirectly lost bytes.

ternd must be the release (gcc) build: valgrind and ASan cannot run together, so an ASan ternd is
a skip. Needs root (port 53 on 127.N.x.y), nsd, dig, ss, valgrind. Exit 0 = pass, 77 = skipped.
Environment: TERND, TERNCTL (binaries), TERN_LAB_NET (default 127.69)."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ternlab  # noqa: E402
from ternlab import Daemon, Lab, check_expectation, dig  # noqa: E402

NET = os.environ.get("TERN_LAB_NET", "127.69")
# ternd runs 20-50x slower under memcheck: every wait below is generous but bounded.
START_TIMEOUT_S = 120     # valgrind start-up + config load + first answer
QUERY_TIMEOUT_S = 20      # per dig attempt
EXIT_TIMEOUT_S = 120      # SIGTERM to exit, including valgrind's leak scan
VALGRIND_ERROR_EXIT = 99

# The lab names asked, by lab.json id: (id, must match the lab's expectation exactly).
# Names whose resolution leans on timeouts (dead or lame servers) are asked for the code paths
# they exercise, but under valgrind's slowdown their answers are not asserted.
NAMES = [("in-bailiwick-glue", True), ("out-of-bailiwick-ns", True), ("cname-chain", True),
         ("dname", True), ("wildcard", True), ("wildcard-exact", True), ("wildcard-nodata", True),
         ("nxdomain", True), ("nodata", True), ("empty-non-terminal", True), ("ent-leaf", True),
         ("nxdomain-soa-ttl-wins", True), ("ttl-5", True), ("refused-and-live", False),
         ("lame-and-live", False), ("lame-only", False), ("dead-server", False)]


def asan_build(binary: Path) -> bool:
    """True if the binary carries the AddressSanitizer runtime (clang links it in statically)."""
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


def write_config(path: Path, listen: str, root_hints: Path, ctl: Path, level: str, max_size: str) -> None:
    # Recursion from the lab's root hints only; own control socket, never /run/tern/control.sock.
    path.write_text(f"""server:
  listen: ["{listen}:53"]
  access-control: [{{allow: 127.0.0.0/8}}]
resolver:
  mode: recursive
  root-hints: "{root_hints}"
cache: {{max-size: {max_size}}}
control: {{socket: "{ctl}"}}
logging: {{level: {level}}}
""")


def main() -> int:
    if os.geteuid() != 0:
        print("SKIP: needs root to bind port 53 on 127.x addresses")
        return 77
    valgrind = shutil.which("valgrind")
    if not valgrind:
        print("SKIP: valgrind not installed")
        return 77
    for tool in ("nsd", "dig", "ss"):
        if not shutil.which(tool):
            print(f"FAIL: {tool} not installed")
            return 1
    ternd_bin = ternlab.ternd_binary()
    if ternd_bin is None:
        print("FAIL: no ternd binary (build it, or set TERND)")
        return 1
    if asan_build(ternd_bin):
        print(f"SKIP: {ternd_bin} is an ASan build; valgrind needs the release build")
        return 77
    ternctl_bin = os.environ.get("TERNCTL") or str(ternd_bin.parent.parent / "tools" / "ternctl" / "ternctl")

    work = Path(ternlab.scratch_dir("test-valgrind"))
    lab = Lab(work / "lab", NET)
    vg_log = work / "valgrind.log"
    conf = work / "ternd.yaml"
    ctl = work / "control.sock"
    failures: list[str] = []
    ternd: Daemon | None = None
    t_start = time.monotonic()

    def expect(cond: bool, msg: str) -> None:
        print(("ok   - " if cond else "FAIL - ") + msg)
        if not cond:
            failures.append(msg)

    try:
        lab.up()
        addr = lab.resolver_addr(1)
        write_config(conf, addr, lab.root_hints, ctl, "info", "64MiB")
        argv = [valgrind, "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=definite,indirect",
                "--errors-for-leak-kinds=definite,indirect", f"--error-exitcode={VALGRIND_ERROR_EXIT}",
                "--track-fds=no", "--num-callers=30", f"--log-file={vg_log}",
                str(ternd_bin), "--config", str(conf)]
        print("# " + " ".join(argv))
        ternd = Daemon(argv, log=work / "ternd.log", name="ternd")
        ternd.start()
        ternd.wait_answering(addr, 53, timeout=START_TIMEOUT_S)
        print(f"# ternd (valgrind pid {ternd.pid}) recursing on {addr} over the lab on {NET}, "
              f"answering after {time.monotonic() - t_start:.1f}s")

        by_id = {e["id"]: e for e in lab.info["names"]}
        asked = 0

        def ask(qname: str, qtype: str = "A", **kw):
            nonlocal asked
            asked += 1
            return dig(addr, qname, qtype, timeout=QUERY_TIMEOUT_S, **kw)

        def ask_lab(ident: str, strict: bool, tcp: bool, fresh: bool) -> None:
            exp = by_id[ident]
            res = ask(exp["qname"], exp["qtype"], tcp=tcp)
            problems = check_expectation(exp, res, fresh=fresh)
            how = f"{ident}: {exp['qname']} {exp['qtype']} over {'TCP' if tcp else 'UDP'}"
            if strict:
                expect(not problems, how + (" -> " + "; ".join(problems) if problems else f" -> {res.rcode}"))
            else:
                print(f"#    {how} -> {res.rcode if res.ok else 'no reply'} (not asserted)")

        # Cold misses over UDP, then the same names from the cache over TCP.
        for ident, strict in NAMES:
            ask_lab(ident, strict, tcp=False, fresh=True)
        for ident, strict in NAMES:
            if strict:
                ask_lab(ident, strict, tcp=True, fresh=False)

        # A large answer: truncated over UDP with a small buffer, complete over TCP.
        udp = ask("big.glue.com", "TXT", bufsize=512, ignore_tc=True)
        expect(udp.ok and "tc" in udp.flags, f"big.glue.com TXT over UDP/512 is truncated (flags {udp.flags})")
        tcp = ask("big.glue.com", "TXT", tcp=True)
        problems = check_expectation(by_id["big-txt"], tcp, fresh=False)
        expect(not problems, "big.glue.com TXT over TCP is complete" + (": " + "; ".join(problems) if problems else ""))

        # Misses that are NXDOMAIN from a cached zone cut, over both transports.
        for i in range(4):
            res = ask(f"vg{i}-{os.getpid()}.neg.test", tcp=bool(i % 2))
            expect(res.ok and res.rcode == "NXDOMAIN", f"vg{i}.neg.test is NXDOMAIN ({res.rcode if res.ok else 'no reply'})")

        # The control socket.
        def ternctl(*args: str) -> tuple[int, str]:
            r = subprocess.run([ternctl_bin, "-s", str(ctl), *args], capture_output=True, text=True,
                               timeout=QUERY_TIMEOUT_S * 3)
            return r.returncode, (r.stdout + r.stderr).strip()

        if os.access(ternctl_bin, os.X_OK):
            for args in (("status",), ("stats", "--json"), ("lookup", "www.glue.com", "A"),
                         ("flush", "glue.com", "subtree")):
                rc, out = ternctl(*args)
                expect(rc == 0, f"ternctl {' '.join(args)} -> {rc}: {out[:160]}")
        else:
            print(f"#    no ternctl at {ternctl_bin}: control socket not exercised")

        # SIGHUP reload with a changed config (a new resolver and cache size), then queries again.
        write_config(conf, addr, lab.root_hints, ctl, "debug", "32MiB")
        os.kill(ternd.pid, signal.SIGHUP)
        deadline = time.monotonic() + START_TIMEOUT_S
        reloaded = False
        while time.monotonic() < deadline and ternd.running():
            log = (work / "ternd.log").read_text(errors="replace")
            if re.search(r"reload(ed)?\b.*(ok|done|complete|succeeded|applied)|configuration reloaded", log, re.I):
                reloaded = True
                break
            time.sleep(0.5)
        print(f"#    SIGHUP sent; reload {'seen in the log' if reloaded else 'not seen in the log (going on)'}")
        for ident in ("in-bailiwick-glue", "cname-chain", "nxdomain"):
            ask_lab(ident, True, tcp=False, fresh=False)
        ask_lab("cname-chain", True, tcp=True, fresh=False)
        expect(ternd.running(), "ternd is still running after the queries and the reload")
        print(f"# {asked} dig queries asked")

        # SIGTERM; valgrind then runs its leak check and exits with ternd's status (or 99).
        os.kill(ternd.pid, signal.SIGTERM)
        try:
            rc = ternd.proc.wait(timeout=EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            rc = None
        expect(rc is not None, f"ternd exits within {EXIT_TIMEOUT_S}s of SIGTERM")
        if rc is not None:
            expect(rc != VALGRIND_ERROR_EXIT, f"valgrind exit status is not {VALGRIND_ERROR_EXIT} (got {rc})")
            expect(rc == 0, f"ternd exits 0 on SIGTERM (got {rc})")
        report = vg_log.read_text(errors="replace") if vg_log.exists() else ""
        expect(re.search(r"ERROR SUMMARY: 0 errors", report) is not None,
               "valgrind: " + (re.findall(r"ERROR SUMMARY: .*", report) or ["no ERROR SUMMARY"])[-1])
        # Without a LEAK SUMMARY valgrind must say it had nothing to report.
        all_freed = "All heap blocks were freed -- no leaks are possible" in report
        for kind in ("definitely", "indirectly"):
            m = re.search(rf"{kind} lost: ([\d,]+) bytes", report)
            if m:
                expect(m.group(1) == "0", f"valgrind: {kind} lost: {m.group(1)} bytes")
            else:
                expect(all_freed, f"valgrind: no '{kind} lost' line, all heap blocks freed: {all_freed}")
        summary = [ln.split("== ", 1)[-1] for ln in report.splitlines()
                   if re.search(r"in use at exit|total heap usage|lost:|reachable:|All heap blocks", ln)]
        print("# valgrind: " + "\n# valgrind: ".join(summary or ["(no heap summary)"]))
        if failures and report:
            print("# valgrind report (first 200 lines):")
            print("\n".join(report.splitlines()[:200]))
    except Exception as e:  # set-up failure: report and fail
        failures.append(f"set-up: {type(e).__name__}: {e}")
        print(f"FAIL - set-up: {e}")
        traceback.print_exc()
    finally:
        if ternd is not None:
            ternd.stop()
        lab.down()
    print(f"# wall time {time.monotonic() - t_start:.1f}s; valgrind log {vg_log}")
    if failures:
        if ternd is not None:
            print("# ternd log tail:\n" + ternd.log_tail(40))
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
