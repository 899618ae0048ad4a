"""What a dependency install reads from the build context, and what .dockerignore keeps out.

lockfile-first must copy exactly the files an install reads (a requirements
file and the files it includes with -r/-c, pyproject.toml with its lockfile)
and must know when an install reads the project's code too (`-e .`, a path
dependency, a uv workspace): then no dependencies-only layer can be built
from the manifests alone. dockerignore and lockfile-first both need to know
which paths the build's ignore file excludes.
"""

from __future__ import annotations

import posixpath
import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from dockfix.context import Context

if TYPE_CHECKING:  # imported where an ignore file is matched: most runs never need it (start-up)
    import pathspec

# --- the ignore file -----------------------------------------------------------


def ignore_file_name(context: Context) -> str:
    """The ignore file BuildKit applies: `<Dockerfile>.dockerignore` beside it wins over .dockerignore."""
    own = f"{context.dockerfile}.dockerignore"
    return own if context.read(own) is not None else ".dockerignore"


def _clean(pattern: str) -> str:
    """A pattern as Docker reads it: trimmed, `./` and leading/trailing `/` dropped."""
    pattern = pattern.strip()
    while pattern.startswith("./"):
        pattern = pattern[2:]
    return pattern.strip("/")


@dataclass(frozen=True)
class IgnoreRules:
    """A .dockerignore's patterns. Docker anchors every pattern at the context root
    (`*.pyc` excludes root files only, `**/*.pyc` all of them), a pattern that
    matches a folder excludes what it holds, and the last matching line wins
    (`!` re-includes)."""

    patterns: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> IgnoreRules:
        out = []
        for line in (text or "").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            body = _clean(line[1:] if negate else line)
            if body:
                out.append(("!" if negate else "") + body)
        return cls(tuple(out))

    def plus(self, *patterns: str) -> IgnoreRules:
        return IgnoreRules(self.patterns + tuple(patterns))

    def excludes(self, path: str) -> bool:
        path = _clean(path)
        if not path or path == ".":
            return False
        excluded = False
        for pattern in self.patterns:  # the last line that matches decides
            compiled = _pattern(pattern)
            if compiled.match_file(path) is not None:
                excluded = bool(compiled.include)
        return excluded

    def negations(self) -> list[str]:
        return [p[1:] for p in self.patterns if p.startswith("!")]


@lru_cache(maxsize=4096)
def _pattern(pattern: str) -> pathspec.Pattern:
    """One ignore line, compiled once. gitwildmatch anchored with a leading "/" behaves as
    Docker's matcher does; pathspec 1.x deprecates the name in favour of variants that differ
    on edge cases, so the warning is silenced rather than the semantics changed."""
    import pathspec.patterns

    line = "!/" + pattern[1:] if pattern.startswith("!") else "/" + pattern
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pathspec.patterns.GitWildMatchPattern(line)


def ignore_rules(context: Context) -> IgnoreRules:
    return IgnoreRules.parse(context.read(ignore_file_name(context)))


# --- requirements files --------------------------------------------------------

_INCLUDE = re.compile(r"^(?:-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=\S))(\S+)")
_EDITABLE = re.compile(r"^(?:-e|--editable)(?:\s*=\s*|\s+)(\S+)")
_OPTION_WITH_PATH = re.compile(r"^(?:-f|--find-links|--find-links=)\s*(\S+)")


def is_local_path(spec: str) -> bool:
    """Whether a requirement names something on disk rather than a package on an index."""
    spec = spec.strip().strip("'\"")
    if spec.startswith("file:") or re.search(r"@\s*file:", spec):
        return True
    if "://" in spec or spec.startswith(("git+", "hg+", "svn+", "bzr+")):
        return False
    if "@" in spec and not spec.startswith((".", "/")):
        return False  # `name @ url`
    return spec in (".", "..") or spec.startswith(("./", "../", "/", "~", ".[", "..[")) or "/" in spec \
        or spec.endswith((".whl", ".tar.gz", ".zip"))


@dataclass
class Requirements:
    files: list[str] = field(default_factory=list)  # context paths, the named file first
    missing: list[str] = field(default_factory=list)  # included files not in the context
    local: list[str] = field(default_factory=list)  # lines that install from the code (`-e .`, `./pkg`)


def requirements(context: Context, path: str, _seen: Requirements | None = None) -> Requirements:
    """A requirements file and every file it includes (-r/-c, relative to the including file)."""
    out = _seen or Requirements()
    path = posixpath.normpath(path)
    if path in out.files or path in out.missing:
        return out
    text = context.read(path)
    if text is None or path.startswith("../"):
        out.missing.append(path)
        return out
    out.files.append(path)
    folder = posixpath.dirname(path)
    for raw in _logical_lines(text):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = re.sub(r"\s+#.*$", "", line)
        if m := _INCLUDE.match(line):
            requirements(context, posixpath.join(folder, m.group(1)), out)
        elif m := _EDITABLE.match(line):
            if is_local_path(m.group(1)):
                out.local.append(line)
        elif m := _OPTION_WITH_PATH.match(line):
            if is_local_path(m.group(1)):
                out.local.append(line)
        elif not line.startswith("-") and is_local_path(_requirement(line)):
            out.local.append(line)
    return out


