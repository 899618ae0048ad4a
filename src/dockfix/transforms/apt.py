"""apt: `--no-install-recommends`, and remove the package lists the install left.

Also alpine's `apk add --no-cache` and dnf/yum/microdnf `clean all`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from dockfix.commands import SYSTEM_MANAGERS, invocation
from dockfix.context import Context
from dockfix.data import debian_recommends as recommends
from dockfix.diagnostics import NOT_PYTHON, UNSAFE, Rule
from dockfix.edits import AppendRefused, Edit, append_to_heredoc, append_to_run
from dockfix.engine import Fix, Note, Transform
from dockfix.facts import not_python_reason
from dockfix.model import Model, budget, env_before, per_tree
from dockfix.shell import Command, Script, Word, parse_script, structure_error
from dockfix.syntax import Heredoc, Instruction, Tree
from dockfix.transforms._installs import cache_mount_targets
from dockfix.views import Copy, Run, Stage, global_args, heredoc_roles, key_values

NAME = "apt"
APT_LISTS = "/var/lib/apt/lists"
CLEAN_APT = "rm -rf /var/lib/apt/lists/*"
APK_CACHE = ("/var/cache/apk", "/etc/apk/cache")  # /etc/apk/cache is the link apk reads

LISTS = Rule("DF101", NAME, "apt-lists-cleanup", "remove the apt package lists in the RUN that downloaded them",
             hadolint=("DL3009",))
NO_RECOMMENDS = Rule("DF102", NAME, "apt-no-recommends", "install without recommended packages "
                     "(--no-install-recommends), when dockfix knows what they brought", UNSAFE, ("DL3015",))
APK_NO_CACHE = Rule("DF103", NAME, "apk-no-cache", "apk add --no-cache: no package index left in the layer",
                    hadolint=("DL3019",))
DNF_CLEAN = Rule("DF104", NAME, "dnf-clean-all", "end a dnf, yum or microdnf install with `<tool> clean all`",
                 hadolint=("DL3032", "DL3040"))
RULES = (LISTS, NO_RECOMMENDS, APK_NO_CACHE, DNF_CLEAN)


def _runs(cmd: Command, manager: str, verb: str, program: str | None = None) -> bool:
    """Whether cmd runs `manager verb` (dockfix.commands; `program`: that one of the manager's, yum of dnf)."""
    found = invocation(cmd)
    return found is not None and found.manager == manager and found.verb == verb and program in (None, found.program)


def _apt_install(cmd: Command) -> bool:
    return _runs(cmd, "apt", "install")


def _apt_update(cmd: Command) -> bool:
    return _runs(cmd, "apt", "update")


def _removes_apt_lists(cmd: Command) -> bool:
    argv = cmd.argv
    return bool(argv) and argv[0] == "rm" and any(a.rstrip("/*").startswith(APT_LISTS.rstrip("/")) or a.startswith("/var/lib/apt/lists") for a in argv[1:]) \
        or (len(argv) > 1 and argv[0] == "find" and argv[1].startswith(APT_LISTS)) \
        or (argv[:1] in (["apt-get"], ["apt"]) and "distclean" in argv[1:])  # apt >= 2.7 removes the lists too


def _keeps_recommends_off(cmd: Command) -> bool:
    return any(a == "--no-install-recommends" or "Install-Recommends" in a for a in cmd.argv)


def _mounted(tree: Tree, instr: Instruction, folders: tuple[str, ...]) -> bool:
    """A cache or tmpfs mount of the RUN at one of `folders`, its target read as BuildKit reads it
    (variables of the stage expanded: `target=$APK_CACHE`). A target dockfix cannot expand counts
    as one: what it covers is not known, so nothing is added that could defeat it."""
    if not instr.flag_values("mount"):
        return False  # no mount: the stage's variables are not needed (env_before is a pass over the file)
    for kind, target in cache_mount_targets(instr, env_before(tree, instr), budget(tree)):
        if kind in ("cache", "tmpfs") and (target in folders or "$" in target):
            return True
    return False


def _lists_on_mount(tree: Tree, instr: Instruction) -> bool:
    return _mounted(tree, instr, ("/var/lib/apt", APT_LISTS))


def _apk_cache_on_mount(tree: Tree, instr: Instruction) -> bool:
    """apk's cache kept on a cache mount: `--no-cache` would only defeat the mount."""
    return _mounted(tree, instr, APK_CACHE)


class _Shell:
    """What the rule reads of a RUN that its text alone decides (_shell: its shell texts), their
    commands, and the system package managers (apt, apk, dnf) those call; and, when first asked,
    the answers about them that depend on nothing else. Kept on the instruction: a re-parse copies
    an unchanged RUN with it, so each RUN is read once per file, not again on every round's tree
    (as the model's parts would be). Nothing here holds a source offset: those move when an
    earlier instruction is edited (_parts gives them, per tree)."""

    __slots__ = ("texts", "commands", "managers", "_error", "_error_read", "_sources", "_installs", "_needs_lists",
                 "_lists")

    def __init__(self, texts: tuple[tuple[str, Script, int], ...]) -> None:
        self.texts = texts  # (text, its script, its heredoc's index in instr.heredocs; -1: the line)
        self.commands = [c for _, s, _ in texts for c in s.commands]
        self.managers = frozenset(found.manager for c in self.commands
                                  if (found := invocation(c)) is not None and found.manager in SYSTEM_MANAGERS)
        self._error: str | None = None
        self._error_read = False
        self._sources: tuple[int | None, ...] | None = None
        self._installs: tuple[tuple[_AptInstall, ...], ...] | None = None
        self._needs_lists: bool | None = None
        self._lists: tuple[bool, bool] | None = None

    def error(self, memo: dict[Any, Any]) -> str | None:
        """Why the first of its texts whose structure is not understood is not, or None."""
        if not self._error_read:
            self._error = next((e for text, _, _ in self.texts if (e := structure_error(text, memo))), None)
            self._error_read = True
        return self._error

    @property
    def sources(self) -> tuple[int | None, ...]:
        """For each text, the index of its first command that adds an apt source (_first_source)."""
        if self._sources is None:
            self._sources = tuple(_first_source(text, script.commands) for text, script, _ in self.texts)
        return self._sources

    @property
    def installs(self) -> tuple[tuple[_AptInstall, ...], ...]:
        """For each text, its apt installs (_apt_installs)."""
        if self._installs is None:
            self._installs = tuple(_apt_installs(script) for _, script, _ in self.texts)
        return self._installs

    @property
    def adds_source(self) -> bool:
        """Whether one of its texts adds an apt source (_first_source)."""
        return any(source is not None for source in self.sources)

    def needs_lists(self, instr: Instruction) -> bool:
        """_needs_lists of the RUN."""
        if self._needs_lists is None:
            self._needs_lists = _needs_lists(instr, self.commands)
        return self._needs_lists

    @property
    def lists(self) -> tuple[bool, bool]:
        """(an apt install whose lists no command removes, an `apt-get update`)."""
        if self._lists is None:
            commands = self.commands
            self._lists = (any(_apt_install(c) for c in commands) and not any(_removes_apt_lists(c) for c in commands),
                           any(_apt_update(c) for c in commands))
        return self._lists


def _shell_of(instr: Instruction) -> _Shell:
    """The RUN's _Shell, made on first use and kept on the instruction."""
    found: _Shell | None = instr.__dict__.get("apt-shell")
    if found is None:
        found = instr.__dict__["apt-shell"] = _shell(instr)
    return found


def _shell(instr: Instruction) -> _Shell:
    """The shell texts a RUN runs: its command line, then each here-document that runs as shell
    (`RUN <<EOF`, `bash <<EOF`). A here-document that is data (`cat > /setup.sh <<EOF`) or another
    language's code (`python3 <<EOF`) is not shell that runs here: never parsed. The RUN is read
    so in any stage: the model reads no shell in a Windows one, or after a PowerShell SHELL (it
    has no parts there), and this rule reads the RUN all the same."""
    if Run(instr).form == "exec":
        return _Shell(())
    texts = [(instr.logical[instr.args_start:], Run(instr).script, -1)]
    for role in heredoc_roles(instr):
        if role.runs_shell:
            body = role.heredoc.body
            texts.append((body, parse_script(body, instr.memo), instr.heredocs.index(role.heredoc)))
    return _Shell(tuple(texts))


def _parts(tree: Tree, instr: Instruction, shell: _Shell) -> list[tuple[Script, int, Heredoc | None]]:
    """_scripts of the RUN, on this tree: (script, source offset its positions are relative to, heredoc)."""
    docs = instr.heredocs
    return [(script, -1, None) if k < 0 else (script, docs[k].body_start, docs[k]) for _, script, k in shell.texts]


def find(tree: Tree, context: Context) -> Iterator[Fix | Note]:
    reason = not_python_reason(tree, context)
    if reason:
        yield NOT_PYTHON.note(reason, transform=NAME)
        return
    model = Model.of(tree)
    all_stages = model.stages
    reads = {id(i): _shell_of(i) for stage in all_stages for i in stage.instructions if i.name == "RUN"}
    if not any(read.managers for read in reads.values()):
        return  # no RUN calls apt, apk or dnf: nothing to fix, and no RUN is this rule's business
    known: dict[str, Setting] = {}  # stage name -> what is known at its end
    for stage in all_stages:
        runs = [i for i in stage.instructions if i.name == "RUN"]
        later = _LaterNeeds(runs, reads)
        setting = _stage_setting(tree, stage, known)
        runs_seen = 0
        for instr in stage.instructions:
            if instr.name == "RUN":
                shell = reads[id(instr)]
                if shell.managers:
                    yield from _fix_run(tree, instr, shell, later, runs_seen, setting)
                elif not setting.sources and shell.adds_source:  # what later installs must know all the same
                    setting.sources = instr.line  # (a RUN without apt, apk or dnf is none of this rule's business)
                runs_seen += 1
            elif not setting.sources and instr.name in ("COPY", "ADD") and _writes_apt_config(instr):
                setting.sources = instr.line
        if stage.name:
            known[stage.name.lower()] = setting


class _LaterNeeds:
    """Whether a RUN after the n-th of a stage installs without `apt-get update` (so needs the
    lists the n-th left): one backward pass over the stage (not a scan of the later RUNs per
    RUN: linear in the stage's size), made when first asked."""

    def __init__(self, runs: list[Instruction], reads: dict[int, _Shell]) -> None:
        self.runs, self.reads = runs, reads
        self.flags: list[bool] | None = None

    def __call__(self, n: int) -> bool:
        if self.flags is None:
            runs = self.runs
            flags = [False] * len(runs)
            for index in range(len(runs) - 2, -1, -1):
                after = runs[index + 1]
                flags[index] = flags[index + 1] or self.reads[id(after)].needs_lists(after)
            self.flags = flags
        return self.flags[n]


def _fix_run(tree: Tree, instr: Instruction, shell: _Shell, later: _LaterNeeds, position: int,
             setting: Setting) -> Iterator[Fix | Note]:
    """The fixes and notes of one RUN that calls apt, apk or dnf, the `position`-th of its stage."""
    error = shell.error(instr.memo)
    if error:
        if not setting.sources and shell.adds_source:  # what later installs must know all the same
            setting.sources = instr.line
        yield LISTS.note(f"shell text too complex to edit safely ({error})", instr.line)
        return
    for (script, base, _), source, apt_installs in zip(_parts(tree, instr, shell), shell.sources, shell.installs):
        yield from _recommends(tree, instr, apt_installs, base, source, setting)
        if "apk" in shell.managers:
            yield from _apk(tree, instr, script, base)
    if "dnf" in shell.managers:
        yield from _dnf(tree, instr, shell.commands)
    lists_left, updates = shell.lists
    if not lists_left:  # no apt install, or its lists removed already
        return
    if _lists_on_mount(tree, instr):
        return
    if not updates:
        return  # the lists came from an earlier layer: removing them here saves nothing
    if later(position):
        yield LISTS.note("apt lists kept: a later RUN installs without `apt-get update`", instr.line)
        return
    edit = _append(tree, instr, CLEAN_APT)
    if isinstance(edit, str):
        yield LISTS.note(f"apt lists kept: {edit}", instr.line)
        return
    yield LISTS.fix("remove the apt package lists after installing (hadolint DL3009)", instr.line, (edit,))


def _needs_lists(instr: Instruction, commands: list[Command]) -> bool:
    # Every here-document counts, data too: a script written here (`cat > /setup.sh <<EOF`) may run later.
    if instr.heredocs:
        commands = commands + [c for role in heredoc_roles(instr) if not role.runs_shell
                               for c in parse_script(role.heredoc.body, instr.memo).commands]
    return any(_apt_install(c) for c in commands) and not any(_apt_update(c) for c in commands)


def _append(tree: Tree, instr: Instruction, command: str) -> Edit | str:
    """The edit that runs `command` last, exactly when the RUN succeeds, or why there is none."""
    try:
        for role in heredoc_roles(instr):
            if role.kind == "script":  # `RUN <<EOF`: the body is the RUN's script
                return append_to_heredoc(tree, instr, role.heredoc, command, role.errexit)
        return append_to_run(tree, instr, command)
    except AppendRefused as refused:
        return f"no place to add `{command}` that runs exactly when the RUN succeeds: {refused}"


def _insert_after_word(instr: Instruction, base: int, word_end: int, text: str) -> Edit:
    pos = base + word_end if base >= 0 else instr.source_offset(instr.args_start + word_end - 1) + 1
    return Edit(pos, pos, text)


def _recommends(tree: Tree, instr: Instruction, installs: tuple[_AptInstall, ...], base: int,
                first_source: int | None, setting: Setting) -> Iterator[Fix | Note]:
    """The apt installs of one shell text (_apt_installs), in order; an apt source added at the
    command `first_source` counts for the installs from there on, and for later RUNs."""
    source = first_source if not setting.sources else None
    for index, cmd, packages, names, recommends_off in installs:
        if source is not None and source <= index:
            setting.sources = instr.line
        if not recommends_off:
            yield from _no_recommends(tree, instr, cmd, base, packages, setting)
        setting.installed.update(names)
    if source is not None:  # after the last install
        setting.sources = instr.line


# An apt install of a shell text: (its index among the text's commands, the command, its package words
# and the names they give (_packages), the names known, whether it keeps the recommends off or asks for them).
_AptInstall = tuple[int, Command, list[tuple[Word, str | None]], tuple[str, ...], bool]


def _apt_installs(script: Script) -> tuple[_AptInstall, ...]:
    """The apt installs of a shell text, read once (_Shell.installs)."""
    out = []
    for index, cmd in enumerate(script.commands):
        if _apt_install(cmd):
            packages = _packages(cmd)
            out.append((index, cmd, packages, tuple(name for _, name in packages if name),
                        _keeps_recommends_off(cmd) or "--install-recommends" in cmd.argv))
    return tuple(out)


# ---- --no-install-recommends: know what the Recommends brought, or leave the install alone ----
#
# The knowledge is dockfix.data.debian_recommends: for each Debian package, the consequential
# packages (ca-certificates, the compiler toolchain) it brings only as Recommends, generated from
# Debian's Packages indices; and what the official base images ship.

_APT_CONFIG = re.compile(r"sources\.list|/etc/apt/preferences|add-apt-repository|extrepo")
_CONTINUED = re.compile(r"[ \t]*(\\|`)[ \t]*(\r?\n)")
_OPTION_VALUES = ("-o", "--option", "-c", "--config-file", "-t", "--target-release", "--default-release",
                  "-a", "--host-architecture")
_RELEASE_OPTIONS = ("-t", "--target-release", "--default-release")
_INLINE_COMMENT = re.compile(r"`[ \t]*#[^`]*`")
_REDIRECT = re.compile(r"\d*(?:>>?|<<?|>&|<&|&>>?)(.*)")


class _Image:
    """The image a stage chain starts FROM, as the table knows it (recommends.base_image), read when
    first asked: only an install without --no-install-recommends asks."""

    __slots__ = ("tree", "ref", "_base")

    def __init__(self, tree: Tree, ref: str) -> None:
        self.tree, self.ref = tree, ref
        self._base: recommends.Base | None = None

    @property
    def base(self) -> recommends.Base:
        if self._base is None:
            image = _resolve_args(self.ref, self.tree)
            self._base = recommends.base_image(image) if image is not None else recommends.Base(
                self.ref, None, reason=f"{self.ref} goes through a build ARG without a default")
        return self._base


@dataclass
class Setting:
    """What the rule knows at a point of a stage: the base (followed through earlier stages to its
    image), the packages named by installs before, and the line where an apt source was added."""

    image: _Image
    installed: set[str] = field(default_factory=set)
    sources: int = 0  # the line that adds an apt source (0: none)

    @property
    def base(self) -> recommends.Base:
        return self.image.base

    def inherit(self) -> Setting:
        return Setting(self.image, set(self.installed), self.sources)


def _writes_apt_config(instr: Instruction) -> bool:
    """A COPY or ADD into /etc/apt."""
    args = instr.args
    if "/etc/apt" not in args and "'" not in args and '"' not in args and instr.escape not in args:
        return False  # no quotes or escapes: the destination is its last word, as written
    return Copy(instr).destination.startswith("/etc/apt")


# What the shell lexer may remove from a word's text to make its value (quotes, escapes, line continuations).
_QUOTING = str.maketrans("", "", "\\\n\r'\"")


def _first_source(text: str, commands: tuple[Command, ...]) -> int | None:
    """The index of the first command of a shell text that adds an apt source (_adds_source), if any."""
    # A word's value is its text less some quoting characters, and no _APT_CONFIG match holds one: a match in
    # a value is a match in the whole text less them. One search of it, then, not one per word; and no `|`, no pipe.
    config = _APT_CONFIG.search(text.translate(_QUOTING)) is not None
    if not config:
        if "|" not in text:
            return None
        return next((index for index in range(len(commands)) if _pipes_a_download_to_a_shell(commands, index)), None)
    return next((index for index in range(len(commands)) if _adds_source(commands, index)), None)


def _adds_source(commands: tuple[Command, ...], index: int) -> bool:
    """Does this command add an apt source, or run a script from the network (`curl ... | sh`: nodesource's
    setup script, for one) that may?"""
    return any(_APT_CONFIG.search(w.value) for w in commands[index].words) or _pipes_a_download_to_a_shell(commands, index)


def _pipes_a_download_to_a_shell(commands: tuple[Command, ...], index: int) -> bool:
    """`curl ... | sh`: a script from the network, which may add an apt source."""
    cmd = commands[index]
    after = commands[index + 1] if index + 1 < len(commands) else None
    return (cmd.separator == "|" and after is not None and cmd.argv[:1] in (["curl"], ["wget"])
            and after.argv[:1] in (["sh"], ["bash"], ["dash"]))


def _stage_setting(tree: Tree, stage: Stage, known: dict[str, Setting]) -> Setting:
    parent = known.get(stage.base.lower())
    if parent is not None:
        return parent.inherit()  # FROM an earlier stage: its base, and what it installed
    return Setting(_Image(tree, stage.base))


_VAR = re.compile(r"\$(?:\{(\w+)(?::?-([^}]*))?\}|(\w+))")


def _resolve_args(text: str, tree: Tree) -> str | None:
    if "$" not in text:
        return text
    defaults = {k: v for a in global_args(tree) if a.name == "ARG" for k, v in key_values(a) if v is not None}
    missing = False

    def sub(m: re.Match[str]) -> str:
        nonlocal missing
        name = m[1] or m[3]
        if name in defaults:
            return str(defaults[name])
        if m[2] is not None:
            return m[2]
        missing = True
        return ""

    out = _VAR.sub(sub, text)
    return None if missing or "$" in out else out


def _packages(cmd: Command) -> list[tuple[Word, str | None]]:
    """The package words of an apt install and the package each names (None: not known statically:
    a variable, a glob, a file, or a release chosen with -t or name/release)."""
    argv = cmd.argv
    words = cmd.words[len(cmd.words) - len(argv):]
    out: list[tuple[Word, str | None]] = []
    release = False
    i, verb_seen = 1, False
    while i < len(argv):
        arg = argv[i]
        if arg in _OPTION_VALUES:
            release |= arg in _RELEASE_OPTIONS
            i += 2
            continue
        if arg.startswith("-"):
            release |= arg.split("=", 1)[0] in _RELEASE_OPTIONS
            i += 1
            continue
        if _INLINE_COMMENT.fullmatch(words[i].raw):  # `# why` in backquotes: expands to nothing
            i += 1
            continue
        redirect = _REDIRECT.fullmatch(arg)
        if redirect:  # `> /dev/null`, `2>&1`: not packages
            i += 1 if redirect[1] else 2
            continue
        if arg == "install" and not verb_seen:
            verb_seen = True
        elif not re.fullmatch(r"[a-z0-9][a-z0-9+.-]*(:[a-z0-9]+)?(=[A-Za-z0-9.+~:-]+)?", arg):
            out.append((words[i], None))
        else:
            out.append((words[i], None if release else arg.split("=", 1)[0].split(":", 1)[0]))
        i += 1
    return out


def _no_recommends(tree: Tree, instr: Instruction, cmd: Command, base: int,
                   packages: list[tuple[Word, str | None]], setting: Setting) -> Iterator[Fix | Note]:
    word = next(w for w in cmd.words if w.value == "install")
    flag = _insert_after_word(instr, base, word.end, " --no-install-recommends")
    message = "install without recommended packages (hadolint DL3015)"
    refuse = "--no-install-recommends not added: "
    unknown = [w.raw for w, name in packages if name is None or recommends.unlisted(name)]
    if unknown:
        yield NO_RECOMMENDS.note(f"{refuse}{', '.join(unknown)} not known statically (a variable, a pattern, a file or "
                         "another release): what their Recommends bring (ca-certificates, compilers) is not known",
                   instr.line)
        return
    names = [name for _, name in packages if name]
    table = recommends.table()
    metadata = f"dockfix's table of {table.generated}"
    if setting.sources and names:
        yield NO_RECOMMENDS.note(f"{refuse}line {setting.sources} adds an apt source or runs a downloaded script, and "
                         f"{metadata} knows only Debian's own packages", instr.line)
        return
    image = setting.base
    matters = _what_matters(tree, instr, table.consequential)
    if image.kind is None:
        hit = {name: sorted(w for w in set().union(*(recommends.lost(s, name) for s in table.suites)) if matters(w))
               for name in names}
        hit = {name: lost for name, lost in hit.items() if lost}
        if hit:
            yield NO_RECOMMENDS.note(f"{refuse}{_brings(hit)} only as Recommends (Debian {'/'.join(table.suites)} package "
                             f"metadata, {metadata}), and {image.reason}",
                       instr.line)
            return
        yield NO_RECOMMENDS.fix(message, instr.line, (flag,))
        return
    losers: dict[str, list[str]] = {}  # lost package -> the installed packages that brought it
    for suite in image.suites:
        present = recommends.kept(suite, setting.installed | set(names) | image.ships(suite))
        for name in names:
            lost = recommends.really_lost(suite, set(recommends.lost(suite, name)) - present, present)
            for what in sorted(lost):
                if not matters(what):
                    continue
                if name not in losers.setdefault(what, []):
                    losers[what].append(name)
    where = f"Debian {'/'.join(image.suites)} package metadata"
    toolchain = {what: by for what, by in losers.items() if what != recommends.TLS}
    if toolchain:
        by_package: dict[str, list[str]] = {}
        for what, by in sorted(losers.items()):
            for name in by:
                by_package.setdefault(name, []).append(what)
        them = "it" if len(losers) == 1 else "them"
        yield NO_RECOMMENDS.note(f"{refuse}{_brings(by_package)} only as Recommends ({where}, {metadata}), and "
                         f"{image.image} does not ship {them}: a later step ({_uses(losers, table.consequential)}) may "
                         f"need {them}; name {them} in the install to allow the fix", instr.line)
        return
    if recommends.TLS not in losers:
        yield NO_RECOMMENDS.fix(message, instr.line, (flag,))
        return
    needy = next(w for w, name in packages if name in losers[recommends.TLS])
    add = _add_package(tree, instr, base, needy, recommends.TLS)
    yield NO_RECOMMENDS.fix(f"{message}, adding ca-certificates: {', '.join(losers[recommends.TLS])} brought it "
                            f"only as a Recommends ({where}, {metadata}) and {image.image} does not ship it",
                            instr.line, (flag, add))


# What each kind of consequential package is for (the table's categories). TLS and the toolchain
# always matter (any download, any source build); keys and ssh only when a later command uses them.
_USES = {"tls": "TLS downloads", "toolchain": "a compile, a pip install from source",
         "keys": "importing apt keys with gpg", "ssh": "ssh, git over ssh"}
_NEEDS = {"keys": re.compile(r"\b(gpg2?|apt-key|add-apt-repository|gpg-agent|dirmngr)\b"),
          "ssh": re.compile(r"\b(ssh|scp|sftp|ssh-keyscan)\b|git@|ssh://|git\+ssh")}
# Text every match of _NEEDS[category] holds one of: a file with none has no match (finditer over a
# whole file, at every position, was most of the time of a RUN that installs gpg's or ssh's packages).
_NEEDS_TEXT = {"keys": ("gpg", "apt-key", "add-apt-repository", "dirmngr"), "ssh": ("ssh", "scp", "sftp", "git@")}


def _what_matters(tree: Tree, instr: Instruction, categories: dict[str, str]) -> Callable[[str], bool]:
    """Whether losing a consequential package matters: TLS and the toolchain always; gpg's and ssh's
    packages only when this RUN or a later instruction uses them (build-essential's dpkg-dev
    recommends gnupg, which no Python build needs)."""
    def matters(package: str) -> bool:
        category = categories.get(package, "")
        if category not in _NEEDS:
            return True
        return per_tree(tree, (NAME, "last-use", category), lambda: _last_use(tree, category)) >= instr.start

    return matters


def _last_use(tree: Tree, category: str) -> int:
    """Offset of the file's last use of a category's programs (-1: none): one scan per tree."""
    last = -1
    if not any(text in tree.source for text in _NEEDS_TEXT[category]):
        return last
    for found in _NEEDS[category].finditer(tree.source):
        last = found.start()
    return last


def _uses(losers: dict[str, list[str]], categories: dict[str, str]) -> str:
    kinds = dict.fromkeys(categories.get(what, "toolchain") for what in sorted(losers) if what != recommends.TLS)
    return "; ".join(_USES.get(k, k) for k in kinds)


def _brings(by_package: dict[str, list[str]]) -> str:
    return "; ".join(f"{name} brings {', '.join(lost)}" for name, lost in by_package.items())


def _add_package(tree: Tree, instr: Instruction, base: int, after: Word, package: str) -> Edit:
    """`after package`, or a line of its own when `after` is alone on a continued line."""
    end = base + after.end if base >= 0 else instr.source_offset(instr.args_start + after.end - 1) + 1
    start = end - len(after.raw)
    esc = "\\" if base >= 0 else instr.escape
    source = tree.source
    line_start = source.rfind("\n", 0, start) + 1
    indent = source[line_start:start]
    rest = _CONTINUED.match(source, end)
    if rest and rest[1] == esc and not indent.strip(" \t") and source[start:end] == after.raw:
        return Edit(rest.end(), rest.end(), f"{indent}{package} {esc}{rest[2]}")
    return Edit(end, end, f" {package}")


def _apk(tree: Tree, instr: Instruction, script: Script, base: int) -> Iterator[Fix]:
    commands = script.commands
    adds = [cmd for cmd in commands if _runs(cmd, "apk", "add") and "--no-cache" not in cmd.argv]
    if not adds:
        return
    if any(c.argv[:1] == ["rm"] and any(a.startswith("/var/cache/apk") for a in c.argv) for c in commands):
        return
    if _apk_cache_on_mount(tree, instr):
        return
    for cmd in adds:
        word = next(w for w in cmd.words if w.value == "add")
        yield APK_NO_CACHE.fix("apk add without keeping the index cache (hadolint DL3019)", instr.line,
                               (_insert_after_word(instr, base, word.end, " --no-cache"),))


def _dnf(tree: Tree, instr: Instruction, commands: list[Command]) -> Iterator[Fix | Note]:
    for tool in ("dnf", "yum", "microdnf"):
        installs = any(_runs(c, "dnf", "install", tool) for c in commands)
        cleans = any(c.argv[:1] == [tool] and "clean" in c.argv for c in commands) or any(
            c.argv[:1] == ["rm"] and any("/var/cache/" in a for a in c.argv) for c in commands)
        if installs and not cleans:
            edit = _append(tree, instr, f"{tool} clean all")
            if isinstance(edit, str):
                yield DNF_CLEAN.note(f"{tool} cache kept: {edit}", instr.line)
                continue
            yield DNF_CLEAN.fix(f"clean the {tool} cache after installing (hadolint DL3032/DL3040)", instr.line, (edit,))


TRANSFORM = Transform(NAME, "apt/apk/dnf installs: no recommends, no package lists or caches left in the layer", find,
                      RULES)
