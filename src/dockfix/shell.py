"""Just enough POSIX shell to find the commands of a RUN line and their words.

Transforms need to know where each simple command starts and ends (to add a
flag or append `&& rm -rf ...` at the right byte) and what its words mean
(`apt-get install -y x`). This is not a shell: it tokenizes quotes, escapes,
`$(...)`, backquotes, operators, subshell parentheses, comments and
here-document bodies, which is all a rewrite needs, and keeps every position
so edits stay minimal.

Two readings share one tokenizer (`_lex`):

- `parse_script`: the flat list of simple commands (`Script.commands`), each
  with the operator after it and its nesting depth. Cheap and forgiving.
- `parse_structure`: the grammar on top of it (lists, and-or chains,
  pipelines, `{ }`, `( )`, if, case, for, while, until, functions), every node
  with its source positions. It understands a text or says why not
  (`Structure.error`), and tells where a command can be appended so that it
  runs exactly when the script succeeds (`Structure.tail`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple, NoReturn, cast

from dockfix.lazy import cached_property

OPERATORS = ("&&", "||", ";;", ";", "|", "&", "\n")
RESERVED = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!"})


class Word(NamedTuple):
    """One shell word. (A named tuple: a file has thousands, and a frozen dataclass costs
    several times as much to make.)"""

    raw: str  # as written, quotes included
    value: str  # quotes and escapes removed (no expansion)
    start: int
    end: int


@dataclass(frozen=True)
class Command:
    """A simple command: its words, and the operator that follows it."""

    words: tuple[Word, ...]
    separator: str | None  # "&&", "||", ";", ";;", "|", "&", "\n" or None at the end
    depth: int  # nesting in ( ) or { }

    @property
    def start(self) -> int:
        return self.words[0].start

    @property
    def end(self) -> int:
        return self.words[-1].end

    @cached_property
    def argv(self) -> list[str]:
        """The words after leading VAR=value assignments (and `sudo`/`exec`). Computed once (every
        transform asks for it, of every command): read it, never change it."""
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


def parse_script(text: str, memo: dict[Any, Any] | None = None) -> Script:
    """Split shell text into simple commands with word positions.

    `memo`: the file's parse memo (syntax.Instruction.memo, one per file, which the engine hands
    from each tree to the next): every transform asks for the same RUNs' scripts, each round, so
    each text is parsed once per file. Scripts are immutable: sharing them is safe."""
    return cast(Script, _memoized(memo, "script", text, _parse_script))


def _memoized(memo: dict[Any, Any] | None, kind: str, text: str, parse: Callable[[str, _Lexed], Any]) -> Any:
    """parse(text, its tokens), looked up first in the file's parse memo (None: no memo). The
    tokens are kept there too: a RUN's script and structure are read from one lexing."""
    if memo is None:
        return parse(text, _lex(text))
    key = (kind, text)
    found = memo.get(key)
    if found is None:
        lexed = memo.get(("lex", text))
        if lexed is None:
            lexed = memo[("lex", text)] = _lex(text)
        found = memo[key] = parse(text, lexed)
    return found


class _Token(NamedTuple):  # (not a frozen dataclass: one per word, and those are slow to build)
    """A word, or an operator (one of OPERATORS, "(" or ")")."""

    op: str | None
    word: Word | None
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Lexed:
    tokens: tuple[_Token, ...]
    comment_start: int | None  # a `# comment` that runs to the end of the text
    closed: bool  # every quote, `$(`, backquote and here-document body closed
    problem: str | None  # what was not closed


# A named tuple made as its generated __new__ makes it, without that call: a file has thousands of tokens.
_new = tuple.__new__
# The operators, tried in OPERATORS' order (a generator over them at each token was a tenth of the lexing).
_OPERATOR = re.compile("|".join(re.escape(o) for o in OPERATORS))


