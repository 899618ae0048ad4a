#!/usr/bin/env python3
"""Regenerate src/dockfix/data/slim_programs.json: the programs of python:X-slim and python:X.

No image can be pulled here, so each image is rebuilt from its real recipe in a
chroot, for every Debian suite asked for (bookworm and trixie by default):

1. `debootstrap --variant=minbase SUITE` from the Debian mirror the machine's apt
   uses, then what debuerreotype does to make the `debian:SUITE(-slim)` images:
   every package marked automatically installed, `policy-rc.d`, suggests not
   important for autoremove, `-updates` and `-security` added, `full-upgrade`.
   (debian:SUITE and debian:SUITE-slim differ only in documentation files.)
2. python:X-slim-SUITE: the `RUN` instructions of docker-library/python's
   `X/slim-SUITE/Dockerfile`, run verbatim with `/bin/sh -c` in the chroot, X
   being the suite's own Python minor version (3.11 on bookworm, 3.13 on
   trixie), whose upstream tarball is taken from Debian's source package
   (`apt-get source`, checked by apt) because python.org cannot be reached.
   Three edits, each required to match: the tarball is copied instead of
   downloaded (its sha256 is still checked by the Dockerfile's own line), the
   GPG signature lines are dropped (apt checked the tarball), and
   `--enable-optimizations` / `--with-lto` are dropped (they only make the build
   slower, not different in what it installs or links). So the build
   dependencies, the `apt-mark` + `ldd` + `apt-get purge --auto-remove` step that
   decides which libraries stay, `make install`, ensurepip and the symlinks are
   the real ones.
3. python:X-SUITE: the `RUN` instructions of docker-library/buildpack-deps'
   `debian/SUITE/curl`, `scm` and the main Dockerfile, then the python
   Dockerfile's `RUN`s that install Debian packages. Its Python build `RUN`
   installs no Debian package (checked), so its /usr/local/bin is the slim one.
4. The programs: every executable regular file (symlinks followed) in the image's
   default PATH folders, and for each program of the full image that the slim
   one lacks, the Debian package that ships it, from dpkg's file lists
   (following /etc/alternatives links to the file a package ships).

Needs root, debootstrap, chroot, network to the Debian mirror (and to PyPI for
the Pythons whose Dockerfile pip-installs setuptools/wheel). About 15 minutes
per suite on 2 cores (building Python is most of it) and 2 GB of disk; the temporary
folders are removed afterwards.

    uv run python tools/regen_slim_programs.py \\
        --python-repo PATH/TO/docker-library/python \\
        --buildpack-deps-repo PATH/TO/docker-library/buildpack-deps

The repositories may be clones or bare git folders; their HEAD (or --python-ref,
--buildpack-deps-ref) is read and its commit recorded in the data file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "dockfix" / "data" / "slim_programs.json"
SCHEMA = 1

# The PATH of a Docker container when the image sets none (and of the python images' base).
DEFAULT_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
LOCAL_DIRS = ("/usr/local/sbin", "/usr/local/bin")
DOCKER_DEFAULT_PATH = ":".join(DEFAULT_PATH)
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
SRC_IN_CHROOT = "/tmp/dockfix-src"

# debuerreotype-minimizing-config: the files that change what apt and dpkg do.
POLICY_RC_D = "#!/bin/sh\n\n# For most Docker users, \"apt-get install\" only happens during \"docker build\",\n# where starting services doesn't work and often fails in humorous ways. This\n# prevents those failures by stopping the services from attempting to start.\n\nexit 101\n"
AUTOREMOVE_SUGGESTS = "Apt::AutoRemove::SuggestsImportant \"false\";\n"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Refused(Exception):
    """A source did not look like what this script knows how to read: nothing is written."""


# ---------------------------------------------------------------------------------------------
# Dockerfiles


@dataclass
class Instruction:
    keyword: str
    lines: list[str]  # the physical lines, continuation backslashes kept, comment lines dropped

    @property
    def text(self) -> str:
        """The instruction's arguments as Docker runs them: continuations joined."""
        joined = ""
        for line in self.lines:
            joined += line[:-1] if line.endswith("\\") else line + "\n"
        return joined.split(None, 1)[1].strip() if joined.strip() else ""


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions of a Dockerfile with the default escape character. Comment lines inside a
    continued instruction are dropped, as Docker does."""
    out: list[Instruction] = []
    current: Instruction | None = None
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.lstrip().startswith("#") or not line.strip():
            continue  # Docker drops comment lines and empty lines, also inside a continuation
        if current is None:
            current = Instruction(line.split(None, 1)[0].upper(), [])
        current.lines.append(line)
        if not line.endswith("\\"):
            out.append(current)
            current = None
    if current is not None:
        raise Refused("a Dockerfile ends inside a continued instruction")
    return out


def env_value(args: str, env: dict[str, str]) -> tuple[str, str]:
    """`ENV KEY value` or `ENV KEY=value` (one pair), with $VAR and ${VAR} expanded."""
    if re.match(r"^\w+=", args):
        key, value = args.split("=", 1)
    else:
        key, value = args.split(None, 1)
    value = value.strip().strip('"')
    value = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: env.get(m[1] or m[2], ""), value)
    return key, value


def edit_build_run(lines: list[str], edits: list[str]) -> list[str]:
    """The python Dockerfile's build RUN, fetching the tarball from SRC_IN_CHROOT and built
    without PGO/LTO. Every edit must find its line, or the template changed: refuse."""
    out = []
    found = {"download": 0, "optimizations": 0, "lto": 0, "gpg": 0}
    for line in lines:
        if re.match(r'^\s*wget -O python\.tar\.xz "https://www\.python\.org/', line):
            out.append(f"\tcp {SRC_IN_CHROOT}/python-source.tar python.tar.xz; \\")
            found["download"] += 1
        elif re.search(r"python\.tar\.xz\.asc|GNUPGHOME|\bgpg --batch|gpgconf --kill", line):
            found["gpg"] += 1
        elif re.match(r"^\s*--enable-optimizations \\$", line):
            found["optimizations"] += 1
        elif "--with-lto" in line:
            found["lto"] += 1
        else:
            out.append(line)
    if found["download"] != 1 or found["optimizations"] != 1 or found["lto"] > 1:
        raise Refused(f"the python build RUN does not have the expected lines: {found}")
    if any(re.search(r"https?://|\bgpg --|\bwget -", line) for line in out):
        raise Refused("the python build RUN still downloads or verifies something after the edits")
    edits.append(f"build RUN: tarball copied from Debian's source package instead of wget; {found['gpg']} GPG "
                 "line(s) dropped; --enable-optimizations and --with-lto dropped")
    return out


# ---------------------------------------------------------------------------------------------
# git


def git_show(repo: Path, ref: str, path: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), "show", f"{ref}:{path}"], capture_output=True, text=True)
    if done.returncode:
        raise Refused(f"{repo}: {ref}:{path}: {done.stderr.strip()}")
    return done.stdout


def git_commit(repo: Path, ref: str) -> tuple[str, str]:
    out = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%H %cI", ref], capture_output=True,
                         text=True, check=True).stdout.split()
    return out[0], out[1]


# ---------------------------------------------------------------------------------------------
# chroot


def sh(*cmd: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), check=True, **kwargs)


@dataclass
class Chroot:
    root: Path
    mounted: list[Path] = field(default_factory=list)

    def run(self, script: str, env: dict[str, str] | None = None, capture: bool = False,
            log_to: Path | None = None) -> str:
        """`/bin/sh -c script` in the chroot, as Docker runs a RUN instruction."""
        environment = {"PATH": DOCKER_DEFAULT_PATH, "HOME": "/root", "DEBIAN_FRONTEND": "noninteractive",
                       "LC_ALL": "C.UTF-8"} | (env or {})
        command = ["chroot", str(self.root), "/bin/sh", "-c", script]
        if capture:
            done = subprocess.run(command, env=environment, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        else:
            with open(log_to or os.devnull, "a") as out:
                out.write(f"\n$ {script}\n")
                out.flush()
                done = subprocess.run(command, env=environment, stdin=subprocess.DEVNULL, stdout=out,
                                      stderr=subprocess.STDOUT)
        if done.returncode:
            where = f" (log: {log_to})" if log_to else f": {done.stderr[-2000:]}"
            raise RuntimeError(f"chroot {self.root}: exit {done.returncode}{where}: {script[:300]}")
        return done.stdout if capture else ""

    def mount_proc(self) -> None:
        target = self.root / "proc"
        sh("mount", "-t", "proc", "proc", str(target))
        self.mounted.append(target)

    def unmount(self) -> None:
        while self.mounted:
            sh("umount", str(self.mounted.pop()))


def mounts_below(path: Path) -> list[str]:
    prefix = str(path.resolve()) + "/"
    with open("/proc/mounts") as mounts:
        return [m.split()[1] for m in mounts if (m.split()[1] + "/").startswith(prefix)]


def remove_tree(path: Path) -> None:
    """Delete a chroot only when nothing is mounted below it (a bind mount would be emptied)."""
    if not path.exists():
        return
    still = mounts_below(path)
    if still:
        raise RuntimeError(f"not removing {path}: still mounted: {still}")
    shutil.rmtree(path)


# ---------------------------------------------------------------------------------------------
# apt sources of this machine


def host_mirrors() -> tuple[str, str]:
    """The Debian archive and security archive URIs the machine's apt uses."""
    uris: list[str] = []
    for source in sorted(Path("/etc/apt").glob("sources.list.d/*.sources")):
        for line in source.read_text().splitlines():
            if line.startswith("URIs:"):
                uris += line.split()[1:]
    listing = Path("/etc/apt/sources.list")
    if listing.exists():
        for line in listing.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb":
                uris.append(next(p for p in parts[1:] if not p.startswith("[")))
    archive = next((u for u in uris if u.rstrip("/").endswith("/debian")), None)
    security = next((u for u in uris if u.rstrip("/").endswith("/debian-security")), None)
    if not archive or not security:
        raise Refused("no Debian archive and security URIs in /etc/apt: pass --mirror and --security-mirror")
    return archive.rstrip("/"), security.rstrip("/")


