"""A lossless Dockerfile tree: every byte of the source belongs to a node.

`parse(text).render() == text` for any text that parses. The tree keeps
offsets into the source rather than copies, so transforms can turn what they
find into text edits that leave every other byte alone.

The lexing rules follow BuildKit's parser (frontend/dockerfile/parser):
lines end at "\\n" (a "\\r" before it belongs to the line ending), parser
directives are only read before anything else, comment and blank lines
inside a continuation are skipped, and heredoc bodies follow the logical
line that opens them in RUN, COPY and ADD.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple, NoReturn

from dockfix.lazy import cached_property

INSTRUCTIONS = frozenset(
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER "
    "ONBUILD RUN SHELL STOPSIGNAL USER VOLUME WORKDIR".split()
)
HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})

_DIRECTIVE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_HEREDOC_WORD = re.compile(r"(\d*)<<(-?)([^<]*)$")
_KEYWORD = re.compile(r"[^ \t]*")
_PLAIN_WORD = re.compile(r"[^ \t]+")  # a word of a text without quotes or escapes (iter_words)
_BLANKS = re.compile(r"[ \t]*")
# What Go's unicode.IsSpace calls blank: BuildKit trims it from line starts, so a line of it is
# blank and "#" after it starts a comment. Not Python's str.isspace(), which also takes \x1c-\x1f.
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
           "\u2028\u2029\u202f\u205f\u3000"
# Instructions whose arguments BuildKit reads as JSON when they start with "[" (and
# that fail when that JSON is an array of anything but strings).
JSON_INSTRUCTIONS = frozenset("RUN CMD ENTRYPOINT SHELL COPY ADD VOLUME".split())
NOT_STRINGS = "when using JSON array syntax, arrays must be comprised of strings only"


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")  # Python accepts NaN and Infinity, Go's decoder does not


_JSON = json.JSONDecoder(parse_constant=_no_constant)


def json_array(args: str) -> list[Any] | None:
    """The JSON array BuildKit reads from arguments, or None (then they are the shell form).

    Like Go's json.Decoder, only the first JSON value counts: `["a"] x` is the array ["a"].
    """
    if not args.startswith("["):
        return None
    try:
        value, _ = _JSON.raw_decode(args)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


class ParseError(ValueError):
    """The text is not a Dockerfile dockfix can rewrite safely."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class Line(NamedTuple):
    """One physical line: `start`..`end` covers its text and its line ending. (A named tuple: a
    file has many, and a frozen dataclass costs several times as much to make.)"""

    number: int
    start: int
    end: int
    text: str  # without the line ending
    eol: str  # "\n", "\r\n" or "" at the end of a file without a final newline

    @property
    def content_end(self) -> int:
        return self.end - len(self.eol)


@dataclass(eq=False, slots=True)
class Node:
    start: int
    end: int
    line: int  # first line, 1-based
    end_line: int


@dataclass(eq=False, slots=True)
class Bom(Node):
    pass


@dataclass(eq=False, slots=True)
class Directive(Node):
    key: str
    value: str


@dataclass(eq=False, slots=True)
class Comment(Node):
    text: str  # the comment line without its line ending or leading blanks


@dataclass(eq=False, slots=True)
class Blank(Node):
    pass


@dataclass(frozen=True, slots=True)
class Flag:
    name: str  # without the leading dashes
    value: str | None
    start: int  # logical offsets of the whole "--name=value" word
    end: int

    @property
    def text(self) -> str:
        return f"--{self.name}" if self.value is None else f"--{self.name}={self.value}"


@dataclass(frozen=True, slots=True)
class Heredoc:
    name: str
    chomp: bool  # <<- strips leading tabs
    quoted: bool  # a quoted delimiter turns off expansion in the body
    fd: int | None
    body_start: int  # source offsets of the body (without the terminator line)
    body_end: int
    end: int  # source offset after the terminator line
    body: str


