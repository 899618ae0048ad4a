"""lockfile-first: what moves, what stays and why (whole files: golden/lockfile-first/)."""

from __future__ import annotations

import re

import pytest

from dockfix.context import Context
from dockfix.engine import run_pipeline
from dockfix.transforms import PIPELINE, lockfile_first

from .conftest import ROOT
from .corpus_context import pipeline_over, time_limit

PY = "FROM python:3.12-slim\nWORKDIR /app\n"
REQS = {"requirements.txt": "flask\n", "app.py": ""}
UV = {"pyproject.toml": "[project]\nname = 'a'\nversion = '1'\n", "uv.lock": "version = 1\n", "app.py": ""}


def _run(text: str, files: dict[str, str]):
    return run_pipeline(text, Context(files=files), (lockfile_first.TRANSFORM,))


def _fixed(body: str, files: dict[str, str]) -> str:
    return _run(PY + body, files).output.removeprefix(PY)


MOVES = {
    "relative-destination": ("COPY . .\nRUN pip install -r requirements.txt\n", REQS,
                             "COPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n"),
    "absolute-destination": ("COPY . /app\nRUN pip install -r requirements.txt\n", REQS,
                             "COPY requirements.txt /app/\nRUN pip install -r requirements.txt\nCOPY . /app\n"),
    # WORKDIR and COPY destinations read with the ENV and ARG defaults before them (BuildKit expands
    # both), so a folder named through a variable and one written out are the same folder
    "workdir-from-an-arg": ("ARG APP=/srv/app\nWORKDIR $APP\nCOPY . /srv/app\nRUN pip install -r requirements.txt\n",
                            REQS, "ARG APP=/srv/app\nWORKDIR $APP\nCOPY requirements.txt /srv/app/\n"
                            "RUN pip install -r requirements.txt\nCOPY . /srv/app\n"),
    "destination-variable-kept": ("ENV APP=/srv/app\nWORKDIR /srv\nCOPY . ${APP}\nRUN pip install -r app/requirements.txt\n",
                                  REQS, "ENV APP=/srv/app\nWORKDIR /srv\nCOPY requirements.txt ${APP}/\n"
                                  "RUN pip install -r app/requirements.txt\nCOPY . ${APP}\n"),
    "unknown-variable-is-a-folder": ("WORKDIR $APP\nCOPY . $APP\nRUN pip install -r requirements.txt\n", REQS,
                                     "WORKDIR $APP\nCOPY requirements.txt $APP/\nRUN pip install -r requirements.txt\n"
                                     "COPY . $APP\n"),
    "python-m-pip": ("COPY . .\nRUN python -m pip install -r requirements.txt\n", REQS,
                     "COPY requirements.txt ./\nRUN python -m pip install -r requirements.txt\nCOPY . .\n"),
    "uv-pip-sync": ("COPY . .\nRUN uv pip sync --system requirements.txt\n", REQS,
                    "COPY requirements.txt ./\nRUN uv pip sync --system requirements.txt\nCOPY . .\n"),
    "install-by-absolute-path": ("COPY . /src\nRUN pip install -r /src/requirements.txt\n", REQS,
                                 "COPY requirements.txt /src/\nRUN pip install -r /src/requirements.txt\nCOPY . /src\n"),
    "chown-and-chmod-follow": ("COPY --chown=app:app --chmod=644 . .\nRUN pip install -r requirements.txt\n", REQS,
                               "COPY --chown=app:app --chmod=644 requirements.txt ./\nRUN pip install -r requirements.txt\n"
                               "COPY --chown=app:app --chmod=644 . .\n"),
    "inert-steps-between": ("COPY . .\nENV PORT=8000\nRUN useradd -m app\nRUN pip install -r requirements.txt\n", REQS,
                            "ENV PORT=8000\nRUN useradd -m app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\n"
                            "COPY . .\n"),
    "uv-sync-twin": ("COPY . .\nRUN uv sync --frozen\n", UV,
                     "COPY pyproject.toml uv.lock ./\nRUN uv sync --frozen --no-install-project\nCOPY . .\nRUN uv sync --frozen\n"),
    "uv-sync-lock-absent": ("COPY . .\nRUN uv sync\n", {"pyproject.toml": UV["pyproject.toml"], "app.py": ""},
                            "COPY pyproject.toml ./\nRUN uv sync --no-install-project\nCOPY . .\nRUN uv sync\n"),
    "uv-sync-project-folder": ("COPY . .\nRUN uv sync --project svc\n", {f"svc/{k}": v for k, v in UV.items()},
                               "COPY svc/pyproject.toml svc/uv.lock svc/\nRUN uv sync --project svc --no-install-project\n"
                               "COPY . .\nRUN uv sync --project svc\n"),
    "no-install-project-moves": ("COPY . .\nRUN uv sync --no-install-project\n", UV,
                                 "COPY pyproject.toml uv.lock ./\nRUN uv sync --no-install-project\nCOPY . .\n"),
    "include-in-a-folder": ("COPY . .\nRUN pip install -r req/prod.txt\n",
                            {"req/prod.txt": "-r common.txt\n", "req/common.txt": "flask\n", "app.py": ""},
                            "COPY req/prod.txt req/common.txt req/\nRUN pip install -r req/prod.txt\nCOPY . .\n"),
    "wheels-built-elsewhere": ("COPY . .\nRUN pip install --no-index -f /wheels -r requirements.txt\n", REQS,
                               "COPY requirements.txt ./\nRUN pip install --no-index -f /wheels -r requirements.txt\n"
                               "COPY . .\n"),
    "settings-join-the-twin": ("COPY . .\nRUN set -e && export UV_NO_PROGRESS=1 && uv sync\n", UV,
                               "COPY pyproject.toml uv.lock ./\nRUN set -e && export UV_NO_PROGRESS=1 && uv sync --no-install-project\n"
                               "COPY . .\nRUN set -e && export UV_NO_PROGRESS=1 && uv sync\n"),
    "lockfile-excluded-is-not-copied": ("COPY . .\nRUN uv sync\n", {**UV, ".dockerignore": "uv.lock\n"},
                                        "COPY pyproject.toml ./\nRUN uv sync --no-install-project\nCOPY . .\nRUN uv sync\n"),
}


