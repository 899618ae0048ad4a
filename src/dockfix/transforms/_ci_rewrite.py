"""ci-cache's rewriting of CI files (dockfix.transforms.ci_cache has the rules and the page's summary).

A module of its own so that a run without CI files never imports it: the
ci-cache transform's find_ci imports it when a CI file is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockfix.ci_engine import CiContext, Repository
from dockfix.diagnostics import Fix, Note
from dockfix.edits import Edit
from dockfix.transforms._ci import (
    GITHUB,
    DockerBuild,
    GitlabJob,
    Job,
    Line,
    Step,
    action,
    compose,
    docker_verb,
    entry,
    is_mapping,
    is_scalar,
    is_sequence,
    items,
    line_of,
    login_registry,
    merges,
    parse_build,
    repo_path,
    shell_commands,
    text_of,
    value,
)
from dockfix.transforms.ci_cache import GHA_CACHE, REGISTRY_CACHE, SETUP_BUILDX, SETUP_BUILDX_USES

if TYPE_CHECKING:  # yaml is imported when a CI file is read, not when the pipeline is (start-up)
    from yaml.nodes import MappingNode, Node

_SHA = re.compile(r"[0-9a-f]{40}")


def find_ci(text: str, kind: str, context: CiContext) -> Iterator[Fix | Note]:
    root = compose(text)
    if root is None:
        return
    eol = "\r\n" if "\r\n" in text else "\n"
    if kind == GITHUB:
        yield from _github(text, root, context, eol)
    else:
        yield from _gitlab(text, root, context)


# --- GitHub Actions ---------------------------------------------------------------------------------

_DOCKERISH = re.compile(r"docker|buildx", re.I)  # a local action or reusable workflow that may build an image


@dataclass
class _Build:
    job: Job
    step: Step
    line: int  # the `uses:` line (what suppressions and reports name)
    dockerfile: str | None
    why_not: str | None
    target: str
    cache: str  # "none", "some" (one of cache-from/cache-to), "gha" (type=gha without a scope), "other"


def _github(text: str, root: Node, context: CiContext, eol: str) -> Iterator[Fix | Note]:
    from dockfix.transforms._ci import github_jobs

    builds: list[_Build] = []
    for job in github_jobs(root):
        if job.calls:
            if not job.calls.startswith("./") and _DOCKERISH.search(job.calls + _keys_text(value(job.node, "with"))):
                yield GHA_CACHE.note(f"job {job.name} calls the reusable workflow {job.calls}: its builds are in "
                                     "another repository, which dockfix does not read; give its build-push steps "
                                     "cache-from: type=gha and cache-to: type=gha,mode=max there",
                                     line_of(job.key))
            continue
        for step in job.steps:
            yield from _step_notes(job, step)
            if action(step.uses)[0] == "docker/build-push-action":
                builds.append(_build(job, step, context))
    fixed = [b for b in builds if b.cache == "none" and b.why_not is None]
    for b in builds:
        if b.cache == "some":
            yield GHA_CACHE.note("this build-push step has one of cache-from and cache-to but not the other; "
                                 "left alone (a cache needs both, and the one written says which backend)", b.line)
        elif b.cache == "none" and b.why_not:
            yield GHA_CACHE.note(b.why_not, b.line)
    keys = {(b.dockerfile, b.target) for b in builds if b in fixed or b.cache == "gha"}
    scoped = len(keys) > 1  # two images in one scope would overwrite each other's cache
    for job_builds in _by_job(fixed):
        job = job_builds[0].job
        builder = "none"  # the buildx builder set up before the step looked at: none, "docker" driver, or ready
        for step in job.steps:
            name = action(step.uses)[0]
            if name == "docker/setup-buildx-action":
                driver = text_of(value(value(step.node, "with"), "driver")) or ""
                builder = "docker" if driver.strip() == "docker" else "ready"
                continue
            build = next((b for b in job_builds if b.step is step), None)
            if build is None:
                continue
            if builder == "docker":
                yield GHA_CACHE.note("the job's buildx builder uses the docker driver, which cannot export a cache; "
                                     "left alone (drop `driver: docker` from its setup-buildx step first)", build.line)
                continue
            edits = _cache_edits(text, build, scoped, eol)
            if isinstance(edits, str):
                yield GHA_CACHE.note(edits, build.line)
                continue
            if builder == "none":
                buildx = _buildx_step(text, build, eol)
                if isinstance(buildx, str):
                    yield GHA_CACHE.note(buildx, build.line)
                    continue
                if not context.takes(SETUP_BUILDX.code, [build.line]):
                    yield GHA_CACHE.note("the gha cache needs a buildx builder, and the job has no "
                                         "docker/setup-buildx-action step before this one (adding it, DF802, is "
                                         "not selected or is suppressed)", build.line)
                    continue
                yield SETUP_BUILDX.fix("add a docker/setup-buildx-action step before the first build-push step of "
                                       f"job {job.name} (the gha cache needs a buildx builder)", build.line, [buildx])
                builder = "ready"
            where = build.dockerfile if build.target == "" else f"{build.dockerfile}, target {build.target}"
            yield GHA_CACHE.fix(f"add cache-from/cache-to type=gha (mode=max) to the build of {where}", build.line,
                                edits)


def _by_job(builds: list[_Build]) -> list[list[_Build]]:
    out: dict[str, list[_Build]] = {}
    for b in builds:
        out.setdefault(b.job.name, []).append(b)
    return list(out.values())


def _keys_text(node: Node | None) -> str:
    return " ".join(f"{k.value} {text_of(v) or ''}" for k, v in items(node))


def _step_notes(job: Job, step: Step) -> Iterator[Note]:
    name = action(step.uses)[0]
    line = line_of(step.node)
    if step.uses.startswith("./") and _DOCKERISH.search(step.uses + " " + _keys_text(value(step.node, "with"))):
        yield GHA_CACHE.note(f"step uses the local action {step.uses}: a composite action's builds are not "
                             "rewritten (its steps are in its action.yml); give them the gha cache there", line)
    elif name == "docker/bake-action":
        yield GHA_CACHE.note("docker/bake-action: a cache is set per target in the bake file or its `set` input "
                             "(*.cache-from=type=gha, *.cache-to=type=gha,mode=max); not placed automatically", line)
    if step.run:
        commands = shell_commands(step.run) or []
        verbs = {docker_verb(c)[0] for c in commands}
        if "compose build" in verbs:
            yield GHA_CACHE.note("docker compose build in a run step: its cache is set per service in the compose "
                                 "file (build.cache_from / cache_to); not placed automatically", line)
        if verbs & {"build", "buildx build"} and not any("--cache-from" in c for c in commands):
            yield GHA_CACHE.note("docker build in a run step: the gha cache needs buildx and the runtime token "
                                 "of docker/build-push-action; build with docker/build-push-action and "
                                 "cache-from: type=gha, cache-to: type=gha,mode=max (transforms/ci-cache.md)", line)


def _build(job: Job, step: Step, context: CiContext) -> _Build:
    with_node = value(step.node, "with")
    uses_line = line_of(entry(step.node, "uses")[0])  # type: ignore[index]  # the step has a uses key
    keys = {k.value: text_of(v) for k, v in items(with_node)}
    has_from, has_to = "cache-from" in keys, "cache-to" in keys
    if has_from or has_to:
        both = has_from and has_to
        gha = all((keys.get(k) or "").startswith("type=gha") and "scope=" not in (keys.get(k) or "")
                  for k in ("cache-from", "cache-to"))
        cache = "some" if not both else "gha" if gha else "other"
    else:
        cache = "none"
    context_value = keys.get("context")
    file_value = keys.get("file")
    target = keys.get("target") or ""
    why = None
    dockerfile = None
    written = [v for v in (context_value, file_value, target) if v is not None]
    if with_node is not None and not is_mapping(with_node):
        why = "its `with:` is not a mapping dockfix can edit"
    elif merges(with_node):
        why = "its `with:` takes keys from an anchor (<<:): what it builds is not all written here"
    elif any("${{" in v for v in written) or any(k in keys and keys[k] is None for k in ("context", "file")):
        why = ("context, file or target is an expression (a matrix or an output): which Dockerfile it builds, and "
               "so which cache scope it needs, is only known when the workflow runs")
    elif job.matrix:
        why = ("the job runs once per matrix combination: every run would write the same cache scope, and "
               "overwrite the other's; give each a scope=${{ ... }} of its combination by hand")
    elif context_value is not None and ("://" in context_value or context_value.startswith(("git@", "{{"))):
        why = f"the context is {context_value!r}, not a folder of this repository"
    else:
        folder = context_value if context_value is not None else "."  # the Git context: the repository root
        rel = repo_path(file_value if file_value is not None else f"{folder}/Dockerfile")
        if rel is None:
            why = "the Dockerfile it builds is outside the repository"
        else:
            reason = context.repository.dockerfile(rel)
            if reason:
                why = f"builds {rel}, which {reason}"
            else:
                dockerfile = rel
    return _Build(job, step, uses_line, dockerfile, why, target, cache)


def _scope(build: _Build) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", build.dockerfile or "").strip("-")
    if build.target:
        name += "-" + re.sub(r"[^A-Za-z0-9._-]+", "-", build.target)
    return f",scope={name}"


def _cache_edits(text: str, build: _Build, scoped: bool, eol: str) -> list[Edit] | str:
    """The edits adding the two cache keys to the step's `with:` (added when the step has none), or why not."""
    scope = _scope(build) if scoped else ""
    pairs = [("cache-from", f"type=gha{scope}"), ("cache-to", f"type=gha,mode=max{scope}")]
    found = entry(build.step.node, "with")
    if found is None:
        if build.step.node.flow_style:
            return "the step is a flow mapping ({...})"
        indent = _key_column(build.step.node)
        lines = [f"{' ' * indent}with:"] + [f"{' ' * (indent + 2)}{k}: {v}" for k, v in pairs]
        return _append(text, build.step.node, lines, eol)
    key, node = found
    if node.start_mark.index < key.end_mark.index:
        return "its `with:` is an alias (*name) of a mapping written elsewhere"
    if not is_mapping(node) or node.flow_style or not node.value:
        return "its `with:` is empty or a flow mapping ({...})"
    indent = _key_column(node)
    return _append(text, node, [f"{' ' * indent}{k}: {v}" for k, v in pairs], eol)


