"""Per-step build times from the lab's `--progress=plain` logs: where a build's seconds go.

`python -m lab FIXTURE --steps` prints, after the builds, one table per fixture, build
(cold, dependency-change rebuild, code-change rebuild) and variant: every BuildKit step
(vertex) with its own duration in each repetition, `cached` when the cache answered.
`python -m lab.steps DIR [FIXTURE...]` prints the same from the logs an earlier run left
in DIR, without building.

A step's time is BuildKit's own (`#N DONE 1.2s`: the vertex from its start to its end);
steps of different stages run in parallel, so they may add up to more than the build's
wall-clock time, which the table gives beside them (from `latest.json` when it is there).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

KINDS = (("cold", "cold build"), ("dep", "dependency-change rebuild"), ("code", "code-change rebuild"))
_SAMPLES = {"cold": "cold_samples", "dep": "dep_samples", "code": "code_samples"}
_LINE = re.compile(r"^#(\d+) (.*)$")
_DONE = re.compile(r"^DONE (\d+(?:\.\d+)?)s$")
_MOUNT = re.compile(r"--mount=\S+\s+")
NAME_WIDTH = 90


@dataclass
class Step:
    name: str
    seconds: float | None  # None: cached, failed or cancelled
    cached: bool = False
    status: str = "done"  # done | cached | error | canceled | running (no end line in the log)


def parse(log: str) -> list[Step]:
    """The steps of one plain-progress build log, in the order BuildKit started them.
    A vertex's first line names it (BuildKit repeats that line when it comes back to the vertex
    after another one's output); `DONE Xs`, `CACHED`, `ERROR` or `CANCELED` ends it."""
    steps: dict[str, Step] = {}
    for line in log.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        vid, rest = m.groups()
        if vid == "0":  # `#0 building with "default" instance ...`: the client's, not a step
            continue
        step = steps.get(vid)
        if step is None:
            steps[vid] = Step(name=rest.strip(), seconds=None, status="running")
            continue
        done = _DONE.match(rest)
        if done:
            step.seconds, step.status = float(done.group(1)), "done"
        elif rest == "CACHED":
            step.cached, step.status, step.seconds = True, "cached", None
        elif rest.startswith("ERROR"):
            step.status = "error"
        elif rest.startswith("CANCELED"):
            step.status = "canceled"
    return list(steps.values())


def short(name: str) -> str:
    """A step's name for the table: `--mount=...` options left out (the command is what tells
    steps apart), whitespace collapsed, cut at NAME_WIDTH characters."""
    text = " ".join(_MOUNT.sub("", name).split())
    return text if len(text) <= NAME_WIDTH else text[:NAME_WIDTH - 1] + "…"


def _cell(step: Step | None) -> str:
    if step is None:
        return ""
    if step.status in ("cached", "error", "canceled", "running"):
        return step.status
    return f"{step.seconds:.1f}"


def table(runs: list[list[Step]], walls: list[float] | None = None) -> list[str]:
    """A Markdown table: one row per step (in the order of the first run that has it; a step done
    in 0.0 s every time is left out), one column per repetition; the last rows are the sum of the step times and the build's
    wall-clock time. A step of a later run is matched to the first run's by its name and how
    many steps of that name came before it."""
    order: list[tuple[str, int]] = []
    cells: dict[tuple[str, int], list[Step | None]] = {}
    for i, run in enumerate(runs):
        seen: dict[str, int] = {}
        for step in run:
            key = (step.name, seen.get(step.name, 0))
            seen[step.name] = key[1] + 1
            if key not in cells:
                order.append(key)
                cells[key] = [None] * len(runs)
            cells[key][i] = step
    head = "| step | " + " | ".join(f"r{i + 1} s" for i in range(len(runs))) + " |"
    lines = [head, "|---|" + "---:|" * len(runs)]
    for key in order:
        if all(s is not None and s.status == "done" and (s.seconds or 0.0) < 0.05 for s in cells[key]):
            continue  # 0.0 s in every repetition (metadata, a FROM of a local image): nothing to see
        name = short(key[0]).replace("|", "\\|")
        lines.append(f"| {name} | " + " | ".join(_cell(s) for s in cells[key]) + " |")
    sums = [sum(s.seconds or 0.0 for s in run) for run in runs]
    lines.append("| *sum of step times* | " + " | ".join(f"{s:.1f}" for s in sums) + " |")
    if walls:
        lines.append("| *wall-clock build* | " + " | ".join(
            f"{walls[i]:.1f}" if i < len(walls) else "" for i in range(len(runs))) + " |")
    return lines


def logs_of(out_dir: Path, fixture: str, variant: str, kind: str, repeat: int | None = None) -> list[str]:
    """The logs one variant's build of one kind left, repetition 1 first (the lab names them
    `<fixture>.<variant>.<kind>.log`, `.r2.log`, ...); at most `repeat` of them, so the logs an
    earlier run with more repetitions left in the same folder are not read as this run's."""
    found = []
    first = out_dir / f"{fixture}.{variant}.{kind}.log"
    if first.is_file():
        found.append(first.read_text(errors="replace"))
        n = 2
        while (repeat is None or n <= repeat) and (out_dir / f"{fixture}.{variant}.{kind}.r{n}.log").is_file():
            found.append((out_dir / f"{fixture}.{variant}.{kind}.r{n}.log").read_text(errors="replace"))
            n += 1
    return found


def _run_data(out_dir: Path) -> tuple[dict[tuple[str, str], dict], int | None]:
    """Every variant's timed samples and the run's --repeat, from its latest.json when it is there."""
    try:
        data = json.loads((out_dir / "latest.json").read_text())
    except (OSError, ValueError):
        return {}, None
    results = {(r.get("fixture"), r.get("variant")): r for r in data.get("results", [])}
    return results, (data.get("meta") or {}).get("repeat")


def report(out_dir: Path, fixtures: list[str] | None = None,
           variants: tuple[str, ...] = ("original", "dockfix", "expert")) -> str:
    """The per-step tables of every fixture (default: every fixture with a log in out_dir)."""
    if fixtures is None:
        fixtures = sorted({p.name.split(".")[0] for p in out_dir.glob("*.cold.log")})
    walls, repeat = _run_data(out_dir)
    lines = ["# Build steps: where the time goes", "",
             "Each step's own time (BuildKit's `DONE`), per repetition; steps of different stages",
             "run in parallel, so their sum may exceed the wall-clock build.", ""]
    for fx in fixtures:
        for kind, title in KINDS:
            blocks = []
            for v in variants:
                runs = [parse(text) for text in logs_of(out_dir, fx, v, kind, repeat)]
                if not runs:
                    continue
                wall = walls.get((fx, v), {}).get(_SAMPLES[kind]) or None
                blocks += [f"### {fx}, {title}: {v}", "", *table(runs, wall), ""]
            lines += blocks
    if len(lines) == 5:
        lines.append(f"No build logs in {out_dir} for {', '.join(fixtures) or 'any fixture'}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m lab.steps", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path, help="a lab run's output folder (its --out)")
    p.add_argument("fixtures", nargs="*", help="fixture names (default: every fixture with logs there)")
    a = p.parse_args(argv)
    if not a.out.is_dir():
        print(f"lab.steps: {a.out} is not a folder", file=sys.stderr)
        return 2
    print(report(a.out, a.fixtures or None), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
