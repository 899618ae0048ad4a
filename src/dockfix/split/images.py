"""The runtime base of a split: the slim variant of the same Python and distribution.

Only images whose layout is known are split: the official `python` images
(Python under /usr/local in every variant, so a virtual environment built on
one runs on the other) and astral's uv images, which are built on them.
Never another minor version or another libc: alpine stays alpine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OFFICIAL_PYTHON = re.compile(r"^(?:(?:docker\.io/)?(?:library/)?)python$")  # the Docker Official Image's name
_UV = re.compile(r"^ghcr\.io/astral-sh/uv$")
_DEBIAN = ("bookworm", "trixie", "bullseye", "buster", "stretch")
# python tags: 3, 3.12, 3.12.4, optionally -slim, then optionally -<distribution>.
_TAG = re.compile(r"^(?P<version>\d+(?:\.\d+){0,2}(?:(?:a|b|rc)\d+)?)(?P<slim>-slim)?(?:-(?P<dist>[a-z]+[0-9.]*))?$")
_UV_TAG = re.compile(r"^python(?P<version>\d+\.\d+)-(?P<dist>[a-z]+[0-9.]*)(?P<slim>-slim)?$")


@dataclass(frozen=True)
class Runtime:
    image: str  # the runtime base, e.g. python:3.12-slim
    distribution: str | None  # bookworm, trixie, alpine3.20..., None when the tag does not say
    changed: bool  # False when the base is already slim (or alpine) and the runtime reuses it
    version: str | None = None  # the Python version the tag names (3, 3.12, 3.12.4)

    @property
    def alpine(self) -> bool:
        return bool(self.distribution and self.distribution.startswith("alpine"))


def split_reference(ref: str) -> tuple[str, str | None, str | None]:
    """name, tag, digest of an image reference."""
    name, _, digest = ref.partition("@")
    tag = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, digest or None


def runtime_for(ref: str) -> Runtime | str:
    """The runtime base for `ref`, or the reason there is none."""
    name, tag, digest = split_reference(ref)
    if OFFICIAL_PYTHON.match(name):
        return _official(name, tag or "latest", digest, ref)
    if _UV.match(name) and tag:
        return _uv(name, tag, digest, ref)
    return f"base image {ref} is not an official python image: its slim variant and interpreter path are unknown"


def _official(name: str, tag: str, digest: str | None, ref: str) -> Runtime | str:
    if tag in ("slim", "alpine") or tag.startswith("slim-") or tag.startswith("alpine"):
        return Runtime(ref, _distribution(tag.split("-")[-1]), changed=False)  # python:slim: no version
    match = _TAG.match(tag)
    if not match:
        if "windows" in tag or "nanoserver" in tag:
            return f"base image {ref}: Windows images are left alone"
        if tag == "latest":
            return f"base image {ref} names no Python version: pin one (e.g. python:3.12) to split"
        return f"base image {ref}: tag {tag!r} is not a python version tag dockfix knows"
    dist = match["dist"]
    if dist and not (dist in _DEBIAN or dist.startswith("alpine")):
        return f"base image {ref}: variant {dist!r} has no slim counterpart (Windows and others are left alone)"
    if match["slim"] or (dist and dist.startswith("alpine")):
        return Runtime(ref, _distribution(dist) or _default_distribution(match["version"]), False, match["version"])
    if digest:
        return f"base image {ref} is pinned by digest: the slim variant's digest is not known"
    slim = f"{match['version']}-slim" + (f"-{dist}" if dist else "")
    return Runtime(f"{name}:{slim}", _distribution(dist) or _default_distribution(match["version"]), True, match["version"])


def _uv(name: str, tag: str, digest: str | None, ref: str) -> Runtime | str:
    match = _UV_TAG.match(tag)
    if not match:
        return f"base image {ref}: only astral's python<version>-<distribution> uv images are split"
    dist = match["dist"]
    if match["slim"] or dist.startswith("alpine"):
        return Runtime(ref, _distribution(dist), False, match["version"])
    if digest:
        return f"base image {ref} is pinned by digest: the slim variant's digest is not known"
    return Runtime(f"{name}:{tag}-slim", _distribution(dist), True, match["version"])


def python_allowed(version: str | None, requires: str) -> bool | None:
    """Does a `requires-python` specifier admit the base's Python? None when it cannot be told
    (no minor version in the tag, a patch-level bound, a syntax this does not read)."""
    if not version or version.count(".") < 1:
        return None
    have = tuple(int(p) for p in version.split(".")[:2])
    for clause in filter(None, (c.strip() for c in requires.split(","))):
        m = re.fullmatch(r"(>=|<=|==|!=|~=|>|<)\s*(\d+)(?:\.(\d+))?(?:\.(\d+|\*))?", clause)
        if not m:
            return None
        op, major, minor, patch = m[1], int(m[2]), int(m[3] or 0), m[4]
        if patch not in (None, "*", "0") and op not in ("<", "!="):
            return None
        want = (major, minor)
        ok = {">=": have >= want, ">": have > want if patch is None else have >= want, "<": have < want,
              "<=": have <= want, "==": have == want if m[3] else have[0] == major, "!=": have != want,
              "~=": have >= want and have[0] == major}[op]
        if not ok:
            return False
    return True


def _default_distribution(version: str) -> str | None:
    """An unsuffixed tag follows Debian's current release for maintained Pythons (None: bookworm
    or trixie); the last images of Pythons before 3.8 were built on older releases."""
    parts = version.split(".")
    if len(parts) >= 2 and parts[1].isdigit() and (int(parts[0]), int(parts[1])) < (3, 8):
        return "older"
    return None


def _distribution(dist: str | None) -> str | None:
    if dist in (None, "slim", "latest"):
        return None
    return dist