def _requirement(line: str) -> str:
    """What a requirement line installs: `name @ url` whole, else its first word."""
    spec = line.split(";")[0]
    return spec.strip() if "@" in spec else spec.split()[0]


def _logical_lines(text: str) -> list[str]:
    """pip joins lines that end with a backslash."""
    return re.sub(r"\\\r?\n", " ", text).splitlines()


# --- pyproject.toml and friends ----------------------------------------------------


def toml(context: Context, path: str) -> dict | None:
    text = context.read(path)
    if text is None:
        return None
    import tomllib  # only when a TOML file is read: its import costs more than most runs' work

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def uv_blockers(project: dict) -> list[str]:
    """Why `uv sync --no-install-project` would still need more than pyproject.toml and uv.lock."""
    uv = project.get("tool", {}).get("uv", {})
    out = []
    if "workspace" in uv:
        out.append("a uv workspace (its members' pyproject.toml files are read too)")
    for name, source in (uv.get("sources") or {}).items():
        if isinstance(source, dict) and ("path" in source or source.get("workspace")):
            out.append(f"dependency {name} comes from a local path")
    dynamic = project.get("project", {}).get("dynamic", [])
    if "dependencies" in dynamic or "optional-dependencies" in dynamic:
        out.append("dependencies are dynamic (the build backend computes them from the code)")
    return out


def uv_package(project: dict) -> tuple[bool, str]:
    """Whether `uv sync` builds and installs the project itself, and what in pyproject.toml
    decided it. uv's rule: tool.uv.package decides; without it, a project with a
    [build-system] is a package, one without is not (uv installs only its dependencies)."""
    setting = project.get("tool", {}).get("uv", {}).get("package")
    if isinstance(setting, bool):
        return setting, f"sets tool.uv.package = {str(setting).lower()}"
    if "build-system" in project:
        return True, "declares [build-system]"
    return False, "has no [build-system]"


_LOCAL_SOURCES = ("editable", "directory", "path", "virtual")  # uv.lock sources that name a folder or file
_NAME = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503, as uv.lock writes names


def uv_lock_virtual(project: dict, lock: dict | None) -> str | None:
    """None when uv.lock says `uv sync` reads nothing from the project folder but its
    manifests: the lock records this pyproject.toml's project as virtual (`source = {
    virtual = "." }`: uv never builds or installs it) and installs no package from the build
    context (an `editable`, `directory`, `path` or `virtual` source, a registry or a URL
    that is a local folder or file). Otherwise why not, from the lock as read."""
    if lock is None:
        return "uv.lock is missing or not valid TOML"
    if lock.get("version") != 1:
        return f"uv.lock's format version {lock.get('version')!r} is not one dockfix reads (1)"
    name = (project.get("project") or {}).get("name")
    if not isinstance(name, str):
        return "pyproject.toml has no [project].name"
    packages = [p for p in lock.get("package") or [] if isinstance(p, dict)]
    root = next((p for p in packages if _normal(str(p.get("name", ""))) == _normal(name)), None)
    if root is None:
        return f"uv.lock locks no package {name} (stale: locked for another pyproject.toml)"
    if root.get("source") != {"virtual": "."}:
        return f"uv.lock records {name} with source {_source_text(root.get('source'))}, not virtual " \
               "(stale against pyproject.toml)"
    members = (lock.get("manifest") or {}).get("members")
    if members and {_normal(str(m)) for m in members} != {_normal(name)}:
        return f"uv.lock locks a workspace (members {', '.join(map(str, members))})"
    locked = {_normal(str(r.get("name", ""))) for r in (root.get("metadata") or {}).get("requires-dist", [])
              if isinstance(r, dict)}
    listed = {_normal(m.group(1)) for d in (project.get("project") or {}).get("dependencies") or []
              if isinstance(d, str) and (m := _NAME.match(d))}
    if locked != listed:
        return f"uv.lock's requirements of {name} ({', '.join(sorted(locked)) or 'none'}) are not pyproject.toml's " \
               f"({', '.join(sorted(listed)) or 'none'}): stale"
    return uv_lock_local(lock, name)


