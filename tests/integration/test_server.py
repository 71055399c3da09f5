#!/usr/bin/env python3
"""ternd server-side integration tests: the real daemon on loopback, real dig, a real NSD.

    python3 test_server.py CASE        (CASE: one of CASES below; `all` runs every case)

Each case uses its own addresses (NSD 127.53.200.N, ternd 127.53.201.N, N = the case number),
so ctest may run them in parallel. Exit status 0 = pass, 1 = fail, 77 = skipped (not root, or
a tool is missing).
"""
from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_env import (BIG_TXT, World, dig, frame, header, make_query, nsd_addr, random_bytes,  # noqa: E402
                        tcp_read_message, ternd_addr, udp_exchange, wait_until)

SKIP = 77


def check(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)


# ---- forwarding (need the c-ares forwarder) --------------------------------------------------

def case_cache(n: int) -> None:
    """Answers come from NSD, and a repeat comes from the cache with a smaller TTL."""
    with World(n) as w:
        r1 = w.dig("www.tern.test")
        check(r1.rcode == "NOERROR" and len(r1.rrs("A")) == 2, f"first answer: {r1.raw}")
        check("ra" in r1.flags and "aa" not in r1.flags, f"flags {r1.flags}")
        time.sleep(1.2)
        r2 = w.dig("www.tern.test")
        check(r2.rcode == "NOERROR" and len(r2.rrs("A")) == 2, f"second answer: {r2.raw}")
        check(r2.answer[0].ttl < r1.answer[0].ttl, f"TTL did not decrease: {r1.answer[0].ttl} -> {r2.answer[0].ttl}")
        # The question is echoed in the client's case (RFC 4343) even from the cache.
        r3 = w.dig("WwW.TeRn.TeSt")
        check("WwW.TeRn.TeSt." in r3.raw, "question case not kept")


def case_negative(n: int) -> None:
    """NXDOMAIN and NODATA carry the zone's SOA (RFC 2308), fresh and from the cache."""
    with World(n) as w:
        for _ in range(2):
            nx = w.dig("nope.tern.test")
            check(nx.rcode == "NXDOMAIN", f"nxdomain: {nx.raw}")
            check(len(nx.rrs("SOA", "authority")) == 1, f"no SOA with NXDOMAIN: {nx.raw}")
            nd = w.dig("www.tern.test", "AAAA")
            check(nd.rcode == "NOERROR" and not nd.answer, f"nodata: {nd.raw}")
            check(len(nd.rrs("SOA", "authority")) == 1, f"no SOA with NODATA: {nd.raw}")
            check(nd.authority[0].ttl <= 120, f"negative TTL above SOA MINIMUM: {nd.authority[0].ttl}")


def case_truncation(n: int) -> None:
    """A large TXT over UDP with a 512-octet buffer comes back TC=1; over TCP it is whole."""
    with World(n) as w:
        tcp = w.dig("big.tern.test", "TXT", tcp=True)
        check(tcp.rcode == "NOERROR" and len(tcp.rrs("TXT")) == 1, f"tcp: {tcp.raw}")
        check(tcp.size > 1232, f"tcp size {tcp.size}")
        for _ in range(2):  # from the resolution and then from the cache
            udp = w.dig("big.tern.test", "TXT", bufsize=512, ignore_tc=True)
            check("tc" in udp.flags, f"no TC with bufsize 512: {udp.raw}")
            check(udp.size <= 512, f"UDP reply of {udp.size} octets")
        plain = w.dig("big.tern.test", "TXT", ignore_tc=True, extra=["+noedns"])
        check("tc" in plain.flags and plain.size <= 512, f"no EDNS: {plain.raw}")