@pytest.mark.parametrize("body,files,expected", MOVES.values(), ids=MOVES.keys())
def test_moves(body, files, expected):
    assert _fixed(body, files) == expected


LEFT = {
    "editable-project": ("COPY . .\nRUN pip install -e .\n", REQS, "`-e .` installs from a local path"),
    "requirements-install-the-project": ("COPY . .\nRUN pip install -r requirements.txt\n",
                                         {"requirements.txt": "flask\n-e .\n"}, "installs from a local path"),
    "manifest-missing": ("COPY . .\nRUN pip install -r requirements.txt\n", {"app.py": ""},
                         "requirements.txt is not in the build context"),
    "include-missing": ("COPY . .\nRUN pip install -r requirements.txt\n", {"requirements.txt": "-r base.txt\n"},
                        "base.txt is not in the build context"),
    "code-read-between": ("COPY . .\nRUN python manage.py collectstatic\nRUN pip install -r requirements.txt\n", REQS,
                          "the RUN at line 4 may read the code"),
    "variable-the-copy-uses": ("COPY . $HOME\nENV HOME=/srv\nRUN pip install -r requirements.txt\n", REQS,
                               "sets a variable the code copy uses"),
    "pattern-copy": ("COPY *.txt src/ ./\nRUN pip install -r requirements.txt\n", {**REQS, "src/a.py": ""},
                     "a copy of several sources or a pattern"),
    "path-dependency": ("COPY . .\nRUN uv sync\n",
                        {**UV, "pyproject.toml": UV["pyproject.toml"] + "[tool.uv.sources]\nlib = { path = 'lib' }\n"},
                        "dependency lib comes from a local path"),
    "dynamic-dependencies": ("COPY . .\nRUN uv sync\n",
                             {**UV, "pyproject.toml": "[project]\nname = 'a'\ndynamic = ['dependencies']\n"},
                             "dependencies are dynamic"),
    "poetry-only-root": ("COPY . .\nRUN poetry install --only-root\n", {"pyproject.toml": "", "poetry.lock": ""},
                         "installs the project only"),
    "other-command-first": ("COPY . .\nRUN ./configure.sh && pip install -r requirements.txt\n", REQS,
                            "may read the code before the dependencies install"),
    "wheel-from-the-code": ("COPY . .\nRUN pip install -r requirements.txt dist/*.whl\n", REQS,
                            "`dist/*.whl` is a local path"),
    "venv-in-the-context": ("COPY . .\nRUN python -m venv .venv && .venv/bin/pip install -r requirements.txt\n",
                            {**REQS, ".venv/pyvenv.cfg": "home = /usr\n"}, "would overwrite the environment with .venv/"),
    "target-folder": ("COPY . .\nRUN pip install --target ./deps -r requirements.txt\n", REQS,
                      "installs into a folder the code copy may overwrite"),
}