@dataclass(eq=False)
class Instruction(Node):
    """One instruction: its physical lines, its logical line and its heredocs.

    The *logical* line is what BuildKit reads: continuation escapes removed,
    comment and blank lines inside the continuation skipped. `source_offset(i)`
    is the source offset of logical character i, so a position found in the
    logical line maps back to the exact byte to edit (each code line's part of
    the logical line is a segment: where it starts in the logical line, and in
    the source; a list of an offset per character cost a tenth of the parse).
    """

    keyword: str
    name: str  # the keyword in upper case (asked of every instruction by every transform: made once)
    lines: list[Line]  # physical lines of the logical part (code, comments, blanks)
    code_lines: list[Line]  # the lines that carry code
    logical: str
    segment_starts: list[int]  # the logical offset where each code line's part begins
    segment_sources: list[int]  # the source offset of that part's first character
    flags: tuple[Flag, ...]
    args_start: int  # logical offset where the arguments begin (after flags and a `--`)
    flags_end: int  # logical offset where a new flag goes: args_start, or the `--` ending the flags
    heredocs: tuple[Heredoc, ...]
    escape: str
    leading_comments: list[Comment] = field(default_factory=list)
    # The file's parse memo (shell scripts and structures by text), one dict shared by every
    # instruction of the tree and handed by the engine to the next tree of the same file.
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def args(self) -> str:
        return self.logical[self.args_start :].rstrip(GO_SPACE)

    def source_offset(self, logical_index: int) -> int:
        """Source offset of a logical position; the end maps after the last character."""
        n = len(self.logical)
        if logical_index >= n:
            return self.source_offset(n - 1) + 1 if n else self.start
        if logical_index < 0:  # from the end, as a list index would
            logical_index += n
        k = bisect_right(self.segment_starts, logical_index) - 1
        return self.segment_sources[k] + logical_index - self.segment_starts[k]

    def flag(self, name: str) -> Flag | None:
        return next((f for f in self.flags if f.name == name), None)

    def flag_values(self, name: str) -> list[str]:
        return [f.value or "" for f in self.flags if f.name == name]

    @cached_property
    def exec_form(self) -> list[str] | None:
        """The JSON (exec) form's list, or None for the shell form."""
        value = json_array(self.args)
        if value is not None and all(isinstance(v, str) for v in value):
            return value
        return None

    def is_continued(self) -> bool:
        return len(self.code_lines) > 1


@dataclass(eq=False)
class Tree:
    source: str
    nodes: list[Node]
    lines: list[Line]
    escape: str = "\\"
    # What the layers above compute from this tree (dockfix.model.Model, the stages), kept with
    # it: a tree is never edited in place (an edit makes a new tree), so it stays true, and it
    # goes when the tree goes (no module-level cache holds one file's meaning).
    derived: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)  # see Instruction.memo

    def render(self) -> str:
        return "".join(self.source[n.start : n.end] for n in self.nodes)

    @cached_property
    def instructions(self) -> list[Instruction]:
        return [n for n in self.nodes if isinstance(n, Instruction)]

    @cached_property
    def eol(self) -> str:
        """The file's dominant line ending, used for lines dockfix inserts."""
        crlf = sum(1 for ln in self.lines if ln.eol == "\r\n")
        lf = sum(1 for ln in self.lines if ln.eol == "\n")
        return "\r\n" if crlf > lf else "\n"

    @cached_property
    def directives(self) -> dict[str, str]:
        return {n.key: n.value for n in self.nodes if isinstance(n, Directive)}

    def text_of(self, node: Node) -> str:
        return self.source[node.start : node.end]

    def line_at(self, offset: int) -> int:
        """1-based line number of a source offset."""
        lo, hi = 0, len(self.lines) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.lines[mid].start <= offset:
                lo = mid
            else:
                hi = mid - 1
        return self.lines[lo].number if self.lines else 1


def split_lines(text: str) -> list[Line]:
    lines: list[Line] = []
    add = lines.append
    start = 0
    pieces = text.split("\n")
    tail = pieces.pop()  # after the last "\n": a line without an ending, or nothing
    new = tuple.__new__  # (a Line made as its generated __new__ makes it, without that call: one per line)
    if "\r" not in text:  # most files: every line ends with "\n", none to look at for a "\r"
        for number, piece in enumerate(pieces, start=1):
            end = start + len(piece) + 1
            add(new(Line, (number, start, end, piece, "\n")))
            start = end
    else:
        for number, piece in enumerate(pieces, start=1):
            end = start + len(piece) + 1
            if piece.endswith("\r"):
                add(new(Line, (number, start, end, piece[:-1], "\r\n")))
            else:
                add(new(Line, (number, start, end, piece, "\n")))
            start = end
    if tail:
        add(new(Line, (len(pieces) + 1, start, start + len(tail), tail, "")))
    return lines


def parse(text: str, memo: dict[Any, Any] | None = None, previous: Tree | None = None) -> Tree:
    """Parse Dockerfile text into a lossless tree, or raise ParseError. `memo`: an earlier tree's
    parse memo of the same file (Tree.memo), so that an unchanged RUN is not parsed again.
    `previous`: an earlier tree of the same file (the engine's tree before its edits): an
    instruction whose text is one of its instructions' is copied from it, moved, not parsed again."""
    return _Parser(text, {} if memo is None else memo, previous).parse()


