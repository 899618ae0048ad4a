"""Machine-readable output: `--format json` (dockfix's own, stable schema), `sarif`, `github` and `gitlab`.

JSON (schema version 1; fields are only ever added, never renamed or removed):

    {"tool": "dockfix", "version": "0.1.0", "schema_version": 1, "mode": "check",
     "files": [{"path", "status", "fixes": [{"transform", "message", "line", "end_line", "safe", "code"}],
                "notes": [{"transform", "message", "line", "end_line", "code"}], "skip_reason", "error",
                "written": [...], "warnings": [...], "hidden_fixes", "diff"}],
     "summary": {"files", "changed", "unchanged", "skipped", "failed", "skip_reasons": {reason: count}},
     "warnings": [{"path", "message"}]}

SARIF 2.1.0 (for code-scanning dashboards): one run; the rules are the
rules of the transforms (`id` the code, `name`, the page of the transform
as help); a result per pending fix, `ruleId` its code, at the
Dockerfile lines it is about (region startLine, and endLine when the
instruction or the edits span several lines; level "warning" for a safe fix, "note" for an
unsafe one), with a partial fingerprint that does not move with the line.
A file's first result carries the file's whole change as a SARIF `fix`
(`artifactChanges` with character-offset replacements, the .dockerignore it
creates included): the fixes are found round after round, each on the text
the ones before left, so only their sum is known in the user's offsets. Each
rule has a `helpUri` (its transform's page, transforms/NAME.md) when the
installed package's metadata names its home (Documentation or Repository URL);
none is guessed. A file that failed is a tool execution notification of level
"error", a folder without a Dockerfile one of level "warning".

GitHub (`--format github`): a workflow command per pending fix,
`::warning file=PATH,line=N,endLine=M,title=dockfix CODE [TRANSFORM]::MESSAGE` (`notice` for
an unsafe fix, `error` for a file that failed), which a GitHub Actions job
shows as annotations on the pull request. Values are escaped as the runner
reads them back: `%`, CR and LF everywhere, and `:` and `,` in properties.

GitLab (`--format gitlab`): a Code Quality report, the JSON array GitLab's
`artifacts:reports:codequality` takes: per pending fix (and per file that
failed) `description`, `check_name` (`dockfix/CODE`), `fingerprint` (unique, and stable when
lines move), `severity` (`minor` for a safe fix, `info` for an unsafe one,
`major` for a failure) and `location` (`path`, `lines.begin`, `lines.end`).

Every line is a line of the user's file (the engine maps a later round's lines back); `end_line`
is the last line of the instruction the fix or note is about, or of the lines its edits touch,
whichever is later (JSON: null when not known, as for a note about the whole file).

Both are JSON, so no file name or message can break a line or reach a
terminal raw. A file name that is not UTF-8 (held as lone surrogates by
os.fsdecode) is written as JSON escapes `\\udcXX`, which Python's json.loads
reads back to the same str (os.fsencode gives the original bytes); the output
is always UTF-8. SARIF's artifact URIs are percent-encoded from the name's bytes.

Text reports (`--check`, errors, notes) go through `show_name` and
`show_text`: whatever cannot be printed as is (control characters, format
characters such as bidi overrides, bytes that are not UTF-8) is escaped, so
one report line is one line and no escape sequence reaches the terminal.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from dockfix import __version__

if TYPE_CHECKING:
    from dockfix.diagnostics import Rule
    from dockfix.runner import FileResult

# The runner's statuses, spelled here so that printing an error does not import the pipeline.
CHANGED, UNCHANGED, SKIPPED, FAILED = "changed", "unchanged", "skipped", "failed"
STATUSES = (CHANGED, UNCHANGED, SKIPPED, FAILED)

SCHEMA_VERSION = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_LINE = re.compile(r"[^\n]*\n|[^\n]+")
_C_ESCAPES = {"\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r"}


def _escape(char: str) -> str:
    """A character that must not be printed raw: its C escape, or its bytes in octal (as git quotes names)."""
    if char in _C_ESCAPES:
        return _C_ESCAPES[char]
    if "\udc80" <= char <= "\udcff":  # a byte that is not UTF-8, as os.fsdecode keeps it
        data = bytes([ord(char) - 0xDC00])
    else:
        data = char.encode("utf-8", "surrogatepass")
    return "".join(f"\\{b:03o}" for b in data)


def show_text(text: str) -> str:
    """A message for a text report: printable characters as they are, the rest escaped (one line, no escapes)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def show_name(path: str) -> str:
    """A file name for a text report: as is when printable; otherwise in double quotes with C escapes.

    Like git's quoting (core.quotePath=false): `"` and `\\` are escaped too then,
    so the quoted form is unambiguous; printable non-ASCII text stays readable.
    """
    if path.isprintable() and '"' not in path and "\\" not in path:
        return path
    return '"' + "".join("\\" + c if c in '"\\' else c if c.isprintable() else _escape(c) for c in path) + '"'