def _lex(text: str) -> _Lexed:
    tokens: list[_Token] = []
    comment_start = None
    closed, problem = True, None
    pending: list[tuple[str, bool]] = []  # here-documents whose bodies start after the next newline
    delimiter_next: bool | None = None  # after a bare `<<`: the next word is the delimiter (strip tabs?)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r":
            i += 1
            continue
        if c in "&|;\n":  # an operator: each of them starts with one of these
            op = _OPERATOR.match(text, i)[0]  # type: ignore[index]  # (one character always matches)
            tokens.append(_new(_Token, (op, None, i, i + len(op))))
            i += len(op)
            if op == "\n" and pending:
                i, found = _skip_bodies(text, i, pending)
                pending = []
                if not found:
                    closed, problem = False, "a here-document without its end line"
            continue
        if c in "()":  # a word never starts with "(" (`a (b)` too), and ")" always ends one
            tokens.append(_new(_Token, (c, None, i, i + 1)))
            i += 1
            continue
        if c == "#":
            end = text.find("\n", i)
            if comment_start is None and end < 0:  # (not `"\n" in text[i:]`: a copy per comment)
                comment_start = i
            i = n if end < 0 else end
            continue
        if c == "\\" and (text.startswith("\n", i + 1) or text.startswith("\r\n", i + 1)):
            i += 2 if text[i + 1] == "\n" else 3  # a line continuation (in a here-document body)
            continue
        start = i
        plain = _PLAIN.match(text, i)
        if plain is not None and ((i := plain.end()) == n or text[i] in _WORD_END):
            # The common word: ordinary characters up to a blank or an operator, its own value
            # (what _read_word makes of it, without the call).
            raw = plain[0]
            tokens.append(_new(_Token, (None, _new(Word, (raw, raw, start, i)), start, i)))
            if delimiter_next is not None:
                pending.append((_delimiter(raw), delimiter_next))
                delimiter_next = None
            continue  # (no "<" in it: no here-document)
        i, value, ok = _read_word(text, start)
        if not ok:
            closed, problem = False, "an unclosed quote, `$(` or backquote"
        word = _new(Word, (text[start:i], value, start, i))
        tokens.append(_new(_Token, (None, word, start, i)))
        if delimiter_next is not None:
            pending.append((_delimiter(word.raw), delimiter_next))
            delimiter_next = None
        elif "<<" in word.raw:
            marker = heredoc_marker(word.raw)
            if marker and marker[0]:
                pending.append(marker)
            elif marker:
                delimiter_next = marker[1]
    return _Lexed(tuple(tokens), comment_start, closed, problem)


def heredoc_marker(raw: str) -> tuple[str, bool] | None:
    """The here-document operator in a word (`<<EOF`, `cat<<-'EOF'`): (delimiter, strip tabs);
    an empty delimiter is the next word's. None for a here-string `<<<` or a quoted `<<`."""
    pos = raw.find("<<")
    if pos < 0 or raw.startswith("<", pos + 2) or (pos and raw[pos - 1] == "<") or any(q in raw[:pos] for q in "'\"\\$`"):
        return None
    spec = raw[pos + 2 :]
    strip = spec.startswith("-")
    return _delimiter(spec[1:] if strip else spec), strip


def _delimiter(raw: str) -> str:
    """A here-document delimiter as written, quotes removed; a redirection after it is not part of it."""
    return re.split(r"[<>]", raw.replace('"', "").replace("'", "").replace("\\", ""), maxsplit=1)[0]


def _skip_bodies(text: str, i: int, pending: list[tuple[str, bool]]) -> tuple[int, bool]:
    """Skip the bodies of the pending here-documents, which start at i; (end, all found)."""
    n = len(text)
    for name, strip_tabs in pending:
        while True:
            if i >= n:
                return n, False
            end = text.find("\n", i)
            line = text[i:] if end < 0 else text[i:end]
            i = n if end < 0 else end + 1
            if (line.lstrip("\t") if strip_tabs else line).rstrip("\r") == name:
                break
    return i, True


