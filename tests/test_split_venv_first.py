"""split/venv_first: the builder makes the venv an install RUN made before the manifests' COPY
(issue 13, item 1), so a dependency change re-runs only the install; anything that could change
what the venv's command does, or put files into the venv first, keeps the RUN as written.
Whole rewrites: golden/multistage/debian-apt-python, venv-nonroot."""

from __future__ import annotations

import pytest

from dockfix.context import Context
from dockfix.engine import run_pipeline
from dockfix.transforms import multistage

FILES = {"requirements.txt": "flask==3.0.3\n", "app.py": "print('hi')\n"}


def _builder(text: str, files: dict[str, str] | None = None) -> str:
    outcome = run_pipeline(text, Context(files=dict(FILES if files is None else files)), (multistage.TRANSFORM,),
                           unsafe=True)
    assert "AS builder" in outcome.output, [n.message for n in outcome.notes]
    return outcome.output.split("\n\n")[0] + "\n"


def _file(run: str, copy: str = "COPY requirements.txt .", workdir: str = "/app") -> str:
    return (f"FROM python:3.12\nWORKDIR {workdir}\n{copy}\n{run}\nCOPY . .\n"
            'CMD ["/venv/bin/python", "app.py"]\n')


def test_the_venv_goes_before_the_manifests_copy_and_the_install_keeps_the_rest():
    builder = _builder(_file("RUN python -m venv /venv && . /venv/bin/activate && pip install -r requirements.txt"))
    assert builder.endswith("WORKDIR /app\nRUN python -m venv /venv\nCOPY requirements.txt .\n"
                            "RUN . /venv/bin/activate && pip install -r requirements.txt\n")


def test_a_continued_line_loses_the_venv_and_its_escape():
    builder = _builder(_file("RUN python -m venv /venv \\\n    && /venv/bin/pip install -r requirements.txt"))
    assert builder.endswith("RUN python -m venv /venv\nCOPY requirements.txt .\nRUN /venv/bin/pip install -r "
                            "requirements.txt\n")


def test_a_cache_mount_stays_with_the_install():
    run = "RUN --mount=type=cache,target=/root/.cache/pip python -m venv /venv && /venv/bin/pip install -r requirements.txt"
    builder = _builder(_file(run))
    assert "RUN python -m venv /venv\nCOPY requirements.txt .\nRUN --mount=type=cache,target=/root/.cache/pip " \
           "/venv/bin/pip install -r requirements.txt\n" in builder


def test_a_venv_inside_the_copys_folder_goes_first_when_the_copy_is_of_named_files():
    builder = _builder(_file("RUN python -m venv venv && venv/bin/pip install -r requirements.txt"))
    assert "RUN python -m venv venv\nCOPY requirements.txt .\n" in builder


KEPT = "RUN python -m venv /venv && /venv/bin/pip install -r requirements.txt"


@pytest.mark.parametrize("text, files", [
    # no COPY right before the install: nothing to gain
    ("FROM python:3.12\nWORKDIR /app\nRUN python -m venv /venv && /venv/bin/pip install flask==3.0.3\n"
     "COPY . .\nCMD [\"/venv/bin/python\", \"app.py\"]\n", None),
    # `;` runs the install even when the venv fails: not the same list once split
    (_file("RUN python -m venv /venv; /venv/bin/pip install -r requirements.txt"), None),
    # a bind mount, a network flag: they would not go with the venv's half
    (_file("RUN --mount=type=bind,source=requirements.txt,target=/tmp/r.txt " + KEPT[4:]), None),
    (_file("RUN --network=host " + KEPT[4:]), None),
    # a COPY into the venv, or into a folder above it of a folder, a wildcard or an archive
    (_file(KEPT.replace("-r ", "-r /venv/"), copy="COPY requirements.txt /venv/"), None),
    (_file(KEPT, copy="COPY . /", workdir="/"), None),
    (_file("RUN python -m venv venv && venv/bin/pip install -r requirements.txt", copy="COPY req/ ."),
     {"req/requirements.txt": "flask\n", "app.py": ""}),
    (_file("RUN python -m venv venv && venv/bin/pip install -r requirements.txt", copy="COPY requirements*.txt ."),
     None),
    (_file("RUN python -m venv venv && venv/bin/pip install -r requirements.txt", copy="ADD requirements.txt ."),
     None),
    # a file named as the venv, copied into its parent
    (_file("RUN python -m venv venv && venv/bin/pip install -r requirements.txt",
           copy="COPY requirements.txt .\nCOPY venv ."), {**FILES, "venv": "a file\n"}),
    # a comment line inside the && list would go with the venv's command
    (_file("RUN python -m venv /venv \\\n# the app's deps\n    && /venv/bin/pip install -r requirements.txt"), None),
])
def test_the_run_stays_as_written(text, files):
    builder = _builder(text, files)
    assert "-m venv" in builder
    lines = builder.splitlines()
    venv_line = next(i for i, ln in enumerate(lines) if "-m venv" in ln)
    copies = [i for i, ln in enumerate(lines) if ln.startswith(("COPY", "ADD")) and "--from" not in ln]
    assert not copies or venv_line > copies[-1], builder


def test_uv_venv_goes_first_too_after_the_copy_of_uv():
    text = ("FROM python:3.12\nCOPY --from=ghcr.io/astral-sh/uv:0.5.1 /uv /bin/\nWORKDIR /app\nENV VIRTUAL_ENV=/opt/venv\n"
            "COPY requirements.txt .\nRUN uv venv /opt/venv && uv pip install -r requirements.txt\nCOPY . .\n"
            'CMD ["/opt/venv/bin/python", "app.py"]\n')
    assert _builder(text).endswith("ENV VIRTUAL_ENV=/opt/venv\nRUN uv venv /opt/venv\nCOPY requirements.txt .\n"
                                   "RUN uv pip install -r requirements.txt\n")
