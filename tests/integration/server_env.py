"""A one-zone world for ternd's server-side integration tests (python3 stdlib only).

One NSD on 127.53.200.N:53 serving `tern.test.`, one ternd on 127.53.201.N:53 forwarding "."
to it; N is the case number, so cases run in parallel without sharing an address. Also a small
raw DNS encoder/decoder for what dig cannot send (malformed packets, pipelined TCP).
Every wait is bounded; every process is stopped by PID in stop()/finally.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ternlab  # noqa: E402
from ternlab import dig, stop_pid, wait_until  # noqa: E402,F401

ZONE = "tern.test."
BIG_TXT = 6  # six 250-octet strings: ~1.5 KB, above 1232 and far above 512

ZONE_TEXT = """$ORIGIN tern.test.
$TTL 300
@       3600 IN SOA ns.tern.test. admin.tern.test. 1 7200 3600 1209600 120
@       3600 IN NS  ns
ns           IN A   {nsd}
www          IN A   192.0.2.1
www          IN A   192.0.2.2
short   1    IN A   192.0.2.3
a            IN A   192.0.2.10
b            IN A   192.0.2.11
c            IN A   192.0.2.12
big          IN TXT {big}
MiXeD        IN A   192.0.2.20
"""


def nsd_addr(n: int) -> str:
    return f"127.53.200.{n}"


def ternd_addr(n: int) -> str:
    return f"127.53.201.{n}"


class Nsd:
    def __init__(self, dir: Path, addr: str):
        self.dir, self.addr, self.proc = dir, addr, None
        self.conf = dir / "nsd.conf"
        big = " ".join('"' + chr(ord("a") + i) * 250 + '"' for i in range(BIG_TXT))
        (dir / "tern.test.zone").write_text(ZONE_TEXT.format(nsd=addr, big=big))
        self.conf.write_text(f"""server:
  ip-address: {addr}
  port: 53
  do-ip6: no
  server-count: 1
  reuseport: no
  username: ""
  chroot: ""
  database: ""
  zonesdir: "{dir}"
  zonelistfile: "{dir}/zone.list"
  xfrdfile: "{dir}/xfrd.state"
  xfrdir: "{dir}"
  pidfile: "{dir}/nsd.pid"
  logfile: "{dir}/nsd.log"
  verbosity: 0
  rrl-ratelimit: 0
  refuse-any: no
remote-control:
  control-enable: no
zone:
  name: "tern.test"
  zonefile: "tern.test.zone"
""")

    def start(self) -> None:
        with open(self.dir / "nsd.out", "ab") as out:
            self.proc = subprocess.Popen(["nsd", "-d", "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: dig(self.addr, ZONE, "SOA", recurse=False, timeout=1).rcode == "NOERROR",
                   10, what=f"NSD on {self.addr}")

    def stop(self) -> None:
        if self.proc:
            stop_pid(self.proc.pid, "nsd", "nsd")
            self.proc = None


class Ternd:
    def __init__(self, dir: Path, addr: str, config: str):
        self.dir, self.addr, self.proc = dir, addr, None
        self.conf = dir / "ternd.yaml"
        self.conf.write_text(config)
        self.log = dir / "ternd.log"
        binary = ternlab.ternd_binary()
        if binary is None:
            raise RuntimeError("ternd binary not found (set TERND or build build/daemon/ternd)")
        self.binary = str(binary)

    def start(self, wait: bool = True, argv_prefix: list | None = None) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen((argv_prefix or []) + [self.binary, "-c", str(self.conf)],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        if wait:
            # Any reply means the listener is up (CHAOS is answered or REFUSED without upstream).
            wait_until(lambda: self.exited() is not None or
                       dig(self.addr, "version.bind", "TXT", qclass="CH", timeout=1).ok,
                       10, what=f"ternd on {self.addr}")
            if self.exited() is not None:
                raise RuntimeError(f"ternd exited with {self.proc.returncode}:\n{self.log_text()}")

    def exited(self):
        return None if self.proc is None else self.proc.poll()

    def signal(self, sig: int) -> None:
        os.kill(self.proc.pid, sig)

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            stop_pid(self.proc.pid, "ternd", "ternd")
        self.proc = None


def ternd_config(n: int, *, extra_server: str = "", extra: str = "",
                 access: str = "[{allow: 127.0.0.0/8}]", extra_listen: str = "") -> str:
    """No control socket (its default path is shared, and cases run in parallel). Always
    forward mode to this case's NSD address: a case without NSD gets a dead loopback
    upstream (SERVFAIL at once), never recursion, which would start at the real root servers
    (network rule: only 127.0.0.0/8 and ::1)."""
    return f"""server:
  listen: ["{ternd_addr(n)}:53"{extra_listen}]
  access-control: {access}
{extra_server}resolver:
  mode: forward
