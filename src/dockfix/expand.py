"""Variable expansion in Dockerfile values, as BuildKit does it, within a budget.

`expand` substitutes `$VAR`, `${VAR}`, `${VAR:-default}` / `${VAR-default}`,
`${VAR:+alt}` / `${VAR+alt}` and `${VAR:?msg}` / `${VAR?msg}` (a default or an
alternative may hold references itself), and, when it is given the file's escape
character, takes `<escape>$` as a literal `$`. A variable not in the environment
is unknown: the base image may set it. The result is None when the value depends on
an unknown variable, or, with `partial`, the unknown references stay as written.

Expansion is bounded: a value grows by at most MAX_VALUE characters, nested
substitutions go at most MAX_DEPTH levels deep, and a Budget shared by the
expansions of one file caps the characters substituted and the substitutions made
in all. `ENV A1=$A0$A0`, `ENV A2=$A1$A1` ... doubles at every line: 60 such lines
would need 2**60 characters. A value over a limit (or malformed: `${A`, `${1}`)
is unknown, like an unknown variable: None, or with `partial` the text as written.
Time is linear in the text plus the characters substituted; memory, in the budget.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

MAX_VALUE = 64 * 1024  # characters one expanded value may have
MAX_DEPTH = 16  # `${A:-${B:-...}}` levels
FILE_CHARS = 16 * 1024 * 1024  # characters substituted, all expansions of a file together
FILE_STEPS = 1_000_000  # substitutions, all expansions of a file together

_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME = _NAME_START | frozenset("0123456789")
_SPECIALS: dict[tuple[str | None, str | None], re.Pattern[str]] = {}


class Budget:
    """What the expansions of one file may still substitute (characters, substitutions)."""

    __slots__ = ("chars", "steps")

    def __init__(self, chars: int = FILE_CHARS, steps: int = FILE_STEPS) -> None:
        self.chars = chars
        self.steps = steps


class _Unknown(Exception):
    """A variable the environment does not hold (or a modifier dockfix does not evaluate)."""


class _Over(Exception):
    """A limit reached, or a substitution BuildKit would refuse."""


def expand(text: str, env: Mapping[str, str], *, partial: bool = False, escape: str | None = None,
           budget: Budget | None = None) -> str | None:
    """`text` with its variables substituted from `env` (see the module's documentation).

    `escape`: the Dockerfile's escape character, for text as written (not for values
    that have had their quotes and escapes removed already). `budget`: share one per
    file; without one, the expansion has its own (one value's limits still hold)."""
    if "$" not in text and (escape is None or escape not in text):
        return text  # nothing to expand: no cost
    try:
        return _Expansion(text, env, partial, escape, budget or Budget()).word(0, None, True, 0)[0]
    except _Unknown:
        return None
    except _Over:
        return text if partial else None


class _Expansion:
    __slots__ = ("text", "env", "partial", "escape", "budget", "special")

    def __init__(self, text: str, env: Mapping[str, str], partial: bool, escape: str | None, budget: Budget):
        self.text, self.env, self.partial, self.escape, self.budget = text, env, partial, escape, budget

    def _special(self, stop: str | None) -> re.Pattern[str]:
        key = (stop, self.escape)
        found = _SPECIALS.get(key)
        if found is None:
            chars = "$" + (stop or "") + (self.escape or "")
            found = _SPECIALS[key] = re.compile("[" + re.escape(chars) + "]")
        return found

    def word(self, i: int, stop: str | None, live: bool, depth: int) -> tuple[str, int]:
        """Expand from i up to `stop` (None: the end); (the expansion, where it stopped).
        Not `live`: only find the end (a default that is not used)."""
        if depth > MAX_DEPTH:
            raise _Over
        text, n, escape = self.text, len(self.text), self.escape
        special = self._special(stop)
        out: list[str] = []
        size = 0
        while i < n:
            m = special.search(text, i)
            j = m.start() if m else n
            if j > i:
                if live:
                    out.append(text[i:j])
                    size += j - i
                i = j
            if i >= n:
                break
            c = text[i]
            if c == stop:
                break
            if c == escape:
                if i + 1 < n:
                    piece, i = text[i + 1], i + 2
                else:
                    piece, i = c, i + 1
            else:
                piece, i = self.dollar(i, live, depth)
            if live:
                out.append(piece)
                size += len(piece)
            if size > MAX_VALUE:
                raise _Over
        if stop is not None and i >= n:
            raise _Over  # `${A:-x` never closes: BuildKit refuses it
        return "".join(out), i

    def dollar(self, i: int, live: bool, depth: int) -> tuple[str, int]:
        """The substitution at text[i] == "$": (its value, where it ends)."""
        text, n = self.text, len(self.text)
        j = i + 1
        if j < n and text[j] in _NAME_START:
            k = j + 1
            while k < n and text[k] in _NAME:
                k += 1
            return (self.lookup(text[j:k], text[i:k]) if live else ""), k
        if j >= n or text[j] != "{":
            return "$", j  # `$` alone, `$1`, `$@`: a literal dollar
        k = j + 1
        while k < n and text[k] in _NAME:
            k += 1
        name = text[j + 1:k]
        if not name or name[0] not in _NAME_START or k >= n:
            raise _Over  # `${}`, `${1}`, `${A`: BuildKit refuses them
        if text[k] == "}":
            return (self.lookup(name, text[i:k + 1]) if live else ""), k + 1
        colon = text[k] == ":"
        op = text[k + 1] if colon and k + 1 < n else text[k]
        start = k + 2 if colon else k + 1
        if op not in "-=+?#%/":
            raise _Over  # an unsupported modifier: BuildKit refuses it
        if not live:
            return "", self.word(start, "}", False, depth + 1)[1] + 1
        env = self.env
        known = name in env
        value = env[name] if known else None
        empty = not value  # unset or empty
        if op in "-=":  # the default when unset (`:-`: or empty); `=` assigns in a shell, read alike
            use = not known or (colon and empty)
            alt, end = self.word(start, "}", use, depth + 1)
            if use:
                return alt, end + 1
            return self.lookup(name, ""), end + 1
        if op == "+" and known:  # the alternative when set (`:+`: and not empty)
            use = not (colon and empty)
            alt, end = self.word(start, "}", use, depth + 1)
            return (alt if use else ""), end + 1
        if op == "?" and known and not (colon and empty):
            end = self.word(start, "}", False, depth + 1)[1]
            return self.lookup(name, ""), end + 1
        # Unset with `+` or `?` (the base image may set it), or a pattern (#, %, /): unknown.
        end = self.word(start, "}", False, depth + 1)[1]
        if not self.partial:
            raise _Unknown
        return text[i:end + 1], end + 1

    def lookup(self, name: str, written: str) -> str:
        value = self.env.get(name)
        if value is None:
            if not self.partial:
                raise _Unknown
            return written
        budget = self.budget
        budget.steps -= 1
        budget.chars -= len(value)
        if budget.steps < 0 or budget.chars < 0 or len(value) > MAX_VALUE:
            raise _Over
        return value