# ---------------------------------------------------------------------------------------------
# programs and their packages


def programs(chroot: Chroot) -> dict[str, str]:
    """program basename -> the first PATH folder holding it as an executable regular file."""
    listing = chroot.run(
        'for d in ' + " ".join(DEFAULT_PATH) + '; do for f in "$d"/*; do '
        '[ -f "$f" ] && [ -x "$f" ] && printf "%s\\t%s\\n" "$d" "${f##*/}"; done; done; true', capture=True)
    found: dict[str, str] = {}
    for line in listing.splitlines():
        folder, name = line.split("\t")
        found.setdefault(name, folder)
    return found


def _merged(path: str) -> str:
    """/bin/x and /usr/bin/x are one file on a merged-/usr system; dpkg may know either name."""
    for short in ("/bin/", "/sbin/", "/lib/"):
        if path.startswith(short):
            return "/usr" + path
    return path


def file_owners(root: Path) -> dict[str, str]:
    """Merged path -> package, from dpkg's file lists."""
    owners: dict[str, str] = {}
    for listing in sorted((root / "var/lib/dpkg/info").glob("*.list")):
        package = listing.stem.split(":")[0]
        for path in listing.read_text(errors="replace").splitlines():
            owners.setdefault(_merged(path), package)
    return owners


