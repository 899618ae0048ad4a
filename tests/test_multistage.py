"""The multi-stage split: its tables, its equivalence check, and the corpus.

Whole-file behaviour lives in golden/multistage (run by tests/test_golden.py);
these tests pin the parts: which slim image, which runtime library, what the
equivalence check lets through, and that every corpus output parses and is a
fixpoint.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockfix.context import Context
from dockfix.engine import Fix, Note, run_pipeline
from dockfix.split import equivalence
from dockfix.split.debian_runtime import is_build_only, runtime_libraries
from dockfix.split.images import python_allowed, runtime_for
from dockfix.syntax import parse
from dockfix.transforms import PIPELINE, multistage
from tests.conftest import read_exact

SLIM = [
    ("python:3.12", "python:3.12-slim"),
    ("python:3.12-bookworm", "python:3.12-slim-bookworm"),
    ("python:3.13-trixie", "python:3.13-slim-trixie"),
    ("python:3.11.9", "python:3.11.9-slim"),
    ("docker.io/library/python:3.12", "docker.io/library/python:3.12-slim"),
    ("python:3.12-slim", "python:3.12-slim"),  # already slim: the runtime reuses it
    ("python:3.12-slim@sha256:ab12", "python:3.12-slim@sha256:ab12"),
    ("python:3.12-alpine", "python:3.12-alpine"),  # another libc is never chosen: alpine stays
    ("python:3.12-alpine3.20", "python:3.12-alpine3.20"),
    ("ghcr.io/astral-sh/uv:python3.12-bookworm", "ghcr.io/astral-sh/uv:python3.12-bookworm-slim"),
    ("ghcr.io/astral-sh/uv:python3.12-bookworm-slim", "ghcr.io/astral-sh/uv:python3.12-bookworm-slim"),
]
NO_SLIM = ["python", "python:latest", "python:3.12@sha256:ab12", "python:3.12-windowsservercore",
           "tiangolo/uvicorn-gunicorn:python3.11", "ubuntu:24.04", "ghcr.io/astral-sh/uv:0.5.4"]


@pytest.mark.parametrize(("base", "slim"), SLIM, ids=[b for b, _ in SLIM])
def test_slim_variant_keeps_version_and_distribution(base: str, slim: str) -> None:
    runtime = runtime_for(base)
    assert not isinstance(runtime, str), runtime
    assert runtime.image == slim


@pytest.mark.parametrize("base", NO_SLIM)
def test_no_slim_variant_gives_a_reason(base: str) -> None:
    assert isinstance(runtime_for(base), str)


# What the split installs for a -dev package: data/debian_dev_runtime's answers (from Debian's
# Packages indices), which these pin for the pairs the goldens and the lab rely on.
RUNTIME_LIBRARIES = [
    ("libpq-dev", "bookworm", ("libpq5",)),
    ("libjpeg-dev", "bookworm", ("libjpeg62-turbo",)),  # through libjpeg62-turbo-dev
    ("libxml2-dev", "bookworm", ("libxml2",)),
    ("libxml2-dev", "trixie", ("libxml2",)),  # (the hand table was unsure of trixie's name)
    ("libffi-dev", "bookworm", ("libffi8",)),
    ("libssl-dev", "bookworm", ("libssl3",)),
    ("libssl-dev", "trixie", ("libssl3t64",)),
    ("libssl-dev", None, None),  # python:3.12 moves from bookworm to trixie: no single name, keep -dev
    ("libpq-dev", None, ("libpq5",)),  # the same name on both releases
    ("default-libmysqlclient-dev", "bookworm", ("libmariadb3",)),  # -> libmariadb-dev-compat -> libmariadb-dev
    ("libmariadb-dev-compat", "trixie", ("libmariadb3",)),
    ("zlib1g-dev", "trixie", ("zlib1g",)),
    ("libyaml-dev", "bookworm", ("libyaml-0-2",)),
    ("libwebp-dev", "bookworm", ("libwebp7", "libwebpdemux2", "libwebpmux3")),  # Pillow links all three
    ("libxmlsec1-dev", "bookworm", ("libxmlsec1", "libxmlsec1-gcrypt", "libxmlsec1-gnutls", "libxmlsec1-nss",
                                    "libxmlsec1-openssl")),  # python-xmlsec links libxmlsec1-openssl
    ("libncurses5-dev", "bookworm", ("libncurses6", "libncursesw6", "libtinfo6")),  # and libncurses-dev's
    ("uuid-dev", "bookworm", ("libuuid1",)),
    ("libxslt-dev", "trixie", ("libxslt1.1",)),  # a virtual name: apt installs libxslt1-dev
    ("libuuid-dev", "bookworm", None),  # no such package in Debian (its name is uuid-dev)
    ("libpcre3-dev", "trixie", None),  # gone from trixie
    ("libboost-dev", "bookworm", None),  # headers only: it stands for no library (not gcc's own)
    ("libpq-dev", "bullseye", None),  # not a suite of the table
    ("libfoo-dev", "bookworm", None),  # unknown: kept
]


@pytest.mark.parametrize(("dev", "distribution", "libraries"), RUNTIME_LIBRARIES,
                         ids=[f"{d}-{r}" for d, r, _ in RUNTIME_LIBRARIES])
def test_runtime_library_table(dev: str, distribution: str | None, libraries: tuple[str, ...] | None) -> None:
    assert runtime_libraries(dev, distribution) == libraries


@pytest.mark.parametrize("package", ["gcc", "g++", "make", "build-essential", "pkg-config", "gcc-12", "python3-dev"])
def test_build_only(package: str) -> None:
    assert is_build_only(package)


@pytest.mark.parametrize("package", ["libpq5", "curl", "git", "libpq-dev", "ffmpeg"])
def test_not_build_only(package: str) -> None:
    assert not is_build_only(package)


@pytest.mark.parametrize(("version", "spec", "answer"), [
    ("3.12", ">=3.10", True), ("3.12", ">=3.13", False), ("3.12", ">=3.10,<3.12", False),
    ("3.12", "==3.12.*", True), ("3.12", "~=3.11", True), ("3", ">=3.8", None), ("3.12", ">=3.12.4", None),
])
def test_requires_python(version: str, spec: str, answer: bool | None) -> None:
    assert python_allowed(version, spec) is answer


SIMPLE = """FROM python:3.12
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
USER nobody
EXPOSE 8000
CMD ["python", "app.py"]
"""


# The build context the split reads: it must know every dependency it moves (know or refuse).
REQUIREMENTS = {"requirements.txt": "flask\ngunicorn\n"}


def _split(text: str, files: dict[str, str] | None = None) -> str:
    context = Context(files=REQUIREMENTS if files is None else files)
    return run_pipeline(text, context, [multistage.TRANSFORM], unsafe=True).output


def test_split_is_unsafe_and_applies_only_when_asked() -> None:
    context = Context(files={"requirements.txt": "flask\n"})
    found = list(multistage.find(parse(SIMPLE), context))
    assert [type(f) for f in found] == [Fix] and not found[0].safe
    assert run_pipeline(SIMPLE, context, [multistage.TRANSFORM]).output == SIMPLE


def test_split_passes_the_equivalence_check_with_its_declared_allowance() -> None:
    after = _split(SIMPLE)
    assert after != SIMPLE
    allow = equivalence.Allowance(multistage.SYSTEM_VENV)
    assert equivalence.differences(parse(SIMPLE), parse(after), allow) == []
    # Without the declared allowance, the added ENV is a difference.
    assert equivalence.differences(parse(SIMPLE), parse(after), equivalence.Allowance()) != []


BROKEN = [
    ("CMD [\"python\", \"app.py\"]", "CMD [\"python\", \"other.py\"]"),
    ("USER nobody\n", ""),
    ("COPY . .\n", "COPY . .\nWORKDIR /srv\n"),
    ("EXPOSE 8000", "EXPOSE 8080"),
    ('ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"', 'ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH" DEBUG=1'),
    ('ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"', 'ENV VIRTUAL_ENV=/opt/venv PATH="/usr/bin:$PATH"'),
]


@pytest.mark.parametrize(("good", "bad"), BROKEN, ids=[b[:30] for _, b in BROKEN])
def test_equivalence_check_catches_a_broken_split(good: str, bad: str) -> None:
    after = _split(SIMPLE)
    runtime = after[after.rindex("FROM ") :]
    broken = after[: after.rindex("FROM ")] + runtime.replace(good, bad, 1)
    assert broken != after
    assert equivalence.differences(parse(SIMPLE), parse(broken), equivalence.Allowance(multistage.SYSTEM_VENV))


def test_a_broken_split_becomes_a_note_and_the_file_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    real = multistage.render
    monkeypatch.setattr(multistage, "render", lambda plan: real(plan).replace("USER nobody\n", ""))
    found = list(multistage.find(parse(SIMPLE), Context(files=REQUIREMENTS)))
    assert len(found) == 1 and isinstance(found[0], Note) and "bug" in found[0].message
    assert run_pipeline(SIMPLE, Context(files=REQUIREMENTS), [multistage.TRANSFORM], unsafe=True).output == SIMPLE


def test_every_original_line_survives_byte_identical() -> None:
    text = "# syntax=docker/dockerfile:1\r\nARG V=3.12\r\nFROM python:${V}\r\nRUN apt-get update \\\r\n  # tools\r\n  && apt-get install -y gcc curl\r\nRUN pip install flask\r\nCMD flask run"
    after = _split(text)
    assert after.startswith("# syntax=docker/dockerfile:1\r\nARG V=3.12\r\nFROM python:${V} AS builder\r\n")
    assert "\n" not in after.replace("\r\n", "")  # the author's line endings
    assert "  # tools\r\n  && apt-get install -y curl\r\n" in after  # the runtime keeps curl, drops gcc
    assert after.endswith("FROM python:${V}-slim\r\nRUN apt-get update \\\r\n  # tools\r\n  && apt-get install -y curl\r\n"
                          "COPY --from=builder /opt/venv /opt/venv\r\n"
                          'ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"\r\nCMD flask run')


def test_split_file_is_left_alone() -> None:
    after = _split(SIMPLE)
    notes = [n.message for n in multistage.find(parse(after), Context(files={}))]
    assert notes == ["not split: already multi-stage"]


def test_corpus_outputs_parse_and_are_fixpoints(corpus) -> None:
    """Every corpus file: the split alone and the whole pipeline reach a fixpoint that parses."""
    pipeline = PIPELINE if multistage.TRANSFORM in PIPELINE else (*PIPELINE, multistage.TRANSFORM)
    split = 0
    for path in corpus:
        text = read_exact(path)
        try:
            parse(text)
        except ValueError:
            continue
        for transforms in ((multistage.TRANSFORM,), pipeline):
            out = run_pipeline(text, Context(files={}), transforms, unsafe=True).output
            parse(out)
            assert run_pipeline(out, Context(files={}), transforms, unsafe=True).output == out, path.name
        split += _split(text) != text
    # the measured figure is in transforms/multistage.md (087 stopped splitting without its context:
    # gcc leaves the runtime, and what its libraries served is not known without the requirements)
    assert split >= 4


def test_the_page_example_is_what_the_transform_does() -> None:
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "transforms" / "multistage.md").read_text()
    before, after = re.findall(r"```dockerfile\n(.*?)```", page, re.DOTALL)[:2]
    assert _split(before) == after


def test_runtime_keeps_uv_when_the_repository_runs_uv_run_in_the_container() -> None:
    """compose or a Makefile starting `uv run` in the image needs uv there: the runtime keeps it."""
    text = ("FROM python:3.12-slim\nCOPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv\nWORKDIR /app\n"
            "COPY pyproject.toml uv.lock ./\nRUN uv sync --locked --no-install-project\nCOPY . .\n"
            "RUN uv sync --locked\nCMD [\"python\", \"-m\", \"app\"]\n")
    files = {"pyproject.toml": "[project]\nname = 'app'\nversion = '1'\n", "uv.lock": "version = 1\n", "app.py": ""}
    runtime = _split(text, files).split("\n\n")[1]
    assert "uv" not in runtime  # the file alone: uv stays in the builder
    makefile = {**files, "Makefile": "test:\n\tdocker compose run --rm web uv run pytest\n"}
    assert "COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv" in _split(text, makefile).split("\n\n")[1]


PACKAGE = """[project]
name = "greeter"
version = "0.1.0"
dependencies = ["click"]

