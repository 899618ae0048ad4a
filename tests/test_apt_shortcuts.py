"""The apt transform's shortcuts answer as the long way does.

apt skips work it can tell is useless: a file whose RUNs call no apt, apk or dnf; a search
of each word for an apt source when the whole text holds none; the unquoting of a COPY's
paths when its text has no quotes or escapes. Each shortcut is checked here against the
reading it stands for.
"""

from __future__ import annotations

import pytest

from dockfix.context import Context
from dockfix.shell import parse_script
from dockfix.syntax import parse
from dockfix.transforms import apt
from dockfix.views import Copy

SCRIPTS = [
    "apt-get update && apt-get install -y curl",
    "echo deb http://x > /etc/apt/sources.list.d/x.list && apt-get update",
    "echo 'deb x' >> /etc/apt/sources.list",
    'echo deb x > "/etc/apt/sour"ces.list.d/x.list',
    "echo deb x > /etc/apt/sour\\ces.list",
    "echo deb x > /etc/apt/sour\\\nces.list && apt-get update",
    "cp x '/etc/apt/preferences.d/pin' && apt-get install -y y",
    "add-apt-repository ppa:deadsnakes/ppa && apt-get update",
    "a\"dd-apt\"-repository ppa:x",
    "extrepo enable node",
    "curl -fsSL https://deb.nodesource.com/setup_20.x | bash - && apt-get install -y nodejs",
    "wget -qO- https://x | sh",
    "curl x || true; apt-get install -y y",
    "echo sources.list | cat",
    "apt-get install -y curl | tee log",
    "pip install sources-list-tool",
]


def _naive_first_source(commands):
    return next((i for i in range(len(commands)) if apt._adds_source(commands, i)), None)


@pytest.mark.parametrize("text", SCRIPTS)
def test_the_first_source_is_the_one_a_scan_of_every_command_finds(text):
    commands = parse_script(text).commands
    assert apt._first_source(text, commands) == _naive_first_source(commands)


@pytest.mark.parametrize("copy", [
    "COPY sources.list /etc/apt/sources.list",
    "COPY x /etc/apt/",
    "COPY x '/etc/apt/preferences.d/'",
    'COPY x "/etc/"apt/',
    "COPY x /etc/ap\\t/",
    'COPY ["x", "/etc/apt/"]',
    "ADD --chown=1 x /etc/apt",
    "COPY /etc/apt/x /opt/",
    "COPY x /opt/etc/apt",
    "COPY x /app",
    "COPY 'x y' /app",
])
def test_a_copy_writes_apt_config_as_its_unquoted_destination_says(copy):
    instr = parse(f"FROM debian\n{copy}\n").instructions[1]
    assert apt._writes_apt_config(instr) == Copy(instr).destination.startswith("/etc/apt")


def test_a_file_whose_runs_call_no_system_package_manager_gets_nothing_from_apt():
    tree = parse("FROM python:3.12\nRUN pip install x && echo 'apt-get update' > notes\n"
                 "COPY sources.list /etc/apt/sources.list\nRUN <<EOF\npython -m venv /v\nEOF\n")
    assert list(apt.find(tree, Context(files={}))) == []


def test_an_apk_or_dnf_install_is_still_found_beside_apt():
    tree = parse("FROM python:3.12-alpine\nRUN apk add gcc\nFROM fedora\nRUN dnf install -y python3\n")
    codes = [item.code for item in apt.find(tree, Context(files={}))]
    assert codes == [apt.APK_NO_CACHE.code, apt.DNF_CLEAN.code]


# apt keeps what a RUN's text alone decides on the instruction (apt._Shell), which a re-parse copies
# with an unchanged RUN: the findings on the tree after an edit must be a fresh parse's, heredoc
# offsets included (they move when the text above changes), and an edited RUN must be read anew.
KEPT_BEFORE = """\
FROM python:3.12-slim AS build
RUN apt-get update && apt-get install -y curl
RUN <<EOF
apt-get update
apt-get install -y gcc
EOF
RUN bash <<SH && echo done
apt-get update && apt-get install -y make
SH
RUN echo deb http://x > /etc/apt/sources.list.d/x.list
RUN apt-get install -y git
FROM build
RUN apk add gcc && dnf install -y x
RUN apt-get install -y y && echo $((
"""


def _findings(tree):
    return [(item.code, item.line, item.message, getattr(item, "edits", ()))
            for item in apt.find(tree, Context(files={}))]


def test_apt_reads_a_reparsed_tree_as_a_fresh_parse_and_keeps_what_an_unchanged_run_decided():
    old = parse(KEPT_BEFORE)
    assert len(_findings(old)) > 5  # the first round: every RUN read, and kept on its instruction
    kept = {i.logical: i.__dict__["apt-shell"] for i in old.instructions if i.name == "RUN"}
    after = "# a comment\n" + KEPT_BEFORE.replace("install -y git", "install -y git vim")
    new = parse(after, old.memo, old)
    assert _findings(new) == _findings(parse(after))
    for instr in new.instructions:
        if instr.name == "RUN":
            assert (instr.__dict__["apt-shell"] is kept.get(instr.logical)) == ("vim" not in instr.logical)


def test_apt_reads_the_shell_texts_the_model_reads():
    tree = parse(KEPT_BEFORE)
    model = apt.Model.of(tree)
    for instr in tree.instructions:
        if instr.name == "RUN":
            shell = apt._shell(instr)
            parts = model.parts(instr)
            assert [s for _, s, _ in shell.texts] == [p.script for p in parts]
            assert [t for t, _, _ in shell.texts] == [
                instr.logical[instr.args_start:] if p.doc is None else tree.source[p.doc.body_start:p.doc.body_end]
                for p in parts]
            assert apt._parts(tree, instr, shell) == [
                (p.script, -1 if p.doc is None else p.doc.body_start, p.doc) for p in parts]
