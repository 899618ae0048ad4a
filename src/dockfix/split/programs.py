"""Which programs a stage will execute, or why that is not known.

A split moves the app onto the slim image, which lacks the full image's
tools (curl, git, gcc...). Every command the runtime stage runs must be one
dockfix can name: the simple commands of its RUNs, at any depth and inside
command substitutions, CMD, ENTRYPOINT and HEALTHCHECK (exec or shell
form, `sh -c` strings), and the shell scripts they start, read from the
build context through the COPY that brought them. A program named by a
variable, or a script dockfix cannot read, is a reason, never a guess.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from dockfix.context import Context
from dockfix.shell import parse_structure
from dockfix.split.classify import Step, absolute
from dockfix.split.dependencies import Unknown, context_source
from dockfix.syntax import Instruction, json_array, shell_words

SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})
# Built into sh (dash) and bash: no program is looked up for them in shell text.
BUILTINS = frozenset({"cd", "echo", "printf", "test", "[", "pwd", "true", "false", "export", "set", "unset", "exit",
                      "return", "source", ".", ":", "eval", "exec", "read", "shift", "trap", "umask", "wait", "type",
                      "command", "hash", "alias", "unalias", "ulimit", "getopts", "times", "local", "kill", "break",
                      "continue", "readonly", "jobs", "fg", "bg"})
SYSTEM_BIN = frozenset({"/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"})
_DEPTH = 8  # substitutions inside substitutions, scripts starting scripts


@dataclass(frozen=True)
class Use:
    line: int  # the Dockerfile line that makes it run
    program: str  # the basename it is looked up by
    via: str = ""  # a script it runs from, when not the Dockerfile itself
    args: tuple[str, ...] = ()  # its arguments (as written, quotes removed)
    script: bool = False  # a script run by its path from the build context (what it runs is read too)
    path: str = ""  # the program as written (`/venv/bin/python`), when a command names it


@dataclass(frozen=True)
class Executed:
    """What a stage runs: the programs named, and why not all of them could be (None: all were)."""

    uses: list[Use]
    unknown: str | None

    @property
    def programs(self) -> set[str]:
        return {use.program for use in self.uses}


def executed(steps: list[tuple[Step, list[Step]]], context: Context) -> Executed:
    """Programs run by `steps` (each with the steps before it, for COPY lookups). The one reading
    of what a runtime stage runs: the split checks the slim image has each program, keeps uv or
    poetry when they run, and keeps the installers' own packages when the runtime uses them."""
    out: list[Use] = []
    unknown = None
    for step, before in steps:
        try:
            _instruction(step, before, context, out)
        except Unknown as why:  # the other instructions are still read (what is named is known)
            unknown = unknown or str(why)
    return Executed(out, unknown)


def _instruction(step: Step, before: list[Step], context: Context, out: list[Use]) -> None:
    instr = step.instr
    if instr.name == "RUN":
        if instr.heredocs:
            raise Unknown(f"line {instr.line}: a heredoc RUN in the runtime (its programs are not read)")
        _exec_or_shell(instr, instr.exec_form, instr.args, step, before, context, out)
    elif instr.name in ("CMD", "ENTRYPOINT"):
        _exec_or_shell(instr, instr.exec_form, instr.args, step, before, context, out)
    elif instr.name == "HEALTHCHECK":
        words = [w for w, _, _ in shell_words(instr.args, instr.escape)]
        words = [w for w in words if not w.startswith("--")]
        if not words or words[0].upper() == "NONE":
            return
        if words[0].upper() != "CMD":
            raise Unknown(f"line {instr.line}: a HEALTHCHECK dockfix cannot read")
        rest = instr.args[instr.args.upper().index("CMD") + 3:].strip()
        _exec_or_shell(instr, json_array(rest), rest, step, before, context, out)


def _exec_or_shell(instr: Instruction, exec_form: list[str] | None, text: str, step: Step, before: list[Step],
                   context: Context, out: list[Use]) -> None:
    if exec_form is not None:
        if exec_form:  # ENTRYPOINT [] runs nothing
            _argv(exec_form, instr.line, "", step, before, context, out, 0)
    else:
        _shell(text, instr.line, "", step, before, context, out, 0)


