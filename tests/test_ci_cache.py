"""ci-cache (issue 15): what it rewrites in a CI file, what it leaves alone and says why, and how the
command line finds CI files (a folder run includes them, a single Dockerfile only with --ci)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockfix.ci_engine import run_ci
from dockfix.ci_files import DiskRepository, yaml_check
from dockfix.cli import run
from dockfix.engine import EngineBug
from dockfix.transforms import PIPELINE, choose

DOCKERFILE = "FROM python:3.12-slim\n"


def repo(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in {"Dockerfile": DOCKERFILE, **files}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(text.encode("utf-8"))
    (tmp_path / ".git").mkdir(exist_ok=True)
    return tmp_path


def rewrite(root: Path, text: str, kind: str = "github", select=None, ignore=(), run_only=None):
    return run_ci(text, kind, DiskRepository(root, run_only), choose(select, ignore), check=yaml_check)


def workflow(steps: str, job_extra: str = "") -> str:
    return f"on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n{job_extra}    steps:\n{steps}"


BUILD = ("      - name: Build\n        uses: docker/build-push-action@v6\n        with:\n          context: .\n"
         "          push: false\n")
BUILDX = "      - uses: docker/setup-buildx-action@v3\n"
CACHE = "          cache-from: type=gha\n          cache-to: type=gha,mode=max\n"


def test_cache_keys_go_at_the_end_of_with(tmp_path):
    root = repo(tmp_path, {})
    out = rewrite(root, workflow(BUILDX + BUILD))
    assert out.output == workflow(BUILDX + BUILD + CACHE)
    assert [f.code for f in out.fixes] == ["DF801"]


def test_a_job_without_buildx_gets_a_setup_step_with_the_steps_layout(tmp_path):
    root = repo(tmp_path, {})
    out = rewrite(root, workflow("      - uses: actions/checkout@v4\n\n      # build it\n" + BUILD))
    assert out.output == workflow("      - uses: actions/checkout@v4\n\n      - name: Set up Docker Buildx\n"
                                  "        uses: docker/setup-buildx-action@v4\n\n      # build it\n" + BUILD + CACHE)
    assert sorted(f.code for f in out.fixes) == ["DF801", "DF802"]


def test_a_dash_on_its_own_line_is_kept_as_the_steps_style(tmp_path):
    root = repo(tmp_path, {})
    steps = ("      -\n        name: Build\n        uses: docker/build-push-action@v5\n        with:\n"
             "          push: true\n")
    out = rewrite(root, workflow(steps)).output
    assert out == workflow("      -\n        name: Set up Docker Buildx\n        uses: docker/setup-buildx-action@v4\n"
                           + steps + CACHE)


def test_a_block_scalar_last_keeps_its_lines_and_the_blank_line_after_it(tmp_path):
    root = repo(tmp_path, {})
    steps = BUILDX + BUILD + "          tags: |\n            a:1\n            a:2\n\n      - run: echo done\n"
    out = rewrite(root, workflow(steps)).output
    assert out == workflow(BUILDX + BUILD + "          tags: |\n            a:1\n            a:2\n" + CACHE
                           + "\n      - run: echo done\n")


def test_a_step_without_with_gets_one_and_crlf_and_no_final_newline_are_kept(tmp_path):
    root = repo(tmp_path, {})
    text = workflow(BUILDX + "      - uses: docker/build-push-action@v6").replace("\n", "\r\n")
    out = rewrite(root, text).output
    assert out == text + "\r\n        with:\r\n          cache-from: type=gha\r\n          cache-to: type=gha,mode=max"


def test_two_dockerfiles_in_one_workflow_get_a_scope_each(tmp_path):
    root = repo(tmp_path, {"api/Dockerfile": DOCKERFILE})
    api = BUILD.replace("context: .", "context: api")
    out = rewrite(root, workflow(BUILDX + BUILD + api)).output
    assert "cache-to: type=gha,mode=max,scope=Dockerfile\n" in out
    assert "cache-from: type=gha,scope=api-Dockerfile\n" in out


@pytest.mark.parametrize("steps, job_extra, why", [
    (BUILDX + BUILD.replace("context: .", "context: ${{ matrix.dir }}"), "", "expression"),
    (BUILDX + BUILD, "    strategy:\n      matrix:\n        py: [1, 2]\n", "matrix"),
    (BUILD.replace("@v6", "@" + "a" * 40), "", "pins actions by commit"),
    (BUILDX + BUILD.replace("context: .", "context: other"), "", "does not exist"),
    (BUILDX + BUILD.replace("          push: false\n", "          cache-from: type=registry,ref=x\n"), "",
     "one of cache-from and cache-to"),
    (BUILDX + BUILD.replace("context: .", "context: https://github.com/a/b.git"), "", "not a folder"),
    ("      - run: docker compose build\n", "", "compose"),
    ("      - uses: ./.github/actions/docker-build\n", "", "composite"),
], ids=["expression", "matrix", "sha-pinned", "no-dockerfile", "half-cache", "remote-context", "compose",
        "composite"])
def test_what_it_cannot_place_with_certainty_is_a_note(tmp_path, steps, job_extra, why):
    root = repo(tmp_path, {})
    text = workflow(steps, job_extra)
    out = rewrite(root, text)
    assert out.output == text and not out.fixes
    assert any(why in n.message for n in out.notes), [n.message for n in out.notes]


def test_a_reusable_workflow_of_another_repository_is_a_note(tmp_path):
    root = repo(tmp_path, {})
    text = "on: push\njobs:\n  build:\n    uses: org/ci/.github/workflows/docker.yml@v1\n"
    out = rewrite(root, text)
    assert out.output == text and "reusable workflow" in out.notes[0].message


def test_only_the_dockerfiles_of_the_run_are_built_with_a_cache(tmp_path):
    root = repo(tmp_path, {"api/Dockerfile": DOCKERFILE})
    api = BUILD.replace("context: .", "context: api")
    only_api = frozenset({str((root / "api/Dockerfile").resolve())})
    out = rewrite(root, workflow(BUILDX + BUILD + api), run_only=only_api)
    assert len(out.fixes) == 1 and "api/Dockerfile" in out.fixes[0].message
    assert any("not one of the Dockerfiles of this run" in n.message for n in out.notes)


def test_a_dockerfile_reached_through_a_link_is_not_the_repositorys(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Dockerfile").write_text(DOCKERFILE)
    root = repo(tmp_path / "r", {})
    (root / "linked").symlink_to(outside)
    out = rewrite(root, workflow(BUILDX + BUILD.replace("context: .", "context: linked")))
    assert not out.fixes and "symbolic link" in out.notes[0].message


@pytest.mark.parametrize("pragma, fixed", [
    ("      # dockfix: ignore\n", False),
    ("      # dockfix: ignore=DF801\n", False),
    ("      # dockfix: ignore=apt\n", True),
    ("# dockfix: ignore-file=ci-cache\n", False),
])
def test_yaml_pragmas_suppress(tmp_path, pragma, fixed):
    root = repo(tmp_path, {})
    text = workflow(BUILDX + pragma + BUILD)
    assert bool(rewrite(root, text).fixes) == fixed


def test_a_trailing_pragma_and_a_pragma_above_the_job(tmp_path):
    root = repo(tmp_path, {})
    trailing = workflow(BUILDX + BUILD.replace("@v6\n", "@v6  # dockfix: ignore\n"))
    assert not rewrite(root, trailing).fixes
    above_job = workflow(BUILDX + BUILD).replace("  build:\n", "  # dockfix: ignore\n  build:\n")
    assert not rewrite(root, above_job).fixes


def test_an_unknown_name_in_a_yaml_pragma_is_a_warning(tmp_path):
    root = repo(tmp_path, {})
    out = rewrite(root, workflow(BUILDX + "      # dockfix: ignore=DF8O1\n" + BUILD))
    assert out.warnings and "did you mean" in out.warnings[0].message


def test_without_the_setup_step_rule_the_cache_is_not_added_either(tmp_path):
    root = repo(tmp_path, {})
    text = workflow(BUILD)
    for out in (rewrite(root, text, select=["DF801"]), rewrite(root, text, ignore=["ci-setup-buildx"])):
        assert out.output == text
        assert any("buildx builder" in n.message for n in out.notes)


GITLAB = ("build:\n  image: {image}\n  services:\n    - docker:dind\n{variables}  before_script:\n"
          "    - docker login -u \"$CI_REGISTRY_USER\" -p \"$CI_REGISTRY_PASSWORD\" $CI_REGISTRY\n  script:\n"
          "{before}    - docker build -t $CI_REGISTRY_IMAGE:{tag} .\n    - docker push $CI_REGISTRY_IMAGE:{tag}\n")


def gitlab(image="docker:27", tag="latest", variables="", before=""):
    return GITLAB.format(image=image, tag=tag, variables=variables, before=before)


def test_gitlab_build_gets_the_registry_inline_cache(tmp_path):
    root = repo(tmp_path, {})
    out = rewrite(root, gitlab(), "gitlab")
    assert out.output == gitlab().replace("docker build -t", "docker build --cache-from $CI_REGISTRY_IMAGE:latest "
                                          "--build-arg BUILDKIT_INLINE_CACHE=1 -t")
    assert [f.code for f in out.fixes] == ["DF803"]


@pytest.mark.parametrize("kwargs, why", [
    ({"image": "docker:20.10.16"}, "without BuildKit"),
    ({"tag": "$CI_COMMIT_SHA"}, "per-commit"),
    ({"before": "    - cd app\n"}, "changes folder"),
    ({"image": "python:3.12"}, "not known to use BuildKit"),
])
def test_gitlab_builds_it_cannot_place_are_notes(tmp_path, kwargs, why):
    root = repo(tmp_path, {})
    text = gitlab(**kwargs)
    out = rewrite(root, text, "gitlab")
    assert out.output == text and any(why in n.message for n in out.notes), [n.message for n in out.notes]


def test_gitlab_docker_buildkit_variable_makes_an_old_docker_use_buildkit(tmp_path):
    root = repo(tmp_path, {})
    text = gitlab(image="docker:20.10.16", variables="  variables:\n    DOCKER_BUILDKIT: \"1\"\n")
    assert rewrite(root, text, "gitlab").fixes


def test_gitlab_login_to_another_registry_is_not_enough(tmp_path):
    root = repo(tmp_path, {})
    text = gitlab().replace("$CI_REGISTRY\n", "registry.example.com\n")
    out = rewrite(root, text, "gitlab")
    assert out.output == text and not out.fixes


def test_a_rewrite_that_is_not_a_fixpoint_is_dockfix_bug(tmp_path, monkeypatch):
    from dockfix.transforms import ci_cache

    root = repo(tmp_path, {})
    original = ci_cache.find_ci

    def twice(text, kind, context):  # reports its fix again on its own output
        yield from original(text.replace("cache-from:", "cache-from-was:").replace("cache-to:", "cache-to-was:"),
                            kind, context)

    transforms = [t if t.name != "ci-cache" else __import__("dataclasses").replace(t, find_ci=twice)
                  for t in PIPELINE]
    with pytest.raises(EngineBug, match="fixpoint"):
        run_ci(workflow(BUILDX + BUILD), "github", DiskRepository(root, None), transforms, check=yaml_check)


# --- the command line ----------------------------------------------------------------------------------

def cli(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "dockfix", *args], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=120)
    return done.returncode, done.stdout, done.stderr


def test_a_folder_run_includes_the_ci_files_and_a_single_dockerfile_only_with_ci(tmp_path):
    root = repo(tmp_path, {".github/workflows/docker.yml": workflow(BUILDX + BUILD)})
    code, out, _ = cli(root, "--check", ".")
    assert code == 1 and ".github/workflows/docker.yml:" in out and "DF801" in out
    code, out, _ = cli(root, "--check", "--select", "ci-cache", "Dockerfile")
    assert code == 0 and "docker.yml" not in out
    code, out, _ = cli(root, "--check", "--select", "ci-cache", "--ci", "Dockerfile")
    assert code == 1 and "docker.yml" in out


def test_write_rewrites_the_workflow_and_a_second_run_finds_nothing(tmp_path):
    root = repo(tmp_path, {".github/workflows/docker.yml": workflow(BUILDX + BUILD)})
    assert cli(root, "--write", "--select", "ci-cache", ".")[0] == 1
    assert (root / ".github/workflows/docker.yml").read_text() == workflow(BUILDX + BUILD + CACHE)
    assert cli(root, "--check", "--select", "ci-cache", ".")[0] == 0


def test_a_workflow_that_is_not_yaml_fails_alone(tmp_path):
    root = repo(tmp_path, {".github/workflows/bad.yml": "jobs: [\n"})
    code, _, err = cli(root, "--check", "--select", "ci-cache", ".")
    assert code == 2 and "bad.yml" in err and "not valid YAML" in err


def test_json_and_sarif_carry_the_ci_files_and_codes(tmp_path):
    root = repo(tmp_path, {".github/workflows/docker.yml": workflow(BUILD)})
    _, out, _ = cli(root, "--check", "--select", "ci-cache", "--format", "json", ".")
    files = {f["path"]: f for f in json.loads(out)["files"]}
    assert [x["code"] for x in files[".github/workflows/docker.yml"]["fixes"]] == ["DF802", "DF801"]
    _, out, _ = cli(root, "--check", "--select", "ci-cache", "--format", "sarif", ".")
    run_ = json.loads(out)["runs"][0]
    assert {r["ruleId"] for r in run_["results"]} == {"DF801", "DF802"}
    assert {"DF801", "DF802", "DF803"} <= {r["id"] for r in run_["tool"]["driver"]["rules"]}


def test_explain_prints_the_page():
    assert run(["--explain", "DF801"]) == 0


# --- the checklist's CI items ----------------------------------------------------------------------------

def checklist_of(root: Path):
    from dockfix.checklist import checklist
    from dockfix.ci_files import ci_report
    from dockfix.context import Context
    from dockfix.syntax import parse

    path = root / "Dockerfile"
    return checklist(parse(path.read_text()), Context.for_dockerfile(path), ci=ci_report(path))


def test_checklist_a_build_without_a_cache_fails_and_ci_cache_fixes_it(tmp_path):
    root = repo(tmp_path, {".github/workflows/docker.yml": workflow(BUILD), "app.py": "print(1)\n"})
    result = checklist_of(root)
    assert result.item("buildkit").status == "pass"
    item = result.item("ci-cache")
    assert item.status == "fail" and item.fix == "ci-cache (safe)"


def test_checklist_a_cached_build_passes_and_no_ci_is_na(tmp_path):
    root = repo(tmp_path, {".github/workflows/docker.yml": workflow(BUILDX + BUILD + CACHE)})
    assert checklist_of(root).item("ci-cache").status == "pass"
    (root / ".github/workflows/docker.yml").unlink()
    assert checklist_of(root).item("ci-cache").status == "n/a"


def test_checklist_an_old_docker_in_gitlab_fails_buildkit(tmp_path):
    root = repo(tmp_path, {".gitlab-ci.yml": gitlab(image="docker:20.10.16")})
    result = checklist_of(root)
    assert result.item("buildkit").status == "fail" and "before 23" in result.item("buildkit").detail
    assert result.item("ci-cache").status == "fail" and not result.item("ci-cache").fixers


def test_hostile_ci_files_fail_alone_or_are_not_read(tmp_path):
    """A CI file nested thousands deep is an input error, not dockfix's bug; a FIFO or a link among the
    workflows is not read (a link could lead anywhere); alias chains (billion laughs) are not expanded."""
    laughs = "x: &a0 [1, 2]\n" + "".join(f"x{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" for i in range(1, 40))
    root = repo(tmp_path, {".github/workflows/deep.yml": "a: " + "[" * 5000 + "]" * 5000 + "\n",
                           ".github/workflows/laughs.yml": laughs + "jobs: {}\n"})
    os.mkfifo(root / ".github/workflows/fifo.yml")
    (root / ".github/workflows/link.yml").symlink_to(root / "Dockerfile")
    code, out, err = cli(root, "--check", "--select", "ci-cache", ".")
    assert code == 2 and "deep.yml" in err and "nested too deeply" in err and "bug" not in err
    assert "fifo.yml" not in err + out and "link.yml" not in err + out


def test_a_pragma_on_the_step_before_does_not_split_the_setup_step_from_the_cache(tmp_path):
    """The setup step is inserted after the previous step: a suppression of that step is not one of the
    build step, and the two fixes are taken together."""
    root = repo(tmp_path, {})
    text = workflow("      # dockfix: ignore\n      - uses: actions/checkout@v4\n" + BUILD)
    out = rewrite(root, text)
    assert sorted(f.code for f in out.fixes) == ["DF801", "DF802"]


def test_a_docker_driver_builder_is_left_alone(tmp_path):
    root = repo(tmp_path, {})
    text = workflow("      - uses: docker/setup-buildx-action@v3\n        with:\n          driver: docker\n" + BUILD)
    out = rewrite(root, text)
    assert out.output == text and "docker driver" in out.notes[0].message


def test_checklist_a_docker_build_in_a_run_step_counts_as_a_build_without_a_cache(tmp_path):
    root = repo(tmp_path, {".github/workflows/docker.yml": workflow("      - run: docker build -t app .\n")})
    result = checklist_of(root)
    assert result.item("buildkit").status == "pass"  # ubuntu-latest's docker builds with BuildKit
    assert result.item("ci-cache").status == "fail" and not result.item("ci-cache").fixers
