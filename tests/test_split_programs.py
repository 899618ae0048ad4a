"""split/programs: the programs a runtime stage runs, read from its instructions and the
scripts they start, or why that is not known."""

from __future__ import annotations

import pytest

from dockfix.context import Context
from dockfix.split.classify import Classifier
from dockfix.split.programs import Use, executed
from dockfix.syntax import parse
from dockfix.views import stages


def run(dockerfile: str, files: dict[str, str] | None = None) -> list[str] | str:
    tree = parse("FROM python:3.12\n" + dockerfile)
    classifier = Classifier(tree)
    steps = [classifier.step(i) for i in stages(tree)[0].instructions]
    found = executed([(s, steps[:i]) for i, s in enumerate(steps) if s.instr.name != "FROM"], Context(files=files or {}))
    return found.unknown if found.unknown else [u.program for u in found.uses if isinstance(u, Use)]


KNOWN = {
    "substitution": ("RUN V=$(git rev-parse HEAD) && echo `date`\n", ["git", "date"]),
    "and-or-and-groups": ("RUN make || { curl -f x; }\n", ["make", "curl"]),
    "sh-c-in-exec-form": ('CMD ["sh", "-c", "wget -q x && exec gunicorn app:app"]\n', ["sh", "wget", "gunicorn"]),
    "healthcheck": ("HEALTHCHECK --interval=5s CMD nc -z localhost 80 || exit 1\n", ["nc"]),
    "builtins-are-not-programs": ("RUN cd /app && export A=1 && kill -0 1 && [ -f x ]\n", []),
    "script-from-the-context": ('WORKDIR /app\nCOPY . .\nENTRYPOINT ["./start.sh"]\n', ["start.sh", "ps", "python"]),
    "python-script-is-not-read": ('WORKDIR /app\nCOPY . .\nCMD ["./manage.py", "runserver"]\n', ["manage.py", "python3"]),
    "venv-bin": ('CMD ["/opt/venv/bin/gunicorn", "app:app"]\n', ["gunicorn"]),
}
FILES = {"start.sh": "#!/bin/sh\nset -e\nps aux\nexec python -m app \"$@\"\n",
         "manage.py": "#!/usr/bin/env python3\nimport subprocess\n"}


@pytest.mark.parametrize("dockerfile, programs", KNOWN.values(), ids=KNOWN.keys())
def test_known(dockerfile, programs):
    assert run(dockerfile, FILES) == programs


UNKNOWN = {
    "variable-program": ("RUN $TOOL --version\n", "the program `$TOOL` is a variable"),
    "script-not-copied": ('ENTRYPOINT ["/usr/local/sbin/start.sh"]\n', "no COPY from the build context brings"),
    "script-on-the-search-path": ("CMD start.sh\n", "runs start.sh from the search path"),
    "heredoc-run": ("RUN <<EOF\ncurl x\nEOF\n", "a heredoc RUN in the runtime"),
}


@pytest.mark.parametrize("dockerfile, why", UNKNOWN.values(), ids=UNKNOWN.keys())
def test_unknown_is_a_reason(dockerfile, why):
    found = run(dockerfile)
    assert isinstance(found, str) and why in found, found
