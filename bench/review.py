"""The review table (issue 12): dockfix with unsafe fixes on every corpus file, in its real build context.

    uv run python bench/review.py [--at REV] [--before REV] [--corpus DIR] [--mirror DIR] [--out FILE]
                                  [--diffs DIR] [--keep] [--tmp DIR]

Corpus files come without their repositories; MANIFEST.tsv names each file's
repository, path and commit. For every repository that has a snapshot in the
mirror (`/work/.mirror/<owner>+<name>/repo`, a bare git dir as the `fetch`
tool leaves it), the tree at the MANIFEST commit (or at the snapshot's HEAD
when that commit is missing: the table says which) is materialised into a
temporary folder, and dockfix runs on the file there, so the transforms that
read the build context (lockfile-first, dockerignore, bytecode's --locked and
--no-dev, the split's manifests) see the repository's real files. Files whose
repository has no snapshot run in place, without a context, and the table says
so. Missing snapshots are counted, never an error: rerun after fetching more.

Nothing from a repository is ever run. The tree comes out through `git
archive | tar -x` from a private, empty git dir that borrows the snapshot's
objects (`objects/info/alternates`): its config is ours (no filter drivers, no
hooks; the system and global git configs are off), and its `info/attributes`
turns off `export-ignore`/`export-subst`, so the folder holds what a checkout
holds. Blobs a snapshot lacks (files of 4 MiB and more) are left out of the
archive and stand as empty files of the same name, and the table counts them.
The only program run on the files is dockfix itself:
`dockfix --check -v --unsafe-fixes --format json FILE...` (this interpreter's
dockfix, the one `uv run dockfix` runs; with `--at HEAD`, this repository's src/ as committed, since other
engineers edit the working tree concurrently). The JSON carries every fix (transform,
message, line, safe) and note, and the diff `--diff --unsafe-fixes` would print.

Output: a Markdown report (default docs/review.md): per rule code, the files
changed and refused by dockfix before issue 12's work (`--before`, default
d6cc797, run on the same trees; its output predates rule codes, which are read
from its transform and message) and by this revision, with every change the
work took back (and the reason now given) and every new one; a summary per
transform (files changed, files refused, the most common refusal reasons with
line numbers and quoted words folded), the facts each kind of change relies on, and a per-file
table (context real/absent, changes by rule with the fact, refusals). With
`--diffs DIR` every file's diff is also written there, for review. A section
"Reviewed diffs" written by hand below the marker line of an existing report is
kept when the report is regenerated.
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEEP_MARKER = "<!-- review.py keeps everything below this line -->"
BEFORE = "d6cc797"  # dockfix before issue 12 ("know or refuse"): the review's "before"
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "HOME": os.devnull,
}


# ---- materialising a repository's tree ----------------------------------------------------------

@dataclass
class Checkout:
    repo: str
    wanted: str  # the MANIFEST commit
    commit: str = ""  # what was materialised
    at: str = ""  # "manifest" or "HEAD (manifest commit missing)"
    folder: Path | None = None
    absent_blobs: list[str] = field(default_factory=list)
    error: str = ""


def _git(gitdir: Path, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | GIT_ENV
    return subprocess.run(["git", "--git-dir", str(gitdir), *args], input=input, capture_output=True, env=env)


def materialise(snapshot: Path, repo: str, commit: str, into: Path) -> Checkout:
    out = Checkout(repo, commit)
    private = into.with_name(into.name + ".git")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | GIT_ENV
    subprocess.run(["git", "init", "-q", "--bare", str(private)], check=True, env=env, capture_output=True)
    (private / "objects" / "info" / "alternates").write_text(str((snapshot / "objects").resolve()) + "\n")
    (private / "info").mkdir(exist_ok=True)
    (private / "info" / "attributes").write_text("* -export-ignore -export-subst\n")
    if _git(private, "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0:
        out.commit, out.at = commit, "manifest"
    else:
        # the snapshot's own HEAD, read from its files (the private dir has its objects, not its refs)
        head = _snapshot_head(snapshot, private)
        if not head:
            out.error = "neither the MANIFEST commit nor a HEAD is in the snapshot"
            return out
        out.commit, out.at = head, "HEAD (MANIFEST commit missing)"
    listing = _git(private, "ls-tree", "-r", "-z", "--full-tree", out.commit)
    if listing.returncode != 0:
        out.error = listing.stderr.decode(errors="replace").strip()[:200]
        return out
    blobs = []
    for entry in listing.stdout.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        mode, kind, sha = meta.split()
        if kind == b"blob":
            blobs.append((sha.decode(), path.decode("utf-8", "surrogateescape")))
    checked = _git(private, "cat-file", "--batch-check", input="".join(f"{s}\n" for s, _ in blobs).encode()).stdout
    out.absent_blobs = [p for (_, p), line in zip(blobs, checked.decode().splitlines(), strict=True) if line.endswith(" missing")]
    into.mkdir(parents=True)
    excludes = [f":(exclude,literal){p}" for p in out.absent_blobs]
    archive = subprocess.Popen(["git", "--git-dir", str(private), "archive", "--format=tar", out.commit, "--", ".", *excludes],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    untar = subprocess.run(["tar", "-x", "--no-same-owner", "--no-same-permissions", "-C", str(into)],
                           stdin=archive.stdout, capture_output=True)
    assert archive.stdout is not None and archive.stderr is not None
    archive.stdout.close()
    err = archive.stderr.read().decode(errors="replace")
    if archive.wait() != 0 or untar.returncode != 0:
        out.error = (err + untar.stderr.decode(errors="replace")).strip()[:300]
        return out
    base = into.resolve()
    for path in out.absent_blobs:  # keep the name (COPY sources, listings), not the bytes the snapshot lacks
        target = (into / path).resolve()
        if target.is_relative_to(base) and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
    out.folder = into
    return out


def _snapshot_head(snapshot: Path, private: Path) -> str:
    try:
        head = (snapshot / "HEAD").read_text().strip()
    except OSError:
        return ""
    ref = head.removeprefix("ref: ").strip()
    if re.fullmatch(r"[0-9a-f]{40}", ref):
        return ref
    resolved = _git(private, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}")
    if resolved.returncode == 0:
        return resolved.stdout.decode().strip()
    packed = snapshot / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(errors="replace").splitlines():
            sha, _, name = line.partition(" ")
            if name == ref and re.fullmatch(r"[0-9a-f]{40}", sha):
                return sha
    loose = snapshot / ref
    if loose.is_file():
        sha = loose.read_text().strip()
        if re.fullmatch(r"[0-9a-f]{40}", sha):
            return sha
    return ""


# ---- where the build context really is: compose files and CI that name the Dockerfile ----------

def declared_builds(checkout: Path) -> list[tuple[str, str]]:
    """(context, Dockerfile) pairs, relative to the repository root, that the repository's compose files
    and GitHub workflows (docker/build-push-action) declare; read as data, never run."""
    try:
        import yaml
    except ImportError:  # pyyaml is a dev dependency; without it the column stays empty
        return []
    found: set[tuple[str, str]] = set()
    for folder, dirs, names in os.walk(checkout):
        dirs[:] = [d for d in dirs if d not in ("node_modules", ".git")]
        here = Path(folder)
        workflow = here.relative_to(checkout).as_posix() == ".github/workflows"
        for name in names:
            if not (re.fullmatch(r"(docker-)?compose[\w.-]*\.ya?ml", name) or (workflow and name.endswith((".yml", ".yaml")))):
                continue
            path = here / name
            if path.is_symlink() or path.stat().st_size > 512_000:
                continue
            try:
                doc = yaml.safe_load(path.read_text(errors="replace"))
            except Exception:  # noqa: BLE001 (a template or broken YAML says nothing)
                continue
            base = Path(".") if workflow else here.relative_to(checkout)
            for context, file in _builds(doc):
                if not isinstance(context, str) or "$" in context or "://" in context:
                    continue
                ctx = Path(os.path.normpath(base / context))
                file = file if isinstance(file, str) else "Dockerfile"
                if "$" in file:
                    continue
                # compose: `dockerfile` is relative to the context; build-push-action: `file` to the repository root
                dockerfile = os.path.normpath(file) if workflow else os.path.normpath(ctx / file)
                found.add((ctx.as_posix(), dockerfile))
    return sorted(found)


_BUILD_CMD = re.compile(r"docker(?:\s+buildx)?\s+build\b((?:[^\n\\]|\\\n|\\.)*)")
_VALUED = {"-t", "--tag", "--build-arg", "--target", "--platform", "--cache-from", "--cache-to", "--label", "--secret",
           "--ssh", "--network", "--progress", "--output", "-o", "--iidfile", "--add-host", "--build-context", "--shm-size"}


def command_builds(checkout: Path) -> list[tuple[str, str]]:
    """(context, Dockerfile) pairs from `docker build -f FILE CONTEXT` in Makefiles, tox.ini and shell scripts,
    relative to the repository root (the command taken to run from its file's folder); read, never run."""
    found: set[tuple[str, str]] = set()
    for folder, dirs, names in os.walk(checkout):
        dirs[:] = [d for d in dirs if d not in ("node_modules", ".git")]
        for name in names:
            if not (name in ("Makefile", "tox.ini", "justfile") or name.endswith((".mk", ".sh"))):
                continue
            path = Path(folder) / name
            try:
                if path.is_symlink() or path.stat().st_size > 256_000:
                    continue
                text = path.read_text(errors="replace")
            except OSError:
                continue
            here = path.parent.relative_to(checkout)
            for match in _BUILD_CMD.finditer(text):
                words = match[1].replace("\\\n", " ").split()
                file, context, i = None, None, 0
                while i < len(words):
                    word = words[i]
                    if word in ("-f", "--file") and i + 1 < len(words):
                        file, i = words[i + 1], i + 2
                        continue
                    if word.startswith("--file="):
                        file = word.split("=", 1)[1]
                    elif word in _VALUED:
                        i += 1
                    elif not word.startswith("-") and context is None:
                        context = word
                    if word in ("&&", "||", ";", "|"):
                        break
                    i += 1
                if not file or not context or "$" in file + context or "{" in file + context:
                    continue
                found.add((os.path.normpath(here / context), os.path.normpath(here / file)))
    return sorted(found)


def _builds(doc: object) -> list[tuple[object, object]]:
    """(context, dockerfile) pairs: compose `build:` entries and docker/build-push-action `with:` blocks."""
    out: list[tuple[object, object]] = []

    def walk(node: object, depth: int = 0) -> None:
        if depth > 12:
            return
        if isinstance(node, dict):
            build = node.get("build")
            if isinstance(build, str):
                out.append((build, None))
            elif isinstance(build, dict):
                out.append((build.get("context", "."), build.get("dockerfile")))
            uses = node.get("uses")
            if isinstance(uses, str) and "build-push-action" in uses and isinstance(node.get("with"), dict):
                w = node["with"]
                out.append((w.get("context", "."), w.get("file") or os.path.join(str(w.get("context", ".")), "Dockerfile")))
            for value in node.values():
                walk(value, depth + 1)
        elif isinstance(node, list):
            for value in node:
                walk(value, depth + 1)

    walk(doc)
    return out


# ---- the facts a change relied on --------------------------------------------------------------

def _table_meta() -> str:
    try:
        table = json.loads((ROOT / "src/dockfix/data/debian_recommends.json").read_text())
        suites = "/".join(table.get("suites", {})) or "?"
        return f"src/dockfix/data/debian_recommends.json (generated {table.get('generated', '?')}, Debian {suites} main)"
    except (OSError, ValueError):
        return "src/dockfix/data/debian_recommends.json"


def _logical_instruction(text: str, line: int) -> str:
    """The instruction starting at 1-based `line`, continuation lines joined (for quoting facts)."""
    lines = text.splitlines()
    out, i = [], line - 1
    while 0 <= i < len(lines):
        current = lines[i]
        if current.strip().startswith("#") and i > line - 1:  # a comment inside a continuation: not part of it
            i += 1
            continue
        out.append(current.rstrip("\\").strip())
        if not current.rstrip().endswith("\\"):
            break
        i += 1
    return " ".join(out)


def _stage_base(text: str, line: int) -> str:
    """The FROM image of the stage holding `line`, followed through earlier stage names."""
    aliases: dict[str, str] = {}
    args = dict(re.findall(r"(?im)^ARG\s+(\w+)=(\S+)", text.split("\nFROM", 1)[0]))
    base = ""
    for number, current in enumerate(text.splitlines(), 1):
        m = re.match(r"(?i)\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", current)
        if not m:
            continue
        if number > line:
            break
        image = re.sub(r"\$\{?(\w+)\}?", lambda v: args.get(v[1], v[0]), m[1])
        image = aliases.get(image.lower(), image)
        if m[2]:
            aliases[m[2].lower()] = image
        base = image
    return base


def _apt_packages(instruction: str) -> list[str]:
    """Package words of the installs that had no --no-install-recommends (those the fix changed)."""
    words: list[str] = []
    for part in re.split(r"&&|\|\||;|\|", instruction):
        m = re.search(r"\bapt(?:-get)?\s+(?:\S+\s+)*?install\b(.*)", part)
        if m and "--no-install-recommends" not in part and "--install-recommends" not in part:
            words += [w for w in m[1].split() if not w.startswith("-") and re.fullmatch(r"[a-z0-9][\w+.:=~-]*", w)]
    return words


def _context_files(context: Path | None, names: list[str]) -> str:
    if context is None:
        return "no context"
    present = [n for n in names if (context / n).exists()]
    return ", ".join(present) if present else "none present"


def _env_files(context: Path) -> list[str]:
    found = []
    for path in sorted(context.rglob(".env*")):
        rel = path.relative_to(context).as_posix()
        if any(part in ("node_modules", ".git") for part in path.parts):
            continue
        if re.fullmatch(r"(.*/)?\.env", rel) and (path.is_file() or path.is_symlink()):
            found.append(rel)
    return found


def _dev_groups(context: Path) -> str:
    try:
        data = tomllib.loads((context / "pyproject.toml").read_text())
    except (OSError, ValueError):
        return "pyproject.toml unreadable"
    said = []
    dev = data.get("dependency-groups", {}).get("dev")
    if dev is not None:
        said.append(f"[dependency-groups] dev ({len(dev)} entries)")
    legacy = data.get("tool", {}).get("uv", {}).get("dev-dependencies")
    if legacy is not None:
        said.append(f"[tool.uv] dev-dependencies ({len(legacy)} entries)")
    return ", ".join(said) or "no dev group found"


_DESCRIBED_BASES = re.compile(r"^(docker\.io/)?(library/)?(python|debian|buildpack-deps)[:@]|^(ghcr\.io/)?astral-sh/uv:.*(bookworm|trixie)")
_DOTENV_READERS = re.compile(r"load_dotenv\(|dotenv_values\(|find_dotenv\(|read_env\(|env_file\s*=\s*['\"][^'\"]*\.env['\"]|RepositoryEnv\(")


def _script_from(text: str, line: int, limit: int = 60) -> str:
    """The instruction at `line` with its continuation lines and heredoc bodies (bounded), for evidence."""
    return "\n".join(text.splitlines()[line - 1: line - 1 + limit])


def _dotenv_readers(context: Path) -> list[str]:
    """Python files of the context that load a .env at run time (python-dotenv, django-environ, pydantic env_file)."""
    found = []
    for folder, dirs, names in os.walk(context):
        dirs[:] = [d for d in dirs if d not in ("node_modules", ".git", "tests", "test", "docs", ".venv", "venv")]
        for name in names:
            if not name.endswith(".py"):
                continue
            path = Path(folder) / name
            try:
                if path.is_symlink() or path.stat().st_size > 256_000:
                    continue
                if _DOTENV_READERS.search(path.read_text(errors="replace")):
                    found.append(path.relative_to(context).as_posix())
            except OSError:
                continue
        if len(found) >= 5:
            break
    return sorted(found)[:5]


def _ignore_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex over context-relative paths (a folder match covers its files)."""
    out = ""
    parts = pattern.strip("/").split("/")
    for i, seg in enumerate(parts):
        if seg == "**":
            out += "(?:.*/)?"
            continue
        out += re.escape(seg).replace(r"\*", "[^/]*").replace(r"\?", "[^/]") + ("/" if i < len(parts) - 1 else "")
    return re.compile(out + "(?:/.*)?$")


def _added_patterns(file_diff: str) -> list[str]:
    part = file_diff.split(".dockerignore\n", 1)[1] if ".dockerignore\n" in file_diff else ""
    lines = part.splitlines()
    if MARKER_LINE in lines:
        lines = lines[lines.index(MARKER_LINE) + 1:]
    return [line[1:] for line in lines if line.startswith("+") and not line.startswith("+++") and line[1:].strip()]


MARKER_LINE = "+# added by dockfix"


def _tracked_matches(context: Path, patterns: list[str]) -> list[str]:
    regexes = [(p, _ignore_regex(p)) for p in patterns if p != ".git"]
    hits: dict[str, int] = collections.Counter()
    for folder, dirs, names in os.walk(context):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            rel = (Path(folder) / name).relative_to(context).as_posix()
            for pattern, regex in regexes:
                if regex.match(rel):
                    hits[pattern] += 1
    return [f"{p} ({n})" for p, n in sorted(hits.items())]


def fact(fix: dict, text: str, context: Path | None, file_diff: str) -> str:
    """The fact a change relied on, in a few words, with the evidence found in the context.
    ⚠ marks evidence that the fact may not cover the case (for a reviewer to look at)."""
    t, m = fix["transform"], fix["message"]
    instruction = _logical_instruction(text, fix["line"]) if fix.get("line") else ""
    if t == "apt":
        if "recommended" in m:
            # installs after a new apt source are refused (the transform's rule): quote only those before it
            before = re.split(r"add-apt-repository|apt-add-repository|sources\.list", instruction)[0]
            packages = " ".join(_apt_packages(before)) or "?"
            base = _stage_base(text, fix["line"]) or "?"
            out = (f"table: {_table_meta()} says `{packages}` lose nothing a later step needs through Recommends "
                   f"on `{base}`" + (" (ca-certificates named)" if "adding ca-certificates" in m else ""))
            if not _DESCRIBED_BASES.search(base):
                out += "; ⚠ the table does not describe this base (Debian's answer used)"
            if re.search(r"add-apt-repository|apt-add-repository", instruction):
                out += "; ⚠ the same RUN then runs add-apt-repository"
            return out
        return "shell: the RUN's parsed shell structure (the cleanup runs exactly when the RUN succeeds)"
    if t == "cache-mounts":
        out = "Dockerfile: USER/HOME/ENV read from the stage give the cache folder; a mount changes no image file"
        above = text.splitlines()[fix["line"] - 2] if fix.get("line", 0) >= 2 else ""
        if re.search(r"hadolint\s+ignore=.*DL3042", above):
            out += "; ⚠ the line above says `# hadolint ignore=DL3042`"
        return out
    if t == "bytecode":
        script = _script_from(text, fix["line"]) if fix.get("line") else ""
        sync = next((line for line in script.splitlines() if re.search(r"\buv\s+sync\b", line)), "")
        through_vars = re.findall(r"\$\{?\w+\}?", sync.split("uv sync", 1)[-1]) if sync else []
        warn = f"; ⚠ the sync's flags come through variables: {' '.join(through_vars)}" if through_vars else ""
        if "--locked" in m:
            return f"context: uv.lock present ({_context_files(context, ['uv.lock'])}) and copied before the sync{warn}"
        if "--no-dev" in m:
            return f"context: pyproject.toml declares dev dependencies: {_dev_groups(context) if context else 'no context'}{warn}"
        if "--no-compile" in m:
            return "Dockerfile: pip's --no-compile as written"
        return "Dockerfile: no PYTHONDONTWRITEBYTECODE, no bytecode comment, no `uv run` start without --no-sync"
    if t == "dockerignore":
        how = "new .dockerignore" if "new file mode" in file_diff else "appends to the existing .dockerignore"
        if ".env" in m:
            envs = _env_files(context) if context else []
            seen = f"{len(envs)} .env file(s) in the checkout: {', '.join(envs[:3])}" if envs else "no .env file in the checkout"
            readers = _dotenv_readers(context) if context else []
            warn = f"; ⚠ code of the context reads a .env at run time: {', '.join(readers)}" if readers else ""
            return f"Dockerfile: no COPY/ADD/mount source or command names .env; context: {seen}; {how}{warn}"
        matches = _tracked_matches(context, _added_patterns(file_diff)) if context else []
        tracked = f"; files of the checkout now excluded: {', '.join(matches)}" if matches else "; nothing of the checkout matches"
        return f"context listing + Dockerfile: the names are caches/VCS/outputs no instruction copies or mentions; {how}{tracked}"
    if t == "lockfile-first":
        named = re.findall(r"[\w./-]+\.(?:txt|toml|lock|in)\b", m)
        return f"context: the install reads only {', '.join(named) or 'its manifests'} ({_context_files(context, named)})"
    if t == "multistage" and re.search(r"a (?:\S+/)?debian:\S+ runtime", m):
        return ("static equivalence of the final stage's configuration; the same Debian base, Python from apt; "
                "packages left out and the programs they bring (data/debian_python.json); python3 and "
                "ca-certificates named from the Recommends table; the dependencies read from the manifests")
    if t == "multistage":
        speed = "; pip-to-uv's own decision on the split's builder (the gain: build speed)" if "build speed" in m else ""
        return ("static equivalence of the final stage's configuration; the slim tag of the same Python; "
                f"the dependencies read from the manifests in the context{speed}")
    if t == "pip-to-uv":
        return ("the builder's venv copied to the runtime; every install of the stage pip into it, its options and "
                "requirements files read; no pip or setuptools used after the venv is made (stages, scripts, "
                "Python files of the context; RUNS_PIP)")
    return "?"


# ---- folding refusal reasons ---------------------------------------------------------------------

def fold(message: str) -> str:
    message = re.sub(r"`[^`]*`", "`…`", message)
    message = re.sub(r"\bline \d+", "line N", message)
    message = re.sub(r"\bat line N", "at line N", message)
    message = re.sub(r"^(--no-install-recommends not added: ).*?( only as Recommends| not known statically| adds an apt source)",
                     lambda m: m[1] + "… " + m[2].strip(), message)
    message = re.sub(r"^\S+ \(copied at line N\) is not beside", "X (copied at line N) is not beside", message)
    message = re.sub(r"^\S+ not added: ", "NAME not added: ", message)
    message = re.sub(r"base image \S+ is not", "base image X is not", message)
    message = re.sub(r"FROM \S+ goes", "FROM $ARG goes", message)
    message = re.sub(r"USER \S+ is unknown", "USER X is unknown", message)
    message = re.sub(r"\(Debian [^)]*\)", "(Debian …)", message)
    message = re.sub(r", and \S+ (does not ship|is built on|is Ubuntu)", r", and BASE \1", message)
    message = re.sub(r"built on Debian \w+", "built on Debian X", message)
    message = re.sub(r"asks for [\d.]+", "asks for X", message)
    return message[:160]


# ---- rule codes: given by dockfix since the codes came in; inferred for an older revision ----------

_CODE_BY_TRANSFORM = {"lockfile-first": "DF401", "cache-mounts": "DF201", "multistage": "DF601", "pip-to-uv": "DF701"}
RULE_NAMES = {
    "DF101": "apt-lists-cleanup", "DF102": "apt-no-recommends", "DF103": "apk-no-cache", "DF104": "dnf-clean-all",
    "DF201": "download-cache-mount", "DF301": "uv-compile-bytecode", "DF302": "uv-sync-locked",
    "DF303": "uv-sync-no-dev", "DF304": "pip-compile-bytecode", "DF401": "dependencies-before-code",
    "DF501": "dockerignore-entries", "DF502": "dockerignore-dotenv", "DF601": "multistage-split",
    "DF701": "pip-to-uv-builder",
}


def code_of(item: dict) -> str:
    """The item's rule code: its `code` field, or (an older dockfix, before rule codes) the code
    today's rule for the same change or refusal has, read from its transform and message."""
    if item.get("code"):
        return str(item["code"])
    t, m = item["transform"], item["message"]
    if t in _CODE_BY_TRANSFORM:
        return _CODE_BY_TRANSFORM[t]
    if m.startswith("not a Python image"):
        return "DF001"
    if t == "apt":
        if "recommend" in m.lower():
            return "DF102"
        if "apk" in m:
            return "DF103"
        if "dnf" in m or "yum" in m or "clean all" in m:
            return "DF104"
        return "DF101"
    if t == "bytecode":
        if "--locked" in m:
            return "DF302"
        if "--no-dev" in m or "dev dependencies" in m:
            return "DF303"
        if "--no-compile" in m or "PIP_NO_COMPILE" in m:
            return "DF304"
        return "DF301"
    if t == "dockerignore":
        return "DF502" if ".env" in m else "DF501"
    return t


# ---- the run -------------------------------------------------------------------------------------

@dataclass
class Row:
    file: str
    repo: str
    path: str
    commit: str
    kind: str
    context: str = "absent"  # real / absent
    at: str = ""
    run_path: Path | None = None
    differs: str = ""
    declared: list[str] = field(default_factory=list)
    result: dict = field(default_factory=dict)
    before: dict = field(default_factory=dict)  # the same file run by the --before revision
    absent_blobs: int = 0


def _fast_tmp() -> str | None:
    """/dev/shm when it has room for the trees (about 1 GB for the corpus), else the system's temporary folder."""
    try:
        stat = os.statvfs("/dev/shm")
    except OSError:
        return None
    return "/dev/shm" if stat.f_bavail * stat.f_frsize > 2 * 1024**3 and os.access("/dev/shm", os.W_OK) else None


def dockfix_version(at: str | None = None) -> str:
    """The commit whose src/ ran, and whether the working tree's src/ had uncommitted changes (other engineers edit it)."""
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", at or "HEAD"], capture_output=True, text=True).stdout.strip()
    if at:
        return f"src/ as committed at {head or at}"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"], capture_output=True, text=True).stdout
    return f"{head or '?'}" + (" with uncommitted changes in src/" if dirty.strip() else "")


def run_dockfix(paths: list[Path], src: Path | None = None) -> dict:
    command = [sys.executable, "-m", "dockfix", "--check", "-v", "--unsafe-fixes", "--format", "json", *map(str, paths)]
    env = dict(os.environ, PYTHONPATH=str(src)) if src else None
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    if done.returncode not in (0, 1, 2) or not done.stdout.strip():
        sys.exit(f"dockfix failed ({done.returncode}): {done.stderr[:2000]}")
    return json.loads(done.stdout)


def src_at(revision: str, into: Path) -> Path:
    """This repository's src/ as committed at `revision`, extracted into `into` (git archive)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def results_by_row(rows: list[Row], report: dict) -> list[dict]:
    # paths come back relative to the current folder (ROOT) when below it, as given otherwise
    by_path = {os.path.normpath(ROOT / f["path"]): f for f in report["files"]}
    missing = {"status": "missing", "fixes": [], "notes": [], "diff": ""}
    return [by_path.get(os.path.normpath(str(r.run_path)), missing) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "review.md")
    parser.add_argument("--diffs", type=Path, help="also write each file's diff (--diff --unsafe-fixes) here")
    parser.add_argument("--at", metavar="REV", help="run dockfix's src/ as committed at REV (e.g. HEAD) instead of the "
                        "working tree, which other engineers may be editing")
    parser.add_argument("--before", metavar="REV", default=BEFORE, help="also run src/ as committed at REV on the same "
                        f"trees, for the before/after counts per rule (default {BEFORE}, the commit before issue 12's "
                        "work; 'none' skips it)")
    parser.add_argument("--keep", action="store_true", help="keep the materialised trees (their folder is printed)")
    parser.add_argument("--tmp", type=Path, help="where to materialise the trees (default: "
                        "/dev/shm when it has 2 GB free, about five times faster than a disk; else the system's)")
    args = parser.parse_args()
    started = time.monotonic()

    manifest = args.corpus / "MANIFEST.tsv"
    with manifest.open(newline="") as f:
        rows = [Row(r["file"], r["repo"], r["path"], r["commit"], r["kind"]) for r in csv.DictReader(f, delimiter="\t")]
    tmp = Path(tempfile.mkdtemp(prefix="dockfix-review-", dir=args.tmp or _fast_tmp()))
    checkouts: dict[tuple[str, str], Checkout] = {}
    builds: dict[tuple[str, str], list[tuple[str, str]]] = {}
    missing_snapshots: set[str] = set()
    failed_checkouts: dict[str, str] = {}
    try:
        for row in rows:
            snapshot = args.mirror / row.repo.replace("/", "+") / "repo"
            key = (row.repo, row.commit)
            if not snapshot.is_dir():
                missing_snapshots.add(row.repo)
            elif key not in checkouts:
                checkouts[key] = materialise(snapshot, row.repo, row.commit, tmp / f"{row.repo.replace('/', '+')}@{row.commit[:12]}")
                if checkouts[key].error:
                    failed_checkouts[row.repo] = checkouts[key].error
            checkout = checkouts.get(key)
            corpus_file = args.corpus / row.file
            if checkout and checkout.folder:
                target = checkout.folder / row.path
                if not target.is_file() or target.is_symlink():
                    row.differs = "not at this path in the checkout: the corpus copy was put there"
                elif target.read_bytes() != corpus_file.read_bytes():
                    row.differs = "the checkout's file differs from the corpus copy: the corpus copy was put there"
                if row.differs:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if target.is_symlink():
                        target.unlink()
                    target.write_bytes(corpus_file.read_bytes())
                row.context, row.at, row.run_path = "real", checkout.at, target
                row.absent_blobs = len(checkout.absent_blobs)
                if key not in builds:
                    builds[key] = declared_builds(checkout.folder) + command_builds(checkout.folder)
                row.declared = sorted({c for c, d in builds[key] if d == os.path.normpath(row.path)})
            else:
                row.run_path = corpus_file
        src = src_at(args.at, tmp / "dockfix-src") if args.at else None  # this repository's src/ at a commit
        materialised = time.monotonic()
        paths = [r.run_path for r in rows if r.run_path]
        for row, found in zip(rows, results_by_row(rows, run_dockfix(paths, src)), strict=True):
            row.result = found
        ran = time.monotonic()
        if args.before != "none":  # the same trees, run by the revision before the work
            old = run_dockfix(paths, src_at(args.before, tmp / "dockfix-before"))
            for row, found in zip(rows, results_by_row(rows, old), strict=True):
                row.before = found
        text = render(rows, args, missing_snapshots, failed_checkouts, checkouts, tmp,
                      (materialised - started, ran - materialised, time.monotonic() - ran), dockfix_version(args.at))
        if args.diffs:
            args.diffs.mkdir(parents=True, exist_ok=True)
            for row in rows:
                if row.result.get("diff"):
                    (args.diffs / (row.file + ".diff")).write_text(row.result["diff"])
    finally:
        if args.keep:
            print(f"trees kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    previous = args.out.read_text() if args.out.exists() else ""
    if KEEP_MARKER in previous:
        text += "\n" + KEEP_MARKER + previous.split(KEEP_MARKER, 1)[1]
    else:
        text += "\n" + KEEP_MARKER + "\n"
    args.out.write_text(text)
    print(f"{len(rows)} files, {sum(r.context == 'real' for r in rows)} in a real context; "
          f"{time.monotonic() - started:.1f} s; wrote {args.out}", file=sys.stderr)


def _by_code(result: dict, kind: str, scope: tuple[str, ...]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = collections.defaultdict(list)
    for item in result.get(kind, []):
        if kind == "notes" and item["message"].startswith(scope):
            continue
        out[code_of(item)].append(item)
    return out


def before_after(rows: list[Row], before: str, scope: tuple[str, ...]) -> list[str]:
    """Per rule code: files changed and refused by the revision before the work and by this one,
    and, file by file, every change the work took back (with the reason now given) or added."""
    codes = sorted({code_of(i) for r in rows for res in (r.result, r.before) for k in ("fixes", "notes")
                    for i in res.get(k, []) if code_of(i).startswith("DF") and code_of(i) != "DF001"})
    out = ["## Before and after, by rule code", "",
           f"The same trees, run by dockfix as committed at `{before}` (before issue 12's \"know or refuse\" work; "
           "its output has no rule codes, so each change and note gets the code today's rule for it has, read from "
           "its transform and message) and by this revision. Files changed: files with at least one fix of the rule. "
           "Files refused: files with at least one note of the rule (scope notes left out). "
           "Taken back: files the rule changed before and no longer changes; new: the reverse.", "",
           "| code | rule | files changed before → after | taken back | new | files refused before → after |",
           "| --- | --- | --- | --- | --- | --- |"]
    details: list[str] = []
    for code in codes:
        changed_before = {r.file for r in rows if _by_code(r.before, "fixes", scope).get(code)}
        changed_after = {r.file for r in rows if _by_code(r.result, "fixes", scope).get(code)}
        refused_before = {r.file for r in rows if _by_code(r.before, "notes", scope).get(code)}
        refused_after = {r.file for r in rows if _by_code(r.result, "notes", scope).get(code)}
        gone, new = changed_before - changed_after, changed_after - changed_before
        out.append(f"| {code} | {RULE_NAMES.get(code, '?')} | {len(changed_before)} → {len(changed_after)} | "
                   f"{len(gone)} | {len(new)} | {len(refused_before)} → {len(refused_after)} |")
        for r in rows:
            if r.file not in gone | new:
                continue
            number = r.file[:3]
            if r.file in gone:
                was = "; ".join(f"L{f['line']}: {f['message']}" for f in _by_code(r.before, "fixes", scope)[code])
                fixes = _by_code(r.before, "fixes", scope)[code]
                notes = _by_code(r.result, "notes", scope).get(code) or [  # one note may say it for two rules
                    n for n in r.result.get("notes", []) if n["transform"] == fixes[0]["transform"]
                    and n["line"] in {f["line"] for f in fixes} and not n["message"].startswith(scope)]
                now = "; ".join(f"L{n['line']}: {n['message']}" for n in notes)
                reason = now or (f"error: {r.result['error'].get('message')}" if r.result.get("error") else
                                 "no fix and no note of the rule (a suppression the rule now reads, or it no longer applies)")
                details.append(f"| {code} | {number} {r.repo} `{r.path}` | taken back | {_cell([was])} | {_cell([reason])} |")
            else:
                now = "; ".join(f"L{f['line']}: {f['message']}" for f in _by_code(r.result, "fixes", scope)[code])
                was = "; ".join(f"L{n['line']}: {n['message']}" for n in _by_code(r.before, "notes", scope).get(code, []))
                details.append(f"| {code} | {number} {r.repo} `{r.path}` | new | {_cell([was or 'no note'])} | {_cell([now])} |")
    out += ["", "Every change taken back, with the reason this revision gives, and every new one:", "",
            "| code | file | | before | after |", "| --- | --- | --- | --- | --- |", *details, ""]
    return out


def _cell(items: list[str]) -> str:
    return "<br>".join(i.replace("|", "\\|").replace("\n", " ") for i in items) or "—"


def render(rows: list[Row], args: argparse.Namespace, missing: set[str], failed: dict[str, str],
           checkouts: dict[tuple[str, str], Checkout], tmp: Path, timing: tuple[float, float, float], version: str) -> str:
    transforms = ["lockfile-first", "apt", "cache-mounts", "bytecode", "dockerignore", "multistage"]
    real = [r for r in rows if r.context == "real"]
    out = ["# Review: dockfix --unsafe-fixes on the corpus, in real build contexts", "",
           "Generated by `uv run python bench/review.py --at HEAD` (issue 12); do not edit above the marker line at the "
           "end: the section below it is written by hand and kept when the report is regenerated.", "",
           f"- {len(rows)} corpus files ({args.corpus.name}/MANIFEST.tsv); {len(real)} ran in their repository's tree "
           f"(real context), {len(rows) - len(real)} in place without a context.",
           f"- Snapshots used: {len(checkouts)} (repository, commit) trees from {len({k[0] for k in checkouts})} repositories; "
           f"at the MANIFEST commit: {sum(c.at == 'manifest' for c in checkouts.values())}, at the snapshot's HEAD: "
           f"{sum(c.at.startswith('HEAD') for c in checkouts.values())}; repositories without a snapshot (skipped, run in place): "
           f"{len(missing)}" + (f" ({', '.join(sorted(missing))})" if missing else "") + ".",
           f"- Snapshot blobs absent (files of 4 MiB and more, left as empty files of the same name): "
           f"{sum(len(c.absent_blobs) for c in checkouts.values())} in {sum(bool(c.absent_blobs) for c in checkouts.values())} trees"
           + (f"; checkouts that failed: {failed}" if failed else "") + ".",
           f"- Time: {timing[0]:.1f} s to materialise the trees (in {tmp.parent}), {timing[1]:.1f} s for dockfix "
           f"(dockfix: {version})" + (f", {timing[2]:.1f} s for the `--before` revision ({args.before})"
                                       if args.before != "none" else "") + ".", ""]
    status = collections.Counter(r.result.get("status") for r in rows)
    out.append("- dockfix status: " + ", ".join(f"{k} {v}" for k, v in sorted(status.items(), key=lambda kv: str(kv[0]))) + ".")
    out.append("")

    if any(r.before for r in rows):
        out += before_after(rows, args.before, scope=("not a Python image", "not split: not a Python image",
                                                       "not split: already multi-stage"))
    out += ["## Summary by transform", "",
            "Files changed: files with at least one fix of the rule (unsafe: at least one unsafe fix). "
            "Files refused: files with at least one note of the rule (something left alone, with the reason), "
            "not counting `not a Python image` (the whole file is out of scope) and `already multi-stage`.", "",
            "| rule | files changed (real ctx / absent) | of them unsafe | fixes | files refused | most common refusal reasons (folded) |",
            "| --- | --- | --- | --- | --- | --- |"]
    scope = ("not a Python image", "not split: not a Python image", "not split: already multi-stage")
    for name in transforms:
        changed = [r for r in rows if any(f["transform"] == name for f in r.result.get("fixes", []))]
        unsafe = [r for r in changed if any(f["transform"] == name and not f["safe"] for f in r.result["fixes"])]
        fixes = sum(1 for r in rows for f in r.result.get("fixes", []) if f["transform"] == name)
        reasons: collections.Counter[str] = collections.Counter()
        refused = set()
        for r in rows:
            for n in r.result.get("notes", []):
                if n["transform"] == name and not n["message"].startswith(scope):
                    reasons[fold(n["message"])] += 1
                    refused.add(r.file)
        top = [f"{count}× {reason}" for reason, count in reasons.most_common(6)]
        out.append(f"| {name} | {len(changed)} ({sum(r.context == 'real' for r in changed)} / "
                   f"{sum(r.context != 'real' for r in changed)}) | {len(unsafe)} | {fixes} | {len(refused)} | {_cell(top)} |")
    out.append("")

    out += ["## What each kind of change relies on", "",
            "| code | change | safe | fact relied on |", "| --- | --- | --- | --- |",
            "| DF101 | remove the package lists | yes | the RUN's parsed shell structure (`shell`): the cleanup is chained with `&&` after the last top-level chain; not when a cache or tmpfs mount holds the lists (its target read with the stage's variables) |",
            f"| DF102 | `--no-install-recommends` | no | the table {_table_meta()}: what each package brings only through Recommends, on the stage's base (ca-certificates added where a later step needs it) |",
            "| DF103 | `apk add --no-cache` | yes | the parsed RUN: no apk cache mount (its target read with the stage's variables) |",
            "| DF104 | `dnf/yum clean all` | yes | the parsed RUN |",
            "| DF201 | cache mount, drop `--no-cache-dir` | yes | the stage's USER, HOME and ENV read from the Dockerfile (the cache folder); a non-root uid from useradd/USER, or the build ARG it was given through, written as that ARG (BuildKit expands it: lab fixture nonroot-uid-arg) |",
            "| DF301 | `UV_COMPILE_BYTECODE=1` | yes | the Dockerfile: no `PYTHONDONTWRITEBYTECODE`, no bytecode comment, no `uv run` start (CMD, ENTRYPOINT, compose files) |",
            "| DF302 | `uv sync --locked` | no | the context: `uv.lock` present and copied before the sync; no flags through variables |",
            "| DF303 | `uv sync --no-dev` | no | the context: pyproject.toml declares a dev group (quoted per file below); no `uv run` in compose or a Makefile; the app's code names no dev-group package |",
            "| DF304 | drop pip's `--no-compile` | no | the Dockerfile |",
            "| DF401 | manifests first | yes | the manifests read from the context (requirements includes, pyproject, lockfiles) |",
            "| DF501 | caches/VCS/outputs | yes | the context listing and the Dockerfile (no COPY or command names them) |",
            "| DF502 | `**/.env` | no | the Dockerfile (no COPY/ADD/mount/command names `.env`) and the context's code (no Python file loads a .env) |",
            "| DF601 | builder + slim runtime | no | static equivalence of the final stage's configuration; the slim tag table; every dependency read from the manifests (system libraries: the Debian runtime table); the programs of the slim image (data/slim_programs.json); the estimate of what the split leaves behind against what it adds (nothing to gain); on a Debian base with Python from apt, the same base without the build-only packages, whose programs data/debian_python.json lists |",
            "| DF701 | pip in the builder becomes uv | no | the builder the split made (a venv copied to the runtime), every pip install into it, the requirements read |",
            ""]

    out += ["## Per file", "",
            "`context`: real = the repository's tree at the commit (`HEAD*`: the snapshot's HEAD, the MANIFEST commit was missing); "
            "absent = run in place, no snapshot. `declared`: build contexts the repository's compose files or GitHub "
            "workflows give this Dockerfile, when they name it (dockfix assumes the folder beside the Dockerfile). "
            "Changes: `rule Lline (unsafe)`: message ⟵ fact. Refusals: `rule Lline`: note (scope notes left out).", "",
            "| # | file | context | status | changes (⟵ fact) | refusals |", "| --- | --- | --- | --- | --- | --- |"]
    for number, r in enumerate(rows, 1):
        text = r.run_path.read_text(errors="replace") if r.run_path and r.run_path.exists() else ""
        ctx_dir = r.run_path.parent if r.context == "real" and r.run_path else None
        changes = [f"**{f['transform']}** L{f['line']}{'' if f['safe'] else ' (unsafe)'}: {f['message']} ⟵ "
                   f"{fact(f, text, ctx_dir, r.result.get('diff', ''))}" for f in r.result.get("fixes", [])]
        notes = [f"{n['transform']} L{n['line']}: {n['message']}" for n in r.result.get("notes", [])
                 if not n["message"].startswith(scope)]
        if r.result.get("error"):
            notes.insert(0, f"error: {r.result['error'].get('message')} (line {r.result['error'].get('line')})")
        ctx = r.context if r.context != "real" else ("real" + ("" if r.at == "manifest" else " (HEAD*)"))
        extra = [f"declared: {', '.join(r.declared)}"] if r.declared else []
        beside = os.path.dirname(os.path.normpath(r.path)) or "."
        if r.declared and beside not in r.declared:
            extra.append(f"**context differs**: built from `{', '.join(r.declared)}`, dockfix read `{beside}`")
        if r.differs:
            extra.append(r.differs)
        where = f"{r.repo} `{r.path}`"
        status = r.result.get("status", "?") + (f" ({r.result.get('skip_reason')})" if r.result.get("skip_reason") else "")
        out.append(f"| {number} | {r.file[:3]} {where} | {_cell([ctx, *extra])} | {status} | {_cell(changes)} | {_cell(notes)} |")
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    main()