def provider(root: Path, owners: dict[str, str], folder: str, name: str) -> str | None:
    """The package shipping PATH program `name` (found in `folder`), following an
    /etc/alternatives link to the file the alternative points at."""
    path = f"{folder}/{name}"
    if _merged(path) in owners:
        return owners[_merged(path)]
    link = root / path.lstrip("/")
    if link.is_symlink():
        target = os.readlink(link)
        if target.startswith("/etc/alternatives/"):
            chosen = os.readlink(root / target.lstrip("/"))
            return owners.get(_merged(chosen))
    return None


def installed_packages(chroot: Chroot) -> list[str]:
    out = chroot.run("dpkg-query -W -f '${db:Status-Abbrev} ${Package}\\n'", capture=True)
    return sorted({line.split()[1] for line in out.splitlines() if line.startswith("ii")})


# ---------------------------------------------------------------------------------------------
# one suite


@dataclass
class Sources:
    python_repo: Path
    python_ref: str
    buildpack_repo: Path
    buildpack_ref: str
    mirror: str
    security: str


def debian_release(root: Path, suite: str) -> dict[str, str]:
    lists = root / "var/lib/apt/lists"
    release = next(iter(sorted(lists.glob(f"*_dists_{suite}_InRelease")) + sorted(lists.glob(f"*_dists_{suite}_Release"))))
    fields = {}
    for line in release.read_text(errors="replace").splitlines():
        if ":" in line and not line.startswith(" "):
            key, value = line.split(":", 1)
            fields.setdefault(key, value.strip())
    return {"version": fields.get("Version", ""), "date": fields.get("Date", "")}


