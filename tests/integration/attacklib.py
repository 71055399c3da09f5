"""Shared pieces of tern's fault and attack tests (test_faults, test_attacks, test_overload,
test_tcp_abuse): a ternd started from a full YAML text, the scenario table every test prints,
process figures from /proc, and the lab's true answers for the victim names.

    rows = Table("faults")
    with rows.scenario("wrong ID", "forged reply with another ID, then the genuine one") as r:
        ...; r.result = "answer 192.0.2.200, forged ignored"   # an AssertionError fails the row
    rows.print(); sys.exit(rows.exit_code())
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ternlab  # noqa: E402
from ternlab import Daemon, LabError, dig  # noqa: E402

# Names whose true answers must survive every attack: (qname, qtype, expected rdata set).
VICTIMS = [("www.glue.com", "A", {"192.0.2.1"}), ("short.glue.com", "A", {"192.0.2.7"}),
           ("www.oob.org", "A", {"192.0.2.2"}), ("c.z.org", "A", {"192.0.2.3"})]


def expect(cond: bool, msg: str) -> None:
    if not cond:
        raise AssertionError(msg)


def skip_unless_ready(tools=("nsd", "dig", "ss")) -> int | None:
    """77 (skip) without root, 1 without a tool or ternd, None when the test can run."""
    import shutil
    if os.geteuid() != 0:
        print("SKIP: needs root to bind port 53 on 127.x addresses")
        return 77
    for tool in tools:
        if not shutil.which(tool):
            print(f"FAIL: {tool} not installed")
            return 1
    if ternlab.ternd_binary() is None:
        print("FAIL: no ternd binary (build it, or set TERND)")
        return 1
    return None


def start_ternd_yaml(dir: Path, yaml_text: str, probe_addr: str, port: int = 53) -> Daemon:
    """Writes yaml_text to dir/ternd.yaml, starts ternd on it and waits until it answers."""
    dir.mkdir(parents=True, exist_ok=True)
    conf = dir / "ternd.yaml"
    conf.write_text(yaml_text)
    d = Daemon([str(ternlab.ternd_binary()), "--config", str(conf)], log=dir / "ternd.log", name="ternd")
    d.start()
    d.wait_answering(probe_addr, port)
    return d


def recursive_yaml(listen: list, root_hints: Path, *, allow=("127.0.0.0/8",), extra_server: str = "",
                   cache: str = "", resolver: str = "", level: str = "info") -> str:
    """A recursive ternd config; extra_* are YAML lines (already indented) for each section."""
    acl = ", ".join(f"{{allow: {a}}}" for a in allow)
    lst = ", ".join(f'"{x}"' for x in listen)
    return (f"server:\n  listen: [{lst}]\n  access-control: [{acl}]\n{extra_server}"
            f"resolver:\n  mode: recursive\n  root-hints: \"{root_hints}\"\n{resolver}"
            f"cache:\n{cache or '  max-size: 64MiB'}\n"
            f"logging:\n  level: {level}\ncontrol:\n  socket: \"\"\n")


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def check_victims(resolver: str, forged: str) -> list[str]:
    """Problems with the victim names' answers through the resolver ([] = all true)."""
    problems = []
    for qname, qtype, want in VICTIMS:
        res = dig(resolver, qname, qtype, timeout=8)
        got = {rr.rdata for rr in res.answer if rr.rtype == qtype}
        everything = {rr.rdata for sec in (res.answer, res.authority, res.additional) for rr in sec}
        if not res.ok or res.rcode != "NOERROR" or got != want:
            problems.append(f"{qname} {qtype}: {res.rcode if res.ok else 'no reply'} {sorted(got)}, "
                            f"expected {sorted(want)}")
        if forged in everything:
            problems.append(f"{qname}: forged {forged} in the reply")
    return problems


class Row:
    def __init__(self, name: str, tried: str):
        self.name, self.tried, self.result, self.ok = name, tried, "", True


class Table:
    """Scenario | tried | result, printed as rows finish and again as the closing table."""

    def __init__(self, title: str):
        self.title = title
        self.rows: list[Row] = []

    @contextlib.contextmanager
    def scenario(self, name: str, tried: str):
        row = Row(name, tried)
        self.rows.append(row)
        print(f"# --- {name}: {tried}", flush=True)
        t0 = time.monotonic()
        try:
            yield row
        except Exception as e:  # every scenario runs; a failure is recorded, not raised
            row.ok = False
            row.result = (row.result + "; " if row.result else "") + f"{type(e).__name__}: {e}"
            if not isinstance(e, (AssertionError, LabError)):
                traceback.print_exc()
        took = time.monotonic() - t0
        print(f"{'ok  ' if row.ok else 'FAIL'} - {name} ({took:.1f}s): {row.result}", flush=True)

    def print(self) -> None:
        print(f"\n## {self.title}: scenario | tried | result")
        for r in self.rows:
            print(f"| {r.name} | {r.tried} | {'PASS' if r.ok else 'FAIL'}: {r.result} |")
        failed = [r.name for r in self.rows if not r.ok]
        print(f"{len(self.rows) - len(failed)} passed, {len(failed)} failed" +
              (f": {', '.join(failed)}" if failed else ""), flush=True)

    def exit_code(self) -> int:
        return 1 if any(not r.ok for r in self.rows) else 0
