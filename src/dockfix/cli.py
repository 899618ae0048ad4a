"""The command line: `dockfix [--diff|--write|--check] PATH...`, or `-` for standard input.

Exit codes (stable, documented in the README):
  0  nothing to change (or --exit-zero; or `--write -`, which prints the fixed text)
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
  - JSON, SARIF and GitLab's report are always UTF-8 JSON, escaped by
    construction; GitHub's workflow commands escape what would end one.
Colour (--color) is dockfix's own escape sequences around text already
escaped, on each stream that is a terminal (auto), or always, or never.

Standard input: `dockfix [--diff|--check|--write] -` reads one Dockerfile from
stdin; `--stdin-filename PATH` says which file it is (its folder is the build
context and where the config search starts; reports name it), and alone
implies `-`. `--write -` prints the whole fixed text on stdout (the input
unchanged when it cannot be fixed: exit 2 and one line on stderr), for
editors; nothing is ever written in this mode, not even a new .dockerignore.

Start-up: a single-file run is what pre-commit and editors do on every save,
so this module imports almost nothing at the top. The command line is read
with argparse (typer brought pydantic along and took most of the start-up);
the pipeline, the batch machinery, colour and the output formats are imported
where they are used, and `dockfix --version` imports no other dockfix module.
`app` is the same command as a Typer app, built on first use, for
typer.testing.CliRunner and for embedding dockfix in a typer application.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from dockfix import __version__

if TYPE_CHECKING:
    import argparse

    from dockfix.config import Folders
    from dockfix.engine import Fix
    from dockfix.runner import Applied, FileResult, Options

EXIT_CLEAN, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130
FORMATS = ("text", "json", "sarif", "github", "gitlab")
COLORS = ("auto", "always", "never")
STDIN = "-"

# Names this module offers but imports only when first asked for (PEP 562): the batch machinery pulls in
# the whole pipeline, and `app` typer. Code here reaches them through the module, so a test can replace them.
_LAZY = {"run_files": "dockfix.batch", "default_jobs": "dockfix.batch", "DEFAULT_TIMEOUT": "dockfix.batch",
         "dockerfiles_under": "dockfix.discover", "process_file": "dockfix.runner"}


def __getattr__(name: str) -> Any:
    if name == "app":
        value = _typer_app()
    elif name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def _this() -> Any:
    return sys.modules[__name__]


class UsageError(Exception):
    """A wrong command line: one line on stderr, exit 2."""


EPILOG = """\
exit codes:
  0  nothing to change (also with --exit-zero, and for --write -)
  1  changes found (--diff, --check) or written (--write)
  2  an error: a file could not be read, parsed or written, or the command line was wrong

examples:
  dockfix --diff Dockerfile           print a patch (git apply takes it)
  dockfix --write --unsafe-fixes .    rewrite every Dockerfile below this folder
  dockfix --check --format github .   annotations for a GitHub Actions job
  dockfix --write - --stdin-filename svc/Dockerfile < svc/Dockerfile
                                      the fixed text on stdout, for an editor
