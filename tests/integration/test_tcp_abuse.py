#!/usr/bin/env python3
"""TCP abuse against ternd (server.tcp: {idle-timeout: 2s, max-connections: 20}), recursing over
the lab: 2 x max-connections idle connections, slowloris writers (one byte per 500 ms), and a
client that pipelines 100 queries with large answers and never reads. Meanwhile legitimate dig
clients over UDP and TCP must be answered; idle connections must be closed within idle-timeout
+ 1 s; every abusive connection must be gone within a bound.

Needs root, nsd, dig. Exit 0 = all passed, 77 = skipped."""
from __future__ import annotations

import os
import select
import socket
import struct
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ternlab  # noqa: E402
from attacklib import Table, expect, recursive_yaml, skip_unless_ready, start_ternd_yaml  # noqa: E402
from evilns import T_A, build_query  # noqa: E402
from ternlab import Lab, dig  # noqa: E402

NET = os.environ.get("TERN_LAB_NET", "127.64")
IDLE_S = 2.0
MAX_CONN = 20
LATE_S = 1.0          # allowed lateness of an idle close (timer + scheduling)
MSG_DEADLINE_S = 2.0  # kMessageDeadlineMs in lib/server/tcp_listener.hpp: first byte to last
T_TXT = 16


def legit_clients(addr: str) -> list[str]:
    """Problems of one UDP and one TCP dig for a cached and an uncached name ([] = served)."""
    problems = []
    for qname, want in (("www.glue.com", "192.0.2.1"), (f"t{time.monotonic_ns() % 10**9}.wild.test", "192.0.2.5")):
        for tcp in (False, True):
            t0 = time.monotonic()
            res = dig(addr, qname, "A", timeout=2, tcp=tcp)
            took = time.monotonic() - t0
            got = [rr.rdata for rr in res.answer if rr.rtype == "A"]
            if not res.ok or got != [want] or took > 2.0:
                problems.append(f"{'TCP' if tcp else 'UDP'} {qname}: {res.rcode if res.ok else 'no reply'} "
                                f"{got} in {took:.1f}s")
    return problems


def watch_close(socks: list, opened: list, bound_s: float) -> list:
    """Seconds from open to the server's close for each socket (None: still open after bound_s).
    Reads and discards whatever arrives; bounded by bound_s."""
    closed_at: list = [None] * len(socks)
    deadline = time.monotonic() + bound_s
    live = {s.fileno(): i for i, s in enumerate(socks)}
    while live and time.monotonic() < deadline:
        r, _, _ = select.select([socks[i] for i in live.values()], [], [], 0.1)
        for s in r:
            i = live[s.fileno()]
            try:
                data = s.recv(65535)
            except OSError:
                data = b""
            if not data:
                closed_at[i] = time.monotonic() - opened[i]
                del live[s.fileno()]
    return closed_at


