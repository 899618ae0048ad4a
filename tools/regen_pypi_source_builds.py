"""Regenerate src/dockfix/data/pypi_source_builds.json: which releases pip builds from source on Linux.

    uv run python tools/regen_pypi_source_builds.py --top top-pypi-packages.json --limit 1000
    uv run python tools/regen_pypi_source_builds.py --merge uwsgi docopt   # add or refresh a few

The multi-stage split moves an environment built on the full python image onto the slim
one. A distribution PyPI has no installable wheel for is compiled by pip (or uv) in the
builder, against the full image's -dev libraries (uWSGI links libxml2), which slim lacks.
This records, from PyPI's own file lists, which releases those are:

1. each distribution's file list from PyPI's simple index, the JSON form of PEP 691
   (`Accept: application/vnd.pypi.simple.v1+json` on /simple/NAME/); the names come from
   a hugovk/top-pypi-packages JSON file (`--top`, its first `--limit` rows) and/or the
   command line;
2. per release and per CPython version in PYTHONS, for each of x86_64 and aarch64: is
   there a wheel pip would install on a Debian image of that architecture (its tags among
   packaging.tags' for that CPython: cpXY, abi3 of an older CPython, py3/pyXY none-any;
   manylinux up to glibc GLIBC, which bookworm has), else an sdist (pip builds it), else
   nothing (pip skips the release there). A file counts only where its Requires-Python
   admits the CPython;
3. whether the distribution's code is compiled: a wheel for a platform (not `-any`) says
   yes, only `-any` wheels say no (pure Python); with no wheel at all, the newest sdist is
   downloaded and looked into (C, C++, Cython, Rust, Fortran sources, or a setup.py naming
   ext_modules/cffi_modules/Extension); what cannot be read stays unknown (null), which
   dockfix treats as compiled.

Stored per distribution: `compiled` (true, false or null) and why; for one that may build
compiled code from source, its releases (version order, ascending), the yanked ones, and one
character per release per CPython (grouped when CPython versions share the string):
`.` a wheel everywhere, `s` built from source on both architectures, `x` from source on
x86_64 only, `a` on aarch64 only, `-` no file for that CPython. Cut: musllinux wheels
(the split's images are Debian), pre-release-only and unparseable versions, and the
releases of pure-Python distributions and of those that never build from source (no
answer is needed for them: they never link anything).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import re
import ssl
import sys
import tarfile
import urllib.request
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "dockfix" / "data" / "pypi_source_builds.json"
INDEX = "https://pypi.org/simple/"
ACCEPT = "application/vnd.pypi.simple.v1+json"
PYTHONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
ARCHES = ("x86_64", "aarch64")
GLIBC = (2, 36)  # Debian bookworm's; trixie's (2.41) admits more wheels, so this errs towards "source"
SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip", ".tar")
COMPILED_SOURCES = (".c", ".cc", ".cpp", ".cxx", ".c++", ".pyx", ".rs", ".f", ".f90", ".cu", ".go")
SDIST_LIMIT = 64 << 20  # bytes: a larger sdist is not downloaded (compiled stays unknown)
# A setup.py that builds extensions names one of these.
EXTENSION_WORDS = re.compile(rb"\b(ext_modules|cffi_modules|Extension\s*\(|rust_extensions)")

# one character per release: how pip installs it for one CPython
WHEEL, SOURCE, SOURCE_X86, SOURCE_ARM, NOTHING = ".", "s", "x", "a", "-"


def supported_tags(python: str, arch: str) -> frozenset[Tag]:
    """The wheel tags pip on CPython `python` (3.11) accepts on a glibc GLIBC Debian image of `arch`."""
    major, minor = (int(p) for p in python.split("."))
    platforms = [f"manylinux_{GLIBC[0]}_{m}_{arch}" for m in range(GLIBC[1], 4, -1)]
    platforms += [f"manylinux2014_{arch}"] + (["manylinux2010_x86_64", "manylinux1_x86_64"] if arch == "x86_64" else [])
    platforms.append(f"linux_{arch}")
    interpreter = f"cp{major}{minor}"
    return frozenset([*cpython_tags((major, minor), [interpreter], platforms),
                      *compatible_tags((major, minor), interpreter, platforms)])


def sdist_version(filename: str, project: str) -> str | None:
    """The version of an sdist file name (`uWSGI-2.0.18.tar.gz`, `python-ldap-3.4.0.tar.gz`), or None."""
    suffix = next((s for s in SDIST_SUFFIXES if filename.lower().endswith(s)), None)
    if suffix is None:
        return None
    stem = filename[: -len(suffix)]
    for match in re.finditer("-", stem):
        if canonicalize_name(stem[: match.start()]) == project:
            return stem[match.end():]
    return None


def _admits(requires_python: str | None, python: str) -> bool:
    if not requires_python:
        return True
    try:
        return SpecifierSet(requires_python).contains(f"{python}.99", prereleases=True)
    except InvalidSpecifier:
        return True  # pip ignores a Requires-Python it cannot read


class Release:
    """One release's files, sorted into wheels (with their tags) and sdists."""

    def __init__(self) -> None:
        self.wheels: list[tuple[frozenset[Tag], str | None]] = []
        self.sdists: list[tuple[str, str | None, str, int]] = []  # filename, requires-python, url, size
        self.yanked = True  # until a file that is not

    def flag(self, python: str, tags: Mapping[str, frozenset[Tag]]) -> str:
        wheel = {arch: any(_admits(rp, python) and not wtags.isdisjoint(tags[arch]) for wtags, rp in self.wheels)
                 for arch in ARCHES}
        if all(wheel.values()):
            return WHEEL
        if not any(_admits(rp, python) for _, rp, _, _ in self.sdists):
            return WHEEL if any(wheel.values()) else NOTHING  # an architecture with nothing: pip fails, builds nothing
        if not any(wheel.values()):
            return SOURCE
        return SOURCE_ARM if wheel["x86_64"] else SOURCE_X86


