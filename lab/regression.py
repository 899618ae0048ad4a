"""`uv run python -m lab.regression [FIXTURE_DIR...]`: prove that an older
dockfix broke each regression fixture, the way its smoke.toml records.

The lab proper shows today's rewrite of a fixture builds and passes its smoke
test. A fixture with a ``[regression]`` table (see ``lab/fixtures.py``) also
names a dockfix revision whose rewrite did not: this command takes that
revision's ``src/`` from git (``git archive``), runs it on a copy of the
fixture exactly as the lab runs today's (``--write --unsafe-fixes``), builds
the output cold on the lab's engine and runs the smoke test. The fixture
passes here when that old output fails at the recorded stage (``build`` or
``smoke``) with the recorded line in the build log or the smoke output; for
stage ``size`` (a rewrite that only made the image larger) the original is
built too, and the old output's image must be larger than the original's.

Writes ``regression.json`` and ``regression.md`` and, per fixture,
``<fixture>.old-dockfix.Dockerfile`` (what the old revision wrote) and
``<fixture>.old-dockfix.cold.log`` (the build log, not committed) to
``--out`` (default ``lab/results/``). Exit code: 0 when every fixture failed as
recorded, 1 otherwise, 2 when it could not run (no engine, a broken fixture).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from . import bases, engine, fixtures, measure

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "lab" / "results"
OLD_SOURCES = Path(tempfile.gettempdir()) / "dockfix-lab-old"


class SourceUnavailable(RuntimeError):
    """The revision's source cannot be had here (a shallow clone, an unknown revision)."""


@dataclass
class RegressionResult:
    fixture: str
    revision: str
    commit: str = ""
    expected_stage: str = ""
    expected_failure: str = ""
    status: str = "not run"  # failed as recorded | failed otherwise | passed | unchanged | not run | error
    stage: str = ""  # where the old output failed: build | smoke | "" (it did not)
    line_found: bool = False
    evidence: str = ""  # the log or output lines around the recorded failure
    reason: str = ""
    dockfix_exit: int | None = None
    cold_s: float | None = None

    def to_json(self) -> dict:
        return asdict(self)


def old_source(revision: str, cache: Path = OLD_SOURCES) -> tuple[str, Path]:
    """(commit, folder holding the revision's ``dockfix`` package), extracted once per commit."""
    r = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
                       capture_output=True, text=True)
    commit = r.stdout.strip()
    if r.returncode != 0 or not commit:
        raise SourceUnavailable(f"git revision {revision} is not in this clone (a shallow clone?)")
    dest = cache / commit
    src = dest / "src"
    if (src / "dockfix" / "__main__.py").is_file():
        return commit, src
    tmp = Path(tempfile.mkdtemp(prefix=f"{commit[:12]}-", dir=_mkdir(cache)))
    with tempfile.TemporaryFile() as tar:
        r2 = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", commit, "src"],
                            stdout=tar, stderr=subprocess.PIPE)
        if r2.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise SourceUnavailable(f"git archive {commit} src failed: {r2.stderr.decode(errors='replace')}")
        tar.seek(0)
        with tarfile.open(fileobj=tar) as tf:
            if hasattr(tarfile, "data_filter"):  # 3.11.4+
                tf.extractall(tmp, filter="data")
            else:  # our own repository's archive
                tf.extractall(tmp)
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    return commit, src


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def run_old_dockfix(dockerfile: Path, src: Path, cwd: Path) -> tuple[int, str]:
    """Today's lab command (``--write --unsafe-fixes``) with the old package first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [env.get("PYTHONPATH")])])
    r = subprocess.run([sys.executable, "-m", "dockfix", "--write", "--unsafe-fixes", str(dockerfile)],
                       capture_output=True, text=True, timeout=300, cwd=cwd, env=env)
    return r.returncode, (r.stdout + r.stderr)[-4000:]


def evidence(text: str, needle: str, around: int = 1) -> str:
    """The lines around the first line holding ``needle`` ("" when none does)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if needle in line:
            return "\n".join(lines[max(0, i - around): i + around + 1])
    return ""