"""


def _parser() -> argparse.ArgumentParser:
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            raise UsageError(f"{message} (see dockfix --help)")

    parser = Parser(prog="dockfix", add_help=False, allow_abbrev=False, epilog=EPILOG,
                    usage="dockfix [--diff | --write | --check] [options] PATH...\n"
                          "       dockfix [--diff | --write | --check] [options] - < Dockerfile",
                    description="Rewrite Python Dockerfiles into what an expert would write.",
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="Dockerfiles, folders to search for them, or - for standard input")
    what = parser.add_argument_group("what to do (one of; the default is --diff)")
    what.add_argument("--diff", action="store_true", help="print a unified diff (the default)")
    what.add_argument("--write", action="store_true",
                      help="rewrite the files in place; with -, print the fixed text on stdout")
    what.add_argument("--check", action="store_true", help="list pending changes as file:line; exit 1 if any")
    what.add_argument("--checklist", action="store_true", help="print each Dockerfile's optimisation checklist: "
                      "what passes, what fails, which transform fixes it")
    what.add_argument("--list", dest="list_transforms", action="store_true",
                      help="list the transforms in pipeline order, each with its rules' codes")
    what.add_argument("--explain", metavar="NAME", help="print the page of a transform, or of a rule's transform "
                      "(a code such as DF102, a rule's name, a hadolint code such as DL3015)")
    fixes = parser.add_argument_group("which fixes")
    fixes.add_argument("--select", metavar="NAMES", help="only these rules (comma-separated codes such as DF101, "
                       "code prefixes such as DF1, rule or transform names, or the hadolint codes they fix)")
    fixes.add_argument("--ignore", metavar="NAMES", help="skip these rules (the same names as --select)")
    fixes.add_argument("--unsafe-fixes", dest="unsafe_fixes", action="store_const", const=True, default=None,
                       help="also apply fixes that change meaning a little")
    fixes.add_argument("--no-unsafe-fixes", dest="unsafe_fixes", action="store_const", const=False,
                       help="safe fixes only, whatever the config says")
    fixes.add_argument("--config", metavar="FILE", type=Path,
                       help="settings from this file for every Dockerfile (dockfix.toml keys at its top level, or "
                            "a pyproject.toml's [tool.dockfix]) instead of the nearest one")
    files = parser.add_argument_group("which files")
    files.add_argument("--stdin-filename", metavar="PATH", type=Path,
                       help="the file standard input holds: its folder is the build context and where the config "
                            "search starts; reports name it (implies -)")
    files.add_argument("--include-hidden", action="store_true", help="also search hidden and vendored folders")
    files.add_argument("--no-ignore", action="store_true", help="do not honour .gitignore files")
    files.add_argument("--ci", action="store_true", help="also the CI files (GitHub workflows, .gitlab-ci.yml) "
                       "of the repository of each Dockerfile named (a folder run always includes them)")
    output = parser.add_argument_group("output")
    output.add_argument("--format", dest="output_format", default="text", metavar="FORMAT",
                        help="text (the default), json, sarif, github (workflow annotations) or gitlab "
                             "(Code Quality report)")
    output.add_argument("--color", default="auto", metavar="WHEN",
                        help="auto (the default: on a terminal, unless NO_COLOR is set), always or never")
    output.add_argument("-v", "--verbose", action="store_true", help="also say what was left alone and why")
    output.add_argument("--show-fixes", action="store_true",
                        help="with --diff or --write, also list each fix as file:line (on stderr)")
    output.add_argument("--statistics", action="store_true",
                        help="print how many fixes each transform has, instead of each fix or diff")
    output.add_argument("--exit-zero", action="store_true", help="exit 0 when changes are found (errors: still 2)")
    output.add_argument("--show-traceback", action="store_true", help="show tracebacks of dockfix bugs")
    batch = parser.add_argument_group("batch runs")
    batch.add_argument("-j", "--jobs", type=int, metavar="N",
                       help="worker processes (all cores unless given; 1: none, all in this process)")
    batch.add_argument("--timeout", type=float, metavar="SECONDS",
                       help="seconds one file may take before it fails (60 unless given)")
    other = parser.add_argument_group("other")
    other.add_argument("-h", "--help", action="help", help="show this help and exit")
    other.add_argument("-V", "--version", action="store_true", help="print the version and exit")
    return parser


def main() -> NoReturn:
    # A run makes and drops millions of small objects (lines, tokens, words, nodes), nearly all freed
    # by reference counting (a tree and its model hold no cycle). The cycle collector's default pace,
    # a young collection each time 700 more objects are alive than at the last, made ~900 of them per
    # 1,000 files, each scanning what the file in hand holds: ~6% of a --check. Past 10,000 it runs a
    # few times a batch; the garbage it finds is the same.
    gc.set_threshold(10_000, 10, 10)
    sys.exit(run())


_error_color: bool | None = None  # --color for stderr, once the command line is read


def run(argv: Sequence[str] | None = None) -> int:
    """The whole command: its exit code. Any failure is one line on stderr and exit 2 (exit 1 means
    'changes found'); with --show-traceback a dockfix bug raises instead."""
    global _error_color
    _error_color = None
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _run(argv)
    except UsageError as err:
        _error(str(err))
        return EXIT_ERROR
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else EXIT_ERROR
    except BrokenPipeError:  # the reader went away (`dockfix --diff | head`): nothing more to say
        _silence_stdout()
        return EXIT_ERROR
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except Exception as err:
        if "--show-traceback" in argv:
            raise
        _error(f"dockfix bug ({type(err).__name__}: {err}); rerun with --show-traceback and report it")
        return EXIT_ERROR


def _run(argv: list[str]) -> int:
    args = _parser().parse_intermixed_args(argv)
    if args.version:
        print(f"dockfix {__version__}")
        return EXIT_CLEAN
    if args.color not in COLORS:
        raise UsageError(f"--color takes auto, always or never, not {args.color!r}")
    out_color, err_color = _use_color(args.color, sys.stdout), _use_color(args.color, sys.stderr)
    global _error_color
    _error_color = err_color
    paths = [Path(p) for p in args.paths]
    if args.checklist:  # a report, never a write; imported here so other runs do not pay for it
        from dockfix.checklist_report import run_checklists

        if not paths:
            raise UsageError("give at least one Dockerfile or folder (try: dockfix --checklist Dockerfile)")
        return run_checklists(paths, out_color)
    if args.list_transforms:
        return _list()
    if args.explain:
        return _explain(args.explain)
    modes = [name for name in ("diff", "write", "check") if getattr(args, name)]
    if len(modes) > 1:
        raise UsageError("choose one of --diff, --write and --check")
    mode = modes[0] if modes else "diff"
    stdin = STDIN in args.paths or (args.stdin_filename is not None and not args.paths)
    if stdin and args.paths not in ([], [STDIN]):
        raise UsageError("- (standard input) goes alone: give no other path with it")
    if args.stdin_filename is not None and not stdin:
        raise UsageError("--stdin-filename names standard input: give - (or no path) with it")
    if not paths and not stdin:
        raise UsageError("give at least one Dockerfile or folder, or - for standard input "
                         "(try: dockfix --diff Dockerfile)")
    output_format = args.output_format
    if output_format not in FORMATS:
        raise UsageError(f"unknown format: {output_format} (text, json, sarif, github or gitlab)")
    if (args.jobs is not None and args.jobs < 0) or (args.timeout is not None and args.timeout <= 0):
        raise UsageError("--jobs takes 0 (all cores) or more, --timeout more than 0 seconds")
    if args.statistics and output_format != "text":
        raise UsageError("--statistics is a text report: it goes with --format text")
    if stdin and mode == "write" and output_format != "text":
        raise UsageError("--write - prints the fixed text; for a report on standard input use --check or --diff")
    config = None
    if args.config is not None:  # read once here: a mistake in it is one error, not one per file
        from dockfix.config import ConfigError, load_config

        try:
            config = load_config(args.config).source
        except ConfigError as err:
            raise UsageError(f"configuration: {err}") from None
    from dockfix.runner import Options
    from dockfix.transforms import choose

    roots = tuple(p.resolve() for p in paths if not stdin and p.is_dir())
    # `--write -` is an editor's save: its stderr carries no hint about fixes it was not asked for.
    options = Options(mode, _names(args.select), _names(args.ignore) or (), args.unsafe_fixes, roots,
                      config=config, count_hidden=not (stdin and mode == "write"),
                      diffs=mode == "diff" or output_format in ("json", "sarif"))  # what shows diffs
    if args.ci and stdin:
        raise UsageError("--ci reads the CI files beside Dockerfiles on disk: it does not go with -")
    try:
        choose(options.select, options.ignore)
    except KeyError as err:
        raise UsageError(f"unknown rule or transform: {err.args[0]} (see dockfix --list)") from None

    text = output_format == "text"
    report = _Report(options, out_color, err_color, args.verbose, args.show_fixes, args.statistics)
    warnings: list[tuple[str, str]] = []  # (folder, what): a folder holding no Dockerfile
    if stdin:
        result, raw = _from_stdin(args.stdin_filename, options, args.show_traceback)
        if text:
            report.file(result)
        if mode == "write" and text:  # the text for the editor: fixed, or as it came when it could not be
            _write_exact(result.output if result.output is not None and result.status != "failed" else raw)
        results = [result]
    else:
        this = _this()
        files, results, warnings = expand_paths(paths, args.include_hidden, not args.no_ignore, args.ci,
                                                options.folders)
        options = _with_dockerfiles(options, files)
        if text:
            for path, message in warnings:
                report.warning(path, message)
            for result in results:
                report.file(result)
        jobs = args.jobs or this.default_jobs()
        timeout = args.timeout if args.timeout is not None else this.DEFAULT_TIMEOUT
        stream = this.run_files(files, options, jobs, timeout, args.show_traceback)
        import dataclasses

        with _progress(len(files) if text and len(files) > 1 and sys.stderr.isatty() else 0) as advance:
            for result in stream:
                advance()
                if text:
                    report.file(result)
                    # Printed: keep what the summary needs, not the diff (memory flat in big batches).
                    result = dataclasses.replace(result, diff="")
                results.append(result)
    if text:
        report.end(results)
    else:
        from dockfix import formats

        writers: dict[str, Callable[[], str]] = {
            "json": lambda: formats.to_json(results, options.mode, warnings),
            "sarif": lambda: formats.to_sarif(results, warnings),
            "github": lambda: formats.to_github(results, warnings),
            "gitlab": lambda: formats.to_gitlab(results),
        }
        _write_exact(writers[output_format]())
    code = exit_code(results)
    if code == EXIT_CHANGES and (args.exit_zero or (stdin and mode == "write")):
        code = EXIT_CLEAN
    return code


def _names(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(n.strip() for n in value.split(",") if n.strip())


def expand_paths(paths: list[Path], include_hidden: bool = False, use_ignore: bool = True,
                 ci: bool = False, folders: Folders | None = None,
                 ) -> tuple[list[Path], list[FileResult], list[tuple[str, str]]]:
    """Files to process (each once, sorted by path), a failure for each part that could not be searched,
    and a warning for each folder holding no Dockerfile. The CI files of the repositories of the
    Dockerfiles found in a folder (or named, with `ci`) come with them (dockfix.ci_files). `folders`:
    what the run knows of folders (runner.Options.folders), shared with the config search."""
    from dockfix.ci_files import ci_files_of, ci_kind, repository_of
    from dockfix.config import Folders
    from dockfix.runner import FAILED, FileResult, display_path

    this = _this()
    known = folders if folders is not None else Folders()
    files: dict[str, Path] = {}
    repositories: set[Path] = set()  # the roots whose CI files come along
    problems: list[FileResult] = []
    warnings: list[tuple[str, str]] = []
    for path in paths:
        if path.is_dir():
            errors: list = []  # parts that could not be searched (DiscoveryError): one line each, exit 2
            found = this.dockerfiles_under(path, include_hidden, use_ignore, errors)
            problems.extend(FileResult(display_path(e.path), FAILED, error=e.message) for e in errors)
            if not found and not errors:  # as ruff: nothing to do is not an error
                warnings.append((display_path(path), "no Dockerfile found in this folder"))
            roots_of: dict[Path, Path] = {}  # a folder's files share its repository: looked up once per folder
            for file in found:
                files.setdefault(os.path.normpath(file), file)
                if file.parent not in roots_of:
                    roots_of[file.parent] = repository_of(file, [path], known)
            repositories.update(roots_of.values())
        else:  # named on the command line: always processed, ignored or not
            files.setdefault(os.path.normpath(path), path)
            if ci and not ci_kind(path):
                repositories.add(repository_of(path, folders=known))
    for root in sorted(repositories):
        for file in ci_files_of(root):
            shown = Path(display_path(file))
            files.setdefault(os.path.normpath(shown), shown)
    return sorted(files.values(), key=lambda p: Path(display_path(p)).parts), problems, warnings


def _with_dockerfiles(options: Options, files: list[Path]) -> Options:
    """The options, knowing this run's Dockerfiles: the only builds a CI file may have rewritten."""
    import dataclasses

    from dockfix.ci_files import ci_kind

    named = frozenset(_resolved(p, options.folders) for p in files if not ci_kind(p))
    return dataclasses.replace(options, dockerfiles=named or None)


