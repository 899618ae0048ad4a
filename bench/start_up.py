"""Start-up: what one short dockfix run costs, beside the bare interpreter and hadolint.

    uv run python bench/start_up.py [--rounds 20] [--importtime]

Not a test: it prints a table. A pre-commit hook or an editor's save runs dockfix on one file,
so its cost is mostly the interpreter starting and dockfix's imports. Every case is a whole
process, run round after round, interleaved (bench/_measure.py), with the CPU time of that process
(the figure the target is set in: issue 14 asks at most 0.12 s for `--check` of one file) and
its wall time, min and median. Bytecode is cached first: one unrecorded run of each case with
PYTHONDONTWRITEBYTECODE unset (an installer compiles it on install; `uv run` and the editable
install compile on first import). The floor is `python -c pass` (site, the venv's .pth files)
and `python -I -S -c pass` (no site at all). --importtime prints what a one-file --check imports,
biggest first (`python -X importtime`, cumulative microseconds).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _measure import Run, interleaved, load_note, min_median, run_once

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
EXAMPLE = ROOT / "examples" / "fastapi-app"
LONE = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\nRUN pip install flask\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--importtime", action="store_true", help="print the biggest imports of a one-file --check")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["NO_COLOR"] = "1"
    work = Path(tempfile.mkdtemp(prefix="dockfix-start-up-"))
    try:
        shutil.copytree(EXAMPLE, work / "app")
        (work / "lone").mkdir()
        (work / "lone" / "Dockerfile").write_text(LONE)
        dockfix = str(BIN / "dockfix")
        commands = {
            "python -I -S -c pass": [sys.executable, "-I", "-S", "-c", "pass"],
            "python -c pass": [sys.executable, "-c", "pass"],
            "dockfix --version": [dockfix, "--version"],
            "dockfix --check Dockerfile (alone)": [dockfix, "--check", "lone/Dockerfile"],
            "dockfix --check Dockerfile (example app)": [dockfix, "--check", "app/Dockerfile"],
            "dockfix --write - (editor's save)": [dockfix, "--write", "-", "--stdin-filename", "app/Dockerfile"],
        }
        stdin = {"dockfix --write - (editor's save)": (EXAMPLE / "Dockerfile").read_bytes()}
        hadolint = shutil.which("hadolint", path=str(BIN))
        if hadolint:
            commands["hadolint Dockerfile (example app)"] = [hadolint, "--no-fail", "app/Dockerfile"]

        def case(name: str, argv: list[str]):
            return lambda: run_once(argv, cwd=work, env=env, stdin=stdin.get(name, b""))

        runs = interleaved({name: case(name, argv) for name, argv in commands.items()}, args.rounds)
        report(runs, args.rounds)
        if args.importtime:
            importtime([sys.executable, "-X", "importtime", dockfix, "--check", "app/Dockerfile"], work, env)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(runs: dict[str, list[Run]], rounds: int) -> None:
    print(f"{rounds} interleaved rounds; {load_note()}\n")
    print(f"{'case':<42} {'CPU min':>8} {'CPU med':>8} {'wall min':>9} {'wall med':>9}  exit")
    for name, done in runs.items():
        cpu_min, cpu_med = min_median([r.cpu for r in done])
        wall_min, wall_med = min_median([r.wall for r in done])
        codes = sorted({r.returncode for r in done})
        print(f"{name:<42} {cpu_min * 1000:>6.0f}ms {cpu_med * 1000:>6.0f}ms {wall_min * 1000:>7.0f}ms "
              f"{wall_med * 1000:>7.0f}ms  {','.join(map(str, codes))}")


def importtime(argv: list[str], cwd: Path, env: dict[str, str], top: int = 25) -> None:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = line.removeprefix("import time:").split("|")
            rows.append((int(cumulative), name.rstrip()))
    print(f"\nbiggest imports of a one-file --check (cumulative µs, one run, {len(rows)} modules):")
    for cumulative, name in sorted(rows, reverse=True)[:top]:
        print(f"{cumulative:>9,}  {name}")


if __name__ == "__main__":
    main()
