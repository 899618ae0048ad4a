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
    overlay = "changes/dependency"       # files copied over the context, or
    append = { file = "requirements.txt", text = "six==1.17.0\\n" }, or
    none = "why this app has no dependency to change"

    [regression]                         # optional: a rewrite an older dockfix got wrong
    dockfix = "d6cc797"                  # the git revision whose rewrite broke this fixture
    stage = "build"                      # where it broke: "build" or "smoke"
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

import shutil
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


REGRESSION_STAGES = ("build", "smoke")


@dataclass(frozen=True)
class Fixture:
    name: str
    path: Path
    smoke: Smoke
    code_touch: str
    dependency: DependencyChange
    has_expert: bool = True
    notes: str = ""
    tags: tuple[str, ...] = field(default=())
    regression: Regression | None = None

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

    def apply_code_change(self, ctx: Path, n: int = 1) -> None:
        target = ctx / self.code_touch
        with target.open("a") as f:
            f.write(f"\n# lab: code-only change {n}\n")

    def apply_dependency_change(self, ctx: Path) -> bool:
        d = self.dependency
        if d.none is not None:
            return False
        if d.overlay:
            src = self.path / d.overlay
            shutil.copytree(src, ctx, dirs_exist_ok=True)
        if d.append_file:
            with (ctx / d.append_file).open("a") as f:
                f.write(d.append_text)
        return True


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
    keys = {"overlay", "append", "none"} & dep_t.keys()
    if not keys:
        raise FixtureError(f"{where} [change.dependency]: give `overlay`, `append` or `none`")
    if "none" in keys and len(keys) > 1:
        raise FixtureError(f"{where} [change.dependency]: `none` excludes the others")
    dep = DependencyChange(
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


def load(path: Path) -> Fixture:
    path = Path(path).resolve()
    if not (path / "Dockerfile").is_file():
        raise FixtureError(f"{path}: no Dockerfile")
    st = path / "smoke.toml"
    if not st.is_file():
        raise FixtureError(f"{path}: no smoke.toml")
    text = st.read_text()
    smoke, touch, dep, notes = parse_smoke_toml(text, str(st))
    regression = parse_regression(text, str(st))
    if not (path / touch).is_file():
        raise FixtureError(f"{st} [change.code]: {touch} does not exist in the fixture")
    if dep.overlay and not (path / dep.overlay).is_dir():
        raise FixtureError(f"{st} [change.dependency]: overlay folder {dep.overlay} does not exist")
    if dep.append_file and not (path / dep.append_file).is_file():
        raise FixtureError(f"{st} [change.dependency]: {dep.append_file} does not exist")
    return Fixture(name=path.name, path=path, smoke=smoke, code_touch=touch,
                   dependency=dep, has_expert=(path / "expert.Dockerfile").is_file(), notes=notes,
                   regression=regression)


def discover(paths: list[Path] | None = None) -> list[Fixture]:
    """Fixtures from the given folders (default: every lab/fixtures/*)."""
    if not paths:
        paths = sorted(p for p in FIXTURES_DIR.iterdir() if p.is_dir())
    return [load(p) for p in paths]
