"""bytecode: the decisions, as tables (whole rewrites: golden/bytecode/)."""

from __future__ import annotations

import pytest

from dockfix.context import Context
from dockfix.engine import run_pipeline
from dockfix.transforms import bytecode

UV = "FROM python:3.12-slim\nCOPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv\n"
LOCKED = {"uv.lock": "version = 1\n", "pyproject.toml": "[dependency-groups]\ndev = ['pytest']\n"}


def _run(text: str, files: dict[str, str] | None = None, unsafe: bool = True) -> str:
    return run_pipeline(text, Context(files=files or {}), [bytecode.TRANSFORM], unsafe=unsafe).output


SYNC = {
    "adds-both": ("COPY . .\nRUN uv sync\n", "COPY . .\nENV UV_COMPILE_BYTECODE=1\nRUN uv sync --locked --no-dev\n"),
    "keeps-frozen": ("COPY . .\nRUN uv sync --frozen --no-dev\n", "COPY . .\nENV UV_COMPILE_BYTECODE=1\nRUN uv sync --frozen --no-dev\n"),
    "only-group": ("COPY . .\nRUN uv sync --locked --only-group docs\n",
                   "COPY . .\nENV UV_COMPILE_BYTECODE=1\nRUN uv sync --locked --only-group docs\n"),
    "no-default-groups": ("COPY . .\nRUN uv sync --no-default-groups\n",
                          "COPY . .\nENV UV_COMPILE_BYTECODE=1\nRUN uv sync --locked --no-default-groups\n"),
    "uv-frozen-env": ("ENV UV_FROZEN=1\nCOPY . .\nRUN uv sync --no-dev\n",
                      "ENV UV_FROZEN=1\nCOPY . .\nENV UV_COMPILE_BYTECODE=1\nRUN uv sync --no-dev\n"),
    "lock-by-bind-mount": ("RUN --mount=type=bind,source=uv.lock,target=uv.lock uv sync --no-dev\n",
                           "ENV UV_COMPILE_BYTECODE=1\nRUN --mount=type=bind,source=uv.lock,target=uv.lock uv sync --locked --no-dev\n"),
    "lock-not-copied": ("COPY pyproject.toml .\nRUN uv sync\n", "COPY pyproject.toml .\nENV UV_COMPILE_BYTECODE=1\nRUN uv sync\n"),
    "other-directory": ("COPY . .\nRUN cd sub && uv sync\n", "COPY . .\nENV UV_COMPILE_BYTECODE=1\nRUN cd sub && uv sync\n"),
    "heredoc": ("COPY . .\nRUN <<EOF\nuv sync\nEOF\n", "COPY . .\nENV UV_COMPILE_BYTECODE=1\nRUN <<EOF\nuv sync --locked --no-dev\nEOF\n"),
    "inline-compile": ("COPY . .\nRUN UV_COMPILE_BYTECODE=1 uv sync --locked --no-dev\n", None),
    "compile-flag": ("COPY . .\nRUN uv sync --compile-bytecode --locked --no-dev\n", None),
}


@pytest.mark.parametrize("body,expected", SYNC.values(), ids=SYNC.keys())
def test_uv_sync(body, expected):
    assert _run(UV + body, LOCKED) == UV + (body if expected is None else expected)


def test_no_dev_only_when_the_project_has_dev_dependencies():
    files = {"uv.lock": "version = 1\n", "pyproject.toml": "[project]\nname = 'a'\n"}
    assert _run(UV + "COPY . .\nRUN uv sync\n", files).endswith("RUN uv sync --locked\n")


def test_unsafe_parts_need_the_opt_in():
    assert _run(UV + "COPY . .\nRUN uv sync\n", LOCKED, unsafe=False).endswith("ENV UV_COMPILE_BYTECODE=1\nRUN uv sync\n")


