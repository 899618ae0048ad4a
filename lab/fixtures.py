"""Load a fixture folder: a naive Dockerfile, an expert.Dockerfile, the app and smoke.toml.

smoke.toml::

    [smoke]
    http = { port = 8000, path = "/" }   # or: command = ["python", "-c", "..."]
                                         # (command = [] runs the image's own CMD)
    expect = "hello"                     # substring of the body / output
    timeout = 60                         # seconds (optional)

    [change.code]
    touch = "app/main.py"                # a comment line is appended to it

    [change.dependency]
    add = "six==1.17.0"                  # added with the project's own tool: `uv add` (uv.lock),
                                         # `poetry add --lock` (poetry.lock, the version that wrote
                                         # it), else a line appended to requirements.txt; or
    overlay = "changes/dependency"       # files copied over the context, or
    append = { file = "requirements.txt", text = "six==1.17.0\\n" }, or
    none = "why this app has no dependency to change"

    [build]                              # optional: how the fixture's README says to build it
    args = { USER_UID = "1001" }         # --build-arg for every build of every variant

    [regression]                         # optional: a rewrite an older dockfix got wrong
    dockfix = "d6cc797"                  # the git revision whose rewrite broke this fixture
    stage = "build"                      # where it broke: "build", "smoke" or "size" (its image
                                         # is larger than the original's)
    failure = "curl: (77) ..."           # a line of the build log / smoke output that shows it
    issue = 12                           # (optional) the issue that fixed it

A fixture with ``[regression]`` is proof that a rewrite is now known or
refused: ``python -m lab.regression`` builds that revision's output and checks
it fails as recorded, while the lab proper checks today's output passes.
Such fixtures may go without an expert.Dockerfile.

Lab-only files (smoke.toml, expert.Dockerfile, expert.dockerignore, changes/)
are not part of any build context.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

LAB_ONLY = {"smoke.toml", "expert.Dockerfile", "expert.dockerignore", "changes", "README.md.lab"}
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"


class FixtureError(ValueError):
    """A fixture folder that the lab cannot use; the message says what to fix."""


@dataclass(frozen=True)
class Smoke:
    command: tuple[str, ...] | None = None
    http_port: int | None = None
    http_path: str = "/"
    expect: str = ""
    timeout: float = 60.0


@dataclass(frozen=True)
class DependencyChange:
    add: str | None = None  # a requirement, added with the project's own tool
    overlay: str | None = None
    append_file: str | None = None
    append_text: str = ""
    none: str | None = None


@dataclass(frozen=True)
class Regression:
    dockfix: str  # a git revision of dockfix
    stage: str  # "build" or "smoke"
    failure: str
    issue: int | None = None


REGRESSION_STAGES = ("build", "smoke", "size")


@dataclass(frozen=True)
class Fixture:
    name: str
    path: Path
    smoke: Smoke
    code_touch: str | None  # None: no code-change rebuild (an app folder run without smoke.toml)
    dependency: DependencyChange
    has_expert: bool = True
    notes: str = ""
    tags: tuple[str, ...] = field(default=())
    regression: Regression | None = None
    build_args: tuple[tuple[str, str], ...] = ()  # [build] args: --build-arg K=V for every build

    @property
    def dockerfile(self) -> Path:
        return self.path / "Dockerfile"

    @property
    def expert(self) -> Path:
        return self.path / "expert.Dockerfile"

    def copy_context(self, dest: Path, variant: str) -> Path:
        """Copy the build context for ``variant`` to ``dest``; returns its Dockerfile."""
        ignore = shutil.ignore_patterns("__pycache__", ".venv", *LAB_ONLY)
        shutil.copytree(self.path, dest, ignore=ignore, symlinks=True)
        if variant == "expert":
            shutil.copyfile(self.expert, dest / "Dockerfile")
            di = self.path / "expert.dockerignore"
            if di.exists():
                shutil.copyfile(di, dest / ".dockerignore")
        return dest / "Dockerfile"

    def apply_code_change(self, ctx: Path, n: int = 1) -> bool:
        if self.code_touch is None:
            return False
        target = ctx / self.code_touch
        with target.open("a") as f:
            f.write(f"\n# lab: code-only change {n}\n")
        return True

    def apply_dependency_change(self, ctx: Path, prepared: Path | None = None) -> bool:
        """Change a dependency in the context; `prepared` is an overlay made once by
        prepare_dependency_change (so every variant gets the same lockfile)."""
        d = self.dependency
        if d.none is not None:
            return False
        if d.add:
            if prepared is not None:
                shutil.copytree(prepared, ctx, dirs_exist_ok=True)
            else:
                add_dependency(ctx, d.add)
        if d.overlay:
            src = self.path / d.overlay
            shutil.copytree(src, ctx, dirs_exist_ok=True)
        if d.append_file:
            with (ctx / d.append_file).open("a") as f:
                f.write(d.append_text)
        return True

    def prepare_dependency_change(self, work: Path) -> Path | None:
        """For `add`: run the project's tool once on a copy and keep the manifests it
        changed as an overlay folder (None for the other kinds of change)."""
        if not self.dependency.add:
            return None
        scratch, overlay = work / f"{self.name}-dependency-scratch", work / f"{self.name}-dependency"
        for folder in (scratch, overlay):
            if folder.exists():
                shutil.rmtree(folder)
        self.copy_context(scratch, "original")
        before = {p: p.read_bytes() for p in scratch.iterdir() if p.is_file()}
        add_dependency(scratch, self.dependency.add)
        overlay.mkdir(parents=True)
        for p in scratch.iterdir():
            if p.is_file() and before.get(p) != p.read_bytes():
                shutil.copyfile(p, overlay / p.name)
        shutil.rmtree(scratch)
        return overlay


_POETRY_VERSION = re.compile(r"@generated by Poetry (\d+(?:\.\d+)+)")


def add_dependency(ctx: Path, requirement: str) -> str:
    """Add `requirement` the way the project's own tool does, re-locking its lockfile;
    returns what was run. uv.lock: `uv add --no-sync`; poetry.lock: the Poetry version
    that wrote it (`poetry add --lock`, run through uvx); else requirements.txt gets a line."""
    env = dict(os.environ)
    ca = "/etc/ssl/certs/ca-certificates.crt"
    if Path(ca).is_file():  # the proxy's CA, for poetry's requests (uv reads UV_SYSTEM_CERTS)
        env.setdefault("REQUESTS_CA_BUNDLE", ca)
        env.setdefault("SSL_CERT_FILE", ca)
    env.setdefault("UV_SYSTEM_CERTS", "1")
    for key in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"):  # the lab's own environment is not the fixture's
        env.pop(key, None)
    if (ctx / "uv.lock").is_file():
        cmd = ["uv", "add", "--no-sync", requirement]
    elif (ctx / "poetry.lock").is_file():
        m = _POETRY_VERSION.search((ctx / "poetry.lock").read_text(errors="replace")[:500])
        if m is None:
            raise FixtureError(f"{ctx / 'poetry.lock'}: no '@generated by Poetry X' line: which Poetry re-locks it?")
        env["POETRY_VIRTUALENVS_CREATE"] = "false"
        cmd = ["uvx", "--from", f"poetry=={m[1]}", "poetry", "add", "--lock", "--no-interaction", requirement]
    elif (ctx / "requirements.txt").is_file():
        with (ctx / "requirements.txt").open("a") as f:
            f.write(requirement + "\n")
        return "appended to requirements.txt"
    else:
        raise FixtureError(f"{ctx}: no uv.lock, poetry.lock or requirements.txt to add {requirement} to")
    r = subprocess.run(cmd, cwd=ctx, env=env, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise FixtureError(f"`{shlex.join(cmd)}` failed in {ctx}: {(r.stdout + r.stderr)[-1500:]}")
    return shlex.join(cmd)


def _need(table: dict, key: str, kind, where: str):
    if key not in table:
        raise FixtureError(f"{where}: missing `{key}`")
    value = table[key]
    if not isinstance(value, kind):
        raise FixtureError(f"{where}: `{key}` must be {kind.__name__ if isinstance(kind, type) else kind}")
    return value


def parse_smoke_toml(text: str, where: str = "smoke.toml") -> tuple[Smoke, str, DependencyChange, str]:
    """Validate smoke.toml; raises FixtureError with the file and key at fault."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise FixtureError(f"{where}: not valid TOML: {e}") from None
    smoke_t = _need(data, "smoke", dict, where)
    has_cmd, has_http = "command" in smoke_t, "http" in smoke_t
    if has_cmd == has_http:
        raise FixtureError(f"{where} [smoke]: give exactly one of `command` or `http`")
    expect = _need(smoke_t, "expect", str, f"{where} [smoke]")
    if not expect:
        raise FixtureError(f"{where} [smoke]: `expect` must not be empty")
    timeout = smoke_t.get("timeout", 60)
    if not isinstance(timeout, (int, float)) or timeout <= 0:
        raise FixtureError(f"{where} [smoke]: `timeout` must be a positive number")
    if has_cmd:
        cmd = smoke_t["command"]
        if not (isinstance(cmd, list) and all(isinstance(c, str) for c in cmd)):
            raise FixtureError(f"{where} [smoke]: `command` must be a list of strings "
                               "([] runs the image's own CMD/ENTRYPOINT)")
        smoke = Smoke(command=tuple(cmd), expect=expect, timeout=float(timeout))
    else:
        http = _need(smoke_t, "http", dict, f"{where} [smoke]")
        port = _need(http, "port", int, f"{where} [smoke.http]")
        path = http.get("path", "/")
        if not isinstance(path, str) or not path.startswith("/"):
            raise FixtureError(f"{where} [smoke.http]: `path` must start with /")
        smoke = Smoke(http_port=port, http_path=path, expect=expect, timeout=float(timeout))

    change = _need(data, "change", dict, where)
    code = _need(change, "code", dict, f"{where} [change]")
    touch = _need(code, "touch", str, f"{where} [change.code]")
    dep_t = _need(change, "dependency", dict, f"{where} [change]")
    keys = {"add", "overlay", "append", "none"} & dep_t.keys()
    if not keys:
        raise FixtureError(f"{where} [change.dependency]: give `add`, `overlay`, `append` or `none`")
    if "add" in dep_t and not (isinstance(dep_t["add"], str) and dep_t["add"].strip()):
        raise FixtureError(f"{where} [change.dependency]: `add` must be a requirement (e.g. \"six==1.17.0\")")
    if "none" in keys and len(keys) > 1:
        raise FixtureError(f"{where} [change.dependency]: `none` excludes the others")
    dep = DependencyChange(
        add=dep_t.get("add"),
        overlay=dep_t.get("overlay"),
        append_file=(dep_t.get("append") or {}).get("file"),
        append_text=(dep_t.get("append") or {}).get("text", ""),
        none=dep_t.get("none"),
    )
    if "append" in keys and not (dep.append_file and dep.append_text):
        raise FixtureError(f"{where} [change.dependency]: `append` needs `file` and `text`")
    return smoke, touch, dep, str(data.get("notes", ""))


