"""Hostile repositories: Dockerfiles written to exhaust dockfix's memory or time.

- Variable expansion is bounded (dockfix.expand): `ENV A1=${A0}${A0}`, `ENV A2=${A1}${A1}` ...
  doubles at every line; 59 lines (1.3 KB) asked for 2**59 characters and took 24 GB before
  the process was killed. A value over a limit is unknown, as an unknown variable is, so the
  transforms do not rely on it; the rest of the file is fixed as usual.
- Every pass over a file is linear in its size (the issue's four shapes are in test_safety; the
  shapes here are more found while profiling): the work for an input four times larger is
  counted, not timed (see test_safety).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dockfix.expand import MAX_DEPTH, MAX_VALUE, Budget, expand
from dockfix.model import command_env, env_before, installs
from dockfix.split.classify import Classifier, resolve
from dockfix.split.equivalence import final_config
from dockfix.syntax import parse

from .test_safety import assert_linear, measure_work

DOUBLING = ("FROM python:3.12\nENV A0=x\n" + "".join(f"ENV A{i}=${{A{i - 1}}}${{A{i - 1}}}\n" for i in range(1, 60))
            + "RUN apt-get update && apt-get install -y curl\n")


# --- the file from the issue, and its cousins, in a process with 1 GiB of address space -------

VARIANTS = {
    "env": DOUBLING,  # exactly the file: 1.3 KB
    "arg": ("FROM python:3.12\nARG A0=x\n" + "".join(f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}\n" for i in range(1, 60))
            + "RUN pip install flask\n"),
    "export": ("FROM python:3.12\nRUN export A0=x && "
               + " && ".join(f"export A{i}=$A{i - 1}$A{i - 1}" for i in range(1, 60)) + " && pip install flask\n"),
    "default": ("FROM python:3.12\nENV A0=x\n" + "".join(f"ENV A{i}=${{UNSET:-$A{i - 1}$A{i - 1}}}\n" for i in range(1, 60))
                + "WORKDIR /$A59\nRUN pip install flask\n"),
    "global-arg-and-stages": ("ARG A0=x\n" + "".join(f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}\n" for i in range(1, 60))
                              + "FROM python:3.12 AS base\nARG A59\nENV B=$A59$A59\n"
                              + "FROM base\nENV C=$B$B\nRUN pip install flask\n"),
}

RUN_LIMITED = """
import json, resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GiB: the issue's file took 24 GB
from dockfix.batch import process_one
from dockfix.runner import Options
result = process_one(Path(sys.argv[1]), Options("check", unsafe_fixes=True), timeout=None)
print(json.dumps({"status": result.status, "error": result.error, "fixes": [f.transform for f in result.fixes]}))
"""


@pytest.mark.parametrize("name", VARIANTS)
def test_a_file_that_doubles_a_variable_at_every_line_is_fixed_within_bounded_memory(tmp_path, name):
    (tmp_path / "Dockerfile").write_text(VARIANTS[name])
    (tmp_path / "requirements.txt").write_text("flask\n")
    done = subprocess.run([sys.executable, "-c", RUN_LIMITED, str(tmp_path / "Dockerfile")],
                          capture_output=True, text=True, timeout=300)  # a hang guard: it takes well under a second
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["error"] is None and result["status"] == "changed", result
    if name == "env":
        assert "apt" in result["fixes"]  # the file is fixed as any other
    else:
        assert "cache-mounts" in result["fixes"]


def test_a_value_over_the_limit_is_unknown_to_every_reader():
    tree = parse(DOUBLING)
    run = tree.instructions[-1]
    env = env_before(tree, run)
    # 2**16 characters fit in a value, 2**17 do not: A17 is kept as written, unexpanded, like a
    # value that names an unknown variable; what refers to it is no longer a known value either.
    assert env["A16"] == "x" * 2**16
    assert env["A17"] == "${A16}${A16}"
    assert all(len(v) <= MAX_VALUE for v in env.values())
    classifier = Classifier(tree)
    steps = [classifier.step(instr) for instr in tree.instructions[1:]]
    seen = steps[-1].env  # the split reads the model's environment (it keeps none of its own)
    assert seen is not None and seen["A16"] == env["A16"] and seen["A17"] == "${A16}${A16}"
    assert all(len(v) <= MAX_VALUE for v in seen.values())
    assert all(len(v) <= MAX_VALUE for _, v in final_config(tree).env)


def test_the_export_and_assignment_environment_is_bounded():
    tree = parse(VARIANTS["export"])
    run = tree.instructions[-1]
    (inst,) = installs(tree, run)
    env = command_env(tree, run, inst)
    assert env["A16"] == "x" * 2**16 and "$" in env["A17"]
    assert all(len(env[f"A{i}"]) <= MAX_VALUE for i in range(60))


# --- the one expansion: BuildKit's rules ------------------------------------------------------

ENV = {"A": "a", "EMPTY": "", "HOME": "/root"}


@pytest.mark.parametrize("text, expected", [
    ("plain", "plain"), ("$A", "a"), ("${A}", "a"), ("$A$A/${A}b", "aa/ab"), ("$Ab", None), ("$UNSET", None),
    ("${UNSET:-d}", "d"), ("${UNSET-d}", "d"), ("${EMPTY:-d}", "d"), ("${EMPTY-d}", ""), ("${A:-d}", "a"),
    ("${A:+alt}", "alt"), ("${EMPTY:+alt}", ""), ("${EMPTY+alt}", "alt"), ("${UNSET:+alt}", None),
    ("${UNSET:-$A}", "a"), ("${UNSET:-${A}x}", "ax"), ("${A:-$UNSET}", "a"), ("${A:?msg}", "a"), ("${UNSET?msg}", None),
    ("$", "$"), ("a$1", "a$1"), ("cost $5", "cost $5"),
    ("${A", None), ("${1}", None), ("${}", None), ("${A:x}", None), ("${A%.txt}", None),
], ids=repr)
def test_expansion_follows_buildkit(text, expected):
    assert expand(text, ENV) == expected


def test_unknown_references_stay_as_written_when_partial():
    assert expand("$UNSET/${A}/${UNSET:+x}/${A%y}", ENV, partial=True) == "$UNSET/a/${UNSET:+x}/${A%y}"
    assert expand("${A", ENV, partial=True) == "${A"
    assert resolve("$UNSET/$A", ENV, partial=True) == "$UNSET/a" and resolve("$UNSET/$A", ENV) is None


def test_the_escape_character_makes_a_dollar_literal():
    assert expand(r"\$A$A", ENV, escape="\\") == "$Aa"
    assert expand("`$A$A", ENV, escape="`") == "$Aa"
    assert expand(r"\$A$A", ENV) == r"\aa"  # a value whose escapes were removed already: no escape given


def test_a_value_is_limited_in_size_and_depth():
    big = {"B": "x" * (MAX_VALUE // 2 + 1)}
    assert expand("$B", big) == big["B"]
    assert expand("$B$B", big) is None
    assert expand("$B$B", big, partial=True) == "$B$B"
    assert expand("${U:-" * MAX_DEPTH + "x" + "}" * MAX_DEPTH, ENV) == "x"
    assert expand("${U:-" * 10_000 + "x" + "}" * 10_000, ENV) is None  # no RecursionError


def test_a_file_s_expansions_share_one_budget():
    budget = Budget(chars=100, steps=10)
    value = {"V": "y" * 60}
    assert expand("$V", value, budget=budget) == "y" * 60
    assert expand("$V", value, budget=budget) is None  # 120 characters: over
    assert expand("no variables", value, budget=budget) == "no variables"  # costs nothing
    budget = Budget(steps=3)
    assert expand("$A$A$A", ENV, budget=budget) == "aaa" and expand("$A", ENV, budget=budget) is None


# --- more shapes, linear -----------------------------------------------------------------------

SHAPES = {
    # `apk add --virtual NAME` in one RUN, each looked up in every `apk del` (split/classify).
    "apk-virtual-packages": '"FROM python:3.12-alpine\\nRUN " + " && ".join(f"apk add --virtual .b{i} gcc" for i in '
                            'range(n)) + " && pip install a && apk del .b0\\n"',
    # A FROM chain, each stage with ENV, USER and a useradd (chain walks, environment copies).
    "stage-chain": '"FROM python:3.12 AS s0\\n" + "".join(f"FROM s{i - 1} AS s{i}\\nENV K{i}=v\\nUSER u\\n'
                   'RUN useradd -u {i} u\\nRUN pip install a\\n" for i in range(1, n))',
    # ENV lines, each read by the next, between installs (an environment copied per instruction).
    "env-between-installs": '"FROM python:3.12\\n" + "".join(f"ENV K{i}=$K{i - 1}x\\nRUN pip install a\\n" for i in range(n))',
    # One RUN of `export`s and installs (the exports before each install, read for each).
    "exports-and-installs": '"FROM python:3.12\\nRUN " + " && ".join(f"export K{i}=$K{i - 1}v && pip install a" '
                            'for i in range(n)) + "\\n"',
    # Cache mounts and installs with their own cache folders, and `rm`s, in one RUN.
    "mounts-and-installs": '"FROM python:3.12\\nRUN " + "".join(f"--mount=type=cache,target=/c{i} " for i in range(n))'
                           ' + " && ".join(f"pip install --cache-dir=/d{i} a && rm -rf /x{i}" for i in range(n)) + "\\n"',
    # `uv sync` piped n times after a copy of uv.lock (a `cd` looked for before each).
    "uv-sync-segments": '{"Dockerfile": "FROM python:3.12\\nCOPY uv.lock pyproject.toml ./\\nRUN " + "uv sync | " * n '
                        '+ "true\\n", "uv.lock": "", "pyproject.toml": "[project]\\nname = \\"x\\"\\n"}',
    # USER and an install, n times, after a useradd (the RUNs before each searched for it).
    "user-lines": '"FROM python:3.12\\nRUN useradd -u 1000 app\\n" + "USER app\\nRUN pip install a\\n" * n',
    # Installs after a code copy, their requirements file missing (lockfile-first walked back over
    # everything between the copy and each install).
    "installs-after-the-code": '"FROM python:3.12\\nWORKDIR /app\\nCOPY . .\\n" + "RUN pip install -r requirements.txt\\n" * n',
    # Installs of a requirements file copied before them, then the code (the split and pip-to-uv
    # looked for the file's COPY through every step before each install).
    "installs-of-a-copied-file": '{"Dockerfile": "FROM python:3.12\\nWORKDIR /app\\nCOPY requirements.txt .\\n" + '
                                 '"RUN pip install -r requirements.txt -r requirements.txt\\n" * n + "COPY . .\\n'
                                 'CMD [\\"python\\", \\"app.py\\"]\\n", "requirements.txt": "flask\\n"}',
    # Stages with a uv install each (bytecode looked through the whole file once per stage).
    "uv-stages": '"".join(f"FROM python:3.12 AS s{i}\\nRUN uv pip install --system a\\n" for i in range(n))'
                 ' + "CMD [\\"uv\\", \\"run\\", \\"app\\"]\\n"',
    # ENV lines that double a value, then installs: the expansion budget, not the input, bounds it.
    "doubling-then-installs": '"FROM python:3.12\\nENV A0=x\\n" + "".join(f"ENV A{i}=${{A{i - 1}}}${{A{i - 1}}}\\n" '
                              'for i in range(1, n)) + "RUN pip install a\\n" * n',
    # WORKDIRs through a variable and relative ones, each with a code copy and an install, in a
    # chain of stages (the working folder at each instruction: dockfix.model, one pass).
    "workdirs": '"FROM python:3.12 AS s0\\nENV D=/app\\n" + "".join(f"FROM s{i - 1} AS s{i}\\nWORKDIR $D/w{i}\\n'
                'WORKDIR sub\\nCOPY . .\\nRUN pip install -r requirements.txt\\n" for i in range(1, n))',
}
CASES = [("apk-virtual-packages", 100), ("stage-chain", 100), ("env-between-installs", 100),
         ("exports-and-installs", 100), ("mounts-and-installs", 100), ("uv-sync-segments", 100),
         ("user-lines", 100), ("installs-after-the-code", 100), ("installs-of-a-copied-file", 150), ("uv-stages", 100),
         ("doubling-then-installs", 60), ("workdirs", 100)]


@pytest.mark.slow  # subprocesses tracing every line: 1 to 3 s each
@pytest.mark.parametrize("shape, n", CASES, ids=[c[0] for c in CASES])
def test_each_pass_does_work_linear_in_the_input(tmp_path, shape, n):
    # The transforms' pipeline only: the diff of a file with a change on every line is not a pass.
    small, large = measure_work(SHAPES[shape], n, tmp_path, scope="pipeline")
    assert_linear(shape, small, large)