def _key_column(node: MappingNode) -> int:
    return int(node.value[0][0].start_mark.column)


def _append(text: str, node: MappingNode, lines: list[str], eol: str) -> list[Edit] | str:
    """Lines inserted after the last entry of a block mapping, or why that place is not certain."""
    leaf: Node = node
    while True:
        if is_mapping(leaf) and not leaf.flow_style and leaf.value:
            below: Node = leaf.value[-1][1]
        elif is_sequence(leaf) and not leaf.flow_style and leaf.value:
            below = leaf.value[-1]
        else:
            break
        if below.start_mark.index < leaf.start_mark.index:  # an alias: the node is written elsewhere
            return "the mapping ends with an alias (*name): where its text ends is elsewhere"
        leaf = below
    start, end = int(leaf.start_mark.index), int(leaf.end_mark.index)
    if is_scalar(leaf) and leaf.style in ("|", ">"):
        if "+" in text[start:].split("\n", 1)[0]:
            return "the mapping ends with a block scalar that keeps its trailing lines (|+)"
        end = start + len(text[start:end].rstrip())  # its end takes in the blank lines after it
    cut = text.find("\n", end)
    block = eol.join(lines)
    if cut == -1:  # the mapping ends the file, without a final newline
        return [Edit(len(text), len(text), eol + block)]
    return [Edit(cut + 1, cut + 1, block + eol)]


