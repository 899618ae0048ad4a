"""What cache-mounts, bytecode and pip-to-uv share about Python installs: the edits they
make (a word removed, a RUN flag, an ENV line), the cache mounts already there, and how a
setting reads. What a RUN installs, and the environment and user it runs with, is the
semantic model's (dockfix.model).
"""

from __future__ import annotations

from collections.abc import Mapping

from dockfix.edits import Edit, insert_before
from dockfix.expand import Budget, expand
from dockfix.model import Part, per_tree
from dockfix.shell import Word
from dockfix.syntax import Comment, Instruction, Tree
from dockfix.views import key_values, mounts

FALSY = ("", "0", "false", "no", "off", "n", "f")


def unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def is_set(env: Mapping[str, str], key: str) -> bool:
    return key in env and env[key].strip().lower() not in FALSY


def option_value(args: list[str], *names: str) -> str | None:
    """The value of `--name value` or `--name=value` (last one wins)."""
    found = None
    for i, arg in enumerate(args):
        for name in names:
            if arg.startswith(name + "="):
                found = arg[len(name) + 1 :]
            elif arg == name and i + 1 < len(args):
                found = args[i + 1]
    return found



# What quoting may take out of a name as written: quotes, escapes (`\\`, or a file's `` ` ``), and
# a continuation's newline. A text with these taken out holds every name the text sets, whole.
_QUOTING = str.maketrans("", "", "\\`\n\r'\"")


def may_set_variable(tree: Tree, prefix: str) -> bool:
    """Whether the file may set a variable whose name starts with `prefix` (ENV, ARG, `export`,
    `K=V cmd`, in a line or a here-document): a file that never writes the prefix sets none (the
    names are as written, less their quoting; dockfix expands no name)."""
    text = per_tree(tree, "text-less-quoting", lambda: "".join(
        [*(i.logical for i in tree.instructions), *(h.body for i in tree.instructions for h in i.heredocs)]
    ).translate(_QUOTING))
    return prefix in text


# --- cache mounts already there ------------------------------------------------

def cache_mount_targets(instr: Instruction, env: Mapping[str, str], spend: Budget | None = None) -> list[tuple[str, str]]:
    """(type, absolute target) of the RUN's mounts, variables expanded where known."""
    out = []
    for mount in mounts(instr):
        target = unquote(mount.target)
        target = expand(target, env, budget=spend) or target
        out.append((unquote(mount.type), target.rstrip("/") or "/"))
    return out


def covers(outer: str, inner: str) -> bool:
    """Whether path `outer` is `inner` or one of its parents (or children)."""
    outer, inner = outer.rstrip("/") or "/", inner.rstrip("/") or "/"
    return outer == inner or inner.startswith(outer + "/") or outer.startswith(inner + "/")


# --- edits -------------------------------------------------------------------

def remove_word(tree: Tree, instr: Instruction, part: Part, word: Word) -> Edit | None:
    """Remove a word with the blanks that set it apart; None when that would
    leave a continuation escape before an empty line (the author's layout
    cannot absorb it)."""
    start, end = part.span(instr, word)
    src = tree.source
    line = tree.lines[tree.line_at(start) - 1]
    before = start
    while before > line.start and src[before - 1] in " \t":
        before -= 1
    first_arg = part.doc is None and word.start == 0  # blanks before it belong to `RUN [flags]`
    if before > line.start and not first_arg:
        return Edit(before, end, "")
    after = end
    while after < line.content_end and src[after] in " \t":
        after += 1
    escape = instr.escape if part.doc is None else "\\"
    rest = src[after:line.content_end]
    if rest and rest != escape:
        return Edit(start, after, "")
    if rest == escape and part.doc is None:
        return Edit(line.start, line.end, "")  # the word had the continued line to itself
    if part.doc is None and word.start > 0:
        # The last line of a continued RUN: take the escape of the line before.
        logical = instr.args_start + word.start
        back = logical
        while back > instr.args_start and instr.logical[back - 1] in " \t":
            back -= 1
        cut = instr.source_offset(back - 1) + 1
        if "#" not in src[cut:start]:
            return Edit(cut, end, "")
    return None


def add_flag(tree: Tree, instr: Instruction, flag: str) -> Edit:
    """Add a flag after the RUN's flags; on its own line when the author puts arguments on one."""
    pos = instr.source_offset(instr.args_start)
    line = tree.lines[tree.line_at(pos) - 1]
    first = instr.code_lines[0]
    if line.number != first.number and not tree.source[line.start:pos].strip(" \t"):
        # Arguments open a continued line: the flag gets its own line, right
        # after the line before (so above any comment lines in between).
        indent = tree.source[line.start:pos]
        prev = max((ln for ln in instr.code_lines if ln.number < line.number), key=lambda ln: ln.number)
        body = prev.text.rstrip(" \t")
        body = body[:-1] if body.endswith(instr.escape) else body
        sep = body[len(body.rstrip(" \t")) :] or " "
        eol = prev.eol or tree.eol
        return Edit(prev.end, prev.end, f"{indent}{flag}{sep}{instr.escape}{eol}")
    return Edit(pos, pos, flag + " ")


MANAGED_ENV = ("UV_LINK_MODE", "UV_COMPILE_BYTECODE")


def ensure_env(tree: Tree, instr: Instruction, key: str, value: str) -> Edit:
    """Set key=value for instr: join a one-line ENV of settings we manage right
    above it (so both transforms share one line), else a new ENV line above it
    and its comments."""
    start = instr.leading_comments[0].start if instr.leading_comments else instr.start
    # the last node other than a comment that ends where instr's block starts; the nodes by end
    # once per tree: a scan of the nodes per install was quadratic over many installs
    ends = per_tree(tree, "nodes-by-end", lambda: {n.end: n for n in tree.nodes if not isinstance(n, Comment)})
    previous = ends.get(start)
    if (isinstance(previous, Instruction) and previous.name == "ENV" and len(previous.lines) == 1
            and "=" in (previous.args.split() or [""])[0]  # an ENV with no arguments is not ours to join
            and all(k in MANAGED_ENV for k, _ in key_values(previous))):
        pos = previous.lines[0].content_end
        return Edit(pos, pos, f" {key}={value}")
    return insert_before(tree, instr, [f"{keyword_case(tree, 'ENV')} {key}={value}"])


def keyword_case(tree: Tree, keyword: str) -> str:
    """The keyword in the file's own case (most files use upper case)."""
    # once per tree: asked for each fix, a count per call was quadratic over many installs
    lower = per_tree(tree, "lower-case", lambda: sum(1 for i in tree.instructions if i.keyword.islower())
                     > len(tree.instructions) / 2)
    return keyword.lower() if lower else keyword