def case_pipelining(n: int) -> None:
    """Several queries on one TCP connection; a cache hit overtakes an earlier miss."""
    with World(n) as w:
        check(w.dig("www.tern.test").rcode == "NOERROR", "priming")
        with socket.create_connection((w.addr, 53), timeout=5) as s:
            # One write: a miss (id 1), a hit (id 2), another miss (id 3), split oddly.
            data = (frame(make_query(1, "a.tern.test")) + frame(make_query(2, "www.tern.test")) +
                    frame(make_query(3, "b.tern.test")))
            s.sendall(data[:1])
            time.sleep(0.05)
            s.sendall(data[1:17])
            time.sleep(0.05)
            s.sendall(data[17:])
            got = [header(tcp_read_message(s)) for _ in range(3)]
        ids = [h["id"] for h in got]
        check(sorted(ids) == [1, 2, 3], f"ids {ids}")
        check(ids[0] == 2, f"the cache hit did not come first: {ids}")
        check(all(h["rcode"] == 0 and h["ancount"] >= 1 for h in got), f"{got}")
        # A client that half-closes after its queries still gets every answer, then EOF.
        with socket.create_connection((w.addr, 53), timeout=5) as s:
            s.sendall(frame(make_query(4, "c.tern.test")) + frame(make_query(5, "www.tern.test")))
            s.shutdown(socket.SHUT_WR)
            ids = sorted(header(tcp_read_message(s))["id"] for _ in range(2))
            check(ids == [4, 5], f"after half-close: {ids}")
            check(s.recv(10) == b"", "connection not closed after the last answer")


def case_stale(n: int) -> None:
    """Upstream down: SERVFAIL within the timeout; with expired data: the stale answer, TTL 30."""
    extra = "cache: {serve-stale: {enabled: true, max-stale: 1h, client-timeout: 500ms}}\n"
    with World(n, extra=extra) as w:
        first = w.dig("short.tern.test")
        check(first.rcode == "NOERROR" and first.answer, f"priming: {first.raw}")
        w.nsd.stop()
        time.sleep(2.2)  # TTL 1 has run out
        t0 = time.monotonic()
        stale = w.dig("short.tern.test", timeout=5)
        check(stale.rcode == "NOERROR" and stale.answer, f"no stale answer: {stale.raw}")
        check(stale.answer[0].ttl == 30, f"stale TTL {stale.answer[0].ttl}")
        check(time.monotonic() - t0 < 4, "stale answer too slow")
        t0 = time.monotonic()
        fail = w.dig("never.tern.test", timeout=8)
        elapsed = time.monotonic() - t0
        check(fail.rcode == "SERVFAIL", f"upstream down: {fail.raw}")
        check(elapsed < 7, f"SERVFAIL took {elapsed:.1f}s")


def case_getent(n: int) -> None:
    """glibc's stub resolver (getent hosts) resolves through ternd via a private resolv.conf."""
    if not shutil_which("unshare") or not shutil_which("getent"):
        raise SkipCase("unshare/getent missing")
    with World(n) as w:
        conf = w.tmp / "resolv.conf"
        conf.write_text(f"nameserver {w.addr}\noptions timeout:2 attempts:1\n")
        script = f"mount --bind {conf} /etc/resolv.conf && exec getent hosts www.tern.test"
        out = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True,
                             timeout=20)
        check(out.returncode == 0 and "192.0.2." in out.stdout, f"getent: {out.returncode} {out.stdout} {out.stderr}")


# ---- server only (no upstream needed) --------------------------------------------------------

def case_acl(n: int) -> None:
    """A source outside access-control is REFUSED; the allowed source is served."""
    extra_server = '  chaos: {version: "tern-it", identity: ""}\n'
    with World(n, nsd=False, access="[{allow: 127.0.0.1/32}]",
               extra_server=extra_server) as w:
        bad = dig(w.addr, "version.bind", "TXT", qclass="CH", extra=["-b", "127.0.0.2"])
        check(bad.ok and bad.rcode == "REFUSED", f"from 127.0.0.2: {bad.raw}")
        bad_tcp = dig(w.addr, "www.tern.test", tcp=True, extra=["-b", "127.0.0.2"])
        check(bad_tcp.ok and bad_tcp.rcode == "REFUSED", f"from 127.0.0.2 over TCP: {bad_tcp.raw}")
        good = dig(w.addr, "version.bind", "TXT", qclass="CH", extra=["-b", "127.0.0.1"])
        check(good.rcode == "NOERROR" and "tern-it" in good.raw, f"from 127.0.0.1: {good.raw}")


