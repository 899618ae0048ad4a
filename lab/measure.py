"""Build one fixture variant, smoke-test it, and time its rebuilds.

Variants: ``original`` (the naive Dockerfile), ``dockfix`` (the same after
``dockfix --write --unsafe-fixes``: every rewrite, the multi-stage split included) and ``expert`` (expert.Dockerfile).  A cold build starts
from an empty build cache (``docker builder prune -af``; base images stay),
then the lab times a rebuild after a code-only change and one after a
dependency change, in that order, in the same context.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import bases
from .engine import Engine
from .fixtures import Fixture, Smoke

VARIANTS = ("original", "dockfix", "expert")
CONFIG_KEYS = ("Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Env", "Labels",
               "Volumes", "Healthcheck", "StopSignal", "Shell")
SYNTAX_LINE = re.compile(rb"^\s*#\s*syntax\s*=.*(\r?\n|$)", re.IGNORECASE)
DIRECTIVE_LINE = re.compile(rb"^\s*#\s*[a-zA-Z]+\s*=.*(\r?\n|$)")


@dataclass
class VariantResult:
    fixture: str
    variant: str
    status: str = "not run"  # ok | build failed | smoke failed | not run | error
    reason: str = ""
    dockfix_exit: int | None = None
    changed: bool | None = None  # dockfix variant: dockfix changed the Dockerfile
    dropped_syntax: bool = False
    size_bytes: int | None = None
    cold_s: float | None = None
    code_rebuild_s: float | None = None
    code_reruns: list[str] | None = None  # RUN steps a code-only change re-ran (not CACHED)
    dep_rebuild_s: float | None = None
    dep_reruns: list[str] | None = None  # RUN steps the dependency change re-ran (not CACHED)
    # Every timed sample (one per repetition, --repeat): the *_s figures above are their minimum.
    cold_samples: list[float] = field(default_factory=list)
    code_samples: list[float] = field(default_factory=list)
    dep_samples: list[float] = field(default_factory=list)
    load: str = ""  # the 1-minute load average when the fixture started and when it ended
    repeat_failure: str = ""  # a build of a later repetition that failed (its samples are left out)
    smoke_output: str = ""
    smoke_after_changes: str = ""  # "ok", "failed: ...", "" when not run
    config: dict = field(default_factory=dict)
    config_diff: list[str] = field(default_factory=list)
    uv_in_final_stage: bool = False  # the Dockerfile's last stage runs uv itself (it is its own builder)
    log: str = ""

    def to_json(self) -> dict:
        return asdict(self)

    def settle(self) -> "VariantResult":
        """Set the *_s figures to the minimum of their samples (the least disturbed build)."""
        self.cold_s = min(self.cold_samples, default=None)
        self.code_rebuild_s = min(self.code_samples, default=None)
        self.dep_rebuild_s = min(self.dep_samples, default=None)
        return self


def drop_syntax_directive(dockerfile: Path) -> bool:
    """Remove a ``# syntax=`` parser directive (BuildKit would pull the frontend
    image, and there is no registry here); the built-in frontend builds instead."""
    data = dockerfile.read_bytes()
    head, pos, dropped = b"", 0, False
    bom = data.startswith(b"\xef\xbb\xbf")
    if bom:
        pos = 3
    out = bytearray(data[:pos])
    while True:
        m = DIRECTIVE_LINE.match(data, pos)
        if not m:
            break
        line = data[pos:m.end()]
        if SYNTAX_LINE.match(line):
            dropped = True
        else:
            out += line
        pos = m.end()
    del head
    if dropped:
        dockerfile.write_bytes(bytes(out) + data[pos:])
    return dropped


def dockfix_command() -> list[str] | None:
    """How to run the dockfix CLI, or None if it is not installed."""
    exe = shutil.which("dockfix", path=str(Path(sys.executable).parent))
    if exe:
        return [exe]
    try:
        import dockfix.cli  # noqa: F401
    except Exception:
        return None
    return [sys.executable, "-m", "dockfix"]


def run_dockfix(dockerfile: Path) -> tuple[int | None, str]:
    cmd = dockfix_command()
    if cmd is None:
        return None, "dockfix CLI is not installed in this environment"
    r = subprocess.run([*cmd, "--write", "--unsafe-fixes", str(dockerfile)], capture_output=True, text=True,
                       timeout=300, cwd=dockerfile.parent)
    return r.returncode, (r.stdout + r.stderr)[-4000:]


_STEP = re.compile(r"^#(\d+) \[[^\]]*\] (RUN .*)$", re.MULTILINE)
_CACHED = re.compile(r"^#(\d+) CACHED$", re.MULTILINE)


def rerun_steps(log: str) -> list[str]:
    """The RUN steps a build executed rather than took from the cache, from a
    `--progress=plain` log: the mechanism behind a slow or fast rebuild, and
    unlike wall-clock seconds it does not depend on how fast the network is."""
    cached = set(_CACHED.findall(log))
    seen: dict[str, str] = {}
    for step, command in _STEP.findall(log):
        seen.setdefault(step, command)
    return [command[:100] for step, command in seen.items() if step not in cached]


def build(engine: Engine, ctx: Path, tag: str, log_path: Path | None,
          build_args: tuple[tuple[str, str], ...] = ()) -> tuple[bool, float, str]:
    """Build on the engine's own BuildKit, or on the buildx builder `engine.builder` names
    (`--load` brings the image back to the engine for the smoke test, size and config);
    `build_args` are the fixture's [build] args."""
    on = ("buildx", "build", "--builder", engine.builder, "--load") if engine.builder else ("build",)
    args = [f"--build-arg={k}={v}" for k, v in build_args]
    t0 = time.monotonic()
    r = engine.docker(*on, "--progress=plain", *args, "-t", tag, "-f", str(ctx / "Dockerfile"),
                      str(ctx), check=False, timeout=1800)
    elapsed = time.monotonic() - t0
    text = r.stdout + r.stderr
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(text)
    return r.returncode == 0, elapsed, text