forward: [{{zone: ".", upstreams: ["{nsd_addr(n)}:53"]}}]
logging: {{level: debug}}
control: {{socket: ""}}
""" + extra


class World:
    """NSD + ternd for case n, in a scratch directory removed at the end."""

    def __init__(self, n: int, *, nsd: bool = True, **config_kw):
        self.n = n
        self.tmp = Path(tempfile.mkdtemp(prefix=f"tern-server-{n}-"))
        self.nsd = Nsd(self.tmp, nsd_addr(n)) if nsd else None
        self.ternd = Ternd(self.tmp, ternd_addr(n), ternd_config(n, **config_kw))
        self.addr = ternd_addr(n)

    def __enter__(self):
        try:
            if self.nsd:
                self.nsd.start()
            self.ternd.start()
        except BaseException:
            self.close(keep=True)
            raise
        return self

    def __exit__(self, et, ev, tb):
        recursed = "[iter] =>" in self.ternd.log_text()
        self.close(keep=et is not None or recursed)
        if recursed and et is None:
            # The network rules allow loopback only: these cases must never iterate from the
            # (real) root hints.
            raise AssertionError("ternd sent iterative queries: a case left forward mode")

    def close(self, keep: bool = False) -> None:
        try:
            self.ternd.stop()
        finally:
            if self.nsd:
                self.nsd.stop()
            if keep:
                sys.stderr.write(f"--- ternd log ({self.tmp}) ---\n{self.ternd.log_text()[-4000:]}\n")
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)

    def dig(self, qname: str, qtype: str = "A", **kw):
        return dig(self.addr, qname, qtype, **kw)


# ---- raw DNS ------------------------------------------------------------------------------

def encode_name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def make_query(qid: int, name: str, qtype: int = 1, *, qdcount: int = 1, rd: bool = True,
               opcode: int = 0, edns: int | None = None, qclass: int = 1) -> bytes:
    flags = (0x0100 if rd else 0) | (opcode << 11)
    arcount = 1 if edns is not None else 0
    msg = struct.pack("!HHHHHH", qid, flags, qdcount, 0, 0, arcount)
    msg += encode_name(name) + struct.pack("!HH", qtype, qclass)
    if edns is not None:
        msg += b"\0" + struct.pack("!HHIH", 41, edns, 0, 0)
    return msg


def header(msg: bytes) -> dict:
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    return dict(id=qid, qr=bool(flags & 0x8000), tc=bool(flags & 0x0200), rcode=flags & 0xF,
                qdcount=qd, ancount=an, nscount=ns, arcount=ar)


def udp_exchange(addr: str, payload: bytes, timeout: float = 2.0) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(payload, (addr, 53))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None


def recv_exact(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def tcp_read_message(s: socket.socket) -> bytes:
    (n,) = struct.unpack("!H", recv_exact(s, 2))
    return recv_exact(s, n)


def frame(msg: bytes) -> bytes:
    return struct.pack("!H", len(msg)) + msg


def random_bytes(rng: random.Random, n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))