def make_base(work: Path, suite: str, src: Sources, logs: Path) -> tuple[Chroot, dict]:
    """debian:SUITE as debuerreotype makes it, plus the upstream tarball of the suite's Python."""
    base = Chroot(work / f"{suite}-base")
    log(f"{suite}: debootstrap --variant=minbase")
    with open(logs / f"{suite}-debootstrap.log", "w") as out:
        sh("debootstrap", "--variant=minbase", suite, str(base.root), src.mirror, stdout=out, stderr=subprocess.STDOUT)
    (base.root / "usr/sbin/policy-rc.d").write_text(POLICY_RC_D)
    (base.root / "usr/sbin/policy-rc.d").chmod(0o755)
    (base.root / "etc/apt/apt.conf.d/docker-autoremove-suggests").write_text(AUTOREMOVE_SUGGESTS)
    (base.root / "etc/apt/sources.list").write_text(
        f"deb {src.mirror} {suite} main\ndeb {src.mirror} {suite}-updates main\n"
        f"deb {src.security} {suite}-security main\n")
    base.run("apt-mark auto '.*' > /dev/null", log_to=logs / f"{suite}-base.log")
    base.run("apt-get update -qq && apt-get full-upgrade -y -qq", log_to=logs / f"{suite}-base.log")
    release = debian_release(base.root, suite)
    python3 = base.run("apt-cache show --no-all-versions python3", capture=True)
    minor = re.search(r"^Depends:.*?\bpython3\.(\d+)\b", python3, re.M)
    if not minor:
        raise Refused(f"{suite}: cannot tell the suite's Python version from apt-cache show python3")
    version = f"3.{minor[1]}"
    log(f"{suite}: Debian {release['version']} ({release['date']}), Python {version}: apt-get source")
    srcdir = base.root / SRC_IN_CHROOT.lstrip("/")
    srcdir.mkdir(parents=True)
    (base.root / "etc/apt/sources.list.d/dockfix-src.list").write_text(f"deb-src {src.mirror} {suite} main\n")
    base.run(f"apt-get update -qq && cd {SRC_IN_CHROOT} && apt-get source --download-only -qq python{version}",
             log_to=logs / f"{suite}-base.log")
    (base.root / "etc/apt/sources.list.d/dockfix-src.list").unlink()
    (tarball,) = (t for t in srcdir.glob(f"python{version}_*.orig.tar.*") if not t.name.endswith(".asc"))
    upstream = re.match(rf"python{version}_(.+)\.orig\.tar", tarball.name)[1]
    saved = work / f"{suite}-python-source.tar"
    shutil.move(tarball, saved)
    shutil.rmtree(srcdir)
    base.run("apt-get dist-clean 2>/dev/null || rm -rf /var/lib/apt/lists/*", log_to=logs / f"{suite}-base.log")
    info = {"debian_version": release["version"], "debian_release_date": release["date"], "python": version,
            "python_upstream": upstream, "python_source": f"Debian source package python{version}, {tarball.name}",
            "python_source_tarball": saved, "base_packages": installed_packages(base)}
    return base, info


def copy_tree(base: Chroot, dest: Path) -> Chroot:
    sh("cp", "-a", str(base.root), str(dest))
    return Chroot(dest)