@pytest.mark.parametrize("body,files,why", LEFT.values(), ids=LEFT.keys())
def test_left_alone_with_a_reason(body, files, why):
    outcome = _run(PY + body, files)
    assert outcome.output == PY + body
    assert any(why in n.message for n in outcome.notes), [n.message for n in outcome.notes]


def test_suppression_on_the_code_copy():
    body = "# dockfix: ignore=lockfile-first\nCOPY . .\nRUN pip install -r requirements.txt\n"
    assert _fixed(body, REQS) == body


def test_already_lockfile_first_is_left_alone():
    body = "COPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nRUN pip install -r requirements.txt\n"
    outcome = _run(PY + body, REQS)
    assert outcome.output == PY + body and not outcome.fixes


def test_every_stage_is_fixed():
    text = (PY + "COPY . .\nRUN pip install -r requirements.txt\n"
            "FROM python:3.12-slim AS test\nWORKDIR /t\nCOPY . .\nRUN pip install -r requirements.txt\n")
    out = _run(text, REQS).output
    assert out.count("COPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n") == 2


def test_the_install_runs_keep_their_text_byte_for_byte():
    body = "COPY . .\r\nRUN set -eux; \\\r\n    # the pinned set\r\n    pip install -r requirements.txt  # ok\r\nCMD x\r\n"
    out = _fixed(body.replace("\r\n", "\n"), REQS)  # layout, LF
    assert "RUN set -eux; \\\n    # the pinned set\n    pip install -r requirements.txt  # ok\nCOPY . .\n" in out
    crlf = _run((PY + body).replace("\n", "\r\n").replace("\r\r", "\r"), REQS).output
    assert "\n" not in crlf.replace("\r\n", "")


def test_the_twin_keeps_the_continuation_layout():
    body = "COPY . .\nRUN poetry config virtualenvs.create false \\\n    && poetry install --only main\n"
    out = _fixed(body, {"pyproject.toml": "[tool.poetry]\nname = 'a'\n", "poetry.lock": "", "app.py": ""})
    assert out.startswith("COPY pyproject.toml poetry.lock ./\n"
                          "RUN poetry config virtualenvs.create false \\\n    && poetry install --only main --no-root\n"
                          "COPY . .\nRUN poetry config")


def test_the_page_example_is_what_the_transform_does():
    page = (ROOT / "transforms" / "lockfile-first.md").read_text(encoding="utf-8")
    before, after = re.findall(r"```dockerfile\n(.*?)```", page, re.DOTALL)[:2]
    files = {"requirements.txt": "-r base.txt\nflask\n", "base.txt": "requests\n", "app.py": ""}
    assert _run(before, files).output == after


def test_corpus_pipeline_reaches_a_fixpoint_with_a_made_up_context(corpus):
    """Every corpus file, the whole pipeline with unsafe fixes and a build context that holds
    what it copies plus the usual manifests: no EngineBug (it would raise), and a second run
    changes nothing. Each run has its own time limit, so a hang names the file."""
    runs = pipeline_over(tuple(corpus))
    for run in runs:
        with time_limit(10, run.name):
            again = run_pipeline(run.outcome.output, Context(files={**run.files, **run.outcome.files}), PIPELINE,
                                 unsafe=True)
        assert again.output == run.outcome.output and not again.files, run.name
    moved = [r.name for r in runs if any(f.transform == lockfile_first.NAME for f in r.outcome.fixes)]
    assert len(moved) >= 3  # measured: most corpus authors copy their manifests first already