def _buildx_step(text: str, build: _Build, eol: str) -> Edit | str:
    """A setup-buildx step inserted before the build step (above its comments), or why not."""
    name, ref = action(build.step.uses)
    if _SHA.fullmatch(ref):
        return ("the gha cache needs a buildx builder and the job has no docker/setup-buildx-action step; the "
                "workflow pins actions by commit, so add one pinned the same way before this step")
    node = build.step.node
    key_at = int(node.start_mark.index)
    line_start = text.rfind("\n", 0, key_at) + 1
    before_key = text[line_start:key_at]
    named = entry(node, "name") is not None
    if before_key.strip().startswith("-") and not before_key.strip("- "):  # `- name: Build` on one line
        dash = line_start + before_key.index("-")
        indent = text[line_start:dash]
        gap = before_key[len(indent) + 1:]
        pad = " " * (1 + len(gap))
        body = [f"{indent}-{gap}name: Set up Docker Buildx", f"{indent}{pad}uses: {SETUP_BUILDX_USES}"] if named \
            else [f"{indent}-{gap}uses: {SETUP_BUILDX_USES}"]
        at = line_start
    elif not before_key.strip():  # the dash alone on the line above
        prev_end = line_start - 1
        prev_start = text.rfind("\n", 0, max(prev_end, 0)) + 1
        dash_line = text[prev_start:prev_end].rstrip("\r")
        if dash_line.strip() != "-":
            return "the step's layout is not one dockfix can add a step beside with certainty"
        indent = dash_line[: dash_line.index("-")]
        body = [f"{indent}-", f"{before_key}name: Set up Docker Buildx", f"{before_key}uses: {SETUP_BUILDX_USES}"] \
            if named else [f"{indent}-", f"{before_key}uses: {SETUP_BUILDX_USES}"]
        at = prev_start
    else:
        return "the step's layout is not one dockfix can add a step beside with certainty"
    at = _above_comments(text, at, len(indent))
    blank_above = at >= 2 and _line_before(text, at).strip() == ""
    block = eol.join(body) + eol + (eol if blank_above else "")
    return Edit(at, at, block)


