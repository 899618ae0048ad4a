"""ci-cache: a BuildKit layer cache that survives between CI runs, written into the CI that builds the image.

GitHub Actions: a `docker/build-push-action` step with no cache gets
`cache-from: type=gha` and `cache-to: type=gha,mode=max` (DF801), and, when
its job has no `docker/setup-buildx-action` step before it, one (DF802): the
gha cache needs a buildx builder (the default `docker` driver cannot export a
cache, and the build would fail). GitLab CI: a plain `docker build` gets
`--cache-from <an image the job pushes> --build-arg BUILDKIT_INLINE_CACHE=1`
(DF803), only where the job logs in to the registry it pushes that image to,
the tag is one the next run pulls again (not a per-commit tag), and BuildKit
is known to be on (the inline cache is BuildKit's).

Know or refuse: a build is rewritten only when the Dockerfile it builds is
resolved (as the action or the docker CLI resolves it, from the repository
root) to one of the Dockerfiles of this run. Anything else is a note saying
what to add: a context or file given by an expression or a matrix, a job
calling a reusable workflow, a local (composite) action, `docker compose
build`, `docker buildx build` or `docker build` in a `run:` step, actions
pinned by commit (dockfix would have to pick a commit for the new step).

The rewrite is text inserted at positions the YAML parser gives; no byte
of the file around it changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from dockfix.diagnostics import SAFE, Fix, Note, Rule
from dockfix.engine import Transform

if TYPE_CHECKING:  # the rewriting is imported when a CI file is read, not by every run (start-up)
    from dockfix.ci_engine import CiContext, Repository
    from dockfix.transforms._ci_rewrite import BuildFact

NAME = "ci-cache"

GHA_CACHE = Rule("DF801", NAME, "ci-gha-cache", "add cache-from: type=gha and cache-to: type=gha,mode=max to a "
                 "docker/build-push-action step that has no cache", SAFE)
SETUP_BUILDX = Rule("DF802", NAME, "ci-setup-buildx", "add a docker/setup-buildx-action step before the first "
                    "build-push step of a job that gets the gha cache, when the job has none", SAFE)
REGISTRY_CACHE = Rule("DF803", NAME, "ci-registry-cache", "add --cache-from (an image the job pushes) and "
                      "--build-arg BUILDKIT_INLINE_CACHE=1 to a GitLab job's docker build", SAFE)
RULES = (GHA_CACHE, SETUP_BUILDX, REGISTRY_CACHE)

# The step DF802 adds. v4 is the current major: actionlint's data on popular actions (v1.17.0) flags
# v3 as running on node20, which GitHub removes; the golden harness runs actionlint on every output.
SETUP_BUILDX_USES = "docker/setup-buildx-action@v4"


def find(tree: object, context: object) -> Iterator[Fix | Note]:
    """Dockerfiles: nothing. The rules of this transform are about the CI files (find_ci)."""
    return iter(())


def find_ci(text: str, kind: str, context: CiContext) -> Iterator[Fix | Note]:
    """The fixes and notes of a CI file (kind "github" or "gitlab"); see the module's docstring."""
    from dockfix.transforms import _ci_rewrite

    return _ci_rewrite.find_ci(text, kind, context)


def build_facts(text: str, kind: str, repository: Repository) -> list[BuildFact]:
    """The builds of the repository's Dockerfiles a CI file makes, for the checklist."""
    from dockfix.transforms import _ci_rewrite

    return _ci_rewrite.build_facts(text, kind, repository)


TRANSFORM = Transform(NAME, "CI files: a BuildKit layer cache that survives between runs (GitHub Actions gha "
                      "cache, GitLab registry inline cache)", find, RULES, find_ci=find_ci)

__all__ = ["RULES", "TRANSFORM", "build_facts", "find_ci"]