def _read_word(text: str, i: int) -> tuple[int, str, bool]:
    """Read one word from i; return (end, unquoted value, quotes closed)."""
    out: list[str] = []
    n = len(text)
    while i < n:
        plain = _PLAIN.match(text, i)
        if plain:  # the common case: a run of ordinary characters
            out.append(plain[0])
            i = plain.end()
            continue
        c = text[i]
        if c in " \t\r\n;&|)" or c == "(" and not _array_start(out):  # `f()`: "(" is an operator
            break
        if c in "<>" and text.startswith("(", i + 1) or c == "(":
            # Process substitution `<(cmd)`, or an array assignment `a=(x y)`: part of the word.
            end = _matching(text, i if c != "(" else i - 1)
            if end < 0:
                return n, "".join(out) + text[i:], False
            out.append(text[i:end])
            i = end
        elif c in "<>":  # redirections: keep `2>&1` in one word
            out.append(c)
            i += 1
            if i < n and text[i] == "&":
                out.append("&")
                i += 1
        elif c == "\\" and text.startswith("\n", i + 1):
            i += 2  # a line continuation: removed
        elif c == "\\" and text.startswith("\r\n", i + 1):
            i += 3
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


_PLAIN = re.compile(r"[^ \t\r\n;&|()<>\\'\"$`]+")
_WORD_END = " \t\r\n;&|)"  # what ends a word after its ordinary characters (see _read_word)


def _array_start(out: list[str]) -> bool:
    """Is the word so far `name=` or `name+=` (so a "(" opens an array)?"""
    word = "".join(out)
    if not word.endswith("="):
        return False
    name = word[:-2] if word.endswith("+=") else word[:-1]
    return bool(name) and _is_assignment(name + "=")


def _matching(text: str, i: int) -> int:
    """End offset of the `$(...)` or backquoted part starting at i, or -1. (Also of `<(...)` and
    `=(...)`: the parenthesis at i + 1 is matched.)"""
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


# ---- the flat reading: Script.commands ----------------------------------------------------

def _parse_script(text: str, lexed: _Lexed) -> Script:
    commands: list[Command] = []
    words: list[Word] = []
    depth = 0
    balanced = lexed.closed
    cases: list[str] = []  # per open `case`: "head" (before `in`), "pattern" or "body"

    def finish(separator: str | None) -> None:
        nonlocal words
        if words:
            commands.append(Command(tuple(words), separator, depth))
        elif separator and commands and commands[-1].separator in (None, "\n"):
            # `a \n && b` style: keep the real operator on the previous command.
            last = commands[-1]
            commands[-1] = Command(last.words, separator, last.depth)
        words = []

    for tok in lexed.tokens:
        op, word = tok.op, tok.word
        if cases and cases[-1] == "pattern":
            # `a|b)` and `(a)`: a case pattern list, not commands, not a subshell.
            if op == ")":
                cases[-1] = "body"
                words = []
            elif word is not None and word.raw == "esac" and not words:
                cases.pop()
                words.append(word)
            elif word is not None:
                words.append(word)
            continue
        if op == "(" or op == ")":
            finish(None)
            depth += 1 if op == "(" else -1
            continue
        if op is not None:
            finish(op)
            if op == ";;" and cases and cases[-1] == "body":
                cases[-1] = "pattern"
            continue
        assert word is not None
        raw = word.raw
        # A command's first word (`then {` too). (The last word decides first: all() over the words
        # at each word was quadratic in a long command.)
        at_start = not words or (words[-1].raw in RESERVED and all(w.raw in RESERVED for w in words))
        if raw == "{" and at_start:
            depth += 1
            continue
        if raw == "}":
            finish(None)
            depth -= 1
            continue
        if at_start and raw == "case":
            cases.append("head")
        elif at_start and raw == "esac" and cases and cases[-1] == "body":
            cases.pop()
        words.append(word)
        if raw == "in" and cases and cases[-1] == "head":
            finish(None)
            cases[-1] = "pattern"
    finish(None)
    return Script(tuple(commands), lexed.comment_start, balanced and depth == 0 and not cases)


# ---- the structure: lists, and-or chains, pipelines, compound commands ----------------------