[project.scripts]
greeter = "greeter.cli:main"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""
UV_PACKAGE = {"pyproject.toml": PACKAGE, "uv.lock": "version = 1\n", "README.md": "# greeter\n",
              "src/greeter/__init__.py": "", "src/greeter/cli.py": "def main(): pass\n", "tests/test_cli.py": ""}
UV_ENTRY_POINT = """FROM python:3.12
COPY --from=ghcr.io/astral-sh/uv:0.5.4 /uv /uvx /bin/
WORKDIR /app
COPY . .
RUN uv sync --locked --no-dev
ENV PATH="/app/.venv/bin:$PATH"
CMD ["greeter"]
"""


def _uv_notes(files: dict[str, str], text: str = UV_ENTRY_POINT) -> tuple[str, list[str]]:
    found = list(multistage.find(parse(text), Context(files=files)))
    fixes = [f for f in found if isinstance(f, Fix)]
    out = run_pipeline(text, Context(files=files), [multistage.TRANSFORM], unsafe=True).output if fixes else text
    return out, [n.message for n in found if isinstance(n, Note) and n.kind == multistage.UV_PROJECT]


@pytest.mark.parametrize("extra", [{}, {"compose.yaml": "services: {}\n", "Makefile": "test:\n\tpytest\n",
                                      ".github/workflows/ci.yml": "on: push\n", "docs/index.md": "# docs\n"}])
