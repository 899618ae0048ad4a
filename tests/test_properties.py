"""Property tests: Dockerfile-shaped text that no human wrote.

Strategies build files from the pieces real Dockerfiles are made of (and the
ones that trip parsers up): instructions in any case, flags, JSON and shell
forms, continuations with either escape character, comments and blank lines
inside them, CRLF and mixed endings, a BOM, no final newline, tabs, blanks
after the escape, heredocs (<<-, quoted delimiters, several at once,
unterminated), ARG before FROM, ONBUILD, and plain garbage.

Properties: parsing raises nothing but ParseError and renders back byte for
byte; where BuildKit reads a file, it reads it as dockfix does; the whole
pipeline (unsafe fixes on) raises nothing but ParseError, its output parses,
and a second run changes nothing.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dockfix import ParseError, parse
from dockfix.context import Context
from dockfix.edits import append_to_run, apply_edits
from dockfix.engine import run_pipeline
from dockfix.transforms import PIPELINE

from .conftest import corpus_files, read_exact
from .oracle_parse import parse_many
from .test_oracle import disagreements

# CI runs the same examples every time; locally each run explores new ones.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# The suite keeps this file to about two seconds; DOCKFIX_PROPERTY_SCALE=50 explores for minutes.
SCALE = int(os.environ.get("DOCKFIX_PROPERTY_SCALE", "1"))
QUICK = settings(max_examples=150 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYWORDS = ["FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "WORKDIR", "USER", "CMD", "ENTRYPOINT", "LABEL",
            "EXPOSE", "VOLUME", "SHELL", "HEALTHCHECK", "STOPSIGNAL", "ONBUILD", "MAINTAINER"]
WORDS = ["python:3.12-slim", "python:3.11", "debian:bookworm", "AS", "as", "build", "app", "/app", ".", "./",
         "requirements.txt", "pyproject.toml", "uv.lock", "src/", "pip", "install", "-r", "--no-cache-dir",
         "apt-get", "update", "-y", "curl", "&&", "||", ";", "|", "echo", "'a b'", '"$X"', "${V:-1}", "$HOME",
         "A=1", "B=\"x y\"", "C", "8000", "root", "1000:1000", "uv", "sync", "--frozen", "python", "-m",
         "rm", "-rf", "/var/lib/apt/lists/*", "cd", "(", ")", "#", "\\\\", "`", "'", '"', "[", "]", "{", "}",
         "<", ">", "2>&1", "=", "--", "-", "x"]
FLAGS = ["--mount=type=cache,target=/root/.cache/pip", "--mount=type=secret,id=s", "--from=build",
         "--chown=1000:1000", "--chmod=755", "--link", "--platform=$BUILDPLATFORM", "--network=none",
         "--interval=5s", "--", "--keep-git-dir=true", '--mount=type=cache,target="/a b"']
EOLS = ["\n", "\n", "\n", "\r\n"]
BLANKS = st.sampled_from(["", " ", "  ", "\t", " \t"])
# Whole blank lines may hold any of Go's blanks (BuildKit skips them); inside a line BuildKit
# splits some arguments at them too, which dockfix does not model (no real file has them).
BLANK_LINES = st.sampled_from(["", "   ", "\t", "\v", "\xa0", "\u3000 ", "\f"])


@st.composite
def keyword(draw) -> str:
    word = draw(st.sampled_from(KEYWORDS))
    style = draw(st.sampled_from(["upper", "lower", "mixed"]))
    if style == "lower":
        return word.lower()
    if style == "mixed":
        return "".join(c.lower() if draw(st.booleans()) else c for c in word)
    return word


def json_array(draw) -> str:
    items = draw(st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=4)), max_size=4))
    parts = [st.just('"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"') for w in items]
    spaced = draw(st.booleans())
    sep = ", " if spaced else ","
    body = sep.join(draw(p) for p in parts)
    return f"[ {body} ]" if spaced else f"[{body}]"


@st.composite
def heredoc_opener(draw) -> tuple[str, str, bool]:
    name = draw(st.sampled_from(["EOF", "END", "PY", "eot", "A1"]))
    chomp = draw(st.booleans())
    quote = draw(st.sampled_from(["", "'", '"']))
    fd = draw(st.sampled_from(["", "", "3"]))
    return f"{fd}<<{'-' if chomp else ''}{quote}{name}{quote}", name, chomp


@st.composite
def instruction(draw, escape: str) -> str:
    """One instruction: its physical lines joined, each with its own line ending."""
    kw = draw(keyword())
    head = kw
    if kw.upper() == "ONBUILD":
        head += " " + draw(st.sampled_from(["RUN", "run", "COPY", "ENV"]))
    flags = draw(st.lists(st.sampled_from(FLAGS if kw.upper() != "FROM" else FLAGS[6:7]), max_size=2))
    if flags:
        head += " " + " ".join(flags)
    # The arguments: JSON, or shell words spread over continuation lines.
    form = draw(st.sampled_from(["shell", "shell", "json", "heredoc", "empty"]))
    eol = lambda: draw(st.sampled_from(EOLS))  # noqa: E731
    if kw.upper() == "FROM":  # BuildKit's build refuses any other shape (its parser does not)
        return f"{head} {draw(st.sampled_from(['python:3.12', 'scratch', '$BASE']))}" \
               f"{draw(st.sampled_from(['', ' AS b2', ' as final']))}{draw(BLANKS)}{eol()}"
    if form == "empty":
        return head + draw(BLANKS) + eol()
    if form == "json":
        return f"{head} {json_array(draw)}{draw(BLANKS)}{eol()}"
    pieces = draw(st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4), min_size=1, max_size=4))
    lines = [f"{head} {' '.join(pieces[0])}"]
    for words in pieces[1:]:
        # The continuation: the escape, maybe blanks after it, then comments or blank lines.
        lines[-1] += draw(BLANKS) + escape + draw(st.sampled_from(["", "", " ", "\t "]))
        for _ in range(draw(st.integers(0, 2))):
            lines.append(draw(st.one_of(st.sampled_from(["# note", "  # indented note", "\v# note"]), BLANK_LINES)))
        lines.append(draw(BLANKS) + draw(st.sampled_from(["", "&& ", "|| "])) + " ".join(words))
    text = "".join(line + eol() for line in lines)
    if form == "heredoc":
        openers = draw(st.lists(heredoc_opener(), min_size=1, max_size=3))
        text = text[: -len("\r\n") if text.endswith("\r\n") else -1] + " " + " ".join(o for o, _, _ in openers) + eol()
        for i, (_, name, chomp) in enumerate(openers):
            for body in draw(st.lists(st.sampled_from(["echo hi", "\tpip install x", "  set -e", "", "#!/bin/sh",
                                                          "EOFX", "$HOME \\"]), max_size=3)):
                text += body + eol()
            unterminated = i == len(openers) - 1 and draw(st.integers(0, 9)) == 0
            if not unterminated:
                text += ("\t" if chomp and draw(st.booleans()) else "") + name + eol()
    return text


# What naive Python Dockerfiles say, so the transforms have something to fix.
IDIOMS = [
    "COPY . .", "COPY . /app", "COPY requirements.txt .", "COPY pyproject.toml uv.lock ./", "WORKDIR /app",
    "RUN pip install -r requirements.txt", "RUN pip install --no-cache-dir -r requirements.txt",
    "RUN pip install .", "RUN uv sync --frozen", "RUN pip install uv && uv sync",
    "RUN apt-get update && apt-get install -y gcc libpq-dev",
    "RUN apt-get update{esc}{eol}  && apt-get install -y curl{esc}{eol}  && pip install -r requirements.txt",
    "RUN apt-get update && {esc}{eol}    apt-get install -y --no-install-recommends build-essential",
    "RUN python -m compileall .", "ENV PYTHONDONTWRITEBYTECODE=1", "USER nobody",
    "CMD [\"python\", \"app.py\"]", "CMD gunicorn app:app", "FROM python:3.12-slim AS runtime",
    "RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt",
]


@st.composite
def idiom(draw, escape: str) -> str:
    eol = draw(st.sampled_from(EOLS))
    line = draw(st.sampled_from(IDIOMS)).format(esc=escape, eol=eol)
    return (line.lower() if draw(st.integers(0, 5)) == 0 else line) + eol


@st.composite
def dockerfile(draw) -> str:
    escape = draw(st.sampled_from(["\\", "\\", "`"]))
    text = "\ufeff" if draw(st.integers(0, 5)) == 0 else ""
    if draw(st.booleans()):
        text += "# syntax=docker/dockerfile:1" + draw(st.sampled_from(EOLS))
    if escape == "`" or draw(st.integers(0, 4)) == 0:
        text += f"# escape={escape}" + draw(st.sampled_from(EOLS))
    if draw(st.booleans()):
        text += "ARG PY=3.12" + draw(st.sampled_from(EOLS))
    text += f"FROM python:${{PY:-3.12}}-slim{draw(st.sampled_from(['', ' AS build', ' as base']))}\n"
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["instr"] * 3 + ["idiom"] * 4 + ["comment", "blank", "garbage"]))
        if kind == "instr":
            text += draw(instruction(escape))
        elif kind == "idiom":
            text += draw(idiom(escape))
        elif kind == "comment":
            text += draw(st.sampled_from(["# hi", "  # dockfix: ignore", "# dockfix: ignore=apt", "#"])) + "\n"
        elif kind == "blank":
            text += draw(BLANK_LINES) + draw(st.sampled_from(EOLS))
        else:
            text += draw(st.text(max_size=20)) + draw(st.sampled_from(EOLS))
    if draw(st.booleans()):  # no final newline
        text = text.rstrip("\n").removesuffix("\r")
    return text


def _roundtrip_or_parse_error(text: str):
    try:
        tree = parse(text)
    except ParseError as err:
        assert err.message and (err.line is None or err.line >= 1)
        return None
    assert tree.render() == text
    return tree


@QUICK
@given(dockerfile())
def test_dockerfile_shaped_text_parses_or_fails_cleanly_and_round_trips(text):
    _roundtrip_or_parse_error(text)


@QUICK
@given(st.text(max_size=200))
def test_any_text_parses_or_fails_cleanly_and_round_trips(text):
    _roundtrip_or_parse_error(text)


@QUICK
@given(st.binary(max_size=200))
def test_garbage_bytes_decoded_as_text(raw):
    _roundtrip_or_parse_error(raw.decode("utf-8", "replace"))
    _roundtrip_or_parse_error(raw.decode("latin-1"))


@settings(max_examples=4 * SCALE, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(dockerfile(), min_size=40, max_size=40))
def test_buildkit_reads_generated_files_as_dockfix_does(texts):
    # One oracle process per batch: starting BuildKit's parser costs more than parsing.
    # Only where BuildKit reads the file: dockfix is more lenient about arguments a build
    # would refuse anyway (`ENV x` with no value), and has nothing to fix there.
    answers = parse_many(texts)
    # The binding hands text to Go as a C string: it never sees past a NUL (dockfix refuses those).
    read = [(text, answer) for text, answer in zip(texts, answers) if "commands" in answer and "\x00" not in text]
    problems = {text: disagreements(text, answer) for text, answer in read}
    assert not any(problems.values()), {t: p for t, p in problems.items() if p}
    assert len(read) >= len(texts) // 4  # the generator makes mostly valid files: the check is real


CONTEXT_FILES = {
    "requirements.txt": "flask==3.0.0\n",
    "pyproject.toml": "[project]\nname = \"app\"\nversion = \"0.1\"\ndependencies = [\"flask\"]\n",
    "uv.lock": "version = 1\n",
    "app.py": "print('hi')\n",
}


@settings(max_examples=60 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dockerfile(), st.booleans())
# Found by this test: an ENV with only flags above a uv install crashed the UV_LINK_MODE edit.
@example("FROM python:3.12-slim\nENV --keep-git-dir=true\nRUN pip install uv && uv sync\n", True)
def test_the_pipeline_reaches_a_fixpoint_on_any_input(text, with_files):
    files = CONTEXT_FILES if with_files else {}
    try:
        outcome = run_pipeline(text, Context(files=files), PIPELINE, unsafe=True)
    except ParseError:
        return  # the input was not a Dockerfile dockfix reads: reported, nothing written
    tree = parse(outcome.output)  # a bad output raises EngineBug inside the engine already
    assert tree.render() == outcome.output
    again = run_pipeline(outcome.output, Context(files={**files, **outcome.files}), PIPELINE, unsafe=True)
    assert again.output == outcome.output and not again.fixes


def _corpus_texts() -> list[str]:
    return [read_exact(p) for p in corpus_files()]


@st.composite
def mutated_corpus_file(draw) -> str:
    """A real Dockerfile, re-dressed: CRLF, a BOM, no final newline, a naive line spliced in."""
    texts = _corpus_texts()
    if not texts:
        return draw(dockerfile())
    text = draw(st.sampled_from(texts))
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(lines)))
        lines.insert(at, draw(idiom("\\")))
    text = "".join(lines)
    if draw(st.booleans()):
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    if draw(st.integers(0, 3)) == 0:
        text = "\ufeff" + text
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    return text


@settings(max_examples=40 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_corpus_file(), st.booleans())
def test_the_pipeline_on_re_dressed_real_files_keeps_their_line_endings(text, with_files):
    files = CONTEXT_FILES if with_files else {}
    try:
        outcome = run_pipeline(text, Context(files=files), PIPELINE, unsafe=True)
    except ParseError:
        return
    assert parse(outcome.output).render() == outcome.output
    if "\n" in text and text.count("\r\n") == text.count("\n"):  # all CRLF in: all CRLF out
        assert outcome.output.count("\r\n") == outcome.output.count("\n")
    assert outcome.output.startswith("\ufeff") == text.startswith("\ufeff")
    again = run_pipeline(outcome.output, Context(files={**files, **outcome.files}), PIPELINE, unsafe=True)
    assert again.output == outcome.output and not again.fixes


COMMANDS = ["apt-get update", "apt-get install -y curl", "pip install -r requirements.txt", "cd /app",
            "echo 'a  b'", "make", "ls | wc -l", "python -m venv /v", "true || false"]


@st.composite
def run_chain(draw) -> tuple[str, str]:
    """A multi-line RUN in one of the layouts people write, and its escape character."""
    escape = draw(st.sampled_from(["\\", "`"]))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    commands = draw(st.lists(st.sampled_from(COMMANDS), min_size=1, max_size=5))
    indent = draw(st.sampled_from(["  ", "    ", "\t", "        "]))
    space = draw(st.sampled_from([" ", "  "]))
    layout = draw(st.sampled_from(["trailing", "leading", "inline"]))
    if layout == "trailing":
        body = f" &&{space}{escape}{eol}{indent}".join(commands)
    elif layout == "leading":
        body = f"{space}{escape}{eol}{indent}&& ".join(commands)
    else:
        body = " && ".join(commands)
    head = f"# escape={escape}{eol}" if escape == "`" else ""
    final = eol if draw(st.booleans()) else ""
    return f"{head}FROM python:3.12{eol}RUN {body}{final}", escape


@QUICK
@given(run_chain())
def test_append_to_run_adds_exactly_one_command_and_touches_only_the_last_line(case):
    text, _ = case
    tree = parse(text)
    run = tree.instructions[-1]
    out = apply_edits(text, [append_to_run(tree, run, "rm -rf /x")])
    new_run = parse(out).instructions[-1]
    assert " ".join(new_run.args.split()) == " ".join(f"{run.args} && rm -rf /x".split())
    before, after = text.splitlines(keepends=True), out.splitlines(keepends=True)
    assert after[: len(before) - 1] == before[:-1]  # every line but the RUN's last is untouched
    eols = {ln[len(ln.rstrip("\r\n")):] for ln in after[:-1]}
    assert len(eols) == 1  # the new line takes the file's own line ending
