"""split/between: what a RUN between two dependency installs needs, and where the runtime copies
the environment (the golden cases golden/multistage/between-* show the whole split)."""

from __future__ import annotations

import pytest

from dockfix.context import Context
from dockfix.split.between import BUILDER, Place, needs, placement
from dockfix.split.classify import Classifier
from dockfix.syntax import parse
from dockfix.views import stages

SUITES = ["bookworm"]


def steps_of(body: str):
    tree = parse("FROM python:3.11\n" + body)
    classifier = Classifier(tree)
    return [classifier.step(i) for i in stages(tree)[0].instructions]


def need(run: str, venv: str = "/opt/venv", system: bool = True, before: str = "WORKDIR /app\n",
         files: dict[str, str] | None = None) -> str:
    steps = steps_of(before + run + "\n")
    return needs(steps[-1], steps[:-1], venv, system, SUITES, "3.11", Context(files=files or {}))


@pytest.mark.parametrize("run", [
    "RUN mkdir -p /app/data && chown nobody /app/data",
    "RUN sed -i 's/a/b/' /etc/app.conf && echo \"built $(date +%F)\" > /app/built",
    "RUN mkdir -p ~/.config $HOME/.cache",  # the home folder: the environment is not there
    "RUN apt-get update && apt-get install -y ffmpeg",
])
def test_system_programs_on_other_paths_stay(run):
    assert need(run) == ""


@pytest.mark.parametrize("run, program", [
    ("RUN python manage.py collectstatic --noinput", "python"),
    ("RUN gunicorn --version > /app/v.txt", "gunicorn"),  # a console script: not on the full image
    ("RUN mkdir -p \"$(python3 -c 'import nltk, os; print(os.path.dirname(nltk.__file__))')/x\"", "python3"),
    ("RUN pip freeze > /app/frozen.txt", "pip"),
])
def test_the_interpreter_or_a_console_script_needs_the_environment(run, program):
    assert need(run).startswith(f"runs `{program}`")


def test_a_script_that_runs_python_needs_the_environment():
    files = {"prepare.sh": "#!/bin/sh\nset -e\npython -m app.prepare\n"}
    found = need("RUN ./prepare.sh", before="WORKDIR /app\nCOPY prepare.sh .\n", files=files)
    assert found.startswith("runs `python` (prepare.sh)")


def test_a_search_path_lookup_of_a_console_script_needs_the_environment():
    assert need("RUN ln -s \"$(which gunicorn)\" /usr/bin/gunicorn").startswith("looks `gunicorn` up")
    assert need("RUN ln -s \"$(which sed)\" /usr/local/sbin/sed") == ""


@pytest.mark.parametrize("run, before, why", [
    ("RUN cp $VIRTUAL_ENV/share/app.conf /etc/app.conf", "ENV VIRTUAL_ENV=/opt/venv\n",
     "writes or reads the environment's files (`$VIRTUAL_ENV/share"),
    ("RUN echo /app > $VIRTUAL_ENV/app.pth && echo done > /app/done", "ENV VIRTUAL_ENV=/opt/venv\n",
     "writes or reads the environment's files (`$VIRTUAL_ENV/app.pth`)"),
    ("RUN chown -R app .", "WORKDIR /app\n", "reaches into the environment's folder (`chown ... .`)"),
    ("RUN mkdir -p $DATA/cache", "ARG DATA\n", "names `$DATA/cache`, which dockfix cannot resolve"),
    ("RUN uv run python -m app.prepare", "", "runs `uv`, which manages the environment itself"),
    ("RUN ./missing.sh", "WORKDIR /app\n", "runs what dockfix cannot read"),
])
def test_refused(run, before, why):
    found = need(run, venv="/app/.venv" if "chown" in run else "/opt/venv", system=False, before=before)
    assert found.startswith("!" + why), found


@pytest.mark.parametrize("run", [
    "RUN echo /app/src > $VIRTUAL_ENV/lib/python3.11/site-packages/app.pth",
    "RUN mkdir -p /opt/venv/etc && printf '[global]\\ntimeout = 60\\n' > /opt/venv/pip.conf",
    "RUN ln -s /app/bin/serve $VIRTUAL_ENV/bin/serve && chmod 755 $VIRTUAL_ENV/bin/serve",
    "RUN rm -rf /opt/venv/lib/python3.11/site-packages/*/tests",
])
def test_a_run_that_writes_only_into_the_environment_stays_in_the_builder(run):
    found = need(run, system=False, before="ENV VIRTUAL_ENV=/opt/venv\n")
    assert found.startswith(BUILDER + "writes only into the environment"), found