def test_a_uv_package_run_by_its_entry_point_needs_only_the_venv(extra: dict[str, str]) -> None:
    out, notes = _uv_notes({**UV_PACKAGE, **extra})
    runtime = out.split("\n\n", 1)[1]
    assert "uv sync --locked --no-dev --no-editable" in out and notes == []
    assert "COPY . ." not in runtime and "COPY --from=builder /app/.venv /app/.venv" in runtime


@pytest.mark.parametrize(("change", "why"), [
    ({"settings.yaml": "a: 1\n"}, "settings.yaml is a file outside the wheel's Python code"),
    ({".env": "A=1\n"}, ".env is a file outside the wheel's Python code"),
    ({"src/greeter/templates/index.html": ""}, "src/greeter/templates/index.html is a file outside"),
    ({"pyproject.toml": PACKAGE.replace('greeter = "greeter.cli:main"', 'hello = "greeter.cli:main"')},
     "`greeter` is not one of the project's entry points"),
])
def test_the_runtime_keeps_the_source_when_the_app_may_read_it(change: dict[str, str], why: str) -> None:
    out, notes = _uv_notes({**UV_PACKAGE, **change})
    assert "--no-editable" in out and "COPY . ." in out.split("\n\n", 1)[1]
    assert len(notes) == 1 and notes[0].startswith("the runtime keeps the project's source: ") and why in notes[0]