def _resolved(path: Path, folders: Folders) -> str:
    """str(path.resolve()), its folder's real path taken from what the run knows of folders."""
    name = path.name
    if name in ("", ".", ".."):
        return str(path.resolve())
    joined = os.path.join(folders.real(os.fspath(path.parent)), name)
    return os.path.realpath(joined) if os.path.islink(joined) else joined


def _from_stdin(filename: Path | None, options: Options, show_traceback: bool) -> tuple[FileResult, bytes]:
    """The result for the Dockerfile on standard input, and the bytes read (echoed by `--write -` on failure)."""
    from dockfix.fileio import MAX_SIZE, InputError, decode_source
    from dockfix.runner import FAILED, FileResult, display_path

    path = filename if filename is not None else Path("Dockerfile")  # in the current folder: its build context
    name = display_path(filename) if filename is not None else STDIN
    stream = getattr(sys.stdin, "buffer", sys.stdin)
    if stream is None:
        return FileResult(name, FAILED, error="no standard input to read"), b""
    data = stream.read(MAX_SIZE + 1)
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    try:
        source = decode_source(path, raw)
    except InputError as err:
        return FileResult(name, FAILED, error=err.message, error_line=err.line), raw
    try:
        return _this().process_file(path, options, source, name), raw
    except Exception as err:  # a dockfix bug: one line, the input echoed unchanged by --write -
        if show_traceback:
            raise
        return FileResult(name, FAILED, error=f"dockfix bug ({type(err).__name__}: {err}); rerun with "
                          "--show-traceback and report it", bug=True), raw


