"""What the split decides for each RUN between two dependency installs, for review (issue 12, Also).

    uv run python bench/between_review.py [DOCKERFILE_OR_FOLDER...]   (default: ../shared/corpus)

For every stage of every Dockerfile (any base, multi-stage or not: the split
refuses most real files for other reasons first, and this shows the decision
itself) with a RUN between two installs into one environment, prints each
such RUN and what split/between makes of it: `stays` (only system programs,
no path of the environment: it runs where it is), `builder` (it writes only
into the environment: the builder alone runs it), `env` (it needs the
installed packages: the runtime would copy the environment before it), or
`refused` with the reason; then the stage's placement (the copy's line, or
the refusal, which also weighs the installs after the RUN). The build
context is the Dockerfile's folder (run it on checked-out trees, e.g. the
ones `bench/review.py --keep` leaves, for the real one).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dockfix.context import Context  # noqa: E402
from dockfix.data import slim_programs  # noqa: E402
from dockfix.split import between, images  # noqa: E402
from dockfix.split.classify import Classifier  # noqa: E402
from dockfix.syntax import parse  # noqa: E402
from dockfix.views import stages  # noqa: E402
from tests.conftest import corpus_files  # noqa: E402


def files(args: list[str]) -> list[Path]:
    if not args:
        return corpus_files(ROOT.parent / "shared" / "corpus")
    out: list[Path] = []
    for arg in map(Path, args):
        if arg.is_dir():
            out += sorted(p for p in arg.rglob("*") if p.is_file() and "dockerfile" in p.name.lower())
        else:
            out.append(arg)
    return out


def review(path: Path) -> list[str]:
    try:
        tree = parse(path.read_text(encoding="utf-8", errors="replace"))
    except Exception as e:  # a file dockfix cannot parse is reported, not reviewed
        return [f"### {path}: does not parse ({e})"]
    context = Context.for_dockerfile(path)
    out = []
    for number, stage in enumerate(stages(tree), 1):
        classifier = Classifier(tree)
        steps = [classifier.step(i) for i in stage.instructions]
        installs = [i for i, s in enumerate(steps) if s.kind == "install"]
        targets = {c.target for i in installs for c in steps[i].installs if c.tool not in ("glue", "poetry-config")}
        if len(installs) < 2 or len(targets) != 1:
            continue
        first, last = installs[0], installs[-1]
        runs = [i for i in range(first + 1, last) if steps[i].instr.name == "RUN" and steps[i].kind == "other"]
        if not runs:
            continue
        target = targets.pop()
        venv = "/opt/venv" if target == "system" else target
        runtime = images.runtime_for(stage.base)
        distribution = runtime.distribution if isinstance(runtime, images.Runtime) else None
        version = runtime.version if isinstance(runtime, images.Runtime) else None
        suites = [distribution] if distribution else list(slim_programs.suites())
        out.append(f"### {path} stage {number} ({stage.base}): installs into {target}, lines "
                   f"{steps[first].instr.line}-{steps[last].instr.line}")
        for i in runs:
            decision = between.needs(steps[i], steps[:i], venv, target == "system", suites, version, context)
            kind = {between.REFUSED: "refused", between.BUILDER: "builder"}.get(decision[:1], "env" if decision else "stays")
            text = " ".join(steps[i].instr.logical.split())[:110]
            shown = decision.lstrip(between.REFUSED + between.BUILDER)
            out.append(f"  L{steps[i].instr.line} {kind:8} {text}" + (f"\n      {shown}" if decision else ""))
        place = between.placement(steps, first, last, venv, target, suites, version, context)
        out.append(f"  => {place}" if isinstance(place, str) else
                   f"  => copy before line {steps[place.copy_at].instr.line}")
    return out


def main() -> None:
    for path in files(sys.argv[1:]):
        for line in review(path):
            print(line)


if __name__ == "__main__":
    main()