def test_a_project_that_is_not_a_package_stays_as_it_is() -> None:
    pyproject = PACKAGE + "\n[tool.uv]\npackage = false\n"
    out, notes = _uv_notes({**UV_PACKAGE, "pyproject.toml": pyproject})
    assert "--no-editable" not in out and "COPY . ." in out.split("\n\n", 1)[1] and notes == []


def test_no_pyproject_copied_means_no_no_editable_and_a_note() -> None:
    text = UV_ENTRY_POINT.replace("COPY . .", "COPY uv.lock ./\nCOPY src/ src/")
    out, notes = _uv_notes(UV_PACKAGE, text)
    assert "--no-editable" not in out
    assert notes == ["uv sync kept editable: the project is not known (no COPY from the build context brings "
                     "/app/pyproject.toml)"]


def test_uv_build_settings_stay_in_the_builder_and_the_config_is_the_original() -> None:
    text = UV_ENTRY_POINT.replace("RUN uv sync", "ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1\nRUN uv sync")
    out, _ = _uv_notes(UV_PACKAGE, text)
    builder, runtime = out.split("\n\n", 1)
    assert "ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1" in builder and "UV_" not in runtime
    before = equivalence.final_config(parse(text))
    assert dict(before.env).get("UV_LINK_MODE") == "copy"
    assert equivalence.differences(parse(text), parse(out), equivalence.Allowance()) == [
        "ENV UV_COMPILE_BYTECODE: '1' became None", "ENV UV_LINK_MODE: 'copy' became None"]
    assert equivalence.differences(parse(text), parse(out), equivalence.Allowance(
        left_out=frozenset({"UV_LINK_MODE", "UV_COMPILE_BYTECODE"}))) == []


