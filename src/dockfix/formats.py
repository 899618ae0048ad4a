"""Machine-readable output: `--format json` (dockfix's own, stable schema) and `--format sarif`.

JSON (schema version 1; fields are only ever added, never renamed or removed):

    {"tool": "dockfix", "version": "0.1.0", "schema_version": 1, "mode": "check",
     "files": [{"path", "status", "fixes": [{"transform", "message", "line", "safe"}],
                "notes": [{"transform", "message", "line"}], "skip_reason", "error",
                "written": [...], "diff"}],
     "summary": {"files", "changed", "unchanged", "skipped", "failed", "skip_reasons": {reason: count}}}

SARIF 2.1.0 (for code-scanning dashboards): one run; the rules are the
transforms, with their page as help; a result per pending fix at the
Dockerfile line it is about (level "warning" for a safe fix, "note" for an
unsafe one); a file that failed is a tool execution notification.

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
from urllib.parse import quote

from dockfix import __version__
from dockfix.runner import FAILED, SKIPPED, STATUSES, FileResult

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


def _json_text(document: dict) -> str:
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
        "fixes": [{"transform": f.transform, "message": f.message, "line": f.line, "safe": f.safe}
                  for f in result.fixes],
        "notes": [{"transform": n.transform, "message": n.message, "line": n.line or None} for n in result.notes],
        "skip_reason": result.skip_reason,
        "error": ({"message": result.error, "line": result.error_line, "bug": result.bug}
                  if result.error else None),
        "written": list(result.written),
        "warnings": list(result.warnings),
        "diff": result.diff,
    }


def to_json(results: Sequence[FileResult], mode: str) -> str:
    document = {"tool": "dockfix", "version": __version__, "schema_version": SCHEMA_VERSION, "mode": mode,
                "files": [file_record(r) for r in results], "summary": summary(results)}
    return _json_text(document)


def to_sarif(results: Sequence[FileResult]) -> str:
    from dockfix.transforms import PIPELINE

    rule_index = {t.name: i for i, t in enumerate(PIPELINE)}
    sarif_results, notifications = [], []
    for result in results:
        for fix in result.fixes:
            entry = {"ruleId": fix.transform, "level": "warning" if fix.safe else "note",
                     "message": {"text": fix.message + ("" if fix.safe else " (unsafe fix: --unsafe-fixes)")},
                     "locations": [_location(result.path, fix.line)],
                     "properties": {"safe": fix.safe}}
            if fix.transform in rule_index:
                entry["ruleIndex"] = rule_index[fix.transform]
            sarif_results.append(entry)
        if result.status == FAILED:
            notifications.append({"level": "error", "message": {"text": result.error or "failed"},
                                  "locations": [_location(result.path, result.error_line)]})
    run = {
        "tool": {"driver": {"name": "dockfix", "version": __version__, "semanticVersion": __version__,
                            "rules": [_rule(t) for t in PIPELINE]}},
        "invocations": [{"executionSuccessful": not notifications, "toolExecutionNotifications": notifications}],
        "results": sarif_results,
        "columnKind": "unicodeCodePoints",
    }
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return _json_text(document)


def _location(path: str, line: int | None) -> dict:
    # A URI reference: the name's bytes percent-encoded (spaces, controls, non-UTF-8 bytes).
    physical: dict = {"artifactLocation": {"uri": quote(os.fsencode(path), safe="/")}}
    if not path.startswith("/"):
        physical["artifactLocation"]["uriBaseId"] = "%SRCROOT%"
    if line:
        physical["region"] = {"startLine": max(1, line)}
    return {"physicalLocation": physical}


def _rule(transform) -> dict:
    from dockfix.pages import page

    text = page(transform.name) or ""
    rule = {"id": transform.name, "name": transform.name, "shortDescription": {"text": transform.summary},
            "defaultConfiguration": {"level": "warning"}}
    what = _section(text, "What it does")
    if what:
        rule["fullDescription"] = {"text": what}
    if text:
        rule["help"] = {"text": text, "markdown": text}
    return rule


def _section(page_text: str, heading: str) -> str:
    """The first paragraph under `## heading`, on one line."""
    lines = page_text.splitlines()
    try:
        start = lines.index(f"## {heading}") + 1
    except ValueError:
        return ""
    paragraph = []
    for line in lines[start:]:
        if not line.strip() or line.startswith("#"):
            break
        paragraph.append(line.strip())
    return " ".join(paragraph)