def judge(res: RegressionResult, reg: fixtures.Regression, stage: str, text: str) -> None:
    """Set status from where the old output failed and whether the recorded line is there."""
    res.expected_stage, res.expected_failure = reg.stage, reg.failure
    res.stage = stage
    res.evidence = evidence(text, reg.failure)
    res.line_found = bool(res.evidence)
    if not stage:
        res.status, res.reason = "passed", "the old rewrite built and passed the smoke test"
    elif stage == reg.stage and res.line_found:
        res.status = "failed as recorded"
    else:
        res.status = "failed otherwise"
        res.reason = (f"failed at {stage} (recorded: {reg.stage}); "
                      + ("the recorded line is there" if res.line_found else "the recorded line is not")
                      + f": {text.strip()[-600:]}")


def run_fixture(eng: engine.Engine, fx: fixtures.Fixture, work: Path, out: Path | None,
                log=print) -> RegressionResult:
    reg = fx.regression
    assert reg is not None
    res = RegressionResult(fixture=fx.name, revision=reg.dockfix, expected_stage=reg.stage,
                           expected_failure=reg.failure)
    try:
        res.commit, src = old_source(reg.dockfix)
    except SourceUnavailable as e:
        res.reason = str(e)
        return res
    ctx = work / f"{fx.name}-old-dockfix"
    if ctx.exists():
        shutil.rmtree(ctx)
    dockerfile = fx.copy_context(ctx, "original")
    before = dockerfile.read_bytes()
    res.dockfix_exit, out_text = run_old_dockfix(dockerfile, src, work)
    if res.dockfix_exit not in (0, 1):
        res.status, res.reason = "error", f"dockfix {reg.dockfix} exited {res.dockfix_exit}: {out_text}"
        return res
    if out is not None:
        _mkdir(out)
        (out / f"{fx.name}.old-dockfix.Dockerfile").write_bytes(dockerfile.read_bytes())
    if dockerfile.read_bytes() == before:
        res.status, res.reason = "unchanged", f"dockfix {reg.dockfix} left the Dockerfile as it was"
        return res
    measure.drop_syntax_directive(dockerfile)
    missing = bases.ensure_for(eng, [dockerfile.read_text(errors="replace")], log)
    if missing:
        res.status, res.reason = "error", f"no local image for {', '.join(missing)}"
        return res
    tag = f"dockfix-lab/{fx.name}:old-dockfix"
    log(f"lab.regression: {fx.name} [dockfix {reg.dockfix}] cold build")
    ok, res.cold_s, build_log = measure.cold_build(
        eng, ctx, tag, out / f"{fx.name}.old-dockfix.cold.log" if out else None, fx.build_args)
    if not ok:
        judge(res, reg, "build", build_log)
        return res
    ok, smoke_out = measure.smoke_test(eng, tag, fx.smoke)
    if not ok or reg.stage != "size":
        judge(res, reg, "" if ok else "smoke", smoke_out)
        return res
    larger = size_check(eng, fx, work, tag, out, log)
    judge(res, reg, "size" if larger.startswith(LARGER) else "", larger)
    return res


LARGER = "image larger than the original"


def size_check(eng: engine.Engine, fx: fixtures.Fixture, work: Path, tag: str, out: Path | None, log) -> str:
    """Build the original and compare sizes with the old output's image (`tag`): a line saying
    which is larger, with both sizes (MB, uncompressed, as the lab reports them)."""
    ctx = work / f"{fx.name}-original-for-size"
    if ctx.exists():
        shutil.rmtree(ctx)
    dockerfile = fx.copy_context(ctx, "original")
    measure.drop_syntax_directive(dockerfile)
    original = f"dockfix-lab/{fx.name}:original-for-size"
    log(f"lab.regression: {fx.name} [original] cold build, for the size")
    ok, _, text = measure.cold_build(eng, ctx, original, out / f"{fx.name}.original-for-size.cold.log" if out else None,
                                     fx.build_args)
    if not ok:
        return f"the original did not build: {text.strip()[-300:]}"
    _, old_bytes = measure.image_config(eng, tag)
    _, original_bytes = measure.image_config(eng, original)
    eng.docker("image", "rm", "-f", original, check=False)
    sizes = f"{old_bytes / 1e6:.1f} MB (old dockfix) against {original_bytes / 1e6:.1f} MB (original)"
    return f"{LARGER}: {sizes}" if old_bytes > original_bytes else f"not larger: {sizes}"