def parse_regression(text: str, where: str = "smoke.toml") -> Regression | None:
    """The optional [regression] table; raises FixtureError naming the key at fault."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise FixtureError(f"{where}: not valid TOML: {e}") from None
    if "regression" not in data:
        return None
    t = _need(data, "regression", dict, where)
    here = f"{where} [regression]"
    rev = _need(t, "dockfix", str, here)
    stage = _need(t, "stage", str, here)
    failure = _need(t, "failure", str, here)
    if not rev.strip():
        raise FixtureError(f"{here}: `dockfix` must name a git revision")
    if stage not in REGRESSION_STAGES:
        raise FixtureError(f"{here}: `stage` must be one of {', '.join(REGRESSION_STAGES)}")
    if not failure.strip():
        raise FixtureError(f"{here}: `failure` must not be empty")
    issue = t.get("issue")
    if issue is not None and not isinstance(issue, int):
        raise FixtureError(f"{here}: `issue` must be int")
    return Regression(dockfix=rev.strip(), stage=stage, failure=failure, issue=issue)


SMOKE_FORMS = "'http GET :PORT/PATH -> TEXT' or 'run ARGS -> TEXT' (`run -> TEXT` runs the image's CMD)"
_HTTP_TARGET = re.compile(r"^(?:127\.0\.0\.1|localhost)?:(\d+)(/\S*)?$")


def parse_smoke_spec(spec: str, timeout: float = 60.0) -> Smoke:
    """`http GET :8000/health -> ok` or `run wordcount a b -> 2 words` (the --smoke option)."""
    head, arrow, expect = spec.rpartition("->")
    head, expect = head.strip(), expect.strip()
    if not arrow or not expect:
        raise FixtureError(f"--smoke {spec!r}: expected {SMOKE_FORMS}")
    words = shlex.split(head)
    if words[:1] == ["run"]:
        return Smoke(command=tuple(words[1:]), expect=expect, timeout=timeout)
    if words[:1] == ["http"]:
        if len(words) != 3 or words[1].upper() != "GET":
            raise FixtureError(f"--smoke {spec!r}: only `http GET :PORT/PATH -> TEXT` is supported")
        m = _HTTP_TARGET.match(words[2])
        if m is None:
            raise FixtureError(f"--smoke {spec!r}: `{words[2]}` is not :PORT/PATH (e.g. :8000/health)")
        return Smoke(http_port=int(m[1]), http_path=m[2] or "/", expect=expect, timeout=timeout)
    raise FixtureError(f"--smoke {spec!r}: expected {SMOKE_FORMS}")


def parse_build_args(text: str, where: str = "smoke.toml") -> tuple[tuple[str, str], ...]:
    """The optional [build] table's `args` (name -> string value)."""
    data = tomllib.loads(text)
    if "build" not in data:
        return ()
    t = _need(data, "build", dict, where)
    unknown = set(t) - {"args"}
    if unknown:
        raise FixtureError(f"{where} [build]: unknown keys {sorted(unknown)}")
    args = _need(t, "args", dict, f"{where} [build]")
    if not all(isinstance(k, str) and k.isidentifier() and isinstance(v, str) for k, v in args.items()):
        raise FixtureError(f"{where} [build]: `args` maps build argument names to strings")
    return tuple(sorted(args.items()))


