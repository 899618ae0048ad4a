"""Batch throughput: dockfix over >= 10,000 Dockerfiles beside hadolint and BuildKit's parser.

    .venv/bin/python bench/batch_throughput.py [--files 10000] [--rounds 3] [--hadolint-sample 500]
                                               [--seed 6] [--keep DIR]

Not a test: it prints a table. The corpus is ../shared/corpus (the files its
MANIFEST.tsv names) replicated with variations (stage names, base tags,
comments, blank lines, CRLF), one Dockerfile per folder as in a checkout of
many repositories, written to a temporary folder. Every figure is a whole
process timed from outside (its start-up included), except BuildKit's parser,
which is timed inside its child process (tests/oracle_parse.py; start-up not
counted). The cases run in interleaved rounds (bench/_measure.py): each round
runs every case once, and the table gives the best and the median round, so
other work on the machine slows one round of every case rather than one case.
CPU time is the process's and its workers' (wait4). Peak memory is the peak of
the SUM of the resident sets of the process and all its descendants (a pool
of workers, xargs' hadolint processes), sampled from /proc while it runs.
hadolint is slow, so it runs on a seeded random sample of the files (--seed;
--hadolint-sample 0: all of them), the same files for both of its rows.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _measure import Run, interleaved, load_note, min_median, run_once  # noqa: E402

from tests.conftest import corpus_files  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
BIN = Path(sys.executable).parent
CHUNK = 2500  # memory is reported at 1, 2 and 4 chunks

_STAGE = re.compile(r"(?im)^(\s*FROM\s+.*?\s+AS\s+)([A-Za-z_][\w.-]*)\s*$")
_PY_TAG = re.compile(r"(?im)^(\s*FROM\s+(?:--platform=\S+\s+)?(?:docker\.io/)?(?:library/)?python):(3\.\d+)")
_FIRST_FROM = re.compile(r"(?im)^FROM\s")


def vary(text: str, n: int, rng: random.Random) -> str:
    """The n-th variant of a corpus file: the same kind of Dockerfile, not the same bytes."""
    for name in dict.fromkeys(m.group(2) for m in _STAGE.finditer(text)):
        new = f"{name}{n % 7}"
        text = re.sub(rf"(?i)(\bAS\s+|--from=|^(\s*FROM\s+)){re.escape(name)}\b", lambda m, new=new: m.group(1) + new, text,
                      flags=re.M)
    text = _PY_TAG.sub(lambda m: f"{m.group(1)}:3.{rng.choice((9, 10, 11, 12, 13))}", text)
    first = _FIRST_FROM.search(text)
    if first and n % 3:
        text = text[:first.start()] + f"# variant {n}: replicated for the batch benchmark\n" + text[first.start():]
    if n % 5 == 1:
        text = text + "\n\n"
    if n % 4 == 3:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    return text


def build_corpus(target: Path, count: int) -> list[Path]:
    sources = corpus_files(CORPUS)
    rng = random.Random(6)
    paths = []
    for n in range(count):
        source = sources[n % len(sources)]
        text = source.read_bytes().decode("utf-8", "replace")
        folder = target / f"chunk{n // CHUNK}" / f"repo{n:05d}"
        folder.mkdir(parents=True)
        path = folder / "Dockerfile"
        path.write_bytes((text if n < len(sources) else vary(text, n, rng)).encode("utf-8"))
        paths.append(path)
    return paths


def measured(argv: list[str], cwd: Path) -> Callable[[], Run]:
    """A case: one run of argv in cwd, the whole process tree's memory sampled."""
    return lambda: run_once(argv, cwd=cwd, memory=True)


def last_line(run: Run) -> str:
    lines = run.stderr.strip().splitlines()
    return lines[-1] if lines else ""


