"""The lab's own logic, without Docker: fixture loading, smoke.toml checks,
base-image recipe hashing, config comparison and report rendering."""

from __future__ import annotations

import json
import re

import pytest

from lab import bases, fixtures, measure, regression, report
from lab.measure import VariantResult

GOOD = """
[smoke]
http = { port = 8000, path = "/health" }
expect = "ok"

[change.code]
touch = "app.py"

[change.dependency]
append = { file = "requirements.txt", text = "six\\n" }
"""


def test_every_lab_fixture_loads_and_has_an_expert():
    fxs = fixtures.discover()
    assert len(fxs) >= 10
    for fx in fxs:
        # a regression fixture proves a rewrite is known or refused; no expert to compare with
        assert fx.has_expert or fx.regression is not None, fx.name
        assert fx.dockerfile.is_file()


def test_issue_12_classes_each_have_a_regression_fixture():
    """Know or refuse (issue 12): a fixture per class whose rewrite by the dockfix before that
    work failed (python -m lab.regression checks it), and which the lab builds today."""
    regs = {fx.name: fx.regression for fx in fixtures.discover() if fx.regression is not None}
    for name in ("recommends-ca-certificates", "psycopg2-requirements-include", "entrypoint-ps",
                 "console-script-path", "nonroot-uid-arg", "bytecode-author-said-no", "split-nothing-to-gain"):
        reg = regs[name]
        assert reg.issue == 12 and reg.dockfix and reg.failure and reg.stage in fixtures.REGRESSION_STAGES


REGRESSION = GOOD + """
[regression]
dockfix = "d6cc797"
stage = "smoke"
failure = "ps: not found"
issue = 12
"""


def test_regression_table_parses_and_is_optional():
    assert fixtures.parse_regression(GOOD) is None
    reg = fixtures.parse_regression(REGRESSION)
    assert reg == fixtures.Regression(dockfix="d6cc797", stage="smoke", failure="ps: not found", issue=12)


@pytest.mark.parametrize("old, new, message", [
    ('stage = "smoke"', 'stage = "run"', "`stage` must be one of build, smoke, size"),
    ('failure = "ps: not found"', 'failure = ""', "`failure` must not be empty"),
    ('dockfix = "d6cc797"\n', "", "missing `dockfix`"),
    ("issue = 12", 'issue = "12"', "`issue` must be int"),
])
def test_regression_table_errors_name_the_key(old, new, message):
    with pytest.raises(fixtures.FixtureError, match=message.replace("`", ".")):
        fixtures.parse_regression(REGRESSION.replace(old, new))


def _judged(stage: str, text: str) -> regression.RegressionResult:
    reg = fixtures.Regression(dockfix="old", stage="smoke", failure="ps: not found")
    res = regression.RegressionResult(fixture="f", revision="old")
    regression.judge(res, reg, stage, text)
    return res


def test_regression_counts_only_the_recorded_failure():
    ok = _judged("smoke", "exit 127: ./docker-entrypoint.sh: 4: ps: not found")
    assert ok.status == "failed as recorded" and ok.line_found
    assert "ps: not found" in ok.evidence
    assert _judged("build", "ps: not found").status == "failed otherwise"  # wrong stage
    other = _judged("smoke", "exit 1: ImportError")
    assert other.status == "failed otherwise" and not other.line_found
    assert _judged("", "entrypoint ok").status == "passed"
    md = regression.markdown([ok, other], {"engine": "26.1"})
    assert "| f | old | failed as recorded | smoke | `ps: not found` |" in md
    assert "failed otherwise" in md


def test_build_args_are_optional_and_checked():
    assert fixtures.parse_build_args(GOOD) == ()
    assert fixtures.parse_build_args(GOOD + '[build]\nargs = { USER_UID = "1001" }\n') == (("USER_UID", "1001"),)
    with pytest.raises(fixtures.FixtureError, match="maps build argument names to strings"):
        fixtures.parse_build_args(GOOD + "[build]\nargs = { USER_UID = 1001 }\n")
    with pytest.raises(fixtures.FixtureError, match="unknown keys"):
        fixtures.parse_build_args(GOOD + "[build]\ntarget = 'x'\n")
    assert fixtures.load(fixtures.FIXTURES_DIR / "nonroot-uid-arg").build_args == (("USER_UID", "1001"),)


