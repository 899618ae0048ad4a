"""hadolint's findings over the corpus, per rule code, before and after dockfix.

    .venv/bin/python bench/hadolint_counts.py [FOLDER]

The pipeline runs with unsafe fixes, as `dockfix --write --unsafe-fixes` would.
`added` counts findings in a stage dockfix added (the multi-stage split's
builder restates part of the original stage); `new` is what dockfix
introduced (tests/test_hadolint.py asserts it is always zero). Files hadolint
cannot parse (DL1000 before) are listed apart.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import CORPUS, corpus_files  # noqa: E402
from tests.hadolint import compare  # noqa: E402


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS
    paths = corpus_files(folder)  # the Dockerfiles MANIFEST.tsv names: not its README.md
    began = time.perf_counter()
    comparisons = compare(paths)
    seconds = time.perf_counter() - began
    readable = [c for c in comparisons if not c.unreadable]
    before = sum((c.before.total for c in readable), Counter())
    after = sum((c.after.total for c in readable), Counter())
    added = sum((c.after.added for c in readable), Counter())
    new: Counter[str] = Counter()
    for c in readable:
        new.update(c.new_findings())
    print(f"{len(comparisons)} files dockfix parses, {len(readable)} hadolint reads, {seconds:.1f} s\n")
    print("| rule | before | after | in added stages | new |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for code in sorted(set(before) | set(after)):
        print(f"| {code} | {before[code]} | {after[code]} | {added[code]} | {new[code]} |")
    print(f"| total | {sum(before.values())} | {sum(after.values())} | {sum(added.values())} | {sum(new.values())} |")
    unreadable = [c.name for c in comparisons if c.unreadable]
    print(f"\nhadolint cannot parse {len(unreadable)} files (before and after): {', '.join(unreadable)}")


if __name__ == "__main__":
    main()