def shell_words(text: str, escape: str = "\\") -> list[tuple[str, int, int]]:
    """Split on unquoted blanks, keeping quotes raw: (word, start, end)."""
    return list(iter_words(text, escape))


def iter_words(text: str, escape: str = "\\") -> Iterator[tuple[str, int, int]]:
    """shell_words one at a time, for callers that stop early (the flags)."""
    if escape not in text and "'" not in text and '"' not in text:  # most texts: words are what blanks part
        for m in _PLAIN_WORD.finditer(text):
            yield m[0], m.start(), m.end()
        return
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            break
        start = i
        quote = None
        while i < n:
            c = text[i]
            if quote:
                if c == quote:
                    quote = None
                elif c == escape and quote == '"' and i + 1 < n:
                    i += 1
            elif c in "'\"":
                quote = c
            elif c == escape and i + 1 < n:
                i += 1
            elif c in " \t":
                break
            i += 1
        yield text[start:i], start, i


def unquote(word: str, escape: str = "\\") -> str:
    """Quote removal as BuildKit's shell lexer does it (no expansion)."""
    return _unquote(word, escape)[0]


def _unquote(word: str, escape: str = "\\") -> tuple[str, bool]:
    """(the word without quotes and escapes, whether it had any quoting)."""
    if escape not in word and "'" not in word and '"' not in word:  # most words: nothing to remove
        return word, False
    out, quoted, i, n = [], False, 0, len(word)
    while i < n:
        c = word[i]
        if c == escape and i + 1 < n:
            out.append(word[i + 1])
            quoted = True
            i += 2
        elif c == "'":
            end = word.find("'", i + 1)
            end = n if end < 0 else end
            out.append(word[i + 1 : end])
            quoted = True
            i = end + 1
        elif c == '"':
            quoted = True
            i += 1
            while i < n and word[i] != '"':
                if word[i] == escape and i + 1 < n and word[i + 1] in ('"', "$", "`", escape):
                    i += 1
                out.append(word[i])
                i += 1
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out), quoted


def _check_json(name: str, args: str, escape: str, line: int) -> None:
    """BuildKit refuses a JSON array of non-strings (`RUN ["a", 1]`) rather than run it as shell."""
    if name in ("ONBUILD", "HEALTHCHECK"):  # the trigger, or the check's CMD, is read the same way
        words = iter_words(args, escape)
        first = next(words, None)
        if first is None or (name == "HEALTHCHECK" and first[0].upper() != "CMD"):
            return
        name, rest = first[0].upper(), len(args)
        for word, start, _ in words:
            if not word.startswith("--"):
                rest = start
                break
        args = args[rest:]
    if name in JSON_INSTRUCTIONS and args.startswith("["):
        value = json_array(args)
        if value is not None and not all(isinstance(v, str) for v in value):
            raise ParseError(NOT_STRINGS, line)


