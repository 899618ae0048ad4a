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

from bench._measure import Run, interleaved, load_note, run_once  # noqa: E402
from bench.batch_throughput import build_corpus  # noqa: E402


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
        argv = [sys.executable, "-m", "dockfix", "--check", "--jobs", "1", *chunks]

        def case(src: str):
            return lambda: run_once(argv, cwd=corpus, env={**os.environ, "PYTHONPATH": src})

        runs: dict[str, list[Run]] = interleaved({name: case(src) for name, src in versions}, args.rounds,
                                                 warm_up=False)
        print(f"{count:,} files, {args.rounds} interleaved rounds, dockfix --check --jobs 1; {load_note()}")
        for name, done in runs.items():
            rates = [count / r.cpu for r in done]
            last = done[-1].stderr.strip().splitlines()
            print(f"{name:<16} best {max(rates):5.0f}  median {statistics.median(rates):5.0f} files/CPU-s"
                  f"  (CPU s: {', '.join(f'{r.cpu:.1f}' for r in done)}; exit {done[-1].returncode};"
                  f" {last[-1] if last else ''})")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
