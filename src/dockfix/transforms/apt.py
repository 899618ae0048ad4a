"""apt: `--no-install-recommends`, and remove the package lists the install left.

Also alpine's `apk add --no-cache` and dnf/yum/microdnf `clean all`.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.context import Context
from dockfix.edits import Edit, append_to_run
from dockfix.engine import Fix, Note, Transform
from dockfix.facts import not_python_reason
from dockfix.shell import Command, Script, parse_script
from dockfix.syntax import Heredoc, Instruction, Tree
from dockfix.views import Run, stages

NAME = "apt"
APT = ("apt-get", "apt")
APT_LISTS = "/var/lib/apt/lists"
CLEAN_APT = "rm -rf /var/lib/apt/lists/*"


def _installs(cmd: Command, tools: tuple[str, ...], verb: str) -> bool:
    argv = cmd.argv
    return bool(argv) and argv[0].rsplit("/", 1)[-1] in tools and verb in argv[1:]


def _apt_install(cmd: Command) -> bool:
    return _installs(cmd, APT, "install")


def _apt_update(cmd: Command) -> bool:
    return _installs(cmd, APT, "update")


def _removes_apt_lists(cmd: Command) -> bool:
    argv = cmd.argv
    return bool(argv) and argv[0] == "rm" and any(a.rstrip("/*").startswith(APT_LISTS.rstrip("/")) or a.startswith("/var/lib/apt/lists") for a in argv[1:]) \
        or (len(argv) > 1 and argv[0] == "find" and argv[1].startswith(APT_LISTS))


def _keeps_recommends_off(cmd: Command) -> bool:
    return any(a == "--no-install-recommends" or "Install-Recommends" in a for a in cmd.argv)


def _lists_on_mount(run: Run) -> bool:
    return any(m.type in ("cache", "tmpfs") and m.target.rstrip("/") in ("/var/lib/apt", APT_LISTS) for m in run.mounts)


def _scripts(instr: Instruction, tree: Tree) -> list[tuple[Script, int, Heredoc | None]]:
    """(script, source offset its positions are relative to, heredoc) for each shell text."""
    run = Run(instr)
    if run.form == "exec":
        return []
    if run.form == "heredoc":
        out = []
        for doc in instr.heredocs:
            out.append((parse_script(tree.source[doc.body_start:doc.body_end]), doc.body_start, doc))
        return out
    return [(run.script, -1, None)]


def find(tree: Tree, context: Context) -> Iterator[Fix | Note]:
    reason = not_python_reason(tree, context)
    if reason:
        yield Note(NAME, reason)
        return
    for stage in stages(tree):
        runs = [i for i in stage.instructions if i.name == "RUN"]
        # One backward pass (not a scan of the later RUNs per RUN): linear in the stage's size.
        later_needs = [False] * len(runs)
        for index in range(len(runs) - 2, -1, -1):
            later_needs[index] = later_needs[index + 1] or _needs_lists(tree, runs[index + 1])
        for index, instr in enumerate(runs):
            yield from _fix_run(tree, instr, later_needs[index])


def _fix_run(tree: Tree, instr: Instruction, later_needs_lists: bool) -> Iterator[Fix | Note]:
    parts = _scripts(instr, tree)
    if Run(instr).form == "exec":
        return
    for script, base, doc in parts:
        if not script.balanced:
            yield Note(NAME, "shell text too complex to edit safely (unbalanced quotes or parentheses)", instr.line)
            return
        yield from _recommends(instr, script, base)
        yield from _apk(instr, script, base)
        yield from _dnf(tree, instr, script, doc)
    commands = [c for s, _, _ in parts for c in s.commands]
    if not any(_apt_install(c) for c in commands) or any(_removes_apt_lists(c) for c in commands):
        return
    if _lists_on_mount(Run(instr)):
        return
    if not any(_apt_update(c) for c in commands):
        return  # the lists came from an earlier layer: removing them here saves nothing
    if later_needs_lists:
        yield Note(NAME, "apt lists kept: a later RUN installs without `apt-get update`", instr.line)
        return
    yield Fix(NAME, "remove the apt package lists after installing (hadolint DL3009)", instr.line,
              (_append(tree, instr, parts, CLEAN_APT),))


def _needs_lists(tree: Tree, instr: Instruction) -> bool:
    commands = [c for s, _, _ in _scripts(instr, tree) for c in s.commands]
    return any(_apt_install(c) for c in commands) and not any(_apt_update(c) for c in commands)


def _append(tree: Tree, instr: Instruction, parts, command: str) -> Edit:
    script, base, doc = parts[-1]
    if doc is None:
        return append_to_run(tree, instr, command)
    # Heredoc: a new last line in the body, indented like the line before it.
    body = tree.source[doc.body_start:doc.body_end]
    last = body.rstrip("\r\n").rsplit("\n", 1)[-1]
    indent = last[: len(last) - len(last.lstrip(" \t"))]
    eol = "\r\n" if body.endswith("\r\n") else "\n"
    return Edit(doc.body_end, doc.body_end, f"{indent}{command}{eol}")


def _insert_after_word(instr: Instruction, base: int, word_end: int, text: str) -> Edit:
    pos = base + word_end if base >= 0 else instr.source_offset(instr.args_start + word_end - 1) + 1
    return Edit(pos, pos, text)


def _recommends(instr: Instruction, script: Script, base: int) -> Iterator[Fix]:
    for cmd in script.commands:
        if _apt_install(cmd) and not _keeps_recommends_off(cmd):
            word = next(w for w in cmd.words if w.value == "install")
            yield Fix(NAME, "install without recommended packages (hadolint DL3015)", instr.line,
                      (_insert_after_word(instr, base, word.end, " --no-install-recommends"),), safe=False)


def _apk(instr: Instruction, script: Script, base: int) -> Iterator[Fix]:
    commands = script.commands
    if any(c.argv[:1] == ["rm"] and any(a.startswith("/var/cache/apk") for a in c.argv) for c in commands):
        return
    for cmd in commands:
        if _installs(cmd, ("apk",), "add") and "--no-cache" not in cmd.argv:
            word = next(w for w in cmd.words if w.value == "add")
            yield Fix(NAME, "apk add without keeping the index cache (hadolint DL3019)", instr.line,
                      (_insert_after_word(instr, base, word.end, " --no-cache"),))


def _dnf(tree: Tree, instr: Instruction, script: Script, doc: Heredoc | None) -> Iterator[Fix]:
    for tool in ("dnf", "yum", "microdnf"):
        installs = any(_installs(c, (tool,), "install") for c in script.commands)
        cleans = any(c.argv[:1] == [tool] and "clean" in c.argv for c in script.commands) or any(
            c.argv[:1] == ["rm"] and any("/var/cache/" in a for a in c.argv) for c in script.commands)
        if installs and not cleans:
            yield Fix(NAME, f"clean the {tool} cache after installing (hadolint DL3032/DL3040)", instr.line,
                      (_append(tree, instr, [(script, 0, doc)], f"{tool} clean all"),))


TRANSFORM = Transform(NAME, "apt/apk/dnf installs: no recommends, no package lists or caches left in the layer", find)