def _shell(text: str, line: int, via: str, step: Step, before: list[Step], context: Context, out: list[Use],
           depth: int) -> None:
    if depth > _DEPTH:
        raise Unknown(f"line {line}: commands nested too deep")
    structure = parse_structure(text)
    if structure.body is None:
        raise Unknown(f"line {line}{' (' + via + ')' if via else ''}: shell text not understood ({structure.error})")
    for simple in structure.simple_commands():
        for word in simple.command.words:
            for inner in _substitutions(word.raw):
                _shell(inner, line, via, step, before, context, out, depth + 1)
        argv = simple.command.argv
        if argv and argv[0] not in BUILTINS:
            _argv(argv, line, via, step, before, context, out, depth)


def _argv(argv: list[str], line: int, via: str, step: Step, before: list[Step], context: Context, out: list[Use],
          depth: int) -> None:
    program = argv[0]
    if program in ("$@", "$*"):
        return  # the arguments the script was started with: the CMD, checked on its own
    if "$" in program or "`" in program:
        raise Unknown(f"line {line}: the program `{program}` is a variable")
    name = posixpath.basename(program)
    folder = posixpath.dirname(program) if "/" in program else ""
    script = bool(folder) and folder not in SYSTEM_BIN and not folder.endswith("/bin")  # a venv's bin/ holds its scripts
    out.append(Use(line, name, via, tuple(argv[1:]), script, program))
    if name in SHELLS:
        if "-c" in argv[1:] and argv.index("-c") + 1 < len(argv):
            _shell(argv[argv.index("-c") + 1], line, via, step, before, context, out, depth + 1)
            return
        scripts = [a for a in argv[1:] if not a.startswith("-")]
        if scripts:
            _script(scripts[0], line, step, before, context, out, depth)
        return
    if script:
        _script(program, line, step, before, context, out, depth)  # ./entrypoint.sh, /usr/local/sbin/start.sh
    elif "/" not in program and program.endswith(".sh"):
        raise Unknown(f"line {line}: runs {program} from the search path, which dockfix cannot read")


def _script(path: str, line: int, step: Step, before: list[Step], context: Context, out: list[Use],
            depth: int) -> None:
    """A shell script the stage runs: read from the build context, or a reason."""
    if "$" in path:
        raise Unknown(f"line {line}: runs a script named by a variable ({path})")
    if depth > _DEPTH:
        raise Unknown(f"line {line}: scripts nested too deep")
    if not path.startswith("/") and step.workdir == "?":
        raise Unknown(f"line {line}: runs {path} from a working folder dockfix does not know")
    image_path = path if path.startswith("/") else absolute(path, step.workdir)
    source = context_source(image_path, before, context)
    assert source is not None
    text = context.read(source) or ""
    first = text.split("\n", 1)[0]
    if first.startswith("#!"):
        interpreter = posixpath.basename(first[2:].split()[0]) if first[2:].split() else ""
        if interpreter == "env" and len(first[2:].split()) > 1:
            interpreter = first[2:].split()[1]
        if interpreter not in SHELLS:
            out.append(Use(line, interpreter, source))
            return  # a Python (or other) program: it runs on the interpreter; what it starts is not read
    _shell(text, line, source, step, before, context, out, depth + 1)


_SUBSTITUTION = re.compile(r"\$\(|`")


def _substitutions(raw: str) -> list[str]:
    """The command texts of `$( )` and backquote substitutions in a word (outermost only)."""
    out: list[str] = []
    i = 0
    while True:
        m = _SUBSTITUTION.search(raw, i)
        if m is None:
            return out
        if m.group() == "`":
            end = raw.find("`", m.end())
            if end == -1:
                return out
            out.append(raw[m.end():end])
            i = end + 1
            continue
        level, j = 1, m.end()
        while j < len(raw) and level:
            level += {"(": 1, ")": -1}.get(raw[j], 0)
            j += 1
        if raw[m.end():m.end() + 1] != "(":  # $(( arithmetic )) runs no program
            out.append(raw[m.end():j - 1])
        i = j