def _line_before(text: str, at: int) -> str:
    end = at - 1
    start = text.rfind("\n", 0, end) + 1
    return text[start:end].rstrip("\r")


def _above_comments(text: str, at: int, indent: int) -> int:
    """The start of the comment lines directly above `at` at the step's indentation (they go with it)."""
    while at > 0:
        line = _line_before(text, at)
        if line.strip().startswith("#") and len(line) - len(line.lstrip(" ")) == indent:
            at = text.rfind("\n", 0, at - 1) + 1
            continue
        break
    return at


# --- GitLab CI ---------------------------------------------------------------------------------------

_BUILD_WORDS = re.compile(r"docker\s+(?:image\s+)?build\b")
_SAFE_REF = re.compile(r"[A-Za-z0-9_$/.:{}@-]+")
_STABLE_VARIABLES = frozenset({"CI_COMMIT_REF_SLUG", "CI_COMMIT_REF_NAME", "CI_COMMIT_BRANCH", "CI_DEFAULT_BRANCH"})
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_HUB = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})


def _gitlab(text: str, root: Node, context: CiContext) -> Iterator[Fix | Note]:
    from dockfix.transforms._ci import gitlab_jobs

    for job in gitlab_jobs(root):
        yield from _gitlab_job(text, job, context)


def _gitlab_job(text: str, job: GitlabJob, context: CiContext) -> Iterator[Fix | Note]:
    logins: list[str | None] = []
    for line in job.before:
        for words in line.commands or []:
            verb, rest = docker_verb(words)
            if verb == "login":
                logins.append(_registry(_expand(login_registry(rest), job.variables)))
    commands = [(line, words) for line in job.script for words in (line.commands or [])]
    moved = False
    for index, (line, words) in enumerate(commands):
        verb, rest = docker_verb(words)
        if words and words[0] in ("cd", "pushd"):
            moved = True
        if verb == "login":
            logins.append(_registry(_expand(login_registry(rest), job.variables)))
        if verb == "compose build":
            yield REGISTRY_CACHE.note(f"job {job.name}: docker compose build; its cache is set per service in the "
                                      "compose file (build.cache_from / cache_to); not placed automatically",
                                      line_of(line.node))
        elif verb == "buildx build" and "--cache-from" not in " ".join(rest):
            yield REGISTRY_CACHE.note(f"job {job.name}: docker buildx build without a cache; add --cache-from "
                                      "type=registry,ref=<image>:cache and --cache-to type=registry,ref=<image>:cache,"
                                      "mode=max (a docker-container builder is needed to export it)",
                                      line_of(line.node))
        elif verb == "build":
            yield from _gitlab_build(text, job, context, line, words, rest, commands[index + 1:], logins, moved)
    for line in job.script:
        if line.commands is None and _BUILD_WORDS.search(line.node.value):
            yield REGISTRY_CACHE.note(f"job {job.name}: a docker build in a script line dockfix cannot split with "
                                      "certainty (a here-document, a substitution or unbalanced quotes)",
                                      line_of(line.node))