def run_dockerfile(chroot: Chroot, text: str, name: str, env: dict[str, str], logs: Path, edits: list[str],
                   *, build: str) -> None:
    """Run a Dockerfile's ENV and RUN instructions in the chroot. `build` says what to do with the
    python build RUN (the one that runs `make install`): "edit" runs it edited, "skip" skips it
    and its symlinks RUN after checking it installs no Debian package."""
    skipping = False
    for ins in parse_dockerfile(text):
        if ins.keyword == "ENV":
            key, value = env_value(ins.text, env)
            if key not in ("PYTHON_VERSION", "PYTHON_SHA256"):  # the tarball's, set by the caller
                env[key] = value
        elif ins.keyword == "RUN":
            body = ins.text
            lines = ins.lines
            if "make install" in body:
                if build == "skip":
                    if "apt-get" in body:
                        raise Refused(f"{name}: the build RUN installs Debian packages: it would have to be run")
                    edits.append(f"{name}: python build RUN not run (it installs no Debian package); "
                                 "/usr/local is the slim image's")
                    skipping = True
                    continue
                lines = edit_build_run(lines, edits)
            elif skipping and "/usr/local/bin" in body and "apt-get" not in body:
                continue  # the symlinks next to the skipped build
            script = Instruction(ins.keyword, lines).text
            log(f"  {name}: RUN {script.split(chr(10))[0][:70]}...")
            chroot.run(script, env=dict(env), log_to=logs / f"{name.replace('/', '_')}.log")
        elif ins.keyword not in ("FROM", "CMD"):
            raise Refused(f"{name}: instruction {ins.keyword} is not one this script knows")


def build_suite(work: Path, suite: str, src: Sources, logs: Path) -> dict:
    started = time.monotonic()
    base, info = make_base(work, suite, src, logs)
    version = info["python"]
    tarball: Path = info.pop("python_source_tarball")
    sha256 = hashlib.sha256(tarball.read_bytes()).hexdigest()
    edits: list[str] = []
    py_env = {"PYTHON_VERSION": info["python_upstream"], "PYTHON_SHA256": sha256}
    if HOST_CA.exists():  # PyPI through this machine's TLS proxy (pip3 install setuptools wheel)
        py_env |= {"PIP_CERT": f"{SRC_IN_CHROOT}/host-ca.crt"}

    def with_source(chroot: Chroot) -> None:
        (chroot.root / SRC_IN_CHROOT.lstrip("/")).mkdir(parents=True)
        shutil.copy(tarball, chroot.root / SRC_IN_CHROOT.lstrip("/") / "python-source.tar")
        if HOST_CA.exists():
            shutil.copy(HOST_CA, chroot.root / SRC_IN_CHROOT.lstrip("/") / "host-ca.crt")

    slim = copy_tree(base, work / f"{suite}-slim")
    full = copy_tree(base, work / f"{suite}-full")
    remove_tree(base.root)
    slim_file = f"{version}/slim-{suite}/Dockerfile"
    full_file = f"{version}/{suite}/Dockerfile"
    slim_text = git_show(src.python_repo, src.python_ref, slim_file)
    full_text = git_show(src.python_repo, src.python_ref, full_file)
    if f"FROM debian:{suite}-slim" not in slim_text or f"FROM buildpack-deps:{suite}\n" not in full_text:
        raise Refused(f"{suite}: the python Dockerfiles are not FROM debian:{suite}-slim / buildpack-deps:{suite}")

    log(f"{suite}: python:{version}-slim-{suite} (builds Python, several minutes)")
    with_source(slim)
    slim.mount_proc()
    try:
        run_dockerfile(slim, slim_text, f"python/{slim_file}", {"PATH": DOCKER_DEFAULT_PATH} | py_env, logs, edits,
                       build="edit")
    finally:
        slim.unmount()
    shutil.rmtree(slim.root / SRC_IN_CHROOT.lstrip("/"))

    log(f"{suite}: python:{version}-{suite} (buildpack-deps curl, scm, main)")
    chain = [f"debian/{suite}/curl/Dockerfile", f"debian/{suite}/scm/Dockerfile", f"debian/{suite}/Dockerfile"]
    expected_from = [f"debian:{suite}", f"buildpack-deps:{suite}-curl", f"buildpack-deps:{suite}-scm"]
    full.mount_proc()
    try:
        for path, parent in zip(chain, expected_from, strict=True):
            text = git_show(src.buildpack_repo, src.buildpack_ref, path)
            if f"FROM {parent}\n" not in text:
                raise Refused(f"buildpack-deps {path} is not FROM {parent}")
            run_dockerfile(full, text, f"buildpack-deps/{path}", {"PATH": DOCKER_DEFAULT_PATH}, logs, edits,
                           build="edit")
        run_dockerfile(full, full_text, f"python/{full_file}", {"PATH": DOCKER_DEFAULT_PATH} | py_env, logs, edits,
                       build="skip")
    finally:
        full.unmount()

    slim_found = programs(slim)
    full_found = programs(full)
    local = sorted(name for name, folder in slim_found.items() if folder in LOCAL_DIRS)
    if any(folder in LOCAL_DIRS for folder in full_found.values()):
        raise Refused(f"{suite}: the full image has programs in /usr/local before its Python is added")
    slim_system = {name for name, folder in slim_found.items() if folder not in LOCAL_DIRS}
    # A program also in /usr/local/bin counts once, from /usr/local (PATH order).
    slim_system |= {name for name in local if any(os.path.lexists(slim.root / d.lstrip("/") / name)
                                                   for d in DEFAULT_PATH if d not in LOCAL_DIRS)}
    full_system = set(full_found)
    owners = file_owners(full.root)
    full_only = {}
    for name in sorted(full_system - slim_system):
        full_only[name] = provider(full.root, owners, full_found[name], name)
    slim_packages = installed_packages(slim)
    full_packages = installed_packages(full)
    result = {
        **{k: v for k, v in info.items() if k != "base_packages"},
        "python_source_sha256": sha256,
        "python_dockerfiles": [slim_file, full_file],
        "buildpack_deps_dockerfiles": chain,
        "edits": edits,
        "counts": {"base_packages": len(info["base_packages"]), "slim_packages": len(slim_packages),
                   "full_packages": len(full_packages)},
        "slim_added_packages": sorted(set(slim_packages) - set(info["base_packages"])),
        "slim_removed_base_packages": sorted(set(info["base_packages"]) - set(slim_packages)),
        "slim_programs": sorted(slim_system),
        "slim_not_full": sorted(slim_system - full_system),
        "full_only": full_only,
        "python_local_bin": local,
        "seconds": round(time.monotonic() - started),
    }
    for chroot in (slim, full):
        remove_tree(chroot.root)
    log(f"{suite}: slim {len(slim_system)} system programs + {len(local)} in /usr/local/bin; "
        f"full-only {len(full_only)}; {result['seconds']} s")
    return result