class _Parser:
    def __init__(self, text: str, memo: dict[Any, Any], previous: Tree | None = None):
        self.text = text
        self.memo = memo
        self.lines = split_lines(text)
        self.escape = "\\"
        self.nodes: list[Node] = []
        self.i = 0  # index of the next unread line
        self.previous = previous
        self.reusable: dict[str, list[Instruction]] = {}  # previous's instructions by their first line

    def parse(self) -> Tree:
        if "\x00" in self.text:
            raise ParseError("binary file (contains NUL bytes)")
        self._bom()
        self._directives()
        self._index_previous()
        pending_comments: list[Comment] = []
        lines, add, count = self.lines, self.nodes.append, len(self.lines)  # (locals: a loop per line)
        reusable, instructions = self.reusable, 0
        while self.i < count:
            line = lines[self.i]
            stripped = line.text.lstrip(GO_SPACE)
            if not stripped:
                add(Blank(line.start, line.end, line.number, line.number))
                pending_comments = []
                self.i += 1
            elif stripped[0] == "#":
                comment = Comment(line.start, line.end, line.number, line.number, stripped)
                add(comment)
                pending_comments.append(comment)
                self.i += 1
            else:
                node = (reusable and self._reused(line)) or self._instruction(line, stripped)
                node.leading_comments = pending_comments
                pending_comments = []
                add(node)
                instructions += 1
        if not instructions:
            raise ParseError("file with no instructions")
        return Tree(self.text, self.nodes, self.lines, self.escape, memo=self.memo)

    def _index_previous(self) -> None:
        """Index the previous tree's instructions, when they can be reused: the same escape
        character, and no BOM (which shifts the first line's start) in either text."""
        old = self.previous
        if old is None or old.escape != self.escape or old.source.startswith("\ufeff") \
                or self.text.startswith("\ufeff"):
            return
        for instr in old.instructions:
            self.reusable.setdefault(instr.lines[0].text, []).append(instr)

    def _reused(self, first: Line) -> Instruction | None:
        """A copy of a previous instruction whose text (logical lines, heredoc bodies) is the text
        at `first`, moved to where it is now; None when there is none. The same text parses the
        same way wherever it is (the escape character is the same), unless the old one was cut
        short by the end of its file: then the new one must end its file too."""
        candidates = self.reusable.get(first.text)
        if not candidates:
            return None
        old_source = self.previous.source if self.previous is not None else ""
        text = self.text
        for old in candidates:
            size = old.end - old.start
            start = first.start
            if (old.end == len(old_source)) != (start + size == len(text)) \
                    or not text.startswith(old_source[old.start : old.end], start):  # (one slice, not two)
                continue
            delta, count = start - old.start, old.end_line - old.line + 1
            lines = self.lines[self.i : self.i + len(old.lines)]
            new = Instruction.__new__(Instruction)
            new.start, new.end = start, start + size  # (Node's slots)
            new.line, new.end_line = first.number, first.number + count - 1
            # Its fields, and what was computed from its text, with the moved ones replaced: one
            # dict made at once (an update, then an attribute set per field, cost a fifth more).
            # (Unmoved, it shares the old one's segment_sources, as it shares segment_starts:
            # neither is ever changed.)
            new.__dict__ = {
                **old.__dict__,
                "lines": lines,
                "code_lines": list(lines) if len(old.code_lines) == len(lines) else [
                    lines[c.number - old.line] for c in old.code_lines],
                "segment_sources": [s + delta for s in old.segment_sources] if delta else old.segment_sources,
                "leading_comments": [],
                "memo": self.memo,
            }
            if old.heredocs and delta:
                new.heredocs = tuple(Heredoc(h.name, h.chomp, h.quoted, h.fd, h.body_start + delta,
                                             h.body_end + delta, h.end + delta, h.body) for h in old.heredocs)
            self.i += count
            return new
        return None

    def _bom(self) -> None:
        # The BOM is a node of its own; the first line starts after it.
        if self.text.startswith("\ufeff"):
            self.nodes.append(Bom(0, 1, 1, 1))
            first = self.lines[0]
            self.lines[0] = Line(1, 1, first.end, first.text[1:], first.eol)

    def _directives(self) -> None:
        seen: set[str] = set()
        while self.i < len(self.lines):
            line = self.lines[self.i]
            m = _DIRECTIVE.match(line.text)
            if not m or m.group(1).lower() not in KNOWN_DIRECTIVES:
                return
            key, value = m.group(1).lower(), m.group(2)
            if key in seen:
                raise ParseError(f"only one {key} parser directive can be used", line.number)
            seen.add(key)
            if key == "escape":
                if value not in ("\\", "`"):
                    raise ParseError(f"invalid escape token '{value}' does not match ` or \\", line.number)
                self.escape = value
            self.nodes.append(Directive(line.start, line.end, line.number, line.number, key, value))
            self.i += 1

    def _instruction(self, first: Line, stripped: str) -> Instruction:
        """The instruction whose first line is the next line, `first` (`stripped`: its text without
        its leading blanks)."""
        escape = self.escape
        doubled = escape + escape
        code = stripped.rstrip(" \t")
        # (A slice compared, not endswith: its arguments are parsed at each call. The escape is one
        # character.)
        if code[-1:] != escape or code[-2:] == doubled:  # one line: most instructions
            self.i += 1
            lines, code_lines, logical_text = [first], [first], stripped
            segment_starts, segment_sources = [0], [first.start + len(first.text) - len(stripped)]
        else:
            lines, code_lines, logical_text, segment_starts, segment_sources = self._continued()
        keyword = _KEYWORD.match(logical_text)[0]  # type: ignore[index]  # (it matches an empty text too)
        name = keyword.upper()
        if name not in INSTRUCTIONS:
            raise ParseError(f"unknown instruction: {keyword}", first.number)
        args_start = _BLANKS.match(logical_text, len(keyword)).end()  # type: ignore[union-attr]  # (it always matches)
        if logical_text.startswith("--", args_start):
            flags, args_start, flags_end = self._flags(logical_text, len(keyword))
        else:  # the common case, without the call: no flags, so no word splitting
            flags, flags_end = (), args_start
        if name in ("ONBUILD", "HEALTHCHECK") or logical_text.startswith("[", args_start):  # (else no JSON)
            _check_json(name, logical_text[args_start:].rstrip(), self.escape, first.number)
        heredocs: tuple[Heredoc, ...] = ()
        if name in HEREDOC_INSTRUCTIONS and "<<" in logical_text:  # (else none: not asked)
            heredocs = self._heredocs(logical_text, first.number)
        last_line = self.lines[self.i - 1]
        # By position, in the fields' order (start, end, line, end_line, keyword, name, lines,
        # code_lines, logical, segment_starts, segment_sources, flags, args_start, flags_end,
        # heredocs, escape, leading_comments, memo): eighteen keywords, each matched to its
        # parameter by the call, were an eighth of the parse.
        return Instruction(first.start, last_line.end, first.number, last_line.number, keyword, name, lines,
                           code_lines, logical_text, segment_starts, segment_sources, flags, args_start,
                           flags_end, heredocs, self.escape, [], self.memo)

    def _continued(self) -> tuple[list[Line], list[Line], str, list[int], list[int]]:
        """The lines of an instruction that goes on after its first line (the next line), its
        logical text and its segments (see Instruction)."""
        escape, doubled = self.escape, self.escape * 2
        all_lines, first, count = self.lines, self.i, len(self.lines)  # (locals: a loop per physical line)
        i = first
        code_lines: list[Line] = []
        logical: list[str] = []
        segment_starts: list[int] = []
        segment_sources: list[int] = []
        length = 0
        while i < count:
            line = all_lines[i]
            i += 1
            text, base = line.text, line.start
            if not code_lines:
                skip = len(text) - len(text.lstrip(GO_SPACE))
                text, base = text[skip:], base + skip
            else:
                rest = text.lstrip(GO_SPACE)
                if not rest or rest[0] == "#":
                    continue  # BuildKit skips comments and blank lines inside a continuation
            code_lines.append(line)
            # A single escape at the end of a line, blanks after it, continues the line; a doubled
            # one is text. (A regular expression searched for it from every position of the line.)
            code = text.rstrip(" \t")
            done = code[-1:] != escape or code[-2:] == doubled  # (endswith, without its argument parsing)
            if not done:
                text = code[:-1]
            logical.append(text)
            if text:
                segment_starts.append(length)
                segment_sources.append(base)
                length += len(text)
            if done:
                break
        self.i = i
        return all_lines[first:i], code_lines, "".join(logical), segment_starts, segment_sources

    def _flags(self, logical: str, keyword_end: int) -> tuple[tuple[Flag, ...], int, int]:
        args_start = _BLANKS.match(logical, keyword_end).end()  # type: ignore[union-attr]  # (it always matches)
        if not logical.startswith("--", args_start):  # the common case: no flags, so no word splitting
            return (), args_start, args_start
        flags = []
        rest = logical[keyword_end:]
        args_start = len(logical)
        flags_end = None
        for word, start, end in iter_words(rest, self.escape):
            if word == "--" and flags_end is None:  # BuildKit: the end of the flags (a second one is an argument)
                flags_end = keyword_end + start
                continue
            if flags_end is not None or not word.startswith("--"):
                args_start = keyword_end + start
                break
            name, eq, value = word[2:].partition("=")
            flags.append(Flag(name, _unquote(value, self.escape)[0] if eq else None,
                              keyword_end + start, keyword_end + end))
        return tuple(flags), args_start, args_start if flags_end is None else flags_end

    def _heredocs(self, logical: str, line_number: int) -> tuple[Heredoc, ...]:
        docs = []
        if "<<" not in logical:
            return ()
        for word, _, _ in iter_words(logical, "\\"):
            m = _HEREDOC_WORD.match(word)
            if not m or not m.group(3):
                continue
            name, quoted = _unquote(m.group(3))
            if not name:
                continue
            chomp = m.group(2) == "-"
            body_start = self.lines[self.i].start if self.i < len(self.lines) else len(self.text)
            body: list[str] = []
            while True:
                if self.i >= len(self.lines):
                    raise ParseError(f"unterminated heredoc '{name}'", line_number)
                line = self.lines[self.i]
                self.i += 1
                candidate = line.text.lstrip("\t") if chomp else line.text
                if candidate == name:
                    docs.append(
                        Heredoc(
                            name, chomp, quoted, int(m.group(1)) if m.group(1) else None,
                            body_start, line.start, line.end, "".join(body),
                        )
                    )
                    break
                body.append(line.text + line.eol)  # BuildKit keeps a "\r" in a heredoc body
        return tuple(docs)