class _Report:
    """The text report: a file at a time as results come, then the summary, statistics and hints."""

    def __init__(self, options: Options, out_color: bool, err_color: bool, verbose: bool, show_fixes: bool,
                 statistics: bool):
        self.options, self.verbose, self.show_fixes, self.statistics = options, verbose, show_fixes, statistics
        self.out = _Paint(out_color)
        self.err = _Paint(err_color)
        self.repeated: dict[str, int] = {}  # a configuration error met again: said once, counted after

    def warning(self, path: str, message: str) -> None:
        from dockfix.formats import say, show_name, show_text

        say(f"{self.err.name(show_name(path))}: {self.err.warning_word()}: {show_text(message)}", sys.stderr)

    def file(self, result: FileResult) -> None:
        """One file's report; names and messages escaped (see the module's docstring)."""
        from dockfix.formats import say, show_name, show_text

        name = show_name(result.path)
        if result.error:
            if result.error.startswith("configuration: "):  # the same for every file under that config
                seen = self.repeated.get(result.error)
                self.repeated[result.error] = (seen or 0) + 1
                if seen:
                    return
            where = f"{name}:{result.error_line}" if result.error_line else name
            say(f"{self.err.name(where)}: {self.err.error_word()}: {show_text(result.error)}", sys.stderr)
        mode = self.options.mode
        if mode == "diff" and result.diff and not self.statistics:
            _print_diff(result.diff, self.out.on)
        elif mode == "check" and not self.statistics:
            for fix in result.fixes:
                say(self.out.fix_line(name, fix), sys.stdout)
        elif mode == "write" and result.written:
            written = ", ".join(show_name(w) for w in result.written)
            count = len(result.fixes)
            say(f"fixed {written} ({count} {'fix' if count == 1 else 'fixes'})", sys.stderr)
        if self.show_fixes and mode != "check":
            for fix in result.fixes:
                say(self.err.fix_line(name, fix), sys.stderr)
        for warning in result.warnings:
            say(f"{self.err.name(name)}: {self.err.warning_word()}: {show_text(warning)}", sys.stderr)
        if self.verbose:
            for note in result.notes:
                where = f"{name}:{note.line}" if note.line else name
                code = f" {note.code}" if note.code else ""
                say(f"{where}: [{show_text(note.transform)}]{code} left alone: {show_text(note.message)}", sys.stderr)

    def end(self, results: Sequence[FileResult]) -> None:
        from dockfix.formats import say, statistics, summary_line

        if self.statistics:
            for line in statistics(results):
                say(line, sys.stdout)
        again = sum(n - 1 for n in self.repeated.values())
        if again:
            say(f"dockfix: {self.err.error_word()}: the same configuration error for {again} more "
                f"{'file' if again == 1 else 'files'}", sys.stderr)
        hidden = sum(r.hidden_fixes for r in results)
        if hidden:
            say(f"{'1 hidden fix' if hidden == 1 else f'{hidden} hidden fixes'} can be enabled with --unsafe-fixes",
                sys.stderr)
        if len(results) > 1:  # the last line of a run, as documented
            say(summary_line(results), sys.stderr)


