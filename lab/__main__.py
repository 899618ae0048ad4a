"""`uv run python -m lab [FIXTURE_DIR...]`: build original, dockfix and expert
variants of each fixture on the lab's own Docker engine and write
lab/results/latest.{json,md}."""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import tempfile
import time
from pathlib import Path

from . import bases, engine, fixtures, measure, report, steps

RESULTS = Path(__file__).resolve().parent / "results"
# Timed builds per variant (--repeat, DOCKFIX_LAB_REPEAT): the table gives the minimum and the
# spread. A pass took 14 min at load 5 for 16 fixtures (about 53 s a fixture; 24 fixtures now:
# about 21 min), so 2 passes keep CI (about 10 min without the lab) near 50 of its 90 minutes;
# 3 would take it to about 75. Run a few fixtures by hand with --repeat 3 or more.
DEFAULT_REPEAT = 2


def run(paths: list[Path] | None = None, variants=measure.VARIANTS, rebuilds: bool = True,
        out_dir: Path = RESULTS, eng: engine.Engine | None = None, log=None,
        fxs: list[fixtures.Fixture] | None = None, builder: str | None = None,
        repeat: int = DEFAULT_REPEAT) -> tuple[list[dict], dict]:
    """Run the lab; returns (rows, meta). Starts and stops an engine unless one is given."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    fxs = fxs if fxs is not None else fixtures.discover(paths)
    own = eng is None
    eng = eng or engine.start(log=log)
    t0 = time.monotonic()  # after the lock: the time another run held the engine is not the lab's
    try:
        if builder:
            engine.use_builder(eng, builder)
        log(f"lab: engine Docker {eng.version()}, {len(fxs)} fixtures"
            + (f", building on buildx builder {builder}" if builder else ""))
        tb = time.monotonic()
        for r in (bases.PYTHON_SLIM, bases.PYTHON_FULL):
            bases.ensure(eng, r, log)
        bases_s = time.monotonic() - tb
        results: list[measure.VariantResult] = []
        logs = out_dir
        with tempfile.TemporaryDirectory(prefix="dockfix-lab-") as tmp:
            for fx in fxs:
                rs = measure.run_fixture(eng, fx, Path(tmp), logs, variants, rebuilds, log, repeat)
                for r in rs:
                    log(f"lab: {r.fixture} [{r.variant}] {r.status} {r.reason[:200]}")
                results.extend(rs)
        cleanup(eng)
        meta = {
            "engine": eng.version(), "fixtures": len(fxs), "variants": list(variants),
            "total_s": time.monotonic() - t0, "bases_s": bases_s,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.machine()}, {_cores()} cores",
            "dockfix": "installed" if measure.dockfix_command() else "not installed",
            "builder": builder or "the engine's own BuildKit", "load": _load(), "repeat": repeat,
        }
        rows = report.summarize(results)
        js, md = report.write(rows, results, meta, out_dir)
        log(f"lab: wrote {js} and {md}")
        return rows, meta
    finally:
        if own:
            eng.stop()


def cleanup(eng: engine.Engine) -> None:
    """Remove the fixture images; base images stay as the cache."""
    ids = eng.docker("images", "-q", "dockfix-lab/*", check=False).stdout.split()
    refs = eng.docker("images", "--format", "{{.Repository}}:{{.Tag}}", "dockfix-lab/*",
                      check=False).stdout.split()
    if refs:
        eng.docker("image", "rm", "-f", *refs, check=False)
    del ids
    eng.docker("image", "prune", "-f", check=False)  # images replaced by rebuilds
    measure.prune_build_cache(eng)
    bases.prune_stale(eng)


def _load() -> str:
    """The load average over 1, 5 and 15 minutes at the end of the run (timings are noisy
    when other work shares the cores)."""
    import os
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _cores() -> int:
    import os
    return os.cpu_count() or 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m lab", description=__doc__)
    p.add_argument("fixtures", nargs="*", type=Path, help="fixture folders (default: lab/fixtures/*)")
    p.add_argument("--variants", default=",".join(measure.VARIANTS),
                   help="comma-separated subset of original,dockfix,expert")
    p.add_argument("--no-rebuilds", action="store_true", help="skip the two timed rebuilds")
    p.add_argument("--out", type=Path, default=RESULTS, help="where latest.json/latest.md go")
    p.add_argument("--smoke", metavar="SPEC",
                   help="the smoke test, for an app folder without smoke.toml (or overriding it): "
                        "'http GET :8000/health -> ok' or 'run ARGS -> TEXT'")
    p.add_argument("--touch", metavar="FILE", help="the file a code-only change appends a comment to "
                   "(without it and without smoke.toml, no code-change rebuild)")
    p.add_argument("--add-dependency", metavar="REQ", help="the dependency change: add REQ with the project's "
                   "own tool (uv add / poetry add --lock, re-locking; or a requirements.txt line)")
    p.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, metavar="N",
                   help="time every build N times, each from the same starting state (an empty build cache "
                        f"and the pristine context); the table gives the minimum and the spread (default {DEFAULT_REPEAT})")
    p.add_argument("--builder", metavar="NAME", help="build on this buildx builder (docker buildx build "
                   "--builder NAME --load), e.g. a remote or Kubernetes BuildKit; default: the lab's engine")
    p.add_argument("--steps", action="store_true",
                   help="after the builds, print each build step's time per variant and repetition "
                        "(from the build logs; also written to OUT/steps.md)")
    a = p.parse_args(argv)
    variants = tuple(v for v in a.variants.split(",") if v)
    if a.repeat < 1:
        p.error("--repeat must be at least 1")
    bad = set(variants) - set(measure.VARIANTS)
    if bad:
        p.error(f"unknown variants: {', '.join(sorted(bad))}")
    try:
        if a.smoke or a.touch or a.add_dependency:
            if not a.fixtures:
                p.error("--smoke, --touch and --add-dependency need an app folder")
            fxs = [fixtures.load(f, a.smoke, a.touch, a.add_dependency) for f in a.fixtures]
        else:
            fxs = fixtures.discover(a.fixtures or None)
        rows, meta = run(variants=variants, rebuilds=not a.no_rebuilds, out_dir=a.out, fxs=fxs,
                         builder=a.builder, repeat=a.repeat)
    except fixtures.FixtureError as e:
        print(f"lab: {e}", file=sys.stderr)
        return 2
    except engine.BuilderUnavailable as e:
        print(f"lab: {e}", file=sys.stderr)
        return 2
    except engine.EngineUnavailable as e:
        print(f"lab: no Docker engine: {e}", file=sys.stderr)
        return 2
    print((a.out / "latest.md").read_text())
    if a.steps:
        text = steps.report(a.out, [fx.name for fx in fxs], variants)
        (a.out / "steps.md").write_text(text)
        print(text)
    bad_rows = [r for r in rows if r["status"] not in ("ok", "not run")]
    return 1 if bad_rows else 0


if __name__ == "__main__":
    sys.exit(main())