def test_a_size_regression_is_an_image_larger_than_the_original():
    reg = fixtures.Regression(dockfix="old", stage="size", failure=regression.LARGER)
    res = regression.RegressionResult(fixture="f", revision="old")
    regression.judge(res, reg, "size", f"{regression.LARGER}: 171.8 MB (old dockfix) against 150.2 MB (original)")
    assert res.status == "failed as recorded"


def test_regression_source_of_an_unknown_revision_is_unavailable(tmp_path):
    with pytest.raises(regression.SourceUnavailable):
        regression.old_source("0" * 40, tmp_path)


def test_debian_slim_has_no_ca_bundle_but_the_proxy_ca_waits_for_ca_certificates():
    # the CA goes where update-ca-certificates (ca-certificates' postinst) picks it up
    assert bases.DEBIAN_SLIM.needs_ca and bases.LOCAL_CA.startswith("usr/local/share/ca-certificates/")
    assert bases.LOCAL_CA.endswith(".crt") and bases.LOCAL_CA in bases.DEBIAN_SLIM.text


def test_fixtures_cover_the_required_styles():
    texts = {fx.name: fx.dockerfile.read_text() for fx in fixtures.discover()}
    joined = "\n".join(texts.values())
    assert "uv sync" in joined and "uv\", \"run\"" in joined
    assert "requirements.txt" in joined and "poetry install" in joined
    assert "libpq-dev" in joined and "pip install --no-cache-dir ." in joined
    assert "USER " in joined and "RUN <<" in joined
    assert any(t.count("\nFROM ") + t.startswith("FROM ") > 1 for t in texts.values())
    assert any("python" not in t.split("\n", 3)[0] and t.startswith("FROM debian") for t in texts.values())


def test_smoke_toml_parses_http_and_append():
    smoke, touch, dep, _ = fixtures.parse_smoke_toml(GOOD)
    assert smoke.http_port == 8000 and smoke.http_path == "/health" and smoke.command is None
    assert touch == "app.py"
    assert dep.append_file == "requirements.txt" and dep.append_text == "six\n"


@pytest.mark.parametrize("text, message", [
    ("[smoke", "not valid TOML"),
    (GOOD.replace('http = { port = 8000, path = "/health" }', ""), "exactly one of `command` or `http`"),
    (GOOD.replace('expect = "ok"', 'expect = ""'), "`expect` must not be empty"),
    (GOOD.replace('path = "/health"', 'path = "health"'), "must start with /"),
    (GOOD.replace('[change.code]\ntouch = "app.py"', ""), "missing `code`"),
    (GOOD.replace('append = { file = "requirements.txt", text = "six\\n" }', 'append = { file = "r.txt" }'),
     "`append` needs `file` and `text`"),
    (GOOD.replace('append = { file = "requirements.txt", text = "six\\n" }', ""), "give `add`, `overlay`, `append` or `none`"),
    (GOOD.replace("[smoke]\n", "[smoke]\ncommand = ['x']\n"), "exactly one"),
    (GOOD.replace("[smoke]\n", "[smoke]\ntimeout = -1\n"), "positive"),
])
def test_smoke_toml_errors_name_the_problem(text, message):
    with pytest.raises(fixtures.FixtureError, match=message.replace("`", ".").replace("/", ".")):
        fixtures.parse_smoke_toml(text)