_RESET = "\x1b[0m"


class _Paint:
    """Colour for one stream: escape sequences of dockfix's own around text already escaped; none when off."""

    def __init__(self, on: bool):
        self.on = on

    def _style(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}{_RESET}" if self.on else text

    def name(self, text: str) -> str:
        return self._style(text, "1")

    def error_word(self) -> str:
        return self._style("error", "1;31")

    def warning_word(self) -> str:
        return self._style("warning", "1;33")

    def fix_line(self, name: str, fix: Applied | Fix) -> str:
        """`file:line: [transform] CODE message`, the --check line."""
        from dockfix.formats import show_text

        code = f"{fix.code} " if fix.code else ""
        return (f"{self._style(name, '1')}:{fix.line}: {self._style(f'[{show_text(fix.transform)}]', '36')} "
                f"{code}{show_text(fix.message)}")


class _progress:
    """A progress bar on stderr for `total` files; total=0: none, and rich is not imported."""

    def __init__(self, total: int):
        self.total = total

    def __enter__(self) -> Callable[[], None]:
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

    def __exit__(self, *exc: object) -> None:
        if self.total:
            self.bar.stop()


def _use_color(color: str, stream: Any) -> bool:
    """--color always: colour, even into a pipe; auto: on a terminal, unless NO_COLOR is set (and not empty)."""
    if color != "auto":
        return color == "always"
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


