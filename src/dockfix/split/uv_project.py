"""A uv project as the split sees it, read from the pyproject.toml the build copies in.

Two facts, each from the manifest or refused with the reason:

* whether `uv sync` installs the project as a package (then `--no-editable` builds it
  into the venv as a wheel, and the venv no longer points back at the source tree);
* whether the runtime needs the source tree at all: only when the image runs one of the
  project's entry points and nothing else the copy brings could be read at run time.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from dockfix.context import Context
from dockfix.manifests import uv_package
from dockfix.split.classify import Step
from dockfix.split.dependencies import Unknown, context_source


@dataclass(frozen=True)
class Project:
    pyproject: str  # its path in the build context
    package: bool  # uv sync builds and installs it (not only its dependencies)
    why: str  # what decided `package`, for notes
    scripts: dict[str, str]  # [project.scripts] and [project.gui-scripts]: name -> "module:function"


def read(image_folder: str, before: list[Step], context: Context) -> Project | str:
    """The project `uv sync` installs in `image_folder`, or why it is not known."""
    if image_folder == "?":
        return "the folder uv sync runs in is not known"
    try:
        source = context_source(posixpath.join(image_folder, "pyproject.toml"), before, context)
    except Unknown as unknown:
        return str(unknown)
    assert source is not None  # missing_ok is off: Unknown was raised instead
    import tomllib  # only when a pyproject is read: its import costs more than most runs' work

    try:
        data = tomllib.loads(context.read(source) or "")
    except tomllib.TOMLDecodeError:
        return f"{source} does not parse"
    project = data.get("project", {})
    package, decided = uv_package(data)
    why = f"{source} {decided}"
    scripts: dict[str, str] = {}
    for table in ("scripts", "gui-scripts"):
        entries = project.get(table) or {}
        if isinstance(entries, dict):
            scripts.update({k: v for k, v in entries.items() if isinstance(v, str)})
    if "scripts" in (project.get("dynamic") or []):
        scripts = {}  # the build backend computes them: none is known
    return Project(source, package, why, scripts)


# What a copy of the project folder brings that no entry point reads at run time: the
# manifests and documents the build reads, tests, the repository's build, CI and lint
# settings, and version-control and editor folders.
_BUILD_ONLY = re.compile(r"^(?:pyproject\.toml|uv\.lock|setup\.cfg|MANIFEST\.in|(?:README|LICEN[CS]E|COPYING|CHANGELOG"
                         r"|CHANGES|NOTICE|AUTHORS|CONTRIBUTING)(?:\.\w+)?|\.python-version|\.dockerignore|\.gitignore"
                         r"|\.gitattributes|\.editorconfig|\.pre-commit-config\.yaml|[\w.-]*Dockerfile[\w.-]*"
                         r"|[\w.-]+\.dockerignore|(?:docker-)?compose(?:\.[\w-]+)?\.ya?ml|Makefile|justfile|tox\.ini"
                         r"|noxfile\.py|pytest\.ini|mypy\.ini|ruff\.toml|\.ruff\.toml|\.flake8|\.coveragerc|mkdocs\.ya?ml"
                         r"|\.readthedocs\.ya?ml|renovate\.json|(?:tests?|docs|\.git|\.github|\.gitlab|\.venv|\.pytest_cache"
                         r"|\.mypy_cache|\.ruff_cache|\.idea|\.vscode)/.*|\.gitlab-ci\.yml)$")
_CODE = (".py", ".pyi", "py.typed")


def runtime_needs_source(project: Project, context_folder: str, entry: str, context: Context) -> str | None:
    """Why the runtime still needs the copied source tree when the image runs the entry point
    `entry` from a non-editable install; None when the venv alone has everything: the entry
    point is the project's, and every other file of the copied folder is a build manifest,
    a document, a test, or Python code of the entry point's top-level package (which the
    wheel holds)."""
    target = project.scripts.get(entry)
    if target is None:
        return f"`{entry}` is not one of the project's entry points ([project.scripts] in {project.pyproject})"
    package = target.split(":", 1)[0].split(".", 1)[0].strip()
    prefix = "" if context_folder in ("", ".") else context_folder.rstrip("/") + "/"
    homes = (f"{package}/", f"src/{package}/")
    for path in context.listing():
        if not path.startswith(prefix):
            continue
        rel = path[len(prefix):]
        if _BUILD_ONLY.match(rel):
            continue
        if rel.startswith(homes) and not rel.endswith("/") and rel.endswith(_CODE):
            continue
        what = "a folder dockfix did not list" if rel.endswith("/") else "a file outside the wheel's Python code"
        return f"{path} is {what}, and the app may read it at run time"
    return None
