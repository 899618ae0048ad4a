"""split/dependencies: what the installs put into the environment, read from the build
context through the COPY that brought each manifest in, or why it is not known."""

from __future__ import annotations

import pytest

from dockfix.context import Context
from dockfix.split.classify import Classifier
from dockfix.split.dependencies import CopiesBefore, Dependencies, Unknown, context_source, copy_steps, installed
from dockfix.syntax import parse
from dockfix.views import stages


def read(dockerfile: str, files: dict[str, str]) -> Dependencies | str:
    tree = parse(dockerfile)
    classifier = Classifier(tree)
    steps = [classifier.step(i) for i in stages(tree)[0].instructions]
    targets = {c.target for s in steps for c in s.installs if c.tool not in ("glue", "venv")}
    assert len(targets) == 1, targets
    return installed(steps, targets.pop(), Context(files=files))


KNOWN = {
    "names-on-the-command-line": ("RUN pip install Flask_Login 'uvicorn[standard]>=0.30' gunicorn==22.*\n", {},
                                  {"flask-login", "uvicorn", "gunicorn"}),
    "variable-in-the-version-only": ("ARG V=1\nRUN pip install \"poetry==$V\"\n", {}, {"poetry"}),
    "requirements-with-includes": ("WORKDIR /app\nCOPY req/ req/\nRUN pip install -r req/prod.txt -c req/c.txt\n",
                                   {"req/prod.txt": "-r base.txt\n-c c.txt\ngunicorn  # server\n",
                                    "req/base.txt": "Django>=5 ; python_version>'3'\n--index-url https://x\n",
                                    "req/c.txt": "nothing==1\n"}, {"django", "gunicorn"}),
    "copied-to-another-name": ("COPY requirements/prod.txt /tmp/r.txt\nRUN pip install -r /tmp/r.txt\n",
                               {"requirements/prod.txt": "flask\n"}, {"flask"}),
    "project-pyproject": ("WORKDIR /src\nCOPY . .\nRUN pip install .[extra]\n",
                          {"pyproject.toml": "[project]\nname='a'\nversion='1'\ndependencies=['httpx>=0.27']\n"
                                             "[project.optional-dependencies]\nextra=['psycopg2']\n"},
                          {"httpx", "psycopg2"}),
    "uv-lockfile": ("WORKDIR /app\nCOPY pyproject.toml uv.lock ./\nRUN uv sync --locked\n",
                    {"pyproject.toml": "[project]\nname='a'\n",
                     "uv.lock": "version = 1\n[[package]]\nname = 'a'\n[[package]]\nname = 'MarkupSafe'\n"},
                    {"a", "markupsafe"}),
}


@pytest.mark.parametrize("dockerfile, files, names", KNOWN.values(), ids=KNOWN.keys())
def test_known(dockerfile, files, names):
    found = read("FROM python:3.12\n" + dockerfile, files)
    assert isinstance(found, Dependencies), found
    assert found.names == names


def test_the_requirements_that_asked_for_each_name_are_kept():
    # the split picks the release pip would from them (data/pypi_source_builds): pins, ranges, lockfiles
    found = read("FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install 'uWSGI==2.0.23' -r r.txt\n",
                 {"r.txt": "flask>=3 ; python_version>'3'\ngunicorn\nuwsgi < 3 --hash=sha256:00\n"})
    assert isinstance(found, Dependencies), found
    assert found.requirements == {"uwsgi": ["uWSGI==2.0.23", "uwsgi < 3"], "flask": ["flask>=3"], "gunicorn": ["gunicorn"]}
    locked = read("FROM python:3.12\n" + KNOWN["uv-lockfile"][0],
                  {"pyproject.toml": "[project]\nname='a'\n",
                   "uv.lock": "version = 1\n[[package]]\nname = 'a'\n[[package]]\nname = 'MarkupSafe'\nversion = '3.0.2'\n"})
    assert isinstance(locked, Dependencies), locked
    assert locked.requirements == {"markupsafe": ["markupsafe==3.0.2"]}