def load(path: Path, smoke: str | None = None, touch: str | None = None, add: str | None = None) -> Fixture:
    """A fixture folder, or any app folder with a Dockerfile: `smoke`, `touch` and `add`
    (the command line's --smoke, --touch, --add-dependency) stand in for smoke.toml or
    override it."""
    path = Path(path).resolve()
    if not path.is_dir():
        raise FixtureError(f"{path}: not a folder")
    if not (path / "Dockerfile").is_file():
        raise FixtureError(f"{path}: no Dockerfile (the app's Dockerfile must be at the folder's top)")
    st = path / "smoke.toml"
    regression, notes, build_args = None, "", ()
    if st.is_file():
        text = st.read_text()
        smoke_t, code_touch, dep, notes = parse_smoke_toml(text, str(st))
        regression = parse_regression(text, str(st))
        build_args = parse_build_args(text, str(st))
        where = str(st)
    elif smoke is None:
        raise FixtureError(f"{path}: no smoke.toml and no --smoke: say how to test the image, "
                           f"--smoke {SMOKE_FORMS}")
    else:
        smoke_t, code_touch, dep, where = Smoke(), None, DependencyChange(none="not asked for"), "the command line"
    if smoke is not None:
        smoke_t = parse_smoke_spec(smoke)
    if touch is not None:
        code_touch, where = touch, "--touch"
    if add is not None:
        dep = DependencyChange(add=add)
    if code_touch is not None and not (path / code_touch).is_file():
        raise FixtureError(f"{where} [change.code]: {code_touch} does not exist in {path}")
    if dep.overlay and not (path / dep.overlay).is_dir():
        raise FixtureError(f"{where} [change.dependency]: overlay folder {dep.overlay} does not exist")
    if dep.append_file and not (path / dep.append_file).is_file():
        raise FixtureError(f"{where} [change.dependency]: {dep.append_file} does not exist")
    if dep.add and not any((path / m).is_file() for m in ("uv.lock", "poetry.lock", "requirements.txt")):
        raise FixtureError(f"{path}: no uv.lock, poetry.lock or requirements.txt to add {dep.add} to")
    return Fixture(name=path.name, path=path, smoke=smoke_t, code_touch=code_touch,
                   dependency=dep, has_expert=(path / "expert.Dockerfile").is_file(), notes=notes,
                   regression=regression, build_args=build_args)


def discover(paths: list[Path] | None = None) -> list[Fixture]:
    """Fixtures from the given folders (default: every lab/fixtures/*)."""
    if not paths:
        paths = sorted(p for p in FIXTURES_DIR.iterdir() if p.is_dir())
    return [load(p) for p in paths]