@pytest.mark.parametrize("command", ["rm -rf tests", "echo ok > status.txt", "rm -f /app/.env"])
def test_a_command_that_changes_the_code_folder_stays_after_the_copy(command):
    """Moved above the copy, `rm` would remove nothing and a written file would be overwritten:
    the dependencies install goes first on its own, the whole RUN stays after the copy."""
    body = f"COPY . .\nRUN pip install -r requirements.txt && {command}\n"
    assert _fixed(body, REQS) == f"COPY requirements.txt ./\nRUN pip install -r requirements.txt\n{body}"


def test_commands_that_change_other_folders_move_with_the_install():
    body = "COPY . .\nRUN pip install -r requirements.txt && rm -rf /tmp/* && echo done > /dev/null\n"
    assert _fixed(body, REQS) == ("COPY requirements.txt ./\nRUN pip install -r requirements.txt && rm -rf /tmp/* "
                                  "&& echo done > /dev/null\nCOPY . .\n")


def test_many_installs_move_in_one_fix():
    """One fix per install would need a round each: ten installs would not converge."""
    installs = "".join(f"RUN pip install -r r{i}.txt\n" for i in range(10))
    files = {**{f"r{i}.txt": "flask\n" for i in range(10)}, "app.py": ""}
    outcome = _run(PY + "COPY . .\nRUN useradd app\n" + installs, files)
    names = " ".join(f"r{i}.txt" for i in range(10))
    assert outcome.output == PY + f"RUN useradd app\nCOPY {names} ./\n" + installs + "COPY . .\n"
    assert len(outcome.fixes) == 1


PROJECT = {"pyproject.toml": "[build-system]\nrequires = ['hatchling']\nbuild-backend = 'hatchling.build'\n"
                             "[project]\nname = 'a'\nversion = '1'\ndependencies = ['flask>=3', 'six']\n",
           "sub/pyproject.toml": "[build-system]\nrequires = ['hatchling']\nbuild-backend = 'hatchling.build'\n"
                                 "[project]\nname = 'b'\nversion = '1'\ndependencies = ['requests']\n",
           "a/__init__.py": ""}


@pytest.mark.parametrize(("body", "expected"), [
    # the project's own folder, relative or absolute: its dependencies are named first
    ("COPY . .\nRUN pip install .\n", "RUN pip install 'flask>=3' six\nCOPY . .\nRUN pip install .\n"),
    ("COPY . /app\nRUN pip install /app\n", "RUN pip install 'flask>=3' six\nCOPY . /app\nRUN pip install /app\n"),
    ("COPY . .\nRUN pip install ./sub\n", "RUN pip install requests\nCOPY . .\nRUN pip install ./sub\n"),
    # an ENV between: the code copy moves down to the install, the twin goes after the ENV
    ("COPY . .\nENV PIP_NO_CACHE_DIR=1\nRUN pip install .\n",
     "ENV PIP_NO_CACHE_DIR=1\nRUN pip install 'flask>=3' six\nCOPY . .\nRUN pip install .\n"),
])
def test_pip_install_of_a_project_names_its_static_dependencies_first(body, expected):
    assert _fixed(body, PROJECT) == expected


@pytest.mark.parametrize("body", [
    "COPY . .\nRUN cd sub && pip install .\n",  # `.` after `cd` is another project: never read as this one
    "COPY . .\nRUN pip install --no-deps .\n",
    "COPY . .\nRUN pip install -e .\n",
    "COPY . .\nRUN pip install '.[dev]'\n",
    "COPY . .\nRUN pip install -c constraints.txt .\n",
    "COPY . .\nRUN pip install dist/*.whl\n",
    "COPY . .\nRUN uv pip install --system .\n",  # uv would run the twin without the project's [tool.uv]
])
def test_pip_install_of_a_project_left_alone(body):
    assert _fixed(body, {**PROJECT, "constraints.txt": "six==1.17.0\n"}) == body


