"""Which Python distributions the split's installs put into the environment, or why that is not known.

The split moves the installed environment onto a slim runtime that lacks the
full image's system libraries; a distribution built from source against one
of them (psycopg2 and libpq) then fails to import. So the split must know
every distribution installed: the names on the command line, each
requirements file with what it includes (read from the build context through
the COPY that brought it in), the project's pyproject.toml, or a lockfile.
What cannot be read is a reason to refuse, never an empty list.
"""

from __future__ import annotations

import posixpath
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from dockfix.context import Context
from dockfix.manifests import is_local_path
from dockfix.split.classify import InstallCommand, Step, absolute
from dockfix.views import Copy

# pip and uv pip options that take a value (the value is not a package).
_VALUED = frozenset({
    "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host", "--target", "-t", "--prefix",
    "--root", "--platform", "--python-version", "--implementation", "--abi", "--src", "--upgrade-strategy",
    "--progress-bar", "--log", "--cache-dir", "--no-binary", "--only-binary", "--config-settings", "-C",
    "--global-option", "--install-option", "--python", "-p", "--index", "--default-index", "--index-strategy",
    "--keyring-provider", "--resolution", "--prerelease", "--exclude-newer", "--link-mode", "--extra", "--group",
    "--proxy", "--retries", "--timeout", "--cert", "--client-cert", "--exists-action", "-c", "--constraint",
    "--override", "--build-constraint", "--no-build-isolation-package", "--report", "--root-user-action",
})
_REQUIREMENT_FILE = ("-r", "--requirement")
_EDITABLE = ("-e", "--editable")
_NAME = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")
_EGG = re.compile(r"#egg=([A-Za-z0-9._-]+)")


def normalize(name: str) -> str:
    """PEP 503: names compare lower-cased, runs of -, _ and . as one -."""
    return re.sub(r"[-_.]+", "-", name).lower()


class Unknown(Exception):
    """Why the installed distributions cannot be known."""


@dataclass
class Dependencies:
    names: set[str] = field(default_factory=set)  # normalised distribution names
    # name -> the requirements that asked for it (`uwsgi==2.0.23`; a lockfile's `name==version`);
    # a name asked for without a version (an #egg= URL, a poetry dependency) has none
    requirements: dict[str, list[str]] = field(default_factory=dict)
    read: list[str] = field(default_factory=list)  # build-context files they were read from


def installed(steps: list[Step], target: str, context: Context, start: int = 0,
              skip: Callable[[InstallCommand], bool] | None = None) -> Dependencies | str:
    """Every distribution the installs into `target` put there (those of steps[start:], but the
    commands `skip` names), or why that is not known."""
    out = Dependencies()
    # Each install looks back only through the COPY/ADD steps before it (all context_source reads),
    # gathered as the walk goes: every step before each install was quadratic in a stage's installs.
    # The list grows after a step's installs are read, and nothing keeps it past the call.
    before = copy_steps(steps[:start])
    try:
        for step in steps[start:]:
            for command in step.installs:
                if command.target != target or command.tool in ("glue", "poetry-config", "venv"):
                    continue
                if skip is not None and skip(command):
                    continue
                _command(command, step, before, context, out)
            if _is_copy(step):
                before.append(step)
    except Unknown as why:
        return str(why)
    return out


def _command(command: InstallCommand, step: Step, before: list[Step], context: Context, out: Dependencies) -> None:
    argv = command.command.argv
    if command.tool in ("pip", "uv-pip"):
        verb = next((i for i, a in enumerate(argv) if a in ("install", "sync", "uninstall")), None)
        if verb is None or argv[verb] == "uninstall":
            return
        if argv[verb] == "sync":  # uv pip sync: its arguments are requirements files
            for path in (a for a in argv[verb + 1:] if not a.startswith("-")):
                _requirements_file(path, step, before, context, out)
        else:
            _pip_arguments(argv[verb + 1:], step, before, context, out)
    elif command.tool == "uv-sync":
        _project(step.workdir, "uv.lock", step, before, context, out)
    elif command.tool == "poetry":
        _project(step.workdir, "poetry.lock", step, before, context, out)
    elif command.tool == "pipx":  # each app's spec (and --preinstall): a name, a local project, a URL
        for spec in command.packages:
            _spec(spec, step, before, context, out)
    else:
        raise Unknown(f"`{' '.join(argv[:2])}` installs what dockfix cannot list")