def cold_build(engine: Engine, ctx: Path, tag: str, log_path: Path | None,
               build_args: tuple[tuple[str, str], ...] = ()):
    engine.docker("image", "rm", "-f", tag, check=False)
    prune_build_cache(engine)
    return build(engine, ctx, tag, log_path, build_args)


def prune_build_cache(engine: Engine) -> None:
    if engine.builder:
        engine.docker("buildx", "prune", "--builder", engine.builder, "-af", check=False, timeout=600)
    else:
        engine.docker("builder", "prune", "-af", check=False, timeout=600)


def smoke_test(engine: Engine, tag: str, smoke: Smoke) -> tuple[bool, str]:
    if smoke.command is not None:
        try:
            r = engine.docker("run", "--rm", tag, *smoke.command, check=False, timeout=smoke.timeout)
        except subprocess.TimeoutExpired:
            return False, f"command did not finish within {smoke.timeout:.0f}s"
        out = (r.stdout + r.stderr).strip()
        if r.returncode != 0:
            return False, f"exit {r.returncode}: {out[-1500:]}"
        return (smoke.expect in out), out[-1500:]
    return _smoke_http(engine, tag, smoke)


def _smoke_http(engine: Engine, tag: str, smoke: Smoke) -> tuple[bool, str]:
    r = engine.docker("run", "-d", "-p", f"127.0.0.1::{smoke.http_port}", tag, check=False)
    if r.returncode != 0:
        return False, f"docker run failed: {r.stderr.strip()}"
    cid = r.stdout.strip()
    try:
        published = engine.docker("port", cid, str(smoke.http_port), check=False)
        if published.returncode != 0:  # the container exited at once (a missing shared library): say why
            logs = engine.docker("logs", cid, check=False)
            return False, f"the container stopped before it answered; container log:\n{(logs.stdout + logs.stderr)[-1500:]}"
        port = published.stdout.split("\n")[0].rsplit(":", 1)[1]
        url = f"http://127.0.0.1:{port}{smoke.http_path}"
        deadline = time.monotonic() + smoke.timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    body = resp.read().decode(errors="replace")
                ok = smoke.expect in body
                return ok, f"GET {smoke.http_path} -> {resp.status}: {body[:500]}"
            except (urllib.error.URLError, ConnectionError, OSError) as e:
                last = str(e)
            state = engine.docker("inspect", "-f", "{{.State.Running}}", cid, check=False).stdout.strip()
            if state == "false":
                break
            time.sleep(0.5)
        logs = engine.docker("logs", cid, check=False)
        return False, f"no answer from {url} ({last}); container log:\n{(logs.stdout + logs.stderr)[-1500:]}"
    finally:
        engine.docker("rm", "-f", "-v", cid, check=False)


def image_config(engine: Engine, tag: str) -> tuple[dict, int]:
    data = json.loads(engine.docker("image", "inspect", tag).stdout)[0]
    cfg = data.get("Config") or {}
    return {k: cfg.get(k) for k in CONFIG_KEYS}, int(data.get("Size", 0))


def _norm(v):
    return None if v in (None, {}, [], "") else v


def _venv_dir(entry: str) -> bool:
    return entry.rstrip("/").endswith(("/.venv/bin", "/venv/bin")) or "venv" in entry.split("/")