def case_ipv6(n: int) -> None:
    """An IPv6 listen endpoint serves UDP and TCP, and the ACL sees ::1."""
    port = 5300 + n
    extra_server = '  chaos: {version: "tern-v6", identity: ""}\n'
    with World(n, nsd=False, extra_listen=f', "[::1]:{port}"', extra_server=extra_server,
               access='[{allow: 127.0.0.0/8}, {allow: "::1/128"}]') as w:
        for tcp in (False, True):
            r = dig("::1", "version.bind", "TXT", port=port, qclass="CH", tcp=tcp)
            check(r.rcode == "NOERROR" and "tern-v6" in r.raw, f"over ::1 (tcp={tcp}): {r.raw}")
    with World(n, nsd=False, extra_listen=f', "[::1]:{port}"', access="[{allow: 127.0.0.0/8}]") as w:
        r = dig("::1", "version.bind", "TXT", port=port, qclass="CH")
        check(r.rcode == "REFUSED", f"::1 outside the ACL: {r.raw}")


def case_malformed(n: int) -> None:
    """Random bytes, a cut header, QDCOUNT=2 and a bad TCP frame do not stop the server."""
    rng = random.Random(1234 + n)
    with World(n, nsd=False) as w:
        check(udp_exchange(w.addr, b"\x12\x34\x01", timeout=0.5) is None, "a 3-octet packet got a reply")
        r = udp_exchange(w.addr, make_query(7, "www.tern.test", qdcount=2))
        check(r is not None and header(r)["rcode"] == 1 and header(r)["id"] == 7, "qdcount=2 is not FORMERR")
        r = udp_exchange(w.addr, make_query(8, "www.tern.test", opcode=5))
        check(r is not None and header(r)["rcode"] == 4, "UPDATE is not NOTIMP")
        r = udp_exchange(w.addr, make_query(9, "www.tern.test", edns=1232)[:-5])
        check(r is not None and header(r)["rcode"] == 1, "cut OPT is not FORMERR")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(300):
                s.sendto(random_bytes(rng, rng.randint(0, 600)), (w.addr, 53))
        with socket.create_connection((w.addr, 53), timeout=3) as s:
            s.sendall(b"\x00\x00")  # a zero length closes the connection
            s.settimeout(3)
            check(s.recv(10) == b"", "zero-length frame did not close the connection")
        with socket.create_connection((w.addr, 53), timeout=3) as s:
            s.sendall(frame(random_bytes(rng, 40)) + frame(make_query(11, "version.bind", 16, qclass=3)[:20]))
            s.settimeout(3)
            try:
                s.recv(100)
            except socket.timeout:
                pass
        check(w.ternd.exited() is None, "ternd died")
        ok = w.dig("version.bind", "TXT", qclass="CH")
        check(ok.ok and ok.rcode == "REFUSED", f"server no longer answers: {ok.raw}")


def case_tcp_limits(n: int) -> None:
    """Idle connections are closed after the idle timeout; at max-connections the oldest idle
    connection makes room for a new one."""
    extra_server = "  tcp: {idle-timeout: 1s, max-connections: 2}\n"
    with World(n, nsd=False, extra_server=extra_server) as w:
        s1 = socket.create_connection((w.addr, 53), timeout=5)
        time.sleep(0.1)
        s2 = socket.create_connection((w.addr, 53), timeout=5)
        time.sleep(0.1)
        s3 = socket.create_connection((w.addr, 53), timeout=5)
        try:
            s1.settimeout(2)
            check(s1.recv(10) == b"", "the oldest idle connection was not closed at the cap")
            s3.sendall(frame(make_query(5, "version.bind", 16, qclass=3)))
            s3.settimeout(3)
            check(header(tcp_read_message(s3))["id"] == 5, "the new connection is not served")
            t0 = time.monotonic()
            s2.settimeout(4)
            check(s2.recv(10) == b"", "idle connection not closed")
            check(time.monotonic() - t0 < 3, "idle timeout too slow")
        finally:
            for s in (s1, s2, s3):
                s.close()