def show_content(text: str) -> str:
    """File content (a diff) for a terminal: what is not printable is escaped, except tab and each line's
    end ("\\n", or "\\r\\n"), so no escape sequence or stray carriage return from a file reaches the screen."""
    out = []
    for line in _LINE.findall(text):
        body = line.rstrip("\n")
        end = line[len(body):]
        if body.endswith("\r") and end:
            body, end = body[:-1], "\r" + end
        out.append("".join(c if c.isprintable() or c == "\t" else _escape(c) for c in body) + end)
    return "".join(out)


def say(line: str, stream=None) -> None:
    """One line of a text report (already escaped) on stream (default: stdout)."""
    write_text(line + "\n", stream or sys.stdout)


def write_text(text: str, stream) -> None:
    """Text in the stream's encoding; a character the encoding lacks is written escaped, never fatal."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))


def _json_text(document: dict | list) -> str:
    """JSON with non-ASCII text as is, but lone surrogates (names that are not UTF-8) as \\uXXXX escapes."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def summary(results: Iterable[FileResult]) -> dict:
    results = list(results)
    counts = Counter(r.status for r in results)
    reasons = Counter(r.skip_reason for r in results if r.status == SKIPPED and r.skip_reason)
    return {"files": len(results), **{s: counts[s] for s in STATUSES}, "skip_reasons": dict(sorted(reasons.items()))}


def summary_line(results: Sequence[FileResult]) -> str:
    """`12 files: 3 changed, 7 unchanged, 1 skipped (1 not a Python image), 1 failed`."""
    s = summary(results)
    skipped = f"{s['skipped']} skipped"
    if s["skip_reasons"]:
        skipped += " (" + ", ".join(f"{n} {reason}" for reason, n in s["skip_reasons"].items()) + ")"
    files = "1 file" if s["files"] == 1 else f"{s['files']} files"
    return f"{files}: {s['changed']} changed, {s['unchanged']} unchanged, {skipped}, {s['failed']} failed"


def file_record(result: FileResult) -> dict:
    return {
        "path": result.path,
        "status": result.status,
        "fixes": [{"transform": f.transform, "message": f.message, "line": f.line, "end_line": f.end_line,
                   "safe": f.safe, "code": f.code} for f in result.fixes],
        "notes": [{"transform": n.transform, "message": n.message, "line": n.line or None, "end_line": n.end_line,
                   "code": n.code} for n in result.notes],
        "skip_reason": result.skip_reason,
        "error": ({"message": result.error, "line": result.error_line, "bug": result.bug}
                  if result.error else None),
        "written": list(result.written),
        "warnings": list(result.warnings),
        "hidden_fixes": result.hidden_fixes,
        "diff": result.diff,
    }


def to_json(results: Sequence[FileResult], mode: str, warnings: Sequence[tuple[str, str]] = ()) -> str:
    document = {"tool": "dockfix", "version": __version__, "schema_version": SCHEMA_VERSION, "mode": mode,
                "files": [file_record(r) for r in results], "summary": summary(results),
                "warnings": [{"path": path, "message": message} for path, message in warnings]}
    return _json_text(document)