def has_jobs() -> bool:
    help_text = subprocess.run([str(BIN / "dockfix"), "--help"], capture_output=True, text=True, timeout=60,
                               env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}).stdout
    return "--jobs" in help_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of every case")
    parser.add_argument("--hadolint-sample", type=int, default=500, help="files hadolint runs on (0: all)")
    parser.add_argument("--seed", type=int, default=6, help="of the hadolint sample")
    parser.add_argument("--keep", type=Path, help="build the corpus here and keep it")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"the shared corpus is missing: {CORPUS}")
    work = args.keep or Path(tempfile.mkdtemp(prefix="dockfix-batch-"))
    try:
        run(work, args)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def run(work: Path, args) -> None:
    began = time.perf_counter()
    paths = build_corpus(work / "corpus", args.files)
    chunks = sorted(p.name for p in (work / "corpus").iterdir())
    size = sum(p.stat().st_size for p in paths)
    print(f"corpus: {len(paths):,} files ({size / 2**20:.1f} MiB) from {CORPUS} in {work / 'corpus'},"
          f" built in {time.perf_counter() - began:.1f} s; {args.rounds} interleaved rounds; {load_note()}")
    corpus = work / "corpus"
    jobs = has_jobs()
    cases: dict[str, Callable[[], Run]] = {}
    counts: dict[str, int] = {}
    notes: dict[str, str] = {}
    variants = [["--jobs", "1"], []] if jobs else [[]]
    for mode in ("check", "diff"):
        for extra in variants:
            name = f"dockfix --{mode} {' '.join(extra)}".strip()
            cases[name] = measured([str(BIN / "dockfix"), f"--{mode}", *extra, *chunks], corpus)
            counts[name] = len(paths)
            notes[name] = "" if jobs or extra else "(no --jobs option in this build: one process)"

    # hadolint: one process over a seeded random sample (it is slow), and one process per CPU via xargs -P.
    rng = random.Random(args.seed)
    wanted = len(paths) if args.hadolint_sample <= 0 else min(args.hadolint_sample, len(paths))
    sample = sorted(str(p.relative_to(corpus)) for p in rng.sample(paths, wanted))
    sample_bytes = sum((corpus / p).stat().st_size for p in sample)
    what = "all files" if wanted == len(paths) else (
        f"random sample of {wanted} (seed {args.seed}), {sample_bytes / wanted:,.0f} B/file vs "
        f"{size / len(paths):,.0f} overall")
    hadolint = str(BIN / "hadolint")
    cases["hadolint (1 process)"] = measured([hadolint, "--no-fail", *sample], corpus)
    listing = work / "sample.txt"
    listing.write_text("\n".join(sample) + "\n")
    cpus = str(os.cpu_count() or 1)
    cases[f"hadolint (xargs -P {cpus})"] = measured(
        ["sh", "-c", f"xargs -P {cpus} -n 50 {hadolint} --no-fail < {listing}"], corpus)
    for name in ("hadolint (1 process)", f"hadolint (xargs -P {cpus})"):
        counts[name], notes[name] = wanted, what

    runs = interleaved(cases, args.rounds, warm_up=False)

    # BuildKit's Go parser, timed inside its own process on the same texts, once per round.
    from tests.oracle_parse import ask

    texts = [p.read_bytes().decode("utf-8", "replace") for p in paths]
    parser_seconds = [ask({"texts": texts, "repeat": 1, "time": True}, timeout=3600)["seconds"]
                      for _ in range(args.rounds)]

    # files per CPU-second does not depend on what else the machine runs; files/s (wall) does.
    print(f"\n{'run':<30} {'files':>7} {'files/s best':>12} {'median':>8} {'files/CPU-s':>11} "
          f"{'peak RSS (tree)':>15}  note")
    for name, done in runs.items():
        count = counts[name]
        best, median = min_median([r.wall for r in done])
        cpu = min(r.cpu for r in done)
        peak = max(r.peak_kib or 0 for r in done)
        exit_codes = ",".join(sorted({str(r.returncode) for r in done}))
        note = f"{notes[name]} exit {exit_codes}; {last_line(done[-1])}".strip() if name.startswith("dockfix") \
            else notes[name]
        print(f"{name:<30} {count:>7,} {count / best:>12,.0f} {count / median:>8,.0f} {count / cpu:>11,.0f} "
              f"{peak / 1024:>11.0f} MiB  {note}")
    best, median = min_median(parser_seconds)
    print(f"{'BuildKit parser (dockerfile pkg)':<30} {len(texts):>7,} {len(texts) / best:>12,.0f} "
          f"{len(texts) / median:>8,.0f} {'-':>11} {'-':>15}  parse only, start-up not counted")

    ours, theirs = runs["dockfix --check"], runs["hadolint (1 process)"]
    ratio_wall = (len(paths) / min(r.wall for r in ours)) / (wanted / min(r.wall for r in theirs))
    ratio_cpu = (len(paths) / min(r.cpu for r in ours)) / (wanted / min(r.cpu for r in theirs))
    print(f"\ndockfix --check (default jobs) / hadolint (1 process), best rounds: {ratio_wall:.1f}x files/s (wall), "
          f"{ratio_cpu:.1f}x files per CPU-second")

    print("\npeak memory of dockfix --check (default jobs, whole process tree) as the corpus grows:")
    growth = {n: measured([str(BIN / "dockfix"), "--check", *chunks[:n]], corpus)
              for n in (1, 2, 4) if len(chunks) >= n}
    for n, done in interleaved(growth, args.rounds, warm_up=False).items():
        count = sum(1 for p in paths if p.parent.parent.name in chunks[:n])
        peak = max(r.peak_kib or 0 for r in done)
        best = min(r.wall for r in done)
        print(f"  {count:>7,} files: {peak / 1024:6.0f} MiB peak, {count / best:6,.0f} files/s at best  "
              f"({last_line(done[-1])})")


if __name__ == "__main__":
    main()
