"""Which files a path on the command line means.

A folder means every Dockerfile below it, as a careful user would pick them:
files that .gitignore (nested ones too, and .git/info/exclude) ignores are
left out, and so are hidden and vendored folders, unless asked
(`include_hidden`, `use_ignore=False`). Symbolic links are never followed
during a search, so a search never leaves the tree it was given. A file
named on the command line is always processed: discovery is only for folders.

A search must survive a hostile tree. The walk keeps its own stack (any
depth, no recursion) and follows no link, so a link loop is just a name. An
ignore file is read with fileio.read_limited; one that is there but cannot be
read (too large, a FIFO, no permission) is an error for its folder, whose files
are then not searched: it is never a reason to ignore less, or a Dockerfile the
user ignores could be rewritten. A folder that cannot be listed is an error too.
Ignore patterns are matched as git matches them (wildmatch, and dir.c's
precedence) by the matcher below, which never backtracks: its work grows with
the product of the lengths of a pattern and a path, never exponentially. And a
search that lists more than MAX_ENTRIES entries, spends more than MAX_STEPS on
ignore files, or holds more than MAX_PATTERN_PARTS of their patterns stops
with an error: its bounds are far above real repositories.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from pathlib import Path

from dockfix.fileio import MAX_SIZE, InputError, read_limited

PATTERNS = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.dockerfile", "Containerfile", "Containerfile.*")
SKIP_DIRS = frozenset({"node_modules", "vendor", "third_party", "site-packages", "__pycache__", "venv"})

# The bounds of one search, far above real repositories: the Linux kernel has about
# 90,000 files. A generated repository of 9,300 folders and 38,000 entries with a
# 90-line .gitignore takes 0.7 M steps (about a second in all); the 20 M steps of a
# hostile .gitignore of 60,000 wildcard lines took 10 to 20 s on a loaded 2-core machine.
MAX_ENTRIES = 1_000_000
MAX_STEPS = 20_000_000
MAX_PATTERN_PARTS = 500_000  # its ignore files' lines, held together: memory (a line of n wildcards holds n parts)


# Not Dockerfiles though the patterns match them: BuildKit's per-Dockerfile ignore
# file (Dockerfile.dockerignore) and leftovers of editors and patch tools.
NOT_DOCKERFILES = (".dockerignore", ".dockfix", ".orig", ".rej")


def is_dockerfile_name(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in PATTERNS) and not name.endswith(NOT_DOCKERFILES)


class DiscoveryError(InputError):
    """A folder, or part of it, could not be searched; `path` names what failed."""

    def __init__(self, path: Path, message: str):
        super().__init__(message)
        self.path = path


class _OverBudget(Exception):
    pass


class Budget:
    """The work one search may do: entries listed, steps spent on ignore files, patterns held.

    A step is one byte of an ignore file parsed, one pattern tried on a path, or
    one character compared while matching; every loop of the matcher pays for
    itself here, so the count bounds the time a search takes.
    """

    def __init__(self, max_entries: int | None = None, max_steps: int | None = None, max_patterns: int | None = None):
        self.max_entries = MAX_ENTRIES if max_entries is None else max_entries
        self.max_steps = MAX_STEPS if max_steps is None else max_steps
        self.max_patterns = MAX_PATTERN_PARTS if max_patterns is None else max_patterns
        self.entries = 0
        self.steps = 0
        self.patterns = 0

    def listed(self, count: int) -> None:
        self.entries += count
        if self.entries > self.max_entries:
            raise _OverBudget(f"search stopped: more than {self.max_entries:,} files and folders below it; "
                              "name the Dockerfiles, or a smaller folder")

    def hold(self, patterns: int) -> None:
        self.patterns += patterns
        if self.patterns > self.max_patterns:
            raise _OverBudget(f"search stopped: its ignore files hold more than {self.max_patterns:,} patterns "
                              "(or parts of patterns); name the Dockerfiles, or a smaller folder, or use --no-ignore")

    def spend(self, steps: int) -> None:
        self.steps += steps
        if self.steps > self.max_steps:
            raise _OverBudget(f"search stopped: its ignore files took over {self.max_steps:,} steps to apply; "
                              "name the Dockerfiles, or a smaller folder, or use --no-ignore")


# --- gitignore patterns, as git's dir.c and wildmatch.c read and match them ------------
#
# A pattern is cut at its slashes into segments. A segment without wildcards is
# compared as bytes. Otherwise its stars cut it into chunks of fixed width (literal
# bytes, `?`, `[...]`), and the chunks are placed left to right, each at its
# leftmost fit: for stars that cannot cross a slash, the leftmost fit never loses a
# match, so nothing is retried, and a segment costs at most (length of the name + 1)
# x (length of the pattern) comparisons. A `**` segment matches any number of path
# segments; which path segments the pattern segments can reach is tracked as a set,
# segment by segment, so a whole pattern costs at most segments x segments such matches.

_SLASH = 0x2F
_CLASSES = {
    b"alnum": bytes(range(0x30, 0x3A)) + bytes(range(0x41, 0x5B)) + bytes(range(0x61, 0x7B)),
    b"alpha": bytes(range(0x41, 0x5B)) + bytes(range(0x61, 0x7B)),
    b"blank": b" \t",
    b"cntrl": bytes(range(0x20)) + b"\x7f",
    b"digit": bytes(range(0x30, 0x3A)),
    b"graph": bytes(range(0x21, 0x7F)),
    b"lower": bytes(range(0x61, 0x7B)),
    b"print": bytes(range(0x20, 0x7F)),
    b"punct": b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    b"space": b"\t\n\r ",  # git's own ctype: no \v, no \f
    b"upper": bytes(range(0x41, 0x5B)),
    b"xdigit": b"0123456789ABCDEFabcdef",
}
_ANY = frozenset(range(1, 256)) - {_SLASH}  # `?`: any byte but a slash

# Tokens: an int (a literal byte), a frozenset (the bytes `?` or `[...]` matches), a
# _Star (a run of `*`, its value how many), or a slash: _SEP, or _ESCAPED_SEP for `\/`.
class _Star(int):
    pass


_SEP, _ESCAPED_SEP = object(), object()


class _Never(Exception):
    """The pattern can match nothing (git: a malformed class, a trailing backslash)."""


def _tokens(pattern: bytes) -> list[object]:
    out: list[object] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == 0x5C:  # backslash: the next byte as itself
            if i + 1 >= n:
                raise _Never
            out.append(_ESCAPED_SEP if pattern[i + 1] == _SLASH else pattern[i + 1])
            i += 2
        elif c == 0x2A:  # a run of stars
            j = i
            while j < n and pattern[j] == 0x2A:
                j += 1
            out.append(_Star(j - i))
            i = j
        elif c == 0x3F:
            out.append(_ANY)
            i += 1
        elif c == 0x5B:
            members, i = _bracket(pattern, i)
            out.append(members)
        elif c == _SLASH:
            out.append(_SEP)
            i += 1
        else:
            out.append(c)
            i += 1
    return out


def _bracket(p: bytes, i: int) -> tuple[frozenset[int], int]:
    """The bytes `[...]` at p[i] matches, and the index after it (wildmatch.c, step by step)."""
    n = len(p)

    def at(k: int) -> int:
        return p[k] if k < n else 0

    k = i + 1
    ch = at(k)
    if ch == 0x5E:  # ^ means ! too
        ch = 0x21
    negated = ch == 0x21
    if negated:
        k += 1
        ch = at(k)
    prev = 0
    close = -1
    members: set[int] = set()
    while True:
        if not ch:
            raise _Never  # unterminated
        if ch == 0x5C:
            k += 1
            ch = at(k)
            if not ch:
                raise _Never
            members.add(ch)
        elif ch == 0x2D and prev and at(k + 1) and at(k + 1) != 0x5D:  # a range
            k += 1
            ch = at(k)
            if ch == 0x5C:
                k += 1
                ch = at(k)
                if not ch:
                    raise _Never
            members.update(range(prev, ch + 1))
            ch = 0
        elif ch == 0x5B and at(k + 1) == 0x3A:  # [:class:]
            start = k + 2
            if close < start:  # the first "]" from here (kept: "[:[:[:..." would rescan the line each time)
                close = p.find(b"]", start)
                if close < 0:
                    raise _Never
            end = close
            if end - start - 1 < 0 or p[end - 1] != 0x3A:
                members.add(0x5B)  # no ":]": a plain "["
                ch = 0x5B
            else:
                name = p[start:end - 1]
                if name not in _CLASSES:
                    raise _Never
                members.update(_CLASSES[name])
                k = end
                ch = 0
        else:
            members.add(ch)
        prev = ch
        k += 1
        ch = at(k)
        if ch == 0x5D:
            break
    matched = (frozenset(range(1, 256)) - members) if negated else frozenset(members)
    return matched - {_SLASH}, k + 1


class _Chunk:
    """A run of fixed-width pattern items, each matching one byte."""

    __slots__ = ("width", "literal", "items", "_rx")

    def __init__(self, items: list[object]):
        self.width = len(items)
        literal = [x for x in items if isinstance(x, int)]
        self.literal = bytes(literal) if len(literal) == len(items) else None
        self.items = items if self.literal is None else []  # only a regex needs them
        self._rx: re.Pattern[bytes] | None = None

    def _regex(self, budget: Budget) -> re.Pattern[bytes]:
        if self._rx is None:
            budget.spend(64 * self.width)  # compiled once, on first use
            parts = []
            for item in self.items:
                if isinstance(item, int):
                    parts.append(re.escape(bytes([item])))
                elif isinstance(item, frozenset) and item:
                    parts.append(b"[" + b"".join(re.escape(bytes([b])) for b in sorted(item)) + b"]")
                else:
                    parts.append(b"(?!)")
            self._rx = re.compile(b"".join(parts))  # fixed width, no repetition: nothing to backtrack
        return self._rx

    def at(self, text: bytes, i: int, budget: Budget) -> bool:
        budget.spend(1 + self.width)
        if self.literal is not None:
            return text.startswith(self.literal, i)
        return self._regex(budget).match(text, i) is not None

    def find(self, text: bytes, lo: int, hi: int, budget: Budget) -> int:
        """The leftmost i in lo..hi-width where the chunk fits in text[i:i + width], or -1."""
        if self.literal is not None:
            i = text.find(self.literal, lo, hi)
        else:
            m = self._regex(budget).search(text, lo, hi)
            i = m.start() if m else -1
        budget.spend(1 + ((i if i >= 0 else hi) - lo + 1) * max(self.width, 1))
        return i


class _Segment:
    """A pattern between slashes, matched against one path segment (a name)."""

    __slots__ = ("exact", "chunks", "min_len", "ends")

    def __init__(self, tokens: list[object]):
        self.exact: bytes | None = None
        self.chunks: list[_Chunk] = []
        self.ends: tuple[bytes, bytes] | None = None  # `prefix*suffix`, both literal: the common case
        literal = [t for t in tokens if isinstance(t, int) and not isinstance(t, _Star)]
        if len(literal) == len(tokens):
            self.exact = bytes(literal)
            self.min_len = len(self.exact)
            return
        current: list[object] = []
        for t in tokens:
            if isinstance(t, _Star):
                self.chunks.append(_Chunk(current))
                current = []
            else:
                current.append(t)
        self.chunks.append(_Chunk(current))
        self.min_len = sum(c.width for c in self.chunks)
        first, last = self.chunks[0].literal, self.chunks[-1].literal
        if len(self.chunks) == 2 and first is not None and last is not None:
            self.ends = (first, last)

    def match(self, name: bytes, budget: Budget) -> bool:
        budget.spend(1)
        if self.exact is not None:
            return name == self.exact
        n = len(name)
        if n < self.min_len:
            return False
        if self.ends is not None:
            return name.startswith(self.ends[0]) and name.endswith(self.ends[1])
        chunks = self.chunks
        if len(chunks) == 1:  # no star
            return n == self.min_len and chunks[0].at(name, 0, budget)
        first, last = chunks[0], chunks[-1]
        if not first.at(name, 0, budget) or not last.at(name, n - last.width, budget):
            return False
        lo, hi = first.width, n - last.width
        for chunk in chunks[1:-1]:
            i = chunk.find(name, lo, hi, budget)
            if i < 0:
                return False
            lo = i + chunk.width
        return True


# A `**` segment: _ANY_DIRS matches zero or more path segments, _SOME_DIRS one or more
# (a trailing `/**`, or one before an escaped slash, as wildmatch has it).
_ANY_DIRS, _SOME_DIRS = object(), object()
_ANY_NAME = _Segment([_Star(1)])


class Pattern:
    """One line of an ignore file."""

    __slots__ = ("negated", "dir_only", "anchored", "segments", "never", "prefix", "after_prefix", "depths")

    def __init__(self, line: bytes):
        self.negated = line.startswith(b"!")
        if self.negated:
            line = line[1:]
        self.dir_only = line.endswith(b"/")
        if self.dir_only:
            line = line[:-1]
        self.anchored = b"/" in line  # a slash (not a trailing one) anchors it to its ignore file's folder
        self.never = not line
        self.segments: list[object] = []  # each a _Segment, _ANY_DIRS or _SOME_DIRS
        self.prefix: bytes | None = None
        self.after_prefix: tuple[list[object], bool] | None = None
        if self.anchored and line.startswith(b"/"):
            line = line[1:]
        try:
            if not self.anchored:  # matched against the name alone; `**` is `*` there
                self.segments = [_Segment(_tokens(line))]
            elif not self._prefix_then_stars(line):
                self.segments = _segments(_tokens(line))
        except _Never:
            self.never = True
        # How many path segments an anchored match can have: a cheap first test.
        fixed = sum(1 for seg in self.segments if seg is not _ANY_DIRS)
        self.depths = (fixed, None if any(not isinstance(seg, _Segment) for seg in self.segments) else fixed)

    def _prefix_then_stars(self, line: bytes) -> bool:
        """git compares the part before the first wildcard as bytes, then wildmatches the rest,
        where a `**` at the start counts as a whole segment: `a/b**/c` also matches a/bc and
        a/bx/y/c, and `build**` all below build. A quirk, but what git ignores."""
        cut = next((i for i, c in enumerate(line) if c in b"*?[\\"), len(line))
        stars = cut
        while stars < len(line) and line[stars] == 0x2A:
            stars += 1
        rest = line[stars:]
        if not cut or line[cut - 1] == _SLASH or stars - cut < 2:
            return False
        if rest[:1] not in (b"", b"/") and rest[:2] != b"\\/":
            return False
        self.prefix = line[:cut]
        if rest:
            escaped = rest.startswith(b"\\")
            self.after_prefix = (_segments(_tokens(rest[2 if escaped else 1:])), not escaped)
        return True

    def parts(self) -> int:
        segments = self.segments + (self.after_prefix[0] if self.after_prefix else [])
        return 1 + sum(1 + len(seg.chunks) for seg in segments if isinstance(seg, _Segment))

    def matches(self, rel: bytes, name: bytes, is_dir: bool, budget: Budget) -> bool:
        """Whether this line matches `rel` (relative to its ignore file's folder, no trailing slash)."""
        budget.spend(1)
        if self.never or (self.dir_only and not is_dir):
            return False
        if not self.anchored:
            seg = self.segments[0]
            assert isinstance(seg, _Segment)
            return seg.match(name, budget)
        if self.prefix is None:
            depth = rel.count(b"/") + 1
            if depth < self.depths[0] or (self.depths[1] is not None and depth > self.depths[1]):
                return False
            return _match_segments(self.segments, rel.split(b"/"), budget)
        if not rel.startswith(self.prefix):
            return False
        if self.after_prefix is None:
            return True  # `**` at the end: anything below
        segments, zero_dirs = self.after_prefix
        names = rel[len(self.prefix):].split(b"/")
        budget.spend(len(names))
        return ((zero_dirs and _match_segments(segments, names, budget))
                or _match_segments([_ANY_NAME, _ANY_DIRS, *segments], names, budget))


def _segments(tokens: list[object]) -> list[object]:
    """The tokens of an anchored pattern cut at its slashes: _Segment, _ANY_DIRS or _SOME_DIRS each."""
    parts: list[list[object]] = [[]]
    escaped: list[bool] = []  # whether the slash after each part was written `\/`
    for t in tokens:
        if t is _SEP or t is _ESCAPED_SEP:
            parts.append([])
            escaped.append(t is _ESCAPED_SEP)
        else:
            parts[-1].append(t)
    out: list[object] = []
    for k, part in enumerate(parts):
        if len(part) == 1 and isinstance(part[0], _Star) and part[0] >= 2:
            last = k == len(parts) - 1
            out.append(_SOME_DIRS if last or escaped[k] else _ANY_DIRS)
        else:
            out.append(_Segment(part))
    return out


def _match_segments(segments: list[object], names: list[bytes], budget: Budget) -> bool:
    n = len(names)
    reach = {0}  # how many path segments the pattern segments so far can have matched
    for k, seg in enumerate(segments):
        budget.spend(len(reach))
        if isinstance(seg, _Segment):
            reach = {j + 1 for j in reach if j < n and seg.match(names[j], budget)}
        else:
            lo = min(reach) + (seg is _SOME_DIRS)
            if k == len(segments) - 1:
                return lo <= n
            budget.spend(n)
            reach = set(range(lo, n + 1))
        if not reach:
            return False
    return n in reach


class IgnoreFile:
    """The patterns of one ignore file; the last line that matches a path decides."""

    def __init__(self, data: bytes, budget: Budget):
        budget.spend(len(data))
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        self.patterns: list[Pattern] = []
        for line in data.split(b"\n"):
            line = line.split(b"\0", 1)[0]
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line or line.startswith(b"#"):
                continue
            pattern = Pattern(_trim_trailing_spaces(line))
            if not pattern.never:
                budget.hold(pattern.parts())
                self.patterns.append(pattern)
        # Plain names (the most common lines) are looked up, not tried one by one.
        self.by_name: dict[bytes, int] = {}
        self.dirs_by_name: dict[bytes, int] = {}
        self.others: list[int] = []
        for index, p in enumerate(self.patterns):
            seg = p.segments[0] if not p.anchored else None
            if isinstance(seg, _Segment) and seg.exact is not None:
                (self.dirs_by_name if p.dir_only else self.by_name)[seg.exact] = index
            else:
                self.others.append(index)
        self.others.reverse()

    def verdict(self, rel: bytes, is_dir: bool, budget: Budget) -> bool | None:
        """True: ignored, False: re-included by a `!` line, None: no line matches."""
        name = rel.rpartition(b"/")[2]
        best = self.by_name.get(name, -1)
        if is_dir:
            best = max(best, self.dirs_by_name.get(name, -1))
        for index in self.others:  # the last line first
            if index < best:
                break
            if self.patterns[index].matches(rel, name, is_dir, budget):
                best = index
                break
        return None if best < 0 else not self.patterns[best].negated


def _trim_trailing_spaces(line: bytes) -> bytes:
    """git's trim_trailing_spaces: trailing spaces go, unless escaped with a backslash."""
    if not line.endswith(b" "):
        return line
    last_space = None
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c == 0x20:
            if last_space is None:
                last_space = i
        elif c == 0x5C:
            i += 1
            if i >= n:
                return line
            last_space = None
        else:
            last_space = None
        i += 1
    return line[:last_space] if last_space is not None else line


def read_ignore_file(path: Path) -> bytes | None:
    """The bytes of an ignore file; None when there is none (or a folder by that name, as git has it).

    InputError when one is there but cannot be read in full: ignoring less than
    the repository asks for is never an option.
    """
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        if os.path.lexists(path):
            raise InputError("cannot read: a symbolic link to nothing") from None
        return None
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        return None
    return read_limited(path, MAX_SIZE, "ignore files")


class _Rules:
    """The ignore files that apply in one folder: (base folder + separator, file), outermost first."""

    def __init__(self, layers: tuple[tuple[str, IgnoreFile], ...] = ()):
        self.layers = layers

    def with_file(self, base: str, ignore_file: Path, budget: Budget, shown: Path | None = None) -> _Rules:
        try:
            data = read_ignore_file(ignore_file)
        except InputError as err:
            raise DiscoveryError(shown or ignore_file, f"{err.message}; the Dockerfiles below it were not "
                                 "searched, as it may ignore some") from None
        if data is None:
            return self
        parsed = IgnoreFile(data, budget)
        if not parsed.patterns:
            return self
        prefix = base if base.endswith(os.sep) else base + os.sep
        return _Rules((*self.layers, (prefix, parsed)))

    def ignored(self, path: str, is_dir: bool, budget: Budget) -> bool:
        # Git's precedence: a deeper file beats a shallower one, a later line beats an earlier one.
        for prefix, ignore_file in reversed(self.layers):
            budget.spend(1)
            if not path.startswith(prefix):
                continue
            rel = os.fsencode(path[len(prefix):].replace(os.sep, "/"))
            verdict = ignore_file.verdict(rel, is_dir, budget)
            if verdict is not None:
                return verdict
        return False


def _repo_root(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _rules_above(folder: Path, budget: Budget) -> _Rules | None:
    """The ignore files of the enclosing repository that apply to `folder` from above it.

    None when the folder itself is ignored (inside an ignored folder): git looks
    at nothing below an ignored folder, and neither does a search.
    """
    root = _repo_root(folder)
    if root is None:
        return _Rules()
    rules = _Rules().with_file(str(root), root / ".git" / "info" / "exclude", budget)
    chain = [root, *(root / part for part in _prefixes(folder.relative_to(root)))]
    for base, child in zip(chain, chain[1:]):  # the folder's own .gitignore is read by the walk
        rules = rules.with_file(str(base), base / ".gitignore", budget)
        if rules.ignored(str(child), True, budget):
            return None
    return rules


def _prefixes(rel: Path) -> list[Path]:
    parts = rel.parts
    return [Path(*parts[: i + 1]) for i in range(len(parts))]


def dockerfiles_under(folder: Path, include_hidden: bool = False, use_ignore: bool = True,
                      errors: list[DiscoveryError] | None = None, budget: Budget | None = None) -> list[Path]:
    """Every Dockerfile below a folder, in walk order; ignored, hidden and vendored folders skipped.

    A part that cannot be searched (a folder that cannot be listed, an ignore file
    that cannot be read) raises DiscoveryError; given a list `errors`, it goes
    there instead and the search goes on without that part. A search over budget
    (too many entries, ignore files too costly) fails as a whole: [] and an error.
    """
    try:
        return _walk(Path(folder), include_hidden, use_ignore, errors, budget or Budget())
    except _OverBudget as over:
        error = DiscoveryError(Path(folder), str(over))
    except DiscoveryError as err:
        error = err
    except (OSError, RuntimeError) as err:  # resolving the folder itself (a link loop: RuntimeError)
        error = DiscoveryError(Path(folder), f"cannot search: {getattr(err, 'strerror', None) or err}")
    if errors is None:
        raise error
    errors.append(error)
    return []


def _walk(top: Path, include_hidden: bool, use_ignore: bool, errors: list[DiscoveryError] | None,
          budget: Budget) -> list[Path]:
    resolved_top = top.resolve()
    start = _rules_above(resolved_top, budget) if use_ignore else _Rules()
    if start is None:
        return []
    found: list[Path] = []
    # (folder as given, the same folder resolved, the rules inherited from above): no recursion, any depth
    stack: list[tuple[str, str, _Rules]] = [(str(top), str(resolved_top), start)]
    while stack:
        here, real_here, rules = stack.pop()
        entries = []
        try:
            with os.scandir(here) as listing:
                for entry in listing:  # counted as listed: a folder of millions stops early
                    budget.listed(1)
                    entries.append(entry)
        except OSError as err:
            _problem(DiscoveryError(Path(here), f"cannot list this folder: {err.strerror}; "
                                    "the Dockerfiles below it were not searched"), errors)
            continue
        entries.sort(key=lambda e: e.name)
        names = {e.name for e in entries}
        if use_ignore:
            try:
                if here != str(top) and ".git" in names and os.path.exists(os.path.join(here, ".git")):
                    rules = _Rules().with_file(real_here, Path(real_here, ".git", "info", "exclude"), budget,
                                               Path(here, ".git", "info", "exclude"))  # a nested repository
                if ".gitignore" in names:
                    rules = rules.with_file(real_here, Path(real_here, ".gitignore"), budget, Path(here, ".gitignore"))
            except DiscoveryError as err:
                _problem(err, errors)
                continue
        subfolders = []
        for entry in entries:
            name = entry.name
            try:
                is_dir, is_link = entry.is_dir(follow_symlinks=False), entry.is_symlink()
            except OSError:
                continue  # gone meanwhile
            if is_dir:
                if name == ".git":
                    continue  # git's own files, never a project's
                if not include_hidden and (name.startswith(".") or name in SKIP_DIRS):
                    continue
                real = os.path.join(real_here, name)
                if use_ignore and rules.ignored(real, True, budget):
                    continue
                subfolders.append((os.path.join(here, name), real, rules))
            elif is_dockerfile_name(name):
                if is_link:
                    continue  # a link may lead out of the tree; name the file itself to process it
                if use_ignore and rules.ignored(os.path.join(real_here, name), False, budget):
                    continue
                found.append(Path(here, name))
        stack.extend(reversed(subfolders))
    return found


def _problem(error: DiscoveryError, errors: list[DiscoveryError] | None) -> None:
    if errors is None:
        raise error
    errors.append(error)
