"""Just enough POSIX shell to find the commands of a RUN line and their words.

Transforms need to know where each simple command starts and ends (to add a
flag or append `&& rm -rf ...` at the right byte) and what its words mean
(`apt-get install -y x`). This is not a shell: it tokenizes quotes, escapes,
`$(...)`, backquotes, operators, subshell parentheses and comments, which is
all a rewrite needs, and keeps every position so edits stay minimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

OPERATORS = ("&&", "||", ";;", ";", "|", "&", "\n")
RESERVED = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!"})


@dataclass(frozen=True, slots=True)
class Word:
    raw: str  # as written, quotes included
    value: str  # quotes and escapes removed (no expansion)
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Command:
    """A simple command: its words, and the operator that follows it."""

    words: tuple[Word, ...]
    separator: str | None  # "&&", "||", ";", "|", "&", "\n" or None at the end
    depth: int  # nesting in ( ) or { }

    @property
    def start(self) -> int:
        return self.words[0].start

    @property
    def end(self) -> int:
        return self.words[-1].end

    @property
    def argv(self) -> list[str]:
        """The words after leading VAR=value assignments (and `sudo`/`exec`)."""
        values = [w.value for w in self.words]
        i = 0
        while i < len(values) and values[i] in RESERVED:
            i += 1
        while i < len(values) and _is_assignment(values[i]):
            i += 1
        while i < len(values) and values[i] in ("sudo", "exec", "command", "time", "env", "nohup"):
            i += 1
            while i < len(values) and (_is_assignment(values[i]) or values[i].startswith("-")):
                i += 1
        return values[i:]

    @property
    def assignments(self) -> dict[str, str]:
        out = {}
        for w in self.words:
            if not _is_assignment(w.value):
                break
            key, _, value = w.value.partition("=")
            out[key] = value
        return out


@dataclass(frozen=True, slots=True)
class Script:
    commands: tuple[Command, ...]
    comment_start: int | None  # offset of a trailing `# comment`, if any
    balanced: bool  # quotes and parentheses all closed

    @property
    def end(self) -> int:
        """Where code ends: after the last command's last word."""
        return self.commands[-1].end if self.commands else 0


def _is_assignment(value: str) -> bool:
    name, eq, _ = value.partition("=")
    return bool(eq) and name.replace("_", "a").isalnum() and not name[0].isdigit()


def parse_script(text: str) -> Script:
    """Split shell text into simple commands with word positions."""
    # Every transform asks for the same RUNs' scripts, each round: parse each text once per
    # file (the engine calls forget_scripts() before each file, so one file's texts never
    # speed up another's and memory stays flat). Scripts are immutable: sharing them is safe.
    return _parse_cached(text) if len(text) <= _CACHE_MAX_TEXT else _parse_script(text)


_CACHE_MAX_TEXT = 1 << 16


def _parse_script(text: str) -> Script:
    commands: list[Command] = []
    words: list[Word] = []
    depth = 0
    comment_start = None
    balanced = True
    i, n = 0, len(text)

    def finish(separator: str | None) -> None:
        nonlocal words
        if words:
            commands.append(Command(tuple(words), separator, depth))
        elif separator and commands and commands[-1].separator in (None, "\n"):
            # `a \n && b` style: keep the real operator on the previous command.
            last = commands[-1]
            commands[-1] = Command(last.words, separator, last.depth)
        words = []

    while i < n:
        c = text[i]
        if c in " \t\r":
            i += 1
            continue
        if c == "#":
            end = text.find("\n", i)
            if comment_start is None and end < 0:  # (not `"\n" in text[i:]`: a copy per comment)
                comment_start = i
            i = n if end < 0 else end
            continue
        op = next((o for o in OPERATORS if text.startswith(o, i)), None)
        if op:
            finish(op)
            i += len(op)
            continue
        if c == "(" or (c == ")" and not words):  # `a (b)` too: a word never starts with "("
            finish(None)
            depth += 1 if c == "(" else -1
            i += 1
            continue
        if c == ")":
            finish(None)
            depth -= 1
            i += 1
            continue
        start = i
        i, value, ok = _read_word(text, i)
        balanced &= ok
        raw = text[start:i]
        if raw in ("{", "}") and not words:
            depth += 1 if raw == "{" else -1
            continue
        if raw in ("}",):
            finish(None)
            depth -= 1
            continue
        words.append(Word(raw, value, start, i))
    finish(None)
    return Script(tuple(commands), comment_start, balanced and depth == 0)


def _read_word(text: str, i: int) -> tuple[int, str, bool]:
    """Read one word from i; return (end, unquoted value, quotes closed)."""
    out: list[str] = []
    n = len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n;&|" or (c in "()" and not out):
            break
        if c == ")":
            break
        if c in "<>":  # redirections: keep `2>&1` in one word
            out.append(c)
            i += 1
            if i < n and text[i] == "&":
                out.append("&")
                i += 1
        elif c == "\\" and i + 1 < n:
            out.append(text[i + 1])
            i += 2
        elif c == "'":
            end = text.find("'", i + 1)
            if end < 0:
                out.append(text[i + 1 :])
                return n, "".join(out), False
            out.append(text[i + 1 : end])
            i = end + 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                j += 1
            out.append(text[i + 1 : j].replace('\\"', '"'))
            if j >= n:
                return n, "".join(out), False
            i = j + 1
        elif c == "$" and text.startswith("$(", i) or c == "`":
            end = _matching(text, i)
            if end < 0:
                return n, "".join(out) + text[i:], False
            out.append(text[i:end])
            i = end
        else:
            out.append(c)
            i += 1
    return i, "".join(out), True


def _matching(text: str, i: int) -> int:
    """End offset of the `$(...)` or backquoted part starting at i, or -1."""
    if text[i] == "`":
        end = text.find("`", i + 1)
        return end + 1 if end >= 0 else -1
    depth, j, n = 0, i + 1, len(text)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == "'":
            end = text.find("'", j + 1)
            if end < 0:
                return -1
            j = end + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return -1


_parse_cached = lru_cache(maxsize=1024)(_parse_script)


def forget_scripts() -> None:
    _parse_cached.cache_clear()