def _gitlab_build(text: str, job: GitlabJob, context: CiContext, line: Line, words: list[str], rest: list[str],
                  later: list[tuple[Line, list[str]]], logins: list[str | None], moved: bool) -> Iterator[Fix | Note]:
    build = parse_build(rest, buildx=False)
    where = line_of(line.node)
    if "--cache-from" in build.options:
        return
    rel, why = _gitlab_target(job, build, moved, context.repository)
    if rel is None:
        yield REGISTRY_CACHE.note(why, where)
        return
    pushed = _pushed(later, job.variables)
    source = None
    for tag in build.tags:
        full = _expand(tag, job.variables)
        registry = _registry_of(full)
        if registry is not None and registry in logins and full in pushed and _stable(full):
            source = tag
            break
    if source is None:
        why = ("no docker login before it" if not logins else
               "it pushes no tag of this build to a registry it logs in to, under a tag the next run reads again "
               "(a per-commit tag is never built twice)")
        yield REGISTRY_CACHE.note(f"job {job.name}: {why}; to cache layers, tag the build <image>:cache, push it "
                                  "after logging in, and build with --cache-from <image>:cache --build-arg "
                                  "BUILDKIT_INLINE_CACHE=1", where)
        return
    if not _SAFE_REF.fullmatch(source):
        yield REGISTRY_CACHE.note(f"job {job.name}: the image name {source!r} needs quoting dockfix does not "
                                  "write", where)
        return
    buildkit = _buildkit(job)
    if buildkit:
        yield REGISTRY_CACHE.note(f"job {job.name}: {buildkit}; the inline cache is BuildKit's: set DOCKER_BUILDKIT: "
                                  "\"1\" (or use docker 23 or later) and add --cache-from "
                                  f"{source} --build-arg BUILDKIT_INLINE_CACHE=1", where)
        return
    edit = _flag_edit(text, line)
    if edit is None:
        yield REGISTRY_CACHE.note(f"job {job.name}: the docker build in this line could not be placed with "
                                  "certainty (split over lines, or several builds)", where)
        return
    yield REGISTRY_CACHE.fix(f"job {job.name}: build with --cache-from {source} and BUILDKIT_INLINE_CACHE=1 "
                             f"(rel {rel})", where,
                             [Edit(edit, edit, f" --cache-from {source} --build-arg BUILDKIT_INLINE_CACHE=1")])


