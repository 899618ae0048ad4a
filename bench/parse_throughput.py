"""Parse-and-render throughput over the corpus: dockfix beside BuildKit's Go parser.

    uv run python bench/parse_throughput.py [--rounds N] [FOLDER]

Not a test: it prints files per second. BuildKit's parser (the `dockerfile`
package) is timed inside its own subprocess, on the same texts in the same
run, so interpreter start-up is not counted for either side. The two run in
interleaved rounds (one pass of each per round, bench/_measure.py's way), so
other work on the machine slows a round of both rather than one side; the
table gives the fastest and the median round. Files dockfix refuses
(ParseError) count as parsed: refusing is work done too. The files are those
MANIFEST.tsv names (not its README.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _measure import load_note, min_median  # noqa: E402

from dockfix import ParseError, parse  # noqa: E402
from tests.conftest import CORPUS, corpus_files  # noqa: E402
from tests.oracle_parse import ask  # noqa: E402


def dockfix_seconds(texts: list[str]) -> float:
    began = time.perf_counter()
    for text in texts:
        try:
            assert parse(text).render() == text
        except ParseError:
            pass
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=CORPUS)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    paths = corpus_files(args.folder)
    texts = [p.read_bytes().decode("utf-8") for p in paths]
    size = sum(len(t) for t in texts)
    print(f"{len(texts)} files, {size / 1024:.0f} KiB, {args.rounds} interleaved rounds; {load_note()}")

    dockfix_seconds(texts)  # warm up imports and regex caches
    ours, theirs = [], []
    for _ in range(args.rounds):
        ours.append(dockfix_seconds(texts))
        theirs.append(ask({"texts": texts, "repeat": 1, "time": True}, timeout=600)["seconds"])
    print(f"{'':<27} {'best round':>22} {'median round':>22}")
    for name, seconds in (("dockfix parse+render", ours), ("BuildKit (dockerfile pkg)", theirs)):
        best, median = min_median(seconds)
        print(f"{name:<27} {len(texts) / best:>12,.0f} files/s {len(texts) / median:>12,.0f} files/s"
              f"  ({best * 1000 / len(texts):.3f} ms/file at best)")
    print(f"dockfix / BuildKit (files/s): best {min(theirs) / min(ours):.2f}x, "
          f"median {min_median(theirs)[1] / min_median(ours)[1]:.2f}x")


if __name__ == "__main__":
    main()
