"""Debian's Packages indices, downloaded by apt itself: the shared part of the regen tools.

`download` runs `apt-get update` with a private configuration (its own sources list, lists
and cache folders under a folder of the caller's; the system's apt setup is not touched)
for `main` of each suite, from the Debian mirror the machine already uses
(`system_mirror`: the first Debian URI in /etc/apt/sources.list*), and returns the Packages
text apt downloaded (`apt-helper cat-file`) with the Release fields. apt checks the Release
signatures with debian-archive-keyring. Used by tools/regen_debian_recommends.py,
tools/regen_full_image_packages.py and tools/regen_debian_dev_runtime.py.
"""

from __future__ import annotations

import argparse
import glob
import re
import subprocess
import sys
import tempfile
from pathlib import Path

SUITES = ("bookworm", "trixie")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def system_mirror() -> str | None:
    """The first Debian archive URI of the system's sources (one-line and deb822 formats)."""
    for path in sorted(glob.glob("/etc/apt/sources.list")) + sorted(glob.glob("/etc/apt/sources.list.d/*")):
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for uri in re.findall(r"^\s*URIs:\s*(\S+)", text, re.M) + re.findall(
                r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)", text, re.M):
            if uri.rstrip("/").endswith("/debian"):
                return uri.rstrip("/")
    return None


def download(mirror: str, work: Path, suites: tuple[str, ...] = SUITES) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """apt-get update with a private configuration; the Packages text and Release fields per suite."""
    for sub in ("lists/partial", "cache/archives/partial", "etc/sources.list.d", "etc/preferences.d",
                "etc/apt.conf.d", "etc/trusted.gpg.d"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    sources = work / "etc" / "sources.list"
    sources.write_text("".join(f"deb [signed-by={KEYRING}] {mirror} {suite} main\n" for suite in suites))
    options = [
        "-o", f"Dir::Etc={work / 'etc'}",
        "-o", f"Dir::Etc::SourceList={sources}",
        "-o", f"Dir::Etc::SourceParts={work / 'etc' / 'sources.list.d'}",
        "-o", f"Dir::Etc::Parts={work / 'etc' / 'apt.conf.d'}",
        "-o", f"Dir::Etc::Preferences={work / 'etc' / 'preferences'}",
        "-o", f"Dir::Etc::PreferencesParts={work / 'etc' / 'preferences.d'}",
        "-o", f"Dir::State::Lists={work / 'lists'}",
        "-o", f"Dir::Cache={work / 'cache'}",
        "-o", "Dir::State::status=/dev/null",
        "-o", "APT::Architecture=amd64",
        "-o", "APT::Architectures=amd64",
        "-o", "Acquire::Languages=none",
    ]
    subprocess.run(["apt-get", *options, "update"], check=True, stdout=sys.stderr)
    targets = subprocess.run(
        ["apt-get", *options, "indextargets", "--format", "$(FILENAME)\t$(CODENAME)\t$(COMPONENT)",
         "Identifier: Packages"], check=True, capture_output=True, text=True).stdout
    indices: dict[str, str] = {}
    for line in filter(None, targets.splitlines()):
        filename, codename, component = line.split("\t")
        if codename in suites and component == "main":
            indices[codename] = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", filename], check=True,
                                               capture_output=True, text=True).stdout
    missing = set(suites) - set(indices)
    if missing:
        sys.exit(f"apt downloaded no Packages index for {sorted(missing)}")
    releases = {}
    for suite in suites:
        found = glob.glob(str(work / "lists" / f"*_dists_{suite}_InRelease"))
        text = Path(found[0]).read_text(encoding="utf-8", errors="replace") if found else ""
        fields = dict(re.findall(r"^(Version|Date): (.*)$", text, re.M))
        releases[suite] = {"version": fields.get("Version", "?"), "date": fields.get("Date", "?")}
    return indices, releases


Package = dict[str, str]


def parse_packages(text: str) -> dict[str, Package]:
    out: dict[str, Package] = {}
    for stanza in text.split("\n\n"):
        fields: Package = {}
        for line in stanza.splitlines():
            if line and not line[0].isspace() and ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if "Package" in fields:
            out[fields["Package"]] = fields
    return out


def clauses(value: str) -> list[list[str]]:
    """`a (>= 1) | b:any, c` -> [["a", "b"], ["c"]]."""
    out = []
    for clause in value.split(","):
        alternatives = [a.strip().split()[0].split(":")[0] for a in clause.split("|") if a.strip()]
        if alternatives:
            out.append(alternatives)
    return out


def indices_from_command_line(description: str, out: Path,
                              suites: tuple[str, ...] = SUITES) -> tuple[Path, dict[str, str], dict[str, dict[str, str]]]:
    """The options every regeneration tool shares (--mirror, --workdir, --out), then the suites'
    Packages indices and Release fields: (the output path, indices, releases)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--mirror", help="Debian archive URI (default: the first one in /etc/apt/sources.list*)")
    parser.add_argument("--workdir", help="keep apt's private lists here (default: a temporary folder)")
    parser.add_argument("--out", default=str(out))
    args = parser.parse_args()
    mirror = args.mirror or system_mirror()
    if not mirror:
        sys.exit("no Debian mirror found in /etc/apt/sources.list*: pass --mirror")
    with tempfile.TemporaryDirectory(prefix="dockfix-apt-") as tmp:
        indices, releases = download(mirror, Path(args.workdir or tmp), suites)
    return Path(args.out), indices, releases
