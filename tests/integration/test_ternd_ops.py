#!/usr/bin/env python3
"""ternd's operational side, end to end on loopback: the systemd notify protocol without
systemd (this test owns NOTIFY_SOCKET and checks READY=1 only after the listeners answer,
STATUS=, RELOADING=1 with MONOTONIC_USEC then READY=1 on SIGHUP and on `ternctl reload`,
STOPPING=1 on SIGTERM), ternctl against the control socket, /metrics through promtool, the
privilege drop to server.user (when run as root), and cache.persist across a restart.

usage: test_ternd_ops.py TERND TERNCTL
"""
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def free_port(kind):
    for _ in range(50):
        port = random.randint(20000, 60000)
        try:
            s = socket.socket(socket.AF_INET, kind)
            s.bind(("127.0.0.1", port))
            s.close()
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM)
            u.bind(("127.0.0.1", port))
            u.close()
            return port
        except OSError:
            continue
    raise RuntimeError("no free port")


def dns_query(port, qname="example.com", tcp=False):
    """One A query; returns the rcode, or None without a reply within 2 s."""
    qid = random.randint(0, 0xFFFF)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in qname.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", 1, 1)
    try:
        if tcp:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(struct.pack(">H", len(q)) + q)
                head = s.recv(2)
                n = struct.unpack(">H", head)[0]
                data = b""
                while len(data) < n:
                    chunk = s.recv(n - len(data))
                    if not chunk:
                        break
                    data += chunk
        else:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(2)
                s.sendto(q, ("127.0.0.1", port))
                data = s.recv(4096)
    except OSError:
        return None
    if len(data) < 12 or struct.unpack(">H", data[:2])[0] != qid:
        return None
    return data[3] & 0x0F


class FakeUpstream:
    """The only upstream ternd may use (forward mode, zone "."): a loopback UDP responder that
    answers every A query with 192.0.2.1, TTL 300, so nothing ever leaves the machine.
    With root_ns set it plays the whole DNS tree for an iterating ternd whose root hints name
    it: authoritative (AA) answers, and ". NS" answered with root_ns and its glue (itself)."""

    def __init__(self, addr="127.0.0.1", port=0, root_ns=None):
        self.root_ns = root_ns
        self.addr = addr
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, port))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.queries = 0
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while self.running:
            try:
                q, peer = self.sock.recvfrom(4096)
            except OSError:
                continue
            if len(q) < 12:
                continue
            self.queries += 1
            # Question: up to the end of the first name + 4 bytes.
            i = 12
            while i < len(q) and q[i] != 0:
                i += q[i] + 1
            question = q[12:i + 5]
            qtype = struct.unpack(">H", q[i + 1:i + 3])[0] if i + 3 <= len(q) else 0
            answers, additional, flags = b"", b"", 0x8180
            if qtype == 1:
                answers = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + bytes([192, 0, 2, 1])
            if self.root_ns is not None:
                flags = 0x8400 | (struct.unpack(">H", q[2:4])[0] & 0x0100)  # QR AA, RD echoed
                if qtype == 2 and i == 12:  # ". NS": the root NS set, glue in additional
                    ns = b"".join(bytes([len(l)]) + l.encode() for l in self.root_ns.split(".") if l) + b"\0"
                    answers = b"\xc0\x0c" + struct.pack(">HHIH", 2, 1, 3600, len(ns)) + ns
                    # The NS name sits at offset 12 + len(question) + 12 in the reply.
                    ptr = struct.pack(">H", 0xC000 | (12 + len(question) + 12))
                    additional = ptr + struct.pack(">HHIH", 1, 1, 3600, 4) + socket.inet_aton(self.addr)
            head = q[:2] + struct.pack(">HHHHH", flags, 1, 1 if answers else 0, 0,
                                       1 if additional else 0)
            self.sock.sendto(head + question + answers + additional, peer)

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()


class Notify:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o777)  # as systemd's notify socket: reachable after the privilege drop
        self.path = path

    def next(self, timeout=10):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(4096).decode()
        except socket.timeout:
            return None

    def until(self, prefix, timeout=10):
        """Messages up to and including the first that starts with prefix (STATUS= lines in between)."""
        seen, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.next(max(0.1, deadline - time.monotonic()))
            if m is None:
                break
            seen.append(m)
            if m.startswith(prefix):
                return seen
        return seen


