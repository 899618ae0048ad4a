#!/usr/bin/env python3
"""Regenerate src/dockfix/data/debian_python.json: what a Debian image with Python from apt
loses when the packages only a build needs are left out.

The split of a `FROM debian:SUITE` file that installs python3 from apt keeps the same base
for the runtime and leaves out the build-only packages (compilers, python3-dev, python3-pip,
python3-venv, -dev headers replaced by their libraries). A program the runtime still runs
must not be one of theirs. This records, per Debian suite, from a real install:

1. `debootstrap --variant=minbase SUITE`, made like debuerreotype's debian:SUITE images
   (every package marked automatically installed, policy-rc.d, -updates and -security,
   `full-upgrade`), as tools/regen_slim_programs.py does;
2. `apt-get install --no-install-recommends python3`: the packages and programs the
   runtime always has (its Python version is the `python3.X` python3 depends on);
3. then `apt-get install` (with Recommends: a superset) of every package the split may
   leave out (dockfix.split.apt_python.DROPPED_CANDIDATES: the build-only table and the
   -dev packages of the -dev -> library table) that the suite has;
4. every program (executable in the default PATH) step 3 added, with the package that
   ships it (dpkg's file lists, /etc/alternatives followed): `vanish`.

A program not in `vanish` is in the runtime exactly when it is in the original image.
`covered` lists the packages step 3 installed: the split leaves out only those.

Needs root, debootstrap, chroot and the Debian mirror; about 5 minutes per suite.

    uv run python tools/regen_debian_python.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from regen_slim_programs import (  # noqa: E402  (a sibling script)
    AUTOREMOVE_SUGGESTS,
    POLICY_RC_D,
    Chroot,
    debian_release,
    file_owners,
    host_mirrors,
    installed_packages,
    programs,
    provider,
    remove_tree,
    sh,
)

from dockfix.split.apt_python import DROPPED_CANDIDATES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "dockfix" / "data" / "debian_python.json"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def make_base(root: Path, suite: str, mirror: str, security: str, logs: Path) -> Chroot:
    base = Chroot(root)
    log(f"{suite}: debootstrap --variant=minbase")
    with open(logs / f"{suite}-debootstrap.log", "w") as out:
        sh("debootstrap", "--variant=minbase", suite, str(root), mirror, stdout=out, stderr=subprocess.STDOUT)
    (root / "usr/sbin/policy-rc.d").write_text(POLICY_RC_D)
    (root / "usr/sbin/policy-rc.d").chmod(0o755)
    (root / "etc/apt/apt.conf.d/docker-autoremove-suggests").write_text(AUTOREMOVE_SUGGESTS)
    (root / "etc/apt/sources.list").write_text(
        f"deb {mirror} {suite} main\ndeb {mirror} {suite}-updates main\ndeb {security} {suite}-security main\n")
    base.run("apt-mark auto '.*' > /dev/null", log_to=logs / f"{suite}.log")
    base.run("apt-get update -qq && apt-get full-upgrade -y -qq", log_to=logs / f"{suite}.log")
    return base


def suite_data(work: Path, suite: str, mirror: str, security: str, logs: Path) -> dict:
    started = time.monotonic()
    chroot = make_base(work / suite, suite, mirror, security, logs)
    chroot.mount_proc()
    try:
        release = debian_release(chroot.root, suite)
        base_packages = installed_packages(chroot)
        shown = chroot.run("apt-cache show --no-all-versions python3", capture=True)
        minor = re.search(r"^Depends:.*?\bpython3\.(\d+)\b", shown, re.M)
        if not minor:
            raise RuntimeError(f"{suite}: cannot tell the suite's Python version from apt-cache show python3")
        log(f"{suite}: Debian {release['version']}, python3 is 3.{minor[1]}")
        chroot.run("apt-get install -y -qq --no-install-recommends python3", log_to=logs / f"{suite}.log")
        python_packages = installed_packages(chroot)
        before = programs(chroot)
        wanted = sorted(DROPPED_CANDIDATES(f"3.{minor[1]}"))
        available = []
        for package in wanted:
            policy = chroot.run(f"apt-cache policy {package}", capture=True)
            candidate = re.search(r"^\s*Candidate:\s*(\S+)", policy, re.M)
            if candidate and candidate[1] != "(none)":
                available.append(package)
        log(f"{suite}: installing {len(available)} of {len(wanted)} packages the split may leave out")
        chroot.run("apt-get install -y -qq " + " ".join(available), log_to=logs / f"{suite}.log")
        after = programs(chroot)
        owners = file_owners(chroot.root)
        vanish = {}
        for name in sorted(set(after) - set(before)):
            vanish[name] = provider(chroot.root, owners, after[name], name)
        all_packages = installed_packages(chroot)
    finally:
        chroot.unmount()
    remove_tree(chroot.root)
    log(f"{suite}: {len(vanish)} programs the left-out packages bring; {round(time.monotonic() - started)} s")
    return {
        "debian_version": release["version"],
        "debian_release_date": release["date"],
        "python": f"3.{minor[1]}",
        "python3_packages": sorted(set(python_packages) - set(base_packages)),
        "covered": available,
        "not_in_suite": sorted(set(wanted) - set(available)),
        "brought_in_all": len(set(all_packages) - set(python_packages)),
        "vanish": vanish,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", action="append", dest="suites", help="Debian suite (default: bookworm, trixie)")
    parser.add_argument("--workdir", type=Path, default=Path("/var/tmp"))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("needs root (debootstrap, chroot)")
    mirror, security = host_mirrors()
    work = Path(tempfile.mkdtemp(prefix="dockfix-debpy-", dir=args.workdir))
    logs = work.with_name(work.name + "-logs")
    logs.mkdir()
    log(f"working in {work}, logs in {logs}")
    suites = {}
    try:
        for suite in args.suites or ["bookworm", "trixie"]:
            suites[suite] = suite_data(work, suite, mirror, security, logs)
    finally:
        for child in sorted(work.iterdir()):
            remove_tree(child)
        shutil.rmtree(work)
    data = {
        "about": "Per Debian suite: the programs that the packages a split of a Debian image with Python from "
                 "apt may leave out bring (`vanish`, program -> package), over debian:SUITE plus "
                 "`apt-get install --no-install-recommends python3`; `covered`: those packages.",
        "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d"),
        "command": "uv run python tools/regen_debian_python.py",
        "architecture": subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                                       check=True).stdout.strip(),
        "source": f"debootstrap --variant=minbase and apt-get from {mirror} (and {security})",
        "suites": suites,
    }
    args.out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