def exit_code(results: Sequence[FileResult]) -> int:
    if any(r.status == "failed" for r in results):
        return EXIT_ERROR
    return EXIT_CHANGES if any(r.status == "changed" for r in results) else EXIT_CLEAN


def _write_exact(text: str | bytes) -> None:
    """A patch, a document or the fixed text on stdout: UTF-8, byte for byte, whatever the locale."""
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a replaced stdout without bytes underneath
        sys.stdout.write(data.decode("utf-8", "surrogateescape"))
        return
    sys.stdout.flush()
    buffer.write(data)
    buffer.flush()


def _silence_stdout() -> None:
    """After a broken pipe: later writes (and the interpreter's final flush) go nowhere instead of failing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


_DIFF_STYLES = (("+++", "1"), ("---", "1"), ("diff ", "1"), ("new file", "1"), ("@@", "36"), ("+", "32"),
                ("-", "31"))


def _print_diff(text: str, use_color: bool) -> None:
    from dockfix.formats import show_content, write_text

    if not use_color:
        if sys.stdout.isatty():  # shown, not piped: no escape sequence from a file reaches the terminal
            write_text(show_content(text), sys.stdout)
        else:
            _write_exact(text)
        return
    out = []
    for line in show_content(text).split("\n"):
        if not line:
            out.append("")
            continue
        code = next((c for prefix, c in _DIFF_STYLES if line.startswith(prefix)), "")
        end = "\r" if line.endswith("\r") else ""
        body = line[: len(line) - len(end)]
        out.append(f"\x1b[{code}m{body}{_RESET}{end}" if code else line)
    write_text("\n".join(out), sys.stdout)


def _list() -> int:
    """Each transform in pipeline order, then its rules indented: code, name, applicability, hadolint codes."""
    from dockfix.transforms import PIPELINE

    width = max(len(t.name) for t in PIPELINE)
    names = max((len(r.name) for t in PIPELINE for r in t.rules), default=0)
    for t in PIPELINE:
        print(f"{t.name:<{width}}  {t.summary}")
        for r in t.rules:
            print(f"  {r.code}  {r.name:<{names}}  {r.applicability:<6}  {' '.join(r.hadolint)}".rstrip())
    return EXIT_CLEAN


def _explain(name: str) -> int:
    from dockfix.formats import show_text
    from dockfix.transforms import CATALOG, explain

    text = explain(name)
    if text is None:
        if CATALOG.knows(name):  # a prefix: several rules, maybe of several transforms
            _error(f"{show_text(name)} names several rules: {', '.join(sorted(CATALOG.codes([name])))}; "
                   "explain one of them, or a transform")
        else:
            _error(f"unknown rule or transform: {show_text(CATALOG.describe_unknown(name))} (see dockfix --list)")
        return EXIT_ERROR
    sys.stdout.write(text)
    return EXIT_CLEAN


def _error(message: str) -> None:
    """`dockfix: error: message`, escaped, on stderr."""
    from dockfix.formats import say, show_text

    color = _use_color("auto", sys.stderr) if _error_color is None else _error_color
    word = "\x1b[1;31merror\x1b[0m" if color else "error"
    say(f"dockfix: {word}: {show_text(message)}", sys.stderr)


def _typer_app() -> Any:
    """The command as a Typer app: every argument goes to `run` as it was given."""
    import typer

    def dockfix(ctx: typer.Context) -> None:
        raise typer.Exit(run(list(ctx.args)))

    dockfix.__annotations__ = {"ctx": typer.Context, "return": None}  # typer reads them; here they are strings
    typer_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    typer_app.command(help="Rewrite Python Dockerfiles into what an expert would write (dockfix --help).",
                      context_settings={"allow_extra_args": True, "ignore_unknown_options": True,
                                        "help_option_names": []})(dockfix)
    return typer_app


if __name__ == "__main__":
    main()