def test_joins_an_adjacent_env_line_of_its_own_settings_only():
    joined = _run(UV + "ENV UV_LINK_MODE=copy\nRUN uv pip install --system x\n")
    assert joined == UV + "ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1\nRUN uv pip install --system x\n"
    apart = _run(UV + "ENV PATH=/v/bin:$PATH\nRUN uv pip install --system x\n")
    assert apart == UV + "ENV PATH=/v/bin:$PATH\nENV UV_COMPILE_BYTECODE=1\nRUN uv pip install --system x\n"


def test_pip_compile_env_is_left_with_a_note():
    text = "FROM python:3.12\nENV PIP_NO_COMPILE=1\nRUN pip install x\n"
    out = run_pipeline(text, Context(files={}), [bytecode.TRANSFORM], unsafe=True)
    assert out.output == text
    assert any("PIP_NO_COMPILE" in n.message for n in out.notes)


# Know or refuse: where the author or the way the container starts says no, UV_COMPILE_BYTECODE
# is not added, and the note says why (issue: bytecode where the author or the runtime says no).
REFUSED = {
    "dont-write-bytecode": ("ENV PYTHONDONTWRITEBYTECODE=1\nRUN uv pip install --system flask\n",
                            "the author set PYTHONDONTWRITEBYTECODE"),
    "author-comment": ("# we ship no .pyc files\nRUN uv pip install --system flask\n",
                       "the author wrote about bytecode (line 3)"),
    "uv-run-cmd": ("COPY . .\nRUN uv sync\nCMD uv run app\n", "the container starts with `uv run` (line 5)"),
    "uv-run-entrypoint": ('COPY . .\nRUN uv sync\nENTRYPOINT ["/bin/uv", "run", "app"]\n',
                          "the container starts with `uv run` (line 5)"),
}


@pytest.mark.parametrize("body,why", REFUSED.values(), ids=REFUSED.keys())
def test_bytecode_left_alone_where_the_author_or_the_start_says_no(body, why):
    outcome = run_pipeline(UV + body, Context(files={}), [bytecode.TRANSFORM], unsafe=True)
    assert "UV_COMPILE_BYTECODE" not in outcome.output
    assert any(n.message.startswith(f"UV_COMPILE_BYTECODE not added: {why}") for n in outcome.notes), outcome.notes


@pytest.mark.parametrize("body", ["COPY . .\nRUN uv sync\nCMD uv run --no-sync app\n",
                                  "ENV UV_NO_SYNC=1\nCOPY . .\nRUN uv sync\nCMD uv run app\n",
                                  "ENV PYTHONDONTWRITEBYTECODE=0\nRUN uv pip install --system flask\n"])
def test_bytecode_added_when_the_start_does_not_sync(body):
    assert "ENV UV_COMPILE_BYTECODE=1" in _run(UV + body)


def _notes(text: str, files: dict[str, str]) -> list[str]:
    return [n.message for n in run_pipeline(text, Context(files=files), [bytecode.TRANSFORM], unsafe=True).notes]


OUTSIDE = {  # a file of the repository that runs the image -> is --no-dev refused?
    "compose-uv-run": ("docker-compose.yml", "services:\n  web:\n    build: .\n    command: uv run python manage.py runserver\n", True),
    "compose-no-sync": ("compose.yaml", "services:\n  web:\n    build: .\n    command: uv run --no-sync gunicorn app\n", False),
    "makefile-compose-run": ("Makefile", "test:\n\tdocker compose run --rm web uv run python manage.py test\n", True),
    "makefile-local-only": ("Makefile", "test:\n\tuv run pytest\n", False),
    "commented-out": ("docker-compose.yml", "services:\n  web:\n    build: .\n#    command: uv run x\n", False),
}