def case_sighup(n: int) -> None:
    """SIGHUP with a broken file logs the errors and keeps serving; a good file is applied."""
    extra_server = '  chaos: {version: "one", identity: ""}\n'
    with World(n, nsd=False, extra_server=extra_server) as w:
        check("one" in w.dig("version.bind", "TXT", qclass="CH").raw, "version before reload")
        good = w.ternd.conf.read_text()
        w.ternd.conf.write_text(good + "server: {listen: [oops\n  bogus-key: 1\n")
        w.ternd.signal(signal.SIGHUP)
        wait_until(lambda: "reload failed" in w.ternd.log_text(), 5, what="reload failure in the log")
        check(w.ternd.exited() is None, "ternd died on a broken reload")
        check("one" in w.dig("version.bind", "TXT", qclass="CH").raw, "not serving the old config")
        w.ternd.conf.write_text(good.replace('"one"', '"two"'))
        w.ternd.signal(signal.SIGHUP)
        wait_until(lambda: "configuration reloaded" in w.ternd.log_text(), 5, what="reload in the log")
        check("two" in w.dig("version.bind", "TXT", qclass="CH").raw, "new config not applied")


def case_sigterm(n: int) -> None:
    """SIGTERM (and SIGINT) stop the daemon with exit status 0, promptly."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        with World(n, nsd=False) as w:
            # A TCP client that stays connected must not hold the exit up.
            with socket.create_connection((w.addr, 53), timeout=3):
                t0 = time.monotonic()
                w.ternd.signal(sig)
                rc = w.ternd.wait_exit(5)
            check(rc == 0, f"exit status {rc} after {sig}:\n{w.ternd.log_text()}")
            check(time.monotonic() - t0 < 4, "stop took too long")


def case_bind_errors(n: int) -> None:
    """Binding errors name the endpoint, the cause and the fix; the daemon exits 1."""
    with World(n, nsd=False) as w:
        # The same address again: in use.
        from server_env import Ternd, ternd_config
        other_dir = w.tmp / "second"
        other_dir.mkdir()
        t2 = Ternd(other_dir, w.addr, ternd_config(n))
        t2.start(wait=False)
        rc = t2.wait_exit(10)
        check(rc == 1, f"second ternd exit status {rc}")
        check("address in use" in t2.log_text() and f"{w.addr}:53" in t2.log_text(),
              f"in-use message: {t2.log_text()}")
    if not shutil_which("setpriv"):
        return
    with World(n, nsd=False) as w:
        pass  # just frees the address for the unprivileged attempt below
    from server_env import Ternd, ternd_config
    import tempfile
    d = Path(tempfile.mkdtemp(prefix="tern-bind-"))
    os.chmod(d, 0o755)
    t3 = Ternd(d, ternd_addr(n), ternd_config(n))
    os.chmod(t3.conf, 0o644)
    t3.log.touch()
    os.chmod(t3.log, 0o666)
    t3.start(wait=False, argv_prefix=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                      "--inh-caps=-all", "--bounding-set=-all"])
    rc = t3.wait_exit(10)
    text = t3.log_text()
    t3.stop()
    check(rc == 1, f"unprivileged exit status {rc}: {text}")
    check("permission denied" in text and "CAP_NET_BIND_SERVICE" in text and f"{ternd_addr(n)}:53" in text,
          f"permission message: {text}")


class SkipCase(Exception):
    pass


def shutil_which(cmd: str) -> bool:
    import shutil
    return shutil.which(cmd) is not None


CASES = {
    "cache": (1, case_cache),
    "negative": (2, case_negative),
    "truncation": (3, case_truncation),
    "pipelining": (4, case_pipelining),
    "stale": (5, case_stale),
    "getent": (6, case_getent),
    "acl": (7, case_acl),
    "malformed": (8, case_malformed),
    "tcp_limits": (9, case_tcp_limits),
    "sighup": (10, case_sighup),
    "sigterm": (11, case_sigterm),
    "bind_errors": (12, case_bind_errors),
    "ipv6": (13, case_ipv6),
}


def main(argv: list) -> int:
    if os.geteuid() != 0:
        print("skipped: needs root (NSD and ternd bind port 53 on 127.53.x.y)")
        return SKIP
    for tool in ("dig", "nsd"):
        if not shutil_which(tool):
            print(f"skipped: {tool} not installed")
            return SKIP
    names = list(CASES) if len(argv) < 2 or argv[1] == "all" else argv[1:]
    failed = 0
    for name in names:
        n, fn = CASES[name]
        t0 = time.monotonic()
        try:
            fn(n)
            print(f"PASS {name} ({time.monotonic() - t0:.1f}s)")
        except SkipCase as e:
            print(f"SKIP {name}: {e}")
            if len(names) == 1:
                return SKIP
        except Exception as e:  # noqa: BLE001 - report every failure the same way
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