def _gitlab_target(job: GitlabJob, build: DockerBuild, moved: bool, repository: Repository) -> tuple[str | None, str]:
    """The Dockerfile a GitLab docker build builds (relative to the repository root), or why it is not known."""
    if moved:
        return None, (f"job {job.name}: the script changes folder (cd) before docker build: which Dockerfile it "
                      "builds is not known")
    if build.context is None:
        return None, (f"job {job.name}: docker build with an option dockfix does not know, or no single context: "
                      "which Dockerfile it builds is not known")
    folder = _expand(build.context, job.variables)
    file = _expand(build.file, job.variables) if build.file is not None else f"{folder}/Dockerfile"
    if "$" in folder + file or "://" in folder or folder == "-" or folder.startswith("git@"):
        return None, (f"job {job.name}: the context or Dockerfile is {file!r}: not a file of this repository "
                      "dockfix can name")
    rel = repo_path(file)
    reason = "is outside the repository" if rel is None else repository.dockerfile(rel)
    if reason:
        return None, f"job {job.name}: builds {rel or file}, which {reason}"
    return rel, ""


def _flag_edit(text: str, line: Line) -> int | None:
    """The offset right after `docker build` in the line's text, when the line holds exactly one build."""
    builds = [w for w in line.commands or [] if docker_verb(w)[0] == "build"]
    found = list(_BUILD_WORDS.finditer(text, int(line.node.start_mark.index), int(line.node.end_mark.index)))
    return found[0].end() if len(builds) == 1 and len(found) == 1 else None


def _pushed(later: list[tuple[Line, list[str]]], variables: dict[str, str]) -> set[str]:
    out = set()
    for _, words in later:
        verb, rest = docker_verb(words)
        if verb == "push":
            refs = [w for w in rest if not w.startswith("-")]
            if refs:
                out.add(_expand(refs[0], variables))
    return out


def _expand(word: str, variables: dict[str, str]) -> str:
    for _ in range(5):
        new = _VARIABLE.sub(lambda m: variables.get(m.group(1), m.group(0)), word)
        if new == word:
            break
        word = new
    return word


def _registry(server: str) -> str | None:
    name = server.strip().removeprefix("https://").removeprefix("http://").rstrip("/")
    if name in ("$CI_REGISTRY", "${CI_REGISTRY}"):
        return "$CI_REGISTRY"
    if "$" in name:
        return None
    name = name.split("/", 1)[0].lower()
    return "docker.io" if name in _HUB else name


def _registry_of(ref: str) -> str | None:
    if ref.startswith(("$CI_REGISTRY_IMAGE", "${CI_REGISTRY_IMAGE}")):
        return "$CI_REGISTRY"
    first, slash, _ = ref.partition("/")
    if first in ("$CI_REGISTRY", "${CI_REGISTRY}"):
        return "$CI_REGISTRY"
    if not slash:
        return "docker.io"
    if "$" in first:
        return None
    if "." in first or ":" in first or first == "localhost":
        return "docker.io" if first.lower() in _HUB else first.lower()
    return "docker.io"


def _stable(ref: str) -> bool:
    """The tag is one a later pipeline of the branch builds again (not one per commit, pipeline or job)."""
    last = ref.rsplit("/", 1)[-1].split("@", 1)[0]
    tag = last.partition(":")[2] if ":" in last else "latest"
    return all(m.group(1) in _STABLE_VARIABLES for m in _VARIABLE.finditer(tag))


def _buildkit(job: GitlabJob) -> str:
    """'' when BuildKit is known to build; else why it is not known."""
    return _buildkit_state(job)[1]


def _buildkit_state(job: GitlabJob) -> tuple[str, str]:
    """("on" | "off" | "unknown", why when not on) for a GitLab job's docker build."""
    setting = job.variables.get("DOCKER_BUILDKIT")
    if setting is not None:
        return ("on", "") if setting.strip() == "1" else ("off", f"DOCKER_BUILDKIT is {setting!r}")
    image = job.image
    name, _, tag = image.partition(":")
    if name.rsplit("/", 1)[-1] != "docker" or "$" in image:
        return "unknown", (f"the job's image is {image!r}, whose docker is not known to use BuildKit" if image else
                           "the job names no image: its docker is not known to use BuildKit")
    if tag in ("", "latest", "dind", "cli", "git"):
        return "on", ""
    major = re.match(r"(\d+)", tag)
    if major and int(major.group(1)) >= 23:
        return "on", ""
    if major:
        return "off", f"the job's image is {image!r}: docker before 23 builds without BuildKit unless DOCKER_BUILDKIT=1"
    return "unknown", f"the job's image is {image!r}, whose docker is not known to use BuildKit"