def markdown(results: list[RegressionResult], meta: dict) -> str:
    lines = [
        "# dockfix build lab: rewrites an older dockfix got wrong", "",
        f"Engine: Docker {meta.get('engine', '?')}, {len(results)} fixtures, "
        f"{meta.get('total_s', 0):.0f} s. Date: {meta.get('date', '?')}.",
        "Each fixture's Dockerfile as rewritten by the dockfix revision its smoke.toml names "
        "(`--write --unsafe-fixes`), built cold and smoke-tested like the lab's own variants. "
        "Today's rewrite of the same fixtures is in latest.md.", "",
        "| fixture | old dockfix | status | failed at | the line that shows it |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        line = r.expected_failure if r.line_found else (r.reason[:120] or "–")
        status = r.status + (f" ({r.reason[:80]})" if r.status not in ("failed as recorded",) and r.reason
                             and not r.line_found else "")
        cell = line.replace("|", "\\|")
        lines.append(f"| {r.fixture} | {r.revision} | {status} | {r.stage or '–'} | `{cell}` |")
    lines += ["", "Old outputs: `<fixture>.old-dockfix.Dockerfile` beside this file.", ""]
    return "\n".join(lines)


def run(paths: list[Path] | None = None, out: Path = RESULTS, eng: engine.Engine | None = None,
        log=None) -> tuple[list[RegressionResult], dict]:
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    fxs = [fx for fx in fixtures.discover(paths) if fx.regression is not None]
    t0 = time.monotonic()
    own = eng is None
    eng = eng or engine.start(log=log)
    results: list[RegressionResult] = []
    try:
        with tempfile.TemporaryDirectory(prefix="dockfix-lab-regression-") as tmp:
            for fx in fxs:
                try:
                    res = run_fixture(eng, fx, Path(tmp), out, log)
                except Exception as e:  # one fixture never stops the batch
                    assert fx.regression is not None
                    res = RegressionResult(fixture=fx.name, revision=fx.regression.dockfix,
                                           status="error", reason=repr(e)[:2000])
                log(f"lab.regression: {res.fixture} {res.status} {res.reason[:200]}")
                results.append(res)
        refs = eng.docker("images", "--format", "{{.Repository}}:{{.Tag}}", "dockfix-lab/*",
                          check=False).stdout.split()
        old = [r for r in refs if r.endswith(":old-dockfix")]
        if old:
            eng.docker("image", "rm", "-f", *old, check=False)
        eng.docker("builder", "prune", "-af", check=False, timeout=600)
        meta = {"engine": eng.version(), "total_s": time.monotonic() - t0,
                "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    finally:
        if own:
            eng.stop()
    _mkdir(out)
    (out / "regression.json").write_text(
        json.dumps({"meta": meta, "results": [r.to_json() for r in results]}, indent=2) + "\n")
    (out / "regression.md").write_text(markdown(results, meta))
    return results, meta


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m lab.regression", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("fixtures", nargs="*", type=Path, help="fixture folders (default: lab/fixtures/*)")
    p.add_argument("--out", type=Path, default=RESULTS, help="where regression.json/regression.md go")
    a = p.parse_args(argv)
    try:
        results, _ = run(a.fixtures or None, a.out)
    except fixtures.FixtureError as e:
        print(f"lab.regression: {e}", file=sys.stderr)
        return 2
    except engine.EngineUnavailable as e:
        print(f"lab.regression: no Docker engine: {e}", file=sys.stderr)
        return 2
    print((a.out / "regression.md").read_text())
    return 0 if results and all(r.status == "failed as recorded" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