def test_load_checks_the_files_smoke_toml_names(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (tmp_path / "smoke.toml").write_text(GOOD)
    with pytest.raises(fixtures.FixtureError, match="app.py does not exist"):
        fixtures.load(tmp_path)
    (tmp_path / "app.py").write_text("print(1)\n")
    (tmp_path / "requirements.txt").write_text("")
    fx = fixtures.load(tmp_path)
    assert not fx.has_expert and fx.name == tmp_path.name


def test_context_copy_leaves_lab_files_out_and_applies_changes(tmp_path):
    fx = next(f for f in fixtures.discover() if f.name == "pip-install-dot")  # an overlay: no network
    ctx = tmp_path / "ctx"
    df = fx.copy_context(ctx, "expert")
    assert df.read_text() == fx.expert.read_text()
    assert (ctx / ".dockerignore").is_file()
    assert not (ctx / "smoke.toml").exists() and not (ctx / "changes").exists()
    before = (ctx / fx.code_touch).read_text()
    fx.apply_code_change(ctx)
    assert (ctx / fx.code_touch).read_text().startswith(before)
    assert fx.apply_dependency_change(ctx)
    assert "six" in (ctx / "pyproject.toml").read_text()


def test_recipe_digest_is_stable_and_follows_parents():
    assert bases.PYTHON_SLIM.digest() == bases.PYTHON_SLIM.digest()
    changed = bases.Recipe(tags=["x"], kind="dockerfile", text=bases.PY_SLIM + "\n",
                           parents=[bases.DEBIAN_SLIM], needs_ca=True)
    assert changed.digest() != bases.PYTHON_SLIM.digest()
    other_parent = bases.Recipe(tags=["d"], kind="debootstrap", text="other")
    reparented = bases.Recipe(tags=["x"], kind="dockerfile", text=bases.PY_SLIM,
                              parents=[other_parent], needs_ca=True)
    assert reparented.digest() != bases.PYTHON_SLIM.digest()
    assert bases.uv_recipe("0.5.1").digest() != bases.uv_recipe("0.5.2").digest()


def test_recipes_keep_the_official_interpreter_path():
    for recipe in (bases.PYTHON_SLIM, bases.PYTHON_FULL):
        assert "ln -sf /usr/bin/python3.11 /usr/local/bin/$n" in recipe.text
        assert "EXTERNALLY-MANAGED" in recipe.text
        # the CA bundle is copied after ca-certificates is installed
        assert recipe.text.index("apt-get install") < recipe.text.index("COPY ca-certificates.crt")
    assert "libpq-dev" in bases.PYTHON_FULL.text and "libpq-dev" not in bases.PYTHON_SLIM.text


def test_image_refs_map_to_recipes():
    text = ("FROM python:3.11 AS build\nCOPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /bin/\n"
            "FROM python:3.11-slim\nCOPY --from=build /a /a\n")
    assert bases.images_used(text) == {"python:3.11", "python:3.11-slim",
                                       "ghcr.io/astral-sh/uv:0.13.9", "build"}
    assert bases.recipe_for("python:3.11") is bases.PYTHON_FULL
    assert bases.recipe_for("ghcr.io/astral-sh/uv:latest").build_args == {"UV_VERSION": bases.DEFAULT_UV_VERSION}
    assert bases.recipe_for("python:3.12-slim") is None
    with pytest.raises(ValueError):
        bases.uv_version_for_tag("python3.12-bookworm")


def test_syntax_directive_is_dropped_other_directives_kept(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_bytes(b"# syntax=docker/dockerfile:1.4\n# escape=`\nFROM x\n# syntax=not-a-directive\n")
    assert measure.drop_syntax_directive(df)
    assert df.read_bytes() == b"# escape=`\nFROM x\n# syntax=not-a-directive\n"
    assert not measure.drop_syntax_directive(df)


def test_config_compare_allows_what_dockfix_adds():
    orig = {"Cmd": ["python", "app.py"], "User": "app", "Env": ["PATH=/usr/local/bin:/usr/bin", "A=1"],
            "ExposedPorts": {"8000/tcp": {}}, "Labels": None}
    new = dict(orig, Env=["PATH=/app/.venv/bin:/usr/local/bin:/usr/bin", "A=1", "UV_COMPILE_BYTECODE=1",
                          "VIRTUAL_ENV=/app/.venv"], Labels={})
    assert measure.compare_config(orig, new, uv_in_final_stage=True) == []
    # a runtime that runs no uv gets none of the builder's uv settings (issue 13, item 4)
    assert measure.compare_config(orig, new) == ["Env UV_COMPILE_BYTECODE: None -> '1'"]
    worse = dict(new, User="", Env=["PATH=/usr/local/bin:/usr/bin"])
    diffs = measure.compare_config(orig, worse)
    assert any(d.startswith("User") for d in diffs) and any(d.startswith("Env A") for d in diffs)


def test_only_a_final_stage_that_runs_uv_may_carry_uv_settings():
    uv = "COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /bin/\n"
    single = f"FROM python:3.11\n{uv}ENV UV_LINK_MODE=copy\nRUN --mount=type=cache,target=/root/.cache/uv \\\n    uv sync --locked\n"
    split = (f"FROM python:3.11 AS builder\n{uv}ENV UV_LINK_MODE=copy\nRUN uv sync --locked\n\n"
             "FROM python:3.11-slim\nCOPY --from=builder /app/.venv /app/.venv\nRUN echo uv is not run here\n")
    assert measure.final_stage_runs_uv(single)
    assert not measure.final_stage_runs_uv(split)
    assert not measure.final_stage_runs_uv("")


def _vr(variant, size, cold, code, dep=None, status="ok", reruns=None):
    return VariantResult(fixture="demo", variant=variant, status=status, size_bytes=size,
                         cold_s=cold, code_rebuild_s=code, dep_rebuild_s=dep, code_reruns=reruns,
                         changed=True if variant == "dockfix" else None)


def test_report_ratios_targets_and_markdown(tmp_path):
    results = [_vr("original", 1000e6, 60, 50, 55, reruns=["RUN pip install -r requirements.txt"]),
               _vr("dockfix", 210e6, 40, 5, 23), _vr("expert", 200e6, 38, 4, 18)]
    rows = report.summarize(results)
    d = next(r for r in rows if r["variant"] == "dockfix")
    assert d["size_vs_expert"] == pytest.approx(1.05)
    assert d["code_vs_original"] == pytest.approx(0.1)
    t = report.targets(rows)
    assert t["size"] == [1, 1] and t["cold"] == [1, 1] and t["code"] == [1, 1]
    assert t["dep_vs_original"] == [1, 1] and t["dep_vs_expert"] == [0, 1]  # 23 s > 1.2 x 18 s
    js, md = report.write(rows, results, {"engine": "26.1.5", "fixtures": 1, "total_s": 10}, tmp_path)
    assert json.loads(js.read_text())["targets"]["builds_smoke_same_config"] == 1
    text = md.read_text()
    assert "| demo | dockfix | ok | 210.0 |" in text and "1.05×" in text
    assert "| demo | 1.05× ✓ | 0.67× ✓ | 0.42× ✓ | 1.28× ✗ | 0.10× ✓ |" in text


def test_targets_leave_out_unchanged_files_and_originals_that_reinstall_nothing():
    results = [_vr("original", 1e8, 10, 1, 1, reruns=["RUN chmod +x docker-entrypoint.sh"]),
               _vr("dockfix", 1e8, 9, 0.1, 1), _vr("expert", 1e8, 9, 1, 1)]
    assert report.fixture_targets(report.summarize(results))[0]["code"] is None  # no install re-ran
    for run in ("RUN uv sync --locked", "RUN pip install --no-cache-dir .", "RUN poetry install --no-root",
                "RUN --mount=type=cache,target=/root/.cache/uv uv pip install -r requirements.txt"):
        results[0].code_reruns = [run]
        assert report.fixture_targets(report.summarize(results))[0]["code"] is True, run
    results[1].changed = False
    assert report.targets(report.summarize(results))["dockfix_changed"] == 0


def test_report_handles_not_run_and_failures():
    results = [_vr("original", 1e8, 1, 1), _vr("dockfix", None, None, None, status="not run"),
               _vr("expert", None, None, None, status="build failed")]
    rows = report.summarize(results)
    assert "size_vs_original" not in rows[1]
    md = report.markdown(rows, {})
    assert "not run" in md and "build failed" in md
    assert report.targets(rows)["dockfix_ran"] == 0


def test_lab_command_rejects_unknown_variants(capsys):
    from lab.__main__ import main
    with pytest.raises(SystemExit):
        main(["--variants", "original,nope"])
    assert "unknown variants" in capsys.readouterr().err


PLAIN_LOG = """\
#5 [1/4] FROM docker.io/library/python:3.11
#5 DONE 0.0s
#6 [2/4] COPY requirements.txt /app/
#6 CACHED
#7 [3/4] RUN pip install -r requirements.txt
#7 CACHED
#8 [4/4] COPY . /app
#8 DONE 0.1s
#9 [stage-1 5/5] RUN python -m compileall /app
#9 0.301 Listing '/app'...
#9 DONE 0.4s
"""


def test_rerun_steps_lists_runs_not_taken_from_the_cache():
    assert measure.rerun_steps(PLAIN_LOG) == ["RUN python -m compileall /app"]
    assert measure.rerun_steps(PLAIN_LOG.replace("#7 CACHED\n", "")) == [
        "RUN pip install -r requirements.txt", "RUN python -m compileall /app"]


def test_the_lab_installs_a_missing_engine_itself(monkeypatch):
    from lab import engine

    calls = []
    monkeypatch.setattr(engine, "missing_reason", lambda: "/usr/sbin/dockerd is missing")
    monkeypatch.setattr(engine.os, "geteuid", lambda: 0)
    monkeypatch.delenv("DOCKFIX_LAB_INSTALL", raising=False)

    def run(cmd, **kw):
        calls.append(cmd)
        return engine.subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(engine.subprocess, "run", run)
    engine.ensure_installed(log=lambda _: None)
    assert calls == [["bash", str(engine.SETUP)]] and engine.SETUP.is_file()

    calls.clear()
    monkeypatch.setenv("DOCKFIX_LAB_INSTALL", "0")
    engine.ensure_installed(log=lambda _: None)
    assert calls == []

    monkeypatch.delenv("DOCKFIX_LAB_INSTALL")
    monkeypatch.setattr(engine, "subprocess", engine.subprocess)
    monkeypatch.setattr(engine.subprocess, "run",
                        lambda cmd, **kw: engine.subprocess.CompletedProcess(cmd, 100, "", "E: no network"))
    with pytest.raises(engine.EngineUnavailable, match="lab-setup failed with exit 100"):
        engine.ensure_installed(log=lambda _: None)


def test_from_line_reads_the_global_args_defaults():
    text = ("ARG PYTHON_VERSION=3.11\nARG TAG\nFROM python:${PYTHON_VERSION}-slim AS base\n"
            "FROM python:$PYTHON_VERSION\nFROM debian:${TAG:-bookworm-slim}\nFROM x:${TAG}\n")
    assert bases.images_used(text) == {"python:3.11-slim", "python:3.11", "debian:bookworm-slim", "x:${TAG}"}
    assert bases.recipe_for("python:3.11-slim") is bases.PYTHON_SLIM


@pytest.mark.parametrize("spec, smoke", [
    ("http GET :8000/health -> ok", fixtures.Smoke(http_port=8000, http_path="/health", expect="ok")),
    ("http GET localhost:5000 -> hello world", fixtures.Smoke(http_port=5000, http_path="/", expect="hello world")),
    ("run wordcount 'a b' c -> 2 words", fixtures.Smoke(command=("wordcount", "a b", "c"), expect="2 words")),
    ("run -> report ok", fixtures.Smoke(command=(), expect="report ok")),
])
def test_smoke_spec_of_the_command_line(spec, smoke):
    assert fixtures.parse_smoke_spec(spec) == smoke


@pytest.mark.parametrize("spec, message", [
    ("http GET :8000/health", "expected 'http GET"),
    ("http POST :8000/ -> ok", "only `http GET"),
    ("http GET /health -> ok", "is not :PORT/PATH"),
    ("curl :8000 -> ok", "expected 'http GET"),
])
def test_smoke_spec_errors_say_what_is_expected(spec, message):
    with pytest.raises(fixtures.FixtureError, match=re.escape(message)):
        fixtures.parse_smoke_spec(spec)


def test_an_app_folder_without_smoke_toml_needs_smoke(tmp_path):
    with pytest.raises(fixtures.FixtureError, match="no Dockerfile"):
        fixtures.load(tmp_path, smoke="run -> x")
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    with pytest.raises(fixtures.FixtureError, match="no smoke.toml and no --smoke"):
        fixtures.load(tmp_path)
    fx = fixtures.load(tmp_path, smoke="http GET :8000/ -> ok")
    assert fx.smoke.http_port == 8000 and fx.code_touch is None and not fx.has_expert
    assert not fx.apply_code_change(tmp_path) and not fx.apply_dependency_change(tmp_path)
    with pytest.raises(fixtures.FixtureError, match="app.py does not exist"):
        fixtures.load(tmp_path, smoke="run -> x", touch="app.py")
    with pytest.raises(fixtures.FixtureError, match="no uv.lock, poetry.lock or requirements.txt"):
        fixtures.load(tmp_path, smoke="run -> x", add="six")


def test_added_dependency_goes_to_requirements_or_names_the_lock_tool(tmp_path):
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    assert fixtures.add_dependency(tmp_path, "six==1.17.0") == "appended to requirements.txt"
    assert (tmp_path / "requirements.txt").read_text() == "flask==3.0.3\nsix==1.17.0\n"
    (tmp_path / "poetry.lock").write_text("# not written by poetry\n")
    with pytest.raises(fixtures.FixtureError, match="which Poetry re-locks it"):
        fixtures.add_dependency(tmp_path, "six")


def test_every_lockfile_fixture_relocks_with_its_own_tool():
    """A dependency change of a uv or poetry project goes through `uv add` / `poetry add`
    (issue 13), not a hand-made lockfile."""
    for fx in fixtures.discover():
        if (fx.path / "uv.lock").is_file() or (fx.path / "poetry.lock").is_file():
            assert fx.dependency.add or fx.dependency.none, fx.name


def test_a_time_is_the_minimum_of_its_samples_and_the_table_shows_the_spread(tmp_path):
    r = _vr("original", 1e8, None, None)
    r.cold_samples, r.code_samples, r.dep_samples, r.load = [3.0, 2.5, 4.0], [0.5], [], "1.0–2.0"
    assert r.settle() is r and (r.cold_s, r.code_rebuild_s, r.dep_rebuild_s) == (2.5, 0.5, None)
    md = report.markdown(report.summarize([r]), {"repeat": 3})
    assert "| 2.5 (+1.5) | 0.5 |" in md and "| 1.0–2.0 |" in md and "ran 3 time(s)" in md


def test_repetitions_interleave_the_variants_and_start_from_the_same_state(tmp_path, monkeypatch):
    """--repeat N: each repetition builds every variant in turn (a burst of load falls on all of
    them), starting with the next one each time, each from the pristine context and an empty
    build cache (a cold build prunes it)."""
    fx = next(f for f in fixtures.discover() if f.name == "flask-requirements")
    calls, seconds = [], iter([5.0, 1.0, 2.0, 6.0, 1.5, 2.5, 4.0, 1.2, 3.0, 7.0, 0.9, 2.0])

    def timed(kind):
        def build(engine, ctx, tag, log_path, build_args=()):
            touched = (ctx / fx.code_touch).read_text().count("# lab: code-only change")
            deps = (ctx / "requirements.txt").read_text().count("six==")
            calls.append((kind, tag.rsplit(":", 1)[1], touched, deps))
            return True, next(seconds), ""
        return build

    monkeypatch.setattr(measure, "cold_build", timed("cold"))
    monkeypatch.setattr(measure, "build", timed("rebuild"))
    monkeypatch.setattr(measure, "smoke_test", lambda engine, tag, smoke: (True, "ok"))
    monkeypatch.setattr(measure, "image_config", lambda engine, tag: ({}, 1))
    monkeypatch.setattr(bases, "ensure_for", lambda engine, texts, log: [])
    out = measure.run_fixture(None, fx, tmp_path, None, ("original", "expert"), True, lambda m: None, repeat=2)
    first = [("cold", "original"), ("rebuild", "original"), ("rebuild", "original"),
             ("cold", "expert"), ("rebuild", "expert"), ("rebuild", "expert")]
    assert [c[:2] for c in calls] == first + first[3:] + first[:3]  # the second starts with the next variant
    assert [c[2:] for c in calls if c[0] == "cold"] == [(0, 0)] * 4  # the pristine context every time
    original, expert = out
    assert original.cold_samples == [5.0, 7.0] and original.cold_s == 5.0 and original.code_rebuild_s == 0.9
    assert expert.dep_samples == [2.5, 3.0] and expert.dep_rebuild_s == 2.5 and original.load


def test_repeat_must_be_at_least_one(capsys):
    from lab.__main__ import main
    with pytest.raises(SystemExit):
        main(["--repeat", "0"])
    assert "--repeat must be at least 1" in capsys.readouterr().err


def test_a_later_repetition_that_fails_is_recorded_beside_the_status(tmp_path, monkeypatch):
    """The first repetition decides the status; a build of a later one that fails (the network,
    here) is reported beside it, and that variant's repetitions stop."""
    fx = next(f for f in fixtures.discover() if f.name == "flask-requirements")
    colds = iter([True, False])

    def cold(engine, ctx, tag, log_path, build_args=()):
        return next(colds), 3.0, "E: Unable to locate package libpq5"

    monkeypatch.setattr(measure, "cold_build", cold)
    monkeypatch.setattr(measure, "build", lambda engine, ctx, tag, log_path, build_args=(): (True, 1.0, ""))
    monkeypatch.setattr(measure, "smoke_test", lambda engine, tag, smoke: (True, "ok"))
    monkeypatch.setattr(measure, "image_config", lambda engine, tag: ({}, 1))
    monkeypatch.setattr(bases, "ensure_for", lambda engine, texts, log: [])
    [r] = measure.run_fixture(None, fx, tmp_path, tmp_path / "logs", ("original",), True, lambda m: None, repeat=3)
    assert r.status == "ok" and r.smoke_after_changes == "ok" and r.cold_samples == [3.0]
    assert r.repeat_failure == "repetition 2: cold build failed (repetition 2)"
    assert "repetition 2: cold build failed" in report.markdown(report.summarize([r]), {})


def test_dockfix_runs_once_before_the_builds_and_its_output_is_kept(tmp_path, monkeypatch):
    """prepare_variant runs before any build, so it makes the results folder itself."""
    fx = next(f for f in fixtures.discover() if f.name == "flask-requirements")
    monkeypatch.setattr(bases, "ensure_for", lambda engine, texts, log: [])
    logs = tmp_path / "not-yet"
    p = measure.prepare_variant(None, fx, "dockfix", tmp_path, logs, lambda m: None)
    assert isinstance(p, measure.Prepared) and p.res.changed
    assert (logs / "flask-requirements.dockfix.Dockerfile").read_bytes() == (p.pristine / "Dockerfile").read_bytes()


def test_each_rebuild_records_the_run_steps_it_re_ran(tmp_path, monkeypatch):
    """Issue 13, item 5: the code-change and the dependency-change rebuild each record which RUN
    steps they executed (from the plain log: not CACHED); the table and a section show both."""
    fx = next(f for f in fixtures.discover() if f.name == "flask-requirements")
    code_log = PLAIN_LOG
    dep_log = PLAIN_LOG.replace("#7 CACHED\n", "#7 DONE 3.0s\n")  # the install ran again
    logs = iter([code_log, dep_log])
    monkeypatch.setattr(measure, "cold_build", lambda engine, ctx, tag, log_path, build_args=(): (True, 3.0, ""))
    monkeypatch.setattr(measure, "build", lambda engine, ctx, tag, log_path, build_args=(): (True, 1.0, next(logs)))
    monkeypatch.setattr(measure, "smoke_test", lambda engine, tag, smoke: (True, "ok"))
    monkeypatch.setattr(measure, "image_config", lambda engine, tag: ({}, 1))
    monkeypatch.setattr(bases, "ensure_for", lambda engine, texts, log: [])
    [r] = measure.run_fixture(None, fx, tmp_path, None, ("original",), True, lambda m: None, repeat=1)
    assert r.code_reruns == ["RUN python -m compileall /app"]
    assert r.dep_reruns == ["RUN pip install -r requirements.txt", "RUN python -m compileall /app"]
    md = report.markdown(report.summarize([r]), {})
    assert "| 1.0 | 1 | 1.0 | 2 |" in md
    section = md[md.index("## RUN steps a dependency change re-ran"):]
    assert "`RUN pip install -r requirements.txt`; `RUN python -m compileall /app`" in section


class _ExitedContainer:
    """An engine whose container exits at once (uwsgi without libxml2): `docker port` fails."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def docker(self, *args: str, check: bool = True, **_):
        import subprocess

        self.calls.append(args)
        answers = {"run": (0, "c0ffee\n", ""), "port": (1, "", "Error: No public port '8000/tcp' published"),
                   "logs": (0, "", "uwsgi: error while loading shared libraries: libxml2.so.2: cannot open shared "
                                   "object file: No such file or directory\n"), "rm": (0, "", "")}
        code, out, err = answers[args[0]]
        if check and code:
            raise subprocess.CalledProcessError(code, ["docker", *args], out, err)
        return subprocess.CompletedProcess(["docker", *args], code, out, err)


def test_http_smoke_reports_the_log_of_a_container_that_exited_before_its_port_was_published():
    engine = _ExitedContainer()
    ok, output = measure._smoke_http(engine, "img", fixtures.Smoke(http_port=8000, expect="hello"))  # type: ignore[arg-type]
    assert not ok and "libxml2.so.2: cannot open shared object file" in output
    assert engine.calls[-1] == ("rm", "-f", "-v", "c0ffee")