@dataclass(frozen=True, slots=True)
class Simple:
    """A simple command in the structure (reserved words are not part of it)."""

    command: Command
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Compound:
    """`{ }`, `( )`, if, case, for, select, while, until, or a function definition.

    `parts` are its command lists in source order: the condition and the body of
    while/until, each condition and branch of if (else last), each case arm's
    body, the body of for, the body of a group, subshell or function (a function
    body is itself a Compound, in `body`)."""

    kind: str  # "{", "(", "if", "case", "for", "while", "until", "function"
    parts: tuple[CommandList, ...]
    start: int
    end: int  # after the closing word or parenthesis, and any redirections
    redirected: bool  # `} > log`, `done < file`
    body: Compound | None = None  # a function's body


@dataclass(frozen=True, slots=True)
class Pipeline:
    commands: tuple[Simple | Compound, ...]
    negated: bool  # `! a | b`
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class AndOr:
    """Pipelines joined by `&&` and `||` (left-associative, equal precedence)."""

    pipelines: tuple[Pipeline, ...]
    operators: tuple[str, ...]  # between the pipelines
    background: bool  # ended by `&`
    start: int
    end: int  # after its last pipeline: before the `;`, `&` or newline that ends it


@dataclass(frozen=True, slots=True)
class CommandList:
    items: tuple[AndOr, ...]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Tail:
    """Where a command can be appended (`<offset> && command`) so that it runs exactly when the
    script would have succeeded: after the last and-or list of the top level. `reason` says why
    there is no such place (then `offset` means nothing)."""

    offset: int
    start: int  # where the last pipeline of that list starts (its line gives the indentation)
    reason: str | None
    errexit: bool  # `set -e` is on there: a command on a new line also runs only on success

    @property
    def ok(self) -> bool:
        return self.reason is None


@dataclass(frozen=True, slots=True)
class Structure:
    body: CommandList | None  # None: not understood
    error: str | None  # why not

    def simple_commands(self) -> list[Simple]:
        """Every simple command, in source order, at any depth (function bodies too)."""
        return list(_walk(self.body)) if self.body else []

    def success_path(self) -> list[Simple]:
        """The simple commands of the top level that run when every command succeeds: not after
        a `||` (nor after `&&` following a negated pipeline), not in the background, not in the
        branches or bodies of if, case and loops (the conditions of if, while and until do run).
        `{ }` and `( )` groups are followed."""
        out: list[Simple] = []
        if self.body:
            _success(self.body, out)
        return out

    def tail(self, errexit: bool = False) -> Tail:
        """Where to append a command that must run exactly when the script succeeds (see Tail).

        Refused when a command could end the script with success before that point (`exit`,
        `exit 0`, `return`, `exec cmd` outside a subshell: only `exit N` with a literal non-zero
        N is on the failure path), when a command runs in the background (the appended one could
        run before it ends), or when the text is not understood. When the whole script is one
        `{ }` or `( )` group, the place is at the end of the group's own list. `errexit`: the
        shell starts with `-e` (`sh -e`, a `#!/bin/sh -e` line)."""
        if self.body is None:
            return Tail(0, 0, f"shell text not understood: {self.error}", False)
        scope = self.body
        while (len(scope.items) == 1 and len(scope.items[0].pipelines) == 1 and not scope.items[0].background
               and len(scope.items[0].pipelines[0].commands) == 1):
            only = scope.items[0].pipelines[0].commands[0]
            if not (isinstance(only, Compound) and only.kind in ("{", "(") and not only.redirected):
                break
            scope = only.parts[0]
        if not scope.items:
            return Tail(0, 0, "no command to append to", False)
        for simple in _walk(scope, into_subshells=False):
            why = _ends_the_shell(simple.command)
            if why:
                return Tail(0, 0, f"`{why}` could end the script with success before an appended command", False)
        if any(ao.background for ao in _and_ors(self.body)):
            return Tail(0, 0, "a command runs in the background (`&`): an appended command could run before it ends",
                        False)
        last = scope.items[-1]
        return Tail(last.end, last.pipelines[-1].start, None, _errexit(scope, errexit))