def _pip_arguments(args: list[str], step: Step, before: list[Step], context: Context, out: Dependencies) -> None:
    words = iter(args)
    for word in words:
        if word.startswith(("$", "`")):
            raise Unknown(f"`{word}` is a variable: what it installs is not known")
        option, eq, attached = word.partition("=")
        if word.startswith("-") and option in _REQUIREMENT_FILE + _EDITABLE + tuple(_VALUED):
            value = attached if eq else next(words, "")
            if option in _REQUIREMENT_FILE:
                _requirements_file(value, step, before, context, out)
            elif option in _EDITABLE:
                _spec(value, step, before, context, out)
            continue
        if word.startswith("-r") and len(word) > 2:  # -rrequirements.txt
            _requirements_file(word[2:], step, before, context, out)
        elif not word.startswith("-"):
            _spec(word, step, before, context, out)


def _spec(spec: str, step: Step, before: list[Step], context: Context, out: Dependencies,
          requirement: str | None = None) -> None:
    """One requirement: a name (with extras and versions), a local project, a wheel or a URL;
    `requirement`: its whole text, when `spec` is its first word (`uwsgi == 2.0.23` in a file)."""
    spec = spec.strip().strip("'\"")
    if spec.startswith(("$", "`")):
        raise Unknown(f"`{spec}` is a variable: what it installs is not known")
    egg = _EGG.search(spec)
    if egg:
        out.names.add(normalize(egg[1]))
        return
    if is_local_path(spec.split("[")[0]):
        if spec.endswith((".whl", ".tar.gz", ".zip")):
            raise Unknown(f"`{spec}` is an archive: what it depends on is not known")
        folder = absolute(spec.split("[")[0], step.workdir) if step.workdir != "?" else None
        if folder is None:
            raise Unknown("the working folder of an install of a local project is not known")
        _project(folder, None, step, before, context, out)
        return
    if "://" in spec and "@" not in spec.split("://")[0]:
        raise Unknown(f"`{spec}` is installed from a URL: its name and needs are not known")
    name = _NAME.match(spec)
    rest = spec[name.end():].lstrip() if name else ""
    if name is None or (rest and rest[0] not in "[<>=!~;@,("):  # a variable may only be in the version
        raise Unknown(f"`{spec}` is not a requirement dockfix can read")
    out.names.add(normalize(name[1]))
    out.requirements.setdefault(normalize(name[1]), []).append(requirement or spec)


def _requirements_file(path: str, step: Step, before: list[Step], context: Context, out: Dependencies) -> None:
    for source, line in requirement_lines(path, step, before, context):
        if source not in out.read:
            out.read.append(source)
        option = split_option(line)[0]
        if option in INCLUDES:
            continue  # the included file's lines follow; constraints narrow versions, they install nothing
        if option in _EDITABLE:
            raise Unknown(f"{source} installs `{line}`: a local project's dependencies are not read from a "
                          "requirements file")
        if line.startswith("-"):
            continue  # an index or an option: installs nothing
        spec = line.split(";")[0].strip()
        if is_local_path(spec.split()[0] if "@" not in spec else spec):
            raise Unknown(f"{source} installs from a local path (`{line}`)")
        _spec(spec.split()[0] if "@" not in spec else spec, step, before, context, out,
              re.split(r"\s--?[A-Za-z]", spec)[0].strip())  # without its options (--hash=...)


INCLUDES = ("-r", "--requirement", "-c", "--constraint")


def requirement_lines(path: str, step: Step, before: list[Step], context: Context,
                      follow: tuple[str, ...] = _REQUIREMENT_FILE) -> Iterator[tuple[str, str]]:
    """(context file, line) of the requirements file `path` an install at `step` names, found through
    the COPY that brought it, and of the files it includes with an option in `follow`: pip's logical
    lines (a trailing backslash joins), comments and blanks left out, include lines kept. Unknown
    when a file is a variable, outside the context or cannot be read."""
    if "$" in path:
        raise Unknown(f"requirements file `{path}` is a variable")
    if step.workdir == "?" and not path.startswith("/"):
        raise Unknown(f"the working folder of `-r {path}` is not known")
    source = context_source(path if path.startswith("/") else absolute(path, step.workdir), before, context)
    assert source is not None  # without missing_ok, a missing file raises
    yield from _file_lines(source, context, follow, set())


