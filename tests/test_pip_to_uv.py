"""pip-to-uv: what it converts, what it refuses (and says why), and that it is a fixpoint."""

from __future__ import annotations

import pytest

from dockfix.context import Context
from dockfix.engine import run_pipeline
from dockfix.transforms import PIPELINE, pip_to_uv
from dockfix.transforms.pip_to_uv import UV_IMAGE

RUNTIME = """
FROM python:3.12-slim
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
CMD ["flask", "run"]
"""


def builder(install: str, before: str = "", runtime: str = RUNTIME) -> str:
    return ("FROM python:3.12 AS builder\n" + before + "RUN python -m venv /opt/venv\n"
            'ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"\n' + install + "\n" + runtime)


def run(text: str, files: dict[str, str] | None = None, full: bool = False):
    transforms = PIPELINE if full else (pip_to_uv.TRANSFORM,)
    return run_pipeline(text, Context(files=files or {}), transforms, unsafe=True)


def notes(outcome) -> list[str]:
    return [n.message for n in outcome.notes if n.transform == pip_to_uv.NAME]


def test_converts_a_builder():
    out = run(builder("RUN pip install flask==3.0.3")).output
    assert f"COPY --from={UV_IMAGE} /uv /uvx /bin/\n" in out
    assert "RUN uv venv --python /usr/local/bin/python /opt/venv\n" in out
    assert "RUN --mount=type=cache,target=/root/.cache/uv uv pip install flask==3.0.3\n" in out
    assert "ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1\n" in out
    assert "python -m venv" not in out and out.endswith(RUNTIME)


def test_safe_only_run_changes_nothing():
    text = builder("RUN pip install flask")
    assert run_pipeline(text, Context(files={}), (pip_to_uv.TRANSFORM,), unsafe=False).output == text


@pytest.mark.parametrize("install, program", [
    ("RUN pip3 install flask", "pip3"),
    ("RUN python -m pip install flask", "python -m pip"),
    ("RUN /opt/venv/bin/pip install flask", "/opt/venv/bin/pip"),
])
def test_every_spelling_of_pip(install, program):
    out = run(builder(install)).output
    assert "uv pip install" in out and program + " install" not in out


def test_pip_cache_mount_becomes_uv_cache_mount_and_no_cache_dir_goes():
    out = run(builder("RUN --mount=type=cache,target=/root/.cache/pip pip install --no-cache-dir flask")).output
    assert "RUN --mount=type=cache,target=/root/.cache/uv uv pip install flask\n" in out
    assert ".cache/pip" not in out


def test_no_compile_everywhere_leaves_bytecode_off():
    out = run(builder("RUN pip install --no-compile flask")).output
    assert "UV_COMPILE_BYTECODE" not in out and "--no-compile" not in out


def test_extra_index_asks_for_pips_best_match():
    out = run(builder("RUN pip install --extra-index-url https://x.example/simple flask")).output
    assert "UV_INDEX_STRATEGY=unsafe-best-match" in out


@pytest.mark.parametrize("install, files, reason", [
    ("RUN pip install --user flask", {}, "--user"),
    ("RUN pip install --install-option=--x flask", {}, "--install-option"),
    ("RUN pip install --frobnicate flask", {}, "--frobnicate"),
    ("RUN pip install --no-build-isolation flask", {}, "--no-build-isolation"),
    ("COPY requirements.txt .\nRUN pip install -r requirements.txt", {}, "not in the build context"),
    ("COPY requirements.txt .\nRUN pip install -r requirements.txt", {"requirements.txt": "x --global-option=y\n"},
     "--global-option"),
    ("COPY requirements.txt .\nRUN pip install -r requirements.txt", {"requirements.txt": "--prefer-binary\nx\n"},
     "--prefer-binary"),
    ("RUN pip install flask && python -c 'import pkg_resources'", {}, "line 4:"),
    ("RUN pip install flask && echo done", {}, "RUN mixes"),
    ("RUN pip install flask\nRUN pip list", {}, "uv venv does not have"),
    ("RUN pip install --upgrade pip && pip install flask", {}, "upgrades pip"),
    ("RUN PIP_INDEX_URL=https://x pip install flask", {}, "PIP_"),
], ids=["user", "install-option", "unknown", "no-build-isolation", "requirements-missing",
        "requirements-global-option", "requirements-unknown-option", "pkg-resources", "mixed", "pip-list", "upgrade-pip-mixed",
        "inline-pip-env"])