def releases(payload: Mapping[str, Any]) -> dict[Version, Release]:
    """A PEP 691 JSON project page's files, by release (unparseable names and versions left out)."""
    project = canonicalize_name(str(payload["name"]))
    out: dict[Version, Release] = {}
    for file in payload.get("files", []):
        filename = str(file.get("filename", ""))
        requires = file.get("requires-python") or None
        try:
            if filename.endswith(".whl"):
                _, version, _, wheel_tags = parse_wheel_filename(filename)
                release = out.setdefault(version, Release())
                release.wheels.append((wheel_tags, requires))
            else:
                raw = sdist_version(filename, project)
                if raw is None:
                    continue  # eggs, installers
                release = out.setdefault(Version(raw), Release())
                release.sdists.append((filename, requires, str(file.get("url", "")), int(file.get("size") or 0)))
        except (InvalidWheelFilename, InvalidVersion):
            continue
        if not file.get("yanked"):
            release.yanked = False
    return out


def pure_or_compiled(found: Mapping[Version, Release]) -> tuple[bool | None, str]:
    """From the wheels: compiled when one is for a platform, pure when all are `-any`; (None, "") with none."""
    tags = [tag for release in found.values() for wheel_tags, _ in release.wheels for tag in wheel_tags]
    if not tags:
        return None, ""
    if any(tag.platform != "any" for tag in tags):
        return True, "it has wheels for platforms"
    return False, "its wheels are all pure Python (-any)"


def sdist_compiled(name: str, data: bytes) -> bool | None:
    """Does the sdist archive hold sources that compile (or a setup.py that builds extensions)?"""
    members: list[tuple[str, Any]] = []
    try:
        if name.lower().endswith(".zip"):
            archive = zipfile.ZipFile(io.BytesIO(data))
            members = [(info.filename, lambda i=info: archive.read(i)) for info in archive.infolist()]
        else:
            tar = tarfile.open(fileobj=io.BytesIO(data))
            members = [(m.name, lambda m=m: (tar.extractfile(m) or io.BytesIO()).read()) for m in tar if m.isfile()]
        if any(path.lower().endswith(COMPILED_SOURCES) or path.endswith("/Cargo.toml") for path, _ in members):
            return True
        setups = [read() for path, read in members if path.count("/") <= 1 and path.endswith("/setup.py")]
        return any(EXTENSION_WORDS.search(text) for text in setups)
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError):
        return None


def entry(payload: Mapping[str, Any], fetch_sdist=None) -> dict[str, Any]:
    """The table's answer for one project page. `fetch_sdist(url, size)` downloads an sdist (bytes, or
    None); without it, a distribution without wheels stays `compiled: null`."""
    found = releases(payload)
    usable = [v for v in found if not found[v].yanked]
    finals = sorted(v for v in usable if not v.is_prerelease) or sorted(usable)
    ordered = sorted(found)
    tags = {python: {arch: supported_tags(python, arch) for arch in ARCHES} for python in PYTHONS}
    flags = {python: "".join(found[v].flag(python, tags[python]) for v in ordered) for python in PYTHONS}
    builds = any(c in flags[p] for p in PYTHONS for c in (SOURCE, SOURCE_X86, SOURCE_ARM))
    compiled, why = pure_or_compiled(found)
    if compiled is None and builds and fetch_sdist is not None:
        newest = next((found[v].sdists[0] for v in reversed(ordered) if found[v].sdists), None)
        if newest is not None:
            data = fetch_sdist(newest[2], newest[3])
            compiled = sdist_compiled(newest[0], data) if data is not None else None
            if compiled is not None:
                why = f"no wheels; {newest[0]} {'holds' if compiled else 'holds no'} sources that compile"
    out: dict[str, Any] = {"compiled": compiled, "why": why or "no wheels, and no sdist was read",
                           "latest": str(finals[-1]) if finals else None}
    if builds and compiled is not False:
        out["releases"] = " ".join(str(v) for v in ordered)
        yanked = [str(v) for v in ordered if found[v].yanked]
        if yanked:
            out["yanked"] = " ".join(yanked)
        out["builds"] = grouped(flags)
    return out