# ---------------------------------------------------------------------------------------------
# python versions other than the suites' own


def local_bin_for(version: str, built: dict[str, list[str]], dockerfile: str) -> tuple[list[str], str]:
    """/usr/local/bin of python:VERSION, from a built minor version's with the version numbers
    replaced. Differences between minors are what the Dockerfile and CPython's `make install`
    say: 2to3 is installed up to 3.12 (lib2to3 was removed in 3.13); `pip3 install ... wheel`
    adds wheel's `wheel` script (setuptools >= 52 installs no script)."""
    major_minor = tuple(int(p) for p in version.split("."))
    # the built minor on the same side of the 2to3 removal, preferring the nearest
    candidates = sorted(built, key=lambda b: (((tuple(int(p) for p in b.split(".")) >= (3, 13)) != (major_minor >= (3, 13))),
                                              abs(int(b.split(".")[1]) - major_minor[1])))
    reference = candidates[0]
    if (tuple(int(p) for p in reference.split(".")) >= (3, 13)) != (major_minor >= (3, 13)):
        raise Refused(f"no built Python on the same side of the 2to3 removal as {version}")
    names = set()
    for name in built[reference]:
        if name == "wheel":
            continue
        names.add(name.replace(reference, version))
    if re.search(r"pip3 install[^;]*'wheel", dockerfile, re.S):
        names.add("wheel")
    if re.search(r"pip3 install[^;]*'(?!setuptools|wheel)\w", dockerfile, re.S):
        raise Refused(f"python {version}: the Dockerfile pip-installs something other than setuptools and wheel")
    how = f"derived from the {reference} build (version numbers replaced) and {version}'s Dockerfile"
    return sorted(names), how