def _walk(node: CommandList | Compound | None, into_subshells: bool = True) -> Iterator[Simple]:
    if node is None:
        return
    if isinstance(node, Compound):
        if node.kind == "(" and not into_subshells:
            return
        for part in node.parts:
            yield from _walk(part, into_subshells)
        yield from _walk(node.body, into_subshells)
        return
    for ao in node.items:
        for pipeline in ao.pipelines:
            for cmd in pipeline.commands:
                if isinstance(cmd, Simple):
                    yield cmd
                else:
                    yield from _walk(cmd, into_subshells)


def _and_ors(node: CommandList | Compound | None) -> Iterator[AndOr]:
    if node is None:
        return
    if isinstance(node, Compound):
        for part in node.parts:
            yield from _and_ors(part)
        yield from _and_ors(node.body)
        return
    for ao in node.items:
        yield ao
        for pipeline in ao.pipelines:
            for cmd in pipeline.commands:
                if isinstance(cmd, Compound):
                    yield from _and_ors(cmd)


def _success(node: CommandList, out: list[Simple]) -> None:
    for ao in node.items:
        if ao.background:
            continue
        ok = True  # the status so far, when every command succeeds
        for index, pipeline in enumerate(ao.pipelines):
            if index and (ao.operators[index - 1] == "&&") != ok:
                continue  # skipped: the status does not change
            for cmd in pipeline.commands:
                if isinstance(cmd, Simple):
                    out.append(cmd)
                elif cmd.kind in ("{", "(", "if", "while", "until"):
                    _success(cmd.parts[0], out)  # a group's body, or the first condition
            ok = not pipeline.negated


def _ends_the_shell(cmd: Command) -> str | None:
    """`exit`/`return` that may succeed, or `exec` with a command: what it is, or None."""
    values = [w.value for w in cmd.words]
    i = 0
    while i < len(values) and _is_assignment(values[i]):
        i += 1
    if i < len(values) and values[i] == "exec":
        if any(not _REDIRECTION.match(w.raw) for w in operands(cmd.words[i + 1 :])):
            return "exec"
        return None
    argv = cmd.argv
    if argv[:1] in (["exit"], ["return"]):
        status = argv[1] if len(argv) > 1 else ""
        if not (status.isdigit() and int(status) % 256 != 0):
            return " ".join(argv[:2])
    return None


def operands(words: tuple[Word, ...]) -> list[Word]:
    """The words that are not redirections (nor their targets)."""
    out, skip = [], False
    for w in words:
        if skip:
            skip = False
        elif _REDIRECTION.match(w.raw):
            skip = _REDIRECTION.fullmatch(w.raw) is not None  # `>` alone: its target follows
        else:
            out.append(w)
    return out


_REDIRECTION = re.compile(r"\d*(?:<<-?|<<<|>>|>\||<>|<&|>&|&>>?|<|>)")


def _errexit(scope: CommandList, on: bool) -> bool:
    """Is `set -e` in force at the end of the list (following its top-level `set` commands)?"""
    for simple in Structure(scope, None).success_path():
        argv = simple.command.argv
        if argv[:1] != ["set"]:
            continue
        args = argv[1:]
        for index, arg in enumerate(args):
            if arg in ("-o", "+o") and index + 1 < len(args) and args[index + 1] == "errexit":
                on = arg == "-o"
            elif re.fullmatch(r"[-+][a-zA-Z]+", arg) and "e" in arg:
                on = arg[0] == "-"
    return on


_MAX_NESTING = 100  # levels of compound commands; deeper: not understood (no recursion limit hit)
_CLOSERS = frozenset({"then", "elif", "else", "fi", "do", "done", "esac", "}", "in"})


class _Unknown(Exception):
    pass


