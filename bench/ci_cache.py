"""What the CI rewrites cost: ci-cache over the golden CI files, and a folder run with and without them.

    uv run python bench/ci_cache.py [--rounds 5]

Not a test: it prints two tables.
1. In-process, per golden CI file (golden/ci-cache/*/repo): the CPU time of one rewrite
   (ci_engine.run_ci: parse, find, apply, re-parse, second look), best and median of the rounds.
2. `dockfix --check --jobs 1` over a repository made of every golden case's repository side by side
   (each with a .git, so each is its own repository), as a whole process: with the CI files (the
   default) and with `--ignore ci-cache` (the CI files are still read: the difference is the rule
   family's own work) and against the same tree without its CI files, interleaved (bench/_measure.py).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._measure import interleaved, load_note, min_median, run_once  # noqa: E402


def in_process(rounds: int) -> None:
    from dockfix.ci_engine import run_ci
    from dockfix.ci_files import GITHUB, DiskRepository, ci_files_of, ci_kind, yaml_check
    from dockfix.transforms import PIPELINE

    files = [(repo, f) for repo in sorted((ROOT / "golden" / "ci-cache").glob("*/repo")) for f in ci_files_of(repo)]
    print(f"{'CI file':<72} {'bytes':>6} {'best ms':>8} {'median ms':>9}")
    total = []
    for repo, file in files:
        text = file.read_text(encoding="utf-8")
        kind = ci_kind(file) or GITHUB
        times = []
        for _ in range(rounds + 1):  # the first warms up (imports, PyYAML's resolver tables)
            began = time.process_time()
            run_ci(text, kind, DiskRepository(repo, None), PIPELINE, check=yaml_check)
            times.append((time.process_time() - began) * 1000)
        best, median = min_median(times[1:])
        total.append(best)
        print(f"{file.relative_to(ROOT / 'golden' / 'ci-cache').as_posix():<72} {len(text.encode()):>6} "
              f"{best:8.1f} {median:9.1f}")
    print(f"{len(files)} files; best times add up to {sum(total):.0f} ms\n")


def whole_runs(rounds: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="dockfix-ci-bench-"))
    try:
        with_ci, without_ci = work / "with", work / "without"
        for case in sorted((ROOT / "golden" / "ci-cache").glob("*/repo")):
            for target in (with_ci, without_ci):
                shutil.copytree(case, target / case.parent.name)
                (target / case.parent.name / ".git").mkdir()
            shutil.rmtree(without_ci / case.parent.name / ".github", ignore_errors=True)
            (without_ci / case.parent.name / ".gitlab-ci.yml").unlink(missing_ok=True)
        argv = [sys.executable, "-m", "dockfix", "--check", "--jobs", "1", "."]
        cases = {
            "with CI files": lambda: run_once(argv, cwd=with_ci),
            "--ignore ci-cache": lambda: run_once([*argv, "--ignore", "ci-cache"], cwd=with_ci),
            "no CI files": lambda: run_once(argv, cwd=without_ci),
        }
        runs = interleaved(cases, rounds)
        print(f"{'dockfix --check . (whole process)':<34} {'best CPU s':>10} {'median':>7} {'best wall s':>11}")
        for name, measured in runs.items():
            best, median = min_median([r.cpu for r in measured])
            print(f"{name:<34} {best:10.3f} {median:7.3f} {min(r.wall for r in measured):11.3f}")
        print(load_note())
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    in_process(args.rounds)
    whole_runs(args.rounds)


if __name__ == "__main__":
    main()