def final_stage_runs_uv(text: str) -> bool:
    """Whether a RUN of the Dockerfile's last stage calls uv (read with dockfix's own parser and
    recogniser). Only there may uv's build settings (UV_LINK_MODE, UV_COMPILE_BYTECODE) end up in
    the image: a split's builder keeps them (issue 13, item 4)."""
    from dockfix.model import called
    from dockfix.syntax import ParseError, parse
    from dockfix.views import stages

    try:
        tree = parse(text)
    except ParseError:  # (the build then fails and says why)
        return False
    found = stages(tree)
    return bool(found) and any(c.invocation.manager == "uv" for instr in found[-1].instructions
                               if instr.name == "RUN" for c in called(tree, instr))


def compare_config(original: dict, candidate: dict, uv_in_final_stage: bool = False) -> list[str]:
    """Differences that change behaviour. The candidate may add VIRTUAL_ENV and put a
    virtualenv's bin folder on PATH; it may add UV_* variables only when its final stage runs uv
    itself (`uv_in_final_stage`): a split's runtime gets none of the builder's."""
    diffs = []
    for key in CONFIG_KEYS:
        if key == "Env":
            continue
        a, b = _norm(original.get(key)), _norm(candidate.get(key))
        if a != b:
            diffs.append(f"{key}: {a!r} -> {b!r}")
    env_a = dict(e.split("=", 1) for e in original.get("Env") or [])
    env_b = dict(e.split("=", 1) for e in candidate.get("Env") or [])
    for k in sorted(env_a.keys() | env_b.keys()):
        va, vb = env_a.get(k), env_b.get(k)
        if va == vb:
            continue
        if va is None and (k == "VIRTUAL_ENV" or k.startswith("UV_") and uv_in_final_stage):
            continue
        if k == "PATH" and va is not None and vb is not None:
            pa = [p for p in va.split(":") if not _venv_dir(p)]
            pb = [p for p in vb.split(":") if not _venv_dir(p)]
            if pa == pb:
                continue
        diffs.append(f"Env {k}: {va!r} -> {vb!r}")
    return diffs


@dataclass
class Prepared:
    """A variant ready to build: its pristine context (dockfix already run on it), kept so every
    repetition starts from the same files."""

    res: VariantResult
    pristine: Path
    ctx: Path


def prepare_variant(engine: Engine, fx: Fixture, variant: str, work: Path, logs: Path | None,
                    log=print) -> Prepared | VariantResult:
    """Copy the variant's context and run dockfix on it once; a VariantResult when it cannot be
    built (not run, dockfix failed, no local base image)."""
    res = VariantResult(fixture=fx.name, variant=variant)
    if variant == "expert" and not fx.has_expert:
        res.reason = "no expert.Dockerfile"
        return res
    pristine = work / f"{fx.name}-{variant}-pristine"
    if pristine.exists():
        shutil.rmtree(pristine)
    dockerfile = fx.copy_context(pristine, variant)
    if variant == "dockfix":
        code, out = run_dockfix(dockerfile)
        res.dockfix_exit = code
        if code is None:
            res.reason = out
            return res
        if code not in (0, 1):
            res.status, res.reason = "error", f"dockfix --write exited {code}: {out}"
            return res
        if logs:
            logs.mkdir(parents=True, exist_ok=True)
            (logs / f"{fx.name}.dockfix.Dockerfile").write_bytes(dockerfile.read_bytes())
        res.changed = dockerfile.read_bytes() != fx.dockerfile.read_bytes()
    res.dropped_syntax = drop_syntax_directive(dockerfile)
    res.uv_in_final_stage = final_stage_runs_uv(dockerfile.read_text(errors="replace"))
    missing = bases.ensure_for(engine, [dockerfile.read_text(errors="replace")], log)
    if missing:
        res.status, res.reason = "error", f"no local image for {', '.join(missing)}"
        return res
    return Prepared(res, pristine, work / f"{fx.name}-{variant}")


