"""Processes for the tern lab, tests and benchmarks: bounded waits, stopping by PID, CPU time
from /proc, listening-socket checks, and the resolvers under test (Unbound, ternd) as Daemons."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterable

from dnsutil import dig

# Budgets (every wait here is bounded by one of these).
STOP_TERM_GRACE_S = 3.0      # after SIGTERM, wait this long before SIGKILL
STOP_KILL_GRACE_S = 2.0      # after SIGKILL, wait this long before giving up loudly
POLL_INTERVAL_S = 0.05


class LabError(RuntimeError):
    """Anything the lab, a test helper or the bench cannot do; the message says what and why."""


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = POLL_INTERVAL_S,
               what: str = "condition") -> None:
    """Polls predicate() until it returns True; raises TimeoutError naming `what` after timeout.

    The loop is bounded in time (timeout) and therefore in count (timeout / interval + 1)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


def pid_alive(pid: int) -> bool:
    """True if a process with this PID exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode(errors="replace")
    except OSError:
        return False
    state = stat[stat.rfind(")") + 2:].split(" ", 1)[0]
    return state not in ("Z", "X")


def pid_cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read().decode(errors="replace")
    fields = stat[stat.rfind(")") + 2:].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def stop_pid(pid: int, must_contain: str, what: str) -> None:
    """Stops one process we started: SIGTERM, then SIGKILL after a bound.

    The process is only signalled if its command line contains `must_contain` (guards against a
    recycled PID). Reaps it if it is our child. Raises RuntimeError if it survives SIGKILL."""
    if not pid_alive(pid):
        _reap(pid)
        return
    if must_contain not in " ".join(pid_cmdline(pid)):
        return  # PID was recycled by something else: not ours to kill
    for sig, grace in ((signal.SIGTERM, STOP_TERM_GRACE_S), (signal.SIGKILL, STOP_KILL_GRACE_S)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            _reap(pid)
            if not pid_alive(pid):
                return
            time.sleep(0.02)
    raise RuntimeError(f"{what} (pid {pid}) survived SIGKILL")


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def listening_sockets(prefix: str, addrs: Iterable[str] | None = None) -> list[str]:
    """Local UDP/TCP listening sockets on an address starting with prefix + '.' (via `ss`),
    restricted to the addresses in addrs if given. Entries look like "udp 127.53.0.1:53"."""
    out = subprocess.run(["ss", "-Hlntu"], capture_output=True, text=True, timeout=10).stdout
    wanted = set(addrs) if addrs is not None else None
    found = []
    for line in out.splitlines():
        cols = line.split()
        if len(cols) < 5 or not cols[4].startswith(prefix + "."):
            continue
        if wanted is not None and cols[4].rsplit(":", 1)[0] not in wanted:
            continue
        found.append(f"{cols[0]} {cols[4]}")
    return found


# ---------------------------------------------------------------------------------------------
# Resolver processes for tests and benchmarks
# ---------------------------------------------------------------------------------------------

class Daemon:
    """A foreground process we start and stop by PID, with its output in a log file.

    d = Daemon(["ternd", "-c", conf], log=path, cpu=1); d.start(); d.wait_answering(addr, port)
    d.cpu_seconds(); d.stop()"""

    def __init__(self, argv: list, log: Path, cpu: int | None = None, name: str = ""):
        self.argv = list(argv)
        self.log = Path(log)
        self.cpu = cpu
        self.name = name or Path(argv[0]).name
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else 0

    def start(self) -> None:
        argv = (["taskset", "-c", str(self.cpu)] if self.cpu is not None else []) + self.argv
        with open(self.log, "ab") as out:
            # taskset execs the program, so the PID is the daemon's.
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_answering(self, addr: str, port: int, timeout: float = 10.0,
                       probe: tuple = ("version.server", "TXT", "CH")) -> None:
        """Waits until the daemon answers any DNS reply to a probe query; raises with the log tail."""
        qname, qtype, qclass = probe
        deadline = time.monotonic() + timeout
        while True:
            if not self.running():
                raise LabError(f"{self.name} exited ({self.proc.returncode if self.proc else '?'}):\n"
                               + self.log_tail())
            if dig(addr, qname, qtype, port, qclass=qclass, recurse=False, timeout=1).ok:
                return
            if time.monotonic() >= deadline:
                raise LabError(f"{self.name} did not answer on {addr}:{port} within {timeout}s:\n"
                               + self.log_tail())
            time.sleep(POLL_INTERVAL_S)

    def cpus_allowed(self) -> str:
        """The CPU list the process may run on (Cpus_allowed_list from /proc/PID/status)."""
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("Cpus_allowed_list:"):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            stop_pid(self.proc.pid, self.argv[0], self.name)
        try:
            self.proc.wait(timeout=STOP_KILL_GRACE_S)
        except subprocess.TimeoutExpired:
            pass


class Unbound(Daemon):
    """Debian's Unbound, single-threaded, in its own directory, recursing a lab or forwarding.

    u = Unbound(dir, addr="127.53.255.1", port=53, root_hints=lab.root_hints)      # recursive
    u = Unbound(dir, addr=..., forward=["127.53.255.9@53"])                        # forwarder
    u.start(); u.wait_answering(); ...; u.control("stats_noreset"); u.stop()
    extra: more `server:` lines, e.g. ["msg-cache-size: 64m"]. discard_timeout_ms: see below."""

    def __init__(self, dir: str | os.PathLike, addr: str, port: int = 53, root_hints: Path | None = None,
                 forward: list | None = None, extra: Iterable[str] = (), cpu: int | None = None,
                 name: str = "unbound", discard_timeout_ms: int | None = 0):
        self.dir = Path(dir).resolve()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.addr, self.port = addr, port
        self.conf = self.dir / "unbound.conf"
        lines = ["server:", f"  interface: {addr}@{port}", f"  port: {port}", "  do-ip6: no",
                 "  num-threads: 1", "  so-reuseport: no", '  username: ""', '  chroot: ""',
                 f'  directory: "{self.dir}"', f'  pidfile: "{self.dir / "unbound.pid"}"',
                 "  use-syslog: no", f'  logfile: "{self.dir / "unbound.log"}"', "  verbosity: 0",
                 "  do-not-query-localhost: no", '  module-config: "iterator"',
                 "  access-control: 127.0.0.0/8 allow", "  hide-version: no",
                 # Unbound serves test. as a built-in empty local zone (RFC 6761); the lab
                 # delegates it for real.
                 '  local-zone: "test." nodefault']
        if discard_timeout_ms is not None:
            # Debian's 1.17.1 has the backported discard-timeout (default 1900 ms): a reply whose
            # resolution took longer (e.g. the lab's dead server costs ~2 s) is silently dropped,
            # expecting the stub to retry. Tests want every query answered once: 0 disables it.
            # None keeps Unbound's default (benchmarks).
            lines.append(f"  discard-timeout: {discard_timeout_ms}")
        if root_hints:
            lines.append(f'  root-hints: "{Path(root_hints).resolve()}"')
        lines += [f"  {x}" for x in extra]
        lines += ["remote-control:", "  control-enable: yes",
                  f'  control-interface: "{self.dir / "unbound.ctl"}"', "  control-use-cert: no"]
        if forward:
            lines += ["forward-zone:", '  name: "."'] + [f"  forward-addr: {f}" for f in forward]
        self.conf.write_text("\n".join(lines) + "\n")
        r = subprocess.run(["unbound-checkconf", str(self.conf)], capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise LabError(f"unbound-checkconf {self.conf}: {r.stdout}{r.stderr}")
        super().__init__([shutil.which("unbound") or "unbound", "-d", "-p", "-c", str(self.conf)],
                         log=self.dir / "unbound.out", cpu=cpu, name=name)

    def wait_answering(self, addr: str | None = None, port: int | None = None, timeout: float = 10.0,
                       probe: tuple = ("version.server", "TXT", "CH")) -> None:
        super().wait_answering(addr or self.addr, port or self.port, timeout, probe)

    def log_tail(self, lines: int = 20) -> str:
        tail = super().log_tail(lines)
        try:
            tail += "\n" + "\n".join((self.dir / "unbound.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            pass
        return tail

    def control(self, *args: str) -> str:
        """Runs unbound-control against this instance and returns its output."""
        r = subprocess.run(["unbound-control", "-c", str(self.conf), *args], capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0:
            raise LabError(f"unbound-control {' '.join(args)}: {r.stdout}{r.stderr}")
        return r.stdout

    def stats(self) -> dict:
        """unbound-control stats_noreset as {key: float}."""
        out = {}
        for line in self.control("stats_noreset").splitlines():
            k, _, v = line.partition("=")
            try:
                out[k] = float(v)
            except ValueError:
                pass
        return out


def ternd_config(listen: str, *, root_hints: Path | None = None, forward: list | None = None,
                 level: str = "warn") -> str:
    """A ternd YAML config: recursive from root_hints, or forwarding "." to forward ["ADDR:PORT"]."""
    lines = ["server:", f'  listen: ["{listen}"]', "  access-control: [{allow: 127.0.0.0/8}]",
             "resolver:"]
    if forward:
        ups = ", ".join(f'"{u}"' for u in forward)
        lines += ["  mode: forward", f'forward: [{{zone: ".", upstreams: [{ups}]}}]']
    else:
        lines += ["  mode: recursive", f'  root-hints: "{root_hints}"']
    # No control socket: parallel tests would all claim the default /run/tern/control.sock.
    lines += ["logging:", f"  level: {level}", "control:", '  socket: ""']
    return "\n".join(lines) + "\n"
