"""What a CI file builds: the Docker builds of a GitHub workflow or a GitLab CI file, with where they are.

The file is read with PyYAML's composer, which keeps each node's position in
the text (`start_mark`, `end_mark`): a rewrite is then a text edit at a known
offset, and every byte it does not touch (comments, key order, quoting,
anchors, indentation) stays as it was. Nothing is dumped back.

This module says what a file holds and what is known about each build:
which Dockerfile it builds (resolved as the action or the docker CLI would,
relative to the repository root) or why that is not known (an expression,
a matrix, a `cd` before it, a remote context). The ci-cache transform
decides what to do with it.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeGuard

if TYPE_CHECKING:  # yaml is imported when a CI file is read, not when the pipeline is (start-up)
    from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

GITHUB, GITLAB = "github", "gitlab"


class CiParseError(Exception):
    """The file is not YAML dockfix can read (or not a mapping at its top)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


def _nodes() -> Any:
    import yaml.nodes

    return yaml.nodes


def is_mapping(node: object) -> TypeGuard[MappingNode]:
    return isinstance(node, _nodes().MappingNode)


def is_sequence(node: object) -> TypeGuard[SequenceNode]:
    return isinstance(node, _nodes().SequenceNode)


def is_scalar(node: object) -> TypeGuard[ScalarNode]:
    return isinstance(node, _nodes().ScalarNode)


def compose(text: str) -> Node | None:
    """The node tree of a one-document YAML text (None: empty). Raises CiParseError."""
    import yaml

    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise CiParseError(f"not valid YAML: {problem}", mark.line + 1 if mark is not None else None) from None
    except RecursionError:  # PyYAML's composer recurses once per level of nesting
        raise CiParseError("nested too deeply for dockfix to read (no CI file nests like this)") from None


def line_of(node: Node) -> int:
    return int(node.start_mark.line) + 1


def items(node: Node | None) -> list[tuple[ScalarNode, Node]]:
    """A block or flow mapping's entries whose key is a scalar (merge keys and complex keys left out)."""
    if not is_mapping(node):
        return []
    return [(k, v) for k, v in node.value if is_scalar(k) and k.tag != "tag:yaml.org,2002:merge"]


def entry(node: Node | None, key: str) -> tuple[ScalarNode, Node] | None:
    for k, v in items(node):
        if k.value == key:
            return k, v
    return None


def value(node: Node | None, key: str) -> Node | None:
    found = entry(node, key)
    return found[1] if found else None


def text_of(node: Node | None) -> str | None:
    """A scalar's value (None: absent, or not a scalar)."""
    return node.value if is_scalar(node) else None


def merges(node: Node | None) -> bool:
    """The mapping takes keys from elsewhere (`<<: *anchor`): what it holds is not all written here."""
    return is_mapping(node) and any(is_scalar(k) and k.tag == "tag:yaml.org,2002:merge"
                                                 for k, _ in node.value)


def repo_path(path: str) -> str | None:
    """A path as the build sees it, relative to the repository root (None: it leaves the repository)."""
    if path.startswith("/"):
        return None
    norm = posixpath.normpath(path)
    return None if norm == ".." or norm.startswith("../") else norm


# --- GitHub Actions ---------------------------------------------------------------------------------

EXPRESSION = "${{"


@dataclass
class Step:
    node: MappingNode
    uses: str  # "" for a run step
    run: str


@dataclass
class Job:
    name: str
    key: ScalarNode
    node: MappingNode
    steps: list[Step]
    matrix: bool  # strategy.matrix: the same steps run once per combination
    calls: str  # `uses:` of a job calling a reusable workflow ("" for a job of steps)


def github_jobs(root: Node | None) -> Iterator[Job]:
    for key, job in items(value(root, "jobs")):
        if not is_mapping(job):
            continue
        steps = []
        seq = value(job, "steps")
        for node in seq.value if is_sequence(seq) else []:
            if is_mapping(node):
                steps.append(Step(node, text_of(value(node, "uses")) or "", text_of(value(node, "run")) or ""))
        matrix = value(value(job, "strategy"), "matrix") is not None
        yield Job(key.value, key, job, steps, matrix, text_of(value(job, "uses")) or "")


def action(uses: str) -> tuple[str, str]:
    """(owner/name, ref) of a step's `uses` (`docker/build-push-action@v6`): the name lower-cased."""
    name, _, ref = uses.partition("@")
    return name.strip().lower(), ref.strip()


# --- GitLab CI ---------------------------------------------------------------------------------------

# Top-level keys of a GitLab CI file that are not jobs (https://docs.gitlab.com/ee/ci/yaml/).
GITLAB_KEYWORDS = frozenset({"default", "include", "stages", "variables", "workflow", "image", "services", "cache",
                             "before_script", "after_script", "types", "pages:deploy", "spec"})


@dataclass
class Line:
    """One item of a `script:`, as written (its node) and as the shell reads it."""

    node: ScalarNode
    commands: list[list[str]] | None  # shell words of each simple command; None: not split with certainty


@dataclass
class GitlabJob:
    name: str
    key: ScalarNode
    node: MappingNode
    before: list[Line]  # the before_script that runs before its script (its own, else the default's)
    script: list[Line]
    image: str
    variables: dict[str, str] = field(default_factory=dict)  # the file's, then the job's