UNKNOWN = {
    "context-absent": ("COPY requirements.txt .\nRUN pip install -r requirements.txt\n", {},
                       "requirements.txt is not in the build context"),
    "not-copied": ("RUN pip install -r requirements.txt\n", {"requirements.txt": "flask\n"},
                   "no COPY from the build context brings /requirements.txt"),
    "include-missing": ("COPY requirements.txt .\nRUN pip install -r requirements.txt\n",
                        {"requirements.txt": "-r ../shared.txt\n"}, "requirements.txt includes ../shared.txt"),
    "variable-package": ("RUN pip install $PKGS\n", {}, "`$PKGS` is a variable"),
    "variable-file": ("COPY . .\nRUN pip install -r $REQ\n", {}, "requirements file `$REQ` is a variable"),
    "setup-py": ("COPY . .\nRUN pip install .\n", {"setup.py": "setup()\n"}, "setup.py computes"),
    "dynamic": ("COPY . .\nRUN pip install .\n",
                {"pyproject.toml": "[project]\nname='a'\ndynamic=['dependencies']\n"}, "dependencies are dynamic"),
    "url": ("RUN pip install https://example.com/pkg.tar.gz\n", {}, "installed from a URL"),
    "editable-in-file": ("COPY . .\nRUN pip install -r requirements.txt\n", {"requirements.txt": "-e .\n"},
                         "a local project's dependencies"),
}


@pytest.mark.parametrize("dockerfile, files, why", UNKNOWN.values(), ids=UNKNOWN.keys())
def test_unknown_is_a_reason_never_an_empty_list(dockerfile, files, why):
    found = read("FROM python:3.12\n" + dockerfile, files)
    assert isinstance(found, str) and why in found, found


def test_an_unreadable_manifest_says_why():
    context_files = {"requirements.txt": None}
    found = read("FROM python:3.12\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n",
                 context_files)  # type: ignore[arg-type]
    assert isinstance(found, str) and "requirements.txt" in found


def _source(image_path: str, before: list, context: Context, missing_ok: bool) -> str | None:
    try:
        return context_source(image_path, before, context, missing_ok=missing_ok)
    except Unknown as why:
        return f"Unknown: {why}"


LOOKED_UP = ["/requirements.txt", "/app/req/prod.txt", "/app/req/base.txt", "/tmp/r.txt", "/src/pyproject.toml",
             "/src/setup.py", "/app/pyproject.toml", "/app/uv.lock", "/app/x.txt", "/a/b/c.txt", "/b/x.txt", "/x.txt"]
COPIES = ("FROM python:3.12\nWORKDIR /app\nCOPY req/ req/\nRUN pip install -r req/prod.txt\nCOPY --from=b /x /x\n"
          "COPY requirements/prod.txt /tmp/r.txt\nRUN echo\nWORKDIR /src\nADD . .\nCOPY *.txt /b/\n"
          "RUN pip install .\nCOPY $F /a/\nCOPY <<EOF /x.txt\nx\nEOF\nCOPY a/ /a/\n")


@pytest.mark.parametrize("dockerfile, files", [(COPIES, {"req/prod.txt": "a\n", "req/base.txt": "", "x.txt": "",
                                                          "a/b/c.txt": "", "setup.py": "", "pyproject.toml": ""}),
                                               *(("FROM python:3.12\n" + d, f) for d, f, _ in KNOWN.values()),
                                               *(("FROM python:3.12\n" + d, f) for d, f, _ in UNKNOWN.values())])
def test_the_copy_steps_alone_give_context_source_the_same_answers(dockerfile, files):
    # Callers asking once per install hand context_source the COPY/ADD steps only (copy_steps,
    # CopiesBefore), not every step before: the same answer, or the same reason, at every step.
    tree = parse(dockerfile)
    classifier = Classifier(tree)
    steps = [classifier.step(i) for i in stages(tree)[0].instructions]
    context = Context(files=files)
    copies = CopiesBefore(steps)
    for index in range(len(steps) + 1):
        for path in LOOKED_UP:
            for missing_ok in (False, True):
                every = _source(path, steps[:index], context, missing_ok)
                assert _source(path, copy_steps(steps[:index]), context, missing_ok) == every
                assert _source(path, copies(index), context, missing_ok) == every
