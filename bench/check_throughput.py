"""`dockfix --check` throughput in files per CPU-second, versions interleaved.

    uv run python bench/check_throughput.py [--files 10000] [--rounds 3] [--src NAME=DIR ...]

Not a test: it prints a table. The corpus is bench/batch_throughput.py's (../shared/corpus
replicated with variations into 10,000 one-Dockerfile folders). Each version is a `src`
folder (this checkout's by default; an older one made with
`git archive COMMIT src | tar -x -C DIR`), run as `python -m dockfix --check --jobs 1` over
the whole corpus. The versions take turns, round after round, so a busy machine slows
each alike; CPU seconds (user + system of the process) do not count time spent waiting
for a core, so files per CPU-second is the figure to compare. The best and the median
round are shown.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.batch_throughput import build_corpus, measured  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--src", action="append", default=[], metavar="NAME=DIR",
                        help="a version to measure: a name and its src folder (repeatable)")
    parser.add_argument("--keep", type=Path, help="build the corpus here (reused when it exists)")
    args = parser.parse_args()
    versions = [tuple(s.split("=", 1)) for s in args.src] or [("this checkout", str(ROOT / "src"))]
    work = args.keep or Path(tempfile.mkdtemp(prefix="dockfix-check-"))
    try:
        corpus = work / "corpus"
        if not corpus.is_dir():
            build_corpus(corpus, args.files)
        count = sum(1 for _ in corpus.glob("*/*/Dockerfile"))
        chunks = sorted(p.name for p in corpus.iterdir())
        rates: dict[str, list[float]] = {name: [] for name, _ in versions}
        for round_number in range(1, args.rounds + 1):
            for name, src in versions:
                os.environ["PYTHONPATH"] = src
                seconds, _, rc, summary, cpu = measured([sys.executable, "-m", "dockfix", "--check", "--jobs", "1",
                                                         *chunks], corpus)
                rates[name].append(count / cpu)
                print(f"round {round_number} {name:<16} {count / cpu:7.0f} files/CPU-s  ({cpu:.1f} CPU s, "
                      f"{seconds:.1f} s wall, exit {rc}; {summary})", flush=True)
        print(f"\n{count:,} files, {args.rounds} rounds, load average {os.getloadavg()[0]:.1f}")
        for name, values in rates.items():
            print(f"{name:<16} best {max(values):7.0f}  median {statistics.median(values):7.0f} files/CPU-s")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