def _file_lines(source: str, context: Context, follow: tuple[str, ...], seen: set[str]) -> Iterator[tuple[str, str]]:
    if source in seen:
        return
    seen.add(source)
    text = context.read(source)
    if text is None:
        why = context.why_unreadable(source)
        raise Unknown(f"{source} cannot be read ({why})" if why else f"{source} is not in the build context")
    folder = posixpath.dirname(source)
    for line in re.sub(r"\\\r?\n", " ", text).splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if not line:
            continue
        yield source, line
        option, value = split_option(line)
        if option in follow:
            included = posixpath.normpath(posixpath.join(folder, value))
            if included.startswith("../") or "$" in included:
                raise Unknown(f"{source} includes {value}, outside the build context")
            yield from _file_lines(included, context, follow, seen)


def split_option(line: str) -> tuple[str, str]:
    """A requirements line's option and its value (`-r x`, `-r=x`, `--requirement x`); ("", "") for a requirement."""
    if not line.startswith("-"):
        return "", ""
    option, _, value = re.sub(r"\s+", " ", line.replace("=", " ", 1)).partition(" ")
    return option, value.strip()


def _project(image_folder: str, lockfile: str | None, step: Step, before: list[Step], context: Context,
             out: Dependencies) -> None:
    """A project's dependencies: its lockfile when there is one, else pyproject.toml's declared list."""
    if image_folder == "?":
        raise Unknown("the project's folder in the image is not known")
    for name in ([lockfile] if lockfile else []) + ["uv.lock", "poetry.lock"]:
        source = _try_source(posixpath.join(image_folder, name), before, context)
        if source is not None:
            for locked, version in _locked(source, context):
                out.names.add(locked)
                if version:
                    out.requirements.setdefault(locked, []).append(f"{locked}=={version}")
            out.read.append(source)
            return
    source = context_source(posixpath.join(image_folder, "pyproject.toml"), before, context, missing_ok=True)
    if source is None:
        setup = _try_source(posixpath.join(image_folder, "setup.py"), before, context)
        if setup is not None:
            raise Unknown(f"{setup} computes the project's dependencies in code")
        raise Unknown(f"no pyproject.toml or lockfile for the project at {image_folder} in the build context")
    data = _toml(source, context)
    out.read.append(source)
    project = data.get("project", {})
    if "dependencies" in project.get("dynamic", []):
        raise Unknown(f"{source}: dependencies are dynamic (the build backend computes them)")
    specs: list[str] = list(project.get("dependencies", []) or [])
    for extra in (project.get("optional-dependencies") or {}).values():
        specs += extra  # a superset: extras may be asked for
    poetry = data.get("tool", {}).get("poetry", {})
    specs += [n for n in (poetry.get("dependencies") or {}) if n.lower() != "python"]
    if not project and not poetry:
        raise Unknown(f"{source} declares no [project] or [tool.poetry] dependencies")
    for spec in specs:
        if not isinstance(spec, str):
            raise Unknown(f"{source}: a dependency dockfix cannot read")
        if "@" in spec and "file:" in spec:
            raise Unknown(f"{source}: dependency `{spec}` comes from a local path")
        declared = _NAME.match(spec.strip())
        if declared is None:
            raise Unknown(f"{source}: dependency `{spec}` cannot be read")
        out.names.add(normalize(declared[1]))
        if spec.strip() != declared[1]:  # poetry's keys are bare names (their versions are not PEP 508)
            out.requirements.setdefault(normalize(declared[1]), []).append(spec.strip())


def _locked(source: str, context: Context) -> Iterable[tuple[str, str | None]]:
    """(normalised name, version) of each package a uv.lock or poetry.lock pins."""
    packages = _toml(source, context).get("package", [])
    if not isinstance(packages, list):
        raise Unknown(f"{source} has no package list")
    return [(normalize(p["name"]), p["version"] if isinstance(p.get("version"), str) else None)
            for p in packages if isinstance(p, dict) and isinstance(p.get("name"), str)]