def grouped(flags: Mapping[str, str]) -> dict[str, str]:
    """CPython versions that share a flag string, as one key ("3.8 3.9 3.10")."""
    by_flags: dict[str, list[str]] = {}
    for python, text in flags.items():
        by_flags.setdefault(text, []).append(python)
    return {" ".join(pythons): text for text, pythons in by_flags.items()}


def top_names(path: Path, limit: int) -> list[str]:
    """The first `limit` project names of a hugovk/top-pypi-packages JSON file ({"rows": [{"project": ...}]})."""
    rows = json.loads(path.read_text(encoding="utf-8"))["rows"]
    return [str(row["project"]) for row in rows[:limit]]


def _context() -> ssl.SSLContext:
    bundle = os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt"
    return ssl.create_default_context(cafile=bundle if Path(bundle).exists() else None)


def fetch_page(name: str, index: str = INDEX) -> dict[str, Any] | None:
    """The PEP 691 JSON page of `name`, or None when the index has no such project."""
    request = urllib.request.Request(f"{index}{canonicalize_name(name)}/", headers={"Accept": ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=120, context=_context()) as answer:
            page: dict[str, Any] = json.load(answer)
            return page
    except urllib.error.HTTPError as err:
        if err.code == 404:
            return None
        raise


def fetch_sdist(url: str, size: int) -> bytes | None:
    if size > SDIST_LIMIT:
        return None
    with urllib.request.urlopen(url, timeout=300, context=_context()) as answer:
        data: bytes = answer.read(SDIST_LIMIT + 1)
    return data if len(data) <= SDIST_LIMIT else None


def build(entries: Mapping[str, dict[str, Any]], names_from: str) -> dict[str, Any]:
    return {
        "about": "For each PyPI distribution: whether its code is compiled, and for one that pip may build from "
                 "source on Linux, per CPython version one character per release (releases in version order): "
                 "'.' a manylinux or pure wheel installs on x86_64 and aarch64, 's' pip builds the sdist on both, "
                 "'x' on x86_64 only, 'a' on aarch64 only, '-' no file for that CPython. A distribution not listed "
                 "is not known.",
        "generated": dt.date.today().isoformat(),
        "command": "uv run python tools/regen_pypi_source_builds.py",
        "source": "PyPI's simple index (PEP 691 JSON); the newest sdist of a distribution without wheels",
        "selection": names_from,
        "pythons": list(PYTHONS),
        "glibc": ".".join(map(str, GLIBC)),
        "distributions": dict(sorted(entries.items())),
    }


def render(data: dict) -> str:
    """JSON with one field a line: a regeneration diffs line by line."""
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def collect(names: Iterable[str], page=fetch_page, sdist=fetch_sdist) -> dict[str, dict[str, Any]]:
    out = {}
    for name in names:
        found = page(name)
        if found is None:
            print(f"{name}: not on the index", file=sys.stderr)
            continue
        out[canonicalize_name(name)] = entry(found, sdist)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="distributions to record (besides --top's)")
    parser.add_argument("--top", type=Path, help="a hugovk/top-pypi-packages JSON file")
    parser.add_argument("--limit", type=int, default=1000, help="how many of --top's rows (default 1000)")
    parser.add_argument("--merge", action="store_true", help="keep the table's other distributions")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    names = (top_names(args.top, args.limit) if args.top else []) + args.names
    if not names:
        parser.error("name distributions, or give --top")
    old = json.loads(args.out.read_text(encoding="utf-8")) if args.merge and args.out.exists() else {}
    entries = dict(old.get("distributions", {}))
    entries.update(collect(names))
    what = f"the first {args.limit} rows of {args.top.name}" if args.top else f"named: {' '.join(names)}"
    if args.merge and old:
        what = f"{old.get('selection', '?')}; on {dt.date.today()}: {' '.join(names)}"
    data = build(entries, what)
    args.out.write_text(render(data), encoding="utf-8")
    compiled = sum(1 for e in entries.values() if "builds" in e)
    print(f"wrote {args.out} ({len(entries)} distributions, {compiled} that may build compiled code from source)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
