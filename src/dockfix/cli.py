"""The command line: `dockfix [--diff|--write|--check] PATH...`.

Exit codes (stable, documented in the README):
  0  nothing to change
  1  changes found (--diff, --check) or written (--write)
  2  an error: a file could not be read, parsed or written, or a usage error
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from dockfix import __version__
from dockfix.discover import dockerfiles_under
from dockfix.runner import CHANGED, FAILED, FileResult, Options, display_path, process_file

EXIT_CLEAN, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2

app = typer.Typer(add_completion=False, no_args_is_help=False, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]})


def _names(value: Optional[str]) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(n.strip() for n in value.split(",") if n.strip())


def expand_paths(paths: list[Path], include_hidden: bool = False) -> tuple[list[Path], list[FileResult]]:
    """Files to process, and a failure for each path that names none."""
    files, problems = [], []
    for path in paths:
        if path.is_dir():
            found = dockerfiles_under(path, include_hidden)
            if not found:
                problems.append(FileResult(display_path(path), FAILED, error="no Dockerfile found in this folder"))
            files.extend(found)
        else:
            files.append(path)
    return files, problems


@app.command(help="Rewrite Python Dockerfiles into what an expert would write.")
def run(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Dockerfiles, or folders to search for them.")] = None,
    diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff (the default).")] = False,
    write: Annotated[bool, typer.Option("--write", help="Rewrite the files in place.")] = False,
    check: Annotated[bool, typer.Option("--check", help="List pending changes as file:line; exit 1 if any.")] = False,
    select: Annotated[Optional[str], typer.Option(help="Only these transforms (comma-separated).")] = None,
    ignore: Annotated[Optional[str], typer.Option(help="Skip these transforms (comma-separated).")] = None,
    unsafe_fixes: Annotated[Optional[bool], typer.Option("--unsafe-fixes/--no-unsafe-fixes",
                                                         help="Also apply fixes that change meaning a little.")] = None,
    list_transforms: Annotated[bool, typer.Option("--list", help="List the transforms in pipeline order.")] = False,
    explain: Annotated[Optional[str], typer.Option(help="Print one transform's page.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also say what was left alone and why.")] = False,
    color: Annotated[str, typer.Option(help="auto, always or never.")] = "auto",
    show_traceback: Annotated[bool, typer.Option("--show-traceback", help="Show tracebacks of dockfix bugs.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
) -> None:
    if version:
        print(f"dockfix {__version__}")
        raise typer.Exit(EXIT_CLEAN)
    if list_transforms:
        raise typer.Exit(_list())
    if explain:
        raise typer.Exit(_explain(explain))
    modes = [name for name, on in (("diff", diff), ("write", write), ("check", check)) if on]
    if len(modes) > 1:
        _fail("choose one of --diff, --write and --check")
    if not paths:
        _fail("give at least one Dockerfile or folder (try: dockfix --diff Dockerfile)")
    options = Options(modes[0] if modes else "diff", _names(select), _names(ignore) or (), unsafe_fixes)
    from dockfix.transforms import choose

    try:
        choose(options.select, options.ignore)
    except KeyError as err:
        _fail(f"unknown transform: {err.args[0]} (see dockfix --list)")
    files, results = expand_paths(paths)
    use_color = color == "always" or (color == "auto" and sys.stdout.isatty() and "NO_COLOR" not in os.environ)
    for result in results:
        report(result, options, use_color, verbose)
    for path in files:
        result = _process(path, options, show_traceback)
        results.append(result)
        report(result, options, use_color, verbose)
    raise typer.Exit(exit_code(results))


def _process(path: Path, options: Options, show_traceback: bool) -> FileResult:
    try:
        return process_file(path, options)
    except Exception as err:  # a dockfix bug: say so, keep going, leave the file alone
        if show_traceback:
            raise
        return FileResult(display_path(path), FAILED, error=f"dockfix bug ({type(err).__name__}: {err}); "
                          "file left untouched; rerun with --show-traceback and report it", bug=True)


def exit_code(results: list[FileResult]) -> int:
    if any(r.status == FAILED for r in results):
        return EXIT_ERROR
    return EXIT_CHANGES if any(r.status == CHANGED for r in results) else EXIT_CLEAN


def report(result: FileResult, options: Options, use_color: bool, verbose: bool) -> None:
    if result.error:
        print(result.error_text(), file=sys.stderr)
    if options.mode == "diff" and result.diff:
        _print_diff(result.diff, use_color)
    elif options.mode == "check":
        for fix in result.fixes:
            print(f"{result.path}:{fix.line}: [{fix.transform}] {fix.message}")
    elif options.mode == "write" and result.written:
        print(f"fixed {', '.join(result.written)} ({len(result.fixes)} fixes)", file=sys.stderr)
    if verbose:
        for note in result.notes:
            where = f"{result.path}:{note.line}" if note.line else result.path
            print(f"{where}: [{note.transform}] left alone: {note.message}", file=sys.stderr)


def _print_diff(text: str, use_color: bool) -> None:
    if not use_color:
        sys.stdout.write(text)
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False, soft_wrap=True)
    styles = (("+++", "bold"), ("---", "bold"), ("diff ", "bold"), ("@@", "cyan"), ("+", "green"), ("-", "red"))
    for line in text.splitlines():
        style = next((s for prefix, s in styles if line.startswith(prefix)), "")
        console.print(Text(line, style=style))


def _list() -> int:
    from dockfix.transforms import PIPELINE

    width = max(len(t.name) for t in PIPELINE)
    for t in PIPELINE:
        print(f"{t.name:<{width}}  {t.summary}")
    return EXIT_CLEAN


def _explain(name: str) -> int:
    from dockfix.pages import page

    text = page(name)
    if text is None:
        print(f"dockfix: error: unknown transform: {name} (see dockfix --list)", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(text)
    return EXIT_CLEAN


def _fail(message: str) -> None:
    print(f"dockfix: error: {message}", file=sys.stderr)
    raise typer.Exit(EXIT_ERROR)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