def ternctl(binary, sock, *args):
    r = subprocess.run([binary, "-s", sock, *args], capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout, r.stderr


def upstream_metrics_phase(ternd, tmp, upstream):
    """One ternd that iterates (root hints: a fake root on TERN_LAB_NET.0.1:53, which needs
    root for port 53) and forwards fwd.test. to `upstream`: after a few queries of each kind
    /metrics has per-upstream series for both servers, and promtool still accepts it."""
    net = os.environ.get("TERN_LAB_NET", "127.68")
    root_addr = f"{net}.0.1"
    root = FakeUpstream(root_addr, 53, root_ns="a.root-servers.test.")
    proc = None
    try:
        port = free_port(socket.SOCK_STREAM)
        mport = free_port(socket.SOCK_STREAM)
        hints = os.path.join(tmp, "root.hints")
        with open(hints, "w") as f:
            f.write(f".  3600000  NS  a.root-servers.test.\na.root-servers.test.  3600000  A  {root_addr}\n")
        conf = os.path.join(tmp, "ternd-upstreams.yaml")
        with open(conf, "w") as f:
            f.write(f"""server:
  listen: ["127.0.0.1:{port}"]
resolver: {{mode: recursive, root-hints: "{hints}", qname-minimisation: "off"}}
forward: [{{zone: "fwd.test.", upstreams: ["127.0.0.1:{upstream.port}"]}}]
control: {{socket: ""}}
metrics: {{listen: "127.0.0.1:{mport}"}}
logging: {{level: info}}
""")
        proc = subprocess.Popen([ternd, "-c", conf], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        up = False
        for _ in range(100):  # up to ~10 s for the listeners
            if dns_query(port, "warmup.fwd.test") is not None:
                up = True
                break
            time.sleep(0.1)
        check(up, "ternd (recursive + forward zone) answers")
        fwd = [dns_query(port, f"q{i}.fwd.test") for i in range(3)]
        rec = [dns_query(port, f"www{i}.rec.test") for i in range(3)]
        check(fwd == [0, 0, 0], f"forwarded queries answered ({fwd})")
        check(rec == [0, 0, 0], f"recursive queries answered ({rec})")
        with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5) as r:
            body = r.read().decode()
        for server, what in ((f"127.0.0.1:{upstream.port}", "the forwarder's upstream"),
                             (f"{root_addr}:53", "the root the iterator asked")):
            m = re.search(r'^tern_upstream_queries_total\{server="' + re.escape(server) + r'"\} (\d+)$',
                          body, re.M)
            check(m is not None and int(m.group(1)) >= 3,
                  f"tern_upstream_queries_total for {what} ({m.group(0) if m else 'missing'})")
            check(re.search(r'^tern_upstream_timeouts_total\{server="' + re.escape(server) + r'"\} \d+$',
                            body, re.M) is not None, f"tern_upstream_timeouts_total for {what}")
        if shutil.which("promtool"):
            r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                               text=True, timeout=30)
            check(r.returncode == 0 and not (r.stdout + r.stderr).strip(),
                  f"promtool check metrics passes with upstream series {r.stdout}{r.stderr}")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
        check(proc.returncode == 0, f"ternd exits 0 (rc={proc.returncode})")
        if failures:
            print("--- ternd log (upstream metrics)\n" + out)
        proc = None
    finally:
        root.close()
        if proc is not None:
            proc.kill()
            proc.wait()


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    ternd, ternctl_bin = map(os.path.abspath, sys.argv[1:])
    root = os.geteuid() == 0
    tmp = tempfile.mkdtemp(prefix="tern-ops-")
    os.chmod(tmp, 0o755)  # the dropped user must reach the socket and state dirs below
    proc = None
    upstream = FakeUpstream()
    try:
        port = free_port(socket.SOCK_STREAM)
        mport = free_port(socket.SOCK_STREAM)
        ctl = os.path.join(tmp, "run", "control.sock")       # created (and chowned) by ternd
        dump = os.path.join(tmp, "state", "cache.dump")
        conf = os.path.join(tmp, "ternd.yaml")
        with open(conf, "w") as f:
            f.write(f"""server:
  listen: ["127.0.0.1:{port}"]
  user: "{'nobody' if root else ''}"
resolver: {{mode: forward}}
forward: [{{zone: ".", upstreams: ["127.0.0.1:{upstream.port}"]}}]
control: {{socket: {ctl}}}
metrics: {{listen: "127.0.0.1:{mport}"}}
cache: {{persist: true, persist-file: {dump}}}
logging: {{level: info}}
""")
        notify = Notify(os.path.join(tmp, "notify.sock"))
        env = dict(os.environ, NOTIFY_SOCKET=notify.path)

        def start():
            return subprocess.Popen([ternd, "-c", conf], env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)

        proc = start()
        msgs = notify.until("READY=1", timeout=15)
        check(msgs and msgs[-1] == "READY=1", f"READY=1 arrives ({msgs})")
        # READY=1 means every listener is bound: both transports answer at once.
        check(dns_query(port) == 0, "UDP answers right after READY=1")
        check(dns_query(port, tcp=True) == 0, "TCP answers right after READY=1")
        status = notify.until("STATUS=", timeout=10)
        check(status and re.match(r"STATUS=serving: \d+ queries, \d+ cache entries", status[-1]),
              f"a STATUS= line follows ({status[-1] if status else None})")

        if root:
            with open(f"/proc/{proc.pid}/status") as f:
                ids = {l.split(":")[0]: l.split()[1:] for l in f if l.startswith(("Uid", "Gid"))}
            nobody = subprocess.run(["id", "-u", "nobody"], capture_output=True, text=True).stdout.strip()
            check(ids["Uid"] == [nobody] * 4, f"ternd runs as nobody after binding (Uid {ids['Uid']})")
            st = os.stat(ctl)
            check(st.st_uid == int(nobody) and (st.st_mode & 0o777) == 0o660,
                  "control socket belongs to nobody, mode 0660")

        rc, out, err = ternctl(ternctl_bin, ctl, "status")
        check(rc == 0 and "version" in out and re.search(r"^queries +[1-9]", out, re.M) is not None,
              f"ternctl status: {out.strip()} {err}")
        rc, out, err = ternctl(ternctl_bin, ctl, "stats", "--json")
        stats = json.loads(out) if rc == 0 else {}
        check(stats.get("pipeline", {}).get("queries", 0) >= 2, f"ternctl stats counts our queries: {out.strip()}")
        rc, out, err = ternctl(ternctl_bin, ctl, "flush", "example.com", "subtree")
        check(rc == 0 and "flushed" in out, f"ternctl flush: {out.strip()} {err.strip()}")
        check(dns_query(port, "keep.example.net") == 0, "a forwarded answer for keep.example.net")
        rc, out, err = ternctl(ternctl_bin, ctl, "lookup", "keep.example.net", "A")
        check(rc == 0 and "keep.example.net. " in out and " IN A 192.0.2.1" in out,
              f"ternctl lookup shows the cached answer: {out.strip()} {err.strip()}")
        rc, out, err = ternctl(ternctl_bin, ctl, "log-level", "debug")
        check(rc == 0, f"ternctl log-level debug: {out.strip()} {err.strip()}")
        rc, out, err = ternctl(ternctl_bin, ctl, "flush", "a..b")
        check(rc == 1 and "is not a domain name" in err, f"a bad name is refused: {err.strip()}")

        with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5) as r:
            body = r.read().decode()
            ctype = r.headers["Content-Type"]
        check(ctype.startswith("text/plain; version=0.0.4"), f"metrics content type {ctype}")
        m = re.search(r"^tern_pipeline_queries_total (\d+)$", body, re.M)
        check(m is not None and int(m.group(1)) >= 2, "metrics count the queries")
        if shutil.which("promtool"):
            r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                               text=True, timeout=30)
            check(r.returncode == 0 and not (r.stdout + r.stderr).strip(),
                  f"promtool check metrics passes {r.stdout}{r.stderr}")

        # Reload by signal, then by ternctl: RELOADING=1 with MONOTONIC_USEC, then READY=1.
        for how in ("SIGHUP", "ternctl"):
            before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
            if how == "SIGHUP":
                proc.send_signal(signal.SIGHUP)
            else:
                rc, out, err = ternctl(ternctl_bin, ctl, "reload")
                check(rc == 0, f"ternctl reload: {out.strip()} {err.strip()}")
            seen = [m for m in notify.until("READY=1") if not m.startswith("STATUS=")]
            check(len(seen) == 2 and seen[0].startswith("RELOADING=1\nMONOTONIC_USEC=") and seen[1] == "READY=1",
                  f"{how}: RELOADING=1 then READY=1 ({seen})")
            if seen and seen[0].startswith("RELOADING=1"):
                usec = int(seen[0].split("MONOTONIC_USEC=")[1])
                check(before <= usec <= time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000,
                      f"{how}: MONOTONIC_USEC is the reload's CLOCK_MONOTONIC time")

        proc.send_signal(signal.SIGTERM)
        seen = [m for m in notify.until("STOPPING=1") if not m.startswith("STATUS=")]
        check(seen == ["STOPPING=1"], f"SIGTERM: STOPPING=1 ({seen})")
        try:
            out, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        check(proc.returncode == 0, f"ternd exits 0 after SIGTERM (rc={proc.returncode})")
        check(not os.path.exists(ctl), "the control socket is removed at stop")
        check(os.path.exists(dump), "the cache is saved at stop (cache.persist)")
        log = out
        proc = None

        # A restart loads the saved cache.
        proc = start()
        msgs = notify.until("READY=1", timeout=15)
        check(msgs and msgs[-1] == "READY=1", "READY=1 after a restart")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
        check(re.search(r"\[cache\] loaded [1-9]\d* entries from", out) is not None,
              "the restart loaded the saved cache")
        proc = None
        rc, out, err = ternctl(ternctl_bin, ctl, "status")
        check(rc == 3 and "is ternd running?" in err, f"ternctl without ternd: {err.strip()}")
        if failures:
            print("--- ternd log (first run)\n" + log)

        if root:
            upstream_metrics_phase(ternd, tmp, upstream)
        else:
            print("skip upstream metrics phase: the fake root needs port 53 (run as root)")
    finally:
        upstream.close()
        if proc is not None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all ternd operations checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
