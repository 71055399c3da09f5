"""Helpers for tern integration tests (python3 stdlib only).

Import from a test in tests/integration/:

    import ternlab
    lab = ternlab.Lab(tmpdir, "127.61")        # the NSD mini-Internet, see tools/lab/lab.py
    lab.up()
    try:
        ub = ternlab.Unbound(tmpdir + "/unbound", lab.resolver_addr(1), root_hints=lab.root_hints)
        ub.start(); ub.wait_answering()
        res = ternlab.dig(lab.resolver_addr(1), "www.glue.com", "A")   # -> DigResult
        for exp in lab.info["names"]:
            problems = ternlab.check_expectation(exp, ternlab.dig(...))
    finally:
        ub.stop(); lab.down()

Everything lives in tools/lab/lab.py (shared with tools/bench); this module re-exports it and adds
what only tests need: a per-test network allocator and a ternd launcher.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tools" / "lab"))

from lab import (DigResult, Daemon, Lab, LabError, RR, Unbound, check_expectation, dig,  # noqa: E402,F401
                 fqdn, listening_sockets, normalise_rdata, parse_dig, pid_alive, proc_cpu_seconds,
                 stop_pid, ternd_config, wait_until)


def free_net(first: int = 60, last: int = 250) -> str:
    """Picks a lab network 127.N (first <= N <= last) with nothing listening on it yet.

    Tests that run in parallel under ctest pass distinct hints through TERN_LAB_NET, or rely on
    this scan; the scan is bounded by the range."""
    env = os.environ.get("TERN_LAB_NET")
    if env:
        return env
    for n in range(first, last + 1):
        if not listening_sockets(f"127.{n}"):
            return f"127.{n}"
    raise LabError(f"no free 127.N network in {first}..{last}")


def ternd_binary() -> Path | None:
    """The ternd to test: $TERND, else build/daemon/ternd in the repo; None if absent."""
    cand = os.environ.get("TERND") or str(REPO_ROOT / "build" / "daemon" / "ternd")
    p = Path(cand)
    return p if p.is_file() and os.access(p, os.X_OK) else None


def start_ternd(dir: str | os.PathLike, listen_addr: str, port: int = 53, *, binary: Path | None = None,
                cpu: int | None = None, args: str = "--config {config}", **config_kw) -> Daemon:
    """Writes a config into dir, starts ternd on it and returns the Daemon (not yet waited on).

    `args` is the command-line template; {config} is replaced by the config path."""
    d = Path(dir)
    d.mkdir(parents=True, exist_ok=True)
    conf = d / "ternd.yaml"
    conf.write_text(ternd_config(f"{listen_addr}:{port}", **config_kw))
    binary = binary or ternd_binary()
    if binary is None:
        raise LabError("no ternd binary (set TERND or build build/daemon/ternd)")
    daemon = Daemon([str(binary)] + args.format(config=conf).split(), log=d / "ternd.log", cpu=cpu,
                    name="ternd")
    daemon.start()
    return daemon


def scratch_dir(prefix: str) -> str:
    """A fresh temporary directory for one test (left in place on failure for inspection).

    On /dev/shm when available: the lab writes ~1000 zone files, which is slow on a busy disk."""
    return tempfile.mkdtemp(prefix=f"tern-{prefix}-", dir=fast_tmp())


def fast_tmp() -> str | None:
    """/dev/shm if it is a writable directory, else None (the default temp dir)."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
