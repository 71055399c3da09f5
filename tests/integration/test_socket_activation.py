#!/usr/bin/env python3
"""systemd socket activation without systemd: this script plays systemd's part. It binds UDP
and TCP on TERN_LAB_NET.0.1 port 53 (a high port when not root), forks, and in the child moves
the two sockets to fds 3 and 4, sets LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES the way
ternd.socket does, drops to `nobody` (when root: ternd never holds a privilege, yet serves
port 53 — the point of socket activation) and execs ternd. Checks:

  - dig over UDP and TCP to the passed address gets answers (forwarded to a loopback
    upstream in this process);
  - the sockets ternd serves are the launcher's (same inodes in /proc/PID/fd), and ternd logs
    at info that they came from systemd;
  - server.listen addresses not covered are still bound by ternd itself;
  - a server.listen that names the passed address is not bound again (no "address in use");
  - SIGHUP reloads and both inherited sockets keep serving; SIGTERM exits 0;
  - a passed socket that is not IPv4/IPv6 UDP or TCP (here AF_UNIX) stops ternd with exit 1
    and says why;
  - with systemd's own systemd-socket-activate (when installed): ternd is started by the first
    datagram, and that very query, queued in the passed socket, is answered.

usage: test_socket_activation.py TERND
"""
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_ternd_ops import FakeUpstream, free_port  # noqa: E402

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def dig(addr, port, name, tcp=False):
    args = ["dig", f"@{addr}", "-p", str(port), name, "A", "+short", "+time=2", "+tries=1"]
    if tcp:
        args.append("+tcp")
    r = subprocess.run(args, capture_output=True, text=True, timeout=15)
    return r.stdout.strip()


def wait_for(pred, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def socket_inodes(pid):
    out = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            link = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", link)
        if m:
            out.add(int(m.group(1)))
    return out


def launch(ternd, conf, log, udp, tcp, as_user):
    """fork + exec ternd with udp and tcp as fds 3 and 4, the way systemd passes them."""
    logfd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    # Out of the way of 0..4 so the dup2 calls below cannot clobber each other.
    hi_udp, hi_tcp = os.dup2(udp.fileno(), 100), os.dup2(tcp.fileno(), 101)
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(logfd, 1)
            os.dup2(logfd, 2)
            os.dup2(hi_udp, 3)  # inheritable: dup2's default
            os.dup2(hi_tcp, 4)
            env = {k: v for k, v in os.environ.items() if not k.startswith(("LISTEN_", "NOTIFY_"))}
            env.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="2", LISTEN_FDNAMES="dns:dns")
            if as_user is not None:
                os.setgroups([])
                os.setgid(as_user.pw_gid)
                os.setuid(as_user.pw_uid)
            os.execve(ternd, [ternd, "-c", conf], env)
        finally:
            os._exit(127)
    os.close(logfd)
    os.close(hi_udp)
    os.close(hi_tcp)
    return pid


def stop(pid, timeout=15):
    """SIGTERM, then SIGKILL after timeout; returns the exit status (or -signal)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def write_config(path, listen, upstream_port):
    """A forward-mode ternd config (loopback upstream only, no control socket), readable by
    the unprivileged user ternd runs as."""
    with open(path, "w") as f:
        f.write(f"""server:
  listen: [{", ".join('"' + l + '"' for l in listen)}]