def uv_lock_local(lock: dict, root: str) -> str | None:
    """Why `uv sync --no-install-project` of the project `root` would still read the build
    context, from uv.lock: a package other than the root comes from an `editable`,
    `directory`, `path` or `virtual` source (a workspace member, a path dependency), a
    registry that is a local folder (find-links) or a `file:` URL. None when every other
    package comes from an index, a git repository or a remote URL."""
    for package in lock.get("package") or []:
        if not isinstance(package, dict) or _normal(str(package.get("name", ""))) == _normal(root):
            continue
        source = package.get("source")
        kind = next(iter(source), "") if isinstance(source, dict) else ""
        value = str(source.get(kind, "")) if isinstance(source, dict) else ""
        local = kind in _LOCAL_SOURCES or kind == "registry" and "://" not in value \
            or kind == "url" and value.startswith("file:")
        if local or kind not in ("registry", "git", "url"):
            return f"uv.lock installs {package.get('name')} from the build context ({_source_text(source)})"
    return None


def _source_text(source: object) -> str:
    if isinstance(source, dict) and source:
        return "{ " + ", ".join(f'{k} = "{v}"' for k, v in source.items()) + " }"
    return "(none)"


def poetry_blockers(project: dict) -> list[str]:
    """Why `poetry install --no-root` would still need more than pyproject.toml and poetry.lock."""
    poetry = project.get("tool", {}).get("poetry", {})
    out = []
    groups = [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]
    groups += [g.get("dependencies", {}) for g in (poetry.get("group") or {}).values() if isinstance(g, dict)]
    for deps in groups:
        for name, spec in deps.items():
            if isinstance(spec, dict) and "path" in spec:
                out.append(f"dependency {name} comes from a local path")
    for spec in project.get("project", {}).get("dependencies", []) or []:
        if isinstance(spec, str) and "file:" in spec:
            out.append(f"dependency `{spec}` comes from a local path")
    return out


def pipfile_blockers(pipfile: dict) -> list[str]:
    out = []
    for section in ("packages", "dev-packages"):
        for name, spec in (pipfile.get(section) or {}).items():
            if isinstance(spec, dict) and "path" in spec:
                out.append(f"package {name} is installed from a local path")
    return out


SCM_VERSIONING = ("setuptools_scm", "setuptools-scm", "hatch-vcs", "hatch_vcs", "versioningit",
                  "poetry-dynamic-versioning", "dunamai", "uv-dynamic-versioning")


def needs_git(project: dict | None) -> bool:
    """Whether building the project reads .git (a version computed from VCS tags)."""
    if not project:
        return False
    requires = " ".join(str(r) for r in project.get("build-system", {}).get("requires", []))
    tool = project.get("tool", {})
    return any(s in requires for s in SCM_VERSIONING) or "setuptools_scm" in tool \
        or "poetry-dynamic-versioning" in tool or "uv-dynamic-versioning" in tool \
        or "vcs" in str(tool.get("hatch", {}).get("version", {})) or "scm" in str(tool.get("pdm", {}).get("version", {}))


# Build backends that read [project].dependencies as written (PEP 621: a field not listed in
# `dynamic` is static, and the backend may not change it). poetry-core reads [project] only
# from 2.0 and setuptools from 61, so neither is taken on its name alone.
PEP621_BACKENDS = frozenset({"hatchling.build", "flit_core.buildapi", "pdm.backend", "uv_build",
                             "scikit_build_core.build", "mesonpy", "maturin"})
_EXTRA_MARKER = re.compile(r"\bextra\s*[=!<>~]")


def static_dependencies(project: dict) -> list[str] | str:
    """The requirement strings of pyproject.toml's [project].dependencies, exactly what pip
    installs for the project; or why they are not known without building it."""
    table = project.get("project")
    if not isinstance(table, dict):
        return "pyproject.toml has no [project] table (its dependencies are the build backend's: setup.py, poetry)"
    if "dependencies" in (table.get("dynamic") or []):
        return "its dependencies are dynamic (the build backend computes them)"
    backend = (project.get("build-system") or {}).get("build-backend")
    if backend not in PEP621_BACKENDS and not (backend == "setuptools.build_meta" and _setuptools_61(project)):
        return f"the build backend {backend or '(none: setuptools legacy)'} is not one known to read [project] as written"
    deps = table.get("dependencies", [])
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        return "[project].dependencies is not a list of strings"
    for dep in deps:
        if _EXTRA_MARKER.search(dep.partition(";")[2]):
            return f"dependency `{dep}` has an `extra` marker"
        if "@" in dep.partition(";")[0] or is_local_path(dep):
            return f"dependency `{dep}` is a direct reference (a URL or a path)"
    return deps


def _setuptools_61(project: dict) -> bool:
    """setuptools reads [project] from 61.0: its requirement in [build-system].requires says
    `>=61` or more, or names no version (pip builds with the newest, 61 dates from 2022)."""
    for req in (project.get("build-system") or {}).get("requires", []):
        match = re.match(r"^\s*setuptools\s*(.*)$", str(req), re.I)
        if match:
            spec = match.group(1).strip()
            floor = re.fullmatch(r">=\s*(\d+)[\d.]*", spec)
            return not spec or (floor is not None and int(floor.group(1)) >= 61)
    return False