def test_a_folder_above_the_system_packages_is_refused_only_for_system_installs():
    assert need("RUN chown -R app /usr/local", system=True).startswith("!reaches into the system interpreter's")
    assert need("RUN chown -R app /usr/local", system=False) == ""
    assert need("RUN tar -xzf /tmp/t.tgz -C /usr/local/bin", system=True) == ""  # adds a program, changes none


def place(body: str, files: dict[str, str] | None = None) -> Place | str:
    steps = steps_of(body)
    installs = [i for i, s in enumerate(steps) if s.kind == "install"]
    return placement(steps, installs[0], installs[-1], "/opt/venv", "system", SUITES, "3.11",
                     Context(files=files or {"requirements.txt": "flask==3.0.3\n"}))


INSTALL_NLTK = "RUN pip install nltk==3.9.1\nRUN python -m nltk.downloader punkt\n"


def test_the_copy_goes_before_the_first_run_that_needs_the_packages():
    found = place("WORKDIR /app\nRUN pip install gunicorn\nRUN mkdir /app/data\n" + INSTALL_NLTK
                  + "COPY requirements.txt .\nRUN pip install -r requirements.txt\n")
    assert isinstance(found, Place) and found.copy_at == 4  # the nltk downloader (FROM is not a step)


def test_no_run_needs_the_packages_the_copy_stays_at_the_last_install():
    found = place("RUN pip install gunicorn\nRUN mkdir /app\nRUN pip install flask\n")
    assert found == Place(2)


@pytest.mark.parametrize("later, why", [
    ("RUN pip install --upgrade -r requirements.txt", "upgrades or reinstalls packages (--upgrade)"),
    ("RUN pip install nltk==3.8.1", "a later install names nltk again"),
    ("RUN pip install -r missing.txt", "what the installs name is not known"),
    ("RUN pip uninstall -y nltk", "(`pip uninstall -y`) may change or remove installed packages"),
])
def test_a_later_install_that_may_change_what_the_run_used_refuses(later, why):
    found = place(INSTALL_NLTK + "COPY requirements.txt .\n" + later + "\n")
    assert isinstance(found, str) and why in found, found


@pytest.mark.parametrize("run, files", [
    ("RUN curl -fsSL -o /app/model.bin https://example.org/m", ("/app/model.bin",)),
    ("RUN mkdir -p data/empty && wget -q -O data/m.onnx https://example.org/m && chmod 644 data/m.onnx",
     ("/app/data/empty", "/app/data/m.onnx")),
    ("RUN curl -fsSL https://example.org/m > /srv/m.bin", ()),  # a redirection, but no download option: not read
    ("RUN curl -fsSL https://example.org/a.tgz | tar -xz -C /app", ()),  # tar writes what the archive holds
    ("RUN curl -o /app/m.bin https://example.org/m && rm -f /app/old.bin", ()),  # a deletion the copy cannot make
    ("RUN chmod 600 /etc/passwd && curl -o /app/m.bin https://example.org/m", ()),  # a mode on a file it did not make
    ("RUN curl -o /opt/venv/m.bin https://example.org/m", ()),  # into the environment: the builder alone runs it
])
def test_the_files_a_downloading_run_leaves(run, files):
    from dockfix.split.between import downloads

    steps = steps_of("WORKDIR /app\n" + run + "\n")
    assert downloads(steps[-1], "/opt/venv") == files


def test_an_exec_form_run_is_read_too():
    assert need('RUN ["cp", "/opt/venv/share/app.conf", "/etc/app.conf"]').startswith("!writes or reads the env")
    assert need('RUN ["python", "manage.py", "collectstatic"]').startswith("runs `python`")
    assert need('RUN ["mkdir", "-p", "/app/data"]') == ""


def test_a_later_install_of_a_name_alone_already_there_changes_nothing():
    body = ("WORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\n"
            "RUN python manage.py collectstatic --noinput\nRUN pip install --no-cache-dir gunicorn\n")
    found = place(body, {"requirements.txt": "django==4.2.16\ngunicorn==22.0.0\n"})
    assert isinstance(found, Place) and found.copy_at == 4
    pinned = place(body.replace("pip install --no-cache-dir gunicorn", "pip install gunicorn==23.0.0"),
                   {"requirements.txt": "django==4.2.16\ngunicorn==22.0.0\n"})
    assert isinstance(pinned, str) and "names gunicorn again" in pinned
