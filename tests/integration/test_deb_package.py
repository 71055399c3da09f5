#!/usr/bin/env python3
"""The Debian package: `cpack -G DEB` from the build tree, then install, remove and purge it
with dpkg in a throwaway root (never the host): the files land under /usr and /etc/tern, the
unit points at /usr/sbin/ternd, postinst creates the tern user and /var/lib/tern inside that
root, remove keeps the conffile, purge removes it and the state directory.

usage: test_deb_package.py BUILD_DIR
Exit 77 (skipped) without root, cpack or dpkg.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    if r.returncode != 0:
        print(f"$ {' '.join(cmd)}\n{r.stdout}{r.stderr}")
    return r


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    build = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0 or not shutil.which("cpack") or not shutil.which("dpkg"):
        print("needs root, cpack and dpkg: skipping")
        return 77

    with tempfile.TemporaryDirectory(prefix="tern-deb-") as tmp:
        out = os.path.join(tmp, "out")
        r = run(["cpack", "-G", "DEB", "--config", os.path.join(build, "CPackConfig.cmake"), "-B", out],
                cwd=build)
        debs = glob.glob(os.path.join(out, "tern_*.deb"))
        check(r.returncode == 0 and len(debs) == 1, "cpack builds one tern_*.deb")
        if not debs:
            return 1
        deb = debs[0]

        listing = run(["dpkg-deb", "-c", deb]).stdout
        files = {line.split()[-1] for line in listing.splitlines()}
        for f in ["./usr/sbin/ternd", "./usr/bin/ternctl", "./etc/tern/ternd.yaml",
                  "./usr/lib/systemd/system/ternd.service", "./usr/lib/systemd/system/ternd.socket",
                  "./usr/lib/sysusers.d/tern.conf", "./usr/share/man/man8/ternd.8",
                  "./usr/share/man/man8/ternctl.8", "./usr/share/man/man5/ternd.yaml.5"]:
            check(f in files, f"package contains {f}")
        check(not any("/usr/local" in f for f in files), "nothing under /usr/local")
        conffiles = run(["dpkg-deb", "-f", deb, "Package"]).stdout.strip()
        check(conffiles == "tern", "package name is tern")

        root = os.path.join(tmp, "root")
        for d in ["etc", "var/lib/dpkg/updates", "var/lib/dpkg/info"]:
            os.makedirs(os.path.join(root, d))
        open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
        dpkg = ["dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends",
                "--no-triggers", "--log=/dev/null"]

        r = run(dpkg + ["-i", deb])
        check(r.returncode == 0, "dpkg -i into the throwaway root succeeds")
        unit = os.path.join(root, "usr/lib/systemd/system/ternd.service")
        with open(unit) as f:
            text = f.read()
        check("ExecStart=/usr/sbin/ternd -c /etc/tern/ternd.yaml" in text,
              "the installed unit runs /usr/sbin/ternd with /etc/tern/ternd.yaml")
        with open(os.path.join(root, "etc/passwd")) as f:
            users = [l.split(":") for l in f.read().splitlines()]
        tern = [u for u in users if u[0] == "tern"]
        check(len(tern) == 1, "postinst created user tern in the root")
        state = os.path.join(root, "var/lib/tern")
        if tern and os.path.isdir(state):
            st = os.stat(state)
            check(st.st_uid == int(tern[0][2]) and (st.st_mode & 0o777) == 0o750,
                  "/var/lib/tern belongs to tern, mode 0750")
        else:
            check(False, "/var/lib/tern exists")
        r = run([os.path.join(root, "usr/sbin/ternd"), "--version"])
        check(r.returncode == 0 and r.stdout.startswith("ternd "), f"installed ternd runs: {r.stdout.strip()}")
        with open("/etc/passwd") as f:
            host_users = [l.split(":")[0] for l in f.read().splitlines()]
        # The host is left alone (unless it had a tern user already).
        print(f"host has a tern user: {'tern' in host_users} (must not be created by this test)")

        r = run(dpkg + ["-r", "tern"])
        check(r.returncode == 0, "dpkg -r succeeds")
        check(not os.path.exists(os.path.join(root, "usr/sbin/ternd")), "remove deletes ternd")
        check(os.path.exists(os.path.join(root, "etc/tern/ternd.yaml")), "remove keeps the conffile")
        r = run(dpkg + ["-P", "tern"])
        check(r.returncode == 0, "dpkg -P succeeds")
        check(not os.path.exists(os.path.join(root, "etc/tern/ternd.yaml")), "purge deletes the conffile")
        check(not os.path.exists(state), "purge deletes /var/lib/tern")

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all package checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