def test_refusals_say_why(install, files, reason):
    text = builder(install)
    outcome = run(text, files)
    assert outcome.output == text
    assert any(reason in m for m in notes(outcome)), notes(outcome)


@pytest.mark.parametrize("before, reason", [
    ("ARG PIP_EXTRA_INDEX_URL\n", "build argument"),
    ("ENV PIP_FIND_LINKS=/wheels\n", "PIP_FIND_LINKS"),
    ("COPY pip.conf /etc/pip.conf\n", "pip.conf"),
    ("ENV PIP_CONFIG_FILE=/pip.conf\n", "pip"),
    ('ENV PATH="/usr/bin:$PATH"\n', "ENV PATH"),
])
def test_stage_settings_refused(before, reason):
    text = builder("RUN pip install flask", before=before)
    outcome = run(text)
    assert outcome.output == text
    assert any(reason in m for m in notes(outcome)), notes(outcome)


@pytest.mark.parametrize("runtime_line", [
    'CMD ["pip", "list"]', "RUN python -m pip check", "RUN python -c 'import pkg_resources'",
    'ENTRYPOINT ["sh", "-c", "pip3 freeze && exec app"]',
])
def test_runtime_using_pip_refused(runtime_line):
    text = builder("RUN pip install flask", runtime=RUNTIME + runtime_line + "\n")
    outcome = run(text)
    assert outcome.output == text
    assert any("uv venv does not have" in m for m in notes(outcome))


def test_context_code_importing_pkg_resources_refused():
    text = builder("RUN pip install flask")
    outcome = run(text, {"app/main.py": "import os\nfrom pkg_resources import iter_entry_points\n"})
    assert outcome.output == text
    assert any("app/main.py imports pkg_resources" in m for m in notes(outcome))


def test_env_index_url_renamed():
    out = run(builder("RUN pip install flask", before="ENV PIP_INDEX_URL=https://idx.example/simple\n")).output
    assert "ENV UV_INDEX_URL=https://idx.example/simple\n" in out and "PIP_INDEX_URL" not in out


@pytest.mark.parametrize("text", [
    "FROM python:3.12\nRUN python -m venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH VIRTUAL_ENV=/opt/venv\n"
    "RUN pip install flask\n",  # one stage: nothing copies the venv
    "FROM python:3.12 AS b\nRUN python -m venv /v\nENV VIRTUAL_ENV=/v PATH=/v/bin:$PATH\nRUN pip install x\n"
    "FROM python:3.12-slim\nCOPY --from=b /app /app\n",  # the venv is not what is copied
])
def test_not_a_builder_is_silent(text):
    outcome = run(text)
    assert outcome.output == text and not notes(outcome)


def test_third_party_base_refused():
    text = builder("RUN pip install flask").replace("FROM python:3.12 AS", "FROM acme/python:3.12 AS")
    outcome = run(text)
    assert outcome.output == text
    assert any("not an official python image" in m for m in notes(outcome))


def test_full_pipeline_from_a_single_stage_file_is_a_fixpoint():
    source = ("FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
              "COPY . .\nCMD [\"gunicorn\", \"app:app\"]\n")
    files = {"requirements.txt": "flask==3.0.3\ngunicorn==22.0.0\n", "app.py": "import flask\n"}
    first = run(source, files, full=True)
    assert "uv pip install -r requirements.txt" in first.output
    assert "FROM python:3.12-slim" in first.output
    assert run(first.output, files, full=True).output == first.output


@pytest.mark.parametrize("install, reason", [
    ("RUN export PIP_FIND_LINKS=/wheels && pip install flask", "PIP_FIND_LINKS is set for the install"),
    ("RUN export PIP_INDEX_URL=https://i/simple && pip install flask", "PIP_INDEX_URL is set or read"),
    ("RUN pip install flask && export PIP_FIND_LINKS=/w && pip install x", "PIP_FIND_LINKS is set for the install"),
])
def test_a_pip_setting_exported_in_the_run_is_seen(install, reason):
    # (read once per shell text, from its last command's environment: an export before any install counts)
    text = builder(install)
    outcome = run(text)
    assert outcome.output == text
    assert any(reason in m for m in notes(outcome)), notes(outcome)


def test_exports_of_other_names_do_not_stop_a_conversion():
    out = run(builder("RUN export A=1 && pip install flask && pip install x")).output
    assert "uv pip install flask" in out
