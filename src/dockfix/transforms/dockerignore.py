"""dockerignore: keep VCS folders, caches, virtualenvs, build outputs and editor
files out of the build context, never a path the build copies or mounts."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass

from dockfix.context import Context
from dockfix.diagnostics import NOT_PYTHON, UNSAFE, Rule
from dockfix.discover import is_dockerfile_name
from dockfix.engine import FileWrite, Fix, Note, Transform
from dockfix.facts import not_python_reason
from dockfix.manifests import IgnoreRules, ignore_file_name, needs_git, toml
from dockfix.syntax import Instruction, ParseError, Tree, parse
from dockfix.views import Copy, Run, mounts

NAME = "dockerignore"
MARKER = "# added by dockfix"
ENTRIES_RULE = Rule("DF501", NAME, "dockerignore-entries", "exclude VCS folders, caches, virtualenvs, build outputs "
                    "and editor files from the build context")
DOTENV_RULE = Rule("DF502", NAME, "dockerignore-dotenv", "exclude .env files from the build context", UNSAFE)
RULES = (ENTRIES_RULE, DOTENV_RULE)


@dataclass(frozen=True)
class Entry:
    pattern: str
    samples: tuple[str, ...]  # paths it is meant to exclude: covered when all are excluded already
    names: tuple[str, ...]  # names that, mentioned by an instruction, mean the build may want it


ENTRIES = (
    Entry(".git", (".git/HEAD",), (".git",)),
    Entry("**/__pycache__", ("__pycache__/m.cpython-312.pyc", "pkg/__pycache__/m.cpython-312.pyc"), ("__pycache__",)),
    Entry("**/*.pyc", ("m.pyc", "pkg/m.pyc"), ()),
    Entry(".pytest_cache", (".pytest_cache/README.md",), (".pytest_cache",)),
    Entry(".mypy_cache", (".mypy_cache/CACHEDIR.TAG",), (".mypy_cache",)),
    Entry(".ruff_cache", (".ruff_cache/CACHEDIR.TAG",), (".ruff_cache",)),
    Entry(".venv", (".venv/bin/python",), (".venv",)),
    Entry("venv", ("venv/bin/python",), ("venv",)),
    Entry("dist", ("dist/pkg-1.0-py3-none-any.whl",), ("dist",)),
    Entry("build", ("build/lib/pkg/__init__.py",), ("build",)),
    Entry("**/*.egg-info", ("pkg.egg-info/PKG-INFO", "src/pkg.egg-info/PKG-INFO"), ()),
    Entry(".idea", (".idea/workspace.xml",), (".idea",)),
    Entry(".vscode", (".vscode/settings.json",), (".vscode",)),
    Entry("**/*.swp", (".app.py.swp", "pkg/.m.py.swp"), ()),
)
# Secrets, but an app may read them at runtime from what `COPY . .` brought in: opt-in.
DOTENV = Entry("**/.env", (".env", "app/.env"), (".env", "dotenv"))

_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "Pipfile", "requirements.txt")


def find(tree: Tree, context: Context) -> Iterator[Fix | Note]:
    reason = not_python_reason(tree, context)
    if reason:
        yield NOT_PYTHON.note(reason, transform=NAME)
        return
    first = tree.instructions[0].line if tree.instructions else 1
    absent = context_absent(tree, context)
    if absent:
        yield ENTRIES_RULE.note(absent, first)
        return
    used = _used_paths(tree, context)
    if used is None:
        yield ENTRIES_RULE.note("a COPY/ADD/--mount source is a variable: any pattern might exclude it",
                                first)
        return
    name = ignore_file_name(context)
    current = context.read(name)
    rules = original = IgnoreRules.parse(current)
    verdicts = _Verdicts(rules)
    said, programs = _said(tree)
    git_needed = needs_git(toml(context, "pyproject.toml")) or "git" in programs
    chosen: list[str] = []
    for entry in ENTRIES:
        if _covered(entry, rules):
            continue  # already excluded (perhaps by this transform, before a later one edited the file)
        why = _why_not(entry, verdicts, used, context, said, git_needed)
        if why:
            yield ENTRIES_RULE.note(f"{entry.pattern} not added: {why}", first)
        else:
            chosen.append(entry.pattern)
            rules = rules.plus(entry.pattern)
            verdicts.chosen.append(IgnoreRules((entry.pattern,)))
    dotenv = f"exclude .env files from the build context ({name}); the image no longer carries them"
    if chosen:
        yield ENTRIES_RULE.fix(f"exclude from the build context ({name}): {', '.join(chosen)}", first,
                               files=(FileWrite(name, extend(current, chosen)),))
        # .env decided on the file as it is, for a run that selects DF502 without DF501. With both, it
        # writes the same file: it waits for the next round, and is decided again with the entries in.
        if not _covered(DOTENV, original):
            why = _why_not(DOTENV, _Verdicts(original), used, context, said, git_needed)
            if why:
                yield DOTENV_RULE.note(f"{DOTENV.pattern} not added: {why}", first)
            else:
                yield DOTENV_RULE.fix(dotenv, first, files=(FileWrite(name, extend(current, [DOTENV.pattern])),))
        return
    if _covered(DOTENV, rules):
        return
    why = _why_not(DOTENV, verdicts, used, context, said, git_needed)
    if why:
        yield DOTENV_RULE.note(f"{DOTENV.pattern} not added: {why}", first)
    else:
        yield DOTENV_RULE.fix(dotenv, first, files=(FileWrite(name, extend(current, [DOTENV.pattern])),))


def _covered(entry: Entry, rules: IgnoreRules) -> bool:
    return all(rules.excludes(s) for s in entry.samples)


class _Verdicts:
    """What the ignore file excludes, path by path, each path matched against its lines once
    (for every entry, every path against every line was quadratic): the file as it is, plus
    the entries chosen so far (appended after it, and not negations: they only exclude)."""

    def __init__(self, rules: IgnoreRules) -> None:
        self.rules = rules
        self.negations = rules.negations()
        self.chosen: list[IgnoreRules] = []
        self._excluded: dict[str, bool] = {}
        self._reincluded: dict[str, bool] = {}

    def excludes(self, path: str) -> bool:
        """Whether the file with the chosen entries excludes the path."""
        found = self._excluded.get(path)
        if found is None:
            found = self._excluded[path] = self.rules.excludes(path)
        return found or any(c.excludes(path) for c in self.chosen)

    def reincluded(self, path: str) -> bool:
        """Whether a `!` line of the file names the path."""
        found = self._reincluded.get(path)
        if found is None:
            found = self._reincluded[path] = any(IgnoreRules((n,)).excludes(path) for n in self.negations)
        return found


def _why_not(entry: Entry, verdicts: _Verdicts, used: list[str], context: Context,
             said: set[str], git_needed: bool) -> str | None:
    """Why adding this entry could change what the build sees (None: it cannot)."""
    if entry.pattern == ".git" and git_needed:
        return "the build runs git or computes its version from VCS tags"
    if any(n in said for n in entry.names):
        return "an instruction mentions it"
    if any(context.exists(f"{n}/__init__.py") for n in entry.names):
        return "it is a Python package of the project, not a build output"
    if entry is DOTENV:
        reader = _reads_dotenv(context)
        if reader:
            return f"{reader} loads a .env at run time: the image may rely on the one the build copies"
    # Appended last, the entry (not a negation) excludes what it matches and changes nothing else:
    # a path changes when the entry matches it and the file did not exclude it already.
    adds = IgnoreRules((entry.pattern,))
    for path in used:
        if adds.excludes(path) and not verdicts.excludes(path):
            return f"the build copies {path}"
    negations = verdicts.negations
    if negations:
        probes = [n for n in negations if not _has_glob(n)] + context.listing()
        for path in probes:
            if adds.excludes(path) and not verdicts.excludes(path) and verdicts.reincluded(path):
                return f"the ignore file re-includes {path}"
    return None


_LOADS_DOTENV = re.compile(r"load_dotenv|dotenv_values|read_env\(|\benviron\.read_env|['\"]\.env['\"]")


def _reads_dotenv(context: Context) -> str | None:
    """A Python file of the context that loads a .env (python-dotenv, django-environ...)."""
    for path in context.listing():
        if path.endswith(".py") and _LOADS_DOTENV.search(context.read(path) or ""):
            return path
    return None


def _has_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def context_absent(tree: Tree, context: Context) -> str | None:
    """Why the folder beside the Dockerfile does not look like its build context."""
    listing = context.listing()
    if not listing:
        return "no build context beside the Dockerfile"
    for instr in tree.instructions:
        if instr.name not in _READERS or not instr.flags and instr.name == "RUN":
            continue  # (_sources gives nothing: most instructions; asked per tree, before every other question)
        for path in _sources(instr):
            if path is not None and not _has_glob(path) and path != "." and not context.listed(path) \
                    and not context.exists(path):
                return f"{path} (copied at line {instr.line}) is not beside the Dockerfile: the build context is elsewhere"
    if context.read(ignore_file_name(context)) is None and not any(
            p.rsplit("/", 1)[-1] in _MARKERS or p.endswith(".py") or fnmatch.fnmatch(p, "requirements*.txt") for p in listing):
        return "no Python project beside the Dockerfile (the build context may be elsewhere)"
    return None


_READERS = ("COPY", "ADD", "RUN")  # the instructions that read context paths (_sources): a RUN by its --mount flags


def _sources(instr: Instruction) -> Iterator[str | None]:
    """Context paths an instruction reads (None: a path we cannot know)."""
    if instr.name in ("COPY", "ADD") and not instr.heredocs and instr.flag("from") is None:
        for source in Copy(instr).sources:
            if "://" in source or source.startswith("git@") or source.startswith("<<"):
                continue
            yield None if "$" in source else _strip(source)
    elif instr.name == "RUN":
        for mount in mounts(instr):
            if mount.type == "bind" and "from" not in mount.options:
                source = mount.options.get("source") or mount.options.get("src") or "."
                yield None if "$" in source else _strip(source)


def _strip(path: str) -> str:
    while path.startswith("./"):
        path = path[2:]
    return path.strip("/") or "."


def _used_paths(tree: Tree, context: Context) -> list[str] | None:
    """Every context path a COPY, ADD or bind mount names, here and in other Dockerfiles
    of the context that share this ignore file. None when one is a variable."""
    trees = [tree]
    for other in context.listing():
        if ("/" in other or other == context.dockerfile or not is_dockerfile_name(other)
                or context.read(other + ".dockerignore") is not None):
            continue
        try:
            trees.append(parse(context.read(other) or ""))
        except ParseError:
            continue
    out: list[str] = []
    matched: dict[str, list[str]] = {}  # a glob -> the listed paths it matches
    for t in trees:
        for instr in t.instructions:
            for path in _sources(instr):
                if path is None:
                    return None
                if path == ".":
                    continue
                out.append(path)
                if _has_glob(path):
                    literal = re.split(r"[*?\[]", path, maxsplit=1)[0].rstrip("/").rsplit("/", 1)[0]
                    if path not in matched:  # (fnmatch.fnmatch on POSIX: the translated pattern, case kept)
                        matched[path] = list(filter(re.compile(fnmatch.translate(path)).match, context.listing()))
                    out.extend(matched[path])
                    if literal and literal != path:
                        out.append(literal)
    return out


def _said(tree: Tree) -> tuple[set[str], set[str]]:
    """Relative path parts the build's commands mention (`dist/app.whl` -> dist, app.whl),
    and the programs its RUNs call. Absolute paths are the image's, not the context's."""
    words: set[str] = set()
    programs: set[str] = set()
    for instr in tree.instructions:
        if instr.name not in ("RUN", "CMD", "ENTRYPOINT", "ENV", "ARG", "HEALTHCHECK", "VOLUME"):
            continue
        if instr.name == "RUN" and Run(instr).form == "shell":
            programs.update(c.argv[0].rsplit("/", 1)[-1] for c in Run(instr).script.commands if c.argv)
        text = instr.args + "".join(h.body for h in instr.heredocs)
        for word in re.findall(r"[^\s'\"=:;|&()\[\],]+", text):
            if word.startswith(("/", "$", "-")):
                continue
            for part in word.strip("/").split("/"):
                words.add(part)
                if part.startswith(".env") or "dotenv" in part:
                    words.add(".env")
    return words, programs


def extend(current: str | None, patterns: list[str]) -> str:
    """The ignore file with the patterns appended in a block of ours (or added to it)."""
    text = current or ""
    eol = "\r\n" if "\r\n" in text else "\n"
    if text and not text.endswith("\n"):
        text += eol
    lines = text.splitlines()
    ours = MARKER in lines and all(ln.strip() and not ln.startswith("#")
                                   for ln in lines[len(lines) - lines[::-1].index(MARKER):])
    if not ours:
        if lines and lines[-1].strip():
            text += eol
        text += MARKER + eol
    return text + "".join(p + eol for p in patterns)


TRANSFORM = Transform(NAME, ".dockerignore: keep VCS, caches, virtualenvs, build outputs and editor files out of the context",
                      find, RULES)