class _Parser:
    def __init__(self, text: str, tokens: tuple[_Token, ...]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0
        self.nesting = 0

    # -- tokens --
    def peek(self, ahead: int = 0) -> _Token | None:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else None

    def next(self) -> _Token:
        tok = self.peek()
        if tok is None:
            self.fail("the text ends inside a command")
        self.i += 1
        return tok

    def position(self) -> int:
        tok = self.peek()
        return tok.start if tok is not None else len(self.text)

    def at_op(self, *ops: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.op in ops

    def at_word(self, *raws: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.word is not None and tok.word.raw in raws

    def adjacent_amp(self) -> bool:
        """Is the next token an `&` written right after the current one (`;&`, `;;&`, `|&`)?"""
        tok, before = self.peek(), self.tokens[self.i - 1] if self.i else None
        return tok is not None and before is not None and tok.op == "&" and tok.start == before.end

    def skip_newlines(self) -> None:
        while self.at_op("\n"):
            self.i += 1

    def expect_word(self, raw: str) -> _Token:
        if not self.at_word(raw):
            self.fail(f"`{raw}` expected{self.where()}")
        return self.next()

    def where(self) -> str:
        tok = self.peek()
        return " before the end" if tok is None else f", found {_shown(tok)}"

    def fail(self, message: str) -> NoReturn:
        raise _Unknown(message)

    # -- grammar --
    def parse(self) -> CommandList:
        return self.command_list(frozenset())

    def at_list_end(self, closers: frozenset[str]) -> bool:
        tok = self.peek()
        if tok is None:
            return True
        if tok.op is not None:
            return tok.op in closers or (tok.op == ";" and ";;" in closers and self.peek(1) is not None
                                         and self.tokens[self.i + 1].op == "&"
                                         and self.tokens[self.i + 1].start == tok.end)
        return tok.word is not None and tok.word.raw in closers

    def command_list(self, closers: frozenset[str]) -> CommandList:
        items: list[AndOr] = []
        self.skip_newlines()
        start = self.position()
        while not self.at_list_end(closers):
            ao = self.and_or()
            if self.at_op("&"):
                self.i += 1
                ao = AndOr(ao.pipelines, ao.operators, True, ao.start, ao.end)
            elif self.at_op(";") and not self.at_list_end(closers):
                self.i += 1
            elif self.at_op("\n") or self.at_list_end(closers):
                pass
            else:
                self.fail(f"unexpected {_shown(self.next())}")
            items.append(ao)
            self.skip_newlines()
        end = items[-1].end if items else start
        return CommandList(tuple(items), start, end)

    def and_or(self) -> AndOr:
        pipelines = [self.pipeline()]
        operators: list[str] = []
        while self.at_op("&&", "||"):
            operators.append(self.next().op or "")
            self.skip_newlines()
            pipelines.append(self.pipeline())
        return AndOr(tuple(pipelines), tuple(operators), False, pipelines[0].start, pipelines[-1].end)

    def pipeline(self) -> Pipeline:
        negated = False
        start = self.position()
        while self.at_word("!"):
            negated = not negated
            self.i += 1
        commands = [self.command()]
        while self.at_op("|"):
            self.i += 1
            if self.adjacent_amp():  # `|&`
                self.i += 1
            self.skip_newlines()
            commands.append(self.command())
        return Pipeline(tuple(commands), negated, start, commands[-1].end)

    def command(self) -> Simple | Compound:
        tok = self.peek()
        if tok is None:
            self.fail("a command is missing at the end")
        if tok.op == "(":
            self.i += 1
            return self.compound("(", tok.start, lambda: [self.closing_paren_list()])
        if tok.op == ")":
            self.fail("unexpected `)`")
        if tok.op is not None:
            self.fail(f"a command is missing before {_shown(tok)}")
        assert tok.word is not None
        raw = tok.word.raw
        if raw == "{":
            self.i += 1
            return self.compound("{", tok.start, lambda: [self.closed_list("}", frozenset({"}"}))])
        if raw == "if":
            self.i += 1
            return self.compound("if", tok.start, self.if_parts)
        if raw in ("while", "until"):
            self.i += 1
            return self.compound(raw, tok.start, self.loop_parts)
        if raw in ("for", "select"):
            self.i += 1
            return self.compound("for", tok.start, self.for_parts)
        if raw == "case":
            self.i += 1
            return self.compound("case", tok.start, self.case_parts)
        if raw == "function":
            self.i += 1
            self.name()
            if self.at_op("("):
                self.empty_parens()
            return self.function(tok.start)
        if raw in _CLOSERS:
            self.fail(f"unexpected `{raw}`")
        if raw == "[[":
            return self.test_command()
        return self.simple()

    def simple(self) -> Simple | Compound:
        words: list[Word] = []
        while (tok := self.peek()) is not None and tok.word is not None:
            words.append(tok.word)
            self.i += 1
        if self.at_op("("):
            if len(words) == 1 and self.peek(1) is not None and self.tokens[self.i + 1].op == ")":
                self.empty_parens()  # `name() compound`: a function definition
                return self.function(words[0].start)
            self.fail(f"unexpected `(` after `{words[-1].raw}`")
        return self.make_simple(words)

    def make_simple(self, words: list[Word]) -> Simple:
        tok = self.peek()
        separator = tok.op if tok is not None and tok.op not in ("(", ")") else None
        command = Command(tuple(words), separator, self.nesting)
        return Simple(command, words[0].start, words[-1].end)

    def test_command(self) -> Simple:
        """`[[ ... ]]`: one command whatever operators and parentheses it holds."""
        words: list[Word] = []
        while True:
            tok = self.peek()
            if tok is None:
                self.fail("`[[` without `]]`")
            self.i += 1
            if tok.word is not None:
                words.append(tok.word)
                if tok.word.raw == "]]":
                    break
        while (tok := self.peek()) is not None and tok.word is not None:  # redirections after it
            words.append(tok.word)
            self.i += 1
        return self.make_simple(words)

    def name(self) -> None:
        tok = self.peek()
        if tok is None or tok.word is None:
            self.fail(f"a name is missing{self.where()}")
        self.i += 1

    def empty_parens(self) -> None:
        self.i += 1
        if not self.at_op(")"):
            self.fail(f"`)` expected{self.where()}")
        self.i += 1

    def function(self, start: int) -> Compound:
        self.skip_newlines()
        body = self.command()
        if not isinstance(body, Compound):
            self.fail("a function body must be a compound command")
        return Compound("function", (), start, body.end, False, body)

    def compound(self, kind: str, start: int, parts: Callable[[], list[CommandList]]) -> Compound:
        self.nesting += 1
        if self.nesting > _MAX_NESTING:
            self.fail(f"more than {_MAX_NESTING} levels of nested commands")
        lists = parts()
        self.nesting -= 1
        end = self.tokens[self.i - 1].end
        redirected = False
        while (tok := self.peek()) is not None and tok.word is not None and tok.word.raw not in _CLOSERS:
            if not _REDIRECTION.match(tok.word.raw):
                self.fail(f"unexpected `{tok.word.raw}` after a compound command")
            redirected = True
            self.i += 1
            end = tok.end
            if _REDIRECTION.fullmatch(tok.word.raw):  # the target is the next word
                target = self.next()
                if target.word is None:
                    self.fail("a redirection without its target")
                end = target.end
        return Compound(kind, tuple(lists), start, end, redirected)

    def closed_list(self, closer: str, closers: frozenset[str]) -> CommandList:
        body = self.command_list(closers)
        self.expect_word(closer)
        return body

    def closing_paren_list(self) -> CommandList:
        body = self.command_list(frozenset({")"}))
        if not self.at_op(")"):
            self.fail(f"`)` expected{self.where()}")
        self.i += 1
        return body

    def if_parts(self) -> list[CommandList]:
        parts = [self.closed_list("then", frozenset({"then"}))]
        branch_end = frozenset({"elif", "else", "fi"})
        parts.append(self.command_list(branch_end))
        while self.at_word("elif"):
            self.i += 1
            parts.append(self.closed_list("then", frozenset({"then"})))
            parts.append(self.command_list(branch_end))
        if self.at_word("else"):
            self.i += 1
            parts.append(self.command_list(frozenset({"fi"})))
        self.expect_word("fi")
        return parts

    def loop_parts(self) -> list[CommandList]:
        condition = self.closed_list("do", frozenset({"do"}))
        return [condition, self.closed_list("done", frozenset({"done"}))]

    def for_parts(self) -> list[CommandList]:
        self.name()
        self.skip_newlines()
        if self.at_word("in"):
            self.i += 1
            while (tok := self.peek()) is not None and tok.word is not None:
                self.i += 1
            if not self.at_op(";", "\n"):
                self.fail(f"`;` or a newline expected after the words of `for`{self.where()}")
            self.i += 1
        elif self.at_op(";"):
            self.i += 1
        self.skip_newlines()
        self.expect_word("do")
        return [self.closed_list("done", frozenset({"done"}))]

    def case_parts(self) -> list[CommandList]:
        self.name()  # the word
        self.skip_newlines()
        self.expect_word("in")
        self.skip_newlines()
        arms: list[CommandList] = []
        while not self.at_word("esac"):
            if self.at_op("("):
                self.i += 1
            while True:  # the patterns: words joined by `|`
                tok = self.next()
                if tok.word is None:
                    self.fail(f"a case pattern expected, found {_shown(tok)}")
                if not self.at_op("|"):
                    break
                self.i += 1
            if not self.at_op(")"):
                self.fail(f"`)` expected after a case pattern{self.where()}")
            self.i += 1
            arms.append(self.command_list(frozenset({";;", "esac"})))
            if self.at_op(";;") or self.at_op(";"):  # `;;`, `;&`, `;;&`
                self.i += 1
                if self.adjacent_amp():
                    self.i += 1
            elif not self.at_word("esac"):
                self.fail(f"`;;` or `esac` expected{self.where()}")
            self.skip_newlines()
        self.i += 1
        return arms


def _shown(tok: _Token) -> str:
    if tok.word is not None:
        return f"`{tok.word.raw}`"
    return "a newline" if tok.op == "\n" else f"`{tok.op}`"


def parse_structure(text: str, memo: dict[Any, Any] | None = None) -> Structure:
    """The structure of shell text, or why it is not understood (`Structure.error`); `memo` as
    parse_script's."""
    return cast(Structure, _memoized(memo, "structure", text, _parse_structure))


def structure_error(text: str, memo: dict[Any, Any] | None = None) -> str | None:
    """parse_structure(text, memo).error, without building the structure of a text whose tokens
    are a flat list of simple commands (`_flat`: most RUNs), which the grammar always understands;
    `memo` as parse_script's (the tokens are looked up there, and a structure already made)."""
    lexed: _Lexed | None = None
    if memo is not None:
        found: Structure | None = memo.get(("structure", text))
        if found is not None:
            return found.error
        lexed = memo.get(("lex", text))
    if lexed is None:
        lexed = _lex(text)
        if memo is not None:
            memo[("lex", text)] = lexed
    if _flat(lexed):
        return None
    return parse_structure(text, memo).error if memo is not None else _parse_structure(text, lexed).error


# The words that, starting a command, make the parser read more than a simple command (compound
# commands, functions, `[[`, `!`) or fail (a closing word out of place).
_GRAMMAR_STARTS = _CLOSERS | {"{", "if", "while", "until", "for", "select", "case", "function", "[[", "!"}


def _flat(lexed: _Lexed) -> bool:
    """True when the tokens are closed and read as simple commands (whose first words start no
    compound) joined by `&&`, `||`, `|`, `;`, `&` and newlines, each `&&`, `||` and `|` followed by
    a command: _Parser understands every such text (command_list, and_or, pipeline, simple). False
    says nothing: parse it."""
    if not lexed.closed:
        return False
    in_command = needed = False  # inside a simple command; a command must come (after &&, ||, |)
    for tok in lexed.tokens:
        op = tok.op
        if op is None:
            if not in_command:
                if tok.word is None or tok.word.raw in _GRAMMAR_STARTS:
                    return False
                in_command = True
                needed = False
        elif op == "\n":
            in_command = False
        elif not in_command:
            return False  # an operator where a command must start
        elif op == "&&" or op == "||" or op == "|":
            in_command, needed = False, True
        elif op == ";" or op == "&":
            in_command = False
        else:
            return False  # `;;`, `(`, `)`
    return not needed


def _parse_structure(text: str, lexed: _Lexed) -> Structure:
    if not lexed.closed:
        return Structure(None, lexed.problem)
    try:
        return Structure(_Parser(text, lexed.tokens).parse(), None)
    except _Unknown as err:
        return Structure(None, str(err))


