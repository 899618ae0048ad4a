"""The command line: `dockfix [--diff|--write|--check] PATH...`.

Exit codes (stable, documented in the README):
  0  nothing to change
  1  changes found (--diff, --check) or written (--write)
  2  an error: a file could not be read, parsed or written, or a usage error
     (and any failure of dockfix itself: one line, never a traceback and exit 1)

What reaches the terminal is escaped; what goes to a pipe is exact:
  - text reports (`--check` lines, errors, notes, `fixed ...`) show file names
    with formats.show_name and messages with formats.show_text: control and
    format characters, and bytes that are not UTF-8, are escaped, so a report
    line is one line whatever the file's name or content;
  - diff headers quote names as git does (diff.quote_path);
  - a diff's body is the files' content: written byte for byte (UTF-8) when
    stdout is a pipe or file, so `git apply` takes it as is; when it is shown
    on a terminal (stdout is a tty, or --color always), control characters in
    it other than tab and the line end are escaped (formats.show_content);
  - JSON and SARIF are always UTF-8 JSON, escaped by construction.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from dockfix import __version__
from dockfix.batch import DEFAULT_TIMEOUT, default_jobs, run_files
from dockfix.discover import DiscoveryError, dockerfiles_under
from dockfix.formats import say, show_content, show_name, show_text, write_text
from dockfix.runner import CHANGED, FAILED, FileResult, Options, display_path

EXIT_CLEAN, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2

app = typer.Typer(add_completion=False, no_args_is_help=False, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]})


def _names(value: Optional[str]) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(n.strip() for n in value.split(",") if n.strip())


def expand_paths(paths: list[Path], include_hidden: bool = False,
                 use_ignore: bool = True) -> tuple[list[Path], list[FileResult]]:
    """Files to process (each once, sorted by path), and a failure for each path that names none."""
    files, problems = {}, []
    for path in paths:
        if path.is_dir():
            errors: list[DiscoveryError] = []  # parts that could not be searched: one line each, exit 2
            found = dockerfiles_under(path, include_hidden, use_ignore, errors)
            problems.extend(FileResult(display_path(e.path), FAILED, error=e.message) for e in errors)
            if not found and not errors:
                problems.append(FileResult(display_path(path), FAILED, error="no Dockerfile found in this folder"))
            for file in found:
                files.setdefault(os.path.normpath(file), file)
        else:  # named on the command line: always processed, ignored or not
            files.setdefault(os.path.normpath(path), path)
    return sorted(files.values(), key=lambda p: Path(display_path(p)).parts), problems


def _one_line_failures(command):
    """Any failure of the command itself is one line on stderr and exit 2 (exit 1 means 'changes found')."""

    @functools.wraps(command)
    def guarded(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except BrokenPipeError:  # the reader went away (`dockfix --diff | head`): nothing more to say
            _silence_stdout()
            raise typer.Exit(EXIT_ERROR) from None
        except Exception as err:
            if kwargs.get("show_traceback"):
                raise
            say(f"dockfix: error: dockfix bug ({type(err).__name__}: {show_text(str(err))}); "
                 "rerun with --show-traceback and report it", sys.stderr)
            raise typer.Exit(EXIT_ERROR) from None

    return guarded


@app.command(help="Rewrite Python Dockerfiles into what an expert would write.")
@_one_line_failures
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
    output_format: Annotated[str, typer.Option("--format", help="text, json or sarif.")] = "text",
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (default: all cores; 1: no pool).")] = 0,
    timeout: Annotated[float, typer.Option(help="Seconds one file may take before it fails.")] = DEFAULT_TIMEOUT,
    include_hidden: Annotated[bool, typer.Option("--include-hidden",
                                                 help="Also search hidden and vendored folders.")] = False,
    no_ignore: Annotated[bool, typer.Option("--no-ignore", help="Do not honour .gitignore files.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
    checklist: Annotated[bool, typer.Option("--checklist", help="Print each Dockerfile's optimisation checklist: "
                                            "what passes, what fails, which transform fixes it.")] = False,
) -> None:
    if version:
        print(f"dockfix {__version__}")
        raise typer.Exit(EXIT_CLEAN)
    if checklist:  # a report, never a write; imported here so other runs do not pay for it
        from dockfix.checklist_report import run_checklists

        if not paths:
            _fail("give at least one Dockerfile or folder (try: dockfix --checklist Dockerfile)")
        raise typer.Exit(run_checklists(paths, _use_color(color)))
    if list_transforms:
        raise typer.Exit(_list())
    if explain:
        raise typer.Exit(_explain(explain))
    modes = [name for name, on in (("diff", diff), ("write", write), ("check", check)) if on]
    if len(modes) > 1:
        _fail("choose one of --diff, --write and --check")
    if not paths:
        _fail("give at least one Dockerfile or folder (try: dockfix --diff Dockerfile)")
    if output_format not in ("text", "json", "sarif"):
        _fail(f"unknown format: {show_text(output_format)} (text, json or sarif)")
    if jobs < 0 or timeout <= 0:
        _fail("--jobs takes 0 (all cores) or more, --timeout more than 0 seconds")
    roots = tuple(p.resolve() for p in paths if p.is_dir())
    options = Options(modes[0] if modes else "diff", _names(select), _names(ignore) or (), unsafe_fixes, roots)
    from dockfix.transforms import choose

    try:
        choose(options.select, options.ignore)
    except KeyError as err:
        _fail(f"unknown transform: {show_text(err.args[0])} (see dockfix --list)")
    files, results = expand_paths(paths, include_hidden, not no_ignore)
    use_color = _use_color(color)
    text = output_format == "text"
    if text:
        for result in results:
            report(result, options, use_color, verbose)
    stream = run_files(files, options, jobs or default_jobs(), timeout, show_traceback)
    with _progress(len(files) if text and len(files) > 1 and sys.stderr.isatty() else 0) as advance:
        for result in stream:
            advance()
            if text:
                report(result, options, use_color, verbose)
                # Printed: keep what the summary needs, not the diff (memory flat in big batches).
                result = dataclasses.replace(result, diff="")
            results.append(result)
    if output_format == "json":
        from dockfix.formats import to_json

        _write_exact(to_json(results, options.mode))
    elif output_format == "sarif":
        from dockfix.formats import to_sarif

        _write_exact(to_sarif(results))
    elif len(results) > 1:
        from dockfix.formats import summary_line

        say(summary_line(results), sys.stderr)
    raise typer.Exit(exit_code(results))


class _progress:
    """A progress bar on stderr for `total` files; total=0: none, and rich is not imported."""

    def __init__(self, total: int):
        self.total = total

    def __enter__(self):
        if not self.total:
            return lambda: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        # Output on stdout goes above the bar when it shares the terminal, and untouched when piped.
        self.bar = Progress(TextColumn("dockfix"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                            console=Console(stderr=True), transient=True,
                            redirect_stdout=sys.stdout.isatty(), redirect_stderr=True)
        self.bar.start()
        task = self.bar.add_task("files", total=self.total)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc) -> None:
        if self.total:
            self.bar.stop()


def _use_color(color: str) -> bool:
    return color == "always" or (color == "auto" and sys.stdout.isatty() and "NO_COLOR" not in os.environ)


def exit_code(results: list[FileResult]) -> int:
    if any(r.status == FAILED for r in results):
        return EXIT_ERROR
    return EXIT_CHANGES if any(r.status == CHANGED for r in results) else EXIT_CLEAN


def report(result: FileResult, options: Options, use_color: bool, verbose: bool) -> None:
    """The text report of one file; names and messages escaped (see the module's docstring)."""
    name = show_name(result.path)
    if result.error:
        where = f"{name}:{result.error_line}" if result.error_line else name
        say(f"{where}: error: {show_text(result.error)}", sys.stderr)
    if options.mode == "diff" and result.diff:
        _print_diff(result.diff, use_color)
    elif options.mode == "check":
        for fix in result.fixes:
            say(f"{name}:{fix.line}: [{show_text(fix.transform)}] {show_text(fix.message)}")
    elif options.mode == "write" and result.written:
        written = ", ".join(show_name(w) for w in result.written)
        say(f"fixed {written} ({len(result.fixes)} fixes)", sys.stderr)
    for warning in result.warnings:
        say(f"{name}: warning: {show_text(warning)}", sys.stderr)
    if verbose:
        for note in result.notes:
            where = f"{name}:{note.line}" if note.line else name
            say(f"{where}: [{show_text(note.transform)}] left alone: {show_text(note.message)}", sys.stderr)


def _write_exact(text: str) -> None:
    """A patch or a JSON document on stdout: UTF-8, byte for byte, whatever the locale."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a replaced stdout without bytes underneath
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    buffer.write(text.encode("utf-8", "surrogateescape"))
    buffer.flush()


def _silence_stdout() -> None:
    """After a broken pipe: later writes (and the interpreter's final flush) go nowhere instead of failing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _print_diff(text: str, use_color: bool) -> None:
    if not use_color:
        if sys.stdout.isatty():  # shown, not piped: no escape sequence from a file reaches the terminal
            write_text(show_content(text), sys.stdout)
        else:
            _write_exact(text)
        return
    text = show_content(text)
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
        say(f"dockfix: error: unknown transform: {show_text(name)} (see dockfix --list)", sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(text)
    return EXIT_CLEAN


def _fail(message: str) -> None:
    say(f"dockfix: error: {message}", sys.stderr)
    raise typer.Exit(EXIT_ERROR)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