def gitlab_jobs(root: Node | None) -> Iterator[GitlabJob]:
    default = value(root, "default")
    file_vars = _variables(value(root, "variables"))
    default_image = _image(value(default, "image")) or _image(value(root, "image"))
    default_before = value(default, "before_script") or value(root, "before_script")
    for key, job in items(root):
        if key.value in GITLAB_KEYWORDS or not is_mapping(job):
            continue
        script = value(job, "script")
        if script is None:
            continue
        before = entry(job, "before_script")
        yield GitlabJob(key.value, key, job, _lines(before[1] if before else default_before), _lines(script),
                        _image(value(job, "image")) or default_image,
                        {**file_vars, **_variables(value(job, "variables"))})


def _image(node: Node | None) -> str:
    return text_of(node) or text_of(value(node, "name")) or ""


def _variables(node: Node | None) -> dict[str, str]:
    out = {}
    for key, val in items(node):
        found = text_of(val) if is_scalar(val) else text_of(value(val, "value"))
        if found is not None:
            out[key.value] = found
    return out


def _lines(node: Node | None) -> list[Line]:
    """A script's items in order (nested lists, as anchors make them, flattened)."""
    out: list[Line] = []
    if is_scalar(node):
        out.append(Line(node, shell_commands(node.value)))
    elif is_sequence(node):
        for item in node.value:
            out.extend(_lines(item))
    return out


_OPERATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", ";;", "|&"})


def shell_commands(script: str) -> list[list[str]] | None:
    """The words of each simple command of a script line (None: quoting dockfix cannot split with
    certainty, a here-document or a substitution around a command)."""
    joined = script.replace("\\\n", " ")
    if "<<" in joined or "`" in joined or "$(" in joined and re.search(r"\$\([^)]*\bdocker\b", joined):
        return None
    commands: list[list[str]] = []
    for line in joined.split("\n"):
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        current: list[str] = []
        try:
            for word in lexer:
                if word in _OPERATORS:
                    if current:
                        commands.append(current)
                    current = []
                else:
                    current.append(word)
        except ValueError:
            return None
        if current:
            commands.append(current)
    return commands


# --- docker's command line ---------------------------------------------------------------------------

# Options of `docker build` / `docker buildx build` that take a value (as a next word or after `=`).
_BUILD_VALUE_OPTIONS = frozenset({
    "-t", "--tag", "-f", "--file", "--build-arg", "--target", "--label", "--platform", "--network", "--cache-from",
    "--cache-to", "--secret", "--ssh", "--add-host", "--iidfile", "--progress", "-o", "--output", "--shm-size",
    "--ulimit", "-m", "--memory", "--memory-swap", "--cpu-shares", "-c", "--cpu-period", "--cpu-quota",
    "--cpuset-cpus", "--cpuset-mems", "--cgroup-parent", "--isolation", "--builder", "--metadata-file", "--attest",
    "--provenance", "--sbom", "--annotation", "--allow", "--build-context", "--security-opt", "--call",
    "--label-file", "--platforms"})
_BUILD_SWITCHES = frozenset({
    "--no-cache", "--pull", "-q", "--quiet", "--rm", "--force-rm", "--squash", "--push", "--load", "--compress",
    "--disable-content-trust", "--check", "--debug", "-D"})


@dataclass(frozen=True)
class DockerBuild:
    words: tuple[str, ...]
    buildx: bool
    tags: tuple[str, ...]
    file: str | None
    context: str | None  # None: not known (an option dockfix does not know, or no context)
    options: frozenset[str]


def docker_verb(words: list[str]) -> tuple[str, list[str]]:
    """("build" | "buildx build" | "compose build" | "login" | "push" | "tag" | "", the words after it)."""
    if not words:
        return "", []
    if words[0] == "sudo":
        words = words[1:]
    if words[:1] == ["docker-compose"]:
        return ("compose build", words[2:]) if "build" in words[1:] else ("", [])
    if words[:1] != ["docker"] or len(words) < 2:
        return "", []
    rest = words[1:]
    if rest[:1] == ["image"] and rest[1:2] in (["build"], ["push"], ["tag"]):
        rest = rest[1:]
    if rest[:2] == ["buildx", "build"]:
        return "buildx build", rest[2:]
    if rest[:1] == ["compose"]:
        return ("compose build", rest[1:]) if "build" in rest[1:] else ("", [])
    if rest[:1] in (["build"], ["login"], ["push"], ["tag"]):
        return rest[0], rest[1:]
    return "", []


def parse_build(words: list[str], buildx: bool) -> DockerBuild:
    tags: list[str] = []
    file: str | None = None
    positional: list[str] = []
    options: set[str] = set()
    known = True
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("-") and word != "-":
            name, eq, inline = word.partition("=")
            if name in _BUILD_VALUE_OPTIONS:
                if not eq:
                    i += 1
                    inline = words[i] if i < len(words) else ""
                options.add(name)
                if name in ("-t", "--tag"):
                    tags.append(inline)
                elif name in ("-f", "--file"):
                    file = inline
            elif name in _BUILD_SWITCHES:
                options.add(name)
            else:
                known = False  # a value may follow it or not: the context cannot be told
                options.add(name)
        else:
            positional.append(word)
        i += 1
    context = positional[0] if known and len(positional) == 1 else None
    return DockerBuild(tuple(words), buildx, tuple(tags), file, context, frozenset(options))


def login_registry(words: list[str]) -> str:
    """The registry a `docker login` logs in to (its only positional word; Docker Hub without one)."""
    positional = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("-u", "--username", "-p", "--password"):
            i += 2
            continue
        if not word.startswith("-"):
            positional.append(word)
        i += 1
    return positional[-1] if positional else "docker.io"