# --- facts for the checklist ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildFact:
    """One build of a Dockerfile in a CI file, as the checklist reports it."""

    dockerfile: str  # relative to the repository root
    line: int
    cached: bool  # a cache that outlives the job (cache-from)
    buildkit: str  # "on", "off" or "unknown"
    why: str = ""  # why BuildKit is not known to be on


def build_facts(text: str, kind: str, repository: Repository) -> list[BuildFact]:
    """The builds of the repository's Dockerfiles this CI file makes, as far as they are known."""
    from dockfix.transforms._ci import github_jobs, gitlab_jobs

    root = compose(text)
    facts: list[BuildFact] = []
    if root is None:
        return facts
    context = CiContext(repository, lambda code, lines: False)
    if kind == GITHUB:
        for job in github_jobs(root):
            for step in job.steps:
                if action(step.uses)[0] == "docker/build-push-action":
                    build = _build(job, step, context)
                    if build.dockerfile is not None:  # build-push-action always builds with buildx: BuildKit
                        facts.append(BuildFact(build.dockerfile, build.line, build.cache != "none", "on"))
                elif step.run:
                    facts.extend(_run_step_facts(job, step, repository))
        return facts
    for gitlab_job in gitlab_jobs(root):
        moved = False
        for line in gitlab_job.script:
            for words in line.commands or []:
                moved = moved or (bool(words) and words[0] in ("cd", "pushd"))
                verb, rest = docker_verb(words)
                if verb not in ("build", "buildx build"):
                    continue
                command = parse_build(rest, buildx=verb == "buildx build")
                rel, _ = _gitlab_target(gitlab_job, command, moved, repository)
                if rel is not None:
                    state, why = ("on", "") if command.buildx else _buildkit_state(gitlab_job)
                    facts.append(BuildFact(rel, line_of(line.node), "--cache-from" in command.options, state, why))
    return facts


# GitHub-hosted runners (their images ship Docker 23 or later, whose docker build is BuildKit's).
_HOSTED = re.compile(r"(ubuntu|windows|macos)-(latest|\d[\w.-]*)$")


def _run_step_facts(job: Job, step: Step, repository: Repository) -> Iterator[BuildFact]:
    """The docker builds of a run step whose Dockerfile is known (no working-directory, no expression)."""
    if value(step.node, "working-directory") is not None or value(value(value(job.node, "defaults"), "run"),
                                                                   "working-directory") is not None:
        return
    runs_on = text_of(value(job.node, "runs-on")) or ""
    line = line_of(step.node)
    moved = False
    for words in shell_commands(step.run) or []:
        moved = moved or (bool(words) and words[0] in ("cd", "pushd"))
        verb, rest = docker_verb(words)
        if verb not in ("build", "buildx build") or moved:
            continue
        command = parse_build(rest, buildx=verb == "buildx build")
        if command.context is None or "$" in command.context + (command.file or ""):
            continue
        rel = repo_path(command.file if command.file is not None else f"{command.context}/Dockerfile")
        if rel is None or repository.dockerfile(rel):
            continue
        if command.buildx or _HOSTED.fullmatch(runs_on.strip()):
            yield BuildFact(rel, line, "--cache-from" in command.options, "on")
        else:
            yield BuildFact(rel, line, "--cache-from" in command.options, "unknown",
                            f"docker build on runs-on {runs_on!r}: whose docker is not known to use BuildKit")