@pytest.mark.parametrize("cmd", ['CMD ["sh", "-c", "uv run python -m app"]', 'CMD ["./start.sh"]'],
                         ids=["sh -c", "a script it starts"])
def test_the_runtime_keeps_uv_when_what_it_runs_runs_uv(cmd: str) -> None:
    """One reading of what the runtime runs (split/programs) for the programs it needs and for uv:
    `uv` inside `sh -c` or in the script the CMD starts keeps uv in the runtime (a reading of the
    CMD's words alone saw `sh` and `./start.sh`)."""
    text = ("FROM python:3.12-slim\nCOPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv\nWORKDIR /app\n"
            "COPY pyproject.toml uv.lock ./\nRUN uv sync --locked --no-install-project\nCOPY . .\n"
            f"RUN uv sync --locked\n{cmd}\n")
    files = {"pyproject.toml": "[project]\nname = 'app'\nversion = '1'\n", "uv.lock": "version = 1\n", "app.py": "",
             "start.sh": "#!/bin/sh\nexec uv run python -m app\n"}
    runtime = _split(text, files).split("\n\n")[1]
    assert "COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv" in runtime


def _notes(text: str, files: dict[str, str] | None = None) -> list[Note]:
    outcome = run_pipeline(text, Context(files=files or {"requirements.txt": "flask==3.0.3\n"}),
                           (multistage.TRANSFORM,), unsafe=True)
    return outcome.notes


@pytest.mark.parametrize("install, adds", [
    ("pip install -r requirements.txt && rm -rf /root/.cache", "pip and setuptools"),
    ("PIP_NO_CACHE_DIR=off pip install -r requirements.txt", "pip and setuptools"),
    ("pip install --no-cache -r requirements.txt", "pip and setuptools"),  # pip reads the abbreviation
])
def test_a_split_that_only_adds_is_refused_with_what_it_would_add(install: str, adds: str) -> None:
    """Issue 12, class 8: on the same slim base, nothing build-only, the cache already out of
    the layer: the venv the split makes would only add its seeds."""
    text = f"FROM python:3.11-slim\nCOPY requirements.txt .\nRUN {install}\nCMD [\"python\"]\n"
    [note] = _notes(text)
    assert note.kind == multistage.NOTHING_TO_GAIN, note
    assert f"it would add {adds} in the new /opt/venv" in note.message, note.message


def test_a_cache_is_a_gain_only_when_the_split_adds_nothing() -> None:
    cached = "FROM python:3.12-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCMD [\"python\"]\n"
    [note] = _notes(cached)  # the system's pip: the new venv brings pip, the cache mount does better
    assert "it would drop only pip's download cache (line 3)" in note.message, note.message
    own_venv = cached.replace("RUN pip", "RUN python -m venv /venv\nRUN /venv/bin/pip")
    assert _split(own_venv) != own_venv  # the file's own venv: dropping the cache is all gain


def test_tools_left_in_the_builder_are_a_gain() -> None:
    text = ("FROM python:3.12-slim\nRUN pip install --no-cache-dir poetry==1.8.3\nENV POETRY_VIRTUALENVS_IN_PROJECT=true\n"
            "WORKDIR /app\nCOPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root --no-cache\n"
            "CMD [\"/app/.venv/bin/python\"]\n")
    files = {"pyproject.toml": "[tool.poetry]\nname = 'a'\n[tool.poetry.dependencies]\npython = '^3.12'\n",
             "poetry.lock": ""}
    out = run_pipeline(text, Context(files=files), (multistage.TRANSFORM,), unsafe=True)
    assert out.output != text, out.notes


# -- issue 13: a builder pip-to-uv turns into uv installs is a gain (build speed) -----------------

SLIM_PIP = ("FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir .\n"
            'ENTRYPOINT ["wordcount"]\n')
PROJECT = {"pyproject.toml": "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n\n"
           "[project]\nname = \"wordcount\"\nversion = \"0.1.0\"\ndependencies = []\n\n"
           "[project.scripts]\nwordcount = \"wordcount.cli:main\"\n",
           "src/wordcount/cli.py": "def main():\n    print('ok')\n"}


def _full(text: str, files: dict[str, str], select: list[str] | None = None, ignore: list[str] | None = None,
          unsafe: bool = True):
    from dockfix.transforms import choose

    return run_pipeline(text, Context(files=files), choose(select, ignore or ()), unsafe=unsafe)