def main() -> int:
    rc = skip_unless_ready()
    if rc is not None:
        return rc
    work = Path(ternlab.scratch_dir("test-tcp-abuse"))
    lab = Lab(work / "lab", NET)
    ternd = None
    socks: list[socket.socket] = []
    stop = threading.Event()
    table = Table("TCP abuse")
    try:
        lab.up()
        addr = lab.resolver_addr(1)
        ternd = start_ternd_yaml(
            work / "ternd",
            recursive_yaml([f"{addr}:53"], lab.root_hints,
                           extra_server=f"  tcp: {{idle-timeout: {int(IDLE_S)}s, max-connections: {MAX_CONN}}}\n"),
            addr)
        print(f"# ternd pid {ternd.pid} on {addr}; lab {NET}")
        dig(addr, "www.glue.com", "A", timeout=5)
        dig(addr, "big.glue.com", "TXT", timeout=5, tcp=True)

        def connect(rcvbuf: int | None = None) -> socket.socket:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if rcvbuf:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            s.settimeout(2)
            s.connect((addr, 53))
            socks.append(s)
            return s

        with table.scenario("2x max-connections idle",
                            f"{2 * MAX_CONN} connections that send nothing (cap {MAX_CONN}, idle-timeout {IDLE_S:.0f}s); "
                            "dig over UDP and TCP meanwhile") as r:
            idle, opened = [], []
            for _ in range(2 * MAX_CONN):
                idle.append(connect())
                opened.append(time.monotonic())
            problems = legit_clients(addr)
            closed = watch_close(idle, opened, IDLE_S + LATE_S + 1.0)
            still = sum(c is None for c in closed)
            late = [round(c, 1) for c in closed if c is not None and c > IDLE_S + LATE_S]
            early = sum(c is not None and c < IDLE_S - 0.2 for c in closed)
            r.result = (f"legit clients: {'served' if not problems else problems}; {early} closed early (evicted "
                        f"at the cap), {len(closed) - still - early - len(late)} on time, late {late}, "
                        f"{still} still open after {IDLE_S + LATE_S + 1:.0f}s")
            expect(not problems, "; ".join(problems))
            expect(still == 0 and not late, "idle connections not closed within idle-timeout + 1 s")
            for s in idle:
                s.close()

        with table.scenario("slowloris writers",
                            f"{MAX_CONN} connections each writing a valid query one byte per 500 ms; "
                            "dig over UDP and TCP meanwhile") as r:
            slow, opened = [], []
            frames = []
            for i in range(MAX_CONN):
                q = build_query(f"slow{i}.wild.test", T_A)
                frames.append(struct.pack("!H", len(q)) + q)
                slow.append(connect())
                opened.append(time.monotonic())
            progress = [0] * len(slow)
            first_byte = [None] * len(slow)   # monotonic time of the first byte sent
            dead = [None] * len(slow)         # seconds from the first byte to the server's close

            def server_closed(s: socket.socket) -> bool:
                r, _, _ = select.select([s], [], [], 0)
                if not r:
                    return False
                try:
                    return s.recv(65535, socket.MSG_DONTWAIT) == b""
                except BlockingIOError:
                    return False
                except OSError:
                    return True

            def drip() -> None:
                for _ in range(40):            # bounded: 40 x 0.5 s
                    if stop.is_set():
                        return
                    for i, s in enumerate(slow):
                        if dead[i] is not None:
                            continue
                        if first_byte[i] is not None and server_closed(s):
                            dead[i] = time.monotonic() - first_byte[i]
                            continue
                        if progress[i] < len(frames[i]):
                            try:
                                s.send(frames[i][progress[i]:progress[i] + 1])
                                if first_byte[i] is None:
                                    first_byte[i] = time.monotonic()
                                progress[i] += 1
                            except OSError:
                                dead[i] = time.monotonic() - (first_byte[i] or opened[i])
                    time.sleep(0.5)
            t = threading.Thread(target=drip, daemon=True)
            t.start()
            time.sleep(1.0)
            problems = legit_clients(addr)
            time.sleep(IDLE_S + LATE_S + 1.0)
            problems += legit_clients(addr)
            alive_s = time.monotonic() - min(opened)
            stop.set()
            t.join(timeout=2)
            stop.clear()
            gone = sum(d is not None for d in dead)
            # The drip notices a close at its next 500 ms round: that lateness is allowed too.
            bound = MSG_DEADLINE_S + 1.0 + 0.5
            late = [round(d, 1) for d in dead if d is not None and d > bound]
            r.result = (f"legit clients: {'served' if not problems else problems}; after {alive_s:.1f}s "
                        f"{gone}/{len(slow)} slow writers closed by the server "
                        f"(first byte to close: {min((d for d in dead if d is not None), default=0):.1f}.."
                        f"{max((d for d in dead if d is not None), default=0):.1f}s), {len(slow) - gone} still open "
                        f"(bytes sent: {min(progress)}..{max(progress)} of {len(frames[0])})")
            expect(gone == len(slow), f"{len(slow) - gone} slow writers still open: a trickled message "
                   f"must complete within {MSG_DEADLINE_S:.0f}s of its first byte")
            expect(not late, f"slow writers closed late (s after first byte): {late}")
            expect(not problems, "; ".join(problems))
            for s in slow:
                s.close()

        with table.scenario("client that never reads",
                            "one connection with a 4 KiB receive buffer pipelines 100 queries for "
                            "big.glue.com TXT (~1.6 KB each) and never reads; dig meanwhile") as r:
            s = connect(rcvbuf=4096)
            q = build_query("big.glue.com", T_TXT)
            t_open = time.monotonic()
            s.sendall(b"".join(struct.pack("!H", len(q)) + q for _ in range(100)))
            time.sleep(0.5)
            problems = legit_clients(addr)
            # Never read: watch the server side of the connection (dport = our port) leave ESTABLISHED;
            # our side would see the FIN only after the answers we never read.
            import subprocess
            port = s.getsockname()[1]
            closed_after = None
            deadline = time.monotonic() + IDLE_S + LATE_S + 3.0
            while time.monotonic() < deadline:
                out = subprocess.run(["ss", "-Htn", "state", "established", f"( dport = :{port} )"],
                                     capture_output=True, text=True, timeout=5).stdout
                if not out.strip():
                    closed_after = time.monotonic() - t_open
                    break
                time.sleep(0.2)
            problems += legit_clients(addr)
            r.result = (f"legit clients: {'served' if not problems else problems}; the non-reading connection "
                        + (f"was closed by the server after {closed_after:.1f}s" if closed_after is not None else
                           f"is still established after {IDLE_S + LATE_S + 3:.0f}s"))
            expect(not problems, "; ".join(problems))
            expect(closed_after is not None,
                   "a connection whose answers are never read stays open past idle-timeout: its queued "
                   "replies count as activity (TcpListener::on_idle re-arms while write_queue_size > 0)")
            s.close()

        with table.scenario("still serving after the abuse", "dig over UDP and TCP; ternd alive") as r:
            problems = legit_clients(addr)
            expect(not problems, "; ".join(problems))
            expect(ternd.running(), "ternd died:\n" + ternd.log_tail())
            r.result = "served; ternd running"
    except Exception as e:
        with table.scenario("set-up", "lab, ternd") as r:
            raise e
    finally:
        stop.set()
        for s in socks:
            try:
                s.close()
            except OSError:
                pass
        if ternd is not None:
            ternd.stop()
        lab.down()
    table.print()
    return table.exit_code()


if __name__ == "__main__":
    sys.exit(main())