@pytest.mark.parametrize("name,text,refused", OUTSIDE.values(), ids=OUTSIDE.keys())
def test_no_dev_refused_when_the_repository_runs_uv_run_in_a_container(name, text, refused):
    out = _run(UV + "COPY . .\nRUN uv sync\n", {**LOCKED, name: text})
    assert out.endswith("RUN uv sync --locked\n" if refused else "RUN uv sync --locked --no-dev\n")
    if refused:
        assert any(name in n and "runs `uv run` in a container" in n for n in _notes(UV + "COPY . .\nRUN uv sync\n",
                                                                                     {**LOCKED, name: text}))


def test_compose_starting_with_uv_run_refuses_bytecode_too():
    files = {**LOCKED, "compose.yml": "services:\n  api:\n    build: .\n    command: uv run fastapi run\n"}
    out = _run(UV + "COPY . .\nRUN uv sync --locked\n", files)
    assert "UV_COMPILE_BYTECODE" not in out
    assert any("compose.yml line 4 starts a container with `uv run`" in n
               for n in _notes(UV + "COPY . .\nRUN uv sync --locked\n", files))


APP_CODE = {  # a file of the context -> is --no-dev refused?
    "settings-string": ("shop/settings.py", "INSTALLED_APPS.append('django_extensions')\n", True),
    "prefix-dropped": ("site/settings/local.py", "import debug_toolbar\n", True),
    "only-in-tests": ("tests/test_views.py", "import django_extensions\n", False),
    "conftest": ("conftest.py", "import pytest\n", False),
    "unrelated-word": ("app/models.py", "coverage_area = 1\n", False),
}


@pytest.mark.parametrize("path,text,refused", APP_CODE.values(), ids=APP_CODE.keys())
def test_no_dev_refused_when_the_app_names_a_dev_package(path, text, refused):
    files = {"uv.lock": "version = 1\n",
             "pyproject.toml": "[dependency-groups]\ndev = ['pytest>=8', 'django-extensions', 'django-debug-toolbar==4.4', 'coverage']\n",
             path: text}
    out = _run(UV + "COPY . .\nRUN uv sync\n", files)
    assert out.endswith("RUN uv sync --locked\n" if refused else "RUN uv sync --locked --no-dev\n")


DEV_TOOLS = "[dependency-groups]\ndev = ['pytest>=8', {include-group = 'lint'}]\nlint = ['ruff==0.6']\n"
RUNS = {  # what the image runs after `uv sync` -> is --no-dev refused?
    "cmd-program": ('CMD ["pytest", "-q"]\n', True),
    "cmd-module": ('CMD ["python", "-m", "pytest"]\n', True),
    "venv-path-in-sh-c": ('CMD sh -c "/app/.venv/bin/pytest -x"\n', True),
    "included-group": ("RUN ruff check .\n", True),
    "same-run": (None, True),
    "healthcheck": ("HEALTHCHECK CMD pytest --co -q\n", True),
    "app-only": ('CMD ["python", "-m", "app"]\n', False),
    "name-as-argument-only": ('CMD ["python", "manage.py", "test"]\n', False),
}


@pytest.mark.parametrize("after,refused", RUNS.values(), ids=RUNS.keys())
def test_no_dev_refused_when_the_image_runs_a_dev_tool(after, refused):
    files = {"uv.lock": "version = 1\n", "pyproject.toml": DEV_TOOLS}
    text = UV + ("COPY . .\nRUN uv sync && pytest -q\n" if after is None else "COPY . .\nRUN uv sync\n" + after)
    out = _run(text, files)
    assert ("--no-dev" not in out) == refused
    if refused:
        assert any(n.startswith("dev dependencies kept: line ") and ", of the dev group" in n
                   for n in _notes(text, files))


def test_no_dev_refused_when_the_dev_group_includes_an_unknown_group():
    files = {"uv.lock": "version = 1\n", "pyproject.toml": "[dependency-groups]\ndev = [{include-group = 'qa'}]\n"}
    text = UV + "COPY . .\nRUN uv sync\nCMD [\"app\"]\n"
    assert "--no-dev" not in _run(text, files)
    assert any("includes a group pyproject.toml does not define" in n for n in _notes(text, files))