resolver: {{mode: forward}}
forward: [{{zone: ".", upstreams: ["127.0.0.1:{upstream_port}"]}}]
control: {{socket: ""}}
logging: {{level: info}}
""")
    os.chmod(path, 0o644)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    ternd = os.path.abspath(sys.argv[1])
    net = os.environ.get("TERN_LAB_NET", "127.67")
    root = os.geteuid() == 0
    passed = f"{net}.0.1"
    own = f"{net}.0.2"
    port = 53 if root else free_port(socket.SOCK_STREAM)
    own_port = free_port(socket.SOCK_STREAM)
    nobody = pwd.getpwnam("nobody") if root else None

    tmp = tempfile.mkdtemp(prefix="tern-sockact-")
    os.chmod(tmp, 0o755)  # readable by nobody
    upstream = FakeUpstream()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    pid = None
    try:
        udp.bind((passed, port))
        tcp.bind((passed, port))
        tcp.listen(64)
        want_inodes = {os.fstat(udp.fileno()).st_ino, os.fstat(tcp.fileno()).st_ino}

        for case, listen in (("listen elsewhere", [f"{own}:{own_port}"]),
                             ("listen names the passed address too",
                              [f"{passed}:{port}", f"{own}:{own_port}"])):
            print(f"--- {case}")
            conf = os.path.join(tmp, "ternd.yaml")
            log = os.path.join(tmp, "ternd.log")
            write_config(conf, listen, upstream.port)
            pid = launch(ternd, conf, log, udp, tcp, nobody)
            started = wait_for(lambda: "ternd started" in read(log) or
                               os.waitpid(pid, os.WNOHANG)[0] != 0, 15)
            text = read(log)
            if not (started and "ternd started" in text):
                check(False, f"ternd starts on the passed sockets\n{text}")
                pid = None
                continue
            check(True, "ternd starts on the passed sockets")
            check(len(re.findall(r"socket activation: fd [34] .* from systemd", text)) == 2,
                  "ternd logs both sockets as coming from systemd")
            if root:
                uid = [l.split()[1] for l in read(f"/proc/{pid}/status").splitlines()
                       if l.startswith("Uid:")]
                check(uid == [str(nobody.pw_uid)], f"ternd runs as nobody, never root (Uid {uid})")

            check(dig(passed, port, "a.example.") == "192.0.2.1", f"UDP answer on {passed}:{port}")
            check(dig(passed, port, "b.example.", tcp=True) == "192.0.2.1",
                  f"TCP answer on {passed}:{port}")
            check(dig(own, own_port, "c.example.") == "192.0.2.1",
                  f"ternd bound {own}:{own_port} itself (UDP)")
            check(dig(own, own_port, "c.example.", tcp=True) == "192.0.2.1",
                  f"ternd bound {own}:{own_port} itself (TCP)")
            check(want_inodes <= socket_inodes(pid),
                  "ternd serves the launcher's sockets (same inodes in /proc/PID/fd)")
            if len(listen) == 2:
                check("not bound again" in text and "address in use" not in text,
                      "the listed passed address is not bound a second time")

            os.kill(pid, signal.SIGHUP)
            check(wait_for(lambda: "configuration reloaded" in read(log), 10), "SIGHUP reloads")
            check(dig(passed, port, "d.example.") == "192.0.2.1", "UDP still answers after the reload")
            check(dig(passed, port, "e.example.", tcp=True) == "192.0.2.1",
                  "TCP still answers after the reload")
            rc = stop(pid)
            pid = None
            check(rc == 0, f"ternd exits 0 on SIGTERM (rc={rc})")
            if failures:
                print("--- ternd log\n" + read(log))

        print("--- a unix socket among the passed ones")
        conf = os.path.join(tmp, "ternd-bad.yaml")
        log = os.path.join(tmp, "ternd-bad.log")
        write_config(conf, [f"{own}:{own_port}"], upstream.port)
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            pid = launch(ternd, conf, log, unix, tcp, nobody)
            status = []

            def reaped():
                done, st = os.waitpid(pid, os.WNOHANG)
                if done:
                    status.append(os.waitstatus_to_exitcode(st))
                return bool(done)

            wait_for(reaped, 10)
            if not status:
                status.append(stop(pid, timeout=1))
            pid = None
            text = read(log)
            check(status == [1], f"ternd stops at once with exit 1 ({status})")
            check("is not an IPv4/IPv6 UDP or TCP socket" in text,
                  f"and names the problem ({text.strip().splitlines()[-1] if text.strip() else ''})")
        finally:
            unix.close()

        if shutil.which("systemd-socket-activate"):
            print("--- systemd-socket-activate -d (started by the first query)")
            addr3, port3 = f"{net}.0.3", free_port(socket.SOCK_DGRAM)
            conf = os.path.join(tmp, "ternd-ssa.yaml")
            log = os.path.join(tmp, "ternd-ssa.log")
            write_config(conf, [f"{own}:{own_port}"], upstream.port)
            with open(log, "w") as out:
                ssa = subprocess.Popen(["systemd-socket-activate", "-d", "-l", f"{addr3}:{port3}",
                                        "--fdname=dns", ternd, "-c", conf],
                                       stdout=out, stderr=subprocess.STDOUT)
            pid = ssa.pid  # it execs ternd in place on the first datagram
            # Listening before anything is started: wait until the socket exists.
            if shutil.which("ss"):
                wait_for(lambda: f"{addr3}:{port3}" in subprocess.run(
                    ["ss", "-Hlun"], capture_output=True, text=True).stdout, 10)
            else:
                time.sleep(1)
            answer = subprocess.run(["dig", f"@{addr3}", "-p", str(port3), "first.example.", "A",
                                     "+short", "+time=8", "+tries=1"],
                                    capture_output=True, text=True, timeout=20).stdout.strip()
            check(answer == "192.0.2.1", f"the query that started ternd is answered ({answer!r})")
            text = read(log)
            check(re.search(r"socket activation: fd 3 .* \(udp, name \"dns\"\) from systemd", text)
                  is not None, "ternd took systemd-socket-activate's socket")
            rc = stop(pid)
            pid = None
            ssa.returncode = rc  # reaped by stop()
            check(rc == 0, f"ternd exits 0 on SIGTERM (rc={rc})")
            if failures:
                print("--- ternd log\n" + text)
    finally:
        if pid is not None:
            stop(pid, timeout=5)
        udp.close()
        tcp.close()
        upstream.close()
        subprocess.run(["rm", "-rf", tmp], check=False)

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all socket activation checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