def test_a_split_is_a_gain_when_pip_to_uv_makes_every_builder_install_a_uv_install() -> None:
    """Nothing is left behind on the same slim base, but with pip-to-uv selected the builder
    installs with uv into a `uv venv` (no pip or setuptools): split, and say the gain; a fixpoint."""
    outcome = _full(SLIM_PIP, PROJECT, select=["DF601", "DF701"])
    builder, runtime = outcome.output.split("\n\n", 1)
    assert "RUN uv venv --python /usr/local/bin/python /opt/venv" in builder
    assert "uv pip install ." in builder and "pip install --no-cache-dir" not in outcome.output
    assert "COPY --from=builder /opt/venv /opt/venv" in runtime
    assert [f.code for f in outcome.fixes] == ["DF601", "DF701"]
    assert "the gain is build speed" in outcome.fixes[0].message
    assert not [n for n in outcome.notes if n.code == "DF601"], outcome.notes
    again = _full(outcome.output, PROJECT, select=["DF601", "DF701"])
    assert again.output == outcome.output and not again.fixes


@pytest.mark.parametrize("how", ["pip-to-uv ignored", "only the split selected", "safe fixes only",
                                 "a pragma against DF701", "pip-to-uv refuses", "a pip upgrade in the system"])
def test_without_pip_to_uv_on_the_builder_the_refusal_stays(how: str) -> None:
    text, files, kwargs = SLIM_PIP, dict(PROJECT), {}
    if how == "pip-to-uv ignored":
        kwargs = {"ignore": ["pip-to-uv"]}
    elif how == "only the split selected":
        kwargs = {"select": ["DF601"]}
    elif how == "safe fixes only":
        kwargs = {"unsafe": False}
    elif how == "a pragma against DF701":
        text = text.replace("RUN pip", "# dockfix: ignore=DF701\nRUN pip")
    elif how == "pip-to-uv refuses":
        files["src/wordcount/cli.py"] = "import pkg_resources\n"  # a uv venv has no setuptools
    else:  # the builder would still run pip: in the system, before the venv (not every install is uv's)
        text = text.replace("RUN pip", "RUN pip install --no-cache-dir --upgrade pip\nRUN pip")
    outcome = _full(text, files, **kwargs)
    assert outcome.output.count("FROM ") == 1, outcome.output
    [note] = [n for n in outcome.notes if n.code == "DF601"]
    assert note.kind == multistage.NOTHING_TO_GAIN and "it would add pip and setuptools" in note.message, note
    if how == "pip-to-uv refuses":  # its reason, in the user's lines
        assert note.message.endswith("and pip-to-uv (DF701) would not install with uv in its builder (pip not "
                                     "replaced by uv in the builder: src/wordcount/cli.py imports pkg_resources, "
                                     "which a uv venv does not have)"), note.message
    elif how == "a pip upgrade in the system":
        assert note.message.endswith("its builder would still install with more than uv"), note.message
    else:
        assert note.message.endswith("(python -m venv)"), note.message  # as before issue 13


def test_pip_to_uv_s_reason_names_the_users_line() -> None:
    """pip-to-uv refuses on the split it would see: its `line N` is the user's line, not the split's."""
    text = SLIM_PIP.replace("--no-cache-dir .", "--no-cache-dir --prefer-binary .")
    [note] = [n for n in _full(text, PROJECT).notes if n.code == "DF601"]
    assert "(pip not replaced by uv in the builder: line 4: pip option --prefer-binary has no known uv " \
           "equivalent)" in note.message, note.message


# The pipenv and conda tests look for their word before searching the regex (a shortcut for speed):
# the answer must be the regex's on any text.
_WORDS = st.sampled_from(["pipenv", "pip env", "conda", "mamba", "micromamba", "anaconda", "conda-forge", "mambaforge",
                          "Conda", "PIPENV", " ", "_", "-", "/", "a", "\n", "$"])


@settings(max_examples=500, deadline=None)
@given(st.lists(_WORDS, max_size=8).map("".join))
def test_the_pipenv_and_conda_shortcuts_answer_as_their_regexes(text):
    assert multistage._names_pipenv(text) == bool(multistage._PIPENV.search(text))
    assert multistage._names_conda(text) == bool(multistage._CONDA.search(text))
