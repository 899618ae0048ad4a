"""`dockfix --checklist PATH...`: the checklist of each Dockerfile as a compact table.

A table per file: rich on a terminal, plain text otherwise (pipes, CI logs).
Exit code: 0 when no item fails, 1 when one does, 2 when a file cannot be read or parsed.
File names and anything taken from a file are shown escaped (formats.show_name,
formats.show_text): a name or a line of the Dockerfile cannot break the table
or send escape sequences (or rich markup) to the terminal.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dockfix.checklist import FAIL, NA, PASS, Checklist, checklist
from dockfix.ci_files import CiReport, ci_report
from dockfix.context import Context
from dockfix.discover import DiscoveryError, dockerfiles_under
from dockfix.fileio import InputError, read_source
from dockfix.formats import say, show_name, show_text
from dockfix.syntax import ParseError, parse

EXIT_CLEAN, EXIT_FAILING, EXIT_ERROR = 0, 1, 2
_MARK = {PASS: "pass", FAIL: "FAIL", NA: "n/a"}
_STYLE = {PASS: "green", FAIL: "bold red", NA: "dim"}


def run_checklists(paths: list[Path], use_color: bool) -> int:
    code = EXIT_CLEAN
    errors: list[DiscoveryError] = []
    files = _files(paths, errors)
    for err in errors:  # a part of a folder that could not be searched: said, and the rest still runs
        say(f"{show_name(err.path.as_posix())}: error: {show_text(err.message)}", sys.stderr)
        code = EXIT_ERROR
    for path in files:
        shown = show_name(path.as_posix())
        try:
            source = read_source(path)
            result = checklist(parse(source.text), Context.for_dockerfile(path), ci=_ci(path))
        except (InputError, ParseError) as err:
            where = f"{shown}:{err.line}" if err.line else shown
            say(f"{where}: error: {show_text(err.message)}", sys.stderr)
            code = EXIT_ERROR
            continue
        if result.error:
            say(f"{shown}: {show_text(result.error)}", sys.stderr)
        (_print_rich if use_color else _print_plain)(shown, result)
        if code == EXIT_CLEAN and any(i.status == FAIL for i in result.items):
            code = EXIT_FAILING
    return code


def _ci(path: Path) -> CiReport | None:
    """What the CI files of its repository do with the Dockerfile (None: they could not be looked at)."""
    try:
        return ci_report(path)
    except Exception:  # noqa: BLE001 - a CI item is n/a rather than a failed checklist
        return None


def _files(paths: list[Path], errors: list[DiscoveryError]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            try:
                out.extend(dockerfiles_under(path, errors=errors))
            except DiscoveryError as err:  # the search's budget ran out: the whole folder fails
                errors.append(err)
        else:
            out.append(path)
    return out


def summary(result: Checklist) -> str:
    counts = {s: sum(i.status == s for i in result.items) for s in (PASS, FAIL, NA)}
    fixable = sum(bool(i.fixers) for i in result.items)
    return f"{counts[PASS]} pass, {counts[FAIL]} fail ({fixable} fixable by dockfix), {counts[NA]} n/a"


def plain_table(shown: str, result: Checklist) -> str:
    """The table as text; `shown` is the file's name as it should appear (already escaped)."""
    width = max(len(i.title) for i in result.items)
    fix_width = max([len(i.fix) for i in result.items if i.fix] or [0])
    lines = [f"{shown}: {summary(result)}"]
    for item in result.items:
        fix = f"{item.fix:<{fix_width}}" if fix_width else ""
        lines.append(f"  {_MARK[item.status]:<4}  {item.title:<{width}}  {fix}  {show_text(item.detail)}".rstrip())
    return "\n".join(lines) + "\n"


def _print_plain(shown: str, result: Checklist) -> None:
    for line in plain_table(shown, result).splitlines():
        say(line, sys.stdout)


def _print_rich(shown: str, result: Checklist) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Text, not markup, here too: a file name may hold brackets (`[/]` would even be a markup error).
    table = Table(title=Text(f"{shown}: {summary(result)}"), title_justify="left", show_edge=False,
                  pad_edge=False)
    for column in ("", "item", "dockfix fixes it with"):
        table.add_column(column, no_wrap=True)
    table.add_column("why")
    for item in result.items:
        # Text, not markup: a detail may hold brackets (`--mount=type=cache,...`, `[dev]`).
        table.add_row(Text(_MARK[item.status], style=_STYLE[item.status]), Text(item.title), Text(item.fix or "-"),
                      Text(show_text(item.detail)))
    # Colour was decided by the caller (--color always: even into a pipe), not by rich's own guess.
    Console(highlight=False, force_terminal=True).print(table)