def statistics(results: Iterable[FileResult]) -> list[str]:
    """`--statistics`: a line per transform with fixes (found, or applied by --write), most first, then
    the hidden ones; `  12  apt  (2 unsafe)`."""
    safe: Counter[str] = Counter()
    unsafe: Counter[str] = Counter()
    hidden = 0
    for result in results:
        for fix in result.fixes:
            (safe if fix.safe else unsafe)[fix.transform] += 1
        hidden += result.hidden_fixes
    totals = safe + unsafe
    if not totals and not hidden:
        return []
    width = len(str(max([*totals.values(), hidden])))
    name_width = max([len(t) for t in totals] or [0])
    lines = []
    for transform, count in sorted(totals.items(), key=lambda item: (-item[1], item[0])):
        tail = f"  ({unsafe[transform]} unsafe)" if unsafe[transform] else ""
        lines.append(f"{count:>{width}}  {show_text(transform):<{name_width}}{tail}".rstrip())
    if hidden:
        lines.append(f"{hidden:>{width}}  hidden: need --unsafe-fixes")
    return lines


def _fingerprint(*parts: str) -> str:
    import hashlib

    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _fingerprints(result: FileResult) -> list[str]:
    """A fingerprint per fix of one file: its path, transform and message, and which of the fixes
    alike it is, not its line, so a result keeps its identity when lines above it move."""
    seen: Counter[tuple[str, str]] = Counter()
    out = []
    for fix in result.fixes:
        seen[(fix.transform, fix.message)] += 1
        out.append(_fingerprint(result.path, fix.transform, fix.message, str(seen[(fix.transform, fix.message)])))
    return out


def to_sarif(results: Sequence[FileResult], warnings: Sequence[tuple[str, str]] = ()) -> str:
    from dockfix.transforms import RULES

    rule_index = {r.code: i for i, r in enumerate(RULES)}
    help_base = _help_base()
    sarif_results, notifications = [], []
    for result in results:
        for fix, fingerprint in zip(result.fixes, _fingerprints(result)):
            entry: dict[str, object] = {"ruleId": fix.code or fix.transform, "level": "warning" if fix.safe else "note",
                                        "message": {"text": fix.message + ("" if fix.safe else
                                                                           " (unsafe fix: --unsafe-fixes)")},
                                        "locations": [_location(result.path, fix.line, fix.end_line)],
                                        "partialFingerprints": {"dockfixFix/v1": fingerprint},
                                        "properties": {"safe": fix.safe}}
            if fix.code in rule_index:
                entry["ruleIndex"] = rule_index[fix.code]
            if fix is result.fixes[0] and result.replacements:
                entry["fixes"] = [_sarif_fix(result)]
            sarif_results.append(entry)
        if result.status == FAILED:
            notifications.append({"level": "error", "message": {"text": result.error or "failed"},
                                  "locations": [_location(result.path, result.error_line)]})
    failed = bool(notifications)
    for path, message in warnings:
        notifications.append({"level": "warning", "message": {"text": message}, "locations": [_location(path, None)]})
    run = {
        "tool": {"driver": {"name": "dockfix", "version": __version__, "semanticVersion": __version__,
                            "rules": [_rule(r, help_base) for r in RULES]}},
        "invocations": [{"executionSuccessful": not failed, "toolExecutionNotifications": notifications}],
        "results": sarif_results,
        "columnKind": "unicodeCodePoints",
    }
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return _json_text(document)


def _sarif_fix(result: FileResult) -> dict:
    """The file's whole change as one SARIF fix, on its first result. The fixes of a file are found
    round after round, each on the text the ones before it left, so only their sum is known in the
    user's own offsets: it is offered once, not split among results (applying several results' fixes
    would apply it twice)."""
    count = len(result.fixes)
    what = "this fix" if count == 1 else f"all {count} fixes dockfix makes to {show_text(result.path)}"
    changes = [{"artifactLocation": _location(path, None)["physicalLocation"]["artifactLocation"],
                "replacements": [{"deletedRegion": {"charOffset": offset, "charLength": length},
                                  "insertedContent": {"text": text}} for offset, length, text in spans]}
               for path, spans in result.replacements]
    return {"description": {"text": f"{what}, as dockfix --write applies them"}, "artifactChanges": changes}


def _help_base() -> str | None:
    """Where the transforms' pages are online: the Documentation (or Repository) URL of the installed
    package's metadata, if it names one; the pages are `transforms/NAME.md` there. None: no helpUri."""
    from importlib import metadata

    try:
        urls = metadata.metadata("dockfix").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    found = dict(u.split(", ", 1) for u in urls if ", " in u)
    for label in ("Documentation", "Repository", "Source"):
        url = found.get(label, "")
        if url.startswith("https://"):
            return url.rstrip("/")
    return None


