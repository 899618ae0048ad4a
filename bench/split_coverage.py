"""How often the multi-stage split applies over ../shared/corpus, and why not.

    .venv/bin/python bench/split_coverage.py [FOLDER]

Runs only the multistage transform (unsafe fixes on) on every file and counts
splits and the reasons files were left alone (line numbers and quoted words
folded so that the same reason counts once). Corpus files come without their
build context, so checks that read the context see nothing there.
"""

from __future__ import annotations

import collections
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dockfix.runner import Options, process_file  # noqa: E402
from tests.conftest import corpus_files  # noqa: E402


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "corpus"
    files = corpus_files(folder)  # the Dockerfiles MANIFEST.tsv names: not its README.md
    if not files:
        sys.exit(f"no Dockerfiles in {folder}")
    reasons: collections.Counter[str] = collections.Counter()
    split = []
    for path in files:
        result = process_file(path, Options("check", ("multistage",), (), True))
        if any(f.transform == "multistage" for f in result.fixes):
            split.append(path.name)
            continue
        for note in result.notes:
            if note.transform == "multistage":
                message = re.sub(r"`[^`]*`", "`…`", re.sub(r"line \d+: ", "", note.message))
                reasons[message[:100]] += 1
    print(f"{len(files)} files, {len(split)} split")
    for name in split:
        print(f"  split: {name}")
    for message, count in reasons.most_common():
        print(f"{count:4d}  {message}")


if __name__ == "__main__":
    main()
