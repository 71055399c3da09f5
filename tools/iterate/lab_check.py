#!/usr/bin/env python3
"""Resolves every name of the tools/lab mini-Internet with tern-iterate (Iterator + NetTransport)
and checks each reply against lab.json with the lab's own check_expectation.

    tools/iterate/lab_check.py BUILD/tools/iterate/tern-iterate [--net 127.57] [--qmin relaxed]

Starts its own lab on NET (default 127.57) under a temporary directory and stops it by PID at
the end. Exit status 0 when every expectation holds."""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))
from lab import Lab, check_expectation  # noqa: E402
from dnsutil import parse_dig  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--net", default="127.57")
    ap.add_argument("--qmin", default="relaxed")
    ap.add_argument("--ipv6", action="store_true", help="also use IPv6 server addresses")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tern-iter-lab-") as d:
        lab = Lab(d, args.net)
        lab.up()
        try:
            names = lab.info["names"]
            cmd = [args.binary, "--hints", str(lab.root_hints), "--qmin", args.qmin]
            if not args.ipv6:
                cmd.append("--no-ipv6")
            for exp in names:
                cmd += [exp["qname"], exp["qtype"]]
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
            blocks = out.stdout.split("=== ")[1:]
            failed = 0
            for exp, block in zip(names, blocks):
                problems = check_expectation(exp, parse_dig(block), fresh=False)
                queries = [l for l in block.splitlines() if l.startswith(";; upstream queries")]
                status = "ok  " if not problems else "FAIL"
                failed += bool(problems)
                print(f"{status} {exp['id']:<24} {exp['qname']} {exp['qtype']}  "
                      f"{queries[0][3:] if queries else ''}  {'; '.join(problems)}")
            if len(blocks) != len(names):
                print(f"FAIL only {len(blocks)} of {len(names)} results; stderr: {out.stderr[-2000:]}")
                failed += 1
            print(out.stdout.splitlines()[-1] if out.stdout else "")
            print(f"{len(names) - failed}/{len(names)} expectations hold")
            return 0 if failed == 0 else 1
        finally:
            lab.down()


if __name__ == "__main__":
    sys.exit(main())