def python_versions(src: Sources, suites: list[str]) -> list[str]:
    versions = json.loads(git_show(src.python_repo, src.python_ref, "versions.json"))
    out = []
    for version, data in versions.items():
        if re.fullmatch(r"3\.\d+", version) and all(f"slim-{s}" in data.get("variants", []) for s in suites):
            out.append(version)
    return sorted(out, key=lambda v: int(v.split(".")[1]))


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python-repo", type=Path, required=True, help="docker-library/python (clone or git dir)")
    parser.add_argument("--python-ref", default="HEAD")
    parser.add_argument("--buildpack-deps-repo", type=Path, required=True, help="docker-library/buildpack-deps")
    parser.add_argument("--buildpack-deps-ref", default="HEAD")
    parser.add_argument("--suite", action="append", dest="suites", help="Debian suite (default: bookworm, trixie)")
    parser.add_argument("--mirror", help="Debian archive URI (default: the one /etc/apt uses)")
    parser.add_argument("--security-mirror", help="Debian security archive URI (default: the one /etc/apt uses)")
    parser.add_argument("--workdir", type=Path, default=Path("/var/tmp"), help="where the temporary chroots go")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("needs root (debootstrap, chroot)")
    for tool in ("debootstrap", "chroot", "git"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} is not installed (apt-get install debootstrap)")
    suites = args.suites or ["bookworm", "trixie"]
    mirror, security = host_mirrors() if not (args.mirror and args.security_mirror) else ("", "")
    src = Sources(args.python_repo, args.python_ref, args.buildpack_deps_repo, args.buildpack_deps_ref,
                  (args.mirror or mirror).rstrip("/"), (args.security_mirror or security).rstrip("/"))
    python_commit, python_date = git_commit(src.python_repo, src.python_ref)
    buildpack_commit, buildpack_date = git_commit(src.buildpack_repo, src.buildpack_ref)
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()

    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="dockfix-slim-", dir=args.workdir))
    logs = work / "logs"
    logs.mkdir()
    log(f"working in {work}")
    results = {}
    try:
        for suite in suites:
            results[suite] = build_suite(work, suite, src, logs)
    except BaseException:
        keep = work.with_name(work.name + "-logs")
        shutil.copytree(logs, keep, dirs_exist_ok=True)
        log(f"failed; the logs are kept in {keep}")
        raise
    finally:
        for child in sorted(work.iterdir()):
            if child.is_dir() and child != logs:
                remove_tree(child)
        shutil.rmtree(work)

    built = {r["python"]: r.pop("python_local_bin") for r in results.values()}
    python: dict[str, dict] = {}
    for version in python_versions(src, suites):
        text = git_show(src.python_repo, src.python_ref, f"{version}/slim-{suites[0]}/Dockerfile")
        if version in built:
            suite = next(s for s, r in results.items() if r["python"] == version)
            python[version] = {"local_bin": built[version],
                               "how": f"built on {suite} from {version}/slim-{suite}/Dockerfile"}
        else:
            names, how = local_bin_for(version, built, text)
            python[version] = {"local_bin": names, "how": how}
    common = sorted(set.intersection(*(set(p["local_bin"]) for p in python.values())))

    data = {
        "schema": SCHEMA,
        "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d"),
        "generator": "tools/regen_slim_programs.py",
        "architecture": arch,
        "path": list(DEFAULT_PATH),
        "sources": {
            "docker-library/python": {"commit": python_commit, "date": python_date},
            "docker-library/buildpack-deps": {"commit": buildpack_commit, "date": buildpack_date},
            "debian": "debootstrap --variant=minbase from the Debian archive (main; SUITE, SUITE-updates, "
                      "SUITE-security), made like debuerreotype's debian:SUITE images",
        },
        "method": [" ".join(part.split()) for part in re.split(r"\n(?=\d\. )", "\n".join(__doc__.split("\n\n")[1:3]))],
        "suites": results,
        "python": python,
        "python_common_local_bin": common,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    log(f"wrote {args.out} ({args.out.stat().st_size} bytes) in {round(time.monotonic() - started)} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