@pytest.mark.parametrize("twin", ["RUN pip install 'flask>=3' six\n", "RUN pip install 'flask>=3'\n"])
def test_a_twin_already_there_is_not_added_again_even_when_the_list_changed(twin):
    """The twin names the list of the day dockfix ran; `pip install .` still installs what an old
    twin misses (six here), so a second twin would only repeat the first."""
    done = twin + "COPY . .\nRUN pip install .\n"
    assert _fixed(done, PROJECT) == done


VIRTUAL = {"pyproject.toml": "[project]\nname = 'a'\nversion = '1'\ndependencies = ['flask']\n",
           "uv.lock": "version = 1\n[[package]]\nname = 'a'\nversion = '1'\nsource = { virtual = '.' }\n"
                      "[package.metadata]\nrequires-dist = [{ name = 'flask' }]\n"
                      "[[package]]\nname = 'flask'\nversion = '3'\nsource = { registry = 'https://pypi.org/simple' }\n",
           "app.py": ""}


@pytest.mark.parametrize("sync", ["uv sync", "uv sync --frozen --no-dev --group web", "uv sync --locked --python=3.12",
                                  "uv --quiet sync --link-mode copy --compile-bytecode"])
def test_a_uv_sync_of_a_virtual_project_goes_first_whole(sync):
    result = _run(f"{PY}COPY . .\nRUN {sync}\n", VIRTUAL)
    assert result.output.removeprefix(PY) == f"COPY pyproject.toml uv.lock ./\nRUN {sync}\nCOPY . .\n"
    assert [n.kind for n in result.notes] == [lockfile_first.SYNC_WHOLE]


def test_a_virtual_project_in_a_folder_named_by_project():
    files = {f"svc/{k}": v for k, v in VIRTUAL.items()}
    assert _fixed("COPY . .\nRUN uv sync --project svc\n", files) == \
        "COPY svc/pyproject.toml svc/uv.lock svc/\nRUN uv sync --project svc\nCOPY . .\n"


@pytest.mark.parametrize("sync,why", [
    ("uv sync $UV_ARGS", "`$UV_ARGS` is not known statically"),
    ("uv sync --all-packages", "`--all-packages` syncs every workspace member"),
    ("uv sync --config-file=docker.toml", "`--config-file` reads a settings file"),
    ("uv sync -f wheels", "`-f` may read packages from a folder"),
    ("uv sync --preview", "`--preview` is not an option dockfix knows"),
])
def test_a_virtual_project_synced_with_options_that_may_read_more_is_split(sync, why):
    result = _run(f"{PY}COPY . .\nRUN {sync}\n", VIRTUAL)
    assert f"RUN {sync} --no-install-project\nCOPY . .\nRUN {sync}\n" in result.output
    assert [n.kind for n in result.notes] == [lockfile_first.SYNC_SPLIT] and why in result.notes[0].message


def test_a_lockfile_excluded_by_dockerignore_is_no_fact():
    result = _run(f"{PY}COPY . .\nRUN uv sync\n", {**VIRTUAL, ".dockerignore": "uv.lock\n"})
    assert "uv sync --no-install-project" in result.output and "excluded by .dockerignore" in result.notes[0].message


def test_a_package_is_split_without_a_note():
    files = {**VIRTUAL, "pyproject.toml": VIRTUAL["pyproject.toml"] + "[build-system]\nrequires = ['hatchling']\n"}
    result = _run(f"{PY}COPY . .\nRUN uv sync\n", files)
    assert "uv sync --no-install-project" in result.output and not result.notes


@pytest.mark.parametrize("env,sync,whole", [
    ("ENV UV_CONFIG_FILE=/app/uv-docker.toml\n", "uv sync", False),
    ("", "UV_FIND_LINKS=wheels uv sync", False),
    ("", "export UV_EXTRA_INDEX_URL=vendor && uv sync", False),
    ("ENV UV_INDEX_URL=https://pypi.example/simple UV_PROJECT_ENVIRONMENT=/venv\n", "uv sync", True),
])
def test_uv_variables_that_name_files_keep_the_sync_split(env, sync, whole):
    result = _run(f"{PY}{env}COPY . .\nRUN {sync}\n", VIRTUAL)
    assert ("--no-install-project" not in result.output) == whole
    assert [n.kind for n in result.notes] == [lockfile_first.SYNC_WHOLE if whole else lockfile_first.SYNC_SPLIT]
