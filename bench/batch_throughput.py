"""Batch throughput: dockfix over >= 10,000 Dockerfiles beside hadolint and BuildKit's parser.

    .venv/bin/python bench/batch_throughput.py [--files 10000] [--hadolint-sample 500] [--keep DIR]

Not a test: it prints a table. The corpus is ../shared/corpus replicated
with variations (stage names, base tags, comments, blank lines, CRLF), one
Dockerfile per folder as in a checkout of many repositories, written to a
temporary folder. Every figure is a whole process timed from outside (its
start-up included), except BuildKit's parser, which is timed inside its child
process (tests/oracle_parse.py; start-up not counted). Peak memory is
getrusage(RUSAGE_CHILDREN).ru_maxrss of a wrapper that ran only that command,
so worker processes (grandchildren) count too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
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
    sources = sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md"))
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


def measured(argv: list[str], cwd: Path) -> tuple[float, int, int, str, float]:
    """(seconds, peak RSS in KiB of the command and its descendants, exit code, last line of its
    stderr: dockfix's summary, CPU seconds of the command and its descendants), in a fresh wrapper."""
    wrapper = ("import json, resource, subprocess, sys, time\n"
               "argv = json.loads(sys.argv[1])\n"
               "with open(sys.argv[2], 'wb') as err:\n"
               "    began = time.perf_counter()\n"
               "    rc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=err).returncode\n"
               "    took = time.perf_counter() - began\n"
               "use = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
               "print(json.dumps([took, use.ru_maxrss, rc, use.ru_utime + use.ru_stime]))\n")
    with tempfile.NamedTemporaryFile() as err:
        done = subprocess.run([sys.executable, "-c", wrapper, json.dumps(argv), err.name], cwd=cwd,
                              capture_output=True, timeout=3600, check=True)
        lines = Path(err.name).read_bytes().decode("utf-8", "replace").strip().splitlines()
    took, rss, rc, cpu = json.loads(done.stdout)
    return took, rss, rc, lines[-1] if lines else "", cpu


def has_jobs() -> bool:
    help_text = subprocess.run([str(BIN / "dockfix"), "--help"], capture_output=True, text=True, timeout=60,
                               env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}).stdout
    return "--jobs" in help_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--hadolint-sample", type=int, default=500)
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
          f" built in {time.perf_counter() - began:.1f} s; {os.cpu_count()} CPUs,"
          f" load average {os.getloadavg()[0]:.1f} (other work on the machine slows every row)")
    jobs = has_jobs()
    rows: list[tuple[str, int, float, int, str, float]] = []  # name, files, seconds, peak KiB, note, CPU s

    def dockfix(mode: str, extra: list[str], folders: list[str], note: str = "") -> tuple[float, int]:
        seconds, rss, rc, summary, cpu = measured([str(BIN / "dockfix"), f"--{mode}", *extra, *folders],
                                                  work / "corpus")
        count = sum(1 for p in paths if p.parent.parent.name in folders)
        rows.append((f"dockfix --{mode} {' '.join(extra)}".strip(), count, seconds, rss,
                     f"{note} exit {rc}; {summary}".strip(), cpu))
        return seconds, rss

    variants = [["--jobs", "1"], []] if jobs else [[]]
    default_note = "" if jobs else "(no --jobs option in this build: one process)"
    for mode in ("check", "diff"):
        for extra in variants:
            dockfix(mode, extra, chunks, default_note if not extra else "")

    # hadolint: one process over a sample (it is slow), and one process per CPU via xargs -P.
    sample = [str(p.relative_to(work / "corpus")) for p in paths[:: max(1, len(paths) // args.hadolint_sample)]]
    sample = sample[: args.hadolint_sample]
    hadolint = str(BIN / "hadolint")
    seconds, rss, _, _, cpu = measured([hadolint, "--no-fail", *sample], work / "corpus")
    rows.append(("hadolint (1 process)", len(sample), seconds, rss, f"sample of {len(sample)}, extrapolated", cpu))
    listing = work / "sample.txt"
    listing.write_text("\n".join(sample) + "\n")
    cpus = str(os.cpu_count() or 1)
    seconds, rss, _, _, cpu = measured(["sh", "-c", f"xargs -P {cpus} -n 50 {hadolint} --no-fail < {listing}"],
                               work / "corpus")
    rows.append((f"hadolint (xargs -P {cpus})", len(sample), seconds, rss, f"sample of {len(sample)}, extrapolated",
                 cpu))

    # BuildKit's Go parser, timed inside its own process on the same texts.
    from tests.oracle_parse import ask

    texts = [p.read_bytes().decode("utf-8", "replace") for p in paths]
    answer = ask({"texts": texts, "repeat": 1, "time": True}, timeout=3600)
    rows.append(("BuildKit parser (dockerfile pkg)", len(texts), answer["seconds"], 0,
                 "parse only, start-up not counted; wall time only", 0.0))

    # files per CPU-second does not depend on what else the machine runs; files/s (wall) does.
    print(f"\n{'run':<34} {'files':>7} {'seconds':>8} {'files/s':>8} {'files/CPU-s':>11} {'peak RSS':>9}  note")
    for name, count, seconds, rss, note, cpu in rows:
        memory = f"{rss / 1024:.0f} MiB" if rss else "-"
        per_cpu = f"{count / cpu:,.0f}" if cpu else "-"
        print(f"{name:<34} {count:>7,} {seconds:>8.1f} {count / seconds:>8,.0f} {per_cpu:>11} {memory:>9}  {note}")
    ours = next(r for r in rows if r[0] == "dockfix --check")
    theirs = next(r for r in rows if r[0] == "hadolint (1 process)")
    print(f"\ndockfix --check (default jobs) / hadolint (1 process): "
          f"{(ours[1] / ours[2]) / (theirs[1] / theirs[2]):.1f}x files/s (wall), "
          f"{(ours[1] / ours[5]) / (theirs[1] / theirs[5]):.1f}x files per CPU-second")

    print("\npeak memory of dockfix --check (default jobs) as the corpus grows:")
    for n in (1, 2, 4):
        folders = chunks[:n]
        if len(folders) < n:
            break
        seconds, rss, _, summary, _ = measured([str(BIN / "dockfix"), "--check", *folders], work / "corpus")
        count = sum(1 for p in paths if p.parent.parent.name in folders)
        print(f"  {count:>7,} files: {rss / 1024:6.0f} MiB peak, {count / seconds:6,.0f} files/s  ({summary})")


if __name__ == "__main__":
    main()