def _toml(source: str, context: Context) -> dict:
    text = context.read(source)
    if text is None:
        raise Unknown(f"{source} cannot be read")
    import tomllib  # only when a TOML file is read: its import costs more than most runs' work

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise Unknown(f"{source} is not valid TOML ({err})") from None


def _try_source(image_path: str, before: list[Step], context: Context) -> str | None:
    try:
        return context_source(image_path, before, context, missing_ok=True)
    except Unknown:
        return None


def _is_copy(step: Step) -> bool:
    """A step context_source looks at (it passes over every other)."""
    return step.kind == "copy" and step.instr.name in ("COPY", "ADD")


def copy_steps(steps: Iterable[Step]) -> list[Step]:
    """The steps that may bring a file from the build context: as context_source's `before`, the
    same answers as all the steps."""
    return [step for step in steps if _is_copy(step)]


class CopiesBefore:
    """The COPY/ADD steps before each position of a stage's steps, found once: for a caller that
    asks context_source once per install (a slice of every step before each was quadratic)."""

    def __init__(self, steps: list[Step]) -> None:
        self.at = [index for index, step in enumerate(steps) if _is_copy(step)]
        self.steps = [steps[index] for index in self.at]

    def __call__(self, index: int) -> list[Step]:
        """context_source's `before` for steps[index]: the copies among steps[:index]."""
        return self.steps[:bisect_left(self.at, index)]


def context_source(image_path: str, before: list[Step], context: Context, missing_ok: bool = False) -> str | None:
    """The build-context file the last COPY/ADD before brought to `image_path`.

    Raises Unknown when no COPY brought it (or one may have, through a pattern or a
    variable), and when the file it names is not in the context (None with missing_ok).
    `before` may hold only the COPY/ADD steps (copy_steps): the others are passed over.
    """
    image_path = posixpath.normpath(image_path)
    for step in reversed(before):
        if step.kind != "copy" or step.instr.name not in ("COPY", "ADD"):  # _is_copy, inline: once per step
            continue
        copy = Copy(step.instr)
        if copy.from_ or step.instr.heredocs:
            continue
        dest = copy.destination
        if "$" in dest or any("$" in s for s in copy.sources):
            raise Unknown(f"line {step.instr.line}: a COPY through a variable may bring {image_path}")
        for source in reversed(copy.sources):
            found = _brought(source, dest, step, image_path, context)
            if found is None:
                continue
            if context.read(found) is not None:
                return found
            if missing_ok and not context.exists(found):
                return None
            why = context.why_unreadable(found)
            raise Unknown(f"{found} cannot be read ({why})" if why else f"{found} is not in the build context")
    if missing_ok:
        return None
    raise Unknown(f"no COPY from the build context brings {image_path}")


def _brought(source: str, dest: str, step: Step, image_path: str, context: Context) -> str | None:
    """The context path COPY `source` `dest` puts at image_path, if it does."""
    if any(c in source for c in "*?["):
        name = posixpath.basename(image_path)
        pattern = posixpath.basename(source.rstrip("/"))
        if step.into and posixpath.dirname(image_path) == step.into and re.fullmatch(
                re.escape(pattern).replace(r"\*", "[^/]*").replace(r"\?", "[^/]"), name):
            parent = posixpath.dirname(posixpath.normpath(source))
            return posixpath.join(parent, name) if parent not in ("", ".") else name
        return None
    clean = posixpath.normpath(source.lstrip("/")) if source not in (".", "./") else "."
    if clean == "." or context.is_dir(clean):  # a folder: its content goes into dest
        folder: str | None = step.into
        if folder is None:
            folder = absolute(dest, step.workdir) if step.workdir != "?" or dest.startswith("/") else None
        if folder is None:
            return None
        if image_path == folder or not image_path.startswith(folder.rstrip("/") + "/"):
            return None
        rel = posixpath.relpath(image_path, folder)
        return rel if clean == "." else posixpath.join(clean, rel)
    # a file: into a folder (dest/basename) or to the exact path
    if step.into is not None:
        return clean if posixpath.join(step.into, posixpath.basename(clean)) == image_path else None
    if step.workdir == "?" and not dest.startswith("/"):
        return None
    return clean if absolute(dest, step.workdir) == image_path else None
