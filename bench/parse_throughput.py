"""Parse-and-render throughput over the corpus: dockfix beside BuildKit's Go parser.

    uv run python bench/parse_throughput.py [--repeat N] [FOLDER]

Not a test: it prints files per second. BuildKit's parser (the `dockerfile`
package) is timed inside its own subprocess, on the same texts in the same
run, so interpreter start-up is not counted for either side. Files dockfix
refuses (ParseError) count as parsed: refusing is work done too.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dockfix import ParseError, parse  # noqa: E402
from tests.oracle_parse import ask  # noqa: E402


def dockfix_seconds(texts: list[str], repeat: int) -> float:
    began = time.perf_counter()
    for _ in range(repeat):
        for text in texts:
            try:
                assert parse(text).render() == text
            except ParseError:
                pass
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    paths = sorted(p for p in args.folder.iterdir() if p.is_file() and p.name != "MANIFEST.tsv")
    texts = [p.read_bytes().decode("utf-8") for p in paths]
    size = sum(len(t) for t in texts)
    print(f"{len(texts)} files, {size / 1024:.0f} KiB, each parsed {args.repeat} times")

    dockfix_seconds(texts, 1)  # warm up imports and regex caches
    ours = dockfix_seconds(texts, args.repeat)
    theirs = ask({"texts": texts, "repeat": args.repeat, "time": True}, timeout=600)
    rows = [("dockfix parse+render", ours), ("BuildKit (dockerfile pkg)", theirs["seconds"])]
    total = args.repeat * len(texts)
    for name, seconds in rows:
        print(f"{name:<27} {total / seconds:>9,.0f} files/s  ({seconds * 1000 / total:.3f} ms/file)")
    print(f"dockfix / BuildKit: {theirs['seconds'] / ours:.2f}x")


if __name__ == "__main__":
    main()