def to_github(results: Sequence[FileResult], warnings: Sequence[tuple[str, str]] = ()) -> str:
    """GitHub Actions workflow commands: an annotation per pending fix and per failure."""
    lines = []
    for result in results:
        for fix in result.fixes:
            level = "warning" if fix.safe else "notice"
            message = fix.message + ("" if fix.safe else " (unsafe fix: --unsafe-fixes)")
            ends = {"endLine": str(fix.end_line)} if fix.end_line and fix.end_line > fix.line else {}
            lines.append(_command(level, message, file=result.path, line=str(fix.line), **ends,
                                  title=f"dockfix {fix.code} [{fix.transform}]" if fix.code
                                  else f"dockfix [{fix.transform}]"))
        if result.status == FAILED:
            where = {"line": str(result.error_line)} if result.error_line else {}
            lines.append(_command("error", result.error or "failed", file=result.path, **where, title="dockfix"))
    for path, message in warnings:
        lines.append(_command("warning", f"{path}: {message}", title="dockfix"))
    return "".join(line + "\n" for line in lines)


def _command(level: str, message: str, **properties: str) -> str:
    """`::level key=value,...::message`, escaped as the Actions runner unescapes (toolkit's command.ts)."""
    def data(text: str) -> str:
        return show_text(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def prop(text: str) -> str:
        return data(text).replace(":", "%3A").replace(",", "%2C")

    props = ",".join(f"{key}={prop(value)}" for key, value in properties.items())
    return f"::{level}{' ' + props if props else ''}::{data(message)}"


def to_gitlab(results: Sequence[FileResult]) -> str:
    """A GitLab Code Quality report (artifacts:reports:codequality)."""
    issues = []
    for result in results:
        for fix, fingerprint in zip(result.fixes, _fingerprints(result)):
            issues.append({"type": "issue", "check_name": f"dockfix/{fix.code or fix.transform}",
                           "description": fix.message + ("" if fix.safe else " (unsafe fix: --unsafe-fixes)"),
                           "categories": ["Performance"], "severity": "minor" if fix.safe else "info",
                           "fingerprint": fingerprint,
                           "location": {"path": result.path, "lines": {"begin": max(1, fix.line),
                                                                       "end": max(1, fix.end_line or fix.line)}}})
        if result.status == FAILED:
            issues.append({"type": "issue", "check_name": "dockfix/error",
                           "description": result.error or "failed", "categories": ["Bug Risk"], "severity": "major",
                           "fingerprint": _fingerprint(result.path, "error", result.error or ""),
                           "location": {"path": result.path, "lines": {"begin": result.error_line or 1}}})
    return _json_text(issues)


def _location(path: str, line: int | None, end_line: int | None = None) -> dict:
    from urllib.parse import quote

    # A URI reference: the name's bytes percent-encoded (spaces, controls, non-UTF-8 bytes).
    physical: dict = {"artifactLocation": {"uri": quote(os.fsencode(path), safe="/")}}
    if not path.startswith("/"):
        physical["artifactLocation"]["uriBaseId"] = "%SRCROOT%"
    if line:
        physical["region"] = {"startLine": max(1, line)}
        if end_line and end_line > line:
            physical["region"]["endLine"] = end_line
    return {"physicalLocation": physical}


def _rule(found: Rule, help_base: str | None = None) -> dict:
    """A SARIF rule for a dockfix rule: its code, name and summary, its transform's page as help (after a
    header naming the rule, as `dockfix --explain CODE` prints it)."""
    from dockfix.transforms import explain

    text = explain(found.code) or ""
    rule = {"id": found.code, "name": found.name, "shortDescription": {"text": found.summary},
            "fullDescription": {"text": f"{found.summary} (transform {found.transform}, {found.applicability} fix"
                                        + (f"; fixes hadolint {', '.join(found.hadolint)})" if found.hadolint else ")")},
            "defaultConfiguration": {"level": "warning" if found.applicability == "safe" else "note"},
            "properties": {"transform": found.transform, "applicability": found.applicability,
                           "hadolint": list(found.hadolint), "tags": [found.transform, *found.hadolint]}}
    if help_base:
        rule["helpUri"] = f"{help_base}/transforms/{found.transform}.md"
    if text:
        rule["help"] = {"text": text, "markdown": text}
    return rule