def run_cycle(engine: Engine, fx: Fixture, p: Prepared, rep: int, logs: Path | None, rebuilds: bool = True,
              log=print, dependency: Path | None = None) -> bool:
    """One repetition of a variant's timed builds, from the pristine context and an empty build
    cache: the cold build, then the code-change and the dependency-change rebuilds. The first
    repetition also smoke-tests the image (after the cold build and after both changes), reads
    its size and config and which RUNs the code change re-ran. False when a build or smoke test
    failed (res says which)."""
    res, variant = p.res, p.res.variant
    if p.ctx.exists():
        shutil.rmtree(p.ctx)
    shutil.copytree(p.pristine, p.ctx, symlinks=True)
    tag = f"dockfix-lab/{fx.name}:{variant}"
    suffix = "" if rep == 0 else f".r{rep + 1}"
    logp = (lambda step: logs / f"{fx.name}.{variant}.{step}{suffix}.log") if logs else (lambda step: None)
    again = f" (repetition {rep + 1})" if rep else ""
    log(f"lab: {fx.name} [{variant}] cold build{again}")
    ok, secs, tail = cold_build(engine, p.ctx, tag, logp("cold"), fx.build_args)
    if not ok:
        res.status, res.reason, res.log = "build failed", f"cold build failed{again}", tail[-3000:]
        return False
    res.cold_samples.append(secs)
    if rep == 0:
        res.config, res.size_bytes = image_config(engine, tag)
        ok, res.smoke_output = smoke_test(engine, tag, fx.smoke)
        if not ok:
            res.status, res.reason = "smoke failed", f"expected {fx.smoke.expect!r}"
            return False
        res.status = "ok"
    if not rebuilds:
        return True

    def rebuild(what: str, failed: str, step: str) -> tuple[bool, float, str]:
        log(f"lab: {fx.name} [{variant}] rebuild after a {what}{again}")
        ok, secs, tail = build(engine, p.ctx, tag, logp(step), fx.build_args)
        if not ok:
            res.smoke_after_changes = f"failed: rebuild after {failed} failed{again}"
            res.log = tail[-3000:]
        return ok, secs, tail

    if fx.apply_code_change(p.ctx, 1):
        ok, secs, tail = rebuild("code-only change", "code change", "code")
        if not ok:
            return False
        res.code_samples.append(secs)
        if rep == 0:
            res.code_reruns = rerun_steps(tail)
    if fx.apply_dependency_change(p.ctx, dependency):
        ok, secs, tail = rebuild("dependency change", "dependency change", "dep")
        if not ok:
            return False
        res.dep_samples.append(secs)
        if rep == 0:
            res.dep_reruns = rerun_steps(tail)
    if rep == 0:
        ok, out = smoke_test(engine, tag, fx.smoke)
        res.smoke_after_changes = "ok" if ok else f"failed: {out[-300:]}"
    return True


def run_fixture(engine: Engine, fx: Fixture, work: Path, logs: Path | None,
                variants=VARIANTS, rebuilds: bool = True, log=print, repeat: int = 1) -> list[VariantResult]:
    """Every variant of a fixture, `repeat` times: each repetition runs the variants one after
    the other (so a burst of load on the shared machine falls on all of them, not on one), starting
    with the next variant each time (so no variant always follows the same one), and
    each variant's repetition starts from the same state (its pristine context, an empty build
    cache). Times are the minimum over the repetitions; the samples are kept."""
    load_before = _load1()
    try:
        dependency = fx.prepare_dependency_change(work) if rebuilds else None
    except Exception as e:  # the project's tool could not re-lock: every variant says so
        return [VariantResult(fixture=fx.name, variant=v, status="error",
                              reason=f"dependency change: {e}"[:2000]) for v in variants]
    out: list[VariantResult] = []
    ready: list[Prepared] = []
    for v in variants:
        try:
            p = prepare_variant(engine, fx, v, work, logs, log)
        except Exception as e:  # one bad variant never stops the batch
            p = VariantResult(fixture=fx.name, variant=v, status="error", reason=repr(e)[:2000])
        if isinstance(p, Prepared):
            ready.append(p)
            out.append(p.res)
        else:
            out.append(p)
    stopped: set[int] = set()
    for rep in range(max(1, repeat)):
        # Each repetition starts with the next variant: no variant always follows the same one
        # (a cold build first prunes the previous variant's cache, whose size differs).
        turn = rep % len(ready) if ready else 0
        for p in ready[turn:] + ready[:turn]:
            res = p.res
            if rep and (res.status != "ok" or id(p) in stopped):
                continue
            # The first repetition decides the status (it smoke-tests the image); a later one only
            # adds samples, and when one of its builds fails (the network, a timeout) the failure
            # is recorded beside the status and that variant's repetitions stop.
            kept = (res.status, res.reason, res.smoke_after_changes, res.log)
            try:
                done = run_cycle(engine, fx, p, rep, logs, rebuilds, log, dependency)
            except Exception as e:  # one bad variant never stops the batch
                res.status, res.reason, done = "error", repr(e)[:2000], False
            if rep and not done:
                res.repeat_failure = f"repetition {rep + 1}: {res.reason or res.smoke_after_changes}"[:500]
                res.status, res.reason, res.smoke_after_changes, res.log = kept
                stopped.add(id(p))
    load = f"{load_before}–{_load1()}"
    for r in out:
        r.settle()
        r.load = load
    by = {r.variant: r for r in out}
    orig = by.get("original")
    for r in out:
        if r.variant != "original" and r.config and orig is not None and orig.config:
            r.config_diff = compare_config(orig.config, r.config, r.uv_in_final_stage)
    return out


def _load1() -> str:
    """The 1-minute load average now (the machine's cores are shared: times follow the load)."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"
